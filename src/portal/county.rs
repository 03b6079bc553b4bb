//! The county operator's pages: coverage by township (the report's chart), each source's
//! freshness, and the review queue of uncertain matches, whose decisions bind later runs.

use axum::extract::{Path, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Form;
use chrono::Datelike;
use serde::Deserialize;

use super::html::{csrf_field, esc, page};
use super::signin::{viewer, Viewer};
use super::{PortalError, PortalState};
use crate::report::period::Period;

pub(super) async fn operator(
    state: &PortalState,
    headers: &HeaderMap,
) -> Result<Viewer, PortalError> {
    let v = viewer(state, headers).await?;
    if !v.user.is_operator() {
        tracing::warn!(user = %v.user.username, "refused: county page for a township account");
        return Err(PortalError::Forbidden);
    }
    Ok(v)
}

/// `GET /county`: coverage this quarter, sources, and what waits for the operator.
pub async fn overview(
    State(state): State<PortalState>,
    headers: HeaderMap,
) -> Result<Html<String>, PortalError> {
    let v = operator(&state, &headers).await?;
    let cfg = state.cfg();
    let as_of = crate::pipeline::as_of(&cfg);
    let quarter = (as_of.month() - 1) / 3 + 1;
    let period = Period::parse(&format!("{}Q{quarter}", as_of.year()))
        .ok_or_else(|| PortalError::Invalid("no period".into()))?;
    let report = crate::report::data::gather(&cfg, &state.store, &period).await?;
    let chart = crate::report::chart_svg(&report);
    let mut sources = String::new();
    for c in &cfg.connectors {
        let last = state.store.latest_snapshot(&c.id, false).await?;
        let good = state.store.latest_snapshot(&c.id, true).await?;
        let (status, note) = match &last {
            Some(l) => (
                match l.status.as_str() {
                    "good" => "正常",
                    "held" => "暂停使用（数据异常）",
                    _ => "读取失败",
                },
                l.note.clone().unwrap_or_default(),
            ),
            None => ("从未读取", String::new()),
        };
        sources.push_str(&format!(
            "<tr class=\"source\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&c.id),
            esc(c.feed.label_zh()),
            esc(status),
            esc(good.as_ref().map_or("—", |g| g.taken_at.as_str())),
            esc(&note)
        ));
    }
    let pending = state.store.dispositions(None, None, true).await?.len();
    let review = open_pairs(&state).await?.len();
    let body = format!(
        "<h1>{county}县级概况</h1><div class=\"card\" id=\"chart\">{chart}</div>\
         <div class=\"card\"><h2>数据来源</h2><table><thead><tr><th>来源</th><th>类型</th><th>最近一次</th>\
         <th>最近可用数据时间</th><th>说明</th></tr></thead><tbody>{sources}</tbody></table></div>\
         <div class=\"card\"><p><a href=\"/dispositions\" id=\"pending\">待签字的核实记录：{pending} 条</a></p>\
         <p><a href=\"/review\" id=\"review\">待人工判断的疑似同一单位：{review} 对</a></p></div>",
        county = esc(&cfg.settings.county.name),
    );
    Ok(Html(page(
        "县级概况",
        Some((&v.line(&state), &v.session.csrf)),
        &body,
    )))
}

/// The review pairs of the last run that no operator has decided.
async fn open_pairs(
    state: &PortalState,
) -> Result<Vec<(i64, crate::resolve::PairEvidence)>, PortalError> {
    match state.store.last_run().await? {
        Some(run) => Ok(state.store.undecided_pairs(run).await?),
        None => Ok(Vec::new()),
    }
}

/// `GET /review`: each open pair with its per-field weights and the two decisions.
pub async fn review(
    State(state): State<PortalState>,
    headers: HeaderMap,
) -> Result<Html<String>, PortalError> {
    let v = operator(&state, &headers).await?;
    let mut cards = String::new();
    for (id, e) in open_pairs(&state).await? {
        cards.push_str(&format!(
            "<div class=\"card pair\"><h2>#{id} 同一单位的可能性 {p:.1}%</h2>\
             <p>{a}（{sa}:{ka}）<br>{b}（{sb}:{kb}）</p><pre>{why}</pre>\
             <form method=\"post\" action=\"/review/{id}\">{csrf}\
             <input name=\"note\" placeholder=\"备注\"> \
             <button type=\"submit\" name=\"decision\" value=\"same\" class=\"same\">是同一单位</button> \
             <button type=\"submit\" name=\"decision\" value=\"different\" class=\"different\">不是同一单位</button></form></div>",
            p = e.probability * 100.0,
            a = esc(&e.name),
            sa = esc(&e.source),
            ka = esc(&e.record_key),
            b = esc(&e.other_name),
            sb = esc(&e.other_source),
            kb = esc(&e.other_key),
            why = esc(&crate::resolve::explain::waterfall(&e)),
            csrf = csrf_field(&v.session.csrf),
        ));
    }
    if cards.is_empty() {
        cards = "<p id=\"none\">没有待判断的记录。</p>".to_string();
    }
    Ok(Html(page(
        "疑似同一单位",
        Some((&v.line(&state), &v.session.csrf)),
        &format!("<h1>疑似同一单位（人工判断后从下次运行起生效）</h1>{cards}"),
    )))
}

#[derive(Deserialize)]
pub struct DecideForm {
    #[serde(default)]
    csrf: String,
    decision: String,
    #[serde(default)]
    note: String,
}

/// `POST /review/{id}`: records the operator's decision; it binds every later run.
pub async fn decide(
    State(state): State<PortalState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<DecideForm>,
) -> Result<Response, PortalError> {
    let v = operator(&state, &headers).await?;
    v.check_csrf(&form.csrf)?;
    let same = match form.decision.as_str() {
        "same" => true,
        "different" => false,
        _ => return Err(PortalError::Invalid("请选择“是”或“不是”同一单位".into())),
    };
    let (_, e) = open_pairs(&state)
        .await?
        .into_iter()
        .find(|(pid, _)| *pid == id)
        .ok_or(PortalError::NotFound)?;
    let o = crate::resolve::Override {
        a: (e.source.clone(), e.record_key.clone()),
        b: (e.other_source.clone(), e.other_key.clone()),
        same,
    };
    let note = form.note.trim();
    let override_id = state
        .store
        .add_override(&o, &v.user.display_name, (!note.is_empty()).then_some(note))
        .await?;
    state
        .store
        .audit(
            &v.user.display_name,
            "review_decision",
            &format!("pair:{id}"),
            &serde_json::json!({
                "override_id": override_id, "same": same, "note": note,
                "a": format!("{}:{}", o.a.0, o.a.1), "b": format!("{}:{}", o.b.0, o.b.1),
            }),
        )
        .await?;
    Ok((StatusCode::SEE_OTHER, [(LOCATION, "/review".to_string())]).into_response())
}
