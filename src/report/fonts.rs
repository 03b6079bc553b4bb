//! Font loading for the PNG renderer: system fonts plus an optional configured file.
//! Detects whether any face covers Chinese (cmap check via skrifa) so we never render tofu.

use std::collections::BTreeSet;
use std::sync::Arc;

use resvg::usvg::fontdb::{Database, Source, ID};
use skrifa::{FontRef, MetadataProvider};

use super::{FontSource, ReportError};

/// A common township character; a font that lacks it cannot render the chart.
pub(crate) const CJK_PROBE: char = '镇';

/// A font database ready for rendering.
pub(crate) struct PreparedFonts {
    pub db: Database,
    /// Family of the face chosen for Chinese text.
    pub cjk_family: String,
    /// True when that face comes from the configured font file.
    pub from_extra_file: bool,
    /// Characters of the text that no loaded face covers (would show as boxes).
    pub missing: Vec<char>,
}

/// Load fonts and check coverage of [`CJK_PROBE`] and of every character in `needed`.
pub(crate) fn prepare(
    src: &FontSource,
    needed: &BTreeSet<char>,
) -> Result<PreparedFonts, ReportError> {
    let mut db = Database::new();
    let mut preferred: Vec<ID> = Vec::new();
    if let Some(path) = &src.extra_file {
        let data = std::fs::read(path).map_err(|source| ReportError::FontFile {
            path: path.clone(),
            source,
        })?;
        let ids = db.load_font_source(Source::Binary(Arc::new(data)));
        if ids.is_empty() {
            return Err(ReportError::FontFileUnusable { path: path.clone() });
        }
        preferred.extend(ids);
    }
    if src.system {
        db.load_system_fonts();
    }
    tracing::debug!(faces = db.len(), "loaded fonts for the report chart");

    let order: Vec<ID> = preferred
        .iter()
        .copied()
        .chain(
            db.faces()
                .map(|f| f.id)
                .filter(|id| !preferred.contains(id)),
        )
        .collect();
    let mut cjk_face: Option<ID> = None;
    let mut remaining: BTreeSet<char> = needed
        .iter()
        .copied()
        .filter(|c| !c.is_whitespace())
        .collect();
    for id in order {
        let (has_probe, covered) = db
            .with_face_data(id, |data, index| match FontRef::from_index(data, index) {
                Ok(font) => {
                    let cmap = font.charmap();
                    let covered: Vec<char> = remaining
                        .iter()
                        .copied()
                        .filter(|&c| cmap.map(c).is_some())
                        .collect();
                    (cmap.map(CJK_PROBE).is_some(), covered)
                }
                Err(_) => (false, Vec::new()),
            })
            .unwrap_or((false, Vec::new()));
        if has_probe && cjk_face.is_none() {
            cjk_face = Some(id);
        }
        for c in covered {
            remaining.remove(&c);
        }
        if cjk_face.is_some() && remaining.is_empty() {
            break;
        }
    }

    let id = cjk_face.ok_or(ReportError::NoCjkFont)?;
    let cjk_family = db
        .face(id)
        .and_then(|f| f.families.first())
        .map(|(name, _)| name.clone())
        .ok_or(ReportError::NoCjkFont)?;
    db.set_sans_serif_family(cjk_family.clone());
    Ok(PreparedFonts {
        db,
        cjk_family,
        from_extra_file: preferred.contains(&id),
        missing: remaining.into_iter().collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_fonts_means_no_cjk_font() {
        let needed: BTreeSet<char> = "城关镇".chars().collect();
        let err = prepare(&FontSource::none(), &needed).err().unwrap();
        assert!(matches!(err, ReportError::NoCjkFont));
        assert!(err.to_string().contains("fonts-wqy-microhei"));
    }

    #[test]
    fn missing_font_file_is_named() {
        let err = prepare(
            &FontSource::file_only("/nonexistent/x.ttf"),
            &BTreeSet::new(),
        )
        .err()
        .unwrap();
        assert!(matches!(err, ReportError::FontFile { .. }));
        assert!(err.to_string().contains("/nonexistent/x.ttf"));
    }

    #[test]
    fn garbage_font_file_is_unusable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.ttf");
        std::fs::write(&path, b"not a font").unwrap();
        let err = prepare(&FontSource::file_only(&path), &BTreeSet::new())
            .err()
            .unwrap();
        assert!(matches!(err, ReportError::FontFileUnusable { .. }));
    }

    #[test]
    fn latin_only_font_is_not_cjk() {
        let path = std::path::Path::new("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf");
        if !path.exists() {
            eprintln!("skipped: DejaVuSans.ttf not installed");
            return;
        }
        let err = prepare(&FontSource::file_only(path), &BTreeSet::new())
            .err()
            .unwrap();
        assert!(matches!(err, ReportError::NoCjkFont));
    }
}
