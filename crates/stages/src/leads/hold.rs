//! Where a lead goes: a township's list, the county's 待核实 list (an unsure match, or not in
//! any register when that is required), or another county's referral list (外县线索移交).

use std::collections::HashMap;

use crate::resolve::{Link, MasterRecord, PairEvidence};
use crate::screen::scope::Scope;

/// The list a lead belongs on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// Its township's list (or the county's list of unplaced leads).
    Township,
    /// The county's 待核实 list, with why (Chinese); not handed to a township.
    Pending(String),
    /// Another county's referral list.
    Referral {
        code: String,
        name: String,
        basis: String,
    },
}

/// An undecided review pair between one entity's record and another entity's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsure {
    /// The other entity.
    pub partner: String,
    /// `与“X”（exam）可能为同一单位，匹配概率94.7%`, for the county operator.
    pub note: String,
}

/// For each entity, its undecided review pairs with records of other entities.
pub fn unsure_matches(review: &[PairEvidence], links: &[Link]) -> HashMap<String, Vec<Unsure>> {
    let entity_of: HashMap<(&str, &str), &str> = links
        .iter()
        .map(|l| {
            (
                (l.source.as_str(), l.record_key.as_str()),
                l.entity_id.as_str(),
            )
        })
        .collect();
    let mut out: HashMap<String, Vec<Unsure>> = HashMap::new();
    for p in review {
        let a = entity_of.get(&(p.source.as_str(), p.record_key.as_str()));
        let b = entity_of.get(&(p.other_source.as_str(), p.other_key.as_str()));
        let (Some(a), Some(b)) = (a, b) else { continue };
        if a == b {
            continue;
        }
        let pct = p.probability * 100.0;
        // Each side learns who the other is.
        for (entity, partner, name, source) in [
            (a, b, &p.other_name, &p.other_source),
            (b, a, &p.name, &p.source),
        ] {
            out.entry(entity.to_string()).or_default().push(Unsure {
                partner: partner.to_string(),
                note: format!("与“{name}”（{source}）可能为同一单位，匹配概率{pct:.1}%"),
            });
        }
    }
    out
}

/// Where the leads of one employer go. An employer in none of this county's registers whose
/// tie to another is an unsure match waits for the operator's decision (`yingbao review`)
/// when that other one `covers` it — has filed, is a lead itself, or no longer operates —
/// for then it may be that employer, filed, listed or closed already. When the other one is
/// an operating employer with no lead of its own, a visit is due whichever way the decision
/// goes, and the lead is listed.
pub fn destination(
    m: &MasterRecord,
    scope: &Scope,
    unsure: Option<&Vec<Unsure>>,
    covers: impl Fn(&str) -> bool,
) -> Destination {
    match scope {
        Scope::OtherCounty { code, name, basis } => Destination::Referral {
            code: code.clone(),
            name: name.clone(),
            basis: basis.clone(),
        },
        Scope::Unregistered => {
            Destination::Pending("本县登记、税务、统计名录中均无此单位，待县级核实".to_string())
        }
        Scope::Local => match unsure {
            Some(pairs) if !m.has_registry_record() => {
                let notes: Vec<&str> = pairs.iter().map(|u| u.note.as_str()).collect();
                if pairs.iter().any(|u| covers(&u.partner)) {
                    Destination::Pending(format!(
                        "匹配存疑，待县级在“待核实”中确认：{}",
                        notes.join("；")
                    ))
                } else {
                    Destination::Township
                }
            }
            _ => Destination::Township,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Feed;

    fn link(source: &str, key: &str, entity: &str) -> Link {
        Link::seed(source, key, entity)
    }

    fn pair(a: (&str, &str, &str), b: (&str, &str, &str), p: f64) -> PairEvidence {
        PairEvidence {
            source: a.0.into(),
            record_key: a.1.into(),
            name: a.2.into(),
            other_source: b.0.into(),
            other_key: b.1.into(),
            other_name: b.2.into(),
            prior: 0.0,
            fields: Vec::new(),
            weight: 0.0,
            probability: p,
        }
    }

    /// Cause 4 of the trusted-leads issue: an exam record held in review against a filed
    /// employer formed an entity of its own and went out as 未申报.
    #[test]
    fn an_unsure_match_without_a_register_record_waits_for_the_county() {
        let links = vec![
            link("exam", "x1", "E2"),
            link("market", "m1", "E1"),
            link("declaration", "d1", "E1"),
        ];
        let review = vec![pair(
            ("exam", "x1", "南安市新恒化工股份有限公司"),
            ("market", "m1", "南安市新恒化工股份有限公司"),
            0.947,
        )];
        let unsure = unsure_matches(&review, &links);
        let exam_only = MasterRecord {
            entity_id: "E2".into(),
            feeds: vec![Feed::Exam],
            ..Default::default()
        };
        let filed = |e: &str| e == "E1";
        match destination(&exam_only, &Scope::Local, unsure.get("E2"), filed) {
            Destination::Pending(why) => {
                assert!(why.contains("94.7%") && why.contains("新恒化工"), "{why}")
            }
            other => panic!("expected pending, got {other:?}"),
        }
        // The registered side of the pair is a registered employer: its own leads stand.
        let registered = MasterRecord {
            entity_id: "E1".into(),
            feeds: vec![Feed::Market, Feed::Declaration],
            ..Default::default()
        };
        assert!(unsure.contains_key("E1"));
        assert_eq!(
            destination(&registered, &Scope::Local, unsure.get("E1"), filed),
            Destination::Township
        );
        // No unsure match: the township's.
        assert_eq!(
            destination(&exam_only, &Scope::Local, None, filed),
            Destination::Township
        );
        // The partner has not filed and is no lead: a visit is due either way.
        assert_eq!(
            destination(&exam_only, &Scope::Local, unsure.get("E2"), |_| false),
            Destination::Township
        );
        // A pair inside one entity says nothing.
        let same = unsure_matches(
            &review,
            &[link("exam", "x1", "E1"), link("market", "m1", "E1")],
        );
        assert!(same.is_empty());
    }
}
