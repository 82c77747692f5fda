//! Connections the server's own runtime drives, for what a token request waits on (`Store::*_async`): a grant's
//! or a bearer check's statements, and the code exchange's transaction (`Transaction`).
//!
//! The blocking driver (`postgres::Client`, the rest of this backend) runs a small runtime per connection and
//! blocks on it, so a request handler had to hop to the blocking pool and back for every use case: two thread
//! hand-offs and a runtime's worth of polling, 100–160 µs of the node's CPU per client_credentials grant whose
//! statement is one round trip. Here a statement is sent and its answer awaited on the worker thread serving
//! the request, and each connection's socket is polled by a task on the same runtime.
//!
//! A connection belongs to the runtime that made it: its task stops with that runtime, and the connection then
//! reads as closed and is dropped when next taken. The pool holds at most `size` connections, as many as the
//! blocking pool (so a node opens at most twice its `pool_size`: `docs/operating-postgres.md`).

use std::borrow::BorrowMut;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_postgres::{Client, Config, Error, GenericClient, IsolationLevel, NoTls, Row, Statement};

use super::Fail;
use super::round_trips::RoundTrips;
use super::session::{Params, Run, Statements};
use super::tls::RustlsConnect;
use crate::store::StoreError;

/// How long a statement waits for a free connection before it fails (as the blocking pool's checkout).
const CHECKOUT_TIMEOUT: Duration = Duration::from_secs(30);

/// A client — a connection, or a transaction on one — with its connection's prepared statements, by SQL text
/// (see `session`): each SQL text is prepared once per connection.
pub(super) struct WithStatements<C, S> {
    client: C,
    statements: S,
}

/// A pooled connection.
pub(super) type Conn = WithStatements<Client, Statements>;

/// A transaction on a pooled connection (rolled back if dropped before `commit`).
pub(super) type Transaction<'c> =
    WithStatements<tokio_postgres::Transaction<'c>, &'c mut Statements>;

impl Conn {
    /// A `SERIALIZABLE` transaction on this connection.
    pub(super) async fn serializable(&mut self) -> Result<Transaction<'_>, Error> {
        self.statements.sent();
        let tx = self
            .client
            .build_transaction()
            .isolation_level(IsolationLevel::Serializable)
            .start()
            .await?;
        Ok(WithStatements {
            client: tx,
            statements: &mut self.statements,
        })
    }
}

impl Transaction<'_> {
    /// Commits. A connection lost during the commit leaves its outcome unknown: that is a final error (the use
    /// case may have been stored, and running it again could store it twice), not one to retry.
    pub(super) async fn commit(self) -> Result<(), Fail> {
        self.statements.sent();
        self.client.commit().await.map_err(|e| {
            if super::is_connection_loss(&e) {
                Fail::Store(StoreError::Database(format!(
                    "the connection to PostgreSQL was lost while committing, so whether this was stored is \
                     unknown: {}",
                    super::pool::with_causes(&e)
                )))
            } else {
                Fail::Pg(e)
            }
        })
    }
}

impl<C: GenericClient + Sync, S: BorrowMut<Statements>> WithStatements<C, S> {
    /// The statement for `sql`, prepared now if this connection has not yet, and counted as sent: every caller
    /// executes it next.
    async fn prepared(&mut self, sql: &str) -> Result<Statement, Error> {
        let known = self.statements.borrow().get(sql);
        let statement = match known {
            Some(statement) => statement,
            None => {
                let statement = self.client.prepare(sql).await?;
                self.statements.borrow_mut().insert(sql, statement.clone());
                statement
            }
        };
        self.statements.borrow().sent();
        Ok(statement)
    }
}

impl<C: GenericClient + Send + Sync, S: BorrowMut<Statements> + Send> Run for WithStatements<C, S> {
    async fn execute(&mut self, sql: &str, params: Params<'_>) -> Result<u64, Error> {
        let statement = self.prepared(sql).await?;
        self.client.execute(&statement, params).await
    }

    async fn query_one(&mut self, sql: &str, params: Params<'_>) -> Result<Row, Error> {
        let statement = self.prepared(sql).await?;
        self.client.query_one(&statement, params).await
    }

    async fn query_opt(&mut self, sql: &str, params: Params<'_>) -> Result<Option<Row>, Error> {
        let statement = self.prepared(sql).await?;
        self.client.query_opt(&statement, params).await
    }
}

pub(super) struct Pool {
    config: Config,
    tls: Option<RustlsConnect>,
    size: usize,
    trips: RoundTrips,
    /// The URL without its password, for messages.
    shown: String,
    idle: Mutex<Vec<Conn>>,
    /// One per connection that may exist; a loan holds one.
    permits: Arc<Semaphore>,
}

/// A connection on loan; goes back to the pool on drop unless it closed.
pub(super) struct Loan {
    pool: Arc<Pool>,
    conn: Option<Conn>,
    _permit: OwnedSemaphorePermit,
}

impl std::ops::Deref for Loan {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        self.conn
            .as_ref()
            .expect("a loaned connection is present until drop")
    }
}

impl std::ops::DerefMut for Loan {
    fn deref_mut(&mut self) -> &mut Conn {
        self.conn
            .as_mut()
            .expect("a loaned connection is present until drop")
    }
}

impl Drop for Loan {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take()
            && !conn.client.is_closed()
        {
            self.pool.idle().push(conn);
        }
    }
}

impl Pool {
    pub(super) fn new(
        config: Config,
        tls: Option<RustlsConnect>,
        size: usize,
        shown: String,
        trips: RoundTrips,
    ) -> Arc<Self> {
        let size = size.max(1);
        Arc::new(Self {
            config,
            tls,
            size,
            trips,
            shown,
            idle: Mutex::new(Vec::new()),
            permits: Arc::new(Semaphore::new(size)),
        })
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<Conn>> {
        // Every change under the lock is one push or pop: a panic cannot leave the list half-changed.
        self.idle.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// An idle connection that is still open, else a new one; waits while `size` are on loan.
    pub(super) async fn get(self: &Arc<Self>) -> Result<Loan, StoreError> {
        let permit = match tokio::time::timeout(
            CHECKOUT_TIMEOUT,
            Arc::clone(&self.permits).acquire_owned(),
        )
        .await
        {
            Ok(Ok(permit)) => permit,
            Ok(Err(_)) | Err(_) => {
                return Err(StoreError::Database(format!(
                    "all {} connections to {} stayed busy for {} s; raise pool_size in the database URL \
                         or max_connections on the server",
                    self.size,
                    self.shown,
                    CHECKOUT_TIMEOUT.as_secs()
                )));
            }
        };
        let reused = {
            let mut idle = self.idle();
            std::iter::from_fn(|| idle.pop()).find(|c| !c.client.is_closed())
        };
        let conn = match reused {
            Some(conn) => conn,
            None => self.connect().await?,
        };
        Ok(Loan {
            pool: Arc::clone(self),
            conn: Some(conn),
            _permit: permit,
        })
    }

    /// Drops every idle connection (after one broke: the others very likely did too).
    pub(super) fn clear_idle(&self) {
        self.idle().clear();
    }

    async fn connect(&self) -> Result<Conn, StoreError> {
        let connected = match &self.tls {
            Some(tls) => self
                .config
                .connect(tls.clone())
                .await
                .map(|(client, connection)| {
                    drive(connection);
                    client
                }),
            None => self
                .config
                .connect(NoTls)
                .await
                .map(|(client, connection)| {
                    drive(connection);
                    client
                }),
        };
        match connected {
            Ok(client) => Ok(Conn {
                client,
                statements: Statements::new(self.trips.clone()),
            }),
            Err(e) => Err(StoreError::Database(format!(
                "cannot connect to PostgreSQL at {}: {}",
                self.shown,
                super::pool::with_causes(&e)
            ))),
        }
    }
}

/// Polls a connection's socket on this runtime until the connection ends (its client dropped, the server gone).
fn drive<F>(connection: F)
where
    F: std::future::Future<Output = Result<(), Error>> + Send + 'static,
{
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!(error = %e, "a database connection ended");
        }
    });
}
