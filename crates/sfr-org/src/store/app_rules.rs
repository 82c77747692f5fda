//! The rules for connected-app fields that every storage backend applies before it writes, in one place so
//! SQLite and PostgreSQL cannot drift apart. Pure: no SQL here; the backend passes in what needs a lookup.

use sfr_wire::SfId;

use crate::model::connected_app::api_name_from;
use crate::model::{AppUpdate, ConnectedApp, NewApp, RefreshPolicy, Scope, certificate};
use crate::store::{StoreError, StoreResult};

fn invalid(field: &'static str, message: impl Into<String>) -> StoreError {
    StoreError::Invalid {
        field,
        message: message.into(),
    }
}

/// Checks a new app's fields; returns its trimmed name and its API name (given, or derived from the name).
pub(crate) fn validate_new(app: &NewApp) -> StoreResult<(&str, String)> {
    let name = app.name.trim();
    if name.is_empty() || name.contains(['\n', '\r']) {
        return Err(invalid("app name", "must be a non-empty single line"));
    }
    let api_name = app
        .api_name
        .as_deref()
        .map(str::trim)
        .map(str::to_owned)
        .unwrap_or_else(|| api_name_from(name));
    if api_name.is_empty()
        || !api_name.starts_with(|c: char| c.is_ascii_alphabetic())
        || !api_name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(invalid(
            "API name",
            format!("{api_name:?}: use letters, digits and _, starting with a letter"),
        ));
    }
    validate_email(&app.contact_email)?;
    validate_callbacks(&app.callback_urls)?;
    validate_scopes(&app.scopes)?;
    validate_certificate(app.certificate_pem.as_deref())?;
    validate_timeout(app.session_timeout_minutes)?;
    Ok((name, api_name))
}

/// Applies an update to `app` after checking each changed field. `run_as` resolves a client-credentials username
/// to a user id (the one lookup this needs), so a failure there leaves `app` as validation left it and nothing
/// written.
pub(crate) fn apply_update<E: From<StoreError>>(
    app: &mut ConnectedApp,
    u: &AppUpdate,
    run_as: impl FnOnce(Option<&str>) -> Result<Option<SfId>, E>,
) -> Result<(), E> {
    if let Some(v) = &u.contact_email {
        validate_email(v)?;
        app.contact_email = v.trim().to_owned();
    }
    if let Some(v) = &u.callback_urls {
        validate_callbacks(v)?;
        app.callback_urls = v.clone();
    }
    if let Some(v) = &u.scopes {
        validate_scopes(v)?;
        app.scopes = v.clone();
    }
    if let Some(v) = &u.certificate_pem {
        validate_certificate(v.as_deref())?;
        app.certificate_pem = v.clone();
    }
    if let Some(v) = u.require_secret_web {
        app.require_secret_web = v;
    }
    if let Some(v) = u.require_secret_refresh {
        app.require_secret_refresh = v;
    }
    if let Some(v) = u.require_pkce {
        app.require_pkce = v;
    }
    if let Some(v) = u.introspect_all_tokens {
        app.introspect_all_tokens = v;
    }
    if let Some(v) = u.permitted_users {
        app.permitted_users = v;
    }
    if let Some(v) = u.refresh_policy {
        app.refresh_policy = v;
    }
    if let Some(v) = u.session_timeout_minutes {
        validate_timeout(v)?;
        app.session_timeout_minutes = v;
    }
    if let Some(v) = u.ip_relaxation {
        app.ip_relaxation = v;
    }
    if let Some(v) = &u.client_credentials_username {
        app.client_credentials_user = run_as(v.as_deref())?;
    }
    if let Some(v) = u.oauth_enabled {
        app.oauth_enabled = v;
    }
    Ok(())
}

fn validate_email(email: &str) -> StoreResult<()> {
    if email.contains('@') && !email.contains(char::is_whitespace) {
        Ok(())
    } else {
        Err(invalid(
            "contact e-mail",
            format!("{email:?} is not an e-mail address"),
        ))
    }
}

fn validate_callbacks(urls: &[String]) -> StoreResult<()> {
    if urls.is_empty() {
        return Err(invalid(
            "callback URL",
            "at least one is required, e.g. http://localhost:1717/OauthRedirect",
        ));
    }
    for u in urls {
        if u.contains('\n') || url::Url::parse(u).is_err() {
            return Err(invalid(
                "callback URL",
                format!("{u:?} is not an absolute URL (e.g. http://localhost:1717/OauthRedirect)"),
            ));
        }
    }
    Ok(())
}

fn validate_scopes(scopes: &[Scope]) -> StoreResult<()> {
    if scopes.is_empty() {
        return Err(invalid(
            "scopes",
            "at least one is required, e.g. \"api web refresh_token\"",
        ));
    }
    Ok(())
}

fn validate_certificate(pem: Option<&str>) -> StoreResult<()> {
    if let Some(pem) = pem {
        certificate::parse_pem(pem).map_err(|e| invalid("certificate", e.to_string()))?;
    }
    Ok(())
}

fn validate_timeout(minutes: Option<u32>) -> StoreResult<()> {
    if minutes == Some(0) {
        return Err(invalid("session timeout", "must be at least 1 minute"));
    }
    Ok(())
}

/// Whether an app's change of refresh policy from `before` to `after` restarts the idle clock of its live refresh
/// tokens. A use is recorded only under a policy that reads it (`RefreshPolicy::reads_last_use`), so when the app
/// moves to one, the recorded times may be long past though the tokens were used since: each backend's update
/// then counts every live token as used at the change, and the idle time runs from there.
pub(crate) fn restarts_idle_clock(before: RefreshPolicy, after: RefreshPolicy) -> bool {
    after.reads_last_use() && !before.reads_last_use()
}
