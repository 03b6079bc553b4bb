//! Canonical observations as a flat CSV (identity fields only), for benchmarks against other
//! record-linkage tools and for `yingbao resolve-csv`. Not a feed format.

use std::io::{Read, Write};

use crate::domain::{Feed, IndustryCode, Observation, Uscc};

/// Columns, in order. `uscc_valid` is informative; reading re-checks the code.
pub const COLUMNS: [&str; 11] = [
    "source",
    "record_key",
    "feed",
    "name",
    "uscc",
    "uscc_valid",
    "tax_id",
    "address",
    "industry_code",
    "legal_rep",
    "region_code",
];

pub fn write<W: Write>(w: W, observations: &[Observation]) -> Result<(), csv::Error> {
    let mut out = csv::Writer::from_writer(w);
    out.write_record(COLUMNS)?;
    for o in observations {
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        out.write_record([
            o.source.clone(),
            o.record_key.clone(),
            o.feed.as_str().to_string(),
            s(&o.name),
            o.uscc
                .as_ref()
                .map(|u| u.as_str().to_string())
                .unwrap_or_default(),
            o.uscc
                .as_ref()
                .map(|u| u.is_valid().to_string())
                .unwrap_or_default(),
            s(&o.tax_id),
            s(&o.address),
            o.industry_code
                .as_ref()
                .map(|c| c.to_string())
                .unwrap_or_default(),
            s(&o.legal_rep),
            s(&o.region_code),
        ])?;
    }
    out.flush()?;
    Ok(())
}

pub fn read<R: Read>(r: R) -> Result<Vec<Observation>, csv::Error> {
    let mut input = csv::Reader::from_reader(r);
    let mut out = Vec::new();
    for rec in input.records() {
        let rec = rec?;
        let get = |i: usize| {
            rec.get(i)
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        out.push(Observation {
            source: get(0).unwrap_or_default(),
            record_key: get(1).unwrap_or_default(),
            feed: get(2).and_then(|f| f.parse().ok()).unwrap_or(Feed::Other),
            name: get(3),
            uscc: get(4).and_then(|u| Uscc::parse(&u)),
            tax_id: get(6),
            address: get(7),
            industry_code: get(8).and_then(|c| IndustryCode::parse(&c)),
            legal_rep: get(9),
            region_code: get(10),
            ..Default::default()
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_identity_fields() {
        let o = Observation {
            source: "tax".into(),
            record_key: "k1".into(),
            feed: Feed::Tax,
            name: Some("华兴（南安）石材有限公司".into()),
            uscc: Uscc::parse("91350100M000100Y43"),
            address: Some("福建省南安市官桥镇, 内厝村".into()),
            industry_code: IndustryCode::parse("C3032"),
            ..Default::default()
        };
        let mut buf = Vec::new();
        write(&mut buf, std::slice::from_ref(&o)).expect("write");
        let back = read(buf.as_slice()).expect("read");
        assert_eq!(back, vec![o]);
    }
}
