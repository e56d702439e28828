//! `regionctl state list|show|rm`: the state as recorded, one resource in detail, and forgetting
//! a resource (under the environment's lock, `ops::state::locked`).

use std::collections::BTreeMap;
use std::path::Path;

use crate::addr::InstanceAddr;
use crate::cli::{DiagFormat, StateCommand, StateListArgs, StateRmArgs, StateShowArgs};
use crate::exit::ExitStatus;
use crate::provider::{ClientOptions, Clients};
use crate::spec::Spec;
use crate::spec::value::Value;
use crate::state::{Backend, StateResource};

use super::Output;
use super::{all_envs, load_project, report};
use crate::ops::state::{Failure, backend, close_matches, did_you_mean, locked, parse_addr};

pub fn run(
    start: &Path,
    cmd: &StateCommand,
    aws: &ClientOptions,
    io: &mut Output<'_>,
) -> std::io::Result<ExitStatus> {
    let envs = match cmd {
        StateCommand::List(args) => args.envs.clone(),
        StateCommand::Show(_) | StateCommand::Rm(_) => all_envs(),
    };
    let Some(spec) = load_project(start, &envs, false, io) else {
        return Ok(ExitStatus::Failure);
    };
    let runtime = crate::ops::runtime()?;
    let result = runtime.block_on(async {
        let clients = Clients::load(aws).await;
        let backend = backend(&spec, &clients);
        match cmd {
            StateCommand::List(args) => list(&spec, &backend, args, io).await,
            StateCommand::Show(args) => show(&backend, args, io).await,
            StateCommand::Rm(args) => rm(&spec, &backend, args, io).await,
        }
    });
    report(result, io)
}

/// One environment's listing.
struct Listed {
    env: String,
    in_spec: bool,
    location: String,
    state: Option<crate::state::State>,
}

async fn list(
    spec: &Spec,
    backend: &Backend,
    args: &StateListArgs,
    io: &mut Output<'_>,
) -> Result<ExitStatus, Failure> {
    let mut names: Vec<(String, bool)> = spec
        .envs
        .values()
        .filter(|e| e.selected)
        .map(|e| (e.name.clone(), true))
        .collect();
    // With no path given, states of environments that have left the spec are listed too: their
    // resources still exist and a plan will delete them.
    if args.envs.paths.is_empty() {
        for env in backend.envs().await? {
            if !spec.envs.contains_key(&env) {
                names.push((env, false));
            }
        }
    }
    names.sort();
    let mut listed = Vec::new();
    for (env, in_spec) in names {
        let state = backend.read(&env).await?;
        listed.push(Listed {
            location: backend.location(&env),
            env,
            in_spec,
            state,
        });
    }
    match args.format {
        DiagFormat::Json => {
            let envs: Vec<serde_json::Value> = listed
                .iter()
                .map(|l| {
                    let resources: Vec<serde_json::Value> = l
                        .state
                        .iter()
                        .flat_map(|s| &s.resources)
                        .map(|(addr, r)| {
                            serde_json::json!({
                                "address": addr.to_string(),
                                "kind": r.kind.to_string(),
                                "region": r.region,
                                "id": r.id,
                            })
                        })
                        .collect();
                    serde_json::json!({
                        "name": l.env,
                        "in_spec": l.in_spec,
                        "location": l.location,
                        "serial": l.state.as_ref().map(|s| s.serial),
                        "lineage": l.state.as_ref().map(|s| s.lineage.clone()),
                        "resources": resources,
                    })
                })
                .collect();
            let doc = serde_json::json!({"format_version": 1, "environments": envs});
            writeln!(
                io.out,
                "{}",
                serde_json::to_string_pretty(&doc).unwrap_or_default()
            )?;
        }
        DiagFormat::Human => {
            for (i, l) in listed.iter().enumerate() {
                if i > 0 {
                    writeln!(io.out)?;
                }
                let gone = if l.in_spec {
                    ""
                } else {
                    " (no longer in the spec)"
                };
                match &l.state {
                    None => writeln!(io.out, "{}{gone}: no state yet", l.env)?,
                    Some(s) => {
                        writeln!(
                            io.out,
                            "{}{gone}: {} resource(s), serial {}, {}",
                            l.env,
                            s.resources.len(),
                            s.serial,
                            l.location
                        )?;
                        let width = s
                            .resources
                            .keys()
                            .map(|a| a.to_string().len())
                            .max()
                            .unwrap_or(0);
                        let kind_width = s
                            .resources
                            .values()
                            .map(|r| r.kind.to_string().len())
                            .max()
                            .unwrap_or(0);
                        for (addr, r) in &s.resources {
                            writeln!(
                                io.out,
                                "  {:width$}  {:kind_width$}  {}",
                                addr.to_string(),
                                r.kind.to_string(),
                                r.id
                            )?;
                        }
                    }
                }
            }
        }
    }
    Ok(ExitStatus::Success)
}

const REDACTED: &str = "(sensitive)";

/// The attributes as `state show` prints them: values of sensitive attributes are `None`, never
/// shown in clear.
fn shown_map(
    kind: crate::kind::Kind,
    attrs: &BTreeMap<String, Value>,
) -> BTreeMap<String, Option<Value>> {
    let schema = crate::spec::schema::schema(kind);
    attrs
        .iter()
        .map(|(k, v)| {
            let sensitive = schema.field(k).is_some_and(|f| f.sensitive);
            (k.clone(), (!sensitive).then(|| v.clone()))
        })
        .collect()
}

/// The resource at `addr` in its environment's state, or an error naming close addresses.
async fn find(backend: &Backend, text: &str) -> Result<(InstanceAddr, StateResource), Failure> {
    let addr = parse_addr(text)?;
    let state = backend.read(&addr.env).await?;
    let resources = state.map(|s| s.resources).unwrap_or_default();
    match resources.get(&addr) {
        Some(r) => Ok((addr, r.clone())),
        None => Err(Failure::msg(format!(
            "{addr} is not in the state of {} ({}){}",
            addr.env,
            backend.location(&addr.env),
            did_you_mean(&close_matches(&addr.to_string(), resources.keys()))
        ))),
    }
}

async fn show(
    backend: &Backend,
    args: &StateShowArgs,
    io: &mut Output<'_>,
) -> Result<ExitStatus, Failure> {
    let (addr, r) = find(backend, &args.addr).await?;
    let attrs = shown_map(r.kind, &r.attrs);
    // Computed attributes carry no sensitivity in the schema; a configurable attribute echoed
    // back among them (e.g. a password) is still redacted.
    let computed = shown_map(r.kind, &r.computed);
    match args.format {
        DiagFormat::Json => {
            let to_json = |m: &BTreeMap<String, Option<Value>>| -> serde_json::Value {
                m.iter()
                    .map(|(k, v)| {
                        let shown = v.as_ref().map_or_else(|| REDACTED.into(), Value::to_json);
                        (k.clone(), shown)
                    })
                    .collect()
            };
            let doc = serde_json::json!({
                "format_version": 1,
                "address": addr.to_string(),
                "kind": r.kind.to_string(),
                "region": r.region,
                "id": r.id,
                "arn": r.arn,
                "protect": r.protect,
                "deps": r.deps.iter().map(ToString::to_string).collect::<Vec<_>>(),
                "attributes": to_json(&attrs),
                "computed": to_json(&computed),
            });
            writeln!(
                io.out,
                "{}",
                serde_json::to_string_pretty(&doc).unwrap_or_default()
            )?;
        }
        DiagFormat::Human => {
            writeln!(io.out, "{addr} ({})", r.kind)?;
            writeln!(io.out, "  id      = {}", r.id)?;
            writeln!(io.out, "  region  = {}", r.region)?;
            if let Some(arn) = &r.arn {
                writeln!(io.out, "  arn     = {arn}")?;
            }
            writeln!(io.out, "  protect = {}", r.protect)?;
            if !r.deps.is_empty() {
                writeln!(io.out, "  depends on:")?;
                for d in &r.deps {
                    writeln!(io.out, "    {d}")?;
                }
            }
            for (title, map) in [("attributes", &attrs), ("computed", &computed)] {
                writeln!(io.out, "{title}:")?;
                let width = map.keys().map(String::len).max().unwrap_or(0);
                for (k, v) in map {
                    match v {
                        Some(v) => writeln!(io.out, "  {k:width$} = {v}")?,
                        None => writeln!(io.out, "  {k:width$} = {REDACTED}")?,
                    }
                }
            }
        }
    }
    Ok(ExitStatus::Success)
}

async fn rm(
    spec: &Spec,
    backend: &Backend,
    args: &StateRmArgs,
    io: &mut Output<'_>,
) -> Result<ExitStatus, Failure> {
    let mut by_env: BTreeMap<String, Vec<InstanceAddr>> = BTreeMap::new();
    for text in &args.addrs {
        let addr = parse_addr(text)?;
        by_env.entry(addr.env.clone()).or_default().push(addr);
    }
    let stack = &spec.project.name;
    for (env, addrs) in by_env {
        let location = backend.location(&env);
        let removed = locked(backend, stack, &env, "state rm", async |session| {
            // All or nothing per environment: a typo must not leave half of a command done.
            let missing: Vec<String> = addrs
                .iter()
                .filter(|a| !session.state.resources.contains_key(a))
                .map(|a| {
                    format!(
                        "{a}{}",
                        did_you_mean(&close_matches(
                            &a.to_string(),
                            session.state.resources.keys()
                        ))
                    )
                })
                .collect();
            if !missing.is_empty() {
                return Err(Failure::msg(format!(
                    "not in the state of {env} ({location}), nothing was removed: {}",
                    missing.join("; ")
                )));
            }
            let removed: Vec<(InstanceAddr, StateResource)> = addrs
                .iter()
                .filter_map(|a| session.state.resources.remove_entry(a))
                .collect();
            session.save().await?;
            Ok((removed, session.state.serial))
        })
        .await?;
        let (removed, serial) = removed;
        for (addr, r) in removed {
            writeln!(
                io.out,
                "removed {addr} ({} {}) from the state ({location}, serial {serial}).",
                r.kind, r.id
            )?;
            writeln!(
                io.out,
                "  It still exists in AWS, and regionctl no longer manages it."
            )?;
            if crate::spec::schema::schema(r.kind).taggable {
                if spec.resources.contains_key(&addr) {
                    writeln!(
                        io.out,
                        "  It is still in the spec and its regionctl:stack and regionctl:address tags still \
                         mark it, so the next plan will find it and adopt it again; remove it from the \
                         spec too (and its regionctl:* tags in AWS) to stop managing it."
                    )?;
                } else {
                    writeln!(
                        io.out,
                        "  Its regionctl:stack and regionctl:address tags still mark it, so the next plan \
                         will show it as an orphan to delete; remove those tags in AWS (or delete it) if it \
                         should stay unmanaged."
                    )?;
                }
            } else if spec.resources.contains_key(&addr) {
                writeln!(
                    io.out,
                    "  It is still in the spec, so the next plan will plan to manage it again (adopting \
                     it where regionctl can find it by name, creating it otherwise); remove it from the \
                     spec too to stop managing it."
                )?;
            }
        }
    }
    Ok(ExitStatus::Success)
}
