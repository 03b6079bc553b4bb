//! The industry risk catalogue: GB/T 4754-2017 code → 严重/一般, looked up by longest prefix.
//! Operator-edited data (`config/risk_catalogue.csv`); nothing about risk is written in code.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::domain::problem::Problem;
use crate::domain::table::read_table;
use crate::domain::IndustryCode;

/// The two classes of the 2021 catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum RiskClass {
    /// 一般
    General,
    /// 严重
    Severe,
}

impl RiskClass {
    pub fn parse(s: &str) -> Option<RiskClass> {
        match s.trim() {
            "严重" => Some(RiskClass::Severe),
            "一般" => Some(RiskClass::General),
            _ => None,
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            RiskClass::Severe => "严重",
            RiskClass::General => "一般",
        }
    }
}

impl fmt::Display for RiskClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label_zh())
    }
}

/// Code prefix → class, plus the names for display.
#[derive(Debug, Clone, Default)]
pub struct RiskCatalogue {
    classes: HashMap<String, RiskClass>,
    names: HashMap<String, String>,
}

impl RiskCatalogue {
    /// Loads `code,class,name,source`; reports every bad row.
    pub fn load(path: &Path) -> Result<RiskCatalogue, Vec<Problem>> {
        let rows = read_table(path, &["code", "class"]).map_err(|p| vec![p])?;
        let mut cat = RiskCatalogue::default();
        let mut problems = Vec::new();
        for row in rows {
            let code = IndustryCode::parse(row.get("code"));
            let class = RiskClass::parse(row.get("class"));
            match (code, class) {
                (Some(code), Some(class)) => {
                    let key = code.as_str().to_string();
                    if cat.classes.insert(key.clone(), class).is_some() {
                        problems.push(
                            Problem::new(path, format!("code `{key}` is listed twice"))
                                .at(Some(row.line))
                                .key("code")
                                .hint("keep one row per code"),
                        );
                    }
                    if !row.get("name").is_empty() {
                        cat.names.insert(key, row.get("name").to_string());
                    }
                }
                (None, _) => problems.push(
                    Problem::new(path, format!("`{}` is not a GB/T 4754 code", row.get("code")))
                        .at(Some(row.line))
                        .key("code")
                        .hint("2, 3 or 4 digits, optionally after the 门类 letter: `30`, `301`, `3011`, `C3011`"),
                ),
                (_, None) => problems.push(
                    Problem::new(path, format!("`{}` is not a risk class", row.get("class")))
                        .at(Some(row.line))
                        .key("class")
                        .hint("write 严重 or 一般"),
                ),
            }
        }
        if problems.is_empty() {
            Ok(cat)
        } else {
            Err(problems)
        }
    }

    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, RiskClass)>) -> RiskCatalogue {
        let mut cat = RiskCatalogue::default();
        for (code, class) in pairs {
            if let Some(c) = IndustryCode::parse(code) {
                cat.classes.insert(c.as_str().to_string(), class);
            }
        }
        cat
    }

    /// The class of the longest listed prefix of `code`, if any.
    pub fn class_of(&self, code: &IndustryCode) -> Option<RiskClass> {
        let s = code.digits();
        (2..=s.len())
            .rev()
            .find_map(|n| self.classes.get(&s[..n]).copied())
    }

    /// The catalogue's name for the longest listed prefix of `code`.
    pub fn name_of(&self, code: &IndustryCode) -> Option<&str> {
        let s = code.digits();
        (2..=s.len())
            .rev()
            .find_map(|n| self.names.get(&s[..n]).map(String::as_str))
    }

    pub fn len(&self) -> usize {
        self.classes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.classes.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> IndustryCode {
        IndustryCode::parse(s).expect("valid code")
    }

    #[test]
    fn longest_prefix_wins() {
        let cat = RiskCatalogue::from_pairs([
            ("30", RiskClass::General),
            ("C3011", RiskClass::Severe),
            ("308", RiskClass::Severe),
        ]);
        assert_eq!(cat.class_of(&code("3011")), Some(RiskClass::Severe));
        assert_eq!(cat.class_of(&code("C3012")), Some(RiskClass::General));
        assert_eq!(cat.class_of(&code("3081")), Some(RiskClass::Severe));
        assert_eq!(cat.class_of(&code("5211")), None);
    }

    #[test]
    fn bad_rows_are_all_reported_with_lines() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("cat.csv");
        std::fs::write(
            &path,
            "code,class,name\n3011,严重,水泥\nX9,严重,?\n3012,较重,?\n3011,一般,dup\n",
        )
        .expect("write");
        let problems = RiskCatalogue::load(&path).expect_err("bad rows");
        let lines: Vec<_> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![Some(3), Some(4), Some(5)]);
        assert!(problems[1].to_string().contains("严重 or 一般"));
    }

    #[test]
    fn shipped_catalogue_loads() {
        let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
            .join("config/risk_catalogue.csv");
        let cat = RiskCatalogue::load(&path).expect("shipped catalogue is valid");
        assert_eq!(cat.class_of(&code("3011")), Some(RiskClass::Severe));
        assert_eq!(cat.class_of(&code("3032")), Some(RiskClass::Severe));
        assert_eq!(cat.class_of(&code("1810")), Some(RiskClass::General));
        assert_eq!(cat.class_of(&code("6210")), None);
    }
}
