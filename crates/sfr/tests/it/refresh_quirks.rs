//! Refresh behaviour for server quirks the local org does not produce: a rotated refresh token (Salesforce's
//! rotation policy) and a server that answers 401 forever (jsforce loops; sfr refreshes once per request). A small
//! scripted HTTP responder on loopback plays the org; the real `sfr` binary talks to it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use crate::harness::*;
use crate::login_offline::offline;

/// One request as the responder saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    target: String,
    body: String,
}

type Script = dyn Fn(&Seen, usize) -> (u16, String) + Send + Sync;

/// Serves every connection with `script(request, how many token POSTs so far)`; records requests.
fn responder(script: Arc<Script>) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let script = Arc::clone(&script);
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream);
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let mut parts = line.split_whitespace();
                    let (method, target) = (
                        parts.next().unwrap_or_default().to_owned(),
                        parts.next().unwrap_or_default().to_owned(),
                    );
                    let mut len = 0;
                    loop {
                        let mut h = String::new();
                        if reader.read_line(&mut h).unwrap_or(0) == 0 {
                            return;
                        }
                        if h == "\r\n" {
                            break;
                        }
                        if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                            len = v.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0u8; len];
                    let _ = reader.read_exact(&mut body);
                    let req = Seen {
                        method,
                        target,
                        body: String::from_utf8_lossy(&body).into_owned(),
                    };
                    let posts = {
                        let mut l = log.lock().unwrap();
                        l.push(req.clone());
                        l.iter().filter(|r| r.method == "POST").count()
                    };
                    let (status, body) = script(&req, posts);
                    let reason = if status < 400 { "OK" } else { "Error" };
                    let out = format!(
                        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if reader.get_mut().write_all(out.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    (url, seen)
}

const ORG: &str = "00D000000000009AAA";
const USER: &str = "005000000000009AAA";

/// A refresh-token org in a fresh HOME, tokens in plaintext (sf and sfr accept that and encrypt on the next save).
fn home_with_org(url: &str) -> tempfile::TempDir {
    let home = empty_home();
    std::fs::create_dir_all(home.path().join(".sfdx")).unwrap();
    let auth = serde_json::json!({
        "accessToken": format!("{ORG}!old"),
        "instanceUrl": url,
        "orgId": ORG,
        "username": "quirk@example.com",
        "loginUrl": format!("{url}/"),
        "refreshToken": "refresh-0",
        "clientId": "PlatformCLI",
        "isDevHub": false,
        "instanceApiVersion": "63.0",
        "instanceApiVersionLastRetrieved": "1/1/2099, 12:00:00 AM",
    });
    std::fs::write(
        home.path().join(".sfdx/quirk@example.com.json"),
        serde_json::to_string_pretty(&auth).unwrap(),
    )
    .unwrap();
    home
}

fn token_body(url: &str, access: &str, refresh: Option<&str>) -> String {
    let mut v = serde_json::json!({
        "access_token": access,
        "instance_url": url,
        "id": format!("{url}/id/{ORG}/{USER}"),
        "token_type": "Bearer",
        "issued_at": "1764400000000",
        "signature": "c2ln",
        "scope": "refresh_token api web",
    });
    if let Some(r) = refresh {
        v["refresh_token"] = serde_json::Value::String(r.to_owned());
    }
    v.to_string()
}

const EXPIRED: &str =
    r#"[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]"#;

#[test]
fn a_rotated_refresh_token_is_stored_and_used_next_time() {
    let url_cell: Arc<Mutex<String>> = Arc::new(Mutex::new(String::new()));
    let cell = Arc::clone(&url_cell);
    let probe_count = Arc::new(Mutex::new(0usize));
    let script: Arc<Script> = Arc::new(move |req: &Seen, posts: usize| {
        let url = cell.lock().unwrap().clone();
        let probes = || {
            let mut n = probe_count.lock().unwrap();
            *n += 1;
            *n
        };
        match (req.method.as_str(), req.target.as_str()) {
            ("POST", "/services/oauth2/token") => {
                let access = format!("{ORG}!new{posts}");
                (
                    200,
                    token_body(&url, &access, Some(&format!("refresh-{posts}"))),
                )
            }
            ("GET", t) if t.contains("ScratchOrgInfo") => (400, "[]".to_owned()),
            // The probe fails the first time (the stored token is dead) and again on the third call (the
            // org ended that session too); the retry after each refresh works.
            ("GET", "/services/data/v63.0") if matches!(probes(), 1 | 3) => {
                (401, EXPIRED.to_owned())
            }
            ("GET", _) => (200, "{}".to_owned()),
            _ => (404, "[]".to_owned()),
        }
    });
    let (url, seen) = responder(script);
    *url_cell.lock().unwrap() = url.clone();
    let home = home_with_org(&url);

    let out = offline(SfrCmd::new())
        .home(home.path())
        .args(["org", "display", "-o", "quirk@example.com", "--json"])
        .run();
    out.success();
    assert_eq!(
        out.json()["result"]["connectedStatus"],
        "Connected",
        "{}",
        out.stdout
    );
    {
        let log = seen.lock().unwrap();
        let posts: Vec<&Seen> = log.iter().filter(|r| r.method == "POST").collect();
        assert_eq!(posts.len(), 1, "{log:?}");
        assert_eq!(
            posts[0].body,
            "grant_type=refresh_token&refresh_token=refresh-0&client_id=PlatformCLI"
        );
    }
    // show-sfdx-auth-url probes first; the org refuses the session again, so sfr refreshes with the rotated
    // token and then shows the newest one.
    let out = offline(SfrCmd::new())
        .home(home.path())
        .args([
            "org",
            "auth",
            "show-sfdx-auth-url",
            "-o",
            "quirk@example.com",
            "--json",
        ])
        .run();
    out.success();
    let host = url.trim_start_matches("http://");
    assert_eq!(
        out.json()["result"]["sfdxAuthUrl"],
        format!("force://PlatformCLI::refresh-2@{host}")
    );
    let log = seen.lock().unwrap();
    let posts: Vec<&Seen> = log.iter().filter(|r| r.method == "POST").collect();
    assert_eq!(posts.len(), 2);
    assert!(
        posts[1].body.contains("refresh_token=refresh-1&"),
        "{}",
        posts[1].body
    );
    // The file holds the secrets encrypted again.
    let text = std::fs::read_to_string(home.path().join(".sfdx/quirk@example.com.json")).unwrap();
    assert!(
        !text.contains("refresh-2") && !text.contains("!new2"),
        "{text}"
    );
}

#[test]
fn a_server_that_always_answers_401_gets_one_refresh_per_request() {
    let url_cell: Arc<Mutex<String>> = Arc::new(Mutex::new(String::new()));
    let cell = Arc::clone(&url_cell);
    let script: Arc<Script> = Arc::new(move |req: &Seen, posts: usize| {
        let url = cell.lock().unwrap().clone();
        match req.method.as_str() {
            "POST" => (200, token_body(&url, &format!("{ORG}!new{posts}"), None)),
            _ => (401, EXPIRED.to_owned()),
        }
    });
    let (url, seen) = responder(script);
    *url_cell.lock().unwrap() = url.clone();
    let home = home_with_org(&url);
    let out = offline(SfrCmd::new())
        .home(home.path())
        .args(["org", "display", "-o", "quirk@example.com", "--json"])
        .run();
    out.success();
    let v = out.json();
    assert_eq!(
        v["result"]["connectedStatus"], "Session expired or invalid",
        "{v}"
    );
    let log = seen.lock().unwrap();
    assert_eq!(
        log.iter().filter(|r| r.method == "POST").count(),
        1,
        "{log:?}"
    );
    // No rotation offered: the original refresh token is kept.
    drop(log);
    let shown = offline(SfrCmd::new())
        .home(home.path())
        .env("SF_TEMP_SHOW_SECRETS", "true")
        .args([
            "org",
            "display",
            "-o",
            "quirk@example.com",
            "--verbose",
            "--json",
        ])
        .run();
    let host = url.trim_start_matches("http://");
    assert_eq!(
        shown.json()["result"]["sfdxAuthUrl"],
        format!("force://PlatformCLI::refresh-0@{host}")
    );
}
