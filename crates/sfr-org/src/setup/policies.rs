//! *Manage* a connected app: its OAuth policies (*Edit Policies*: permitted users, IP relaxation, refresh token
//! policy, session timeout) and pre-authorization (*Manage Profiles*, *Manage Permission Sets*).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::apps::{load_app, minutes_words, timeout_words};
use super::settings::NoticeQuery;
use super::{Chrome, Guard, internal, page, see_other};
use crate::http::params::{FormRequest, Params};
use crate::model::refresh_policy::DurationUnit;
use crate::model::{
    AppUpdate, ConnectedApp, IpRelaxation, PermittedUsers, PolicyDuration, RefreshPolicy,
};
use crate::state::AppState;

/// Session timeouts offered, in minutes (as Salesforce's picklist).
pub const TIMEOUTS: &[u32] = &[15, 30, 60, 120, 240, 480, 720, 1440];

#[derive(Template)]
#[template(path = "setup/manage.html")]
pub struct ManagePage {
    pub chrome: Chrome,
    pub app: ConnectedApp,
    pub refresh_policy: String,
    pub session_timeout: String,
    pub permitted_users: &'static str,
    pub ip_relaxation: &'static str,
}

/// One `<option>`.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "setup/policies.html")]
pub struct PoliciesPage {
    pub chrome: Chrome,
    pub app_id: String,
    pub app_name: String,
    pub permitted: Vec<Choice>,
    pub ip: Vec<Choice>,
    /// `until-revoked`, `immediately`, `expire-after` or `expire-if-unused`.
    pub refresh_kind: String,
    pub refresh_amount: String,
    pub units: Vec<Choice>,
    pub timeouts: Vec<Choice>,
    pub error: Option<String>,
}

/// A checkbox in Manage Profiles / Manage Permission Sets.
pub struct Check {
    pub value: String,
    pub label: String,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "setup/assign.html")]
pub struct AssignPage {
    pub chrome: Chrome,
    pub app_id: String,
    pub app_name: String,
    pub title: &'static str,
    pub action: &'static str,
    pub items: Vec<Check>,
    pub admin_approved: bool,
}

/// Salesforce's words for a refresh token policy.
pub fn policy_words(p: RefreshPolicy) -> String {
    let d = |d: PolicyDuration| {
        let unit = match (d.unit, d.amount) {
            (DurationUnit::Hours, 1) => "hour",
            (DurationUnit::Hours, _) => "hours",
            (DurationUnit::Days, 1) => "day",
            (DurationUnit::Days, _) => "days",
            (DurationUnit::Months, 1) => "month",
            (DurationUnit::Months, _) => "months",
        };
        format!("{} {unit}", d.amount)
    };
    match p {
        RefreshPolicy::UntilRevoked => "Refresh token is valid until revoked".to_owned(),
        RefreshPolicy::Immediately => "Immediately expire refresh token".to_owned(),
        RefreshPolicy::ExpireAfter(x) => format!("Expire refresh token after {}", d(x)),
        RefreshPolicy::ExpireIfUnused(x) => {
            format!("Expire refresh token if not used for {}", d(x))
        }
    }
}

pub fn permitted_words(p: PermittedUsers) -> &'static str {
    match p {
        PermittedUsers::AllSelfAuthorize => "All users may self-authorize",
        PermittedUsers::AdminApproved => "Admin approved users are pre-authorized",
    }
}

pub fn ip_words(p: IpRelaxation) -> &'static str {
    match p {
        IpRelaxation::Enforce => "Enforce IP restrictions",
        IpRelaxation::EnforceRelaxRefresh => {
            "Enforce IP restrictions, but relax for refresh tokens"
        }
        IpRelaxation::Bypass2Factor => "Relax IP restrictions with second factor",
        IpRelaxation::Bypass => "Relax IP restrictions",
    }
}

async fn guard_and_app(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
    here: &str,
) -> Result<(Guard, ConnectedApp), Response> {
    let guard = Guard::admin(state, headers, here).await?;
    let app = load_app(state, guard.chrome("apps", None), id).await?;
    Ok((guard, app))
}

/// `GET /setup/apps/{id}/manage`.
pub async fn manage(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let here = format!("/setup/apps/{id}/manage");
    let (guard, app) = match guard_and_app(&state, &headers, &id, &here).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    page(
        StatusCode::OK,
        &ManagePage {
            refresh_policy: policy_words(app.refresh_policy),
            session_timeout: timeout_words(
                app.session_timeout_minutes,
                guard.org.session_timeout_minutes,
            ),
            permitted_users: permitted_words(app.permitted_users),
            ip_relaxation: ip_words(app.ip_relaxation),
            chrome: guard.chrome("apps", q.notice.as_deref()),
            app,
        },
    )
}

fn policies_page(guard: &Guard, app: &ConnectedApp, error: Option<String>) -> PoliciesPage {
    let (kind, amount, unit) = match app.refresh_policy {
        RefreshPolicy::UntilRevoked => ("until-revoked", String::new(), None),
        RefreshPolicy::Immediately => ("immediately", String::new(), None),
        RefreshPolicy::ExpireAfter(d) => ("expire-after", d.amount.to_string(), Some(d.unit)),
        RefreshPolicy::ExpireIfUnused(d) => {
            ("expire-if-unused", d.amount.to_string(), Some(d.unit))
        }
    };
    let unit_value = |u: DurationUnit| match u {
        DurationUnit::Hours => "h",
        DurationUnit::Days => "d",
        DurationUnit::Months => "m",
    };
    let current_unit = unit.map(unit_value).unwrap_or("d");
    PoliciesPage {
        chrome: guard.chrome("apps", None),
        app_id: app.id.to_string(),
        app_name: app.name.clone(),
        permitted: [
            PermittedUsers::AllSelfAuthorize,
            PermittedUsers::AdminApproved,
        ]
        .into_iter()
        .map(|p| Choice {
            value: p.as_str().to_owned(),
            label: permitted_words(p).to_owned(),
            selected: p == app.permitted_users,
        })
        .collect(),
        ip: [
            IpRelaxation::Enforce,
            IpRelaxation::EnforceRelaxRefresh,
            IpRelaxation::Bypass2Factor,
            IpRelaxation::Bypass,
        ]
        .into_iter()
        .map(|p| Choice {
            value: p.as_str().to_owned(),
            label: ip_words(p).to_owned(),
            selected: p == app.ip_relaxation,
        })
        .collect(),
        refresh_kind: kind.to_owned(),
        refresh_amount: amount,
        units: [("h", "Hour(s)"), ("d", "Day(s)"), ("m", "Month(s)")]
            .into_iter()
            .map(|(v, l)| Choice {
                value: v.to_owned(),
                label: l.to_owned(),
                selected: v == current_unit,
            })
            .collect(),
        timeouts: std::iter::once(Choice {
            value: "org-default".to_owned(),
            label: timeout_words(None, guard.org.session_timeout_minutes),
            selected: app.session_timeout_minutes.is_none(),
        })
        .chain(TIMEOUTS.iter().map(|m| Choice {
            value: m.to_string(),
            label: minutes_words(*m),
            selected: app.session_timeout_minutes == Some(*m),
        }))
        .collect(),
        error,
    }
}

/// `GET /setup/apps/{id}/policies`.
pub async fn edit_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let here = format!("/setup/apps/{id}/policies");
    let (guard, app) = match guard_and_app(&state, &headers, &id, &here).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    page(StatusCode::OK, &policies_page(&guard, &app, None))
}

/// Reads the Edit Policies form.
fn read_policies(p: &Params, now: i64) -> Result<AppUpdate, String> {
    let permitted = PermittedUsers::parse(p.get("permitted_users").unwrap_or("all"))
        .map_err(|e| e.to_string())?;
    let ip = IpRelaxation::parse(p.get("ip_relaxation").unwrap_or("enforce"))
        .map_err(|e| e.to_string())?;
    let kind = p.get("refresh_policy").unwrap_or("until-revoked");
    let policy = match kind {
        "until-revoked" | "immediately" => RefreshPolicy::parse(kind).map_err(|e| e.to_string())?,
        "expire-after" | "expire-if-unused" => {
            let amount = p.get("refresh_amount").unwrap_or_default().trim();
            let unit = p.get("refresh_unit").unwrap_or("d");
            if amount.is_empty() || !amount.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!(
                    "Refresh Token Policy: enter how many {} (a whole number greater than 0).",
                    match unit {
                        "h" => "hours",
                        "m" => "months",
                        _ => "days",
                    }
                ));
            }
            RefreshPolicy::parse(&format!("{kind}:{amount}{unit}")).map_err(|_| {
                "Refresh Token Policy: enter a whole number greater than 0 and pick Hour(s), Day(s) or Month(s)."
                    .to_owned()
            })?
        }
        other => return Err(format!("Refresh Token Policy: unknown choice {other:?}.")),
    };
    let timeout = match p.get("session_timeout").unwrap_or("org-default") {
        "org-default" => None,
        m => Some(
            m.parse::<u32>()
                .ok()
                .filter(|m| TIMEOUTS.contains(m))
                .ok_or_else(|| format!("Timeout Value: {m:?} is not one of the choices."))?,
        ),
    };
    Ok(AppUpdate {
        permitted_users: Some(permitted),
        ip_relaxation: Some(ip),
        refresh_policy: Some(policy),
        session_timeout_minutes: Some(timeout),
        updated_at: now,
        ..AppUpdate::default()
    })
}

/// `POST /setup/apps/{id}/policies`.
pub async fn save(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: FormRequest,
) -> Response {
    let here = format!("/setup/apps/{id}/policies");
    let (guard, app) = match guard_and_app(&state, &form.headers, &id, &here).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    if !guard.csrf_ok(form.params.get("sfr_csrf")) {
        return super::chrome::forbidden_form();
    }
    let update = match read_policies(&form.params, state.now()) {
        Ok(u) => u,
        Err(message) => {
            return page(
                StatusCode::BAD_REQUEST,
                &policies_page(&guard, &app, Some(message)),
            );
        }
    };
    let name = app.api_name.clone();
    match state
        .store_call(move |s| s.update_app(&name, &update))
        .await
    {
        Ok(saved) => see_other(&format!(
            "/setup/apps/{}/manage?notice=policies-saved",
            saved.id
        )),
        Err(e) => internal(e),
    }
}

/// Which list an assignment page edits.
#[derive(Clone, Copy)]
enum Kind {
    Profiles,
    PermissionSets,
}

async fn assign_form(state: AppState, headers: HeaderMap, id: String, kind: Kind) -> Response {
    let (title, action) = match kind {
        Kind::Profiles => ("Manage Profiles", "profiles"),
        Kind::PermissionSets => ("Manage Permission Sets", "permission-sets"),
    };
    let here = format!("/setup/apps/{id}/{action}");
    let (guard, app) = match guard_and_app(&state, &headers, &id, &here).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let all: Result<Vec<(String, String)>, _> = match kind {
        Kind::Profiles => state
            .store_call(|s| s.list_profiles())
            .await
            .map(|v| v.into_iter().map(|p| (p.name.clone(), p.name)).collect()),
        Kind::PermissionSets => state
            .store_call(|s| s.list_permission_sets())
            .await
            .map(|v| v.into_iter().map(|p| (p.name, p.label)).collect()),
    };
    let all = match all {
        Ok(a) => a,
        Err(e) => return internal(e),
    };
    let chosen = match kind {
        Kind::Profiles => &app.profiles,
        Kind::PermissionSets => &app.permission_sets,
    };
    let items = all
        .into_iter()
        .map(|(value, label)| Check {
            checked: chosen.contains(&value),
            value,
            label,
        })
        .collect();
    page(
        StatusCode::OK,
        &AssignPage {
            chrome: guard.chrome("apps", None),
            app_id: app.id.to_string(),
            app_name: app.name.clone(),
            title,
            action,
            items,
            admin_approved: app.permitted_users == PermittedUsers::AdminApproved,
        },
    )
}

async fn assign_save(state: AppState, id: String, form: FormRequest, kind: Kind) -> Response {
    let action = match kind {
        Kind::Profiles => "profiles",
        Kind::PermissionSets => "permission-sets",
    };
    let here = format!("/setup/apps/{id}/{action}");
    let (guard, app) = match guard_and_app(&state, &form.headers, &id, &here).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    if !guard.csrf_ok(form.params.get("sfr_csrf")) {
        return super::chrome::forbidden_form();
    }
    let chosen: Vec<String> = form
        .params
        .pairs()
        .iter()
        .filter(|(k, v)| k == "item" && !v.is_empty())
        .map(|(_, v)| v.clone())
        .collect();
    let mut update = AppUpdate {
        updated_at: state.now(),
        ..AppUpdate::default()
    };
    let notice = match kind {
        Kind::Profiles => {
            update.profiles = Some(chosen);
            "profiles-saved"
        }
        Kind::PermissionSets => {
            update.permission_sets = Some(chosen);
            "permission-sets-saved"
        }
    };
    let name = app.api_name.clone();
    match state
        .store_call(move |s| s.update_app(&name, &update))
        .await
    {
        Ok(saved) => see_other(&format!("/setup/apps/{}/manage?notice={notice}", saved.id)),
        Err(e) => internal(e),
    }
}

/// `GET /setup/apps/{id}/profiles`.
pub async fn profiles_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    assign_form(state, headers, id, Kind::Profiles).await
}

/// `POST /setup/apps/{id}/profiles`.
pub async fn save_profiles(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: FormRequest,
) -> Response {
    assign_save(state, id, form, Kind::Profiles).await
}

/// `GET /setup/apps/{id}/permission-sets`.
pub async fn permission_sets_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    assign_form(state, headers, id, Kind::PermissionSets).await
}

/// `POST /setup/apps/{id}/permission-sets`.
pub async fn save_permission_sets(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: FormRequest,
) -> Response {
    assign_save(state, id, form, Kind::PermissionSets).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params::from_pairs(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn reads_the_guide_settings() {
        let u = read_policies(
            &params(&[
                ("permitted_users", "admin-approved"),
                ("refresh_policy", "expire-after"),
                ("refresh_amount", "90"),
                ("refresh_unit", "d"),
                ("session_timeout", "15"),
            ]),
            1,
        )
        .unwrap();
        assert_eq!(u.permitted_users, Some(PermittedUsers::AdminApproved));
        assert_eq!(u.refresh_policy.unwrap().to_string(), "expire-after:90d");
        assert_eq!(u.session_timeout_minutes, Some(Some(15)));
        assert_eq!(
            policy_words(u.refresh_policy.unwrap()),
            "Expire refresh token after 90 days"
        );
    }

    #[test]
    fn bad_numbers_are_explained() {
        for amount in ["", "0", "-3", "x", "99999999999"] {
            let err = read_policies(
                &params(&[
                    ("refresh_policy", "expire-if-unused"),
                    ("refresh_amount", amount),
                    ("refresh_unit", "h"),
                ]),
                1,
            )
            .unwrap_err();
            assert!(err.starts_with("Refresh Token Policy"), "{amount}: {err}");
        }
        assert!(read_policies(&params(&[("session_timeout", "7")]), 1).is_err());
    }
}
