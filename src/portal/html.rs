//! HTML for the portal: escaping and the page frame (Chinese, readable on a phone, no
//! JavaScript). Pages are plain strings built from escaped values.

/// Escapes text for HTML element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:'Noto Sans CJK SC','WenQuanYi Micro Hei','Microsoft YaHei',sans-serif;margin:0;color:#222;background:#f6f7f9}\
header{background:#1f4e79;color:#fff;padding:.6em 1em;display:flex;flex-wrap:wrap;gap:.6em;align-items:center}\
header a,header button{color:#fff}header form{margin:0 0 0 auto}main{padding:1em;max-width:70em;margin:auto}\
table{border-collapse:collapse;width:100%;background:#fff}th,td{border:1px solid #ddd;padding:.4em;text-align:left;vertical-align:top}\
th{background:#ddebf7}form.filters{display:flex;flex-wrap:wrap;gap:.5em;margin-bottom:1em}\
input,select,textarea,button{font-size:1em;padding:.35em}textarea{width:100%}\
.card{background:#fff;border:1px solid #ddd;padding:1em;margin-bottom:1em}.err{color:#b00020}.ok{color:#1b5e20}\
.tag{display:inline-block;padding:0 .4em;border-radius:.3em;background:#eee}.high{background:#fde2e1}\
@media(max-width:40em){table,thead,tbody{display:block}thead{display:none}tr{display:block;border-bottom:1px solid #ccc;padding:.3em 0}td,th{display:inline-block;border:none;padding:.15em .4em}}";

/// A whole page: `title`, the signed-in user's line (with a sign-out form), and `body`.
pub fn page(title: &str, user_line: Option<(&str, &str)>, body: &str) -> String {
    let header = match user_line {
        Some((who, csrf)) => format!(
            "<header><strong>应报 · 职业病危害项目申报线索</strong><a href=\"/leads\">线索</a>\
             <a href=\"/dispositions\">核实记录</a>{}<a href=\"/account/password\">修改密码</a><span>{}</span>\
             <form method=\"post\" action=\"/logout\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <button type=\"submit\" id=\"logout\">退出</button></form></header>",
            if who.ends_with("（县级管理员）") {
                "<a href=\"/county\">县级概况</a><a href=\"/review\">人工判断</a><a href=\"/users\">账号管理</a>"
            } else {
                ""
            },
            esc(who),
            esc(csrf)
        ),
        None => "<header><strong>应报 · 职业病危害项目申报线索</strong></header>".to_string(),
    };
    format!(
        "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body>{header}<main>{body}</main></body></html>",
        esc(title)
    )
}

/// The line saying what a form did: `ok` in green (`#notice`), else in red (`#error`);
/// nothing for an empty message.
pub fn message(text: &str, ok: bool) -> String {
    match (text.is_empty(), ok) {
        (true, _) => String::new(),
        (false, true) => format!("<p class=\"ok\" id=\"notice\">{}</p>", esc(text)),
        (false, false) => format!("<p class=\"err\" id=\"error\">{}</p>", esc(text)),
    }
}

/// `<option>`s of the county's townships (code as value, name as label).
pub fn township_options(gazetteer: &crate::place::Gazetteer) -> String {
    gazetteer
        .townships
        .iter()
        .map(|t| {
            format!(
                "<option value=\"{}\">{}</option>",
                esc(&t.code),
                esc(&t.name)
            )
        })
        .collect()
}

/// A hidden CSRF field for a form.
pub fn csrf_field(token: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        esc(token)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_quotes_are_escaped() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        let p = page("线索<>", Some(("张三<script>", "tok\"en")), "<p>x</p>");
        assert!(p.contains("张三&lt;script&gt;"));
        assert!(p.contains("value=\"tok&quot;en\""));
        assert!(p.contains("<title>线索&lt;&gt;</title>"));
    }
}
