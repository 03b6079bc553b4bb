//! Measuring: a run scored against a generator's truth, and the benchmark that generates a
//! county in a temporary project and times every stage.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Result;
use chrono::NaiveDate;

use super::load;
use crate::config::{self, Config};
use crate::eval::{evaluate, village_codes, EntityFacts, RunView, Truth};
use crate::gen::{generate, GenOptions};
use crate::pipeline::{self, peak_mib};
use crate::store::Store;

pub async fn eval_run(
    cfg: &Config,
    store: &Store,
    run: i64,
    truth_dir: &Path,
) -> Result<crate::eval::EvalReport> {
    let truth = Truth::load(truth_dir).map_err(|p| anyhow::anyhow!("{p}"))?;
    let links = store.links(run).await?;
    let leads = village_codes(&store.lead_entities(run).await?, &cfg.gazetteer);
    let entities: std::collections::HashMap<String, EntityFacts> = store
        .entities(run)
        .await?
        .into_iter()
        .filter_map(|row| EntityFacts::from_stored(&row.data).map(|f| (row.key, f)))
        .collect();
    Ok(evaluate(
        &truth,
        &RunView {
            links: &links,
            leads: &leads,
            entities: &entities,
        },
        &cfg.settings.policy,
        &cfg.catalogue,
        pipeline::as_of(cfg),
    ))
}

/// Every wrong and missed lead of an evaluation as CSV: what, cause, kind, employer, entities.
pub fn write_mistakes(path: &Path, mistakes: &[crate::eval::Mistake]) -> Result<()> {
    let mut w = crate::domain::cell_text::SafeCsv::from_path(path)?;
    w.write_cells(["what", "cause", "kind", "employer_id", "entity_ids"])?;
    for m in mistakes {
        w.write_cells([
            m.what,
            m.cause,
            m.kind.as_str(),
            m.employer.as_deref().unwrap_or(""),
            m.entities.join(" ").as_str(),
        ])?;
    }
    w.flush()?;
    Ok(())
}

/// The lead figures of an evaluation, for `eval` and `bench`.
fn print_leads(report: &crate::eval::EvalReport) {
    println!(
        "lead precision {:.4}, recall {:.4} (true leads {}, predicted {}, duplicates {}, out of county {}), placement accuracy {:.4}, wrong township {}, unplaced {}, village accuracy {:.4} ({:.4} of placed leads)",
        report.precision,
        report.recall,
        report.true_leads,
        report.predicted_leads,
        report.duplicate_leads,
        report.out_of_county_leads,
        report.placement_accuracy,
        report.wrong_township,
        report.unplaced_leads,
        report.village_accuracy,
        report.village_accuracy_placed
    );
    let by_kind = |m: &std::collections::BTreeMap<String, usize>| {
        m.iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!(
        "false leads by kind: {}; missed leads by kind: {}",
        by_kind(&report.false_positive_by_kind),
        by_kind(&report.false_negative_by_kind)
    );
    println!("mistakes by cause: {}", by_kind(&report.mistakes_by_cause));
}

/// Copies the project's config and connector files into `root`, generates a county into
/// `root/connectors/sample`, runs the pipeline there and prints every stage's figures.
pub async fn bench(
    config_file: &Path,
    employers: usize,
    seed: u64,
    keep: Option<PathBuf>,
    rerun: bool,
    postgres: Option<String>,
) -> Result<ExitCode> {
    let src_root = config::load::root_of(config_file);
    let tmp;
    let root = match keep {
        Some(p) => p,
        None => {
            tmp = tempfile::tempdir()?;
            tmp.path().to_path_buf()
        }
    };
    for sub in ["config", "config/gazetteer", "connectors"] {
        std::fs::create_dir_all(root.join(sub))?;
        for entry in std::fs::read_dir(src_root.join(sub))? {
            let path = entry?.path();
            if path.is_file() {
                std::fs::copy(
                    &path,
                    root.join(sub).join(path.file_name().unwrap_or_default()),
                )?;
            }
        }
    }
    let as_of = config::load(config_file)
        .ok()
        .and_then(|c| c.settings.policy.as_of)
        .unwrap_or_else(|| NaiveDate::from_ymd_opt(2025, 6, 30).unwrap_or_default());
    let started = Instant::now();
    generate(&GenOptions {
        employers,
        seed,
        out: root.join("connectors/sample"),
        as_of,
        gazetteer_dir: root.join("config/gazetteer"),
        phenomena: true,
    })?;
    let gen_secs = started.elapsed().as_secs_f64();
    println!(
        "bench: {employers} employers, seed {seed}, project {}",
        root.display()
    );
    println!("{:<12} {:>9} {:>10}", "stage", "seconds", "peak MiB");
    println!("{:<12} {:>9.2} {:>10.0}", "gen", gen_secs, peak_mib());
    let cfg = load(&root.join("config/yingbao.toml"))?;
    let db = root.join("var/bench.db");
    let store = match &postgres {
        Some(url) => open_bench_schema(url).await?,
        None => Store::open(&format!("sqlite://{}", db.display())).await?,
    };
    let total = Instant::now();
    let summary = pipeline::run(&cfg, &store).await?;
    print_stages(&summary, total.elapsed().as_secs_f64());
    let rows: usize = summary.sources.iter().map(|s| s.source_rows).sum();
    let obs: usize = summary.sources.iter().map(|s| s.rows_read).sum();
    println!(
        "source rows {rows}, observations {obs}, entities {}, leads {}",
        summary.entities, summary.leads
    );
    println!(
        "{:<12} {:<14} {:>9} {:>10} {:>8} {:>8} {:>10}",
        "ingest", "format", "MB", "rows", "seconds", "MB/s", "rows/s"
    );
    for s in &summary.sources {
        let mb = s.bytes as f64 / 1e6;
        let secs = s.read_seconds.max(1e-9);
        println!(
            "{:<12} {:<14} {:>9.1} {:>10} {:>8.2} {:>8.1} {:>10.0}",
            s.source,
            s.format,
            mb,
            s.source_rows,
            s.read_seconds,
            mb / secs,
            s.source_rows as f64 / secs
        );
    }
    let referred: usize = summary.referrals.values().map(|(l, _)| l).sum();
    let referred_records: usize = summary.referrals.values().map(|(_, r)| r).sum();
    println!(
        "held at the county (待核实) {}, referred to other counties {referred} lead(s) from {referred_records} record(s): {}",
        summary.pending,
        summary
            .referrals
            .iter()
            .map(|(c, (l, r))| format!("{c} {l}/{r}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let report = eval_run(
        &cfg,
        &store,
        summary.run_id,
        &root.join("connectors/sample/truth"),
    )
    .await?;
    print_leads(&report);
    println!(
        "matching: pairwise precision {:.4}, recall {:.4}, F1 {:.4}; wrongly merged entities {}, wrongly split employers {}",
        report.pairwise_precision,
        report.pairwise_recall,
        report.pairwise_f1,
        report.impure_entities,
        report.split_employers
    );
    if rerun {
        // The same feeds again, as a quiet month would bring them: once while the leads move
        // from new to open, once more when nothing moves at all. Both as `serve` runs them,
        // keeping the resolver: the first builds it, the second updates it.
        let mut warm = pipeline::Warm::default();
        for (label, change) in [
            (
                "rerun on unchanged feeds (serve: resolves in full, keeps the resolver)",
                false,
            ),
            (
                "second rerun (serve: updates the kept resolver; leads settled)",
                false,
            ),
            (
                "a 1 % month (every 100th row of each CSV feed gone; serve: updates the kept resolver)",
                true,
            ),
        ] {
            if change {
                let gone = drop_every_hundredth_row(&root.join("connectors/sample"))?;
                println!("changed the feeds: {gone} CSV rows removed");
            }
            let before = database_bytes(&store, &db).await?;
            let again = Instant::now();
            let next = pipeline::run_warm(&cfg, &store, pipeline::Sources::Read, &mut warm).await?;
            let after = database_bytes(&store, &db).await?;
            println!("{label}:");
            print_stages(&next, again.elapsed().as_secs_f64());
            if let Some(u) = &next.incremental {
                println!(
                    "incremental: {} unchanged, {} changed, {} added, {} removed records; {} rescored; entities {} reused, {} rebuilt",
                    u.unchanged, u.changed, u.added, u.removed, u.rescored, u.entities_reused, u.entities_rebuilt
                );
            }
            println!(
                "leads {} (first run {}); database {:.0} MB before, {:.0} MB after (+{:.0} MB)",
                next.leads,
                summary.leads,
                before as f64 / 1e6,
                after as f64 / 1e6,
                after.saturating_sub(before) as f64 / 1e6
            );
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// Removes every 100th line of every CSV feed under `dir` after the header (a month in which
/// 1 % of the rows went away); returns how many. No GBK or GB18030 character holds a line-feed
/// byte; a generated row whose quoted cell spans lines may be cut, as a damaged export would be.
fn drop_every_hundredth_row(dir: &Path) -> Result<usize> {
    let mut gone = 0;
    for feed in std::fs::read_dir(dir)? {
        let feed = feed?.path();
        if !feed.is_dir() || feed.ends_with("truth") {
            continue;
        }
        for file in std::fs::read_dir(&feed)? {
            let file = file?.path();
            if file.extension().and_then(|e| e.to_str()) != Some("csv") {
                continue;
            }
            let bytes = std::fs::read(&file)?;
            let mut kept = Vec::with_capacity(bytes.len());
            for (i, line) in bytes.split_inclusive(|&b| b == b'\n').enumerate() {
                if i > 0 && i % 100 == 0 {
                    gone += 1;
                } else {
                    kept.extend_from_slice(line);
                }
            }
            std::fs::write(&file, kept)?;
        }
    }
    Ok(gone)
}

/// A run's stages: seconds and peak memory each, and the whole run's wall time.
fn print_stages(summary: &pipeline::RunSummary, total_secs: f64) {
    for t in &summary.timings {
        println!("{:<12} {:>9.2} {:>10.0}", t.stage, t.seconds, t.peak_mib);
    }
    println!(
        "{:<12} {:>9.2} {:>10.0}",
        "run total",
        total_secs,
        peak_mib()
    );
}

/// The database's size: the SQLite file with its write-ahead log, or the PostgreSQL
/// schema's tables with their indexes and TOAST.
async fn database_bytes(store: &Store, db: &Path) -> Result<u64> {
    Ok(match store {
        Store::Sqlite(_) => {
            let size = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.len());
            size(db) + size(&PathBuf::from(format!("{}-wal", db.display())))
        }
        Store::Postgres(pool) => {
            let sql =
                "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::BIGINT FROM pg_class c \
                       JOIN pg_namespace n ON n.oid = c.relnamespace \
                       WHERE n.nspname = current_schema() AND c.relkind = 'r'";
            let bytes: i64 = sqlx::query_scalar(sql).fetch_one(pool).await?;
            u64::try_from(bytes).unwrap_or(0)
        }
    })
}

/// The benchmark's own schema on the PostgreSQL server at `url`, emptied first.
async fn open_bench_schema(url: &str) -> Result<Store> {
    const SCHEMA: &str = "yingbao_bench";
    let admin = sqlx::PgPool::connect(url).await?;
    sqlx::query(&format!("DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        .execute(&admin)
        .await?;
    sqlx::query(&format!("CREATE SCHEMA {SCHEMA}"))
        .execute(&admin)
        .await?;
    admin.close().await;
    let opts = url
        .parse::<sqlx::postgres::PgConnectOptions>()?
        .options([("search_path", SCHEMA)]);
    Ok(Store::open_postgres(opts).await?)
}
