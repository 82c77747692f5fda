//! Response builders shared by every endpoint: OAuth error JSON, token-endpoint JSON, REST error arrays.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sfr_wire::{OAuthError, RestError};

/// `Content-Type` of every Salesforce JSON answer.
pub const JSON_UTF8: &str = "application/json;charset=UTF-8";
/// `Cache-Control` of the token endpoint (and of every answer carrying a credential).
pub const NO_STORE: &str = "no-cache,must-revalidate,max-age=0,no-store,private";

/// A JSON body with Salesforce's content type.
pub fn json(status: StatusCode, body: &impl serde::Serialize) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => json_bytes(status, bytes),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// JSON already written, with Salesforce's content type.
fn json_bytes(status: StatusCode, bytes: Vec<u8>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static(JSON_UTF8))],
        bytes,
    )
        .into_response()
}

/// A JSON body serialised once, for the life of the process (200).
pub fn json_static(body: &'static [u8]) -> Response {
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(JSON_UTF8))],
        body,
    )
        .into_response()
}

/// A JSON body that carries credentials: never cached.
pub fn json_no_store(body: &impl serde::Serialize) -> Response {
    no_store(json(StatusCode::OK, body))
}

/// The token endpoint's success: `TokenResponse::to_json`, never cached.
pub fn token_response(body: &sfr_wire::TokenResponse) -> Response {
    no_store(json_bytes(StatusCode::OK, body.to_json()))
}

fn no_store(mut resp: Response) -> Response {
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(NO_STORE));
    resp.headers_mut()
        .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    resp
}

/// `{"error":…,"error_description":…}` with the catalogue's status.
pub fn oauth_error(err: OAuthError) -> Response {
    let status = StatusCode::from_u16(err.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let mut resp = json(status, &err.body());
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(NO_STORE));
    resp
}

/// A REST error array `[{"message","errorCode"}]`.
pub fn rest_error(status: StatusCode, err: RestError) -> Response {
    json(status, &[err])
}

/// 401 `INVALID_SESSION_ID`, the answer that makes jsforce and sf refresh.
pub fn invalid_session() -> Response {
    rest_error(StatusCode::UNAUTHORIZED, RestError::invalid_session())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oauth_error_has_catalogue_status_and_json_type() {
        let resp = oauth_error(OAuthError::RequestTooLarge);
        assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(resp.headers()[header::CONTENT_TYPE], JSON_UTF8);
        let resp = oauth_error(OAuthError::InvalidAuthCode);
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        assert_eq!(resp.headers()[header::CACHE_CONTROL], NO_STORE);
    }
}
