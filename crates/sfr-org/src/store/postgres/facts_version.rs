//! The counter the facts cache checks (`store::facts_cache`): bumped by trigger on every change to a table a
//! grant's facts are read from (schema v6).

use super::{R, Tx};

pub(super) fn load(c: Tx<'_, '_>) -> R<i64> {
    Ok(c.query_one("SELECT n FROM facts_version", &[])?
        .try_get(0)?)
}
