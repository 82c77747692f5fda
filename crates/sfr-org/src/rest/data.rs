//! `/services/data…`: the version list (no auth) and, behind a live session with API access, the version
//! resource map, describe global, `sobjects/User/<id>`, SOQL `query` and tooling `query`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};
use sfr_wire::{RestError, SfId};

use super::soql::{self, QueriedObject, SoqlError};
use super::versions;
use crate::http::{bearer, reply};
use crate::model::Scope;
use crate::oauth::{Authenticated, authenticate};
use crate::state::AppState;

/// Daily API allowance reported in `Sforce-Limit-Info`.
pub const API_LIMIT: u64 = 15_000;

/// API calls served since start, for `Sforce-Limit-Info: api-usage=N/15000`.
#[derive(Debug, Default)]
pub struct ApiUsage(AtomicU64);

impl ApiUsage {
    fn next(&self) -> u64 {
        self.0.fetch_add(1, Ordering::Relaxed) + 1
    }
}

/// `GET /services/data` and `/services/data/`: no authentication.
pub async fn list_versions() -> Response {
    reply::json_static(versions::all_json())
}

/// Everything below `/services/data/`.
pub async fn data(
    State(state): State<AppState>,
    Extension(usage): Extension<Arc<ApiUsage>>,
    Path(path): Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if segments.is_empty() {
        return list_versions().await;
    }
    let token = bearer::access_token(&headers, None);
    let auth = match authenticate(&state, token).await {
        Ok(Some(a)) => a,
        Ok(None) => return reply::invalid_session(),
        Err(e) => {
            tracing::error!(error = %e, "token lookup failed");
            return reply::rest_error(StatusCode::INTERNAL_SERVER_ERROR, RestError::unknown());
        }
    };
    if !auth
        .token
        .scopes
        .iter()
        .any(|s| matches!(s, Scope::Api | Scope::Full))
    {
        return reply::rest_error(
            StatusCode::UNAUTHORIZED,
            RestError {
                message: "This session is not valid for use with the REST API".to_owned(),
                error_code: "INVALID_SESSION_ID".to_owned(),
            },
        );
    }
    let mut resp = match versions::parse(segments[0]) {
        None => reply::rest_error(StatusCode::NOT_FOUND, RestError::not_found()),
        Some(v) => route(&state, &auth, v, &segments[1..], query.as_deref()).await,
    };
    let used = usage.next();
    if let Ok(h) = HeaderValue::from_str(&format!("api-usage={used}/{API_LIMIT}")) {
        resp.headers_mut().insert("sforce-limit-info", h);
    }
    resp
}

async fn route(
    state: &AppState,
    auth: &Authenticated,
    v: u32,
    rest: &[&str],
    query: Option<&str>,
) -> Response {
    match rest {
        [] => reply::json(StatusCode::OK, &resources(state, auth, v)),
        ["sobjects"] => reply::json(StatusCode::OK, &describe_global()),
        ["sobjects", object, id] if object.eq_ignore_ascii_case("user") => {
            user_record(state, v, id).await
        }
        ["query"] => run_query(state, v, query, false).await,
        ["tooling", "query"] => run_query(state, v, query, true).await,
        _ => reply::rest_error(StatusCode::NOT_FOUND, RestError::not_found()),
    }
}

fn resources(state: &AppState, auth: &Authenticated, v: u32) -> Value {
    let p = |r: &str| format!("/services/data/v{v}.0/{r}");
    json!({
        "tooling": p("tooling"),
        "metadata": p("metadata"),
        "eclair": p("eclair"),
        "folders": p("folders"),
        "prechatForms": p("prechatForms"),
        "contact-tracing": p("contact-tracing"),
        "chatter": p("chatter"),
        "tabs": p("tabs"),
        "appMenu": p("appMenu"),
        "quickActions": p("quickActions"),
        "queryAll": p("queryAll"),
        "commerce": p("commerce"),
        "wave": p("wave"),
        "iot": p("iot"),
        "analytics": p("analytics"),
        "search": p("search"),
        "identity": state.config.identity_url(&auth.user.id),
        "composite": p("composite"),
        "parameterizedSearch": p("parameterizedSearch"),
        "theme": p("theme"),
        "nouns": p("nouns"),
        "recent": p("recent"),
        "licensing": p("licensing"),
        "limits": p("limits"),
        "process": p("process"),
        "async-queries": p("async-queries"),
        "query": p("query"),
        "match": p("match"),
        "emailConnect": p("emailConnect"),
        "compactLayouts": p("compactLayouts"),
        "knowledgeManagement": p("knowledgeManagement"),
        "sobjects": p("sobjects"),
        "actions": p("actions"),
        "support": p("support"),
    })
}

fn describe_global() -> Value {
    let object = |name: &str, label: &str, prefix: &str| {
        json!({
            "name": name, "label": label, "labelPlural": format!("{label}s"), "keyPrefix": prefix,
            "queryable": true, "retrieveable": true, "searchable": false, "createable": false,
            "updateable": false, "deletable": false, "custom": false,
            "urls": {
                "sobject": format!("/services/data/v{}.0/sobjects/{name}", versions::LATEST),
                "describe": format!("/services/data/v{}.0/sobjects/{name}/describe", versions::LATEST),
                "rowTemplate": format!("/services/data/v{}.0/sobjects/{name}/{{ID}}", versions::LATEST),
            },
        })
    };
    json!({
        "encoding": "UTF-8",
        "maxBatchSize": 200,
        "sobjects": [
            object("Organization", "Organization", "00D"),
            object("ScratchOrgInfo", "Scratch Org Info", "2SR"),
            object("User", "User", "005"),
        ],
    })
}

async fn user_record(state: &AppState, v: u32, id: &str) -> Response {
    let Ok(sf_id) = SfId::parse(id) else {
        return reply::rest_error(StatusCode::NOT_FOUND, RestError::invalid_id(id));
    };
    if sf_id.prefix() != "005" {
        return reply::rest_error(StatusCode::NOT_FOUND, RestError::invalid_id(id));
    }
    let user = match state.store_call(move |s| s.user_by_id(&sf_id)).await {
        Ok(u) => u,
        Err(e) => {
            tracing::error!(error = %e, "user lookup failed");
            return reply::rest_error(StatusCode::INTERNAL_SERVER_ERROR, RestError::unknown());
        }
    };
    let Some(u) = user else {
        return reply::rest_error(StatusCode::NOT_FOUND, RestError::invalid_id(id));
    };
    reply::json(
        StatusCode::OK,
        &json!({
            "attributes": {"type": "User", "url": format!("/services/data/v{v}.0/sobjects/User/{}", u.id)},
            "Id": u.id.as_str(),
            "Username": u.username,
            "Email": u.email,
            "Name": u.display_name(),
            "FirstName": u.first_name,
            "LastName": u.last_name,
            "IsActive": u.active,
            "ProfileId": u.profile.id.as_str(),
        }),
    )
}

async fn run_query(state: &AppState, v: u32, query: Option<&str>, tooling: bool) -> Response {
    let q = query
        .map(sfr_wire::encoding::parse_form)
        .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == "q").map(|(_, v)| v))
        .unwrap_or_default();
    let empty = if tooling {
        json!({"size": 0, "totalSize": 0, "done": true, "queryLocator": null, "entityTypeName": null, "records": []})
    } else {
        json!({"totalSize": 0, "done": true, "records": []})
    };
    match soql::queried_object(&q) {
        Ok(QueriedObject::Organization) => match state.store_call(|s| s.org()).await {
            Ok(org) => reply::json(
                StatusCode::OK,
                &json!({
                    "totalSize": 1,
                    "done": true,
                    "records": [{
                        "attributes": {"type": "Organization", "url": format!("/services/data/v{v}.0/sobjects/Organization/{}", org.id)},
                        "Name": org.name,
                        "InstanceName": "LOCAL",
                        "IsSandbox": false,
                        "TrialExpirationDate": null,
                        "NamespacePrefix": null,
                        "OrganizationType": "Developer Edition",
                    }],
                }),
            ),
            Err(e) => {
                tracing::error!(error = %e, "org lookup failed");
                reply::rest_error(StatusCode::INTERNAL_SERVER_ERROR, RestError::unknown())
            }
        },
        Ok(QueriedObject::ScratchOrgInfo) => match state.store_call(|s| s.org()).await {
            Ok(org) if org.dev_hub => reply::json(StatusCode::OK, &empty),
            Ok(_) => reply::rest_error(
                StatusCode::BAD_REQUEST,
                RestError::invalid_type("ScratchOrgInfo"),
            ),
            Err(e) => {
                tracing::error!(error = %e, "org lookup failed");
                reply::rest_error(StatusCode::INTERNAL_SERVER_ERROR, RestError::unknown())
            }
        },
        Ok(QueriedObject::SandboxProcess) => reply::json(StatusCode::OK, &empty),
        Err(SoqlError::Malformed(detail)) => {
            reply::rest_error(StatusCode::BAD_REQUEST, RestError::malformed_query(detail))
        }
        Err(SoqlError::UnknownObject(object)) => reply::rest_error(
            StatusCode::BAD_REQUEST,
            RestError::malformed_query(format!(
                "sObject type '{object}' is not supported by this org"
            )),
        ),
    }
}
