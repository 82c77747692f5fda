//! A real `sfr-org` in this process (port 0, SQLite in a temp dir, a clock the test moves), set up the way the
//! guide's admin commands set it up: connected apps allowed, users, JWT and web-flow apps.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sfr_org::clock::TestClock;
use sfr_org::model::{
    NewApp, NewUser, OrgSettingsUpdate, PermittedUsers, SYSTEM_ADMINISTRATOR, Scope,
};
use sfr_org::server::{RunningServer, ServeConfig, TlsFiles};
use sfr_org::store::{DatabaseUrl, Store};
use tempfile::TempDir;

pub const PASSWORD: &str = "S3cure-pass!word";

pub struct TestOrg {
    /// With TLS: the CA file that signed the org's certificate (for `NODE_EXTRA_CA_CERTS`).
    pub ca_file: Option<std::path::PathBuf>,
    runtime: tokio::runtime::Runtime,
    server: Option<RunningServer>,
    pub clock: Arc<TestClock>,
    _dir: TempDir,
}

impl TestOrg {
    /// Starts an org (plain HTTP) with connected-app creation allowed.
    pub fn start() -> Self {
        Self::start_with(false)
    }

    /// The same over https, with a certificate for 127.0.0.1 and localhost signed by a test CA.
    pub fn start_tls() -> Self {
        Self::start_with(true)
    }

    fn start_with(tls: bool) -> Self {
        let dir = TempDir::new().expect("tempdir");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime");
        let url = format!("sqlite://{}", dir.path().join("org.sqlite").display());
        let mut config = ServeConfig::for_tests(DatabaseUrl::parse(&url).expect("database url"));
        let clock = Arc::new(TestClock::starting_now());
        config.clock = clock.clone();
        let ca_file = tls.then(|| {
            let files = write_tls_files(dir.path());
            config.tls = Some(TlsFiles {
                cert: files.1.clone(),
                key: files.2.clone(),
            });
            files.0
        });
        let server = runtime
            .block_on(RunningServer::start(config))
            .expect("start sfr-org");
        let org = Self {
            ca_file,
            runtime,
            server: Some(server),
            clock,
            _dir: dir,
        };
        org.store()
            .update_org(&OrgSettingsUpdate {
                connected_apps_permission: Some(true),
                allow_connected_app_creation: Some(true),
                ..Default::default()
            })
            .expect("allow connected apps");
        org
    }

    fn server(&self) -> &RunningServer {
        self.server.as_ref().expect("running")
    }

    /// `http://127.0.0.1:<port>` (no trailing slash).
    pub fn url(&self) -> String {
        self.server().base_url.clone()
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.server().state.store
    }

    pub fn now(&self) -> i64 {
        use sfr_org::clock::Clock;
        self.clock.now_ms()
    }

    /// A System Administrator user with [`PASSWORD`].
    pub fn user(&self, username: &str) {
        self.store()
            .create_user(&NewUser {
                username: username.to_owned(),
                email: username.to_owned(),
                first_name: Some("Test".to_owned()),
                last_name: "User".to_owned(),
                password_hash: sfr_org::keys::hash_password(PASSWORD).expect("hash"),
                profile: SYSTEM_ADMINISTRATOR.to_owned(),
                permission_sets: Vec::new(),
                created_at: self.now(),
            })
            .expect("create user");
    }

    /// A JWT app with `cert_pem`; `pre_authorized` makes it admin-approved for System Administrators.
    /// Returns the consumer key.
    pub fn jwt_app(&self, name: &str, cert: &Path, pre_authorized: bool) -> String {
        let mut app = NewApp::new(
            name,
            "admin@example.com",
            vec!["http://localhost:1717/OauthRedirect".to_owned()],
            vec![Scope::Api, Scope::Web, Scope::RefreshToken],
            self.now(),
        );
        app.certificate_pem = Some(std::fs::read_to_string(cert).expect("read certificate"));
        if pre_authorized {
            app.permitted_users = PermittedUsers::AdminApproved;
            app.profiles = vec![SYSTEM_ADMINISTRATOR.to_owned()];
        }
        let (app, _secret) = self.store().create_app(&app).expect("create app");
        app.consumer_key
    }

    /// A web-flow app whose callback is `http://localhost:<port>/OauthRedirect`; returns (consumer key, secret).
    pub fn web_app(
        &self,
        name: &str,
        port: u16,
        session_timeout_minutes: Option<u32>,
    ) -> (String, String) {
        let mut app = NewApp::new(
            name,
            "admin@example.com",
            vec![format!("http://localhost:{port}/OauthRedirect")],
            vec![Scope::Api, Scope::Web, Scope::RefreshToken],
            self.now(),
        );
        app.session_timeout_minutes = session_timeout_minutes;
        let (app, secret) = self.store().create_app(&app).expect("create app");
        (app.consumer_key, secret)
    }

    /// Moves the org's clock (access tokens die after the session timeout).
    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }
}

impl Drop for TestOrg {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            self.runtime.block_on(server.shutdown());
        }
    }
}

/// (CA certificate, server certificate, server key) PEM files: a test CA and a leaf for 127.0.0.1 and localhost.
fn write_tls_files(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let ca_key = rcgen::KeyPair::generate().expect("CA key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "sfr test CA");
    ca_params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params.self_signed(&ca_key).expect("CA cert");
    let issuer = rcgen::Issuer::from_params(&ca_params, &ca_key);
    let leaf_key = rcgen::KeyPair::generate().expect("leaf key");
    let leaf_params =
        rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .expect("leaf params");
    let leaf = leaf_params
        .signed_by(&leaf_key, &issuer)
        .expect("leaf cert");
    let paths = (
        dir.join("ca.pem"),
        dir.join("server.pem"),
        dir.join("server.key"),
    );
    std::fs::write(&paths.0, ca_cert.pem()).expect("write CA");
    std::fs::write(&paths.1, leaf.pem()).expect("write cert");
    std::fs::write(&paths.2, leaf_key.serialize_pem()).expect("write key");
    paths
}
