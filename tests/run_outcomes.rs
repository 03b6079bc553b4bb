//! `yingbao run` as a script sees it (the built binary on a copy of the sample): its exit
//! status, one run at a time under the project lock, runs a dead process left `running`.

mod common;

use std::process::{Command, Output};

use chrono::NaiveDate;
use common::Project;
use yingbao::daemon::lock::{ProjectLock, LOCK_FILE};
use yingbao::store::{Store, INTERRUPTED};

fn run(project: &Project) -> Output {
    Command::new(env!("CARGO_BIN_EXE_yingbao"))
        .arg("--config")
        .arg(project.config_file())
        .arg("run")
        .output()
        .expect("run yingbao")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

/// Points a connector's `[file] path` somewhere that does not exist: its feed fails.
fn break_feed(project: &Project, connector: &str, path: &str) {
    let file = project.root().join(format!("connectors/{connector}.toml"));
    let text = std::fs::read_to_string(&file).expect("connector");
    let line = format!("path = \"{path}\"");
    assert!(text.contains(&line), "{connector}.toml has {line}");
    std::fs::write(
        &file,
        text.replace(&line, "path = \"connectors/gone/nowhere\""),
    )
    .expect("write");
}

/// A run begun by a process that then died: left `running`.
async fn dead_run(store: &Store) -> i64 {
    let date = NaiveDate::from_ymd_opt(2025, 6, 30).expect("date");
    store.begin_run(date).await.expect("begin a run")
}

/// A clean sample run exits 0; a run a dead process left `running` is marked interrupted,
/// with its note, and the run says so.
#[tokio::test]
async fn a_clean_run_exits_0_and_marks_a_dead_run_interrupted() {
    let project = Project::new();
    let store = Store::open(&project.config().database_url())
        .await
        .expect("store");
    let dead = dead_run(&store).await;
    let before = store.run_row(dead).await.expect("read").expect("row");
    assert_eq!(before.status, "running");

    let out = run(&project);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("run {dead} (started")),
        "{}",
        stderr(&out)
    );
    let after = store.run_row(dead).await.expect("read").expect("row");
    assert_eq!(after.status, INTERRUPTED);
    let note = after.summary_json().expect("a JSON note");
    let note = note["note"].as_str().expect("note");
    assert!(note.contains("stopped before it finished"), "{note}");
    // The run itself finished as usual, after the dead one.
    let newest = store.last_full_run().await.expect("runs").expect("a run");
    assert!(newest.id > dead);
    assert_eq!(newest.status, "succeeded");
    store.close().await;
}

/// The declaration register's file is missing: no township list is written, exit 3.
#[test]
fn a_missing_declaration_register_exits_3() {
    let project = Project::new();
    break_feed(&project, "declaration", "connectors/sample/declaration");
    let out = run(&project);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no township list was written"),
        "{}",
        stderr(&out)
    );
    let lists = std::fs::read_dir(project.root().join("out"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(lists, 0, "no list folder");
}

/// Another feed's file is missing: the lists are written without it, exit 4.
#[test]
fn a_failed_feed_beside_a_fresh_register_exits_4() {
    let project = Project::new();
    break_feed(
        &project,
        "testing",
        "connectors/sample/testing/检测报告台账.xlsx",
    );
    let out = run(&project);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("a feed failed or was held"),
        "{}",
        stderr(&out)
    );
    let index = std::fs::read_dir(project.root().join("out"))
        .expect("an output folder")
        .filter_map(|e| e.ok())
        .any(|e| e.path().join("index.csv").exists());
    assert!(index, "the township lists were written");
}

/// While another handle holds the project lock (a live `serve` or run), a run is refused with
/// the lock file named, exit 1, and the other's `running` run is left alone.
#[tokio::test]
async fn a_second_run_is_refused_while_the_lock_is_held() {
    let project = Project::new();
    let store = Store::open(&project.config().database_url())
        .await
        .expect("store");
    let live = dead_run(&store).await;
    let held = ProjectLock::acquire(project.root()).expect("the lock");
    assert_eq!(held.path(), project.root().join(LOCK_FILE));

    let out = run(&project);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains(&held.path().display().to_string()), "{err}");
    assert!(
        err.contains(&format!("pid {}", std::process::id())),
        "{err}"
    );
    let row = store.run_row(live).await.expect("read").expect("row");
    assert_eq!(row.status, "running", "the live run is untouched");
    assert_eq!(row.summary, None);
    assert_eq!(
        store.last_full_run().await.expect("runs").map(|r| r.id),
        Some(live),
        "no run was begun"
    );

    // Released, the next run takes it, and the run no process holds any more is interrupted.
    drop(held);
    let out = run(&project);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let row = store.run_row(live).await.expect("read").expect("row");
    assert_eq!(row.status, INTERRUPTED);
    store.close().await;
}

/// The runs table as a starting process reads it, the same on both databases: the newest full
/// run is found among pulls (a pull that failed included), and only `running` runs are marked.
async fn runs_are_read_and_marked(store: &Store) {
    let date = NaiveDate::from_ymd_opt(2025, 6, 30).expect("date");
    assert_eq!(store.last_full_run().await.expect("runs"), None);
    let done = store.begin_run(date).await.expect("begin");
    store
        .finish_run(done, "succeeded", r#"{"push_blocked":null}"#)
        .await
        .expect("finish");
    let dead = store.begin_run(date).await.expect("begin");
    let pulled = store.begin_run(date).await.expect("begin");
    store
        .finish_run(pulled, "pulled", r#"{"pull":{"source":"tax"}}"#)
        .await
        .expect("finish");
    let failed_pull = store.begin_run(date).await.expect("begin");
    store
        .finish_run(failed_pull, "failed", r#"{"error":"down","pull":"tax"}"#)
        .await
        .expect("finish");
    let newest = store.last_full_run().await.expect("runs").expect("a run");
    assert_eq!((newest.id, newest.status.as_str()), (dead, "running"));

    let marked = store.mark_interrupted("the note").await.expect("mark");
    assert_eq!(marked.iter().map(|r| r.id).collect::<Vec<_>>(), [dead]);
    let row = store.run_row(dead).await.expect("read").expect("row");
    assert_eq!(row.status, INTERRUPTED);
    assert_eq!(row.summary_json().expect("json")["note"], "the note");
    for (id, status) in [
        (done, "succeeded"),
        (pulled, "pulled"),
        (failed_pull, "failed"),
    ] {
        let row = store.run_row(id).await.expect("read").expect("row");
        assert_eq!(row.status, status, "run {id} untouched");
    }
    assert!(store
        .mark_interrupted("again")
        .await
        .expect("mark")
        .is_empty());
    assert_eq!(
        store
            .last_succeeded_run()
            .await
            .expect("runs")
            .map(|r| r.id),
        Some(done)
    );
}

#[tokio::test]
async fn runs_are_read_and_marked_on_sqlite() {
    let project = Project::new();
    runs_are_read_and_marked(&project.sqlite().await).await;
}

#[tokio::test]
async fn runs_are_read_and_marked_on_postgres() {
    if let Some(store) = common::postgres("runs_marked").await {
        runs_are_read_and_marked(&store).await;
    }
}
