//! One row of a township's lead list, as township staff read it (all text already in Chinese).
//! Built by the pipeline from a lead, its master record and its placement.

use serde::{Deserialize, Serialize};

use crate::domain::EntityId;

/// A lead as it appears in the township's Excel and CSV files.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LeadRow {
    /// Stable lead id (`L` + entity id), for the township's reply.
    pub lead_id: String,
    /// What the lead is about (`未申报或申报逾期`, `检测发现超标岗位` …).
    pub kind: String,
    /// 新增 / 持续 / 重新列入.
    pub status: String,
    /// 高 / 中 / 低, with the score: `高（72）`.
    pub priority: String,
    pub entity_id: EntityId,
    pub name: String,
    pub uscc: String,
    /// `（校验位错误）` appended by the writer when the USCC failed its check.
    pub uscc_valid: bool,
    pub legal_rep: String,
    pub address: String,
    /// Township name (or `未能定位乡镇` for the county list).
    pub township: String,
    pub village: String,
    pub industry_code: String,
    pub industry_name: String,
    /// 严重 / 一般 / empty.
    pub risk_class: String,
    pub headcount: Option<u32>,
    /// 未申报 / 申报已逾期.
    pub filing_status: String,
    pub last_filed: String,
    /// When the lead was first listed (or listed again).
    pub first_listed: String,
    /// Reasons in Chinese, one per element.
    pub reasons: Vec<String>,
    /// What each feed said, with its date: `税务（2025-05-31）：纳税人状态正常，从业人数23人`.
    pub evidence: Vec<String>,
    /// Feeds that mention the employer, in Chinese (`市场监管登记、税务登记`).
    pub sources: String,
    /// How the township was found (`统计区划代码`, `地址中的乡镇名称` …) and its confidence.
    pub placement: String,
}
