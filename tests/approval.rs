//! The operator's month through the binary, at a real receiver on 127.0.0.1: the first run's
//! lists wait; `approve` sends them; after a config fix, a rerun in the same month sends a
//! 更正版 only to the townships whose list changed, with its own key and what was added and
//! removed; a dry run sends nothing.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use common::Project;
use serde_json::Value;

const SECRET_VAR: &str = "YB_TEST_APPROVAL_WEBHOOK_SECRET";

/// Every list the receiver got: (idempotency key, body).
type Received = Arc<Mutex<Vec<(String, Value)>>>;

async fn hook(State(seen): State<Received>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let Ok(json) = serde_json::from_slice::<Value>(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    seen.lock().expect("lock").push((key, json));
    StatusCode::OK
}

async fn receiver() -> (String, Received) {
    let seen: Received = Arc::default();
    let app = Router::new()
        .route("/hook", post(hook))
        .with_state(seen.clone());
    let addr = common::listen(app).await;
    (format!("http://{addr}/hook"), seen)
}

/// Runs the binary; returns (exit code, stdout, stderr).
fn yingbao(p: &Project, args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_yingbao"))
        .arg("--config")
        .arg(p.config_file())
        .args(args)
        .env(SECRET_VAR, "approval-secret")
        .output()
        .expect("run yingbao");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).expect("read");
    assert!(text.contains(from), "{} lacks {from:?}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).expect("write");
}

/// The leads' ids of a received list body.
fn lead_ids(body: &Value) -> BTreeSet<String> {
    body["leads"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|l| l["lead_id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn ids_of(changes: &Value) -> BTreeSet<String> {
    changes
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|c| c["lead_id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn first_run_waits_approve_sends_a_rerun_sends_corrections_and_a_dry_run_sends_nothing() {
    let (url, seen) = receiver().await;
    let p = Project::new();
    let config = p.config_file();
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(
        &config,
        format!(
            "{text}\n[[delivery.channel]]\nid = \"county_oa\"\nkind = \"webhook\"\nurl = \"{url}\"\n\
             secret_env = \"{SECRET_VAR}\"\ntownships = [\"*\"]\nmax_attempts = 2\nbackoff_secs = 1\n"
        ),
    )
    .expect("write config");
    // Three wrong column names in the market connector: the feed fails.
    let market = p.root().join("connectors/market.toml");
    edit(
        &market,
        "uscc = \"统一社会信用代码\"",
        "uscc = \"信用代码号\"",
    );
    edit(
        &market,
        "name = [\"企业名称\", \"市场主体名称\", \"名称\"]",
        "name = \"单位名\"",
    );
    edit(
        &market,
        "registry_status = \"登记状态\"",
        "registry_status = \"状态\"",
    );

    // 1. The first run: market failed, the lists are written and wait.
    let (code, out, err) = yingbao(&p, &["run"]);
    assert_eq!(code, 4, "a failed feed is exit 4: {out}\n{err}");
    assert!(
        out.contains("the lists wait for approval:")
            && out.contains("first run: no township list was sent before")
            && out.contains("source `market` is failed")
            && out.contains("yingbao approve 1"),
        "{out}"
    );
    eprintln!("first run (exit {code}):\n{out}");
    assert!(seen.lock().expect("lock").is_empty(), "nothing is sent");
    let shared = p.root().join("out/共享盘");
    assert!(!shared.exists(), "not even to the shared folder");
    let (_, listing, _) = yingbao(&p, &["approve"]);
    assert!(
        listing.contains("list deliveries wait for approval")
            && listing.contains("send them with `yingbao approve 1`"),
        "{listing}"
    );

    // 2. Approve: every township's list arrives once, as version 1 under its plain key.
    let (code, out, err) = yingbao(&p, &["approve", "1", "--by", "县卫健委张三"]);
    assert_eq!(code, 0, "{out}\n{err}");
    eprintln!("approve 1:\n{out}");
    let first: BTreeMap<String, Value> = seen
        .lock()
        .expect("lock")
        .iter()
        .map(|(k, b)| {
            (
                b["township_code"].as_str().unwrap_or("county").to_string(),
                (k, b),
            )
        })
        .map(|(t, (k, b))| {
            assert!(!k.contains("-v"), "a first version has the plain key: {k}");
            assert_eq!(b["version"], 1);
            // 反馈时限: the run's date (2025-06-30) + `[delivery.list] feedback_days` (15).
            assert_eq!(b["deadline"], "2025年07月15日前");
            assert!(b["correction"].is_null());
            (t, b.clone())
        })
        .collect();
    assert!(first.len() >= 20, "every township's list: {}", first.len());
    assert_eq!(seen.lock().expect("lock").len(), first.len(), "each once");
    // Approving again releases nothing.
    let (code, _, err) = yingbao(&p, &["approve", "1"]);
    assert_ne!(code, 0);
    assert!(
        err.contains("run 1 has no list waiting for approval"),
        "{err}"
    );

    // 3. The fix and a rerun in the same month: corrections wait (the lead count jumped and
    //    approval is manual), then go only where a township's list changed.
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("connectors/market.toml"),
        &market,
    )
    .expect("restore market");
    let (code, out, err) = yingbao(&p, &["run", "--json"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let summary: Value = serde_json::from_str(&out).expect("summary json");
    assert_eq!(summary["approval"]["waits"], true);
    let corrections = summary["corrections"].as_u64().expect("corrections");
    assert!(corrections > 0, "the fix changes some lists: {out}");
    assert_eq!(
        summary["queued_deliveries"].as_u64(),
        Some(corrections),
        "only corrected lists are queued"
    );
    let before_approval = seen.lock().expect("lock").len();
    assert_eq!(before_approval, first.len(), "corrections wait too");
    let (code, out, err) = yingbao(&p, &["approve", "2"]);
    assert_eq!(code, 0, "{out}\n{err}");

    let all = seen.lock().expect("lock").clone();
    let second: Vec<&(String, Value)> = all[before_approval..].iter().collect();
    // Two channels serve every township: the shared folder and this receiver.
    assert_eq!(2 * second.len() as u64, corrections);
    let mut corrected = BTreeSet::new();
    for (key, body) in &second {
        let township = body["township_code"]
            .as_str()
            .unwrap_or("county")
            .to_string();
        let v1 = &first[&township];
        let v1_key = v1["idempotency_key"].as_str().expect("key");
        assert_eq!(key, &format!("{v1_key}-v2"), "its own key");
        assert_eq!(body["version"], 2);
        let c = &body["correction"];
        assert_eq!(c["version"], 2);
        assert_eq!(c["replaces"], 1);
        let (added, removed) = (ids_of(&c["added"]), ids_of(&c["removed"]));
        assert!(!added.is_empty() || !removed.is_empty(), "{c}");
        // What was added and removed is exactly the difference of the two versions.
        let (old, new) = (lead_ids(v1), lead_ids(body));
        assert_eq!(added, new.difference(&old).cloned().collect());
        assert_eq!(removed, old.difference(&new).cloned().collect());
        for change in c["added"].as_array().into_iter().flatten() {
            assert!(!change["why"].as_str().unwrap_or_default().is_empty());
        }
        for change in c["removed"].as_array().into_iter().flatten() {
            assert!(!change["why"].as_str().unwrap_or_default().is_empty());
        }
        eprintln!(
            "correction {key}: v1 {} leads → v2 {} leads, added {:?}, removed {:?}",
            lead_ids(v1).len(),
            lead_ids(body).len(),
            c["added"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|a| format!("{} ({})", a["name"], a["why"]))
                .collect::<Vec<_>>(),
            c["removed"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|a| format!("{} ({})", a["name"], a["why"]))
                .collect::<Vec<_>>()
        );
        corrected.insert(township);
    }
    eprintln!(
        "{} of {} townships got a 更正版; the others got nothing",
        corrected.len(),
        first.len()
    );
    // The townships without a correction kept the same number of leads (their list is the
    // same set: a changed set would have been corrected).
    let by_township: BTreeMap<String, u64> = summary["by_township"]
        .as_array()
        .expect("by_township")
        .iter()
        .map(|t| {
            let code = t[0].as_str().unwrap_or_default();
            let code = if code.is_empty() { "county" } else { code };
            (code.to_string(), t[2].as_u64().unwrap_or(0))
        })
        .collect();
    let unchanged: Vec<&String> = first.keys().filter(|t| !corrected.contains(*t)).collect();
    assert!(
        !unchanged.is_empty(),
        "some townships' lists did not change"
    );
    for t in unchanged {
        assert_eq!(
            by_township.get(t).copied().unwrap_or(0) as usize,
            lead_ids(&first[t]).len(),
            "township {t} got no correction, so its list is the same"
        );
    }
    // The shared folder shows the latest version of a corrected township's list.
    let t = corrected.iter().next().expect("a corrected township");
    let manifest = std::fs::read_dir(shared.join("2025年06月"))
        .expect("shared cycle folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .find(|p| p.to_string_lossy().contains(t.as_str()))
        .expect("manifest of the corrected township");
    let m: Value = serde_json::from_slice(&std::fs::read(&manifest).expect("read")).expect("json");
    assert_eq!(m["version"], 2, "{manifest:?}");
    // The list itself says it is a correction; an unchanged township's does not.
    let title = |path: &Path| -> String {
        use calamine::Reader;
        let mut book = calamine::open_workbook_auto(path).expect("open list");
        let range = book.worksheet_range("线索清单").expect("main sheet");
        range
            .get_value((0, 0))
            .map(|c| c.to_string())
            .unwrap_or_default()
    };
    let copied = manifest.with_extension("xlsx");
    assert!(
        title(&copied).ends_with("【更正版·第2版】"),
        "{}",
        title(&copied)
    );
    let run2 = p.root().join("out/2025-06-30-run2");
    let unchanged = std::fs::read_dir(&run2)
        .expect("run 2 folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|f| {
            f.extension().is_some_and(|e| e == "xlsx")
                && !corrected
                    .iter()
                    .any(|t| f.to_string_lossy().contains(t.as_str()))
        })
        .expect("an unchanged township's list");
    assert!(
        !title(&unchanged).contains("更正版"),
        "{}",
        title(&unchanged)
    );

    // 4. A dry run writes a preview and sends, queues and moves nothing.
    let store = p.sqlite_named("yingbao").await;
    let outbox_before = store.outbox().await.expect("outbox").len();
    let states_before = store.lead_states().await.expect("states");
    store.close().await;
    let (code, out, err) = yingbao(&p, &["run", "--dry-run"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("dry run: lists written to"), "{out}");
    let preview = std::fs::read_dir(p.root().join("out/preview"))
        .expect("preview folder")
        .count();
    assert_eq!(preview, 1);
    assert_eq!(seen.lock().expect("lock").len(), all.len(), "nothing sent");
    let store = p.sqlite_named("yingbao").await;
    assert_eq!(store.outbox().await.expect("outbox").len(), outbox_before);
    assert_eq!(store.lead_states().await.expect("states"), states_before);
    let last = store.last_run().await.expect("last run");
    assert_eq!(last, Some(2), "a dry run is never the last run");
    store.close().await;
}
