//! `[delivery.list]`: what a township list asks its clerk to do with each kind of lead
//! (处置要求) and by when (反馈时限). Only settings and their defaults; no file is written here.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

use yingbao_stages::screen::LeadKind;

/// Everything under `[delivery.list]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListSettings {
    /// Days after the run's date by which a township returns its checked list.
    #[serde(default = "default_feedback_days")]
    pub feedback_days: u32,
    /// 处置要求 by lead kind (`unfiled`, `headcount_mismatch`, `industry_mismatch`,
    /// `undeclared_hazards`, `exceedance`); a kind not named keeps its default
    /// ([`default_instruction`]).
    #[serde(default = "default_instructions")]
    pub instructions: BTreeMap<String, String>,
}

impl Default for ListSettings {
    fn default() -> Self {
        ListSettings {
            feedback_days: default_feedback_days(),
            instructions: default_instructions(),
        }
    }
}

impl ListSettings {
    /// The keys of `instructions` that name no lead kind (a config problem).
    pub fn unknown_kinds(&self) -> Vec<&str> {
        self.instructions
            .keys()
            .filter(|k| LeadKind::parse(k).is_none())
            .map(String::as_str)
            .collect()
    }

    /// What to do with a lead of `kind`: the configured text, else the default.
    pub fn instruction(&self, kind: LeadKind) -> &str {
        self.instructions
            .get(kind.as_str())
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| default_instruction(kind))
    }

    /// The terms of the lists of a run dated `as_of`: the deadline and each kind's 处置要求.
    pub fn terms(&self, as_of: NaiveDate) -> ListTerms {
        let deadline = as_of
            .checked_add_days(Days::new(u64::from(self.feedback_days)))
            .unwrap_or(as_of);
        ListTerms {
            deadline,
            instructions: LeadKind::ALL
                .into_iter()
                .map(|k| (k.label_zh().to_string(), self.instruction(k).to_string()))
                .collect(),
        }
    }
}

/// What every list of one run tells its clerk besides the leads: the same for every township
/// of the run, and part of a list's content digest (`deliver::reuse`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListTerms {
    /// Checked lists are due back by this day.
    pub deadline: NaiveDate,
    /// 处置要求 by the kind's label as township staff read it (`LeadRow::kind`).
    pub instructions: BTreeMap<String, String>,
}

impl ListTerms {
    /// The deadline as printed: `2025年07月15日前`.
    pub fn deadline_text(&self) -> String {
        self.deadline.format("%Y年%m月%d日前").to_string()
    }

    /// 处置要求 for a lead whose kind reads `kind_zh`; empty for a kind not known.
    pub fn instruction(&self, kind_zh: &str) -> &str {
        self.instructions.get(kind_zh).map_or("", String::as_str)
    }
}

fn default_feedback_days() -> u32 {
    15
}

fn default_instructions() -> BTreeMap<String, String> {
    LeadKind::ALL
        .into_iter()
        .map(|k| (k.as_str().to_string(), default_instruction(k).to_string()))
        .collect()
}

/// The 处置要求 of a lead kind when the configuration names none.
pub fn default_instruction(kind: LeadKind) -> &'static str {
    match kind {
        LeadKind::Unfiled => "上门核实是否在产、是否存在职业病危害因素；应当申报的，督促其在职业病危害项目申报系统中完成申报或更新申报",
        LeadKind::HeadcountMismatch => "核实实际从业人数和接触职业病危害因素的人数；与申报不符的，督促其变更申报",
        LeadKind::IndustryMismatch => "核实实际从事的行业和生产工艺；与申报不符的，督促其变更申报",
        LeadKind::UndeclaredHazards => "核实检测或体检发现的危害因素是否存在；存在的，督促其补充申报",
        LeadKind::Exceedance => "核实超标岗位的整改和防护情况，督促其落实整改并变更申报；情况严重的报县卫生健康部门",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partial_table_keeps_the_other_defaults_and_names_unknown_kinds() {
        let s: ListSettings = toml::from_str(
            "feedback_days = 10\n[instructions]\nexceedance = \"立即上门\"\nunfiled_typo = \"x\"\n",
        )
        .expect("parse");
        assert_eq!(s.instruction(LeadKind::Exceedance), "立即上门");
        assert_eq!(
            s.instruction(LeadKind::Unfiled),
            default_instruction(LeadKind::Unfiled)
        );
        assert_eq!(s.unknown_kinds(), vec!["unfiled_typo"]);
        let terms = s.terms(NaiveDate::from_ymd_opt(2025, 6, 30).expect("date"));
        assert_eq!(terms.deadline_text(), "2025年07月10日前");
        assert_eq!(terms.instruction("检测发现超标岗位"), "立即上门");
        assert_eq!(terms.instruction("不认识的类型"), "");
        assert!(toml::from_str::<ListSettings>("feedback_day = 3").is_err());
        let empty: ListSettings = toml::from_str("").expect("parse");
        assert_eq!(empty, ListSettings::default());
        assert!(empty.unknown_kinds().is_empty());
    }
}
