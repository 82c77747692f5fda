//! The "Refresh Token Policy" of a connected app.

use std::fmt;

use super::ParseError;

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

/// A length of time as the policy states it: `12h`, `90d`, `6m` (months of 30 days).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PolicyDuration {
    pub amount: u32,
    pub unit: DurationUnit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DurationUnit {
    Hours,
    Days,
    Months,
}

impl PolicyDuration {
    pub fn as_ms(self) -> i64 {
        let unit = match self.unit {
            DurationUnit::Hours => HOUR_MS,
            DurationUnit::Days => DAY_MS,
            DurationUnit::Months => 30 * DAY_MS,
        };
        i64::from(self.amount) * unit
    }

    fn parse(s: &str) -> Option<Self> {
        let split = s.len().checked_sub(1)?;
        let (digits, unit) = s.split_at(split);
        let amount: u32 = digits.parse().ok().filter(|n| *n > 0)?;
        let unit = match unit {
            "h" => DurationUnit::Hours,
            "d" => DurationUnit::Days,
            "m" => DurationUnit::Months,
            _ => return None,
        };
        Some(Self { amount, unit })
    }
}

impl fmt::Display for PolicyDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match self.unit {
            DurationUnit::Hours => "h",
            DurationUnit::Days => "d",
            DurationUnit::Months => "m",
        };
        write!(f, "{}{unit}", self.amount)
    }
}

/// How long a refresh token stays valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RefreshPolicy {
    /// Valid until revoked (the default).
    #[default]
    UntilRevoked,
    /// Refresh tokens expire immediately: a refresh never succeeds.
    Immediately,
    /// Expires this long after it was issued.
    ExpireAfter(PolicyDuration),
    /// Expires when not used for this long.
    ExpireIfUnused(PolicyDuration),
}

impl RefreshPolicy {
    pub const SYNTAX: &'static str = "until-revoked, immediately, expire-after:N{h|d|m} or expire-if-unused:N{h|d|m} (m = months)";

    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let err = || ParseError {
            what: "refresh token policy",
            value: s.to_owned(),
            expected: Self::SYNTAX,
        };
        match s {
            "until-revoked" => return Ok(Self::UntilRevoked),
            "immediately" => return Ok(Self::Immediately),
            _ => {}
        }
        if let Some(d) = s.strip_prefix("expire-after:") {
            return PolicyDuration::parse(d)
                .map(Self::ExpireAfter)
                .ok_or_else(err);
        }
        if let Some(d) = s.strip_prefix("expire-if-unused:") {
            return PolicyDuration::parse(d)
                .map(Self::ExpireIfUnused)
                .ok_or_else(err);
        }
        Err(err())
    }

    /// When a refresh token issued at `issued_at` and last used at `last_used_at` stops being valid; `None` for
    /// never. `Immediately` answers `issued_at`: the token is dead on arrival.
    pub fn expires_at(self, issued_at: i64, last_used_at: i64) -> Option<i64> {
        match self {
            Self::UntilRevoked => None,
            Self::Immediately => Some(issued_at),
            Self::ExpireAfter(d) => Some(issued_at.saturating_add(d.as_ms())),
            Self::ExpireIfUnused(d) => Some(last_used_at.saturating_add(d.as_ms())),
        }
    }

    /// Whether the policy reads a token's last use (`expire-if-unused`). Under any other a refresh grant does not
    /// record the use: the write would put the token's page, a random one, into every refresh grant's commit
    /// for nothing to read it. (`store::app_rules::restarts_idle_clock` covers a change to such a policy.)
    pub fn reads_last_use(self) -> bool {
        matches!(self, Self::ExpireIfUnused(_))
    }

    /// Whether such a token is expired at `now`.
    pub fn is_expired(self, issued_at: i64, last_used_at: i64, now: i64) -> bool {
        self.expires_at(issued_at, last_used_at)
            .is_some_and(|at| now >= at)
    }
}

impl fmt::Display for RefreshPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UntilRevoked => f.write_str("until-revoked"),
            Self::Immediately => f.write_str("immediately"),
            Self::ExpireAfter(d) => write!(f, "expire-after:{d}"),
            Self::ExpireIfUnused(d) => write!(f, "expire-if-unused:{d}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_round_trip_and_expire() {
        for text in [
            "until-revoked",
            "immediately",
            "expire-after:90d",
            "expire-if-unused:12h",
            "expire-after:6m",
        ] {
            assert_eq!(RefreshPolicy::parse(text).unwrap().to_string(), text);
        }
        for bad in [
            "expire-after:",
            "expire-after:0d",
            "expire-after:9y",
            "forever",
            "expire-after:d",
        ] {
            assert!(RefreshPolicy::parse(bad).is_err(), "{bad}");
        }
        let p = RefreshPolicy::parse("expire-after:1d").unwrap();
        assert!(!p.is_expired(0, 0, DAY_MS - 1));
        assert!(p.is_expired(0, 0, DAY_MS));
        let idle = RefreshPolicy::parse("expire-if-unused:1h").unwrap();
        assert!(!idle.is_expired(0, 10 * HOUR_MS, 10 * HOUR_MS + 1));
        assert!(idle.is_expired(0, 10 * HOUR_MS, 11 * HOUR_MS));
        assert!(RefreshPolicy::Immediately.is_expired(5, 5, 5));
        assert!(!RefreshPolicy::UntilRevoked.is_expired(0, 0, i64::MAX));
    }
}
