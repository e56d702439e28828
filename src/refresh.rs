//! What to refresh for a spec: which kinds in which regions, with which hints. Pure; the
//! provider does the reading.

use crate::addr::GLOBAL_ENV;
use crate::kind::{Kind, Placement};
use crate::provider::{Hints, api_region};
use crate::spec::Spec;
use crate::spec::schema::kinds::schema;
use crate::spec::value::Value;

/// One batched read: every resource of `kind` in `region`, on behalf of environment `env`.
#[derive(Debug, Clone)]
pub struct Job {
    pub env: String,
    pub kind: Kind,
    pub region: String,
    pub hints: Hints,
}

/// One job per kind that the selected environments can hold (every regional kind in a regional
/// environment, every global kind in `global`), so resources that exist in AWS but not in the
/// spec are found too. The hints carry the natural names the spec gives (role names, cluster
/// names ...) for the APIs that cannot list by tag.
pub fn jobs(spec: &Spec) -> Vec<Job> {
    let mut jobs = Vec::new();
    for env in spec.envs.values().filter(|e| e.selected) {
        let placement = if env.name == GLOBAL_ENV {
            Placement::Global
        } else {
            Placement::Regional
        };
        for kind in Kind::ALL.into_iter().filter(|k| k.placement() == placement) {
            let mut hints = Hints::default();
            // Zone names are not unique in Route 53 (so not a natural name), but a zone created
            // by an apply that stopped before tagging it is found by name and caller reference.
            let hint_attr = match kind {
                Kind::Route53Zone => Some("name"),
                _ => schema(kind).natural_name,
            };
            if let Some(natural) = hint_attr {
                for r in spec.resources.values() {
                    if r.addr.env == env.name
                        && r.kind == kind
                        && let Some(Value::Str(name)) = r.attrs.get(natural)
                    {
                        hints.names.insert(name.clone());
                    }
                }
            }
            jobs.push(Job {
                env: env.name.clone(),
                kind,
                region: api_region(kind, env.region.as_deref()).to_owned(),
                hints,
            });
        }
    }
    jobs
}
