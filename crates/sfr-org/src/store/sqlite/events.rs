//! Login history.

use rusqlite::{Connection, params};

use super::cached::CachedStatements as _;
use super::{db_err, parse_id};
use crate::model::{LoginEvent, LoginKind};
use crate::store::StoreResult;

pub(super) fn record(conn: &Connection, e: &LoginEvent) -> StoreResult<()> {
    conn.execute_cached(
        "INSERT INTO login_events (at, username, user_id, consumer_key, kind, success, error_code, reason,
                                   source_ip)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            e.at,
            e.username,
            e.user_id.as_ref().map(|id| id.as_str()),
            e.consumer_key,
            e.kind.as_text(),
            e.success,
            e.error_code,
            e.reason,
            e.source_ip,
        ],
    )
    .map_err(db_err)?;
    Ok(())
}

type EventRow = (
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    bool,
    Option<String>,
    String,
    Option<String>,
);

pub(super) fn recent(conn: &Connection, limit: u32) -> StoreResult<Vec<LoginEvent>> {
    let mut stmt = conn
        .prepare(
            "SELECT at, username, user_id, consumer_key, kind, success, error_code, reason, source_ip
             FROM login_events ORDER BY seq DESC LIMIT ?1",
        )
        .map_err(db_err)?;
    let rows = stmt
        .query_map([limit], |r| EventRow::try_from(r))
        .map_err(db_err)?
        .collect::<Result<Vec<EventRow>, _>>()
        .map_err(db_err)?;
    rows.into_iter()
        .map(|r| {
            Ok(LoginEvent {
                at: r.0,
                username: r.1,
                user_id: r.2.as_deref().map(parse_id).transpose()?,
                consumer_key: r.3,
                kind: LoginKind::from_text(&r.4),
                success: r.5,
                error_code: r.6,
                reason: r.7,
                source_ip: r.8,
            })
        })
        .collect()
}
