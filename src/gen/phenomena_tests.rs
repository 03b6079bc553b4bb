//! Each phenomenon of `phenomena.rs` is in the generated feeds and truth marks it: one county
//! generated once, then one check per phenomenon.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::NaiveDate;

use super::gazetteer::Gazetteer;
use super::generate;
use super::tests::{csv_truth, feed_csv, opts, root, text, xlsx_rows};
use crate::domain::uscc::is_valid;

type Row = BTreeMap<String, String>;

/// A generated county read back: truth, record owners, and the feeds' rows by record key.
struct County {
    gaz: Gazetteer,
    employers: Vec<Row>,
    /// (connector, record key) of each employer.
    records: BTreeMap<String, Vec<(String, String)>>,
    /// 住所 by USCC.
    market: BTreeMap<String, (String, String)>,
    /// Tax rows by taxpayer number: (status, the row).
    tax: BTreeMap<String, String>,
    /// Testing 单位地址 by report number.
    testing_address: BTreeMap<String, String>,
}

fn read(out: &Path) -> County {
    let gaz = Gazetteer::load(&root().join("config/gazetteer")).expect("gazetteer");
    let employers = csv_truth(&out.join("truth/employers.csv"));
    let mut records: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for r in csv_truth(&out.join("truth/records.csv")) {
        records
            .entry(r["employer_id"].clone())
            .or_default()
            .push((r["connector_id"].clone(), r["record_key"].clone()));
    }
    let mut market = BTreeMap::new();
    for (_, rows) in feed_csv(&out.join("market"), encoding_rs::UTF_8) {
        for r in rows[1..].iter().filter(|r| r.len() == rows[0].len()) {
            market.insert(r[0].clone(), (r[4].clone(), r[5].clone()));
        }
    }
    let tax = xlsx_rows(&out.join("tax/税务登记户信息.xlsx"))[2..]
        .iter()
        .map(|r| (text(&r[0]), text(&r[3])))
        .collect();
    let testing_address = xlsx_rows(&out.join("testing/检测报告台账.xlsx"))[1..]
        .iter()
        .map(|r| (text(&r[0]), text(&r[4])))
        .collect();
    County {
        gaz,
        employers,
        records,
        market,
        tax,
        testing_address,
    }
}

fn kind<'a>(c: &'a County, k: &str) -> Vec<&'a Row> {
    c.employers.iter().filter(|r| r["kind"] == k).collect()
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("truth date")
}

const AS_OF: &str = "2025-06-30";

#[test]
fn phenomena_are_in_the_feeds_and_truth_marks_them() {
    let dir = tempfile::tempdir().expect("tmp");
    let summary = generate(&opts(dir.path(), 3000, 17)).expect("generates");
    let c = read(dir.path());
    assert_eq!(c.employers.len(), summary.employers);
    out_of_county(&c);
    dormant_shells(&c);
    superseded_tax_records(&c);
    reused_names(&c);
    same_name_individuals(&c);
    village_roads_and_bare_addresses(&c);
    truth_villages(&c);
}

fn out_of_county(c: &County) {
    let foreign = kind(c, "out_of_county");
    assert!(
        foreign.len() >= 10,
        "{} out-of-county employers",
        foreign.len()
    );
    let neighbours: BTreeMap<&str, &str> = c
        .gaz
        .neighbours
        .iter()
        .map(|n| (n.code.as_str(), n.name.as_str()))
        .collect();
    let mut local_road = 0;
    for e in &foreign {
        let county = neighbours
            .get(e["county_code"].as_str())
            .unwrap_or_else(|| panic!("a neighbouring county: {e:?}"));
        assert!(e["township_code"].is_empty() && e["village_code"].is_empty());
        assert!(e["name"].starts_with(county), "{e:?}");
        if !e["uscc"].is_empty() {
            assert!(is_valid(&e["uscc"]), "{e:?}");
            assert_eq!(&e["uscc"][2..8], e["county_code"], "{e:?}");
        }
        let recs = c.records.get(&e["employer_id"]).expect("records");
        for (connector, key) in recs {
            assert!(
                connector == "exam" || connector == "testing",
                "{connector}: {e:?}"
            );
            if connector == "exam" {
                assert!(key.starts_with(county), "{key}");
            } else {
                let address = &c.testing_address[key];
                assert!(address.contains(county), "{address}");
                assert!(
                    c.gaz.townships.iter().all(|t| !address.contains(&t.name)),
                    "{address}"
                );
                let named = c
                    .gaz
                    .villages
                    .iter()
                    .map(|v| v.stem.as_str())
                    .chain(c.gaz.townships.iter().map(|t| t.short.as_str()))
                    .any(|p| !p.is_empty() && address.contains(&format!("{p}路")));
                local_road += usize::from(named);
            }
        }
        // Not in this county's market, tax or statistics registers.
        assert!(!c.market.contains_key(&e["uscc"]) || e["uscc"].is_empty());
    }
    assert!(foreign.iter().any(|e| e["uscc"].is_empty()));
    assert!(foreign.iter().any(|e| !e["uscc"].is_empty()));
    assert!(local_road > 0, "a road named after a local place");
    assert!(c
        .employers
        .iter()
        .filter(|e| e["kind"] != "out_of_county")
        .all(|e| e["county_code"] == "350583"));
}

fn dormant_shells(c: &County) {
    let dormant = kind(c, "dormant");
    assert!(dormant.len() >= 5, "{} dormant shells", dormant.len());
    let as_of = date(AS_OF);
    for e in dormant {
        assert_eq!(e["registry_status"], "存续", "{e:?}");
        assert_eq!(e["tax_status"], "正常", "{e:?}");
        assert_eq!(e["operating"], "false", "{e:?}");
        let months = (as_of - date(&e["stopped_on"])).num_days() / 30;
        assert!((12..=31).contains(&months), "{months} months: {e:?}");
        assert_eq!(c.market[&e["uscc"]].1, "存续");
        let tax: Vec<&String> = c.records[&e["employer_id"]]
            .iter()
            .filter(|(f, _)| f == "tax")
            .map(|(_, k)| k)
            .collect();
        assert_eq!(tax.len(), 1, "{e:?}");
        assert_eq!(c.tax[tax[0]], "正常", "{e:?}");
    }
}

fn superseded_tax_records(c: &County) {
    let superseded = kind(c, "superseded_tax");
    assert!(superseded.len() >= 5, "{} superseded", superseded.len());
    for e in superseded {
        assert_eq!(e["operating"], "true", "{e:?}");
        let old = format!("350583{}", &e["uscc"][8..17]);
        let keys: BTreeSet<&str> = c.records[&e["employer_id"]]
            .iter()
            .filter(|(f, _)| f == "tax")
            .map(|(_, k)| k.as_str())
            .collect();
        assert!(keys.contains(old.as_str()), "{keys:?} {e:?}");
        assert_eq!(c.tax[&old], "注销");
        assert_eq!(
            keys.len(),
            2,
            "the old record and the current one: {keys:?}"
        );
        let current = keys.iter().find(|k| **k != old).expect("current record");
        assert_eq!(c.tax[*current], "正常");
    }
}

fn reused_names(c: &County) {
    let old = kind(c, "name_reused_old");
    let new = kind(c, "name_reused_new");
    assert!(
        !old.is_empty() && old.len() == new.len(),
        "{} / {}",
        old.len(),
        new.len()
    );
    for a in old {
        let b = new
            .iter()
            .find(|b| b["name"] == a["name"])
            .unwrap_or_else(|| panic!("a new company of the name: {a:?}"));
        assert_ne!(a["uscc"], b["uscc"]);
        assert_eq!(a["registry_status"], "注销");
        assert_eq!(a["operating"], "false");
        assert_eq!(b["operating"], "true");
        assert_eq!(c.market[&a["uscc"]].1, "注销");
        assert!(c.market.contains_key(&b["uscc"]));
        let gone = date(&a["stopped_on"]);
        assert!(date(&b["last_evidence"]) > gone, "{b:?}");
        // Later exam and testing records are the new company's.
        let a_recs = c
            .records
            .get(&a["employer_id"])
            .cloned()
            .unwrap_or_default();
        assert!(!a_recs.iter().any(|(f, _)| f == "exam"), "{a_recs:?}");
        assert!(c.records[&b["employer_id"]]
            .iter()
            .any(|(f, _)| f == "exam"));
    }
}

fn same_name_individuals(c: &County) {
    let twins = kind(c, "same_name_individual");
    assert!(twins.len() >= 4, "{} same-name individuals", twins.len());
    let town = |code: &str| {
        c.gaz
            .townships
            .iter()
            .find(|t| t.code == code)
            .map(|t| t.name.clone())
            .expect("known township")
    };
    for e in &twins {
        let other = twins
            .iter()
            .find(|o| o["name"] == e["name"] && o["employer_id"] != e["employer_id"])
            .unwrap_or_else(|| panic!("a twin: {e:?}"));
        assert_ne!(other["township_code"], e["township_code"]);
        let name = e["name"].trim_start_matches("南安市");
        let typed = format!("南安市{}{name}", town(&e["township_code"]));
        assert!(
            c.records[&e["employer_id"]]
                .iter()
                .any(|(f, k)| f == "exam" && k.starts_with(&format!("{typed}|"))),
            "{typed}: {:?}",
            c.records[&e["employer_id"]]
        );
    }
}

fn village_roads_and_bare_addresses(c: &County) {
    let mut village_roads = 0;
    let mut bare = 0;
    for e in c
        .employers
        .iter()
        .filter(|e| !e["township_code"].is_empty())
    {
        let Some((address, _)) = c.market.get(&e["uscc"]) else {
            continue;
        };
        let own = &e["township_code"];
        if c.gaz.townships.iter().all(|t| !address.contains(&t.name)) {
            assert!(
                address.ends_with('号') && !address.contains("南安"),
                "{address}"
            );
            bare += 1;
        }
        village_roads += usize::from(c.gaz.townships.iter().filter(|t| &t.code != own).any(|t| {
            t.villages.iter().any(|&v| {
                let stem = &c.gaz.villages[v].stem;
                !stem.is_empty() && address.contains(&format!("{stem}路"))
            })
        }));
    }
    assert!(bare >= 10, "{bare} addresses without a township");
    assert!(
        village_roads >= 20,
        "{village_roads} roads named after other villages"
    );
}

fn truth_villages(c: &County) {
    for e in c
        .employers
        .iter()
        .filter(|e| !e["township_code"].is_empty())
    {
        let v = &e["village_code"];
        assert!(v.len() == 12 && v.starts_with(&e["township_code"]), "{e:?}");
    }
}

#[test]
fn without_a_neighbours_file_there_are_no_out_of_county_employers() {
    let gaz = tempfile::tempdir().expect("tmp");
    for f in ["350583_townships.csv", "350583_villages.csv"] {
        std::fs::copy(root().join("config/gazetteer").join(f), gaz.path().join(f)).expect("copy");
    }
    let out = tempfile::tempdir().expect("tmp");
    let options = super::GenOptions {
        gazetteer_dir: gaz.path().to_path_buf(),
        ..opts(out.path(), 1500, 3)
    };
    generate(&options).expect("generates without neighbours");
    let rows = csv_truth(&out.path().join("truth/employers.csv"));
    assert!(rows.iter().all(|r| r["kind"] != "out_of_county"));
    assert!(rows.iter().any(|r| r["kind"] == "dormant"));
    // Two counties' townships in one folder: which one is meant is not guessed.
    std::fs::copy(
        gaz.path().join("350583_townships.csv"),
        gaz.path().join("350582_townships.csv"),
    )
    .expect("copy");
    assert!(Gazetteer::load(gaz.path()).is_err());
}
