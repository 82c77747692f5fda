//! The parts of `/services/oauth2/userinfo` every client reads. The server sends many more fields.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    pub sub: String,
    pub user_id: String,
    pub organization_id: String,
    #[serde(default)]
    pub preferred_username: String,
    #[serde(default)]
    pub email: String,
}
