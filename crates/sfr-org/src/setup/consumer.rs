//! *Manage Consumer Details*: a verification code is e-mailed to the administrator first; the right code shows
//! the consumer key and secret (with Copy buttons).

use askama::Template;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::apps::load_app;
use super::{Chrome, Guard, SetupMail, internal, page};
use crate::http::params::FormRequest;
use crate::keys;
use crate::model::{CodeCheck, Mail, VERIFICATION_CODE_LIFETIME_MS, VerificationCode};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "setup/verify.html")]
pub struct VerifyPage {
    pub chrome: Chrome,
    pub app_id: String,
    pub app_name: String,
    pub email: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "setup/consumer.html")]
pub struct ConsumerPage {
    pub chrome: Chrome,
    pub app_id: String,
    pub app_name: String,
    pub consumer_key: String,
    pub consumer_secret: String,
}

fn purpose(app_id: &str) -> String {
    format!("consumer-details:{app_id}")
}

/// Six random digits.
fn six_digits() -> Option<String> {
    let mut b = [0u8; 4];
    aws_lc_rs::rand::fill(&mut b).ok()?;
    Some(format!("{:06}", u32::from_le_bytes(b) % 1_000_000))
}

/// `a…@example.com`: enough to recognise the address, not to harvest it.
fn masked(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}\u{2026}@{domain}")
        }
        None => "your e-mail address".to_owned(),
    }
}

/// `POST /setup/apps/{id}/consumer`: e-mails a fresh code and asks for it.
pub async fn send_code(
    State(state): State<AppState>,
    Extension(SetupMail(mailer)): Extension<SetupMail>,
    Path(id): Path<String>,
    form: FormRequest,
) -> Response {
    let here = format!("/setup/apps/{id}");
    let guard = match Guard::admin(&state, &form.headers, &here).await {
        Ok(g) => g,
        Err(r) => return r,
    };
    if !guard.csrf_ok(form.params.get("sfr_csrf")) {
        return super::chrome::forbidden_form();
    }
    let app = match load_app(&state, guard.chrome("apps", None), &id).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let Some(code) = six_digits() else {
        return internal("the system random number generator failed");
    };
    let now = state.now();
    let issued = VerificationCode {
        user_id: guard.user.id.clone(),
        purpose: purpose(app.id.as_str()),
        code_hash: keys::hash_token(&code),
        expires_at: now + VERIFICATION_CODE_LIFETIME_MS,
    };
    if let Err(e) = state
        .store_call(move |s| s.issue_verification_code(&issued))
        .await
    {
        return internal(e);
    }
    let mail = Mail {
        at: now,
        to: guard.user.email.clone(),
        subject: format!("Verify your identity in {}", guard.org.name),
        body: format!(
            "Hello {},\n\nYou asked to view the consumer details of the connected app \"{}\".\n\n\
             Verification Code: {code}\n\nThe code expires in 10 minutes. If you didn't ask for it, \
             someone may be using your login; change your password.\n",
            guard.user.display_name(),
            app.name
        ),
    };
    let sent = tokio::task::spawn_blocking(move || mailer.send(&mail)).await;
    let error = match sent {
        Ok(Ok(())) => None,
        Ok(Err(e)) => {
            tracing::error!(error = %e, "could not send a verification code");
            Some(format!("The verification code could not be sent: {e}"))
        }
        Err(e) => return internal(e),
    };
    page(
        StatusCode::OK,
        &VerifyPage {
            chrome: guard.chrome("apps", None),
            app_id: app.id.to_string(),
            app_name: app.name,
            email: masked(&guard.user.email),
            error,
        },
    )
}

/// `POST /setup/apps/{id}/consumer/verify`: checks the code; shows key and secret when right.
pub async fn verify(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: FormRequest,
) -> Response {
    let here = format!("/setup/apps/{id}");
    let guard = match Guard::admin(&state, &form.headers, &here).await {
        Ok(g) => g,
        Err(r) => return r,
    };
    if !guard.csrf_ok(form.params.get("sfr_csrf")) {
        return super::chrome::forbidden_form();
    }
    let app = match load_app(&state, guard.chrome("apps", None), &id).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let submitted = form
        .params
        .get("code")
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>();
    let (user, purpose_, hash, now) = (
        guard.user.id.clone(),
        purpose(app.id.as_str()),
        keys::hash_token(&submitted),
        state.now(),
    );
    let check = match state
        .store_call(move |s| s.consume_verification_code(&user, &purpose_, &hash, now))
        .await
    {
        Ok(c) => c,
        Err(e) => return internal(e),
    };
    let error = match check {
        CodeCheck::Accepted => None,
        CodeCheck::Wrong { attempts_left: 0 } => Some(
            "That code is wrong, and too many wrong codes were entered. Go back and send a new code.".to_owned(),
        ),
        CodeCheck::Wrong { attempts_left } => Some(format!(
            "That verification code is not valid. Check the e-mail and try again ({attempts_left} tries left)."
        )),
        CodeCheck::Expired => {
            Some("That verification code has expired. Go back and send a new code.".to_owned())
        }
        CodeCheck::Missing => {
            Some("No verification code is waiting. Go back and send a new code.".to_owned())
        }
    };
    if error.is_some() {
        return page(
            StatusCode::UNAUTHORIZED,
            &VerifyPage {
                chrome: guard.chrome("apps", None),
                app_id: app.id.to_string(),
                app_name: app.name,
                email: masked(&guard.user.email),
                error,
            },
        );
    }
    let app_id = app.id.clone();
    let secret = match state.store_call(move |s| s.app_secret(&app_id)).await {
        Ok(s) => s,
        Err(e) => return internal(e),
    };
    page(
        StatusCode::OK,
        &ConsumerPage {
            chrome: guard.chrome("apps", None),
            app_id: app.id.to_string(),
            app_name: app.name,
            consumer_key: app.consumer_key,
            consumer_secret: secret,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_masks() {
        let c = six_digits().unwrap();
        assert_eq!(c.len(), 6);
        assert!(c.bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(masked("admin@example.com"), "a\u{2026}@example.com");
        assert_eq!(masked("nope"), "your e-mail address");
    }
}
