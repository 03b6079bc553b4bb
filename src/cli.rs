//! The command line: parses arguments (clap), sets up logging, and calls the library.
//! Errors are reported here with their whole context chain; nothing below prints.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use chrono::NaiveDate;
use clap::{Parser, Subcommand, ValueEnum};

use crate::config::{self, Config};
use crate::eval::{evaluate, RunView, Truth};
use crate::gen::{generate, GenOptions};
use crate::pipeline::{self, peak_mib, RunSummary};
use crate::store::Store;

#[derive(Parser, Debug)]
#[command(
    name = "yingbao",
    version,
    about = "应报: find employers that should file an occupational-hazard declaration and have not"
)]
pub struct Cli {
    /// The main configuration file.
    #[arg(long, global = true, default_value = "config/yingbao.toml")]
    pub config: PathBuf,
    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Human)]
    pub log_format: LogFormat,
    /// More log lines (-v info, -vv debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum LogFormat {
    Human,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the whole job once: ingest, resolve, screen, place, write township lists.
    Run {
        /// Print the summary as JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Check the configuration and connector files; list every problem; change nothing.
    Check,
    /// Write a synthetic county's six feeds and ground truth.
    Gen {
        #[arg(long, default_value_t = 600)]
        employers: usize,
        #[arg(long, default_value_t = 2025)]
        seed: u64,
        /// The export date of the synthetic feeds.
        #[arg(long, default_value = "2025-06-30")]
        as_of: NaiveDate,
        #[arg(long, default_value = "connectors/sample")]
        out: PathBuf,
        /// Folder holding <county>_townships.csv and <county>_villages.csv.
        #[arg(long, default_value = "config/gazetteer")]
        gazetteer: PathBuf,
    },
    /// Export the master list or the record → entity links of a run as CSV.
    Export {
        #[arg(value_enum)]
        what: ExportKind,
        /// Run id (default: the newest succeeded run).
        #[arg(long)]
        run: Option<i64>,
        /// Output file (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Resolve observations from a CSV (`export observations`) and write links; prints time
    /// and peak memory. For comparing the matcher with other record-linkage tools.
    ResolveCsv {
        #[arg(long)]
        observations: PathBuf,
        #[arg(long)]
        out: PathBuf,
        /// Also write every scored merge and review pair as JSON lines.
        #[arg(long)]
        evidence: Option<PathBuf>,
        /// A generator's truth/records.csv: report how many true pairs blocking kept.
        #[arg(long)]
        truth: Option<PathBuf>,
    },
    /// List record pairs the matcher was unsure about, or record an operator's decision.
    Review {
        #[command(subcommand)]
        action: Option<ReviewAction>,
        /// Run id (default: the newest succeeded run).
        #[arg(long)]
        run: Option<i64>,
        /// Show at most this many pairs.
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Explain an entity (`E…`) or a record (`source:record_key`): how its records joined,
    /// with each scored pair's per-field weights.
    Explain {
        target: String,
        #[arg(long)]
        run: Option<i64>,
    },
    /// Link two lists with the matching engine (e.g. a township's finds against the master
    /// list), as described by a comparison spec in TOML; writes one line per left record.
    Link {
        spec: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
    /// Score a run against a generator's ground truth (lead precision/recall, placement).
    Eval {
        #[arg(long, default_value = "connectors/sample/truth")]
        truth: PathBuf,
        #[arg(long)]
        run: Option<i64>,
    },
    /// Generate a county of the given size in a temporary project and time every stage.
    Bench {
        #[arg(long, default_value_t = 200_000)]
        employers: usize,
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Keep the generated project here instead of a temporary folder.
        #[arg(long)]
        keep: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
pub enum ReviewAction {
    /// Decide a review pair (by its number in `yingbao review`); binds every later run.
    Decide {
        pair: i64,
        #[arg(value_enum)]
        decision: Decision,
        /// Who decided (kept with the decision).
        #[arg(long)]
        by: String,
        #[arg(long)]
        note: Option<String>,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Decision {
    Same,
    Different,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ExportKind {
    Master,
    Links,
    /// The observations a run read (identity fields), for benchmarks.
    Observations,
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    // Piped into `head` or `less`, stop quietly when the reader goes away, like other tools.
    #[cfg(unix)]
    // SAFETY: restoring the default SIGPIPE action before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    init_logging(&cli);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(dispatch(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(cli: &Cli) {
    let default = match cli.verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("YINGBAO_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match cli.log_format {
        LogFormat::Human => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

async fn dispatch(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Check => Ok(check(&cli.config)),
        Command::Run { json } => {
            let cfg = load(&cli.config)?;
            let store = open_store(&cfg).await?;
            let summary = pipeline::run(&cfg, &store)
                .await
                .context("the run failed")?;
            let quarantine = store.quarantine_counts(summary.run_id).await?;
            store.close().await;
            if json {
                println!("{}", serde_json::to_string_pretty(&summary)?);
            } else {
                print_summary(&cfg, &summary, &quarantine);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Gen {
            employers,
            seed,
            as_of,
            out,
            gazetteer,
        } => {
            let started = Instant::now();
            let summary = generate(&GenOptions {
                employers,
                seed,
                out: out.clone(),
                as_of,
                gazetteer_dir: gazetteer,
            })
            .context("generation failed")?;
            println!(
                "generated {} employers into {} in {:.1} s",
                summary.employers,
                out.display(),
                started.elapsed().as_secs_f64()
            );
            for (feed, rows) in &summary.rows_per_feed {
                println!("  {feed:<12} {rows:>9} rows");
            }
            println!("  ground truth in {}", out.join("truth").display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Export { what, run, out } => {
            let cfg = load(&cli.config)?;
            let store = open_store(&cfg).await?;
            let run = resolve_run(&store, run).await?;
            let mut w: Box<dyn Write> = match &out {
                Some(p) => Box::new(
                    std::fs::File::create(p)
                        .with_context(|| format!("cannot create {}", p.display()))?,
                ),
                None => Box::new(std::io::stdout().lock()),
            };
            export(&store, run, what, &mut w).await?;
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Eval { truth, run } => {
            let cfg = load(&cli.config)?;
            let store = open_store(&cfg).await?;
            let run = resolve_run(&store, run).await?;
            let report = eval_run(&cfg, &store, run, &cfg.path(&truth)).await?;
            store.close().await;
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::ResolveCsv {
            observations,
            out,
            evidence,
            truth,
        } => {
            let cfg = load(&cli.config)?;
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

            let mut w = csv::Writer::from_path(&out)?;
            w.write_record(["source", "record_key", "entity_id", "method"])?;
            for l in &resolution.links {
                w.write_record([&l.source, &l.record_key, &l.entity_id, l.method.as_str()])?;
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
                ] {
                    for e in list {
                        let line = serde_json::json!({ "decision": kind, "pair": e });
                        writeln!(f, "{line}")?;
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Review { action, run, limit } => {
            let cfg = load(&cli.config)?;
            let store = open_store(&cfg).await?;
            let run = resolve_run(&store, run).await?;
            match action {
                None => {
                    let decided = store.overrides().await?;
                    let pairs = store.pairs(run, Some("review"), None).await?;
                    let open: Vec<_> = pairs
                        .iter()
                        .filter(|(_, _, e)| {
                            let (a, b) = (
                                (e.source.clone(), e.record_key.clone()),
                                (e.other_source.clone(), e.other_key.clone()),
                            );
                            !decided
                                .iter()
                                .any(|o| (o.a == a && o.b == b) || (o.a == b && o.b == a))
                        })
                        .collect();
                    println!("run {run}: {} pair(s) waiting for a decision", open.len());
                    for (id, _, e) in open.iter().take(limit) {
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
                        o.a.0, o.a.1, o.b.0, o.b.1,
                        if o.same { "the same employer" } else { "different employers" }
                    );
                }
            }
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Explain { target, run } => {
            let cfg = load(&cli.config)?;
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
                    for (_, decision, e) in
                        store.pairs(run, Some("merge"), Some((source, key))).await?
                    {
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
                    (s == &e.source && k == &e.record_key)
                        || (s == &e.other_source && k == &e.other_key)
                })
            }) {
                println!("review pair #{id} (not merged):");
                print!("{}", crate::resolve::explain::waterfall(e));
            }
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Link { spec, out } => {
            let cfg = load(&cli.config)?;
            let text = std::fs::read_to_string(&spec)
                .with_context(|| format!("cannot read {}", spec.display()))?;
            let loaded = crate::config::spanned::load_typed::<crate::config::link_spec::LinkSpec>(
                &spec, &text,
            );
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
                        let m: crate::resolve::MasterRecord =
                            serde_json::from_value(v["record"].clone())?;
                        obs.push(crate::domain::Observation {
                            source: "master".into(),
                            record_key: m.entity_id.clone(),
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
            let mut w = csv::Writer::from_path(&out)?;
            w.write_record([
                "left_key",
                "left_name",
                "decision",
                "probability",
                "right_key",
                "right_name",
                "evidence",
            ])?;
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
                            .map(|f| format!("{} {:+.1}", f.field.as_str(), f.weight))
                            .collect::<Vec<_>>()
                            .join("; "),
                    ),
                    None => Default::default(),
                };
                let name = r.best.as_ref().map(|e| e.name.clone()).unwrap_or_default();
                w.write_record([r.left_key.as_str(), &name, r.decision, &p, &rk, &rn, &ev])?;
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
        Command::Bench {
            employers,
            seed,
            keep,
        } => bench(&cli.config, employers, seed, keep).await,
    }
}

fn check(config_file: &Path) -> ExitCode {
    match config::load(config_file) {
        Ok(cfg) => {
            println!("configuration OK: {}", cfg.config_file.display());
            println!(
                "  county {} {} ({} townships, {} villages, {} aliases)",
                cfg.settings.county.code,
                cfg.settings.county.name,
                cfg.gazetteer.townships.len(),
                cfg.gazetteer.villages.len(),
                cfg.gazetteer.aliases.len()
            );
            println!("  risk catalogue: {} codes", cfg.catalogue.len());
            for c in &cfg.connectors {
                println!(
                    "  connector {:<12} feed {:<12} {}{}",
                    c.id,
                    c.feed.as_str(),
                    c.file.path.display(),
                    if c.enabled { "" } else { " (disabled)" }
                );
            }
            for w in cfg.warnings() {
                println!("  warning: {w}");
            }
            match cfg.settings.policy.as_of {
                Some(d) => println!("  note: policy.as_of = {d} is set; screening will not follow the calendar (remove it for live feeds)"),
                None => println!("  screening date: today in {}", cfg.settings.county.timezone),
            }
            ExitCode::SUCCESS
        }
        Err(problems) => {
            for p in &problems {
                eprintln!("{p}");
            }
            eprintln!("{} problem(s) found; nothing was changed", problems.len());
            ExitCode::from(2)
        }
    }
}

fn load(config_file: &Path) -> Result<Config> {
    config::load(config_file).map_err(|problems| {
        let list: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        anyhow::anyhow!(
            "the configuration has {} problem(s):\n{}\n(run `yingbao check` after fixing them)",
            problems.len(),
            list.join("\n")
        )
    })
}

async fn open_store(cfg: &Config) -> Result<Store> {
    let url = cfg.database_url();
    Store::open(&url)
        .await
        .with_context(|| format!("cannot open the database ({})", redact(&url)))
}

/// A URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let auth = &url[s + 3..at];
            match auth.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

async fn resolve_run(store: &Store, run: Option<i64>) -> Result<i64> {
    match run {
        Some(r) => Ok(r),
        None => match store.last_run().await? {
            Some(r) => Ok(r),
            None => bail!("no succeeded run yet: run `yingbao run` first"),
        },
    }
}

fn print_summary(cfg: &Config, s: &RunSummary, quarantine: &[(String, String, i64)]) {
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

async fn export(store: &Store, run: i64, what: ExportKind, w: &mut dyn Write) -> Result<()> {
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

async fn eval_run(
    cfg: &Config,
    store: &Store,
    run: i64,
    truth_dir: &Path,
) -> Result<crate::eval::EvalReport> {
    let truth = Truth::load(truth_dir).map_err(|p| anyhow::anyhow!("{p}"))?;
    let links = store.links(run).await?;
    let leads: Vec<(String, Option<String>)> = store
        .leads(run)
        .await?
        .into_iter()
        .map(|r| {
            let v: serde_json::Value = serde_json::from_str(&r.data).unwrap_or_default();
            (
                v["entity_id"].as_str().unwrap_or_default().to_string(),
                r.township_code,
            )
        })
        .collect();
    Ok(evaluate(
        &truth,
        &RunView {
            links: &links,
            leads: &leads,
        },
        &cfg.settings.policy,
        &cfg.catalogue,
        pipeline::as_of(cfg),
    ))
}

/// Copies the project's config and connector files into `root`, generates a county into
/// `root/connectors/sample`, runs the pipeline there and prints every stage's figures.
async fn bench(
    config_file: &Path,
    employers: usize,
    seed: u64,
    keep: Option<PathBuf>,
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
    })?;
    let gen_secs = started.elapsed().as_secs_f64();
    println!(
        "bench: {employers} employers, seed {seed}, project {}",
        root.display()
    );
    println!("{:<12} {:>9} {:>10}", "stage", "seconds", "peak MiB");
    println!("{:<12} {:>9.2} {:>10.0}", "gen", gen_secs, peak_mib());
    let cfg = load(&root.join("config/yingbao.toml"))?;
    let store = Store::open(&format!("sqlite://{}", root.join("var/bench.db").display())).await?;
    let total = Instant::now();
    let summary = pipeline::run(&cfg, &store).await?;
    for t in &summary.timings {
        println!("{:<12} {:>9.2} {:>10.0}", t.stage, t.seconds, t.peak_mib);
    }
    println!(
        "{:<12} {:>9.2} {:>10.0}",
        "run total",
        total.elapsed().as_secs_f64(),
        peak_mib()
    );
    let rows: usize = summary.sources.iter().map(|s| s.source_rows).sum();
    let obs: usize = summary.sources.iter().map(|s| s.rows_read).sum();
    println!(
        "source rows {rows}, observations {obs}, entities {}, leads {}",
        summary.entities, summary.leads
    );
    let report = eval_run(
        &cfg,
        &store,
        summary.run_id,
        &root.join("connectors/sample/truth"),
    )
    .await?;
    println!(
        "lead precision {:.4}, recall {:.4} (true leads {}, predicted {}, duplicates {}), placement accuracy {:.4}, unplaced {}",
        report.precision,
        report.recall,
        report.true_leads,
        report.predicted_leads,
        report.duplicate_leads,
        report.placement_accuracy,
        report.unplaced_leads
    );
    println!(
        "matching: pairwise precision {:.4}, recall {:.4}, F1 {:.4}; wrongly merged entities {}, wrongly split employers {}",
        report.pairwise_precision,
        report.pairwise_recall,
        report.pairwise_f1,
        report.impure_entities,
        report.split_employers
    );
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
