//! Rate limits on the token endpoint, per source address and per client (`client_id`, the Basic user, or a JWT
//! assertion's `iss`), answered with Salesforce's `rate_limit_exceeded` / `number of logins exceeded` (HTTP 400).
//!
//! Each key has a token bucket: `burst` requests at once, refilled at `per_minute`. The state lives in memory on
//! this node only: with several nodes behind a balancer each node allows its own share, so the effective limit is
//! the per-node limit times the node count. The defaults are generous (normal clients, tests and benchmarks never
//! meet them); they stop a single address or a leaked client id from hammering the endpoint.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sfr_wire::OAuthError;

use super::{client_auth, params, reply};

/// One bucket's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Requests allowed at once.
    pub burst: u32,
    /// Requests added back per minute.
    pub per_minute: u32,
}

/// The token endpoint's limits. A `burst` of 0 turns that limit off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    pub per_address: Rate,
    pub per_client: Rate,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            per_address: Rate {
                burst: 2_000,
                per_minute: 120_000,
            },
            per_client: Rate {
                burst: 2_000,
                per_minute: 120_000,
            },
        }
    }
}

/// Above this many tracked keys, full buckets (idle keys) are forgotten.
const MAX_TRACKED: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Token buckets for one kind of key.
#[derive(Debug)]
struct Buckets {
    rate: Rate,
    map: Mutex<HashMap<String, Bucket>>,
}

impl Buckets {
    fn new(rate: Rate) -> Self {
        Self {
            rate,
            map: Mutex::new(HashMap::new()),
        }
    }

    fn refill(&self, b: &Bucket, now: Instant) -> f64 {
        let minutes = now.saturating_duration_since(b.at).as_secs_f64() / 60.0;
        (b.tokens + minutes * f64::from(self.rate.per_minute)).min(f64::from(self.rate.burst))
    }

    /// Takes one request from `key`'s bucket; false when it is empty.
    fn take(&self, key: &str, now: Instant) -> bool {
        if self.rate.burst == 0 {
            return true;
        }
        let mut map = match self.map.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        if map.len() >= MAX_TRACKED && !map.contains_key(key) {
            let full = f64::from(self.rate.burst);
            map.retain(|_, b| self.refill(b, now) < full);
            if map.len() >= MAX_TRACKED {
                // Every tracked key is busy: forget the lot rather than grow without bound.
                map.clear();
            }
        }
        let bucket = map.entry(key.to_owned()).or_insert(Bucket {
            tokens: f64::from(self.rate.burst),
            at: now,
        });
        let tokens = self.refill(bucket, now);
        if tokens >= 1.0 {
            *bucket = Bucket {
                tokens: tokens - 1.0,
                at: now,
            };
            true
        } else {
            *bucket = Bucket { tokens, at: now };
            false
        }
    }
}

/// The token endpoint's limiter, shared by every connection of one server.
#[derive(Debug)]
pub struct TokenRateLimiter {
    by_address: Buckets,
    by_client: Buckets,
}

impl TokenRateLimiter {
    pub fn new(limits: RateLimits) -> Arc<Self> {
        Arc::new(Self {
            by_address: Buckets::new(limits.per_address),
            by_client: Buckets::new(limits.per_client),
        })
    }

    /// Whether a request from `address` naming `client` may go on. Both buckets are charged.
    pub fn allow(&self, address: Option<&str>, client: Option<&str>) -> bool {
        let now = Instant::now();
        let address_ok = address.is_none_or(|a| self.by_address.take(a, now));
        let client_ok = client.is_none_or(|c| self.by_client.take(c, now));
        address_ok && client_ok
    }
}

/// The client a token request names, without authenticating it: the Basic user, else `client_id`, else a JWT
/// assertion's `iss`.
fn named_client(req_headers: &axum::http::HeaderMap, body: &[u8], query: &str) -> Option<String> {
    if let Ok(Some(basic)) = client_auth::basic(req_headers)
        && let Some(id) = basic.client_id
    {
        return Some(id);
    }
    let is_form = req_headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| {
            v.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    let mut pairs = if is_form {
        sfr_wire::encoding::parse_form(&String::from_utf8_lossy(body))
    } else {
        Vec::new()
    };
    pairs.extend(sfr_wire::encoding::parse_form(query));
    let first = |name: &str| {
        pairs
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.clone())
    };
    first("client_id").or_else(|| {
        first("assertion")
            .and_then(|a| sfr_wire::jwt::Assertion::parse(&a).ok())
            .map(|a| a.claims.iss)
    })
}

/// Middleware for `POST /services/oauth2/token`: reads the (size-limited) body once to learn the client, charges
/// both buckets, and hands the request on with the same body.
pub async fn token_endpoint(
    State(limiter): State<Arc<TokenRateLimiter>>,
    req: Request,
    next: Next,
) -> Response {
    let address = params::source_ip(&req);
    let (parts, body) = req.into_parts();
    let bytes = match params::read_body(body).await {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let client = named_client(
        &parts.headers,
        &bytes,
        parts.uri.query().unwrap_or_default(),
    );
    if !limiter.allow(address.as_deref(), client.as_deref()) {
        tracing::warn!(
            address = address.as_deref().unwrap_or("?"),
            client = client.as_deref().unwrap_or("?"),
            "token endpoint rate limit exceeded"
        );
        return reply::oauth_error(OAuthError::RateLimitExceeded);
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn tight(burst: u32, per_minute: u32) -> RateLimits {
        let rate = Rate { burst, per_minute };
        RateLimits {
            per_address: rate,
            per_client: rate,
        }
    }

    #[test]
    fn a_bucket_empties_and_refills() {
        let b = Buckets::new(Rate {
            burst: 3,
            per_minute: 60,
        });
        let t0 = Instant::now();
        assert!(b.take("k", t0) && b.take("k", t0) && b.take("k", t0));
        assert!(!b.take("k", t0));
        assert!(b.take("other", t0), "keys are independent");
        assert!(!b.take("k", t0 + Duration::from_millis(500)));
        assert!(
            b.take("k", t0 + Duration::from_millis(1600)),
            "one per second"
        );
    }

    #[test]
    fn zero_burst_means_unlimited() {
        let l = TokenRateLimiter::new(tight(0, 0));
        for _ in 0..10_000 {
            assert!(l.allow(Some("1.2.3.4"), Some("c")));
        }
    }

    #[test]
    fn either_limit_refuses() {
        let l = TokenRateLimiter::new(RateLimits {
            per_address: Rate {
                burst: 100,
                per_minute: 0,
            },
            per_client: Rate {
                burst: 2,
                per_minute: 0,
            },
        });
        assert!(l.allow(Some("a"), Some("c")));
        assert!(l.allow(Some("b"), Some("c")));
        assert!(
            !l.allow(Some("d"), Some("c")),
            "client exhausted from any address"
        );
        assert!(l.allow(Some("d"), Some("other")));
    }

    #[test]
    fn the_map_stays_bounded() {
        let b = Buckets::new(Rate {
            burst: 1,
            per_minute: 1,
        });
        let t0 = Instant::now();
        for i in 0..(MAX_TRACKED + 10) {
            b.take(&format!("k{i}"), t0);
        }
        assert!(b.map.lock().unwrap().len() <= MAX_TRACKED);
    }

    #[test]
    fn the_client_comes_from_basic_then_form_then_assertion() {
        use base64::Engine as _;
        let mut h = axum::http::HeaderMap::new();
        assert_eq!(named_client(&h, b"client_id=abc", ""), Some("abc".into()));
        assert_eq!(named_client(&h, b"", "client_id=q"), Some("q".into()));
        assert_eq!(named_client(&h, b"grant_type=x", ""), None);
        h.insert(
            header::AUTHORIZATION,
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode("basic:s")
            )
            .parse()
            .unwrap(),
        );
        assert_eq!(named_client(&h, b"client_id=abc", ""), Some("basic".into()));
    }
}
