//! Lock records: who holds an environment's state, since when, and for what.
//!
//! The same JSON document is the content of the local lock file and of the S3 lock object, so a
//! "locked" error reads the same for both backends. Nothing here decides whether a lock may be
//! taken over: a lock is only ever removed by its holder or by `regionctl force-unlock`.

/// What a lock records about the run holding it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LockInfo {
    /// Unique per lock taken; what `regionctl force-unlock` is given.
    pub id: String,
    /// The environment whose state is locked.
    pub env: String,
    /// The command holding it (`plan`, `apply`, `import`, `state rm` ...).
    pub operation: String,
    /// `user@host`.
    pub holder: String,
    pub host: String,
    pub pid: u32,
    /// When the lock was taken, RFC 3339 in UTC.
    pub created: String,
    pub regionctl_version: String,
}

impl LockInfo {
    /// A lock record for this process, taken now.
    pub fn new(env: &str, operation: &str) -> LockInfo {
        let host = hostname();
        let pid = std::process::id();
        let created = now_rfc3339();
        LockInfo {
            id: crate::hash::unique_id(&["lock", env, &host]),
            env: env.to_owned(),
            operation: operation.to_owned(),
            holder: format!("{}@{host}", username()),
            host,
            pid,
            created,
            regionctl_version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }

    /// Whether the holder is known to be gone: its process ran on this host and no longer exists.
    /// `false` when that cannot be known (another host, or no `/proc` to look in).
    pub fn holder_looks_dead(&self) -> bool {
        if self.host != hostname() || self.pid == std::process::id() {
            return false;
        }
        let proc = std::path::Path::new("/proc");
        proc.join("self").exists() && !proc.join(self.pid.to_string()).exists()
    }
}

/// The machine's name: the kernel's, else `/etc/hostname`, else `$HOSTNAME`.
pub fn hostname() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .chain(std::env::var("HOSTNAME").ok())
        .map(|s| s.trim().to_owned())
        .find(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown-host".to_owned())
}

fn username() -> String {
    ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

pub use crate::clock::{now_rfc3339, rfc3339};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        // Values checked with `date -u -d @N +%FT%TZ`.
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_709_251_199), "2024-02-29T23:59:59Z");
        assert_eq!(rfc3339(1_735_689_600), "2025-01-01T00:00:00Z");
        assert_eq!(rfc3339(4_107_542_400), "2100-03-01T00:00:00Z");
    }

    #[test]
    fn lock_ids_are_unique_and_records_name_this_process() {
        let a = LockInfo::new("eu-west-1", "plan");
        let b = LockInfo::new("eu-west-1", "plan");
        assert_ne!(a.id, b.id);
        assert_eq!(a.pid, std::process::id());
        assert!(a.holder.ends_with(&format!("@{}", a.host)), "{a:?}");
        assert!(!a.holder_looks_dead(), "this process is alive");
        let dead = LockInfo {
            pid: 999_999_999,
            ..a.clone()
        };
        if std::path::Path::new("/proc/self").exists() {
            assert!(dead.holder_looks_dead());
        }
        let elsewhere = LockInfo {
            host: "another-host".into(),
            ..dead
        };
        assert!(
            !elsewhere.holder_looks_dead(),
            "cannot know for another host"
        );
    }
}
