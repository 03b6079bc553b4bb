//! What a long-running process (`yingbao serve`) keeps between runs: the last run's resolver,
//! so that a quiet month re-resolves only the records that changed, and the lists it wrote.

use std::collections::HashMap;

use crate::deliver::Earlier;
use crate::domain::Observation;
use crate::resolve::incremental::Resolver;
use crate::resolve::Resolution;

/// The resolver of the run that built or last updated it. Used again only when that run is
/// the newest succeeded one (its links are the ones every id is kept from); otherwise the
/// next run resolves in full and keeps the new resolver.
///
/// The lists written last are kept by the digest of their content, so that a list whose
/// title and rows did not change is linked into the new run's folder, not built again.
#[derive(Default)]
pub struct Warm {
    kept: Option<(i64, Resolver)>,
    /// True while the kept resolver's resolution is lent to the run that made it: a resolver
    /// whose run never gave it back (the run failed) is not updated again.
    lent: bool,
    /// The snapshot whose records the kept resolver holds, per source.
    snapshots: HashMap<String, i64>,
    lists: Earlier,
}

impl Warm {
    /// The kept resolver, if it is the one of `last_run`.
    pub(super) fn take_for(&mut self, last_run: Option<i64>) -> Option<Resolver> {
        match self.kept.take() {
            Some((run, r)) if Some(run) == last_run && !self.lent => Some(r),
            _ => None,
        }
    }

    /// Keeps `resolver` as run `run_id` left it, holding the records of `snapshots` (the
    /// snapshot each source used). Its resolution is lent to that run until
    /// [`Warm::give_back`].
    pub(super) fn keep(
        &mut self,
        run_id: i64,
        resolver: Resolver,
        snapshots: HashMap<String, i64>,
    ) {
        self.kept = Some((run_id, resolver));
        self.snapshots = snapshots;
        self.lent = true;
    }

    /// Gives the kept resolver back the resolution its run borrowed, once the run has
    /// written everything.
    pub(super) fn give_back(&mut self, resolution: Resolution) {
        if let Some((_, r)) = self.kept.as_mut() {
            r.give_back(resolution);
            self.lent = false;
        }
    }

    /// The records of `source`'s snapshot `snapshot`, from the kept resolver, when it holds
    /// that snapshot: a repeated snapshot is not read back from the database.
    pub(super) fn observations(&self, source: &str, snapshot: i64) -> Option<Vec<Observation>> {
        let (_, resolver) = self.kept.as_ref()?;
        (self.snapshots.get(source) == Some(&snapshot)).then(|| resolver.observations_of(source))
    }

    /// The lists the last run wrote, by content.
    pub(super) fn lists(&self) -> Earlier {
        self.lists.clone()
    }

    /// Keeps the lists a run wrote.
    pub(super) fn keep_lists(&mut self, lists: Earlier) {
        self.lists = lists;
    }

    /// Whether a resolver is kept (for tests and the daemon's log).
    pub fn is_warm(&self) -> bool {
        self.kept.is_some()
    }
}
