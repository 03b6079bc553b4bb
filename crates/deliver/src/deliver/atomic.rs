//! Writing a file so that a reader sees the old one or the new one, never half of either: a
//! temporary sibling is written, synced to disk, made readable by others, and renamed over it.

use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Replaces `path` with `bytes` atomically; an interrupted write leaves the old file and no
/// temporary file behind.
pub fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".yingbao-")
        .suffix(".part")
        .tempfile_in(&dir)?;
    tmp.write_all(bytes)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        // tempfile creates 0600; lists and reports are read by other accounts (a share, a
        // web server).
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_replaces_the_file_and_leaves_no_temporary_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("清单.xlsx");
        write(&p, b"one").expect("first");
        write(&p, b"two").expect("second");
        assert_eq!(std::fs::read(&p).expect("read"), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&p).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o644);
        }
    }

    #[test]
    fn a_missing_folder_is_an_error_and_writes_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("missing").join("x.csv");
        assert!(write(&p, b"x").is_err());
        assert!(!p.exists());
    }
}
