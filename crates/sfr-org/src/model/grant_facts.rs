//! What a token grant reads before it decides: the client app (and its secret), the user the grant is for, the
//! org's settings and, for JWT bearer, the user's approval of the app — read together in one snapshot.

use std::sync::Arc;

use sfr_wire::SfId;

use super::{Approval, ConnectedApp, ConsumerSecret, Org, User};

/// Which user a grant is about (owned: a lookup may cross to a blocking thread).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum GrantUser {
    /// None yet (the authorization-code grant learns it from the code, after redeeming it).
    Unknown,
    /// The app's client-credentials run-as user.
    RunAs,
    Id(SfId),
    /// By username (JWT bearer's `sub`).
    Username(String),
}

/// What `GrantLookup` asks for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GrantLookup {
    pub consumer_key: String,
    pub user: GrantUser,
    /// Decrypt the app's consumer secret (to check it and sign the response).
    pub secret: bool,
    /// Load the user's approval of the app.
    pub approval: bool,
}

/// What the store found. `app` is `None` for an unknown consumer key (then nothing else is loaded).
///
/// The org, the app and the user are shared, not copied: every grant takes a clone of the facts cached for it
/// (`facts_cache`), and a deep copy of an app (its callback URLs, scopes, certificate) and a user, made and
/// dropped per grant, was 2.4 % of a client_credentials grant's CPU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantFacts {
    pub org: Arc<Org>,
    pub app: Option<Arc<ConnectedApp>>,
    pub secret: Option<ConsumerSecret>,
    pub user: Option<Arc<User>>,
    pub approval: Option<Approval>,
}
