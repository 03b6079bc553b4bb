//! The daemon's jobs as the configuration asks for them, each with its crontab line parsed
//! once when the configuration loads (`Config::jobs`), for `serve` and `check` alike.

use chrono_tz::Tz;

use crate::domain::schedule::{Schedule, ScheduleError};
use crate::ingest::spec::ConnectorSpec;

use super::settings::Settings;

/// What a job does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobKind {
    /// The whole run (`[daemon] run`).
    Run,
    /// Sending due deliveries (`[delivery] schedule`), when a channel is configured.
    Deliver,
    /// Pulling one source on its own (`connectors/<id>.toml [pull] schedule`).
    Pull(String),
}

/// One scheduled job.
#[derive(Debug, Clone)]
pub struct JobSchedule {
    pub kind: JobKind,
    /// The operator's crontab line, for messages.
    pub line: String,
    pub schedule: Schedule,
}

impl JobSchedule {
    /// The job's name in logs, metrics and `daemon_jobs`: `run`, `deliver`, `pull:<id>`.
    pub fn name(&self) -> String {
        match &self.kind {
            JobKind::Run => "run".to_string(),
            JobKind::Deliver => "deliver".to_string(),
            JobKind::Pull(id) => format!("pull:{id}"),
        }
    }
}

/// A line that did not parse, with where it was configured.
#[derive(Debug, thiserror::Error)]
#[error("`{line}` in {origin}: {source}")]
pub struct JobScheduleError {
    pub origin: String,
    pub line: String,
    pub source: Box<ScheduleError>,
}

/// Every job the configuration asks for, in the county's time zone: the run, delivery when a
/// channel is configured, and a pull for each enabled connector with its own schedule.
pub fn jobs(
    settings: &Settings,
    connectors: &[ConnectorSpec],
    tz: Tz,
) -> Result<Vec<JobSchedule>, JobScheduleError> {
    let parse = |kind: JobKind, line: &str, origin: String| {
        Schedule::parse(line, tz)
            .map(|schedule| JobSchedule {
                kind,
                line: line.to_string(),
                schedule,
            })
            .map_err(|source| JobScheduleError {
                origin,
                line: line.to_string(),
                source: Box::new(source),
            })
    };
    let mut out = vec![parse(
        JobKind::Run,
        &settings.daemon.run,
        "[daemon] run".into(),
    )?];
    if !settings.delivery.channel.is_empty() {
        out.push(parse(
            JobKind::Deliver,
            &settings.delivery.schedule,
            "[delivery] schedule".into(),
        )?);
    }
    for spec in connectors.iter().filter(|c| c.enabled) {
        if let Some(line) = &spec.pull.schedule {
            out.push(parse(
                JobKind::Pull(spec.id.clone()),
                line,
                format!("connectors/{}.toml [pull] schedule", spec.id),
            )?);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundled() -> crate::config::Config {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        crate::config::load(&root.join("config/yingbao.toml")).expect("project config loads")
    }

    #[test]
    fn the_bundled_county_runs_and_delivers_on_its_lines() {
        let cfg = bundled();
        let names: Vec<String> = cfg.jobs.iter().map(JobSchedule::name).collect();
        assert_eq!(names[..2], ["run".to_string(), "deliver".to_string()]);
        assert_eq!(cfg.jobs[0].line, cfg.settings.daemon.run);
        assert_eq!(cfg.jobs[1].line, cfg.settings.delivery.schedule);
        // The parsed schedule fires where the line says, in the county's zone.
        let after = chrono::Utc::now();
        let next = cfg.jobs[0].schedule.upcoming(after, 1);
        assert!(next.first().is_some_and(|t| *t > after), "{next:?}");
    }

    #[test]
    fn a_pull_job_per_connector_with_its_own_line_and_none_without_channels() {
        let cfg = bundled();
        let mut settings = cfg.settings.clone();
        settings.delivery.channel.clear();
        let mut connectors = cfg.connectors.clone();
        connectors[0].pull.schedule = Some("30 2 * * *".into());
        let found = jobs(&settings, &connectors, chrono_tz::Asia::Shanghai).expect("jobs");
        let names: Vec<String> = found.iter().map(JobSchedule::name).collect();
        assert_eq!(
            names,
            ["run".to_string(), format!("pull:{}", connectors[0].id)]
        );
        connectors[0].pull.schedule = Some("30 25 * * *".into());
        let err = jobs(&settings, &connectors, chrono_tz::Asia::Shanghai).expect_err("hour 25");
        assert!(err.origin.contains("[pull] schedule"), "{err}");
        assert_eq!(err.line, "30 25 * * *");
    }
}
