//! A small blocking connection pool: at most `size` connections, made on demand, handed out one per use case
//! and returned afterwards. A connection that broke (server restart, failover) is dropped instead of returned.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use postgres::{Client, Config, NoTls};

use super::round_trips::RoundTrips;
use super::session::Statements;
use crate::store::StoreError;

/// How long a use case waits for a free connection before it fails.
const CHECKOUT_TIMEOUT: Duration = Duration::from_secs(30);

/// A connection and the statements prepared on it.
struct Conn {
    client: Client,
    statements: Statements,
}

struct Slots {
    idle: Vec<Conn>,
    /// Connections in existence: idle plus handed out.
    open: usize,
}

pub(super) struct Pool {
    config: Config,
    /// TLS as the URL asks (`sslmode=require`/`verify-ca`/`verify-full`); `None`: plain TCP.
    tls: Option<super::tls::RustlsConnect>,
    size: usize,
    /// The URL without its password, for messages.
    shown: String,
    trips: RoundTrips,
    slots: Mutex<Slots>,
    freed: Condvar,
}

/// A connection on loan; goes back to the pool on drop (unless it is closed).
pub(super) struct Pooled<'a> {
    pool: &'a Pool,
    conn: Option<Conn>,
}

impl Pooled<'_> {
    pub(super) fn client(&mut self) -> &mut Client {
        self.parts().0
    }

    /// The connection and its prepared statements, borrowed apart (a transaction holds the one, uses the other).
    pub(super) fn parts(&mut self) -> (&mut Client, &mut Statements) {
        let conn = self
            .conn
            .as_mut()
            .expect("a pooled connection is present until drop");
        (&mut conn.client, &mut conn.statements)
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        let mut slots = self.pool.lock();
        if conn.client.is_closed() {
            slots.open -= 1;
            drop(slots);
            discard(vec![conn]);
        } else {
            slots.idle.push(conn);
            drop(slots);
        }
        self.pool.freed.notify_one();
    }
}

/// Closes connections on a thread of their own. Closing one blocks on the driver's runtime, which panics on a
/// thread that drives async tasks — and the last handle to a store may well be dropped on such a thread (a
/// server shutting down).
fn discard(clients: Vec<Conn>) {
    if clients.is_empty() {
        return;
    }
    let handed = std::sync::Arc::new(Mutex::new(Some(clients)));
    let theirs = std::sync::Arc::clone(&handed);
    let spawned = std::thread::Builder::new()
        .name("sfr-org-pg-close".into())
        .spawn(move || drop(theirs.lock().ok().and_then(|mut c| c.take())));
    if let Err(e) = spawned {
        // Without a thread, leave the sockets to the OS rather than risk the panic.
        tracing::warn!(error = %e, "cannot close database connections cleanly");
        if let Some(clients) = handed.lock().ok().and_then(|mut c| c.take()) {
            std::mem::forget(clients);
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        let idle = std::mem::take(&mut self.lock().idle);
        discard(idle);
    }
}

/// The driver's error with its causes (its `Display` leaves them out: "error performing TLS handshake" alone
/// does not say that the certificate names another host).
pub(super) fn with_causes(e: &postgres::Error) -> String {
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

impl Pool {
    pub(super) fn new(
        config: Config,
        tls: Option<super::tls::RustlsConnect>,
        size: usize,
        shown: String,
        trips: RoundTrips,
    ) -> Self {
        Self {
            config,
            tls,
            size: size.max(1),
            shown,
            trips,
            slots: Mutex::new(Slots {
                idle: Vec::new(),
                open: 0,
            }),
            freed: Condvar::new(),
        }
    }

    pub(super) fn size(&self) -> usize {
        self.size
    }

    fn lock(&self) -> MutexGuard<'_, Slots> {
        // A panic while holding the lock cannot leave `Slots` inconsistent (every change is one statement).
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// An idle connection, a new one if the pool is not full, else the next one returned.
    pub(super) fn get(&self) -> Result<Pooled<'_>, StoreError> {
        let deadline = Instant::now() + CHECKOUT_TIMEOUT;
        let mut slots = self.lock();
        loop {
            while let Some(conn) = slots.idle.pop() {
                if conn.client.is_closed() {
                    slots.open -= 1;
                    continue;
                }
                return Ok(Pooled {
                    pool: self,
                    conn: Some(conn),
                });
            }
            if slots.open < self.size {
                slots.open += 1;
                drop(slots);
                let connected = match &self.tls {
                    Some(tls) => self.config.connect(tls.clone()),
                    None => self.config.connect(NoTls),
                };
                return match connected {
                    Ok(client) => Ok(Pooled {
                        pool: self,
                        conn: Some(Conn {
                            client,
                            statements: Statements::new(self.trips.clone()),
                        }),
                    }),
                    Err(e) => {
                        self.lock().open -= 1;
                        self.freed.notify_one();
                        Err(StoreError::Database(format!(
                            "cannot connect to PostgreSQL at {}: {}",
                            self.shown,
                            with_causes(&e)
                        )))
                    }
                };
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(StoreError::Database(format!(
                    "all {} connections to {} stayed busy for {} s; raise pool_size in the database URL or \
                     max_connections on the server",
                    self.size,
                    self.shown,
                    CHECKOUT_TIMEOUT.as_secs()
                )));
            }
            slots = self
                .freed
                .wait_timeout(slots, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// Drops every idle connection (after one broke: the others very likely did too).
    pub(super) fn clear_idle(&self) {
        let mut slots = self.lock();
        let idle = std::mem::take(&mut slots.idle);
        slots.open -= idle.len();
        drop(slots);
        discard(idle);
        self.freed.notify_all();
    }
}
