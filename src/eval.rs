//! Measures a run against the generator's ground truth: lead precision and recall, placement
//! accuracy, and entity purity. For tests and benchmarks; never used to tune the matcher.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use chrono::NaiveDate;
use serde::Serialize;

use crate::config::table::read_table;
use crate::config::Problem;
use crate::domain::IndustryCode;
use crate::resolve::MasterRecord;
use crate::screen::catalogue::RiskCatalogue;
use crate::screen::filing::FilingStatus;
use crate::screen::rules::matching_rules;
use crate::screen::Policy;

/// One true employer.
#[derive(Debug, Clone)]
pub struct TrueEmployer {
    pub id: String,
    pub industry_code: Option<IndustryCode>,
    pub headcount: Option<u32>,
    pub operating: bool,
    pub township_code: String,
    pub filing: FilingStatus,
    pub last_evidence: Option<NaiveDate>,
}

/// The generator's truth: employers and which employer each source record belongs to.
pub struct Truth {
    pub employers: HashMap<String, TrueEmployer>,
    pub records: HashMap<(String, String), String>,
}

impl Truth {
    pub fn load(dir: &Path) -> Result<Truth, Problem> {
        let mut employers = HashMap::new();
        for r in read_table(
            &dir.join("employers.csv"),
            &[
                "employer_id",
                "industry_code",
                "headcount",
                "operating",
                "township_code",
                "filing_status",
                "last_evidence",
            ],
        )? {
            let id = r.get("employer_id").to_string();
            employers.insert(
                id.clone(),
                TrueEmployer {
                    id,
                    industry_code: IndustryCode::parse(r.get("industry_code")),
                    headcount: r.get("headcount").parse().ok(),
                    operating: r.get("operating") == "true",
                    township_code: r.get("township_code").to_string(),
                    filing: FilingStatus::parse(r.get("filing_status"))
                        .unwrap_or(FilingStatus::Never),
                    last_evidence: NaiveDate::parse_from_str(r.get("last_evidence"), "%Y-%m-%d")
                        .ok(),
                },
            );
        }
        let mut records = HashMap::new();
        for r in read_table(
            &dir.join("records.csv"),
            &["connector_id", "record_key", "employer_id"],
        )? {
            records.insert(
                (
                    r.get("connector_id").to_string(),
                    r.get("record_key").to_string(),
                ),
                r.get("employer_id").to_string(),
            );
        }
        Ok(Truth { employers, records })
    }

    /// Whether the policy makes this employer a lead, judged on its true facts.
    pub fn is_true_lead(
        &self,
        e: &TrueEmployer,
        policy: &Policy,
        catalogue: &RiskCatalogue,
        as_of: NaiveDate,
    ) -> bool {
        if !e.operating || e.filing == FilingStatus::Current {
            return false;
        }
        let m = MasterRecord {
            industry_code: e.industry_code.clone(),
            headcount: e.headcount,
            last_exam: e.last_evidence,
            ..Default::default()
        };
        let class = e.industry_code.as_ref().and_then(|c| catalogue.class_of(c));
        !matching_rules(&m, class, &policy.lead_rules, catalogue, as_of).is_empty()
    }
}

/// Figures of one evaluation.
#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    pub true_leads: usize,
    pub predicted_leads: usize,
    pub true_positive: usize,
    pub false_positive: usize,
    pub false_negative: usize,
    /// Predicted leads whose records map to an employer already counted (a split employer).
    pub duplicate_leads: usize,
    pub precision: f64,
    pub recall: f64,
    /// Of true-positive leads, the share placed in the right township.
    pub placement_accuracy: f64,
    pub unplaced_leads: usize,
    /// Entities whose records belong to more than one true employer.
    pub impure_entities: usize,
    /// True employers whose records ended up in more than one entity.
    pub split_employers: usize,
    /// Record pairs put in one entity that belong to one employer, over all pairs put together.
    pub pairwise_precision: f64,
    /// Record pairs of one employer that were put in one entity, over all such pairs.
    pub pairwise_recall: f64,
    pub pairwise_f1: f64,
}

/// A run's entity links and leads, as the evaluation needs them.
pub struct RunView<'a> {
    /// (source, record key, entity id).
    pub links: &'a [(String, String, String, String)],
    /// (entity id, township code) of each lead.
    pub leads: &'a [(String, Option<String>)],
}

pub fn evaluate(
    truth: &Truth,
    run: &RunView<'_>,
    policy: &Policy,
    catalogue: &RiskCatalogue,
    as_of: NaiveDate,
) -> EvalReport {
    // Entity → employer votes.
    let mut votes: HashMap<&str, HashMap<&str, usize>> = HashMap::new();
    let mut entities_of: HashMap<&str, HashSet<&str>> = HashMap::new();
    for (source, key, entity, _) in run.links {
        if let Some(emp) = truth.records.get(&(source.clone(), key.clone())) {
            *votes.entry(entity).or_default().entry(emp).or_default() += 1;
            entities_of.entry(emp).or_default().insert(entity);
        }
    }
    let majority: HashMap<&str, &str> = votes
        .iter()
        .filter_map(|(e, v)| {
            v.iter()
                .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                .map(|(emp, _)| (*e, *emp))
        })
        .collect();
    let true_leads: HashSet<&str> = truth
        .employers
        .values()
        .filter(|e| truth.is_true_lead(e, policy, catalogue, as_of))
        .map(|e| e.id.as_str())
        .collect();
    let mut seen: HashSet<&str> = HashSet::new();
    let (mut tp, mut fp, mut dup, mut placed_right, mut unplaced) = (0, 0, 0, 0, 0);
    for (entity, township) in run.leads {
        if township.is_none() {
            unplaced += 1;
        }
        match majority.get(entity.as_str()) {
            Some(emp) if true_leads.contains(emp) => {
                if seen.insert(emp) {
                    tp += 1;
                    if township.as_deref()
                        == truth.employers.get(*emp).map(|e| e.township_code.as_str())
                    {
                        placed_right += 1;
                    }
                } else {
                    dup += 1;
                    fp += 1;
                }
            }
            _ => fp += 1,
        }
    }
    let predicted = run.leads.len();
    let pairs = |c: usize| (c * c.saturating_sub(1) / 2) as f64;
    let together: f64 = votes
        .values()
        .flat_map(|v| v.values())
        .map(|&c| pairs(c))
        .sum();
    let predicted_pairs: f64 = votes.values().map(|v| pairs(v.values().sum())).sum();
    let mut per_employer: HashMap<&str, usize> = HashMap::new();
    for v in votes.values() {
        for (emp, c) in v {
            *per_employer.entry(emp).or_default() += c;
        }
    }
    let true_pairs: f64 = per_employer.values().map(|&c| pairs(c)).sum();
    let pp = if predicted_pairs == 0.0 {
        1.0
    } else {
        together / predicted_pairs
    };
    let pr = if true_pairs == 0.0 {
        1.0
    } else {
        together / true_pairs
    };
    EvalReport {
        pairwise_precision: pp,
        pairwise_recall: pr,
        pairwise_f1: if pp + pr == 0.0 {
            0.0
        } else {
            2.0 * pp * pr / (pp + pr)
        },
        true_leads: true_leads.len(),
        predicted_leads: predicted,
        true_positive: tp,
        false_positive: fp,
        false_negative: true_leads.len() - tp,
        duplicate_leads: dup,
        precision: if predicted == 0 {
            1.0
        } else {
            tp as f64 / predicted as f64
        },
        recall: if true_leads.is_empty() {
            1.0
        } else {
            tp as f64 / true_leads.len() as f64
        },
        placement_accuracy: if tp == 0 {
            1.0
        } else {
            placed_right as f64 / tp as f64
        },
        unplaced_leads: unplaced,
        impure_entities: votes.values().filter(|v| v.len() > 1).count(),
        split_employers: entities_of.values().filter(|s| s.len() > 1).count(),
    }
}

/// How well blocking kept true pairs for the records the matcher had to place.
#[derive(Debug, Clone, Serialize)]
pub struct BlockingReport {
    pub pairs_compared: usize,
    /// Records without a valid USCC whose true employer has other records.
    pub floating_with_partner: usize,
    /// Of those, the share that had at least one true partner among their candidates.
    pub records_with_partner_compared: f64,
    /// True (floating record, other record of its employer) pairs, and the share compared.
    pub true_pairs: usize,
    pub true_pairs_compared: f64,
}

pub fn blocking_recall(
    truth: &Truth,
    observations: &[crate::domain::Observation],
    compared: &[(u32, u32)],
) -> BlockingReport {
    let employer: Vec<Option<&String>> = observations
        .iter()
        .map(|o| truth.records.get(&(o.source.clone(), o.record_key.clone())))
        .collect();
    let mut size: HashMap<&String, usize> = HashMap::new();
    for e in employer.iter().flatten() {
        *size.entry(e).or_default() += 1;
    }
    let mut true_compared: HashMap<u32, usize> = HashMap::new();
    for &(i, j) in compared {
        if let (Some(a), Some(b)) = (employer[i as usize], employer[j as usize]) {
            if a == b {
                *true_compared.entry(i).or_default() += 1;
            }
        }
    }
    let queried: HashSet<u32> = compared.iter().map(|p| p.0).collect();
    let floating: Vec<usize> = observations
        .iter()
        .enumerate()
        .filter(|(_, o)| !o.uscc.as_ref().is_some_and(|u| u.is_valid()))
        .map(|(i, _)| i)
        .filter(|&i| employer[i].is_some_and(|e| size[e] > 1))
        .collect();
    let true_pairs: usize = floating
        .iter()
        .map(|&i| employer[i].map_or(0, |e| size[e] - 1))
        .sum();
    let kept_pairs: usize = floating
        .iter()
        .map(|&i| true_compared.get(&(i as u32)).copied().unwrap_or(0))
        .sum();
    let with_partner = floating
        .iter()
        .filter(|&&i| queried.contains(&(i as u32)) && true_compared.contains_key(&(i as u32)))
        .count();
    BlockingReport {
        pairs_compared: compared.len(),
        floating_with_partner: floating.len(),
        records_with_partner_compared: with_partner as f64 / floating.len().max(1) as f64,
        true_pairs,
        true_pairs_compared: kept_pairs as f64 / true_pairs.max(1) as f64,
    }
}
