//! GB/T 4754-2017 industry codes as feeds write them (`3011`, `C3011`, `C 3011`).
//! Only the digits are kept; the 门类 letter is implied by the 大类 and dropped.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A GB/T 4754-2017 code, the one industry-code type of yingbao: a 门类 letter alone (`C`), or
/// a 大类 (2 digits), 中类 (3) or 小类 (4) code, kept as its digits (the letter is implied).
/// Stored as that text; `parse` checks it, so a stored value of an older run is read as it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct IndustryCode(String);

/// Why a text is not a GB/T 4754-2017 code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("empty industry code")]
    Empty,
    #[error("`{0}` is not a GB/T 4754-2017 code (a letter A–T and/or 2–4 digits)")]
    Malformed(String),
    #[error("unknown 门类 `{0}` (GB/T 4754-2017 uses A–T)")]
    UnknownSection(char),
    #[error("unknown 大类 {0:02} (GB/T 4754-2017 uses 01–97)")]
    UnknownDivision(u8),
    #[error("门类 {given} does not match 大类 {division:02}, which belongs to 门类 {expected}")]
    SectionMismatch {
        given: char,
        division: u8,
        expected: char,
    },
}

impl IndustryCode {
    /// Accepts `3011`, `C3011`, `c 3011`, `C`, full-width letters and digits; `None` for
    /// anything else (see `parse_checked` for why).
    pub fn parse(raw: &str) -> Option<IndustryCode> {
        IndustryCode::parse_checked(raw).ok()
    }

    /// Parses a code: whitespace and width folded, case ignored; the 大类 must exist (01–97)
    /// and a letter given with digits must be the 大类's 门类.
    pub fn parse_checked(raw: &str) -> Result<IndustryCode, CodeError> {
        let folded: String = raw
            .chars()
            .map(|c| match c {
                '\u{FF10}'..='\u{FF19}' | '\u{FF21}'..='\u{FF3A}' | '\u{FF41}'..='\u{FF5A}' => {
                    char::from_u32(c as u32 - 0xFEE0).unwrap_or(c)
                }
                _ => c,
            })
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let mut chars = folded.chars();
        let first = chars.next().ok_or(CodeError::Empty)?;
        let (letter, digits) = if first.is_ascii_alphabetic() {
            (Some(first), chars.as_str())
        } else {
            (None, folded.as_str())
        };
        if let Some(l) = letter {
            if !('A'..='T').contains(&l) {
                return Err(CodeError::UnknownSection(l));
            }
            if digits.is_empty() {
                return Ok(IndustryCode(l.to_string()));
            }
        }
        if !(2..=4).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CodeError::Malformed(raw.to_string()));
        }
        let division: u8 = digits
            .get(..2)
            .and_then(|d| d.parse().ok())
            .ok_or_else(|| CodeError::Malformed(raw.to_string()))?;
        let expected = section_of_division(division).ok_or(CodeError::UnknownDivision(division))?;
        match letter {
            Some(given) if given != expected => Err(CodeError::SectionMismatch {
                given,
                division,
                expected,
            }),
            _ => Ok(IndustryCode(digits.to_string())),
        }
    }

    /// The code as stored and shown: its digits, or the 门类 letter alone.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The digits (empty for a 门类 alone), for prefix tables such as the risk catalogue.
    pub fn digits(&self) -> &str {
        if self.0.bytes().all(|b| b.is_ascii_digit()) {
            &self.0
        } else {
            ""
        }
    }

    /// The 大类 (01–97), unless only a 门类 is known.
    pub fn division(&self) -> Option<u8> {
        self.digits().get(..2).and_then(|d| d.parse().ok())
    }

    /// The 中类 (3 digits), when given.
    pub fn group(&self) -> Option<u16> {
        self.digits().get(..3).and_then(|d| d.parse().ok())
    }

    /// The 小类 (4 digits), when given.
    pub fn class(&self) -> Option<u16> {
        self.digits().get(..4).and_then(|d| d.parse().ok())
    }

    /// The 门类 letter: given alone, or implied by the 大类 (`T` for a stored 大类 outside
    /// 01–97, which `parse` no longer accepts).
    pub fn section(&self) -> char {
        match self.division() {
            Some(d) => section_of_division(d).unwrap_or('T'),
            None => self.0.chars().next().unwrap_or('T'),
        }
    }
}

/// 门类 of a 大类 (01–97) in GB/T 4754-2017; `None` outside 01–97.
pub fn section_of_division(division: u8) -> Option<char> {
    let section = match division {
        1..=5 => 'A',
        6..=12 => 'B',
        13..=43 => 'C',
        44..=46 => 'D',
        47..=50 => 'E',
        51..=52 => 'F',
        53..=60 => 'G',
        61..=62 => 'H',
        63..=65 => 'I',
        66..=69 => 'J',
        70 => 'K',
        71..=72 => 'L',
        73..=75 => 'M',
        76..=79 => 'N',
        80..=82 => 'O',
        83 => 'P',
        84..=85 => 'Q',
        86..=90 => 'R',
        91..=96 => 'S',
        97 => 'T',
        _ => return None,
    };
    Some(section)
}

impl fmt::Display for IndustryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letter_prefix_and_width_are_folded() {
        assert_eq!(
            IndustryCode::parse("C3011").map(|c| c.0),
            Some("3011".into())
        );
        assert_eq!(
            IndustryCode::parse("3011").map(|c| c.0),
            Some("3011".into())
        );
        assert_eq!(
            IndustryCode::parse("ｃ ３０１").map(|c| c.0),
            Some("301".into())
        );
        assert_eq!(IndustryCode::parse("c").map(|c| c.0), Some("C".into()));
        assert_eq!(IndustryCode::parse("30111"), None);
        assert_eq!(IndustryCode::parse("水泥"), None);
    }

    /// One set of rules for every use: a letter that contradicts the digits, an unknown 大类
    /// or 门类 is not a code.
    #[test]
    fn contradictions_and_unknown_parts_are_refused_with_why() {
        assert_eq!(
            IndustryCode::parse_checked("B3011"),
            Err(CodeError::SectionMismatch {
                given: 'B',
                division: 30,
                expected: 'C'
            })
        );
        assert_eq!(
            IndustryCode::parse_checked("99"),
            Err(CodeError::UnknownDivision(99))
        );
        assert_eq!(
            IndustryCode::parse_checked("Z"),
            Err(CodeError::UnknownSection('Z'))
        );
        assert_eq!(IndustryCode::parse_checked(" "), Err(CodeError::Empty));
        let c = IndustryCode::parse_checked("C3011").expect("code");
        assert_eq!(
            (c.section(), c.division(), c.group(), c.class()),
            ('C', Some(30), Some(301), Some(3011))
        );
        let letter = IndustryCode::parse_checked("b").expect("code");
        assert_eq!(
            (letter.section(), letter.division(), letter.digits()),
            ('B', None, "")
        );
    }

    #[test]
    fn section_follows_division() {
        assert_eq!(IndustryCode::parse("0610").map(|c| c.section()), Some('B'));
        assert_eq!(IndustryCode::parse("3011").map(|c| c.section()), Some('C'));
        assert_eq!(IndustryCode::parse("5211").map(|c| c.section()), Some('F'));
    }
}
