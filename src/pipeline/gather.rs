//! Gather: this run's feeds read, resolved into employers, placed in townships and screened —
//! everything a run's decisions rest on, before anything is decided or written.

use std::sync::Arc;

use chrono::NaiveDate;

use super::{match_context, sources, Clock, PipelineError, SourceOutcome, Sources};
use crate::config::Config;
use crate::domain::Observation;
use crate::place::{Locator, Placement};
use crate::resolve::{resolve, Resolution, ResolveOptions};
use crate::screen::scope::{self, Scope};
use crate::screen::{screen, Assessment};
use crate::store::Store;

/// What this run knows: one value per entity in each of `scopes`, `placements` and
/// `assessments`, in the order of `resolution.records`.
pub struct Gathered {
    pub observations: Vec<Observation>,
    pub sources: Vec<SourceOutcome>,
    pub resolution: Resolution,
    pub locator: Arc<Locator>,
    pub scopes: Vec<Scope>,
    pub placements: Vec<Placement>,
    pub assessments: Vec<Assessment>,
}

/// Reads the sources as `mode` says, resolves, places and screens.
pub(super) async fn gather(
    cfg: &Config,
    store: &Store,
    run_id: i64,
    as_of: NaiveDate,
    mode: Sources,
    clock: &mut Clock<'_>,
) -> Result<Gathered, PipelineError> {
    let (observations, sources) =
        sources::ingest_all(cfg, store, run_id, mode, clock.progress).await?;
    clock.lap("ingest");

    let previous = store.previous_links().await?;
    let locator = Arc::new(Locator::new(&cfg.gazetteer));
    let loc = locator.clone();
    let ctx_cfg = cfg.clone();
    let opts = ResolveOptions {
        thresholds: cfg.settings.resolve,
        overrides: store.overrides().await?,
        keep_compared: false,
        fusion: cfg.settings.fusion,
    };
    let (observations, resolution) = tokio::task::spawn_blocking(move || {
        let ctx = match_context(&ctx_cfg, &loc);
        let r = resolve(&observations, &previous, &ctx, &opts);
        (observations, r)
    })
    .await?;
    tracing::info!(stats = ?resolution.stats, "resolved");
    clock.lap("resolve");

    // An employer of another county is never placed here.
    let scopes: Vec<Scope> = resolution
        .records
        .iter()
        .map(|m| scope::judge(m, &locator, cfg.settings.policy.require_registry))
        .collect();
    let placements: Vec<Placement> = resolution
        .records
        .iter()
        .zip(&scopes)
        .map(|(m, scope)| match scope {
            Scope::OtherCounty { .. } => Placement::unplaced(),
            _ => locator.place(
                m.region_code.as_deref(),
                m.addresses.iter().map(String::as_str),
            ),
        })
        .collect();
    clock.lap("place");

    let mut assessments = screen(
        &resolution.records,
        &cfg.settings.policy,
        &cfg.settings.flags,
        &cfg.catalogue,
        as_of,
    );
    // Another county's employer is not this county's to assist either.
    for (a, scope) in assessments.iter_mut().zip(&scopes) {
        if !scope.is_local() {
            a.sme_assistance = false;
        }
    }
    clock.lap("screen");
    Ok(Gathered {
        observations,
        sources,
        resolution,
        locator,
        scopes,
        placements,
        assessments,
    })
}
