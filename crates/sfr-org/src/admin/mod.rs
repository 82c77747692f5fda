//! The admin commands (`support`, `setup`, `user`, `permission-set`, `app`, `org`, `login-history`). They work
//! on the same database as a running server (SQLite WAL lets both in). Each returns a [`Report`]: the JSON
//! result (stable camelCase keys) and the text people read.

pub mod app;
pub mod history;
pub mod json;
pub mod org;
pub mod permission_set;
pub mod user;

use std::path::PathBuf;

use crate::bootstrap::{self, OpenError, OpenOrg};
use crate::clock::SystemClock;
use crate::store::{DatabaseUrl, StoreError};

/// Where the admin commands find the org.
#[derive(Debug, Clone)]
pub struct Context {
    pub database: DatabaseUrl,
    pub key_file: Option<PathBuf>,
}

impl Context {
    /// Opens the org, creating it on first use; a newly created admin's credentials go to stderr (once).
    pub fn open(&self) -> Result<OpenOrg, AdminError> {
        let opened = bootstrap::open_org(&self.database, self.key_file.as_deref(), &SystemClock)?;
        if let Some(b) = &opened.bootstrapped {
            eprintln!(
                "Created a new org {} in {}.\nAdmin user (password shown only this once):\n  username: {}\n  password: {}",
                b.org_id,
                self.database.path().display(),
                b.admin_username,
                b.admin_password
            );
        }
        Ok(opened)
    }
}

/// What a command produced.
#[derive(Debug, Clone)]
pub struct Report {
    /// The `result` of `{"status":0,"result":…}`.
    pub json: serde_json::Value,
    /// Human-readable output (stdout).
    pub human: String,
}

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A flag value that does not parse, or a file that cannot be read.
    #[error("{0}")]
    Usage(String),
}

impl AdminError {
    /// A stable name for `--json` errors.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Open(OpenError::WrongKey { .. }) => "WrongMasterKey",
            Self::Open(OpenError::Key(_)) => "KeyFileError",
            Self::Open(OpenError::Store(e)) | Self::Store(e) => store_error_name(e),
            Self::Open(OpenError::Bootstrap(_)) => "BootstrapError",
            Self::Usage(_) => "InvalidArgument",
        }
    }
}

fn store_error_name(e: &StoreError) -> &'static str {
    match e {
        StoreError::UnsupportedUrl { .. } => "UnsupportedDatabaseUrl",
        StoreError::Open { .. } => "DatabaseOpenError",
        StoreError::SchemaTooNew { .. } => "SchemaTooNew",
        StoreError::NoOrg => "NoOrg",
        StoreError::UnknownProfile { .. } => "UnknownProfile",
        StoreError::UnknownPermissionSet { .. } => "UnknownPermissionSet",
        StoreError::UnknownUser { .. } => "UnknownUser",
        StoreError::UnknownApp { .. } => "UnknownApp",
        StoreError::DuplicateUsername(_) => "DuplicateUsername",
        StoreError::DuplicatePermissionSet(_) => "DuplicatePermissionSet",
        StoreError::DuplicateApp(_) => "DuplicateApp",
        StoreError::AppCreationBlocked(_) => "AppCreationBlocked",
        StoreError::Invalid { .. } => "InvalidArgument",
        StoreError::Decrypt { .. } => "WrongMasterKey",
        StoreError::Corrupt(_) => "CorruptData",
        StoreError::Database(_) => "DatabaseError",
        StoreError::FactsChanged => "ConcurrentChange",
        StoreError::Internal(_) => "InternalError",
    }
}

/// `" --database URL"` when the database is not the default, for commands we print as next steps.
pub fn database_flag(database: &DatabaseUrl) -> String {
    let default = DatabaseUrl::parse(&bootstrap::default_database_url()).ok();
    if default.as_ref() == Some(database) {
        String::new()
    } else {
        format!(" --database {database}")
    }
}

/// Formats ms since the epoch as RFC 3339 UTC.
pub fn format_time(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| ms.to_string())
}
