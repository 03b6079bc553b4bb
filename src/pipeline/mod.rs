//! One run of the whole job: ingest every feed into a snapshot, resolve, place, screen, write
//! the township lists and save everything. I/O lives here; the stages it calls are pure.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::domain::{Feed, LeadId};
use crate::place::{Locator, Placement};
use crate::resolve::{MasterRecord, MatchContext};
use crate::screen::scope::Scope;
use crate::screen::Assessment;
use crate::store::{Store, StoreError};
use release::Gates;

pub mod approval;
pub mod decide;
pub mod gather;
pub mod lists;
pub mod release;
mod sources;
mod warm;
mod write;

pub use sources::{pull, Sources};
pub use warm::Warm;
pub use write::PREVIEW_DIR;

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
    /// `csv GB18030`, `http`, `sql`; `unchanged` for files read before, `unchanged (kept)` when
    /// their records came from the resolver `serve` keeps), and the seconds it took.
    pub bytes: u64,
    pub format: String,
    pub read_seconds: f64,
    /// The snapshot whose records were used (`None`: none).
    pub snapshot_id: Option<i64>,
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
    /// Employers on the periodic-testing reminder lists (检测到期提醒): due, overdue or due
    /// soon (`[policy.testing]`).
    pub testing_due: usize,
    /// Deliveries queued in the outbox this run (township lists × channels).
    pub queued_deliveries: usize,
    /// Of those, 更正版 (a later version of a list already sent this cycle).
    pub corrections: usize,
    /// Whether the queued lists wait for the operator (`yingbao approve <run>`), and why.
    pub approval: approval::Approval,
    /// A dry run (`yingbao run --dry-run`): lists written to the preview folder, nothing
    /// queued or saved but the snapshots read.
    pub preview: bool,
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
    /// What the kept resolver re-resolved, when this run updated it (`serve`) instead of
    /// resolving everything.
    pub incremental: Option<crate::resolve::incremental::UpdateStats>,
    pub out_dir: PathBuf,
    pub timings: Vec<StageTiming>,
}

/// What a finished run means for whoever started it (`yingbao run`'s exit status).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunOutcome {
    /// Every source fresh and the township lists written.
    Clean,
    /// The township lists written, but from a feed's last good snapshot: a feed failed, was
    /// held or has no snapshot yet.
    FeedStale,
    /// No township list written: the declaration register is not fresh, or there is none.
    ListsNotWritten,
}

impl RunSummary {
    /// What this run amounts to; the worst that applies.
    pub fn outcome(&self) -> RunOutcome {
        if self.push_blocked.is_some() || self.register_missing {
            RunOutcome::ListsNotWritten
        } else if self.sources.iter().any(|s| s.status != SourceStatus::Fresh) {
            RunOutcome::FeedStale
        } else {
            RunOutcome::Clean
        }
    }
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
    run_kept(cfg, store, mode, progress, None, false).await
}

/// A dry run (`yingbao run --dry-run`): reads and decides as a run does, writes the lists to
/// `<output>/preview/`, and queues, sends and saves nothing but the snapshots it read (the
/// run is recorded as `preview`, never "the last run").
pub async fn run_preview(
    cfg: &Config,
    store: &Store,
    progress: Progress<'_>,
) -> Result<RunSummary, PipelineError> {
    run_kept(cfg, store, Sources::Read, progress, None, true).await
}

/// `run_with` for a process that runs the job again and again (`serve`): the resolver of the
/// last run is kept in `warm`, and a run after it re-resolves only what changed.
pub async fn run_warm(
    cfg: &Config,
    store: &Store,
    mode: Sources,
    warm: &mut Warm,
) -> Result<RunSummary, PipelineError> {
    run_kept(cfg, store, mode, &|_| {}, Some(warm), false).await
}

async fn run_kept(
    cfg: &Config,
    store: &Store,
    mode: Sources,
    progress: Progress<'_>,
    warm: Option<&mut Warm>,
    preview: bool,
) -> Result<RunSummary, PipelineError> {
    let as_of = as_of(cfg);
    let run_id = store.begin_run(as_of).await?;
    let this_run = decide::ThisRun {
        id: run_id,
        as_of,
        lapse_months: cfg.settings.policy.lapse_months,
    };
    match run_inner(cfg, store, this_run, mode, progress, warm, preview).await {
        Ok(summary) => {
            let status = if preview {
                crate::store::PREVIEW
            } else {
                "succeeded"
            };
            store
                .finish_run(run_id, status, &serde_json::to_string(&summary)?)
                .await?;
            // Retention never fails a run that succeeded: what it could not drop now, a
            // later run drops.
            if let Err(e) = store.compact(&cfg.settings.store).await {
                tracing::warn!(error = %e, "retention could not drop old detail");
            }
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
    this_run: decide::ThisRun,
    mode: Sources,
    progress: Progress<'_>,
    warm: Option<&mut Warm>,
    preview: bool,
) -> Result<RunSummary, PipelineError> {
    let mut clock = Clock {
        start: Instant::now(),
        timings: Vec::new(),
        progress,
    };
    let mut warm = warm;
    let gathered = gather::gather(
        cfg,
        store,
        this_run.id,
        this_run.as_of,
        mode,
        warm.as_deref_mut(),
        &mut clock,
    )
    .await?;
    let gates = Gates::of(&gathered.sources);
    let memory = remember(store, &gates).await?;
    let rules = cfg.settings.lifecycle.rules();
    let decision = decide::decide(&gathered, &gates, memory, &rules, this_run);
    log_decision(&gates, &decision);
    let decided = write::Decided {
        gates,
        decision,
        preview,
    };
    write::write(cfg, store, this_run, gathered, decided, warm, &mut clock).await
}

/// Reads what this run's decisions need from earlier runs, and only that.
async fn remember(store: &Store, gates: &Gates) -> Result<decide::Memory, PipelineError> {
    let mut memory = decide::Memory {
        states: store.lead_states().await?,
        ..Default::default()
    };
    if !gates.stale.is_empty() {
        if let Some(prev) = store.last_run().await? {
            memory.last_run_leads = store
                .leads(prev)
                .await?
                .into_iter()
                .map(|l| LeadId::from(l.lead_id))
                .collect();
        }
    }
    if gates.lifecycle_moves {
        memory.dispositions = store.latest_dispositions().await?;
    }
    Ok(memory)
}

/// Tells the operator's log what this run holds back and why.
fn log_decision(gates: &Gates, decision: &decide::Decision) {
    if gates.register_missing {
        tracing::error!(
            "the declaration register has no usable snapshot: no leads are written this run"
        );
    }
    for (word, n) in &decision.unknown_statuses {
        tracing::warn!(status = %word, employers = n, "a status word the operating rules do not know: add it to [policy.operating]");
    }
    if let Some(why) = &gates.push_blocked {
        tracing::error!(reason = %why, "township lists are not written this run");
    }
    if !decision.withheld.is_empty() {
        tracing::warn!(
            leads = decision.withheld.len(),
            stale = ?gates.stale,
            "new leads resting on a stale feed are not handed out this run"
        );
    }
}
