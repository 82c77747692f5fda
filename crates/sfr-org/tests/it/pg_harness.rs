//! A throwaway PostgreSQL for the tests: one server per test process (`initdb` into a temp dir, `postgres` on a
//! free loopback port), one fresh database per test.
//!
//! The binaries are looked up on `PATH`, then in `/usr/lib/postgresql/*/bin`. Missing binaries fail the test
//! with instructions, unless `SFR_SKIP_POSTGRES=1` (then the PostgreSQL tests return early, saying so).
//! `initdb` refuses to run as root, so as root the server runs as the `postgres` user (or `nobody`).
//!
//! The server is started through a small `sh` watchdog whose stdin is a pipe from this process: when the test
//! process ends, for whatever reason, the pipe closes, the watchdog stops the server and removes its directory.

use std::io::Write as _;
use std::net::TcpListener;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Set to `1` to skip (not fail) the PostgreSQL tests when PostgreSQL is not installed.
pub const SKIP_ENV: &str = "SFR_SKIP_POSTGRES";

pub struct PgServer {
    pub port: u16,
    /// For the server [`tls_server`] starts: the CA (PEM file) that signed its certificate, which names
    /// `localhost` only.
    pub tls_ca: Option<PathBuf>,
    /// Keeps the watchdog's stdin open for the life of the process.
    _watchdog: Mutex<Child>,
    create_lock: Mutex<()>,
}

static SERVER: OnceLock<Result<PgServer, String>> = OnceLock::new();
static TLS_SERVER: OnceLock<Result<PgServer, String>> = OnceLock::new();
static NEXT_DB: AtomicU32 = AtomicU32::new(1);

/// The shared server, or `None` when PostgreSQL is missing and `SFR_SKIP_POSTGRES=1`. Panics with the cause
/// (and the fix) when PostgreSQL is missing or does not start.
pub fn server() -> Option<&'static PgServer> {
    match SERVER.get_or_init(start) {
        Ok(s) => Some(s),
        Err(e) if skipping() && e.starts_with(MISSING) => {
            eprintln!("skipping a PostgreSQL test ({SKIP_ENV}=1): {e}");
            None
        }
        Err(e) => panic!("{e}"),
    }
}

/// A second server, started on first use like [`server`], with `ssl = on` and a certificate for `localhost`
/// signed by a CA made for this run ([`PgServer::tls_ca`]); plain connections are still accepted.
pub fn tls_server() -> Option<&'static PgServer> {
    match TLS_SERVER.get_or_init(|| start_with(true)) {
        Ok(s) => Some(s),
        Err(e) if skipping() && e.starts_with(MISSING) => {
            eprintln!("skipping a PostgreSQL test ({SKIP_ENV}=1): {e}");
            None
        }
        Err(e) => panic!("{e}"),
    }
}

/// A URL to a new, empty database on the shared server (see [`server`] for `None`).
pub fn fresh_database() -> Option<String> {
    let server = server()?;
    Some(server.create_database())
}

fn skipping() -> bool {
    std::env::var(SKIP_ENV).is_ok_and(|v| v == "1")
}

const MISSING: &str = "PostgreSQL is not installed";

fn find_binary(name: &str) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin").join(name)))
        .filter(|p| p.is_file())
        .collect();
    versions.sort();
    versions.pop()
}

/// The effective uid of this process (Linux `/proc`; `None` elsewhere).
fn effective_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

/// uid and gid of the first of `names` in /etc/passwd.
fn system_user(names: &[&str]) -> Option<(String, u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    for wanted in names {
        for line in passwd.lines() {
            let fields: Vec<&str> = line.split(':').collect();
            if fields.len() > 3
                && fields[0] == *wanted
                && let (Ok(uid), Ok(gid)) = (fields[2].parse(), fields[3].parse())
            {
                return Some(((*wanted).to_owned(), uid, gid));
            }
        }
    }
    None
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}

fn start() -> Result<PgServer, String> {
    start_with(false)
}

/// Makes a CA and a certificate for `localhost` it signs, puts the certificate and key in the data directory
/// (owned by the server's user, the key 0600) and turns `ssl` on; returns the CA's PEM file.
fn configure_tls(dir: &Path, data: &Path, owner: Option<(u32, u32)>) -> Result<PathBuf, String> {
    use std::os::unix::fs::PermissionsExt as _;
    let fail = |e: &dyn std::fmt::Display| format!("cannot make the test TLS certificate: {e}");
    let mut ca_params =
        rcgen::CertificateParams::new(Vec::<String>::new()).map_err(|e| fail(&e))?;
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "sfr test CA");
    let ca_key = rcgen::KeyPair::generate().map_err(|e| fail(&e))?;
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).map_err(|e| fail(&e))?;
    let key = rcgen::KeyPair::generate().map_err(|e| fail(&e))?;
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .and_then(|p| p.signed_by(&key, &ca))
        .map_err(|e| fail(&e))?;
    for (name, pem, mode) in [
        ("server.crt", cert.pem(), 0o644),
        ("server.key", key.serialize_pem(), 0o600),
    ] {
        let path = data.join(name);
        std::fs::write(&path, pem).map_err(|e| fail(&e))?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))
            .map_err(|e| fail(&e))?;
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(&path, Some(uid), Some(gid)).map_err(|e| fail(&e))?;
        }
    }
    let mut conf = std::fs::OpenOptions::new()
        .append(true)
        .open(data.join("postgresql.conf"))
        .map_err(|e| fail(&e))?;
    conf.write_all(b"\nssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n")
        .map_err(|e| fail(&e))?;
    let ca_file = dir.join("ca.crt");
    std::fs::write(&ca_file, ca.pem()).map_err(|e| fail(&e))?;
    Ok(ca_file)
}

fn start_with(tls: bool) -> Result<PgServer, String> {
    let (Some(initdb), Some(postgres)) = (find_binary("initdb"), find_binary("postgres")) else {
        return Err(format!(
            "{MISSING}: initdb and postgres are neither on PATH nor in /usr/lib/postgresql/*/bin. Install it \
             (Debian/Ubuntu: apt-get install -y postgresql; .ci/run does this) or set {SKIP_ENV}=1 to skip the \
             PostgreSQL tests"
        ));
    };
    let dir = tempfile::Builder::new()
        .prefix("sfr-pg-")
        .tempdir()
        .map_err(|e| format!("cannot make a temp dir for PostgreSQL: {e}"))?
        .keep();
    let run_as = if effective_uid() == Some(0) {
        let (name, uid, gid) = system_user(&["postgres", "nobody"]).ok_or(
            "running as root, and neither a postgres nor a nobody user exists to run PostgreSQL as (initdb \
             refuses root)",
        )?;
        std::os::unix::fs::chown(&dir, Some(uid), Some(gid))
            .map_err(|e| format!("cannot hand {} to {name}: {e}", dir.display()))?;
        Some((uid, gid))
    } else {
        None
    };
    let as_user = |cmd: &mut Command| {
        if let Some((uid, gid)) = run_as {
            cmd.gid(gid).uid(uid);
        }
    };
    let data = dir.join("data");
    let mut init = Command::new(&initdb);
    init.args(["-D"])
        .arg(&data)
        .args([
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ])
        .stdin(Stdio::null());
    as_user(&mut init);
    let out = init
        .output()
        .map_err(|e| format!("cannot run {}: {e}", initdb.display()))?;
    if !out.status.success() {
        return Err(format!(
            "initdb failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let tls_ca = if tls {
        Some(configure_tls(&dir, &data, run_as)?)
    } else {
        None
    };
    let mut last_error = String::new();
    for _ in 0..3 {
        let port = free_port()?;
        match launch(&postgres, &dir, &data, port, &as_user) {
            Ok(child) => {
                return Ok(PgServer {
                    port,
                    tls_ca,
                    _watchdog: Mutex::new(child),
                    create_lock: Mutex::new(()),
                });
            }
            Err(e) => last_error = e,
        }
    }
    Err(format!("PostgreSQL did not start: {last_error}"))
}

fn launch(
    postgres: &Path,
    dir: &Path,
    data: &Path,
    port: u16,
    as_user: &dyn Fn(&mut Command),
) -> Result<Child, String> {
    let log = dir.join(format!("postgres-{port}.log"));
    // Stop the server (fast shutdown) and remove its files when our end of the pipe closes.
    let script = r#"
        "$PG" -D "$DATA" -p "$PORT" -h 127.0.0.1 -k "$DIR" -c fsync=off -c synchronous_commit=off \
              -c full_page_writes=off -c max_connections=400 >"$LOG" 2>&1 &
        pid=$!
        read -r _ignored
        kill -INT "$pid" 2>/dev/null
        wait "$pid"
        rm -rf "$DIR"
    "#;
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(script)
        .env("PG", postgres)
        .env("DATA", data)
        .env("PORT", port.to_string())
        .env("DIR", dir)
        .env("LOG", &log)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    as_user(&mut cmd);
    let mut child = cmd.spawn().map_err(|e| format!("cannot start sh: {e}"))?;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let url = format!("host=127.0.0.1 port={port} user=postgres dbname=postgres");
        match postgres::Client::connect(&url, postgres::NoTls) {
            Ok(_) => return Ok(child),
            Err(e) => {
                let exited = child.try_wait().ok().flatten().is_some();
                if exited || Instant::now() >= deadline {
                    if let Some(stdin) = child.stdin.as_mut() {
                        let _ = stdin.write_all(b"stop\n");
                    }
                    let _ = child.wait();
                    let log_text = std::fs::read_to_string(&log).unwrap_or_default();
                    return Err(format!("{e}; server log:\n{log_text}"));
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

impl PgServer {
    /// The URL of the server's maintenance database.
    pub fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Creates a new empty database and returns its URL.
    pub fn create_database(&self) -> String {
        let name = format!(
            "sfr_test_{}_{}",
            std::process::id(),
            NEXT_DB.fetch_add(1, Ordering::Relaxed)
        );
        let _serial = self.create_lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut admin = postgres::Client::connect(&self.admin_url(), postgres::NoTls)
            .unwrap_or_else(|e| panic!("cannot connect to the test PostgreSQL: {e}"));
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("cannot create database {name}: {e}"));
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }
}

/// Set to `postgres` to run the HTTP suites (every `TestOrg`) on PostgreSQL instead of SQLite.
pub const BACKEND_ENV: &str = "SFR_TEST_BACKEND";

/// The database a `TestOrg` runs on, and the key file to use: a SQLite file in `dir` (key file next to it), or,
/// with `SFR_TEST_BACKEND=postgres`, a fresh database on the shared test server (key file in `dir`). A missing
/// PostgreSQL fails here even with `SFR_SKIP_POSTGRES=1`: the run asked for PostgreSQL.
pub fn test_database(dir: &Path) -> (sfr_org::store::DatabaseUrl, Option<PathBuf>) {
    use sfr_org::store::DatabaseUrl;
    match std::env::var(BACKEND_ENV).as_deref() {
        Ok("postgres") => {
            let server = match SERVER.get_or_init(start) {
                Ok(s) => s,
                Err(e) => panic!("{BACKEND_ENV}=postgres, but {e}"),
            };
            let url = DatabaseUrl::parse(&server.create_database()).expect("test database URL");
            (url, Some(dir.join("org.key")))
        }
        Ok("sqlite") | Ok("") | Err(_) => (DatabaseUrl::Sqlite(dir.join("org.sqlite")), None),
        Ok(other) => panic!("{BACKEND_ENV}={other:?}: expected sqlite or postgres"),
    }
}
