//! `yingbao serve` as a county server runs it: a real process on the sample project. On first
//! start each job catches up once (never run before), jobs never overlap, /readyz and /metrics
//! answer, a changed config is reloaded only when it passes `check` (and reaches the portal),
//! SIGTERM stops it cleanly, and after a restart nothing is caught up that already ran. The
//! same daemon also runs in-process (`daemon::service::run`) on sockets and commands a test owns,
//! and on a wall clock the test sets, to see a job fire at its minute. A restarted daemon
//! reports the outage its database holds, marks runs a dead process left `running` as
//! interrupted (never a live one: the project lock), and speaks systemd's `sd_notify`.

mod common;

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::Project;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn start(project: &Project, log: &std::path::Path) -> Child {
    let log = std::fs::File::create(log).expect("log file");
    Command::new(env!("CARGO_BIN_EXE_yingbao"))
        .arg("--config")
        .arg(project.config_file())
        .args(["-v", "serve"])
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start yingbao serve")
}

fn read(path: &std::path::Path) -> String {
    let mut s = String::new();
    if let Ok(mut f) = std::fs::File::open(path) {
        let _ = f.read_to_string(&mut s);
    }
    s
}

async fn get(url: &str) -> Option<(u16, String)> {
    let r = reqwest::get(url).await.ok()?;
    let status = r.status().as_u16();
    Some((status, r.text().await.ok()?))
}

/// Waits until `check` holds, up to `secs`.
async fn wait_for(what: &str, secs: u64, mut check: impl AsyncFnMut() -> bool) {
    let until = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < until {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("timed out waiting for {what}");
}

const PASSWORD: &str = "水头镇的密码2026";

/// The portal's lead list as the signed-in `cookie` sees it.
async fn leads_page(http: &reqwest::Client, portal: &str, cookie: &str) -> String {
    let r = http
        .get(format!("{portal}/leads"))
        .header("cookie", cookie)
        .send()
        .await
        .expect("leads page");
    assert_eq!(r.status().as_u16(), 200, "still signed in");
    r.text().await.expect("page")
}

fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(series))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

fn terminate(child: &mut Child) -> std::process::ExitStatus {
    // SAFETY: sending a signal to our own child process.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        assert!(Instant::now() < until, "serve did not stop after SIGTERM");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_catches_up_once_reloads_checked_config_and_stops_cleanly() {
    let project = Project::new();
    let port = free_port();
    let config = project.config_file();
    let text = std::fs::read_to_string(&config).expect("config");
    let text = text
        .replace(
            "listen = \"127.0.0.1:9477\"",
            &format!("listen = \"127.0.0.1:{port}\""),
        )
        .replace("watch_secs = 30", "watch_secs = 1");
    // The portal answers beside the health endpoints.
    let portal_port = free_port();
    let text = text.replace(
        "# listen = \"127.0.0.1:9480\"",
        &format!("listen = \"127.0.0.1:{portal_port}\""),
    );
    assert!(text.contains(&format!("127.0.0.1:{port}")));
    assert!(text.contains(&format!("127.0.0.1:{portal_port}")));
    std::fs::write(&config, text).expect("write config");
    let testing = project.root().join("connectors/testing.toml");
    let connector = std::fs::read_to_string(&testing).expect("testing.toml");
    std::fs::write(
        &testing,
        format!("{connector}\n[pull]\nschedule = \"0 4 * * *\"\n"),
    )
    .expect("write");
    let base = format!("http://127.0.0.1:{port}");
    let log = project.root().join("serve.log");
    // A township account for the portal.
    let added = Command::new(env!("CARGO_BIN_EXE_yingbao"))
        .arg("--config")
        .arg(&config)
        .args(["user", "add", "st", "--township", "350583119"])
        .env("YINGBAO_PASSWORD", PASSWORD)
        .output()
        .expect("user add");
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );

    // 1. First start: never ran before, so each job catches up once.
    let mut child = start(&project, &log);
    wait_for("/readyz", 60, async || {
        matches!(get(&format!("{base}/readyz")).await, Some((200, _)))
    })
    .await;
    assert!(matches!(
        get(&format!("{base}/healthz")).await,
        Some((200, _))
    ));
    let login = get(&format!("http://127.0.0.1:{portal_port}/login")).await;
    assert!(
        matches!(&login, Some((200, page)) if page.contains("登录")),
        "the portal's sign-in page: {login:?}"
    );
    let ok_run = "yingbao_runs_total{job=\"run\",outcome=\"ok\"}";
    let ok_pull = "yingbao_runs_total{job=\"pull:testing\",outcome=\"ok\"}";
    wait_for("both catch-up runs", 180, async || {
        let Some((_, m)) = get(&format!("{base}/metrics")).await else {
            return false;
        };
        metric(&m, ok_run) == Some(1.0) && metric(&m, ok_pull) == Some(1.0)
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (_, m) = get(&format!("{base}/metrics")).await.expect("metrics");
    assert_eq!(
        metric(&m, ok_run),
        Some(1.0),
        "caught up once, not more:\n{m}"
    );
    assert_eq!(metric(&m, ok_pull), Some(1.0), "{m}");
    assert_eq!(metric(&m, "yingbao_run_running"), Some(0.0));
    assert_eq!(metric(&m, "yingbao_push_blocked"), Some(0.0));
    assert_eq!(
        metric(&m, "yingbao_source_stale{source=\"declaration\"}"),
        Some(0.0)
    );
    assert!(metric(&m, "yingbao_records_read_total{source=\"tax\"}").unwrap_or(0.0) > 400.0);
    // The first run on an empty database queued its township lists to wait for the
    // operator's approval: nothing was sent.
    assert!(
        metric(&m, "yingbao_deliveries{status=\"waiting\"}").unwrap_or(0.0) > 20.0,
        "{m}"
    );
    assert_eq!(
        metric(&m, "yingbao_deliveries{status=\"delivered\"}"),
        None,
        "{m}"
    );
    assert_eq!(
        metric(&m, "yingbao_deliveries{status=\"dead\"}"),
        None,
        "{m}"
    );

    // The two jobs never ran at the same time (their runs' intervals are disjoint).
    let store = yingbao::store::Store::open(&project.config().database_url())
        .await
        .expect("store");
    let yingbao::store::Store::Sqlite(pool) = &store else {
        panic!("sqlite")
    };
    let runs: Vec<(String, String)> =
        sqlx::query_as("SELECT started_at, finished_at FROM runs ORDER BY started_at")
            .fetch_all(pool)
            .await
            .expect("runs");
    assert_eq!(runs.len(), 2, "one pull and one run");
    assert!(runs[0].1 <= runs[1].0, "runs overlapped: {runs:?}");

    // 2. A broken change is refused and the old config kept; a good one is reloaded.
    std::fs::write(
        &testing,
        format!("{connector}\n[pull]\nschedule = \"61 * * * *\"\n"),
    )
    .expect("write");
    wait_for("the refusal", 30, async || {
        read(&log).contains("keeping the old one")
    })
    .await;
    // Monitoring sees the refusal, and when it was.
    let (_, m) = get(&format!("{base}/metrics")).await.expect("metrics");
    assert_eq!(
        metric(&m, "yingbao_config_last_reload_success"),
        Some(0.0),
        "{m}"
    );
    assert!(
        metric(&m, "yingbao_config_last_reload_timestamp_seconds").is_some_and(|t| t > 1.7e9),
        "{m}"
    );
    std::fs::write(
        &testing,
        format!("{connector}\n[pull]\nschedule = \"30 5 * * *\"\n"),
    )
    .expect("write");
    wait_for("the reload", 30, async || {
        read(&log).contains("configuration reloaded")
    })
    .await;
    let (_, m) = get(&format!("{base}/metrics")).await.expect("metrics");
    assert_eq!(
        metric(&m, "yingbao_config_last_reload_success"),
        Some(1.0),
        "{m}"
    );
    // A table under config/ is followed too: the risk catalogue, edited, reloads.
    let reloads = || read(&log).matches("configuration reloaded").count();
    let before = reloads();
    let catalogue = project.root().join("config/risk_catalogue.csv");
    let table = std::fs::read_to_string(&catalogue).expect("catalogue");
    std::fs::write(&catalogue, format!("{table}\n")).expect("write catalogue");
    wait_for("the catalogue edit to reload", 30, async || {
        reloads() > before
    })
    .await;
    // The portal follows a reload too: its 逾期 filter takes the new `[portal] overdue_days`.
    let portal = format!("http://127.0.0.1:{portal_port}");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let signed_in = common::site::sign_in(&http, &portal, "st", PASSWORD).await;
    assert_eq!(signed_in.status().as_u16(), 303, "st signs in");
    let cookie = common::site::session_cookie(&signed_in);
    let shows = async |days: u32| {
        leads_page(&http, &portal, &cookie)
            .await
            .contains(&format!("逾期（列入超过{days}天）"))
    };
    assert!(shows(30).await);
    let main = std::fs::read_to_string(&config).expect("config");
    assert!(main.contains("overdue_days = 30"));
    std::fs::write(
        &config,
        main.replace("overdue_days = 30", "overdue_days = 45"),
    )
    .expect("write config");
    wait_for("the portal to follow the reload", 30, async || {
        shows(45).await
    })
    .await;
    // SIGHUP reloads too.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGHUP);
    }
    wait_for("SIGHUP", 30, async || {
        read(&log).contains("SIGHUP: reloading")
    })
    .await;
    let (_, m) = get(&format!("{base}/metrics")).await.expect("metrics");
    assert_eq!(
        metric(&m, ok_run),
        Some(1.0),
        "a reload never runs a job:\n{m}"
    );

    // 3. SIGTERM: a clean stop.
    let status = terminate(&mut child);
    assert!(status.success(), "exit status {status:?}\n{}", read(&log));
    assert!(read(&log).contains("stopped"));

    // 4. Restart: the jobs ran already and no fire time has passed since, so nothing runs.
    let log2 = project.root().join("serve2.log");
    let mut child = start(&project, &log2);
    wait_for("/readyz after restart", 60, async || {
        matches!(get(&format!("{base}/readyz")).await, Some((200, _)))
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (_, m) = get(&format!("{base}/metrics")).await.expect("metrics");
    assert_eq!(
        metric(&m, ok_run),
        Some(0.0),
        "no catch-up after a restart:\n{m}"
    );
    assert_eq!(
        metric(
            &m,
            "yingbao_runs_total{job=\"pull:testing\",outcome=\"ok\"}"
        ),
        Some(0.0)
    );
    let status = terminate(&mut child);
    assert!(status.success());
    let runs: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM runs")
        .fetch_one(pool)
        .await
        .expect("count");
    assert_eq!(runs, 2);
}

/// The daemon running in-process (`daemon::service::run`) on the project's configuration, its
/// health socket on a free port.
struct InProcess {
    task: tokio::task::JoinHandle<Result<(), yingbao::daemon::service::ServeError>>,
    commands: tokio::sync::mpsc::Sender<yingbao::daemon::service::Command>,
    metrics_url: String,
    healthz: String,
}

impl InProcess {
    async fn start(
        project: &Project,
        cfg: yingbao::config::Config,
        store: &yingbao::store::Store,
        clock: std::sync::Arc<dyn yingbao::daemon::Clock>,
    ) -> InProcess {
        use yingbao::daemon::service::{self, Listeners};
        let health = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = health.local_addr().expect("address");
        let listeners = Listeners {
            health,
            portal: None,
        };
        let (commands, rx) = tokio::sync::mpsc::channel(4);
        let file = project.config_file();
        let db = store.clone();
        let task =
            tokio::spawn(async move { service::run(&file, cfg, db, listeners, rx, clock).await });
        InProcess {
            task,
            commands,
            metrics_url: format!("http://{addr}/metrics"),
            healthz: format!("http://{addr}/healthz"),
        }
    }

    /// Stops it: it returns within a minute, without an error, and its socket is closed.
    async fn stop(self) {
        let stop = yingbao::daemon::service::Command::Stop;
        self.commands.send(stop).await.expect("stop sent");
        let stopped = tokio::time::timeout(Duration::from_secs(60), self.task)
            .await
            .expect("stops within a minute")
            .expect("the task joins");
        assert!(stopped.is_ok(), "{stopped:?}");
        assert!(get(&self.healthz).await.is_none(), "the socket is closed");
    }
}

/// The daemon in-process (`daemon::service::run`, as `serve` wires it to signals): its health
/// socket answers, the never-run job catches up and is counted, a reload command keeps a
/// checked configuration, and a stop command returns once the job is done and closes the socket.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_runs_in_process_and_stops_on_command() {
    use yingbao::daemon::service::Command;

    let project = Project::new();
    // Polling could not see the edit below within the test: only a notification can.
    let file = project.config_file();
    let text = std::fs::read_to_string(&file).expect("config");
    std::fs::write(&file, text.replace("watch_secs = 30", "watch_secs = 3600")).expect("config");
    let cfg = project.config();
    assert_eq!(cfg.settings.daemon.watch_secs, 3600);
    let store = yingbao::store::Store::open(&cfg.database_url())
        .await
        .expect("store");
    let clock = std::sync::Arc::new(yingbao::daemon::SystemClock);
    let daemon = InProcess::start(&project, cfg, &store, clock).await;
    let metrics_url = daemon.metrics_url.clone();
    wait_for("the catch-up run to finish", 120, async || {
        get(&metrics_url).await.is_some_and(|(status, body)| {
            status == 200 && body.contains("yingbao_runs_total{job=\"run\",outcome=\"ok\"} 1")
        })
    })
    .await;
    assert!(store.last_run().await.expect("runs").is_some());
    // A connector file edited on disk is followed without a signal: its new pull job appears.
    let testing = project.root().join("connectors/testing.toml");
    let connector = std::fs::read_to_string(&testing).expect("testing.toml");
    std::fs::write(
        &testing,
        format!("{connector}\n[pull]\nschedule = \"0 4 * * *\"\n"),
    )
    .expect("edit the connector");
    wait_for("the edited connector to be reloaded", 30, async || {
        get(&metrics_url)
            .await
            .is_some_and(|(_, body)| body.contains("job=\"pull:testing\""))
    })
    .await;
    daemon
        .commands
        .send(Command::Reload)
        .await
        .expect("reload sent");
    assert_eq!(get(&daemon.healthz).await.map(|(s, _)| s), Some(200));
    daemon.stop().await;
}

/// The daemon in-process on a wall clock the test sets: four seconds before the monthly run's
/// fire time (`0 3 1 * *`, 03:00 on the 1st in the county's zone), with last month's run on
/// record so there is nothing to catch up. The run starts at its minute, not before, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_fires_the_monthly_run_at_its_minute() {
    use chrono::{DateTime, FixedOffset, TimeZone};
    use yingbao::daemon::scheduler::TokioClock;

    let project = Project::new();
    let cfg = project.config();
    assert!(
        std::fs::read_to_string(project.config_file())
            .expect("config")
            .contains("run = \"0 3 1 * *\""),
        "the sample's monthly run"
    );
    let store = yingbao::store::Store::open(&cfg.database_url())
        .await
        .expect("store");
    store
        .save_job("run", "2025-06-01T03:00:00+08:00", Some("ok"), None)
        .await
        .expect("last month's run");
    let cst = FixedOffset::east_opt(8 * 3600).expect("zone");
    let fire = cst
        .with_ymd_and_hms(2025, 7, 1, 3, 0, 0)
        .single()
        .expect("time");
    let start = fire - chrono::Duration::seconds(4);
    let clock = std::sync::Arc::new(TokioClock::starting_at(start.to_utc()));
    let daemon = InProcess::start(&project, cfg, &store, clock).await;
    let metrics_url = daemon.metrics_url.clone();
    let ok_run = "yingbao_runs_total{job=\"run\",outcome=\"ok\"}";
    // Two seconds in, the clock says 02:59:58: nothing has run.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (_, m) = get(&metrics_url).await.expect("metrics");
    assert_eq!(metric(&m, ok_run), Some(0.0), "nothing before 03:00:\n{m}");
    assert_eq!(store.last_run().await.expect("runs"), None);
    wait_for("the 03:00 run to finish", 120, async || {
        get(&metrics_url)
            .await
            .is_some_and(|(_, m)| metric(&m, ok_run) == Some(1.0))
    })
    .await;
    let started = store
        .job_last_started("run")
        .await
        .expect("jobs")
        .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
        .expect("the run's start is recorded");
    assert!(
        started >= fire && started < fire + chrono::Duration::seconds(5),
        "started at {started}, due at {fire}"
    );
    assert!(store.last_run().await.expect("runs").is_some());
    daemon.stop().await;
}

/// Records every job of `cfg` as started now: a daemon starting on this store has nothing to
/// catch up, so whatever its metrics say at once came from the database, not from a run.
async fn nothing_to_catch_up(cfg: &yingbao::config::Config, store: &yingbao::store::Store) {
    let now = chrono::Utc::now().to_rfc3339();
    for job in &cfg.jobs {
        store
            .save_job(&job.name(), &now, Some("ok"), None)
            .await
            .expect("record the job");
    }
}

/// Points the declaration connector at a file that does not exist: its feed fails.
fn break_the_register(project: &Project) {
    let file = project.root().join("connectors/declaration.toml");
    let text = std::fs::read_to_string(&file).expect("declaration.toml");
    let line = "path = \"connectors/sample/declaration\"";
    assert!(text.contains(line));
    std::fs::write(&file, text.replace(line, "path = \"connectors/gone\"")).expect("write");
}

/// A county whose last run found the declaration register's feed failed (the lists were
/// not written) restarts its daemon: before any job runs, /metrics over HTTP already says
/// the lists are blocked and which source is stale, and what the last run was — read from
/// the database, not remembered by a process that is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_daemon_reports_the_outage_its_database_holds() {
    let project = Project::new();
    let store = yingbao::store::Store::open(&project.config().database_url())
        .await
        .expect("store");
    let good = yingbao::pipeline::run(&project.config(), &store)
        .await
        .expect("a good run");
    assert!(good.push_blocked.is_none());
    break_the_register(&project);
    let cfg = project.config();
    let blocked = yingbao::pipeline::run(&cfg, &store)
        .await
        .expect("the run with the register down");
    assert!(blocked.push_blocked.is_some(), "{:?}", blocked.push_blocked);
    nothing_to_catch_up(&cfg, &store).await;

    let clock = std::sync::Arc::new(yingbao::daemon::SystemClock);
    let daemon = InProcess::start(&project, cfg, &store, clock).await;
    let metrics_url = daemon.metrics_url.clone();
    let mut text = String::new();
    wait_for("/metrics", 60, async || match get(&metrics_url).await {
        Some((200, body)) => {
            text = body;
            true
        }
        _ => false,
    })
    .await;
    assert_eq!(metric(&text, "yingbao_push_blocked "), Some(1.0), "{text}");
    assert_eq!(
        metric(&text, "yingbao_source_stale{source=\"declaration\"}"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        metric(&text, "yingbao_source_stale{source=\"tax\"}"),
        Some(0.0),
        "{text}"
    );
    // The register's last good snapshot is the first run's.
    assert!(
        metric(
            &text,
            "yingbao_source_last_good_timestamp_seconds{source=\"declaration\"}"
        )
        .is_some_and(|t| t > 1.7e9),
        "{text}"
    );
    assert_eq!(
        metric(&text, "yingbao_last_run_status{status=\"succeeded\"}"),
        Some(1.0),
        "{text}"
    );
    assert!(
        metric(&text, "yingbao_last_success_timestamp_seconds{job=\"run\"}").is_some(),
        "{text}"
    );
    // Nothing ran in this process: all of it came from the database.
    assert_eq!(
        metric(&text, "yingbao_runs_total{job=\"run\",outcome=\"ok\"}"),
        Some(0.0),
        "{text}"
    );
    daemon.stop().await;
}

/// A run a dead process left `running` is marked interrupted when the daemon starts, and
/// /metrics says so; while another handle holds the project lock (a live process), the
/// daemon refuses to start, names the lock file, and leaves that process's run alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_marks_a_dead_run_interrupted_but_never_a_live_one() {
    use yingbao::daemon::lock::ProjectLock;

    let project = Project::new();
    let cfg = project.config();
    let store = yingbao::store::Store::open(&cfg.database_url())
        .await
        .expect("store");
    nothing_to_catch_up(&cfg, &store).await;
    let date = chrono::NaiveDate::from_ymd_opt(2025, 6, 30).expect("date");
    let begun = store.begin_run(date).await.expect("a run begun");
    let clock = std::sync::Arc::new(yingbao::daemon::SystemClock);

    // 1. Another process holds the lock: refused, and its run stays running.
    let held = ProjectLock::acquire(project.root()).expect("the lock");
    let refused = InProcess::start(&project, project.config(), &store, clock.clone()).await;
    let result = tokio::time::timeout(Duration::from_secs(60), refused.task)
        .await
        .expect("returns at once")
        .expect("the task joins");
    let message = match result {
        Err(e) => e.to_string(),
        Ok(()) => panic!("the daemon started beside the lock holder"),
    };
    assert!(
        message.contains(&held.path().display().to_string()),
        "{message}"
    );
    let row = store.run_row(begun).await.expect("read").expect("row");
    assert_eq!(row.status, "running");

    // 2. The holder is gone: the run no process runs any more is interrupted.
    drop(held);
    let daemon = InProcess::start(&project, cfg, &store, clock).await;
    let metrics_url = daemon.metrics_url.clone();
    let mut text = String::new();
    wait_for("/metrics", 60, async || match get(&metrics_url).await {
        Some((200, body)) => {
            text = body;
            true
        }
        _ => false,
    })
    .await;
    let row = store.run_row(begun).await.expect("read").expect("row");
    assert_eq!(row.status, yingbao::store::INTERRUPTED);
    assert!(
        row.summary
            .as_deref()
            .unwrap_or("")
            .contains("stopped before it finished"),
        "{row:?}"
    );
    assert_eq!(
        metric(&text, "yingbao_interrupted_runs_total"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        metric(&text, "yingbao_last_run_status{status=\"interrupted\"}"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        metric(&text, "yingbao_last_run_status{status=\"running\"}"),
        Some(0.0),
        "{text}"
    );
    daemon.stop().await;
}

/// A spawned process that a failing test does not leave running.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// `yingbao serve` under systemd (`Type=notify`, `WatchdogSec=`): on a socket of the test's
/// own it says READY=1 once serving, then WATCHDOG=1 at half of WATCHDOG_USEC, and
/// STOPPING=1 when SIGTERM arrives; then it exits cleanly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_tells_systemd_it_is_ready_alive_and_stopping() {
    let project = Project::new();
    let port = free_port();
    let config = project.config_file();
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(
        &config,
        text.replace(
            "listen = \"127.0.0.1:9477\"",
            &format!("listen = \"127.0.0.1:{port}\""),
        ),
    )
    .expect("write config");
    let cfg = project.config();
    let store = yingbao::store::Store::open(&cfg.database_url())
        .await
        .expect("store");
    nothing_to_catch_up(&cfg, &store).await;
    store.close().await;

    let socket_path = project.root().join("notify.sock");
    let socket = tokio::net::UnixDatagram::bind(&socket_path).expect("notify socket");
    let log = project.root().join("serve.log");
    let mut child = KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_yingbao"))
            .arg("--config")
            .arg(&config)
            .args(["-v", "serve"])
            .env("NOTIFY_SOCKET", &socket_path)
            .env("WATCHDOG_USEC", "1000000")
            .env_remove("WATCHDOG_PID")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log"))
            .spawn()
            .expect("start yingbao serve"),
    );

    // Every line of every datagram, in order, until `want` has come (or a minute passed).
    let mut lines: Vec<String> = Vec::new();
    let until = async |lines: &mut Vec<String>, want: &dyn Fn(&[String]) -> bool| {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut buf = vec![0u8; 4096];
        while !want(lines) {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, socket.recv(&mut buf)).await {
                Ok(Ok(n)) => lines.extend(
                    String::from_utf8_lossy(&buf[..n])
                        .lines()
                        .map(str::to_string),
                ),
                Ok(Err(e)) => panic!("notify socket: {e}"),
                Err(_) => return false,
            }
        }
        true
    };
    let ready_then_watchdog = |l: &[String]| {
        l.iter()
            .position(|m| m == "READY=1")
            .is_some_and(|r| l[r..].iter().any(|m| m == "WATCHDOG=1"))
    };
    let got = until(&mut lines, &ready_then_watchdog).await;
    assert!(got, "READY=1 then WATCHDOG=1: {lines:?}\n{}", read(&log));
    assert!(
        !lines.iter().any(|m| m == "STOPPING=1"),
        "not stopping yet: {lines:?}"
    );
    // Serving by the time it says so.
    assert!(matches!(
        get(&format!("http://127.0.0.1:{port}/healthz")).await,
        Some((200, _))
    ));
    // The pings keep coming: at least two more within a few seconds.
    let pings = lines.iter().filter(|m| *m == "WATCHDOG=1").count();
    let more = until(&mut lines, &|l: &[String]| {
        l.iter().filter(|m| *m == "WATCHDOG=1").count() >= pings + 2
    })
    .await;
    assert!(more, "the watchdog pings go on: {lines:?}");

    let status = terminate(&mut child.0);
    assert!(status.success(), "exit status {status:?}\n{}", read(&log));
    let stopping = until(&mut lines, &|l: &[String]| {
        l.iter().any(|m| m == "STOPPING=1")
    })
    .await;
    assert!(
        stopping,
        "STOPPING=1 after SIGTERM: {lines:?}\n{}",
        read(&log)
    );
}
