//! The files of a fixes directory: one strategic-merge patch per fixed object
//! (`<namespace>/<kind>-<name>.yaml`), a `kustomization.yaml` per namespace listing them as
//! patches with targets, `patch-commands.sh` with the equivalent `kubectl patch` commands, and
//! `NEEDS-DECISION.md` for the objects no patch can fix. Pure: returns (path, text) pairs.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::json;

use crate::fix::{Fix, FixKind, FixReport, PatchType};

/// The shell script of `kubectl patch` commands.
pub const PATCH_COMMANDS: &str = "patch-commands.sh";
/// The objects that need a person's decision.
pub const NEEDS_DECISION: &str = "NEEDS-DECISION.md";

/// A value in a single-quoted shell word.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

fn patch_file(f: &Fix) -> String {
    let mut out = format!("# Fix for {}", f.object);
    if let Some(l) = &f.level {
        let _ = write!(out, " (passes {l})");
    }
    out.push('\n');
    if let Some(p) = &f.admitted_by {
        let _ =
            writeln!(out, "# Proven: PodSecurityPolicy {p} admits the patched template unchanged.");
    }
    for field in &f.fields {
        let why = match field.kind {
            FixKind::Behaviour => {
                format!("what PSP {} set on its pods", field.psp.as_deref().unwrap_or("?"))
            }
            FixKind::Level => format!(
                "{}; {}",
                field.check.as_deref().unwrap_or_default(),
                field.note.as_deref().unwrap_or_default()
            ),
        };
        let _ = writeln!(out, "# - {} = {}: {why}", field.field, field.value);
    }
    for n in &f.notes {
        let _ = writeln!(out, "# Note: {n}");
    }
    if f.patch_type == PatchType::Json {
        let _ = writeln!(out, "# JSON patch (RFC 6902) operations on {}.", f.api_version);
    }
    out.push_str(&serde_saphyr::to_string(&f.patch).unwrap_or_default());
    out
}

/// The resource `kubectl patch` names: the kind, qualified by its group for custom resources.
fn kubectl_resource(f: &Fix) -> String {
    let kind = f.object.kind.to_ascii_lowercase();
    match (f.patch_type, f.api_version.split_once('/')) {
        (PatchType::Json, Some((group, _))) => format!("{kind}.{group}"),
        _ => kind,
    }
}

/// Every file of the fixes directory, sorted by path.
pub fn render(report: &FixReport) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = Vec::new();
    let mut by_ns: BTreeMap<&str, Vec<&Fix>> = BTreeMap::new();
    let mut commands = String::from(
        "#!/bin/sh\n# The fixes as kubectl patch commands, one per object (strategic merge; JSON patch \
         for custom resources).\nset -eu\n",
    );
    for f in &report.fixes {
        files.push((f.file.clone(), patch_file(f)));
        let dir = f.file.split_once('/').map_or("default", |(d, _)| d);
        by_ns.entry(dir).or_default().push(f);
        let mut body = f.patch.clone();
        if let Some(m) = body.as_object_mut() {
            for k in ["apiVersion", "kind", "metadata"] {
                m.remove(k);
            }
        }
        let scope = match &f.object.namespace {
            Some(ns) => format!(" --namespace {}", shell_quote(ns)),
            None => String::new(),
        };
        let kind = match f.patch_type {
            PatchType::Strategic => "strategic",
            PatchType::Json => "json",
        };
        let _ = writeln!(
            commands,
            "kubectl patch {} {}{scope} --type {kind} --patch {}",
            kubectl_resource(f),
            shell_quote(&f.object.name),
            shell_quote(&body.to_string())
        );
    }
    for (ns, fixes) in by_ns {
        let patches: Vec<_> = fixes
            .iter()
            .map(|f| {
                let mut target = json!({"kind": f.object.kind, "name": f.object.name});
                if let Some(ns) = &f.object.namespace {
                    target["namespace"] = json!(ns);
                }
                if let (PatchType::Json, Some((group, version))) =
                    (f.patch_type, f.api_version.split_once('/'))
                {
                    target["group"] = json!(group);
                    target["version"] = json!(version);
                }
                json!({"path": f.file.rsplit('/').next().unwrap_or(&f.file), "target": target})
            })
            .collect();
        let k = json!({
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "patches": patches,
        });
        let text = format!(
            "# The fixes of namespace {ns} as kustomize patches.\n{}",
            serde_saphyr::to_string(&k).unwrap_or_default()
        );
        files.push((format!("{ns}/kustomization.yaml"), text));
    }
    files.push((PATCH_COMMANDS.to_owned(), commands));
    files.push((NEEDS_DECISION.to_owned(), needs_decision_markdown(report, 1)));
    files.sort();
    files
}

/// The report as Markdown (`fix -o markdown`): each patch and why, then the decisions.
pub fn markdown(report: &FixReport) -> String {
    let mut md = String::from("# Fixes\n\n");
    if report.fixes.is_empty() {
        md.push_str("None.\n");
    }
    for f in &report.fixes {
        let _ = writeln!(md, "- **{}** → `{}`", f.object, f.file);
        for x in &f.fields {
            let why = match x.kind {
                FixKind::Behaviour => format!("what PSP {} set", x.psp.as_deref().unwrap_or("?")),
                FixKind::Level => x.check.clone().unwrap_or_default(),
            };
            let _ = writeln!(md, "  - `{}` = `{}` ({why})", x.field, x.value);
        }
        for n in &f.notes {
            let _ = writeln!(md, "  - note: {n}");
        }
    }
    md.push('\n');
    md.push_str(&needs_decision_markdown(report, 2));
    md
}

/// `NEEDS-DECISION.md`: each object, its reasons and the options, headed at `depth`.
fn needs_decision_markdown(report: &FixReport, depth: usize) -> String {
    let (h, sub) = ("#".repeat(depth), "#".repeat(depth + 1));
    let mut md = format!("{h} Objects that need a decision\n\n");
    if report.needs_decision.is_empty() {
        md.push_str("None: every object that fails its level has a proven patch.\n");
    }
    for d in &report.needs_decision {
        let _ = writeln!(md, "{sub} {} ({})\n", d.object, d.level);
        for r in &d.reasons {
            let _ = writeln!(md, "- {r}");
        }
        if !d.injected.is_empty() {
            let _ = writeln!(
                md,
                "- injected by a webhook (their fix belongs to the injector): {}",
                d.injected.join(", ")
            );
        }
        md.push_str("\nOptions:\n\n");
        for o in &d.options {
            let _ = writeln!(md, "- {o}");
        }
        md.push('\n');
    }
    md
}
