//! Client authentication material: HTTP Basic (`client_id:client_secret`, each form-url-decoded per RFC 6749 §2.3.1)
//! or `client_id`/`client_secret` in the parameters.

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::params::Params;

/// What the client said about itself. Either part may be missing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientCredentials {
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

/// Why an `Authorization: Basic` header could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BasicAuthError {
    #[error("the Basic credentials are not valid base64")]
    Base64,
    #[error("the Basic credentials are not UTF-8")]
    Utf8,
    #[error("the Basic credentials have no ':' between client id and secret")]
    NoColon,
}

/// Reads `Authorization: Basic …`. `Ok(None)` when the header is absent or another scheme.
pub fn basic(headers: &HeaderMap) -> Result<Option<ClientCredentials>, BasicAuthError> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    let Ok(text) = value.to_str() else {
        return Err(BasicAuthError::Utf8);
    };
    let text = text.trim();
    let Some((scheme, rest)) = text.split_once(' ') else {
        return Ok(None);
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let raw = STANDARD
        .decode(rest.trim())
        .map_err(|_| BasicAuthError::Base64)?;
    let decoded = String::from_utf8(raw).map_err(|_| BasicAuthError::Utf8)?;
    let (id, secret) = decoded.split_once(':').ok_or(BasicAuthError::NoColon)?;
    let unescape = |s: &str| {
        sfr_wire::encoding::parse_form(&format!("x={s}"))
            .into_iter()
            .next()
            .map(|(_, v)| v)
            .unwrap_or_default()
    };
    Ok(Some(ClientCredentials {
        client_id: Some(unescape(id)).filter(|s| !s.is_empty()),
        client_secret: Some(unescape(secret)).filter(|s| !s.is_empty()),
    }))
}

/// Basic wins over the parameters for whichever part it carries.
pub fn resolve(headers: &HeaderMap, params: &Params) -> Result<ClientCredentials, BasicAuthError> {
    let from_basic = basic(headers)?.unwrap_or_default();
    Ok(ClientCredentials {
        client_id: from_basic
            .client_id
            .or_else(|| params.get("client_id").map(str::to_owned)),
        client_secret: from_basic
            .client_secret
            .or_else(|| params.get("client_secret").map(str::to_owned)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn reads_basic_with_escapes() {
        let value = format!("Basic {}", STANDARD.encode("my%20app:s%3Acret"));
        let creds = basic(&headers(&value)).unwrap().unwrap();
        assert_eq!(creds.client_id.as_deref(), Some("my app"));
        assert_eq!(creds.client_secret.as_deref(), Some("s:cret"));
    }

    #[test]
    fn other_schemes_and_absence_are_none() {
        assert_eq!(basic(&HeaderMap::new()).unwrap(), None);
        assert_eq!(basic(&headers("Bearer abc")).unwrap(), None);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert_eq!(
            basic(&headers("Basic !!!")).unwrap_err(),
            BasicAuthError::Base64
        );
        let no_colon = format!("Basic {}", STANDARD.encode("nocolon"));
        assert_eq!(
            basic(&headers(&no_colon)).unwrap_err(),
            BasicAuthError::NoColon
        );
        let bad_utf8 = format!("Basic {}", STANDARD.encode([0xff, 0xfe, b':']));
        assert_eq!(
            basic(&headers(&bad_utf8)).unwrap_err(),
            BasicAuthError::Utf8
        );
    }

    #[test]
    fn basic_wins_over_params() {
        let value = format!("Basic {}", STANDARD.encode("a:b"));
        let params = Params::from_pairs(vec![
            ("client_id".into(), "x".into()),
            ("client_secret".into(), "y".into()),
        ]);
        let c = resolve(&headers(&value), &params).unwrap();
        assert_eq!(c.client_id.as_deref(), Some("a"));
        assert_eq!(c.client_secret.as_deref(), Some("b"));
        let c = resolve(&HeaderMap::new(), &params).unwrap();
        assert_eq!(c.client_id.as_deref(), Some("x"));
    }
}
