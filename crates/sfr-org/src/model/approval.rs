//! A user's consent to a connected app ("Allow" on the approve page).

use sfr_wire::SfId;

use super::Scope;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    pub user_id: SfId,
    pub app_id: SfId,
    /// The scopes the user approved.
    pub scopes: Vec<Scope>,
    pub approved_at: i64,
}
