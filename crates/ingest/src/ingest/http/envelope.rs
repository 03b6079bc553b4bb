//! Reading a JSON response: dotted-path lookup, the platform's error envelope, the records
//! array, the declared total, and `flatten` (a record as key/text pairs).

use serde_json::{Map, Value};

use super::error::HttpError;
use super::spec::ErrorEnvelope;

/// Looks up a dotted path (`data.rows`) in `v`. The empty path is `v` itself. A segment that is
/// a number indexes an array (`data.0.rows`). Keys containing dots cannot be addressed.
pub fn lookup<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    let path = path.trim();
    if path.is_empty() {
        return Some(v);
    }
    let mut cur = v;
    for seg in path.split('.') {
        cur = match cur {
            Value::Object(m) => m.get(seg)?,
            Value::Array(a) => a.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// The text of a scalar: strings as they are, numbers as written, booleans as `true`/`false`.
/// `None` for null, arrays and objects.
pub fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A short English name of a JSON value's type, for error messages.
pub fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Where a response came from, for error messages.
#[derive(Debug, Clone, Copy)]
pub struct PageRef<'a> {
    /// Page number in this pull, from 1.
    pub page: usize,
    /// The URL requested, secrets removed.
    pub url: &'a str,
}

impl PageRef<'_> {
    fn shape(&self, detail: String) -> HttpError {
        HttpError::Shape {
            page: self.page,
            url: self.url.to_string(),
            detail,
        }
    }
}

/// Fails with `Envelope` when the response's code is missing or not one of `ok_values`.
pub fn check_envelope(doc: &Value, spec: &ErrorEnvelope, at: PageRef<'_>) -> Result<(), HttpError> {
    let code = lookup(doc, &spec.code_path).and_then(scalar_text);
    let ok = code
        .as_deref()
        .is_some_and(|c| spec.ok_values.iter().any(|ok| ok.trim() == c.trim()));
    if ok {
        return Ok(());
    }
    let message = spec
        .message_path
        .as_deref()
        .and_then(|p| lookup(doc, p))
        .map(|m| scalar_text(m).unwrap_or_else(|| m.to_string()))
        .unwrap_or_default();
    Err(HttpError::Envelope {
        page: at.page,
        url: at.url.to_string(),
        code: code.unwrap_or_else(|| format!("<missing at {}>", spec.code_path)),
        message,
    })
}

/// Takes the records out of a response: the array at `path` (empty path = the root), each
/// element a JSON object. `null` at the path (or at a parent: `{"data": null}`) is an empty
/// page; a missing path is an error.
pub fn take_records(
    doc: &mut Value,
    path: &str,
    at: PageRef<'_>,
) -> Result<Vec<Map<String, Value>>, HttpError> {
    let shown = if path.trim().is_empty() {
        "<root>"
    } else {
        path.trim()
    };
    let Some(slot) = lookup_mut(doc, path) else {
        if null_on_the_way(doc, path) {
            return Ok(Vec::new());
        }
        return Err(at.shape(format!("records_path {shown:?} is not in the response")));
    };
    let items = match slot.take() {
        Value::Array(a) => a,
        Value::Null => Vec::new(),
        other => {
            return Err(at.shape(format!(
                "records_path {shown:?} is {}, not an array",
                kind_name(&other)
            )))
        }
    };
    items
        .into_iter()
        .enumerate()
        .map(|(index, item)| match item {
            Value::Object(m) => Ok(m),
            other => Err(HttpError::NotObject {
                page: at.page,
                url: at.url.to_string(),
                index,
                found: kind_name(&other),
            }),
        })
        .collect()
}

/// Whether a prefix of `path` leads to `null` (`{"data": null}` for `data.rows`): an empty page.
fn null_on_the_way(doc: &Value, path: &str) -> bool {
    let segs: Vec<&str> = path.trim().split('.').collect();
    (1..segs.len()).any(|n| matches!(lookup(doc, &segs[..n].join(".")), Some(Value::Null)))
}

fn lookup_mut<'a>(v: &'a mut Value, path: &str) -> Option<&'a mut Value> {
    let path = path.trim();
    if path.is_empty() {
        return Some(v);
    }
    let mut cur = v;
    for seg in path.split('.') {
        cur = match cur {
            Value::Object(m) => m.get_mut(seg)?,
            Value::Array(a) => a.get_mut(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// The declared total at `path`: a non-negative integer or a string holding one.
/// `Ok(None)` when the path is absent or null.
pub fn read_total(doc: &Value, path: &str, at: PageRef<'_>) -> Result<Option<u64>, HttpError> {
    match lookup(doc, path) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => {
            let parsed = match v {
                Value::Number(n) => n.as_u64(),
                Value::String(s) => s.trim().parse::<u64>().ok(),
                _ => None,
            };
            parsed.map(Some).ok_or_else(|| {
                at.shape(format!(
                    "total_path {path:?} is {v}, not a non-negative whole number"
                ))
            })
        }
    }
}

/// A non-empty string (or number) at `path`, e.g. a next cursor or link; `None` when missing,
/// null or empty.
pub fn read_token(doc: &Value, path: &str) -> Option<String> {
    lookup(doc, path)
        .and_then(scalar_text)
        .filter(|s| !s.trim().is_empty())
}

/// Joins the scalars of an array in `flatten`.
pub const ARRAY_JOIN: &str = "、";

/// A record as (key, text) pairs, in the `Map`'s key order (sorted by key unless serde_json's
/// `preserve_order` feature is on):
///
/// * strings as they are; numbers as written in the JSON (`12.50` stays `12.50` when
///   serde_json's `arbitrary_precision` feature is on; without it decimals are re-printed, e.g.
///   `12.5`, and integers never get a `.0`); booleans `true`/`false`;
/// * `null` is omitted;
/// * nested objects give dotted keys (`addr.city`);
/// * arrays of scalars are joined with `、` (nulls skipped; an empty array is omitted); an
///   array holding objects or arrays is kept as its compact JSON text.
pub fn flatten(record: &Map<String, Value>) -> Vec<(String, String)> {
    let mut out = Vec::with_capacity(record.len());
    flatten_into(record, "", &mut out);
    out
}

fn flatten_into(map: &Map<String, Value>, prefix: &str, out: &mut Vec<(String, String)>) {
    for (k, v) in map {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            Value::Null => {}
            Value::Object(inner) => flatten_into(inner, &key, out),
            Value::Array(items) => {
                if items.iter().any(|i| i.is_object() || i.is_array()) {
                    out.push((key, v.to_string()));
                } else {
                    let parts: Vec<String> = items.iter().filter_map(scalar_text).collect();
                    if !parts.is_empty() {
                        out.push((key, parts.join(ARRAY_JOIN)));
                    }
                }
            }
            scalar => {
                if let Some(t) = scalar_text(scalar) {
                    out.push((key, t));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const AT: PageRef<'static> = PageRef {
        page: 3,
        url: "http://x/api",
    };

    #[test]
    fn lookup_follows_dotted_paths_and_indexes() {
        let v = json!({"data": {"rows": [1, 2], "list": [{"id": "a"}]}, "code": 0});
        assert_eq!(lookup(&v, ""), Some(&v));
        assert_eq!(lookup(&v, "data.rows"), Some(&json!([1, 2])));
        assert_eq!(lookup(&v, "data.list.0.id"), Some(&json!("a")));
        assert_eq!(lookup(&v, "code"), Some(&json!(0)));
        assert_eq!(lookup(&v, "data.missing"), None);
        assert_eq!(lookup(&v, "code.deeper"), None);
        assert_eq!(lookup(&v, "data.list.x"), None);
        assert_eq!(lookup(&v, "data.list.5"), None);
    }

    #[test]
    fn envelope_compares_numbers_and_strings_as_text() {
        let spec = ErrorEnvelope {
            code_path: "code".into(),
            ok_values: vec!["0".into(), "200".into()],
            message_path: Some("msg".into()),
        };
        assert!(check_envelope(&json!({"code": 0}), &spec, AT).is_ok());
        assert!(check_envelope(&json!({"code": "200"}), &spec, AT).is_ok());
        let err =
            check_envelope(&json!({"code": "500", "msg": "系统繁忙"}), &spec, AT).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("500") && text.contains("系统繁忙") && text.contains("page 3"),
            "{text}"
        );
        let err = check_envelope(&json!({"msg": "?"}), &spec, AT).unwrap_err();
        assert!(err.to_string().contains("<missing at code>"), "{err}");
    }

    #[test]
    fn records_must_be_an_array_of_objects() {
        let mut doc = json!({"data": {"rows": [{"id": 1}, {"id": 2}]}});
        assert_eq!(take_records(&mut doc, "data.rows", AT).unwrap().len(), 2);
        let mut doc = json!([{"id": 1}]);
        assert_eq!(take_records(&mut doc, "", AT).unwrap().len(), 1);
        let mut doc = json!({"data": {"rows": null}});
        assert!(take_records(&mut doc, "data.rows", AT).unwrap().is_empty());
        let mut doc = json!({"code": 0, "data": null});
        assert!(take_records(&mut doc, "data.rows", AT).unwrap().is_empty());

        let mut doc = json!({"data": {"rows": {"id": 1}}});
        let err = take_records(&mut doc, "data.rows", AT).unwrap_err();
        assert!(
            err.to_string()
                .contains("\"data.rows\" is an object, not an array"),
            "{err}"
        );
        let mut doc = json!({"data": {}});
        let err = take_records(&mut doc, "data.rows", AT).unwrap_err();
        assert!(
            err.to_string()
                .contains("\"data.rows\" is not in the response"),
            "{err}"
        );
        let mut doc = json!([{"id": 1}, "x"]);
        match take_records(&mut doc, "", AT).unwrap_err() {
            HttpError::NotObject {
                page, index, found, ..
            } => {
                assert_eq!((page, index, found), (3, 1, "a string"));
            }
            e => panic!("{e}"),
        }
    }

    #[test]
    fn totals_accept_numbers_and_numeric_strings() {
        assert_eq!(
            read_total(&json!({"t": 1050}), "t", AT).unwrap(),
            Some(1050)
        );
        assert_eq!(read_total(&json!({"t": " 7 "}), "t", AT).unwrap(), Some(7));
        assert_eq!(read_total(&json!({"t": null}), "t", AT).unwrap(), None);
        assert_eq!(read_total(&json!({}), "t", AT).unwrap(), None);
        assert!(read_total(&json!({"t": "many"}), "t", AT).is_err());
        assert!(read_total(&json!({"t": -1}), "t", AT).is_err());
    }

    #[test]
    fn tokens_skip_empty_and_null() {
        assert_eq!(read_token(&json!({"c": "abc"}), "c"), Some("abc".into()));
        assert_eq!(read_token(&json!({"c": 42}), "c"), Some("42".into()));
        assert_eq!(read_token(&json!({"c": ""}), "c"), None);
        assert_eq!(read_token(&json!({"c": null}), "c"), None);
        assert_eq!(read_token(&json!({}), "c"), None);
    }

    #[test]
    fn flatten_writes_text_as_the_json_gives_it() {
        let doc: Value = serde_json::from_str(
            r#"{"id": 7, "name": "南京某某化工有限公司", "fee": 12.50, "rate": 0.1,
                "big": 12345678901234567890, "ok": true, "gone": null,
                "addr": {"city": "南京", "geo": {"lat": 32.05}, "none": null},
                "tags": ["粉尘", "噪声", null], "empty": [], "mixed": [{"a": 1}]}"#,
        )
        .unwrap();
        let Value::Object(rec) = doc else { panic!() };
        let mut flat = flatten(&rec);
        flat.sort();
        let mut want: Vec<(String, String)> = [
            ("id", "7"),
            ("name", "南京某某化工有限公司"),
            ("fee", "12.50"),
            ("rate", "0.1"),
            ("big", "12345678901234567890"),
            ("ok", "true"),
            ("addr.city", "南京"),
            ("addr.geo.lat", "32.05"),
            ("tags", "粉尘、噪声"),
            ("mixed", r#"[{"a":1}]"#),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        want.sort();
        assert_eq!(flat, want);
    }
}
