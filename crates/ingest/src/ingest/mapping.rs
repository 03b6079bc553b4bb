//! Maps a file's header row onto the connector's canonical fields, then each data row into an
//! `Observation` plus its record key. Personal columns are never read: not even into rejects.

use crate::domain::{IndustryCode, Observation, Uscc};
use crate::ingest::spec::{ConnectorSpec, RevenueUnit};

use super::quarantine::{Reject, RejectContext};
use super::table::{Cell, ColumnMask, DataRow};
use super::values::{self, fold_width, ValueError};

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

/// The index of `wanted` in `headers`: an exact (trimmed) match first, else a loose one.
fn find(headers: &[String], loose_headers: &[String], wanted: &str) -> Option<usize> {
    let w = wanted.trim();
    headers.iter().position(|h| h == w).or_else(|| {
        let lw = loose(w);
        loose_headers.iter().position(|h| *h == lw)
    })
}

impl Plan {
    /// Matches `headers` (the file's header row) against `spec`.
    pub fn new(spec: &ConnectorSpec, headers: &[String]) -> Result<Plan, MappingError> {
        let loose_headers: Vec<String> = headers.iter().map(|h| loose(h)).collect();
        let personal: Vec<usize> = spec
            .personal_columns
            .iter()
            .filter_map(|p| find(headers, &loose_headers, p))
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
            let hit = alternatives
                .iter()
                .find_map(|h| find(headers, &loose_headers, h));
            match hit {
                Some(col) => {
                    let header = headers.get(col).cloned().unwrap_or_default();
                    if is_personal(col, &header) {
                        return Err(MappingError::PersonalColumn {
                            header,
                            used_as: format!("field `{name}`"),
                        });
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
                match find(headers, &loose_headers, h) {
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
                available: headers.iter().filter(|h| !h.is_empty()).cloned().collect(),
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

    /// The columns a reader should turn into cells (never a personal column).
    pub fn mask(&self) -> ColumnMask {
        self.mask.clone()
    }

    /// Maps one data row. Unparsable values become `FieldDropped` rejects; a row that names no
    /// employer (or no group) is `RowRejected` and yields `None`.
    pub fn map_row(
        &self,
        row: &DataRow,
        ctx: &RejectContext,
        rejects: &mut Vec<Reject>,
    ) -> Option<MappedRow> {
        let mut obs = Observation::default();
        let mut dropped = Vec::new();
        for m in &self.mapped {
            let cell = row.cells.get(m.col).unwrap_or(&Cell::Empty);
            if let Err(e) = self.set(&mut obs, m.field, cell) {
                dropped.push(ctx.field(row.number, &m.header, cell.key_text(), e.to_string()));
            }
        }
        if obs.name.is_none() && obs.uscc.is_none() && obs.tax_id.is_none() {
            rejects.push(ctx.row(row.number, "no employer name, USCC or tax id"));
            return None;
        }
        let group_key = if self.group_cols.is_empty() {
            None
        } else {
            let key = join_cells(row, &self.group_cols);
            if key.is_none() {
                let reason = format!(
                    "group_by column(s) {} are blank",
                    self.group_headers.join(", ")
                );
                rejects.push(ctx.row(row.number, reason));
                return None;
            }
            key
        };
        rejects.append(&mut dropped);
        let row_key = join_cells(row, &self.key_cols).unwrap_or_else(|| {
            let n = row.number.saturating_sub(self.header_row);
            format!("{}:{n}", ctx.file)
        });
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

/// Cells at `cols` as trimmed text joined with `|`; `None` when every one is blank.
fn join_cells(row: &DataRow, cols: &[usize]) -> Option<String> {
    if cols.is_empty() {
        return None;
    }
    let parts: Vec<String> = cols
        .iter()
        .map(|c| row.cells.get(*c).map(Cell::key_text).unwrap_or_default())
        .collect();
    if parts.iter().all(String::is_empty) {
        None
    } else {
        Some(parts.join("|"))
    }
}
