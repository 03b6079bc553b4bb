//! Incremental resolution for the daemon: keeps the last full resolution's features, blocking
//! index, model, decisions and result in memory, and redoes only what a change can affect.
//!
//! A floating record's decision (its picks: its best candidate, and its best candidate with a
//! valid USCC) depends on its own features and on its candidates. When records arrive, change
//! or go, a floating record is re-scored only if a new record would beat one of its picks or
//! push one out of its candidates, or if a record it had as a candidate went. Clustering is redone from the kept decisions (cheap);
//! entities whose records are exactly those of last time keep their id and master record.
//! The model and name frequencies stay those of the last full resolution, which is redone
//! when operators' decisions or thresholds change, or once a quarter of the records held
//! have been replaced. Link methods of unchanged entities are kept as they were.

use std::collections::{BTreeMap, HashSet};

use rustc_hash::FxHashMap;
use serde::Serialize;

use super::blocking::Blocker;
use super::features::Features;
use super::model::Model;
use super::{
    anchor, assign_ids, best_of, compare, compute_features, decide, master, parallel_chunks,
    resolve_core, Codes, Decided, JoinMethod, Link, MatchContext, NameFrequencies, Picks,
    PreviousLinks, Resolution, ResolveOptions, ResolveStats,
};
use crate::domain::{EntityId, Observation};

const NONE: u32 = u32::MAX;

/// A re-scored record: index, candidates, name floor, best candidate, pairs compared.
type Rescored = (usize, Vec<u32>, u32, Option<Picks>, usize);

/// One entity as last resolved: its id and record slots (ascending).
#[derive(Default)]
struct Kept {
    id: EntityId,
    members: Vec<u32>,
}

/// What an update did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct UpdateStats {
    /// True when the update fell back to a full resolution.
    pub full: bool,
    pub unchanged: usize,
    pub changed: usize,
    pub added: usize,
    pub removed: usize,
    /// Floating records whose best candidate was searched and scored again.
    pub rescored: usize,
    /// Entities whose records are exactly those of last time (id and master record reused).
    pub entities_reused: usize,
    pub entities_rebuilt: usize,
}

/// A resolution kept in memory between runs.
pub struct Resolver {
    slots: Vec<Observation>,
    feats: Vec<Features>,
    alive: Vec<bool>,
    dead: usize,
    codes: Codes,
    code: Vec<Option<u32>>,
    by_key: FxHashMap<String, FxHashMap<String, u32>>,
    /// Every live record under every key; and the floating ones alone (for finding the
    /// floating records a change reaches without walking every block).
    index: Blocker,
    floating_index: Blocker,
    model: Model,
    name_tf: NameFrequencies,
    best: Vec<Option<Picks>>,
    /// Each floating record's candidates (sorted) and name-candidate floor, as last scored.
    cands: Vec<Vec<u32>>,
    floor: Vec<u32>,
    /// Each slot's entity in `entities` (`NONE`: none yet).
    entity_of: Vec<u32>,
    entities: Vec<Kept>,
    /// Each slot's place in the last complete set of observations (a full resolution's
    /// order): members are folded and labelled in it.
    pos: Vec<u32>,
    current: Resolution,
    opts: ResolveOptions,
}

impl Resolver {
    /// A full resolution, kept for later updates; `resolution()` gives its result.
    pub fn build(
        observations: Vec<Observation>,
        previous: &PreviousLinks,
        ctx: &MatchContext<'_>,
        opts: &ResolveOptions,
    ) -> Resolver {
        let (resolution, core) = resolve_core(&observations, previous, ctx, opts, true);
        let n = observations.len();
        let alive = vec![true; n];
        let index = Blocker::full(&core.feats, &alive);
        let is_floating: Vec<bool> = core.feats.iter().map(|f| !f.code_valid).collect();
        let floating_index = Blocker::full(&core.feats, &is_floating);
        let mut best = vec![None; n];
        for (i, b) in core.best {
            best[i as usize] = Some(b);
        }
        let mut by_key: FxHashMap<String, FxHashMap<String, u32>> = FxHashMap::default();
        for (i, o) in observations.iter().enumerate() {
            by_key
                .entry(o.source.clone())
                .or_default()
                .insert(o.record_key.clone(), i as u32);
        }
        let floating: Vec<usize> = (0..n).filter(|&i| is_floating[i]).collect();
        let found: Vec<(usize, Vec<u32>, u32)> = parallel_chunks(&floating, |part| {
            part.iter()
                .map(|&i| {
                    let (c, f) = index.candidates_with_floor(i, &core.feats[i]);
                    (i, c, f)
                })
                .collect()
        });
        let mut cands = vec![Vec::new(); n];
        let mut floor = vec![0; n];
        for (i, c, f) in found {
            cands[i] = c;
            floor[i] = f;
        }
        let mut entity_of = vec![NONE; n];
        let mut entities = Vec::with_capacity(core.groups.len());
        for (id, members) in core.groups {
            for &m in &members {
                entity_of[m as usize] = entities.len() as u32;
            }
            entities.push(Kept { id, members });
        }
        // Room for the records later months add: capacity never touched stays unmapped, and
        // an update that pushes past a full vector would copy every record.
        let room = n / 8;
        let (mut slots, mut feats, mut alive, mut code) =
            (observations, core.feats, alive, core.code);
        slots.reserve_exact(room);
        feats.reserve_exact(room);
        alive.reserve_exact(room);
        code.reserve_exact(room);
        best.reserve_exact(room);
        cands.reserve_exact(room);
        floor.reserve_exact(room);
        entity_of.reserve_exact(room);
        Resolver {
            slots,
            feats,
            alive,
            dead: 0,
            codes: core.codes,
            code,
            by_key,
            index,
            floating_index,
            model: core.model,
            name_tf: core.name_tf,
            best,
            cands,
            floor,
            entity_of,
            entities,
            pos: (0..n as u32).collect(),
            current: resolution,
            opts: opts.clone(),
        }
    }

    /// The current resolution.
    pub fn resolution(&self) -> &Resolution {
        &self.current
    }

    /// Hands the current resolution out without copying it; the resolver cannot be updated
    /// again until [`Resolver::give_back`] returns it (a run lends it while it writes).
    pub fn lend(&mut self) -> Resolution {
        std::mem::take(&mut self.current)
    }

    /// Takes back the resolution [`Resolver::lend`] handed out, as it was lent.
    pub fn give_back(&mut self, resolution: Resolution) {
        self.current = resolution;
    }

    /// The records of `source` as the last update (or the build) was given them, in that
    /// order: what reading an unchanged source again would give.
    pub fn observations_of(&self, source: &str) -> Vec<Observation> {
        let mut at: Vec<(u32, usize)> = (0..self.slots.len())
            .filter(|&i| self.alive[i] && self.pos[i] != u32::MAX && self.slots[i].source == source)
            .map(|i| (self.pos[i], i))
            .collect();
        at.sort_unstable();
        at.into_iter().map(|(_, i)| self.slots[i].clone()).collect()
    }

    fn slot_of(&self, source: &str, key: &str) -> Option<usize> {
        self.by_key
            .get(source)
            .and_then(|m| m.get(key))
            .map(|&s| s as usize)
    }

    fn is_floating(&self, h: usize) -> bool {
        self.alive[h] && !self.feats[h].code_valid
    }

    /// Takes the complete new set of observations and re-resolves what changed: the records
    /// that changed or came are indexed again, only the records whose best candidate may
    /// have changed are scored again, and only the entities whose members changed are folded
    /// again. A change of settings, or too many removed records, resolves everything anew.
    pub fn update(
        &mut self,
        observations: &[Observation],
        ctx: &MatchContext<'_>,
        opts: &ResolveOptions,
    ) -> (&Resolution, UpdateStats) {
        if opts.thresholds != self.opts.thresholds
            || opts.overrides != self.opts.overrides
            || opts.fusion != self.opts.fusion
            || self.dead * 4 > self.slots.len()
        {
            let previous = self.current.previous_links();
            *self = Resolver::build(observations.to_vec(), &previous, ctx, opts);
            let stats = UpdateStats {
                full: true,
                added: observations.len(),
                ..Default::default()
            };
            return (&self.current, stats);
        }
        let mut stats = UpdateStats::default();
        let old_len = self.slots.len();
        let clock = std::time::Instant::now();
        let lap = |what: &str| {
            tracing::debug!(what, seconds = clock.elapsed().as_secs_f64(), "update step")
        };

        let mut changes = self.changes(observations, ctx, &mut stats);
        lap("diff");
        let mut pos = std::mem::take(&mut changes.kept_pos);
        pos.append(&mut changes.fresh_pos);
        self.pos = pos;
        let touched = self.replace(&changes.killed, changes.fresh, ctx);
        lap("index");
        let decided = Decided::new(&opts.overrides, |k| self.slot_of(&k.0, &k.1));
        let affected = self.affected(old_len, &touched, &changes.killed, &decided);
        stats.rescored = affected.len();
        lap("affected");
        let mut rs = self.rescore(&affected, &changes.killed, &decided);
        lap("rescore");

        // Cluster everything again from the kept decisions.
        let n = self.slots.len();
        let (mut uf, mut method) = anchor(&self.code, &self.alive, &decided, &mut rs);
        let floating: Vec<usize> = (0..n).filter(|&i| self.is_floating(i)).collect();
        rs.observations = n - self.dead;
        rs.floating = floating.len();
        rs.lambda = self.model.lambda;
        let sounds = super::twins::SoundIndex::new(&self.feats, &self.alive);
        let scoring = super::twins::Scoring {
            feats: &self.feats,
            model: &self.model,
            name_tf: &self.name_tf,
            decided: &decided,
        };
        let (merges, review, rejected) = decide(
            &self.slots,
            &floating,
            |i| self.best[i].clone(),
            |i, top, uf| sounds.rival(i, top, &scoring, uf),
            &mut uf,
            &mut method,
            self.model.prior_weight(),
            opts,
            &mut rs,
        );
        lap("decide");

        let groups = self.regroup(&mut uf, &changes.refold);
        stats.entities_reused = groups.reused.len();
        stats.entities_rebuilt = groups.rebuilt.len();
        lap("groups");
        let folded = self.fold(
            groups.rebuilt,
            groups.taken,
            &changes.fresh_previous,
            &method,
        );
        lap("fold");
        self.patch(&groups.reused, folded, n);
        let current = &mut self.current;
        current.merges = merges;
        current.review = review;
        current.rejected = rejected;
        current.stats = rs;
        self.opts = opts.clone();
        lap("patch");
        (&self.current, stats)
    }

    /// Sorts the new complete set against the kept records: unchanged, changed in what
    /// matching reads (replaced), changed only in other facts (kept in place and folded
    /// again), new, or gone.
    fn changes(
        &mut self,
        observations: &[Observation],
        ctx: &MatchContext<'_>,
        stats: &mut UpdateStats,
    ) -> Changes {
        let old_len = self.slots.len();
        // Looked up on every core: most records are unchanged.
        let found: Vec<(Option<usize>, bool)> = parallel_chunks(observations, |part| {
            part.iter()
                .map(|o| match self.slot_of(&o.source, &o.record_key) {
                    Some(s) => (Some(s), self.slots[s] == *o),
                    None => (None, false),
                })
                .collect()
        });
        let mut seen = vec![false; old_len];
        let mut changes = Changes {
            refold: vec![false; old_len],
            kept_pos: vec![u32::MAX; old_len],
            ..Default::default()
        };
        let mut rewritten: Vec<(usize, &Observation, u32)> = Vec::new();
        for (at, (o, (slot, same))) in observations.iter().zip(found).enumerate() {
            let at = at as u32;
            match slot {
                Some(s) if !seen[s] && same => {
                    seen[s] = true;
                    changes.kept_pos[s] = at;
                    stats.unchanged += 1;
                }
                Some(s) if !seen[s] => {
                    seen[s] = true;
                    rewritten.push((s, o, at));
                    stats.changed += 1;
                }
                _ => {
                    changes.fresh_previous.push(NONE);
                    changes.fresh.push(o.clone());
                    changes.fresh_pos.push(at);
                    stats.added += 1;
                }
            }
        }
        // A changed record whose matching features are as before (a new headcount, a later
        // tax date) keeps its place: no candidate or decision changes, only its entity's
        // master record is folded again.
        let new_feats = {
            let changed: Vec<Observation> =
                rewritten.iter().map(|(_, o, _)| (*o).clone()).collect();
            compute_features(&changed, ctx)
        };
        for ((s, o, at), f) in rewritten.into_iter().zip(new_feats) {
            if f == self.feats[s] {
                self.slots[s] = o.clone();
                changes.refold[s] = true;
                changes.kept_pos[s] = at;
            } else {
                changes.killed.push(s);
                changes.fresh_previous.push(self.entity_of[s]);
                changes.fresh.push(o.clone());
                changes.fresh_pos.push(at);
            }
        }
        for (s, was_seen) in seen.iter().enumerate() {
            if self.alive[s] && !was_seen {
                changes.killed.push(s);
                stats.removed += 1;
            }
        }
        changes
    }

    /// Out with the `killed` records, in with the `fresh` ones; returns every blocking key
    /// touched, with how many records it gained and lost.
    fn replace(
        &mut self,
        killed: &[usize],
        fresh: Vec<Observation>,
        ctx: &MatchContext<'_>,
    ) -> Touched {
        let mut touched: Touched = FxHashMap::default();
        for &s in killed {
            for k in Blocker::keys_of(&self.feats[s]) {
                touched.entry(k).or_default().1 += 1;
            }
            self.index.remove(s, &self.feats[s]);
            if !self.feats[s].code_valid {
                self.floating_index.remove(s, &self.feats[s]);
            }
            self.alive[s] = false;
            self.dead += 1;
            let o = &self.slots[s];
            if let Some(m) = self.by_key.get_mut(&o.source) {
                if m.get(&o.record_key) == Some(&(s as u32)) {
                    m.remove(&o.record_key);
                }
            }
        }
        let fresh_feats = compute_features(&fresh, ctx);
        for (o, f) in fresh.into_iter().zip(fresh_feats) {
            let s = self.slots.len();
            for k in Blocker::keys_of(&f) {
                touched.entry(k).or_default().0 += 1;
            }
            self.index.insert(s, &f);
            if !f.code_valid {
                self.floating_index.insert(s, &f);
            }
            self.by_key
                .entry(o.source.clone())
                .or_default()
                .insert(o.record_key.clone(), s as u32);
            self.code.push(self.codes.of(&f));
            self.slots.push(o);
            self.feats.push(f);
            self.alive.push(true);
            self.best.push(None);
            self.cands.push(Vec::new());
            self.floor.push(0);
            self.entity_of.push(NONE);
        }
        touched
    }

    /// The floating records (no valid code) whose decision may change: the new ones, those
    /// under a key whose block crossed its size cap, those that lost their best candidate or
    /// a name candidate, and those a new record would beat or push a name candidate out of.
    /// The others just forget a gone record or take a new one among their candidates.
    fn affected(
        &mut self,
        old_len: usize,
        touched: &Touched,
        killed: &[usize],
        decided: &Decided,
    ) -> Vec<usize> {
        let n = self.slots.len();
        let mut affected = vec![false; n];
        for (s, a) in affected.iter_mut().enumerate().skip(old_len) {
            *a = !self.feats[s].code_valid;
        }
        // A key whose block crossed the size above which it is ignored changes everyone's
        // candidates under it.
        for (key, (added, removed)) in touched {
            let (_, after, cap) = self.index.holders(*key);
            let before = (after + removed).saturating_sub(*added);
            if (after > cap) == (before > cap) {
                continue;
            }
            for &h in self.floating_index.holders(*key).0 {
                affected[h as usize] = true;
            }
        }
        // A record that went: those that had it as best, or whose name candidates may now
        // take in another record, are re-scored; the others just forget it.
        for &d in killed {
            let reach = self
                .floating_index
                .neighbours_within(&self.index, d, &self.feats[d]);
            for (h, (_, grams)) in reach {
                let h = h as usize;
                if h >= old_len || affected[h] || !self.is_floating(h) {
                    continue;
                }
                let Ok(pos) = self.cands[h].binary_search(&(d as u32)) else {
                    continue;
                };
                let was_best = self.best[h].as_ref().is_some_and(|b| b.mentions(d as u32));
                // Sharing fewer name grams than the last name candidate, it was a candidate by
                // an identifier or place key only, and its going lets no other record in.
                let was_name_candidate = self.floor[h] > 0 && grams >= self.floor[h];
                if was_best || was_name_candidate {
                    affected[h] = true;
                } else {
                    self.cands[h].remove(pos);
                }
            }
        }
        // A new record: those whose name candidates it would push one out of, or whose best
        // it beats, are re-scored; the others just take it among their candidates.
        for d in old_len..n {
            let reach = self
                .floating_index
                .neighbours_within(&self.index, d, &self.feats[d]);
            let mut reach: Vec<(u32, (bool, u32))> = reach.into_iter().collect();
            reach.sort_unstable();
            for (h, (exact, grams)) in reach {
                let h = h as usize;
                if h >= old_len || affected[h] || !self.is_floating(h) {
                    continue;
                }
                let floor = self.floor[h];
                let by_name = grams > 0 && (floor == 0 || grams > floor);
                if !exact && !by_name {
                    continue;
                }
                if by_name && floor > 0 {
                    affected[h] = true;
                    continue;
                }
                if decided.kept_apart(h, d) {
                    continue;
                }
                let f = &self.feats[h];
                let weights = self
                    .model
                    .weights(&compare::compare(f, &self.feats[d]), self.name_tf.of(f));
                let (w, _) = self.model.score(&weights);
                let anchored = self.feats[d].code_valid;
                let alike = compare::likeness(f, &self.feats[d]);
                if self.best[h]
                    .as_ref()
                    .is_none_or(|b| b.beaten_by(d as u32, w, alike, anchored))
                {
                    affected[h] = true;
                } else {
                    self.cands[h].push(d as u32);
                }
            }
        }
        (0..n).filter(|&i| affected[i] && self.alive[i]).collect()
    }

    /// Finds the `affected` records' candidates again and their best; only candidates not
    /// scored before are compared, unless the best one is no longer among them. The
    /// `killed` records forget theirs.
    fn rescore(&mut self, affected: &[usize], killed: &[usize], decided: &Decided) -> ResolveStats {
        let rescored: Vec<Rescored> = parallel_chunks(affected, |part| {
            part.iter()
                .map(|&i| {
                    let (cands, floor) = self.index.candidates_with_floor(i, &self.feats[i]);
                    let present = |j: u32| cands.binary_search(&j).is_ok();
                    let kept = self.best[i].as_ref().filter(|b| {
                        present(b.top.j) && b.anchored.as_ref().is_none_or(|a| present(a.j))
                    });
                    let (best, compared) = match kept {
                        Some(kept) => {
                            let old = &self.cands[i];
                            let new: Vec<u32> = cands
                                .iter()
                                .copied()
                                .filter(|j| old.binary_search(j).is_err())
                                .collect();
                            let challenger =
                                best_of(i, &new, &self.feats, &self.model, &self.name_tf, decided);
                            (Picks::join(Some(kept.clone()), challenger), new.len())
                        }
                        None => {
                            let best = best_of(
                                i,
                                &cands,
                                &self.feats,
                                &self.model,
                                &self.name_tf,
                                decided,
                            );
                            (best, cands.len())
                        }
                    };
                    (i, cands, floor, best, compared)
                })
                .collect()
        });
        let mut rs = ResolveStats::default();
        for (i, cands, floor, best, compared) in rescored {
            rs.pairs_compared += compared;
            self.best[i] = best;
            self.cands[i] = cands;
            self.floor[i] = floor;
        }
        for &d in killed {
            self.best[d] = None;
            self.cands[d] = Vec::new();
        }
        rs
    }

    /// The clusters of `uf` against the kept entities: one whose members are exactly those
    /// of a kept entity, none of them changed in place, is reused; the others are rebuilt.
    fn regroup(&self, uf: &mut super::unionfind::Clusters, refold: &[bool]) -> Groups {
        let n = self.slots.len();
        let mut by_root: Vec<(u32, u32)> = (0..n)
            .filter(|&i| self.alive[i])
            .map(|i| (uf.find(i) as u32, i as u32))
            .collect();
        by_root.sort_unstable();
        let mut groups = Groups::default();
        for group in by_root.chunk_by(|a, b| a.0 == b.0) {
            let e = self.entity_of[group[0].1 as usize];
            let same = self.entities.get(e as usize).is_some_and(|k| {
                k.members.len() == group.len()
                    && k.members.iter().zip(group).all(|(a, b)| *a == b.1)
            }) && group
                .iter()
                .all(|m| !refold.get(m.1 as usize).copied().unwrap_or(false));
            if same {
                groups.taken.insert(self.entities[e as usize].id.clone());
                groups.reused.push(e);
            } else {
                let members = group.iter().map(|m| m.1 as usize).collect();
                groups.rebuilt.insert(group[0].0 as usize, members);
            }
        }
        groups
    }

    /// Gives each rebuilt entity its id (its members' previous one where it can) and folds
    /// its master record and links.
    fn fold(
        &self,
        rebuilt: BTreeMap<usize, Vec<usize>>,
        taken: HashSet<EntityId>,
        fresh_previous: &[u32],
        method: &[JoinMethod],
    ) -> Vec<Folded> {
        let old_len = self.slots.len() - fresh_previous.len();
        let sizes: FxHashMap<&str, usize> = self
            .entities
            .iter()
            .map(|k| (k.id.as_str(), k.members.len()))
            .collect();
        let entities = &self.entities;
        let entity_of = &self.entity_of;
        let previous_of = |i: usize| {
            let e = if i < old_len {
                entity_of[i]
            } else {
                fresh_previous[i - old_len]
            };
            entities.get(e as usize).map(|k| k.id.as_str())
        };
        let ids = assign_ids(&self.slots, &rebuilt, previous_of, &sizes, taken);
        let work: Vec<(&usize, &Vec<usize>)> = rebuilt.iter().collect();
        let (slots, pos, code) = (&self.slots, &self.pos, &self.code);
        let fusion = &self.opts.fusion;
        parallel_chunks(&work, |part| {
            part.iter()
                .filter_map(|(root, members)| {
                    let id = ids.get(root)?;
                    // Folded and labelled in the order a full resolution sees them.
                    let mut ordered: Vec<usize> = members.to_vec();
                    ordered.sort_by_key(|&i| pos[i]);
                    let obs: Vec<&Observation> = ordered.iter().map(|&i| &slots[i]).collect();
                    let joined = super::join_methods(&ordered, code, method);
                    let links = ordered
                        .iter()
                        .zip(joined)
                        .map(|(&i, how)| Link {
                            source: slots[i].source.clone(),
                            record_key: slots[i].record_key.clone(),
                            entity_id: id.clone(),
                            method: how,
                        })
                        .collect();
                    let kept = Kept {
                        id: id.clone(),
                        members: members.iter().map(|&i| i as u32).collect(),
                    };
                    Some((kept, master::fold(id, &obs, fusion), links))
                })
                .collect()
        })
    }

    /// Patches the kept result in place: the reused entities stay, the others' records and
    /// links give way to the `folded` ones.
    fn patch(&mut self, reused: &[u32], folded: Vec<Folded>, n: usize) {
        let is_reused: HashSet<u32> = reused.iter().copied().collect();
        let gone: rustc_hash::FxHashSet<EntityId> = self
            .entities
            .iter()
            .enumerate()
            .filter(|(e, _)| !is_reused.contains(&(*e as u32)))
            .map(|(_, k)| k.id.clone())
            .collect();
        let mut next: Vec<Kept> = Vec::with_capacity(reused.len() + folded.len());
        for &e in reused {
            next.push(std::mem::take(&mut self.entities[e as usize]));
        }
        let current = &mut self.current;
        current.records.retain(|r| !gone.contains(&r.entity_id));
        current.links.retain(|l| !gone.contains(&l.entity_id));
        for (kept, record, links) in folded {
            next.push(kept);
            current.records.push(record);
            current.links.extend(links);
        }
        current
            .records
            .sort_by(|a, b| a.entity_id.cmp(&b.entity_id));
        let mut entity_of = vec![NONE; n];
        for (e, k) in next.iter().enumerate() {
            for &m in &k.members {
                entity_of[m as usize] = e as u32;
            }
        }
        self.entities = next;
        self.entity_of = entity_of;
    }
}

/// What changed between the kept records and a new complete set (see [`Resolver::changes`]).
#[derive(Default)]
struct Changes {
    /// New records, and changed ones that take a new place.
    fresh: Vec<Observation>,
    /// For each fresh record, the kept entity it was in before (`NONE` for a new one).
    fresh_previous: Vec<u32>,
    /// Places of gone records and of changed ones that move.
    killed: Vec<usize>,
    /// Places of records changed only in facts matching does not read.
    refold: Vec<bool>,
    /// Each kept place's position in the new complete set (`u32::MAX`: gone or moved), and
    /// each fresh record's.
    kept_pos: Vec<u32>,
    fresh_pos: Vec<u32>,
}

/// Blocking keys touched by an update: records (added, removed) under each.
type Touched = FxHashMap<(bool, u64), (usize, usize)>;

/// The clusters of an update against the kept entities (see [`Resolver::regroup`]).
#[derive(Default)]
struct Groups {
    /// Kept entities that stay as they are.
    reused: Vec<u32>,
    /// Clusters to fold again, by root: their members' places.
    rebuilt: BTreeMap<usize, Vec<usize>>,
    /// The ids of the reused entities.
    taken: HashSet<EntityId>,
}

/// A rebuilt entity: what is kept of it, its master record and its links.
type Folded = (Kept, super::MasterRecord, Vec<Link>);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::resolve;
    use crate::resolve::testing::{id_of, obs};

    fn county() -> Vec<Observation> {
        vec![
            obs(
                "market",
                "1",
                "南安市华兴石材有限公司",
                "91350100M000100Y43",
                "溪美街道新华村88号",
            ),
            obs(
                "tax",
                "1",
                "南安市华兴石材有限公司",
                "91350100M000100Y43",
                "溪美街道新华村88号",
            ),
            obs("exam", "1", "华兴石材有限公司", "", "溪美街道新华村88号"),
            obs(
                "market",
                "2",
                "南安市宏达陶瓷有限公司",
                "91110108551385082Q",
                "官桥镇仁宅村3号",
            ),
            obs("exam", "2", "宏达陶瓷有限公司", "", "官桥镇仁宅村3号"),
            obs(
                "market",
                "3",
                "南安市永盛鞋业有限公司",
                "91440300708461136T",
                "水头镇朴里村9号",
            ),
        ]
    }

    fn partition(r: &Resolution) -> Vec<Vec<(String, String)>> {
        let mut by: BTreeMap<&str, Vec<(String, String)>> = BTreeMap::new();
        for l in &r.links {
            by.entry(&l.entity_id)
                .or_default()
                .push((l.source.clone(), l.record_key.clone()));
        }
        let mut parts: Vec<Vec<(String, String)>> = by
            .into_values()
            .map(|mut v| {
                v.sort();
                v
            })
            .collect();
        parts.sort();
        parts
    }

    #[test]
    fn an_update_agrees_with_a_full_resolution_and_keeps_untouched_ids() {
        let ctx = MatchContext::bare(&["南安市".to_string()]);
        let opts = ResolveOptions::default();
        let first = county();
        let mut resolver = Resolver::build(first.clone(), &PreviousLinks::new(), &ctx, &opts);
        let r1 = resolver.resolution().clone();
        assert_eq!(
            partition(&r1),
            partition(&resolve(&first, &Default::default(), &ctx, &opts))
        );

        // Next month: a new exam record for 永盛, 宏达's exam record is gone, and 华兴's
        // tax record changed its headcount.
        let mut second = first.clone();
        second.remove(4);
        second[1].headcount = Some(40);
        second.push(obs("exam", "3", "永盛鞋业有限公司", "", "水头镇朴里村9号"));
        let (r2, stats) = resolver.update(&second, &ctx, &opts);
        let r2 = r2.clone();
        assert!(!stats.full);
        assert_eq!((stats.changed, stats.added, stats.removed), (1, 1, 1));
        assert_eq!(stats.unchanged, 4);
        let full = resolve(&second, &Default::default(), &ctx, &opts);
        assert_eq!(partition(&r2), partition(&full));
        assert_eq!(id_of(&r2, "market", "3"), id_of(&r1, "market", "3"));
        assert_eq!(id_of(&r2, "market", "2"), id_of(&r1, "market", "2"));
        assert_eq!(id_of(&r2, "tax", "1"), id_of(&r1, "market", "1"));
        assert!(r2
            .links
            .iter()
            .all(|l| l.record_key != "2" || l.source != "exam"));
        let huaxing = r2
            .records
            .iter()
            .find(|m| m.entity_id == id_of(&r1, "market", "1"))
            .expect("华兴 is still there");
        assert_eq!(
            huaxing.headcount,
            Some(40),
            "the changed record is folded in"
        );

        // Each source's records come back as the update was given them, in its order.
        for source in ["market", "tax", "exam"] {
            let given: Vec<&Observation> = second.iter().filter(|o| o.source == source).collect();
            let kept = resolver.observations_of(source);
            assert_eq!(kept.iter().collect::<Vec<_>>(), given, "{source}");
        }

        // The same input again changes nothing and reuses every entity.
        let (r3, stats) = resolver.update(&second, &ctx, &opts);
        assert_eq!(stats.rescored, 0);
        assert_eq!(stats.entities_rebuilt, 0);
        let sorted = |r: &Resolution| {
            let mut l = r.links.clone();
            l.sort_by(|a, b| (&a.source, &a.record_key).cmp(&(&b.source, &b.record_key)));
            l
        };
        assert_eq!(sorted(r3), sorted(&r2));
    }
}
