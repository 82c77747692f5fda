//! The org row, id allocation and the first-run bootstrap.

use rusqlite::{Connection, OptionalExtension as _, params};
use sfr_wire::SfId;

use super::cached::CachedStatements as _;
use super::{apps, db_err, parse_id, signing, users};
use crate::keys::Keys;
use crate::model::{Org, OrgSettingsUpdate, STANDARD_USER, SYSTEM_ADMINISTRATOR};
use crate::store::{Bootstrap, StoreError, StoreResult};

/// The next record id under a key prefix (`005`, `0H4`…), from a per-prefix counter.
pub(super) fn next_id(conn: &Connection, prefix: &str) -> StoreResult<SfId> {
    let n: i64 = conn
        .query_row_cached(
            "INSERT INTO id_sequences (prefix, next) VALUES (?1, 1)
             ON CONFLICT (prefix) DO UPDATE SET next = next + 1
             RETURNING next",
            [prefix],
            |r| r.get(0),
        )
        .map_err(db_err)?;
    Ok(SfId::new(prefix, n.unsigned_abs()))
}

fn org_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, Org)> {
    let id: String = r.get(0)?;
    Ok((
        id,
        Org {
            // Replaced by the parsed id below.
            id: SfId::new("00D", 0),
            name: r.get(1)?,
            dev_hub: r.get(2)?,
            connected_apps_permission: r.get(3)?,
            allow_connected_app_creation: r.get(4)?,
            session_timeout_minutes: r.get(5)?,
            lockout_threshold: r.get(6)?,
            lockout_minutes: r.get(7)?,
            created_at: r.get(8)?,
        },
    ))
}

fn load_optional(conn: &Connection) -> StoreResult<Option<Org>> {
    let row = conn
        .query_row_cached(
            "SELECT id, name, dev_hub, connected_apps_permission, allow_connected_app_creation,
                    session_timeout_minutes, lockout_threshold, lockout_minutes, created_at
             FROM orgs LIMIT 1",
            [],
            org_from_row,
        )
        .optional()
        .map_err(db_err)?;
    row.map(|(id, org)| {
        Ok(Org {
            id: parse_id(&id)?,
            ..org
        })
    })
    .transpose()
}

pub(super) fn load(conn: &Connection) -> StoreResult<Org> {
    load_optional(conn)?.ok_or(StoreError::NoOrg)
}

pub(super) fn update(conn: &Connection, u: &OrgSettingsUpdate) -> StoreResult<Org> {
    let mut org = load(conn)?;
    if let Some(name) = &u.name {
        if name.trim().is_empty() {
            return Err(StoreError::Invalid {
                field: "org name",
                message: "must not be empty".into(),
            });
        }
        org.name = name.clone();
    }
    if let Some(v) = u.dev_hub {
        org.dev_hub = v;
    }
    if let Some(v) = u.connected_apps_permission {
        org.connected_apps_permission = v;
    }
    if let Some(v) = u.allow_connected_app_creation {
        org.allow_connected_app_creation = v;
    }
    if let Some(v) = u.session_timeout_minutes {
        if v == 0 {
            return Err(StoreError::Invalid {
                field: "session timeout",
                message: "must be at least 1 minute".into(),
            });
        }
        org.session_timeout_minutes = v;
    }
    if let Some(v) = u.lockout_threshold {
        if v == 0 {
            return Err(StoreError::Invalid {
                field: "lockout threshold",
                message: "must be at least 1 failed login".into(),
            });
        }
        org.lockout_threshold = v;
    }
    if let Some(v) = u.lockout_minutes {
        org.lockout_minutes = v;
    }
    conn.execute_cached(
        "UPDATE orgs SET name = ?2, dev_hub = ?3, connected_apps_permission = ?4,
                allow_connected_app_creation = ?5, session_timeout_minutes = ?6, lockout_threshold = ?7,
                lockout_minutes = ?8
         WHERE id = ?1",
        params![
            org.id.as_str(),
            org.name,
            org.dev_hub,
            org.connected_apps_permission,
            org.allow_connected_app_creation,
            org.session_timeout_minutes,
            org.lockout_threshold,
            org.lockout_minutes,
        ],
    )
    .map_err(db_err)?;
    Ok(org)
}

/// A random record number for the org id, so two local orgs do not share an id.
fn random_org_number() -> u64 {
    let mut bytes = [0u8; 8];
    aws_lc_rs::rand::fill(&mut bytes).expect("system randomness");
    // 62^9 keeps the id readable (`00D000…`) while leaving ~5·10^16 possibilities.
    u64::from_le_bytes(bytes) % 13_537_086_546_263_552 + 1
}

pub(super) fn bootstrap(conn: &Connection, keys: &Keys, init: &Bootstrap) -> StoreResult<bool> {
    if load_optional(conn)?.is_some() {
        return Ok(false);
    }
    let org = Org {
        id: SfId::new("00D", random_org_number()),
        name: init.org_name.clone(),
        dev_hub: true,
        connected_apps_permission: false,
        allow_connected_app_creation: false,
        session_timeout_minutes: Org::DEFAULT_SESSION_TIMEOUT_MINUTES,
        lockout_threshold: Org::DEFAULT_LOCKOUT_THRESHOLD,
        lockout_minutes: Org::DEFAULT_LOCKOUT_MINUTES,
        created_at: init.now,
    };
    conn.execute_cached(
        "INSERT INTO orgs (id, name, dev_hub, connected_apps_permission, allow_connected_app_creation,
                           session_timeout_minutes, lockout_threshold, lockout_minutes, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            org.id.as_str(),
            org.name,
            org.dev_hub,
            org.connected_apps_permission,
            org.allow_connected_app_creation,
            org.session_timeout_minutes,
            org.lockout_threshold,
            org.lockout_minutes,
            org.created_at,
        ],
    )
    .map_err(db_err)?;
    for name in [SYSTEM_ADMINISTRATOR, STANDARD_USER] {
        let id = next_id(conn, "00e")?;
        conn.execute_cached(
            "INSERT INTO profiles (id, name) VALUES (?1, ?2)",
            params![id.as_str(), name],
        )
        .map_err(db_err)?;
    }
    let mut admin = init.admin.clone();
    admin.profile = SYSTEM_ADMINISTRATOR.to_owned();
    users::create(conn, &admin)?;
    apps::create(conn, keys, &init.platform_cli)?;
    signing::store(conn, keys, &init.signing_key)?;
    Ok(true)
}
