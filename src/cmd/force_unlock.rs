//! `regionctl force-unlock LOCK_ID`: remove a lock a dead run left behind.
//!
//! The lock is found by its id alone (whichever environment holds it) and removed only if it still
//! has that id. Removing a live run's lock cannot lose its writes (every state write is
//! conditional), but that run then fails; hence the confirmation on a terminal, and `--force`
//! required when there is none to ask.

use std::io::{BufRead, IsTerminal};
use std::path::Path;

use crate::cli::ForceUnlockArgs;
use crate::exit::ExitStatus;
use crate::provider::{ClientOptions, Clients};
use crate::state::LockInfo;

use super::Output;
use crate::ops::state::{Failure, backend};

pub fn run(
    start: &Path,
    args: &ForceUnlockArgs,
    aws: &ClientOptions,
    io: &mut Output,
) -> std::io::Result<ExitStatus> {
    let Some(spec) = super::load_project(start, &super::all_envs(), false, io) else {
        return Ok(ExitStatus::Failure);
    };
    let runtime = crate::ops::runtime()?;
    let result = runtime.block_on(async {
        let clients = Clients::load(aws).await;
        let backend = backend(&spec, &clients);
        let (env, info) = backend.find_lock(&args.lock_id).await?;
        let location = backend.lock_location(&env);
        if !args.force {
            let stdin = std::io::stdin();
            if !stdin.is_terminal() {
                return Err(Failure::msg(format!(
                    "refusing to remove the lock {} of {env} ({}) without confirmation, and stdin \
                     is not a terminal to ask on; re-run with --force if that run is no longer \
                     active",
                    info.id,
                    describe(&info)
                )));
            }
            writeln!(
                io.err,
                "lock {} of {env} ({location}): {}",
                info.id,
                describe(&info)
            )?;
            if info.host == crate::state::lock::hostname() && !info.holder_looks_dead() {
                writeln!(
                    io.err,
                    "warning: process {} is still running on this host; if it is that regionctl \
                     run, removing its lock makes its next state write fail",
                    info.pid
                )?;
            }
            write!(
                io.err,
                "Remove it? Only do this if that run is no longer active. [y/N] "
            )?;
            io.err.flush()?;
            let mut answer = String::new();
            stdin.lock().read_line(&mut answer)?;
            if !matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
                writeln!(io.err, "not removed")?;
                return Ok(ExitStatus::Failure);
            }
        }
        let removed = backend.force_unlock(&env, &args.lock_id).await?;
        writeln!(
            io.out,
            "removed the lock {} of {env} ({location}): {}",
            removed.id,
            describe(&removed)
        )?;
        Ok(ExitStatus::Success)
    });
    super::report(result, io)
}

fn describe(info: &LockInfo) -> String {
    format!(
        "held by {} (pid {} on {}) running `{}` since {}",
        info.holder, info.pid, info.host, info.operation, info.created
    )
}
