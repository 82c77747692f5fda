//! `user create|list|activate|deactivate`.

use super::{AdminError, Context, Report, json};
use crate::clock::{Clock as _, SystemClock};
use crate::keys;
use crate::model::{NewUser, User};
use crate::store::{Store, StoreError};

/// What `user create` was given.
#[derive(Debug, Clone)]
pub struct CreateUser {
    pub username: String,
    pub password: Option<String>,
    pub email: Option<String>,
    pub profile: String,
    pub permission_sets: Vec<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

/// The user with this username, or `UnknownUser` listing the known ones.
pub fn require_user(store: &dyn Store, username: &str) -> Result<User, AdminError> {
    match store.user_by_username(username)? {
        Some(u) => Ok(u),
        None => Err(StoreError::UnknownUser {
            username: username.to_owned(),
            known: store
                .list_users()?
                .into_iter()
                .map(|u| u.username)
                .collect(),
        }
        .into()),
    }
}

fn check_password(password: &str) -> Result<(), AdminError> {
    let long_enough = password.chars().count() >= 8;
    let letter = password.chars().any(char::is_alphabetic);
    let digit = password.chars().any(|c| c.is_ascii_digit());
    if long_enough && letter && digit {
        Ok(())
    } else {
        Err(AdminError::Usage(
            "--password must have at least 8 characters with at least one letter and one digit (or omit it \
             and a strong one is generated and printed)"
                .into(),
        ))
    }
}

pub fn create(ctx: &Context, args: &CreateUser) -> Result<Report, AdminError> {
    if let Some(p) = &args.password {
        check_password(p)?;
    }
    let opened = ctx.open()?;
    let generated = args.password.is_none();
    let password = args
        .password
        .clone()
        .unwrap_or_else(keys::generate_password);
    let hash = keys::hash_password(&password).map_err(|e| AdminError::Usage(e.to_string()))?;
    let last_name = args.last_name.clone().unwrap_or_else(|| {
        args.username
            .split('@')
            .next()
            .unwrap_or(&args.username)
            .to_owned()
    });
    let now = SystemClock.now_ms();
    let user = opened.store.create_user(&NewUser {
        username: args.username.clone(),
        email: args.email.clone().unwrap_or_else(|| args.username.clone()),
        first_name: args.first_name.clone(),
        last_name,
        password_hash: hash,
        profile: args.profile.clone(),
        permission_sets: args.permission_sets.clone(),
        created_at: now,
    })?;
    let mut json = json::user(&user, now);
    let mut human = format!(
        "Created user {} ({}), profile {}{}.\n",
        user.username,
        user.id,
        user.profile.name,
        if user.permission_sets.is_empty() {
            String::new()
        } else {
            format!(
                ", permission sets {}",
                user.permission_sets
                    .iter()
                    .map(|ps| ps.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    );
    if generated {
        human.push_str(&format!(
            "Generated password (shown only this once): {password}\n"
        ));
        if let Some(obj) = json.as_object_mut() {
            obj.insert("password".into(), serde_json::Value::String(password));
        }
    }
    Ok(Report { json, human })
}

pub fn list(ctx: &Context) -> Result<Report, AdminError> {
    let opened = ctx.open()?;
    let now = SystemClock.now_ms();
    let users = opened.store.list_users()?;
    let mut human = format!(
        "{:<18}  {:<32} {:<8} {:<22} {}\n",
        "ID", "USERNAME", "STATUS", "PROFILE", "PERMISSION SETS"
    );
    for u in &users {
        let status = match (u.active, u.is_locked(now)) {
            (false, _) => "inactive",
            (true, true) => "locked",
            (true, false) => "active",
        };
        human.push_str(&format!(
            "{}  {:<32} {:<8} {:<22} {}\n",
            u.id,
            u.username,
            status,
            u.profile.name,
            u.permission_sets
                .iter()
                .map(|ps| ps.name.as_str())
                .collect::<Vec<_>>()
                .join(",")
        ));
    }
    Ok(Report {
        json: serde_json::Value::Array(users.iter().map(|u| json::user(u, now)).collect()),
        human,
    })
}

pub fn set_active(ctx: &Context, username: &str, active: bool) -> Result<Report, AdminError> {
    let opened = ctx.open()?;
    let user = require_user(opened.store.as_ref(), username)?;
    let now = SystemClock.now_ms();
    let user = opened.store.set_user_active(&user.id, active, now)?;
    let human = if active {
        format!(
            "Activated {} (any lockout cleared); they can log in again.\n",
            user.username
        )
    } else {
        format!(
            "Deactivated {}; their sessions and refresh tokens are revoked and logins are refused.\n",
            user.username
        )
    };
    Ok(Report {
        json: json::user(&user, now),
        human,
    })
}
