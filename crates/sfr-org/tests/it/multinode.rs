//! Several nodes: two real `sfr-org serve` processes on one PostgreSQL database (and one master key), driven
//! over real HTTP. Whatever one node did, the other knows: tokens, logins in progress, lockouts. A node killed
//! with SIGKILL under load loses nothing a client was told about, and the other keeps answering.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sfr_org::keys::{self, Keys};
use sfr_org::model::{NewApp, NewUser, OrgSettingsUpdate, Scope};
use sfr_org::store::{self, DatabaseUrl, Store};

use crate::{CALLBACK, PASSWORD, Resp, s};

const BIN: &str = env!("CARGO_BIN_EXE_sfr-org");
const USER: &str = "multi@example.com";
const APP: &str = "Multi Node App";

/// One `sfr-org serve` child process; killed when dropped.
struct Node {
    name: &'static str,
    child: Child,
    base: String,
    log: PathBuf,
}

impl Node {
    /// Starts `sfr-org serve` with `serve_args` after the listen address.
    fn start_with(
        name: &'static str,
        dir: &Path,
        database: &str,
        key_file: &Path,
        serve_args: &[&str],
    ) -> Self {
        let out = dir.join(format!("{name}.out"));
        let log = dir.join(format!("{name}.log"));
        let child = Command::new(BIN)
            .env_remove("SFR_ORG_KEY")
            .env_remove("SFR_ORG_DATABASE")
            .env("RUST_LOG", "info")
            .arg("--database")
            .arg(database)
            .arg("--key-file")
            .arg(key_file)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(serve_args)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out).expect("stdout file"))
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("sfr-org starts");
        let mut node = Self {
            name,
            child,
            base: String::new(),
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let banner = std::fs::read_to_string(&out).unwrap_or_default();
            if let Some(addr) = banner
                .lines()
                .find_map(|l| l.trim().strip_prefix("listening on:"))
                .and_then(|a| a.split(',').next())
            {
                node.base = format!("http://{}", addr.trim());
                return node;
            }
            if let Ok(Some(status)) = node.child.try_wait() {
                panic!(
                    "node {name} exited ({status}) before serving: {}",
                    node.log_text()
                );
            }
            assert!(
                Instant::now() < deadline,
                "node {name} did not start: {}",
                node.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL: no shutdown, no goodbye.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

/// An HTTP client with a cookie jar; each request names the node it goes to.
struct Client {
    agent: ureq::Agent,
    cookies: BTreeMap<String, String>,
}

impl Client {
    fn new() -> Self {
        Self {
            agent: ureq::Agent::config_builder()
                .max_redirects(0)
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(30)))
                .build()
                .into(),
            cookies: BTreeMap::new(),
        }
    }

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

    fn get(&mut self, node: &Node, path: &str, bearer: Option<&str>) -> Resp {
        let mut req = self
            .agent
            .get(&format!("{}{path}", node.base))
            .header("cookie", &self.cookie_header());
        if let Some(token) = bearer {
            req = req.header("authorization", &format!("Bearer {token}"));
        }
        let resp = Resp::from(req.call());
        self.keep(&resp);
        resp
    }

    /// A form POST; `Err` when the node did not answer at all (connection refused or reset).
    fn try_post(&mut self, base: &str, path: &str, pairs: &[(&str, &str)]) -> Result<Resp, String> {
        let body = sfr_wire::encoding::stringify(pairs.iter().copied());
        let resp = self
            .agent
            .post(&format!("{base}{path}"))
            .header("cookie", &self.cookie_header())
            .content_type("application/x-www-form-urlencoded")
            .send(body.as_bytes())
            .map_err(|e| e.to_string())?;
        let resp = Resp::from(Ok(resp));
        self.keep(&resp);
        Ok(resp)
    }

    fn post(&mut self, node: &Node, path: &str, pairs: &[(&str, &str)]) -> Resp {
        let base = node.base.clone();
        self.try_post(&base, path, pairs)
            .unwrap_or_else(|e| panic!("node {} did not answer: {e}", node.name))
    }

    /// Posts a page's form (its hidden fields plus `extra`) to the authorize endpoint of `node`.
    fn submit(&mut self, node: &Node, page: &Resp, extra: &[(&str, &str)]) -> Resp {
        let mut fields = page.hidden_fields();
        fields.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let pairs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        self.post(node, "/services/oauth2/authorize", &pairs)
    }
}

/// Two nodes on a fresh database, with a user and a web app. `None` when PostgreSQL is skipped.
struct Cluster {
    a: Node,
    b: Node,
    store: Arc<dyn Store>,
    key: String,
    secret: String,
    _dir: tempfile::TempDir,
}

impl Cluster {
    fn start() -> Option<Self> {
        Self::start_with(&[])
    }

    /// [`Cluster::start`] with more `serve` arguments for both nodes.
    fn start_with(serve_args: &[&str]) -> Option<Self> {
        let database = crate::pg_harness::fresh_database()?;
        let dir = tempfile::tempdir().expect("temp dir");
        let key_file = dir.path().join("org.key");
        // Node A creates the org (and the key file); node B then starts on the same database and key.
        let a = Node::start_with("A", dir.path(), &database, &key_file, serve_args);
        let b = Node::start_with("B", dir.path(), &database, &key_file, serve_args);
        let (keys, created) = Keys::load_or_create_file(&key_file).expect("key file");
        assert!(!created, "node A made the key file");
        let url = DatabaseUrl::parse(&database).expect("URL");
        let store = store::open(&url, Arc::new(keys)).expect("store");
        store
            .update_org(&OrgSettingsUpdate {
                connected_apps_permission: Some(true),
                allow_connected_app_creation: Some(true),
                ..OrgSettingsUpdate::default()
            })
            .expect("org settings");
        store
            .create_user(&NewUser {
                username: USER.into(),
                email: USER.into(),
                first_name: Some("Multi".into()),
                last_name: "Node".into(),
                password_hash: keys::hash_password(PASSWORD).expect("hash"),
                profile: "Standard User".into(),
                permission_sets: Vec::new(),
                created_at: 0,
            })
            .expect("user");
        let (app, secret) = store
            .create_app(&NewApp::new(
                APP,
                "owner@example.com",
                vec![CALLBACK.to_owned()],
                vec![Scope::Api, Scope::Web, Scope::RefreshToken, Scope::OpenId],
                0,
            ))
            .expect("app");
        Some(Self {
            a,
            b,
            store,
            key: app.consumer_key,
            secret,
            _dir: dir,
        })
    }

    fn authorize_query(&self) -> String {
        sfr_wire::encoding::stringify([
            ("response_type", "code"),
            ("client_id", self.key.as_str()),
            ("redirect_uri", CALLBACK),
            ("state", "multi"),
            ("prompt", "login"),
        ])
    }

    /// Refreshes on `node`; the token JSON, or the error response.
    fn refresh(&self, client: &mut Client, base: &str, rt: &str) -> Result<Resp, String> {
        client.try_post(
            base,
            "/services/oauth2/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", rt),
                ("client_id", &self.key),
                ("client_secret", &self.secret),
            ],
        )
    }
}

/// A web-server login that starts on A (the login page), logs in on B, approves on A and redeems the code on
/// B; the tokens are refreshed on B, used on A, revoked on B and refused on A.
#[test]
fn a_login_and_its_tokens_move_between_nodes() {
    let Some(c) = Cluster::start() else { return };
    let mut browser = Client::new();
    let page = browser.get(
        &c.a,
        &format!("/services/oauth2/authorize?{}", c.authorize_query()),
        None,
    );
    assert_eq!(page.status, 200, "login page on A: {}", page.body);
    assert!(page.body.contains("name=\"password\""), "{}", page.body);
    let after_login = browser.submit(&c.b, &page, &[("username", USER), ("password", PASSWORD)]);
    let redirect = if after_login.status == 200 {
        assert!(
            after_login.body.contains("Allow Access?"),
            "approve page from B: {}",
            after_login.body
        );
        browser.submit(&c.a, &after_login, &[("sfr_action", "approve")])
    } else {
        after_login
    };
    assert_eq!(redirect.status, 302, "code redirect: {}", redirect.body);
    let query = redirect.location_query();
    assert_eq!(query.get("state").map(String::as_str), Some("multi"));
    let code = query.get("code").expect("a code").clone();

    let mut api = Client::new();
    let tokens = api
        .post(
            &c.b,
            "/services/oauth2/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_id", &c.key),
                ("client_secret", &c.secret),
                ("redirect_uri", CALLBACK),
            ],
        )
        .json();
    let first_access = s(&tokens, "access_token");
    let rt = s(&tokens, "refresh_token");
    // Issued via B, refreshed on B, used on A.
    let issued_on_a = api.post(
        &c.a,
        "/services/oauth2/token",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &rt),
            ("client_id", &c.key),
            ("client_secret", &c.secret),
        ],
    );
    assert_eq!(
        issued_on_a.status, 200,
        "refresh on A: {}",
        issued_on_a.body
    );
    let refreshed = c.refresh(&mut api, &c.b.base, &rt).expect("B answers");
    assert_eq!(refreshed.status, 200, "refresh on B: {}", refreshed.body);
    let access = s(&refreshed.json(), "access_token");
    for token in [&access, &s(&issued_on_a.json(), "access_token")] {
        for node in [&c.a, &c.b] {
            let me = api.get(node, "/services/oauth2/userinfo", Some(token));
            assert_eq!(me.status, 200, "userinfo on {}: {}", node.name, me.body);
            assert_eq!(me.json()["preferred_username"], USER);
        }
    }

    // Revoked on B, refused on A.
    let revoked = api.post(&c.b, "/services/oauth2/revoke", &[("token", &rt)]);
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    let refused = c.refresh(&mut api, &c.a.base, &rt).expect("A answers");
    refused.assert_oauth_error(400, "invalid_grant", "expired access/refresh token");
    for token in [&first_access, &access] {
        let me = api.get(&c.a, "/services/oauth2/userinfo", Some(token));
        assert!(
            me.status == 401 || me.status == 403,
            "a revoked session on A: {} {}",
            me.status,
            me.body
        );
    }
    // The code was spent on B: A refuses it too.
    let replay = api.post(
        &c.a,
        "/services/oauth2/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", &c.key),
            ("client_secret", &c.secret),
            ("redirect_uri", CALLBACK),
        ],
    );
    assert_eq!(replay.status, 400, "{}", replay.body);
}

/// Wrong passwords typed on A and B add up to one lockout, which both nodes enforce.
#[test]
fn a_user_locked_out_on_one_node_is_locked_out_on_both() {
    let Some(c) = Cluster::start() else { return };
    let threshold = c.store.org().unwrap().lockout_threshold;
    let mut browser = Client::new();
    let login_page = |browser: &mut Client, node: &Node| {
        let page = browser.get(
            node,
            &format!("/services/oauth2/authorize?{}", c.authorize_query()),
            None,
        );
        assert_eq!(page.status, 200, "{}", page.body);
        page
    };
    for n in 0..threshold {
        let node = if n % 2 == 0 { &c.a } else { &c.b };
        let page = login_page(&mut browser, node);
        let other = if n % 2 == 0 { &c.b } else { &c.a };
        let resp = browser.submit(
            other,
            &page,
            &[("username", USER), ("password", "Wrong-pass-1")],
        );
        assert_eq!(resp.status, 200, "the login page again: {}", resp.body);
    }
    let user = c.store.user_by_username(USER).unwrap().unwrap();
    assert!(
        user.locked_until.is_some(),
        "{threshold} failures across two nodes lock the user"
    );
    for node in [&c.a, &c.b] {
        let page = login_page(&mut browser, node);
        let resp = browser.submit(node, &page, &[("username", USER), ("password", PASSWORD)]);
        assert_eq!(resp.status, 200, "{}", resp.body);
        assert!(
            resp.body
                .contains("Your account is locked after too many failed login attempts"),
            "node {} refuses the right password while locked: {}",
            node.name,
            resp.body
        );
    }
}

/// A bounded load of token requests runs against both nodes; A is killed with SIGKILL partway through. Every
/// access token a client received works afterwards, and B answered every request sent to it.
#[test]
fn a_node_killed_under_load_loses_no_issued_token() {
    let Some(mut c) = Cluster::start() else {
        return;
    };
    // One refresh token per worker, from a login like any other.
    let workers = 4;
    let per_worker = 40;
    let mut refresh_tokens = Vec::new();
    for _ in 0..workers {
        let mut browser = Client::new();
        let page = browser.get(
            &c.a,
            &format!("/services/oauth2/authorize?{}", c.authorize_query()),
            None,
        );
        let resp = browser.submit(&c.b, &page, &[("username", USER), ("password", PASSWORD)]);
        let resp = if resp.status == 200 {
            browser.submit(&c.b, &resp, &[("sfr_action", "approve")])
        } else {
            resp
        };
        let code = resp.location_query().get("code").expect("code").clone();
        let tokens = browser
            .post(
                &c.a,
                "/services/oauth2/token",
                &[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("client_id", &c.key),
                    ("client_secret", &c.secret),
                    ("redirect_uri", CALLBACK),
                ],
            )
            .json();
        refresh_tokens.push(s(&tokens, "refresh_token"));
    }

    let bases = [c.a.base.clone(), c.b.base.clone()];
    let (key, secret) = (c.key.clone(), c.secret.clone());
    let started = Arc::new(std::sync::Barrier::new(workers + 1));
    let handles: Vec<_> = refresh_tokens
        .into_iter()
        .map(|rt| {
            let bases = bases.clone();
            let (key, secret) = (key.clone(), secret.clone());
            let started = Arc::clone(&started);
            std::thread::spawn(move || {
                let mut client = Client::new();
                let mut received = Vec::new();
                let mut b_failures = Vec::new();
                let mut unanswered_a = 0;
                started.wait();
                for n in 0..per_worker {
                    let on_b = n % 2 == 1;
                    let base = &bases[usize::from(on_b)];
                    match client.try_post(
                        base,
                        "/services/oauth2/token",
                        &[
                            ("grant_type", "refresh_token"),
                            ("refresh_token", &rt),
                            ("client_id", &key),
                            ("client_secret", &secret),
                        ],
                    ) {
                        Ok(resp) if resp.status == 200 => {
                            received.push(s(&resp.json(), "access_token"))
                        }
                        Ok(resp) if on_b => {
                            b_failures.push(format!("{} {}", resp.status, resp.body))
                        }
                        // A, dying: an error page or no answer at all, and no token the client could use.
                        Ok(_) => {}
                        Err(e) if on_b => b_failures.push(e),
                        Err(_) => unanswered_a += 1,
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
                (received, b_failures, unanswered_a)
            })
        })
        .collect();
    started.wait();
    std::thread::sleep(Duration::from_millis(150));
    c.a.kill();
    let mut received = Vec::new();
    let mut unanswered_a = 0;
    for h in handles {
        let (tokens, b_failures, unanswered) = h.join().expect("worker");
        assert!(
            b_failures.is_empty(),
            "B failed requests while A died: {b_failures:?}\nB's log:\n{}",
            c.b.log_text()
        );
        received.extend(tokens);
        unanswered_a += unanswered;
    }
    assert!(
        unanswered_a > 0,
        "A was killed while the load ran (no request to A went unanswered)"
    );
    assert!(
        received.len() >= workers * per_worker / 2,
        "B answered its half: {} tokens",
        received.len()
    );
    let mut client = Client::new();
    for token in &received {
        let me = client.get(&c.b, "/services/oauth2/userinfo", Some(token));
        assert_eq!(
            me.status, 200,
            "a token a client received works: {}",
            me.body
        );
    }
    // B keeps answering new requests.
    let page = client.get(
        &c.b,
        &format!("/services/oauth2/authorize?{}", c.authorize_query()),
        None,
    );
    assert_eq!(page.status, 200);
}

/// Both nodes run with a per-client limit of 20 (`--rate-limit-per-client 20/0`): token requests alternating
/// between A and B get through about 20 times in all — within the flush slack, not 40 — and then both refuse.
#[test]
fn two_nodes_share_one_rate_limit() {
    let limit = 20;
    let Some(c) = Cluster::start_with(&["--rate-limit-per-client", "20/0"]) else {
        return;
    };
    let mut client = Client::new();
    let mut through = 0;
    let mut refused_on = [0; 2];
    for n in 0..(2 * limit + 10) {
        let node = if n % 2 == 0 { &c.a } else { &c.b };
        let resp = client.post(
            node,
            "/services/oauth2/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &c.key),
                ("client_secret", "not-the-secret"),
            ],
        );
        if resp.body.contains("rate_limit_exceeded") {
            resp.assert_oauth_error(400, "rate_limit_exceeded", "number of logins exceeded");
            refused_on[n % 2] += 1;
        } else {
            assert_eq!(resp.status, 400, "a wrong secret: {}", resp.body);
            through += 1;
        }
        std::thread::sleep(Duration::from_millis(30));
    }
    assert!(
        // The slack: about nodes x rate x flush interval = 2 x (1 per 30 ms) x 100 ms ≈ 7, plus timing jitter.
        (limit..=limit + 10).contains(&through),
        "{through} requests got through two nodes sharing a limit of {limit}"
    );
    assert!(
        refused_on[0] > 0 && refused_on[1] > 0,
        "both nodes refused: {refused_on:?}"
    );
    // Another client is not limited, on either node.
    for node in [&c.a, &c.b] {
        let resp = client.post(
            node,
            "/services/oauth2/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "3MVG9other"),
            ],
        );
        resp.assert_oauth_error(400, "invalid_client_id", "client identifier invalid");
    }
}
