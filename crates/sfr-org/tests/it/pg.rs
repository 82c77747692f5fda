//! Two nodes on one database: the races that matter when several sfr-org processes share PostgreSQL (and, for
//! comparison, two stores on one SQLite file). Each case is a function over two independently opened stores —
//! two connection pools, as two nodes would have — and runs on both backends.

use std::sync::{Arc, Barrier};

use sfr_org::keys::{self, Keys};
use sfr_org::model::{
    IssueTokens, LockState, LoginEvent, LoginKind, Redeemed, RefreshUse, Revoked,
};
use sfr_org::store::{self, DatabaseUrl, Store};

use crate::store::{
    MINUTE, T0, access, alive, code, new_user, refresh, token_event, tokens_only, user_and_app,
};

/// Runs `threads` closures at once (after a barrier), node A for even `i`, node B for odd, and returns what each
/// gave, in order.
fn race<T: Send + 'static>(
    nodes: &[Arc<dyn Store>; 2],
    threads: usize,
    f: impl Fn(usize, &dyn Store) -> T + Send + Sync + 'static,
) -> Vec<T> {
    let barrier = Arc::new(Barrier::new(threads));
    let f = Arc::new(f);
    let handles: Vec<_> = (0..threads)
        .map(|i| {
            let store = Arc::clone(&nodes[i % 2]);
            let barrier = Arc::clone(&barrier);
            let f = Arc::clone(&f);
            std::thread::spawn(move || {
                barrier.wait();
                f(i, store.as_ref())
            })
        })
        .collect();
    handles
        .into_iter()
        .map(|h| h.join().expect("no racer panicked"))
        .collect()
}

/// Both nodes redeem one authorization code at once: exactly one gets it.
pub fn one_code_one_winner_across_nodes(nodes: [Arc<dyn Store>; 2]) {
    let (user, app) = user_and_app(nodes[0].as_ref());
    for round in 0..5 {
        let plaintext = format!("node-race-{round}");
        nodes[1]
            .insert_code(&code(&user, &app, &plaintext, T0))
            .unwrap();
        let hash = keys::hash_token(&plaintext);
        let outcomes = race(&nodes, 8, move |_, s| s.redeem_code(&hash, T0 + 1).unwrap());
        let fresh = outcomes
            .iter()
            .filter(|o| matches!(o, Redeemed::Fresh(_)))
            .count();
        let replayed = outcomes
            .iter()
            .filter(|o| matches!(o, Redeemed::Replayed(_)))
            .count();
        assert_eq!((fresh, replayed), (1, 7), "round {round}: {outcomes:?}");
    }
}

/// The login-history event of refresh number `i` of a race: every other refresh carries one, as the token
/// endpoint's do (on PostgreSQL that refresh is then one statement instead of a transaction), so both ways race.
fn refresh_event(i: usize) -> Option<LoginEvent> {
    i.is_multiple_of(2).then(|| LoginEvent {
        at: T0 + 1,
        username: None,
        user_id: None,
        consumer_key: Some("PlatformCLI".into()),
        kind: LoginKind::Token("refresh_token".into()),
        success: true,
        error_code: None,
        reason: format!("raced refresh #{i}"),
        source_ip: None,
    })
}

/// Both nodes refresh one refresh token at once: every refresh lands with its own session, and revoking the
/// token on one node ends all of them on the other.
pub fn concurrent_refreshes_of_one_token(nodes: [Arc<dyn Store>; 2]) {
    let (user, app) = user_and_app(nodes[0].as_ref());
    nodes[0]
        .issue_tokens(&tokens_only(
            access(&user, &app, "first-session", T0),
            Some(refresh(&user, &app, "shared-rt", T0)),
        ))
        .unwrap();
    let threads = 8;
    let (u, a) = (user.clone(), app.clone());
    let refreshed = race(&nodes, threads, move |i, s| {
        s.refresh(&RefreshUse {
            refresh_hash: keys::hash_token("shared-rt"),
            now: T0 + 1 + i as i64,
            new_access: access(&u, &a, &format!("refreshed-{i}"), T0 + 1 + i as i64),
            event: refresh_event(i),
            facts_version: None,
            mark_used: true,
        })
        .unwrap()
    });
    assert!(
        refreshed.iter().all(Option::is_some),
        "every refresh of a live token succeeds: {refreshed:?}"
    );
    let events = nodes[1].events(100).unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.reason.starts_with("raced refresh #"))
            .count(),
        threads / 2,
        "each refresh that carried an event recorded it once"
    );
    let rt = nodes[1]
        .refresh_token(&keys::hash_token("shared-rt"))
        .unwrap()
        .unwrap();
    assert!(
        (T0 + 1..=T0 + threads as i64).contains(&rt.last_used_at),
        "the use is noted: {}",
        rt.last_used_at - T0
    );
    for i in 0..threads {
        let session = nodes[i % 2]
            .access_token(&keys::hash_token(&format!("refreshed-{i}")))
            .unwrap()
            .expect("the session of every refresh is stored");
        assert_eq!(
            session.refresh_hash.as_deref(),
            Some(keys::hash_token("shared-rt").as_str())
        );
        assert!(session.is_alive(T0 + 10));
    }
    assert_eq!(
        nodes[1]
            .revoke_by_hash(&keys::hash_token("shared-rt"), T0 + 20)
            .unwrap(),
        Revoked::Refresh
    );
    for i in 0..threads {
        assert!(!alive(
            nodes[0].as_ref(),
            &format!("refreshed-{i}"),
            T0 + 21
        ));
    }
    assert!(!alive(nodes[0].as_ref(), "first-session", T0 + 21));
}

/// Refreshes race a revocation of the same token: afterwards no live session hangs off the revoked token (a
/// refresh either landed before the revocation, and was revoked with it, or saw the token revoked).
pub fn refresh_racing_revocation_leaves_nothing_alive(nodes: [Arc<dyn Store>; 2]) {
    let (user, app) = user_and_app(nodes[0].as_ref());
    for round in 0..6 {
        let rt = format!("raced-rt-{round}");
        nodes[round % 2]
            .issue_tokens(&tokens_only(
                access(&user, &app, &format!("raced-at-{round}"), T0),
                Some(refresh(&user, &app, &rt, T0)),
            ))
            .unwrap();
        let (u, a, rt2) = (user.clone(), app.clone(), rt.clone());
        let outcomes = race(&nodes, 6, move |i, s| {
            if i == 3 {
                (i, s.revoke_by_hash(&keys::hash_token(&rt2), T0 + 5).is_ok())
            } else {
                let got = s
                    .refresh(&RefreshUse {
                        refresh_hash: keys::hash_token(&rt2),
                        now: T0 + 1,
                        new_access: access(&u, &a, &format!("raced-{round}-{i}"), T0 + 1),
                        event: refresh_event(i),
                        facts_version: None,
                        mark_used: true,
                    })
                    .unwrap();
                (i, got.is_some())
            }
        });
        assert!(outcomes.iter().any(|&(i, ok)| i == 3 && ok));
        for &(i, refreshed) in &outcomes {
            if i == 3 {
                continue;
            }
            let session = nodes[0]
                .access_token(&keys::hash_token(&format!("raced-{round}-{i}")))
                .unwrap();
            assert_eq!(
                session.is_some(),
                refreshed,
                "a session exists exactly when the refresh said so"
            );
            if let Some(s) = session {
                assert!(
                    !s.is_alive(T0 + 10),
                    "round {round}: a session of a revoked refresh token is alive"
                );
            }
        }
        assert!(
            nodes[1]
                .refresh_token(&keys::hash_token(&rt))
                .unwrap()
                .unwrap()
                .revoked_at
                .is_some()
        );
    }
}

/// Failed logins counted on both nodes at once are all counted: 10 failures at a threshold of 5 lock exactly
/// twice, and the lock shows on both nodes.
pub fn lockout_counts_every_failure_across_nodes(nodes: [Arc<dyn Store>; 2]) {
    let user = nodes[0]
        .create_user(&new_user("locked@example.com", "Standard User"))
        .unwrap();
    let id = user.id.clone();
    let outcomes = race(&nodes, 10, move |_, s| {
        s.record_failed_login(&id, T0).unwrap()
    });
    let locks = outcomes
        .iter()
        .filter(|o| matches!(o, LockState::Locked { .. }))
        .count();
    let mut counts: Vec<u32> = outcomes
        .iter()
        .filter_map(|o| match o {
            LockState::Open { failures, .. } => Some(*failures),
            LockState::Locked { .. } => None,
        })
        .collect();
    counts.sort_unstable();
    assert_eq!(locks, 2, "{outcomes:?}");
    assert_eq!(counts, [1, 1, 2, 2, 3, 3, 4, 4], "{outcomes:?}");
    for node in &nodes {
        let seen = node.user_by_id(&user.id).unwrap().unwrap();
        assert!(seen.is_locked(T0 + 1), "locked on every node");
        assert!(!seen.is_locked(T0 + 15 * MINUTE));
    }
}

macro_rules! two_node_suite {
    ($pair:path) => {
        two_node_suite!(@each $pair;
            one_code_one_winner_across_nodes,
            concurrent_refreshes_of_one_token,
            refresh_racing_revocation_leaves_nothing_alive,
            lockout_counts_every_failure_across_nodes,
        );
    };
    (@each $pair:path; $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                let Some((nodes, _keep)) = $pair() else { return };
                super::$name(nodes);
            }
        )*
    };
}

type Pair<K> = Option<([Arc<dyn Store>; 2], K)>;

/// Two stores on one fresh PostgreSQL database.
fn postgres_pair() -> Pair<()> {
    let db = crate::store::postgres()?;
    let second = store::open(&db.url, Arc::clone(&db.keys)).expect("second node");
    Some(([db.store, second], ()))
}

/// Two stores on one SQLite file (the temp dir is kept alive by the second tuple member).
fn sqlite_pair() -> Pair<tempfile::TempDir> {
    let db = crate::store::sqlite();
    let url = DatabaseUrl::Sqlite(db.path());
    let second = store::open(&url, Arc::clone(&db.keys)).expect("second store");
    Some(([db.store, second], db.dir))
}

mod on_postgres {
    use super::*;

    two_node_suite!(postgres_pair);

    /// Nodes starting together on an empty database: migrations run once, one org is created.
    #[test]
    fn nodes_starting_together_make_one_org() {
        let Some(url) = crate::pg_harness::fresh_database() else {
            return;
        };
        let url = DatabaseUrl::parse(&url).unwrap();
        let keys = Arc::new(Keys::ephemeral());
        let barrier = Arc::new(Barrier::new(4));
        let created: Vec<bool> = (0..4)
            .map(|_| {
                let (url, keys, barrier) = (url.clone(), Arc::clone(&keys), Arc::clone(&barrier));
                std::thread::spawn(move || {
                    barrier.wait();
                    let store = store::open(&url, keys).expect("open");
                    store
                        .bootstrap(&crate::store::bootstrap_init())
                        .expect("bootstrap")
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect();
        assert_eq!(created.iter().filter(|c| **c).count(), 1, "{created:?}");
        let store = store::open(&url, keys).unwrap();
        assert_eq!(store.list_users().unwrap().len(), 1, "one admin");
        assert_eq!(store.list_apps().unwrap().len(), 1, "one PlatformCLI");
    }

    /// The cap on live refresh tokens never waits for a row another transaction holds (a refresh of that token
    /// in flight, say): the grant answers at once, the held token is left live, and a later grant's cap revokes
    /// it. (A cap that locked the user's tokens in order waited here until the other transaction ended.)
    #[test]
    fn the_refresh_cap_skips_a_token_another_transaction_holds() {
        let Some(url) = crate::pg_harness::fresh_database() else {
            return;
        };
        let store = store::open(
            &DatabaseUrl::parse(&url).unwrap(),
            Arc::new(Keys::ephemeral()),
        )
        .unwrap();
        assert!(store.bootstrap(&crate::store::bootstrap_init()).unwrap());
        let (user, app) = user_and_app(store.as_ref());
        let grant = move |n: i64| {
            tokens_only(
                access(&user, &app, &format!("at-cap-{n}"), T0 + n),
                Some(refresh(&user, &app, &format!("rt-cap-{n}"), T0 + n)),
            )
        };
        for n in 0..5 {
            store.issue_tokens(&grant(n)).unwrap();
        }
        let mut other = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        let mut held = other.transaction().unwrap();
        held.execute(
            "SELECT 1 FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE",
            &[&keys::token_key("rt-cap-0")],
        )
        .unwrap();
        let (done, finished) = std::sync::mpsc::channel();
        let worker = {
            let (store, sixth) = (Arc::clone(&store), grant(5));
            std::thread::spawn(move || {
                let _ = done.send(store.issue_tokens(&sixth));
            })
        };
        let answered = finished.recv_timeout(std::time::Duration::from_secs(10));
        held.commit().unwrap();
        worker.join().unwrap();
        answered
            .expect("the grant answered while another transaction held a token")
            .unwrap();
        assert!(
            crate::store::refresh_live(store.as_ref(), "rt-cap-0"),
            "the held token is left for a later cap"
        );
        store.issue_tokens(&grant(6)).unwrap();
        let live: Vec<i64> = (0..7)
            .filter(|n| crate::store::refresh_live(store.as_ref(), &format!("rt-cap-{n}")))
            .collect();
        assert_eq!(live, vec![2, 3, 4, 5, 6]);
    }

    /// One grant's cap revokes at most 100 tokens beyond the five newest (the bound keeps its statement on the
    /// live-tokens index whatever the table's statistics say); a backlog, which only tokens written around the
    /// store can make, goes with the next grants.
    #[test]
    fn one_cap_revokes_at_most_a_hundred_and_the_next_grants_the_rest() {
        let Some(url) = crate::pg_harness::fresh_database() else {
            return;
        };
        let store = store::open(
            &DatabaseUrl::parse(&url).unwrap(),
            Arc::new(Keys::ephemeral()),
        )
        .unwrap();
        assert!(store.bootstrap(&crate::store::bootstrap_init()).unwrap());
        let (user, app) = user_and_app(store.as_ref());
        let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        admin
            .execute(
                "INSERT INTO refresh_tokens (token_hash, app_id, user_id, scopes, from_code, issued_at, last_used_at)
                 SELECT 'backlog-' || g, $1, $2, 'api', NULL, $3::BIGINT + g, $3::BIGINT + g FROM generate_series(1, 150) g",
                &[&app.as_str(), &user.id.as_str(), &(T0 - 1_000)],
            )
            .unwrap();
        let live = |admin: &mut postgres::Client| -> i64 {
            admin
                .query_one(
                    "SELECT count(*) FROM refresh_tokens WHERE user_id = $1 AND revoked_at IS NULL",
                    &[&user.id.as_str()],
                )
                .unwrap()
                .get(0)
        };
        let grant = |n: i64| {
            tokens_only(
                access(&user, &app, &format!("at-backlog-{n}"), T0 + n),
                Some(refresh(&user, &app, &format!("rt-backlog-{n}"), T0 + n)),
            )
        };
        store.issue_tokens(&grant(0)).unwrap();
        assert_eq!(
            live(&mut admin),
            151 - 100,
            "the newest five and the 46 oldest of the backlog"
        );
        let oldest_kept: Option<String> = admin
            .query_opt(
                "SELECT token_hash FROM refresh_tokens WHERE token_hash = 'backlog-1' AND revoked_at IS NULL",
                &[],
            )
            .unwrap()
            .map(|r| r.get(0));
        assert!(
            oldest_kept.is_some(),
            "the cap takes the newest of the excess first"
        );
        store.issue_tokens(&grant(1)).unwrap();
        assert_eq!(live(&mut admin), 5);
        assert!(crate::store::refresh_live(store.as_ref(), "rt-backlog-1"));
    }

    /// The last handle to a store may go away on a thread that drives async tasks (a server shutting down);
    /// closing its connections must not panic there.
    #[test]
    fn a_store_can_be_dropped_inside_an_async_runtime() {
        let Some(db) = crate::store::postgres() else {
            return;
        };
        db.store.org().expect("a pooled connection");
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let store = db.store;
        rt.block_on(async move { drop(store) });
    }

    /// Connections cut by the server (a restart, a failover, an administrator) are replaced: the next use cases
    /// succeed on fresh connections instead of failing on the dead ones in the pool.
    #[test]
    fn cut_connections_are_replaced_without_failing_a_request() {
        let Some(db) = crate::store::postgres() else {
            return;
        };
        let DatabaseUrl::Postgres(pg) = &db.url else {
            unreachable!("a PostgreSQL URL")
        };
        // Fill the pool with several idle connections.
        let nodes = [Arc::clone(&db.store), Arc::clone(&db.store)];
        race(&nodes, 6, |_, s| s.org().unwrap());
        let server = crate::pg_harness::server().expect("running");
        let mut admin = postgres::Client::connect(&server.admin_url(), postgres::NoTls).unwrap();
        let cut = admin
            .execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                 WHERE datname = $1 AND pid <> pg_backend_pid()",
                &[&pg.database()],
            )
            .unwrap();
        assert!(cut >= 2, "the pool held connections: {cut}");
        for n in 0..5 {
            db.store.org().expect("a read after the cut");
            db.store
                .create_user(&new_user(
                    &format!("after-cut-{n}@example.com"),
                    "Standard User",
                ))
                .expect("a write after the cut");
        }
    }

    /// Every call a token request awaits is answered without blocking a thread on PostgreSQL (the storage suite's
    /// `non_blocking_calls_agree_with_blocking_ones` checks what each answers, and skips a call a backend leaves
    /// to the blocking pool: this is what makes it check them all here). The futures are dropped unpolled.
    #[test]
    fn postgres_answers_every_hot_call_without_blocking() {
        let Some(db) = crate::store::postgres() else {
            return;
        };
        let (user, app) = user_and_app(db.store.as_ref());
        let s = db.store.as_ref();
        let event = token_event(&user, T0, "hot");
        let issue = IssueTokens {
            access: access(&user, &app, "at-hot", T0),
            refresh: None,
            from_code: None,
            event: Some(event.clone()),
            facts_version: None,
        };
        let use_ = RefreshUse {
            refresh_hash: keys::token_key("rt-hot"),
            now: T0,
            new_access: access(&user, &app, "at-hot-2", T0),
            event: Some(event.clone()),
            facts_version: None,
            mark_used: true,
        };
        let judge: sfr_org::model::CodeJudge = Arc::new(|_, _| None);
        let hash = keys::token_key("hot");
        assert!(s.issue_tokens_async(issue).is_ok(), "issue");
        assert!(
            s.exchange_code_async(&hash, T0, None, &judge).is_some(),
            "exchange"
        );
        assert!(s.refresh_token_async(&hash).is_some(), "refresh token read");
        assert!(s.refresh_async(&use_).is_some(), "refresh use");
        assert!(s.session_async(&hash).is_some(), "session");
        assert!(
            s.session_recorded_async(&hash, Box::new(|_| None)).is_ok(),
            "judged session"
        );
        assert!(s.record_event_async(&event).is_some(), "event");
        assert!(s.touch_access_token_async(&hash, T0).is_some(), "touch");
        assert!(s.facts_version_async().is_some(), "facts counter");
    }

    /// The same for the connections a request awaits without blocking (`Store::*_async`), which the server's
    /// runtime drives: the dead ones are dropped and the calls after the cut succeed on new ones.
    #[test]
    fn cut_non_blocking_connections_are_replaced() {
        let Some(db) = crate::store::postgres() else {
            return;
        };
        let DatabaseUrl::Postgres(pg) = &db.url else {
            unreachable!("a PostgreSQL URL")
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let (user, app) = user_and_app(db.store.as_ref());
        db.store
            .issue_tokens(&tokens_only(access(&user, &app, "at-cut", T0), None))
            .unwrap();
        let hash = keys::token_key("at-cut");
        let session = |store: &Arc<dyn Store>| {
            let pending = store
                .session_async(&hash)
                .expect("PostgreSQL reads sessions without blocking");
            runtime.block_on(pending)
        };
        // Several reads at once leave several idle connections in the pool.
        let reads: Vec<_> = (0..6)
            .map(|_| runtime.spawn(db.store.session_async(&hash).unwrap()))
            .collect();
        for read in reads {
            assert!(runtime.block_on(read).unwrap().unwrap().is_some());
        }
        let server = crate::pg_harness::server().expect("running");
        let mut admin = postgres::Client::connect(&server.admin_url(), postgres::NoTls).unwrap();
        let cut = admin
            .execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                 WHERE datname = $1 AND pid <> pg_backend_pid()",
                &[&pg.database()],
            )
            .unwrap();
        assert!(cut >= 2, "the pool held connections: {cut}");
        // Once the server's side is gone (and the runtime has seen the sockets close), a write — which is not
        // retried after a lost connection, since it may have landed — must not be sent on a dead connection.
        let gone = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while admin
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                &[&pg.database()],
            )
            .unwrap()
            .get::<_, i64>(0)
            > 0
        {
            assert!(std::time::Instant::now() < gone, "the cut backends did not exit");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        for n in 0..5 {
            let event = token_event(&user, T0 + n, &format!("after the cut {n}"));
            let pending = db.store.record_event_async(&event).unwrap();
            runtime.block_on(pending).expect("a write after the cut");
            let found = session(&db.store).expect("a read after the cut");
            assert_eq!(found.map(|s| s.token.token_hash), Some(hash.clone()));
        }
        assert_eq!(db.store.events(1).unwrap()[0].reason, "after the cut 4");
    }

    /// A server that is not there is named in the error, without the password.
    #[test]
    fn an_unreachable_server_is_a_clear_error() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url =
            DatabaseUrl::parse(&format!("postgres://sfr:hunter2@127.0.0.1:{port}/org")).unwrap();
        let Err(err) = store::open(&url, Arc::new(Keys::ephemeral())) else {
            panic!("opened a database on a port nobody listens on");
        };
        let text = err.to_string();
        assert!(
            text.contains(&format!("127.0.0.1:{port}/org")),
            "names the server: {text}"
        );
        assert!(!text.contains("hunter2"), "no password in: {text}");
    }
}

mod on_sqlite {
    use super::*;

    two_node_suite!(sqlite_pair);
}
