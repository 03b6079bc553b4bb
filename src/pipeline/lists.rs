//! The run's outputs around the leads: each township's list in priority order, the delivery
//! cycle, the outbox entries for every channel, and the SME-assistance candidate rows.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

use chrono::NaiveDate;

use super::PipelineError;
use crate::config::Config;
use crate::deliver::correction::{self, Plan, Queued};
use crate::deliver::outbox::{idempotency_key, ListCounts, ListPayload};
use crate::deliver::sme_list::SmeRow;
use crate::deliver::township_files::{write_lists, TownshipKey, WrittenList};
use crate::deliver::Earlier;
use crate::domain::{EntityId, Observation, TownshipCode};
use crate::leads::hold::Destination;
use crate::leads::row::LeadRow;
use crate::leads::{Lead, LeadState};
use crate::place::{Locator, Placement, Township};
use crate::resolve::{Link, MasterRecord};
use crate::screen::Assessment;
use crate::store::{NewOutbox, OutboxRow};

/// The delivery cycle of a run: its month.
#[derive(Debug, Clone, PartialEq)]
pub struct Cycle {
    /// `2025-06`, in idempotency keys.
    pub key: String,
    /// `2025年06月`, in titles and messages.
    pub label: String,
}

impl Cycle {
    pub fn of(as_of: NaiveDate) -> Cycle {
        Cycle {
            key: as_of.format("%Y-%m").to_string(),
            label: as_of.format("%Y年%m月").to_string(),
        }
    }
}

/// Each entity's observations, found through the run's links.
pub fn members_by_entity<'o>(
    observations: &'o [Observation],
    links: &'o [Link],
) -> FxHashMap<&'o str, Vec<&'o Observation>> {
    let by_key: FxHashMap<(&str, &str), &str> = links
        .iter()
        .map(|l| {
            (
                (l.source.as_str(), l.record_key.as_str()),
                l.entity_id.as_str(),
            )
        })
        .collect();
    let mut out: FxHashMap<&str, Vec<&Observation>> = FxHashMap::default();
    for o in observations {
        if let Some(e) = by_key.get(&(o.source.as_str(), o.record_key.as_str())) {
            out.entry(*e).or_default().push(o);
        }
    }
    out
}

/// The state of a lead the lifecycle did not record (withheld, or the register was stale).
pub fn unrecorded_state(lead: &Lead, run_id: i64, as_of: NaiveDate) -> LeadState {
    LeadState::first_listed(
        &lead.lead_id,
        &lead.entity_id,
        lead.kind,
        lead.township_code.clone(),
        run_id,
        as_of,
    )
}

/// One list per township (every township, even with no leads) and the county list of
/// unplaced leads when it has any; rows by priority, highest first, then by name.
pub fn township_lists(
    townships: &[Township],
    listed: &[&Lead],
) -> Vec<(TownshipKey, Vec<LeadRow>)> {
    let mut lists: BTreeMap<Option<TownshipCode>, (String, Vec<&Lead>)> = BTreeMap::new();
    for t in townships {
        lists.insert(Some(t.code.clone()), (t.name.clone(), Vec::new()));
    }
    lists.insert(None, ("未能定位乡镇".to_string(), Vec::new()));
    for l in listed {
        if let Some(list) = lists.get_mut(&l.township_code) {
            list.1.push(l);
        }
    }
    lists
        .into_iter()
        .filter(|(code, (_, rows))| code.is_some() || !rows.is_empty())
        .map(|(code, (name, mut leads))| {
            leads.sort_by(|a, b| {
                b.priority
                    .cmp(&a.priority)
                    .then(a.row.name.cmp(&b.row.name))
                    .then(a.lead_id.cmp(&b.lead_id))
            });
            let rows = leads.into_iter().map(|l| l.row.clone()).collect();
            let code = code.map(String::from);
            (TownshipKey { code, name }, rows)
        })
        .collect()
}

/// Why a lead the township received is not on this version, when nothing more is known.
const REMOVED_DEFAULT: &str = "本期重新核对后不再列入";

/// What a run queues for one township list on one channel, planned before the lists are
/// written (a 更正版 says so in its title) and turned into an outbox entry after.
#[derive(Debug, Clone)]
pub struct ListPlan<'q> {
    /// The list's index in the run's township lists.
    pub list: usize,
    pub channel: String,
    pub plan: Plan,
    /// The versions of this (cycle, township, channel) already queued.
    pub queued: Vec<&'q OutboxRow>,
}

/// Plans every township list on every channel serving it against the versions already
/// queued in its cycle (`queued`: [`crate::store::Store::cycle_lists`]): the first version,
/// a replacement of one not yet sent, a 更正版 with what was added and removed — why a lead
/// is gone comes from `why_removed`, by lead id — or nothing when the list equals what was
/// sent.
pub fn plan_lists<'q>(
    cfg: &Config,
    cycle: &Cycle,
    lists: &[(TownshipKey, Vec<LeadRow>)],
    queued: &'q [OutboxRow],
    why_removed: &FxHashMap<String, String>,
) -> Result<Vec<ListPlan<'q>>, PipelineError> {
    let why = |r: &LeadRow| {
        why_removed
            .get(&r.lead_id)
            .cloned()
            .unwrap_or_else(|| REMOVED_DEFAULT.to_string())
    };
    let mut out = Vec::new();
    for (i, (key, rows)) in lists.iter().enumerate() {
        let code = key.code.as_deref();
        for channel in cfg
            .settings
            .delivery
            .channel
            .iter()
            .filter(|c| c.serves(code))
        {
            let base = idempotency_key(&cfg.settings.county.code, &cycle.key, code, &channel.id);
            let earlier: Vec<&OutboxRow> = queued
                .iter()
                .filter(|q| q.township_code.as_deref() == code && q.channel == channel.id)
                .collect();
            let versions = earlier
                .iter()
                .map(|q| {
                    let p: ListPayload = serde_json::from_str(&q.payload)?;
                    Ok(Queued {
                        version: q.version,
                        idempotency_key: q.idempotency_key.clone(),
                        sent: q.sent(),
                        rows: p.leads,
                    })
                })
                .collect::<Result<Vec<_>, serde_json::Error>>()?;
            out.push(ListPlan {
                list: i,
                channel: channel.id.clone(),
                plan: correction::plan(&base, &versions, rows, &why),
                queued: earlier,
            });
        }
    }
    Ok(out)
}

/// The 更正版 number each township's list carries in its title (by township code; `None`:
/// the county list): the highest version a channel queues for it, when above 1.
pub fn correction_versions(
    plans: &[ListPlan<'_>],
    lists: &[(TownshipKey, Vec<LeadRow>)],
) -> BTreeMap<Option<String>, u32> {
    let mut out = BTreeMap::new();
    for p in plans {
        if let Plan::Queue {
            version,
            correction: Some(_),
            ..
        } = &p.plan
        {
            let code = lists[p.list].0.code.clone();
            let v = out.entry(code).or_insert(*version);
            *v = (*v).max(*version);
        }
    }
    out
}

/// Outbox entries from the plans and the files written: every list queued as `status`
/// (`waiting` or `pending`) under its version's key with the lists' 反馈时限 `deadline`, and
/// unsent versions a plan withdraws as `superseded`.
pub fn outbox_items(
    cfg: &Config,
    cycle: &Cycle,
    written: &[WrittenList],
    lists: &[(TownshipKey, Vec<LeadRow>)],
    plans: &[ListPlan<'_>],
    status: &'static str,
    deadline: &str,
) -> Result<Vec<NewOutbox>, PipelineError> {
    let delivery = &cfg.settings.delivery;
    let mut out = Vec::new();
    for p in plans {
        let (Some(w), Some((_, rows))) = (written.get(p.list), lists.get(p.list)) else {
            continue;
        };
        let (version, key, correction) = match &p.plan {
            Plan::Queue {
                version,
                key,
                correction,
            } => (*version, key.clone(), correction.clone()),
            Plan::Unchanged { withdraw } => {
                for q in p
                    .queued
                    .iter()
                    .filter(|q| withdraw.contains(&q.idempotency_key))
                {
                    out.push(NewOutbox {
                        cycle: cycle.key.clone(),
                        township_code: q.township_code.clone(),
                        channel: q.channel.clone(),
                        idempotency_key: q.idempotency_key.clone(),
                        kind: "list",
                        payload: q.payload.clone(),
                        version: q.version,
                        status: "superseded",
                    });
                }
                continue;
            }
        };
        let file_name = w
            .xlsx
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let run_folder = w
            .xlsx
            .parent()
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let payload = ListPayload {
            county: cfg.settings.county.name.clone(),
            cycle: cycle.label.clone(),
            township_code: w.township.code.clone().map(TownshipCode::from),
            township_name: w.township.name.clone(),
            counts: ListCounts::of(rows),
            leads: rows.clone(),
            xlsx_path: w.xlsx.clone(),
            xlsx_url: excel_link(&delivery.xlsx_base_url, &run_folder, &file_name),
            correction,
            deadline: Some(deadline.to_string()),
        };
        out.push(NewOutbox {
            cycle: cycle.key.clone(),
            township_code: w.township.code.clone().map(TownshipCode::from),
            channel: p.channel.clone(),
            idempotency_key: key,
            kind: "list",
            payload: serde_json::to_string(&payload)?,
            version,
            status,
        });
    }
    Ok(out)
}

/// `<base>/<run folder>/<file>`, percent-encoded; `None` without a base URL.
pub fn excel_link(base: &str, run_folder: &str, file: &str) -> Option<String> {
    let mut url = url::Url::parse(base.trim()).ok()?;
    url.path_segments_mut()
        .ok()?
        .pop_if_empty()
        .push(run_folder)
        .push(file);
    Some(url.to_string())
}

/// The SME-assistance candidates, by township then name.
pub fn sme_rows(
    records: &[MasterRecord],
    assessments: &[Assessment],
    placements: &[Placement],
    locator: &Locator,
) -> Vec<SmeRow> {
    let mut rows: Vec<SmeRow> = records
        .iter()
        .zip(assessments)
        .zip(placements)
        .filter(|((_, a), _)| a.sme_assistance)
        .map(|((m, a), p)| SmeRow {
            township: locator
                .township_label(p.township_code.as_deref())
                .to_string(),
            name: m.name.clone(),
            uscc: m
                .uscc
                .as_ref()
                .map(|u| u.as_str().to_string())
                .unwrap_or_default(),
            industry: m
                .industry_code
                .as_ref()
                .map(|c| {
                    format!("{c} {}", m.industry_name.clone().unwrap_or_default())
                        .trim()
                        .to_string()
                })
                .unwrap_or_default(),
            headcount: m.headcount,
            revenue_wan: m.revenue,
            size_class: a
                .size
                .as_ref()
                .map(|s| {
                    if s.estimated {
                        format!("{}（估）", s.class.label_zh())
                    } else {
                        s.class.label_zh().to_string()
                    }
                })
                .unwrap_or_default(),
            filing_status: a.filing.label_zh().to_string(),
            evidence: [
                m.last_exam.map(|d| format!("职业健康检查{d}")),
                m.last_test.map(|d| format!("检测{d}")),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join("、"),
            address: m.address.clone().unwrap_or_default(),
        })
        .collect();
    rows.sort_by(|a, b| a.township.cmp(&b.township).then(a.name.cmp(&b.name)));
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excel_links_are_percent_encoded_under_the_base() {
        assert_eq!(
            excel_link("http://intranet.example/yingbao/", "2025-06-30-run1", "350583119_水头镇.xlsx")
                .as_deref(),
            Some("http://intranet.example/yingbao/2025-06-30-run1/350583119_%E6%B0%B4%E5%A4%B4%E9%95%87.xlsx")
        );
        assert_eq!(excel_link("", "r", "f.xlsx"), None);
    }
}

/// Leads that go to no township: the county's 待核实 list and the referral list of each
/// other county (外县线索移交).
#[derive(Debug, Clone, Default)]
pub struct SideLists {
    pub pending: Vec<LeadRow>,
    /// (county code, county name) → rows.
    pub referrals: BTreeMap<(String, String), Vec<LeadRow>>,
    /// (county name) → the referred employers and their source records (each once).
    referred: BTreeMap<String, BTreeMap<EntityId, usize>>,
}

/// Sub-folder of a run's output with the county's 待核实 list.
pub const PENDING_DIR: &str = "待核实";
/// Sub-folder of a run's output with one referral list per other county.
pub const REFERRAL_DIR: &str = "外县线索移交";

impl SideLists {
    /// Adds a lead that `destination` sends elsewhere than a township; `records` is how many
    /// source records its employer has.
    pub fn add(&mut self, lead: &Lead, destination: Destination, records: usize) {
        let mut row = lead.row.clone();
        match destination {
            Destination::Township => {}
            Destination::Pending(why) => {
                row.reasons.insert(0, why);
                self.pending.push(row);
            }
            Destination::Referral { code, name, basis } => {
                row.reasons.insert(0, format!("外县线索：{basis}"));
                row.township = name.clone();
                row.village.clear();
                row.placement = "不在本县，移交属地".to_string();
                self.referred
                    .entry(name.clone())
                    .or_default()
                    .insert(lead.entity_id.clone(), records);
                self.referrals.entry((code, name)).or_default().push(row);
            }
        }
    }

    /// Referred leads and records per other county, by name.
    pub fn referral_counts(&self) -> BTreeMap<String, (usize, usize)> {
        self.referrals
            .iter()
            .map(|((_, name), rows)| {
                let records = self
                    .referred
                    .get(name)
                    .map_or(0, |employers| employers.values().sum());
                (name.clone(), (rows.len(), records))
            })
            .collect()
    }

    /// Writes `待核实/` (when it has rows) and `外县线索移交/` (one list per county).
    pub fn write(
        &self,
        dir: &std::path::Path,
        county: &str,
        cycle: &str,
        terms: &crate::deliver::ListTerms,
    ) -> Result<Vec<std::path::PathBuf>, crate::deliver::DeliverError> {
        let mut out = Vec::new();
        if !self.pending.is_empty() {
            let lists = vec![(
                TownshipKey {
                    code: None,
                    name: "待核实".to_string(),
                },
                self.pending.clone(),
            )];
            let written = write_lists(
                &dir.join(PENDING_DIR),
                &lists,
                |_| {
                    format!(
                        "{county} 职业病危害项目申报线索待核实清单（{cycle}，匹配存疑，不下发乡镇）"
                    )
                },
                terms,
                &Default::default(),
                &Earlier::default(),
            )?;
            out.extend(written.into_iter().map(|w| w.xlsx));
        }
        if !self.referrals.is_empty() {
            let lists: Vec<(TownshipKey, Vec<LeadRow>)> = self
                .referrals
                .iter()
                .map(|((code, name), rows)| {
                    (
                        TownshipKey {
                            code: Some(code.clone()),
                            name: name.clone(),
                        },
                        rows.clone(),
                    )
                })
                .collect();
            let written = write_lists(
                &dir.join(REFERRAL_DIR),
                &lists,
                |key| format!("{county}移交{} 职业病危害项目申报线索（{cycle}）", key.name),
                terms,
                &Default::default(),
                &Earlier::default(),
            )?;
            out.extend(written.into_iter().map(|w| w.xlsx));
        }
        Ok(out)
    }
}

/// Status words the operating rules do not know, with how many employers gave each.
pub fn unknown_statuses(assessments: &[Assessment]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for a in assessments {
        for w in &a.unknown_statuses {
            *out.entry(w.clone()).or_default() += 1;
        }
    }
    out
}
