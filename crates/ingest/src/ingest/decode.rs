//! Bytes of a text export → UTF-8 text: UTF-8 (BOM stripped), UTF-16 with its BOM (Excel's
//! "Unicode text"), or a legacy Chinese encoding (GBK/GB18030, or Big5 as `chardetng` tells).
//! Never fails: malformed sequences become U+FFFD and are counted, so the caller can warn.

use std::borrow::Cow;
use std::fmt;

use chardetng::{EncodingDetector, Iso2022JpDetection, Utf8Detection};
use encoding_rs::{DecoderResult, BIG5, GB18030, UTF_8};
use serde::{Deserialize, Serialize};

use crate::ingest::spec::Encoding;

/// The encoding a file was read with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TextEncoding {
    Utf8,
    /// UTF-8 that started with a byte-order mark (stripped).
    Utf8Bom,
    /// GBK as configured, decoded with GB18030 (its superset).
    Gbk,
    Gb18030,
    /// UTF-16 little-endian, found by its byte-order mark (stripped).
    Utf16Le,
    /// UTF-16 big-endian, found by its byte-order mark (stripped).
    Utf16Be,
    /// Big5 (traditional Chinese), as `chardetng` judged text that is not UTF-8.
    Big5,
}

impl TextEncoding {
    pub fn as_str(self) -> &'static str {
        match self {
            TextEncoding::Utf8 => "utf-8",
            TextEncoding::Utf8Bom => "utf-8-bom",
            TextEncoding::Gbk => "gbk",
            TextEncoding::Gb18030 => "gb18030",
            TextEncoding::Utf16Le => "utf-16le",
            TextEncoding::Utf16Be => "utf-16be",
            TextEncoding::Big5 => "big5",
        }
    }
}

impl fmt::Display for TextEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Decoded text, borrowed when the input already was valid UTF-8.
#[derive(Debug)]
pub struct Decoded<'a> {
    pub text: Cow<'a, str>,
    pub encoding: TextEncoding,
    /// Malformed byte sequences replaced by U+FFFD (0 unless an encoding was forced wrongly).
    pub malformed: usize,
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// How much of a file `chardetng` reads to tell GB18030 from Big5: enough for the tables of
/// this county's feeds, without a second pass over a file of hundreds of megabytes.
const SNIFF_BYTES: usize = 256 * 1024;

/// Decodes `bytes` as `wanted` says. `Auto`: a UTF-16 byte-order mark says UTF-16 (whatever
/// is configured: no other encoding starts so), valid UTF-8 (with or without BOM) is UTF-8;
/// anything else is a legacy encoding that [`guess_legacy`] picks (GB18030 unless Big5).
pub fn decode(bytes: &[u8], wanted: Encoding) -> Decoded<'_> {
    if let Some((utf16, bom_len)) = encoding_rs::Encoding::for_bom(bytes)
        .filter(|(e, _)| *e == encoding_rs::UTF_16LE || *e == encoding_rs::UTF_16BE)
    {
        let (text, malformed) = decode_counting(&bytes[bom_len..], utf16);
        return Decoded {
            text: Cow::Owned(text),
            encoding: if utf16 == encoding_rs::UTF_16LE {
                TextEncoding::Utf16Le
            } else {
                TextEncoding::Utf16Be
            },
            malformed,
        };
    }
    let (body, had_bom) = match bytes.strip_prefix(BOM) {
        Some(rest) => (rest, true),
        None => (bytes, false),
    };
    let utf8 = if had_bom {
        TextEncoding::Utf8Bom
    } else {
        TextEncoding::Utf8
    };
    match wanted {
        // A BOM says UTF-8 even if some bytes after it are broken.
        Encoding::Auto if had_bom => decode(bytes, Encoding::Utf8),
        Encoding::Auto => match std::str::from_utf8(body) {
            Ok(text) => Decoded {
                text: Cow::Borrowed(text),
                encoding: utf8,
                malformed: 0,
            },
            Err(_) => {
                let (legacy, encoding) = guess_legacy(bytes);
                let (text, malformed) = decode_counting(bytes, legacy);
                Decoded {
                    text: Cow::Owned(text),
                    encoding,
                    malformed,
                }
            }
        },
        Encoding::Utf8 => match std::str::from_utf8(body) {
            Ok(text) => Decoded {
                text: Cow::Borrowed(text),
                encoding: utf8,
                malformed: 0,
            },
            Err(_) => {
                let (text, malformed) = decode_counting(body, UTF_8);
                Decoded {
                    text: Cow::Owned(text),
                    encoding: utf8,
                    malformed,
                }
            }
        },
        Encoding::Gbk | Encoding::Gb18030 => {
            let (text, malformed) = decode_counting(bytes, GB18030);
            Decoded {
                text: Cow::Owned(text),
                encoding: if wanted == Encoding::Gbk {
                    TextEncoding::Gbk
                } else {
                    TextEncoding::Gb18030
                },
                malformed,
            }
        }
    }
}

/// The legacy encoding of text that is not UTF-8, as `chardetng` judges its first
/// [`SNIFF_BYTES`]. Only the encodings a Chinese government export can be in are taken: Big5
/// when the detector says so, GB18030 (the superset of GBK) for everything else — including
/// its guesses of Korean, Japanese or single-byte encodings, which here are misreadings of
/// short GBK text. No top-level domain is given: with `.cn` the detector answers GBK even
/// for Big5, which would leave nothing to detect.
fn guess_legacy(bytes: &[u8]) -> (&'static encoding_rs::Encoding, TextEncoding) {
    let mut detector = EncodingDetector::new(Iso2022JpDetection::Deny);
    let sample = &bytes[..bytes.len().min(SNIFF_BYTES)];
    detector.feed(sample, sample.len() == bytes.len());
    if detector.guess(None, Utf8Detection::Deny) == BIG5 {
        (BIG5, TextEncoding::Big5)
    } else {
        (GB18030, TextEncoding::Gb18030)
    }
}

/// Decodes without BOM sniffing, replacing and counting malformed sequences.
fn decode_counting(bytes: &[u8], encoding: &'static encoding_rs::Encoding) -> (String, usize) {
    let mut decoder = encoding.new_decoder_without_bom_handling();
    let cap = decoder
        .max_utf8_buffer_length_without_replacement(bytes.len())
        .unwrap_or(bytes.len() * 3)
        .saturating_add(16);
    let mut out = String::with_capacity(cap);
    let mut input = bytes;
    let mut malformed = 0;
    loop {
        let (result, read) = decoder.decode_to_string_without_replacement(input, &mut out, true);
        input = &input[read..];
        match result {
            DecoderResult::InputEmpty => break,
            DecoderResult::OutputFull => out.reserve(input.len().saturating_mul(3).max(64)),
            DecoderResult::Malformed(_, _) => {
                malformed += 1;
                out.push('\u{FFFD}');
            }
        }
    }
    (out, malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "统一社会信用代码,单位名称\n91350100M000100Y43,南安市华兴陶瓷有限公司\n";

    #[test]
    fn utf8_with_and_without_bom() {
        let d = decode(TEXT.as_bytes(), Encoding::Auto);
        assert_eq!(
            (d.text.as_ref(), d.encoding, d.malformed),
            (TEXT, TextEncoding::Utf8, 0)
        );
        let mut bom = BOM.to_vec();
        bom.extend_from_slice(TEXT.as_bytes());
        let d = decode(&bom, Encoding::Auto);
        assert_eq!((d.text.as_ref(), d.encoding), (TEXT, TextEncoding::Utf8Bom));
        let d = decode(&bom, Encoding::Utf8);
        assert_eq!((d.text.as_ref(), d.encoding), (TEXT, TextEncoding::Utf8Bom));
    }

    #[test]
    fn gbk_and_gb18030() {
        let (gbk, _, unmappable) = encoding_rs::GBK.encode(TEXT);
        assert!(!unmappable);
        let d = decode(&gbk, Encoding::Auto);
        assert_eq!(
            (d.text.as_ref(), d.encoding, d.malformed),
            (TEXT, TextEncoding::Gb18030, 0)
        );
        let d = decode(&gbk, Encoding::Gbk);
        assert_eq!((d.text.as_ref(), d.encoding), (TEXT, TextEncoding::Gbk));
        // U+20BB7 exists only in GB18030 (a four-byte sequence).
        let rare = "𠮷野家餐饮店,€";
        let (bytes, _, unmappable) = GB18030.encode(rare);
        assert!(!unmappable);
        let d = decode(&bytes, Encoding::Auto);
        assert_eq!((d.text.as_ref(), d.encoding), (rare, TextEncoding::Gb18030));
    }

    /// A Big5 export (Taiwan, Hong Kong, old traditional-Chinese systems): the previous
    /// rule (not UTF-8, so GB18030) read it as GB18030 without a single malformed byte but as
    /// nonsense, since Big5's bytes are nearly all valid GBK too; `chardetng` tells them apart.
    #[test]
    fn big5_is_told_from_gbk() {
        let text = "統一社會信用代碼,單位名稱,地址\n\
                    91350100M000100Y43,臺灣精密鑄造股份有限公司,臺北市中正區重慶南路一段\n\
                    91350583MA2XN1K26D,香港國際貿易有限公司,九龍灣宏開道\n";
        let (big5, _, unmappable) = BIG5.encode(text);
        assert!(!unmappable);
        let (as_gbk, _, gbk_malformed) = GB18030.decode(&big5);
        assert!(
            !gbk_malformed && as_gbk != text,
            "Big5 passes for GBK: {as_gbk}"
        );
        let d = decode(&big5, Encoding::Auto);
        assert_eq!(
            (d.text.as_ref(), d.encoding, d.malformed),
            (text, TextEncoding::Big5, 0)
        );
        // A configured encoding is taken as configured.
        let d = decode(&big5, Encoding::Gb18030);
        assert_eq!(d.encoding, TextEncoding::Gb18030);
        // A file longer than the detector reads is judged by its beginning, and all of it
        // is decoded.
        let long = text.repeat(SNIFF_BYTES / big5.len() + 2);
        let (big5, _, _) = BIG5.encode(&long);
        assert!(big5.len() > SNIFF_BYTES);
        let d = decode(&big5, Encoding::Auto);
        assert_eq!(
            (d.text.as_ref(), d.encoding, d.malformed),
            (long.as_str(), TextEncoding::Big5, 0)
        );
        let (gbk, _, _) = encoding_rs::GBK.encode(&long);
        let d = decode(&gbk, Encoding::Auto);
        assert_eq!(
            (d.text.as_ref(), d.encoding, d.malformed),
            (long.as_str(), TextEncoding::Gb18030, 0)
        );
    }

    /// Simplified-Chinese GBK whose bytes are also valid Big5 stays GB18030, and so does
    /// short text the detector calls Korean or Cyrillic (厂, 陈, 石材).
    #[test]
    fn gbk_is_not_taken_for_big5_or_other_legacy_encodings() {
        for text in [
            "单位名称,地址\n南安市水头镇石材加工厂,水头镇朴里村\n",
            "统一社会信用代码,单位名称,法定代表人,注册地址,行业\n\
             91350583MA2XN1K26D,南安市华兴陶瓷有限公司,陈建国,福建省泉州市南安市官桥镇,陶瓷制品制造\n",
            "名称\n厂\n",
            "陈",
            "厂",
            "石材",
        ] {
            let (gbk, _, unmappable) = encoding_rs::GBK.encode(text);
            assert!(!unmappable);
            let d = decode(&gbk, Encoding::Auto);
            assert_eq!(
                (d.text.as_ref(), d.encoding, d.malformed),
                (text, TextEncoding::Gb18030, 0),
                "{text}"
            );
        }
    }

    /// Excel's "Unicode text" export: UTF-16LE with a BOM, tab-separated.
    #[test]
    fn utf16_is_found_by_its_byte_order_mark() {
        let tsv = TEXT.replace(',', "\t");
        let le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain(tsv.encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let d = decode(&le, Encoding::Auto);
        assert_eq!(
            (d.text.as_ref(), d.encoding, d.malformed),
            (tsv.as_str(), TextEncoding::Utf16Le, 0)
        );
        let be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain(tsv.encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        let d = decode(&be, Encoding::Gbk);
        assert_eq!(
            (d.text.as_ref(), d.encoding),
            (tsv.as_str(), TextEncoding::Utf16Be)
        );
    }

    #[test]
    fn forced_wrong_encoding_counts_malformed() {
        let (gbk, _, _) = encoding_rs::GBK.encode("南安市华兴陶瓷");
        let d = decode(&gbk, Encoding::Utf8);
        assert!(d.malformed > 0);
        assert!(d.text.contains('\u{FFFD}'));
        let d = decode(b"ok\xFF", Encoding::Gb18030);
        assert_eq!(d.malformed, 1);
        assert_eq!(d.text, "ok\u{FFFD}");
    }
}
