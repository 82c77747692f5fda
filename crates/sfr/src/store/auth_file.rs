//! One org authorization (`~/.sfdx/<username>.json`), decrypted, with sf's field names and key order.
//!
//! Fields live in an ordered map so that a file read and written back keeps sf's order. The set of top-level keys
//! changed since reading is tracked: `Store::write_auth` merges only those into the file on disk (sf's
//! merge-on-write), so a concurrent writer's other changes survive.

use serde_json::{Map, Value};

use super::crypto::is_secret_key;

/// Key order of a new web (auth code), sfdx-url or access-token login file, as sf writes it.
pub const WEB_ORDER: &[&str] = &[
    "accessToken",
    "instanceUrl",
    "orgId",
    "username",
    "loginUrl",
    "refreshToken",
    "clientId",
    "clientSecret",
    "isDevHub",
    "instanceApiVersion",
    "instanceApiVersionLastRetrieved",
    "name",
    "instanceName",
    "namespacePrefix",
    "isSandbox",
    "isScratch",
    "trailExpirationDate",
    "orgEdition",
];

/// Key order of a new JWT login file, as sf writes it.
pub const JWT_ORDER: &[&str] = &[
    "accessToken",
    "orgId",
    "loginUrl",
    "privateKey",
    "clientId",
    "instanceUrl",
    "isDevHub",
    "username",
    "instanceApiVersion",
    "instanceApiVersionLastRetrieved",
    "name",
    "instanceName",
    "namespacePrefix",
    "isSandbox",
    "isScratch",
    "trailExpirationDate",
    "orgEdition",
];

/// How the org was authorized, as `org list auth` derives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthMethod {
    Web,
    Jwt,
    Token,
}

impl OAuthMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            OAuthMethod::Web => "web",
            OAuthMethod::Jwt => "jwt",
            OAuthMethod::Token => "token",
        }
    }
}

/// Decrypted contents of an auth file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuthFile {
    fields: Map<String, Value>,
    /// Top-level keys set or removed since the file was read, in order.
    changed: Vec<String>,
    /// True when this value was read from disk (a new file gets sf's canonical key order on first write).
    from_disk: bool,
}

macro_rules! str_field {
    ($get:ident, $set:ident, $key:literal) => {
        #[doc = concat!("`", $key, "`")]
        #[allow(dead_code)] // the full sf field set; not every accessor has a caller in every build
        pub fn $get(&self) -> Option<&str> {
            self.get_str($key)
        }
        #[doc = concat!("Sets `", $key, "`.")]
        #[allow(dead_code)]
        pub fn $set(&mut self, value: impl Into<String>) -> &mut Self {
            self.set($key, Value::String(value.into()))
        }
    };
}

macro_rules! bool_field {
    ($get:ident, $set:ident, $key:literal) => {
        #[doc = concat!("`", $key, "` (false when absent)")]
        #[allow(dead_code)]
        pub fn $get(&self) -> bool {
            self.fields
                .get($key)
                .and_then(Value::as_bool)
                .unwrap_or(false)
        }
        #[doc = concat!("Sets `", $key, "`.")]
        #[allow(dead_code)]
        pub fn $set(&mut self, value: bool) -> &mut Self {
            self.set($key, Value::Bool(value))
        }
    };
}

impl AuthFile {
    /// An empty, new auth file. Set fields in any order; the first write puts them in sf's order.
    pub fn new() -> Self {
        Self::default()
    }

    /// From decrypted fields read from disk.
    pub(crate) fn from_disk(fields: Map<String, Value>) -> Self {
        AuthFile {
            fields,
            changed: Vec::new(),
            from_disk: true,
        }
    }

    /// All fields in order (decrypted).
    pub fn fields(&self) -> &Map<String, Value> {
        &self.fields
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.fields.get(key)
    }

    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.fields.get(key).and_then(Value::as_str)
    }

    /// Sets a top-level field (keeps its position if present). Like sf, an empty secret or `null` secret unsets it.
    pub fn set(&mut self, key: &str, value: Value) -> &mut Self {
        let empty = matches!(&value, Value::Null) || value.as_str() == Some("");
        if is_secret_key(key) && empty {
            return self.remove(key);
        }
        self.fields.insert(key.to_owned(), value);
        self.mark(key);
        self
    }

    /// Removes a top-level field.
    pub fn remove(&mut self, key: &str) -> &mut Self {
        self.fields.shift_remove(key);
        self.mark(key);
        self
    }

    fn mark(&mut self, key: &str) {
        if !self.changed.iter().any(|k| k == key) {
            self.changed.push(key.to_owned());
        }
    }

    pub(crate) fn changed(&self) -> &[String] {
        &self.changed
    }

    pub(crate) fn is_from_disk(&self) -> bool {
        self.from_disk
    }

    str_field!(access_token, set_access_token, "accessToken");
    str_field!(refresh_token, set_refresh_token, "refreshToken");
    str_field!(instance_url, set_instance_url, "instanceUrl");
    str_field!(login_url, set_login_url, "loginUrl");
    str_field!(org_id, set_org_id, "orgId");
    str_field!(username, set_username, "username");
    str_field!(client_id, set_client_id, "clientId");
    str_field!(client_secret, set_client_secret, "clientSecret");
    str_field!(private_key, set_private_key, "privateKey");
    str_field!(
        instance_api_version,
        set_instance_api_version,
        "instanceApiVersion"
    );
    str_field!(
        instance_api_version_last_retrieved,
        set_instance_api_version_last_retrieved,
        "instanceApiVersionLastRetrieved"
    );
    str_field!(name, set_name, "name");
    str_field!(instance_name, set_instance_name, "instanceName");
    str_field!(org_edition, set_org_edition, "orgEdition");
    str_field!(dev_hub_username, set_dev_hub_username, "devHubUsername");
    str_field!(expiration_date, set_expiration_date, "expirationDate");
    str_field!(user_id, set_user_id, "userId");
    str_field!(password, set_password, "password");
    str_field!(created, set_created, "created");
    bool_field!(is_dev_hub, set_is_dev_hub, "isDevHub");
    bool_field!(is_sandbox, set_is_sandbox, "isSandbox");
    bool_field!(is_scratch, set_is_scratch, "isScratch");

    /// `namespacePrefix`: `None` when absent, `Some(None)` when `null`.
    #[allow(dead_code)]
    pub fn namespace_prefix(&self) -> Option<Option<&str>> {
        self.fields.get("namespacePrefix").map(Value::as_str)
    }

    /// Sets `namespacePrefix` (`None` writes `null`, which sf treats as "known, no namespace").
    pub fn set_namespace_prefix(&mut self, value: Option<&str>) -> &mut Self {
        self.set(
            "namespacePrefix",
            value.map_or(Value::Null, |v| Value::String(v.to_owned())),
        )
    }

    /// `trailExpirationDate` (sic, sf's spelling).
    pub fn trail_expiration_date(&self) -> Option<&str> {
        self.get_str("trailExpirationDate")
    }

    /// Sets `trailExpirationDate` (`None` writes `null`).
    pub fn set_trail_expiration_date(&mut self, value: Option<&str>) -> &mut Self {
        self.set(
            "trailExpirationDate",
            value.map_or(Value::Null, |v| Value::String(v.to_owned())),
        )
    }

    /// `clientApps`: linked connected apps, `{<name>: {clientId, clientSecret?, accessToken, refreshToken, oauthFlow}}`.
    pub fn client_apps(&self) -> Option<&Map<String, Value>> {
        self.fields.get("clientApps").and_then(Value::as_object)
    }

    /// Replaces `clientApps` (an empty map removes the key).
    pub fn set_client_apps(&mut self, apps: Map<String, Value>) -> &mut Self {
        if apps.is_empty() {
            self.remove("clientApps")
        } else {
            self.set("clientApps", Value::Object(apps))
        }
    }

    /// `jwt` with a private key and no refresh token, `token` with neither, `web` otherwise.
    pub fn oauth_method(&self) -> OAuthMethod {
        match (self.private_key().is_some(), self.refresh_token().is_some()) {
            (true, false) => OAuthMethod::Jwt,
            (false, false) => OAuthMethod::Token,
            _ => OAuthMethod::Web,
        }
    }

    /// The fields of a new file in sf's order for its login kind (unknown keys keep their order, at the end).
    pub(crate) fn canonical_fields(&self) -> Map<String, Value> {
        let order = match self.oauth_method() {
            OAuthMethod::Jwt => JWT_ORDER,
            _ => WEB_ORDER,
        };
        let mut out = Map::new();
        for key in order {
            if let Some(v) = self.fields.get(*key) {
                out.insert((*key).to_owned(), v.clone());
            }
        }
        for (k, v) in &self.fields {
            if !out.contains_key(k) {
                out.insert(k.clone(), v.clone());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_jwt_file_gets_sf_order() {
        let mut a = AuthFile::new();
        a.set_username("u@example.com")
            .set_instance_url("http://i")
            .set_access_token("t")
            .set_client_id("c")
            .set_private_key("/k")
            .set_login_url("http://l/")
            .set_org_id("00D")
            .set_is_dev_hub(false);
        assert_eq!(a.oauth_method(), OAuthMethod::Jwt);
        let keys: Vec<_> = a.canonical_fields().keys().cloned().collect();
        assert_eq!(
            keys,
            [
                "accessToken",
                "orgId",
                "loginUrl",
                "privateKey",
                "clientId",
                "instanceUrl",
                "isDevHub",
                "username"
            ]
        );
    }

    #[test]
    fn empty_secret_unsets() {
        let mut a = AuthFile::new();
        a.set_client_secret("s");
        a.set_client_secret("");
        assert!(a.client_secret().is_none());
        assert_eq!(a.changed(), ["clientSecret"]);
    }

    #[test]
    fn oauth_methods() {
        let mut a = AuthFile::new();
        assert_eq!(a.oauth_method(), OAuthMethod::Token);
        a.set_refresh_token("r");
        assert_eq!(a.oauth_method(), OAuthMethod::Web);
    }
}
