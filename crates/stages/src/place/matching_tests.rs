//! Tests of matching with a real `Locator` answering resolve's place lookups: the county and
//! township a typed name or address gives, and what that does to the name comparison.

use crate::domain::Observation;
use crate::place::gazetteer::OtherCounty;
use crate::place::{Gazetteer, Locator, Township};
use crate::resolve::compare;
use crate::resolve::features::{features, MatchContext};

/// A name that names another county carries that county, for matching against local
/// namesakes; a local name carries none.
#[test]
fn a_name_of_another_county_is_marked() {
    let g = Gazetteer::new(
        "350583",
        vec![Township {
            code: "350583118".into(),
            name: "官桥镇".into(),
        }],
        Vec::new(),
        Vec::new(),
    )
    .with_counties(
        "南安市",
        ["福建省", "泉州市", "南安市"].map(String::from).to_vec(),
        vec![OtherCounty {
            code: "350582".into(),
            name: "晋江市".into(),
            city_code: "3505".into(),
            city_name: "泉州市".into(),
        }],
    );
    let loc = Locator::new(&g);
    let ctx = MatchContext {
        region_words: vec!["南安市".into()],
        place_words: vec!["官桥镇".into()],
        locator: Some(&loc),
    };
    let named = |name: &str| {
        let o = Observation {
            name: Some(name.into()),
            ..Default::default()
        };
        features(&o, &ctx, &ctx.prefixes()).name_county
    };
    assert_eq!(named("晋江市成裕木业有限公司").as_deref(), Some("350582"));
    assert_eq!(named("南安市成裕木业有限公司"), None);
    assert_eq!(named("成裕木业有限公司"), None);
}

/// A sole trader's township typed into its name places the record for matching.
#[test]
fn a_township_in_the_name_places_a_record_without_an_address() {
    let g = Gazetteer::new(
        "130981",
        vec![
            Township {
                code: "130981001".into(),
                name: "河东街道".into(),
            },
            Township {
                code: "130981100".into(),
                name: "交河镇".into(),
            },
        ],
        Vec::new(),
        Vec::new(),
    );
    let loc = Locator::new(&g);
    let ctx = MatchContext {
        region_words: vec!["泊头市".into()],
        place_words: vec!["河东街道".into(), "交河镇".into()],
        locator: Some(&loc),
    };
    let o = Observation {
        name: Some("泊头市河东街道铭华汽修厂".into()),
        ..Default::default()
    };
    let f = features(&o, &ctx, &ctx.prefixes());
    assert_eq!(f.township.as_deref(), Some("130981001"));
    // The namesake with an address in 交河镇 is then a different place.
    let other = Observation {
        name: Some("泊头市铭华汽修厂".into()),
        address: Some("泊头市交河镇新华街3号".into()),
        ..Default::default()
    };
    let g = features(&other, &ctx, &ctx.prefixes());
    assert_eq!(g.township.as_deref(), Some("130981100"));
    let gamma = compare::compare(&f, &g);
    assert_eq!(
        gamma[compare::Field::Address.index()],
        Some(3),
        "different place"
    );
    // The township typed into the name contradicts the namesake's place: not the same name.
    assert_eq!(
        gamma[compare::Field::Name.index()],
        Some(compare::NAME_UNCORROBORATED)
    );
    // Two names typed with two townships are two names.
    let there = Observation {
        name: Some("泊头市交河镇铭华汽修厂".into()),
        ..Default::default()
    };
    let h = features(&there, &ctx, &ctx.prefixes());
    let gamma = compare::compare(&f, &h);
    assert_eq!(
        gamma[compare::Field::Name.index()],
        Some(compare::NAME_DIFFERENT)
    );
    // The same township typed and addressed: the same name still.
    let here = Observation {
        name: Some("泊头市铭华汽修厂".into()),
        address: Some("泊头市河东街道新华街3号".into()),
        ..Default::default()
    };
    let k = features(&here, &ctx, &ctx.prefixes());
    assert_eq!(
        compare::compare(&f, &k)[compare::Field::Name.index()],
        Some(compare::NAME_EXACT)
    );
}
