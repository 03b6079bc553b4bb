//! The project lock: one `yingbao run` or `serve` at a time on a project, as an exclusive
//! advisory lock on `var/yingbao.lock`; only its holder may call a `running` run interrupted.
//!
//! The lock is the operating system's (`flock`, through `File::try_lock`): it goes with the
//! process, so a process that crashed or was killed holds nothing, and a run its database
//! still calls `running` belongs to no live process once the lock is ours. The file is never
//! deleted: removing it while another process waits on it would let two hold "the" lock.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read as _, Seek as _, Write as _};
use std::path::{Path, PathBuf};

use crate::store::{RunRow, Store, StoreError};

/// The lock file, under the project root.
pub const LOCK_FILE: &str = "var/yingbao.lock";

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "another yingbao process is running on this project ({holder}): it holds the lock {}; \
         wait for it to finish, or stop it (`systemctl stop yingbao` for the daemon)",
        path.display()
    )]
    Busy { path: PathBuf, holder: String },
    #[error("cannot use the lock file {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The project lock, held until dropped.
#[derive(Debug)]
pub struct ProjectLock {
    /// The locked file: closing it releases the lock.
    _file: File,
    path: PathBuf,
}

impl ProjectLock {
    /// Takes the lock of the project at `root` without waiting: [`LockError::Busy`], naming
    /// the file and what its holder wrote in it, when another process (or another handle of
    /// this one) holds it.
    pub fn acquire(root: &Path) -> Result<ProjectLock, LockError> {
        let path = root.join(LOCK_FILE);
        let io = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        // Not truncated on open: the holder's line stays readable to whoever is refused.
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = match holder.trim() {
                    "" => "holder unknown".to_string(),
                    line => line.to_string(),
                };
                return Err(LockError::Busy { path, holder });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        let line = format!(
            "pid {} since {}\n",
            std::process::id(),
            chrono::Utc::now().format("%Y-%m-%d %H:%M:%S UTC")
        );
        file.set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| file.write_all(line.as_bytes()))
            .map_err(io)?;
        Ok(ProjectLock { _file: file, path })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Marks every run the database still calls `running` as interrupted, with a note: with
    /// the lock held no live `yingbao` can be running one, so its process died. Returns them.
    pub async fn mark_interrupted(&self, store: &Store) -> Result<Vec<RunRow>, StoreError> {
        let note = format!(
            "interrupted: the process running it stopped before it finished; found at {} by pid {}",
            chrono::Utc::now().to_rfc3339(),
            std::process::id()
        );
        let runs = store.mark_interrupted(&note).await?;
        for r in &runs {
            tracing::warn!(
                run = r.id,
                started = %r.started_at,
                "a run left running by a process that stopped is marked interrupted"
            );
        }
        Ok(runs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A second handle is refused while the first holds the lock, with the file and the
    /// holder's pid in the message; once the first is dropped the lock can be taken again.
    #[test]
    fn one_holder_at_a_time() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = ProjectLock::acquire(dir.path()).expect("first");
        assert_eq!(first.path(), dir.path().join(LOCK_FILE));
        let refused = ProjectLock::acquire(dir.path()).expect_err("second refused");
        let text = refused.to_string();
        assert!(text.contains(&first.path().display().to_string()), "{text}");
        assert!(
            text.contains(&format!("pid {}", std::process::id())),
            "{text}"
        );
        drop(first);
        let again = ProjectLock::acquire(dir.path()).expect("free again");
        let line = std::fs::read_to_string(again.path()).expect("lock file");
        assert!(line.starts_with(&format!("pid {} since ", std::process::id())));
        assert_eq!(line.lines().count(), 1, "{line}");
    }
}
