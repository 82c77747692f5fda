//! Shared rate-limit counters: each node's flush adds its counts in one transaction and reads the totals back.

use std::collections::BTreeMap;

use rusqlite::{Connection, params};

use super::db_err;
use crate::store::{RateCount, StoreError, StoreResult};

/// Adds every count (duplicates of one counter summed) and returns each counter's new total, in input order;
/// deletes the counters that expired at or before `now`.
pub(super) fn add(conn: &Connection, counts: &[RateCount], now: i64) -> StoreResult<Vec<u64>> {
    conn.execute("DELETE FROM rate_counters WHERE expires_at <= ?1", [now])
        .map_err(db_err)?;
    // One row per counter, in key order (the same order on every node).
    let mut merged: BTreeMap<(&str, i64), (i64, i64)> = BTreeMap::new();
    for c in counts {
        let entry = merged
            .entry((c.key.as_str(), c.window_start))
            .or_insert((c.expires_at, 0));
        entry.0 = entry.0.max(c.expires_at);
        entry.1 = entry
            .1
            .saturating_add(i64::try_from(c.delta).unwrap_or(i64::MAX));
    }
    let mut upsert = conn
        .prepare_cached(
            "INSERT INTO rate_counters (key, window_start, expires_at, count) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (key, window_start) DO UPDATE
             SET count = count + excluded.count, expires_at = MAX(expires_at, excluded.expires_at)
             RETURNING count",
        )
        .map_err(db_err)?;
    let mut totals = BTreeMap::new();
    for (&(key, window_start), &(expires_at, delta)) in &merged {
        let total: i64 = upsert
            .query_row(params![key, window_start, expires_at, delta], |r| r.get(0))
            .map_err(db_err)?;
        totals.insert((key, window_start), total_of(total)?);
    }
    Ok(counts
        .iter()
        .map(|c| {
            totals
                .get(&(c.key.as_str(), c.window_start))
                .copied()
                .unwrap_or_default()
        })
        .collect())
}

fn total_of(stored: i64) -> StoreResult<u64> {
    u64::try_from(stored)
        .map_err(|_| StoreError::Corrupt(format!("rate counter {stored} is negative")))
}
