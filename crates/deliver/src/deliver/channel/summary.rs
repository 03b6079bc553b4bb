//! The Chinese summary of a township's lead list, rendered as markdown (WeCom, DingTalk)
//! and as plain text (e-mail body), plus the alert rendering.

use super::{Alert, ListDelivery};

const INSTRUCTION: &str =
    "请逐户核实，在Excel「核实情况」栏填写处理结果，不属实的请注明原因，并经乡镇领导签字确认后反馈。";
const COUNTY_NOTE: &str = "本清单为未能定位乡镇的线索，请县级核实分派。";
const COUNTY_INSTRUCTION: &str =
    "请逐户核实所属乡镇并分派，在Excel「核实情况」栏填写处理结果，不属实的请注明原因。";
const EMPTY_NOTE: &str = "本期暂无需要核实的线索。";

/// The pieces both renderings share.
struct Parts {
    title: String,
    counts: String,
    notes: Vec<&'static str>,
    /// A 更正版's headline and its added and removed leads (at most `CHANGES_SHOWN` each).
    correction: Vec<String>,
    link: Option<(String, String)>,
}

/// Added or removed leads named in a correction's message; the Excel has them all.
const CHANGES_SHOWN: usize = 20;

fn correction_lines(d: &ListDelivery) -> Vec<String> {
    let Some(c) = &d.correction else {
        return Vec::new();
    };
    let mut out = vec![format!(
        "{}。本版取代此前下发的第{}版，请以本版为准。",
        c.headline(),
        c.replaces
    )];
    for (label, changes) in [("新增", &c.added), ("撤回", &c.removed)] {
        for ch in changes.iter().take(CHANGES_SHOWN) {
            out.push(format!(
                "{label}：{}（{}）— {}",
                ch.name, ch.lead_id, ch.why
            ));
        }
        if changes.len() > CHANGES_SHOWN {
            out.push(format!(
                "{label}另有{}条，见Excel。",
                changes.len() - CHANGES_SHOWN
            ));
        }
    }
    out
}

fn parts(d: &ListDelivery) -> Parts {
    let c = &d.counts;
    let title = format!(
        "{}{} {} 职业病危害项目申报线索 — {}",
        if d.correction.is_some() {
            "【更正版】"
        } else {
            ""
        },
        d.county,
        d.cycle,
        d.township_name
    );
    let counts = format!(
        "共{}条，其中新增{}条、重新列入{}条、高优先级{}条。",
        c.total, c.new, c.reopened, c.high_priority
    );
    let mut notes = Vec::new();
    if d.township_code.is_none() {
        notes.push(COUNTY_NOTE);
    }
    if c.total == 0 {
        notes.push(EMPTY_NOTE);
    } else if d.township_code.is_none() {
        notes.push(COUNTY_INSTRUCTION);
    } else {
        notes.push(INSTRUCTION);
    }
    let name = d
        .xlsx_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "线索清单.xlsx".to_owned());
    let link = d.xlsx_url.as_ref().map(|u| (name, u.clone()));
    Parts {
        title,
        counts,
        notes,
        correction: correction_lines(d),
        link,
    }
}

/// Chinese markdown summary of one township's list (shared by WeCom, DingTalk and e-mail).
pub fn summary_markdown(d: &ListDelivery) -> String {
    let p = parts(d);
    let mut out = format!("**{}**\n\n{}\n", p.title, p.counts);
    for line in &p.correction {
        out.push_str(&format!("\n- {line}"));
    }
    if !p.correction.is_empty() {
        out.push('\n');
    }
    for note in &p.notes {
        out.push('\n');
        out.push_str(note);
        out.push('\n');
    }
    if let Some((name, url)) = &p.link {
        out.push_str(&format!("\nExcel下载：[{name}]({})\n", markdown_url(url)));
    }
    out
}

/// Plain-text rendering of [`summary_markdown`] (e-mail body).
pub fn summary_plain(d: &ListDelivery) -> String {
    let p = parts(d);
    let mut out = format!("{}\n\n{}\n", p.title, p.counts);
    for line in &p.correction {
        out.push('\n');
        out.push_str(line);
    }
    if !p.correction.is_empty() {
        out.push('\n');
    }
    for note in &p.notes {
        out.push('\n');
        out.push_str(note);
        out.push('\n');
    }
    if let Some((_, url)) = &p.link {
        out.push_str(&format!("\nExcel下载：{url}\n"));
    }
    out
}

/// Markdown rendering of an operator alert.
pub fn alert_markdown(a: &Alert) -> String {
    format!("**【应报告警】{}**\n\n{}\n", a.title, a.text)
}

/// Escapes the characters that would end a markdown link target early; Chinese file names
/// stay readable (DingTalk and WeCom show the link text as it is).
fn markdown_url(url: &str) -> String {
    url.replace(' ', "%20")
        .replace('(', "%28")
        .replace(')', "%29")
}
