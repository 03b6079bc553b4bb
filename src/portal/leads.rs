//! The township's pages: its leads with filters, one lead with its evidence and history, the
//! disposition form, the leader's sign-off and the upload of a returned Excel list.

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Form;
use chrono::NaiveDate;
use serde::Deserialize;

use super::html::{render, Choice, Frame};
use super::listing::ListItem;
use super::signin::{viewer, Viewer};
use super::{role_of, PortalError, PortalState};
use crate::deliver::DISPOSITIONS;
use crate::place::Township;
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
    /// 1-based; anything else (absent, not a number, past the end) shows the nearest page.
    #[serde(default)]
    page: String,
}

impl Filters {
    /// The query string of these filters on page `page` (empty filters left out).
    fn query(&self, page: usize) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("township", &self.township),
            ("status", &self.status),
            ("kind", &self.kind),
            ("village", &self.village),
            ("reason", &self.reason),
            ("q", &self.q),
        ] {
            if !v.trim().is_empty() {
                q.append_pair(k, v);
            }
        }
        q.append_pair("page", &page.to_string());
        q.finish()
    }
}

/// Leads on one page of a township's list.
pub const PAGE_SIZE: usize = 50;

/// Where a list's page is: `第 page 页，共 pages 页` and the links either side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paging {
    pub page: usize,
    pub pages: usize,
    /// The rows shown: `first..end` of the filtered list.
    pub first: usize,
    pub end: usize,
}

impl Paging {
    /// Page `asked` (1-based text) of `total` rows, `size` a page: a page past the end shows
    /// the last one, anything that is not a page number the first.
    pub fn of(asked: &str, total: usize, size: usize) -> Paging {
        let size = size.max(1);
        let pages = total.div_ceil(size).max(1);
        let page = asked.trim().parse::<usize>().unwrap_or(1).clamp(1, pages);
        let first = (page - 1) * size;
        Paging {
            page,
            pages,
            first,
            end: (first + size).min(total),
        }
    }
}

/// The township a viewer's list shows (`asked`: the `township` the request names): a
/// township user's own, any other refused; an operator's choice (`county` or none: the
/// county's list of unplaced leads).
pub(super) fn list_township(v: &Viewer, asked: &str) -> Result<Option<String>, PortalError> {
    if v.user.is_operator() {
        return Ok(match asked {
            "" | "county" => None,
            code => Some(code.to_string()),
        });
    }
    match (&v.user.township_code, asked) {
        (Some(own), "") => Ok(Some(own.to_string())),
        (Some(own), asked) if own == asked => Ok(Some(own.to_string())),
        _ => Err(PortalError::Forbidden),
    }
}

/// `templates/portal/leads.html`: a township's list with its filters.
#[derive(Template)]
#[template(path = "portal/leads.html")]
struct ListPage<'a> {
    frame: Frame,
    /// e.g. `水头镇 的线索`.
    title: String,
    /// The operator's township picker; empty for a township account.
    townships: Vec<Choice>,
    statuses: Vec<Choice>,
    kinds: Vec<Choice>,
    village: &'a str,
    reason: &'a str,
    q: &'a str,
    /// The filtered leads, all pages.
    total: usize,
    /// This page's leads.
    rows: &'a [&'a ListItem],
    paging: Paging,
    /// The query strings of the pages before and after, filters kept.
    prev: Option<String>,
    next: Option<String>,
    /// `/list.xlsx`, with the township for the operator.
    download: String,
    /// When the last run saved these leads, in the county's time zone, and the zone's name.
    updated: Option<String>,
    zone: String,
    /// A run's lists wait for the county's approval: the township sees the list last
    /// released to it until then.
    awaiting: bool,
    csrf: &'a str,
}

/// A disposition in a lead's history.
struct HistoryItem {
    decided_on: String,
    kind: String,
    reason: String,
    /// The township's name it was transferred to.
    transfer_to: Option<String>,
    person: String,
    /// Who signed it; `None` while it waits for the leader.
    signer: Option<String>,
    /// When it was signed, in the county's time zone.
    signed_at: String,
}

/// `templates/portal/lead.html`: one lead and the disposition form.
#[derive(Template)]
#[template(path = "portal/lead.html")]
struct LeadPage<'a> {
    frame: Frame,
    id: &'a str,
    /// Label and value of each fact, in the order townships read them.
    facts: [(&'static str, &'a String); 13],
    reasons: &'a [String],
    evidence: &'a [String],
    history: Vec<HistoryItem>,
    /// The county's time zone, named once beside the signing times.
    zone: String,
    /// The dispositions a township may record.
    kinds: Vec<&'static str>,
    townships: &'a [Township],
    csrf: &'a str,
}

/// A disposition waiting for sign-off.
struct PendingRow {
    id: i64,
    lead_id: String,
    township: String,
    kind: String,
    reason: String,
    person: String,
    decided_on: String,
}

/// `templates/portal/dispositions.html`.
#[derive(Template)]
#[template(path = "portal/dispositions.html")]
struct PendingPage<'a> {
    frame: Frame,
    rows: Vec<PendingRow>,
    /// A township leader signs here; others see 待领导签字.
    can_sign: bool,
    csrf: &'a str,
}

/// A row of an uploaded list that was not recorded, and why.
struct UploadProblem {
    row: usize,
    lead_id: String,
    why: String,
}

/// `templates/portal/upload.html`.
#[derive(Template)]
#[template(path = "portal/upload.html")]
struct UploadPage {
    frame: Frame,
    recorded: usize,
    problems: Vec<UploadProblem>,
}

pub async fn list(
    State(state): State<PortalState>,
    headers: HeaderMap,
    Query(f): Query<Filters>,
) -> Result<Html<String>, PortalError> {
    let v = viewer(&state, &headers).await?;
    let township = list_township(&v, &f.township)?;
    let leads = super::listing::items(&state, township.as_deref()).await?;
    // A township sees what was released to it; the operator sees the run waiting too.
    let released = if v.user.is_operator() {
        None
    } else {
        super::listing::released_only(&state, township.as_deref()).await?
    };
    let cfg = state.cfg();
    let overdue_days = cfg.settings.portal.overdue_days;
    let overdue_before =
        (today(&state) - chrono::Duration::days(i64::from(overdue_days))).to_string();
    let (village, q, reason) = (f.village.trim(), f.q.trim(), f.reason.trim());
    let rows: Vec<&ListItem> = leads
        .iter()
        .filter(|l| released.as_ref().is_none_or(|ids| ids.contains(&l.lead_id)))
        .filter(|l| {
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
        })
        .collect();
    let paging = Paging::of(&f.page, rows.len(), state.page_size);
    let prev = (paging.page > 1).then(|| f.query(paging.page - 1));
    let next = (paging.page < paging.pages).then(|| f.query(paging.page + 1));
    let tz = cfg.timezone();
    let updated = state
        .store
        .last_succeeded_run()
        .await?
        .and_then(|r| r.finished_at)
        .map(|t| super::html::local_time(&t, tz));
    let download = match (v.user.is_operator(), township.as_deref()) {
        (true, Some(code)) => format!(
            "/list.xlsx?{}",
            url::form_urlencoded::Serializer::new(String::new())
                .append_pair("township", code)
                .finish()
        ),
        (true, None) => "/list.xlsx?township=county".to_string(),
        (false, _) => "/list.xlsx".to_string(),
    };
    let statuses = [
        ("", "全部状态"),
        ("new", "新增"),
        ("open", "持续"),
        ("reopened", "重新列入"),
    ]
    .iter()
    .map(|(v, l)| Choice::new(v, &f.status, l))
    .chain(std::iter::once(Choice::new(
        "overdue",
        &f.status,
        &format!("逾期（列入超过{overdue_days}天）"),
    )))
    .collect();
    let kinds = std::iter::once(Choice::new("", &f.kind, "全部类型"))
        .chain(
            crate::screen::LeadKind::ALL
                .iter()
                .map(|k| Choice::new(k.as_str(), &f.kind, k.label_zh())),
        )
        .collect();
    // Only the operator picks a township.
    let townships = if v.user.is_operator() {
        std::iter::once(Choice::new("county", &f.township, "未能定位乡镇（县级）"))
            .chain(
                cfg.gazetteer
                    .townships
                    .iter()
                    .map(|t| Choice::new(&t.code, &f.township, &t.name)),
            )
            .collect()
    } else {
        Vec::new()
    };
    let line = v.line(&state);
    Ok(Html(render(&ListPage {
        frame: Frame::new("线索", Some((&line, &v.session.csrf))),
        title: format!("{} 的线索", state.township_name(township.as_deref())),
        townships,
        statuses,
        kinds,
        village: &f.village,
        reason: &f.reason,
        q: &f.q,
        total: rows.len(),
        rows: &rows[paging.first..paging.end],
        paging,
        prev,
        next,
        download,
        updated,
        zone: super::html::zone_label(tz),
        awaiting: released.is_some(),
        csrf: &v.session.csrf,
    })?))
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
    // While a run's lists wait for approval, a township knows only what was released to it.
    if !v.user.is_operator() && !released(state, &lead).await? {
        return Err(PortalError::NotFound);
    }
    Ok(lead)
}

/// Whether `lead` is on the list last released to its township, or no run waits.
pub async fn released(state: &PortalState, lead: &PortalLead) -> Result<bool, PortalError> {
    Ok(
        super::listing::released_only(state, lead.township_code.as_deref())
            .await?
            .is_none_or(|ids| ids.contains(&lead.lead_id)),
    )
}

pub async fn detail(
    State(state): State<PortalState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Html<String>, PortalError> {
    let v = viewer(&state, &headers).await?;
    let lead = scoped_lead(&state, &v, &id).await?;
    let r = &lead.data.row;
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
    ];
    let cfg = state.cfg();
    let tz = cfg.timezone();
    let history = state
        .store
        .dispositions(Some(&lead.lead_id), None, false)
        .await?
        .into_iter()
        .map(|d| HistoryItem {
            signed_at: d
                .signed_at
                .as_deref()
                .map(|t| super::html::local_time(t, tz))
                .unwrap_or_default(),
            transfer_to: d
                .transfer_to
                .as_deref()
                .map(|t| state.township_name(Some(t))),
            signer: d.signed_at.is_some().then_some(d.signer),
            decided_on: d.decided_on,
            kind: d.kind,
            reason: d.reason,
            person: d.person,
        })
        .collect();
    let line = v.line(&state);
    Ok(Html(render(&LeadPage {
        frame: Frame::new(&lead.lead_id, Some((&line, &v.session.csrf))),
        id: &lead.lead_id,
        facts,
        reasons: &r.reasons,
        evidence: &r.evidence,
        history,
        zone: super::html::zone_label(tz),
        kinds: DISPOSITIONS.iter().map(|(d, _)| *d).collect(),
        townships: &cfg.gazetteer.townships,
        csrf: &v.session.csrf,
    })?))
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
    let rows = pending
        .into_iter()
        .map(|d| PendingRow {
            township: state.township_name(d.township_code.as_deref()),
            id: d.id,
            lead_id: d.lead_id,
            kind: d.kind,
            reason: d.reason,
            person: d.person,
            decided_on: d.decided_on,
        })
        .collect();
    let line = v.line(&state);
    Ok(Html(render(&PendingPage {
        frame: Frame::new("核实记录", Some((&line, &v.session.csrf))),
        rows,
        can_sign: v.user.can_sign && !v.user.is_operator(),
        csrf: &v.session.csrf,
    })?))
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
    // Parsing is blocking work (and a refused bomb is unpacked into nothing up to the cap).
    let day = today(&state);
    let read = tokio::task::spawn_blocking(move || {
        let read = crate::feedback::read_returned_list(&path, day);
        drop(dir);
        read
    })
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "reading an uploaded list failed");
        PortalError::Invalid("文件无法读取，请稍后再试".into())
    })?;
    let (rows, problems) = match read {
        Ok(read) => read,
        Err(e @ crate::feedback::FeedbackError::TooLarge { cap, .. }) => {
            tracing::warn!(user = %v.user.username, file = %name, error = %e, "upload refused: the workbook unpacks past the cap");
            return Err(PortalError::Invalid(format!(
                "文件解压后超过{}MB上限，不是正常的线索清单，未记录任何内容。请上传下发的Excel清单（.xlsx）",
                cap / (1024 * 1024)
            )));
        }
        Err(e) => {
            tracing::info!(user = %v.user.username, file = %name, error = %e, "upload refused: not a returned list");
            return Err(PortalError::Invalid(
                "无法读取该文件：请上传下发的Excel清单（.xlsx）".into(),
            ));
        }
    };
    let mut lines: Vec<UploadProblem> = problems
        .iter()
        .map(|p| UploadProblem {
            row: p.row,
            lead_id: p.lead_id.clone(),
            why: p.reason.clone(),
        })
        .collect();
    let mut recorded = 0usize;
    for r in rows {
        let lead = match state.store.portal_lead(&r.lead_id).await? {
            Some(l) if in_scope(&v, l.township_code.as_deref()) => l,
            Some(_) => {
                tracing::warn!(user = %v.user.username, lead = %r.lead_id, "upload row refused: another township's lead");
                lines.push(UploadProblem {
                    row: r.row,
                    lead_id: r.lead_id.clone(),
                    why: "该线索不属于本乡镇，未记录".to_string(),
                });
                continue;
            }
            None => {
                lines.push(UploadProblem {
                    row: r.row,
                    lead_id: r.lead_id.clone(),
                    why: "线索编号不存在".to_string(),
                });
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
            Err(PortalError::Invalid(why)) => lines.push(UploadProblem {
                row: r.row,
                lead_id: r.lead_id.clone(),
                why,
            }),
            Err(e) => return Err(e),
        }
    }
    let line = v.line(&state);
    Ok(Html(render(&UploadPage {
        frame: Frame::new("上传结果", Some((&line, &v.session.csrf))),
        recorded,
        problems: lines,
    })?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_past_the_end_shows_the_last_and_nonsense_the_first() {
        let p = |asked, total| {
            let p = Paging::of(asked, total, 50);
            (p.page, p.pages, p.first, p.end)
        };
        assert_eq!(p("", 120), (1, 3, 0, 50));
        assert_eq!(p("2", 120), (2, 3, 50, 100));
        assert_eq!(p("3", 120), (3, 3, 100, 120));
        assert_eq!(p("9", 120), (3, 3, 100, 120));
        assert_eq!(p("0", 120), (1, 3, 0, 50));
        assert_eq!(p("-1", 120), (1, 3, 0, 50));
        assert_eq!(p("abc", 120), (1, 3, 0, 50));
        assert_eq!(p("99999999999999999999999", 120), (1, 3, 0, 50));
        // No leads: one empty page.
        assert_eq!(p("4", 0), (1, 1, 0, 0));
        assert_eq!(p("1", 50), (1, 1, 0, 50));
    }

    #[test]
    fn page_links_keep_the_filters() {
        let f = Filters {
            status: "new".into(),
            village: "上 村&".into(),
            page: "3".into(),
            ..Filters::default()
        };
        assert_eq!(
            f.query(2),
            "status=new&village=%E4%B8%8A+%E6%9D%91%26&page=2"
        );
    }
}
