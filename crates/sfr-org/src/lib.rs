//! `sfr-org`: a Salesforce-compatible org — users, connected apps, the OAuth endpoints and the REST calls the
//! `sf` CLI makes at login — on a local SQLite database.

pub mod admin;
pub mod bootstrap;
pub mod cli;
pub mod clock;
pub mod http;
pub mod keys;
pub mod mail;
pub mod model;
pub mod oauth;
pub mod pages;
pub mod policy;
pub mod rest;
pub mod server;
pub mod setup;
pub mod state;
pub mod store;
