//! Users, profiles, permission sets and the login lockout counter.

use rusqlite::{Connection, OptionalExtension as _, params};
use sfr_wire::SfId;

use super::cached::CachedStatements as _;
use super::{db_err, is_unique_violation, org, parse_id, tokens};
use crate::model::{LockState, NewUser, PermissionSet, Profile, User};
use crate::store::{StoreError, StoreResult, user_rules};

const USER_COLUMNS: &str =
    "u.id, u.username, u.email, u.first_name, u.last_name, u.password_hash, u.active,
     p.id, p.name, u.failed_logins, u.locked_until, u.last_login_at, u.created_at";

struct UserRow {
    id: String,
    username: String,
    email: String,
    first_name: Option<String>,
    last_name: String,
    password_hash: String,
    active: bool,
    profile_id: String,
    profile_name: String,
    failed_logins: u32,
    locked_until: Option<i64>,
    last_login_at: Option<i64>,
    created_at: i64,
}

fn user_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<UserRow> {
    Ok(UserRow {
        id: r.get(0)?,
        username: r.get(1)?,
        email: r.get(2)?,
        first_name: r.get(3)?,
        last_name: r.get(4)?,
        password_hash: r.get(5)?,
        active: r.get(6)?,
        profile_id: r.get(7)?,
        profile_name: r.get(8)?,
        failed_logins: r.get(9)?,
        locked_until: r.get(10)?,
        last_login_at: r.get(11)?,
        created_at: r.get(12)?,
    })
}

fn finish(conn: &Connection, row: UserRow) -> StoreResult<User> {
    let permission_sets = user_permission_sets(conn, &row.id)?;
    Ok(User {
        id: parse_id(&row.id)?,
        username: row.username,
        email: row.email,
        first_name: row.first_name,
        last_name: row.last_name,
        password_hash: row.password_hash,
        active: row.active,
        profile: Profile {
            id: parse_id(&row.profile_id)?,
            name: row.profile_name,
        },
        permission_sets,
        failed_logins: row.failed_logins,
        locked_until: row.locked_until,
        last_login_at: row.last_login_at,
        created_at: row.created_at,
    })
}

fn user_permission_sets(conn: &Connection, user_id: &str) -> StoreResult<Vec<PermissionSet>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT ps.id, ps.name, ps.label FROM user_permission_sets ups
             JOIN permission_sets ps ON ps.id = ups.permission_set_id
             WHERE ups.user_id = ?1 ORDER BY ps.name",
        )
        .map_err(db_err)?;
    let rows = stmt
        .query_map([user_id], permission_set_row)
        .map_err(db_err)?;
    rows.map(|r| r.map_err(db_err).and_then(finish_permission_set))
        .collect()
}

fn one_user(conn: &Connection, filter: &str, value: &str) -> StoreResult<Option<User>> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users u JOIN profiles p ON p.id = u.profile_id WHERE {filter}"
    );
    let row = conn
        .query_row_cached(&sql, [value], user_row)
        .optional()
        .map_err(db_err)?;
    row.map(|row| finish(conn, row)).transpose()
}

pub(super) fn by_username(conn: &Connection, username: &str) -> StoreResult<Option<User>> {
    one_user(conn, "u.username_key = ?1", &username.to_lowercase())
}

pub(super) fn by_id(conn: &Connection, id: &SfId) -> StoreResult<Option<User>> {
    // Accept the 15-character form too: ids are compared on their case-sensitive first 15 characters.
    one_user(conn, "substr(u.id, 1, 15) = ?1", id.to_15())
}

pub(super) fn list(conn: &Connection) -> StoreResult<Vec<User>> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users u JOIN profiles p ON p.id = u.profile_id ORDER BY u.username_key"
    );
    let mut stmt = conn.prepare(&sql).map_err(db_err)?;
    let rows = stmt
        .query_map([], user_row)
        .map_err(db_err)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db_err)?;
    rows.into_iter().map(|row| finish(conn, row)).collect()
}

/// All usernames, for "unknown user" messages.
pub(super) fn usernames(conn: &Connection) -> StoreResult<Vec<String>> {
    let mut stmt = conn
        .prepare("SELECT username FROM users ORDER BY username_key")
        .map_err(db_err)?;
    stmt.query_map([], |r| r.get(0))
        .map_err(db_err)?
        .collect::<Result<Vec<String>, _>>()
        .map_err(db_err)
}

/// The user with this username, or `UnknownUser` listing the known ones.
pub(super) fn require_by_username(conn: &Connection, username: &str) -> StoreResult<User> {
    match by_username(conn, username)? {
        Some(user) => Ok(user),
        None => Err(StoreError::UnknownUser {
            username: username.to_owned(),
            known: usernames(conn)?,
        }),
    }
}

fn require_by_id(conn: &Connection, id: &SfId) -> StoreResult<User> {
    by_id(conn, id)?.ok_or_else(|| StoreError::UnknownUser {
        username: id.to_string(),
        known: Vec::new(),
    })
}

pub(super) fn create(conn: &Connection, user: &NewUser) -> StoreResult<User> {
    user_rules::validate_new(user)?;
    let profile = require_profile(conn, &user.profile)?;
    let permission_sets = user
        .permission_sets
        .iter()
        .map(|name| require_permission_set(conn, name))
        .collect::<StoreResult<Vec<_>>>()?;
    let id = org::next_id(conn, "005")?;
    let username = user.username.trim();
    conn.execute_cached(
        "INSERT INTO users (id, username, username_key, email, first_name, last_name, password_hash, active,
                            profile_id, failed_logins, locked_until, last_login_at, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1, ?8, 0, NULL, NULL, ?9)",
        params![
            id.as_str(),
            username,
            username.to_lowercase(),
            user.email.trim(),
            user.first_name,
            user.last_name.trim(),
            user.password_hash,
            profile.id.as_str(),
            user.created_at,
        ],
    )
    .map_err(|e| {
        if is_unique_violation(&e) {
            StoreError::DuplicateUsername(username.to_owned())
        } else {
            db_err(e)
        }
    })?;
    for ps in &permission_sets {
        link_permission_set(conn, &id, ps)?;
    }
    require_by_id(conn, &id)
}

fn link_permission_set(conn: &Connection, user: &SfId, ps: &PermissionSet) -> StoreResult<()> {
    conn.execute_cached(
        "INSERT INTO user_permission_sets (user_id, permission_set_id) VALUES (?1, ?2)
         ON CONFLICT DO NOTHING",
        params![user.as_str(), ps.id.as_str()],
    )
    .map_err(db_err)?;
    Ok(())
}

pub(super) fn set_active(
    conn: &Connection,
    id: &SfId,
    active: bool,
    now: i64,
) -> StoreResult<User> {
    let user = require_by_id(conn, id)?;
    if active {
        conn.execute_cached(
            "UPDATE users SET active = 1, failed_logins = 0, locked_until = NULL WHERE id = ?1",
            [user.id.as_str()],
        )
    } else {
        conn.execute_cached(
            "UPDATE users SET active = 0 WHERE id = ?1",
            [user.id.as_str()],
        )
    }
    .map_err(db_err)?;
    if !active {
        tokens::revoke_user(conn, &user.id, now)?;
    }
    require_by_id(conn, &user.id)
}

pub(super) fn record_failure(conn: &Connection, id: &SfId, now: i64) -> StoreResult<LockState> {
    let org = org::load(conn)?;
    let user = require_by_id(conn, id)?;
    let failures = user.failed_logins.saturating_add(1);
    if failures >= org.lockout_threshold {
        let until = now.saturating_add(org.lockout_ms());
        conn.execute_cached(
            "UPDATE users SET failed_logins = 0, locked_until = ?2 WHERE id = ?1",
            params![user.id.as_str(), until],
        )
        .map_err(db_err)?;
        Ok(LockState::Locked { until })
    } else {
        conn.execute_cached(
            "UPDATE users SET failed_logins = ?2 WHERE id = ?1",
            params![user.id.as_str(), failures],
        )
        .map_err(db_err)?;
        Ok(LockState::Open {
            failures,
            remaining: org.lockout_threshold - failures,
        })
    }
}

pub(super) fn record_success(conn: &Connection, id: &SfId, now: i64) -> StoreResult<()> {
    let user = require_by_id(conn, id)?;
    conn.execute_cached(
        "UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = ?2 WHERE id = ?1",
        params![user.id.as_str(), now],
    )
    .map_err(db_err)?;
    Ok(())
}

// ---- profiles ----

fn profile_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, String)> {
    Ok((r.get(0)?, r.get(1)?))
}

pub(super) fn list_profiles(conn: &Connection) -> StoreResult<Vec<Profile>> {
    let mut stmt = conn
        .prepare("SELECT id, name FROM profiles ORDER BY name")
        .map_err(db_err)?;
    let rows = stmt
        .query_map([], profile_row)
        .map_err(db_err)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db_err)?;
    rows.into_iter()
        .map(|(id, name)| {
            Ok(Profile {
                id: parse_id(&id)?,
                name,
            })
        })
        .collect()
}

pub(super) fn profile_by_name(conn: &Connection, name: &str) -> StoreResult<Option<Profile>> {
    let row = conn
        .query_row_cached(
            "SELECT id, name FROM profiles WHERE lower(name) = lower(?1)",
            [name.trim()],
            profile_row,
        )
        .optional()
        .map_err(db_err)?;
    row.map(|(id, name)| {
        Ok(Profile {
            id: parse_id(&id)?,
            name,
        })
    })
    .transpose()
}

pub(super) fn require_profile(conn: &Connection, name: &str) -> StoreResult<Profile> {
    match profile_by_name(conn, name)? {
        Some(p) => Ok(p),
        None => Err(StoreError::UnknownProfile {
            name: name.to_owned(),
            known: list_profiles(conn)?.into_iter().map(|p| p.name).collect(),
        }),
    }
}

// ---- permission sets ----

fn permission_set_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, String, String)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
}

fn finish_permission_set(
    (id, name, label): (String, String, String),
) -> StoreResult<PermissionSet> {
    Ok(PermissionSet {
        id: parse_id(&id)?,
        name,
        label,
    })
}

pub(super) fn list_permission_sets(conn: &Connection) -> StoreResult<Vec<PermissionSet>> {
    let mut stmt = conn
        .prepare("SELECT id, name, label FROM permission_sets ORDER BY name_key")
        .map_err(db_err)?;
    let rows = stmt
        .query_map([], permission_set_row)
        .map_err(db_err)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db_err)?;
    rows.into_iter().map(finish_permission_set).collect()
}

pub(super) fn permission_set_by_name(
    conn: &Connection,
    name: &str,
) -> StoreResult<Option<PermissionSet>> {
    conn.query_row_cached(
        "SELECT id, name, label FROM permission_sets WHERE name_key = ?1",
        [name.trim().to_lowercase()],
        permission_set_row,
    )
    .optional()
    .map_err(db_err)?
    .map(finish_permission_set)
    .transpose()
}

pub(super) fn require_permission_set(conn: &Connection, name: &str) -> StoreResult<PermissionSet> {
    match permission_set_by_name(conn, name)? {
        Some(ps) => Ok(ps),
        None => Err(StoreError::UnknownPermissionSet {
            name: name.to_owned(),
            known: list_permission_sets(conn)?
                .into_iter()
                .map(|ps| ps.name)
                .collect(),
        }),
    }
}

pub(super) fn create_permission_set(
    conn: &Connection,
    name: &str,
    label: &str,
    now: i64,
) -> StoreResult<PermissionSet> {
    let name = name.trim();
    if name.is_empty()
        || !name.starts_with(|c: char| c.is_ascii_alphabetic())
        || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(StoreError::Invalid {
            field: "permission set name",
            message: format!(
                "{name:?} is not an API name: use letters, digits and _, starting with a letter \
                 (e.g. JWT_Access); put the readable name in --label"
            ),
        });
    }
    let label = if label.trim().is_empty() {
        name
    } else {
        label.trim()
    };
    let id = org::next_id(conn, "0PS")?;
    conn.execute_cached(
        "INSERT INTO permission_sets (id, name, name_key, label, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![id.as_str(), name, name.to_lowercase(), label, now],
    )
    .map_err(|e| {
        if is_unique_violation(&e) {
            StoreError::DuplicatePermissionSet(name.to_owned())
        } else {
            db_err(e)
        }
    })?;
    require_permission_set(conn, name)
}

pub(super) fn assign_permission_set(
    conn: &Connection,
    user: &SfId,
    permission_set: &str,
) -> StoreResult<User> {
    let user = require_by_id(conn, user)?;
    let ps = require_permission_set(conn, permission_set)?;
    link_permission_set(conn, &user.id, &ps)?;
    require_by_id(conn, &user.id)
}

pub(super) fn set_profile(conn: &Connection, user: &SfId, profile: &str) -> StoreResult<User> {
    let user = require_by_id(conn, user)?;
    let profile = require_profile(conn, profile)?;
    conn.execute_cached(
        "UPDATE users SET profile_id = ?1 WHERE id = ?2",
        params![profile.id.as_str(), user.id.as_str()],
    )
    .map_err(db_err)?;
    require_by_id(conn, &user.id)
}
