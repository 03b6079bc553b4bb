//! Typed deserialisation of a TOML file that reports *every* problem, each with line and key.
//! serde stops at the first error; we record it, remove the offending key, and try again.

use std::ops::Range;
use std::path::Path;

use serde::de::DeserializeOwned;
use toml_edit::{ImDocument, Item, Value};

use crate::domain::problem::{did_you_mean, Problem};

/// One step of a key path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// Dotted form of a key path: `policy.lead_rules[1].reason`.
pub fn dotted(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// A parsed file kept with its text, so keys can be mapped to lines.
pub struct SpannedDoc {
    text: String,
    doc: ImDocument<String>,
}

impl SpannedDoc {
    pub fn parse(file: &Path, text: &str) -> Result<SpannedDoc, Problem> {
        match ImDocument::parse(text.to_string()) {
            Ok(doc) => Ok(SpannedDoc {
                text: text.to_string(),
                doc,
            }),
            Err(e) => {
                let line = e.span().map(|s| line_of(text, s.start));
                Err(
                    Problem::new(file, format!("not valid TOML: {}", e.message()))
                        .at(line)
                        .hint("check quotes, brackets and `key = value` form"),
                )
            }
        }
    }

    /// The line where `path` is written (its key), or its nearest written ancestor.
    pub fn line(&self, path: &[Seg]) -> Option<usize> {
        (0..=path.len())
            .rev()
            .find_map(|n| self.span_of(&path[..n]))
            .map(|s| line_of(&self.text, s.start))
    }

    fn span_of(&self, path: &[Seg]) -> Option<Range<usize>> {
        let mut node = Node::Item(self.doc.as_item());
        let mut span = None;
        for seg in path {
            let (next, next_span) = node.child(seg)?;
            span = next_span.or(span);
            node = next;
        }
        span
    }

    /// The deepest key path whose key or value covers `span`.
    fn path_at(&self, span: &Range<usize>) -> Vec<Seg> {
        let mut path = Vec::new();
        walk(self.doc.as_item(), span, &mut path);
        path
    }
}

/// A place in a document: arrays of tables hold `Table`s and arrays hold `Value`s, not `Item`s.
#[derive(Clone, Copy)]
enum Node<'a> {
    Item(&'a Item),
    Table(&'a toml_edit::Table),
    Value(&'a Value),
}

impl<'a> Node<'a> {
    fn child(self, seg: &Seg) -> Option<(Node<'a>, Option<Range<usize>>)> {
        match seg {
            Seg::Key(k) => {
                let (key, item) = match self {
                    Node::Item(i) => i.as_table_like()?.get_key_value(k)?,
                    Node::Table(t) => t.get_key_value(k)?,
                    Node::Value(Value::InlineTable(t)) => t.get_key_value(k)?,
                    Node::Value(_) => return None,
                };
                Some((Node::Item(item), key.span().or_else(|| item.span())))
            }
            Seg::Index(i) => match self {
                Node::Item(Item::ArrayOfTables(a)) => {
                    let t = a.get(*i)?;
                    Some((Node::Table(t), t.span()))
                }
                Node::Item(Item::Value(Value::Array(a))) | Node::Value(Value::Array(a)) => {
                    let v = a.get(*i)?;
                    Some((Node::Value(v), v.span()))
                }
                _ => None,
            },
        }
    }
}

fn covers(outer: &Option<Range<usize>>, inner: &Range<usize>) -> bool {
    matches!(outer, Some(o) if o.start <= inner.start && inner.end <= o.end.max(o.start + 1))
}

fn walk(item: &Item, span: &Range<usize>, path: &mut Vec<Seg>) {
    if let Some(table) = item.as_table_like() {
        for (k, _) in table.iter() {
            let Some((key, next)) = table.get_key_value(k) else {
                continue;
            };
            if covers(&key.span(), span) || covers(&next.span(), span) || contains(next, span) {
                path.push(Seg::Key(k.to_string()));
                walk(next, span, path);
                return;
            }
        }
    }
    match item {
        Item::ArrayOfTables(a) => {
            for (i, t) in a.iter().enumerate() {
                let as_item = Item::Table(t.clone());
                if covers(&t.span(), span) || contains(&as_item, span) {
                    path.push(Seg::Index(i));
                    walk(&as_item, span, path);
                    return;
                }
            }
        }
        Item::Value(Value::Array(a)) => {
            for (i, v) in a.iter().enumerate() {
                if covers(&v.span(), span) {
                    path.push(Seg::Index(i));
                    walk(&Item::Value(v.clone()), span, path);
                    return;
                }
            }
        }
        _ => {}
    }
}

/// Whether any key or value below `item` covers `span`.
fn contains(item: &Item, span: &Range<usize>) -> bool {
    if let Some(table) = item.as_table_like() {
        for (k, _) in table.iter() {
            if let Some((key, next)) = table.get_key_value(k) {
                if covers(&key.span(), span) || covers(&next.span(), span) || contains(next, span) {
                    return true;
                }
            }
        }
    }
    match item {
        Item::ArrayOfTables(a) => a
            .iter()
            .any(|t| covers(&t.span(), span) || contains(&Item::Table(t.clone()), span)),
        Item::Value(Value::Array(a)) => a.iter().any(|v| covers(&v.span(), span)),
        _ => false,
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

fn remove_path(doc: &mut toml_edit::DocumentMut, path: &[Seg]) -> bool {
    remove_in_item(doc.as_item_mut(), path)
}

fn remove_in_item(item: &mut Item, path: &[Seg]) -> bool {
    match path {
        [] => false,
        [Seg::Key(k)] => item.as_table_like_mut().and_then(|t| t.remove(k)).is_some(),
        [Seg::Index(i)] => match item {
            Item::ArrayOfTables(a) if *i < a.len() => {
                a.remove(*i);
                true
            }
            Item::Value(Value::Array(a)) if *i < a.len() => {
                a.remove(*i);
                true
            }
            _ => false,
        },
        [Seg::Key(k), rest @ ..] => item
            .as_table_like_mut()
            .and_then(|t| t.get_mut(k))
            .is_some_and(|i| remove_in_item(i, rest)),
        [Seg::Index(i), rest @ ..] => match item {
            Item::ArrayOfTables(a) => a.get_mut(*i).is_some_and(|t| remove_in_table(t, rest)),
            _ => false,
        },
    }
}

fn remove_in_table(table: &mut toml_edit::Table, path: &[Seg]) -> bool {
    match path {
        [Seg::Key(k)] => table.remove(k).is_some(),
        [Seg::Key(k), rest @ ..] => table.get_mut(k).is_some_and(|i| remove_in_item(i, rest)),
        _ => false,
    }
}

/// The result of a forgiving typed load: every problem, and the value if one could be built
/// (from the repaired text when there were problems: valid only when `problems` is empty).
pub struct Loaded<T> {
    pub value: Option<T>,
    pub doc: Option<SpannedDoc>,
    pub problems: Vec<Problem>,
}

/// Deserialises `text` into `T`, collecting every unknown key, wrong type and missing key.
pub fn load_typed<T: DeserializeOwned>(file: &Path, text: &str) -> Loaded<T> {
    let original = match SpannedDoc::parse(file, text) {
        Ok(d) => d,
        Err(p) => {
            return Loaded {
                value: None,
                doc: None,
                problems: vec![p],
            }
        }
    };
    let mut problems = Vec::new();
    let mut removed: Vec<String> = Vec::new();
    let mut current = text.to_string();
    for _ in 0..64 {
        let err = match toml::from_str::<T>(&current) {
            Ok(v) => {
                // With problems, `v` was built from the repaired text (unknown keys removed,
                // wrong values stood in for) so that later checks can still look at the rest.
                return Loaded {
                    value: Some(v),
                    doc: Some(original),
                    problems,
                };
            }
            Err(e) => e,
        };
        let Ok(now) = SpannedDoc::parse(file, &current) else {
            break;
        };
        let msg = err.message().to_string();
        let whole =
            |s: &Range<usize>| s.start == 0 && (s.is_empty() || s.end >= current.trim_end().len());
        let path = match err.span() {
            Some(s) if !whole(&s) => now.path_at(&s),
            _ => Vec::new(),
        };
        if let Some(field) = between(&msg, "missing field `", "`") {
            let mut full = path.clone();
            full.push(Seg::Key(field.to_string()));
            let key = dotted(&full);
            if !removed.contains(&key) {
                problems.push(
                    Problem::new(file, "required key is missing")
                        .at(original.line(&path))
                        .key(key),
                );
            }
            break;
        }
        let mut problem = Problem::new(file, first_sentence(&msg))
            .at(original.line(&path))
            .key(dotted(&path));
        if let Some(unknown) = between(&msg, "unknown field `", "`") {
            let expected = expected_list(&msg);
            problem.message = "unknown key".to_string();
            problem.hint = Some(
                match did_you_mean(unknown, expected.iter().map(String::as_str)) {
                    Some(s) => format!("did you mean `{s}`? allowed here: {}", expected.join(", ")),
                    None => format!("allowed here: {}", expected.join(", ")),
                },
            );
        } else if let Some(variant) = between(&msg, "unknown variant `", "`") {
            let expected = expected_list(&msg);
            problem.message = format!("`{variant}` is not an accepted value");
            problem.hint = Some(
                match did_you_mean(variant, expected.iter().map(String::as_str)) {
                    Some(s) => format!("did you mean `{s}`? accepted: {}", expected.join(", ")),
                    None => format!("accepted: {}", expected.join(", ")),
                },
            );
        }
        problems.push(problem);
        let mut doc = now.doc.clone().into_mut();
        // Replace a wrongly typed value with a harmless one of the right type, so that later
        // keys are still checked; remove an unknown key (or a value we cannot stand in for).
        let fixed = match stand_in(&msg) {
            Some(v) if !msg.contains("unknown field") => replace_path(&mut doc, &path, v),
            _ => false,
        };
        if path.is_empty() || !(fixed || remove_path(&mut doc, &path)) {
            break;
        }
        removed.push(dotted(&path));
        current = doc.to_string();
    }
    Loaded {
        value: None,
        doc: Some(original),
        problems,
    }
}

/// A value of the type an "expected …" message asks for.
fn stand_in(msg: &str) -> Option<toml_edit::Item> {
    let expected = msg.split("expected").nth(1)?.trim();
    let value: Value = if ["u8", "u16", "u32", "u64", "usize", "i32", "i64", "integer"]
        .iter()
        .any(|t| expected.starts_with(t))
    {
        Value::from(0i64)
    } else if expected.starts_with("f64") || expected.starts_with("f32") {
        Value::from(0.5f64)
    } else if expected.starts_with("a string") || expected.starts_with("string") {
        Value::from("")
    } else if expected.starts_with("a boolean") {
        Value::from(false)
    } else if expected.starts_with("a sequence") {
        Value::Array(toml_edit::Array::new())
    } else {
        return None;
    };
    Some(Item::Value(value))
}

fn replace_path(doc: &mut toml_edit::DocumentMut, path: &[Seg], value: Item) -> bool {
    fn go(item: &mut Item, path: &[Seg], value: Item) -> bool {
        match path {
            [] => {
                *item = value;
                true
            }
            [Seg::Key(k), rest @ ..] => match item.as_table_like_mut().and_then(|t| t.get_mut(k)) {
                Some(i) => go(i, rest, value),
                None => false,
            },
            [Seg::Index(i), rest @ ..] => match item {
                Item::ArrayOfTables(a) => match a.get_mut(*i) {
                    Some(t) => {
                        let Some((Seg::Key(k), rest)) = rest.split_first() else {
                            return false;
                        };
                        t.get_mut(k).is_some_and(|i| go(i, rest, value))
                    }
                    None => false,
                },
                Item::Value(Value::Array(a)) if rest.is_empty() && *i < a.len() => {
                    match value.into_value() {
                        Ok(v) => {
                            a.replace(*i, v);
                            true
                        }
                        Err(_) => false,
                    }
                }
                _ => false,
            },
        }
    }
    go(doc.as_item_mut(), path, value)
}

fn between<'a>(s: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = s.find(start)? + start.len();
    let len = s[from..].find(end)?;
    Some(&s[from..from + len])
}

fn first_sentence(msg: &str) -> String {
    msg.lines().next().unwrap_or(msg).trim().to_string()
}

fn expected_list(msg: &str) -> Vec<String> {
    let Some(idx) = msg.find("expected") else {
        return Vec::new();
    };
    msg[idx..]
        .split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, s)| s.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        months: u32,
        #[serde(default)]
        words: Vec<String>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        name: String,
        inner: Inner,
        #[serde(default)]
        rules: Vec<Inner>,
    }

    #[test]
    fn every_problem_is_reported_with_line_and_key() {
        let text = "name = \"x\"\ncolour = 1\n\n[inner]\nmonths = \"six\"\nwordz = []\n\n[[rules]]\nmonths = 3\n\n[[rules]]\nmonths = 4\nextra = true\n";
        let loaded = load_typed::<Outer>(Path::new("t.toml"), text);
        let shown: Vec<String> = loaded.problems.iter().map(|p| p.to_string()).collect();
        assert_eq!(loaded.problems.len(), 4, "{shown:#?}");
        assert!(
            shown
                .iter()
                .any(|s| s.starts_with("t.toml:2: `colour`: unknown key")),
            "{shown:#?}"
        );
        assert!(
            shown
                .iter()
                .any(|s| s.starts_with("t.toml:5: `inner.months`")),
            "{shown:#?}"
        );
        assert!(
            shown
                .iter()
                .any(|s| s
                    .starts_with("t.toml:6: `inner.wordz`: unknown key (did you mean `words`?")),
            "{shown:#?}"
        );
        assert!(
            shown
                .iter()
                .any(|s| s.starts_with("t.toml:13: `rules[1].extra`")),
            "{shown:#?}"
        );
    }

    #[test]
    fn missing_key_and_clean_file() {
        let loaded = load_typed::<Outer>(Path::new("t.toml"), "[inner]\nmonths = 1\n");
        assert_eq!(loaded.problems.len(), 1);
        assert_eq!(loaded.problems[0].key.as_deref(), Some("name"));
        let ok = load_typed::<Outer>(Path::new("t.toml"), "name = \"a\"\n[inner]\nmonths = 1\n");
        assert!(ok.problems.is_empty());
        assert_eq!(ok.value.map(|o| o.inner.months), Some(1));
    }

    #[test]
    fn syntax_error_has_a_line() {
        let loaded = load_typed::<Outer>(Path::new("t.toml"), "name = \"a\"\n[inner\n");
        assert_eq!(loaded.problems.len(), 1);
        assert_eq!(loaded.problems[0].line, Some(2));
    }
}
