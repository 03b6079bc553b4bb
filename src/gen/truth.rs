//! Ground truth under `<out>/truth/`: the true employers, which employer each feed record belongs
//! to, and which rows were damaged on purpose. Written alongside the feeds, never read by them.

use std::collections::HashSet;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use super::employer::Employer;
use super::gazetteer::Gazetteer;
use super::industry::INDUSTRIES;
use super::GenError;

type Writer = csv::Writer<BufWriter<File>>;

fn open(path: &Path, headers: &[&str]) -> Result<Writer, GenError> {
    let file = File::create(path).map_err(|e| GenError::io(path, e))?;
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(BufWriter::with_capacity(1 << 16, file));
    w.write_record(headers)
        .map_err(|e| GenError::Csv(e.to_string()))?;
    Ok(w)
}

/// `records.csv` and `bad_rows.csv`, written as the feeds are.
pub struct Truth {
    records: Writer,
    bad: Writer,
    keys: HashSet<String>,
    paths: Vec<PathBuf>,
}

impl Truth {
    pub fn create(dir: &Path) -> Result<Truth, GenError> {
        let records_path = dir.join("records.csv");
        let bad_path = dir.join("bad_rows.csv");
        Ok(Truth {
            records: open(
                &records_path,
                &["connector_id", "record_key", "employer_id"],
            )?,
            bad: open(
                &bad_path,
                &[
                    "connector_id",
                    "file",
                    "data_row",
                    "problem",
                    "employer_id",
                    "in_records",
                ],
            )?,
            keys: HashSet::new(),
            paths: vec![records_path, bad_path],
        })
    }

    /// One record the connector will produce, and whose it is. Keys are unique per connector.
    pub fn record(
        &mut self,
        connector: &str,
        key: &str,
        employer: &Employer,
    ) -> Result<(), GenError> {
        if !self.keys.insert(format!("{connector}\u{1}{key}")) {
            return Err(GenError::DuplicateKey(
                connector.to_string(),
                key.to_string(),
            ));
        }
        self.records
            .write_record([connector, key, &employer.employer_id()])
            .map_err(|e| GenError::Csv(e.to_string()))
    }

    /// A row damaged on purpose. `in_records`: whether its record is still in `records.csv`
    /// (a bad value in an otherwise good row) or not (a row ingest should quarantine).
    pub fn bad_row(
        &mut self,
        connector: &str,
        file: &Path,
        data_row: usize,
        problem: &str,
        employer: Option<&Employer>,
        in_records: bool,
    ) -> Result<(), GenError> {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let id = employer.map(Employer::employer_id).unwrap_or_default();
        self.bad
            .write_record([
                connector,
                &name,
                &data_row.to_string(),
                problem,
                &id,
                if in_records { "yes" } else { "no" },
            ])
            .map_err(|e| GenError::Csv(e.to_string()))
    }

    pub fn finish(mut self) -> Result<Vec<PathBuf>, GenError> {
        for w in [&mut self.records, &mut self.bad] {
            w.flush().map_err(|e| GenError::Csv(e.to_string()))?;
        }
        Ok(self.paths)
    }
}

/// `employers.csv`: one line per true employer. `county_code` (the employer's 6-digit county;
/// township and village are empty outside this county) is written when `with_county` is set.
pub fn write_employers(
    dir: &Path,
    employers: &[Employer],
    gaz: &Gazetteer,
    as_of: NaiveDate,
    with_county: bool,
) -> Result<PathBuf, GenError> {
    let path = dir.join("employers.csv");
    let mut headers = vec![
        "employer_id",
        "name",
        "uscc",
        "industry_code",
        "headcount",
        "operating",
        "township_code",
        "last_filed",
        "filing_status",
        "last_evidence",
        "kind",
        "registry_status",
        "tax_status",
        "stopped_on",
        "village_code",
    ];
    if with_county {
        headers.push("county_code");
    }
    let mut w = open(&path, &headers)?;
    let date = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    for e in employers {
        let county = e.address.county.and_then(|c| gaz.neighbours.get(c));
        let (township, village) = match county {
            Some(_) => (String::new(), String::new()),
            None => (
                gaz.townships[e.address.township].code.clone(),
                gaz.villages[e.address.village].code.clone(),
            ),
        };
        let mut row = vec![
            e.employer_id(),
            e.name.canonical(),
            e.uscc.clone(),
            INDUSTRIES[e.industry].code.to_string(),
            e.headcount.to_string(),
            e.operating(as_of).to_string(),
            township,
            date(e.last_filed()),
            e.filing_status(as_of).to_string(),
            date(e.last_evidence()),
            e.kind.as_str().to_string(),
            e.registry.label().to_string(),
            if e.in_tax {
                e.tax_status.label().to_string()
            } else {
                String::new()
            },
            date(e.stopped_on),
            village,
        ];
        if with_county {
            row.push(county.map_or_else(|| gaz.county_code.clone(), |n| n.code.clone()));
        }
        w.write_record(&row)
            .map_err(|err| GenError::Csv(err.to_string()))?;
    }
    w.flush().map_err(|e| GenError::io(&path, e))?;
    Ok(path)
}
