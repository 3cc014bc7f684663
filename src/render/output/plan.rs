//! `plan` output: a text table for the terminal, and the Markdown report for reviewers.

use std::fmt::Write as _;
use std::io::{self, Write};

use crate::output::text::{line, table};
use crate::output::{Format, Style, write_json, write_yaml};
use crate::plan::{CoverageStatus, NamespacePlan, Plan, count};

fn coverage_word(c: CoverageStatus) -> &'static str {
    match c {
        CoverageStatus::Complete => "complete",
        CoverageStatus::Partial => "partial",
    }
}

fn coverage_sentence(plan: &Plan) -> String {
    if plan.coverage == CoverageStatus::Partial {
        let partial =
            plan.namespaces.iter().filter(|n| n.coverage.status == CoverageStatus::Partial).count();
        return format!(
            "For {} the input does not prove that every pod, workload, RBAC object and PSP was \
             read, so the plan may reject what runs or forget what PSP allowed there; `apply` \
             refuses those namespaces without `--force`. Plan from the live cluster or a \
             `psa-migrate export`, or pass `--assume-complete` when the input is a full dump.",
            count(partial, "namespace", "namespaces")
        );
    }
    if plan.namespaces.iter().any(|n| n.coverage.assumed) {
        "The input was declared complete with `--assume-complete`.".to_owned()
    } else {
        "Every planned namespace's pods, workloads, RBAC objects and PSPs were listed.".to_owned()
    }
}

fn psp_level_text(l: Option<crate::model::level::Level>) -> String {
    l.map_or_else(|| "none".to_owned(), |l| l.to_string())
}

/// The plan's blocking objects (they fail the planned audit level, so enforce cannot be
/// raised to it yet) and its findings.
fn sarif_entries(
    plan: &Plan,
    options: &crate::output::Options,
) -> Vec<crate::output::sarif::Entry> {
    use crate::output::sarif::{Entry, Place};
    let mut entries = Vec::new();
    for n in &plan.namespaces {
        for b in &n.blocking {
            let object = crate::findings::ObjectRef {
                path: b.path.clone(),
                ..crate::findings::ObjectRef::new(&b.kind, Some(&n.name), &b.name)
            };
            let place = options.locator.find(&object).map_or_else(Place::default, Place::of);
            entries.push(Entry {
                rule: crate::findings::Code::PssLevelDenied.as_str().to_owned(),
                severity: crate::findings::Severity::Warning,
                message: format!(
                    "{object}: blocks enforcing {}:{} (enforce stays {}:{}): {}",
                    n.audit, n.audit_version, n.enforce, n.enforce_version, b.message
                ),
                object: Some(object),
                place,
                suppressed: None,
            });
        }
    }
    entries.extend(plan.findings.iter().map(|f| Entry::finding(f, &options.locator)));
    entries
}

/// One test case per planned namespace: failed when objects block its audit level or a
/// finding about it reaches `--fail-on`; exempt namespaces are skipped.
fn junit_cases(plan: &Plan, options: &crate::output::Options) -> Vec<crate::output::junit::Case> {
    use crate::output::junit::{Case, Outcome};
    let mut cases: Vec<Case> = plan
        .namespaces
        .iter()
        .map(|n| {
            let labels: Vec<String> =
                n.planned_labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let findings: Vec<&crate::findings::Finding> = plan
                .findings
                .iter()
                .filter(|f| {
                    f.object.namespace.as_deref() == Some(n.name.as_str())
                        || (f.object.kind == "Namespace" && f.object.name == n.name)
                })
                .filter(|f| f.severity >= options.fail_on)
                .collect();
            let outcome = if n.exempt {
                Outcome::Skip { message: "exempt (--exempt-namespace)".to_owned() }
            } else if !n.blocking.is_empty() || !findings.is_empty() {
                let mut detail: String =
                    n.blocking.iter().map(|b| format!("{}: {}\n", b.what(), b.message)).collect();
                detail.extend(
                    findings.iter().map(|f| format!("{} [{}]: {}\n", f.object, f.code, f.message)),
                );
                let message = if n.blocking.is_empty() {
                    count(findings.len(), "finding", "findings")
                } else {
                    format!(
                        "{} to fix before enforce can be raised to {}:{}",
                        count(n.blocking.len(), "object", "objects"),
                        n.audit,
                        n.audit_version
                    )
                };
                let kind =
                    if n.blocking.is_empty() { findings[0].code.as_str() } else { "blocking" };
                Outcome::Fail { kind: kind.to_owned(), message, detail }
            } else {
                Outcome::Pass { note: Some(labels.join("\n")) }
            };
            Case {
                suite: "namespaces".to_owned(),
                classname: n.name.clone(),
                name: format!("Namespace {}", n.name),
                outcome,
            }
        })
        .collect();
    let planned = |f: &&crate::findings::Finding| {
        !plan.namespaces.iter().any(|n| {
            f.object.namespace.as_deref() == Some(n.name.as_str())
                || (f.object.kind == "Namespace" && f.object.name == n.name)
        })
    };
    let others: Vec<crate::findings::Finding> =
        plan.findings.iter().filter(planned).cloned().collect();
    cases.extend(crate::output::junit::findings("findings", &others, options.fail_on));
    cases
}

/// Renders the plan to stdout in the chosen format.
pub fn render(
    w: &mut dyn Write,
    plan: &Plan,
    dir: &str,
    format: Format,
    style: Style,
    options: &crate::output::Options,
) -> io::Result<()> {
    match format {
        Format::Sarif => crate::output::sarif::write(w, "plan", &sarif_entries(plan, options)),
        Format::Junit => {
            crate::output::junit::write(w, "psa-migrate plan", &junit_cases(plan, options))
        }
        Format::Json => write_json(w, plan),
        Format::Yaml => write_yaml(w, plan),
        Format::Markdown => w.write_all(report_markdown(plan).as_bytes()),
        Format::Text | Format::Wide => {
            namespace_table(w, plan, style)?;
            let blocking: usize = plan.namespaces.iter().map(|n| n.blocking.len()).sum();
            let summary = format!(
                "Plan {:?} (enforce pinned to {}) written to {dir}: {}, {} to fix before tightening, {}.",
                plan.name,
                plan.cluster_version,
                count(plan.namespaces.len(), "namespace", "namespaces"),
                count(blocking, "object", "objects"),
                count(plan.findings.len(), "finding", "findings"),
            );
            writeln!(w)?;
            line(w, style.width, &summary)?;
            let safe = safe_after_fixes(plan, |n| format!("{} ({})", n.name, n.audit));
            if !safe.is_empty() {
                let text = format!(
                    "Safe to tighten once the patches in {dir}/fixes are applied: {}.",
                    safe.join(", ")
                );
                line(w, style.width, &text)?;
            }
            for warning in warnings(plan) {
                line(w, style.width, &warning)?;
            }
            Ok(())
        }
    }
}

/// What a reviewer must not miss, one line each: partial coverage, loosened namespaces,
/// namespaces left out, an unknown cluster version.
fn warnings(plan: &Plan) -> Vec<String> {
    let mut out = Vec::new();
    let partial: Vec<&str> = plan
        .namespaces
        .iter()
        .filter(|n| n.coverage.status == CoverageStatus::Partial)
        .map(|n| n.name.as_str())
        .collect();
    if !partial.is_empty() {
        out.push(format!(
            "Coverage is partial for {}: the input does not prove every pod, workload, RBAC object and \
             PSP was read ({}); apply refuses them without --force. Plan from a live cluster or a \
             `psa-migrate export`, or pass --assume-complete if the input is a full dump.",
            count(partial.len(), "namespace", "namespaces"),
            partial.join(", ")
        ));
    }
    let loosened: Vec<String> = plan
        .namespaces
        .iter()
        .filter(|n| n.loosens)
        .map(|n| format!("{} ({} < {})", n.name, n.enforce, n.pods_level))
        .collect();
    if !loosened.is_empty() {
        out.push(format!(
            "Loosens: enforce is less restrictive than what runs already passes in {}: {}; \
             --tighten enforces podsLevel there.",
            count(loosened.len(), "namespace", "namespaces"),
            loosened.join(", ")
        ));
    }
    if !plan.not_planned.is_empty() {
        let names: Vec<&str> = plan.not_planned.iter().map(|n| n.name.as_str()).collect();
        out.push(format!(
            "Not planned ({} the input refers to without holding its Namespace object): {}.",
            count(names.len(), "namespace", "namespaces"),
            names.join(", ")
        ));
    }
    if !plan.cluster_version_known {
        out.push(
            "The cluster version is unknown: enforce is pinned to `latest`, which moves with every \
             upgrade. Pass --cluster-version vX.Y (the cluster's minor version)."
                .to_owned(),
        );
    }
    out
}

/// The per-namespace table, aligned for a terminal. A level is shown with its version only
/// where that is not the usual one (enforce pinned to the cluster's version, audit and warn at
/// `latest`; privileged is the same at every version), which keeps the table within 80 columns;
/// the line under it says so. Only namespace names shrink on a narrower terminal.
fn namespace_table(w: &mut dyn Write, plan: &Plan, style: Style) -> io::Result<()> {
    use crate::model::level::{Level, Version};
    let header =
        ["NAMESPACE", "PSP LEVEL", "PODS LEVEL", "ENFORCE", "AUDIT/WARN", "FIX", "COVERAGE"];
    let shown = |level: Level, version: Version, usual: Version| {
        if level == Level::Privileged || version == usual {
            level.to_string()
        } else {
            format!("{level}:{version}")
        }
    };
    let rows: Vec<Vec<String>> = plan
        .namespaces
        .iter()
        .map(|n| {
            let enforce = if n.exempt {
                "exempt".to_owned()
            } else {
                shown(n.enforce, n.enforce_version, plan.cluster_version)
            };
            vec![
                n.name.clone(),
                psp_level_text(n.psp_level),
                n.pods_level.to_string(),
                enforce,
                shown(n.audit, n.audit_version, Version::Latest),
                n.blocking.len().to_string(),
                coverage_text(n),
            ]
        })
        .collect();
    table(w, style.width, "", &header, &["NAMESPACE"], &rows)?;
    let legend = format!(
        "(enforce at {}, audit and warn at latest, unless a version is shown; FIX: objects to fix \
         before enforce can be raised to the audit level)",
        plan.cluster_version
    );
    line(w, style.width, &legend)
}

fn coverage_text(n: &NamespacePlan) -> String {
    match (n.coverage.status, n.coverage.assumed) {
        (CoverageStatus::Partial, _) => "partial".to_owned(),
        (CoverageStatus::Complete, true) => "assumed".to_owned(),
        (CoverageStatus::Complete, false) => "complete".to_owned(),
    }
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|")
}

/// `REPORT.md`: what a reviewer needs to approve the migration.
pub fn report_markdown(plan: &Plan) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# Pod Security migration plan: {}\n", plan.name);
    let _ = writeln!(
        o,
        "Enforce labels are pinned to `{}`; audit and warn use `latest`, so what breaks on upgrade shows \
         as warnings now. PSP admission {}.\n",
        plan.cluster_version,
        if plan.psp_admission_active {
            "is still active: step 3 bypasses it per namespace"
        } else {
            "is not active"
        }
    );
    let _ = writeln!(
        o,
        "**Coverage: {}.** {}\n",
        coverage_word(plan.coverage),
        coverage_sentence(plan)
    );
    for line in warnings(plan).iter().skip(usize::from(plan.coverage == CoverageStatus::Partial)) {
        let _ = writeln!(o, "> **Warning:** {}\n", md_escape(line));
    }
    let loosened: Vec<&NamespacePlan> = plan.namespaces.iter().filter(|n| n.loosens).collect();
    if !loosened.is_empty() {
        o.push_str("## Loosened namespaces\n\n");
        o.push_str(
            "Enforce is less restrictive here than what every live object already passes, because a \
             PSP usable here allowed more. `psa-migrate plan --tighten` enforces the pods level \
             instead; it rejects nothing that runs now, but forbids what the PSP allowed:\n\n",
        );
        for n in loosened {
            let psp_reason = n.reasons.first().map_or("", String::as_str);
            let _ = writeln!(
                o,
                "- **{}**: enforce `{}:{}`; with `--tighten`: `{}:{}` (pods level). {}",
                n.name,
                n.enforce,
                n.enforce_version,
                n.pods_level,
                plan.cluster_version,
                md_escape(psp_reason)
            );
        }
        o.push('\n');
    }
    o.push_str("## Namespaces\n\n");
    o.push_str(
        "| Namespace | PSP level | Pods level | Enforce | Audit | Warn | To fix | Coverage |\n",
    );
    o.push_str("| --- | --- | --- | --- | --- | --- | --- | --- |\n");
    for n in &plan.namespaces {
        let enforce = if n.exempt {
            "exempt".to_owned()
        } else {
            format!("{}:{}", n.enforce, n.enforce_version)
        };
        let _ = writeln!(
            o,
            "| {} | {} | {} | {}{} | {}:{} | {}:{} | {} | {} |",
            n.name,
            psp_level_text(n.psp_level),
            n.pods_level,
            enforce,
            if n.loosens { " (loosens)" } else { "" },
            n.audit,
            n.audit_version,
            n.warn,
            n.warn_version,
            n.blocking.len(),
            match n.coverage.status {
                CoverageStatus::Complete => coverage_text(n),
                CoverageStatus::Partial =>
                    format!("partial: missing {}", n.coverage.missing.join(", ")),
            }
        );
    }
    if !plan.not_planned.is_empty() {
        o.push_str("\n### Not planned\n\nReferenced by the input, but the input holds no Namespace object for them: no labels are planned.\n\n");
        for n in &plan.not_planned {
            let _ = writeln!(o, "- **{}**: {}", n.name, md_escape(&n.reason));
        }
    }
    o.push_str("\n### Why\n\n");
    for n in &plan.namespaces {
        let _ = writeln!(o, "- **{}**: {}", n.name, n.reasons.join("; "));
    }
    o.push_str("\n## PodSecurityPolicies\n\n| PSP | Level | Strict level | Mutating |\n| --- | --- | --- | --- |\n");
    for p in &plan.policies {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} |",
            p.name,
            p.level,
            p.strict_level,
            if p.mutating { "yes" } else { "no" }
        );
    }
    if plan.policies.is_empty() {
        o.push_str("| (none in the input) | | | |\n");
    }
    residual_section(&mut o, plan);
    o.push_str("\n## Objects to fix\n\nLive objects that fail the audit/warn level; fix them before raising enforce.\n\n");
    let fr = &plan.fix_report;
    let _ = writeln!(
        o,
        "`fixes/` holds {} proven patches (strategic merge, with a kustomization per namespace \
         and `fixes/patch-commands.sh`): each makes its object behave as PSP made its pods \
         behave and pass its namespace's audit level, and the PSP admitting today's pods admits \
         it unchanged, so it can roll out before any label changes. Objects that need a \
         decision: {} (`fixes/NEEDS-DECISION.md`).\n",
        fr.fixes.len(),
        fr.needs_decision.len()
    );
    let mut any = false;
    for n in &plan.namespaces {
        for b in &n.blocking {
            any = true;
            let how = fix_link(b);
            let _ = writeln!(
                o,
                "- `{}` {}: would violate PodSecurity \"{}:{}\": {}{how}",
                n.name,
                b.what(),
                n.audit,
                n.audit_version,
                md_escape(&b.message)
            );
        }
    }
    if !any {
        o.push_str("None.\n");
    }
    let safe = safe_after_fixes(plan, |n| format!("`{}` (enforce `{}`)", n.name, n.audit));
    if !safe.is_empty() {
        let _ = writeln!(
            o,
            "\nSafe to tighten once their fixes are applied (every blocking object has a proven \
             patch): {}.",
            safe.join(", ")
        );
    }
    let upgrades: Vec<_> = plan
        .namespaces
        .iter()
        .flat_map(|n| n.breaks_on_upgrade.iter().map(move |b| (n, b)))
        .collect();
    if !upgrades.is_empty() {
        o.push_str(
            "\n## Breaks on upgrade\n\nPass enforce at the pinned version, fail at `latest`.\n\n",
        );
        for (n, b) in upgrades {
            let _ = writeln!(o, "- `{}` {}: {}", n.name, b.what(), md_escape(&b.message));
        }
    }
    let dead: Vec<_> = plan
        .namespaces
        .iter()
        .flat_map(|n| n.dead_objects.iter().filter(|d| !d.message.is_empty()).map(move |d| (n, d)))
        .collect();
    if !dead.is_empty() {
        o.push_str("\n## Objects that run nothing but would be rejected if started\n\n");
        for (n, d) in dead {
            let _ = writeln!(
                o,
                "- `{}` {} (passes {}): {}{}",
                n.name,
                d.what(),
                d.passes,
                md_escape(&d.message),
                fix_link(d)
            );
        }
    }
    if !plan.findings.is_empty() {
        o.push_str("\n## Findings\n\n");
        for f in &plan.findings {
            let _ = writeln!(o, "- `{}` {}: {}", f.code, f.object, f.message);
        }
    }
    o.push_str("\n## Next steps\n\n");
    o.push_str("1. Review this report and `psa-migrate diff --plan <dir>`.\n");
    o.push_str("2. `psa-migrate apply --plan <dir> --step 1` (audit and warn), then soak and fix the objects above.\n");
    o.push_str("3. `psa-migrate apply --plan <dir> --step 2` (enforce; server-side dry-run first, stops on warnings).\n");
    o.push_str("4. Configure the kube-apiserver with `admission-configuration.yaml` for unlabelled namespaces.\n");
    if plan.psp_admission_active {
        o.push_str("5. `psa-migrate apply --plan <dir> --step 3` (PSP bypass per namespace), then disable the PodSecurityPolicy admission plugin.\n");
        o.push_str("6. After a soak, `psa-migrate apply --plan <dir> --step 4` (clean-up).\n");
    } else {
        o.push_str("5. `psa-migrate apply --plan <dir> --step 4` to delete left-over PSP RBAC.\n");
    }
    o.push_str("\nUndo label steps at any time with `psa-migrate rollback --plan <dir>`.\n");
    o
}

/// The namespaces safe to tighten once their fixes are applied, each as `show` puts it.
fn safe_after_fixes(
    plan: &Plan,
    show: impl Fn(&crate::plan::NamespacePlan) -> String,
) -> Vec<String> {
    plan.namespaces.iter().filter(|n| n.safe_after_fixes).map(show).collect()
}

/// ` — fixed by [file](file) (target)`, ` — needs a decision (target): reasons`, or nothing.
fn fix_link(v: &crate::plan::ObjectVerdict) -> String {
    match &v.fix {
        Some(f) => match (f.status, &f.file) {
            (crate::plan::FixStatus::Patched, Some(file)) => {
                format!(" — fixed by [{file}]({file}) ({})", f.target)
            }
            _ => {
                format!(" — needs a decision ({}): {}", f.target, md_escape(&f.reasons.join("; ")))
            }
        },
        None => String::new(),
    }
}

/// "Kept by policy" versus "given up", per namespace, and the PSP-to-policy window.
fn residual_section(o: &mut String, plan: &Plan) {
    let ap = &plan.admission_policies;
    o.push_str("\n## What the enforce level does not keep\n\n");
    if plan.policies.is_empty() {
        o.push_str(
            "The input holds no PodSecurityPolicy: there is nothing for admission policies to \
             keep.\n",
        );
        return;
    }
    match &ap.validating_api_version {
        Some(v) => {
            let _ = writeln!(
                o,
                "Step 5 (`0005-residual-policies.yaml`) keeps these restrictions as \
                 ValidatingAdmissionPolicies (`{v}`, for Kubernetes {}, validationActions {}): a \
                 pod is admitted only when a PSP usable here by its service account or its creator \
                 would have validated it as written. Members of `system:masters` are not \
                 constrained by them (under PSP they could use every PSP of the cluster).{}\n",
                ap.policy_version,
                ap.validation_actions.join(", "),
                if ap.needs_feature_gate {
                    " This version needs the ValidatingAdmissionPolicy feature gate and runtime-config."
                } else {
                    ""
                }
            );
            match (&ap.mutating_api_version, ap.mutating.is_empty()) {
                (Some(m), false) => {
                    let _ = writeln!(
                        o,
                        "Step 6 (`0006-mutation-policies.yaml`) gives each new pod, as \
                         MutatingAdmissionPolicies (`{m}`), the defaults of the PSP the 1.24 \
                         admission plugin would have chosen for it (user and group IDs, \
                         capabilities, privilege escalation, seccomp and AppArmor profiles). Apply \
                         it before step 5: the residual policies judge pods as PSP left them.{}\n",
                        if ap.mutating_needs_feature_gate {
                            " This version needs the MutatingAdmissionPolicy feature gate and \
                             runtime-config."
                        } else {
                            ""
                        }
                    );
                }
                (Some(_), true) => o.push_str(
                    "No PSP usable in the planned namespaces fills in anything: no mutation \
                     policy (step 6) is needed.\n\n",
                ),
                (None, _) => {
                    let _ = writeln!(
                        o,
                        "Kubernetes {} serves no MutatingAdmissionPolicy (1.34 or newer): new pods \
                         no longer get what PSP filled in, and the residual policies reject those \
                         that relied on it (listed below): fix their templates before step 5.\n",
                        ap.policy_version
                    );
                }
            }
            if ap.unprotected_window {
                o.push_str(
                    "> **Unprotected window:** PSP (removed in 1.25) and these policies (from 1.28) \
                     never run in the same release. Between the PSP bypass (step 3) and the upgrade \
                     to a version serving them, the restrictions listed below are enforced by \
                     nothing: keep the bypass short, or cover them with a policy engine \
                     (Kyverno, Gatekeeper) for that time.\n\n",
                );
            }
        }
        None => {
            let _ = writeln!(
                o,
                "Kubernetes {} serves no ValidatingAdmissionPolicy (1.28 or newer is needed): \
                 every restriction listed below is **given up** by this plan. Plan with \
                 `--policy-version v1.30` (or newer) to keep them after an upgrade.\n",
                ap.policy_version
            );
        }
    }
    let kept = ap.validating_api_version.is_some();
    let mut any = false;
    for n in &plan.namespaces {
        if n.dropped_controls.is_empty() {
            continue;
        }
        any = true;
        let how = match (&n.residual_policy, kept, &n.mutation_policy) {
            (Some(r), true, Some(m)) => {
                format!("kept by policy `{}` (defaults by `{}`)", r.policy, m.policy)
            }
            (Some(r), true, None) => format!("kept by policy `{}`", r.policy),
            _ => "given up".to_owned(),
        };
        let _ = writeln!(o, "- **{}** (enforce `{}`), {how}:", n.name, n.enforce);
        for d in &n.dropped_controls {
            let _ = writeln!(o, "  - `{}`: {} ({})", d.control, d.detail, d.psps.join(", "));
        }
    }
    if !any {
        o.push_str("Nothing: the enforce levels keep every restriction of the usable PSPs.\n");
    }
    let rejected: Vec<_> = plan
        .findings
        .iter()
        .filter(|f| f.code == crate::findings::Code::PlanResidualRejectsLive)
        .collect();
    if !rejected.is_empty() {
        o.push_str(
            "\n### Rejected by the residual policies\n\nLive objects that pass their enforce \
             level but not the PSPs' own validation (after the mutation policies, where the \
             target version has them): fix them before step 5.\n\n",
        );
        for f in rejected {
            let _ = writeln!(o, "- {}: {}", f.object, md_escape(&f.message));
        }
    }
}
