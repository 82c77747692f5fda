//! Users, profiles, permission sets and the login lockout counter.

use postgres::Row;
use sfr_wire::SfId;

use super::session::{Run, at_once};
use super::{Fail, R, Tx, is_unique_violation, org, parse_id, to_u32, tokens};
use crate::model::{LockState, NewUser, PermissionSet, Profile, User};
use crate::store::{StoreError, user_rules};

/// A user's columns, its profile's, then its permission sets as three arrays in name order (ids, names, labels):
/// a user is one row, read in one statement (one round trip, one snapshot), from `USER_FROM`.
pub(super) const USER_COLUMNS: &str =
    "u.id, u.username, u.email, u.first_name, u.last_name, u.password_hash, u.active,
     p.id, p.name, u.failed_logins, u.locked_until, u.last_login_at, u.created_at,
     ps.ids, ps.names, ps.labels";

pub(super) const USER_FROM: &str = "users u JOIN profiles p ON p.id = u.profile_id
     CROSS JOIN LATERAL (
         SELECT COALESCE(array_agg(s.id ORDER BY s.name), '{}') AS ids,
                COALESCE(array_agg(s.name ORDER BY s.name), '{}') AS names,
                COALESCE(array_agg(s.label ORDER BY s.name), '{}') AS labels
         FROM user_permission_sets ups JOIN permission_sets s ON s.id = ups.permission_set_id
         WHERE ups.user_id = u.id
     ) ps";

fn user_from(r: &Row) -> R<User> {
    user_at(r, 0)
}

/// The user whose `USER_COLUMNS` start at column `first` of `r`, or `None` if they are null (a left join that
/// found no user).
pub(super) fn maybe_user_at(r: &Row, first: usize) -> R<Option<User>> {
    match r.try_get::<_, Option<String>>(first)? {
        Some(_) => user_at(r, first).map(Some),
        None => Ok(None),
    }
}

fn user_at(r: &Row, first: usize) -> R<User> {
    let at = |i: usize| first + i;
    let ids: Vec<String> = r.try_get(at(13))?;
    let names: Vec<String> = r.try_get(at(14))?;
    let labels: Vec<String> = r.try_get(at(15))?;
    if ids.len() != names.len() || ids.len() != labels.len() {
        return Err(StoreError::Corrupt("a user's permission sets read unevenly".into()).into());
    }
    let permission_sets = ids
        .iter()
        .zip(names)
        .zip(labels)
        .map(|((id, name), label)| {
            Ok(PermissionSet {
                id: parse_id(id)?,
                name,
                label,
            })
        })
        .collect::<R<Vec<_>>>()?;
    Ok(User {
        id: parse_id(&r.try_get::<_, String>(at(0))?)?,
        username: r.try_get(at(1))?,
        email: r.try_get(at(2))?,
        first_name: r.try_get(at(3))?,
        last_name: r.try_get(at(4))?,
        password_hash: r.try_get(at(5))?,
        active: r.try_get(at(6))?,
        profile: Profile {
            id: parse_id(&r.try_get::<_, String>(at(7))?)?,
            name: r.try_get(at(8))?,
        },
        permission_sets,
        failed_logins: to_u32(r.try_get(at(9))?, "failed logins")?,
        locked_until: r.try_get(at(10))?,
        last_login_at: r.try_get(at(11))?,
        created_at: r.try_get(at(12))?,
    })
}

async fn one_user(c: &mut impl Run, filter: &str, value: &str) -> R<Option<User>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM {USER_FROM} WHERE {filter}");
    c.query_opt(sql.as_str(), &[&value])
        .await?
        .as_ref()
        .map(user_from)
        .transpose()
}

pub(super) async fn by_username(c: &mut impl Run, username: &str) -> R<Option<User>> {
    one_user(c, "u.username_key = $1", &username.to_lowercase()).await
}

pub(super) async fn by_id(c: &mut impl Run, id: &SfId) -> R<Option<User>> {
    // Accept the 15-character form too: ids are compared on their case-sensitive first 15 characters.
    one_user(c, "substr(u.id, 1, 15) = $1", id.to_15()).await
}

pub(super) fn list(c: Tx<'_, '_>) -> R<Vec<User>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM {USER_FROM} ORDER BY u.username_key");
    c.query(sql.as_str(), &[])?.iter().map(user_from).collect()
}

/// All usernames, for "unknown user" messages.
fn usernames(c: Tx<'_, '_>) -> R<Vec<String>> {
    c.query("SELECT username FROM users ORDER BY username_key", &[])?
        .iter()
        .map(|r| Ok(r.try_get(0)?))
        .collect()
}

/// The user with this username, or `UnknownUser` listing the known ones.
pub(super) fn require_by_username(c: Tx<'_, '_>, username: &str) -> R<User> {
    match at_once(by_username(c, username))? {
        Some(user) => Ok(user),
        None => Err(StoreError::UnknownUser {
            username: username.to_owned(),
            known: usernames(c)?,
        }
        .into()),
    }
}

fn require_by_id(c: Tx<'_, '_>, id: &SfId) -> R<User> {
    at_once(by_id(c, id))?.ok_or_else(|| {
        StoreError::UnknownUser {
            username: id.to_string(),
            known: Vec::new(),
        }
        .into()
    })
}

pub(super) fn create(c: Tx<'_, '_>, user: &NewUser) -> R<User> {
    user_rules::validate_new(user)?;
    let profile = require_profile(c, &user.profile)?;
    let permission_sets = user
        .permission_sets
        .iter()
        .map(|name| require_permission_set(c, name))
        .collect::<R<Vec<_>>>()?;
    let id = org::next_id(c, "005")?;
    let username = user.username.trim();
    // A savepoint keeps the transaction usable after a duplicate, so the error can be answered precisely.
    let mut sp = c.savepoint("create_user")?;
    let inserted = sp
        .execute(
            "INSERT INTO users (id, username, username_key, email, first_name, last_name, password_hash, active,
                                profile_id, failed_logins, locked_until, last_login_at, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, TRUE, $8, 0, NULL, NULL, $9)",
            &[
                &id.as_str(),
                &username,
                &username.to_lowercase(),
                &user.email.trim(),
                &user.first_name,
                &user.last_name.trim(),
                &user.password_hash,
                &profile.id.as_str(),
                &user.created_at,
            ],
        )
        .map_err(Fail::from);
    match inserted {
        Err(e) if is_unique_violation(&e) => {
            return Err(StoreError::DuplicateUsername(username.to_owned()).into());
        }
        other => other?,
    };
    sp.commit()?;
    for ps in &permission_sets {
        link_permission_set(c, &id, ps)?;
    }
    require_by_id(c, &id)
}

fn link_permission_set(c: Tx<'_, '_>, user: &SfId, ps: &PermissionSet) -> R<()> {
    c.execute(
        "INSERT INTO user_permission_sets (user_id, permission_set_id) VALUES ($1, $2)
         ON CONFLICT DO NOTHING",
        &[&user.as_str(), &ps.id.as_str()],
    )?;
    Ok(())
}

pub(super) fn set_active(c: Tx<'_, '_>, id: &SfId, active: bool, now: i64) -> R<User> {
    let user = require_by_id(c, id)?;
    if active {
        c.execute(
            "UPDATE users SET active = TRUE, failed_logins = 0, locked_until = NULL WHERE id = $1",
            &[&user.id.as_str()],
        )?;
    } else {
        c.execute(
            "UPDATE users SET active = FALSE WHERE id = $1",
            &[&user.id.as_str()],
        )?;
        tokens::revoke_user(c, &user.id, now)?;
    }
    require_by_id(c, &user.id)
}

/// Counts a failed login. The row is locked first (`FOR UPDATE`), so failures counted on several nodes at
/// once queue up instead of overwriting each other.
pub(super) fn record_failure(c: Tx<'_, '_>, id: &SfId, now: i64) -> R<LockState> {
    let org = org::load(c)?;
    let row = c
        .query_opt(
            "SELECT id, failed_logins FROM users WHERE substr(id, 1, 15) = $1 FOR UPDATE",
            &[&id.to_15()],
        )?
        .ok_or_else(|| StoreError::UnknownUser {
            username: id.to_string(),
            known: Vec::new(),
        })?;
    let user_id: String = row.try_get(0)?;
    let failures = to_u32(row.try_get(1)?, "failed logins")?.saturating_add(1);
    if failures >= org.lockout_threshold {
        let until = now.saturating_add(org.lockout_ms());
        c.execute(
            "UPDATE users SET failed_logins = 0, locked_until = $2 WHERE id = $1",
            &[&user_id, &until],
        )?;
        Ok(LockState::Locked { until })
    } else {
        c.execute(
            "UPDATE users SET failed_logins = $2 WHERE id = $1",
            &[&user_id, &i64::from(failures)],
        )?;
        Ok(LockState::Open {
            failures,
            remaining: org.lockout_threshold - failures,
        })
    }
}

pub(super) fn record_success(c: Tx<'_, '_>, id: &SfId, now: i64) -> R<()> {
    let user = require_by_id(c, id)?;
    c.execute(
        "UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = $2 WHERE id = $1",
        &[&user.id.as_str(), &now],
    )?;
    Ok(())
}

// ---- profiles ----

fn profile_from(r: &Row) -> R<Profile> {
    Ok(Profile {
        id: parse_id(&r.try_get::<_, String>(0)?)?,
        name: r.try_get(1)?,
    })
}

pub(super) fn list_profiles(c: Tx<'_, '_>) -> R<Vec<Profile>> {
    c.query("SELECT id, name FROM profiles ORDER BY name", &[])?
        .iter()
        .map(profile_from)
        .collect()
}

pub(super) fn profile_by_name(c: Tx<'_, '_>, name: &str) -> R<Option<Profile>> {
    c.query_opt(
        "SELECT id, name FROM profiles WHERE lower(name) = lower($1)",
        &[&name.trim()],
    )?
    .as_ref()
    .map(profile_from)
    .transpose()
}

pub(super) fn require_profile(c: Tx<'_, '_>, name: &str) -> R<Profile> {
    match profile_by_name(c, name)? {
        Some(p) => Ok(p),
        None => Err(StoreError::UnknownProfile {
            name: name.to_owned(),
            known: list_profiles(c)?.into_iter().map(|p| p.name).collect(),
        }
        .into()),
    }
}

// ---- permission sets ----

fn permission_set_from(r: &Row) -> R<PermissionSet> {
    Ok(PermissionSet {
        id: parse_id(&r.try_get::<_, String>(0)?)?,
        name: r.try_get(1)?,
        label: r.try_get(2)?,
    })
}

pub(super) fn list_permission_sets(c: Tx<'_, '_>) -> R<Vec<PermissionSet>> {
    c.query(
        "SELECT id, name, label FROM permission_sets ORDER BY name_key",
        &[],
    )?
    .iter()
    .map(permission_set_from)
    .collect()
}

pub(super) fn permission_set_by_name(c: Tx<'_, '_>, name: &str) -> R<Option<PermissionSet>> {
    c.query_opt(
        "SELECT id, name, label FROM permission_sets WHERE name_key = $1",
        &[&name.trim().to_lowercase()],
    )?
    .as_ref()
    .map(permission_set_from)
    .transpose()
}

pub(super) fn require_permission_set(c: Tx<'_, '_>, name: &str) -> R<PermissionSet> {
    match permission_set_by_name(c, name)? {
        Some(ps) => Ok(ps),
        None => Err(StoreError::UnknownPermissionSet {
            name: name.to_owned(),
            known: list_permission_sets(c)?
                .into_iter()
                .map(|ps| ps.name)
                .collect(),
        }
        .into()),
    }
}

pub(super) fn create_permission_set(
    c: Tx<'_, '_>,
    name: &str,
    label: &str,
    now: i64,
) -> R<PermissionSet> {
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
        }
        .into());
    }
    let label = if label.trim().is_empty() {
        name
    } else {
        label.trim()
    };
    let id = org::next_id(c, "0PS")?;
    let mut sp = c.savepoint("create_permission_set")?;
    let inserted = sp
        .execute(
            "INSERT INTO permission_sets (id, name, name_key, label, created_at) VALUES ($1, $2, $3, $4, $5)",
            &[&id.as_str(), &name, &name.to_lowercase(), &label, &now],
        )
        .map_err(Fail::from);
    match inserted {
        Err(e) if is_unique_violation(&e) => {
            return Err(StoreError::DuplicatePermissionSet(name.to_owned()).into());
        }
        other => other?,
    };
    sp.commit()?;
    require_permission_set(c, name)
}

pub(super) fn assign_permission_set(c: Tx<'_, '_>, user: &SfId, permission_set: &str) -> R<User> {
    let user = require_by_id(c, user)?;
    let ps = require_permission_set(c, permission_set)?;
    link_permission_set(c, &user.id, &ps)?;
    require_by_id(c, &user.id)
}

pub(super) fn set_profile(c: Tx<'_, '_>, user: &SfId, profile: &str) -> R<User> {
    let user = require_by_id(c, user)?;
    let profile = require_profile(c, profile)?;
    c.execute(
        "UPDATE users SET profile_id = $1 WHERE id = $2",
        &[&profile.id.as_str(), &user.id.as_str()],
    )?;
    require_by_id(c, &user.id)
}
