//! The counter the facts cache checks (`store::facts_cache`): bumped by trigger on every change to a table a
//! grant's facts are read from (schema v6).

use super::session::{Run, at_once};
use super::{R, Tx};
use crate::store::StoreError;

/// The condition a one-statement grant write puts on each of its inserts when the grant was decided on cached
/// facts: the counter, read in the statement's own snapshot, is still the version (parameter `$param`) those
/// facts were cached at. Nothing is locked: a change that commits while the statement runs is not seen by it,
/// the same window as a read of the counter followed by the write (`confirm`, in a transaction, holds the row
/// instead).
pub(super) fn guard(param: usize) -> String {
    format!("(SELECT n FROM facts_version) = ${param}")
}

pub(super) async fn load(c: &mut impl Run) -> R<i64> {
    Ok(c.query_one("SELECT n FROM facts_version", &[])
        .await?
        .try_get(0)?)
}

/// Fails with `FactsChanged` unless the counter is still `expected` (a grant decided on cached facts; `None`:
/// nothing to confirm). Called in a `SERIALIZABLE` transaction, whose read of the row is all the guarantee
/// needed: a change that bumps the counter and commits before the grant does is a read/write conflict that
/// PostgreSQL resolves (the grant serialises before the change, or one of them fails and is retried). Locking the
/// row (`FOR SHARE`, as this did) made every concurrent code exchange a share-locker of one row: no safer, and
/// the exchanges' p99 rose from 33–40 to 48 ms.
pub(super) fn confirm(c: Tx<'_, '_>, expected: Option<i64>) -> R<()> {
    let Some(expected) = expected else {
        return Ok(());
    };
    if at_once(load(c))? == expected {
        Ok(())
    } else {
        Err(StoreError::FactsChanged.into())
    }
}
