//! Incremental resolution on the sample county: after a month's change (1 % of records new,
//! changed or gone) the update agrees with a full resolution, and untouched employers keep
//! their entity ids.

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};

use common::Project;
use yingbao::gen::month::next_month;
use yingbao::pipeline;
use yingbao::place::Locator;
use yingbao::resolve::incremental::Resolver;
use yingbao::resolve::{resolve, PreviousLinks, Resolution, ResolveOptions};

type Key = (String, String);

/// Each record's co-members (its entity's other records), by record.
fn partition(r: &Resolution) -> HashMap<Key, Vec<Key>> {
    let mut by: BTreeMap<&str, Vec<Key>> = BTreeMap::new();
    for l in &r.links {
        by.entry(&l.entity_id)
            .or_default()
            .push((l.source.clone(), l.record_key.clone()));
    }
    let mut out = HashMap::new();
    for mut members in by.into_values() {
        members.sort();
        for m in &members {
            out.insert(m.clone(), members.clone());
        }
    }
    out
}

#[tokio::test]
async fn a_months_change_resolves_incrementally_like_a_full_run() {
    let project = Project::new();
    let store = project.sqlite().await;
    let cfg = project.config();
    let summary = pipeline::run(&cfg, &store).await.expect("run");
    let observations = store
        .run_observations(summary.run_id)
        .await
        .expect("observations");
    assert!(observations.len() > 1500);
    let locator = Locator::new(&cfg.gazetteer);
    let ctx = pipeline::match_context(&cfg, &locator);
    let opts = ResolveOptions {
        thresholds: cfg.settings.resolve,
        ..Default::default()
    };

    let mut resolver = Resolver::build(observations.clone(), &PreviousLinks::new(), &ctx, &opts);
    let first = resolver.resolution().clone();
    let full_first = resolve(&observations, &PreviousLinks::new(), &ctx, &opts);
    assert_eq!(partition(&first), partition(&full_first));

    let (month, change) = next_month(&observations, 0.01, 11);
    assert!(change.changed.len() >= 8 && change.added.len() >= 4 && change.removed.len() >= 4);
    let (update, stats) = resolver.update(&month, &ctx, &opts);
    let update = update.clone();
    assert!(!stats.full);
    assert_eq!(stats.changed, change.changed.len());
    assert_eq!(stats.added, change.added.len());
    assert_eq!(stats.removed, change.removed.len());
    assert!(
        stats.rescored < observations.len() / 10,
        "only the neighbourhood of the change is re-scored: {}",
        stats.rescored
    );

    // The update agrees with a full resolution of the new month.
    let previous: PreviousLinks = first.previous_links().into_iter().collect();
    let full = resolve(&month, &previous, &ctx, &opts);
    let (inc_p, full_p) = (partition(&update), partition(&full));
    assert_eq!(inc_p.len(), month.len());
    let differing = inc_p
        .iter()
        .filter(|(k, v)| full_p.get(*k) != Some(v))
        .count();
    assert_eq!(differing, 0, "incremental and full resolutions differ");

    // Employers none of whose records changed keep their ids.
    let touched: HashSet<&Key> = change
        .changed
        .iter()
        .chain(&change.removed)
        .chain(&change.added)
        .collect();
    let before = partition(&first);
    let (old_ids, new_ids) = (first.previous_links(), update.previous_links());
    let mut untouched = 0;
    for (key, members) in &before {
        if members.iter().any(|m| touched.contains(m)) {
            continue;
        }
        if inc_p.get(key) != Some(members) {
            continue; // joined by a new record: no longer untouched
        }
        untouched += 1;
        assert_eq!(old_ids[key], new_ids[key], "{key:?} kept its entity");
    }
    assert!(untouched > observations.len() * 9 / 10);
    // And the full run with previous links gives the same ids.
    assert_eq!(full.previous_links(), new_ids);
}
