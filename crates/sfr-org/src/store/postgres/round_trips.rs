//! The round trips a store makes to PostgreSQL, counted for `Store::statements_executed` (the benchmark and the
//! queries-per-grant test read it). On a network database a grant's cost is its round trips more than its SQL:
//! each is a message each way, a wake-up of a server process and, for a write, maybe a commit of its own.
//!
//! Counted: every statement a use case executes (on the blocking pool's sessions and on the non-blocking
//! connections), each statement prepared (once per connection and SQL text), and each `BEGIN` and `COMMIT`.
//! Not counted: the migrations at open and the two admin writes' savepoints (neither is on a request's path).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// A shared count; clones count into the same total.
#[derive(Clone, Default, Debug)]
pub(super) struct RoundTrips(Arc<AtomicU64>);

impl RoundTrips {
    /// One more message sent and its answer awaited.
    pub(super) fn one(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn total(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}
