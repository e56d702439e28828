//! `regionctl kubeconfig [--all-regions | ENV...] [--file PATH]`: one context per EKS cluster the
//! states record, merged into the kubeconfig (`ops::kubeconfig` does the merge and the write).

use std::path::{Path, PathBuf};

use crate::cli::KubeconfigArgs;
use crate::exit::ExitStatus;
use crate::provider::{ClientOptions, Clients};

use super::Output;
use super::{all_envs, load_project, report, resolve_path};
use crate::ops::kubeconfig::{clusters, context_names, default_path, merge, write_atomically};
use crate::ops::output::targets;
use crate::ops::state::{Failure, backend};

pub fn run(
    start: &Path,
    args: &KubeconfigArgs,
    aws: &ClientOptions,
    io: &mut Output<'_>,
) -> std::io::Result<ExitStatus> {
    let Some(spec) = load_project(start, &all_envs(), false, io) else {
        return Ok(ExitStatus::Failure);
    };
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let kubeconfig = std::env::var("KUBECONFIG").ok();
    let file = args.file.as_ref().map(|f| resolve_path(start, f));
    let Some(path) = default_path(file.as_deref(), kubeconfig.as_deref(), home.as_deref()) else {
        writeln!(
            io.err,
            "error: no kubeconfig path: give --file, or set KUBECONFIG or HOME"
        )?;
        return Ok(ExitStatus::Failure);
    };
    // The profile the exec plugin uses: the one this command runs with.
    let profile = aws
        .profile
        .clone()
        .or_else(|| std::env::var("AWS_PROFILE").ok())
        .filter(|p| !p.is_empty());
    let runtime = crate::ops::runtime()?;
    let result = runtime.block_on(async {
        let chosen = if args.all_regions {
            Vec::new()
        } else {
            targets(&spec, &args.envs, false)?.envs
        };
        let clients = Clients::load(aws).await;
        let backend = backend(&spec, &clients);
        let envs: Vec<String> = if chosen.is_empty() {
            spec.envs.keys().cloned().collect()
        } else {
            chosen
        };
        let mut states = Vec::new();
        for env in &envs {
            if let Some(state) = backend.read(env).await? {
                states.push(state);
            }
        }
        let (found, incomplete) = clusters(&states);
        for addr in &incomplete {
            writeln!(
                io.err,
                "warning: {addr} has no endpoint or CA in the state yet; skipped"
            )?;
        }
        if found.is_empty() {
            return Err(Failure::msg(format!(
                "no EKS cluster in the state of {} (run `regionctl apply` first)",
                envs.join(", ")
            )));
        }
        let existing = match std::fs::read_to_string(&path) {
            Ok(text) => Some(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(Failure::msg(format!("{}: {e}", path.display()))),
        };
        let shown = path.display().to_string();
        let text = merge(existing.as_deref(), &shown, &found, profile.as_deref())
            .map_err(|e| Failure::msg(e.to_string()))?;
        write_atomically(&path, &text).map_err(|e| Failure::msg(e.to_string()))?;
        for (c, context) in found.iter().zip(context_names(&found)) {
            writeln!(
                io.out,
                "context {context}: cluster {} in {} ({})",
                c.name, c.region, shown
            )?;
        }
        Ok(ExitStatus::Success)
    });
    report(result, io)
}
