//! `sfr org login web`: the OAuth web-server flow with PKCE through a loopback redirect server, exactly as `sf`
//! does it on the wire. With `--client-app` + `--username` the new tokens are linked to an already-authorized
//! user under `clientApps` instead of creating an authorization.

use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::cli::LoginWebArgs;
use crate::org::callback::{CallbackError, CallbackServer, WaitError};
use crate::org::http::HttpClient;
use crate::org::login::{
    self, Flow, complete_metadata, grant_error, http_client, resolve_login_url,
};
use crate::org::post_login::{self, Rest};
use crate::org::token::GrantError;
use crate::org::web::{self, AuthorizeRequest, DEFAULT_CLIENT_ID, Spinner};
use crate::output::{CommandError, Ctx, Outcome};
use crate::store::{AuthFile, Store};

/// `SF_WEB_OAUTH_SERVER_TIMEOUT`'s default, in milliseconds.
const DEFAULT_TIMEOUT_MS: u64 = 120_000;
/// `SFDX_HTTP_SOCKET_TIMEOUT`'s default, in milliseconds (the port probe).
const DEFAULT_SOCKET_TIMEOUT_MS: u64 = 20_000;
const EXCHANGE_PREFIX: &str = "Invalid client credentials. Verify the OAuth client secret and ID. ";

pub fn run(ctx: &mut Ctx, store: &Store, args: &LoginWebArgs) -> Result<Outcome, CommandError> {
    let truthy = |k: &str| std::env::var(k).is_ok_and(|v| v.eq_ignore_ascii_case("true"));
    if (truthy("SF_CONTAINER_MODE") || truthy("SFDX_CONTAINER_MODE"))
        && std::env::var_os("CODE_BUILDER").is_none()
    {
        return Err(CommandError::new(
            "DeviceWarning",
            "\"org login web\" isn't supported when authorizing in a headless environment. Use another OAuth flow, such as the JWT Bearer Flow with the \"org login jwt\" command.",
        ));
    }
    if !login::demo_mode_allows(args.defaults.no_prompt) {
        return Ok(login::declined());
    }
    let scopes = web::resolve_scopes(
        args.scopes.as_deref(),
        std::env::var("SFDX_AUTH_SCOPES").ok().as_deref(),
    )
    .map_err(|e| CommandError::new("InvalidScopesError", e.to_string()))?;
    let linked_user = match (&args.client_app, &args.username) {
        (Some(_), Some(user)) => {
            let username = store.resolve_username(user)?;
            Some(store.read_auth(&username)?)
        }
        _ => None,
    };
    let login = resolve_login_url(store, args.instance_url.as_ref())?;
    let client_id = args
        .client_id
        .clone()
        .unwrap_or_else(|| DEFAULT_CLIENT_ID.to_owned());
    let client_secret = if args.client_id.is_some() {
        web::prompt_client_secret()
            .map_err(|e| CommandError::generic(format!("Cannot read the client secret: {e}")))?
    } else {
        None
    };
    let http = http_client()?;
    let cwd = std::env::current_dir().unwrap_or_default();
    let port = web::oauth_local_port(&cwd);
    let probe = Duration::from_millis(env_ms(
        "SFDX_HTTP_SOCKET_TIMEOUT",
        DEFAULT_SOCKET_TIMEOUT_MS,
    ));
    let server = CallbackServer::bind(port, probe).map_err(callback_error)?;
    let request = AuthorizeRequest::new(&login.href, &client_id, &scopes, &server.redirect_uri())
        .map_err(|e| CommandError::generic(e.to_string()))?;
    let url = request.url();
    if args.no_browser {
        eprintln!("Open this URL in a browser to log in:\n{url}");
    } else {
        web::open_browser(&url, args.browser.map(|b| b.as_str())).map_err(|e| {
            let mut err = CommandError::new("CannotOpenBrowserError", e.to_string());
            for a in e.actions() {
                err = err.with_action(a);
            }
            err
        })?;
    }
    let spinner = Spinner::start(
        "Waiting for the login to finish in the browser",
        !ctx.json(),
    );
    let timeout = Duration::from_millis(env_ms("SF_WEB_OAUTH_SERVER_TIMEOUT", DEFAULT_TIMEOUT_MS));
    let outcome = server.wait(&request.state, timeout, |code| {
        let token = request
            .exchange(&http, code, client_secret.as_deref())
            .map_err(|e| exchange_error(&e, &request))?;
        match &linked_user {
            Some(user) => link_client_app(
                store,
                &http,
                user.clone(),
                args,
                &token,
                client_secret.as_deref(),
            ),
            None => save_new_auth(
                store,
                &http,
                &login.href,
                &request.client_id,
                &token,
                client_secret.as_deref(),
            ),
        }
    });
    spinner.finish();
    let auth = outcome.map_err(|e| match e {
        WaitError::Callback(c) => callback_error(c),
        WaitError::Exchange(e) => e,
    })?;
    login::finish(
        ctx,
        store,
        &auth,
        &args.defaults,
        Flow::Web,
        &login.warnings,
    )
}

fn env_ms(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .filter(|v| *v > 0)
        .unwrap_or(default)
}

fn callback_error(e: CallbackError) -> CommandError {
    let mut err = CommandError::new(e.name(), e.to_string());
    for a in e.actions() {
        err = err.with_action(a);
    }
    err
}

fn exchange_error(e: &GrantError, request: &AuthorizeRequest) -> CommandError {
    grant_error(
        "AuthCodeExchangeError",
        &format!("{EXCHANGE_PREFIX}Error authenticating with auth code due to: "),
        e,
    )
    .with_data(json!({
        "clientId": request.client_id,
        "redirectUri": request.redirect_uri,
        "loginUrl": request.login_url,
        "authCode": "<authcode - HIDDEN>",
    }))
    .with_action("Check that the connected app's consumer key, secret and callback URL match, then log in again.")
}

/// A new authorization from the code grant: username from userinfo + User, then the §5 metadata; saved.
fn save_new_auth(
    store: &Store,
    http: &HttpClient,
    login_url: &str,
    client_id: &str,
    token: &sfr_wire::TokenResponse,
    client_secret: Option<&str>,
) -> Result<AuthFile, CommandError> {
    let rest = Rest {
        http,
        instance_url: &token.instance_url,
        access_token: &token.access_token,
    };
    let identity = post_login::identify(rest)?;
    let mut auth = AuthFile::new();
    auth.set_access_token(token.access_token.clone())
        .set_instance_url(token.instance_url.clone())
        .set_org_id(token.org_id().unwrap_or(&identity.org_id).to_owned())
        .set_username(identity.username)
        .set_login_url(login_url.to_owned());
    if let Some(refresh) = token.refresh_token.as_deref().filter(|r| !r.is_empty()) {
        auth.set_refresh_token(refresh.to_owned());
    }
    auth.set_client_id(client_id.to_owned());
    if let Some(secret) = client_secret {
        auth.set_client_secret(secret.to_owned());
    }
    complete_metadata(store, http, &mut auth);
    login::identify_scratch_org(store, http, &mut auth);
    store.write_auth(&auth)?;
    Ok(auth)
}

/// Links the new tokens to an authorized user under `clientApps.<name>`; the token must belong to that user.
fn link_client_app(
    store: &Store,
    http: &HttpClient,
    mut user: AuthFile,
    args: &LoginWebArgs,
    token: &sfr_wire::TokenResponse,
    client_secret: Option<&str>,
) -> Result<AuthFile, CommandError> {
    let rest = Rest {
        http,
        instance_url: &token.instance_url,
        access_token: &token.access_token,
    };
    let identity = post_login::identify(rest)?;
    let expected = user.username().unwrap_or_default().to_owned();
    if !identity.username.eq_ignore_ascii_case(&expected) {
        return Err(CommandError::new(
            "ClientAppUserMismatchError",
            format!(
                "You logged in as {} but --username names {expected}; the client app was not linked.",
                identity.username
            ),
        )
        .with_action(format!("Log in as {expected} in the browser window.")));
    }
    let name = args.client_app.clone().unwrap_or_default();
    let mut app = Map::new();
    app.insert(
        "clientId".into(),
        Value::String(
            args.client_id
                .clone()
                .unwrap_or_else(|| DEFAULT_CLIENT_ID.to_owned()),
        ),
    );
    if let Some(secret) = client_secret {
        app.insert("clientSecret".into(), Value::String(secret.to_owned()));
    }
    app.insert(
        "accessToken".into(),
        Value::String(token.access_token.clone()),
    );
    if let Some(refresh) = &token.refresh_token {
        app.insert("refreshToken".into(), Value::String(refresh.clone()));
    }
    app.insert("oauthFlow".into(), Value::String("web".into()));
    let mut apps = user.client_apps().cloned().unwrap_or_default();
    apps.insert(name, Value::Object(app));
    user.set_client_apps(apps);
    store.write_auth(&user)?;
    Ok(user)
}
