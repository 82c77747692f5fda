//! A small blocking connection pool: at most `size` connections, made on demand, handed out one per use case
//! and returned afterwards. A connection that broke (server restart, failover) is dropped instead of returned.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use postgres::{Client, Config, NoTls};

use crate::store::StoreError;

/// How long a use case waits for a free connection before it fails.
const CHECKOUT_TIMEOUT: Duration = Duration::from_secs(30);

struct Slots {
    idle: Vec<Client>,
    /// Connections in existence: idle plus handed out.
    open: usize,
}

pub(super) struct Pool {
    config: Config,
    size: usize,
    /// The URL without its password, for messages.
    shown: String,
    slots: Mutex<Slots>,
    freed: Condvar,
}

/// A connection on loan; goes back to the pool on drop (unless it is closed).
pub(super) struct Pooled<'a> {
    pool: &'a Pool,
    client: Option<Client>,
}

impl Pooled<'_> {
    pub(super) fn client(&mut self) -> &mut Client {
        self.client
            .as_mut()
            .expect("a pooled connection is present until drop")
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        let Some(client) = self.client.take() else {
            return;
        };
        let mut slots = self.pool.lock();
        if client.is_closed() {
            slots.open -= 1;
        } else {
            slots.idle.push(client);
        }
        drop(slots);
        self.pool.freed.notify_one();
    }
}

impl Pool {
    pub(super) fn new(config: Config, size: usize, shown: String) -> Self {
        Self {
            config,
            size: size.max(1),
            shown,
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
            while let Some(client) = slots.idle.pop() {
                if client.is_closed() {
                    slots.open -= 1;
                    continue;
                }
                return Ok(Pooled {
                    pool: self,
                    client: Some(client),
                });
            }
            if slots.open < self.size {
                slots.open += 1;
                drop(slots);
                return match self.config.connect(NoTls) {
                    Ok(client) => Ok(Pooled {
                        pool: self,
                        client: Some(client),
                    }),
                    Err(e) => {
                        self.lock().open -= 1;
                        self.freed.notify_one();
                        Err(StoreError::Database(format!(
                            "cannot connect to PostgreSQL at {}: {e}",
                            self.shown
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
        let n = slots.idle.len();
        slots.idle.clear();
        slots.open -= n;
        drop(slots);
        self.freed.notify_all();
    }
}
