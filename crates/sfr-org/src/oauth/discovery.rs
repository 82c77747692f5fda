//! `GET /.well-known/openid-configuration`: issuer = base URL, the endpoints of this org, the lists of §2.7.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::json;

use crate::http::reply;
use crate::state::AppState;

pub async fn openid_configuration(State(state): State<AppState>) -> Response {
    let base = &state.config.base_url;
    let body = json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/services/oauth2/authorize"),
        "token_endpoint": format!("{base}/services/oauth2/token"),
        "revocation_endpoint": format!("{base}/services/oauth2/revoke"),
        "userinfo_endpoint": format!("{base}/services/oauth2/userinfo"),
        "jwks_uri": format!("{base}/id/keys"),
        "registration_endpoint": format!("{base}/services/oauth2/register"),
        "introspection_endpoint": format!("{base}/services/oauth2/introspect"),
        "end_session_endpoint": format!("{base}/services/auth/idp/oidc/logout"),
        "frontchannel_logout_supported": true,
        "frontchannel_logout_session_supported": false,
        "scopes_supported": ["id", "api", "web", "full", "chatter_api", "visualforce", "refresh_token",
            "openid", "profile", "email", "address", "phone", "offline_access", "custom_permissions",
            "wave_api", "eclair_api", "lightning", "content"],
        "response_types_supported": ["code", "token", "token id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "display_values_supported": ["page", "popup", "touch"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic", "private_key_jwt"],
        "code_challenge_methods_supported": ["S256", "plain"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials",
            "urn:ietf:params:oauth:grant-type:jwt-bearer"],
        "claims_supported": ["active", "address", "email", "email_verified", "family_name", "given_name",
            "is_app_installed", "language", "locale", "name", "nickname", "organization_id", "phone_number",
            "phone_number_verified", "photos", "picture", "preferred_username", "profile", "sub", "updated_at",
            "urls", "user_id", "user_type", "zoneinfo"],
    });
    cors(reply::json(StatusCode::OK, &body))
}

/// `Access-Control-Allow-Origin: *` for the public metadata documents.
pub fn cors(mut resp: Response) -> Response {
    resp.headers_mut()
        .insert("access-control-allow-origin", HeaderValue::from_static("*"));
    resp
}

/// `GET /.well-known/auth-configuration`: what the Mobile SDK reads about the login page.
pub async fn auth_configuration(State(state): State<AppState>) -> Response {
    let base = &state.config.base_url;
    let body = json!({
        "OrgId": state.config.org_id.to_15(),
        "Url": base,
        "MobileSDK": {"UseNativeBrowserForAuthentication": false},
        "LoginPage": {"LoginPageUrl": format!("{base}/services/oauth2/authorize"), "LogoUrl": null},
        "SamlProviders": [],
        "AuthProviders": [],
        "CertificateLogin": {"Enabled": false},
        "LoginPageType": "standard",
        "LoginPageTypeConfigs": {},
    });
    cors(reply::json(StatusCode::OK, &body))
}
