//! `yingbao approve [<run>]`: the operator's release of a run's township lists that wait for
//! approval (`[delivery] approve`); without a run it lists what waits and why.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};

pub async fn approve(config: &Path, run: Option<i64>, by: &str) -> Result<ExitCode> {
    let cfg = super::load(config)?;
    let store = super::open_store(&cfg).await?;
    let waiting = store.waiting_runs().await?;
    let Some(run) = run else {
        if waiting.is_empty() {
            println!("no township list waits for approval");
        }
        for (run, lists) in &waiting {
            println!("run {run}: {lists} list deliveries wait for approval");
            let reasons = store
                .run_row(*run)
                .await?
                .and_then(|r| r.summary_json())
                .and_then(|v| v.pointer("/approval/reasons").cloned())
                .and_then(|r| serde_json::from_value::<Vec<String>>(r).ok())
                .unwrap_or_default();
            for why in reasons {
                println!("  - {why}");
            }
        }
        if let Some((last, _)) = waiting.last() {
            println!("send them with `yingbao approve {last}`");
        }
        store.close().await;
        return Ok(ExitCode::SUCCESS);
    };
    let released = store.approve_run(run, by).await?;
    if released == 0 {
        let others: Vec<String> = waiting.iter().map(|(r, _)| r.to_string()).collect();
        store.close().await;
        if others.is_empty() {
            bail!("run {run} has no list waiting for approval, and no other run has one");
        }
        bail!(
            "run {run} has no list waiting for approval (a later run of the month may have replaced them); runs with lists waiting: {}",
            others.join(", ")
        );
    }
    println!("run {run}: {released} list deliveries approved by {by}");
    if cfg.settings.delivery.after_run {
        let d =
            crate::deliver::outbox::deliver_due(&cfg.channels, &store, &crate::ingest::process_env)
                .await
                .context("delivery failed")?;
        println!(
            "deliveries: {} delivered, {} to retry, {} given up (see `yingbao deliver --status`)",
            d.delivered, d.retried, d.dead
        );
    } else {
        println!("they go with the next `yingbao deliver` or the daemon's delivery job");
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
