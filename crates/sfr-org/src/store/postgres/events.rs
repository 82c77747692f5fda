//! Login history.

use postgres::types::ToSql;

use super::session::Run;
use super::{R, Tx, parse_id};
use crate::model::{LoginEvent, LoginKind};

/// A login event's column values as statement parameters, in the order of `login_events (at, username, user_id,
/// consumer_key, kind, success, error_code, reason, source_ip)` — for `record` and for the one-statement writes
/// that insert an event with their tokens (`tokens.rs`).
pub(super) struct EventParams<'e> {
    e: &'e LoginEvent,
    user_id: Option<&'e str>,
    kind: String,
}

impl<'e> EventParams<'e> {
    pub(super) fn of(e: &'e LoginEvent) -> Self {
        Self {
            e,
            user_id: e.user_id.as_ref().map(|id| id.as_str()),
            kind: e.kind.as_text(),
        }
    }

    pub(super) fn params(&self) -> [&(dyn ToSql + Sync); 9] {
        [
            &self.e.at,
            &self.e.username,
            &self.user_id,
            &self.e.consumer_key,
            &self.kind,
            &self.e.success,
            &self.e.error_code,
            &self.e.reason,
            &self.e.source_ip,
        ]
    }
}

pub(super) async fn record(c: &mut impl Run, e: &LoginEvent) -> R<()> {
    c.execute(
        "INSERT INTO login_events (at, username, user_id, consumer_key, kind, success, error_code, reason,
                                   source_ip)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        &EventParams::of(e).params(),
    )
    .await?;
    Ok(())
}

pub(super) fn recent(c: Tx<'_, '_>, limit: u32) -> R<Vec<LoginEvent>> {
    let rows = c.query(
        "SELECT at, username, user_id, consumer_key, kind, success, error_code, reason, source_ip
         FROM login_events ORDER BY seq DESC LIMIT $1",
        &[&i64::from(limit)],
    )?;
    rows.iter()
        .map(|r| {
            Ok(LoginEvent {
                at: r.try_get(0)?,
                username: r.try_get(1)?,
                user_id: r
                    .try_get::<_, Option<String>>(2)?
                    .as_deref()
                    .map(parse_id)
                    .transpose()?,
                consumer_key: r.try_get(3)?,
                kind: LoginKind::from_text(&r.try_get::<_, String>(4)?),
                success: r.try_get(5)?,
                error_code: r.try_get(6)?,
                reason: r.try_get(7)?,
                source_ip: r.try_get(8)?,
            })
        })
        .collect()
}
