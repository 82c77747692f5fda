//! The token endpoint as a client sees it: POST a grant, get a `TokenResponse` or an OAuth error, the way jsforce
//! reports it (`<error>::<error_description>`, or `ERROR_HTTP_<status>` for a body that is not the JSON error).

use sfr_wire::{ErrorBody, TokenResponse};

use super::http::{HttpClient, HttpError, Response, join};

/// Why a grant did not produce tokens.
#[derive(Debug, thiserror::Error)]
pub enum GrantError {
    /// The endpoint answered with an OAuth error.
    #[error("{}", .0.jsforce_text())]
    OAuth(OAuthReply),
    /// The request never got an answer.
    #[error(transparent)]
    Transport(#[from] HttpError),
    /// A 2xx answer that is not a usable token response.
    #[error("the token endpoint at {url} answered with an unusable body: {reason}")]
    Malformed { url: String, reason: String },
}

/// An error answer of the token endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthReply {
    pub status: u16,
    /// `error`, or `ERROR_HTTP_<status>` when the body was not the JSON error object.
    pub error: String,
    /// `error_description`, or the raw body.
    pub description: String,
}

impl OAuthReply {
    /// `error::error_description`, as jsforce formats token errors (just `error` when there is no description).
    pub fn jsforce_text(&self) -> String {
        if self.description.is_empty() {
            self.error.clone()
        } else {
            format!("{}::{}", self.error, self.description)
        }
    }

    fn from_response(resp: &Response) -> Self {
        match serde_json::from_str::<ErrorBody>(&resp.body) {
            Ok(body) => Self {
                status: resp.status,
                error: body.error,
                description: body.error_description,
            },
            Err(_) => Self {
                status: resp.status,
                error: format!("ERROR_HTTP_{}", resp.status),
                description: resp.body.trim().chars().take(500).collect(),
            },
        }
    }
}

/// `POST {login_url}/services/oauth2/token` with the form pairs in order.
pub fn request_token(
    http: &HttpClient,
    login_url: &str,
    pairs: &[(&str, &str)],
) -> Result<TokenResponse, GrantError> {
    let url = join(login_url, "services/oauth2/token");
    let resp = http.post_form(&url, pairs)?;
    if resp.status >= 400 {
        return Err(GrantError::OAuth(OAuthReply::from_response(&resp)));
    }
    let malformed = |reason: String| GrantError::Malformed {
        url: url.clone(),
        reason,
    };
    let token: TokenResponse =
        serde_json::from_str(&resp.body).map_err(|e| malformed(e.to_string()))?;
    if token.access_token.is_empty() || token.instance_url.is_empty() {
        return Err(malformed(
            "access_token or instance_url is empty".to_owned(),
        ));
    }
    if token.org_id().is_none() {
        return Err(malformed(format!("the id {:?} names no org", token.id)));
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_text_is_jsforce_shaped() {
        let r = OAuthReply::from_response(&Response {
            status: 400,
            body: r#"{"error":"invalid_grant","error_description":"authentication failure"}"#
                .into(),
        });
        assert_eq!(r.jsforce_text(), "invalid_grant::authentication failure");
        let r = OAuthReply::from_response(&Response {
            status: 502,
            body: "<html>bad gateway</html>".into(),
        });
        assert_eq!(r.error, "ERROR_HTTP_502");
        assert_eq!(r.jsforce_text(), "ERROR_HTTP_502::<html>bad gateway</html>");
    }
}
