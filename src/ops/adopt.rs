//! Adopting a platform, from Terraform states or from live AWS: reading a region through the
//! provider's refresh (`read_region`), the pure translation (`crate::adopt`), then writing its
//! spec files and recording its resources in the project's states.
//!
//! Nothing existing is replaced without `force`, and nothing is half done: the state entries are
//! checked first ([`check_states`], against the backend the project names, or the local one a new
//! project gets), then every target file, and only then is anything written. Nothing in AWS
//! changes; the first plan shows what regionctl would change (its identity tags, as in-place tag
//! updates).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::adopt::{Adoption, Record};
use crate::kind::{Kind, Placement};
use crate::provider::{ClientOptions, Clients, Provider};
use crate::resource::{GLOBAL_REGION, Hints, Observed};
use crate::spec::Spec;
use crate::spec::model::BackendDef;
use crate::state::{Backend, StateResource};

use super::state::{Failure, backend, locked};

/// Reads every resource of every kind in `region` (and of the global kinds through us-east-1
/// when `global`), whatever its tags: the provider's batched refresh, one list per kind, all
/// kinds at once. `progress` hears of each kind as its list returns (kind, region, count).
pub async fn read_region(
    aws: &ClientOptions,
    region: &str,
    global: bool,
    mut progress: impl FnMut(Kind, &str, usize, usize),
) -> Result<Vec<Observed>, Failure> {
    let clients = Clients::load(aws).await;
    // The stack name is not used: listing everything ignores it.
    let provider = Provider::new(clients, "adopt").listing_everything();
    let jobs: Vec<(Kind, String)> = Kind::ALL
        .iter()
        .filter_map(|k| match k.placement() {
            Placement::Regional => Some((*k, region.to_owned())),
            // IAM roles and policies are account-wide wherever a spec may declare them.
            Placement::Global | Placement::GlobalAnyEnv if global => {
                Some((*k, GLOBAL_REGION.to_owned()))
            }
            Placement::Global | Placement::GlobalAnyEnv => None,
        })
        .collect();
    let total = jobs.len();
    // One task per kind, so progress shows each list as it returns.
    let mut set = tokio::task::JoinSet::new();
    for (kind, region) in jobs {
        let provider = provider.clone();
        set.spawn(async move {
            let result = provider.refresh(kind, &region, &Hints::default()).await;
            (kind, region, result)
        });
    }
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let mut done = 0;
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok((kind, region, Ok(list))) => {
                done += 1;
                progress(kind, &region, list.len(), total - done);
                out.extend(list);
            }
            Ok((_, _, Err(e))) => errors.push(e),
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(_) => {}
        }
    }
    if !errors.is_empty() {
        return Err(Failure::msg(format!(
            "reading {region} failed, nothing was written:\n  {}",
            crate::provider::error::summarize(errors).join("\n  ")
        )));
    }
    // Kind and id order, so the written spec does not depend on which list returned first.
    out.sort_by(|a, b| {
        let pos = |k: Kind| Kind::ALL.iter().position(|x| *x == k);
        (pos(a.kind), &a.id).cmp(&(pos(b.kind), &b.id))
    });
    Ok(out)
}

/// Where an adoption records its resources: the backend of the project at the target (when it
/// has a regionctl.yaml), else the local backend the project it writes will have.
pub struct Target {
    root: PathBuf,
    stack: String,
    backend: BackendDef,
    lease: Option<std::time::Duration>,
}

impl Target {
    /// The project whose regionctl.yaml is in `root`, read from that file alone: the
    /// environments may not exist yet (or may not load), and only the stack and backend matter.
    pub fn of_project_file(root: &Path) -> Result<Target, Failure> {
        let path = root.join("regionctl.yaml");
        let text = std::fs::read_to_string(&path)?;
        let mut sources = crate::source::SourceMap::new();
        let file = sources.add(&path, text.clone());
        let mut d = crate::diag::Diagnostics::default();
        let def = match crate::spec::yaml::parse(file, &text) {
            Ok(node) => crate::spec::model::parse_project(file, &node, &mut d),
            Err(diag) => {
                d.push(diag);
                None
            }
        };
        match def {
            Some(def) if !d.has_errors() => Ok(Target {
                root: root.to_path_buf(),
                stack: def.name,
                backend: def.backend,
                lease: def.lock_lease,
            }),
            _ => Err(Failure::msg(format!(
                "{} does not load ({}); nothing was written (`regionctl validate` shows where)",
                path.display(),
                d.into_sorted()
                    .iter()
                    .map(|x| x.message.clone())
                    .collect::<Vec<_>>()
                    .join("; ")
            ))),
        }
    }

    /// A project that does not exist yet: `write_files` gives it the local backend.
    pub fn new_project(root: &Path, stack: &str) -> Target {
        Target {
            root: root.to_path_buf(),
            stack: stack.to_owned(),
            backend: BackendDef::Local,
            lease: None,
        }
    }

    fn backend(&self, clients: &Clients) -> Backend {
        Backend::for_project(&self.root, &self.backend, clients)
            .with_stack(&self.stack)
            .with_lease(self.lease)
    }
}

/// Checks every state entry the adoption would record before anything is written: an address
/// already recorded (unless `force`), or an AWS resource already recorded under another address
/// (always), is an error naming them all.
pub async fn check_states(
    target: &Target,
    aws: &ClientOptions,
    adoption: &Adoption,
    force: bool,
) -> Result<(), Failure> {
    let clients = Clients::load(aws).await;
    problems(&target.backend(&clients), adoption, force).await
}

async fn problems(backend: &Backend, adoption: &Adoption, force: bool) -> Result<(), Failure> {
    let mut problems = Vec::new();
    for (env, records) in &adoption.records {
        let Some(state) = backend.read(env).await? else {
            continue;
        };
        for (addr, rec) in records {
            if state.resources.contains_key(addr) && !force {
                problems.push(format!("{addr} already exists in the state"));
            }
            if let Some((other, _)) = state
                .resources
                .iter()
                .find(|(a, r)| *a != addr && r.kind == rec.kind && r.id == rec.id)
            {
                problems.push(format!(
                    "{} {} is already managed as {other}; one AWS resource cannot be two \
                     resources of the spec",
                    rec.kind, rec.id
                ));
            }
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(Failure::msg(format!(
        "nothing was written and no state was changed: {}{}",
        problems.join("; "),
        if force {
            ""
        } else {
            " (--force replaces entries at the same address)"
        }
    )))
}

/// The files an adoption would write that exist already (relative to `root`).
pub fn existing_files(root: &Path, adoption: &Adoption) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = adoption
        .files
        .iter()
        .map(|(p, _)| root.join(p))
        .filter(|p| p.exists())
        .collect();
    // A module written into an existing module's directory would merge with its files.
    for (p, _) in &adoption.files {
        if let Some(dir) = p.strip_prefix("modules/").and_then(|r| r.split_once('/')) {
            let dir = root.join("modules").join(dir.0);
            if dir.exists() && !out.iter().any(|o| o.starts_with(&dir)) {
                out.push(dir);
            }
        }
    }
    out
}

/// Writes the spec files (and `regionctl.yaml` naming `project` when there is none); returns
/// what was written. Refuses existing files unless `force`. `command` names the writer in
/// regionctl.yaml's comment.
pub fn write_files(
    root: &Path,
    adoption: &Adoption,
    project: &str,
    force: bool,
    command: &str,
) -> Result<Vec<PathBuf>, Failure> {
    let existing = existing_files(root, adoption);
    if !existing.is_empty() && !force {
        return Err(Failure::msg(format!(
            "{} already exist{}; nothing was written (--force overwrites them)",
            existing
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            if existing.len() == 1 { "s" } else { "" }
        )));
    }
    let mut written = Vec::new();
    let project_file = root.join("regionctl.yaml");
    if !project_file.exists() {
        std::fs::create_dir_all(root)?;
        std::fs::write(
            &project_file,
            format!(
                "# Written by `regionctl {command}`.\nproject: {project}\nbackend:\n  local: {{}}\n"
            ),
        )?;
        written.push(project_file);
    }
    for (rel, text) in &adoption.files {
        let path = root.join(rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&path, text)?;
        written.push(path);
    }
    Ok(written)
}

/// One environment's state after recording.
pub struct Recorded {
    pub env: String,
    pub location: String,
    pub count: usize,
    pub serial: u64,
}

/// Records every adopted resource in its environment's state, under that state's lock. Checks
/// every environment first: an address already recorded (unless `force`), or an AWS resource
/// already recorded under another address (always), stops everything before any write.
pub async fn record(
    spec: &Spec,
    aws: &ClientOptions,
    adoption: &Adoption,
    force: bool,
) -> Result<Vec<Recorded>, Failure> {
    let clients = Clients::load(aws).await;
    let backend = backend(spec, &clients);
    let stack = spec.project.name.clone();
    // Checked again: the project written may name another backend than the one checked first
    // (it cannot today, as an existing regionctl.yaml is kept, but this is the one place that
    // writes).
    problems(&backend, adoption, force).await?;
    let mut out = Vec::new();
    for (env, records) in &adoption.records {
        let location = backend.location(env);
        let serial = locked(&backend, &stack, env, "adopt", async |session| {
            for (addr, rec) in records {
                session
                    .state
                    .resources
                    .insert(addr.clone(), state_resource(rec));
            }
            session.save().await?;
            Ok(session.state.serial)
        })
        .await?;
        out.push(Recorded {
            env: env.clone(),
            location,
            count: records.len(),
            serial,
        });
    }
    Ok(out)
}

fn state_resource(rec: &Record) -> StateResource {
    StateResource {
        kind: rec.kind,
        region: rec.region.clone(),
        id: rec.id.clone(),
        arn: rec.arn.clone(),
        attrs: rec.attrs.clone(),
        computed: rec.computed.clone(),
        deps: rec.deps.iter().cloned().collect::<BTreeSet<_>>(),
        protect: rec.protect,
        pending: None,
    }
}
