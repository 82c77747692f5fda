//! Shared rate-limit counters: each node's flush adds its counts in one statement (an upsert of the whole batch)
//! and reads the totals back. Two nodes flushing the same counter at once both land: the second upsert waits
//! for the first's row lock and, under SERIALIZABLE, is retried from the start by the transaction helper.

use std::collections::BTreeMap;

use super::{R, Tx};
use crate::store::{RateCount, StoreError};

/// Adds every count (duplicates of one counter summed) and returns each counter's new total, in input order;
/// deletes the counters that expired at or before `now`.
pub(super) fn add(c: Tx<'_, '_>, counts: &[RateCount], now: i64) -> R<Vec<u64>> {
    c.execute("DELETE FROM rate_counters WHERE expires_at <= $1", &[&now])?;
    if counts.is_empty() {
        return Ok(Vec::new());
    }
    // One row per counter (an upsert may not touch a row twice), in key order: every node locks the rows it
    // adds to in the same order, so two flushes wait for each other rather than deadlock.
    let mut merged: BTreeMap<(&str, i64), (i64, i64)> = BTreeMap::new();
    for count in counts {
        let entry = merged
            .entry((count.key.as_str(), count.window_start))
            .or_insert((count.expires_at, 0));
        entry.0 = entry.0.max(count.expires_at);
        entry.1 = entry
            .1
            .saturating_add(i64::try_from(count.delta).unwrap_or(i64::MAX));
    }
    let mut keys = Vec::with_capacity(merged.len());
    let mut starts = Vec::with_capacity(merged.len());
    let mut expiries = Vec::with_capacity(merged.len());
    let mut deltas = Vec::with_capacity(merged.len());
    for (&(key, start), &(expires_at, delta)) in &merged {
        keys.push(key);
        starts.push(start);
        expiries.push(expires_at);
        deltas.push(delta);
    }
    let rows = c.query(
        "INSERT INTO rate_counters AS r (key, window_start, expires_at, count)
         SELECT * FROM UNNEST($1::TEXT[], $2::BIGINT[], $3::BIGINT[], $4::BIGINT[])
         ORDER BY 1, 2
         ON CONFLICT (key, window_start) DO UPDATE
         SET count = r.count + excluded.count, expires_at = GREATEST(r.expires_at, excluded.expires_at)
         RETURNING key, window_start, count",
        &[&keys, &starts, &expiries, &deltas],
    )?;
    let mut totals: BTreeMap<(String, i64), u64> = BTreeMap::new();
    for row in rows {
        let total: i64 = row.try_get(2)?;
        let total = u64::try_from(total)
            .map_err(|_| StoreError::Corrupt(format!("rate counter {total} is negative")))?;
        totals.insert((row.try_get(0)?, row.try_get(1)?), total);
    }
    Ok(counts
        .iter()
        .map(|count| {
            totals
                .get(&(count.key.clone(), count.window_start))
                .copied()
                .unwrap_or_default()
        })
        .collect())
}
