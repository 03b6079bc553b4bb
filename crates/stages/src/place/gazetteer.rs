//! The county's townships and villages (统计用区划代码) with their short names and aliases.
//! Loaded from `config/` tables; the matching of addresses against it lives in `place::locate`.

use crate::domain::TownshipCode;
use std::collections::HashMap;
use std::path::Path;

use serde::Serialize;

use crate::domain::problem::Problem;
use crate::domain::table::read_table;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Township {
    /// 9-digit code.
    pub code: TownshipCode,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Village {
    /// 12-digit code.
    pub code: String,
    pub name: String,
    pub township_code: TownshipCode,
}

/// A county-level area of China other than this county (`config/gazetteer/counties.csv`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OtherCounty {
    /// 6-digit code.
    pub code: String,
    /// Full name with its suffix: `献县`, `晋江市`, `沙坪坝区`.
    pub name: String,
    /// 4-digit code of its city (地级).
    pub city_code: String,
    /// The city's name; a municipality's or a province-administered county's province name.
    pub city_name: String,
}

/// Townships, villages and operator aliases of one county.
#[derive(Debug, Clone, Default)]
pub struct Gazetteer {
    pub county_code: String,
    pub townships: Vec<Township>,
    pub villages: Vec<Village>,
    /// Alias (development zone, park, old name) → township code.
    pub aliases: Vec<(String, String)>,
    /// The county's own name (`南安市`); empty when unknown.
    pub county_name: String,
    /// Names of the county's own region (region words, its city): never another county.
    pub local_words: Vec<String>,
    /// Every other county of China; empty when `[county] counties` is unset.
    pub others: Vec<OtherCounty>,
    by_code: HashMap<TownshipCode, usize>,
}

/// Suffixes dropped to form a short name: `官桥镇` → `官桥`, `溪美社区居委会` → `溪美`.
const TOWNSHIP_SUFFIXES: &[&str] = &["街道办事处", "街道", "镇", "乡"];
const VILLAGE_SUFFIXES: &[&str] = &[
    "社区居民委员会",
    "社区居委会",
    "村民委员会",
    "村委会",
    "居委会",
    "社区",
    "村",
];

/// The short form of a township or village name, or the name itself when nothing is dropped.
pub fn short_name(name: &str, township: bool) -> &str {
    let suffixes = if township {
        TOWNSHIP_SUFFIXES
    } else {
        VILLAGE_SUFFIXES
    };
    suffixes
        .iter()
        .find_map(|s| name.strip_suffix(s))
        .filter(|rest| rest.chars().count() >= 2)
        .unwrap_or(name)
}

/// A village's name without its committee word, as addresses write it: `丰州社区居委会` →
/// `丰州社区`, `丰州村委会` → `丰州村`. `None` when the name has no committee word.
pub fn common_name(name: &str) -> Option<String> {
    const COMMITTEES: &[(&str, &str)] = &[
        ("社区居民委员会", "社区"),
        ("社区居委会", "社区"),
        ("村民委员会", "村"),
        ("村委会", "村"),
        ("居民委员会", "社区"),
        ("居委会", "社区"),
    ];
    COMMITTEES.iter().find_map(|(committee, kind)| {
        let stem = name.strip_suffix(committee)?;
        (stem.chars().count() >= 2).then(|| format!("{stem}{kind}"))
    })
}

impl Gazetteer {
    pub fn new(
        county_code: &str,
        townships: Vec<Township>,
        villages: Vec<Village>,
        aliases: Vec<(String, String)>,
    ) -> Gazetteer {
        let by_code = townships
            .iter()
            .enumerate()
            .map(|(i, t)| (t.code.clone(), i))
            .collect();
        Gazetteer {
            county_code: county_code.to_string(),
            townships,
            villages,
            aliases,
            county_name: String::new(),
            local_words: Vec::new(),
            others: Vec::new(),
            by_code,
        }
    }

    /// Adds the county's own name and region words and the other counties of China.
    pub fn with_counties(
        mut self,
        county_name: &str,
        local_words: Vec<String>,
        others: Vec<OtherCounty>,
    ) -> Gazetteer {
        self.county_name = county_name.to_string();
        self.local_words = local_words;
        self.others = others;
        self
    }

    /// Reads the counties table (`code,name,city_code,city_name`): the other counties, and this
    /// county's own row when listed (its city name is a local word).
    pub fn load_counties(
        county_code: &str,
        path: &Path,
    ) -> Result<(Vec<OtherCounty>, Option<OtherCounty>), Vec<Problem>> {
        let rows =
            read_table(path, &["code", "name", "city_code", "city_name"]).map_err(|p| vec![p])?;
        let mut problems = Vec::new();
        let mut others = Vec::new();
        let mut own = None;
        for r in rows {
            let code = r.get("code");
            if code.len() != 6
                || !code.bytes().all(|b| b.is_ascii_digit())
                || r.get("name").is_empty()
            {
                problems.push(
                    Problem::new(path, format!("`{code}` is not a county code"))
                        .at(Some(r.line))
                        .key("code")
                        .hint("a 6-digit 统计用区划代码 and a name; re-create the table with `yingbao gazetteer import`"),
                );
                continue;
            }
            let c = OtherCounty {
                code: code.to_string(),
                name: r.get("name").to_string(),
                city_code: r.get("city_code").to_string(),
                city_name: r.get("city_name").to_string(),
            };
            if code == county_code {
                own = Some(c);
            } else {
                others.push(c);
            }
        }
        if problems.is_empty() {
            Ok((others, own))
        } else {
            Err(problems)
        }
    }

    /// Loads the township, village and alias tables, reporting every bad row.
    pub fn load(
        county_code: &str,
        townships: &Path,
        villages: &Path,
        aliases: Option<&Path>,
    ) -> Result<Gazetteer, Vec<Problem>> {
        let mut problems = Vec::new();
        let mut ts = Vec::new();
        match read_table(townships, &["code", "name"]) {
            Ok(rows) => {
                for r in rows {
                    let code = r.get("code");
                    if code.len() != 9 || !code.starts_with(county_code) || r.get("name").is_empty()
                    {
                        problems.push(
                            Problem::new(
                                townships,
                                format!("`{code}` is not a township of county {county_code}"),
                            )
                            .at(Some(r.line))
                            .key("code")
                            .hint(format!(
                                "a 9-digit code starting with {county_code}, and a name"
                            )),
                        );
                        continue;
                    }
                    ts.push(Township {
                        code: code.into(),
                        name: r.get("name").to_string(),
                    });
                }
            }
            Err(p) => problems.push(p),
        }
        let known: std::collections::HashSet<TownshipCode> =
            ts.iter().map(|t| t.code.clone()).collect();
        let mut vs = Vec::new();
        match read_table(villages, &["code", "name", "township_code"]) {
            Ok(rows) => {
                for r in rows {
                    let code = r.get("code");
                    let tc = r.get("township_code");
                    if code.len() != 12 || !code.starts_with(tc) || !known.contains(tc) {
                        problems.push(
                            Problem::new(villages, format!("village `{code}` does not belong to a known township `{tc}`"))
                                .at(Some(r.line))
                                .hint("a 12-digit code whose first 9 digits are a township in the township table"),
                        );
                        continue;
                    }
                    vs.push(Village {
                        code: code.to_string(),
                        name: r.get("name").to_string(),
                        township_code: tc.into(),
                    });
                }
            }
            Err(p) => problems.push(p),
        }
        let mut al = Vec::new();
        if let Some(path) = aliases {
            match read_table(path, &["alias", "township_code"]) {
                Ok(rows) => {
                    for r in rows {
                        if !known.contains(r.get("township_code")) || r.get("alias").is_empty() {
                            problems.push(
                                Problem::new(
                                    path,
                                    format!(
                                        "alias `{}` names unknown township `{}`",
                                        r.get("alias"),
                                        r.get("township_code")
                                    ),
                                )
                                .at(Some(r.line))
                                .key("township_code")
                                .hint("use a 9-digit code from the township table"),
                            );
                            continue;
                        }
                        al.push((
                            r.get("alias").to_string(),
                            r.get("township_code").to_string(),
                        ));
                    }
                }
                Err(p) => problems.push(p),
            }
        }
        if ts.is_empty() && problems.is_empty() {
            problems.push(
                Problem::new(townships, "no townships listed")
                    .hint("import them with the county's code"),
            );
        }
        if problems.is_empty() {
            Ok(Gazetteer::new(county_code, ts, vs, al))
        } else {
            Err(problems)
        }
    }

    pub fn township(&self, code: &str) -> Option<&Township> {
        self.by_code.get(code).map(|&i| &self.townships[i])
    }
}
