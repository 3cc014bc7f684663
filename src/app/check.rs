//! `psa-migrate check`: evaluate every pod and workload template against a level.

use std::io::Write;

use crate::app::config::{self, Config};
use crate::app::{AppError, CheckArgs, GlobalArgs, Settings, load_inventory_needing};
use crate::evaluate::{self, Exclusions};
use crate::model::inventory::PodKind;
use crate::model::level::Version;
use crate::output;
use crate::output::Options;

/// The config file of this run (none with `--no-config`).
pub fn config(args: &CheckArgs) -> Result<Config, AppError> {
    if args.no_config {
        return Ok(Config::default());
    }
    let cwd = std::env::current_dir()?;
    config::load(args.config.as_deref(), &cwd)
}

pub fn run(
    g: &GlobalArgs,
    args: &CheckArgs,
    config: &Config,
    settings: &Settings,
    out: &mut dyn Write,
) -> Result<u8, AppError> {
    // Flags win over the config file; exclusions add up.
    let level = args.level.or(config.level);
    let version = args.policy_version.or(config.version).unwrap_or(Version::Latest);
    let fail_on = args.fail_on.or(config.fail_on);
    let checks: Vec<String> =
        config.exclude_checks.iter().chain(&args.exclude_check).cloned().collect();
    let objects: Vec<String> = config.exclude.iter().chain(&args.exclude).cloned().collect();
    let exclusions = Exclusions::parse(&checks, &objects).map_err(AppError::Usage)?;
    if let Some(path) = &config.path
        && !settings.quiet
    {
        eprintln!("notice: defaults from {}", path.display());
    }
    // Only pods and workloads are judged: a forbidden PSP or RBAC list is not an error here.
    let needs = |resource: &str| {
        let plural = resource.split('.').next().unwrap_or(resource);
        crate::source::live::KINDS
            .iter()
            .any(|k| k.resource == plural && PodKind::from_kind(k.kind).is_some())
    };
    let mut g = g.clone();
    g.filename.extend(args.paths.iter().cloned());
    let (inv, mut sink) = load_inventory_needing(&g, &needs)?;
    let mut report = evaluate::check(&inv, level, version, &exclusions);
    sink.findings(&mut report.findings);
    // Objects the level rejects are errors: exit 1 unless `--warn`/`--allow pss-level-denied`.
    // Excluded objects are reported and never counted.
    sink.denied(report.results.iter().filter(|r| r.denied()).map(evaluate::CheckResult::object));
    report.diagnostics = sink.about_input();
    let options = Options {
        summary: args.summary || config.summary.unwrap_or(false),
        ..crate::app::report_options(fail_on, &inv)
    };
    output::check::render(out, &report, settings.format, settings.style, &options)?;
    Ok(sink.exit_code(fail_on))
}
