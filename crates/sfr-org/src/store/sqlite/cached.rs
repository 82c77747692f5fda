//! Statements through the connection's prepared-statement cache. A token grant runs the same dozen statements
//! over and over; parsing and planning them anew each time was over a third of a grant's CPU, so every store
//! statement goes through `prepare_cached` (the SQL text is the cache key).

use rusqlite::{Connection, Params, Row};

/// How many prepared statements each connection keeps (the store runs fewer distinct ones than this).
pub(super) const CACHE_CAPACITY: usize = 128;

/// `execute` and `query_row` with the statement taken from (and returned to) the connection's cache.
pub(crate) trait CachedStatements {
    fn execute_cached<P: Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize>;
    fn query_row_cached<T, P, F>(&self, sql: &str, params: P, f: F) -> rusqlite::Result<T>
    where
        P: Params,
        F: FnOnce(&Row<'_>) -> rusqlite::Result<T>;
}

impl CachedStatements for Connection {
    fn execute_cached<P: Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    fn query_row_cached<T, P, F>(&self, sql: &str, params: P, f: F) -> rusqlite::Result<T>
    where
        P: Params,
        F: FnOnce(&Row<'_>) -> rusqlite::Result<T>,
    {
        self.prepare_cached(sql)?.query_row(params, f)
    }
}
