//! The month's Excel list of a township, as the newest succeeded run wrote it into the output
//! folder, for download: to that township's accounts and the county operator, never another's.

use std::path::{Path, PathBuf};

use axum::extract::{Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::leads::list_township;
use super::signin::viewer;
use super::{PortalError, PortalState};
use crate::deliver::township_files::{file_stem, sanitize_file_part, COUNTY_PREFIX};
use crate::deliver::TownshipKey;
use crate::store::RunRow;

/// The content type of an xlsx workbook.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
/// Succeeded runs looked at for a list: a run whose lists were withheld (a stale register)
/// leaves the one before it as the month's list.
const RUNS_LOOKED_AT: usize = 12;
/// Runs read per query while passing over a daemon's pulls.
const PAGE: i64 = 200;

/// The name the county's list of unplaced leads is written under.
const COUNTY_LIST_NAME: &str = "未能定位乡镇";

#[derive(Debug, Default, Deserialize)]
pub struct Which {
    /// Operator only: a township code, or `county`; a township account's own, or empty.
    #[serde(default)]
    township: String,
}

/// A list found for download: the file and the run that wrote it.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub path: PathBuf,
    /// The run's date (`as_of`), e.g. `2025-06-30`.
    pub as_of: String,
    pub run_id: i64,
}

/// `GET /list.xlsx[?township=CODE]`: the township's list of the newest run that wrote one.
pub async fn latest(
    State(state): State<PortalState>,
    headers: HeaderMap,
    Query(which): Query<Which>,
) -> Result<Response, PortalError> {
    let v = viewer(&state, &headers).await?;
    // The same scope as the list page: a township account's own township only.
    let township = list_township(&v, &which.township)?;
    let name = township_file_name(&state, township.as_deref());
    // A run whose lists wait for the operator's approval has not released them to the
    // townships; the operator sees them to decide.
    let held: Vec<i64> = if v.user.is_operator() {
        Vec::new()
    } else {
        state
            .store
            .waiting_runs()
            .await?
            .into_iter()
            .map(|(run, _)| run)
            .collect()
    };
    let found = find(&state, township.as_deref(), &name, &held)
        .await?
        .ok_or(PortalError::NotFound)?;
    let bytes = tokio::fs::read(&found.path).await.map_err(|e| {
        tracing::error!(path = %found.path.display(), error = %e, "a written list could not be read");
        PortalError::NotFound
    })?;
    let stem = found
        .path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| file_stem(&key(township.as_deref(), &name)));
    let download = format!("{stem}_{}.xlsx", found.as_of);
    state
        .store
        .audit(
            &v.user.display_name,
            "download_list",
            &format!("list:{}", township.as_deref().unwrap_or(COUNTY_PREFIX)),
            &serde_json::json!({
                "file": download, "run_id": found.run_id, "bytes": bytes.len(),
            }),
        )
        .await?;
    Ok((
        [
            (CONTENT_TYPE, XLSX.to_string()),
            (CONTENT_DISPOSITION, attachment(&download)),
            (CACHE_CONTROL, "no-store".to_string()),
        ],
        bytes,
    )
        .into_response())
}

/// The township's name as its list's file is named (the county's list: 未能定位乡镇).
fn township_file_name(state: &PortalState, township: Option<&str>) -> String {
    match township {
        None => COUNTY_LIST_NAME.to_string(),
        Some(code) => state.township_name(Some(code)),
    }
}

fn key(code: Option<&str>, name: &str) -> TownshipKey {
    TownshipKey {
        code: code.map(str::to_string),
        name: name.to_string(),
    }
}

/// The township's list (`None`: the county's) of the newest succeeded run — not a dry run,
/// not one of `held` — whose folder holds one; `None` when no recent run wrote it.
pub async fn find(
    state: &PortalState,
    township: Option<&str>,
    name: &str,
    held: &[i64],
) -> Result<Option<Found>, PortalError> {
    let cfg = state.cfg();
    let out = cfg.path(&cfg.settings.output.dir);
    let mut before = None;
    let mut looked = 0;
    while looked < RUNS_LOOKED_AT {
        let page = state.store.runs_before(before, PAGE).await?;
        let Some(oldest) = page.last() else {
            return Ok(None);
        };
        before = Some(oldest.id);
        for run in page
            .iter()
            .filter(|r| r.status == "succeeded" && !r.is_pull() && !is_preview(r))
        {
            if held.contains(&run.id) {
                continue;
            }
            looked += 1;
            let dir = run_dir(run, &out);
            let found = {
                let (dir, township) = (dir.clone(), township.map(str::to_string));
                let name = name.to_string();
                tokio::task::spawn_blocking(move || list_in(&dir, township.as_deref(), &name))
                    .await
                    .map_err(|e| {
                        tracing::error!(error = %e, "looking for a written list failed");
                        PortalError::NotFound
                    })?
            };
            if let Some(path) = found {
                return Ok(Some(Found {
                    path,
                    as_of: run.as_of.clone(),
                    run_id: run.id,
                }));
            }
            if looked >= RUNS_LOOKED_AT {
                break;
            }
        }
    }
    Ok(None)
}

/// A dry run (`yingbao run --dry-run`): its lists are a preview, never the month's.
fn is_preview(run: &RunRow) -> bool {
    run.summary_json()
        .and_then(|s| s.get("preview").and_then(serde_json::Value::as_bool))
        .unwrap_or(false)
}

/// The folder a run wrote its lists to: as its summary says, else `<output>/<date>-run<id>`.
fn run_dir(run: &RunRow, out: &Path) -> PathBuf {
    run.summary_json()
        .and_then(|s| s.get("out_dir").and_then(|d| d.as_str()).map(PathBuf::from))
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or_else(|| out.join(format!("{}-run{}", run.as_of, run.id)))
}

/// The township's workbook in `dir`: `<code>_<name>.xlsx` as the run names it; for a township
/// renamed since, its code's workbook (`<code>_….xlsx`, the newest if several). Only names
/// read from the folder itself are ever opened.
pub fn list_in(dir: &Path, township: Option<&str>, name: &str) -> Option<PathBuf> {
    let exact = dir.join(format!("{}.xlsx", file_stem(&key(township, name))));
    if exact.is_file() {
        return Some(exact);
    }
    let prefix = match township {
        Some(code) => format!("{}_", sanitize_file_part(code)),
        None => format!("{COUNTY_PREFIX}_{COUNTY_LIST_NAME}"),
    };
    if prefix == "_" {
        return None;
    }
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .filter(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.starts_with(&prefix) && n.ends_with(".xlsx") && e.path().is_file()
        })
        .max_by_key(|e| e.metadata().and_then(|m| m.modified()).ok())
        .map(|e| e.path())
}

/// `Content-Disposition: attachment` for `name`: an ASCII `filename` for old clients and the
/// UTF-8 name as `filename*` (RFC 5987: every byte outside `attr-char` percent-encoded).
pub fn attachment(name: &str) -> String {
    let ascii: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect();
    let ascii = if ascii.trim_start_matches(['_', '.']).is_empty() {
        "list.xlsx".to_string()
    } else {
        ascii
    };
    let mut encoded = String::with_capacity(name.len() * 3);
    for b in name.bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'!' | b'#' | b'$' | b'&' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~'
            )
        {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_name_is_sent_as_utf8_with_an_ascii_fallback() {
        assert_eq!(
            attachment("350583119_水头镇_2025-06-30.xlsx"),
            "attachment; filename=\"350583119__2025-06-30.xlsx\"; \
             filename*=UTF-8''350583119_%E6%B0%B4%E5%A4%B4%E9%95%87_2025-06-30.xlsx"
        );
        // Quotes, spaces and separators never reach the header as they are.
        let h = attachment("a \"b\";c/.xlsx");
        assert!(
            h.ends_with("filename*=UTF-8''a%20%22b%22%3Bc%2F.xlsx"),
            "{h}"
        );
        assert!(h.contains("filename=\"abc.xlsx\""), "{h}");
        assert!(attachment("水头镇").contains("filename=\"list.xlsx\""));
    }

    #[test]
    fn a_list_is_found_by_its_name_else_by_its_code_newest_first() {
        let dir = tempfile::tempdir().expect("dir");
        let d = dir.path();
        assert_eq!(list_in(d, Some("350583119"), "水头镇"), None);
        std::fs::write(d.join("350583001_溪美街道.xlsx"), b"x").expect("write");
        std::fs::write(d.join("350583119_水头镇.csv"), b"x").expect("write");
        assert_eq!(list_in(d, Some("350583119"), "水头镇"), None);
        std::fs::write(d.join("350583119_旧名.xlsx"), b"x").expect("write");
        assert_eq!(
            list_in(d, Some("350583119"), "水头镇"),
            Some(d.join("350583119_旧名.xlsx"))
        );
        std::fs::write(d.join("350583119_水头镇.xlsx"), b"x").expect("write");
        assert_eq!(
            list_in(d, Some("350583119"), "水头镇"),
            Some(d.join("350583119_水头镇.xlsx"))
        );
        // A code that is not a file name part never leads outside the folder.
        assert_eq!(list_in(d, Some("../passwd"), "x"), None);
        assert_eq!(list_in(d, Some("/"), ""), None);
        std::fs::write(d.join("county_未能定位乡镇.xlsx"), b"x").expect("write");
        assert_eq!(
            list_in(d, None, COUNTY_LIST_NAME),
            Some(d.join("county_未能定位乡镇.xlsx"))
        );
    }
}
