//! Running the CLIs the way a developer does: `sfr` (target/debug) and the real `sf` (scripts/sf), in a private
//! HOME, from a project whose `sfdx-project.json` names the OAuth callback port, with `BROWSER` set to a script
//! that hands the login URL to the test's WebDriver browser.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a login may take end to end.
const LOGIN_TIMEOUT: Duration = Duration::from_secs(120);

/// A `BROWSER` program that writes the URL it is given to a file and returns 0 at once.
pub struct CallbackBrowser {
    script: PathBuf,
    url_file: PathBuf,
}

impl CallbackBrowser {
    pub fn new(dir: &Path) -> Self {
        let script = dir.join("open-in-test-browser.sh");
        let url_file = dir.join("opened-url");
        let body = format!(
            "#!/bin/sh\n# Hands the URL to the WebDriver browser of the test.\nprintf '%s\\n' \"$1\" > '{0}.tmp' && mv '{0}.tmp' '{0}'\nexit 0\n",
            url_file.display()
        );
        std::fs::write(&script, body).expect("browser script");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))
                .expect("chmod");
        }
        Self { script, url_file }
    }

    /// Waits for the next URL the CLI opens.
    pub fn next_url(&mut self) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(text) = std::fs::read_to_string(&self.url_file) {
                let _ = std::fs::remove_file(&self.url_file);
                return text.trim().to_owned();
            }
            assert!(
                Instant::now() < deadline,
                "the CLI never opened a browser (BROWSER={})",
                self.script.display()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn close(self) {
        let _ = std::fs::remove_file(&self.url_file);
    }
}

/// The environment CLIs run in.
pub struct Cli {
    root: PathBuf,
    sfr: PathBuf,
    home: PathBuf,
    project: PathBuf,
}

/// A finished command.
pub struct Finished {
    what: String,
    status: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Finished {
    /// The stdout of a command that exited 0; panics with both streams otherwise.
    pub fn success(self, what: &str) -> String {
        assert_eq!(
            self.status,
            Some(0),
            "{what} ({}) failed:\nstdout: {}\nstderr: {}",
            self.what,
            self.stdout,
            self.stderr
        );
        self.stdout
    }
}

/// A command still running (a web login waiting for its callback).
pub struct Running {
    child: Child,
    what: String,
}

impl Running {
    /// Waits for exit 0 (at most [`LOGIN_TIMEOUT`]) and returns stdout.
    pub fn wait(mut self, what: &str) -> String {
        let deadline = Instant::now() + LOGIN_TIMEOUT;
        loop {
            match self.child.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(100))
                }
                _ => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    let (out, err) = drain(&mut self.child);
                    panic!("{what} did not finish in time:\nstdout: {out}\nstderr: {err}");
                }
            }
        }
        let status = self.child.wait().ok().and_then(|s| s.code());
        let (stdout, stderr) = drain(&mut self.child);
        Finished {
            what: self.what,
            status,
            stdout,
            stderr,
        }
        .success(what)
    }
}

fn drain(child: &mut Child) -> (String, String) {
    let mut out = String::new();
    let mut err = String::new();
    if let Some(mut s) = child.stdout.take() {
        let _ = s.read_to_string(&mut out);
    }
    if let Some(mut s) = child.stderr.take() {
        let _ = s.read_to_string(&mut err);
    }
    (out, err)
}

impl Cli {
    /// `sfr` from `target/debug`; a private HOME and a project with `oauthLocalPort` under `work`.
    pub fn new(root: &Path, target: &Path, work: &Path, port: u16) -> Self {
        let sfr = std::env::var_os("SFR_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| target.join("debug").join("sfr"));
        assert!(
            sfr.is_file(),
            "{} is missing: build the CLI first (cargo build -p sfr; `cargo test --workspace` does)",
            sfr.display()
        );
        let home = work.join("home");
        let project = work.join("project");
        std::fs::create_dir_all(&home).expect("home");
        std::fs::create_dir_all(project.join("force-app")).expect("project");
        std::fs::write(
            project.join("sfdx-project.json"),
            format!(
                r#"{{"packageDirectories": [{{"path": "force-app", "default": true}}], "oauthLocalPort": {port}}}"#
            ),
        )
        .expect("sfdx-project.json");
        Self {
            root: root.to_owned(),
            sfr,
            home,
            project,
        }
    }

    /// `scripts/sf`, when the real sf is installed under `.tools/`.
    pub fn real_sf(&self) -> Option<PathBuf> {
        let script = self.root.join("scripts").join("sf");
        (self.root.join(".tools").join("sf").exists() && script.is_file()).then_some(script)
    }

    fn command(&self, program: &Path, args: &[&str], browser: Option<&CallbackBrowser>) -> Command {
        let mut cmd = Command::new(program);
        cmd.args(args)
            .current_dir(&self.project)
            .env("HOME", &self.home)
            .env("SF_DISABLE_TELEMETRY", "true")
            .env("SF_DISABLE_AUTOUPDATE", "true")
            .env("SF_SKIP_NEW_VERSION_CHECK", "true")
            .env("SF_WEB_OAUTH_SERVER_TIMEOUT", "110000")
            .env_remove("SF_TARGET_ORG")
            .env_remove("SF_TARGET_DEV_HUB")
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(b) = browser {
            cmd.env("BROWSER", &b.script);
        }
        cmd
    }

    /// Runs `sfr ARGS` to completion.
    pub fn sfr(&self, args: &[&str]) -> Finished {
        let out = self
            .command(&self.sfr, args, None)
            .stdin(Stdio::null())
            .output()
            .expect("run sfr");
        Finished {
            what: format!("sfr {}", args.join(" ")),
            status: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Starts `sfr ARGS` (a web login), answering the client-secret prompt with `stdin_line`.
    pub fn spawn_sfr(
        &self,
        args: &[&str],
        browser: &CallbackBrowser,
        stdin_line: Option<&str>,
    ) -> Running {
        self.spawn(&self.sfr, args, browser, stdin_line)
    }

    /// Starts `PROGRAM ARGS` with the test browser as `BROWSER`.
    pub fn spawn(
        &self,
        program: &Path,
        args: &[&str],
        browser: &CallbackBrowser,
        stdin_line: Option<&str>,
    ) -> Running {
        let mut child = self
            .command(program, args, Some(browser))
            .stdin(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
        // Answer the prompt (if any); dropping stdin closes it, so a prompt reads EOF instead of waiting.
        if let (Some(mut stdin), Some(line)) = (child.stdin.take(), stdin_line) {
            let _ = writeln!(stdin, "{line}");
        }
        Running {
            child,
            what: format!("{} {}", program.display(), args.join(" ")),
        }
    }
}
