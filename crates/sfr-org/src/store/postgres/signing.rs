//! The ID-token signing key, encrypted with the master key.

use super::{R, Tx};
use crate::keys::Keys;
use crate::model::SigningKey;
use crate::store::StoreError;

fn context(kid: &str) -> String {
    format!("signing_key:{kid}")
}

pub(super) fn signing_key(c: Tx<'_, '_>, keys: &Keys) -> R<Option<SigningKey>> {
    let row = c.query_opt(
        "SELECT kid, pkcs8_enc, created_at FROM signing_keys ORDER BY created_at DESC, kid LIMIT 1",
        &[],
    )?;
    let Some(row) = row else {
        return Ok(None);
    };
    let kid: String = row.try_get(0)?;
    let sealed: String = row.try_get(1)?;
    let pkcs8_der = keys
        .decrypt(&sealed, &context(&kid))
        .map_err(|_| StoreError::Decrypt {
            what: format!("the signing key {kid}"),
        })?;
    Ok(Some(SigningKey {
        kid,
        pkcs8_der,
        created_at: row.try_get(2)?,
    }))
}

pub(super) fn store(c: Tx<'_, '_>, keys: &Keys, key: &SigningKey) -> R<SigningKey> {
    if let Some(existing) = signing_key(c, keys)? {
        return Ok(existing);
    }
    let sealed = keys
        .encrypt(&key.pkcs8_der, &context(&key.kid))
        .map_err(|e| StoreError::Internal(e.to_string()))?;
    c.execute(
        "INSERT INTO signing_keys (kid, pkcs8_enc, created_at) VALUES ($1, $2, $3)",
        &[&key.kid, &sealed, &key.created_at],
    )?;
    Ok(key.clone())
}
