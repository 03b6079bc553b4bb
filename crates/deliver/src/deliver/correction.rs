//! Versions of a township's list within one cycle: what a later run of the same month queues
//! — nothing, a replacement of a version not yet sent, or a 更正版 with what was added and removed.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::leads::row::LeadRow;

/// A lead a correction adds or removes, and why (in Chinese, for the township).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangedLead {
    pub lead_id: String,
    pub name: String,
    pub why: String,
}

/// What a 更正版 changes against the version the township last received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Correction {
    /// 2 for the first correction of a cycle.
    pub version: u32,
    /// The version it corrects (the last one sent).
    pub replaces: u32,
    pub added: Vec<ChangedLead>,
    pub removed: Vec<ChangedLead>,
}

impl Correction {
    /// One line for a message: `更正版（第2版）：新增3条、撤回1条`.
    pub fn headline(&self) -> String {
        format!(
            "更正版（第{}版，更正第{}版）：新增{}条、撤回{}条",
            self.version,
            self.replaces,
            self.added.len(),
            self.removed.len()
        )
    }
}

/// A version of one (cycle, township, channel) list already in the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct Queued {
    pub version: u32,
    pub idempotency_key: String,
    /// Sent or being sent: delivered, given up, or attempted at least once. A version not
    /// sent can still be replaced in place.
    pub sent: bool,
    pub rows: Vec<LeadRow>,
}

/// What to queue for one list, given the versions already queued in its cycle.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// Queue (or replace in place, while unsent) this version under this key.
    Queue {
        version: u32,
        key: String,
        correction: Option<Correction>,
    },
    /// The list equals the version last sent: queue nothing, and withdraw the unsent newer
    /// versions with these keys.
    Unchanged { withdraw: Vec<String> },
}

/// The idempotency key of `version` of a list whose first version has key `base`.
pub fn versioned_key(base: &str, version: u32) -> String {
    if version <= 1 {
        base.to_string()
    } else {
        format!("{base}-v{version}")
    }
}

/// Plans one list. `queued` holds every version of the same (cycle, township, channel);
/// `why_removed` says, in Chinese, why a lead the township received is no longer on the list.
/// A list changes when its set of leads changes; a changed status or priority of a lead that
/// stays is not a correction.
pub fn plan(
    base_key: &str,
    queued: &[Queued],
    rows: &[LeadRow],
    why_removed: &dyn Fn(&LeadRow) -> String,
) -> Plan {
    let last_sent = queued.iter().filter(|q| q.sent).max_by_key(|q| q.version);
    let newest = queued.iter().map(|q| q.version).max();
    let Some(sent) = last_sent else {
        // Nothing sent yet: the first version, replaced in place until it goes.
        let version = newest.unwrap_or(1);
        return Plan::Queue {
            version,
            key: versioned_key(base_key, version),
            correction: None,
        };
    };
    let unsent_newer: Vec<&Queued> = queued
        .iter()
        .filter(|q| !q.sent && q.version > sent.version)
        .collect();
    let before: BTreeSet<&str> = sent.rows.iter().map(|r| r.lead_id.as_str()).collect();
    let now: BTreeSet<&str> = rows.iter().map(|r| r.lead_id.as_str()).collect();
    if before == now {
        return Plan::Unchanged {
            withdraw: unsent_newer
                .iter()
                .map(|q| q.idempotency_key.clone())
                .collect(),
        };
    }
    let added = rows
        .iter()
        .filter(|r| !before.contains(r.lead_id.as_str()))
        .map(|r| ChangedLead {
            lead_id: r.lead_id.clone(),
            name: r.name.clone(),
            why: r.reasons.first().cloned().unwrap_or_else(|| r.kind.clone()),
        })
        .collect();
    let removed = sent
        .rows
        .iter()
        .filter(|r| !now.contains(r.lead_id.as_str()))
        .map(|r| ChangedLead {
            lead_id: r.lead_id.clone(),
            name: r.name.clone(),
            why: why_removed(r),
        })
        .collect();
    // An unsent correction is replaced in place; otherwise the next number.
    let version = unsent_newer
        .iter()
        .map(|q| q.version)
        .max()
        .unwrap_or(sent.version + 1);
    Plan::Queue {
        version,
        key: versioned_key(base_key, version),
        correction: Some(Correction {
            version,
            replaces: sent.version,
            added,
            removed,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str) -> LeadRow {
        LeadRow {
            lead_id: id.into(),
            name: format!("{id}公司"),
            reasons: vec![format!("{id}的原因")],
            ..LeadRow::default()
        }
    }

    fn queued(version: u32, sent: bool, ids: &[&str]) -> Queued {
        Queued {
            version,
            idempotency_key: versioned_key("k", version),
            sent,
            rows: ids.iter().map(|i| row(i)).collect(),
        }
    }

    fn why(_: &LeadRow) -> String {
        "已申报".into()
    }

    #[test]
    fn a_first_list_is_version_one_under_the_base_key_and_replaced_until_sent() {
        let rows = [row("A")];
        assert_eq!(
            plan("k", &[], &rows, &why),
            Plan::Queue {
                version: 1,
                key: "k".into(),
                correction: None
            }
        );
        assert_eq!(
            plan("k", &[queued(1, false, &["B"])], &rows, &why),
            Plan::Queue {
                version: 1,
                key: "k".into(),
                correction: None
            }
        );
    }

    #[test]
    fn a_changed_list_after_sending_is_a_correction_with_added_and_removed() {
        let rows = [row("A"), row("C")];
        let Plan::Queue {
            version,
            key,
            correction: Some(c),
        } = plan("k", &[queued(1, true, &["A", "B"])], &rows, &why)
        else {
            panic!("expected a correction");
        };
        assert_eq!((version, key.as_str()), (2, "k-v2"));
        assert_eq!(c.replaces, 1);
        assert_eq!(c.added.len(), 1);
        assert_eq!(c.added[0].lead_id, "C");
        assert_eq!(c.added[0].why, "C的原因");
        assert_eq!(c.removed.len(), 1);
        assert_eq!(c.removed[0].lead_id, "B");
        assert_eq!(c.removed[0].why, "已申报");
        assert_eq!(c.headline(), "更正版（第2版，更正第1版）：新增1条、撤回1条");
    }

    #[test]
    fn an_unsent_correction_is_replaced_in_place_against_the_last_sent_version() {
        let q = [queued(1, true, &["A"]), queued(2, false, &["A", "B"])];
        let Plan::Queue {
            version,
            correction: Some(c),
            ..
        } = plan("k", &q, &[row("A"), row("D")], &why)
        else {
            panic!("expected a correction");
        };
        assert_eq!(version, 2);
        assert_eq!(c.replaces, 1);
        assert_eq!(c.added[0].lead_id, "D");
        assert!(c.removed.is_empty());
        // Back to what was sent: nothing to send, and the unsent v2 is withdrawn.
        assert_eq!(
            plan("k", &q, &[row("A")], &why),
            Plan::Unchanged {
                withdraw: vec!["k-v2".into()]
            }
        );
    }

    #[test]
    fn an_unchanged_list_or_a_new_status_alone_queues_nothing() {
        let mut same = row("A");
        same.status = "持续".into();
        assert_eq!(
            plan("k", &[queued(1, true, &["A"])], &[same], &why),
            Plan::Unchanged { withdraw: vec![] }
        );
        // After v2 was sent, the next change is v3 against v2.
        let q = [queued(1, true, &["A"]), queued(2, true, &["A", "B"])];
        let Plan::Queue {
            version,
            correction: Some(c),
            ..
        } = plan("k", &q, &[row("B")], &why)
        else {
            panic!("expected a correction");
        };
        assert_eq!((version, c.replaces), (3, 2));
        assert_eq!(c.removed[0].lead_id, "A");
    }
}
