//! The storage suite: every test is a function over `&dyn Store`, so another implementation (PostgreSQL) can run
//! the very same checks. Here they run against a real SQLite file in a temp dir.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier};

use sfr_org::keys::{self, Keys};
use sfr_org::model::{
    AppUpdate, AuthCode, CODE_LIFETIME_MS, CodeJudge, ConsumerSecret, Exchange, GrantFacts,
    GrantLookup, GrantUser, IssueTokens, LockState, LoginEvent, LoginKind,
    MAX_SESSION_TIMEOUT_MINUTES, MAX_SESSION_TIMEOUT_MS, NewAccessToken, NewApp, NewRefreshToken,
    NewUser, OrgSettingsUpdate, Redeemed, RefreshPolicy, RefreshUse, Revoked, Scope, SigningKey,
    User,
};
use sfr_org::store::{
    self, Bootstrap, DatabaseUrl, MissingStep, REVOKED_REFRESH_RETENTION_MS, Store, StoreError,
};
use sfr_wire::SfId;

use crate::rate_counters::{
    concurrent_rate_flushes_add_up, expired_rate_counters_are_deleted, rate_counts_add_up,
};

pub(crate) const T0: i64 = 1_800_000_000_000;
pub(crate) const MINUTE: i64 = 60_000;

// ---------------------------------------------------------------- harness

pub(crate) struct Sqlite {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) keys: Arc<Keys>,
}

impl Sqlite {
    pub(crate) fn path(&self) -> PathBuf {
        self.dir.path().join("org.sqlite")
    }

    /// The database file and its WAL, as raw bytes.
    fn raw_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for suffix in ["", "-wal"] {
            let mut p = self.path().into_os_string();
            p.push(suffix);
            if let Ok(bytes) = std::fs::read(Path::new(&p)) {
                out.extend(bytes);
            }
        }
        out
    }
}

pub(crate) fn signing_key() -> SigningKey {
    keys::generate_signing_key(T0).expect("signing key")
}

pub(crate) fn bootstrap_init() -> Bootstrap {
    Bootstrap {
        org_name: "Suite Org".into(),
        admin: new_user("admin@suite.example", "System Administrator"),
        platform_cli: NewApp::platform_cli(T0),
        signing_key: signing_key(),
        now: T0,
    }
}

/// A fresh, bootstrapped SQLite store.
pub(crate) fn sqlite() -> Sqlite {
    let dir = tempfile::tempdir().expect("temp dir");
    let keys = Arc::new(Keys::ephemeral());
    let url = DatabaseUrl::Sqlite(dir.path().join("org.sqlite"));
    let store = store::open(&url, Arc::clone(&keys)).expect("open");
    assert!(store.bootstrap(&bootstrap_init()).expect("bootstrap"));
    Sqlite { dir, store, keys }
}

pub(crate) fn new_user(username: &str, profile: &str) -> NewUser {
    NewUser {
        username: username.into(),
        email: username.into(),
        first_name: Some("Test".into()),
        last_name: "User".into(),
        // A real hash is slow to make; the store treats it as opaque text.
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        profile: profile.into(),
        permission_sets: Vec::new(),
        created_at: T0,
    }
}

fn allow_apps(store: &dyn Store) {
    store
        .update_org(&OrgSettingsUpdate {
            connected_apps_permission: Some(true),
            allow_connected_app_creation: Some(true),
            ..Default::default()
        })
        .expect("settings");
}

fn web_app(name: &str) -> NewApp {
    NewApp::new(
        name,
        "owner@example.com",
        vec!["http://localhost:1717/OauthRedirect".into()],
        vec![Scope::Api, Scope::Web, Scope::RefreshToken],
        T0,
    )
}

/// A user and an app to hang tokens on.
pub(crate) fn user_and_app(store: &dyn Store) -> (User, SfId) {
    allow_apps(store);
    let user = store
        .create_user(&new_user("tokens@suite.example", "Standard User"))
        .expect("user");
    let (app, _) = store.create_app(&web_app("Token App")).expect("app");
    (user, app.id)
}

pub(crate) fn access(user: &User, app: &SfId, plaintext: &str, at: i64) -> NewAccessToken {
    NewAccessToken {
        token_hash: keys::token_key(plaintext),
        app_id: app.clone(),
        user_id: user.id.clone(),
        scopes: vec![Scope::Api, Scope::RefreshToken],
        issued_at: at,
        session_timeout_ms: 120 * MINUTE,
    }
}

pub(crate) fn refresh(user: &User, app: &SfId, plaintext: &str, at: i64) -> NewRefreshToken {
    NewRefreshToken {
        token_hash: keys::token_key(plaintext),
        app_id: app.clone(),
        user_id: user.id.clone(),
        scopes: vec![Scope::Api, Scope::RefreshToken],
        issued_at: at,
    }
}

/// A runtime on the calling thread, for a suite case that awaits a store's non-blocking calls.
fn current_thread_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// A grant's tokens alone: from no code, with no login-history row and no facts to confirm.
pub(crate) fn tokens_only(access: NewAccessToken, refresh: Option<NewRefreshToken>) -> IssueTokens {
    IssueTokens {
        access,
        refresh,
        from_code: None,
        event: None,
        facts_version: None,
    }
}

pub(crate) fn code(user: &User, app: &SfId, plaintext: &str, at: i64) -> AuthCode {
    AuthCode {
        code_hash: keys::token_key(plaintext),
        app_id: app.clone(),
        user_id: user.id.clone(),
        redirect_uri: "http://localhost:1717/OauthRedirect".into(),
        scopes: vec![Scope::Api, Scope::RefreshToken],
        code_challenge: Some("challenge".into()),
        code_challenge_method: Some("S256".into()),
        nonce: None,
        created_at: at,
        expires_at: at + CODE_LIFETIME_MS,
        used_at: None,
    }
}

pub(crate) fn alive(store: &dyn Store, plaintext: &str, now: i64) -> bool {
    store
        .access_token(&keys::token_key(plaintext))
        .expect("read")
        .is_some_and(|t| t.is_alive(now))
}

pub(crate) fn refresh_live(store: &dyn Store, plaintext: &str) -> bool {
    store
        .refresh_token(&keys::token_key(plaintext))
        .expect("read")
        .is_some_and(|t| t.revoked_at.is_none())
}

/// A successful token grant's login-history row for `user`, at `at`, with `reason`.
pub(crate) fn token_event(user: &User, at: i64, reason: &str) -> LoginEvent {
    LoginEvent {
        at,
        username: None,
        user_id: Some(user.id.clone()),
        consumer_key: None,
        kind: LoginKind::Token("client_credentials".into()),
        success: true,
        error_code: None,
        reason: reason.into(),
        source_ip: None,
    }
}

// ---------------------------------------------------------------- the suite (implementation-neutral)

pub fn bootstrap_creates_the_org_once(store: &dyn Store) {
    let org = store.org().unwrap();
    assert_eq!(org.id.prefix(), "00D");
    assert!(org.dev_hub);
    assert!(!org.connected_apps_permission && !org.allow_connected_app_creation);
    assert_eq!(org.session_timeout_minutes, 120);
    assert_eq!(org.lockout_threshold, 5);
    assert!(
        !store.bootstrap(&bootstrap_init()).unwrap(),
        "second bootstrap is a no-op"
    );
    assert_eq!(store.org().unwrap().id, org.id);
    let profiles: Vec<_> = store
        .list_profiles()
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(profiles, ["Standard User", "System Administrator"]);
    let cli = store
        .app_by_consumer_key("PlatformCLI")
        .unwrap()
        .expect("PlatformCLI");
    assert!(cli.built_in && cli.require_pkce && !cli.require_secret_web);
    assert!(cli.allows_callback("http://localhost:1717/OauthRedirect"));
    assert!(store.signing_key().unwrap().is_some());
}

pub fn users_are_created_and_found(store: &dyn Store) {
    let mut nu = new_user("Jane.Doe@Example.com", "standard user");
    nu.first_name = Some("Jane".into());
    nu.last_name = "Doe".into();
    let user = store.create_user(&nu).unwrap();
    assert_eq!(user.id.prefix(), "005");
    assert_eq!(user.username, "Jane.Doe@Example.com");
    assert_eq!(user.profile.name, "Standard User");
    assert_eq!(user.display_name(), "Jane Doe");
    assert!(user.active);
    let found = store
        .user_by_username("jane.doe@example.com")
        .unwrap()
        .expect("case-insensitive");
    assert_eq!(found.id, user.id);
    let by_id = store.user_by_id(&user.id).unwrap().expect("by id");
    assert_eq!(by_id.username, user.username);
    let by_15 = SfId::parse(user.id.to_15()).unwrap();
    assert_eq!(
        store.user_by_id(&by_15).unwrap().map(|u| u.id),
        Some(user.id.clone())
    );
    assert!(
        store
            .user_by_username("nobody@example.com")
            .unwrap()
            .is_none()
    );
    assert!(store.list_users().unwrap().iter().any(|u| u.id == user.id));

    assert_eq!(
        store.create_user(&new_user("JANE.DOE@example.com", "Standard User")),
        Err(StoreError::DuplicateUsername("JANE.DOE@example.com".into()))
    );
    match store.create_user(&new_user("x@example.com", "Boss")) {
        Err(StoreError::UnknownProfile { name, known }) => {
            assert_eq!(name, "Boss");
            assert_eq!(known, ["Standard User", "System Administrator"]);
        }
        other => panic!("expected UnknownProfile, got {other:?}"),
    }
    let mut with_ps = new_user("y@example.com", "Standard User");
    with_ps.permission_sets = vec!["Nope".into()];
    assert!(matches!(
        store.create_user(&with_ps),
        Err(StoreError::UnknownPermissionSet { name, .. }) if name == "Nope"
    ));
    assert!(
        store.user_by_username("y@example.com").unwrap().is_none(),
        "nothing half-made"
    );
    assert!(matches!(
        store.create_user(&new_user("no-dot@localhost", "Standard User")),
        Err(StoreError::Invalid {
            field: "username",
            ..
        })
    ));

    let ps = store
        .create_permission_set("JWT_Access", "JWT access", T0)
        .unwrap();
    assert_eq!(ps.id.prefix(), "0PS");
    assert_eq!(
        store.create_permission_set("jwt_access", "", T0),
        Err(StoreError::DuplicatePermissionSet("jwt_access".into()))
    );
    let user = store.assign_permission_set(&user.id, "JWT_Access").unwrap();
    assert!(user.has_permission_set("JWT_Access"));
    let user = store.assign_permission_set(&user.id, "JWT_Access").unwrap();
    assert_eq!(
        user.permission_sets.len(),
        1,
        "assigning twice is idempotent"
    );
    assert_eq!(
        store
            .permission_set_by_name("jwt_access")
            .unwrap()
            .map(|p| p.id),
        Some(ps.id.clone())
    );
    // A user's permission sets come with the user, in name order, whichever way the user is read.
    let api = store
        .create_permission_set("Api_Access", "API access", T0)
        .unwrap();
    store.assign_permission_set(&user.id, "Api_Access").unwrap();
    let expected = vec![api, ps];
    let by_id = store.user_by_id(&user.id).unwrap().unwrap();
    assert_eq!(by_id.permission_sets, expected);
    let by_name = store.user_by_username(&user.username).unwrap().unwrap();
    assert_eq!(by_name.permission_sets, expected);
    let listed = store.list_users().unwrap();
    let in_list = listed.iter().find(|u| u.id == user.id).unwrap();
    assert_eq!(in_list.permission_sets, expected);
    assert!(
        listed
            .iter()
            .filter(|u| u.id != user.id)
            .all(|u| u.permission_sets.is_empty()),
        "no other user shares them"
    );
}

pub fn failed_logins_lock_and_success_resets(store: &dyn Store) {
    let user = store
        .create_user(&new_user("lock@example.com", "Standard User"))
        .unwrap();
    for n in 1..=4 {
        assert_eq!(
            store.record_failed_login(&user.id, T0).unwrap(),
            LockState::Open {
                failures: n,
                remaining: 5 - n
            }
        );
    }
    store.record_successful_login(&user.id, T0).unwrap();
    let user = store.user_by_id(&user.id).unwrap().unwrap();
    assert_eq!(user.failed_logins, 0);
    assert_eq!(user.last_login_at, Some(T0));
    for _ in 1..=4 {
        store.record_failed_login(&user.id, T0).unwrap();
    }
    let until = T0 + 15 * MINUTE;
    assert_eq!(
        store.record_failed_login(&user.id, T0).unwrap(),
        LockState::Locked { until }
    );
    let locked = store.user_by_id(&user.id).unwrap().unwrap();
    assert!(locked.is_locked(until - 1));
    assert!(!locked.is_locked(until));
    // Activation clears the lockout.
    let user = store.set_user_active(&user.id, true, T0).unwrap();
    assert!(!user.is_locked(T0));
}

pub fn app_creation_is_gated(store: &dyn Store) {
    assert_eq!(
        store.create_app(&web_app("Early")),
        Err(StoreError::AppCreationBlocked(
            MissingStep::SupportPermission
        ))
    );
    store
        .update_org(&OrgSettingsUpdate {
            connected_apps_permission: Some(true),
            ..Default::default()
        })
        .unwrap();
    let err = store.create_app(&web_app("Early")).unwrap_err();
    assert_eq!(
        err,
        StoreError::AppCreationBlocked(MissingStep::CreationSetting)
    );
    assert!(
        err.to_string()
            .contains("sfr-org setup allow-connected-app-creation")
    );
    allow_apps(store);
    let (app, secret) = store.create_app(&web_app("Early")).unwrap();
    assert_eq!(app.id.prefix(), "0H4");
    assert_eq!(app.api_name, "Early");
    assert!(app.consumer_key.starts_with("3MVG9"));
    assert_eq!(secret.len(), 64);
    assert!(app.require_secret_web && !app.require_pkce);
    assert!(matches!(
        store.create_app(&web_app("early")),
        Err(StoreError::DuplicateApp(_))
    ));

    let mut bad = web_app("Bad Profile");
    bad.profiles = vec!["Boss".into()];
    assert!(matches!(
        store.create_app(&bad),
        Err(StoreError::UnknownProfile { .. })
    ));
    assert!(
        store.app_by_name("Bad Profile").unwrap().is_none(),
        "nothing half-made"
    );
    let mut bad = web_app("Bad Cert");
    bad.certificate_pem =
        Some("-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n".into());
    assert!(matches!(
        store.create_app(&bad),
        Err(StoreError::Invalid {
            field: "certificate",
            ..
        })
    ));
    let mut bad = web_app("Bad Callback");
    bad.callback_urls = vec!["not a url".into()];
    assert!(matches!(
        store.create_app(&bad),
        Err(StoreError::Invalid {
            field: "callback URL",
            ..
        })
    ));
    let mut bad = web_app("Bad Run As");
    bad.client_credentials_username = Some("ghost@example.com".into());
    assert!(matches!(
        store.create_app(&bad),
        Err(StoreError::UnknownUser { username, known }) if username == "ghost@example.com" && !known.is_empty()
    ));
}

pub fn apps_update_and_preauthorize(store: &dyn Store) {
    allow_apps(store);
    store.create_permission_set("Api_Users", "", T0).unwrap();
    let runner = store
        .create_user(&new_user("runner@example.com", "Standard User"))
        .unwrap();
    let mut app = web_app("Policy App");
    app.permitted_users = sfr_org::model::PermittedUsers::AdminApproved;
    app.profiles = vec!["System Administrator".into()];
    app.permission_sets = vec!["Api_Users".into()];
    app.client_credentials_username = Some("runner@example.com".into());
    app.refresh_policy = RefreshPolicy::parse("expire-after:90d").unwrap();
    app.session_timeout_minutes = Some(15);
    let (created, _) = store.create_app(&app).unwrap();
    assert_eq!(created.profiles, ["System Administrator"]);
    assert_eq!(created.permission_sets, ["Api_Users"]);
    assert_eq!(created.client_credentials_user, Some(runner.id.clone()));
    assert!(created.pre_authorizes("System Administrator", &[]));
    assert!(created.pre_authorizes("Standard User", &["Api_Users"]));
    assert!(!created.pre_authorizes("Standard User", &[]));
    assert_eq!(created.session_timeout_ms(120), 15 * MINUTE);

    let updated = store
        .update_app(
            "policy_app",
            &sfr_org::model::AppUpdate {
                profiles: Some(vec![]),
                require_pkce: Some(true),
                introspect_all_tokens: Some(true),
                session_timeout_minutes: Some(None),
                client_credentials_username: Some(None),
                callback_urls: Some(vec!["https://example.com/cb".into()]),
                updated_at: T0 + 1,
                ..Default::default()
            },
        )
        .unwrap();
    assert!(updated.profiles.is_empty());
    assert_eq!(updated.permission_sets, ["Api_Users"], "untouched");
    assert!(updated.require_pkce);
    assert!(updated.introspect_all_tokens);
    assert_eq!(updated.session_timeout_minutes, None);
    assert_eq!(updated.client_credentials_user, None);
    assert!(updated.allows_callback("https://example.com/cb"));
    assert!(!updated.allows_callback("http://localhost:1717/OauthRedirect"));
    assert_eq!(updated.updated_at, T0 + 1);
    match store.update_app("Nope", &Default::default()) {
        Err(StoreError::UnknownApp { known, .. }) => {
            assert!(known.contains(&"Policy App".to_owned()))
        }
        other => panic!("expected UnknownApp, got {other:?}"),
    }
    assert_eq!(
        store.app_by_id(&created.id).unwrap().map(|a| a.name),
        Some("Policy App".into())
    );
    assert!(store.list_apps().unwrap().len() >= 2);
}

pub fn secrets_round_trip(store: &dyn Store) {
    allow_apps(store);
    let (app, secret) = store.create_app(&web_app("Secret App")).unwrap();
    assert_eq!(store.app_secret(&app.id).unwrap(), secret);
    let (other, other_secret) = store.create_app(&web_app("Other App")).unwrap();
    assert_ne!(secret, other_secret);
    assert_eq!(store.app_secret(&other.id).unwrap(), other_secret);
    let cli = store.app_by_consumer_key("PlatformCLI").unwrap().unwrap();
    assert_eq!(
        store.app_secret(&cli.id).unwrap().len(),
        64,
        "PlatformCLI has an internal secret"
    );
}

pub fn approvals_are_kept_per_user_and_app(store: &dyn Store) {
    let (user, app) = user_and_app(store);
    assert!(store.approval(&user.id, &app).unwrap().is_none());
    store.approve(&user.id, &app, &[Scope::Api], T0).unwrap();
    store
        .approve(&user.id, &app, &[Scope::Api, Scope::Web], T0 + 5)
        .unwrap();
    let a = store.approval(&user.id, &app).unwrap().expect("approval");
    assert_eq!(a.scopes, [Scope::Api, Scope::Web]);
    assert_eq!(a.approved_at, T0 + 5);
}

/// What `grant_facts` must answer: the same reads made one by one, uncached.
fn uncached_facts(store: &dyn Store, lookup: &GrantLookup) -> GrantFacts {
    let app = store.app_by_consumer_key(&lookup.consumer_key).unwrap();
    let user = match &lookup.user {
        GrantUser::Id(id) => store.user_by_id(id).unwrap(),
        other => panic!("this check looks users up by id, not {other:?}"),
    };
    GrantFacts {
        org: Arc::new(store.org().unwrap()),
        secret: app
            .as_ref()
            .map(|a| ConsumerSecret::new(store.app_secret(&a.id).unwrap())),
        approval: match (&user, &app) {
            (Some(u), Some(a)) => store.approval(&u.id, &a.id).unwrap(),
            _ => None,
        },
        app: app.map(Arc::new),
        user: user.map(Arc::new),
    }
}

/// Two stores on one database write users at the same time, 20 each; every write lands.
pub fn both_write(first: Arc<dyn Store>, second: Arc<dyn Store>) {
    let writers: Vec<_> = [Arc::clone(&first), second]
        .into_iter()
        .enumerate()
        .map(|(i, store)| {
            std::thread::spawn(move || {
                for n in 0..20 {
                    store
                        .create_user(&new_user(&format!("w{i}-{n}@example.com"), "Standard User"))
                        .unwrap();
                    store.org().unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.join().expect("writer finished");
    }
    assert_eq!(first.list_users().unwrap().len(), 41, "admin + 2 × 20");
}

/// One change to what a grant's facts are read from.
type Change<'a> = Box<dyn Fn() + 'a>;

/// Grants' facts are cached between changes (`facts_cache`): every kind of change to what they are read from,
/// made through `writer`, is in the very next `grant_facts` of `reader` — the same store, or another one on the
/// same database (an admin command, another node).
pub fn grant_facts_follow_changes(reader: &dyn Store, writer: &dyn Store) {
    let (user, app_id) = user_and_app(writer);
    let app = writer.app_by_id(&app_id).unwrap().unwrap();
    let lookup = GrantLookup {
        consumer_key: app.consumer_key.clone(),
        user: GrantUser::Id(user.id.clone()),
        secret: true,
        approval: true,
    };
    let mut seen = reader.grant_facts(&lookup).unwrap();
    assert_eq!(seen, uncached_facts(writer, &lookup));
    assert_eq!(reader.grant_facts(&lookup).unwrap(), seen, "read again");
    writer.create_permission_set("Facts_Set", "", T0).unwrap();
    let changes: Vec<(&str, Change<'_>)> = vec![
        (
            "user deactivated",
            Box::new(|| {
                writer.set_user_active(&user.id, false, T0 + 1).unwrap();
            }),
        ),
        (
            "failed login",
            Box::new(|| {
                writer.record_failed_login(&user.id, T0 + 2).unwrap();
            }),
        ),
        (
            "successful login",
            Box::new(|| {
                writer.record_successful_login(&user.id, T0 + 3).unwrap();
            }),
        ),
        (
            "permission set assigned",
            Box::new(|| {
                writer.assign_permission_set(&user.id, "Facts_Set").unwrap();
            }),
        ),
        (
            "profile changed",
            Box::new(|| {
                writer
                    .set_user_profile(&user.id, "System Administrator")
                    .unwrap();
            }),
        ),
        (
            "approval given",
            Box::new(|| {
                writer
                    .approve(&user.id, &app.id, &[Scope::Api], T0 + 4)
                    .unwrap();
            }),
        ),
        (
            "approval widened",
            Box::new(|| {
                writer
                    .approve(&user.id, &app.id, &[Scope::Api, Scope::Web], T0 + 5)
                    .unwrap();
            }),
        ),
        (
            "app policy",
            Box::new(|| {
                writer
                    .update_app(
                        &app.name,
                        &AppUpdate {
                            require_secret_refresh: Some(!app.require_secret_refresh),
                            permission_sets: Some(vec!["Facts_Set".into()]),
                            updated_at: T0 + 6,
                            ..Default::default()
                        },
                    )
                    .unwrap();
            }),
        ),
        (
            "app turned off",
            Box::new(|| {
                writer
                    .update_app(
                        &app.name,
                        &AppUpdate {
                            oauth_enabled: Some(false),
                            updated_at: T0 + 7,
                            ..Default::default()
                        },
                    )
                    .unwrap();
            }),
        ),
        (
            "org settings",
            Box::new(|| {
                writer
                    .update_org(&OrgSettingsUpdate {
                        session_timeout_minutes: Some(45),
                        ..Default::default()
                    })
                    .unwrap();
            }),
        ),
    ];
    for (what, change) in changes {
        change();
        let now = reader.grant_facts(&lookup).unwrap();
        assert_ne!(
            now, seen,
            "{what}: grant_facts still answers what it read before the change"
        );
        assert_eq!(now, uncached_facts(writer, &lookup), "{what}");
        seen = now;
    }
}

pub fn grant_facts_follow_every_change(store: &dyn Store) {
    grant_facts_follow_changes(store, store);
}

/// A grant decided on cached facts passes their `facts_version` with its write; after any change to what the
/// facts are read from, that write stores nothing and says so (`FactsChanged`), whichever write it is.
pub fn writes_on_outdated_facts_store_nothing(store: &dyn Store) {
    let (user, app) = user_and_app(store);
    let at = store.facts_version().unwrap();
    let issue = |a: &str, r: Option<&str>, version| IssueTokens {
        access: access(&user, &app, a, T0),
        refresh: r.map(|r| refresh(&user, &app, r, T0)),
        from_code: None,
        event: None,
        facts_version: Some(version),
    };
    store
        .issue_tokens(&issue("at-current", Some("rt-current"), at))
        .unwrap();
    assert!(
        alive(store, "at-current", T0 + 1),
        "a current version commits"
    );
    store.create_permission_set("Outdating", "", T0).unwrap();
    let now = store.facts_version().unwrap();
    assert_ne!(now, at, "every change moves the counter");
    assert!(matches!(
        store.issue_tokens(&issue("at-outdated", Some("rt-outdated"), at)),
        Err(StoreError::FactsChanged)
    ));
    assert!(
        store
            .access_token(&keys::token_key("at-outdated"))
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .refresh_token(&keys::token_key("rt-outdated"))
            .unwrap()
            .is_none()
    );
    // A session with its login-history row (client credentials, JWT bearer) on outdated facts: neither is stored.
    let before = store.events(100).unwrap().len();
    let with_event = IssueTokens {
        event: Some(LoginEvent {
            at: T0,
            username: None,
            user_id: Some(user.id.clone()),
            consumer_key: None,
            kind: LoginKind::Token("client_credentials".into()),
            success: true,
            error_code: None,
            reason: "outdated".into(),
            source_ip: None,
        }),
        ..issue("at-outdated-event", None, at)
    };
    assert!(matches!(
        store.issue_tokens(&with_event),
        Err(StoreError::FactsChanged)
    ));
    assert!(!alive(store, "at-outdated-event", T0 + 1));
    assert_eq!(store.events(100).unwrap().len(), before);
    let use_ = |a: &str, version| RefreshUse {
        refresh_hash: keys::token_key("rt-current"),
        now: T0 + MINUTE,
        new_access: access(&user, &app, a, T0 + MINUTE),
        event: Some(LoginEvent {
            at: T0 + MINUTE,
            username: None,
            user_id: Some(user.id.clone()),
            consumer_key: None,
            kind: LoginKind::Token("refresh_token".into()),
            success: true,
            error_code: None,
            reason: "outdated".into(),
            source_ip: None,
        }),
        facts_version: Some(version),
        mark_used: true,
    };
    let events = store.events(100).unwrap().len();
    assert!(matches!(
        store.refresh(&use_("at-refresh-outdated", at)),
        Err(StoreError::FactsChanged)
    ));
    assert!(
        store
            .access_token(&keys::token_key("at-refresh-outdated"))
            .unwrap()
            .is_none()
    );
    let token = store
        .refresh_token(&keys::token_key("rt-current"))
        .unwrap()
        .unwrap();
    assert_eq!(
        token.last_used_at, T0,
        "the refresh token's use was not stored"
    );
    assert_eq!(store.events(100).unwrap().len(), events, "nor its event");
    store
        .refresh(&use_("at-refresh-current", now))
        .unwrap()
        .expect("live token");
    assert!(alive(store, "at-refresh-current", T0 + MINUTE));
    store.issue_tokens(&issue("at-now", None, now)).unwrap();
    assert!(alive(store, "at-now", T0 + 1));
}

/// The calls a request awaits without blocking its thread (`Store::*_async`) store and answer what their blocking
/// counterparts do, facts guard included; a backend may leave one to the blocking pool (`None`), and then there is
/// nothing of its own to check.
pub fn non_blocking_calls_agree_with_blocking_ones(store: &dyn Store) {
    let runtime = current_thread_runtime();
    fn awaited<T>(
        runtime: &tokio::runtime::Runtime,
        pending: Option<store::Pending<T>>,
    ) -> Option<Result<T, StoreError>> {
        pending.map(|p| runtime.block_on(p))
    }
    let (user, app) = user_and_app(store);
    // Two permission sets, so that a session read with its user tells their columns apart.
    for (name, label) in [("Api_Users", "API users"), ("Beta", "Beta testers")] {
        store.create_permission_set(name, label, T0).unwrap();
        store.assign_permission_set(&user.id, name).unwrap();
    }
    let version = store.facts_version().unwrap();
    let hash = keys::token_key;
    let event = |reason: &str| token_event(&user, T0, reason);
    let issue = |a: &str, r: Option<&str>, version| IssueTokens {
        access: access(&user, &app, a, T0),
        refresh: r.map(|r| refresh(&user, &app, r, T0)),
        from_code: None,
        event: Some(event(a)),
        facts_version: Some(version),
    };
    let events = || store.events(1_000).unwrap();

    // Issuing: the tokens and the event, or nothing on outdated facts.
    if let Some(issued) = awaited(
        &runtime,
        store
            .issue_tokens_async(issue("at-nb", Some("rt-nb"), version))
            .ok(),
    ) {
        issued.unwrap();
        assert!(alive(store, "at-nb", T0 + 1) && refresh_live(store, "rt-nb"));
        assert_eq!(events()[0].reason, "at-nb");
        let outdated = awaited(
            &runtime,
            store
                .issue_tokens_async(issue("at-stale", None, version - 1))
                .ok(),
        );
        assert!(
            matches!(outdated, Some(Err(StoreError::FactsChanged))),
            "{outdated:?}"
        );
        assert!(store.access_token(&hash("at-stale")).unwrap().is_none());
        assert_ne!(events()[0].reason, "at-stale", "nor its event");
    } else {
        store
            .issue_tokens(&issue("at-nb", Some("rt-nb"), version))
            .unwrap();
    }

    // Reading a bearer token's session with its user, and a refresh token.
    if let Some(session) = awaited(&runtime, store.session_async(&hash("at-nb"))) {
        let session = session.unwrap().expect("a session");
        assert_eq!(
            Some(session.token),
            store.access_token(&hash("at-nb")).unwrap()
        );
        let with_sets = store.user_by_id(&user.id).unwrap();
        assert_eq!(with_sets.as_ref().map(|u| u.permission_sets.len()), Some(2));
        assert_eq!(session.user, with_sets);
        assert!(
            awaited(&runtime, store.session_async(&hash("at-none")))
                .unwrap()
                .unwrap()
                .is_none()
        );
    }
    if let Some(read) = awaited(&runtime, store.refresh_token_async(&hash("rt-nb"))) {
        assert_eq!(read.unwrap(), store.refresh_token(&hash("rt-nb")).unwrap());
        assert!(
            awaited(&runtime, store.refresh_token_async(&hash("rt-none")))
                .unwrap()
                .unwrap()
                .is_none()
        );
    }

    // A judged session read records the row its judge answers, and only then.
    let judged = |answer: Option<LoginEvent>| -> sfr_org::model::SessionJudge {
        Box::new(move |found| found.and(answer))
    };
    if let Ok(pending) = store.session_recorded_async(&hash("at-nb"), judged(Some(event("judged"))))
    {
        let (session, recorded) = runtime.block_on(pending).unwrap();
        assert!(session.is_some() && recorded);
        assert_eq!(events()[0].reason, "judged");
        let before = events().len();
        let pending = store.session_recorded_async(&hash("at-nb"), judged(None));
        let (session, recorded) = runtime.block_on(pending.ok().unwrap()).unwrap();
        assert!(session.is_some() && !recorded);
        assert_eq!(events().len(), before);
    }

    // Touching a session (before its refresh token is revoked below, which ends it).
    if let Some(touched) = awaited(
        &runtime,
        store.touch_access_token_async(&hash("at-nb"), T0 + 100 * MINUTE),
    ) {
        touched.unwrap();
        let token = store.access_token(&hash("at-nb")).unwrap().unwrap();
        assert_eq!(token.last_used_at, T0 + 100 * MINUTE);
    }
    // Using the refresh token: a session and its event when live, nothing on outdated facts or once revoked.
    let use_ = |a: &str, version| RefreshUse {
        refresh_hash: hash("rt-nb"),
        now: T0 + MINUTE,
        new_access: access(&user, &app, a, T0 + MINUTE),
        event: Some(event(a)),
        facts_version: Some(version),
        mark_used: true,
    };
    if let Some(used) = awaited(
        &runtime,
        store.refresh_async(&use_("at-nb-refreshed", version)),
    ) {
        let token = used.unwrap().expect("a live token");
        assert_eq!(
            (token.token_hash.as_str(), token.last_used_at),
            (hash("rt-nb").as_str(), T0 + MINUTE)
        );
        assert!(alive(store, "at-nb-refreshed", T0 + MINUTE));
        assert_eq!(events()[0].reason, "at-nb-refreshed");
        let outdated = awaited(
            &runtime,
            store.refresh_async(&use_("at-nb-stale", version - 1)),
        );
        assert!(
            matches!(outdated, Some(Err(StoreError::FactsChanged))),
            "{outdated:?}"
        );
        assert!(store.access_token(&hash("at-nb-stale")).unwrap().is_none());
        store
            .revoke_by_hash(&hash("rt-nb"), T0 + 2 * MINUTE)
            .unwrap();
        let revoked = awaited(
            &runtime,
            store.refresh_async(&use_("at-nb-revoked", version)),
        );
        assert!(matches!(revoked, Some(Ok(None))), "{revoked:?}");
        assert!(
            store
                .access_token(&hash("at-nb-revoked"))
                .unwrap()
                .is_none()
        );
    }

    // Recording an event.
    if let Some(recorded) = awaited(&runtime, store.record_event_async(&event("recorded"))) {
        recorded.unwrap();
        assert_eq!(events()[0].reason, "recorded");
    }
    // Exchanging a code: tokens for the fresh claim (and its user), none on outdated facts (the code unspent) or
    // for a replay, which revokes what the code issued.
    store
        .insert_code(&code(&user, &app, "code-nb", T0))
        .unwrap();
    let code_hash = hash("code-nb");
    let judge = issuing(IssueTokens {
        access: access(&user, &app, "at-from-code", T0 + 1),
        refresh: Some(refresh(&user, &app, "rt-from-code", T0 + 1)),
        from_code: Some(code_hash.clone()),
        event: Some(event("exchanged")),
        facts_version: None,
    });
    let exchange = |version| store.exchange_code_async(&code_hash, T0 + 1, Some(version), &judge);
    if let Some(outdated) = awaited(&runtime, exchange(version - 1)) {
        assert!(
            matches!(outdated, Err(StoreError::FactsChanged)),
            "{outdated:?}"
        );
        assert_eq!(store.auth_code(&code_hash).unwrap().unwrap().used_at, None);
        let fresh = awaited(&runtime, exchange(version)).unwrap().unwrap();
        assert!(
            matches!(fresh.redeemed, Redeemed::Fresh(_)) && fresh.issued,
            "{fresh:?}"
        );
        // The whole user, as read alone (its permission sets too).
        assert_eq!(fresh.user, store.user_by_id(&user.id).unwrap());
        assert!(alive(store, "at-from-code", T0 + 2) && refresh_live(store, "rt-from-code"));
        assert_eq!(events()[0].reason, "exchanged");
        let replay = awaited(&runtime, exchange(version)).unwrap().unwrap();
        assert!(
            matches!(replay.redeemed, Redeemed::Replayed(_)) && !replay.issued,
            "{replay:?}"
        );
        assert!(!alive(store, "at-from-code", T0 + 2) && !refresh_live(store, "rt-from-code"));
    }

    // Reading the facts' counter (last: it moves the counter).
    if let Some(read) = awaited(&runtime, store.facts_version_async()) {
        assert_eq!(read.unwrap(), store.facts_version().unwrap());
        store
            .create_permission_set("Moves_The_Counter", "", T0)
            .unwrap();
        let moved = awaited(&runtime, store.facts_version_async())
            .unwrap()
            .unwrap();
        assert_ne!(moved, version);
        assert_eq!(moved, store.facts_version().unwrap());
    }
}

pub fn codes_redeem_exactly_once(store: &dyn Store) {
    let (user, app) = user_and_app(store);
    store.insert_code(&code(&user, &app, "code-1", T0)).unwrap();
    match store
        .redeem_code(&keys::hash_token("code-1"), T0 + 1)
        .unwrap()
    {
        Redeemed::Fresh(c) => {
            assert_eq!(c.user_id, user.id);
            assert_eq!(c.code_challenge.as_deref(), Some("challenge"));
            assert_eq!(c.used_at, Some(T0 + 1));
        }
        other => panic!("expected Fresh, got {other:?}"),
    }
    assert!(matches!(
        store
            .redeem_code(&keys::hash_token("code-1"), T0 + 2)
            .unwrap(),
        Redeemed::Replayed(_)
    ));
    assert_eq!(
        store.redeem_code(&keys::hash_token("nope"), T0).unwrap(),
        Redeemed::Unknown
    );

    store
        .insert_code(&code(&user, &app, "code-late", T0))
        .unwrap();
    assert!(matches!(
        store
            .redeem_code(&keys::hash_token("code-late"), T0 + CODE_LIFETIME_MS)
            .unwrap(),
        Redeemed::Expired(_)
    ));
    assert!(matches!(
        store
            .redeem_code(&keys::hash_token("code-late"), T0 + CODE_LIFETIME_MS)
            .unwrap(),
        Redeemed::Replayed(_)
    ));
}

/// Many threads redeem the same code at once: exactly one wins.
/// Code exchanges awaited at once on the request threads of a runtime (`Store::exchange_code_async`): one claims
/// the code and issues, the others see a replay (and revoke what it issued), whatever conflicts the backend had
/// to retry. A backend without the call has nothing to check here.
pub fn concurrent_non_blocking_exchanges_have_one_winner(store: Arc<dyn Store>) {
    let (user, app) = user_and_app(store.as_ref());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    for round in 0..3 {
        let plaintext = format!("nb-race-{round}");
        store
            .insert_code(&code(&user, &app, &plaintext, T0))
            .unwrap();
        let hash = keys::token_key(&plaintext);
        let judge = issuing(IssueTokens {
            access: access(&user, &app, &format!("at-{plaintext}"), T0 + 1),
            refresh: None,
            from_code: Some(hash.clone()),
            event: None,
            facts_version: None,
        });
        let Some(tries) = (0..8)
            .map(|_| store.exchange_code_async(&hash, T0 + 1, None, &judge))
            .collect::<Option<Vec<_>>>()
        else {
            return;
        };
        let outcomes: Vec<Exchange> = runtime.block_on(async {
            let handles: Vec<_> = tries.into_iter().map(tokio::spawn).collect();
            let mut outcomes = Vec::new();
            for handle in handles {
                outcomes.push(handle.await.expect("task").expect("an exchange"));
            }
            outcomes
        });
        let fresh = outcomes
            .iter()
            .filter(|o| matches!(o.redeemed, Redeemed::Fresh(_)))
            .count();
        let issued = outcomes.iter().filter(|o| o.issued).count();
        let replayed = outcomes
            .iter()
            .filter(|o| matches!(o.redeemed, Redeemed::Replayed(_)))
            .count();
        assert_eq!(
            (fresh, issued, replayed),
            (1, 1, 7),
            "round {round}: {outcomes:?}"
        );
        assert!(
            !alive(store.as_ref(), &format!("at-{plaintext}"), T0 + 2),
            "the replays revoked it"
        );
    }
}

pub fn code_redemption_race_has_one_winner(store: Arc<dyn Store>) {
    let (user, app) = user_and_app(store.as_ref());
    for round in 0..5 {
        let plaintext = format!("race-{round}");
        store
            .insert_code(&code(&user, &app, &plaintext, T0))
            .unwrap();
        let threads = 8;
        let barrier = Arc::new(Barrier::new(threads));
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let store = Arc::clone(&store);
                let barrier = Arc::clone(&barrier);
                let hash = keys::hash_token(&plaintext);
                std::thread::spawn(move || {
                    barrier.wait();
                    store.redeem_code(&hash, T0 + 1).unwrap()
                })
            })
            .collect();
        let outcomes: Vec<Redeemed> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let fresh = outcomes
            .iter()
            .filter(|o| matches!(o, Redeemed::Fresh(_)))
            .count();
        let replayed = outcomes
            .iter()
            .filter(|o| matches!(o, Redeemed::Replayed(_)))
            .count();
        assert_eq!(
            (fresh, replayed),
            (1, threads - 1),
            "round {round}: {outcomes:?}"
        );
    }
}

/// A judge that issues `issue` to any fresh code.
fn issuing(issue: IssueTokens) -> CodeJudge {
    Arc::new(move |_: &AuthCode, _: Option<&User>| Some(issue.clone()))
}

/// A code exchange claims the code and stores its tokens in one transaction: tokens only for the one caller
/// that claims it fresh, none for a replay (which still revokes the winner's), an expired or an unknown code.
pub fn a_code_exchange_stores_tokens_only_with_a_fresh_claim(store: Arc<dyn Store>) {
    let (user, app) = user_and_app(store.as_ref());
    let tokens = |at: &str, rt: &str, code: &str, when: i64| IssueTokens {
        access: access(&user, &app, at, when),
        refresh: Some(refresh(&user, &app, rt, when)),
        from_code: Some(keys::token_key(code)),
        event: None,
        facts_version: None,
    };
    let stored = |at: &str| store.access_token(&keys::token_key(at)).unwrap();
    for round in 0..3 {
        let plaintext = format!("exchange-{round}");
        store
            .insert_code(&code(&user, &app, &plaintext, T0))
            .unwrap();
        let threads = 6;
        let barrier = Arc::new(Barrier::new(threads));
        let handles: Vec<_> = (0..threads)
            .map(|i| {
                let store = Arc::clone(&store);
                let barrier = Arc::clone(&barrier);
                let judge = issuing(tokens(
                    &format!("at-{round}-{i}"),
                    &format!("rt-{round}-{i}"),
                    &plaintext,
                    T0 + 1,
                ));
                let hash = keys::token_key(&plaintext);
                std::thread::spawn(move || {
                    barrier.wait();
                    store.exchange_code(&hash, T0 + 1, None, &judge).unwrap()
                })
            })
            .collect();
        let outcomes: Vec<Exchange> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let winners: Vec<usize> = (0..threads)
            .filter(|&i| matches!(outcomes[i].redeemed, Redeemed::Fresh(_)))
            .collect();
        assert_eq!(winners.len(), 1, "round {round}: {outcomes:?}");
        for (i, outcome) in outcomes.iter().enumerate() {
            let at = format!("at-{round}-{i}");
            if winners.contains(&i) {
                assert!(outcome.issued);
                assert_eq!(outcome.user.as_ref().map(|u| &u.id), Some(&user.id));
                let session = stored(&at).expect("the winner's session is stored");
                assert!(
                    session.revoked_at.is_some(),
                    "and revoked by the replays that followed"
                );
            } else {
                assert!(
                    matches!(outcome.redeemed, Redeemed::Replayed(_)),
                    "{outcome:?}"
                );
                assert!(!outcome.issued && outcome.user.is_none());
                assert_eq!(stored(&at), None, "a replay stores nothing");
                assert_eq!(
                    store
                        .refresh_token(&keys::token_key(&format!("rt-{round}-{i}")))
                        .unwrap(),
                    None
                );
            }
        }
    }

    store
        .insert_code(&code(&user, &app, "exchange-late", T0))
        .unwrap();
    let late = T0 + CODE_LIFETIME_MS;
    let outcome = store
        .exchange_code(
            &keys::token_key("exchange-late"),
            late,
            None,
            &issuing(tokens("at-late", "rt-late", "exchange-late", late)),
        )
        .unwrap();
    assert!(
        matches!(outcome.redeemed, Redeemed::Expired(_)),
        "{outcome:?}"
    );
    assert!(!outcome.issued);
    assert_eq!(stored("at-late"), None);
    let spent = store
        .auth_code(&keys::token_key("exchange-late"))
        .unwrap()
        .expect("the code is kept");
    assert_eq!(spent.used_at, Some(late), "an expired code is spent too");

    let outcome = store
        .exchange_code(
            &keys::token_key("exchange-none"),
            T0,
            None,
            &issuing(tokens("at-none", "rt-none", "exchange-none", T0)),
        )
        .unwrap();
    assert_eq!(outcome.redeemed, Redeemed::Unknown);
    assert_eq!(stored("at-none"), None);
    assert_eq!(
        store.auth_code(&keys::token_key("exchange-none")).unwrap(),
        None
    );
}

/// The judge of a code exchange sees the fresh code and its user as stored; its refusal stores no token but
/// spends the code all the same. Facts that changed since the version given leave the code unspent.
pub fn a_code_exchange_asks_its_judge_and_confirms_its_facts(store: &dyn Store) {
    let (user, app) = user_and_app(store);
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let refusing: CodeJudge = {
        let seen = Arc::clone(&seen);
        Arc::new(move |code: &AuthCode, user: Option<&User>| {
            seen.lock()
                .unwrap()
                .push((code.code_hash.clone(), user.map(|u| u.username.clone())));
            None
        })
    };
    store.insert_code(&code(&user, &app, "judged", T0)).unwrap();
    let hash = keys::token_key("judged");
    let outcome = store.exchange_code(&hash, T0 + 1, None, &refusing).unwrap();
    assert!(
        matches!(outcome.redeemed, Redeemed::Fresh(_)),
        "{outcome:?}"
    );
    assert!(!outcome.issued);
    assert_eq!(outcome.user.map(|u| u.id), Some(user.id.clone()));
    assert_eq!(
        seen.lock().unwrap().last().cloned(),
        Some((hash.clone(), Some(user.username.clone())))
    );
    let spent = store.auth_code(&hash).unwrap().expect("the code is kept");
    assert_eq!(spent.used_at, Some(T0 + 1), "a refused code is spent");

    store
        .insert_code(&code(&user, &app, "outdated", T0))
        .unwrap();
    let hash = keys::token_key("outdated");
    let version = store.facts_version().unwrap();
    store
        .create_user(&new_user("newcomer@example.com", "Standard User"))
        .unwrap();
    let judge = issuing(IssueTokens {
        access: access(&user, &app, "at-outdated", T0),
        refresh: None,
        from_code: Some(hash.clone()),
        event: None,
        facts_version: None,
    });
    let err = store
        .exchange_code(&hash, T0 + 1, Some(version), &judge)
        .unwrap_err();
    assert!(matches!(err, StoreError::FactsChanged), "{err:?}");
    assert_eq!(store.auth_code(&hash).unwrap().unwrap().used_at, None);
    let current = store.facts_version().unwrap();
    let outcome = store
        .exchange_code(&hash, T0 + 1, Some(current), &judge)
        .unwrap();
    assert!(outcome.issued, "{outcome:?}");
    assert!(alive(store, "at-outdated", T0 + 1));
}

/// The user a code exchange and a bearer session are judged with is the user as stored now. A server may keep
/// the users it read (the SQLite writer does, under the facts' counter); after a change made through `writer` —
/// the same store, another process on the file, another node — the next exchange and session on `reader` see
/// it, however often they read the user before.
pub fn exchanges_and_sessions_see_their_user_as_it_is(reader: &dyn Store, writer: &dyn Store) {
    let runtime = current_thread_runtime();
    let (user, app) = user_and_app(writer);
    let judge: CodeJudge = Arc::new(|_: &AuthCode, _: Option<&User>| None);
    let exchanged = |plaintext: &str| -> User {
        reader
            .insert_code(&code(&user, &app, plaintext, T0))
            .unwrap();
        let outcome = reader
            .exchange_code(&keys::token_key(plaintext), T0 + 1, None, &judge)
            .unwrap();
        assert!(
            matches!(outcome.redeemed, Redeemed::Fresh(_)),
            "{outcome:?}"
        );
        outcome.user.expect("the code's user")
    };
    reader
        .issue_tokens(&tokens_only(access(&user, &app, "at-follows", T0), None))
        .unwrap();
    // A store without a session read of its own (`session_async` None) reads the two apart.
    let session_user = || -> Option<User> {
        let hash = keys::token_key("at-follows");
        match reader.session_async(&hash) {
            Some(pending) => runtime.block_on(pending).unwrap().map(|s| s.user)?,
            None => {
                let token = reader.access_token(&hash).unwrap()?;
                reader.user_by_id(&token.user_id).unwrap()
            }
        }
    };

    for n in 0..3 {
        assert!(exchanged(&format!("follows-{n}")).active);
        assert!(session_user().expect("the session's user").active);
    }
    writer.set_user_active(&user.id, false, T0).unwrap();
    assert!(!exchanged("follows-frozen").active, "deactivated");
    assert!(!session_user().expect("the session's user").active);

    writer
        .create_permission_set("Follows", "Follows", T0)
        .unwrap();
    writer.assign_permission_set(&user.id, "Follows").unwrap();
    let names =
        |u: &User| -> Vec<String> { u.permission_sets.iter().map(|p| p.name.clone()).collect() };
    assert_eq!(names(&exchanged("follows-assigned")), ["Follows"]);
    assert_eq!(
        names(&session_user().expect("the session's user")),
        ["Follows"]
    );

    writer.set_user_active(&user.id, true, T0).unwrap();
    assert!(exchanged("follows-again").active, "active again");
    assert!(session_user().expect("the session's user").active);
}

/// `exchanges_and_sessions_see_their_user_as_it_is` with the changes made on the same store.
pub fn exchanges_and_sessions_see_their_own_store_s_user_changes(store: &dyn Store) {
    exchanges_and_sessions_see_their_user_as_it_is(store, store);
}

pub fn replaying_a_code_revokes_its_tokens(store: &dyn Store) {
    let (user, app) = user_and_app(store);
    store.insert_code(&code(&user, &app, "code-r", T0)).unwrap();
    assert!(matches!(
        store.redeem_code(&keys::hash_token("code-r"), T0).unwrap(),
        Redeemed::Fresh(_)
    ));
    store
        .issue_tokens(&IssueTokens {
            access: access(&user, &app, "at-from-code", T0),
            refresh: Some(refresh(&user, &app, "rt-from-code", T0)),
            from_code: Some(keys::hash_token("code-r")),
            event: None,
            facts_version: None,
        })
        .unwrap();
    // A session obtained later with the refresh token descends from the code too.
    let used = store
        .refresh(&RefreshUse {
            refresh_hash: keys::hash_token("rt-from-code"),
            now: T0 + MINUTE,
            new_access: access(&user, &app, "at-from-refresh", T0 + MINUTE),
            event: None,
            facts_version: None,
            mark_used: true,
        })
        .unwrap()
        .expect("refresh works");
    assert_eq!(used.last_used_at, T0 + MINUTE);
    // An unrelated session survives.
    store
        .issue_tokens(&tokens_only(access(&user, &app, "at-unrelated", T0), None))
        .unwrap();
    let now = T0 + 2 * MINUTE;
    assert!(alive(store, "at-from-code", now) && alive(store, "at-from-refresh", now));

    assert!(matches!(
        store.redeem_code(&keys::hash_token("code-r"), now).unwrap(),
        Redeemed::Replayed(_)
    ));
    assert!(!alive(store, "at-from-code", now));
    assert!(!alive(store, "at-from-refresh", now));
    assert!(!refresh_live(store, "rt-from-code"));
    assert!(alive(store, "at-unrelated", now));
    assert!(
        store
            .refresh(&RefreshUse {
                refresh_hash: keys::hash_token("rt-from-code"),
                now,
                new_access: access(&user, &app, "at-never", now),
                event: None,
                facts_version: None,
                mark_used: true,
            })
            .unwrap()
            .is_none(),
        "a revoked refresh token yields nothing"
    );
    assert!(
        store
            .access_token(&keys::hash_token("at-never"))
            .unwrap()
            .is_none()
    );
}

/// Code exchanges for one user and app at the same time all succeed, and the cap holds once they are done: the
/// five newest refresh tokens live, the others revoked. (On PostgreSQL the cap runs after each exchange's commit;
/// inside it, every exchange conflicted with the others and most were retried, and two caps deadlocked.)
pub fn concurrent_code_exchanges_keep_the_cap(store: Arc<dyn Store>) {
    let (user, app) = user_and_app(store.as_ref());
    let threads = 12;
    for i in 0..threads {
        store
            .insert_code(&code(&user, &app, &format!("burst-{i}"), T0))
            .unwrap();
    }
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|i| {
            let store = Arc::clone(&store);
            let barrier = Arc::clone(&barrier);
            let when = T0 + 1 + i64::try_from(i).unwrap();
            let judge = issuing(IssueTokens {
                access: access(&user, &app, &format!("at-burst-{i}"), when),
                refresh: Some(refresh(&user, &app, &format!("rt-burst-{i}"), when)),
                from_code: Some(keys::token_key(&format!("burst-{i}"))),
                event: None,
                facts_version: None,
            });
            let hash = keys::token_key(&format!("burst-{i}"));
            std::thread::spawn(move || {
                barrier.wait();
                store.exchange_code(&hash, when, None, &judge)
            })
        })
        .collect();
    for (i, handle) in handles.into_iter().enumerate() {
        let outcome = handle.join().unwrap().expect("every exchange succeeds");
        assert!(
            matches!(outcome.redeemed, Redeemed::Fresh(_)) && outcome.issued,
            "exchange {i}: {outcome:?}"
        );
    }
    let live: Vec<usize> = (0..threads)
        .filter(|i| refresh_live(store.as_ref(), &format!("rt-burst-{i}")))
        .collect();
    assert_eq!(live, (threads - 5..threads).collect::<Vec<_>>());
}

/// A refresh grant records its token's use only when the app's policy reads it (`RefreshUse::mark_used`), by
/// each way a backend stores a use: blocking, queued, and judged on the writer. Unrecorded, the token keeps its
/// last use; the session and the event are stored either way.
pub fn a_refresh_records_its_use_only_when_asked(store: &dyn Store) {
    let runtime = current_thread_runtime();
    let (user, app) = user_and_app(store);
    store
        .issue_tokens(&tokens_only(
            access(&user, &app, "at-0", T0),
            Some(refresh(&user, &app, "rt-quiet", T0)),
        ))
        .unwrap();
    let hash = keys::token_key;
    let stored_use = || {
        store
            .refresh_token(&hash("rt-quiet"))
            .unwrap()
            .unwrap()
            .last_used_at
    };
    let use_at = |a: &str, now: i64, mark_used: bool| RefreshUse {
        refresh_hash: hash("rt-quiet"),
        now,
        new_access: access(&user, &app, a, now),
        event: Some(token_event(&user, now, a)),
        facts_version: None,
        mark_used,
    };

    let quiet = store
        .refresh(&use_at("at-1", T0 + MINUTE, false))
        .unwrap()
        .unwrap();
    assert_eq!(quiet.last_used_at, T0, "the answer is the token as stored");
    assert_eq!(stored_use(), T0);
    assert!(alive(store, "at-1", T0 + MINUTE));
    if let Some(p) = store.refresh_async(&use_at("at-2", T0 + 2 * MINUTE, false)) {
        assert_eq!(runtime.block_on(p).unwrap().unwrap().last_used_at, T0);
        assert_eq!(stored_use(), T0);
        assert!(alive(store, "at-2", T0 + 2 * MINUTE));
    }
    let judged = |a: &'static str, now: i64, mark_used: bool| {
        let use_ = use_at(a, now, mark_used);
        let judge: sfr_org::model::RefreshJudge = Box::new(move |_| Some(use_));
        store
            .refresh_judged_async(&hash("rt-quiet"), judge)
            .map(|p| runtime.block_on(p).unwrap().unwrap())
    };
    if let Some(token) = judged("at-3", T0 + 3 * MINUTE, false) {
        assert_eq!(token.last_used_at, T0);
        assert_eq!(stored_use(), T0);
        assert!(alive(store, "at-3", T0 + 3 * MINUTE));
    }
    if let Some(token) = judged("at-4", T0 + 4 * MINUTE, true) {
        assert_eq!(token.last_used_at, T0 + 4 * MINUTE);
        assert_eq!(stored_use(), T0 + 4 * MINUTE);
    }
    let marked = store
        .refresh(&use_at("at-5", T0 + 5 * MINUTE, true))
        .unwrap()
        .unwrap();
    assert_eq!(marked.last_used_at, T0 + 5 * MINUTE);
    assert_eq!(stored_use(), T0 + 5 * MINUTE);
    assert!(
        store
            .events(100)
            .unwrap()
            .iter()
            .any(|e| e.reason == "at-1")
    );

    store
        .revoke_by_hash(&hash("rt-quiet"), T0 + 6 * MINUTE)
        .unwrap();
    assert!(
        store
            .refresh(&use_at("at-6", T0 + 7 * MINUTE, false))
            .unwrap()
            .is_none(),
        "a revoked token yields nothing, recorded or not"
    );
    assert!(store.access_token(&hash("at-6")).unwrap().is_none());
}

/// Moving an app to a policy that reads a token's last use (`expire-if-unused`) counts each of its live refresh
/// tokens as used at the change, since uses were not recorded before; a revoked token, another app's token and
/// a change between two such policies move nothing.
pub fn a_change_to_an_idle_policy_restarts_the_idle_clock(store: &dyn Store) {
    let (user, app) = user_and_app(store);
    let (other, _) = store.create_app(&web_app("Other App")).unwrap();
    for (app_id, rt) in [
        (&app, "rt-live"),
        (&app, "rt-revoked"),
        (&other.id, "rt-other"),
    ] {
        store
            .issue_tokens(&tokens_only(
                access(&user, app_id, &format!("at-{rt}"), T0),
                Some(refresh(&user, app_id, rt, T0)),
            ))
            .unwrap();
    }
    store
        .revoke_by_hash(&keys::token_key("rt-revoked"), T0 + 1)
        .unwrap();
    let last_use = |rt: &str| {
        store
            .refresh_token(&keys::token_key(rt))
            .unwrap()
            .unwrap()
            .last_used_at
    };
    let set_policy = |policy: &str, at: i64| {
        store
            .update_app(
                "Token App",
                &sfr_org::model::AppUpdate {
                    refresh_policy: Some(RefreshPolicy::parse(policy).unwrap()),
                    updated_at: at,
                    ..Default::default()
                },
            )
            .unwrap()
    };
    let day = 24 * 60 * MINUTE;
    set_policy("expire-after:90d", T0 + day);
    assert_eq!(
        last_use("rt-live"),
        T0,
        "expire-after reads the issue time only"
    );
    set_policy("expire-if-unused:1h", T0 + 10 * day);
    assert_eq!(last_use("rt-live"), T0 + 10 * day);
    assert_eq!(last_use("rt-revoked"), T0);
    assert_eq!(last_use("rt-other"), T0);
    set_policy("expire-if-unused:2h", T0 + 11 * day);
    assert_eq!(
        last_use("rt-live"),
        T0 + 10 * day,
        "its uses were recorded since"
    );
}

pub fn refresh_tokens_are_capped_at_five(store: &dyn Store) {
    let (user, app) = user_and_app(store);
    for n in 0..6 {
        store
            .issue_tokens(&tokens_only(
                access(&user, &app, &format!("at-{n}"), T0 + n),
                Some(refresh(&user, &app, &format!("rt-{n}"), T0 + n)),
            ))
            .unwrap();
    }
    assert!(!refresh_live(store, "rt-0"), "the oldest is revoked");
    assert!(!alive(store, "at-0", T0 + 10), "with its session");
    for n in 1..6 {
        assert!(refresh_live(store, &format!("rt-{n}")), "rt-{n}");
        assert!(alive(store, &format!("at-{n}"), T0 + 10), "at-{n}");
    }
    // Of tokens issued in one millisecond, the first issued is the oldest.
    let (same_ms, _) = store.create_app(&web_app("Cap Same Millisecond")).unwrap();
    for n in 0..6 {
        store
            .issue_tokens(&tokens_only(
                access(&user, &same_ms.id, &format!("at-ms-{n}"), T0 + 20),
                Some(refresh(&user, &same_ms.id, &format!("rt-ms-{n}"), T0 + 20)),
            ))
            .unwrap();
    }
    assert!(!refresh_live(store, "rt-ms-0"));
    for n in 1..6 {
        assert!(refresh_live(store, &format!("rt-ms-{n}")), "rt-ms-{n}");
    }
    // Another app's tokens do not count against this one.
    let (other, _) = store.create_app(&web_app("Cap Other")).unwrap();
    store
        .issue_tokens(&tokens_only(
            access(&user, &other.id, "at-other", T0 + 7),
            Some(refresh(&user, &other.id, "rt-other", T0 + 7)),
        ))
        .unwrap();
    assert!(refresh_live(store, "rt-1"));
}

pub fn revocation_cascades(store: &dyn Store) {
    let (user, app) = user_and_app(store);
    store
        .issue_tokens(&tokens_only(
            access(&user, &app, "at-a", T0),
            Some(refresh(&user, &app, "rt-a", T0)),
        ))
        .unwrap();
    store
        .refresh(&RefreshUse {
            refresh_hash: keys::hash_token("rt-a"),
            now: T0 + 1,
            new_access: access(&user, &app, "at-a2", T0 + 1),
            event: None,
            facts_version: None,
            mark_used: true,
        })
        .unwrap()
        .unwrap();
    store
        .issue_tokens(&tokens_only(access(&user, &app, "at-b", T0), None))
        .unwrap();

    assert_eq!(
        store
            .revoke_by_hash(&keys::hash_token("at-b"), T0 + 2)
            .unwrap(),
        Revoked::Access
    );
    assert!(!alive(store, "at-b", T0 + 3));
    assert!(alive(store, "at-a", T0 + 3), "other sessions untouched");
    assert_eq!(
        store
            .revoke_by_hash(&keys::hash_token("at-b"), T0 + 3)
            .unwrap(),
        Revoked::None
    );

    assert_eq!(
        store
            .revoke_by_hash(&keys::hash_token("rt-a"), T0 + 4)
            .unwrap(),
        Revoked::Refresh
    );
    assert!(!refresh_live(store, "rt-a"));
    assert!(!alive(store, "at-a", T0 + 5) && !alive(store, "at-a2", T0 + 5));
    assert_eq!(
        store
            .revoke_by_hash(&keys::hash_token("unknown"), T0)
            .unwrap(),
        Revoked::None
    );

    store
        .issue_tokens(&tokens_only(
            access(&user, &app, "at-c", T0),
            Some(refresh(&user, &app, "rt-c", T0)),
        ))
        .unwrap();
    assert_eq!(
        store
            .revoke_user_app_tokens(&user.id, &app, T0 + 6)
            .unwrap(),
        1,
        "one refresh token; its session with it"
    );
    assert!(!alive(store, "at-c", T0 + 7) && !refresh_live(store, "rt-c"));

    // Deactivating a user revokes everything they hold.
    store
        .issue_tokens(&tokens_only(
            access(&user, &app, "at-d", T0),
            Some(refresh(&user, &app, "rt-d", T0)),
        ))
        .unwrap();
    let user = store.set_user_active(&user.id, false, T0 + 8).unwrap();
    assert!(!user.active);
    assert!(!alive(store, "at-d", T0 + 9) && !refresh_live(store, "rt-d"));
}

/// Revoking a user's tokens for an app takes every session of theirs for that app issued until then, with a
/// refresh token or without, used since or not, and keeps it revoked: a touch does not revive it and a second
/// revocation finds nothing to revoke. It spares another app's sessions and every session issued after it.
/// Deactivating the user takes every app's sessions, and reactivating them brings none back.
pub fn revoking_a_user_s_tokens_spares_later_sessions_and_other_apps(store: &dyn Store) {
    let (user, app) = user_and_app(store);
    let (other, _) = store.create_app(&web_app("Cut Other")).unwrap();
    let issue = |app: &SfId, at: &str, rt: Option<&str>, when: i64| {
        store
            .issue_tokens(&tokens_only(
                access(&user, app, at, when),
                rt.map(|rt| refresh(&user, app, rt, when)),
            ))
            .unwrap();
    };
    // Alive as a reader reads it and, where the store has one, as the non-blocking session read does (SQLite's
    // writer, which keeps whether any cutoff exists under the facts' counter): the two must agree.
    let runtime = current_thread_runtime();
    let alive = |at: &str, now: i64| {
        let read = self::alive(store, at, now);
        if let Some(pending) = store.session_async(&keys::token_key(at)) {
            let session = runtime.block_on(pending).unwrap().expect("a session");
            assert_eq!(
                session.token.is_alive(now),
                read,
                "{at}: the reads disagree"
            );
        }
        read
    };
    issue(&app, "at-1", Some("rt-1"), T0);
    issue(&app, "at-2", None, T0 + 1);
    issue(&other.id, "at-other", None, T0 + 1);
    store
        .touch_access_token(&keys::token_key("at-2"), T0 + 2)
        .unwrap();
    assert!(
        alive("at-1", T0 + 2) && alive("at-2", T0 + 2),
        "before any cutoff"
    );

    assert_eq!(
        store
            .revoke_user_app_tokens(&user.id, &app, T0 + 3)
            .unwrap(),
        1
    );
    assert!(!alive("at-1", T0 + 4) && !alive("at-2", T0 + 4));
    assert!(!refresh_live(store, "rt-1"));
    assert!(alive("at-other", T0 + 4), "another app's session");
    let revoked_at = |at: &str| {
        store
            .access_token(&keys::token_key(at))
            .unwrap()
            .unwrap()
            .revoked_at
    };
    assert_eq!(revoked_at("at-2"), Some(T0 + 3));
    store
        .touch_access_token(&keys::token_key("at-2"), T0 + 5)
        .unwrap();
    assert!(!alive("at-2", T0 + 5), "a touch revived it");
    assert_eq!(
        store
            .revoke_by_hash(&keys::token_key("at-2"), T0 + 5)
            .unwrap(),
        Revoked::None
    );
    assert_eq!(revoked_at("at-2"), Some(T0 + 3));

    issue(&app, "at-later", None, T0 + 6);
    assert!(alive("at-later", T0 + 7), "issued after the revocation");
    assert_eq!(
        store
            .revoke_user_app_tokens(&user.id, &app, T0 + 8)
            .unwrap(),
        0
    );
    assert!(!alive("at-later", T0 + 9));
    assert_eq!(
        (revoked_at("at-1"), revoked_at("at-2")),
        (Some(T0 + 3), Some(T0 + 3)),
        "revoked as of the first revocation"
    );

    store.set_user_active(&user.id, false, T0 + 10).unwrap();
    assert!(
        !alive("at-other", T0 + 11),
        "deactivation takes every app's"
    );
    store.set_user_active(&user.id, true, T0 + 12).unwrap();
    issue(&other.id, "at-back", None, T0 + 13);
    assert!(alive("at-back", T0 + 14));
    assert!(!alive("at-other", T0 + 14), "reactivation revived it");
}

pub fn sessions_are_idle_based(store: &dyn Store) {
    let (user, app) = user_and_app(store);
    store
        .issue_tokens(&tokens_only(access(&user, &app, "at-idle", T0), None))
        .unwrap();
    assert!(alive(store, "at-idle", T0 + 119 * MINUTE));
    store
        .touch_access_token(&keys::hash_token("at-idle"), T0 + 100 * MINUTE)
        .unwrap();
    assert!(
        alive(store, "at-idle", T0 + 219 * MINUTE),
        "use extends the session"
    );
    assert!(!alive(store, "at-idle", T0 + 220 * MINUTE));
    // Touching a dead session does not revive it.
    store
        .touch_access_token(&keys::hash_token("at-idle"), T0 + 300 * MINUTE)
        .unwrap();
    assert!(!alive(store, "at-idle", T0 + 300 * MINUTE));
}

pub fn purge_removes_only_dead_credentials(store: &dyn Store) {
    let (user, app) = user_and_app(store);
    let mut policy_app = web_app("Short Refresh");
    policy_app.refresh_policy = RefreshPolicy::parse("expire-after:1d").unwrap();
    let (short, _) = store.create_app(&policy_app).unwrap();
    store
        .insert_code(&code(&user, &app, "old-code", T0))
        .unwrap();
    let later = T0 + 3 * 24 * 60 * MINUTE;
    store
        .insert_code(&code(&user, &app, "new-code", later))
        .unwrap();
    let issue = |at: &str, rt: Option<&str>, app: &SfId, when: i64| {
        store
            .issue_tokens(&tokens_only(
                access(&user, app, at, when),
                rt.map(|rt| refresh(&user, app, rt, when)),
            ))
            .unwrap();
    };
    issue("at-old", Some("rt-keep"), &app, T0);
    issue("at-new", None, &app, later);
    issue("at-short", Some("rt-short"), &short.id, T0);
    issue("at-revoked", Some("rt-revoked"), &app, later);
    store
        .revoke_by_hash(&keys::hash_token("rt-revoked"), later)
        .unwrap();

    let purged = store.purge_expired(later + 1).unwrap();
    assert_eq!(purged.codes, 1, "{purged:?}");
    assert_eq!(
        purged.access_tokens, 2,
        "idle at-old and at-short: {purged:?}"
    );
    assert_eq!(
        purged.refresh_tokens, 1,
        "policy-expired rt-short; rt-revoked is kept while at-revoked could live: {purged:?}"
    );
    assert_eq!(purged.events, 0, "recent login history is kept");
    let h = keys::hash_token;
    assert!(
        !alive(store, "at-revoked", later + 1),
        "a session stays revoked with its refresh token"
    );
    assert_eq!(
        store.redeem_code(&h("old-code"), later).unwrap(),
        Redeemed::Unknown
    );
    assert!(matches!(
        store.redeem_code(&h("new-code"), later).unwrap(),
        Redeemed::Fresh(_)
    ));
    assert!(store.access_token(&h("at-old")).unwrap().is_none());
    assert!(store.access_token(&h("at-new")).unwrap().is_some());
    assert!(
        refresh_live(store, "rt-keep"),
        "until-revoked refresh tokens stay"
    );
    assert!(store.refresh_token(&h("rt-short")).unwrap().is_none());
    assert!(store.refresh_token(&h("rt-revoked")).unwrap().is_some());

    // Once no session it vouches for can be alive, the revoked refresh token goes too.
    let gone = later + REVOKED_REFRESH_RETENTION_MS;
    let purged = store.purge_expired(gone).unwrap();
    assert_eq!(
        (purged.refresh_tokens, purged.access_tokens),
        (1, 2),
        "rt-revoked; at-revoked and at-new, idle by now: {purged:?}"
    );
    assert!(store.refresh_token(&h("rt-revoked")).unwrap().is_none());
    assert!(store.access_token(&h("at-revoked")).unwrap().is_none());
}

/// A session learns of its refresh token's revocation by reading the token, so no purge may drop a revoked
/// refresh token while a session it vouches for could still be used — not even one its policy has expired.
pub fn purging_never_revives_a_session(store: &dyn Store) {
    let (user, _) = user_and_app(store);
    let mut policy_app = web_app("Idle Refresh");
    policy_app.refresh_policy = RefreshPolicy::parse("expire-if-unused:1h").unwrap();
    policy_app.session_timeout_minutes = Some(MAX_SESSION_TIMEOUT_MINUTES);
    let (app, _) = store.create_app(&policy_app).unwrap();
    let day_long = |name: &str, when: i64| NewAccessToken {
        session_timeout_ms: MAX_SESSION_TIMEOUT_MS,
        ..access(&user, &app.id, name, when)
    };
    store
        .issue_tokens(&tokens_only(
            day_long("at-first", T0),
            Some(refresh(&user, &app.id, "rt-idle", T0)),
        ))
        .unwrap();
    store
        .refresh(&RefreshUse {
            refresh_hash: keys::token_key("rt-idle"),
            now: T0 + MINUTE,
            new_access: day_long("at-second", T0 + MINUTE),
            event: None,
            facts_version: None,
            mark_used: true,
        })
        .unwrap()
        .expect("the refresh token is live");
    store
        .revoke_by_hash(&keys::token_key("rt-idle"), T0 + 2 * MINUTE)
        .unwrap();
    // Hours later the token is past its idle policy too; the sessions, used now and then, are not idle.
    let mut now = T0 + 2 * MINUTE;
    for hours in [2, 6, 12, 20] {
        now = T0 + hours * 60 * MINUTE;
        store.purge_expired(now).unwrap();
        for at in ["at-first", "at-second"] {
            store.touch_access_token(&keys::token_key(at), now).unwrap();
            assert!(
                !alive(store, at, now),
                "{at} revived {hours} h after its revocation"
            );
        }
    }
    assert!(
        store
            .refresh_token(&keys::token_key("rt-idle"))
            .unwrap()
            .is_some()
    );
    // After the longest session timeout every session it vouched for is idle, whatever touched it.
    assert!(now < T0 + REVOKED_REFRESH_RETENTION_MS);
    let purged = store
        .purge_expired(T0 + 2 * MINUTE + REVOKED_REFRESH_RETENTION_MS)
        .unwrap();
    assert_eq!(
        (purged.refresh_tokens, purged.access_tokens),
        (1, 2),
        "{purged:?}"
    );
}

pub fn login_history_keeps_reasons(store: &dyn Store) {
    let event = |n: i64, success: bool| LoginEvent {
        at: T0 + n,
        username: Some("jane@example.com".into()),
        user_id: None,
        consumer_key: Some("PlatformCLI".into()),
        kind: LoginKind::Token("jwt-bearer".into()),
        success,
        error_code: (!success).then(|| "invalid_grant".into()),
        reason: format!("JWT aud http://x not one of [...] #{n}"),
        source_ip: Some("127.0.0.1".into()),
    };
    for n in 0..3 {
        store.record_event(&event(n, n == 2)).unwrap();
    }
    let events = store.events(2).unwrap();
    assert_eq!(
        events,
        [event(2, true), event(1, false)],
        "newest first, limited"
    );
}

pub fn signing_key_is_kept(store: &dyn Store) {
    let existing = store.signing_key().unwrap().expect("bootstrap made one");
    let again = store.store_signing_key(&signing_key()).unwrap();
    assert_eq!(again.kid, existing.kid, "an existing key is kept");
    assert_eq!(again.pkcs8_der, existing.pkcs8_der);
    assert!(existing.key_pair().is_ok());
}

/// Rotation: the next key is published as soon as it is added, signs only from its start time, and the
/// replaced key stays published for a day.
pub fn signing_keys_rotate_after_publishing(store: &dyn Store) {
    let first = store.signing_key().unwrap().expect("bootstrap made one");
    let at = |now: i64| {
        let keys = store.signing_keys(now).unwrap().expect("keys");
        let published: Vec<String> = keys.published.iter().map(|k| k.kid.clone()).collect();
        (keys.signing.kid, published)
    };
    assert_eq!(at(T0), (first.kid.clone(), vec![first.kid.clone()]));
    let mut next = signing_key();
    next.kid = format!("{}-next", first.kid);
    let starts = T0 + 60 * MINUTE;
    store.add_signing_key(&next, starts).unwrap();
    assert_eq!(
        at(T0 + 1),
        (first.kid.clone(), vec![first.kid.clone(), next.kid.clone()]),
        "published before it signs"
    );
    assert_eq!(
        at(starts),
        (next.kid.clone(), vec![next.kid.clone(), first.kid.clone()]),
        "signs from its start; the old key is still published"
    );
    assert_eq!(
        at(starts + sfr_org::model::RETIRED_KEY_PUBLISHED_MS),
        (next.kid.clone(), vec![next.kid.clone()])
    );
    let keys = store.signing_keys(starts).unwrap().unwrap();
    assert_eq!(keys.signing.pkcs8_der, next.pkcs8_der, "stored intact");
    // `signing_key` answers for the real clock: the test's next key starts in the (real) future.
    if starts > sfr_org::clock::Clock::now_ms(&sfr_org::clock::SystemClock) {
        assert_eq!(store.signing_key().unwrap().unwrap().kid, first.kid);
    }
    assert!(
        store.add_signing_key(&next, starts).is_err(),
        "a kid is stored once"
    );
}

/// Many threads issue, read, touch, refresh and revoke at once; nothing fails and every write lands.
pub fn concurrent_use_is_safe(store: Arc<dyn Store>) {
    let (user, app) = user_and_app(store.as_ref());
    let threads = 8;
    let per_thread = 25;
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let store = Arc::clone(&store);
            let barrier = Arc::clone(&barrier);
            let (user, app) = (user.clone(), app.clone());
            std::thread::spawn(move || {
                barrier.wait();
                for n in 0..per_thread {
                    let at = format!("conc-at-{t}-{n}");
                    store
                        .issue_tokens(&tokens_only(access(&user, &app, &at, T0), None))
                        .unwrap();
                    assert!(alive(store.as_ref(), &at, T0 + 1));
                    store
                        .touch_access_token(&keys::hash_token(&at), T0 + 2)
                        .unwrap();
                    store.org().unwrap();
                    store
                        .record_event(&LoginEvent {
                            at: T0,
                            username: None,
                            user_id: None,
                            consumer_key: None,
                            kind: LoginKind::UiLogin,
                            success: true,
                            error_code: None,
                            reason: "concurrency".into(),
                            source_ip: None,
                        })
                        .unwrap();
                    if n % 2 == 0 {
                        assert_eq!(
                            store
                                .revoke_by_hash(&keys::hash_token(&at), T0 + 3)
                                .unwrap(),
                            Revoked::Access
                        );
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("no thread failed");
    }
    let mut live = 0;
    for t in 0..threads {
        for n in 0..per_thread {
            if alive(store.as_ref(), &format!("conc-at-{t}-{n}"), T0 + 4) {
                live += 1;
            }
        }
    }
    assert_eq!(live, threads * (per_thread / 2));
    assert_eq!(store.events(10_000).unwrap().len(), threads * per_thread);
}

// ---------------------------------------------------------------- running the suite on each backend

/// One `#[test]` per case, on the store `$open()` gives (`None`: the backend is skipped, see `pg_harness`).
/// Cases that take `&dyn Store` go in the first list, cases that share the store across threads in `arc:`.
macro_rules! storage_suite {
    ($open:path) => {
        storage_suite!(@ref $open;
            bootstrap_creates_the_org_once,
            users_are_created_and_found,
            failed_logins_lock_and_success_resets,
            app_creation_is_gated,
            apps_update_and_preauthorize,
            secrets_round_trip,
            approvals_are_kept_per_user_and_app,
            codes_redeem_exactly_once,
            replaying_a_code_revokes_its_tokens,
            a_code_exchange_asks_its_judge_and_confirms_its_facts,
            exchanges_and_sessions_see_their_own_store_s_user_changes,
            refresh_tokens_are_capped_at_five,
            a_refresh_records_its_use_only_when_asked,
            a_change_to_an_idle_policy_restarts_the_idle_clock,
            revocation_cascades,
            revoking_a_user_s_tokens_spares_later_sessions_and_other_apps,
            sessions_are_idle_based,
            purge_removes_only_dead_credentials,
            purging_never_revives_a_session,
            login_history_keeps_reasons,
            signing_key_is_kept,
            signing_keys_rotate_after_publishing,
            grant_facts_follow_every_change,
            writes_on_outdated_facts_store_nothing,
            non_blocking_calls_agree_with_blocking_ones,
            rate_counts_add_up,
            expired_rate_counters_are_deleted,
        );
        storage_suite!(@arc $open;
            code_redemption_race_has_one_winner,
            concurrent_non_blocking_exchanges_have_one_winner,
            a_code_exchange_stores_tokens_only_with_a_fresh_claim,
            concurrent_code_exchanges_keep_the_cap,
            concurrent_use_is_safe,
            concurrent_rate_flushes_add_up,
        );
    };
    (@ref $open:path; $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                let Some(db) = $open() else { return };
                super::$name(db.store.as_ref());
            }
        )*
    };
    (@arc $open:path; $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                let Some(db) = $open() else { return };
                super::$name(Arc::clone(&db.store));
            }
        )*
    };
}

/// A fresh, bootstrapped PostgreSQL store on its own database of the shared test server.
pub struct Postgres {
    pub url: DatabaseUrl,
    pub store: Arc<dyn Store>,
    pub keys: Arc<Keys>,
}

/// `None` when PostgreSQL is missing and `SFR_SKIP_POSTGRES=1` (otherwise a missing PostgreSQL fails the test).
pub fn postgres() -> Option<Postgres> {
    let url = crate::pg_harness::fresh_database()?;
    let url = DatabaseUrl::parse(&url).expect("test database URL");
    let keys = Arc::new(Keys::ephemeral());
    let store = store::open(&url, Arc::clone(&keys)).expect("open PostgreSQL");
    assert!(store.bootstrap(&bootstrap_init()).expect("bootstrap"));
    Some(Postgres { url, store, keys })
}

fn some_sqlite() -> Option<Sqlite> {
    Some(sqlite())
}

mod on_postgres {
    use super::*;

    storage_suite!(postgres);

    /// Two stores on one database (two nodes) write at the same time; every write lands.
    #[test]
    fn two_nodes_on_one_database_both_write() {
        let Some(db) = postgres() else { return };
        let second = store::open(&db.url, Arc::clone(&db.keys)).unwrap();
        both_write(Arc::clone(&db.store), second);
    }

    /// A change made through one node is in the next grant's facts on another.
    #[test]
    fn grant_facts_follow_another_node_s_changes() {
        let Some(db) = postgres() else { return };
        let second = store::open(&db.url, Arc::clone(&db.keys)).unwrap();
        grant_facts_follow_changes(db.store.as_ref(), second.as_ref());
    }

    /// A change to a user through one node is in the next code exchange and session read on another.
    #[test]
    fn exchanges_and_sessions_see_another_node_s_user_changes() {
        let Some(db) = postgres() else { return };
        let second = store::open(&db.url, Arc::clone(&db.keys)).unwrap();
        exchanges_and_sessions_see_their_user_as_it_is(db.store.as_ref(), second.as_ref());
    }

    #[test]
    fn reopening_keeps_data_and_a_wrong_key_cannot_decrypt() {
        let Some(db) = postgres() else { return };
        allow_apps(db.store.as_ref());
        let (app, secret) = db.store.create_app(&web_app("Persisted")).unwrap();
        let reopened = store::open(&db.url, Arc::clone(&db.keys)).unwrap();
        assert_eq!(reopened.app_secret(&app.id).unwrap(), secret);
        assert_eq!(reopened.org().unwrap().id, db.store.org().unwrap().id);
        let wrong = store::open(&db.url, Arc::new(Keys::ephemeral())).unwrap();
        assert!(matches!(
            wrong.app_secret(&app.id),
            Err(StoreError::Decrypt { .. })
        ));
        assert!(matches!(
            wrong.signing_key(),
            Err(StoreError::Decrypt { .. })
        ));
    }

    /// Two stores on one file (the server and an admin command in another process) write at the same time.
    #[test]
    fn an_empty_database_has_no_org() {
        let Some(url) = crate::pg_harness::fresh_database() else {
            return;
        };
        let url = DatabaseUrl::parse(&url).unwrap();
        let store = store::open(&url, Arc::new(Keys::ephemeral())).unwrap();
        assert_eq!(store.org(), Err(StoreError::NoOrg));
        assert!(store.signing_key().unwrap().is_none());
    }
}

mod on_sqlite {
    use super::*;

    storage_suite!(some_sqlite);

    /// Grants write while readers are always in the log: the store's writer never checkpoints, and a passive
    /// checkpoint alone never lets the log start over under such a load (the file grew by gigabytes), so the
    /// checkpoint thread's restarts are what keep the WAL small. About 90 MB are written here; the log must stay
    /// well under that, with room for a checkpoint thread slowed by a busy machine (its threshold is 4 MB).
    #[test]
    fn the_wal_stays_small_under_writes_and_reads() {
        use std::sync::atomic::{AtomicBool, Ordering};
        let db = sqlite();
        let (user, app) = user_and_app(db.store.as_ref());
        let stop = Arc::new(AtomicBool::new(false));
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let store = Arc::clone(&db.store);
                let stop = Arc::clone(&stop);
                std::thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        store.access_token(&keys::token_key("wal-0")).unwrap();
                    }
                })
            })
            .collect();
        let wal = PathBuf::from(format!("{}-wal", db.path().display()));
        let mut largest = 0;
        for n in 0..6_000 {
            db.store
                .issue_tokens(&tokens_only(
                    access(&user, &app, &format!("wal-{n}"), T0 + n),
                    None,
                ))
                .unwrap();
            if n % 50 == 0 {
                largest = largest.max(std::fs::metadata(&wal).map_or(0, |m| m.len()));
            }
        }
        stop.store(true, Ordering::Relaxed);
        for r in readers {
            r.join().unwrap();
        }
        let written = db.store.statements_executed().unwrap_or_default();
        assert!(
            written > 6_000,
            "sanity: the grants ran ({written} statements)"
        );
        assert!(
            largest < 32 * 1024 * 1024,
            "the WAL reached {largest} bytes: the checkpoint thread did not restart it"
        );
    }

    /// Puts a database of schema v15 back to v14: refresh tokens with a `seq`, the next one found through an
    /// index of its own.
    const UNDO_V15: &str = "DELETE FROM schema_migrations WHERE version >= 15;
        DROP INDEX refresh_tokens_live;
        ALTER TABLE refresh_tokens ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
        UPDATE refresh_tokens SET seq = rowid;
        CREATE INDEX refresh_tokens_seq ON refresh_tokens (seq);
        CREATE INDEX refresh_tokens_live ON refresh_tokens (user_id, app_id, issued_at, seq) WHERE revoked_at IS NULL;";

    /// Puts a database of schema v14 back to v13: sessions indexed by user and app, no cutoffs.
    const UNDO_V14: &str = "DELETE FROM schema_migrations WHERE version >= 14;
        DROP TABLE session_cutoffs;
        CREATE INDEX access_tokens_user_app ON access_tokens (user_id, app_id);";

    /// Puts a database of schema v13 back to v12: sessions in a rowid table, found through an index of their keys.
    const UNDO_V13: &str = "DELETE FROM schema_migrations WHERE version >= 13;
        CREATE TABLE access_tokens_v12 (
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
        INSERT INTO access_tokens_v12 SELECT * FROM access_tokens;
        DROP TABLE access_tokens;
        ALTER TABLE access_tokens_v12 RENAME TO access_tokens;
        CREATE INDEX access_tokens_user_app ON access_tokens (user_id, app_id);";

    /// Puts a database of schema v12 back to v11.
    const UNDO_V12: &str = "DELETE FROM schema_migrations WHERE version >= 12;
        ALTER TABLE apps DROP COLUMN introspect_all_tokens;";

    /// Puts a database of schema v11 back to v10.
    const UNDO_V11: &str = "DELETE FROM schema_migrations WHERE version >= 11;
        DROP INDEX users_id15; DROP INDEX apps_id15; DROP INDEX approvals_id15;";

    /// A database of schema v14 (refresh tokens ordered by a `seq` of their own) opened by this build: the
    /// column and its index are gone, the tokens stay live, and the cap still revokes the first inserted of
    /// those issued in one millisecond.
    #[test]
    fn schema_v15_orders_refresh_tokens_by_rowid() {
        let db = sqlite();
        let (user, app) = user_and_app(db.store.as_ref());
        for n in 0..5 {
            db.store
                .issue_tokens(&tokens_only(
                    access(&user, &app, &format!("at-v14-{n}"), T0),
                    Some(refresh(&user, &app, &format!("rt-v14-{n}"), T0)),
                ))
                .unwrap();
        }
        let upgraded = Upgraded::from(&db, UNDO_V15);
        assert!(upgraded.indexes(&["refresh_tokens_seq"]).is_empty());
        let columns: Vec<String> = upgraded
            .raw
            .prepare("SELECT name FROM pragma_table_info('refresh_tokens')")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(!columns.iter().any(|c| c == "seq"), "{columns:?}");
        let store = upgraded.store;
        store
            .issue_tokens(&tokens_only(
                access(&user, &app, "at-v15", T0),
                Some(refresh(&user, &app, "rt-v15", T0)),
            ))
            .unwrap();
        assert!(
            !refresh_live(store.as_ref(), "rt-v14-0"),
            "the first is the oldest"
        );
        for rt in ["rt-v14-1", "rt-v14-4", "rt-v15"] {
            assert!(refresh_live(store.as_ref(), rt), "{rt}");
        }
    }

    /// A database of schema v13 (sessions indexed by user and app, and revoked by writing each) opened by this
    /// build: the index is gone, the sessions stay, and revoking a user's tokens for the app takes them.
    #[test]
    fn schema_v14_revokes_sessions_by_cutoff_without_their_user_app_index() {
        let db = sqlite();
        let (user, app) = user_and_app(db.store.as_ref());
        db.store
            .issue_tokens(&tokens_only(access(&user, &app, "at-v13", T0), None))
            .unwrap();
        let upgraded = Upgraded::from(&db, &format!("{UNDO_V15}{UNDO_V14}"));
        assert!(upgraded.indexes(&["access_tokens_user_app"]).is_empty());
        let store = upgraded.store;
        assert!(alive(store.as_ref(), "at-v13", T0 + 1));
        store
            .revoke_user_app_tokens(&user.id, &app, T0 + 2)
            .unwrap();
        assert!(!alive(store.as_ref(), "at-v13", T0 + 3));
    }

    /// A database of schema v12 (each session a row of a rowid table and an entry in the index of its key)
    /// opened by this build: the sessions move to a table without rowids, are found by their keys, and the
    /// purge walks that table in key order.
    #[test]
    fn schema_v13_keeps_sessions_in_key_order_without_rowids() {
        let db = sqlite();
        let (user, app) = user_and_app(db.store.as_ref());
        for (at, issued) in [("at-v12-old", T0), ("at-v12-new", T0 + 200 * MINUTE)] {
            db.store
                .issue_tokens(&tokens_only(access(&user, &app, at, issued), None))
                .unwrap();
        }
        let upgraded = Upgraded::from(&db, &format!("{UNDO_V15}{UNDO_V14}{UNDO_V13}"));
        let table: String = upgraded
            .raw
            .query_row(
                "SELECT sql FROM sqlite_master WHERE name = 'access_tokens'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(table.ends_with("WITHOUT ROWID"), "{table}");
        let store = upgraded.store;
        let now = T0 + 200 * MINUTE + 1;
        assert!(alive(store.as_ref(), "at-v12-new", now));
        // The old session timed out after 120 minutes: the purge finds it.
        assert_eq!(store.purge_expired(now).unwrap().access_tokens, 1);
        assert!(
            store
                .access_token(&keys::token_key("at-v12-old"))
                .unwrap()
                .is_none()
        );
        assert!(alive(store.as_ref(), "at-v12-new", now));
    }

    /// A database of schema v11 (no "Introspect All Tokens") opened by this build: its apps read back with the
    /// policy off, and it can be turned on.
    #[test]
    fn schema_v12_adds_introspect_all_tokens_off() {
        let db = sqlite();
        let (_, app) = user_and_app(db.store.as_ref());
        let store = Upgraded::from(&db, &format!("{UNDO_V15}{UNDO_V14}{UNDO_V13}{UNDO_V12}")).store;
        let found = store.app_by_id(&app).unwrap().expect("the app survives");
        assert!(!found.introspect_all_tokens);
        let updated = store
            .update_app(
                &found.name,
                &AppUpdate {
                    introspect_all_tokens: Some(true),
                    updated_at: T0 + 1,
                    ..Default::default()
                },
            )
            .unwrap();
        assert!(updated.introspect_all_tokens);
        assert!(
            store
                .app_by_id(&app)
                .unwrap()
                .unwrap()
                .introspect_all_tokens
        );
    }

    /// A database of schema v10 (records found by id through a scan of their table) opened by this build: the
    /// indexes on the ids' first 15 characters are there, and records are found through them.
    #[test]
    fn schema_v11_indexes_the_ids_records_are_found_by() {
        let db = sqlite();
        let (user, app) = user_and_app(db.store.as_ref());
        let upgraded = Upgraded::from(
            &db,
            &format!("{UNDO_V15}{UNDO_V14}{UNDO_V13}{UNDO_V12}{UNDO_V11}"),
        );
        let new = ["approvals_id15", "apps_id15", "users_id15"];
        assert_eq!(upgraded.indexes(&new), new);
        let store = upgraded.store;
        let by_15 = SfId::parse(user.id.to_15()).unwrap();
        assert_eq!(
            store.user_by_id(&by_15).unwrap().map(|u| u.id),
            Some(user.id)
        );
        let app_15 = SfId::parse(app.to_15()).unwrap();
        assert_eq!(store.app_by_id(&app_15).unwrap().map(|a| a.id), Some(app));
    }

    /// A test database put back into an older schema by raw SQL, then opened by this build, which migrates it.
    struct Upgraded {
        store: Arc<dyn Store>,
        raw: rusqlite::Connection,
    }

    impl Upgraded {
        fn from(db: &Sqlite, downgrade: &str) -> Self {
            rusqlite::Connection::open(db.path())
                .unwrap()
                .execute_batch(downgrade)
                .unwrap();
            let store = store::open(&DatabaseUrl::Sqlite(db.path()), Arc::clone(&db.keys)).unwrap();
            let raw = rusqlite::Connection::open(db.path()).unwrap();
            Self { store, raw }
        }

        /// Which of `names` the migrated schema still has.
        fn indexes(&self, names: &[&str]) -> Vec<String> {
            let mut stmt = self
                .raw
                .prepare("SELECT name FROM sqlite_master WHERE type = 'index' ORDER BY name")
                .unwrap();
            let all = stmt
                .query_map([], |r| r.get::<_, String>(0))
                .unwrap()
                .collect::<Result<Vec<_>, _>>()
                .unwrap();
            all.into_iter()
                .filter(|n| names.contains(&n.as_str()))
                .collect()
        }
    }

    /// A database of schema v8 (sessions revoked by a write through an index from refresh token to sessions)
    /// opened by this build: the index goes, sessions' timeouts come under the longest one the purge's retention
    /// counts on, and sessions revoked the old way stay revoked.
    #[test]
    fn schema_v9_drops_the_refresh_index_and_bounds_session_timeouts() {
        let db = sqlite();
        let (user, app) = user_and_app(db.store.as_ref());
        for (at, rt) in [
            ("at-v8-long", "rt-v8-long"),
            ("at-v8-revoked", "rt-v8-revoked"),
        ] {
            db.store
                .issue_tokens(&tokens_only(
                    access(&user, &app, at, T0),
                    Some(refresh(&user, &app, rt, T0)),
                ))
                .unwrap();
        }
        let upgraded = Upgraded::from(&db, &format!(
            "{UNDO_V15}{UNDO_V14}{UNDO_V13}{UNDO_V12}{UNDO_V11}
             DELETE FROM schema_migrations WHERE version >= 9;
             ALTER TABLE auth_codes DROP COLUMN access_hash;
             ALTER TABLE auth_codes DROP COLUMN refresh_hash;
             CREATE INDEX access_tokens_code ON access_tokens (from_code) WHERE from_code IS NOT NULL;
             CREATE INDEX refresh_tokens_code ON refresh_tokens (from_code) WHERE from_code IS NOT NULL;
             CREATE INDEX access_tokens_refresh ON access_tokens (refresh_hash) WHERE refresh_hash IS NOT NULL;
             CREATE INDEX refresh_tokens_user_app ON refresh_tokens (user_id, app_id);
             UPDATE access_tokens SET session_timeout_ms = 2 * 86400000 WHERE token_hash = '{long}';
             UPDATE refresh_tokens SET revoked_at = {T0} WHERE token_hash = '{revoked}';
             UPDATE access_tokens SET revoked_at = {T0} WHERE refresh_hash = '{revoked}';",
            long = keys::token_key("at-v8-long"),
            revoked = keys::token_key("rt-v8-revoked"),
        ));
        assert_eq!(
            upgraded.indexes(&["access_tokens_refresh", "refresh_tokens_user_app"]),
            Vec::<String>::new()
        );
        let store = upgraded.store;
        let long = store
            .access_token(&keys::token_key("at-v8-long"))
            .unwrap()
            .unwrap();
        assert_eq!(long.session_timeout_ms, MAX_SESSION_TIMEOUT_MS);
        assert!(!alive(store.as_ref(), "at-v8-revoked", T0 + 1));
        assert!(alive(store.as_ref(), "at-v8-long", T0 + 1));
    }

    /// A database of schema v9 (tokens found by their code through two indexes) opened by this build: the
    /// indexes go, and a code exchanged before the upgrade still has its tokens revoked when it is replayed.
    #[test]
    fn schema_v10_moves_what_a_code_issued_onto_the_code() {
        let db = sqlite();
        let (user, app) = user_and_app(db.store.as_ref());
        for (c, at, rt) in [
            ("code-v9-a", "at-v9-a", "rt-v9-a"),
            ("code-v9-b", "at-v9-b", "rt-v9-b"),
        ] {
            db.store.insert_code(&code(&user, &app, c, T0)).unwrap();
            assert!(matches!(
                db.store.redeem_code(&keys::token_key(c), T0).unwrap(),
                Redeemed::Fresh(_)
            ));
            db.store
                .issue_tokens(&IssueTokens {
                    access: access(&user, &app, at, T0),
                    refresh: Some(refresh(&user, &app, rt, T0)),
                    from_code: Some(keys::token_key(c)),
                    event: None,
                    facts_version: None,
                })
                .unwrap();
        }
        let upgraded = Upgraded::from(
            &db,
            &format!(
                "{UNDO_V15}{UNDO_V14}{UNDO_V13}{UNDO_V12}{UNDO_V11}
                 DELETE FROM schema_migrations WHERE version = 10;
                 ALTER TABLE auth_codes DROP COLUMN access_hash;
                 ALTER TABLE auth_codes DROP COLUMN refresh_hash;
                 CREATE INDEX access_tokens_code ON access_tokens (from_code) WHERE from_code IS NOT NULL;
                 CREATE INDEX refresh_tokens_code ON refresh_tokens (from_code) WHERE from_code IS NOT NULL;"
            ),
        );
        assert_eq!(
            upgraded.indexes(&["access_tokens_code", "refresh_tokens_code"]),
            Vec::<String>::new()
        );
        let store = upgraded.store;
        let now = T0 + MINUTE;
        assert!(matches!(
            store
                .redeem_code(&keys::token_key("code-v9-a"), now)
                .unwrap(),
            Redeemed::Replayed(_)
        ));
        assert!(!alive(store.as_ref(), "at-v9-a", now));
        assert!(!refresh_live(store.as_ref(), "rt-v9-a"));
        assert!(alive(store.as_ref(), "at-v9-b", now));
        assert!(refresh_live(store.as_ref(), "rt-v9-b"));
    }

    #[test]
    fn two_connections_to_one_file_both_write() {
        let db = sqlite();
        let url = DatabaseUrl::Sqlite(db.path());
        let second = store::open(&url, Arc::clone(&db.keys)).unwrap();
        both_write(Arc::clone(&db.store), second);
    }

    /// A change made by another process on the same file (an admin command) is in the server's next grant.
    #[test]
    fn grant_facts_follow_another_process_s_changes() {
        let db = sqlite();
        let second = store::open(&DatabaseUrl::Sqlite(db.path()), Arc::clone(&db.keys)).unwrap();
        grant_facts_follow_changes(db.store.as_ref(), second.as_ref());
    }

    /// A change to a user made by another process on the same file (an admin command) is in the server's next
    /// code exchange and session read, though its writer keeps the users it read.
    #[test]
    fn exchanges_and_sessions_see_another_process_s_user_changes() {
        let db = sqlite();
        let second = store::open(&DatabaseUrl::Sqlite(db.path()), Arc::clone(&db.keys)).unwrap();
        exchanges_and_sessions_see_their_user_as_it_is(db.store.as_ref(), second.as_ref());
    }

    /// What a grant read is kept with the version it was read at, for the next grant to decide on without a
    /// read; a change by another process leaves it there, unconfirmed, until a read sees the new version.
    #[test]
    fn cached_facts_carry_the_version_they_were_read_at() {
        let db = sqlite();
        let store = db.store.as_ref();
        let second = store::open(&DatabaseUrl::Sqlite(db.path()), Arc::clone(&db.keys)).unwrap();
        let (user, app_id) = user_and_app(store);
        let lookup = GrantLookup {
            consumer_key: store.app_by_id(&app_id).unwrap().unwrap().consumer_key,
            user: GrantUser::Id(user.id.clone()),
            secret: true,
            approval: false,
        };
        assert_eq!(store.cached_grant_facts(&lookup), None);
        let read = store.grant_facts(&lookup).unwrap();
        let at = store.facts_version().unwrap();
        assert_eq!(store.cached_grant_facts(&lookup), Some((at, read.clone())));
        second.set_user_active(&user.id, false, T0).unwrap();
        assert_eq!(store.cached_grant_facts(&lookup), Some((at, read)));
        let fresh = store.grant_facts(&lookup).unwrap();
        assert!(!fresh.user.as_ref().unwrap().active);
        let now = store.facts_version().unwrap();
        assert_ne!(now, at);
        assert_eq!(store.cached_grant_facts(&lookup), Some((now, fresh)));
    }

    #[test]
    fn the_file_holds_no_plaintext_secret_or_token() {
        let db = sqlite();
        let store = db.store.as_ref();
        let (user, app) = user_and_app(store);
        let secret = store.app_secret(&app).unwrap();
        let signing = store.signing_key().unwrap().unwrap();
        let access_token = keys::generate_access_token(store.org().unwrap().id.to_15(), T0);
        let refresh_token = keys::generate_refresh_token(T0);
        let auth_code = keys::generate_code(T0);
        store
            .insert_code(&code(&user, &app, &auth_code, T0))
            .unwrap();
        store
            .issue_tokens(&tokens_only(
                access(&user, &app, &access_token, T0),
                Some(refresh(&user, &app, &refresh_token, T0)),
            ))
            .unwrap();
        let bytes = db.raw_bytes();
        let contains = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
        assert!(
            contains(b"PlatformCLI"),
            "sanity: the scan sees stored text"
        );
        assert!(
            contains(keys::token_key(&access_token).as_bytes()),
            "sanity: hashes are stored"
        );
        for (what, plain) in [
            ("consumer secret", secret.as_bytes()),
            ("access token", access_token.as_bytes()),
            ("refresh token", refresh_token.as_bytes()),
            ("authorization code", auth_code.as_bytes()),
            ("signing key", &signing.pkcs8_der[..64]),
        ] {
            assert!(
                !contains(plain),
                "the database file holds the plaintext {what}"
            );
        }
    }

    #[test]
    fn reopening_keeps_data_and_a_wrong_key_cannot_decrypt() {
        let db = sqlite();
        allow_apps(db.store.as_ref());
        let (app, secret) = db.store.create_app(&web_app("Persisted")).unwrap();
        let url = DatabaseUrl::Sqlite(db.path());
        let reopened = store::open(&url, Arc::clone(&db.keys)).unwrap();
        assert_eq!(reopened.app_secret(&app.id).unwrap(), secret);
        assert_eq!(reopened.org().unwrap().id, db.store.org().unwrap().id);
        let wrong = store::open(&url, Arc::new(Keys::ephemeral())).unwrap();
        assert!(matches!(
            wrong.app_secret(&app.id),
            Err(StoreError::Decrypt { .. })
        ));
        assert!(matches!(
            wrong.signing_key(),
            Err(StoreError::Decrypt { .. })
        ));
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let db = sqlite();
        let path = db.path();
        let raw = rusqlite::Connection::open(&path).unwrap();
        raw.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES (99, 0)",
            [],
        )
        .unwrap();
        drop(raw);
        match store::open(&DatabaseUrl::Sqlite(path), Arc::clone(&db.keys)) {
            Err(StoreError::SchemaTooNew { found: 99, .. }) => {}
            Err(other) => panic!("expected SchemaTooNew, got {other}"),
            Ok(_) => panic!("expected SchemaTooNew, got a store"),
        }
    }

    /// The purge deletes in batches (each its own transaction, so grants wait for at most one batch) and goes on
    /// until nothing expired is left: more rows than one batch takes are all gone, live ones untouched.
    #[test]
    fn the_purge_takes_every_expired_row_in_batches() {
        let db = sqlite();
        let raw = rusqlite::Connection::open(db.path()).unwrap();
        raw.execute_batch("BEGIN").unwrap();
        for i in 0..12_345 {
            raw.execute(
                "INSERT INTO access_tokens (token_hash, app_id, user_id, scopes, issued_at, last_used_at,
                                            session_timeout_ms)
                 VALUES (?1, 'app', 'user', 'api', 0, 0, 1000)",
                [format!("dead-{i}")],
            )
            .unwrap();
        }
        raw.execute(
            "INSERT INTO access_tokens (token_hash, app_id, user_id, scopes, issued_at, last_used_at,
                                        session_timeout_ms)
             VALUES ('alive', 'app', 'user', 'api', ?1, ?1, 3600000)",
            [T0],
        )
        .unwrap();
        raw.execute_batch("COMMIT").unwrap();
        let purged = db.store.purge_expired(T0).unwrap();
        assert_eq!(purged.access_tokens, 12_345);
        let left: Vec<String> = raw
            .prepare("SELECT token_hash FROM access_tokens")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(left, vec!["alive".to_owned()]);
    }

    /// No index leads from a code to its tokens, nor from a refresh token to its sessions (an exchange or a
    /// refresh grant would write to it at a random place): a replay finds what its code issued on the code's
    /// row, and a session reads its refresh token's revocation through the token's own key. The queries that
    /// remain use their indexes.
    #[test]
    fn lookups_by_refresh_token_or_code_use_their_keys() {
        let db = sqlite();
        let raw = rusqlite::Connection::open(db.path()).unwrap();
        let plan = |sql: &str| -> String {
            raw.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .unwrap()
                .query_map(["x"], |row| row.get::<_, String>(3))
                .unwrap()
                .collect::<Result<Vec<_>, _>>()
                .unwrap()
                .join("; ")
        };
        let session = plan(
            "SELECT COALESCE(a.revoked_at, r.revoked_at) FROM access_tokens a
             LEFT JOIN refresh_tokens r ON r.token_hash = a.refresh_hash WHERE a.token_hash = ?1",
        );
        assert!(!session.contains("SCAN"), "{session}");
        assert!(
            session.contains("SEARCH r USING INDEX sqlite_autoindex_refresh_tokens_1"),
            "{session}"
        );
        // What a replayed code issued is on the code's row, found by its key.
        let by_code = plan("SELECT access_hash, refresh_hash FROM auth_codes WHERE code_hash = ?1");
        assert!(
            by_code.contains("SEARCH auth_codes USING INDEX sqlite_autoindex_auth_codes_1"),
            "{by_code}"
        );
        // Revoking a user's (or a user and app's) refresh tokens walks the index of live ones.
        let by_user = plan(
            "UPDATE refresh_tokens SET revoked_at = 1 WHERE user_id = ?1 AND revoked_at IS NULL",
        );
        assert!(
            by_user.contains("USING INDEX refresh_tokens_live"),
            "{by_user}"
        );
        let indexes: Vec<String> = raw
            .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'access_tokens'")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for dropped in ["access_tokens_refresh", "access_tokens_code"] {
            assert!(!indexes.iter().any(|i| i == dropped), "{indexes:?}");
        }
        // The cap on live refresh tokens per user and app walks live tokens only, already in order (the rowid
        // ends every index entry), and reads no row of the table.
        let cap = raw
            .prepare(
                "EXPLAIN QUERY PLAN SELECT rowid FROM refresh_tokens
                 WHERE user_id = ?1 AND app_id = ?2 AND revoked_at IS NULL
                 ORDER BY issued_at DESC, rowid DESC LIMIT -1 OFFSET ?3",
            )
            .unwrap()
            .query_map(rusqlite::params!["u", "a", 5], |row| {
                row.get::<_, String>(3)
            })
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap()
            .join("; ");
        assert!(cap.contains("refresh_tokens_live"), "{cap}");
        assert!(!cap.contains("TEMP B-TREE"), "the cap must not sort: {cap}");
        let events: String = raw
            .query_row(
                "SELECT sql FROM sqlite_master WHERE name = 'login_events'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(
            !events.contains("AUTOINCREMENT"),
            "login history must not write sqlite_sequence on every event: {events}"
        );
    }

    #[test]
    fn an_empty_database_has_no_org() {
        let dir = tempfile::tempdir().unwrap();
        let url = DatabaseUrl::Sqlite(dir.path().join("nested").join("org.sqlite"));
        let store = store::open(&url, Arc::new(Keys::ephemeral())).unwrap();
        assert_eq!(store.org(), Err(StoreError::NoOrg));
        assert!(store.signing_key().unwrap().is_none());
    }

    #[test]
    fn unsupported_urls_are_refused_with_the_fix() {
        let err = DatabaseUrl::parse("mysql://localhost/org").unwrap_err();
        assert_eq!(
            err.to_string(),
            "unsupported database URL scheme \"mysql\"; use sqlite://PATH (for example \
             sqlite:///var/lib/sfr-org/org.sqlite), a plain file path, or \
             postgres://USER:PASSWORD@HOST:PORT/DATABASE"
        );
    }
}
