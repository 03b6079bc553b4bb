//! What a long-running process (`yingbao serve`) keeps between runs: the last run's resolver,
//! so that a quiet month re-resolves only the records that changed.

use crate::resolve::incremental::Resolver;

/// The resolver of the run that built or last updated it. Used again only when that run is
/// the newest succeeded one (its links are the ones every id is kept from); otherwise the
/// next run resolves in full and keeps the new resolver.
#[derive(Default)]
pub struct Warm {
    kept: Option<(i64, Resolver)>,
}

impl Warm {
    /// The kept resolver, if it is the one of `last_run`.
    pub(super) fn take_for(&mut self, last_run: Option<i64>) -> Option<Resolver> {
        match self.kept.take() {
            Some((run, r)) if Some(run) == last_run => Some(r),
            _ => None,
        }
    }

    /// Keeps `resolver` as run `run_id` left it.
    pub(super) fn keep(&mut self, run_id: i64, resolver: Resolver) {
        self.kept = Some((run_id, resolver));
    }

    /// Whether a resolver is kept (for tests and the daemon's log).
    pub fn is_warm(&self) -> bool {
        self.kept.is_some()
    }
}
