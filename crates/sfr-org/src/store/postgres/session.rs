//! A use case's transaction with its connection's prepared statements.
//!
//! The driver's `execute("SQL", …)` prepares an unnamed statement on every call: a Parse/Describe round trip to
//! the server before the Bind/Execute one, and the server plans the query again each time. A grant runs a few
//! statements, so half its round trips went to preparing the same SQL texts again. Each pooled connection keeps
//! the statements it prepared, by SQL text; a use case's statements are prepared once per connection and then
//! only bound and executed. The set is bounded by the SQL texts in this module tree (a few dozen).
//!
//! Named prepared statements live on a server session, so a pooler between the nodes and PostgreSQL must keep
//! one server session per client connection (PgBouncer in session mode, or 1.21+ with
//! `max_prepared_statements` in transaction mode); `docs/operating-postgres.md` says so.

use std::collections::HashMap;
use std::future::Future;

use postgres::types::ToSql;
use postgres::{Client, Error, Row, Statement, Transaction};

use super::round_trips::RoundTrips;

/// The same call on a transaction or on the bare connection.
macro_rules! on {
    ($session:ident, $c:ident => $call:expr) => {
        match &mut $session.on {
            On::Transaction($c) => $call,
            On::Autocommit($c) => $call,
        }
    };
}

/// A connection's prepared statements, by SQL text, and the store's count of round trips (every statement sent
/// on the connection is counted in it).
pub(super) struct Statements {
    by_sql: HashMap<Box<str>, Statement>,
    trips: RoundTrips,
}

impl Statements {
    pub(super) fn new(trips: RoundTrips) -> Self {
        Self {
            by_sql: HashMap::new(),
            trips,
        }
    }

    pub(super) fn get(&self, sql: &str) -> Option<Statement> {
        self.by_sql.get(sql).cloned()
    }

    /// Keeps a statement just prepared (its preparation was a round trip).
    pub(super) fn insert(&mut self, sql: &str, statement: Statement) {
        self.trips.one();
        self.by_sql.insert(sql.into(), statement);
    }

    /// Counts one statement sent on the connection.
    pub(super) fn sent(&self) {
        self.trips.one();
    }
}

/// A transaction (or a single statement in autocommit) that prepares each SQL text once per connection.
pub(super) struct Session<'t> {
    on: On<'t>,
    statements: &'t mut Statements,
}

enum On<'t> {
    Transaction(Transaction<'t>),
    /// No `BEGIN`/`COMMIT`: each statement is its own transaction (for a use case of one statement, two round
    /// trips fewer).
    Autocommit(&'t mut Client),
}

pub(super) type Params<'p> = &'p [&'p (dyn ToSql + Sync)];

/// Running prepared statements on a blocking session (`Session`: a use case on the blocking pool) or on a
/// connection the server's runtime drives (`nonblocking::Conn`: a grant's one statement, awaited on the request's
/// own thread). A statement's SQL and the decoding of its rows are written once, as an `async fn` over this
/// trait; a blocking caller runs it with `at_once`, since on a `Session` every step is ready at once.
pub(super) trait Run {
    fn execute(
        &mut self,
        sql: &str,
        params: Params<'_>,
    ) -> impl Future<Output = Result<u64, Error>> + Send;
    fn query_one(
        &mut self,
        sql: &str,
        params: Params<'_>,
    ) -> impl Future<Output = Result<Row, Error>> + Send;
    fn query_opt(
        &mut self,
        sql: &str,
        params: Params<'_>,
    ) -> impl Future<Output = Result<Option<Row>, Error>> + Send;
}

impl Run for Session<'_> {
    fn execute(
        &mut self,
        sql: &str,
        params: Params<'_>,
    ) -> impl Future<Output = Result<u64, Error>> + Send {
        std::future::ready(Session::execute(self, sql, params))
    }
    fn query_one(
        &mut self,
        sql: &str,
        params: Params<'_>,
    ) -> impl Future<Output = Result<Row, Error>> + Send {
        std::future::ready(Session::query_one(self, sql, params))
    }
    fn query_opt(
        &mut self,
        sql: &str,
        params: Params<'_>,
    ) -> impl Future<Output = Result<Option<Row>, Error>> + Send {
        std::future::ready(Session::query_opt(self, sql, params))
    }
}

/// Statements written over `Run`, run on a `Session`: every step is ready when first polled.
pub(super) use crate::store::ready_steps::at_once;

impl<'t> Session<'t> {
    /// A session on a transaction just begun (its `BEGIN` is counted here).
    pub(super) fn new(tx: Transaction<'t>, statements: &'t mut Statements) -> Self {
        statements.sent();
        Self {
            on: On::Transaction(tx),
            statements,
        }
    }

    pub(super) fn autocommit(client: &'t mut Client, statements: &'t mut Statements) -> Self {
        Self {
            on: On::Autocommit(client),
            statements,
        }
    }

    /// Commits the transaction (in autocommit, every statement already did).
    pub(super) fn commit(self) -> Result<(), Error> {
        match self.on {
            On::Transaction(tx) => {
                self.statements.sent();
                tx.commit()
            }
            On::Autocommit(_) => Ok(()),
        }
    }

    /// The statement for `sql`, prepared now if this connection has not yet, and counted as sent: every caller
    /// executes it next.
    fn prepared(&mut self, sql: &str) -> Result<Statement, Error> {
        let statement = match self.statements.get(sql) {
            Some(statement) => statement,
            None => {
                let statement = on!(self, c => c.prepare(sql))?;
                self.statements.insert(sql, statement.clone());
                statement
            }
        };
        self.statements.sent();
        Ok(statement)
    }

    pub(super) fn execute(&mut self, sql: &str, params: Params<'_>) -> Result<u64, Error> {
        let statement = self.prepared(sql)?;
        on!(self, c => c.execute(&statement, params))
    }

    pub(super) fn query(&mut self, sql: &str, params: Params<'_>) -> Result<Vec<Row>, Error> {
        let statement = self.prepared(sql)?;
        on!(self, c => c.query(&statement, params))
    }

    pub(super) fn query_one(&mut self, sql: &str, params: Params<'_>) -> Result<Row, Error> {
        let statement = self.prepared(sql)?;
        on!(self, c => c.query_one(&statement, params))
    }

    pub(super) fn query_opt(
        &mut self,
        sql: &str,
        params: Params<'_>,
    ) -> Result<Option<Row>, Error> {
        let statement = self.prepared(sql)?;
        on!(self, c => c.query_opt(&statement, params))
    }

    /// A nested transaction (in autocommit, a transaction); its statements are prepared unnamed, as the driver
    /// does (two admin writes use one, to answer a duplicate name precisely).
    pub(super) fn savepoint(&mut self, name: &str) -> Result<Transaction<'_>, Error> {
        match &mut self.on {
            On::Transaction(tx) => tx.savepoint(name),
            On::Autocommit(client) => client.transaction(),
        }
    }
}
