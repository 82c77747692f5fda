//! HTTP plumbing: the router, request parameter extraction, client authentication, bearer tokens, limits and
//! security headers.

pub mod bearer;
pub mod client_auth;
pub mod middleware;
pub mod params;
pub mod reply;
