//! A month's change to a county's records, for testing and timing incremental resolution:
//! some records change a fact, some employers appear in a new feed, some records disappear.

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use crate::domain::{Feed, Observation};

/// What `next_month` did, by record identity `(source, record_key)`.
#[derive(Debug, Clone, Default)]
pub struct MonthChange {
    pub changed: Vec<(String, String)>,
    pub added: Vec<(String, String)>,
    pub removed: Vec<(String, String)>,
}

/// Changes `share` of the records (half of them changed, a quarter added, a quarter removed):
/// a changed record has a new headcount and last tax date (a third of them a longer address
/// too); an added record is an exam record
/// for an existing employer, carrying its name and address but no code (the hard kind); a
/// removed record is dropped. Deterministic for a given seed.
pub fn next_month(
    observations: &[Observation],
    share: f64,
    seed: u64,
) -> (Vec<Observation>, MonthChange) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let total = ((observations.len() as f64) * share).round() as usize;
    let mut order: Vec<usize> = (0..observations.len()).collect();
    order.shuffle(&mut rng);
    let changed = total / 2;
    let removed = total / 4;
    let added = total - changed - removed;
    let mut out: Vec<Observation> = observations.to_vec();
    let mut change = MonthChange::default();
    let identity = |o: &Observation| (o.source.clone(), o.record_key.clone());
    for (k, &i) in order.iter().take(changed).enumerate() {
        let o = &mut out[i];
        o.headcount = Some(o.headcount.unwrap_or(5) + rng.gen_range(1..20));
        o.last_tax_date = o
            .last_tax_date
            .and_then(|d| d.checked_add_signed(chrono::Duration::days(30)));
        if k % 3 == 0 {
            // A third of them also move within their village (the address changes).
            if let Some(a) = &mut o.address {
                a.push_str("二号厂房");
            }
        }
        change.changed.push(identity(o));
    }
    let gone: std::collections::HashSet<usize> =
        order.iter().skip(changed).take(removed).copied().collect();
    for &i in &gone {
        change.removed.push(identity(&observations[i]));
    }
    for (k, &i) in order.iter().skip(changed + removed).take(added).enumerate() {
        let base = &observations[i];
        let o = Observation {
            source: "exam_next_month".into(),
            feed: Feed::Exam,
            record_key: format!("m{k}"),
            name: base.name.clone(),
            address: base.address.clone(),
            industry_code: base.industry_code.clone(),
            evidence_date: Some(chrono::NaiveDate::from_ymd_opt(2025, 7, 15).unwrap_or_default()),
            evidence_count: Some(rng.gen_range(1..30)),
            ..Default::default()
        };
        change.added.push(identity(&o));
        out.push(o);
    }
    let out = out
        .into_iter()
        .enumerate()
        .filter(|(i, _)| !gone.contains(i))
        .map(|(_, o)| o)
        .collect();
    (out, change)
}
