//! yingbao (应报): finds employers that should file an occupational-hazard declaration and have
//! not, by merging government feeds into one employer master list, and hands them to townships.

pub mod cli;
pub mod config;
pub mod daemon;
pub mod deliver;
pub mod domain;
pub mod eval;
pub mod feedback;
pub mod gen;
pub mod ingest;
pub mod leads;
pub mod pipeline;
pub mod place;
pub mod portal;
pub mod report;
pub mod resolve;
pub mod screen;
pub mod store;
