//! API versions this org lists at `GET /services/data`: two-digit versions only (sf validates `^[1-9]\d\.0$`).

use serde::{Deserialize, Serialize};

pub const OLDEST: u32 = 31;
pub const LATEST: u32 = 66;
/// The version `sf` uses for its first calls after login.
pub const SF_PROBE: u32 = 51;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiVersion {
    pub label: String,
    pub url: String,
    pub version: String,
}

/// The release name of a version: v31.0 is Summer '14, then Winter, Spring, Summer of each year.
pub fn label(version: u32) -> String {
    if version < 32 {
        return "Summer '14".to_owned();
    }
    let idx = version - 32;
    let season = ["Winter", "Spring", "Summer"][(idx % 3) as usize];
    format!("{season} '{:02}", 15 + idx / 3)
}

pub fn all() -> Vec<ApiVersion> {
    (OLDEST..=LATEST)
        .map(|v| ApiVersion {
            label: label(v),
            url: format!("/services/data/v{v}.0"),
            version: format!("{v}.0"),
        })
        .collect()
}

/// `all()` as the JSON body of `GET /services/data`, serialised once: the list never changes while the server
/// runs, and building it (36 entries of formatted strings) was a fifth of that request's CPU.
pub fn all_json() -> &'static [u8] {
    static BODY: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    BODY.get_or_init(|| serde_json::to_vec(&all()).unwrap_or_default())
}

/// Parses a path segment `vNN.N` into the major version we list, if we list it.
pub fn parse(segment: &str) -> Option<u32> {
    let rest = segment.strip_prefix('v')?;
    let (major, minor) = rest.split_once('.')?;
    if minor != "0" {
        return None;
    }
    let major: u32 = major.parse().ok()?;
    (OLDEST..=LATEST).contains(&major).then_some(major)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_follow_the_release_calendar() {
        assert_eq!(label(31), "Summer '14");
        assert_eq!(label(32), "Winter '15");
        assert_eq!(label(51), "Spring '21");
        assert_eq!(label(66), "Spring '26");
    }

    #[test]
    fn list_and_parse() {
        let all = all();
        assert_eq!(all.len(), 36);
        assert!(
            all.iter()
                .all(|v| v.version.len() == 4 && v.version.ends_with(".0"))
        );
        assert_eq!(all.last().unwrap().url, "/services/data/v66.0");
        assert_eq!(parse("v51.0"), Some(51));
        assert_eq!(parse("v67.0"), None);
        assert_eq!(parse("v51.1"), None);
        assert_eq!(parse("51.0"), None);
        assert_eq!(parse("vx.0"), None);
    }

    #[test]
    fn the_served_body_is_the_list() {
        let served: Vec<ApiVersion> = serde_json::from_slice(all_json()).unwrap();
        assert_eq!(served, all());
    }
}
