//! Permission sets: extra grants assigned to users, and a way to pre-authorize users for an app.

use sfr_wire::SfId;

/// A permission set (`0PS…`). `name` is the API name; `label` is what people read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermissionSet {
    pub id: SfId,
    pub name: String,
    pub label: String,
}
