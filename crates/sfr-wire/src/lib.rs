//! The wire contract shared by the `sfr` CLI and the `sfr-org` server.
//!
//! Everything here is pure: no I/O, no async, no clocks (callers pass the time in). Each module holds one
//! concept of the Salesforce OAuth wire format as real clients (`sf`, jsforce, simple-salesforce) see it.

pub mod auth_url;
pub mod encoding;
pub mod error;
pub mod id;
pub mod jwt;
pub mod pkce;
pub mod rest;
pub mod token;
pub mod userinfo;

pub use auth_url::SfdxAuthUrl;
pub use error::{ErrorBody, OAuthError};
pub use id::SfId;
pub use rest::RestError;
pub use token::TokenResponse;
pub use userinfo::UserInfo;

/// The grant type `sf org login jwt` sends (RFC 7523).
pub const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
