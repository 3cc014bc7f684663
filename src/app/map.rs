//! `psa-migrate map`: the nearest Pod Security Standards level of every PSP, with reasons.

use std::io::Write;

use clap::Args;

use crate::app::inventory::{FailOn, report_exit};
use crate::app::{AppError, GlobalArgs, Settings, load_inventory};
use crate::mapping;
use crate::output;

/// Options of `map`.
#[derive(Debug, Args)]
pub struct MapArgs {
    /// Use the strict reading in the text view and headlines: seLinux RunAsAny and a missing
    /// AppArmor allowedProfileNames count as privileged (JSON and YAML always carry both).
    #[arg(long)]
    pub strict: bool,
    /// Exit 1 when any finding is at or above this severity.
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<FailOn>,
}

/// Runs `map`: reads the input, renders the mappings, returns the exit code.
pub fn run(
    g: &GlobalArgs,
    args: &MapArgs,
    settings: &Settings,
    out: &mut dyn Write,
) -> Result<u8, AppError> {
    let (inv, input_errors) = load_inventory(g)?;
    let report = mapping::map_report(&inv, args.strict);
    output::map::render(out, &report, settings.format, settings.style)?;
    Ok(report_exit(input_errors, args.fail_on, &report.findings))
}
