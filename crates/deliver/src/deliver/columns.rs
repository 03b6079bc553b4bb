//! The columns of a lead list, defined once for both the Excel and the CSV file.
//! Maps a [`LeadRow`] to its cell values in header order.

use super::list_settings::ListTerms;
use crate::domain::cell_text::clean_controls;
use crate::leads::row::LeadRow;

/// Column headers, in file order. The last three are left empty for township staff.
pub const HEADERS: [&str; 25] = [
    "序号",
    "线索编号",
    "线索类型",
    "线索状态",
    "优先级",
    "企业名称",
    "统一社会信用代码",
    "法定代表人",
    "地址",
    "所属乡镇",
    "村（社区）",
    "行业代码",
    "行业名称",
    "风险等级",
    "从业人数",
    "申报状态",
    "最近申报日期",
    "首次列入日期",
    "线索原因",
    "证据",
    "数据来源",
    "定位依据",
    "核实情况",
    "核实人",
    "核实日期",
];

/// Number of columns.
pub const COLUMN_COUNT: usize = HEADERS.len();

/// Index of the first column township staff fill in (核实情况); the rest follow it.
pub const FIRST_FILL_COLUMN: usize = 22;

/// Accepted values of 核实情况, with what each means (shown on the 说明 sheet).
/// `其他` must be followed by a reason, e.g. `其他：已迁至外县`.
pub const DISPOSITIONS: [(&str, &str); 7] = [
    (
        "已督促申报",
        "经核实应当申报，已告知并督促用人单位在职业病危害项目申报系统中申报。",
    ),
    (
        "已申报",
        "核实时用人单位已经完成申报（例如申报名称与登记名称不一致）；知道申报日期的请一并写明。",
    ),
    ("已注销或吊销", "用人单位已注销，或营业执照已被吊销。"),
    ("停产停业超过6个月", "用人单位已连续停产停业超过6个月。"),
    (
        "无职业病危害因素",
        "经现场核实，用人单位不存在职业病危害因素，无需申报。",
    ),
    (
        "不在本辖区",
        "用人单位实际不在本乡镇（街道）；请写明实际所在地，如“不在本辖区：实际在某某镇”。",
    ),
    ("其他", "以上均不适用。必须写明原因，格式为“其他：原因”。"),
];

/// Suffix appended to a USCC whose check character is wrong.
pub const USCC_INVALID_SUFFIX: &str = "（校验位错误）";

/// Separator between reasons in 线索原因.
pub const REASON_SEPARATOR: &str = "；";

/// One cell of a lead list.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Ordinary text.
    Text(String),
    /// A code that must stay text in Excel (USCC, lead id, industry code): never a number.
    Code(String),
    /// A number (序号, 从业人数).
    Number(f64),
    /// Nothing (unknown headcount, or a column for township staff).
    Empty,
}

impl Cell {
    /// The cell as CSV text.
    pub fn as_text(&self) -> String {
        match self {
            Cell::Text(s) | Cell::Code(s) => s.clone(),
            Cell::Number(n) => format_number(*n),
            Cell::Empty => String::new(),
        }
    }
}

fn format_number(n: f64) -> String {
    // Whole numbers (all our numbers) without a trailing ".0".
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

/// Line breaks and tabs as a space, other control characters removed
/// ([`clean_controls`]), trimmed: a stray line break in an address only makes rows hard to
/// read, in Excel and in CSV alike. Formulas are defused later, as each file is written.
pub fn clean_text(s: &str) -> String {
    clean_controls(s).trim().to_string()
}

/// The cells of `row`, in [`HEADERS`] order; `seq` is the 1-based 序号.
pub fn row_cells(seq: usize, row: &LeadRow) -> [Cell; COLUMN_COUNT] {
    let text = |s: &str| Cell::Text(clean_text(s));
    let code = |s: &str| Cell::Code(clean_text(s));
    let uscc = {
        let value = clean_text(&row.uscc);
        if row.uscc_valid || value.is_empty() {
            Cell::Code(value)
        } else {
            Cell::Code(format!("{value}{USCC_INVALID_SUFFIX}"))
        }
    };
    let reasons = row
        .reasons
        .iter()
        .map(|r| clean_text(r))
        .filter(|r| !r.is_empty())
        .collect::<Vec<_>>()
        .join(REASON_SEPARATOR);
    let evidence = row
        .evidence
        .iter()
        .map(|r| clean_text(r))
        .filter(|r| !r.is_empty())
        .collect::<Vec<_>>()
        .join(REASON_SEPARATOR);
    [
        Cell::Number(seq as f64),
        code(&row.lead_id),
        text(&row.kind),
        text(&row.status),
        text(&row.priority),
        text(&row.name),
        uscc,
        text(&row.legal_rep),
        text(&row.address),
        text(&row.township),
        text(&row.village),
        code(&row.industry_code),
        text(&row.industry_name),
        text(&row.risk_class),
        row.headcount
            .map_or(Cell::Empty, |n| Cell::Number(f64::from(n))),
        text(&row.filing_status),
        code(&row.last_filed),
        code(&row.first_listed),
        Cell::Text(reasons),
        Cell::Text(evidence),
        text(&row.sources),
        text(&row.placement),
        Cell::Empty,
        Cell::Empty,
        Cell::Empty,
    ]
}

/// Headers of the printable main sheet (`线索清单`): one row per employer, the columns a visit
/// needs. The three fill-in columns come before 线索编号, which is kept to read replies back.
pub const MAIN_HEADERS: [&str; 14] = [
    "序号",
    "企业名称",
    "地址",
    "村（社区）",
    "法定代表人",
    "联系方式",
    "线索类型",
    "线索原因",
    "处置要求",
    "反馈时限",
    "核实情况",
    "核实人",
    "核实日期",
    "线索编号",
];

/// Number of columns of the main sheet.
pub const MAIN_COLUMN_COUNT: usize = MAIN_HEADERS.len();

/// Index of 核实情况 on the main sheet; 核实人 and 核实日期 follow it.
pub const MAIN_FIRST_FILL_COLUMN: usize = 10;

/// Separator between the lead ids (and kinds) of one employer: `L12；L12-EX`. The reader of
/// returned lists splits on it (and on `;`, `,`, `、` and spaces a clerk may type instead).
pub const ID_SEPARATOR: &str = "；";

/// The leads of `rows` grouped by employer (entity id; a row without one is its own group),
/// in the order each employer first appears: rows come in priority order, so do employers.
pub fn by_employer(rows: &[LeadRow]) -> Vec<Vec<&LeadRow>> {
    let mut groups: Vec<Vec<&LeadRow>> = Vec::new();
    let mut at: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for row in rows {
        let key = if row.entity_id.as_str().is_empty() {
            row.lead_id.as_str()
        } else {
            row.entity_id.as_str()
        };
        match at.get(key) {
            Some(&i) => groups[i].push(row),
            None => {
                at.insert(key, groups.len());
                groups.push(vec![row]);
            }
        }
    }
    groups
}

/// Each distinct non-empty value, cleaned, in first-seen order.
fn distinct<'a>(values: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in values {
        let v = clean_text(v);
        if !v.is_empty() && !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

/// The cells of one employer's row on the main sheet, in [`MAIN_HEADERS`] order; `seq` is
/// the 1-based 序号, `leads` the employer's leads (at least one), `terms` the run's
/// 处置要求 and 反馈时限. 联系方式 stays empty: no feed gives a contact yingbao may keep.
pub fn main_cells(seq: usize, leads: &[&LeadRow], terms: &ListTerms) -> [Cell; MAIN_COLUMN_COUNT] {
    let first = |f: fn(&LeadRow) -> &str| {
        leads
            .iter()
            .map(|r| clean_text(f(r)))
            .find(|v| !v.is_empty())
            .unwrap_or_default()
    };
    let kinds = distinct(leads.iter().map(|r| r.kind.as_str()));
    let reasons = distinct(
        leads
            .iter()
            .flat_map(|r| r.reasons.iter().map(String::as_str)),
    );
    let reason = if reasons.is_empty() {
        String::new()
    } else {
        format!("{}。", reasons.join(REASON_SEPARATOR))
    };
    let instructions: Vec<String> = kinds
        .iter()
        .filter_map(|k| {
            let text = clean_text(terms.instruction(k));
            match (text.is_empty(), kinds.len()) {
                (true, _) => None,
                (false, 1) => Some(format!("{text}。")),
                (false, _) => Some(format!("【{k}】{text}。")),
            }
        })
        .collect();
    let ids = distinct(leads.iter().map(|r| r.lead_id.as_str()));
    [
        Cell::Number(seq as f64),
        Cell::Text(first(|r| &r.name)),
        Cell::Text(first(|r| &r.address)),
        Cell::Text(first(|r| &r.village)),
        Cell::Text(first(|r| &r.legal_rep)),
        Cell::Empty,
        Cell::Text(kinds.join(REASON_SEPARATOR)),
        Cell::Text(reason),
        Cell::Text(instructions.join("")),
        Cell::Text(terms.deadline_text()),
        Cell::Empty,
        Cell::Empty,
        Cell::Empty,
        Cell::Code(ids.join(ID_SEPARATOR)),
    ]
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A lead row for tests.
    pub(crate) fn sample_row(i: usize) -> LeadRow {
        LeadRow {
            lead_id: format!("L{i:06}"),
            kind: "未申报或申报逾期".to_string(),
            status: "新增".to_string(),
            priority: "高（70）".to_string(),
            first_listed: "2025-06-30".to_string(),
            evidence: vec!["税务（2025-05-31）：纳税人状态正常".to_string()],
            entity_id: format!("{i:06}").into(),
            name: format!("某某五金制品有限公司{i}"),
            uscc: "913301001234567890".to_string(),
            uscc_valid: true,
            legal_rep: "张三".to_string(),
            address: "城关镇工业园区8号".to_string(),
            township: "城关镇".to_string(),
            village: "东门社区".to_string(),
            industry_code: "3311".to_string(),
            industry_name: "金属结构制造".to_string(),
            risk_class: "严重".to_string(),
            headcount: Some(45),
            filing_status: "未申报".to_string(),
            last_filed: String::new(),
            reasons: vec![
                "行业属于职业病危害严重类别".to_string(),
                "职业健康检查发现接触粉尘劳动者".to_string(),
            ],
            sources: "市场监管登记、税务登记".to_string(),
            placement: "统计区划代码（高）".to_string(),
        }
    }

    #[test]
    fn cells_follow_headers() {
        let mut row = sample_row(1);
        row.uscc_valid = false;
        row.headcount = None;
        row.address = "城关镇\r\n工业园区\t8号 ".to_string();
        let cells = row_cells(3, &row);
        assert_eq!(cells[0], Cell::Number(3.0));
        assert_eq!(cells[0].as_text(), "3");
        assert_eq!(
            cells[6],
            Cell::Code("913301001234567890（校验位错误）".to_string())
        );
        assert_eq!(cells[8].as_text(), "城关镇  工业园区 8号");
        assert_eq!(cells[14], Cell::Empty);
        assert_eq!(cells[19].as_text(), "税务（2025-05-31）：纳税人状态正常");
        assert_eq!(
            cells[18].as_text(),
            "行业属于职业病危害严重类别；职业健康检查发现接触粉尘劳动者"
        );
        assert_eq!(HEADERS[FIRST_FILL_COLUMN], "核实情况");
        assert!(cells[FIRST_FILL_COLUMN..].iter().all(|c| *c == Cell::Empty));
    }

    /// Leads group by employer in first-seen order; a lead without an entity id stands alone.
    #[test]
    fn leads_group_by_employer_in_priority_order() {
        let mut rows = vec![sample_row(1), sample_row(2), sample_row(1), sample_row(3)];
        rows[2].lead_id = "L000001-EX".into();
        rows[3].entity_id = String::new().into();
        let mut lone = sample_row(4);
        lone.entity_id = String::new().into();
        rows.push(lone);
        let groups: Vec<Vec<&str>> = by_employer(&rows)
            .iter()
            .map(|g| g.iter().map(|r| r.lead_id.as_str()).collect())
            .collect();
        assert_eq!(
            groups,
            vec![
                vec!["L000001", "L000001-EX"],
                vec!["L000002"],
                vec!["L000003"],
                vec!["L000004"],
            ]
        );
    }

    #[test]
    fn dispositions_fit_an_excel_dropdown() {
        // Excel limits a literal validation list to 255 characters including commas.
        let joined = DISPOSITIONS
            .iter()
            .map(|(v, _)| *v)
            .collect::<Vec<_>>()
            .join(",");
        assert!(joined.chars().count() <= 255);
    }
}
