//! `support allow-connected-apps`, `setup allow-connected-app-creation`, `org show`, `org update`.

use super::{AdminError, Context, Report, database_flag, json};
use crate::model::OrgSettingsUpdate;
use crate::store::{SETUP_COMMAND, SUPPORT_COMMAND};

/// The Customer Support step: grant (or, with `enable = false`, withdraw) the Connected Apps permission.
pub fn support_allow_connected_apps(ctx: &Context, enable: bool) -> Result<Report, AdminError> {
    let opened = ctx.open()?;
    let org = opened.store.update_org(&OrgSettingsUpdate {
        connected_apps_permission: Some(enable),
        // Withdrawing the permission also turns the admin setting off, as Salesforce does.
        allow_connected_app_creation: (!enable).then_some(false),
        ..Default::default()
    })?;
    let db = database_flag(&ctx.database);
    let human = if enable {
        let next = if org.allow_connected_app_creation {
            "Connected apps can be created now.".to_owned()
        } else {
            format!("Next (step 2 of 2): {SETUP_COMMAND}{db}")
        };
        format!(
            "Customer Support granted the Connected Apps permission to org {} (step 1 of 2).\n{next}\n",
            org.id
        )
    } else {
        format!(
            "Withdrew the Connected Apps permission from org {}; connected apps can no longer be created.\n",
            org.id
        )
    };
    Ok(Report {
        json: json::org(&org),
        human,
    })
}

/// The admin step: "Allow creation of connected apps". Needs the support step first.
pub fn setup_allow_creation(ctx: &Context, enable: bool) -> Result<Report, AdminError> {
    let opened = ctx.open()?;
    let db = database_flag(&ctx.database);
    if enable && !opened.org.connected_apps_permission {
        return Err(AdminError::Usage(format!(
            "\"Allow creation of connected apps\" can only be turned on once Salesforce Customer Support has \
             granted the Connected Apps permission (step 1 of 2). Run `{SUPPORT_COMMAND}{db}` first, then this \
             command again."
        )));
    }
    let org = opened.store.update_org(&OrgSettingsUpdate {
        allow_connected_app_creation: Some(enable),
        ..Default::default()
    })?;
    let human = if enable {
        format!(
            "Turned on \"Allow creation of connected apps\" in org {} (step 2 of 2). Create one with:\n  \
             sfr-org app create{db} --name \"My App\" --contact-email you@example.com \\\n    \
             --callback-url http://localhost:1717/OauthRedirect --scopes \"api web refresh_token\"\n",
            org.id
        )
    } else {
        format!(
            "Turned off \"Allow creation of connected apps\" in org {}.\n",
            org.id
        )
    };
    Ok(Report {
        json: json::org(&org),
        human,
    })
}

pub fn show(ctx: &Context) -> Result<Report, AdminError> {
    let opened = ctx.open()?;
    let org = opened.store.org()?;
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    let human = format!(
        "Org {} ({})\n  Dev Hub:                            {}\n  Connected Apps permission (support): {}\n  \
         Allow creation of connected apps:   {}\n  Session timeout:                    {} min\n  \
         Lockout:                            {} failed logins lock for {} min\n  Database:                           {}\n  \
         Master key:                         {}\n",
        org.name,
        org.id,
        yes_no(org.dev_hub),
        yes_no(org.connected_apps_permission),
        yes_no(org.allow_connected_app_creation),
        org.session_timeout_minutes,
        org.lockout_threshold,
        org.lockout_minutes,
        ctx.database.path().display(),
        opened.key_origin,
    );
    Ok(Report {
        json: json::org(&org),
        human,
    })
}

pub fn update(ctx: &Context, update: &OrgSettingsUpdate) -> Result<Report, AdminError> {
    let opened = ctx.open()?;
    let org = opened.store.update_org(update)?;
    Ok(Report {
        json: json::org(&org),
        human: format!("Updated org {}.\n", org.id),
    })
}
