//! `regionctl adopt terraform STATE...`: read the documents, translate them (`crate::adopt`),
//! write the spec files and the states (`ops::adopt`), then load the written project as
//! `validate` would and print the summary: adopted, unmapped with reasons, per region.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use super::Output;
use crate::adopt;
use crate::cli::{AdoptCommand, AdoptTerraformArgs};
use crate::exit::ExitStatus;
use crate::ops;
use crate::provider::ClientOptions;

pub fn run(
    start: &Path,
    cmd: &AdoptCommand,
    aws: &ClientOptions,
    io: &mut Output,
) -> std::io::Result<ExitStatus> {
    match cmd {
        AdoptCommand::Terraform(args) => terraform(start, args, aws, io),
    }
}

fn terraform(
    start: &Path,
    args: &AdoptTerraformArgs,
    aws: &ClientOptions,
    io: &mut Output,
) -> std::io::Result<ExitStatus> {
    let mut docs = Vec::new();
    for path in &args.states {
        let (name, text) = if path.as_os_str() == "-" {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text)?;
            ("<stdin>".to_owned(), text)
        } else {
            let full = super::resolve_path(start, path);
            match std::fs::read_to_string(&full) {
                // Comments and messages name the file as the user knows it, without the path.
                Ok(text) => (
                    path.file_name().map_or_else(
                        || path.display().to_string(),
                        |n| n.to_string_lossy().into_owned(),
                    ),
                    text,
                ),
                Err(e) => {
                    writeln!(io.err, "error: cannot read {}: {e}", full.display())?;
                    return Ok(ExitStatus::Failure);
                }
            }
        };
        writeln!(io.err, "reading {name} ...")?;
        docs.push((name, text));
    }
    let options = adopt::Options {
        default_region: args.default_region.clone(),
        provider_regions: args.provider_regions.iter().cloned().collect(),
    };
    let adoption = match adopt::terraform(&docs, &options) {
        Ok(a) => a,
        Err(e) => {
            writeln!(io.err, "error: {e}")?;
            return Ok(ExitStatus::Failure);
        }
    };
    let root = args
        .out
        .as_ref()
        .map_or_else(|| start.to_path_buf(), |o| super::resolve_path(start, o));
    let project = args.project.clone().unwrap_or_else(|| project_name(&root));
    let written = match ops::adopt::write_files(&root, &adoption, &project, args.force) {
        Ok(w) => w,
        Err(e) => return super::report(Err(e), io),
    };
    for path in &written {
        writeln!(io.err, "wrote {}", path.display())?;
    }
    // The written project, loaded as `validate` loads it: its diagnostics are printed, and the
    // state goes where its backend says.
    let Some(spec) = super::load_project(&root, &super::all_envs(), false, io) else {
        writeln!(
            io.err,
            "error: the written project does not load; no state was recorded"
        )?;
        return Ok(ExitStatus::Failure);
    };
    let runtime = ops::runtime()?;
    let recorded = match runtime.block_on(ops::adopt::record(&spec, aws, &adoption, args.force)) {
        Ok(r) => r,
        Err(e) => return super::report(Err(e), io),
    };
    summary(io, &adoption, &recorded)?;
    Ok(ExitStatus::Success)
}

/// A project name from a directory name: lowercase letters, digits and `-`.
fn project_name(root: &Path) -> String {
    let dir = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let name: String = dir
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let name = name.trim_matches('-').to_owned();
    if name.is_empty() {
        "adopted".to_owned()
    } else {
        name
    }
}

fn summary(
    io: &mut Output,
    adoption: &adopt::Adoption,
    recorded: &[ops::adopt::Recorded],
) -> std::io::Result<()> {
    let resources: usize = adoption.records.values().map(Vec::len).sum();
    writeln!(
        io.out,
        "Adopted {} Terraform resource instance(s) as {resources} regionctl resource(s); unmapped {}.",
        adoption.adopted.len(),
        adoption.unmapped.len()
    )?;
    let mut per_env: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (env, records) in &adoption.records {
        per_env.entry(env).or_default().0 = records.len();
    }
    for (_, addr) in &adoption.adopted {
        per_env.entry(addr.env.as_str()).or_default().1 += 1;
    }
    for (env, (n, tf)) in &per_env {
        let state = recorded
            .iter()
            .find(|r| r.env == *env)
            .map(|r| format!(", state {} (serial {})", r.location, r.serial))
            .unwrap_or_default();
        writeln!(
            io.out,
            "  {env:<16} adopted {n:>3} (from {tf} Terraform instances){state}"
        )?;
    }
    if !adoption.unmapped.is_empty() {
        writeln!(
            io.out,
            "Unmapped (left to Terraform; not in the spec or the state):"
        )?;
        for u in &adoption.unmapped {
            writeln!(io.out, "  {} ({}): {}", u.address, u.source, u.reason)?;
        }
    }
    if !adoption.secret_envs.is_empty() {
        writeln!(
            io.out,
            "Passwords stayed in Terraform's state: set {} before an apply that needs them, or \
             switch those databases to manage_master_user_password: true.",
            adoption.secret_envs.join(", ")
        )?;
    }
    writeln!(
        io.out,
        "Nothing changed in AWS. Next: `regionctl check`, then `regionctl plan --all-regions` \
         (the first apply adds regionctl's identity tags in place)."
    )?;
    Ok(())
}
