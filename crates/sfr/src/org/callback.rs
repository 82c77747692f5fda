//! The loopback server that receives the OAuth redirect of `org login web`, answering every request the way `sf`'s
//! `WebOAuthServer` does (see `sf-cli-compat.md` §3.6), except that a state mismatch ends the login with a clear
//! error instead of `sf`'s `ERR_HTTP_HEADERS_SENT` crash.
//!
//! The redirect URI says `localhost`, which a browser may resolve to `127.0.0.1` or `[::1]`; both are bound.

use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::pages;

/// `sf`'s default redirect port.
pub const DEFAULT_PORT: u16 = 1717;
/// Requests larger than this are not OAuth redirects.
const MAX_REQUEST_HEAD: usize = 16 * 1024;
/// How long a connection may take to send its request line and headers.
const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// After the outcome is known, how long the browser gets to fetch the success or error page.
const PAGE_GRACE: Duration = Duration::from_secs(3);
/// How often the accept loop wakes up.
const TICK: Duration = Duration::from_millis(20);

/// Why the redirect did not produce an authorization code (or the exchange did not finish).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    #[error("Cannot start the OAuth redirect server on port {port}.")]
    PortInUse { port: u16 },
    #[error("Cannot start the OAuth redirect server on port {port}: {reason}")]
    Bind { port: u16, reason: String },
    #[error("The authentication session timed out. Please try again.")]
    Timeout,
    #[error(
        "The OAuth redirect carried a state parameter that doesn't match the one this login sent, so it was rejected. It may belong to an older login attempt or to a forged request."
    )]
    StateMismatch,
    #[error("No authentication code found on login response.")]
    MissingAuthCode,
    /// The org redirected with `error=…` (for example the user clicked Deny).
    #[error("{}", if .description.is_empty() { .error } else { .description })]
    Denied { error: String, description: String },
    #[error("Invalid request uri: {0}")]
    InvalidRequestUri(String),
    #[error("Unsupported http methods: {0}")]
    UnsupportedMethod(String),
}

impl CallbackError {
    /// The error name `sf` reports (`code` in `--json`).
    pub fn name(&self) -> &str {
        match self {
            Self::PortInUse { .. } | Self::Bind { .. } => "PortInUseError",
            Self::Timeout => "AuthTimeoutError",
            Self::StateMismatch => "urlStateMismatch",
            Self::MissingAuthCode => "MissingAuthCodeError",
            Self::Denied { error, .. } => error,
            Self::InvalidRequestUri(_) => "invalidRequestUri",
            Self::UnsupportedMethod(_) => "UnsupportedMethodError",
        }
    }

    /// What the user can do about it.
    pub fn actions(&self) -> Vec<String> {
        match self {
            Self::PortInUse { port } | Self::Bind { port, .. } => vec![format!(
                "Kill the process running on port {port}, or pick another port: set \"oauthLocalPort\" in the sfdx-project.json of your project (the connected app's callback URL must then be http://localhost:<port>/OauthRedirect, so use a custom connected app with --client-id)."
            )],
            Self::Timeout => vec![
                "Finish the login in the browser within the time limit, or raise it with SF_WEB_OAUTH_SERVER_TIMEOUT (milliseconds).".to_owned(),
            ],
            Self::StateMismatch => vec![
                "Run the login command again and complete it in the browser tab it opens; close older login tabs first.".to_owned(),
            ],
            Self::MissingAuthCode => vec![
                "The org redirected back without an authorization code. Check the connected app's callback URL and try again.".to_owned(),
            ],
            _ => Vec::new(),
        }
    }
}

/// The outcome of waiting: the redirect failed, or the caller's exchange failed.
#[derive(Debug)]
pub enum WaitError<E> {
    Callback(CallbackError),
    Exchange(E),
}

/// Bound, not yet serving, redirect server.
#[derive(Debug)]
pub struct CallbackServer {
    listeners: Vec<TcpListener>,
    port: u16,
}

impl CallbackServer {
    /// Checks the port is free (a connect that succeeds means someone listens, as `sf` checks), then binds
    /// `127.0.0.1:port` and, where IPv6 exists, `[::1]:port`.
    pub fn bind(port: u16, probe_timeout: Duration) -> Result<Self, CallbackError> {
        for ip in [
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(Ipv6Addr::LOCALHOST),
        ] {
            if port != 0
                && TcpStream::connect_timeout(&SocketAddr::new(ip, port), probe_timeout).is_ok()
            {
                return Err(CallbackError::PortInUse { port });
            }
        }
        let v4 =
            TcpListener::bind((Ipv4Addr::LOCALHOST, port)).map_err(|e| bind_error(port, &e))?;
        let port = v4.local_addr().map_err(|e| bind_error(port, &e))?.port();
        let mut listeners = vec![v4];
        match TcpListener::bind((Ipv6Addr::LOCALHOST, port)) {
            Ok(v6) => listeners.push(v6),
            Err(e) if e.kind() == ErrorKind::AddrInUse => {
                return Err(CallbackError::PortInUse { port });
            }
            // No IPv6 loopback on this machine: browsers cannot use it either.
            Err(_) => {}
        }
        for l in &listeners {
            l.set_nonblocking(true).map_err(|e| bind_error(port, &e))?;
        }
        Ok(Self { listeners, port })
    }

    #[cfg(test)]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://localhost:<port>/OauthRedirect`.
    pub fn redirect_uri(&self) -> String {
        redirect_uri(self.port)
    }

    /// Serves until the redirect arrives and `exchange` (code → tokens, saved) has run, or until `timeout`.
    /// On success the browser is sent to `/OauthSuccess`; on failure to `/OauthError`, and the page is served.
    pub fn wait<T, E: std::fmt::Display>(
        self,
        expected_state: &str,
        timeout: Duration,
        exchange: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<T, WaitError<E>> {
        let (tx, rx) = mpsc::channel::<(TcpStream, Option<Request>)>();
        let deadline = Instant::now() + timeout;
        let mut exchange = Some(exchange);
        let mut page_error: Option<(String, String)> = None;
        let mut outcome: Option<Result<T, WaitError<E>>> = None;
        let mut grace_until: Option<Instant> = None;
        loop {
            let now = Instant::now();
            match (&outcome, grace_until) {
                (Some(_), Some(until)) if now >= until => break,
                (Some(_), None) => break,
                (None, _) if now >= deadline => {
                    return Err(WaitError::Callback(CallbackError::Timeout));
                }
                _ => {}
            }
            self.accept_into(&tx);
            let Ok((mut stream, request)) = rx.recv_timeout(TICK) else {
                continue;
            };
            let Some(request) = request else {
                continue; // closed or unreadable connection: nothing to answer
            };
            match route(&request, expected_state) {
                Route::PrivateNetworkPreflight => {
                    respond(
                        &mut stream,
                        "204 No Content",
                        &[
                            ("Access-Control-Allow-Methods", "GET"),
                            ("Access-Control-Request-Headers", "GET"),
                            ("Access-Control-Allow-Private-Network", "true"),
                        ],
                        "",
                        "",
                    );
                }
                Route::Ignored => {} // favicon & co: dropped without an answer
                Route::SuccessPage => {
                    respond(
                        &mut stream,
                        "200 OK",
                        &[],
                        "text/html; charset=utf-8",
                        &pages::success(),
                    );
                    if outcome.as_ref().is_some_and(Result::is_ok) {
                        break;
                    }
                }
                Route::ErrorPage => {
                    let (name, message) = page_error.clone().unwrap_or_else(|| {
                        ("Error".to_owned(), "The login did not complete.".to_owned())
                    });
                    respond(
                        &mut stream,
                        "200 OK",
                        &[],
                        "text/html; charset=utf-8",
                        &pages::error(&name, &message),
                    );
                    if outcome.as_ref().is_some_and(Result::is_err) {
                        break;
                    }
                }
                _ if outcome.is_some() => {
                    // The flow is over; late redirects or strays get a plain 404.
                    respond(&mut stream, "404 Resource not found", &[], "", "");
                }
                Route::Code(code) => {
                    let Some(run) = exchange.take() else { continue };
                    match run(&code) {
                        Ok(value) => {
                            redirect(&mut stream, "/OauthSuccess");
                            outcome = Some(Ok(value));
                        }
                        Err(e) => {
                            page_error = Some(("AuthCodeExchangeError".to_owned(), e.to_string()));
                            redirect(&mut stream, "/OauthError");
                            outcome = Some(Err(WaitError::Exchange(e)));
                        }
                    }
                    grace_until = Some(Instant::now() + PAGE_GRACE);
                }
                Route::Fail(err) => {
                    match &err {
                        CallbackError::Denied { .. } | CallbackError::MissingAuthCode => {
                            page_error = Some((err.name().to_owned(), err.to_string()));
                            redirect(&mut stream, "/OauthError");
                            grace_until = Some(Instant::now() + PAGE_GRACE);
                        }
                        CallbackError::StateMismatch => {
                            respond(&mut stream, "400 urlStateMismatch", &[], "", "");
                        }
                        CallbackError::UnsupportedMethod(_) => {
                            respond(&mut stream, "405 Unsupported http methods", &[], "", "");
                        }
                        _ => respond(&mut stream, "404 Resource not found", &[], "", ""),
                    }
                    outcome = Some(Err(WaitError::Callback(err)));
                }
            }
        }
        // Dropping the listeners closes the server; answered sockets were closed by `respond`.
        outcome.unwrap_or(Err(WaitError::Callback(CallbackError::Timeout)))
    }

    /// Accepts every pending connection and reads its request head on a short-lived thread, so a browser's idle
    /// pre-connection cannot stall the real redirect.
    fn accept_into(&self, tx: &mpsc::Sender<(TcpStream, Option<Request>)>) {
        for listener in &self.listeners {
            while let Ok((stream, _)) = listener.accept() {
                let tx = tx.clone();
                std::thread::spawn(move || {
                    let mut stream = stream;
                    let request = read_request(&mut stream);
                    let _ = tx.send((stream, request));
                });
            }
        }
    }
}

/// `http://localhost:<port>/OauthRedirect`.
pub fn redirect_uri(port: u16) -> String {
    format!("http://localhost:{port}/OauthRedirect")
}

fn bind_error(port: u16, e: &std::io::Error) -> CallbackError {
    if e.kind() == ErrorKind::AddrInUse {
        CallbackError::PortInUse { port }
    } else {
        CallbackError::Bind {
            port,
            reason: e.to_string(),
        }
    }
}

/// A parsed request head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

fn read_request(stream: &mut TcpStream) -> Option<Request> {
    stream.set_nonblocking(false).ok()?;
    stream.set_read_timeout(Some(READ_TIMEOUT)).ok()?;
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    loop {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = find_head_end(&buf) {
            return parse_head(std::str::from_utf8(&buf[..end]).ok()?);
        }
        if buf.len() > MAX_REQUEST_HEAD {
            return None;
        }
    }
}

fn find_head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n")
}

/// Parses `METHOD target HTTP/x.y` and the headers.
pub fn parse_head(head: &str) -> Option<Request> {
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let (Some(method), Some(target), Some(_version)) = (first.next(), first.next(), first.next())
    else {
        return None;
    };
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Some(Request {
        method: method.to_owned(),
        path: path.to_owned(),
        query: sfr_wire::encoding::parse_form(query),
        headers,
    })
}

/// What a request means to the login in progress.
#[derive(Debug, PartialEq, Eq)]
enum Route {
    Code(String),
    Fail(CallbackError),
    SuccessPage,
    ErrorPage,
    PrivateNetworkPreflight,
    Ignored,
}

fn route(req: &Request, expected_state: &str) -> Route {
    if req.method == "OPTIONS"
        && req
            .header("access-control-request-private-network")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    {
        return Route::PrivateNetworkPreflight;
    }
    if req.method != "GET" {
        return Route::Fail(CallbackError::UnsupportedMethod(req.method.clone()));
    }
    match req.path.as_str() {
        "/OauthRedirect" => {
            if let Some(error) = req.param("error") {
                return Route::Fail(CallbackError::Denied {
                    error: error.to_owned(),
                    description: req
                        .param("error_description")
                        .unwrap_or_default()
                        .to_owned(),
                });
            }
            let state = req.param("state").unwrap_or_default();
            if !constant_time_eq(state.as_bytes(), expected_state.as_bytes()) {
                return Route::Fail(CallbackError::StateMismatch);
            }
            match req.param("code") {
                Some(code) if code.len() > 4 => Route::Code(code.to_owned()),
                _ => Route::Fail(CallbackError::MissingAuthCode),
            }
        }
        "/OauthSuccess" => Route::SuccessPage,
        "/OauthError" => Route::ErrorPage,
        "/favicon.ico" | "/apple-touch-icon-precomposed.png" => Route::Ignored,
        other => Route::Fail(CallbackError::InvalidRequestUri(other.to_owned())),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn redirect(stream: &mut TcpStream, location: &str) {
    respond(
        stream,
        "303 See Other",
        &[("Location", location)],
        "text/plain",
        &format!("303 - Redirecting to {location}"),
    );
}

fn respond(
    stream: &mut TcpStream,
    status: &str,
    headers: &[(&str, &str)],
    content_type: &str,
    body: &str,
) {
    let mut out = format!("HTTP/1.1 {status}\r\n");
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    if !content_type.is_empty() {
        out.push_str(&format!("Content-Type: {content_type}\r\n"));
    }
    out.push_str(&format!(
        "Content-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ));
    let _ = stream.set_nonblocking(false);
    let _ = stream.write_all(out.as_bytes());
    let _ = stream.flush();
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::BufRead;

    fn free_server() -> CallbackServer {
        CallbackServer::bind(0, Duration::from_millis(200)).unwrap()
    }

    /// Sends one raw request and returns (status line, headers+body).
    fn send(port: u16, request: &str) -> String {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.write_all(request.as_bytes()).unwrap();
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out
    }

    fn get(port: u16, target: &str) -> String {
        send(
            port,
            &format!("GET {target} HTTP/1.1\r\nHost: localhost:{port}\r\n\r\n"),
        )
    }

    #[test]
    fn redirect_uri_uses_localhost() {
        assert_eq!(redirect_uri(1718), "http://localhost:1718/OauthRedirect");
    }

    #[test]
    fn good_code_runs_the_exchange_then_redirects_to_success() {
        let server = free_server();
        let port = server.port();
        let browser = std::thread::spawn(move || {
            let first = get(port, "/OauthRedirect?code=abcdefgh&state=0123456789ab");
            let page = get(port, "/OauthSuccess");
            (first, page)
        });
        let got = server.wait("0123456789ab", Duration::from_secs(10), |code| {
            Ok::<_, String>(code.to_owned())
        });
        assert_eq!(got.unwrap(), "abcdefgh");
        let (first, page) = browser.join().unwrap();
        assert!(first.starts_with("HTTP/1.1 303 See Other\r\n"), "{first}");
        assert!(first.contains("Location: /OauthSuccess\r\n"));
        assert!(first.contains("Content-Type: text/plain\r\n"));
        assert!(first.ends_with("303 - Redirecting to /OauthSuccess"));
        assert!(page.starts_with("HTTP/1.1 200 OK"));
        assert!(page.contains("Authentication Successful"));
    }

    #[test]
    fn state_mismatch_is_a_400_and_a_clear_error() {
        let server = free_server();
        let port = server.port();
        let browser =
            std::thread::spawn(move || get(port, "/OauthRedirect?code=abcdefgh&state=wrong"));
        let got = server.wait("0123456789ab", Duration::from_secs(10), |_| {
            Ok::<(), String>(())
        });
        assert!(matches!(
            got,
            Err(WaitError::Callback(CallbackError::StateMismatch))
        ));
        let resp = browser.join().unwrap();
        assert!(
            resp.starts_with("HTTP/1.1 400 urlStateMismatch\r\n"),
            "{resp}"
        );
        assert!(resp.ends_with("\r\n\r\n"), "empty body: {resp}");
    }

    #[test]
    fn short_code_is_missing_auth_code() {
        let server = free_server();
        let port = server.port();
        let browser = std::thread::spawn(move || get(port, "/OauthRedirect?code=abcd&state=s1"));
        let got = server.wait("s1", Duration::from_secs(10), |_| Ok::<(), String>(()));
        match got {
            Err(WaitError::Callback(e)) => {
                assert_eq!(e, CallbackError::MissingAuthCode);
                assert_eq!(
                    e.to_string(),
                    "No authentication code found on login response."
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(browser.join().unwrap().contains("Location: /OauthError"));
    }

    #[test]
    fn org_error_redirects_to_the_error_page_naming_it() {
        let server = free_server();
        let port = server.port();
        let browser = std::thread::spawn(move || {
            let first = get(
                port,
                "/OauthRedirect?error=access_denied&error_description=end-user%20denied%20authorization&state=x",
            );
            (first, get(port, "/OauthError"))
        });
        let got = server.wait("s1", Duration::from_secs(10), |_| Ok::<(), String>(()));
        match got {
            Err(WaitError::Callback(e)) => {
                assert_eq!(e.name(), "access_denied");
                assert_eq!(e.to_string(), "end-user denied authorization");
            }
            other => panic!("{other:?}"),
        }
        let (first, page) = browser.join().unwrap();
        assert!(first.starts_with("HTTP/1.1 303"), "{first}");
        assert!(first.ends_with("303 - Redirecting to /OauthError"));
        assert!(page.contains("access_denied") && page.contains("end-user denied authorization"));
    }

    #[test]
    fn exchange_failure_shows_the_error_page() {
        let server = free_server();
        let port = server.port();
        let browser = std::thread::spawn(move || {
            let first = get(port, "/OauthRedirect?code=abcdefgh&state=s1");
            (first, get(port, "/OauthError"))
        });
        let got = server.wait("s1", Duration::from_secs(10), |_| {
            Err::<(), _>("invalid_grant::invalid <authorization> code".to_owned())
        });
        assert!(matches!(got, Err(WaitError::Exchange(ref m)) if m.contains("invalid_grant")));
        let (first, page) = browser.join().unwrap();
        assert!(first.contains("Location: /OauthError"));
        assert!(
            page.contains("invalid &lt;authorization&gt; code"),
            "escaped: {page}"
        );
    }

    #[test]
    fn unknown_path_is_404_and_fails() {
        let server = free_server();
        let port = server.port();
        let browser = std::thread::spawn(move || get(port, "/elsewhere?x=1"));
        let got = server.wait("s1", Duration::from_secs(10), |_| Ok::<(), String>(()));
        assert!(
            matches!(got, Err(WaitError::Callback(CallbackError::InvalidRequestUri(ref p))) if p == "/elsewhere")
        );
        assert!(
            browser
                .join()
                .unwrap()
                .starts_with("HTTP/1.1 404 Resource not found\r\n")
        );
    }

    #[test]
    fn other_methods_are_405_and_preflight_is_204() {
        let server = free_server();
        let port = server.port();
        let browser = std::thread::spawn(move || {
            let pre = send(
                port,
                "OPTIONS /OauthRedirect HTTP/1.1\r\nAccess-Control-Request-Private-Network: true\r\n\r\n",
            );
            // Ignored paths get no answer at all; the login keeps waiting.
            let fav = get(port, "/favicon.ico");
            let post = send(
                port,
                "POST /OauthRedirect HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
            );
            (pre, fav, post)
        });
        let got = server.wait("s1", Duration::from_secs(10), |_| Ok::<(), String>(()));
        assert!(
            matches!(got, Err(WaitError::Callback(CallbackError::UnsupportedMethod(ref m))) if m == "POST")
        );
        let (pre, fav, post) = browser.join().unwrap();
        assert!(pre.starts_with("HTTP/1.1 204"), "{pre}");
        assert!(pre.contains("Access-Control-Allow-Methods: GET\r\n"));
        assert!(pre.contains("Access-Control-Request-Headers: GET\r\n"));
        assert_eq!(fav, "");
        assert!(
            post.starts_with("HTTP/1.1 405 Unsupported http methods"),
            "{post}"
        );
    }

    #[test]
    fn times_out_and_an_idle_connection_does_not_block() {
        let server = free_server();
        let port = server.port();
        let _idle = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let started = Instant::now();
        let got = server.wait("s1", Duration::from_millis(300), |_| Ok::<(), String>(()));
        assert!(matches!(
            got,
            Err(WaitError::Callback(CallbackError::Timeout))
        ));
        assert!(started.elapsed() < Duration::from_secs(3));
    }

    #[test]
    fn a_listening_port_is_reported_in_use() {
        let taken = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        let err = CallbackServer::bind(port, Duration::from_millis(500)).unwrap_err();
        assert_eq!(err, CallbackError::PortInUse { port });
        assert_eq!(
            err.to_string(),
            format!("Cannot start the OAuth redirect server on port {port}.")
        );
        assert!(err.actions()[0].contains("oauthLocalPort"));
    }

    #[test]
    fn ipv6_loopback_is_served_when_available() {
        let server = free_server();
        let port = server.port();
        if TcpStream::connect(("::1", port)).is_err() {
            return; // no IPv6 loopback on this host
        }
        let browser = std::thread::spawn(move || {
            let mut s = TcpStream::connect(("::1", port)).unwrap();
            s.write_all(b"GET /OauthRedirect?code=abcdefgh&state=s1 HTTP/1.1\r\n\r\n")
                .unwrap();
            let mut line = String::new();
            std::io::BufReader::new(s).read_line(&mut line).unwrap();
            line
        });
        let got = server.wait("s1", Duration::from_secs(5), |c| Ok::<_, String>(c.len()));
        assert_eq!(got.unwrap(), 8);
        assert!(browser.join().unwrap().starts_with("HTTP/1.1 303"));
    }

    #[test]
    fn parses_heads() {
        let r = parse_head("GET /OauthRedirect?code=a%2Bb&state=x HTTP/1.1\r\nHost: h\r\nX-A:  v ")
            .unwrap();
        assert_eq!(r.path, "/OauthRedirect");
        assert_eq!(r.param("code"), Some("a+b"));
        assert_eq!(r.header("x-a"), Some("v"));
        assert!(parse_head("garbage").is_none());
    }
}
