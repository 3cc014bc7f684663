//! `inventory` output: PSPs, grants, per-namespace access and PSP-derived level, pods per
//! admitting PSP, workloads that relied on mutation, clean-up candidates and findings.

use std::io::{self, Write};

use crate::discover::subjects::Principal;
use crate::discover::{InventoryReport, NamespaceAccess, PspUse, Via, group_by_psp};
use crate::model::level::Level;
use crate::output::map::{findings_markdown, findings_text, md};
use crate::output::text::{line, table};
use crate::output::{Format, Style, write_json, write_yaml};

/// Renders an `inventory` report.
pub fn render(
    w: &mut dyn Write,
    report: &InventoryReport,
    format: Format,
    style: Style,
    options: &crate::output::Options,
) -> io::Result<()> {
    use crate::output::{junit, sarif};
    match format {
        Format::Json => write_json(w, report),
        Format::Yaml => write_yaml(w, report),
        Format::Text | Format::Wide => text(w, report, style),
        Format::Markdown => markdown(w, report),
        Format::Sarif => {
            let entries = sarif::reported(&report.findings, &report.diagnostics, &options.locator);
            sarif::write(w, "inventory", &entries)
        }
        Format::Junit => {
            let namespaces = report.namespaces.iter().map(|n| junit::Case {
                suite: "namespaces".to_owned(),
                classname: n.name.clone(),
                name: format!("Namespace {}", n.name),
                outcome: junit::Outcome::Pass {
                    note: Some(format!(
                        "PSP-derived level {}; usable PSPs: {}",
                        level(n.psp_level),
                        psp_names(n)
                    )),
                },
            });
            let mut cases: Vec<_> = namespaces.collect();
            cases.extend(junit::findings("findings", &report.findings, options.fail_on));
            junit::write(w, "psa-migrate inventory", &cases)
        }
    }
}

fn psp_names(n: &crate::discover::NamespaceAccess) -> String {
    let names: Vec<&str> = n.usable_psps.iter().map(|p| p.psp.as_str()).collect();
    if names.is_empty() { "none".to_owned() } else { names.join(", ") }
}

fn level(l: Option<Level>) -> String {
    l.map_or_else(|| "none".into(), |l| l.to_string())
}

fn yes_no(b: bool) -> String {
    if b { "yes".into() } else { "no".into() }
}

fn pods_text(ns: &NamespaceAccess) -> String {
    let mut parts: Vec<String> = ns.pods_by_psp.iter().map(|(p, n)| format!("{p}={n}")).collect();
    if ns.pods_without_psp > 0 {
        parts.push(format!("(none)={}", ns.pods_without_psp));
    }
    if parts.is_empty() { "-".into() } else { parts.join(", ") }
}

fn names(uses: &[PspUse]) -> String {
    if uses.is_empty() {
        return "-".into();
    }
    uses.iter().map(|u| u.psp.as_str()).collect::<Vec<_>>().join(", ")
}

/// The distinct subjects of a PSP's paths.
fn subjects(u: &PspUse) -> String {
    let mut s: Vec<String> = u.via.iter().map(|v| v.subject.to_string()).collect();
    s.sort();
    s.dedup();
    s.join(", ")
}

fn text(w: &mut dyn Write, r: &InventoryReport, style: Style) -> io::Result<()> {
    let width = style.width;
    if let Some(v) = &r.server_version {
        writeln!(w, "Server version: {v}\n")?;
    }
    writeln!(w, "{}", style.bold(&format!("PodSecurityPolicies ({})", r.psps.len())))?;
    if r.psps.is_empty() {
        writeln!(w, "  none")?;
    } else {
        let rows: Vec<Vec<String>> = r
            .psps
            .iter()
            .map(|p| {
                vec![
                    p.name.clone(),
                    p.level.to_string(),
                    p.strict_level.to_string(),
                    yes_no(p.mutating),
                    yes_no(p.granted),
                    p.pods.to_string(),
                ]
            })
            .collect();
        let header = ["NAME", "LEVEL", "STRICT", "MUTATING", "GRANTED", "PODS"];
        table(w, width, "  ", &header, &[], &rows)?;
    }

    writeln!(w, "\n{}", style.bold(&format!("Grants of use ({})", r.grants.len())))?;
    if r.grants.is_empty() {
        writeln!(w, "  none")?;
    } else {
        let rows: Vec<Vec<String>> = r
            .grants
            .iter()
            .map(|g| {
                let mut role = g.role.to_string();
                if let Some(from) = &g.aggregated_from {
                    role.push_str(&format!(" (from {from})"));
                }
                vec![
                    g.psp.clone(),
                    g.binding.to_string(),
                    role,
                    g.subject.to_string(),
                    g.scope.clone().unwrap_or_else(|| "*".into()),
                ]
            })
            .collect();
        let header = ["PSP", "BINDING", "ROLE", "SUBJECT", "IN"];
        table(w, width, "  ", &header, &["BINDING", "ROLE", "SUBJECT"], &rows)?;
    }

    writeln!(w, "\n{}", style.bold(&format!("Namespaces ({})", r.namespaces.len())))?;
    let rows: Vec<Vec<String>> = r
        .namespaces
        .iter()
        .map(|ns| {
            let usable: Vec<&str> = ns.usable_psps.iter().map(|u| u.psp.as_str()).collect();
            vec![
                ns.name.clone(),
                level(ns.psp_level),
                level(ns.psp_strict_level),
                if usable.is_empty() { "-".into() } else { usable.join(", ") },
                pods_text(ns),
            ]
        })
        .collect();
    let header = ["NAMESPACE", "PSP LEVEL", "STRICT", "USABLE PSPS", "PODS BY PSP"];
    table(w, width, "  ", &header, &["USABLE PSPS", "PODS BY PSP"], &rows)?;
    // Grants to named users and other groups made cluster-wide are the same in every
    // namespace: list them once, and per namespace only the namespace-scoped ones.
    let cluster_wide: Vec<&crate::discover::rbac::Grant> = r
        .grants
        .iter()
        .filter(|g| {
            g.scope.is_none()
                && matches!(g.principal, Principal::User { .. } | Principal::Group { .. })
        })
        .collect();
    if !cluster_wide.is_empty() {
        writeln!(w)?;
        line(
            w,
            width,
            "  Usable in every namespace only by named users/groups (pods they create directly):",
        )?;
        for u in group_by_psp(cluster_wide.iter().copied()) {
            line(w, width, &format!("    {}: {}", u.psp, subjects(&u)))?;
        }
    }
    for ns in &r.namespaces {
        let scoped_requesters: Vec<&PspUse> = ns
            .requester_only_psps
            .iter()
            .filter(|u| u.via.iter().any(|v| v.binding.kind == "RoleBinding"))
            .collect();
        if ns.usable_psps.is_empty() && scoped_requesters.is_empty() {
            continue;
        }
        writeln!(
            w,
            "\n  {} (psp level {}, strict {})",
            style.bold(&ns.name),
            level(ns.psp_level),
            level(ns.psp_strict_level)
        )?;
        let mut rows: Vec<Vec<String>> = Vec::new();
        for u in &ns.usable_psps {
            for (i, v) in u.via.iter().enumerate() {
                let (psp, lv) = if i == 0 {
                    (u.psp.clone(), level(u.level))
                } else {
                    (String::new(), String::new())
                };
                rows.push(vec![psp, lv, v.text()]);
            }
        }
        if !rows.is_empty() {
            table(w, width, "    ", &["PSP", "LEVEL", "VIA"], &["VIA"], &rows)?;
        }
        for u in scoped_requesters {
            let vias: Vec<String> =
                u.via.iter().filter(|v| v.binding.kind == "RoleBinding").map(Via::text).collect();
            let text = format!("    only named users/groups: {} via {}", u.psp, vias.join("; "));
            line(w, width, &text)?;
        }
    }

    writeln!(
        w,
        "\n{}",
        style.bold(&format!(
            "Workloads whose pods differ from their template ({})",
            r.mutated_workloads.len()
        ))
    )?;
    if r.mutated_workloads.is_empty() {
        writeln!(w, "  none")?;
    }
    for wl in &r.mutated_workloads {
        let psps: Vec<&str> = wl.psps.iter().map(String::as_str).collect();
        let head = format!(
            "  {} (PSP {}; {} pod{})",
            wl.object(),
            if psps.is_empty() { "-".into() } else { psps.join(", ") },
            wl.pods.len(),
            if wl.pods.len() == 1 { "" } else { "s" }
        );
        line(w, width, &head)?;
        // Identical differences of several pods make one row.
        let mut rows: Vec<(Vec<String>, Vec<&str>)> = Vec::new();
        for p in &wl.pods {
            for d in &p.differences {
                let key = vec![
                    d.field.clone(),
                    d.template.to_string(),
                    d.pod.to_string(),
                    d.psp_field.unwrap_or("-").to_owned(),
                ];
                match rows.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, pods)) => pods.push(&p.name),
                    None => rows.push((key, vec![&p.name])),
                }
            }
        }
        let rows: Vec<Vec<String>> = rows
            .into_iter()
            .map(|(mut k, pods)| {
                let who = if pods.len() == 1 {
                    pods[0].to_owned()
                } else {
                    format!("{} pods", pods.len())
                };
                k.insert(0, who);
                k
            })
            .collect();
        let header = ["POD", "FIELD", "TEMPLATE", "POD VALUE", "PSP FIELD"];
        table(w, width, "    ", &header, &header[1..], &rows)?;
        line(w, width, &format!("    {}", wl.explanation))?;
    }

    let c = &r.cleanup;
    if !c.psp_only_roles.is_empty()
        || !c.psp_only_bindings.is_empty()
        || !c.psp_rules_in_mixed_roles.is_empty()
    {
        writeln!(
            w,
            "\n{}",
            style.bold("RBAC that grants nothing but PSP use (remove after PSP is off)")
        )?;
        for o in c.psp_only_roles.iter().chain(&c.psp_only_bindings) {
            line(w, width, &format!("  {o}"))?;
        }
        for m in &c.psp_rules_in_mixed_roles {
            let rules: Vec<String> = m.rules.iter().map(ToString::to_string).collect();
            let text =
                format!("  {} (only rule {}; the role grants more)", m.role, rules.join(", "));
            line(w, width, &text)?;
        }
    }

    writeln!(w)?;
    crate::output::would_admit::text(w, &r.would_admit, style)?;
    findings_text(w, &r.findings, style)?;
    if !r.ignored_kinds.is_empty() {
        let parts: Vec<String> = r.ignored_kinds.iter().map(|(k, n)| format!("{k}={n}")).collect();
        writeln!(w)?;
        line(w, width, &format!("Ignored kinds: {}", parts.join(", ")))?;
    }
    Ok(())
}

fn markdown(w: &mut dyn Write, r: &InventoryReport) -> io::Result<()> {
    writeln!(w, "# PodSecurityPolicy inventory\n")?;
    if let Some(v) = &r.server_version {
        writeln!(w, "Server version: {v}\n")?;
    }
    writeln!(w, "## PodSecurityPolicies\n")?;
    writeln!(w, "| PSP | Level | Strict | Mutating | Granted | Pods |")?;
    writeln!(w, "| --- | --- | --- | --- | --- | --- |")?;
    for p in &r.psps {
        writeln!(
            w,
            "| {} | {} | {} | {} | {} | {} |",
            md(&p.name),
            p.level,
            p.strict_level,
            yes_no(p.mutating),
            yes_no(p.granted),
            p.pods
        )?;
    }
    writeln!(w, "\n## Grants of use\n")?;
    writeln!(w, "| PSP | Binding | Role | Subject | In |")?;
    writeln!(w, "| --- | --- | --- | --- | --- |")?;
    for g in &r.grants {
        writeln!(
            w,
            "| {} | {} | {} | {} | {} |",
            md(&g.psp),
            md(&g.binding.to_string()),
            md(&g.role.to_string()),
            md(&g.subject.to_string()),
            g.scope.as_deref().unwrap_or("*")
        )?;
    }
    writeln!(w, "\n## Namespaces\n")?;
    writeln!(
        w,
        "| Namespace | PSP level | Strict | Usable PSPs | Every requester | Only named users/groups | Pods by PSP |"
    )?;
    writeln!(w, "| --- | --- | --- | --- | --- | --- | --- |")?;
    for ns in &r.namespaces {
        let usable: Vec<&str> = ns.usable_psps.iter().map(|u| u.psp.as_str()).collect();
        writeln!(
            w,
            "| {} | {} | {} | {} | {} | {} | {} |",
            md(&ns.name),
            level(ns.psp_level),
            level(ns.psp_strict_level),
            if usable.is_empty() { "-".into() } else { md(&usable.join(", ")) },
            md(&names(&ns.every_requester_psps)),
            md(&names(&ns.requester_only_psps)),
            md(&pods_text(ns))
        )?;
    }
    writeln!(w, "\n## Workloads whose pods differ from their template\n")?;
    if r.mutated_workloads.is_empty() {
        writeln!(w, "None.")?;
    }
    for wl in &r.mutated_workloads {
        writeln!(w, "### {}\n", md(&wl.object().to_string()))?;
        writeln!(w, "{}\n", md(&wl.explanation))?;
        writeln!(w, "| Pod | Field | Template | Pod value | PSP field |")?;
        writeln!(w, "| --- | --- | --- | --- | --- |")?;
        for p in &wl.pods {
            for d in &p.differences {
                writeln!(
                    w,
                    "| {} | `{}` | `{}` | `{}` | {} |",
                    md(&p.name),
                    md(&d.field),
                    md(&d.template.to_string()),
                    md(&d.pod.to_string()),
                    d.psp_field.map_or("-".into(), |f| format!("`{}`", md(f)))
                )?;
            }
        }
        writeln!(w)?;
    }
    writeln!(w)?;
    findings_markdown(w, &r.findings)
}
