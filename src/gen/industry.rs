//! The synthetic county's industry mix: real GB/T 4754-2017 小类 codes typical of 南安, each with
//! the words its employers put in their names and the hazards its workers meet. Data only.

/// How hazardous the industry is (our own rough call, used only to decide who files and who has
/// exam or testing records; the screening stage uses the county's own catalogue).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hazard {
    Severe,
    General,
    None,
}

/// Headcount profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    Factory,
    Service,
}

#[derive(Debug)]
pub struct Industry {
    /// 4-digit GB/T 4754-2017 小类 code.
    pub code: &'static str,
    /// Its name in the standard.
    pub name: &'static str,
    /// 门类 letter, for feeds that write `C3032`.
    pub section: char,
    pub hazard: Hazard,
    /// Relative share of employers.
    pub weight: f64,
    /// Words an employer of this industry puts between 字号 and form.
    pub words: &'static [&'static str],
    /// Hazard factors (职业病危害因素分类目录 names) its workers are exposed to.
    pub factors: &'static [&'static str],
    pub scale: Scale,
    /// Share of employers that are 个体工商户.
    pub individual: f64,
    /// Share of workers exposed to the factors.
    pub exposed: f64,
}

use Hazard::{General, None as NoHazard, Severe};
use Scale::{Factory, Service};

macro_rules! ind {
    ($code:expr, $name:expr, $sec:expr, $hz:expr, $w:expr, $words:expr, $f:expr, $sc:expr, $indiv:expr, $exp:expr) => {
        Industry {
            code: $code,
            name: $name,
            section: $sec,
            hazard: $hz,
            weight: $w,
            words: $words,
            factors: $f,
            scale: $sc,
            individual: $indiv,
            exposed: $exp,
        }
    };
}

/// The mix. Codes and names checked against `data/gbt4754-2017/industries.csv`.
pub const INDUSTRIES: &[Industry] = &[
    // Severe: stone, ceramics, shoes, cement, foundries, plating, chemicals, quarries, glass.
    ind!(
        "3032",
        "建筑用石加工",
        'C',
        Severe,
        9.0,
        &["石材", "石业", "石材工艺", "石材加工"],
        &["矽尘", "噪声"],
        Factory,
        0.35,
        0.7
    ),
    ind!(
        "3071",
        "建筑陶瓷制品制造",
        'C',
        Severe,
        4.0,
        &["陶瓷", "建陶", "瓷业", "建材"],
        &["矽尘", "噪声", "高温"],
        Factory,
        0.1,
        0.6
    ),
    ind!(
        "3072",
        "卫生陶瓷制品制造",
        'C',
        Severe,
        2.0,
        &["卫浴", "洁具", "陶瓷", "卫生洁具"],
        &["矽尘", "噪声", "高温"],
        Factory,
        0.1,
        0.6
    ),
    ind!(
        "3074",
        "日用陶瓷制品制造",
        'C',
        Severe,
        0.5,
        &["陶瓷", "瓷业", "工艺"],
        &["矽尘", "噪声"],
        Factory,
        0.2,
        0.6
    ),
    ind!(
        "3079",
        "其他陶瓷制品制造",
        'C',
        Severe,
        0.5,
        &["陶瓷", "新材料"],
        &["矽尘", "噪声"],
        Factory,
        0.2,
        0.6
    ),
    ind!(
        "1952",
        "皮鞋制造",
        'C',
        Severe,
        3.0,
        &["鞋业", "鞋材", "制鞋", "鞋服"],
        &["苯", "甲苯", "正己烷", "噪声"],
        Factory,
        0.15,
        0.5
    ),
    ind!(
        "1959",
        "其他制鞋业",
        'C',
        Severe,
        2.0,
        &["鞋业", "鞋材", "体育用品"],
        &["甲苯", "二甲苯", "正己烷", "噪声"],
        Factory,
        0.2,
        0.5
    ),
    ind!(
        "3011",
        "水泥制造",
        'C',
        Severe,
        0.3,
        &["水泥", "建材"],
        &["水泥粉尘", "矽尘", "噪声", "高温"],
        Factory,
        0.0,
        0.6
    ),
    ind!(
        "3391",
        "黑色金属铸造",
        'C',
        Severe,
        1.5,
        &["铸造", "机械铸造", "精密铸造"],
        &["矽尘", "噪声", "高温", "一氧化碳"],
        Factory,
        0.2,
        0.7
    ),
    ind!(
        "3392",
        "有色金属铸造",
        'C',
        Severe,
        1.5,
        &["铜业", "铸造", "水暖", "精密铸造"],
        &["铅", "矽尘", "噪声", "高温"],
        Factory,
        0.25,
        0.7
    ),
    ind!(
        "3360",
        "金属表面处理及热处理加工",
        'C',
        Severe,
        1.2,
        &["电镀", "表面处理", "五金"],
        &["铬及其化合物", "镍及其化合物", "氰化物", "硫酸", "噪声"],
        Factory,
        0.1,
        0.6
    ),
    ind!(
        "2641",
        "涂料制造",
        'C',
        Severe,
        0.4,
        &["化工", "涂料", "新材料"],
        &["苯", "甲苯", "二甲苯", "噪声"],
        Factory,
        0.0,
        0.5
    ),
    ind!(
        "2619",
        "其他基础化学原料制造",
        'C',
        Severe,
        0.3,
        &["化工", "化学"],
        &["氨", "硫酸", "盐酸", "氯气"],
        Factory,
        0.0,
        0.5
    ),
    ind!(
        "2669",
        "其他专用化学产品制造",
        'C',
        Severe,
        0.3,
        &["化工", "新材料", "科技"],
        &["甲醛", "苯", "噪声"],
        Factory,
        0.0,
        0.5
    ),
    ind!(
        "1019",
        "粘土及其他土砂石开采",
        'B',
        Severe,
        0.6,
        &["矿业", "砂石", "石料"],
        &["矽尘", "噪声", "手传振动"],
        Factory,
        0.1,
        0.8
    ),
    ind!(
        "3041",
        "平板玻璃制造",
        'C',
        Severe,
        0.2,
        &["玻璃", "建材"],
        &["矽尘", "噪声", "高温"],
        Factory,
        0.0,
        0.6
    ),
    // General: hardware and plumbing, machinery, plastics, furniture, garments, food, repair.
    ind!(
        "3021",
        "水泥制品制造",
        'C',
        General,
        1.0,
        &["建材", "水泥制品", "管桩", "混凝土"],
        &["水泥粉尘", "噪声"],
        Factory,
        0.1,
        0.6
    ),
    ind!(
        "3022",
        "砼结构构件制造",
        'C',
        General,
        0.5,
        &["建材", "构件", "混凝土"],
        &["水泥粉尘", "噪声"],
        Factory,
        0.0,
        0.6
    ),
    ind!(
        "3383",
        "金属制卫生器具制造",
        'C',
        General,
        4.0,
        &["卫浴", "水暖", "洁具", "厨卫", "卫浴科技"],
        &["噪声", "其他粉尘", "铅"],
        Factory,
        0.2,
        0.5
    ),
    ind!(
        "3352",
        "建筑装饰及水暖管道零件制造",
        'C',
        General,
        3.0,
        &["水暖", "阀门", "卫浴", "五金", "管业"],
        &["噪声", "其他粉尘", "铅"],
        Factory,
        0.25,
        0.5
    ),
    ind!(
        "3484",
        "机械零部件加工",
        'C',
        General,
        2.0,
        &["机械", "机械设备", "精密机械", "机电"],
        &["噪声", "电焊烟尘", "其他粉尘"],
        Factory,
        0.3,
        0.5
    ),
    ind!(
        "3311",
        "金属结构制造",
        'C',
        General,
        1.0,
        &["钢结构", "钢构", "金属制品"],
        &["电焊烟尘", "噪声", "紫外辐射"],
        Factory,
        0.1,
        0.6
    ),
    ind!(
        "3312",
        "金属门窗制造",
        'C',
        General,
        0.8,
        &["门窗", "铝业", "幕墙"],
        &["噪声", "电焊烟尘"],
        Factory,
        0.5,
        0.5
    ),
    ind!(
        "2927",
        "日用塑料制品制造",
        'C',
        General,
        1.0,
        &["塑胶", "塑料制品", "日用品"],
        &["噪声", "高温"],
        Factory,
        0.2,
        0.5
    ),
    ind!(
        "2929",
        "塑料零件及其他塑料制品制造",
        'C',
        General,
        0.8,
        &["塑胶", "塑业", "包装"],
        &["噪声", "高温"],
        Factory,
        0.2,
        0.5
    ),
    ind!(
        "2110",
        "木质家具制造",
        'C',
        General,
        0.8,
        &["家具", "木业", "家居"],
        &["木粉尘", "苯", "甲醛", "噪声"],
        Factory,
        0.4,
        0.5
    ),
    ind!(
        "1819",
        "其他机织服装制造",
        'C',
        General,
        2.0,
        &["服装", "服饰", "制衣"],
        &["棉尘", "噪声"],
        Factory,
        0.3,
        0.4
    ),
    ind!(
        "1811",
        "运动机织服装制造",
        'C',
        General,
        0.8,
        &["服装", "体育用品", "服饰"],
        &["棉尘", "噪声"],
        Factory,
        0.2,
        0.4
    ),
    ind!(
        "1411",
        "糕点、面包制造",
        'C',
        General,
        0.6,
        &["食品", "糕点", "饼业"],
        &["面粉粉尘", "高温"],
        Factory,
        0.5,
        0.4
    ),
    ind!(
        "1419",
        "饼干及其他焙烤食品制造",
        'C',
        General,
        0.4,
        &["食品", "饼业"],
        &["面粉粉尘", "高温"],
        Factory,
        0.3,
        0.4
    ),
    ind!(
        "1431",
        "米、面制品制造",
        'C',
        General,
        0.6,
        &["食品", "米粉", "面业"],
        &["高温", "噪声"],
        Factory,
        0.6,
        0.4
    ),
    ind!(
        "1922",
        "皮箱、包(袋)制造",
        'C',
        General,
        0.6,
        &["箱包", "包袋", "皮具"],
        &["苯", "甲苯", "噪声"],
        Factory,
        0.3,
        0.4
    ),
    ind!(
        "2231",
        "纸和纸板容器制造",
        'C',
        General,
        0.6,
        &["纸品", "包装", "纸业"],
        &["噪声", "其他粉尘"],
        Factory,
        0.3,
        0.4
    ),
    ind!(
        "3872",
        "照明灯具制造",
        'C',
        General,
        0.5,
        &["照明", "光电", "灯饰"],
        &["噪声", "铅烟"],
        Factory,
        0.2,
        0.3
    ),
    ind!(
        "8111",
        "汽车修理与维护",
        'O',
        General,
        1.5,
        &["汽车维修", "汽修", "汽车服务"],
        &["噪声", "电焊烟尘", "苯"],
        Service,
        0.7,
        0.6
    ),
    ind!(
        "4790",
        "其他房屋建筑业",
        'E',
        General,
        1.0,
        &["建筑工程", "建设", "建工"],
        &["矽尘", "噪声", "电焊烟尘"],
        Factory,
        0.0,
        0.5
    ),
    // No notable hazard: trade, catering, software, transport, personal services.
    ind!(
        "5212",
        "超级市场零售",
        'F',
        NoHazard,
        3.0,
        &["超市", "商贸", "购物广场"],
        &[],
        Service,
        0.6,
        0.0
    ),
    ind!(
        "5211",
        "百货零售",
        'F',
        NoHazard,
        2.0,
        &["百货", "商贸", "商场"],
        &[],
        Service,
        0.5,
        0.0
    ),
    ind!(
        "5281",
        "五金零售",
        'F',
        NoHazard,
        2.0,
        &["五金", "五金机电", "建材五金"],
        &[],
        Service,
        0.7,
        0.0
    ),
    ind!(
        "5285",
        "卫生洁具零售",
        'F',
        NoHazard,
        2.0,
        &["卫浴", "洁具", "水暖"],
        &[],
        Service,
        0.6,
        0.0
    ),
    ind!(
        "5165",
        "建材批发",
        'F',
        NoHazard,
        3.0,
        &["建材", "石材贸易", "商贸", "陶瓷贸易"],
        &[],
        Service,
        0.4,
        0.0
    ),
    ind!(
        "5132",
        "服装批发",
        'F',
        NoHazard,
        1.0,
        &["服装", "商贸", "贸易"],
        &[],
        Service,
        0.4,
        0.0
    ),
    ind!(
        "5129",
        "其他食品批发",
        'F',
        NoHazard,
        1.0,
        &["食品", "商贸", "贸易"],
        &[],
        Service,
        0.5,
        0.0
    ),
    ind!(
        "6210",
        "正餐服务",
        'H',
        NoHazard,
        4.0,
        &["餐饮", "酒店", "饭店", "酒楼"],
        &[],
        Service,
        0.7,
        0.0
    ),
    ind!(
        "6220",
        "快餐服务",
        'H',
        NoHazard,
        2.0,
        &["快餐", "餐饮"],
        &[],
        Service,
        0.7,
        0.0
    ),
    ind!(
        "6291",
        "小吃服务",
        'H',
        NoHazard,
        2.0,
        &["小吃", "餐饮", "面线糊"],
        &[],
        Service,
        0.9,
        0.0
    ),
    ind!(
        "6513",
        "应用软件开发",
        'I',
        NoHazard,
        1.0,
        &["软件", "信息技术", "网络科技", "科技"],
        &[],
        Service,
        0.05,
        0.0
    ),
    ind!(
        "6519",
        "其他软件开发",
        'I',
        NoHazard,
        0.5,
        &["软件", "信息科技", "智能科技"],
        &[],
        Service,
        0.05,
        0.0
    ),
    ind!(
        "7020",
        "物业管理",
        'K',
        NoHazard,
        1.0,
        &["物业", "物业管理", "物业服务"],
        &[],
        Service,
        0.0,
        0.0
    ),
    ind!(
        "5431",
        "普通货物道路运输",
        'G',
        NoHazard,
        2.0,
        &["物流", "运输", "货运"],
        &[],
        Service,
        0.5,
        0.0
    ),
    ind!(
        "8040",
        "理发及美容服务",
        'O',
        NoHazard,
        1.5,
        &["美容", "美发", "美容美发"],
        &[],
        Service,
        0.9,
        0.0
    ),
    ind!(
        "7249",
        "其他专业咨询与调查",
        'L',
        NoHazard,
        1.0,
        &["咨询", "企业管理", "信息咨询"],
        &[],
        Service,
        0.1,
        0.0
    ),
    ind!(
        "5251",
        "西药零售",
        'F',
        NoHazard,
        1.0,
        &["大药房", "药店", "医药"],
        &[],
        Service,
        0.5,
        0.0
    ),
    ind!(
        "8010",
        "家庭服务",
        'O',
        NoHazard,
        0.5,
        &["家政", "家政服务"],
        &[],
        Service,
        0.6,
        0.0
    ),
];

/// The industries' weights, in table order.
pub fn weights() -> Vec<f64> {
    INDUSTRIES.iter().map(|i| i.weight).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_four_digit_and_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for i in INDUSTRIES {
            assert_eq!(i.code.len(), 4, "{}", i.code);
            assert!(seen.insert(i.code), "duplicate {}", i.code);
            assert!(!i.words.is_empty());
            assert_eq!(i.hazard == Hazard::None, i.factors.is_empty(), "{}", i.code);
        }
    }
}
