//! `POST /services/oauth2/token`: parse the grant, load app and user, let `policy` decide, commit through the
//! store, answer with `sfr-wire`'s response. Every outcome goes to the login history with its precise reason;
//! a grant's success event is stored in the same transaction as its tokens.
//!
//! On SQLite the grant reads on its async worker (reads take microseconds and never wait for the writer) and
//! queues its write for the store's writer thread, yielding the worker until the commit: no hop to a blocking
//! thread, whose wake-ups cost more than the reads. A refresh grant makes one trip to the writer
//! (`refresh_in_one_trip`, `Store::refresh_judged_async`): its token is read there (every commit empties a
//! reader's page cache; the writer's stays warm), judged on the facts cached for its user, and its use stored,
//! in one transaction; when those facts are not cached, it reads its token first and writes its use apart. A
//! store over the network (PostgreSQL) gets each call on the blocking pool instead (`AppState::read`).

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use sfr_wire::jwt::Assertion;
use sfr_wire::pkce::Method;
use sfr_wire::{OAuthError, TokenResponse};

use super::grant::Grant;
use super::issue::{self, Shape};
use super::{Failure, Trace, login_event_at, record, record_failure, refuse, server_error};
use crate::http::client_auth::{self, ClientCredentials};
use crate::http::params::FormRequest;
use crate::http::rate_limit::{self, TokenRateLimiter};
use crate::http::reply;
use crate::keys;
use crate::model::{
    Approval, AuthCode, ConnectedApp, ConsumerSecret, GrantFacts, GrantLookup, GrantUser,
    IssueTokens, LoginKind, Org, Redeemed, RefreshToken, RefreshUse, Scope, User,
};
use crate::policy::{self, AccessFacts};
use crate::state::AppState;

/// What the token endpoint's handler holds: the org's state, and the limiter that counts its requests
/// (`rate_limit`), given by whoever builds the router.
#[derive(Clone)]
pub struct TokenEndpoint {
    pub org: AppState,
    pub limiter: Arc<TokenRateLimiter>,
}

/// `POST /services/oauth2/token`. The rate limits come first: a refused request costs no more than its read.
pub async fn token(State(endpoint): State<TokenEndpoint>, form: FormRequest) -> Response {
    if let Some(refused) = rate_limit::refuse(&endpoint.limiter, &form) {
        return refused;
    }
    let state = &endpoint.org;
    let mut trace = Trace {
        source_ip: form.source_ip.clone(),
        ..Trace::default()
    };
    let grant = match Grant::parse(&form.params) {
        Ok(g) => g,
        Err(e) => {
            trace.consumer_key = form.params.owned("client_id");
            let reason = match e {
                OAuthError::GrantTypeMissing => "grant_type missing".to_owned(),
                OAuthError::UnsupportedGrantType => format!(
                    "unsupported grant_type {:?}",
                    form.params.get("grant_type").unwrap_or_default()
                ),
                _ => "a parameter the grant needs is missing".to_owned(),
            };
            let kind = LoginKind::Token(form.params.get("grant_type").unwrap_or("?").to_owned());
            record(state, &trace, kind, Err((e.code(), &reason))).await;
            return reply::oauth_error(e);
        }
    };
    let kind = LoginKind::Token(grant.name().to_owned());
    let outcome = match client_auth::resolve(&form.headers, &form.params) {
        Err(e) => Err(Failure::Refused(policy::Refusal::new(
            OAuthError::InvalidClientCredentials,
            format!("unreadable Authorization header: {e}"),
        ))),
        Ok(creds) => {
            trace.consumer_key = creds.client_id.clone();
            run(state, grant, &creds, &kind, &mut trace).await
        }
    };
    match outcome {
        // The success event went to the login history with the tokens.
        Ok(body) => reply::token_response(&body),
        Err(failure) => match record_failure(state, &trace, kind, &failure).await {
            Ok(wire) => reply::oauth_error(wire),
            Err(()) => server_error(),
        },
    }
}

/// The login-history event of a successful grant.
fn success_event(
    at: i64,
    trace: &Trace,
    kind: &LoginKind,
    with_refresh: bool,
    scopes: &[Scope],
) -> crate::model::LoginEvent {
    // Written piece by piece: `format!` here was a tenth of what a grant's event costs to make and store.
    let mut reason = String::with_capacity(96);
    reason.push_str("issued an access token");
    if with_refresh {
        reason.push_str(" and a refresh token");
    }
    reason.push_str(" for scopes [");
    Scope::push_joined(&mut reason, scopes);
    reason.push(']');
    login_event_at(at, trace, kind.clone(), Ok(&reason))
}

/// Decides a grant, first on facts cached in memory (no read of the store at all when the cache has them),
/// then, if that try's write found them outdated or it refused on facts that a change has outdated since, once
/// more on facts read from the store. A grant so never commits, nor is refused, on facts older than the latest
/// change: the write confirms its facts' version in its own transaction, a refusal confirms it by a read.
async fn run(
    state: &AppState,
    grant: Grant,
    creds: &ClientCredentials,
    kind: &LoginKind,
    trace: &mut Trace,
) -> Result<TokenResponse, Failure> {
    let before = trace.clone();
    let mut attempt = Attempt::from_cache();
    let out = decide(state, &grant, creds, kind, trace, &mut attempt).await;
    if !attempt.outdated(state, &out).await? {
        return out;
    }
    *trace = before;
    decide(
        state,
        &grant,
        creds,
        kind,
        trace,
        &mut Attempt::from_store(),
    )
    .await
}

/// Where one try at a grant takes its facts from, and what it took.
struct Attempt {
    /// Whether facts cached in memory may be used unconfirmed (`Store::cached_grant_facts`).
    cache: bool,
    /// The `facts_version` of the unconfirmed facts this try decided on.
    unconfirmed: Option<i64>,
}

impl Attempt {
    fn from_cache() -> Self {
        Self {
            cache: true,
            unconfirmed: None,
        }
    }

    fn from_store() -> Self {
        Self {
            cache: false,
            unconfirmed: None,
        }
    }

    /// Whether this try's outcome must not stand: it decided on unconfirmed facts and either its write found
    /// them outdated or it refused on them and they are outdated now.
    async fn outdated(
        &self,
        state: &AppState,
        out: &Result<TokenResponse, Failure>,
    ) -> Result<bool, Failure> {
        let Some(version) = self.unconfirmed else {
            return Ok(false);
        };
        match out {
            Err(Failure::Outdated) => Ok(true),
            Err(Failure::Refused(_)) => Ok(state.facts_version().await? != version),
            Ok(_) | Err(Failure::Internal(_)) => Ok(false),
        }
    }
}

async fn decide(
    state: &AppState,
    grant: &Grant,
    creds: &ClientCredentials,
    kind: &LoginKind,
    trace: &mut Trace,
    attempt: &mut Attempt,
) -> Result<TokenResponse, Failure> {
    match grant {
        Grant::AuthorizationCode {
            code,
            redirect_uri,
            code_verifier,
        } => {
            authorization_code(
                state,
                creds,
                code,
                Presented {
                    redirect_uri: redirect_uri.clone(),
                    verifier: code_verifier.clone(),
                },
                kind,
                trace,
                attempt,
            )
            .await
        }
        Grant::RefreshToken {
            refresh_token,
            scope,
        } => {
            refresh(
                state,
                creds,
                refresh_token,
                scope.as_deref(),
                kind,
                trace,
                attempt,
            )
            .await
        }
        Grant::JwtBearer { assertion } => jwt_bearer(state, assertion, kind, trace, attempt).await,
        Grant::ClientCredentials { scope } => {
            client_credentials(state, creds, scope.as_deref(), kind, trace, attempt).await
        }
        Grant::Password { username } => {
            trace.username = Some(username.clone()).filter(|u| !u.is_empty());
            refuse(
                OAuthError::AuthenticationFailure,
                "username-password flow is disabled in this org",
            )
        }
    }
}

/// A grant's facts (`Store::grant_facts`, one read, or `Store::cached_grant_facts`, none) with the client app
/// known and OAuth-enabled.
#[derive(Clone)]
struct Facts {
    org: Arc<Org>,
    app: Arc<ConnectedApp>,
    secret: Option<ConsumerSecret>,
    user: Option<Arc<User>>,
    approval: Option<Approval>,
    /// The `facts_version` to confirm with the grant's write, when the facts came from memory unconfirmed.
    unconfirmed: Option<i64>,
}

/// The grant's facts, from memory if `attempt` allows and they are cached, else read from the store;
/// `invalid_client_id` when `client_id` names no OAuth-enabled app.
async fn facts(
    state: &AppState,
    client_id: Option<&str>,
    user: GrantUser,
    secret: bool,
    approval: bool,
    attempt: &mut Attempt,
) -> Result<Facts, Failure> {
    let Some(id) = client_id else {
        return refuse(OAuthError::InvalidClientId, "client_id missing");
    };
    let lookup = GrantLookup {
        consumer_key: id.to_owned(),
        user,
        secret,
        approval,
    };
    let cached = if attempt.cache {
        state.store.cached_grant_facts(&lookup)
    } else {
        None
    };
    let found = match cached {
        Some((version, found)) => {
            attempt.unconfirmed = Some(version);
            found
        }
        None => state.grant_facts(lookup).await?,
    };
    facts_of(found, id, attempt.unconfirmed)
}

/// `facts` from what the store answered (or the cache held, at version `unconfirmed`).
fn facts_of(found: GrantFacts, id: &str, unconfirmed: Option<i64>) -> Result<Facts, Failure> {
    match found.app {
        Some(app) if app.oauth_enabled => Ok(Facts {
            org: found.org,
            app,
            secret: found.secret,
            user: found.user,
            approval: found.approval,
            unconfirmed,
        }),
        Some(_) => refuse(
            OAuthError::InvalidClientId,
            format!("app {id} has OAuth disabled"),
        ),
        None => refuse(
            OAuthError::InvalidClientId,
            format!("no app with consumer key {id}"),
        ),
    }
}

impl Facts {
    /// The secret asked for in `facts(…, secret: true, …)`.
    fn secret(&self) -> Result<&ConsumerSecret, Failure> {
        self.secret
            .as_ref()
            .ok_or_else(|| Failure::Internal("the grant read no consumer secret".into()))
    }
}

fn require_active(user: &User) -> Result<(), Failure> {
    if user.active {
        Ok(())
    } else {
        refuse(
            OAuthError::InactiveUser,
            format!("user {} is deactivated", user.username),
        )
    }
}

fn shape(signed: bool) -> Shape {
    Shape {
        signed,
        id_token: signed,
        api_instance_url: false,
    }
}

async fn authorization_code(
    state: &AppState,
    creds: &ClientCredentials,
    code: &str,
    presented: Presented,
    kind: &LoginKind,
    trace: &mut Trace,
    attempt: &mut Attempt,
) -> Result<TokenResponse, Failure> {
    let f = facts(
        state,
        creds.client_id.as_deref(),
        GrantUser::Unknown,
        true,
        false,
        attempt,
    )
    .await?;
    let now = state.now();
    let code_hash = keys::token_key(code);
    // The tokens are minted before the code is read (a refused exchange wastes two random strings); the
    // store claims the code, reads its user and asks the judge, all in one transaction: any outcome but
    // tokens still spends the code.
    let access_token = keys::generate_access_token(state.config.org_id.to_15(), now);
    let refresh_token = keys::generate_refresh_token(now);
    let judge = CodeExchange {
        facts: f.clone(),
        creds: creds.clone(),
        presented: presented.clone(),
        now,
        access_hash: keys::token_key(&access_token),
        refresh_hash: keys::token_key(&refresh_token),
        code_hash: code_hash.clone(),
        trace: trace.clone(),
        kind: kind.clone(),
    };
    let exchange = state
        .exchange_code(
            code_hash,
            now,
            f.unconfirmed,
            Arc::new(move |c, u| judge.tokens(c, u)),
        )
        .await?;
    // The exchange confirmed the facts in its transaction: a refusal from here on stands.
    attempt.unconfirmed = None;
    let code = claimed(exchange.redeemed, now, trace)?;
    let user = exchange.user;
    if !exchange.issued {
        // Refused: the same check, on the same code and user, names the reason.
        check_code(&f, creds, &code, user.as_ref(), &presented, now, trace)?;
        return Err(Failure::Internal(
            "the code exchange refused what its check passes".into(),
        ));
    }
    let Some(user) = user else {
        return Err(Failure::Internal(
            "a code exchange issued tokens to no user".into(),
        ));
    };
    trace.user(&user);
    let with_refresh = policy::grants_refresh_token(&code.scopes);
    let to = issue::Grantee {
        app: &f.app,
        user: &user,
        org: &f.org,
        secret: Some(f.secret()?),
        scopes: &code.scopes,
        shape: shape(true),
    };
    issue::respond(
        state,
        &to,
        &access_token,
        with_refresh.then_some(refresh_token),
        code.nonce.as_deref(),
        now,
    )
    .await
}

/// What a code exchange's transaction decides with (`Store::exchange_code`): the grant's facts and request,
/// and its tokens, minted.
struct CodeExchange {
    facts: Facts,
    creds: ClientCredentials,
    presented: Presented,
    now: i64,
    access_hash: String,
    refresh_hash: String,
    code_hash: String,
    trace: Trace,
    kind: LoginKind,
}

impl CodeExchange {
    /// The tokens for a fresh `code` of `user`, or `None` when `check_code` refuses it.
    fn tokens(&self, code: &AuthCode, user: Option<&User>) -> Option<IssueTokens> {
        let mut trace = self.trace.clone();
        let (f, creds) = (&self.facts, &self.creds);
        check_code(f, creds, code, user, &self.presented, self.now, &mut trace).ok()?;
        let to = issue::Grantee {
            app: &f.app,
            user: user?,
            org: &f.org,
            secret: None,
            scopes: &code.scopes,
            shape: shape(true),
        };
        let with_refresh = policy::grants_refresh_token(&code.scopes);
        let access = issue::access_record(&to, self.access_hash.clone(), self.now);
        let refresh =
            with_refresh.then(|| issue::refresh_record(&to, self.refresh_hash.clone(), self.now));
        let event = success_event(self.now, &trace, &self.kind, with_refresh, &code.scopes);
        Some(IssueTokens {
            access,
            refresh,
            from_code: Some(self.code_hash.clone()),
            event: Some(event),
            facts_version: None,
        })
    }
}

/// A code's claim: the code if this caller spent it fresh, else the refusal its outcome calls for.
fn claimed(redeemed: Redeemed, now: i64, trace: &mut Trace) -> Result<AuthCode, Failure> {
    match redeemed {
        Redeemed::Unknown => refuse(OAuthError::InvalidAuthCode, "unknown authorization code"),
        Redeemed::Replayed(c) => {
            trace.user_id = Some(c.user_id);
            refuse(
                OAuthError::InvalidAuthCode,
                "authorization code used twice; every token issued from it was revoked",
            )
        }
        Redeemed::Expired(c) => {
            trace.user_id = Some(c.user_id.clone());
            policy::code_alive(c.created_at, now)?;
            refuse(
                OAuthError::ExpiredAuthCode,
                "authorization code past its expiry",
            )
        }
        Redeemed::Fresh(c) => Ok(c),
    }
}

/// What the client presents with a code besides its credentials.
#[derive(Clone)]
struct Presented {
    redirect_uri: Option<String>,
    verifier: Option<String>,
}

/// Everything a fresh code must pass before it is exchanged; `user` is the code's user as stored.
fn check_code(
    f: &Facts,
    creds: &ClientCredentials,
    code: &AuthCode,
    user: Option<&User>,
    presented: &Presented,
    now: i64,
    trace: &mut Trace,
) -> Result<(), Failure> {
    let Presented {
        redirect_uri,
        verifier,
    } = presented;
    let app = &f.app;
    trace.user_id = Some(code.user_id.clone());
    if code.app_id != app.id {
        return refuse(
            OAuthError::InvalidAuthCode,
            format!(
                "authorization code was issued to another app, not {}",
                app.consumer_key
            ),
        );
    }
    policy::code_alive(code.created_at, now)?;
    if redirect_uri.as_deref() != Some(code.redirect_uri.as_str()) {
        return refuse(
            OAuthError::RedirectUriMismatch,
            format!(
                "redirect_uri {:?} differs from {:?} used at authorize",
                redirect_uri.as_deref().unwrap_or_default(),
                code.redirect_uri
            ),
        );
    }
    let secret = f.secret()?;
    policy::check_secret(
        app.require_secret_web,
        creds.client_secret.as_deref(),
        secret.as_str(),
        "web server",
    )?;
    let stored = match (&code.code_challenge, &code.code_challenge_method) {
        (Some(challenge), method) => Some((
            challenge.as_str(),
            Method::parse(method.as_deref()).unwrap_or(Method::S256),
        )),
        (None, _) => None,
    };
    policy::check_verifier(stored, verifier.as_deref())?;
    let Some(user) = user else {
        return refuse(
            OAuthError::InvalidAuthCode,
            "the code's user no longer exists",
        );
    };
    trace.user(user);
    require_active(user)?;
    policy::token_access(&AccessFacts::of(app, user))?;
    Ok(())
}

async fn refresh(
    state: &AppState,
    creds: &ClientCredentials,
    refresh_token: &str,
    scope: Option<&str>,
    kind: &LoginKind,
    trace: &mut Trace,
    attempt: &mut Attempt,
) -> Result<TokenResponse, Failure> {
    let hash = keys::token_key(refresh_token);
    if attempt.cache
        && let Some(answer) =
            refresh_in_one_trip(state, creds, &hash, scope, kind, trace, attempt).await
    {
        return answer;
    }
    let found = state.refresh_token(hash.clone()).await?;
    let user = found
        .as_ref()
        .map_or(GrantUser::Unknown, |rt| GrantUser::Id(rt.user_id.clone()));
    let f = facts(
        state,
        creds.client_id.as_deref(),
        user,
        true,
        false,
        attempt,
    )
    .await?;
    let now = state.now();
    let access_token = keys::generate_access_token(state.config.org_id.to_15(), now);
    let (use_, scopes) = judge_refresh(
        &f,
        creds,
        found,
        scope,
        kind,
        trace,
        RefreshMint {
            hash,
            access_hash: keys::token_key(&access_token),
            now,
        },
    )?;
    if state.refresh(use_).await?.is_none() {
        return refuse(OAuthError::ExpiredToken, "refresh token revoked meanwhile");
    }
    respond_refresh(state, &f, &scopes, &access_token, now).await
}

/// What a refresh grant mints before it is judged: the presented token's key, the new session's key, the time.
struct RefreshMint {
    hash: String,
    access_hash: String,
    now: i64,
}

/// Everything a refresh token must pass, on the grant's facts and the token as read (`None`: unknown), and the
/// use that stores its new session, with the session's scopes. Sync and quick: it also runs on the store's writer
/// (`refresh_in_one_trip`).
fn judge_refresh(
    f: &Facts,
    creds: &ClientCredentials,
    found: Option<RefreshToken>,
    scope: Option<&str>,
    kind: &LoginKind,
    trace: &mut Trace,
    mint: RefreshMint,
) -> Result<(RefreshUse, Vec<Scope>), Failure> {
    let app = &f.app;
    let Some(rt) = found else {
        return refuse(OAuthError::ExpiredToken, "unknown refresh token");
    };
    trace.user_id = Some(rt.user_id.clone());
    if rt.revoked_at.is_some() {
        return refuse(OAuthError::ExpiredToken, "refresh token was revoked");
    }
    if rt.app_id != app.id {
        return refuse(
            OAuthError::ExpiredToken,
            format!(
                "refresh token belongs to another app, not {}",
                app.consumer_key
            ),
        );
    }
    let secret = f.secret()?;
    policy::check_secret(
        app.require_secret_refresh,
        creds.client_secret.as_deref(),
        secret.as_str(),
        "refresh token",
    )?;
    let now = mint.now;
    policy::refresh_token_alive(app.refresh_policy, rt.issued_at, rt.last_used_at, now)?;
    let Some(user) = &f.user else {
        return refuse(
            OAuthError::ExpiredToken,
            "the token's user no longer exists",
        );
    };
    trace.user(user);
    require_active(user)?;
    policy::token_access(&AccessFacts::of(app, user))?;
    let scopes = policy::refresh_scopes(scope, &rt.scopes)?;
    let to = refresh_grantee(f, user, &scopes)?;
    let use_ = RefreshUse {
        refresh_hash: mint.hash,
        now,
        new_access: issue::access_record(&to, mint.access_hash, now),
        event: Some(success_event(now, trace, kind, false, &scopes)),
        facts_version: f.unconfirmed,
        mark_used: app.refresh_policy.reads_last_use(),
    };
    Ok((use_, scopes))
}

fn refresh_grantee<'a>(
    f: &'a Facts,
    user: &'a User,
    scopes: &'a [Scope],
) -> Result<issue::Grantee<'a>, Failure> {
    Ok(issue::Grantee {
        app: &f.app,
        user,
        org: &f.org,
        secret: Some(f.secret()?),
        scopes,
        shape: shape(true),
    })
}

async fn respond_refresh(
    state: &AppState,
    f: &Facts,
    scopes: &[Scope],
    access_token: &str,
    now: i64,
) -> Result<TokenResponse, Failure> {
    let Some(user) = &f.user else {
        return Err(Failure::Internal("a refresh decided with no user".into()));
    };
    let to = refresh_grantee(f, user, scopes)?;
    issue::respond(state, &to, access_token, None, None, now).await
}

/// A one-trip refresh as its judge left it on the writer (nothing when the facts for the token's user were not
/// in memory: then nothing was decided or stored).
struct Judged {
    /// The cached facts' version, which the write confirmed (or a refusal must confirm).
    version: i64,
    /// The facts, when the client app passed (`facts_of`).
    facts: Option<Facts>,
    trace: Trace,
    now: i64,
    /// The session's scopes, or the refusal.
    decided: Result<Vec<Scope>, Failure>,
}

/// A refresh grant in one trip to the store's writer (`Store::refresh_judged_async`): the token read there and
/// judged on the facts cached in memory for its user, and its use stored, in one transaction. `None` when the
/// store has no such trip or those facts are not cached: the grant then reads its token and writes its use
/// apart.
async fn refresh_in_one_trip(
    state: &AppState,
    creds: &ClientCredentials,
    hash: &str,
    scope: Option<&str>,
    kind: &LoginKind,
    trace: &mut Trace,
    attempt: &mut Attempt,
) -> Option<Result<TokenResponse, Failure>> {
    let client_id = creds.client_id.clone()?;
    let now = state.now();
    let access_token = keys::generate_access_token(state.config.org_id.to_15(), now);
    let slot: Arc<std::sync::Mutex<Option<Box<Judged>>>> = Arc::default();
    let judge: crate::model::RefreshJudge = {
        let (store, creds, kind, slot) = (
            Arc::clone(&state.store),
            creds.clone(),
            kind.clone(),
            Arc::clone(&slot),
        );
        let (scope, mut trace) = (scope.map(str::to_owned), trace.clone());
        let mint = RefreshMint {
            hash: hash.to_owned(),
            access_hash: keys::token_key(&access_token),
            now,
        };
        Box::new(move |found: Option<&RefreshToken>| {
            let lookup = GrantLookup {
                consumer_key: client_id.clone(),
                user: found.map_or(GrantUser::Unknown, |rt| GrantUser::Id(rt.user_id.clone())),
                secret: true,
                approval: false,
            };
            let (version, cached) = store.cached_grant_facts(&lookup)?;
            let (facts, judged) = match facts_of(cached, &client_id, Some(version)) {
                Ok(f) => {
                    let decided = judge_refresh(
                        &f,
                        &creds,
                        found.cloned(),
                        scope.as_deref(),
                        &kind,
                        &mut trace,
                        mint,
                    );
                    (Some(f), decided)
                }
                Err(refused) => (None, Err(refused)),
            };
            let (use_, decided) = match judged {
                Ok((use_, scopes)) => (Some(use_), Ok(scopes)),
                Err(refused) => (None, Err(refused)),
            };
            if let Ok(mut slot) = slot.lock() {
                *slot = Some(Box::new(Judged {
                    version,
                    facts,
                    trace,
                    now,
                    decided,
                }));
            }
            use_
        })
    };
    let stored = state.store.refresh_judged_async(hash, judge)?.await;
    let judged = slot.lock().ok().and_then(|mut s| s.take());
    let Some(judged) = judged else {
        // Not cached (or the transaction failed before the judge ran): decided as usual, or the store's error.
        return stored.err().map(|e| Err(e.into()));
    };
    let Judged {
        version,
        facts,
        trace: judged_trace,
        now,
        decided,
    } = *judged;
    attempt.unconfirmed = Some(version);
    *trace = judged_trace;
    let used = match stored {
        Ok(used) => used,
        Err(e) => return Some(Err(e.into())),
    };
    let scopes = match decided {
        Ok(scopes) => scopes,
        Err(refused) => return Some(Err(refused)),
    };
    let Some(facts) = facts else {
        return Some(Err(Failure::Internal(
            "a refresh decided without its facts".into(),
        )));
    };
    if used.is_none() {
        return Some(refuse(
            OAuthError::ExpiredToken,
            "refresh token revoked meanwhile",
        ));
    }
    Some(respond_refresh(state, &facts, &scopes, &access_token, now).await)
}

async fn jwt_bearer(
    state: &AppState,
    assertion: &str,
    kind: &LoginKind,
    trace: &mut Trace,
    attempt: &mut Attempt,
) -> Result<TokenResponse, Failure> {
    let parsed = match Assertion::parse(assertion) {
        Ok(a) => a,
        Err(e) => return refuse(OAuthError::InvalidAssertion, format!("JWT unreadable: {e}")),
    };
    let claims = parsed.claims.clone();
    trace.consumer_key = Some(claims.iss.clone());
    trace.username = Some(claims.sub.clone());
    let f = facts(
        state,
        Some(&claims.iss),
        GrantUser::Username(claims.sub.clone()),
        false,
        true,
        attempt,
    )
    .await?;
    let app = &f.app;
    let Some(pem) = app.certificate_pem.as_deref() else {
        return refuse(
            OAuthError::InvalidAssertion,
            format!(
                "app {} has no certificate (Use digital signatures is off)",
                app.name
            ),
        );
    };
    let cert = match state.certificates.parse(pem) {
        Ok(c) => c,
        Err(e) => {
            return refuse(
                OAuthError::InvalidAssertion,
                format!("the app's certificate is unusable: {e}"),
            );
        }
    };
    if parsed.verify_rs256_with(&cert.key).is_err() {
        return refuse(
            OAuthError::InvalidAssertion,
            format!(
                "certificate ({}) does not match the assertion's signing key",
                cert.info.subject
            ),
        );
    }
    policy::check_audience(
        claims.aud.values(),
        &state.config.base_url,
        &state.config.extra_audiences,
    )?;
    let now = state.now();
    policy::check_assertion_expiry(claims.exp_ms, now)?;
    let Some(user) = &f.user else {
        return refuse(
            OAuthError::NotApproved,
            format!("no user named {:?} in this org", claims.sub),
        );
    };
    trace.user(user);
    if user.is_locked(now) {
        return refuse(
            OAuthError::UserLocked,
            format!("user {} is locked out", user.username),
        );
    }
    require_active(user)?;
    policy::jwt_access(&AccessFacts::of(app, user), f.approval.is_some())?;
    let scopes: Vec<Scope> = policy::canonical_scopes(&app.scopes)
        .into_iter()
        .filter(|s| *s != Scope::RefreshToken)
        .collect();
    let to = issue::Grantee {
        app,
        user,
        org: &f.org,
        secret: None,
        scopes: &scopes,
        shape: shape(false),
    };
    let event = success_event(state.now(), trace, kind, false, &scopes);
    issue::issue(state, &to, false, None, event, f.unconfirmed).await
}

async fn client_credentials(
    state: &AppState,
    creds: &ClientCredentials,
    scope: Option<&str>,
    kind: &LoginKind,
    trace: &mut Trace,
    attempt: &mut Attempt,
) -> Result<TokenResponse, Failure> {
    let f = facts(
        state,
        creds.client_id.as_deref(),
        GrantUser::RunAs,
        true,
        false,
        attempt,
    )
    .await?;
    let app = &f.app;
    let secret = f.secret()?;
    policy::check_secret(
        true,
        creds.client_secret.as_deref(),
        secret.as_str(),
        "client credentials",
    )?;
    let Some(run_as) = app.client_credentials_user.clone() else {
        return refuse(
            OAuthError::NoClientCredentialsUser,
            format!("app {} has no client-credentials run-as user", app.name),
        );
    };
    let Some(user) = &f.user else {
        return refuse(
            OAuthError::NoClientCredentialsUser,
            format!("run-as user {run_as} no longer exists"),
        );
    };
    trace.user(user);
    require_active(user)?;
    let scopes = policy::client_credentials_scopes(scope, &app.scopes)?;
    let to = issue::Grantee {
        app,
        user,
        org: &f.org,
        secret: Some(secret),
        scopes: &scopes,
        shape: Shape {
            signed: true,
            id_token: false,
            api_instance_url: true,
        },
    };
    let event = success_event(state.now(), trace, kind, false, &scopes);
    issue::issue(state, &to, false, None, event, f.unconfirmed).await
}
