//! Write: a run's decisions handed out — township, side and SME lists written to the output
//! folder, results and the outbox saved in one transaction — and the run's summary.

use std::collections::BTreeMap;

use super::approval::{approval, Approval, ApprovalFacts};
use super::decide::{Decision, ThisRun};
use super::gather::Gathered;
use super::lists;
use super::release::Gates;
use super::{entity_data, Clock, PipelineError, RunSummary, Warm};
use crate::config::Config;
use crate::deliver::sme_list::write_sme_list_from;
use crate::deliver::testing_list::write_testing_lists;
use crate::deliver::township_files::{list_title, write_lists, TownshipKey};
use crate::deliver::DeliverError;
use crate::deliver::Earlier;
use crate::place::Placement;
use crate::resolve::MasterRecord;
use crate::screen::scope::Scope;
use crate::screen::Assessment;
use crate::store::{EntityRow, LeadRecord, LifecycleUpdate, Store};

/// A run's decisions and the gates they were made under.
pub(super) struct Decided {
    pub gates: Gates,
    pub decision: Decision,
    /// A dry run: the lists go to the preview folder; nothing is queued or saved.
    pub preview: bool,
}

/// Writes the lists (unless the gates block them), saves the run and sums it up.
pub(super) async fn write(
    cfg: &Config,
    store: &Store,
    run: ThisRun,
    gathered: Gathered,
    decided: Decided,
    warm: Option<&mut Warm>,
    clock: &mut Clock<'_>,
) -> Result<RunSummary, PipelineError> {
    let Decided {
        gates,
        decision,
        preview,
    } = decided;
    let Gathered {
        sources,
        mut resolution,
        locator,
        scopes,
        placements,
        assessments,
        incremental,
        observations,
    } = gathered;
    // Decided: the records themselves are no longer needed, and the lists and the stored
    // entities about to be built are the run's peak of memory.
    drop(observations);
    let (run_id, as_of) = (run.id, run.as_of);
    let listed = decision.listed();
    let lists = lists::township_lists(&cfg.gazetteer.townships, &listed);
    // A dry run writes its lists where no channel and no later run looks.
    let out_root = cfg.path(&cfg.settings.output.dir);
    let out_root = if preview {
        out_root.join(PREVIEW_DIR)
    } else {
        out_root
    };
    let out_dir = out_root.join(format!("{as_of}-run{run_id}"));
    let cycle = lists::Cycle::of(as_of);
    let open = gates.push_blocked.is_none();
    // The lists are written on one thread while the entities' stored form is built on
    // another; the outbox is made from the files written, once both are done.
    let sme_rows = (cfg.settings.flags.sme_assistance.enabled && open)
        .then(|| lists::sme_rows(&resolution.records, &assessments, &placements, &locator));
    let sme = sme_rows.as_ref().map_or(0, Vec::len);
    // Periodic-testing reminders (检测到期提醒), written beside the lists when they are.
    let reminders = if open {
        crate::screen::testing_due::testing_due(
            &resolution.records,
            &assessments,
            &placements,
            &scopes,
            &locator,
            &cfg.settings.policy.testing,
            as_of,
        )
    } else {
        Vec::new()
    };
    let testing_due = reminders.len();
    // Each list's version this cycle, planned before it is written: a 更正版 says so on
    // the list itself. A dry run queues nothing and plans nothing.
    let listed_ids: std::collections::HashSet<&str> =
        listed.iter().map(|l| l.lead_id.as_str()).collect();
    let why_removed = why_removed(&decision, &listed_ids);
    let queued = if open && !preview {
        store.cycle_lists(&cycle.key).await?
    } else {
        Vec::new()
    };
    let plans = if open && !preview {
        lists::plan_lists(cfg, &cycle, &lists, &queued, &why_removed)?
    } else {
        Vec::new()
    };
    let versions = lists::correction_versions(&plans, &lists);
    // The run's 反馈时限 and 处置要求, printed on every list and given in every message.
    let terms = cfg.settings.delivery.list.terms(as_of);
    let writer = {
        let (dir, county, label) = (
            out_dir.clone(),
            cfg.settings.county.name.clone(),
            cycle.label.clone(),
        );
        let (lists, side) = (lists.clone(), decision.side.clone());
        let sme_title = format!("{county}{label}中小微企业职业健康帮扶候选名单");
        let earlier = warm.as_ref().map(|w| w.lists()).unwrap_or_default();
        let terms = terms.clone();
        tokio::task::spawn_blocking(move || -> Result<_, DeliverError> {
            if !open {
                return Ok((Vec::new(), Vec::new(), None));
            }
            let title = |key: &TownshipKey| {
                let title = list_title(&county, &key.name, &label);
                match versions.get(&key.code) {
                    Some(v) => format!("{title}【更正版·第{v}版】"),
                    None => title,
                }
            };
            // Each township's testing reminders travel in its workbook too.
            let sheets = crate::deliver::testing_list::sheets(&reminders, &county, &label);
            let written = write_lists(&dir, &lists, title, &terms, &sheets, &earlier)?;
            // The county's and other counties' lists rest on the register as much as the
            // townships'.
            let side_written = side.write(&dir, &county, &label, &terms)?;
            let sme = match &sme_rows {
                Some(rows) => Some(write_sme_list_from(&dir, &sme_title, rows, &earlier)?.1),
                None => None,
            };
            write_testing_lists(&dir, &county, &label, &reminders)?;
            Ok((written, side_written, sme))
        })
    };
    let entities = resolution.records.len();
    let rows = {
        let records = std::mem::take(&mut resolution.records);
        tokio::task::spawn_blocking(move || {
            let rows = entity_rows(&records, &assessments, &placements, &scopes);
            (records, rows)
        })
    };
    let (written, side_written, sme_files) = writer.await??;
    let (records, entity_rows) = rows.await?;
    let entity_rows = entity_rows?;
    resolution.records = records;
    let mut warm = warm;
    if let (Some(w), true) = (warm.as_deref_mut(), open) {
        let mut kept = Earlier::default();
        for list in &written {
            kept.remember(list.digest, vec![list.xlsx.clone(), list.csv.clone()]);
        }
        if let Some((digest, files)) = sme_files {
            kept.remember(digest, files);
        }
        w.keep_lists(kept);
    }
    clock.lap("write_lists");

    // The run's figures, before the leads move into what the store keeps.
    let approval = if open && !preview {
        approval_of(cfg, store, &sources, listed.len()).await?
    } else {
        Approval::default()
    };
    let status = if approval.waits { "waiting" } else { "pending" };
    let outbox = lists::outbox_items(
        cfg,
        &cycle,
        &written,
        &lists,
        &plans,
        status,
        &terms.deadline_text(),
    )?;
    let (listed_n, found_n) = (listed.len(), decision.leads.len());
    let unplaced = listed.iter().filter(|l| l.township_code.is_none()).count();
    let mut by_kind: BTreeMap<String, usize> = BTreeMap::new();
    for l in &listed {
        *by_kind.entry(l.kind.as_str().to_string()).or_default() += 1;
    }
    drop(listed);
    let Decision {
        leads,
        side,
        unknown_statuses,
        withheld,
        advance,
    } = decision;
    let lead_records: Vec<LeadRecord> = leads
        .into_iter()
        .map(|l| LeadRecord {
            lead_id: l.lead_id.to_string(),
            entity_id: l.entity_id.clone(),
            township_code: l.township_code.clone(),
            rule_ids: l.rule_ids.join(","),
            data: crate::leads::LeadData::from(l),
        })
        .collect();
    let states: Vec<_> = advance.states.values().cloned().collect();
    // A dry run keeps nothing of what it decided.
    if !preview {
        store
            .save_results(
                run_id,
                &entity_rows,
                &resolution.links,
                &lead_records,
                gates.lifecycle_moves.then_some(LifecycleUpdate {
                    states: &states,
                    transitions: &advance.transitions,
                    as_of,
                }),
                &outbox,
            )
            .await?;
        store
            .save_pairs(run_id, &resolution.merges, &resolution.review)
            .await?;
    }
    clock.lap("save");

    let (review_pairs, resolve_stats) = (resolution.review.len(), resolution.stats.clone());
    // Everything is written: the resolution goes back to the resolver `serve` keeps.
    if let Some(w) = warm {
        w.give_back(resolution);
    }

    let by_township: Vec<(String, String, usize)> = lists
        .iter()
        .map(|(k, rows)| {
            (
                k.code.clone().unwrap_or_default(),
                k.name.clone(),
                rows.len(),
            )
        })
        .collect();
    let mut transitions: BTreeMap<String, usize> = BTreeMap::new();
    for t in &advance.transitions {
        *transitions.entry(t.to.as_str().to_string()).or_default() += 1;
    }
    Ok(RunSummary {
        run_id,
        as_of,
        sources,
        entities,
        leads: listed_n,
        found: found_n,
        by_kind,
        transitions,
        withheld: withheld.len(),
        sme_candidates: sme,
        testing_due,
        queued_deliveries: outbox.iter().filter(|o| o.status != "superseded").count(),
        corrections: outbox
            .iter()
            .filter(|o| o.status != "superseded" && o.version > 1)
            .count(),
        approval,
        preview,
        by_township,
        unplaced,
        register_missing: gates.register_missing,
        push_blocked: gates.push_blocked,
        review_pairs,
        incremental,
        pending: side.pending.len(),
        referrals: side.referral_counts(),
        side_lists: side_written,
        unknown_statuses,
        resolve: resolve_stats,
        out_dir,
        timings: std::mem::take(&mut clock.timings),
    })
}

/// Sub-folder of the output folder where `yingbao run --dry-run` writes its lists.
pub const PREVIEW_DIR: &str = "preview";

/// Why each lead that could have been on a township list is not on this run's, in Chinese,
/// for a 更正版's removed leads: its lifecycle closed it, it went to 待核实, it waits for a
/// stale feed, or it now belongs to another township.
fn why_removed(
    decision: &Decision,
    listed: &std::collections::HashSet<&str>,
) -> rustc_hash::FxHashMap<String, String> {
    let mut out = rustc_hash::FxHashMap::default();
    for l in &decision.leads {
        if listed.contains(l.lead_id.as_str()) {
            // Still listed, maybe in another township: the old one reads where it went.
            out.insert(l.lead_id.to_string(), format!("改属{}", l.row.township));
        } else if decision.withheld.contains(&l.lead_id) {
            out.insert(
                l.lead_id.to_string(),
                "所依据的数据本期未能更新，暂缓下发".to_string(),
            );
        }
    }
    for r in &decision.side.pending {
        out.insert(
            r.lead_id.clone(),
            "匹配存疑，改列县级待核实清单".to_string(),
        );
    }
    for t in &decision.advance.transitions {
        if !t.to.is_listed() && !t.note.is_empty() {
            out.insert(t.lead_id.to_string(), t.note.clone());
        }
    }
    out
}

/// Whether this run's lists wait for the operator ([`approval`]), from what the store knows
/// of earlier deliveries.
async fn approval_of(
    cfg: &Config,
    store: &Store,
    sources: &[super::SourceOutcome],
    listed: usize,
) -> Result<Approval, PipelineError> {
    let first = !store.any_list_sent().await?;
    let listed_before = match store.last_released_run().await? {
        Some(run) => store
            .run_row(run)
            .await?
            .and_then(|r| r.summary_json())
            .and_then(|v| v.get("leads").and_then(|n| n.as_u64()))
            .map(|n| n as usize),
        None => None,
    };
    let delivery = &cfg.settings.delivery;
    Ok(approval(ApprovalFacts {
        mode: delivery.approve,
        max_change: delivery.approve_max_change,
        first,
        sources,
        listed,
        listed_before,
    }))
}

/// Each entity as the store keeps it: its record, assessment, placement and scope as JSON.
fn entity_rows(
    records: &[MasterRecord],
    assessments: &[Assessment],
    placements: &[Placement],
    scopes: &[Scope],
) -> Result<Vec<EntityRow>, serde_json::Error> {
    records
        .iter()
        .zip(assessments)
        .zip(placements)
        .zip(scopes)
        .map(|(((m, a), p), scope)| {
            Ok(EntityRow {
                entity_id: m.entity_id.clone(),
                uscc: m.uscc.as_ref().map(|u| u.as_str().to_string()),
                name: m.name.clone(),
                township_code: p.township_code.clone(),
                data: entity_data(m, a, p, scope)?,
            })
        })
        .collect()
}
