//! How `Store::exchange_code` puts a code exchange together, written once for every backend: a backend supplies
//! the four steps (`ExchangeSteps`) inside one write transaction of its own. The order is the point: the facts'
//! version is confirmed before the code is claimed (a try on outdated facts must leave the code unspent), and
//! the user is read and judged only when the claim is fresh.

use std::future::Future;

use sfr_wire::SfId;

use crate::model::{CodeJudge, Exchange, IssueTokens, Redeemed, User};

/// The steps of a code exchange (`Error`: the backend's, which may carry what it needs to retry), as futures: a
/// backend on a blocking connection answers each at once (and runs `run` with `ready_steps::at_once`), one on a
/// non-blocking connection awaits them.
pub(crate) trait ExchangeSteps {
    type Error;
    /// Fails (`StoreError::FactsChanged`) unless the facts' counter is still `version` (`None`: nothing to check).
    fn confirm_facts(
        &mut self,
        version: Option<i64>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;
    /// `Store::redeem_code`.
    fn redeem(
        &mut self,
        code_hash: &str,
        now: i64,
    ) -> impl Future<Output = Result<Redeemed, Self::Error>> + Send;
    fn user_by_id(
        &mut self,
        id: &SfId,
    ) -> impl Future<Output = Result<Option<User>, Self::Error>> + Send;
    /// Stores a grant's tokens and its event.
    fn issue(
        &mut self,
        issue: &IssueTokens,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;
}

/// Confirms the facts, claims the code and, when the claim is fresh, stores what `judge` makes of it and its user.
pub(crate) async fn run<S: ExchangeSteps>(
    steps: &mut S,
    code_hash: &str,
    now: i64,
    facts_version: Option<i64>,
    judge: &CodeJudge,
) -> Result<Exchange, S::Error> {
    steps.confirm_facts(facts_version).await?;
    let redeemed = steps.redeem(code_hash, now).await?;
    let Redeemed::Fresh(code) = &redeemed else {
        return Ok(Exchange {
            redeemed,
            user: None,
            issued: false,
        });
    };
    let user = steps.user_by_id(&code.user_id).await?;
    let issue = judge(code, user.as_ref());
    if let Some(issue) = &issue {
        steps.issue(issue).await?;
    }
    Ok(Exchange {
        redeemed,
        user,
        issued: issue.is_some(),
    })
}
