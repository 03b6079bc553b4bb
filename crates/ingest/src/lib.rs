//! Reading feeds: files (CSV, XLSX), paged HTTP APIs and SQL front-end databases, through a
//! connector spec, into canonical observations plus a quarantine of what could not be read.

pub use yingbao_core::domain;

pub mod ingest;
