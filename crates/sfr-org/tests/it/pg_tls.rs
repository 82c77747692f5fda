//! TLS to PostgreSQL: the store connects to a real server started with `ssl = on` and a certificate made for the
//! run (`pg_harness::tls_server`: names `localhost`, signed by a test CA), as the URL asks. `verify-full` checks
//! chain and name, `require` the chain only; an untrusted certificate is refused in every mode.

use std::path::Path;
use std::sync::Arc;

use sfr_org::keys::Keys;
use sfr_org::store::{self, DatabaseUrl, Store, StoreError};

use crate::pg_harness::{PgServer, tls_server};

/// A fresh database on the TLS server, as `postgres://postgres@HOST:PORT/NAME?QUERY` with the CA file.
fn url(server: &PgServer, host: &str, query: &str, root: Option<&Path>) -> DatabaseUrl {
    let plain = server.create_database();
    let name = plain.rsplit('/').next().expect("a database name");
    let mut url = format!("postgres://postgres@{host}:{}/{name}?{query}", server.port);
    if let Some(root) = root {
        let encoded: String =
            url::form_urlencoded::byte_serialize(root.to_string_lossy().as_bytes()).collect();
        url.push_str(&format!("&sslrootcert={encoded}"));
    }
    DatabaseUrl::parse(&url).expect("a test URL")
}

fn open(url: &DatabaseUrl) -> Result<Arc<dyn Store>, StoreError> {
    store::open(url, Arc::new(Keys::ephemeral()))
}

/// Connections of sfr-org to `database`, by whether they use TLS, seen from the server.
fn sessions(server: &PgServer, database: &str) -> (i64, i64) {
    let mut admin =
        postgres::Client::connect(&server.admin_url(), postgres::NoTls).expect("admin connection");
    let row = admin
        .query_one(
            "SELECT COUNT(*) FILTER (WHERE s.ssl), COUNT(*) FILTER (WHERE NOT s.ssl)
             FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
             WHERE a.datname = $1 AND a.application_name = 'sfr-org'",
            &[&database],
        )
        .expect("pg_stat_ssl");
    (row.get(0), row.get(1))
}

fn database_name(url: &DatabaseUrl) -> String {
    match url {
        DatabaseUrl::Postgres(u) => u.database().to_owned(),
        DatabaseUrl::Sqlite(_) => unreachable!("a PostgreSQL URL"),
    }
}

fn refused(result: Result<Arc<dyn Store>, StoreError>) -> String {
    match result {
        Ok(_) => panic!("the store connected despite the certificate"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn verify_full_connects_over_tls_and_the_store_works() {
    let Some(server) = tls_server() else { return };
    let ca = server.tls_ca.clone().expect("the TLS server has a CA");
    let url = url(server, "localhost", "sslmode=verify-full", Some(&ca));
    let store = open(&url).expect("verify-full against the test CA");
    assert!(store.bootstrap(&crate::store::bootstrap_init()).unwrap());
    assert_eq!(store.org().unwrap().name, "Suite Org");
    let (tls, plain) = sessions(server, &database_name(&url));
    assert!(tls >= 1, "the pooled connection is encrypted");
    assert_eq!(plain, 0, "no connection without TLS");
}

#[test]
fn verify_full_refuses_a_certificate_for_another_name_and_require_does_not_check_it() {
    let Some(server) = tls_server() else { return };
    let ca = server.tls_ca.clone().expect("CA");
    // The certificate names localhost, not 127.0.0.1.
    let e = refused(open(&url(
        server,
        "127.0.0.1",
        "sslmode=verify-full",
        Some(&ca),
    )));
    assert!(
        e.contains("TLS handshake") && e.contains("not valid for name"),
        "the message says why: {e}"
    );
    let url = url(server, "127.0.0.1", "sslmode=require", Some(&ca));
    let store = open(&url).expect("require checks the chain, not the name");
    assert!(store.bootstrap(&crate::store::bootstrap_init()).unwrap());
    assert!(sessions(server, &database_name(&url)).0 >= 1);
}

#[test]
fn an_untrusted_certificate_is_refused_in_every_mode() {
    let Some(server) = tls_server() else { return };
    let dir = tempfile::tempdir().unwrap();
    let other_ca = dir.path().join("other-ca.crt");
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    std::fs::write(&other_ca, params.self_signed(&key).unwrap().pem()).unwrap();
    for mode in ["verify-full", "verify-ca", "require"] {
        let query = format!("sslmode={mode}");
        let e = refused(open(&url(server, "localhost", &query, Some(&other_ca))));
        assert!(
            e.contains("TLS handshake") && e.contains("UnknownIssuer"),
            "{mode}: {e}"
        );
        // No sslrootcert: the public roots, which did not sign the test CA either.
        let e = refused(open(&url(server, "localhost", &query, None)));
        assert!(
            e.contains("TLS handshake") && e.contains("UnknownIssuer"),
            "{mode}: {e}"
        );
    }
}

#[test]
fn a_plain_url_still_connects_without_tls() {
    let Some(server) = tls_server() else { return };
    let url = url(server, "127.0.0.1", "sslmode=disable", None);
    let store = open(&url).expect("plain TCP");
    assert!(store.bootstrap(&crate::store::bootstrap_init()).unwrap());
    let (tls, plain) = sessions(server, &database_name(&url));
    assert_eq!(tls, 0);
    assert!(plain >= 1);
}
