//! `psa-migrate map`: the nearest Pod Security Standards level of every PSP, with reasons.

use std::io::Write;

use clap::Args;

use crate::app::inventory::FailOn;
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
    /// Exit 1 when any finding is at or above this severity (default: error).
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
    let (inv, mut sink) = load_inventory(g)?;
    let mut report = mapping::map_report(&inv, args.strict);
    sink.findings(&mut report.findings);
    report.diagnostics = sink.about_input();
    let options = crate::app::report_options(args.fail_on, &inv);
    output::map::render(out, &report, settings.format, settings.style, &options)?;
    Ok(sink.exit_code(args.fail_on))
}
