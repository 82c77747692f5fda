//! Authorization codes, access tokens (sessions) and refresh tokens — all by key (`keys::token_key`) — and their
//! revocation and purge.
//!
//! A session issued with or from a refresh token is revoked with it, but not by a write to the session: reading
//! a session joins its refresh token and takes that token's revocation (schema v9). A write would need an index
//! from refresh token to sessions, and every refresh grant inserted into that index at a random place — a page
//! more written per grant, which cost a fifth of the grant's throughput and most of its p99 at half load. So a
//! revoked refresh token is kept until every session it vouches for has timed out
//! (`store::REVOKED_REFRESH_RETENTION_MS`), and only then purged.
//!
//! Revoking a user's sessions for an app (or for every app, on deactivation) writes no session either: it
//! stores a cutoff (`session_cutoffs`, schema v14). A session issued at or before a cutoff of its user, for its
//! app or for every app, is revoked as of such a cutoff when read, and is no longer touched or revoked
//! again. A cutoff takes its whole millisecond: a session issued in it after the revocation is revoked too,
//! where writing the sessions spared it (nothing tells the two apart but the order of the writes). Writing the sessions needed an index of them by user and app, and every grant inserted into it: a
//! third of the pages a batch of grants wrote (BENCHMARKS.md, step 54). The purge drops a cutoff once every
//! session it revoked has timed out (`REVOKED_REFRESH_RETENTION_MS`, for the same reason as there).

use rusqlite::{Connection, OptionalExtension as _, params};
use sfr_wire::SfId;

use super::cached::CachedStatements as _;
use super::in_batch::InBatch;
use super::{db_err, parse_id, parse_scopes};
use crate::model::{
    AccessToken, AuthCode, IssueTokens, NewAccessToken, Redeemed, RefreshPolicy, RefreshToken,
    RefreshUse, Revoked, Scope,
};
use crate::store::{Purged, REVOKED_REFRESH_RETENTION_MS, StoreError, StoreResult};

/// A session (a row of `access_tokens`, by that name) that no cutoff of its user revokes: none for its app or
/// for every app (`''`) at or after its issue (see the module's note). One seek of the cutoffs' key for each:
/// `app_id IN (…, '')` would build a temporary table of the two values on every call.
macro_rules! session_not_cut {
    () => {
        "NOT EXISTS (SELECT 1 FROM session_cutoffs c
                     WHERE c.user_id = access_tokens.user_id AND c.app_id = access_tokens.app_id
                           AND c.cut_at >= access_tokens.issued_at)
         AND NOT EXISTS (SELECT 1 FROM session_cutoffs c
                         WHERE c.user_id = access_tokens.user_id AND c.app_id = ''
                               AND c.cut_at >= access_tokens.issued_at)"
    };
}

/// At most this many live refresh tokens per user per app; a new one beyond it revokes the oldest.
pub const MAX_REFRESH_TOKENS_PER_USER_APP: i64 = 5;

/// How long a spent or expired code is kept so a replay can still be recognised (and punished).
const CODE_RETENTION_MS: i64 = 24 * 3_600_000;

// ---- codes ----

pub(super) fn insert_code(conn: &Connection, code: &AuthCode) -> StoreResult<()> {
    conn.execute_cached(
        "INSERT INTO auth_codes (code_hash, app_id, user_id, redirect_uri, scopes, code_challenge,
                                 code_challenge_method, nonce, created_at, expires_at, used_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, NULL)",
        params![
            code.code_hash,
            code.app_id.as_str(),
            code.user_id.as_str(),
            code.redirect_uri,
            Scope::join(&code.scopes),
            code.code_challenge,
            code.code_challenge_method,
            code.nonce,
            code.created_at,
            code.expires_at,
        ],
    )
    .map_err(db_err)?;
    Ok(())
}

type CodeRow = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    i64,
    i64,
    Option<i64>,
);

fn code_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CodeRow> {
    code_row_at(r, 0)
}

/// A code's columns from column `at` on.
fn code_row_at(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<CodeRow> {
    Ok((
        r.get(at)?,
        r.get(at + 1)?,
        r.get(at + 2)?,
        r.get(at + 3)?,
        r.get(at + 4)?,
        r.get(at + 5)?,
        r.get(at + 6)?,
        r.get(at + 7)?,
        r.get(at + 8)?,
        r.get(at + 9)?,
        r.get(at + 10)?,
    ))
}

fn code_from_row(r: CodeRow) -> StoreResult<AuthCode> {
    Ok(AuthCode {
        code_hash: r.0,
        app_id: parse_id(&r.1)?,
        user_id: parse_id(&r.2)?,
        redirect_uri: r.3,
        scopes: parse_scopes(&r.4)?,
        code_challenge: r.5,
        code_challenge_method: r.6,
        nonce: r.7,
        created_at: r.8,
        expires_at: r.9,
        used_at: r.10,
    })
}

pub(super) fn load_code(conn: &Connection, code_hash: &str) -> StoreResult<Option<AuthCode>> {
    let row: Option<CodeRow> = conn
        .query_row_cached(
            "SELECT code_hash, app_id, user_id, redirect_uri, scopes, code_challenge, code_challenge_method,
                    nonce, created_at, expires_at, used_at
             FROM auth_codes WHERE code_hash = ?1",
            [code_hash],
            code_row,
        )
        .optional()
        .map_err(db_err)?;
    row.map(code_from_row).transpose()
}

/// Claims a code (`Store::redeem_code`): `find_claim`, then `spend_code` with nothing issued.
pub(super) fn redeem_code(tx: &InBatch<'_>, code_hash: &str, now: i64) -> StoreResult<Redeemed> {
    let (redeemed, claim) = find_claim(tx, code_hash, now)?;
    if let Some(claim) = claim {
        spend_code(tx, claim, now, None)?;
    }
    Ok(redeemed)
}

/// A code that `find_claim` found unspent, which the same transaction spends (`spend_code`) before it commits.
#[must_use = "a claimed code is spent in the transaction that found it"]
pub(super) struct Claim {
    rowid: i64,
}

/// The first half of a code's claim: the code, as it will read once spent at `now`, and, unless it was spent
/// already, its `Claim`. A spent code is a replay, and every token it issued is revoked. The transaction holds
/// the write lock from its start (`InBatch`), so no other connection spends the code between this read and
/// `spend_code`; a claim in one statement (`UPDATE … RETURNING`) cost more, since SQLite gathers what an update
/// returns in a temporary B-tree.
pub(super) fn find_claim(
    tx: &InBatch<'_>,
    code_hash: &str,
    now: i64,
) -> StoreResult<(Redeemed, Option<Claim>)> {
    let found: Option<(i64, CodeRow)> = tx
        .query_row_cached(
            "SELECT rowid, code_hash, app_id, user_id, redirect_uri, scopes, code_challenge,
                    code_challenge_method, nonce, created_at, expires_at, used_at
             FROM auth_codes WHERE code_hash = ?1",
            [code_hash],
            |r| Ok((r.get(0)?, code_row_at(r, 1)?)),
        )
        .optional()
        .map_err(db_err)?;
    let Some((rowid, row)) = found else {
        return Ok((Redeemed::Unknown, None));
    };
    let mut code = code_from_row(row)?;
    if code.used_at.is_some() {
        revoke_from_code(tx, code_hash, now)?;
        return Ok((Redeemed::Replayed(code), None));
    }
    code.used_at = Some(now);
    let claim = Some(Claim { rowid });
    if now >= code.expires_at {
        Ok((Redeemed::Expired(code), claim))
    } else {
        Ok((Redeemed::Fresh(code), claim))
    }
}

/// The second half: spends the claimed code at `now` and records the keys of the access and refresh token its
/// exchange issued, if it issued any (schema v10: where a replay finds them), in one write of the code's row.
pub(super) fn spend_code(
    tx: &InBatch<'_>,
    claim: Claim,
    now: i64,
    issued: Option<(&str, Option<&str>)>,
) -> StoreResult<()> {
    let (access, refresh) = issued.map_or((None, None), |(a, r)| (Some(a), r));
    let spent = tx
        .execute_cached(
            "UPDATE auth_codes SET used_at = ?2, access_hash = ?3, refresh_hash = ?4
             WHERE rowid = ?1 AND used_at IS NULL",
            params![claim.rowid, now, access, refresh],
        )
        .map_err(db_err)?;
    if spent == 1 {
        Ok(())
    } else {
        Err(StoreError::Internal(
            "a claimed authorization code was spent outside its claim's transaction".into(),
        ))
    }
}

/// Revokes every token that descends from a code: its refresh token (and so every session it vouches for) and
/// its own session, found through the hashes its exchange recorded on the code's row (schema v10).
fn revoke_from_code(conn: &Connection, code_hash: &str, now: i64) -> StoreResult<u64> {
    let issued: Option<(Option<String>, Option<String>)> = conn
        .query_row_cached(
            "SELECT access_hash, refresh_hash FROM auth_codes WHERE code_hash = ?1",
            [code_hash],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(db_err)?;
    let Some((access, refresh)) = issued else {
        return Ok(0);
    };
    let mut revoked = 0;
    if let Some(access) = access {
        revoked += conn
            .execute_cached(
                concat!(
                    "UPDATE access_tokens SET revoked_at = ?2 WHERE token_hash = ?1 AND revoked_at IS NULL AND ",
                    session_not_cut!()
                ),
                params![access, now],
            )
            .map_err(db_err)? as u64;
    }
    if let Some(refresh) = refresh {
        revoked += u64::from(revoke_refresh(conn, &refresh, now)?);
    }
    Ok(revoked)
}

// ---- issuing ----

fn insert_access(
    conn: &Connection,
    t: &NewAccessToken,
    refresh_hash: Option<&str>,
    from_code: Option<&str>,
) -> StoreResult<()> {
    conn.execute_cached(
        "INSERT INTO access_tokens (token_hash, app_id, user_id, scopes, refresh_hash, from_code, issued_at,
                                    last_used_at, session_timeout_ms, revoked_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8, NULL)",
        params![
            t.token_hash,
            t.app_id.as_str(),
            t.user_id.as_str(),
            Scope::join(&t.scopes),
            refresh_hash,
            from_code,
            t.issued_at,
            t.session_timeout_ms,
        ],
    )
    .map_err(db_err)?;
    Ok(())
}

/// A grant's tokens: its refresh token, if any (and the cap on live ones), and its session.
pub(super) fn issue_tokens(conn: &Connection, issue: &IssueTokens) -> StoreResult<()> {
    let from_code = issue.from_code.as_deref();
    if let Some(r) = &issue.refresh {
        conn.execute_cached(
            "INSERT INTO refresh_tokens (token_hash, app_id, user_id, scopes, from_code, issued_at, last_used_at,
                                         revoked_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, NULL)",
            params![
                r.token_hash,
                r.app_id.as_str(),
                r.user_id.as_str(),
                Scope::join(&r.scopes),
                from_code,
                r.issued_at,
            ],
        )
        .map_err(db_err)?;
        enforce_refresh_cap(conn, &r.user_id, &r.app_id, r.issued_at)?;
    }
    insert_access(conn, &issue.access, issued_refresh(issue), from_code)
}

/// Records what a grant from a code issued on the code's row (its page is already written by the claim), not in
/// an index of tokens by code: what a replay revokes, found without a random insert into two more B-trees per
/// exchange. A code exchange on the writer records them with the claim itself (`spend_code`).
pub(super) fn record_on_code(conn: &Connection, issue: &IssueTokens) -> StoreResult<()> {
    if let Some(code) = issue.from_code.as_deref() {
        conn.execute_cached(
            "UPDATE auth_codes SET access_hash = ?2, refresh_hash = ?3 WHERE code_hash = ?1",
            params![code, issue.access.token_hash, issued_refresh(issue)],
        )
        .map_err(db_err)?;
    }
    Ok(())
}

/// The key of the refresh token `issue` holds, if any.
pub(super) fn issued_refresh(issue: &IssueTokens) -> Option<&str> {
    issue.refresh.as_ref().map(|r| r.token_hash.as_str())
}

/// Revokes the oldest live refresh tokens of (user, app) beyond the cap, with their sessions (which take their
/// refresh token's revocation when read). Of tokens issued in the same millisecond the first inserted is the
/// oldest: a new row's rowid is above every row's in the table (schema v15). They are found by rowid, which
/// `refresh_tokens_live` holds after its columns, in the cap's order (no read of the table and no sort), and
/// revoked by rowid (no search of the key index). One statement that did both cost more: an
/// `UPDATE` over rows its own scan selects collects them in a temporary B-tree first.
fn enforce_refresh_cap(conn: &Connection, user: &SfId, app: &SfId, now: i64) -> StoreResult<()> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT rowid FROM refresh_tokens
             WHERE user_id = ?1 AND app_id = ?2 AND revoked_at IS NULL
             ORDER BY issued_at DESC, rowid DESC LIMIT -1 OFFSET ?3",
        )
        .map_err(db_err)?;
    let excess = stmt
        .query_map(
            params![user.as_str(), app.as_str(), MAX_REFRESH_TOKENS_PER_USER_APP],
            |r| r.get::<_, i64>(0),
        )
        .map_err(db_err)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db_err)?;
    for rowid in excess {
        conn.execute_cached(
            "UPDATE refresh_tokens SET revoked_at = ?2 WHERE rowid = ?1 AND revoked_at IS NULL",
            params![rowid, now],
        )
        .map_err(db_err)?;
    }
    Ok(())
}

// ---- reading ----

type AccessRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    i64,
    i64,
    i64,
    Option<i64>,
);

/// Whether a statement on sessions must look for cutoffs: unless the writer knows there are none
/// (`InBatch::cutoffs`), they may exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cutoffs {
    MayExist,
    NoneExist,
}

/// The session read with its revocation time `$revoked_at`.
macro_rules! read_session {
    ($revoked_at:literal) => {
        concat!(
            "SELECT a.token_hash, a.app_id, a.user_id, a.scopes, a.refresh_hash, a.from_code, a.issued_at,
                    a.last_used_at, a.session_timeout_ms, ",
            $revoked_at,
            " FROM access_tokens a LEFT JOIN refresh_tokens r ON r.token_hash = a.refresh_hash
             WHERE a.token_hash = ?1"
        )
    };
}

/// A session, revoked if its refresh token is or a cutoff of its user covers it (see the module's note): as of
/// its own revocation, else its refresh token's, else the first cutoff of its app's, else of every app's.
/// Without cutoffs, the two searches of them go: they were a tenth of what the writer ran per bearer read.
pub(super) fn access_token(
    conn: &Connection,
    hash: &str,
    cutoffs: Cutoffs,
) -> StoreResult<Option<AccessToken>> {
    let sql = match cutoffs {
        Cutoffs::MayExist => read_session!(
            "COALESCE(a.revoked_at, r.revoked_at,
                      (SELECT MIN(c.cut_at) FROM session_cutoffs c
                       WHERE c.user_id = a.user_id AND c.app_id = a.app_id AND c.cut_at >= a.issued_at),
                      (SELECT MIN(c.cut_at) FROM session_cutoffs c
                       WHERE c.user_id = a.user_id AND c.app_id = '' AND c.cut_at >= a.issued_at))"
        ),
        Cutoffs::NoneExist => read_session!("COALESCE(a.revoked_at, r.revoked_at)"),
    };
    let row: Option<AccessRow> = conn
        .query_row_cached(sql, [hash], |r| AccessRow::try_from(r))
        .optional()
        .map_err(db_err)?;
    row.map(|r| {
        Ok(AccessToken {
            token_hash: r.0,
            app_id: parse_id(&r.1)?,
            user_id: parse_id(&r.2)?,
            scopes: parse_scopes(&r.3)?,
            refresh_hash: r.4,
            from_code: r.5,
            issued_at: r.6,
            last_used_at: r.7,
            session_timeout_ms: r.8,
            revoked_at: r.9,
        })
    })
    .transpose()
}

/// Extends a live session to `now` (see `access_token` for `cutoffs`).
pub(super) fn touch(conn: &Connection, hash: &str, now: i64, cutoffs: Cutoffs) -> StoreResult<()> {
    macro_rules! touch {
        ($($uncut:expr)?) => {
            concat!(
                "UPDATE access_tokens SET last_used_at = ?2
                 WHERE token_hash = ?1 AND revoked_at IS NULL AND last_used_at < ?2
                       AND last_used_at + session_timeout_ms > ?2 AND ",
                refresh_not_revoked!()
                $(, " AND ", $uncut)?
            )
        };
    }
    let sql = match cutoffs {
        Cutoffs::MayExist => touch!(session_not_cut!()),
        Cutoffs::NoneExist => touch!(),
    };
    conn.execute_cached(sql, params![hash, now])
        .map_err(db_err)?;
    Ok(())
}

type RefreshRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    i64,
    i64,
    Option<i64>,
);

fn refresh_from_row(r: RefreshRow) -> StoreResult<RefreshToken> {
    Ok(RefreshToken {
        token_hash: r.0,
        app_id: parse_id(&r.1)?,
        user_id: parse_id(&r.2)?,
        scopes: parse_scopes(&r.3)?,
        from_code: r.4,
        issued_at: r.5,
        last_used_at: r.6,
        revoked_at: r.7,
    })
}

pub(super) fn refresh_token(conn: &Connection, hash: &str) -> StoreResult<Option<RefreshToken>> {
    Ok(refresh_token_for_use(conn, hash)?.map(|(_, token)| token))
}

/// A refresh token with its rowid, which `refresh_read` writes a use back by when the grant read it on the writer.
pub(super) fn refresh_token_for_use(
    conn: &Connection,
    hash: &str,
) -> StoreResult<Option<(i64, RefreshToken)>> {
    let row: Option<(i64, RefreshRow)> = conn
        .query_row_cached(
            "SELECT token_hash, app_id, user_id, scopes, from_code, issued_at, last_used_at, revoked_at, rowid
             FROM refresh_tokens WHERE token_hash = ?1",
            [hash],
            |r| Ok((r.get(8)?, RefreshRow::try_from(r)?)),
        )
        .optional()
        .map_err(db_err)?;
    row.map(|(rowid, r)| Ok((rowid, refresh_from_row(r)?)))
        .transpose()
}

/// `refresh` for a token read in the same transaction (`refresh_token_for_use`), without `refresh`'s read of it:
/// the revocation is the one just read, which nothing in between can change.
pub(super) fn refresh_read(
    conn: &InBatch<'_>,
    rowid: i64,
    token: RefreshToken,
    u: &RefreshUse,
) -> StoreResult<Option<RefreshToken>> {
    if u.refresh_hash != token.token_hash {
        return refresh(conn, u); // a use of another token than the one read: found by its own key
    }
    use_token(conn, rowid, token, u)
}

/// Marks a live refresh token used (when its policy reads that, `RefreshUse::mark_used`) and stores the session
/// it vouches for: `None` if it is unknown or revoked. Read, then written by rowid, in the caller's write
/// transaction: an `UPDATE … RETURNING` gathers its row in a temporary B-tree first (step 52 in BENCHMARKS.md).
/// The session does not repeat the token's code: revoking the code's descendants reaches it through the token.
pub(super) fn refresh(conn: &InBatch<'_>, u: &RefreshUse) -> StoreResult<Option<RefreshToken>> {
    match refresh_token_for_use(conn, &u.refresh_hash)? {
        Some((rowid, token)) => use_token(conn, rowid, token, u),
        None => Ok(None),
    }
}

/// The use `u` of `token`, read at `rowid` in this transaction: nothing if it is revoked, else its use recorded
/// when asked and its new session stored.
fn use_token(
    conn: &Connection,
    rowid: i64,
    token: RefreshToken,
    u: &RefreshUse,
) -> StoreResult<Option<RefreshToken>> {
    if token.revoked_at.is_some() {
        return Ok(None);
    }
    if u.mark_used {
        conn.execute_cached(
            "UPDATE refresh_tokens SET last_used_at = ?2 WHERE rowid = ?1",
            params![rowid, u.now],
        )
        .map_err(db_err)?;
    }
    insert_access(conn, &u.new_access, Some(&u.refresh_hash), None)?;
    Ok(Some(u.applied_to(token)))
}

// ---- revoking ----

/// Revokes a refresh token, and so every session it vouches for (see the module's note).
fn revoke_refresh(conn: &Connection, hash: &str, now: i64) -> StoreResult<bool> {
    let n = conn
        .execute_cached(
            "UPDATE refresh_tokens SET revoked_at = ?2 WHERE token_hash = ?1 AND revoked_at IS NULL",
            params![hash, now],
        )
        .map_err(db_err)?;
    Ok(n > 0)
}

pub(super) fn revoke_by_hash(conn: &Connection, hash: &str, now: i64) -> StoreResult<Revoked> {
    let sessions = conn
        .execute_cached(
            concat!(
                "UPDATE access_tokens SET revoked_at = ?2 WHERE token_hash = ?1 AND revoked_at IS NULL AND ",
                refresh_not_revoked!(),
                " AND ",
                session_not_cut!()
            ),
            params![hash, now],
        )
        .map_err(db_err)?;
    if sessions > 0 {
        return Ok(Revoked::Access);
    }
    if revoke_refresh(conn, hash, now)? {
        return Ok(Revoked::Refresh);
    }
    Ok(Revoked::None)
}

/// Whether any cutoff is stored.
pub(super) fn cutoffs(conn: &Connection) -> StoreResult<Cutoffs> {
    let any: bool = conn
        .query_row_cached("SELECT EXISTS (SELECT 1 FROM session_cutoffs)", [], |r| {
            r.get(0)
        })
        .map_err(db_err)?;
    Ok(if any {
        Cutoffs::MayExist
    } else {
        Cutoffs::NoneExist
    })
}

/// Revokes every session of `user` for `app` (`''`: for every app) issued until `now`, by a cutoff (see the
/// module's note).
fn cut_sessions(conn: &Connection, user: &SfId, app: &str, now: i64) -> StoreResult<()> {
    conn.execute_cached(
        "INSERT OR IGNORE INTO session_cutoffs (user_id, app_id, cut_at) VALUES (?1, ?2, ?3)",
        params![user.as_str(), app, now],
    )
    .map_err(db_err)?;
    Ok(())
}

/// Revokes every session and refresh token of a user for an app; returns how many refresh tokens it revoked.
pub(super) fn revoke_user_app(
    conn: &Connection,
    user: &SfId,
    app: &SfId,
    now: i64,
) -> StoreResult<u64> {
    cut_sessions(conn, user, app.as_str(), now)?;
    let revoked = conn
        .execute_cached(
            "UPDATE refresh_tokens SET revoked_at = ?3
             WHERE user_id = ?1 AND app_id = ?2 AND revoked_at IS NULL",
            params![user.as_str(), app.as_str(), now],
        )
        .map_err(db_err)?;
    Ok(revoked as u64)
}

/// Revokes every token of a user (on deactivation).
pub(super) fn revoke_user(conn: &Connection, user: &SfId, now: i64) -> StoreResult<()> {
    cut_sessions(conn, user, "", now)?;
    conn.execute_cached(
        "UPDATE refresh_tokens SET revoked_at = ?2 WHERE user_id = ?1 AND revoked_at IS NULL",
        params![user.as_str(), now],
    )
    .map_err(db_err)?;
    Ok(())
}

// ---- purge ----

/// Rows of each table one purge transaction looks at. The purge walks every token table once, in key order,
/// this many rows per transaction, and lets go of the writer in between (its transactions queue with the grants'),
/// so a grant waits for at most one short batch. Scanning a whole table for expired rows in every batch instead
/// made the purge quadratic: an org with 3M live sessions and 2M login events to trim, restarted, spent 70 s of
/// CPU in it, and grants starved behind it (no grant answered in 5 s).
pub(super) const PURGE_SCAN: i64 = 500;

/// Where a purge has got to in one token table: rows up to `done` were looked at; rows after `end` (the last
/// row when the purge began) are left to the next purge.
#[derive(Debug, Clone)]
struct TableWalk {
    done: WalkKey,
    end: WalkKey,
}

/// A place in a table's key order: a rowid, or the text key of a table without rowids (`access_tokens`). Texts
/// compare byte by byte here as under SQLite's default (BINARY) collation, so `done < end` means what it says.
#[derive(Debug, Clone, PartialEq, PartialOrd)]
enum WalkKey {
    Rowid(i64),
    Text(String),
}

impl rusqlite::ToSql for WalkKey {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        match self {
            Self::Rowid(id) => id.to_sql(),
            Self::Text(key) => key.to_sql(),
        }
    }
}

/// How a purged table's rows are ordered and found.
#[derive(Clone, Copy)]
enum Key {
    Rowid,
    /// A `WITHOUT ROWID` table's text primary key.
    Text(&'static str),
}

impl Key {
    fn column(self) -> &'static str {
        match self {
            Self::Rowid => "rowid",
            Self::Text(column) => column,
        }
    }

    /// Before every row: rowids start at 1, and every text sorts after the empty one.
    fn start(self) -> WalkKey {
        match self {
            Self::Rowid => WalkKey::Rowid(0),
            Self::Text(_) => WalkKey::Text(String::new()),
        }
    }

    fn read(self, row: &rusqlite::Row<'_>) -> rusqlite::Result<WalkKey> {
        match self {
            Self::Rowid => row.get(0).map(WalkKey::Rowid),
            Self::Text(_) => row.get(0).map(WalkKey::Text),
        }
    }
}

/// A purge in progress: its walk of each token table (in `PURGED_TABLES`' order), whether the login history is
/// trimmed, and what it deleted so far.
#[derive(Debug, Default, Clone)]
pub(super) struct PurgeWalk {
    tables: Option<Vec<TableWalk>>,
    events_done: bool,
    pub(super) purged: Purged,
}

/// A token table the purge walks.
struct PurgedTable {
    name: &'static str,
    key: Key,
    /// What makes a row dead: `?1` is now, `?2` the retention.
    dead: &'static str,
    retention: i64,
    /// Where its deleted rows are counted.
    count: fn(&mut Purged) -> &mut u64,
    /// Deletes the rows of a batch's range that die by a rule SQL cannot state.
    also: Option<RangePurge>,
}

/// A purge of the rows after `after` up to `upto` (`conn`, `now`, `after`, `upto`); returns how many went.
type RangePurge = fn(&Connection, i64, &WalkKey, &WalkKey) -> StoreResult<u64>;

const PURGED_TABLES: [PurgedTable; 3] = [
    PurgedTable {
        name: "auth_codes",
        key: Key::Rowid,
        dead: "expires_at + ?2 <= ?1",
        retention: CODE_RETENTION_MS,
        count: |p| &mut p.codes,
        also: None,
    },
    PurgedTable {
        name: "access_tokens",
        key: Key::Text("token_hash"),
        dead: "(revoked_at IS NOT NULL OR last_used_at + session_timeout_ms <= ?1 + ?2)",
        retention: 0,
        count: |p| &mut p.access_tokens,
        also: None,
    },
    PurgedTable {
        name: "refresh_tokens",
        key: Key::Rowid,
        dead: "revoked_at + ?2 <= ?1",
        retention: REVOKED_REFRESH_RETENTION_MS,
        count: |p| &mut p.refresh_tokens,
        also: Some(purge_policy_expired),
    },
];

/// One batch of the purge: the next `PURGE_SCAN` rows of each token table that still has rows to look at, and
/// up to `PURGE_SCAN` login events beyond those kept. Run it with the same `walk` until it returns `false`.
pub(super) fn purge_batch(conn: &Connection, now: i64, walk: &mut PurgeWalk) -> StoreResult<bool> {
    let tables = match &mut walk.tables {
        Some(t) => t,
        None => {
            let mut ends = Vec::with_capacity(PURGED_TABLES.len());
            for table in &PURGED_TABLES {
                let (key, start) = (table.key, table.key.start());
                let end = conn
                    .query_row_cached(
                        &format!(
                            "SELECT COALESCE(MAX({}), ?1) FROM {}",
                            key.column(),
                            table.name
                        ),
                        [&start],
                        |r| key.read(r),
                    )
                    .map_err(db_err)?;
                ends.push(TableWalk { done: start, end });
            }
            // Every session a cutoff this old revoked has timed out. There are few: one per revocation.
            conn.execute_cached(
                "DELETE FROM session_cutoffs WHERE cut_at + ?2 <= ?1",
                params![now, REVOKED_REFRESH_RETENTION_MS],
            )
            .map_err(db_err)?;
            walk.tables.insert(ends)
        }
    };
    for (w, table) in tables.iter_mut().zip(&PURGED_TABLES) {
        if w.done >= w.end {
            continue;
        }
        let (name, key) = (table.name, table.key.column());
        // The key of the last row this batch looks at: `PURGE_SCAN` rows on, or the walk's end.
        let upto = conn
            .query_row_cached(
                &format!(
                    "SELECT COALESCE(MAX(k), ?2) FROM
                        (SELECT {key} AS k FROM {name} WHERE {key} > ?1 AND {key} <= ?2 ORDER BY {key} LIMIT ?3)"
                ),
                params![w.done, w.end, PURGE_SCAN],
                |r| table.key.read(r),
            )
            .map_err(db_err)?;
        let deleted = conn
            .execute_cached(
                &format!(
                    "DELETE FROM {name} WHERE {key} > ?3 AND {key} <= ?4 AND {}",
                    table.dead
                ),
                params![now, table.retention, w.done, upto],
            )
            .map_err(db_err)?;
        let also = match table.also {
            Some(also) => also(conn, now, &w.done, &upto)?,
            None => 0,
        };
        *(table.count)(&mut walk.purged) += deleted as u64 + also;
        w.done = upto;
    }
    if !walk.events_done {
        let events = conn
            .execute_cached(
                "DELETE FROM login_events WHERE seq IN
                    (SELECT seq FROM login_events
                     WHERE seq <= (SELECT MAX(seq) FROM login_events) - ?1 ORDER BY seq LIMIT ?2)",
                params![crate::store::LOGIN_HISTORY_KEPT, PURGE_SCAN],
            )
            .map_err(db_err)?;
        walk.events_done = (events as i64) < PURGE_SCAN;
        walk.purged.events += events as u64;
    }
    Ok(!walk.events_done || walk.tables.iter().flatten().any(|w| w.done < w.end))
}

/// Live refresh tokens past their app's refresh-token policy among the rows after `after` up to `upto` (the
/// policy lives on the app, so it is decided here). Their sessions live on to their own timeout, as on
/// Salesforce. Revoked tokens are left to the walk's own rule, which keeps them as long as their sessions need
/// their revocation.
fn purge_policy_expired(
    conn: &Connection,
    now: i64,
    after: &WalkKey,
    upto: &WalkKey,
) -> StoreResult<u64> {
    let mut refresh_tokens = 0;
    let mut stmt = conn
        .prepare_cached(
            "SELECT r.rowid, r.issued_at, r.last_used_at, a.refresh_policy
             FROM refresh_tokens r JOIN apps a ON a.id = r.app_id
             WHERE r.rowid > ?1 AND r.rowid <= ?2
               AND a.refresh_policy <> 'until-revoked' AND r.revoked_at IS NULL",
        )
        .map_err(db_err)?;
    let candidates = stmt
        .query_map(params![after, upto], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
            ))
        })
        .map_err(db_err)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db_err)?;
    for (rowid, issued_at, last_used_at, policy) in candidates {
        let policy =
            RefreshPolicy::parse(&policy).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        if policy.is_expired(issued_at, last_used_at, now) {
            refresh_tokens += conn
                .execute_cached("DELETE FROM refresh_tokens WHERE rowid = ?1", [rowid])
                .map_err(db_err)? as u64;
        }
    }
    Ok(refresh_tokens)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::PURGE_SCAN;
    use crate::store::sqlite::SqliteStore;
    use crate::store::sqlite::tests::open_store;
    use crate::store::{LOGIN_HISTORY_KEPT, Store as _};

    const NOW: i64 = 10_000_000_000;

    /// A store with `sessions` live sessions and `excess` login events beyond those kept, and a count of the
    /// SQLite VM steps (in thousands) its writer connection runs from then on.
    fn store(sessions: i64, excess: i64) -> (tempfile::TempDir, SqliteStore, Arc<AtomicU64>) {
        let (dir, store) = open_store();
        let steps = Arc::new(AtomicU64::new(0));
        {
            let mut conn = store.writer.lock().unwrap();
            conn.execute_batch(&format!(
                "BEGIN;
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {sessions})
                 INSERT INTO access_tokens (token_hash, app_id, user_id, scopes, issued_at, last_used_at,
                                            session_timeout_ms)
                 SELECT 'h' || i, 'app', 'user', 'api', {NOW}, {NOW}, 7200000 FROM n WHERE {sessions} > 0;
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {events})
                 INSERT INTO login_events (at, kind, success, reason) SELECT {NOW}, 'oauth', 1, 'seeded' FROM n;
                 COMMIT;",
                events = LOGIN_HISTORY_KEPT + excess
            ))
            .unwrap();
            let counter = Arc::clone(&steps);
            conn.progress_handler(
                1_000,
                Some(move || {
                    counter.fetch_add(1, Ordering::Relaxed);
                    false
                }),
            )
            .unwrap();
        }
        (dir, store, steps)
    }

    fn purge_steps(sessions: i64, excess: i64) -> u64 {
        let (_dir, store, steps) = store(sessions, excess);
        let purged = store.purge_expired(NOW).unwrap();
        assert_eq!((purged.access_tokens, purged.events), (0, excess as u64));
        steps.load(Ordering::Relaxed)
    }

    /// Grants are answered while a long purge runs: each of its batches queues with them (group commit), so a
    /// grant waits for one batch at most, never for the whole purge (a purge that took the writer's lock back
    /// between its batches once held every grant until it was done).
    #[test]
    fn grants_are_answered_while_a_long_purge_runs() {
        use std::sync::atomic::AtomicBool;

        use crate::model::{LoginEvent, LoginKind};

        let dead = 60 * PURGE_SCAN;
        let (_dir, store) = open_store();
        store
            .writer
            .lock()
            .unwrap()
            .execute_batch(&format!(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {dead})
                 INSERT INTO access_tokens (token_hash, app_id, user_id, scopes, issued_at, last_used_at,
                                            session_timeout_ms)
                 SELECT 'dead' || i, 'app', 'user', 'api', 0, 0, 60000 FROM n;"
            ))
            .unwrap();
        let store = Arc::new(store);
        let done = Arc::new(AtomicBool::new(false));
        let purge = std::thread::spawn({
            let (store, done) = (Arc::clone(&store), Arc::clone(&done));
            move || {
                let purged = store.purge_expired(NOW);
                done.store(true, Ordering::SeqCst);
                purged
            }
        });
        let grant = LoginEvent {
            at: NOW,
            username: None,
            user_id: None,
            consumer_key: None,
            kind: LoginKind::Token("client_credentials".into()),
            success: true,
            error_code: None,
            reason: "a grant during the purge".into(),
            source_ip: None,
        };
        let mut during = 0;
        while !done.load(Ordering::SeqCst) {
            store.record_event(&grant).unwrap();
            if !done.load(Ordering::SeqCst) {
                during += 1;
            }
        }
        let purged = purge.join().unwrap().unwrap();
        assert_eq!(purged.access_tokens, dead as u64);
        assert!(
            during >= 10,
            "{during} writes answered during a purge of {} batches",
            dead / PURGE_SCAN
        );
    }

    /// The purge drops a cutoff once the longest session it could have revoked has timed out, and keeps a
    /// younger one.
    #[test]
    fn a_cutoff_is_purged_once_every_session_it_revoked_has_timed_out() {
        use sfr_wire::SfId;

        use crate::store::REVOKED_REFRESH_RETENTION_MS;

        let (_dir, store) = open_store();
        let (user, app) = (SfId::new("005", 1), SfId::new("0Hn", 1));
        {
            let conn = store.writer.lock().unwrap();
            for at in [
                NOW - REVOKED_REFRESH_RETENTION_MS,
                NOW - REVOKED_REFRESH_RETENTION_MS + 1,
            ] {
                super::revoke_user_app(&conn, &user, &app, at).unwrap();
                super::revoke_user(&conn, &user, at).unwrap();
            }
        }
        let cutoffs = || -> Vec<(String, i64)> {
            let conn = store.writer.lock().unwrap();
            let mut stmt = conn
                .prepare("SELECT app_id, cut_at FROM session_cutoffs ORDER BY app_id, cut_at")
                .unwrap();
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        assert_eq!(cutoffs().len(), 4);
        store.purge_expired(NOW).unwrap();
        let kept = NOW - REVOKED_REFRESH_RETENTION_MS + 1;
        assert_eq!(
            cutoffs(),
            vec![(String::new(), kept), (app.as_str().to_owned(), kept)]
        );
    }

    /// The purge looks at every row once, however many batches its work takes: trimming the login history
    /// over many batches must not walk the live sessions again in each (as the purge once did, holding every
    /// grant for a minute on a large store).
    #[test]
    fn the_purge_looks_at_each_row_once() {
        let sessions = 40 * PURGE_SCAN;
        let excess = 40 * PURGE_SCAN;
        let both = purge_steps(sessions, excess);
        let apart = purge_steps(sessions, 0) + purge_steps(0, excess);
        assert!(
            both <= apart + apart / 5,
            "{both}k VM steps for both, {apart}k for each alone"
        );
    }
}
