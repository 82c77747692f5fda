//! The server master key: AES-256-GCM encryption of consumer secrets and the signing key.
//!
//! Read from `SFR_ORG_KEY` (64 hex characters or base64 of 32 bytes) if set, else from the key file (created on
//! first use with mode 0600, holding 64 hex characters).

use std::path::{Path, PathBuf};

use aws_lc_rs::aead::{AES_256_GCM, Aad, NONCE_LEN, Nonce, RandomizedNonceKey};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// The environment variable that overrides the key file.
pub const KEY_ENV: &str = "SFR_ORG_KEY";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read the key file {path}: {message}")]
    Read { path: PathBuf, message: String },
    #[error("cannot create the key file {path}: {message}")]
    Write { path: PathBuf, message: String },
    #[error(
        "{source_name} does not hold a master key: expected 64 hex characters (32 bytes) or their base64"
    )]
    Malformed { source_name: String },
    #[error("decryption failed (wrong master key, or the data was altered)")]
    Decrypt,
    #[error("encryption failed")]
    Encrypt,
}

/// The master key.
pub struct Keys {
    aead: RandomizedNonceKey,
    /// Where the key came from, for messages (never the key itself).
    origin: String,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("origin", &self.origin)
            .finish()
    }
}

impl Keys {
    /// A key from raw bytes.
    pub fn from_bytes(bytes: &[u8; 32], origin: impl Into<String>) -> Self {
        Self {
            aead: RandomizedNonceKey::new(&AES_256_GCM, bytes).expect("32 bytes is an AES-256 key"),
            origin: origin.into(),
        }
    }

    /// A fresh random key that lives only in memory (tests).
    pub fn ephemeral() -> Self {
        let mut bytes = [0u8; 32];
        aws_lc_rs::rand::fill(&mut bytes).expect("system randomness");
        Self::from_bytes(&bytes, "an in-memory key")
    }

    /// `SFR_ORG_KEY` if set, else the key file (created when missing).
    pub fn load(key_file: &Path) -> Result<(Self, bool), KeyError> {
        match std::env::var(KEY_ENV) {
            Ok(value) if !value.trim().is_empty() => Ok((
                Self::from_bytes(&decode(value.trim(), KEY_ENV)?, KEY_ENV),
                false,
            )),
            _ => Self::load_or_create_file(key_file),
        }
    }

    /// Reads the key file, creating it (0600, via a temp file and rename) when missing. The bool says whether it
    /// was created.
    pub fn load_or_create_file(path: &Path) -> Result<(Self, bool), KeyError> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let name = path.display().to_string();
                Ok((Self::from_bytes(&decode(text.trim(), &name)?, name), false))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut bytes = [0u8; 32];
                aws_lc_rs::rand::fill(&mut bytes).map_err(|_| KeyError::Write {
                    path: path.to_owned(),
                    message: "no system randomness".into(),
                })?;
                match write_private(path, &format!("{}\n", hex::encode(bytes))) {
                    Ok(()) => Ok((Self::from_bytes(&bytes, path.display().to_string()), true)),
                    // Another process created the key first: use theirs.
                    Err(_) if path.exists() => Self::load_or_create_file(path),
                    Err(e) => Err(e),
                }
            }
            Err(e) => Err(KeyError::Read {
                path: path.to_owned(),
                message: e.to_string(),
            }),
        }
    }

    /// Where the key came from ("SFR_ORG_KEY" or the file path).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Encrypts; `context` is bound as associated data (e.g. `consumer_secret:<app id>`), so a ciphertext cannot
    /// be moved to another row. Output: base64(nonce ‖ ciphertext ‖ tag).
    pub fn encrypt(&self, plaintext: &[u8], context: &str) -> Result<String, KeyError> {
        let mut buf = plaintext.to_vec();
        let nonce = self
            .aead
            .seal_in_place_append_tag(Aad::from(context.as_bytes()), &mut buf)
            .map_err(|_| KeyError::Encrypt)?;
        let mut out = nonce.as_ref().to_vec();
        out.extend_from_slice(&buf);
        Ok(STANDARD.encode(out))
    }

    pub fn decrypt(&self, sealed: &str, context: &str) -> Result<Vec<u8>, KeyError> {
        let raw = STANDARD.decode(sealed).map_err(|_| KeyError::Decrypt)?;
        if raw.len() < NONCE_LEN {
            return Err(KeyError::Decrypt);
        }
        let (nonce, body) = raw.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| KeyError::Decrypt)?;
        let mut body = body.to_vec();
        let plain = self
            .aead
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut body)
            .map_err(|_| KeyError::Decrypt)?;
        Ok(plain.to_vec())
    }
}

fn decode(text: &str, source_name: &str) -> Result<[u8; 32], KeyError> {
    let malformed = || KeyError::Malformed {
        source_name: source_name.to_owned(),
    };
    let bytes = hex::decode(text)
        .ok()
        .or_else(|| STANDARD.decode(text).ok())
        .ok_or_else(malformed)?;
    bytes.try_into().map_err(|_| malformed())
}

/// Writes a file readable only by its owner, atomically (temp file in the same directory, then rename). Never
/// overwrites: if another process created the key first, this fails rather than replacing it.
fn write_private(path: &Path, contents: &str) -> Result<(), KeyError> {
    use std::io::Write as _;
    let err = |e: std::io::Error| KeyError::Write {
        path: path.to_owned(),
        message: e.to_string(),
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(err)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(err)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(err)?;
    }
    tmp.write_all(contents.as_bytes()).map_err(err)?;
    tmp.as_file().sync_all().map_err(err)?;
    // `persist_noclobber` keeps a key another process wrote first.
    tmp.persist_noclobber(path).map_err(|e| err(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_context_binding() {
        let keys = Keys::ephemeral();
        let sealed = keys.encrypt(b"s3cret", "consumer_secret:0H4").unwrap();
        assert!(!sealed.contains("s3cret"));
        assert_eq!(
            keys.decrypt(&sealed, "consumer_secret:0H4").unwrap(),
            b"s3cret"
        );
        assert_eq!(
            keys.decrypt(&sealed, "consumer_secret:other"),
            Err(KeyError::Decrypt)
        );
        assert_eq!(
            Keys::ephemeral().decrypt(&sealed, "consumer_secret:0H4"),
            Err(KeyError::Decrypt)
        );
        assert_eq!(keys.decrypt("!!", "x"), Err(KeyError::Decrypt));
    }

    #[test]
    fn key_files_are_created_private_and_reread() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("org.key");
        let (first, created) = Keys::load_or_create_file(&path).unwrap();
        assert!(created);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let sealed = first.encrypt(b"x", "c").unwrap();
        let (second, created) = Keys::load_or_create_file(&path).unwrap();
        assert!(!created);
        assert_eq!(second.decrypt(&sealed, "c").unwrap(), b"x");
        std::fs::write(&path, "short").unwrap();
        assert!(matches!(
            Keys::load_or_create_file(&path),
            Err(KeyError::Malformed { .. })
        ));
    }
}
