//! A `postgres://` database URL: the connection settings, the pool size (`pool_size=N`, ours, removed before the
//! URL reaches the driver) and a form without the password for messages.

use std::path::{Path, PathBuf};
use std::str::FromStr as _;

use crate::store::StoreError;

/// Connections per node when the URL does not say (`?pool_size=N`).
pub const DEFAULT_POOL_SIZE: usize = 8;

#[derive(Clone, PartialEq, Eq)]
pub struct PostgresUrl {
    /// What the driver gets: the URL minus our own parameters.
    conninfo: String,
    /// The URL without password, as a path-like value for messages.
    shown: PathBuf,
    pool_size: usize,
    database: String,
    /// TLS settings from `sslmode`/`sslrootcert` (ours: the driver knows neither `verify-*` nor roots).
    tls: Option<super::tls::TlsSettings>,
}

impl std::fmt::Debug for PostgresUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresUrl")
            .field("url", &self.shown)
            .field("pool_size", &self.pool_size)
            .finish()
    }
}

fn invalid(message: String) -> StoreError {
    StoreError::Invalid {
        field: "database URL",
        message,
    }
}

impl PostgresUrl {
    /// Parses `postgres://[user[:password]@]host[:port]/database[?param=value&…]` (or `postgresql://`).
    pub fn parse(raw: &str) -> Result<Self, StoreError> {
        let mut url = url::Url::parse(raw).map_err(|e| {
            invalid(format!(
                "not a PostgreSQL URL ({e}); expected postgres://USER:PASSWORD@HOST:PORT/DATABASE"
            ))
        })?;
        let database = url.path().trim_start_matches('/').to_owned();
        if database.is_empty() {
            return Err(invalid(
                "the PostgreSQL URL names no database; expected postgres://USER:PASSWORD@HOST:PORT/DATABASE"
                    .into(),
            ));
        }
        let mut pool_size = DEFAULT_POOL_SIZE;
        let mut kept = Vec::new();
        // What messages show: every parameter but ours (`pool_size`), as written.
        let mut shown_pairs = Vec::new();
        let mut ssl_mode = None;
        let mut root_cert = None;
        for (k, v) in url.query_pairs() {
            if k != "pool_size" {
                shown_pairs.push((k.clone().into_owned(), v.clone().into_owned()));
            }
            if k == "sslmode" {
                ssl_mode = Some(v.into_owned());
            } else if k == "sslrootcert" {
                root_cert = Some(v.into_owned());
            } else if k == "pool_size" {
                pool_size =
                    v.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                        invalid(format!("pool_size={v} is not a positive number"))
                    })?;
            } else {
                kept.push((k.into_owned(), v.into_owned()));
            }
        }
        let tls = match ssl_mode.as_deref() {
            None | Some("disable") | Some("prefer") => None,
            Some(mode @ ("require" | "verify-ca" | "verify-full")) => {
                Some(super::tls::TlsSettings {
                    verify_name: mode == "verify-full",
                    root_cert: root_cert
                        .as_deref()
                        .filter(|r| *r != "system")
                        .map(PathBuf::from),
                })
            }
            Some(other) => {
                return Err(invalid(format!(
                    "sslmode={other} is not supported; use disable, require (encrypted, certificate chain                      checked), verify-ca (the same) or verify-full (chain and host name checked)"
                )));
            }
        };
        if root_cert.is_some() && tls.is_none() {
            return Err(invalid(
                "sslrootcert is given but TLS is off; add sslmode=verify-full (or require)".into(),
            ));
        }
        if let Some(mode) = ssl_mode.filter(|_| tls.is_none()) {
            kept.push(("sslmode".to_owned(), mode));
        } else if tls.is_some() {
            kept.push(("sslmode".to_owned(), "require".to_owned()));
        }
        if kept.is_empty() {
            url.set_query(None);
        } else {
            url.query_pairs_mut().clear().extend_pairs(&kept);
        }
        let conninfo = url.to_string();
        tokio_postgres::Config::from_str(&conninfo)
            .map_err(|e| invalid(format!("the PostgreSQL URL is not usable: {e}")))?;
        let mut shown = url.clone();
        if shown_pairs.is_empty() {
            shown.set_query(None);
        } else {
            shown.query_pairs_mut().clear().extend_pairs(&shown_pairs);
        }
        if shown.password().is_some() {
            // Cannot fail: the URL has a host (it has a password).
            let _ = shown.set_password(Some("***"));
        }
        Ok(Self {
            conninfo,
            shown: PathBuf::from(shown.to_string()),
            pool_size,
            database,
            tls,
        })
    }

    /// TLS as the URL asks; `None`: plain TCP (`sslmode` absent, `disable` or `prefer`).
    pub fn tls(&self) -> Option<&super::tls::TlsSettings> {
        self.tls.as_ref()
    }

    /// Driver settings (the URL without `pool_size`), for the blocking and the non-blocking connections alike.
    pub fn config(&self) -> tokio_postgres::Config {
        tokio_postgres::Config::from_str(&self.conninfo).expect("checked in parse")
    }

    /// The URL with the password masked.
    pub fn shown(&self) -> &Path {
        &self.shown
    }

    pub fn pool_size(&self) -> usize {
        self.pool_size
    }

    /// The database name (the URL path).
    pub fn database(&self) -> &str {
        &self.database
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_hides_the_password() {
        let u = PostgresUrl::parse(
            "postgres://sfr:s3cret@db.example:5433/org?pool_size=3&sslmode=disable",
        )
        .unwrap();
        assert_eq!(u.pool_size(), 3);
        assert_eq!(u.database(), "org");
        let shown = u.shown().display().to_string();
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("db.example:5433/org"), "{shown}");
        assert!(!format!("{u:?}").contains("s3cret"));
        let c = u.config();
        assert_eq!(c.get_dbname(), Some("org"));
        assert_eq!(c.get_user(), Some("sfr"));
        assert_eq!(c.get_password(), Some(&b"s3cret"[..]));

        assert_eq!(
            PostgresUrl::parse("postgresql://localhost/org")
                .unwrap()
                .pool_size(),
            DEFAULT_POOL_SIZE
        );
        assert_eq!(u.tls(), None, "sslmode=disable");
        let v = PostgresUrl::parse(
            "postgres://sfr@db.example/org?sslmode=verify-full&sslrootcert=/etc/ssl/db-ca.pem",
        )
        .unwrap();
        assert_eq!(
            v.tls(),
            Some(&super::super::tls::TlsSettings {
                verify_name: true,
                root_cert: Some(PathBuf::from("/etc/ssl/db-ca.pem")),
            })
        );
        assert!(
            v.shown()
                .display()
                .to_string()
                .ends_with("?sslmode=verify-full&sslrootcert=%2Fetc%2Fssl%2Fdb-ca.pem"),
            "messages show the URL as written: {}",
            v.shown().display()
        );
        assert_eq!(
            v.config().get_ssl_mode(),
            postgres::config::SslMode::Require,
            "the driver insists on TLS"
        );
        let r = PostgresUrl::parse("postgres://db.example/org?sslmode=require&sslrootcert=system")
            .unwrap();
        assert_eq!(
            r.tls(),
            Some(&super::super::tls::TlsSettings {
                verify_name: false,
                root_cert: None,
            })
        );
        assert_eq!(
            PostgresUrl::parse("postgres://db.example/org")
                .unwrap()
                .tls(),
            None
        );
        for bad in [
            "postgres://localhost/org?sslmode=allow",
            "postgres://localhost/org?sslrootcert=/ca.pem",
            "postgres://localhost",
            "postgres://localhost/org?pool_size=0",
            "postgres://localhost/org?pool_size=x",
            "postgres://localhost/org?no_such_option=1",
        ] {
            assert!(
                matches!(PostgresUrl::parse(bad), Err(StoreError::Invalid { .. })),
                "{bad}"
            );
        }
    }
}
