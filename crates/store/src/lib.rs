//! The database (SQLite file or PostgreSQL): snapshots, runs, entities, leads and their
//! lifecycle, the delivery outbox, portal accounts. Every SQL statement of yingbao is here.

pub use yingbao_core::domain;
pub use yingbao_ingest::ingest;
pub use yingbao_stages::{leads, resolve, screen};

pub mod store;
