//! Cross-cutting protections: header and body size limits answered with the catalogue's JSON, security headers,
//! and a per-request timeout.

use std::time::Duration;

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sfr_wire::OAuthError;

use super::params::{DRAIN_BYTES, MAX_BODY_BYTES};
use super::reply;

/// Total size of the request line's target plus all header names and values we accept.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;
/// Longest a handler may run before the client gets 503.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Every request's protections in one layer (one boxed future and one clone of the routes per request, where a
/// layer each cost three): oversized requests are refused before any handler runs, a handler that runs past
/// [`REQUEST_TIMEOUT`] is cut off, and every answer carries the security headers.
pub async fn protect(req: Request, next: Next) -> Response {
    let mut resp = match limits(req).await {
        Ok(req) => timeout(next.run(req)).await,
        Err(refused) => refused,
    };
    security_headers(&mut resp);
    resp
}

/// Refuses oversized heads and declared bodies.
async fn limits(req: Request) -> Result<Request, Response> {
    let head_bytes: usize = target_len(req.uri())
        + req
            .headers()
            .iter()
            .map(|(k, v)| k.as_str().len() + v.len() + 4)
            .sum::<usize>();
    if head_bytes > MAX_HEADER_BYTES {
        let mut resp = reply::oauth_error(OAuthError::RequestTooLarge);
        *resp.status_mut() = StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE;
        return Err(resp);
    }
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if let Some(len) = declared.filter(|len| *len > MAX_BODY_BYTES as u64) {
        // Read (and drop) a moderately oversized body so the client sees the answer, not a reset.
        if len <= DRAIN_BYTES as u64 {
            let _ = axum::body::to_bytes(req.into_body(), DRAIN_BYTES).await;
        }
        return Err(reply::oauth_error(OAuthError::RequestTooLarge));
    }
    Ok(req)
}

/// The length of the request target as written (`uri.to_string().len()`, without building the string).
fn target_len(uri: &axum::http::Uri) -> usize {
    let scheme = uri.scheme_str().map_or(0, |s| s.len() + "://".len());
    let authority = uri.authority().map_or(0, |a| a.as_str().len());
    let path = uri.path_and_query().map_or(0, |p| p.as_str().len());
    scheme + authority + path
}

/// Adds the headers every answer carries.
fn security_headers(resp: &mut Response) {
    let headers = resp.headers_mut();
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    let is_html = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if is_html {
        // A page may set a stricter or script-allowing policy of its own (Setup's Copy buttons).
        headers.entry(header::CONTENT_SECURITY_POLICY).or_insert(
            HeaderValue::from_static(
                // No form-action: browsers apply it to the redirect after a form post, and callbacks may use
                // any scheme (http, https, or an app's own).
                "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'",
            ),
        );
        headers
            .entry(header::CACHE_CONTROL)
            .or_insert(HeaderValue::from_static("no-store"));
    }
}

/// Ends a request that takes longer than [`REQUEST_TIMEOUT`].
async fn timeout(handled: impl Future<Output = Response>) -> Response {
    match tokio::time::timeout(REQUEST_TIMEOUT, handled).await {
        Ok(resp) => resp,
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, reply::JSON_UTF8)],
            r#"{"error":"temporarily_unavailable","error_description":"request timed out"}"#,
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_is_measured_as_written() {
        for target in [
            "/",
            "/services/oauth2/token?grant_type=x&a=%20b",
            "http://example.com:8080/a/b?c",
            "https://h/",
            "example.com:443",
            "*",
        ] {
            let uri: axum::http::Uri = target.parse().unwrap();
            assert_eq!(target_len(&uri), uri.to_string().len(), "{target}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_handler_past_the_timeout_gets_503_and_one_within_it_its_answer() {
        let slow = async {
            tokio::time::sleep(REQUEST_TIMEOUT + Duration::from_millis(1)).await;
            StatusCode::OK.into_response()
        };
        let resp = timeout(slow).await;
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        let body = axum::body::to_bytes(resp.into_body(), 1024).await.unwrap();
        assert!(body.starts_with(br#"{"error":"temporarily_unavailable""#));

        let in_time = async {
            tokio::time::sleep(REQUEST_TIMEOUT - Duration::from_millis(1)).await;
            StatusCode::OK.into_response()
        };
        assert_eq!(timeout(in_time).await.status(), StatusCode::OK);
    }
}
