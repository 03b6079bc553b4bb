//! Word pools: 字号 characters, look-alike and sound-alike characters, personal names, roads.
//! Constants only. Every character here is in GBK, because the exam feed is written in GBK.

/// Characters 字号 are built from (two of them make a trade name).
pub const TRADE_CHARS: &[&str] = &[
    "华", "兴", "鑫", "新", "信", "泰", "宏", "鸿", "辉", "晖", "达", "源", "利", "盛", "丰", "恒",
    "隆", "祥", "荣", "顺", "永", "福", "金", "银", "昌", "发", "建", "成", "佳", "美", "嘉", "豪",
    "博", "凯", "瑞", "安", "康", "宝", "富", "贵", "通", "海", "天", "星", "明", "光", "长", "远",
    "万", "千", "德", "仁", "和", "合", "东", "南", "闽", "泉", "益", "裕", "锦", "绣", "环", "球",
    "汇", "聚", "创", "联", "卓", "润", "晟", "峰", "中", "振", "协", "力", "腾", "飞", "冠", "誉",
    "帝", "皇", "雅", "典", "尚", "品", "优", "艺", "精", "诚", "正", "群", "强", "升", "旺", "广",
];

/// Pairs of characters that look or sound alike: a distinct employer may carry the other one.
/// Used to make hard negatives (`华兴` vs `华星`).
pub const NEAR_CHARS: &[(&str, &str)] = &[
    ("兴", "星"),
    ("华", "桦"),
    ("鑫", "新"),
    ("新", "信"),
    ("泰", "太"),
    ("宏", "鸿"),
    ("辉", "晖"),
    ("达", "大"),
    ("源", "元"),
    ("利", "力"),
    ("盛", "胜"),
    ("丰", "峰"),
    ("恒", "衡"),
    ("隆", "龙"),
    ("祥", "翔"),
    ("荣", "融"),
    ("顺", "舜"),
    ("美", "梅"),
    ("佳", "嘉"),
    ("瑞", "锐"),
    ("金", "锦"),
    ("明", "铭"),
    ("昌", "长"),
    ("成", "诚"),
    ("安", "岸"),
    ("德", "得"),
];

/// Homophone typos clinic and laboratory staff make (DOMAIN.md §3).
pub const HOMOPHONES: &[(&str, &[&str])] = &[
    ("鑫", &["新", "信"]),
    ("新", &["鑫", "信"]),
    ("信", &["新", "鑫"]),
    ("泰", &["太"]),
    ("宏", &["鸿"]),
    ("鸿", &["宏"]),
    ("辉", &["晖"]),
    ("晖", &["辉"]),
    ("铸", &["筑"]),
    ("盛", &["胜"]),
    ("源", &["元"]),
    ("峰", &["锋"]),
];

/// Surnames common in 南安.
pub const SURNAMES: &[&str] = &[
    "陈", "黄", "林", "李", "洪", "吴", "王", "张", "刘", "蔡", "郑", "傅", "潘", "许", "戴", "叶",
    "苏", "杨", "周", "柯", "施", "庄", "肖", "余", "詹", "卓", "翁", "谢", "颜", "曾",
];

/// Characters of given names.
pub const GIVEN_CHARS: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀", "霞", "平", "刚", "桂", "英", "华", "建", "国", "志", "文", "辉", "海", "丹", "玲",
    "清", "水", "金", "木", "春", "秋", "阿", "美", "婷", "雪", "荣", "福", "龙", "凤", "德", "顺",
];

/// Roads and streets; villages also use 工业区 and groups.
pub const ROADS: &[&str] = &[
    "成功街",
    "南洪路",
    "工业路",
    "兴业路",
    "滨江路",
    "新华街",
    "中山街",
    "振兴路",
    "朝阳路",
    "石材路",
    "建设路",
    "环城路",
    "学府路",
    "发展大道",
    "育才路",
    "开发区路",
    "迎宾大道",
    "商业街",
    "溪滨路",
    "金山路",
];

/// Organisation forms of manufacturing companies, with weights.
pub const FACTORY_FORMS: &[(&str, f64)] = &[
    ("有限公司", 60.0),
    ("有限责任公司", 16.0),
    ("股份有限公司", 4.0),
    ("厂", 10.0),
    ("实业有限公司", 5.0),
    ("发展有限公司", 5.0),
];

/// Organisation forms of service and trade companies, with weights.
pub const SERVICE_FORMS: &[(&str, f64)] = &[
    ("有限公司", 68.0),
    ("有限责任公司", 18.0),
    ("股份有限公司", 2.0),
    ("发展有限公司", 4.0),
    ("服务有限公司", 8.0),
];

/// Forms of 个体工商户 names that make things.
pub const WORKSHOP_FORMS: &[&str] = &["厂", "加工厂", "加工场", "经营部", "厂"];

/// Forms of 个体工商户 names that sell or serve; empty when the words already say it (`超市`).
pub const SHOP_FORMS: &[&str] = &["店", "经营部", "商行", "门市部", ""];
