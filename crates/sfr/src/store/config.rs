//! sf configuration (spec §6.3): `~/.sf/config.json` (global) and `<project>/.sf/config.json` (local), each mirrored
//! to the legacy `sfdx-config.json`; resolution env > local > global.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde_json::{Map, Value};

use super::lock::FileLock;
use super::{Store, StoreError, atomic, json as sfjson};

/// The config variables `sfr` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConfigKey {
    TargetOrg,
    TargetDevHub,
    OrgInstanceUrl,
    OrgApiVersion,
}

impl ConfigKey {
    pub const ALL: [ConfigKey; 4] = [
        ConfigKey::TargetOrg,
        ConfigKey::TargetDevHub,
        ConfigKey::OrgInstanceUrl,
        ConfigKey::OrgApiVersion,
    ];

    /// The sf name (`target-org`).
    pub fn as_str(self) -> &'static str {
        match self {
            ConfigKey::TargetOrg => "target-org",
            ConfigKey::TargetDevHub => "target-dev-hub",
            ConfigKey::OrgInstanceUrl => "org-instance-url",
            ConfigKey::OrgApiVersion => "org-api-version",
        }
    }

    /// The name in the legacy `sfdx-config.json`.
    pub fn legacy_name(self) -> &'static str {
        match self {
            ConfigKey::TargetOrg => "defaultusername",
            ConfigKey::TargetDevHub => "defaultdevhubusername",
            ConfigKey::OrgInstanceUrl => "instanceUrl",
            ConfigKey::OrgApiVersion => "apiVersion",
        }
    }

    /// Environment variables, the current name first, then deprecated synonyms.
    pub fn env_names(self) -> &'static [&'static str] {
        match self {
            ConfigKey::TargetOrg => &[
                "SF_TARGET_ORG",
                "SFDX_DEFAULTUSERNAME",
                "SF_DEFAULTUSERNAME",
            ],
            ConfigKey::TargetDevHub => &[
                "SF_TARGET_DEV_HUB",
                "SFDX_DEFAULTDEVHUBUSERNAME",
                "SF_DEFAULTDEVHUBUSERNAME",
            ],
            ConfigKey::OrgInstanceUrl => &[
                "SF_ORG_INSTANCE_URL",
                "SFDX_INSTANCE_URL",
                "SF_INSTANCE_URL",
            ],
            ConfigKey::OrgApiVersion => {
                &["SF_ORG_API_VERSION", "SFDX_API_VERSION", "SF_API_VERSION"]
            }
        }
    }

    /// Deprecated environment variables that are set, with the name to use instead.
    pub fn deprecated_env_in_use() -> Vec<(&'static str, &'static str)> {
        let set = |n: &str| std::env::var_os(n).is_some_and(|v| !v.is_empty());
        ConfigKey::ALL
            .into_iter()
            .flat_map(|k| {
                let names = k.env_names();
                names[1..]
                    .iter()
                    .filter(|n| set(n))
                    .map(move |n| (*n, names[0]))
            })
            .collect()
    }

    /// Parses an sf name. Legacy names are accepted too; the flag says a deprecated name was used.
    pub fn parse(name: &str) -> Option<(ConfigKey, bool)> {
        ConfigKey::ALL
            .into_iter()
            .find(|k| k.as_str() == name)
            .map(|k| (k, false))
            .or_else(|| {
                ConfigKey::ALL
                    .into_iter()
                    .find(|k| k.legacy_name() == name)
                    .map(|k| (k, true))
            })
    }
}

/// Where a value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigLocation {
    Global,
    Local,
    Environment,
}

impl ConfigLocation {
    pub fn as_str(self) -> &'static str {
        match self {
            ConfigLocation::Global => "Global",
            ConfigLocation::Local => "Local",
            ConfigLocation::Environment => "Environment",
        }
    }
}

/// A resolved config value.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigEntry {
    pub key: String,
    pub value: Value,
    pub location: ConfigLocation,
    /// The file it came from (`None` for the environment).
    pub path: Option<PathBuf>,
}

impl ConfigEntry {
    pub fn value_str(&self) -> Option<&str> {
        self.value.as_str()
    }
}

fn mtime(path: &Path) -> Option<SystemTime> {
    fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// A config file and its legacy mirror.
struct ConfigFiles {
    sf: PathBuf,
    legacy: PathBuf,
}

impl ConfigFiles {
    /// Reads the sf file, merging the legacy mirror's known keys: the newer file wins for a key both define.
    fn read(&self) -> Result<Map<String, Value>, StoreError> {
        let mut sf = Store::read_raw(&self.sf)?.unwrap_or_default();
        let legacy = match Store::read_raw(&self.legacy) {
            Ok(l) => l.unwrap_or_default(),
            // A broken legacy mirror must not hide the real config.
            Err(_) => Map::new(),
        };
        let legacy_newer = match (mtime(&self.legacy), mtime(&self.sf)) {
            (Some(l), Some(s)) => l > s,
            (Some(_), None) => true,
            _ => false,
        };
        for key in ConfigKey::ALL {
            if let Some(v) = legacy.get(key.legacy_name())
                && (legacy_newer || !sf.contains_key(key.as_str()))
            {
                sf.insert(key.as_str().to_owned(), v.clone());
            }
        }
        Ok(sf)
    }

    /// Locked read-modify-write of both files.
    fn update(&self, change: impl FnOnce(&mut Map<String, Value>)) -> Result<(), StoreError> {
        let _lock = FileLock::acquire(&self.sf)?;
        let mut sf = self.read()?;
        let before = sf.clone();
        change(&mut sf);
        if sf == before && self.sf.exists() {
            return Ok(());
        }
        atomic::write(
            &self.sf,
            sfjson::pretty2(&Value::Object(sf.clone())).as_bytes(),
            None,
        )
        .map_err(|e| StoreError::io(&self.sf, &e))?;
        let interop = std::env::var("SF_SFDX_INTEROPERABILITY")
            .map(|v| !v.eq_ignore_ascii_case("false"))
            .unwrap_or(true);
        if interop {
            self.mirror(&sf)?;
        }
        Ok(())
    }

    fn mirror(&self, sf: &Map<String, Value>) -> Result<(), StoreError> {
        if let Some(dir) = self.legacy.parent() {
            fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, &e))?;
        }
        let _lock = FileLock::acquire(&self.legacy)?;
        let mut legacy = Store::read_raw(&self.legacy)
            .ok()
            .flatten()
            .unwrap_or_default();
        for key in ConfigKey::ALL {
            match sf.get(key.as_str()) {
                Some(v) => {
                    legacy.insert(key.legacy_name().to_owned(), v.clone());
                }
                None => {
                    legacy.shift_remove(key.legacy_name());
                }
            }
        }
        atomic::write(
            &self.legacy,
            sfjson::pretty2(&Value::Object(legacy)).as_bytes(),
            None,
        )
        .map_err(|e| StoreError::io(&self.legacy, &e))
    }
}

impl Store {
    /// The nearest ancestor of the working directory (itself included) holding `sfdx-project.json`.
    pub fn project_root(&self) -> Option<PathBuf> {
        self.cwd
            .ancestors()
            .find(|d| d.join("sfdx-project.json").is_file())
            .map(Path::to_path_buf)
    }

    /// The error for a local config operation outside any project.
    pub fn not_in_project(&self) -> StoreError {
        StoreError::NotInProject {
            dir: self.cwd.clone(),
        }
    }

    /// `~/.sf/config.json`.
    pub fn global_config_path(&self) -> PathBuf {
        self.sf_dir().join("config.json")
    }

    fn config_files(&self, global: bool) -> Result<ConfigFiles, StoreError> {
        if global {
            return Ok(ConfigFiles {
                sf: self.global_config_path(),
                legacy: self.sfdx_dir().join("sfdx-config.json"),
            });
        }
        let root = self.project_root().ok_or_else(|| self.not_in_project())?;
        Ok(ConfigFiles {
            sf: root.join(".sf").join("config.json"),
            legacy: root.join(".sfdx").join("sfdx-config.json"),
        })
    }

    /// The contents of the global or local config file (merged with its legacy mirror).
    pub fn config_file(&self, global: bool) -> Result<Map<String, Value>, StoreError> {
        match self.config_files(global) {
            Ok(files) => files.read(),
            Err(StoreError::NotInProject { .. }) => Ok(Map::new()),
            Err(e) => Err(e),
        }
    }

    /// The value of a known key: environment, then local, then global.
    pub fn config_get(&self, key: ConfigKey) -> Result<Option<ConfigEntry>, StoreError> {
        for name in key.env_names() {
            if let Ok(v) = std::env::var(name)
                && !v.is_empty()
            {
                return Ok(Some(ConfigEntry {
                    key: key.as_str().to_owned(),
                    value: Value::String(v),
                    location: ConfigLocation::Environment,
                    path: None,
                }));
            }
        }
        self.config_get_file_key(key.as_str())
    }

    /// A key from the local, then global, file (no environment).
    pub fn config_get_file_key(&self, key: &str) -> Result<Option<ConfigEntry>, StoreError> {
        for (global, location) in [
            (false, ConfigLocation::Local),
            (true, ConfigLocation::Global),
        ] {
            let Ok(files) = self.config_files(global) else {
                continue;
            };
            if let Some(v) = files.read()?.get(key) {
                return Ok(Some(ConfigEntry {
                    key: key.to_owned(),
                    value: v.clone(),
                    location,
                    path: Some(files.sf.clone()),
                }));
            }
        }
        Ok(None)
    }

    /// Every variable that is set, once each with its winning location, in sf's order (global keys, then local, then
    /// environment).
    pub fn config_list(&self) -> Result<Vec<ConfigEntry>, StoreError> {
        let mut names: Vec<String> = Vec::new();
        for global in [true, false] {
            for k in self.config_file(global)?.keys() {
                if !names.contains(k) {
                    names.push(k.clone());
                }
            }
        }
        for key in ConfigKey::ALL {
            let set_in_env = key
                .env_names()
                .iter()
                .any(|n| std::env::var(n).is_ok_and(|v| !v.is_empty()));
            if set_in_env && !names.iter().any(|n| n == key.as_str()) {
                names.push(key.as_str().to_owned());
            }
        }
        let mut out = Vec::new();
        for name in names {
            let entry = match ConfigKey::parse(&name) {
                Some((key, false)) => self.config_get(key)?,
                _ => self.config_get_file_key(&name)?,
            };
            out.extend(entry);
        }
        Ok(out)
    }

    /// Sets (`Some`) or unsets (`None`) a variable in the global or local file; returns the file written.
    /// Outside a project, a local write fails with `NotInProject`.
    pub fn set_config(
        &self,
        key: ConfigKey,
        value: Option<&str>,
        global: bool,
    ) -> Result<PathBuf, StoreError> {
        let files = self.config_files(global)?;
        files.update(|m| match value {
            Some(v) => {
                m.insert(key.as_str().to_owned(), Value::String(v.to_owned()));
            }
            None => {
                m.shift_remove(key.as_str());
            }
        })?;
        Ok(files.sf)
    }

    /// `target-org`, resolved env > local > global.
    pub fn target_org(&self) -> Result<Option<ConfigEntry>, StoreError> {
        self.config_get(ConfigKey::TargetOrg)
    }

    /// `target-dev-hub`, resolved env > local > global.
    pub fn target_dev_hub(&self) -> Result<Option<ConfigEntry>, StoreError> {
        self.config_get(ConfigKey::TargetDevHub)
    }

    /// Unsets every key, local and global, whose value is one of `names` (a username and its aliases). Returns the
    /// unset key names.
    pub fn unset_config_values_matching(&self, names: &[&str]) -> Result<Vec<String>, StoreError> {
        let mut unset = Vec::new();
        for global in [false, true] {
            let Ok(files) = self.config_files(global) else {
                continue;
            };
            let current = files.read()?;
            let matching: Vec<String> = current
                .iter()
                .filter(|(_, v)| v.as_str().is_some_and(|s| names.contains(&s)))
                .map(|(k, _)| k.clone())
                .collect();
            if matching.is_empty() {
                continue;
            }
            files.update(|m| {
                for k in &matching {
                    m.shift_remove(k);
                }
            })?;
            unset.extend(matching);
        }
        Ok(unset)
    }
}
