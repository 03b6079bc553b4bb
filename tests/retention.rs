//! Storage as changes: an unchanged run writes no records, entities, links or leads again
//! and reads back the same; retention drops old runs' detail and keeps what runs still use;
//! a database written before versions upgrades with its old runs readable.

mod common;

use common::Project;
use yingbao::pipeline;
use yingbao::store::{Retention, Store, StoreError};

fn rows(counts: &[(String, i64)], table: &str) -> i64 {
    counts
        .iter()
        .find(|(t, _)| t == table)
        .map(|(_, n)| *n)
        .expect("table counted")
}

/// Three runs on unchanged feeds: the second writes nothing that did not change and reads
/// back exactly the first's results; with `keep_runs = 1` the third drops the first two
/// runs' detail but every source's records stay readable.
async fn check_unchanged_runs(project: &Project, store: &Store) {
    let mut cfg = project.config();
    cfg.settings.store = Retention { keep_runs: 0 };
    let first = pipeline::run(&cfg, store).await.expect("first run");
    let after_first = store.detail_rows().await.expect("rows");
    let entities = store.entities(first.run_id).await.expect("entities");
    let links = store.links(first.run_id).await.expect("links");
    assert!(!entities.is_empty() && !links.is_empty());

    let second = pipeline::run(&cfg, store).await.expect("second run");
    let after_second = store.detail_rows().await.expect("rows");
    // The same files are not read again: each source repeats its snapshot, rejects and all.
    for (o, before) in second.sources.iter().zip(&first.sources) {
        assert_eq!(o.format, "unchanged", "{}", o.source);
        assert_eq!(o.status, pipeline::SourceStatus::Fresh);
        assert_eq!(o.source_rows, 0, "{}: no row read", o.source);
        assert_eq!(
            (o.rows_read, o.quarantined, o.records_used),
            (before.rows_read, before.quarantined, before.records_used),
            "{}",
            o.source
        );
    }
    let quarantined = store.quarantine_counts(first.run_id).await.expect("q1");
    assert!(!quarantined.is_empty(), "the sample feeds have rejects");
    assert_eq!(
        store.quarantine_counts(second.run_id).await.expect("q2"),
        quarantined
    );
    for table in [
        "records",
        "snapshot_records",
        "entities",
        "links",
        "match_pairs",
    ] {
        assert_eq!(
            rows(&after_second, table),
            rows(&after_first, table),
            "{table}: an unchanged run wrote rows again"
        );
    }
    assert_eq!(store.entities(second.run_id).await.expect("e2"), entities);
    assert_eq!(store.links(second.run_id).await.expect("l2"), links);
    // Leads move from new to open on the second run: each is written once more, no more.
    let leads2 = store.leads(second.run_id).await.expect("leads");
    assert_eq!(
        rows(&after_second, "leads"),
        rows(&after_first, "leads") + leads2.len() as i64
    );
    let first_leads = store.leads(first.run_id).await.expect("leads of run 1");
    assert_eq!(first_leads.len(), leads2.len(), "run 1 still reads its own");
    assert!(first_leads
        .iter()
        .all(|l| l.data.status == Some(yingbao::leads::LeadStatus::New)));

    // Each source's second snapshot shares the first's list and reads back the same.
    for s in store.snapshots_of_run(second.run_id).await.expect("snaps") {
        let earlier = store
            .snapshots_of_run(first.run_id)
            .await
            .expect("snaps")
            .into_iter()
            .find(|e| e.source == s.source)
            .expect("same source");
        assert_eq!(
            store.observations(s.id).await.expect("obs"),
            store.observations(earlier.id).await.expect("obs"),
            "{}",
            s.source
        );
    }

    cfg.settings.store = Retention { keep_runs: 1 };
    let third = pipeline::run(&cfg, store).await.expect("third run");
    for old in [first.run_id, second.run_id] {
        assert!(matches!(
            store.entities(old).await,
            Err(StoreError::Compacted(_))
        ));
        assert!(matches!(
            store.leads(old).await,
            Err(StoreError::Compacted(_))
        ));
    }
    assert_eq!(store.entities(third.run_id).await.expect("e3"), entities);
    assert_eq!(store.links(third.run_id).await.expect("l3"), links);
    let after_third = store.detail_rows().await.expect("rows");
    assert_eq!(
        rows(&after_third, "leads"),
        leads2.len() as i64,
        "only the versions the kept run sees remain"
    );
    assert_eq!(rows(&after_third, "records"), rows(&after_first, "records"));
    for s in store.snapshots_of_run(third.run_id).await.expect("snaps") {
        let last = store
            .last_good_snapshot(&s.source)
            .await
            .expect("last")
            .expect("a good snapshot");
        assert_eq!(
            store.observations(last.id).await.expect("obs").len() as i64,
            last.records
        );
    }
    // The second run's snapshots are compacted; their records are dropped with them.
    let old = store.snapshots_of_run(first.run_id).await.expect("snaps");
    assert!(matches!(
        store.observations(old[0].id).await,
        Err(StoreError::Compacted(_))
    ));
}

#[tokio::test]
async fn unchanged_runs_write_nothing_again_and_retention_keeps_what_is_used_sqlite() {
    let project = Project::new();
    let store = project.sqlite().await;
    check_unchanged_runs(&project, &store).await;
}

#[tokio::test]
async fn unchanged_runs_write_nothing_again_and_retention_keeps_what_is_used_postgres() {
    let Some(store) = common::postgres("retention_runs").await else {
        return;
    };
    let project = Project::new();
    check_unchanged_runs(&project, &store).await;
}

/// A run reads again only the feeds whose files or connector changed since their last good
/// snapshot; the others repeat it. Its results equal those of a run that read everything.
#[tokio::test]
async fn only_changed_files_are_read_again() {
    let project = Project::new();
    let store = project.sqlite().await;
    let cfg = project.config();
    pipeline::run(&cfg, &store).await.expect("first run");
    // One market row fewer: the market file is read again, the others are not.
    let market = cfg
        .connectors
        .iter()
        .find(|c| c.id == "market")
        .expect("market connector");
    let folder = cfg.root.join(&market.file.path);
    let mut files: Vec<_> = std::fs::read_dir(&folder)
        .expect("market folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "csv"))
        .collect();
    files.sort();
    let path = files.first().expect("a market export").clone();
    let text = std::fs::read_to_string(&path).expect("market csv");
    let mut lines: Vec<&str> = text.lines().collect();
    let gone = lines.remove(5).to_string();
    std::fs::write(&path, lines.join("\n") + "\n").expect("write");
    let second = pipeline::run(&cfg, &store).await.expect("second run");
    for o in &second.sources {
        let read = o.format != "unchanged";
        assert_eq!(read, o.source == "market", "{}: {}", o.source, o.format);
        assert!(read || o.source_rows == 0);
    }
    let m = second
        .sources
        .iter()
        .find(|o| o.source == "market")
        .expect("market");
    assert!(m.source_rows > 0 && m.note.is_none(), "{m:?}");

    // The same project read in full from scratch gives the same entities and leads.
    let fresh = project.sqlite_named("fresh").await;
    let full = pipeline::run(&cfg, &fresh).await.expect("full run");
    assert_eq!((second.entities, second.leads), (full.entities, full.leads));
    assert_eq!(
        by_members(&store, second.run_id).await,
        by_members(&fresh, full.run_id).await,
        "the same employers with the same facts, placements and assessments"
    );
    assert!(!gone.is_empty());
}

/// Each entity of a run keyed by its member records, its stored data without its id (ids
/// depend on a store's history; the rest must not).
async fn by_members(
    store: &Store,
    run_id: i64,
) -> std::collections::BTreeMap<Vec<(String, String)>, serde_json::Value> {
    let mut members: std::collections::HashMap<String, Vec<(String, String)>> = Default::default();
    for (source, key, entity, _) in store.links(run_id).await.expect("links") {
        members.entry(entity).or_default().push((source, key));
    }
    let mut out = std::collections::BTreeMap::new();
    for e in store.entities(run_id).await.expect("entities") {
        let mut data: serde_json::Value = serde_json::from_str(&e.data).expect("json");
        for part in ["record", "assessment"] {
            if let Some(o) = data.get_mut(part).and_then(|v| v.as_object_mut()) {
                o.remove("entity_id");
            }
        }
        let mut m = members.remove(&e.key).expect("an entity has members");
        m.sort();
        out.insert(m, data);
    }
    out
}

/// A snapshot with one changed record writes that record and its own list; the others are
/// not written again.
#[tokio::test]
async fn a_changed_snapshot_writes_only_its_new_records() {
    let project = Project::new();
    let store = project.sqlite().await;
    let cfg = project.config();
    let run = pipeline::run(&cfg, &store).await.expect("run");
    let snap = store
        .last_good_snapshot("market")
        .await
        .expect("snapshot")
        .expect("market read");
    let mut obs = store.observations(snap.id).await.expect("obs");
    obs[3].name = Some(format!(
        "{}（更名）",
        obs[3].name.clone().unwrap_or_default()
    ));
    let before = store.detail_rows().await.expect("rows");
    let id = store
        .save_snapshot(&yingbao::store::NewSnapshot {
            run_id: run.run_id,
            source: "market",
            feed: yingbao::domain::Feed::Market,
            status: yingbao::store::SnapshotStatus::Good,
            note: None,
            files_json: "[]".into(),
            observations: &obs,
            rejects: &[],
            invalid_uscc: 0,
            state: None,
            fingerprint: None,
        })
        .await
        .expect("save");
    let after = store.detail_rows().await.expect("rows");
    assert_eq!(rows(&after, "records"), rows(&before, "records") + 1);
    assert_eq!(
        rows(&after, "snapshot_records"),
        rows(&before, "snapshot_records") + obs.len() as i64
    );
    assert_eq!(store.observations(id).await.expect("read back"), obs);
}

/// A database written before versions (migration 6) upgrades: each old run reads its own
/// entities, links, leads and snapshot records.
#[tokio::test]
async fn a_database_from_before_versions_upgrades_with_its_runs_readable() {
    let dir = tempfile::tempdir().expect("tmp");
    let url = format!("sqlite://{}", dir.path().join("old.db").display());
    let opts: sqlx::sqlite::SqliteConnectOptions = url.parse().expect("url");
    let pool = sqlx::SqlitePool::connect_with(opts.create_if_missing(true))
        .await
        .expect("pool");
    let mut old = sqlx::migrate!("migrations/sqlite");
    old.migrations = old.migrations[..6].to_vec().into();
    old.run(&pool).await.expect("old schema");
    for sql in [
        "INSERT INTO runs (id, started_at, as_of, status) VALUES (1, 't', '2025-05-31', 'succeeded'), (2, 't', '2025-06-30', 'succeeded')",
        "INSERT INTO entities (run_id, entity_id, name, data) VALUES (1, 'E1', '甲厂', '{\"v\":1}'), (2, 'E1', '甲厂', '{\"v\":2}'), (2, 'E2', '乙厂', '{}')",
        "INSERT INTO links (run_id, source, record_key, entity_id, method) VALUES (1, 'market', 'k1', 'E1', 'uscc'), (2, 'market', 'k1', 'E1', 'uscc'), (2, 'market', 'k2', 'E2', 'uscc')",
        "INSERT INTO snapshots (id, run_id, source, feed, taken_at, status, records, rejects, invalid_uscc) VALUES (1, 1, 'market', 'market', 't', 'good', 1, 0, 0)",
    ] {
        sqlx::query(sql).execute(&pool).await.expect(sql);
    }
    let legacy = yingbao::domain::Observation {
        source: "market".into(),
        record_key: "k1".into(),
        name: Some("甲厂".into()),
        ..Default::default()
    };
    sqlx::query("INSERT INTO observations (snapshot_id, seq, record_key, name, data) VALUES (1, 0, 'k1', '甲厂', ?)")
        .bind(serde_json::to_string(&legacy).expect("json"))
        .execute(&pool)
        .await
        .expect("legacy observation");
    pool.close().await;
    let store = Store::open(&url).await.expect("upgrade");
    let e1 = store.entities(1).await.expect("run 1");
    let e2 = store.entities(2).await.expect("run 2");
    assert_eq!(
        e1.iter().map(|r| r.data.as_str()).collect::<Vec<_>>(),
        ["{\"v\":1}"]
    );
    assert_eq!(
        e2.iter().map(|r| r.data.as_str()).collect::<Vec<_>>(),
        ["{\"v\":2}", "{}"]
    );
    assert_eq!(store.links(1).await.expect("links 1").len(), 1);
    assert_eq!(store.links(2).await.expect("links 2").len(), 2);
    assert_eq!(store.observations(1).await.expect("legacy"), vec![legacy]);
}

async fn save(
    store: &Store,
    run_id: i64,
    observations: &[yingbao::domain::Observation],
    rejects: &[yingbao::ingest::quarantine::Reject],
) -> i64 {
    store
        .save_snapshot(&yingbao::store::NewSnapshot {
            run_id,
            source: "market",
            feed: yingbao::domain::Feed::Market,
            status: yingbao::store::SnapshotStatus::Good,
            note: None,
            files_json: "[]".into(),
            observations,
            rejects,
            invalid_uscc: 0,
            state: None,
            fingerprint: None,
        })
        .await
        .expect("save")
}

/// Bulk writes (COPY on PostgreSQL) keep every character: tabs, line breaks, backslashes,
/// quotes and a literal `\N` in names, keys and rejected values read back as written; a record
/// stored by an earlier snapshot and seen again is not stored twice.
async fn check_bulk_writes(store: &Store) {
    use yingbao::domain::{Feed, Observation};
    use yingbao::ingest::quarantine::{Reject, RejectAction};
    let as_of = chrono::NaiveDate::from_ymd_opt(2025, 6, 30).expect("date");
    let run = store.begin_run(as_of).await.expect("run");
    let odd = [
        "制\t表",
        "换\n行",
        "回\r车",
        "反\\斜杠",
        "引\"号'",
        "\\N",
        "\\.",
        "平常名字",
    ];
    let obs: Vec<Observation> = odd
        .iter()
        .enumerate()
        .map(|(i, n)| Observation {
            source: "market".into(),
            feed: Feed::Market,
            record_key: format!("k{i}\t{n}"),
            name: Some(n.to_string()),
            address: Some(format!("{n}路{i}号")),
            ..Default::default()
        })
        .collect();
    let reject = Reject {
        source: "market".into(),
        file: "市场\t主体.csv".into(),
        row: 7,
        column: Some("名称".into()),
        value: Some("值\\N\t含\n换行".into()),
        reason: "test reason".into(),
        action: RejectAction::FieldDropped,
    };
    let first = save(store, run, &obs, std::slice::from_ref(&reject)).await;
    assert_eq!(store.observations(first).await.expect("read"), obs);
    assert!(store
        .all_text()
        .await
        .expect("text")
        .contains("值\\N\t含\n换行"));
    // One record leaves, then comes back: it is stored already.
    let second = save(store, run, &obs[1..], &[]).await;
    assert_eq!(store.observations(second).await.expect("read"), obs[1..]);
    let third = save(store, run, &obs, &[]).await;
    assert_eq!(store.observations(third).await.expect("read"), obs);
    let rows_now = store.detail_rows().await.expect("rows");
    assert_eq!(rows(&rows_now, "records"), obs.len() as i64);
}

#[tokio::test]
async fn bulk_writes_keep_every_character_sqlite() {
    let project = Project::new();
    check_bulk_writes(&project.sqlite().await).await;
}

#[tokio::test]
async fn bulk_writes_keep_every_character_postgres() {
    let Some(store) = common::postgres("bulk_writes").await else {
        return;
    };
    check_bulk_writes(&store).await;
}
