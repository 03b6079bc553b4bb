//! The `[sql]` table of a connector TOML: which 前置库 to read and what to select.
//! Operators write it; every field is documented for them, unknown keys are refused.

use serde::{Deserialize, Serialize};

/// Default for [`SqlSource::timeout_secs`].
pub const DEFAULT_TIMEOUT_SECS: u64 = 60;

/// How to read a county front-end database (前置库) with one read-only query.
///
/// Example (MySQL/MariaDB):
///
/// ```toml
/// [sql]
/// url_env = "YINGBAO_QZK_URL"
/// query = "SELECT id, CAST(dwmc AS BINARY) AS dwmc, rs, updated_at FROM zzjg"
/// encoding = "gbk"
/// cursor_column = "updated_at"
/// timeout_secs = 60
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqlSource {
    /// Name of the environment variable that holds the database address, for example
    /// `YINGBAO_QZK_URL`. Write the variable's NAME here, never the address itself: the
    /// address contains the password. The variable's value looks like
    /// `postgres://user:pass@host:5432/db`, `mysql://user:pass@host:3306/db`
    /// (`mariadb://` is accepted too) or `sqlite:///path/to/file.db`.
    pub url_env: String,

    /// The query to run: exactly one `SELECT …` (or `WITH … SELECT …`) statement.
    /// Anything else (UPDATE, DELETE, several statements separated by `;`) is refused
    /// before the database is contacted, and the query always runs in a read-only
    /// transaction (SQLite: the file is opened read-only).
    pub query: String,

    /// How to turn stored bytes into text: `"utf-8"` (the default) or `"gbk"`
    /// (`"gb18030"` and `"gb2312"` mean the same; GB18030 is a superset of both).
    /// Use `"gbk"` when the 前置库 keeps Chinese text as GBK bytes, e.g. old MySQL
    /// `latin1` tables or binary/BLOB columns. See the README for MySQL details.
    #[serde(default)]
    pub encoding: TextEncoding,

    /// Optional: the column that grows whenever a row is added or changed, e.g.
    /// `updated_at` or an auto-increment `id`. When set, each run only fetches rows whose
    /// value is greater than the largest value seen in the previous run. The column must
    /// appear in the query's result under exactly this name. Values are compared in the
    /// column's own type (numbers as numbers, dates/times as dates/times, text as text).
    #[serde(default)]
    pub cursor_column: Option<String>,

    /// Seconds allowed for connecting plus running the query (default 60).
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
}

fn default_timeout_secs() -> u64 {
    DEFAULT_TIMEOUT_SECS
}

/// The character set used to decode bytes that the database does not label as UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum TextEncoding {
    /// UTF-8 (default).
    #[default]
    #[serde(rename = "utf-8", alias = "utf8", alias = "UTF-8", alias = "UTF8")]
    Utf8,
    /// GBK / GB2312 / GB18030 — decoded as GB18030, which contains the other two.
    #[serde(
        rename = "gbk",
        alias = "GBK",
        alias = "gb18030",
        alias = "GB18030",
        alias = "gb2312",
        alias = "GB2312"
    )]
    Gbk,
}

impl TextEncoding {
    /// The name used in messages and the TOML file.
    pub fn as_str(self) -> &'static str {
        match self {
            TextEncoding::Utf8 => "utf-8",
            TextEncoding::Gbk => "gbk",
        }
    }
}
