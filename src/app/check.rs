//! `psa-migrate check`: evaluate every pod and workload template against a level.

use std::io::Write;

use crate::app::{AppError, CheckArgs, GlobalArgs, Settings, load_inventory_needing};
use crate::evaluate;
use crate::model::inventory::PodKind;
use crate::output;

pub fn run(
    g: &GlobalArgs,
    args: &CheckArgs,
    settings: &Settings,
    out: &mut dyn Write,
) -> Result<u8, AppError> {
    // Only pods and workloads are judged: a forbidden PSP or RBAC list is not an error here.
    let needs = |resource: &str| {
        let plural = resource.split('.').next().unwrap_or(resource);
        crate::source::live::KINDS
            .iter()
            .any(|k| k.resource == plural && PodKind::from_kind(k.kind).is_some())
    };
    let (inv, mut sink) = load_inventory_needing(g, &needs)?;
    let mut report = evaluate::check(&inv, args.level, args.policy_version);
    sink.findings(&mut report.findings);
    // Objects the level rejects are errors: exit 1 unless `--warn`/`--allow pss-level-denied`.
    sink.denied(report.results.iter().filter(|r| !r.allowed).map(evaluate::CheckResult::object));
    report.diagnostics = sink.about_input();
    output::check::render(out, &report, settings.format, settings.style)?;
    Ok(sink.exit_code(None))
}
