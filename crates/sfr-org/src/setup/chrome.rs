//! What every Setup page shares: the logged-in administrator (the guard), the header and left navigation with
//! Quick Find, the CSRF token, and the one-line notices shown after a saved form.

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use sfr_wire::SfId;

use super::{internal, page, see_other};
use crate::model::{Org, SYSTEM_ADMINISTRATOR, User};
use crate::pages::session::{self, SESSION_COOKIE, Session};
use crate::state::AppState;

/// One entry of the Setup navigation (and of Quick Find).
#[derive(Debug, Clone, Copy)]
pub struct Nav {
    pub key: &'static str,
    pub section: &'static str,
    pub label: &'static str,
    pub path: &'static str,
    /// Extra words Quick Find matches.
    pub keywords: &'static str,
}

/// The Setup tree, in the order of the left navigation.
pub const NAV: &[Nav] = &[
    Nav {
        key: "home",
        section: "Setup",
        label: "Setup Home",
        path: "/setup",
        keywords: "home start",
    },
    Nav {
        key: "apps",
        section: "Apps",
        label: "App Manager",
        path: "/setup/apps",
        keywords: "connected apps lightning external client apps manage",
    },
    Nav {
        key: "new-app",
        section: "Apps",
        label: "New Connected App",
        path: "/setup/apps/new",
        keywords: "create connected app oauth",
    },
    Nav {
        key: "oauth-usage",
        section: "Apps",
        label: "Connected Apps OAuth Usage",
        path: "/setup/oauth-usage",
        keywords: "revoke tokens sessions connected apps",
    },
    Nav {
        key: "ext-settings",
        section: "External Client Apps",
        label: "Settings",
        path: "/setup/external-client-apps/settings",
        keywords: "allow creation of connected apps external client app settings",
    },
    Nav {
        key: "users",
        section: "Users",
        label: "Users",
        path: "/setup/users",
        keywords: "people deactivate profile",
    },
    Nav {
        key: "permission-sets",
        section: "Users",
        label: "Permission Sets",
        path: "/setup/permission-sets",
        keywords: "assign permissions",
    },
    Nav {
        key: "login-history",
        section: "Users",
        label: "Login History",
        path: "/setup/login-history",
        keywords: "audit failures identity",
    },
    Nav {
        key: "sent-email",
        section: "Email",
        label: "Sent Email",
        path: "/setup/sent-email",
        keywords: "outbox mail verification code deliverability",
    },
];

impl Nav {
    /// Whether every word of `query` appears in the section, label or keywords (case-insensitive).
    pub fn matches(&self, query: &str) -> bool {
        let hay = format!("{} {} {}", self.section, self.label, self.keywords).to_lowercase();
        let words: Vec<String> = query
            .split_whitespace()
            .map(|w| w.to_lowercase().replace('→', ""))
            .filter(|w| !w.is_empty() && w != ">")
            .collect();
        !words.is_empty() && words.iter().all(|w| hay.contains(w.as_str()))
    }
}

/// A navigation section with its entries, for the left navigation.
#[derive(Debug, Clone)]
pub struct NavSection {
    pub title: &'static str,
    pub items: Vec<Nav>,
}

fn nav_sections() -> Vec<NavSection> {
    let mut out: Vec<NavSection> = Vec::new();
    for item in NAV {
        match out.last_mut() {
            Some(s) if s.title == item.section => s.items.push(*item),
            _ => out.push(NavSection {
                title: item.section,
                items: vec![*item],
            }),
        }
    }
    out
}

/// The logged-in System Administrator of a Setup request.
pub struct Guard {
    pub session: Session,
    pub user: User,
    pub org: Org,
}

impl Guard {
    /// Checks the session cookie: no (live) session → the Setup login page, then back to `here`; a user who is
    /// not a System Administrator → 403.
    pub async fn admin(
        state: &AppState,
        headers: &HeaderMap,
        here: &str,
    ) -> Result<Self, Response> {
        let to_login = || {
            let next = sfr_wire::encoding::stringify([("next", here)]);
            see_other(&format!("/setup/login?{next}"))
        };
        let org = state.store_call(|s| s.org()).await.map_err(internal)?;
        let Some(session) =
            session::cookie(headers, SESSION_COOKIE).and_then(|v| session::open(&state.keys, &v))
        else {
            return Err(to_login());
        };
        if state.now() >= session.login_ms.saturating_add(org.session_timeout_ms()) {
            return Err(to_login());
        }
        let Ok(id) = SfId::parse(&session.user_id) else {
            return Err(to_login());
        };
        let user = state
            .store_call(move |s| s.user_by_id(&id))
            .await
            .map_err(internal)?;
        let Some(user) = user.filter(|u| u.active && !u.is_locked(state.now())) else {
            return Err(to_login());
        };
        if user.profile.name != SYSTEM_ADMINISTRATOR {
            return Err(page(
                StatusCode::FORBIDDEN,
                &super::home::DeniedPage {
                    org_name: &org.name,
                },
            ));
        }
        Ok(Self { session, user, org })
    }

    /// Whether a posted form carries the session's CSRF token (answer [`forbidden_form`] when not).
    pub fn csrf_ok(&self, submitted: Option<&str>) -> bool {
        session::csrf_matches(&self.session.csrf, submitted)
    }

    /// The page chrome for navigation entry `active`, with an optional notice key from the query string.
    pub fn chrome(&self, active: &'static str, notice: Option<&str>) -> Chrome {
        Chrome {
            org_name: self.org.name.clone(),
            user_name: self.user.display_name(),
            initial: self
                .user
                .display_name()
                .chars()
                .next()
                .map(|c| c.to_uppercase().collect())
                .unwrap_or_default(),
            username: self.user.username.clone(),
            csrf: self.session.csrf.clone(),
            active,
            sections: nav_sections(),
            notice: notice.and_then(notice_text).map(str::to_owned),
            query: String::new(),
        }
    }
}

/// 403 for a form post without the session's CSRF token.
pub fn forbidden_form() -> Response {
    let mut resp = page(
        StatusCode::FORBIDDEN,
        &crate::pages::ErrorPage {
            org_name: "Setup",
            heading: "This form has expired",
            detail: "The page you submitted was stale or did not come from this org (missing or wrong security token). Go back, reload the page and try again.",
            wire: "error=invalid_csrf_token",
        },
    );
    *resp.status_mut() = StatusCode::FORBIDDEN;
    resp
}

/// The header, navigation and notice of every Setup page.
pub struct Chrome {
    pub org_name: String,
    pub user_name: String,
    /// First letter of the name, for the avatar.
    pub initial: String,
    pub username: String,
    pub csrf: String,
    pub active: &'static str,
    pub sections: Vec<NavSection>,
    pub notice: Option<String>,
    /// The Quick Find text to show in the box.
    pub query: String,
}

impl Chrome {
    /// Quick Find: shows only the navigation entries matching `query` (Salesforce narrows its tree the same way).
    pub fn narrow_to(&mut self, query: &str) {
        self.query = query.to_owned();
        for section in &mut self.sections {
            section.items.retain(|n| n.matches(query));
        }
        self.sections.retain(|s| !s.items.is_empty());
    }
}

/// The fixed text of a notice key (notices never echo request text).
pub fn notice_text(key: &str) -> Option<&'static str> {
    Some(match key {
        "settings-saved" => "Your External Client App settings were saved.",
        "app-created" => {
            "Your connected app was created. Allow 2–10 minutes for your changes to take effect on the server before using the connected app."
        }
        "policies-saved" => "The OAuth policies were saved.",
        "profiles-saved" => "The app's profiles were saved.",
        "permission-sets-saved" => "The app's permission sets were saved.",
        "user-created" => "The user was created.",
        "user-saved" => "The user was saved.",
        "permission-set-created" => "The permission set was created.",
        "permission-set-assigned" => "The permission set was assigned.",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quick_find_matches_the_guide_wording() {
        let hits = |q: &str| -> Vec<&str> {
            NAV.iter()
                .filter(|n| n.matches(q))
                .map(|n| n.label)
                .collect()
        };
        assert_eq!(hits("External Client Apps Settings"), vec!["Settings"]);
        assert_eq!(hits("external client"), vec!["App Manager", "Settings"]);
        assert!(hits("app manager").contains(&"App Manager"));
        assert!(hits("login history").contains(&"Login History"));
        assert!(hits("").is_empty());
        assert!(hits("zzz").is_empty());
        assert_eq!(notice_text("<script>"), None);
    }
}
