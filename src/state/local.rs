//! The local backend: `<project>/.regionctl/state/<env>.json` and `<env>.lock`.
//!
//! Writes are atomic (a temp file in the same directory, fsync, rename over, fsync the
//! directory), so a crash leaves either the old or the new state, never a torn one; leftover temp
//! files (`<env>.json.tmp-<pid>-<n>`) are never read. Files are mode 0600 and directories 0700:
//! state holds ARNs, endpoints and whatever AWS computed.
//!
//! A lock is created atomically with its content (written to a temp file, then hard-linked to
//! `<env>.lock`, which fails if the lock exists), so another run never sees an empty lock.
//! Renewing, taking over and releasing a lock are compare-and-swap operations on its id, each
//! done while holding an exclusive `flock` on the state directory: of two runs taking over the
//! same dead lock, the second finds the first one's id and gives up. The kernel drops the flock
//! with its holder, so a run killed in the middle blocks nobody.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::Deleted;
use super::error::StateError;

/// The directory under the project root holding regionctl's local data.
pub const DATA_DIR: &str = ".regionctl";
const STATE_DIR: &str = "state";

#[derive(Debug, Clone)]
pub struct LocalBackend {
    root: PathBuf,
    pub(crate) stack: Option<String>,
    /// The lease of the locks taken; `None` for the default.
    pub(crate) lease: Option<std::time::Duration>,
}

impl LocalBackend {
    /// States of the project at `root` (the directory holding `regionctl.yaml`).
    pub fn new(root: &Path) -> LocalBackend {
        LocalBackend {
            root: root.to_path_buf(),
            stack: None,
            lease: None,
        }
    }

    /// `<root>/.regionctl/state`.
    pub fn dir(&self) -> PathBuf {
        self.root.join(DATA_DIR).join(STATE_DIR)
    }

    pub fn state_path(&self, env: &str) -> PathBuf {
        self.dir().join(format!("{env}.json"))
    }

    pub fn lock_path(&self, env: &str) -> PathBuf {
        self.dir().join(format!("{env}.lock"))
    }

    pub(crate) fn location(&self, env: &str) -> String {
        format!("{DATA_DIR}/{STATE_DIR}/{env}.json")
    }

    pub(crate) fn lock_location(&self, env: &str) -> String {
        format!("{DATA_DIR}/{STATE_DIR}/{env}.lock")
    }

    pub(crate) fn describe(&self) -> String {
        format!("{DATA_DIR}/{STATE_DIR}/")
    }

    fn ensure_dir(&self) -> Result<PathBuf, StateError> {
        let dir = self.dir();
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(|e| StateError::io("create the state directory", &dir, e))?;
        Ok(dir)
    }

    /// The stored bytes and their version (a hash of the content).
    pub(crate) fn read_raw(&self, env: &str) -> Result<Option<(Vec<u8>, String)>, StateError> {
        let path = self.state_path(env);
        match fs::read(&path) {
            Ok(bytes) => {
                let version = crate::hash::stable_hash128(&[&bytes]);
                Ok(Some((bytes, version)))
            }
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StateError::io("read the state", &path, e)),
        }
    }

    /// Writes the state if the stored one still has version `expected` (`None`: nothing stored).
    /// The lock makes the compare-and-rename race-free among well-behaved runs; the compare
    /// catches a run whose lock was force-removed while it worked.
    pub(crate) fn write_state(
        &self,
        env: &str,
        bytes: &[u8],
        expected: Option<&str>,
    ) -> Result<String, StateError> {
        let current = self.read_raw(env)?.map(|(_, v)| v);
        if current.as_deref() != expected {
            return Err(StateError::Conflict {
                location: self.location(env),
            });
        }
        let dir = self.ensure_dir()?;
        let target = self.state_path(env);
        let tmp = write_temp(&dir, &format!("{env}.json"), bytes)?;
        if let Err(e) = fs::rename(&tmp, &target) {
            let _ = fs::remove_file(&tmp);
            return Err(StateError::io("replace the state", &target, e));
        }
        sync_dir(&dir)?;
        Ok(crate::hash::stable_hash128(&[bytes]))
    }

    /// Creates the lock holding `body`; `false` if a lock exists.
    pub(crate) fn create_lock(&self, env: &str, body: &[u8]) -> Result<bool, StateError> {
        let dir = self.ensure_dir()?;
        let lock = self.lock_path(env);
        let tmp = write_temp(&dir, &format!("{env}.lock"), body)?;
        let linked = fs::hard_link(&tmp, &lock);
        let _ = fs::remove_file(&tmp);
        match linked {
            Ok(()) => {
                sync_dir(&dir)?;
                Ok(true)
            }
            Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(StateError::io("create the lock", &lock, e)),
        }
    }

    /// Replaces the lock with `body` if the lock is still the one with id `expected`; `false`
    /// when it is gone or another lock is in its place.
    pub(crate) fn replace_lock(
        &self,
        env: &str,
        expected: &str,
        body: &[u8],
    ) -> Result<bool, StateError> {
        let dir = self.ensure_dir()?;
        let _guard = Guard::take(&dir)?;
        if self.current_lock_id(env)?.as_deref() != Some(expected) {
            return Ok(false);
        }
        let lock = self.lock_path(env);
        let tmp = write_temp(&dir, &format!("{env}.lock"), body)?;
        if let Err(e) = fs::rename(&tmp, &lock) {
            let _ = fs::remove_file(&tmp);
            return Err(StateError::io("replace the lock", &lock, e));
        }
        sync_dir(&dir)?;
        Ok(true)
    }

    /// Removes the lock if it is still the one with id `expected`.
    pub(crate) fn remove_lock_if(&self, env: &str, expected: &str) -> Result<Deleted, StateError> {
        let dir = self.dir();
        if !dir.exists() {
            return Ok(Deleted::AlreadyGone);
        }
        let _guard = Guard::take(&dir)?;
        match self.read_lock_raw(env)? {
            None => Ok(Deleted::AlreadyGone),
            Some((bytes, _)) => match serde_json::from_slice::<super::LockInfo>(&bytes) {
                Ok(info) if info.id != expected => Ok(Deleted::Replaced(Box::new(info))),
                // An unreadable lock is never this run's.
                Err(e) => Err(StateError::CorruptLock {
                    location: self.lock_location(env),
                    message: e.to_string(),
                }),
                Ok(_) => self.remove_lock(env),
            },
        }
    }

    /// The id of the current lock; `None` if there is none or it cannot be read.
    fn current_lock_id(&self, env: &str) -> Result<Option<String>, StateError> {
        Ok(self
            .read_lock_raw(env)?
            .and_then(|(bytes, _)| serde_json::from_slice::<super::LockInfo>(&bytes).ok())
            .map(|info| info.id))
    }

    pub(crate) fn read_lock_raw(&self, env: &str) -> Result<Option<(Vec<u8>, String)>, StateError> {
        let path = self.lock_path(env);
        match fs::read(&path) {
            Ok(bytes) => Ok(Some((bytes, String::new()))),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StateError::io("read the lock", &path, e)),
        }
    }

    pub(crate) fn remove_lock(&self, env: &str) -> Result<Deleted, StateError> {
        let path = self.lock_path(env);
        match fs::remove_file(&path) {
            Ok(()) => {
                sync_dir(&self.dir())?;
                Ok(Deleted::Yes)
            }
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(Deleted::AlreadyGone),
            Err(e) => Err(StateError::io("remove the lock", &path, e)),
        }
    }

    /// Environments with a state or a lock file.
    pub(crate) fn envs(&self) -> Result<Vec<String>, StateError> {
        let dir = self.dir();
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(StateError::io("list the state directory", &dir, e)),
        };
        let mut envs = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| StateError::io("list the state directory", &dir, e))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if let Some(env) = name
                .strip_suffix(".json")
                .or_else(|| name.strip_suffix(".lock"))
                .filter(|env| !env.is_empty() && !env.starts_with('.'))
            {
                envs.push(env.to_owned());
            }
        }
        Ok(envs)
    }
}

/// An exclusive `flock` on the state directory, held while a lock is compared and swapped.
struct Guard(File);

impl Guard {
    fn take(dir: &Path) -> Result<Guard, StateError> {
        let file =
            File::open(dir).map_err(|e| StateError::io("open the state directory", dir, e))?;
        file.lock()
            .map_err(|e| StateError::io("lock the state directory", dir, e))?;
        Ok(Guard(file))
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

/// Writes `bytes` to a new file `<name>.tmp-<pid>-<n>` in `dir` (mode 0600) and syncs it to disk.
fn write_temp(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, StateError> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let tmp = dir.join(format!(
        "{name}.tmp-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let written = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(StateError::io("write", &tmp, e));
    }
    Ok(tmp)
}

/// Makes a rename or link durable: the directory entry is only on disk once the directory is.
fn sync_dir(dir: &Path) -> Result<(), StateError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StateError::io("sync the state directory", dir, e))
}
