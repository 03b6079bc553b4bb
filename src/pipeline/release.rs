//! What a run may hand out, decided from how its sources stand: whether township lists are
//! written at all, which new leads wait for a stale feed, and whether the lifecycle moves.

use std::collections::HashSet;

use super::{SourceOutcome, SourceStatus};
use crate::domain::{Feed, LeadId};
use crate::leads::Lead;
use crate::resolve::Link;

/// How this run's sources stand, as far as what it may hand out goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gates {
    /// No declaration snapshot could be used: every employer would look unfiled, so the run
    /// finds no leads at all.
    pub register_missing: bool,
    /// Why no township list is written this run ([`push_blocked`]); `None`: written.
    pub push_blocked: Option<String>,
    /// Held or failed feeds other than the register ([`stale_sources`]).
    pub stale: HashSet<String>,
    /// Whether lead states move this run ([`lifecycle_moves`]).
    pub lifecycle_moves: bool,
}

impl Gates {
    /// The gates of a run whose sources came out as `sources`.
    pub fn of(sources: &[SourceOutcome]) -> Gates {
        let register_missing = !sources
            .iter()
            .any(|s| s.feed == Feed::Declaration && s.records_used > 0);
        let push_blocked = push_blocked(sources);
        Gates {
            register_missing,
            lifecycle_moves: lifecycle_moves(push_blocked.as_deref(), register_missing),
            push_blocked,
            stale: stale_sources(sources)
                .into_iter()
                .map(str::to_string)
                .collect(),
        }
    }
}

/// Why no township list may be written this run: a declaration register that is not fresh
/// would turn every recent filing into a false lead. `None` when every register is fresh.
pub fn push_blocked(sources: &[SourceOutcome]) -> Option<String> {
    sources
        .iter()
        .find(|s| s.feed == Feed::Declaration && s.status != SourceStatus::Fresh)
        .map(|s| {
            format!(
                "declaration source `{}` is {}: {}",
                s.source,
                s.status,
                s.note.as_deref().unwrap_or("no reason recorded")
            )
        })
}

/// The other feeds that are held or failed: their last good snapshot may be out of date.
pub fn stale_sources(sources: &[SourceOutcome]) -> HashSet<&str> {
    sources
        .iter()
        .filter(|s| s.feed != Feed::Declaration && s.status != SourceStatus::Fresh)
        .map(|s| s.source.as_str())
        .collect()
}

/// Leads that are new (not in `before`, the leads listed before) and whose entity has a
/// record from one of the `stale` sources: kept for the operator, not handed out until that
/// feed is fresh again.
pub fn withheld_leads(
    leads: &[Lead],
    links: &[Link],
    before: &HashSet<LeadId>,
    stale: &HashSet<impl std::borrow::Borrow<str> + Eq + std::hash::Hash>,
) -> HashSet<LeadId> {
    let resting: HashSet<&str> = links
        .iter()
        .filter(|l| stale.contains(l.source.as_str()))
        .map(|l| l.entity_id.as_str())
        .collect();
    leads
        .iter()
        .filter(|l| !before.contains(&l.lead_id) && resting.contains(l.entity_id.as_str()))
        .map(|l| l.lead_id.clone())
        .collect()
}

/// The lifecycle moves only on a trustworthy register: a stale or missing one would resolve
/// or open leads for filings it has not seen.
pub fn lifecycle_moves(push_blocked: Option<&str>, register_missing: bool) -> bool {
    push_blocked.is_none() && !register_missing
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::decide::tests::lead as row;

    fn link(source: &str, key: &str, entity: &str) -> Link {
        Link::seed(source, key, entity)
    }

    fn source(id: &str, feed: Feed, status: SourceStatus, note: Option<&str>) -> SourceOutcome {
        SourceOutcome {
            source: id.into(),
            feed,
            status,
            source_rows: 0,
            snapshot_id: None,
            rows_read: 0,
            quarantined: 0,
            invalid_uscc: 0,
            records_used: 0,
            note: note.map(str::to_string),
            bytes: 0,
            format: String::new(),
            read_seconds: 0.0,
        }
    }

    #[test]
    fn only_new_leads_resting_on_a_stale_feed_are_withheld() {
        let rows = vec![row("E1"), row("E2"), row("E3"), row("E4")];
        let links = vec![
            link("market", "1", "E1"),
            link("exam", "1", "E1"),
            link("market", "2", "E2"),
            link("exam", "3", "E3"),
            link("market", "4", "E4"),
        ];
        // E3 was already a lead last run; E1 and E2 are new; exam is stale.
        let before: HashSet<LeadId> = [LeadId::from("LE3")].into();
        let stale: HashSet<&str> = ["exam"].into();
        let withheld = withheld_leads(&rows, &links, &before, &stale);
        assert_eq!(withheld, [LeadId::from("LE1")].into());
        // Nothing is stale: nothing withheld.
        assert!(withheld_leads(&rows, &links, &before, &HashSet::<&str>::new()).is_empty());
    }

    #[test]
    fn the_gates_of_a_run_follow_its_sources() {
        let mut decl = source("decl", Feed::Declaration, SourceStatus::Fresh, None);
        decl.records_used = 289;
        let exam = source("exam", Feed::Exam, SourceStatus::Held, Some("cut"));
        let gates = Gates::of(&[decl.clone(), exam.clone()]);
        assert!(!gates.register_missing);
        assert_eq!(gates.push_blocked, None);
        assert!(gates.lifecycle_moves);
        assert_eq!(gates.stale, HashSet::from(["exam".to_string()]));
        // A fresh register with no usable record is a missing register.
        decl.records_used = 0;
        let gates = Gates::of(&[decl, exam]);
        assert!(gates.register_missing);
        assert!(!gates.lifecycle_moves);
    }

    #[test]
    fn a_register_not_fresh_blocks_the_lists_and_the_lifecycle() {
        let fresh = [
            source("decl", Feed::Declaration, SourceStatus::Fresh, None),
            source("exam", Feed::Exam, SourceStatus::Fresh, None),
        ];
        assert_eq!(push_blocked(&fresh), None);
        assert!(stale_sources(&fresh).is_empty());
        assert!(lifecycle_moves(None, false));
        // A held exam feed makes it stale, and blocks nothing.
        let exam_held = [
            source("decl", Feed::Declaration, SourceStatus::Fresh, None),
            source(
                "exam",
                Feed::Exam,
                SourceStatus::Held,
                Some("40 % of last month"),
            ),
        ];
        assert_eq!(push_blocked(&exam_held), None);
        assert_eq!(stale_sources(&exam_held), ["exam"].into());
        // A failed register blocks, with its reason; the lifecycle stands still.
        let decl_failed = [
            source(
                "decl",
                Feed::Declaration,
                SourceStatus::Failed,
                Some("HTTP 503"),
            ),
            source("exam", Feed::Exam, SourceStatus::Fresh, None),
        ];
        let why = push_blocked(&decl_failed).expect("blocked");
        assert!(why.contains("`decl` is failed: HTTP 503"), "{why}");
        assert!(!lifecycle_moves(Some(&why), false));
        assert!(!lifecycle_moves(None, true), "no register at all");
        assert!(
            stale_sources(&decl_failed).is_empty(),
            "the register is not a stale feed"
        );
    }
}
