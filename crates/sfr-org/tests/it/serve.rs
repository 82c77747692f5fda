//! `RunningServer` in-process: TLS, `localhost` binding, the public URL and start-up errors.

use std::sync::Arc;

use sfr_org::server::{RunningServer, ServeConfig, ServeError, TlsFiles};
use sfr_org::store::DatabaseUrl;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

fn config(dir: &tempfile::TempDir) -> ServeConfig {
    ServeConfig::for_tests(DatabaseUrl::Sqlite(dir.path().join("org.sqlite")))
}

#[test]
fn tls_on_localhost_serves_https() {
    let dir = tempfile::tempdir().unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".into()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let cert_path = dir.path().join("server.crt");
    let key_path = dir.path().join("server.key");
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();

    let rt = runtime();
    let mut cfg = config(&dir);
    cfg.listen = "localhost:0".into();
    cfg.tls = Some(TlsFiles {
        cert: cert_path,
        key: key_path,
    });
    let server = rt.block_on(RunningServer::start(cfg)).expect("starts");
    let port = server.port();
    assert_ne!(port, 0);
    assert_eq!(server.base_url, format!("https://localhost:{port}"));
    assert!(
        server
            .local_addrs
            .iter()
            .any(|a| a.ip().is_loopback() && a.is_ipv4()),
        "{:?}",
        server.local_addrs
    );
    assert!(
        server.local_addrs.iter().all(|a| a.port() == port),
        "one port on every address"
    );
    assert!(server.bootstrapped.is_some(), "a new org");

    let roots = vec![ureq::tls::Certificate::from_der(cert.der()).to_owned()];
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .tls_config(
            ureq::tls::TlsConfig::builder()
                .provider(ureq::tls::TlsProvider::Rustls)
                .root_certs(ureq::tls::RootCerts::Specific(Arc::new(roots)))
                .unversioned_rustls_crypto_provider(Arc::new(
                    rustls::crypto::aws_lc_rs::default_provider(),
                ))
                .build(),
        )
        .build()
        .into();
    let resp = agent
        .get(&format!(
            "https://127.0.0.1:{port}/services/oauth2/authorize"
        ))
        .call();
    assert!(
        resp.is_err(),
        "the certificate names localhost, not 127.0.0.1"
    );
    let resp = agent
        .get(&format!("{}/services/oauth2/authorize", server.base_url))
        .call()
        .expect("https answers");
    assert!(resp.status().as_u16() < 500, "{}", resp.status());
    rt.block_on(server.shutdown());
}

#[test]
fn public_url_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut cfg = config(&dir);
    cfg.public_url = Some("https://org.example.test:9443/".into());
    let first = rt
        .block_on(RunningServer::start(cfg.clone()))
        .expect("starts");
    assert_eq!(first.base_url, "https://org.example.test:9443");
    assert_eq!(first.state.config.base_url, "https://org.example.test:9443");
    let org_id = first.state.config.org_id.clone();
    assert!(first.bootstrapped.is_some());
    rt.block_on(first.shutdown());

    cfg.public_url = None;
    let second = rt.block_on(RunningServer::start(cfg)).expect("restarts");
    assert!(
        second.bootstrapped.is_none(),
        "the org is created only once"
    );
    assert_eq!(second.state.config.org_id, org_id);
    assert_eq!(
        second.base_url,
        format!("http://127.0.0.1:{}", second.port())
    );
    rt.block_on(second.shutdown());
}

#[test]
fn start_up_errors_name_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();

    let mut cfg = config(&dir);
    cfg.listen = "no-port".into();
    let err = rt.block_on(RunningServer::start(cfg)).unwrap_err();
    assert!(matches!(err, ServeError::Listen(_)), "{err}");

    let mut cfg = config(&dir);
    cfg.public_url = Some("not a url".into());
    let err = rt.block_on(RunningServer::start(cfg)).unwrap_err();
    assert!(err.to_string().contains("--public-url"), "{err}");

    let mut cfg = config(&dir);
    cfg.tls = Some(TlsFiles {
        cert: dir.path().join("missing.crt"),
        key: dir.path().join("missing.key"),
    });
    let err = rt.block_on(RunningServer::start(cfg)).unwrap_err();
    assert!(err.to_string().contains("missing.crt"), "{err}");

    // A port in use.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut cfg = config(&dir);
    cfg.listen = taken.local_addr().unwrap().to_string();
    let err = rt.block_on(RunningServer::start(cfg)).unwrap_err();
    assert!(matches!(err, ServeError::Bind { .. }), "{err}");
}
