//! TEMPORARY stand-in until the place branch lands.
//! Removed on merge.
use super::Locator;
#[derive(Debug, Clone)]
pub struct OtherCounty {
    pub code: String,
    pub name: String,
    pub city_code: String,
    pub city_name: String,
}
impl Locator {
    pub fn foreign_county(&self, _text: &str) -> Option<&OtherCounty> {
        None
    }
    pub fn foreign_region(&self, _uscc: &str) -> Option<&OtherCounty> {
        None
    }
}
