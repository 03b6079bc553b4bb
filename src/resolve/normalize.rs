//! Name normalisation for matching: width, punctuation, region words, bracketed regions and
//! organisation-form synonyms folded away, so feeds' spellings of one name meet.

use unicode_normalization::UnicodeNormalization;

/// Organisation-form synonyms, longest first: (as written, canonical).
const FORMS: &[(&str, &str)] = &[("股份有限公司", "股份公司"), ("有限责任公司", "有限公司")];

/// Folds a name into its comparison key. `region_words` are the county's own region names
/// (`福建省`, `泉州市`, `南安市`, `南安`), removed as a prefix or as a bracketed insert.
pub fn name_key(name: &str, region_words: &[String]) -> String {
    let mut s: String = name
        .nfkc()
        .map(|c| match c {
            '〔' | '【' | '[' | '{' => '(',
            '〕' | '】' | ']' | '}' => ')',
            c => c,
        })
        .filter(|c| {
            !c.is_whitespace()
                && !matches!(
                    c,
                    '·' | '.' | '-' | '—' | '_' | '"' | '\'' | '“' | '”' | '、' | ','
                )
        })
        .collect();
    // Bracketed inserts that are region words or 集团: `华兴(南安)石材` → `华兴石材`.
    for w in region_words.iter().map(String::as_str).chain(["集团"]) {
        let bracketed = format!("({w})");
        if s.contains(&bracketed) {
            let replacement = if w == "集团" { "集团" } else { "" };
            s = s.replace(&bracketed, replacement);
        }
    }
    // Leading region words, repeatedly: `福建省南安市华兴…` → `华兴…`.
    let mut words: Vec<&str> = region_words.iter().map(String::as_str).collect();
    words.sort_by_key(|w| std::cmp::Reverse(w.chars().count()));
    loop {
        let before = s.len();
        for w in &words {
            if let Some(rest) = s.strip_prefix(w) {
                if rest.chars().count() >= 2 {
                    s = rest.to_string();
                }
            }
        }
        if s.len() == before {
            break;
        }
    }
    for (from, to) in FORMS {
        if s.ends_with(from) {
            s.truncate(s.len() - from.len());
            s.push_str(to);
        }
    }
    s.replace(['(', ')'], "")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words() -> Vec<String> {
        ["福建省", "泉州市", "南安市", "南安"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    #[test]
    fn variants_of_one_name_meet() {
        let w = words();
        let k = name_key("南安市华兴石材有限公司", &w);
        assert_eq!(k, "华兴石材有限公司");
        for v in [
            "华兴（南安）石材有限公司",
            "福建省南安市华兴石材有限责任公司",
            "华兴石材有限公司",
            "南安 华兴石材 有限公司",
            "华兴(南安)石材有限责任公司",
        ] {
            assert_eq!(name_key(v, &w), k, "{v}");
        }
    }

    #[test]
    fn different_employers_stay_apart() {
        let w = words();
        assert_ne!(
            name_key("南安市华兴石材有限公司", &w),
            name_key("南安市华星石材有限公司", &w)
        );
        assert_ne!(
            name_key("南安市华兴石材有限公司", &w),
            name_key("南安市华兴石材有限公司官桥分公司", &w)
        );
        // A region word that is the trade name itself is not stripped to nothing.
        assert_eq!(name_key("南安石材厂", &w), "石材厂");
        assert_eq!(name_key("南安", &w), "南安");
    }
}
