//! `psa-migrate inventory`: who may use which PSP, per namespace, with the PSP-derived level,
//! pods per admitting PSP, workloads that relied on PSP mutation, and findings.

use std::io::Write;

use clap::{Args, ValueEnum};

use crate::app::{AppError, GlobalArgs, Settings, exit, load_inventory};
use crate::discover;
use crate::findings::{Finding, Severity};
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

/// Exit code of a report command: 2 on input errors, 1 when a finding reaches `--fail-on`,
/// else 0. Reports never fail on findings unless asked to.
pub(crate) fn report_exit(input_errors: bool, fail_on: Option<FailOn>, findings: &[Finding]) -> u8 {
    if input_errors {
        exit::ERROR
    } else if fail_on.is_some_and(|t| findings.iter().any(|f| f.severity >= t.severity())) {
        exit::FINDINGS
    } else {
        exit::CLEAN
    }
}

/// Options of `inventory`.
#[derive(Debug, Args)]
pub struct InventoryArgs {
    /// Exit 1 when any finding is at or above this severity (by default findings never change
    /// the exit status).
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
    let (inv, input_errors) = load_inventory(g)?;
    let report = discover::inventory_report(&inv);
    output::inventory::render(out, &report, settings.format, settings.style)?;
    Ok(report_exit(input_errors, args.fail_on, &report.findings))
}
