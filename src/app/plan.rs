//! `psa-migrate plan`: compute the migration and write it under `migrations/<name>/`.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;

use crate::app::{AppError, FailOn, GlobalArgs, Settings, load_inventory, parse_version};
use crate::model::inventory::Inventory;
use crate::model::level::Version;
use crate::output;
use crate::plan::{self, PlanOptions};
use crate::render::plan_files as files;
use crate::source::live;

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
    /// The Kubernetes version the residual admission policies are written for (default: the
    /// cluster's when it is 1.30 or newer, else the newest version psa-migrate knows: policies
    /// to apply after the upgrade). 1.28–1.29 write v1beta1; older versions write none.
    #[arg(long, value_name = "vX.Y", value_parser = parse_policy_version)]
    pub policy_version: Option<u32>,
    /// The bindings' validationActions: `deny` (default), or `warn,audit` to soak the
    /// policies like the audit and warn labels.
    #[arg(long, value_name = "ACTIONS", default_value = "deny", value_parser = parse_policy_actions)]
    pub policy_actions: PolicyActions,
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
    /// Treat the input as complete: it holds every pod, workload, RBAC object and PSP of the
    /// cluster (e.g. a full `kubectl get -A` dump). Without it, offline input is complete only
    /// with the record `psa-migrate export` writes.
    #[arg(long)]
    pub assume_complete: bool,
    /// Write the plan, marked partial, even when the cluster would not let a needed resource be
    /// listed (403). `apply` refuses partial namespaces without --force.
    #[arg(long)]
    pub allow_partial: bool,
    /// Exit 1 when any finding is at or above this severity (default: error).
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<FailOn>,
}

/// The plan name from the input: the first `-f` path's name (a file's without its extension,
/// a directory's whole name), `stdin`, or the live context.
fn input_name(g: &GlobalArgs, live_name: Option<&str>) -> String {
    let raw = match g.filename.first() {
        Some(p) if p == "-" => "stdin".to_owned(),
        Some(p) => {
            let path = Path::new(p.trim_end_matches('/'));
            let is_file =
                path.extension().is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
                    && !path.is_dir();
            let name = if is_file { path.file_stem() } else { path.file_name() };
            name.map_or_else(|| "input".to_owned(), |s| s.to_string_lossy().into_owned())
        }
        None => live_name.unwrap_or("cluster").to_owned(),
    };
    let clean: String = raw.chars().map(|c| if safe_name_char(c) { c } else { '-' }).collect();
    if clean.is_empty() || clean.starts_with('.') { "cluster".into() } else { clean }
}

fn safe_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'
}

/// A `--name` must be one safe path segment: it names a directory under `migrations/`.
fn check_name(name: &str) -> Result<(), AppError> {
    if name.is_empty() || name.starts_with('.') || !name.chars().all(safe_name_char) {
        return Err(AppError::Usage(format!(
            "invalid --name {name:?}: a plan name is one path segment of letters, digits, '-', '_' \
             and '.', not starting with '.'"
        )));
    }
    Ok(())
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
    if let Some(name) = &args.name {
        check_name(name)?;
    }
    let (inv, mut sink) = load_inventory(g)?;
    if g.filename.is_empty() {
        refuse_partial_live(&inv, args.allow_partial)?;
    }
    let name = args.name.clone().unwrap_or_else(|| input_name(g, g.context.as_deref()));
    let enforce_version = cluster_version(args.cluster_version, &inv);
    let opts = PlanOptions {
        name: name.clone(),
        enforce_version,
        tighten: args.tighten,
        allow_loosen: args.allow_loosen,
        exempt_namespaces: args.exempt_namespace.iter().cloned().collect(),
        exempt_users: args.exempt_user.iter().cloned().collect(),
        exempt_runtime_classes: args.exempt_runtime_class.iter().cloned().collect(),
        assume_complete: args.assume_complete,
        cluster_version_known: args.cluster_version.is_some()
            || inv.server_version.as_ref().and_then(|v| v.minor_number()).is_some(),
        policies: policy_options(args, enforce_version),
    };
    let plan = plan::plan(&inv, &opts);
    // The plan files keep every finding as computed; the overrides change only the exit code.
    sink.findings(&mut plan.findings.clone());
    let rendered = files::render(&plan).map_err(|e| AppError::Other(e.into()))?;
    let dir = args.out.clone().unwrap_or_else(|| Path::new("migrations").join(&name));
    write_plan_dir(&dir, &rendered, args.force)?;
    let options = crate::app::report_options(args.fail_on, &inv);
    output::plan::render(
        out,
        &plan,
        &dir.display().to_string(),
        settings.format,
        settings.style,
        &options,
    )?;
    Ok(sink.exit_code(args.fail_on))
}

/// The policy target: `--policy-version`, else the cluster's version from 1.30, else the
/// newest version the API table knows.
fn policy_options(args: &PlanArgs, cluster: Version) -> crate::policy::residual::PolicyOptions {
    use crate::policy::api::NEWEST_MINOR;
    let minor = args.policy_version.unwrap_or(match cluster {
        Version::Minor(m) if m >= 30 => m,
        _ => NEWEST_MINOR,
    });
    crate::policy::residual::PolicyOptions { minor, actions: args.policy_actions.0.clone() }
}

fn parse_policy_version(s: &str) -> Result<u32, String> {
    match s.parse::<Version>() {
        Ok(Version::Minor(m)) => Ok(m),
        Ok(Version::Latest) => Err("must be a version such as v1.30, not latest".into()),
        Err(e) => Err(e.to_string()),
    }
}

/// The bindings' `validationActions`, as `--policy-actions` gives them.
#[derive(Clone, Debug)]
pub struct PolicyActions(pub Vec<String>);

/// `deny` or `warn,audit` (any of deny, warn, audit; Deny and Warn may not be combined).
fn parse_policy_actions(s: &str) -> Result<PolicyActions, String> {
    let mut out: Vec<String> = Vec::new();
    for a in s.split(',').map(str::trim) {
        let a = match a.to_ascii_lowercase().as_str() {
            "deny" => "Deny",
            "warn" => "Warn",
            "audit" => "Audit",
            other => return Err(format!("unknown action {other:?}: use deny, warn or audit")),
        };
        if !out.iter().any(|x| x == a) {
            out.push(a.to_owned());
        }
    }
    if out.iter().any(|a| a == "Deny") && out.iter().any(|a| a == "Warn") {
        return Err("deny and warn cannot be combined (the API rejects it)".into());
    }
    out.sort_by_key(|a| ["Deny", "Warn", "Audit"].iter().position(|x| x == a));
    Ok(PolicyActions(out))
}

/// Live: a resource the plan needs that could not be listed (403, timeouts, …) makes the plan
/// unprovable; refuse to write it unless `--allow-partial` (it is then marked partial).
fn refuse_partial_live(inv: &Inventory, allow_partial: bool) -> Result<(), AppError> {
    let missing: Vec<String> = inv
        .unavailable
        .iter()
        .filter(|u| live::is_error(u) && plan::NEEDED_RESOURCES.contains(&u.resource.as_str()))
        .map(|u| format!("{} ({}): {}", u.resource, u.code.reason(), u.message))
        .collect();
    if missing.is_empty() || allow_partial {
        return Ok(());
    }
    Err(AppError::Usage(format!(
        "refusing to plan: the plan needs resources that could not be read, so it could reject \
         what runs or forget what PSP allowed:\n  {}\ngrant the missing permissions (see the \
         README's Permissions), or pass --allow-partial to write a plan marked partial",
        missing.join("\n  ")
    )))
}

/// Writes the files, refusing to replace a different plan without `--force`. The journal of an
/// apply in progress is never touched.
fn write_plan_dir(dir: &Path, rendered: &[(String, String)], force: bool) -> Result<(), AppError> {
    let new_plan = rendered.iter().find(|(n, _)| n == files::PLAN_JSON).map(|(_, t)| t.as_str());
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
    // Never rewrite a migration directory an apply or rollback is working on.
    let _lock =
        crate::apply::lock::acquire(dir, "plan").map_err(|e| AppError::Usage(e.to_string()))?;
    let produced: BTreeSet<&str> = rendered.iter().map(|(n, _)| n.as_str()).collect();
    for stale in
        [files::PSP_BYPASS, files::CLEANUP, files::RESIDUAL_POLICIES, files::MUTATION_POLICIES]
    {
        if !produced.contains(stale) {
            let _ = std::fs::remove_file(dir.join(stale));
        }
    }
    // The fixes are the plan's own: an earlier plan's are replaced whole.
    let _ = std::fs::remove_dir_all(dir.join(files::FIXES_DIR));
    crate::app::write_files(dir, rendered)
}
