//! The local mail outbox and e-mailed verification codes.

use rusqlite::{Connection, OptionalExtension as _, params};
use sfr_wire::SfId;

use super::cached::CachedStatements as _;
use super::db_err;
use crate::model::{CodeCheck, Mail, VERIFICATION_CODE_ATTEMPTS, VerificationCode};
use crate::store::StoreResult;

pub(super) fn record(conn: &Connection, mail: &Mail) -> StoreResult<()> {
    conn.execute_cached(
        "INSERT INTO outbox (at, recipient, subject, body) VALUES (?1, ?2, ?3, ?4)",
        params![mail.at, mail.to, mail.subject, mail.body],
    )
    .map_err(db_err)?;
    Ok(())
}

pub(super) fn recent(conn: &Connection, limit: u32) -> StoreResult<Vec<Mail>> {
    let mut stmt = conn
        .prepare("SELECT at, recipient, subject, body FROM outbox ORDER BY seq DESC LIMIT ?1")
        .map_err(db_err)?;
    let rows = stmt
        .query_map([limit], |r| {
            Ok(Mail {
                at: r.get(0)?,
                to: r.get(1)?,
                subject: r.get(2)?,
                body: r.get(3)?,
            })
        })
        .map_err(db_err)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db_err)?;
    Ok(rows)
}

pub(super) fn issue_code(conn: &Connection, code: &VerificationCode) -> StoreResult<()> {
    conn.execute_cached(
        "INSERT INTO verification_codes (user_id, purpose, code_hash, expires_at, attempts)
         VALUES (?1, ?2, ?3, ?4, 0)
         ON CONFLICT (user_id, purpose) DO UPDATE
         SET code_hash = excluded.code_hash, expires_at = excluded.expires_at, attempts = 0",
        params![
            code.user_id.as_str(),
            code.purpose,
            code.code_hash,
            code.expires_at
        ],
    )
    .map_err(db_err)?;
    Ok(())
}

pub(super) fn consume_code(
    conn: &Connection,
    user: &SfId,
    purpose: &str,
    code_hash: &str,
    now: i64,
) -> StoreResult<CodeCheck> {
    let row: Option<(String, i64, u32)> = conn
        .query_row_cached(
            "SELECT code_hash, expires_at, attempts FROM verification_codes
             WHERE user_id = ?1 AND purpose = ?2",
            params![user.as_str(), purpose],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()
        .map_err(db_err)?;
    let Some((stored, expires_at, attempts)) = row else {
        return Ok(CodeCheck::Missing);
    };
    let delete = || {
        conn.execute_cached(
            "DELETE FROM verification_codes WHERE user_id = ?1 AND purpose = ?2",
            params![user.as_str(), purpose],
        )
        .map_err(db_err)
    };
    if now >= expires_at {
        delete()?;
        return Ok(CodeCheck::Expired);
    }
    if crate::keys::ct_eq(&stored, code_hash) {
        delete()?;
        return Ok(CodeCheck::Accepted);
    }
    let attempts = attempts.saturating_add(1);
    if attempts >= VERIFICATION_CODE_ATTEMPTS {
        delete()?;
        return Ok(CodeCheck::Wrong { attempts_left: 0 });
    }
    conn.execute_cached(
        "UPDATE verification_codes SET attempts = ?3 WHERE user_id = ?1 AND purpose = ?2",
        params![user.as_str(), purpose, attempts],
    )
    .map_err(db_err)?;
    Ok(CodeCheck::Wrong {
        attempts_left: VERIFICATION_CODE_ATTEMPTS - attempts,
    })
}
