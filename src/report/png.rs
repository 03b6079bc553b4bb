//! Rasterises the chart SVG to PNG with resvg at [`PNG_SCALE`]×.
//! Refuses to render when no CJK font is loaded (returns `ReportError::NoCjkFont`).

use std::collections::BTreeSet;
use std::sync::Arc;

use resvg::tiny_skia::{Color, Pixmap, Transform};
use resvg::usvg;

use super::chart::FONT_FAMILY;
use super::{fonts, FontSource, ReportError};

/// Pixels per SVG user unit in the PNG.
pub const PNG_SCALE: f32 = 2.0;

/// A rendered PNG plus what the font check found.
pub(crate) struct Rendered {
    pub png: Vec<u8>,
    /// Characters no font covers (rendered as boxes); empty in the normal case.
    pub missing_chars: Vec<char>,
}

/// Render `svg` to PNG bytes using the given fonts.
pub fn render_png(svg: &str, fonts: &FontSource) -> Result<Vec<u8>, ReportError> {
    render(svg, fonts).map(|r| r.png)
}

pub(crate) fn render(svg: &str, font_source: &FontSource) -> Result<Rendered, ReportError> {
    let needed = text_chars(svg)?;
    let prepared = fonts::prepare(font_source, &needed)?;
    if !prepared.missing.is_empty() {
        let chars: String = prepared.missing.iter().collect();
        tracing::warn!(%chars, "no loaded font covers some chart characters");
    }
    tracing::debug!(family = %prepared.cjk_family, "rendering report chart PNG");

    let mut opt = usvg::Options {
        font_family: prepared.cjk_family.clone(),
        ..usvg::Options::default()
    };
    if prepared.from_extra_file && !prepared.cjk_family.contains(['"', '\'', '\\', '}', ';']) {
        // A configured font file wins over the system fonts named in the SVG.
        opt.style_sheet = Some(format!(
            "text {{ font-family: '{}', {FONT_FAMILY}; }}",
            prepared.cjk_family
        ));
    }
    opt.fontdb = Arc::new(prepared.db);
    let tree = usvg::Tree::from_str(svg, &opt).map_err(|e| ReportError::Svg(e.to_string()))?;
    let size = tree
        .size()
        .to_int_size()
        .scale_by(PNG_SCALE)
        .ok_or_else(|| ReportError::Render("chart size out of range".to_string()))?;
    let mut pixmap = Pixmap::new(size.width(), size.height()).ok_or_else(|| {
        ReportError::Render(format!(
            "cannot allocate a {}x{} pixmap",
            size.width(),
            size.height()
        ))
    })?;
    pixmap.fill(Color::WHITE);
    resvg::render(
        &tree,
        Transform::from_scale(PNG_SCALE, PNG_SCALE),
        &mut pixmap.as_mut(),
    );
    let png = pixmap
        .encode_png()
        .map_err(|e| ReportError::Render(e.to_string()))?;
    Ok(Rendered {
        png,
        missing_chars: prepared.missing,
    })
}

/// Characters drawn by `<text>` elements (not `<title>` tooltips).
fn text_chars(svg: &str) -> Result<BTreeSet<char>, ReportError> {
    let doc = usvg::roxmltree::Document::parse(svg).map_err(|e| ReportError::Svg(e.to_string()))?;
    Ok(doc
        .descendants()
        .filter(|n| n.is_text())
        .filter(|n| n.ancestors().any(|a| a.has_tag_name("text")))
        .filter(|n| !n.ancestors().any(|a| a.has_tag_name("title")))
        .filter_map(|n| n.text())
        .flat_map(str::chars)
        .filter(|c| !c.is_whitespace())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_chars_skip_titles() {
        let svg = r#"<svg xmlns="http://www.w3.org/2000/svg"><title>题</title><rect><title>标</title></rect><text>镇 A</text></svg>"#;
        let chars = text_chars(svg).unwrap();
        assert_eq!(chars.into_iter().collect::<String>(), "A镇");
    }

    #[test]
    fn no_font_is_an_error_not_tofu() {
        let err = render_png(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><text>镇</text></svg>"#,
            &FontSource::none(),
        )
        .err()
        .unwrap();
        assert!(matches!(err, ReportError::NoCjkFont));
    }

    #[test]
    fn bad_svg_is_an_error() {
        let err = render_png("<svg", &FontSource::none()).err().unwrap();
        assert!(matches!(err, ReportError::Svg(_)));
    }
}
