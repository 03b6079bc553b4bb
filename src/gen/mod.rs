//! `yingbao gen`: a deterministic synthetic county (南安市) — six government feeds in their own
//! formats and quirks, plus the ground truth to score against. Never reads or writes real data.

// Same options, same bytes: every random draw comes from a ChaCha8 stream seeded by (seed,
// employer, purpose), so no feed depends on the order others are written in; hash maps and sets
// are used only for membership and lookups, never iterated into output.

mod address;
mod codes;
mod employer;
mod feeds;
mod gazetteer;
mod industry;
pub mod month;
mod names;
mod phenomena;
mod population;
mod rng;
mod sink;
mod truth;
mod words;

#[cfg(test)]
mod phenomena_tests;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use chrono::{Duration, NaiveDate};

use feeds::{Ctx, FeedOutput};

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenOptions {
    /// Number of true employers (a few hundred to 500,000).
    pub employers: usize,
    pub seed: u64,
    /// Output folder: `<out>/<feed>/…` and `<out>/truth/…`.
    pub out: PathBuf,
    /// The day the feeds were exported ("today" in the synthetic county).
    pub as_of: NaiveDate,
    /// `config/gazetteer` (350583_townships.csv, 350583_villages.csv, 350583_neighbours.csv).
    pub gazetteer_dir: PathBuf,
    /// Add the phenomena of real feeds (`phenomena.rs`: out-of-county records, dormant shells,
    /// superseded tax records, reused names, same-name 个体工商户, odd addresses) and the truth
    /// column `county_code`. Off reproduces counties generated before they were added.
    pub phenomena: bool,
}

/// What was generated.
#[derive(Debug, Clone)]
pub struct GenSummary {
    pub employers: usize,
    /// Data rows per feed over all its files, deliberately bad rows included.
    pub rows_per_feed: Vec<(String, usize)>,
    pub files: Vec<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum GenError {
    #[error("invalid options: {0}")]
    Options(String),
    #[error("gazetteer: {0}")]
    Gazetteer(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("csv: {0}")]
    Csv(String),
    #[error("xlsx: {0}")]
    Xlsx(String),
    #[error("characters {0:?} cannot be written in {1}")]
    Unmappable(String, &'static str),
    #[error("generator bug: connector {0} has the record key {1:?} twice")]
    DuplicateKey(String, String),
}

impl GenError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> GenError {
        GenError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Largest population: the tax sheet must stay under Excel's 1,048,576 rows.
pub const MAX_EMPLOYERS: usize = 1_000_000;

/// Generates the county into `opts.out`. Files the generator names (`市场主体登记信息_*.csv`,
/// `体检台账_*.csv`, `申报数据_*.csv`) left from an earlier run in the feed folders are removed
/// first, so that connectors reading "all" or "newest" files see only this run.
pub fn generate(opts: &GenOptions) -> Result<GenSummary, GenError> {
    if opts.employers == 0 || opts.employers > MAX_EMPLOYERS {
        return Err(GenError::Options(format!(
            "employers must be 1..={MAX_EMPLOYERS}, got {}",
            opts.employers
        )));
    }
    let earliest = NaiveDate::from_ymd_opt(2018, 1, 1).expect("valid constant date");
    if opts.as_of < earliest {
        return Err(GenError::Options(format!(
            "as_of must be on or after {earliest}"
        )));
    }
    let gaz = gazetteer::Gazetteer::load(&opts.gazetteer_dir)?;
    let plan = population::Plan {
        employers: opts.employers,
        as_of: opts.as_of,
        gaz: &gaz,
        declaration_export: opts.as_of,
    };
    let mut rng = rng::stream(opts.seed, 0, rng::Purpose::Population);
    let mut employers = population::build(&plan, &mut rng);
    if opts.phenomena {
        let mut rng = rng::stream(opts.seed, 0, rng::Purpose::Phenomena);
        phenomena::apply(&plan, &mut rng, &mut employers);
    }

    clear_stale(&opts.out)?;
    let truth_dir = opts.out.join("truth");
    std::fs::create_dir_all(&truth_dir).map_err(|e| GenError::io(&truth_dir, e))?;
    let mut truth = truth::Truth::create(&truth_dir)?;
    let ctx = Ctx {
        seed: opts.seed,
        as_of: opts.as_of,
        gaz: &gaz,
        employers: &employers,
        out: &opts.out,
        phenomena: opts.phenomena,
    };
    let outputs: Vec<FeedOutput> = vec![
        feeds::market::write(&ctx, &mut truth)?,
        feeds::tax::write(&ctx, &mut truth)?,
        feeds::statistics::write(&ctx, &mut truth)?,
        feeds::exam::write(&ctx, &mut truth)?,
        feeds::testing::write(&ctx, &mut truth)?,
        feeds::declaration::write(&ctx, &mut truth, opts.as_of - Duration::days(120))?,
    ];
    let mut files: Vec<PathBuf> = outputs.iter().flat_map(|o| o.files.clone()).collect();
    files.push(truth::write_employers(
        &truth_dir,
        &employers,
        &gaz,
        opts.as_of,
        opts.phenomena,
    )?);
    files.extend(truth.finish()?);
    Ok(GenSummary {
        employers: employers.len(),
        rows_per_feed: outputs
            .iter()
            .map(|o| (o.feed.to_string(), o.rows))
            .collect(),
        files,
    })
}

/// Removes files an earlier run wrote under dated or monthly names.
fn clear_stale(out: &Path) -> Result<(), GenError> {
    for (feed, prefix) in [
        ("market", "市场主体登记信息_"),
        ("exam", "体检台账_"),
        ("declaration", "申报数据_"),
    ] {
        let dir = out.join(feed);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.map_err(|e| GenError::io(&dir, e))?.path();
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if name.starts_with(prefix) && name.ends_with(".csv") {
                std::fs::remove_file(&path).map_err(|e| GenError::io(&path, e))?;
            }
        }
    }
    Ok(())
}
