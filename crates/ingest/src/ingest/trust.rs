//! Whether a feed's new snapshot can be trusted, judged from what was read against the last good
//! snapshot: a feed that shrank, went back in time or came out mostly unreadable is held.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::quarantine::{Reject, RejectAction};
use super::{FileStats, SourceBatch};

/// The `[snapshot]` table of yingbao.toml: the defaults every feed is judged by.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustPolicy {
    /// A snapshot with fewer records than this share of the last good one is held (not used).
    #[serde(default = "default_ratio")]
    pub min_ratio: f64,
    /// A mapped column unreadable on more than this share of a file's rows holds the feed: its
    /// values are wrong everywhere (a doubled or shifted column, a changed date format).
    #[serde(default = "half")]
    pub max_dropped_share: f64,
    /// More than this share of the rows rejected holds the feed (a damaged file).
    #[serde(default = "half")]
    pub max_rejected_share: f64,
}

impl Default for TrustPolicy {
    fn default() -> Self {
        TrustPolicy {
            min_ratio: default_ratio(),
            max_dropped_share: half(),
            max_rejected_share: half(),
        }
    }
}

fn default_ratio() -> f64 {
    0.8
}

fn half() -> f64 {
    0.5
}

/// A connector's own `[trust]` table: what differs for this feed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustSpec {
    /// This feed's own `min_ratio` (an exam feed that must not lose a tenth, say 0.95).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_ratio: Option<f64>,
    /// About how many records a whole export of this feed holds. With no earlier snapshot to
    /// compare with, a first read with fewer than `min_ratio` of these is held until the
    /// operator accepts it (`yingbao accept <source>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_records: Option<usize>,
    /// Each export holds the feed's whole history (the declaration register's does), so a
    /// keyed record missing from a newer export was lost in the export, not withdrawn: it is
    /// carried over from the last good snapshot. Default: true for the declaration feed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cumulative: Option<bool>,
}

impl TrustSpec {
    /// Whether records missing from a new export of `feed`, keyed by `keyed` columns, are
    /// carried over (see [`TrustSpec::cumulative`]). Records keyed by their row number are never
    /// carried: their keys move whenever a row is added above them.
    pub fn carries(&self, feed: crate::domain::Feed, keyed: bool) -> bool {
        keyed
            && self
                .cumulative
                .unwrap_or(feed == crate::domain::Feed::Declaration)
    }
}

/// The records of the last good snapshot (`before`) missing from `now` that are carried over:
/// all of them for a cumulative feed (`all`), else those a row rejected in this read still
/// holds the key of — the row is there, only damaged, and its record is not gone.
pub fn vanished(
    before: Vec<crate::domain::Observation>,
    now: &[crate::domain::Observation],
    all: bool,
    damaged: &super::Damaged,
) -> Vec<crate::domain::Observation> {
    if !all && damaged.is_empty() {
        return Vec::new();
    }
    let present: std::collections::HashSet<&str> =
        now.iter().map(|o| o.record_key.as_str()).collect();
    before
        .into_iter()
        .filter(|o| !present.contains(o.record_key.as_str()))
        .filter(|o| all || damaged.holds_key(&o.record_key))
        .collect()
}

/// What a feed's last good snapshot holds, as far as judging the next one goes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Prior {
    pub records: usize,
    /// The newest export date among its files.
    pub newest_export: Option<NaiveDate>,
}

/// The newest export date among `files` (the date in a file's name, else its modification day).
pub fn newest_export(files: &[FileStats]) -> Option<NaiveDate> {
    files.iter().filter_map(|f| f.exported_on).max()
}

/// The verdict on one snapshot: `None` when it can be used, else why it is held.
///
/// `batch` is what was read (after an incremental delta was applied); `prior` the last good
/// snapshot, if any. Checked in order: size, export date, unreadable files.
pub fn judge(
    batch: &SourceBatch,
    prior: Option<&Prior>,
    policy: &TrustPolicy,
    spec: &TrustSpec,
) -> Option<String> {
    let n = batch.observations.len();
    let min_ratio = spec.min_ratio.unwrap_or(policy.min_ratio);
    let read = read_from(&batch.files);
    match prior {
        Some(p) if n == 0 => {
            return Some(format!(
                "{read}: no records (the last good snapshot has {})",
                p.records
            ))
        }
        Some(p) => {
            let min = (p.records as f64 * min_ratio).ceil() as usize;
            if n < min {
                return Some(format!(
                    "{read}: {n} records against {} in the last good snapshot (minimum {min}, min_ratio {min_ratio})",
                    p.records
                ));
            }
        }
        None if n == 0 => return Some(format!("{read}: no records")),
        None => {
            if let Some(expected) = spec.expected_records {
                let min = (expected as f64 * min_ratio).ceil() as usize;
                if n < min {
                    return Some(format!(
                        "{read}: a first read with {n} records where about {expected} are \
                         expected (minimum {min}); if the feed is really this small, accept it \
                         with `yingbao accept <source>` or lower [trust] expected_records"
                    ));
                }
            }
        }
    }
    if let (Some(before), Some(now)) = (
        prior.and_then(|p| p.newest_export),
        newest_export(&batch.files),
    ) {
        if now < before {
            return Some(format!(
                "the newest export is dated {now}, older than the {before} export the last good \
                 snapshot was read from: an older export is not read over a newer one"
            ));
        }
    }
    unreadable(batch, policy)
}

/// A file's name as rejects and notes give it (no folder).
fn name(f: &FileStats) -> String {
    f.path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| f.path.display().to_string())
}

/// The files a read came from, for a note: their names, or how many and the newest.
fn read_from(files: &[FileStats]) -> String {
    match files {
        [] => "the feed".to_string(),
        [one] => name(one),
        [a, b] => format!("{}, {}", name(a), name(b)),
        many => {
            let newest = many
                .iter()
                .max_by_key(|f| (f.exported_on, f.path.clone()))
                .map(name)
                .unwrap_or_default();
            format!("{} files (newest {newest})", many.len())
        }
    }
}

/// A file cut short, whose rows were mostly rejected, or whose one mapped column could not be
/// read on most rows: held, naming the file (and the row or column).
fn unreadable(batch: &SourceBatch, policy: &TrustPolicy) -> Option<String> {
    for file in &batch.files {
        let name = name(file);
        if let Some(row) = file.cut_short {
            return Some(format!(
                "{name} ends inside row {row}: the file was cut short"
            ));
        }
        if file.rows == 0 {
            continue;
        }
        let mine = |r: &&Reject| r.file == name;
        let rejected = batch
            .rejects
            .iter()
            .filter(mine)
            .filter(|r| r.action == RejectAction::RowRejected)
            .count();
        if rejected as f64 > file.rows as f64 * policy.max_rejected_share {
            return Some(format!(
                "{name}: {rejected} of {} rows rejected (more than {:.0} %): the file looks damaged",
                file.rows,
                policy.max_rejected_share * 100.0
            ));
        }
        let mut dropped: BTreeMap<&str, usize> = BTreeMap::new();
        for r in batch.rejects.iter().filter(mine) {
            if let (RejectAction::FieldDropped, Some(c)) = (r.action, r.column.as_deref()) {
                *dropped.entry(c).or_default() += 1;
            }
        }
        // Judged against the rows that have a value in the column (a column blank on most
        // rows says nothing about the rows that fill it).
        let filled = |column: &str| file.filled.get(column).copied().unwrap_or(file.rows);
        if let Some((column, count)) = dropped
            .into_iter()
            .filter(|(c, k)| *k >= 3 && *k as f64 > filled(c) as f64 * policy.max_dropped_share)
            .max_by_key(|(_, k)| *k)
        {
            return Some(format!(
                "{name}: column `{column}` could not be read on {count} of the {} rows that fill \
                 it (more than {:.0} %): the column is not what the connector maps",
                filled(column),
                policy.max_dropped_share * 100.0
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::domain::Observation;
    use crate::ingest::quarantine::RejectContext;

    fn batch(records: usize, rows: usize, exported_on: Option<NaiveDate>) -> SourceBatch {
        SourceBatch {
            observations: (0..records)
                .map(|i| Observation {
                    record_key: format!("k{i}"),
                    ..Default::default()
                })
                .collect(),
            files: vec![FileStats {
                path: PathBuf::from("/feeds/decl.csv"),
                encoding: None,
                malformed_bytes: 0,
                rows,
                bytes: 0,
                exported_on,
                cut_short: None,
                filled: Default::default(),
            }],
            ..Default::default()
        }
    }

    fn day(d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(2025, 6, d)
    }

    fn prior(records: usize, newest_export: Option<NaiveDate>) -> Prior {
        Prior {
            records,
            newest_export,
        }
    }

    #[test]
    fn a_feed_that_shrank_past_its_own_ratio_is_held() {
        let policy = TrustPolicy::default();
        let lenient = TrustSpec::default();
        let strict = TrustSpec {
            min_ratio: Some(0.95),
            ..Default::default()
        };
        let b = batch(90, 90, None);
        assert_eq!(judge(&b, Some(&prior(100, None)), &policy, &lenient), None);
        let why = judge(&b, Some(&prior(100, None)), &policy, &strict).expect("held");
        assert!(
            why.contains("90 records against 100") && why.contains("minimum 95"),
            "{why}"
        );
        let empty = batch(0, 0, None);
        assert!(judge(&empty, Some(&prior(100, None)), &policy, &lenient).is_some());
        assert!(judge(&empty, None, &policy, &lenient).is_some());
    }

    #[test]
    fn a_cumulative_feed_carries_what_a_newer_export_lost() {
        use crate::domain::Feed;
        let obs = |k: &str| Observation {
            record_key: k.into(),
            ..Default::default()
        };
        let before = vec![obs("a"), obs("b"), obs("c")];
        let now = vec![obs("a"), obs("c"), obs("d")];
        let carried = vanished(before.clone(), &now, true, &Default::default());
        assert_eq!(carried.len(), 1);
        assert_eq!(carried[0].record_key, "b");
        // Not cumulative: only what a damaged row still names.
        assert!(vanished(before.clone(), &now, false, &Default::default()).is_empty());
        let mut damaged = crate::ingest::Damaged::default();
        damaged.keep_for_test("x\u{1f}b\u{1f}y");
        let carried = vanished(before, &now, false, &damaged);
        assert_eq!(carried.len(), 1);
        let default = TrustSpec::default();
        assert!(default.carries(Feed::Declaration, true));
        assert!(
            !default.carries(Feed::Declaration, false),
            "row-number keys move"
        );
        assert!(!default.carries(Feed::Exam, true));
        let off = TrustSpec {
            cumulative: Some(false),
            ..Default::default()
        };
        assert!(!off.carries(Feed::Declaration, true));
    }

    #[test]
    fn a_first_read_is_held_below_what_the_operator_expects() {
        let policy = TrustPolicy::default();
        let spec = TrustSpec {
            expected_records: Some(300),
            ..Default::default()
        };
        let cut = batch(120, 120, None);
        let why = judge(&cut, None, &policy, &spec).expect("held");
        assert!(why.contains("yingbao accept"), "{why}");
        assert_eq!(judge(&batch(290, 290, None), None, &policy, &spec), None);
        // Without an expectation a first read cannot be judged by size.
        assert_eq!(judge(&cut, None, &policy, &TrustSpec::default()), None);
    }

    #[test]
    fn an_export_older_than_the_last_one_is_held() {
        let policy = TrustPolicy::default();
        let spec = TrustSpec::default();
        let older = batch(100, 100, day(1));
        let why = judge(&older, Some(&prior(100, day(30))), &policy, &spec).expect("held");
        assert!(
            why.contains("2025-06-01") && why.contains("2025-06-30"),
            "{why}"
        );
        assert_eq!(
            judge(
                &batch(100, 100, day(30)),
                Some(&prior(100, day(30))),
                &policy,
                &spec
            ),
            None
        );
        // An undated export is not judged by date.
        assert_eq!(
            judge(
                &batch(100, 100, None),
                Some(&prior(100, day(30))),
                &policy,
                &spec
            ),
            None
        );
    }

    #[test]
    fn a_column_unreadable_on_most_rows_or_mostly_rejected_rows_hold_the_feed() {
        let policy = TrustPolicy::default();
        let spec = TrustSpec::default();
        let ctx = RejectContext {
            source: "decl".into(),
            file: "decl.csv".into(),
        };
        let mut b = batch(100, 100, None);
        b.rejects = (0..60)
            .map(|i| ctx.field(i + 2, "申报日期", "重复列".into(), "not a date"))
            .collect();
        let why = judge(&b, None, &policy, &spec).expect("held");
        assert!(
            why.contains("decl.csv") && why.contains("`申报日期`") && why.contains("60 of the 100"),
            "{why}"
        );
        // A column filled on a few rows only, all unreadable: judged against those rows.
        b.rejects.truncate(10);
        b.files[0].filled.insert("申报日期".into(), 12);
        let why = judge(&b, None, &policy, &spec).expect("held");
        assert!(why.contains("10 of the 12 rows"), "{why}");
        b.files[0].filled.insert("申报日期".into(), 100);
        b.rejects.truncate(10);
        assert_eq!(judge(&b, None, &policy, &spec), None);
        let mut b = batch(40, 100, None);
        b.rejects = (0..60)
            .map(|i| ctx.row(i + 2, "row has 2 fields"))
            .collect();
        let why = judge(&b, None, &policy, &spec).expect("held");
        assert!(why.contains("60 of 100 rows rejected"), "{why}");
        let mut b = batch(100, 100, None);
        b.files[0].cut_short = Some(101);
        let why = judge(&b, None, &policy, &spec).expect("held");
        assert!(why.contains("decl.csv ends inside row 101"), "{why}");
    }
}
