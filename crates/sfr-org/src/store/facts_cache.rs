//! A grant's facts kept in memory between grants, for as long as nothing they were read from has changed.
//!
//! Every table a grant's facts come from (the org, profiles, permission sets, users and their permission sets,
//! apps and their profiles and permission sets, approvals) bumps one counter, `facts_version`, by trigger, in
//! the same transaction as the change — whichever process or node makes it. A grant reads the counter (one
//! statement) and uses the facts cached under that same value; on a miss it reads the facts in the same snapshot
//! as the counter and caches them under it. A cached entry is therefore never used after a change it does not
//! show has committed: a grant decides on the same data it would have read, one statement instead of seven.
//!
//! A token grant goes one step further (`Store::cached_grant_facts`): it decides on the entry cached under the
//! newest version this cache has seen, without reading the counter, and its write confirms that version in
//! its own transaction (`StoreError::FactsChanged` otherwise, and the grant is decided again on facts read from
//! the store); a grant those facts refuse confirms the version by a read before it answers. On SQLite the
//! counter's read then happens on the writer's connection, whose pages stay cached across its own commits,
//! instead of on a reader whose cache every commit empties.
//!
//! What is cached is what the store read, not a decision: lockouts, expiries and approvals are still judged
//! against the grant's own clock. The decrypted consumer secret is cached with its app, in this process's memory
//! only (where the key that decrypts it already lives), together with the HMAC key it signs responses with
//! (`ConsumerSecret`): set up once per app until the app changes, not on every grant.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::model::{GrantFacts, GrantLookup};

/// Entries kept at most; the cache starts over when it is full. A grant's lookup is one app and one user, so
/// this holds a busy org's working set while bounding what a flood of made-up usernames can take.
const MAX_ENTRIES: usize = 4_096;

/// The cache. Cheap to share: one short lock per grant.
#[derive(Debug, Default)]
pub(crate) struct FactsCache {
    inner: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    /// The `facts_version` every entry was read at.
    version: i64,
    /// Hashed with foldhash, seeded per cache as std's hasher is: a lookup is hashed on every grant, and
    /// SipHash over its consumer key was most of a hit's cost. Its keys come from requests (a JWT's `sub` is
    /// looked up before the signature is checked), which `MAX_ENTRIES` bounds.
    facts: HashMap<GrantLookup, GrantFacts, foldhash::fast::RandomState>,
}

impl FactsCache {
    /// The facts cached for `lookup`, if they were read at `version`.
    pub(crate) fn get(&self, version: i64, lookup: &GrantLookup) -> Option<GrantFacts> {
        let entries = self.inner.lock().ok()?;
        if entries.version != version {
            return None;
        }
        entries.facts.get(lookup).cloned()
    }

    /// The facts cached for `lookup` at the newest version this cache has seen, with that version: what a
    /// grant may decide on without reading the counter, if its write confirms the version
    /// (`Store::cached_grant_facts`).
    pub(crate) fn latest(&self, lookup: &GrantLookup) -> Option<(i64, GrantFacts)> {
        let entries = self.inner.lock().ok()?;
        let facts = entries.facts.get(lookup)?.clone();
        Some((entries.version, facts))
    }

    /// Keeps `facts`, read at `version`. Entries of an older version are dropped; facts read at an older version
    /// than the entries already kept are not kept (a slower reader must not bring back what a newer one replaced).
    pub(crate) fn put(&self, version: i64, lookup: &GrantLookup, facts: &GrantFacts) {
        let Ok(mut entries) = self.inner.lock() else {
            return;
        };
        if version < entries.version {
            return;
        }
        if version > entries.version || entries.facts.len() >= MAX_ENTRIES {
            entries.facts.clear();
            entries.version = version;
        }
        entries.facts.insert(lookup.clone(), facts.clone());
    }
}

/// Reads a grant's facts through the cache: `version` reads the counter, `read` the facts, both from `snapshot`
/// (one read transaction).
pub(crate) fn through<S, E>(
    cache: &FactsCache,
    lookup: &GrantLookup,
    snapshot: &mut S,
    version: impl FnOnce(&mut S) -> Result<i64, E>,
    read: impl FnOnce(&mut S) -> Result<GrantFacts, E>,
) -> Result<GrantFacts, E> {
    let version = version(snapshot)?;
    if let Some(facts) = cache.get(version, lookup) {
        return Ok(facts);
    }
    let facts = read(snapshot)?;
    cache.put(version, lookup, &facts);
    Ok(facts)
}

#[cfg(test)]
mod tests {
    use sfr_wire::SfId;

    use super::*;
    use crate::model::{GrantUser, Org};

    fn lookup(key: &str) -> GrantLookup {
        GrantLookup {
            consumer_key: key.to_owned(),
            user: GrantUser::RunAs,
            secret: true,
            approval: false,
        }
    }

    fn facts(name: &str) -> GrantFacts {
        GrantFacts {
            org: std::sync::Arc::new(Org {
                id: SfId::parse("00D000000000001AAA").expect("id"),
                name: name.to_owned(),
                dev_hub: true,
                connected_apps_permission: true,
                allow_connected_app_creation: true,
                session_timeout_minutes: Org::DEFAULT_SESSION_TIMEOUT_MINUTES,
                lockout_threshold: Org::DEFAULT_LOCKOUT_THRESHOLD,
                lockout_minutes: Org::DEFAULT_LOCKOUT_MINUTES,
                created_at: 0,
            }),
            app: None,
            secret: Some(crate::model::ConsumerSecret::new(name.to_owned())),
            user: None,
            approval: None,
        }
    }

    #[test]
    fn an_entry_is_used_only_at_the_version_it_was_read_at() {
        let cache = FactsCache::default();
        cache.put(3, &lookup("k"), &facts("a"));
        assert_eq!(cache.get(3, &lookup("k")), Some(facts("a")));
        assert_eq!(cache.get(4, &lookup("k")), None);
        assert_eq!(cache.get(3, &lookup("other")), None);
    }

    #[test]
    fn a_newer_version_replaces_every_entry_and_an_older_one_is_not_kept() {
        let cache = FactsCache::default();
        cache.put(3, &lookup("k"), &facts("a"));
        cache.put(3, &lookup("j"), &facts("b"));
        cache.put(5, &lookup("k"), &facts("c"));
        assert_eq!(cache.get(5, &lookup("k")), Some(facts("c")));
        assert_eq!(cache.get(5, &lookup("j")), None);
        cache.put(4, &lookup("j"), &facts("stale"));
        assert_eq!(cache.get(4, &lookup("j")), None);
        assert_eq!(cache.get(5, &lookup("j")), None);
    }

    #[test]
    fn a_full_cache_starts_over() {
        let cache = FactsCache::default();
        for i in 0..MAX_ENTRIES {
            cache.put(1, &lookup(&format!("k{i}")), &facts("a"));
        }
        assert!(cache.get(1, &lookup("k0")).is_some());
        cache.put(1, &lookup("one more"), &facts("b"));
        assert_eq!(cache.get(1, &lookup("k0")), None);
        assert_eq!(cache.get(1, &lookup("one more")), Some(facts("b")));
    }

    #[test]
    fn through_reads_once_per_version() {
        let cache = FactsCache::default();
        let mut reads = 0;
        for version in [1, 1, 1, 2, 2] {
            let got = through::<_, ()>(
                &cache,
                &lookup("k"),
                &mut reads,
                |_| Ok(version),
                |reads| {
                    *reads += 1;
                    Ok(facts(&format!("v{version}")))
                },
            )
            .expect("read");
            assert_eq!(got, facts(&format!("v{version}")));
        }
        assert_eq!(reads, 2);
    }
}
