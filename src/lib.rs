//! yingbao (应报): finds employers that should file an occupational-hazard declaration and have
//! not, by merging government feeds into one employer master list, and hands them to townships.
//!
//! This package is the application: config assembly, the pipeline, the daemon, the portal, the
//! report and the CLI. The stages below it live in their own crates and are re-exported here
//! under their module names.

pub use yingbao_core::domain;
pub use yingbao_deliver::{deliver, feedback};
pub use yingbao_ingest::ingest;
pub use yingbao_stages::{leads, place, resolve, screen};
pub use yingbao_store::store;

pub mod cli;
pub mod config;
pub mod daemon;
pub mod eval;
pub mod gen;
pub mod pipeline;
pub mod portal;
pub mod report;
