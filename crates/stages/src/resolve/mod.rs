//! Entity resolution: observations from every feed → one entity per real employer, with every
//! source record traceable to its entity, explainable, and ids stable from run to run. No I/O.

pub mod blocking;
pub mod compare;
pub mod explain;
pub mod features;
pub mod fusion;
pub mod incremental;
pub mod link;
pub mod master;
pub mod model;
pub mod name;
mod twins;
mod unionfind;

use std::collections::{BTreeMap, HashMap, HashSet};

use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::domain::{EntityId, Observation};
pub use features::MatchContext;
pub use master::MasterRecord;
use model::{FieldWeight, Model};
use yingbao_core::parallel::parallel_chunks;

/// How a record came to join its entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JoinMethod {
    /// The first record of its entity.
    Seed,
    /// The same valid USCC as the entity.
    Uscc,
    /// Scored above the merge threshold against a record of the entity.
    Score,
    /// An operator said "same".
    Override,
}

impl JoinMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            JoinMethod::Seed => "seed",
            JoinMethod::Uscc => "uscc",
            JoinMethod::Score => "score",
            JoinMethod::Override => "override",
        }
    }
}

/// Which entity a source record joined, and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Link {
    pub source: String,
    pub record_key: String,
    pub entity_id: EntityId,
    pub method: JoinMethod,
}

impl Link {
    /// A record that seeded its entity (the first of its entity).
    pub fn seed(source: &str, record_key: &str, entity_id: &str) -> Link {
        Link {
            source: source.into(),
            record_key: record_key.into(),
            entity_id: entity_id.into(),
            method: JoinMethod::Seed,
        }
    }
}

/// A scored pair kept for explanation: a merge, or a pair in the review band.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairEvidence {
    pub source: String,
    pub record_key: String,
    #[serde(default)]
    pub name: String,
    pub other_source: String,
    pub other_key: String,
    #[serde(default)]
    pub other_name: String,
    pub prior: f64,
    pub fields: Vec<FieldWeight>,
    pub weight: f64,
    pub probability: f64,
}

impl PairEvidence {
    /// The evidence for record `a` against record `b`.
    pub fn new(
        a: &Observation,
        b: &Observation,
        prior: f64,
        fields: Vec<FieldWeight>,
        weight: f64,
        probability: f64,
    ) -> PairEvidence {
        PairEvidence {
            source: a.source.clone(),
            record_key: a.record_key.clone(),
            name: a.name.clone().unwrap_or_default(),
            other_source: b.source.clone(),
            other_key: b.record_key.clone(),
            other_name: b.name.clone().unwrap_or_default(),
            prior,
            fields,
            weight,
            probability,
        }
    }
}

/// Thresholds on the match probability of a record's best candidate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    /// At or above: merged automatically.
    #[serde(default = "default_merge")]
    pub merge_probability: f64,
    /// At or above (and below merge): listed for review, not merged.
    #[serde(default = "default_review")]
    pub review_probability: f64,
}

fn default_merge() -> f64 {
    0.95
}

fn default_review() -> f64 {
    0.5
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            merge_probability: default_merge(),
            review_probability: default_review(),
        }
    }
}

/// An operator's binding decision about two records.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Override {
    pub a: (String, String),
    pub b: (String, String),
    pub same: bool,
}

/// Figures of one resolution.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ResolveStats {
    pub observations: usize,
    /// Records without a valid USCC, which the matcher must place.
    pub floating: usize,
    pub pairs_compared: usize,
    pub merged_by_score: usize,
    pub review_pairs: usize,
    pub lambda: f64,
    pub em_iterations: usize,
    /// Operator "same" decisions refused because they would join two valid USCCs.
    pub overrides_refused: usize,
    /// Records left unjoined because their name alone sounds like two registered employers.
    pub sound_twins: usize,
}

/// The master list, the record → entity links, and the evidence behind scored decisions.
#[derive(Debug, Clone, Default)]
pub struct Resolution {
    pub records: Vec<MasterRecord>,
    pub links: Vec<Link>,
    pub merges: Vec<PairEvidence>,
    pub review: Vec<PairEvidence>,
    /// Best candidates that were rejected, only with `keep_compared` (diagnostics).
    pub rejected: Vec<PairEvidence>,
    pub stats: ResolveStats,
    /// Compared pairs (indexes into the observations), only when asked for (benchmarks).
    pub compared: Vec<(u32, u32)>,
}

/// `(source, record_key) → entity id` of the previous run, for stable ids.
pub type PreviousLinks = HashMap<(String, String), EntityId>;

impl Resolution {
    /// This resolution's links as the `previous` of the next one.
    pub fn previous_links(&self) -> PreviousLinks {
        self.links
            .iter()
            .map(|l| {
                (
                    (l.source.clone(), l.record_key.clone()),
                    l.entity_id.clone(),
                )
            })
            .collect()
    }
}

/// Options of one resolution.
#[derive(Debug, Clone, Default)]
pub struct ResolveOptions {
    pub thresholds: Thresholds,
    pub overrides: Vec<Override>,
    /// Keep the list of compared pairs in the result (for measuring blocking).
    pub keep_compared: bool,
    /// Which record decides each fact of a master record.
    pub fusion: fusion::FusionRules,
}

fn key_of(o: &Observation) -> (String, String) {
    (o.source.clone(), o.record_key.clone())
}

/// Resolves observations into entities.
pub fn resolve(
    observations: &[Observation],
    previous: &PreviousLinks,
    ctx: &MatchContext<'_>,
    opts: &ResolveOptions,
) -> Resolution {
    resolve_core(observations, previous, ctx, opts, false).0
}

/// What a full resolution learnt that an incremental one reuses.
pub(crate) struct Core {
    pub codes: Codes,
    pub code: Vec<Option<u32>>,
    pub feats: Vec<features::Features>,
    pub model: Model,
    pub name_tf: NameFrequencies,
    /// Picks of every floating record that has a candidate, by record index.
    pub best: HashMap<u32, Picks>,
    /// Entity id → its record indexes, ascending.
    pub groups: Vec<(EntityId, Vec<u32>)>,
}

/// A floating record's best-scoring candidate.
#[derive(Debug, Clone)]
pub(crate) struct Best {
    pub j: u32,
    pub fields: Vec<FieldWeight>,
    pub weight: f64,
    pub probability: f64,
    /// How alike the two names are beyond their level (`compare::likeness`): among equally
    /// weighted candidates the likelier typo wins.
    pub alike: u8,
}

impl Best {
    /// Whether candidate `(j, weight, alike)` beats this one (ties go to the name more alike,
    /// then to the smaller index).
    fn beaten_by(&self, j: u32, weight: f64, alike: u8) -> bool {
        weight > self.weight
            || (weight == self.weight
                && (std::cmp::Reverse(alike), j) < (std::cmp::Reverse(self.alike), self.j))
    }
}

/// What a floating record may join: its best candidate, and its best candidate that carries
/// a valid USCC (an anchored employer). The two differ when another floating record (a copy
/// in a second feed, with the same typo or the same missing fields) looks more like it than
/// the employer's own records do; joining only the best would leave such copies in a
/// cluster of their own, beside the employer they all belong to.
#[derive(Debug, Clone)]
pub(crate) struct Picks {
    pub top: Best,
    /// The best candidate with a valid USCC (may be `top` itself).
    pub anchored: Option<Best>,
}

impl Picks {
    fn new(b: Best, anchored: bool) -> Picks {
        Picks {
            anchored: anchored.then(|| b.clone()),
            top: b,
        }
    }

    /// Offers candidate `b` (`anchored`: it carries a valid USCC).
    fn offer(&mut self, b: Best, anchored: bool) {
        if anchored
            && self
                .anchored
                .as_ref()
                .is_none_or(|a| a.beaten_by(b.j, b.weight, b.alike))
        {
            self.anchored = Some(b.clone());
        }
        if self.top.beaten_by(b.j, b.weight, b.alike) {
            self.top = b;
        }
    }

    /// Offers candidate `b` to `slot`, which may have no picks yet.
    fn offer_to(slot: &mut Option<Picks>, b: Best, anchored: bool) {
        match slot {
            None => *slot = Some(Picks::new(b, anchored)),
            Some(p) => p.offer(b, anchored),
        }
    }

    /// The better picks of two sets of candidates.
    fn join(a: Option<Picks>, b: Option<Picks>) -> Option<Picks> {
        let (mut out, other) = match (a, b) {
            (None, x) | (x, None) => return x,
            (Some(a), Some(b)) => (Some(a), b),
        };
        if let Some(x) = other.anchored {
            Picks::offer_to(&mut out, x, true);
        }
        Picks::offer_to(&mut out, other.top, false);
        out
    }

    /// Whether record `j` is one of the picks.
    fn mentions(&self, j: u32) -> bool {
        self.top.j == j || self.anchored.as_ref().is_some_and(|a| a.j == j)
    }

    /// Whether candidate `(j, weight, alike)` (`anchored`: with a valid USCC) would change
    /// the picks.
    fn beaten_by(&self, j: u32, weight: f64, alike: u8, anchored: bool) -> bool {
        self.top.beaten_by(j, weight, alike)
            || (anchored
                && self
                    .anchored
                    .as_ref()
                    .is_none_or(|a| a.beaten_by(j, weight, alike)))
    }
}

/// Share of employers (USCC groups) carrying each name core.
pub(crate) struct NameFrequencies {
    shares: HashMap<String, f64>,
}

impl NameFrequencies {
    /// Counts name cores over employers, not records: one employer listed in five feeds does
    /// not make its name common.
    fn count(feats: &[features::Features], uf: &mut unionfind::Clusters, alive: &[bool]) -> Self {
        let mut core_roots: HashMap<&str, HashSet<usize>> = HashMap::new();
        let mut employers = 0usize;
        for (i, f) in feats.iter().enumerate() {
            if !alive[i] {
                continue;
            }
            let root = uf.find(i);
            if root == i {
                employers += 1;
            }
            if let Some(name) = &f.name {
                core_roots
                    .entry(name.core.as_str())
                    .or_default()
                    .insert(root);
            }
        }
        let employers = employers.max(1) as f64;
        NameFrequencies {
            shares: core_roots
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.len() as f64 / employers))
                .collect(),
        }
    }

    fn of(&self, f: &features::Features) -> Option<f64> {
        f.name
            .as_ref()
            .and_then(|nm| self.shares.get(nm.core.as_str()))
            .copied()
    }
}

/// Operator decisions as record-index pairs.
struct Decided {
    same: Vec<(usize, usize)>,
    apart: HashSet<(usize, usize)>,
}

impl Decided {
    fn new(overrides: &[Override], index_of: impl Fn(&(String, String)) -> Option<usize>) -> Self {
        let pair = |ov: &Override| Some((index_of(&ov.a)?, index_of(&ov.b)?));
        Decided {
            same: overrides
                .iter()
                .filter(|o| o.same)
                .filter_map(pair)
                .collect(),
            apart: overrides
                .iter()
                .filter(|o| !o.same)
                .filter_map(pair)
                .map(|(a, b)| (a.min(b), a.max(b)))
                .collect(),
        }
    }

    fn kept_apart(&self, a: usize, b: usize) -> bool {
        self.apart.contains(&(a.min(b), a.max(b)))
    }
}

/// Valid USCCs interned as numbers (records without one: `None`).
#[derive(Default)]
pub(crate) struct Codes {
    ids: HashMap<String, u32>,
}

impl Codes {
    pub fn of(&mut self, f: &features::Features) -> Option<u32> {
        let code = f.code.as_deref().filter(|_| f.code_valid)?;
        if let Some(&id) = self.ids.get(code) {
            return Some(id);
        }
        let id = self.ids.len() as u32;
        self.ids.insert(code.to_string(), id);
        Some(id)
    }
}

/// Steps 1–2: records sharing a valid USCC are one employer; then the operators' decisions
/// ("different" first, so that a "same" cannot chain two records an operator kept apart).
fn anchor(
    codes: &[Option<u32>],
    alive: &[bool],
    decided: &Decided,
    stats: &mut ResolveStats,
) -> (unionfind::Clusters, Vec<JoinMethod>) {
    let n = codes.len();
    let live: Vec<Option<u32>> = codes
        .iter()
        .zip(alive)
        .map(|(c, &a)| c.filter(|_| a))
        .collect();
    let mut uf = unionfind::Clusters::new(live.clone());
    let mut method = vec![JoinMethod::Seed; n];
    // Codes are numbered densely from 0: the first record with each is found by index.
    let codes_seen = live.iter().flatten().max().map_or(0, |&c| c as usize + 1);
    let mut first_with: Vec<usize> = vec![usize::MAX; codes_seen];
    for (i, code) in live.iter().enumerate() {
        let Some(code) = code else {
            continue;
        };
        match first_with[*code as usize] {
            usize::MAX => first_with[*code as usize] = i,
            j => {
                uf.union(j, i);
                method[i] = JoinMethod::Uscc;
            }
        }
    }
    for &(a, b) in &decided.apart {
        uf.keep_apart(a, b);
    }
    for &(a, b) in &decided.same {
        if uf.union(a, b) {
            method[a.max(b)] = JoinMethod::Override;
        } else {
            stats.overrides_refused += 1;
        }
    }
    (uf, method)
}

/// The picks among `candidates` for floating record `i`.
fn best_of(
    i: usize,
    candidates: &[u32],
    feats: &[features::Features],
    model: &Model,
    tf: &NameFrequencies,
    decided: &Decided,
) -> Option<Picks> {
    let f = &feats[i];
    let mut picks: Option<Picks> = None;
    for &j in candidates {
        // Kept apart by an operator, or one was seen while the other did not exist.
        if decided.kept_apart(i, j as usize) || f.lives_apart(&feats[j as usize]) {
            continue;
        }
        let weights = model.weights(&compare::compare(f, &feats[j as usize]), tf.of(f));
        let (w, p) = model.score(&weights);
        let anchored = feats[j as usize].code_valid;
        let alike = compare::likeness(f, &feats[j as usize]);
        if picks
            .as_ref()
            .is_none_or(|b| b.beaten_by(j, w, alike, anchored))
        {
            Picks::offer_to(
                &mut picks,
                Best {
                    j,
                    fields: weights,
                    weight: w,
                    probability: p,
                    alike,
                },
                anchored,
            );
        }
    }
    picks
}

/// Step 5: each floating record (in the given order) joins its best candidate when the
/// evidence is strong enough, and its best candidate with a valid USCC when that evidence is
/// strong enough too; review and (optionally) rejected pairs are kept. A record whose best
/// candidate rests on the name alone while another registered employer's name sounds the
/// same (`rival`) joins neither: both pairs go to review.
#[allow(clippy::too_many_arguments)]
fn decide(
    observations: &[Observation],
    floating: &[usize],
    best: impl Fn(usize) -> Option<Picks>,
    rival: impl Fn(usize, &Best, &mut unionfind::Clusters) -> Option<Best>,
    uf: &mut unionfind::Clusters,
    method: &mut [JoinMethod],
    prior: f64,
    opts: &ResolveOptions,
    stats: &mut ResolveStats,
) -> (Vec<PairEvidence>, Vec<PairEvidence>, Vec<PairEvidence>) {
    let mut merges = Vec::new();
    let mut review = Vec::new();
    let mut rejected = Vec::new();
    for &i in floating {
        let Some(Picks { top, anchored }) = best(i) else {
            continue;
        };
        if top.probability >= opts.thresholds.review_probability {
            if let Some(r) = rival(i, &top, uf) {
                let a = &observations[i];
                for x in [&top, &r] {
                    let b = &observations[x.j as usize];
                    review.push(PairEvidence::new(
                        a,
                        b,
                        prior,
                        x.fields.clone(),
                        x.weight,
                        x.probability,
                    ));
                }
                stats.sound_twins += 1;
                continue;
            }
        }
        if let Some(x) =
            anchored.filter(|x| x.j != top.j && x.probability >= opts.thresholds.merge_probability)
        {
            if uf.union(i, x.j as usize) {
                if method[i] == JoinMethod::Seed {
                    method[i] = JoinMethod::Score;
                }
                stats.merged_by_score += 1;
                let (a, b) = (&observations[i], &observations[x.j as usize]);
                merges.push(PairEvidence::new(
                    a,
                    b,
                    prior,
                    x.fields,
                    x.weight,
                    x.probability,
                ));
            }
        }
        let Best {
            j,
            fields,
            weight,
            probability,
            ..
        } = top;
        let (a, b) = (&observations[i], &observations[j as usize]);
        let evidence = PairEvidence::new(a, b, prior, fields, weight, probability);
        if probability >= opts.thresholds.merge_probability {
            if uf.union(i, j as usize) {
                if method[i] == JoinMethod::Seed {
                    method[i] = JoinMethod::Score;
                }
                stats.merged_by_score += 1;
                merges.push(evidence);
            }
        } else if (probability >= opts.thresholds.review_probability || needs_review(&evidence))
            // A pair that could never join (the record is already with another registered
            // employer, as an operator said) is nothing to review.
            && uf.could_join(i, j as usize)
        {
            review.push(evidence);
        } else if opts.keep_compared {
            rejected.push(evidence);
        }
    }
    stats.review_pairs = review.len();
    (merges, review, rejected)
}

/// Clusters of live records: root → members, ascending.
fn clusters_of(uf: &mut unionfind::Clusters, alive: &[bool]) -> BTreeMap<usize, Vec<usize>> {
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, &a) in alive.iter().enumerate() {
        if a {
            groups.entry(uf.find(i)).or_default().push(i);
        }
    }
    groups
}

/// How each member of an entity joined it, `members` in input order: the first is the seed;
/// one with the same code (`code`: what clustering joins by) as an earlier member joined by
/// it; one an operator joined (`clustered` says so) by override; any other by score. A
/// function of the entity alone, so that an incremental update labels its links as a full
/// resolution does.
pub(crate) fn join_methods(
    members: &[usize],
    code: &[Option<u32>],
    clustered: &[JoinMethod],
) -> Vec<JoinMethod> {
    let mut seen: Vec<u32> = Vec::new();
    members
        .iter()
        .enumerate()
        .map(|(k, &i)| {
            let code = code[i];
            let earlier = code.is_some_and(|c| seen.contains(&c));
            if let Some(c) = code {
                seen.push(c);
            }
            if k == 0 {
                JoinMethod::Seed
            } else if clustered[i] == JoinMethod::Override {
                JoinMethod::Override
            } else if earlier {
                JoinMethod::Uscc
            } else {
                JoinMethod::Score
            }
        })
        .collect()
}

/// One entity's master record and its records' links.
fn entity(
    id: &EntityId,
    members: &[usize],
    observations: &[Observation],
    code: &[Option<u32>],
    method: &[JoinMethod],
    links: &mut Vec<Link>,
    fusion: &fusion::FusionRules,
) -> MasterRecord {
    let obs: Vec<&Observation> = members.iter().map(|&i| &observations[i]).collect();
    let joined = join_methods(members, code, method);
    for (&i, how) in members.iter().zip(joined) {
        links.push(Link {
            source: observations[i].source.clone(),
            record_key: observations[i].record_key.clone(),
            entity_id: id.clone(),
            method: how,
        });
    }
    master::fold(id, &obs, fusion)
}

/// The full resolution, and what an incremental one reuses.
/// `keep_core`: keep the features and decisions for an incremental resolver (otherwise they
/// are freed before the entities are built, which lowers the peak memory).
pub(crate) fn resolve_core(
    observations: &[Observation],
    previous: &PreviousLinks,
    ctx: &MatchContext<'_>,
    opts: &ResolveOptions,
    keep_core: bool,
) -> (Resolution, Core) {
    let n = observations.len();
    let clock = std::time::Instant::now();
    // Time only: memory is measured by the caller (`pipeline`'s stage figures), so matching
    // reads nothing from the system.
    let lap = |what: &str| {
        tracing::debug!(
            what,
            seconds = clock.elapsed().as_secs_f64(),
            "resolve step"
        )
    };
    let mut feats = compute_features(observations, ctx);
    lap("features");
    let mut stats = ResolveStats {
        observations: n,
        ..Default::default()
    };
    let alive = vec![true; n];
    let index: HashMap<(String, String), usize> = observations
        .iter()
        .enumerate()
        .map(|(i, o)| (key_of(o), i))
        .collect();
    let decided = Decided::new(&opts.overrides, |k| index.get(k).copied());
    drop(index);
    let mut codes = Codes::default();
    let code: Vec<Option<u32>> = feats.iter().map(|f| codes.of(f)).collect();
    let (mut uf, mut method) = anchor(&code, &alive, &decided, &mut stats);
    share_deregistration(&mut feats, &mut uf);

    // 3. Candidate pairs for every record without a valid USCC.
    let floating: Vec<usize> = (0..n).filter(|&i| !feats[i].code_valid).collect();
    stats.floating = floating.len();
    // A spread sample of records with valid codes, whose blocked pairs train the model.
    let anchored: Vec<usize> = (0..n).filter(|&i| feats[i].code_valid).collect();
    let step = (anchored.len() / 5_000).max(1);
    let sample: Vec<usize> = anchored.iter().copied().step_by(step).collect();
    let queries: Vec<usize> = floating.iter().chain(&sample).copied().collect();
    let blocker = blocking::Blocker::new(&feats, &queries);
    lap("index");
    let pairs: Vec<(u32, u32, compare::Gamma)> = parallel_chunks(&floating, |part| {
        let mut out = Vec::new();
        for &i in part {
            let f = &feats[i];
            for j in blocker.candidates(i, f) {
                // Kept apart by an operator, or seen while the other did not exist.
                if !decided.kept_apart(i, j as usize) && !f.lives_apart(&feats[j as usize]) {
                    out.push((i as u32, j, compare::compare(f, &feats[j as usize])));
                }
            }
        }
        out
    });
    stats.pairs_compared = pairs.len();
    lap("candidates");

    // 4. The model. Pairs that blocking brings together among records with valid USCCs are
    // known without labels: the same code is the same employer, two codes are two employers.
    // They give u (the non-match distribution *among candidates*, which random pairs do not
    // show) and a starting m; EM then fits m and the prior on the undecided candidates.
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4754);
    let labelled: Vec<(bool, compare::Gamma)> = parallel_chunks(&sample, |part| {
        let mut out = Vec::new();
        for &s in part {
            for j in blocker.candidates(s, &feats[s]) {
                let (a, b) = (&feats[s], &feats[j as usize]);
                if b.code_valid {
                    out.push((a.code == b.code, compare::compare(a, b)));
                }
            }
        }
        out
    });
    drop(blocker);
    let known_match: Vec<compare::Gamma> = labelled.iter().filter(|l| l.0).map(|l| l.1).collect();
    let mut non_match: Vec<compare::Gamma> =
        labelled.iter().filter(|l| !l.0).map(|l| l.1).collect();
    if non_match.len() < 1000 && n >= 2 {
        non_match.extend((0..20_000.min(n * 4)).map(|_| {
            let a = rng.gen_range(0..n);
            let b = rng.gen_range(0..n);
            compare::compare(&feats[a], &feats[b])
        }));
    }
    // EM learns from the records as the feeds meant to send them. A record whose 18-character
    // code fails its check (a mistyped USCC) is scored like the rest but teaches nothing: a
    // handful of typos in one register must not move what every other pair is weighed by
    // (issue 14). Records without a code, or with an old 15-character tax number, teach.
    let clean = |i: u32| {
        feats[i as usize]
            .code
            .as_ref()
            .is_none_or(|c| c.chars().count() != 18)
    };
    let mut gammas: Vec<compare::Gamma> =
        pairs.iter().filter(|p| clean(p.0)).map(|p| p.2).collect();
    if gammas.is_empty() {
        gammas = pairs.iter().map(|p| p.2).collect();
    }
    let model = Model::estimate(&gammas, &non_match, &known_match);
    drop(gammas);
    lap("model");
    stats.lambda = model.lambda;
    stats.em_iterations = model.iterations;
    let name_tf = NameFrequencies::count(&feats, &mut uf, &alive);

    // 5. Each floating record joins its best candidate when the evidence is strong enough.
    let mut best: HashMap<u32, Picks> = HashMap::new();
    for (i, j, g) in &pairs {
        let weights = model.weights(g, name_tf.of(&feats[*i as usize]));
        let (w, p) = model.score(&weights);
        let anchored = feats[*j as usize].code_valid;
        let alike = compare::likeness(&feats[*i as usize], &feats[*j as usize]);
        let b = Best {
            j: *j,
            fields: weights,
            weight: w,
            probability: p,
            alike,
        };
        match best.entry(*i) {
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(Picks::new(b, anchored));
            }
            std::collections::hash_map::Entry::Occupied(mut o) => {
                if o.get().beaten_by(*j, w, alike, anchored) {
                    o.get_mut().offer(b, anchored);
                }
            }
        }
    }
    let sounds = twins::SoundIndex::new(&feats, &alive);
    let scoring = twins::Scoring {
        feats: &feats,
        model: &model,
        name_tf: &name_tf,
        decided: &decided,
    };
    let (merges, review, rejected) = decide(
        observations,
        &floating,
        |i| best.get(&(i as u32)).cloned(),
        |i, top, uf| sounds.rival(i, top, &scoring, uf),
        &mut uf,
        &mut method,
        model.prior_weight(),
        opts,
        &mut stats,
    );
    lap("decide");
    let (feats, best) = if keep_core {
        (feats, best)
    } else {
        (Vec::new(), HashMap::new())
    };
    let compared: Vec<(u32, u32)> = if opts.keep_compared {
        pairs.iter().map(|p| (p.0, p.1)).collect()
    } else {
        Vec::new()
    };
    drop(pairs);

    // 6. Entities, stable ids, master records and links.
    let groups = clusters_of(&mut uf, &alive);
    let previous_of = previous_lookup(previous);
    let ids = assign_ids(
        observations,
        &groups,
        |i| {
            let o = &observations[i];
            previous_of
                .by_ref
                .get(&(o.source.as_str(), o.record_key.as_str()))
                .copied()
        },
        &previous_of.sizes,
        HashSet::new(),
    );
    let mut records = Vec::with_capacity(groups.len());
    let mut links = Vec::with_capacity(n);
    let mut kept_groups = Vec::with_capacity(groups.len());
    for (root, members) in &groups {
        let id = &ids[root];
        records.push(entity(
            id,
            members,
            observations,
            &code,
            &method,
            &mut links,
            &opts.fusion,
        ));
        kept_groups.push((id.clone(), members.iter().map(|&i| i as u32).collect()));
    }
    records.sort_by(|a, b| a.entity_id.cmp(&b.entity_id));
    let resolution = Resolution {
        records,
        links,
        merges,
        review,
        rejected,
        stats,
        compared,
    };
    let core = Core {
        codes,
        code,
        feats,
        model,
        name_tf,
        best,
        groups: kept_groups,
    };
    (resolution, core)
}

/// The previous run's links, borrowed for lookups by record identity.
struct PreviousLookup<'a> {
    by_ref: HashMap<(&'a str, &'a str), &'a str>,
    sizes: rustc_hash::FxHashMap<&'a str, usize>,
}

fn previous_lookup(previous: &PreviousLinks) -> PreviousLookup<'_> {
    let mut sizes: rustc_hash::FxHashMap<&str, usize> = Default::default();
    let mut by_ref = HashMap::with_capacity(previous.len());
    for ((source, key), id) in previous {
        *sizes.entry(id.as_str()).or_default() += 1;
        by_ref.insert((source.as_str(), key.as_str()), id.as_str());
    }
    PreviousLookup { by_ref, sizes }
}

/// A near name with nothing else to go on, and nothing against it: a person must decide.
fn needs_review(e: &PairEvidence) -> bool {
    let level = |f: compare::Field| e.fields.iter().find(|w| w.field == f).and_then(|w| w.level);
    level(compare::Field::Name) == Some(compare::NAME_UNCORROBORATED)
        && e.fields
            .iter()
            .all(|w| w.weight >= 0.0 || w.level.is_none())
}

/// Features for every observation, on every core.
/// A deregistration one register record gives (注销日期) holds for every record anchored to
/// the same employer by its code: a record seen after it lives apart from all of them.
fn share_deregistration(feats: &mut [features::Features], uf: &mut unionfind::Clusters) {
    let mut gone: HashMap<usize, chrono::NaiveDate> = HashMap::new();
    for (i, f) in feats.iter().enumerate() {
        if let Some(g) = f.gone {
            let root = uf.find(i);
            let e = gone.entry(root).or_insert(g);
            *e = (*e).max(g);
        }
    }
    if gone.is_empty() {
        return;
    }
    for (i, f) in feats.iter_mut().enumerate() {
        if f.gone.is_none() {
            f.gone = gone.get(&uf.find(i)).copied();
        }
    }
}

fn compute_features(
    observations: &[Observation],
    ctx: &MatchContext<'_>,
) -> Vec<features::Features> {
    let prefixes = ctx.prefixes();
    parallel_chunks(observations, |part| {
        part.iter()
            .map(|o| features::features(o, ctx, &prefixes))
            .collect()
    })
}

/// Ids for every group: an entity keeps the id most of its records had last run (larger
/// groups choose first); a new entity's id is derived from its smallest record identity.
/// `previous_of(i)` is record `i`'s entity last run, `sizes` the record count of each such
/// entity, `taken` ids already given out.
fn assign_ids<'p>(
    observations: &[Observation],
    groups: &BTreeMap<usize, Vec<usize>>,
    previous_of: impl Fn(usize) -> Option<&'p str>,
    sizes: &rustc_hash::FxHashMap<&str, usize>,
    mut taken: HashSet<EntityId>,
) -> HashMap<usize, EntityId> {
    let mut order: Vec<(&usize, &Vec<usize>)> = groups.iter().collect();
    order.sort_by_key(|(root, m)| (std::cmp::Reverse(m.len()), **root));
    let mut ids = HashMap::new();
    for (root, members) in order {
        let mut votes: BTreeMap<&str, usize> = BTreeMap::new();
        for &i in members {
            if let Some(id) = previous_of(i) {
                *votes.entry(id).or_default() += 1;
            }
        }
        let mut ranked: Vec<(&str, usize)> = votes.into_iter().collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let kept = ranked
            .iter()
            .find(|(id, votes)| {
                let before = sizes.get(id).copied().unwrap_or(1);
                *votes * 2 > members.len().min(before) && !taken.contains(*id)
            })
            .map(|(id, _)| EntityId::from(*id));
        let id = kept.unwrap_or_else(|| fresh_id(observations, members, &taken));
        taken.insert(id.clone());
        ids.insert(*root, id);
    }
    ids
}

/// A new id from the entity's smallest record identity: deterministic across runs.
fn fresh_id(
    observations: &[Observation],
    members: &[usize],
    taken: &HashSet<EntityId>,
) -> EntityId {
    let first = members
        .iter()
        .map(|&i| (&observations[i].source, &observations[i].record_key))
        .min()
        .map(|(s, k)| format!("{s}\u{1f}{k}"))
        .unwrap_or_default();
    let digest = Sha256::digest(first.as_bytes());
    let hex: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    let mut id = format!("E{hex}");
    let mut k = 1;
    while taken.contains(id.as_str()) {
        k += 1;
        id = format!("E{hex}-{k}");
    }
    EntityId::from(id)
}

/// Helpers for the resolution tests: records as feeds give them, and where they went.
#[cfg(test)]
pub(crate) mod testing {
    use super::{EntityId, Resolution};
    use crate::domain::{Feed, Observation, Uscc};

    /// A record of `source` (its feed when the name is one) with a name, a code and an
    /// address (`""`: none).
    pub fn obs(source: &str, key: &str, name: &str, uscc: &str, address: &str) -> Observation {
        Observation {
            source: source.into(),
            feed: source.parse().unwrap_or(Feed::Other),
            record_key: key.into(),
            name: Some(name.into()),
            uscc: Uscc::parse(uscc),
            address: (!address.is_empty()).then(|| address.into()),
            ..Default::default()
        }
    }

    /// The entity a record joined.
    pub fn id_of(r: &Resolution, source: &str, key: &str) -> EntityId {
        r.links
            .iter()
            .find(|l| l.source == source && l.record_key == key)
            .map(|l| l.entity_id.clone())
            .expect("linked")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Feed, Uscc};

    fn obs(source: &str, key: &str, name: &str, uscc: &str) -> Observation {
        Observation {
            source: source.into(),
            feed: Feed::Other,
            record_key: key.into(),
            name: Some(name.into()),
            uscc: Uscc::parse(uscc),
            ..Default::default()
        }
    }

    fn id_of(r: &Resolution, source: &str, key: &str) -> EntityId {
        r.links
            .iter()
            .find(|l| l.source == source && l.record_key == key)
            .map(|l| l.entity_id.clone())
            .expect("linked")
    }

    fn best(j: u32, weight: f64) -> Best {
        Best {
            j,
            fields: Vec::new(),
            weight,
            probability: model::probability(weight),
            alike: 0,
        }
    }

    #[test]
    fn picks_keep_the_best_candidate_and_the_best_anchored_one() {
        let mut p = Picks::new(best(5, 3.0), false);
        assert!(p.anchored.is_none());
        // An anchored candidate below the best is kept beside it.
        assert!(p.beaten_by(7, 2.0, 0, true));
        p.offer(best(7, 2.0), true);
        assert_eq!((p.top.j, p.anchored.as_ref().map(|a| a.j)), (5, Some(7)));
        // A weaker floating one changes nothing; a stronger anchored one takes both places.
        assert!(!p.beaten_by(8, 2.5, 0, false));
        p.offer(best(9, 4.0), true);
        assert_eq!((p.top.j, p.anchored.as_ref().map(|a| a.j)), (9, Some(9)));
        assert!(p.mentions(9) && !p.mentions(5));
        // Equal weights: a name that sounds alike wins over a smaller index, and one with
        // the same form too over one with another form.
        let look_alike = best(3, 0.0);
        assert!(look_alike.beaten_by(8, 0.0, 1));
        assert!(!look_alike.beaten_by(8, 0.0, 0));
        let homophone = Best {
            alike: 1,
            ..best(8, 0.0)
        };
        assert!(!homophone.beaten_by(3, 0.0, 0));
        assert!(homophone.beaten_by(9, 0.0, 2));
        assert!(
            homophone.beaten_by(2, 0.0, 1),
            "equally alike: the smaller index"
        );
        // Joining the picks of two candidate sets is picking over their union.
        let a = Some(Picks::new(best(1, 1.0), true));
        let b = Some(Picks::new(best(2, 6.0), false));
        let j = Picks::join(a, b).expect("picks");
        assert_eq!((j.top.j, j.anchored.as_ref().map(|a| a.j)), (2, Some(1)));
    }

    #[test]
    fn an_entity_keeps_its_id_while_most_of_its_records_stay() {
        let ctx = MatchContext::bare(&[]);
        let opts = ResolveOptions::default();
        let first = vec![
            obs("market", "a", "华兴石材有限公司", "91350100M000100Y43"),
            obs("tax", "a", "华兴石材有限公司", "91350100M000100Y43"),
            obs("stats", "a", "华兴石材有限公司", "91350100M000100Y43"),
            obs("market", "b", "宏达陶瓷有限公司", "91110108551385082Q"),
        ];
        let r1 = resolve(&first, &PreviousLinks::new(), &ctx, &opts);
        let previous = r1.previous_links();
        let huaxing = id_of(&r1, "market", "a");
        let hongda = id_of(&r1, "market", "b");
        // Next month: the statistics record now carries another employer's code, and a new
        // employer appears. Hua Xing keeps its id (two of its three records stay); Hong Da too.
        let mut second = first.clone();
        second[2] = obs("stats", "a", "宏达陶瓷有限公司", "91110108551385082Q");
        second.push(obs("market", "c", "永盛鞋业有限公司", "91440300708461136T"));
        let r2 = resolve(&second, &previous, &ctx, &opts);
        assert_eq!(id_of(&r2, "market", "a"), huaxing);
        assert_eq!(id_of(&r2, "tax", "a"), huaxing);
        assert_eq!(id_of(&r2, "market", "b"), hongda);
        assert_eq!(
            id_of(&r2, "stats", "a"),
            hongda,
            "the moved record follows its code"
        );
        let new = id_of(&r2, "market", "c");
        assert!(new != huaxing && new != hongda);
        // The same input twice gives the same ids.
        let r3 = resolve(&second, &previous, &ctx, &opts);
        assert_eq!(r2.links, r3.links);
    }
}
