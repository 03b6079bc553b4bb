//! Throughput of `yingbao::ingest::http::fetch`: serves 200,000 generated records (Chinese names,
//! page size 1000) from a local axum server and prints records/s and MB/s.
//!
//! `cargo run --release --example http_throughput [records] [page_size]`

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::Query;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use serde_json::json;

use yingbao::ingest::http::{fetch, HttpSource, Paging, PagingKind};

const SURNAMES: &[&str] = &["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周"];
const TOWNS: &[&str] = &[
    "秣陵街道",
    "湖熟街道",
    "淳化街道",
    "禄口街道",
    "江宁街道",
    "横溪街道",
];

fn page_body(page: usize, size: usize, total: usize) -> String {
    let start = (page - 1) * size;
    let rows: Vec<_> = (start..(start + size).min(total))
        .map(|i| {
            json!({
                "id": format!("91320115MA{i:08}"),
                "name": format!("南京{}{}精密机械制造有限公司", SURNAMES[i % 10], TOWNS[i % 6]),
                "legalPerson": format!("{}某{}", SURNAMES[(i / 10) % 10], i % 97),
                "town": TOWNS[i % 6],
                "employees": (i * 7919) % 500,
                "registeredCapital": format!("{}.50", (i * 31) % 10_000),
                "hazards": ["粉尘", "噪声"],
                "updateTime": format!("2024-{:02}-{:02} 08:00:00", 1 + i % 12, 1 + i % 28),
            })
        })
        .collect();
    json!({"code": "0", "msg": "成功", "data": {"total": total, "rows": rows}}).to_string()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let total = args.first().copied().unwrap_or(200_000);
    let size = args.get(1).copied().unwrap_or(1000);

    // Pre-render every page so the server costs little next to the client.
    let pages: Vec<String> = (1..=total.div_ceil(size))
        .map(|p| page_body(p, size, total))
        .collect();
    let bytes: usize = pages.iter().map(String::len).sum();
    let pages = Arc::new(pages);
    let app = Router::new().route(
        "/api/list",
        get(move |Query(q): Query<HashMap<String, String>>| {
            let pages = pages.clone();
            async move {
                let p: usize = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
                let body = pages.get(p - 1).cloned().unwrap_or_else(|| {
                    json!({"code": "0", "data": {"total": total, "rows": []}}).to_string()
                });
                ([("content-type", "application/json")], body).into_response()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });

    let mut spec = HttpSource::new(format!("http://{addr}/api/list"));
    spec.records_path = "data.rows".into();
    spec.paging = Paging {
        kind: PagingKind::Page,
        page_size: size as u64,
        total_path: Some("data.total".into()),
        ..Paging::default()
    };

    let start = Instant::now();
    let got = fetch(&spec, &|_| None, None).await?;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{} records in {} pages, {:.1} MB of JSON, {:.2} s: {:.0} records/s, {:.1} MB/s",
        got.records.len(),
        got.pages,
        bytes as f64 / 1e6,
        secs,
        got.records.len() as f64 / secs,
        bytes as f64 / 1e6 / secs
    );
    Ok(())
}
