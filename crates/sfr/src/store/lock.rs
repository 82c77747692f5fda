//! sf's lock protocol (`proper-lockfile`): the lock is the directory `<file>.lock`, made with mkdir. A lock directory
//! older than 10 s is stale and taken over; otherwise we retry with exponential backoff.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use super::StoreError;

/// A lock directory older than this is abandoned (sf's `stale` option).
pub const STALE_AFTER: Duration = Duration::from_secs(10);
/// How long to keep trying before giving up: longer than `STALE_AFTER`, so a crashed holder's lock is recovered.
const GIVE_UP_AFTER: Duration = Duration::from_secs(12);
const FIRST_BACKOFF: Duration = Duration::from_millis(5);
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// Holds `<file>.lock` until dropped.
#[derive(Debug)]
pub struct FileLock {
    dir: PathBuf,
}

impl FileLock {
    /// Locks `file` (which need not exist; its directory is created).
    pub fn acquire(file: &Path) -> Result<FileLock, StoreError> {
        let mut name = file.as_os_str().to_owned();
        name.push(".lock");
        let dir = PathBuf::from(name);
        if let Some(parent) = file.parent() {
            fs::create_dir_all(parent).map_err(|e| StoreError::io(parent, &e))?;
        }
        let started = Instant::now();
        let mut backoff = FIRST_BACKOFF;
        // A little per-process jitter keeps many concurrent writers from retrying in lockstep.
        let jitter = u64::from(std::process::id() % 7);
        loop {
            match fs::create_dir(&dir) {
                Ok(()) => return Ok(FileLock { dir }),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    if is_stale(&dir) {
                        // Take over an abandoned lock; if someone beat us to it, the next mkdir tells.
                        let _ = fs::remove_dir(&dir);
                        continue;
                    }
                }
                Err(e) => return Err(StoreError::io(&dir, &e)),
            }
            if started.elapsed() > GIVE_UP_AFTER {
                return Err(StoreError::Locked { path: dir });
            }
            std::thread::sleep(backoff + Duration::from_millis(jitter));
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }
}

/// Whether another writer currently holds `file`'s lock (a live, non-stale lock directory).
pub fn is_locked(file: &Path) -> bool {
    let mut name = file.as_os_str().to_owned();
    name.push(".lock");
    let dir = PathBuf::from(name);
    dir.is_dir() && !is_stale(&dir)
}

fn is_stale(dir: &Path) -> bool {
    fs::metadata(dir)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| SystemTime::now().duration_since(t).ok())
        .is_some_and(|age| age > STALE_AFTER)
}

impl Drop for FileLock {
    fn drop(&mut self) {
        let _ = fs::remove_dir(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_dir_exists_while_held_and_goes_away() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.json");
        let lock = FileLock::acquire(&file).unwrap();
        assert!(dir.path().join("a.json.lock").is_dir());
        drop(lock);
        assert!(!dir.path().join("a.json.lock").exists());
    }

    #[test]
    fn stale_lock_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.json");
        let lockdir = dir.path().join("a.json.lock");
        fs::create_dir(&lockdir).unwrap();
        let old = SystemTime::now() - Duration::from_secs(30);
        fs::File::open(&lockdir).unwrap().set_modified(old).unwrap();
        let started = Instant::now();
        let lock = FileLock::acquire(&file).unwrap();
        assert!(started.elapsed() < Duration::from_secs(2));
        drop(lock);
    }
}
