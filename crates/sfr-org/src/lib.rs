//! `sfr-org`: a Salesforce-compatible org — users, connected apps, the OAuth endpoints and the REST calls the
//! `sf` CLI makes at login — on a local SQLite database.

pub mod clock;
pub mod keys;
pub mod model;
pub mod state;
pub mod store;
