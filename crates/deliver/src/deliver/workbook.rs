//! The Excel workbook for one lead list, printable and protected: sheet `线索清单` (one row
//! per employer with its leads together, what to do and by when, the columns the township
//! fills in; A4 landscape, one page wide, titles and page numbers on every page; only the
//! fill-in cells editable), sheet `证据明细` (one row per lead, all the evidence) and sheet
//! `说明` (what each column means and how to fill in 核实情况).

use std::path::Path;

use rust_xlsxwriter::{
    Color, DataValidation, DataValidationErrorStyle, Format, FormatAlign, FormatBorder,
    ProtectionOptions, Workbook, Worksheet, XlsxError,
};

use super::columns::{
    by_employer, main_cells, row_cells, Cell, DISPOSITIONS, FIRST_FILL_COLUMN, HEADERS,
    MAIN_COLUMN_COUNT, MAIN_FIRST_FILL_COLUMN, MAIN_HEADERS,
};
use super::list_settings::ListTerms;
use super::sheet_text::SheetText;
use super::testing_list::write_reminder_sheet;
use super::DeliverError;
use crate::leads::row::LeadRow;
use crate::screen::testing_due::Reminder;

/// Name of the printable sheet the township works on (one row per employer).
pub const LIST_SHEET: &str = "线索清单";
/// Name of the sheet holding every lead with its evidence (one row per lead).
pub const EVIDENCE_SHEET: &str = "证据明细";
/// Name of the sheet explaining the columns.
pub const NOTES_SHEET: &str = "说明";

/// Columns of the evidence sheet: the lead list's columns up to the fill-in ones, which are
/// filled in on the main sheet only.
pub const EVIDENCE_COLUMN_COUNT: usize = FIRST_FILL_COLUMN;

/// Row (0-based) of the title, the header and the first row of data, on both list sheets.
const TITLE_ROW: u32 = 0;
const HEADER_ROW: u32 = 1;
const FIRST_DATA_ROW: u32 = 2;

/// The main sheet's column widths in Excel character units (a Chinese character is about
/// two): about 175 units, printed one page wide on A4 landscape at about 85 %.
const MAIN_WIDTHS: [f64; MAIN_COLUMN_COUNT] = [
    4.5,  // 序号
    16.0, // 企业名称
    16.0, // 地址
    9.0,  // 村（社区）
    7.5,  // 法定代表人
    9.0,  // 联系方式
    12.0, // 线索类型
    23.0, // 线索原因
    25.0, // 处置要求
    9.5,  // 反馈时限
    12.0, // 核实情况
    6.5,  // 核实人
    9.5,  // 核实日期
    16.0, // 线索编号
];
/// Main-sheet columns frozen when scrolling sideways (序号, 企业名称).
const MAIN_FROZEN_COLUMNS: u16 = 2;
/// The font size of the main sheet's cells (points): readable on paper at the fitted scale.
const MAIN_FONT_SIZE: f64 = 10.0;

/// The evidence sheet's column widths.
const EVIDENCE_WIDTHS: [f64; EVIDENCE_COLUMN_COUNT] = [
    6.0,  // 序号
    12.0, // 线索编号
    16.0, // 线索类型
    10.0, // 线索状态
    10.0, // 优先级
    30.0, // 企业名称
    22.0, // 统一社会信用代码
    12.0, // 法定代表人
    36.0, // 地址
    12.0, // 所属乡镇
    14.0, // 村（社区）
    10.0, // 行业代码
    22.0, // 行业名称
    10.0, // 风险等级
    10.0, // 从业人数
    12.0, // 申报状态
    14.0, // 最近申报日期
    14.0, // 首次列入日期
    50.0, // 线索原因
    50.0, // 证据
    22.0, // 数据来源
    22.0, // 定位依据
];
/// Evidence-sheet columns frozen when scrolling sideways (序号, 线索编号, 线索类型).
const EVIDENCE_FROZEN_COLUMNS: u16 = 3;
/// Evidence-sheet columns whose text wraps inside the cell instead of spilling over.
const EVIDENCE_WRAPPED: [usize; 9] = [2, 5, 6, 8, 12, 18, 19, 20, 21];

/// The height of one line of wrapped text (points), at each sheet's font size.
const MAIN_LINE_HEIGHT: f64 = 14.0;
const EVIDENCE_LINE_HEIGHT: f64 = 15.0;

const HEADER_FILL: u32 = 0xDDEBF7;
const FILL_IN_FILL: u32 = 0xFFF2CC;

/// The footer of every printed page: `第 1 页，共 3 页`.
pub const PAGE_FOOTER: &str = "&C第 &P 页，共 &N 页";

/// A township's periodic-testing reminders (`testing_list`), carried in its lead workbook as
/// a fourth sheet so that they reach the township by every channel the list does.
#[derive(Debug, Clone, Copy)]
pub struct Reminders<'r> {
    pub title: &'r str,
    pub rows: &'r [&'r Reminder],
}

/// Builds the workbook for one list and writes it to `path`.
pub fn write_lead_workbook(
    path: &Path,
    title: &str,
    rows: &[LeadRow],
    terms: &ListTerms,
    reminders: Option<Reminders<'_>>,
) -> Result<(), DeliverError> {
    super::write_workbook(path, lead_workbook_bytes(title, rows, terms, reminders))
}

/// Builds the workbook for one list, as the bytes of an `.xlsx` file.
pub fn lead_workbook_bytes(
    title: &str,
    rows: &[LeadRow],
    terms: &ListTerms,
    reminders: Option<Reminders<'_>>,
) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    write_main_sheet(workbook.add_worksheet(), title, rows, terms)?;
    write_evidence_sheet(workbook.add_worksheet(), title, rows)?;
    write_notes_sheet(workbook.add_worksheet(), terms)?;
    if let Some(r) = reminders.filter(|r| !r.rows.is_empty()) {
        write_reminder_sheet(workbook.add_worksheet(), r.title, r.rows)?;
    }
    workbook.save_to_buffer()
}

fn bordered() -> Format {
    Format::new()
        .set_border(FormatBorder::Thin)
        .set_align(FormatAlign::VerticalCenter)
}

fn title_format() -> Format {
    Format::new()
        .set_bold()
        .set_font_size(14)
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
}

fn header_format() -> Format {
    Format::new()
        .set_bold()
        .set_border(FormatBorder::Thin)
        .set_background_color(Color::RGB(HEADER_FILL))
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_text_wrap()
}

/// What a clerk may still do on a protected sheet: select, resize and format, filter.
fn protection() -> ProtectionOptions {
    ProtectionOptions {
        format_cells: true,
        format_columns: true,
        format_rows: true,
        use_autofilter: true,
        ..ProtectionOptions::default()
    }
}

/// Printing: A4 landscape, one page wide, title and header on every page, page numbers.
fn print_setup(sheet: &mut Worksheet, last_row: u32, last_col: u16) -> Result<(), XlsxError> {
    sheet.set_landscape();
    sheet.set_paper_size(9);
    sheet.set_margins(0.3, 0.3, 0.5, 0.6, 0.3, 0.3);
    sheet.set_print_center_horizontally(true);
    sheet.set_print_fit_to_pages(1, 0);
    sheet.set_repeat_rows(TITLE_ROW, HEADER_ROW)?;
    sheet.set_print_area(TITLE_ROW, 0, last_row, last_col)?;
    sheet.set_footer(PAGE_FOOTER);
    Ok(())
}

/// The main sheet: one row per employer. Only 核实情况, 核实人 and 核实日期 are unlocked.
fn write_main_sheet(
    sheet: &mut Worksheet,
    title: &str,
    rows: &[LeadRow],
    terms: &ListTerms,
) -> Result<(), XlsxError> {
    sheet.set_name(LIST_SHEET)?;
    let last_col = (MAIN_COLUMN_COUNT - 1) as u16;
    sheet.merge_text(
        (TITLE_ROW, 0),
        (TITLE_ROW, last_col),
        title,
        &title_format(),
    )?;
    sheet.set_row_height(TITLE_ROW, 30)?;

    let header = header_format().set_font_size(MAIN_FONT_SIZE);
    let fill_in_header = header
        .clone()
        .set_background_color(Color::RGB(FILL_IN_FILL));
    for (col, name) in MAIN_HEADERS.iter().enumerate() {
        let fill = (MAIN_FIRST_FILL_COLUMN..MAIN_FIRST_FILL_COLUMN + 3).contains(&col);
        let format = if fill { &fill_in_header } else { &header };
        sheet.write_text(HEADER_ROW, col as u16, name, format)?;
        sheet.set_column_width(col as u16, MAIN_WIDTHS[col])?;
    }
    sheet.set_row_height(HEADER_ROW, 28)?;

    // Every cell wraps (a row grows to its longest text); codes stay text ("@").
    let text = bordered()
        .set_font_size(MAIN_FONT_SIZE)
        .set_text_wrap()
        .set_align(FormatAlign::Top);
    let centered = text.clone().set_align(FormatAlign::Center);
    let code = text.clone().set_num_format("@");
    let fill_in = text
        .clone()
        .set_background_color(Color::RGB(FILL_IN_FILL))
        .set_unlocked();
    let fill_in_date = fill_in.clone().set_num_format("yyyy-mm-dd");

    let employers = by_employer(rows);
    for (i, leads) in employers.iter().enumerate() {
        let row = FIRST_DATA_ROW + i as u32;
        let cells = main_cells(i + 1, leads, terms);
        sheet.set_row_height(row, row_height(&cells, &MAIN_WIDTHS, MAIN_LINE_HEIGHT))?;
        for (col, cell) in cells.into_iter().enumerate() {
            let c = col as u16;
            match cell {
                Cell::Text(s) => sheet.write_text(row, c, &s, &text)?,
                Cell::Code(s) => sheet.write_text(row, c, &s, &code)?,
                Cell::Number(n) => sheet.write_number_with_format(row, c, n, &centered)?,
                Cell::Empty if col == MAIN_FIRST_FILL_COLUMN + 2 => {
                    sheet.write_blank(row, c, &fill_in_date)?
                }
                Cell::Empty
                    if (MAIN_FIRST_FILL_COLUMN..MAIN_FIRST_FILL_COLUMN + 2).contains(&col) =>
                {
                    sheet.write_blank(row, c, &fill_in)?
                }
                Cell::Empty => sheet.write_blank(row, c, &text)?,
            };
        }
    }

    let last_row = (FIRST_DATA_ROW + employers.len() as u32)
        .saturating_sub(1)
        .max(HEADER_ROW);
    sheet.autofilter(HEADER_ROW, 0, last_row, last_col)?;
    sheet.set_freeze_panes(FIRST_DATA_ROW, MAIN_FROZEN_COLUMNS)?;
    if !employers.is_empty() {
        let col = MAIN_FIRST_FILL_COLUMN as u16;
        sheet.add_data_validation(
            FIRST_DATA_ROW,
            col,
            last_row,
            col,
            &disposition_validation()?,
        )?;
    }
    print_setup(sheet, last_row, last_col)?;
    sheet.protect_with_options(&protection());
    sheet.set_active(true);
    Ok(())
}

/// The evidence sheet: one row per lead with all it rests on; read-only.
fn write_evidence_sheet(
    sheet: &mut Worksheet,
    title: &str,
    rows: &[LeadRow],
) -> Result<(), XlsxError> {
    sheet.set_name(EVIDENCE_SHEET)?;
    let last_col = (EVIDENCE_COLUMN_COUNT - 1) as u16;
    sheet.merge_text(
        (TITLE_ROW, 0),
        (TITLE_ROW, last_col),
        &format!("{title}·证据明细"),
        &title_format(),
    )?;
    sheet.set_row_height(TITLE_ROW, 30)?;
    let header = header_format();
    for (col, name) in HEADERS[..EVIDENCE_COLUMN_COUNT].iter().enumerate() {
        sheet.write_text(HEADER_ROW, col as u16, name, &header)?;
        sheet.set_column_width(col as u16, EVIDENCE_WIDTHS[col])?;
    }
    sheet.set_row_height(HEADER_ROW, 24)?;

    // Text format ("@") on codes keeps them text.
    let text = bordered();
    let wrapped = bordered().set_text_wrap();
    let code = bordered().set_num_format("@");
    let code_wrapped = code.clone().set_text_wrap();
    let number = bordered().set_num_format("0");
    for (i, lead) in rows.iter().enumerate() {
        let row = FIRST_DATA_ROW + i as u32;
        let cells = row_cells(i + 1, lead);
        // Only the wrapped columns grow the row; the others spill or are cut on screen.
        let wrapping: Vec<Cell> = cells[..EVIDENCE_COLUMN_COUNT]
            .iter()
            .enumerate()
            .map(|(col, c)| match EVIDENCE_WRAPPED.contains(&col) {
                true => c.clone(),
                false => Cell::Empty,
            })
            .collect();
        let height = row_height(&wrapping, &EVIDENCE_WIDTHS, EVIDENCE_LINE_HEIGHT);
        sheet.set_row_height(row, height)?;
        for (col, cell) in cells.into_iter().take(EVIDENCE_COLUMN_COUNT).enumerate() {
            let wraps = EVIDENCE_WRAPPED.contains(&col);
            let c = col as u16;
            match cell {
                Cell::Text(s) => {
                    sheet.write_text(row, c, &s, if wraps { &wrapped } else { &text })?
                }
                Cell::Code(s) => {
                    sheet.write_text(row, c, &s, if wraps { &code_wrapped } else { &code })?
                }
                Cell::Number(n) => sheet.write_number_with_format(row, c, n, &number)?,
                Cell::Empty => sheet.write_blank(row, c, &text)?,
            };
        }
    }
    let last_row = (FIRST_DATA_ROW + rows.len() as u32)
        .saturating_sub(1)
        .max(HEADER_ROW);
    sheet.autofilter(HEADER_ROW, 0, last_row, last_col)?;
    sheet.set_freeze_panes(FIRST_DATA_ROW, EVIDENCE_FROZEN_COLUMNS)?;
    print_setup(sheet, last_row, last_col)?;
    sheet.protect_with_options(&protection());
    Ok(())
}

/// The height (points) of a row whose cells wrap in columns of `widths`: enough lines for its
/// longest cell. Set, not left to the spreadsheet: LibreOffice and some Excel versions do not
/// grow a row to its wrapped text when they open a file, and the printed list would be cut.
/// A Chinese character is counted as 1.8 width units, anything else as one (a little wide,
/// so a row is rather too high than cut).
fn row_height(cells: &[Cell], widths: &[f64], line: f64) -> f64 {
    let lines = cells
        .iter()
        .zip(widths)
        .map(|(cell, width)| {
            let units: f64 = match cell {
                Cell::Text(s) | Cell::Code(s) => s
                    .chars()
                    .map(|c| if c.is_ascii() { 1.0 } else { 1.8 })
                    .sum(),
                Cell::Number(_) | Cell::Empty => 0.0,
            };
            // About one unit of a column is its padding.
            (units / (width - 1.0).max(1.0)).ceil().max(1.0)
        })
        .fold(1.0, f64::max);
    // Excel's highest row.
    (lines * line + 4.0).min(409.0)
}

/// Dropdown on 核实情况. It only informs (does not reject) other input, because `其他` and
/// `不在本辖区` are written with a reason after them.
fn disposition_validation() -> Result<DataValidation, XlsxError> {
    let values: Vec<&str> = DISPOSITIONS.iter().map(|(v, _)| *v).collect();
    DataValidation::new()
        .allow_list_strings(&values)?
        .set_input_title("核实情况")?
        .set_input_message("请从下拉列表中选择。选“其他”的须写明原因，如“其他：原因”；详见“说明”工作表。")?
        .set_error_title("核实情况")?
        .set_error_message("不是下拉列表中的值。选“其他”或“不在本辖区”时可在后面写明原因，如“其他：原因”。确认保留请点“确定”。")
        .map(|v| v.set_error_style(DataValidationErrorStyle::Information))
}

/// Who fills each column of the main sheet, and what it means.
const MAIN_COLUMN_NOTES: [(&str, &str); MAIN_COLUMN_COUNT] = [
    ("系统", "本清单内用人单位的顺序号，按优先级从高到低排列。"),
    ("系统", "市场主体登记等数据中的单位名称。"),
    ("系统", "登记地址或经营地址。"),
    ("系统", "系统判定的村（社区），可能为空。"),
    ("系统", "法定代表人或负责人。"),
    ("系统", "数据中的联系方式；为空表示数据中没有，请现场了解。"),
    ("系统", "该单位的全部线索类型，多种之间以“；”分隔。"),
    ("系统", "列入本清单的原因，多条原因之间以“；”分隔；各部门数据的详细情况见“证据明细”工作表。"),
    ("系统", "按线索类型应当采取的处置措施。"),
    ("系统", "请在此日期前完成核实并回传本文件。"),
    (
        "乡镇填写",
        "核实结果，从下拉列表中选择，取值见下表。选“其他”的必须写明原因。一行的核实结果适用于该行的全部线索编号。",
    ),
    ("乡镇填写", "核实人姓名。"),
    ("乡镇填写", "核实日期，如 2025-03-15。"),
    (
        "系统",
        "该单位各条线索的唯一编号，多条之间以“；”分隔。回复核实结果时请保留，不要修改。",
    ),
];

/// Who fills each column of a lead (the evidence sheet and the CSV file), and what it means.
const COLUMN_NOTES: [(&str, &str); EVIDENCE_COLUMN_COUNT] = [
    ("系统", "本清单内的顺序号。"),
    (
        "系统",
        "线索的唯一编号。回复核实结果时请保留，不要修改。",
    ),
    (
        "系统",
        "未申报或申报逾期；申报人数或行业与其他部门数据不符；检测或体检发现未申报的危害因素；检测发现超标岗位。",
    ),
    (
        "系统",
        "新增：本期首次列入；持续：上期已列入、尚未处理完毕；重新列入：曾经关闭，出现新情况后再次列入。",
    ),
    (
        "系统",
        "高、中、低，括号内为分值：严重危害行业、从业人数多、有体检或检测记录、超标岗位、逾期时间长的分值高，请优先核实。",
    ),
    ("系统", "市场主体登记等数据中的单位名称。"),
    (
        "系统",
        "18位统一社会信用代码。标有“（校验位错误）”的，表示代码校验位不正确，可能是登记或录入有误，请核实。",
    ),
    ("系统", "法定代表人或负责人。"),
    ("系统", "登记地址或经营地址。"),
    (
        "系统",
        "系统判定的所属乡镇（街道）。“未能定位乡镇”表示系统无法判定，由县级分派。",
    ),
    ("系统", "系统判定的村（社区），可能为空。"),
    ("系统", "国民经济行业分类代码。"),
    ("系统", "行业代码对应的行业名称。"),
    (
        "系统",
        "职业病危害风险分类：严重、一般；为空表示无法判定。",
    ),
    ("系统", "数据中最近一次的从业人数，为空表示不详。"),
    (
        "系统",
        "未申报：未查到申报记录；申报已逾期：有申报记录，但已超过应当更新申报的期限。",
    ),
    ("系统", "最近一次申报的日期，未申报的为空。"),
    ("系统", "本条线索首次（或重新）列入清单的日期。"),
    ("系统", "列入本清单的原因，多条原因之间以“；”分隔。"),
    (
        "系统",
        "各部门数据分别记载的情况及日期，多条之间以“；”分隔。",
    ),
    ("系统", "提到该单位的数据来源。"),
    ("系统", "判定所属乡镇的依据及其可信程度。"),
];

fn write_notes_sheet(sheet: &mut Worksheet, terms: &ListTerms) -> Result<(), XlsxError> {
    sheet.set_name(NOTES_SHEET)?;
    let title = Format::new().set_bold().set_font_size(14);
    let heading = Format::new()
        .set_bold()
        .set_border(FormatBorder::Thin)
        .set_background_color(Color::RGB(HEADER_FILL));
    let cell = bordered().set_text_wrap();
    let bold_cell = cell.clone().set_bold();

    sheet.set_column_width(0, 20)?;
    sheet.set_column_width(1, 12)?;
    sheet.set_column_width(2, 80)?;

    let mut row = 0u32;
    sheet.write_text(row, 0, "填写说明", &title)?;
    row += 1;
    let deadline = terms.deadline_text();
    for line in [
        "1. 本清单列出本乡镇（街道）内可能应当申报职业病危害项目而尚未申报（或申报已逾期）的用人单位，请逐户核实。“线索清单”每行一个单位，同一单位的多条线索合并在一行；各条线索的证据见“证据明细”。".to_string(),
        "2. 请只在“线索清单”工作表填写“核实情况”“核实人”“核实日期”三列（黄色底色），其他单元格已锁定；不要调整列的顺序，不要删除行。".to_string(),
        format!("3. 请于{deadline}完成核实，并按要求回传本文件。"),
    ] {
        sheet.write_plain_text(row, 0, &line)?;
        row += 1;
    }

    for (caption, notes) in [
        (
            "“线索清单”各列",
            MAIN_HEADERS
                .iter()
                .zip(MAIN_COLUMN_NOTES.iter())
                .collect::<Vec<_>>(),
        ),
        (
            "“证据明细”各列（CSV文件的列相同，另有核实情况、核实人、核实日期三列）",
            HEADERS[..EVIDENCE_COLUMN_COUNT]
                .iter()
                .zip(COLUMN_NOTES.iter())
                .collect(),
        ),
    ] {
        row += 1;
        sheet.write_text(row, 0, caption, &title)?;
        row += 1;
        for (col, h) in ["列名", "填写", "说明"].iter().enumerate() {
            sheet.write_text(row, col as u16, h, &heading)?;
        }
        row += 1;
        for (header, (who, note)) in notes {
            sheet.write_text(row, 0, header, &bold_cell)?;
            sheet.write_text(row, 1, who, &cell)?;
            sheet.write_text(row, 2, note, &cell)?;
            row += 1;
        }
    }

    row += 1;
    sheet.write_text(row, 0, "“处置要求”", &title)?;
    row += 1;
    sheet.merge_text((row, 0), (row, 1), "线索类型", &heading)?;
    sheet.write_text(row, 2, "处置要求", &heading)?;
    row += 1;
    for (kind, instruction) in &terms.instructions {
        sheet.merge_text((row, 0), (row, 1), kind, &bold_cell)?;
        sheet.write_text(row, 2, instruction, &cell)?;
        row += 1;
    }

    row += 1;
    sheet.write_text(row, 0, "“核实情况”的取值", &title)?;
    row += 1;
    sheet.merge_text((row, 0), (row, 1), "取值", &heading)?;
    sheet.write_text(row, 2, "含义", &heading)?;
    row += 1;
    for (value, meaning) in DISPOSITIONS.iter() {
        sheet.merge_text((row, 0), (row, 1), value, &bold_cell)?;
        sheet.write_text(row, 2, meaning, &cell)?;
        row += 1;
    }
    Ok(())
}
