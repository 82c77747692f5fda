//! *Permission Sets*: the list, create, and assign to a user.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::policies::Choice;
use super::settings::NoticeQuery;
use super::{Chrome, Guard, internal, page, see_other};
use crate::http::params::FormRequest;
use crate::model::PermissionSet;
use crate::state::AppState;
use crate::store::StoreError;

const HERE: &str = "/setup/permission-sets";

#[derive(Template)]
#[template(path = "setup/permission_sets.html")]
pub struct PermissionSetsPage {
    pub chrome: Chrome,
    pub sets: Vec<PermissionSet>,
    pub users: Vec<Choice>,
    pub error: Option<String>,
}

async fn render(
    state: &AppState,
    guard: &Guard,
    notice: Option<&str>,
    error: Option<String>,
) -> Response {
    let loaded = state
        .store_call(|s| Ok((s.list_permission_sets()?, s.list_users()?)))
        .await;
    let (sets, users) = match loaded {
        Ok(v) => v,
        Err(e) => return internal(e),
    };
    page(
        if error.is_some() {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        },
        &PermissionSetsPage {
            chrome: guard.chrome("permission-sets", notice),
            sets,
            users: users
                .into_iter()
                .filter(|u| u.active)
                .map(|u| Choice {
                    label: format!("{} ({})", u.display_name(), u.username),
                    value: u.id.to_string(),
                    selected: false,
                })
                .collect(),
            error,
        },
    )
}

/// `GET /setup/permission-sets`.
pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<NoticeQuery>,
) -> Response {
    match Guard::admin(&state, &headers, HERE).await {
        Ok(g) => render(&state, &g, q.notice.as_deref(), None).await,
        Err(r) => r,
    }
}

/// `POST /setup/permission-sets`: create.
pub async fn create(State(state): State<AppState>, form: FormRequest) -> Response {
    let guard = match Guard::admin(&state, &form.headers, HERE).await {
        Ok(g) => g,
        Err(r) => return r,
    };
    if !guard.csrf_ok(form.params.get("sfr_csrf")) {
        return super::chrome::forbidden_form();
    }
    let label = form
        .params
        .get("label")
        .unwrap_or_default()
        .trim()
        .to_owned();
    let name = match form.params.get("name").map(str::trim) {
        Some(n) if !n.is_empty() => n.to_owned(),
        _ => crate::model::connected_app::api_name_from(&label),
    };
    if label.is_empty() {
        return render(
            &state,
            &guard,
            None,
            Some("Label: enter a label.".to_owned()),
        )
        .await;
    }
    let now = state.now();
    match state
        .store_call(move |s| s.create_permission_set(&name, &label, now))
        .await
    {
        Ok(_) => see_other(&format!("{HERE}?notice=permission-set-created")),
        Err(e @ (StoreError::Invalid { .. } | StoreError::DuplicatePermissionSet(_))) => {
            render(&state, &guard, None, Some(e.to_string())).await
        }
        Err(e) => internal(e),
    }
}

/// `POST /setup/permission-sets/assign`.
pub async fn assign(State(state): State<AppState>, form: FormRequest) -> Response {
    let guard = match Guard::admin(&state, &form.headers, HERE).await {
        Ok(g) => g,
        Err(r) => return r,
    };
    if !guard.csrf_ok(form.params.get("sfr_csrf")) {
        return super::chrome::forbidden_form();
    }
    let user = form.params.get("user").unwrap_or_default().to_owned();
    let set = form
        .params
        .get("permission_set")
        .unwrap_or_default()
        .to_owned();
    let Ok(user_id) = sfr_wire::SfId::parse(&user) else {
        return render(
            &state,
            &guard,
            None,
            Some("User: choose a user.".to_owned()),
        )
        .await;
    };
    match state
        .store_call(move |s| s.assign_permission_set(&user_id, &set))
        .await
    {
        Ok(_) => see_other(&format!("{HERE}?notice=permission-set-assigned")),
        Err(
            e @ (StoreError::UnknownPermissionSet { .. }
            | StoreError::UnknownUser { .. }
            | StoreError::Invalid { .. }),
        ) => render(&state, &guard, None, Some(e.to_string())).await,
        Err(e) => internal(e),
    }
}
