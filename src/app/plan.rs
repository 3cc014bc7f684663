//! `psa-migrate plan`: compute the migration and write it under `migrations/<name>/`.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;

use crate::app::{AppError, GlobalArgs, Settings, exit, load_inventory, parse_version};
use crate::model::inventory::Inventory;
use crate::model::level::Version;
use crate::output;
use crate::plan::{self, PlanOptions, files};

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Directory to write the migration to (default: migrations/<name>).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Name of the plan (default: the input directory or file name, or the kubeconfig context).
    #[arg(long)]
    pub name: Option<String>,
    /// Enforce what the pods need even where PSP allowed less.
    #[arg(long)]
    pub tighten: bool,
    /// The cluster's version, which enforce labels are pinned to (default: the server's, the
    /// export's version.yaml, or latest).
    #[arg(long, value_name = "vX.Y", value_parser = parse_version)]
    pub cluster_version: Option<Version>,
    /// Exempt a namespace (repeatable): no labels, listed in the AdmissionConfiguration.
    #[arg(long, value_name = "NAMESPACE")]
    pub exempt_namespace: Vec<String>,
    /// Exempt a username in the AdmissionConfiguration (repeatable).
    #[arg(long, value_name = "USER")]
    pub exempt_user: Vec<String>,
    /// Exempt a runtimeClassName in the AdmissionConfiguration (repeatable).
    #[arg(long, value_name = "NAME")]
    pub exempt_runtime_class: Vec<String>,
    /// Allow a looser enforce level than a namespace's existing label.
    #[arg(long)]
    pub allow_loosen: bool,
    /// Overwrite a different existing plan in the output directory.
    #[arg(long)]
    pub force: bool,
}

/// The plan name from the input: the first `-f` path's name, `stdin`, or the live context.
fn input_name(g: &GlobalArgs, live_name: Option<&str>) -> String {
    let raw = match g.filename.first() {
        Some(p) if p == "-" => "stdin".to_owned(),
        Some(p) => {
            let path = Path::new(p.trim_end_matches('/'));
            path.file_stem()
                .map_or_else(|| "input".to_owned(), |s| s.to_string_lossy().into_owned())
        }
        None => live_name.unwrap_or("cluster").to_owned(),
    };
    let clean: String = raw
        .chars()
        .map(
            |c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' { c } else { '-' },
        )
        .collect();
    if clean.is_empty() || clean.starts_with('.') { "cluster".into() } else { clean }
}

/// The version enforce is pinned to.
pub fn cluster_version(flag: Option<Version>, inv: &Inventory) -> Version {
    flag.or_else(|| inv.server_version.as_ref().and_then(|v| v.minor_number()).map(Version::Minor))
        .unwrap_or(Version::Latest)
}

pub fn run(
    g: &GlobalArgs,
    args: &PlanArgs,
    settings: &Settings,
    out: &mut dyn Write,
) -> Result<u8, AppError> {
    let (inv, input_errors) = load_inventory(g)?;
    let name = args.name.clone().unwrap_or_else(|| input_name(g, g.context.as_deref()));
    let opts = PlanOptions {
        name: name.clone(),
        enforce_version: cluster_version(args.cluster_version, &inv),
        tighten: args.tighten,
        allow_loosen: args.allow_loosen,
        exempt_namespaces: args.exempt_namespace.iter().cloned().collect(),
        exempt_users: args.exempt_user.iter().cloned().collect(),
        exempt_runtime_classes: args.exempt_runtime_class.iter().cloned().collect(),
    };
    let plan = plan::plan(&inv, &opts);
    let existing: Vec<String> = inv.namespaces.iter().map(|n| n.metadata.name.clone()).collect();
    let rendered = files::render(&plan, &existing);
    let dir = args.out.clone().unwrap_or_else(|| Path::new("migrations").join(&name));
    write_plan_dir(&dir, &rendered, args.force)?;
    output::plan::render(out, &plan, &dir.display().to_string(), settings.format)?;
    Ok(if input_errors { exit::ERROR } else { exit::CLEAN })
}

/// Writes the files, refusing to replace a different plan without `--force`. The journal of an
/// apply in progress is never touched.
fn write_plan_dir(
    dir: &Path,
    rendered: &[(&'static str, String)],
    force: bool,
) -> Result<(), AppError> {
    let new_plan = rendered.iter().find(|(n, _)| *n == files::PLAN_JSON).map(|(_, t)| t.as_str());
    if dir.exists() && !force {
        match std::fs::read_to_string(dir.join(files::PLAN_JSON)) {
            Ok(old) if Some(old.as_str()) == new_plan => {}
            Ok(_) => {
                return Err(AppError::Usage(format!(
                    "{} holds a different plan; review it, then pass --force to replace it (or --out DIR)",
                    dir.display()
                )));
            }
            Err(_) if std::fs::read_dir(dir).map(|mut d| d.next().is_none()).unwrap_or(false) => {}
            Err(_) => {
                return Err(AppError::Usage(format!(
                    "{} exists and is not a psa-migrate plan; pass --force or choose --out DIR",
                    dir.display()
                )));
            }
        }
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| AppError::Usage(format!("cannot create {}: {e}", dir.display())))?;
    let produced: BTreeSet<&str> = rendered.iter().map(|(n, _)| *n).collect();
    for stale in [files::PSP_BYPASS, files::CLEANUP] {
        if !produced.contains(stale) {
            let _ = std::fs::remove_file(dir.join(stale));
        }
    }
    for (file, text) in rendered {
        let path = dir.join(file);
        std::fs::write(&path, text)
            .map_err(|e| AppError::Usage(format!("cannot write {}: {e}", path.display())))?;
    }
    Ok(())
}
