//! The bottom of yingbao: the vocabulary every other crate speaks (observations, USCC and
//! industry codes, problems in operator files, operator tables, schedules), and work split over
//! the cores. Depends on no crate of its own.

pub mod domain;
pub mod parallel;
