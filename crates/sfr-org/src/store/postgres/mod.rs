//! The PostgreSQL implementation of [`Store`], for several stateless nodes on one database.
//!
//! Every use case of several statements is one `SERIALIZABLE` transaction (reads: `REPEATABLE READ READ ONLY`),
//! so the semantics are those of SQLite's single writer: a use case either sees another one's whole effect or
//! none of it. A use case of one statement runs alone (`Mode::OneRead`, `Mode::OneWrite`), atomic by itself and
//! two round trips shorter. A serialization failure or deadlock is retried from the start; so is a connection
//! that broke before the commit was sent (a server restart or failover), on a fresh connection — not one lost
//! during a single writing statement, which may have landed. Migrations run at open under an advisory lock, so
//! nodes starting together apply each one once.

mod apps;
mod events;
mod facts_version;
mod nonblocking;
mod org;
mod outbox;
mod pool;
mod rate_counters;
mod round_trips;
mod schema;
mod session;
mod signing;
mod tls;
mod tokens;
mod url;
mod users;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use postgres::IsolationLevel;
use postgres::error::SqlState;
use sfr_wire::SfId;

use super::facts_cache::{self, FactsCache};
use super::{
    Bootstrap, Pending, Purged, RateCount, Store, StoreError, StoreResult, code_exchange,
    grant_reads,
};
use crate::keys::Keys;
use crate::model::{
    AccessToken, AppUpdate, Approval, AuthCode, CodeCheck, CodeJudge, ConnectedApp, Exchange,
    GrantFacts, GrantLookup, IssueTokens, LockState, LoginEvent, Mail, NewApp, NewUser, Org,
    OrgSettingsUpdate, PermissionSet, Profile, Redeemed, RefreshToken, RefreshUse, Revoked, Scope,
    SessionJudge, SigningKey, SigningKeys, StoredSession, User, VerificationCode,
};
use pool::Pool;
use session::at_once;

pub use schema::LATEST as SCHEMA_VERSION;
pub use tls::TlsSettings;
pub use url::{DEFAULT_POOL_SIZE, PostgresUrl};

/// How often a use case is retried after a serialization failure, a deadlock or a broken connection.
const MAX_ATTEMPTS: u32 = 30;

/// What a use case step can fail with: a typed store error (final) or a driver error (maybe retried).
#[derive(Debug)]
pub(super) enum Fail {
    Store(StoreError),
    Pg(postgres::Error),
}

impl From<StoreError> for Fail {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl From<postgres::Error> for Fail {
    fn from(e: postgres::Error) -> Self {
        Self::Pg(e)
    }
}

pub(super) type R<T> = Result<T, Fail>;
type Tx<'a, 'b> = &'a mut session::Session<'b>;

/// The driver's error in words: a server error's SQLSTATE, message and detail (the driver's own `Display` only
/// says "db error").
pub(super) fn db_err(e: &postgres::Error) -> StoreError {
    StoreError::Database(match e.as_db_error() {
        Some(db) => match db.detail() {
            Some(detail) => format!("{} ({}; {detail})", db.message(), db.code().code()),
            None => format!("{} ({})", db.message(), db.code().code()),
        },
        None => e.to_string(),
    })
}

pub(super) fn is_unique_violation(e: &Fail) -> bool {
    matches!(e, Fail::Pg(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION))
}

pub(super) fn parse_id(s: &str) -> R<SfId> {
    SfId::parse(s).map_err(|e| StoreError::Corrupt(format!("bad id {s:?}: {e}")).into())
}

pub(super) fn parse_scopes(s: &str) -> R<Vec<Scope>> {
    Scope::parse_list(s).map_err(|e| StoreError::Corrupt(e.to_string()).into())
}

/// A stored count (BIGINT) as the model's u32.
pub(super) fn to_u32(v: i64, what: &str) -> R<u32> {
    u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("{what} {v} is out of range")).into())
}

/// Another use case got in the way: run again from the start.
fn is_conflict(e: &postgres::Error) -> bool {
    matches!(
        e.code(),
        Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED
    )
}

/// The connection is gone (or the server is going away): nothing of the transaction was committed if the
/// commit had not been sent.
fn is_connection_loss(e: &postgres::Error) -> bool {
    e.is_closed()
        || std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>())
        || matches!(
            e.code(),
            Some(c) if *c == SqlState::ADMIN_SHUTDOWN
                || *c == SqlState::CRASH_SHUTDOWN
                || *c == SqlState::CANNOT_CONNECT_NOW
                || *c == SqlState::READ_ONLY_SQL_TRANSACTION
        )
}

/// Whether a use case that failed with `e` on its `attempt`th run is run again, and after what pause. After a
/// lost commit nobody knows whether it landed, and a retry could do the use case twice; a single statement in
/// autocommit is its own commit, so a lost one is not retried unless it only read.
fn retry_after(
    e: &postgres::Error,
    mode: Mode,
    committing: bool,
    attempt: u32,
) -> Option<Duration> {
    let lost = is_connection_loss(e);
    let retry = is_conflict(e)
        || (lost
            && match mode {
                Mode::Read | Mode::OneRead => true,
                Mode::Write => !committing,
                Mode::OneWrite => false,
            });
    if !retry || attempt >= MAX_ATTEMPTS {
        return None;
    }
    // Back off a little, more each time, with jitter so the losers do not collide again.
    let mut jitter = [0u8; 1];
    let _ = aws_lc_rs::rand::fill(&mut jitter);
    let base = if lost { 100 } else { 2 };
    Some(Duration::from_millis(
        base * u64::from(attempt.min(10)) + u64::from(jitter[0] % 8),
    ))
}

/// One statement (`Mode::OneRead`, `Mode::OneWrite`) or one transaction (`Mode::Write`) on a non-blocking
/// connection, retried as `PostgresStore::run` retries it: `statement` gets a connection on loan and answers the
/// result. A transaction's commit answers a lost connection as a final error (`nonblocking::Transaction::commit`),
/// so a lost connection seen here came before the commit was sent.
async fn run_nonblocking<T, F, Fut>(
    pool: &Arc<nonblocking::Pool>,
    mode: Mode,
    statement: F,
) -> StoreResult<T>
where
    F: Fn(nonblocking::Loan) -> Fut,
    Fut: Future<Output = R<T>>,
{
    let mut attempt = 0;
    loop {
        attempt += 1;
        let e = match statement(pool.get().await?).await {
            Ok(v) => return Ok(v),
            Err(Fail::Store(e)) => return Err(e),
            Err(Fail::Pg(e)) => e,
        };
        if is_connection_loss(&e) {
            pool.clear_idle();
        }
        let Some(pause) = retry_after(&e, mode, false, attempt) else {
            return Err(db_err(&e));
        };
        tokio::time::sleep(pause).await;
        tracing::debug!(attempt, error = %e, "retrying a database statement");
    }
}

/// `PostgresStore::enforce_refresh_cap` on a non-blocking connection.
async fn enforce_refresh_cap_nonblocking(
    pool: &Arc<nonblocking::Pool>,
    cap: Option<tokens::CapCheck>,
) {
    let Some(cap) = &cap else { return };
    let capped = run_nonblocking(pool, Mode::OneWrite, move |mut c| async move {
        tokens::enforce_refresh_cap(&mut *c, cap).await
    })
    .await;
    if let Err(e) = capped {
        tracing::warn!(error = %e, "could not revoke refresh tokens beyond the cap; the next grant will");
    }
}

/// A bearer token's session and its user (`Store::session_async`), in one statement (`tokens::session_with_user`):
/// what the blocking path reads in two (`AppState::session`), one round trip.
async fn session_nonblocking(
    pool: &Arc<nonblocking::Pool>,
    token_hash: &str,
) -> StoreResult<Option<StoredSession>> {
    run_nonblocking(pool, Mode::OneRead, move |mut c| async move {
        tokens::session_with_user(&mut *c, token_hash).await
    })
    .await
}

/// A login-history row (`Store::record_event`): one insert of a new row, on a non-blocking connection.
async fn record_event_nonblocking(
    pool: &Arc<nonblocking::Pool>,
    event: &LoginEvent,
) -> StoreResult<()> {
    run_nonblocking(pool, Mode::OneWrite, move |mut c| async move {
        events::record(&mut *c, event).await
    })
    .await
}

#[derive(Clone, Copy)]
enum Mode {
    Read,
    Write,
    /// One reading statement, no `BEGIN`/`COMMIT` around it.
    OneRead,
    /// One writing statement, no `BEGIN`/`COMMIT` around it: atomic by itself, at `READ COMMITTED`, so only
    /// for writes that read nothing another transaction could change under them (inserts of new rows).
    OneWrite,
}

/// A store on one PostgreSQL database.
pub struct PostgresStore {
    url: PostgresUrl,
    pool: Pool,
    /// Connections for the statements a grant awaits without blocking (`Store::*_async`).
    nonblocking: Arc<nonblocking::Pool>,
    keys: Arc<Keys>,
    /// Grants' facts between changes (`facts_cache`).
    facts: FactsCache,
    /// Round trips to PostgreSQL on both pools (`Store::statements_executed`).
    trips: round_trips::RoundTrips,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Connects and brings the schema up to date (the database itself must exist).
    pub fn open(url: &PostgresUrl, keys: Arc<Keys>) -> StoreResult<Self> {
        let mut config = url.config();
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        config.keepalives(true);
        config.application_name("sfr-org");
        let tls = url
            .tls()
            .map(tls::RustlsConnect::new)
            .transpose()
            .map_err(|message| StoreError::Open {
                path: url.shown().to_owned(),
                message,
            })?;
        let trips = round_trips::RoundTrips::default();
        let store = Self {
            url: url.clone(),
            facts: FactsCache::default(),
            nonblocking: nonblocking::Pool::new(
                config.clone(),
                tls.clone(),
                url.pool_size(),
                url.shown().display().to_string(),
                trips.clone(),
            ),
            pool: Pool::new(
                config.into(),
                tls,
                url.pool_size(),
                url.shown().display().to_string(),
                trips.clone(),
            ),
            keys,
            trips,
        };
        let open_err = |e: StoreError| match e {
            StoreError::Database(message) => StoreError::Open {
                path: url.shown().to_owned(),
                message,
            },
            other => other,
        };
        let mut conn = store.pool.get().map_err(open_err)?;
        schema::migrate(conn.client(), url.shown()).map_err(|e| match e {
            Fail::Store(e) => open_err(e),
            Fail::Pg(e) => open_err(db_err(&e)),
        })?;
        drop(conn);
        Ok(store)
    }

    /// Connections this store may hold open at once.
    pub fn pool_size(&self) -> usize {
        self.pool.size()
    }

    /// Runs `f` in one transaction, retrying it from the start after a conflict or a lost connection.
    fn run<T>(&self, mode: Mode, f: impl Fn(Tx<'_, '_>) -> R<T>) -> StoreResult<T> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut conn = self.pool.get()?;
            let mut committing = false;
            let outcome = (|| {
                let (client, statements) = conn.parts();
                let mut tx = match mode {
                    Mode::OneRead | Mode::OneWrite => {
                        session::Session::autocommit(client, statements)
                    }
                    Mode::Read => session::Session::new(
                        client
                            .build_transaction()
                            .isolation_level(IsolationLevel::RepeatableRead)
                            .read_only(true)
                            .start()?,
                        statements,
                    ),
                    Mode::Write => session::Session::new(
                        client
                            .build_transaction()
                            .isolation_level(IsolationLevel::Serializable)
                            .start()?,
                        statements,
                    ),
                };
                let out = f(&mut tx)?;
                committing = true;
                tx.commit()?;
                Ok(out)
            })();
            let e = match outcome {
                Ok(v) => return Ok(v),
                Err(Fail::Store(e)) => return Err(e),
                Err(Fail::Pg(e)) => e,
            };
            if is_connection_loss(&e) {
                drop(conn);
                self.pool.clear_idle();
            }
            let Some(pause) = retry_after(&e, mode, committing, attempt) else {
                return Err(db_err(&e));
            };
            std::thread::sleep(pause);
            tracing::debug!(attempt, error = %e, "retrying a database transaction");
        }
    }

    /// After a commit that stored a refresh token: `tokens::enforce_refresh_cap`. The grant stands whatever
    /// happens here (its code is spent, its answer due); a failure leaves one token too many until the user's
    /// next grant for the app, and is logged.
    fn enforce_refresh_cap(&self, cap: Option<tokens::CapCheck>) {
        let Some(cap) = cap else { return };
        if let Err(e) = self.run(Mode::OneWrite, |c| {
            at_once(tokens::enforce_refresh_cap(c, &cap))
        }) {
            tracing::warn!(error = %e, "could not revoke refresh tokens beyond the cap; the next grant will");
        }
    }

    fn read<T>(&self, f: impl Fn(Tx<'_, '_>) -> R<T>) -> StoreResult<T> {
        self.run(Mode::Read, f)
    }

    fn write<T>(&self, f: impl Fn(Tx<'_, '_>) -> R<T>) -> StoreResult<T> {
        self.run(Mode::Write, f)
    }
}

/// A code exchange's steps inside one write transaction (`Store::exchange_code`, on a blocking `Session`, and
/// `Store::exchange_code_async`, on a non-blocking one), and what its commit leaves for the cap on refresh tokens
/// to check.
struct InOneWrite<'a, C> {
    tx: &'a mut C,
    /// The facts' version to confirm, checked by the claim's own statement (one round trip fewer).
    facts: Option<i64>,
    /// The claimed code's user, read by the claim's statement (one round trip fewer): `user_by_id` answers it.
    claimed_user: Option<(SfId, Option<User>)>,
    cap: Option<tokens::CapCheck>,
}

impl<'a, C> InOneWrite<'a, C> {
    fn on(tx: &'a mut C) -> Self {
        Self {
            tx,
            facts: None,
            claimed_user: None,
            cap: None,
        }
    }
}

impl<C: session::Run + Send> code_exchange::ExchangeSteps for InOneWrite<'_, C> {
    type Error = Fail;
    /// Checked by `redeem`, which follows it, in the claim's statement: a changed counter spends nothing.
    async fn confirm_facts(&mut self, version: Option<i64>) -> R<()> {
        self.facts = version;
        Ok(())
    }
    async fn redeem(&mut self, code_hash: &str, now: i64) -> R<Redeemed> {
        let (redeemed, user) =
            tokens::redeem_code(self.tx, code_hash, now, self.facts.take()).await?;
        if let Redeemed::Fresh(code) = &redeemed {
            self.claimed_user = Some((code.user_id.clone(), user));
        }
        Ok(redeemed)
    }
    async fn user_by_id(&mut self, id: &SfId) -> R<Option<User>> {
        match self.claimed_user.take() {
            Some((claimed, user)) if claimed == *id => Ok(user),
            _ => users::by_id(self.tx, id).await,
        }
    }
    async fn issue(&mut self, issue: &IssueTokens) -> R<()> {
        tokens::issue_with_event(self.tx, issue).await?;
        self.cap = tokens::CapCheck::after(issue);
        Ok(())
    }
}

/// A grant's reads inside one read transaction (`Store::grant_facts`).
struct InOneRead<'a, 'b, 'c> {
    tx: &'a mut session::Session<'b>,
    keys: &'c Keys,
}

impl grant_reads::GrantReads for InOneRead<'_, '_, '_> {
    type Error = Fail;
    fn org(&mut self) -> R<Org> {
        org::load(self.tx)
    }
    fn app(&mut self, consumer_key: &str) -> R<Option<ConnectedApp>> {
        apps::by_consumer_key(self.tx, consumer_key)
    }
    fn secret(&mut self, app: &SfId) -> R<String> {
        apps::secret(self.tx, self.keys, app)
    }
    fn user_by_id(&mut self, id: &SfId) -> R<Option<User>> {
        at_once(users::by_id(self.tx, id))
    }
    fn user_by_username(&mut self, username: &str) -> R<Option<User>> {
        at_once(users::by_username(self.tx, username))
    }
    fn approval(&mut self, user: &SfId, app: &SfId) -> R<Option<Approval>> {
        apps::approval(self.tx, user, app)
    }
}

impl Store for PostgresStore {
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
        self.run(Mode::OneRead, |c| at_once(users::by_username(c, username)))
    }

    fn user_by_id(&self, id: &SfId) -> StoreResult<Option<User>> {
        self.run(Mode::OneRead, |c| at_once(users::by_id(c, id)))
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
        // The counter alone first, one statement with no transaction around it: on a hit (the facts did not
        // change since they were cached) that is the whole read, one round trip instead of three.
        let version = self.run(Mode::OneRead, |c| at_once(facts_version::load(c)))?;
        if let Some(facts) = self.facts.get(version, lookup) {
            return Ok(facts);
        }
        self.read(|tx| {
            facts_cache::through(
                &self.facts,
                lookup,
                &mut InOneRead {
                    tx,
                    keys: &self.keys,
                },
                |r| at_once(facts_version::load(r.tx)),
                |r| grant_reads::read(r, lookup),
            )
        })
    }

    /// The grant's one-statement write confirms the version in the same round trip (`facts_version::guard`), so
    /// deciding on cached facts saves the counter's round trip.
    fn cached_grant_facts(&self, lookup: &GrantLookup) -> Option<(i64, GrantFacts)> {
        self.facts.latest(lookup)
    }

    fn facts_version(&self) -> StoreResult<i64> {
        self.run(Mode::OneRead, |c| at_once(facts_version::load(c)))
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
        self.write(|c| {
            at_once(tokens::redeem_code(c, code_hash, now, None)).map(|(redeemed, _)| redeemed)
        })
    }

    fn auth_code(&self, code_hash: &str) -> StoreResult<Option<AuthCode>> {
        self.run(Mode::OneRead, |c| tokens::auth_code(c, code_hash))
    }

    fn exchange_code(
        &self,
        code_hash: &str,
        now: i64,
        facts_version: Option<i64>,
        judge: &CodeJudge,
    ) -> StoreResult<Exchange> {
        let (exchange, cap) = self.write(|c| {
            let mut steps = InOneWrite::on(c);
            let exchange = at_once(code_exchange::run(
                &mut steps,
                code_hash,
                now,
                facts_version,
                judge,
            ))?;
            Ok((exchange, steps.cap))
        })?;
        self.enforce_refresh_cap(cap);
        Ok(exchange)
    }

    fn issue_tokens(&self, issue: &IssueTokens) -> StoreResult<()> {
        // The tokens and the event are one statement (guarded by the facts' counter when the grant was decided on
        // cached facts): its own transaction, one round trip.
        self.run(Mode::OneWrite, |c| {
            at_once(tokens::issue_with_event(c, issue))
        })?;
        self.enforce_refresh_cap(tokens::CapCheck::after(issue));
        Ok(())
    }

    // The token reads and the session touch are one statement each: no transaction around them (one round trip
    // instead of three). The touch's guards are checked again on the row it locks, so it stays exact.
    fn access_token(&self, token_hash: &str) -> StoreResult<Option<AccessToken>> {
        self.run(Mode::OneRead, |c| {
            at_once(tokens::access_token(c, token_hash))
        })
    }

    fn touch_access_token(&self, token_hash: &str, now: i64) -> StoreResult<()> {
        self.run(Mode::OneWrite, |c| {
            at_once(tokens::touch(c, token_hash, now))
        })
    }

    fn refresh_token(&self, token_hash: &str) -> StoreResult<Option<RefreshToken>> {
        self.run(Mode::OneRead, |c| {
            at_once(tokens::refresh_token(c, token_hash))
        })
    }

    fn refresh(&self, refresh: &RefreshUse) -> StoreResult<Option<RefreshToken>> {
        if let Some(event) = &refresh.event {
            // One statement (one round trip instead of six); see `tokens::refresh_with_event`.
            return self.run(Mode::OneWrite, |c| {
                at_once(tokens::refresh_with_event(c, refresh, event))
            });
        }
        self.write(|c| {
            facts_version::confirm(c, refresh.facts_version)?;
            tokens::refresh(c, refresh)
        })
    }

    fn revoke_by_hash(&self, token_hash: &str, now: i64) -> StoreResult<Revoked> {
        self.write(|c| tokens::revoke_by_hash(c, token_hash, now))
    }

    fn revoke_user_app_tokens(&self, user: &SfId, app: &SfId, now: i64) -> StoreResult<u64> {
        self.write(|c| tokens::revoke_user_app(c, user, app, now))
    }

    fn record_event(&self, event: &LoginEvent) -> StoreResult<()> {
        // One insert of a new row: its own transaction.
        self.run(Mode::OneWrite, |c| at_once(events::record(c, event)))
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
        self.write(|c| tokens::purge(c, now))
    }

    /// Round trips, in fact (`round_trips`): each statement, each preparation, each `BEGIN` and `COMMIT`.
    fn statements_executed(&self) -> Option<u64> {
        Some(self.trips.total())
    }

    // The grants' one-statement writes and reads, awaited on the request's thread (`nonblocking`).

    fn issue_tokens_async(&self, issue: IssueTokens) -> Result<Pending<()>, Box<IssueTokens>> {
        let pool = Arc::clone(&self.nonblocking);
        Ok(Box::pin(async move {
            let issue = &issue;
            run_nonblocking(&pool, Mode::OneWrite, move |mut c| async move {
                tokens::issue_with_event(&mut *c, issue).await
            })
            .await?;
            enforce_refresh_cap_nonblocking(&pool, tokens::CapCheck::after(issue)).await;
            Ok(())
        }))
    }

    /// The exchange's `SERIALIZABLE` transaction on a non-blocking connection, retried as `Store::exchange_code`
    /// retries it; the cap on refresh tokens after its commit, as there.
    fn exchange_code_async(
        &self,
        code_hash: &str,
        now: i64,
        facts_version: Option<i64>,
        judge: &CodeJudge,
    ) -> Option<Pending<Exchange>> {
        let pool = Arc::clone(&self.nonblocking);
        let (code_hash, judge) = (code_hash.to_owned(), Arc::clone(judge));
        Some(Box::pin(async move {
            let (code_hash, judge) = (code_hash.as_str(), &judge);
            let (exchange, cap) = run_nonblocking(&pool, Mode::Write, move |mut c| async move {
                let mut tx = c.serializable().await?;
                let mut steps = InOneWrite::on(&mut tx);
                let exchange =
                    code_exchange::run(&mut steps, code_hash, now, facts_version, judge).await?;
                let cap = steps.cap;
                tx.commit().await?;
                Ok((exchange, cap))
            })
            .await?;
            enforce_refresh_cap_nonblocking(&pool, cap).await;
            Ok(exchange)
        }))
    }

    fn refresh_token_async(&self, token_hash: &str) -> Option<Pending<Option<RefreshToken>>> {
        let pool = Arc::clone(&self.nonblocking);
        let token_hash = token_hash.to_owned();
        Some(Box::pin(async move {
            let token_hash = token_hash.as_str();
            run_nonblocking(&pool, Mode::OneRead, move |mut c| async move {
                tokens::refresh_token(&mut *c, token_hash).await
            })
            .await
        }))
    }

    fn session_async(&self, token_hash: &str) -> Option<Pending<Option<StoredSession>>> {
        let pool = Arc::clone(&self.nonblocking);
        let token_hash = token_hash.to_owned();
        Some(Box::pin(async move {
            session_nonblocking(&pool, &token_hash).await
        }))
    }

    /// The session read, then its row recorded: two statements, as `AppState::session_recorded` would run them,
    /// but without leaving the request's thread.
    fn session_recorded_async(
        &self,
        token_hash: &str,
        judge: SessionJudge,
    ) -> Result<Pending<(Option<StoredSession>, bool)>, SessionJudge> {
        let pool = Arc::clone(&self.nonblocking);
        let token_hash = token_hash.to_owned();
        Ok(Box::pin(async move {
            let session = session_nonblocking(&pool, &token_hash).await?;
            let Some(event) = judge(session.as_ref()) else {
                return Ok((session, false));
            };
            record_event_nonblocking(&pool, &event).await?;
            Ok((session, true))
        }))
    }

    fn record_event_async(&self, event: &LoginEvent) -> Option<Pending<()>> {
        let pool = Arc::clone(&self.nonblocking);
        let event = event.clone();
        Some(Box::pin(async move {
            record_event_nonblocking(&pool, &event).await
        }))
    }

    /// Only a refresh with its login-history row is one statement (`Store::refresh`); one without takes a
    /// transaction, on the blocking pool.
    fn refresh_async(&self, refresh: &RefreshUse) -> Option<Pending<Option<RefreshToken>>> {
        refresh.event.as_ref()?;
        let pool = Arc::clone(&self.nonblocking);
        let mut refresh = refresh.clone();
        // The event goes to the statement apart from the use (`tokens::refresh_with_event`): moved, not copied.
        let event = refresh.event.take()?;
        Some(Box::pin(async move {
            let (refresh, event) = (&refresh, &event);
            run_nonblocking(&pool, Mode::OneWrite, move |mut c| async move {
                tokens::refresh_with_event(&mut *c, refresh, event).await
            })
            .await
        }))
    }

    fn facts_version_async(&self) -> Option<Pending<i64>> {
        let pool = Arc::clone(&self.nonblocking);
        Some(Box::pin(async move {
            run_nonblocking(&pool, Mode::OneRead, |mut c| async move {
                facts_version::load(&mut *c).await
            })
            .await
        }))
    }

    fn touch_access_token_async(&self, token_hash: &str, now: i64) -> Option<Pending<()>> {
        let pool = Arc::clone(&self.nonblocking);
        let token_hash = token_hash.to_owned();
        Some(Box::pin(async move {
            let token_hash = token_hash.as_str();
            run_nonblocking(&pool, Mode::OneWrite, move |mut c| async move {
                tokens::touch(&mut *c, token_hash, now).await
            })
            .await
        }))
    }
}
