//! Identifiers that must not be mixed up: a township's 9-digit 统计用区划代码 is not an entity
//! id or any other text. Stored and serialised as the plain text.

use std::borrow::Borrow;
use std::fmt;

use serde::{Deserialize, Serialize};

/// A township's (乡镇、街道) 9-digit statistical division code, e.g. `350583119`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TownshipCode(String);

impl TownshipCode {
    pub fn new(code: impl Into<String>) -> TownshipCode {
        TownshipCode(code.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TownshipCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Read as its text (`&code` where a `&str` is wanted); built only on purpose (`from`).
impl std::ops::Deref for TownshipCode {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for TownshipCode {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for TownshipCode {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl From<String> for TownshipCode {
    fn from(code: String) -> TownshipCode {
        TownshipCode(code)
    }
}

impl From<&str> for TownshipCode {
    fn from(code: &str) -> TownshipCode {
        TownshipCode(code.to_string())
    }
}

impl From<TownshipCode> for String {
    fn from(code: TownshipCode) -> String {
        code.0
    }
}

impl PartialEq<str> for TownshipCode {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for TownshipCode {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_township_code_is_stored_as_its_text() {
        let c = TownshipCode::from("350583119");
        assert_eq!(c, "350583119");
        let json = serde_json_like(&c);
        assert_eq!(json, "350583119");
        let map: std::collections::HashMap<TownshipCode, u32> = [(c.clone(), 1)].into();
        assert_eq!(map.get("350583119"), Some(&1), "looked up by its text");
    }

    fn serde_json_like(c: &TownshipCode) -> String {
        toml::Value::try_from(c)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }
}
