//! Opening an org: the master key, the store, the first-run bootstrap (org, profiles, admin user, PlatformCLI,
//! signing key) and a check that the key matches the database. Shared by `serve` and the admin commands.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sfr_wire::SfId;

use crate::clock::Clock;
use crate::keys::{self, KeyError, Keys};
use crate::model::{NewApp, NewUser, Org, SYSTEM_ADMINISTRATOR, SigningKey};
use crate::store::{self, Bootstrap, DatabaseUrl, Store, StoreError};

/// The admin user every new org starts with. The domain has a dot: sf only lists auth files whose username
/// domain has one.
pub const ADMIN_USERNAME: &str = "admin@sfr-org.local";

/// The default database: `sqlite://<data dir>/sfr-org/org.sqlite`, data dir = `$XDG_DATA_HOME` or
/// `~/.local/share`.
pub fn default_database_url() -> String {
    let data_dir = std::env::var_os("XDG_DATA_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|home| PathBuf::from(home).join(".local").join("share"))
        })
        .unwrap_or_else(|| PathBuf::from("."));
    format!(
        "sqlite://{}",
        data_dir.join("sfr-org").join("org.sqlite").display()
    )
}

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(
        "the master key in {key_origin} does not decrypt the database {database}: {source}. Point --key-file \
         (or SFR_ORG_KEY) at the key this database was created with"
    )]
    WrongKey {
        key_origin: String,
        database: PathBuf,
        source: StoreError,
    },
    #[error("cannot create the org: {0}")]
    Bootstrap(String),
}

/// Credentials created on first run; shown once.
#[derive(Debug, Clone)]
pub struct Bootstrapped {
    pub org_id: SfId,
    pub admin_username: String,
    pub admin_password: String,
}

/// An open org.
pub struct OpenOrg {
    pub store: Arc<dyn Store>,
    pub keys: Arc<Keys>,
    pub org: Org,
    pub signing_key: SigningKey,
    pub database: DatabaseUrl,
    /// Where the master key came from (file path or `SFR_ORG_KEY`).
    pub key_origin: String,
    /// Set when this call created the org.
    pub bootstrapped: Option<Bootstrapped>,
}

/// Opens (and on first use creates) the org behind `database`. `key_file` defaults to the file next to the
/// database; `SFR_ORG_KEY` overrides both.
pub fn open_org(
    database: &DatabaseUrl,
    key_file: Option<&Path>,
    clock: &dyn Clock,
) -> Result<OpenOrg, OpenError> {
    let key_path = key_file
        .map(Path::to_path_buf)
        .unwrap_or_else(|| database.default_key_file());
    let (keys, key_created) = Keys::load(&key_path)?;
    let keys = Arc::new(keys);
    let key_origin = keys.origin().to_owned();
    let store = match store::open(database, Arc::clone(&keys)) {
        Ok(store) => store,
        Err(e) => {
            // Leave no key file behind for a database that could not be opened.
            if key_created {
                let _ = std::fs::remove_file(&key_path);
            }
            return Err(e.into());
        }
    };

    // A wrong key shows up as a signing key that will not decrypt. Do not leave a key file we just made.
    let existing_key = match store.signing_key() {
        Ok(k) => k,
        Err(source @ StoreError::Decrypt { .. }) => {
            if key_created {
                let _ = std::fs::remove_file(&key_path);
            }
            return Err(OpenError::WrongKey {
                key_origin,
                database: database.path().to_owned(),
                source,
            });
        }
        Err(e) => return Err(e.into()),
    };

    let now = clock.now_ms();
    let mut bootstrapped = None;
    if existing_key.is_none() {
        let password = keys::generate_password();
        let init = Bootstrap {
            org_name: Org::DEFAULT_NAME.to_owned(),
            admin: NewUser {
                username: ADMIN_USERNAME.to_owned(),
                email: ADMIN_USERNAME.to_owned(),
                first_name: Some("Org".to_owned()),
                last_name: "Admin".to_owned(),
                password_hash: keys::hash_password(&password)
                    .map_err(|e| OpenError::Bootstrap(e.to_string()))?,
                profile: SYSTEM_ADMINISTRATOR.to_owned(),
                permission_sets: Vec::new(),
                created_at: now,
            },
            platform_cli: NewApp::platform_cli(now),
            signing_key: keys::generate_signing_key(now).map_err(OpenError::Bootstrap)?,
            now,
        };
        if store.bootstrap(&init)? {
            let org = store.org()?;
            tracing::info!(org_id = %org.id, "created a new org");
            bootstrapped = Some(Bootstrapped {
                org_id: org.id,
                admin_username: ADMIN_USERNAME.to_owned(),
                admin_password: password,
            });
        }
    }
    let org = store.org()?;
    let signing_key = match store.signing_key()? {
        Some(k) => k,
        None => store
            .store_signing_key(&keys::generate_signing_key(now).map_err(OpenError::Bootstrap)?)?,
    };
    Ok(OpenOrg {
        store,
        keys,
        org,
        signing_key,
        database: database.clone(),
        key_origin,
        bootstrapped,
    })
}
