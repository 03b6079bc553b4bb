//! Maps a file's header row onto the connector's canonical fields, then each data row into an
//! `Observation` plus its record key. Personal columns are never read: not even into rejects.

use crate::domain::{IndustryCode, Observation, Uscc};
use crate::ingest::spec::{ConnectorSpec, RevenueUnit};

use super::personal;
use super::quarantine::{Reject, RejectContext};
use super::table::{Cell, ColumnMask, DataRow};
use super::values::{self, fold_width, ValueError, Withheld};

/// A connector that does not fit the file: the file is not loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    #[error(
        "column(s) not found: {}; the file's headers are: {}",
        .missing.join("; "),
        .available.join(", ")
    )]
    MissingColumns {
        /// `field (header | alternative …)` for each field or key column not found.
        missing: Vec<String>,
        available: Vec<String>,
    },
    #[error("`{0}` is not a canonical field")]
    UnknownField(String),
    #[error("column `{header}` is a personal column and cannot be used as {used_as}")]
    PersonalColumn { header: String, used_as: String },
    /// Two columns answer to one mapped header: which one holds the field cannot be known, so
    /// the file is refused rather than read from a guess.
    #[error(
        "the header `{header}` (wanted for {used_as}) appears in {} columns ({}): rename or remove the extra column",
        .columns.len(),
        .columns.iter().map(|c| column_letter(*c)).collect::<Vec<_>>().join(", ")
    )]
    AmbiguousColumn {
        header: String,
        used_as: String,
        /// 0-based column indexes.
        columns: Vec<usize>,
    },
}

/// A file's headers as an error shows them: at most 40, each at most 40 characters, without
/// control characters or undecodable bytes (a binary file's "headers" are noise, not a message).
fn shown_headers(headers: &[String]) -> Vec<String> {
    const MOST: usize = 40;
    let mut shown: Vec<String> = headers
        .iter()
        .filter(|h| !h.is_empty())
        .take(MOST)
        .map(|h| {
            let clean: String = h
                .chars()
                .map(|c| {
                    if c.is_control() || c == '\u{fffd}' {
                        '?'
                    } else {
                        c
                    }
                })
                .collect();
            match clean.char_indices().nth(MOST) {
                Some((at, _)) => format!("{}…", &clean[..at]),
                None => clean,
            }
        })
        .collect();
    if headers.iter().filter(|h| !h.is_empty()).count() > MOST {
        shown.push("…".to_string());
    }
    shown
}

/// A 0-based column index as a spreadsheet names it (`A`, `Z`, `AA` …).
pub fn column_letter(col: usize) -> String {
    let mut n = col + 1;
    let mut out = Vec::new();
    while n > 0 {
        let r = (n - 1) % 26;
        out.push(b'A' + r as u8);
        n = (n - 1) / 26;
    }
    out.reverse();
    String::from_utf8_lossy(&out).into_owned()
}

/// The canonical fields, each with how its value is parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Uscc,
    TaxId,
    Name,
    Address,
    LegalRep,
    IndustryCode,
    IndustryName,
    RegistryStatus,
    RegisteredOn,
    DeregisteredOn,
    TaxStatus,
    LastTaxDate,
    StatsStatus,
    Headcount,
    Revenue,
    RegionCode,
    EvidenceDate,
    HazardFactors,
    Exceedances,
    DeclaredOn,
    UpdatedOn,
}

impl Field {
    fn from_name(name: &str) -> Option<Field> {
        Some(match name {
            "uscc" => Field::Uscc,
            "tax_id" => Field::TaxId,
            "name" => Field::Name,
            "address" => Field::Address,
            "legal_rep" => Field::LegalRep,
            "industry_code" => Field::IndustryCode,
            "industry_name" => Field::IndustryName,
            "registry_status" => Field::RegistryStatus,
            "registered_on" => Field::RegisteredOn,
            "deregistered_on" => Field::DeregisteredOn,
            "tax_status" => Field::TaxStatus,
            "last_tax_date" => Field::LastTaxDate,
            "stats_status" => Field::StatsStatus,
            "headcount" => Field::Headcount,
            "revenue" => Field::Revenue,
            "region_code" => Field::RegionCode,
            "evidence_date" => Field::EvidenceDate,
            "hazard_factors" => Field::HazardFactors,
            "exceedances" => Field::Exceedances,
            "declared_on" => Field::DeclaredOn,
            "updated_on" => Field::UpdatedOn,
            _ => return None,
        })
    }
}

/// A mapped column: which field, where, and the header as the file wrote it.
#[derive(Debug, Clone)]
struct Mapped {
    field: Field,
    col: usize,
    header: String,
}

/// How one file's columns feed an `Observation`.
#[derive(Debug, Clone)]
pub struct Plan {
    mapped: Vec<Mapped>,
    key_cols: Vec<usize>,
    group_cols: Vec<usize>,
    group_headers: Vec<String>,
    mask: ColumnMask,
    list_separators: String,
    revenue_unit: RevenueUnit,
    header_row: usize,
}

/// A data row mapped into an observation.
#[derive(Debug, Clone)]
pub struct MappedRow {
    pub observation: Observation,
    /// The row's own record key (configured key columns, or `file:n`).
    pub row_key: String,
    /// The group key, when the connector aggregates rows.
    pub group_key: Option<String>,
}

/// Header comparison that survives exports' cosmetic differences: width, whitespace and line
/// breaks inside the header, and a leading `*` marking required columns in templates.
fn loose(header: &str) -> String {
    fold_width(header)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .trim_start_matches('*')
        .to_string()
}

/// Every index of `wanted` in `headers`, compared loosely: `申报日期` and `申报 日期` are one
/// header, so a file holding both holds it twice.
fn find_all(loose_headers: &[String], wanted: &str) -> Vec<usize> {
    let lw = loose(wanted.trim());
    (0..loose_headers.len())
        .filter(|&i| loose_headers[i] == lw)
        .collect()
}

/// The one index of `wanted` in `headers`, for a column used as `used_as`; a header found in
/// two columns is an error, never a guess.
fn find(
    loose_headers: &[String],
    wanted: &str,
    used_as: &str,
) -> Result<Option<usize>, MappingError> {
    match find_all(loose_headers, wanted).as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(*one)),
        many => Err(MappingError::AmbiguousColumn {
            header: wanted.trim().to_string(),
            used_as: used_as.to_string(),
            columns: many.to_vec(),
        }),
    }
}

impl Plan {
    /// Matches `headers` (the file's header row) against `spec`.
    pub fn new(spec: &ConnectorSpec, headers: &[String]) -> Result<Plan, MappingError> {
        let loose_headers: Vec<String> = headers.iter().map(|h| loose(h)).collect();
        // Every column answering to a personal header is personal, however many there are.
        let personal: Vec<usize> = spec
            .personal_columns
            .iter()
            .flat_map(|p| find_all(&loose_headers, p))
            .collect();
        let is_personal = |col: usize, header: &str| {
            personal.contains(&col)
                || spec
                    .personal_columns
                    .iter()
                    .any(|p| loose(p) == loose(header))
        };
        let mut missing = Vec::new();
        let mut mapped = Vec::new();
        for (name, columns) in &spec.columns {
            let field =
                Field::from_name(name).ok_or_else(|| MappingError::UnknownField(name.clone()))?;
            let alternatives = columns.headers();
            let used_as = format!("field `{name}`");
            let mut hit = None;
            for h in &alternatives {
                if let Some(col) = find(&loose_headers, h, &used_as)? {
                    hit = Some(col);
                    break;
                }
            }
            match hit {
                Some(col) => {
                    let header = headers.get(col).cloned().unwrap_or_default();
                    if is_personal(col, &header) {
                        return Err(MappingError::PersonalColumn { header, used_as });
                    }
                    mapped.push(Mapped { field, col, header });
                }
                // Some exports carry a column, some do not: an optional field may be absent.
                None if spec.optional_columns.contains(name) => {}
                None => missing.push(format!("{name} ({})", alternatives.join(" | "))),
            }
        }
        let mut resolve_all = |list: &[String], what: &str| -> Result<Vec<usize>, MappingError> {
            let mut cols = Vec::new();
            for h in list {
                match find(&loose_headers, h, what)? {
                    Some(col) if is_personal(col, h) => {
                        return Err(MappingError::PersonalColumn {
                            header: h.clone(),
                            used_as: what.to_string(),
                        })
                    }
                    Some(col) => cols.push(col),
                    None => missing.push(format!("{what} ({h})")),
                }
            }
            Ok(cols)
        };
        // Rejects list a row's problems in file order.
        mapped.sort_by_key(|m| m.col);
        let key_cols = resolve_all(&spec.record.key, "record key")?;
        let group_cols = resolve_all(&spec.record.group_by, "group_by")?;
        if !missing.is_empty() {
            return Err(MappingError::MissingColumns {
                missing,
                available: shown_headers(headers),
            });
        }
        let keep = mapped
            .iter()
            .map(|m| m.col)
            .chain(key_cols.iter().copied())
            .chain(group_cols.iter().copied());
        let mask = ColumnMask::new(headers.len(), keep);
        Ok(Plan {
            mapped,
            group_headers: spec.record.group_by.clone(),
            key_cols,
            group_cols,
            mask,
            list_separators: spec.values.list_separators.clone(),
            revenue_unit: spec.values.revenue_unit,
            header_row: spec.file.header_row.max(1),
        })
    }

    /// The mapped columns: index and header as the file writes it, in file order.
    pub fn mapped_columns(&self) -> impl Iterator<Item = (usize, &str)> {
        self.mapped.iter().map(|m| (m.col, m.header.as_str()))
    }

    /// The columns a reader should turn into cells (never a personal column).
    pub fn mask(&self) -> ColumnMask {
        self.mask.clone()
    }

    /// Maps one data row. Unparsable values become `FieldDropped` rejects; a row that names no
    /// employer (or no group) is `RowRejected` and yields `None`.
    ///
    /// Every mapped cell is admitted first ([`values::admit`]): control characters cleaned, a
    /// value over Excel's cell limit dropped, and a text field holding a personal number (ID,
    /// mobile) dropped whole. Such a drop is quarantined without its value, and is kept even when
    /// the row is then rejected (it says why a filled name cell counted as no name).
    pub fn map_row(
        &self,
        row: &DataRow,
        ctx: &RejectContext,
        rejects: &mut Vec<Reject>,
    ) -> Option<MappedRow> {
        let mut obs = Observation::default();
        // Field rejects in column order; `true` marks a withheld value (kept on row rejection).
        let mut dropped: Vec<(Reject, bool)> = Vec::new();
        for m in &self.mapped {
            let raw = row.cells.get(m.col).unwrap_or(&Cell::Empty);
            let cell = match values::admit(raw, is_text(m.field)) {
                Ok(cell) => cell,
                Err(why) => {
                    dropped.push((ctx.withheld(row.number, &m.header, why.to_string()), true));
                    continue;
                }
            };
            if let Err(e) = self.set(&mut obs, m.field, &cell) {
                let reject = ctx.field(row.number, &m.header, cell.key_text(), e.to_string());
                dropped.push((reject, false));
            }
        }
        let reject_row = |rejects: &mut Vec<Reject>, dropped: Vec<(Reject, bool)>, reason| {
            rejects.extend(
                dropped
                    .into_iter()
                    .filter_map(|(r, kept)| kept.then_some(r)),
            );
            rejects.push(ctx.row(row.number, reason));
        };
        if obs.name.is_none() && obs.uscc.is_none() && obs.tax_id.is_none() {
            reject_row(
                rejects,
                dropped,
                "no employer name, USCC or tax id".to_string(),
            );
            return None;
        }
        let group_key = if self.group_cols.is_empty() {
            None
        } else {
            let columns = self.group_headers.join(", ");
            match join_cells(row, &self.group_cols) {
                Ok(Some(key)) => Some(key),
                Ok(None) => {
                    reject_row(
                        rejects,
                        dropped,
                        format!("group_by column(s) {columns} are blank"),
                    );
                    return None;
                }
                Err(why) => {
                    reject_row(
                        rejects,
                        dropped,
                        format!("group_by column(s) {columns}: {why}"),
                    );
                    return None;
                }
            }
        };
        rejects.extend(dropped.into_iter().map(|(r, _)| r));
        let by_position = || {
            let n = row.number.saturating_sub(self.header_row);
            format!("{}:{n}", ctx.file)
        };
        let row_key = match join_cells(row, &self.key_cols) {
            Ok(key) => key.unwrap_or_else(by_position),
            Err(why) => {
                let key = by_position();
                let reason = format!("{why}; the row is keyed by its position ({key})");
                rejects.push(ctx.withheld(row.number, "record key", reason));
                key
            }
        };
        obs.record_key = row_key.clone();
        Some(MappedRow {
            observation: obs,
            row_key,
            group_key,
        })
    }

    fn set(&self, obs: &mut Observation, field: Field, cell: &Cell) -> Result<(), ValueError> {
        match field {
            Field::Uscc => obs.uscc = values::parse_code(cell)?.and_then(|c| Uscc::parse(&c)),
            Field::TaxId => obs.tax_id = values::parse_code(cell)?,
            Field::Name => obs.name = values::parse_text(cell)?,
            Field::Address => obs.address = values::parse_text(cell)?,
            Field::LegalRep => obs.legal_rep = values::parse_text(cell)?,
            Field::IndustryCode => obs.industry_code = industry_code(cell)?,
            Field::IndustryName => obs.industry_name = values::parse_text(cell)?,
            Field::RegistryStatus => obs.registry_status = values::parse_text(cell)?,
            Field::RegisteredOn => obs.registered_on = values::parse_date(cell)?,
            Field::DeregisteredOn => obs.deregistered_on = values::parse_date(cell)?,
            Field::TaxStatus => obs.tax_status = values::parse_text(cell)?,
            Field::LastTaxDate => obs.last_tax_date = values::parse_date(cell)?,
            Field::StatsStatus => obs.stats_status = values::parse_text(cell)?,
            Field::Headcount => obs.headcount = values::parse_count(cell)?,
            Field::Revenue => obs.revenue = values::parse_revenue(cell, self.revenue_unit)?,
            Field::RegionCode => obs.region_code = values::parse_region_code(cell)?,
            Field::EvidenceDate => obs.evidence_date = values::parse_date(cell)?,
            Field::HazardFactors => {
                obs.hazard_factors =
                    values::parse_list(cell, &self.list_separators)?.unwrap_or_default()
            }
            Field::Exceedances => obs.exceedances = values::parse_count(cell)?,
            Field::DeclaredOn => obs.declared_on = values::parse_date(cell)?,
            Field::UpdatedOn => obs.updated_on = values::parse_date(cell)?,
        }
        Ok(())
    }
}

/// `3011`, `C3011`, or a code followed by its name (`C3011 水泥制造`).
fn industry_code(cell: &Cell) -> Result<Option<IndustryCode>, ValueError> {
    let Some(code) = values::parse_code(cell)? else {
        return Ok(None);
    };
    let why = match IndustryCode::parse_checked(&code) {
        Ok(c) => return Ok(Some(c)),
        Err(why) => why,
    };
    let text = cell.key_text();
    let first = fold_width(&text);
    first
        .split_whitespace()
        .next()
        .and_then(IndustryCode::parse)
        .map(Some)
        .ok_or(ValueError::NotAnIndustryCode(why))
}

/// Whether `field` is kept as text (and so guarded against personal numbers). Dates, counts,
/// amounts and the strictly parsed codes are not: what they keep is a date or a number, and a
/// value they cannot parse is quarantined with its text withheld when it looks personal.
fn is_text(field: Field) -> bool {
    matches!(
        field,
        Field::Uscc
            | Field::TaxId
            | Field::Name
            | Field::Address
            | Field::LegalRep
            | Field::IndustryName
            | Field::RegistryStatus
            | Field::TaxStatus
            | Field::StatsStatus
            | Field::HazardFactors
    )
}

/// Cells at `cols` as trimmed key text ([`values::key_text`]) joined with `|`; `None` when every
/// one is blank. A key holding a personal number, or a cell over Excel's limit, is withheld.
fn join_cells(row: &DataRow, cols: &[usize]) -> Result<Option<String>, Withheld> {
    if cols.is_empty() {
        return Ok(None);
    }
    let parts = cols
        .iter()
        .map(|c| {
            row.cells
                .get(*c)
                .map_or(Ok(String::new()), values::key_text)
        })
        .collect::<Result<Vec<String>, Withheld>>()?;
    if parts.iter().all(String::is_empty) {
        return Ok(None);
    }
    let key = parts.join("|");
    match personal::find(&key) {
        Some(kind) => Err(Withheld::Personal(kind)),
        None => Ok(Some(key)),
    }
}

#[cfg(test)]
mod ambiguity_tests {
    use super::*;
    use crate::domain::Feed;
    use crate::ingest::spec::Columns;

    fn spec(columns: &[(&str, &str)], personal: &[&str]) -> ConnectorSpec {
        let text = format!(
            "feed = \"declaration\"\n[file]\npath = \"x.csv\"\n[columns]\n{}\n",
            columns
                .iter()
                .map(|(f, h)| format!("{f} = \"{h}\""))
                .collect::<Vec<_>>()
                .join("\n")
        );
        let mut spec: ConnectorSpec = toml::from_str(&text).expect("spec");
        spec.personal_columns = personal.iter().map(|p| p.to_string()).collect();
        assert_eq!(spec.feed, Feed::Declaration);
        assert!(matches!(spec.columns.get("name"), Some(Columns::One(_))));
        spec
    }

    fn headers(h: &[&str]) -> Vec<String> {
        h.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_mapped_header_in_two_columns_refuses_the_file_naming_both() {
        let spec = spec(&[("name", "单位名称"), ("declared_on", "申报日期")], &[]);
        for file in [
            ["单位名称", "申报日期", "地址", "申报日期"],
            // Loosely equal headers are the same header too.
            ["单位名称", "申报日期", "地址", "申报 日期"],
        ] {
            let err = Plan::new(&spec, &headers(&file)).expect_err("ambiguous");
            let msg = err.to_string();
            assert!(
                matches!(&err, MappingError::AmbiguousColumn { columns, .. } if columns.len() == 2),
                "{msg}"
            );
            assert!(msg.contains("`申报日期`") && msg.contains("B, D"), "{msg}");
            assert!(msg.contains("field `declared_on`"), "{msg}");
        }
    }

    #[test]
    fn unmapped_and_personal_twins_do_not_matter() {
        let spec = spec(&[("name", "单位名称")], &["姓名"]);
        let plan =
            Plan::new(&spec, &headers(&["备注", "单位名称", "备注"])).expect("one name column");
        assert!(plan.mask().keeps(1) && !plan.mask().keeps(0) && !plan.mask().keeps(2));
        // A doubled personal column is personal twice, never read.
        let plan = Plan::new(&spec, &headers(&["单位名称", "姓名", "姓名"])).expect("plan");
        assert!(!plan.mask().keeps(1) && !plan.mask().keeps(2));
    }

    #[test]
    fn a_binary_file_s_headers_are_shown_short_and_clean() {
        let spec = spec(&[("name", "单位名称")], &[]);
        let noise: Vec<String> = (0..100)
            .map(|i| format!("\u{0}\u{fffd}{}", "x".repeat(i * 3)))
            .collect();
        let msg = Plan::new(&spec, &noise).expect_err("missing").to_string();
        assert!(msg.chars().count() < 2_500, "{} chars", msg.chars().count());
        assert!(!msg.contains('\u{0}') && !msg.contains('\u{fffd}'), "{msg}");
    }

    #[test]
    fn column_letters() {
        let letters: Vec<String> = [0, 25, 26, 27, 701, 702].map(column_letter).into();
        assert_eq!(letters, ["A", "Z", "AA", "AB", "ZZ", "AAA"]);
    }
}
