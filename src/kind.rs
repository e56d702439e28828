//! The closed set of resource kinds.
//!
//! `Kind` itself is generated from the declarations in `spec::schema::kinds` (one line per kind
//! there, beside its declaration), so adding a kind is editing that file; the provider's
//! dispatch `match` then tells the compiler that the kind needs its provider module. There is
//! deliberately no plugin protocol. The per-kind facts (`Kind::placement`, `Kind::service` ...)
//! read the declaration.

use std::fmt;

pub use crate::spec::schema::kinds::Kind;

/// Where a kind of resource lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Belongs to one region; declared in a regional environment.
    Regional,
    /// Global AWS service (IAM, Route 53); declared in the `global` environment.
    Global,
    /// Global AWS service (IAM roles and policies) declared in `global` or in a regional
    /// environment. The API is global (reached through us-east-1) wherever it is declared; the
    /// resource's state lives in the environment that declares it. A regional environment may
    /// declare one so that it can trust or reference that region's resources (an IRSA role
    /// trusting the region's OIDC provider) without an environment cycle (global -> region ->
    /// global). Names are account-wide, so two environments may not declare the same one
    /// (`rule::iam-name-taken`).
    GlobalAnyEnv,
}

impl Placement {
    /// Whether the API is global (reached through us-east-1 and in no region).
    pub fn is_global_api(self) -> bool {
        matches!(self, Placement::Global | Placement::GlobalAnyEnv)
    }

    /// Whether a kind of this placement may be declared in the `global` environment.
    pub fn in_global_env(self) -> bool {
        self.is_global_api()
    }

    /// Whether a kind of this placement may be declared in a regional environment.
    pub fn in_regional_env(self) -> bool {
        matches!(self, Placement::Regional | Placement::GlobalAnyEnv)
    }
}

impl Kind {
    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in Kind::ALL {
            assert_eq!(Kind::from_name(k.name()), Some(k));
        }
        assert_eq!(Kind::from_name("s3_bucket"), None);
    }
}
