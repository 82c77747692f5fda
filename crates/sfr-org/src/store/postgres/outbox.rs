//! The local mail outbox and e-mailed verification codes.

use sfr_wire::SfId;

use super::{R, Tx, to_u32};
use crate::model::{CodeCheck, Mail, VERIFICATION_CODE_ATTEMPTS, VerificationCode};

pub(super) fn record(c: Tx<'_, '_>, mail: &Mail) -> R<()> {
    c.execute(
        "INSERT INTO outbox (at, recipient, subject, body) VALUES ($1, $2, $3, $4)",
        &[&mail.at, &mail.to, &mail.subject, &mail.body],
    )?;
    Ok(())
}

pub(super) fn recent(c: Tx<'_, '_>, limit: u32) -> R<Vec<Mail>> {
    let rows = c.query(
        "SELECT at, recipient, subject, body FROM outbox ORDER BY seq DESC LIMIT $1",
        &[&i64::from(limit)],
    )?;
    rows.iter()
        .map(|r| {
            Ok(Mail {
                at: r.try_get(0)?,
                to: r.try_get(1)?,
                subject: r.try_get(2)?,
                body: r.try_get(3)?,
            })
        })
        .collect()
}

pub(super) fn issue_code(c: Tx<'_, '_>, code: &VerificationCode) -> R<()> {
    c.execute(
        "INSERT INTO verification_codes (user_id, purpose, code_hash, expires_at, attempts)
         VALUES ($1, $2, $3, $4, 0)
         ON CONFLICT (user_id, purpose) DO UPDATE
         SET code_hash = excluded.code_hash, expires_at = excluded.expires_at, attempts = 0",
        &[
            &code.user_id.as_str(),
            &code.purpose,
            &code.code_hash,
            &code.expires_at,
        ],
    )?;
    Ok(())
}

pub(super) fn consume_code(
    c: Tx<'_, '_>,
    user: &SfId,
    purpose: &str,
    code_hash: &str,
    now: i64,
) -> R<CodeCheck> {
    let row = c.query_opt(
        "SELECT code_hash, expires_at, attempts FROM verification_codes
         WHERE user_id = $1 AND purpose = $2 FOR UPDATE",
        &[&user.as_str(), &purpose],
    )?;
    let Some(row) = row else {
        return Ok(CodeCheck::Missing);
    };
    let stored: String = row.try_get(0)?;
    let expires_at: i64 = row.try_get(1)?;
    let attempts = to_u32(row.try_get::<_, i64>(2)?, "verification attempts")?;
    let delete = "DELETE FROM verification_codes WHERE user_id = $1 AND purpose = $2";
    if now >= expires_at {
        c.execute(delete, &[&user.as_str(), &purpose])?;
        return Ok(CodeCheck::Expired);
    }
    if crate::keys::ct_eq(&stored, code_hash) {
        c.execute(delete, &[&user.as_str(), &purpose])?;
        return Ok(CodeCheck::Accepted);
    }
    let attempts = attempts.saturating_add(1);
    if attempts >= VERIFICATION_CODE_ATTEMPTS {
        c.execute(delete, &[&user.as_str(), &purpose])?;
        return Ok(CodeCheck::Wrong { attempts_left: 0 });
    }
    c.execute(
        "UPDATE verification_codes SET attempts = $3 WHERE user_id = $1 AND purpose = $2",
        &[&user.as_str(), &purpose, &i64::from(attempts)],
    )?;
    Ok(CodeCheck::Wrong {
        attempts_left: VERIFICATION_CODE_ATTEMPTS - attempts,
    })
}
