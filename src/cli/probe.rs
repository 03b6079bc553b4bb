//! Operator tools that touch a source without storing anything: `preview <connector>` shows
//! how the first records map and why rows are rejected; `check --connect` tries every source
//! and reaches every delivery channel without sending.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Result};

use super::load;
use crate::config::Config;
use crate::deliver::channel;
use crate::ingest::spec::ConnectorSpec;
use crate::ingest::{self, SourceBatch};

/// The first `rows` records of a source, mapped, with the rejects among them.
async fn sample(cfg: &Config, spec: &ConnectorSpec, rows: usize) -> Result<SourceBatch> {
    if spec.is_remote() {
        Ok(ingest::preview_remote(spec, &ingest::process_env, rows).await?)
    } else {
        let (spec, root) = (spec.clone(), cfg.root.clone());
        Ok(tokio::task::spawn_blocking(move || ingest::read_source(&spec, &root)).await??)
    }
}

/// `yingbao preview <connector>`.
pub async fn preview(config: &Path, connector: &str, rows: usize) -> Result<ExitCode> {
    let cfg = load(config)?;
    let Some(spec) = cfg.connectors.iter().find(|c| c.id == connector) else {
        let known: Vec<&str> = cfg.connectors.iter().map(|c| c.id.as_str()).collect();
        bail!(
            "no connector `{connector}`; the connectors are: {}",
            known.join(", ")
        );
    };
    println!(
        "connector {} (feed {}) from {}",
        spec.id,
        spec.feed,
        spec.location()
    );
    let batch = sample(&cfg, spec, rows).await?;
    for f in &batch.files {
        println!(
            "  read {} — {} rows{}",
            f.path.display(),
            f.rows,
            f.encoding.map(|e| format!(", {e:?}")).unwrap_or_default()
        );
    }
    println!("mapping (canonical field ← header):");
    for (field, headers) in &spec.columns {
        println!("  {field:<16} ← {}", headers.headers().join(" | "));
    }
    for (i, o) in batch.observations.iter().take(rows).enumerate() {
        println!("record {} — key {}", i + 1, o.record_key);
        let value = serde_json::to_value(o)?;
        if let Some(fields) = value.as_object() {
            for (k, v) in fields {
                if matches!(k.as_str(), "source" | "feed" | "record_key") {
                    continue;
                }
                let text = match (k.as_str(), v.as_array()) {
                    ("row_keys", Some(rows)) => format!(
                        "{} source rows ({} …)",
                        rows.len(),
                        rows.first().and_then(|r| r.as_str()).unwrap_or("")
                    ),
                    _ => v.as_str().map_or_else(|| v.to_string(), str::to_string),
                };
                println!("  {k:<16} = {text}");
            }
        }
    }
    let shown = batch.rejects.len().min(50);
    println!(
        "rejects: {} (quarantined rows and dropped values){}",
        batch.rejects.len(),
        if shown < batch.rejects.len() {
            ", the first 50:"
        } else {
            ""
        }
    );
    for r in batch.rejects.iter().take(shown) {
        println!(
            "  {} row {}{}: {} — {}",
            r.file,
            r.row,
            r.column
                .as_deref()
                .map(|c| format!(" column {c}"))
                .unwrap_or_default(),
            r.reason,
            r.action.as_str()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `yingbao check --connect`: reaches every enabled source and every delivery channel;
/// moves no data and sends nothing.
pub async fn connect_all(cfg: &Config) -> ExitCode {
    let mut failed = 0;
    for spec in cfg.connectors.iter().filter(|c| c.enabled) {
        match sample(cfg, spec, 1).await {
            Ok(b) => println!(
                "  connect {:<12} ok: {} row(s) read, {} mapped",
                spec.id,
                b.files.iter().map(|f| f.rows).sum::<usize>(),
                b.observations.len()
            ),
            Err(e) => {
                failed += 1;
                println!("  connect {:<12} FAILED: {e:#}", spec.id);
            }
        }
    }
    let channels_failed = reach_channels(cfg).await;
    if failed > 0 {
        println!("{failed} source(s) could not be reached");
    }
    if channels_failed > 0 {
        println!("{channels_failed} channel(s) could not be reached");
    }
    if failed + channels_failed > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

/// Every configured delivery channel, reached as it would be for sending (its spec and
/// secrets resolved the same way) but without sending: one line per channel. Returns how
/// many failed.
async fn reach_channels(cfg: &Config) -> usize {
    let mut failed = 0;
    for c in &cfg.settings.delivery.channel {
        let reached = match crate::deliver::outbox::channel_spec(c, &cfg.root) {
            Ok(spec) => channel::reach(&spec, &ingest::process_env)
                .await
                .map(|r| r.detail)
                .map_err(|e| e.message),
            Err(e) => Err(format!("{}: {e}", c.kind)),
        };
        match reached {
            Ok(detail) => println!("  channel {} ok: {detail}", c.id),
            Err(why) => {
                failed += 1;
                println!("  channel {} FAILED: {why}", c.id);
            }
        }
    }
    failed
}
