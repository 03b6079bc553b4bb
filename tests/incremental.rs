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
    // And the full run with previous links gives the same ids, links (how each record
    // joined) and master records.
    assert_eq!(full.previous_links(), new_ids);
    let sorted_links = |r: &Resolution| {
        let mut l: Vec<_> = r
            .links
            .iter()
            .map(|l| {
                (
                    l.source.clone(),
                    l.record_key.clone(),
                    l.entity_id.clone(),
                    l.method.as_str(),
                )
            })
            .collect();
        l.sort();
        l
    };
    assert_eq!(sorted_links(&update), sorted_links(&full));
    assert_eq!(update.records, full.records);
}

/// One month's change in the market feed: the first company renamed, the last employer gone.
fn change_market(project: &Project) {
    let dir = project.root().join("connectors/sample/market");
    let file = std::fs::read_dir(&dir)
        .expect("market folder")
        .next()
        .expect("a market file")
        .expect("entry")
        .path();
    let text = std::fs::read_to_string(&file).expect("UTF-8 market file");
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines.pop().expect("a last row");
    let first = lines
        .iter()
        .skip(1)
        .position(|l| l.contains("有限公司"))
        .expect("a company")
        + 1;
    lines[first] = lines[first].replacen("有限公司", "实业有限公司", 1);
    std::fs::write(&file, lines.join("\n") + "\n").expect("write market file");
}

/// `serve` keeps the last run's resolver; a run after a change updates it instead of
/// resolving everything, and saves the same entities, links and leads as a full run.
#[tokio::test]
async fn a_run_on_the_kept_resolver_equals_a_full_run() {
    let (warm_project, cold_project) = (Project::new(), Project::new());
    let (ws, cs) = (warm_project.sqlite().await, cold_project.sqlite().await);
    let mut warm = pipeline::Warm::default();
    let read = pipeline::Sources::Read;
    let w1 = pipeline::run_warm(&warm_project.config(), &ws, read, &mut warm)
        .await
        .expect("first warm run");
    assert!(w1.incremental.is_none() && warm.is_warm());
    let c1 = pipeline::run(&cold_project.config(), &cs)
        .await
        .expect("first full run");
    assert_eq!(w1.run_id, c1.run_id);

    change_market(&warm_project);
    change_market(&cold_project);
    let w2 = pipeline::run_warm(&warm_project.config(), &ws, read, &mut warm)
        .await
        .expect("second warm run");
    let c2 = pipeline::run(&cold_project.config(), &cs)
        .await
        .expect("second full run");
    let stats = w2
        .incremental
        .clone()
        .expect("the kept resolver was updated");
    assert!(!stats.full, "{stats:?}");
    assert!(
        stats.changed + stats.added + stats.removed >= 2,
        "{stats:?}"
    );
    assert!(stats.entities_reused > 100, "{stats:?}");

    let (w, c) = (w2.run_id, c2.run_id);
    let (wl, cl) = (
        ws.links(w).await.expect("links"),
        cs.links(c).await.expect("links"),
    );
    let only = |a: &[(String, String, String, String)], b: &[(String, String, String, String)]| {
        let b: HashSet<_> = b.iter().collect();
        a.iter()
            .filter(|x| !b.contains(x))
            .take(8)
            .cloned()
            .collect::<Vec<_>>()
    };
    assert!(
        wl == cl,
        "links differ: kept resolver only {:?}; full run only {:?}",
        only(&wl, &cl),
        only(&cl, &wl)
    );
    assert_eq!(
        ws.entities(w).await.expect("entities"),
        cs.entities(c).await.expect("entities")
    );
    assert_eq!(
        ws.leads(w).await.expect("leads"),
        cs.leads(c).await.expect("leads")
    );
    assert_eq!(w2.leads, c2.leads);
    assert_eq!(w2.by_township, c2.by_township);
    // Only the market files were read again; the other sources' records came from the kept
    // resolver (the full run read them back from its database), with the same results.
    for o in &w2.sources {
        assert_eq!(
            o.format == "unchanged (kept)",
            o.source != "market",
            "{o:?}"
        );
    }

    // Nothing changed: the lists are the second run's files, linked, not built again.
    let w3 = pipeline::run_warm(&warm_project.config(), &ws, read, &mut warm)
        .await
        .expect("third warm run");
    let lists = |dir: &std::path::Path| {
        let mut v: Vec<_> = std::fs::read_dir(dir)
            .expect("run folder")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "xlsx" || x == "csv"))
            .filter(|p| p.file_name().is_some_and(|n| n != "index.csv"))
            .collect();
        v.sort();
        v
    };
    assert!(
        w3.sources.iter().all(|o| o.format == "unchanged (kept)"),
        "{:?}",
        w3.sources
    );
    let (before, after) = (lists(&w2.out_dir), lists(&w3.out_dir));
    assert!(before.len() > 4, "{before:?}");
    assert_eq!(
        before.iter().map(|p| p.file_name()).collect::<Vec<_>>(),
        after.iter().map(|p| p.file_name()).collect::<Vec<_>>()
    );
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(std::fs::read(b).expect("b"), std::fs::read(a).expect("a"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let ino = |p: &std::path::Path| std::fs::metadata(p).expect("meta").ino();
            assert_eq!(ino(b), ino(a), "{} was written again", a.display());
        }
    }

    // A kept resolver from a run that is not the newest is never used.
    let other = Project::new();
    let os = other.sqlite().await;
    let o1 = pipeline::run_warm(&other.config(), &os, read, &mut warm)
        .await
        .expect("another database");
    assert!(
        o1.incremental.is_none(),
        "the resolver of another run was used"
    );
}
