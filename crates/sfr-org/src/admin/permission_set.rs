//! `permission-set create|assign|list`.

use super::{AdminError, Context, Report, json};
use crate::clock::{Clock as _, SystemClock};

pub fn create(ctx: &Context, name: &str, label: Option<&str>) -> Result<Report, AdminError> {
    let opened = ctx.open()?;
    let ps = opened
        .store
        .create_permission_set(name, label.unwrap_or(""), SystemClock.now_ms())?;
    Ok(Report {
        json: json::permission_set(&ps),
        human: format!(
            "Created permission set {} ({:?}, id {}).\nAssign it: sfr-org permission-set assign --name {} --username USER\n",
            ps.name, ps.label, ps.id, ps.name
        ),
    })
}

pub fn assign(ctx: &Context, name: &str, username: &str) -> Result<Report, AdminError> {
    let opened = ctx.open()?;
    let user = super::user::require_user(opened.store.as_ref(), username)?;
    let user = opened.store.assign_permission_set(&user.id, name)?;
    Ok(Report {
        json: json::user(&user, SystemClock.now_ms()),
        human: format!(
            "Assigned permission set {name} to {}. Their permission sets: {}\n",
            user.username,
            user.permission_sets
                .iter()
                .map(|ps| ps.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    })
}

pub fn list(ctx: &Context) -> Result<Report, AdminError> {
    let opened = ctx.open()?;
    let sets = opened.store.list_permission_sets()?;
    let mut human = String::new();
    if sets.is_empty() {
        human.push_str(
            "No permission sets yet. Create one: sfr-org permission-set create --name NAME\n",
        );
    }
    for ps in &sets {
        human.push_str(&format!("{}  {:<30} {}\n", ps.id, ps.name, ps.label));
    }
    Ok(Report {
        json: serde_json::Value::Array(sets.iter().map(json::permission_set).collect()),
        human,
    })
}
