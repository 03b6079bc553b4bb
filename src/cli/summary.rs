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
    if s.testing_due > 0 {
        println!(
            "testing due (检测到期提醒): {} employer(s) due, overdue or due soon, in {}",
            s.testing_due,
            s.out_dir
                .join(crate::deliver::testing_list::TESTING_DIR)
                .display()
        );
    }
    if s.preview {
        println!(
            "dry run: lists written to {}; nothing was queued, sent or saved but the snapshots read",
            s.out_dir.display()
        );
    }
    if s.queued_deliveries > 0 {
        println!(
            "deliveries queued: {} (township lists × channels), {} of them 更正版 (corrected versions)",
            s.queued_deliveries, s.corrections
        );
    }
    if s.approval.waits && s.queued_deliveries > 0 {
        println!("the lists wait for approval:");
        for why in &s.approval.reasons {
            println!("  - {why}");
        }
        println!(
            "  look at {} and send them with `yingbao approve {}` (or on the portal's county page)",
            s.out_dir.display(),
            s.run_id
        );
    }
    println!("database: {}", redact(&cfg.database_url()));
}

/// The master export's header: Chinese, for the county's staff opening it in Excel.
pub const MASTER_HEADERS: [&str; 20] = [
    "企业编号",
    "企业名称",
    "统一社会信用代码",
    "信用代码校验",
    "地址",
    "行业代码",
    "风险等级",
    "从业人数",
    "营业收入（万元）",
    "企业规模",
    "规模为估算",
    "帮扶候选",
    "在营",
    "申报状态",
    "最近申报日期",
    "乡镇代码",
    "定位依据",
    "是否线索",
    "数据来源",
    "记录数",
];

pub async fn export(store: &Store, run: i64, what: ExportKind, w: &mut dyn Write) -> Result<()> {
    // The master list is for Excel: UTF-8 with a byte-order mark, so Excel reads the Chinese.
    // The links and observations stay plain: tools and `resolve-csv` read them back.
    if let ExportKind::Master = what {
        w.write_all(crate::deliver::csv_list::UTF8_BOM)?;
    }
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
            csv.write_cells(MASTER_HEADERS)?;
            let yes_no = |b: bool| if b { "是" } else { "否" }.to_string();
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
                        .map(|u| {
                            if u.is_valid() {
                                "通过"
                            } else {
                                "校验位错误"
                            }
                            .to_string()
                        })
                        .unwrap_or_default(),
                    m.address.clone().unwrap_or_default(),
                    text(&m.industry_code)?,
                    a.risk_class
                        .map(|r| r.label_zh())
                        .unwrap_or_default()
                        .to_string(),
                    text(&m.headcount)?,
                    text(&m.revenue)?,
                    size.map(|s| s.class.label_zh())
                        .unwrap_or_default()
                        .to_string(),
                    size.map(|s| yes_no(s.estimated)).unwrap_or_default(),
                    yes_no(a.sme_assistance),
                    yes_no(a.operating),
                    a.filing.label_zh().to_string(),
                    text(&m.last_filed)?,
                    row.township_code.as_deref().unwrap_or_default().to_string(),
                    placement_zh(p.method).to_string(),
                    yes_no(!a.rule_ids.is_empty()),
                    m.feeds
                        .iter()
                        .map(|f| f.label_zh())
                        .collect::<Vec<_>>()
                        .join("、"),
                    m.members.to_string(),
                ])?;
            }
        }
    }
    csv.flush()?;
    Ok(())
}

/// How an employer was placed, as the master export shows it.
fn placement_zh(method: crate::place::PlacementMethod) -> &'static str {
    use crate::place::PlacementMethod as M;
    match method {
        M::RegionCode => "统计区划代码",
        M::TownshipName => "地址中的乡镇名称",
        M::Alias => "地址中的园区/别名",
        M::VillageName => "地址中的村（社区）名称",
        M::TownshipShortName => "地址中的乡镇简称",
        M::VillageShortName => "地址中的村（社区）简称",
        M::Unplaced => "未能定位",
    }
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
    let tz = cfg.timezone();
    println!("{}", super::text::zone_line(tz));
    println!(
        "{:<12} {:<12} {:<8} {:>9} {:<16} {:>9} {:<16} {:>8}",
        "source", "feed", "last", "records", "taken at", "good recs", "last good", "age"
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
            "{:<12} {:<12} {:<8} {:>9} {:<16} {:>9} {:<16} {:>8}",
            c.id,
            c.feed.as_str(),
            status,
            last.as_ref().map_or(0, |l| l.records),
            last.as_ref()
                .map_or("-".into(), |l| super::text::stored_time(tz, &l.taken_at)),
            good.as_ref().map_or(0, |g| g.records),
            good.as_ref()
                .map_or("-".into(), |g| super::text::stored_time(tz, &g.taken_at)),
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
