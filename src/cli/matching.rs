//! The operator's matching commands: review and decide uncertain pairs, explain an entity,
//! link a list against another, and resolve a CSV of observations for benchmarks.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context, Result};

use super::{load, open_store, resolve_run, Decision, ReviewAction};
use crate::domain::cell_text::SafeCsv;
use crate::eval::Truth;
use crate::pipeline::{self, peak_mib};

pub async fn resolve_csv(
    config: &Path,
    observations: PathBuf,
    out: PathBuf,
    evidence: Option<PathBuf>,
    truth: Option<PathBuf>,
    month_change: Option<f64>,
) -> Result<ExitCode> {
    let cfg = load(config)?;
    let started = Instant::now();
    let file = std::fs::File::open(&observations)
        .with_context(|| format!("cannot open {}", observations.display()))?;
    let obs = crate::ingest::observation_csv::read(std::io::BufReader::new(file))?;
    let read_secs = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let locator = crate::place::Locator::new(&cfg.gazetteer);
    let ctx = pipeline::match_context(&cfg, &locator);
    let opts = crate::resolve::ResolveOptions {
        thresholds: cfg.settings.resolve,
        fusion: cfg.settings.fusion,
        keep_compared: truth.is_some(),
        ..Default::default()
    };
    let resolution = crate::resolve::resolve(&obs, &Default::default(), &ctx, &opts);
    let resolve_secs = started.elapsed().as_secs_f64();
    if let Some(truth) = &truth {
        let t = Truth::load(truth).map_err(|p| anyhow::anyhow!("{p}"))?;
        let b = crate::eval::blocking_recall(&t, &obs, &resolution.compared);
        println!("{}", serde_json::to_string(&b)?);
    }

    let mut w = SafeCsv::from_path(&out)?;
    w.write_cells(["source", "record_key", "entity_id", "method"])?;
    for l in &resolution.links {
        w.write_cells([
            l.source.as_str(),
            l.record_key.as_str(),
            l.entity_id.as_str(),
            l.method.as_str(),
        ])?;
    }
    w.flush()?;
    println!(
        "records {}, entities {}, read {read_secs:.2} s, resolve {resolve_secs:.2} s, peak {:.0} MiB",
        obs.len(),
        resolution.records.len(),
        peak_mib()
    );
    println!("{}", serde_json::to_string(&resolution.stats)?);
    if let Some(path) = evidence {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path)?);
        for (kind, list) in [
            ("merge", &resolution.merges),
            ("review", &resolution.review),
            ("rejected", &resolution.rejected),
        ] {
            for e in list {
                let line = serde_json::json!({ "decision": kind, "pair": e });
                writeln!(f, "{line}")?;
            }
        }
    }
    if let Some(share) = month_change {
        drop(resolution);
        incremental_figures(obs, share, &ctx, &opts);
    }
    Ok(ExitCode::SUCCESS)
}

/// Times an incremental re-resolution after `share` of the records change, against a full
/// resolution of the same month, and prints how far the two agree.
fn incremental_figures(
    obs: Vec<crate::domain::Observation>,
    share: f64,
    ctx: &crate::resolve::MatchContext<'_>,
    opts: &crate::resolve::ResolveOptions,
) {
    use crate::resolve::incremental::Resolver;
    let opts = crate::resolve::ResolveOptions {
        keep_compared: false,
        ..opts.clone()
    };
    let (month, change) = crate::gen::month::next_month(&obs, share, 11);
    let started = Instant::now();
    let mut resolver = Resolver::build(obs, &Default::default(), ctx, &opts);
    let build_secs = started.elapsed().as_secs_f64();
    let previous = resolver.resolution().previous_links();
    let started = Instant::now();
    let (update, stats) = resolver.update(&month, ctx, &opts);
    let update_secs = started.elapsed().as_secs_f64();
    let inc_ids = update.previous_links();
    drop(resolver);
    let started = Instant::now();
    let full = crate::resolve::resolve(&month, &previous, ctx, &opts);
    let full_secs = started.elapsed().as_secs_f64();
    let full_ids = full.previous_links();
    let touched: std::collections::HashSet<&(String, String)> =
        change.changed.iter().chain(&change.added).collect();
    let untouched: Vec<&(String, String)> = inc_ids
        .keys()
        .filter(|k| !touched.contains(k) && previous.contains_key(*k))
        .collect();
    let kept = untouched
        .iter()
        .filter(|k| inc_ids.get(**k) == previous.get(**k))
        .count();
    let same_as_full = inc_ids
        .iter()
        .filter(|(k, v)| full_ids.get(*k) == Some(v))
        .count();
    println!(
        "incremental: {} changed, {} added, {} removed; full resolution (kept in memory) {build_secs:.2} s, update {update_secs:.2} s ({} records re-scored, {} entities rebuilt, {} reused), full re-resolution {full_secs:.2} s, ratio {:.3}",
        stats.changed,
        stats.added,
        stats.removed,
        stats.rescored,
        stats.entities_rebuilt,
        stats.entities_reused,
        update_secs / full_secs.max(1e-9)
    );
    println!(
        "incremental: untouched records keeping their entity id {kept} of {} ({:.4}); records with the same entity id as the full re-resolution {same_as_full} of {} ({:.4}); peak {:.0} MiB",
        untouched.len(),
        kept as f64 / untouched.len().max(1) as f64,
        inc_ids.len(),
        same_as_full as f64 / inc_ids.len().max(1) as f64,
        peak_mib()
    );
}

pub async fn review(
    config: &Path,
    action: Option<ReviewAction>,
    run: Option<i64>,
    limit: usize,
) -> Result<ExitCode> {
    let cfg = load(config)?;
    let store = open_store(&cfg).await?;
    let run = resolve_run(&store, run).await?;
    match action {
        None => {
            let open = store.undecided_pairs(run).await?;
            println!("run {run}: {} pair(s) waiting for a decision", open.len());
            for (id, e) in open.iter().take(limit) {
                println!(
                    "#{id}  {:.1}% likely the same employer",
                    e.probability * 100.0
                );
                print!("{}", crate::resolve::explain::waterfall(e));
            }
            if !open.is_empty() {
                println!("decide with: yingbao review decide <#> same|different --by <your name>");
            }
        }
        Some(ReviewAction::Decide {
            pair,
            decision,
            by,
            note,
        }) => {
            let pairs = store.pairs(run, None, None).await?;
            let Some((_, _, e)) = pairs.iter().find(|(id, _, _)| *id == pair) else {
                bail!("no pair #{pair} in run {run}: list them with `yingbao review`");
            };
            let o = crate::resolve::Override {
                a: (e.source.clone(), e.record_key.clone()),
                b: (e.other_source.clone(), e.other_key.clone()),
                same: matches!(decision, Decision::Same),
            };
            let id = store.add_override(&o, &by, note.as_deref()).await?;
            println!(
                "decision {id} recorded: {}:{} and {}:{} are {} (applies from the next run)",
                o.a.0,
                o.a.1,
                o.b.0,
                o.b.1,
                if o.same {
                    "the same employer"
                } else {
                    "different employers"
                }
            );
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

pub async fn explain(config: &Path, target: String, run: Option<i64>) -> Result<ExitCode> {
    let cfg = load(config)?;
    let store = open_store(&cfg).await?;
    let run = resolve_run(&store, run).await?;
    let links = store.links(run).await?;
    let entity = if target.starts_with('E') && !target.contains(':') {
        target.clone()
    } else {
        let Some((source, key)) = target.split_once(':') else {
            bail!("give an entity id (E…) or a record as source:record_key");
        };
        match links.iter().find(|(s, k, _, _)| s == source && k == key) {
            Some((_, _, e, _)) => e.clone(),
            None => bail!("record {target} is not in run {run}"),
        }
    };
    let members: Vec<_> = links.iter().filter(|(_, _, e, _)| *e == entity).collect();
    if members.is_empty() {
        bail!("entity {entity} is not in run {run}");
    }
    println!("entity {entity} in run {run}: {} record(s)", members.len());
    for (source, key, _, method) in &members {
        println!("- {source}:{key}  joined by {method}");
        if method == "score" || method == "seed" {
            for (_, decision, e) in store.pairs(run, Some("merge"), Some((source, key))).await? {
                if e.source == *source && e.record_key == *key {
                    println!("  {decision}:");
                    print!("{}", crate::resolve::explain::waterfall(&e));
                }
            }
        }
    }
    let review = store.pairs(run, Some("review"), None).await?;
    for (id, _, e) in review.iter().filter(|(_, _, e)| {
        members.iter().any(|(s, k, _, _)| {
            (s == &e.source && k == &e.record_key) || (s == &e.other_source && k == &e.other_key)
        })
    }) {
        println!("review pair #{id} (not merged):");
        print!("{}", crate::resolve::explain::waterfall(e));
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// The header of `yingbao link`'s output.
pub const LINK_HEADERS: [&str; 7] = [
    "左表编号",
    "左表名称",
    "判定",
    "匹配概率",
    "右表编号",
    "右表名称",
    "依据（字段 权重）",
];

/// A link decision as the output shows it (`match`, `review`, `no_match`).
fn decision_zh(decision: &str) -> &str {
    match decision {
        "match" => "同一单位",
        "review" => "待人工核实",
        "no_match" => "未找到",
        other => other,
    }
}

/// A compared field as the output's 依据 shows it.
fn field_zh(field: crate::resolve::compare::Field) -> &'static str {
    use crate::resolve::compare::Field;
    match field {
        Field::Id => "信用代码",
        Field::Name => "名称",
        Field::Address => "地址",
        Field::Industry => "行业",
        Field::LegalRep => "法定代表人",
    }
}

pub async fn link(config: &Path, spec: PathBuf, out: PathBuf) -> Result<ExitCode> {
    let cfg = load(config)?;
    let text = std::fs::read_to_string(&spec)
        .with_context(|| format!("cannot read {}", spec.display()))?;
    let loaded =
        crate::config::spanned::load_typed::<crate::config::link_spec::LinkSpec>(&spec, &text);
    let mut problems: Vec<String> = loaded.problems.iter().map(|p| p.to_string()).collect();
    let Some(link_spec) = loaded.value.filter(|_| problems.is_empty()) else {
        bail!("{}", problems.join("\n"));
    };
    for (side, s) in [("left", &link_spec.left), ("right", &link_spec.right)] {
        for field in s.columns.keys() {
            if !crate::config::link_spec::LINK_FIELDS.contains(&field.as_str()) {
                problems.push(format!(
                    "{}: `{side}.columns.{field}` is not compared (fields: {})",
                    spec.display(),
                    crate::config::link_spec::LINK_FIELDS.join(", ")
                ));
            }
        }
        if s.master == s.path.is_some() {
            problems.push(format!(
                "{}: `{side}` needs either `path` or `master = true`",
                spec.display()
            ));
        }
    }
    if !problems.is_empty() {
        bail!("{}", problems.join("\n"));
    }
    let base = spec.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut sides = Vec::new();
    for (id, s) in [("left", &link_spec.left), ("right", &link_spec.right)] {
        if s.master {
            let store = open_store(&cfg).await?;
            let run = resolve_run(&store, None).await?;
            let mut obs = Vec::new();
            for row in store.entities(run).await? {
                let v: serde_json::Value = serde_json::from_str(&row.data)?;
                let m: crate::resolve::MasterRecord = serde_json::from_value(v["record"].clone())?;
                obs.push(crate::domain::Observation {
                    source: "master".into(),
                    record_key: m.entity_id.to_string(),
                    name: Some(m.name.clone()),
                    uscc: m.uscc.clone(),
                    address: m.address.clone(),
                    industry_code: m.industry_code.clone(),
                    legal_rep: m.legal_rep.clone(),
                    region_code: m.region_code.clone(),
                    ..Default::default()
                });
            }
            store.close().await;
            sides.push(obs);
        } else if let Some(conn) = s.connector(id) {
            let batch = crate::ingest::read_source(&conn, &base)
                .with_context(|| format!("reading the {id} list"))?;
            for r in &batch.rejects {
                eprintln!("{id}: {} row {}: {}", r.file, r.row, r.reason);
            }
            sides.push(batch.observations);
        }
    }
    let (left, right) = (&sides[0], &sides[1]);
    let locator = crate::place::Locator::new(&cfg.gazetteer);
    let ctx = pipeline::match_context(&cfg, &locator);
    let results = crate::resolve::link::link(left, right, &ctx, &link_spec.thresholds);
    // For Excel: UTF-8 with a byte-order mark, Chinese headers and values.
    let mut file =
        std::fs::File::create(&out).with_context(|| format!("cannot create {}", out.display()))?;
    file.write_all(crate::deliver::csv_list::UTF8_BOM)?;
    let mut w = SafeCsv::from_writer(file);
    w.write_cells(LINK_HEADERS)?;
    let mut counts = std::collections::BTreeMap::new();
    for r in &results {
        *counts.entry(r.decision).or_insert(0usize) += 1;
        let (p, rk, rn, ev) = match &r.best {
            Some(e) => (
                format!("{:.4}", e.probability),
                e.other_key.clone(),
                e.other_name.clone(),
                e.fields
                    .iter()
                    .filter(|f| f.level.is_some())
                    .map(|f| format!("{} {:+.1}", field_zh(f.field), f.weight))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            None => Default::default(),
        };
        let name = r.best.as_ref().map(|e| e.name.clone()).unwrap_or_default();
        let decision = decision_zh(r.decision);
        w.write_cells([r.left_key.as_str(), &name, decision, &p, &rk, &rn, &ev])?;
    }
    w.flush()?;
    println!(
        "linked {} left records against {} right records: {:?}; written to {}",
        left.len(),
        right.len(),
        counts,
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}
