//! *Users*: the list, New User, and one user's page (activate/deactivate, unlock, profile, permission sets).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use sfr_wire::SfId;

use super::policies::Choice;
use super::settings::NoticeQuery;
use super::{Chrome, Guard, internal, page, see_other};
use crate::http::params::FormRequest;
use crate::keys;
use crate::model::{NewUser, STANDARD_USER, User};
use crate::state::AppState;
use crate::store::StoreError;

/// One row of the Users list.
pub struct UserRow {
    pub id: String,
    pub name: String,
    pub username: String,
    pub email: String,
    pub profile: String,
    pub active: bool,
    pub locked: bool,
    pub last_login: String,
}

/// New User form values.
#[derive(Default)]
pub struct NewUserForm {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub username: String,
}

#[derive(Template)]
#[template(path = "setup/users.html")]
pub struct UsersPage {
    pub chrome: Chrome,
    pub users: Vec<UserRow>,
    pub form: NewUserForm,
    pub profiles: Vec<Choice>,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "setup/user.html")]
pub struct UserPage {
    pub chrome: Chrome,
    pub user: UserRow,
    pub permission_sets: Vec<String>,
    pub profiles: Vec<Choice>,
    pub assignable: Vec<Choice>,
    pub error: Option<String>,
}

fn row(u: &User, now: i64) -> UserRow {
    UserRow {
        id: u.id.to_string(),
        name: u.display_name(),
        username: u.username.clone(),
        email: u.email.clone(),
        profile: u.profile.name.clone(),
        active: u.active,
        locked: u.is_locked(now),
        last_login: u
            .last_login_at
            .map(super::format_time)
            .unwrap_or_else(|| "never".to_owned()),
    }
}

async fn profile_choices(state: &AppState, selected: &str) -> Result<Vec<Choice>, StoreError> {
    let profiles = state.store_call(|s| s.list_profiles()).await?;
    Ok(profiles
        .into_iter()
        .map(|p| Choice {
            selected: p.name == selected,
            value: p.name.clone(),
            label: p.name,
        })
        .collect())
}

async fn users_page(
    state: &AppState,
    guard: &Guard,
    notice: Option<&str>,
    form: NewUserForm,
    profile: &str,
    error: Option<String>,
) -> Response {
    let users = match state.store_call(|s| s.list_users()).await {
        Ok(u) => u,
        Err(e) => return internal(e),
    };
    let profiles = match profile_choices(state, profile).await {
        Ok(p) => p,
        Err(e) => return internal(e),
    };
    let now = state.now();
    page(
        if error.is_some() {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        },
        &UsersPage {
            chrome: guard.chrome("users", notice),
            users: users.iter().map(|u| row(u, now)).collect(),
            form,
            profiles,
            error,
        },
    )
}

/// `GET /setup/users`.
pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let guard = match Guard::admin(&state, &headers, "/setup/users").await {
        Ok(g) => g,
        Err(r) => return r,
    };
    users_page(
        &state,
        &guard,
        q.notice.as_deref(),
        NewUserForm::default(),
        STANDARD_USER,
        None,
    )
    .await
}

/// `POST /setup/users`: New User.
pub async fn create(State(state): State<AppState>, form: FormRequest) -> Response {
    let guard = match Guard::admin(&state, &form.headers, "/setup/users").await {
        Ok(g) => g,
        Err(r) => return r,
    };
    if !guard.csrf_ok(form.params.get("sfr_csrf")) {
        return super::chrome::forbidden_form();
    }
    let p = &form.params;
    let get = |k: &str| p.get(k).unwrap_or_default().trim().to_owned();
    let values = NewUserForm {
        first_name: get("first_name"),
        last_name: get("last_name"),
        email: get("email"),
        username: get("username"),
    };
    let profile = p.get("profile").unwrap_or(STANDARD_USER).to_owned();
    let password = p.get("password").unwrap_or_default().to_owned();
    let problem = if values.last_name.is_empty() {
        Some("Last Name: enter a last name.")
    } else if values.username.is_empty() || values.email.is_empty() {
        Some("Username and Email: enter both.")
    } else if password.chars().count() < 8
        || !password.chars().any(|c| c.is_ascii_digit())
        || !password.chars().any(|c| c.is_alphabetic())
    {
        Some("Password: use at least 8 characters with letters and numbers.")
    } else {
        None
    };
    if let Some(message) = problem {
        return users_page(
            &state,
            &guard,
            None,
            values,
            &profile,
            Some(message.to_owned()),
        )
        .await;
    }
    let hash = match tokio::task::spawn_blocking(move || keys::hash_password(&password)).await {
        Ok(Ok(h)) => h,
        Ok(Err(e)) => return internal(e),
        Err(e) => return internal(e),
    };
    let new = NewUser {
        username: values.username.clone(),
        email: values.email.clone(),
        first_name: Some(values.first_name.clone()).filter(|f| !f.is_empty()),
        last_name: values.last_name.clone(),
        password_hash: hash,
        profile: profile.clone(),
        permission_sets: Vec::new(),
        created_at: state.now(),
    };
    match state.store_call(move |s| s.create_user(&new)).await {
        Ok(u) => see_other(&format!("/setup/users/{}?notice=user-created", u.id)),
        Err(
            e @ (StoreError::Invalid { .. }
            | StoreError::DuplicateUsername(_)
            | StoreError::UnknownProfile { .. }),
        ) => users_page(&state, &guard, None, values, &profile, Some(e.to_string())).await,
        Err(e) => internal(e),
    }
}

async fn user_page(
    state: &AppState,
    guard: &Guard,
    user: &User,
    notice: Option<&str>,
    error: Option<String>,
) -> Response {
    let profiles = match profile_choices(state, &user.profile.name).await {
        Ok(p) => p,
        Err(e) => return internal(e),
    };
    let sets = match state.store_call(|s| s.list_permission_sets()).await {
        Ok(s) => s,
        Err(e) => return internal(e),
    };
    let assignable = sets
        .into_iter()
        .filter(|ps| !user.has_permission_set(&ps.name))
        .map(|ps| Choice {
            value: ps.name,
            label: ps.label,
            selected: false,
        })
        .collect();
    page(
        if error.is_some() {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        },
        &UserPage {
            chrome: guard.chrome("users", notice),
            user: row(user, state.now()),
            permission_sets: user
                .permission_sets
                .iter()
                .map(|ps| ps.label.clone())
                .collect(),
            profiles,
            assignable,
            error,
        },
    )
}

async fn load_user(state: &AppState, id: &str) -> Result<Option<User>, StoreError> {
    match SfId::parse(id) {
        Ok(id) => state.store_call(move |s| s.user_by_id(&id)).await,
        Err(_) => Ok(None),
    }
}

fn no_user(guard: &Guard) -> Response {
    page(
        StatusCode::NOT_FOUND,
        &super::history::NotFoundPage {
            chrome: guard.chrome("users", None),
            what: "user",
        },
    )
}

/// `GET /setup/users/{id}`.
pub async fn view(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let guard = match Guard::admin(&state, &headers, &format!("/setup/users/{id}")).await {
        Ok(g) => g,
        Err(r) => return r,
    };
    match load_user(&state, &id).await {
        Ok(Some(user)) => user_page(&state, &guard, &user, q.notice.as_deref(), None).await,
        Ok(None) => no_user(&guard),
        Err(e) => internal(e),
    }
}

/// `POST /setup/users/{id}`: `action` = `activate`, `deactivate`, `unlock`, `profile` or `assign`.
pub async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: FormRequest,
) -> Response {
    let guard = match Guard::admin(&state, &form.headers, &format!("/setup/users/{id}")).await {
        Ok(g) => g,
        Err(r) => return r,
    };
    if !guard.csrf_ok(form.params.get("sfr_csrf")) {
        return super::chrome::forbidden_form();
    }
    let user = match load_user(&state, &id).await {
        Ok(Some(u)) => u,
        Ok(None) => return no_user(&guard),
        Err(e) => return internal(e),
    };
    let p = &form.params;
    let now = state.now();
    let uid = user.id.clone();
    let action = p.get("action").unwrap_or_default().to_owned();
    if action == "deactivate" && uid == guard.user.id {
        return user_page(
            &state,
            &guard,
            &user,
            None,
            Some("You can't deactivate yourself.".to_owned()),
        )
        .await;
    }
    let result = match action.as_str() {
        "activate" | "unlock" => {
            state
                .store_call(move |s| s.set_user_active(&uid, true, now))
                .await
        }
        "deactivate" => {
            state
                .store_call(move |s| s.set_user_active(&uid, false, now))
                .await
        }
        "profile" => {
            let profile = p.get("profile").unwrap_or_default().to_owned();
            state
                .store_call(move |s| s.set_user_profile(&uid, &profile))
                .await
        }
        "assign" => {
            let ps = p.get("permission_set").unwrap_or_default().to_owned();
            state
                .store_call(move |s| s.assign_permission_set(&uid, &ps))
                .await
        }
        _ => {
            return user_page(
                &state,
                &guard,
                &user,
                None,
                Some("Unknown action.".to_owned()),
            )
            .await;
        }
    };
    match result {
        Ok(u) => see_other(&format!("/setup/users/{}?notice=user-saved", u.id)),
        Err(
            e @ (StoreError::UnknownProfile { .. }
            | StoreError::UnknownPermissionSet { .. }
            | StoreError::Invalid { .. }),
        ) => user_page(&state, &guard, &user, None, Some(e.to_string())).await,
        Err(e) => internal(e),
    }
}
