//! The canonical `Observation`: what one source record says about one employer.
//! Every connector maps its rows into this type; every later stage reads only this type.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{IndustryCode, Uscc};

/// The kind of government feed a connector reads. It decides what the feed's facts mean.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Feed {
    /// 市场监管: market registration (企业登记).
    Market,
    /// 税务: tax registration and filing.
    Tax,
    /// 统计名录库: the statistics business directory.
    Statistics,
    /// 职业健康检查: occupational health examinations (rows per worker).
    Exam,
    /// 职业病危害因素检测: workplace hazard testing reports.
    Testing,
    /// 职业病危害项目申报: the declaration register.
    Declaration,
    /// Any other list (tips, township finds); contributes names and addresses only.
    #[default]
    Other,
}

impl Feed {
    pub const ALL: [Feed; 7] = [
        Feed::Market,
        Feed::Tax,
        Feed::Statistics,
        Feed::Exam,
        Feed::Testing,
        Feed::Declaration,
        Feed::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Feed::Market => "market",
            Feed::Tax => "tax",
            Feed::Statistics => "statistics",
            Feed::Exam => "exam",
            Feed::Testing => "testing",
            Feed::Declaration => "declaration",
            Feed::Other => "other",
        }
    }

    /// The feed's name as township staff know it.
    pub fn label_zh(self) -> &'static str {
        match self {
            Feed::Market => "市场监管登记",
            Feed::Tax => "税务登记",
            Feed::Statistics => "统计名录库",
            Feed::Exam => "职业健康检查",
            Feed::Testing => "职业病危害因素检测",
            Feed::Declaration => "职业病危害项目申报",
            Feed::Other => "其他线索",
        }
    }
}

impl fmt::Display for Feed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Feed {
    type Err = String;
    fn from_str(s: &str) -> Result<Feed, String> {
        Feed::ALL
            .iter()
            .copied()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| format!("unknown feed `{s}`"))
    }
}

/// One source record's facts about one employer. Every field is optional: feeds differ.
/// Never holds a worker's personal data: exam rows are aggregated per employer before this.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    /// Connector id (file stem of its `connectors/*.toml`).
    pub source: String,
    /// What kind of feed the source is.
    pub feed: Feed,
    /// Stable key of the record within its source (configured columns, or `file:row`).
    pub record_key: String,
    /// Keys of every source row folded into this observation (aggregated feeds), else empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub row_keys: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uscc: Option<Uscc>,
    /// Another identifier: an old 15-character tax number or a 9-character organisation code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_rep: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub industry_code: Option<IndustryCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub industry_name: Option<String>,
    /// 登记状态 as the feed wrote it (存续, 吊销, 注销 …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registered_on: Option<NaiveDate>,
    /// 注销日期 or 吊销日期: when the employer ceased to exist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deregistered_on: Option<NaiveDate>,
    /// 纳税人状态 as the feed wrote it (正常, 非正常, 注销 …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_tax_date: Option<NaiveDate>,
    /// 统计 运营状态 as the feed wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stats_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headcount: Option<u32>,
    /// Revenue (营业收入) in 万元.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revenue: Option<f64>,
    /// 12-digit 统计用区划代码 (or a 9-digit township code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region_code: Option<String>,
    /// Date of an exam or testing record (the latest, for aggregated rows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence_date: Option<NaiveDate>,
    /// Number of source rows (workers examined, reports) behind an evidence observation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence_count: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hazard_factors: Vec<String>,
    /// Posts over the exposure limit in a testing report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exceedances: Option<u32>,
    /// Date of the declaration (申报日期).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declared_on: Option<NaiveDate>,
    /// Date of the last annual update or change declaration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_on: Option<NaiveDate>,
}

impl Observation {
    /// The latest of the declaration and update dates: when the employer last filed.
    pub fn last_filed(&self) -> Option<NaiveDate> {
        match (self.declared_on, self.updated_on) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }
}
