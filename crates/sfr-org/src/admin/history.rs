//! `login-history`: the most recent login, authorize and token events with their precise reasons.

use serde_json::json;

use super::{AdminError, Context, Report, format_time};

pub fn show(ctx: &Context, limit: u32) -> Result<Report, AdminError> {
    let opened = ctx.open()?;
    let events = opened.store.events(limit)?;
    let json = events
        .iter()
        .map(|e| {
            json!({
                "at": format_time(e.at),
                "username": e.username,
                "userId": e.user_id.as_ref().map(|id| id.as_str()),
                "consumerKey": e.consumer_key,
                "kind": e.kind.as_text(),
                "success": e.success,
                "errorCode": e.error_code,
                "reason": e.reason,
                "sourceIp": e.source_ip,
            })
        })
        .collect::<Vec<_>>();
    let mut human = String::new();
    if events.is_empty() {
        human.push_str("No login history yet.\n");
    }
    for e in &events {
        human.push_str(&format!(
            "{}  {:<7} {:<28} {:<30} {}{}\n",
            format_time(e.at),
            if e.success { "ok" } else { "FAILED" },
            e.kind.as_text(),
            e.username.as_deref().unwrap_or("-"),
            e.error_code
                .as_deref()
                .map(|c| format!("[{c}] "))
                .unwrap_or_default(),
            e.reason,
        ));
    }
    Ok(Report {
        json: serde_json::Value::Array(json),
        human,
    })
}
