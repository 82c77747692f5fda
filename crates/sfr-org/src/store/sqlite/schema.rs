//! Schema migrations, applied in order at open. Each runs once, in its own transaction, and is recorded in
//! `schema_migrations`. Types are kept portable (TEXT / BIGINT / INTEGER booleans, application-made ids, times as
//! ms since the epoch) so the same shape works on PostgreSQL.

use std::path::Path;

use rusqlite::{Connection, TransactionBehavior};

use super::db_err;
use crate::store::{StoreError, StoreResult};

const V1: &str = r#"
CREATE TABLE orgs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    dev_hub INTEGER NOT NULL,
    connected_apps_permission INTEGER NOT NULL,
    allow_connected_app_creation INTEGER NOT NULL,
    session_timeout_minutes INTEGER NOT NULL,
    lockout_threshold INTEGER NOT NULL,
    lockout_minutes INTEGER NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE id_sequences (
    prefix TEXT PRIMARY KEY,
    next BIGINT NOT NULL
);
CREATE TABLE profiles (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
CREATE TABLE permission_sets (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    username_key TEXT NOT NULL UNIQUE,
    email TEXT NOT NULL,
    first_name TEXT,
    last_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    active INTEGER NOT NULL,
    profile_id TEXT NOT NULL REFERENCES profiles(id),
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until BIGINT,
    last_login_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE TABLE user_permission_sets (
    user_id TEXT NOT NULL REFERENCES users(id),
    permission_set_id TEXT NOT NULL REFERENCES permission_sets(id),
    PRIMARY KEY (user_id, permission_set_id)
);
CREATE TABLE apps (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    api_name TEXT NOT NULL,
    api_name_key TEXT NOT NULL UNIQUE,
    contact_email TEXT NOT NULL,
    oauth_enabled INTEGER NOT NULL,
    callback_urls TEXT NOT NULL,
    scopes TEXT NOT NULL,
    certificate_pem TEXT,
    consumer_key TEXT NOT NULL UNIQUE,
    consumer_secret_enc TEXT NOT NULL,
    require_secret_web INTEGER NOT NULL,
    require_secret_refresh INTEGER NOT NULL,
    require_pkce INTEGER NOT NULL,
    permitted_users TEXT NOT NULL,
    refresh_policy TEXT NOT NULL,
    session_timeout_minutes INTEGER,
    ip_relaxation TEXT NOT NULL,
    client_credentials_user_id TEXT REFERENCES users(id),
    built_in INTEGER NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE TABLE app_profiles (
    app_id TEXT NOT NULL REFERENCES apps(id),
    profile_id TEXT NOT NULL REFERENCES profiles(id),
    PRIMARY KEY (app_id, profile_id)
);
CREATE TABLE app_permission_sets (
    app_id TEXT NOT NULL REFERENCES apps(id),
    permission_set_id TEXT NOT NULL REFERENCES permission_sets(id),
    PRIMARY KEY (app_id, permission_set_id)
);
CREATE TABLE approvals (
    user_id TEXT NOT NULL REFERENCES users(id),
    app_id TEXT NOT NULL REFERENCES apps(id),
    scopes TEXT NOT NULL,
    approved_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, app_id)
);
CREATE TABLE auth_codes (
    code_hash TEXT PRIMARY KEY,
    app_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    scopes TEXT NOT NULL,
    code_challenge TEXT,
    code_challenge_method TEXT,
    nonce TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    app_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    scopes TEXT NOT NULL,
    from_code TEXT,
    issued_at BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL,
    revoked_at BIGINT,
    seq INTEGER NOT NULL
);
CREATE INDEX refresh_tokens_user_app ON refresh_tokens (user_id, app_id);
CREATE INDEX refresh_tokens_code ON refresh_tokens (from_code);
CREATE TABLE access_tokens (
    token_hash TEXT PRIMARY KEY,
    app_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    scopes TEXT NOT NULL,
    refresh_hash TEXT,
    from_code TEXT,
    issued_at BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL,
    session_timeout_ms BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX access_tokens_refresh ON access_tokens (refresh_hash);
CREATE INDEX access_tokens_code ON access_tokens (from_code);
CREATE INDEX access_tokens_user_app ON access_tokens (user_id, app_id);
CREATE TABLE login_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at BIGINT NOT NULL,
    username TEXT,
    user_id TEXT,
    consumer_key TEXT,
    kind TEXT NOT NULL,
    success INTEGER NOT NULL,
    error_code TEXT,
    reason TEXT NOT NULL,
    source_ip TEXT
);
CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    pkcs8_enc TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
"#;

/// Setup pages: the local mail outbox and e-mailed verification codes.
const V2: &str = r#"
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at BIGINT NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE verification_codes (
    user_id TEXT NOT NULL REFERENCES users(id),
    purpose TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, purpose)
);
"#;

/// Signing-key rotation: when a key starts signing (NULL: from the start). A key is published from the moment
/// it is stored.
const V3: &str = r#"
ALTER TABLE signing_keys ADD COLUMN activates_at BIGINT;
"#;

/// Each refresh-token insert takes the next `seq` as `MAX(seq) + 1`; without an index that read the whole table,
/// and the authorization-code grant fell to 0.13x of its speed at 10^6 stored tokens (BENCHMARKS.md, growth).
const V4: &str = r#"
CREATE INDEX refresh_tokens_seq ON refresh_tokens (seq);
"#;

/// Token-endpoint rate-limit counters shared by every node: one row per counted key and time window, added to
/// by each node's periodic flush and deleted once `expires_at` has passed (`rate_counters.rs`).
const V5: &str = r#"
CREATE TABLE rate_counters (
    key TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (key, window_start)
);
CREATE INDEX rate_counters_expires ON rate_counters (expires_at);
"#;

/// Fewer pages written per grant. A client-credentials or JWT grant wrote seven pages: the session row, its
/// hash index, three more indexes — two of them on columns that are NULL for every session not born of a code or
/// a refresh token — the login-history row and `sqlite_sequence` (AUTOINCREMENT). The indexes on `refresh_hash`
/// and `from_code` now hold only non-NULL values (every query through them compares with `=`, which a partial
/// index `WHERE … IS NOT NULL` serves), and login history takes plain `INTEGER PRIMARY KEY` ids: the newest row
/// is never deleted, so ids keep increasing without the sequence table.
const V6: &str = r#"
DROP INDEX access_tokens_refresh;
CREATE INDEX access_tokens_refresh ON access_tokens (refresh_hash) WHERE refresh_hash IS NOT NULL;
DROP INDEX access_tokens_code;
CREATE INDEX access_tokens_code ON access_tokens (from_code) WHERE from_code IS NOT NULL;
DROP INDEX refresh_tokens_code;
CREATE INDEX refresh_tokens_code ON refresh_tokens (from_code) WHERE from_code IS NOT NULL;
CREATE TABLE login_events_v6 (
    seq INTEGER PRIMARY KEY,
    at BIGINT NOT NULL,
    username TEXT,
    user_id TEXT,
    consumer_key TEXT,
    kind TEXT NOT NULL,
    success INTEGER NOT NULL,
    error_code TEXT,
    reason TEXT NOT NULL,
    source_ip TEXT
);
INSERT INTO login_events_v6 (seq, at, username, user_id, consumer_key, kind, success, error_code, reason, source_ip)
    SELECT seq, at, username, user_id, consumer_key, kind, success, error_code, reason, source_ip FROM login_events;
DROP TABLE login_events;
ALTER TABLE login_events_v6 RENAME TO login_events;
"#;

/// A code exchange keeps at most five live refresh tokens per user and app; finding the ones beyond the cap
/// walked every refresh token the pair ever had (revoked ones too, until the purge) and sorted them, so the
/// exchange slowed with every exchange before it (750/s after 7,500 of them). This index holds only live
/// tokens, in the cap's order.
const V7: &str = r#"
CREATE INDEX refresh_tokens_live ON refresh_tokens (user_id, app_id, issued_at, seq) WHERE revoked_at IS NULL;
"#;

/// The counter behind the in-memory cache of grants' facts (`store::facts_cache`): one row, bumped by trigger
/// in the transaction of every change to a table those facts come from, whichever connection or process makes
/// it (the admin commands write to the same file while the server runs).
const V8: &str = r#"
CREATE TABLE facts_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n BIGINT NOT NULL
);
INSERT INTO facts_version (id, n) VALUES (1, 0);
CREATE TRIGGER orgs_facts_i AFTER INSERT ON orgs BEGIN UPDATE facts_version SET n = n + 1; END;
CREATE TRIGGER orgs_facts_u AFTER UPDATE ON orgs BEGIN UPDATE facts_version SET n = n + 1; END;
CREATE TRIGGER orgs_facts_d AFTER DELETE ON orgs BEGIN UPDATE facts_version SET n = n + 1; END;
CREATE TRIGGER profiles_facts_i AFTER INSERT ON profiles BEGIN UPDATE facts_version SET n = n + 1; END;
CREATE TRIGGER profiles_facts_u AFTER UPDATE ON profiles BEGIN UPDATE facts_version SET n = n + 1; END;
CREATE TRIGGER profiles_facts_d AFTER DELETE ON profiles BEGIN UPDATE facts_version SET n = n + 1; END;
CREATE TRIGGER permission_sets_facts_i AFTER INSERT ON permission_sets BEGIN UPDATE facts_version SET n = n + 1; END;
CREATE TRIGGER permission_sets_facts_u AFTER UPDATE ON permission_sets BEGIN UPDATE facts_version SET n = n + 1; END;
CREATE TRIGGER permission_sets_facts_d AFTER DELETE ON permission_sets BEGIN UPDATE facts_version SET n = n + 1; END;
CREATE TRIGGER users_facts_i AFTER INSERT ON users BEGIN UPDATE facts_version SET n = n + 1; END;
CREATE TRIGGER users_facts_u AFTER UPDATE ON users BEGIN UPDATE facts_version SET n = n + 1; END;
CREATE TRIGGER users_facts_d AFTER DELETE ON users BEGIN UPDATE facts_version SET n = n + 1; END;
CREATE TRIGGER user_permission_sets_facts_i AFTER INSERT ON user_permission_sets BEGIN UPDATE facts_version SET n = n + 1; END;
CREATE TRIGGER user_permission_sets_facts_u AFTER UPDATE ON user_permission_sets BEGIN UPDATE facts_version SET n = n + 1; END;
CREATE TRIGGER user_permission_sets_facts_d AFTER DELETE ON user_permission_sets BEGIN UPDATE facts_version SET n = n + 1; END;
CREATE TRIGGER apps_facts_i AFTER INSERT ON apps BEGIN UPDATE facts_version SET n = n + 1; END;
CREATE TRIGGER apps_facts_u AFTER UPDATE ON apps BEGIN UPDATE facts_version SET n = n + 1; END;
CREATE TRIGGER apps_facts_d AFTER DELETE ON apps BEGIN UPDATE facts_version SET n = n + 1; END;
CREATE TRIGGER app_profiles_facts_i AFTER INSERT ON app_profiles BEGIN UPDATE facts_version SET n = n + 1; END;
CREATE TRIGGER app_profiles_facts_u AFTER UPDATE ON app_profiles BEGIN UPDATE facts_version SET n = n + 1; END;
CREATE TRIGGER app_profiles_facts_d AFTER DELETE ON app_profiles BEGIN UPDATE facts_version SET n = n + 1; END;
CREATE TRIGGER app_permission_sets_facts_i AFTER INSERT ON app_permission_sets BEGIN UPDATE facts_version SET n = n + 1; END;
CREATE TRIGGER app_permission_sets_facts_u AFTER UPDATE ON app_permission_sets BEGIN UPDATE facts_version SET n = n + 1; END;
CREATE TRIGGER app_permission_sets_facts_d AFTER DELETE ON app_permission_sets BEGIN UPDATE facts_version SET n = n + 1; END;
CREATE TRIGGER approvals_facts_i AFTER INSERT ON approvals BEGIN UPDATE facts_version SET n = n + 1; END;
CREATE TRIGGER approvals_facts_u AFTER UPDATE ON approvals BEGIN UPDATE facts_version SET n = n + 1; END;
CREATE TRIGGER approvals_facts_d AFTER DELETE ON approvals BEGIN UPDATE facts_version SET n = n + 1; END;
"#;

/// Sessions take their refresh token's revocation when read (`store::sqlite::tokens`, the module's note), so the
/// index from refresh token to sessions goes: every refresh grant inserted into it at a random place. The store
/// keeps a revoked refresh token until its sessions are dead, which it can bound only if no session's timeout
/// passes the longest one (24 hours); rows from before the bound are brought under it. The index of refresh
/// tokens by user and app goes too: every query through it asks for live tokens, which `refresh_tokens_live`
/// (V7) serves, and each code exchange wrote to both.
const _: () = assert!(
    crate::model::MAX_SESSION_TIMEOUT_MS == 86_400_000,
    "V9 clamps to this bound"
);
const V9: &str = r#"
DROP INDEX access_tokens_refresh;
DROP INDEX refresh_tokens_user_app;
UPDATE access_tokens SET session_timeout_ms = 86400000 WHERE session_timeout_ms > 86400000;
"#;

/// A code exchange wrote its code's hash into two indexes of tokens by code (`from_code`), at a random place in
/// each — a quarter of the pages it wrote — only so that a replay of the code could find what it issued. The
/// exchange now records the hashes of what it issued on the code's row, whose page its claim writes anyway, and
/// the indexes go. Codes exchanged before this version get their hashes from the indexes before they are dropped.
const V10: &str = r#"
ALTER TABLE auth_codes ADD COLUMN access_hash TEXT;
ALTER TABLE auth_codes ADD COLUMN refresh_hash TEXT;
UPDATE auth_codes SET
    access_hash = (SELECT a.token_hash FROM access_tokens a WHERE a.from_code = auth_codes.code_hash
                   ORDER BY a.rowid LIMIT 1),
    refresh_hash = (SELECT r.token_hash FROM refresh_tokens r WHERE r.from_code = auth_codes.code_hash
                    ORDER BY r.rowid LIMIT 1)
WHERE used_at IS NOT NULL;
DROP INDEX access_tokens_code;
DROP INDEX refresh_tokens_code;
"#;

/// Records are found by id on the first 15 characters of the id (the case-sensitive form, which an 18-character
/// id with its suffix in any case shares), and nothing indexed that expression: every code exchange read its user
/// by scanning the users table, and a grant whose facts were not cached scanned the apps and the approvals too,
/// so each slowed with the size of the org. The indexes PostgreSQL has had since its first version, and one for
/// approvals.
const V11: &str = r#"
CREATE INDEX users_id15 ON users (substr(id, 1, 15));
CREATE INDEX apps_id15 ON apps (substr(id, 1, 15));
CREATE INDEX approvals_id15 ON approvals (substr(user_id, 1, 15), substr(app_id, 1, 15));
"#;

/// "Introspect All Tokens": an app that may introspect every app's tokens, not only its own (off for every
/// app that existed before).
const V12: &str = r#"
ALTER TABLE apps ADD COLUMN introspect_all_tokens INTEGER NOT NULL DEFAULT 0;
"#;

/// Sessions are stored in the order of their key (`keys::token_key`: the issue time, then the hash) in a table
/// without rowids. Every session was a row in the rowid table plus an entry in the index of its key, two
/// B-trees to write per grant and two to search per bearer call; each commit of a batch of grants wrote the
/// index's pages besides the table's. The purge walks the table in key order.
const V13: &str = r#"
CREATE TABLE access_tokens_v13 (
    token_hash TEXT PRIMARY KEY,
    app_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    scopes TEXT NOT NULL,
    refresh_hash TEXT,
    from_code TEXT,
    issued_at BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL,
    session_timeout_ms BIGINT NOT NULL,
    revoked_at BIGINT
) WITHOUT ROWID;
INSERT INTO access_tokens_v13 (token_hash, app_id, user_id, scopes, refresh_hash, from_code, issued_at,
                               last_used_at, session_timeout_ms, revoked_at)
    SELECT token_hash, app_id, user_id, scopes, refresh_hash, from_code, issued_at, last_used_at,
           session_timeout_ms, revoked_at
    FROM access_tokens;
DROP TABLE access_tokens;
ALTER TABLE access_tokens_v13 RENAME TO access_tokens;
CREATE INDEX access_tokens_user_app ON access_tokens (user_id, app_id);
"#;

/// Sessions are no longer indexed by user and app. The index served only the revocation of a user's sessions
/// (for one app, or for all on deactivation), and every grant inserted into it: under load a third of the pages
/// each commit wrote. Such a revocation now stores a cutoff instead, which reading a session joins
/// (`tokens.rs`, the module's note): one row per revocation, `app_id` `''` for every app. Adding one moves the
/// facts' counter, under which the writer keeps whether any exist (`InBatch::cutoffs`); the purge's deletes do
/// not, since they change no session's answer.
const V14: &str = r#"
DROP INDEX access_tokens_user_app;
CREATE TABLE session_cutoffs (
    user_id TEXT NOT NULL,
    app_id TEXT NOT NULL,
    cut_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, app_id, cut_at)
) WITHOUT ROWID;
CREATE TRIGGER session_cutoffs_facts_i AFTER INSERT ON session_cutoffs BEGIN UPDATE facts_version SET n = n + 1; END;
"#;

/// Refresh tokens are ordered by rowid, not by a `seq` of their own. Each insert took `MAX(seq) + 1` through an
/// index kept for that alone (V4), one B-tree more per code exchange; a new row's rowid is already above every
/// row the table holds, so among tokens of one moment it orders them as `seq` did. The index of live tokens, in
/// the cap's order, ends with the rowid as every index does. Dropping the column rewrites the table once.
const V15: &str = r#"
DROP INDEX refresh_tokens_seq;
DROP INDEX refresh_tokens_live;
ALTER TABLE refresh_tokens DROP COLUMN seq;
CREATE INDEX refresh_tokens_live ON refresh_tokens (user_id, app_id, issued_at) WHERE revoked_at IS NULL;
"#;

/// Every migration, in order. Append only; never edit a released one.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, V1),
    (2, V2),
    (3, V3),
    (4, V4),
    (5, V5),
    (6, V6),
    (7, V7),
    (8, V8),
    (9, V9),
    (10, V10),
    (11, V11),
    (12, V12),
    (13, V13),
    (14, V14),
    (15, V15),
];

/// The newest schema version this build knows.
pub const LATEST: i64 = 15;

/// Brings the database up to `LATEST`, refusing one newer than this build.
pub(super) fn migrate(conn: &mut Connection, path: &Path) -> StoreResult<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version INTEGER PRIMARY KEY,
             applied_at BIGINT NOT NULL
         );",
    )
    .map_err(db_err)?;
    for &(version, sql) in MIGRATIONS {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db_err)?;
        let current: i64 = tx
            .query_row(
                "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                [],
                |r| r.get(0),
            )
            .map_err(db_err)?;
        if current > LATEST {
            return Err(StoreError::SchemaTooNew {
                path: path.to_owned(),
                found: current,
                supported: LATEST,
            });
        }
        if current >= version {
            continue;
        }
        // Said before, not only after: some rebuild a table (v13: about 10 s for a million sessions).
        tracing::info!(version, "applying database migration");
        tx.execute_batch(sql).map_err(db_err)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
            rusqlite::params![
                version,
                crate::clock::Clock::now_ms(&crate::clock::SystemClock)
            ],
        )
        .map_err(db_err)?;
        tx.commit().map_err(db_err)?;
        tracing::info!(version, "applied database migration");
    }
    let current: i64 = conn
        .query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            [],
            |r| r.get(0),
        )
        .map_err(db_err)?;
    if current > LATEST {
        return Err(StoreError::SchemaTooNew {
            path: path.to_owned(),
            found: current,
            supported: LATEST,
        });
    }
    Ok(())
}
