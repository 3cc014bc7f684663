//! The command-line application: argument definitions, settings resolved once from the
//! environment, and dispatch to one module per subcommand. Only this layer (with `main.rs`)
//! touches the terminal.

// The app layer is the one place that writes to the terminal.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod admit;
mod apply;
mod check;
mod config;
mod custom_resources;
mod diff;
mod examples;
mod export;
mod fix;
mod inventory;
mod map;
mod plan;
mod rollback;
mod schema;
mod shell;
mod terminal;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::findings::{Code, Diagnostic, Diagnostics, Finding, Location, Overrides, Severity};
use crate::model::inventory::Inventory;
use crate::model::level::{Level, Version};
use crate::output::{Format, Style};
use crate::source::live::{self, LiveOptions, LiveRead, RequestTimeout};
use crate::source::offline::{OfflineOptions, read_offline};

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
  2  operational or usage error (bad input, bad flags, unreachable cluster)

--allow, --warn and --deny CODE change a code's severity (see the README's Diagnostic codes):
an error fails the run (exit 1) without --fail-on; an allowed code is not reported.";

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
#[derive(Clone, Debug, Args)]
pub struct GlobalArgs {
    /// Read objects from a file, a directory (recursive: .yaml, .yml, .json) or `-` for stdin.
    /// Repeatable. Without it, the cluster in the kubeconfig is read.
    #[arg(short = 'f', long = "filename", value_name = "PATH", global = true)]
    pub filename: Vec<String>,
    /// Limit to one namespace; also the namespace of objects that name none.
    #[arg(short = 'n', long, value_name = "NAMESPACE", global = true)]
    pub namespace: Option<String>,
    /// Output format (default: text); `wide` is text with nothing shortened to fit the
    /// terminal; sarif and junit: check, inventory, map and plan.
    #[arg(short = 'o', long, value_enum, value_name = "FORMAT", global = true)]
    pub output: Option<Format>,
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
    /// Do not report a diagnostic code (or `all`), nor let it change the exit status.
    /// Repeatable.
    #[arg(long, value_name = "CODE", global = true)]
    pub allow: Vec<String>,
    /// Report a diagnostic code (or `all`) as a warning. Repeatable.
    #[arg(long, value_name = "CODE", global = true)]
    pub warn: Vec<String>,
    /// Report a diagnostic code (or `all`) as an error, which makes the run exit 1. Repeatable.
    #[arg(long, value_name = "CODE", global = true)]
    pub deny: Vec<String>,
    /// Judge Pods from manifests exactly as written, without the API server's defaulting
    /// (hostNetwork ports become host ports; AppArmor annotations are mirrored into
    /// appArmorProfile fields): see the README's Faithfulness.
    #[arg(long, global = true)]
    pub no_defaulting: bool,
}

impl GlobalArgs {
    /// The severity overrides of `--allow`, `--warn` and `--deny`.
    pub fn overrides(&self) -> Result<Overrides, AppError> {
        Overrides::parse(&self.allow, &self.warn, &self.deny).map_err(AppError::Usage)
    }
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
    #[command(after_help = examples::help(examples::CHECK))]
    Check(CheckArgs),
    /// Write everything read (from the cluster, or -f) as an offline export: one YAML list per
    /// kind plus version.yaml, readable with -f DIR (e.g. to keep PSPs before upgrading to 1.25).
    #[command(after_help = examples::help(examples::EXPORT))]
    Export(ExportArgs),
    /// Who may use which PodSecurityPolicy, per namespace: grants, the PSP-derived level, pods
    /// per admitting PSP, workloads that relied on PSP mutation, and findings.
    #[command(after_help = examples::help(examples::INVENTORY))]
    Inventory(InventoryArgs),
    /// Map every PodSecurityPolicy to the nearest Pod Security Standards level, with reasons.
    #[command(after_help = examples::help(examples::MAP))]
    Map(MapArgs),
    /// Plan the migration: per-namespace labels, AdmissionConfiguration, PSP bypass and clean-up,
    /// written as ordered files under migrations/<name>/ with plan.json and REPORT.md.
    #[command(after_help = examples::help(examples::PLAN))]
    Plan(plan::PlanArgs),
    /// Show what a plan's label steps would change: a unified diff of each namespace's Pod
    /// Security labels, live (or -f) against the plan. Exit 1 when something would change.
    #[command(after_help = examples::help(examples::DIFF))]
    Diff(diff::DiffArgs),
    /// Apply a plan's steps to the cluster (default: label steps 1 and 2), after a server-side
    /// dry run, journaling every write to DIR/journal.json first.
    #[command(after_help = examples::help(examples::APPLY))]
    Apply(apply::ApplyArgs),
    /// Undo what apply wrote, from DIR/journal.json, newest first.
    #[command(after_help = examples::help(examples::ROLLBACK))]
    Rollback(rollback::RollbackArgs),
    /// Proven patches for every workload: what PSP did to its pods, written into its template,
    /// and what its target level needs (strategic-merge patches, kustomizations, kubectl patch
    /// commands); the rest is listed as needing a decision. Exit 1 when something does.
    #[command(after_help = examples::help(examples::FIX))]
    Fix(fix::FixArgs),
    /// Which PodSecurityPolicy the admission plugin would choose for each pod or workload of -f,
    /// what it would change, and why the others reject it (cluster: kubeconfig or --inventory).
    #[command(after_help = examples::help(examples::ADMIT))]
    Admit(admit::AdmitArgs),
    /// Print the JSON Schema of an output document (check, inventory, map, plan, journal), or
    /// list them. Reads no input and no kubeconfig.
    #[command(after_help = examples::help(examples::SCHEMA))]
    Schema(schema::SchemaArgs),
    /// List the custom resource kinds whose pod templates are read (Kubeflow, Ray, KServe,
    /// Argo, Tekton, …): paths, how the operator makes pods, when one is live, and the
    /// upstream source. Reads no input and no kubeconfig.
    #[command(after_help = examples::help(examples::CUSTOM_RESOURCES))]
    CustomResources,
    /// Print the shell completion script (bash, zsh, fish, powershell, elvish), e.g.
    /// `source <(psa-migrate completions bash)`. Reads no input.
    #[command(after_help = examples::help(examples::COMPLETIONS))]
    Completions(shell::CompletionsArgs),
    /// Print the man page (or write one per command with --out DIR). Reads no input.
    #[command(after_help = examples::help(examples::MAN))]
    Man(shell::ManArgs),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The level to judge against. Without it, only the level each object passes is reported.
    #[arg(long, value_parser = level_parser())]
    pub level: Option<Level>,
    /// Policy version: `latest` (the default) or `v1.N`.
    #[arg(long = "version", value_name = "VERSION", value_parser = parse_version)]
    pub policy_version: Option<Version>,
    /// Exit 1 when anything is at or above this severity: objects the level rejects are
    /// errors, findings keep their own severity (default: error).
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<FailOn>,
    /// Leave a check out of the verdict (its violations are still reported, as excluded).
    /// Repeatable.
    #[arg(long, value_name = "ID")]
    pub exclude_check: Vec<String>,
    /// Leave objects out of the verdict: KIND/NAMESPACE/NAME, each part a glob (`*`, `?`,
    /// `[ab]`, `{a,b}`), e.g. `DaemonSet/kube-system/*`; they are still reported, as excluded.
    /// Repeatable.
    #[arg(long, value_name = "KIND/NAMESPACE/NAME")]
    pub exclude: Vec<String>,
    /// End text output with a table of objects by namespace and kind.
    #[arg(long)]
    pub summary: bool,
    /// Read defaults from this file instead of the nearest `.psa-migrate.yaml` in the current
    /// directory or its parents.
    #[arg(long, value_name = "PATH")]
    pub config: Option<std::path::PathBuf>,
    /// Read no config file.
    #[arg(long, conflicts_with = "config")]
    pub no_config: bool,
    /// Files or directories to read, as with -f (so that tools which append file names, such
    /// as pre-commit, can run check).
    #[arg(value_name = "PATH")]
    pub paths: Vec<String>,
}

/// `--level`: one of the levels, offered by shell completion.
pub(crate) fn level_parser() -> impl clap::builder::TypedValueParser<Value = Level> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(Level::ALL.map(|l| l.as_str()))
        .try_map(|s| parse_level(&s))
}

pub(crate) fn parse_level(s: &str) -> Result<Level, String> {
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
        let term = terminal::terminal();
        let color = match g.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                term.stdout
                    && std::env::var_os("NO_COLOR").is_none()
                    && std::env::var("TERM").is_ok_and(|t| t != "dumb")
            }
        };
        let format = g.output.unwrap_or(Format::Text);
        let color = color && format.is_text();
        let columns = std::env::var("COLUMNS").ok();
        let width = text_width(format, term.stdout, columns.as_deref(), term.stdout_columns);
        Settings { format, style: Style { color, width }, quiet: g.quiet }
    }
}

/// The width text output must fit ([`Style::width`]), or `None`: nothing is shortened. Only
/// `-o text` on a terminal is fitted: to `COLUMNS` when it is a positive integer, else to the
/// terminal's width. Off a terminal (a pipe, a file) text is never shortened, even with
/// `COLUMNS` set, so what scripts and `grep` read is whole; `-o wide` is text never shortened.
fn text_width(
    format: Format,
    stdout_is_terminal: bool,
    columns: Option<&str>,
    terminal_columns: Option<u16>,
) -> Option<usize> {
    if format != Format::Text || !stdout_is_terminal {
        return None;
    }
    let columns = columns.and_then(|c| c.trim().parse::<usize>().ok()).filter(|&c| c > 0);
    columns.or(terminal_columns.map(usize::from))
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
    // Unknown codes are a usage error before anything is read.
    if let Err(e) = cli.global.overrides() {
        eprintln!("error: {e}");
        return ExitCode::from(exit::ERROR);
    }
    // `check` reads its defaults from a config file; its output format is one of them.
    let (global, check_config) = match &cli.command {
        Command::Check(args) => match check::config(args) {
            Ok(config) => {
                let mut global = cli.global.clone();
                global.output = global.output.or(config.output);
                (global, config)
            }
            Err(e) => {
                eprintln!("error: {e:#}");
                return ExitCode::from(exit::ERROR);
            }
        },
        _ => (cli.global.clone(), config::Config::default()),
    };
    let settings = Settings::resolve(&global);
    if let Err(e) = supports(&cli.command, settings.format) {
        eprintln!("error: {e}");
        return ExitCode::from(exit::ERROR);
    }
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let result = match &cli.command {
        Command::Check(args) => check::run(&global, args, &check_config, &settings, &mut out),
        Command::Export(args) => export::run(&cli.global, args, &settings, &mut out),
        Command::Inventory(args) => inventory::run(&cli.global, args, &settings, &mut out),
        Command::Map(args) => map::run(&cli.global, args, &settings, &mut out),
        Command::Plan(args) => plan::run(&cli.global, args, &settings, &mut out),
        Command::Diff(args) => diff::run(&cli.global, args, &settings, &mut out),
        Command::Apply(args) => apply::run(&cli.global, args, &settings, &mut out),
        Command::Rollback(args) => rollback::run(&cli.global, args, &settings, &mut out),
        Command::Schema(args) => schema::run(&cli.global, args, &settings, &mut out),
        Command::CustomResources => custom_resources::run(&settings, &mut out),
        Command::Completions(args) => shell::completions(args, &mut out),
        Command::Man(args) => shell::man(args, &mut out),
        Command::Admit(args) => admit::run(&cli.global, args, &settings, &mut out),
        Command::Fix(args) => fix::run(&cli.global, args, &settings, &mut out),
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

/// How a report command renders beyond its format: `--fail-on` for JUnit, where the objects
/// were read for SARIF.
pub(crate) fn report_options(fail_on: Option<FailOn>, inv: &Inventory) -> crate::output::Options {
    crate::output::Options {
        summary: false,
        fail_on: fail_on.map_or(Severity::Error, |f| f.severity()),
        locator: crate::output::sarif::Locator::new(inv),
    }
}

/// Whether the command prints this format: SARIF and JUnit are for the report commands.
fn supports(command: &Command, format: Format) -> Result<(), AppError> {
    let report = matches!(
        command,
        Command::Check(_) | Command::Inventory(_) | Command::Map(_) | Command::Plan(_)
    );
    match format {
        Format::Sarif | Format::Junit if !report => Err(AppError::Usage(format!(
            "-o {} is for check, inventory, map and plan; use text, json, yaml or markdown",
            format.name()
        ))),
        _ => Ok(()),
    }
}

/// The run's one diagnostics sink: every finding, input error, unreadable kind and notice with
/// a code goes through it, with the `--allow`/`--warn`/`--deny` overrides applied on the way
/// in, so that what is printed, what JSON reports and the exit code all agree.
pub struct Sink {
    overrides: Overrides,
    quiet: bool,
    pub diagnostics: Diagnostics,
}

impl Sink {
    pub fn new(g: &GlobalArgs) -> Result<Sink, AppError> {
        Ok(Sink { overrides: g.overrides()?, quiet: g.quiet, diagnostics: Diagnostics::default() })
    }

    /// Adds a diagnostic and prints `text` on stderr after its severity (`error:`, `warning:`,
    /// `notice:`); only errors under `-q`. An allowed diagnostic is neither kept nor printed.
    fn report(&mut self, d: Diagnostic, text: &dyn std::fmt::Display) {
        let mut one = Diagnostics { items: vec![d] };
        one.apply(&self.overrides);
        let Some(d) = one.items.pop() else { return };
        if d.severity == Severity::Error || !self.quiet {
            // Like the rest of stderr reporting: a closed stderr is not a reason to fail.
            let _ = writeln!(io::stderr().lock(), "{}: {text}", prefix(d.severity));
        }
        self.diagnostics.push(d);
    }

    /// Applies the overrides to a report's findings (allowed ones are removed) and keeps them.
    /// Findings are printed by the report itself, not here.
    pub fn findings(&mut self, findings: &mut Vec<Finding>) {
        self.overrides.apply_findings(findings);
        self.diagnostics.extend_findings(findings);
    }

    /// Objects the checked level rejects: `pss-level-denied` errors (overridable).
    pub fn denied(&mut self, objects: impl IntoIterator<Item = crate::findings::ObjectRef>) {
        let mut denied = Diagnostics::default();
        for object in objects {
            let mut d = Diagnostic::new(Code::PssLevelDenied, Location::default(), "");
            d.object = Some(object);
            denied.push(d);
        }
        denied.apply(&self.overrides);
        self.diagnostics.items.extend(denied.items);
    }

    /// The diagnostics for the `diagnostics` field of JSON and YAML reports.
    pub fn about_input(&self) -> Vec<Diagnostic> {
        self.diagnostics.about_input()
    }

    /// The exit code: see [`exit_code`]. `fail_on` is the command's `--fail-on`, if it has one.
    pub fn exit_code(&self, fail_on: Option<inventory::FailOn>) -> u8 {
        exit_code(&self.diagnostics, fail_on.map_or(Severity::Error, |f| f.severity()))
    }
}

fn prefix(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "notice",
    }
}

/// The one exit-code rule of the report commands: 2 when input the command needs could not be
/// read (a fixed `input-*`/`api-*` code); else 1 when a diagnostic, after the overrides, is at
/// or above `fail_on` (`--fail-on`, else `error`: so a `--deny`ied code or an object the
/// checked level rejects fails the run); else 0.
pub fn exit_code(diagnostics: &Diagnostics, fail_on: Severity) -> u8 {
    if diagnostics.any_fatal() {
        exit::ERROR
    } else if diagnostics.any_at_least(fail_on) {
        exit::FINDINGS
    } else {
        exit::CLEAN
    }
}

/// The inventory from `-f` inputs, or without them from the cluster of the kubeconfig, with
/// input errors, unreadable kinds, notices and findings about the input reported through the
/// returned [`Sink`] (and printed to stderr). Input without a single object is an error
/// (`no objects passed`), as in kubectl. A fatal diagnostic (input that could not be read)
/// makes the run exit 2 at the end. A cluster that no longer serves PSPs is a notice, not an
/// error.
/// Writes rendered files below `dir` (relative paths; their folders are created).
pub(crate) fn write_files(
    dir: &std::path::Path,
    files: &[(String, String)],
) -> Result<(), AppError> {
    for (name, text) in files {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| AppError::Usage(format!("cannot create {}: {e}", parent.display())))?;
        }
        std::fs::write(&path, text)
            .map_err(|e| AppError::Usage(format!("cannot write {}: {e}", path.display())))?;
    }
    Ok(())
}

pub fn load_inventory(g: &GlobalArgs) -> Result<(Inventory, Sink), AppError> {
    load_inventory_needing(g, &|_| true)
}

/// [`load_inventory`] for a command that needs only some resources (qualified plural names,
/// e.g. `pods`, `deployments.apps`): a resource it does not need that cannot be read is a
/// notice, not an error.
pub fn load_inventory_needing(
    g: &GlobalArgs,
    needs: &dyn Fn(&str) -> bool,
) -> Result<(Inventory, Sink), AppError> {
    let mut sink = Sink::new(g)?;
    if g.filename.is_empty() {
        let mut inv = load_live(g, needs, &mut sink)?;
        apply_defaulting(g, &mut inv);
        return Ok((inv, sink));
    }
    let opts = OfflineOptions {
        default_namespace: g.namespace.clone().unwrap_or_else(|| "default".into()),
    };
    let read = read_offline(&g.filename, &opts, &mut io::stdin().lock());
    for e in &read.errors {
        sink.report(e.diagnostic(), e);
    }
    let mut inv = read.inventory;
    if read.errors.is_empty() && inv.objects_read() == 0 {
        // As kubectl: a pipeline whose first stage printed nothing must not pass, and nothing
        // (no empty report, no empty plan) is written.
        return Err(AppError::Usage(format!(
            "no objects passed (read from {})",
            g.filename.join(", ")
        )));
    }
    for w in &read.warnings {
        sink.report(w.diagnostic(), &format!("{w} [{}]", w.code));
    }
    for n in &read.notices {
        sink.report(Diagnostic::new(Code::InputSkippedFile, Location::default(), n), n);
    }
    // Findings about the input itself (duplicates): overridden here, so that reports carrying
    // them show the same severities.
    sink.overrides.apply_findings(&mut inv.findings);
    for f in &inv.findings {
        let text = format!("{}: {} [{}]", f.object, f.message, f.code);
        sink.report(Diagnostic::from_finding(f), &text);
    }
    if let Some(ns) = &g.namespace {
        inv.retain_namespace(ns);
    }
    apply_defaulting(g, &mut inv);
    Ok((inv, sink))
}

/// The API server's defaulting of Pods that have not been through one (see
/// [`crate::defaulting`]), unless `--no-defaulting`: every command judges what PodSecurity
/// admission would see.
fn apply_defaulting(g: &GlobalArgs, inv: &mut Inventory) {
    if !g.no_defaulting {
        crate::defaulting::default_inventory(inv);
    }
}

/// Reads the cluster of the kubeconfig. Only this and `apply` run async code: a tokio runtime
/// is built for the read and shut down right after it.
fn load_live(
    g: &GlobalArgs,
    needs: &dyn Fn(&str) -> bool,
    sink: &mut Sink,
) -> Result<Inventory, AppError> {
    let opts = LiveOptions {
        kubeconfig: g.kubeconfig.clone(),
        context: g.context.clone(),
        namespace: g.namespace.clone(),
        request_timeout: g.request_timeout.0,
        chunk_size: g.chunk_size,
        progress: if terminal::shows_progress(g.quiet) {
            std::sync::Arc::new(terminal::Spinners::new())
        } else {
            crate::edge::progress::silent()
        },
        ..LiveOptions::default()
    };
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 4));
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(threads).enable_all().build()?;
    let result = runtime.block_on(live::read_cluster(&opts));
    // Do not wait for connections still open (e.g. a response that timed out).
    runtime.shutdown_background();
    let read = result.map_err(|e| AppError::Other(e.into()))?;
    report_live(&read, needs, sink);
    let mut inv = read.inventory;
    if let Some(ns) = &g.namespace {
        inv.retain_namespace(ns);
    }
    Ok(inv)
}

/// Errors always; notices and server warnings unless `-q`.
fn report_live(read: &LiveRead, needs: &dyn Fn(&str) -> bool, sink: &mut Sink) {
    for u in &read.inventory.unavailable {
        let location = Location { resource: Some(u.resource.clone()), ..Location::default() };
        let d = Diagnostic::new(u.code, location, u.message.clone());
        let reason = u.code.reason();
        // Custom resources are read where they can be: one that cannot is reported, and the
        // run goes on without it.
        let needed = needs(&u.resource) && !crate::custom::is_custom_resource(&u.resource);
        if live::is_error(u) && needed {
            let text = format!("cannot read {} ({reason}): {}", u.resource, u.message);
            sink.report(d, &text);
        } else if live::is_error(u) {
            let text = format!(
                "cannot read {} ({reason}), which this command does not need: {}",
                u.resource, u.message
            );
            sink.report(d.not_needed(), &text);
        } else {
            sink.report(d, &format!("{}: {}", u.resource, u.message));
        }
    }
    for e in &read.errors {
        sink.report(Diagnostic::new(Code::InputInvalidObject, Location::default(), e), e);
    }
    if !sink.quiet {
        let stderr = io::stderr();
        let mut err = stderr.lock();
        for n in &read.notices {
            let _ = writeln!(err, "notice: {n}");
        }
        for w in &read.warnings {
            let _ = writeln!(err, "warning: {w}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::ObjectRef;

    /// (code, severity after overrides, fatal)
    type Item = (Code, Severity, bool);

    fn diagnostics(items: &[Item]) -> Diagnostics {
        let items = items
            .iter()
            .map(|&(code, severity, fatal)| {
                let mut d = Diagnostic::new(code, Location::default(), "");
                d.object = Some(ObjectRef::new("Pod", Some("a"), "p"));
                d.severity = severity;
                d.fatal = fatal;
                d
            })
            .collect();
        Diagnostics { items }
    }

    /// Text is fitted on a terminal only: to COLUMNS (when valid), else the terminal's width.
    #[test]
    fn text_width_table() {
        use Format::{Json, Markdown, Text, Wide};
        // (format, stdout is a terminal, COLUMNS, the terminal's width, the width decided)
        type Row = (Format, bool, Option<&'static str>, Option<u16>, Option<usize>);
        let table: &[Row] = &[
            (Text, true, None, Some(120), Some(120)),
            (Text, true, Some("80"), Some(120), Some(80)),
            (Text, true, Some(" 80 "), None, Some(80)),
            (Text, true, Some("0"), Some(120), Some(120)),
            (Text, true, Some("-1"), Some(120), Some(120)),
            (Text, true, Some("wide"), None, None),
            (Text, true, None, None, None),
            // Off a terminal nothing is shortened, COLUMNS or not.
            (Text, false, Some("80"), None, None),
            (Text, false, None, None, None),
            (Wide, true, Some("80"), Some(80), None),
            (Json, true, Some("80"), Some(80), None),
            (Markdown, true, None, Some(80), None),
        ];
        for &(format, tty, columns, size, want) in table {
            assert_eq!(
                text_width(format, tty, columns, size),
                want,
                "{format:?} tty={tty} COLUMNS={columns:?} size={size:?}"
            );
        }
    }

    /// 2 for unread input whatever else; 1 at or above the threshold; else 0.
    #[test]
    fn exit_code_table() {
        use Severity::{Error, Info, Warning};
        let c = Code::PspNotUsable;
        let table: &[(&[Item], Severity, u8)] = &[
            (&[], Error, exit::CLEAN),
            (&[], Info, exit::CLEAN),
            (&[(c, Warning, false)], Error, exit::CLEAN),
            (&[(c, Warning, false)], Warning, exit::FINDINGS),
            (&[(c, Info, false)], Warning, exit::CLEAN),
            (&[(c, Info, false)], Info, exit::FINDINGS),
            (&[(c, Error, false)], Error, exit::FINDINGS),
            (&[(Code::PssLevelDenied, Error, false)], Error, exit::FINDINGS),
            (&[(Code::InputParseError, Error, true)], Error, exit::ERROR),
            (&[(c, Error, false), (Code::ApiForbidden, Error, true)], Info, exit::ERROR),
            (&[(Code::ApiForbidden, Info, false)], Warning, exit::CLEAN),
        ];
        for (items, fail_on, want) in table {
            assert_eq!(exit_code(&diagnostics(items), *fail_on), *want, "{items:?} at {fail_on:?}");
        }
    }
}
