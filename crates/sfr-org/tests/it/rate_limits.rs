//! Token-endpoint rate limits over real HTTP, with the counters shared through the database: one server enforces
//! a low limit exactly, two servers on one database share one limit (within the flush slack), and a database
//! that cannot take the counts fails no request. On SQLite, or on PostgreSQL with `SFR_TEST_BACKEND=postgres`
//! (the database outage case is SQLite only: it drops the table under the server).

use std::path::PathBuf;
use std::time::Duration;

use sfr_org::http::rate_limit::{Rate, RateLimits, SYNC_EVERY};
use sfr_org::server::{RunningServer, ServeConfig};
use sfr_org::store::{DatabaseUrl, RateCount};

use crate::Resp;

const RATE_LIMITED: &str = "rate_limit_exceeded";

/// Servers on one database, in one runtime.
struct Servers {
    nodes: Vec<RunningServer>,
    agent: ureq::Agent,
    _dir: tempfile::TempDir,
    // Declared last: dropped after the servers.
    _rt: tokio::runtime::Runtime,
}

/// Limits with only a per-client limit of `burst` (no refill: a day's window).
fn per_client(burst: u32) -> RateLimits {
    RateLimits {
        per_address: Rate::OFF,
        per_client: Rate {
            burst,
            per_minute: 0,
        },
    }
}

impl Servers {
    /// `count` servers on one fresh database (see `pg_harness::test_database`).
    fn start(count: usize, limits: RateLimits) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let (db, key_file) = crate::pg_harness::test_database(dir.path());
        Self::start_on(dir, db, key_file, count, limits)
    }

    fn start_on(
        dir: tempfile::TempDir,
        db: DatabaseUrl,
        key_file: Option<PathBuf>,
        count: usize,
        limits: RateLimits,
    ) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let nodes = (0..count)
            .map(|_| {
                let mut config = ServeConfig::for_tests(db.clone());
                config.key_file = key_file.clone();
                config.rate_limits = limits;
                rt.block_on(RunningServer::start(config))
                    .expect("server starts")
            })
            .collect();
        Self {
            nodes,
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .build()
                .into(),
            _dir: dir,
            _rt: rt,
        }
    }

    /// A token request naming `client` (unknown to the org: answered `invalid_client_id` unless limited).
    fn token(&self, node: usize, client: &str) -> Resp {
        Resp::from(
            self.agent
                .post(&format!(
                    "{}/services/oauth2/token",
                    self.nodes[node].base_url
                ))
                .content_type("application/x-www-form-urlencoded")
                .send(format!("grant_type=client_credentials&client_id={client}").as_bytes()),
        )
    }

    /// Whether the request went through the limiter (any answer but `rate_limit_exceeded`, which must be
    /// Salesforce's).
    fn allowed(&self, node: usize, client: &str) -> bool {
        let resp = self.token(node, client);
        if resp.body.contains(RATE_LIMITED) {
            resp.assert_oauth_error(400, RATE_LIMITED, "number of logins exceeded");
            false
        } else {
            resp.assert_oauth_error(400, "invalid_client_id", "client identifier invalid");
            true
        }
    }

    /// The stored per-client count for `client` in the current and previous window (the limit's window is a
    /// day), read through node 0's store.
    fn stored_count(&self, client: &str) -> u64 {
        let day = Rate {
            burst: 1,
            per_minute: 0,
        }
        .window_ms();
        let now = self.nodes[0].state.now();
        let current = now.div_euclid(day) * day;
        let reads: Vec<RateCount> = [current - day, current]
            .into_iter()
            .map(|window_start| RateCount {
                key: format!("client:{day}:{client}"),
                window_start,
                expires_at: window_start + 3 * day,
                delta: 0,
            })
            .collect();
        self.nodes[0]
            .state
            .store
            .add_rate_counts(&reads, now)
            .expect("read the counters")
            .iter()
            .sum()
    }
}

/// Flushes happen every `SYNC_EVERY`; this is several of them.
fn a_few_flushes() {
    std::thread::sleep(SYNC_EVERY * 4);
}

/// One node: exactly the limit gets through, the rest is refused with Salesforce's answer, other clients are not
/// affected, and the node's counts reach the database.
#[test]
fn one_node_enforces_a_low_limit_exactly() {
    let limit = 7;
    let s = Servers::start(1, per_client(limit));
    let outcomes: Vec<bool> = (0..20).map(|_| s.allowed(0, "3MVG9limited")).collect();
    let through = outcomes.iter().filter(|&&ok| ok).count();
    assert_eq!(through, limit as usize, "{outcomes:?}");
    assert!(
        outcomes[..limit as usize].iter().all(|&ok| ok),
        "the first {limit} go through: {outcomes:?}"
    );
    assert!(s.allowed(0, "3MVG9other"), "another client is not limited");
    a_few_flushes();
    assert_eq!(
        s.stored_count("3MVG9limited"),
        u64::from(limit),
        "the database holds the node's count (refused requests are not counted)"
    );
    assert!(
        !s.allowed(0, "3MVG9limited"),
        "still refused after flushing"
    );
}

/// Two nodes on one database: requests alternating between them get through about `limit` times in all (the
/// slack is what one node counted since the other's last flush), not twice the limit.
#[test]
fn two_nodes_on_one_database_share_one_limit() {
    let limit = 20;
    let s = Servers::start(2, per_client(limit));
    let mut through = 0;
    for n in 0..(2 * limit + 10) {
        if s.allowed(n as usize % 2, "3MVG9shared") {
            through += 1;
        }
        std::thread::sleep(Duration::from_millis(30));
    }
    assert!(
        // The slack: about nodes x rate x flush interval = 2 x (1 per 30 ms) x 100 ms ≈ 7, plus timing jitter.
        (limit..=limit + 10).contains(&through),
        "{through} requests got through two nodes with a shared limit of {limit}"
    );
    a_few_flushes();
    assert_eq!(s.stored_count("3MVG9shared"), u64::from(through));
    for node in 0..2 {
        assert!(
            !s.allowed(node, "3MVG9shared"),
            "node {node} refuses once the counts are shared"
        );
    }
}

/// A node that learnt another node's count refuses a client it has not seen itself yet once its own first
/// request for it was flushed.
#[test]
fn a_node_learns_a_count_it_did_not_make() {
    let limit = 5;
    let s = Servers::start(2, per_client(limit));
    for _ in 0..limit {
        assert!(s.allowed(0, "3MVG9first"));
    }
    assert!(!s.allowed(0, "3MVG9first"));
    a_few_flushes();
    // Node 1 has never seen the client: its first request is judged on its own count (the slack), and the
    // flush that follows tells it the total.
    let first_on_1 = s.allowed(1, "3MVG9first");
    a_few_flushes();
    assert!(!s.allowed(1, "3MVG9first"), "node 1 learnt the total");
    assert_eq!(
        s.stored_count("3MVG9first"),
        u64::from(limit) + u64::from(first_on_1)
    );
}

/// The counters table disappears under a running SQLite server: every request is still answered, the limit is
/// still enforced on the node's own counts, and once the table is back the counts kept meanwhile reach it.
#[test]
fn a_database_that_cannot_take_the_counts_fails_no_request() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("org.sqlite");
    let s = Servers::start_on(
        dir,
        DatabaseUrl::Sqlite(file.clone()),
        None,
        1,
        per_client(5),
    );
    let raw = rusqlite::Connection::open(&file).expect("open the file");
    raw.busy_timeout(Duration::from_secs(10)).expect("timeout");
    let schema: String = raw
        .query_row(
            "SELECT sql FROM sqlite_master WHERE name = 'rate_counters'",
            [],
            |r| r.get(0),
        )
        .expect("the table exists");
    raw.execute_batch("DROP TABLE rate_counters").expect("drop");

    let through = (0..12).filter(|_| s.allowed(0, "3MVG9outage")).count();
    assert_eq!(through, 5, "the limit holds on the node's own counts");
    a_few_flushes();
    assert!(!s.allowed(0, "3MVG9outage"));
    assert!(s.allowed(0, "3MVG9during"), "other clients are served");

    raw.execute_batch(&schema).expect("the table is back");
    a_few_flushes();
    let stored: i64 = raw
        .query_row(
            "SELECT SUM(count) FROM rate_counters WHERE key LIKE 'client:%:3MVG9outage'",
            [],
            |r| r.get(0),
        )
        .expect("the counts kept during the outage were flushed");
    assert_eq!(stored, 5);
}
