//! Measures a run against the generator's ground truth: lead precision and recall, placement
//! accuracy, and entity purity. For tests and benchmarks; never used to tune the matcher.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use chrono::NaiveDate;
use serde::Serialize;

use crate::domain::problem::Problem;
use crate::domain::table::read_table;
use crate::domain::IndustryCode;
use crate::domain::TownshipCode;
use crate::place::gazetteer::Gazetteer;
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
    pub township_code: TownshipCode,
    pub filing: FilingStatus,
    pub last_evidence: Option<NaiveDate>,
    /// 12-digit village code, when the employer has one.
    pub village_code: Option<String>,
    /// Whether the employer belongs to the county (truth's `county_code`; files without the
    /// column hold only the county's own employers).
    pub in_county: bool,
    /// The generator's kind of employer (`normal`, `dormant`, `out_of_county` …): which
    /// real-feed phenomenon it carries.
    pub kind: String,
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
            let township_code = r.get("township_code").to_string();
            let county = r.get("county_code");
            let village = r.get("village_code");
            employers.insert(
                id.clone(),
                TrueEmployer {
                    id,
                    industry_code: IndustryCode::parse(r.get("industry_code")),
                    headcount: r.get("headcount").parse().ok(),
                    operating: r.get("operating") == "true",
                    in_county: county.is_empty() || township_code.starts_with(county),
                    kind: match r.get("kind") {
                        "" => "normal".to_string(),
                        k => k.to_string(),
                    },
                    village_code: (!village.is_empty()).then(|| village.to_string()),
                    township_code: township_code.into(),
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
        if !e.in_county || !e.operating || e.filing == FilingStatus::Current {
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
    /// False leads by the true employer's kind (`dormant`, `out_of_county`, `duplicate` …).
    pub false_positive_by_kind: BTreeMap<String, usize>,
    /// Missed leads by the true employer's kind.
    pub false_negative_by_kind: BTreeMap<String, usize>,
    pub precision: f64,
    pub recall: f64,
    /// Of true-positive leads, the share placed in the right township.
    pub placement_accuracy: f64,
    pub unplaced_leads: usize,
    /// True-positive leads placed in a township other than the true one (unplaced ones not).
    pub wrong_township: usize,
    /// Of true-positive leads whose true employer has a village, the share listed with it.
    pub village_accuracy: f64,
    /// Predicted leads whose employer belongs to another county (also false positives).
    pub out_of_county_leads: usize,
    /// Entities whose records belong to more than one true employer.
    pub impure_entities: usize,
    /// True employers whose records ended up in more than one entity.
    pub split_employers: usize,
    /// Record pairs put in one entity that belong to one employer, over all pairs put together.
    pub pairwise_precision: f64,
    /// Record pairs of one employer that were put in one entity, over all such pairs.
    pub pairwise_recall: f64,
    pub pairwise_f1: f64,
    /// Of true-positive leads placed in a township whose true employer has a village, the
    /// share listed with it (leads no address places are left out).
    pub village_accuracy_placed: f64,
    /// Wrong, missed and wrong-village leads counted by `what:cause` (see `Mistake::cause`).
    pub mistakes_by_cause: BTreeMap<String, usize>,
    /// Every wrong and every missed lead, for `eval --mistakes` (not in the JSON figures).
    #[serde(skip)]
    pub mistakes: Vec<Mistake>,
}

/// One lead the run got wrong: listed but not a true lead, or a true lead not listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mistake {
    /// `false_lead`, `duplicate`, `missed` or `wrong_village` (a true lead listed with another
    /// village or none).
    pub what: &'static str,
    /// The listed entity (false leads) or the entities holding the employer's records (missed).
    pub entities: Vec<String>,
    /// The true employer, when the entity's records map to one.
    pub employer: Option<String>,
    /// The true employer's kind.
    pub kind: String,
    /// Why, as far as the run's own facts tell (`EntityFacts`): `split` or `wrong_merge`
    /// (matching), `feed_headcount`, `no_headcount` or `feed_status` (a feed says what the
    /// truth does not; no rule can see it), `judged_not_operating`, `judged_filed`, `scope`,
    /// `unplaced`, `other`.
    pub cause: &'static str,
}

/// What the run concluded about one entity, for telling why a lead was wrong.
#[derive(Debug, Clone, Default)]
pub struct EntityFacts {
    pub headcount: Option<u32>,
    pub operating: bool,
    pub filed: bool,
    pub local: bool,
    pub last_evidence: Option<NaiveDate>,
    pub township_code: Option<TownshipCode>,
}

impl EntityFacts {
    /// The facts of one stored entity (`entities.data`); `None` when it does not parse.
    pub fn from_stored(data: &str) -> Option<EntityFacts> {
        let e: crate::pipeline::StoredEntity = serde_json::from_str(data).ok()?;
        Some(EntityFacts {
            headcount: e.record.headcount,
            operating: e.assessment.operating,
            filed: e.assessment.filing == FilingStatus::Current,
            local: e
                .scope
                .is_none_or(|s| s == crate::screen::scope::Scope::Local),
            last_evidence: e.record.last_exam.max(e.record.last_test),
            township_code: e.placement.township_code,
        })
    }
}

/// Why a true lead was not listed, from the entities holding its records.
fn missed_cause(e: &TrueEmployer, holders: &[Option<&EntityFacts>]) -> &'static str {
    match holders {
        [] => "no_record",
        [_, _, ..] => "split",
        [None] => "other",
        [Some(f)] if !f.local => "scope",
        [Some(f)] if f.filed => "judged_filed",
        [Some(f)] if !f.operating => "judged_not_operating",
        [Some(f)] if f.headcount.is_none() && f.last_evidence.is_none() => "no_headcount",
        [Some(f)] if f.headcount.is_some() && f.headcount != e.headcount => "feed_headcount",
        [Some(_)] => "other",
    }
}

/// Why an entity was listed although its employer is no lead.
fn false_lead_cause(e: &TrueEmployer, f: Option<&EntityFacts>) -> &'static str {
    match f {
        None => "other",
        Some(f) if !e.operating && f.operating => "feed_status",
        Some(_) if e.filing == FilingStatus::Current => "judged_not_filed",
        Some(f) if f.last_evidence.is_some() && e.last_evidence.is_none() => "wrong_merge",
        Some(f) if f.headcount.is_some() && f.headcount != e.headcount => "feed_headcount",
        Some(_) => "other",
    }
}

/// A run's entity links and leads, as the evaluation needs them.
pub struct RunView<'a> {
    /// (source, record key, entity id).
    pub links: &'a [(String, String, String, String)],
    /// (entity id, township code, village code) of each lead.
    pub leads: &'a [(String, Option<String>, Option<String>)],
    /// The run's conclusions per entity, to tell why a lead was wrong (may be empty).
    pub entities: &'a HashMap<String, EntityFacts>,
}

/// Leads as the store lists them (entity, township code, village name) with the village name
/// turned into its code: the village of that name in the lead's township, else the county's
/// only village of that name. Unknown names give no code.
pub fn village_codes(
    leads: &[(String, Option<String>, Option<String>)],
    gazetteer: &Gazetteer,
) -> Vec<(String, Option<String>, Option<String>)> {
    let code_of = |township: Option<&str>, name: &str| -> Option<String> {
        let named: Vec<&crate::place::gazetteer::Village> = gazetteer
            .villages
            .iter()
            .filter(|v| v.name == name)
            .collect();
        named
            .iter()
            .find(|v| Some(v.township_code.as_str()) == township)
            .or(if named.len() == 1 {
                named.first()
            } else {
                None
            })
            .map(|v| v.code.clone())
    };
    leads
        .iter()
        .map(|(entity, township, village)| {
            let code = village
                .as_deref()
                .filter(|v| !v.is_empty())
                .and_then(|v| code_of(township.as_deref(), v));
            (entity.clone(), township.clone(), code)
        })
        .collect()
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
    let (mut wrong_township, mut out_of_county) = (0, 0);
    let (mut with_village, mut village_right) = (0usize, 0usize);
    let mut placed_with_village = 0usize;
    let mut fp_by_kind: BTreeMap<String, usize> = BTreeMap::new();
    let mut mistakes: Vec<Mistake> = Vec::new();
    for (entity, township, village) in run.leads {
        if township.is_none() {
            unplaced += 1;
        }
        let employer = majority
            .get(entity.as_str())
            .and_then(|emp| truth.employers.get(*emp));
        if employer.is_some_and(|e| !e.in_county) {
            out_of_county += 1;
        }
        match employer {
            Some(e) if true_leads.contains(e.id.as_str()) => {
                if seen.insert(e.id.as_str()) {
                    tp += 1;
                    match township.as_deref() {
                        Some(t) if e.township_code == t => placed_right += 1,
                        Some(_) => wrong_township += 1,
                        None => {}
                    }
                    if let Some(v) = &e.village_code {
                        with_village += 1;
                        placed_with_village += usize::from(township.is_some());
                        if village.as_deref() == Some(v.as_str()) {
                            village_right += 1;
                        } else {
                            mistakes.push(Mistake {
                                what: "wrong_village",
                                entities: vec![entity.clone()],
                                employer: Some(e.id.clone()),
                                kind: e.kind.clone(),
                                cause: if township.is_none() {
                                    "unplaced"
                                } else {
                                    "other"
                                },
                            });
                        }
                    }
                } else {
                    dup += 1;
                    fp += 1;
                    *fp_by_kind.entry("duplicate".to_string()).or_default() += 1;
                    mistakes.push(Mistake {
                        what: "duplicate",
                        entities: vec![entity.clone()],
                        employer: Some(e.id.clone()),
                        kind: e.kind.clone(),
                        cause: "split",
                    });
                }
            }
            Some(e) => {
                fp += 1;
                *fp_by_kind.entry(e.kind.clone()).or_default() += 1;
                mistakes.push(Mistake {
                    what: "false_lead",
                    entities: vec![entity.clone()],
                    employer: Some(e.id.clone()),
                    kind: e.kind.clone(),
                    cause: false_lead_cause(e, run.entities.get(entity)),
                });
            }
            None => {
                fp += 1;
                mistakes.push(Mistake {
                    what: "false_lead",
                    entities: vec![entity.clone()],
                    employer: None,
                    kind: "no_true_employer".to_string(),
                    cause: "wrong_merge",
                });
                *fp_by_kind
                    .entry("no_true_employer".to_string())
                    .or_default() += 1;
            }
        }
    }
    let mut fn_by_kind: BTreeMap<String, usize> = BTreeMap::new();
    for id in true_leads.iter().filter(|id| !seen.contains(*id)) {
        if let Some(e) = truth.employers.get(*id) {
            *fn_by_kind.entry(e.kind.clone()).or_default() += 1;
            let mut entities: Vec<String> = entities_of
                .get(*id)
                .map(|s| s.iter().map(|e| e.to_string()).collect())
                .unwrap_or_default();
            entities.sort();
            let holders: Vec<Option<&EntityFacts>> =
                entities.iter().map(|x| run.entities.get(x)).collect();
            mistakes.push(Mistake {
                what: "missed",
                cause: missed_cause(e, &holders),
                entities,
                employer: Some(e.id.clone()),
                kind: e.kind.clone(),
            });
        }
    }
    mistakes.sort_by(|a, b| {
        (a.what, &a.employer, &a.entities).cmp(&(b.what, &b.employer, &b.entities))
    });
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
        false_positive_by_kind: fp_by_kind,
        false_negative_by_kind: fn_by_kind,
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
        wrong_township,
        village_accuracy: if with_village == 0 {
            1.0
        } else {
            village_right as f64 / with_village as f64
        },
        village_accuracy_placed: if placed_with_village == 0 {
            1.0
        } else {
            village_right as f64 / placed_with_village as f64
        },
        mistakes_by_cause: mistakes.iter().fold(BTreeMap::new(), |mut m, x| {
            *m.entry(format!("{}:{}", x.what, x.cause)).or_default() += 1;
            m
        }),
        out_of_county_leads: out_of_county,
        impure_entities: votes.values().filter(|v| v.len() > 1).count(),
        split_employers: entities_of.values().filter(|s| s.len() > 1).count(),
        mistakes,
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

#[cfg(test)]
mod tests {
    use super::*;

    const OLD_HEADER: &str =
        "employer_id,industry_code,headcount,operating,township_code,filing_status,last_evidence";

    fn config() -> crate::config::Config {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        crate::config::load(&root.join("config/yingbao.toml")).expect("project config loads")
    }

    /// A severe-industry employer with 50 workers that never declared: a lead wherever it is
    /// in the county.
    fn lead_row(id: &str, township: &str, village: &str, county: &str) -> String {
        format!("{id},3011,50,true,{township},never,2025-03-01,{village},{county}")
    }

    fn truth(dir: &Path, employers: &[String]) -> Truth {
        let header = format!("{OLD_HEADER},village_code,county_code");
        let body: Vec<String> = std::iter::once(header)
            .chain(employers.iter().cloned())
            .collect();
        std::fs::write(dir.join("employers.csv"), body.join("\n") + "\n").expect("write");
        let records: Vec<String> = std::iter::once("connector_id,record_key,employer_id".into())
            .chain(employers.iter().map(|r| {
                let id = r.split(',').next().unwrap_or_default();
                format!("market,{id},{id}")
            }))
            .collect();
        std::fs::write(dir.join("records.csv"), records.join("\n") + "\n").expect("write");
        Truth::load(dir).expect("truth loads")
    }

    fn link(id: &str) -> (String, String, String, String) {
        ("market".into(), id.into(), format!("N{id}"), String::new())
    }

    fn lead(
        id: &str,
        township: Option<&str>,
        village: Option<&str>,
    ) -> (String, Option<String>, Option<String>) {
        (
            format!("N{id}"),
            township.map(str::to_string),
            village.map(str::to_string),
        )
    }

    #[test]
    fn village_township_and_out_of_county_figures() {
        let cfg = config();
        let dir = tempfile::tempdir().expect("tmp");
        let (t1, t2) = ("350583118", "350583103");
        let (v1, v2) = ("350583118201", "350583118202");
        let t = truth(
            dir.path(),
            &[
                lead_row("E1", t1, v1, "350583"),
                lead_row("E2", t1, v2, "350583"),
                lead_row("E3", t1, "", "350583"),
                lead_row("E4", t1, v1, "350583"),
                lead_row("E5", t1, v1, "350583"),
                // Another county's employer: never a lead here, whatever its facts.
                lead_row("E6", "", "", "350582"),
            ],
        );
        assert!(!t.employers["E6"].in_county);
        assert!(t.employers["E1"].in_county);
        let links: Vec<_> = ["E1", "E2", "E3", "E4", "E5", "E6"]
            .iter()
            .map(|i| link(i))
            .collect();
        let leads = vec![
            lead("E1", Some(t1), Some(v1)), // right township, right village
            lead("E2", Some(t1), Some(v1)), // right township, wrong village
            lead("E3", Some(t2), None),     // wrong township; no true village
            lead("E4", None, None),         // unplaced: not a wrong township
            lead("E5", Some(t2), Some(v1)), // wrong township, right village
            lead("E6", Some(t1), None),     // out of county
        ];
        let r = evaluate(
            &t,
            &RunView {
                links: &links,
                leads: &leads,
                entities: &HashMap::new(),
            },
            &cfg.settings.policy,
            &cfg.catalogue,
            NaiveDate::from_ymd_opt(2025, 6, 30).expect("date"),
        );
        assert_eq!(r.true_leads, 5, "{r:?}");
        assert_eq!(r.true_positive, 5, "{r:?}");
        assert_eq!(r.false_positive, 1, "{r:?}");
        assert_eq!(r.out_of_county_leads, 1, "{r:?}");
        assert_eq!(r.wrong_township, 2, "{r:?}");
        assert_eq!(r.unplaced_leads, 1, "{r:?}");
        assert!((r.placement_accuracy - 2.0 / 5.0).abs() < 1e-9, "{r:?}");
        // With a village: E1 (right), E2 (wrong), E4 (none listed), E5 (right).
        assert!((r.village_accuracy - 2.0 / 4.0).abs() < 1e-9, "{r:?}");
        // Files without a `kind` column: every employer is `normal`.
        assert_eq!(
            r.false_positive_by_kind,
            [("normal".to_string(), 1)].into_iter().collect()
        );
        assert!(r.false_negative_by_kind.is_empty());
    }

    #[test]
    fn old_truth_files_without_the_new_columns_load() {
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::write(
            dir.path().join("employers.csv"),
            format!("{OLD_HEADER}\nE1,3011,50,true,350583118,never,2025-03-01\n"),
        )
        .expect("write");
        std::fs::write(
            dir.path().join("records.csv"),
            "connector_id,record_key,employer_id\nmarket,E1,E1\n",
        )
        .expect("write");
        let t = Truth::load(dir.path()).expect("old truth loads");
        let e = &t.employers["E1"];
        assert!(e.in_county);
        assert_eq!(e.village_code, None);
    }

    #[test]
    fn village_names_become_codes_within_the_township() {
        let cfg = config();
        let g = &cfg.gazetteer;
        let v = g.villages.first().expect("a village");
        let leads = vec![
            lead("E1", Some(&v.township_code), Some(&v.name)),
            lead("E2", Some(&v.township_code), Some("没有这个村")),
            lead("E3", None, None),
        ];
        let coded = village_codes(&leads, g);
        assert_eq!(coded[0].2.as_deref(), Some(v.code.as_str()));
        assert_eq!(coded[1].2, None);
        assert_eq!(coded[2].2, None);
    }

    #[test]
    fn mistakes_say_whether_a_feed_or_yingbao_was_wrong() {
        let dir = tempfile::tempdir().expect("tmp");
        let t = truth(dir.path(), &[lead_row("E1", "350583118", "", "350583")]);
        let e = &t.employers["E1"];
        // Written as a run writes it, read back through the typed stored entity.
        let record = MasterRecord {
            entity_id: "N1".into(),
            headcount: Some(9),
            ..Default::default()
        };
        let assessment = crate::screen::Assessment {
            entity_id: "N1".into(),
            risk_class: None,
            operating: true,
            operating_basis: String::new(),
            filing: FilingStatus::Never,
            rule_ids: vec!["severe_industry".into()],
            reasons: Vec::new(),
            size: None,
            sme_assistance: false,
            unknown_statuses: Vec::new(),
            flags: Vec::new(),
        };
        let placement = crate::place::Placement {
            township_code: Some("350583118".into()),
            ..crate::place::Placement::unplaced()
        };
        let stored = crate::pipeline::entity_data(
            &record,
            &assessment,
            &placement,
            &crate::screen::scope::Scope::Local,
        )
        .expect("writes");
        let f = EntityFacts::from_stored(&stored).expect("parses");
        assert_eq!(f.township_code.as_deref(), Some("350583118"));
        assert!(EntityFacts::from_stored(r#"{"record":{}}"#).is_none());
        assert_eq!(
            (f.headcount, f.operating, f.filed, f.local),
            (Some(9), true, false, true)
        );
        // The feed said 9 workers where there are 50: no rule could list it.
        assert_eq!(missed_cause(e, &[Some(&f)]), "feed_headcount");
        let unknown = EntityFacts {
            headcount: None,
            ..f.clone()
        };
        assert_eq!(missed_cause(e, &[Some(&unknown)]), "no_headcount");
        let stopped = EntityFacts {
            operating: false,
            ..f.clone()
        };
        assert_eq!(missed_cause(e, &[Some(&stopped)]), "judged_not_operating");
        assert_eq!(missed_cause(e, &[Some(&f), Some(&f)]), "split");
        let mut gone = e.clone();
        gone.operating = false;
        assert_eq!(false_lead_cause(&gone, Some(&f)), "feed_status");
        let mut small = e.clone();
        small.headcount = Some(8);
        assert_eq!(false_lead_cause(&small, Some(&f)), "feed_headcount");
        let examined = EntityFacts {
            last_evidence: NaiveDate::from_ymd_opt(2025, 1, 1),
            ..f
        };
        let mut unexamined = small.clone();
        unexamined.last_evidence = None;
        assert_eq!(
            false_lead_cause(&unexamined, Some(&examined)),
            "wrong_merge"
        );
    }
}
