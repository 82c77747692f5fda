//! The rules for a new user's fields that every storage backend applies before it writes (one place, so SQLite
//! and PostgreSQL accept and refuse the same users).

use crate::model::NewUser;
use crate::store::{StoreError, StoreResult};

/// Checks a new user's username (e-mail-like, with a dotted domain: `sf` lists only such auth files), e-mail and
/// last name.
pub(crate) fn validate_new(user: &NewUser) -> StoreResult<()> {
    let invalid = |field, message: &str| StoreError::Invalid {
        field,
        message: message.to_owned(),
    };
    let username = user.username.trim();
    match username.split_once('@') {
        Some((local, domain)) if !local.is_empty() && domain.contains('.') => {}
        _ => {
            return Err(invalid(
                "username",
                "must look like an e-mail address with a dotted domain, e.g. jane@example.com \
                 (sf only lists auth files whose username domain has a dot)",
            ));
        }
    }
    if username.chars().any(char::is_whitespace) || username.len() > 80 {
        return Err(invalid(
            "username",
            "must have no spaces and at most 80 characters",
        ));
    }
    if !user.email.contains('@') {
        return Err(invalid("email", "must be an e-mail address"));
    }
    if user.last_name.trim().is_empty() {
        return Err(invalid("last name", "must not be empty"));
    }
    Ok(())
}
