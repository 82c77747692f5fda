//! The REST calls `sf` makes right after a login (spec §5), so the saved auth file holds every field `sf` writes and
//! `sf` never needs a round trip to fill them in: the username (userinfo + `sobjects/User`), the Dev Hub probe,
//! the API version cache, the Organization record and the SandboxProcess check.

use serde::Deserialize;
use serde_json::Value;
use sfr_wire::UserInfo;

use super::http::{HttpClient, HttpError, Response, join};
use crate::store::AuthFile;

/// The API version `sf` uses for the calls made before the org's maximum is known.
pub const BOOTSTRAP_API_VERSION: &str = "51.0";
const DEV_HUB_PROBE: &str = "SELECT Id FROM ScratchOrgInfo limit 1";
const ORGANIZATION_QUERY: &str = "SELECT Name, InstanceName, IsSandbox, TrialExpirationDate, NamespacePrefix, OrganizationType FROM Organization";
/// How long the cached `instanceApiVersion` is trusted.
pub const API_VERSION_CACHE_SECS: i64 = 24 * 60 * 60;

/// An access token and the instance it is valid on.
#[derive(Debug, Clone, Copy)]
pub struct Rest<'a> {
    pub http: &'a HttpClient,
    pub instance_url: &'a str,
    pub access_token: &'a str,
}

impl Rest<'_> {
    pub fn get(&self, path: &str) -> Result<Response, HttpError> {
        self.http
            .get_with_token(&join(self.instance_url, path), self.access_token)
    }

    fn query(&self, version: &str, tooling: bool, soql: &str) -> Result<Response, HttpError> {
        let kind = if tooling { "tooling/query" } else { "query" };
        self.get(&format!(
            "services/data/v{version}/{kind}?q={}",
            sfr_wire::encoding::escape(soql)
        ))
    }
}

/// The username could not be learned after a successful token grant.
#[derive(Debug, thiserror::Error)]
#[error("Could not retrieve the username after successful auth code exchange.\n\nDue to: {0}")]
pub struct UsernameError(pub String);

/// Who the token belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub user_id: String,
    pub org_id: String,
    pub username: String,
}

/// `GET /services/oauth2/userinfo`, then `GET /services/data/v51.0/sobjects/User/<user_id>` for `Username`.
pub fn identify(rest: Rest<'_>) -> Result<Identity, UsernameError> {
    let describe = |r: &Response| format!("HTTP {}: {}", r.status, r.body.trim());
    let resp = rest
        .get("services/oauth2/userinfo")
        .map_err(|e| UsernameError(e.to_string()))?;
    if !resp.is_success() {
        return Err(UsernameError(describe(&resp)));
    }
    let info: UserInfo =
        serde_json::from_str(&resp.body).map_err(|e| UsernameError(format!("userinfo: {e}")))?;
    let resp = rest
        .get(&format!(
            "services/data/v{BOOTSTRAP_API_VERSION}/sobjects/User/{}",
            info.user_id
        ))
        .map_err(|e| UsernameError(e.to_string()))?;
    if !resp.is_success() {
        return Err(UsernameError(describe(&resp)));
    }
    #[derive(Deserialize)]
    struct User {
        #[serde(rename = "Username")]
        username: String,
    }
    let user: User =
        serde_json::from_str(&resp.body).map_err(|e| UsernameError(format!("User record: {e}")))?;
    Ok(Identity {
        user_id: info.user_id,
        org_id: info.organization_id,
        username: user.username,
    })
}

/// The ScratchOrgInfo probe: any answer below 400 means the org is a Dev Hub; errors mean it is not.
pub fn is_dev_hub(rest: Rest<'_>) -> bool {
    rest.query(BOOTSTRAP_API_VERSION, false, DEV_HUB_PROBE)
        .map(|r| r.status < 400)
        .unwrap_or(false)
}

/// `GET /services/data`: the highest `version` (compared as a string, as `sf` does) that looks like `NN.0`.
pub fn max_api_version(rest: Rest<'_>) -> Option<String> {
    let resp = rest
        .get("services/data")
        .ok()
        .filter(Response::is_success)?;
    let versions: Vec<Value> = serde_json::from_str(&resp.body).ok()?;
    versions
        .iter()
        .filter_map(|v| v.get("version").and_then(Value::as_str))
        .filter(|v| is_api_version(v))
        .max()
        .map(str::to_owned)
}

/// `^[1-9]\d\.0$`.
pub fn is_api_version(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() == 4 && (b'1'..=b'9').contains(&b[0]) && b[1].is_ascii_digit() && &b[2..] == b".0"
}

/// The Organization record's fields `sf` stores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgInfo {
    pub name: Option<String>,
    pub instance_name: Option<String>,
    pub namespace_prefix: Option<String>,
    pub is_sandbox: bool,
    pub is_scratch: bool,
    pub trial_expiration_date: Option<String>,
    pub edition: Option<String>,
}

/// The Organization query at the org's API version.
pub fn organization(rest: Rest<'_>, version: &str) -> Option<OrgInfo> {
    let resp = rest
        .query(version, false, ORGANIZATION_QUERY)
        .ok()
        .filter(Response::is_success)?;
    let body: Value = serde_json::from_str(&resp.body).ok()?;
    let record = body.get("records")?.as_array()?.first()?;
    let text = |k: &str| record.get(k).and_then(Value::as_str).map(str::to_owned);
    let sandbox_flag = record
        .get("IsSandbox")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let trial = text("TrialExpirationDate");
    Some(OrgInfo {
        name: text("Name"),
        instance_name: text("InstanceName"),
        namespace_prefix: text("NamespacePrefix"),
        is_sandbox: sandbox_flag && trial.is_none(),
        is_scratch: sandbox_flag && trial.is_some(),
        trial_expiration_date: trial,
        edition: text("OrganizationType"),
    })
}

/// Whether a SandboxProcess record names this org (15-character id) — then the org is a sandbox.
pub fn has_sandbox_process(rest: Rest<'_>, version: &str, org_id: &str) -> bool {
    let id15: String = org_id.chars().take(15).collect();
    let soql = format!(
        "SELECT Id,Status,SandboxName,SandboxInfoId,LicenseType,CreatedDate,CopyProgress,SandboxOrganization,SourceId,Description,EndDate,Features FROM SandboxProcess WHERE SandboxOrganization='{id15}' ORDER BY CreatedDate DESC"
    );
    rest.query(version, true, &soql)
        .ok()
        .filter(Response::is_success)
        .and_then(|r| serde_json::from_str::<Value>(&r.body).ok())
        .and_then(|v| {
            v.get("records")
                .and_then(Value::as_array)
                .map(|r| !r.is_empty())
        })
        .unwrap_or(false)
}

/// Runs §5 steps 3–5 (and the org's own SandboxProcess check of step 7) and records the results in `auth`:
/// `isDevHub`, `instanceApiVersion` + `instanceApiVersionLastRetrieved`, and the Organization fields.
/// `configured_version` is `org-api-version` when set (then `/services/data` is not asked).
pub fn complete(
    auth: &mut AuthFile,
    rest: Rest<'_>,
    configured_version: Option<&str>,
    now: time::OffsetDateTime,
) {
    auth.set_is_dev_hub(is_dev_hub(rest));
    let version = match configured_version {
        Some(v) => Some(v.to_owned()),
        None => {
            let found = max_api_version(rest);
            if let Some(v) = &found {
                auth.set_instance_api_version(v.clone());
                auth.set_instance_api_version_last_retrieved(locale_string(now));
            }
            found
        }
    };
    let version = version.unwrap_or_else(|| BOOTSTRAP_API_VERSION.to_owned());
    if let Some(org) = organization(rest, &version) {
        auth.set("name", org.name.map_or(Value::Null, Value::String));
        auth.set(
            "instanceName",
            org.instance_name.map_or(Value::Null, Value::String),
        );
        auth.set_namespace_prefix(org.namespace_prefix.as_deref());
        auth.set_is_sandbox(org.is_sandbox);
        auth.set_is_scratch(org.is_scratch);
        auth.set_trail_expiration_date(org.trial_expiration_date.as_deref());
        auth.set("orgEdition", org.edition.map_or(Value::Null, Value::String));
    }
    if !auth.is_dev_hub()
        && !auth.is_sandbox()
        && !auth.is_scratch()
        && let Some(org_id) = auth.org_id().map(str::to_owned)
        && has_sandbox_process(rest, &version, &org_id)
    {
        auth.set_is_sandbox(true);
    }
}

/// JavaScript's `new Date().toLocaleString()` in `en-US`: `11/29/2026, 6:23:16 AM`.
pub fn locale_string(t: time::OffsetDateTime) -> String {
    let (h12, meridiem) = match t.hour() {
        0 => (12, "AM"),
        h @ 1..=11 => (h, "AM"),
        12 => (12, "PM"),
        h => (h - 12, "PM"),
    };
    format!(
        "{}/{}/{}, {}:{:02}:{:02} {meridiem}",
        u8::from(t.month()),
        t.day(),
        t.year(),
        h12,
        t.minute(),
        t.second()
    )
}

/// Reads a `toLocaleString()` value back (what `Date.parse` accepts for it), as UTC.
pub fn parse_locale_string(s: &str) -> Option<time::OffsetDateTime> {
    let (date, rest) = s.split_once(", ")?;
    let mut d = date.split('/');
    let month: u8 = d.next()?.parse().ok()?;
    let day: u8 = d.next()?.parse().ok()?;
    let year: i32 = d.next()?.parse().ok()?;
    let (clock, meridiem) = rest.trim().split_once(' ')?;
    let mut c = clock.split(':');
    let h: u8 = c.next()?.parse().ok()?;
    let m: u8 = c.next()?.parse().ok()?;
    let sec: u8 = c.next()?.parse().ok()?;
    let hour = match (meridiem, h) {
        ("AM", 12) => 0,
        ("AM", h) => h,
        ("PM", 12) => 12,
        ("PM", h) => h + 12,
        _ => return None,
    };
    let date =
        time::Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day).ok()?;
    let clock = time::Time::from_hms(hour, m, sec).ok()?;
    Some(time::PrimitiveDateTime::new(date, clock).assume_utc())
}

/// Whether the cached API version is younger than a day (and `SFDX_IGNORE_API_VERSION_CACHE` is not set).
pub fn api_version_is_fresh(auth: &AuthFile, now: time::OffsetDateTime) -> bool {
    if std::env::var("SFDX_IGNORE_API_VERSION_CACHE").is_ok_and(|v| v == "true") {
        return false;
    }
    auth.instance_api_version().is_some()
        && auth
            .instance_api_version_last_retrieved()
            .and_then(parse_locale_string)
            .is_some_and(|t| (now - t).whole_seconds() < API_VERSION_CACHE_SECS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn locale_string_matches_node() {
        assert_eq!(
            locale_string(datetime!(2026-11-29 6:23:16 UTC)),
            "11/29/2026, 6:23:16 AM"
        );
        assert_eq!(
            locale_string(datetime!(2026-01-02 0:05:09 UTC)),
            "1/2/2026, 12:05:09 AM"
        );
        assert_eq!(
            locale_string(datetime!(2026-07-04 12:00:00 UTC)),
            "7/4/2026, 12:00:00 PM"
        );
        assert_eq!(
            locale_string(datetime!(2026-07-04 23:59:59 UTC)),
            "7/4/2026, 11:59:59 PM"
        );
        for t in [
            datetime!(2026-11-29 6:23:16 UTC),
            datetime!(2026-01-02 0:05:09 UTC),
            datetime!(2026-07-04 12:00:00 UTC),
        ] {
            assert_eq!(parse_locale_string(&locale_string(t)), Some(t));
        }
        assert_eq!(parse_locale_string("yesterday"), None);
    }

    #[test]
    fn api_versions_look_like_sf_expects() {
        assert!(is_api_version("63.0"));
        assert!(!is_api_version("9.0"));
        assert!(!is_api_version("100.0"));
        assert!(!is_api_version("63.1"));
    }

    #[test]
    fn cache_freshness() {
        let now = datetime!(2026-11-29 6:23:16 UTC);
        let mut auth = AuthFile::new();
        assert!(!api_version_is_fresh(&auth, now));
        auth.set_instance_api_version("63.0");
        auth.set_instance_api_version_last_retrieved("11/29/2026, 1:00:00 AM");
        assert!(api_version_is_fresh(&auth, now));
        auth.set_instance_api_version_last_retrieved("11/27/2026, 1:00:00 AM");
        assert!(!api_version_is_fresh(&auth, now));
    }
}
