//! The OAuth endpoints, one module per endpoint.

pub mod grant;
pub mod id_token;
