//! The counter the facts cache checks (`store::facts_cache`): bumped by trigger on every change to a table a
//! grant's facts are read from (schema v6).

use super::{R, Tx};
use crate::store::StoreError;

pub(super) fn load(c: Tx<'_, '_>) -> R<i64> {
    Ok(c.query_one("SELECT n FROM facts_version", &[])?
        .try_get(0)?)
}

/// Fails with `FactsChanged` unless the counter is still `expected` (a grant decided on cached facts; `None`:
/// nothing to confirm). The row stays locked (`FOR SHARE`) until the caller's transaction ends, so no change
/// commits before the grant does.
pub(super) fn confirm(c: Tx<'_, '_>, expected: Option<i64>) -> R<()> {
    let Some(expected) = expected else {
        return Ok(());
    };
    let now: i64 = c
        .query_one("SELECT n FROM facts_version FOR SHARE", &[])?
        .try_get(0)?;
    if now == expected {
        Ok(())
    } else {
        Err(StoreError::FactsChanged.into())
    }
}
