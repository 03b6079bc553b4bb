//! Folder channel: copies the township's Excel and a JSON manifest into `<path>/<cycle>/`
//! (alerts into `<path>/告警/`), atomically and idempotently per idempotency key.

use std::io::ErrorKind as IoKind;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{payload_json, xlsx_file_name, Alert, ListDelivery, Payload, Receipt, SendError};

const CHANNEL: &str = "folder";
const ALERT_DIR: &str = "告警";

/// A directory (local or a mounted share) that townships or a sync tool read from.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FolderSpec {
    pub path: PathBuf,
    /// Kept for symmetry with the other channels; file operations are not timed out.
    #[serde(default = "super::default_timeout_secs")]
    pub timeout_secs: u64,
}

pub(super) async fn send(spec: &FolderSpec, payload: Payload<'_>) -> Result<Receipt, SendError> {
    match payload {
        Payload::List(d) => send_list(spec, d, payload).await,
        Payload::Alert(a) => send_alert(spec, a).await,
    }
}

async fn send_list(
    spec: &FolderSpec,
    d: &ListDelivery,
    payload: Payload<'_>,
) -> Result<Receipt, SendError> {
    let file_name = xlsx_file_name(CHANNEL, d)?;
    let dir = spec.path.join(safe_component("cycle", &d.cycle)?);
    let xlsx_target = dir.join(&file_name);
    let manifest_target = xlsx_target.with_extension("json");

    if already_delivered(&manifest_target, &xlsx_target, &d.idempotency_key).await {
        tracing::debug!(idempotency_key = %d.idempotency_key, path = %xlsx_target.display(), "folder target already holds this delivery");
        return Ok(Receipt {
            detail: format!("already delivered to {}", xlsx_target.display()),
        });
    }

    let bytes = tokio::fs::read(&d.xlsx_path).await.map_err(|e| {
        SendError::permanent(format!(
            "{CHANNEL}: cannot read Excel {}: {e}",
            d.xlsx_path.display()
        ))
    })?;
    let manifest = serde_json::to_vec_pretty(&payload_json(CHANNEL, payload)?)
        .map_err(|e| SendError::permanent(format!("{CHANNEL}: cannot encode manifest: {e}")))?;

    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|e| io_error("create directory", &dir, e))?;
    // Excel first, manifest last: the manifest marks a complete delivery.
    write_atomic(&xlsx_target, &bytes).await?;
    write_atomic(&manifest_target, &manifest).await?;
    Ok(Receipt {
        detail: format!("copied to {}", xlsx_target.display()),
    })
}

async fn send_alert(spec: &FolderSpec, a: &Alert) -> Result<Receipt, SendError> {
    let dir = spec.path.join(ALERT_DIR);
    let target = dir.join(format!("{}.txt", file_safe(&a.idempotency_key)));
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|e| io_error("create directory", &dir, e))?;
    let text = format!("{}\n\n{}\n", a.title, a.text);
    write_atomic(&target, text.as_bytes()).await?;
    Ok(Receipt {
        detail: format!("wrote {}", target.display()),
    })
}

#[derive(Deserialize)]
struct ManifestKey {
    idempotency_key: String,
}

/// True when the manifest records this key and the Excel beside it exists.
async fn already_delivered(manifest: &Path, xlsx: &Path, key: &str) -> bool {
    let Ok(raw) = tokio::fs::read(manifest).await else {
        return false;
    };
    let same_key = serde_json::from_slice::<ManifestKey>(&raw)
        .map(|m| m.idempotency_key == key)
        .unwrap_or(false);
    same_key && tokio::fs::try_exists(xlsx).await.unwrap_or(false)
}

/// Writes `bytes` over `target` atomically (`deliver::atomic`), off the async threads.
async fn write_atomic(target: &Path, bytes: &[u8]) -> Result<(), SendError> {
    let (path, data) = (target.to_path_buf(), bytes.to_vec());
    match tokio::task::spawn_blocking(move || crate::deliver::atomic::write(&path, &data)).await {
        Ok(written) => written.map_err(|e| io_error("write", target, e)),
        Err(e) => Err(SendError::retryable(format!(
            "{CHANNEL}: the write of {} stopped: {e}",
            target.display()
        ))),
    }
}

fn io_error(what: &str, path: &Path, e: std::io::Error) -> SendError {
    let message = format!("{CHANNEL}: cannot {what} {}: {e}", path.display());
    match e.kind() {
        IoKind::PermissionDenied
        | IoKind::ReadOnlyFilesystem
        | IoKind::NotADirectory
        | IoKind::IsADirectory
        | IoKind::InvalidFilename
        | IoKind::InvalidInput
        | IoKind::AlreadyExists => SendError::permanent(message),
        _ => SendError::retryable(message),
    }
}

/// Rejects values that would escape the target directory when used as a path component.
fn safe_component<'a>(field: &str, value: &'a str) -> Result<&'a str, SendError> {
    let bad =
        value.is_empty() || value == "." || value == ".." || value.contains(['/', '\\', '\0']);
    if bad {
        Err(SendError::permanent(format!(
            "{CHANNEL}: {field} {value:?} cannot be used as a directory name"
        )))
    } else {
        Ok(value)
    }
}

/// Maps an idempotency key to a file name (separators and control characters become `_`).
fn file_safe(key: &str) -> String {
    let mapped: String = key
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') {
                '_'
            } else {
                c
            }
        })
        .collect();
    match mapped.trim_start_matches('.') {
        "" => "_".to_owned(),
        s => s.to_owned(),
    }
}
