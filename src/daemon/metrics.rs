//! The daemon's Prometheus metrics: a thread-safe `prometheus-client` registry, exposed in
//! the OpenMetrics text format for `GET /metrics`; it never decides anything, it only counts.

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use super::scheduler::SchedulerEvent;

/// The `Content-Type` of [`Metrics::render`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Outcome label of `yingbao_runs_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outcome {
    Ok,
    Failed,
}

impl Outcome {
    fn label(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Failed => "failed",
        }
    }
}

impl EncodeLabelValue for Outcome {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        use std::fmt::Write as _;
        encoder.write_str(self.label())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct SourceLabels {
    source: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct JobLabels {
    job: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RunLabels {
    job: String,
    outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct StatusLabels {
    status: String,
}

/// A gauge holding unix seconds with millisecond precision.
type TimeGauge = Gauge<f64, AtomicU64>;

/// The metric handles; the registry holds clones of the same handles, so a change through
/// one is seen when the registry is encoded.
#[derive(Debug, Default)]
struct Families {
    records_read: Family<SourceLabels, Counter>,
    records_rejected: Family<SourceLabels, Counter>,
    runs: Family<RunLabels, Counter>,
    last_success: Family<JobLabels, TimeGauge>,
    source_stale: Family<SourceLabels, Gauge>,
    source_last_good: Family<SourceLabels, TimeGauge>,
    run_running: Gauge,
    push_blocked: Gauge,
    /// Township-list deliveries in the outbox by status (waiting for approval, pending,
    /// delivered, dead, superseded).
    deliveries: Family<StatusLabels, Gauge<u64, AtomicU64>>,
    /// When the newest full run (not a pull) started, and its status (one series at 1).
    last_run_started: TimeGauge,
    last_run_status: Family<StatusLabels, Gauge>,
    /// Runs found left `running` by a process that died, marked interrupted.
    interrupted_runs: Counter,
    /// The last reload of the configuration: when, and whether it was taken (1) or refused (0).
    last_reload: TimeGauge,
    last_reload_ok: Gauge,
}

/// The statuses of a full run; `yingbao_last_run_status` always shows each, at 0 or 1.
pub const RUN_STATUSES: [&str; 4] = ["running", "succeeded", "failed", "interrupted"];

#[derive(Debug)]
struct Inner {
    registry: Registry,
    families: Families,
    /// Replacing a family's series (the deliveries, the last run's status: clear, then set)
    /// takes this for writing and a scrape takes it for reading, so no scrape sees a family
    /// half replaced.
    swap: RwLock<()>,
}

/// The registry. Clones share the same values; every method is safe from any thread.
#[derive(Debug, Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

fn seconds(t: DateTime<Utc>) -> f64 {
    // Millisecond precision; f64 holds such values exactly enough for centuries.
    t.timestamp_millis() as f64 / 1000.0
}

fn source(source: &str) -> SourceLabels {
    SourceLabels {
        source: source.to_string(),
    }
}

fn run(job: &str, outcome: Outcome) -> RunLabels {
    RunLabels {
        job: job.to_string(),
        outcome,
    }
}

impl Metrics {
    /// A registry with every family registered. prometheus-client appends `_total` to a
    /// counter's name and a full stop to each help text, so they are registered without
    /// them; a family without series is not exposed until it has one.
    pub fn new() -> Metrics {
        let families = Families::default();
        let mut r = Registry::default();
        r.register(
            "yingbao_records_read",
            "Records read, by source",
            families.records_read.clone(),
        );
        r.register(
            "yingbao_records_rejected",
            "Records rejected as unusable, by source",
            families.records_rejected.clone(),
        );
        r.register(
            "yingbao_runs",
            "Finished job runs, by job and outcome (ok or failed)",
            families.runs.clone(),
        );
        r.register(
            "yingbao_last_success_timestamp_seconds",
            "Unix time when the job last finished successfully",
            families.last_success.clone(),
        );
        r.register(
            "yingbao_source_stale",
            "1 if the source's latest data is too old to trust, else 0",
            families.source_stale.clone(),
        );
        r.register(
            "yingbao_source_last_good_timestamp_seconds",
            "Unix time of the source's latest good data",
            families.source_last_good.clone(),
        );
        r.register(
            "yingbao_run_running",
            "1 while a job run is in progress, else 0",
            families.run_running.clone(),
        );
        r.register(
            "yingbao_push_blocked",
            "1 while township lists are held back because the declaration register is stale, else 0",
            families.push_blocked.clone(),
        );
        r.register(
            "yingbao_deliveries",
            "Township-list deliveries in the outbox by status; waiting ones wait for `yingbao approve`, dead ones were given up and the operator alerted",
            families.deliveries.clone(),
        );
        r.register(
            "yingbao_last_run_start_timestamp_seconds",
            "Unix time when the newest full run (not a pull) started, by whichever process ran it; 0: none yet",
            families.last_run_started.clone(),
        );
        r.register(
            "yingbao_last_run_status",
            "1 for the status of the newest full run (running, succeeded, failed or interrupted), 0 for the others",
            families.last_run_status.clone(),
        );
        r.register(
            "yingbao_interrupted_runs",
            "Runs found at start left running by a process that died, and marked interrupted",
            families.interrupted_runs.clone(),
        );
        r.register(
            "yingbao_config_last_reload_timestamp_seconds",
            "Unix time of the last configuration reload (a SIGHUP or a changed file under config/ or connectors/); 0: none since start",
            families.last_reload.clone(),
        );
        r.register(
            "yingbao_config_last_reload_success",
            "1 if the last configuration reload was taken (or none was tried), 0 if it was refused and the old configuration kept",
            families.last_reload_ok.clone(),
        );
        families.last_reload_ok.set(1);
        Metrics {
            inner: Arc::new(Inner {
                registry: r,
                families,
                swap: RwLock::new(()),
            }),
        }
    }

    fn f(&self) -> &Families {
        &self.inner.families
    }

    /// Creates a source's series at zero so dashboards and alerts see it before data comes.
    pub fn init_source(&self, name: &str) {
        // `get_or_create` makes the series at zero; the returned handle is not needed.
        let labels = source(name);
        let _ = self.f().records_read.get_or_create(&labels);
        let _ = self.f().records_rejected.get_or_create(&labels);
        let _ = self.f().source_stale.get_or_create(&labels);
    }

    /// Creates a job's `ok` and `failed` run counters at zero.
    pub fn init_job(&self, job: &str) {
        for outcome in [Outcome::Ok, Outcome::Failed] {
            let _ = self.f().runs.get_or_create(&run(job, outcome));
        }
    }

    pub fn add_records_read(&self, name: &str, n: u64) {
        self.f().records_read.get_or_create(&source(name)).inc_by(n);
    }

    pub fn add_records_rejected(&self, name: &str, n: u64) {
        self.f()
            .records_rejected
            .get_or_create(&source(name))
            .inc_by(n);
    }

    /// Counts one finished run (and creates the other outcome's series at zero).
    pub fn record_run(&self, job: &str, outcome: Outcome) {
        self.init_job(job);
        self.f().runs.get_or_create(&run(job, outcome)).inc();
    }

    pub fn set_last_success(&self, job: &str, at: DateTime<Utc>) {
        let labels = JobLabels {
            job: job.to_string(),
        };
        self.f()
            .last_success
            .get_or_create(&labels)
            .set(seconds(at));
    }

    pub fn set_source_stale(&self, name: &str, stale: bool) {
        self.f()
            .source_stale
            .get_or_create(&source(name))
            .set(i64::from(stale));
    }

    pub fn set_source_last_good(&self, name: &str, at: DateTime<Utc>) {
        self.f()
            .source_last_good
            .get_or_create(&source(name))
            .set(seconds(at));
    }

    pub fn set_run_running(&self, running: bool) {
        self.f().run_running.set(i64::from(running));
    }

    /// The outbox's township-list deliveries by status, as last counted: replaces the
    /// previous counts, so a status no longer present disappears.
    pub fn set_deliveries(&self, by_status: &[(String, u64)]) {
        let _swap = self.inner.swap.write().unwrap_or_else(|e| e.into_inner());
        let family = &self.f().deliveries;
        family.clear();
        for (status, n) in by_status {
            let labels = StatusLabels {
                status: status.clone(),
            };
            family.get_or_create(&labels).set(*n);
        }
    }

    /// Township lists are being held back because the declaration register is stale.
    pub fn set_push_blocked(&self, blocked: bool) {
        self.f().push_blocked.set(i64::from(blocked));
    }

    /// The newest full run: its status (as stored in `runs.status`) and when it started.
    /// Every status of [`RUN_STATUSES`] is shown, this one at 1; a word not among them is
    /// shown too, at 1, rather than hidden.
    pub fn set_last_run(&self, status: &str, started: DateTime<Utc>) {
        {
            let _swap = self.inner.swap.write().unwrap_or_else(|e| e.into_inner());
            let family = &self.f().last_run_status;
            family.clear();
            for known in RUN_STATUSES {
                let labels = StatusLabels {
                    status: known.to_string(),
                };
                family.get_or_create(&labels).set(0);
            }
            let labels = StatusLabels {
                status: status.to_string(),
            };
            family.get_or_create(&labels).set(1);
        }
        self.f().last_run_started.set(seconds(started));
    }

    /// A configuration reload happened at `at`: taken (`ok`) or refused.
    pub fn set_reload(&self, ok: bool, at: DateTime<Utc>) {
        self.f().last_reload_ok.set(i64::from(ok));
        self.f().last_reload.set(seconds(at));
    }

    /// Counts runs marked interrupted (a process had died in the middle of them).
    pub fn add_interrupted_runs(&self, n: u64) {
        self.f().interrupted_runs.inc_by(n);
    }

    /// Updates the run metrics from a scheduler event: `Started` sets `yingbao_run_running`,
    /// `Finished` clears it, counts the run and, when it succeeded, sets the last success.
    pub fn observe(&self, event: &SchedulerEvent) {
        match event {
            SchedulerEvent::Started { .. } => self.set_run_running(true),
            SchedulerEvent::Finished { job, at, ok, .. } => {
                self.set_run_running(false);
                if *ok {
                    self.record_run(job, Outcome::Ok);
                    self.set_last_success(job, *at);
                } else {
                    self.record_run(job, Outcome::Failed);
                }
            }
        }
    }

    /// The registry in the OpenMetrics text format, ending in `# EOF`. Families come in
    /// the order registered; the series within a family come in no fixed order.
    pub fn render(&self) -> String {
        let _swap = self.inner.swap.read().unwrap_or_else(|e| e.into_inner());
        let mut out = String::new();
        if let Err(e) = encode(&mut out, &self.inner.registry) {
            // Writing to a String cannot fail; should the encoder ever refuse, say so
            // rather than serve a truncated exposition that looks whole.
            tracing::error!(error = %e, "encoding the metrics failed");
            out.clear();
            out.push_str("# EOF\n");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// The exposition with the sample lines of each family sorted, so it can be compared
    /// exactly although a family's series come in no fixed order.
    fn sorted_within_families(text: &str) -> String {
        let mut out: Vec<String> = Vec::new();
        let mut samples: Vec<&str> = Vec::new();
        for line in text.lines() {
            if line.starts_with('#') {
                samples.sort_unstable();
                out.extend(samples.drain(..).map(str::to_string));
                out.push(line.to_string());
            } else {
                samples.push(line);
            }
        }
        samples.sort_unstable();
        out.extend(samples.drain(..).map(str::to_string));
        out.iter().map(|l| format!("{l}\n")).collect()
    }

    #[test]
    fn renders_exact_text_format() {
        let m = Metrics::new();
        m.add_records_read("employers", 120);
        m.add_records_read("employers", 3);
        m.add_records_read("declarations", 7);
        m.add_records_rejected("employers", 2);
        m.record_run("pipeline", Outcome::Ok);
        m.record_run("pipeline", Outcome::Ok);
        let t = Utc
            .with_ymd_and_hms(2024, 6, 2, 18, 30, 0)
            .single()
            .expect("valid time");
        m.set_last_success("pipeline", t);
        m.set_source_stale("declarations", true);
        m.set_source_last_good("declarations", t + chrono::Duration::milliseconds(250));
        m.set_run_running(true);
        m.set_last_run("interrupted", t);
        m.add_interrupted_runs(1);
        m.set_reload(false, t);

        let expected = "\
# HELP yingbao_records_read Records read, by source.
# TYPE yingbao_records_read counter
yingbao_records_read_total{source=\"declarations\"} 7
yingbao_records_read_total{source=\"employers\"} 123
# HELP yingbao_records_rejected Records rejected as unusable, by source.
# TYPE yingbao_records_rejected counter
yingbao_records_rejected_total{source=\"employers\"} 2
# HELP yingbao_runs Finished job runs, by job and outcome (ok or failed).
# TYPE yingbao_runs counter
yingbao_runs_total{job=\"pipeline\",outcome=\"failed\"} 0
yingbao_runs_total{job=\"pipeline\",outcome=\"ok\"} 2
# HELP yingbao_last_success_timestamp_seconds Unix time when the job last finished successfully.
# TYPE yingbao_last_success_timestamp_seconds gauge
yingbao_last_success_timestamp_seconds{job=\"pipeline\"} 1717353000.0
# HELP yingbao_source_stale 1 if the source's latest data is too old to trust, else 0.
# TYPE yingbao_source_stale gauge
yingbao_source_stale{source=\"declarations\"} 1
# HELP yingbao_source_last_good_timestamp_seconds Unix time of the source's latest good data.
# TYPE yingbao_source_last_good_timestamp_seconds gauge
yingbao_source_last_good_timestamp_seconds{source=\"declarations\"} 1717353000.25
# HELP yingbao_run_running 1 while a job run is in progress, else 0.
# TYPE yingbao_run_running gauge
yingbao_run_running 1
# HELP yingbao_push_blocked 1 while township lists are held back because the declaration register is stale, else 0.
# TYPE yingbao_push_blocked gauge
yingbao_push_blocked 0
# HELP yingbao_last_run_start_timestamp_seconds Unix time when the newest full run (not a pull) started, by whichever process ran it; 0: none yet.
# TYPE yingbao_last_run_start_timestamp_seconds gauge
yingbao_last_run_start_timestamp_seconds 1717353000.0
# HELP yingbao_last_run_status 1 for the status of the newest full run (running, succeeded, failed or interrupted), 0 for the others.
# TYPE yingbao_last_run_status gauge
yingbao_last_run_status{status=\"failed\"} 0
yingbao_last_run_status{status=\"interrupted\"} 1
yingbao_last_run_status{status=\"running\"} 0
yingbao_last_run_status{status=\"succeeded\"} 0
# HELP yingbao_interrupted_runs Runs found at start left running by a process that died, and marked interrupted.
# TYPE yingbao_interrupted_runs counter
yingbao_interrupted_runs_total 1
# HELP yingbao_config_last_reload_timestamp_seconds Unix time of the last configuration reload (a SIGHUP or a changed file under config/ or connectors/); 0: none since start.
# TYPE yingbao_config_last_reload_timestamp_seconds gauge
yingbao_config_last_reload_timestamp_seconds 1717353000.0
# HELP yingbao_config_last_reload_success 1 if the last configuration reload was taken (or none was tried), 0 if it was refused and the old configuration kept.
# TYPE yingbao_config_last_reload_success gauge
yingbao_config_last_reload_success 0
# EOF
";
        assert_eq!(sorted_within_families(&m.render()), expected);
    }

    #[test]
    fn a_family_appears_with_its_first_series() {
        let m = Metrics::new();
        assert!(!m.render().contains("yingbao_records_read"));
        m.init_source("tax");
        let text = m.render();
        assert!(
            text.contains("# TYPE yingbao_records_read counter\n"),
            "{text}"
        );
        assert!(
            text.contains("yingbao_records_read_total{source=\"tax\"} 0\n"),
            "{text}"
        );
        assert!(
            text.contains("yingbao_source_stale{source=\"tax\"} 0\n"),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"), "{text}");
    }

    #[test]
    fn deliveries_are_counted_by_status_once_known() {
        let m = Metrics::new();
        assert!(!m.render().contains("yingbao_deliveries"));
        m.set_deliveries(&[("delivered".into(), 27), ("dead".into(), 1)]);
        let text = m.render();
        assert!(
            text.contains("yingbao_deliveries{status=\"delivered\"} 27\n"),
            "{text}"
        );
        assert!(
            text.contains("yingbao_deliveries{status=\"dead\"} 1\n"),
            "{text}"
        );
        m.set_deliveries(&[("delivered".into(), 28)]);
        let text = m.render();
        assert!(!text.contains("status=\"dead\""), "{text}");
        assert!(
            text.contains("yingbao_deliveries{status=\"delivered\"} 28\n"),
            "{text}"
        );
    }

    /// The last run's status moves: one series at 1, every known status shown; a status word
    /// this version does not know is shown at 1 rather than hidden.
    #[test]
    fn the_last_run_status_is_one_series_at_one() {
        let m = Metrics::new();
        let t = Utc
            .with_ymd_and_hms(2025, 7, 1, 3, 0, 0)
            .single()
            .expect("valid time");
        m.set_last_run("succeeded", t);
        m.set_last_run("failed", t);
        let text = m.render();
        assert!(
            text.contains("yingbao_last_run_status{status=\"failed\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("yingbao_last_run_status{status=\"succeeded\"} 0\n"),
            "{text}"
        );
        m.set_last_run("cancelled", t);
        let text = m.render();
        let ones: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("yingbao_last_run_status{") && l.ends_with(" 1"))
            .collect();
        assert_eq!(
            ones,
            ["yingbao_last_run_status{status=\"cancelled\"} 1"],
            "{text}"
        );
        assert!(
            text.contains("yingbao_last_run_status{status=\"failed\"} 0\n"),
            "{text}"
        );
    }

    #[test]
    fn escapes_label_values() {
        let m = Metrics::new();
        m.add_records_read("卫健委申报库", 2);
        m.add_records_read("市场监管\"企业\"名录\\2024\n", 1);
        let text = m.render();
        assert!(
            text.contains("yingbao_records_read_total{source=\"卫健委申报库\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "yingbao_records_read_total{source=\"市场监管\\\"企业\\\"名录\\\\2024\\n\"} 1\n"
            ),
            "{text}"
        );
        // Still one sample per line.
        assert_eq!(
            text.lines()
                .filter(|l| l.starts_with("yingbao_records_read_total"))
                .count(),
            2
        );
    }

    #[test]
    fn clones_share_values_and_observe_scheduler_events() {
        let m = Metrics::new();
        let other = m.clone();
        let at = Utc
            .with_ymd_and_hms(2024, 6, 3, 2, 0, 0)
            .single()
            .expect("valid time");
        other.observe(&SchedulerEvent::Started {
            job: "pipeline".to_string(),
            at,
            reason: super::super::scheduler::RunReason::Manual,
        });
        assert!(m.render().contains("\nyingbao_run_running 1\n"));
        other.observe(&SchedulerEvent::Finished {
            job: "pipeline".to_string(),
            at,
            started: at,
            ok: false,
            error: Some("boom".to_string()),
        });
        let text = m.render();
        assert!(text.contains("\nyingbao_run_running 0\n"));
        assert!(text.contains("yingbao_runs_total{job=\"pipeline\",outcome=\"failed\"} 1\n"));
        assert!(text.contains("yingbao_runs_total{job=\"pipeline\",outcome=\"ok\"} 0\n"));
        assert!(!text.contains("yingbao_last_success_timestamp_seconds{"));
        other.observe(&SchedulerEvent::Finished {
            job: "pipeline".to_string(),
            at,
            started: at,
            ok: true,
            error: None,
        });
        let text = m.render();
        assert!(text.contains("yingbao_runs_total{job=\"pipeline\",outcome=\"ok\"} 1\n"));
        assert!(
            text.contains(
                "yingbao_last_success_timestamp_seconds{job=\"pipeline\"} 1717380000.0\n"
            ),
            "{text}"
        );
    }
}
