//! What every request handler shares: the store, the keys, the clock and the server's configuration.

use std::sync::Arc;

use sfr_wire::SfId;

use crate::clock::Clock;
use crate::keys::Keys;
use crate::model::{
    CodeJudge, Exchange, GrantFacts, GrantLookup, IssueTokens, LoginEvent, RefreshToken,
    RefreshUse, SessionJudge, SigningKey, StoredSession,
};
use crate::oauth::certificates::Certificates;
use crate::store::{Store, StoreError, StoreResult};

/// Server configuration fixed at start-up.
#[derive(Debug, Clone)]
pub struct OrgConfig {
    /// Public base URL without a trailing slash, e.g. `http://localhost:8901`: `instance_url`, the identity URL
    /// host and the issuer.
    pub base_url: String,
    /// The org id (fixed for the life of a database).
    pub org_id: SfId,
    /// Extra JWT audiences accepted besides the base URL (with or without trailing slash); by default
    /// `https://login.salesforce.com` and `https://test.salesforce.com`.
    pub extra_audiences: Vec<String>,
}

impl OrgConfig {
    pub fn new(base_url: &str, org_id: SfId) -> Self {
        Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            org_id,
            extra_audiences: vec![
                "https://login.salesforce.com".to_owned(),
                "https://test.salesforce.com".to_owned(),
            ],
        }
    }

    /// `<base>/id/<org>/<user>`.
    pub fn identity_url(&self, user_id: &SfId) -> String {
        // Once per grant: joined without `format!`'s machinery.
        [
            self.base_url.as_str(),
            "/id/",
            self.org_id.as_str(),
            "/",
            user_id.as_str(),
        ]
        .concat()
    }
}

/// Shared state, cheap to clone: one reference count, however many parts it holds. axum clones it for every
/// route and middleware a request passes through, so a clone must be a single atomic increment (a struct of six
/// `Arc`s cost six, each on a cache line both cores write).
#[derive(Clone)]
pub struct AppState(Arc<SharedState>);

/// The parts of [`AppState`], reached through it by `Deref` (`state.store`, `state.keys`, ...).
pub struct SharedState {
    pub store: Arc<dyn Store>,
    pub keys: Arc<Keys>,
    pub config: Arc<OrgConfig>,
    pub clock: Arc<dyn Clock>,
    /// The ID-token signing key (loaded, or created, at start-up).
    pub signing_key: Arc<SigningKey>,
    /// Connected apps' certificates, parsed once each (JWT bearer).
    pub certificates: Arc<Certificates>,
}

impl AppState {
    pub fn new(parts: SharedState) -> Self {
        Self(Arc::new(parts))
    }
}

impl std::ops::Deref for AppState {
    type Target = SharedState;

    fn deref(&self) -> &SharedState {
        &self.0
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("config", &self.config)
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// Now, in ms since the epoch, from the state's clock.
    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Runs a store read on this async thread when the store's reads are local (SQLite), else on the blocking
    /// pool like `store_call`.
    pub async fn read<T, F>(&self, f: F) -> StoreResult<T>
    where
        F: FnOnce(&dyn Store) -> StoreResult<T> + Send + 'static,
        T: Send + 'static,
    {
        if self.store.reads_are_local() {
            f(self.store.as_ref())
        } else {
            self.store_call(f).await
        }
    }

    /// Stores a grant's tokens (and its login-history event), without blocking this thread when the store can.
    pub async fn issue_tokens(&self, issue: IssueTokens) -> StoreResult<()> {
        match self.store.issue_tokens_async(issue) {
            Ok(pending) => pending.await,
            Err(issue) => self.store_call(move |s| s.issue_tokens(&issue)).await,
        }
    }

    /// `Store::exchange_code`, without blocking this thread when the store can.
    pub async fn exchange_code(
        &self,
        code_hash: String,
        now: i64,
        facts_version: Option<i64>,
        judge: CodeJudge,
    ) -> StoreResult<Exchange> {
        match self
            .store
            .exchange_code_async(&code_hash, now, facts_version, &judge)
        {
            Some(pending) => pending.await,
            None => {
                self.store_call(move |s| s.exchange_code(&code_hash, now, facts_version, &judge))
                    .await
            }
        }
    }

    /// `Store::refresh`, without blocking this thread when the store can.
    pub async fn refresh(&self, refresh: RefreshUse) -> StoreResult<Option<RefreshToken>> {
        match self.store.refresh_async(&refresh) {
            Some(pending) => pending.await,
            None => self.store_call(move |s| s.refresh(&refresh)).await,
        }
    }

    /// A bearer token's session and its user (`Store::session_async`), without blocking this thread when the
    /// store can.
    pub async fn session(&self, token_hash: String) -> StoreResult<Option<StoredSession>> {
        if let Some(pending) = self.store.session_async(&token_hash) {
            return pending.await;
        }
        let Some(token) = self.read(move |s| s.access_token(&token_hash)).await? else {
            return Ok(None);
        };
        let user_id = token.user_id.clone();
        let user = self.read(move |s| s.user_by_id(&user_id)).await?;
        Ok(Some(StoredSession { token, user }))
    }

    /// A bearer token's session and the login-history row `judge` makes of it, in one trip when the store can
    /// (`Store::session_recorded_async`), else read and then recorded. Answers the session and whether a row was
    /// recorded.
    pub async fn session_recorded(
        &self,
        token_hash: String,
        judge: SessionJudge,
    ) -> StoreResult<(Option<StoredSession>, bool)> {
        let judge = match self.store.session_recorded_async(&token_hash, judge) {
            Ok(pending) => return pending.await,
            Err(judge) => judge,
        };
        let session = self.session(token_hash).await?;
        let Some(event) = judge(session.as_ref()) else {
            return Ok((session, false));
        };
        self.record_event(event).await?;
        Ok((session, true))
    }

    /// `Store::grant_facts`, without blocking this thread when the store can: facts cached at the counter's
    /// current value are the answer, confirmed by one non-blocking read of the counter
    /// (`Store::facts_version_async`); anything else reads them the blocking way.
    pub async fn grant_facts(&self, lookup: GrantLookup) -> StoreResult<GrantFacts> {
        // The counter's future first: a store without one (SQLite) skips the copy of the cached facts.
        if let Some(current) = self.store.facts_version_async()
            && let Some((cached_at, facts)) = self.store.cached_grant_facts(&lookup)
            && current.await? == cached_at
        {
            return Ok(facts);
        }
        self.read(move |s| s.grant_facts(&lookup)).await
    }

    /// `Store::facts_version`, without blocking this thread when the store can.
    pub async fn facts_version(&self) -> StoreResult<i64> {
        match self.store.facts_version_async() {
            Some(pending) => pending.await,
            None => self.read(|s| s.facts_version()).await,
        }
    }

    /// `Store::refresh_token` for a refresh grant, without blocking this thread when the store can.
    pub async fn refresh_token(&self, token_hash: String) -> StoreResult<Option<RefreshToken>> {
        match self.store.refresh_token_async(&token_hash) {
            Some(pending) => pending.await,
            None => self.read(move |s| s.refresh_token(&token_hash)).await,
        }
    }

    /// `Store::record_event`, without blocking this thread when the store can.
    pub async fn record_event(&self, event: LoginEvent) -> StoreResult<()> {
        match self.store.record_event_async(&event) {
            Some(pending) => pending.await,
            None => self.store_call(move |s| s.record_event(&event)).await,
        }
    }

    /// `Store::touch_access_token`, without blocking this thread when the store can.
    pub async fn touch_access_token(&self, token_hash: String, now: i64) -> StoreResult<()> {
        match self.store.touch_access_token_async(&token_hash, now) {
            Some(pending) => pending.await,
            None => {
                self.store_call(move |s| s.touch_access_token(&token_hash, now))
                    .await
            }
        }
    }

    /// Runs a store use case on the blocking pool: `state.store_call(move |s| s.revoke_by_hash(&hash, now)).await`.
    pub async fn store_call<T, F>(&self, f: F) -> StoreResult<T>
    where
        F: FnOnce(&dyn Store) -> StoreResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let store = Arc::clone(&self.store);
        tokio::task::spawn_blocking(move || f(store.as_ref()))
            .await
            .map_err(|e| StoreError::Internal(format!("store task failed: {e}")))?
    }
}
