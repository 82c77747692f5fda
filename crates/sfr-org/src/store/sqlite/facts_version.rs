//! The counter the facts cache checks (`store::facts_cache`): bumped by trigger on every change to a table a
//! grant's facts are read from (schema v8).

use rusqlite::Connection;

use super::cached::CachedStatements as _;
use super::db_err;
use crate::store::StoreResult;

pub(super) fn load(conn: &Connection) -> StoreResult<i64> {
    conn.query_row_cached("SELECT n FROM facts_version", [], |r| r.get(0))
        .map_err(db_err)
}
