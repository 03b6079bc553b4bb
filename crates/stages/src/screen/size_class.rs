//! Enterprise size class (大型/中型/小型/微型) under 国家统计局《统计上大中小微型企业划分办法（2017）》
//! (国统字〔2017〕213号), plus the 中小微企业职业健康帮扶 candidate screen.

use serde::{Deserialize, Serialize};

/// 企业规模: ordered from the largest to the smallest enterprise (`Large < Micro`), so the
/// method's "smallest class wins" rule is [`Ord::max`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum SizeClass {
    Large,
    Medium,
    Small,
    Micro,
}

impl SizeClass {
    /// "大型" / "中型" / "小型" / "微型".
    pub fn label_zh(self) -> &'static str {
        match self {
            SizeClass::Large => "大型",
            SizeClass::Medium => "中型",
            SizeClass::Small => "小型",
            SizeClass::Micro => "微型",
        }
    }
}

/// The rows (行业) of the 2017 table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Sector {
    /// 农、林、牧、渔业 (A, 01–05).
    Agriculture,
    /// 工业: 采矿业 B (06–12), 制造业 C (13–43), 电力、热力、燃气及水生产和供应业 D (44–46).
    Industry,
    /// 建筑业 (E, 47–50).
    Construction,
    /// 批发业 (51).
    Wholesale,
    /// 零售业 (52).
    Retail,
    /// 交通运输业 (54–58, 装卸搬运 591); excludes 铁路运输业 (53) and 邮政业 (60).
    Transport,
    /// 仓储业 (59 except 591).
    Warehousing,
    /// 邮政业 (60).
    Postal,
    /// 住宿业 (61).
    Accommodation,
    /// 餐饮业 (62).
    Catering,
    /// 信息传输业 (63 电信、广播电视和卫星传输服务, 64 互联网和相关服务).
    InformationTransmission,
    /// 软件和信息技术服务业 (65).
    SoftwareIt,
    /// 房地产开发经营 (7010).
    RealEstateDevelopment,
    /// 物业管理 (7020).
    PropertyManagement,
    /// 租赁和商务服务业 (L, 71–72).
    LeasingBusinessServices,
    /// 其他未列明行业 (M, N, O, 85, R, 703, 709, …; also the fallback for codes outside every row).
    OtherUnlisted,
}

impl Sector {
    /// Every sector, in table order.
    pub const ALL: [Sector; 16] = [
        Sector::Agriculture,
        Sector::Industry,
        Sector::Construction,
        Sector::Wholesale,
        Sector::Retail,
        Sector::Transport,
        Sector::Warehousing,
        Sector::Postal,
        Sector::Accommodation,
        Sector::Catering,
        Sector::InformationTransmission,
        Sector::SoftwareIt,
        Sector::RealEstateDevelopment,
        Sector::PropertyManagement,
        Sector::LeasingBusinessServices,
        Sector::OtherUnlisted,
    ];

    pub fn label_zh(self) -> &'static str {
        match self {
            Sector::Agriculture => "农、林、牧、渔业",
            Sector::Industry => "工业",
            Sector::Construction => "建筑业",
            Sector::Wholesale => "批发业",
            Sector::Retail => "零售业",
            Sector::Transport => "交通运输业",
            Sector::Warehousing => "仓储业",
            Sector::Postal => "邮政业",
            Sector::Accommodation => "住宿业",
            Sector::Catering => "餐饮业",
            Sector::InformationTransmission => "信息传输业",
            Sector::SoftwareIt => "软件和信息技术服务业",
            Sector::RealEstateDevelopment => "房地产开发经营",
            Sector::PropertyManagement => "物业管理",
            Sector::LeasingBusinessServices => "租赁和商务服务业",
            Sector::OtherUnlisted => "其他未列明行业",
        }
    }

    /// The indicators and lower bounds listed for this sector in [`SIZE_TABLE_2017`].
    pub fn thresholds(self) -> &'static [Threshold] {
        SIZE_TABLE_2017
            .iter()
            .find(|row| row.sector == self)
            .map_or(&[], |row| row.thresholds)
    }
}

/// An indicator (指标) of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Indicator {
    /// 从业人员 (X), 人.
    Headcount,
    /// 营业收入 (Y), 万元.
    Revenue,
    /// 资产总额 (Z), 万元.
    Assets,
}

impl Indicator {
    pub fn label_zh(self) -> &'static str {
        match self {
            Indicator::Headcount => "从业人员",
            Indicator::Revenue => "营业收入",
            Indicator::Assets => "资产总额",
        }
    }

    /// "人" or "万元".
    pub fn unit_zh(self) -> &'static str {
        match self {
            Indicator::Headcount => "人",
            Indicator::Revenue | Indicator::Assets => "万元",
        }
    }
}

/// Lower bounds (inclusive) of one indicator: `value >= large` → 大型, `>= medium` → 中型,
/// `>= small` → 小型, below `small` → 微型.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Threshold {
    pub indicator: Indicator,
    pub large: u32,
    pub medium: u32,
    pub small: u32,
}

impl Threshold {
    /// The class this single indicator value reaches.
    pub fn class_of(&self, value: f64) -> SizeClass {
        if value >= f64::from(self.large) {
            SizeClass::Large
        } else if value >= f64::from(self.medium) {
            SizeClass::Medium
        } else if value >= f64::from(self.small) {
            SizeClass::Small
        } else {
            SizeClass::Micro
        }
    }
}

/// One row (行业) of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SectorRow {
    pub sector: Sector,
    pub thresholds: &'static [Threshold],
}

const fn t(indicator: Indicator, large: u32, medium: u32, small: u32) -> Threshold {
    Threshold {
        indicator,
        large,
        medium,
        small,
    }
}

use Indicator::{Assets as Z, Headcount as X, Revenue as Y};

/// 统计上大中小微型企业划分标准 — the table of 《统计上大中小微型企业划分办法（2017）》
/// (国家统计局, 国统字〔2017〕213号). Each threshold gives the inclusive lower bounds of 大型, 中型 and
/// 小型; anything below the 小型 bound is 微型. X = 从业人员 (人), Y = 营业收入 (万元),
/// Z = 资产总额 (万元).
///
/// # Source
///
/// Thresholds: the table attached to 《统计上大中小微型企业划分办法（2017）》, 国家统计局,
/// 国统字〔2017〕213号, with its notes (工业 = 采矿业 B + 制造业 C + 电力、热力、燃气及水生产和
/// 供应业 D; 交通运输业 = 道路/水上/航空/管道运输、多式联运和运输代理、装卸搬运, **not** 铁路运输业;
/// 仓储业 = 通用/低温/危险品/农产品/中药材/其他仓储; 信息传输业 = 电信、广播电视和卫星传输服务 +
/// 互联网和相关服务; 其他未列明行业 = M, N, O, 社会工作 (85), R, 房地产中介 (703), 其他房地产业
/// (709) 等, not 自有房地产经营活动). Industry codes are GB/T 4754-2017 《国民经济行业分类》. The values were encoded from memory of the official
/// table and cross-checked against an independent public transcription of the same table.
pub const SIZE_TABLE_2017: [SectorRow; 16] = [
    SectorRow {
        sector: Sector::Agriculture,
        thresholds: &[t(Y, 20_000, 500, 50)],
    },
    SectorRow {
        sector: Sector::Industry,
        thresholds: &[t(X, 1_000, 300, 20), t(Y, 40_000, 2_000, 300)],
    },
    SectorRow {
        sector: Sector::Construction,
        thresholds: &[t(Y, 80_000, 6_000, 300), t(Z, 80_000, 5_000, 300)],
    },
    SectorRow {
        sector: Sector::Wholesale,
        thresholds: &[t(X, 200, 20, 5), t(Y, 40_000, 5_000, 1_000)],
    },
    SectorRow {
        sector: Sector::Retail,
        thresholds: &[t(X, 300, 50, 10), t(Y, 20_000, 500, 100)],
    },
    SectorRow {
        sector: Sector::Transport,
        thresholds: &[t(X, 1_000, 300, 20), t(Y, 30_000, 3_000, 200)],
    },
    SectorRow {
        sector: Sector::Warehousing,
        thresholds: &[t(X, 200, 100, 20), t(Y, 30_000, 1_000, 100)],
    },
    SectorRow {
        sector: Sector::Postal,
        thresholds: &[t(X, 1_000, 300, 20), t(Y, 30_000, 2_000, 100)],
    },
    SectorRow {
        sector: Sector::Accommodation,
        thresholds: &[t(X, 300, 100, 10), t(Y, 10_000, 2_000, 100)],
    },
    SectorRow {
        sector: Sector::Catering,
        thresholds: &[t(X, 300, 100, 10), t(Y, 10_000, 2_000, 100)],
    },
    SectorRow {
        sector: Sector::InformationTransmission,
        thresholds: &[t(X, 2_000, 100, 10), t(Y, 100_000, 1_000, 100)],
    },
    SectorRow {
        sector: Sector::SoftwareIt,
        thresholds: &[t(X, 300, 100, 10), t(Y, 10_000, 1_000, 50)],
    },
    SectorRow {
        sector: Sector::RealEstateDevelopment,
        thresholds: &[t(Y, 200_000, 1_000, 100), t(Z, 10_000, 5_000, 2_000)],
    },
    SectorRow {
        sector: Sector::PropertyManagement,
        thresholds: &[t(X, 1_000, 300, 100), t(Y, 5_000, 1_000, 500)],
    },
    SectorRow {
        sector: Sector::LeasingBusinessServices,
        thresholds: &[t(X, 300, 100, 10), t(Z, 120_000, 8_000, 100)],
    },
    SectorRow {
        sector: Sector::OtherUnlisted,
        thresholds: &[t(X, 300, 100, 10)],
    },
];

pub use crate::domain::industry::{CodeError, IndustryCode};

fn sector_of_parsed(code: &IndustryCode) -> Option<Sector> {
    let Some(division) = code.division() else {
        return match code.section() {
            'A' => Some(Sector::Agriculture),
            'B' | 'C' | 'D' => Some(Sector::Industry),
            'E' => Some(Sector::Construction),
            'L' => Some(Sector::LeasingBusinessServices),
            // F, G, H, I and K span several rows of the table.
            'F' | 'G' | 'H' | 'I' | 'K' => None,
            // M, N, O, R (and 85 of Q) are 其他未列明行业; J, P, S, T (and 84 of Q) are outside
            // the method and fall back to it (see `outside_method_scope`).
            _ => Some(Sector::OtherUnlisted),
        };
    };
    let sector = match division {
        1..=5 => Sector::Agriculture,
        6..=46 => Sector::Industry,
        47..=50 => Sector::Construction,
        51 => Sector::Wholesale,
        52 => Sector::Retail,
        54..=58 => Sector::Transport,
        59 => match code.group() {
            None => return None,
            Some(591) => Sector::Transport,
            Some(_) => Sector::Warehousing,
        },
        60 => Sector::Postal,
        61 => Sector::Accommodation,
        62 => Sector::Catering,
        63 | 64 => Sector::InformationTransmission,
        65 => Sector::SoftwareIt,
        70 => match code.group() {
            None => return None,
            Some(701) => Sector::RealEstateDevelopment,
            Some(702) => Sector::PropertyManagement,
            Some(_) => Sector::OtherUnlisted,
        },
        71 | 72 => Sector::LeasingBusinessServices,
        // 53 铁路运输业 is excluded from 交通运输业 and has no row; like every other division
        // without a row of its own it falls back to 其他未列明行业.
        _ => Sector::OtherUnlisted,
    };
    Some(sector)
}

/// The table row for a GB/T 4754-2017 code.
///
/// Codes that parse but belong to no named row (M, N, O, Q, R, 703, 709, …, and the
/// out-of-scope 53, J, P, S, T, 7040) give [`Sector::OtherUnlisted`]. `None` when the code does not
/// parse (empty, malformed, 门类 not A–T, 大类 not 01–97, letter/digit mismatch) or is too coarse to
/// pick one row: 门类 F, G, H, I, K, 大类 59 without 中类 (591 装卸搬运 is 交通运输业, the rest
/// 仓储业) and 大类 70 without 中类.
pub fn sector_of(industry_code: &str) -> Option<Sector> {
    IndustryCode::parse_checked(industry_code)
        .ok()
        .as_ref()
        .and_then(sector_of_parsed)
}

/// `true` when the code is known to lie outside the 2017 method's scope (15 门类 plus 社会工作):
/// 门类 J 金融, P 教育, S 公共管理, T 国际组织, 大类 53 铁路运输业, 84 卫生, and 7040 房地产租赁经营
/// (自有房地产经营活动). [`classify`] still classifies such codes as 其他未列明行业; callers that
/// care can check this. Unparseable or coarse codes (e.g. `Q`) give `false`.
pub fn outside_method_scope(industry_code: &str) -> bool {
    match IndustryCode::parse_checked(industry_code) {
        Ok(code) => {
            matches!(code.section(), 'J' | 'P' | 'S' | 'T')
                || matches!(code.division(), Some(53 | 84))
                || code.group() == Some(704)
        }
        Err(_) => false,
    }
}

/// Input for [`classify`]. Revenue and assets are in 万元.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct SizeInput<'a> {
    pub industry_code: Option<&'a str>,
    /// 从业人员 (期末从业人员数或全年平均人数).
    pub headcount: Option<u32>,
    /// 营业收入, 万元.
    pub revenue_wan: Option<f64>,
    /// 资产总额, 万元.
    pub assets_wan: Option<f64>,
}

impl SizeInput<'_> {
    fn value(&self, indicator: Indicator) -> Option<f64> {
        let money = |v: Option<f64>| v.filter(|x| x.is_finite() && *x >= 0.0);
        match indicator {
            Indicator::Headcount => self.headcount.map(f64::from),
            Indicator::Revenue => money(self.revenue_wan),
            Indicator::Assets => money(self.assets_wan),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SizeResult {
    pub class: SizeClass,
    pub sector: Sector,
    /// See [`classify`]: some listed indicator was missing, or the sector was not resolved.
    pub estimated: bool,
}

/// Classify per the 2017 method.
///
/// # Rule (note 1 of the table)
///
/// 「大型、中型和小型企业须同时满足所列指标的下限，否则下划一档；微型企业只须满足所列指标中的一项即可。」
///
/// Large, Medium and Small each require **every** listed indicator to reach that class's lower bound;
/// if not, the enterprise drops to the next class and is tested again; Micro needs only one indicator
/// below the Small lower bound. Applying this top-down is the same as classifying each indicator on
/// its own and taking the **smallest** class, e.g. for 工业 19 workers with 50000万元 revenue is 微型
/// (19 < 20 fails 小型's headcount bound), and 999 workers with 40000万元 is 中型.
///
/// # Missing data (`estimated`)
///
/// [`classify`] classifies on the listed indicators that are known, ignores those that are missing,
/// and sets [`SizeResult::estimated`] when (a) any indicator listed for the sector is missing, or
/// (b) the industry code is absent, malformed, or spans several rows (then 其他未列明行业 — headcount
/// only — is used). Revenue/assets that are NaN, infinite or negative count as missing. Indicators not
/// listed for the sector are ignored and do not make a result estimated. If none of the sector's
/// indicators is known, [`classify`] returns `None`. Because the rule takes the smallest class, known
/// indicators give an upper bound: an estimated 微型 cannot change, an estimated 大型/中型/小型 can
/// only go down when the missing indicator becomes known.
///
/// The sector comes from [`sector_of`]; when the code is absent or [`sector_of`] gives `None`,
/// 其他未列明行业 (headcount only) is used and the result is estimated. Returns `None` when none of
/// the sector's indicators is known (e.g. 农林牧渔业 without revenue, 建筑业 with headcount only,
/// or no industry code and no headcount).
pub fn classify(input: &SizeInput) -> Option<SizeResult> {
    let resolved = input.industry_code.and_then(sector_of);
    let sector = resolved.unwrap_or(Sector::OtherUnlisted);
    let mut class: Option<SizeClass> = None;
    let mut missing = false;
    for threshold in sector.thresholds() {
        match input.value(threshold.indicator) {
            Some(v) => {
                let c = threshold.class_of(v);
                class = Some(class.map_or(c, |k| k.max(c)));
            }
            None => missing = true,
        }
    }
    class.map(|class| SizeResult {
        class,
        sector,
        estimated: missing || resolved.is_none(),
    })
}

/// A part of the GB/T 4754-2017 tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum IndustryScope {
    /// 门类, e.g. `'B'`.
    Section(char),
    /// 大类, e.g. `30`.
    Division(u8),
    /// 中类, e.g. `271`.
    Group(u16),
}

impl IndustryScope {
    fn contains(self, code: &IndustryCode) -> bool {
        match self {
            IndustryScope::Section(s) => code.section() == s,
            IndustryScope::Division(d) => code.division() == Some(d),
            IndustryScope::Group(g) => code.group() == Some(g),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PriorityIndustry {
    pub scope: IndustryScope,
    pub label_zh: &'static str,
}

const fn p(scope: IndustryScope, label_zh: &'static str) -> PriorityIndustry {
    PriorityIndustry { scope, label_zh }
}

/// 矿山、建材、冶金、化工 — the priority industries of the 中小微企业职业健康帮扶 action.
///
/// Choice for 化工: C26 化学原料和化学制品制造业, plus C25 石油、煤炭及其他燃料加工业 (炼焦, 炼油:
/// chemical-process plants with benzene/coke-oven exposure), C28 化学纤维制造业 (chemical
/// process, e.g. CS₂ in viscose) and 中类 271 化学药品原料药制造 (chemical synthesis). Not
/// included: the rest of C27 医药制造业 (formulation, 中药, biologics) and C29 橡胶和塑料制品业
/// (product fabrication) — add rows here if the county plan counts them. A code coarser than a
/// row (e.g. `C` or `C27`) does not match it.
pub const SME_PRIORITY_INDUSTRIES: [PriorityIndustry; 8] = [
    p(IndustryScope::Section('B'), "采矿业"),
    p(IndustryScope::Division(30), "非金属矿物制品业（建材）"),
    p(IndustryScope::Division(31), "黑色金属冶炼和压延加工业"),
    p(IndustryScope::Division(32), "有色金属冶炼和压延加工业"),
    p(IndustryScope::Division(25), "石油、煤炭及其他燃料加工业"),
    p(IndustryScope::Division(26), "化学原料和化学制品制造业"),
    p(IndustryScope::Division(28), "化学纤维制造业"),
    p(IndustryScope::Group(271), "化学药品原料药制造"),
];

/// The priority-industry row a code falls in, if any.
pub fn priority_industry(industry_code: &str) -> Option<&'static PriorityIndustry> {
    let code = IndustryCode::parse_checked(industry_code).ok()?;
    SME_PRIORITY_INDUSTRIES
        .iter()
        .find(|row| row.scope.contains(&code))
}

/// Options for [`sme_assistance_candidate_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct SmeAssistanceConfig {
    /// Also count 中型 enterprises. Default `false` (small and micro only). The national
    /// 中小微企业职业健康帮扶 action is named for 中型 too; set this if the county plan includes them.
    pub include_medium: bool,
}

/// 中小微企业帮扶 candidate with the default [`SmeAssistanceConfig`] (small and micro only).
///
/// Candidate = the size is known and eligible (小型 or 微型; 中型 only with `include_medium`) **and**
/// (the industry is one of [`SME_PRIORITY_INDUSTRIES`] — mining B, building materials C30,
/// metallurgy C31/C32, chemicals C25/C26/C28/271 — **or** there is exam/testing evidence). An
/// unknown size (`None`) is never a candidate; an estimated size is used as is. 大型 never is.
pub fn sme_assistance_candidate(
    result: Option<&SizeResult>,
    industry_code: Option<&str>,
    has_exam_or_testing_evidence: bool,
) -> bool {
    sme_assistance_candidate_with(
        &SmeAssistanceConfig::default(),
        result,
        industry_code,
        has_exam_or_testing_evidence,
    )
}

/// [`sme_assistance_candidate`] with explicit options.
pub fn sme_assistance_candidate_with(
    config: &SmeAssistanceConfig,
    result: Option<&SizeResult>,
    industry_code: Option<&str>,
    has_exam_or_testing_evidence: bool,
) -> bool {
    let size_ok = match result.map(|r| r.class) {
        Some(SizeClass::Small | SizeClass::Micro) => true,
        Some(SizeClass::Medium) => config.include_medium,
        Some(SizeClass::Large) | None => false,
    };
    size_ok && (has_exam_or_testing_evidence || industry_code.and_then(priority_industry).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(code: &str, x: Option<u32>, y: Option<f64>, z: Option<f64>) -> Option<SizeResult> {
        classify(&SizeInput {
            industry_code: Some(code),
            headcount: x,
            revenue_wan: y,
            assets_wan: z,
        })
    }

    fn class(code: &str, x: Option<u32>, y: Option<f64>, z: Option<f64>) -> Option<SizeClass> {
        run(code, x, y, z).map(|r| r.class)
    }

    use SizeClass::{Large, Medium, Micro, Small};

    #[test]
    fn industry_boundaries() {
        let c = |x, y| class("C3011", Some(x), Some(y), None);
        assert_eq!(c(1000, 40000.0), Some(Large));
        assert_eq!(c(999, 40000.0), Some(Medium));
        assert_eq!(c(1000, 39999.99), Some(Medium));
        assert_eq!(c(300, 2000.0), Some(Medium));
        assert_eq!(c(299, 2000.0), Some(Small));
        assert_eq!(c(300, 1999.0), Some(Small));
        assert_eq!(c(20, 300.0), Some(Small));
        assert_eq!(c(19, 300.0), Some(Micro));
        assert_eq!(c(20, 299.9), Some(Micro));
        // Smallest class wins: one indicator in the micro range makes it micro.
        assert_eq!(c(19, 50000.0), Some(Micro));
        assert_eq!(c(5000, 100.0), Some(Micro));
        let r = run("B0610", Some(1000), Some(40000.0), None);
        assert_eq!(
            r,
            Some(SizeResult {
                class: Large,
                sector: Sector::Industry,
                estimated: false
            })
        );
        // Assets are not listed for 工业 and are ignored.
        assert_eq!(
            run("D4411", Some(25), Some(500.0), None).map(|r| r.estimated),
            Some(false)
        );
    }

    #[test]
    fn missing_revenue_is_estimated() {
        let r = run("C3011", Some(10), None, None);
        assert_eq!(
            r,
            Some(SizeResult {
                class: Micro,
                sector: Sector::Industry,
                estimated: true
            })
        );
        let r = run("C3011", Some(500), None, None);
        assert_eq!(r.map(|r| (r.class, r.estimated)), Some((Medium, true)));
        let r = run("C3011", None, Some(50000.0), None);
        assert_eq!(r.map(|r| (r.class, r.estimated)), Some((Large, true)));
        // NaN / negative money counts as missing.
        let r = run("C3011", Some(25), Some(f64::NAN), None);
        assert_eq!(r.map(|r| (r.class, r.estimated)), Some((Small, true)));
        let r = run("C3011", Some(25), Some(-1.0), None);
        assert_eq!(r.map(|r| (r.class, r.estimated)), Some((Small, true)));
    }

    #[test]
    fn retail() {
        assert_eq!(sector_of("5211"), Some(Sector::Retail));
        let c = |x, y| class("5211", Some(x), Some(y), None);
        assert_eq!(c(10, 100.0), Some(Small));
        assert_eq!(c(9, 100.0), Some(Micro));
        assert_eq!(c(10, 99.9), Some(Micro));
        assert_eq!(c(49, 400.0), Some(Small));
        assert_eq!(c(50, 500.0), Some(Medium));
        assert_eq!(c(300, 20000.0), Some(Large));
        assert_eq!(c(299, 20000.0), Some(Medium));
        // Wholesale differs.
        assert_eq!(class("5111", Some(5), Some(1000.0), None), Some(Small));
        assert_eq!(class("5111", Some(4), Some(1000.0), None), Some(Micro));
        assert_eq!(class("5111", Some(20), Some(5000.0), None), Some(Medium));
    }

    #[test]
    fn agriculture_revenue_only() {
        let c = |y| class("0111", Some(5000), Some(y), Some(1e9));
        assert_eq!(c(20000.0), Some(Large));
        assert_eq!(c(19999.0), Some(Medium));
        assert_eq!(c(500.0), Some(Medium));
        assert_eq!(c(499.0), Some(Small));
        assert_eq!(c(50.0), Some(Small));
        assert_eq!(c(49.9), Some(Micro));
        // Headcount is not an indicator for 农林牧渔业: revenue alone decides, not estimated.
        let r = run("A", Some(5000), Some(49.0), None);
        assert_eq!(
            r,
            Some(SizeResult {
                class: Micro,
                sector: Sector::Agriculture,
                estimated: false
            })
        );
        assert_eq!(run("01", Some(5000), None, None), None);
    }

    #[test]
    fn real_estate_development_revenue_and_assets() {
        assert_eq!(sector_of("7010"), Some(Sector::RealEstateDevelopment));
        assert_eq!(sector_of("K701"), Some(Sector::RealEstateDevelopment));
        let c = |y, z| class("7010", Some(1), Some(y), Some(z));
        assert_eq!(c(200000.0, 10000.0), Some(Large));
        assert_eq!(c(200000.0, 9999.0), Some(Medium));
        assert_eq!(c(1000.0, 5000.0), Some(Medium));
        assert_eq!(c(999.0, 1e6), Some(Small));
        assert_eq!(c(100.0, 2000.0), Some(Small));
        assert_eq!(c(100.0, 1999.0), Some(Micro));
        assert_eq!(c(99.0, 1e6), Some(Micro));
        let r = run("7010", Some(5000), Some(300000.0), None);
        assert_eq!(r.map(|r| (r.class, r.estimated)), Some((Large, true)));
        assert_eq!(run("7010", Some(5000), None, None), None);
    }

    #[test]
    fn other_rows() {
        // 物业管理
        assert_eq!(sector_of("7020"), Some(Sector::PropertyManagement));
        assert_eq!(class("7020", Some(100), Some(500.0), None), Some(Small));
        assert_eq!(class("7020", Some(99), Some(5000.0), None), Some(Micro));
        // 建筑业: revenue and assets, headcount ignored.
        assert_eq!(
            class("E4710", Some(1), Some(80000.0), Some(80000.0)),
            Some(Large)
        );
        assert_eq!(
            class("4710", Some(1), Some(6000.0), Some(4999.0)),
            Some(Small)
        );
        assert_eq!(run("47", Some(5000), None, None), None);
        // 租赁和商务服务业: headcount and assets, revenue ignored.
        assert_eq!(
            class("L7211", Some(300), Some(0.0), Some(120000.0)),
            Some(Large)
        );
        assert_eq!(class("7211", Some(10), Some(1e9), Some(99.0)), Some(Micro));
        // 信息传输业 vs 软件和信息技术服务业
        assert_eq!(class("6311", Some(2000), Some(100000.0), None), Some(Large));
        assert_eq!(class("6510", Some(300), Some(10000.0), None), Some(Large));
        assert_eq!(class("6510", Some(10), Some(50.0), None), Some(Small));
        // 仓储 vs 交通运输 vs 邮政
        assert_eq!(class("5920", Some(200), Some(30000.0), None), Some(Large));
        assert_eq!(class("5910", Some(200), Some(30000.0), None), Some(Small));
        assert_eq!(class("5430", Some(300), Some(3000.0), None), Some(Medium));
        assert_eq!(class("6010", Some(20), Some(100.0), None), Some(Small));
        // 住宿 / 餐饮
        assert_eq!(class("6110", Some(100), Some(2000.0), None), Some(Medium));
        assert_eq!(class("6210", Some(9), Some(2000.0), None), Some(Micro));
        // 其他未列明: headcount only.
        let r = run("M7310", Some(100), Some(1.0), None);
        assert_eq!(
            r,
            Some(SizeResult {
                class: Medium,
                sector: Sector::OtherUnlisted,
                estimated: false
            })
        );
    }

    #[test]
    fn code_parsing() {
        for code in [
            "C3011", "3011", "30", "c30", "C30", " C 30 ", "301", "C", "B", "b0610",
        ] {
            assert_eq!(sector_of(code), Some(Sector::Industry), "{code}");
        }
        let c = IndustryCode::parse_checked("c3011").expect("code");
        assert_eq!(
            (c.section(), c.division(), c.group(), c.class()),
            ('C', Some(30), Some(301), Some(3011))
        );
        assert_eq!(IndustryCode::parse_checked(""), Err(CodeError::Empty));
        assert_eq!(
            IndustryCode::parse_checked("Z"),
            Err(CodeError::UnknownSection('Z'))
        );
        assert_eq!(
            IndustryCode::parse_checked("99"),
            Err(CodeError::UnknownDivision(99))
        );
        assert!(matches!(
            IndustryCode::parse_checked("B3011"),
            Err(CodeError::SectionMismatch {
                given: 'B',
                division: 30,
                expected: 'C'
            })
        ));
        // Full-width digits are folded as in every feed value (one rule set with ingest).
        assert_eq!(sector_of("３０"), Some(Sector::Industry));
        for bad in ["", "   ", "3", "30111", "C3x", "CC30", "-30"] {
            assert_eq!(sector_of(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn coarse_and_unknown_codes() {
        // Too coarse to pick one row.
        for code in ["F", "G", "H", "I", "K", "59", "70", "K70"] {
            assert_eq!(sector_of(code), None, "{code}");
        }
        // Parse but have no row of their own → 其他未列明行业.
        for code in [
            "7310", "N", "O8011", "8510", "R", "7030", "7090", "5311", "J6611", "P",
        ] {
            assert_eq!(sector_of(code), Some(Sector::OtherUnlisted), "{code}");
        }
        assert!(outside_method_scope("5311"));
        assert!(outside_method_scope("J66"));
        assert!(outside_method_scope("8411"));
        assert!(outside_method_scope("7040"));
        assert!(!outside_method_scope("8510"));
        assert!(!outside_method_scope("Q"));
        assert!(!outside_method_scope("C3011"));
        assert!(!outside_method_scope("garbage"));
        // classify falls back to 其他未列明行业 (estimated) for unresolvable codes.
        for code in [Some("99"), Some("xyz"), Some("F"), None] {
            let r = classify(&SizeInput {
                industry_code: code,
                headcount: Some(150),
                revenue_wan: Some(1e6),
                assets_wan: None,
            });
            assert_eq!(
                r,
                Some(SizeResult {
                    class: Medium,
                    sector: Sector::OtherUnlisted,
                    estimated: true
                }),
                "{code:?}"
            );
        }
    }

    #[test]
    fn nothing_known_is_none() {
        assert_eq!(classify(&SizeInput::default()), None);
        assert_eq!(run("C3011", None, None, None), None);
        assert_eq!(run("C3011", None, Some(f64::INFINITY), None), None);
        // No industry: only headcount can be used.
        let r = classify(&SizeInput {
            revenue_wan: Some(100.0),
            ..SizeInput::default()
        });
        assert_eq!(r, None);
    }

    #[test]
    fn sme_assistance() {
        let res = |class| SizeResult {
            class,
            sector: Sector::Industry,
            estimated: false,
        };
        let small = res(Small);
        let micro = res(Micro);
        let medium = res(Medium);
        let large = res(Large);
        assert!(sme_assistance_candidate(Some(&small), Some("C3011"), false));
        assert!(sme_assistance_candidate(Some(&micro), Some("B"), false));
        assert!(sme_assistance_candidate(Some(&micro), Some("0810"), false));
        assert!(sme_assistance_candidate(Some(&small), Some("3120"), false));
        assert!(sme_assistance_candidate(Some(&small), Some("C3216"), false));
        assert!(sme_assistance_candidate(Some(&small), Some("2614"), false));
        assert!(sme_assistance_candidate(Some(&small), Some("2521"), false));
        assert!(sme_assistance_candidate(Some(&small), Some("2821"), false));
        assert!(sme_assistance_candidate(Some(&small), Some("2710"), false));
        assert!(!sme_assistance_candidate(Some(&small), Some("2720"), false));
        assert!(!sme_assistance_candidate(Some(&small), Some("C27"), false));
        assert!(!sme_assistance_candidate(Some(&small), Some("2911"), false));
        assert!(!sme_assistance_candidate(Some(&small), Some("C"), false));
        // Other industry: only with exam/testing evidence.
        assert!(!sme_assistance_candidate(Some(&small), Some("1810"), false));
        assert!(sme_assistance_candidate(Some(&small), Some("1810"), true));
        assert!(sme_assistance_candidate(Some(&micro), None, true));
        assert!(!sme_assistance_candidate(Some(&micro), None, false));
        // Size gate.
        assert!(!sme_assistance_candidate(
            Some(&medium),
            Some("C3011"),
            true
        ));
        let with_medium = SmeAssistanceConfig {
            include_medium: true,
        };
        assert!(sme_assistance_candidate_with(
            &with_medium,
            Some(&medium),
            Some("C3011"),
            false
        ));
        assert!(!sme_assistance_candidate_with(
            &with_medium,
            Some(&large),
            Some("B"),
            true
        ));
        assert!(!sme_assistance_candidate(None, Some("B"), true));
        // End to end.
        let r = run("C3021", Some(45), Some(800.0), None);
        assert!(sme_assistance_candidate(r.as_ref(), Some("C3021"), false));
    }

    #[test]
    fn table_is_complete_and_monotone() {
        for sector in Sector::ALL {
            let rows = SIZE_TABLE_2017
                .iter()
                .filter(|r| r.sector == sector)
                .count();
            assert_eq!(rows, 1, "{sector:?}");
            let th = sector.thresholds();
            assert!(!th.is_empty() && th.len() <= 2, "{sector:?}");
            for t in th {
                assert!(
                    t.large > t.medium && t.medium > t.small && t.small > 0,
                    "{sector:?}"
                );
            }
            assert!(!sector.label_zh().is_empty());
        }
        assert_eq!(Sector::Agriculture.thresholds().len(), 1);
        assert_eq!(
            Sector::Agriculture.thresholds()[0].indicator,
            Indicator::Revenue
        );
        assert_eq!(
            Sector::OtherUnlisted.thresholds()[0].indicator,
            Indicator::Headcount
        );
    }

    #[test]
    fn labels() {
        assert_eq!(Large.label_zh(), "大型");
        assert_eq!(Medium.label_zh(), "中型");
        assert_eq!(Small.label_zh(), "小型");
        assert_eq!(Micro.label_zh(), "微型");
        assert_eq!(Sector::SoftwareIt.label_zh(), "软件和信息技术服务业");
        assert_eq!(Indicator::Assets.unit_zh(), "万元");
        assert!(Large < Micro);
    }
}
