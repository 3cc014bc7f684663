//! The command-line application: argument definitions, settings resolved once from the
//! environment, and dispatch to one module per subcommand. Only this layer (with `main.rs`)
//! touches the terminal.

// The app layer is the one place that writes to the terminal.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod apply;
mod check;
mod diff;
mod export;
mod inventory;
mod map;
mod plan;
mod rollback;
mod schema;

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::model::inventory::Inventory;
use crate::model::level::{Level, Version};
use crate::output::{Format, Style};
use crate::source::live::{self, LiveOptions, LiveRead, RequestTimeout};
use crate::source::offline::{InputError, OfflineOptions, read_offline};

pub use self::export::ExportArgs;
pub use self::inventory::{FailOn, InventoryArgs};
pub use self::map::MapArgs;

/// Exit codes, as documented in `--help`.
pub mod exit {
    /// Completed; nothing at or above the threshold.
    pub const CLEAN: u8 = 0;
    /// Completed; findings at or above the threshold (e.g. objects a level would reject).
    pub const FINDINGS: u8 = 1;
    /// Operational or usage error (bad input, unreachable cluster, bad flags).
    pub const ERROR: u8 = 2;
}

const AFTER_HELP: &str = "\
Exit status:
  0  completed, nothing at or above the threshold
  1  completed, with findings at or above the threshold (e.g. objects the level would reject)
  2  operational or usage error (bad input, bad flags, unreachable cluster)";

/// Migrate a Kubernetes cluster from PodSecurityPolicy to Pod Security Admission.
#[derive(Debug, Parser)]
#[command(name = "psa-migrate", version, about, after_help = AFTER_HELP)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options accepted before or after the subcommand, as with kubectl.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Read objects from a file, a directory (recursive: .yaml, .yml, .json) or `-` for stdin.
    /// Repeatable. Without it, the cluster in the kubeconfig is read.
    #[arg(short = 'f', long = "filename", value_name = "PATH", global = true)]
    pub filename: Vec<String>,
    /// Limit to one namespace; also the namespace of objects that name none.
    #[arg(short = 'n', long, value_name = "NAMESPACE", global = true)]
    pub namespace: Option<String>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = Format::Text, global = true)]
    pub output: Format,
    /// Print no progress and no notices on stderr.
    #[arg(short = 'q', long, global = true)]
    pub quiet: bool,
    /// When to colour text output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN", global = true)]
    pub color: ColorChoice,
    /// Kubeconfig file for reading a cluster (default: $KUBECONFIG, else ~/.kube/config).
    #[arg(long, value_name = "PATH", global = true)]
    pub kubeconfig: Option<std::path::PathBuf>,
    /// Kubeconfig context to use (default: the current context).
    #[arg(long, value_name = "NAME", global = true)]
    pub context: Option<String>,
    /// Time limit for each API request, as in kubectl: 30s, 1m, 1m30s, 500ms; 0 for none.
    #[arg(long, value_name = "DURATION", default_value = "30s", global = true)]
    pub request_timeout: RequestTimeout,
    /// Objects per API list request (`limit`), as in kubectl; 0 for no limit.
    #[arg(long, value_name = "N", default_value_t = 500, global = true)]
    pub chunk_size: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Evaluate every pod and workload template against a Pod Security Standards level.
    Check(CheckArgs),
    /// Write everything read (from the cluster, or -f) as an offline export: one YAML list per
    /// kind plus version.yaml, readable with -f DIR (e.g. to keep PSPs before upgrading to 1.25).
    Export(ExportArgs),
    /// Who may use which PodSecurityPolicy, per namespace: grants, the PSP-derived level, pods
    /// per admitting PSP, workloads that relied on PSP mutation, and findings.
    Inventory(InventoryArgs),
    /// Map every PodSecurityPolicy to the nearest Pod Security Standards level, with reasons.
    Map(MapArgs),
    /// Plan the migration: per-namespace labels, AdmissionConfiguration, PSP bypass and clean-up,
    /// written as ordered files under migrations/<name>/ with plan.json and REPORT.md.
    Plan(plan::PlanArgs),
    /// Show what a plan's label steps would change: a unified diff of each namespace's Pod
    /// Security labels, live (or -f) against the plan. Exit 1 when something would change.
    Diff(diff::DiffArgs),
    /// Apply a plan's steps to the cluster (default: label steps 1 and 2), after a server-side
    /// dry run, journaling every write to DIR/journal.json first.
    Apply(apply::ApplyArgs),
    /// Undo what apply wrote, from DIR/journal.json, newest first.
    Rollback(rollback::RollbackArgs),
    /// Print the JSON Schema of an output document (check, inventory, map, plan, journal), or
    /// list them. Reads no input and no kubeconfig.
    Schema(schema::SchemaArgs),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The level to judge against. Without it, only the level each object passes is reported.
    #[arg(long, value_parser = parse_level)]
    pub level: Option<Level>,
    /// Policy version: `latest` or `v1.N`.
    #[arg(long = "version", value_name = "VERSION", default_value = "latest", value_parser = parse_version)]
    pub policy_version: Version,
}

fn parse_level(s: &str) -> Result<Level, String> {
    s.parse().map_err(|e: crate::model::level::ParseError| e.to_string())
}

pub(crate) fn parse_version(s: &str) -> Result<Version, String> {
    s.parse().map_err(|e: crate::model::level::ParseError| e.to_string())
}

/// Settings resolved once: nothing after this probes the environment again.
pub struct Settings {
    pub format: Format,
    pub style: Style,
    pub quiet: bool,
}

impl Settings {
    fn resolve(g: &GlobalArgs) -> Settings {
        let color = match g.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none()
                    && std::env::var("TERM").is_ok_and(|t| t != "dumb")
            }
        };
        let color = color && g.output == Format::Text;
        Settings { format: g.output, style: Style { color }, quiet: g.quiet }
    }
}

/// An error that ends the run with exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("{0}")]
    Other(#[from] anyhow::Error),
}

/// Runs the CLI and returns the process exit code.
pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { exit::ERROR } else { exit::CLEAN });
        }
    };
    let settings = Settings::resolve(&cli.global);
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let result = match &cli.command {
        Command::Check(args) => check::run(&cli.global, args, &settings, &mut out),
        Command::Export(args) => export::run(&cli.global, args, &settings, &mut out),
        Command::Inventory(args) => inventory::run(&cli.global, args, &settings, &mut out),
        Command::Map(args) => map::run(&cli.global, args, &settings, &mut out),
        Command::Plan(args) => plan::run(&cli.global, args, &settings, &mut out),
        Command::Diff(args) => diff::run(&cli.global, args, &settings, &mut out),
        Command::Apply(args) => apply::run(&cli.global, args, &settings, &mut out),
        Command::Rollback(args) => rollback::run(&cli.global, args, &settings, &mut out),
        Command::Schema(args) => schema::run(&cli.global, args, &settings, &mut out),
    };
    let _ = out.flush();
    match result {
        Ok(code) => ExitCode::from(code),
        Err(AppError::Io(e)) if e.kind() == io::ErrorKind::BrokenPipe => {
            ExitCode::from(exit::CLEAN)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(exit::ERROR)
        }
    }
}

/// The inventory from `-f` inputs, or without them from the cluster of the kubeconfig, with
/// input errors, unreadable kinds, notices and findings about the input printed to stderr.
/// Input without a single object is an error (`no objects passed`), as in kubectl. Returns whether any error
/// happened (the run then exits 2 at the end). A cluster that no longer serves PSPs is a notice,
/// not an error.
pub fn load_inventory(g: &GlobalArgs) -> Result<(Inventory, bool), AppError> {
    load_inventory_needing(g, &|_| true)
}

/// [`load_inventory`] for a command that needs only some resources (qualified plural names,
/// e.g. `pods`, `deployments.apps`): a resource it does not need that cannot be read is a
/// notice, not an error.
pub fn load_inventory_needing(
    g: &GlobalArgs,
    needs: &dyn Fn(&str) -> bool,
) -> Result<(Inventory, bool), AppError> {
    if g.filename.is_empty() {
        return load_live(g, needs);
    }
    let opts = OfflineOptions {
        default_namespace: g.namespace.clone().unwrap_or_else(|| "default".into()),
    };
    let read = read_offline(&g.filename, &opts, &mut io::stdin().lock());
    report_input_errors(&read.errors);
    let mut inv = read.inventory;
    if read.errors.is_empty() && inv.objects_read() == 0 {
        // As kubectl: a pipeline whose first stage printed nothing must not pass, and nothing
        // (no empty report, no empty plan) is written.
        return Err(AppError::Usage(format!(
            "no objects passed (read from {})",
            g.filename.join(", ")
        )));
    }
    let stderr = io::stderr();
    let mut err = stderr.lock();
    if !g.quiet {
        for n in &read.notices {
            let _ = writeln!(err, "notice: {n}");
        }
        for f in &inv.findings {
            let _ = writeln!(err, "warning: {}: {} [{}]", f.object, f.message, f.code);
        }
    }
    if let Some(ns) = &g.namespace {
        inv.retain_namespace(ns);
    }
    Ok((inv, !read.errors.is_empty()))
}

/// Reads the cluster of the kubeconfig. Only this and `apply` run async code: a tokio runtime
/// is built for the read and shut down right after it.
fn load_live(g: &GlobalArgs, needs: &dyn Fn(&str) -> bool) -> Result<(Inventory, bool), AppError> {
    let opts = LiveOptions {
        kubeconfig: g.kubeconfig.clone(),
        context: g.context.clone(),
        namespace: g.namespace.clone(),
        request_timeout: g.request_timeout.0,
        chunk_size: g.chunk_size,
        progress: !g.quiet && io::stderr().is_terminal(),
        ..LiveOptions::default()
    };
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 4));
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(threads).enable_all().build()?;
    let result = runtime.block_on(live::read_cluster(&opts));
    // Do not wait for connections still open (e.g. a response that timed out).
    runtime.shutdown_background();
    let read = result.map_err(|e| AppError::Other(e.into()))?;
    report_live(&read, g.quiet, needs);
    let had_errors = !read.errors.is_empty()
        || read.inventory.unavailable.iter().any(|u| live::is_error(u) && needs(&u.resource));
    let mut inv = read.inventory;
    if let Some(ns) = &g.namespace {
        inv.retain_namespace(ns);
    }
    Ok((inv, had_errors))
}

/// Errors always; notices and server warnings unless `-q`.
fn report_live(read: &LiveRead, quiet: bool, needs: &dyn Fn(&str) -> bool) {
    let stderr = io::stderr();
    let mut err = stderr.lock();
    for u in &read.inventory.unavailable {
        if live::is_error(u) && needs(&u.resource) {
            let _ = writeln!(err, "error: cannot read {} ({}): {}", u.resource, u.code, u.message);
        } else if live::is_error(u) && !quiet {
            let _ = writeln!(
                err,
                "notice: cannot read {} ({}), which this command does not need: {}",
                u.resource, u.code, u.message
            );
        } else if !quiet {
            let _ = writeln!(err, "notice: {}: {}", u.resource, u.message);
        }
    }
    for e in &read.errors {
        let _ = writeln!(err, "error: {e}");
    }
    if !quiet {
        for n in &read.notices {
            let _ = writeln!(err, "notice: {n}");
        }
        for w in &read.warnings {
            let _ = writeln!(err, "warning: {w}");
        }
    }
}

fn report_input_errors(errors: &[InputError]) {
    let stderr = io::stderr();
    let mut err = stderr.lock();
    for e in errors {
        let _ = writeln!(err, "error: {e}");
    }
}
