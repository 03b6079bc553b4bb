//! Whether a run's township lists wait for the operator before they are sent: always under
//! `[delivery] approve = "manual"`; under `auto` for a first run, a stale feed or a big jump.

use serde::Serialize;

use super::{SourceOutcome, SourceStatus};
use crate::deliver::settings::Approve;

/// What a run's lists wait for, if anything.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Approval {
    /// The lists are queued as `waiting`: `yingbao approve <run>` or the portal sends them.
    pub waits: bool,
    /// Why (English, for the operator); empty when they go at once.
    pub reasons: Vec<String>,
}

/// What the gate looks at.
#[derive(Debug, Clone, Copy)]
pub struct ApprovalFacts<'a> {
    pub mode: Approve,
    /// The share by which the listed leads may move against the last released run.
    pub max_change: f64,
    /// No township list was ever sent: this is the county's first run.
    pub first: bool,
    pub sources: &'a [SourceOutcome],
    /// Leads on this run's township lists.
    pub listed: usize,
    /// Leads on the township lists of the last run whose lists were released.
    pub listed_before: Option<usize>,
}

/// The gate. Every reason that applies is named, so the operator sees all of them at once.
pub fn approval(f: ApprovalFacts<'_>) -> Approval {
    let mut reasons = Vec::new();
    if f.mode == Approve::Manual {
        reasons.push("[delivery] approve = \"manual\": every run waits for approval".to_string());
    }
    if f.first {
        reasons.push("first run: no township list was sent before".to_string());
    }
    for s in f.sources {
        if matches!(s.status, SourceStatus::Failed | SourceStatus::Held) {
            reasons.push(format!(
                "source `{}` is {}: {}",
                s.source,
                s.status,
                s.note.as_deref().unwrap_or("no reason recorded")
            ));
        }
    }
    if let Some(before) = f.listed_before {
        let moved = f.listed.abs_diff(before) as f64 / before.max(1) as f64;
        if moved > f.max_change {
            reasons.push(format!(
                "listed leads moved from {before} to {} ({:+.0} %), more than approve_max_change = {:.0} %",
                f.listed,
                (f.listed as f64 - before as f64) * 100.0 / before.max(1) as f64,
                f.max_change * 100.0
            ));
        }
    }
    Approval {
        waits: !reasons.is_empty(),
        reasons,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Feed;

    fn source(status: SourceStatus) -> SourceOutcome {
        SourceOutcome {
            source: "market".into(),
            feed: Feed::Market,
            status,
            source_rows: 0,
            rows_read: 0,
            quarantined: 0,
            invalid_uscc: 0,
            records_used: 0,
            note: Some("3 mapped headers not found".into()),
            bytes: 0,
            format: String::new(),
            read_seconds: 0.0,
            snapshot_id: None,
        }
    }

    fn facts(sources: &[SourceOutcome]) -> ApprovalFacts<'_> {
        ApprovalFacts {
            mode: Approve::Auto,
            max_change: 0.3,
            first: false,
            sources,
            listed: 100,
            listed_before: Some(90),
        }
    }

    #[test]
    fn auto_sends_an_ordinary_run_at_once() {
        let fresh = [source(SourceStatus::Fresh)];
        assert_eq!(approval(facts(&fresh)), Approval::default());
    }

    #[test]
    fn manual_waits_always() {
        let fresh = [source(SourceStatus::Fresh)];
        let a = approval(ApprovalFacts {
            mode: Approve::Manual,
            ..facts(&fresh)
        });
        assert!(a.waits);
        assert_eq!(a.reasons.len(), 1);
    }

    #[test]
    fn a_first_run_a_stale_feed_and_a_jump_wait_even_under_auto() {
        let fresh = [source(SourceStatus::Fresh)];
        let first = approval(ApprovalFacts {
            first: true,
            listed_before: None,
            ..facts(&fresh)
        });
        assert!(first.waits && first.reasons[0].starts_with("first run"));

        let failed = [source(SourceStatus::Failed)];
        let a = approval(facts(&failed));
        assert!(a.waits);
        assert!(a.reasons[0].contains("`market` is failed: 3 mapped headers"));
        let held = [source(SourceStatus::Held)];
        assert!(approval(facts(&held)).waits);

        // 90 → 130 is +44 %: waits; 90 → 117 is +30 %: goes.
        let jump = approval(ApprovalFacts {
            listed: 130,
            ..facts(&fresh)
        });
        assert!(jump.waits);
        assert!(
            jump.reasons[0].contains("from 90 to 130 (+44 %)"),
            "{jump:?}"
        );
        assert!(
            !approval(ApprovalFacts {
                listed: 117,
                ..facts(&fresh)
            })
            .waits
        );
        // A fall counts as much as a rise.
        assert!(
            approval(ApprovalFacts {
                listed: 50,
                ..facts(&fresh)
            })
            .waits
        );
    }
}
