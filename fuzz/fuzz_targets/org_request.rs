//! The org's request readers: HTTP Basic client authentication and the parameter reader (urlencoded or multipart
//! body plus query string). The first byte picks the content type; the rest splits into header, query and body.
#![no_main]

use std::sync::OnceLock;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Request, header};
use libfuzzer_sys::fuzz_target;
use sfr_org::http::{client_auth, params};

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let mut parts = rest.splitn(3, |b| *b == 0);
    let auth = parts.next().unwrap_or_default();
    let query = parts.next().unwrap_or_default();
    let body = parts.next().unwrap_or_default().to_vec();
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_bytes(auth) {
        headers.insert(header::AUTHORIZATION, v);
    }
    let _ = client_auth::basic(&headers);
    let content_type = match selector % 4 {
        0 => "application/x-www-form-urlencoded",
        1 => "multipart/form-data; boundary=XX",
        2 => "multipart/form-data",
        _ => "text/plain",
    };
    let query = String::from_utf8_lossy(query);
    let uri = format!("/services/oauth2/token?{}", query.replace([' ', '#', '\0'], ""));
    let Ok(mut req) = Request::builder()
        .method("POST")
        .uri(uri)
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
    else {
        return;
    };
    req.headers_mut().extend(headers.clone());
    if let Ok(form) = runtime().block_on(params::read(req)) {
        let _ = client_auth::resolve(&form.headers, &form.params);
    }
});
