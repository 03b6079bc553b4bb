//! Configuration: `config/yingbao.toml` and one `connectors/*.toml` per feed.
//! Loading collects every problem (file, line, key, what would be right) before reporting.

pub mod check_delivery;
pub mod connector;
pub mod delivery;
pub mod lifecycle;
pub mod load;
pub mod problem;
pub mod settings;
pub mod spanned;
pub mod table;

pub use load::{load, Config};
pub use problem::Problem;
pub mod link_spec;
