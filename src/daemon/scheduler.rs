//! Runs scheduled jobs one at a time: sleeps until the next fire time, catches missed runs
//! up once at start, and obeys shutdown, reload and run-now requests.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinError;

use crate::domain::schedule::Schedule;

/// What a job's action returns: `Err` carries a one-line reason for the log and metrics.
pub type JobFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;
/// A job's action; called once per run.
pub type JobAction = Arc<dyn Fn() -> JobFuture + Send + Sync>;

/// The longest single sleep. The scheduler re-reads the wall clock at least this often, so a
/// wall-clock step (NTP correction, VM resume) delays a run by at most this much.
pub const MAX_SLEEP: Duration = Duration::from_secs(60);

/// Capacity of the event channel; a subscriber that falls this far behind loses events.
pub const EVENT_CAPACITY: usize = 256;

/// A source of wall-clock time. The scheduler never calls `Utc::now()` directly.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// The real wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Wall-clock time derived from tokio's clock: `base` plus the tokio time elapsed since the
/// clock was made. Under `#[tokio::test(start_paused = true)]` it moves only with
/// `tokio::time::advance` or auto-advance, which makes scheduler tests deterministic.
#[derive(Debug, Clone, Copy)]
pub struct TokioClock {
    base: DateTime<Utc>,
    origin: tokio::time::Instant,
}

impl TokioClock {
    /// Must be called inside the tokio runtime whose clock should drive it.
    pub fn starting_at(base: DateTime<Utc>) -> Self {
        TokioClock {
            base,
            origin: tokio::time::Instant::now(),
        }
    }
}

impl Clock for TokioClock {
    fn now(&self) -> DateTime<Utc> {
        let elapsed = tokio::time::Instant::now().saturating_duration_since(self.origin);
        chrono::Duration::from_std(elapsed)
            .ok()
            .and_then(|d| self.base.checked_add_signed(d))
            .unwrap_or(self.base)
    }
}

/// A named job on a schedule.
#[derive(Clone)]
pub struct Job {
    name: String,
    schedule: Schedule,
    action: JobAction,
    last_run: Option<DateTime<Utc>>,
    timeout: Option<Duration>,
}

impl fmt::Debug for Job {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Job")
            .field("name", &self.name)
            .field("schedule", &self.schedule.line())
            .field("tz", &self.schedule.tz())
            .field("last_run", &self.last_run)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Job {
    /// A job from an async closure, e.g. `Job::new("pipeline", s, move || run(cfg.clone()))`.
    pub fn new<F, Fut>(name: impl Into<String>, schedule: Schedule, action: F) -> Job
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        let action: JobAction = Arc::new(move || Box::pin(action()) as JobFuture);
        Job::from_action(name, schedule, action)
    }

    /// A job from an already boxed action.
    pub fn from_action(name: impl Into<String>, schedule: Schedule, action: JobAction) -> Job {
        Job {
            name: name.into(),
            schedule,
            action,
            last_run: None,
            timeout: None,
        }
    }

    /// When the job last started (from the daemon's database). Decides catch-up at start:
    /// `None` counts as "never ran", so the latest past fire time is caught up.
    pub fn with_last_run(mut self, last_run: Option<DateTime<Utc>>) -> Job {
        self.last_run = last_run;
        self
    }

    /// Abandon (abort) a run that takes longer than `limit`; it is reported as failed.
    pub fn with_timeout(mut self, limit: Duration) -> Job {
        self.timeout = Some(limit);
        self
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    pub fn last_run(&self) -> Option<DateTime<Utc>> {
        self.last_run
    }
}

/// Requests to a running scheduler.
#[derive(Debug)]
pub enum Control {
    /// Finish the current run (if any), start nothing new, and return.
    Shutdown,
    /// Replace the job set once the current run finishes. Jobs keep their last run time by
    /// name; a reload never causes catch-up runs.
    Reload(Vec<Job>),
    /// Run the named job as soon as no other run is in progress.
    RunNow(String),
}

/// Why a run started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RunReason {
    /// The fire time `due` was reached (possibly delayed by another job's run).
    Scheduled { due: DateTime<Utc> },
    /// At start, `missed` (the latest fire time since the last recorded run) had passed.
    CatchUp { missed: DateTime<Utc> },
    /// Asked for with [`Control::RunNow`].
    Manual,
}

/// Reported for every run, in order. Serializes as JSON with an `"event"` tag, e.g.
/// `{"event":"finished","job":"pipeline","at":"…","started":"…","ok":true,"error":null}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum SchedulerEvent {
    Started {
        job: String,
        at: DateTime<Utc>,
        reason: RunReason,
    },
    Finished {
        job: String,
        at: DateTime<Utc>,
        started: DateTime<Utc>,
        ok: bool,
        error: Option<String>,
    },
}

/// Errors from the scheduler and its handle.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SchedulerError {
    #[error("two jobs are named `{0}`; job names must be unique")]
    DuplicateJob(String),
    #[error("the scheduler has stopped")]
    Stopped,
}

/// A cloneable handle for sending [`Control`]s to a running scheduler.
#[derive(Debug, Clone)]
pub struct SchedulerHandle {
    tx: mpsc::UnboundedSender<Control>,
}

impl SchedulerHandle {
    /// A handle and the receiver to pass to [`Scheduler::run`].
    pub fn channel() -> (SchedulerHandle, mpsc::UnboundedReceiver<Control>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (SchedulerHandle { tx }, rx)
    }

    pub fn send(&self, control: Control) -> Result<(), SchedulerError> {
        self.tx.send(control).map_err(|_| SchedulerError::Stopped)
    }

    pub fn shutdown(&self) -> Result<(), SchedulerError> {
        self.send(Control::Shutdown)
    }

    pub fn reload(&self, jobs: Vec<Job>) -> Result<(), SchedulerError> {
        self.send(Control::Reload(jobs))
    }

    pub fn run_now(&self, name: impl Into<String>) -> Result<(), SchedulerError> {
        self.send(Control::RunNow(name.into()))
    }
}

/// What [`Scheduler::run`] returns after a shutdown: each job's last run start, to persist.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchedulerExit {
    pub last_runs: BTreeMap<String, DateTime<Utc>>,
}

/// The job runner. Make it, [`subscribe`](Scheduler::subscribe) to its events, then
/// [`run`](Scheduler::run) it (usually in its own task).
pub struct Scheduler {
    clock: Arc<dyn Clock>,
    events: broadcast::Sender<SchedulerEvent>,
}

impl fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scheduler").finish_non_exhaustive()
    }
}

struct Slot {
    job: Job,
    /// Fire times at or before this are satisfied (the start of the last run).
    cursor: Option<DateTime<Utc>>,
    manual: bool,
}

impl Slot {
    /// The earliest fire time not yet satisfied, if it is due at `now`.
    fn due(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let earliest = match self.cursor {
            Some(c) => self.job.schedule.next_after(c)?,
            None => self.job.schedule.missed_since(None, now)?,
        };
        (earliest <= now).then_some(earliest)
    }
}

enum Flow {
    Continue,
    Stop,
}

fn check_unique(jobs: &[Job]) -> Result<(), SchedulerError> {
    let mut seen = HashSet::new();
    for job in jobs {
        if !seen.insert(job.name.as_str()) {
            return Err(SchedulerError::DuplicateJob(job.name.clone()));
        }
    }
    Ok(())
}

fn describe_join_error(e: JoinError) -> String {
    if e.is_panic() {
        let payload = e.into_panic();
        let text = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".to_string());
        format!("the job panicked: {text}")
    } else {
        "the job was cancelled".to_string()
    }
}

impl Scheduler {
    pub fn new(clock: Arc<dyn Clock>) -> Scheduler {
        let (events, _) = broadcast::channel(EVENT_CAPACITY);
        Scheduler { clock, events }
    }

    /// A scheduler on the real wall clock.
    pub fn system() -> Scheduler {
        Scheduler::new(Arc::new(SystemClock))
    }

    /// Events of runs that start after this call.
    pub fn subscribe(&self) -> broadcast::Receiver<SchedulerEvent> {
        self.events.subscribe()
    }

    fn emit(&self, event: SchedulerEvent) {
        // No subscriber is not an error.
        let _ = self.events.send(event);
    }

    /// Runs until [`Control::Shutdown`]. Dropping every [`SchedulerHandle`] does not stop
    /// it (a daemon must not silently stop scheduling); it then runs until the task is
    /// dropped. Returns an error at once if two jobs share a name.
    pub async fn run(
        self,
        jobs: Vec<Job>,
        mut controls: mpsc::UnboundedReceiver<Control>,
    ) -> Result<SchedulerExit, SchedulerError> {
        check_unique(&jobs)?;
        let started_at = self.clock.now();
        let mut slots: Vec<Slot> = jobs
            .into_iter()
            .map(|job| Slot {
                cursor: job.last_run,
                job,
                manual: false,
            })
            .collect();
        let mut controls_open = true;
        tracing::info!(jobs = slots.len(), "scheduler started");

        loop {
            while controls_open {
                match controls.try_recv() {
                    Ok(control) => {
                        if let Flow::Stop = self.apply(control, &mut slots) {
                            return Ok(self.exit(&slots));
                        }
                    }
                    Err(mpsc::error::TryRecvError::Empty) => break,
                    Err(mpsc::error::TryRecvError::Disconnected) => controls_open = false,
                }
            }

            let now = self.clock.now();
            if let Some((index, reason)) = Self::pick(&slots, now, started_at) {
                if let Some(slot) = slots.get_mut(index) {
                    self.run_one(slot, reason).await;
                }
                continue;
            }

            // Nothing is due, so every fire time up to `now` is satisfied.
            let next = slots
                .iter()
                .filter_map(|s| s.job.schedule.next_after(now))
                .min();
            let wait = match next {
                Some(n) => (n - now).to_std().unwrap_or(Duration::ZERO).min(MAX_SLEEP),
                None => MAX_SLEEP,
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                received = controls.recv(), if controls_open => match received {
                    Some(control) => {
                        if let Flow::Stop = self.apply(control, &mut slots) {
                            return Ok(self.exit(&slots));
                        }
                    }
                    None => controls_open = false,
                },
            }
        }
    }

    /// The job to run now: manual requests first, then the earliest unsatisfied fire time
    /// (ties go to the job listed first).
    fn pick(
        slots: &[Slot],
        now: DateTime<Utc>,
        started_at: DateTime<Utc>,
    ) -> Option<(usize, RunReason)> {
        if let Some(i) = slots.iter().position(|s| s.manual) {
            return Some((i, RunReason::Manual));
        }
        let (index, _) = slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.due(now).map(|due| (i, due)))
            .min_by_key(|(i, due)| (*due, *i))?;
        let slot = slots.get(index)?;
        let latest = slot.job.schedule.missed_since(slot.cursor, now)?;
        let reason = if latest < started_at {
            RunReason::CatchUp { missed: latest }
        } else {
            RunReason::Scheduled { due: latest }
        };
        Some((index, reason))
    }

    async fn run_one(&self, slot: &mut Slot, reason: RunReason) {
        let started = self.clock.now();
        slot.cursor = Some(slot.cursor.map_or(started, |c| c.max(started)));
        slot.job.last_run = Some(started);
        slot.manual = false;
        let name = slot.job.name.clone();
        tracing::info!(job = %name, ?reason, "run started");
        self.emit(SchedulerEvent::Started {
            job: name.clone(),
            at: started,
            reason,
        });

        // Spawned so that a panicking job is reported, not fatal to the scheduler.
        let mut task = tokio::spawn((slot.job.action)());
        let outcome = match slot.job.timeout {
            Some(limit) => match tokio::time::timeout(limit, &mut task).await {
                Ok(joined) => joined.map_err(describe_join_error).and_then(|r| r),
                Err(_) => {
                    task.abort();
                    Err(format!(
                        "the job took longer than {}s and was abandoned",
                        limit.as_secs()
                    ))
                }
            },
            None => task.await.map_err(describe_join_error).and_then(|r| r),
        };

        let finished = self.clock.now();
        match &outcome {
            Ok(()) => tracing::info!(job = %name, "run finished"),
            Err(error) => tracing::warn!(job = %name, %error, "run failed"),
        }
        let error = outcome.err();
        self.emit(SchedulerEvent::Finished {
            job: name,
            at: finished,
            started,
            ok: error.is_none(),
            error,
        });
    }

    fn apply(&self, control: Control, slots: &mut Vec<Slot>) -> Flow {
        match control {
            Control::Shutdown => {
                tracing::info!("scheduler shutting down");
                return Flow::Stop;
            }
            Control::RunNow(name) => match slots.iter_mut().find(|s| s.job.name == name) {
                Some(slot) => slot.manual = true,
                None => tracing::warn!(job = %name, "run-now request for an unknown job ignored"),
            },
            Control::Reload(jobs) => {
                if let Err(e) = check_unique(&jobs) {
                    tracing::error!(error = %e, "reload refused; keeping the current jobs");
                    return Flow::Continue;
                }
                let now = self.clock.now();
                let mut old: Vec<Slot> = std::mem::take(slots);
                for mut job in jobs {
                    let previous = old
                        .iter()
                        .position(|s| s.job.name == job.name)
                        .map(|i| old.swap_remove(i));
                    let (cursor, manual) = match previous {
                        Some(prev) => {
                            job.last_run = prev.job.last_run.or(job.last_run);
                            let same = prev.job.schedule.line() == job.schedule.line()
                                && prev.job.schedule.tz() == job.schedule.tz();
                            let cursor = if same { prev.cursor } else { Some(now) };
                            (cursor, prev.manual)
                        }
                        None => (Some(now), false),
                    };
                    slots.push(Slot {
                        job,
                        cursor,
                        manual,
                    });
                }
                tracing::info!(jobs = slots.len(), "scheduler reloaded");
            }
        }
        Flow::Continue
    }

    fn exit(&self, slots: &[Slot]) -> SchedulerExit {
        SchedulerExit {
            last_runs: slots
                .iter()
                .filter_map(|s| s.job.last_run.map(|t| (s.job.name.clone(), t)))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::schedule::DEFAULT_TZ;
    use chrono::{NaiveDate, TimeZone};
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use tokio::task::JoinHandle;

    fn sh(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        let naive = NaiveDate::from_ymd_opt(y, mo, d)
            .and_then(|d| d.and_hms_opt(h, mi, 0))
            .expect("valid test date");
        DEFAULT_TZ
            .from_local_datetime(&naive)
            .single()
            .expect("Shanghai has no DST")
            .with_timezone(&Utc)
    }

    fn secs(n: i64) -> chrono::Duration {
        chrono::Duration::seconds(n)
    }

    fn sched(line: &str) -> Schedule {
        Schedule::parse(line, DEFAULT_TZ).expect("test line parses")
    }

    fn noop(name: &str, line: &str) -> Job {
        Job::new(name, sched(line), || async { Ok(()) })
    }

    struct Harness {
        clock: TokioClock,
        handle: SchedulerHandle,
        events: broadcast::Receiver<SchedulerEvent>,
        task: JoinHandle<Result<SchedulerExit, SchedulerError>>,
    }

    impl Harness {
        fn start(base: DateTime<Utc>, jobs: Vec<Job>) -> Harness {
            let clock = TokioClock::starting_at(base);
            let scheduler = Scheduler::new(Arc::new(clock));
            let events = scheduler.subscribe();
            let (handle, rx) = SchedulerHandle::channel();
            let task = tokio::spawn(scheduler.run(jobs, rx));
            Harness {
                clock,
                handle,
                events,
                task,
            }
        }

        /// Lets paused time run until the wall-clock instant `t`.
        async fn run_until(&self, t: DateTime<Utc>) {
            let wait = (t - self.clock.now()).to_std().unwrap_or(Duration::ZERO);
            tokio::time::sleep(wait).await;
        }

        fn drain(&mut self) -> Vec<SchedulerEvent> {
            let mut out = Vec::new();
            while let Ok(e) = self.events.try_recv() {
                out.push(e);
            }
            out
        }

        async fn stop(mut self) -> (SchedulerExit, Vec<SchedulerEvent>) {
            self.handle.shutdown().expect("scheduler alive");
            let exit = (&mut self.task)
                .await
                .expect("scheduler task did not panic")
                .expect("scheduler ran");
            let events = self.drain();
            (exit, events)
        }
    }

    fn starts(events: &[SchedulerEvent], job: &str) -> Vec<DateTime<Utc>> {
        events
            .iter()
            .filter_map(|e| match e {
                SchedulerEvent::Started { job: j, at, .. } if j == job => Some(*at),
                _ => None,
            })
            .collect()
    }

    fn finishes(
        events: &[SchedulerEvent],
        job: &str,
    ) -> Vec<(DateTime<Utc>, bool, Option<String>)> {
        events
            .iter()
            .filter_map(|e| match e {
                SchedulerEvent::Finished {
                    job: j,
                    at,
                    ok,
                    error,
                    ..
                } if j == job => Some((*at, *ok, error.clone())),
                _ => None,
            })
            .collect()
    }

    #[tokio::test(start_paused = true)]
    async fn every_five_minutes_fires_twelve_times_an_hour_at_exact_minutes() {
        let base = sh(2024, 6, 3, 10, 0);
        let job = noop("pipeline", "*/5 * * * *").with_last_run(Some(base));
        let h = Harness::start(base, vec![job]);
        h.run_until(sh(2024, 6, 3, 11, 0) + secs(30)).await;
        let (exit, events) = h.stop().await;
        let expected: Vec<_> = (1..=12).map(|i| base + secs(300 * i)).collect();
        assert_eq!(starts(&events, "pipeline"), expected);
        assert_eq!(finishes(&events, "pipeline").len(), 12);
        assert!(finishes(&events, "pipeline").iter().all(|(_, ok, _)| *ok));
        assert_eq!(exit.last_runs.get("pipeline"), Some(&sh(2024, 6, 3, 11, 0)));
    }

    #[tokio::test(start_paused = true)]
    async fn runs_never_overlap_and_a_waiting_job_runs_once() {
        let running = Arc::new(AtomicUsize::new(0));
        let max_seen = Arc::new(AtomicUsize::new(0));
        let make = |name: &str, line: &str, minutes: u64| {
            let running = Arc::clone(&running);
            let max_seen = Arc::clone(&max_seen);
            Job::new(name, sched(line), move || {
                let running = Arc::clone(&running);
                let max_seen = Arc::clone(&max_seen);
                async move {
                    let now_running = running.fetch_add(1, Ordering::SeqCst) + 1;
                    max_seen.fetch_max(now_running, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_secs(minutes * 60 + 1)).await;
                    running.fetch_sub(1, Ordering::SeqCst);
                    Ok(())
                }
            })
        };
        let last = sh(2024, 6, 3, 10, 59);
        // Both due at 11:00; the slow one is listed first and takes 7 minutes (+1 s).
        let slow = make("slow", "0 * * * *", 7).with_last_run(Some(last));
        let fast = make("fast", "* * * * *", 0).with_last_run(Some(last));
        let h = Harness::start(last + secs(30), vec![slow, fast]);
        h.run_until(sh(2024, 6, 3, 11, 12) + secs(30)).await;
        let (_, events) = h.stop().await;

        assert_eq!(max_seen.load(Ordering::SeqCst), 1, "runs overlapped");
        assert_eq!(starts(&events, "slow"), vec![sh(2024, 6, 3, 11, 0)]);
        let slow_done = sh(2024, 6, 3, 11, 7) + secs(1);
        assert_eq!(
            finishes(&events, "slow").first().map(|f| f.0),
            Some(slow_done)
        );
        // `fast` was due eight times (11:00 ... 11:07) while `slow` ran: it runs once,
        // right after, then every minute again.
        let fast_starts = starts(&events, "fast");
        assert_eq!(
            fast_starts,
            vec![
                slow_done,
                sh(2024, 6, 3, 11, 8),
                sh(2024, 6, 3, 11, 9),
                sh(2024, 6, 3, 11, 10),
                sh(2024, 6, 3, 11, 11),
                sh(2024, 6, 3, 11, 12),
            ]
        );
        // Every Started is followed by its own Finished before the next Started.
        let mut open: Option<&str> = None;
        for e in &events {
            match e {
                SchedulerEvent::Started { job, .. } => {
                    assert!(open.is_none(), "{job} started while {open:?} ran");
                    open = Some(job);
                }
                SchedulerEvent::Finished { job, .. } => {
                    assert_eq!(open, Some(job.as_str()));
                    open = None;
                }
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn catch_up_runs_once_at_start_then_on_schedule() {
        let base = sh(2024, 6, 3, 10, 0);
        let job = noop("daily", "30 2 * * *").with_last_run(Some(sh(2024, 6, 1, 2, 30)));
        let h = Harness::start(base, vec![job]);
        h.run_until(sh(2024, 6, 4, 3, 0)).await;
        let (_, events) = h.stop().await;
        assert_eq!(starts(&events, "daily"), vec![base, sh(2024, 6, 4, 2, 30)]);
        let reasons: Vec<_> = events
            .iter()
            .filter_map(|e| match e {
                SchedulerEvent::Started { reason, .. } => Some(reason.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(
            reasons,
            vec![
                RunReason::CatchUp {
                    missed: sh(2024, 6, 3, 2, 30)
                },
                RunReason::Scheduled {
                    due: sh(2024, 6, 4, 2, 30)
                },
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn no_catch_up_when_nothing_was_missed() {
        let base = sh(2024, 6, 3, 10, 0);
        let daily = noop("daily", "30 2 * * *").with_last_run(Some(sh(2024, 6, 3, 2, 30)));
        let hourly = noop("hourly", "@hourly").with_last_run(Some(sh(2024, 6, 3, 10, 0)));
        let h = Harness::start(base, vec![daily, hourly]);
        h.run_until(sh(2024, 6, 4, 3, 0) + secs(30)).await;
        let (_, events) = h.stop().await;
        assert_eq!(starts(&events, "daily"), vec![sh(2024, 6, 4, 2, 30)]);
        let hourly = starts(&events, "hourly");
        assert_eq!(hourly.first(), Some(&sh(2024, 6, 3, 11, 0)));
        assert_eq!(hourly.len(), 17); // 11:00 ... 03:00
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_lets_the_current_run_finish_and_starts_nothing_more() {
        let done = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&done);
        let slow = Job::new("slow", sched("*/5 * * * *"), move || {
            let flag = Arc::clone(&flag);
            async move {
                tokio::time::sleep(Duration::from_secs(180)).await;
                flag.store(true, Ordering::SeqCst);
                Ok(())
            }
        })
        .with_last_run(Some(sh(2024, 6, 3, 10, 0)));
        // Comes due at 10:06, while `slow` runs.
        let other = noop("other", "6 10 * * *").with_last_run(Some(sh(2024, 6, 2, 10, 6)));
        let mut h = Harness::start(sh(2024, 6, 3, 10, 4) + secs(30), vec![slow, other]);

        let first = h.events.recv().await.expect("an event");
        assert!(matches!(first, SchedulerEvent::Started { ref job, .. } if job == "slow"));
        assert!(!done.load(Ordering::SeqCst));
        h.handle.shutdown().expect("scheduler alive");
        let clock = h.clock;
        let (exit, events) = h.stop().await;

        assert!(done.load(Ordering::SeqCst), "the running job was cut short");
        assert_eq!(
            finishes(&events, "slow"),
            vec![(sh(2024, 6, 3, 10, 8), true, None)]
        );
        assert!(
            starts(&events, "other").is_empty(),
            "a job started after shutdown"
        );
        assert!(clock.now() >= sh(2024, 6, 3, 10, 8));
        assert_eq!(exit.last_runs.get("slow"), Some(&sh(2024, 6, 3, 10, 5)));
        assert_eq!(exit.last_runs.get("other"), Some(&sh(2024, 6, 2, 10, 6)));
    }

    #[tokio::test(start_paused = true)]
    async fn reload_replaces_the_schedule() {
        let base = sh(2024, 6, 3, 10, 0);
        let job = noop("pipeline", "*/10 * * * *").with_last_run(Some(base));
        let h = Harness::start(base + secs(30), vec![job]);
        h.run_until(sh(2024, 6, 3, 10, 25)).await;
        h.handle
            .reload(vec![
                noop("pipeline", "45 * * * *"),
                noop("report", "*/15 * * * *"),
            ])
            .expect("scheduler alive");
        h.run_until(sh(2024, 6, 3, 10, 50)).await;
        let (exit, events) = h.stop().await;
        // Old schedule fired at 10:10 and 10:20, then not at 10:30 or 10:40.
        assert_eq!(
            starts(&events, "pipeline"),
            vec![
                sh(2024, 6, 3, 10, 10),
                sh(2024, 6, 3, 10, 20),
                sh(2024, 6, 3, 10, 45)
            ]
        );
        assert_eq!(
            starts(&events, "report"),
            vec![sh(2024, 6, 3, 10, 30), sh(2024, 6, 3, 10, 45)]
        );
        assert_eq!(exit.last_runs.len(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn reload_keeps_the_last_run_time_and_does_not_catch_up() {
        let base = sh(2024, 6, 3, 10, 0);
        let job = noop("pipeline", "*/10 * * * *").with_last_run(Some(base));
        let h = Harness::start(base + secs(30), vec![job]);
        h.run_until(sh(2024, 6, 3, 10, 25)).await;
        // The reloaded job claims it never ran; its new time (03:00) lies in the past.
        h.handle
            .reload(vec![noop("pipeline", "0 3 * * *").with_last_run(None)])
            .expect("scheduler alive");
        h.run_until(sh(2024, 6, 3, 10, 40)).await;
        let (exit, events) = h.stop().await;
        assert_eq!(
            starts(&events, "pipeline"),
            vec![sh(2024, 6, 3, 10, 10), sh(2024, 6, 3, 10, 20)]
        );
        assert_eq!(
            exit.last_runs.get("pipeline"),
            Some(&sh(2024, 6, 3, 10, 20))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn failures_panics_and_timeouts_are_reported_and_scheduling_goes_on() {
        let last = sh(2024, 6, 3, 10, 0);
        let failing = Job::new("failing", sched("* * * * *"), || async {
            Err("database unreachable".to_string())
        })
        .with_last_run(Some(last));
        let panicking = Job::new("panicking", sched("* * * * *"), || async {
            panic!("boom");
        })
        .with_last_run(Some(last));
        let hanging = Job::new("hanging", sched("0 11 * * *"), || async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok(())
        })
        .with_timeout(Duration::from_secs(120))
        .with_last_run(Some(last));
        let h = Harness::start(last + secs(30), vec![failing, panicking, hanging]);
        h.run_until(sh(2024, 6, 3, 11, 3) + secs(30)).await;
        let (_, events) = h.stop().await;

        let f = finishes(&events, "failing");
        assert!(f.len() >= 3);
        assert!(f
            .iter()
            .all(|(_, ok, e)| !ok && e.as_deref() == Some("database unreachable")));
        let p = finishes(&events, "panicking");
        assert!(p.len() >= 3);
        assert!(p
            .iter()
            .all(|(_, ok, e)| !ok && e.as_deref() == Some("the job panicked: boom")));
        let t = finishes(&events, "hanging");
        assert_eq!(t.len(), 1);
        assert_eq!(t.first().map(|x| x.0), Some(sh(2024, 6, 3, 11, 2)));
        assert_eq!(
            t.first().and_then(|x| x.2.clone()).as_deref(),
            Some("the job took longer than 120s and was abandoned")
        );
    }

    #[tokio::test(start_paused = true)]
    async fn run_now_runs_at_once() {
        let base = sh(2024, 6, 3, 10, 0);
        let job = noop("daily", "30 2 * * *").with_last_run(Some(sh(2024, 6, 3, 2, 30)));
        let mut h = Harness::start(base, vec![job]);
        tokio::time::advance(Duration::from_secs(90)).await;
        h.handle.run_now("daily").expect("scheduler alive");
        h.handle.run_now("nonexistent").expect("scheduler alive");
        let first = h.events.recv().await.expect("an event");
        assert_eq!(
            first,
            SchedulerEvent::Started {
                job: "daily".to_string(),
                at: base + secs(90),
                reason: RunReason::Manual
            }
        );
        let (exit, _) = h.stop().await;
        assert_eq!(exit.last_runs.get("daily"), Some(&(base + secs(90))));
    }

    #[test]
    fn events_serialize_to_json() {
        let at = sh(2024, 6, 3, 2, 30);
        let started = SchedulerEvent::Started {
            job: "pipeline".to_string(),
            at,
            reason: RunReason::CatchUp { missed: at },
        };
        let json = serde_json::to_string(&started).expect("serializes");
        assert_eq!(
            json,
            r#"{"event":"started","job":"pipeline","at":"2024-06-02T18:30:00Z","reason":{"kind":"catch_up","missed":"2024-06-02T18:30:00Z"}}"#
        );
        let back: SchedulerEvent = serde_json::from_str(&json).expect("parses");
        assert_eq!(back, started);
        let finished = SchedulerEvent::Finished {
            job: "pipeline".to_string(),
            at,
            started: at,
            ok: false,
            error: Some("数据库不可达".to_string()),
        };
        let json = serde_json::to_string(&finished).expect("serializes");
        assert!(
            json.contains(r#""ok":false,"error":"数据库不可达""#),
            "{json}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn duplicate_job_names_are_refused() {
        let clock = TokioClock::starting_at(sh(2024, 6, 3, 10, 0));
        let (_handle, rx) = SchedulerHandle::channel();
        let result = Scheduler::new(Arc::new(clock))
            .run(vec![noop("a", "@daily"), noop("a", "@hourly")], rx)
            .await;
        assert_eq!(result, Err(SchedulerError::DuplicateJob("a".to_string())));
    }

    #[tokio::test(start_paused = true)]
    async fn dropped_handle_does_not_stop_the_scheduler() {
        let base = sh(2024, 6, 3, 10, 0);
        let clock = TokioClock::starting_at(base);
        let scheduler = Scheduler::new(Arc::new(clock));
        let mut events = scheduler.subscribe();
        let (handle, rx) = SchedulerHandle::channel();
        drop(handle);
        let job = noop("p", "*/5 * * * *").with_last_run(Some(base));
        let task = tokio::spawn(scheduler.run(vec![job], rx));
        let first = events.recv().await.expect("an event");
        assert!(matches!(first, SchedulerEvent::Started { at, .. } if at == base + secs(300)));
        task.abort();
    }
}
