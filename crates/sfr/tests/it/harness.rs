//! Drives the real `sfr` binary: `SfrCmd::new().home(&dir).args([...]).env(k, v).run()`.
//!
//! The child gets a clean environment (only `PATH`, `HOME` and what the test sets), so a developer's own
//! `SF_TARGET_ORG` or keychain never leaks in. `SF_USE_GENERIC_UNIX_KEYCHAIN=true` is the default so the key lives in
//! `~/.sfdx/key.json`; override it with `.env(...)` or drop it with `.env_remove(...)`.

#![allow(dead_code)]

use std::ffi::OsString;
use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

/// The sfr binary under test.
pub fn sfr_bin() -> &'static str {
    env!("CARGO_BIN_EXE_sfr")
}

/// A command line for the sfr binary.
#[derive(Debug, Clone)]
pub struct SfrCmd {
    args: Vec<OsString>,
    envs: Vec<(OsString, OsString)>,
    removed: Vec<OsString>,
    home: Option<PathBuf>,
    cwd: Option<PathBuf>,
    stdin: Option<Vec<u8>>,
    timeout: Duration,
}

impl Default for SfrCmd {
    fn default() -> Self {
        Self::new()
    }
}

impl SfrCmd {
    pub fn new() -> Self {
        SfrCmd {
            args: Vec::new(),
            envs: vec![("SF_USE_GENERIC_UNIX_KEYCHAIN".into(), "true".into())],
            removed: Vec::new(),
            home: None,
            cwd: None,
            stdin: None,
            timeout: Duration::from_secs(60),
        }
    }

    /// Sets `HOME` (and, unless `cwd` is given, the working directory) to `dir`.
    pub fn home(mut self, dir: impl AsRef<Path>) -> Self {
        self.home = Some(dir.as_ref().to_path_buf());
        self
    }

    pub fn cwd(mut self, dir: impl AsRef<Path>) -> Self {
        self.cwd = Some(dir.as_ref().to_path_buf());
        self
    }

    pub fn arg(mut self, a: impl Into<OsString>) -> Self {
        self.args.push(a.into());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    pub fn env(mut self, k: impl Into<OsString>, v: impl Into<OsString>) -> Self {
        let k = k.into();
        self.envs.retain(|(key, _)| *key != k);
        self.envs.push((k, v.into()));
        self
    }

    pub fn env_remove(mut self, k: impl Into<OsString>) -> Self {
        let k = k.into();
        self.envs.retain(|(key, _)| *key != k);
        self.removed.push(k);
        self
    }

    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(bytes.into());
        self
    }

    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = t;
        self
    }

    /// Builds the `std::process::Command` (for tests that need to spawn and interact).
    pub fn command(&self) -> Command {
        let mut c = Command::new(sfr_bin());
        c.args(&self.args).env_clear();
        if let Some(path) = std::env::var_os("PATH") {
            c.env("PATH", path);
        }
        if let Some(home) = &self.home {
            c.env("HOME", home);
        }
        for (k, v) in &self.envs {
            if !self.removed.contains(k) {
                c.env(k, v);
            }
        }
        if let Some(cwd) = self.cwd.as_ref().or(self.home.as_ref()) {
            c.current_dir(cwd);
        }
        c
    }

    /// Runs to completion (killing the child after the timeout) and captures everything.
    pub fn run(self) -> Output {
        let mut cmd = self.command();
        cmd.stdin(if self.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let started = Instant::now();
        let mut child = cmd.spawn().expect("spawn sfr");
        if let Some(input) = self.stdin.clone() {
            let mut stdin = child.stdin.take().expect("stdin");
            std::thread::spawn(move || {
                let _ = stdin.write_all(&input);
            });
        }
        let mut out = child.stdout.take().expect("stdout");
        let mut err = child.stderr.take().expect("stderr");
        let out_t = std::thread::spawn(move || {
            let mut s = Vec::new();
            let _ = out.read_to_end(&mut s);
            s
        });
        let err_t = std::thread::spawn(move || {
            let mut s = Vec::new();
            let _ = err.read_to_end(&mut s);
            s
        });
        let status = loop {
            if let Some(st) = child.try_wait().expect("wait") {
                break st;
            }
            if started.elapsed() > self.timeout {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "sfr {:?} did not finish within {:?}",
                    self.args, self.timeout
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let elapsed = started.elapsed();
        Output {
            args: self
                .args
                .iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect(),
            code: status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out_t.join().unwrap_or_default()).into_owned(),
            stderr: String::from_utf8_lossy(&err_t.join().unwrap_or_default()).into_owned(),
            elapsed,
        }
    }
}

/// What a run produced.
#[derive(Debug, Clone)]
pub struct Output {
    pub args: Vec<String>,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Output {
    /// stdout parsed as JSON (panics with the whole output when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout of sfr {:?} is not JSON ({e}):\n--- stdout\n{}\n--- stderr\n{}",
                self.args, self.stdout, self.stderr
            )
        })
    }

    /// Asserts the exit code, showing the output on failure.
    #[track_caller]
    pub fn code(&self, expected: i32) -> &Self {
        assert_eq!(
            self.code, expected,
            "sfr {:?} exited {} (expected {expected})\n--- stdout\n{}\n--- stderr\n{}",
            self.args, self.code, self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn success(&self) -> &Self {
        self.code(0)
    }
}

/// Root of the sf-written fixtures inside this crate.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sf-store")
}

/// The decrypted values the fixture stores hold (`expected-plaintext.json`).
pub fn expected_plaintext() -> Value {
    let text = fs::read_to_string(fixtures_dir().join("expected-plaintext.json"))
        .expect("read expected plaintext");
    serde_json::from_str(&text).expect("parse expected plaintext")
}

/// A temp copy of a fixture HOME (`"v1"` or `"v2"`) with sf's modes restored from MODES.txt and `privateKey`
/// rewritten to `<copy>/server.key`.
pub fn fixture_home(version: &str) -> TempDir {
    let dir = TempDir::new().expect("tempdir");
    copy_tree(&fixtures_dir().join(version), dir.path());
    // A checkout gives dirs 755 and files 644 (git keeps no modes); start from that, then apply sf's modes.
    set_tree_modes(dir.path());
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o700)).expect("chmod home");
    let modes = fs::read_to_string(fixtures_dir().join("MODES.txt")).expect("MODES.txt");
    for line in modes
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let Some((mode, rel)) = line.split_once(' ') else {
            continue;
        };
        let Some(rel) = rel.strip_prefix(&format!("{version}/")) else {
            continue;
        };
        let mode = u32::from_str_radix(mode, 8).expect("octal mode");
        let path = dir.path().join(rel.trim_end_matches('/'));
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).expect("chmod");
    }
    let jwt = dir.path().join(".sfdx/jwt.user@example.com.json");
    let text = fs::read_to_string(&jwt).expect("jwt auth file");
    let placeholder = format!("/home/fixture/{version}/server.key");
    let real = dir.path().join("server.key");
    fs::write(&jwt, text.replace(&placeholder, &real.to_string_lossy()))
        .expect("rewrite privateKey");
    dir
}

/// An empty HOME.
pub fn empty_home() -> TempDir {
    TempDir::new().expect("tempdir")
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("mkdir");
    for entry in fs::read_dir(from).expect("read fixture dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

fn set_tree_modes(dir: &Path) {
    for entry in fs::read_dir(dir).expect("read dir") {
        let entry = entry.expect("entry");
        let is_dir = entry.file_type().expect("type").is_dir();
        let m = if is_dir { 0o755 } else { 0o644 };
        fs::set_permissions(entry.path(), fs::Permissions::from_mode(m)).expect("chmod");
        if is_dir {
            set_tree_modes(&entry.path());
        }
    }
}

/// File mode bits (`0o644`).
pub fn mode(path: impl AsRef<Path>) -> u32 {
    fs::metadata(path.as_ref())
        .expect("stat")
        .permissions()
        .mode()
        & 0o777
}

/// Replaces the temp HOME path and other volatile bits so human output can be snapshotted.
pub fn redact(text: &str, home: &Path) -> String {
    text.replace(&home.to_string_lossy().into_owned(), "[HOME]")
}
