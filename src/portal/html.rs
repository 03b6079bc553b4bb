//! HTML for the portal: the values every page's askama template shares (the frame, form
//! choices) and rendering. Pages are templates under `templates/portal/`; the engine escapes.

use askama::Template;
use chrono::DateTime;
use chrono_tz::Tz;

use super::PortalError;

/// What the page frame (`templates/portal/base.html`) shows: the title and, when someone is
/// signed in, their line with a sign-out form.
#[derive(Debug, Clone)]
pub struct Frame {
    pub title: String,
    pub user: Option<UserLine>,
}

/// The signed-in person in the page header.
#[derive(Debug, Clone)]
pub struct UserLine {
    /// Name and township, e.g. `张三（水头镇）` or `李四（县级管理员）`.
    pub who: String,
    /// The session's CSRF token, for the sign-out form.
    pub csrf: String,
    /// The county operator sees the county pages in the header.
    pub operator: bool,
}

impl Frame {
    /// A frame titled `title`, for `user_line`: the signed-in person's line and CSRF token.
    pub fn new(title: &str, user_line: Option<(&str, &str)>) -> Frame {
        Frame {
            title: title.to_string(),
            user: user_line.map(|(who, csrf)| UserLine {
                who: who.to_string(),
                csrf: csrf.to_string(),
                operator: who.ends_with("（县级管理员）"),
            }),
        }
    }
}

/// One `<option>` of a filter: its value, its label and whether it is the current choice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

impl Choice {
    pub fn new(value: &str, current: &str, label: &str) -> Choice {
        Choice {
            value: value.to_string(),
            label: label.to_string(),
            selected: value == current,
        }
    }
}

/// A stored time (RFC 3339, as the store writes it in UTC) as the county reads it: its
/// wall-clock time in `tz`, to the minute (`2025-06-30 14:05`). Text that is not RFC 3339 is
/// shown as it is rather than hidden; an empty time as `—`.
pub fn local_time(stored: &str, tz: Tz) -> String {
    let stored = stored.trim();
    if stored.is_empty() {
        return "—".to_string();
    }
    match DateTime::parse_from_rfc3339(stored) {
        Ok(t) => t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string(),
        Err(_) => stored.to_string(),
    }
}

/// How a page names the county's time zone, once, beside its times: China's zone as 北京时间,
/// any other by its IANA name.
pub fn zone_label(tz: Tz) -> String {
    match tz.name() {
        "Asia/Shanghai" | "Asia/Chongqing" | "Asia/Chungking" | "Asia/Harbin" | "PRC" => {
            "北京时间".to_string()
        }
        name => name.to_string(),
    }
}

/// Renders a page. A template fails only if a value cannot be written, which for these
/// pages (text and numbers) does not happen; should it, the request fails with a 500.
pub fn render(page: &impl Template) -> Result<String, PortalError> {
    Ok(page.render()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_times_show_in_the_county_zone_to_the_minute() {
        let shanghai = chrono_tz::Asia::Shanghai;
        // 06:05 UTC is 14:05 in Beijing; the date moves with the zone.
        assert_eq!(
            local_time("2025-06-30T06:05:59.123+00:00", shanghai),
            "2025-06-30 14:05"
        );
        assert_eq!(
            local_time("2025-06-30T20:30:00Z", shanghai),
            "2025-07-01 04:30"
        );
        assert_eq!(
            local_time("2025-06-30T20:30:00Z", chrono_tz::Asia::Urumqi),
            "2025-07-01 02:30"
        );
        // Not a stored time: shown as it is; nothing: a dash.
        assert_eq!(local_time("2025-06-30", shanghai), "2025-06-30");
        assert_eq!(local_time(" ", shanghai), "—");
        assert_eq!(zone_label(shanghai), "北京时间");
        assert_eq!(zone_label(chrono_tz::Asia::Urumqi), "Asia/Urumqi");
    }

    #[derive(Template)]
    #[template(
        source = "{% extends \"portal/base.html\" %}{% block content %}{{ body }}{% endblock %}",
        ext = "html"
    )]
    struct Probe {
        frame: Frame,
        body: String,
    }

    #[derive(Template)]
    #[template(
        source = "{% import \"portal/macros.html\" as m %}\
                  {% call m::message(text, ok) %}{% endcall %}|\
                  {% call m::choices(choices) %}{% endcall %}|\
                  {% call m::csrf(token) %}{% endcall %}",
        ext = "html"
    )]
    struct Pieces<'a> {
        text: &'a str,
        ok: bool,
        choices: Vec<Choice>,
        token: &'a str,
    }

    #[test]
    fn shared_pieces_mark_the_choice_and_escape_values() {
        let pieces = |text, ok| Pieces {
            text,
            ok,
            choices: vec![
                Choice::new("", "open", "全部状态"),
                Choice::new("open", "open", "持续<>"),
            ],
            token: "a\"b",
        };
        assert_eq!(
            render(&pieces("已新增账号“张三”", true)).expect("renders"),
            "<p class=\"ok\" id=\"notice\">已新增账号“张三”</p>|\
             <option value=\"\">全部状态</option><option value=\"open\" selected>持续&#60;&#62;</option>|\
             <input type=\"hidden\" name=\"csrf\" value=\"a&#34;b\">"
        );
        let refused = render(&pieces("用户名“<x>”已存在", false)).expect("renders");
        assert!(
            refused.starts_with("<p class=\"err\" id=\"error\">用户名“&#60;x&#62;”已存在</p>|"),
            "{refused}"
        );
        // No message, no paragraph.
        assert!(render(&pieces("", false))
            .expect("renders")
            .starts_with("|<option"));
    }

    #[test]
    fn markup_and_quotes_are_escaped() {
        let p = Probe {
            frame: Frame::new("线索<>", Some(("张三<script>", "tok\"en"))),
            body: "<p>x</p>&'".to_string(),
        };
        let html = render(&p).expect("renders");
        assert!(html.contains("<span>张三&#60;script&#62;</span>"), "{html}");
        assert!(html.contains("value=\"tok&#34;en\""), "{html}");
        assert!(html.contains("<title>线索&#60;&#62;</title>"), "{html}");
        assert!(
            html.contains("<main>&#60;p&#62;x&#60;/p&#62;&#38;&#39;</main>"),
            "{html}"
        );
        // A township account sees no county links.
        assert!(!html.contains("href=\"/county\""), "{html}");
    }

    #[test]
    fn the_operator_sees_the_county_links_and_a_signed_out_page_no_user_line() {
        let p = Probe {
            frame: Frame::new("账号管理", Some(("李四（县级管理员）", "t"))),
            body: String::new(),
        };
        let html = render(&p).expect("renders");
        assert!(
            html.contains("<a href=\"/county\">县级概况</a><a href=\"/review\">人工判断</a><a href=\"/users\">账号管理</a><a href=\"/account/password\">"),
            "{html}"
        );
        let p = Probe {
            frame: Frame::new("登录", None),
            body: String::new(),
        };
        let html = render(&p).expect("renders");
        assert!(
            html.contains("<body><header><strong>应报 · 职业病危害项目申报线索</strong></header><main></main></body></html>"),
            "{html}"
        );
        assert!(!html.contains("id=\"logout\""), "{html}");
    }
}
