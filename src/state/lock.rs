//! Lock records: who holds an environment's state, since when, for what, and until when.
//!
//! The same JSON document is the content of the local lock file and of the S3 lock object, so a
//! "locked" error reads the same for both backends.
//!
//! A lock is *leased*: it names the instant it expires, and its holder renews it (a heartbeat,
//! see [`super::lease`]) well before then. Besides the lease, a lock records what identifies its
//! process on its host beyond the PID (the process start time, the boot, the PID namespace), so
//! another run can tell, without trusting anyone's word, whether the holder is provably gone:
//! [`LockInfo::liveness`]. Only a provably gone holder is ever taken over; everything else is
//! left to `regionctl force-unlock`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What a lock records about the run holding it.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
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
    /// The holder's start time in clock ticks after boot (`/proc/<pid>/stat`, field 22): a PID
    /// reused by another process after the holder died has another start time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process_start: Option<u64>,
    /// The kernel's boot id when the lock was taken: after a reboot no PID means anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boot_id: Option<String>,
    /// The holder's PID namespace (`/proc/self/ns/pid`): two containers may share a host name
    /// and a kernel, but a PID only means something inside its namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid_namespace: Option<String>,
    /// How long one renewal keeps the lock, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_ms: Option<u64>,
    /// When the lease runs out unless renewed, in milliseconds since the Unix epoch (by the
    /// holder's clock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_ms: Option<u64>,
    /// The same instant as RFC 3339, for people reading the lock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
}

/// What another run can know about a lock's holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Liveness {
    /// The holder is provably running: its process, on this host, with the recorded start time.
    Alive,
    /// The holder is provably gone; why, in words.
    Gone(String),
    /// Nothing can prove either: another host (or namespace) and a lease that has not run out.
    Unknown,
}

impl LockInfo {
    /// A lock record for this process, taken now, without a lease (see [`LockInfo::leased`]).
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
            process_start: process_start(pid),
            boot_id: boot_id(),
            pid_namespace: pid_namespace(),
            lease_ms: None,
            expires_ms: None,
            expires: None,
        }
    }

    /// The same lock with its lease running `lease` from now.
    pub fn leased(mut self, lease: Duration) -> LockInfo {
        let lease_ms = u64::try_from(lease.as_millis()).unwrap_or(u64::MAX);
        let expires_ms = now_ms().saturating_add(lease_ms);
        self.lease_ms = Some(lease_ms);
        self.expires_ms = Some(expires_ms);
        self.expires = Some(rfc3339(expires_ms / 1000));
        self
    }

    /// Whether the holder is provably running, provably gone, or neither, judged from this
    /// process at `now_ms` (milliseconds since the Unix epoch).
    ///
    /// On the holder's own host (same host name, same boot, same PID namespace) its process
    /// decides: gone if no process has its PID or the one that has it started at another time
    /// (the PID was reused); running otherwise, whatever the lease says (a suspended run is
    /// still a live holder). Anywhere else only the lease can prove the holder gone.
    pub fn liveness(&self, now_ms: u64) -> Liveness {
        if self.host == hostname() {
            match (&self.boot_id, boot_id()) {
                (Some(then), Some(now)) if *then != now => {
                    return Liveness::Gone(format!(
                        "{} has restarted since the lock was taken",
                        self.host
                    ));
                }
                _ => {}
            }
            let same_namespace = match (&self.pid_namespace, pid_namespace()) {
                (Some(then), Some(now)) => *then == now,
                _ => true,
            };
            let proc = std::path::Path::new("/proc");
            if same_namespace && proc.join("self").exists() {
                let running = proc.join(self.pid.to_string()).exists();
                match (running, process_start(self.pid), self.process_start) {
                    (false, _, _) => {
                        return Liveness::Gone(format!(
                            "its process {} no longer runs on this host",
                            self.pid
                        ));
                    }
                    (true, Some(now), Some(then)) if now != then => {
                        return Liveness::Gone(format!(
                            "its process {} no longer runs on this host (PID {} now belongs to \
                             a process started later)",
                            self.pid, self.pid
                        ));
                    }
                    _ => return Liveness::Alive,
                }
            }
        }
        match self.expires_ms {
            Some(expires) if now_ms > expires => Liveness::Gone(format!(
                "its lease expired at {} ({} s ago) without being renewed",
                self.expires
                    .clone()
                    .unwrap_or_else(|| rfc3339(expires / 1000)),
                (now_ms - expires) / 1000
            )),
            _ => Liveness::Unknown,
        }
    }

    /// Whether the holder is known to be gone (see [`LockInfo::liveness`]).
    pub fn holder_looks_dead(&self) -> bool {
        matches!(self.liveness(now_ms()), Liveness::Gone(_))
    }
}

/// A process's start time in clock ticks after boot: field 22 of `/proc/<pid>/stat`, counted
/// after the command name, which is in parentheses and may itself hold spaces and parentheses.
pub fn process_start(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, after_name) = stat.rsplit_once(')')?;
    // After the name come field 3 (state) onwards, so field 22 is the 20th.
    after_name.split_whitespace().nth(19)?.parse().ok()
}

/// The kernel's id of the current boot.
fn boot_id() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// This process's PID namespace, e.g. `pid:[4026531836]`.
fn pid_namespace() -> Option<String> {
    std::fs::read_link("/proc/self/ns/pid")
        .ok()
        .map(|p| p.display().to_string())
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or_default()
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

    #[test]
    fn a_reused_pid_a_reboot_or_an_expired_lease_prove_the_holder_gone() {
        let me = LockInfo::new("eu-west-1", "apply").leased(Duration::from_secs(30));
        if !std::path::Path::new("/proc/self/stat").exists() {
            return;
        }
        assert!(me.process_start.is_some(), "{me:?}");
        assert_eq!(me.liveness(now_ms()), Liveness::Alive);
        // Alive on this host wins over an expired lease: a suspended holder is still a holder.
        assert_eq!(me.liveness(now_ms() + 3_600_000), Liveness::Alive);
        // The same PID with another start time: the holder died and its PID was reused.
        let reused = LockInfo {
            process_start: me.process_start.map(|s| s + 1),
            ..me.clone()
        };
        let Liveness::Gone(why) = reused.liveness(now_ms()) else {
            panic!("a reused PID is not the holder: {reused:?}")
        };
        assert!(why.contains("started later"), "{why}");
        let rebooted = LockInfo {
            boot_id: Some("another-boot".into()),
            ..me.clone()
        };
        assert!(
            matches!(rebooted.liveness(now_ms()), Liveness::Gone(w) if w.contains("restarted"))
        );
        // Another host: only the lease can tell.
        let remote = LockInfo {
            host: "another-host".into(),
            ..me.clone()
        };
        assert_eq!(remote.liveness(now_ms()), Liveness::Unknown);
        let expires = remote.expires_ms.expect("leased");
        let Liveness::Gone(why) = remote.liveness(expires + 5_000) else {
            panic!("an expired lease proves the holder gone")
        };
        assert!(
            why.contains("lease expired at") && why.contains("(5 s ago)"),
            "{why}"
        );
        // Another host without a lease (a lock of an older regionctl): nothing proves anything.
        let unleased = LockInfo {
            lease_ms: None,
            expires_ms: None,
            expires: None,
            ..remote
        };
        assert_eq!(unleased.liveness(u64::MAX), Liveness::Unknown);
    }

    #[test]
    fn the_start_time_is_read_past_a_command_name_with_spaces_and_parentheses() {
        // The field count is what matters; this process's own line parses.
        if std::path::Path::new("/proc/self/stat").exists() {
            assert!(process_start(std::process::id()).is_some());
        }
        assert_eq!(process_start(u32::MAX), None);
    }
}
