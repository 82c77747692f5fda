//! `sfr-org serve`: open the org, bind, serve the router (plain HTTP or TLS), purge expired tokens now and
//! then, and shut down gracefully. [`RunningServer::start`] is also the in-process API tests use (port 0).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::bootstrap::{self, Bootstrapped, OpenError};
use crate::clock::{Clock, SystemClock};
use crate::state::{AppState, OrgConfig};
use crate::store::DatabaseUrl;

/// How often expired codes and tokens are deleted.
const PURGE_EVERY: Duration = Duration::from_secs(600);

/// TLS certificate chain and private key (PEM files).
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Everything `serve` needs.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// `HOST:PORT`; `localhost:PORT` binds 127.0.0.1 and ::1 (::1 only when available). Port 0 picks one.
    pub listen: String,
    pub database: DatabaseUrl,
    /// Public base URL; default `http://localhost:<port>` (or the listen IP when one is given), `https` with TLS.
    pub public_url: Option<String>,
    pub key_file: Option<PathBuf>,
    pub tls: Option<TlsFiles>,
    pub clock: Arc<dyn Clock>,
    /// Token-endpoint rate limits, shared by every node on the database (counted in memory, flushed every
    /// `rate_limit::SYNC_EVERY`).
    pub rate_limits: crate::http::rate_limit::RateLimits,
    /// How long a client may take to send a request's head before the connection is closed (slow clients).
    pub header_read_timeout: Duration,
}

/// Default for [`ServeConfig::header_read_timeout`].
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(20);

impl ServeConfig {
    /// Loopback on a free port, real clock, the given database.
    pub fn for_tests(database: DatabaseUrl) -> Self {
        Self {
            listen: "127.0.0.1:0".to_owned(),
            database,
            public_url: None,
            key_file: None,
            tls: None,
            clock: Arc::new(SystemClock),
            rate_limits: crate::http::rate_limit::RateLimits::default(),
            header_read_timeout: HEADER_READ_TIMEOUT,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error("invalid --listen {0:?}: expected HOST:PORT, e.g. localhost:8901 or 127.0.0.1:0")]
    Listen(String),
    #[error("cannot listen on {addr}: {message}")]
    Bind { addr: String, message: String },
    #[error(
        "invalid --public-url {0:?}: expected an absolute http(s) URL such as https://localhost:8901"
    )]
    PublicUrl(String),
    #[error("cannot load TLS files: {0}")]
    Tls(String),
}

/// A server running in this process.
pub struct RunningServer {
    /// Public base URL without a trailing slash.
    pub base_url: String,
    /// The addresses actually bound.
    pub local_addrs: Vec<SocketAddr>,
    pub state: AppState,
    /// Admin credentials, when this start created the org.
    pub bootstrapped: Option<Bootstrapped>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for RunningServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningServer")
            .field("base_url", &self.base_url)
            .field("local_addrs", &self.local_addrs)
            .finish_non_exhaustive()
    }
}

/// Splits `HOST:PORT` (IPv6 in brackets).
fn split_listen(listen: &str) -> Result<(String, u16), ServeError> {
    let bad = || ServeError::Listen(listen.to_owned());
    let (host, port) = listen.rsplit_once(':').ok_or_else(bad)?;
    let port: u16 = port.parse().map_err(|_| bad())?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(bad());
    }
    Ok((host.to_owned(), port))
}

async fn bind(listen: &str) -> Result<(Vec<TcpListener>, String), ServeError> {
    let (host, port) = split_listen(listen)?;
    let bind_err = |addr: SocketAddr, e: std::io::Error| ServeError::Bind {
        addr: addr.to_string(),
        message: e.to_string(),
    };
    if host.eq_ignore_ascii_case("localhost") {
        let v4 = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port);
        let first = TcpListener::bind(v4).await.map_err(|e| bind_err(v4, e))?;
        let port = first.local_addr().map_err(|e| bind_err(v4, e))?.port();
        let mut listeners = vec![first];
        let v6 = SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), port);
        match TcpListener::bind(v6).await {
            Ok(l) => listeners.push(l),
            Err(e) => tracing::info!(error = %e, "::1 unavailable; listening on 127.0.0.1 only"),
        }
        return Ok((listeners, "localhost".to_owned()));
    }
    let ip: IpAddr = match host.parse() {
        Ok(ip) => ip,
        Err(_) => tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(|e| ServeError::Bind {
                addr: listen.to_owned(),
                message: e.to_string(),
            })?
            .next()
            .map(|a| a.ip())
            .ok_or_else(|| ServeError::Listen(listen.to_owned()))?,
    };
    let addr = SocketAddr::new(ip, port);
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| bind_err(addr, e))?;
    let url_host = match ip {
        ip if ip.is_unspecified() => "localhost".to_owned(),
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    };
    Ok((vec![listener], url_host))
}

fn load_tls(files: &TlsFiles) -> Result<Arc<rustls::ServerConfig>, ServeError> {
    use rustls_pki_types::pem::PemObject as _;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|e| ServeError::Tls(format!("{}: {e}", files.cert.display())))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ServeError::Tls(format!("{}: {e}", files.cert.display())))?;
    if certs.is_empty() {
        return Err(ServeError::Tls(format!(
            "{} holds no CERTIFICATE block",
            files.cert.display()
        )));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| ServeError::Tls(format!("{}: {e}", files.key.display())))?;
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| ServeError::Tls(e.to_string()))?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .map_err(|e| ServeError::Tls(format!("certificate and key do not fit together: {e}")))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

impl RunningServer {
    /// Opens the org, binds and starts serving in the background.
    pub async fn start(config: ServeConfig) -> Result<Self, ServeError> {
        let tls = config.tls.as_ref().map(load_tls).transpose()?;
        let opened = {
            let database = config.database.clone();
            let key_file = config.key_file.clone();
            let clock = Arc::clone(&config.clock);
            tokio::task::spawn_blocking(move || {
                bootstrap::open_org(&database, key_file.as_deref(), clock.as_ref())
            })
            .await
            .map_err(|e| OpenError::Bootstrap(e.to_string()))??
        };
        let (listeners, url_host) = bind(&config.listen).await?;
        let local_addrs: Vec<SocketAddr> = listeners
            .iter()
            .filter_map(|l| l.local_addr().ok())
            .collect();
        let port = local_addrs.first().map(|a| a.port()).unwrap_or_default();
        let base_url = match &config.public_url {
            Some(url) => {
                let parsed = url::Url::parse(url)
                    .ok()
                    .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
                    .ok_or_else(|| ServeError::PublicUrl(url.clone()))?;
                parsed.as_str().trim_end_matches('/').to_owned()
            }
            None => {
                let scheme = if tls.is_some() { "https" } else { "http" };
                format!("{scheme}://{url_host}:{port}")
            }
        };
        let state = AppState::new(crate::state::SharedState {
            store: opened.store,
            keys: opened.keys,
            config: Arc::new(OrgConfig::new(&base_url, opened.org.id.clone())),
            clock: config.clock,
            signing_key: Arc::new(opened.signing_key),
            certificates: Arc::default(),
        });
        let limiter = crate::http::rate_limit::TokenRateLimiter::new(config.rate_limits);
        let router = crate::http::router_with_limiter(state.clone(), Arc::clone(&limiter));
        let header_read_timeout = config.header_read_timeout;
        let (shutdown, watcher) = watch::channel(false);
        let mut tasks = Vec::new();
        for listener in listeners {
            let router = router.clone();
            let stop = watcher.clone();
            // One accept loop for plain HTTP and TLS: hyper with a timer, so a client that trickles its request
            // head is cut off after `header_read_timeout` (axum::serve sets no timer, hence no such timeout).
            let acceptor = tls
                .as_ref()
                .map(|tls| tokio_rustls::TlsAcceptor::from(Arc::clone(tls)));
            let task = tokio::spawn(serve_tls(
                listener,
                acceptor,
                router,
                stop,
                header_read_timeout,
            ));
            tasks.push(task);
        }
        tasks.push(tokio::spawn(crate::http::rate_limit::sync_loop(
            limiter,
            Arc::clone(&state.store),
            watcher.clone(),
        )));
        tasks.push(tokio::spawn(purge_loop(state.clone(), watcher)));
        Ok(Self {
            base_url,
            local_addrs,
            state,
            bootstrapped: opened.bootstrapped,
            shutdown,
            tasks,
        })
    }

    pub fn port(&self) -> u16 {
        self.local_addrs
            .first()
            .map(|a| a.port())
            .unwrap_or_default()
    }

    /// Stops accepting, lets in-flight requests finish, and waits for the server tasks.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

async fn serve_tls(
    listener: TcpListener,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    router: axum::Router,
    mut stop: watch::Receiver<bool>,
    header_read_timeout: Duration,
) {
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    continue;
                }
            },
            _ = stop.wait_for(|s| *s) => return,
        };
        let acceptor = acceptor.clone();
        let router = router.clone();
        tokio::spawn(async move {
            let Some(acceptor) = acceptor else {
                serve_connection(tcp, peer, router, header_read_timeout).await;
                return;
            };
            let handshake = tokio::time::timeout(header_read_timeout, acceptor.accept(tcp));
            let stream = match handshake.await {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => {
                    tracing::debug!(error = %e, %peer, "TLS handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::debug!(%peer, "TLS handshake timed out");
                    return;
                }
            };
            serve_connection(stream, peer, router, header_read_timeout).await;
        });
    }
}

/// Serves one connection (HTTP/1.1 or HTTP/2) with the peer address available to handlers.
async fn serve_connection<IO>(
    stream: IO,
    peer: SocketAddr,
    router: axum::Router,
    header_read_timeout: Duration,
) where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service =
        hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            let router = router.clone();
            async move {
                use tower::ServiceExt as _;
                router.oneshot(req.map(axum::body::Body::new)).await
            }
        });
    let mut builder =
        hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
    builder
        .http1()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    builder
        .http2()
        .timer(hyper_util::rt::TokioTimer::new())
        .keep_alive_interval(header_read_timeout)
        .keep_alive_timeout(header_read_timeout);
    if let Err(e) = builder
        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
        .await
    {
        tracing::debug!(error = %e, %peer, "connection ended with an error");
    }
}

async fn purge_loop(state: AppState, mut stop: watch::Receiver<bool>) {
    loop {
        let now = state.now();
        match state.store_call(move |s| s.purge_expired(now)).await {
            Ok(p) => tracing::debug!(
                codes = p.codes,
                access_tokens = p.access_tokens,
                refresh_tokens = p.refresh_tokens,
                events = p.events,
                "purged expired credentials"
            ),
            Err(e) => tracing::warn!(error = %e, "purge failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(PURGE_EVERY) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}
