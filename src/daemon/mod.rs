//! The long-running side of `yingbao serve`: crontab schedules, a one-at-a-time job
//! scheduler, metrics and health endpoints, the project lock and systemd notifications.

pub mod health;
pub mod lock;
pub mod metrics;
pub mod scheduler;
pub mod service;
pub mod state;
pub mod systemd;

pub use crate::domain::schedule::{parse_tz, Schedule, ScheduleError, DEFAULT_TZ};
pub use health::{router, serve, serve_on, HealthError, HealthState, Readiness};
pub use metrics::{Metrics, Outcome};
pub use scheduler::{
    Clock, Control, Job, JobAction, JobFuture, RunReason, Scheduler, SchedulerError,
    SchedulerEvent, SchedulerExit, SchedulerHandle, SystemClock, TokioClock,
};
