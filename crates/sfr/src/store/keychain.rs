//! Where the encryption key lives (spec §6.5–6.6): `~/.sfdx/key.json`, the Linux secret service through
//! `secret-tool`, or the macOS keychain through `/usr/bin/security`. Selection rules are sf's.

use std::fs;
use std::io::{ErrorKind, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use super::crypto::Crypto;
use super::{StoreError, atomic, json as sfjson};

/// Service and account sf uses for its key, in every keychain.
pub const SERVICE: &str = "sfdx";
pub const ACCOUNT: &str = "local";
#[cfg(target_os = "linux")]
const DEFAULT_SECRET_TOOL: &str = "/usr/bin/secret-tool";

/// The key store in use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// `~/.sfdx/key.json` (mode 0600).
    GenericFile(PathBuf),
    /// libsecret via the `secret-tool` binary at this path.
    SecretTool(PathBuf),
    /// macOS keychain via `/usr/bin/security`.
    #[cfg_attr(not(target_os = "macos"), allow(dead_code))]
    MacKeychain,
}

fn env_true(name: &str) -> bool {
    std::env::var(name)
        .map(|v| v.trim().eq_ignore_ascii_case("true"))
        .unwrap_or(false)
}

impl KeySource {
    /// sf's choice for this platform and environment.
    pub fn select(sfdx_dir: &Path) -> KeySource {
        let generic = KeySource::GenericFile(sfdx_dir.join("key.json"));
        if env_true("SF_USE_GENERIC_UNIX_KEYCHAIN") || env_true("SFDX_USE_GENERIC_UNIX_KEYCHAIN") {
            return generic;
        }
        #[cfg(target_os = "macos")]
        {
            KeySource::MacKeychain
        }
        #[cfg(target_os = "linux")]
        {
            let candidate = std::env::var_os("SFDX_SECRET_TOOL_PATH")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(DEFAULT_SECRET_TOOL));
            if is_executable(&candidate) {
                return KeySource::SecretTool(candidate);
            }
            generic
        }
        #[cfg(not(any(target_os = "macos", target_os = "linux")))]
        {
            generic
        }
    }

    /// Loads the key, creating and storing a new one when none exists (v1 unless `SF_CRYPTO_V2=true`).
    pub fn load_or_create(&self) -> Result<Crypto, StoreError> {
        self.load_or_create_with(env_true("SF_CRYPTO_V2"))
    }

    /// As `load_or_create`, choosing the format of a new key explicitly.
    pub fn load_or_create_with(&self, new_key_v2: bool) -> Result<Crypto, StoreError> {
        let key = match self.lookup()? {
            Some(k) => k,
            None => {
                let key = Crypto::generate_key(new_key_v2)?;
                self.store(&key)?;
                key
            }
        };
        Crypto::from_key(&key)
    }

    fn lookup(&self) -> Result<Option<String>, StoreError> {
        match self {
            KeySource::GenericFile(path) => read_key_json(path),
            KeySource::SecretTool(tool) => secret_tool_lookup(tool),
            KeySource::MacKeychain => mac_lookup(),
        }
    }

    fn store(&self, key: &str) -> Result<(), StoreError> {
        match self {
            KeySource::GenericFile(path) => write_key_json(path, key),
            KeySource::SecretTool(tool) => secret_tool_store(tool, key),
            KeySource::MacKeychain => mac_store(key),
        }
    }
}

#[cfg(target_os = "linux")]
fn is_executable(path: &Path) -> bool {
    fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

fn read_key_json(path: &Path) -> Result<Option<String>, StoreError> {
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(StoreError::io(path, &e)),
    };
    if meta.permissions().mode() & 0o777 != 0o600 {
        return Err(StoreError::KeychainInvalidPerms {
            path: path.to_path_buf(),
        });
    }
    let text = fs::read_to_string(path).map_err(|e| StoreError::io(path, &e))?;
    let v: Value = serde_json::from_str(&text).map_err(|e| StoreError::Corrupt {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    if v.get("service").and_then(Value::as_str) != Some(SERVICE)
        || v.get("account").and_then(Value::as_str) != Some(ACCOUNT)
    {
        return Err(StoreError::KeychainService {
            path: path.to_path_buf(),
        });
    }
    match v.get("key").and_then(Value::as_str) {
        Some(k) if !k.is_empty() => Ok(Some(k.to_owned())),
        _ => Err(StoreError::Corrupt {
            path: path.to_path_buf(),
            reason: "no \"key\" field".into(),
        }),
    }
}

fn write_key_json(path: &Path, key: &str) -> Result<(), StoreError> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, &e))?;
    }
    let v = json!({"account": ACCOUNT, "key": key, "service": SERVICE});
    atomic::write(path, sfjson::pretty4(&v).as_bytes(), Some(0o600))
        .map_err(|e| StoreError::io(path, &e))
}

fn keychain_failed(tool: &Path, stderr: &str) -> StoreError {
    StoreError::KeychainCommand {
        tool: tool.display().to_string(),
        response: stderr.trim().to_owned(),
    }
}

fn secret_tool_lookup(tool: &Path) -> Result<Option<String>, StoreError> {
    let out = Command::new(tool)
        .args(["lookup", "user", ACCOUNT, "domain", SERVICE])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| keychain_failed(tool, &e.to_string()))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.success() {
        let key = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        return Ok((!key.is_empty()).then_some(key));
    }
    if out.status.code() == Some(1) && stderr.trim().is_empty() {
        return Ok(None);
    }
    Err(keychain_failed(tool, &stderr))
}

fn secret_tool_store(tool: &Path, key: &str) -> Result<(), StoreError> {
    // No shell: the label keeps its single quotes, exactly as sf passes it.
    let mut child = Command::new(tool)
        .args([
            "store",
            "--label='salesforce.com'",
            "user",
            ACCOUNT,
            "domain",
            SERVICE,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| keychain_failed(tool, &e.to_string()))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(format!("{key}\n").as_bytes());
    }
    let out = child
        .wait_with_output()
        .map_err(|e| keychain_failed(tool, &e.to_string()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(keychain_failed(tool, &String::from_utf8_lossy(&out.stderr)))
    }
}

#[cfg(target_os = "macos")]
const SECURITY: &str = "/usr/bin/security";

#[cfg(target_os = "macos")]
fn mac_lookup() -> Result<Option<String>, StoreError> {
    let out = Command::new(SECURITY)
        .args(["find-generic-password", "-a", ACCOUNT, "-s", SERVICE, "-g"])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| keychain_failed(Path::new(SECURITY), &e.to_string()))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        // 44: the item could not be found.
        if out.status.code() == Some(44) {
            return Ok(None);
        }
        return Err(keychain_failed(Path::new(SECURITY), &stderr));
    }
    let key = stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("password: \""))
        .and_then(|rest| rest.strip_suffix('"'))
        .map(str::to_owned);
    Ok(key)
}

#[cfg(target_os = "macos")]
fn mac_store(key: &str) -> Result<(), StoreError> {
    let out = Command::new(SECURITY)
        .args([
            "add-generic-password",
            "-a",
            ACCOUNT,
            "-s",
            SERVICE,
            "-w",
            key,
        ])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| keychain_failed(Path::new(SECURITY), &e.to_string()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(keychain_failed(
            Path::new(SECURITY),
            &String::from_utf8_lossy(&out.stderr),
        ))
    }
}

#[cfg(not(target_os = "macos"))]
fn mac_lookup() -> Result<Option<String>, StoreError> {
    Err(StoreError::InvalidKey {
        reason: "the macOS keychain is not available on this platform".into(),
    })
}

#[cfg(not(target_os = "macos"))]
fn mac_store(_key: &str) -> Result<(), StoreError> {
    mac_lookup().map(|_| ())
}
