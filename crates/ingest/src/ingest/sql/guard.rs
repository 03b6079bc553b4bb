//! The read-only check on `sql.query`: one SELECT/WITH statement, nothing else.
//! It runs before any connection is opened; the database's read-only mode is the second line.

use super::error::SqlError;
use super::url::DbKind;

/// Check that `query` is a single SELECT (or WITH … SELECT) statement and return it without
/// leading/trailing comments, whitespace and the optional final `;`, ready to be nested as a
/// sub-query.
pub fn check_query(query: &str, kind: DbKind) -> Result<String, SqlError> {
    let refuse = |reason: String| Err(SqlError::NotSelect { reason });
    let bytes = query.as_bytes();
    let mysql = kind == DbKind::MySql;
    let mut i = 0usize;
    let mut first_word: Option<String> = None;
    let mut start: Option<usize> = None;
    let mut end = 0usize;
    let mut semicolon = false;

    while i < bytes.len() {
        let c = bytes[i];
        let next = bytes.get(i + 1).copied();
        // Whitespace and comments are not significant.
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if (c == b'-' && next == Some(b'-')) || (mysql && c == b'#') {
            i = find_from(bytes, i, b"\n").map_or(bytes.len(), |p| p + 1);
            continue;
        }
        if c == b'/' && next == Some(b'*') {
            match find_from(bytes, i + 2, b"*/") {
                Some(p) => i = p + 2,
                None => return refuse("unterminated /* comment".into()),
            }
            continue;
        }
        // Everything else is significant.
        if semicolon {
            return refuse("only one statement is allowed (text follows a `;`)".into());
        }
        if c == b';' {
            semicolon = true;
            i += 1;
            continue;
        }
        start.get_or_insert(i);
        let token_start = i;
        match c {
            b'\'' | b'"' | b'`' => {
                i = skip_quoted(bytes, i, c, mysql && c != b'`').ok_or_else(|| {
                    SqlError::NotSelect {
                        reason: format!("unterminated {} quote", c as char),
                    }
                })?;
            }
            b'$' if kind == DbKind::Postgres => {
                i = skip_dollar(bytes, i).ok_or_else(|| SqlError::NotSelect {
                    reason: "unterminated $$ string".into(),
                })?;
            }
            _ if is_word_byte(c) => {
                while i < bytes.len() && is_word_byte(bytes[i]) {
                    i += 1;
                }
                let word = query[token_start..i].to_ascii_uppercase();
                if first_word.is_none() {
                    if word != "SELECT" && word != "WITH" {
                        return refuse(format!(
                            "it must start with SELECT or WITH, not {:?}",
                            &query[token_start..i]
                        ));
                    }
                    first_word = Some(word);
                } else if word == "INTO" {
                    return refuse("SELECT … INTO writes data and is not allowed".into());
                }
            }
            _ => {
                if first_word.is_none() {
                    return refuse("it must start with SELECT or WITH".into());
                }
                i += 1;
            }
        }
        end = i;
    }
    match start {
        Some(s) if first_word.is_some() => Ok(query[s..end].to_string()),
        _ => refuse("the query is empty".into()),
    }
}

fn is_word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80
}

fn find_from(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// Skip a quoted string/identifier starting at `open`; returns the index after it.
fn skip_quoted(bytes: &[u8], open: usize, quote: u8, backslash: bool) -> Option<usize> {
    let mut i = open + 1;
    while i < bytes.len() {
        let c = bytes[i];
        if backslash && c == b'\\' {
            i += 2;
            continue;
        }
        if c == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return Some(i + 1);
        }
        i += 1;
    }
    None
}

/// Skip a PostgreSQL `$tag$ … $tag$` string, or a `$1` parameter.
fn skip_dollar(bytes: &[u8], open: usize) -> Option<usize> {
    let mut j = open + 1;
    while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_') {
        j += 1;
    }
    let tag_is_param = j > open + 1 && bytes[open + 1].is_ascii_digit();
    if tag_is_param || bytes.get(j) != Some(&b'$') {
        return Some(j.max(open + 1));
    }
    let tag = &bytes[open..=j];
    find_from(bytes, j + 1, tag).map(|p| p + tag.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(q: &str) -> String {
        check_query(q, DbKind::Postgres).unwrap()
    }
    fn bad(q: &str, kind: DbKind) -> String {
        check_query(q, kind).unwrap_err().to_string()
    }

    #[test]
    fn accepts_select_and_with_and_strips_trailing_parts() {
        assert_eq!(ok("  select 1 ;  "), "select 1");
        assert_eq!(
            ok("-- hi\n/* c */ WITH a AS (SELECT 1) SELECT * FROM a; -- end"),
            "WITH a AS (SELECT 1) SELECT * FROM a"
        );
        assert_eq!(ok("SELECT ';DROP' AS x"), "SELECT ';DROP' AS x");
        assert_eq!(ok("SELECT $$a;b$$ AS x"), "SELECT $$a;b$$ AS x");
        assert_eq!(
            check_query(r"SELECT 'it\'s;' AS x", DbKind::MySql).unwrap(),
            r"SELECT 'it\'s;' AS x"
        );
        assert_eq!(ok("SELECT \"into\" FROM t"), "SELECT \"into\" FROM t");
    }

    #[test]
    fn refuses_other_statements() {
        assert!(bad("DELETE FROM t", DbKind::Sqlite).contains("SELECT or WITH"));
        assert!(bad("SELECT 1; DELETE FROM t", DbKind::Postgres).contains("one statement"));
        assert!(bad("SELECT 1;; ", DbKind::Postgres).contains("one statement"));
        assert!(bad("   ", DbKind::Postgres).contains("empty"));
        assert!(bad("SELECT * INTO OUTFILE '/tmp/x' FROM t", DbKind::MySql).contains("INTO"));
        assert!(bad("# c\nUPDATE t SET a=1", DbKind::MySql).contains("SELECT or WITH"));
        assert!(bad("SELECT 'x", DbKind::Postgres).contains("unterminated"));
        assert!(bad("(SELECT 1)", DbKind::Postgres).contains("SELECT or WITH"));
        assert!(bad("SELECTX 1", DbKind::Postgres).contains("SELECT or WITH"));
    }
}
