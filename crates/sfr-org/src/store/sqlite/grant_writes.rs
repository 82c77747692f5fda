//! The writes of the token endpoint as jobs for the writer thread (`group_commit`), built once and queued either
//! by a blocking caller (`Store::issue_tokens`) or by an async one (`Store::issue_tokens_async`).

use std::sync::Arc;

use rusqlite::Connection;

use sfr_wire::SfId;

use super::{events, facts_version, tokens, users};
use crate::model::{
    CodeJudge, Exchange, IssueTokens, LoginEvent, Redeemed, RefreshJudge, RefreshToken, RefreshUse,
    SessionJudge, StoredSession, User,
};
use crate::store::{StoreError, StoreResult, code_exchange};

/// A grant's tokens and its login-history event.
pub(super) fn issue(
    issue: &IssueTokens,
) -> impl FnOnce(&Connection) -> StoreResult<()> + Send + 'static {
    let issue = issue.clone();
    move |c| store_issue(c, &issue)
}

/// A grant's tokens and its event, if the facts it was decided on are still current.
fn store_issue(c: &Connection, issue: &IssueTokens) -> StoreResult<()> {
    facts_version::confirm(c, issue.facts_version)?;
    tokens::issue(c, issue)?;
    issue
        .event
        .as_ref()
        .map_or(Ok(()), |e| events::record(c, e))
}

/// A refresh-token use and its new session, if the facts the grant was decided on are still current; the event
/// only when the refresh token was usable.
pub(super) fn refresh(
    refresh: &RefreshUse,
) -> impl FnOnce(&Connection) -> StoreResult<Option<RefreshToken>> + Send + 'static {
    let refresh = refresh.clone();
    move |c| {
        facts_version::confirm(c, refresh.facts_version)?;
        let used = tokens::refresh(c, &refresh)?;
        if let (Some(_), Some(e)) = (&used, &refresh.event) {
            events::record(c, e)?;
        }
        Ok(used)
    }
}

/// A refresh grant in one trip to the writer (`Store::refresh_judged_async`): its token read on the writer's
/// warm connection, judged, and the judge's use stored as `refresh` stores it, in one transaction — where the
/// read and the write were two trips, each a wake-up of the writer and, alone, a transaction of its own.
pub(super) fn refresh_judged(
    token_hash: &str,
    judge: RefreshJudge,
) -> impl FnOnce(&Connection) -> StoreResult<Option<RefreshToken>> + Send + 'static {
    let token_hash = token_hash.to_owned();
    move |c| {
        let token = tokens::refresh_token(c, &token_hash)?;
        match judge(token.as_ref()) {
            Some(use_) => refresh(&use_)(c),
            None => Ok(None),
        }
    }
}

/// A bearer token's session and its user (`Store::session_async`).
pub(super) fn read_session(c: &Connection, token_hash: &str) -> StoreResult<Option<StoredSession>> {
    let Some(token) = tokens::access_token(c, token_hash)? else {
        return Ok(None);
    };
    let user = users::by_id(c, &token.user_id)?;
    Ok(Some(StoredSession { token, user }))
}

/// A session read and the login-history row its judge makes of it (`Store::session_recorded_async`), in one
/// trip to the writer.
pub(super) fn session_recorded(
    token_hash: &str,
    judge: SessionJudge,
) -> impl FnOnce(&Connection) -> StoreResult<(Option<StoredSession>, bool)> + Send + 'static {
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
) -> impl FnOnce(&Connection) -> StoreResult<Redeemed> + Send + 'static {
    let code_hash = code_hash.to_owned();
    move |c| tokens::redeem_code(c, &code_hash, now)
}

/// A code exchange (`Store::exchange_code`, `store::code_exchange`) on the writer's connection, whose pages stay
/// cached across its own commits: the code and the user cost less to read there than on a reader, whose cache
/// every commit empties.
pub(super) fn exchange(
    code_hash: &str,
    now: i64,
    facts: Option<i64>,
    judge: &CodeJudge,
) -> impl FnOnce(&Connection) -> StoreResult<Exchange> + Send + 'static {
    let code_hash = code_hash.to_owned();
    let judge = Arc::clone(judge);
    move |c| code_exchange::run(&mut OnWriter(c), &code_hash, now, facts, &judge)
}

/// The writer's connection, inside its transaction.
struct OnWriter<'a>(&'a Connection);

impl code_exchange::ExchangeSteps for OnWriter<'_> {
    type Error = StoreError;
    fn confirm_facts(&mut self, version: Option<i64>) -> StoreResult<()> {
        facts_version::confirm(self.0, version)
    }
    fn redeem(&mut self, code_hash: &str, now: i64) -> StoreResult<Redeemed> {
        tokens::redeem_code(self.0, code_hash, now)
    }
    fn user_by_id(&mut self, id: &SfId) -> StoreResult<Option<User>> {
        users::by_id(self.0, id)
    }
    fn issue(&mut self, issue: &IssueTokens) -> StoreResult<()> {
        store_issue(self.0, issue)
    }
}

pub(super) fn event(
    event: &LoginEvent,
) -> impl FnOnce(&Connection) -> StoreResult<()> + Send + 'static {
    let event = event.clone();
    move |c| events::record(c, &event)
}

pub(super) fn touch(
    token_hash: &str,
    now: i64,
) -> impl FnOnce(&Connection) -> StoreResult<()> + Send + 'static {
    let token_hash = token_hash.to_owned();
    move |c| tokens::touch(c, &token_hash, now)
}
