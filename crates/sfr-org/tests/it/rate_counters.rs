//! The shared rate-limit counters (`Store::add_rate_counts`): storage-suite cases (run on both backends by
//! `store.rs`'s `storage_suite!`), and two stores on one database — two nodes — flushing at once.

use std::collections::BTreeMap;
use std::sync::{Arc, Barrier};

use sfr_org::store::{self, DatabaseUrl, RateCount, Store};

use crate::store::T0;

fn count(key: &str, window_start: i64, delta: u64) -> RateCount {
    RateCount {
        key: key.to_owned(),
        window_start,
        expires_at: window_start + 10_000,
        delta,
    }
}

/// The total of one counter now (a delta of 0 only reads).
fn total(store: &dyn Store, key: &str, window_start: i64, now: i64) -> u64 {
    store
        .add_rate_counts(&[count(key, window_start, 0)], now)
        .expect("read a counter")[0]
}

/// Counts add up per key and window; totals come back in the order given, duplicates summed.
pub fn rate_counts_add_up(store: &dyn Store) {
    assert_eq!(store.add_rate_counts(&[], T0).unwrap(), Vec::<u64>::new());
    assert_eq!(
        store
            .add_rate_counts(
                &[
                    count("client:1000:a", T0, 3),
                    count("address:1000:b", T0, 2)
                ],
                T0
            )
            .unwrap(),
        vec![3, 2]
    );
    assert_eq!(
        store
            .add_rate_counts(
                &[
                    count("client:1000:a", T0 + 1_000, 1),
                    count("client:1000:a", T0, 4),
                    count("client:1000:a", T0, 1),
                ],
                T0 + 1,
            )
            .unwrap(),
        vec![1, 8, 8],
        "another window is another counter; duplicates in one batch are summed"
    );
    assert_eq!(total(store, "client:1000:a", T0, T0 + 2), 8);
    assert_eq!(total(store, "address:1000:b", T0, T0 + 2), 2);
    assert_eq!(total(store, "client:1000:nobody", T0, T0 + 2), 0);
}

/// A counter is deleted by the first call at or after its `expires_at`, and counts from zero afterwards.
pub fn expired_rate_counters_are_deleted(store: &dyn Store) {
    let mut short = count("client:1000:old", T0, 5);
    short.expires_at = T0 + 2_000;
    assert_eq!(
        store.add_rate_counts(&[short.clone()], T0).unwrap(),
        vec![5]
    );
    assert_eq!(
        store.add_rate_counts(&[short.clone()], T0 + 1_999).unwrap(),
        vec![10],
        "still there just before it expires"
    );
    // Any later flush, whatever it counts, deletes it.
    store
        .add_rate_counts(&[count("client:1000:other", T0 + 2_000, 1)], T0 + 2_000)
        .unwrap();
    assert_eq!(
        store.add_rate_counts(&[short], T0 + 2_000).unwrap(),
        vec![5],
        "the expired counter was deleted; this starts a new one"
    );
    assert_eq!(total(store, "client:1000:other", T0 + 2_000, T0 + 2_001), 1);
}

/// Flushes that each add to a few shared counters, in varying order; `totals` gets what each flush saw.
fn flush_many(
    stores: Vec<Arc<dyn Store>>,
    threads: usize,
    flushes: u64,
) -> Vec<BTreeMap<String, Vec<u64>>> {
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let store = Arc::clone(&stores[t % stores.len()]);
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                let mut seen: BTreeMap<String, Vec<u64>> = BTreeMap::new();
                barrier.wait();
                for n in 0..flushes {
                    let mut batch = vec![
                        count("client:1000:hot", T0, 1 + t as u64),
                        count("address:1000:hot", T0, 1),
                        count(&format!("client:1000:own-{t}"), T0, 1),
                    ];
                    batch.rotate_left((n as usize + t) % 3);
                    let totals = store.add_rate_counts(&batch, T0 + 1).expect("flush");
                    for (c, total) in batch.iter().zip(totals) {
                        seen.entry(c.key.clone()).or_default().push(total);
                    }
                }
                seen
            })
        })
        .collect();
    handles
        .into_iter()
        .map(|h| h.join().expect("no flush failed"))
        .collect()
}

fn check_flushes(store: &dyn Store, seen: &[BTreeMap<String, Vec<u64>>], flushes: u64) {
    let threads = seen.len() as u64;
    let hot = flushes * (1..=threads).sum::<u64>();
    assert_eq!(
        total(store, "client:1000:hot", T0, T0 + 2),
        hot,
        "no increment lost"
    );
    assert_eq!(
        total(store, "address:1000:hot", T0, T0 + 2),
        flushes * threads
    );
    for (t, by_key) in seen.iter().enumerate() {
        assert_eq!(
            total(store, &format!("client:1000:own-{t}"), T0, T0 + 2),
            flushes
        );
        for (key, totals) in by_key {
            assert!(
                totals.windows(2).all(|w| w[0] < w[1]),
                "each flush sees its own addition on top of the last: {key} {totals:?}"
            );
            assert!(totals.iter().all(|&t| t <= hot), "{key} {totals:?}");
        }
    }
}

/// Many threads flush to the same counters at once; the totals are exact.
pub fn concurrent_rate_flushes_add_up(store: Arc<dyn Store>) {
    let flushes = 30;
    let seen = flush_many(vec![Arc::clone(&store)], 6, flushes);
    check_flushes(store.as_ref(), &seen, flushes);
}

/// Two stores on one database (two nodes), three threads each, flushing to the same counters.
fn two_nodes_flush(url: &DatabaseUrl, first: Arc<dyn Store>, keys: Arc<sfr_org::keys::Keys>) {
    let second = store::open(url, keys).expect("second node");
    let flushes = 25;
    let seen = flush_many(vec![Arc::clone(&first), second], 6, flushes);
    check_flushes(first.as_ref(), &seen, flushes);
}

#[test]
fn two_postgres_nodes_flushing_at_once_lose_no_count() {
    let Some(db) = crate::store::postgres() else {
        return;
    };
    two_nodes_flush(&db.url, Arc::clone(&db.store), Arc::clone(&db.keys));
}

#[test]
fn two_sqlite_stores_on_one_file_flushing_at_once_lose_no_count() {
    let db = crate::store::sqlite();
    two_nodes_flush(
        &DatabaseUrl::Sqlite(db.path()),
        Arc::clone(&db.store),
        Arc::clone(&db.keys),
    );
}
