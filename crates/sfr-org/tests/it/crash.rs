//! Durability: the real `sfr-org` binary killed with SIGKILL in the middle of a token load and restarted on the same
//! SQLite file loses no token a client received. A token is only sent after its row is committed, so every 200 the
//! load saw must still be active after the restart.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::*;

/// A running `sfr-org serve` child and its base URL (read from the banner).
struct Served {
    child: Child,
    base: String,
}

fn spawn(db: &std::path::Path) -> Served {
    spawn_logging(db, "warn", Stdio::null())
}

/// Starts the binary with `RUST_LOG=filter`, its log (stderr) going to `log`.
fn spawn_logging(db: &std::path::Path, filter: &str, log: Stdio) -> Served {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sfr-org"))
        .arg("--database")
        .arg(db)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("RUST_LOG", filter)
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .expect("start sfr-org");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let base = loop {
        let line = lines.next().expect("banner line").expect("readable banner");
        if let Some(rest) = line.split_once(" at ").map(|(_, r)| r.trim().to_owned())
            && rest.starts_with("http")
        {
            break rest;
        }
    };
    // Keep draining stdout so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines.by_ref() {});
    Served { child, base }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

/// Sets an org up in-process on `db` (a run-as user and a client-credentials app "Load"); returns its key and
/// secret. The binary then serves the same file.
fn prepare(db: &std::path::Path) -> (String, String) {
    {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("rt");
        let server = rt
            .block_on(RunningServer::start(ServeConfig::for_tests(
                DatabaseUrl::Sqlite(db.to_path_buf()),
            )))
            .expect("bootstrap");
        let store = server.state.store.clone();
        let now = server.state.now();
        store
            .update_org(&OrgSettingsUpdate {
                connected_apps_permission: Some(true),
                allow_connected_app_creation: Some(true),
                ..OrgSettingsUpdate::default()
            })
            .expect("org settings");
        store
            .create_user(&NewUser {
                username: "runas@example.com".into(),
                email: "runas@example.com".into(),
                first_name: None,
                last_name: "RunAs".into(),
                password_hash: sfr_org::keys::hash_password(PASSWORD).expect("hash"),
                profile: "System Administrator".into(),
                permission_sets: Vec::new(),
                created_at: now,
            })
            .expect("user");
        let mut app = TestApp::web("Load")
            .scopes("api")
            .run_as("runas@example.com")
            .0;
        app.created_at = now;
        let (created, secret) = store.create_app(&app).expect("app");
        rt.block_on(server.shutdown());
        (created.consumer_key, secret)
    }
}

#[test]
fn sigkill_under_load_loses_no_issued_token() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("org.sqlite");
    let (key, secret) = prepare(&db);

    let mut first = spawn(&db);
    let received: Arc<Mutex<Vec<String>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (base, key, secret) = (first.base.clone(), key.clone(), secret.clone());
            let (received, stop) = (Arc::clone(&received), Arc::clone(&stop));
            std::thread::spawn(move || {
                let agent = agent();
                while !stop.load(Ordering::Relaxed) {
                    let resp = agent
                        .post(&format!("{base}/services/oauth2/token"))
                        .send_form([
                            ("grant_type", "client_credentials"),
                            ("client_id", key.as_str()),
                            ("client_secret", secret.as_str()),
                        ]);
                    let Ok(mut resp) = resp else { break };
                    if resp.status() != 200 {
                        continue;
                    }
                    let Ok(body) = resp.body_mut().read_json::<serde_json::Value>() else {
                        break;
                    };
                    if let Some(t) = body["access_token"].as_str() {
                        received.lock().expect("lock").push(t.to_owned());
                    }
                }
            })
        })
        .collect();
    // Kill once a good number of tokens went out, while requests are still in flight.
    let started = Instant::now();
    while received.lock().expect("lock").len() < 150 && started.elapsed() < Duration::from_secs(60)
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    first.child.kill().expect("SIGKILL");
    let _ = first.child.wait();
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().expect("worker");
    }
    let tokens = received.lock().expect("lock").clone();
    assert!(tokens.len() >= 150, "load too small: {}", tokens.len());

    let mut second = spawn(&db);
    let agent = agent();
    let mut lost = Vec::new();
    for t in &tokens {
        let resp = Resp::from(
            agent
                .post(&format!("{}/services/oauth2/introspect", second.base))
                .send_form([
                    ("token", t.as_str()),
                    ("client_id", key.as_str()),
                    ("client_secret", secret.as_str()),
                ]),
        );
        if resp.status != 200 || resp.json()["active"] != true {
            lost.push(resp.body);
        }
    }
    // And one REST call with the last token, as a client would make.
    let last = tokens.last().expect("a token");
    let rest = Resp::from(
        agent
            .get(&format!("{}/services/oauth2/userinfo", second.base))
            .header("authorization", &format!("Bearer {last}"))
            .call(),
    );
    let _ = second.child.kill();
    let _ = second.child.wait();
    assert!(
        lost.is_empty(),
        "{} of {} issued tokens lost after SIGKILL: {:?}",
        lost.len(),
        tokens.len(),
        lost.first()
    );
    assert_eq!(rest.status, 200, "{}", rest.body);
}

/// With the most verbose log, neither the consumer secret nor any token (nor a token's hash) appears in a log line,
/// whether the request succeeds or fails.
#[test]
fn no_secret_or_token_in_any_log_line() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("org.sqlite");
    let (key, secret) = prepare(&db);
    let log_path = dir.path().join("server.log");
    let log = std::fs::File::create(&log_path).expect("log file");
    let mut server = spawn_logging(&db, "trace", Stdio::from(log));
    let agent = agent();
    let token_url = format!("{}/services/oauth2/token", server.base);
    let issued = Resp::from(agent.post(&token_url).send_form([
        ("grant_type", "client_credentials"),
        ("client_id", key.as_str()),
        ("client_secret", secret.as_str()),
    ]));
    assert_eq!(issued.status, 200, "{}", issued.body);
    let access = s(&issued.json(), "access_token");
    // Wrong secrets, a made-up refresh token and a garbage assertion: the failure paths log too.
    let wrong_secret = format!("{}x", secret);
    let _ = Resp::from(agent.post(&token_url).send_form([
        ("grant_type", "client_credentials"),
        ("client_id", key.as_str()),
        ("client_secret", wrong_secret.as_str()),
    ]));
    let fake_refresh = "5Aep861ThisIsAMadeUpRefreshTokenValue";
    let _ = Resp::from(agent.post(&token_url).send_form([
        ("grant_type", "refresh_token"),
        ("client_id", key.as_str()),
        ("refresh_token", fake_refresh),
    ]));
    let assertion = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2VjcmV0LWFzc2VydGlvbi1zaWduYXR1cmU";
    let _ = Resp::from(agent.post(&token_url).send_form([
        ("grant_type", sfr_wire::JWT_BEARER_GRANT),
        ("assertion", assertion),
    ]));
    let _ = Resp::from(
        agent
            .post(&format!("{}/services/oauth2/introspect", server.base))
            .send_form([
                ("token", access.as_str()),
                ("client_id", key.as_str()),
                ("client_secret", secret.as_str()),
            ]),
    );
    let _ = Resp::from(
        agent
            .get(&format!("{}/services/oauth2/userinfo", server.base))
            .header("authorization", &format!("Bearer {access}"))
            .call(),
    );
    let _ = Resp::from(
        agent
            .post(&format!("{}/services/oauth2/revoke", server.base))
            .send_form([("token", access.as_str())]),
    );
    std::thread::sleep(Duration::from_millis(300));
    let _ = server.child.kill();
    let _ = server.child.wait();
    let text = std::fs::read_to_string(&log_path).expect("log");
    assert!(
        text.contains("DEBUG") || text.contains("TRACE"),
        "the trace log was not captured: {text}"
    );
    for (what, needle) in [
        ("consumer secret", secret.as_str()),
        ("wrong secret", wrong_secret.as_str()),
        ("access token", access.as_str()),
        (
            "access token's session part",
            access.split('!').nth(1).unwrap_or("-"),
        ),
        ("refresh token", fake_refresh),
        ("assertion signature", "c2VjcmV0LWFzc2VydGlvbi1zaWduYXR1cmU"),
        ("token hash", sfr_org::keys::token_key(&access).as_str()),
    ] {
        assert!(!text.contains(needle), "the log shows the {what}");
    }
}
