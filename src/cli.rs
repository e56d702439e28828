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
    /// Use the AWS SDK's adaptive retry mode (client-side rate limiting after throttling);
    /// the same as AWS_RETRY_MODE=adaptive.
    #[arg(long, global = true)]
    pub adaptive_retry: bool,
    /// Attempts per AWS request, the first included (default 3); the same as AWS_MAX_ATTEMPTS.
    #[arg(long, global = true, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=20))]
    pub max_attempts: Option<u32>,
    /// Requests per second per service and region, over the defaults (route53 10, logs 5, the
    /// others 10; EC2 and some Route 53 operations also have limits of their own, as AWS),
    /// e.g. `ec2=50,iam=5`; 0 lifts a service's limits, `off` lifts them all.
    #[arg(long, global = true, env = "REGIONCTL_REQUEST_RATE", value_name = "LIMITS",
          value_parser = parse_request_rate)]
    pub request_rate: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

fn parse_request_rate(value: &str) -> Result<String, String> {
    crate::provider::ratelimit::rates_from_env(Some(value))
        .map(|_| value.to_owned())
        .map_err(|e| e.replace("REGIONCTL_REQUEST_RATE: ", ""))
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
    /// Check the spec (and a plan) against policy rules: security, resilience, tags.
    Check(CheckArgs),
    /// List the stack's resources that exist in AWS, per region (read-only).
    Inventory(InventoryArgs),
    /// Show what apply would change: the spec against state and live AWS, per region.
    Plan(PlanArgs),
    /// Create, update and delete resources to match the spec: a fresh plan, or a saved one.
    Apply(ApplyArgs),
    /// Delete every resource of the selected environments, dependents first.
    Destroy(DestroyArgs),
    /// Inspect or edit the state: list, show, rm.
    #[command(subcommand)]
    State(StateCommand),
    /// Adopt an existing AWS resource into the state under an address of the spec.
    Import(ImportArgs),
    /// Adopt an existing platform: write the spec and the state from Terraform states or from
    /// what exists in an AWS region.
    #[command(subcommand)]
    Adopt(AdoptCommand),
    /// Remove a lock left behind by a run that died (the lock id is in the "locked" error).
    ForceUnlock(ForceUnlockArgs),
    /// Print the outputs the last apply recorded per environment (no AWS call).
    Output(OutputArgs),
    /// Write or merge one kubeconfig context per EKS cluster, named after its environment.
    Kubeconfig(KubeconfigArgs),
    /// Print the language reference (Markdown) or a JSON Schema of the spec files for editors.
    Schema(SchemaArgs),
    /// Print a shell completion script.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// `regionctl output`: environment outputs from the state.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Environments (a name such as eu-west-1, or a directory such as envs/eu-west-1; default:
    /// every environment), then optionally the name of one output, printed bare.
    #[arg(value_name = "ENV... [NAME]")]
    pub args: Vec<String>,
    /// Print JSON (with format_version).
    #[arg(long)]
    pub json: bool,
}

/// `regionctl kubeconfig`: contexts for the clusters the state records.
#[derive(Debug, Args)]
pub struct KubeconfigArgs {
    /// Environments whose clusters to add (a name or a directory); default: every environment.
    #[arg(value_name = "ENV", conflicts_with = "all_regions")]
    pub envs: Vec<String>,
    /// Every environment of the project.
    #[arg(long)]
    pub all_regions: bool,
    /// The kubeconfig to write (default: $KUBECONFIG's first file, else ~/.kube/config).
    #[arg(long, value_name = "PATH")]
    pub file: Option<std::path::PathBuf>,
}

/// `regionctl schema`: generated from the kind declarations (docs/spec.md, docs/editors.md).
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("format").required(true))]
pub struct SchemaArgs {
    /// Print the per-kind reference of docs/spec.md as Markdown.
    #[arg(long, group = "format")]
    pub markdown: bool,
    /// Print a JSON Schema (draft-07) of the spec files, for yaml-language-server and other editors.
    #[arg(long, group = "format")]
    pub json_schema: bool,
    /// Only this kind's section (with --markdown), e.g. `rds_instance`.
    #[arg(long, value_name = "NAME", requires = "markdown")]
    pub kind: Option<String>,
    /// Rewrite the generated blocks of this Markdown file in place (with --markdown), e.g. docs/spec.md.
    #[arg(
        long,
        value_name = "FILE",
        requires = "markdown",
        conflicts_with = "kind"
    )]
    pub update: Option<PathBuf>,
    /// Which file the JSON Schema describes (default: any of them, told apart by their keys).
    #[arg(
        long = "file",
        value_enum,
        value_name = "TYPE",
        requires = "json_schema"
    )]
    pub file_type: Option<SchemaFile>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaFile {
    /// regionctl.yaml.
    Project,
    /// A file under envs/<name>/.
    Environment,
    /// A file under modules/<name>/.
    Module,
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

/// `regionctl check [PATH ... | PLANFILE]`: a single PATH that is a file is a saved plan
/// (`regionctl plan --out FILE`), checked together with the spec.
#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub envs: EnvArgs,
    /// Also make a fresh plan (reads the state and AWS) and check the planned changes.
    #[arg(long)]
    pub plan: bool,
    /// Print the findings as JSON.
    #[arg(long, conflicts_with = "sarif")]
    pub json: bool,
    /// Print the findings as SARIF 2.1.0 (GitHub code scanning shows them on the pull request).
    #[arg(long)]
    pub sarif: bool,
    /// Exit 1 when a finding at this level or above remains (never: only when checking fails).
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
    Note,
    Never,
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

/// How apply and destroy run.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Do not ask for confirmation (required without a terminal).
    #[arg(long)]
    pub auto_approve: bool,
    /// At most N changes in flight at once, across all regions.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub parallelism: usize,
    /// Print progress as one JSON object per line (for machines) instead of text.
    #[arg(long)]
    pub json: bool,
    /// Allow replacing this protected or stateful resource (repeatable; `*` matches anything).
    #[arg(long = "allow-replace", value_name = "ADDR")]
    pub allow_replace: Vec<String>,
    /// Allow deleting this protected or stateful resource (repeatable; `*` matches anything).
    #[arg(long = "allow-destroy", value_name = "ADDR")]
    pub allow_destroy: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub selection: Selection,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Args)]
pub struct DestroyArgs {
    #[command(flatten)]
    pub selection: Selection,
    #[command(flatten)]
    pub run: RunArgs,
}

/// Which part of the project a plan (later apply or destroy) works on.
#[derive(Debug, Clone, Args)]
pub struct Selection {
    #[command(flatten)]
    pub envs: EnvArgs,
    /// Only environments in this region (repeatable); `global` selects the global environment.
    #[arg(long = "region", value_name = "REGION")]
    pub regions: Vec<String>,
    /// Only this resource and what it depends on (repeatable), e.g. eu-west-1/vpc.main.
    #[arg(long = "target", value_name = "ADDR")]
    pub targets: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    Human,
    Json,
    Markdown,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub selection: Selection,
    /// Print the plan as JSON in the shape of Terraform's JSON plan (for conftest/OPA).
    #[arg(long, conflicts_with = "markdown")]
    pub json: bool,
    /// Print the plan as markdown for a pull-request comment (under 60,000 characters).
    #[arg(long)]
    pub markdown: bool,
    /// Exit 0 when there are no changes, 2 when there are, 1 on error.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Save the plan to FILE for `regionctl apply FILE`.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Allow replacing this protected or stateful resource (repeatable).
    #[arg(long = "allow-replace", value_name = "ADDR")]
    pub allow_replace: Vec<String>,
    /// Allow deleting this protected or stateful resource (repeatable).
    #[arg(long = "allow-destroy", value_name = "ADDR")]
    pub allow_destroy: Vec<String>,
    /// What to read from AWS: `full` reads every resource (drift anywhere shows); `changed`
    /// reads only the resources whose spec differs from the state, what they depend on and
    /// what depends on them, and trusts the state for the rest (drift there does not show).
    #[arg(long, value_enum, default_value_t = RefreshMode::Full, value_name = "WHAT")]
    pub refresh: RefreshMode,
}

/// `plan --refresh`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RefreshMode {
    Full,
    Changed,
}

impl PlanArgs {
    pub fn format(&self) -> PlanFormat {
        match (self.json, self.markdown) {
            (true, _) => PlanFormat::Json,
            (_, true) => PlanFormat::Markdown,
            _ => PlanFormat::Human,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum AdoptCommand {
    /// Read Terraform states (`terraform state pull` or `terraform show -json` output) and write
    /// the spec (one environment per region, plus global) and the regionctl state for every
    /// resource regionctl can manage; list the others with the reason.
    Terraform(AdoptTerraformArgs),
    /// List what exists in one AWS region (every kind regionctl manages), filtered by tag or
    /// VPC, and write the spec (one environment for the region) and the regionctl state for it.
    /// Resources another regionctl project manages are skipped and listed.
    Aws(AdoptAwsArgs),
}

#[derive(Debug, Args)]
pub struct AdoptAwsArgs {
    /// The region to read, e.g. us-east-1.
    #[arg(long, value_name = "REGION", value_parser = parse_region)]
    pub region: String,
    /// Keep only resources carrying this tag (repeatable: all must match). Resources of kinds
    /// without tags (Route 53 records, SNS subscriptions, KMS aliases) are kept when they refer
    /// to a kept resource.
    #[arg(long = "tag", value_name = "KEY=VALUE", value_parser = parse_tag)]
    pub tags: Vec<(String, String)>,
    /// Keep only this VPC and what is in it (refers to it, directly or through other kept
    /// resources), plus the VPC-less resources (KMS keys, log groups, IAM roles ...) that kept
    /// resources refer to.
    #[arg(long, value_name = "VPC_ID", value_parser = parse_vpc_id)]
    pub vpc: Option<String>,
    /// Also read the account's global kinds (IAM roles, policies and OIDC providers, Route 53
    /// zones, records and health checks) into the `global` environment. Off by default: they
    /// belong to the account, not the region, and adopting several regions would list them each
    /// time.
    #[arg(long)]
    pub include_global: bool,
    /// The project directory to write (default: the current one, or -C).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Overwrite existing spec files and state entries.
    #[arg(long)]
    pub force: bool,
    /// The project (stack) name, when regionctl.yaml does not exist yet (default: the
    /// directory's name).
    #[arg(long, value_name = "NAME")]
    pub project: Option<String>,
}

fn parse_region(value: &str) -> Result<String, String> {
    if crate::spec::aws_facts::is_known_region(value) {
        Ok(value.to_owned())
    } else {
        Err(format!(
            "{value:?} is not an AWS region regionctl knows (e.g. us-east-1, eu-west-1)"
        ))
    }
}

fn parse_tag(value: &str) -> Result<(String, String), String> {
    match value.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!(
            "expected KEY=VALUE (e.g. team=platform), got {value:?}"
        )),
    }
}

fn parse_vpc_id(value: &str) -> Result<String, String> {
    let hex = value.strip_prefix("vpc-").unwrap_or_default();
    if !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(value.to_owned())
    } else {
        Err(format!(
            "expected a VPC id such as vpc-0a1b2c3d, got {value:?}"
        ))
    }
}

#[derive(Debug, Args)]
pub struct AdoptTerraformArgs {
    /// Terraform state files (format version 4) or `terraform show -json` outputs; `-` reads
    /// standard input.
    #[arg(required = true, value_name = "STATE")]
    pub states: Vec<PathBuf>,
    /// The project directory to write (default: the current one, or -C).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Overwrite existing spec files and state entries.
    #[arg(long)]
    pub force: bool,
    /// The project (stack) name, when regionctl.yaml does not exist yet (default: the
    /// directory's name).
    #[arg(long, value_name = "NAME")]
    pub project: Option<String>,
    /// The region of a provider configuration or module whose resources do not name theirs,
    /// e.g. `euw1=eu-west-1` or `module.primary=us-east-1` (repeatable).
    #[arg(long = "provider-region", value_name = "ALIAS=REGION", value_parser = parse_pair)]
    pub provider_regions: Vec<(String, String)>,
    /// The region of resources nothing else places (a provider without alias or region hint).
    #[arg(long, value_name = "REGION")]
    pub default_region: Option<String>,
}

fn parse_pair(value: &str) -> Result<(String, String), String> {
    match value.split_once('=') {
        Some((k, v)) if !k.is_empty() && !v.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!("expected ALIAS=REGION, got {value:?}")),
    }
}

#[derive(Debug, Subcommand)]
pub enum StateCommand {
    /// List the resources recorded in the state of the selected environments.
    List(StateListArgs),
    /// Show one resource's recorded attributes (sensitive values redacted).
    Show(StateShowArgs),
    /// Forget resources without deleting them in AWS (they are no longer managed).
    Rm(StateRmArgs),
}

#[derive(Debug, Args)]
pub struct StateListArgs {
    #[command(flatten)]
    pub envs: EnvArgs,
    #[arg(long, value_enum, default_value_t = DiagFormat::Human)]
    pub format: DiagFormat,
}

#[derive(Debug, Args)]
pub struct StateShowArgs {
    /// The resource address, e.g. eu-west-1/vpc.main.
    pub addr: String,
    #[arg(long, value_enum, default_value_t = DiagFormat::Human)]
    pub format: DiagFormat,
}

#[derive(Debug, Args)]
pub struct StateRmArgs {
    /// Resource addresses to forget.
    #[arg(required = true)]
    pub addrs: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The spec address to record the resource under, e.g. eu-west-1/vpc.main.
    pub addr: String,
    /// The AWS identifier: the VPC id, cluster name, DB identifier, `zone/name/type` ...
    pub id: String,
}

#[derive(Debug, Args)]
pub struct ForceUnlockArgs {
    /// The lock id, as printed by the "state is locked" error.
    pub lock_id: String,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub force: bool,
}
