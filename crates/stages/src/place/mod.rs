//! Placement: which township (乡镇/街道) must visit an employer.
//! The gazetteer is data in `config/`; `locate` is a pure function of a gazetteer and facts.

pub mod gazetteer;
pub mod import;
pub mod locate;
#[cfg(test)]
mod matching_tests;

pub use gazetteer::{Gazetteer, OtherCounty, Township, Village};
pub use locate::{Locator, Placement, PlacementMethod};
