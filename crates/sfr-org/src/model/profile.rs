//! Profiles: every user has exactly one.

use sfr_wire::SfId;

pub const SYSTEM_ADMINISTRATOR: &str = "System Administrator";
pub const STANDARD_USER: &str = "Standard User";

/// A profile (`00e…`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub id: SfId,
    pub name: String,
}
