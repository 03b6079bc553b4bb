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
    /// 反馈时限, when the list has leads.
    deadline: Option<String>,
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
    let deadline = d
        .deadline
        .as_ref()
        .filter(|_| c.total > 0)
        .map(|t| format!("反馈时限：{t}。"));
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
        deadline,
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
    if let Some(t) = &p.deadline {
        out.push('\n');
        out.push_str(t);
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
    if let Some(t) = &p.deadline {
        out.push('\n');
        out.push_str(t);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deliver::channel::ListCounts;
    use crate::deliver::correction::{ChangedLead, Correction};

    fn delivery() -> ListDelivery {
        ListDelivery {
            idempotency_key: "k-v2".into(),
            county: "南安市".into(),
            cycle: "2025年06月".into(),
            township_code: Some("350583119".into()),
            township_name: "水头镇".into(),
            counts: ListCounts {
                total: 3,
                new: 1,
                reopened: 0,
                high_priority: 1,
            },
            leads: serde_json::json!([]),
            xlsx_path: "out/350583119_水头镇.xlsx".into(),
            xlsx_url: None,
            correction: None,
            deadline: Some("2025年07月15日前".into()),
        }
    }

    #[test]
    fn a_list_message_gives_its_deadline() {
        let text = summary_plain(&delivery());
        assert!(text.contains("反馈时限：2025年07月15日前。"), "{text}");
        assert!(!text.contains("更正版"));
        let mut empty = delivery();
        empty.counts.total = 0;
        assert!(!summary_plain(&empty).contains("反馈时限"));
    }

    #[test]
    fn a_correction_says_so_first_and_names_what_changed() {
        let mut d = delivery();
        d.correction = Some(Correction {
            version: 2,
            replaces: 1,
            added: vec![ChangedLead {
                lead_id: "L1".into(),
                name: "甲厂".into(),
                why: "未申报".into(),
            }],
            removed: (0..25)
                .map(|i| ChangedLead {
                    lead_id: format!("L{i}x"),
                    name: format!("乙厂{i}"),
                    why: "已查到有效申报".into(),
                })
                .collect(),
        });
        let md = summary_markdown(&d);
        assert!(md.starts_with("**【更正版】南安市 2025年06月"), "{md}");
        assert!(md.contains("更正版（第2版，更正第1版）：新增1条、撤回25条"));
        assert!(md.contains("- 新增：甲厂（L1）— 未申报"));
        assert!(md.contains("- 撤回：乙厂0（L0x）— 已查到有效申报"));
        // At most 20 named per side; the rest are counted.
        assert!(!md.contains("乙厂20"));
        assert!(md.contains("撤回另有5条，见Excel。"));
    }
}
