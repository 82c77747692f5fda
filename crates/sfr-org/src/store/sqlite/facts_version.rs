//! The counter the facts cache checks (`store::facts_cache`): bumped by trigger on every change to a table a
//! grant's facts are read from (schema v8).

use rusqlite::Connection;

use super::cached::CachedStatements as _;
use super::db_err;
use crate::store::{StoreError, StoreResult};

pub(super) fn load(conn: &Connection) -> StoreResult<i64> {
    conn.query_row_cached("SELECT n FROM facts_version", [], |r| r.get(0))
        .map_err(db_err)
}

/// Fails with `FactsChanged` unless the counter is still `expected` (a grant decided on cached facts), in the
/// caller's write transaction: no change can commit between this and the grant's own commit. On the writer's
/// connection, whose pages stay cached across its own commits, this costs far less than a reader's `load`.
pub(super) fn confirm(conn: &Connection, expected: Option<i64>) -> StoreResult<()> {
    match expected {
        Some(v) if load(conn)? != v => Err(StoreError::FactsChanged),
        _ => Ok(()),
    }
}
