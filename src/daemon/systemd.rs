//! systemd's service notifications for `Type=notify`: `READY=1` once serving, `WATCHDOG=1`
//! at half the interval systemd gives, `STOPPING=1` on the way out; nothing outside systemd.
//!
//! Without `NOTIFY_SOCKET` (a shell, a test, another supervisor) every call does nothing. A
//! notification that cannot be sent is logged, never fatal: the daemon's work matters more.

use std::time::Duration;

use sd_notify::NotifyState;

fn send(states: &[NotifyState]) {
    if let Err(e) = sd_notify::notify(states) {
        tracing::warn!(error = %e, "cannot notify systemd");
    }
}

/// The daemon is up: listening, configuration loaded, its state read from the database.
pub fn ready(status: &str) {
    send(&[NotifyState::Ready, NotifyState::Status(status)]);
}

/// The daemon's main loop is alive.
pub fn watchdog() {
    send(&[NotifyState::Watchdog]);
}

/// The daemon is stopping: the current job finishes first.
pub fn stopping() {
    send(&[NotifyState::Stopping, NotifyState::Status("stopping")]);
}

/// How often to send `WATCHDOG=1`: half of systemd's `WATCHDOG_USEC` (for this process, when
/// `WATCHDOG_PID` says), so one late ping is not yet a missed one. None: no watchdog.
pub fn watchdog_interval() -> Option<Duration> {
    sd_notify::watchdog_enabled()
        .filter(|d| !d.is_zero())
        .map(|d| (d / 2).max(Duration::from_millis(1)))
}
