//! `plan` output: a text table for the terminal, and the Markdown report for reviewers.

use std::fmt::Write as _;
use std::io::{self, Write};

use crate::output::{Format, write_json, write_yaml};
use crate::plan::Plan;

fn psp_level_text(l: Option<crate::model::level::Level>) -> String {
    l.map_or_else(|| "none".to_owned(), |l| l.to_string())
}

/// Renders the plan to stdout in the chosen format.
pub fn render(w: &mut dyn Write, plan: &Plan, dir: &str, format: Format) -> io::Result<()> {
    match format {
        Format::Json => write_json(w, plan),
        Format::Yaml => write_yaml(w, plan),
        Format::Markdown => w.write_all(report_markdown(plan).as_bytes()),
        Format::Text => {
            w.write_all(namespace_table(plan).as_bytes())?;
            let blocking: usize = plan.namespaces.iter().map(|n| n.blocking.len()).sum();
            writeln!(
                w,
                "\nPlan {:?} (enforce pinned to {}) written to {dir}: {} namespaces, {} objects to fix before tightening, {} findings.",
                plan.name,
                plan.cluster_version,
                plan.namespaces.len(),
                blocking,
                plan.findings.len()
            )
        }
    }
}

/// The per-namespace table, aligned for a terminal.
pub fn namespace_table(plan: &Plan) -> String {
    let mut rows = vec![[
        "NAMESPACE".to_owned(),
        "PSP LEVEL".into(),
        "PODS LEVEL".into(),
        "ENFORCE".into(),
        "AUDIT/WARN".into(),
        "TO FIX".into(),
    ]];
    for n in &plan.namespaces {
        let enforce = if n.exempt {
            "exempt".to_owned()
        } else {
            format!("{}:{}", n.enforce, n.enforce_version)
        };
        rows.push([
            n.name.clone(),
            psp_level_text(n.psp_level),
            n.pods_level.to_string(),
            enforce,
            format!("{}:{}", n.audit, n.audit_version),
            n.blocking.len().to_string(),
        ]);
    }
    let widths: Vec<usize> =
        (0..6).map(|c| rows.iter().map(|r| r[c].len()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for r in &rows {
        let line: Vec<String> =
            r.iter().zip(&widths).map(|(cell, w)| format!("{cell:<w$}")).collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
    }
    out
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
    o.push_str("## Namespaces\n\n");
    o.push_str("| Namespace | PSP level | Pods level | Enforce | Audit | Warn | To fix |\n");
    o.push_str("| --- | --- | --- | --- | --- | --- | --- |\n");
    for n in &plan.namespaces {
        let enforce = if n.exempt {
            "exempt".to_owned()
        } else {
            format!("{}:{}", n.enforce, n.enforce_version)
        };
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {}:{} | {}:{} | {} |",
            n.name,
            psp_level_text(n.psp_level),
            n.pods_level,
            enforce,
            n.audit,
            n.audit_version,
            n.warn,
            n.warn_version,
            n.blocking.len()
        );
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
    o.push_str("\n## Objects to fix\n\nLive objects that fail the audit/warn level; fix them before raising enforce.\n\n");
    let mut any = false;
    for n in &plan.namespaces {
        for b in &n.blocking {
            any = true;
            let _ = writeln!(
                o,
                "- `{}` {} {}: would violate PodSecurity \"{}:{}\": {}",
                n.name,
                b.kind,
                b.name,
                n.audit,
                n.audit_version,
                md_escape(&b.message)
            );
        }
    }
    if !any {
        o.push_str("None.\n");
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
            let _ = writeln!(o, "- `{}` {} {}: {}", n.name, b.kind, b.name, md_escape(&b.message));
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
                "- `{}` {} {} (passes {}): {}",
                n.name,
                d.kind,
                d.name,
                d.passes,
                md_escape(&d.message)
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
