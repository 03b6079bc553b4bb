//! Per-field comparison levels (exact, close, far, missing) for a pair of observations.
//! Address parts are one fact and give one level; a homophone name is "close" only when the
//! rest of the evidence agrees.

use serde::{Deserialize, Serialize};

use super::features::Features;

/// The compared fields, in waterfall order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Id,
    Name,
    Address,
    Industry,
    LegalRep,
}

pub const FIELDS: [Field; 5] = [
    Field::Id,
    Field::Name,
    Field::Address,
    Field::Industry,
    Field::LegalRep,
];

impl Field {
    pub fn index(self) -> usize {
        self as usize
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Field::Id => "id",
            Field::Name => "name",
            Field::Address => "address",
            Field::Industry => "industry",
            Field::LegalRep => "legal_rep",
        }
    }

    /// Level names, best first; the last is plain disagreement.
    pub fn levels(self) -> &'static [&'static str] {
        match self {
            Field::Id => &[
                "same code or organisation code",
                "one character apart",
                "different",
            ],
            Field::Name => &[
                "same name",
                "same trade name and industry words, one form missing",
                "homophone",
                "close",
                "homophone or close, nothing else agrees",
                "far",
                "different",
            ],
            Field::Address => &[
                "same street and number",
                "same village (or same street, place unknown)",
                "same township",
                "different place",
            ],
            Field::Industry => &["same 小类", "same 大类", "different"],
            Field::LegalRep => &["same", "different"],
        }
    }
}

/// Level per field; `None` = missing on either side (weight 0).
pub type Gamma = [Option<u8>; 5];

pub const NAME_EXACT: u8 = 0;
pub const NAME_CORE: u8 = 1;
pub const NAME_HOMOPHONE: u8 = 2;
pub const NAME_CLOSE: u8 = 3;
/// A homophone or close name with no other agreeing evidence: carries no weight (it is how
/// two different employers one character apart look) and sends the pair to review.
pub const NAME_UNCORROBORATED: u8 = 4;
pub const NAME_FAR: u8 = 5;
pub const NAME_DIFFERENT: u8 = 6;

/// Compares two observations field by field.
pub fn compare(a: &Features, b: &Features) -> Gamma {
    let id = match (&a.code, &b.code) {
        (Some(x), Some(y)) if x == y => Some(0),
        _ => match (&a.org, &b.org) {
            (Some(x), Some(y)) if x == y => Some(0),
            _ => match (&a.code, &b.code) {
                (Some(x), Some(y)) if x.len() == 18 && y.len() == 18 => {
                    Some(if one_edit(x, y) { 1 } else { 2 })
                }
                (Some(_), Some(_)) => Some(2),
                _ => None,
            },
        },
    };
    // A record that knows only its township (typed into its name, or an address naming no
    // village or street) agrees with the other as far as it can tell: no evidence either way.
    let coarse = |f: &Features| f.village.is_none() && f.street.is_none();
    let address = match (&a.township, &b.township) {
        (Some(x), Some(y)) if x != y => Some(3),
        (Some(_), Some(_)) if coarse(a) || coarse(b) => None,
        (Some(_), Some(_)) => {
            let same_village = matches!((&a.village, &b.village), (Some(x), Some(y)) if x == y);
            let same_street = matches!((&a.street, &b.street), (Some(x), Some(y)) if x == y);
            Some(if same_village && same_street {
                0
            } else if same_village {
                1
            } else {
                2
            })
        }
        // Without townships (no gazetteer, or unplaced), the street alone decides.
        _ => match (&a.street, &b.street) {
            (Some(x), Some(y)) if x == y && x.chars().count() >= 4 => Some(1),
            (Some(_), Some(_)) => Some(3),
            _ => None,
        },
    };
    let industry = match (&a.industry, &b.industry) {
        (Some(x), Some(y)) if x == y => Some(0),
        (Some(x), Some(y)) if x.get(..2) == y.get(..2) => Some(1),
        (Some(_), Some(_)) => Some(2),
        _ => None,
    };
    let legal_rep = match (&a.legal_rep, &b.legal_rep) {
        (Some(x), Some(y)) => Some(u8::from(x != y)),
        _ => None,
    };
    let mut name = match (&a.name, &b.name) {
        (Some(x), Some(y)) => {
            if x.branch != y.branch {
                // A branch written without its parent's form (`X石材梅山分公司` for
                // `X石材有限公司梅山分公司`) has its place in the core: the same words in the
                // same order are the same branch.
                let whole = |n: &super::name::NameParts| {
                    n.branch.as_ref().map(|b| format!("{}{b}", n.core))
                };
                match (whole(x), whole(y)) {
                    (Some(p), Some(q)) if p == q => Some(if x.form.is_none() || y.form.is_none() {
                        NAME_CORE
                    } else {
                        NAME_CLOSE
                    }),
                    _ => Some(NAME_DIFFERENT),
                }
            } else if x.key == y.key {
                Some(NAME_EXACT)
            } else if (x.core == y.core && (x.form.is_none() || y.form.is_none()))
                || cut_short(x, y)
                || cut_short(y, x)
            {
                Some(NAME_CORE)
            } else if x.core == y.core {
                // Same trade name, two different legal forms (有限公司 vs 股份公司): often two
                // employers of one family; only close.
                Some(NAME_CLOSE)
            } else if x.phonetic == y.phonetic {
                Some(NAME_HOMOPHONE)
            } else {
                let sim = strsim::jaro_winkler(&x.core, &y.core);
                Some(if sim >= 0.92 || one_edit(&x.core, &y.core) {
                    NAME_CLOSE
                } else if sim >= 0.8 {
                    NAME_FAR
                } else {
                    NAME_DIFFERENT
                })
            }
        }
        _ => None,
    };
    // A township typed into a name is part of it (sole traders are named so): two names with
    // different townships are different names, and a name whose township contradicts the
    // other record's place is at most close.
    if matches!(name, Some(NAME_EXACT) | Some(NAME_CORE)) {
        // Another county's name (`晋江市成裕木业`) is not this county's namesake: names are
        // unique only within a registration area.
        if a.name_county != b.name_county {
            return [id, Some(NAME_DIFFERENT), address, industry, legal_rep];
        }
        let typed_both = a.name_township.is_some() && b.name_township.is_some();
        // A township in one name only, and nothing places the other record: a part missing,
        // like a form (a sole trader's name with its township, and a namesake without one, are
        // two names; the one written alike wins).
        let unplaced_plain = match (&a.name_township, &b.name_township) {
            (Some(_), None) => place_of(b).is_none(),
            (None, Some(_)) => place_of(a).is_none(),
            _ => false,
        };
        if name == Some(NAME_EXACT) && unplaced_plain {
            name = Some(NAME_CORE);
        }
        let contradicts = match (&a.name_township, &b.name_township) {
            (Some(p), _) if place_of(b).is_some_and(|q| q != p) => true,
            (_, Some(q)) if place_of(a).is_some_and(|p| p != q) => true,
            _ => false,
        };
        if contradicts {
            name = Some(if typed_both {
                NAME_DIFFERENT
            } else {
                NAME_CLOSE
            });
        }
    }
    // A near name is evidence only when something else agrees: homophone and look-alike
    // employers one character apart are common, and a clinic's typo looks the same.
    if matches!(name, Some(NAME_HOMOPHONE) | Some(NAME_CLOSE)) {
        let corroborated = matches!(id, Some(0) | Some(1))
            || matches!(address, Some(0) | Some(1))
            || legal_rep == Some(0);
        if !corroborated {
            name = Some(NAME_UNCORROBORATED);
        }
    }
    [id, name, address, industry, legal_rep]
}

/// Whether `short` is `long` cut short, as clinics type names: no form of its own, its core the
/// start of the other's, at least 6 characters (a 字号 with its place or industry words), and
/// what is cut (`加工`, `制品`) at most 3 characters.
fn cut_short(short: &super::name::NameParts, long: &super::name::NameParts) -> bool {
    short.form.is_none()
        && short.core.chars().count() >= 6
        && long.core.starts_with(short.core.as_str())
        && long.core.chars().count() - short.core.chars().count() <= 3
}

/// How alike two records' names are beyond their comparison level, for breaking ties between
/// equally weighted candidates: 2 = the same sound (pinyin of the core) and the same form,
/// 1 = the same sound, 0 = neither. A homophone (`鑫福` for `新福`) is a likelier typo than a
/// look-alike (`利福`), and one written with the same form likelier still.
pub fn likeness(a: &Features, b: &Features) -> u8 {
    match (&a.name, &b.name) {
        (Some(x), Some(y)) if x.phonetic == y.phonetic => 1 + u8::from(x.form == y.form),
        _ => 0,
    }
}

/// Where a record is: the township typed into its name, else its address's.
fn place_of(f: &Features) -> Option<&String> {
    f.name_township.as_ref().or(f.township.as_ref())
}

/// Whether two strings differ by one substitution, insertion, deletion or adjacent swap.
pub fn one_edit(a: &str, b: &str) -> bool {
    let (x, y): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if x == y {
        return false;
    }
    match x.len() as i64 - y.len() as i64 {
        0 => {
            let diff: Vec<usize> = (0..x.len()).filter(|&i| x[i] != y[i]).collect();
            diff.len() == 1
                || (diff.len() == 2
                    && diff[1] == diff[0] + 1
                    && x[diff[0]] == y[diff[1]]
                    && x[diff[1]] == y[diff[0]])
        }
        1 | -1 => {
            let (long, short) = if x.len() > y.len() {
                (&x, &y)
            } else {
                (&y, &x)
            };
            let i = (0..short.len())
                .find(|&i| long[i] != short[i])
                .unwrap_or(short.len());
            long[i + 1..] == short[i..]
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::name::parse;

    fn f(name: &str, code: Option<&str>) -> Features {
        Features {
            name: Some(parse(name, &["南安市".to_string()], &[])),
            code: code.map(str::to_string),
            ..Default::default()
        }
    }

    #[test]
    fn one_edit_cases() {
        assert!(one_edit("91350100M000100Y43", "91350100M000100Y44"));
        assert!(one_edit("91350100M000100Y43", "91350100M000010Y43"));
        assert!(!one_edit("abc", "abc"));
        assert!(one_edit("华兴石材", "华兴石"));
        assert!(!one_edit("华兴石材", "华星石才"));
    }

    #[test]
    fn homophone_needs_corroboration() {
        let a = f("南安市鑫达石材有限公司", None);
        let mut b = f("新达石材有限公司", None);
        assert_eq!(
            compare(&a, &b)[1],
            Some(NAME_UNCORROBORATED),
            "alone it is not evidence"
        );
        b.legal_rep = Some("张三".into());
        let mut a2 = a.clone();
        a2.legal_rep = Some("张三".into());
        assert_eq!(compare(&a2, &b)[1], Some(NAME_HOMOPHONE));
    }

    #[test]
    fn a_branch_written_without_its_parent_form_is_the_same_branch() {
        let full = f("南安市誉博精密铸造有限公司梅山分公司", None);
        let short = f("南安市誉博精密铸造梅山分公司", None);
        assert_eq!(compare(&full, &short)[1], Some(NAME_CORE));
        let other = f("南安市誉博精密铸造有限公司官桥分公司", None);
        assert_eq!(compare(&other, &short)[1], Some(NAME_DIFFERENT));
        let parent = f("南安市誉博精密铸造有限公司", None);
        assert_eq!(compare(&parent, &short)[1], Some(NAME_DIFFERENT));
    }

    #[test]
    fn branch_names_disagree_and_typo_codes_are_close() {
        let a = f("华兴石材有限公司", Some("91350100M000100Y43"));
        let b = f("华兴石材有限公司官桥分公司", Some("91350100M000100Y44"));
        let g = compare(&a, &b);
        assert_eq!(g[1], Some(NAME_DIFFERENT));
        assert_eq!(g[0], Some(1));
    }

    /// Clinics cut names short: `…中山社区永绣建材` for `…中山社区永绣建材加工场`. Without an
    /// address to corroborate, a close name carried no weight and the record stayed alone.
    #[test]
    fn a_name_cut_short_is_the_same_name_with_a_part_missing() {
        let long = f("南安市溪美街道中山社区永绣建材加工场", None);
        let cut = f("南安市溪美街道中山社区永绣建材", None);
        assert_eq!(compare(&cut, &long)[1], Some(NAME_CORE));
        assert_eq!(compare(&long, &cut)[1], Some(NAME_CORE));
        // Too short to say who it is, or too much cut: not the same name.
        let short = f("永绣建材", None);
        assert_ne!(
            compare(&short, &f("永绣建材加工场", None))[1],
            Some(NAME_CORE)
        );
        let much = f("南安市溪美街道中山社区永绣建材制品加工厂", None);
        assert_ne!(compare(&cut, &much)[1], Some(NAME_CORE));
        // A form of its own says the name is whole.
        let whole = f("南安市溪美街道中山社区永绣建材厂", None);
        assert_ne!(compare(&whole, &long)[1], Some(NAME_CORE));
    }

    /// `晋江市成裕木业有限公司` in a clinic's ledger is not the local `南安市成裕木业有限公司`:
    /// a name is unique only within its registration area.
    #[test]
    fn another_countys_name_is_not_a_local_namesake() {
        let local = f("南安市成裕木业有限公司", None);
        let mut other = f("成裕木业有限公司", None);
        assert_eq!(compare(&local, &other)[1], Some(NAME_EXACT));
        other.name_county = Some("350582".into());
        assert_eq!(compare(&local, &other)[1], Some(NAME_DIFFERENT));
        let mut same_other = local.clone();
        same_other.name_county = Some("350582".into());
        assert_eq!(compare(&same_other, &other)[1], Some(NAME_EXACT));
    }

    /// `向阳乡博雅包装厂` and `南安市博雅包装厂` are two names: a record written without the
    /// township and without an address is nearer the one written alike.
    #[test]
    fn a_township_in_one_name_only_is_a_part_missing() {
        let plain = f("南安市博雅包装厂", None);
        let mut typed = f("博雅包装厂", None);
        typed.name_township = Some("350583111".into());
        assert_eq!(compare(&plain, &typed)[1], Some(NAME_CORE));
        assert_eq!(compare(&plain, &f("博雅包装厂", None))[1], Some(NAME_EXACT));
        // Placed in the typed township by its address, it is the same name.
        let mut here = plain.clone();
        here.township = Some("350583111".into());
        assert_eq!(compare(&here, &typed)[1], Some(NAME_EXACT));
    }
    /// An exam record knows its township only from its name (`…翔云镇傅晖芳体育用品`): the
    /// same township was scored as "same township, other village", which counts against a
    /// match, and kept the employer's own record out of review.
    #[test]
    fn a_record_that_knows_only_its_township_gives_no_address_evidence() {
        let mut exam = f("南安市翔云镇傅晖芳体育用品", None);
        exam.township = Some("350583104".into());
        let mut market = f("南安市翔云镇傅辉芳体育用品厂", None);
        market.township = Some("350583104".into());
        market.village = Some("350583104202".into());
        market.street = Some("工业区2号".into());
        assert_eq!(compare(&exam, &market)[2], None);
        // Another township still tells them apart.
        market.township = Some("350583105".into());
        assert_eq!(compare(&exam, &market)[2], Some(3));
        // Two full addresses in one township, other villages: as before.
        let mut other = market.clone();
        other.township = Some("350583105".into());
        other.village = Some("350583105201".into());
        other.street = Some("新街8号".into());
        assert_eq!(compare(&market, &other)[2], Some(2));
    }

    #[test]
    fn likeness_ranks_the_same_sound_and_form_first() {
        let typed = f("誉鸿水暖有限公司", None);
        assert_eq!(likeness(&typed, &f("南安市誉宏水暖有限公司", None)), 2);
        assert_eq!(likeness(&typed, &f("南安市裕鸿水暖股份有限公司", None)), 1);
        assert_eq!(likeness(&typed, &f("南安市利鸿水暖有限公司", None)), 0);
    }
}
