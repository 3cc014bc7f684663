//! `psa-migrate admit`: which PodSecurityPolicy the admission plugin would choose for each pod
//! or pod template given with `-f`, in the cluster of the kubeconfig or of an export
//! (`--inventory DIR`): whether it mutates the pod and how, and every candidate's errors.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use crate::app::{AppError, GlobalArgs, Settings, exit, load_inventory, load_inventory_needing};
use crate::discover;
use crate::output;
use crate::simulate::Requester;
use crate::simulate::admit::{AdmitOptions, admit_report};

#[derive(Debug, Args)]
pub struct AdmitArgs {
    /// The pods' service account (default: each object's `serviceAccountName`, else `default`).
    #[arg(long, value_name = "NAME")]
    pub service_account: Option<String>,
    /// The user who creates the pods, as kubectl's impersonation flag (default: the controller
    /// that creates pods for the object's kind; required for bare pods and PodTemplates).
    #[arg(long = "as", value_name = "USER")]
    pub as_user: Option<String>,
    /// A group of that user (repeatable; `system:authenticated` is always added).
    #[arg(long = "as-group", value_name = "GROUP", requires = "as_user")]
    pub as_group: Vec<String>,
    /// Read the cluster's PSPs and RBAC from an export or manifest directory instead of the
    /// cluster of the kubeconfig.
    #[arg(long, value_name = "DIR")]
    pub inventory: Option<PathBuf>,
}

/// The resources the cluster side of `admit` needs: PSPs and RBAC.
fn needed(resource: &str) -> bool {
    resource.starts_with("podsecuritypolicies.") || resource.ends_with(".rbac.authorization.k8s.io")
}

pub fn run(
    g: &GlobalArgs,
    args: &AdmitArgs,
    settings: &Settings,
    out: &mut dyn Write,
) -> Result<u8, AppError> {
    if g.filename.is_empty() {
        return Err(AppError::Usage(
            "admit needs the pods or workloads to simulate: -f FILE|DIR|- (the cluster's PSPs and \
             RBAC come from the kubeconfig, or from --inventory DIR)"
                .to_owned(),
        ));
    }
    let (objects, objects_sink) = load_inventory(g)?;
    let mut cluster_args = g.clone();
    cluster_args.filename = match &args.inventory {
        Some(dir) => vec![dir.display().to_string()],
        None => Vec::new(),
    };
    let (cluster, cluster_sink) = load_inventory_needing(&cluster_args, &needed)?;
    if cluster.psps.is_empty() && !settings.quiet {
        eprintln!(
            "notice: the cluster holds no PodSecurityPolicy: no pod would be admitted while the \
             PSP admission plugin runs (on 1.25+ it does not)"
        );
    }
    let opts = AdmitOptions {
        requester: args.as_user.as_deref().map(|u| Requester::user(u, &args.as_group)),
        service_account: args.service_account.clone(),
    };
    let grants = discover::rbac::resolve(&cluster).grants;
    let report = admit_report(&objects, &cluster, &grants, &opts)
        .map_err(|e| AppError::Usage(e.to_string()))?;
    output::admit::render(out, &report, settings.format, settings.style)?;
    let read_errors =
        [objects_sink.exit_code(None), cluster_sink.exit_code(None)].contains(&exit::ERROR);
    Ok(if read_errors {
        exit::ERROR
    } else if report.rejected() > 0 {
        exit::FINDINGS
    } else {
        exit::CLEAN
    })
}
