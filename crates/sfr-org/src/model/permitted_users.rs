//! The "Permitted Users" app policy.

use std::fmt;

use super::ParseError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PermittedUsers {
    /// "All users may self-authorize": anyone may use the app after approving it once.
    #[default]
    AllSelfAuthorize,
    /// "Admin approved users are pre-authorized": only users holding one of the app's profiles or permission sets.
    AdminApproved,
}

impl PermittedUsers {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::AllSelfAuthorize => "all",
            Self::AdminApproved => "admin-approved",
        }
    }

    pub fn parse(s: &str) -> Result<Self, ParseError> {
        match s {
            "all" | "all-self-authorize" => Ok(Self::AllSelfAuthorize),
            "admin-approved" => Ok(Self::AdminApproved),
            _ => Err(ParseError {
                what: "permitted users",
                value: s.to_owned(),
                expected: "all or admin-approved",
            }),
        }
    }
}

impl fmt::Display for PermittedUsers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
