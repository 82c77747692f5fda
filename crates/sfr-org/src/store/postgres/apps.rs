//! Connected apps (with their encrypted consumer secrets) and user approvals.

use postgres::Row;
use sfr_wire::SfId;

use super::{Fail, R, Tx, is_unique_violation, org, parse_id, parse_scopes, to_u32, users};
use crate::keys::{self, Keys};
use crate::model::{
    AppUpdate, Approval, ConnectedApp, IpRelaxation, NewApp, PermittedUsers, RefreshPolicy, Scope,
};
use crate::store::{MissingStep, StoreError, app_rules};

const APP_COLUMNS: &str = "id, name, api_name, contact_email, oauth_enabled, callback_urls, scopes,
     certificate_pem, consumer_key, require_secret_web, require_secret_refresh, require_pkce, permitted_users,
     refresh_policy, session_timeout_minutes, ip_relaxation, client_credentials_user_id, built_in, created_at,
     updated_at, introspect_all_tokens";

fn corrupt(e: crate::model::ParseError) -> Fail {
    StoreError::Corrupt(e.to_string()).into()
}

fn names(c: Tx<'_, '_>, sql: &str, app_id: &str) -> R<Vec<String>> {
    c.query(sql, &[&app_id])?
        .iter()
        .map(|r| Ok(r.try_get(0)?))
        .collect()
}

fn finish(c: Tx<'_, '_>, r: &Row) -> R<ConnectedApp> {
    let id: String = r.try_get(0)?;
    let profiles = names(
        c,
        "SELECT p.name FROM app_profiles ap JOIN profiles p ON p.id = ap.profile_id
         WHERE ap.app_id = $1 ORDER BY p.name",
        &id,
    )?;
    let permission_sets = names(
        c,
        "SELECT ps.name FROM app_permission_sets aps JOIN permission_sets ps ON ps.id = aps.permission_set_id
         WHERE aps.app_id = $1 ORDER BY ps.name_key",
        &id,
    )?;
    let callback_urls: String = r.try_get(5)?;
    Ok(ConnectedApp {
        id: parse_id(&id)?,
        name: r.try_get(1)?,
        api_name: r.try_get(2)?,
        contact_email: r.try_get(3)?,
        oauth_enabled: r.try_get(4)?,
        callback_urls: callback_urls
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect(),
        scopes: parse_scopes(&r.try_get::<_, String>(6)?)?,
        certificate_pem: r.try_get(7)?,
        consumer_key: r.try_get(8)?,
        require_secret_web: r.try_get(9)?,
        require_secret_refresh: r.try_get(10)?,
        require_pkce: r.try_get(11)?,
        introspect_all_tokens: r.try_get(20)?,
        permitted_users: PermittedUsers::parse(&r.try_get::<_, String>(12)?).map_err(corrupt)?,
        profiles,
        permission_sets,
        refresh_policy: RefreshPolicy::parse(&r.try_get::<_, String>(13)?).map_err(corrupt)?,
        session_timeout_minutes: r
            .try_get::<_, Option<i64>>(14)?
            .map(|m| to_u32(m, "session timeout"))
            .transpose()?,
        ip_relaxation: IpRelaxation::parse(&r.try_get::<_, String>(15)?).map_err(corrupt)?,
        client_credentials_user: r
            .try_get::<_, Option<String>>(16)?
            .as_deref()
            .map(parse_id)
            .transpose()?,
        built_in: r.try_get(17)?,
        created_at: r.try_get(18)?,
        updated_at: r.try_get(19)?,
    })
}

fn one(c: Tx<'_, '_>, filter: &str, value: &str) -> R<Option<ConnectedApp>> {
    let sql = format!("SELECT {APP_COLUMNS} FROM apps WHERE {filter}");
    let row = c.query_opt(sql.as_str(), &[&value])?;
    row.map(|row| finish(c, &row)).transpose()
}

pub(super) fn by_consumer_key(c: Tx<'_, '_>, key: &str) -> R<Option<ConnectedApp>> {
    one(c, "consumer_key = $1", key)
}

pub(super) fn by_id(c: Tx<'_, '_>, id: &SfId) -> R<Option<ConnectedApp>> {
    one(c, "substr(id, 1, 15) = $1", id.to_15())
}

pub(super) fn by_name(c: Tx<'_, '_>, name: &str) -> R<Option<ConnectedApp>> {
    let key = name.trim().to_lowercase();
    match one(c, "name_key = $1", &key)? {
        Some(app) => Ok(Some(app)),
        None => one(c, "api_name_key = $1", &key),
    }
}

pub(super) fn list(c: Tx<'_, '_>) -> R<Vec<ConnectedApp>> {
    let sql = format!("SELECT {APP_COLUMNS} FROM apps ORDER BY name_key");
    let rows = c.query(sql.as_str(), &[])?;
    rows.iter().map(|row| finish(c, row)).collect()
}

fn require_by_name(c: Tx<'_, '_>, name: &str) -> R<ConnectedApp> {
    match by_name(c, name)? {
        Some(app) => Ok(app),
        None => Err(StoreError::UnknownApp {
            name: name.to_owned(),
            known: list(c)?.into_iter().map(|a| a.name).collect(),
        }
        .into()),
    }
}

fn secret_context(app_id: &SfId) -> String {
    format!("consumer_secret:{}", app_id.to_15())
}

pub(super) fn secret(c: Tx<'_, '_>, keys: &Keys, app_id: &SfId) -> R<String> {
    let sealed: String = c
        .query_opt(
            "SELECT consumer_secret_enc FROM apps WHERE substr(id, 1, 15) = $1",
            &[&app_id.to_15()],
        )?
        .ok_or_else(|| StoreError::UnknownApp {
            name: app_id.to_string(),
            known: Vec::new(),
        })?
        .try_get(0)?;
    let decrypt_err = || StoreError::Decrypt {
        what: format!("the consumer secret of app {app_id}"),
    };
    let plain = keys
        .decrypt(&sealed, &secret_context(app_id))
        .map_err(|_| decrypt_err())?;
    Ok(String::from_utf8(plain).map_err(|_| decrypt_err())?)
}

// ---- validation (the same rules as the SQLite store) ----

fn resolve_run_as(c: Tx<'_, '_>, username: Option<&str>) -> R<Option<SfId>> {
    username
        .map(|u| users::require_by_username(c, u).map(|user| user.id))
        .transpose()
}

/// Replaces the app's pre-authorized profiles and permission sets (resolving every name first).
fn set_preauthorized(
    c: Tx<'_, '_>,
    app_id: &SfId,
    profiles: Option<&[String]>,
    permission_sets: Option<&[String]>,
) -> R<()> {
    if let Some(profiles) = profiles {
        let resolved = profiles
            .iter()
            .map(|n| users::require_profile(c, n))
            .collect::<R<Vec<_>>>()?;
        c.execute(
            "DELETE FROM app_profiles WHERE app_id = $1",
            &[&app_id.as_str()],
        )?;
        for p in resolved {
            c.execute(
                "INSERT INTO app_profiles (app_id, profile_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[&app_id.as_str(), &p.id.as_str()],
            )?;
        }
    }
    if let Some(sets) = permission_sets {
        let resolved = sets
            .iter()
            .map(|n| users::require_permission_set(c, n))
            .collect::<R<Vec<_>>>()?;
        c.execute(
            "DELETE FROM app_permission_sets WHERE app_id = $1",
            &[&app_id.as_str()],
        )?;
        for ps in resolved {
            c.execute(
                "INSERT INTO app_permission_sets (app_id, permission_set_id) VALUES ($1, $2)
                 ON CONFLICT DO NOTHING",
                &[&app_id.as_str(), &ps.id.as_str()],
            )?;
        }
    }
    Ok(())
}

pub(super) fn create(c: Tx<'_, '_>, keys: &Keys, app: &NewApp) -> R<(ConnectedApp, String)> {
    if !app.built_in {
        let org = org::load(c)?;
        if !org.connected_apps_permission {
            return Err(StoreError::AppCreationBlocked(MissingStep::SupportPermission).into());
        }
        if !org.allow_connected_app_creation {
            return Err(StoreError::AppCreationBlocked(MissingStep::CreationSetting).into());
        }
    }
    let (name, api_name) = app_rules::validate_new(app)?;
    let run_as = resolve_run_as(c, app.client_credentials_username.as_deref())?;
    // Resolve names before inserting anything, so an unknown name leaves no half-made app.
    for p in &app.profiles {
        users::require_profile(c, p)?;
    }
    for ps in &app.permission_sets {
        users::require_permission_set(c, ps)?;
    }

    let id = org::next_id(c, "0H4")?;
    let consumer_key = app
        .consumer_key
        .clone()
        .unwrap_or_else(keys::generate_consumer_key);
    let secret = keys::generate_consumer_secret();
    let sealed = keys
        .encrypt(secret.as_bytes(), &secret_context(&id))
        .map_err(|e| StoreError::Internal(e.to_string()))?;
    let inserted = c
        .execute(
            "INSERT INTO apps (id, name, name_key, api_name, api_name_key, contact_email, oauth_enabled,
                               callback_urls, scopes, certificate_pem, consumer_key, consumer_secret_enc,
                               require_secret_web, require_secret_refresh, require_pkce, permitted_users,
                               refresh_policy, session_timeout_minutes, ip_relaxation, client_credentials_user_id,
                               built_in, created_at, updated_at, introspect_all_tokens)
             VALUES ($1, $2, $3, $4, $5, $6, TRUE, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
                     $20, $21, $21, $22)",
            &[
                &id.as_str(),
                &name,
                &name.to_lowercase(),
                &api_name,
                &api_name.to_lowercase(),
                &app.contact_email.trim(),
                &app.callback_urls.join("\n"),
                &Scope::join(&app.scopes),
                &app.certificate_pem,
                &consumer_key,
                &sealed,
                &app.require_secret_web,
                &app.require_secret_refresh,
                &app.require_pkce,
                &app.permitted_users.as_str(),
                &app.refresh_policy.to_string(),
                &app.session_timeout_minutes.map(i64::from),
                &app.ip_relaxation.as_str(),
                &run_as.as_ref().map(SfId::as_str),
                &app.built_in,
                &app.created_at,
                &app.introspect_all_tokens,
            ],
        )
        .map_err(Fail::from);
    match inserted {
        Err(e) if is_unique_violation(&e) => {
            return Err(StoreError::DuplicateApp(name.to_owned()).into());
        }
        other => other?,
    };
    set_preauthorized(c, &id, Some(&app.profiles), Some(&app.permission_sets))?;
    let created =
        by_id(c, &id)?.ok_or_else(|| StoreError::Internal("the new app vanished".into()))?;
    Ok((created, secret))
}

pub(super) fn update(c: Tx<'_, '_>, name: &str, u: &AppUpdate) -> R<ConnectedApp> {
    let mut app = require_by_name(c, name)?;
    let policy_before = app.refresh_policy;
    app_rules::apply_update(&mut app, u, |run_as| resolve_run_as(c, run_as))?;
    if app_rules::restarts_idle_clock(policy_before, app.refresh_policy) {
        c.execute(
            "UPDATE refresh_tokens SET last_used_at = GREATEST(last_used_at, $2)
             WHERE app_id = $1 AND revoked_at IS NULL",
            &[&app.id.as_str(), &u.updated_at],
        )?;
    }
    c.execute(
        "UPDATE apps SET contact_email = $2, oauth_enabled = $3, callback_urls = $4, scopes = $5,
                certificate_pem = $6, require_secret_web = $7, require_secret_refresh = $8, require_pkce = $9,
                permitted_users = $10, refresh_policy = $11, session_timeout_minutes = $12, ip_relaxation = $13,
                client_credentials_user_id = $14, updated_at = $15, introspect_all_tokens = $16
         WHERE id = $1",
        &[
            &app.id.as_str(),
            &app.contact_email,
            &app.oauth_enabled,
            &app.callback_urls.join("\n"),
            &Scope::join(&app.scopes),
            &app.certificate_pem,
            &app.require_secret_web,
            &app.require_secret_refresh,
            &app.require_pkce,
            &app.permitted_users.as_str(),
            &app.refresh_policy.to_string(),
            &app.session_timeout_minutes.map(i64::from),
            &app.ip_relaxation.as_str(),
            &app.client_credentials_user.as_ref().map(SfId::as_str),
            &u.updated_at,
            &app.introspect_all_tokens,
        ],
    )?;
    set_preauthorized(
        c,
        &app.id,
        u.profiles.as_deref(),
        u.permission_sets.as_deref(),
    )?;
    Ok(by_id(c, &app.id)?.ok_or_else(|| StoreError::Internal("the app vanished".into()))?)
}

// ---- approvals ----

pub(super) fn approve(c: Tx<'_, '_>, user: &SfId, app: &SfId, scopes: &[Scope], now: i64) -> R<()> {
    c.execute(
        "INSERT INTO approvals (user_id, app_id, scopes, approved_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id, app_id) DO UPDATE SET scopes = excluded.scopes, approved_at = excluded.approved_at",
        &[&user.as_str(), &app.as_str(), &Scope::join(scopes), &now],
    )?;
    Ok(())
}

pub(super) fn approval(c: Tx<'_, '_>, user: &SfId, app: &SfId) -> R<Option<Approval>> {
    let row = c.query_opt(
        "SELECT user_id, app_id, scopes, approved_at FROM approvals
         WHERE substr(user_id, 1, 15) = $1 AND substr(app_id, 1, 15) = $2",
        &[&user.to_15(), &app.to_15()],
    )?;
    row.map(|r| {
        Ok(Approval {
            user_id: parse_id(&r.try_get::<_, String>(0)?)?,
            app_id: parse_id(&r.try_get::<_, String>(1)?)?,
            scopes: parse_scopes(&r.try_get::<_, String>(2)?)?,
            approved_at: r.try_get(3)?,
        })
    })
    .transpose()
}
