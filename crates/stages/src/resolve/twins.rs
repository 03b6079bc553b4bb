//! Sound twins: registered employers whose names sound the same (`聚宏鞋材`, `聚鸿鞋材`). A
//! record that only its name ties to one of them may be the other, typed by ear: unsure.

use rustc_hash::FxHashMap;

use super::compare::{self, Field};
use super::features::Features;
use super::model::{FieldWeight, Model};
use super::unionfind::Clusters;
use super::{Best, Decided, NameFrequencies};

/// Records with a valid USCC by the sound (pinyin) of their name core.
pub(crate) struct SoundIndex {
    by_sound: FxHashMap<String, Vec<u32>>,
}

/// What a rival is scored with.
pub(crate) struct Scoring<'a> {
    pub feats: &'a [Features],
    pub model: &'a Model,
    pub name_tf: &'a NameFrequencies,
    pub decided: &'a Decided,
}

impl SoundIndex {
    /// Indexes every live record that carries a valid USCC and a name.
    pub fn new(feats: &[Features], alive: &[bool]) -> SoundIndex {
        let mut by_sound: FxHashMap<String, Vec<u32>> = FxHashMap::default();
        for (i, f) in feats.iter().enumerate() {
            if !alive.get(i).copied().unwrap_or(false) || !f.code_valid {
                continue;
            }
            if let Some(n) = f.name.as_ref().filter(|n| !n.phonetic.is_empty()) {
                by_sound
                    .entry(n.phonetic.clone())
                    .or_default()
                    .push(i as u32);
            }
        }
        SoundIndex { by_sound }
    }

    /// For floating record `i` whose best candidate `top` rests on the name alone: the best
    /// registered record of another employer whose name sounds like `i`'s, is as close to it
    /// as `top`'s, and that nothing contradicts. `None` when `top` has other evidence, or no
    /// such twin exists.
    pub fn rival(&self, i: usize, top: &Best, s: &Scoring<'_>, uf: &mut Clusters) -> Option<Best> {
        if !name_alone(&top.fields) {
            return None;
        }
        let f = &s.feats[i];
        let sound = f.name.as_ref()?.phonetic.as_str();
        let top_root = uf.find(top.j as usize);
        let me = uf.find(i);
        // Already with its best candidate, or with another registered employer (an operator
        // said so): nothing is unsure.
        if me == top_root || !uf.could_join(i, top.j as usize) {
            return None;
        }
        let top_level = name_level(&top.fields);
        let mut out: Option<Best> = None;
        for &j in self.by_sound.get(sound)? {
            let ju = j as usize;
            if ju == i || j == top.j || uf.find(ju) == top_root {
                continue;
            }
            // Already with this twin (an operator said so): nothing is unsure.
            if uf.find(ju) == me {
                return None;
            }
            let g = &s.feats[ju];
            if s.decided.kept_apart(i, ju) || f.lives_apart(g) {
                continue;
            }
            let fields = s.model.weights(&compare::compare(f, g), s.name_tf.of(f));
            // Another place, another industry, a name that differs beyond its sound, or one
            // less close than the best candidate's: the name can tell them apart.
            if fields.iter().any(|w| w.weight < 0.0) || name_level(&fields) > top_level {
                continue;
            }
            let (weight, probability) = s.model.score(&fields);
            let alike = compare::likeness(f, g);
            if out.as_ref().is_none_or(|b| b.beaten_by(j, weight, alike)) {
                out = Some(Best {
                    j,
                    fields,
                    weight,
                    probability,
                    alike,
                });
            }
        }
        out
    }
}

/// The name's comparison level (`u8::MAX` when missing).
fn name_level(fields: &[FieldWeight]) -> u8 {
    fields
        .iter()
        .find(|w| w.field == Field::Name)
        .and_then(|w| w.level)
        .unwrap_or(u8::MAX)
}

/// Whether the name is the only field both records give.
fn name_alone(fields: &[FieldWeight]) -> bool {
    fields
        .iter()
        .all(|w| w.field == Field::Name || w.level.is_none())
        && fields
            .iter()
            .any(|w| w.field == Field::Name && w.level.is_some())
}

#[cfg(test)]
mod tests {
    use crate::domain::Observation;
    use crate::resolve::testing::{id_of as entity, obs};
    use crate::resolve::{resolve, MatchContext, ResolveOptions};

    fn code(k: usize) -> String {
        let first17 = format!("91350583MA{k:07}");
        let check = crate::domain::uscc::check_char(&first17).expect("charset");
        format!("{first17}{check}")
    }

    /// Forty employers each in the register and in the exam feed (the exam record by name
    /// alone, as clinics write them), so that the model learns what a name is worth; then
    /// the cases under test.
    fn county(exam_address: &str) -> Vec<Observation> {
        let trades = [
            "华兴", "宏达", "永盛", "嘉禾", "恒泰", "源丰", "顺昌", "隆基", "福瑞", "祥和", "安康",
            "金达", "天成", "东升", "南星", "西岭", "北辰", "中联", "海峰", "山川",
        ];
        let industries = ["石材", "陶瓷"];
        let mut out = Vec::new();
        for (k, (t, i)) in trades
            .iter()
            .flat_map(|t| industries.iter().map(move |i| (t, i)))
            .enumerate()
        {
            let name = format!("南安市{t}{i}有限公司");
            let key = format!("m{k}");
            out.push(obs(
                "market",
                &key,
                &name,
                &code(k),
                &format!("溪美街道{k}号"),
            ));
            out.push(obs("exam", &key, &format!("{t}{i}有限公司"), "", ""));
        }
        out.extend([
            // One name registered twice (reused after the first closed, or two townships).
            obs(
                "market",
                "A",
                "南安市万宏石材工艺有限公司",
                &code(101),
                "溪美街道新华村88号",
            ),
            obs(
                "market",
                "B",
                "南安市万宏石材工艺有限公司",
                &code(102),
                "官桥镇仁宅村3号",
            ),
            obs("exam", "1", "万宏石材工艺有限公司", "", exam_address),
            // A look-alike pair: only one of them is written as the exam record is.
            obs(
                "market",
                "C",
                "南安市聚宏鞋材有限公司",
                &code(103),
                "水头镇朴里村9号",
            ),
            obs(
                "market",
                "D",
                "南安市聚鸿鞋材有限公司",
                &code(104),
                "水头镇朴里村19号",
            ),
            obs("exam", "2", "聚宏鞋材有限公司", "", ""),
        ]);
        out
    }

    /// An exam record named like two registered employers, and nothing else to tell: it
    /// joined whichever came first (a lead could then rest on another employer's exams).
    /// Now it joins neither and both pairs wait for the operator.
    #[test]
    fn a_name_alone_as_close_to_two_registered_employers_joins_neither() {
        let ctx = MatchContext::bare(&["南安市".to_string()]);
        let opts = ResolveOptions::default();
        let r = resolve(&county(""), &Default::default(), &ctx, &opts);
        let exam = entity(&r, "exam", "1");
        assert_ne!(exam, entity(&r, "market", "A"));
        assert_ne!(exam, entity(&r, "market", "B"));
        let partners: Vec<&str> = r
            .review
            .iter()
            .filter(|p| p.source == "exam" && p.record_key == "1")
            .map(|p| p.other_key.as_str())
            .collect();
        assert_eq!(partners.len(), 2, "{partners:?}");
        assert!(partners.contains(&"A") && partners.contains(&"B"));
        assert_eq!(r.stats.sound_twins, 1);
        // A name written exactly as one of two look-alikes points to that one only: the
        // other merely sounds alike, which the name itself tells apart.
        let scored: Vec<&str> = r
            .review
            .iter()
            .chain(&r.merges)
            .filter(|p| p.source == "exam" && p.record_key == "2")
            .map(|p| p.other_key.as_str())
            .collect();
        assert_eq!(scored, ["C"]);
        assert_ne!(entity(&r, "exam", "2"), entity(&r, "market", "D"));
    }

    /// Anything beside the name that agrees settles it.
    #[test]
    fn other_evidence_settles_a_name_registered_twice() {
        let ctx = MatchContext::bare(&["南安市".to_string()]);
        let opts = ResolveOptions::default();
        let r = resolve(
            &county("溪美街道新华村88号"),
            &Default::default(),
            &ctx,
            &opts,
        );
        assert_eq!(entity(&r, "exam", "1"), entity(&r, "market", "A"));
        assert_eq!(r.stats.sound_twins, 0);
    }
    /// An operator's "same" ends the doubt: the record stays with the employer chosen and
    /// neither pair waits in review again.
    #[test]
    fn an_operators_decision_ends_the_doubt() {
        let ctx = MatchContext::bare(&["南安市".to_string()]);
        let opts = ResolveOptions {
            overrides: vec![crate::resolve::Override {
                a: ("exam".into(), "1".into()),
                b: ("market".into(), "B".into()),
                same: true,
            }],
            ..Default::default()
        };
        let r = resolve(&county(""), &Default::default(), &ctx, &opts);
        assert_eq!(entity(&r, "exam", "1"), entity(&r, "market", "B"));
        assert!(!r.review.iter().any(|p| p.record_key == "1"));
        assert_eq!(r.stats.sound_twins, 0);
    }
}
