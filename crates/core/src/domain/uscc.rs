//! The unified social credit code (统一社会信用代码, GB 32100-2015) and the identifiers it embeds.
//! Parsing never drops a code: a wrong check character yields a flagged value, not an error.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The 31 characters a USCC may use; a character's value is its index.
const CHARSET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
/// Weights of positions 1–17 for the final check character.
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];
/// Weights of the organisation code's first 8 characters (GB 11714).
const ORG_WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];

/// A USCC as a feed carried it, upper-cased and stripped of spaces and hyphens.
/// `valid` says whether its length, charset and check character are right.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Uscc {
    code: String,
    valid: bool,
}

impl Uscc {
    /// Cleans a raw cell; returns `None` for a blank one. Any non-blank value is kept.
    pub fn parse(raw: &str) -> Option<Uscc> {
        let code = clean(raw);
        if code.is_empty() {
            return None;
        }
        let valid = is_valid(&code);
        Some(Uscc { code, valid })
    }

    /// Rebuilds a value read back from storage.
    pub fn from_stored(code: String, valid: bool) -> Uscc {
        Uscc { code, valid }
    }

    pub fn as_str(&self) -> &str {
        &self.code
    }

    /// True when length, charset and check character are right.
    pub fn is_valid(&self) -> bool {
        self.valid
    }

    /// The 9-character organisation code (positions 9–17) of an 18-character code.
    pub fn org_code(&self) -> Option<&str> {
        if self.code.len() == 18 && self.code.is_ascii() {
            Some(&self.code[8..17])
        } else {
            None
        }
    }
}

impl fmt::Display for Uscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code)
    }
}

/// Upper-case, NFKC-ish folding of full-width ASCII, and removal of spaces and hyphens.
pub fn clean(raw: &str) -> String {
    raw.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '—' | '－' | '_'))
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

fn value(c: u8) -> Option<u32> {
    CHARSET.iter().position(|&x| x == c).map(|p| p as u32)
}

/// The check character for the first 17 characters, or `None` if one is outside the charset.
pub fn check_char(first17: &str) -> Option<char> {
    let bytes = first17.as_bytes();
    if bytes.len() != 17 {
        return None;
    }
    let mut sum = 0u32;
    for (b, w) in bytes.iter().zip(WEIGHTS) {
        sum += value(*b)? * w;
    }
    let check = (31 - sum % 31) % 31;
    Some(CHARSET[check as usize] as char)
}

/// Whether a cleaned code has 18 characters from the charset and the right check character.
pub fn is_valid(code: &str) -> bool {
    code.len() == 18 && code.is_ascii() && check_char(&code[..17]) == code[17..].chars().next()
}

/// The check character (position 9) of an 8-character organisation code body (GB 11714).
pub fn org_check_char(first8: &str) -> Option<char> {
    let bytes = first8.as_bytes();
    if bytes.len() != 8 {
        return None;
    }
    let mut sum = 0u32;
    for (b, w) in bytes.iter().zip(ORG_WEIGHTS) {
        let v = match b {
            b'0'..=b'9' => (b - b'0') as u32,
            b'A'..=b'Z' => (b - b'A') as u32 + 10,
            _ => return None,
        };
        sum += v * w;
    }
    Some(match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        d => char::from_digit(d, 10).unwrap_or('0'),
    })
}

/// The organisation code an identifier carries: positions 9–17 of an 18-character USCC,
/// positions 7–15 of an old 15-character tax registration number, or a bare 9-character code.
pub fn org_code_of(identifier: &str) -> Option<String> {
    let code = clean(identifier);
    if !code.is_ascii() {
        return None;
    }
    match code.len() {
        18 => Some(code[8..17].to_string()),
        15 => Some(code[6..15].to_string()),
        9 => Some(code),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_valid_codes_pass() {
        for c in [
            "91350100M000100Y43",
            "91110108551385082Q",
            "91440300708461136T",
            "91230184MA1BUFLT44",
            "92371000MA3MXH0E3W",
            "9135021359498494XQ",
        ] {
            let u = Uscc::parse(c).expect("non-blank");
            assert!(u.is_valid(), "{c} should be valid");
        }
    }

    #[test]
    fn wrong_check_is_kept_and_flagged() {
        let u = Uscc::parse("91350203M0001QAY9B").expect("non-blank");
        assert!(!u.is_valid());
        assert_eq!(u.as_str(), "91350203M0001QAY9B");
        let typo = Uscc::parse("91350100M000100Y44").expect("non-blank");
        assert!(!typo.is_valid());
    }

    #[test]
    fn cleaning_folds_width_case_spaces_and_hyphens() {
        let u = Uscc::parse(" ９１３５０１００ｍ000-100 Y43 ").expect("non-blank");
        assert_eq!(u.as_str(), "91350100M000100Y43");
        assert!(u.is_valid());
        assert!(Uscc::parse("   ").is_none());
    }

    #[test]
    fn letters_outside_charset_are_invalid() {
        // I, O, Z, S, V are not in the charset.
        assert!(!is_valid("91350100I000100Y43"));
        assert!(!is_valid("short"));
    }

    #[test]
    fn org_code_links_old_tax_numbers() {
        let u = Uscc::parse("91110108551385082Q").expect("non-blank");
        assert_eq!(u.org_code(), Some("551385082"));
        assert_eq!(org_code_of("110108551385082").as_deref(), Some("551385082"));
        assert_eq!(org_code_of("55138508-2").as_deref(), Some("551385082"));
    }

    #[test]
    fn org_check_matches_real_code() {
        // 551385082: body 55138508, check 2 (from a valid USCC above).
        assert_eq!(org_check_char("55138508"), Some('2'));
        assert_eq!(org_check_char("70846113"), Some('6'));
    }
}
