//! `yingbao accept <source>`: the operator's word that a held snapshot is right (a feed that
//! really shrank, a first read smaller than expected); the next run uses it.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Result};

use crate::store::Accepted;

pub async fn accept(config: &Path, source: &str) -> Result<ExitCode> {
    let cfg = super::load(config)?;
    if !cfg.connectors.iter().any(|c| c.id == source) {
        let known: Vec<&str> = cfg.connectors.iter().map(|c| c.id.as_str()).collect();
        bail!(
            "no source `{source}`; the sources are: {}",
            known.join(", ")
        );
    }
    let store = super::open_store(&cfg).await?;
    let at = chrono::Utc::now().to_rfc3339();
    match store.accept_snapshot(source, &at).await? {
        Accepted::Now(s) => {
            println!(
                "{source}: snapshot {} of run {} ({} records) accepted; the next run uses it",
                s.id, s.run_id, s.records
            );
            Ok(ExitCode::SUCCESS)
        }
        Accepted::AlreadyGood(s) => {
            println!(
                "{source}: its newest snapshot ({}, run {}) is good already; nothing to accept",
                s.id, s.run_id
            );
            Ok(ExitCode::SUCCESS)
        }
        Accepted::Failed(s) => bail!(
            "{source}: its newest snapshot ({}, run {}) failed — nothing was read that could be accepted: {}",
            s.id,
            s.run_id,
            s.note.as_deref().unwrap_or("no reason recorded")
        ),
        Accepted::Nothing => bail!("{source}: no snapshot yet; run `yingbao run` first"),
    }
}
