//! Command-line arguments (clap derive). Only parsing lives here: no I/O, no defaults that need
//! the environment. `cmd` turns these into work.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "regionctl",
    version,
    about = "Region-aware infrastructure as code for multi-region AWS platforms",
    propagate_version = true
)]
pub struct Cli {
    /// When to colour output.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// More logging (-v info, -vv debug, -vvv trace); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Run as if started in DIR.
    #[arg(short = 'C', long = "chdir", global = true, value_name = "DIR")]
    pub chdir: Option<PathBuf>,
    /// Send every AWS request to this endpoint (an emulator); the same as AWS_ENDPOINT_URL.
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// The AWS profile to use; the same as AWS_PROFILE.
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the spec: syntax, schemas, references, CIDRs, cycles. Reports every problem at once.
    Validate(ValidateArgs),
    /// Print the resource dependency graph (DOT or JSON).
    Graph(GraphArgs),
    /// List the stack's resources that exist in AWS, per region (read-only).
    Inventory(InventoryArgs),
    /// Show what apply would change (not implemented yet).
    Plan(PendingArgs),
    /// Create, update and delete resources to match the spec (not implemented yet).
    Apply(PendingArgs),
    /// Delete the resources of environments (not implemented yet).
    Destroy(PendingArgs),
    /// Print a shell completion script.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// Which environments to work on, and variable overrides.
#[derive(Debug, Clone, Args)]
pub struct EnvArgs {
    /// Environment directories, e.g. envs/eu-west-1 (default: every environment).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Every environment of the project (regions and global).
    #[arg(long, conflicts_with = "paths")]
    pub all_regions: bool,
    /// Set a variable: NAME=VALUE (VALUE is read as YAML, so lists and numbers work).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// Read variable values from a YAML file.
    #[arg(long = "var-file", value_name = "FILE")]
    pub var_files: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiagFormat {
    Human,
    Json,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub envs: EnvArgs,
    /// Output format of the diagnostics.
    #[arg(long, value_enum, default_value_t = DiagFormat::Human)]
    pub format: DiagFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    Dot,
    Json,
}

#[derive(Debug, Args)]
pub struct GraphArgs {
    #[command(flatten)]
    pub envs: EnvArgs,
    #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
    pub format: GraphFormat,
}

#[derive(Debug, Args)]
pub struct InventoryArgs {
    #[command(flatten)]
    pub envs: EnvArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DiagFormat::Human)]
    pub format: DiagFormat,
}

#[derive(Debug, Args)]
pub struct PendingArgs {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    pub rest: Vec<String>,
}
