//! Connected apps (with their encrypted consumer secrets) and user approvals.

use rusqlite::{Connection, OptionalExtension as _, params};
use sfr_wire::SfId;

use super::cached::CachedStatements as _;
use super::{db_err, is_unique_violation, org, parse_id, parse_scopes, users};
use crate::keys::{self, Keys};
use crate::model::{
    AppUpdate, Approval, ConnectedApp, IpRelaxation, NewApp, PermittedUsers, RefreshPolicy, Scope,
};
use crate::store::{MissingStep, StoreError, StoreResult, app_rules};

const APP_COLUMNS: &str = "id, name, api_name, contact_email, oauth_enabled, callback_urls, scopes,
     certificate_pem, consumer_key, require_secret_web, require_secret_refresh, require_pkce, permitted_users,
     refresh_policy, session_timeout_minutes, ip_relaxation, client_credentials_user_id, built_in, created_at,
     updated_at, introspect_all_tokens";

struct AppRow {
    id: String,
    name: String,
    api_name: String,
    contact_email: String,
    oauth_enabled: bool,
    callback_urls: String,
    scopes: String,
    certificate_pem: Option<String>,
    consumer_key: String,
    require_secret_web: bool,
    require_secret_refresh: bool,
    require_pkce: bool,
    introspect_all_tokens: bool,
    permitted_users: String,
    refresh_policy: String,
    session_timeout_minutes: Option<u32>,
    ip_relaxation: String,
    client_credentials_user_id: Option<String>,
    built_in: bool,
    created_at: i64,
    updated_at: i64,
}

fn app_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AppRow> {
    Ok(AppRow {
        id: r.get(0)?,
        name: r.get(1)?,
        api_name: r.get(2)?,
        contact_email: r.get(3)?,
        oauth_enabled: r.get(4)?,
        callback_urls: r.get(5)?,
        scopes: r.get(6)?,
        certificate_pem: r.get(7)?,
        consumer_key: r.get(8)?,
        require_secret_web: r.get(9)?,
        require_secret_refresh: r.get(10)?,
        require_pkce: r.get(11)?,
        permitted_users: r.get(12)?,
        refresh_policy: r.get(13)?,
        session_timeout_minutes: r.get(14)?,
        ip_relaxation: r.get(15)?,
        client_credentials_user_id: r.get(16)?,
        built_in: r.get(17)?,
        created_at: r.get(18)?,
        updated_at: r.get(19)?,
        introspect_all_tokens: r.get(20)?,
    })
}

fn corrupt(e: crate::model::ParseError) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

fn names(conn: &Connection, sql: &str, app_id: &str) -> StoreResult<Vec<String>> {
    let mut stmt = conn.prepare_cached(sql).map_err(db_err)?;
    stmt.query_map([app_id], |r| r.get(0))
        .map_err(db_err)?
        .collect::<Result<Vec<String>, _>>()
        .map_err(db_err)
}

fn finish(conn: &Connection, row: AppRow) -> StoreResult<ConnectedApp> {
    let profiles = names(
        conn,
        "SELECT p.name FROM app_profiles ap JOIN profiles p ON p.id = ap.profile_id
         WHERE ap.app_id = ?1 ORDER BY p.name",
        &row.id,
    )?;
    let permission_sets = names(
        conn,
        "SELECT ps.name FROM app_permission_sets aps JOIN permission_sets ps ON ps.id = aps.permission_set_id
         WHERE aps.app_id = ?1 ORDER BY ps.name_key",
        &row.id,
    )?;
    Ok(ConnectedApp {
        id: parse_id(&row.id)?,
        name: row.name,
        api_name: row.api_name,
        contact_email: row.contact_email,
        oauth_enabled: row.oauth_enabled,
        callback_urls: row
            .callback_urls
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect(),
        scopes: parse_scopes(&row.scopes)?,
        certificate_pem: row.certificate_pem,
        consumer_key: row.consumer_key,
        require_secret_web: row.require_secret_web,
        require_secret_refresh: row.require_secret_refresh,
        require_pkce: row.require_pkce,
        introspect_all_tokens: row.introspect_all_tokens,
        permitted_users: PermittedUsers::parse(&row.permitted_users).map_err(corrupt)?,
        profiles,
        permission_sets,
        refresh_policy: RefreshPolicy::parse(&row.refresh_policy).map_err(corrupt)?,
        session_timeout_minutes: row.session_timeout_minutes,
        ip_relaxation: IpRelaxation::parse(&row.ip_relaxation).map_err(corrupt)?,
        client_credentials_user: row
            .client_credentials_user_id
            .as_deref()
            .map(parse_id)
            .transpose()?,
        built_in: row.built_in,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

fn one(conn: &Connection, filter: &str, value: &str) -> StoreResult<Option<ConnectedApp>> {
    let sql = format!("SELECT {APP_COLUMNS} FROM apps WHERE {filter}");
    conn.query_row_cached(&sql, [value], app_row)
        .optional()
        .map_err(db_err)?
        .map(|row| finish(conn, row))
        .transpose()
}

pub(super) fn by_consumer_key(conn: &Connection, key: &str) -> StoreResult<Option<ConnectedApp>> {
    one(conn, "consumer_key = ?1", key)
}

pub(super) fn by_id(conn: &Connection, id: &SfId) -> StoreResult<Option<ConnectedApp>> {
    one(conn, "substr(id, 1, 15) = ?1", id.to_15())
}

pub(super) fn by_name(conn: &Connection, name: &str) -> StoreResult<Option<ConnectedApp>> {
    let key = name.trim().to_lowercase();
    match one(conn, "name_key = ?1", &key)? {
        Some(app) => Ok(Some(app)),
        None => one(conn, "api_name_key = ?1", &key),
    }
}

pub(super) fn list(conn: &Connection) -> StoreResult<Vec<ConnectedApp>> {
    let sql = format!("SELECT {APP_COLUMNS} FROM apps ORDER BY name_key");
    let mut stmt = conn.prepare(&sql).map_err(db_err)?;
    let rows = stmt
        .query_map([], app_row)
        .map_err(db_err)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db_err)?;
    rows.into_iter().map(|row| finish(conn, row)).collect()
}

fn require_by_name(conn: &Connection, name: &str) -> StoreResult<ConnectedApp> {
    match by_name(conn, name)? {
        Some(app) => Ok(app),
        None => Err(StoreError::UnknownApp {
            name: name.to_owned(),
            known: list(conn)?.into_iter().map(|a| a.name).collect(),
        }),
    }
}

fn secret_context(app_id: &SfId) -> String {
    format!("consumer_secret:{}", app_id.to_15())
}

pub(super) fn secret(conn: &Connection, keys: &Keys, app_id: &SfId) -> StoreResult<String> {
    let sealed: String = conn
        .query_row_cached(
            "SELECT consumer_secret_enc FROM apps WHERE substr(id, 1, 15) = ?1",
            [app_id.to_15()],
            |r| r.get(0),
        )
        .optional()
        .map_err(db_err)?
        .ok_or_else(|| StoreError::UnknownApp {
            name: app_id.to_string(),
            known: Vec::new(),
        })?;
    let decrypt_err = || StoreError::Decrypt {
        what: format!("the consumer secret of app {app_id}"),
    };
    let plain = keys
        .decrypt(&sealed, &secret_context(app_id))
        .map_err(|_| decrypt_err())?;
    String::from_utf8(plain).map_err(|_| decrypt_err())
}

// ---- validation ----

fn resolve_run_as(conn: &Connection, username: Option<&str>) -> StoreResult<Option<SfId>> {
    username
        .map(|u| users::require_by_username(conn, u).map(|user| user.id))
        .transpose()
}

/// Replaces the app's pre-authorized profiles and permission sets (resolving every name first).
fn set_preauthorized(
    conn: &Connection,
    app_id: &SfId,
    profiles: Option<&[String]>,
    permission_sets: Option<&[String]>,
) -> StoreResult<()> {
    if let Some(profiles) = profiles {
        let resolved = profiles
            .iter()
            .map(|n| users::require_profile(conn, n))
            .collect::<StoreResult<Vec<_>>>()?;
        conn.execute_cached(
            "DELETE FROM app_profiles WHERE app_id = ?1",
            [app_id.as_str()],
        )
        .map_err(db_err)?;
        for p in resolved {
            conn.execute_cached(
                "INSERT INTO app_profiles (app_id, profile_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                params![app_id.as_str(), p.id.as_str()],
            )
            .map_err(db_err)?;
        }
    }
    if let Some(sets) = permission_sets {
        let resolved = sets
            .iter()
            .map(|n| users::require_permission_set(conn, n))
            .collect::<StoreResult<Vec<_>>>()?;
        conn.execute_cached(
            "DELETE FROM app_permission_sets WHERE app_id = ?1",
            [app_id.as_str()],
        )
        .map_err(db_err)?;
        for ps in resolved {
            conn.execute_cached(
                "INSERT INTO app_permission_sets (app_id, permission_set_id) VALUES (?1, ?2)
                 ON CONFLICT DO NOTHING",
                params![app_id.as_str(), ps.id.as_str()],
            )
            .map_err(db_err)?;
        }
    }
    Ok(())
}

pub(super) fn create(
    conn: &Connection,
    keys: &Keys,
    app: &NewApp,
) -> StoreResult<(ConnectedApp, String)> {
    if !app.built_in {
        let org = org::load(conn)?;
        if !org.connected_apps_permission {
            return Err(StoreError::AppCreationBlocked(
                MissingStep::SupportPermission,
            ));
        }
        if !org.allow_connected_app_creation {
            return Err(StoreError::AppCreationBlocked(MissingStep::CreationSetting));
        }
    }
    let (name, api_name) = app_rules::validate_new(app)?;
    let run_as = resolve_run_as(conn, app.client_credentials_username.as_deref())?;
    // Resolve names before inserting anything, so an unknown name leaves no half-made app.
    for p in &app.profiles {
        users::require_profile(conn, p)?;
    }
    for ps in &app.permission_sets {
        users::require_permission_set(conn, ps)?;
    }

    let id = org::next_id(conn, "0H4")?;
    let consumer_key = app
        .consumer_key
        .clone()
        .unwrap_or_else(keys::generate_consumer_key);
    let secret = keys::generate_consumer_secret();
    let sealed = keys
        .encrypt(secret.as_bytes(), &secret_context(&id))
        .map_err(|e| StoreError::Internal(e.to_string()))?;
    conn.execute_cached(
        "INSERT INTO apps (id, name, name_key, api_name, api_name_key, contact_email, oauth_enabled, callback_urls,
                           scopes, certificate_pem, consumer_key, consumer_secret_enc, require_secret_web,
                           require_secret_refresh, require_pkce, permitted_users, refresh_policy,
                           session_timeout_minutes, ip_relaxation, client_credentials_user_id, built_in,
                           created_at, updated_at, introspect_all_tokens)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20,
                 ?21, ?21, ?22)",
        params![
            id.as_str(),
            name,
            name.to_lowercase(),
            api_name,
            api_name.to_lowercase(),
            app.contact_email.trim(),
            app.callback_urls.join("\n"),
            Scope::join(&app.scopes),
            app.certificate_pem,
            consumer_key,
            sealed,
            app.require_secret_web,
            app.require_secret_refresh,
            app.require_pkce,
            app.permitted_users.as_str(),
            app.refresh_policy.to_string(),
            app.session_timeout_minutes,
            app.ip_relaxation.as_str(),
            run_as.as_ref().map(SfId::as_str),
            app.built_in,
            app.created_at,
            app.introspect_all_tokens,
        ],
    )
    .map_err(|e| {
        if is_unique_violation(&e) {
            StoreError::DuplicateApp(name.to_owned())
        } else {
            db_err(e)
        }
    })?;
    set_preauthorized(conn, &id, Some(&app.profiles), Some(&app.permission_sets))?;
    let created =
        by_id(conn, &id)?.ok_or_else(|| StoreError::Internal("the new app vanished".into()))?;
    Ok((created, secret))
}

pub(super) fn update(conn: &Connection, name: &str, u: &AppUpdate) -> StoreResult<ConnectedApp> {
    let mut app = require_by_name(conn, name)?;
    let policy_before = app.refresh_policy;
    app_rules::apply_update(&mut app, u, |run_as| resolve_run_as(conn, run_as))?;
    if app_rules::restarts_idle_clock(policy_before, app.refresh_policy) {
        conn.execute_cached(
            "UPDATE refresh_tokens SET last_used_at = MAX(last_used_at, ?2)
             WHERE app_id = ?1 AND revoked_at IS NULL",
            params![app.id.as_str(), u.updated_at],
        )
        .map_err(db_err)?;
    }
    conn.execute_cached(
        "UPDATE apps SET contact_email = ?2, oauth_enabled = ?3, callback_urls = ?4, scopes = ?5,
                certificate_pem = ?6, require_secret_web = ?7, require_secret_refresh = ?8, require_pkce = ?9,
                permitted_users = ?10, refresh_policy = ?11, session_timeout_minutes = ?12, ip_relaxation = ?13,
                client_credentials_user_id = ?14, updated_at = ?15, introspect_all_tokens = ?16
         WHERE id = ?1",
        params![
            app.id.as_str(),
            app.contact_email,
            app.oauth_enabled,
            app.callback_urls.join("\n"),
            Scope::join(&app.scopes),
            app.certificate_pem,
            app.require_secret_web,
            app.require_secret_refresh,
            app.require_pkce,
            app.permitted_users.as_str(),
            app.refresh_policy.to_string(),
            app.session_timeout_minutes,
            app.ip_relaxation.as_str(),
            app.client_credentials_user.as_ref().map(SfId::as_str),
            u.updated_at,
            app.introspect_all_tokens,
        ],
    )
    .map_err(db_err)?;
    set_preauthorized(
        conn,
        &app.id,
        u.profiles.as_deref(),
        u.permission_sets.as_deref(),
    )?;
    by_id(conn, &app.id)?.ok_or_else(|| StoreError::Internal("the app vanished".into()))
}

// ---- approvals ----

pub(super) fn approve(
    conn: &Connection,
    user: &SfId,
    app: &SfId,
    scopes: &[Scope],
    now: i64,
) -> StoreResult<()> {
    conn.execute_cached(
        "INSERT INTO approvals (user_id, app_id, scopes, approved_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (user_id, app_id) DO UPDATE SET scopes = excluded.scopes, approved_at = excluded.approved_at",
        params![user.as_str(), app.as_str(), Scope::join(scopes), now],
    )
    .map_err(db_err)?;
    Ok(())
}

pub(super) fn approval(
    conn: &Connection,
    user: &SfId,
    app: &SfId,
) -> StoreResult<Option<Approval>> {
    let row: Option<(String, String, String, i64)> = conn
        .query_row_cached(
            "SELECT user_id, app_id, scopes, approved_at FROM approvals
             WHERE substr(user_id, 1, 15) = ?1 AND substr(app_id, 1, 15) = ?2",
            params![user.to_15(), app.to_15()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()
        .map_err(db_err)?;
    row.map(|(user_id, app_id, scopes, approved_at)| {
        Ok(Approval {
            user_id: parse_id(&user_id)?,
            app_id: parse_id(&app_id)?,
            scopes: parse_scopes(&scopes)?,
            approved_at,
        })
    })
    .transpose()
}
