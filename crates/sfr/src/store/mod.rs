//! `sf`'s on-disk store and nothing else (spec §6): auth files in `~/.sfdx`, their v1/v2 encryption, the key
//! (key.json / secret service / keychain), lock directories and atomic writes, aliases and config resolution.
//!
//! Every write is lock → re-read → merge → atomic rename → unlock, so `sf` and `sfr` can share one HOME.

mod aliases;
mod atomic;
mod auth_file;
mod config;
mod crypto;
mod json;
mod keychain;
mod lock;

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::{Map, Value};

pub use auth_file::{AuthFile, OAuthMethod};
pub use config::{ConfigEntry, ConfigKey};
pub use crypto::{Crypto, is_secret_key};
pub use keychain::KeySource;
pub use lock::FileLock;

/// Everything that can go wrong in the store. Each variant maps to sf's named error (see `name()`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("HOME is not set; cannot locate the ~/.sfdx store")]
    NoHome,
    #[error("{path}: {message}")]
    Io { path: PathBuf, message: String },
    #[error("{path} is not a valid sf file: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    #[error("Invalid file permissions for secret file: {}", path.display())]
    KeychainInvalidPerms { path: PathBuf },
    #[error("The service and account specified in {} do not match the version of the toolbelt.", path.display())]
    KeychainService { path: PathBuf },
    #[error(
        "Command failed with response:\n - {response}\nThe key is looked up in the system keyring through {tool}; set SF_USE_GENERIC_UNIX_KEYCHAIN=true to use ~/.sfdx/key.json instead (sf honours it too)."
    )]
    KeychainCommand { tool: String, response: String },
    #[error("Invalid encryption key: {reason}")]
    InvalidKey { reason: String },
    #[error("Failed to decipher auth data. reason: {reason}.")]
    Decrypt { reason: String },
    #[error("Failed to encrypt auth data.")]
    Encrypt,
    #[error("No authorization information found for {name}.")]
    NamedOrgNotFound { name: String },
    #[error("Invalid username {name:?}: it cannot be used as a file name.")]
    InvalidUsername { name: String },
    #[error("Timed out waiting for the lock {} held by another process.", path.display())]
    Locked { path: PathBuf },
    #[error("Unknown config name: {key}.")]
    UnknownConfigKey { key: String },
    #[error("{} does not contain a valid Salesforce DX project.", dir.display())]
    NotInProject { dir: PathBuf },
}

impl StoreError {
    pub(crate) fn io(path: &Path, e: &std::io::Error) -> Self {
        StoreError::Io {
            path: path.to_path_buf(),
            message: e.to_string(),
        }
    }

    /// sf's error name.
    pub fn name(&self) -> &'static str {
        match self {
            StoreError::NoHome | StoreError::Io { .. } => "Error",
            StoreError::Corrupt { .. } => "JsonParseError",
            StoreError::KeychainInvalidPerms { .. } => "GenericKeychainInvalidPermsError",
            StoreError::KeychainService { .. } => "GenericKeychainServiceError",
            StoreError::KeychainCommand { .. } => "KeyChainServiceCommandFailedError",
            StoreError::InvalidKey { .. } => "InvalidKeyError",
            StoreError::Decrypt { .. } => "AuthDecryptError",
            StoreError::Encrypt => "AuthEncryptError",
            StoreError::NamedOrgNotFound { .. } => "NamedOrgNotFoundError",
            StoreError::InvalidUsername { .. } => "InvalidUsernameError",
            StoreError::Locked { .. } => "LockError",
            StoreError::UnknownConfigKey { .. } => "UnknownConfigKeyError",
            StoreError::NotInProject { .. } => "InvalidProjectWorkspaceError",
        }
    }

    /// What the user can do about it.
    pub fn actions(&self) -> Vec<String> {
        match self {
            StoreError::KeychainInvalidPerms { path } => vec![format!(
                "Ensure the file {} has the file permission octal value of 600.",
                path.display()
            )],
            StoreError::KeychainCommand { .. } => vec![
                "Start a D-Bus session with an unlocked keyring (e.g. dbus-run-session), or set SF_USE_GENERIC_UNIX_KEYCHAIN=true to keep the key in ~/.sfdx/key.json.".to_owned(),
            ],
            StoreError::Corrupt { path, .. } => vec![format!(
                "Fix or remove {} (sfr leaves it untouched).",
                path.display()
            )],
            StoreError::Decrypt { .. } => vec![
                "The key in the keychain does not match the one that encrypted this file. Log in to the org again."
                    .to_owned(),
            ],
            StoreError::NamedOrgNotFound { .. } => vec![
                "Run \"sfr org list\" to see the orgs you have authorized, or log in with \"sfr org login web\"."
                    .to_owned(),
            ],
            StoreError::Locked { path } => vec![format!(
                "If no sf or sfr command is running, remove the directory {}.",
                path.display()
            )],
            StoreError::UnknownConfigKey { .. } => vec![
                "Supported names: target-org, target-dev-hub, org-instance-url, org-api-version.".to_owned(),
            ],
            StoreError::NotInProject { .. } => vec!["Run with --global to set for your entire workspace.".to_owned()],
            _ => Vec::new(),
        }
    }
}

/// Whether a file name in `~/.sfdx` is an auth file: `^[^.][^@]*@[^.]+(\.[^.\s]+)+\.json$`.
pub fn is_auth_file_name(name: &str) -> bool {
    let Some(stem) = name.strip_suffix(".json") else {
        return false;
    };
    if stem.starts_with('.') || stem.is_empty() {
        return false;
    }
    let Some((_, domain)) = stem.split_once('@') else {
        return false;
    };
    let Some((first, rest)) = domain.split_once('.') else {
        return false;
    };
    !first.is_empty()
        && rest
            .split('.')
            .all(|seg| !seg.is_empty() && !seg.chars().any(char::is_whitespace))
}

/// Handle on one HOME's sf store. Cheap to open: nothing is read until asked, the key only when a secret is needed.
#[derive(Debug)]
pub struct Store {
    home: PathBuf,
    cwd: PathBuf,
    keys: Option<KeySource>,
    crypto: OnceLock<Result<Crypto, StoreError>>,
}

impl Store {
    /// The store of `$HOME`, with the project found from the current directory.
    pub fn open() -> Result<Store, StoreError> {
        let home = std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from)
            .ok_or(StoreError::NoHome)?;
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        Ok(Store::at(home, cwd))
    }

    /// The store of an explicit HOME and working directory.
    pub fn at(home: impl Into<PathBuf>, cwd: impl Into<PathBuf>) -> Store {
        Store {
            home: home.into(),
            cwd: cwd.into(),
            keys: None,
            crypto: OnceLock::new(),
        }
    }

    /// Uses this key store instead of sf's platform/environment choice.
    #[cfg(test)]
    pub fn with_key_source(mut self, keys: KeySource) -> Store {
        self.keys = Some(keys);
        self
    }

    /// `~/.sfdx`.
    pub fn sfdx_dir(&self) -> PathBuf {
        self.home.join(".sfdx")
    }

    /// `~/.sf`.
    pub fn sf_dir(&self) -> PathBuf {
        self.home.join(".sf")
    }

    /// The cipher, loading (or creating) the key on first use.
    pub fn crypto(&self) -> Result<&Crypto, StoreError> {
        self.crypto
            .get_or_init(|| {
                let keys = self
                    .keys
                    .clone()
                    .unwrap_or_else(|| KeySource::select(&self.sfdx_dir()));
                keys.load_or_create()
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Path of a user's auth file (the username must be usable as a file name).
    pub fn auth_path(&self, username: &str) -> Result<PathBuf, StoreError> {
        if username.is_empty()
            || username.contains('/')
            || username.contains('\0')
            || username.starts_with('.')
        {
            return Err(StoreError::InvalidUsername {
                name: username.to_owned(),
            });
        }
        Ok(self.sfdx_dir().join(format!("{username}.json")))
    }

    /// Whether an auth file exists for this username.
    pub fn has_auth(&self, username: &str) -> bool {
        self.auth_path(username)
            .map(|p| p.is_file())
            .unwrap_or(false)
    }

    /// Usernames of the auth files sf would list, sorted.
    pub fn list_usernames(&self) -> Result<Vec<String>, StoreError> {
        let dir = self.sfdx_dir();
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(StoreError::io(&dir, &e)),
        };
        let mut names: Vec<String> = entries
            .flatten()
            .filter(|e| e.file_type().map(|t| t.is_file()).unwrap_or(false))
            .filter_map(|e| e.file_name().to_str().map(str::to_owned))
            .filter(|n| is_auth_file_name(n))
            .filter_map(|n| n.strip_suffix(".json").map(str::to_owned))
            .collect();
        names.sort();
        Ok(names)
    }

    /// Reads the raw (still encrypted) JSON object of a file; `None` when it does not exist.
    fn read_raw(path: &Path) -> Result<Option<Map<String, Value>>, StoreError> {
        let text = match fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(StoreError::io(path, &e)),
        };
        match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(m)) => Ok(Some(m)),
            Ok(_) => Err(StoreError::Corrupt {
                path: path.to_path_buf(),
                reason: "expected a JSON object".into(),
            }),
            Err(e) => Err(StoreError::Corrupt {
                path: path.to_path_buf(),
                reason: e.to_string(),
            }),
        }
    }

    /// As `read_raw`, for a reader that holds no lock: sf does not write atomically, so a file that does not parse
    /// while another process holds its lock is read again once that writer is done (up to `SETTLE_FOR`).
    fn read_raw_settled(path: &Path) -> Result<Option<Map<String, Value>>, StoreError> {
        const SETTLE_FOR: std::time::Duration = std::time::Duration::from_secs(2);
        let started = std::time::Instant::now();
        loop {
            match Self::read_raw(path) {
                Err(StoreError::Corrupt { .. })
                    if lock::is_locked(path) && started.elapsed() < SETTLE_FOR =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                other => return other,
            }
        }
    }

    /// Reads and decrypts a user's auth file.
    pub fn read_auth(&self, username: &str) -> Result<AuthFile, StoreError> {
        let path = self.auth_path(username)?;
        let raw = Self::read_raw_settled(&path)?.ok_or_else(|| StoreError::NamedOrgNotFound {
            name: username.to_owned(),
        })?;
        let mut fields = raw;
        if needs_crypto(&fields) {
            let crypto = self.crypto()?;
            decrypt_tree(&mut fields, crypto)?;
        }
        Ok(AuthFile::from_disk(fields))
    }

    /// Saves an auth file: lock, re-read, merge the changed top-level keys, encrypt every secret, atomic write.
    pub fn write_auth(&self, auth: &AuthFile) -> Result<(), StoreError> {
        let username = auth.username().ok_or_else(|| StoreError::InvalidUsername {
            name: String::new(),
        })?;
        let path = self.auth_path(username)?;
        let _lock = FileLock::acquire(&path)?;
        let merged = match Self::read_raw(&path)? {
            Some(mut on_disk) => {
                if auth.is_from_disk() {
                    for key in auth.changed() {
                        match auth.get(key) {
                            Some(v) => {
                                on_disk.insert(key.clone(), v.clone());
                            }
                            None => {
                                on_disk.shift_remove(key);
                            }
                        }
                    }
                } else {
                    // A new login over an existing file: every field we hold wins, others are kept.
                    for (k, v) in auth.fields() {
                        on_disk.insert(k.clone(), v.clone());
                    }
                    for key in auth.changed() {
                        if auth.get(key).is_none() {
                            on_disk.shift_remove(key);
                        }
                    }
                }
                on_disk
            }
            None => auth.canonical_fields(),
        };
        let mut merged = merged;
        let crypto = self.crypto()?;
        encrypt_tree(&mut merged, crypto)?;
        let text = json::pretty2(&Value::Object(merged));
        // A new auth file is created owner-only (sf reads it either way; it holds encrypted tokens and the key's
        // path); an existing one keeps whatever mode it has, as sf's in-place write does.
        let new_file_mode = (!path.exists()).then_some(0o600);
        atomic::write(&path, text.as_bytes(), new_file_mode).map_err(|e| StoreError::io(&path, &e))
    }

    /// sf's `AuthRemover.removeAuth`: unsets every local and global config key naming the user or one of its aliases,
    /// removes its aliases, deletes the auth file. Returns whether a file was deleted.
    pub fn remove_auth(&self, username: &str) -> Result<bool, StoreError> {
        let path = self.auth_path(username)?;
        let aliases = self.aliases_of(username)?;
        let mut names: Vec<&str> = aliases.iter().map(String::as_str).collect();
        names.push(username);
        self.unset_config_values_matching(&names)?;
        self.unset_aliases_of(username)?;
        let _lock = FileLock::acquire(&path)?;
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
            Err(e) => Err(StoreError::io(&path, &e)),
        }
    }

    /// The user's auth file's last access time (sf's `lastUsed`), if known.
    pub fn last_used(&self, username: &str) -> Option<std::time::SystemTime> {
        let path = self.auth_path(username).ok()?;
        fs::metadata(path).and_then(|m| m.accessed()).ok()
    }
}

/// Whether any secret leaf (per `is_secret_key`) holds a string.
fn needs_crypto(map: &Map<String, Value>) -> bool {
    map.iter().any(|(k, v)| match v {
        Value::String(_) => is_secret_key(k),
        Value::Object(inner) => needs_crypto(inner),
        _ => false,
    })
}

/// Decrypts every secret leaf that looks encrypted; plaintext passes through.
fn decrypt_tree(map: &mut Map<String, Value>, crypto: &Crypto) -> Result<(), StoreError> {
    for (k, v) in map.iter_mut() {
        match v {
            Value::String(s) if is_secret_key(k) => *s = crypto.decrypt(s)?,
            Value::Object(inner) => decrypt_tree(inner, crypto)?,
            _ => {}
        }
    }
    Ok(())
}

/// Encrypts every secret leaf that does not already look encrypted; empty secrets are dropped.
fn encrypt_tree(map: &mut Map<String, Value>, crypto: &Crypto) -> Result<(), StoreError> {
    let empty: Vec<String> = map
        .iter()
        .filter(|(k, v)| is_secret_key(k) && (v.is_null() || v.as_str() == Some("")))
        .map(|(k, _)| k.clone())
        .collect();
    for k in empty {
        map.shift_remove(&k);
    }
    for (k, v) in map.iter_mut() {
        match v {
            Value::String(s) if is_secret_key(k) && !crypto.looks_encrypted(s) => {
                *s = crypto.encrypt(s)?;
            }
            Value::Object(inner) => encrypt_tree(inner, crypto)?,
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod fixture_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_file_names_like_sf() {
        for ok in ["a@b.co.json", "web.user@example.com.json", "x@y.z.w.json"] {
            assert!(is_auth_file_name(ok), "{ok}");
        }
        for bad in [
            "x@localhost.json",
            ".a@b.co.json",
            "alias.json",
            "key.json",
            "00D000000000001AAA.json",
            "a@b.co.json.lock",
            "a@.co.json",
            "a@b..co.json",
            "a@b.c o.json",
        ] {
            assert!(!is_auth_file_name(bad), "{bad}");
        }
    }

    #[test]
    fn usernames_cannot_escape_the_store() {
        let s = Store::at("/nonexistent", "/");
        assert!(s.auth_path("../x@y.co").is_err());
        assert!(s.auth_path("a/b@y.co").is_err());
        assert!(s.auth_path("a@y.co").is_ok());
    }
}
