//! Operator tools that touch a source without storing anything: `preview <connector>` shows
//! how the first records map and why rows are rejected; `check --connect` tries every source.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Result};

use super::load;
use crate::config::Config;
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

/// `yingbao check --connect`: reaches every enabled source; moves no data.
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
    if failed > 0 {
        println!("{failed} source(s) could not be reached");
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}
