//! The ID-token signing keys, encrypted with the master key. Rotation adds the next key with the time it starts
//! signing; until then it is only published.

use super::{R, Tx};
use crate::clock::{Clock as _, SystemClock};
use crate::keys::Keys;
use crate::model::{SigningKey, SigningKeys};
use crate::store::StoreError;

fn context(kid: &str) -> String {
    format!("signing_key:{kid}")
}

/// Every stored key, decrypted, with the time it starts signing.
fn all(c: Tx<'_, '_>, keys: &Keys) -> R<Vec<(SigningKey, Option<i64>)>> {
    c.query(
        "SELECT kid, pkcs8_enc, created_at, activates_at FROM signing_keys",
        &[],
    )?
    .iter()
    .map(|row| {
        let kid: String = row.try_get(0)?;
        let sealed: String = row.try_get(1)?;
        let pkcs8_der = keys
            .decrypt(&sealed, &context(&kid))
            .map_err(|_| StoreError::Decrypt {
                what: format!("the signing key {kid}"),
            })?;
        Ok((
            SigningKey {
                kid,
                pkcs8_der,
                created_at: row.try_get(2)?,
            },
            row.try_get(3)?,
        ))
    })
    .collect()
}

pub(super) fn signing_keys(c: Tx<'_, '_>, keys: &Keys, now: i64) -> R<Option<SigningKeys>> {
    Ok(SigningKeys::select(all(c, keys)?, now))
}

pub(super) fn signing_key(c: Tx<'_, '_>, keys: &Keys) -> R<Option<SigningKey>> {
    Ok(signing_keys(c, keys, SystemClock.now_ms())?.map(|k| k.signing))
}

fn insert(c: Tx<'_, '_>, keys: &Keys, key: &SigningKey, activates_at: Option<i64>) -> R<()> {
    let sealed = keys
        .encrypt(&key.pkcs8_der, &context(&key.kid))
        .map_err(|e| StoreError::Internal(e.to_string()))?;
    c.execute(
        "INSERT INTO signing_keys (kid, pkcs8_enc, created_at, activates_at) VALUES ($1, $2, $3, $4)",
        &[&key.kid, &sealed, &key.created_at, &activates_at],
    )?;
    Ok(())
}

pub(super) fn store(c: Tx<'_, '_>, keys: &Keys, key: &SigningKey) -> R<SigningKey> {
    if let Some(existing) = signing_key(c, keys)? {
        return Ok(existing);
    }
    insert(c, keys, key, None)?;
    Ok(key.clone())
}

pub(super) fn add(c: Tx<'_, '_>, keys: &Keys, key: &SigningKey, activates_at: i64) -> R<()> {
    insert(c, keys, key, Some(activates_at))
}
