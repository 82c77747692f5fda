//! `~/.sfdx/alias.json`: `{"orgs":{"<alias>":"<username>"}}`, compact, no newline. Writes are locked.

use std::path::PathBuf;

use serde_json::{Map, Value, json};

use super::lock::FileLock;
use super::{Store, StoreError, atomic, json as sfjson};

impl Store {
    /// `~/.sfdx/alias.json`.
    pub fn alias_path(&self) -> PathBuf {
        self.sfdx_dir().join("alias.json")
    }

    /// `settle`: a reader without the lock waits out a concurrent (non-atomic) writer.
    fn read_alias_file(&self, settle: bool) -> Result<Map<String, Value>, StoreError> {
        let path = self.alias_path();
        let raw = if settle {
            Self::read_raw_settled(&path)?
        } else {
            Self::read_raw(&path)?
        };
        let mut file = raw.unwrap_or_default();
        match file.get("orgs") {
            None => {
                file.insert("orgs".into(), json!({}));
            }
            Some(Value::Object(_)) => {}
            Some(_) => {
                return Err(StoreError::Corrupt {
                    path,
                    reason: "\"orgs\" is not an object".into(),
                });
            }
        }
        Ok(file)
    }

    /// Every alias → value, in file order.
    pub fn aliases(&self) -> Result<Vec<(String, String)>, StoreError> {
        let file = self.read_alias_file(true)?;
        Ok(file
            .get("orgs")
            .and_then(Value::as_object)
            .map(|orgs| {
                orgs.iter()
                    .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// The aliases pointing at `username`, in file order.
    pub fn aliases_of(&self, username: &str) -> Result<Vec<String>, StoreError> {
        Ok(self
            .aliases()?
            .into_iter()
            .filter(|(_, v)| v == username)
            .map(|(k, _)| k)
            .collect())
    }

    /// The most recently added alias of `username` (what `org list` shows).
    pub fn alias_of(&self, username: &str) -> Result<Option<String>, StoreError> {
        Ok(self.aliases_of(username)?.pop())
    }

    /// Resolves an alias to its username; anything else is returned as given.
    pub fn resolve_username(&self, alias_or_username: &str) -> Result<String, StoreError> {
        Ok(self
            .aliases()?
            .into_iter()
            .find(|(k, _)| k == alias_or_username)
            .map(|(_, v)| v)
            .unwrap_or_else(|| alias_or_username.to_owned()))
    }

    /// Locked read-modify-write of the `orgs` map.
    pub fn update_aliases<T>(
        &self,
        change: impl FnOnce(&mut Map<String, Value>) -> T,
    ) -> Result<T, StoreError> {
        let path = self.alias_path();
        let _lock = FileLock::acquire(&path)?;
        let mut file = self.read_alias_file(false)?;
        let out = match file.get_mut("orgs") {
            Some(Value::Object(orgs)) => change(orgs),
            _ => {
                return Err(StoreError::Corrupt {
                    path,
                    reason: "\"orgs\" is not an object".into(),
                });
            }
        };
        atomic::write(
            &path,
            sfjson::compact(&Value::Object(file)).as_bytes(),
            None,
        )
        .map_err(|e| StoreError::io(&path, &e))?;
        Ok(out)
    }

    /// Sets (or moves) an alias.
    pub fn set_alias(&self, alias: &str, value: &str) -> Result<(), StoreError> {
        self.update_aliases(|orgs| {
            orgs.insert(alias.to_owned(), Value::String(value.to_owned()));
        })
    }

    /// Removes every alias pointing at `username`; returns them.
    pub fn unset_aliases_of(&self, username: &str) -> Result<Vec<String>, StoreError> {
        if self.aliases_of(username)?.is_empty() {
            return Ok(Vec::new());
        }
        self.update_aliases(|orgs| {
            let gone: Vec<String> = orgs
                .iter()
                .filter(|(_, v)| v.as_str() == Some(username))
                .map(|(k, _)| k.clone())
                .collect();
            for k in &gone {
                orgs.shift_remove(k);
            }
            gone
        })
    }
}
