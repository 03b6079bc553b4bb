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
