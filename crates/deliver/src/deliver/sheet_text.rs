//! Text into an xlsx worksheet, neutralised (`domain::cell_text`) and cut to Excel's cell limit.
//! Every workbook writer (lists, SME list, report) writes text through [`SheetText`], never
//! `write_string` itself (`tests/layers.rs` finds one that does).

use rust_xlsxwriter::{ColNum, Format, RowNum, Worksheet, XlsxError};

use crate::domain::cell_text::neutralise;

/// Excel's limit on the characters in one cell.
pub use crate::domain::cell_text::MAX_CELL_CHARS;

/// Text cells written safely; numbers, dates and blanks are written as they are.
pub trait SheetText {
    /// Writes `value` as a text cell with `format`.
    fn write_text(
        &mut self,
        row: RowNum,
        col: ColNum,
        value: &str,
        format: &Format,
    ) -> Result<&mut Worksheet, XlsxError>;

    /// Writes `value` as a text cell in the default format.
    fn write_plain_text(
        &mut self,
        row: RowNum,
        col: ColNum,
        value: &str,
    ) -> Result<&mut Worksheet, XlsxError>;

    /// Merges a range and writes `value` into it as text with `format`.
    fn merge_text(
        &mut self,
        first: (RowNum, ColNum),
        last: (RowNum, ColNum),
        value: &str,
        format: &Format,
    ) -> Result<&mut Worksheet, XlsxError>;
}

impl SheetText for Worksheet {
    fn write_text(
        &mut self,
        row: RowNum,
        col: ColNum,
        value: &str,
        format: &Format,
    ) -> Result<&mut Worksheet, XlsxError> {
        self.write_string_with_format(row, col, cell_text(value), format)
    }

    fn write_plain_text(
        &mut self,
        row: RowNum,
        col: ColNum,
        value: &str,
    ) -> Result<&mut Worksheet, XlsxError> {
        self.write_string(row, col, cell_text(value))
    }

    fn merge_text(
        &mut self,
        first: (RowNum, ColNum),
        last: (RowNum, ColNum),
        value: &str,
        format: &Format,
    ) -> Result<&mut Worksheet, XlsxError> {
        self.merge_range(first.0, first.1, last.0, last.1, &cell_text(value), format)
    }
}

/// `value` neutralised and cut to [`MAX_CELL_CHARS`] (only absurd input reaches the limit).
pub fn cell_text(value: &str) -> String {
    let safe = neutralise(value);
    match safe.char_indices().nth(MAX_CELL_CHARS) {
        Some((end, _)) => safe[..end].to_string(),
        None => safe.into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};
    use rust_xlsxwriter::Workbook;

    /// A hostile feed value goes in through each method and comes back defused and clean.
    #[test]
    fn every_method_writes_neutralised_text() {
        let hostile = "=HYPERLINK(\"http://x\",\"y\")\0某\u{7}厂";
        let mut book = Workbook::new();
        let sheet = book.add_worksheet();
        let f = Format::new();
        sheet.write_text(0, 0, hostile, &f).expect("write");
        sheet.write_plain_text(1, 0, hostile).expect("write");
        sheet
            .merge_text((2, 0), (2, 3), hostile, &f)
            .expect("merge");
        sheet.write_text(3, 0, "-3.5", &f).expect("write");
        let bytes = book.save_to_buffer().expect("save");
        let mut xlsx: Xlsx<_> = open_workbook_from_rs(std::io::Cursor::new(bytes)).expect("open");
        let range = xlsx.worksheet_range_at(0).expect("sheet").expect("range");
        for row in 0..3 {
            assert_eq!(
                range.get_value((row, 0)),
                Some(&Data::String("'=HYPERLINK(\"http://x\",\"y\")某厂".into())),
                "row {row}"
            );
        }
        assert_eq!(range.get_value((3, 0)), Some(&Data::String("-3.5".into())));
    }

    #[test]
    fn a_cell_is_cut_to_excels_limit_after_the_mark() {
        let long = format!("={}", "x".repeat(MAX_CELL_CHARS + 10));
        let cut = cell_text(&long);
        assert_eq!(cut.chars().count(), MAX_CELL_CHARS);
        assert!(cut.starts_with("'="));
    }
}
