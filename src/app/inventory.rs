//! `psa-migrate inventory`: who may use which PSP, per namespace, with the PSP-derived level,
//! pods per admitting PSP, workloads that relied on PSP mutation, and findings.

use std::io::Write;

use clap::{Args, ValueEnum};

use crate::app::{AppError, GlobalArgs, Settings, load_inventory};
use crate::discover;
use crate::findings::Severity;
use crate::output;

/// The lowest finding severity that makes a report command exit 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Info,
    Warning,
    Error,
}

impl FailOn {
    /// The severity threshold.
    pub fn severity(self) -> Severity {
        match self {
            FailOn::Info => Severity::Info,
            FailOn::Warning => Severity::Warning,
            FailOn::Error => Severity::Error,
        }
    }
}

/// Options of `inventory`.
#[derive(Debug, Args)]
pub struct InventoryArgs {
    /// Exit 1 when any finding is at or above this severity (default: error, which no finding
    /// is unless raised with --deny).
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<FailOn>,
}

/// Runs `inventory`: reads the input, renders the report, returns the exit code.
pub fn run(
    g: &GlobalArgs,
    args: &InventoryArgs,
    settings: &Settings,
    out: &mut dyn Write,
) -> Result<u8, AppError> {
    let (inv, mut sink) = load_inventory(g)?;
    let mut report = discover::inventory_report(&inv);
    sink.findings(&mut report.findings);
    report.diagnostics = sink.about_input();
    let options = crate::app::report_options(args.fail_on, &inv);
    output::inventory::render(out, &report, settings.format, settings.style, &options)?;
    Ok(sink.exit_code(args.fail_on))
}
