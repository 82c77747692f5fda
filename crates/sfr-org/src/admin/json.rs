//! JSON shapes of the admin commands (camelCase, stable).

use serde_json::{Value, json};

use super::format_time;
use crate::model::{ConnectedApp, Org, PermissionSet, Scope, User};

pub fn org(org: &Org) -> Value {
    json!({
        "id": org.id.as_str(),
        "name": org.name,
        "devHub": org.dev_hub,
        "connectedAppsPermission": org.connected_apps_permission,
        "allowConnectedAppCreation": org.allow_connected_app_creation,
        "sessionTimeoutMinutes": org.session_timeout_minutes,
        "lockoutThreshold": org.lockout_threshold,
        "lockoutMinutes": org.lockout_minutes,
    })
}

pub fn user(user: &User, now: i64) -> Value {
    json!({
        "id": user.id.as_str(),
        "username": user.username,
        "email": user.email,
        "firstName": user.first_name,
        "lastName": user.last_name,
        "profile": user.profile.name,
        "permissionSets": user.permission_sets.iter().map(|ps| ps.name.as_str()).collect::<Vec<_>>(),
        "active": user.active,
        "locked": user.is_locked(now),
        "lastLoginAt": user.last_login_at.map(format_time),
    })
}

pub fn permission_set(ps: &PermissionSet) -> Value {
    json!({ "id": ps.id.as_str(), "name": ps.name, "label": ps.label })
}

/// An app; `secret` is included when given (`app create`, `app show`).
pub fn app(app: &ConnectedApp, run_as: Option<&str>, secret: Option<&str>) -> Value {
    let mut v = json!({
        "id": app.id.as_str(),
        "name": app.name,
        "apiName": app.api_name,
        "consumerKey": app.consumer_key,
        "contactEmail": app.contact_email,
        "oauthEnabled": app.oauth_enabled,
        "callbackUrls": app.callback_urls,
        "scopes": app.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        "hasCertificate": app.certificate_pem.is_some(),
        "requireSecretWeb": app.require_secret_web,
        "requireSecretRefresh": app.require_secret_refresh,
        "requirePkce": app.require_pkce,
        "introspectAllTokens": app.introspect_all_tokens,
        "permittedUsers": app.permitted_users.as_str(),
        "profiles": app.profiles,
        "permissionSets": app.permission_sets,
        "refreshTokenPolicy": app.refresh_policy.to_string(),
        "sessionTimeoutMinutes": app.session_timeout_minutes,
        "ipRelaxation": app.ip_relaxation.as_str(),
        "clientCredentialsUser": run_as,
        "builtIn": app.built_in,
    });
    if let (Some(secret), Some(obj)) = (secret, v.as_object_mut()) {
        obj.insert("consumerSecret".into(), Value::String(secret.to_owned()));
    }
    v
}

/// Scopes as one space-separated string, for human output.
pub fn scopes(scopes: &[Scope]) -> String {
    Scope::join(scopes)
}
