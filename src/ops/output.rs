//! `regionctl output` and what `regionctl kubeconfig` shares with it: choosing environments by
//! name or directory, and reading the outputs the last apply recorded in each state. No AWS call
//! is made (beyond reading an S3 state backend).

use std::collections::BTreeMap;
use std::path::Path;

use super::state::Failure;
use crate::spec::Spec;
use crate::state::Backend;

/// What the command line named: environments, and for `output` at most one output name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Targets {
    /// Environment names; empty means every environment of the project.
    pub envs: Vec<String>,
    pub name: Option<String>,
}

/// Sorts the arguments into environments (an environment's name, or its directory such as
/// `envs/eu-west-1`) and, when `name_allowed`, one last argument that is not an environment: the
/// output's name.
pub fn targets(spec: &Spec, args: &[String], name_allowed: bool) -> Result<Targets, Failure> {
    let mut envs = Vec::new();
    let mut name = None;
    for (i, arg) in args.iter().enumerate() {
        let trimmed = arg.trim_end_matches('/');
        let base = Path::new(trimmed)
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or(trimmed);
        if spec.envs.contains_key(trimmed) || spec.envs.contains_key(base) {
            let env = if spec.envs.contains_key(trimmed) {
                trimmed
            } else {
                base
            };
            if !envs.iter().any(|e| e == env) {
                envs.push(env.to_owned());
            }
        } else if name_allowed && i + 1 == args.len() && !arg.contains('/') {
            name = Some(arg.clone());
        } else {
            let known: Vec<&str> = spec.envs.keys().map(String::as_str).collect();
            return Err(Failure::msg(format!(
                "{arg:?} is not an environment of the project (environments: {})",
                known.join(", ")
            )));
        }
    }
    Ok(Targets { envs, name })
}

/// Each chosen environment's recorded outputs (every environment of the spec when none is
/// chosen), `None` for one that has no state yet.
pub async fn read(
    spec: &Spec,
    backend: &Backend,
    envs: &[String],
) -> Result<BTreeMap<String, Option<BTreeMap<String, serde_json::Value>>>, Failure> {
    let chosen: Vec<String> = if envs.is_empty() {
        spec.envs.keys().cloned().collect()
    } else {
        envs.to_vec()
    };
    let mut out = BTreeMap::new();
    for env in chosen {
        let state = backend.read(&env).await?;
        out.insert(env, state.map(|s| s.outputs));
    }
    Ok(out)
}

/// An output's value as a shell wants it: strings bare (so `$(regionctl output eu-west-1
/// cluster_name)` works), anything else as JSON.
pub fn plain(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_print_bare_and_the_rest_as_json() {
        assert_eq!(plain(&json!("prod-euw1")), "prod-euw1");
        assert_eq!(plain(&json!(["a", "b"])), r#"["a","b"]"#);
        assert_eq!(plain(&json!(3)), "3");
    }
}
