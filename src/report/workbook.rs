//! Builds the coverage workbook (sheet 覆盖率 with a 合计 row, sheet 图表 with a native chart).
//! Returns the XLSX bytes; writing them to disk is `write.rs`'s job.

use rust_xlsxwriter::{
    Chart, ChartDataLabel, ChartFormat, ChartPoint, ChartSolidFill, ChartType, Color, Format,
    FormatAlign, FormatBorder, Image, Workbook, Worksheet, XlsxError,
};

use super::chart::{chart_order, COLOR_LOW, COLOR_OK};
use super::png::PNG_SCALE;
use super::{ratio, ChartOptions, Report, TownshipRow};
use crate::deliver::sheet_text::SheetText;

/// Name of the data sheet.
pub(crate) const SHEET_DATA: &str = "覆盖率";
/// Name of the chart sheet.
pub(crate) const SHEET_CHART: &str = "图表";

/// Fixed headers of the data sheet; one `处置：{kind}` column per disposition follows.
pub(crate) const HEADERS: [&str; 9] = [
    "乡镇代码",
    "乡镇",
    "在范围企业数",
    "已申报",
    "未申报",
    "申报覆盖率",
    "本期新增线索",
    "本期关闭线索",
    "期末未结线索",
];

const COL_COVERAGE: u16 = 5;
const HEADER_ROW: u32 = 2;
const FIRST_DATA_ROW: u32 = 3;

struct Formats {
    title: Format,
    subtitle: Format,
    header: Format,
    text: Format,
    int: Format,
    pct: Format,
    pct_low: Format,
    total_text: Format,
    total_int: Format,
    total_pct: Format,
    note: Format,
}

impl Formats {
    fn new() -> Self {
        let cell = Format::new().set_border(FormatBorder::Thin);
        let total = cell
            .clone()
            .set_bold()
            .set_background_color(Color::RGB(0xF2F2F2))
            .set_border_top(FormatBorder::Double);
        Formats {
            title: Format::new().set_bold().set_font_size(16),
            subtitle: Format::new()
                .set_font_size(10)
                .set_font_color(Color::RGB(0x555555)),
            header: cell
                .clone()
                .set_bold()
                .set_text_wrap()
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter)
                .set_background_color(Color::RGB(0xDDEBF7)),
            text: cell.clone(),
            int: cell.clone().set_num_format("0"),
            pct: cell.clone().set_num_format("0.0%"),
            pct_low: cell
                .clone()
                .set_num_format("0.0%")
                .set_font_color(Color::RGB(0xC00000)),
            total_text: total.clone(),
            total_int: total.clone().set_num_format("0"),
            total_pct: total.set_num_format("0.0%"),
            note: Format::new()
                .set_font_size(9)
                .set_font_color(Color::RGB(0x777777)),
        }
    }
}

/// The whole workbook as bytes; `png` (the rendered chart) is inserted on sheet 图表.
pub(crate) fn build(
    report: &Report,
    png: Option<&[u8]>,
    opts: &ChartOptions,
) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let f = Formats::new();
    let kinds = report.effective_disposition_kinds();
    {
        let sheet = workbook.add_worksheet();
        sheet.set_name(SHEET_DATA)?;
        data_sheet(sheet, report, &kinds, &f, opts)?;
    }
    {
        let sheet = workbook.add_worksheet();
        sheet.set_name(SHEET_CHART)?;
        chart_sheet(sheet, report, png, &f, opts)?;
    }
    workbook.save_to_buffer()
}

fn data_sheet(
    sheet: &mut Worksheet,
    report: &Report,
    kinds: &[String],
    f: &Formats,
    opts: &ChartOptions,
) -> Result<(), XlsxError> {
    let last_col = (HEADERS.len() + kinds.len() - 1) as u16;
    sheet.merge_text((0, 0), (0, last_col), &report.title(), &f.title)?;
    sheet.merge_text(
        (1, 0),
        (1, last_col),
        &format!(
            "{}　生成时间：{}",
            report.period_text(),
            report.generated_at
        ),
        &f.subtitle,
    )?;
    sheet.set_row_height(0, 24)?;

    let mut widths: Vec<f64> = Vec::new();
    for (col, header) in HEADERS
        .iter()
        .map(|h| h.to_string())
        .chain(kinds.iter().map(|k| format!("处置：{k}")))
        .enumerate()
    {
        sheet.write_text(HEADER_ROW, col as u16, &header, &f.header)?;
        widths.push((display_width(&header) + 2.0).clamp(10.0, 24.0));
    }
    sheet.set_row_height(HEADER_ROW, 30)?;

    let mut row_idx = FIRST_DATA_ROW;
    for row in &report.rows {
        write_row(sheet, row_idx, row, kinds, f, opts, false)?;
        widths[1] = widths[1].max((display_width(row.display_name()) + 2.0).min(40.0));
        if let Some(code) = &row.township_code {
            widths[0] = widths[0].max((display_width(code) + 2.0).min(30.0));
        }
        row_idx += 1;
    }
    write_row(sheet, row_idx, &report.totals(), kinds, f, opts, true)?;

    sheet.write_text(
        row_idx + 2,
        0,
        "注：申报覆盖率 = 已申报 ÷ 在范围企业数；合计行的覆盖率按合计数计算（非各乡镇平均）；\
         在范围企业数为 0 的乡镇覆盖率留空。",
        &f.note,
    )?;

    for (col, w) in widths.iter().enumerate() {
        sheet.set_column_width(col as u16, *w)?;
    }
    sheet.set_freeze_panes(FIRST_DATA_ROW, 2)?;
    sheet.set_landscape().set_print_fit_to_pages(1, 0);
    sheet.set_repeat_rows(0, HEADER_ROW)?;
    Ok(())
}

fn write_row(
    sheet: &mut Worksheet,
    r: u32,
    row: &TownshipRow,
    kinds: &[String],
    f: &Formats,
    opts: &ChartOptions,
    total: bool,
) -> Result<(), XlsxError> {
    let (text, int) = if total {
        (&f.total_text, &f.total_int)
    } else {
        (&f.text, &f.int)
    };
    match (&row.township_code, total) {
        (Some(code), false) => sheet.write_text(r, 0, code.as_str(), text)?,
        _ => sheet.write_blank(r, 0, text)?,
    };
    let name = if total { "合计" } else { row.display_name() };
    sheet.write_text(r, 1, name, text)?;
    let counts = [
        (2, row.in_scope),
        (3, row.filed),
        (4, row.not_filed),
        (6, row.leads_opened),
        (7, row.leads_closed),
        (8, row.leads_open_end),
    ];
    for (col, n) in counts {
        sheet.write_number_with_format(r, col, n as f64, int)?;
    }
    match ratio(row.filed, row.in_scope) {
        Some(c) => {
            let fmt = if total {
                &f.total_pct
            } else if c < opts.warn_below {
                &f.pct_low
            } else {
                &f.pct
            };
            sheet.write_number_with_format(r, COL_COVERAGE, c, fmt)?
        }
        None => sheet.write_blank(r, COL_COVERAGE, if total { &f.total_pct } else { &f.pct })?,
    };
    for (i, kind) in kinds.iter().enumerate() {
        let n = row.dispositions.get(kind).copied().unwrap_or(0);
        sheet.write_number_with_format(r, (HEADERS.len() + i) as u16, n as f64, int)?;
    }
    Ok(())
}

fn chart_sheet(
    sheet: &mut Worksheet,
    report: &Report,
    png: Option<&[u8]>,
    f: &Formats,
    opts: &ChartOptions,
) -> Result<(), XlsxError> {
    sheet.set_landscape().set_print_fit_to_pages(1, 0);
    sheet.write_text(0, 0, &report.title(), &f.title)?;
    sheet.write_text(1, 0, &report.period_text(), &f.subtitle)?;

    // Chart data in chart order (worst first), only townships with in-scope employers.
    let data: Vec<(&str, f64)> = chart_order(&report.rows)
        .into_iter()
        .filter_map(|r| r.coverage().map(|c| (r.display_name(), c)))
        .collect();
    sheet.write_text(3, 0, "乡镇", &f.header)?;
    sheet.write_text(3, 1, "申报覆盖率", &f.header)?;
    let mut name_w: f64 = 10.0;
    for (i, (name, c)) in data.iter().enumerate() {
        let r = 4 + i as u32;
        sheet.write_text(r, 0, name, &f.text)?;
        let fmt = if *c < opts.warn_below {
            &f.pct_low
        } else {
            &f.pct
        };
        sheet.write_number_with_format(r, 1, *c, fmt)?;
        name_w = name_w.max((display_width(name) + 2.0).min(40.0));
    }
    sheet.set_column_width(0, name_w)?;
    sheet.set_column_width(1, 12)?;

    let mut next_row: u32 = 3;
    if data.is_empty() {
        sheet.write_text(4, 0, "本期无在范围企业，未绘制图表。", &f.note)?;
    } else {
        let last = 4 + data.len() as u32 - 1;
        let height = (90 + 26 * data.len() as u32).max(300);
        let points: Vec<ChartPoint> = data
            .iter()
            .map(|(_, c)| {
                let color = if *c < opts.warn_below {
                    COLOR_LOW
                } else {
                    COLOR_OK
                };
                ChartPoint::new().set_format(
                    ChartFormat::new().set_solid_fill(ChartSolidFill::new().set_color(color)),
                )
            })
            .collect();
        let mut chart = Chart::new(ChartType::Bar);
        chart
            .add_series()
            .set_name("申报覆盖率")
            .set_categories((SHEET_CHART, 4, 0, last, 0))
            .set_values((SHEET_CHART, 4, 1, last, 1))
            .set_points(&points)
            .set_gap(60)
            .set_data_label(ChartDataLabel::new().show_value().set_num_format("0.0%"));
        chart.title().set_name("申报覆盖率（按乡镇）");
        chart
            .x_axis()
            .set_min(0)
            .set_max(1)
            .set_major_unit(0.2)
            .set_num_format("0%");
        chart.y_axis().set_reverse();
        chart.legend().set_hidden();
        chart.set_width(720).set_height(height);
        sheet.insert_chart(3, 3, &chart)?;
        next_row = 3 + height / 20 + 2;
    }

    if let Some(png) = png {
        let image = Image::new_from_buffer(png)?
            .set_scale_width(1.0 / f64::from(PNG_SCALE))
            .set_scale_height(1.0 / f64::from(PNG_SCALE))
            .set_alt_text(report.title());
        sheet.write_text(next_row, 3, "图表（PNG）：", &f.subtitle)?;
        sheet.insert_image(next_row + 1, 3, &image)?;
    }
    Ok(())
}

/// Column width in Excel units: wide (CJK, full-width) characters count 2, others 1.1.
fn display_width(s: &str) -> f64 {
    s.chars()
        .map(|c| match unicode_width::UnicodeWidthChar::width(c) {
            Some(2..) => 2.0,
            _ => 1.1,
        })
        .sum()
}
