//! `psa-migrate apply`: write a plan's steps to the live cluster, after showing the diff and
//! asking. Also the helpers `diff` and `rollback` share: live options, the runtime, the
//! confirmation prompt, the progress bar and the printing of run events.

use std::io::{self, BufRead, Write};
use std::path::PathBuf;

use clap::Args;
use indicatif::ProgressBar;

use crate::app::{AppError, GlobalArgs, Settings, exit};
use crate::apply::api::Cluster;
use crate::apply::engine::{self, ApplyWork, Event, RunOutcome};
use crate::apply::journal::{self, Journal};
use crate::apply::lock::{self, PlanLock};
use crate::apply::objects::ObjectKey;
use crate::apply::{self as migrate, diff, planfile};
use crate::kube_api::ConnectOptions;
use crate::output::Style;

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The migration directory written by `psa-migrate plan` (holds plan.json).
    #[arg(long, value_name = "DIR")]
    pub plan: PathBuf,
    /// Apply one step only: 1 audit/warn labels, 2 enforce labels, 3 PSP bypass, 4 clean-up, 5
    /// residual admission policies, 6 mutation policies (apply 6 before 5).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=6), conflicts_with = "through")]
    pub step: Option<u32>,
    /// Apply steps 1 to N (default 2: the label steps; 3 and 4 only when asked for).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=6))]
    pub through: Option<u32>,
    /// Do not ask for confirmation.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Enforce even when the server's dry run or the re-verification of the live pods and
    /// workloads says some would violate the level; apply namespaces whose plan coverage is
    /// partial; clean up even while PSPs still admit running pods.
    #[arg(long)]
    pub force: bool,
}

/// The connection options of the global flags.
pub(super) fn connect_options(g: &GlobalArgs) -> ConnectOptions {
    ConnectOptions {
        kubeconfig: g.kubeconfig.clone(),
        context: g.context.clone(),
        request_timeout: g.request_timeout.0,
    }
}

/// A runtime for the requests of one command.
pub(super) fn runtime() -> Result<tokio::runtime::Runtime, AppError> {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 4));
    Ok(tokio::runtime::Builder::new_multi_thread().worker_threads(threads).enable_all().build()?)
}

/// Connects to the cluster of the kubeconfig.
pub(super) fn connect(rt: &tokio::runtime::Runtime, g: &GlobalArgs) -> Result<Cluster, AppError> {
    rt.block_on(Cluster::connect(&connect_options(g))).map_err(|e| AppError::Other(e.into()))
}

/// Only text output is supported by the writing commands.
pub(super) fn text_only(settings: &Settings, command: &str) -> Result<(), AppError> {
    if !settings.format.is_text() {
        return Err(AppError::Usage(format!("{command} prints text only; -o is not supported")));
    }
    Ok(())
}

/// The writing commands talk to a live cluster only.
pub(super) fn live_only(g: &GlobalArgs, command: &str) -> Result<(), AppError> {
    if !g.filename.is_empty() {
        return Err(AppError::Usage(format!(
            "{command} writes to a live cluster and cannot use -f; preview against files with \
             `psa-migrate diff --plan DIR -f PATH`"
        )));
    }
    Ok(())
}

/// Asks on stderr and reads the answer from stdin; `--yes` skips the question. Refuses when
/// stdin is not a terminal.
pub(super) fn confirm(question: &str, yes: bool) -> Result<bool, AppError> {
    if yes {
        return Ok(true);
    }
    if !super::terminal::terminal().stdin {
        return Err(AppError::Usage(
            "refusing to write without confirmation: stdin is not a terminal; review the diff, \
             then re-run with --yes"
                .to_owned(),
        ));
    }
    eprint!("{question} [y/N] ");
    let _ = io::stderr().flush();
    let mut answer = String::new();
    io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes"))
}

/// A progress bar over `len` items on stderr, hidden when stderr is not a terminal or with -q.
pub(super) fn progress(len: usize, quiet: bool) -> ProgressBar {
    super::terminal::bar(len, quiet)
}

/// Prints run events: writes on stdout, the rest on stderr (notices not with -q), around the
/// progress bar.
pub(super) fn printer<'a>(
    out: &'a mut dyn Write,
    style: Style,
    quiet: bool,
    bar: &'a ProgressBar,
) -> impl FnMut(Event) + 'a {
    move |event| {
        bar.suspend(|| match event {
            Event::Done(text) => {
                let _ = writeln!(out, "{text}");
            }
            Event::Notice(text) if !quiet => eprintln!("notice: {text}"),
            Event::Notice(_) => {}
            Event::Warning(text) => eprintln!("{} {text}", style.paint("33", "warning:")),
            Event::Error(text) => eprintln!("{} {text}", style.red("error:")),
        })
    }
}

/// Notices on stderr unless -q.
pub(super) fn notices(list: &[String], quiet: bool) {
    if quiet {
        return;
    }
    for n in list {
        eprintln!("notice: {n}");
    }
}

/// `1 change`, `2 changes`.
pub(super) use crate::plan::count;

/// Takes the migration directory's lock, then verifies it (so that no `plan` rewrites it in
/// between) and removes what an interrupted run left (journal temporaries). The lock is held
/// until the returned guard is dropped.
pub(super) fn open_plan(
    dir: &std::path::Path,
    command: &str,
    quiet: bool,
) -> Result<(planfile::PlanFile, PlanLock), AppError> {
    if !dir.join(crate::render::plan_files::PLAN_JSON).is_file() {
        // Refuse before creating a lock file in a directory that holds no plan.
        planfile::load(dir).map_err(|e| AppError::Usage(e.to_string()))?;
    }
    let guard = lock::acquire(dir, command).map_err(|e| AppError::Usage(e.to_string()))?;
    let plan = planfile::load(dir).map_err(|e| AppError::Usage(e.to_string()))?;
    if let Some(stale) = &guard.took_over {
        eprintln!(
            "notice: took over the stale lock {} of {stale}: that process is gone",
            dir.join(lock::LOCK_FILE).display()
        );
    }
    for removed in lock::remove_stale_temporaries(dir) {
        if !quiet {
            eprintln!("notice: removed {}, left by an interrupted journal save", removed.display());
        }
    }
    Ok((plan, guard))
}

/// The exit code of a run, with its closing lines: 2 when the run stopped or a write did not
/// complete (a conflict, an error), 1 when something was refused (a `--force` would go on), else
/// 0. `refused_before` counts refusals made before the run (partial coverage).
pub(super) fn finish(
    outcome: &RunOutcome,
    refused_before: usize,
    verb: &str,
    journal_path: &std::path::Path,
    out: &mut dyn Write,
) -> Result<u8, AppError> {
    writeln!(out, "{verb} {}", count(outcome.done, "change", "changes"))?;
    if let Some(fatal) = &outcome.fatal {
        eprintln!("error: {fatal}");
        eprintln!(
            "error: stopped; {} records what was written — re-run to finish, or roll back",
            journal_path.display()
        );
        return Ok(exit::ERROR);
    }
    let refused = outcome.refused + refused_before;
    if refused > 0 {
        eprintln!(
            "error: {} refused (see above)",
            count(refused, "namespace or object was", "namespaces or objects were")
        );
    }
    if outcome.failed > 0 {
        eprintln!(
            "error: {} not complete (see above); {} records what was written — re-run to \
             finish, or roll back",
            count(outcome.failed, "write did", "writes did"),
            journal_path.display()
        );
        return Ok(exit::ERROR);
    }
    Ok(if refused > 0 { exit::FINDINGS } else { exit::CLEAN })
}

/// The diff of an apply: label blocks, then object lines.
fn print_work(
    out: &mut dyn Write,
    work: &ApplyWork,
    steps: &[u32],
    style: Style,
) -> io::Result<()> {
    let label_steps: Vec<u32> =
        steps.iter().copied().filter(|s| migrate::LABEL_STEPS.contains(s)).collect();
    let new_name = migrate::steps_label(&label_steps);
    for ns in &work.namespaces {
        let (before, after) = ns.psa_before_after();
        if let Some(text) =
            diff::namespace_diff(&ns.namespace, "live", &new_name, &before, &after, style)
        {
            out.write_all(text.as_bytes())?;
        }
    }
    for c in &work.create {
        writeln!(out, "{}", diff::object_line(true, &c.key.to_string(), c.step, style))?;
    }
    for d in &work.delete {
        writeln!(out, "{}", diff::object_line(false, &d.key.to_string(), d.step, style))?;
    }
    Ok(())
}

/// Refuses the clean-up while PSPs still admit running pods (live count, else the plan's).
fn check_cleanup(
    rt: &tokio::runtime::Runtime,
    cluster: &Cluster,
    plan: &planfile::PlanFile,
    g: &GlobalArgs,
    force: bool,
) -> Result<(), AppError> {
    let counts = match rt.block_on(cluster.running_pods_by_psp(g.chunk_size)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!(
                "warning: cannot list pods ({e}); using the counts of plan.json (cleanup.runningPodsByPsp)"
            );
            plan.cleanup.running_pods_by_psp.clone()
        }
    };
    let using: Vec<String> = counts
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(psp, n)| format!("{psp} ({})", count(*n, "pod", "pods")))
        .collect();
    if using.is_empty() {
        return Ok(());
    }
    if !force {
        return Err(AppError::Usage(format!(
            "refusing step 4 (clean-up): PodSecurityPolicies still admit running pods: {}. Recreate \
             those pods under Pod Security Admission first (with the PSP admission plugin off), or \
             pass --force",
            using.join(", ")
        )));
    }
    eprintln!(
        "warning: PSPs still admit running pods ({}); cleaning up anyway (--force)",
        using.join(", ")
    );
    Ok(())
}

/// Steps 5 and 6 need a server that serves the policies' API version: refuse before any write.
fn check_policies_served(
    rt: &tokio::runtime::Runtime,
    cluster: &Cluster,
    creates: &[(u32, ObjectKey, serde_json::Value)],
) -> Result<(), AppError> {
    let mut needed: Vec<(u32, &str, &str, &str)> = creates
        .iter()
        .filter(|(s, _, _)| *s >= 5)
        .filter_map(|(s, k, _)| {
            crate::apply::objects::resource(&k.kind)
                .map(|(plural, _)| (*s, k.api_version.as_str(), plural, k.kind.as_str()))
        })
        .collect();
    needed.sort();
    needed.dedup();
    for (step, api_version, plural, kind) in needed {
        let served = rt
            .block_on(cluster.serves(api_version, plural))
            .map_err(|e| AppError::Other(e.into()))?;
        if !served {
            let kind = kind.trim_end_matches("Binding");
            let why = match (kind, api_version.ends_with("/v1")) {
                ("MutatingAdmissionPolicy", true) => {
                    "MutatingAdmissionPolicy v1 needs Kubernetes 1.36".to_owned()
                }
                ("MutatingAdmissionPolicy", false) => {
                    "MutatingAdmissionPolicy v1beta1 needs Kubernetes 1.34 or 1.35 \
                     with the MutatingAdmissionPolicy feature gate and \
                     --runtime-config=admissionregistration.k8s.io/v1beta1=true"
                        .to_owned()
                }
                (_, true) => "ValidatingAdmissionPolicy v1 needs Kubernetes 1.30".to_owned(),
                (_, false) => {
                    "ValidatingAdmissionPolicy v1beta1 needs Kubernetes 1.28 or 1.29 with the \
                 ValidatingAdmissionPolicy feature gate and \
                 --runtime-config=admissionregistration.k8s.io/v1beta1=true"
                        .to_owned()
                }
            };
            return Err(AppError::Usage(format!(
                "refusing step {step}: the server does not serve {api_version} {plural}; {why} \
                 (plan with --policy-version to target another version)"
            )));
        }
    }
    Ok(())
}

pub fn run(
    g: &GlobalArgs,
    args: &ApplyArgs,
    settings: &Settings,
    out: &mut dyn Write,
) -> Result<u8, AppError> {
    live_only(g, "apply")?;
    text_only(settings, "apply")?;
    let dir = &args.plan;
    let (plan, _lock) = open_plan(dir, "apply", settings.quiet)?;
    let steps = migrate::steps(args.step, args.through);
    if steps.contains(&3) && !plan.psp_admission_active {
        return Err(AppError::Usage(
            "refusing step 3 (PSP bypass): plan.json says the PodSecurityPolicy admission plugin is \
             not active on this cluster, so there is nothing to bypass"
                .to_owned(),
        ));
    }
    // Step 3 creates the objects of its file (verified with the plan); step 4 deletes exactly
    // what plan.json lists under cleanup.delete.
    let usage = |e: planfile::PlanFileError| AppError::Usage(e.to_string());
    let mut creates: Vec<(u32, ObjectKey, serde_json::Value)> = Vec::new();
    // Step 6 before step 5 in one run: the mutation policies must be in place before the
    // residual policies judge pods that PSP used to mutate.
    for step in [3, 6, 5].into_iter().filter(|s| steps.contains(s)) {
        let file = crate::render::plan_files::step_file(step).unwrap_or_default();
        let recorded = plan.records(file);
        if step == 5 && !recorded {
            return Err(AppError::Usage(
                "this plan has no step 5: its input holds no PodSecurityPolicy, or its policy \
                 version serves no ValidatingAdmissionPolicy (plan again with --policy-version \
                 v1.30 or newer)"
                    .to_owned(),
            ));
        }
        if step == 6 && !recorded {
            if args.step == Some(6) {
                return Err(AppError::Usage(
                    "this plan has no step 6: its policy version serves no \
                     MutatingAdmissionPolicy (v1.34 or newer), or no PSP usable in its namespaces \
                     fills in anything"
                        .to_owned(),
                ));
            }
            continue;
        }
        let objects = planfile::load_objects(dir, step).map_err(usage)?;
        creates.extend(objects.into_iter().map(|(k, v)| (step, k, v)));
    }
    let plan_path = dir.join(crate::render::plan_files::PLAN_JSON).display().to_string();
    let cleanup = if steps.contains(&4) {
        plan.cleanup_objects(&plan_path).map_err(usage)?
    } else {
        Vec::new()
    };
    let journal_path = journal::path(dir);
    let mut journal = journal::load(&journal_path)
        .map_err(|e| AppError::Usage(e.to_string()))?
        .unwrap_or_else(|| Journal::new(&plan.name));
    if journal.plan != plan.name && !settings.quiet {
        eprintln!(
            "warning: the journal {} belongs to plan {:?}, not {:?}",
            journal_path.display(),
            journal.plan,
            plan.name
        );
    }
    let mutation_applied =
        journal.entries.iter().any(|e| e.step == 6 && e.state == journal::EntryState::Applied);
    if steps.contains(&5)
        && !steps.contains(&6)
        && !mutation_applied
        && !args.force
        && plan.records(crate::render::plan_files::MUTATION_POLICIES)
    {
        return Err(AppError::Usage(
            "refusing step 5 before step 6: without the mutation policies, the residual policies \
             reject new pods that only PSP's defaulting made acceptable (plan.json's proof assumes \
             them); apply --step 6 first, or --force"
                .to_owned(),
        ));
    }
    let pending = journal.pending().len();
    if pending > 0 && !settings.quiet {
        eprintln!(
            "notice: {} from an earlier run (a write that may not have happened); the live state decides",
            count(pending, "journal entry is pending", "journal entries are pending")
        );
    }

    let rt = runtime()?;
    let result: Result<u8, AppError> = (|| {
        let cluster = connect(&rt, g)?;
        if steps.contains(&4) {
            check_cleanup(&rt, &cluster, &plan, g, args.force)?;
        }
        if steps.iter().any(|s| *s >= 5) {
            check_policies_served(&rt, &cluster, &creates)?;
        }
        let work = rt
            .block_on(engine::gather_apply(
                &cluster,
                &plan,
                &steps,
                &creates,
                &cleanup,
                &journal,
                g.namespace.as_deref(),
                g.chunk_size,
                args.force,
            ))
            .map_err(|e| AppError::Other(e.into()))?;
        notices(&work.notices, settings.quiet);
        for w in &work.warnings {
            eprintln!("{} {w}", settings.style.paint("33", "warning:"));
        }
        for r in &work.refused {
            eprintln!("{} {r}", settings.style.red("error:"));
        }
        print_work(out, &work, &steps, settings.style)?;
        let changes = work.changes();
        if changes == 0 {
            writeln!(out, "no changes")?;
            if !work.refused.is_empty() {
                return finish(
                    &RunOutcome::default(),
                    work.refused.len(),
                    "applied",
                    &journal_path,
                    &mut io::sink(),
                );
            }
            return Ok(exit::CLEAN);
        }
        let namespaces = work.namespaces_touched();
        writeln!(
            out,
            "{} to {} would be applied",
            count(changes, "change", "changes"),
            count(namespaces, "namespace", "namespaces")
        )?;
        out.flush()?;
        let question = format!(
            "Apply {} to {}?",
            count(changes, "change", "changes"),
            count(namespaces, "namespace", "namespaces")
        );
        if !confirm(&question, args.yes)? {
            eprintln!("aborted; nothing was changed");
            return Ok(exit::FINDINGS);
        }
        let bar =
            progress(work.namespaces.len() + work.create.len() + work.delete.len(), settings.quiet);
        bar.set_prefix("applying");
        let outcome = {
            let mut report = printer(&mut *out, settings.style, settings.quiet, &bar);
            rt.block_on(engine::run_apply(
                &cluster,
                &work,
                &mut journal,
                &journal_path,
                args.force,
                &mut report,
                &super::terminal::Bar(bar.clone()),
            ))
        };
        bar.finish_and_clear();
        finish(&outcome, work.refused.len(), "applied", &journal_path, out)
    })();
    rt.shutdown_background();
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_of_a_run() {
        let path = std::path::Path::new("journal.json");
        let code = |outcome: RunOutcome, before| {
            finish(&outcome, before, "applied", path, &mut io::sink()).unwrap()
        };
        assert_eq!(code(RunOutcome { done: 3, ..RunOutcome::default() }, 0), exit::CLEAN);
        // Refused (a --force would go on): findings.
        assert_eq!(code(RunOutcome { refused: 1, ..RunOutcome::default() }, 0), exit::FINDINGS);
        assert_eq!(code(RunOutcome::default(), 2), exit::FINDINGS);
        // A conflict or an error: the operation did not complete.
        assert_eq!(
            code(RunOutcome { failed: 1, refused: 1, ..RunOutcome::default() }, 0),
            exit::ERROR
        );
        let fatal = RunOutcome { fatal: Some("503".into()), ..RunOutcome::default() };
        assert_eq!(code(fatal, 0), exit::ERROR);
    }
}
