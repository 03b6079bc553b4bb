//! Human-readable explanations of scored pairs: a waterfall of per-field match weights that an
//! operator can check against the records ("name +12.8, address −2.6 …"). Pure formatting.

use std::fmt::Write;

use super::compare::Field;
use super::model::probability;
use super::PairEvidence;

/// The level's description, or `missing`.
fn level_text(field: Field, level: Option<u8>) -> &'static str {
    match level {
        None => "missing on one side",
        Some(l) => field.levels().get(l as usize).copied().unwrap_or("?"),
    }
}

/// A waterfall for one pair.
pub fn waterfall(e: &PairEvidence) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "  {}:{}  {}", e.source, e.record_key, e.name);
    let _ = writeln!(
        out,
        "  {}:{}  {}",
        e.other_source, e.other_key, e.other_name
    );
    let _ = writeln!(
        out,
        "    {:<12} {:<48} {:>8.2}",
        "prior", "share of matches among compared pairs", e.prior
    );
    let mut running = e.prior;
    for f in &e.fields {
        running += f.weight;
        let _ = writeln!(
            out,
            "    {:<12} {:<48} {:>+8.2}   ({:+.2})",
            f.field.as_str(),
            level_text(f.field, f.level),
            f.weight,
            running
        );
    }
    let _ = writeln!(
        out,
        "    {:<12} {:<48} {:>+8.2}   = {:.1}% likely the same employer",
        "total",
        "",
        e.weight,
        probability(e.weight) * 100.0
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::model::FieldWeight;

    #[test]
    fn waterfall_adds_up_and_names_levels() {
        let e = PairEvidence {
            source: "exam".into(),
            record_key: "k".into(),
            name: "南安市仁泉涂料".into(),
            other_source: "market".into(),
            other_key: "m".into(),
            other_name: "南安市仁泉涂料有限公司".into(),
            prior: -3.0,
            fields: vec![
                FieldWeight {
                    field: Field::Name,
                    level: Some(1),
                    weight: 12.5,
                },
                FieldWeight {
                    field: Field::Address,
                    level: Some(3),
                    weight: -2.5,
                },
                FieldWeight {
                    field: Field::Industry,
                    level: None,
                    weight: 0.0,
                },
            ],
            weight: 7.0,
            probability: probability(7.0),
        };
        let text = waterfall(&e);
        assert!(text.contains("same trade name and industry words, one form missing"));
        assert!(text.contains("different place"));
        assert!(text.contains("missing on one side"));
        assert!(text.contains("(+9.50)"), "{text}");
        assert!(text.contains("(+7.00)"), "{text}");
        assert!(text.contains("99.2% likely"), "{text}");
    }
}
