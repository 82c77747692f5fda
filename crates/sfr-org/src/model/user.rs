//! Users and their login lock state.

use sfr_wire::SfId;

use super::{PermissionSet, Profile};

/// A user (`005…`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: SfId,
    /// E-mail-shaped login name, unique in the org (compared case-insensitively).
    pub username: String,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: String,
    /// Argon2id PHC string (see `keys::password`).
    pub password_hash: String,
    pub active: bool,
    pub profile: Profile,
    pub permission_sets: Vec<PermissionSet>,
    /// Failed logins since the last success or lockout.
    pub failed_logins: u32,
    /// Locked out until this time (ms), if a lockout was ever set.
    pub locked_until: Option<i64>,
    pub last_login_at: Option<i64>,
    pub created_at: i64,
}

impl User {
    /// "First Last", or just the last name.
    pub fn display_name(&self) -> String {
        match &self.first_name {
            Some(first) if !first.is_empty() => format!("{first} {}", self.last_name),
            _ => self.last_name.clone(),
        }
    }

    /// Whether a lockout is in force at `now`.
    pub fn is_locked(&self, now: i64) -> bool {
        self.locked_until.is_some_and(|until| now < until)
    }

    pub fn has_permission_set(&self, name: &str) -> bool {
        self.permission_sets.iter().any(|ps| ps.name == name)
    }
}

/// What `create_user` needs. The profile and permission sets are named; the store resolves them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub username: String,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: String,
    pub password_hash: String,
    pub profile: String,
    pub permission_sets: Vec<String>,
    pub created_at: i64,
}

/// The outcome of recording a failed login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockState {
    /// Not locked; `failures` in a row so far, `remaining` more lock the user.
    Open { failures: u32, remaining: u32 },
    /// Locked until this time (ms).
    Locked { until: i64 },
}
