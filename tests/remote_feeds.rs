//! The declaration register served over HTTP by a real server on 127.0.0.1: a full feed gives
//! the same leads as the file; an empty or truncated feed is held or failed, its last good
//! snapshot is used (no false leads), township lists are not written, and `yingbao sources`
//! says why.

mod common;

use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use common::Project;
use serde_json::{json, Map, Value};
use yingbao::pipeline;

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Full,
    Empty,
    Truncated,
}

#[derive(Clone)]
struct Feed {
    rows: Arc<Vec<Map<String, Value>>>,
    mode: Arc<Mutex<Mode>>,
}

#[derive(serde::Deserialize)]
struct Page {
    page: usize,
    size: usize,
}

async fn declarations(State(feed): State<Feed>, Query(p): Query<Page>) -> Json<Value> {
    let mode = *feed.mode.lock().expect("mode");
    let total = feed.rows.len();
    let served = match mode {
        Mode::Full => total,
        Mode::Empty => 0,
        Mode::Truncated => total / 2,
    };
    let start = (p.page.saturating_sub(1) * p.size).min(served);
    let end = (start + p.size).min(served);
    let declared = if mode == Mode::Empty { 0 } else { total };
    Json(json!({
        "code": "0",
        "msg": "成功",
        "data": { "total": declared, "rows": &feed.rows[start..end] }
    }))
}

/// The sample's newest declaration export as JSON records keyed by its headers.
fn sample_rows(project: &Project) -> Vec<Map<String, Value>> {
    let path = project
        .root()
        .join("connectors/sample/declaration/申报数据_20250630.csv");
    let mut reader = csv::Reader::from_path(path).expect("sample declaration file");
    let headers = reader.headers().expect("headers").clone();
    reader
        .records()
        .filter_map(Result::ok)
        .filter(|r| r.len() == headers.len())
        .map(|r| {
            headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_string(), Value::String(v.to_string())))
                .collect()
        })
        .collect()
}

// Multi-threaded: the `yingbao` subprocesses call the server while this test waits on them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_or_truncated_register_never_makes_leads_or_lists() {
    // Baseline: the same data read from the file.
    let baseline = Project::new();
    let base_store = baseline.sqlite().await;
    let base = pipeline::run(&baseline.config(), &base_store)
        .await
        .expect("file run");

    let project = Project::new();
    let rows = sample_rows(&project);
    assert!(rows.len() > 250);
    let mode = Arc::new(Mutex::new(Mode::Full));
    let app = Router::new()
        .route("/api/declarations", get(declarations))
        .with_state(Feed {
            rows: Arc::new(rows),
            mode: mode.clone(),
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    std::fs::write(
        project.root().join("connectors/declaration.toml"),
        format!(
            r#"feed = "declaration"
description = "申报系统 over HTTP (test)"

[http]
url = "http://{addr}/api/declarations"
records_path = "data.rows"
timeout_secs = 5

[http.paging]
kind = "page"
page_param = "page"
size_param = "size"
page_size = 40
total_path = "data.total"

[http.error]
code_path = "code"
ok_values = ["0"]
message_path = "msg"

[http.retry]
max_attempts = 2
base_ms = 10

[record]
key = ["申报编号"]

[columns]
name = "用人单位名称"
uscc = "统一社会信用代码"
address = "工作场所地址"
industry_code = "行业代码"
headcount = "劳动者总人数"
declared_on = "申报日期"
hazard_factors = "危害因素"
"#
        ),
    )
    .expect("write connector");
    let check = project.cli(&["check"]);
    assert!(
        check.contains(&format!("http://{addr}/api/declarations")),
        "{check}"
    );
    let cfg = project.config();
    // The database the configuration names, so that `yingbao sources` reads the same one.
    let store = yingbao::store::Store::open(&cfg.database_url())
        .await
        .expect("open store");

    // 1. The full feed: the same leads as from the file; lists written.
    let first = pipeline::run(&cfg, &store).await.expect("first run");
    let decl = |s: &pipeline::RunSummary| {
        s.sources
            .iter()
            .find(|o| o.source == "declaration")
            .expect("declaration source")
            .clone()
    };
    assert_eq!(decl(&first).status, yingbao::pipeline::SourceStatus::Fresh);
    let file_decl = decl(&base);
    assert_eq!(decl(&first).records_used, file_decl.records_used);
    assert_eq!(first.leads, base.leads);
    assert!(first.push_blocked.is_none());
    assert!(first.out_dir.join("index.csv").exists());
    let preview = project.cli(&["preview", "declaration", "--rows", "2"]);
    assert!(
        preview.contains("name             ← 用人单位名称"),
        "{preview}"
    );
    assert!(preview.contains("record 2"), "{preview}");
    assert!(!preview.contains("record 3"), "{preview}");
    let connect = project.cli(&["check", "--connect"]);
    assert!(connect.contains("connect declaration  ok"), "{connect}");

    // 2. The feed comes back empty: held, last good used, no lists.
    *mode.lock().expect("mode") = Mode::Empty;
    let second = pipeline::run(&cfg, &store).await.expect("second run");
    assert_eq!(decl(&second).status, yingbao::pipeline::SourceStatus::Held);
    assert_eq!(decl(&second).records_used, file_decl.records_used);
    assert_eq!(second.leads, first.leads, "no lead from a missing register");
    let why = second.push_blocked.clone().expect("push blocked");
    assert!(why.contains("held"), "{why}");
    assert!(!second.out_dir.exists(), "no township list written");
    let sources = project.cli(&["sources"]);
    assert!(sources.contains("held"), "{sources}");
    assert!(
        sources.contains("no records (the last good snapshot has"),
        "{sources}"
    );

    // 3. The feed stops half-way through its declared total: failed, the run says why.
    *mode.lock().expect("mode") = Mode::Truncated;
    let third = pipeline::run(&cfg, &store).await.expect("third run");
    assert_eq!(decl(&third).status, yingbao::pipeline::SourceStatus::Failed);
    let note = decl(&third).note.unwrap_or_default();
    assert!(
        note.contains("truncated") || note.contains("declared"),
        "{note}"
    );
    assert_eq!(third.leads, first.leads);
    assert!(third.push_blocked.is_some());
    assert!(!third.out_dir.exists());
    let sources = project.cli(&["sources"]);
    assert!(sources.contains("failed"), "{sources}");
    // `check --connect` reaches the feed (its first page is fine) but a wrong address fails.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_yingbao"))
        .args([
            "--config",
            project.config_file().to_str().expect("utf-8"),
            "preview",
            "nosuch",
        ])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("declaration"));

    // 4. Back to normal: fresh again, lists written.
    *mode.lock().expect("mode") = Mode::Full;
    let fourth = pipeline::run(&cfg, &store).await.expect("fourth run");
    assert_eq!(decl(&fourth).status, yingbao::pipeline::SourceStatus::Fresh);
    assert!(fourth.push_blocked.is_none());
    assert!(fourth.out_dir.join("index.csv").exists());
}

/// An incremental `[sql]` feed (a real SQLite front-end database file): the first pull is
/// whole, later pulls bring only rows changed since the cursor; the cursor moves only with a
/// good snapshot, never on a failed or held pull.
#[tokio::test]
async fn incremental_sql_pulls_keep_their_cursor_with_the_snapshot() {
    let project = Project::new();
    let db = project.root().join("var/frontdb.sqlite");
    std::fs::create_dir_all(db.parent().expect("parent")).expect("mkdir");
    let src = yingbao::store::Store::open(&format!("sqlite://{}", db.display()))
        .await
        .expect("front-end db");
    let yingbao::store::Store::Sqlite(pool) = &src else {
        panic!("sqlite")
    };
    let exec = |sql: &'static str| async move {
        sqlx::query(sql).execute(pool).await.expect(sql);
    };
    exec("CREATE TABLE qy (tyxydm TEXT, qymc TEXT, dz TEXT, gxsj TEXT)").await;
    exec("INSERT INTO qy VALUES ('91350583MA2XN4TP0E', '南安市华兴石材有限公司', '水头镇朴里村', '2025-05-01 10:00:00'), \
          ('', '南安市宏达陶瓷厂', '官桥镇仁宅村', '2025-05-02 09:00:00'), \
          ('', '南安市永盛鞋业有限公司', '溪美街道', '2025-05-03 08:00:00')")
        .await;
    let var = "YINGBAO_TEST_FRONTDB_URL_INCREMENTAL";
    std::env::set_var(var, format!("sqlite://{}", db.display()));
    std::fs::write(
        project.root().join("connectors/frontdb.toml"),
        format!(
            r#"feed = "market"
description = "前置库 企业表 (test)"

[sql]
url_env = "{var}"
query = "SELECT tyxydm, qymc, dz, gxsj FROM qy"
cursor_column = "gxsj"

[pull]
full_refresh_days = 30

[record]
key = ["qymc"]

[columns]
uscc = "tyxydm"
name = "qymc"
address = "dz"
"#
        ),
    )
    .expect("connector");
    let cfg = project.config();
    let spec = cfg
        .connectors
        .iter()
        .find(|c| c.id == "frontdb")
        .expect("connector loaded")
        .clone();
    let store = project.sqlite().await;

    // 1. First pull: whole. A pull is not a run of the whole job: "the last run" stays put.
    let last_run = store.last_run().await.expect("last run");
    let first = pipeline::pull(&cfg, &store, &spec).await.expect("pull 1");
    assert_eq!(store.last_run().await.expect("last run"), last_run);
    assert_eq!((first.status.as_str(), first.records_used), ("fresh", 3));
    let state = store
        .connector_state("frontdb")
        .await
        .expect("state")
        .expect("some");
    assert_eq!(state.cursor.as_deref(), Some("2025-05-03 08:00:00"));
    assert!(state.full_refresh_at.is_some());

    // 2. One row changed, one new: only those two come, over the last snapshot.
    exec("UPDATE qy SET dz = '官桥镇仁宅村工业区', gxsj = '2025-06-01 09:00:00' WHERE qymc = '南安市宏达陶瓷厂'").await;
    exec("INSERT INTO qy VALUES ('', '南安市新丰石材有限公司', '石井镇', '2025-06-02 10:00:00')")
        .await;
    let second = pipeline::pull(&cfg, &store, &spec).await.expect("pull 2");
    assert_eq!(second.status, yingbao::pipeline::SourceStatus::Fresh);
    assert_eq!(
        second.rows_read, 2,
        "only the changed and the new row were read"
    );
    assert_eq!(second.records_used, 4);
    assert!(second.note.as_deref().unwrap_or("").contains("incremental"));
    let snap = store
        .last_good_snapshot("frontdb")
        .await
        .expect("q")
        .expect("good");
    let obs = store.observations(snap.id).await.expect("obs");
    let hongda = obs
        .iter()
        .find(|o| o.record_key == "南安市宏达陶瓷厂")
        .expect("hongda");
    assert_eq!(hongda.address.as_deref(), Some("官桥镇仁宅村工业区"));
    let state2 = store
        .connector_state("frontdb")
        .await
        .expect("state")
        .expect("some");
    assert_eq!(state2.cursor.as_deref(), Some("2025-06-02 10:00:00"));
    assert_eq!(
        state2.full_refresh_at, state.full_refresh_at,
        "a delta is not a full pull"
    );

    // 3. The source breaks: failed, cursor unchanged, last good snapshot used.
    exec("ALTER TABLE qy RENAME TO qy_old").await;
    let third = pipeline::pull(&cfg, &store, &spec).await.expect("pull 3");
    assert_eq!(third.status, yingbao::pipeline::SourceStatus::Failed);
    assert_eq!(third.records_used, 4);
    assert_eq!(
        store.connector_state("frontdb").await.expect("state"),
        Some(state2.clone())
    );

    // 4. A full refresh that comes back shrunk (2 of 4 rows) is held: cursor unchanged.
    exec("CREATE TABLE qy AS SELECT * FROM qy_old LIMIT 2").await;
    let mut full = spec.clone();
    full.pull.full_refresh_days = 0;
    let fourth = pipeline::pull(&cfg, &store, &full).await.expect("pull 4");
    assert_eq!(fourth.status, yingbao::pipeline::SourceStatus::Held);
    assert_eq!(fourth.records_used, 4);
    assert_eq!(
        store.connector_state("frontdb").await.expect("state"),
        Some(state2)
    );
}

/// `check --connect` names the source it cannot reach, with the cause, and exits 2.
#[test]
fn check_connect_reports_an_unreachable_source() {
    let project = Project::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port"); // closed again when the listener drops
    std::fs::write(
        project.root().join("connectors/platform.toml"),
        format!(
            "feed = \"market\"\n\n[http]\nurl = \"http://127.0.0.1:{port}/api\"\nconnect_timeout_secs = 2\n\n[http.retry]\nmax_attempts = 1\n\n[columns]\nname = \"qymc\"\n"
        ),
    )
    .expect("connector");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_yingbao"))
        .args([
            "--config",
            project.config_file().to_str().expect("utf-8"),
            "check",
            "--connect",
        ])
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(stdout.contains("connect platform     FAILED"), "{stdout}");
    assert!(stdout.contains("connect declaration  ok"), "{stdout}");
    assert!(
        stdout.contains("1 source(s) could not be reached"),
        "{stdout}"
    );
}
