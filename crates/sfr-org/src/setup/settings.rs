//! *External Client Apps → Settings*: the *Allow creation of connected apps* toggle, available once Customer
//! Support has granted the Connected Apps permission.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use super::{Chrome, Guard, internal, page, see_other};
use crate::http::params::FormRequest;
use crate::model::OrgSettingsUpdate;
use crate::state::AppState;
use crate::store::SUPPORT_COMMAND;

const HERE: &str = "/setup/external-client-apps/settings";

#[derive(Template)]
#[template(path = "setup/settings.html")]
pub struct SettingsPage {
    pub chrome: Chrome,
    pub support_permission: bool,
    pub allow_creation: bool,
    pub support_command: &'static str,
    pub error: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct NoticeQuery {
    pub notice: Option<String>,
}

/// `GET /setup/external-client-apps/settings`.
pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let guard = match Guard::admin(&state, &headers, HERE).await {
        Ok(g) => g,
        Err(r) => return r,
    };
    page(
        StatusCode::OK,
        &SettingsPage {
            support_permission: guard.org.connected_apps_permission,
            allow_creation: guard.org.allow_connected_app_creation,
            support_command: SUPPORT_COMMAND,
            chrome: guard.chrome("ext-settings", q.notice.as_deref()),
            error: None,
        },
    )
}

/// `POST /setup/external-client-apps/settings`.
pub async fn save(State(state): State<AppState>, form: FormRequest) -> Response {
    let guard = match Guard::admin(&state, &form.headers, HERE).await {
        Ok(g) => g,
        Err(r) => return r,
    };
    if !guard.csrf_ok(form.params.get("sfr_csrf")) {
        return super::chrome::forbidden_form();
    }
    let allow = form.params.get("allow_creation") == Some("on");
    if allow && !guard.org.connected_apps_permission {
        return page(
            StatusCode::CONFLICT,
            &SettingsPage {
                support_permission: false,
                allow_creation: guard.org.allow_connected_app_creation,
                support_command: SUPPORT_COMMAND,
                chrome: guard.chrome("ext-settings", None),
                error: Some(
                    "Connected app creation cannot be allowed yet: the Connected Apps permission must be enabled by Customer Support first."
                        .to_owned(),
                ),
            },
        );
    }
    let update = OrgSettingsUpdate {
        allow_connected_app_creation: Some(allow),
        ..OrgSettingsUpdate::default()
    };
    match state.store_call(move |s| s.update_org(&update)).await {
        Ok(_) => see_other(&format!("{HERE}?notice=settings-saved")),
        Err(e) => internal(e),
    }
}
