//! Configuration: `config/yingbao.toml` and one `connectors/*.toml` per feed.
//! Loading collects every problem (file, line, key, what would be right) before reporting.

pub mod check_delivery;
pub mod lifecycle;
pub mod link_spec;
pub mod load;
pub mod schedules;
pub mod secrets;
pub mod settings;
pub mod spanned;

pub use crate::domain::problem::Problem;
pub use load::{load, Config};
