//! Integration tests of the coverage report: xlsx read back with calamine, svg, png pixels.
//! The PNG checks run fully with a CJK font installed and are skipped (with a note) without.

use std::collections::BTreeMap;
use std::path::Path;

use calamine::{open_workbook, Data, Reader, Xlsx};
use chrono::NaiveDate;
use yingbao::report::{
    chart_svg_with, render_png, write_report, write_report_with, ChartOptions, FontSource, Report,
    ReportError, TownshipRow, PNG_SCALE,
};

const KINDS: [&str; 4] = ["已申报", "已注销或停业", "不属于申报范围", "拒不申报"];

fn row(code: Option<&str>, name: &str, in_scope: usize, filed: usize, k: usize) -> TownshipRow {
    let mut dispositions = BTreeMap::new();
    dispositions.insert("已申报".to_string(), k);
    if k > 1 {
        dispositions.insert("已注销或停业".to_string(), 1);
    }
    if in_scope > filed + 2 {
        dispositions.insert("拒不申报".to_string(), 1);
    }
    TownshipRow {
        township_code: code.map(yingbao::domain::TownshipCode::from),
        township_name: name.to_string(),
        in_scope,
        filed,
        not_filed: in_scope - filed,
        leads_opened: k + 2,
        leads_closed: k + 1,
        leads_open_end: in_scope - filed,
        dispositions,
    }
}

fn sample() -> Report {
    Report {
        county: "青山县".into(),
        period_label: "2025年第2季度".into(),
        from: NaiveDate::from_ymd_opt(2025, 4, 1).unwrap(),
        to: NaiveDate::from_ymd_opt(2025, 6, 30).unwrap(),
        generated_at: "2025-07-01 08:30".into(),
        rows: vec![
            row(Some("510124100"), "城关镇", 48, 40, 6),
            row(Some("510124101"), "东山镇", 22, 9, 3),
            row(Some("510124102"), "西河乡", 15, 15, 2),
            row(Some("510124103"), "南坪镇", 31, 17, 4),
            row(Some("510124104"), "北岭乡", 7, 2, 1),
            row(Some("510124105"), "桃花街道", 56, 50, 5),
            row(Some("510124106"), "石门镇&工业园区", 12, 7, 2),
            row(Some("510124107"), "龙泉乡", 0, 0, 0),
            row(None, "未能定位乡镇", 9, 1, 0),
        ],
        disposition_kinds: KINDS.iter().map(|s| s.to_string()).collect(),
    }
}

fn opts() -> ChartOptions {
    ChartOptions {
        target_rate: Some(0.8),
        warn_below: 0.6,
    }
}

fn s(v: &str) -> Data {
    Data::String(v.to_string())
}

fn n(v: usize) -> Data {
    Data::Float(v as f64)
}

/// Checks the data sheet cell by cell.
fn check_xlsx(path: &Path, report: &Report) {
    let mut wb: Xlsx<_> = open_workbook(path).unwrap();
    assert_eq!(
        wb.sheet_names(),
        vec!["覆盖率".to_string(), "图表".to_string()]
    );
    let range = wb.worksheet_range("覆盖率").unwrap();
    let cell = |r: u32, c: u32| range.get_value((r, c)).cloned().unwrap_or(Data::Empty);

    assert_eq!(
        cell(0, 0),
        s("青山县2025年第2季度职业病危害项目申报覆盖率（按乡镇）")
    );
    match cell(1, 0) {
        Data::String(t) => {
            assert!(t.contains("统计期间：2025年4月1日至2025年6月30日"), "{t}");
            assert!(t.contains("2025-07-01 08:30"), "{t}");
        }
        other => panic!("subtitle: {other:?}"),
    }

    let headers: Vec<Data> = (0..13).map(|c| cell(2, c)).collect();
    let expected: Vec<Data> = [
        "乡镇代码",
        "乡镇",
        "在范围企业数",
        "已申报",
        "未申报",
        "申报覆盖率",
        "本期新增线索",
        "本期关闭线索",
        "期末未结线索",
        "处置：已申报",
        "处置：已注销或停业",
        "处置：不属于申报范围",
        "处置：拒不申报",
    ]
    .iter()
    .map(|h| s(h))
    .collect();
    assert_eq!(headers, expected);
    assert_eq!(cell(2, 13), Data::Empty);

    for (i, r) in report.rows.iter().enumerate() {
        let x = 3 + i as u32;
        let code = r.township_code.as_deref().map(s).unwrap_or(Data::Empty);
        assert_eq!(cell(x, 0), code, "row {i}");
        assert_eq!(cell(x, 1), s(&r.township_name));
        assert_eq!(cell(x, 2), n(r.in_scope));
        assert_eq!(cell(x, 3), n(r.filed));
        assert_eq!(cell(x, 4), n(r.not_filed));
        match r.coverage() {
            Some(c) => assert_eq!(cell(x, 5), Data::Float(c), "coverage row {i}"),
            None => assert_eq!(cell(x, 5), Data::Empty, "coverage row {i}"),
        }
        assert_eq!(cell(x, 6), n(r.leads_opened));
        assert_eq!(cell(x, 7), n(r.leads_closed));
        assert_eq!(cell(x, 8), n(r.leads_open_end));
        for (k, kind) in KINDS.iter().enumerate() {
            let want = r.dispositions.get(*kind).copied().unwrap_or(0);
            assert_eq!(cell(x, 9 + k as u32), n(want), "row {i} kind {kind}");
        }
    }

    let t = 3 + report.rows.len() as u32;
    assert_eq!(cell(t, 1), s("合计"));
    let sum = |f: fn(&TownshipRow) -> usize| report.rows.iter().map(f).sum::<usize>();
    let (in_scope, filed) = (sum(|r| r.in_scope), sum(|r| r.filed));
    assert_eq!((in_scope, filed), (200, 141));
    assert_eq!(cell(t, 2), n(in_scope));
    assert_eq!(cell(t, 3), n(filed));
    assert_eq!(cell(t, 4), n(sum(|r| r.not_filed)));
    // Coverage of the totals, not the average of the rows' coverage.
    assert_eq!(cell(t, 5), Data::Float(141.0 / 200.0));
    assert_eq!(cell(t, 6), n(sum(|r| r.leads_opened)));
    assert_eq!(cell(t, 7), n(sum(|r| r.leads_closed)));
    assert_eq!(cell(t, 8), n(sum(|r| r.leads_open_end)));
    assert_eq!(cell(t, 9), n(23));
    assert_eq!(cell(t, 10), n(6));
    assert_eq!(cell(t, 11), n(0));

    // The chart sheet's data table: worst first, only townships with in-scope employers.
    let chart = wb.worksheet_range("图表").unwrap();
    let c = |r: u32, col: u32| chart.get_value((r, col)).cloned().unwrap_or(Data::Empty);
    assert_eq!(c(3, 0), s("乡镇"));
    assert_eq!(c(4, 0), s("北岭乡"));
    assert_eq!(c(4, 1), Data::Float(2.0 / 7.0));
    assert_eq!(c(10, 0), s("西河乡"));
    assert_eq!(c(11, 0), s("未能定位乡镇"));
    assert_eq!(c(12, 0), Data::Empty);
}

/// Does the xlsx (a zip) hold an embedded image / a chart part?
fn zip_has(path: &Path, name: &str) -> bool {
    let bytes = std::fs::read(path).unwrap();
    bytes.windows(name.len()).any(|w| w == name.as_bytes())
}

fn check_svg(path: &Path) {
    let svg = std::fs::read_to_string(path).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let bars = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("bar"))
        .count();
    assert_eq!(bars, 8, "7 townships with data + unplaced");
    assert!(svg.contains("石门镇&amp;工业园区"));
    assert!(svg.contains("无在范围企业"));
}

/// (width, height) from the PNG signature + IHDR chunk.
fn png_dims(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(&bytes[12..16], b"IHDR");
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    (be(&bytes[16..20]), be(&bytes[20..24]))
}

/// Dark pixels (all channels < 128) in the rectangle [x0, x1) × [y0, y1).
fn dark_pixels(pixmap: &resvg::tiny_skia::Pixmap, x0: u32, y0: u32, x1: u32, y1: u32) -> usize {
    let mut count = 0;
    for y in y0..y1.min(pixmap.height()) {
        for x in x0..x1.min(pixmap.width()) {
            let dark = pixmap
                .pixel(x, y)
                .is_some_and(|p| p.red() < 128 && p.green() < 128 && p.blue() < 128);
            count += usize::from(dark);
        }
    }
    count
}

#[test]
fn writes_xlsx_svg_and_png_when_a_cjk_font_exists() {
    let dir = tempfile::tempdir().unwrap();
    let report = sample();
    let files = write_report_with(
        dir.path(),
        "覆盖率_2025Q2",
        &report,
        &FontSource::system(),
        &opts(),
    )
    .unwrap();
    assert_eq!(files.xlsx, dir.path().join("覆盖率_2025Q2.xlsx"));
    check_xlsx(&files.xlsx, &report);
    check_svg(&files.svg);
    assert!(zip_has(&files.xlsx, "xl/charts/chart1.xml"));
    // Only the three output files, no temp files left behind.
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(left.len(), if files.png.is_some() { 3 } else { 2 });

    let Some(png_path) = &files.png else {
        println!("skipped: no CJK font (install fonts-wqy-microhei)");
        assert!(
            files
                .warnings
                .iter()
                .any(|w| w.contains("fonts-wqy-microhei")),
            "{:?}",
            files.warnings
        );
        assert!(!zip_has(&files.xlsx, "xl/media/image1.png"));
        return;
    };
    assert!(files.warnings.is_empty(), "{:?}", files.warnings);
    assert!(zip_has(&files.xlsx, "xl/media/image1.png"));

    let bytes = std::fs::read(png_path).unwrap();
    let (w, h) = png_dims(&bytes);
    assert_eq!(w, (1000.0 * PNG_SCALE) as u32);
    assert!(h > 600, "height {h}");
    let pixmap = resvg::tiny_skia::Pixmap::decode_png(&bytes).unwrap();
    assert_eq!((pixmap.width(), pixmap.height()), (w, h));
    let scale = PNG_SCALE as u32;
    // Title text (y 18..46 in SVG units) and township names (left of the plot).
    let title = dark_pixels(&pixmap, 0, 18 * scale, w, 46 * scale);
    let names = dark_pixels(&pixmap, 0, 124 * scale, 140 * scale, h - 84 * scale);
    assert!(title > 2000, "title dark pixels: {title}");
    assert!(names > 2000, "name dark pixels: {names}");

    if let Ok(out) = std::env::var("REPORT_EXAMPLE_PNG") {
        std::fs::copy(png_path, &out).unwrap();
        println!("example PNG saved to {out}");
    }
}

#[test]
fn without_any_font_png_is_skipped_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let report = sample();
    // A stale PNG from an earlier run must not survive.
    std::fs::write(dir.path().join("r.png"), b"old").unwrap();
    let files = write_report(dir.path(), "r", &report, &FontSource::none()).unwrap();
    assert_eq!(files.png, None);
    assert!(!dir.path().join("r.png").exists());
    assert_eq!(files.warnings.len(), 1, "{:?}", files.warnings);
    assert!(files.warnings[0].contains("no CJK font"));
    assert!(files.warnings[0].contains("fonts-wqy-microhei"));
    check_xlsx(&files.xlsx, &report);
    check_svg(&files.svg);
    assert!(!zip_has(&files.xlsx, "xl/media/image1.png"));
}

#[test]
fn render_png_reports_no_cjk_font() {
    let svg = chart_svg_with(&sample(), &opts());
    let err = render_png(&svg, &FontSource::none()).unwrap_err();
    assert!(matches!(err, ReportError::NoCjkFont));
}

#[test]
fn configured_font_file_is_used() {
    let candidates = [
        "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    ];
    let Some(font) = candidates.iter().find(|p| Path::new(p).exists()) else {
        println!("skipped: no CJK font (install fonts-wqy-microhei)");
        return;
    };
    let svg = chart_svg_with(&sample(), &opts());
    let png = render_png(&svg, &FontSource::file_only(font)).unwrap();
    let (w, _) = png_dims(&png);
    assert_eq!(w, 2000);
    let err = render_png(&svg, &FontSource::file_only("/no/such/font.ttf")).unwrap_err();
    assert!(err.to_string().contains("/no/such/font.ttf"));
}

#[test]
fn unlisted_disposition_kinds_are_appended_and_warned() {
    let dir = tempfile::tempdir().unwrap();
    let mut report = sample();
    report.disposition_kinds.truncate(2);
    let files = write_report(dir.path(), "r", &report, &FontSource::none()).unwrap();
    assert!(files.warnings.iter().any(|w| w.contains("拒不申报")));
    let mut wb: Xlsx<_> = open_workbook(&files.xlsx).unwrap();
    let range = wb.worksheet_range("覆盖率").unwrap();
    let headers: Vec<String> = (9..12)
        .map(|c| range.get_value((2, c)).unwrap().to_string())
        .collect();
    // 不属于申报范围 is neither listed nor present in any row: no column.
    assert_eq!(
        headers,
        ["处置：已申报", "处置：已注销或停业", "处置：拒不申报"]
    );
    assert_eq!(range.get_value((2, 12)), None);
}

#[test]
fn bad_stem_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let err = write_report(dir.path(), "../x", &sample(), &FontSource::none()).unwrap_err();
    assert!(matches!(err, ReportError::InvalidStem { .. }));
}
