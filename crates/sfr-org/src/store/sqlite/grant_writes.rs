//! The writes of the token endpoint as jobs for the writer thread (`group_commit`), built once and queued either
//! by a blocking caller (`Store::issue_tokens`) or by an async one (`Store::issue_tokens_async`).

use std::sync::Arc;

use rusqlite::Connection;

use super::{events, facts_version, tokens, users};
use crate::model::{
    CodeJudge, Exchange, IssueTokens, LoginEvent, Redeemed, RefreshToken, RefreshUse,
};
use crate::store::StoreResult;

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

pub(super) fn redeem(
    code_hash: &str,
    now: i64,
) -> impl FnOnce(&Connection) -> StoreResult<Redeemed> + Send + 'static {
    let code_hash = code_hash.to_owned();
    move |c| tokens::redeem_code(c, &code_hash, now)
}

/// A code exchange (`Store::exchange_code`): the code's claim and, if it is fresh, its user read and judged, with
/// the judge's tokens and event. On the writer's connection, whose pages stay cached across its own commits,
/// the code and the user cost less to read than on a reader, whose cache every commit empties.
pub(super) fn exchange(
    code_hash: &str,
    now: i64,
    facts: Option<i64>,
    judge: &CodeJudge,
) -> impl FnOnce(&Connection) -> StoreResult<Exchange> + Send + 'static {
    let code_hash = code_hash.to_owned();
    let judge = Arc::clone(judge);
    move |c| {
        facts_version::confirm(c, facts)?;
        let redeemed = tokens::redeem_code(c, &code_hash, now)?;
        let Redeemed::Fresh(code) = &redeemed else {
            return Ok(Exchange {
                redeemed,
                user: None,
                issued: false,
            });
        };
        let user = users::by_id(c, &code.user_id)?;
        let issue = judge(code, user.as_ref());
        if let Some(issue) = &issue {
            store_issue(c, issue)?;
        }
        Ok(Exchange {
            redeemed,
            user,
            issued: issue.is_some(),
        })
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
