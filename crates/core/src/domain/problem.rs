//! A configuration problem: which file, which line, which key, what is wrong, what would be right.
//! `yingbao check` prints every one of them; nothing else in the program prints config errors.

use std::fmt;
use std::path::PathBuf;

/// One thing wrong with the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: PathBuf,
    /// 1-based line, when the problem has a place in the file.
    pub line: Option<usize>,
    /// Dotted key path (`policy.lead_rules[1].min_workers`), when the problem is about a key.
    pub key: Option<String>,
    pub message: String,
    /// What would be right, when we can say.
    pub hint: Option<String>,
}

impl Problem {
    pub fn new(file: impl Into<PathBuf>, message: impl Into<String>) -> Problem {
        Problem {
            file: file.into(),
            line: None,
            key: None,
            message: message.into(),
            hint: None,
        }
    }

    pub fn at(mut self, line: Option<usize>) -> Problem {
        self.line = line;
        self
    }

    pub fn key(mut self, key: impl Into<String>) -> Problem {
        self.key = Some(key.into());
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Problem {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(key) = &self.key {
            write!(f, ": `{key}`")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, " ({hint})")?;
        }
        Ok(())
    }
}

/// The closest of `candidates` to `word`, if it is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_file_line_key_and_hint() {
        let p = Problem::new("config/yingbao.toml", "unknown key")
            .at(Some(7))
            .key("policy.lapse_month")
            .hint("did you mean `lapse_months`?");
        assert_eq!(
            p.to_string(),
            "config/yingbao.toml:7: `policy.lapse_month`: unknown key (did you mean `lapse_months`?)"
        );
    }

    #[test]
    fn suggestion_only_when_close() {
        assert_eq!(
            did_you_mean("lapse_month", ["lapse_months", "as_of"]),
            Some("lapse_months")
        );
        assert_eq!(did_you_mean("zzz", ["lapse_months", "as_of"]), None);
    }
}
