//! The module layers inside each crate, as ARCHITECTURE.md states them: a module names only
//! modules below it (`crate::x`). Between crates Cargo keeps the layers; inside one, this test.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Each crate's modules, lowest first; a module may use only those before it.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "crates/stages/src",
        &["resolve", "place", "screen", "leads"],
    ),
    ("crates/deliver/src", &["deliver", "feedback"]),
    (
        "src",
        &[
            "gen", "config", "pipeline", "eval", "report", "portal", "daemon", "cli",
        ],
    ),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The modules of `names` that `text` reaches through `crate::` (plain or grouped).
fn used(text: &str, names: &[&str]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (i, _) in text.match_indices("crate::") {
        let rest = &text[i + "crate::".len()..];
        let idents: Vec<&str> = match rest.strip_prefix('{') {
            Some(group) => group
                .split('}')
                .next()
                .unwrap_or_default()
                .split(',')
                .map(|s| s.trim().split("::").next().unwrap_or_default())
                .collect(),
            None => vec![rest
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .next()
                .unwrap_or_default()],
        };
        out.extend(
            idents
                .into_iter()
                .filter(|x| names.contains(x))
                .map(str::to_string),
        );
    }
    out
}

#[test]
fn no_module_uses_one_above_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut wrong = Vec::new();
    for (dir, order) in LAYERS {
        for (rank, module) in order.iter().enumerate() {
            let mut files = Vec::new();
            rust_files(&root.join(dir).join(module), &mut files);
            let single = root.join(dir).join(format!("{module}.rs"));
            if single.is_file() {
                files.push(single);
            }
            assert!(!files.is_empty(), "{dir}/{module} has no source");
            for f in files {
                let text = std::fs::read_to_string(&f).expect("read source");
                for m in used(&text, order) {
                    let at = order.iter().position(|x| *x == m).unwrap_or(0);
                    if at > rank {
                        wrong.push(format!("{} uses {m}", f.display()));
                    }
                }
            }
        }
    }
    assert!(wrong.is_empty(), "layer violations:\n{}", wrong.join("\n"));
}

#[test]
fn the_scanner_sees_plain_and_grouped_paths() {
    let names = ["config", "pipeline", "portal"];
    let text = "use crate::config::Config;\nuse crate::{pipeline::run, portal};\nlet x = crate::daemon::y;";
    let found: Vec<String> = used(text, &names).into_iter().collect();
    assert_eq!(found, ["config", "pipeline", "portal"]);
}
