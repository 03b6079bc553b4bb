//! Byte-to-text decoding according to `sql.encoding` (UTF-8 or GBK/GB18030).
//! Also repairs GBK bytes that MySQL re-labelled as latin1 and transcoded to UTF-8.

use super::spec::TextEncoding;
use encoding_rs::{GB18030, WINDOWS_1252};

/// Decode bytes that carry no character set of their own (BLOB, BINARY, bytea) with the
/// configured encoding. UTF-8 must be valid; GBK is decoded as GB18030 (a superset).
pub fn decode_raw(bytes: &[u8], encoding: TextEncoding) -> Result<String, String> {
    match encoding {
        TextEncoding::Utf8 => match std::str::from_utf8(bytes) {
            Ok(s) => Ok(s.to_string()),
            Err(_) => Err(
                "bytes are not valid UTF-8; if the column holds GBK text set encoding = \"gbk\""
                    .to_string(),
            ),
        },
        TextEncoding::Gbk => GB18030
            .decode_without_bom_handling_and_without_replacement(bytes)
            .map(|s| s.into_owned())
            .ok_or_else(|| "bytes are not valid GBK/GB18030 text".to_string()),
    }
}

/// Decode bytes that should be UTF-8 text (SQLite TEXT): valid UTF-8 is taken as it is,
/// anything else is decoded with the configured encoding.
pub fn decode_text(bytes: &[u8], encoding: TextEncoding) -> Result<String, String> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(s.to_string()),
        Err(_) => decode_raw(bytes, encoding),
    }
}

/// Decode a MySQL column the server flags as binary. MariaDB/MySQL give the same flag to
/// true binary strings (VARBINARY, BLOB, `CAST(x AS BINARY)`) and to text columns with a
/// `_bin` collation (e.g. `utf8mb4_bin`), and sqlx does not expose the character set that
/// would tell them apart. Under `gbk`, bytes that are valid UTF-8 and read as Chinese text
/// (every non-ASCII character a CJK ideograph or CJK/fullwidth/general punctuation) are taken
/// as UTF-8; everything else is decoded as GB18030. (GBK `女` = C5 AE is valid UTF-8 `Ů`,
/// which is not CJK, so it is correctly decoded as GBK.)
pub fn decode_mysql_binary(bytes: &[u8], encoding: TextEncoding) -> Result<String, String> {
    if encoding == TextEncoding::Gbk {
        if let Ok(s) = std::str::from_utf8(bytes) {
            if !s.is_ascii() && s.chars().all(|c| c.is_ascii() || is_cjk_text(c)) {
                return Ok(s.to_string());
            }
        }
    }
    decode_raw(bytes, encoding)
}

fn is_cjk_text(c: char) -> bool {
    matches!(c,
        '\u{4E00}'..='\u{9FFF}'     // CJK unified ideographs
        | '\u{3400}'..='\u{4DBF}'   // extension A
        | '\u{3000}'..='\u{303F}'   // CJK symbols and punctuation
        | '\u{FF00}'..='\u{FFEF}'   // fullwidth forms
        | '\u{2000}'..='\u{206F}') // general punctuation (“ ” — …)
}

/// MySQL sends a `latin1` column as UTF-8 after converting every byte as if it were a
/// latin1 (= windows-1252) character. When such a column really holds GBK bytes the result
/// is mojibake such as `ÄÏ°²ÊÐ`. This maps the characters back to their original bytes and
/// decodes those as GB18030. Returns `None` (keep the text unchanged) unless every character
/// maps back to a single latin1 byte, at least one byte is non-ASCII, and the bytes are valid
/// GB18030 — so genuine Chinese UTF-8 text and plain ASCII are never touched.
pub fn repair_latin1_gbk(text: &str) -> Option<String> {
    if text.is_ascii() {
        return None;
    }
    let (bytes, _, had_unmappable) = WINDOWS_1252.encode(text);
    if had_unmappable {
        return None;
    }
    GB18030
        .decode_without_bom_handling_and_without_replacement(&bytes)
        .map(|s| s.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAME: &str = "南安市华兴陶瓷有限公司";

    #[test]
    fn gbk_round_trips() {
        let (gbk, _, _) = GB18030.encode(NAME);
        assert_eq!(decode_raw(&gbk, TextEncoding::Gbk).unwrap(), NAME);
        assert!(decode_raw(&gbk, TextEncoding::Utf8).is_err());
        assert_eq!(decode_text(&gbk, TextEncoding::Gbk).unwrap(), NAME);
        assert_eq!(
            decode_text(NAME.as_bytes(), TextEncoding::Gbk).unwrap(),
            NAME
        );
    }

    #[test]
    fn repairs_latin1_mojibake_only() {
        let (gbk, _, _) = GB18030.encode(NAME);
        let (mojibake, _, _) = WINDOWS_1252.decode(&gbk);
        assert_eq!(repair_latin1_gbk(&mojibake).as_deref(), Some(NAME));
        assert_eq!(repair_latin1_gbk(NAME), None);
        assert_eq!(repair_latin1_gbk("plain ascii"), None);
    }

    #[test]
    fn mysql_binary_prefers_cjk_utf8_under_gbk() {
        let (gbk, _, _) = GB18030.encode(NAME);
        assert_eq!(decode_mysql_binary(&gbk, TextEncoding::Gbk).unwrap(), NAME);
        assert_eq!(
            decode_mysql_binary(NAME.as_bytes(), TextEncoding::Gbk).unwrap(),
            NAME
        );
        assert_eq!(
            decode_mysql_binary(&[0xC5, 0xAE], TextEncoding::Gbk).unwrap(),
            "女"
        );
        assert_eq!(
            decode_mysql_binary(b"abc", TextEncoding::Gbk).unwrap(),
            "abc"
        );
        assert!(decode_mysql_binary(&gbk, TextEncoding::Utf8).is_err());
    }
}
