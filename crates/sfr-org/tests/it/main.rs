//! Integration tests of sfr-org: the real server in-process on 127.0.0.1:0 over a real SQLite file, driven over
//! real HTTP with ureq. `TestOrg` states only what a test needs:
//!
//! ```text
//! let org = TestOrg::new().with_user(TestUser::standard("u@example.com")).with_app(TestApp::web("Demo"));
//! ```

mod authorize;
mod client_credentials;
mod crash;
mod endpoints;
mod hostile;
mod jwt;
mod malformed;
mod refresh;
mod rest;
mod setup;
mod token_code;
// STORAGE helper's suites:
mod admin;
mod serve;
mod store;
// POSTGRES helper's suites:
mod key_rotation;
mod multinode;
mod pg;
mod pg_harness;
// BENCHMARK helper's suite:
mod query_count;
// RATE-LIMIT helper's suites:
mod pg_tls;
mod rate_counters;
mod rate_limits;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use sfr_org::clock::TestClock;
use sfr_org::model::{
    ConnectedApp, NewApp, NewUser, OrgSettingsUpdate, PermittedUsers, RefreshPolicy, Scope, User,
};
use sfr_org::server::{RunningServer, ServeConfig};
use sfr_org::state::AppState;
use sfr_org::store::{DatabaseUrl, Store};
use sfr_wire::pkce;

/// The password every test user gets unless a test says otherwise.
pub const PASSWORD: &str = "Correct-horse-9";
/// Callback of the test apps.
pub const CALLBACK: &str = "http://localhost:1717/OauthRedirect";

/// A user to create.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub username: String,
    pub profile: String,
    pub permission_sets: Vec<String>,
    pub active: bool,
}

impl TestUser {
    pub fn standard(username: &str) -> Self {
        Self {
            username: username.to_owned(),
            profile: "Standard User".to_owned(),
            permission_sets: Vec::new(),
            active: true,
        }
    }

    pub fn admin(username: &str) -> Self {
        Self {
            profile: "System Administrator".to_owned(),
            ..Self::standard(username)
        }
    }

    pub fn with_permission_set(mut self, name: &str) -> Self {
        self.permission_sets.push(name.to_owned());
        self
    }

    pub fn inactive(mut self) -> Self {
        self.active = false;
        self
    }
}

/// An app to create: defaults are Salesforce's (secret required for the web flow, self-authorize).
#[derive(Debug, Clone)]
pub struct TestApp(pub NewApp);

impl TestApp {
    pub fn web(name: &str) -> Self {
        Self(NewApp::new(
            name,
            "owner@example.com",
            vec![CALLBACK.to_owned()],
            vec![Scope::Api, Scope::Web, Scope::RefreshToken, Scope::OpenId],
            0,
        ))
    }

    pub fn scopes(mut self, scopes: &str) -> Self {
        self.0.scopes = Scope::parse_list(scopes).expect("test scopes");
        self
    }

    pub fn public_client(mut self) -> Self {
        self.0.require_secret_web = false;
        self
    }

    pub fn require_pkce(mut self) -> Self {
        self.0.require_pkce = true;
        self
    }

    pub fn introspect_all_tokens(mut self) -> Self {
        self.0.introspect_all_tokens = true;
        self
    }

    pub fn require_secret_refresh(mut self) -> Self {
        self.0.require_secret_refresh = true;
        self
    }

    pub fn refresh_policy(mut self, policy: &str) -> Self {
        self.0.refresh_policy = RefreshPolicy::parse(policy).expect("test policy");
        self
    }

    pub fn session_timeout(mut self, minutes: u32) -> Self {
        self.0.session_timeout_minutes = Some(minutes);
        self
    }

    pub fn admin_approved(mut self, profiles: &[&str], permission_sets: &[&str]) -> Self {
        self.0.permitted_users = PermittedUsers::AdminApproved;
        self.0.profiles = profiles.iter().map(|s| (*s).to_owned()).collect();
        self.0.permission_sets = permission_sets.iter().map(|s| (*s).to_owned()).collect();
        self
    }

    pub fn certificate(mut self, pem: &str) -> Self {
        self.0.certificate_pem = Some(pem.to_owned());
        self
    }

    pub fn run_as(mut self, username: &str) -> Self {
        self.0.client_credentials_username = Some(username.to_owned());
        self
    }
}

/// A created app with its credentials.
#[derive(Debug, Clone)]
pub struct AppCreds {
    pub app: ConnectedApp,
    pub key: String,
    pub secret: String,
}

/// A running org.
pub struct TestOrg {
    pub server: RunningServer,
    pub clock: Arc<TestClock>,
    pub base: String,
    database: DatabaseUrl,
    apps: BTreeMap<String, AppCreds>,
    agent: ureq::Agent,
    _dir: tempfile::TempDir,
    // Declared last: dropped after the server handle, stopping its tasks.
    _rt: tokio::runtime::Runtime,
}

impl Default for TestOrg {
    fn default() -> Self {
        Self::new()
    }
}

impl TestOrg {
    /// A fresh org on a temp SQLite file (or PostgreSQL database, with `SFR_TEST_BACKEND=postgres`), app
    /// creation allowed, clock under test control.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let (db, key_file) = pg_harness::test_database(dir.path());
        Self::on(dir, db, key_file)
    }

    /// A fresh org on a temp SQLite file whatever `SFR_TEST_BACKEND` says (for tests of the SQLite store itself).
    pub fn on_sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = DatabaseUrl::Sqlite(dir.path().join("org.sqlite"));
        Self::on(dir, db, None)
    }

    fn on(dir: tempfile::TempDir, db: DatabaseUrl, key_file: Option<std::path::PathBuf>) -> Self {
        let clock = Arc::new(TestClock::starting_now());
        let mut config = ServeConfig::for_tests(db.clone());
        config.key_file = key_file;
        config.clock = clock.clone();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let server = rt
            .block_on(RunningServer::start(config))
            .expect("server starts");
        server
            .state
            .store
            .update_org(&OrgSettingsUpdate {
                connected_apps_permission: Some(true),
                allow_connected_app_creation: Some(true),
                ..OrgSettingsUpdate::default()
            })
            .expect("org settings");
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .max_redirects(0)
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        Self {
            base: server.base_url.clone(),
            database: db,
            server,
            clock,
            apps: BTreeMap::new(),
            agent,
            _dir: dir,
            _rt: rt,
        }
    }

    pub fn state(&self) -> &AppState {
        &self.server.state
    }

    pub fn store(&self) -> &dyn Store {
        self.server.state.store.as_ref()
    }

    /// A second store on the server's database, with its own connections and caches: what an admin command in
    /// another process (or another node) writes through.
    pub fn another_store(&self) -> Arc<dyn Store> {
        sfr_org::store::open(&self.database, Arc::clone(&self.server.state.keys))
            .expect("second store")
    }

    pub fn with_user(self, user: TestUser) -> Self {
        let store = self.store();
        for ps in &user.permission_sets {
            if store.permission_set_by_name(ps).expect("lookup").is_none() {
                store
                    .create_permission_set(ps, ps, self.clock_now())
                    .expect("permission set");
            }
        }
        let created = store
            .create_user(&NewUser {
                username: user.username.clone(),
                email: user.username.clone(),
                first_name: Some("Test".to_owned()),
                last_name: "User".to_owned(),
                password_hash: sfr_org::keys::hash_password(PASSWORD).expect("hash"),
                profile: user.profile.clone(),
                permission_sets: user.permission_sets.clone(),
                created_at: self.clock_now(),
            })
            .expect("create user");
        if !user.active {
            store
                .set_user_active(&created.id, false, self.clock_now())
                .expect("deactivate");
        }
        self
    }

    pub fn with_app(mut self, app: TestApp) -> Self {
        let mut new = app.0;
        new.created_at = self.clock_now();
        let (created, secret) = self.store().create_app(&new).expect("create app");
        self.apps.insert(
            created.name.clone(),
            AppCreds {
                key: created.consumer_key.clone(),
                app: created,
                secret,
            },
        );
        self
    }

    pub fn app(&self, name: &str) -> AppCreds {
        if let Some(a) = self.apps.get(name) {
            return a.clone();
        }
        let app = self
            .store()
            .app_by_name(name)
            .expect("lookup")
            .unwrap_or_else(|| panic!("no app {name}"));
        let secret = self.store().app_secret(&app.id).expect("secret");
        AppCreds {
            key: app.consumer_key.clone(),
            app,
            secret,
        }
    }

    pub fn user(&self, username: &str) -> User {
        self.store()
            .user_by_username(username)
            .expect("lookup")
            .unwrap_or_else(|| panic!("no user {username}"))
    }

    pub fn clock_now(&self) -> i64 {
        use sfr_org::clock::Clock;
        self.clock.now_ms()
    }

    pub fn advance_minutes(&self, minutes: u64) {
        self.clock.advance(Duration::from_secs(minutes * 60));
    }

    /// The newest login-history events, newest first.
    pub fn events(&self) -> Vec<sfr_org::model::LoginEvent> {
        self.store().events(200).expect("events")
    }

    /// The reason of the newest event, for asserting what login history says.
    pub fn last_reason(&self) -> String {
        self.events()
            .first()
            .map(|e| e.reason.clone())
            .unwrap_or_default()
    }

    // ---- HTTP ----

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn get(&self, path: &str, headers: &[(&str, &str)]) -> Resp {
        let mut req = self.agent.get(&self.url(path));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        Resp::from(req.call())
    }

    pub fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: &[u8],
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut req = self.agent.post(&self.url(path)).content_type(content_type);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        Resp::from(req.send(body))
    }

    /// A POST whose body is streamed with `Transfer-Encoding: chunked` (as sf's undici does).
    pub fn post_chunked(&self, path: &str, content_type: &str, body: &[u8]) -> Resp {
        let mut reader = std::io::Cursor::new(body.to_vec());
        let req = self.agent.post(&self.url(path)).content_type(content_type);
        Resp::from(req.send(ureq::SendBody::from_reader(&mut reader)))
    }

    pub fn post_form(&self, path: &str, pairs: &[(&str, &str)], headers: &[(&str, &str)]) -> Resp {
        let body = sfr_wire::encoding::stringify(pairs.iter().copied());
        self.post_raw(
            path,
            "application/x-www-form-urlencoded",
            body.as_bytes(),
            headers,
        )
    }

    pub fn token(&self, pairs: &[(&str, &str)]) -> Resp {
        self.post_form("/services/oauth2/token", pairs, &[])
    }

    /// A cookie-keeping browser on this org.
    pub fn browser(&self) -> Browser<'_> {
        Browser {
            org: self,
            cookies: BTreeMap::new(),
        }
    }

    /// An authorization code for `username` on app `app_name` through the browser flow (login + approve when
    /// asked), with an sf-style 171-character PKCE verifier. Returns (code, verifier).
    pub fn code_for(&self, app_name: &str, username: &str) -> (String, String) {
        let app = self.app(app_name);
        let verifier = pkce::verifier_from_bytes(&[7u8; pkce::SF_VERIFIER_BYTES]);
        let challenge = pkce::challenge_s256(&verifier);
        let mut b = self.browser();
        let resp = b.authorize(&[
            ("response_type", "code"),
            ("client_id", &app.key),
            ("redirect_uri", CALLBACK),
            ("state", "st4te"),
            ("prompt", "login"),
            ("code_challenge", &challenge),
        ]);
        let resp = b.login(&resp, username, PASSWORD);
        let resp = if resp.status == 200 {
            b.submit(&resp, "approve")
        } else {
            resp
        };
        assert_eq!(
            resp.status, 302,
            "expected a redirect with a code: {}",
            resp.body
        );
        let q = resp.location_query();
        assert_eq!(q.get("state").map(String::as_str), Some("st4te"));
        (
            q.get("code").cloned().expect("code in the redirect"),
            verifier,
        )
    }

    /// A full code exchange for a public-client style request (secret sent), returning the token JSON.
    pub fn web_login(&self, app_name: &str, username: &str) -> serde_json::Value {
        let app = self.app(app_name);
        let (code, verifier) = self.code_for(app_name, username);
        let resp = self.token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", &app.key),
            ("client_secret", &app.secret),
            ("redirect_uri", CALLBACK),
            ("code_verifier", &verifier),
        ]);
        assert_eq!(resp.status, 200, "{}", resp.body);
        resp.json()
    }
}

/// A response, read fully.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl From<Result<ureq::http::Response<ureq::Body>, ureq::Error>> for Resp {
    fn from(r: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Self {
        let mut resp = r.expect("HTTP exchange");
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    v.to_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        let body = resp
            .body_mut()
            .with_config()
            .limit(10 * 1024 * 1024)
            .read_to_string()
            .unwrap_or_default();
        Self {
            status,
            headers,
            body,
        }
    }
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?} (status {})", self.body, self.status))
    }

    /// Asserts an OAuth error body exactly.
    pub fn assert_oauth_error(&self, status: u16, error: &str, description: &str) {
        assert_eq!(self.status, status, "status; body {}", self.body);
        assert_eq!(
            self.json(),
            serde_json::json!({"error": error, "error_description": description}),
            "body"
        );
        assert!(
            self.header("content-type")
                .unwrap_or_default()
                .starts_with("application/json"),
            "content type"
        );
    }

    /// The query parameters of the `Location` header.
    pub fn location_query(&self) -> BTreeMap<String, String> {
        let loc = self
            .header("location")
            .unwrap_or_else(|| panic!("no Location: {self:?}"));
        let query = loc.split_once('?').map(|(_, q)| q).unwrap_or_default();
        sfr_wire::encoding::parse_form(query).into_iter().collect()
    }

    /// The hidden fields of the first form (values HTML-unescaped).
    pub fn hidden_fields(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut rest = self.body.as_str();
        while let Some(at) = rest.find("<input type=\"hidden\"") {
            rest = &rest[at..];
            let end = rest.find('>').unwrap_or(rest.len());
            let tag = &rest[..end];
            if let (Some(name), Some(value)) = (attr(tag, "name"), attr(tag, "value")) {
                out.push((unescape(&name), unescape(&value)));
            }
            rest = &rest[end..];
        }
        out
    }
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    let len = tag[start..].find('"')?;
    Some(tag[start..start + len].to_owned())
}

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let Some(end) = rest.find(';') else { break };
        let entity = &rest[1..end];
        let ch = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            e if e.starts_with("#x") => u32::from_str_radix(&e[2..], 16)
                .ok()
                .and_then(char::from_u32),
            e if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match ch {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// A browser: keeps cookies, reads forms.
pub struct Browser<'a> {
    org: &'a TestOrg,
    pub cookies: BTreeMap<String, String>,
}

impl Browser<'_> {
    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep(&mut self, resp: &Resp) {
        for c in resp.all("set-cookie") {
            let pair = c.split(';').next().unwrap_or_default();
            if let Some((k, v)) = pair.split_once('=') {
                self.cookies
                    .insert(k.trim().to_owned(), v.trim().to_owned());
            }
        }
    }

    pub fn get(&mut self, path: &str) -> Resp {
        let cookie = self.cookie_header();
        let resp = self.org.get(path, &[("cookie", &cookie)]);
        self.keep(&resp);
        resp
    }

    pub fn post(&mut self, path: &str, pairs: &[(&str, &str)]) -> Resp {
        let cookie = self.cookie_header();
        let resp = self.org.post_form(path, pairs, &[("cookie", &cookie)]);
        self.keep(&resp);
        resp
    }

    /// `GET /services/oauth2/authorize?…`.
    pub fn authorize(&mut self, params: &[(&str, &str)]) -> Resp {
        let q = sfr_wire::encoding::stringify(params.iter().copied());
        self.get(&format!("/services/oauth2/authorize?{q}"))
    }

    /// Fills and posts the login form of `page`.
    pub fn login(&mut self, page: &Resp, username: &str, password: &str) -> Resp {
        assert_eq!(page.status, 200, "login page expected: {}", page.body);
        assert!(
            page.body.contains("name=\"password\""),
            "not a login page: {}",
            page.body
        );
        let mut fields = page.hidden_fields();
        fields.push(("username".into(), username.into()));
        fields.push(("password".into(), password.into()));
        let pairs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        self.post("/services/oauth2/authorize", &pairs)
    }

    /// Posts the approve page's form with `sfr_action` = `approve` or `deny`.
    pub fn submit(&mut self, page: &Resp, action: &str) -> Resp {
        assert!(
            page.body.contains("Allow Access?"),
            "not an approve page: {}",
            page.body
        );
        let mut fields = page.hidden_fields();
        fields.push(("sfr_action".into(), action.into()));
        let pairs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        self.post("/services/oauth2/authorize", &pairs)
    }
}

/// Reads a JSON string field.
pub fn s(v: &serde_json::Value, key: &str) -> String {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("no string {key} in {v}"))
        .to_owned()
}
