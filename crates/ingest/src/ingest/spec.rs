//! The connector file (`connectors/<id>.toml`): where a feed is, how to read it, and how its
//! columns map onto the canonical `Observation`. Pure data, owned by ingest; `config::load` reads and checks it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::domain::Feed;

/// One feed's connector, as written in `connectors/<id>.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectorSpec {
    /// Connector id; defaults to the file stem. Used in record keys, links and logs.
    #[serde(default)]
    pub id: String,
    /// Which government feed this is.
    pub feed: Feed,
    /// Free text shown to operators.
    #[serde(default)]
    pub description: String,
    /// Set false to keep the file but skip the feed.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Where the data comes from: exactly one of `[file]` (CSV/XLSX exports), `[http]` (a
    /// paged JSON API) or `[sql]` (a read-only query on a front-end database).
    #[serde(default, skip_serializing_if = "FileSource::is_unset")]
    pub file: FileSource,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<crate::ingest::http::HttpSource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql: Option<crate::ingest::sql::SqlSource>,
    /// How a record is keyed, and whether rows are aggregated per employer.
    #[serde(default)]
    pub record: RecordSpec,
    /// Canonical field → source column header(s). The first header present in a file wins.
    pub columns: BTreeMap<String, Columns>,
    /// Headers that hold personal data. They are never read; a mapping that names one is an error.
    #[serde(default)]
    pub personal_columns: Vec<String>,
    /// Fields of `[columns]` a file may lack (a column some exports carry and others do not);
    /// every other mapped column must be present.
    #[serde(default)]
    pub optional_columns: Vec<String>,
    /// Value-parsing options.
    #[serde(default)]
    pub values: ValueOptions,
    /// When the daemon pulls this feed, and how often an incremental feed is pulled whole.
    #[serde(default)]
    pub pull: PullSpec,
    /// When a new snapshot of this feed is trusted, where it differs from `[snapshot]`.
    #[serde(default, skip_serializing_if = "is_default_trust")]
    pub trust: crate::ingest::trust::TrustSpec,
}

fn is_default_trust(t: &crate::ingest::trust::TrustSpec) -> bool {
    *t == crate::ingest::trust::TrustSpec::default()
}

/// The `[pull]` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PullSpec {
    /// A crontab line (`m h dom mon dow`, the county's time zone) for `yingbao serve`. Empty:
    /// the feed is pulled at the start of every pipeline run.
    #[serde(default)]
    pub schedule: Option<String>,
    /// For an incremental `[http]`/`[sql]` feed: pull the whole feed again after this many
    /// days (records deleted at the source only disappear on a full pull). Default 30.
    #[serde(default = "thirty")]
    pub full_refresh_days: u32,
}

fn thirty() -> u32 {
    30
}

impl Default for PullSpec {
    fn default() -> Self {
        PullSpec {
            schedule: None,
            full_refresh_days: thirty(),
        }
    }
}

fn yes() -> bool {
    true
}

/// One header, or several alternatives (the first one present in the file is used).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Columns {
    One(String),
    Any(Vec<String>),
}

impl Columns {
    pub fn headers(&self) -> Vec<&str> {
        match self {
            Columns::One(h) => vec![h.as_str()],
            Columns::Any(hs) => hs.iter().map(String::as_str).collect(),
        }
    }
}

/// A file or a folder of dated exports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSource {
    /// A file, or a folder. Relative paths are relative to the project root (the folder that
    /// holds `config/` and `connectors/`).
    pub path: PathBuf,
    /// For a folder: a glob on file names (`*.csv`, `体检*.xlsx`). Default: every csv/xlsx/xls.
    #[serde(default)]
    pub pattern: Option<String>,
    /// For a folder: use the `newest` file (by the date in its name, else modification time)
    /// or `all` of them (monthly exports that each hold one month).
    #[serde(default)]
    pub pick: Pick,
    /// `auto` (by extension), `csv` or `xlsx`.
    #[serde(default)]
    pub format: Format,
    /// `auto` (UTF-16 by its BOM, UTF-8 with or without BOM, else GB18030 — or Big5 when
    /// `chardetng` finds it), `utf-8`, `gbk` or `gb18030`.
    #[serde(default)]
    pub encoding: Encoding,
    /// CSV field delimiter (one character). Default `,`.
    #[serde(default)]
    pub delimiter: Option<String>,
    /// XLSX sheet name. Default: the first sheet.
    #[serde(default)]
    pub sheet: Option<String>,
    /// 1-based row that holds the headers (exports often have a title row above). Default 1.
    #[serde(default = "one")]
    pub header_row: usize,
}

fn one() -> usize {
    1
}

impl Default for FileSource {
    fn default() -> Self {
        FileSource {
            path: PathBuf::new(),
            pattern: None,
            pick: Pick::default(),
            format: Format::default(),
            encoding: Encoding::default(),
            delimiter: None,
            sheet: None,
            header_row: 1,
        }
    }
}

impl FileSource {
    /// No `[file]` table was written.
    pub fn is_unset(&self) -> bool {
        self.path.as_os_str().is_empty()
    }
}

/// Where a connector's data comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    File,
    Http,
    Sql,
}

impl ConnectorSpec {
    /// The kinds of source this connector names (a valid connector names exactly one).
    pub fn source_kinds(&self) -> Vec<SourceKind> {
        let mut kinds = Vec::new();
        if !self.file.is_unset() {
            kinds.push(SourceKind::File);
        }
        if self.http.is_some() {
            kinds.push(SourceKind::Http);
        }
        if self.sql.is_some() {
            kinds.push(SourceKind::Sql);
        }
        kinds
    }

    /// Read over the network (a paged JSON API or a database), not from files.
    pub fn is_remote(&self) -> bool {
        self.http.is_some() || self.sql.is_some()
    }

    /// Where the data comes from, for operators: a path, a URL, or the database variable.
    pub fn location(&self) -> String {
        if let Some(h) = &self.http {
            h.url.clone()
        } else if let Some(q) = &self.sql {
            format!("SQL via ${}", q.url_env)
        } else {
            self.file.path.display().to_string()
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pick {
    #[default]
    Newest,
    All,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    #[default]
    Auto,
    Csv,
    Xlsx,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Encoding {
    #[default]
    Auto,
    #[serde(rename = "utf-8", alias = "utf8", alias = "UTF-8")]
    Utf8,
    Gbk,
    Gb18030,
}

/// Record identity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordSpec {
    /// Headers whose values together key a record. Empty: `file name:data-row number`.
    #[serde(default)]
    pub key: Vec<String>,
    /// Headers whose values group rows into one employer-level observation (exam feeds list one
    /// row per worker). Empty: no aggregation.
    #[serde(default)]
    pub group_by: Vec<String>,
}

/// How values are read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValueOptions {
    /// Characters that separate several hazard factors in one cell.
    #[serde(default = "default_separators")]
    pub list_separators: String,
    /// Revenue unit in the feed: `yuan` or `wan` (万元). Stored as 万元.
    #[serde(default)]
    pub revenue_unit: RevenueUnit,
}

impl Default for ValueOptions {
    fn default() -> Self {
        ValueOptions {
            list_separators: default_separators(),
            revenue_unit: RevenueUnit::default(),
        }
    }
}

fn default_separators() -> String {
    "、,，;；/|".to_string()
}

/// The unit a feed writes revenue (营业收入) in; every unit is a multiplier to 万元, the unit
/// screening uses. `yuan` 元, `qian_yuan` 千元, `wan` 万元, `bai_wan` 百万元, `yi` 亿元 (the
/// Chinese names are accepted too). A text cell ending in one of the Chinese units overrides it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevenueUnit {
    #[serde(alias = "元")]
    Yuan,
    #[serde(alias = "千元")]
    QianYuan,
    #[default]
    #[serde(alias = "万元")]
    Wan,
    #[serde(alias = "百万元")]
    BaiWan,
    #[serde(alias = "亿元")]
    Yi,
}

impl RevenueUnit {
    /// Every unit with its Chinese name, longest name first (for suffixes in text cells).
    pub const ALL: [(&'static str, RevenueUnit); 5] = [
        ("百万元", RevenueUnit::BaiWan),
        ("千元", RevenueUnit::QianYuan),
        ("万元", RevenueUnit::Wan),
        ("亿元", RevenueUnit::Yi),
        ("元", RevenueUnit::Yuan),
    ];

    /// `n` of this unit in 万元 (divisions where the unit is smaller, so `15000000` 元 is
    /// exactly 1500 万元).
    pub fn to_wan(self, n: f64) -> f64 {
        match self {
            RevenueUnit::Yuan => n / 10_000.0,
            RevenueUnit::QianYuan => n / 10.0,
            RevenueUnit::Wan => n,
            RevenueUnit::BaiWan => n * 100.0,
            RevenueUnit::Yi => n * 10_000.0,
        }
    }
}

/// The canonical fields a connector may map, with what each holds (shown by `check`).
pub const CANONICAL_FIELDS: &[(&str, &str)] = &[
    ("uscc", "统一社会信用代码 (18 characters)"),
    (
        "tax_id",
        "old 15-character tax number or 9-character organisation code",
    ),
    ("name", "employer name"),
    ("address", "address (registered or workplace)"),
    ("legal_rep", "legal representative"),
    ("industry_code", "GB/T 4754-2017 code, `3011` or `C3011`"),
    ("industry_name", "industry name"),
    ("registry_status", "登记状态"),
    (
        "registered_on",
        "registration (establishment) date, 成立日期",
    ),
    (
        "deregistered_on",
        "deregistration or revocation date, 注销日期/吊销日期",
    ),
    ("tax_status", "纳税人状态"),
    ("last_tax_date", "date of the last tax return"),
    ("stats_status", "统计 运营状态"),
    ("headcount", "number of workers"),
    ("revenue", "revenue"),
    ("region_code", "12-digit 统计用区划代码"),
    ("evidence_date", "exam or testing date"),
    ("hazard_factors", "hazard factors (a list in one cell)"),
    ("exceedances", "posts over the exposure limit"),
    ("declared_on", "declaration date"),
    ("updated_on", "last annual update or change date"),
];
