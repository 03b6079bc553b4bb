//! A file feed's fingerprint: its connector, this reader's version and the bytes of every file
//! it names, hashed — so that a run can know an export it has read before without reading it.

use std::io::Read;
use std::path::Path;

use sha2::{Digest as _, Sha256};

use super::spec::ConnectorSpec;
use super::{files, IngestError};

/// 16 bytes of SHA-256 over everything that decides what reading a file feed gives.
pub type Fingerprint = [u8; 16];

/// The fingerprint of a file feed as it stands now; `None` for a remote source (what an API
/// or a database returns can only be known by asking it). Two equal fingerprints mean the
/// same connector settings, the same reader and the same files, byte for byte, in the same
/// order — so reading them again would give the same records, rejects and counts.
pub fn fingerprint(spec: &ConnectorSpec, root: &Path) -> Result<Option<Fingerprint>, IngestError> {
    if spec.is_remote() {
        return Ok(None);
    }
    let mut h = Sha256::new();
    let mut part = |bytes: &[u8]| {
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    };
    part(env!("CARGO_PKG_VERSION").as_bytes());
    // The connector as it is written (its id and every mapping, format and rule).
    part(format!("{spec:?}").as_bytes());
    let paths = files::resolve(&spec.file, root)?;
    let mut buf = vec![0u8; 1 << 20];
    for path in &paths {
        part(path.as_os_str().as_encoded_bytes());
        let read_err = |source| IngestError::Read {
            path: path.clone(),
            source,
        };
        let mut file = std::fs::File::open(path).map_err(read_err)?;
        let mut content = Sha256::new();
        let mut len = 0u64;
        loop {
            let n = file.read(&mut buf).map_err(read_err)?;
            if n == 0 {
                break;
            }
            content.update(&buf[..n]);
            len += n as u64;
        }
        part(&len.to_le_bytes());
        part(&content.finalize());
    }
    let full = h.finalize();
    let mut out = [0u8; 16];
    out.copy_from_slice(&full[..16]);
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(path: &str) -> ConnectorSpec {
        let text = format!(
            "feed = \"market\"\n[file]\npath = \"{path}\"\n[columns]\nname = \"企业名称\"\n"
        );
        toml::from_str(&text).expect("connector")
    }

    /// The same bytes give the same fingerprint; one byte more, another file in a folder,
    /// or a changed mapping give another.
    #[test]
    fn a_fingerprint_changes_with_the_files_and_the_connector() {
        let dir = tempfile::tempdir().expect("dir");
        let feed = dir.path().join("feed");
        std::fs::create_dir(&feed).expect("mkdir");
        std::fs::write(feed.join("a.csv"), "企业名称\n甲公司\n").expect("write");
        let s = spec("feed");
        let first = fingerprint(&s, dir.path())
            .expect("read")
            .expect("a file feed");
        assert_eq!(fingerprint(&s, dir.path()).expect("read"), Some(first));

        std::fs::write(feed.join("a.csv"), "企业名称\n甲公司\n乙\n").expect("write");
        let grown = fingerprint(&s, dir.path()).expect("read").expect("file");
        assert_ne!(grown, first);

        std::fs::write(feed.join("b.csv"), "企业名称\n").expect("write");
        let more = fingerprint(&s, dir.path()).expect("read").expect("file");
        assert_ne!(more, grown);

        let mut remapped = s.clone();
        remapped.personal_columns = vec!["身份证号".into()];
        assert_ne!(
            fingerprint(&remapped, dir.path()).expect("read"),
            Some(more),
            "the connector is part of it"
        );
    }

    #[test]
    fn a_missing_file_is_an_error_not_a_fingerprint() {
        let dir = tempfile::tempdir().expect("dir");
        assert!(fingerprint(&spec("none.csv"), dir.path()).is_err());
    }
}
