//! Load on the portal's lead list: a township with 2,000 listed leads, a signed-in user, and
//! concurrent clients on 127.0.0.1 for a fixed time; prints requests/s and latency percentiles.
//!
//! `cargo run --release --example portal_load -- [--leads 2000] [--clients 16] [--secs 10]`
//! Run it from the project root (it copies `config/` and `connectors/` into a temp folder).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use yingbao::portal::auth::{self, PasswordParams};
use yingbao::portal::{router, PortalState};
use yingbao::store::Store;

const TOWNSHIP: &str = "350583119";

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let path = entry?.path();
        let target = to.join(path.file_name().unwrap_or_default());
        if path.is_dir() {
            copy_tree(&path, &target)?;
        } else {
            std::fs::copy(&path, &target)?;
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (n_leads, clients, secs) = (
        arg("--leads", 2000),
        arg("--clients", 16),
        arg("--secs", 10),
    );
    let dir = tempfile::tempdir()?;
    copy_tree(Path::new("config"), &dir.path().join("config"))?;
    copy_tree(Path::new("connectors"), &dir.path().join("connectors"))?;
    let cfg = yingbao::config::load(&dir.path().join("config/yingbao.toml"))
        .map_err(|ps| format!("config: {}", ps.len()))?;
    let url = format!("sqlite://{}", dir.path().join("var/load.db").display());
    let store = Store::open(&url).await?;
    let summary = yingbao::pipeline::run(&cfg, &store).await?;

    // Copy the township's leads until it has `n_leads` (each copy a lead of its own).
    let Store::Sqlite(pool) = &store else {
        return Err("sqlite only".into());
    };
    let have: Vec<(String, String)> = sqlx::query_as(
        "SELECT l.lead_id, l.data FROM leads l JOIN lead_states s ON s.lead_id = l.lead_id \
         WHERE l.run_id = ? AND s.township_code = ?",
    )
    .bind(summary.run_id)
    .bind(TOWNSHIP)
    .fetch_all(pool)
    .await?;
    let mut tx = pool.begin().await?;
    for i in have.len()..n_leads {
        let (id, data) = &have[i % have.len()];
        let copy = format!("{id}-X{i}");
        sqlx::query("INSERT INTO leads (run_id, lead_id, entity_id, township_code, rule_ids, data, kind) VALUES (?, ?, ?, ?, '', ?, 'unfiled')")
            .bind(summary.run_id).bind(&copy).bind(format!("E-X{i}")).bind(TOWNSHIP).bind(data)
            .execute(&mut *tx).await?;
        sqlx::query("INSERT INTO lead_states (lead_id, entity_id, kind, status, township_code, first_seen, opened_on, last_run) VALUES (?, ?, 'unfiled', 'open', ?, '2025-06-30', '2025-06-30', ?)")
            .bind(&copy).bind(format!("E-X{i}")).bind(TOWNSHIP).bind(summary.run_id)
            .execute(&mut *tx).await?;
    }
    tx.commit().await?;
    let listed = store.portal_leads(Some(TOWNSHIP)).await?.len();

    let cheap = PasswordParams {
        m_kib: 256,
        t: 1,
        p: 1,
    };
    let hash = auth::hash_password_with("load-test-password", &cheap)?;
    store
        .add_user(
            "load",
            "压测",
            yingbao::store::AccountRole::Township,
            Some(TOWNSHIP),
            false,
            &hash,
        )
        .await?;
    let state = PortalState::new(Arc::new(cfg), store.clone(), false);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
        if let Err(e) = axum::serve(listener, app).await {
            eprintln!("server: {e}");
        }
    });
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(clients)
        .build()?;
    let form = http.get(format!("http://{addr}/login")).send().await?;
    let login_cookie = form
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .ok_or("no form cookie")?
        .to_string();
    let html = form.text().await?;
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .ok_or("no form token")?
        .to_string();
    let login = http
        .post(format!("http://{addr}/login"))
        .header("cookie", login_cookie)
        .form(&[
            ("username", "load"),
            ("password", "load-test-password"),
            ("csrf", csrf.as_str()),
        ])
        .send()
        .await?;
    let cookie = login
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .ok_or("no session cookie")?
        .to_string();
    let page = format!("http://{addr}/leads");
    let first = http.get(&page).header("cookie", &cookie).send().await?;
    let bytes = first.bytes().await?.len();

    let until = Instant::now() + Duration::from_secs(secs as u64);
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (http, page, cookie) = (http.clone(), page.clone(), cookie.clone());
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::new();
            let mut errors = 0usize;
            while Instant::now() < until {
                let t = Instant::now();
                match http.get(&page).header("cookie", &cookie).send().await {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        times.push(t.elapsed());
                    }
                    _ => errors += 1,
                }
            }
            (times, errors)
        }));
    }
    let mut times = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (mut ts, e) = t.await?;
        times.append(&mut ts);
        errors += e;
    }
    times.sort();
    let pct = |p: f64| {
        times
            .get(((times.len() as f64 * p) as usize).min(times.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "lead list of a township with {listed} leads ({:.0} KiB per page), {clients} clients, {secs} s:",
        bytes as f64 / 1024.0
    );
    println!(
        "  {} requests, {:.1} requests/s, {errors} errors; latency p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        times.len(),
        times.len() as f64 / secs as f64,
        pct(0.50),
        pct(0.90),
        pct(0.99),
        pct(1.0)
    );
    Ok(())
}
