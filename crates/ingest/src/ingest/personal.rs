//! Finds personal numbers typed into fields that should hold employer data: a 身份证号 (GB 11643,
//! 18 or old 15 digits) or a mobile number. Never returns, logs or stores the number it finds.

use crate::domain::uscc;

/// What kind of personal number a value holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Personal {
    /// A resident ID number (居民身份证号码), 18 or 15 digits.
    IdNumber,
    /// A mainland mobile number, `1[3-9]` + 9 digits.
    MobileNumber,
}

impl Personal {
    /// What the quarantine says instead of the value.
    pub fn reason(self) -> &'static str {
        match self {
            Personal::IdNumber => "value looks like a personal ID number (身份证号); not stored",
            Personal::MobileNumber => "value looks like a mobile phone number (手机号); not stored",
        }
    }
}

/// First two digits of an ID number: the province-level region (GB/T 2260), plus 71 台湾,
/// 81 香港, 82 澳门 and 83 (residence permits of Taiwan residents).
const PROVINCES: [u8; 35] = [
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
    53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83,
];

/// GB 11643 weights of the first 17 digits, and the check character for the sum mod 11.
const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK: &[u8; 11] = b"10X98765432";

/// The first personal number in `text`, if any.
///
/// - **18-digit ID** (17 digits + digit or `X`, a whole digit run): a province code, a birth
///   date (1900–2099, a real calendar day) at positions 7–14, and the GB 11643 check character.
///   With a *wrong* check character it is still taken for an ID (a mistyped one is as personal)
///   unless the 18 characters are a valid USCC. A long number without the region and date
///   structure (an order or account number) is not an ID.
/// - **15-digit old ID** (a whole digit run): a province code and a real date `19YYMMDD` at
///   positions 7–12. An old tax registration number (region + GB 11714 organisation code) has the
///   same length, so 15 digits whose last nine carry a valid organisation-code check are not an ID.
/// - **Mobile**: `1[3-9]` + 9 digits, optionally after `+86`/`86`, optionally grouped 3-4-4 by
///   a space or dash, not part of a longer number. Landlines (`0595-86123456`) do not match.
///
/// Full-width digits count as digits. Cheap for ordinary text: a value with fewer than eleven
/// digits is answered without looking further.
pub fn find(text: &str) -> Option<Personal> {
    let digits = text.chars().filter(|c| digit_of(*c).is_some()).count();
    if digits < 11 {
        return None;
    }
    let chars: Vec<char> = text
        .chars()
        .map(|c| match digit_of(c) {
            Some(d) => char::from(b'0' + d),
            None => match c {
                '\u{FF0B}' => '+',
                '\u{FF0D}' => '-',
                '\u{FF38}' | '\u{FF58}' | 'x' => 'X',
                '\u{3000}' => ' ',
                c => c,
            },
        })
        .collect();
    let mut found = None;
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
        let run = &chars[start..i];
        let id = match run.len() {
            18 => is_id18(run),
            17 if chars.get(i) == Some(&'X') => is_id18(&chars[start..=i]),
            15 => is_id15(run),
            _ => false,
        };
        if id {
            return Some(Personal::IdNumber);
        }
        if found.is_none() && !after_decimal_point(&chars, start) && is_mobile_at(&chars, start) {
            found = Some(Personal::MobileNumber);
        }
    }
    found
}

/// `c` as a digit 0–9, ASCII or full-width.
fn digit_of(c: char) -> Option<u8> {
    match c {
        '0'..='9' => Some(c as u8 - b'0'),
        '\u{FF10}'..='\u{FF19}' => Some((c as u32 - 0xFF10) as u8),
        _ => None,
    }
}

fn number(digits: &[char]) -> Option<u32> {
    digits.iter().try_fold(0u32, |n, c| {
        c.to_digit(10)
            .map(|d| n.saturating_mul(10).saturating_add(d))
    })
}

fn has_province(code: &[char]) -> bool {
    number(&code[..2]).is_some_and(|p| PROVINCES.contains(&(p as u8)))
}

fn is_date(year: Option<u32>, month: Option<u32>, day: Option<u32>) -> bool {
    match (year, month, day) {
        (Some(y), Some(m), Some(d)) => {
            (1900..=2099).contains(&y)
                && i32::try_from(y)
                    .ok()
                    .and_then(|y| chrono::NaiveDate::from_ymd_opt(y, m, d))
                    .is_some()
        }
        _ => false,
    }
}

/// 18 characters: 17 digits and a digit or `X` (see [`find`]).
fn is_id18(code: &[char]) -> bool {
    if code.len() != 18 || !has_province(code) {
        return false;
    }
    let date = is_date(
        number(&code[6..10]),
        number(&code[10..12]),
        number(&code[12..14]),
    );
    if !date {
        return false;
    }
    let sum: u32 = code[..17]
        .iter()
        .zip(ID_WEIGHTS)
        .map(|(c, w)| c.to_digit(10).unwrap_or(0) * w)
        .sum();
    let check = char::from(ID_CHECK[(sum % 11) as usize]);
    if code[17] == check {
        return true;
    }
    // A wrong check character: a mistyped ID, unless the characters are a valid USCC.
    let text: String = code.iter().collect();
    !uscc::is_valid(&text)
}

/// 15 digits (see [`find`]).
fn is_id15(code: &[char]) -> bool {
    if code.len() != 15 || !has_province(code) {
        return false;
    }
    let year = number(&code[6..8]).map(|y| 1900 + y);
    if !is_date(year, number(&code[8..10]), number(&code[10..12])) {
        return false;
    }
    let body: String = code[6..14].iter().collect();
    uscc::org_check_char(&body) != Some(code[14])
}

/// Whether the digit run at `start` follows `<digit>.` (the fraction of a decimal number).
fn after_decimal_point(chars: &[char], start: usize) -> bool {
    start >= 2 && matches!(chars[start - 1], '.' | ',') && chars[start - 2].is_ascii_digit()
}

/// A mobile number starting at `start` (the first digit of a digit run), with or without the
/// country code.
fn is_mobile_at(chars: &[char], start: usize) -> bool {
    if mobile_len(chars, start).is_some() {
        return true;
    }
    // `86 139…`, `+86-139…`, `8613912345678`.
    if chars.get(start) == Some(&'8') && chars.get(start + 1) == Some(&'6') {
        let mut at = start + 2;
        if matches!(chars.get(at), Some(' ' | '-')) {
            at += 1;
        }
        return mobile_len(chars, at).is_some();
    }
    false
}

/// The length of a mobile number at `at` (`13912345678`, `139 1234 5678`, `139-1234-5678`) that
/// is not followed by more digits (or by `.5`), if there is one.
fn mobile_len(chars: &[char], at: usize) -> Option<usize> {
    let digit = |i: usize| chars.get(i).is_some_and(char::is_ascii_digit);
    let mut i = at;
    if chars.get(i) != Some(&'1') || !chars.get(i + 1).is_some_and(|c| ('3'..='9').contains(c)) {
        return None;
    }
    for group in [3, 4, 4] {
        if group == 4 && matches!(chars.get(i), Some(' ' | '-')) {
            i += 1;
        }
        for _ in 0..group {
            if !digit(i) {
                return None;
            }
            i += 1;
        }
    }
    let continues = digit(i) || (matches!(chars.get(i), Some('.' | ',')) && digit(i + 1));
    (!continues).then_some(i - at)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A valid 18-character ID from its first 17 digits (the check character computed here,
    /// independently of the code under test's table lookup order).
    fn id(first17: &str) -> String {
        let sum: u32 = first17
            .bytes()
            .zip([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
            .map(|(b, w)| u32::from(b - b'0') * w)
            .sum();
        // 11 − (Σ mod 11), written X for 10 and 0 for 11 (GB 11643-1999).
        let check = match (12 - sum % 11) % 11 {
            10 => 'X',
            d => char::from_digit(d, 10).expect("a digit"),
        };
        format!("{first17}{check}")
    }

    fn wrong_check(valid: &str) -> String {
        let (head, last) = valid.split_at(17);
        let other = if last == "0" { '1' } else { '0' };
        format!("{head}{other}")
    }

    #[test]
    fn the_check_character_helper_agrees_with_published_examples() {
        // The GB 11643 example number, and the example.
        assert_eq!(id("11010519491231002"), "11010519491231002X");
        assert_eq!(id("11010119900307451"), "110101199003074514");
    }

    #[test]
    fn eighteen_digit_ids_are_found_alone_with_x_and_inside_text() {
        let with_x = id("11010519491231002");
        assert!(with_x.ends_with('X'));
        let plain = id("11010119900307451");
        let county = id("35058319850202567");
        for value in [
            plain.clone(),
            with_x.clone(),
            with_x.to_lowercase(),
            county.clone(),
            format!("张三{plain}"),
            format!("南安市华兴陶瓷有限公司（{county}）"),
            format!("身份证:{with_x}号"),
            // Full-width digits, as some input methods type them.
            plain
                .chars()
                .map(|c| char::from_u32(c as u32 + 0xFEE0).expect("full width"))
                .collect(),
        ] {
            assert_eq!(find(&value), Some(Personal::IdNumber), "{value}");
        }
        assert_eq!(find("张三110101199003074514"), Some(Personal::IdNumber));
    }

    #[test]
    fn a_mistyped_id_is_still_an_id_but_a_random_long_number_is_not() {
        // Chosen: region and birth date in place but the check character wrong is a typo'd ID.
        let typo = wrong_check(&id("35058319900101123"));
        assert_eq!(find(&typo), Some(Personal::IdNumber), "{typo}");
        // No province (00), or no date (month 13): an order or account number.
        for not in [
            "001234567890123456",
            "350583199013011234",
            "350583180001011234",
            // 19 and 20 digits: not an ID's digit run.
            "3505831990010112345",
            "62220215020012345678",
        ] {
            assert_eq!(find(not), None, "{not}");
        }
    }

    #[test]
    fn fifteen_digit_old_ids_need_a_real_date() {
        assert_eq!(find("350583900101123"), Some(Personal::IdNumber));
        assert_eq!(find("旧证350583851231001"), Some(Personal::IdNumber));
        // 1990-02-30 does not exist; 00 is no province.
        assert_eq!(find("350583900230123"), None);
        assert_eq!(find("000583900101123"), None);
    }

    #[test]
    fn old_tax_numbers_are_not_ids() {
        // Region 350583 + organisation code 90010112 + its GB 11714 check: the date part reads
        // 1990-01-01, yet it is a tax registration number.
        let body = "90010112";
        let check = uscc::org_check_char(body).expect("check");
        assert!(check.is_ascii_digit(), "pick a body whose check is a digit");
        let tax = format!("350583{body}{check}");
        assert_eq!(find(&tax), None, "{tax}");
    }

    #[test]
    fn valid_usccs_are_not_ids() {
        for code in [
            "91350100M000100Y43",
            "91110108551385082Q",
            "91350583MALB50M96J",
            "12100000400000624D",
        ] {
            assert!(uscc::is_valid(code), "{code}");
            assert_eq!(find(code), None, "{code}");
        }
        // An all-digit USCC whose characters also look like region + date: its USCC check
        // holds, so it is not a mistyped ID.
        let first17 = "12350519900101123";
        let code = format!("{first17}{}", uscc::check_char(first17).expect("charset"));
        if code != id(first17) {
            assert!(uscc::is_valid(&code));
            assert_eq!(find(&code), None, "{code}");
        }
    }

    #[test]
    fn mobile_numbers_with_and_without_separators_and_country_code() {
        for value in [
            "13912345678",
            "139 1234 5678",
            "139-1234-5678",
            "+8613912345678",
            "+86 139 1234 5678",
            "86-13912345678",
            "8613912345678",
            "联系人张三 15905951234",
            "电话：19912345678。",
            "１３９１２３４５６７８",
        ] {
            assert_eq!(find(value), Some(Personal::MobileNumber), "{value}");
        }
    }

    #[test]
    fn landlines_dates_amounts_and_codes_are_not_personal() {
        for value in [
            "0595-86123456",
            "(0595)86123456",
            "0595 8612 3456",
            "2024-01-05",
            "20240105",
            "1,391,234,567.00",
            "13912345678.5",
            "12912345678",
            "139123456789",
            "0.13912345678",
            "350583100000",
            "南安市官桥镇内厝村8号",
            "矽尘、噪声",
            "",
        ] {
            assert_eq!(find(value), None, "{value}");
        }
    }

    #[test]
    fn reasons_name_the_kind_and_never_a_value() {
        assert!(Personal::IdNumber.reason().contains("身份证号"));
        assert!(Personal::MobileNumber.reason().contains("mobile"));
    }
}
