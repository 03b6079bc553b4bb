//! GB/T 4754-2017 industry codes as feeds write them (`3011`, `C3011`, `C 3011`).
//! Only the digits are kept; the 门类 letter is implied by the 大类 and dropped.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A 大类 (2 digits), 中类 (3) or 小类 (4) code, stored as its digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct IndustryCode(String);

impl IndustryCode {
    /// Accepts `3011`, `C3011`, `c 3011`, full-width digits; rejects anything else.
    pub fn parse(raw: &str) -> Option<IndustryCode> {
        let folded: String = raw
            .chars()
            .map(|c| match c {
                '\u{FF10}'..='\u{FF19}' | '\u{FF21}'..='\u{FF3A}' | '\u{FF41}'..='\u{FF5A}' => {
                    char::from_u32(c as u32 - 0xFEE0).unwrap_or(c)
                }
                _ => c,
            })
            .filter(|c| !c.is_whitespace())
            .collect();
        let digits = match folded.chars().next() {
            Some(c) if c.is_ascii_alphabetic() => &folded[1..],
            _ => folded.as_str(),
        };
        if (2..=4).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit()) {
            Some(IndustryCode(digits.to_string()))
        } else {
            None
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 大类 (first two digits).
    pub fn division(&self) -> &str {
        &self.0[..2]
    }

    /// The 门类 letter implied by the 大类, per GB/T 4754-2017.
    pub fn section(&self) -> char {
        let d: u8 = self.0[..2].parse().unwrap_or(0);
        section_of_division(d).unwrap_or('T')
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
        assert_eq!(IndustryCode::parse("C"), None);
        assert_eq!(IndustryCode::parse("30111"), None);
        assert_eq!(IndustryCode::parse("水泥"), None);
    }

    #[test]
    fn section_follows_division() {
        assert_eq!(IndustryCode::parse("0610").map(|c| c.section()), Some('B'));
        assert_eq!(IndustryCode::parse("3011").map(|c| c.section()), Some('C'));
        assert_eq!(IndustryCode::parse("5211").map(|c| c.section()), Some('F'));
    }
}
