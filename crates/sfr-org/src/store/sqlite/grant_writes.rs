//! The writes of the token endpoint as jobs for the writer thread (`group_commit`), built once and queued either
//! by a blocking caller (`Store::issue_tokens`) or by an async one (`Store::issue_tokens_async`).

use std::future::{Future, ready};
use std::sync::Arc;

use sfr_wire::SfId;

use super::in_batch::InBatch;
use super::{events, tokens};
use crate::model::{
    CodeJudge, Exchange, IssueTokens, LoginEvent, Redeemed, RefreshJudge, RefreshToken, RefreshUse,
    SessionJudge, StoredSession, User,
};
use crate::store::ready_steps::at_once;
use crate::store::{StoreError, StoreResult, code_exchange};

/// A grant's tokens and its login-history event.
pub(super) fn issue(
    issue: IssueTokens,
) -> impl FnOnce(&InBatch<'_>) -> StoreResult<()> + Send + 'static {
    move |c| store_issue(c, &issue)
}

/// A grant's tokens and its event, if the facts it was decided on are still current, and what it issued on its
/// code's row if it has one.
fn store_issue(c: &InBatch<'_>, issue: &IssueTokens) -> StoreResult<()> {
    store_grant(c, issue)?;
    tokens::record_on_code(c, issue)
}

/// `store_issue` but the code's row: what a code exchange on the writer records when it spends the code.
fn store_grant(c: &InBatch<'_>, issue: &IssueTokens) -> StoreResult<()> {
    c.confirm_facts(issue.facts_version)?;
    tokens::issue_tokens(c, issue)?;
    issue
        .event
        .as_ref()
        .map_or(Ok(()), |e| events::record(c, e))
}

/// A refresh-token use and its new session, if the facts the grant was decided on are still current; the event
/// only when the refresh token was usable.
pub(super) fn refresh(
    refresh: &RefreshUse,
) -> impl FnOnce(&InBatch<'_>) -> StoreResult<Option<RefreshToken>> + Send + 'static {
    let refresh = refresh.clone();
    move |c| mark_used(c, &refresh, None)
}

/// A refresh grant in one trip to the writer (`Store::refresh_judged_async`): its token read on the writer's
/// warm connection, judged, and the judge's use stored as `refresh` stores it, in one transaction — where the
/// read and the write were two trips, each a wake-up of the writer and, alone, a transaction of its own.
pub(super) fn refresh_judged(
    token_hash: &str,
    judge: RefreshJudge,
) -> impl FnOnce(&InBatch<'_>) -> StoreResult<Option<RefreshToken>> + Send + 'static {
    let token_hash = token_hash.to_owned();
    move |c| {
        let read = tokens::refresh_token_for_use(c, &token_hash)?;
        match judge(read.as_ref().map(|(_, token)| token)) {
            Some(use_) => mark_used(c, &use_, read),
            None => Ok(None),
        }
    }
}

/// Stores a refresh token's use (`tokens::refresh`) with its login-history event, once the facts it was decided
/// on are confirmed; by the rowid the token was read at in this transaction, if it was.
fn mark_used(
    c: &InBatch<'_>,
    u: &RefreshUse,
    read: Option<(i64, RefreshToken)>,
) -> StoreResult<Option<RefreshToken>> {
    c.confirm_facts(u.facts_version)?;
    let used = match read {
        Some((rowid, token)) => tokens::refresh_read(c, rowid, token, u)?,
        None => tokens::refresh(c, u)?,
    };
    if let (Some(_), Some(e)) = (&used, &u.event) {
        events::record(c, e)?;
    }
    Ok(used)
}

/// A bearer token's session and its user (`Store::session_async`), the user from the writer's memo when it has
/// it (`writer_memo`).
pub(super) fn read_session(
    c: &InBatch<'_>,
    token_hash: &str,
) -> StoreResult<Option<StoredSession>> {
    let Some(token) = tokens::access_token(c, token_hash, c.cutoffs()?)? else {
        return Ok(None);
    };
    let user = c.user_by_id(&token.user_id)?;
    Ok(Some(StoredSession { token, user }))
}

/// A session read and the login-history row its judge makes of it (`Store::session_recorded_async`), in one
/// trip to the writer.
pub(super) fn session_recorded(
    token_hash: &str,
    judge: SessionJudge,
) -> impl FnOnce(&InBatch<'_>) -> StoreResult<(Option<StoredSession>, bool)> + Send + 'static {
    let token_hash = token_hash.to_owned();
    move |c| {
        let session = read_session(c, &token_hash)?;
        let event = judge(session.as_ref());
        if let Some(event) = &event {
            events::record(c, event)?;
        }
        Ok((session, event.is_some()))
    }
}

pub(super) fn redeem(
    code_hash: &str,
    now: i64,
) -> impl FnOnce(&InBatch<'_>) -> StoreResult<Redeemed> + Send + 'static {
    let code_hash = code_hash.to_owned();
    move |c| tokens::redeem_code(c, &code_hash, now)
}

/// A code exchange (`Store::exchange_code`, `store::code_exchange`) on the writer's connection, whose pages stay
/// cached across its own commits: the code and the user cost less to read there than on a reader, whose cache
/// every commit empties. The code is spent once the exchange is decided, in one write of its row with the keys
/// of what it issued.
pub(super) fn exchange(
    code_hash: &str,
    now: i64,
    facts: Option<i64>,
    judge: &CodeJudge,
) -> impl FnOnce(&InBatch<'_>) -> StoreResult<Exchange> + Send + 'static {
    let code_hash = code_hash.to_owned();
    let judge = Arc::clone(judge);
    move |c| {
        let mut steps = OnWriter {
            tx: c,
            now,
            claim: None,
        };
        let exchange = at_once(code_exchange::run(
            &mut steps, &code_hash, now, facts, &judge,
        ))?;
        steps.spend()?;
        Ok(exchange)
    }
}

/// The writer's connection, inside its transaction, with the code it claimed and has not spent yet.
struct OnWriter<'a, 'c> {
    tx: &'a InBatch<'c>,
    now: i64,
    claim: Option<tokens::Claim>,
}

impl OnWriter<'_, '_> {
    /// Spends the code claimed and not spent by `issue` (expired, or refused by the judge), with nothing issued.
    fn spend(self) -> StoreResult<()> {
        match self.claim {
            Some(claim) => tokens::spend_code(self.tx, claim, self.now, None),
            None => Ok(()),
        }
    }
}

/// Each step runs on the connection when called and hands back its answer, ready.
impl code_exchange::ExchangeSteps for OnWriter<'_, '_> {
    type Error = StoreError;
    fn confirm_facts(
        &mut self,
        version: Option<i64>,
    ) -> impl Future<Output = StoreResult<()>> + Send {
        ready(self.tx.confirm_facts(version))
    }
    /// Finds the code for a claim; `spend`, after the exchange, spends it.
    fn redeem(
        &mut self,
        code_hash: &str,
        now: i64,
    ) -> impl Future<Output = StoreResult<Redeemed>> + Send {
        ready(
            tokens::find_claim(self.tx, code_hash, now).map(|(redeemed, claim)| {
                self.claim = claim;
                redeemed
            }),
        )
    }
    fn user_by_id(&mut self, id: &SfId) -> impl Future<Output = StoreResult<Option<User>>> + Send {
        ready(self.tx.user_by_id(id))
    }
    /// The tokens and the event, then the code spent with their keys, in one write of its row.
    fn issue(&mut self, issue: &IssueTokens) -> impl Future<Output = StoreResult<()>> + Send {
        let stored = store_grant(self.tx, issue).and_then(|()| {
            if issue.from_code.is_none() {
                return Ok(()); // nothing to record: `spend` spends the code
            }
            let Some(claim) = self.claim.take() else {
                return Ok(());
            };
            let issued = (
                issue.access.token_hash.as_str(),
                tokens::issued_refresh(issue),
            );
            tokens::spend_code(self.tx, claim, self.now, Some(issued))
        });
        ready(stored)
    }
}

pub(super) fn event(
    event: &LoginEvent,
) -> impl FnOnce(&InBatch<'_>) -> StoreResult<()> + Send + 'static {
    let event = event.clone();
    move |c| events::record(c, &event)
}

pub(super) fn touch(
    token_hash: &str,
    now: i64,
) -> impl FnOnce(&InBatch<'_>) -> StoreResult<()> + Send + 'static {
    let token_hash = token_hash.to_owned();
    move |c| tokens::touch(c, &token_hash, now, c.cutoffs()?)
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use sfr_wire::SfId;

    use super::refresh_judged;
    use crate::keys;
    use crate::model::{
        IssueTokens, LoginEvent, LoginKind, NewAccessToken, NewRefreshToken, RefreshJudge,
        RefreshToken, RefreshUse, Scope,
    };
    use crate::store::sqlite::SqliteStore;
    use crate::store::sqlite::in_batch::InBatch;
    use crate::store::sqlite::tests::{await_all, open_store};
    use crate::store::sqlite::writer_memo::WriterMemo;
    use crate::store::{Store as _, StoreError};

    const T0: i64 = 1_700_000_000_000;
    const LATER: i64 = T0 + 60_000;

    fn ids() -> (SfId, SfId) {
        (SfId::new("0Hn", 1), SfId::new("005", 1))
    }

    fn access(plaintext: &str) -> NewAccessToken {
        let (app_id, user_id) = ids();
        NewAccessToken {
            token_hash: keys::token_key(plaintext),
            app_id,
            user_id,
            scopes: vec![Scope::Api, Scope::RefreshToken],
            issued_at: LATER,
            session_timeout_ms: 3_600_000,
        }
    }

    /// A grant that stored session `access_plaintext` and refresh token `refresh_plaintext` at `T0`.
    fn granted(access_plaintext: &str, refresh_plaintext: &str) -> IssueTokens {
        let (app_id, user_id) = ids();
        IssueTokens {
            access: NewAccessToken {
                issued_at: T0,
                ..access(access_plaintext)
            },
            refresh: Some(NewRefreshToken {
                token_hash: keys::token_key(refresh_plaintext),
                app_id,
                user_id,
                scopes: vec![Scope::Api, Scope::RefreshToken],
                issued_at: T0,
            }),
            from_code: None,
            event: None,
            facts_version: None,
        }
    }

    /// A session alone, from a grant decided on the facts at `facts_version` (`None`: nothing to confirm).
    fn decided_on(access_plaintext: &str, facts_version: Option<i64>) -> IssueTokens {
        IssueTokens {
            refresh: None,
            facts_version,
            ..granted(access_plaintext, "unused")
        }
    }

    fn use_of(refresh_plaintext: &str, access_plaintext: &str) -> RefreshUse {
        RefreshUse {
            refresh_hash: keys::token_key(refresh_plaintext),
            now: LATER,
            new_access: access(access_plaintext),
            event: Some(LoginEvent {
                at: LATER,
                username: None,
                user_id: Some(ids().1),
                consumer_key: None,
                kind: LoginKind::Token("refresh_token".into()),
                success: true,
                error_code: None,
                reason: "refreshed".into(),
                source_ip: None,
            }),
            facts_version: None,
            mark_used: true,
        }
    }

    /// `refresh_judged` of the token `read`, run on the store's writer connection.
    fn judged(store: &SqliteStore, read: &str, judge: RefreshJudge) -> Option<RefreshToken> {
        let conn = store.writer.lock().unwrap();
        refresh_judged(&keys::token_key(read), judge)(&InBatch::new(&conn, &WriterMemo::default()))
            .unwrap()
    }

    /// When the refresh token `rt` was last used, as stored.
    fn last_used(store: &SqliteStore, rt: &str) -> i64 {
        store
            .refresh_token(&keys::token_key(rt))
            .unwrap()
            .unwrap()
            .last_used_at
    }

    /// A judge that keeps what it was shown and answers `answer`.
    fn judge(
        answer: Option<RefreshUse>,
    ) -> (RefreshJudge, Arc<Mutex<Option<Option<RefreshToken>>>>) {
        let shown = Arc::new(Mutex::new(None));
        let keep = Arc::clone(&shown);
        let judge: RefreshJudge = Box::new(move |token: Option<&RefreshToken>| {
            *keep.lock().unwrap() = Some(token.cloned());
            answer
        });
        (judge, shown)
    }

    /// A grant on outdated facts (client credentials, JWT bearer) stores nothing and fails alone: the grants
    /// queued with it, most likely in the same transaction (the writer is held while they queue), keep their
    /// tokens.
    #[test]
    fn an_outdated_grant_fails_alone_among_current_ones() {
        let (_dir, store) = open_store();
        let at = store.facts_version().unwrap();
        store.create_permission_set("Outdating", "", T0).unwrap();
        let now = store.facts_version().unwrap();
        assert_ne!(at, now);
        let grant = |access: &str, version| decided_on(access, Some(version));
        let held = store.writer.lock().unwrap();
        let pending: Vec<_> = [grant("at-1", now), grant("at-old", at), grant("at-2", now)]
            .into_iter()
            .map(|g| store.group.write_async(super::issue(g)))
            .collect();
        drop(held);
        let answers = await_all(pending);
        assert!(answers[0].is_ok(), "{:?}", answers[0]);
        assert!(
            matches!(answers[1], Err(StoreError::FactsChanged)),
            "{:?}",
            answers[1]
        );
        assert!(answers[2].is_ok(), "{:?}", answers[2]);
        let stored = |a: &str| store.access_token(&keys::token_key(a)).unwrap().is_some();
        assert!(stored("at-1") && stored("at-2"));
        assert!(!stored("at-old"));
    }

    /// Runs `grants` in one transaction on the store's writer, as a batch of the writer thread runs them, and
    /// returns how many statements they sent between them and each one's answer.
    fn in_one_transaction(
        store: &SqliteStore,
        grants: Vec<IssueTokens>,
    ) -> (u64, Vec<Result<(), StoreError>>) {
        let conn = store.writer.lock().unwrap();
        conn.execute_batch("BEGIN IMMEDIATE").unwrap();
        let before = store.statements_executed().unwrap();
        let memo = WriterMemo::default();
        let tx = InBatch::new(&conn, &memo);
        let answers = grants.into_iter().map(|g| super::issue(g)(&tx)).collect();
        let sent = store.statements_executed().unwrap() - before;
        conn.execute_batch("COMMIT").unwrap();
        (sent, answers)
    }

    /// The grants of one transaction read the facts' counter once between them, and a grant decided on other
    /// facts still fails after the counter was read for another.
    #[test]
    fn a_transaction_reads_the_facts_counter_once() {
        let (_dir, store) = open_store();
        let now = store.facts_version().unwrap();
        let grant = decided_on;
        let (unchecked, answers) = in_one_transaction(
            &store,
            vec![grant("a1", None), grant("a2", None), grant("a3", None)],
        );
        assert!(answers.iter().all(Result::is_ok), "{answers:?}");
        let (checked, answers) = in_one_transaction(
            &store,
            vec![
                grant("b1", Some(now)),
                grant("b2", Some(now)),
                grant("b3", Some(now)),
            ],
        );
        assert!(answers.iter().all(Result::is_ok), "{answers:?}");
        assert_eq!(checked, unchecked + 1, "one read of the counter for three");

        let (_, answers) = in_one_transaction(
            &store,
            vec![grant("c1", Some(now)), grant("c-old", Some(now - 1))],
        );
        assert!(answers[0].is_ok(), "{:?}", answers[0]);
        assert!(
            matches!(answers[1], Err(StoreError::FactsChanged)),
            "{:?}",
            answers[1]
        );
        let stored = |a: &str| store.access_token(&keys::token_key(a)).unwrap().is_some();
        assert!(stored("b3") && stored("c1") && !stored("c-old"));
    }

    /// A refresh grant in one trip writes its use back to the token it read (found again by rowid, not by key):
    /// that token and no other is marked used, the new session and the event are stored, and the answer is the
    /// token as marked.
    #[test]
    fn a_judged_refresh_marks_the_token_it_read() {
        let (_dir, store) = open_store();
        store.issue_tokens(&granted("at-a", "rt-a")).unwrap();
        store.issue_tokens(&granted("at-b", "rt-b")).unwrap();
        let read_a = store
            .refresh_token(&keys::token_key("rt-a"))
            .unwrap()
            .unwrap();
        let events = store.events(100).unwrap().len();

        let (judge_a, shown) = judge(Some(use_of("rt-a", "at-new")));
        let used = judged(&store, "rt-a", judge_a);
        assert_eq!(shown.lock().unwrap().clone(), Some(Some(read_a.clone())));
        let marked = RefreshToken {
            last_used_at: LATER,
            ..read_a
        };
        assert_eq!(used, Some(marked.clone()));
        let stored_a = store.refresh_token(&keys::token_key("rt-a")).unwrap();
        assert_eq!(stored_a, Some(marked));
        assert_eq!(last_used(&store, "rt-b"), T0, "another token was marked");
        assert!(
            store
                .access_token(&keys::token_key("at-new"))
                .unwrap()
                .is_some()
        );
        assert_eq!(store.events(100).unwrap().len(), events + 1);
    }

    /// A judge that answers a use of another token than the one read has that token marked, found by its key.
    #[test]
    fn a_judged_use_of_another_token_marks_that_token() {
        let (_dir, store) = open_store();
        store.issue_tokens(&granted("at-a", "rt-a")).unwrap();
        store.issue_tokens(&granted("at-b", "rt-b")).unwrap();
        let (judge_b, _) = judge(Some(use_of("rt-b", "at-new")));
        let used = judged(&store, "rt-a", judge_b);
        assert_eq!(used.map(|t| t.token_hash), Some(keys::token_key("rt-b")));
        assert_eq!(
            (last_used(&store, "rt-a"), last_used(&store, "rt-b")),
            (T0, LATER)
        );
    }

    /// A revoked token stays unused even when its judge answers a use, an unknown one is shown to its judge as
    /// `None`, and a judge that answers no use stores nothing.
    #[test]
    fn a_judged_refresh_stores_nothing_for_a_revoked_unknown_or_refused_token() {
        let (_dir, store) = open_store();
        store.issue_tokens(&granted("at-a", "rt-a")).unwrap();
        store.issue_tokens(&granted("at-r", "rt-r")).unwrap();
        store
            .revoke_by_hash(&keys::token_key("rt-r"), T0 + 1)
            .unwrap();
        let events = store.events(100).unwrap().len();

        let (revoked, shown) = judge(Some(use_of("rt-r", "at-from-revoked")));
        assert_eq!(judged(&store, "rt-r", revoked), None);
        let shown = shown.lock().unwrap().clone().flatten().unwrap();
        assert_eq!(shown.revoked_at, Some(T0 + 1));

        let (unknown, shown) = judge(None);
        assert_eq!(judged(&store, "rt-unknown", unknown), None);
        assert_eq!(shown.lock().unwrap().clone(), Some(None));

        let (refusing, _) = judge(None);
        assert_eq!(judged(&store, "rt-a", refusing), None);

        assert!(
            store
                .access_token(&keys::token_key("at-from-revoked"))
                .unwrap()
                .is_none()
        );
        assert_eq!(
            (last_used(&store, "rt-a"), last_used(&store, "rt-r")),
            (T0, T0)
        );
        assert_eq!(store.events(100).unwrap().len(), events);
    }
}
