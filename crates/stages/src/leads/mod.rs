//! Leads: what each township is asked to check, built from screening, carried across runs
//! (new, open, resolved, closed, reopened) with evidence and a priority.

pub mod build;
pub mod evidence;
pub mod hold;
pub mod lifecycle;
pub mod priority;
pub mod row;
pub mod stored;

pub use build::{find_leads, Lead};
pub use evidence::Evidence;
pub use lifecycle::{LeadState, LeadStatus};
pub use priority::Priority;
pub use row::LeadRow;
pub use stored::LeadData;
