//! `psa-migrate fix`: proven patches that make every workload behave as PSP made it behave and
//! pass its target level, written as strategic-merge patches, kustomizations and `kubectl
//! patch` commands.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;

use crate::app::{
    AppError, GlobalArgs, Settings, exit, load_inventory, parse_level, parse_version, write_files,
};
use crate::fix::{self, Target};
use crate::model::level::{Level, Version};
use crate::output::text::line;
use crate::output::{self, Format};

#[derive(Debug, Args)]
pub struct FixArgs {
    /// A migration directory written by `plan`: each namespace's target is its planned audit
    /// level and version.
    #[arg(long, value_name = "DIR", conflicts_with = "level")]
    pub plan: Option<PathBuf>,
    /// The level every object must pass (without --plan; without either, only what PSP did to
    /// the pods is written into their templates).
    #[arg(long, value_parser = crate::app::level_parser())]
    pub level: Option<Level>,
    /// Policy version of --level: `latest` or `v1.N`.
    #[arg(long = "version", value_name = "VERSION", default_value = "latest", value_parser = parse_version)]
    pub policy_version: Version,
    /// Where to write the patches.
    #[arg(long, value_name = "DIR", default_value = "fixes")]
    pub out: PathBuf,
}

/// Each namespace's audit level and version from a plan's plan.json.
fn plan_targets(dir: &Path) -> Result<BTreeMap<String, Target>, AppError> {
    let path = dir.join(crate::plan_files::PLAN_JSON);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| AppError::Usage(format!("cannot read {}: {e}", path.display())))?;
    let plan: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| AppError::Usage(format!("{}: not a plan: {e}", path.display())))?;
    let mut out = BTreeMap::new();
    for ns in plan["namespaces"].as_array().into_iter().flatten() {
        if ns["exempt"] == true {
            continue;
        }
        let field = |k: &str| ns[k].as_str().unwrap_or_default().to_owned();
        let bad = |e: String| {
            AppError::Usage(format!("{}: namespace {}: {e}", path.display(), ns["name"]))
        };
        let level = parse_level(&field("audit")).map_err(bad)?;
        let version = parse_version(&field("auditVersion")).map_err(bad)?;
        out.insert(field("name"), Target { level, version });
    }
    Ok(out)
}

pub fn run(
    g: &GlobalArgs,
    args: &FixArgs,
    settings: &Settings,
    out: &mut dyn Write,
) -> Result<u8, AppError> {
    let targets = match &args.plan {
        Some(dir) => Some(plan_targets(dir)?),
        None => None,
    };
    let (inv, sink) = load_inventory(g)?;
    let grants = crate::discover::rbac::resolve(&inv).grants;
    let fixed = args.level.map(|level| Target { level, version: args.policy_version });
    let target = |ns: &str| match &targets {
        Some(t) => t.get(ns).copied(),
        None => fixed,
    };
    let report = fix::fixes(&inv, &grants, &target);
    // Input that could not be read (exit 2) writes nothing: patches for part of it would read as
    // the whole.
    let code = sink.exit_code(None);
    if code == exit::ERROR {
        return Ok(code);
    }
    write_files(&args.out, &crate::fix_files::render(&report))?;
    match settings.format {
        Format::Sarif | Format::Junit => {
            return Err(crate::output::unsupported(settings.format).into());
        }
        Format::Json => output::write_json(out, &report)?,
        Format::Yaml => output::write_yaml(out, &report)?,
        Format::Markdown => out.write_all(crate::fix_files::markdown(&report).as_bytes())?,
        Format::Text | Format::Wide => {
            let width = settings.style.width;
            for f in &report.fixes {
                let text = format!("fix     {} → {}", f.object, args.out.join(&f.file).display());
                line(out, width, &text)?;
            }
            for d in &report.needs_decision {
                line(out, width, &format!("decide  {}: {}", d.object, d.reasons.join("; ")))?;
            }
            writeln!(
                out,
                "\n{} patched, {} need a decision, {} need nothing; written to {}",
                report.fixes.len(),
                report.needs_decision.len(),
                report.unchanged,
                args.out.display()
            )?;
        }
    }
    Ok(if code == exit::CLEAN && !report.needs_decision.is_empty() { exit::FINDINGS } else { code })
}
