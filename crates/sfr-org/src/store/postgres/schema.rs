//! Schema migrations for PostgreSQL, applied in order at open in one transaction under an advisory lock (nodes
//! that start together wait for each other; each migration runs once) and recorded in `schema_migrations`. The
//! shape follows the SQLite schema: application-made ids, times as ms since the epoch, tokens by hash.

use std::path::Path;

use postgres::Client;

use super::{Fail, R};
use crate::store::StoreError;

/// Key of the advisory lock that serialises migrations ("sfr-org" as digits, any fixed number works).
const MIGRATION_LOCK: i64 = 0x5f72_6f72_6700;

const V1: &str = r#"
CREATE TABLE orgs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    dev_hub BOOLEAN NOT NULL,
    connected_apps_permission BOOLEAN NOT NULL,
    allow_connected_app_creation BOOLEAN NOT NULL,
    session_timeout_minutes BIGINT NOT NULL,
    lockout_threshold BIGINT NOT NULL,
    lockout_minutes BIGINT NOT NULL,
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
    active BOOLEAN NOT NULL,
    profile_id TEXT NOT NULL REFERENCES profiles(id),
    failed_logins BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT,
    last_login_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX users_id15 ON users (substr(id, 1, 15));
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
    oauth_enabled BOOLEAN NOT NULL,
    callback_urls TEXT NOT NULL,
    scopes TEXT NOT NULL,
    certificate_pem TEXT,
    consumer_key TEXT NOT NULL UNIQUE,
    consumer_secret_enc TEXT NOT NULL,
    require_secret_web BOOLEAN NOT NULL,
    require_secret_refresh BOOLEAN NOT NULL,
    require_pkce BOOLEAN NOT NULL,
    permitted_users TEXT NOT NULL,
    refresh_policy TEXT NOT NULL,
    session_timeout_minutes BIGINT,
    ip_relaxation TEXT NOT NULL,
    client_credentials_user_id TEXT REFERENCES users(id),
    built_in BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX apps_id15 ON apps (substr(id, 1, 15));
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
    seq BIGSERIAL NOT NULL
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
    seq BIGSERIAL PRIMARY KEY,
    at BIGINT NOT NULL,
    username TEXT,
    user_id TEXT,
    consumer_key TEXT,
    kind TEXT NOT NULL,
    success BOOLEAN NOT NULL,
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
    seq BIGSERIAL PRIMARY KEY,
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
    attempts BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, purpose)
);
"#;

/// Signing-key rotation: when a key starts signing (NULL: from the start). A key is published from the moment
/// it is stored.
const V3: &str = r#"
ALTER TABLE signing_keys ADD COLUMN activates_at BIGINT;
"#;

/// Token-endpoint rate-limit counters shared by every node: one row per counted key and time window, added to
/// by each node's periodic flush (an upsert, so concurrent flushes add up) and deleted once `expires_at` has
/// passed (`rate_counters.rs`).
const V4: &str = r#"
CREATE TABLE rate_counters (
    key TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (key, window_start)
);
CREATE INDEX rate_counters_expires ON rate_counters (expires_at);
"#;

/// The live refresh tokens of a user and app in the cap's order (see the SQLite schema's V7): the cap no longer
/// walks revoked tokens.
const V5: &str = r#"
CREATE INDEX refresh_tokens_live ON refresh_tokens (user_id, app_id, issued_at, seq) WHERE revoked_at IS NULL;
"#;

/// The counter behind the in-memory cache of grants' facts (`store::facts_cache`), bumped by a statement trigger
/// on every table those facts come from, in the changing transaction (see the SQLite schema's V8). Every node
/// reads it, so a change made through any node is seen by the next grant on all of them.
const V6: &str = r#"
CREATE TABLE facts_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n BIGINT NOT NULL
);
INSERT INTO facts_version (id, n) VALUES (1, 0);
CREATE FUNCTION bump_facts_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE facts_version SET n = n + 1;
    RETURN NULL;
END
$$;
CREATE TRIGGER orgs_facts AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON orgs
    FOR EACH STATEMENT EXECUTE FUNCTION bump_facts_version();
CREATE TRIGGER profiles_facts AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON profiles
    FOR EACH STATEMENT EXECUTE FUNCTION bump_facts_version();
CREATE TRIGGER permission_sets_facts AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON permission_sets
    FOR EACH STATEMENT EXECUTE FUNCTION bump_facts_version();
CREATE TRIGGER users_facts AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION bump_facts_version();
CREATE TRIGGER user_permission_sets_facts AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON user_permission_sets
    FOR EACH STATEMENT EXECUTE FUNCTION bump_facts_version();
CREATE TRIGGER apps_facts AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON apps
    FOR EACH STATEMENT EXECUTE FUNCTION bump_facts_version();
CREATE TRIGGER app_profiles_facts AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON app_profiles
    FOR EACH STATEMENT EXECUTE FUNCTION bump_facts_version();
CREATE TRIGGER app_permission_sets_facts AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON app_permission_sets
    FOR EACH STATEMENT EXECUTE FUNCTION bump_facts_version();
CREATE TRIGGER approvals_facts AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON approvals
    FOR EACH STATEMENT EXECUTE FUNCTION bump_facts_version();
"#;

/// Sessions take their refresh token's revocation when read; the index from refresh token to sessions goes, and
/// session timeouts are brought under the longest one; the index of refresh tokens by user and app gives way to
/// the one of live tokens (see the SQLite schema's V9).
const _: () = assert!(
    crate::model::MAX_SESSION_TIMEOUT_MS == 86_400_000,
    "V7 clamps to this bound"
);
const V7: &str = r#"
DROP INDEX access_tokens_refresh;
DROP INDEX refresh_tokens_user_app;
UPDATE access_tokens SET session_timeout_ms = 86400000 WHERE session_timeout_ms > 86400000;
"#;

/// Approvals are found on the first 15 characters of the user's and the app's ids, which no index served: a
/// grant whose facts were not cached scanned every approval (see the SQLite schema's V11).
const V8: &str = r#"
CREATE INDEX approvals_id15 ON approvals (substr(user_id, 1, 15), substr(app_id, 1, 15));
"#;

/// Room on every page of codes for the one update each code gets (its claim, `used_at`), so that update is HOT:
/// a new version on the same page, no new entry in `auth_codes_pkey`. A claim that inserted into the index made
/// every concurrent exchange whose code shared that index page (all of them read their code through it, and a
/// `SERIALIZABLE` read locks the page) a conflict: 826 of ~7,400 exchanges a run were retried, 8 with the room
/// (pages written from now on; `VACUUM FULL auth_codes` would rewrite the old ones).
const V9: &str = r#"
ALTER TABLE auth_codes SET (fillfactor = 70);
"#;

/// "Introspect All Tokens": an app that may introspect every app's tokens, not only its own (off for every
/// app that existed before).
const V10: &str = r#"
ALTER TABLE apps ADD COLUMN introspect_all_tokens BOOLEAN NOT NULL DEFAULT FALSE;
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
];

/// The newest schema version this build knows.
pub const LATEST: i64 = 10;

/// Brings the database up to `LATEST`, refusing one newer than this build.
pub(super) fn migrate(client: &mut Client, shown: &Path) -> R<()> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version BIGINT PRIMARY KEY,
             applied_at BIGINT NOT NULL
         );",
    )?;
    let current: i64 = tx
        .query_one(
            "SELECT COALESCE(MAX(version), 0)::BIGINT FROM schema_migrations",
            &[],
        )?
        .try_get(0)?;
    if current > LATEST {
        return Err(Fail::Store(StoreError::SchemaTooNew {
            path: shown.to_owned(),
            found: current,
            supported: LATEST,
        }));
    }
    let now = crate::clock::Clock::now_ms(&crate::clock::SystemClock);
    for &(version, sql) in MIGRATIONS {
        if current >= version {
            continue;
        }
        tx.batch_execute(sql)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
            &[&version, &now],
        )?;
        tracing::info!(version, "applied database migration");
    }
    tx.commit()?;
    Ok(())
}
