//! The pure stages, functions of data: entity resolution (`resolve`), township placement
//! (`place`), screening (`screen`) and leads (`leads`). No async runtime, database or network.

pub use yingbao_core::domain;

pub mod leads;
pub mod place;
pub mod resolve;
pub mod screen;
