//! Linking two lists (an ad-hoc list against the master list, or any two files) with the same
//! engine: for each left record, its best right record, the decision and the evidence.

use serde::Serialize;

use super::compare::{self, Gamma};
use super::features::{features, Features, MatchContext};
use super::model::Model;
use super::{blocking, PairEvidence, Thresholds};
use crate::domain::Observation;

/// What linking concluded for one left record.
#[derive(Debug, Clone, Serialize)]
pub struct LinkResult {
    pub left_key: String,
    /// `match`, `review` or `no_match`.
    pub decision: &'static str,
    /// The best right record and the evidence, when there was any candidate.
    pub best: Option<PairEvidence>,
}

/// Links every `left` record to its best `right` record.
pub fn link(
    left: &[Observation],
    right: &[Observation],
    ctx: &MatchContext<'_>,
    thresholds: &Thresholds,
) -> Vec<LinkResult> {
    let prefixes = ctx.prefixes();
    let feats: Vec<Features> = right
        .iter()
        .chain(left)
        .map(|o| features(o, ctx, &prefixes))
        .collect();
    let r = right.len();
    let queries: Vec<usize> = (r..feats.len()).collect();
    let blocker = blocking::Blocker::new(&feats, &queries);
    let mut pairs: Vec<(usize, usize, Gamma)> = Vec::new();
    let mut known_match = Vec::new();
    for &i in &queries {
        for j in blocker.candidates(i, &feats[i]) {
            let j = j as usize;
            if j < r {
                let g = compare::compare(&feats[i], &feats[j]);
                if feats[i].code_valid && feats[i].code == feats[j].code {
                    known_match.push(g);
                }
                pairs.push((i, j, g));
            }
        }
    }
    // u from spread left × right pairs: almost all of them are different employers.
    let mut non_match = Vec::new();
    if r > 0 && !left.is_empty() {
        let total = 50_000.min(r * left.len());
        for k in 0..total {
            let i = r + (k * 7919) % left.len();
            let j = (k * 104_729) % r;
            non_match.push(compare::compare(&feats[i], &feats[j]));
        }
    }
    let gammas: Vec<Gamma> = pairs.iter().map(|p| p.2).collect();
    // EM needs enough pairs to find the two classes; a short list gets the agreement prior and
    // "about one true match per left record" as its prior share.
    let model = if gammas.len() >= 1000 {
        Model::estimate(&gammas, &non_match, &known_match)
    } else {
        Model::without_em(
            &non_match,
            &known_match,
            left.len() as f64 / gammas.len().max(1) as f64,
        )
    };
    let mut best: Vec<Option<(usize, f64, PairEvidence)>> = vec![None; left.len()];
    // Name frequencies on the right (a common trade name agrees by chance more often).
    let mut cores: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for f in &feats[..r] {
        if let Some(n) = &f.name {
            *cores.entry(n.core.as_str()).or_default() += 1;
        }
    }
    for (i, j, g) in &pairs {
        let tf = feats[*i]
            .name
            .as_ref()
            .and_then(|n| cores.get(n.core.as_str()))
            .map(|&c| c as f64 / r as f64);
        let fields = model.weights(g, tf);
        let (weight, probability) = model.score(&fields);
        let slot = &mut best[i - r];
        if slot.as_ref().is_none_or(|b| weight > b.1) {
            let (a, b) = (&left[i - r], &right[*j]);
            *slot = Some((
                *j,
                weight,
                PairEvidence::new(a, b, model.prior_weight(), fields, weight, probability),
            ));
        }
    }
    left.iter()
        .zip(best)
        .map(|(o, b)| {
            let decision = match &b {
                Some((_, _, e)) if e.probability >= thresholds.merge_probability => "match",
                Some((_, _, e)) if e.probability >= thresholds.review_probability => "review",
                _ => "no_match",
            };
            LinkResult {
                left_key: o.record_key.clone(),
                decision,
                best: b.map(|(_, _, e)| e),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Feed, Uscc};

    fn obs(
        source: &str,
        key: &str,
        name: &str,
        uscc: Option<&str>,
        address: Option<&str>,
    ) -> Observation {
        Observation {
            source: source.into(),
            feed: Feed::Other,
            record_key: key.into(),
            name: Some(name.into()),
            uscc: uscc.and_then(Uscc::parse),
            address: address.map(str::to_string),
            ..Default::default()
        }
    }

    #[test]
    fn ad_hoc_list_finds_its_employers_and_not_the_look_alikes() {
        let ctx = MatchContext::bare(&["南安市".to_string(), "南安".to_string()]);
        let mut right = Vec::new();
        let trades = [
            "华兴", "宏达", "金泉", "永盛", "鑫源", "振光", "联发", "瑞丰", "恒达", "建丰", "天成",
            "福源", "顺发", "万利", "嘉华", "信和", "安泰", "东方", "南星", "海峰",
        ];
        let kinds = [
            "石材", "陶瓷", "铸造", "鞋业", "水暖", "机械", "建材", "服装", "食品", "五金", "电镀",
            "化工", "家具", "塑料", "纸业", "包装", "印刷", "玻璃", "电子", "卫浴",
        ];
        for (i, t) in trades.iter().enumerate() {
            for (k, kind) in kinds.iter().enumerate() {
                right.push(obs(
                    "master",
                    &format!("E{i}{k}"),
                    &format!("南安市{t}{kind}有限公司"),
                    None,
                    Some(&format!("南安市官桥镇{}路{}号", t, i * 100 + k)),
                ));
            }
        }
        let left = vec![
            obs(
                "tips",
                "1",
                "华兴（南安）石材有限责任公司",
                None,
                Some("南安市官桥镇华兴路0号"),
            ),
            obs(
                "tips",
                "2",
                "南安市振光铸造有限公司",
                None,
                Some("南安市官桥镇振光路502号"),
            ),
            obs("tips", "3", "南安市完全不同食品有限公司", None, None),
        ];
        let out = link(&left, &right, &ctx, &Thresholds::default());
        assert_eq!(out.len(), 3);
        assert_eq!(out[0].decision, "match", "{:?}", out[0]);
        assert_eq!(
            out[0].best.as_ref().map(|e| e.other_key.as_str()),
            Some("E00")
        );
        assert_eq!(out[1].decision, "match", "{:?}", out[1]);
        assert_eq!(
            out[1].best.as_ref().map(|e| e.other_key.as_str()),
            Some("E52")
        );
        assert_eq!(out[2].decision, "no_match");
    }
}
