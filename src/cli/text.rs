//! Text for the terminal: Chinese characters take two columns, so columns are padded by
//! display width (`unicode-width`), not by characters; and every time the CLI prints is in
//! the county's zone, `YYYY-MM-DD HH:MM`, the zone named once per output ([`zone_line`]).

use chrono::{DateTime, TimeZone};
use chrono_tz::Tz;
use unicode_width::UnicodeWidthStr;

/// The one format of a time the CLI prints.
const TIME_FORMAT: &str = "%Y-%m-%d %H:%M";

/// `t` in the county's zone `tz`, as `YYYY-MM-DD HH:MM`.
pub fn local_time<Z: TimeZone>(tz: Tz, t: &DateTime<Z>) -> String {
    t.with_timezone(&tz).format(TIME_FORMAT).to_string()
}

/// A stored time (RFC 3339 text, as the store keeps it) in the county's zone; text that is
/// not such a time is shown as it is.
pub fn stored_time(tz: Tz, rfc3339: &str) -> String {
    DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| local_time(tz, &t))
        .unwrap_or_else(|_| rfc3339.to_owned())
}

/// The line that names the zone of every time an output prints: `times in Asia/Shanghai`.
pub fn zone_line(tz: Tz) -> String {
    format!("times in {}", tz.name())
}

/// `s` left-aligned in `width` terminal columns (never cut).
pub fn pad(s: &str, width: usize) -> String {
    let used = UnicodeWidthStr::width(s);
    format!("{s}{}", " ".repeat(width.saturating_sub(used)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_utc_times_are_shown_in_the_county_zone() {
        let tz = chrono_tz::Asia::Shanghai;
        assert_eq!(
            stored_time(tz, "2026-12-01T13:44:29.123+00:00"),
            "2026-12-01 21:44"
        );
        assert_eq!(stored_time(tz, "2025-06-30T20:05:00Z"), "2025-07-01 04:05");
        assert_eq!(stored_time(tz, "not a time"), "not a time");
        assert_eq!(zone_line(tz), "times in Asia/Shanghai");
    }

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
