//! County scope: is an employer this county's to chase? A record of another county (named
//! there, or with a code issued there, and in none of this county's registers) is referred.

use serde::{Deserialize, Serialize};

use crate::place::Locator;
use crate::resolve::master::MasterRecord;

/// Where an employer belongs, as far as this county can tell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "scope", rename_all = "snake_case")]
pub enum Scope {
    /// This county's: in one of its registers, or nothing says otherwise.
    Local,
    /// Another county's: never a lead or a placement here; referred to that county.
    OtherCounty {
        code: String,
        name: String,
        /// Why, for the county operator (Chinese).
        basis: String,
    },
    /// In none of this county's registers, and `[policy] require_registry` is set: held at
    /// the county level for a person to check.
    Unregistered,
}

impl Scope {
    pub fn is_local(&self) -> bool {
        matches!(self, Scope::Local)
    }
}

/// Judges one employer. A record in this county's market, tax or statistics register is
/// local whatever its name says (moved-in employers keep their codes); otherwise a USCC
/// issued by another county's authority, or a name or address naming another county, makes
/// it that county's.
pub fn judge(m: &MasterRecord, locator: &Locator, require_registry: bool) -> Scope {
    if m.has_registry_record() {
        return Scope::Local;
    }
    if let Some(c) = m
        .uscc
        .as_ref()
        .and_then(|u| locator.foreign_region(u.as_str()))
    {
        return Scope::OtherCounty {
            code: c.code.clone(),
            name: c.name.clone(),
            basis: format!(
                "统一社会信用代码由{}登记机关核发，本县登记、税务、统计名录中均无此单位",
                c.name
            ),
        };
    }
    if let Some(c) = locator.foreign_county(&m.name) {
        return Scope::OtherCounty {
            code: c.code.clone(),
            name: c.name.clone(),
            basis: format!(
                "单位名称冠以{}，本县登记、税务、统计名录中均无此单位",
                c.name
            ),
        };
    }
    if let Some(c) = m.addresses.iter().find_map(|a| locator.foreign_county(a)) {
        return Scope::OtherCounty {
            code: c.code.clone(),
            name: c.name.clone(),
            basis: format!("地址位于{}，本县登记、税务、统计名录中均无此单位", c.name),
        };
    }
    if require_registry {
        Scope::Unregistered
    } else {
        Scope::Local
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Feed, Uscc};

    /// The bundled county's gazetteer, with every other county of the country.
    fn locator() -> Locator {
        let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
            .join("config/gazetteer");
        let g = crate::place::Gazetteer::load(
            "350583",
            &dir.join("350583_townships.csv"),
            &dir.join("350583_villages.csv"),
            Some(&dir.join("aliases.csv")),
        )
        .expect("gazetteer");
        let (others, own) =
            crate::place::Gazetteer::load_counties("350583", &dir.join("counties.csv"))
                .expect("counties");
        let mut words = vec!["福建省".to_string(), "南安市".to_string()];
        words.extend(own.map(|o| o.city_name));
        Locator::new(&g.with_counties("南安市", words, others))
    }

    fn exam_only(name: &str) -> MasterRecord {
        MasterRecord {
            entity_id: "E1".into(),
            name: name.into(),
            feeds: vec![Feed::Exam],
            ..Default::default()
        }
    }

    /// A valid USCC issued by the authority of county `region`.
    fn uscc_of(region: &str) -> Uscc {
        let body = format!("91{region}MA2XY812");
        let org = body[8..].to_string();
        let first17 = format!(
            "{body}{}",
            crate::domain::uscc::org_check_char(&org).expect("org")
        );
        let code = format!(
            "{first17}{}",
            crate::domain::uscc::check_char(&first17).expect("check")
        );
        let u = Uscc::parse(&code).expect("uscc");
        assert!(u.is_valid(), "{code}");
        u
    }

    /// Cause 1 of the trusted-leads issue: clinics' and labs' records of employers in other
    /// counties became leads here.
    #[test]
    fn another_countys_records_are_referred_never_local() {
        let l = locator();
        let named = judge(&exam_only("晋江市瑞力锻压有限公司"), &l, false);
        assert!(
            matches!(&named, Scope::OtherCounty { name, .. } if name == "晋江市"),
            "{named:?}"
        );
        let mut m = exam_only("瑞力锻压有限公司");
        m.addresses = vec!["河北省沧州市献县和平路18号".into()];
        let addressed = judge(&m, &l, false);
        assert!(
            matches!(&addressed, Scope::OtherCounty { name, .. } if name == "献县"),
            "{addressed:?}"
        );
        let mut m = exam_only("瑞力锻压有限公司");
        m.uscc = Some(uscc_of("130929"));
        let coded = judge(&m, &l, false);
        assert!(
            matches!(&coded, Scope::OtherCounty { code, .. } if code == "130929"),
            "{coded:?}"
        );
        // In this county's register it is this county's, whatever its name says (moved in).
        let mut m = exam_only("晋江市瑞力锻压有限公司");
        m.feeds = vec![Feed::Market, Feed::Exam];
        assert_eq!(judge(&m, &l, false), Scope::Local);
        // A local name is local; in no register it waits when a register record is required.
        let local = exam_only("南安市瑞力锻压有限公司");
        assert_eq!(judge(&local, &l, false), Scope::Local);
        assert_eq!(judge(&local, &l, true), Scope::Unregistered);
        let mut ours = exam_only("瑞力锻压有限公司");
        ours.uscc = Some(uscc_of("350583"));
        assert_eq!(judge(&ours, &l, false), Scope::Local);
    }
}
