//! `regionctl adopt terraform STATE...` and `regionctl adopt aws --region R`: read (the documents,
//! or the region through the provider), translate (`crate::adopt`), check the states, write the
//! spec files, load the written project as `validate` would, record the states (`ops::adopt`),
//! and print the summary: adopted, unmapped or skipped with reasons, per region.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use super::Output;
use crate::adopt;
use crate::cli::{AdoptAwsArgs, AdoptCommand, AdoptTerraformArgs};
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
        AdoptCommand::Aws(args) => live(start, args, aws, io),
    }
}

/// What both sources share once translated: states checked, files written, project loaded,
/// states recorded. `None` when it stopped (the reason printed).
/// Where an adoption goes: `--out`, `--project`, `--force`.
struct Dest<'a> {
    out: Option<&'a Path>,
    project: Option<&'a str>,
    force: bool,
}

fn finish(
    start: &Path,
    dest: Dest<'_>,
    adoption: &adopt::Adoption,
    command: &str,
    aws: &ClientOptions,
    io: &mut Output,
) -> std::io::Result<Result<Vec<ops::adopt::Recorded>, ExitStatus>> {
    let Dest {
        out,
        project,
        force,
    } = dest;
    let root = out.map_or_else(|| start.to_path_buf(), |o| super::resolve_path(start, o));
    let project = project.map_or_else(|| project_name(&root), str::to_owned);
    let runtime = ops::runtime()?;
    // The states first, against the backend the existing project names (its spec may not load
    // yet: only regionctl.yaml matters here), before any file is written.
    let target = if root.join("regionctl.yaml").exists() {
        match ops::adopt::Target::of_project_file(&root) {
            Ok(t) => t,
            Err(e) => return super::report(Err(e), io).map(Err),
        }
    } else {
        ops::adopt::Target::new_project(&root, &project)
    };
    if let Err(e) = runtime.block_on(ops::adopt::check_states(&target, aws, adoption, force)) {
        return super::report(Err(e), io).map(Err);
    }
    let written = match ops::adopt::write_files(&root, adoption, &project, force, command) {
        Ok(w) => w,
        Err(e) => return super::report(Err(e), io).map(Err),
    };
    for path in &written {
        writeln!(io.err, "wrote {}", path.display())?;
    }
    // The written project, loaded as `validate` loads it, and the state goes where its backend
    // says. What `validate` would report (a value Terraform held that AWS's rules refuse, such
    // as an unknown EKS version) is listed here, at the line of the written file, so the user
    // fixes it before the first plan rather than learning of it then.
    let mut sources = crate::source::SourceMap::new();
    let (spec, diags) = super::load_spec(&root, &super::all_envs(), &mut sources);
    let diags = diags.into_sorted();
    if !diags.is_empty() {
        writeln!(
            io.err,
            "The written spec has {} finding(s) to fix before the first plan (as `regionctl \
             validate` reports them):",
            diags.len()
        )?;
        super::print_diagnostics(io, &diags, &sources);
    }
    let Some(spec) = spec else {
        writeln!(
            io.err,
            "error: the written project does not load; no state was recorded"
        )?;
        return Ok(Err(ExitStatus::Failure));
    };
    match runtime.block_on(ops::adopt::record(&spec, aws, adoption, force)) {
        Ok(r) => Ok(Ok(r)),
        Err(e) => super::report(Err(e), io).map(Err),
    }
}

fn live(
    start: &Path,
    args: &AdoptAwsArgs,
    aws: &ClientOptions,
    io: &mut Output,
) -> std::io::Result<ExitStatus> {
    let runtime = ops::runtime()?;
    writeln!(
        io.err,
        "reading every kind in {}{} ...",
        args.region,
        if args.include_global {
            " and the global kinds (through us-east-1)"
        } else {
            ""
        }
    )?;
    let err = &mut io.err;
    let read = runtime.block_on(ops::adopt::read_region(
        aws,
        &args.region,
        args.include_global,
        |kind, region, count, left| {
            let _ = writeln!(
                err,
                "  {:<30} {count:>4} in {region} ({left} lists left)",
                kind.to_string()
            );
        },
    ));
    drop(runtime);
    let observed = match read {
        Ok(o) => o,
        Err(e) => return super::report(Err(e), io),
    };
    if let Some(vpc) = &args.vpc
        && !observed
            .iter()
            .any(|o| o.kind == crate::kind::Kind::Vpc && o.id == *vpc)
    {
        writeln!(
            io.err,
            "error: there is no VPC {vpc} in {}; nothing was written",
            args.region
        )?;
        return Ok(ExitStatus::Failure);
    }
    let filters = adopt::live::Filters {
        tags: args.tags.clone(),
        vpc: args.vpc.clone(),
    };
    let result = adopt::live::translate(&args.region, &observed, &filters);
    if result.adoption.records.is_empty() {
        writeln!(
            io.out,
            "Nothing to adopt in {}: read {}, skipped {}, left out by the filters {}.",
            args.region,
            observed.len(),
            result.skipped.len(),
            result.left_out
        )?;
        skipped(io, &result.skipped)?;
        return Ok(ExitStatus::Success);
    }
    let recorded = match finish(
        start,
        Dest {
            out: args.out.as_deref(),
            project: args.project.as_deref(),
            force: args.force,
        },
        &result.adoption,
        "adopt aws",
        aws,
        io,
    )? {
        Ok(r) => r,
        Err(status) => return Ok(status),
    };
    let adoption = &result.adoption;
    for (env, records) in &adoption.records {
        let state = recorded
            .iter()
            .find(|r| r.env == *env)
            .map(|r| format!(", state {} (serial {})", r.location, r.serial))
            .unwrap_or_default();
        // Skips and filters concern the region read; global resources are counted apart.
        let rest = if *env == args.region {
            format!(
                ", skipped {}, left out by the filters {}",
                result.skipped.len(),
                result.left_out
            )
        } else {
            String::new()
        };
        writeln!(io.out, "{env}: adopted {}{rest}{state}", records.len())?;
    }
    skipped(io, &result.skipped)?;
    if !adoption.secret_envs.is_empty() {
        writeln!(
            io.out,
            "AWS never returns database passwords: set {} before an apply that needs them, or \
             switch those databases to manage_master_user_password: true.",
            adoption.secret_envs.join(", ")
        )?;
    }
    writeln!(
        io.out,
        "Nothing changed in AWS. Next: `regionctl check`, then `regionctl plan envs/{}` (the \
         first apply adds regionctl's identity tags in place).",
        args.region
    )?;
    Ok(ExitStatus::Success)
}

fn skipped(io: &mut Output, skipped: &[adopt::Unmapped]) -> std::io::Result<()> {
    if skipped.is_empty() {
        return Ok(());
    }
    writeln!(io.out, "Skipped (not in the spec or the state):")?;
    for u in skipped {
        writeln!(io.out, "  {}: {}", u.address, u.reason)?;
    }
    Ok(())
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
    let recorded = match finish(
        start,
        Dest {
            out: args.out.as_deref(),
            project: args.project.as_deref(),
            force: args.force,
        },
        &adoption,
        "adopt terraform",
        aws,
        io,
    )? {
        Ok(r) => r,
        Err(status) => return Ok(status),
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
    if !adoption.notes.is_empty() {
        writeln!(io.out, "Modules:")?;
        for n in &adoption.notes {
            writeln!(io.out, "  {n}")?;
        }
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
