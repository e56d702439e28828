//! One module per subcommand, wiring the stages together. The only place that prints (through
//! the writers it is given) and the only place that knows about the process environment.

mod adopt;
mod apply;
mod check;
mod force_unlock;
mod graph;
mod import;
mod inventory;
mod kubeconfig;
mod output;
mod plan;
mod schema;
mod state;
mod validate;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use crate::cli::{Cli, ColorChoice, Command, EnvArgs, Selection};
use crate::exit::ExitStatus;
use crate::ops;
use crate::render::{self, Style};
use crate::source::SourceMap;
use crate::spec::{Spec, loader};

/// Where a command writes. Tests pass buffers; the binary passes stdout and stderr.
pub struct Output<'a> {
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
    pub style: Style,
    /// Whether `out` is a terminal (live progress views are drawn only there).
    pub terminal: bool,
}

pub fn style_for(color: ColorChoice, stream_is_terminal: bool) -> Style {
    let color = match color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => stream_is_terminal && std::env::var_os("NO_COLOR").is_none(),
    };
    let width = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(100);
    Style { color, width }
}

pub fn run(cli: Cli, io: &mut Output) -> ExitStatus {
    let start = cli.chdir.clone().unwrap_or_else(|| PathBuf::from("."));
    let aws = crate::provider::ClientOptions {
        endpoint_url: cli.endpoint_url.clone(),
        profile: cli.profile.clone(),
        adaptive_retry: cli.adaptive_retry,
        max_attempts: cli.max_attempts,
        request_rate: cli.request_rate.clone(),
    };
    let result = match cli.command {
        Command::Inventory(args) => inventory::run(&start, &args, &aws, io),
        Command::Validate(args) => validate::run(&start, &args, io),
        Command::Graph(args) => graph::run(&start, &args, io),
        Command::Check(args) => check::run(&start, &args, &aws, io),
        Command::Plan(args) => plan::run(&start, &args, &aws, io),
        Command::State(cmd) => state::run(&start, &cmd, &aws, io),
        Command::Import(args) => import::run(&start, &args, &aws, io),
        Command::Adopt(cmd) => adopt::run(&start, &cmd, &aws, io),
        Command::ForceUnlock(args) => force_unlock::run(&start, &args, &aws, io),
        Command::Apply(args) => apply::run(&start, &args.selection, &args.run, false, &aws, io),
        Command::Destroy(args) => apply::run(&start, &args.selection, &args.run, true, &aws, io),
        Command::Schema(args) => schema::run(&start, &args, io),
        Command::Output(args) => output::run(&start, &args, &aws, io),
        Command::Kubeconfig(args) => kubeconfig::run(&start, &args, &aws, io),
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut command, "regionctl", io.out);
            Ok(ExitStatus::Success)
        }
    };
    match result {
        Ok(status) => status,
        Err(e) => {
            let _ = writeln!(io.err, "error: {e}");
            ExitStatus::Failure
        }
    }
}

/// A path given on the command line, relative to `-C` when that was given.
pub(crate) fn resolve_path(start: &std::path::Path, p: &std::path::Path) -> PathBuf {
    if p.is_absolute() || start == std::path::Path::new(".") {
        p.to_path_buf()
    } else {
        start.join(p)
    }
}

/// The load options for the selected environments, resolving paths against `-C`.
pub(crate) fn load_options(start: &std::path::Path, args: &EnvArgs) -> loader::LoadOptions {
    let join = |p: &PathBuf| resolve_path(start, p);
    let selection = if args.all_regions || args.paths.is_empty() {
        loader::Selection::All
    } else {
        loader::Selection::Paths(args.paths.iter().map(join).collect())
    };
    loader::LoadOptions {
        start_dir: start.to_path_buf(),
        selection,
        vars: args.vars.clone(),
        var_files: args.var_files.iter().map(join).collect(),
    }
}

/// Loads and expands the selected environments, resolving paths against `-C`.
pub(crate) fn load_spec(
    start: &std::path::Path,
    args: &EnvArgs,
    sources: &mut SourceMap,
) -> (Option<Spec>, crate::diag::Diagnostics) {
    ops::prepare::load(&load_options(start, args), sources)
}

/// Prepares the selection for a plan, an apply or a check ([`ops::prepare`]); prints the
/// diagnostics and any error, and gives `None` when there is nothing to go on with.
pub(crate) fn prepare(
    start: &std::path::Path,
    selection: &Selection,
    sources: &mut SourceMap,
    io: &mut Output,
) -> std::io::Result<Option<ops::Prepared>> {
    let request = ops::Request {
        load: load_options(start, &selection.envs),
        regions: selection.regions.clone(),
        targets: selection.targets.clone(),
    };
    let prepared = ops::prepare(&request, sources);
    print_diagnostics(io, &prepared.diagnostics, sources);
    match prepared.result {
        Ok(p) => Ok(Some(p)),
        Err(ops::PrepareError::Invalid) => Ok(None),
        Err(e @ ops::PrepareError::Selection(_)) => {
            writeln!(io.err, "error: {e}")?;
            Ok(None)
        }
    }
}

/// Prints errors, at most a screenful: when AWS cannot be reached every refresh fails the same
/// way, and forty copies of one message hide it.
pub(crate) fn print_errors(io: &mut Output, errors: &[String]) -> std::io::Result<()> {
    const SHOWN: usize = 5;
    for e in errors.iter().take(SHOWN) {
        writeln!(io.err, "error: {e}")?;
    }
    if errors.len() > SHOWN {
        writeln!(
            io.err,
            "error: ... and {} more errors (run with -v for each request)",
            errors.len() - SHOWN
        )?;
    }
    writeln!(
        io.err,
        "No plan was made: planning from a partial view of AWS could create duplicates or delete \
         the wrong thing."
    )
}

/// Writes diagnostics to stderr, with colour decided for stderr.
pub(crate) fn print_diagnostics(
    io: &mut Output,
    diags: &[crate::diag::Diagnostic],
    sources: &SourceMap,
) {
    if diags.is_empty() {
        return;
    }
    let style = Style {
        color: io.style.color && std::io::stderr().is_terminal(),
        ..io.style
    };
    let _ = io
        .err
        .write_all(render::diagnostics::human(diags, sources, style).as_bytes());
}

/// Prints a failure the way `cmd::run` prints errors, and turns it into the exit status.
pub(crate) fn report(
    result: Result<ExitStatus, ops::state::Failure>,
    io: &mut Output<'_>,
) -> std::io::Result<ExitStatus> {
    match result {
        Ok(status) => Ok(status),
        Err(ops::state::Failure::Io(e)) => Err(e),
        Err(e) => {
            writeln!(io.err, "error: {e}")?;
            Ok(ExitStatus::Failure)
        }
    }
}

/// Every environment, none selected by path: what commands addressing resources by their full
/// address load.
pub(crate) fn all_envs() -> EnvArgs {
    EnvArgs {
        paths: Vec::new(),
        all_regions: false,
        vars: Vec::new(),
        var_files: Vec::new(),
    }
}

/// Loads the project. With `strict`, any error in the spec stops the command (it needs the
/// resources); otherwise only the project file must be readable, since the state, not the spec,
/// is what the command works on, and a broken spec must not keep anyone from fixing the state.
pub(crate) fn load_project(
    start: &std::path::Path,
    envs: &EnvArgs,
    strict: bool,
    io: &mut Output<'_>,
) -> Option<Spec> {
    let mut sources = SourceMap::new();
    let (spec, diags) = load_spec(start, envs, &mut sources);
    let errors = diags.has_errors();
    let diags = diags.into_sorted();
    match spec {
        Some(spec) if !errors => Some(spec),
        Some(spec) if !strict => {
            let count = diags
                .iter()
                .filter(|d| d.severity == crate::diag::Severity::Error)
                .count();
            let _ = writeln!(
                io.err,
                "warning: the spec has {count} error(s) (see `regionctl validate`); working on the \
                 state anyway"
            );
            Some(spec)
        }
        _ => {
            print_diagnostics(io, &diags, &sources);
            None
        }
    }
}
