//! Township lists written as Excel and CSV files, delivered exactly once per township and
//! channel through the outbox, and the townships' returned lists read back (`feedback`).

pub use yingbao_core::domain;
pub use yingbao_stages::{leads, screen};
pub use yingbao_store::store;

pub mod deliver;
pub mod feedback;
