//! `psa-migrate diff`: what the label steps of a plan would change, as a unified diff per
//! namespace, against the live cluster or `-f` input. Read-only. Exit 0 when nothing would
//! change, 1 when something would (like `kubectl diff`), 2 on errors.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use crate::app::apply::{connect, notices, runtime, text_only};
use crate::app::{AppError, GlobalArgs, Settings, exit, load_inventory};
use crate::apply::api::LiveNamespace;
use crate::apply::engine::label_work;
use crate::apply::{self as migrate, diff, planfile};

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The migration directory written by `psa-migrate plan` (holds plan.json).
    #[arg(long, value_name = "DIR")]
    pub plan: PathBuf,
    /// Only the labels of one step: 1 (audit and warn) or 2 (enforce). Default: both.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=2))]
    pub step: Option<u32>,
}

pub fn run(
    g: &GlobalArgs,
    args: &DiffArgs,
    settings: &Settings,
    out: &mut dyn Write,
) -> Result<u8, AppError> {
    text_only(settings, "diff")?;
    let plan = planfile::load(&args.plan).map_err(|e| AppError::Usage(e.to_string()))?;
    let steps = match args.step {
        Some(s) => vec![s],
        None => migrate::LABEL_STEPS.to_vec(),
    };
    let (namespaces, source, sink) = if g.filename.is_empty() {
        let sink = crate::app::Sink::new(g)?;
        let rt = runtime()?;
        let read = connect(&rt, g).and_then(|cluster| {
            rt.block_on(cluster.namespaces(g.namespace.as_deref(), g.chunk_size))
                .map_err(|e| AppError::Other(e.into()))
        });
        rt.shutdown_background();
        (read?, "live", sink)
    } else {
        let (inv, sink) = load_inventory(g)?;
        let namespaces: BTreeMap<String, LiveNamespace> = inv
            .namespaces
            .iter()
            .map(|n| {
                let live = LiveNamespace {
                    labels: n.metadata.labels.clone(),
                    resource_version: String::new(),
                };
                (n.metadata.name.clone(), live)
            })
            .collect();
        (namespaces, "input", sink)
    };
    let where_from = if source == "live" { "cluster" } else { "input" };
    let (work, skipped) =
        label_work(&plan, &namespaces, &steps, g.namespace.as_deref(), where_from);
    notices(&skipped, settings.quiet);
    let new_name = migrate::steps_label(&steps);
    for ns in &work {
        let (before, after) = ns.psa_before_after();
        if let Some(text) =
            diff::namespace_diff(&ns.namespace, source, &new_name, &before, &after, settings.style)
        {
            out.write_all(text.as_bytes())?;
        }
    }
    writeln!(out, "{}", diff::summary(work.len()))?;
    // Changes to make exit 1, like `kubectl diff`; unreadable input still exits 2.
    let changes = if work.is_empty() { exit::CLEAN } else { exit::FINDINGS };
    Ok(sink.exit_code(None).max(changes))
}
