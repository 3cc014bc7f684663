//! `psa-migrate check`: evaluate every pod and workload template against a level.

use std::io::Write;

use crate::app::{AppError, CheckArgs, GlobalArgs, Settings, exit, load_inventory};
use crate::evaluate;
use crate::output;

pub fn run(
    g: &GlobalArgs,
    args: &CheckArgs,
    settings: &Settings,
    out: &mut dyn Write,
) -> Result<u8, AppError> {
    let (inv, input_errors) = load_inventory(g)?;
    let report = evaluate::check(&inv, args.level, args.policy_version);
    output::check::render(out, &report, settings.format, settings.style)?;
    Ok(if input_errors {
        exit::ERROR
    } else if report.summary.denied > 0 {
        exit::FINDINGS
    } else {
        exit::CLEAN
    })
}
