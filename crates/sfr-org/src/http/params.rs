//! Request parameters the way Salesforce reads them: the body (`application/x-www-form-urlencoded` or
//! `multipart/form-data`, possibly chunked) merged with the query string, body first.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequest, Multipart, Request};
use axum::http::{HeaderMap, Method, header};
use axum::response::{IntoResponse, Response};
use sfr_wire::OAuthError;

use super::reply;

/// Largest request body any endpoint accepts. A JWT assertion is at most 16 KiB; forms are far smaller.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// An oversized body up to this size is read and dropped so the client gets the 413 answer instead of a reset
/// connection; beyond it the connection is simply closed after the answer.
pub const DRAIN_BYTES: usize = 1024 * 1024;

/// Reads a whole body of at most [`MAX_BODY_BYTES`], draining oversized ones up to [`DRAIN_BYTES`].
pub async fn read_body(body: Body) -> Result<axum::body::Bytes, BodyError> {
    let bytes = axum::body::to_bytes(body, DRAIN_BYTES)
        .await
        .map_err(|e| classify(&e))?;
    if bytes.len() > MAX_BODY_BYTES {
        return Err(BodyError::TooLarge);
    }
    Ok(bytes)
}

/// Ordered parameters: body pairs first, then query-string pairs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        Self { pairs }
    }

    /// The first non-empty value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// The first non-empty value of `name`, owned.
    pub fn owned(&self, name: &str) -> Option<String> {
        self.get(name).map(str::to_owned)
    }

    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }
}

/// A request's parameters plus the facts handlers need from its head.
#[derive(Debug, Clone)]
pub struct FormRequest {
    pub method: Method,
    pub headers: HeaderMap,
    pub params: Params,
    /// Source address, when the server recorded it.
    pub source_ip: Option<String>,
}

/// Why a body could not be read; each maps to one wire error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    #[error("the request body is larger than {MAX_BODY_BYTES} bytes")]
    TooLarge,
    #[error("the request body could not be read: {0}")]
    Unreadable(String),
    #[error("the multipart body is malformed: {0}")]
    Multipart(String),
}

impl BodyError {
    pub fn wire(&self) -> OAuthError {
        match self {
            Self::TooLarge => OAuthError::RequestTooLarge,
            Self::Unreadable(_) | Self::Multipart(_) => OAuthError::InvalidRequest,
        }
    }
}

impl IntoResponse for BodyError {
    fn into_response(self) -> Response {
        reply::oauth_error(self.wire())
    }
}

/// The client address recorded by `into_make_service_with_connect_info`, if any.
pub fn source_ip(req: &Request) -> Option<String> {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| ip_text(addr.ip()))
}

/// An address as `Display` writes it. IPv4 digit by digit: the formatter's general path (padding, width) cost a
/// token request more than its rate limit's whole check, and every token request writes its address twice.
fn ip_text(ip: std::net::IpAddr) -> String {
    let std::net::IpAddr::V4(v4) = ip else {
        return ip.to_string();
    };
    let mut out = String::with_capacity(15);
    for (i, octet) in v4.octets().into_iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        if octet >= 100 {
            out.push(char::from(b'0' + octet / 100));
        }
        if octet >= 10 {
            out.push(char::from(b'0' + octet / 10 % 10));
        }
        out.push(char::from(b'0' + octet % 10));
    }
    out
}

/// Whether the request's body is `multipart/form-data` (any other body is read as a URL-encoded form).
pub fn is_multipart(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.get(..19)
                .is_some_and(|t| t.eq_ignore_ascii_case("multipart/form-data"))
        })
}

/// The parameters of a URL-encoded `body` and the `query` string, body first.
pub fn form_params(body: &[u8], query: Option<&str>) -> Params {
    // Valid UTF-8 (every well-formed form: percent-encoding is ASCII) is checked far faster than the lossy
    // conversion walks it.
    let mut pairs = match std::str::from_utf8(body) {
        Ok(text) => sfr_wire::encoding::parse_form(text),
        Err(_) => sfr_wire::encoding::parse_form(&String::from_utf8_lossy(body)),
    };
    if let Some(query) = query {
        pairs.extend(sfr_wire::encoding::parse_form(query));
    }
    Params::from_pairs(pairs)
}

/// Reads the parameters of any request: query string always, body for methods that carry one.
pub async fn read(req: Request) -> Result<FormRequest, BodyError> {
    let source_ip = source_ip(&req);
    let (parts, body) = req.into_parts();
    if let Some(len) = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        && len > MAX_BODY_BYTES as u64
    {
        if len <= DRAIN_BYTES as u64 {
            let _ = axum::body::to_bytes(body, DRAIN_BYTES).await;
        }
        return Err(BodyError::TooLarge);
    }
    let (method, headers, params) = if is_multipart(&parts.headers) {
        let (method, headers) = (parts.method.clone(), parts.headers.clone());
        let query = parts.uri.query().map(str::to_owned);
        let mut pairs = read_multipart(Request::from_parts(parts, body)).await?;
        pairs.extend(
            query
                .as_deref()
                .map(sfr_wire::encoding::parse_form)
                .unwrap_or_default(),
        );
        (method, headers, Params::from_pairs(pairs))
    } else {
        let params = form_params(&read_body(body).await?, parts.uri.query());
        (parts.method, parts.headers, params)
    };
    Ok(FormRequest {
        method,
        headers,
        params,
        source_ip,
    })
}

/// axum reports an exceeded limit as `http-body-util`'s `LengthLimitError` ("length limit exceeded") somewhere in
/// the error's source chain.
fn classify(err: &axum::Error) -> BodyError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        if e.to_string().contains("length limit exceeded") {
            return BodyError::TooLarge;
        }
        source = e.source();
    }
    BodyError::Unreadable(err.to_string())
}

async fn read_multipart(req: Request) -> Result<Vec<(String, String)>, BodyError> {
    let (parts, body) = req.into_parts();
    let bytes = read_body(body).await?;
    let req = Request::from_parts(parts, Body::from(bytes));
    let mut multipart = Multipart::from_request(req, &())
        .await
        .map_err(|e| BodyError::Multipart(e.body_text()))?;
    let mut pairs = Vec::new();
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or_default().to_owned();
                let value = field
                    .text()
                    .await
                    .map_err(|e| BodyError::Multipart(e.body_text()))?;
                pairs.push((name, value));
            }
            Ok(None) => break,
            Err(e) => return Err(BodyError::Multipart(e.body_text())),
        }
    }
    Ok(pairs)
}

impl<S: Send + Sync> FromRequest<S> for FormRequest {
    type Rejection = BodyError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        read(req).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: &str, uri: &str, ctype: Option<&str>, body: impl Into<Body>) -> Request {
        let mut b = Request::builder().method(method).uri(uri);
        if let Some(c) = ctype {
            b = b.header(header::CONTENT_TYPE, c);
        }
        b.body(body.into()).unwrap()
    }

    #[test]
    fn addresses_are_written_as_display_writes_them() {
        use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
        for octet in 0..=255u8 {
            for ip in [
                Ipv4Addr::new(octet, 0, 9, 10),
                Ipv4Addr::new(99, octet, 100, 255),
                Ipv4Addr::new(1, 2, octet, 3),
                Ipv4Addr::new(255, 254, 3, octet),
            ] {
                assert_eq!(ip_text(IpAddr::V4(ip)), ip.to_string());
            }
        }
        let v6 = IpAddr::V6(Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, 0x7f00, 1));
        assert_eq!(ip_text(v6), v6.to_string());
    }

    #[test]
    fn a_body_that_is_not_utf8_is_read_with_replacement_characters() {
        let p = form_params(b"grant_type=a\xffb&client_id=c", None);
        assert_eq!(p.get("grant_type"), Some("a\u{fffd}b"));
        assert_eq!(p.get("client_id"), Some("c"));
    }

    #[tokio::test]
    async fn body_wins_and_query_fills_in() {
        let req = request(
            "POST",
            "/t?grant_type=x&client_id=q",
            Some("application/x-www-form-urlencoded"),
            "grant_type=refresh_token&refresh_token=a%2Bb+c",
        );
        let f = read(req).await.unwrap();
        assert_eq!(f.params.get("grant_type"), Some("refresh_token"));
        assert_eq!(f.params.get("refresh_token"), Some("a+b c"));
        assert_eq!(f.params.get("client_id"), Some("q"));
        assert_eq!(f.params.get("missing"), None);
    }

    #[tokio::test]
    async fn reads_multipart() {
        let body = "--XX\r\nContent-Disposition: form-data; name=\"grant_type\"\r\n\r\ndevice\r\n--XX\r\nContent-Disposition: form-data; name=\"client_id\"\r\n\r\nPlatformCLI\r\n--XX--\r\n";
        let req = request("POST", "/t", Some("multipart/form-data; boundary=XX"), body);
        let f = read(req).await.unwrap();
        assert_eq!(f.params.get("grant_type"), Some("device"));
        assert_eq!(f.params.get("client_id"), Some("PlatformCLI"));
    }

    #[tokio::test]
    async fn broken_multipart_is_invalid_request() {
        let req = request(
            "POST",
            "/t",
            Some("multipart/form-data; boundary=XX"),
            "garbage",
        );
        let err = read(req).await.unwrap_err();
        assert_eq!(err.wire(), OAuthError::InvalidRequest);
        let req = request("POST", "/t", Some("multipart/form-data"), "garbage");
        assert_eq!(
            read(req).await.unwrap_err().wire(),
            OAuthError::InvalidRequest
        );
    }

    #[tokio::test]
    async fn oversized_bodies_are_refused() {
        let big = "a=".to_owned() + &"x".repeat(MAX_BODY_BYTES + 10);
        let req = request("POST", "/t", Some("application/x-www-form-urlencoded"), big);
        assert_eq!(read(req).await.unwrap_err(), BodyError::TooLarge);
        let req = Request::builder()
            .method("POST")
            .uri("/t")
            .header(header::CONTENT_LENGTH, "999999999")
            .body(Body::empty())
            .unwrap();
        assert_eq!(read(req).await.unwrap_err(), BodyError::TooLarge);
    }

    #[tokio::test]
    async fn binary_garbage_does_not_panic() {
        let req = request("POST", "/t", None, vec![0xffu8, 0x00, b'=', 0xfe, b'&']);
        assert!(read(req).await.is_ok());
    }
}
