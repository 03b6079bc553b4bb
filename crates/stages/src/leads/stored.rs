//! What the store keeps of one lead (`leads.data`): written once by the pipeline and read back
//! by the report, the portal, the API and the exports as this type, so a renamed field fails.

use serde::{Deserialize, Serialize};

use super::{Evidence, Lead, LeadRow, LeadStatus};
use crate::screen::LeadKind;

/// One lead as stored with its run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeadData {
    /// The row as the township's list shows it.
    pub row: LeadRow,
    pub kind: LeadKind,
    /// Where the lead stood in the run that wrote it (absent in runs written before it was
    /// kept: `status()` then reads the row's Chinese label).
    #[serde(default)]
    pub status: Option<LeadStatus>,
    /// The priority score (the row shows it as `高（72）`).
    pub priority: u32,
    pub evidence: Vec<Evidence>,
}

/// What the pipeline stores for a finished lead (its row and evidence move, not copied).
impl From<Lead> for LeadData {
    fn from(lead: Lead) -> LeadData {
        LeadData {
            row: lead.row,
            kind: lead.kind,
            status: lead.status,
            priority: lead.priority.score,
            evidence: lead.evidence,
        }
    }
}

impl LeadData {
    /// The lead's status in its run.
    pub fn status(&self) -> Option<LeadStatus> {
        self.status
            .or_else(|| LeadStatus::from_label_zh(&self.row.status))
    }

    /// Whether the lead was on a township's list in its run (new, open or reopened).
    pub fn is_listed(&self) -> bool {
        self.status().is_some_and(LeadStatus::is_listed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(status: Option<LeadStatus>, label: &str) -> LeadData {
        LeadData {
            row: LeadRow {
                lead_id: "LE1".into(),
                status: label.into(),
                ..Default::default()
            },
            kind: LeadKind::Unfiled,
            status,
            priority: 72,
            evidence: Vec::new(),
        }
    }

    #[test]
    fn a_stored_lead_reads_back_as_written() {
        let d = data(Some(LeadStatus::Reopened), "重新列入");
        let text = serde_json::to_string(&d).expect("json");
        let back: LeadData = serde_json::from_str(&text).expect("parse");
        assert_eq!(back, d);
        assert!(back.is_listed());
        let resolved = data(Some(LeadStatus::Resolved), "已解决");
        assert!(!resolved.is_listed());
    }

    /// Runs stored before the typed status was kept: the row's label tells it.
    #[test]
    fn an_older_lead_takes_its_status_from_the_rows_label() {
        let mut v = serde_json::to_value(data(None, "持续")).expect("json");
        v.as_object_mut().expect("object").remove("status");
        let old: LeadData = serde_json::from_value(v).expect("parse");
        assert_eq!(old.status(), Some(LeadStatus::Open));
        assert!(old.is_listed());
        assert_eq!(data(None, "未知").status(), None);
    }

    /// A field renamed on one side fails to parse instead of counting as empty.
    #[test]
    fn a_renamed_field_is_an_error() {
        let mut v = serde_json::to_value(data(None, "新增")).expect("json");
        let o = v.as_object_mut().expect("object");
        let row = o.remove("row").expect("row");
        o.insert("rows".into(), row);
        assert!(serde_json::from_value::<LeadData>(v).is_err());
    }
}
