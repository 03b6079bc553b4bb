//! Folder channel: copies the township's Excel and a JSON manifest into `<path>/<cycle>/`
//! (alerts into `<path>/告警/`), atomically and idempotently per idempotency key.

use std::io::ErrorKind as IoKind;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{
    payload_json, xlsx_file_name, Alert, ListDelivery, Payload, Receipt, SendError, TestMessage,
};

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
        Payload::Test(t) => send_test(spec, t).await,
    }
}

/// A test message: `<path>/测试消息_<stamp>.txt` holding its text.
async fn send_test(spec: &FolderSpec, t: &TestMessage) -> Result<Receipt, SendError> {
    let target = spec
        .path
        .join(format!("测试消息_{}.txt", file_safe(&t.stamp)));
    tokio::fs::create_dir_all(&spec.path)
        .await
        .map_err(|e| io_error("create directory", &spec.path, e))?;
    write_atomic(&target, format!("{}\n", t.text).as_bytes()).await?;
    Ok(Receipt {
        detail: format!("wrote {}", target.display()),
    })
}

/// Whether the folder takes files, changing nothing: the folder, or when it does not exist
/// yet the nearest folder above it that would hold it, gets a probe file that is removed at
/// once.
pub(super) async fn reach(spec: &FolderSpec) -> Result<Receipt, SendError> {
    let path = spec.path.clone();
    match tokio::task::spawn_blocking(move || reach_blocking(&path)).await {
        Ok(reached) => reached,
        Err(e) => Err(SendError::retryable(format!(
            "{CHANNEL}: the probe of {} stopped: {e}",
            spec.path.display()
        ))),
    }
}

fn reach_blocking(path: &Path) -> Result<Receipt, SendError> {
    let mut existing = path;
    loop {
        match std::fs::metadata(existing) {
            Ok(m) if m.is_dir() => break,
            Ok(_) if existing == path => {
                return Err(SendError::permanent(format!(
                    "{CHANNEL}: {} is a file, not a folder",
                    path.display()
                )))
            }
            Ok(_) => {
                return Err(SendError::permanent(format!(
                    "{CHANNEL}: {} cannot be created: {} is a file, not a folder",
                    path.display(),
                    existing.display()
                )))
            }
            Err(e) if matches!(e.kind(), IoKind::NotFound | IoKind::NotADirectory) => {
                match existing.parent() {
                    Some(up) if !up.as_os_str().is_empty() => existing = up,
                    _ => {
                        return Err(SendError::permanent(format!(
                            "{CHANNEL}: {} cannot be created: no folder above it exists",
                            path.display()
                        )))
                    }
                }
            }
            Err(e) => return Err(io_error("open", existing, e)),
        }
    }
    let probe = existing.join(format!(".yingbao-probe-{}", std::process::id()));
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .map_err(|e| io_error("create a file in", existing, e))?;
    std::fs::remove_file(&probe).map_err(|e| io_error("remove the probe file", &probe, e))?;
    let detail = if existing == path {
        format!("{} exists and is writable", path.display())
    } else {
        format!(
            "{} will be created in {}, which is writable",
            path.display(),
            existing.display()
        )
    };
    Ok(Receipt { detail })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reach_writes_and_removes_a_probe_and_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let spec = |path: PathBuf| FolderSpec {
            path,
            timeout_secs: 1,
        };
        let here = reach(&spec(dir.path().to_path_buf())).await.unwrap();
        assert!(here.detail.ends_with("exists and is writable"), "{here:?}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

        let later = dir.path().join("共享盘/2025");
        let ok = reach(&spec(later.clone())).await.unwrap();
        assert!(ok.detail.contains("will be created in"), "{ok:?}");
        assert!(!later.exists() && !dir.path().join("共享盘").exists());

        let file = dir.path().join("a-file");
        std::fs::write(&file, b"x").unwrap();
        let err = reach(&spec(file.join("sub"))).await.unwrap_err();
        assert_eq!(
            err.message,
            format!(
                "folder: {} cannot be created: {} is a file, not a folder",
                file.join("sub").display(),
                file.display()
            )
        );
        assert_eq!(err.kind, crate::deliver::channel::ErrorKind::Permanent);
    }
}
