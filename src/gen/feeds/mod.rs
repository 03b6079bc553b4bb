//! The six feed writers, one file each, plus what they share: the run context, the plan of
//! deliberately bad rows, key bookkeeping and date/number spellings. Writers only write.

pub mod declaration;
pub mod exam;
pub mod market;
pub mod statistics;
pub mod tax;
pub mod testing;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::employer::Employer;
use super::gazetteer::Gazetteer;
use super::GenError;

/// What every writer reads.
pub struct Ctx<'a> {
    pub seed: u64,
    pub as_of: NaiveDate,
    pub gaz: &'a Gazetteer,
    pub employers: &'a [Employer],
    /// `<out>`; each feed writes under `<out>/<feed>/`.
    pub out: &'a Path,
    /// Whether the real feeds' phenomena are generated (the market register then carries
    /// 注销日期, as real exports do).
    pub phenomena: bool,
}

impl Ctx<'_> {
    pub fn dir(&self, feed: &str) -> Result<PathBuf, GenError> {
        let dir = self.out.join(feed);
        std::fs::create_dir_all(&dir).map_err(|e| GenError::io(&dir, e))?;
        Ok(dir)
    }
}

/// What a writer produced.
pub struct FeedOutput {
    pub feed: &'static str,
    pub files: Vec<PathBuf>,
    /// Data rows over all files, bad rows included.
    pub rows: usize,
}

/// Deliberately bad rows: a handful per feed, proportional to its size.
pub struct Damage {
    /// Rows (by position) whose date cell gets an impossible date.
    date: HashSet<usize>,
    /// Rows whose headcount cell gets text (`约二十`).
    headcount: HashSet<usize>,
    /// Positions after which a row with no name and no code is inserted.
    empty: HashSet<usize>,
    /// Positions after which a row with the wrong number of fields is inserted (CSV only).
    ragged: HashSet<usize>,
    /// Damage that fell on a row that must stay clean, carried to the next eligible row.
    pending_date: usize,
    pending_headcount: usize,
}

impl Damage {
    /// Plans damage over `rows` good rows.
    pub fn plan(rng: &mut ChaCha8Rng, rows: usize) -> Damage {
        let n = if rows == 0 { 0 } else { (rows / 2500).max(1) };
        let pick = |rng: &mut ChaCha8Rng| -> HashSet<usize> {
            (0..n).map(|_| rng.gen_range(0..rows.max(1))).collect()
        };
        Damage {
            date: pick(rng),
            headcount: pick(rng),
            empty: pick(rng),
            ragged: pick(rng),
            pending_date: 0,
            pending_headcount: 0,
        }
    }

    /// Whether row `i` gets an impossible date. `eligible`: the row may carry it (else it moves
    /// to the next eligible row).
    pub fn date(&mut self, i: usize, eligible: bool) -> bool {
        self.pending_date += usize::from(self.date.contains(&i));
        if eligible && self.pending_date > 0 {
            self.pending_date -= 1;
            return true;
        }
        false
    }

    pub fn headcount(&mut self, i: usize, eligible: bool) -> bool {
        self.pending_headcount += usize::from(self.headcount.contains(&i));
        if eligible && self.pending_headcount > 0 {
            self.pending_headcount -= 1;
            return true;
        }
        false
    }

    pub fn empty_after(&self, i: usize) -> bool {
        self.empty.contains(&i)
    }

    pub fn ragged_after(&self, i: usize) -> bool {
        self.ragged.contains(&i)
    }
}

pub const BAD_DATE: &str = "2024-13-45";
pub const BAD_HEADCOUNT: &str = "约二十";

/// Claims keys so that no two records of a feed share one.
#[derive(Default)]
pub struct Keys(HashSet<String>);

impl Keys {
    /// True if the key was free (and is now taken).
    pub fn claim(&mut self, key: &str) -> bool {
        self.0.insert(key.to_string())
    }
}

/// `2024/1/5`.
pub fn slash_date(d: NaiveDate) -> String {
    format!("{}/{}/{}", d.year(), d.month(), d.day())
}

/// `2024年1月5日`.
pub fn chinese_date(d: NaiveDate) -> String {
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

/// `20240105`.
pub fn compact_date(d: NaiveDate) -> String {
    d.format("%Y%m%d").to_string()
}

/// ASCII digits to full-width (`１２`).
pub fn full_width(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_digit() {
                char::from_u32(c as u32 + 0xFEE0).unwrap_or(c)
            } else {
                c
            }
        })
        .collect()
}

/// Up to `max` of the industry's hazard factors, in table order, joined with `sep`.
pub fn factors(rng: &mut impl Rng, all: &[&str], max: usize, sep: &str) -> String {
    let chosen: Vec<&str> = all
        .iter()
        .enumerate()
        .filter(|(i, _)| *i == 0 || rng.gen_bool(0.6))
        .map(|(_, f)| *f)
        .take(max)
        .collect();
    chosen.join(sep)
}

/// How an employer's USCC appears in a typed feed: correct, blank, or mistyped. An employer
/// without a USCC (some out-of-county ones) always shows a blank.
pub fn code_cell(rng: &mut impl Rng, e: &Employer, p_blank: f64, p_typo: f64) -> String {
    let u: f64 = rng.gen_range(0.0..1.0);
    if u < p_blank || e.uscc.is_empty() {
        String::new()
    } else if u < p_blank + p_typo {
        super::codes::mistype(rng, &e.uscc)
    } else {
        e.uscc.clone()
    }
}
