//! Commands around what leaves yingbao and comes back: `deliver` (the outbox; `--test` for
//! one marked test message through a channel), `feedback
//! import` (townships' returned lists) and `report` (the county's periodic summary).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};

use super::text;
use crate::config::Config;
use crate::deliver::channel::{self, test_text, Payload, TestMessage};
use crate::deliver::outbox::{deliver_due, DeliveryStats};
use crate::ingest::process_env;
use crate::store::{NewDisposition, Store};

/// `yingbao deliver`: sends what is due; with `wait`, keeps going until nothing is pending.
pub async fn deliver(
    cfg: &Config,
    store: &Store,
    wait: bool,
    status: bool,
    retry: Option<&str>,
) -> Result<ExitCode> {
    if let Some(key) = retry {
        let n = store.revive((key != "dead").then_some(key)).await?;
        if n == 0 {
            anyhow::bail!("no delivery that was given up has the key `{key}` (see `yingbao deliver --status`)");
        }
        println!("{n} delivery(ies) queued again");
    }
    if !status {
        let mut total = DeliveryStats::default();
        loop {
            let s = deliver_due(&cfg.channels, store, &process_env)
                .await
                .context("delivery failed")?;
            total.delivered += s.delivered;
            total.retried += s.retried;
            total.dead += s.dead;
            total.alerts += s.alerts;
            let next = store.next_delivery_due().await?;
            match next {
                Some(next) if wait => {
                    let due = chrono::DateTime::parse_from_rfc3339(&next)
                        .map(|t| t.with_timezone(&chrono::Utc))
                        .unwrap_or_else(|_| chrono::Utc::now());
                    let pause = (due - chrono::Utc::now())
                        .to_std()
                        .unwrap_or(Duration::ZERO)
                        .max(Duration::from_millis(200));
                    tracing::info!(next = %next, "waiting for the next retry");
                    tokio::time::sleep(pause).await;
                }
                _ => break,
            }
        }
        println!(
            "delivered {}, retries scheduled {}, given up {}, operator alerts {}",
            total.delivered, total.retried, total.dead, total.alerts
        );
    }
    print_outbox(store, cfg.timezone()).await?;
    let dead = store.outbox().await?.iter().any(|r| r.status == "dead");
    Ok(if dead {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Prints the outbox: one line per delivery, with when it was delivered (or is next tried)
/// in the county's zone.
pub async fn print_outbox(store: &Store, tz: chrono_tz::Tz) -> Result<()> {
    let rows = store.outbox().await?;
    println!("{}", text::zone_line(tz));
    println!(
        "{:<8} {:<11} {:<14} {:<6} {:<10} {:>8}  {:<16} {:<48} last error",
        "cycle",
        "township",
        "channel",
        "kind",
        "status",
        "attempts",
        "delivered/next",
        "idempotency key"
    );
    for r in &rows {
        let when = match (r.status.as_str(), &r.delivered_at) {
            (_, Some(at)) => text::stored_time(tz, at),
            ("pending", None) => text::stored_time(tz, &r.next_attempt_at),
            _ => "-".to_owned(),
        };
        println!(
            "{:<8} {:<11} {:<14} {:<6} {:<10} {:>8}  {:<16} {:<48} {}",
            r.cycle,
            r.township_code.as_deref().unwrap_or("county"),
            r.channel,
            r.kind,
            r.status,
            r.attempts,
            when,
            r.idempotency_key,
            r.last_error.as_deref().unwrap_or("")
        );
    }
    Ok(())
}

/// `yingbao deliver --test <channel>`: one clearly marked test message through that channel
/// now, past the outbox (nothing is queued or recorded). An error names the failure.
pub async fn deliver_test(cfg: &Config, channel_id: &str) -> Result<ExitCode> {
    let channels = &cfg.settings.delivery.channel;
    let Some(c) = channels.iter().find(|c| c.id == channel_id) else {
        let known: Vec<&str> = channels.iter().map(|c| c.id.as_str()).collect();
        anyhow::bail!(
            "no channel `{channel_id}`; the channels are: {}",
            if known.is_empty() {
                "none (add a [[delivery.channel]])".to_owned()
            } else {
                known.join(", ")
            }
        );
    };
    let spec = crate::deliver::outbox::channel_spec(c, &cfg.root)
        .map_err(|e| anyhow::anyhow!("channel `{channel_id}` ({}): {e}", c.kind))?;
    let tz = cfg.timezone();
    let now = chrono::Utc::now();
    let stamp = now.with_timezone(&tz).format("%Y%m%d-%H%M%S").to_string();
    let county = &cfg.settings.county.name;
    let message = TestMessage {
        idempotency_key: format!("test/{channel_id}/{}", now.format("%Y%m%dT%H%M%S%.3fZ")),
        channel_id: channel_id.to_owned(),
        county: county.clone(),
        text: test_text(channel_id, county, &text::local_time(tz, &now)),
        stamp,
    };
    let receipt = channel::send(&spec, Payload::Test(&message), &process_env)
        .await
        .map_err(|e| anyhow::anyhow!("test message through channel `{channel_id}` failed: {e}"))?;
    println!(
        "test message sent through channel {channel_id} ({}): {}",
        spec.kind_name(),
        receipt.detail
    );
    println!("  text: {}", message.text);
    Ok(ExitCode::SUCCESS)
}

/// `yingbao feedback import`: records the dispositions in returned lists. Rows that are
/// filled in wrongly are listed with file, row and reason; the others are recorded.
pub async fn import_feedback(
    cfg: &Config,
    store: &Store,
    files: &[PathBuf],
    signer: &str,
) -> Result<ExitCode> {
    let today = crate::pipeline::as_of(cfg).max(cfg.today());
    let states = store.lead_states().await?;
    let mut recorded = 0usize;
    let mut bad = 0usize;
    for file in files {
        let (rows, problems) = crate::feedback::read_returned_list(file, today)
            .with_context(|| format!("cannot read {}", file.display()))?;
        for p in &problems {
            bad += 1;
            eprintln!(
                "{}: row {}: {} ({})",
                file.display(),
                p.row,
                p.reason,
                p.lead_id
            );
        }
        for r in rows {
            let Some(state) = states.get(&r.lead_id) else {
                bad += 1;
                eprintln!(
                    "{}: row {}: lead `{}` is unknown",
                    file.display(),
                    r.row,
                    r.lead_id
                );
                continue;
            };
            store
                .add_disposition(&NewDisposition {
                    lead_id: r.lead_id.clone(),
                    township_code: state
                        .assigned_township
                        .clone()
                        .or_else(|| state.township_code.clone()),
                    kind: r.kind.clone(),
                    reason: r.reason.clone(),
                    person: r.person.clone(),
                    signer: signer.to_string(),
                    decided_on: r.decided_on,
                    origin: format!("{}:{}", file_label(file), r.row),
                    signed: true,
                    transfer_to: None,
                })
                .await?;
            recorded += 1;
        }
    }
    println!("recorded {recorded} dispositions; {bad} rows not recorded (listed above)");
    println!("they take effect at the next run");
    Ok(if bad > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn file_label(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| p.display().to_string())
}

/// `yingbao report --period`: the coverage report of the latest run in the period.
pub async fn report(
    cfg: &Config,
    store: &Store,
    period: &str,
    out: Option<&Path>,
) -> Result<ExitCode> {
    let p = crate::report::period::Period::parse(period)
        .with_context(|| format!("`{period}` is not a period: write 2025Q2, 2025-06 or 2025"))?;
    let data = crate::report::data::gather(cfg, store, &p)
        .await
        .context("cannot gather the report's figures")?;
    let dir = out.map_or_else(|| cfg.path(&cfg.settings.output.dir), Path::to_path_buf);
    let stem = format!("覆盖率报告_{}", p.key);
    let fonts = match &cfg.settings.output.font {
        Some(f) => crate::report::FontSource::system_and_file(cfg.path(f)),
        None => crate::report::FontSource::system(),
    };
    let files = tokio::task::spawn_blocking(move || {
        crate::report::write_report(&dir, &stem, &data, &fonts)
    })
    .await?
    .context("cannot write the report")?;
    for w in &files.warnings {
        eprintln!("warning: {w}");
    }
    println!("report (Excel): {}", files.xlsx.display());
    println!("chart (SVG):    {}", files.svg.display());
    match &files.png {
        Some(p) => println!("chart (PNG):    {}", p.display()),
        None => println!("chart (PNG):    not written (see the warning above)"),
    }
    Ok(ExitCode::SUCCESS)
}
