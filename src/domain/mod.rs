//! Domain values shared by every stage: the canonical `Observation`, identifiers and codes.
//! Types here parse input into valid values ("parse, don't validate") and do no I/O.

pub mod industry;
pub mod observation;
pub mod uscc;

pub use industry::IndustryCode;
pub use observation::{Feed, Observation};
pub use uscc::Uscc;
