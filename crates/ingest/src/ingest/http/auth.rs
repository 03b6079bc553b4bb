//! Authentication: reads the secrets named by `[http.auth]` from the environment once per pull,
//! then produces the headers / query parameters for each request (HMAC signed afresh each time).

use hmac::{Hmac, Mac};
use rand::Rng;
use sha2::Sha256;

use super::error::HttpError;
use super::spec::Auth;

/// Secrets resolved from the environment. Its `Debug` does not show them.
pub struct Credentials {
    kind: Resolved,
}

enum Resolved {
    None,
    Header {
        name: String,
        value: String,
    },
    Query {
        param: String,
        value: String,
    },
    Hmac {
        app_key: String,
        secret: String,
        app_key_header: String,
        timestamp_header: String,
        signature_header: String,
        nonce_header: Option<String>,
    },
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &self.kind {
            Resolved::None => "none",
            Resolved::Header { .. } => "header",
            Resolved::Query { .. } => "query",
            Resolved::Hmac { .. } => "hmac",
        };
        write!(f, "Credentials({kind}, secrets hidden)")
    }
}

/// What to add to one request.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct AuthParts {
    /// Headers to set.
    pub headers: Vec<(String, String)>,
    /// Query parameters to add (kept out of logged URLs by the caller).
    pub query: Vec<(String, String)>,
}

fn need(
    env: &(dyn Fn(&str) -> Option<String> + Sync),
    var: &str,
    field: &'static str,
) -> Result<String, HttpError> {
    match env(var) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(HttpError::MissingEnv {
            var: var.to_string(),
            field,
        }),
    }
}

impl Credentials {
    /// Looks up every variable `auth` names; a missing or empty one is `MissingEnv`.
    pub fn resolve(
        auth: &Auth,
        env: &(dyn Fn(&str) -> Option<String> + Sync),
    ) -> Result<Self, HttpError> {
        let kind = match auth {
            Auth::None => Resolved::None,
            Auth::Bearer { token_env } => Resolved::Header {
                name: "Authorization".into(),
                value: format!("Bearer {}", need(env, token_env, "token_env")?),
            },
            Auth::Header { header, value_env } => Resolved::Header {
                name: header.clone(),
                value: need(env, value_env, "value_env")?,
            },
            Auth::Query { param, value_env } => Resolved::Query {
                param: param.clone(),
                value: need(env, value_env, "value_env")?,
            },
            Auth::Hmac {
                app_key_env,
                secret_env,
                app_key_header,
                timestamp_header,
                signature_header,
                nonce_header,
            } => Resolved::Hmac {
                app_key: need(env, app_key_env, "app_key_env")?,
                secret: need(env, secret_env, "secret_env")?,
                app_key_header: app_key_header.clone(),
                timestamp_header: timestamp_header.clone(),
                signature_header: signature_header.clone(),
                nonce_header: nonce_header.clone(),
            },
        };
        Ok(Credentials { kind })
    }

    /// The name of the query parameter that carries a secret, if any (to keep it out of logs).
    pub fn secret_query_param(&self) -> Option<&str> {
        match &self.kind {
            Resolved::Query { param, .. } => Some(param),
            _ => None,
        }
    }

    /// Headers and query parameters for one request made at `now_ms` (Unix milliseconds).
    pub fn parts(&self, now_ms: i64) -> AuthParts {
        let mut parts = AuthParts::default();
        match &self.kind {
            Resolved::None => {}
            Resolved::Header { name, value } => parts.headers.push((name.clone(), value.clone())),
            Resolved::Query { param, value } => parts.query.push((param.clone(), value.clone())),
            Resolved::Hmac {
                app_key,
                secret,
                app_key_header,
                timestamp_header,
                signature_header,
                nonce_header,
            } => {
                let timestamp = now_ms.to_string();
                let nonce = nonce_header.as_ref().map(|_| random_nonce());
                let sig = hmac_signature(secret, app_key, &timestamp, nonce.as_deref());
                parts
                    .headers
                    .push((app_key_header.clone(), app_key.clone()));
                parts.headers.push((timestamp_header.clone(), timestamp));
                if let (Some(h), Some(n)) = (nonce_header, nonce) {
                    parts.headers.push((h.clone(), n));
                }
                parts.headers.push((signature_header.clone(), sig));
            }
        }
        parts
    }
}

fn random_nonce() -> String {
    let bytes: [u8; 16] = rand::thread_rng().gen();
    hex::encode(bytes)
}

/// Lowercase hex HMAC-SHA256 with key `secret` over `app_key + timestamp + nonce` (no
/// separators; no nonce = empty).
pub fn hmac_signature(secret: &str, app_key: &str, timestamp: &str, nonce: Option<&str>) -> String {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
    let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    mac.update(app_key.as_bytes());
    mac.update(timestamp.as_bytes());
    if let Some(n) = nonce {
        mac.update(n.as_bytes());
    }
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(var: &str) -> Option<String> {
        match var {
            "KEY" => Some("app-1".into()),
            "SECRET" => Some("s3cret".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn hmac_matches_a_known_vector() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            hmac_signature("Jefe", "what do ya want ", "for nothing?", None),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hmac_signature("Jefe", "what do ya ", "want for ", Some("nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn hmac_parts_carry_key_timestamp_nonce_and_signature() {
        let auth = Auth::Hmac {
            app_key_env: "KEY".into(),
            secret_env: "SECRET".into(),
            app_key_header: "X-App-Key".into(),
            timestamp_header: "X-Timestamp".into(),
            signature_header: "X-Signature".into(),
            nonce_header: Some("X-Nonce".into()),
        };
        let creds = Credentials::resolve(&auth, &env).unwrap();
        assert_eq!(format!("{creds:?}"), "Credentials(hmac, secrets hidden)");
        let p = creds.parts(1_718_000_000_123);
        let get = |h: &str| {
            p.headers
                .iter()
                .find(|(k, _)| k == h)
                .map(|(_, v)| v.clone())
                .unwrap()
        };
        assert_eq!(get("X-App-Key"), "app-1");
        assert_eq!(get("X-Timestamp"), "1718000000123");
        let nonce = get("X-Nonce");
        assert_eq!(nonce.len(), 32);
        assert_eq!(
            get("X-Signature"),
            hmac_signature("s3cret", "app-1", "1718000000123", Some(&nonce))
        );
    }

    #[test]
    fn missing_or_empty_variables_are_named() {
        let auth = Auth::Bearer {
            token_env: "NOPE".into(),
        };
        let err = Credentials::resolve(&auth, &env).unwrap_err();
        assert!(matches!(&err, HttpError::MissingEnv { var, field: "token_env" } if var == "NOPE"));
        assert!(err.to_string().contains("NOPE"));
        let auth = Auth::Query {
            param: "k".into(),
            value_env: "EMPTY".into(),
        };
        assert!(matches!(
            Credentials::resolve(&auth, &env),
            Err(HttpError::MissingEnv { var, .. }) if var == "EMPTY"
        ));
    }
}
