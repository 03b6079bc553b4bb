//! What `run` prints and what `export` writes: the run summary for an operator and the master
//! list, links and observations of a run as CSV, every cell neutralised (`domain::cell_text`).

use std::io::Write;

use anyhow::Result;

use super::{redact, ExportKind};
use crate::config::Config;
use crate::domain::cell_text::SafeCsv;
use crate::pipeline::{RunSummary, SourceStatus};
use crate::store::{SnapshotStatus, Store};

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
            // "!" marks what the operator must look at; a fresh source's note only informs.
            let mark = if o.status == SourceStatus::Fresh {
                "·"
            } else {
                "!"
            };
            println!("             {mark} {note}");
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
        "leads listed: {} ({} could not be placed and are on the county list)",
        s.leads, s.unplaced
    );
    let kinds: Vec<String> = s.by_kind.iter().map(|(k, n)| format!("{k} {n}")).collect();
    if !kinds.is_empty() {
        println!("  by kind: {}", kinds.join(", "));
    }
    let changes: Vec<String> = s
        .transitions
        .iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    if !changes.is_empty() {
        println!("  since the last run: {}", changes.join(", "));
    }
    if s.found > s.leads + s.withheld {
        println!(
            "  {} more found but closed by a township's disposition (not listed)",
            s.found - s.leads - s.withheld
        );
    }
    if s.withheld > 0 {
        println!(
            "! {} new lead(s) rest on a feed that is not fresh (see `yingbao sources`): kept in the database, left out of the township lists",
            s.withheld
        );
    }
    if s.pending > 0 {
        println!(
            "leads held at the county (待核实, not sent to townships): {} in {}",
            s.pending,
            s.out_dir
                .join(crate::pipeline::lists::PENDING_DIR)
                .display()
        );
    }
    if !s.referrals.is_empty() {
        let (leads, records): (usize, usize) = s
            .referrals
            .values()
            .fold((0, 0), |(a, b), (l, r)| (a + l, b + r));
        println!(
            "other counties' employers referred (外县线索移交): {leads} lead(s), {records} record(s), in {}",
            s.out_dir.join(crate::pipeline::lists::REFERRAL_DIR).display()
        );
        for (county, (l, r)) in &s.referrals {
            println!("  {county:<14} {l:>6} lead(s) {r:>6} record(s)");
        }
    }
    for (word, n) in &s.unknown_statuses {
        println!(
            "! status {word} is in no list of [policy.operating] ({n} employer(s)): not counted as operating; add it where it belongs"
        );
    }
    for (code, name, n) in &s.by_township {
        println!(
            "  {:<10} {} {n:>6}",
            if code.is_empty() { "county" } else { code },
            super::text::pad(name, 20)
        );
    }
    match &s.push_blocked {
        Some(why) => println!(
            "! township lists were NOT written: {why}. Leads are kept in the database; fix the feed and run again."
        ),
        None => println!("township lists (xlsx + csv): {}", s.out_dir.display()),
    }
    if s.sme_candidates > 0 {
        println!(
            "SME-assistance candidates: {} in {}",
            s.sme_candidates,
            s.out_dir
                .join(format!("{}.xlsx", crate::deliver::sme_list::SME_FILE_STEM))
                .display()
        );
    }
    if s.queued_deliveries > 0 {
        println!(
            "deliveries queued: {} (township lists × channels)",
            s.queued_deliveries
        );
    }
    println!("database: {}", redact(&cfg.database_url()));
}

pub async fn export(store: &Store, run: i64, what: ExportKind, w: &mut dyn Write) -> Result<()> {
    let mut csv = SafeCsv::from_writer(w);
    if let ExportKind::Observations = what {
        // The benchmark format is written raw by `ingest::observation_csv`; read back and
        // written again here so that its cells are neutralised like every other export's.
        let obs = store.run_observations(run).await?;
        let mut raw = Vec::new();
        crate::ingest::observation_csv::write(&mut raw, &obs)?;
        drop(obs);
        let mut records = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(raw.as_slice());
        for record in records.records() {
            csv.write_cells(&record?)?;
        }
        csv.flush()?;
        return Ok(());
    }
    match what {
        ExportKind::Observations => {}
        ExportKind::Links => {
            csv.write_cells(["source", "record_key", "entity_id", "method"])?;
            for (s, k, e, m) in store.links(run).await? {
                csv.write_cells([s, k, e, m])?;
            }
        }
        ExportKind::Master => {
            csv.write_cells([
                "entity_id",
                "name",
                "uscc",
                "uscc_valid",
                "address",
                "industry_code",
                "risk_class",
                "headcount",
                "revenue_wan",
                "size_class",
                "size_estimated",
                "sme_assistance",
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
                let stored: crate::pipeline::StoredEntity = serde_json::from_str(&row.data)?;
                let (m, a, p) = (&stored.record, &stored.assessment, &stored.placement);
                let size = a.size.as_ref();
                csv.write_cells([
                    row.key.clone(),
                    m.name.clone(),
                    m.uscc
                        .as_ref()
                        .map(|u| u.as_str().to_string())
                        .unwrap_or_default(),
                    m.uscc
                        .as_ref()
                        .map(|u| u.is_valid().to_string())
                        .unwrap_or_default(),
                    m.address.clone().unwrap_or_default(),
                    text(&m.industry_code)?,
                    text(&a.risk_class)?,
                    text(&m.headcount)?,
                    text(&m.revenue)?,
                    text(&size.map(|s| s.class))?,
                    text(&size.map(|s| s.estimated))?,
                    a.sme_assistance.to_string(),
                    a.operating.to_string(),
                    text(&a.filing)?,
                    text(&m.last_filed)?,
                    row.township_code.as_deref().unwrap_or_default().to_string(),
                    text(&p.method)?,
                    (!a.rule_ids.is_empty()).to_string(),
                    m.feeds
                        .iter()
                        .map(text)
                        .collect::<Result<Vec<_>, _>>()?
                        .join("|"),
                    m.members.to_string(),
                ])?;
            }
        }
    }
    csv.flush()?;
    Ok(())
}

/// A stored value as the master export writes it: its JSON text, unquoted; empty for none.
fn text<T: serde::Serialize>(x: &T) -> Result<String, serde_json::Error> {
    Ok(match serde_json::to_value(x)? {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    })
}

/// `yingbao sources`: each configured source's last snapshot and the age of its last good one.
pub async fn sources(config: &std::path::Path) -> Result<std::process::ExitCode> {
    let cfg = super::load(config)?;
    let store = super::open_store(&cfg).await?;
    let now = chrono::Utc::now().naive_utc();
    println!(
        "{:<12} {:<12} {:<8} {:>9} {:<20} {:>9} {:<20} {:>8}",
        "source",
        "feed",
        "last",
        "records",
        "taken at (UTC)",
        "good recs",
        "last good (UTC)",
        "age"
    );
    let mut stale = 0;
    for c in &cfg.connectors {
        let last = store.latest_snapshot(&c.id, false).await?;
        let good = store.latest_snapshot(&c.id, true).await?;
        let age = good
            .as_ref()
            .and_then(|g| chrono::DateTime::parse_from_rfc3339(&g.taken_at).ok())
            .map(|t| {
                let t = t.naive_utc();
                let d = now - t;
                if d.num_days() > 0 {
                    format!("{}d", d.num_days())
                } else {
                    format!("{}h", d.num_hours())
                }
            })
            .unwrap_or_else(|| "-".into());
        let status = match (&last, c.enabled) {
            (_, false) => "disabled",
            (Some(l), _) => l.status.as_str(),
            (None, _) => "never",
        };
        let trusted = last
            .as_ref()
            .is_some_and(|l| l.status == crate::store::SnapshotStatus::Good);
        if c.enabled && !trusted {
            stale += 1;
        }
        println!(
            "{:<12} {:<12} {:<8} {:>9} {:<20} {:>9} {:<20} {:>8}",
            c.id,
            c.feed.as_str(),
            status,
            last.as_ref().map_or(0, |l| l.records),
            last.as_ref()
                .map_or("-".into(), |l| short_time(&l.taken_at)),
            good.as_ref().map_or(0, |g| g.records),
            good.as_ref()
                .map_or("-".into(), |g| short_time(&g.taken_at)),
            age
        );
        println!("             from {}", c.location());
        if let Some(l) = &last {
            if let Some(note) = l.note.as_deref() {
                let mark = if l.status == SnapshotStatus::Good {
                    "·"
                } else {
                    "!"
                };
                println!("             {mark} {note}");
            }
        }
    }
    if stale > 0 {
        println!("{stale} source(s) are not fresh: their last good snapshot is used, and a stale declaration register stops township lists");
    }
    Ok(std::process::ExitCode::SUCCESS)
}

/// `2026-12-01T13:44:29.123+00:00` → `2026-12-01 13:44:29`.
fn short_time(rfc3339: &str) -> String {
    rfc3339.get(..19).unwrap_or(rfc3339).replace('T', " ")
}
