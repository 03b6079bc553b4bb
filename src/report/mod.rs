//! County coverage report: the data types shared by the SVG chart, PNG and XLSX renderers.
//! Rendering is a pure function of a [`Report`]; [`write_report`] writes the files atomically.

mod chart;
pub mod data;
mod error;
mod fonts;
pub mod period;
mod png;
mod workbook;
mod write;

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::domain::TownshipCode;
use chrono::NaiveDate;

pub use chart::{chart_svg, chart_svg_with};
pub use error::ReportError;
pub use png::{render_png, PNG_SCALE};
pub use write::{write_report, write_report_with};

/// Display name used for the row of employers that could not be placed in a township.
pub const UNPLACED_NAME: &str = "未能定位乡镇";

/// One township's line in the report (or the unplaced line when `township_code` is `None`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TownshipRow {
    /// Township code; `None` means "未能定位乡镇" (employers that could not be placed).
    pub township_code: Option<TownshipCode>,
    pub township_name: String,
    /// Employers in scope (that should declare).
    pub in_scope: usize,
    /// Of those, employers with a current declaration.
    pub filed: usize,
    pub not_filed: usize,
    /// Leads opened this period.
    pub leads_opened: usize,
    /// Leads closed this period (filed or by township disposition).
    pub leads_closed: usize,
    /// Leads still open at the end of the period.
    pub leads_open_end: usize,
    /// Disposition kind (Chinese label, e.g. "已申报") -> count this period.
    pub dispositions: BTreeMap<String, usize>,
}

impl TownshipRow {
    /// `filed / in_scope`, or `None` when nothing is in scope.
    ///
    /// Not clamped: inconsistent input (filed > in_scope) yields a value above 1.
    pub fn coverage(&self) -> Option<f64> {
        ratio(self.filed, self.in_scope)
    }

    /// Name to show: the given name, or a fallback when it is blank.
    pub fn display_name(&self) -> &str {
        let name = self.township_name.trim();
        if !name.is_empty() {
            name
        } else {
            match &self.township_code {
                Some(code) if !code.trim().is_empty() => code.trim(),
                Some(_) => "（未命名乡镇）",
                None => UNPLACED_NAME,
            }
        }
    }
}

/// `num / den` as f64, `None` when `den == 0`.
pub(crate) fn ratio(num: usize, den: usize) -> Option<f64> {
    if den == 0 {
        None
    } else {
        Some(num as f64 / den as f64)
    }
}

/// The county's periodic coverage report.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub county: String,
    /// E.g. "2025年第2季度".
    pub period_label: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub generated_at: String,
    /// Rows in the order the workbook lists them (the chart sorts its own copy).
    pub rows: Vec<TownshipRow>,
    /// Column order of the disposition kinds in the workbook.
    pub disposition_kinds: Vec<String>,
}

impl Report {
    /// Chart / sheet title.
    pub fn title(&self) -> String {
        format!(
            "{}{}职业病危害项目申报覆盖率（按乡镇）",
            self.county, self.period_label
        )
    }

    /// "统计期间：2025年4月1日至2025年6月30日".
    pub fn period_text(&self) -> String {
        format!(
            "统计期间：{}至{}",
            self.from.format("%Y年%-m月%-d日"),
            self.to.format("%Y年%-m月%-d日")
        )
    }

    /// Sums over all rows (the 合计 line).
    pub fn totals(&self) -> TownshipRow {
        let mut total = TownshipRow {
            township_name: "合计".to_string(),
            ..TownshipRow::default()
        };
        for row in &self.rows {
            total.in_scope += row.in_scope;
            total.filed += row.filed;
            total.not_filed += row.not_filed;
            total.leads_opened += row.leads_opened;
            total.leads_closed += row.leads_closed;
            total.leads_open_end += row.leads_open_end;
            for (kind, n) in &row.dispositions {
                *total.dispositions.entry(kind.clone()).or_insert(0) += n;
            }
        }
        total
    }

    /// Disposition columns: `disposition_kinds` in order (deduplicated), then any kind
    /// that occurs in the rows but was not listed, so no count is silently dropped.
    pub fn effective_disposition_kinds(&self) -> Vec<String> {
        let mut kinds: Vec<String> = Vec::new();
        for kind in &self.disposition_kinds {
            if !kinds.contains(kind) {
                kinds.push(kind.clone());
            }
        }
        for row in &self.rows {
            for kind in row.dispositions.keys() {
                if !kinds.contains(kind) {
                    kinds.push(kind.clone());
                }
            }
        }
        kinds
    }

    /// Disposition kinds present in the rows but missing from `disposition_kinds`.
    pub fn unlisted_disposition_kinds(&self) -> Vec<String> {
        self.effective_disposition_kinds()
            .into_iter()
            .filter(|k| !self.disposition_kinds.contains(k))
            .collect()
    }
}

/// Options for the chart; [`Default`] draws no target line and colours rows below 60%.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChartOptions {
    /// Draw a dashed reference line at this rate (0.0–1.0), e.g. `Some(0.8)`.
    pub target_rate: Option<f64>,
    /// Rows with coverage below this rate get the warning colour.
    pub warn_below: f64,
}

impl Default for ChartOptions {
    fn default() -> Self {
        ChartOptions {
            target_rate: None,
            warn_below: 0.6,
        }
    }
}

/// Where the PNG renderer gets its fonts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FontSource {
    /// Load the system's fonts (fontconfig directories on Linux, Windows/Fonts on Windows).
    pub system: bool,
    /// An extra font file (.ttf/.otf/.ttc) to load first and prefer for CJK text.
    pub extra_file: Option<PathBuf>,
}

impl FontSource {
    /// System fonts only.
    pub fn system() -> Self {
        FontSource {
            system: true,
            extra_file: None,
        }
    }

    /// System fonts plus a configured font file, which is preferred.
    pub fn system_and_file(path: impl Into<PathBuf>) -> Self {
        FontSource {
            system: true,
            extra_file: Some(path.into()),
        }
    }

    /// Only the given font file (useful for reproducible output).
    pub fn file_only(path: impl Into<PathBuf>) -> Self {
        FontSource {
            system: false,
            extra_file: Some(path.into()),
        }
    }

    /// No fonts at all (text cannot render; used to exercise the no-font path).
    pub fn none() -> Self {
        FontSource {
            system: false,
            extra_file: None,
        }
    }
}

impl Default for FontSource {
    fn default() -> Self {
        FontSource::system()
    }
}

/// What [`write_report`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportFiles {
    pub xlsx: PathBuf,
    pub svg: PathBuf,
    /// `None` when the PNG could not be rendered (the reason is in `warnings`).
    pub png: Option<PathBuf>,
    /// Problems that did not stop the report (English, meant for logs / the operator).
    pub warnings: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(in_scope: usize, filed: usize) -> TownshipRow {
        TownshipRow {
            township_code: Some("1".into()),
            township_name: "城关镇".into(),
            in_scope,
            filed,
            not_filed: in_scope.saturating_sub(filed),
            ..TownshipRow::default()
        }
    }

    #[test]
    fn coverage_edge_cases() {
        assert_eq!(row(0, 0).coverage(), None);
        assert_eq!(row(0, 3).coverage(), None);
        assert_eq!(row(10, 0).coverage(), Some(0.0));
        assert_eq!(row(10, 10).coverage(), Some(1.0));
        assert_eq!(row(3, 1).coverage(), Some(1.0 / 3.0));
        // Inconsistent input is reported as is, not clamped.
        assert_eq!(row(2, 3).coverage(), Some(1.5));
    }

    #[test]
    fn display_name_fallbacks() {
        let mut r = row(1, 1);
        r.township_name = "  ".into();
        assert_eq!(r.display_name(), "1");
        r.township_code = None;
        assert_eq!(r.display_name(), UNPLACED_NAME);
        r.township_name = " 城关镇 ".into();
        assert_eq!(r.display_name(), "城关镇");
    }

    #[test]
    fn totals_and_kinds() {
        let mut a = row(10, 4);
        a.dispositions.insert("已申报".into(), 2);
        let mut b = row(5, 5);
        b.dispositions.insert("已申报".into(), 1);
        b.dispositions.insert("已注销".into(), 1);
        let report = Report {
            county: "某县".into(),
            period_label: "2025年第2季度".into(),
            from: NaiveDate::from_ymd_opt(2025, 4, 1).unwrap(),
            to: NaiveDate::from_ymd_opt(2025, 6, 30).unwrap(),
            generated_at: "2025-07-01 08:00".into(),
            rows: vec![a, b],
            disposition_kinds: vec!["已申报".into(), "已申报".into()],
        };
        let t = report.totals();
        assert_eq!((t.in_scope, t.filed, t.not_filed), (15, 9, 6));
        assert_eq!(t.coverage(), Some(0.6));
        assert_eq!(t.dispositions["已申报"], 3);
        assert_eq!(
            report.effective_disposition_kinds(),
            vec!["已申报".to_string(), "已注销".to_string()]
        );
        assert_eq!(
            report.unlisted_disposition_kinds(),
            vec!["已注销".to_string()]
        );
        assert_eq!(
            report.period_text(),
            "统计期间：2025年4月1日至2025年6月30日"
        );
    }
}
