//! `regionctl output [ENV...] [NAME] [--json]`: the outputs the last apply recorded in each
//! environment's state, read without any AWS call.

use std::collections::BTreeMap;
use std::path::Path;

use crate::cli::OutputArgs;
use crate::exit::ExitStatus;
use crate::provider::{ClientOptions, Clients};
use crate::state::Backend;

use super::Output;
use super::{all_envs, load_project, report};
use crate::ops::output::{Targets, plain, read, targets};
use crate::ops::state::{Failure, backend};

/// The version of `--json`'s document.
const FORMAT_VERSION: u32 = 1;

pub fn run(
    start: &Path,
    args: &OutputArgs,
    aws: &ClientOptions,
    io: &mut Output<'_>,
) -> std::io::Result<ExitStatus> {
    let Some(spec) = load_project(start, &all_envs(), false, io) else {
        return Ok(ExitStatus::Failure);
    };
    let runtime = crate::ops::runtime()?;
    let result = runtime.block_on(async {
        let chosen = targets(&spec, &args.args, true)?;
        // Only the state backend is reached (S3 when configured); no provider call.
        let clients = Clients::load(aws).await;
        let backend: Backend = backend(&spec, &clients);
        let recorded = read(&spec, &backend, &chosen.envs).await?;
        print(&chosen, &recorded, args.json, io)
    });
    report(result, io)
}

type Recorded = BTreeMap<String, Option<BTreeMap<String, serde_json::Value>>>;

fn print(
    chosen: &Targets,
    recorded: &Recorded,
    json: bool,
    io: &mut Output<'_>,
) -> Result<ExitStatus, Failure> {
    if let Some(name) = &chosen.name {
        let mut found = BTreeMap::new();
        for (env, outputs) in recorded {
            match outputs.as_ref().and_then(|o| o.get(name)) {
                Some(v) => {
                    found.insert(env.clone(), v.clone());
                }
                None => {
                    let have: Vec<&str> = outputs
                        .iter()
                        .flat_map(|o| o.keys().map(String::as_str))
                        .collect();
                    let hint = if outputs.is_none() {
                        "no state yet: run `regionctl apply`".to_owned()
                    } else if have.is_empty() {
                        "no outputs recorded: run `regionctl apply`".to_owned()
                    } else {
                        format!("recorded: {}", have.join(", "))
                    };
                    return Err(Failure::msg(format!(
                        "{env} has no output {name:?} ({hint})"
                    )));
                }
            }
        }
        if json {
            let doc = serde_json::json!({
                "format_version": FORMAT_VERSION,
                "name": name,
                "environments": found,
            });
            writeln!(io.out, "{doc:#}")?;
        } else if found.len() == 1 {
            // One value: bare, for `$(regionctl output eu-west-1 cluster_name)`.
            for v in found.values() {
                writeln!(io.out, "{}", plain(v))?;
            }
        } else {
            for (env, v) in &found {
                writeln!(io.out, "{env}\t{}", plain(v))?;
            }
        }
        return Ok(ExitStatus::Success);
    }
    if json {
        let envs: BTreeMap<&String, serde_json::Value> = recorded
            .iter()
            .map(|(env, o)| {
                (
                    env,
                    o.as_ref()
                        .map_or(serde_json::Value::Null, |o| serde_json::json!(o)),
                )
            })
            .collect();
        let doc = serde_json::json!({"format_version": FORMAT_VERSION, "environments": envs});
        writeln!(io.out, "{doc:#}")?;
        return Ok(ExitStatus::Success);
    }
    for (env, outputs) in recorded {
        writeln!(io.out, "{env}")?;
        match outputs {
            None => writeln!(io.out, "  (no state yet)")?,
            Some(o) if o.is_empty() => writeln!(io.out, "  (no outputs recorded)")?,
            Some(o) => {
                let width = o.keys().map(String::len).max().unwrap_or(0);
                for (name, v) in o {
                    writeln!(io.out, "  {name:width$} = {v}")?;
                }
            }
        }
    }
    Ok(ExitStatus::Success)
}
