//! Authorization codes, access tokens (sessions) and refresh tokens — all by key (`keys::token_key`) — and their
//! revocation and purge. A refresh racing a revocation either lands before it (and its session is revoked with
//! the rest) or sees the token revoked: the transactions are serializable, and the one-statement refresh
//! (`refresh_with_event`) locks the token's row and checks it again before it adds a session.
//!
//! As on SQLite, a session takes its refresh token's revocation when read (a join), so revoking a refresh token
//! writes only the token, and a revoked one is kept until its sessions are dead (see `store::sqlite::tokens`).

use std::sync::LazyLock;

use postgres::Row;
use postgres::types::ToSql;
use sfr_wire::SfId;

use super::events::EventParams;
use super::session::Run;
use super::users::{self, USER_COLUMNS, USER_FROM};
use super::{R, Tx, parse_id, parse_scopes};
use crate::model::{
    AccessToken, AuthCode, IssueTokens, LoginEvent, NewAccessToken, Redeemed, RefreshPolicy,
    RefreshToken, RefreshUse, Revoked, Scope, StoredSession, User,
};
use crate::store::{LOGIN_HISTORY_KEPT, Purged, REVOKED_REFRESH_RETENTION_MS, StoreError};

/// At most this many live refresh tokens per user per app; a new one beyond it revokes the oldest.
const MAX_REFRESH_TOKENS_PER_USER_APP: i64 = 5;

/// At most this many tokens beyond the cap are revoked by one grant's cap (the next grants take any more; one
/// grant adds one token, so past the first there is one). The bound is what keeps the cap's statement on the
/// live-tokens index: without a `LIMIT` the planner costed "every live token of this user and app after the
/// fifth" by the table's average, and a table where one user held 10,000 live tokens made every other user's
/// cap a scan of the whole table (9.6 ms at 44,000 tokens, against 0.2 ms on the index).
const MAX_REVOKED_PER_CAP: i64 = 100;

/// How long a spent or expired code is kept so a replay can still be recognised (and punished).
const CODE_RETENTION_MS: i64 = 24 * 3_600_000;

// ---- codes ----

pub(super) fn insert_code(c: Tx<'_, '_>, code: &AuthCode) -> R<()> {
    c.execute(
        "INSERT INTO auth_codes (code_hash, app_id, user_id, redirect_uri, scopes, code_challenge,
                                 code_challenge_method, nonce, created_at, expires_at, used_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL)",
        &[
            &code.code_hash,
            &code.app_id.as_str(),
            &code.user_id.as_str(),
            &code.redirect_uri,
            &Scope::join(&code.scopes),
            &code.code_challenge,
            &code.code_challenge_method,
            &code.nonce,
            &code.created_at,
            &code.expires_at,
        ],
    )?;
    Ok(())
}

fn code_from(r: &Row) -> R<AuthCode> {
    Ok(AuthCode {
        code_hash: r.try_get(0)?,
        app_id: parse_id(&r.try_get::<_, String>(1)?)?,
        user_id: parse_id(&r.try_get::<_, String>(2)?)?,
        redirect_uri: r.try_get(3)?,
        scopes: parse_scopes(&r.try_get::<_, String>(4)?)?,
        code_challenge: r.try_get(5)?,
        code_challenge_method: r.try_get(6)?,
        nonce: r.try_get(7)?,
        created_at: r.try_get(8)?,
        expires_at: r.try_get(9)?,
        used_at: r.try_get(10)?,
    })
}

const CODE_COLUMNS: &str = "code_hash, app_id, user_id, redirect_uri, scopes, code_challenge, \
                            code_challenge_method, nonce, created_at, expires_at, used_at";

pub(super) fn auth_code(c: Tx<'_, '_>, code_hash: &str) -> R<Option<AuthCode>> {
    let sql = format!("SELECT {CODE_COLUMNS} FROM auth_codes WHERE code_hash = $1");
    c.query_opt(sql.as_str(), &[&code_hash])?
        .as_ref()
        .map(code_from)
        .transpose()
}

/// How many columns a column list names (its commas outside parentheses, and one): where the columns of a
/// joined table begin in a row.
const fn column_count(columns: &str) -> usize {
    let (bytes, mut i, mut depth, mut n) = (columns.as_bytes(), 0, 0usize, 1);
    while i < bytes.len() {
        match bytes[i] {
            b'(' => depth += 1,
            b')' => depth = depth.saturating_sub(1),
            b',' if depth == 0 => n += 1,
            _ => {}
        }
        i += 1;
    }
    n
}

const CODE_COLUMN_COUNT: usize = column_count(CODE_COLUMNS);

/// Claims a code, and reads its user in the same statement (`None` when there is no such code or user): a code
/// exchange judges the two together, and one round trip fewer is a sixth of its trips. With `facts` (a code
/// exchange decided on cached facts), the claim also checks the facts' counter, in the same statement: a
/// changed counter spends nothing and answers `FactsChanged`.
pub(super) async fn redeem_code(
    c: &mut impl Run,
    code_hash: &str,
    now: i64,
    facts: Option<i64>,
) -> R<(Redeemed, Option<User>)> {
    // The read and the claim in one statement (one round trip): `code` is the row as it was, `claim` spends it if
    // it was unspent. A second redeemer's claim waits on the first's row lock and, once that commits, fails to
    // serialize; its retry sees the code used. The statement answers one row whether or not the code exists, with
    // the counter it read last.
    static SQL: LazyLock<String> = LazyLock::new(|| {
        format!(
            "WITH version AS (SELECT n FROM facts_version),
                  code AS (SELECT {CODE_COLUMNS} FROM auth_codes WHERE code_hash = $1),
                  claim AS (UPDATE auth_codes SET used_at = $2
                            WHERE code_hash = $1 AND used_at IS NULL
                              AND ($3::BIGINT IS NULL OR (SELECT n FROM version) = $3))
             SELECT code.*, usr.*, version.n FROM version LEFT JOIN code ON true
             LEFT JOIN LATERAL (SELECT {USER_COLUMNS} FROM {USER_FROM} WHERE u.id = code.user_id) usr ON true"
        )
    });
    let row = c
        .query_one(SQL.as_str(), &[&code_hash, &now, &facts])
        .await?;
    if let Some(expected) = facts {
        let read: i64 = row.try_get(row.len() - 1)?;
        if read != expected {
            return Err(StoreError::FactsChanged.into());
        }
    }
    if row.try_get::<_, Option<String>>(0)?.is_none() {
        return Ok((Redeemed::Unknown, None));
    }
    let mut code = code_from(&row)?;
    let user = users::maybe_user_at(&row, CODE_COLUMN_COUNT)?;
    if code.used_at.is_some() {
        revoke_from_code(c, code_hash, now).await?;
        return Ok((Redeemed::Replayed(code), user));
    }
    code.used_at = Some(now);
    if now >= code.expires_at {
        Ok((Redeemed::Expired(code), user))
    } else {
        Ok((Redeemed::Fresh(code), user))
    }
}

/// Revokes every token that descends from a code: its refresh tokens (and so their sessions) and its own
/// sessions.
async fn revoke_from_code(c: &mut impl Run, code_hash: &str, now: i64) -> R<u64> {
    let sessions = c
        .execute(
            "UPDATE access_tokens SET revoked_at = $2 WHERE from_code = $1 AND revoked_at IS NULL",
            &[&code_hash, &now],
        )
        .await?;
    let refresh = c
        .execute(
            "UPDATE refresh_tokens SET revoked_at = $2 WHERE from_code = $1 AND revoked_at IS NULL",
            &[&code_hash, &now],
        )
        .await?;
    Ok(sessions + refresh)
}

// ---- issuing ----

/// A new session's own column values as statement parameters, `$1`–`$6` of every statement that inserts one:
/// `token_hash`, `app_id`, `user_id`, `scopes`, `issued_at` (also its `last_used_at`), `session_timeout_ms`.
struct SessionParams<'t> {
    t: &'t NewAccessToken,
    app_id: &'t str,
    user_id: &'t str,
    scopes: String,
}

impl<'t> SessionParams<'t> {
    fn of(t: &'t NewAccessToken) -> Self {
        Self {
            t,
            app_id: t.app_id.as_str(),
            user_id: t.user_id.as_str(),
            scopes: Scope::join(&t.scopes),
        }
    }

    fn params(&self) -> [&(dyn ToSql + Sync); 6] {
        [
            &self.t.token_hash,
            &self.app_id,
            &self.user_id,
            &self.scopes,
            &self.t.issued_at,
            &self.t.session_timeout_ms,
        ]
    }
}

fn insert_access(
    c: Tx<'_, '_>,
    t: &NewAccessToken,
    refresh_hash: Option<&str>,
    from_code: Option<&str>,
) -> R<()> {
    c.execute(
        "INSERT INTO access_tokens (token_hash, app_id, user_id, scopes, refresh_hash, from_code, issued_at,
                                    last_used_at, session_timeout_ms, revoked_at)
         VALUES ($1, $2, $3, $4, $7, $8, $5, $5, $6, NULL)",
        &SessionParams::of(t)
            .params()
            .into_iter()
            .chain([&refresh_hash as &(dyn ToSql + Sync), &from_code])
            .collect::<Vec<_>>(),
    )?;
    Ok(())
}

/// A grant's tokens and its login-history event, in the caller's transaction.
/// A grant's tokens (a session, and a refresh token if it has one) and its login-history row, in one statement:
/// one round trip where three inserts took three. Run in autocommit when nothing else is in the use case
/// (client credentials, JWT bearer), inside its transaction otherwise (a code exchange). The cap on live refresh
/// tokens is the caller's, after the commit (`enforce_refresh_cap`).
///
/// A grant decided on cached facts (`issue.facts_version`) has every insert guarded by the counter
/// (`facts_version::guard`): if a change committed since, nothing is stored and the answer is
/// `FactsChanged`, in the same round trip.
pub(super) async fn issue_with_event(c: &mut impl Run, issue: &IssueTokens) -> R<()> {
    let session = SessionParams::of(&issue.access);
    let refresh = issue.refresh.as_ref().map(RefreshParams::of);
    let event = issue.event.as_ref().map(EventParams::of);
    let refresh_hash = issue.refresh.as_ref().map(|r| r.token_hash.as_str());
    let from_code = issue.from_code.as_deref();
    // $1–$6 the session's own columns, $7 its refresh token, $8 its code; then the facts' version if the inserts
    // are guarded, the refresh token's columns, the event's.
    let mut params: Vec<&(dyn ToSql + Sync)> = session.params().into();
    params.extend([&refresh_hash as &(dyn ToSql + Sync), &from_code]);
    let guard = match &issue.facts_version {
        Some(version) => {
            params.push(version);
            format!("WHERE {}", super::facts_version::guard(params.len()))
        }
        None => String::new(),
    };
    let mut inserts = vec![format!(
        "INSERT INTO access_tokens (token_hash, app_id, user_id, scopes, refresh_hash, from_code, issued_at,
                                    last_used_at, session_timeout_ms, revoked_at)
         SELECT $1, $2, $3, $4, $7, $8, $5, $5, $6, NULL {guard}"
    )];
    if let Some(refresh) = &refresh {
        let n = params.len();
        params.extend(refresh.params());
        inserts.push(format!(
            "INSERT INTO refresh_tokens (token_hash, app_id, user_id, scopes, from_code, issued_at, last_used_at,
                                         revoked_at)
             SELECT $7, ${}, ${}, ${}, $8, ${}, ${}, NULL {guard}",
            n + 1,
            n + 2,
            n + 3,
            n + 4,
            n + 4
        ));
    }
    if let Some(event) = &event {
        let n = params.len();
        params.extend(event.params());
        let values = (n + 1..=n + 9)
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        inserts.push(format!(
            "INSERT INTO login_events (at, username, user_id, consumer_key, kind, success, error_code, reason,
                                       source_ip)
             SELECT {values} {guard}"
        ));
    }
    // The last insert is the statement, the others its data-modifying `WITH` clauses.
    let last = inserts.pop().unwrap_or_default();
    let with = inserts
        .iter()
        .enumerate()
        .map(|(i, insert)| format!("w{i} AS ({insert})"))
        .collect::<Vec<_>>();
    let sql = if with.is_empty() {
        last
    } else {
        format!("WITH {} {last}", with.join(", "))
    };
    match c.execute(sql.as_str(), &params).await? {
        0 => Err(StoreError::FactsChanged.into()),
        _ => Ok(()),
    }
}

/// A new refresh token's columns as statement parameters, after the session's: `app_id`, `user_id`, `scopes`,
/// `issued_at` (also its `last_used_at`); its hash is the session's `refresh_hash`, its code the session's.
struct RefreshParams<'t> {
    app_id: &'t str,
    user_id: &'t str,
    scopes: String,
    issued_at: i64,
}

impl<'t> RefreshParams<'t> {
    fn of(r: &'t crate::model::NewRefreshToken) -> Self {
        Self {
            app_id: r.app_id.as_str(),
            user_id: r.user_id.as_str(),
            scopes: Scope::join(&r.scopes),
            issued_at: r.issued_at,
        }
    }

    fn params(&self) -> [&(dyn ToSql + Sync); 4] {
        [&self.app_id, &self.user_id, &self.scopes, &self.issued_at]
    }
}

/// Whose live refresh tokens a grant's commit may have taken past the cap: the new refresh token's user and app,
/// and when it was issued.
pub(super) struct CapCheck {
    user: SfId,
    app: SfId,
    now: i64,
}

impl CapCheck {
    pub(super) fn after(issue: &IssueTokens) -> Option<Self> {
        issue.refresh.as_ref().map(|r| Self {
            user: r.user_id.clone(),
            app: r.app_id.clone(),
            now: r.issued_at,
        })
    }
}

/// Revokes the oldest live refresh tokens of (user, app) beyond the cap (their sessions with them, by the join),
/// in one statement run in autocommit after the grant that added a token committed.
///
/// Not inside the grant's `SERIALIZABLE` transaction: there, every exchange for one user and app read the range
/// of live tokens the others were inserting into, and all but one of the concurrent exchanges failed to
/// serialize and were retried (3,233 rollbacks for 4,714 exchanges, 929 exchanges/s with p99 234 ms on the
/// benchmark's one user). Here, under `READ COMMITTED`, the statement takes the excess it sees (the live tokens
/// after the five newest, at most `MAX_REVOKED_PER_CAP`) and locks those rows with `SKIP LOCKED`: it never waits, so concurrent caps for one
/// user and app neither deadlock (an `UPDATE … IN (…)` locked in its join's order, and two of them deadlocked 11
/// times in a 5 s run, each held a second by the detector) nor queue behind each other's commit (locking the
/// user's live tokens newest first, which avoided the deadlocks, made every cap wait for the previous one's
/// fsync: the exchanges' p99 rose to 60 ms). A row another statement holds is either being revoked by another
/// cap or used by a refresh; it is left for the next cap. Only tokens beyond the newest five of the statement's
/// snapshot are revoked, and later snapshots only add newer tokens, so a cap never revokes a token that should
/// live. The cost: for a moment after a grant (and, if the node dies in between or a row was skipped, until the
/// user's next grant for the app) there may be a live token or two over the cap.
pub(super) async fn enforce_refresh_cap(c: &mut impl Run, cap: &CapCheck) -> R<u64> {
    Ok(c.execute(
        "WITH excess AS (
             SELECT token_hash FROM refresh_tokens
             WHERE user_id = $1 AND app_id = $2 AND revoked_at IS NULL
             ORDER BY issued_at DESC, seq DESC OFFSET $4 LIMIT $5
         ),
         taken AS (
             SELECT token_hash FROM refresh_tokens WHERE token_hash IN (SELECT token_hash FROM excess)
             FOR UPDATE SKIP LOCKED
         )
         UPDATE refresh_tokens SET revoked_at = $3
         WHERE token_hash IN (SELECT token_hash FROM taken) AND revoked_at IS NULL",
        &[
            &cap.user.as_str(),
            &cap.app.as_str(),
            &cap.now,
            &MAX_REFRESH_TOKENS_PER_USER_APP,
            &MAX_REVOKED_PER_CAP,
        ],
    )
    .await?)
}

// ---- reading ----

/// A session's columns (decoded by `access_from`) from `session_tables!`, its revocation taken from its refresh
/// token when that one is revoked. Macros, to be `concat!`ed into statement text.
macro_rules! session_columns {
    () => {
        "a.token_hash, a.app_id, a.user_id, a.scopes, a.refresh_hash, a.from_code, a.issued_at,
                a.last_used_at, a.session_timeout_ms, COALESCE(a.revoked_at, r.revoked_at)"
    };
}

macro_rules! session_tables {
    () => {
        "access_tokens a LEFT JOIN refresh_tokens r ON r.token_hash = a.refresh_hash"
    };
}

const ACCESS_COLUMN_COUNT: usize = column_count(session_columns!());

fn access_from(r: &Row) -> R<AccessToken> {
    Ok(AccessToken {
        token_hash: r.try_get(0)?,
        app_id: parse_id(&r.try_get::<_, String>(1)?)?,
        user_id: parse_id(&r.try_get::<_, String>(2)?)?,
        scopes: parse_scopes(&r.try_get::<_, String>(3)?)?,
        refresh_hash: r.try_get(4)?,
        from_code: r.try_get(5)?,
        issued_at: r.try_get(6)?,
        last_used_at: r.try_get(7)?,
        session_timeout_ms: r.try_get(8)?,
        revoked_at: r.try_get(9)?,
    })
}

/// A session, revoked if its refresh token is.
pub(super) async fn access_token(c: &mut impl Run, hash: &str) -> R<Option<AccessToken>> {
    let sql = concat!(
        "SELECT ",
        session_columns!(),
        " FROM ",
        session_tables!(),
        " WHERE a.token_hash = $1"
    );
    c.query_opt(sql, &[&hash])
        .await?
        .as_ref()
        .map(access_from)
        .transpose()
}

/// A session and its user (`None` if the user is gone), in one statement: what a bearer token's check reads
/// (the identity URL, userinfo, the REST calls, introspection), one round trip where a session and then its
/// user took two.
pub(super) async fn session_with_user(c: &mut impl Run, hash: &str) -> R<Option<StoredSession>> {
    static SQL: LazyLock<String> = LazyLock::new(|| {
        let session = concat!(
            "SELECT ",
            session_columns!(),
            ", usr.* FROM ",
            session_tables!()
        );
        format!(
            "{session}
             LEFT JOIN LATERAL (SELECT {USER_COLUMNS} FROM {USER_FROM} WHERE u.id = a.user_id) usr ON true
             WHERE a.token_hash = $1"
        )
    });
    let Some(row) = c.query_opt(SQL.as_str(), &[&hash]).await? else {
        return Ok(None);
    };
    Ok(Some(StoredSession {
        token: access_from(&row)?,
        user: users::maybe_user_at(&row, ACCESS_COLUMN_COUNT)?,
    }))
}

pub(super) async fn touch(c: &mut impl Run, hash: &str, now: i64) -> R<()> {
    c.execute(
        concat!(
            "UPDATE access_tokens SET last_used_at = $2
         WHERE token_hash = $1 AND revoked_at IS NULL AND last_used_at < $2
               AND last_used_at + session_timeout_ms > $2 AND ",
            refresh_not_revoked!()
        ),
        &[&hash, &now],
    )
    .await?;
    Ok(())
}

fn refresh_from(r: &Row) -> R<RefreshToken> {
    Ok(RefreshToken {
        token_hash: r.try_get(0)?,
        app_id: parse_id(&r.try_get::<_, String>(1)?)?,
        user_id: parse_id(&r.try_get::<_, String>(2)?)?,
        scopes: parse_scopes(&r.try_get::<_, String>(3)?)?,
        from_code: r.try_get(4)?,
        issued_at: r.try_get(5)?,
        last_used_at: r.try_get(6)?,
        revoked_at: r.try_get(7)?,
    })
}

const REFRESH_COLUMNS: &str =
    "token_hash, app_id, user_id, scopes, from_code, issued_at, last_used_at, revoked_at";

pub(super) async fn refresh_token(c: &mut impl Run, hash: &str) -> R<Option<RefreshToken>> {
    let sql = format!("SELECT {REFRESH_COLUMNS} FROM refresh_tokens WHERE token_hash = $1");
    c.query_opt(sql.as_str(), &[&hash])
        .await?
        .as_ref()
        .map(refresh_from)
        .transpose()
}

pub(super) fn refresh(c: Tx<'_, '_>, u: &RefreshUse) -> R<Option<RefreshToken>> {
    // FOR UPDATE: refreshes and revocations of one token take turns (the row is written below anyway; a shared
    // lock upgraded later would deadlock two refreshes), so no session is ever added to a revoked token.
    let sql =
        format!("SELECT {REFRESH_COLUMNS} FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE");
    let Some(token) = c
        .query_opt(sql.as_str(), &[&u.refresh_hash])?
        .as_ref()
        .map(refresh_from)
        .transpose()?
    else {
        return Ok(None);
    };
    if token.revoked_at.is_some() {
        return Ok(None);
    }
    // GREATEST: concurrent refreshes may commit out of order; the newest use wins.
    if u.mark_used {
        c.execute(
            "UPDATE refresh_tokens SET last_used_at = GREATEST(last_used_at, $2) WHERE token_hash = $1",
            &[&u.refresh_hash, &u.now],
        )?;
    }
    // The session does not repeat the token's code: revoking the code's descendants reaches it through the token.
    insert_access(c, &u.new_access, Some(&u.refresh_hash), None)?;
    Ok(Some(u.applied_to(token)))
}

/// What the statement of a use writes as the token's last use: the use's time when it is recorded, otherwise
/// a time `GREATEST` never picks. The row is updated either way: the `UPDATE` is what locks it against a
/// concurrent revocation (`refresh_with_event`).
fn written_use(u: &RefreshUse) -> i64 {
    if u.mark_used { u.now } else { i64::MIN }
}

/// `refresh` and its login-history row in one statement (`Mode::OneWrite`): the refresh token's use, its new
/// session and the event, each only if the token is live. The `UPDATE` locks the token's row and checks
/// `revoked_at` again on the newest version of it, so a revocation either commits first (nothing is added) or
/// waits for this statement and then revokes its session too — what `FOR UPDATE` gives the transaction.
///
/// A refresh decided on cached facts (`u.facts_version`) guards the `UPDATE` with the counter
/// (`facts_version::guard`); the statement always answers one row with the counter as it read it, so a use
/// that did not happen because a change committed since is told apart from a revoked token (`FactsChanged`).
pub(super) async fn refresh_with_event(
    c: &mut impl Run,
    u: &RefreshUse,
    e: &LoginEvent,
) -> R<Option<RefreshToken>> {
    let session = SessionParams::of(&u.new_access);
    let mut params: Vec<&(dyn ToSql + Sync)> = session.params().into();
    let last_use = written_use(u);
    params.extend([&u.refresh_hash as &(dyn ToSql + Sync), &last_use]);
    let event = EventParams::of(e);
    params.extend(event.params());
    let guard = match &u.facts_version {
        Some(version) => {
            params.push(version);
            format!("AND {}", super::facts_version::guard(params.len()))
        }
        None => String::new(),
    };
    let sql = format!(
        "WITH used AS (
             UPDATE refresh_tokens SET last_used_at = GREATEST(last_used_at, $8)
             WHERE token_hash = $7 AND revoked_at IS NULL {guard}
             RETURNING {REFRESH_COLUMNS}
         ),
         session AS (
             INSERT INTO access_tokens (token_hash, app_id, user_id, scopes, refresh_hash, from_code, issued_at,
                                        last_used_at, session_timeout_ms, revoked_at)
             SELECT $1, $2, $3, $4, $7, NULL, $5, $5, $6, NULL FROM used
         ),
         event AS (
             INSERT INTO login_events (at, username, user_id, consumer_key, kind, success, error_code, reason,
                                       source_ip)
             SELECT $9, $10, $11, $12, $13, $14, $15, $16, $17 FROM used
         )
         SELECT used.*, version.n FROM (SELECT n FROM facts_version) version LEFT JOIN used ON true"
    );
    let row = c.query_one(sql.as_str(), &params).await?;
    let read_at: i64 = row.try_get(row.len() - 1)?;
    if u.facts_version.is_some_and(|v| v != read_at) {
        return Err(StoreError::FactsChanged.into());
    }
    if row.try_get::<_, Option<String>>(0)?.is_none() {
        return Ok(None);
    }
    refresh_from(&row).map(|token| Some(u.applied_to(token)))
}

// ---- revoking ----

/// Revokes a refresh token, and so every session it vouches for.
fn revoke_refresh(c: Tx<'_, '_>, hash: &str, now: i64) -> R<bool> {
    let n = c.execute(
        "UPDATE refresh_tokens SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL",
        &[&hash, &now],
    )?;
    Ok(n > 0)
}

pub(super) fn revoke_by_hash(c: Tx<'_, '_>, hash: &str, now: i64) -> R<Revoked> {
    let sessions = c.execute(
        concat!(
"UPDATE access_tokens SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL AND ",
refresh_not_revoked!()),
        &[&hash, &now],
    )?;
    if sessions > 0 {
        return Ok(Revoked::Access);
    }
    if revoke_refresh(c, hash, now)? {
        return Ok(Revoked::Refresh);
    }
    Ok(Revoked::None)
}

/// Revokes every session and refresh token of a user for an app; returns how many refresh tokens it revoked,
/// as the SQLite store does (which cannot count the sessions without the index it no longer keeps).
pub(super) fn revoke_user_app(c: Tx<'_, '_>, user: &SfId, app: &SfId, now: i64) -> R<u64> {
    c.execute(
        concat!(
            "UPDATE access_tokens SET revoked_at = $3
         WHERE user_id = $1 AND app_id = $2 AND revoked_at IS NULL AND ",
            refresh_not_revoked!()
        ),
        &[&user.as_str(), &app.as_str(), &now],
    )?;
    let r = c.execute(
        "UPDATE refresh_tokens SET revoked_at = $3
         WHERE user_id = $1 AND app_id = $2 AND revoked_at IS NULL",
        &[&user.as_str(), &app.as_str(), &now],
    )?;
    Ok(r)
}

/// Revokes every token of a user (on deactivation).
pub(super) fn revoke_user(c: Tx<'_, '_>, user: &SfId, now: i64) -> R<()> {
    for table in ["access_tokens", "refresh_tokens"] {
        c.execute(
            format!("UPDATE {table} SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL")
                .as_str(),
            &[&user.as_str(), &now],
        )?;
    }
    Ok(())
}

// ---- purge ----

pub(super) fn purge(c: Tx<'_, '_>, now: i64) -> R<Purged> {
    let codes = c.execute(
        "DELETE FROM auth_codes WHERE expires_at + $2 <= $1",
        &[&now, &CODE_RETENTION_MS],
    )?;
    let access_tokens = c.execute(
        "DELETE FROM access_tokens
         WHERE revoked_at IS NOT NULL OR last_used_at + session_timeout_ms <= $1",
        &[&now],
    )?;
    let mut refresh_tokens = c.execute(
        "DELETE FROM refresh_tokens WHERE revoked_at + $2 <= $1",
        &[&now, &REVOKED_REFRESH_RETENTION_MS],
    )?;
    // Live refresh tokens past their policy: the policy lives on the app, so decide here. Their sessions live
    // on to their own timeout; revoked tokens wait for the retention above.
    let candidates = c.query(
        "SELECT r.token_hash, r.issued_at, r.last_used_at, a.refresh_policy
         FROM refresh_tokens r JOIN apps a ON a.id = r.app_id
         WHERE a.refresh_policy <> 'until-revoked' AND r.revoked_at IS NULL",
        &[],
    )?;
    for row in candidates {
        let hash: String = row.try_get(0)?;
        let policy = RefreshPolicy::parse(&row.try_get::<_, String>(3)?)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        if policy.is_expired(row.try_get(1)?, row.try_get(2)?, now) {
            refresh_tokens +=
                c.execute("DELETE FROM refresh_tokens WHERE token_hash = $1", &[&hash])?;
        }
    }
    let events = c.execute(
        "DELETE FROM login_events WHERE seq <= (SELECT MAX(seq) FROM login_events) - $1",
        &[&LOGIN_HISTORY_KEPT],
    )?;
    Ok(Purged {
        events,
        codes,
        access_tokens,
        refresh_tokens,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_lists_count_their_columns() {
        assert_eq!(column_count("a"), 1);
        assert_eq!(column_count("a.x, b,\n c"), 3);
        assert_eq!(column_count("a, COALESCE(a.r, r.r), f(g(x, y), z), b"), 4);
    }
}
