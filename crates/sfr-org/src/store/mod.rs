//! The one storage interface of the org, and its implementations.
//!
//! Every method is a use case that runs in one transaction. The trait is synchronous: async handlers call it
//! through `AppState::store_call` (a `spawn_blocking`), except the hot calls a backend can answer as a future
//! (the `*_async` methods: SQLite's writer thread, PostgreSQL's non-blocking connections). Both implementations
//! run the same test suite (`tests/it/store.rs` takes `&dyn Store`).

/// SQL condition on an `access_tokens` row: its refresh token, if any, is not revoked. A session takes its
/// refresh token's revocation when read (see `REVOKED_REFRESH_RETENTION_MS`), so every statement that changes
/// only live sessions adds it. A macro, to be `concat!`ed into statement text.
macro_rules! refresh_not_revoked {
    () => {
        "NOT EXISTS (SELECT 1 FROM refresh_tokens r
                     WHERE r.token_hash = access_tokens.refresh_hash AND r.revoked_at IS NOT NULL)"
    };
}

mod app_rules;
mod code_exchange;
mod facts_cache;
mod grant_reads;
pub mod postgres;
mod ready_steps;
pub mod sqlite;
mod user_rules;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sfr_wire::SfId;

use crate::keys::Keys;
use crate::model::{
    AccessToken, AppUpdate, Approval, AuthCode, CodeCheck, CodeJudge, ConnectedApp, Exchange,
    GrantFacts, GrantLookup, IssueTokens, LockState, LoginEvent, Mail, NewApp, NewUser, Org,
    OrgSettingsUpdate, PermissionSet, Profile, Redeemed, RefreshJudge, RefreshToken, RefreshUse,
    Revoked, Scope, SessionJudge, SigningKey, SigningKeys, StoredSession, User, VerificationCode,
};

/// The command that grants the Customer Support step.
pub const SUPPORT_COMMAND: &str = "sfr-org support allow-connected-apps";
/// The command that turns on the admin setting.
pub const SETUP_COMMAND: &str = "sfr-org setup allow-connected-app-creation";

/// Which step of the connected-app creation gate is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissingStep {
    /// Salesforce Customer Support has not granted the org the Connected Apps permission.
    SupportPermission,
    /// The admin has not turned on "Allow creation of connected apps".
    CreationSetting,
}

/// Everything that can go wrong in the store, typed so callers can answer precisely.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error(
        "unsupported database URL scheme {scheme:?}; use sqlite://PATH (for example sqlite:///var/lib/sfr-org/org.sqlite), a plain file path, or postgres://USER:PASSWORD@HOST:PORT/DATABASE"
    )]
    UnsupportedUrl { scheme: String },
    #[error("cannot open the database {path}: {message}")]
    Open { path: PathBuf, message: String },
    #[error(
        "the database {path} has schema version {found}, newer than this sfr-org understands ({supported}); upgrade sfr-org"
    )]
    SchemaTooNew {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    #[error(
        "the database holds no org yet; start `sfr-org serve` once (or any admin command) to create it"
    )]
    NoOrg,
    #[error("{}", unknown_message("profile", name, known))]
    UnknownProfile { name: String, known: Vec<String> },
    #[error("{}", unknown_message("permission set", name, known))]
    UnknownPermissionSet { name: String, known: Vec<String> },
    #[error("{}", unknown_message("user", username, known))]
    UnknownUser {
        username: String,
        known: Vec<String>,
    },
    #[error("{}", unknown_message("connected app", name, known))]
    UnknownApp { name: String, known: Vec<String> },
    #[error("a user with username {0:?} already exists (usernames are unique, case-insensitively)")]
    DuplicateUsername(String),
    #[error("a permission set named {0:?} already exists")]
    DuplicatePermissionSet(String),
    #[error("a connected app named {0:?} (or with that API name or consumer key) already exists")]
    DuplicateApp(String),
    #[error("{}", gate_message(*.0))]
    AppCreationBlocked(MissingStep),
    #[error("invalid {field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error(
        "cannot decrypt {what}: the master key does not match this database (check --key-file / SFR_ORG_KEY)"
    )]
    Decrypt { what: String },
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Database(String),
    /// A grant decided on cached facts (`Store::cached_grant_facts`) that a change made meanwhile outdated:
    /// nothing was written; the grant is decided again on facts read from the store.
    #[error("the app, user or org changed while the grant was decided; nothing was written")]
    FactsChanged,
    #[error("internal error: {0}")]
    Internal(String),
}

fn unknown_message(what: &str, name: &str, known: &[String]) -> String {
    if known.is_empty() {
        format!("no {what} named {name:?} exists (there are none yet)")
    } else {
        format!(
            "no {what} named {name:?} exists; known: {}",
            known
                .iter()
                .map(|k| format!("{k:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

fn gate_message(step: MissingStep) -> String {
    match step {
        MissingStep::SupportPermission => format!(
            "connected apps cannot be created in this org: Salesforce Customer Support has not granted the \
             Connected Apps permission (step 1 of 2). Run `{SUPPORT_COMMAND}`, then `{SETUP_COMMAND}`."
        ),
        MissingStep::CreationSetting => format!(
            "connected apps cannot be created in this org: the setting \"Allow creation of connected apps\" is \
             off (step 2 of 2). Run `{SETUP_COMMAND}`."
        ),
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A store write in progress, for async callers (`Store::issue_tokens_async` and its siblings).
pub type Pending<T> = std::pin::Pin<Box<dyn std::future::Future<Output = StoreResult<T>> + Send>>;

/// What `purge_expired` removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub codes: u64,
    pub access_tokens: u64,
    pub refresh_tokens: u64,
    /// Login-history events beyond the newest `LOGIN_HISTORY_KEPT`.
    pub events: u64,
}

/// How many login-history events `purge_expired` keeps.
pub const LOGIN_HISTORY_KEPT: i64 = 20_000;

/// How long `purge_expired` keeps a revoked refresh token. A session takes its refresh token's revocation when
/// read (no write reaches the session), so the token must outlive every session it vouches for. A session
/// whose token is revoked is never extended again (the touch checks the token too), so it is dead within the
/// longest session timeout; a minute more covers a touch whose time was taken just before the revocation's.
pub const REVOKED_REFRESH_RETENTION_MS: i64 =
    crate::model::MAX_SESSION_TIMEOUT_MS + crate::model::MINUTE_MS;

/// One node's requests for one shared rate-limit counter (a key in one time window), added to it by
/// [`Store::add_rate_counts`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateCount {
    /// What is counted: limit kind, window length and key, e.g. `client:1000:3MVG9…`.
    pub key: String,
    /// Start of the time window, ms since the epoch.
    pub window_start: i64,
    /// When the counter is no longer needed; a later `add_rate_counts` deletes it.
    pub expires_at: i64,
    /// Requests counted since this node's last flush (0 only reads the total).
    pub delta: u64,
}

/// What `bootstrap` creates on an empty database.
#[derive(Debug, Clone)]
pub struct Bootstrap {
    pub org_name: String,
    /// The first user (System Administrator); its `profile` is ignored.
    pub admin: NewUser,
    /// The built-in `PlatformCLI` app.
    pub platform_cli: NewApp,
    pub signing_key: SigningKey,
    pub now: i64,
}

/// The org's storage. Times are i64 milliseconds since the epoch.
pub trait Store: Send + Sync {
    // ---- org ----
    /// Creates the org, its profiles, the admin user, PlatformCLI and the signing key if the database holds no
    /// org; returns whether it did (false: an org already existed, nothing changed).
    fn bootstrap(&self, init: &Bootstrap) -> StoreResult<bool>;
    fn org(&self) -> StoreResult<Org>;
    fn update_org(&self, update: &OrgSettingsUpdate) -> StoreResult<Org>;

    // ---- users ----
    fn create_user(&self, user: &NewUser) -> StoreResult<User>;
    fn user_by_username(&self, username: &str) -> StoreResult<Option<User>>;
    fn user_by_id(&self, id: &SfId) -> StoreResult<Option<User>>;
    fn list_users(&self) -> StoreResult<Vec<User>>;
    /// Activates or deactivates. Deactivating revokes every token of the user; activating clears a lockout.
    fn set_user_active(&self, id: &SfId, active: bool, now: i64) -> StoreResult<User>;
    /// Counts a failed login; at the org's threshold the user is locked for the org's lockout period.
    fn record_failed_login(&self, id: &SfId, now: i64) -> StoreResult<LockState>;
    /// Resets the failure counter and notes the login time.
    fn record_successful_login(&self, id: &SfId, now: i64) -> StoreResult<()>;

    // ---- profiles and permission sets ----
    fn list_profiles(&self) -> StoreResult<Vec<Profile>>;
    fn profile_by_name(&self, name: &str) -> StoreResult<Option<Profile>>;
    fn list_permission_sets(&self) -> StoreResult<Vec<PermissionSet>>;
    fn permission_set_by_name(&self, name: &str) -> StoreResult<Option<PermissionSet>>;
    fn create_permission_set(
        &self,
        name: &str,
        label: &str,
        now: i64,
    ) -> StoreResult<PermissionSet>;
    /// Assigns (idempotently) and returns the updated user.
    fn assign_permission_set(&self, user: &SfId, permission_set: &str) -> StoreResult<User>;
    /// Gives the user another profile (named; `UnknownProfile` lists the known ones) and returns the user.
    fn set_user_profile(&self, user: &SfId, profile: &str) -> StoreResult<User>;

    // ---- connected apps ----
    /// Creates an app and returns it with its plaintext consumer secret. Fails with
    /// `AppCreationBlocked` while a gate step is missing (built-in apps excepted).
    fn create_app(&self, app: &NewApp) -> StoreResult<(ConnectedApp, String)>;
    /// Updates the app named `name` (label or API name).
    fn update_app(&self, name: &str, update: &AppUpdate) -> StoreResult<ConnectedApp>;
    fn app_by_consumer_key(&self, consumer_key: &str) -> StoreResult<Option<ConnectedApp>>;
    fn app_by_id(&self, id: &SfId) -> StoreResult<Option<ConnectedApp>>;
    /// By label or API name, case-insensitively.
    fn app_by_name(&self, name: &str) -> StoreResult<Option<ConnectedApp>>;
    fn list_apps(&self) -> StoreResult<Vec<ConnectedApp>>;
    /// The decrypted consumer secret.
    fn app_secret(&self, app: &SfId) -> StoreResult<String>;

    // ---- what a token grant reads ----
    /// The app, its secret, the user, the org and the approval a grant needs, read in one snapshot
    /// (`grant_reads`) — from memory while nothing they come from has changed (`facts_cache`).
    fn grant_facts(&self, lookup: &GrantLookup) -> StoreResult<GrantFacts>;
    /// The facts last cached for `lookup` and the `facts_version` they were read at, without reading the
    /// store: they may be out of date. A grant that decides on them passes that version with its write
    /// (`IssueTokens::facts_version`, `RefreshUse::facts_version`), which commits only if no change came
    /// between; a grant they refuse confirms them first (`facts_version`). `None` when nothing is cached.
    fn cached_grant_facts(&self, lookup: &GrantLookup) -> Option<(i64, GrantFacts)>;
    /// The counter every change to a grant's facts bumps (`facts_cache`), read now.
    fn facts_version(&self) -> StoreResult<i64>;

    // ---- approvals ----
    /// Records (or replaces) the user's consent to the app.
    fn approve(&self, user: &SfId, app: &SfId, scopes: &[Scope], now: i64) -> StoreResult<()>;
    fn approval(&self, user: &SfId, app: &SfId) -> StoreResult<Option<Approval>>;

    // ---- authorization codes ----
    fn insert_code(&self, code: &AuthCode) -> StoreResult<()>;
    /// Marks the code used, atomically: exactly one caller gets `Fresh`/`Expired`. A second use revokes every
    /// token issued from the code and answers `Replayed`.
    fn redeem_code(&self, code_hash: &str, now: i64) -> StoreResult<Redeemed>;
    /// A code as stored, without claiming it.
    fn auth_code(&self, code_hash: &str) -> StoreResult<Option<AuthCode>>;
    /// A code exchange in one transaction: `facts_version` confirmed first (`FactsChanged`, and nothing done,
    /// if a change came since), then `redeem_code`, and only when the code is `Fresh`, its user read and
    /// `judge`d: the tokens the judge returns are stored with the claim. For any other outcome only the claim
    /// is stored (a replay still revokes what the code issued before).
    fn exchange_code(
        &self,
        code_hash: &str,
        now: i64,
        facts_version: Option<i64>,
        judge: &CodeJudge,
    ) -> StoreResult<Exchange>;

    // ---- tokens ----
    fn issue_tokens(&self, issue: &IssueTokens) -> StoreResult<()>;
    /// A session by key; revoked (`revoked_at`) if it is or if the refresh token it came with or from is.
    fn access_token(&self, token_hash: &str) -> StoreResult<Option<AccessToken>>;
    /// Extends an idle-based session: sets `last_used_at = now` if the token is alive.
    fn touch_access_token(&self, token_hash: &str, now: i64) -> StoreResult<()>;
    fn refresh_token(&self, token_hash: &str) -> StoreResult<Option<RefreshToken>>;
    /// Marks the refresh token used and stores the new session (linked to it). `None` (and nothing stored) if
    /// the refresh token is unknown or revoked.
    fn refresh(&self, refresh: &RefreshUse) -> StoreResult<Option<RefreshToken>>;
    /// Revokes whatever token has this hash; a refresh token takes its sessions with it.
    fn revoke_by_hash(&self, token_hash: &str, now: i64) -> StoreResult<Revoked>;
    /// Revokes all of a user's tokens for one app: every refresh token and every session issued until `now` (a
    /// session issued later in that same millisecond may be revoked too); returns how many refresh tokens were
    /// revoked.
    fn revoke_user_app_tokens(&self, user: &SfId, app: &SfId, now: i64) -> StoreResult<u64>;

    // ---- login history ----
    fn record_event(&self, event: &LoginEvent) -> StoreResult<()>;
    /// The most recent events, newest first.
    fn events(&self, limit: u32) -> StoreResult<Vec<LoginEvent>>;

    // ---- outgoing mail (the local outbox) ----
    /// Keeps a sent message in the outbox (Setup's Sent Email page).
    fn record_mail(&self, mail: &Mail) -> StoreResult<()>;
    /// The most recent messages, newest first.
    fn sent_mail(&self, limit: u32) -> StoreResult<Vec<Mail>>;

    // ---- verification codes ----
    /// Stores a code's hash, replacing any earlier code of the same user and purpose.
    fn issue_verification_code(&self, code: &VerificationCode) -> StoreResult<()>;
    /// Checks a submitted code's hash (constant time) and uses it up when right; counts wrong tries and drops
    /// the code after `VERIFICATION_CODE_ATTEMPTS` or when expired.
    fn consume_verification_code(
        &self,
        user: &SfId,
        purpose: &str,
        code_hash: &str,
        now: i64,
    ) -> StoreResult<CodeCheck>;

    // ---- signing key ----
    /// The key in force now (system clock); a key added with a later `activates_at` is not returned before then.
    fn signing_key(&self) -> StoreResult<Option<SigningKey>>;
    /// Stores the key unless one exists; returns the key now in force.
    fn store_signing_key(&self, key: &SigningKey) -> StoreResult<SigningKey>;
    /// Rotation: adds the next key, published from now on and signing from `activates_at` (publish first, sign
    /// later, so every relying party has fetched the key before it sees a token signed with it).
    fn add_signing_key(&self, key: &SigningKey, activates_at: i64) -> StoreResult<()>;
    /// The key that signs at `now` and the keys to publish then (`None`: no key yet).
    fn signing_keys(&self, now: i64) -> StoreResult<Option<SigningKeys>>;

    // ---- rate limits ----
    /// Adds each count to its shared counter (created at 0 when missing) and returns each counter's total after
    /// the addition — every node's counts — in the order given; one transaction for the whole batch (one flush
    /// of a node's rate limiter). Counters whose `expires_at` is at or before `now` are deleted in the same
    /// transaction. Concurrent calls from several nodes lose no increment.
    fn add_rate_counts(&self, counts: &[RateCount], now: i64) -> StoreResult<Vec<u64>>;

    // ---- housekeeping ----
    /// Deletes codes past expiry (plus a day kept for replay detection), dead sessions, dead refresh tokens and
    /// login history beyond the newest `LOGIN_HISTORY_KEPT` events.
    fn purge_expired(&self, now: i64) -> StoreResult<Purged>;

    // ---- instrumentation ----
    /// SQL statements this store has run since it was opened (BEGIN and COMMIT included), when the backend
    /// counts them (SQLite its statements; PostgreSQL its round trips, preparations included); the benchmark and
    /// the queries-per-grant test read it.
    fn statements_executed(&self) -> Option<u64> {
        None
    }

    // ---- without blocking an async thread ----
    /// Whether reads finish in microseconds on the calling thread (an embedded database, no network): request
    /// handlers may then read on their async worker instead of hopping to a blocking thread.
    fn reads_are_local(&self) -> bool {
        false
    }
    /// `issue_tokens` as a future, when the backend can write without blocking the caller's thread (SQLite: its
    /// writer thread, with group commit). `Err` hands the tokens back: call `issue_tokens` on a blocking thread.
    /// By value: a grant's records go to the write as they are, not copied.
    fn issue_tokens_async(&self, issue: IssueTokens) -> Result<Pending<()>, Box<IssueTokens>> {
        Err(Box::new(issue))
    }
    /// `exchange_code` as a future; see `issue_tokens_async`.
    fn exchange_code_async(
        &self,
        _code_hash: &str,
        _now: i64,
        _facts_version: Option<i64>,
        _judge: &CodeJudge,
    ) -> Option<Pending<Exchange>> {
        None
    }
    /// `refresh` as a future; see `issue_tokens_async`.
    fn refresh_async(&self, _refresh: &RefreshUse) -> Option<Pending<Option<RefreshToken>>> {
        None
    }
    /// `access_token` and, for a token found, `user_by_id` of its user, as one future read (a bearer token's
    /// check); see `issue_tokens_async`.
    fn session_async(&self, _token_hash: &str) -> Option<Pending<Option<StoredSession>>> {
        None
    }
    /// `session_async`, then `judge` asked with what it read and the login-history row it answers recorded, in
    /// one trip. Answers the session and whether a row was recorded. `Err` (the judge handed back) here: the
    /// backend has no such trip, and the caller reads and records apart (`AppState::session_recorded`).
    fn session_recorded_async(
        &self,
        _token_hash: &str,
        judge: SessionJudge,
    ) -> Result<Pending<(Option<StoredSession>, bool)>, SessionJudge> {
        Err(judge)
    }
    /// `refresh_token` as a future read where the grant's write will follow; see `issue_tokens_async`.
    fn refresh_token_async(&self, _token_hash: &str) -> Option<Pending<Option<RefreshToken>>> {
        None
    }
    /// A refresh grant in one write transaction: `refresh_token`, then `judge` asked with what it read, then, if
    /// the judge answers a use, `refresh` of it (its `facts_version` confirmed first: `FactsChanged`, nothing
    /// stored). Answers what `refresh` answered, `None` when the judge stored nothing. `None` here: the backend
    /// has no such trip, and the grant reads its token and writes its use apart.
    fn refresh_judged_async(
        &self,
        _token_hash: &str,
        _judge: RefreshJudge,
    ) -> Option<Pending<Option<RefreshToken>>> {
        None
    }
    /// `record_event` as a future; see `issue_tokens_async`.
    fn record_event_async(&self, _event: &LoginEvent) -> Option<Pending<()>> {
        None
    }
    /// `facts_version` as a future; see `issue_tokens_async`.
    fn facts_version_async(&self) -> Option<Pending<i64>> {
        None
    }
    /// `touch_access_token` as a future; see `issue_tokens_async`.
    fn touch_access_token_async(&self, _token_hash: &str, _now: i64) -> Option<Pending<()>> {
        None
    }
}

/// A parsed `--database` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    /// `postgres://…` or `postgresql://…`: one database shared by any number of nodes.
    Postgres(postgres::PostgresUrl),
}

impl std::fmt::Display for DatabaseUrl {
    /// The URL as a `--database` value (a PostgreSQL password masked).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sqlite(p) => write!(f, "sqlite://{}", p.display()),
            Self::Postgres(u) => write!(f, "{}", u.shown().display()),
        }
    }
}

impl DatabaseUrl {
    /// Accepts `sqlite://PATH`, `sqlite:PATH`, a plain path, or `postgres://`/`postgresql://` URLs; anything
    /// else with a scheme is refused.
    pub fn parse(url: &str) -> StoreResult<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(postgres::PostgresUrl::parse(url)?));
        }
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                return Err(StoreError::Invalid {
                    field: "database URL",
                    message: "sqlite:// needs a path, e.g. sqlite://./org.sqlite".into(),
                });
            }
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        if let Some((scheme, _)) = url.split_once("://") {
            return Err(StoreError::UnsupportedUrl {
                scheme: scheme.to_owned(),
            });
        }
        if url.is_empty() {
            return Err(StoreError::Invalid {
                field: "database URL",
                message: "empty; use sqlite://PATH".into(),
            });
        }
        Ok(Self::Sqlite(PathBuf::from(url)))
    }

    /// The database file; for PostgreSQL, the URL with its password masked (for messages).
    pub fn path(&self) -> &Path {
        match self {
            Self::Sqlite(p) => p,
            Self::Postgres(u) => u.shown(),
        }
    }

    /// The default key file: next to an SQLite database, named after it (`org.sqlite` → `org.key`); for
    /// PostgreSQL `<data dir>/sfr-org/<database>.key`. Several nodes on one PostgreSQL must share one key
    /// (`--key-file` or `SFR_ORG_KEY`): a node with another key refuses to start.
    pub fn default_key_file(&self) -> PathBuf {
        match self {
            Self::Sqlite(p) => p.with_extension("key"),
            Self::Postgres(u) => {
                let data_dir = std::env::var_os("XDG_DATA_HOME")
                    .filter(|v| !v.is_empty())
                    .map(PathBuf::from)
                    .or_else(|| {
                        std::env::var_os("HOME")
                            .filter(|v| !v.is_empty())
                            .map(|home| PathBuf::from(home).join(".local").join("share"))
                    })
                    .unwrap_or_else(|| PathBuf::from("."));
                data_dir
                    .join("sfr-org")
                    .join(format!("{}.key", u.database()))
            }
        }
    }
}

/// Opens the store behind a database URL (creating the SQLite file, or connecting, and running migrations).
pub fn open(url: &DatabaseUrl, keys: Arc<Keys>) -> StoreResult<Arc<dyn Store>> {
    match url {
        DatabaseUrl::Sqlite(path) => Ok(Arc::new(sqlite::SqliteStore::open(path, keys)?)),
        DatabaseUrl::Postgres(pg) => Ok(Arc::new(postgres::PostgresStore::open(pg, keys)?)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls() {
        assert_eq!(
            DatabaseUrl::parse("sqlite:///var/lib/sfr-org/x.sqlite").unwrap(),
            DatabaseUrl::Sqlite("/var/lib/sfr-org/x.sqlite".into())
        );
        assert_eq!(
            DatabaseUrl::parse("org.sqlite").unwrap(),
            DatabaseUrl::Sqlite("org.sqlite".into())
        );
        let err = DatabaseUrl::parse("mysql://localhost/db").unwrap_err();
        assert!(err.to_string().contains("\"mysql\""));
        assert!(err.to_string().contains("sqlite://PATH"));
        assert!(err.to_string().contains("postgres://"));
        let pg = DatabaseUrl::parse("postgres://sfr:pw@db:5432/org").unwrap();
        assert!(matches!(pg, DatabaseUrl::Postgres(_)));
        assert_eq!(pg.to_string(), "postgres://sfr:***@db:5432/org");
        assert!(pg.default_key_file().ends_with("sfr-org/org.key"));
        assert_eq!(
            DatabaseUrl::Sqlite("d/org.sqlite".into()).default_key_file(),
            PathBuf::from("d/org.key")
        );
    }

    #[test]
    fn unknown_names_list_the_known_ones() {
        let e = StoreError::UnknownProfile {
            name: "Boss".into(),
            known: vec!["Standard User".into(), "System Administrator".into()],
        };
        assert_eq!(
            e.to_string(),
            "no profile named \"Boss\" exists; known: \"Standard User\", \"System Administrator\""
        );
        assert!(
            StoreError::AppCreationBlocked(MissingStep::SupportPermission)
                .to_string()
                .contains(SUPPORT_COMMAND)
        );
    }
}
