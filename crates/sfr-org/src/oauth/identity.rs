//! `GET /services/oauth2/userinfo` and the identity URL `GET /id/<org>/<user>`: the token (Bearer/OAuth header
//! or `oauth_token`) must be a live session; it reads its own user only.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::{Authenticated, authenticate, server_error};
use crate::http::{bearer, reply};
use crate::model::User;
use crate::rest::versions;
use crate::state::AppState;

/// The `urls` map with `{version}` placeholders (or a concrete version).
pub fn urls(state: &AppState, user: &User, version: Option<&str>) -> Value {
    let base = &state.config.base_url;
    let org = state.config.org_id.as_str();
    let uid = user.id.as_str();
    let v = version.unwrap_or("{version}");
    json!({
        "enterprise": format!("{base}/services/Soap/c/{v}/{org}"),
        "metadata": format!("{base}/services/Soap/m/{v}/{org}"),
        "partner": format!("{base}/services/Soap/u/{v}/{org}"),
        "rest": format!("{base}/services/data/v{v}/"),
        "sobjects": format!("{base}/services/data/v{v}/sobjects/"),
        "search": format!("{base}/services/data/v{v}/search/"),
        "query": format!("{base}/services/data/v{v}/query/"),
        "recent": format!("{base}/services/data/v{v}/recent/"),
        "tooling_soap": format!("{base}/services/Soap/T/{v}/{org}"),
        "tooling_rest": format!("{base}/services/data/v{v}/tooling/"),
        "profile": format!("{base}/{uid}"),
        "feeds": format!("{base}/services/data/v{v}/chatter/feeds"),
        "groups": format!("{base}/services/data/v{v}/chatter/groups"),
        "users": format!("{base}/services/data/v{v}/chatter/users"),
        "feed_items": format!("{base}/services/data/v{v}/chatter/feed-items"),
        "feed_elements": format!("{base}/services/data/v{v}/chatter/feed-elements"),
        "custom_domain": base,
    })
}

fn photos(state: &AppState) -> Value {
    let base = &state.config.base_url;
    json!({
        "picture": format!("{base}/profilephoto/005/F"),
        "thumbnail": format!("{base}/profilephoto/005/T"),
    })
}

/// `version=NN.0` or `latest` substitutes `{version}`.
fn version_param(query: Option<&str>) -> Option<String> {
    let v = sfr_wire::encoding::parse_form(query?)
        .into_iter()
        .find(|(k, _)| k == "version")
        .map(|(_, v)| v)?;
    if v == "latest" {
        return Some(format!("{}.0", versions::LATEST));
    }
    let major = v.strip_suffix(".0")?;
    versions::parse(&format!("v{major}.0")).map(|m| format!("{m}.0"))
}

async fn session(
    state: &AppState,
    headers: &HeaderMap,
    query: Option<&str>,
) -> Result<Option<Authenticated>, Response> {
    let token = bearer::access_token(headers, query);
    authenticate(state, token).await.map_err(|e| {
        tracing::error!(error = %e, "token lookup failed");
        server_error()
    })
}

pub async fn userinfo(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let auth = match session(&state, &headers, query.as_deref()).await {
        Ok(Some(a)) => a,
        Ok(None) => return reply::invalid_session(),
        Err(resp) => return resp,
    };
    let u = &auth.user;
    let updated = time_text(u.created_at);
    let body = json!({
        "sub": state.config.identity_url(&u.id),
        "user_id": u.id.as_str(),
        "organization_id": state.config.org_id.as_str(),
        "preferred_username": u.username,
        "nickname": nickname(u),
        "name": u.display_name(),
        "email": u.email,
        "email_verified": true,
        "given_name": u.first_name.clone().unwrap_or_default(),
        "family_name": u.last_name,
        "zoneinfo": "GMT",
        "photos": photos(&state),
        "profile": format!("{}/{}", state.config.base_url, u.id),
        "picture": format!("{}/profilephoto/005/F", state.config.base_url),
        "address": {"country": "US"},
        "is_salesforce_integration_user": false,
        "urls": urls(&state, u, version_param(query.as_deref()).as_deref()),
        "active": u.active,
        "user_type": "STANDARD",
        "language": "en_US",
        "locale": "en_US",
        "utcOffset": 0,
        "updated_at": updated,
        "is_app_installed": true,
    });
    reply::json(StatusCode::OK, &body)
}

pub async fn identity(
    State(state): State<AppState>,
    Path((org, user)): Path<(String, String)>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let auth = match session(&state, &headers, query.as_deref()).await {
        Ok(Some(a)) => a,
        Ok(None) => return forbidden("Bad_OAuth_Token"),
        Err(resp) => return resp,
    };
    let same = |a: &str, b: &str| a.len() >= 15 && b.len() >= 15 && a[..15] == b[..15];
    if !same(&org, state.config.org_id.as_str()) {
        return forbidden("Wrong_Org");
    }
    if !same(&user, auth.user.id.as_str()) {
        return forbidden("Bad_Id");
    }
    let u = &auth.user;
    let body = json!({
        "id": state.config.identity_url(&u.id),
        "asserted_user": true,
        "user_id": u.id.as_str(),
        "organization_id": state.config.org_id.as_str(),
        "username": u.username,
        "nick_name": nickname(u),
        "display_name": u.display_name(),
        "email": u.email,
        "email_verified": true,
        "first_name": u.first_name.clone().unwrap_or_default(),
        "last_name": u.last_name,
        "timezone": "GMT",
        "photos": photos(&state),
        "addr_street": null,
        "addr_city": null,
        "addr_state": null,
        "addr_country": "US",
        "addr_zip": null,
        "mobile_phone": null,
        "mobile_phone_verified": false,
        "is_lightning_login_user": false,
        "status": {"created_date": null, "body": null},
        "urls": urls(&state, u, version_param(query.as_deref()).as_deref()),
        "active": u.active,
        "user_type": "STANDARD",
        "language": "en_US",
        "locale": "en_US",
        "utcOffset": 0,
        "last_modified_date": time_text(u.created_at),
        "is_app_installed": true,
    });
    reply::json(StatusCode::OK, &body)
}

fn forbidden(code: &str) -> Response {
    reply::json(
        StatusCode::FORBIDDEN,
        &json!([{"message": code, "errorCode": code}]),
    )
}

fn nickname(u: &User) -> String {
    u.username.split('@').next().unwrap_or_default().to_owned()
}

/// `2026-11-29T08:00:00Z`-style text (Salesforce writes `+0000`).
fn time_text(ms: i64) -> String {
    let fmt =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].000+0000");
    time::OffsetDateTime::from_unix_timestamp(ms / 1000)
        .ok()
        .and_then(|t| t.format(&fmt).ok())
        .unwrap_or_default()
}
