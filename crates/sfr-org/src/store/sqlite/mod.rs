//! The SQLite implementation of [`Store`]: WAL journal, `synchronous=NORMAL` (or `FULL`: `Synchronous`), a busy
//! timeout, one writer connection behind a mutex (every write use case is one `BEGIN IMMEDIATE` transaction) and
//! a few reader connections. Other processes (the admin commands) may use the same file while the server runs.

mod apps;
mod cached;
mod checkpointer;
mod events;
mod facts_version;
mod grant_writes;
mod group_commit;
mod in_batch;
mod org;
mod outbox;
mod rate_counters;
mod schema;
mod signing;
mod tokens;
mod users;
mod wal_frames;
mod writer_memo;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use cached::CachedStatements as _;
use sfr_wire::SfId;

use super::facts_cache::{self, FactsCache};
use super::{Bootstrap, Pending, Purged, RateCount, Store, StoreError, StoreResult, grant_reads};
use crate::keys::Keys;
use crate::model::{
    AccessToken, AppUpdate, Approval, AuthCode, CodeCheck, CodeJudge, ConnectedApp, Exchange,
    GrantFacts, GrantLookup, IssueTokens, LockState, LoginEvent, Mail, NewApp, NewUser, Org,
    OrgSettingsUpdate, PermissionSet, Profile, Redeemed, RefreshJudge, RefreshToken, RefreshUse,
    Revoked, Scope, SessionJudge, SigningKey, SigningKeys, StoredSession, User, VerificationCode,
};

pub use schema::LATEST as SCHEMA_VERSION;

const READERS: usize = 4;
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// The writer never checkpoints inside a commit (SQLite's default does, every 1,000 pages, fsync included, with
/// every queued grant waiting): the store's checkpoint thread does it (`checkpointer`).
const WAL_AUTOCHECKPOINT_PAGES: i64 = 0;
/// A WAL that grew under a burst is cut back to this size when the log restarts.
const WAL_SIZE_LIMIT: i64 = 64 * 1024 * 1024;

/// A store on one SQLite file.
pub struct SqliteStore {
    path: PathBuf,
    writer: Arc<Mutex<Connection>>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
    keys: Arc<Keys>,
    /// SQL statements run on this store's connections (BEGIN and COMMIT included), for `statements_executed`.
    statements: Arc<AtomicU64>,
    /// Token grants waiting to share the next commit. Dropped before the checkpointer: queued work commits first.
    group: group_commit::GroupCommit,
    /// Grants' facts between changes (`facts_cache`).
    facts: FactsCache,
    /// Copies the WAL into the database file off the commit path.
    _checkpointer: checkpointer::Checkpointer,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

pub(crate) fn db_err(e: rusqlite::Error) -> StoreError {
    StoreError::Database(e.to_string())
}

/// Whether the error is a UNIQUE/PRIMARY KEY violation.
pub(crate) fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation
    )
}

pub(crate) fn parse_id(s: &str) -> Result<SfId, StoreError> {
    SfId::parse(s).map_err(|e| StoreError::Corrupt(format!("bad id {s:?}: {e}")))
}

pub(crate) fn parse_scopes(s: &str) -> Result<Vec<Scope>, StoreError> {
    Scope::parse_list(s).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Waits for a lock in short steps, for up to `BUSY_TIMEOUT`: SQLite's own busy timeout sleeps up to 100 ms at
/// a time, so a lock held for a millisecond (a WAL restart, another process's commit) could cost a whole queue
/// of grants 100 ms.
pub(super) fn busy_wait(attempt: i32) -> bool {
    const STEP: Duration = Duration::from_micros(200);
    std::thread::sleep(STEP);
    u128::from(attempt.unsigned_abs()) * STEP.as_micros() < BUSY_TIMEOUT.as_micros()
}

/// When a commit reaches the disk, from `SFR_ORG_SQLITE_SYNCHRONOUS` (`normal`, the default, or `full`).
///
/// NORMAL: a commit is in the WAL (written, not fsynced) before its answer, so it survives a crash of the
/// process; a power loss or kernel crash can lose the commits since the checkpoint thread last fsynced the WAL
/// (it does before each pass that has frames to copy, every 25 ms), never the database. FULL: every commit
/// batch is fsynced before its grants are answered (BENCHMARKS.md, "12-07 FULL": 0.7–0.9 of NORMAL's grants/s).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Synchronous {
    Normal,
    Full,
}

impl Synchronous {
    const ENV: &'static str = "SFR_ORG_SQLITE_SYNCHRONOUS";

    fn from_env() -> StoreResult<Self> {
        Self::parse(std::env::var(Self::ENV).ok().as_deref())
    }

    /// Unset or empty reads as `Normal`; a value that is neither mode is refused rather than taken as the
    /// default, so a typo cannot quietly weaken what an operator asked for.
    fn parse(value: Option<&str>) -> StoreResult<Self> {
        match value.map(str::trim) {
            None | Some("") => Ok(Self::Normal),
            Some(v) if v.eq_ignore_ascii_case("normal") => Ok(Self::Normal),
            Some(v) if v.eq_ignore_ascii_case("full") => Ok(Self::Full),
            Some(v) => Err(StoreError::Invalid {
                field: Self::ENV,
                message: format!(
                    "{v:?} is not a mode; use `normal` (the default: a commit is written to the WAL before \
                     its answer and survives a crash of the process) or `full` (each commit is also fsynced \
                     before its answer and survives a power loss)"
                ),
            }),
        }
    }

    fn pragma(self) -> &'static str {
        match self {
            Self::Normal => "NORMAL",
            Self::Full => "FULL",
        }
    }
}

fn configure(conn: &mut Connection, synchronous: Synchronous) -> rusqlite::Result<()> {
    conn.busy_handler(Some(busy_wait))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", synchronous.pragma())?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES)?;
    conn.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT)?;
    tune(conn)
}

/// Settings every connection gets, readers included: the statement cache, and a stable query plan (without it
/// SQLite re-prepares a cached statement whenever a newly bound value might change its plan, which here was
/// every call of the queries that join an app to its profiles). No memory map: the file grows with every
/// batch of tokens, and each growth unmapped and remapped it in every connection (a TLB shootdown across all
/// threads each time), which cost more than the `pread`s it saved.
fn tune(conn: &Connection) -> rusqlite::Result<()> {
    // Temporary files in memory: a statement journal (the originals of the pages a statement that may fail
    // halfway changes, kept so SQLite can undo it alone), readers' sorts and temporary B-trees. When every grant
    // of a shared commit ran under a savepoint, whose journal is such a file, the writer made 24 writes of 52 KB
    // in all per code exchange with files, 10 of 21 KB (the WAL's alone) with memory.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    conn.set_prepared_statement_cache_capacity(cached::CACHE_CAPACITY);
    Ok(())
}

/// Counts every statement the connection runs into `counter`. SQLite's profile event (once per finished
/// statement) is used rather than its statement event, which would copy the SQL text on every call.
fn count_statements(conn: &mut Connection, counter: &Arc<AtomicU64>) -> rusqlite::Result<()> {
    let counter = Arc::clone(counter);
    conn.trace_v2(
        rusqlite::trace::TraceEventCodes::SQLITE_TRACE_PROFILE,
        Some(move |_: rusqlite::trace::TraceEvent<'_>| {
            counter.fetch_add(1, Ordering::Relaxed);
        }),
    )
}

/// Creates an empty database file readable only by its owner (SQLite gives its -wal and -shm files the same
/// mode). An existing file is left as it is.
fn create_private(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and runs pending migrations, its commits as synchronous as
    /// `SFR_ORG_SQLITE_SYNCHRONOUS` says.
    pub fn open(path: &Path, keys: Arc<Keys>) -> StoreResult<Self> {
        Self::open_with(path, keys, Synchronous::from_env()?)
    }

    fn open_with(path: &Path, keys: Arc<Keys>, synchronous: Synchronous) -> StoreResult<Self> {
        let open_err = |message: String| StoreError::Open {
            path: path.to_owned(),
            message,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| open_err(e.to_string()))?;
        }
        create_private(path).map_err(|e| open_err(e.to_string()))?;
        // The writer alone appends to the WAL: through the VFS that writes a commit's frames in one call.
        let mut writer = wal_frames::register()
            .and_then(|vfs| Connection::open_with_flags_and_vfs(path, OpenFlags::default(), vfs))
            .map_err(|e| open_err(e.to_string()))?;
        configure(&mut writer, synchronous).map_err(|e| open_err(e.to_string()))?;
        schema::migrate(&mut writer, path).map_err(|e| match e {
            StoreError::Database(message) => open_err(message),
            other => other,
        })?;
        let statements = Arc::new(AtomicU64::new(0));
        count_statements(&mut writer, &statements).map_err(|e| open_err(e.to_string()))?;
        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let mut conn = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(|e| open_err(e.to_string()))?;
            conn.busy_timeout(BUSY_TIMEOUT)
                .map_err(|e| open_err(e.to_string()))?;
            tune(&conn).map_err(|e| open_err(e.to_string()))?;
            count_statements(&mut conn, &statements).map_err(|e| open_err(e.to_string()))?;
            readers.push(Mutex::new(conn));
        }
        let checkpointer = checkpointer::Checkpointer::start(path)
            .map_err(|e| open_err(format!("cannot start the checkpoint thread: {e}")))?;
        let writer = Arc::new(Mutex::new(writer));
        let group = group_commit::GroupCommit::start(Arc::clone(&writer))
            .map_err(|e| open_err(format!("cannot start the writer thread: {e}")))?;
        Ok(Self {
            path: path.to_owned(),
            writer,
            readers,
            next_reader: AtomicUsize::new(0),
            keys,
            statements,
            group,
            facts: FactsCache::default(),
            _checkpointer: checkpointer,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction on the writer; commits on `Ok`, rolls back on `Err`.
    fn write<T>(&self, f: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
        let mut conn = self
            .writer
            .lock()
            .map_err(|_| StoreError::Internal("writer connection poisoned".into()))?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db_err)?;
        let out = f(&tx)?;
        tx.commit().map_err(db_err)?;
        Ok(out)
    }

    /// A reader connection: the first free one, else the one round-robin picks (waited for).
    fn reader(&self) -> StoreResult<MutexGuard<'_, Connection>> {
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        for i in 0..self.readers.len() {
            if let Ok(g) = self.readers[(start + i) % self.readers.len()].try_lock() {
                return Ok(g);
            }
        }
        self.readers[start % self.readers.len()]
            .lock()
            .map_err(|_| StoreError::Internal("reader connection poisoned".into()))
    }

    /// Runs `f` in one read transaction (a consistent snapshot) on a reader connection.
    fn read<T>(&self, f: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
        snapshot(&*self.reader()?, f)
    }

    /// `read` for an `f` that runs one statement, which is a snapshot by itself: no BEGIN and COMMIT around it.
    fn read_one<T>(&self, f: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
        let conn = self.reader()?;
        if !conn.is_autocommit() {
            conn.execute_cached("ROLLBACK", []).map_err(db_err)?;
        }
        f(&conn)
    }
}

/// Runs `f` in one read transaction on `conn`, with BEGIN and COMMIT from the statement cache (rusqlite's
/// `transaction()` parses them on every call).
fn snapshot<T>(conn: &Connection, f: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
    if !conn.is_autocommit() {
        // A COMMIT that failed earlier left a transaction open: end it rather than fail every later read.
        conn.execute_cached("ROLLBACK", []).map_err(db_err)?;
    }
    conn.execute_cached("BEGIN", []).map_err(db_err)?;
    let out = f(conn);
    let end = conn.execute_cached("COMMIT", []);
    let out = out?;
    end.map_err(db_err)?;
    Ok(out)
}

/// A grant's reads inside one read transaction (`Store::grant_facts`).
struct InOneRead<'a> {
    conn: &'a Connection,
    keys: &'a Keys,
}

impl grant_reads::GrantReads for InOneRead<'_> {
    type Error = StoreError;
    fn org(&mut self) -> StoreResult<Org> {
        org::load(self.conn)
    }
    fn app(&mut self, consumer_key: &str) -> StoreResult<Option<ConnectedApp>> {
        apps::by_consumer_key(self.conn, consumer_key)
    }
    fn secret(&mut self, app: &SfId) -> StoreResult<String> {
        apps::secret(self.conn, self.keys, app)
    }
    fn user_by_id(&mut self, id: &SfId) -> StoreResult<Option<User>> {
        users::by_id(self.conn, id)
    }
    fn user_by_username(&mut self, username: &str) -> StoreResult<Option<User>> {
        users::by_username(self.conn, username)
    }
    fn approval(&mut self, user: &SfId, app: &SfId) -> StoreResult<Option<Approval>> {
        apps::approval(self.conn, user, app)
    }
}

impl Store for SqliteStore {
    fn bootstrap(&self, init: &Bootstrap) -> StoreResult<bool> {
        self.write(|c| org::bootstrap(c, &self.keys, init))
    }

    fn org(&self) -> StoreResult<Org> {
        self.read(org::load)
    }

    fn update_org(&self, update: &OrgSettingsUpdate) -> StoreResult<Org> {
        self.write(|c| org::update(c, update))
    }

    fn create_user(&self, user: &NewUser) -> StoreResult<User> {
        self.write(|c| users::create(c, user))
    }

    fn user_by_username(&self, username: &str) -> StoreResult<Option<User>> {
        self.read(|c| users::by_username(c, username))
    }

    fn user_by_id(&self, id: &SfId) -> StoreResult<Option<User>> {
        self.read(|c| users::by_id(c, id))
    }

    fn list_users(&self) -> StoreResult<Vec<User>> {
        self.read(users::list)
    }

    fn set_user_active(&self, id: &SfId, active: bool, now: i64) -> StoreResult<User> {
        self.write(|c| users::set_active(c, id, active, now))
    }

    fn record_failed_login(&self, id: &SfId, now: i64) -> StoreResult<LockState> {
        self.write(|c| users::record_failure(c, id, now))
    }

    fn record_successful_login(&self, id: &SfId, now: i64) -> StoreResult<()> {
        self.write(|c| users::record_success(c, id, now))
    }

    fn list_profiles(&self) -> StoreResult<Vec<Profile>> {
        self.read(users::list_profiles)
    }

    fn profile_by_name(&self, name: &str) -> StoreResult<Option<Profile>> {
        self.read(|c| users::profile_by_name(c, name))
    }

    fn list_permission_sets(&self) -> StoreResult<Vec<PermissionSet>> {
        self.read(users::list_permission_sets)
    }

    fn permission_set_by_name(&self, name: &str) -> StoreResult<Option<PermissionSet>> {
        self.read(|c| users::permission_set_by_name(c, name))
    }

    fn create_permission_set(
        &self,
        name: &str,
        label: &str,
        now: i64,
    ) -> StoreResult<PermissionSet> {
        self.write(|c| users::create_permission_set(c, name, label, now))
    }

    fn assign_permission_set(&self, user: &SfId, permission_set: &str) -> StoreResult<User> {
        self.write(|c| users::assign_permission_set(c, user, permission_set))
    }

    fn set_user_profile(&self, user: &SfId, profile: &str) -> StoreResult<User> {
        self.write(|c| users::set_profile(c, user, profile))
    }

    fn create_app(&self, app: &NewApp) -> StoreResult<(ConnectedApp, String)> {
        self.write(|c| apps::create(c, &self.keys, app))
    }

    fn update_app(&self, name: &str, update: &AppUpdate) -> StoreResult<ConnectedApp> {
        self.write(|c| apps::update(c, name, update))
    }

    fn app_by_consumer_key(&self, consumer_key: &str) -> StoreResult<Option<ConnectedApp>> {
        self.read(|c| apps::by_consumer_key(c, consumer_key))
    }

    fn app_by_id(&self, id: &SfId) -> StoreResult<Option<ConnectedApp>> {
        self.read(|c| apps::by_id(c, id))
    }

    fn app_by_name(&self, name: &str) -> StoreResult<Option<ConnectedApp>> {
        self.read(|c| apps::by_name(c, name))
    }

    fn list_apps(&self) -> StoreResult<Vec<ConnectedApp>> {
        self.read(apps::list)
    }

    fn app_secret(&self, app: &SfId) -> StoreResult<String> {
        self.read(|c| apps::secret(c, &self.keys, app))
    }

    fn grant_facts(&self, lookup: &GrantLookup) -> StoreResult<GrantFacts> {
        let conn = self.reader()?;
        // The counter alone first, outside a transaction: on a hit that one statement is the whole read.
        if let Some(facts) = self.facts.get(facts_version::load(&conn)?, lookup) {
            return Ok(facts);
        }
        snapshot(&conn, |conn| {
            facts_cache::through(
                &self.facts,
                lookup,
                &mut InOneRead {
                    conn,
                    keys: &self.keys,
                },
                |r| facts_version::load(r.conn),
                |r| grant_reads::read(r, lookup),
            )
        })
    }

    fn cached_grant_facts(&self, lookup: &GrantLookup) -> Option<(i64, GrantFacts)> {
        self.facts.latest(lookup)
    }

    fn facts_version(&self) -> StoreResult<i64> {
        self.read_one(facts_version::load)
    }

    fn approve(&self, user: &SfId, app: &SfId, scopes: &[Scope], now: i64) -> StoreResult<()> {
        self.write(|c| apps::approve(c, user, app, scopes, now))
    }

    fn approval(&self, user: &SfId, app: &SfId) -> StoreResult<Option<Approval>> {
        self.read(|c| apps::approval(c, user, app))
    }

    fn insert_code(&self, code: &AuthCode) -> StoreResult<()> {
        self.write(|c| tokens::insert_code(c, code))
    }

    fn redeem_code(&self, code_hash: &str, now: i64) -> StoreResult<Redeemed> {
        self.group.write(grant_writes::redeem(code_hash, now))
    }

    fn auth_code(&self, code_hash: &str) -> StoreResult<Option<AuthCode>> {
        self.read_one(|c| tokens::load_code(c, code_hash))
    }

    fn exchange_code(
        &self,
        code_hash: &str,
        now: i64,
        facts_version: Option<i64>,
        judge: &CodeJudge,
    ) -> StoreResult<Exchange> {
        self.group
            .write(grant_writes::exchange(code_hash, now, facts_version, judge))
    }

    fn issue_tokens(&self, issue: &IssueTokens) -> StoreResult<()> {
        self.group.write(grant_writes::issue(issue.clone()))
    }

    fn access_token(&self, token_hash: &str) -> StoreResult<Option<AccessToken>> {
        self.read_one(|c| tokens::access_token(c, token_hash, tokens::Cutoffs::MayExist))
    }

    fn touch_access_token(&self, token_hash: &str, now: i64) -> StoreResult<()> {
        self.group.write(grant_writes::touch(token_hash, now))
    }

    fn refresh_token(&self, token_hash: &str) -> StoreResult<Option<RefreshToken>> {
        self.read_one(|c| tokens::refresh_token(c, token_hash))
    }

    fn refresh(&self, refresh: &RefreshUse) -> StoreResult<Option<RefreshToken>> {
        self.group.write(grant_writes::refresh(refresh))
    }

    fn revoke_by_hash(&self, token_hash: &str, now: i64) -> StoreResult<Revoked> {
        self.write(|c| tokens::revoke_by_hash(c, token_hash, now))
    }

    fn revoke_user_app_tokens(&self, user: &SfId, app: &SfId, now: i64) -> StoreResult<u64> {
        self.write(|c| tokens::revoke_user_app(c, user, app, now))
    }

    fn record_event(&self, event: &LoginEvent) -> StoreResult<()> {
        self.group.write(grant_writes::event(event))
    }

    fn events(&self, limit: u32) -> StoreResult<Vec<LoginEvent>> {
        self.read(|c| events::recent(c, limit))
    }

    fn record_mail(&self, mail: &Mail) -> StoreResult<()> {
        self.write(|c| outbox::record(c, mail))
    }

    fn sent_mail(&self, limit: u32) -> StoreResult<Vec<Mail>> {
        self.read(|c| outbox::recent(c, limit))
    }

    fn issue_verification_code(&self, code: &VerificationCode) -> StoreResult<()> {
        self.write(|c| outbox::issue_code(c, code))
    }

    fn consume_verification_code(
        &self,
        user: &SfId,
        purpose: &str,
        code_hash: &str,
        now: i64,
    ) -> StoreResult<CodeCheck> {
        self.write(|c| outbox::consume_code(c, user, purpose, code_hash, now))
    }

    fn signing_key(&self) -> StoreResult<Option<SigningKey>> {
        self.read(|c| signing::signing_key(c, &self.keys))
    }

    fn store_signing_key(&self, key: &SigningKey) -> StoreResult<SigningKey> {
        self.write(|c| signing::store(c, &self.keys, key))
    }

    fn add_signing_key(&self, key: &SigningKey, activates_at: i64) -> StoreResult<()> {
        self.write(|c| signing::add(c, &self.keys, key, activates_at))
    }

    fn signing_keys(&self, now: i64) -> StoreResult<Option<SigningKeys>> {
        self.read(|c| signing::signing_keys(c, &self.keys, now))
    }

    fn add_rate_counts(&self, counts: &[RateCount], now: i64) -> StoreResult<Vec<u64>> {
        self.write(|c| rate_counters::add(c, counts, now))
    }

    fn purge_expired(&self, now: i64) -> StoreResult<Purged> {
        // Each batch queues with the grants (a lock taken straight from here would win it back every time).
        let mut walk = tokens::PurgeWalk::default();
        loop {
            let (more, walked) = self.group.write(move |c| {
                let mut walk = walk;
                let more = tokens::purge_batch(c, now, &mut walk)?;
                Ok((more, walk))
            })?;
            walk = walked;
            if !more {
                break;
            }
        }
        Ok(walk.purged)
    }

    fn statements_executed(&self) -> Option<u64> {
        Some(self.statements.load(Ordering::Relaxed))
    }

    fn reads_are_local(&self) -> bool {
        true
    }

    fn issue_tokens_async(&self, issue: IssueTokens) -> Result<Pending<()>, Box<IssueTokens>> {
        Ok(Box::pin(self.group.write_async(grant_writes::issue(issue))))
    }

    fn exchange_code_async(
        &self,
        code_hash: &str,
        now: i64,
        facts_version: Option<i64>,
        judge: &CodeJudge,
    ) -> Option<Pending<Exchange>> {
        Some(Box::pin(self.group.write_async(grant_writes::exchange(
            code_hash,
            now,
            facts_version,
            judge,
        ))))
    }

    // The reads below run on the writer's connection: every commit empties a reader's page cache, and the
    // writer's, which made the commit, stays warm. They queue with the grants' writes (group commit).
    fn session_async(&self, token_hash: &str) -> Option<Pending<Option<StoredSession>>> {
        let token_hash = token_hash.to_owned();
        Some(Box::pin(self.group.write_async(move |c| {
            grant_writes::read_session(c, &token_hash)
        })))
    }

    fn session_recorded_async(
        &self,
        token_hash: &str,
        judge: SessionJudge,
    ) -> Result<Pending<(Option<StoredSession>, bool)>, SessionJudge> {
        Ok(Box::pin(self.group.write_async(
            grant_writes::session_recorded(token_hash, judge),
        )))
    }

    fn refresh_token_async(&self, token_hash: &str) -> Option<Pending<Option<RefreshToken>>> {
        let token_hash = token_hash.to_owned();
        Some(Box::pin(
            self.group
                .write_async(move |c| tokens::refresh_token(c, &token_hash)),
        ))
    }

    fn refresh_async(&self, refresh: &RefreshUse) -> Option<Pending<Option<RefreshToken>>> {
        Some(Box::pin(
            self.group.write_async(grant_writes::refresh(refresh)),
        ))
    }

    fn refresh_judged_async(
        &self,
        token_hash: &str,
        judge: RefreshJudge,
    ) -> Option<Pending<Option<RefreshToken>>> {
        Some(Box::pin(self.group.write_async(
            grant_writes::refresh_judged(token_hash, judge),
        )))
    }

    fn record_event_async(&self, event: &LoginEvent) -> Option<Pending<()>> {
        Some(Box::pin(self.group.write_async(grant_writes::event(event))))
    }

    fn touch_access_token_async(&self, token_hash: &str, now: i64) -> Option<Pending<()>> {
        Some(Box::pin(
            self.group.write_async(grant_writes::touch(token_hash, now)),
        ))
    }
}

#[cfg(test)]
pub(super) mod tests {
    use std::sync::Arc;

    use super::{SqliteStore, Synchronous};
    use crate::keys::Keys;

    /// A store on a new file in a temporary directory (kept as long as the directory is).
    pub(super) fn open_store() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let keys = Arc::new(Keys::from_bytes(&[7u8; 32], "test"));
        let store = SqliteStore::open(&dir.path().join("org.sqlite"), keys).unwrap();
        (dir, store)
    }

    /// Awaits `pending` in order on a runtime of the calling thread (writes queued for the writer thread while
    /// the test held its connection, so that they share a batch).
    pub(super) fn await_all<T>(pending: Vec<impl std::future::Future<Output = T>>) -> Vec<T> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(async {
            let mut out = Vec::with_capacity(pending.len());
            for p in pending {
                out.push(p.await);
            }
            out
        })
    }

    /// Lookups by id go through an index, whatever the size of the org: the WHERE clauses the store uses (a
    /// code exchange reads its user by id) are planned as index searches, not scans.
    #[test]
    fn lookups_by_id_search_an_index() {
        let (_dir, store) = open_store();
        let conn = store.writer.lock().unwrap();
        for (sql, index) in [
            (
                "SELECT u.username FROM users u JOIN profiles p ON p.id = u.profile_id
                 WHERE substr(u.id, 1, 15) = ?1",
                "users_id15",
            ),
            (
                "SELECT consumer_secret_enc FROM apps WHERE substr(id, 1, 15) = ?1",
                "apps_id15",
            ),
            (
                "SELECT scopes FROM approvals WHERE substr(user_id, 1, 15) = ?1 AND substr(app_id, 1, 15) = ?2",
                "approvals_id15",
            ),
        ] {
            let mut plan = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let steps: Vec<String> = plan
                .query_map(
                    rusqlite::params_from_iter(["a", "b"].iter().take(sql.matches("?").count())),
                    |r| r.get(3),
                )
                .unwrap()
                .map(Result::unwrap)
                .collect();
            let first = &steps[0];
            assert!(
                first.starts_with("SEARCH") && first.contains(index),
                "{sql}: {steps:?}"
            );
        }
    }

    /// The store's writer appends to the WAL through the VFS that writes a commit's frames at once
    /// (`wal_frames`), one write per commit; the readers, which never write, through the default one.
    #[test]
    fn the_writer_writes_the_wal_a_commit_at_a_time() {
        let (_dir, store) = open_store();
        let writer = store.writer.lock().unwrap();
        writer
            .execute_batch("CREATE TABLE t (v BLOB); INSERT INTO t VALUES (zeroblob(3000));")
            .unwrap();
        let before = super::wal_frames::writes_of(&writer).expect("the writer's WAL is the VFS's");
        writer
            .execute_batch(
                "BEGIN; INSERT INTO t SELECT zeroblob(3000) FROM t; INSERT INTO t SELECT zeroblob(3000) FROM t; COMMIT;",
            )
            .unwrap();
        assert_eq!(super::wal_frames::writes_of(&writer), Some(before + 1));
        for reader in &store.readers {
            assert_eq!(super::wal_frames::writes_of(&reader.lock().unwrap()), None);
        }
    }

    /// Statement journals, sorts and temporary B-trees live in memory, not in temporary files.
    #[test]
    fn every_connection_keeps_temporary_files_in_memory() {
        let (_dir, store) = open_store();
        let temp_store = |c: &rusqlite::Connection| -> i64 {
            c.query_row("PRAGMA temp_store", [], |r| r.get(0)).unwrap()
        };
        // 2 is MEMORY.
        assert_eq!(temp_store(&store.writer.lock().unwrap()), 2, "writer");
        for (i, reader) in store.readers.iter().enumerate() {
            assert_eq!(temp_store(&reader.lock().unwrap()), 2, "reader {i}");
        }
    }

    #[test]
    fn the_synchronous_mode_is_normal_unless_full_is_asked_for_and_a_typo_is_refused() {
        for (value, mode) in [
            (None, Synchronous::Normal),
            (Some(""), Synchronous::Normal),
            (Some("normal"), Synchronous::Normal),
            (Some(" Full "), Synchronous::Full),
            (Some("FULL"), Synchronous::Full),
        ] {
            assert_eq!(Synchronous::parse(value).unwrap(), mode, "{value:?}");
        }
        for typo in ["fll", "off", "extra", "2"] {
            let err = Synchronous::parse(Some(typo)).unwrap_err().to_string();
            assert!(
                err.contains("SFR_ORG_SQLITE_SYNCHRONOUS")
                    && err.contains(&format!("{typo:?}"))
                    && err.contains("`normal`")
                    && err.contains("`full`"),
                "{err}"
            );
        }
    }

    /// The mode reaches the writer, the one connection that commits (SQLite's `synchronous`: 1 NORMAL, 2 FULL).
    #[test]
    fn the_writer_commits_with_the_mode_asked_for() {
        for (mode, pragma) in [(Synchronous::Normal, 1), (Synchronous::Full, 2)] {
            let dir = tempfile::tempdir().unwrap();
            let keys = Arc::new(Keys::from_bytes(&[7u8; 32], "test"));
            let store = SqliteStore::open_with(&dir.path().join("org.sqlite"), keys, mode).unwrap();
            let writer = store.writer.lock().unwrap();
            let read: i64 = writer
                .pragma_query_value(None, "synchronous", |r| r.get(0))
                .unwrap();
            assert_eq!(read, pragma, "{mode:?}");
        }
    }
}
