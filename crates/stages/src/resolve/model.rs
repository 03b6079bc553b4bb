//! Fellegi–Sunter match weights: u probabilities from random pairs, m probabilities by EM on
//! the candidate pairs (no labels), and a term-frequency adjustment for agreeing names.

use serde::Serialize;

use super::compare::{Field, Gamma, FIELDS, NAME_CORE, NAME_EXACT, NAME_UNCORROBORATED};

/// m and u per field and level, and the prior share of matches among candidates.
#[derive(Debug, Clone, Serialize)]
pub struct Model {
    pub lambda: f64,
    pub m: Vec<Vec<f64>>,
    pub u: Vec<Vec<f64>>,
    /// EM iterations run.
    pub iterations: usize,
}

/// One field's contribution to a pair's weight.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct FieldWeight {
    pub field: Field,
    /// Level index, `None` when missing.
    pub level: Option<u8>,
    pub weight: f64,
}

fn counts(gammas: &[Gamma], weights: Option<&[f64]>) -> Vec<Vec<f64>> {
    let mut c: Vec<Vec<f64>> = FIELDS.iter().map(|f| vec![0.0; f.levels().len()]).collect();
    for (i, g) in gammas.iter().enumerate() {
        let w = weights.map_or(1.0, |w| w[i]);
        for f in FIELDS {
            if let Some(l) = g[f.index()] {
                c[f.index()][l as usize] += w;
            }
        }
    }
    c
}

/// Normalises counts into probabilities with add-half smoothing (no level is impossible).
fn normalise(c: &[Vec<f64>]) -> Vec<Vec<f64>> {
    c.iter()
        .map(|levels| {
            let total: f64 = levels.iter().sum::<f64>() + 0.5 * levels.len() as f64;
            levels.iter().map(|x| (x + 0.5) / total).collect()
        })
        .collect()
}

impl Model {
    /// Estimates u from `non_match` pairs and m and lambda by EM over the `candidates` with u
    /// held fixed, starting m from `known_match` pairs (or from a prior favouring agreement).
    pub fn estimate(candidates: &[Gamma], non_match: &[Gamma], known_match: &[Gamma]) -> Model {
        let observed = counts(non_match, None);
        // A field never seen among non-matches says nothing about u: assume disagreement is
        // what two different employers show (1% on each agreeing level).
        let u: Vec<Vec<f64>> = normalise(&observed)
            .into_iter()
            .zip(&observed)
            .map(|(u, seen)| {
                if seen.iter().sum::<f64>() > 0.0 {
                    u
                } else {
                    let k = u.len();
                    (0..k)
                        .map(|l| {
                            if l + 1 == k {
                                1.0 - 0.01 * (k - 1) as f64
                            } else {
                                0.01
                            }
                        })
                        .collect()
                }
            })
            .collect();
        let start = normalise(&counts(known_match, None));
        // Without known matches, start m where agreement is likely: the best level gets most.
        let mut m: Vec<Vec<f64>> = FIELDS
            .iter()
            .map(|f| {
                let n = f.levels().len();
                let mut v: Vec<f64> = (0..n).map(|l| 0.5f64.powi(l as i32 + 1)).collect();
                let s: f64 = v.iter().sum();
                v.iter_mut().for_each(|x| *x /= s);
                v
            })
            .collect();
        if known_match.len() >= 100 {
            m = start;
        }
        let mut lambda = 0.1;
        let mut iterations = 0;
        let mut posterior = vec![0.0; candidates.len()];
        for _ in 0..if candidates.is_empty() { 0 } else { 25 } {
            iterations += 1;
            for (i, g) in candidates.iter().enumerate() {
                let (mut pm, mut pu) = (lambda, 1.0 - lambda);
                for f in FIELDS {
                    if let Some(l) = g[f.index()] {
                        pm *= m[f.index()][l as usize];
                        pu *= u[f.index()][l as usize];
                    }
                }
                posterior[i] = pm / (pm + pu);
            }
            let new_lambda = posterior.iter().sum::<f64>() / candidates.len().max(1) as f64;
            let new_m = normalise(&counts(candidates, Some(&posterior)));
            let delta: f64 = new_m
                .iter()
                .flatten()
                .zip(m.iter().flatten())
                .map(|(a, b)| (a - b).abs())
                .fold((new_lambda - lambda).abs(), f64::max);
            m = new_m;
            lambda = new_lambda.clamp(1e-6, 1.0 - 1e-6);
            if delta < 1e-5 {
                break;
            }
        }
        Model {
            lambda,
            m,
            u,
            iterations,
        }
    }

    /// Without enough pairs for EM: u from `non_match`, m from `known_match` or the prior that
    /// favours agreement, and a given share of matches among candidates.
    pub fn without_em(non_match: &[Gamma], known_match: &[Gamma], lambda: f64) -> Model {
        let mut model = Model::estimate(&[], non_match, known_match);
        model.lambda = lambda.clamp(1e-6, 0.5);
        model.iterations = 0;
        model
    }

    pub fn prior_weight(&self) -> f64 {
        (self.lambda / (1.0 - self.lambda)).log2()
    }

    /// Per-field weights of a pair. `name_tf` is the share of records with this name core,
    /// used instead of u when the names agree (a common name agrees by chance more often).
    pub fn weights(&self, g: &Gamma, name_tf: Option<f64>) -> Vec<FieldWeight> {
        FIELDS
            .iter()
            .map(|&f| {
                let level = g[f.index()];
                let weight = match level {
                    None => 0.0,
                    Some(l) if f == Field::Name && l == NAME_UNCORROBORATED => 0.0,
                    Some(l) => {
                        let m = self.m[f.index()][l as usize];
                        let mut u = self.u[f.index()][l as usize];
                        if f == Field::Name && (l == NAME_EXACT || l == NAME_CORE) {
                            if let Some(tf) = name_tf {
                                u = tf.max(1e-7);
                            }
                        }
                        (m / u).log2()
                    }
                };
                FieldWeight {
                    field: f,
                    level,
                    weight,
                }
            })
            .collect()
    }

    /// Total match weight (prior + fields) and its probability.
    pub fn score(&self, weights: &[FieldWeight]) -> (f64, f64) {
        let w = self.prior_weight() + weights.iter().map(|x| x.weight).sum::<f64>();
        (w, probability(w))
    }
}

pub fn probability(weight: f64) -> f64 {
    let odds = weight.exp2();
    if odds.is_infinite() {
        1.0
    } else {
        odds / (1.0 + odds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn em_separates_matches_from_non_matches() {
        // 100 true matches agreeing on name and address, 900 non-matches mostly disagreeing.
        let mut cands = Vec::new();
        for i in 0..100 {
            cands.push([
                None,
                Some(if i % 10 == 0 { 1 } else { 0 }),
                Some(0),
                Some(0),
                None,
            ]);
        }
        for i in 0..900 {
            cands.push([
                None,
                Some(if i % 50 == 0 { 3 } else { 6 }),
                Some(if i % 3 == 0 { 2 } else { 3 }),
                Some(2),
                None,
            ]);
        }
        // Random pairs are (almost all) non-matches: the same distribution as the 900.
        let random: Vec<Gamma> = (0..5000)
            .map(|i| {
                [
                    None,
                    Some(if i % 50 == 0 { 3 } else { 6 }),
                    Some(if i % 3 == 0 { 2 } else { 3 }),
                    Some(2),
                    None,
                ]
            })
            .collect();
        let model = Model::estimate(&cands, &random, &[]);
        assert!((model.lambda - 0.1).abs() < 0.03, "lambda {}", model.lambda);
        let agree = model.score(&model.weights(&cands[1], None));
        let disagree = model.score(&model.weights(&cands[500], None));
        assert!(
            agree.1 > 0.99 && disagree.1 < 0.01,
            "{agree:?} {disagree:?}"
        );
        // A common name agrees by chance more often: less weight.
        let rare = model.weights(&cands[1], Some(1e-6))[1].weight;
        let common = model.weights(&cands[1], Some(0.01))[1].weight;
        assert!(rare > common + 5.0);
    }
}
