//! The REST calls clients make after login: API versions, the version resource map, `sobjects/User/<id>`, and the
//! SOQL queries `sf` sends (Organization, ScratchOrgInfo, tooling SandboxProcess).

pub mod data;
pub mod soql;
pub mod versions;
