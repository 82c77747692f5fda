//! How `Store::grant_facts` puts a grant's reads together, written once for every backend: a backend supplies
//! the six reads (`GrantReads`) inside one read transaction of its own, and caches the result
//! (`facts_cache`).

use std::sync::Arc;

use sfr_wire::SfId;

use crate::model::{
    Approval, ConnectedApp, ConsumerSecret, GrantFacts, GrantLookup, GrantUser, Org, User,
};

/// The reads a grant is made of (`Error`: the backend's, which may carry what it needs to retry).
pub(crate) trait GrantReads {
    type Error;
    fn org(&mut self) -> Result<Org, Self::Error>;
    fn app(&mut self, consumer_key: &str) -> Result<Option<ConnectedApp>, Self::Error>;
    fn secret(&mut self, app: &SfId) -> Result<String, Self::Error>;
    fn user_by_id(&mut self, id: &SfId) -> Result<Option<User>, Self::Error>;
    fn user_by_username(&mut self, username: &str) -> Result<Option<User>, Self::Error>;
    fn approval(&mut self, user: &SfId, app: &SfId) -> Result<Option<Approval>, Self::Error>;
}

/// Reads what `lookup` asks for; nothing past the app when the consumer key is unknown.
pub(crate) fn read<R: GrantReads>(r: &mut R, lookup: &GrantLookup) -> Result<GrantFacts, R::Error> {
    let org = Arc::new(r.org()?);
    let Some(app) = r.app(&lookup.consumer_key)? else {
        return Ok(GrantFacts {
            org,
            app: None,
            secret: None,
            user: None,
            approval: None,
        });
    };
    let secret = if lookup.secret {
        Some(ConsumerSecret::new(r.secret(&app.id)?))
    } else {
        None
    };
    let user = match &lookup.user {
        GrantUser::Unknown => None,
        GrantUser::RunAs => match &app.client_credentials_user {
            Some(id) => r.user_by_id(id)?,
            None => None,
        },
        GrantUser::Id(id) => r.user_by_id(id)?,
        GrantUser::Username(name) => r.user_by_username(name)?,
    };
    let approval = match (&user, lookup.approval) {
        (Some(u), true) => r.approval(&u.id, &app.id)?,
        _ => None,
    };
    Ok(GrantFacts {
        org,
        app: Some(Arc::new(app)),
        secret,
        user: user.map(Arc::new),
        approval,
    })
}
