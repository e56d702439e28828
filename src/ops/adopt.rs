//! Adopting a platform from Terraform: the pure translation (`crate::adopt`), then writing its
//! spec files and recording its resources in the project's states.
//!
//! Nothing existing is replaced without `force`: every target file is checked before the first
//! file is written, and every state entry before the first state is written. Nothing in AWS
//! changes; the first plan shows what regionctl would change (its identity tags, as in-place
//! tag updates).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::adopt::{Adoption, Record};
use crate::provider::{ClientOptions, Clients};
use crate::spec::Spec;
use crate::state::StateResource;

use super::state::{Failure, backend, locked};

/// The files an adoption would write that exist already (relative to `root`).
pub fn existing_files(root: &Path, adoption: &Adoption) -> Vec<PathBuf> {
    adoption
        .files
        .iter()
        .map(|(p, _)| root.join(p))
        .filter(|p| p.exists())
        .collect()
}

/// Writes the spec files (and `regionctl.yaml` naming `project` when there is none); returns
/// what was written. Refuses existing files unless `force`.
pub fn write_files(
    root: &Path,
    adoption: &Adoption,
    project: &str,
    force: bool,
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
                "# Written by `regionctl adopt terraform`.\nproject: {project}\nbackend:\n  local: {{}}\n"
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
    let mut problems = Vec::new();
    for (env, records) in &adoption.records {
        let Some(state) = backend.read(env).await? else {
            continue;
        };
        for (addr, rec) in records {
            if state.resources.contains_key(addr) && !force {
                problems.push(format!("{addr} is already in the state"));
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
    if !problems.is_empty() {
        return Err(Failure::msg(format!(
            "no state was changed: {}{}",
            problems.join("; "),
            if force {
                ""
            } else {
                " (--force replaces entries at the same address)"
            }
        )));
    }
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
