//! The `[flags]` table: lead kinds beyond non-filing (a declaration contradicting other feeds,
//! exceeded-limit posts) and the SME-assistance list, each switchable and with its margins.

use serde::{Deserialize, Serialize};

/// Every flag kind; each has `enabled` and its own margins.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flags {
    #[serde(default)]
    pub headcount_mismatch: HeadcountFlag,
    #[serde(default)]
    pub industry_mismatch: IndustryFlag,
    #[serde(default)]
    pub undeclared_hazards: HazardFlag,
    #[serde(default)]
    pub exceedance: ExceedanceFlag,
    #[serde(default)]
    pub sme_assistance: SmeFlag,
}

/// The declaration's 劳动者总人数 against the statistics, tax or market headcount.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeadcountFlag {
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Flag when the two differ by more than this share of the larger (0.5 = 50 %) …
    #[serde(default = "default_margin")]
    pub margin: f64,
    /// … and by at least this many workers (small employers differ by a few all the time).
    #[serde(default = "default_min_difference")]
    pub min_difference: u32,
}

impl Default for HeadcountFlag {
    fn default() -> Self {
        HeadcountFlag {
            enabled: true,
            margin: default_margin(),
            min_difference: default_min_difference(),
        }
    }
}

/// The declaration's industry against the registry's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndustryFlag {
    #[serde(default = "yes")]
    pub enabled: bool,
    /// How closely the codes must agree: `section` (门类 letter), `division` (大类, 2
    /// digits), `group` (中类, 3) or `class` (小类, 4).
    #[serde(default = "default_level")]
    pub level: String,
}

impl Default for IndustryFlag {
    fn default() -> Self {
        IndustryFlag {
            enabled: true,
            level: default_level(),
        }
    }
}

/// Hazard factors found by testing reports or exams that the declaration does not list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HazardFlag {
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Only evidence this recent counts (months before the screening date).
    #[serde(default = "default_evidence_months")]
    pub within_months: u32,
    /// Names that mean the same factor, e.g. `[["矽尘", "砂尘", "二氧化硅粉尘"]]`.
    #[serde(default)]
    pub synonyms: Vec<Vec<String>>,
}

impl Default for HazardFlag {
    fn default() -> Self {
        HazardFlag {
            enabled: true,
            within_months: default_evidence_months(),
            synonyms: Vec::new(),
        }
    }
}

/// Testing reports with posts over the occupational exposure limit (超标岗位).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExceedanceFlag {
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default = "one")]
    pub min_posts: u32,
    #[serde(default = "default_evidence_months")]
    pub within_months: u32,
}

impl Default for ExceedanceFlag {
    fn default() -> Self {
        ExceedanceFlag {
            enabled: true,
            min_posts: 1,
            within_months: default_evidence_months(),
        }
    }
}

/// The 中小微企业职业健康帮扶 candidate list written with every run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmeFlag {
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Also list medium (中型) enterprises.
    #[serde(default)]
    pub include_medium: bool,
}

impl Default for SmeFlag {
    fn default() -> Self {
        SmeFlag {
            enabled: true,
            include_medium: false,
        }
    }
}

/// The industry levels `industry_mismatch.level` accepts.
pub const INDUSTRY_LEVELS: [&str; 4] = ["section", "division", "group", "class"];

fn yes() -> bool {
    true
}

fn one() -> u32 {
    1
}

fn default_margin() -> f64 {
    0.5
}

fn default_min_difference() -> u32 {
    10
}

fn default_level() -> String {
    "division".to_string()
}

fn default_evidence_months() -> u32 {
    24
}
