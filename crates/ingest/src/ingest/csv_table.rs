//! A CSV table over decoded text: finds the header row, then streams data rows one at a time.
//! Rows are numbered as a spreadsheet shows them; a row with the wrong field count is rejected.

use csv::{ReaderBuilder, StringRecord};

use super::table::{header_cells, Cell, ColumnMask, DataRow, TableItem};

/// Why a CSV table could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum CsvTableError {
    #[error("header row {0} is missing or empty")]
    NoHeader(usize),
    #[error("CSV syntax: {0}")]
    Csv(#[from] csv::Error),
}

/// Streams the data rows of one CSV text.
///
/// A quote that opens a field and never closes where it should would make the csv crate read
/// every following line into that field. After the header, a record that spans several lines
/// and either has the wrong number of fields or holds, on an inner line, what looks like a
/// whole row is taken for such a quote: its first line is rejected, and reading starts again on
/// the next line, so the quote costs one row instead of the rest of the file.
pub struct CsvTable<'a> {
    reader: csv::Reader<&'a [u8]>,
    /// Where `reader` started in `text` (it is restarted after a broken quote).
    base: usize,
    delimiter: u8,
    headers: Vec<String>,
    header_row: usize,
    record: StringRecord,
    text: &'a [u8],
    /// Row number of the last record read, and the byte where its content ended.
    last_row: usize,
    last_end: usize,
    mask: ColumnMask,
}

impl<'a> CsvTable<'a> {
    /// Opens `text` and reads up to the header row (1-based, as a spreadsheet numbers rows).
    pub fn open(text: &'a str, delimiter: u8, header_row: usize) -> Result<Self, CsvTableError> {
        let mut table = CsvTable {
            reader: reader_at(text.as_bytes(), 0, delimiter),
            base: 0,
            delimiter,
            headers: Vec::new(),
            header_row: header_row.max(1),
            record: StringRecord::new(),
            text: text.as_bytes(),
            last_row: 0,
            last_end: 0,
            mask: ColumnMask::default(),
        };
        loop {
            let Some(Read::Record(row)) = table.read()? else {
                // Nothing is judged broken before there is a header to judge by.
                return Err(CsvTableError::NoHeader(table.header_row));
            };
            if row < table.header_row {
                continue;
            }
            if row > table.header_row || table.record.iter().all(|f| f.trim().is_empty()) {
                return Err(CsvTableError::NoHeader(table.header_row));
            }
            table.headers = header_cells(table.record.iter());
            return Ok(table);
        }
    }

    /// Header cells, trimmed, in file order.
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// Only these columns are turned into cells; the rest (personal, unmapped) stay `Empty`.
    pub fn set_mask(&mut self, mask: ColumnMask) {
        self.mask = mask;
    }

    /// Reads the next record into `self.record`; returns its row number, or the row of a
    /// broken quote (then reading goes on from the line after that row).
    ///
    /// Rows are counted by the line breaks *between* records (blank lines count as rows,
    /// line breaks inside quoted fields do not), since the csv crate skips empty lines and
    /// its own line counter does not fit `\r\n` files.
    fn read(&mut self) -> Result<Option<Read>, csv::Error> {
        if !self.reader.read_record(&mut self.record)? {
            return Ok(None);
        }
        let len = self.text.len();
        let start = self
            .record
            .position()
            .map_or(self.last_end, |p| self.base + p.byte() as usize)
            .min(len);
        let end = (self.base + self.reader.position().byte() as usize).clamp(start, len);
        let is_break = |b: &u8| *b == b'\n' || *b == b'\r';
        let content_start = self.text[start..end]
            .iter()
            .position(|b| !is_break(b))
            .map_or(end, |p| start + p);
        let content_end = self.text[content_start..end]
            .iter()
            .rposition(|b| !is_break(b))
            .map_or(content_start, |p| content_start + p + 1);
        let gap = &self.text[self.last_end.min(content_start)..content_start];
        let row = if self.last_row == 0 {
            1 + line_breaks(gap)
        } else {
            self.last_row + line_breaks(gap).max(1)
        };
        self.last_row = row;
        let content = &self.text[content_start..content_end];
        if let Some(first_break) = content.iter().position(is_break) {
            if self.broken_quote(content) {
                // Start again on the line after the one the quote opened on.
                let first_end = content_start + first_break;
                let rest = &self.text[first_end..];
                let skip = match rest {
                    [b'\r', b'\n', ..] => 2,
                    _ => 1,
                };
                self.base = first_end + skip;
                self.reader = reader_at(self.text, self.base, self.delimiter);
                self.last_end = first_end;
                return Ok(Some(Read::BrokenQuote {
                    row,
                    line: content_start..first_end,
                }));
            }
        }
        self.last_end = content_end;
        Ok(Some(Read::Record(row)))
    }

    /// Whether a record spanning several lines (`content`, the record as the file holds it)
    /// is a quote that did not close: judged only once the header gives the row's width.
    fn broken_quote(&self, content: &[u8]) -> bool {
        let width = self.headers.len();
        if width == 0 {
            return false;
        }
        let extra_filled = self.record.iter().skip(width).any(|f| !f.trim().is_empty());
        if self.record.len() < width || extra_filled {
            return true;
        }
        // An inner line (neither the first nor the last) that holds as many delimiters as a
        // row does is a row swallowed by the quote.
        let lines: Vec<&[u8]> = content
            .split(|b| *b == b'\n')
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
            .collect();
        if width < 2 {
            return false;
        }
        let inner_row = lines.len() > 2
            && lines[1..lines.len() - 1]
                .iter()
                .any(|l| l.iter().filter(|b| **b == self.delimiter).count() >= width - 1);
        // A later line that is a whole, cleanly quoted row on its own (a real cell's line
        // break leaves its closing quote inside a field of the next line) was swallowed too:
        // this is how a quote that swallows a single row still shows.
        inner_row || lines[1..].iter().any(|l| self.is_whole_row(l))
    }

    /// Whether `line`, read alone, is a row of the header's width with no stray quote.
    fn is_whole_row(&self, line: &[u8]) -> bool {
        let mut one = reader_at(line, 0, self.delimiter);
        let mut record = StringRecord::new();
        matches!(one.read_record(&mut record), Ok(true))
            && record.len() == self.headers.len()
            && !record.iter().any(|f| f.contains('"'))
    }

    fn item(&self, number: usize) -> Option<TableItem> {
        let record = &self.record;
        if record.iter().all(|f| f.trim().is_empty()) {
            return None;
        }
        let width = self.headers.len();
        let extra_filled = record.iter().skip(width).any(|f| !f.trim().is_empty());
        if record.len() < width || extra_filled {
            return Some(TableItem::Malformed {
                number,
                reason: format!("row has {} fields, the header has {}", record.len(), width),
                raw: record.iter().collect::<Vec<_>>().join("\u{1f}"),
            });
        }
        let cells = (0..width)
            .map(|i| match record.get(i) {
                Some(f) if self.mask.keeps(i) && !f.trim().is_empty() => Cell::Text(f.to_string()),
                _ => Cell::Empty,
            })
            .collect();
        Some(TableItem::Row(DataRow { number, cells }))
    }
}

/// What one read gave.
enum Read {
    /// A record, on this row.
    Record(usize),
    /// A quote that opened on `row` and did not close; `line`: where that row's line is.
    BrokenQuote {
        row: usize,
        line: std::ops::Range<usize>,
    },
}

/// A csv reader over `text` from byte `base` on.
fn reader_at(text: &[u8], base: usize, delimiter: u8) -> csv::Reader<&[u8]> {
    ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.get(base..).unwrap_or_default())
}

/// Line breaks in `bytes`, `\r\n` counting once.
fn line_breaks(bytes: &[u8]) -> usize {
    let mut n = 0;
    let mut prev_cr = false;
    for &b in bytes {
        match b {
            b'\n' if prev_cr => {}
            b'\n' | b'\r' => n += 1,
            _ => {}
        }
        prev_cr = b == b'\r';
    }
    n
}

impl Iterator for CsvTable<'_> {
    type Item = Result<TableItem, csv::Error>;

    /// The next non-blank data row (entirely blank rows are skipped silently).
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let number = match self.read() {
                Ok(Some(Read::Record(n))) => n,
                Ok(Some(Read::BrokenQuote { row, line })) => {
                    return Some(Ok(TableItem::Malformed {
                        number: row,
                        reason: "a quote opened on this row does not close where the row ends; \
                                 the row is rejected and reading goes on from the next line"
                            .to_string(),
                        raw: String::from_utf8_lossy(&self.text[line]).into_owned(),
                    }))
                }
                Ok(None) => return None,
                Err(e) => return Some(Err(e)),
            };
            if let Some(item) = self.item(number) {
                return Some(Ok(item));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &str, header_row: usize) -> (Vec<String>, Vec<TableItem>) {
        let mut t = CsvTable::open(text, b',', header_row).expect("opens");
        t.set_mask(ColumnMask::new(t.headers().len(), 0..t.headers().len()));
        let headers = t.headers().to_vec();
        let items = t.map(|r| r.expect("reads")).collect();
        (headers, items)
    }

    #[test]
    fn header_below_a_title_and_numbering_with_blank_and_multiline_rows() {
        let text =
            "企业名单（2025年6月）,,\n 名称 ,地址,人数\nA厂,\"一行\n两行\",3\n\n,,\nB厂,x,4\n";
        let (headers, items) = rows(text, 2);
        assert_eq!(headers, ["名称", "地址", "人数"]);
        let numbers: Vec<usize> = items
            .iter()
            .map(|i| match i {
                TableItem::Row(r) => r.number,
                TableItem::Malformed { number, .. } => *number,
            })
            .collect();
        // Row 3 spans two lines; rows 4 (empty line) and 5 (empty cells) are blank.
        assert_eq!(numbers, [3, 6]);
    }

    #[test]
    fn crlf_rows_are_numbered_like_lf_rows() {
        let lf = "t\n\n名称,地址\nA,\"x\ny\"\n\nB,z\nC,w";
        let crlf = lf.replace('\n', "\r\n");
        for text in [lf.to_string(), crlf] {
            let (_, items) = rows(&text, 3);
            let numbers: Vec<usize> = items
                .iter()
                .filter_map(|i| match i {
                    TableItem::Row(r) => Some(r.number),
                    TableItem::Malformed { .. } => None,
                })
                .collect();
            assert_eq!(numbers, [4, 6, 7], "{text:?}");
        }
    }

    #[test]
    fn wrong_field_count_is_malformed_but_blank_trailing_fields_are_fine() {
        let (headers, items) = rows("a,b,c,\n1,2\n1,2,3,\n1,2,3,4\n", 1);
        assert_eq!(headers, ["a", "b", "c"]);
        assert!(
            matches!(&items[0], TableItem::Malformed { number: 2, reason, .. } if reason.contains("2 fields"))
        );
        assert!(matches!(&items[1], TableItem::Row(r) if r.number == 3));
        assert!(matches!(&items[2], TableItem::Malformed { number: 4, .. }));
    }

    #[test]
    fn masked_columns_stay_empty() {
        let mut t = CsvTable::open("名称,姓名\nA厂,张三\n", b',', 1).expect("opens");
        t.set_mask(ColumnMask::new(2, [0]));
        let item = t.next().expect("row").expect("ok");
        assert_eq!(
            item,
            TableItem::Row(DataRow {
                number: 2,
                cells: vec![Cell::Text("A厂".into()), Cell::Empty]
            })
        );
    }

    fn numbers(items: &[TableItem]) -> (Vec<usize>, Vec<usize>) {
        let mut rows = Vec::new();
        let mut bad = Vec::new();
        for i in items {
            match i {
                TableItem::Row(r) => rows.push(r.number),
                TableItem::Malformed { number, .. } => bad.push(*number),
            }
        }
        (rows, bad)
    }

    #[test]
    fn an_unbalanced_quote_costs_only_its_own_row() {
        let mut text = String::from("名称,地址,人数\n");
        for i in 2..=40 {
            if i == 5 {
                text.push_str("B厂,\"南安市官桥镇,12\n");
            } else {
                text.push_str(&format!("厂{i},地址{i},{i}\n"));
            }
        }
        for t in [text.clone(), text.replace('\n', "\r\n")] {
            let (_, items) = rows(&t, 1);
            let (good, bad) = numbers(&items);
            assert_eq!(bad, [5], "{items:?}");
            assert_eq!(good.len(), 38);
            assert_eq!(good.first(), Some(&2));
            assert_eq!(good.last(), Some(&40));
            let TableItem::Malformed { reason, .. } = &items[3] else {
                panic!("row 5 rejected: {items:?}")
            };
            assert!(reason.contains("quote"), "{reason}");
        }
    }

    #[test]
    fn a_quote_that_closes_rows_later_still_costs_one_row() {
        // The quote on row 3 closes on row 6: rows 4 and 5 would be swallowed into one field
        // of a record whose field count even fits.
        let text = "名称,地址,人数\nA厂,x,1\nB厂,\"y,2\nC厂,z,3\nD厂,w,4\nE厂\",v,5\nF厂,u,6\n";
        let (_, items) = rows(text, 1);
        let (good, bad) = numbers(&items);
        assert_eq!(bad.first(), Some(&3), "{items:?}");
        assert!(
            good.contains(&4) && good.contains(&5) && good.contains(&7),
            "{items:?}"
        );
        assert!(bad.len() <= 2, "{items:?}");
    }

    #[test]
    fn a_quote_that_swallows_one_quoted_row_costs_only_its_own_row() {
        // Row 3's quote closes inside row 4, whose own quotes then make a record of the right
        // width: row 4 would vanish into row 3's address.
        let text = "名称,地址,人数\nA厂,x,1\nB厂,\"y,2\nC厂,\"z\",3\nD厂,w,4\n";
        let (_, items) = rows(text, 1);
        let (good, bad) = numbers(&items);
        assert_eq!(bad, [3], "{items:?}");
        assert_eq!(good, [2, 4, 5], "{items:?}");
    }

    #[test]
    fn a_real_multi_line_cell_is_kept() {
        let text = "名称,地址,人数\nA厂,\"福建省\n南安市\n官桥镇\",3\n\"B\n厂\",x,4\nC厂,y,5\n";
        let (_, items) = rows(text, 1);
        // Line breaks inside a quoted cell do not count as rows.
        assert_eq!(numbers(&items), (vec![2, 3, 4], vec![]), "{items:?}");
    }

    #[test]
    fn missing_header_row() {
        assert!(matches!(
            CsvTable::open("", b',', 1),
            Err(CsvTableError::NoHeader(1))
        ));
        assert!(matches!(
            CsvTable::open("title\n\na,b\n", b',', 2),
            Err(CsvTableError::NoHeader(2))
        ));
    }
}
