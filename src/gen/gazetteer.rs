//! The county's real townships, villages and neighbouring counties, read from
//! `config/gazetteer/<county>_*.csv`. Only reads; the generator never invents a place name.

use std::path::Path;

use super::GenError;

/// A township (乡镇/街道), e.g. `350583118,官桥镇`.
#[derive(Debug, Clone)]
pub struct Township {
    pub code: String,
    pub name: String,
    /// The name without 镇/乡/街道 (`官桥`), used in branch names.
    pub short: String,
    /// Indexes into `Gazetteer::villages`.
    pub villages: Vec<usize>,
}

/// A village or community (村委会/社区居委会).
#[derive(Debug, Clone)]
pub struct Village {
    /// 12-digit 统计用区划代码.
    pub code: String,
    /// The stem, `溪美`.
    pub stem: String,
    /// `村` or `社区` as written in addresses.
    pub kind: &'static str,
}

/// A neighbouring county (same city or an adjacent one), from `<county>_neighbours.csv`
/// (real names taken from china-division's `areas.csv`, `cities.csv`, `provinces.csv`).
#[derive(Debug, Clone)]
pub struct Neighbour {
    /// 6-digit county code, `350582`.
    pub code: String,
    /// `晋江市`.
    pub name: String,
    /// `泉州市`.
    pub city: String,
    /// `福建省`.
    pub province: String,
}

#[derive(Debug, Clone)]
pub struct Gazetteer {
    pub townships: Vec<Township>,
    pub villages: Vec<Village>,
    /// The county's 6-digit code (the townships' first six digits).
    pub county_code: String,
    /// Neighbouring counties; empty when the gazetteer has no neighbours file.
    pub neighbours: Vec<Neighbour>,
}

impl Gazetteer {
    /// Reads `<dir>/<county>_townships.csv` and `<dir>/<county>_villages.csv` (the folder holds
    /// one county), and the optional `<dir>/<county>_neighbours.csv` (`code,name,city,province`).
    pub fn load(dir: &Path) -> Result<Gazetteer, GenError> {
        let county = county_of(dir)?;
        let mut townships = Vec::new();
        for row in read_rows(&dir.join(format!("{county}_townships.csv")), 2)? {
            let (code, name) = (row[0].clone(), row[1].clone());
            let short = ["街道", "经济开发区", "镇", "乡"]
                .iter()
                .find_map(|s| name.strip_suffix(s))
                .unwrap_or(&name)
                .to_string();
            townships.push(Township {
                code,
                name,
                short,
                villages: Vec::new(),
            });
        }
        let mut villages = Vec::new();
        for row in read_rows(&dir.join(format!("{county}_villages.csv")), 3)? {
            let Some(t) = townships.iter().position(|t| t.code == row[2]) else {
                return Err(GenError::Gazetteer(format!(
                    "village {} names unknown township {}",
                    row[0], row[2]
                )));
            };
            let name = &row[1];
            let (stem, kind) = if let Some(s) = name.strip_suffix("社区居委会") {
                (s.to_string(), "社区")
            } else if let Some(s) = name.strip_suffix("村委会") {
                (s.to_string(), "村")
            } else if let Some(s) = name.strip_suffix("居委会") {
                (s.to_string(), "社区")
            } else {
                // 管委会虚拟社区 and the like: no village part in addresses.
                (String::new(), "")
            };
            townships[t].villages.push(villages.len());
            villages.push(Village {
                code: row[0].clone(),
                stem,
                kind,
            });
        }
        if townships.is_empty() || townships.iter().any(|t| t.villages.is_empty()) {
            return Err(GenError::Gazetteer(
                "every township needs at least one village".into(),
            ));
        }
        let county_code = county;
        let path = dir.join(format!("{county_code}_neighbours.csv"));
        let mut neighbours = Vec::new();
        if path.exists() {
            for row in read_rows(&path, 4)? {
                if row[0].len() != 6 || row[0] == county_code {
                    return Err(GenError::Gazetteer(format!(
                        "{}: {} is not a neighbouring 6-digit county code",
                        path.display(),
                        row[0]
                    )));
                }
                neighbours.push(Neighbour {
                    code: row[0].clone(),
                    name: row[1].clone(),
                    city: row[2].clone(),
                    province: row[3].clone(),
                });
            }
        }
        Ok(Gazetteer {
            townships,
            villages,
            county_code,
            neighbours,
        })
    }
}

/// The county whose `<county>_townships.csv` the folder holds (exactly one).
fn county_of(dir: &Path) -> Result<String, GenError> {
    let entries = std::fs::read_dir(dir).map_err(|e| GenError::io(dir, e))?;
    let mut counties: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let code = name.strip_suffix("_townships.csv")?;
            (code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit())).then(|| code.to_string())
        })
        .collect();
    counties.sort();
    match counties.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(GenError::Gazetteer(format!(
            "{}: no <county>_townships.csv",
            dir.display()
        ))),
        many => Err(GenError::Gazetteer(format!(
            "{}: townships of several counties ({}); give a folder with one",
            dir.display(),
            many.join(", ")
        ))),
    }
}

fn read_rows(path: &Path, columns: usize) -> Result<Vec<Vec<String>>, GenError> {
    let io = |e: csv::Error| GenError::Gazetteer(format!("{}: {e}", path.display()));
    let mut reader = csv::Reader::from_path(path).map_err(io)?;
    let mut rows = Vec::new();
    for rec in reader.records() {
        let rec = rec.map_err(io)?;
        let cells: Vec<String> = rec.iter().map(|c| c.trim().to_string()).collect();
        if cells.len() < columns || cells.iter().take(columns).any(String::is_empty) {
            return Err(GenError::Gazetteer(format!(
                "{}: short row {:?}",
                path.display(),
                cells
            )));
        }
        rows.push(cells);
    }
    Ok(rows)
}
