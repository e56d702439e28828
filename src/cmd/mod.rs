//! One module per subcommand, wiring the stages together. The only place that prints (through
//! the writers it is given) and the only place that knows about the process environment.

mod apply;
mod check;
mod force_unlock;
mod graph;
mod import;
mod inventory;
mod plan;
mod schema;
mod state;
mod validate;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use crate::cli::{Cli, ColorChoice, Command, EnvArgs};
use crate::exit::ExitStatus;
use crate::render::{self, Style};
use crate::source::SourceMap;
use crate::spec::{self, Spec, loader};

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
        Command::ForceUnlock(args) => force_unlock::run(&start, &args, &aws, io),
        Command::Apply(args) => apply::run(&start, &args.selection, &args.run, false, &aws, io),
        Command::Destroy(args) => apply::run(&start, &args.selection, &args.run, true, &aws, io),
        Command::Schema(args) => schema::run(&start, &args, io),
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

/// Loads and expands the selected environments, resolving paths against `-C`.
pub(crate) fn load_spec(
    start: &std::path::Path,
    args: &EnvArgs,
    sources: &mut SourceMap,
) -> (Option<Spec>, crate::diag::Diagnostics) {
    let join = |p: &PathBuf| resolve_path(start, p);
    let selection = if args.all_regions || args.paths.is_empty() {
        loader::Selection::All
    } else {
        loader::Selection::Paths(args.paths.iter().map(join).collect())
    };
    let opts = loader::LoadOptions {
        start_dir: start.to_path_buf(),
        selection,
        vars: args.vars.clone(),
        var_files: args.var_files.iter().map(join).collect(),
    };
    let started = std::time::Instant::now();
    let (spec, diags) = spec::load(&loader::RealFs, &opts, sources);
    tracing::info!(
        files = sources.files().count(),
        environments = spec.as_ref().map_or(0, |s| s.envs.len()),
        resources = spec.as_ref().map_or(0, |s| s.resources.len()),
        diagnostics = diags.iter().count(),
        elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
        "spec loaded"
    );
    for (_, f) in sources.files() {
        tracing::debug!(path = %f.path.display(), bytes = f.text.len(), "read");
    }
    (spec, diags)
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

/// The async runtime for commands that talk to AWS. Multi-threaded: regions are refreshed and
/// applied concurrently, and the SDK's own work (signing, TLS) runs beside it.
pub(crate) fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
}
