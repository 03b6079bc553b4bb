//! Hand-built SVG bar chart of declaration coverage by township (worst on top).
//! Pure text generation: no plotting crate, CJK font list so it also renders on Windows.

use std::cmp::Ordering;
use std::fmt::Write as _;

use super::{ChartOptions, Report, TownshipRow};

/// Font list for Chinese text; the first one present on the machine is used.
pub(crate) const FONT_FAMILY: &str = "'Noto Sans CJK SC', 'WenQuanYi Micro Hei', \
     'Source Han Sans SC', 'Microsoft YaHei', 'PingFang SC', sans-serif";

pub(crate) const COLOR_LOW: &str = "#d9534f";
pub(crate) const COLOR_OK: &str = "#2e86c1";
const COLOR_TARGET: &str = "#e67e22";

const WIDTH: f64 = 1000.0;
const LABEL_SIZE: f64 = 14.0;
const VALUE_SIZE: f64 = 13.0;
const ROW_H: f64 = 32.0;
const BAR_H: f64 = 20.0;
const PLOT_TOP: f64 = 124.0;
const RIGHT_LABEL_W: f64 = 150.0;
const MAX_NAME_CHARS: usize = 12;

/// The chart with default options (no target line, warning colour below 60%).
pub fn chart_svg(report: &Report) -> String {
    chart_svg_with(report, &ChartOptions::default())
}

/// The chart as SVG text.
///
/// Rows are sorted by coverage ascending (worst on top); townships without in-scope
/// employers follow, and the unplaced row ("未能定位乡镇") always comes last.
pub fn chart_svg_with(report: &Report, opts: &ChartOptions) -> String {
    let rows = chart_order(&report.rows);
    let names: Vec<String> = rows
        .iter()
        .map(|r| truncate_chars(r.display_name(), MAX_NAME_CHARS))
        .collect();
    let name_w = names
        .iter()
        .map(|n| text_width(n, LABEL_SIZE))
        .fold(4.0 * LABEL_SIZE, f64::max);
    let plot_left = (24.0 + name_w + 12.0).round();
    let plot_right = WIDTH - RIGHT_LABEL_W;
    let plot_w = plot_right - plot_left;
    let slots = rows.len().max(1) as f64;
    let plot_bottom = PLOT_TOP + slots * ROW_H;
    let height = plot_bottom + 84.0;
    let x_of = |rate: f64| plot_left + rate.clamp(0.0, 1.0) * plot_w;

    let mut s = String::with_capacity(8192);
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="{FONT_FAMILY}">"#
    );
    let title = report.title();
    let _ = writeln!(s, "<title>{}</title>", esc(&title));
    let _ = writeln!(
        s,
        r##"<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#ffffff"/>"##
    );

    // Title, shrunk to fit when the county name is long.
    let title_size = (20.0 * (WIDTH - 40.0) / text_width(&title, 20.0)).min(20.0);
    let _ = writeln!(
        s,
        r##"<text x="{}" y="38" font-size="{title_size:.1}" font-weight="bold" text-anchor="middle" fill="#1a1a1a">{}</text>"##,
        WIDTH / 2.0,
        esc(&title)
    );
    let _ = writeln!(
        s,
        r##"<text x="{}" y="66" font-size="13" text-anchor="middle" fill="#555555">{}</text>"##,
        WIDTH / 2.0,
        esc(&subtitle(report))
    );
    legend(&mut s, plot_left, opts);

    // Grid lines and axis labels.
    for i in 0..=10 {
        let x = plot_left + f64::from(i) / 10.0 * plot_w;
        let stroke = if i % 2 == 0 { "#cfcfcf" } else { "#ebebeb" };
        let _ = writeln!(
            s,
            r#"<line class="grid" x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{plot_bottom:.1}" stroke="{stroke}" stroke-width="1"/>"#,
            PLOT_TOP - 4.0
        );
        if i % 2 == 0 {
            let _ = writeln!(
                s,
                r##"<text x="{x:.1}" y="{:.1}" font-size="12" text-anchor="middle" fill="#555555">{}%</text>"##,
                plot_bottom + 18.0,
                i * 10
            );
        }
    }
    let _ = writeln!(
        s,
        r##"<line x1="{plot_left:.1}" y1="{plot_bottom:.1}" x2="{plot_right:.1}" y2="{plot_bottom:.1}" stroke="#888888" stroke-width="1"/>"##
    );
    let _ = writeln!(
        s,
        r##"<text x="{:.1}" y="{:.1}" font-size="13" text-anchor="middle" fill="#444444">申报覆盖率（已申报 / 在范围企业）</text>"##,
        (plot_left + plot_right) / 2.0,
        plot_bottom + 42.0
    );

    if rows.is_empty() {
        let _ = writeln!(
            s,
            r##"<text x="{:.1}" y="{:.1}" font-size="{LABEL_SIZE}" text-anchor="middle" fill="#999999">本期无乡镇数据</text>"##,
            (plot_left + plot_right) / 2.0,
            PLOT_TOP + ROW_H / 2.0 + LABEL_SIZE * 0.35
        );
    }

    // Value labels are drawn after the target line so it never hides them.
    let mut labels = String::new();
    for (i, (row, name)) in rows.iter().zip(&names).enumerate() {
        let top = PLOT_TOP + i as f64 * ROW_H;
        let cy = top + ROW_H / 2.0;
        let unplaced = row.township_code.is_none();
        if unplaced && i > 0 {
            let _ = writeln!(
                s,
                r##"<line x1="16" y1="{top:.1}" x2="{:.1}" y2="{top:.1}" stroke="#bbbbbb" stroke-dasharray="3 3"/>"##,
                WIDTH - 16.0
            );
        }
        let name_fill = if unplaced { "#666666" } else { "#222222" };
        let _ = writeln!(
            s,
            r#"<text class="name" x="{:.1}" y="{:.1}" font-size="{LABEL_SIZE}" text-anchor="end" fill="{name_fill}">{}</text>"#,
            plot_left - 10.0,
            cy + LABEL_SIZE * 0.35,
            esc(name)
        );
        match row.coverage() {
            Some(c) => {
                let end = x_of(c);
                let fill = if c < opts.warn_below {
                    COLOR_LOW
                } else {
                    COLOR_OK
                };
                let _ = writeln!(
                    s,
                    r#"<rect class="bar" x="{plot_left:.1}" y="{:.1}" width="{:.2}" height="{BAR_H}" fill="{fill}"><title>{}：已申报 {} / 在范围 {}</title></rect>"#,
                    cy - BAR_H / 2.0,
                    end - plot_left,
                    esc(row.display_name()),
                    row.filed,
                    row.in_scope
                );
                let _ = writeln!(
                    labels,
                    r##"<text class="value" x="{:.1}" y="{:.1}" font-size="{VALUE_SIZE}" fill="#333333">{}  ({}/{})</text>"##,
                    end + 6.0,
                    cy + VALUE_SIZE * 0.35,
                    pct(c),
                    row.filed,
                    row.in_scope
                );
            }
            None => {
                let _ = writeln!(
                    s,
                    r##"<text class="empty" x="{:.1}" y="{:.1}" font-size="{VALUE_SIZE}" fill="#999999">无在范围企业</text>"##,
                    plot_left + 8.0,
                    cy + VALUE_SIZE * 0.35
                );
            }
        }
    }

    if let Some(t) = opts.target_rate {
        let x = x_of(t);
        let _ = writeln!(
            s,
            r#"<line class="target" x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{plot_bottom:.1}" stroke="{COLOR_TARGET}" stroke-width="1.5" stroke-dasharray="6 4"/>"#,
            PLOT_TOP - 8.0
        );
    }
    s.push_str(&labels);

    let _ = writeln!(
        s,
        r##"<text x="{:.1}" y="{:.1}" font-size="11" text-anchor="end" fill="#888888">生成时间：{}</text>"##,
        WIDTH - 16.0,
        height - 12.0,
        esc(&report.generated_at)
    );
    s.push_str("</svg>\n");
    s
}

/// "统计期间…　全县在范围企业 N 家，已申报 M 家，覆盖率 x%".
fn subtitle(report: &Report) -> String {
    let t = report.totals();
    match t.coverage() {
        Some(c) => format!(
            "{}　全县在范围企业 {} 家，已申报 {} 家，覆盖率 {}",
            report.period_text(),
            t.in_scope,
            t.filed,
            pct(c)
        ),
        None => format!("{}　全县暂无在范围企业", report.period_text()),
    }
}

fn legend(s: &mut String, x0: f64, opts: &ChartOptions) {
    let y = 90.0;
    let thr = pct_short(opts.warn_below);
    let mut x = x0;
    for (color, label) in [
        (COLOR_LOW, format!("覆盖率低于{thr}")),
        (COLOR_OK, format!("覆盖率不低于{thr}")),
    ] {
        let _ = writeln!(
            s,
            r##"<rect x="{x:.1}" y="{y}" width="14" height="14" fill="{color}"/><text x="{:.1}" y="{:.1}" font-size="13" fill="#333333">{}</text>"##,
            x + 20.0,
            y + 12.0,
            esc(&label)
        );
        x += 20.0 + text_width(&label, 13.0) + 28.0;
    }
    if let Some(t) = opts.target_rate {
        let label = format!("目标 {}", pct_short(t));
        let _ = writeln!(
            s,
            r##"<line x1="{x:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{COLOR_TARGET}" stroke-width="1.5" stroke-dasharray="6 4"/><text x="{:.1}" y="{:.1}" font-size="13" fill="#333333">{}</text>"##,
            y + 7.0,
            x + 24.0,
            y + 7.0,
            x + 30.0,
            y + 12.0,
            esc(&label)
        );
    }
}

/// Chart order: placed rows with data by coverage ascending (more unfiled first on
/// ties), then placed rows without in-scope employers, then the unplaced row(s).
pub(crate) fn chart_order(rows: &[TownshipRow]) -> Vec<&TownshipRow> {
    fn rank(r: &TownshipRow) -> u8 {
        match (r.township_code.is_some(), r.coverage().is_some()) {
            (true, true) => 0,
            (true, false) => 1,
            (false, _) => 2,
        }
    }
    let mut v: Vec<&TownshipRow> = rows.iter().collect();
    v.sort_by(|a, b| {
        rank(a)
            .cmp(&rank(b))
            .then_with(|| match (a.coverage(), b.coverage()) {
                (Some(x), Some(y)) => x.total_cmp(&y),
                _ => Ordering::Equal,
            })
            .then_with(|| b.not_filed.cmp(&a.not_filed))
            .then_with(|| a.display_name().cmp(b.display_name()))
    });
    v
}

/// "45.0%".
pub(crate) fn pct(rate: f64) -> String {
    format!("{:.1}%", rate * 100.0)
}

/// "60%" or "62.5%".
fn pct_short(rate: f64) -> String {
    let p = rate * 100.0;
    if (p - p.round()).abs() < 1e-9 {
        format!("{}%", p.round())
    } else {
        format!("{p:.1}%")
    }
}

/// Rough advance width: wide (CJK, full-width) characters 1 em, everything else 0.6 em.
fn text_width(s: &str, size: f64) -> f64 {
    s.chars()
        .map(|c| match unicode_width::UnicodeWidthChar::width(c) {
            Some(2..) => 1.0,
            _ => 0.6,
        })
        .sum::<f64>()
        * size
}

fn truncate_chars(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// Escape for XML text and attribute values; drops characters XML 1.0 forbids.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(' '),
            c if c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::TownshipCode;
    use chrono::NaiveDate;

    fn row(code: Option<&str>, name: &str, in_scope: usize, filed: usize) -> TownshipRow {
        TownshipRow {
            township_code: code.map(TownshipCode::from),
            township_name: name.to_string(),
            in_scope,
            filed,
            not_filed: in_scope.saturating_sub(filed),
            ..TownshipRow::default()
        }
    }

    fn report(rows: Vec<TownshipRow>) -> Report {
        Report {
            county: "某县".into(),
            period_label: "2025年第2季度".into(),
            from: NaiveDate::from_ymd_opt(2025, 4, 1).unwrap(),
            to: NaiveDate::from_ymd_opt(2025, 6, 30).unwrap(),
            generated_at: "2025-07-01 08:00".into(),
            rows,
            disposition_kinds: vec![],
        }
    }

    fn sample() -> Report {
        report(vec![
            row(Some("001"), "城关镇", 20, 10),
            row(Some("002"), "A&B镇<测试>\"'", 10, 10),
            row(Some("003"), "河西乡", 8, 2),
            row(Some("004"), "空白乡", 0, 0),
            row(None, "未能定位乡镇", 5, 0),
        ])
    }

    fn bars(doc: &roxmltree::Document) -> Vec<(f64, String)> {
        doc.descendants()
            .filter(|n| n.has_tag_name("rect") && n.attribute("class") == Some("bar"))
            .map(|n| {
                let w: f64 = n.attribute("width").unwrap().parse().unwrap();
                let title = n
                    .children()
                    .find(|c| c.has_tag_name("title"))
                    .and_then(|t| t.text())
                    .unwrap()
                    .to_string();
                (w, title)
            })
            .collect()
    }

    #[test]
    fn svg_is_well_formed_and_parses_with_usvg() {
        let svg = chart_svg(&sample());
        roxmltree::Document::parse(&svg).unwrap();
        // usvg parses it too (no fonts needed just to parse the structure).
        let opt = resvg::usvg::Options {
            fontdb: std::sync::Arc::new(resvg::usvg::fontdb::Database::new()),
            ..Default::default()
        };
        let tree = resvg::usvg::Tree::from_str(&svg, &opt).unwrap();
        assert!(tree.size().width() > 100.0);
    }

    #[test]
    fn one_bar_per_township_with_data_and_names_escaped() {
        let svg = chart_svg(&sample());
        assert!(svg.contains("A&amp;B镇&lt;测试&gt;&quot;&apos;"));
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let b = bars(&doc);
        // 城关镇, A&B镇, 河西乡 and the unplaced row have data; 空白乡 does not.
        assert_eq!(b.len(), 4);
        let names: Vec<String> = doc
            .descendants()
            .filter(|n| n.attribute("class") == Some("name"))
            .filter_map(|n| n.text().map(str::to_string))
            .collect();
        assert!(names.contains(&"A&B镇<测试>\"'".to_string()));
        // Worst first, empty township after, unplaced last.
        assert_eq!(
            names,
            [
                "河西乡",
                "城关镇",
                "A&B镇<测试>\"'",
                "空白乡",
                "未能定位乡镇"
            ]
        );
        let empties = doc
            .descendants()
            .filter(|n| n.attribute("class") == Some("empty"))
            .count();
        assert_eq!(empties, 1);
        assert!(svg.contains("无在范围企业"));
        assert!(svg.contains("某县2025年第2季度职业病危害项目申报覆盖率（按乡镇）"));
    }

    #[test]
    fn bar_widths_proportional_to_coverage() {
        let svg = chart_svg(&sample());
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let b = bars(&doc);
        let width_of = |prefix: &str| b.iter().find(|(_, t)| t.starts_with(prefix)).unwrap().0;
        let full = width_of("A&B镇");
        assert!(full > 300.0);
        assert!((width_of("城关镇") / full - 0.5).abs() < 1e-3);
        assert!((width_of("河西乡") / full - 0.25).abs() < 1e-3);
        assert_eq!(width_of("未能定位乡镇"), 0.0);
    }

    #[test]
    fn colours_target_line_and_over_full() {
        let r = report(vec![
            row(Some("1"), "低乡", 10, 5),
            row(Some("2"), "高乡", 10, 6),
            row(Some("3"), "错乡", 2, 3),
        ]);
        let opts = ChartOptions {
            target_rate: Some(0.8),
            warn_below: 0.6,
        };
        let svg = chart_svg_with(&r, &opts);
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let fills: Vec<&str> = doc
            .descendants()
            .filter(|n| n.attribute("class") == Some("bar"))
            .map(|n| n.attribute("fill").unwrap())
            .collect();
        assert_eq!(fills, [COLOR_LOW, COLOR_OK, COLOR_OK]);
        assert_eq!(
            doc.descendants()
                .filter(|n| n.attribute("class") == Some("target"))
                .count(),
            1
        );
        assert!(svg.contains("目标 80%"));
        // filed > in_scope: label tells the truth, bar is clamped to the plot.
        assert!(svg.contains("150.0%"));
        assert!(!chart_svg(&r).contains("class=\"target\""));
    }

    #[test]
    fn empty_report_and_control_chars() {
        let svg = chart_svg(&report(vec![]));
        assert!(svg.contains("本期无乡镇数据"));
        roxmltree::Document::parse(&svg).unwrap();
        let svg = chart_svg(&report(vec![row(Some("1"), "坏\u{1}名\n字", 1, 1)]));
        roxmltree::Document::parse(&svg).unwrap();
        assert!(svg.contains("坏名 字"));
    }

    #[test]
    fn long_names_truncated() {
        assert_eq!(truncate_chars("一二三", 12), "一二三");
        assert_eq!(truncate_chars("一二三四五", 4), "一二三…");
    }
}
