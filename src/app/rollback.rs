//! `psa-migrate rollback`: undo what `apply` wrote, from the journal of the migration directory,
//! newest first: labels restored exactly (labels that did not exist are removed), objects of
//! step 3 deleted, objects of step 4 created again.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use crate::app::apply::{
    confirm, connect, count, finish, live_only, open_plan, printer, progress, runtime, text_only,
};
use crate::app::{AppError, GlobalArgs, Settings, exit};
use crate::apply::diff;
use crate::apply::engine::{self, RollbackAction, RollbackItem};
use crate::apply::journal;
use crate::apply::labels::Rollback;
use crate::output::Style;

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The migration directory an `apply` wrote its journal to.
    #[arg(long, value_name = "DIR")]
    pub plan: PathBuf,
    /// Do not ask for confirmation.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Restore labels even where someone changed them since apply.
    #[arg(long)]
    pub force: bool,
}

/// The diff of a rollback: label blocks, then object lines.
fn print_items(
    out: &mut dyn Write,
    items: &[RollbackItem],
    force: bool,
    style: Style,
) -> std::io::Result<()> {
    for (ns, (before, after)) in engine::rollback_label_diffs(items, force) {
        if let Some(text) =
            diff::namespace_diff(&ns, "live", "before apply", &before, &after, style)
        {
            out.write_all(text.as_bytes())?;
        }
    }
    for item in items {
        match &item.action {
            RollbackAction::Delete { key, live: Some(_) } => {
                let line = format!("- {key} (delete, rollback of step {})", item.step);
                writeln!(out, "{}", style.red(&line))?;
            }
            RollbackAction::Recreate { key, exists: false, .. } => {
                let line = format!("+ {key} (re-create, rollback of step {})", item.step);
                writeln!(out, "{}", style.green(&line))?;
            }
            _ => {}
        }
    }
    Ok(())
}

pub fn run(
    g: &GlobalArgs,
    args: &RollbackArgs,
    settings: &Settings,
    out: &mut dyn Write,
) -> Result<u8, AppError> {
    live_only(g, "rollback")?;
    text_only(settings, "rollback")?;
    if !args.plan.is_dir() {
        return Err(AppError::Usage(format!("{} is not a directory", args.plan.display())));
    }
    let (_plan, _lock) = open_plan(&args.plan, "rollback", settings.quiet)?;
    let journal_path = journal::path(&args.plan);
    let Some(mut journal) =
        journal::load(&journal_path).map_err(|e| AppError::Usage(e.to_string()))?
    else {
        writeln!(out, "nothing to roll back: {} does not exist", journal_path.display())?;
        return Ok(exit::CLEAN);
    };
    let rt = runtime()?;
    let result: Result<u8, AppError> = (|| {
        let cluster = connect(&rt, g)?;
        let items = rt
            .block_on(engine::gather_rollback(&cluster, &journal, g.namespace.as_deref()))
            .map_err(|e| AppError::Other(e.into()))?;
        if items.is_empty() {
            writeln!(out, "nothing to roll back")?;
            return Ok(exit::CLEAN);
        }
        print_items(out, &items, args.force, settings.style)?;
        let writes: Vec<&RollbackItem> = items.iter().filter(|i| i.writes(args.force)).collect();
        let refused = items
            .iter()
            .filter(|i| {
                matches!(
                    &i.action,
                    RollbackAction::Labels { decision: Rollback::Changed { .. }, .. }
                )
            })
            .count();
        if !writes.is_empty() {
            let mut namespaces: Vec<&str> = writes.iter().filter_map(|i| i.namespace()).collect();
            namespaces.sort_unstable();
            namespaces.dedup();
            let what = format!(
                "{} in {}",
                count(writes.len(), "change", "changes"),
                count(namespaces.len(), "namespace", "namespaces")
            );
            writeln!(out, "{what} would be rolled back")?;
            if refused > 0 && !args.force {
                writeln!(
                    out,
                    "{} changed since apply and would be left alone (see --force)",
                    count(refused, "entry", "entries")
                )?;
            }
            out.flush()?;
            if !confirm(&format!("Roll back {what}?"), args.yes)? {
                eprintln!("aborted; nothing was changed");
                return Ok(exit::FINDINGS);
            }
        }
        let bar = progress(items.len(), settings.quiet);
        bar.set_prefix("rolling back");
        let outcome = {
            let mut report = printer(&mut *out, settings.style, settings.quiet, &bar);
            rt.block_on(engine::run_rollback(
                &cluster,
                &items,
                &mut journal,
                &journal_path,
                args.force,
                &mut report,
                &super::terminal::Bar(bar.clone()),
            ))
        };
        bar.finish_and_clear();
        finish(&outcome, 0, "rolled back", &journal_path, out)
    })();
    rt.shutdown_background();
    result
}
