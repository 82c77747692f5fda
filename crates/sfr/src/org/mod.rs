//! Talking to an org: the OAuth flows (loopback callback server, JWT assertion, refresh) and the REST calls made
//! after login. The 401 → refresh → retry rule lives here once (`connection`).

pub mod callback;
pub mod connection;
pub mod http;
pub mod jwt;
pub mod login;
pub mod pages;
pub mod post_login;
pub mod token;
pub mod web;
