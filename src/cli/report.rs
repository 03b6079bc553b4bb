//! What `run` prints and what `export` writes: the run summary for an operator and the master
//! list, links and observations of a run as CSV.

use std::io::Write;

use anyhow::Result;

use super::{redact, ExportKind};
use crate::config::Config;
use crate::pipeline::RunSummary;
use crate::store::Store;

pub fn print_summary(cfg: &Config, s: &RunSummary, quarantine: &[(String, String, i64)]) {
    println!("yingbao run {} (as of {})", s.run_id, s.as_of);
    println!(
        "{:<12} {:<8} {:>9} {:>9} {:>11} {:>12} {:>9}",
        "source", "status", "rows read", "records", "quarantined", "invalid USCC", "used"
    );
    for o in &s.sources {
        println!(
            "{:<12} {:<8} {:>9} {:>9} {:>11} {:>12} {:>9}",
            o.source,
            o.status,
            o.source_rows,
            o.rows_read,
            o.quarantined,
            o.invalid_uscc,
            o.records_used
        );
        if let Some(note) = &o.note {
            println!("             ! {note}");
        }
    }
    if !quarantine.is_empty() {
        println!("quarantined rows by reason:");
        for (source, reason, n) in quarantine {
            println!("  {n:>6}  {source}: {reason}");
        }
    }
    if s.register_missing {
        println!("! the declaration register could not be read and has no earlier snapshot: no leads were written (every employer would look unfiled)");
    }
    println!("entities (master list): {}", s.entities);
    if s.review_pairs > 0 {
        println!(
            "uncertain record pairs: {} (not merged; decide them with `yingbao review`)",
            s.review_pairs
        );
    }
    println!(
        "leads: {} ({} could not be placed and are on the county list)",
        s.leads, s.unplaced
    );
    for (code, name, n) in &s.by_township {
        println!(
            "  {:<10} {:<14} {n:>6}",
            if code.is_empty() { "county" } else { code },
            name
        );
    }
    println!("township lists (xlsx + csv): {}", s.out_dir.display());
    println!("database: {}", redact(&cfg.database_url()));
}

pub async fn export(store: &Store, run: i64, what: ExportKind, w: &mut dyn Write) -> Result<()> {
    if let ExportKind::Observations = what {
        let obs = store.run_observations(run).await?;
        crate::ingest::observation_csv::write(w, &obs)?;
        return Ok(());
    }
    let mut csv = csv::Writer::from_writer(w);
    match what {
        ExportKind::Observations => {}
        ExportKind::Links => {
            csv.write_record(["source", "record_key", "entity_id", "method"])?;
            for (s, k, e, m) in store.links(run).await? {
                csv.write_record([s, k, e, m])?;
            }
        }
        ExportKind::Master => {
            csv.write_record([
                "entity_id",
                "name",
                "uscc",
                "uscc_valid",
                "address",
                "industry_code",
                "risk_class",
                "headcount",
                "operating",
                "filing_status",
                "last_filed",
                "township_code",
                "placement_method",
                "is_lead",
                "feeds",
                "records",
            ])?;
            for row in store.entities(run).await? {
                let v: serde_json::Value = serde_json::from_str(&row.data)?;
                let (m, a, p) = (&v["record"], &v["assessment"], &v["placement"]);
                let text = |x: &serde_json::Value| match x {
                    serde_json::Value::Null => String::new(),
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                csv.write_record([
                    row.key.clone(),
                    text(&m["name"]),
                    text(&m["uscc"]["code"]),
                    text(&m["uscc"]["valid"]),
                    text(&m["address"]),
                    text(&m["industry_code"]),
                    text(&a["risk_class"]),
                    text(&m["headcount"]),
                    text(&a["operating"]),
                    text(&a["filing"]),
                    text(&m["last_filed"]),
                    row.township_code.clone().unwrap_or_default(),
                    text(&p["method"]),
                    (!a["rule_ids"].as_array().is_none_or(|r| r.is_empty())).to_string(),
                    m["feeds"]
                        .as_array()
                        .map(|f| f.iter().map(text).collect::<Vec<_>>().join("|"))
                        .unwrap_or_default(),
                    text(&m["members"]),
                ])?;
            }
        }
    }
    csv.flush()?;
    Ok(())
}
