//! `regionctl import ADDR ID`: arguments → `ops::import` → what was recorded, and how to see
//! the difference from the spec.

use std::path::Path;

use crate::cli::ImportArgs;
use crate::exit::ExitStatus;
use crate::ops;
use crate::provider::ClientOptions;

use super::Output;

pub fn run(
    start: &Path,
    args: &ImportArgs,
    aws: &ClientOptions,
    io: &mut Output,
) -> std::io::Result<ExitStatus> {
    let Some(spec) = super::load_project(start, &super::all_envs(), true, io) else {
        return Ok(ExitStatus::Failure);
    };
    let runtime = crate::ops::runtime()?;
    let result = runtime.block_on(async {
        let imported = ops::import::import(&spec, aws, &args.addr, &args.id).await?;
        let (addr, kind, record) = (&imported.addr, imported.kind, &imported.record);
        let (location, serial) = (&imported.location, imported.serial);
        writeln!(
            io.out,
            "imported {kind} {} as {addr} into the state ({location}, serial {serial}).",
            record.id
        )?;
        writeln!(
            io.out,
            "Nothing changed in AWS. Run `regionctl plan {}` to see how it differs from the spec \
             (including the regionctl:* tags it does not carry yet).",
            spec.envs
                .get(&addr.env)
                .map(|_| format!("envs/{}", addr.env))
                .unwrap_or_default()
        )?;
        Ok(ExitStatus::Success)
    });
    super::report(result, io)
}
