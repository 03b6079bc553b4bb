//! Delivery end to end: a real run queues every township list in the outbox, and the worker
//! hands them to real receivers on 127.0.0.1 that fail (503, timeouts), are slow, refuse for
//! good, or see the delivering process killed mid-way. Each list must arrive exactly once.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use common::Project;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use yingbao::deliver::outbox::deliver_due;
use yingbao::pipeline;
use yingbao::store::Store;

const SECRET: &str = "s3cret-for-tests";

/// How the receiver treats the n-th request (1-based) carrying one idempotency key.
#[derive(Clone, Copy)]
enum Plan {
    /// 503 with Retry-After: 0 for the first two; for keys of townships ending in 1 the second
    /// is a hang past the client's timeout instead.
    FailTwice,
    /// Every answer takes this long.
    Slow(Duration),
    /// 400 Bad Request, always.
    Refuse,
}

#[derive(Default, Clone)]
struct Seen {
    /// Every request: (idempotency key, township code in the body).
    requests: Vec<(String, String)>,
    /// Lists accepted, by key (a repeated key is acknowledged but not accepted again).
    accepted: BTreeMap<String, usize>,
    duplicates: usize,
    /// The Excel link of each request.
    links: Vec<String>,
}

#[derive(Clone)]
struct Receiver {
    plan: Plan,
    seen: Arc<Mutex<Seen>>,
}

async fn hook(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let (key, ts, sig) = (
        header("idempotency-key"),
        header("x-yingbao-timestamp"),
        header("x-yingbao-signature"),
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).expect("key");
    mac.update(ts.as_bytes());
    mac.update(b".");
    mac.update(&body);
    if sig != format!("sha256={}", hex::encode(mac.finalize().into_bytes())) {
        return StatusCode::UNAUTHORIZED;
    }
    let json: serde_json::Value = serde_json::from_slice(&body).expect("json body");
    let township = json["township_code"]
        .as_str()
        .unwrap_or("county")
        .to_string();
    assert_eq!(json["idempotency_key"], key.as_str());
    let n = {
        let mut s = r.seen.lock().expect("lock");
        s.links
            .push(json["xlsx_url"].as_str().unwrap_or_default().to_string());
        s.requests.push((key.clone(), township.clone()));
        s.requests.iter().filter(|(k, _)| *k == key).count()
    };
    match r.plan {
        Plan::Refuse => return StatusCode::BAD_REQUEST,
        Plan::FailTwice if n == 2 && township.ends_with('1') => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            return StatusCode::SERVICE_UNAVAILABLE;
        }
        Plan::FailTwice if n <= 2 => return StatusCode::SERVICE_UNAVAILABLE,
        Plan::Slow(d) => {
            // Accept on receipt, answer late: a client killed meanwhile sends it again.
            accept(&r, &key);
            tokio::time::sleep(d).await;
            return StatusCode::OK;
        }
        Plan::FailTwice => {}
    }
    accept(&r, &key);
    StatusCode::OK
}

fn accept(r: &Receiver, key: &str) {
    let mut s = r.seen.lock().expect("lock");
    let entry = s.accepted.entry(key.to_string()).or_default();
    *entry += 1;
    if *entry > 1 {
        s.duplicates += 1;
        // A receiver honouring idempotency keys keeps only the first.
        *s.accepted.get_mut(key).expect("entry") = 1;
    }
}

async fn receiver(plan: Plan) -> (String, Arc<Mutex<Seen>>) {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let app = Router::new()
        .route("/hook", post(hook))
        .with_state(Receiver {
            plan,
            seen: seen.clone(),
        });
    let addr = common::listen(app).await;
    (format!("http://{addr}/hook"), seen)
}

/// Points the project's delivery at a webhook (besides the shared-drive folder) and turns off
/// delivery at the end of a run.
fn add_webhook(p: &Project, url: &str, max_attempts: u32) {
    let file = p.config_file();
    let text = std::fs::read_to_string(&file).expect("config");
    let text = text
        .replace("after_run = true", "after_run = false")
        .replace("# xlsx_base_url =", "xlsx_base_url =");
    let text = format!(
        "{text}\n[[delivery.channel]]\nid = \"county_oa\"\nkind = \"webhook\"\nurl = \"{url}\"\n\
         secret_env = \"YB_TEST_WEBHOOK_SECRET\"\ntimeout_secs = 1\ntownships = [\"*\"]\n\
         max_attempts = {max_attempts}\nbackoff_secs = 1\nmax_backoff_secs = 2\n"
    );
    std::fs::write(&file, text).expect("write config");
}

fn env(name: &str) -> Option<String> {
    (name == "YB_TEST_WEBHOOK_SECRET").then(|| SECRET.to_string())
}

/// Delivers until nothing is pending (waiting for retries), at most `limit`.
async fn deliver_all(cfg: &yingbao::config::Config, store: &Store, limit: Duration) {
    let start = Instant::now();
    loop {
        deliver_due(&cfg.channels, store, &env)
            .await
            .expect("deliver");
        if store.next_delivery_due().await.expect("next").is_none() {
            return;
        }
        assert!(
            start.elapsed() < limit,
            "deliveries still pending after {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn every_list_arrives_exactly_once_through_503s_and_timeouts() {
    let (url, seen) = receiver(Plan::FailTwice).await;
    let p = Project::new();
    add_webhook(&p, &url, 5);
    let cfg = p.config();
    let store = p.sqlite().await;
    let s = pipeline::run(&cfg, &store).await.expect("run");
    // A first run's lists wait for the operator.
    assert!(store.approve_run(s.run_id, "test").await.expect("approve") > 20);
    let lists = s.by_township.len();
    assert!(lists > 20);
    // One outbox entry per list and channel, written with the leads.
    assert_eq!(s.queued_deliveries, 2 * lists);
    let started = Instant::now();
    deliver_all(&cfg, &store, Duration::from_secs(120)).await;
    let took = started.elapsed();

    let seen = seen.lock().expect("lock").clone();
    let keys: BTreeSet<&String> = seen.requests.iter().map(|(k, _)| k).collect();
    assert_eq!(keys.len(), lists, "one key per township list");
    assert_eq!(seen.accepted.len(), lists);
    assert!(seen.accepted.values().all(|n| *n == 1));
    assert_eq!(seen.duplicates, 0);
    // Three attempts each, every one with the same key for the same township.
    assert_eq!(seen.requests.len(), 3 * lists);
    let mut key_of: BTreeMap<&str, &str> = BTreeMap::new();
    for (k, t) in &seen.requests {
        assert_eq!(*key_of.entry(t.as_str()).or_insert(k.as_str()), k.as_str());
    }
    // Each message links to its township's Excel where the county publishes the output.
    assert!(seen.links.iter().all(|l| {
        l.starts_with("http://intranet.example/yingbao/2025-06-30-run1/") && l.ends_with(".xlsx")
    }));
    assert!(seen
        .links
        .iter()
        .any(|l| l.ends_with("/350583119_%E6%B0%B4%E5%A4%B4%E9%95%87.xlsx")));
    let outbox = store.outbox().await.expect("outbox");
    assert!(outbox.iter().all(|r| r.status == "delivered"), "{outbox:?}");
    let hook_row = outbox
        .iter()
        .find(|r| r.channel == "county_oa")
        .expect("row");
    let attempts = store.attempts(hook_row.id).await.expect("attempts");
    let outcomes: Vec<&str> = attempts.iter().map(|(_, o, _)| o.as_str()).collect();
    assert_eq!(outcomes, ["retry", "retry", "ok"]);
    // The shared-drive folder holds each list once, with its manifest.
    let drive = p.root().join("out/共享盘/2025年06月");
    let files: Vec<_> = std::fs::read_dir(&drive).expect("drive").collect();
    assert_eq!(files.len(), 2 * lists, "xlsx + manifest per list");
    eprintln!(
        "delivered {lists} lists through 503s and timeouts: {} requests in {:.1} s",
        seen.requests.len(),
        took.as_secs_f64()
    );
}

#[tokio::test]
async fn a_slow_receiver_gets_every_list_on_the_first_attempt() {
    let (url, seen) = receiver(Plan::Slow(Duration::from_millis(400))).await;
    let p = Project::new();
    add_webhook(&p, &url, 3);
    let cfg = p.config();
    let store = p.sqlite().await;
    let s = pipeline::run(&cfg, &store).await.expect("run");
    // A first run's lists wait for the operator.
    assert!(store.approve_run(s.run_id, "test").await.expect("approve") > 20);
    deliver_all(&cfg, &store, Duration::from_secs(120)).await;
    let seen = seen.lock().expect("lock").clone();
    assert_eq!(seen.requests.len(), s.by_township.len());
    assert_eq!(seen.accepted.len(), s.by_township.len());
    assert_eq!(seen.duplicates, 0);
}

#[tokio::test]
async fn a_refusing_channel_gives_up_and_alerts_the_operator() {
    let (url, seen) = receiver(Plan::Refuse).await;
    let p = Project::new();
    add_webhook(&p, &url, 5);
    let cfg = p.config();
    let store = p.sqlite().await;
    let s = pipeline::run(&cfg, &store).await.expect("run");
    // A first run's lists wait for the operator.
    assert!(store.approve_run(s.run_id, "test").await.expect("approve") > 20);
    let stats = deliver_due(&cfg.channels, &store, &env)
        .await
        .expect("deliver");
    let lists = s.by_township.len();
    // 400 is permanent: one attempt each, then given up.
    assert_eq!(seen.lock().expect("lock").requests.len(), lists);
    assert_eq!(stats.dead, lists);
    assert_eq!(stats.alerts, lists);
    let outbox = store.outbox().await.expect("outbox");
    let dead = outbox.iter().filter(|r| r.status == "dead").count();
    assert_eq!(dead, lists);
    assert!(outbox
        .iter()
        .filter(|r| r.status == "dead")
        .all(|r| r.last_error.as_deref().is_some_and(|e| e.contains("400"))));
    // The alerts went out through the operator's own channel, a folder here.
    let alerts = outbox
        .iter()
        .filter(|r| r.kind == "alert")
        .collect::<Vec<_>>();
    assert_eq!(alerts.len(), lists);
    assert!(alerts
        .iter()
        .all(|r| r.status == "delivered" && r.channel == "operator"));
    let dir = p.root().join("out/运维告警/告警");
    let texts: Vec<String> = std::fs::read_dir(&dir)
        .expect("alert folder")
        .map(|e| std::fs::read_to_string(e.expect("entry").path()).expect("read"))
        .collect();
    assert_eq!(texts.len(), lists);
    assert!(texts
        .iter()
        .all(|t| t.contains("county_oa") && t.contains("推送")));

    // After fixing the channel the operator queues one again, with a fresh attempt budget.
    let key = &outbox
        .iter()
        .find(|r| r.status == "dead")
        .expect("dead")
        .idempotency_key;
    assert_eq!(store.revive(Some(key.as_str())).await.expect("revive"), 1);
    assert_eq!(store.revive(Some("no-such-key")).await.expect("revive"), 0);
    let again = deliver_due(&cfg.channels, &store, &env)
        .await
        .expect("deliver");
    // Still refused: given up again, and the operator told again.
    assert_eq!((again.dead, again.alerts, again.delivered), (1, 1, 1));
    assert_eq!(seen.lock().expect("lock").requests.len(), lists + 1);
    let outbox = store.outbox().await.expect("outbox");
    let row = outbox
        .iter()
        .find(|r| &r.idempotency_key == key)
        .expect("row");
    assert_eq!(row.attempts, 1, "a fresh budget");
    assert_eq!(store.attempts(row.id).await.expect("attempts").len(), 2);
    assert_eq!(std::fs::read_dir(&dir).expect("alerts").count(), lists + 1);
}

#[tokio::test]
async fn a_delivery_killed_mid_way_resumes_without_losing_or_repeating_a_list() {
    let (url, seen) = receiver(Plan::Slow(Duration::from_millis(800))).await;
    let p = Project::new();
    add_webhook(&p, &url, 5);
    p.cli(&["run"]);
    p.cli(&["approve", "1"]);
    let config_file = p.config_file();
    let deliver = move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_yingbao"))
            .arg("--config")
            .arg(&config_file)
            .args(["deliver", "--wait"])
            .env("YB_TEST_WEBHOOK_SECRET", SECRET)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn deliver")
    };
    let mut child = deliver();
    let start = Instant::now();
    while seen.lock().expect("lock").requests.len() < 3 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no requests arrived"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The third list is in flight: accepted by the receiver, not yet answered.
    child.kill().expect("kill");
    child.wait().expect("reap");
    let before = seen.lock().expect("lock").requests.len();

    // The database the binary uses (config: sqlite://var/yingbao.db).
    let url = format!("sqlite://{}", p.root().join("var/yingbao.db").display());
    let store = Store::open(&url)
        .await
        .expect("open the project's database");
    let outbox = store.outbox().await.expect("outbox");
    let cut = outbox
        .iter()
        .find(|r| r.channel == "county_oa" && r.status == "pending" && r.attempts == 1)
        .unwrap_or_else(|| panic!("no delivery cut off mid-attempt: {outbox:#?}"));
    let attempts = store.attempts(cut.id).await.expect("attempts");
    assert_eq!(attempts.len(), 1);
    assert_eq!(
        attempts[0].1, "started",
        "the killed attempt left its trace"
    );

    let status = tokio::task::spawn_blocking(move || {
        let mut again = deliver();
        again.wait().expect("wait")
    })
    .await
    .expect("join");
    assert!(status.success());
    let outbox = store.outbox().await.expect("outbox");
    assert!(outbox.iter().all(|r| r.status == "delivered"));
    let lists = outbox.iter().filter(|r| r.channel == "county_oa").count();
    let seen = seen.lock().expect("lock").clone();
    assert_eq!(seen.accepted.len(), lists, "no list lost");
    assert!(
        seen.accepted.values().all(|n| *n == 1),
        "no list accepted twice"
    );
    // The cut-off list was sent again with the same key, and the receiver recognised it.
    assert_eq!(seen.duplicates, 1);
    assert_eq!(seen.requests.len(), lists + 1);
    eprintln!(
        "killed after {before} requests; resumed: {} requests for {lists} lists, {} repeated key",
        seen.requests.len(),
        seen.duplicates
    );
}

/// A WeCom group robot whose first upload of every file fails ("system busy").
#[derive(Clone, Default)]
struct Robot {
    /// (msgtype, first line of the markdown or the media id).
    messages: Arc<Mutex<Vec<(String, String)>>>,
    uploads: Arc<Mutex<BTreeMap<String, usize>>>,
}

async fn robot_send(State(r): State<Robot>, body: Bytes) -> axum::Json<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
    let kind = v["msgtype"].as_str().unwrap_or_default().to_string();
    let what = match kind.as_str() {
        "markdown" => v["markdown"]["content"]
            .as_str()
            .unwrap_or_default()
            .lines()
            .next()
            .unwrap_or_default()
            .to_string(),
        _ => v["file"]["media_id"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    };
    r.messages.lock().expect("lock").push((kind, what));
    axum::Json(serde_json::json!({"errcode": 0, "errmsg": "ok"}))
}

async fn robot_upload(
    State(r): State<Robot>,
    mut form: axum::extract::Multipart,
) -> axum::Json<serde_json::Value> {
    let field = form.next_field().await.expect("multipart").expect("field");
    let name = field.file_name().unwrap_or_default().to_string();
    let n = {
        let mut uploads = r.uploads.lock().expect("lock");
        let n = uploads.entry(name.clone()).or_default();
        *n += 1;
        *n
    };
    if n == 1 {
        return axum::Json(serde_json::json!({"errcode": -1, "errmsg": "system busy"}));
    }
    axum::Json(serde_json::json!({"errcode": 0, "errmsg": "ok", "media_id": name}))
}

#[tokio::test]
async fn a_wecom_group_gets_one_summary_and_one_file_despite_a_failed_upload() {
    let robot = Robot::default();
    let app = Router::new()
        .route("/send", post(robot_send))
        .route("/upload", post(robot_upload))
        .with_state(robot.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });

    let p = Project::new();
    let file = p.config_file();
    let text = std::fs::read_to_string(&file).expect("config");
    // 水头镇 only, through its WeCom group.
    let text = format!(
        "{text}\n[[delivery.channel]]\nid = \"wecom_shuitou\"\nkind = \"wecom\"\n\
         key_env = \"YB_TEST_WECOM_KEY\"\nurl = \"http://{addr}/send\"\n\
         upload_url = \"http://{addr}/upload\"\ntownships = [\"350583119\"]\n\
         backoff_secs = 1\nmax_backoff_secs = 1\n"
    );
    std::fs::write(&file, text.replace("after_run = true", "after_run = false")).expect("write");
    let cfg = p.config();
    let store = p.sqlite().await;
    let s = pipeline::run(&cfg, &store).await.expect("run");
    assert!(store.approve_run(s.run_id, "test").await.expect("approve") > 0);
    let env = |name: &str| (name == "YB_TEST_WECOM_KEY").then(|| "robot-key".to_string());
    let start = Instant::now();
    loop {
        deliver_due(&cfg.channels, &store, &env)
            .await
            .expect("deliver");
        if store.next_delivery_due().await.expect("next").is_none() {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{:#?}",
            store.outbox().await.expect("outbox")
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let messages = robot.messages.lock().expect("lock").clone();
    let kinds: Vec<&str> = messages.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(kinds, ["markdown", "file"], "{messages:?}");
    assert!(messages[0].1.contains("水头镇"), "{}", messages[0].1);
    assert!(
        messages[1].1.starts_with("350583119_水头镇"),
        "{}",
        messages[1].1
    );
    let row = store
        .outbox()
        .await
        .expect("outbox")
        .into_iter()
        .find(|r| r.channel == "wecom_shuitou")
        .expect("row");
    assert_eq!(row.status, "delivered");
    assert_eq!(row.attempts, 2);
    assert_eq!(row.progress, ["wecom:markdown", "wecom:file"]);
}
