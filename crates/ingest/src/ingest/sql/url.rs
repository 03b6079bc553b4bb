//! Connection-address handling: which database kind a URL names, and password redaction.
//! Nothing derived from a URL is ever shown except in its redacted form (`***` password).

use super::error::SqlError;

/// The kinds of 前置库 this module can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbKind {
    /// PostgreSQL (`postgres://`, `postgresql://`).
    Postgres,
    /// MySQL or MariaDB (`mysql://`, `mariadb://`).
    MySql,
    /// SQLite file (`sqlite://`, `sqlite:`).
    Sqlite,
}

/// A connection URL taken from the environment, with what is needed to hide its secrets.
#[derive(Clone)]
pub(super) struct DbUrl {
    pub kind: DbKind,
    /// The URL as handed to the driver (`mariadb://` rewritten to `mysql://`).
    pub url: String,
    /// The URL with the password replaced by `***`: the only form ever shown.
    pub redacted: String,
    /// Strings that must never appear in a message (password, raw and percent-decoded).
    secrets: Vec<String>,
}

impl std::fmt::Debug for DbUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbUrl")
            .field("kind", &self.kind)
            .field("url", &self.redacted)
            .finish()
    }
}

impl DbUrl {
    /// Recognise the database kind and work out the redacted form.
    pub fn parse(raw: &str) -> Result<DbUrl, SqlError> {
        let raw = raw.trim();
        let (redacted, secrets) = redact(raw);
        let lower = raw.to_ascii_lowercase();
        let (kind, url) = if lower.starts_with("postgres://") || lower.starts_with("postgresql://")
        {
            (DbKind::Postgres, raw.to_string())
        } else if lower.starts_with("mysql://") {
            (DbKind::MySql, raw.to_string())
        } else if lower.starts_with("mariadb://") {
            (
                DbKind::MySql,
                format!("mysql://{}", &raw["mariadb://".len()..]),
            )
        } else if lower.starts_with("sqlite:") {
            (DbKind::Sqlite, raw.to_string())
        } else {
            let scheme = redacted.split(':').next().unwrap_or_default().to_string();
            return Err(SqlError::BadUrl {
                url: redacted,
                reason: format!(
                    "unsupported scheme {scheme:?}; use postgres://, mysql://, mariadb:// or sqlite://"
                ),
            });
        };
        Ok(DbUrl {
            kind,
            url,
            redacted,
            secrets,
        })
    }

    /// Remove every secret of this URL from a driver message.
    pub fn scrub(&self, message: &str) -> String {
        let mut out = message.to_string();
        for secret in &self.secrets {
            if secret.chars().count() >= 3 {
                out = out.replace(secret.as_str(), "***");
            }
        }
        out
    }
}

/// Replace the password (user-info part and `password=` query parameters) with `***`.
/// Returns the redacted URL and the secrets that were removed.
pub(super) fn redact(raw: &str) -> (String, Vec<String>) {
    let mut secrets = Vec::new();
    let Some(scheme_end) = raw.find("://") else {
        return (raw.to_string(), secrets);
    };
    let rest_start = scheme_end + 3;
    let rest = &raw[rest_start..];
    let authority_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_len];
    let mut out = String::with_capacity(raw.len());
    out.push_str(&raw[..rest_start]);
    match authority.rfind('@') {
        Some(at) => {
            let userinfo = &authority[..at];
            match userinfo.find(':') {
                Some(colon) => {
                    let password = &userinfo[colon + 1..];
                    if !password.is_empty() {
                        secrets.push(password.to_string());
                        let decoded = percent_decode(password);
                        if decoded != password {
                            secrets.push(decoded);
                        }
                    }
                    out.push_str(&userinfo[..colon]);
                    out.push_str(":***");
                }
                None => out.push_str(userinfo),
            }
            out.push_str(&authority[at..]);
        }
        None => out.push_str(authority),
    }
    let tail = &rest[authority_len..];
    match tail.find('?') {
        Some(q) => {
            out.push_str(&tail[..=q]);
            let params = &tail[q + 1..];
            let (params, fragment) = match params.find('#') {
                Some(h) => (&params[..h], &params[h..]),
                None => (params, ""),
            };
            let mut first = true;
            for pair in params.split('&') {
                if !first {
                    out.push('&');
                }
                first = false;
                match pair.split_once('=') {
                    Some((key, value)) if is_secret_key(key) => {
                        if !value.is_empty() {
                            secrets.push(value.to_string());
                            let decoded = percent_decode(value);
                            if decoded != value {
                                secrets.push(decoded);
                            }
                        }
                        out.push_str(key);
                        out.push_str("=***");
                    }
                    _ => out.push_str(pair),
                }
            }
            out.push_str(fragment);
        }
        None => out.push_str(tail),
    }
    (out, secrets)
}

fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    key == "password" || key == "pass" || key == "pwd" || key.ends_with("password")
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_userinfo_password() {
        let (r, s) = redact("mysql://root:p%40ss@127.0.0.1:3306/test?ssl-mode=disabled");
        assert_eq!(r, "mysql://root:***@127.0.0.1:3306/test?ssl-mode=disabled");
        assert_eq!(s, vec!["p%40ss".to_string(), "p@ss".to_string()]);
    }

    #[test]
    fn redacts_query_password_and_keeps_plain_urls() {
        let (r, _) = redact("postgres://u@h/db?password=hunter22&sslmode=disable");
        assert_eq!(r, "postgres://u@h/db?password=***&sslmode=disable");
        let (r, s) = redact("sqlite:///tmp/x.db");
        assert_eq!(r, "sqlite:///tmp/x.db");
        assert!(s.is_empty());
    }

    #[test]
    fn kinds_and_scrub() {
        let u = DbUrl::parse("mariadb://a:secretpw@h/db").unwrap();
        assert_eq!(u.kind, DbKind::MySql);
        assert_eq!(u.url, "mysql://a:secretpw@h/db");
        assert_eq!(u.scrub("bad secretpw here"), "bad *** here");
        let e = DbUrl::parse("oracle://a:secretpw@h/db").unwrap_err();
        assert!(!e.to_string().contains("secretpw"), "{e}");
    }
}
