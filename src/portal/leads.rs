//! The township's pages: its leads with filters, one lead with its evidence and history, the
//! disposition form, the leader's sign-off and the upload of a returned Excel list.

use axum::extract::{Multipart, Path, Query, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Form;
use chrono::NaiveDate;
use serde::Deserialize;

use super::html::{csrf_field, esc, page};
use super::signin::{viewer, Viewer};
use super::{role_of, PortalError, PortalState};
use crate::deliver::DISPOSITIONS;
use crate::store::{NewDisposition, PortalLead};

/// A disposition as submitted (form, upload row or API).
#[derive(Debug, Clone, Deserialize)]
pub struct DispositionInput {
    pub kind: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub person: String,
    /// `YYYY-MM-DD`; empty: today.
    #[serde(default)]
    pub decided_on: String,
    /// For 不在本辖区: the township code it is really in.
    #[serde(default)]
    pub transfer_to: String,
}

/// Whether the viewer may see and act on a lead listed in `township`.
pub fn in_scope(v: &Viewer, township: Option<&str>) -> bool {
    match township {
        Some(code) => role_of(&v.user).can_access_township(code),
        None => v.user.is_operator(),
    }
}

fn today(state: &PortalState) -> NaiveDate {
    state.cfg().today()
}

/// Checks and records a disposition on `lead` by `actor`, signed at once when the actor may
/// sign; audited. Returns the disposition's id.
pub async fn record(
    state: &PortalState,
    actor: &str,
    can_sign: bool,
    origin: String,
    lead: &PortalLead,
    input: &DispositionInput,
) -> Result<i64, PortalError> {
    let kind = input.kind.trim();
    if !DISPOSITIONS.iter().any(|(d, _)| *d == kind) {
        return Err(PortalError::Invalid(format!("“{kind}”不是规定的核实情况")));
    }
    let reason = input.reason.trim();
    let person = input.person.trim();
    if person.is_empty() {
        return Err(PortalError::Invalid("请填写核实人".into()));
    }
    if kind == "其他" && reason.is_empty() {
        return Err(PortalError::Invalid("选择“其他”时必须写明原因".into()));
    }
    let transfer = input.transfer_to.trim();
    let transfer_to = if kind == "不在本辖区" {
        if transfer.is_empty() && reason.is_empty() {
            return Err(PortalError::Invalid(
                "选择“不在本辖区”时请选择实际所在乡镇或写明原因".into(),
            ));
        }
        if !transfer.is_empty() {
            if !state
                .cfg()
                .gazetteer
                .townships
                .iter()
                .any(|t| t.code == transfer)
            {
                return Err(PortalError::Invalid(format!("乡镇代码{transfer}不存在")));
            }
            if lead.township_code.as_deref() == Some(transfer) {
                return Err(PortalError::Invalid("转交乡镇与当前乡镇相同".into()));
            }
        }
        (!transfer.is_empty()).then(|| transfer.to_string())
    } else {
        None
    };
    let decided_on = match input.decided_on.trim() {
        "" => today(state),
        d => NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map_err(|_| PortalError::Invalid(format!("核实日期“{d}”格式应为2025-07-05")))?,
    };
    if decided_on > today(state) {
        return Err(PortalError::Invalid("核实日期不能晚于今天".into()));
    }
    let id = state
        .store
        .add_disposition(&NewDisposition {
            lead_id: lead.lead_id.clone(),
            township_code: lead.township_code.clone(),
            kind: kind.to_string(),
            reason: reason.to_string(),
            person: person.to_string(),
            signer: if can_sign {
                actor.to_string()
            } else {
                String::new()
            },
            decided_on,
            origin: origin.clone(),
            signed: can_sign,
            transfer_to: transfer_to.clone(),
        })
        .await?;
    state
        .store
        .audit(
            actor,
            "disposition",
            &lead.lead_id,
            &serde_json::json!({
                "disposition_id": id, "kind": kind, "reason": reason, "person": person,
                "decided_on": decided_on.to_string(), "transfer_to": transfer_to,
                "signed": can_sign, "origin": origin,
            }),
        )
        .await?;
    Ok(id)
}

#[derive(Debug, Default, Deserialize)]
pub struct Filters {
    /// Operator only: a township code, or `county`.
    #[serde(default)]
    township: String,
    /// new | open | reopened | overdue
    #[serde(default)]
    status: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    village: String,
    /// Words in the lead's reasons (e.g. 严重行业, 逾期, 体检).
    #[serde(default)]
    reason: String,
    #[serde(default)]
    q: String,
}

/// The township a viewer's list shows: a township user's own; an operator's choice.
fn list_township(v: &Viewer, f: &Filters) -> Result<Option<String>, PortalError> {
    if v.user.is_operator() {
        return Ok(match f.township.as_str() {
            "" | "county" => None,
            code => Some(code.to_string()),
        });
    }
    match (&v.user.township_code, f.township.as_str()) {
        (Some(own), "") => Ok(Some(own.to_string())),
        (Some(own), asked) if own == asked => Ok(Some(own.to_string())),
        _ => Err(PortalError::Forbidden),
    }
}

pub async fn list(
    State(state): State<PortalState>,
    headers: HeaderMap,
    Query(f): Query<Filters>,
) -> Result<Html<String>, PortalError> {
    let v = viewer(&state, &headers).await?;
    let township = list_township(&v, &f)?;
    let leads = super::listing::items(&state, township.as_deref()).await?;
    let cfg = state.cfg();
    let overdue_days = cfg.settings.portal.overdue_days;
    let overdue_before =
        (today(&state) - chrono::Duration::days(i64::from(overdue_days))).to_string();
    let (village, q, reason) = (f.village.trim(), f.q.trim(), f.reason.trim());
    let mut rows = String::new();
    let mut n = 0usize;
    for l in leads.iter().filter(|l| {
        let status_ok = match f.status.as_str() {
            "" => true,
            // Dates are ISO text: text order is date order.
            "overdue" => l.opened_on < overdue_before,
            st => l.status == st,
        };
        status_ok
            && (f.kind.is_empty() || l.kind == f.kind)
            && (village.is_empty() || l.village.contains(village))
            && (reason.is_empty() || l.reasons.contains(reason))
            && (q.is_empty() || l.name.contains(q))
    }) {
        n += 1;
        rows.push_str(&format!(
            "<tr class=\"lead\"><td><a href=\"/leads/{id}\">{id}</a></td><td>{name}</td><td>{kind}</td>\
             <td><span class=\"tag{hi}\">{priority}</span></td><td>{status}</td><td>{village}</td><td>{opened}</td></tr>",
            id = esc(&l.lead_id),
            name = esc(&l.name),
            kind = esc(&l.kind_zh),
            hi = if l.priority_zh.starts_with('高') { " high" } else { "" },
            priority = esc(&l.priority_zh),
            status = esc(l.status_zh),
            village = esc(&l.village),
            opened = esc(&l.opened_on),
        ));
    }
    let sel = |value: &str, current: &str, label: &str| {
        format!(
            "<option value=\"{}\"{}>{}</option>",
            esc(value),
            if value == current { " selected" } else { "" },
            esc(label)
        )
    };
    let statuses = [
        ("", "全部状态"),
        ("new", "新增"),
        ("open", "持续"),
        ("reopened", "重新列入"),
    ]
    .iter()
    .map(|(v, l)| sel(v, &f.status, l))
    .chain(std::iter::once(sel(
        "overdue",
        &f.status,
        &format!("逾期（列入超过{overdue_days}天）"),
    )))
    .collect::<String>();
    let kinds = std::iter::once(sel("", &f.kind, "全部类型"))
        .chain(
            crate::screen::LeadKind::ALL
                .iter()
                .map(|k| sel(k.as_str(), &f.kind, k.label_zh())),
        )
        .collect::<String>();
    let township_picker = if v.user.is_operator() {
        let mut opts = sel("county", &f.township, "未能定位乡镇（县级）");
        for t in &cfg.gazetteer.townships {
            opts.push_str(&sel(&t.code, &f.township, &t.name));
        }
        format!("<select name=\"township\" id=\"township\">{opts}</select>")
    } else {
        String::new()
    };
    let body = format!(
        "<h1>{title}</h1>\
         <form class=\"filters\" method=\"get\" action=\"/leads\">{township_picker}\
         <select name=\"status\" id=\"status\">{statuses}</select><select name=\"kind\" id=\"kind\">{kinds}</select>\
         <input name=\"village\" id=\"village\" placeholder=\"村（社区）\" value=\"{village}\">\
         <input name=\"reason\" id=\"reason\" placeholder=\"原因关键词（如 严重行业、逾期、体检）\" value=\"{reason}\">\
         <input name=\"q\" id=\"q\" placeholder=\"单位名称\" value=\"{q}\"><button type=\"submit\" id=\"filter\">筛选</button></form>\
         <p id=\"count\">共 {n} 条</p><table><thead><tr><th>线索编号</th><th>单位名称</th><th>类型</th><th>优先级</th>\
         <th>状态</th><th>村（社区）</th><th>列入日期</th></tr></thead><tbody>{rows}</tbody></table>\
         <div class=\"card\"><h2>上传核实结果</h2><p>在下发的Excel清单中填写“核实情况”“核实人”“核实日期”后上传。</p>\
         <form method=\"post\" action=\"/upload\" enctype=\"multipart/form-data\">{csrf}\
         <input type=\"file\" name=\"file\" id=\"file\" accept=\".xlsx\"> <button type=\"submit\" id=\"upload\">上传</button></form></div>",
        title = esc(&format!("{} 的线索", state.township_name(township.as_deref()))),
        village = esc(&f.village),
        reason = esc(&f.reason),
        q = esc(&f.q),
        csrf = csrf_field(&v.session.csrf),
    );
    Ok(Html(page(
        "线索",
        Some((&v.line(&state), &v.session.csrf)),
        &body,
    )))
}

/// A listed lead the viewer may see, or Forbidden/NotFound.
async fn scoped_lead(state: &PortalState, v: &Viewer, id: &str) -> Result<PortalLead, PortalError> {
    let lead = state
        .store
        .portal_lead(id)
        .await?
        .ok_or(PortalError::NotFound)?;
    if !in_scope(v, lead.township_code.as_deref()) {
        tracing::warn!(user = %v.user.username, lead = %id, "refused: lead of another township");
        return Err(PortalError::Forbidden);
    }
    Ok(lead)
}

pub async fn detail(
    State(state): State<PortalState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Html<String>, PortalError> {
    let v = viewer(&state, &headers).await?;
    let lead = scoped_lead(&state, &v, &id).await?;
    let r = &lead.data.row;
    let list = |items: &[String]| {
        items
            .iter()
            .map(|x| format!("<li>{}</li>", esc(x)))
            .collect::<String>()
    };
    let facts = [
        ("单位名称", &r.name),
        ("统一社会信用代码", &r.uscc),
        ("法定代表人", &r.legal_rep),
        ("地址", &r.address),
        ("所属乡镇", &r.township),
        ("村（社区）", &r.village),
        ("行业", &r.industry_name),
        ("风险等级", &r.risk_class),
        ("申报状态", &r.filing_status),
        ("线索类型", &r.kind),
        ("优先级", &r.priority),
        ("线索状态", &r.status),
        ("定位依据", &r.placement),
    ]
    .iter()
    .map(|(label, value)| format!("<tr><th>{label}</th><td>{}</td></tr>", esc(value)))
    .collect::<String>();
    let history = state
        .store
        .dispositions(Some(&lead.lead_id), None, false)
        .await?
        .iter()
        .map(|d| {
            format!(
                "<li>{} {}：{}{}（核实人{}，{}）</li>",
                esc(&d.decided_on),
                esc(&d.kind),
                esc(&d.reason),
                d.transfer_to
                    .as_deref()
                    .map(|t| format!("，转交{}", esc(&state.township_name(Some(t)))))
                    .unwrap_or_default(),
                esc(&d.person),
                if d.signed_at.is_some() {
                    format!("{}已签字", esc(&d.signer))
                } else {
                    "待领导签字".to_string()
                }
            )
        })
        .collect::<String>();
    let kinds = DISPOSITIONS
        .iter()
        .map(|(d, _)| format!("<option value=\"{0}\">{0}</option>", esc(d)))
        .collect::<String>();
    let townships = super::html::township_options(&state.cfg().gazetteer);
    let body = format!(
        "<h1>{id}</h1><table>{facts}</table><div class=\"card\"><h2>线索原因</h2><ul id=\"reasons\">{reasons}</ul>\
         <h2>各部门数据</h2><ul id=\"evidence\">{evidence}</ul></div>\
         <div class=\"card\"><h2>核实记录</h2><ul id=\"history\">{history}</ul></div>\
         <div class=\"card\"><h2>填写核实情况</h2><form method=\"post\" action=\"/leads/{id}/disposition\">{csrf}\
         <p><label>核实情况<br><select name=\"kind\" id=\"disposition\">{kinds}</select></label></p>\
         <p><label>实际所在乡镇（不在本辖区时）<br><select name=\"transfer_to\" id=\"transfer_to\"><option value=\"\">—</option>{townships}</select></label></p>\
         <p><label>原因说明<br><textarea name=\"reason\" id=\"reason\" rows=\"3\"></textarea></label></p>\
         <p><label>核实人<br><input name=\"person\" id=\"person\" required></label></p>\
         <p><label>核实日期<br><input name=\"decided_on\" id=\"decided_on\" type=\"date\"></label></p>\
         <p><button type=\"submit\" id=\"save\">提交</button></p></form></div>",
        id = esc(&lead.lead_id),
        reasons = list(&r.reasons),
        evidence = list(&r.evidence),
        csrf = csrf_field(&v.session.csrf),
    );
    Ok(Html(page(
        &lead.lead_id,
        Some((&v.line(&state), &v.session.csrf)),
        &body,
    )))
}

#[derive(Deserialize)]
pub struct DisposeForm {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    input: DispositionInput,
}

pub async fn dispose(
    State(state): State<PortalState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<DisposeForm>,
) -> Result<Response, PortalError> {
    let v = viewer(&state, &headers).await?;
    v.check_csrf(&form.csrf)?;
    let lead = scoped_lead(&state, &v, &id).await?;
    let origin = format!("portal:{}", v.user.username);
    record(
        &state,
        &v.user.display_name,
        v.user.can_sign,
        origin,
        &lead,
        &form.input,
    )
    .await?;
    Ok((StatusCode::SEE_OTHER, [(LOCATION, format!("/leads/{id}"))]).into_response())
}

pub async fn dispositions(
    State(state): State<PortalState>,
    headers: HeaderMap,
) -> Result<Html<String>, PortalError> {
    let v = viewer(&state, &headers).await?;
    let township = if v.user.is_operator() {
        None
    } else {
        Some(v.user.township_code.clone().ok_or(PortalError::Forbidden)?)
    };
    let pending = state
        .store
        .dispositions(None, township.as_deref(), true)
        .await?;
    let mut rows = String::new();
    for d in &pending {
        let sign = if v.user.can_sign && !v.user.is_operator() {
            format!(
                "<form method=\"post\" action=\"/dispositions/{}/signoff\">{}<button type=\"submit\" class=\"signoff\">签字确认</button></form>",
                d.id,
                csrf_field(&v.session.csrf)
            )
        } else {
            "待领导签字".to_string()
        };
        rows.push_str(&format!(
            "<tr><td><a href=\"/leads/{lead}\">{lead}</a></td><td>{township}</td><td>{kind}</td><td>{reason}</td><td>{person}</td><td>{date}</td><td>{sign}</td></tr>",
            lead = esc(&d.lead_id),
            township = esc(&state.township_name(d.township_code.as_deref())),
            kind = esc(&d.kind),
            reason = esc(&d.reason),
            person = esc(&d.person),
            date = esc(&d.decided_on),
        ));
    }
    let body = format!(
        "<h1>待签字的核实记录</h1><p id=\"pending\">共 {} 条</p><table><thead><tr><th>线索</th><th>乡镇</th><th>核实情况</th>\
         <th>原因</th><th>核实人</th><th>日期</th><th></th></tr></thead><tbody>{rows}</tbody></table>",
        pending.len()
    );
    Ok(Html(page(
        "核实记录",
        Some((&v.line(&state), &v.session.csrf)),
        &body,
    )))
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

pub async fn sign_off(
    State(state): State<PortalState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, PortalError> {
    let v = viewer(&state, &headers).await?;
    v.check_csrf(&form.csrf)?;
    if !v.user.can_sign || v.user.is_operator() {
        return Err(PortalError::Forbidden);
    }
    let township = v
        .user
        .township_code
        .as_deref()
        .ok_or(PortalError::Forbidden)?;
    if !state
        .store
        .sign_off(id, Some(township), &v.user.display_name)
        .await?
    {
        return Err(PortalError::Forbidden);
    }
    state
        .store
        .audit(
            &v.user.display_name,
            "sign_off",
            &format!("disposition:{id}"),
            &serde_json::json!({ "township": township }),
        )
        .await?;
    Ok((
        StatusCode::SEE_OTHER,
        [(LOCATION, "/dispositions".to_string())],
    )
        .into_response())
}

pub async fn upload(
    State(state): State<PortalState>,
    headers: HeaderMap,
    mut form: Multipart,
) -> Result<Html<String>, PortalError> {
    let v = viewer(&state, &headers).await?;
    let mut csrf = String::new();
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| PortalError::Invalid(format!("上传内容无法读取：{e}")))?
    {
        match field.name() {
            Some("csrf") => csrf = field.text().await.unwrap_or_default(),
            Some("file") => {
                let name = field.file_name().unwrap_or("上传.xlsx").to_string();
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|e| PortalError::Invalid(format!("文件无法读取：{e}")))?;
                file = Some((name, bytes.to_vec()));
            }
            _ => {}
        }
    }
    // The token comes with the form; checked before the file is looked at.
    v.check_csrf(&csrf)?;
    let (name, bytes) =
        file.ok_or_else(|| PortalError::Invalid("请选择要上传的Excel文件".into()))?;
    let dir =
        tempfile::tempdir().map_err(|e| PortalError::Invalid(format!("无法保存上传文件：{e}")))?;
    let path = dir.path().join("returned.xlsx");
    std::fs::write(&path, &bytes)
        .map_err(|e| PortalError::Invalid(format!("无法保存上传文件：{e}")))?;
    let (rows, problems) =
        crate::feedback::read_returned_list(&path, today(&state)).map_err(|_| {
            PortalError::Invalid("无法读取该文件：请上传下发的Excel清单（.xlsx）".into())
        })?;
    let mut lines: Vec<String> = problems
        .iter()
        .map(|p| {
            format!(
                "<li class=\"err\">第{}行（{}）：{}</li>",
                p.row,
                esc(&p.lead_id),
                esc(&p.reason)
            )
        })
        .collect();
    let mut recorded = 0usize;
    for r in rows {
        let lead = match state.store.portal_lead(&r.lead_id).await? {
            Some(l) if in_scope(&v, l.township_code.as_deref()) => l,
            Some(_) => {
                tracing::warn!(user = %v.user.username, lead = %r.lead_id, "upload row refused: another township's lead");
                lines.push(format!(
                    "<li class=\"err\">第{}行（{}）：该线索不属于本乡镇，未记录</li>",
                    r.row,
                    esc(&r.lead_id)
                ));
                continue;
            }
            None => {
                lines.push(format!(
                    "<li class=\"err\">第{}行（{}）：线索编号不存在</li>",
                    r.row,
                    esc(&r.lead_id)
                ));
                continue;
            }
        };
        let input = DispositionInput {
            kind: r.kind.clone(),
            reason: r.reason.clone(),
            person: r.person.clone(),
            decided_on: r.decided_on.to_string(),
            transfer_to: String::new(),
        };
        let origin = format!("upload:{}:{}:{}", v.user.username, name, r.row);
        match record(
            &state,
            &v.user.display_name,
            v.user.can_sign,
            origin,
            &lead,
            &input,
        )
        .await
        {
            Ok(_) => recorded += 1,
            Err(PortalError::Invalid(why)) => lines.push(format!(
                "<li class=\"err\">第{}行（{}）：{}</li>",
                r.row,
                esc(&r.lead_id),
                esc(&why)
            )),
            Err(e) => return Err(e),
        }
    }
    let body = format!(
        "<h1>上传结果</h1><p class=\"ok\" id=\"recorded\">已记录 {recorded} 条核实情况</p>\
         <ul id=\"problems\">{}</ul><p><a href=\"/leads\">返回线索列表</a></p>",
        lines.join("")
    );
    Ok(Html(page(
        "上传结果",
        Some((&v.line(&state), &v.session.csrf)),
        &body,
    )))
}
