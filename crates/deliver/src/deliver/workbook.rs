//! The Excel workbook for one lead list: sheet `线索清单` (title, header, one row per lead)
//! and sheet `说明` (what each column means and how to fill in 核实情况).

use std::path::Path;

use rust_xlsxwriter::{
    Color, DataValidation, DataValidationErrorStyle, Format, FormatAlign, FormatBorder, Workbook,
    Worksheet, XlsxError,
};

use super::columns::{row_cells, Cell, COLUMN_COUNT, DISPOSITIONS, FIRST_FILL_COLUMN, HEADERS};
use super::sheet_text::SheetText;
use super::DeliverError;
use crate::leads::row::LeadRow;

/// Name of the sheet holding the leads.
pub const LIST_SHEET: &str = "线索清单";
/// Name of the sheet explaining the columns.
pub const NOTES_SHEET: &str = "说明";

/// Row (0-based) of the title, the header and the first lead.
const TITLE_ROW: u32 = 0;
const HEADER_ROW: u32 = 1;
const FIRST_DATA_ROW: u32 = 2;
/// Leads are frozen left of this column (序号, 线索编号, 企业名称 stay visible when scrolling).
const FROZEN_COLUMNS: u16 = 3;

/// Column widths in Excel character units (a Chinese character is about two).
const WIDTHS: [f64; COLUMN_COUNT] = [
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
    22.0, // 核实情况
    10.0, // 核实人
    12.0, // 核实日期
];

/// Columns whose text wraps inside the cell instead of spilling over.
const WRAPPED: [usize; 9] = [2, 5, 6, 8, 12, 18, 19, 20, 21];

const HEADER_FILL: u32 = 0xDDEBF7;
const FILL_IN_FILL: u32 = 0xFFF2CC;

/// Builds the workbook for one list and writes it to `path`.
pub fn write_lead_workbook(path: &Path, title: &str, rows: &[LeadRow]) -> Result<(), DeliverError> {
    let bytes = lead_workbook_bytes(title, rows).map_err(|source| DeliverError::Xlsx {
        path: path.to_path_buf(),
        source,
    })?;
    super::write_file_atomically(path, &bytes)
}

/// Builds the workbook for one list, as the bytes of an `.xlsx` file.
pub fn lead_workbook_bytes(title: &str, rows: &[LeadRow]) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let list = workbook.add_worksheet();
    write_list_sheet(list, title, rows)?;
    let notes = workbook.add_worksheet();
    write_notes_sheet(notes)?;
    workbook.save_to_buffer()
}

fn bordered() -> Format {
    Format::new()
        .set_border(FormatBorder::Thin)
        .set_align(FormatAlign::VerticalCenter)
}

fn write_list_sheet(sheet: &mut Worksheet, title: &str, rows: &[LeadRow]) -> Result<(), XlsxError> {
    sheet.set_name(LIST_SHEET)?;
    let last_col = (COLUMN_COUNT - 1) as u16;

    let title_format = Format::new()
        .set_bold()
        .set_font_size(14)
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter);
    sheet.merge_text((TITLE_ROW, 0), (TITLE_ROW, last_col), title, &title_format)?;
    sheet.set_row_height(TITLE_ROW, 30)?;

    let header_format = Format::new()
        .set_bold()
        .set_border(FormatBorder::Thin)
        .set_background_color(Color::RGB(HEADER_FILL))
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_text_wrap();
    let fill_in_header = header_format
        .clone()
        .set_background_color(Color::RGB(FILL_IN_FILL));
    for (col, header) in HEADERS.iter().enumerate() {
        let format = if col >= FIRST_FILL_COLUMN {
            &fill_in_header
        } else {
            &header_format
        };
        sheet.write_text(HEADER_ROW, col as u16, header, format)?;
        sheet.set_column_width(col as u16, WIDTHS[col])?;
    }
    sheet.set_row_height(HEADER_ROW, 24)?;

    // Text format ("@") on codes keeps them text even when staff retype them.
    let text = bordered();
    let wrapped = bordered().set_text_wrap();
    let code = bordered().set_num_format("@");
    let code_wrapped = code.clone().set_text_wrap();
    let number = bordered().set_num_format("0");
    let fill_in = bordered()
        .set_text_wrap()
        .set_background_color(Color::RGB(FILL_IN_FILL));
    let fill_in_date = fill_in.clone().set_num_format("yyyy-mm-dd");

    for (i, lead) in rows.iter().enumerate() {
        let row = FIRST_DATA_ROW + i as u32;
        for (col, cell) in row_cells(i + 1, lead).into_iter().enumerate() {
            let wraps = WRAPPED.contains(&col);
            let c = col as u16;
            match cell {
                Cell::Text(s) => {
                    let format = if wraps { &wrapped } else { &text };
                    sheet.write_text(row, c, &s, format)?;
                }
                Cell::Code(s) => {
                    let format = if wraps { &code_wrapped } else { &code };
                    sheet.write_text(row, c, &s, format)?;
                }
                Cell::Number(n) => {
                    sheet.write_number_with_format(row, c, n, &number)?;
                }
                Cell::Empty if col + 1 == COLUMN_COUNT => {
                    sheet.write_blank(row, c, &fill_in_date)?;
                }
                Cell::Empty if col >= FIRST_FILL_COLUMN => {
                    sheet.write_blank(row, c, &fill_in)?;
                }
                Cell::Empty => {
                    sheet.write_blank(row, c, &text)?;
                }
            }
        }
    }

    let last_row = (FIRST_DATA_ROW + rows.len() as u32)
        .saturating_sub(1)
        .max(HEADER_ROW);
    sheet.autofilter(HEADER_ROW, 0, last_row, last_col)?;
    sheet.set_freeze_panes(FIRST_DATA_ROW, FROZEN_COLUMNS)?;

    if !rows.is_empty() {
        let col = FIRST_FILL_COLUMN as u16;
        sheet.add_data_validation(
            FIRST_DATA_ROW,
            col,
            last_row,
            col,
            &disposition_validation()?,
        )?;
    }

    // Printing: landscape A4, one page wide, title and header on every page.
    sheet.set_landscape();
    sheet.set_paper_size(9);
    sheet.set_print_fit_to_pages(1, 0);
    sheet.set_repeat_rows(TITLE_ROW, HEADER_ROW)?;
    sheet.set_active(true);
    Ok(())
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

/// Who fills each column, and what it means.
const COLUMN_NOTES: [(&str, &str); COLUMN_COUNT] = [
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
    (
        "乡镇填写",
        "核实结果，从下拉列表中选择，取值见下表。选“其他”的必须写明原因。",
    ),
    ("乡镇填写", "核实人姓名。"),
    ("乡镇填写", "核实日期，如 2025-03-15。"),
];

fn write_notes_sheet(sheet: &mut Worksheet) -> Result<(), XlsxError> {
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
    for line in [
        "1. 本清单列出本乡镇（街道）内可能应当申报职业病危害项目而尚未申报（或申报已逾期）的用人单位，请逐户核实。",
        "2. 请只填写“核实情况”“核实人”“核实日期”三列（黄色底色），不要修改其他列的内容，不要调整列的顺序，不要删除行。",
        "3. 核实完成后，按要求回传本文件。",
    ] {
        sheet.write_plain_text(row, 0, line)?;
        row += 1;
    }

    row += 1;
    for (col, h) in ["列名", "填写", "说明"].iter().enumerate() {
        sheet.write_text(row, col as u16, h, &heading)?;
    }
    row += 1;
    for (header, (who, note)) in HEADERS.iter().zip(COLUMN_NOTES.iter()) {
        sheet.write_text(row, 0, header, &bold_cell)?;
        sheet.write_text(row, 1, who, &cell)?;
        sheet.write_text(row, 2, note, &cell)?;
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
