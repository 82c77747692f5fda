//! Pure decisions, no I/O: may this user use this app, is this token alive, is a secret or PKCE required, which
//! scopes are granted. Every function takes plain values (times are ms since the epoch) so it can be tested alone;
//! the handlers translate the model into these arguments. Each refusal carries the precise reason that goes to the
//! login history, while the wire gets the terse catalogue entry.

use sfr_wire::OAuthError;
use sfr_wire::pkce::{self, Method};
use subtle::ConstantTimeEq;

use crate::model::{ConnectedApp, PermittedUsers, RefreshPolicy, Scope, User};

/// A refusal: what the client sees and why it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub wire: OAuthError,
    pub reason: String,
}

impl Refusal {
    pub fn new(wire: OAuthError, reason: impl Into<String>) -> Self {
        Self {
            wire,
            reason: reason.into(),
        }
    }
}

pub type Decision = Result<(), Refusal>;

// ---------------------------------------------------------------------------------------------------------------
// Scopes
// ---------------------------------------------------------------------------------------------------------------

/// `offline_access` is `refresh_token` under another name; everything is compared in this canonical form.
pub fn canonical(scope: Scope) -> Scope {
    match scope {
        Scope::OfflineAccess => Scope::RefreshToken,
        other => other,
    }
}

/// Canonicalises and de-duplicates a list, keeping first-seen order.
pub fn canonical_scopes(scopes: &[Scope]) -> Vec<Scope> {
    let mut out = Vec::with_capacity(scopes.len());
    for s in scopes.iter().copied().map(canonical) {
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

fn contains(scopes: &[Scope], scope: Scope) -> bool {
    let wanted = canonical(scope);
    scopes.iter().any(|s| canonical(*s) == wanted)
}

/// Parses a `scope` parameter (space, comma or `+` separated) into canonical scopes; a word we do not know is
/// `invalid_scope`.
pub fn parse_scopes(param: &str) -> Result<Vec<Scope>, Refusal> {
    Scope::parse_list(param)
        .map(|list| canonical_scopes(&list))
        .map_err(|e| {
            Refusal::new(
                OAuthError::InvalidScope,
                format!("unknown scope {:?}", e.value),
            )
        })
}

/// Scopes an authorize request receives: omitted ⇒ every scope of the app; any scope the app lacks ⇒ `invalid_scope`.
pub fn authorize_scopes(
    requested: Option<&str>,
    app_scopes: &[Scope],
) -> Result<Vec<Scope>, Refusal> {
    let app = canonical_scopes(app_scopes);
    let Some(param) = requested.filter(|p| !p.trim().is_empty()) else {
        return Ok(app);
    };
    let wanted = parse_scopes(param)?;
    let missing: Vec<Scope> = wanted
        .iter()
        .copied()
        .filter(|s| !contains(&app, *s))
        .collect();
    if !missing.is_empty() {
        return Err(Refusal::new(
            OAuthError::InvalidScope,
            format!(
                "scope {} not among the app's scopes [{}]",
                Scope::join(&missing),
                Scope::join(&app)
            ),
        ));
    }
    Ok(wanted)
}

/// Scopes of a refreshed access token: the original grant, or a subset of it; never wider.
pub fn refresh_scopes(requested: Option<&str>, granted: &[Scope]) -> Result<Vec<Scope>, Refusal> {
    let granted = canonical_scopes(granted);
    let Some(param) = requested.filter(|p| !p.trim().is_empty()) else {
        return Ok(granted);
    };
    let wanted = parse_scopes(param)?;
    if let Some(extra) = wanted.iter().find(|s| !contains(&granted, **s)) {
        return Err(Refusal::new(
            OAuthError::InvalidScope,
            format!(
                "refresh asked for scope {extra} beyond the original grant [{}]",
                Scope::join(&granted)
            ),
        ));
    }
    Ok(wanted)
}

/// Client-credentials scopes: the request (or the app's scopes) within the app's scopes, minus `full` and
/// `refresh_token`; nothing left ⇒ `no valid scopes defined`.
pub fn client_credentials_scopes(
    requested: Option<&str>,
    app_scopes: &[Scope],
) -> Result<Vec<Scope>, Refusal> {
    let app = canonical_scopes(app_scopes);
    let base: Vec<Scope> = match requested.filter(|p| !p.trim().is_empty()) {
        // Unknown words count as nothing, like scopes the app lacks.
        Some(param) => param
            .split([' ', ',', '+'])
            .filter_map(|w| Scope::parse(w).ok())
            .map(canonical)
            .filter(|s| contains(&app, *s))
            .collect(),
        None => app.clone(),
    };
    let kept = canonical_scopes(
        &base
            .into_iter()
            .filter(|s| !matches!(s, Scope::Full | Scope::RefreshToken))
            .collect::<Vec<_>>(),
    );
    if kept.is_empty() {
        return Err(Refusal::new(
            OAuthError::NoValidScopes,
            format!(
                "no usable scope for client_credentials (asked {:?}, app has [{}]; full and refresh_token are dropped)",
                requested.unwrap_or(""),
                Scope::join(&app)
            ),
        ));
    }
    Ok(kept)
}

/// True when a refresh token is issued for these scopes (`full` alone does not imply one).
pub fn grants_refresh_token(scopes: &[Scope]) -> bool {
    contains(scopes, Scope::RefreshToken)
}

/// True when an earlier approval covers every requested scope.
pub fn approval_covers(approved: &[Scope], requested: &[Scope]) -> bool {
    requested.iter().all(|s| contains(approved, *s))
}

// ---------------------------------------------------------------------------------------------------------------
// Permitted users
// ---------------------------------------------------------------------------------------------------------------

/// What an app's "Permitted Users" policy needs to know about the app and the user. Names are used for reasons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessFacts {
    /// "Admin approved users are pre-authorized" (false = all users may self-authorize).
    pub admin_approved: bool,
    /// Profiles assigned to the app.
    pub app_profiles: Vec<String>,
    /// Permission sets assigned to the app.
    pub app_permission_sets: Vec<String>,
    pub user_profile: String,
    pub user_permission_sets: Vec<String>,
}

impl AccessFacts {
    pub fn of(app: &ConnectedApp, user: &User) -> Self {
        Self {
            admin_approved: app.permitted_users == PermittedUsers::AdminApproved,
            app_profiles: app.profiles.clone(),
            app_permission_sets: app.permission_sets.clone(),
            user_profile: user.profile.name.clone(),
            user_permission_sets: user
                .permission_sets
                .iter()
                .map(|p| p.name.clone())
                .collect(),
        }
    }

    /// The user holds one of the app's profiles or permission sets.
    pub fn pre_authorized(&self) -> bool {
        self.app_profiles.contains(&self.user_profile)
            || self
                .user_permission_sets
                .iter()
                .any(|ps| self.app_permission_sets.contains(ps))
    }

    fn not_pre_authorized_reason(&self) -> String {
        format!(
            "user not pre-authorized: profile {} not among [{}] and permission sets [{}] not among [{}]",
            self.user_profile,
            self.app_profiles.join(", "),
            self.user_permission_sets.join(", "),
            self.app_permission_sets.join(", ")
        )
    }
}

/// What the authorize endpoint does after login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeAccess {
    /// Issue the code.
    Proceed,
    /// Show the approve/deny page first.
    AskApproval,
}

/// Authorize: admin-approved apps admit only pre-authorized users (no consent page); self-authorize apps ask for
/// approval unless an earlier one covers the requested scopes.
pub fn authorize_access(
    facts: &AccessFacts,
    approved_scopes: Option<&[Scope]>,
    requested: &[Scope],
) -> Result<AuthorizeAccess, Refusal> {
    if facts.admin_approved {
        return if facts.pre_authorized() {
            Ok(AuthorizeAccess::Proceed)
        } else {
            Err(Refusal::new(
                OAuthError::NotAdminApproved,
                facts.not_pre_authorized_reason(),
            ))
        };
    }
    match approved_scopes {
        Some(approved) if approval_covers(approved, requested) => Ok(AuthorizeAccess::Proceed),
        _ => Ok(AuthorizeAccess::AskApproval),
    }
}

/// Refresh and other token uses by a known user: admin-approved apps need the user still pre-authorized.
pub fn token_access(facts: &AccessFacts) -> Decision {
    if facts.admin_approved && !facts.pre_authorized() {
        return Err(Refusal::new(
            OAuthError::NotAdminApproved,
            facts.not_pre_authorized_reason(),
        ));
    }
    Ok(())
}

/// JWT bearer: pre-authorized (admin-approved app + profile/permission set) or an earlier interactive approval of a
/// self-authorize app. Salesforce answers both misses with `user hasn't approved this consumer`.
pub fn jwt_access(facts: &AccessFacts, has_approval: bool) -> Decision {
    if facts.admin_approved {
        if facts.pre_authorized() {
            return Ok(());
        }
        return Err(Refusal::new(
            OAuthError::NotApproved,
            format!("admin-approved app: {}", facts.not_pre_authorized_reason()),
        ));
    }
    if has_approval {
        Ok(())
    } else {
        Err(Refusal::new(
            OAuthError::NotApproved,
            "self-authorize app the user never approved interactively",
        ))
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Token lifetimes
// ---------------------------------------------------------------------------------------------------------------

/// Lifetime of an authorization code.
pub const CODE_LIFETIME_MS: i64 = 15 * 60 * 1000;
/// Allowed clock skew on a JWT assertion's `exp`.
pub const JWT_SKEW_MS: i64 = 30 * 1000;
/// Org default session timeout when neither the app nor the org says otherwise.
pub const DEFAULT_SESSION_TIMEOUT_MINUTES: i64 = 120;

const MINUTE_MS: i64 = 60 * 1000;

/// Is a refresh token still usable at `now` under the app's policy? `last_used_ms` is the issue time when it was
/// never used.
pub fn refresh_token_alive(
    policy: RefreshPolicy,
    issued_at_ms: i64,
    last_used_ms: i64,
    now_ms: i64,
) -> Decision {
    let last_used = last_used_ms.max(issued_at_ms);
    if policy.is_expired(issued_at_ms, last_used, now_ms) {
        let detail = match policy {
            RefreshPolicy::ExpireIfUnused(_) => format!(" (unused for {} ms)", now_ms - last_used),
            RefreshPolicy::ExpireAfter(_) => format!(" (issued {} ms ago)", now_ms - issued_at_ms),
            _ => String::new(),
        };
        Err(Refusal::new(
            OAuthError::ExpiredToken,
            format!("refresh token expired by policy {policy}{detail}"),
        ))
    } else {
        Ok(())
    }
}

/// Session timeout in minutes: the app's value, else the org's, else two hours. Non-positive values fall back.
pub fn session_timeout_minutes(app: Option<i64>, org: Option<i64>) -> i64 {
    app.filter(|m| *m > 0)
        .or(org.filter(|m| *m > 0))
        .unwrap_or(DEFAULT_SESSION_TIMEOUT_MINUTES)
}

/// An access token lives while it is used: idle for the session timeout ⇒ expired.
pub fn access_token_alive(last_used_ms: i64, timeout_minutes: i64, now_ms: i64) -> bool {
    now_ms < last_used_ms.saturating_add(timeout_minutes.saturating_mul(MINUTE_MS))
}

/// An authorization code is redeemable for [`CODE_LIFETIME_MS`] after issue.
pub fn code_alive(issued_at_ms: i64, now_ms: i64) -> Decision {
    if now_ms >= issued_at_ms.saturating_add(CODE_LIFETIME_MS) {
        Err(Refusal::new(
            OAuthError::ExpiredAuthCode,
            format!(
                "authorization code issued {} s ago; lifetime is {} s",
                (now_ms - issued_at_ms) / 1000,
                CODE_LIFETIME_MS / 1000
            ),
        ))
    } else {
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Client secrets and PKCE
// ---------------------------------------------------------------------------------------------------------------

/// A sent secret is always checked (constant time); a missing one fails only where the policy requires it.
pub fn check_secret(required: bool, sent: Option<&str>, actual: &str, flow: &str) -> Decision {
    match sent {
        Some(s) => {
            if bool::from(s.as_bytes().ct_eq(actual.as_bytes())) {
                Ok(())
            } else {
                Err(Refusal::new(
                    OAuthError::InvalidClientCredentials,
                    format!(
                        "client_secret sent to the {flow} flow does not match the app's secret"
                    ),
                ))
            }
        }
        None if required => Err(Refusal::new(
            OAuthError::InvalidClientCredentials,
            format!("the app requires a client_secret for the {flow} flow and none was sent"),
        )),
        None => Ok(()),
    }
}

/// The PKCE challenge an authorize request carries, validated against the app's "Require PKCE".
pub fn authorize_pkce(
    require_pkce: bool,
    challenge: Option<&str>,
    method: Option<&str>,
) -> Result<Option<(String, Method)>, Refusal> {
    let Some(challenge) = challenge.filter(|c| !c.is_empty()) else {
        return if require_pkce {
            Err(Refusal::new(
                OAuthError::MissingCodeChallenge,
                "the app requires PKCE and the request has no code_challenge",
            ))
        } else {
            Ok(None)
        };
    };
    let Some(method) = Method::parse(method) else {
        return Err(Refusal::new(
            OAuthError::InvalidRequest,
            format!(
                "unsupported code_challenge_method {:?}",
                method.unwrap_or("")
            ),
        ));
    };
    // A `plain` challenge is the verifier itself, which may be as long as sf's 171 characters or more.
    let range = pkce::MIN_VERIFIER_LEN..=pkce::MAX_VERIFIER_LEN;
    if !range.contains(&challenge.len()) {
        return Err(Refusal::new(
            OAuthError::InvalidRequest,
            format!(
                "code_challenge has {} characters; {} to {} expected",
                challenge.len(),
                pkce::MIN_VERIFIER_LEN,
                pkce::MAX_VERIFIER_LEN
            ),
        ));
    }
    Ok(Some((challenge.to_owned(), method)))
}

/// The token request's verifier against the challenge stored with the code. A verifier sent for a code without a
/// challenge is ignored, as Salesforce does.
pub fn check_verifier(stored: Option<(&str, Method)>, verifier: Option<&str>) -> Decision {
    let Some((challenge, method)) = stored else {
        return Ok(());
    };
    let Some(verifier) = verifier else {
        return Err(Refusal::new(
            OAuthError::InvalidCodeVerifier,
            "the code was issued with a code_challenge and the token request has no code_verifier",
        ));
    };
    if pkce::verify(method, challenge, verifier) {
        Ok(())
    } else {
        Err(Refusal::new(
            OAuthError::InvalidCodeVerifier,
            format!(
                "code_verifier ({} chars) does not match the {} challenge",
                verifier.len(),
                method.as_str()
            ),
        ))
    }
}

// ---------------------------------------------------------------------------------------------------------------
// JWT bearer assertions
// ---------------------------------------------------------------------------------------------------------------

/// The audiences a JWT may name: the base URL and each extra audience (by default the public login hosts),
/// each with or without a trailing slash.
pub fn accepted_audiences(base_url: &str, extra: &[String]) -> Vec<String> {
    std::iter::once(base_url)
        .chain(extra.iter().map(String::as_str))
        .flat_map(|a| {
            let bare = a.trim_end_matches('/');
            [bare.to_owned(), format!("{bare}/")]
        })
        .collect()
}

/// At least one `aud` value must be accepted (compared without building the list: it is spelled out only for a
/// refusal).
pub fn check_audience<'a>(
    aud: impl IntoIterator<Item = &'a str> + Clone,
    base_url: &str,
    extra: &[String],
) -> Decision {
    let bare = |a: &'a str| a.strip_suffix('/').unwrap_or(a);
    let accepted_bare = std::iter::once(base_url)
        .chain(extra.iter().map(String::as_str))
        .map(|a| a.trim_end_matches('/'));
    if aud
        .clone()
        .into_iter()
        .any(|a| accepted_bare.clone().any(|ok| ok == bare(a)))
    {
        return Ok(());
    }
    let given: Vec<&str> = aud.into_iter().collect();
    Err(Refusal::new(
        OAuthError::InvalidAudience,
        format!(
            "JWT aud [{}] not one of [{}]",
            given.join(", "),
            accepted_audiences(base_url, extra).join(", ")
        ),
    ))
}

/// Only a past `exp` is refused (with [`JWT_SKEW_MS`] of grace); far-future values are fine.
pub fn check_assertion_expiry(exp_ms: i64, now_ms: i64) -> Decision {
    if exp_ms.saturating_add(JWT_SKEW_MS) <= now_ms {
        Err(Refusal::new(
            OAuthError::ExpiredAuthCode,
            format!("JWT exp {exp_ms} ms is {} ms in the past", now_ms - exp_ms),
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::model::refresh_policy::{DurationUnit, PolicyDuration};

    const HOUR_MS: i64 = 60 * MINUTE_MS;
    const DAY_MS: i64 = 24 * HOUR_MS;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| (*x).to_owned()).collect()
    }

    fn sc(s: &str) -> Vec<Scope> {
        Scope::parse_list(s).unwrap()
    }

    #[test]
    fn offline_access_is_refresh_token() {
        assert_eq!(
            parse_scopes("api offline_access web api").unwrap(),
            sc("api refresh_token web")
        );
        assert_eq!(parse_scopes("  ").unwrap(), Vec::<Scope>::new());
        assert_eq!(parse_scopes("api,web").unwrap(), sc("api web"));
        assert_eq!(
            parse_scopes("api bogus").unwrap_err().wire,
            OAuthError::InvalidScope
        );
        assert!(grants_refresh_token(&sc("offline_access")));
        assert!(!grants_refresh_token(&sc("full api")));
    }

    #[test]
    fn authorize_scopes_default_to_the_app_and_refuse_extras() {
        let app = sc("api web offline_access");
        assert_eq!(
            authorize_scopes(None, &app).unwrap(),
            sc("api web refresh_token")
        );
        assert_eq!(
            authorize_scopes(Some(""), &app).unwrap(),
            sc("api web refresh_token")
        );
        assert_eq!(
            authorize_scopes(Some("refresh_token api"), &app).unwrap(),
            sc("refresh_token api")
        );
        let err = authorize_scopes(Some("api full"), &app).unwrap_err();
        assert_eq!(err.wire, OAuthError::InvalidScope);
        assert!(err.reason.contains("full"));
        assert_eq!(
            authorize_scopes(Some("api nonsense"), &app)
                .unwrap_err()
                .wire,
            OAuthError::InvalidScope
        );
    }

    #[test]
    fn refresh_never_widens() {
        let granted = sc("api refresh_token");
        assert_eq!(refresh_scopes(None, &granted).unwrap(), granted);
        assert_eq!(refresh_scopes(Some("api"), &granted).unwrap(), sc("api"));
        assert_eq!(
            refresh_scopes(Some("offline_access"), &granted).unwrap(),
            sc("refresh_token")
        );
        assert_eq!(
            refresh_scopes(Some("api web"), &granted).unwrap_err().wire,
            OAuthError::InvalidScope
        );
    }

    #[test]
    fn client_credentials_drop_full_and_refresh() {
        let app = sc("api full refresh_token");
        assert_eq!(client_credentials_scopes(None, &app).unwrap(), sc("api"));
        assert_eq!(
            client_credentials_scopes(Some("full offline_access"), &app)
                .unwrap_err()
                .wire,
            OAuthError::NoValidScopes
        );
        assert_eq!(
            client_credentials_scopes(Some("web bogus"), &app)
                .unwrap_err()
                .wire,
            OAuthError::NoValidScopes
        );
        assert_eq!(
            client_credentials_scopes(None, &sc("full"))
                .unwrap_err()
                .wire,
            OAuthError::NoValidScopes
        );
    }

    fn facts(
        admin: bool,
        app_profiles: &[&str],
        app_ps: &[&str],
        profile: &str,
        user_ps: &[&str],
    ) -> AccessFacts {
        AccessFacts {
            admin_approved: admin,
            app_profiles: v(app_profiles),
            app_permission_sets: v(app_ps),
            user_profile: profile.to_owned(),
            user_permission_sets: v(user_ps),
        }
    }

    #[test]
    fn admin_approved_via_profile_or_permission_set() {
        let by_profile = facts(
            true,
            &["System Administrator"],
            &[],
            "System Administrator",
            &[],
        );
        assert_eq!(
            authorize_access(&by_profile, None, &sc("api")),
            Ok(AuthorizeAccess::Proceed)
        );
        let by_ps = facts(true, &[], &["CLI_Users"], "Standard User", &["CLI_Users"]);
        assert_eq!(
            authorize_access(&by_ps, None, &sc("api")),
            Ok(AuthorizeAccess::Proceed)
        );
        let neither = facts(
            true,
            &["System Administrator"],
            &["CLI_Users"],
            "Standard User",
            &[],
        );
        let err = authorize_access(&neither, None, &sc("api")).unwrap_err();
        assert_eq!(err.wire, OAuthError::NotAdminApproved);
        assert!(
            err.reason
                .contains("profile Standard User not among [System Administrator]")
        );
        assert_eq!(
            token_access(&neither).unwrap_err().wire,
            OAuthError::NotAdminApproved
        );
        assert!(token_access(&by_ps).is_ok());
        // A self-authorize app ignores assignments.
        assert!(
            token_access(&facts(
                false,
                &["System Administrator"],
                &[],
                "Standard User",
                &[]
            ))
            .is_ok()
        );
    }

    #[test]
    fn self_authorize_asks_until_approved_for_the_scopes() {
        let f = facts(false, &[], &[], "Standard User", &[]);
        let asked = sc("api refresh_token");
        assert_eq!(
            authorize_access(&f, None, &asked),
            Ok(AuthorizeAccess::AskApproval)
        );
        let narrower = sc("api");
        assert_eq!(
            authorize_access(&f, Some(&narrower), &asked),
            Ok(AuthorizeAccess::AskApproval)
        );
        let wider = sc("api offline_access web");
        assert_eq!(
            authorize_access(&f, Some(&wider), &asked),
            Ok(AuthorizeAccess::Proceed)
        );
    }

    #[test]
    fn jwt_needs_pre_authorization_or_prior_approval() {
        let pre = facts(
            true,
            &["System Administrator"],
            &[],
            "System Administrator",
            &[],
        );
        assert!(jwt_access(&pre, false).is_ok());
        let not_pre = facts(true, &["System Administrator"], &[], "Standard User", &[]);
        assert_eq!(
            jwt_access(&not_pre, true).unwrap_err().wire,
            OAuthError::NotApproved
        );
        let selfauth = facts(false, &[], &[], "Standard User", &[]);
        assert!(jwt_access(&selfauth, true).is_ok());
        let err = jwt_access(&selfauth, false).unwrap_err();
        assert_eq!(err.wire, OAuthError::NotApproved);
        assert_eq!(err.wire.description(), "user hasn't approved this consumer");
    }

    fn dur(amount: u32, unit: DurationUnit) -> PolicyDuration {
        PolicyDuration { amount, unit }
    }

    #[test]
    fn refresh_policies() {
        let t0 = 1_000_000_000_000;
        assert!(
            refresh_token_alive(RefreshPolicy::UntilRevoked, t0, t0, t0 + 1000 * DAY_MS).is_ok()
        );
        let err = refresh_token_alive(RefreshPolicy::Immediately, t0, t0, t0).unwrap_err();
        assert_eq!(err.wire, OAuthError::ExpiredToken);
        assert!(err.reason.contains("immediately"));

        let after = RefreshPolicy::ExpireAfter(dur(90, DurationUnit::Days));
        assert!(refresh_token_alive(after, t0, t0 + 89 * DAY_MS, t0 + 89 * DAY_MS).is_ok());
        let err = refresh_token_alive(after, t0, t0 + 89 * DAY_MS, t0 + 90 * DAY_MS).unwrap_err();
        assert!(err.reason.contains("expire-after:90d"), "{}", err.reason);

        let unused = RefreshPolicy::ExpireIfUnused(dur(2, DurationUnit::Hours));
        // Used one hour ago: alive even though issued long ago.
        assert!(refresh_token_alive(unused, t0, t0 + 10 * HOUR_MS, t0 + 11 * HOUR_MS).is_ok());
        let err =
            refresh_token_alive(unused, t0, t0 + 10 * HOUR_MS, t0 + 12 * HOUR_MS).unwrap_err();
        assert!(err.reason.contains("expire-if-unused:2h"), "{}", err.reason);
        // Never used: counts from issue.
        assert!(refresh_token_alive(unused, t0, t0, t0 + 2 * HOUR_MS - 1).is_ok());
        assert!(refresh_token_alive(unused, t0, t0, t0 + 2 * HOUR_MS).is_err());
        let months = RefreshPolicy::ExpireAfter(dur(1, DurationUnit::Months));
        assert!(refresh_token_alive(months, t0, t0, t0 + 30 * DAY_MS - 1).is_ok());
        assert!(refresh_token_alive(months, t0, t0, t0 + 30 * DAY_MS).is_err());
    }

    #[test]
    fn session_timeout_is_idle_based() {
        assert_eq!(session_timeout_minutes(Some(15), Some(60)), 15);
        assert_eq!(session_timeout_minutes(None, Some(60)), 60);
        assert_eq!(session_timeout_minutes(Some(0), None), 120);
        let last = 5_000_000;
        assert!(access_token_alive(last, 15, last + 15 * MINUTE_MS - 1));
        assert!(!access_token_alive(last, 15, last + 15 * MINUTE_MS));
        assert!(access_token_alive(
            last + 10 * MINUTE_MS,
            15,
            last + 20 * MINUTE_MS
        ));
    }

    #[test]
    fn codes_live_fifteen_minutes() {
        assert!(code_alive(0, CODE_LIFETIME_MS - 1).is_ok());
        assert_eq!(
            code_alive(0, CODE_LIFETIME_MS).unwrap_err().wire,
            OAuthError::ExpiredAuthCode
        );
    }

    #[test]
    fn secrets() {
        assert!(check_secret(true, Some("S"), "S", "web server").is_ok());
        assert_eq!(
            check_secret(true, None, "S", "web server")
                .unwrap_err()
                .wire,
            OAuthError::InvalidClientCredentials
        );
        assert!(check_secret(false, None, "S", "refresh").is_ok());
        // Sent secrets are validated even when not required.
        assert_eq!(
            check_secret(false, Some("nope"), "S", "refresh")
                .unwrap_err()
                .wire,
            OAuthError::InvalidClientCredentials
        );
    }

    #[test]
    fn pkce_rules() {
        let verifier = sfr_wire::pkce::verifier_from_bytes(&[9u8; 128]);
        let challenge = sfr_wire::pkce::challenge_s256(&verifier);
        let stored = authorize_pkce(true, Some(&challenge), None)
            .unwrap()
            .unwrap();
        assert_eq!(stored.1, Method::S256);
        assert_eq!(
            authorize_pkce(true, None, None).unwrap_err().wire,
            OAuthError::MissingCodeChallenge
        );
        assert_eq!(authorize_pkce(false, None, None), Ok(None));
        assert_eq!(
            authorize_pkce(false, Some(&challenge), Some("S512"))
                .unwrap_err()
                .wire,
            OAuthError::InvalidRequest
        );
        assert_eq!(
            authorize_pkce(false, Some("short"), None).unwrap_err().wire,
            OAuthError::InvalidRequest
        );
        assert_eq!(verifier.len(), 171);
        assert!(check_verifier(Some((&challenge, Method::S256)), Some(&verifier)).is_ok());
        assert_eq!(
            check_verifier(Some((&challenge, Method::S256)), None)
                .unwrap_err()
                .wire,
            OAuthError::InvalidCodeVerifier
        );
        assert_eq!(
            check_verifier(Some((&challenge, Method::S256)), Some(&"a".repeat(171)))
                .unwrap_err()
                .wire,
            OAuthError::InvalidCodeVerifier
        );
        assert!(check_verifier(None, Some("anything")).is_ok());
        // plain: the challenge is the 171-character verifier itself.
        let plain = authorize_pkce(false, Some(&verifier), Some("plain"))
            .unwrap()
            .unwrap();
        assert_eq!(plain.1, Method::Plain);
        assert!(check_verifier(Some((&plain.0, plain.1)), Some(&verifier)).is_ok());
        assert_eq!(
            authorize_pkce(false, Some(&"a".repeat(600)), Some("plain"))
                .unwrap_err()
                .wire,
            OAuthError::InvalidRequest
        );
    }

    #[test]
    fn audiences() {
        let base = "http://localhost:8901";
        let extra = v(&[
            "https://login.salesforce.com",
            "https://test.salesforce.com/",
        ]);
        assert!(check_audience(["http://localhost:8901/"], base, &extra).is_ok());
        assert!(check_audience(["http://localhost:8901"], base, &extra).is_ok());
        assert!(check_audience(["https://login.salesforce.com/"], "http://x:1/", &extra).is_ok());
        assert!(check_audience(["https://test.salesforce.com"], base, &extra).is_ok());
        assert!(check_audience(["nope", "https://test.salesforce.com"], base, &extra).is_ok());
        assert!(check_audience(["https://login.salesforce.com"], base, &[]).is_err());
        // One trailing slash, not more; no prefix or empty value.
        assert!(check_audience(["http://localhost:8901//"], base, &extra).is_err());
        assert!(check_audience(["http://localhost:890"], base, &extra).is_err());
        assert!(check_audience([""], base, &extra).is_err());
        assert!(check_audience([], base, &extra).is_err());
        let err = check_audience(["http://evil"], base, &extra).unwrap_err();
        assert_eq!(err.wire, OAuthError::InvalidAudience);
        assert!(err.reason.contains("http://evil"));
    }

    #[test]
    fn assertion_expiry_only_refuses_the_past() {
        let now = 1_800_000_000_000;
        assert!(check_assertion_expiry(now + 300, now).is_ok());
        assert!(check_assertion_expiry(now - JWT_SKEW_MS + 1, now).is_ok());
        assert_eq!(
            check_assertion_expiry(now - JWT_SKEW_MS, now)
                .unwrap_err()
                .wire,
            OAuthError::ExpiredAuthCode
        );
        assert!(check_assertion_expiry(i64::MAX, now).is_ok());
    }
}
