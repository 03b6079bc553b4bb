//! Addresses in the county (`福建省泉州市南安市官桥镇内厝村工业路18号`) and their variants:
//! prefix dropped, 村 vs 村委会, Chinese or full-width numerals. Built only from gazetteer names.

use rand::Rng;

use super::gazetteer::Gazetteer;
use super::rng::chance;
use super::words::ROADS;

/// A road named after a place (`新兴路`, `官桥路`): the place's short name + 路.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoadFrom {
    /// Index into `Gazetteer::villages`.
    Village(usize),
    /// Index into `Gazetteer::townships`.
    Township(usize),
}

/// Where an employer works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Address {
    pub township: usize,
    pub village: usize,
    /// Index into `ROADS`; `None` means the village's 工业区.
    pub road: Option<usize>,
    pub number: u16,
    /// A road named after a place; overrides `road`.
    pub road_from: Option<RoadFrom>,
    /// Written with no township or village (`和平路18号`).
    pub bare: bool,
    /// Index into `Gazetteer::neighbours`: the address is in that county, not this one.
    pub county: Option<usize>,
}

impl Address {
    pub fn random(rng: &mut impl Rng, gaz: &Gazetteer, township: usize) -> Address {
        let vs = &gaz.townships[township].villages;
        let village = vs[rng.gen_range(0..vs.len())];
        let road = if chance(rng, 0.2) {
            None
        } else {
            Some(rng.gen_range(0..ROADS.len()))
        };
        Address {
            township,
            village,
            road,
            number: super::rng::log_uniform(rng, 1, 399) as u16,
            road_from: None,
            bare: false,
            county: None,
        }
    }

    /// The registered form.
    pub fn canonical(&self, gaz: &Gazetteer) -> String {
        if let Some(n) = self.county.and_then(|c| gaz.neighbours.get(c)) {
            let prefix = format!("{}{}{}", n.province, n.city, n.name);
            return self.render_street(gaz, &prefix, Numerals::Arabic);
        }
        self.render(gaz, "福建省泉州市南安市", false, Numerals::Arabic)
    }

    /// A variant as a clerk or typist writes it.
    pub fn variant(&self, rng: &mut impl Rng, gaz: &Gazetteer, sloppy: bool) -> String {
        let p = if sloppy { 0.5 } else { 0.25 };
        let prefix = if chance(rng, p) {
            *super::rng::pick(rng, &["南安市", "泉州市南安市", "福建省南安市", ""])
        } else {
            "福建省泉州市南安市"
        };
        let committee = chance(rng, p * 0.5);
        let numerals = if chance(rng, p * 0.3) {
            Numerals::Chinese
        } else if chance(rng, p * 0.2) {
            Numerals::FullWidth
        } else {
            Numerals::Arabic
        };
        if let Some(n) = self.county.and_then(|c| gaz.neighbours.get(c)) {
            // `晋江市和平路18号`, `福建省泉州市晋江市…`: the other county's name is always there.
            let prefix = if prefix == "福建省泉州市南安市" {
                format!("{}{}{}", n.province, n.city, n.name)
            } else {
                n.name.clone()
            };
            return self.render_street(gaz, &prefix, numerals);
        }
        self.render(gaz, prefix, committee, numerals)
    }

    /// `<prefix><road><number>号`: no township or village.
    fn render_street(&self, gaz: &Gazetteer, prefix: &str, numerals: Numerals) -> String {
        let mut s = prefix.to_string();
        s.push_str(&self.road_name(gaz));
        s.push_str(&numerals.write(self.number));
        s.push('号');
        s
    }

    /// The road (`工业路`, `新兴路` after a village, or the village's `工业区`).
    fn road_name(&self, gaz: &Gazetteer) -> String {
        let place = match self.road_from {
            Some(RoadFrom::Village(v)) => gaz.villages.get(v).map(|v| v.stem.as_str()),
            Some(RoadFrom::Township(t)) => gaz.townships.get(t).map(|t| t.short.as_str()),
            None => None,
        };
        match (place, self.road) {
            (Some(p), _) if !p.is_empty() => format!("{p}路"),
            (_, Some(r)) => ROADS[r].to_string(),
            (_, None) => "工业区".to_string(),
        }
    }

    fn render(&self, gaz: &Gazetteer, prefix: &str, committee: bool, numerals: Numerals) -> String {
        if self.bare {
            return self.render_street(gaz, "", numerals);
        }
        let t = &gaz.townships[self.township];
        let v = &gaz.villages[self.village];
        let mut s = format!("{prefix}{}", t.name);
        if !v.stem.is_empty() {
            s.push_str(&v.stem);
            s.push_str(match (committee, v.kind) {
                (true, "村") => "村委会",
                (true, _) => "社区居委会",
                (false, k) => k,
            });
        }
        s.push_str(&self.road_name(gaz));
        s.push_str(&numerals.write(self.number));
        s.push('号');
        s
    }
}

#[derive(Debug, Clone, Copy)]
enum Numerals {
    Arabic,
    Chinese,
    FullWidth,
}

impl Numerals {
    fn write(self, n: u16) -> String {
        match self {
            Numerals::Arabic => n.to_string(),
            Numerals::FullWidth => n
                .to_string()
                .chars()
                .map(|c| char::from_u32(c as u32 + 0xFEE0).unwrap_or(c))
                .collect(),
            Numerals::Chinese => chinese(n),
        }
    }
}

/// 1–9999 in Chinese numerals: 12 → 十二, 105 → 一百零五, 120 → 一百二十.
pub fn chinese(n: u16) -> String {
    const D: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    if n == 0 {
        return D[0].to_string();
    }
    if (10..20).contains(&n) {
        return format!("十{}", if n == 10 { "" } else { D[(n % 10) as usize] });
    }
    let units = [(1000, "千"), (100, "百"), (10, "十"), (1, "")];
    let mut s = String::new();
    let mut zero = false;
    let mut started = false;
    for (u, name) in units {
        let d = (n / u) % 10;
        if d == 0 {
            zero = started;
            continue;
        }
        if zero {
            s.push_str(D[0]);
            zero = false;
        }
        s.push_str(D[d as usize]);
        s.push_str(name);
        started = true;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::chinese;

    #[test]
    fn chinese_numerals() {
        assert_eq!(chinese(3), "三");
        assert_eq!(chinese(12), "十二");
        assert_eq!(chinese(20), "二十");
        assert_eq!(chinese(105), "一百零五");
        assert_eq!(chinese(120), "一百二十");
        assert_eq!(chinese(399), "三百九十九");
    }
}
