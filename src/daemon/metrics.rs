//! The daemon's Prometheus metrics: a small thread-safe registry rendered in the text
//! exposition format (version 0.0.4) for `GET /metrics`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};

use super::scheduler::SchedulerEvent;

/// The `Content-Type` of [`Metrics::render`]'s output.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Outcome label of `yingbao_runs_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
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

#[derive(Debug, Default)]
struct Inner {
    records_read: BTreeMap<String, u64>,
    records_rejected: BTreeMap<String, u64>,
    runs: BTreeMap<(String, &'static str), u64>,
    last_success: BTreeMap<String, f64>,
    source_stale: BTreeMap<String, bool>,
    source_last_good: BTreeMap<String, f64>,
    run_running: bool,
    push_blocked: bool,
    /// Township-list deliveries in the outbox by status (pending, delivered, dead).
    deliveries: BTreeMap<String, u64>,
}

/// The registry. Clones share the same values; every method is safe from any thread.
#[derive(Debug, Clone, Default)]
pub struct Metrics {
    inner: Arc<Mutex<Inner>>,
}

fn seconds(t: DateTime<Utc>) -> f64 {
    // Millisecond precision; f64 holds such values exactly enough for centuries.
    t.timestamp_millis() as f64 / 1000.0
}

/// Escapes a label value: backslash, double quote and line feed. Everything else,
/// Chinese text included, is written as UTF-8 unchanged.
pub fn escape_label_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            other => out.push(other),
        }
    }
    out
}

fn format_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_string()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.to_string()
    } else {
        format!("{v}")
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn sample(out: &mut String, name: &str, labels: &[(&str, &str)], value: &str) {
    out.push_str(name);
    if !labels.is_empty() {
        out.push('{');
        for (i, (k, v)) in labels.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{k}=\"{}\"", escape_label_value(v));
        }
        out.push('}');
    }
    out.push(' ');
    out.push_str(value);
    out.push('\n');
}

impl Metrics {
    pub fn new() -> Metrics {
        Metrics::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the maps inconsistent in a way that
        // matters for metrics, so keep serving them.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Creates a source's series at zero so dashboards and alerts see it before data comes.
    pub fn init_source(&self, source: &str) {
        let mut m = self.lock();
        m.records_read.entry(source.to_string()).or_insert(0);
        m.records_rejected.entry(source.to_string()).or_insert(0);
        m.source_stale.entry(source.to_string()).or_insert(false);
    }

    /// Creates a job's `ok` and `failed` run counters at zero.
    pub fn init_job(&self, job: &str) {
        let mut m = self.lock();
        for outcome in [Outcome::Ok, Outcome::Failed] {
            m.runs
                .entry((job.to_string(), outcome.label()))
                .or_insert(0);
        }
    }

    pub fn add_records_read(&self, source: &str, n: u64) {
        let mut m = self.lock();
        let v = m.records_read.entry(source.to_string()).or_insert(0);
        *v = v.saturating_add(n);
    }

    pub fn add_records_rejected(&self, source: &str, n: u64) {
        let mut m = self.lock();
        let v = m.records_rejected.entry(source.to_string()).or_insert(0);
        *v = v.saturating_add(n);
    }

    /// Counts one finished run (and creates the other outcome's series at zero).
    pub fn record_run(&self, job: &str, outcome: Outcome) {
        self.init_job(job);
        let mut m = self.lock();
        let v = m
            .runs
            .entry((job.to_string(), outcome.label()))
            .or_insert(0);
        *v = v.saturating_add(1);
    }

    pub fn set_last_success(&self, job: &str, at: DateTime<Utc>) {
        self.lock()
            .last_success
            .insert(job.to_string(), seconds(at));
    }

    pub fn set_source_stale(&self, source: &str, stale: bool) {
        self.lock().source_stale.insert(source.to_string(), stale);
    }

    pub fn set_source_last_good(&self, source: &str, at: DateTime<Utc>) {
        self.lock()
            .source_last_good
            .insert(source.to_string(), seconds(at));
    }

    pub fn set_run_running(&self, running: bool) {
        self.lock().run_running = running;
    }

    /// Township lists are being held back because the declaration register is stale.
    /// The outbox's township-list deliveries by status, as last counted.
    pub fn set_deliveries(&self, by_status: &[(String, u64)]) {
        let mut m = self.lock();
        m.deliveries = by_status.iter().cloned().collect();
    }

    pub fn set_push_blocked(&self, blocked: bool) {
        self.lock().push_blocked = blocked;
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

    /// The registry in the Prometheus text exposition format 0.0.4. Every family is
    /// listed (with HELP and TYPE) even before it has samples; series are sorted by label.
    pub fn render(&self) -> String {
        let m = self.lock();
        let mut out = String::new();

        let name = "yingbao_records_read_total";
        header(&mut out, name, "counter", "Records read, by source.");
        for (source, v) in &m.records_read {
            sample(&mut out, name, &[("source", source)], &v.to_string());
        }

        let name = "yingbao_records_rejected_total";
        header(
            &mut out,
            name,
            "counter",
            "Records rejected as unusable, by source.",
        );
        for (source, v) in &m.records_rejected {
            sample(&mut out, name, &[("source", source)], &v.to_string());
        }

        let name = "yingbao_runs_total";
        header(
            &mut out,
            name,
            "counter",
            "Finished job runs, by job and outcome (ok or failed).",
        );
        for ((job, outcome), v) in &m.runs {
            sample(
                &mut out,
                name,
                &[("job", job), ("outcome", outcome)],
                &v.to_string(),
            );
        }

        let name = "yingbao_last_success_timestamp_seconds";
        header(
            &mut out,
            name,
            "gauge",
            "Unix time when the job last finished successfully.",
        );
        for (job, v) in &m.last_success {
            sample(&mut out, name, &[("job", job)], &format_value(*v));
        }

        let name = "yingbao_source_stale";
        header(
            &mut out,
            name,
            "gauge",
            "1 if the source's latest data is too old to trust, else 0.",
        );
        for (source, v) in &m.source_stale {
            sample(
                &mut out,
                name,
                &[("source", source)],
                if *v { "1" } else { "0" },
            );
        }

        let name = "yingbao_source_last_good_timestamp_seconds";
        header(
            &mut out,
            name,
            "gauge",
            "Unix time of the source's latest good data.",
        );
        for (source, v) in &m.source_last_good {
            sample(&mut out, name, &[("source", source)], &format_value(*v));
        }

        let name = "yingbao_run_running";
        header(
            &mut out,
            name,
            "gauge",
            "1 while a job run is in progress, else 0.",
        );
        sample(&mut out, name, &[], if m.run_running { "1" } else { "0" });

        let name = "yingbao_push_blocked";
        header(
            &mut out,
            name,
            "gauge",
            "1 while township lists are held back because the declaration register is stale, else 0.",
        );
        sample(&mut out, name, &[], if m.push_blocked { "1" } else { "0" });

        if !m.deliveries.is_empty() {
            let name = "yingbao_deliveries";
            header(
                &mut out,
                name,
                "gauge",
                "Township-list deliveries in the outbox by status; dead ones were given up and the operator alerted.",
            );
            for (status, n) in &m.deliveries {
                sample(&mut out, name, &[("status", status)], &n.to_string());
            }
        }

        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

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

        let expected = "\
# HELP yingbao_records_read_total Records read, by source.
# TYPE yingbao_records_read_total counter
yingbao_records_read_total{source=\"declarations\"} 7
yingbao_records_read_total{source=\"employers\"} 123
# HELP yingbao_records_rejected_total Records rejected as unusable, by source.
# TYPE yingbao_records_rejected_total counter
yingbao_records_rejected_total{source=\"employers\"} 2
# HELP yingbao_runs_total Finished job runs, by job and outcome (ok or failed).
# TYPE yingbao_runs_total counter
yingbao_runs_total{job=\"pipeline\",outcome=\"failed\"} 0
yingbao_runs_total{job=\"pipeline\",outcome=\"ok\"} 2
# HELP yingbao_last_success_timestamp_seconds Unix time when the job last finished successfully.
# TYPE yingbao_last_success_timestamp_seconds gauge
yingbao_last_success_timestamp_seconds{job=\"pipeline\"} 1717353000
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
";
        assert_eq!(m.render(), expected);
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
        assert!(!m.render().contains("status=\"dead\""));
    }

    #[test]
    fn escapes_label_values() {
        assert_eq!(escape_label_value("plain"), "plain");
        assert_eq!(escape_label_value("卫健委申报库"), "卫健委申报库");
        assert_eq!(escape_label_value(r#"a"b"#), r#"a\"b"#);
        assert_eq!(escape_label_value(r"C:\data"), r"C:\\data");
        assert_eq!(escape_label_value("two\nlines"), r"two\nlines");

        let m = Metrics::new();
        m.add_records_read("市场监管\"企业\"名录\\2024\n", 1);
        let text = m.render();
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
            1
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
    }

    #[test]
    fn special_float_values() {
        assert_eq!(format_value(f64::NAN), "NaN");
        assert_eq!(format_value(f64::INFINITY), "+Inf");
        assert_eq!(format_value(f64::NEG_INFINITY), "-Inf");
        assert_eq!(format_value(1.5), "1.5");
    }
}
