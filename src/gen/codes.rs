//! Identifiers: valid USCCs built with the real check characters, their typos, old 15-character
//! tax numbers, and fake 18-digit ID numbers for exam rows. Never emits a real person's ID.

use chrono::{Datelike, NaiveDate};
use rand::Rng;

use crate::domain::uscc::{check_char, org_check_char};

/// The USCC charset (no I, O, Z, S, V).
const USCC_CHARS: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// The county's region code.
pub const COUNTY: &str = "350583";

/// A fresh organisation code body (8 characters): numeric for employers registered before the
/// 2015 reform, `MA…` after it (as the registration system assigns them).
pub fn org_body(rng: &mut impl Rng, established: NaiveDate, individual: bool) -> String {
    let reform = NaiveDate::from_ymd_opt(2015, 10, 1).expect("valid constant date");
    if established < reform {
        if individual {
            // Older individual codes: L + 7 digits.
            format!("L{:07}", rng.gen_range(0..10_000_000u32))
        } else {
            format!("{:08}", rng.gen_range(10_000_000..99_999_999u32))
        }
    } else {
        let mut s = String::from("MA");
        // Third character is a digit or letter, then five more.
        for _ in 0..6 {
            s.push(USCC_CHARS[rng.gen_range(0..USCC_CHARS.len())] as char);
        }
        s
    }
}

/// The 9-character organisation code: body + GB 11714 check character.
pub fn org_code(body: &str) -> String {
    let check = org_check_char(body).expect("org bodies are 8 ASCII letters or digits");
    format!("{body}{check}")
}

/// A valid USCC: `9` + category (`1` 企业, `2` 个体工商户) + region + org code + check.
pub fn uscc(category: char, region: &str, org: &str) -> String {
    let first17 = format!("9{category}{region}{org}");
    let check = check_char(&first17).expect("built from the USCC charset");
    format!("{first17}{check}")
}

/// The old 15-character tax registration number: region + organisation code.
pub fn old_tax_number(org: &str) -> String {
    format!("{COUNTY}{org}")
}

/// One character changed so the check fails (a typist's slip), keeping length and charset.
pub fn mistype(rng: &mut impl Rng, code: &str) -> String {
    let mut bytes = code.as_bytes().to_vec();
    if bytes.len() != 18 {
        return code.to_string();
    }
    // Position 9–17 (the organisation code) is where people slip most.
    let pos = rng.gen_range(8..17);
    let old = bytes[pos];
    loop {
        let new = USCC_CHARS[rng.gen_range(0..USCC_CHARS.len())];
        if new != old {
            bytes[pos] = new;
            break;
        }
    }
    // With one substitution the weighted sum changes by w·Δ ≢ 0 (mod 31), so the check fails.
    String::from_utf8(bytes).expect("ASCII in, ASCII out")
}

/// A fake 18-digit ID number born in the county (with its ISO 7064 check digit).
pub fn id_number(rng: &mut impl Rng, birth: NaiveDate, male: bool) -> String {
    let seq = rng.gen_range(0..500u32) * 2 + u32::from(male);
    let first17 = format!(
        "{COUNTY}{:04}{:02}{:02}{:03}",
        birth.year(),
        birth.month(),
        birth.day(),
        seq
    );
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = first17
        .bytes()
        .zip(W)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    format!("{first17}{check}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::uscc::is_valid;
    use rand::SeedableRng;

    #[test]
    fn built_codes_pass_and_typos_fail() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for i in 0..2000 {
            let year = 1995 + (i % 30);
            let d = NaiveDate::from_ymd_opt(year, 6, 1).expect("valid");
            let body = org_body(&mut rng, d, i % 3 == 0);
            let code = uscc(if i % 3 == 0 { '2' } else { '1' }, COUNTY, &org_code(&body));
            assert!(is_valid(&code), "{code}");
            let typo = mistype(&mut rng, &code);
            assert_ne!(typo, code);
            assert!(!is_valid(&typo), "{typo} should fail");
        }
    }

    #[test]
    fn id_numbers_are_18_characters() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let d = NaiveDate::from_ymd_opt(1980, 2, 29).expect("valid");
        let id = id_number(&mut rng, d, true);
        assert_eq!(id.len(), 18);
        assert!(id.starts_with("35058319800229"));
    }
}
