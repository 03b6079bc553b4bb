//! Chinese enterprise names split into their parts (企业名称登记管理规定): region, trade name and
//! industry words (the core), organisation form, and branch marker — plus a phonetic key.

use pinyin::ToPinyin;
use unicode_normalization::UnicodeNormalization;

/// Organisation forms, each with its canonical spelling. Longest first when matching.
const FORMS: &[(&str, &str)] = &[
    ("股份有限公司", "股份公司"),
    ("有限责任公司", "有限公司"),
    ("股份合作公司", "股份合作公司"),
    ("股份公司", "股份公司"),
    ("有限公司", "有限公司"),
    ("专业合作社", "合作社"),
    ("合作社", "合作社"),
    ("合伙企业", "合伙企业"),
    ("个人独资企业", "个人独资企业"),
    ("公司", "公司"),
    ("经营部", "经营部"),
    ("门市部", "门市部"),
    ("批发部", "批发部"),
    ("工作室", "工作室"),
    ("商行", "商行"),
    ("商店", "商店"),
    ("中心", "中心"),
    ("厂", "厂"),
    ("店", "店"),
    ("馆", "馆"),
    ("部", "部"),
    ("行", "行"),
    ("场", "场"),
    ("社", "社"),
];

/// Branch markers: a branch is a different employer from its parent.
const BRANCHES: &[&str] = &["分公司", "分厂", "分店", "营业部", "办事处", "分部"];

/// A name taken apart.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NameParts {
    /// The whole name folded (width, punctuation, brackets, region words, form synonyms).
    pub key: String,
    /// Trade name + industry words: what identifies the employer within its region.
    pub core: String,
    /// Canonical organisation form, if any.
    pub form: Option<String>,
    /// Branch marker with its place (`官桥分公司`), if the name is a branch.
    pub branch: Option<String>,
    /// Pinyin syllables of the core without tones, space-separated (homophones share it).
    pub phonetic: String,
}

/// Folds width and punctuation; brackets become `(` `)`.
pub fn fold(s: &str) -> String {
    s.nfkc()
        .map(|c| match c {
            '〔' | '【' | '[' | '{' | '（' => '(',
            '〕' | '】' | ']' | '}' | '）' => ')',
            c => c,
        })
        .filter(|c| {
            !c.is_whitespace()
                && !matches!(
                    c,
                    '·' | '.' | '-' | '—' | '_' | '"' | '\'' | '“' | '”' | '、' | ',' | '•'
                )
        })
        .collect()
}

/// Whether a bracketed insert or prefix is a place name: a configured region word, or a
/// short name ending in 省/市/县/区/镇/乡/街道.
fn is_place(s: &str, region_words: &[String]) -> bool {
    region_words.iter().any(|w| w == s)
        || (s.chars().count() <= 8
            && ["省", "市", "县", "区", "镇", "乡", "街道"]
                .iter()
                .any(|x| s.ends_with(x)))
}

/// Takes a name apart. `region_words` are the county's own region names; `place_words` the
/// county's township names (an individual business often carries its township).
pub fn parse(name: &str, region_words: &[String], place_words: &[String]) -> NameParts {
    let mut prefixes: Vec<&str> = region_words
        .iter()
        .chain(place_words.iter())
        .map(String::as_str)
        .collect();
    prefixes.sort_by_key(|w| std::cmp::Reverse(w.chars().count()));
    parse_with(name, region_words, &prefixes)
}

/// `parse` with the prefixes already sorted longest first (done once per resolution).
pub fn parse_with(name: &str, region_words: &[String], prefixes: &[&str]) -> NameParts {
    let mut s = fold(name);
    // Bracketed inserts: places go, 集团 stays as a word, partnership kinds are form detail.
    while let Some(open) = s.find('(') {
        let Some(close_rel) = s[open..].find(')') else {
            s = s.replace('(', "");
            break;
        };
        let inner = s[open + 1..open + close_rel].to_string();
        let keep = if is_place(&inner, region_words) || inner.contains("合伙") {
            String::new()
        } else {
            inner
        };
        s.replace_range(open..open + close_rel + 1, &keep);
    }
    s = s.replace(')', "");
    // Leading place words, repeatedly: 福建省泉州市南安市官桥镇…
    loop {
        let before = s.len();
        for w in prefixes {
            if let Some(rest) = s.strip_prefix(w) {
                if rest.chars().count() >= 2 {
                    s = rest.to_string();
                }
            }
        }
        // Generic province/city prefixes (福建省, 泉州市) not in the configured words.
        for marker in ['省', '市'] {
            if let Some(pos) = s.find(marker) {
                let head = &s[..pos];
                let n = head.chars().count();
                if (2..=3).contains(&n) && s[pos + marker.len_utf8()..].chars().count() >= 4 {
                    s = s[pos + marker.len_utf8()..].to_string();
                }
            }
        }
        if s.len() == before {
            break;
        }
    }
    // Branch: parent name + place + marker.
    let mut branch = None;
    if let Some(marker) = BRANCHES.iter().find(|m| s.ends_with(*m)) {
        let body = &s[..s.len() - marker.len()];
        let split = ["公司", "厂", "店"]
            .iter()
            .filter_map(|f| body.rfind(f).map(|p| p + f.len()))
            .max();
        if let Some(at) = split.filter(|&at| at < body.len() || body.is_empty()) {
            branch = Some(format!("{}{}", &body[at..], marker));
            s = body[..at].to_string();
        } else if split.is_none() {
            branch = Some(marker.to_string());
            s = body.to_string();
        }
    }
    let mut form = None;
    for (written, canonical) in FORMS {
        if let Some(rest) = s.strip_suffix(written) {
            if rest.chars().count() >= 2 {
                form = Some(canonical.to_string());
                s = rest.to_string();
                break;
            }
        }
    }
    let core = s;
    let key = format!(
        "{core}{}{}",
        form.as_deref().unwrap_or(""),
        branch.as_deref().unwrap_or("")
    );
    let mut phonetic = String::with_capacity(core.len() * 2);
    for c in core.chars() {
        if !phonetic.is_empty() {
            phonetic.push(' ');
        }
        match c.to_pinyin() {
            Some(p) => phonetic.push_str(p.plain()),
            None => phonetic.push(c),
        }
    }
    NameParts {
        key,
        core,
        form,
        branch,
        phonetic,
    }
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

    fn places() -> Vec<String> {
        vec!["官桥镇".into(), "水头镇".into()]
    }

    fn p(name: &str) -> NameParts {
        parse(name, &words(), &places())
    }

    #[test]
    fn variants_share_core_and_form() {
        let base = p("南安市华兴石材有限公司");
        assert_eq!(base.core, "华兴石材");
        assert_eq!(base.form.as_deref(), Some("有限公司"));
        for v in [
            "华兴（南安）石材有限公司",
            "福建省南安市华兴石材有限责任公司",
            "华兴石材有限公司",
            "南安 华兴石材 有限公司",
            "华兴(南安市)石材有限责任公司",
            "福建省泉州市华兴石材有限公司",
        ] {
            let q = p(v);
            assert_eq!(
                (q.core.as_str(), q.form.as_deref()),
                ("华兴石材", Some("有限公司")),
                "{v}"
            );
            assert_eq!(q.key, base.key, "{v}");
        }
    }

    #[test]
    fn branches_forms_and_individuals() {
        let b = p("南安市华兴石材有限公司官桥分公司");
        assert_eq!(b.core, "华兴石材");
        assert_eq!(b.branch.as_deref(), Some("官桥分公司"));
        assert_ne!(b.key, p("南安市华兴石材有限公司").key);
        let i = p("南安市官桥镇张三陶瓷加工厂");
        assert_eq!(i.core, "张三陶瓷加工");
        assert_eq!(i.form.as_deref(), Some("厂"));
        let g = p("华兴（集团）有限公司");
        assert_eq!(g.core, "华兴集团");
        assert_eq!(p("华兴集团有限公司").key, g.key);
        let s = p("南安市华兴石材股份有限公司");
        assert_eq!(s.form.as_deref(), Some("股份公司"));
    }

    #[test]
    fn homophones_share_phonetic_key() {
        let a = p("南安市鑫达石材有限公司");
        let b = p("南安市新达石材有限公司");
        assert_ne!(a.core, b.core);
        assert_eq!(a.phonetic, b.phonetic);
        // 兴 and 星 are both xing: the hard negatives of one character are often homophones,
        // which is why a phonetic match alone never merges.
        assert_eq!(p("华兴石材").phonetic, p("华星石材").phonetic);
        assert_ne!(p("华兴石材").phonetic, p("华达石材").phonetic);
    }
}
