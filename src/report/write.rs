//! Writes the report files (SVG, PNG when a CJK font exists, XLSX) into a directory.
//! Every file is written atomically: a temp file in the same directory, then a rename.

use std::io;
use std::path::Path;

use super::{
    chart::chart_svg_with, png, workbook, ChartOptions, FontSource, Report, ReportError,
    ReportFiles,
};

/// Write `{stem}.svg`, `{stem}.png` and `{stem}.xlsx` into `dir` with default chart options.
pub fn write_report(
    dir: &Path,
    stem: &str,
    report: &Report,
    fonts: &FontSource,
) -> Result<ReportFiles, ReportError> {
    write_report_with(dir, stem, report, fonts, &ChartOptions::default())
}

/// Like [`write_report`] with explicit chart options (target line, warning threshold).
///
/// A PNG that cannot be rendered (no CJK font, unreadable font file) is not an error:
/// `png` is `None`, the reason is in `warnings`, and a stale `{stem}.png` is removed.
pub fn write_report_with(
    dir: &Path,
    stem: &str,
    report: &Report,
    fonts: &FontSource,
    opts: &ChartOptions,
) -> Result<ReportFiles, ReportError> {
    check_stem(stem)?;
    std::fs::create_dir_all(dir).map_err(|source| ReportError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut warnings = Vec::new();
    let unlisted = report.unlisted_disposition_kinds();
    if !unlisted.is_empty() {
        let msg = format!(
            "disposition kinds missing from disposition_kinds were appended as columns: {}",
            unlisted.join(", ")
        );
        tracing::warn!("{msg}");
        warnings.push(msg);
    }

    let svg = chart_svg_with(report, opts);
    let svg_path = dir.join(format!("{stem}.svg"));
    write_atomic(&svg_path, svg.as_bytes())?;

    let png_path = dir.join(format!("{stem}.png"));
    let png_bytes = match png::render(&svg, fonts) {
        Ok(rendered) => {
            if !rendered.missing_chars.is_empty() {
                let chars: String = rendered.missing_chars.iter().collect();
                warnings.push(format!(
                    "no loaded font covers these characters, they show as boxes in the PNG: {chars}"
                ));
            }
            write_atomic(&png_path, &rendered.png)?;
            Some(rendered.png)
        }
        Err(e) => {
            tracing::warn!(error = %e, "report chart PNG not rendered");
            warnings.push(e.to_string());
            match std::fs::remove_file(&png_path) {
                Ok(()) => tracing::info!(path = %png_path.display(), "removed stale chart PNG"),
                Err(err) if err.kind() == io::ErrorKind::NotFound => {}
                Err(err) => {
                    warnings.push(format!("cannot remove stale {}: {err}", png_path.display()))
                }
            }
            None
        }
    };

    let xlsx_path = dir.join(format!("{stem}.xlsx"));
    let bytes = workbook::build(report, png_bytes.as_deref(), opts).map_err(|source| {
        ReportError::Xlsx {
            path: xlsx_path.clone(),
            source,
        }
    })?;
    write_atomic(&xlsx_path, &bytes)?;
    tracing::info!(
        xlsx = %xlsx_path.display(),
        png = png_bytes.is_some(),
        rows = report.rows.len(),
        "wrote coverage report"
    );

    Ok(ReportFiles {
        xlsx: xlsx_path,
        svg: svg_path,
        png: png_bytes.map(|_| png_path),
        warnings,
    })
}

fn check_stem(stem: &str) -> Result<(), ReportError> {
    let bad =
        stem.trim().is_empty() || stem == "." || stem == ".." || stem.contains(['/', '\\', '\0']);
    if bad {
        Err(ReportError::InvalidStem {
            stem: stem.to_string(),
        })
    } else {
        Ok(())
    }
}

/// Write `bytes` over `path` atomically (`deliver::atomic`), naming the file in an error.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    crate::deliver::atomic::write(path, bytes).map_err(|source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_are_checked() {
        for bad in ["", " ", ".", "..", "a/b", "a\\b"] {
            assert!(matches!(
                check_stem(bad),
                Err(ReportError::InvalidStem { .. })
            ));
        }
        assert!(check_stem("覆盖率_2025Q2").is_ok());
    }

    #[test]
    fn io_errors_name_the_file() {
        let err = write_atomic(Path::new("/nonexistent-dir/x.xlsx"), b"x")
            .err()
            .unwrap();
        assert!(err.to_string().contains("/nonexistent-dir/x.xlsx"));
    }
}
