//! Refreshing: reading from AWS what a spec and its states are about, in as few calls as the
//! APIs allow. [`jobs`] is a pure function from the spec to the batched reads (which kinds in
//! which regions, with which hints); [`run`] runs them all at once through the provider and reads
//! by id what state records but no list returned. [`run_scoped`] is the changed-only refresh
//! (`plan --refresh changed`): it reads only a scope of resources (`plan::scope`) and lets the
//! state stand in for the rest.

use std::collections::{BTreeMap, BTreeSet};

use crate::addr::{GLOBAL_ENV, InstanceAddr};
use crate::kind::{Kind, Placement};
use crate::provider::{Ctx, Provider};
use crate::resource::{Hints, Observed, api_region};
use crate::spec::Spec;
use crate::spec::schema::kinds::schema;
use crate::spec::value::Value;
use crate::state::State;

/// How much of AWS a plan reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Every kind in every selected environment: drift anywhere shows.
    #[default]
    Full,
    /// Only what the spec's changes touch; the state stands in for the rest.
    Changed,
}

/// The changed-only refresh. Of the selected environments' recorded resources, those in `scope`
/// are read by id and the others are taken from the state (`plan::scope::trusted`); for the
/// resources in `scope` that state does not know (creates), the batched read of their kind and
/// region runs, so one that already exists in AWS is still found (and adopted) rather than made
/// twice. Returns what stands for AWS per environment and the addresses that were not read.
pub async fn run_scoped(
    provider: &Provider,
    spec: &Spec,
    states: &BTreeMap<String, State>,
    scope: &BTreeSet<InstanceAddr>,
) -> Result<(BTreeMap<String, Vec<Observed>>, Vec<InstanceAddr>), Vec<String>> {
    let selected: BTreeSet<&str> = spec
        .envs
        .values()
        .filter(|e| e.selected)
        .map(|e| e.name.as_str())
        .collect();
    let mut live: BTreeMap<String, Vec<Observed>> = BTreeMap::new();
    let mut not_read: BTreeMap<(Kind, String), InstanceAddr> = BTreeMap::new();
    let mut reads = tokio::task::JoinSet::new();
    for (env, state) in states.iter().filter(|(e, _)| selected.contains(e.as_str())) {
        live.entry(env.clone()).or_default();
        for (addr, r) in &state.resources {
            if !scope.contains(addr) {
                live.entry(env.clone())
                    .or_default()
                    .push(crate::plan::scope::trusted(&provider.stack, addr, r));
                not_read.insert((r.kind, r.id.clone()), addr.clone());
                continue;
            }
            let (provider, env, addr, r) = (provider.clone(), env.clone(), addr.clone(), r.clone());
            reads.spawn(async move {
                let ctx = Ctx {
                    addr: &addr,
                    kind: r.kind,
                    region: &r.region,
                    token: "",
                };
                (env, provider.read(&ctx, &r.id).await)
            });
        }
    }
    // Kinds and regions of resources the state does not know: their batched read.
    let recorded: BTreeSet<&InstanceAddr> =
        states.values().flat_map(|s| s.resources.keys()).collect();
    let wanted: BTreeSet<(&str, Kind)> = scope
        .iter()
        .filter(|a| !recorded.contains(a))
        .filter_map(|a| spec.resources.get(a))
        .map(|r| (r.addr.env.as_str(), r.kind))
        .collect();
    let mut batch: Vec<Job> = jobs(spec)
        .into_iter()
        .filter(|j| wanted.contains(&(j.env.as_str(), j.kind)))
        .collect();
    for job in &mut batch {
        job.add_state(spec, states.get(&job.env));
    }
    let owners: Vec<String> = batch.iter().map(|j| j.env.clone()).collect();
    let listed = provider
        .refresh_many(
            batch
                .into_iter()
                .map(|j| (j.kind, j.region, j.hints))
                .collect(),
        )
        .await;
    let mut errors = Vec::new();
    let mut found: Vec<(String, Observed)> = Vec::new();
    for (owner, (_, _, result)) in owners.into_iter().zip(listed) {
        match result {
            Ok(list) => found.extend(list.into_iter().map(|o| (owner.clone(), o))),
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return Err(crate::provider::error::summarize(errors));
    }
    while let Some(joined) = reads.join_next().await {
        match joined {
            Ok((env, Ok(Some(observed)))) => found.push((env, observed)),
            Ok((_, Ok(None))) => {}
            Ok((_, Err(e))) => errors.push(e),
            Err(_) => {
                return Err(vec!["a read stopped unexpectedly".to_owned()]);
            }
        }
    }
    if !errors.is_empty() {
        return Err(crate::provider::error::summarize(errors));
    }
    // What was read replaces what the state said (a batched list may return trusted ones too).
    for (env, observed) in found {
        let key = (observed.kind, observed.id.clone());
        let list = live.entry(env).or_default();
        if not_read.remove(&key).is_some() {
            list.retain(|o| (o.kind, o.id.as_str()) != (key.0, key.1.as_str()));
        } else if list
            .iter()
            .any(|o| (o.kind, o.id.as_str()) == (key.0, key.1.as_str()))
        {
            continue; // read by id and listed again
        }
        list.push(observed);
    }
    let mut not_read: Vec<InstanceAddr> = not_read.into_values().collect();
    not_read.sort();
    Ok((live, not_read))
}

/// One batched read: every resource of `kind` in `region`, on behalf of environment `env`.
#[derive(Debug, Clone)]
pub struct Job {
    pub env: String,
    pub kind: Kind,
    pub region: String,
    pub hints: Hints,
}

impl Job {
    /// Adds what the environment's state records: the ids of its resources of this kind (read
    /// even when a list would miss them), and which of the spec's names belong to declarations
    /// the state does not record, the only ones a refresh must search for
    /// ([`Hints::unrecorded`]).
    pub fn add_state(&mut self, spec: &Spec, state: Option<&State>) {
        let recorded = |addr: &InstanceAddr| {
            state.is_some_and(|s| s.resources.get(addr).is_some_and(|r| r.kind == self.kind))
        };
        // A declaration to search for without a name known yet (a reference to something not
        // made, or a kind found by its tags alone) could be anywhere: then everything is
        // searched, as without a state.
        let natural = schema(self.kind).refresh_hint;
        let mut unrecorded = Some(BTreeSet::new());
        for r in spec.resources.values() {
            if r.addr.env != self.env || r.kind != self.kind || recorded(&r.addr) {
                continue;
            }
            match (natural.and_then(|a| r.attrs.get(a)), unrecorded.as_mut()) {
                (Some(Value::Str(name)), Some(names)) => {
                    names.insert(name.clone());
                }
                _ => unrecorded = None,
            }
        }
        self.hints.unrecorded = unrecorded;
        if let Some(state) = state {
            self.hints.ids.extend(
                state
                    .resources
                    .values()
                    .filter(|r| r.kind == self.kind)
                    .map(|r| r.id.clone()),
            );
        }
    }
}

/// One job per kind that the selected environments can hold (every regional kind in a regional
/// environment, every global kind in `global`), so resources that exist in AWS but not in the
/// spec are found too. The hints carry the natural names the spec gives (role names, cluster
/// names ...) for the APIs that cannot list by tag.
pub fn jobs(spec: &Spec) -> Vec<Job> {
    let mut jobs = Vec::new();
    for env in spec.envs.values().filter(|e| e.selected) {
        let global = env.name == GLOBAL_ENV;
        // A kind declarable anywhere (IAM roles and policies) is listed in every environment,
        // each with the hints of its own declarations and state, so each resource is found by
        // the one environment that declares or records it.
        let holds = |p: Placement| {
            if global {
                p.in_global_env()
            } else {
                p.in_regional_env()
            }
        };
        for kind in Kind::ALL.into_iter().filter(|k| holds(k.placement())) {
            let mut hints = Hints::default();
            if let Some(natural) = schema(kind).refresh_hint {
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

/// Which kinds a refresh lists in each environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kinds {
    /// Those the environment declares or its state records (plan and apply).
    Used,
    /// Every kind (destroy: nothing of the stack may be left).
    All,
}

/// One refresh per (environment, kind), all at once, with the ids state knows as hints so
/// resources that lost their tags are still read. Any error means no view: a plan made from
/// partial knowledge could create duplicates or delete the wrong thing.
///
/// With [`Kinds::Used`] a kind an environment neither declares nor records is not listed there:
/// a project without KMS keys does not list (and read the tags of) every key of the account in
/// every region on every plan. What that leaves unseen is a resource of such a kind that a run
/// killed before saving state made and whose declaration was then removed; a destroy lists
/// every kind ([`Kinds::All`]), so it still finds and deletes it.
pub async fn run(
    provider: &Provider,
    spec: &Spec,
    states: &BTreeMap<String, State>,
    kinds: Kinds,
) -> Result<BTreeMap<String, Vec<Observed>>, Vec<String>> {
    let mut jobs = jobs(spec);
    for job in &mut jobs {
        job.add_state(spec, states.get(&job.env));
    }
    if kinds == Kinds::Used {
        let declared: BTreeSet<(&str, Kind)> = spec
            .resources
            .values()
            .map(|r| (r.addr.env.as_str(), r.kind))
            .collect();
        jobs.retain(|j| !j.hints.ids.is_empty() || declared.contains(&(j.env.as_str(), j.kind)));
    }
    let owners: Vec<String> = jobs.iter().map(|j| j.env.clone()).collect();
    let results = provider
        .refresh_many(
            jobs.into_iter()
                .map(|j| (j.kind, j.region, j.hints))
                .collect(),
        )
        .await;
    let mut live: BTreeMap<String, Vec<Observed>> = BTreeMap::new();
    let mut errors = Vec::new();
    for (owner, (_, _, result)) in owners.into_iter().zip(results) {
        match result {
            Ok(found) => live.entry(owner).or_default().extend(found),
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        // Said once when AWS cannot be reached at all, rather than once per kind and region.
        return Err(crate::provider::error::summarize(errors));
    }
    read_unlisted(provider, states, &mut live).await?;
    Ok(live)
}

/// Reads by id every resource state records that the batched lists did not return. Most lists
/// filter by the stack tag, so a resource whose tags someone removed would otherwise look
/// deleted, and the plan would create a duplicate. Normally there are none, so this costs
/// nothing.
pub(crate) async fn read_unlisted(
    provider: &Provider,
    states: &BTreeMap<String, State>,
    live: &mut BTreeMap<String, Vec<Observed>>,
) -> Result<(), Vec<String>> {
    let mut reads = tokio::task::JoinSet::new();
    for (env, state) in states {
        let Some(found) = live.get(env) else {
            continue; // an environment outside the selection
        };
        let seen: BTreeSet<(Kind, &str)> = found.iter().map(|o| (o.kind, o.id.as_str())).collect();
        for (addr, r) in &state.resources {
            if seen.contains(&(r.kind, r.id.as_str())) {
                continue;
            }
            let (provider, env, addr, r) = (provider.clone(), env.clone(), addr.clone(), r.clone());
            reads.spawn(async move {
                let ctx = Ctx {
                    addr: &addr,
                    kind: r.kind,
                    region: &r.region,
                    token: "",
                };
                (env, provider.read(&ctx, &r.id).await)
            });
        }
    }
    let mut errors = Vec::new();
    while let Some(joined) = reads.join_next().await {
        match joined {
            Ok((env, Ok(Some(observed)))) => live.entry(env).or_default().push(observed),
            Ok((_, Ok(None))) => {}
            Ok((_, Err(e))) => errors.push(e.to_string()),
            Err(_) => errors.push("a read stopped unexpectedly".to_owned()),
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceMap;
    use crate::spec::loader::{LoadOptions, MemFs};

    /// An IAM role declarable anywhere is listed by every environment, each with the names of
    /// its own declarations, through IAM's global endpoint: each role is read (and planned,
    /// destroyed) by the one environment that declares it.
    #[test]
    fn a_role_declared_in_a_region_is_refreshed_by_that_region_only() {
        let role = |name: &str| {
            format!(
                "  iam_role.{name}:\n    name: {name}\n    assume_role_policy: {{ Version: \"2012-10-17\", Statement: [] }}\n"
            )
        };
        let fs = MemFs::new()
            .with("regionctl.yaml", "project: t\n")
            .with(
                "envs/global/main.yaml",
                &format!("global: true\nresources:\n{}", role("cluster")),
            )
            .with(
                "envs/eu-west-1/main.yaml",
                &format!("region: eu-west-1\nresources:\n{}", role("ebs_csi")),
            );
        let mut sources = SourceMap::new();
        let (spec, d) = crate::spec::load(&fs, &LoadOptions::all("."), &mut sources);
        assert!(!d.has_errors(), "{:?}", d.into_sorted());
        let spec = spec.expect("valid");
        let roles: Vec<(String, String, Vec<String>)> = jobs(&spec)
            .into_iter()
            .filter(|j| j.kind == Kind::IamRole)
            .map(|j| (j.env, j.region, j.hints.names.into_iter().collect()))
            .collect();
        assert_eq!(
            roles,
            vec![
                (
                    "eu-west-1".to_owned(),
                    "us-east-1".to_owned(),
                    vec!["ebs_csi".to_owned()]
                ),
                (
                    "global".to_owned(),
                    "us-east-1".to_owned(),
                    vec!["cluster".to_owned()]
                ),
            ]
        );
        // Global-only and regional-only kinds stay where they were.
        let all = jobs(&spec);
        assert!(
            !all.iter()
                .any(|j| j.env == "eu-west-1" && j.kind == Kind::Route53Zone)
        );
        assert!(
            !all.iter()
                .any(|j| j.env == "global" && j.kind == Kind::EksAccessEntry)
        );
    }

    /// What the state records is read by id; only declarations it lacks are searched for, by
    /// name, and one whose name is not known yet (or a kind found by tags alone) makes the
    /// refresh search everything.
    #[test]
    fn hints_say_which_declarations_the_state_does_not_record() {
        let fs = MemFs::new().with("regionctl.yaml", "project: t\n").with(
            "envs/eu-west-1/main.yaml",
            "region: eu-west-1\nresources:\n  \
                 sns_topic.a:\n    name: alerts\n  \
                 sns_topic.b:\n    name: audit\n  \
                 kms_key.data:\n    description: data\n  \
                 sns_subscription.mail:\n    topic_arn: \"${sns_topic.a.arn}\"\n    \
                 protocol: email\n    endpoint: ops@example.com\n",
        );
        let mut sources = SourceMap::new();
        let (spec, d) = crate::spec::load(&fs, &LoadOptions::all("."), &mut sources);
        assert!(!d.has_errors(), "{:?}", d.into_sorted());
        let spec = spec.expect("valid");
        let record = |state: &mut State, addr: &str, kind: Kind, id: &str| {
            let observed = Observed {
                kind,
                region: "eu-west-1".to_owned(),
                id: id.to_owned(),
                attrs: Default::default(),
                computed: Default::default(),
                tags: Default::default(),
                status: crate::resource::Status::Ready,
            };
            state.resources.insert(
                addr.parse().expect("address"),
                crate::state::StateResource::applied(
                    &observed,
                    Default::default(),
                    BTreeSet::new(),
                    false,
                ),
            );
        };
        let hints = |state: &State, kind: Kind| {
            let mut job = jobs(&spec)
                .into_iter()
                .find(|j| j.env == "eu-west-1" && j.kind == kind)
                .expect("a job");
            job.add_state(&spec, Some(state));
            job.hints
        };
        let mut state = State::new("t", "eu-west-1");
        record(&mut state, "eu-west-1/sns_topic.a", Kind::SnsTopic, "arn:a");

        // One topic recorded, one to create: only the new one's name is searched for.
        let topics = hints(&state, Kind::SnsTopic);
        assert_eq!(topics.ids, BTreeSet::from(["arn:a".to_owned()]));
        assert_eq!(
            topics.unrecorded,
            Some(BTreeSet::from(["audit".to_owned()]))
        );
        assert!(!topics.only_recorded());
        assert!(topics.needs_search("audit") && !topics.needs_search("alerts"));
        // A key has no name to search by: unrecorded, it makes the refresh search everything.
        assert_eq!(hints(&state, Kind::KmsKey).unrecorded, None);
        assert!(hints(&state, Kind::KmsKey).needs_search("anything"));

        record(&mut state, "eu-west-1/sns_topic.b", Kind::SnsTopic, "arn:b");
        record(&mut state, "eu-west-1/kms_key.data", Kind::KmsKey, "k-1");
        record(
            &mut state,
            "eu-west-1/sns_subscription.mail",
            Kind::SnsSubscription,
            "arn:a:sub",
        );
        for kind in [Kind::SnsTopic, Kind::KmsKey, Kind::SnsSubscription] {
            let all = hints(&state, kind);
            assert!(all.only_recorded(), "{kind}: {all:?}");
            assert!(!all.needs_search("alerts"), "{kind}");
        }
        // Without a state's knowledge (a find after a lost answer), every name is searched.
        assert!(Hints::default().needs_search("alerts"));
        assert!(!Hints::default().only_recorded());
    }
}
