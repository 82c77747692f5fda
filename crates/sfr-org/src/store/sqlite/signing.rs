//! The ID-token signing keys, encrypted with the master key. Rotation adds the next key with the time it starts
//! signing; until then it is only published.

use rusqlite::{Connection, params};

use super::cached::CachedStatements as _;
use super::db_err;
use crate::clock::{Clock as _, SystemClock};
use crate::keys::Keys;
use crate::model::{SigningKey, SigningKeys};
use crate::store::{StoreError, StoreResult};

fn context(kid: &str) -> String {
    format!("signing_key:{kid}")
}

/// Every stored key, decrypted, with the time it starts signing.
fn all(conn: &Connection, keys: &Keys) -> StoreResult<Vec<(SigningKey, Option<i64>)>> {
    let mut stmt = conn
        .prepare_cached("SELECT kid, pkcs8_enc, created_at, activates_at FROM signing_keys")
        .map_err(db_err)?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, Option<i64>>(3)?,
            ))
        })
        .map_err(db_err)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db_err)?;
    rows.into_iter()
        .map(|(kid, sealed, created_at, activates_at)| {
            let pkcs8_der =
                keys.decrypt(&sealed, &context(&kid))
                    .map_err(|_| StoreError::Decrypt {
                        what: format!("the signing key {kid}"),
                    })?;
            Ok((
                SigningKey {
                    kid,
                    pkcs8_der,
                    created_at,
                },
                activates_at,
            ))
        })
        .collect()
}

pub(super) fn signing_keys(
    conn: &Connection,
    keys: &Keys,
    now: i64,
) -> StoreResult<Option<SigningKeys>> {
    Ok(SigningKeys::select(all(conn, keys)?, now))
}

pub(super) fn signing_key(conn: &Connection, keys: &Keys) -> StoreResult<Option<SigningKey>> {
    Ok(signing_keys(conn, keys, SystemClock.now_ms())?.map(|k| k.signing))
}

fn insert(
    conn: &Connection,
    keys: &Keys,
    key: &SigningKey,
    activates_at: Option<i64>,
) -> StoreResult<()> {
    let sealed = keys
        .encrypt(&key.pkcs8_der, &context(&key.kid))
        .map_err(|e| StoreError::Internal(e.to_string()))?;
    conn.execute_cached(
        "INSERT INTO signing_keys (kid, pkcs8_enc, created_at, activates_at) VALUES (?1, ?2, ?3, ?4)",
        params![key.kid, sealed, key.created_at, activates_at],
    )
    .map_err(db_err)?;
    Ok(())
}

pub(super) fn store(conn: &Connection, keys: &Keys, key: &SigningKey) -> StoreResult<SigningKey> {
    if let Some(existing) = signing_key(conn, keys)? {
        return Ok(existing);
    }
    insert(conn, keys, key, None)?;
    Ok(key.clone())
}

pub(super) fn add(
    conn: &Connection,
    keys: &Keys,
    key: &SigningKey,
    activates_at: i64,
) -> StoreResult<()> {
    insert(conn, keys, key, Some(activates_at))
}
