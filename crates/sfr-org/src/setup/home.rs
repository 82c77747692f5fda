//! Setup Home and Quick Find.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use super::chrome::NAV;
use super::{Chrome, Guard, Nav, page};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "setup/home.html")]
pub struct HomePage {
    pub chrome: Chrome,
    pub creation_allowed: bool,
    pub support_permission: bool,
    pub app_count: usize,
    pub user_count: usize,
}

#[derive(Template)]
#[template(path = "setup/quick_find.html")]
pub struct QuickFindPage {
    pub chrome: Chrome,
    pub hits: Vec<Nav>,
}

#[derive(Template)]
#[template(path = "setup/denied.html")]
pub struct DeniedPage<'a> {
    pub org_name: &'a str,
}

/// `GET /setup`.
pub async fn home(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let guard = match Guard::admin(&state, &headers, "/setup").await {
        Ok(g) => g,
        Err(r) => return r,
    };
    let counts = state
        .store_call(|s| Ok((s.list_apps()?.len(), s.list_users()?.len())))
        .await;
    let (app_count, user_count) = match counts {
        Ok(c) => c,
        Err(e) => return super::internal(e),
    };
    page(
        StatusCode::OK,
        &HomePage {
            creation_allowed: guard.org.allow_connected_app_creation,
            support_permission: guard.org.connected_apps_permission,
            chrome: guard.chrome("home", None),
            app_count,
            user_count,
        },
    )
}

#[derive(Debug, Deserialize)]
pub struct QuickFindQuery {
    q: Option<String>,
}

/// `GET /setup/quick-find?q=…`: the Setup entries whose names match every word typed.
pub async fn quick_find(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<QuickFindQuery>,
) -> Response {
    let query = q.q.unwrap_or_default();
    let here = format!(
        "/setup/quick-find?{}",
        sfr_wire::encoding::stringify([("q", query.as_str())])
    );
    let guard = match Guard::admin(&state, &headers, &here).await {
        Ok(g) => g,
        Err(r) => return r,
    };
    let hits: Vec<Nav> = NAV.iter().filter(|n| n.matches(&query)).copied().collect();
    let mut chrome = guard.chrome("", None);
    chrome.narrow_to(&query);
    page(StatusCode::OK, &QuickFindPage { chrome, hits })
}
