//! The ID-token signing key, encrypted with the master key.

use rusqlite::{Connection, OptionalExtension as _, params};

use super::db_err;
use crate::keys::Keys;
use crate::model::SigningKey;
use crate::store::{StoreError, StoreResult};

fn context(kid: &str) -> String {
    format!("signing_key:{kid}")
}

pub(super) fn signing_key(conn: &Connection, keys: &Keys) -> StoreResult<Option<SigningKey>> {
    let row: Option<(String, String, i64)> = conn
        .query_row(
            "SELECT kid, pkcs8_enc, created_at FROM signing_keys ORDER BY created_at DESC, kid LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()
        .map_err(db_err)?;
    row.map(|(kid, sealed, created_at)| {
        let pkcs8_der = keys
            .decrypt(&sealed, &context(&kid))
            .map_err(|_| StoreError::Decrypt {
                what: format!("the signing key {kid}"),
            })?;
        Ok(SigningKey {
            kid,
            pkcs8_der,
            created_at,
        })
    })
    .transpose()
}

pub(super) fn store(conn: &Connection, keys: &Keys, key: &SigningKey) -> StoreResult<SigningKey> {
    if let Some(existing) = signing_key(conn, keys)? {
        return Ok(existing);
    }
    let sealed = keys
        .encrypt(&key.pkcs8_der, &context(&key.kid))
        .map_err(|e| StoreError::Internal(e.to_string()))?;
    conn.execute(
        "INSERT INTO signing_keys (kid, pkcs8_enc, created_at) VALUES (?1, ?2, ?3)",
        params![key.kid, sealed, key.created_at],
    )
    .map_err(db_err)?;
    Ok(key.clone())
}
