//! `yingbao serve`: the county server's daemon. Builds the scheduled jobs from the config,
//! runs them one at a time, keeps metrics and readiness, reloads and shuts down on signals.
//!
//! Jobs: `run` (the whole job, `[daemon] run`), `deliver` (the outbox, `[delivery]
//! schedule`) and `pull:<connector>` for every connector with its own `[pull] schedule`.
//! When each job last started is kept in the database, so a run missed while the server was
//! down is caught up once after a restart. SIGHUP, or a changed configuration file, reloads
//! a configuration that passes `check` and keeps the old one otherwise. SIGTERM/SIGINT let the current job finish, then the daemon exits.
//!
//! It holds the project lock while it runs (`daemon::lock`), marks the runs a dead process
//! left `running` as interrupted, rebuilds the project's metrics from the database before the
//! first scrape (`daemon::state`), and tells systemd when it is ready, alive and stopping.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};

use super::lock::ProjectLock;
use super::{state, systemd};
use super::{Job, Metrics, Readiness, Scheduler, SchedulerEvent, SchedulerHandle};
use crate::config::schedules::JobKind;
use crate::config::{self, Config};
use crate::deliver::outbox::deliver_due;
use crate::ingest::process_env;
use crate::pipeline::{self, SourceOutcome, SourceStatus, Sources};
use crate::store::Store;

/// Why the daemon could not start or stopped abnormally.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("the configuration has problems:\n{0}")]
    Config(String),
    #[error("[daemon] listen = `{0}` is not an address like 127.0.0.1:9477")]
    Listen(String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Health(#[from] super::HealthError),
    #[error(transparent)]
    Scheduler(#[from] super::SchedulerError),
    #[error("cannot listen for signals: {0}")]
    Signal(std::io::Error),
    #[error(transparent)]
    Lock(#[from] super::lock::LockError),
}

fn load(config_file: &Path) -> Result<Config, ServeError> {
    config::load(config_file).map_err(|problems| {
        ServeError::Config(
            problems
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join("\n"),
        )
    })
}

/// The jobs a configuration asks for (`Config::jobs`), each with when it last started.
async fn jobs(cfg: &Arc<Config>, store: &Store, metrics: &Metrics) -> Result<Vec<Job>, ServeError> {
    let last = |s: Option<String>| {
        s.and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
            .map(|t| t.with_timezone(&Utc))
    };
    let mut out = Vec::new();
    for js in &cfg.jobs {
        let name = js.name();
        let schedule = js.schedule.clone();
        let job = match &js.kind {
            JobKind::Run => {
                let (c, st, m) = (cfg.clone(), store.clone(), metrics.clone());
                // The last run's resolver, kept between runs (`[daemon] keep_resolver`).
                let warm = Arc::new(tokio::sync::Mutex::new(pipeline::Warm::default()));
                Job::new(name.clone(), schedule, move || {
                    let (c, st, m, warm) = (c.clone(), st.clone(), m.clone(), warm.clone());
                    async move {
                        let result = if c.settings.daemon.keep_resolver {
                            let mut w = warm.lock().await;
                            pipeline::run_warm(&c, &st, Sources::Scheduled, &mut w).await
                        } else {
                            pipeline::run_with(&c, &st, Sources::Scheduled).await
                        };
                        // Succeeded or failed, it is now the last run.
                        if let Err(e) = state::observe_last_run(&st, &m).await {
                            tracing::warn!(error = %e, "cannot read the last run for the metrics");
                        }
                        let summary = result.map_err(|e| e.to_string())?;
                        for o in &summary.sources {
                            // A source with its own pull job was counted when it was pulled.
                            let pulled_alone = c
                                .connectors
                                .iter()
                                .any(|s| s.id == o.source && s.pull.schedule.is_some());
                            if pulled_alone {
                                m.set_source_stale(&o.source, o.status != SourceStatus::Fresh);
                            } else {
                                observe_source(&m, &st, o).await;
                            }
                        }
                        m.set_push_blocked(summary.push_blocked.is_some());
                        if c.settings.delivery.after_run {
                            let d = deliver_due(&c.channels, &st, &process_env)
                                .await
                                .map_err(|e| e.to_string())?;
                            tracing::info!(
                                delivered = d.delivered,
                                retried = d.retried,
                                dead = d.dead,
                                "deliveries after the run"
                            );
                        }
                        tracing::info!(
                            run = summary.run_id,
                            leads = summary.leads,
                            withheld = summary.withheld,
                            push_blocked = summary.push_blocked.as_deref().unwrap_or(""),
                            "run finished"
                        );
                        Ok(())
                    }
                })
            }
            JobKind::Deliver => {
                let (c, st, m) = (cfg.clone(), store.clone(), metrics.clone());
                Job::new(name.clone(), schedule, move || {
                    let (c, st, m) = (c.clone(), st.clone(), m.clone());
                    async move {
                        let d = deliver_due(&c.channels, &st, &process_env)
                            .await
                            .map_err(|e| e.to_string())?;
                        if let Ok(counts) = st.delivery_counts().await {
                            m.set_deliveries(&counts);
                        }
                        if d.delivered + d.retried + d.dead > 0 {
                            tracing::info!(
                                delivered = d.delivered,
                                retried = d.retried,
                                dead = d.dead,
                                alerts = d.alerts,
                                "deliveries"
                            );
                        }
                        match d.dead {
                            0 => Ok(()),
                            n => Err(format!("{n} deliveries given up; the operator was alerted")),
                        }
                    }
                })
            }
            JobKind::Pull(id) => {
                let Some(spec) = cfg.connectors.iter().find(|c| &c.id == id) else {
                    continue;
                };
                metrics.init_source(&spec.id);
                let (c, st, m, sp) = (cfg.clone(), store.clone(), metrics.clone(), spec.clone());
                Job::new(name.clone(), schedule, move || {
                    let (c, st, m, sp) = (c.clone(), st.clone(), m.clone(), sp.clone());
                    async move {
                        let outcome = pipeline::pull(&c, &st, &sp)
                            .await
                            .map_err(|e| e.to_string())?;
                        observe_source(&m, &st, &outcome).await;
                        match outcome.status {
                            SourceStatus::Fresh => Ok(()),
                            _ => Err(format!(
                                "{} {}: {}",
                                sp.id,
                                outcome.status,
                                outcome.note.unwrap_or_default()
                            )),
                        }
                    }
                })
            }
        };
        out.push(job.with_last_run(last(store.job_last_started(&name).await?)));
        metrics.init_job(&name);
    }
    Ok(out)
}

/// Records a source's outcome in the metrics.
async fn observe_source(m: &Metrics, store: &Store, o: &SourceOutcome) {
    m.add_records_read(&o.source, o.rows_read as u64);
    m.add_records_rejected(&o.source, o.quarantined as u64);
    m.set_source_stale(&o.source, o.status != SourceStatus::Fresh);
    if let Ok(Some(good)) = store.last_good_snapshot(&o.source).await {
        if let Ok(t) = DateTime::parse_from_rfc3339(&good.taken_at) {
            m.set_source_last_good(&o.source, t.with_timezone(&Utc));
        }
    }
}

/// The newest modification time among the configuration and connector files.
fn config_stamp(cfg: &Config) -> Option<SystemTime> {
    let mut files: Vec<PathBuf> = vec![cfg.config_file.clone()];
    if let Ok(dir) = std::fs::read_dir(cfg.root.join("connectors")) {
        files.extend(dir.filter_map(|e| e.ok()).map(|e| e.path()));
    }
    files
        .iter()
        .filter_map(|f| std::fs::metadata(f).and_then(|m| m.modified()).ok())
        .max()
}

/// Follows every file under `config/` and the connector files (`connectors/*.toml`):
/// additions, edits and deletions, through the system's file-change notifications (`notify`).
/// Each change is one message; the watcher stops when it is dropped.
fn watch_files(
    root: &Path,
) -> notify::Result<(
    notify::RecommendedWatcher,
    tokio::sync::mpsc::UnboundedReceiver<()>,
)> {
    use notify::{RecursiveMode, Watcher as _};
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let (config, connectors) = (root.join("config"), root.join("connectors"));
    let (config_dir, connector_dir) = (config.clone(), connectors.clone());
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        if event.kind.is_access() {
            return;
        }
        let ours = event.paths.iter().any(|p| {
            p.starts_with(&config_dir)
                || (p.parent() == Some(connector_dir.as_path())
                    && p.extension().is_some_and(|x| x == "toml"))
        });
        if ours {
            let _ = tx.send(());
        }
    })?;
    watcher.watch(&config, RecursiveMode::Recursive)?;
    watcher.watch(&connectors, RecursiveMode::NonRecursive)?;
    Ok((watcher, rx))
}

/// The next file change, or never when files are not watched.
async fn next_change(changes: &mut Option<tokio::sync::mpsc::UnboundedReceiver<()>>) -> Option<()> {
    match changes {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// The next watchdog ping's time, or never when systemd asked for none.
async fn next_ping(watchdog: &mut Option<tokio::time::Interval>) {
    match watchdog {
        Some(interval) => {
            interval.tick().await;
        }
        None => std::future::pending().await,
    }
}

/// What the daemon is told from outside while it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Read the configuration again (SIGHUP); kept only when it passes `check`.
    Reload,
    /// Finish the current job and stop (SIGTERM, SIGINT).
    Stop,
}

/// The sockets the daemon serves on: health and metrics, and the portal when configured.
pub struct Listeners {
    pub health: tokio::net::TcpListener,
    pub portal: Option<tokio::net::TcpListener>,
}

impl Listeners {
    /// Binds `[daemon] listen` and, when set, `[portal] listen`.
    pub async fn bind(cfg: &Config) -> Result<Listeners, ServeError> {
        let bind = |line: &str| {
            let line = line.to_string();
            async move {
                let addr: SocketAddr = line.parse().map_err(|_| ServeError::Listen(line))?;
                tokio::net::TcpListener::bind(addr)
                    .await
                    .map_err(|e| ServeError::Health(super::HealthError::Bind { addr, source: e }))
            }
        };
        let health = bind(&cfg.settings.daemon.listen).await?;
        let portal = match cfg.settings.portal.listen.trim() {
            "" => None,
            line => Some(bind(line).await?),
        };
        Ok(Listeners { health, portal })
    }
}

/// `yingbao serve`: the daemon on its configured sockets until SIGTERM or SIGINT; SIGHUP
/// reloads the configuration.
pub async fn serve(config_file: &Path) -> Result<(), ServeError> {
    use tokio::signal::unix::{signal, SignalKind};

    let cfg = load(config_file)?;
    // Before anything else: a second `serve` (or a `yingbao run` under way) is named, not raced.
    let lock = ProjectLock::acquire(&cfg.root)?;
    let store = Store::open(&cfg.database_url()).await?;
    let listeners = Listeners::bind(&cfg).await?;
    let mut term = signal(SignalKind::terminate()).map_err(ServeError::Signal)?;
    let mut int = signal(SignalKind::interrupt()).map_err(ServeError::Signal)?;
    let mut hup = signal(SignalKind::hangup()).map_err(ServeError::Signal)?;
    let (tx, commands) = tokio::sync::mpsc::channel(4);
    tokio::spawn(async move {
        loop {
            let control = tokio::select! {
                _ = term.recv() => Command::Stop,
                _ = int.recv() => Command::Stop,
                _ = hup.recv() => Command::Reload,
            };
            if tx.send(control).await.is_err() || control == Command::Stop {
                break;
            }
        }
    });
    run_locked(
        lock,
        config_file,
        cfg,
        store,
        listeners,
        commands,
        Arc::new(super::SystemClock),
    )
    .await
}

/// The daemon itself, in-process: serves health, metrics and the portal on `listeners`, runs
/// the configured jobs, reloads `config_file` on `Command::Reload` or when its files change,
/// and returns after `Command::Stop` (or when every sender is gone) once the current job is done.
/// Jobs fire by `clock` (`SystemClock` in `serve`; a test sets the wall time it needs).
///
/// It holds the project lock (`var/yingbao.lock`) until it returns, and refuses to start
/// while another process holds it. At start it marks the runs a dead process left `running`
/// as interrupted and rebuilds the metrics that describe the project from the database.
pub async fn run(
    config_file: &Path,
    cfg: Config,
    store: Store,
    listeners: Listeners,
    commands: tokio::sync::mpsc::Receiver<Command>,
    clock: Arc<dyn super::Clock>,
) -> Result<(), ServeError> {
    let lock = ProjectLock::acquire(&cfg.root)?;
    run_locked(lock, config_file, cfg, store, listeners, commands, clock).await
}

/// [`run`] with the project lock already taken.
async fn run_locked(
    lock: ProjectLock,
    config_file: &Path,
    cfg: Config,
    store: Store,
    listeners: Listeners,
    mut commands: tokio::sync::mpsc::Receiver<Command>,
    clock: Arc<dyn super::Clock>,
) -> Result<(), ServeError> {
    let cfg = Arc::new(cfg);
    let metrics = Metrics::new();
    let readiness = Arc::new(Readiness::new());
    readiness.set_config_loaded(true);
    readiness.set_database(
        store
            .last_run()
            .await
            .map(|_| ())
            .map_err(|e| e.to_string()),
    );
    // No live process runs a job on this project while the lock is ours.
    let interrupted = lock.mark_interrupted(&store).await?;
    metrics.add_interrupted_runs(interrupted.len() as u64);
    // Before the first scrape: the state of the project, not of this new process.
    let restored = state::restore(&cfg, &store, &metrics).await?;
    tracing::info!(
        stale = ?restored.stale,
        push_blocked = restored.push_blocked,
        last_run = ?restored.last_run,
        lock = %lock.path().display(),
        "state read from the database"
    );
    // The jobs (and so their run counters) exist before the first scrape too.
    let first = jobs(&cfg, &store, &metrics).await?;
    let addr = listeners.health.local_addr().ok();
    let (stop_http_tx, stop_http_rx) = tokio::sync::oneshot::channel::<()>();
    let health = super::HealthState::new(metrics.clone(), readiness.clone());
    let http = tokio::spawn(super::serve_on(listeners.health, health, async move {
        let _ = stop_http_rx.await;
    }));
    tracing::info!(?addr, "health and metrics endpoints listening");
    // The township portal, when `[portal] listen` is set. A reload reaches it too (its
    // address and cookie setting take a restart); its data is always the database's.
    let (portal, portal_state) = match listeners.portal {
        None => (None, None),
        Some(listener) => {
            let (task, state) = spawn_portal(listener, &cfg, &store);
            (Some(task), Some(state))
        }
    };

    let now = clock.now();
    let scheduler = Scheduler::new(clock);
    let events = scheduler.subscribe();
    let (handle, controls) = SchedulerHandle::channel();
    for j in &first {
        match j.schedule().upcoming(now, 1).first() {
            Some(t) => tracing::info!(job = j.name(), next = %t, "scheduled"),
            None => tracing::warn!(job = j.name(), "never fires"),
        }
    }
    let runner = tokio::spawn(scheduler.run(first, controls));

    // Every start and finish goes to the metrics and the database.
    let recorder = spawn_recorder(events, store.clone(), metrics.clone());

    let watch = cfg.settings.daemon.watch_secs;
    let mut ticker = tokio::time::interval(Duration::from_secs(watch.max(1)));
    // File-change notifications when the system gives them; else the files' newest mtime is
    // compared on every tick.
    let (_watcher, mut changes) = match watch {
        0 => (None, None),
        _ => match watch_files(&cfg.root) {
            Ok((w, rx)) => (Some(w), Some(rx)),
            Err(e) => {
                tracing::warn!(error = %e, "no file-change notifications; checking modification times every {watch} s");
                (None, None)
            }
        },
    };
    let mut stamp = config_stamp(&cfg);
    let mut current = cfg;
    // systemd (`Type=notify`): ready now; then a watchdog ping from this loop, so a loop
    // that stops turning is restarted.
    let mut watchdog = systemd::watchdog_interval().map(tokio::time::interval);
    systemd::ready(&format!(
        "serving on {}",
        addr.map_or_else(|| "?".to_string(), |a| a.to_string())
    ));
    loop {
        let reload = tokio::select! {
            () = next_ping(&mut watchdog) => {
                systemd::watchdog();
                false
            }
            command = commands.recv() => match command {
                Some(Command::Reload) => {
                    tracing::info!("SIGHUP: reloading the configuration");
                    true
                }
                Some(Command::Stop) | None => break,
            },
            Some(()) = next_change(&mut changes) => {
                // Let a burst of writes (an editor's save, a copied folder) settle: one reload.
                tokio::time::sleep(Duration::from_millis(500)).await;
                if let Some(rx) = changes.as_mut() {
                    while rx.try_recv().is_ok() {}
                }
                tracing::info!("configuration files changed: reloading");
                true
            }
            _ = ticker.tick() => {
                readiness.set_database(store.last_run().await.map(|_| ()).map_err(|e| e.to_string()));
                let now = config_stamp(&current);
                let changed = watch > 0 && changes.is_none() && now != stamp;
                if changed {
                    tracing::info!("configuration files changed: reloading");
                }
                changed
            }
        };
        if !reload {
            continue;
        }
        stamp = config_stamp(&current);
        match reloaded(config_file, &store, &metrics).await {
            Ok((cfg, new_jobs)) => {
                handle.reload(new_jobs)?;
                if let Some(portal) = &portal_state {
                    portal.set_config(cfg.clone());
                }
                tracing::info!("configuration reloaded");
                metrics.set_reload(true, chrono::Utc::now());
                current = cfg;
            }
            Err(e) => {
                metrics.set_reload(false, chrono::Utc::now());
                tracing::error!(error = %e, "new configuration refused; keeping the old one")
            }
        }
    }
    tracing::info!("stopping: the current job (if any) finishes first");
    systemd::stopping();
    readiness.set_shutting_down();
    handle.shutdown()?;
    match runner.await {
        Ok(r) => {
            r?;
        }
        Err(e) => tracing::error!(error = %e, "scheduler task ended abnormally"),
    }
    recorder.abort();
    if let Some(p) = portal {
        p.abort();
    }
    let _ = stop_http_tx.send(());
    if let Ok(Err(e)) = http.await {
        tracing::error!(error = %e, "health endpoint stopped with an error");
    }
    store.close().await;
    // Only now may another process take the project.
    drop(lock);
    tracing::info!("stopped");
    Ok(())
}

/// The township portal on `listener`, and its state (a reload hands it the new configuration).
fn spawn_portal(
    listener: tokio::net::TcpListener,
    cfg: &Arc<Config>,
    store: &Store,
) -> (tokio::task::JoinHandle<()>, crate::portal::PortalState) {
    let state = crate::portal::PortalState::new(
        cfg.clone(),
        store.clone(),
        cfg.settings.portal.secure_cookies,
    );
    tracing::info!(addr = ?listener.local_addr().ok(), "portal listening");
    let serving = state.clone();
    let task = tokio::spawn(async move {
        let app =
            crate::portal::router(serving).into_make_service_with_connect_info::<SocketAddr>();
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "the portal stopped");
        }
    });
    (task, state)
}

/// The configuration read again and its jobs, when it passes `check`.
async fn reloaded(
    config_file: &Path,
    store: &Store,
    metrics: &Metrics,
) -> Result<(Arc<Config>, Vec<Job>), ServeError> {
    let cfg = Arc::new(load(config_file)?);
    let jobs = jobs(&cfg, store, metrics).await?;
    Ok((cfg, jobs))
}

/// Records every start and finish of a job in the metrics and the database.
fn spawn_recorder(
    mut events: tokio::sync::broadcast::Receiver<SchedulerEvent>,
    ev_store: Store,
    ev_metrics: Metrics,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        use tokio::sync::broadcast::error::RecvError;
        loop {
            match events.recv().await {
                Ok(ev) => {
                    ev_metrics.observe(&ev);
                    let saved = match &ev {
                        SchedulerEvent::Started { job, at, reason } => {
                            tracing::info!(job, ?reason, "job started");
                            ev_store.save_job(job, &at.to_rfc3339(), None, None).await
                        }
                        SchedulerEvent::Finished {
                            job,
                            started,
                            ok,
                            error,
                            ..
                        } => {
                            if *ok {
                                tracing::info!(job, "job finished");
                            } else {
                                tracing::error!(
                                    job,
                                    error = error.as_deref().unwrap_or(""),
                                    "job failed"
                                );
                            }
                            let outcome = if *ok { "ok" } else { "failed" };
                            ev_store
                                .save_job(
                                    job,
                                    &started.to_rfc3339(),
                                    Some(outcome),
                                    error.as_deref(),
                                )
                                .await
                        }
                    };
                    if let Err(e) = saved {
                        tracing::error!(error = %e, "cannot record the job in the database");
                    }
                }
                Err(RecvError::Lagged(n)) => tracing::warn!(n, "missed scheduler events"),
                Err(RecvError::Closed) => break,
            }
        }
    })
}
