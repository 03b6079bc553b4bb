//! `yingbao gazetteer import`: builds a county's township and village tables, and the table of
//! every county of China, from the china-division CSV files (`areas.csv`, `streets.csv`, …).

use std::path::{Path, PathBuf};

/// A county's tables, as the config's `townships` and `villages` files hold them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CountyTables {
    /// `(code, name)` of the county itself, from `areas.csv`.
    pub county: (String, String),
    /// `(code, name)`, 9-digit codes.
    pub townships: Vec<(String, String)>,
    /// `(code, name, township_code)`, 12-digit codes.
    pub villages: Vec<(String, String, String)>,
    /// Every county-level area of China: `(code, name, city_code, city_name)`.
    pub counties: Vec<(String, String, String, String)>,
}

/// City rows that are not a city's name: a municipality's districts and counties, and counties
/// a province administers directly. Their province's name stands for the city.
fn is_city_placeholder(name: &str) -> bool {
    name == "市辖区" || name == "县" || name.ends_with("直辖县级行政区划")
}

/// Every county-level area with its city's name, from `areas.csv`, `cities.csv`, `provinces.csv`.
fn counties(
    dir: &Path,
    areas: &[Vec<String>],
) -> Result<Vec<(String, String, String, String)>, ImportError> {
    let provinces: std::collections::HashMap<String, String> =
        read_rows(&dir.join("provinces.csv"), &["code", "name"])?
            .into_iter()
            .map(|r| (r[0].clone(), r[1].clone()))
            .collect();
    let cities: std::collections::HashMap<String, String> =
        read_rows(&dir.join("cities.csv"), &["code", "name", "provinceCode"])?
            .into_iter()
            .map(|r| {
                let name = if is_city_placeholder(&r[1]) {
                    provinces.get(&r[2]).cloned().unwrap_or_default()
                } else {
                    r[1].clone()
                };
                (r[0].clone(), name)
            })
            .collect();
    Ok(areas
        .iter()
        .map(|r| {
            let city = cities.get(&r[2]).cloned().unwrap_or_default();
            (r[0].clone(), r[1].clone(), r[2].clone(), city)
        })
        .collect())
}

/// Why the tables could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{}: cannot read: {source}", .path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {source}", .path.display())]
    Csv { path: PathBuf, source: csv::Error },
    #[error("{}: no column `{column}` (the china-division files have `code,name,…`)", .path.display())]
    Column { path: PathBuf, column: String },
    #[error("county `{0}` is not in areas.csv: give its 6-digit code, e.g. 350583")]
    UnknownCounty(String),
    #[error("county `{0}` has no townships in streets.csv")]
    NoTownships(String),
}

/// Rows of one CSV file as maps of the named columns.
fn read_rows(path: &Path, columns: &[&str]) -> Result<Vec<Vec<String>>, ImportError> {
    let csv_err = |source| ImportError::Csv {
        path: path.to_path_buf(),
        source,
    };
    let mut reader = csv::Reader::from_path(path).map_err(csv_err)?;
    let headers = reader.headers().map_err(csv_err)?.clone();
    let at: Vec<usize> = columns
        .iter()
        .map(|c| {
            headers
                .iter()
                .position(|h| h.trim_start_matches('\u{feff}') == *c)
                .ok_or_else(|| ImportError::Column {
                    path: path.to_path_buf(),
                    column: c.to_string(),
                })
        })
        .collect::<Result<_, _>>()?;
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(csv_err)?;
        rows.push(
            at.iter()
                .map(|&i| record.get(i).unwrap_or("").trim().to_string())
                .collect(),
        );
    }
    Ok(rows)
}

/// Reads the county `code`'s townships and villages from the china-division folder `dir`.
pub fn import(dir: &Path, code: &str) -> Result<CountyTables, ImportError> {
    let areas = read_rows(&dir.join("areas.csv"), &["code", "name", "cityCode"])?;
    let counties = counties(dir, &areas)?;
    let county = areas
        .into_iter()
        .find(|r| r[0] == code)
        .map(|r| (r[0].clone(), r[1].clone()))
        .ok_or_else(|| ImportError::UnknownCounty(code.to_string()))?;
    let streets = read_rows(&dir.join("streets.csv"), &["code", "name", "areaCode"])?;
    let townships: Vec<(String, String)> = streets
        .into_iter()
        .filter(|r| r[2] == code)
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect();
    if townships.is_empty() {
        return Err(ImportError::NoTownships(code.to_string()));
    }
    // Village files are large; the folder may hold one for all of China or extracts.
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|source| ImportError::Read {
            path: dir.to_path_buf(),
            source,
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("villages") && n.ends_with(".csv"))
        })
        .collect();
    files.sort();
    let mut villages = Vec::new();
    for f in files {
        for r in read_rows(&f, &["code", "name", "streetCode", "areaCode"])? {
            if r[3] == code {
                villages.push((r[0].clone(), r[1].clone(), r[2].clone()));
            }
        }
    }
    villages.sort();
    villages.dedup();
    Ok(CountyTables {
        county,
        townships,
        villages,
        counties,
    })
}

/// Writes `counties.csv` (every county of China) into `out`; returns its path.
pub fn write_counties(tables: &CountyTables, out: &Path) -> Result<PathBuf, ImportError> {
    std::fs::create_dir_all(out).map_err(|source| ImportError::Read {
        path: out.to_path_buf(),
        source,
    })?;
    let path = out.join("counties.csv");
    let mut text = String::from("code,name,city_code,city_name\n");
    for (c, n, cc, cn) in &tables.counties {
        text.push_str(&format!("{c},{n},{cc},{cn}\n"));
    }
    std::fs::write(&path, text).map_err(|source| ImportError::Read {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}

/// Writes `<code>_townships.csv` and `<code>_villages.csv` into `out`; returns their paths.
pub fn write(tables: &CountyTables, out: &Path) -> Result<(PathBuf, PathBuf), ImportError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ImportError::Read { path, source }
    };
    std::fs::create_dir_all(out).map_err(io(out))?;
    let code = &tables.county.0;
    let towns = out.join(format!("{code}_townships.csv"));
    let mut text = String::from("code,name\n");
    for (c, n) in &tables.townships {
        text.push_str(&format!("{c},{n}\n"));
    }
    std::fs::write(&towns, text).map_err(io(&towns))?;
    let villages = out.join(format!("{code}_villages.csv"));
    let mut text = String::from("code,name,township_code\n");
    for (c, n, t) in &tables.villages {
        text.push_str(&format!("{c},{n},{t}\n"));
    }
    std::fs::write(&villages, text).map_err(io(&villages))?;
    Ok((towns, villages))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(dir: &Path) {
        std::fs::write(
            dir.join("areas.csv"),
            "code,name,cityCode,provinceCode\n350583,\"南安市\",3505,35\n500106,\"沙坪坝区\",5001,50\n",
        )
        .expect("areas");
        std::fs::write(
            dir.join("cities.csv"),
            "code,name,provinceCode\n3505,\"泉州市\",35\n5001,\"市辖区\",50\n",
        )
        .expect("cities");
        std::fs::write(
            dir.join("provinces.csv"),
            "code,name\n35,\"福建省\"\n50,\"重庆市\"\n",
        )
        .expect("provinces");
        std::fs::write(
            dir.join("streets.csv"),
            "code,name,areaCode,provinceCode,cityCode\n350583001,\"溪美街道\",350583,35,3505\n\
             350583100,\"省新镇\",350583,35,3505\n500106001,\"小龙坎街道\",500106,50,5001\n",
        )
        .expect("streets");
        std::fs::write(
            dir.join("villages_part.csv"),
            "code,name,streetCode,provinceCode,cityCode,areaCode\n\
             350583001001,\"溪美社区居委会\",350583001,35,3505,350583\n\
             350583100201,\"省身村委会\",350583100,35,3505,350583\n\
             500106001001,\"小龙坎社区\",500106001,50,5001,500106\n",
        )
        .expect("villages");
    }

    #[test]
    fn only_the_chosen_countys_rows_are_taken() {
        let dir = tempfile::tempdir().expect("tempdir");
        fixture(dir.path());
        let t = import(dir.path(), "350583").expect("import");
        assert_eq!(t.county, ("350583".into(), "南安市".into()));
        assert_eq!(
            t.townships,
            vec![
                ("350583001".into(), "溪美街道".into()),
                ("350583100".into(), "省新镇".into())
            ]
        );
        assert_eq!(t.villages.len(), 2);
        assert_eq!(
            t.villages[1],
            (
                "350583100201".into(),
                "省身村委会".into(),
                "350583100".into()
            )
        );
        let other = import(dir.path(), "500106").expect("import");
        assert_eq!(other.townships.len(), 1);
        assert_eq!(other.villages.len(), 1);
        let (towns, villages) = write(&other, &dir.path().join("out")).expect("write");
        assert_eq!(
            std::fs::read_to_string(towns).expect("read"),
            "code,name\n500106001,小龙坎街道\n"
        );
        assert!(std::fs::read_to_string(villages)
            .expect("read")
            .contains("500106001001,小龙坎社区,500106001"));
    }

    #[test]
    fn every_county_is_written_with_its_city() {
        let dir = tempfile::tempdir().expect("tempdir");
        fixture(dir.path());
        let t = import(dir.path(), "350583").expect("import");
        let path = write_counties(&t, &dir.path().join("out")).expect("write");
        assert_eq!(
            std::fs::read_to_string(path).expect("read"),
            "code,name,city_code,city_name\n350583,南安市,3505,泉州市\n500106,沙坪坝区,5001,重庆市\n"
        );
    }

    #[test]
    fn an_unknown_county_is_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        fixture(dir.path());
        let e = import(dir.path(), "999999").expect_err("unknown");
        assert!(e.to_string().contains("999999"));
    }
}
