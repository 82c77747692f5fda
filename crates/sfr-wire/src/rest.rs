//! REST error bodies: a JSON array of `{"message","errorCode"}`, which jsforce and simple-salesforce index into.

use serde::{Deserialize, Serialize};

/// One REST error. The HTTP body is always an array of these.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestError {
    pub message: String,
    #[serde(rename = "errorCode")]
    pub error_code: String,
}

impl RestError {
    fn new(code: &str, message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            error_code: code.to_owned(),
        }
    }

    /// 401: expired, revoked or unknown access token.
    pub fn invalid_session() -> Self {
        Self::new("INVALID_SESSION_ID", "Session expired or invalid")
    }

    /// 404: no such resource.
    pub fn not_found() -> Self {
        Self::new("NOT_FOUND", "The requested resource does not exist")
    }

    /// 400: an sObject type this org does not have (ScratchOrgInfo outside a Dev Hub).
    pub fn invalid_type(object: &str) -> Self {
        Self::new(
            "INVALID_TYPE",
            format!(
                "sObject type '{object}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names."
            ),
        )
    }

    /// 400: SOQL we cannot parse.
    pub fn malformed_query(detail: impl Into<String>) -> Self {
        Self::new("MALFORMED_QUERY", detail)
    }

    /// 404 for a record id that does not exist.
    pub fn invalid_id(id: &str) -> Self {
        Self::new(
            "NOT_FOUND",
            format!("Provided external ID field does not exist or is not accessible: {id}"),
        )
    }

    /// 403: the token lacks the `api` scope.
    pub fn api_disabled() -> Self {
        Self::new(
            "API_DISABLED_FOR_ORG",
            "API is not enabled for this Organization or Partner",
        )
    }

    /// 405 and others.
    pub fn method_not_allowed(method: &str) -> Self {
        Self::new(
            "METHOD_NOT_ALLOWED",
            format!("HTTP Method '{method}' not allowed. Allowed are GET"),
        )
    }

    /// 500.
    pub fn unknown() -> Self {
        Self::new(
            "UNKNOWN_EXCEPTION",
            "An unexpected error occurred. Please include this ErrorId if you contact support",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_session_is_the_exact_array_jsforce_expects() {
        let body = serde_json::to_string(&[RestError::invalid_session()]).unwrap();
        assert_eq!(
            body,
            r#"[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]"#
        );
    }
}
