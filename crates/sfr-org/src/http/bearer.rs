//! Access tokens presented to resource endpoints: `Authorization: Bearer <t>`, the legacy `Authorization: OAuth <t>`,
//! or an `oauth_token` parameter (jsforce `identity()` sends both header and parameter).

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;

/// The header token wins; the `oauth_token` query parameter is the fallback.
pub fn access_token(headers: &HeaderMap, query: Option<&str>) -> Option<String> {
    from_header(headers).or_else(|| {
        query.and_then(|q| {
            sfr_wire::encoding::parse_form(q)
                .into_iter()
                .find(|(k, v)| k == "oauth_token" && !v.is_empty())
                .map(|(_, v)| v)
        })
    })
}

fn from_header(headers: &HeaderMap) -> Option<String> {
    let text = headers.get(AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = text.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("oauth"))
        .then(|| token.to_owned())
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn h(v: &str) -> HeaderMap {
        let mut m = HeaderMap::new();
        m.insert(AUTHORIZATION, HeaderValue::from_str(v).unwrap());
        m
    }

    #[test]
    fn schemes_and_parameter() {
        assert_eq!(
            access_token(&h("Bearer 00D!x"), None).as_deref(),
            Some("00D!x")
        );
        assert_eq!(
            access_token(&h("OAuth 00D!y"), None).as_deref(),
            Some("00D!y")
        );
        assert_eq!(access_token(&h("bearer  t "), None).as_deref(), Some("t"));
        assert_eq!(access_token(&h("Basic abc"), None), None);
        assert_eq!(access_token(&h("Bearer "), None), None);
        assert_eq!(
            access_token(&HeaderMap::new(), Some("format=json&oauth_token=00D%21z")).as_deref(),
            Some("00D!z")
        );
        assert_eq!(
            access_token(&h("Bearer a"), Some("oauth_token=b")).as_deref(),
            Some("a")
        );
        assert_eq!(access_token(&HeaderMap::new(), None), None);
    }
}
