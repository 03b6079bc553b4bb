//! Text for the terminal: Chinese characters take two columns, so columns are padded by
//! display width (`unicode-width`), not by characters.

use unicode_width::UnicodeWidthStr;

/// `s` left-aligned in `width` terminal columns (never cut).
pub fn pad(s: &str, width: usize) -> String {
    let used = UnicodeWidthStr::width(s);
    format!("{s}{}", " ".repeat(width.saturating_sub(used)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_names_line_up_with_latin_ones() {
        assert_eq!(pad("溪美街道", 12), "溪美街道    ");
        assert_eq!(pad("county", 12), "county      ");
        assert_eq!(
            UnicodeWidthStr::width(pad("雪峰华侨经济开发区", 20).as_str()),
            20
        );
        assert_eq!(pad("雪峰华侨经济开发区", 4), "雪峰华侨经济开发区");
    }
}
