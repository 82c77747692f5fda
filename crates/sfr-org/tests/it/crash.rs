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
    let mut child = Command::new(env!("CARGO_BIN_EXE_sfr-org"))
        .arg("--database")
        .arg(db)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
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

#[test]
fn sigkill_under_load_loses_no_issued_token() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("org.sqlite");
    // Set the org up in-process (user and client-credentials app), then let the binary serve it.
    let (key, secret) = {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("rt");
        let server = rt
            .block_on(RunningServer::start(ServeConfig::for_tests(
                DatabaseUrl::Sqlite(db.clone()),
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
    };

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
