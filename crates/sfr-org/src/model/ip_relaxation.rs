//! The "IP Relaxation" app policy. The local org defines no IP ranges, so `Enforce` never blocks anyone; the
//! value is kept so apps can be described faithfully.

use std::fmt;

use super::ParseError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IpRelaxation {
    #[default]
    Enforce,
    EnforceRelaxRefresh,
    Bypass2Factor,
    Bypass,
}

impl IpRelaxation {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Enforce => "enforce",
            Self::EnforceRelaxRefresh => "enforce-relax-refresh",
            Self::Bypass2Factor => "bypass-2factor",
            Self::Bypass => "bypass",
        }
    }

    pub fn parse(s: &str) -> Result<Self, ParseError> {
        match s {
            "enforce" => Ok(Self::Enforce),
            "enforce-relax-refresh" => Ok(Self::EnforceRelaxRefresh),
            "bypass-2factor" => Ok(Self::Bypass2Factor),
            "bypass" => Ok(Self::Bypass),
            _ => Err(ParseError {
                what: "IP relaxation",
                value: s.to_owned(),
                expected: "enforce, enforce-relax-refresh, bypass-2factor or bypass",
            }),
        }
    }
}

impl fmt::Display for IpRelaxation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
