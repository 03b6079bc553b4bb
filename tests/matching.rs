//! Review and overrides on the sample: an operator's "same" joins two records in every later
//! run, "different" splits them; `yingbao explain` prints the per-field waterfall.

mod common;

use common::Project;
use yingbao::pipeline;
use yingbao::resolve::Override;

fn entity_of(links: &[(String, String, String, String)], source: &str, key: &str) -> String {
    links
        .iter()
        .find(|(s, k, _, _)| s == source && k == key)
        .map(|(_, _, e, _)| e.clone())
        .expect("record is linked")
}

#[tokio::test]
async fn operator_decisions_bind_later_runs() {
    let project = Project::new();
    let store = project.sqlite().await;
    let cfg = project.config();
    let first = pipeline::run(&cfg, &store).await.expect("run");
    assert!(first.review_pairs > 0, "the sample has uncertain pairs");
    let review = store
        .pairs(first.run_id, Some("review"), None)
        .await
        .expect("pairs");
    let (_, _, pair) = review.first().expect("a review pair");
    let links = store.links(first.run_id).await.expect("links");
    assert_ne!(
        entity_of(&links, &pair.source, &pair.record_key),
        entity_of(&links, &pair.other_source, &pair.other_key),
        "a review pair is not merged"
    );
    // A merged pair to split.
    let merges = store
        .pairs(first.run_id, Some("merge"), None)
        .await
        .expect("merges");
    let (_, _, merged) = merges
        .iter()
        .find(|(_, _, e)| e.source != e.other_source)
        .expect("a merge");
    assert_eq!(
        entity_of(&links, &merged.source, &merged.record_key),
        entity_of(&links, &merged.other_source, &merged.other_key)
    );

    store
        .add_override(
            &Override {
                a: (pair.source.clone(), pair.record_key.clone()),
                b: (pair.other_source.clone(), pair.other_key.clone()),
                same: true,
            },
            "test operator",
            Some("same address on the visit"),
        )
        .await
        .expect("override");
    store
        .add_override(
            &Override {
                a: (merged.source.clone(), merged.record_key.clone()),
                b: (merged.other_source.clone(), merged.other_key.clone()),
                same: false,
            },
            "test operator",
            None,
        )
        .await
        .expect("override");

    let second = pipeline::run(&cfg, &store).await.expect("run");
    let links = store.links(second.run_id).await.expect("links");
    assert_eq!(
        entity_of(&links, &pair.source, &pair.record_key),
        entity_of(&links, &pair.other_source, &pair.other_key),
        "operator said same"
    );
    let method = links
        .iter()
        .filter(|(s, k, _, _)| {
            (s == &pair.source && k == &pair.record_key)
                || (s == &pair.other_source && k == &pair.other_key)
        })
        .any(|(_, _, _, m)| m == "override");
    assert!(method, "the join is recorded as an override");
    assert_ne!(
        entity_of(&links, &merged.source, &merged.record_key),
        entity_of(&links, &merged.other_source, &merged.other_key),
        "operator said different"
    );
    assert!(second.review_pairs < first.review_pairs);
    // The decided pair waits no longer.
    let still = store
        .pairs(second.run_id, Some("review"), None)
        .await
        .expect("pairs");
    assert!(
        !still.iter().any(|(_, _, e)| {
            let ends = |a: (&str, &str)| {
                a == (e.source.as_str(), e.record_key.as_str())
                    || a == (e.other_source.as_str(), e.other_key.as_str())
            };
            ends((&pair.source, &pair.record_key)) && ends((&pair.other_source, &pair.other_key))
        }),
        "the pair the operator decided is not in review again"
    );
    // And the third run still honours both.
    let third = pipeline::run(&cfg, &store).await.expect("run");
    let links3 = store.links(third.run_id).await.expect("links");
    assert_eq!(
        entity_of(&links3, &pair.source, &pair.record_key),
        entity_of(&links3, &pair.other_source, &pair.other_key)
    );
}

#[test]
fn explain_and_review_print_waterfalls() {
    let project = Project::new();
    let run = |args: &[&str]| project.cli(args);
    run(&["run"]);
    let review = run(&["review"]);
    assert!(review.contains("waiting for a decision"));
    assert!(review.contains("likely the same employer"));
    let links = run(&["export", "links"]);
    let scored = links
        .lines()
        .find(|l| l.ends_with(",score"))
        .expect("a scored link");
    let fields: Vec<&str> = scored.split(',').collect();
    let text = run(&["explain", &format!("{}:{}", fields[0], fields[1])]);
    assert!(text.contains(&format!("entity {}", fields[2])), "{text}");
    assert!(
        text.contains("prior") && text.contains("name") && text.contains("total"),
        "{text}"
    );
    let id: i64 = review
        .lines()
        .find_map(|l| {
            l.strip_prefix('#')
                .and_then(|r| r.split_whitespace().next())
                .and_then(|n| n.parse().ok())
        })
        .expect("a pair number");
    let decided = run(&[
        "review",
        "decide",
        &id.to_string(),
        "same",
        "--by",
        "tester",
    ]);
    assert!(decided.contains("the same employer"), "{decided}");
}
