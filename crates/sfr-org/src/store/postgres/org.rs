//! The org row, id allocation and the first-run bootstrap.

use postgres::Row;
use sfr_wire::SfId;

use super::{R, Tx, apps, parse_id, signing, to_u32, users};
use crate::keys::Keys;
use crate::model::{Org, OrgSettingsUpdate, STANDARD_USER, SYSTEM_ADMINISTRATOR};
use crate::store::{Bootstrap, StoreError};

/// The next record id under a key prefix (`005`, `0H4`…), from a per-prefix counter.
pub(super) fn next_id(c: Tx<'_, '_>, prefix: &str) -> R<SfId> {
    let n: i64 = c
        .query_one(
            "INSERT INTO id_sequences (prefix, next) VALUES ($1, 1)
             ON CONFLICT (prefix) DO UPDATE SET next = id_sequences.next + 1
             RETURNING next",
            &[&prefix],
        )?
        .try_get(0)?;
    Ok(SfId::new(prefix, n.unsigned_abs()))
}

fn org_from_row(r: &Row) -> R<Org> {
    Ok(Org {
        id: parse_id(&r.try_get::<_, String>(0)?)?,
        name: r.try_get(1)?,
        dev_hub: r.try_get(2)?,
        connected_apps_permission: r.try_get(3)?,
        allow_connected_app_creation: r.try_get(4)?,
        session_timeout_minutes: to_u32(r.try_get(5)?, "session timeout")?,
        lockout_threshold: to_u32(r.try_get(6)?, "lockout threshold")?,
        lockout_minutes: to_u32(r.try_get(7)?, "lockout minutes")?,
        created_at: r.try_get(8)?,
    })
}

fn load_optional(c: Tx<'_, '_>) -> R<Option<Org>> {
    c.query_opt(
        "SELECT id, name, dev_hub, connected_apps_permission, allow_connected_app_creation,
                session_timeout_minutes, lockout_threshold, lockout_minutes, created_at
         FROM orgs LIMIT 1",
        &[],
    )?
    .as_ref()
    .map(org_from_row)
    .transpose()
}

pub(super) fn load(c: Tx<'_, '_>) -> R<Org> {
    load_optional(c)?.ok_or(StoreError::NoOrg.into())
}

fn invalid(field: &'static str, message: &str) -> StoreError {
    StoreError::Invalid {
        field,
        message: message.to_owned(),
    }
}

pub(super) fn update(c: Tx<'_, '_>, u: &OrgSettingsUpdate) -> R<Org> {
    let mut org = load(c)?;
    if let Some(name) = &u.name {
        if name.trim().is_empty() {
            return Err(invalid("org name", "must not be empty").into());
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
            return Err(invalid("session timeout", "must be at least 1 minute").into());
        }
        org.session_timeout_minutes = v;
    }
    if let Some(v) = u.lockout_threshold {
        if v == 0 {
            return Err(invalid("lockout threshold", "must be at least 1 failed login").into());
        }
        org.lockout_threshold = v;
    }
    if let Some(v) = u.lockout_minutes {
        org.lockout_minutes = v;
    }
    c.execute(
        "UPDATE orgs SET name = $2, dev_hub = $3, connected_apps_permission = $4,
                allow_connected_app_creation = $5, session_timeout_minutes = $6, lockout_threshold = $7,
                lockout_minutes = $8
         WHERE id = $1",
        &[
            &org.id.as_str(),
            &org.name,
            &org.dev_hub,
            &org.connected_apps_permission,
            &org.allow_connected_app_creation,
            &i64::from(org.session_timeout_minutes),
            &i64::from(org.lockout_threshold),
            &i64::from(org.lockout_minutes),
        ],
    )?;
    Ok(org)
}

/// A random record number for the org id, so two local orgs do not share an id.
fn random_org_number() -> R<u64> {
    let mut bytes = [0u8; 8];
    aws_lc_rs::rand::fill(&mut bytes)
        .map_err(|_| StoreError::Internal("no system randomness".into()))?;
    // 62^9 keeps the id readable (`00D000…`) while leaving ~5·10^16 possibilities.
    Ok(u64::from_le_bytes(bytes) % 13_537_086_546_263_552 + 1)
}

pub(super) fn bootstrap(c: Tx<'_, '_>, keys: &Keys, init: &Bootstrap) -> R<bool> {
    if load_optional(c)?.is_some() {
        return Ok(false);
    }
    let org = Org {
        id: SfId::new("00D", random_org_number()?),
        name: init.org_name.clone(),
        dev_hub: true,
        connected_apps_permission: false,
        allow_connected_app_creation: false,
        session_timeout_minutes: Org::DEFAULT_SESSION_TIMEOUT_MINUTES,
        lockout_threshold: Org::DEFAULT_LOCKOUT_THRESHOLD,
        lockout_minutes: Org::DEFAULT_LOCKOUT_MINUTES,
        created_at: init.now,
    };
    c.execute(
        "INSERT INTO orgs (id, name, dev_hub, connected_apps_permission, allow_connected_app_creation,
                           session_timeout_minutes, lockout_threshold, lockout_minutes, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        &[
            &org.id.as_str(),
            &org.name,
            &org.dev_hub,
            &org.connected_apps_permission,
            &org.allow_connected_app_creation,
            &i64::from(org.session_timeout_minutes),
            &i64::from(org.lockout_threshold),
            &i64::from(org.lockout_minutes),
            &org.created_at,
        ],
    )?;
    for name in [SYSTEM_ADMINISTRATOR, STANDARD_USER] {
        let id = next_id(c, "00e")?;
        c.execute(
            "INSERT INTO profiles (id, name) VALUES ($1, $2)",
            &[&id.as_str(), &name],
        )?;
    }
    let mut admin = init.admin.clone();
    admin.profile = SYSTEM_ADMINISTRATOR.to_owned();
    users::create(c, &admin)?;
    apps::create(c, keys, &init.platform_cli)?;
    signing::store(c, keys, &init.signing_key)?;
    Ok(true)
}
