//! The `[lifecycle]` table: what each township disposition (核实情况) does to its lead —
//! close it until a re-check, close it until new evidence, or move it to another township.

use serde::{Deserialize, Serialize};

use crate::domain::Feed;
use crate::leads::lifecycle::{DispositionRules, Effect};

/// Everything under `[lifecycle]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lifecycle {
    /// One rule per 核实情况 value; a value without a rule closes its lead until any feed
    /// shows new activity.
    #[serde(default = "default_rules")]
    pub rule: Vec<DispositionRule>,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Lifecycle {
            rule: default_rules(),
        }
    }
}

/// `[[lifecycle.rule]]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DispositionRule {
    /// The 核实情况 value, e.g. `无职业病危害因素`.
    pub disposition: String,
    pub effect: EffectKind,
    #[serde(default)]
    pub months: Option<u32>,
    /// Feeds whose newer records undo a `suppress` (market, tax, statistics, exam, testing).
    #[serde(default)]
    pub reopen_on: Vec<String>,
}

/// What a rule does, as `effect` names it; any other word fails loading with the three listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EffectKind {
    /// Closed; listed again if the lead still holds `months` later.
    Recheck,
    /// Closed until a `reopen_on` feed has a newer record, or `months` have passed.
    Suppress,
    /// Moved to the township the disposition names.
    Transfer,
}

impl Lifecycle {
    /// The rules as the lifecycle applies them (a `reopen_on` word that names no feed is left
    /// out; `yingbao check` reports it).
    pub fn rules(&self) -> DispositionRules {
        let rules = self
            .rule
            .iter()
            .map(|r| {
                let effect = match r.effect {
                    EffectKind::Recheck => Effect::Recheck {
                        months: r.months.unwrap_or(2),
                    },
                    EffectKind::Suppress => Effect::Suppress {
                        reopen_on: r
                            .reopen_on
                            .iter()
                            .filter_map(|f| f.parse::<Feed>().ok())
                            .collect(),
                        max_months: r.months,
                    },
                    EffectKind::Transfer => Effect::Transfer,
                };
                (r.disposition.clone(), effect)
            })
            .collect();
        DispositionRules { rules }
    }
}

fn rule(
    disposition: &str,
    effect: EffectKind,
    months: Option<u32>,
    reopen_on: &[&str],
) -> DispositionRule {
    DispositionRule {
        disposition: disposition.to_string(),
        effect,
        months,
        reopen_on: reopen_on.iter().map(|f| f.to_string()).collect(),
    }
}

fn default_rules() -> Vec<DispositionRule> {
    vec![
        rule("已申报", EffectKind::Recheck, Some(2), &[]),
        rule("已督促申报", EffectKind::Recheck, Some(2), &[]),
        rule(
            "无职业病危害因素",
            EffectKind::Suppress,
            Some(12),
            &["exam", "testing"],
        ),
        rule(
            "停产停业超过6个月",
            EffectKind::Suppress,
            None,
            &["tax", "statistics", "exam", "testing"],
        ),
        rule(
            "已注销或吊销",
            EffectKind::Suppress,
            None,
            &["tax", "exam", "testing"],
        ),
        rule("不在本辖区", EffectKind::Transfer, None, &[]),
    ]
}
