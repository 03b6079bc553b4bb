//! The 中小微企业职业健康帮扶 candidate list: small and micro employers in the priority
//! industries or with exam or testing evidence, as an Excel workbook and a CSV file.

use std::path::{Path, PathBuf};

use rust_xlsxwriter::{Format, Workbook};

use super::csv_list::write_excel_csv;
use super::reuse::{ContentDigest, Earlier};
use super::sheet_text::SheetText;
use super::DeliverError;

/// The file stem of the list in a run's output folder.
pub const SME_FILE_STEM: &str = "中小微企业帮扶候选名单";

/// Column headers, in file order.
pub const SME_HEADERS: [&str; 11] = [
    "序号",
    "所属乡镇",
    "企业名称",
    "统一社会信用代码",
    "行业",
    "从业人数",
    "营业收入（万元）",
    "企业规模",
    "申报状态",
    "体检或检测记录",
    "地址",
];

/// One candidate.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SmeRow {
    pub township: String,
    pub name: String,
    pub uscc: String,
    pub industry: String,
    pub headcount: Option<u32>,
    pub revenue_wan: Option<f64>,
    /// 小型 / 微型 / 中型, `（估）` when an indicator was unknown.
    pub size_class: String,
    pub filing_status: String,
    pub evidence: String,
    pub address: String,
}

fn cells(i: usize, r: &SmeRow) -> [String; 11] {
    [
        (i + 1).to_string(),
        r.township.clone(),
        r.name.clone(),
        r.uscc.clone(),
        r.industry.clone(),
        r.headcount.map(|h| h.to_string()).unwrap_or_default(),
        r.revenue_wan.map(|v| format!("{v}")).unwrap_or_default(),
        r.size_class.clone(),
        r.filing_status.clone(),
        r.evidence.clone(),
        r.address.clone(),
    ]
}

/// Writes `<dir>/中小微企业帮扶候选名单.xlsx` and `.csv`; returns the workbook's path.
pub fn write_sme_list(dir: &Path, title: &str, rows: &[SmeRow]) -> Result<PathBuf, DeliverError> {
    write_sme_list_from(dir, title, rows, &Earlier::default()).map(|(xlsx, _)| xlsx)
}

/// [`write_sme_list`], linking the files from `earlier` when the same list was written
/// before; also gives the list's digest and its files.
pub fn write_sme_list_from(
    dir: &Path,
    title: &str,
    rows: &[SmeRow],
    earlier: &Earlier,
) -> Result<(PathBuf, (ContentDigest, Vec<PathBuf>)), DeliverError> {
    std::fs::create_dir_all(dir).map_err(|e| DeliverError::io(dir, e))?;
    let xlsx = dir.join(format!("{SME_FILE_STEM}.xlsx"));
    let csv = dir.join(format!("{SME_FILE_STEM}.csv"));
    let digest = super::reuse::digest(title, rows).map_err(|source| DeliverError::Json {
        path: xlsx.clone(),
        source,
    })?;
    let files = (digest, vec![xlsx.clone(), csv.clone()]);
    if earlier.reuse(&digest, &[&xlsx, &csv]) {
        return Ok((xlsx, files));
    }
    super::write_workbook(&xlsx, workbook_bytes(title, rows))?;
    write_excel_csv(
        &csv,
        &SME_HEADERS,
        rows.iter().enumerate().map(|(i, r)| cells(i, r)),
    )?;
    Ok((xlsx, files))
}

fn workbook_bytes(title: &str, rows: &[SmeRow]) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("帮扶候选")?;
    let bold = Format::new().set_bold();
    let header = Format::new().set_bold().set_background_color(0xDDEBF7);
    sheet.write_text(0, 0, title, &bold)?;
    for (c, h) in SME_HEADERS.iter().enumerate() {
        sheet.write_text(1, c as u16, h, &header)?;
    }
    let widths = [
        6.0, 12.0, 32.0, 22.0, 26.0, 10.0, 14.0, 10.0, 12.0, 28.0, 36.0,
    ];
    for (c, w) in widths.iter().enumerate() {
        sheet.set_column_width(c as u16, *w)?;
    }
    for (i, r) in rows.iter().enumerate() {
        let row = (i + 2) as u32;
        for (c, v) in cells(i, r).iter().enumerate() {
            let numeric = matches!(c, 0 | 5 | 6);
            match v.parse::<f64>() {
                Ok(n) if numeric => sheet.write_number(row, c as u16, n)?,
                _ => sheet.write_plain_text(row, c as u16, v)?,
            };
        }
    }
    sheet.set_freeze_panes(2, 3)?;
    book.save_to_buffer()
}
