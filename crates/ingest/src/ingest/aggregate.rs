//! Folds per-worker rows (exam feeds) into one employer-level observation per group key.
//! Only employer facts survive: row keys, the row count, the latest date, the hazard union.

use std::collections::HashMap;

use crate::domain::Observation;

/// Groups observations by key, in order of first appearance.
#[derive(Debug, Default)]
pub struct Grouper {
    index: HashMap<String, usize>,
    groups: Vec<Observation>,
}

impl Grouper {
    /// Adds one row's observation (its `record_key` is the row's own key).
    pub fn add_row(&mut self, group_key: String, mut row: Observation) {
        let row_key = std::mem::take(&mut row.record_key);
        row.row_keys = vec![row_key];
        row.evidence_count = Some(1);
        row.record_key = group_key;
        self.add_group(row);
    }

    /// Adds an already aggregated observation (from another file of the same source).
    pub fn add_group(&mut self, group: Observation) {
        match self.index.get(&group.record_key) {
            Some(&i) => absorb(&mut self.groups[i], group),
            None => {
                self.index
                    .insert(group.record_key.clone(), self.groups.len());
                self.groups.push(group);
            }
        }
    }

    pub fn finish(self) -> Vec<Observation> {
        self.groups
    }
}

/// Merges `other` into `into`: row keys appended, counts summed, the latest evidence date,
/// the union of hazard factors, and the first non-blank value of every other field.
pub fn absorb(into: &mut Observation, other: Observation) {
    let Observation {
        source: _,
        feed: _,
        record_key: _,
        row_keys,
        uscc,
        tax_id,
        name,
        address,
        legal_rep,
        industry_code,
        industry_name,
        registry_status,
        registered_on,
        deregistered_on,
        tax_status,
        last_tax_date,
        stats_status,
        headcount,
        revenue,
        region_code,
        evidence_date,
        evidence_count,
        hazard_factors,
        exceedances,
        declared_on,
        updated_on,
    } = other;
    into.row_keys.extend(row_keys);
    into.evidence_count = match (into.evidence_count, evidence_count) {
        (Some(a), Some(b)) => Some(a.saturating_add(b)),
        (a, b) => a.or(b),
    };
    into.evidence_date = into.evidence_date.max(evidence_date);
    for h in hazard_factors {
        if !into.hazard_factors.contains(&h) {
            into.hazard_factors.push(h);
        }
    }
    fill(&mut into.uscc, uscc);
    fill(&mut into.tax_id, tax_id);
    fill(&mut into.name, name);
    fill(&mut into.address, address);
    fill(&mut into.legal_rep, legal_rep);
    fill(&mut into.industry_code, industry_code);
    fill(&mut into.industry_name, industry_name);
    fill(&mut into.registry_status, registry_status);
    fill(&mut into.registered_on, registered_on);
    fill(&mut into.deregistered_on, deregistered_on);
    fill(&mut into.tax_status, tax_status);
    fill(&mut into.last_tax_date, last_tax_date);
    fill(&mut into.stats_status, stats_status);
    fill(&mut into.headcount, headcount);
    fill(&mut into.revenue, revenue);
    fill(&mut into.region_code, region_code);
    fill(&mut into.exceedances, exceedances);
    fill(&mut into.declared_on, declared_on);
    fill(&mut into.updated_on, updated_on);
}

fn fill<T>(slot: &mut Option<T>, value: Option<T>) {
    if slot.is_none() {
        *slot = value;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn row(key: &str, name: Option<&str>, date: (i32, u32, u32), hazards: &[&str]) -> Observation {
        Observation {
            record_key: key.to_string(),
            name: name.map(str::to_string),
            evidence_date: NaiveDate::from_ymd_opt(date.0, date.1, date.2),
            hazard_factors: hazards.iter().map(|h| h.to_string()).collect(),
            ..Observation::default()
        }
    }

    #[test]
    fn groups_fold_in_first_seen_order() {
        let mut g = Grouper::default();
        g.add_row("A厂".into(), row("f:1", None, (2024, 3, 1), &["噪声"]));
        g.add_row("B厂".into(), row("f:2", Some("B厂"), (2024, 1, 1), &[]));
        g.add_row(
            "A厂".into(),
            row("f:3", Some("A厂"), (2024, 5, 2), &["矽尘", "噪声"]),
        );
        let out = g.finish();
        assert_eq!(out.len(), 2);
        let a = &out[0];
        assert_eq!(a.record_key, "A厂");
        assert_eq!(a.row_keys, ["f:1", "f:3"]);
        assert_eq!(a.evidence_count, Some(2));
        assert_eq!(a.evidence_date, NaiveDate::from_ymd_opt(2024, 5, 2));
        assert_eq!(a.hazard_factors, ["噪声", "矽尘"]);
        assert_eq!(a.name.as_deref(), Some("A厂"));

        let mut across = Grouper::default();
        for o in out.clone().into_iter().chain(out) {
            across.add_group(o);
        }
        let merged = across.finish();
        assert_eq!(merged[0].evidence_count, Some(4));
        assert_eq!(merged[0].row_keys.len(), 4);
    }
}
