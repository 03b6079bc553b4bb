//! Identifiers that must not be mixed up: a township's 9-digit 统计用区划代码 is not an entity
//! id or any other text. Stored and serialised as the plain text.

use std::borrow::Borrow;
use std::fmt;

use serde::{Deserialize, Serialize};

/// A text identifier of one kind: stored and serialised as its text, read as `&str`, built only
/// on purpose (`from`), so one kind of id cannot be passed where another is wanted.
macro_rules! text_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn new(id: impl Into<String>) -> $name {
                $name(id.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> $name {
                $name(id)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> $name {
                $name(id.to_string())
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

text_id!(
    /// A township's (乡镇、街道) 9-digit statistical division code, e.g. `350583119`.
    TownshipCode
);

text_id!(
    /// An employer's (entity's) stable id: `E` and 12 hex digits of the hash of its smallest
    /// record identity (`E1a2b3c4d5e6f`, `-2` … on a collision), kept across runs.
    EntityId
);

text_id!(
    /// A lead's stable id: its kind's prefix and its entity's id (`LE1a2b…`, `XE1a2b…`).
    LeadId
);

#[cfg(test)]
mod tests {
    use super::*;

    /// Serialised as a serde value: the plain text.
    fn as_text<T: Serialize>(id: &T) -> String {
        toml::Value::try_from(id)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }

    #[test]
    fn an_id_is_stored_as_its_text_and_looked_up_by_it() {
        let c = TownshipCode::from("350583119");
        assert_eq!(c, "350583119");
        assert_eq!(as_text(&c), "350583119");
        let map: std::collections::HashMap<TownshipCode, u32> = [(c.clone(), 1)].into();
        assert_eq!(map.get("350583119"), Some(&1), "looked up by its text");
        let lead = LeadId::from("LE1a2b-HF");
        assert_eq!(as_text(&lead), "LE1a2b-HF");
        assert_eq!(String::from(lead), "LE1a2b-HF");
    }
}
