//! Addresses: the shared vocabulary for naming resources across stages.
//!
//! A block address (`module.platform.subnet.private`) names what the user wrote once; an instance
//! address adds the environment and the `for_each` key (`eu-west-1/module.platform.subnet.private["eu-west-1a"]`).

use std::fmt;
use std::str::FromStr;

use crate::kind::Kind;

/// The environment name: an AWS region such as `eu-west-1`, or `global`.
pub type EnvName = String;

pub const GLOBAL_ENV: &str = "global";

/// The key of one `for_each` instance.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum InstanceKey {
    /// From a map key, or a list element that is a string.
    Str(String),
    /// The position of a list element that is not a string.
    Index(usize),
}

impl fmt::Display for InstanceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InstanceKey::Str(s) => write!(f, "[{s:?}]"),
            InstanceKey::Index(i) => write!(f, "[{i}]"),
        }
    }
}

/// A resource block as written, inside a path of module calls.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlockAddr {
    pub module: Vec<String>,
    pub kind: Kind,
    pub name: String,
}

impl fmt::Display for BlockAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for m in &self.module {
            write!(f, "module.{m}.")?;
        }
        write!(f, "{}.{}", self.kind, self.name)
    }
}

/// One resource instance in one environment: the unit of planning and applying.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InstanceAddr {
    pub env: EnvName,
    pub block: BlockAddr,
    pub key: Option<InstanceKey>,
}

impl InstanceAddr {
    /// The address inside its environment, as written in expressions.
    pub fn local(&self) -> String {
        match &self.key {
            Some(k) => format!("{}{k}", self.block),
            None => self.block.to_string(),
        }
    }
}

impl fmt::Display for InstanceAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.env, self.local())
    }
}

/// Why an address string could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid resource address {input:?}: {reason}")]
pub struct AddrParseError {
    pub input: String,
    pub reason: &'static str,
}

impl FromStr for InstanceAddr {
    type Err = AddrParseError;

    /// Parses `env/[module.m.]*kind.name[key]`, the form used by `--target` and in state.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |reason| AddrParseError {
            input: s.to_string(),
            reason,
        };
        let (env, rest) = s
            .split_once('/')
            .ok_or_else(|| err("expected ENV/KIND.NAME"))?;
        if env.is_empty() {
            return Err(err("the environment is empty"));
        }
        let (path, key) = match rest.find('[') {
            Some(i) => {
                let inner = rest[i..]
                    .strip_prefix('[')
                    .and_then(|r| r.strip_suffix(']'))
                    .ok_or_else(|| err("an instance key must be written [\"key\"] or [0]"))?;
                let key = if let Some(q) = inner.strip_prefix('"').and_then(|r| r.strip_suffix('"'))
                {
                    InstanceKey::Str(q.to_string())
                } else {
                    InstanceKey::Index(
                        inner
                            .parse()
                            .map_err(|_| err("an index must be a whole number"))?,
                    )
                };
                (&rest[..i], Some(key))
            }
            None => (rest, None),
        };
        let parts: Vec<&str> = path.split('.').collect();
        let mut module = Vec::new();
        let mut i = 0;
        while parts.len() - i > 2 && parts[i] == "module" {
            module.push(parts[i + 1].to_string());
            i += 2;
        }
        if parts.len() - i != 2 {
            return Err(err("expected KIND.NAME after the module path"));
        }
        let kind = Kind::from_name(parts[i]).ok_or_else(|| err("unknown resource kind"))?;
        let name = parts[i + 1];
        if name.is_empty() {
            return Err(err("the resource name is empty"));
        }
        Ok(InstanceAddr {
            env: env.to_string(),
            block: BlockAddr {
                module,
                kind,
                name: name.to_string(),
            },
            key,
        })
    }
}

/// Addresses are written as their display form (`eu-west-1/subnet.private["eu-west-1a"]`) in
/// state files and saved plans, so a reader sees the same text as in the CLI.
impl serde::Serialize for InstanceAddr {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        ser.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for InstanceAddr {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(de)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_parse_round_trip() {
        for s in [
            "eu-west-1/vpc.main",
            "eu-west-1/module.platform.subnet.private[\"eu-west-1a\"]",
            "global/module.a.module.b.iam_role.node[3]",
        ] {
            let a: InstanceAddr = s.parse().expect("valid address");
            assert_eq!(a.to_string(), s);
        }
    }

    #[test]
    fn rejects_malformed() {
        for s in [
            "vpc.main",
            "/vpc.main",
            "eu-west-1/bogus.main",
            "eu-west-1/vpc",
            "eu-west-1/vpc.main[x",
        ] {
            assert!(s.parse::<InstanceAddr>().is_err(), "{s}");
        }
    }
}
