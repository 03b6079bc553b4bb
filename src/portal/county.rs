//! The county operator's pages: coverage by township (the report's chart), each source's
//! freshness, the runs whose lists wait for approval (批准下发), and the review queue of
//! uncertain matches, whose decisions bind later runs.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Form;
use chrono::Datelike;
use serde::Deserialize;

use super::html::{local_time, render, zone_label, Frame};
use super::signin::{viewer, Viewer};
use super::{PortalError, PortalState};
use crate::report::period::Period;
use crate::store::SnapshotStatus;

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

/// A source's line on the overview.
struct SourceRow {
    id: String,
    feed: &'static str,
    /// 正常, 暂停使用（数据异常）, 读取失败 or 从未读取.
    status: &'static str,
    /// When its latest good data was taken, or —.
    last_good: String,
    note: String,
}

/// `templates/portal/county.html`.
#[derive(Template)]
#[template(path = "portal/county.html")]
struct OverviewPage<'a> {
    frame: Frame,
    county: &'a str,
    /// The report's coverage chart: SVG written by `report::chart_svg`, which escapes its
    /// own text, so the template inserts it as markup.
    chart: &'a str,
    sources: Vec<SourceRow>,
    /// When the last run finished, in the county's time zone.
    last_run: Option<String>,
    /// The county's time zone, named once beside its times.
    zone: String,
    pending: usize,
    review: usize,
    /// Runs whose township lists wait for the operator's approval, oldest first.
    waiting: Vec<WaitingRun>,
    csrf: &'a str,
}

/// A run whose lists wait for approval, as the overview lists it.
struct WaitingRun {
    run_id: i64,
    as_of: String,
    /// When the run finished, in the county's time zone.
    finished: String,
    /// Lists queued (one per township and channel).
    lists: u64,
}

/// An open review pair as its card shows it.
struct PairCard {
    id: i64,
    /// The probability that the two records are one employer, in percent.
    percent: f64,
    name: String,
    source: String,
    key: String,
    other_name: String,
    other_source: String,
    other_key: String,
    /// The per-field weights (`resolve::explain::waterfall`).
    why: String,
}

/// `templates/portal/review.html`.
#[derive(Template)]
#[template(path = "portal/review.html")]
struct ReviewPage<'a> {
    frame: Frame,
    csrf: &'a str,
    pairs: Vec<PairCard>,
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
    let tz = cfg.timezone();
    let mut sources = Vec::new();
    for c in &cfg.connectors {
        let last = state.store.latest_snapshot(&c.id, false).await?;
        let good = state.store.latest_snapshot(&c.id, true).await?;
        let (status, note) = match &last {
            Some(l) => (
                match l.status {
                    SnapshotStatus::Good => "正常",
                    SnapshotStatus::Held => "暂停使用（数据异常）",
                    SnapshotStatus::Failed => "读取失败",
                },
                l.note.clone().unwrap_or_default(),
            ),
            None => ("从未读取", String::new()),
        };
        sources.push(SourceRow {
            id: c.id.clone(),
            feed: c.feed.label_zh(),
            status,
            last_good: good.map_or_else(|| "—".to_string(), |g| local_time(&g.taken_at, tz)),
            note,
        });
    }
    let pending = state.store.dispositions(None, None, true).await?.len();
    let review = open_pairs(&state).await?.len();
    let last_run = state
        .store
        .last_succeeded_run()
        .await?
        .and_then(|r| r.finished_at)
        .map(|t| local_time(&t, tz));
    let mut waiting = Vec::new();
    for (run_id, lists) in state.store.waiting_runs().await? {
        let run = state.store.run_row(run_id).await?;
        waiting.push(WaitingRun {
            run_id,
            as_of: run.as_ref().map(|r| r.as_of.clone()).unwrap_or_default(),
            finished: run
                .and_then(|r| r.finished_at)
                .map_or_else(|| "—".to_string(), |t| local_time(&t, tz)),
            lists,
        });
    }
    let line = v.line(&state);
    Ok(Html(render(&OverviewPage {
        frame: Frame::new("县级概况", Some((&line, &v.session.csrf))),
        county: &cfg.settings.county.name,
        chart: &chart,
        sources,
        last_run,
        zone: zone_label(tz),
        pending,
        review,
        waiting,
        csrf: &v.session.csrf,
    })?))
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
    let pairs = open_pairs(&state)
        .await?
        .into_iter()
        .map(|(id, e)| PairCard {
            id,
            percent: e.probability * 100.0,
            why: crate::resolve::explain::waterfall(&e),
            name: e.name,
            source: e.source,
            key: e.record_key,
            other_name: e.other_name,
            other_source: e.other_source,
            other_key: e.other_key,
        })
        .collect();
    let line = v.line(&state);
    Ok(Html(render(&ReviewPage {
        frame: Frame::new("疑似同一单位", Some((&line, &v.session.csrf))),
        csrf: &v.session.csrf,
        pairs,
    })?))
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

#[derive(Deserialize)]
pub struct ApproveForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /county/approve/{run}`: the operator releases a run's township lists that wait for
/// approval (`Store::approve_run`); the outbox sends them from now on. Audited.
pub async fn approve(
    State(state): State<PortalState>,
    headers: HeaderMap,
    Path(run): Path<i64>,
    Form(form): Form<ApproveForm>,
) -> Result<Response, PortalError> {
    let v = operator(&state, &headers).await?;
    v.check_csrf(&form.csrf)?;
    if !state
        .store
        .waiting_runs()
        .await?
        .iter()
        .any(|(id, _)| *id == run)
    {
        return Err(PortalError::NotFound);
    }
    let released = state.store.approve_run(run, &v.user.display_name).await?;
    tracing::info!(user = %v.user.username, run, released, "lists approved in the portal");
    state
        .store
        .audit(
            &v.user.display_name,
            "approve_run",
            &format!("run:{run}"),
            &serde_json::json!({ "lists": released }),
        )
        .await?;
    Ok((StatusCode::SEE_OTHER, [(LOCATION, "/county".to_string())]).into_response())
}
