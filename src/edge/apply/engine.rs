//! The apply and rollback runs: what to do (gathered from the plan, the journal and the live
//! cluster), then doing it — dry run, journal, write, mark — one namespace or object at a time.
//!
//! Nothing here prints: events go to a callback the app layer provides, and progress to the
//! [`Task`] it passes (which may draw nothing).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

use crate::edge::progress::Task;

use crate::apply::api::{ApiError, Cluster, LiveNamespace, ObjectRef, PatchKind};
use crate::apply::enforce::{self, Verdict};
use crate::apply::journal::{self, Change, EntryState, Journal};
use crate::apply::labels::{self, LabelChange, MaybeLabels, Rollback};
use crate::apply::objects::{self, ObjectKey};
use crate::apply::planfile::PlanFile;

/// Objects per list page where no `--chunk-size` reaches (rollback lists nothing per page).
const DEFAULT_PAGE: u32 = 500;

/// What happened, for the app layer to print.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A write done (stdout).
    Done(String),
    /// Something skipped or already done (stderr, not with `-q`).
    Notice(String),
    /// A server warning or a forced decision (stderr).
    Warning(String),
    /// A namespace or object that was not written (stderr; exit code 1 for a refusal, 2 for a
    /// write that did not complete).
    Error(String),
}

/// The label steps to write to one namespace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamespaceWork {
    pub namespace: String,
    /// All the namespace's labels as read.
    pub live: BTreeMap<String, String>,
    pub resource_version: String,
    /// In step order; never empty.
    pub changes: Vec<LabelChange>,
}

impl NamespaceWork {
    /// The namespace's Pod Security labels before and after all its changes.
    pub fn psa_before_after(&self) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
        let before = labels::psa_labels(&self.live);
        let mut after = before.clone();
        for c in &self.changes {
            after = labels::with_changes(&after, &labels::as_changes(&c.set));
        }
        (before, after)
    }
}

/// An object step 3 creates.
#[derive(Clone, Debug, PartialEq)]
pub struct CreateWork {
    pub step: u32,
    pub key: ObjectKey,
    pub manifest: Value,
}

/// An object step 4 deletes, as read live.
#[derive(Clone, Debug, PartialEq)]
pub struct DeleteWork {
    pub step: u32,
    pub key: ObjectKey,
    pub live: Value,
}

/// Everything an apply would write.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ApplyWork {
    pub namespaces: Vec<NamespaceWork>,
    pub create: Vec<CreateWork>,
    pub delete: Vec<DeleteWork>,
    /// What was skipped and why.
    pub notices: Vec<String>,
    /// Namespaces refused before any write (partial coverage without `--force`): errors.
    pub refused: Vec<String>,
    /// Warnings about what goes on anyway (`--force`).
    pub warnings: Vec<String>,
    /// `--chunk-size`: objects per list page when re-verifying a namespace.
    pub chunk_size: u32,
}

impl ApplyWork {
    /// Number of writes.
    pub fn changes(&self) -> usize {
        self.namespaces.iter().map(|n| n.changes.len()).sum::<usize>()
            + self.create.len()
            + self.delete.len()
    }

    /// Namespaces written to: labelled, or holding a created or deleted object.
    pub fn namespaces_touched(&self) -> usize {
        let mut set: BTreeSet<&str> =
            self.namespaces.iter().map(|n| n.namespace.as_str()).collect();
        set.extend(self.create.iter().filter_map(|c| c.key.namespace()));
        set.extend(self.delete.iter().filter_map(|d| d.key.namespace()));
        set.len()
    }
}

/// The label work of `steps` for the plan's namespaces given the live (or input) namespaces;
/// `only` limits it to one namespace. Exempt namespaces and namespaces that do not exist are
/// skipped with a notice (`source` names where namespaces were read: "cluster", "input").
pub fn label_work(
    plan: &PlanFile,
    live: &BTreeMap<String, LiveNamespace>,
    steps: &[u32],
    only: Option<&str>,
    source: &str,
) -> (Vec<NamespaceWork>, Vec<String>) {
    let mut work = Vec::new();
    let mut notices = Vec::new();
    if let Some(name) = only
        && plan.namespace(name).is_none()
    {
        notices.push(format!("namespace {name} is not in the plan"));
    }
    for ns in plan.namespaces.iter().filter(|n| only.is_none_or(|o| o == n.name)) {
        if ns.exempt {
            notices.push(format!("namespace {} is exempt in the plan: skipped", ns.name));
            continue;
        }
        let Some(l) = live.get(&ns.name) else {
            notices.push(format!("namespace {} is not in the {source}: skipped", ns.name));
            continue;
        };
        let mut labels_now = l.labels.clone();
        let mut changes = Vec::new();
        for &step in steps.iter().filter(|s| crate::apply::LABEL_STEPS.contains(s)) {
            if let Some(c) = labels::step_change(&labels_now, &ns.planned_labels, step) {
                labels_now = labels::with_changes(&labels_now, &labels::as_changes(&c.set));
                changes.push(c);
            }
        }
        if !changes.is_empty() {
            work.push(NamespaceWork {
                namespace: ns.name.clone(),
                live: l.labels.clone(),
                resource_version: l.resource_version.clone(),
                changes,
            });
        }
    }
    (work, notices)
}

/// Whether an object is in scope of `-n`: namespaced objects of that namespace; cluster-scoped
/// objects only when `cluster_scoped` says so.
fn in_scope(key: &ObjectKey, only: Option<&str>, cluster_scoped: bool) -> bool {
    match (only, key.namespace()) {
        (None, _) => true,
        (Some(o), Some(ns)) => o == ns,
        (Some(_), None) => cluster_scoped,
    }
}

/// Keeps the label work of namespaces the plan covers completely; the others are refused
/// (returned as messages) unless `force`, when they go on with a warning.
pub fn refuse_partial(
    plan: &PlanFile,
    work: Vec<NamespaceWork>,
    force: bool,
) -> (Vec<NamespaceWork>, Vec<String>, Vec<String>) {
    let (mut kept, mut refused, mut warned) = (Vec::new(), Vec::new(), Vec::new());
    for w in work {
        let Some(coverage) = plan.namespace(&w.namespace).map(|n| &n.coverage) else {
            kept.push(w);
            continue;
        };
        if !coverage.is_partial() {
            kept.push(w);
            continue;
        }
        let missing = if coverage.missing.is_empty() {
            "not recorded".to_owned()
        } else {
            coverage.missing.join(", ")
        };
        let why = format!(
            "namespace/{}: the plan's coverage is partial (not known to be complete in the input: \
             {missing}), so it cannot show that its levels reject nothing that runs there",
            w.namespace
        );
        if force {
            warned.push(format!("{why}; applying anyway (--force)"));
            kept.push(w);
        } else {
            refused.push(format!(
                "{why}; not applied. Re-run psa-migrate plan with complete input (live, or an \
                 export with its record), or pass --force"
            ));
        }
    }
    (kept, refused, warned)
}

/// Reads what an apply of `steps` would write. `bypass` holds the objects of step file 3 and
/// `cleanup` the objects `plan.json` lists for step 4 (read only when those steps run).
/// Namespaces the plan covers only partially are refused unless `force`.
#[allow(clippy::too_many_arguments)]
pub async fn gather_apply(
    cluster: &Cluster,
    plan: &PlanFile,
    steps: &[u32],
    creates: &[(u32, ObjectKey, Value)],
    cleanup: &[ObjectKey],
    journal: &Journal,
    only: Option<&str>,
    chunk_size: u32,
    force: bool,
) -> Result<ApplyWork, ApiError> {
    let live = cluster.namespaces(only, chunk_size).await?;
    let mut work = ApplyWork { chunk_size, ..ApplyWork::default() };
    let label_steps: Vec<u32> =
        steps.iter().copied().filter(|s| crate::apply::LABEL_STEPS.contains(s)).collect();
    if !label_steps.is_empty() {
        let (ns, notices) = label_work(plan, &live, &label_steps, only, "cluster");
        let (ns, refused, warnings) = refuse_partial(plan, ns, force);
        work.namespaces = ns;
        work.notices = notices;
        work.refused = refused;
        work.warnings = warnings;
    }
    // Steps 3 and 5 create the objects of their files.
    for (step, key, manifest) in creates.iter().filter(|(s, _, _)| steps.contains(s)) {
        // The bypass PSP and its ClusterRole are needed by any namespace's binding, the
        // residual policies by the namespaces they select.
        if !in_scope(key, only, true) {
            continue;
        }
        if let Some(ns) = key.namespace()
            && !live.contains_key(ns)
        {
            work.notices.push(format!("{key}: namespace {ns} is not in the cluster: skipped"));
            continue;
        }
        let path = key.target().map_err(|m| decode_error(key, m))?;
        if cluster.get(&path).await?.is_some() {
            let ours =
                journal.object_entry(key, *step).is_some_and(|e| e.state != EntryState::RolledBack);
            if !ours {
                work.notices.push(format!(
                    "{key} already exists and was not created by psa-migrate: left as it is"
                ));
            }
            continue;
        }
        work.create.push(CreateWork { step: *step, key: key.clone(), manifest: manifest.clone() });
    }
    if steps.contains(&4) {
        let mut skipped_cluster_scoped = false;
        for key in cleanup {
            if !in_scope(key, only, false) {
                skipped_cluster_scoped |= key.namespace().is_none();
                continue;
            }
            let path = key.target().map_err(|m| decode_error(key, m))?;
            match cluster.get(&path).await? {
                Some(v) => work.delete.push(DeleteWork { step: 4, key: key.clone(), live: v }),
                None => work.notices.push(format!("{key} does not exist (already deleted)")),
            }
        }
        if skipped_cluster_scoped {
            work.notices
                .push("-n given: cluster-scoped objects of step 4 are left alone".to_owned());
        }
    }
    Ok(work)
}

fn decode_error(key: &ObjectKey, message: String) -> ApiError {
    ApiError::Decode { method: "GET", path: key.to_string(), message }
}

/// How a run ended.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunOutcome {
    /// Writes done.
    pub done: usize,
    /// Namespaces or objects deliberately not written: refusals a `--force` would override
    /// (exit 1).
    pub refused: usize,
    /// Writes that did not complete: conflicts (409), per-object errors (exit 2).
    pub failed: usize,
    /// The error that stopped the run (server down, journal not writable).
    pub fatal: Option<String>,
}

/// The state of a run: journal, where it is saved, the event sink and the progress bar.
struct Run<'a> {
    cluster: &'a Cluster,
    /// Objects per list page (`--chunk-size`).
    chunk_size: u32,
    journal: &'a mut Journal,
    journal_path: &'a Path,
    report: &'a mut dyn FnMut(Event),
    outcome: RunOutcome,
}

/// Why a unit of work stopped early.
enum Stop {
    /// This namespace or object only; the run goes on.
    Item,
    /// The whole run.
    Run,
}

impl Run<'_> {
    fn save(&mut self) -> Result<(), Stop> {
        journal::save(self.journal_path, self.journal).map_err(|e| {
            self.outcome.fatal = Some(e.to_string());
            Stop::Run
        })
    }

    /// An API error: fatal ones stop the run, others the item (with `what` as context).
    fn api_error(&mut self, what: &str, e: &ApiError) -> Stop {
        if e.is_fatal() {
            self.outcome.fatal = Some(format!("{what}: {e}"));
            Stop::Run
        } else {
            self.outcome.failed += 1;
            (self.report)(Event::Error(format!("{what}: {}", e.message())));
            Stop::Item
        }
    }

    fn warnings(&mut self, what: &str, warnings: &[String]) {
        for w in warnings {
            (self.report)(Event::Warning(format!("{what}: {w}")));
        }
    }
}

/// Runs an apply: per namespace its label steps, then the objects to create, then those to
/// delete. Each write: dry run, journal entry (durable), write with preconditions, entry marked.
pub async fn run_apply(
    cluster: &Cluster,
    work: &ApplyWork,
    journal: &mut Journal,
    journal_path: &Path,
    force: bool,
    report: &mut dyn FnMut(Event),
    progress: &dyn Task,
) -> RunOutcome {
    let mut run = Run {
        cluster,
        chunk_size: work.chunk_size,
        journal,
        journal_path,
        report,
        outcome: RunOutcome::default(),
    };
    for ns in &work.namespaces {
        progress.set_message(&ns.namespace);
        if let Err(Stop::Run) = apply_namespace(&mut run, ns, force).await {
            return run.outcome;
        }
        progress.inc(1);
    }
    for c in &work.create {
        progress.set_message(&c.key.to_string());
        if let Err(Stop::Run) = create_object(&mut run, c).await {
            return run.outcome;
        }
        progress.inc(1);
    }
    for d in &work.delete {
        progress.set_message(&d.key.to_string());
        if let Err(Stop::Run) = delete_object(&mut run, d).await {
            return run.outcome;
        }
        progress.inc(1);
    }
    run.outcome
}

async fn apply_namespace(run: &mut Run<'_>, ns: &NamespaceWork, force: bool) -> Result<(), Stop> {
    let name = &ns.namespace;
    let path = ObjectRef::namespace(name);
    let mut rv = ns.resource_version.clone();
    for change in &ns.changes {
        let what = format!("namespace/{name} (step {})", change.step);
        let patch = labels::merge_patch(&labels::as_changes(&change.set), &rv);
        let dry = match run.cluster.patch(&path, PatchKind::Merge, &patch, true).await {
            Ok(a) => a,
            Err(e) if e.code() == Some(409) => return Err(conflict(run, name)),
            Err(e) => return Err(run.api_error(&format!("{what}: dry run"), &e)),
        };
        run.warnings(&what, &dry.warnings);
        let mut blocking = false;
        if change.step == 2 {
            match reverify(run, &what, name, &change.set, &dry.warnings).await? {
                Reverified::Clear => {}
                Reverified::Server => {
                    blocking = true;
                    if !force {
                        run.outcome.refused += 1;
                        (run.report)(Event::Error(format!(
                            "{what} not applied: the server's dry run says existing pods would \
                             violate the new enforce level (warnings above); fix them or re-run \
                             with --force"
                        )));
                        return Err(Stop::Item);
                    }
                }
                Reverified::Rejected(why) => {
                    blocking = true;
                    if !force {
                        run.outcome.refused += 1;
                        (run.report)(Event::Error(format!(
                            "{what} not applied: {why}; fix them, re-plan, or re-run with --force"
                        )));
                        return Err(Stop::Item);
                    }
                    (run.report)(Event::Warning(format!("{what}: {why}")));
                }
            }
        }
        if blocking {
            (run.report)(Event::Warning(format!(
                "{what}: enforcing despite the warnings (--force)"
            )));
        }
        let id = run.journal.record_labels(
            name,
            change.step,
            &change.previous,
            &change.set,
            &rv,
            journal::now(),
        );
        run.save()?;
        let answer = match run.cluster.patch(&path, PatchKind::Merge, &patch, false).await {
            Ok(a) => a,
            Err(e) if e.code() == Some(409) => return Err(conflict(run, name)),
            Err(e) => return Err(run.api_error(&what, &e)),
        };
        let fresh: Vec<String> =
            answer.warnings.into_iter().filter(|w| !dry.warnings.contains(w)).collect();
        run.warnings(&what, &fresh);
        let new_rv = objects::resource_version(&answer.body);
        run.journal.mark_applied(id, new_rv.clone(), journal::now());
        run.save()?;
        if let Some(v) = new_rv {
            rv = v;
        }
        run.outcome.done += 1;
        (run.report)(Event::Done(format!("namespace/{name} labeled (step {})", change.step)));
    }
    Ok(())
}

/// What re-verifying a namespace before its enforce write found.
enum Reverified {
    /// Nothing live would be rejected, and the server agrees.
    Clear,
    /// The server's dry-run warnings say live pods would be rejected (or it could not check).
    Server,
    /// Our own evaluation of the live pods and workload templates rejects some (or they could
    /// not be listed): why, naming them.
    Rejected(String),
}

/// Re-verifies a namespace before its enforce label is written, whatever the plan's coverage
/// said: its pods and live workload templates, listed now, evaluated at the enforce level and
/// version of `set`. The server's dry run alone is not enough: upstream checks at most 3,000
/// pods and for at most a second per namespace, and never workload templates.
async fn reverify(
    run: &mut Run<'_>,
    what: &str,
    namespace: &str,
    set: &BTreeMap<String, String>,
    warnings: &[String],
) -> Result<Reverified, Stop> {
    let Some((level, version)) = enforce::enforce_of(set) else {
        return Ok(Reverified::Rejected(format!(
            "the planned labels set no valid enforce level ({})",
            set.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")
        )));
    };
    if level == crate::model::level::Level::Privileged {
        return Ok(Reverified::Clear);
    }
    let mut listed = Vec::new();
    let pods = match run.cluster.pods(namespace, run.chunk_size).await {
        Ok(p) => p,
        Err(e) if e.is_fatal() => return Err(run.api_error(&format!("{what}: listing pods"), &e)),
        Err(e) => {
            return Ok(Reverified::Rejected(format!(
                "cannot list the namespace's pods to re-verify it: {}",
                e.message()
            )));
        }
    };
    let workloads = match run.cluster.workloads(namespace, run.chunk_size).await {
        Ok(w) => w,
        Err(e) if e.is_fatal() => {
            return Err(run.api_error(&format!("{what}: listing workloads"), &e));
        }
        Err(e) => {
            return Ok(Reverified::Rejected(format!(
                "cannot list the namespace's workloads to re-verify it: {}",
                e.message()
            )));
        }
    };
    for pod in &pods {
        let mut p = pod.clone();
        if let Some(o) = p.as_object_mut() {
            o.entry("kind").or_insert_with(|| "Pod".into());
            o.entry("apiVersion").or_insert_with(|| "v1".into());
        }
        listed.push(p);
    }
    listed.extend(workloads);
    let rejected = enforce::rejected_objects(&listed, level, version);
    if !rejected.is_empty() {
        return Ok(Reverified::Rejected(format!(
            "enforce {level}:{version} would reject {} live now: {}",
            if rejected.len() == 1 {
                "1 object".to_owned()
            } else {
                format!("{} objects", rejected.len())
            },
            rejected.join("; ")
        )));
    }
    if !warnings.iter().any(|w| labels::blocks_enforce(w)) {
        return Ok(Reverified::Clear);
    }
    Ok(match enforce::judge(warnings, &pods, set) {
        Verdict::Clear => Reverified::Clear,
        Verdict::FinishedOnly(names) => {
            (run.report)(Event::Notice(format!(
                "{what}: the pods the server warns about have all finished ({}); enforce never \
                 affects existing pods, so the step goes on",
                names.join(", ")
            )));
            Reverified::Clear
        }
        Verdict::Block => Reverified::Server,
    })
}

fn conflict(run: &mut Run<'_>, namespace: &str) -> Stop {
    run.outcome.failed += 1;
    (run.report)(Event::Error(format!(
        "namespace {namespace} changed since it was read; re-run apply"
    )));
    Stop::Item
}

async fn create_object(run: &mut Run<'_>, c: &CreateWork) -> Result<(), Stop> {
    let what = format!("{} (step {})", c.key, c.step);
    let path = c.key.target().map_err(|m| bad_key(run, &what, m))?;
    let dry = match run.cluster.patch(&path, PatchKind::Apply, &c.manifest, true).await {
        Ok(a) => a,
        Err(e) => return Err(run.api_error(&format!("{what}: dry run"), &e)),
    };
    run.warnings(&what, &dry.warnings);
    let id = run.journal.record_create(&c.key, c.step, journal::now());
    run.save()?;
    let answer = match run.cluster.patch(&path, PatchKind::Apply, &c.manifest, false).await {
        Ok(a) => a,
        Err(e) => return Err(run.api_error(&what, &e)),
    };
    run.warnings(&what, &answer.warnings);
    run.journal.mark_applied(id, objects::resource_version(&answer.body), journal::now());
    run.save()?;
    run.outcome.done += 1;
    (run.report)(Event::Done(format!("{} created (step {})", c.key, c.step)));
    Ok(())
}

async fn delete_object(run: &mut Run<'_>, d: &DeleteWork) -> Result<(), Stop> {
    let what = format!("{} (step {})", d.key, d.step);
    let path = d.key.target().map_err(|m| bad_key(run, &what, m))?;
    match run.cluster.delete(&path, Some(&d.live), true).await {
        Ok(a) => run.warnings(&what, &a.warnings),
        Err(e) if e.code() == Some(404) => {
            (run.report)(Event::Notice(format!("{what}: already deleted")));
            return Ok(());
        }
        Err(e) if e.code() == Some(409) => return Err(object_conflict(run, &d.key)),
        Err(e) => return Err(run.api_error(&format!("{what}: dry run"), &e)),
    }
    let id = run.journal.record_delete(&d.key, d.step, &d.live, journal::now());
    run.save()?;
    match run.cluster.delete(&path, Some(&d.live), false).await {
        Ok(a) => run.warnings(&what, &a.warnings),
        // Gone meanwhile: it existed before the migration, so rollback still re-creates it.
        Err(e) if e.code() == Some(404) => {
            (run.report)(Event::Notice(format!("{what}: deleted by someone else meanwhile")));
        }
        Err(e) if e.code() == Some(409) => return Err(object_conflict(run, &d.key)),
        Err(e) => return Err(run.api_error(&what, &e)),
    }
    run.journal.mark_applied(id, None, journal::now());
    run.save()?;
    run.outcome.done += 1;
    (run.report)(Event::Done(format!("{} deleted (step {})", d.key, d.step)));
    Ok(())
}

/// An object key the journal or a step file holds that cannot be addressed.
fn bad_key(run: &mut Run<'_>, what: &str, message: String) -> Stop {
    run.outcome.failed += 1;
    (run.report)(Event::Error(format!("{what}: {message}")));
    Stop::Item
}

fn object_conflict(run: &mut Run<'_>, key: &ObjectKey) -> Stop {
    run.outcome.failed += 1;
    (run.report)(Event::Error(format!("{key} changed since it was read; re-run apply")));
    Stop::Item
}

/// What rolling back one journal entry does.
#[derive(Clone, Debug, PartialEq)]
pub enum RollbackAction {
    /// Restore a namespace's labels (or nothing to do, or refused: see [`Rollback`]).
    Labels {
        namespace: String,
        live: BTreeMap<String, String>,
        resource_version: String,
        decision: Rollback,
    },
    /// The namespace no longer exists.
    NamespaceGone { namespace: String },
    /// Delete an object step 3 created (`live`: it as read now, `None` when already gone).
    Delete { key: ObjectKey, live: Option<Value> },
    /// Create again an object step 4 deleted (`exists`: it is there already).
    Recreate { key: ObjectKey, manifest: Value, exists: bool },
}

/// One entry to roll back.
#[derive(Clone, Debug, PartialEq)]
pub struct RollbackItem {
    pub entry: u64,
    pub step: u32,
    pub action: RollbackAction,
}

impl RollbackItem {
    /// Whether rolling back writes anything (and so needs confirmation).
    pub fn writes(&self, force: bool) -> bool {
        match &self.action {
            RollbackAction::Labels { decision: Rollback::Restore(_), .. } => true,
            RollbackAction::Labels { decision: Rollback::Changed { .. }, .. } => force,
            RollbackAction::Labels { decision: Rollback::Nothing, .. }
            | RollbackAction::NamespaceGone { .. } => false,
            RollbackAction::Delete { live, .. } => live.is_some(),
            RollbackAction::Recreate { exists, .. } => !exists,
        }
    }

    pub fn namespace(&self) -> Option<&str> {
        match &self.action {
            RollbackAction::Labels { namespace, .. }
            | RollbackAction::NamespaceGone { namespace } => Some(namespace),
            RollbackAction::Delete { key, .. } | RollbackAction::Recreate { key, .. } => {
                key.namespace()
            }
        }
    }
}

/// A namespace's Pod Security labels before and after.
pub type BeforeAfter = (BTreeMap<String, String>, BTreeMap<String, String>);

/// Per namespace: its Pod Security labels now and after the rollback (with `--force`, refused
/// restores included), for the diff shown before confirmation.
pub fn rollback_label_diffs(items: &[RollbackItem], force: bool) -> BTreeMap<String, BeforeAfter> {
    let mut out: BTreeMap<String, BeforeAfter> = BTreeMap::new();
    for item in items {
        let RollbackAction::Labels { namespace, live, decision, .. } = &item.action else {
            continue;
        };
        let restore = match decision {
            Rollback::Restore(r) => r,
            Rollback::Changed { restore, .. } if force => restore,
            _ => continue,
        };
        let entry = out.entry(namespace.clone()).or_insert_with(|| {
            let before = labels::psa_labels(live);
            (before.clone(), before)
        });
        entry.1 = labels::with_changes(&entry.1, restore);
    }
    out.retain(|_, (a, b)| a != b);
    out
}

/// Reads what a rollback of the journal would do, newest entries first; `only` limits it to
/// one namespace (cluster-scoped objects are then left alone).
pub async fn gather_rollback(
    cluster: &Cluster,
    journal: &Journal,
    only: Option<&str>,
) -> Result<Vec<RollbackItem>, ApiError> {
    let mut items = Vec::new();
    let mut namespaces: BTreeMap<String, Option<LiveNamespace>> = BTreeMap::new();
    // Objects absent now that a newer entry (step 4) creates again before an older one (step 3)
    // deletes them: the delete is shown and done, on the object as re-created.
    let mut recreated: BTreeMap<ObjectKey, Value> = BTreeMap::new();
    for e in journal.to_roll_back() {
        if only.is_some() && e.namespace() != only {
            continue;
        }
        let action = match &e.change {
            Change::Labels { namespace, previous, written, .. } => {
                if !namespaces.contains_key(namespace) {
                    let v = cluster.get(&ObjectRef::namespace(namespace)).await?;
                    namespaces
                        .insert(namespace.clone(), v.as_ref().map(LiveNamespace::from_object));
                }
                match &namespaces[namespace] {
                    None => RollbackAction::NamespaceGone { namespace: namespace.clone() },
                    Some(l) => RollbackAction::Labels {
                        namespace: namespace.clone(),
                        live: l.labels.clone(),
                        resource_version: l.resource_version.clone(),
                        decision: labels::rollback(&l.labels, previous, written),
                    },
                }
            }
            Change::Create { object, .. } => {
                let path = object.target().map_err(|m| decode_error(object, m))?;
                let live = match cluster.get(&path).await? {
                    Some(v) => Some(v),
                    None => recreated.get(object).cloned(),
                };
                RollbackAction::Delete { key: object.clone(), live }
            }
            Change::Delete { object, manifest } => {
                let path = object.target().map_err(|m| decode_error(object, m))?;
                let exists = cluster.get(&path).await?.is_some();
                if !exists {
                    recreated.insert(object.clone(), manifest.clone());
                }
                RollbackAction::Recreate { key: object.clone(), manifest: manifest.clone(), exists }
            }
        };
        items.push(RollbackItem { entry: e.id, step: e.step, action });
    }
    Ok(items)
}

/// Runs a rollback of `items` (from [`gather_rollback`]), in order.
pub async fn run_rollback(
    cluster: &Cluster,
    items: &[RollbackItem],
    journal: &mut Journal,
    journal_path: &Path,
    force: bool,
    report: &mut dyn FnMut(Event),
    progress: &dyn Task,
) -> RunOutcome {
    let mut run = Run {
        cluster,
        chunk_size: DEFAULT_PAGE,
        journal,
        journal_path,
        report,
        outcome: RunOutcome::default(),
    };
    // Each namespace's resourceVersion as it moves with our own writes.
    let mut versions: BTreeMap<String, String> = BTreeMap::new();
    // Objects this rollback created again (undoing step 4), as the server answered: an older
    // entry that created them (step 3) deletes them again, though they were absent when read.
    let mut recreated: BTreeMap<ObjectKey, Value> = BTreeMap::new();
    for item in items {
        let result = match &item.action {
            RollbackAction::Labels { namespace, resource_version, decision, .. } => {
                progress.set_message(namespace);
                let rv =
                    versions.get(namespace).cloned().unwrap_or_else(|| resource_version.clone());
                match restore_labels(&mut run, item, namespace, &rv, decision, force).await {
                    Ok(Some(new_rv)) => {
                        versions.insert(namespace.clone(), new_rv);
                        Ok(())
                    }
                    Ok(None) => Ok(()),
                    Err(s) => Err(s),
                }
            }
            RollbackAction::NamespaceGone { namespace } => {
                (run.report)(Event::Notice(format!(
                    "namespace/{namespace} (step {}): the namespace no longer exists; nothing to restore",
                    item.step
                )));
                run.journal.mark_rolled_back(item.entry, journal::now());
                run.save()
            }
            RollbackAction::Delete { key, live } => {
                progress.set_message(&key.to_string());
                // What this run re-created is newer than what was read before it.
                let live = recreated.get(key).or(live.as_ref());
                undo_create(&mut run, item, key, live).await
            }
            RollbackAction::Recreate { key, manifest, exists } => {
                progress.set_message(&key.to_string());
                match undo_delete(&mut run, item, key, manifest, *exists).await {
                    Ok(Some(body)) => {
                        recreated.insert(key.clone(), body);
                        Ok(())
                    }
                    Ok(None) => Ok(()),
                    Err(s) => Err(s),
                }
            }
        };
        if let Err(Stop::Run) = result {
            return run.outcome;
        }
        progress.inc(1);
    }
    run.outcome
}

/// Restores one label step; returns the namespace's new resourceVersion when it wrote.
async fn restore_labels(
    run: &mut Run<'_>,
    item: &RollbackItem,
    namespace: &str,
    rv: &str,
    decision: &Rollback,
    force: bool,
) -> Result<Option<String>, Stop> {
    let what = format!("namespace/{namespace} (step {})", item.step);
    let restore: &MaybeLabels = match decision {
        Rollback::Nothing => {
            (run.report)(Event::Notice(format!("{what}: labels are already as before apply")));
            run.journal.mark_rolled_back(item.entry, journal::now());
            run.save()?;
            return Ok(None);
        }
        Rollback::Restore(r) => r,
        Rollback::Changed { changed, restore } => {
            let detail: Vec<String> = changed
                .iter()
                .map(|(k, wrote, now)| {
                    format!(
                        "{k}: apply wrote {}, now {}",
                        wrote.as_deref().unwrap_or("(absent)"),
                        now.as_deref().unwrap_or("(absent)")
                    )
                })
                .collect();
            if !force {
                run.outcome.refused += 1;
                (run.report)(Event::Error(format!(
                    "{what}: labels changed since apply ({}); not restored (use --force to restore anyway)",
                    detail.join("; ")
                )));
                return Err(Stop::Item);
            }
            (run.report)(Event::Warning(format!(
                "{what}: labels changed since apply ({}); restoring anyway (--force)",
                detail.join("; ")
            )));
            restore
        }
    };
    let path = ObjectRef::namespace(namespace);
    let patch = labels::merge_patch(restore, rv);
    match run.cluster.patch(&path, PatchKind::Merge, &patch, true).await {
        Ok(a) => run.warnings(&what, &a.warnings),
        Err(e) if e.code() == Some(409) => return Err(rollback_conflict(run, namespace)),
        Err(e) => return Err(run.api_error(&format!("{what}: dry run"), &e)),
    }
    let answer = match run.cluster.patch(&path, PatchKind::Merge, &patch, false).await {
        Ok(a) => a,
        Err(e) if e.code() == Some(409) => return Err(rollback_conflict(run, namespace)),
        Err(e) => return Err(run.api_error(&what, &e)),
    };
    run.warnings(&what, &answer.warnings);
    run.journal.mark_rolled_back(item.entry, journal::now());
    run.save()?;
    run.outcome.done += 1;
    (run.report)(Event::Done(format!(
        "namespace/{namespace} labels restored (step {})",
        item.step
    )));
    Ok(objects::resource_version(&answer.body))
}

fn rollback_conflict(run: &mut Run<'_>, namespace: &str) -> Stop {
    run.outcome.failed += 1;
    (run.report)(Event::Error(format!(
        "namespace {namespace} changed since it was read; re-run rollback"
    )));
    Stop::Item
}

async fn undo_create(
    run: &mut Run<'_>,
    item: &RollbackItem,
    key: &ObjectKey,
    live: Option<&Value>,
) -> Result<(), Stop> {
    let what = format!("{key} (step {})", item.step);
    if live.is_none() {
        (run.report)(Event::Notice(format!("{what}: already absent")));
        run.journal.mark_rolled_back(item.entry, journal::now());
        return run.save();
    }
    let path = key.target().map_err(|m| bad_key(run, &what, m))?;
    for dry_run in [true, false] {
        match run.cluster.delete(&path, live, dry_run).await {
            Ok(a) => run.warnings(&what, &a.warnings),
            Err(e) if e.code() == Some(404) => break,
            Err(e) if e.code() == Some(409) => return Err(object_conflict(run, key)),
            Err(e) => return Err(run.api_error(&what, &e)),
        }
    }
    run.journal.mark_rolled_back(item.entry, journal::now());
    run.save()?;
    run.outcome.done += 1;
    (run.report)(Event::Done(format!("{key} deleted (rollback of step {})", item.step)));
    Ok(())
}

/// Creates again an object step 4 deleted; returns it as the server created it.
async fn undo_delete(
    run: &mut Run<'_>,
    item: &RollbackItem,
    key: &ObjectKey,
    manifest: &Value,
    exists: bool,
) -> Result<Option<Value>, Stop> {
    let what = format!("{key} (step {})", item.step);
    if exists {
        (run.report)(Event::Notice(format!("{what}: exists already; left as it is")));
        run.journal.mark_rolled_back(item.entry, journal::now());
        return run.save().map(|()| None);
    }
    let collection = key.collection_path().map_err(|m| bad_key(run, &what, m))?;
    let body = objects::for_create(manifest);
    let mut created = None;
    for dry_run in [true, false] {
        match run.cluster.create(&collection, &body, dry_run).await {
            Ok(a) => {
                run.warnings(&what, &a.warnings);
                if !dry_run {
                    created = Some(a.body);
                }
            }
            Err(e) if e.code() == Some(409) => {
                (run.report)(Event::Notice(format!("{what}: exists already; left as it is")));
                run.journal.mark_rolled_back(item.entry, journal::now());
                return run.save().map(|()| None);
            }
            Err(e) => return Err(run.api_error(&what, &e)),
        }
    }
    run.journal.mark_rolled_back(item.entry, journal::now());
    run.save()?;
    run.outcome.done += 1;
    (run.report)(Event::Done(format!("{key} re-created (rollback of step {})", item.step)));
    Ok(created.filter(|b| b.is_object()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::planfile::parse;

    fn plan() -> PlanFile {
        parse(
            r#"{"schemaVersion": "psa-migrate.plan/v4", "name": "t", "pspAdmissionActive": true,
                "namespaces": [
                  {"name": "a", "plannedLabels": {"pod-security.kubernetes.io/audit": "baseline",
                     "pod-security.kubernetes.io/enforce": "baseline"}},
                  {"name": "b", "plannedLabels": {"pod-security.kubernetes.io/audit": "baseline"}},
                  {"name": "gone", "plannedLabels": {"pod-security.kubernetes.io/audit": "baseline"}},
                  {"name": "kube-system", "exempt": true}
                ]}"#,
            "plan.json",
        )
        .unwrap()
    }

    fn live(name: &str, pairs: &[(&str, &str)]) -> (String, LiveNamespace) {
        let labels = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        (name.to_owned(), LiveNamespace { labels, resource_version: "7".into() })
    }

    #[test]
    fn label_work_skips_noops_exempt_and_missing() {
        let cluster: BTreeMap<String, LiveNamespace> = [
            live("a", &[("team", "x")]),
            live("b", &[("pod-security.kubernetes.io/audit", "baseline")]),
            live("kube-system", &[]),
        ]
        .into();
        let (work, notices) = label_work(&plan(), &cluster, &[1, 2], None, "cluster");
        assert_eq!(work.len(), 1);
        assert_eq!(work[0].namespace, "a");
        assert_eq!(work[0].changes.iter().map(|c| c.step).collect::<Vec<_>>(), vec![1, 2]);
        let (before, after) = work[0].psa_before_after();
        assert!(before.is_empty());
        assert_eq!(after.len(), 2);
        assert_eq!(
            notices,
            vec![
                "namespace gone is not in the cluster: skipped".to_owned(),
                "namespace kube-system is exempt in the plan: skipped".to_owned()
            ]
        );
        let (work, _) = label_work(&plan(), &cluster, &[2], Some("a"), "cluster");
        assert_eq!(work[0].changes.len(), 1);
        let (work, notices) = label_work(&plan(), &cluster, &[1], Some("zzz"), "cluster");
        assert!(work.is_empty());
        assert_eq!(notices, vec!["namespace zzz is not in the plan".to_owned()]);
        let aw = ApplyWork {
            namespaces: label_work(&plan(), &cluster, &[1, 2], None, "x").0,
            ..ApplyWork::default()
        };
        assert_eq!((aw.changes(), aw.namespaces_touched()), (2, 1));
    }

    #[test]
    fn rollback_diffs_combine_steps() {
        let live_labels: BTreeMap<String, String> = [
            ("pod-security.kubernetes.io/audit".to_owned(), "baseline".to_owned()),
            ("pod-security.kubernetes.io/enforce".to_owned(), "baseline".to_owned()),
            ("team".to_owned(), "x".to_owned()),
        ]
        .into();
        let item = |entry, key: &str| RollbackItem {
            entry,
            step: 1,
            action: RollbackAction::Labels {
                namespace: "a".into(),
                live: live_labels.clone(),
                resource_version: "1".into(),
                decision: Rollback::Restore([(key.to_owned(), None)].into()),
            },
        };
        let items = vec![
            item(2, "pod-security.kubernetes.io/enforce"),
            item(1, "pod-security.kubernetes.io/audit"),
        ];
        let diffs = rollback_label_diffs(&items, false);
        let (before, after) = &diffs["a"];
        assert_eq!(before.len(), 2);
        assert!(after.is_empty());
        assert!(items.iter().all(|i| i.writes(false)));
    }
}
