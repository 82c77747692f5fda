//! Rate limits on the token endpoint, per source address and per client (`client_id`, the Basic user, or a JWT
//! assertion's `iss`), answered with Salesforce's `rate_limit_exceeded` / `number of logins exceeded` (HTTP 400).
//!
//! **What a limit means.** A [`Rate`] `{ burst, per_minute }` lets one key make `burst` requests in any window
//! of `burst / per_minute` minutes (at most a day; `per_minute` 0: a day), which at a steady pace is
//! `per_minute` requests a minute. Requests are counted in fixed windows of that length, aligned to the epoch,
//! and the previous window is weighted by how much of it still overlaps the sliding window (the two-window
//! approximation): `previous × (1 − elapsed / window)`, rounded up, plus the current window's count. A refused
//! request is not counted. The defaults are generous (normal clients, tests and benchmarks never meet them);
//! they stop a single address or a leaked client id from hammering the endpoint.
//!
//! **Shared by every node, without a database write per request.** The counters live in the database
//! (`Store::add_rate_counts`, table `rate_counters`), so all nodes on one database enforce one limit. A node
//! counts requests in memory and flushes its counts to the database every [`SYNC_EVERY`] in one batched write
//! (a background task, [`sync_loop`]), learning every node's totals back. A request is refused when the window
//! total known at the last flush plus this node's counts since then reaches the limit.
//!
//! **Slack.** What other nodes counted since this node's last flush is unknown to it, so across `n` nodes a key
//! can get up to about `(n − 1) × (requests a node accepts for it per flush interval)` more than the limit
//! (for a key that a node sees for the first time in a window, one interval's worth on that node as well) —
//! roughly `n × rate × 100 ms`. On one node the count is exact. A flush that fails (database unavailable)
//! fails no request: the node keeps counting locally, enforcing the limit on its own counts (so the
//! cluster-wide limit becomes per node again until the database is back), and retries at the next tick. A
//! flush whose commit was lost in a broken connection may be counted twice (stricter, never looser).
//!
//! **Memory.** A node tracks the keys it saw in the current and previous window, at most [`MAX_TRACKED`] per
//! kind; idle keys are dropped at each flush. When the table is full of busy keys, a request for a new key is
//! let through uncounted rather than growing the table.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::response::Response;
use sfr_wire::OAuthError;
use tokio::sync::watch;

use super::{client_auth, params, reply};
use crate::clock::{Clock as _, SystemClock};
use crate::store::{RateCount, Store, StoreError};

/// One limit's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Requests allowed at once (in one window); 0 turns the limit off.
    pub burst: u32,
    /// Requests a minute at a steady pace; the window is `burst / per_minute` minutes (0: a day).
    pub per_minute: u32,
}

impl Rate {
    /// No limit.
    pub const OFF: Self = Self {
        burst: 0,
        per_minute: 0,
    };

    /// The counting window in ms: `burst / per_minute` minutes, between 1 ms and a day.
    pub fn window_ms(&self) -> i64 {
        if self.per_minute == 0 {
            return DAY_MS;
        }
        let ms = u64::from(self.burst) * 60_000 / u64::from(self.per_minute);
        i64::try_from(ms).unwrap_or(DAY_MS).clamp(1, DAY_MS)
    }
}

impl std::fmt::Display for Rate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.burst == 0 {
            f.write_str("off")
        } else {
            write!(f, "{}/{}", self.burst, self.per_minute)
        }
    }
}

impl std::str::FromStr for Rate {
    type Err = String;

    /// `BURST/PER_MINUTE` (e.g. `2000/120000`), or `off` (also `0`).
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("off") || s == "0" {
            return Ok(Self::OFF);
        }
        let bad = || {
            format!(
                "invalid rate {s:?}: expected BURST/PER_MINUTE (e.g. 2000/120000: 2000 at once, 120000 a minute) \
                 or off"
            )
        };
        let (burst, per_minute) = s.split_once('/').ok_or_else(bad)?;
        Ok(Self {
            burst: burst.trim().parse().map_err(|_| bad())?,
            per_minute: per_minute.trim().parse().map_err(|_| bad())?,
        })
    }
}

/// The token endpoint's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    pub per_address: Rate,
    pub per_client: Rate,
}

impl Default for RateLimits {
    /// 200 000 requests a second per client and per address: a ceiling that benchmarks and tests never meet,
    /// not a limit sized to any deployment (operators set theirs with `--rate-limit-per-client` and
    /// `--rate-limit-per-address`). A node's one SQLite writer tops out near 100 000 grants a second (it is
    /// about a third of a client_credentials grant's CPU, at 44 000 grants a second on 2 cores), a PostgreSQL
    /// node near 10 000. The default was 50 000 until a benchmark's one client and address met it at 43 800 a
    /// second on average (counted in one-second windows, bursts pass 50 000).
    fn default() -> Self {
        let rate = Rate {
            burst: 200_000,
            per_minute: 12_000_000,
        };
        Self {
            per_address: rate,
            per_client: rate,
        }
    }
}

/// How often a node flushes its counts to the database and learns the other nodes' counts.
pub const SYNC_EVERY: Duration = Duration::from_millis(100);

/// Keys tracked in memory per kind of limit, at most.
pub const MAX_TRACKED: usize = 100_000;

const DAY_MS: i64 = 86_400_000;

/// A stored counter outlives its window by another window (it is the previous one then) plus this, so a node
/// whose clock lags a little still finds it.
const EXPIRY_MARGIN_MS: i64 = 60_000;

/// Keys longer than this (a client id is whatever the request says) are stored as their SHA-256.
const MAX_KEY_BYTES: usize = 128;

/// One node's view of one key's count in one window.
#[derive(Debug, Clone, Copy, Default)]
struct Window {
    start: i64,
    /// Every node's total, as returned by the last flush that included this window.
    global: u64,
    /// Counted here and being flushed now.
    in_flight: u64,
    /// Counted here since the last flush began.
    pending: u64,
}

impl Window {
    fn empty(start: i64) -> Self {
        Self {
            start,
            ..Self::default()
        }
    }

    fn total(&self) -> u64 {
        self.global + self.in_flight + self.pending
    }

    fn is_idle(&self) -> bool {
        self.in_flight == 0 && self.pending == 0
    }
}

/// A key's current and previous window.
#[derive(Debug, Clone, Copy)]
struct KeyCounts {
    previous: Window,
    current: Window,
}

impl KeyCounts {
    fn new(current: i64, window: i64) -> Self {
        Self {
            previous: Window::empty(current - window),
            current: Window::empty(current),
        }
    }

    /// Moves on to the window starting at `current`, forgetting windows older than the previous one (no node
    /// needs their counts any more). A clock that went back keeps the newer windows.
    fn roll(&mut self, current: i64, window: i64) {
        if self.current.start >= current {
            return;
        }
        if self.current.start == current - window {
            self.previous = self.current;
        } else {
            self.previous = Window::empty(current - window);
        }
        self.current = Window::empty(current);
    }

    fn is_empty(&self) -> bool {
        self.previous.total() == 0 && self.current.total() == 0
    }

    fn window_mut(&mut self, start: i64) -> Option<&mut Window> {
        [&mut self.previous, &mut self.current]
            .into_iter()
            .find(|w| w.start == start)
    }
}

/// Counts by key. The keys come from requests (addresses, client ids): the hash is seeded per map, as the
/// standard one is, and four to five times faster on a client id than SipHash, which was a request's largest
/// cost in the limiter.
type KeyMap = HashMap<String, KeyCounts, foldhash::fast::RandomState>;

/// The counters of one kind of limit (per address or per client).
#[derive(Debug)]
struct Counters {
    kind: &'static str,
    rate: Rate,
    window: i64,
    map: Mutex<KeyMap>,
}

impl Counters {
    fn new(kind: &'static str, rate: Rate) -> Self {
        Self {
            kind,
            rate,
            window: rate.window_ms(),
            map: Mutex::new(KeyMap::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, KeyMap> {
        match self.map.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    fn window_start(&self, now: i64) -> i64 {
        now.div_euclid(self.window) * self.window
    }

    /// The sliding-window estimate for `counts` at `now`: the previous window weighted by its overlap (rounded
    /// up) plus the current window.
    fn estimate(&self, counts: &KeyCounts, now: i64) -> u64 {
        let elapsed = (now - counts.current.start).clamp(0, self.window);
        let remaining = u128::try_from(self.window - elapsed).unwrap_or_default();
        let window = u128::try_from(self.window).unwrap_or(1).max(1);
        let previous = (u128::from(counts.previous.total()) * remaining).div_ceil(window);
        u64::try_from(previous)
            .unwrap_or(u64::MAX)
            .saturating_add(counts.current.total())
    }

    /// Whether one more request for `key` fits; with `count`, it is counted when it does.
    fn check(&self, map: &mut KeyMap, key: &str, now: i64, count: bool) -> bool {
        let current = self.window_start(now);
        // One search of the map per call: a key is hashed for each of the two calls per limit a request makes.
        if let Some(counts) = map.get_mut(key) {
            return self.fits(counts, current, now, count);
        }
        if map.len() >= MAX_TRACKED {
            self.make_room(map, current);
        }
        if map.len() >= MAX_TRACKED {
            tracing::debug!(
                kind = self.kind,
                "rate-limit table full of busy keys; a new key goes uncounted"
            );
            return true;
        }
        if !count {
            return true; // Nothing counted for the key here yet: one request fits.
        }
        let mut counts = KeyCounts::new(current, self.window);
        let fits = self.fits(&mut counts, current, now, count);
        map.insert(key.to_owned(), counts);
        fits
    }

    /// Whether one more request fits `counts` at `now` (in the window starting at `current`); with `count`, it
    /// is counted when it does.
    fn fits(&self, counts: &mut KeyCounts, current: i64, now: i64, count: bool) -> bool {
        counts.roll(current, self.window);
        if self.estimate(counts, now) >= u64::from(self.rate.burst) {
            return false;
        }
        if count {
            counts.current.pending += 1;
        }
        true
    }

    /// Forgets keys whose windows are over, then keys with nothing left to flush (their totals are in the
    /// database; the next request for one is judged on this node's count alone until the next flush).
    fn make_room(&self, map: &mut KeyMap, current: i64) {
        self.forget_idle(map, current);
        if map.len() >= MAX_TRACKED {
            map.retain(|_, c| !(c.previous.is_idle() && c.current.is_idle()));
        }
    }

    /// Rolls every key to the current window and drops the keys with nothing counted in it or the previous one.
    fn forget_idle(&self, map: &mut KeyMap, current: i64) {
        map.retain(|_, c| {
            c.roll(current, self.window);
            !c.is_empty()
        });
    }

    /// The key as stored: kind, window length and the key (hashed when long), so limits of different shapes
    /// never add up in one counter.
    fn stored_key(&self, key: &str) -> String {
        if key.len() > MAX_KEY_BYTES {
            let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, key.as_bytes());
            format!(
                "{}:{}:sha256:{}",
                self.kind,
                self.window,
                hex::encode(digest)
            )
        } else {
            format!("{}:{}:{key}", self.kind, self.window)
        }
    }
}

/// Counts taken out of the counters for one flush, and where they came from.
#[derive(Debug, Default)]
struct Batch {
    counts: Vec<RateCount>,
    /// Per count: which counters (index into `TokenRateLimiter::kinds`) and which key.
    origin: Vec<(usize, String)>,
}

/// The token endpoint's limiter, shared by every connection of one server; [`sync_loop`] shares its counts with
/// the other nodes through the store.
#[derive(Debug)]
pub struct TokenRateLimiter {
    /// Per address, per client.
    kinds: [Counters; 2],
    /// One flush at a time (the background task, or a test calling `sync`).
    flushing: tokio::sync::Mutex<()>,
}

const BY_ADDRESS: usize = 0;
const BY_CLIENT: usize = 1;

impl TokenRateLimiter {
    pub fn new(limits: RateLimits) -> Arc<Self> {
        Arc::new(Self {
            kinds: [
                Counters::new("address", limits.per_address),
                Counters::new("client", limits.per_client),
            ],
            flushing: tokio::sync::Mutex::new(()),
        })
    }

    /// Whether a request from `address` naming `client` may go on now; counted against both limits when it may.
    pub fn allow(&self, address: Option<&str>, client: Option<&str>) -> bool {
        self.allow_at(address, client, SystemClock.now_ms())
    }

    /// [`allow`](Self::allow) at `now` (ms since the epoch).
    pub fn allow_at(&self, address: Option<&str>, client: Option<&str>, now: i64) -> bool {
        let keys = [(BY_ADDRESS, address), (BY_CLIENT, client)];
        let active = |kind: usize| self.kinds[kind].rate.burst > 0;
        // Both fit? Only then count both: a refused request counts against neither.
        let mut address_map = active(BY_ADDRESS).then(|| self.kinds[BY_ADDRESS].lock());
        let mut client_map = active(BY_CLIENT).then(|| self.kinds[BY_CLIENT].lock());
        for count in [false, true] {
            for (kind, key) in keys {
                let map = if kind == BY_ADDRESS {
                    address_map.as_deref_mut()
                } else {
                    client_map.as_deref_mut()
                };
                if let (Some(map), Some(key)) = (map, key)
                    && !self.kinds[kind].check(map, key, now, count)
                {
                    return false;
                }
            }
        }
        true
    }

    /// Takes every count not yet flushed (marking it in flight) and forgets idle keys.
    fn take_pending(&self, now: i64) -> Batch {
        let mut batch = Batch::default();
        for (kind, counters) in self.kinds.iter().enumerate() {
            if counters.rate.burst == 0 {
                continue;
            }
            let mut map = counters.lock();
            counters.forget_idle(&mut map, counters.window_start(now));
            for (key, counts) in map.iter_mut() {
                for w in [&mut counts.previous, &mut counts.current] {
                    if w.pending == 0 {
                        continue;
                    }
                    batch.counts.push(RateCount {
                        key: counters.stored_key(key),
                        window_start: w.start,
                        expires_at: w.start + 2 * counters.window + EXPIRY_MARGIN_MS,
                        delta: w.pending,
                    });
                    batch.origin.push((kind, key.clone()));
                    w.in_flight += w.pending;
                    w.pending = 0;
                }
            }
        }
        batch
    }

    /// After a flush: the totals replace what was known, the flushed counts are no longer in flight (`None`:
    /// the flush failed, they are pending again).
    fn settle(&self, batch: &Batch, totals: Option<&[u64]>) {
        for (i, (count, (kind, key))) in batch.counts.iter().zip(&batch.origin).enumerate() {
            let mut map = self.kinds[*kind].lock();
            let Some(w) = map
                .get_mut(key)
                .and_then(|c| c.window_mut(count.window_start))
            else {
                continue; // The window is over and forgotten.
            };
            w.in_flight = w.in_flight.saturating_sub(count.delta);
            match totals.and_then(|t| t.get(i)) {
                Some(&total) => w.global = w.global.max(total),
                None => w.pending += count.delta,
            }
        }
    }

    /// One flush: adds this node's new counts to the shared counters (one store call, one transaction) and
    /// learns the totals. Returns how many counters were written (0: nothing to flush, no database call). On an
    /// error the counts stay here and go with the next flush.
    pub async fn sync(&self, store: &Arc<dyn Store>) -> Result<usize, StoreError> {
        let _one_at_a_time = self.flushing.lock().await;
        let now = SystemClock.now_ms();
        let mut batch = self.take_pending(now);
        if batch.counts.is_empty() {
            return Ok(0);
        }
        let store = Arc::clone(store);
        let counts = std::mem::take(&mut batch.counts);
        let outcome = tokio::task::spawn_blocking(move || {
            let totals = store.add_rate_counts(&counts, now);
            (counts, totals)
        })
        .await;
        match outcome {
            Ok((counts, Ok(totals))) => {
                batch.counts = counts;
                self.settle(&batch, Some(&totals));
                Ok(batch.counts.len())
            }
            Ok((counts, Err(e))) => {
                batch.counts = counts;
                self.settle(&batch, None);
                Err(e)
            }
            Err(e) => Err(StoreError::Internal(format!(
                "rate-limit flush task failed: {e}"
            ))),
        }
    }

    /// Keys tracked in memory (both kinds), for tests of the memory bound.
    pub fn tracked_keys(&self) -> usize {
        self.kinds.iter().map(|k| k.lock().len()).sum()
    }
}

/// Flushes the limiter's counts every [`SYNC_EVERY`] until `stop` turns true, then once more. A failing flush is
/// logged (once, until one succeeds again) and never fails a request.
pub async fn sync_loop(
    limiter: Arc<TokenRateLimiter>,
    store: Arc<dyn Store>,
    mut stop: watch::Receiver<bool>,
) {
    let mut failing = false;
    loop {
        let stopping = tokio::select! {
            _ = tokio::time::sleep(SYNC_EVERY) => false,
            _ = stop.wait_for(|s| *s) => true,
        };
        match limiter.sync(&store).await {
            Ok(_) if failing => {
                tracing::info!("rate-limit counters are shared through the database again");
                failing = false;
            }
            Ok(_) => {}
            Err(e) if !failing => {
                tracing::warn!(
                    error = %e,
                    "cannot flush rate-limit counters to the database; limiting on this node's counts until it is back"
                );
                failing = true;
            }
            Err(e) => tracing::debug!(error = %e, "rate-limit flush failed again"),
        }
        if stopping {
            return;
        }
    }
}

/// The client a token request names, without authenticating it: the Basic user, else `client_id`, else a JWT
/// assertion's `iss`.
fn named_client(req_headers: &axum::http::HeaderMap, params: &params::Params) -> Option<String> {
    if let Ok(Some(basic)) = client_auth::basic(req_headers)
        && let Some(id) = basic.client_id
    {
        return Some(id);
    }
    params
        .owned("client_id")
        .or_else(|| sfr_wire::jwt::Assertion::issuer(params.get("assertion")?))
}

/// The token endpoint's first step, before any work on the request it read: names the client (the Basic user,
/// else `client_id`, else a JWT assertion's `iss`), checks and counts both limits (in memory; no database
/// call), and answers Salesforce's `rate_limit_exceeded` when one is met. `None`: go on.
pub fn refuse(limiter: &TokenRateLimiter, form: &params::FormRequest) -> Option<Response> {
    let client = named_client(&form.headers, &form.params);
    let address = form.source_ip.as_deref();
    if limiter.allow(address, client.as_deref()) {
        return None;
    }
    tracing::warn!(
        address = address.unwrap_or("?"),
        client = client.as_deref().unwrap_or("?"),
        "token endpoint rate limit exceeded"
    );
    Some(reply::oauth_error(OAuthError::RateLimitExceeded))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tight(burst: u32, per_minute: u32) -> RateLimits {
        let rate = Rate { burst, per_minute };
        RateLimits {
            per_address: rate,
            per_client: rate,
        }
    }

    fn client_only(rate: Rate) -> Arc<TokenRateLimiter> {
        TokenRateLimiter::new(RateLimits {
            per_address: Rate::OFF,
            per_client: rate,
        })
    }

    /// Allowed requests for `client` out of `tries` at `now`.
    fn allowed(l: &TokenRateLimiter, client: &str, tries: u32, now: i64) -> u32 {
        (0..tries)
            .filter(|_| l.allow_at(None, Some(client), now))
            .count() as u32
    }

    #[test]
    fn the_window_is_burst_over_rate_up_to_a_day() {
        let r = |burst, per_minute| Rate { burst, per_minute }.window_ms();
        assert_eq!(r(2_000, 120_000), 1_000);
        assert_eq!(r(1, 600), 100);
        assert_eq!(r(5, 0), DAY_MS);
        assert_eq!(r(1_000_000, 1), DAY_MS);
        assert_eq!(r(1, 1_000_000), 1);
    }

    #[test]
    fn rates_parse_from_the_command_line() {
        assert_eq!(
            "20/600".parse::<Rate>(),
            Ok(Rate {
                burst: 20,
                per_minute: 600
            })
        );
        assert_eq!("off".parse::<Rate>(), Ok(Rate::OFF));
        assert_eq!("0".parse::<Rate>(), Ok(Rate::OFF));
        for bad in ["", "20", "a/b", "20/-1", "1/2/3"] {
            let e = bad.parse::<Rate>().unwrap_err();
            assert!(e.contains("BURST/PER_MINUTE"), "{bad}: {e}");
        }
        assert_eq!(
            RateLimits::default().per_client.to_string(),
            "200000/12000000"
        );
        assert_eq!(RateLimits::default().per_address.window_ms(), 1_000);
    }

    #[test]
    fn a_window_fills_and_the_next_one_slides_in() {
        // 10 per second.
        let l = client_only(Rate {
            burst: 10,
            per_minute: 600,
        });
        let t0 = 1_000_000_000_000; // a window start (multiple of 1 s)
        assert_eq!(allowed(&l, "k", 25, t0 + 100), 10);
        assert_eq!(allowed(&l, "other", 3, t0 + 100), 3, "keys are independent");
        assert_eq!(allowed(&l, "k", 5, t0 + 999), 0);
        // A quarter into the next window, the previous one still weighs 3/4: 10 - ceil(7.5) = 2 more.
        assert_eq!(allowed(&l, "k", 5, t0 + 1_250), 2);
        // Late in the window after, those 2 weigh ceil(2 x 1/1000) = 1; a window later, nothing.
        assert_eq!(allowed(&l, "k", 25, t0 + 2_000 + 999), 9);
        assert_eq!(allowed(&l, "k", 25, t0 + 4_000), 10);
    }

    #[test]
    fn zero_burst_means_unlimited() {
        let l = TokenRateLimiter::new(tight(0, 0));
        for _ in 0..10_000 {
            assert!(l.allow(Some("1.2.3.4"), Some("c")));
        }
        assert_eq!(l.tracked_keys(), 0, "an unlimited kind tracks nothing");
    }

    #[test]
    fn either_limit_refuses_and_a_refusal_counts_against_neither() {
        let l = TokenRateLimiter::new(RateLimits {
            per_address: Rate {
                burst: 3,
                per_minute: 0,
            },
            per_client: Rate {
                burst: 2,
                per_minute: 0,
            },
        });
        assert!(l.allow(Some("a"), Some("c")));
        assert!(l.allow(Some("b"), Some("c")));
        assert!(
            !l.allow(Some("a"), Some("c")),
            "client exhausted from any address"
        );
        // The refused request did not use up address a's share.
        assert!(l.allow(Some("a"), Some("other")));
        assert!(l.allow(Some("a"), Some("third")));
        assert!(!l.allow(Some("a"), Some("fourth")), "address a exhausted");
    }

    #[test]
    fn the_map_stays_bounded() {
        let l = client_only(Rate {
            burst: 1,
            per_minute: 0,
        });
        let t0 = 1_000_000_000_000;
        for i in 0..(MAX_TRACKED + 10) {
            l.allow_at(None, Some(&format!("k{i}")), t0);
        }
        assert!(l.tracked_keys() <= MAX_TRACKED);
    }

    #[test]
    fn idle_keys_are_forgotten_at_a_flush() {
        let l = client_only(Rate {
            burst: 10,
            per_minute: 600,
        });
        let t0 = 1_000_000_000_000;
        for i in 0..50 {
            assert!(l.allow_at(None, Some(&format!("k{i}")), t0));
        }
        assert_eq!(l.tracked_keys(), 50);
        let batch = l.take_pending(t0 + 10);
        assert_eq!(batch.counts.len(), 50);
        assert!(batch.counts.iter().all(|c| c.delta == 1
            && c.key.starts_with("client:1000:k")
            && c.window_start == t0
            && c.expires_at == t0 + 2_000 + EXPIRY_MARGIN_MS));
        l.settle(&batch, Some(&vec![1; 50]));
        assert!(l.take_pending(t0 + 20).counts.is_empty(), "flushed once");
        assert_eq!(l.tracked_keys(), 50, "still counted as the previous window");
        assert!(l.take_pending(t0 + 2_000).counts.is_empty());
        assert_eq!(l.tracked_keys(), 0, "two windows later nothing is left");
    }

    #[test]
    fn totals_learnt_from_a_flush_count_and_a_failed_flush_keeps_the_counts() {
        let l = client_only(Rate {
            burst: 10,
            per_minute: 0,
        });
        let t0 = 1_000_000_000_000;
        assert_eq!(allowed(&l, "k", 3, t0), 3);
        let batch = l.take_pending(t0);
        assert_eq!(batch.counts[0].delta, 3);
        // A failed flush: the 3 are pending again and still count.
        l.settle(&batch, None);
        assert_eq!(allowed(&l, "k", 1, t0), 1);
        let batch = l.take_pending(t0);
        assert_eq!(
            batch.counts[0].delta, 4,
            "the failed counts go with the next flush"
        );
        // Counting goes on while the flush is in flight.
        assert_eq!(allowed(&l, "k", 1, t0), 1);
        // The database says other nodes counted 4 more: 4 (ours) + 4 + 1 pending = 9 of 10.
        l.settle(&batch, Some(&[8]));
        assert_eq!(allowed(&l, "k", 5, t0), 1);
    }

    #[test]
    fn long_keys_are_stored_hashed() {
        let c = Counters::new(
            "client",
            Rate {
                burst: 1,
                per_minute: 60,
            },
        );
        assert_eq!(c.stored_key("abc"), "client:1000:abc");
        let long = c.stored_key(&"x".repeat(10_000));
        assert!(
            long.starts_with("client:1000:sha256:") && long.len() < 100,
            "{long}"
        );
    }

    #[test]
    fn the_client_comes_from_basic_then_form_then_assertion() {
        use axum::http::header;
        use base64::Engine as _;
        let mut h = axum::http::HeaderMap::new();
        let named = |h: &axum::http::HeaderMap, body: &[u8], query: &str| {
            named_client(h, &params::form_params(body, Some(query)))
        };
        assert_eq!(named(&h, b"client_id=abc", ""), Some("abc".into()));
        assert_eq!(named(&h, b"", "client_id=q"), Some("q".into()));
        assert_eq!(named(&h, b"grant_type=x", ""), None);
        let claims =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"iss":"jwt-app"}"#);
        let assertion = format!("grant_type=x&assertion=e30.{claims}.c2ln");
        assert_eq!(named(&h, assertion.as_bytes(), ""), Some("jwt-app".into()));
        assert_eq!(
            named(&h, format!("client_id=abc&{assertion}").as_bytes(), ""),
            Some("abc".into())
        );
        h.insert(
            header::AUTHORIZATION,
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode("basic:s")
            )
            .parse()
            .unwrap(),
        );
        assert_eq!(named(&h, b"client_id=abc", ""), Some("basic".into()));
    }
}
