//! Gather: this run's feeds read, resolved into employers, placed in townships and screened —
//! everything a run's decisions rest on, before anything is decided or written.

use std::sync::Arc;

use chrono::NaiveDate;

use super::{match_context, sources, Clock, PipelineError, SourceOutcome, Sources, Warm};
use crate::config::Config;
use crate::domain::Observation;
use crate::place::{Locator, Placement};
use crate::resolve::incremental::{Resolver, UpdateStats};
use crate::resolve::{resolve, Resolution, ResolveOptions};
use crate::screen::scope::{self, Scope};
use crate::screen::{screen, Assessment};
use crate::store::Store;
use yingbao_core::parallel::parallel_chunks;

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
    /// What the kept resolver re-resolved, when it was updated rather than rebuilt.
    pub incremental: Option<UpdateStats>,
}

/// Reads the sources as `mode` says, resolves, places and screens.
pub(super) async fn gather(
    cfg: &Config,
    store: &Store,
    run_id: i64,
    as_of: NaiveDate,
    mode: Sources,
    warm: Option<&mut Warm>,
    clock: &mut Clock<'_>,
) -> Result<Gathered, PipelineError> {
    let (observations, sources) =
        sources::ingest_all(cfg, store, run_id, mode, warm.as_deref(), clock.progress).await?;
    clock.lap("ingest");

    let locator = Arc::new(Locator::new(&cfg.gazetteer));
    let loc = locator.clone();
    let ctx_cfg = cfg.clone();
    let opts = ResolveOptions {
        thresholds: cfg.settings.resolve,
        overrides: store.overrides().await?,
        keep_compared: false,
        fusion: cfg.settings.fusion,
    };
    // A kept resolver is updated only when it holds the newest succeeded run: that run's
    // links are the `previous` a full resolution would start from.
    let mut warm = warm;
    let keep = warm.is_some();
    let kept_resolver = match warm.as_deref_mut() {
        Some(w) => w.take_for(store.last_run().await?),
        None => None,
    };
    // The last run's links give ids to a resolution from scratch; a kept resolver has them.
    let previous = match kept_resolver {
        Some(_) => Default::default(),
        None => store.previous_links().await?,
    };
    let (observations, resolution, resolver, incremental) =
        tokio::task::spawn_blocking(move || {
            let ctx = match_context(&ctx_cfg, &loc);
            match kept_resolver {
                // The kept resolver lends its resolution to this run (see `Warm::give_back`).
                Some(mut r) => {
                    let stats = r.update(&observations, &ctx, &opts).1;
                    let res = r.lend();
                    (observations, res, Some(r), Some(stats))
                }
                None if keep => {
                    let mut r = Resolver::build(observations.clone(), &previous, &ctx, &opts);
                    let res = r.lend();
                    (observations, res, Some(r), None)
                }
                None => {
                    let res = resolve(&observations, &previous, &ctx, &opts);
                    (observations, res, None, None)
                }
            }
        })
        .await?;
    if let (Some(w), Some(r)) = (warm, resolver) {
        let used = sources
            .iter()
            .filter_map(|o| Some((o.source.clone(), o.snapshot_id?)))
            .collect();
        w.keep(run_id, r, used);
    }
    tracing::info!(stats = ?resolution.stats, incremental = ?incremental, "resolved");
    clock.lap("resolve");

    // An employer of another county is never placed here. Each employer on its own, on
    // every core.
    let require_registry = cfg.settings.policy.require_registry;
    let (scopes, placements): (Vec<Scope>, Vec<Placement>) =
        parallel_chunks(&resolution.records, |part| {
            part.iter()
                .map(|m| {
                    let scope = scope::judge(m, &locator, require_registry);
                    let placement = match scope {
                        Scope::OtherCounty { .. } => Placement::unplaced(),
                        _ => locator.place(
                            m.region_code.as_deref(),
                            m.addresses.iter().map(String::as_str),
                        ),
                    };
                    (scope, placement)
                })
                .collect()
        })
        .into_iter()
        .unzip();
    clock.lap("place");

    let mut assessments = parallel_chunks(&resolution.records, |part| {
        screen(
            part,
            &cfg.settings.policy,
            &cfg.settings.flags,
            &cfg.catalogue,
            as_of,
        )
    });
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
        incremental,
    })
}
