//! The command line: parses arguments (clap), sets up logging, and calls the library.
//! Errors are reported here with their whole context chain; nothing below prints.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use chrono::NaiveDate;
use clap::{Parser, Subcommand, ValueEnum};

mod accept;
mod accounts;
mod approve;
mod bench;
mod matching;
mod outputs;
mod probe;
mod summary;
mod text;

use crate::config::{self, Config};
use crate::gen::{generate, GenOptions};
use crate::pipeline;
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
    ///
    /// One run (or `serve`) at a time on a project: it holds the lock `var/yingbao.lock`, and
    /// marks runs a process that died left `running` as interrupted.
    #[command(after_help = RUN_EXIT_CODES)]
    Run {
        /// Print the summary as JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Write the lists to `<output>/preview/` and stop there: nothing is queued, sent or
        /// saved but the snapshots read, and no lead moves.
        #[arg(long)]
        dry_run: bool,
    },
    /// Release a run's township lists that wait for approval (`[delivery] approve`), and
    /// send them now unless `[delivery] after_run = false`. Without a run: list what waits.
    Approve {
        /// The run whose lists to send, as `yingbao run` printed it.
        run: Option<i64>,
        /// Who approves (recorded with the approval).
        #[arg(long, default_value = "operator")]
        by: String,
    },
    /// Check the configuration and connector files; list every problem; change nothing.
    Check {
        /// Also reach every enabled source (one page or one row each) and every delivery
        /// channel (folder writable, host resolved and connected, SMTP EHLO); moves no data
        /// and sends nothing.
        #[arg(long)]
        connect: bool,
    },
    /// Run unattended: pull and run on the configured schedules, answer /healthz, /readyz and
    /// /metrics, reload on SIGHUP or a changed config, stop cleanly on SIGTERM.
    Serve,
    /// Build the township and village tables of a county from the china-division CSV files.
    Gazetteer {
        #[command(subcommand)]
        action: GazetteerAction,
    },
    /// Fetch a connector's first records and show each mapped field and every reject with
    /// its reason (for tuning a mapping). Stores nothing.
    Preview {
        /// The connector id (the file name under `connectors/` without `.toml`).
        connector: String,
        /// How many records to fetch and show.
        #[arg(long, default_value_t = 5)]
        rows: usize,
    },
    /// Write a synthetic county's six feeds and ground truth.
    Gen {
        /// How many employers the county has.
        #[arg(long, default_value_t = 600)]
        employers: usize,
        /// The random seed: the same seed writes the same county.
        #[arg(long, default_value_t = 2025)]
        seed: u64,
        /// The export date of the synthetic feeds.
        #[arg(long, default_value = "2025-06-30")]
        as_of: NaiveDate,
        /// Folder the feeds and `truth/` are written to.
        #[arg(long, default_value = "connectors/sample")]
        out: PathBuf,
        /// Folder holding <county>_townships.csv, <county>_villages.csv and (optional)
        /// <county>_neighbours.csv.
        #[arg(long, default_value = "config/gazetteer")]
        gazetteer: PathBuf,
        /// Leave out the phenomena added after the bundled sample was generated (out-of-county
        /// records, dormant shells, superseded tax records, reused names …): reproduces it.
        #[arg(long)]
        no_phenomena: bool,
    },
    /// Export the master list or the record → entity links of a run as CSV.
    Export {
        /// What to export: `master` (the employer list), `links` (record → employer) or
        /// `observations` (the matcher's input).
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
        /// The observations CSV (`yingbao export observations`).
        #[arg(long)]
        observations: PathBuf,
        /// Where the links CSV is written.
        #[arg(long)]
        out: PathBuf,
        /// Also write every scored merge and review pair as JSON lines.
        #[arg(long)]
        evidence: Option<PathBuf>,
        /// A generator's truth/records.csv: report how many true pairs blocking kept.
        #[arg(long)]
        truth: Option<PathBuf>,
        /// Then change this share of the records (e.g. 0.01: a month) and time an
        /// incremental re-resolution against a full one.
        #[arg(long)]
        month_change: Option<f64>,
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
        /// An entity id (`E…`) or a record (`source:record_key`).
        target: String,
        /// Run id (default: the newest succeeded run).
        #[arg(long)]
        run: Option<i64>,
    },
    /// Link two lists with the matching engine (e.g. a township's finds against the master
    /// list), as described by a comparison spec in TOML; writes one line per left record.
    Link {
        /// The comparison spec (TOML; see README, "`yingbao link` spec").
        spec: PathBuf,
        /// Where the result CSV is written.
        #[arg(long)]
        out: PathBuf,
    },
    /// Show every source: where it is read from, its last snapshot (fresh, held or failed,
    /// and why), and how old its last good snapshot is.
    Sources,
    /// Accept a source's held snapshot (a feed that really shrank, a first read smaller than
    /// its `[trust] expected_records`, an export older than the last): the next run uses it.
    Accept {
        /// The connector id, as `yingbao sources` lists it.
        source: String,
    },
    /// Score a run against a generator's ground truth (lead precision/recall, placement).
    Eval {
        /// The generator's `truth/` folder.
        #[arg(long, default_value = "connectors/sample/truth")]
        truth: PathBuf,
        /// Run id (default: the newest succeeded run).
        #[arg(long)]
        run: Option<i64>,
        /// Also write every false and missed lead (employer, kind, entities) to this CSV file.
        #[arg(long)]
        mistakes: Option<PathBuf>,
    },
    /// Send the township lists waiting in the outbox (first attempts and due retries) and
    /// show every delivery's status. Exits 1 when a delivery has been given up.
    Deliver {
        /// Keep going, waiting for each retry, until nothing is pending.
        #[arg(long)]
        wait: bool,
        /// Only show the outbox.
        #[arg(long)]
        status: bool,
        /// Put a delivery that was given up back in the queue (its idempotency key, or
        /// `dead` for every one), with a fresh set of attempts, then deliver.
        #[arg(long, value_name = "KEY")]
        retry: Option<String>,
        /// Send one clearly marked test message (【测试消息】) through this channel now,
        /// past the outbox, and say what was sent where; exits non-zero if it fails.
        #[arg(long, value_name = "CHANNEL", conflicts_with_all = ["wait", "status", "retry"])]
        test: Option<String>,
    },
    /// Townships' replies: record the dispositions in returned Excel lists.
    Feedback {
        #[command(subcommand)]
        action: FeedbackAction,
    },
    /// Write the county's coverage report for a period (per township: in scope, filed, not
    /// filed, coverage, leads opened and closed, dispositions) as Excel plus a chart.
    Report {
        /// `2025Q2`, `2025-06` or `2025`.
        #[arg(long)]
        period: String,
        /// Folder for the files (default: the output folder).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Portal accounts: `user add NAME (--township CODE | --operator) [--can-sign]`,
    /// `user reset NAME`. The password comes from YINGBAO_PASSWORD or standard input.
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// A township's API token for the portal's JSON API (printed once, stored hashed).
    Token {
        #[command(subcommand)]
        action: TokenAction,
    },
    /// Serve the township portal (sign-in, leads, dispositions, uploads, JSON API).
    Portal {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:9480")]
        listen: String,
        /// Send the session cookie only over HTTPS (set when a proxy terminates TLS).
        #[arg(long)]
        secure_cookies: bool,
    },
    /// Generate a county of the given size in a temporary project and time every stage.
    Bench {
        /// How many employers the generated county has.
        #[arg(long, default_value_t = 200_000)]
        employers: usize,
        /// The random seed of the generated county.
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Keep the generated project here instead of a temporary folder.
        #[arg(long)]
        keep: Option<PathBuf>,
        /// Run the job three times more as `serve` would: twice on the unchanged feeds (a
        /// quiet month: leads move from new to open, then nothing moves), then after 1 % of
        /// the CSV rows went away; print each run's stages and the database's growth.
        #[arg(long)]
        rerun: bool,
        /// Run on this PostgreSQL database (`postgres://…`) instead of a SQLite file: the
        /// benchmark uses a schema `yingbao_bench` of its own there, dropped first.
        #[arg(long)]
        postgres: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum UserAction {
    /// Add a portal account; its password comes from YINGBAO_PASSWORD or standard input.
    Add {
        /// The sign-in name.
        username: String,
        /// The township whose leads the account sees.
        #[arg(long)]
        township: Option<String>,
        /// A county operator (sees every township).
        #[arg(long)]
        operator: bool,
        /// The township's leader: may sign dispositions off.
        #[arg(long)]
        can_sign: bool,
        /// The name shown on pages and in the audit log.
        #[arg(long)]
        display: Option<String>,
    },
    /// Set a new password (from YINGBAO_PASSWORD or standard input); signs the account out
    /// everywhere.
    Reset {
        /// The sign-in name.
        username: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum TokenAction {
    /// Make a township's API token; it is printed once and stored only hashed.
    Add {
        /// The township code whose leads the token reads.
        #[arg(long)]
        township: String,
        /// What the token is for (shown in the audit log).
        #[arg(long)]
        label: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum FeedbackAction {
    /// Read returned lead lists (核实情况, 核实人, 核实日期 filled in); wrong rows are listed
    /// with file, row and reason and the rest recorded. Exits 1 if any row was not recorded.
    Import {
        /// The returned Excel lists.
        files: Vec<PathBuf>,
        /// The township leader who signed the reply off.
        #[arg(long)]
        signer: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum ReviewAction {
    /// Decide a review pair (by its number in `yingbao review`); binds every later run.
    Decide {
        /// The pair's number as `yingbao review` shows it.
        pair: i64,
        /// `same` (one employer) or `different` (never joined).
        #[arg(value_enum)]
        decision: Decision,
        /// Who decided (kept with the decision).
        #[arg(long)]
        by: String,
        /// Why (kept with the decision).
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
    /// The master list: one line per employer, with its size class.
    Master,
    /// One line per source record: connector, record key, entity id, how it joined.
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
    // usvg notes every zero-width bar of the coverage chart (a township at 0 %) as a warning;
    // those are drawn as intended and say nothing an operator could act on.
    let default = match cli.verbose {
        0 => "warn,usvg=error",
        1 => "info,usvg=error",
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
        Command::Check { connect } => {
            let code = check(&cli.config);
            if !connect || code != ExitCode::SUCCESS {
                return Ok(code);
            }
            let cfg = load(&cli.config)?;
            Ok(probe::connect_all(&cfg).await)
        }
        Command::Serve => {
            crate::daemon::service::serve(&cli.config).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Gazetteer {
            action: GazetteerAction::Import { from, county, out },
        } => gazetteer_import(&cli.config, &from, &county, out),
        Command::Preview { connector, rows } => probe::preview(&cli.config, &connector, rows).await,
        Command::Run { json, dry_run } => run_once(&cli.config, json, dry_run).await,
        Command::Approve { run, by } => approve::approve(&cli.config, run, &by).await,
        Command::Gen {
            employers,
            seed,
            as_of,
            out,
            gazetteer,
            no_phenomena,
        } => gen(GenOptions {
            employers,
            seed,
            out,
            as_of,
            gazetteer_dir: gazetteer,
            phenomena: !no_phenomena,
        }),
        Command::Export { what, run, out } => export(&cli.config, what, run, out).await,
        Command::Deliver {
            wait,
            status,
            retry,
            test,
        } => {
            let cfg = load(&cli.config)?;
            if let Some(channel) = test {
                return outputs::deliver_test(&cfg, &channel).await;
            }
            let store = open_store(&cfg).await?;
            let code = outputs::deliver(&cfg, &store, wait, status, retry.as_deref()).await;
            store.close().await;
            code
        }
        Command::Feedback {
            action: FeedbackAction::Import { files, signer },
        } => {
            let cfg = load(&cli.config)?;
            let store = open_store(&cfg).await?;
            let code = outputs::import_feedback(&cfg, &store, &files, &signer).await;
            store.close().await;
            code
        }
        Command::Report { period, out } => {
            let cfg = load(&cli.config)?;
            let store = open_store(&cfg).await?;
            let code = outputs::report(&cfg, &store, &period, out.as_deref()).await;
            store.close().await;
            code
        }
        Command::User { action } => user(&cli.config, action).await,
        Command::Token {
            action: TokenAction::Add { township, label },
        } => {
            let cfg = load(&cli.config)?;
            let store = open_store(&cfg).await?;
            let code = accounts::add_token(&cfg, &store, &township, &label).await;
            store.close().await;
            code
        }
        Command::Portal {
            listen,
            secure_cookies,
        } => portal(&cli.config, &listen, secure_cookies).await,
        Command::Sources => summary::sources(&cli.config).await,
        Command::Accept { source } => accept::accept(&cli.config, &source).await,
        Command::Eval {
            truth,
            run,
            mistakes,
        } => eval(&cli.config, &truth, run, mistakes.as_deref()).await,
        Command::ResolveCsv {
            observations,
            out,
            evidence,
            truth,
            month_change,
        } => {
            matching::resolve_csv(
                &cli.config,
                observations,
                out,
                evidence,
                truth,
                month_change,
            )
            .await
        }
        Command::Review { action, run, limit } => {
            matching::review(&cli.config, action, run, limit).await
        }
        Command::Explain { target, run } => matching::explain(&cli.config, target, run).await,
        Command::Link { spec, out } => matching::link(&cli.config, spec, out).await,
        Command::Bench {
            employers,
            seed,
            keep,
            rerun,
            postgres,
        } => bench::bench(&cli.config, employers, seed, keep, rerun, postgres).await,
    }
}

/// `yingbao run`'s exit status when the township lists were not written (README.md).
const EXIT_LISTS_NOT_WRITTEN: u8 = 3;
/// `yingbao run`'s exit status when a feed failed or was held but lists were written.
const EXIT_FEED_STALE: u8 = 4;

/// `yingbao run --help`'s last lines; README.md has the same table.
const RUN_EXIT_CODES: &str = "\
Exit status:
  0  every source fresh; the township lists written
  1  the run did not happen or failed; the message says why (the configuration, the
     database, another yingbao holding var/yingbao.lock ...)
  3  no township list written: the declaration register is not fresh (its feed failed
     or was held) or has no snapshot at all
  4  township lists written, but a feed failed, was held or has no snapshot: its last
     good snapshot was used (`yingbao sources` says why)";

/// The exit status of a run that finished.
fn run_exit_status(outcome: pipeline::RunOutcome) -> u8 {
    match outcome {
        pipeline::RunOutcome::Clean => 0,
        pipeline::RunOutcome::FeedStale => EXIT_FEED_STALE,
        pipeline::RunOutcome::ListsNotWritten => EXIT_LISTS_NOT_WRITTEN,
    }
}

/// `yingbao run`: the whole job once, then delivery when `[delivery] after_run` says so.
/// Exits as [`RUN_EXIT_CODES`] says.
async fn run_once(config: &Path, json: bool, dry_run: bool) -> Result<ExitCode> {
    let cfg = load(config)?;
    // Held until this returns: no `serve` or other run works on the project meanwhile.
    let lock = crate::daemon::lock::ProjectLock::acquire(&cfg.root)?;
    let store = open_store(&cfg).await?;
    for r in lock.mark_interrupted(&store).await? {
        eprintln!(
            "note: run {} (started {} {}) was left running by a process that stopped: marked interrupted",
            r.id,
            text::stored_time(cfg.timezone(), &r.started_at),
            cfg.timezone()
        );
    }
    let summary = run_with_progress(&cfg, &store, dry_run)
        .await
        .context("the run failed")?;
    let quarantine = store.quarantine_counts(summary.run_id).await?;
    let delivered = if cfg.settings.delivery.after_run && !dry_run {
        Some(
            crate::deliver::outbox::deliver_due(&cfg.channels, &store, &crate::ingest::process_env)
                .await
                .context("delivery failed")?,
        )
    } else {
        None
    };
    store.close().await;
    if json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        summary::print_summary(&cfg, &summary, &quarantine);
        if let Some(d) = delivered {
            println!(
                "deliveries: {} delivered, {} to retry, {} given up (see `yingbao deliver --status`)",
                d.delivered, d.retried, d.dead
            );
        }
    }
    let status = run_exit_status(summary.outcome());
    match summary.outcome() {
        pipeline::RunOutcome::Clean => {}
        pipeline::RunOutcome::FeedStale => eprintln!(
            "exit {status}: a feed failed or was held; the lists use its last good snapshot (see `yingbao sources`)"
        ),
        pipeline::RunOutcome::ListsNotWritten => eprintln!(
            "exit {status}: no township list was written: {}",
            summary
                .push_blocked
                .as_deref()
                .unwrap_or("the declaration register has no usable snapshot")
        ),
    }
    drop(lock);
    Ok(ExitCode::from(status))
}

/// `yingbao gen`: a synthetic county with its ground truth.
fn gen(opts: GenOptions) -> Result<ExitCode> {
    let started = Instant::now();
    let summary = generate(&opts).context("generation failed")?;
    println!(
        "generated {} employers into {} in {:.1} s",
        summary.employers,
        opts.out.display(),
        started.elapsed().as_secs_f64()
    );
    for (feed, rows) in &summary.rows_per_feed {
        println!("  {feed:<12} {rows:>9} rows");
    }
    println!("  ground truth in {}", opts.out.join("truth").display());
    Ok(ExitCode::SUCCESS)
}

/// `yingbao export`: one run's results as CSV, to a file or stdout.
async fn export(
    config: &Path,
    what: ExportKind,
    run: Option<i64>,
    out: Option<PathBuf>,
) -> Result<ExitCode> {
    let cfg = load(config)?;
    let store = open_store(&cfg).await?;
    let run = resolve_run(&store, run).await?;
    let mut w: Box<dyn Write> = match &out {
        Some(p) => Box::new(
            std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    summary::export(&store, run, what, &mut w).await?;
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// `yingbao user add|reset`.
async fn user(config: &Path, action: UserAction) -> Result<ExitCode> {
    let cfg = load(config)?;
    let store = open_store(&cfg).await?;
    let code = match action {
        UserAction::Add {
            username,
            township,
            operator,
            can_sign,
            display,
        } => {
            accounts::add_user(
                &cfg,
                &store,
                &username,
                display.as_deref(),
                township.as_deref(),
                operator,
                can_sign,
            )
            .await
        }
        UserAction::Reset { username } => accounts::reset_user(&store, &username).await,
    };
    store.close().await;
    code
}

/// `yingbao portal`: the township portal alone, until stopped.
async fn portal(config: &Path, listen: &str, secure_cookies: bool) -> Result<ExitCode> {
    let cfg = load(config)?;
    let store = open_store(&cfg).await?;
    let addr: std::net::SocketAddr = listen
        .parse()
        .with_context(|| format!("`{listen}` is not an address like 127.0.0.1:9480"))?;
    let state = crate::portal::PortalState::new(std::sync::Arc::new(cfg), store, secure_cookies);
    println!("portal: http://{addr}/");
    crate::portal::serve(state, addr)
        .await
        .with_context(|| format!("cannot serve the portal on {addr}"))?;
    Ok(ExitCode::SUCCESS)
}

/// `yingbao eval`: a run scored against a generated county's ground truth.
async fn eval(
    config: &Path,
    truth: &Path,
    run: Option<i64>,
    mistakes: Option<&Path>,
) -> Result<ExitCode> {
    let cfg = load(config)?;
    let store = open_store(&cfg).await?;
    let run = resolve_run(&store, run).await?;
    let report = bench::eval_run(&cfg, &store, run, &cfg.path(truth)).await?;
    store.close().await;
    if let Some(path) = mistakes {
        bench::write_mistakes(path, &report.mistakes)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(ExitCode::SUCCESS)
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
                    c.location(),
                    if c.enabled { "" } else { " (disabled)" }
                );
            }
            for w in cfg.warnings() {
                println!("  warning: {w}");
            }
            // The local files, opened as far as their headers: sheets, columns, encodings.
            let misfits = file_misfits(&cfg);
            for p in &misfits {
                eprintln!("{p}");
            }
            for c in &cfg.settings.delivery.channel {
                let serves = if c.townships.is_empty() {
                    "operator alerts only".to_string()
                } else {
                    c.townships.join(", ")
                };
                println!(
                    "  channel {:<14} {:<9} for {serves}; {} attempts, backoff {}–{} s",
                    c.id, c.kind, c.max_attempts, c.backoff_secs, c.max_backoff_secs
                );
            }
            let tz = cfg.timezone();
            if !cfg.jobs.is_empty() {
                println!("  {}", text::zone_line(tz));
            }
            for job in &cfg.jobs {
                let next: Vec<String> = job
                    .schedule
                    .upcoming(chrono::Utc::now(), 3)
                    .iter()
                    .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                    .collect();
                println!(
                    "  serve: {:<16} `{}` next {}",
                    job.name(),
                    job.line,
                    next.join(", ")
                );
            }
            match cfg.settings.policy.as_of {
                Some(d) => println!("  note: policy.as_of = {d} is set; screening will not follow the calendar (remove it for live feeds)"),
                None => println!("  screening date: today in {}", cfg.settings.county.timezone),
            }
            // The secrets the configuration names: a run would fail where they are missing.
            let unset = config::secrets::unset_variables(&cfg, &|k| std::env::var(k).ok());
            for p in &unset {
                eprintln!("{p}");
            }
            if misfits.is_empty() && unset.is_empty() {
                ExitCode::SUCCESS
            } else {
                eprintln!(
                    "{} problem(s) found in how connectors fit their files and {} unset environment variable(s); nothing was changed",
                    misfits.len(),
                    unset.len()
                );
                ExitCode::from(2)
            }
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

/// Every enabled file connector against its local files (headers only), as problems with
/// the connector file's line and key.
fn file_misfits(cfg: &Config) -> Vec<config::Problem> {
    let mut out = Vec::new();
    for c in cfg.connectors.iter().filter(|c| c.enabled) {
        if c.is_remote() {
            continue;
        }
        let toml = cfg.root.join("connectors").join(format!("{}.toml", c.id));
        let text = std::fs::read_to_string(&toml).unwrap_or_default();
        for m in crate::ingest::fit::check(c, &cfg.root) {
            let line = m.needle.as_deref().and_then(|n| {
                text.lines()
                    .position(|l| l.contains(&format!("\"{n}\"")) || l.trim_start().starts_with(n))
                    .map(|i| i + 1)
            });
            let shown = m.path.strip_prefix(&cfg.root).unwrap_or(&m.path);
            out.push(
                config::Problem::new(&toml, format!("{}: {}", shown.display(), m.message))
                    .at(line)
                    .key(m.key),
            );
        }
    }
    out
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

/// `yingbao run`: a progress line on a terminal; otherwise the log lines say the same.
async fn run_with_progress(
    cfg: &Config,
    store: &Store,
    dry_run: bool,
) -> Result<pipeline::RunSummary> {
    use std::io::IsTerminal;
    let terminal = std::io::stderr().is_terminal();
    let bar = indicatif::ProgressBar::new_spinner();
    if terminal {
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
    }
    let shown = bar.clone();
    let report = move |step: &str| {
        if terminal {
            shown.set_message(step.to_string())
        }
    };
    let result = if dry_run {
        pipeline::run_preview(cfg, store, &report).await
    } else {
        pipeline::run_observed(cfg, store, pipeline::Sources::Read, &report).await
    };
    bar.finish_and_clear();
    Ok(result?)
}

#[derive(Subcommand, Debug)]
pub enum GazetteerAction {
    /// Write `<county>_townships.csv` and `<county>_villages.csv` from the china-division
    /// folder (areas.csv, streets.csv, villages*.csv).
    Import {
        /// The china-division folder.
        #[arg(long)]
        from: PathBuf,
        /// The county's 6-digit code, e.g. 350583.
        #[arg(long)]
        county: String,
        /// Where to write (default: `config/gazetteer` of the project).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

fn gazetteer_import(
    config_file: &Path,
    from: &Path,
    county: &str,
    out: Option<PathBuf>,
) -> Result<ExitCode> {
    let tables = crate::place::import::import(from, county)?;
    let out = out.unwrap_or_else(|| config::load::root_of(config_file).join("config/gazetteer"));
    let (towns, villages) = crate::place::import::write(&tables, &out)?;
    let counties = crate::place::import::write_counties(&tables, &out)?;
    println!(
        "{} {}: {} townships, {} villages",
        tables.county.0,
        tables.county.1,
        tables.townships.len(),
        tables.villages.len()
    );
    println!("wrote {}", towns.display());
    println!("wrote {}", villages.display());
    println!(
        "wrote {} ({} counties of China, to recognise addresses of other counties)",
        counties.display(),
        tables.counties.len()
    );
    if tables.villages.is_empty() {
        println!("! no villages for this county in {}/villages*.csv: placement will use township names only", from.display());
    }
    println!("set in config/yingbao.toml under [county]:");
    println!("  code = \"{}\"", tables.county.0);
    println!("  name = \"{}\"", tables.county.1);
    println!(
        "  townships = \"config/gazetteer/{}_townships.csv\"",
        tables.county.0
    );
    println!(
        "  villages = \"config/gazetteer/{}_villages.csv\"",
        tables.county.0
    );
    println!("  counties = \"config/gazetteer/counties.csv\"");
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod help_tests {
    use clap::CommandFactory;

    /// Every command and every argument of every command says what it is for (issue 15):
    /// an operator reads `--help`, not the source.
    #[test]
    fn every_command_and_argument_has_help_text() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in cmd.get_arguments() {
                let id = arg.get_id().as_str();
                if matches!(id, "help" | "version") {
                    continue;
                }
                if arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("{path} {id}"));
                }
            }
            for sub in cmd.get_subcommands() {
                let name = format!("{path} {}", sub.get_name());
                if sub.get_about().is_none() && sub.get_long_about().is_none() {
                    missing.push(name.clone());
                }
                walk(sub, &name, missing);
            }
        }
        let mut missing = Vec::new();
        walk(&super::Cli::command(), "yingbao", &mut missing);
        assert!(missing.is_empty(), "no help text: {missing:#?}");
    }
}
