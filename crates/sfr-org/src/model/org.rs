//! The org (one per database) and its settings.

use sfr_wire::SfId;

use super::{MAX_SESSION_TIMEOUT_MINUTES, MINUTE_MS};

/// The org record. Settings that Salesforce keeps in Setup live here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Org {
    /// 18-character `00D…` id.
    pub id: SfId,
    pub name: String,
    /// Whether the org answers ScratchOrgInfo queries like a Dev Hub (on by default).
    pub dev_hub: bool,
    /// The Customer Support step: "Connected Apps" permission granted to the org (default off).
    pub connected_apps_permission: bool,
    /// The admin step: "Allow creation of connected apps" (default off).
    pub allow_connected_app_creation: bool,
    /// Session timeout used when an app sets none (minutes; default 120).
    pub session_timeout_minutes: u32,
    /// Failed logins in a row that lock a user out (default 5).
    pub lockout_threshold: u32,
    /// How long a lockout lasts (minutes; default 15).
    pub lockout_minutes: u32,
    pub created_at: i64,
}

impl Org {
    pub const DEFAULT_NAME: &'static str = "sfr Local Org";
    pub const DEFAULT_SESSION_TIMEOUT_MINUTES: u32 = 120;
    pub const DEFAULT_LOCKOUT_THRESHOLD: u32 = 5;
    pub const DEFAULT_LOCKOUT_MINUTES: u32 = 15;

    /// Whether new connected apps may be created (both steps done).
    pub fn allows_app_creation(&self) -> bool {
        self.connected_apps_permission && self.allow_connected_app_creation
    }

    /// The org's session timeout in ms, never above `MAX_SESSION_TIMEOUT_MINUTES`.
    pub fn session_timeout_ms(&self) -> i64 {
        i64::from(
            self.session_timeout_minutes
                .min(MAX_SESSION_TIMEOUT_MINUTES),
        ) * MINUTE_MS
    }

    pub fn lockout_ms(&self) -> i64 {
        i64::from(self.lockout_minutes) * MINUTE_MS
    }
}

/// A partial change of the org settings; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrgSettingsUpdate {
    pub name: Option<String>,
    pub dev_hub: Option<bool>,
    pub connected_apps_permission: Option<bool>,
    pub allow_connected_app_creation: Option<bool>,
    pub session_timeout_minutes: Option<u32>,
    pub lockout_threshold: Option<u32>,
    pub lockout_minutes: Option<u32>,
}
