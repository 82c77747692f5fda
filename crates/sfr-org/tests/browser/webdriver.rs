//! A small W3C WebDriver client over ureq: enough to drive headless Chromium through chromedriver like a person
//! (open a page, type, click, pick, read text) and to take screenshots.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
/// The WebDriver key code of Enter.
pub const ENTER: &str = "\u{E007}";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A running chromedriver with one browser session; both end on drop.
pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    agent: ureq::Agent,
    shots: PathBuf,
    shot_count: u32,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium (fresh profile). Screenshots go to `shots`.
    pub fn start(chromedriver: &Path, chromium: &Path, shots: &Path) -> Self {
        let port = free_port();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromedriver.display()));
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(90)))
            .build()
            .into();
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = agent
                .get(&format!("{base}/status"))
                .call()
                .ok()
                .and_then(|mut r| r.body_mut().read_json::<Value>().ok())
                .is_some_and(|v| v["value"]["ready"] == true);
            if ready {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not become ready"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = tempfile::tempdir().expect("profile dir");
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium.to_string_lossy(),
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--window-size=1366,900", "--hide-scrollbars",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            },
        }}});
        let mut resp = agent
            .post(&format!("{base}/session"))
            .send_json(&caps)
            .expect("new session");
        let v: Value = resp.body_mut().read_json().expect("session JSON");
        let session = v["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {v}"))
            .to_owned();
        std::fs::create_dir_all(shots).expect("screenshot dir");
        Self {
            driver,
            base,
            session,
            agent,
            shots: shots.to_owned(),
            shot_count: 0,
            _profile: profile,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/session/{}{path}", self.base, self.session)
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = self.url(path);
        let result = match (method, body) {
            ("GET", _) => self.agent.get(&url).call(),
            ("DELETE", _) => self.agent.delete(&url).call(),
            (_, body) => self
                .agent
                .post(&url)
                .send_json(body.unwrap_or_else(|| json!({}))),
        };
        let mut resp = result.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = resp.status().as_u16();
        let v: Value = resp.body_mut().read_json().unwrap_or(Value::Null);
        assert!(status < 400, "{method} {path} -> {status}: {v}");
        v["value"].clone()
    }

    pub fn goto(&self, url: &str) {
        self.call("POST", "/url", Some(json!({ "url": url })));
    }

    pub fn current_url(&self) -> String {
        self.call("GET", "/url", None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub fn source(&self) -> String {
        self.call("GET", "/source", None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub fn title(&self) -> String {
        self.call("GET", "/title", None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    fn try_find(&self, css: &str) -> Option<String> {
        let resp = self
            .agent
            .post(&self.url("/element"))
            .send_json(json!({"using": "css selector", "value": css}));
        let mut resp = resp.ok()?;
        if resp.status().as_u16() >= 400 {
            return None;
        }
        let v: Value = resp.body_mut().read_json().ok()?;
        v["value"][ELEMENT_KEY].as_str().map(str::to_owned)
    }

    /// Waits (up to 10 s) for an element; panics naming the selector and the page otherwise.
    pub fn find(&self, css: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(id) = self.try_find(css) {
                return id;
            }
            if Instant::now() > deadline {
                panic!(
                    "no element {css:?} on {} ({}):\n{}",
                    self.current_url(),
                    self.title(),
                    self.source()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Scrolls the element to the middle of the window (as a person would before clicking) and clicks it.
    pub fn click(&self, css: &str) {
        let id = self.find(css);
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({
                "script": "arguments[0].scrollIntoView({block: 'center'})",
                "args": [{ ELEMENT_KEY: id }],
            })),
        );
        self.call("POST", &format!("/element/{id}/click"), None);
    }

    /// Clears a field and types into it.
    pub fn fill(&self, css: &str, text: &str) {
        let id = self.find(css);
        self.call("POST", &format!("/element/{id}/clear"), None);
        self.call(
            "POST",
            &format!("/element/{id}/value"),
            Some(json!({ "text": text })),
        );
    }

    /// Types into a field without clearing it (e.g. a file input takes a path).
    pub fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css);
        self.call(
            "POST",
            &format!("/element/{id}/value"),
            Some(json!({ "text": text })),
        );
    }

    pub fn text(&self, css: &str) -> String {
        let id = self.find(css);
        self.call("GET", &format!("/element/{id}/text"), None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub fn is_selected(&self, css: &str) -> bool {
        let id = self.find(css);
        self.call("GET", &format!("/element/{id}/selected"), None) == Value::Bool(true)
    }

    /// Picks an option of a `<select>` by value, by clicking it as a person would.
    pub fn select(&self, select_css: &str, value: &str) {
        self.click(&format!("{select_css} option[value=\"{value}\"]"));
    }

    /// Waits until the page's URL satisfies `pred`.
    pub fn wait_url(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let url = self.current_url();
            if pred(&url) {
                return url;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; at {url}:\n{}",
                self.source()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until the element's text is `expected` (set by script, possibly after a promise), then returns it;
    /// fails with the text last seen.
    pub fn wait_text(&self, css: &str, expected: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let text = self.text(css);
            if text == expected || Instant::now() > deadline {
                return text;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Saves a full-page PNG named `NN-name.png` and returns its path.
    pub fn screenshot(&mut self, name: &str) -> PathBuf {
        let height = self
            .call(
                "POST",
                "/execute/sync",
                Some(json!({
                    "script": "window.scrollTo(0, 0); return document.documentElement.scrollHeight",
                    "args": [],
                })),
            )
            .as_i64()
            .unwrap_or(900)
            .clamp(900, 4000);
        self.call(
            "POST",
            "/window/rect",
            Some(json!({"width": 1366, "height": height + 90})),
        );
        let data = self.call("GET", "/screenshot", None);
        let png = base64::engine::general_purpose::STANDARD
            .decode(data.as_str().unwrap_or_default())
            .expect("screenshot PNG");
        self.call(
            "POST",
            "/window/rect",
            Some(json!({"width": 1366, "height": 900})),
        );
        self.shot_count += 1;
        let path = self
            .shots
            .join(format!("{:02}-{name}.png", self.shot_count));
        std::fs::write(&path, png).expect("write screenshot");
        path
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.agent.delete(&self.url("")).call();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
