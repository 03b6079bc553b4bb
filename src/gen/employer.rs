//! One synthetic employer's true facts: identity, place, size, life cycle, filings, evidence.
//! Plain data plus the rules that derive truth columns (operating, filing status) from it.

use chrono::{Months, NaiveDate};

use super::address::Address;
use super::names::NameParts;

/// Why the employer is in the population (truth column `kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Normal,
    /// One of a pair whose names differ by one character.
    HardNegative,
    /// A branch (分公司) with its own USCC.
    Branch,
    /// A 个体工商户.
    Individual,
    /// Renamed: some feeds still carry the old name.
    Renamed,
    /// Another county's employer, seen only in exam and testing records.
    OutOfCounty,
    /// 存续 and tax 正常, but no tax return for more than a year: not operating.
    Dormant,
    /// Carries a 注销 old 15-character tax record beside its current USCC one.
    Superseded,
    /// Deregistered years ago; a new company later registered its name.
    NameReusedOld,
    /// Registered a deregistered company's name.
    NameReusedNew,
    /// One of two 个体工商户 of one name in two townships.
    SameNameIndividual,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Normal => "normal",
            Kind::HardNegative => "hard_negative",
            Kind::Branch => "branch",
            Kind::Individual => "individual",
            Kind::Renamed => "renamed",
            Kind::OutOfCounty => "out_of_county",
            Kind::Dormant => "dormant",
            Kind::Superseded => "superseded_tax",
            Kind::NameReusedOld => "name_reused_old",
            Kind::NameReusedNew => "name_reused_new",
            Kind::SameNameIndividual => "same_name_individual",
        }
    }
}

/// 登记状态 in the market register.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registry {
    /// 存续 or 在业.
    Active(&'static str),
    /// 停业 or 歇业.
    Suspended(&'static str),
    /// 吊销，未注销.
    Revoked,
    /// 注销.
    Deregistered,
    /// 迁出 (moved out of the county).
    MovedOut,
}

impl Registry {
    pub fn label(self) -> &'static str {
        match self {
            Registry::Active(s) | Registry::Suspended(s) => s,
            Registry::Revoked => "吊销，未注销",
            Registry::Deregistered => "注销",
            Registry::MovedOut => "迁出",
        }
    }
}

/// 纳税人状态.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaxStatus {
    Normal,
    Abnormal,
    Suspended,
    Deregistered,
}

impl TaxStatus {
    pub fn label(self) -> &'static str {
        match self {
            TaxStatus::Normal => "正常",
            TaxStatus::Abnormal => "非正常",
            TaxStatus::Suspended => "停业",
            TaxStatus::Deregistered => "注销",
        }
    }
}

/// 申报类型.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FilingKind {
    First,
    Annual,
    Change,
}

impl FilingKind {
    pub fn label(self) -> &'static str {
        match self {
            FilingKind::First => "初次申报",
            FilingKind::Annual => "年度更新",
            FilingKind::Change => "变更申报",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Filing {
    pub date: NaiveDate,
    pub kind: FilingKind,
}

#[derive(Debug, Clone)]
pub struct Employer {
    /// 1-based; truth writes `E000001`.
    pub id: u32,
    pub kind: Kind,
    pub individual: bool,
    pub name: NameParts,
    /// The name before a rename, and when the rename happened.
    pub old_name: Option<(NameParts, NaiveDate)>,
    pub uscc: String,
    /// 9-character organisation code (inside the USCC).
    pub org: String,
    /// Registered before the 2015 reform: may still carry an old 15-character tax number.
    pub pre_reform: bool,
    pub established: NaiveDate,
    /// Index into `INDUSTRIES`.
    pub industry: usize,
    pub headcount: u32,
    pub address: Address,
    pub legal_rep: String,
    pub registry: Registry,
    pub tax_status: TaxStatus,
    pub last_tax: Option<NaiveDate>,
    /// When it stopped operating; `None` while it operates.
    pub stopped_on: Option<NaiveDate>,
    /// Revenue over the last 12 months, in 元.
    pub revenue: u64,
    /// Ascending by date.
    pub filings: Vec<Filing>,
    /// Exam session dates, ascending.
    pub exams: Vec<NaiveDate>,
    /// Testing report dates, ascending.
    pub tests: Vec<NaiveDate>,
    pub in_tax: bool,
    pub in_stats: bool,
    /// Last return of an old 15-character tax record (status 注销) kept beside the current one.
    pub superseded_tax: Option<NaiveDate>,
}

impl Employer {
    pub fn employer_id(&self) -> String {
        format!("E{:06}", self.id)
    }

    /// Operating under the 6-month rule: operating now, or stopped within the last 6 months and
    /// neither deregistered, revoked nor moved out.
    pub fn operating(&self, as_of: NaiveDate) -> bool {
        match self.registry {
            Registry::Deregistered | Registry::Revoked | Registry::MovedOut => false,
            _ => match self.stopped_on {
                None => true,
                Some(d) => d > six_months_before(as_of),
            },
        }
    }

    /// Whether the employer belongs to this county (else `address.county` names its county).
    pub fn in_county(&self) -> bool {
        self.address.county.is_none()
    }

    pub fn last_filed(&self) -> Option<NaiveDate> {
        self.filings.last().map(|f| f.date)
    }

    /// `never`, `lapsed` (last filing more than 13 months before as_of) or `current`.
    pub fn filing_status(&self, as_of: NaiveDate) -> &'static str {
        match self.last_filed() {
            None => "never",
            Some(d) if d < thirteen_months_before(as_of) => "lapsed",
            Some(_) => "current",
        }
    }

    pub fn last_evidence(&self) -> Option<NaiveDate> {
        self.exams.iter().chain(&self.tests).max().copied()
    }

    /// The name a feed should use for something dated `on`: the old one before a rename.
    pub fn name_on(&self, on: NaiveDate) -> &NameParts {
        match &self.old_name {
            Some((old, renamed)) if on < *renamed => old,
            _ => &self.name,
        }
    }
}

pub fn six_months_before(d: NaiveDate) -> NaiveDate {
    d.checked_sub_months(Months::new(6)).unwrap_or(d)
}

pub fn thirteen_months_before(d: NaiveDate) -> NaiveDate {
    d.checked_sub_months(Months::new(13)).unwrap_or(d)
}
