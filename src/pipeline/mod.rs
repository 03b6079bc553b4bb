//! One run of the whole job: ingest every feed into a snapshot, resolve, place, screen, write
//! the township lists and save everything. I/O lives here; the stages it calls are pure.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::time::Instant;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::deliver::township_files::write_township_lists;
use crate::domain::Feed;
use crate::leads::lifecycle;
use crate::leads::{find_leads, LeadState};
use crate::place::{Locator, Placement};
use crate::resolve::{resolve, MasterRecord, MatchContext, ResolveOptions};
use crate::screen::scope::{self, Scope};
use crate::screen::{screen, Assessment};
use crate::store::{EntityRow, LeadRecord, LifecycleUpdate, Store, StoreError};

pub mod decide;
pub mod lists;
pub mod release;
mod sources;

pub use sources::{pull, Sources};

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("writing the township lists failed: {0}")]
    Deliver(#[from] crate::deliver::DeliverError),
    #[error("a worker thread failed: {0}")]
    Join(#[from] tokio::task::JoinError),
    #[error("cannot encode results: {0}")]
    Json(#[from] serde_json::Error),
}

/// An entity as a run writes it to `entities.data`.
#[derive(Serialize)]
struct StoredEntityRef<'a> {
    record: &'a MasterRecord,
    assessment: &'a Assessment,
    placement: &'a Placement,
    scope: &'a Scope,
}

/// The JSON a run stores for one entity (`entities.data`); `StoredEntity` reads it back.
pub fn entity_data(
    record: &MasterRecord,
    assessment: &Assessment,
    placement: &Placement,
    scope: &Scope,
) -> Result<String, serde_json::Error> {
    serde_json::to_string(&StoredEntityRef {
        record,
        assessment,
        placement,
        scope,
    })
}

/// An entity as `entities.data` holds it, read back (by `eval`): the same fields as
/// `StoredEntityRef`, typed, so a renamed field is an error, not a zero.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StoredEntity {
    pub record: MasterRecord,
    pub assessment: Assessment,
    pub placement: Placement,
    /// Runs before other counties were told apart stored no scope: local.
    #[serde(default)]
    pub scope: Option<Scope>,
}

/// How a source stands this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceStatus {
    /// A new snapshot, used.
    Fresh,
    /// A new snapshot distrusted (too small, too different); the last good one used.
    Held,
    /// Could not be read; the last good snapshot used.
    Failed,
    /// No snapshot at all yet (a scheduled source not pulled so far).
    Missing,
}

impl SourceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceStatus::Fresh => "fresh",
            SourceStatus::Held => "held",
            SourceStatus::Failed => "failed",
            SourceStatus::Missing => "missing",
        }
    }
}

impl std::fmt::Display for SourceStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happened to one source this run.
#[derive(Debug, Clone, Serialize)]
pub struct SourceOutcome {
    pub source: String,
    pub feed: Feed,
    pub status: SourceStatus,
    /// Data rows in the files read (an exam feed has one per worker).
    pub source_rows: usize,
    /// Observations the rows made (after folding rows per employer, where configured).
    pub rows_read: usize,
    pub quarantined: usize,
    pub invalid_uscc: usize,
    /// Records in the snapshot actually used.
    pub records_used: usize,
    pub note: Option<String>,
    /// What was read: bytes of the files (or of the fields received), how (`xlsx`,
    /// `csv GB18030`, `http`, `sql`), and the seconds reading and mapping took.
    pub bytes: u64,
    pub format: String,
    pub read_seconds: f64,
}

/// The time and memory one stage took.
#[derive(Debug, Clone, Serialize)]
pub struct StageTiming {
    pub stage: String,
    pub seconds: f64,
    /// Peak resident memory of the process so far, MiB (VmHWM).
    pub peak_mib: f64,
}

/// The result of one run, printed by `yingbao run`.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    pub run_id: i64,
    pub as_of: NaiveDate,
    pub sources: Vec<SourceOutcome>,
    pub entities: usize,
    /// Leads on the township lists (new, open and reopened).
    pub leads: usize,
    /// Leads found, including those closed by a disposition and those withheld.
    pub found: usize,
    /// Listed leads by kind (`unfiled`, `headcount_mismatch` …).
    pub by_kind: BTreeMap<String, usize>,
    /// Lifecycle changes this run, by the status moved to (`new`, `resolved` …).
    pub transitions: BTreeMap<String, usize>,
    /// Employers on the SME-assistance candidate list.
    pub sme_candidates: usize,
    /// Deliveries queued in the outbox this run (township lists × channels).
    pub queued_deliveries: usize,
    /// New leads kept out of the township lists because a feed they rest on is stale.
    pub withheld: usize,
    /// (township code or empty for the county list, name, leads).
    pub by_township: Vec<(String, String, usize)>,
    pub unplaced: usize,
    /// True when no declaration snapshot could be used: the run wrote no leads.
    pub register_missing: bool,
    /// Why the township lists were not written this run (the declaration register is stale:
    /// its feed failed or was held, so "not filed" cannot be trusted). `None`: written.
    pub push_blocked: Option<String>,
    /// Record pairs waiting for an operator's decision (`yingbao review`).
    pub review_pairs: usize,
    /// Leads on the county's 待核实 list (an unsure match, or in no register when required).
    pub pending: usize,
    /// Employers of other counties referred (外县线索移交), by county name: (leads, records).
    pub referrals: BTreeMap<String, (usize, usize)>,
    /// The 待核实 and 外县线索移交 files written this run.
    pub side_lists: Vec<PathBuf>,
    /// Status words the operating rules do not know, with how many employers gave them.
    pub unknown_statuses: BTreeMap<String, usize>,
    pub resolve: crate::resolve::ResolveStats,
    pub out_dir: PathBuf,
    pub timings: Vec<StageTiming>,
}

/// Peak resident set size of this process in MiB (Linux), 0 elsewhere.
pub fn peak_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

struct Clock<'p> {
    start: Instant,
    timings: Vec<StageTiming>,
    progress: Progress<'p>,
}

impl Clock<'_> {
    fn lap(&mut self, stage: &str) {
        let seconds = self.start.elapsed().as_secs_f64();
        tracing::info!(stage, seconds, peak_mib = peak_mib(), "stage done");
        (self.progress)(&format!("{stage} done ({seconds:.1} s)"));
        self.timings.push(StageTiming {
            stage: stage.to_string(),
            seconds,
            peak_mib: peak_mib(),
        });
        self.start = Instant::now();
    }
}

/// What the matcher needs to know about the county: region words, township names, places.
pub fn match_context<'a>(cfg: &Config, locator: &'a Locator) -> MatchContext<'a> {
    MatchContext {
        region_words: cfg.settings.county.region_words.clone(),
        place_words: cfg
            .gazetteer
            .townships
            .iter()
            .map(|t| t.name.clone())
            .collect(),
        locator: Some(locator),
    }
}

/// The date screening uses: the configured one, else today in the county's time zone.
pub fn as_of(cfg: &Config) -> NaiveDate {
    cfg.settings.policy.as_of.unwrap_or_else(|| cfg.today())
}

/// Runs the whole job once, reading every source now.
pub async fn run(cfg: &Config, store: &Store) -> Result<RunSummary, PipelineError> {
    run_with(cfg, store, Sources::Read).await
}

/// Runs the whole job once, reading the sources as `mode` says.
pub async fn run_with(
    cfg: &Config,
    store: &Store,
    mode: Sources,
) -> Result<RunSummary, PipelineError> {
    run_observed(cfg, store, mode, &|_| {}).await
}

/// Where a run reports each step as it goes (an interactive progress line; logs always).
pub type Progress<'a> = &'a (dyn Fn(&str) + Send + Sync);

/// `run_with`, telling `progress` what it is doing.
pub async fn run_observed(
    cfg: &Config,
    store: &Store,
    mode: Sources,
    progress: Progress<'_>,
) -> Result<RunSummary, PipelineError> {
    let as_of = as_of(cfg);
    let run_id = store.begin_run(as_of).await?;
    match run_inner(cfg, store, run_id, as_of, mode, progress).await {
        Ok(summary) => {
            store
                .finish_run(run_id, "succeeded", &serde_json::to_string(&summary)?)
                .await?;
            Ok(summary)
        }
        Err(e) => {
            let note = serde_json::json!({ "error": e.to_string() }).to_string();
            if let Err(e2) = store.finish_run(run_id, "failed", &note).await {
                tracing::error!(error = %e2, "could not record the failed run");
            }
            Err(e)
        }
    }
}

async fn run_inner(
    cfg: &Config,
    store: &Store,
    run_id: i64,
    as_of: NaiveDate,
    mode: Sources,
    progress: Progress<'_>,
) -> Result<RunSummary, PipelineError> {
    let mut clock = Clock {
        start: Instant::now(),
        timings: Vec::new(),
        progress,
    };
    let (observations, sources) = sources::ingest_all(cfg, store, run_id, mode, progress).await?;
    clock.lap("ingest");

    let previous = store.previous_links().await?;
    let locator = std::sync::Arc::new(Locator::new(&cfg.gazetteer));
    let loc = locator.clone();
    let ctx_cfg = cfg.clone();
    let opts = ResolveOptions {
        thresholds: cfg.settings.resolve,
        overrides: store.overrides().await?,
        keep_compared: false,
        fusion: cfg.settings.fusion,
    };
    let (observations, resolution) = tokio::task::spawn_blocking(move || {
        let ctx = match_context(&ctx_cfg, &loc);
        let r = resolve(&observations, &previous, &ctx, &opts);
        (observations, r)
    })
    .await?;
    tracing::info!(stats = ?resolution.stats, "resolved");
    clock.lap("resolve");

    // An employer of another county is never placed here.
    let scopes: Vec<Scope> = resolution
        .records
        .iter()
        .map(|m| scope::judge(m, &locator, cfg.settings.policy.require_registry))
        .collect();
    let placements: Vec<Placement> = resolution
        .records
        .iter()
        .zip(&scopes)
        .map(|(m, scope)| match scope {
            Scope::OtherCounty { .. } => Placement::unplaced(),
            _ => locator.place(
                m.region_code.as_deref(),
                m.addresses.iter().map(String::as_str),
            ),
        })
        .collect();
    clock.lap("place");

    let mut assessments = screen(
        &resolution.records,
        &cfg.settings.policy,
        &cfg.settings.flags,
        &cfg.catalogue,
        as_of,
    );
    // Another county's employer is not this county's to assist either.
    for (a, scope) in assessments.iter_mut().zip(&scopes) {
        if !scope.is_local() {
            a.sme_assistance = false;
        }
    }
    let assessments = assessments;
    clock.lap("screen");

    // Without the declaration register every employer looks unfiled: no leads at all then.
    let register_missing = !sources
        .iter()
        .any(|s| s.feed == Feed::Declaration && s.records_used > 0);
    let members = lists::members_by_entity(&observations, &resolution.links);
    let mut leads = if register_missing {
        tracing::error!(
            "the declaration register has no usable snapshot: no leads are written this run"
        );
        Vec::new()
    } else {
        find_leads(
            &resolution.records,
            &assessments,
            &placements,
            &locator,
            &members,
        )
    };
    drop(members);
    // Leads of another county, and leads resting on an unsure match, do not go to a township.
    let side = decide::route(
        &mut leads,
        &resolution.records,
        &assessments,
        &scopes,
        &resolution.review,
        &resolution.links,
    );
    let unknown_statuses = lists::unknown_statuses(&assessments);
    for (word, n) in &unknown_statuses {
        tracing::warn!(status = %word, employers = n, "a status word the operating rules do not know: add it to [policy.operating]");
    }
    let push_blocked = release::push_blocked(&sources);
    if let Some(why) = &push_blocked {
        tracing::error!(reason = %why, "township lists are not written this run");
    }
    let stale = release::stale_sources(&sources);
    let previous_states = store.lead_states().await?;
    let withheld: HashSet<crate::domain::LeadId> = if stale.is_empty() || leads.is_empty() {
        HashSet::new()
    } else {
        // Listed before: a lead listed now, or on the last run's list.
        let mut before: HashSet<crate::domain::LeadId> = previous_states
            .values()
            .filter(|s| s.status.is_listed())
            .map(|s| s.lead_id.clone())
            .collect();
        if let Some(prev) = store.last_run().await? {
            before.extend(
                store
                    .leads(prev)
                    .await?
                    .into_iter()
                    .map(|l| crate::domain::LeadId::from(l.lead_id)),
            );
        }
        release::withheld_leads(&leads, &resolution.links, &before, &stale)
    };
    if !withheld.is_empty() {
        tracing::warn!(
            leads = withheld.len(),
            stale = ?stale,
            "new leads resting on a stale feed are not handed out this run"
        );
    }

    let lifecycle_moves = release::lifecycle_moves(push_blocked.as_deref(), register_missing);
    let advance = if lifecycle_moves {
        let found: Vec<lifecycle::Found> = leads
            .iter()
            .filter(|l| !withheld.contains(&l.lead_id))
            .map(|l| lifecycle::Found {
                lead_id: l.lead_id.clone(),
                entity_id: l.entity_id.clone(),
                kind: l.kind,
                township_code: l.township_code.clone(),
                activity: l.activity.clone(),
            })
            .collect();
        let rules = cfg.settings.lifecycle.rules();
        let dispositions = store.latest_dispositions().await?;
        lifecycle::advance(
            &previous_states,
            &found,
            &dispositions,
            &rules,
            run_id,
            as_of,
        )
    } else {
        lifecycle::Advance {
            states: previous_states.into_iter().collect(),
            transitions: Vec::new(),
        }
    };
    decide::apply_states(
        &mut leads,
        &advance,
        &resolution.records,
        &assessments,
        &locator,
        decide::ThisRun {
            id: run_id,
            as_of,
            lapse_months: cfg.settings.policy.lapse_months,
        },
    );
    let listed = decide::listed(&leads, &withheld, &advance);
    let lists = lists::township_lists(&cfg.gazetteer.townships, &listed);
    let out_dir = cfg
        .path(&cfg.settings.output.dir)
        .join(format!("{as_of}-run{run_id}"));
    let county = cfg.settings.county.name.clone();
    let cycle = lists::Cycle::of(as_of);
    let dir = out_dir.clone();
    let lists_for_writer = lists.clone();
    let label = cycle.label.clone();
    let written = if push_blocked.is_none() {
        tokio::task::spawn_blocking(move || {
            write_township_lists(&dir, &county, &label, &lists_for_writer)
        })
        .await??
    } else {
        Vec::new()
    };
    // The county's and other counties' lists rest on the register as much as the townships'.
    let side_written = if push_blocked.is_none() {
        let dir = out_dir.clone();
        let county = cfg.settings.county.name.clone();
        let label = cycle.label.clone();
        let side = side.clone();
        tokio::task::spawn_blocking(move || side.write(&dir, &county, &label)).await??
    } else {
        Vec::new()
    };
    let sme = if cfg.settings.flags.sme_assistance.enabled && push_blocked.is_none() {
        let rows = lists::sme_rows(&resolution.records, &assessments, &placements, &locator);
        let n = rows.len();
        let dir = out_dir.clone();
        let title = format!(
            "{}{}中小微企业职业健康帮扶候选名单",
            cfg.settings.county.name, cycle.label
        );
        tokio::task::spawn_blocking(move || {
            crate::deliver::sme_list::write_sme_list(&dir, &title, &rows)
        })
        .await??;
        n
    } else {
        0
    };
    clock.lap("write_lists");

    let outbox = lists::outbox_items(cfg, &cycle, &written, &lists)?;
    let entity_rows = resolution
        .records
        .iter()
        .zip(&assessments)
        .zip(&placements)
        .zip(&scopes)
        .map(|(((m, a), p), scope)| {
            Ok(EntityRow {
                entity_id: m.entity_id.clone(),
                uscc: m.uscc.as_ref().map(|u| u.as_str().to_string()),
                name: m.name.clone(),
                township_code: p.township_code.clone().map(String::from),
                data: entity_data(m, a, p, scope)?,
            })
        })
        .collect::<Result<Vec<_>, serde_json::Error>>()?;
    // The run's figures, before the leads move into what the store keeps.
    let (listed_n, found_n) = (listed.len(), leads.len());
    let unplaced = listed.iter().filter(|l| l.township_code.is_none()).count();
    let mut by_kind: BTreeMap<String, usize> = BTreeMap::new();
    for l in &listed {
        *by_kind.entry(l.kind.as_str().to_string()).or_default() += 1;
    }
    let lead_records: Vec<LeadRecord> = leads
        .into_iter()
        .map(|l| LeadRecord {
            lead_id: l.lead_id.to_string(),
            entity_id: l.entity_id.clone(),
            township_code: l.township_code.clone().map(String::from),
            rule_ids: l.rule_ids.join(","),
            data: crate::leads::LeadData::from(l),
        })
        .collect();
    let states: Vec<LeadState> = advance.states.values().cloned().collect();
    store
        .save_results(
            run_id,
            &entity_rows,
            &resolution.links,
            &lead_records,
            lifecycle_moves.then_some(LifecycleUpdate {
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
    clock.lap("save");

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
        entities: resolution.records.len(),
        leads: listed_n,
        found: found_n,
        by_kind,
        transitions,
        withheld: withheld.len(),
        sme_candidates: sme,
        queued_deliveries: outbox.len(),
        by_township,
        unplaced,
        register_missing,
        push_blocked,
        review_pairs: resolution.review.len(),
        pending: side.pending.len(),
        referrals: side.referral_counts(),
        side_lists: side_written,
        unknown_statuses,
        resolve: resolution.stats.clone(),
        out_dir,
        timings: clock.timings,
    })
}
