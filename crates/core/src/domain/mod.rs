//! Shared vocabulary at the bottom of the crate: the canonical `Observation`, identifiers and
//! codes, problems found in operator files, the reader of operator tables, and `cell_text`
//! (feed text made safe for spreadsheet cells).
//! Types here parse input into valid values ("parse, don't validate"); only `table` reads files.

pub mod backoff;
pub mod cell_text;
pub mod ids;
pub mod industry;
pub mod observation;
pub mod problem;
pub mod schedule;
pub mod table;
pub mod uscc;

pub use ids::{EntityId, LeadId, TownshipCode};
pub use industry::IndustryCode;
pub use observation::{Feed, Observation};
pub use uscc::Uscc;
