//! `yingbao gen` is deterministic and the committed sample is exactly what it writes.

use std::path::Path;
use std::process::Command;

fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read_dir") {
        let p = entry.expect("entry").path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

#[test]
fn committed_sample_is_what_gen_writes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = tempfile::tempdir().expect("tempdir");
    let status = Command::new(env!("CARGO_BIN_EXE_yingbao"))
        .current_dir(root)
        .args([
            "gen",
            "--employers",
            "600",
            "--seed",
            "2025",
            "--as-of",
            "2025-06-30",
            // The committed sample predates the phenomena (see `gen --help`).
            "--no-phenomena",
            "--out",
        ])
        .arg(out.path())
        .status()
        .expect("run gen");
    assert!(status.success());
    let sample = root.join("connectors/sample");
    let generated = files(out.path());
    assert!(
        generated.len() >= 30,
        "six feeds and truth: {}",
        generated.len()
    );
    for g in &generated {
        let rel = g.strip_prefix(out.path()).expect("prefix");
        let committed = std::fs::read(sample.join(rel))
            .unwrap_or_else(|_| panic!("{} is not committed", rel.display()));
        assert!(
            committed == std::fs::read(g).expect("read"),
            "{} differs from the committed sample",
            rel.display()
        );
    }
}
