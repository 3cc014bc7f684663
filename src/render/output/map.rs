//! `map` output: one row per PSP with its levels, then per PSP the fields that keep it below
//! restricted, the waived assumptions, the mutating fields and the uncovered restrictions.
//!
//! Also home of the findings table and Markdown escaping the `inventory` renderer shares.

use std::io::{self, Write};

use crate::findings::Finding;
use crate::mapping::{MapReport, PolicyMapping};
use crate::model::level::Level;
use crate::output::text::{line, table};
use crate::output::{Format, Style, write_json, write_yaml};

/// Escapes a Markdown table cell.
pub(crate) fn md(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// Findings as an aligned table (text) under a heading.
pub(crate) fn findings_text(
    w: &mut dyn Write,
    findings: &[Finding],
    style: Style,
) -> io::Result<()> {
    writeln!(w, "{}", style.bold(&format!("Findings ({})", findings.len())))?;
    if findings.is_empty() {
        return writeln!(w, "  none");
    }
    let rows: Vec<Vec<String>> = findings
        .iter()
        .map(|f| {
            vec![
                format!("{:?}", f.severity).to_lowercase(),
                f.code.to_string(),
                f.object.to_string(),
                f.message.clone(),
            ]
        })
        .collect();
    let header = ["SEVERITY", "CODE", "OBJECT", "MESSAGE"];
    table(w, style.width, "  ", &header, &["OBJECT", "MESSAGE"], &rows)
}

/// Findings as a Markdown table under a heading.
pub(crate) fn findings_markdown(w: &mut dyn Write, findings: &[Finding]) -> io::Result<()> {
    writeln!(w, "## Findings\n")?;
    if findings.is_empty() {
        return writeln!(w, "None.");
    }
    writeln!(w, "| Severity | Code | Object | Message |")?;
    writeln!(w, "| --- | --- | --- | --- |")?;
    for f in findings {
        writeln!(
            w,
            "| {} | `{}` | {} | {} |",
            format!("{:?}", f.severity).to_lowercase(),
            f.code,
            md(&f.object.to_string()),
            md(&f.message)
        )?;
    }
    Ok(())
}

/// Renders a `map` report.
pub fn render(
    w: &mut dyn Write,
    report: &MapReport,
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
            sarif::write(w, "map", &entries)
        }
        Format::Junit => {
            let mut cases: Vec<_> = report
                .policies
                .iter()
                .map(|p| junit::Case {
                    suite: "policies".to_owned(),
                    classname: String::new(),
                    name: format!("PodSecurityPolicy {}", p.name),
                    outcome: junit::Outcome::Pass {
                        note: Some(format!(
                            "maps to {} (strict reading: {})",
                            p.level, p.strict_level
                        )),
                    },
                })
                .collect();
            cases.extend(junit::findings("findings", &report.findings, options.fail_on));
            junit::write(w, "psa-migrate map", &cases)
        }
    }
}

fn reading(strict: bool) -> &'static str {
    if strict { "strict" } else { "practical" }
}

/// Reasons that hold the PSP below restricted in the chosen reading.
fn below_restricted(p: &PolicyMapping, strict: bool) -> impl Iterator<Item = (&str, Level, &str)> {
    p.reasons.iter().filter_map(move |r| {
        let l = if strict { r.strict_forces } else { r.forces };
        (l < Level::Restricted).then_some((r.field, l, r.detail.as_str()))
    })
}

fn text(w: &mut dyn Write, r: &MapReport, style: Style) -> io::Result<()> {
    if r.policies.is_empty() {
        writeln!(w, "No PodSecurityPolicies in the input.")?;
        return findings_text(w, &r.findings, style);
    }
    let other = if r.strict { "PRACTICAL" } else { "STRICT" };
    let rows: Vec<Vec<String>> = r
        .policies
        .iter()
        .map(|p| {
            vec![
                p.name.clone(),
                p.api_version.clone(),
                p.level_for(r.strict).to_string(),
                p.level_for(!r.strict).to_string(),
                if p.is_mutating() { "yes".into() } else { "no".into() },
                p.uncovered_fields.len().to_string(),
            ]
        })
        .collect();
    writeln!(w, "{}", style.bold(&format!("PodSecurityPolicies ({} reading)", reading(r.strict))))?;
    let header = ["NAME", "API VERSION", "LEVEL", other, "MUTATING", "UNCOVERED"];
    // The API version is all but always policy/v1beta1: the one column that may give way.
    table(w, style.width, "  ", &header, &["API VERSION"], &rows)?;
    for p in &r.policies {
        writeln!(w)?;
        writeln!(
            w,
            "{}: {} ({}: {})",
            style.bold(&p.name),
            p.level_for(r.strict),
            reading(!r.strict),
            p.level_for(!r.strict)
        )?;
        let reasons: Vec<Vec<String>> = below_restricted(p, r.strict)
            .map(|(f, l, d)| vec![f.to_owned(), l.to_string(), d.to_owned()])
            .collect();
        if reasons.is_empty() {
            writeln!(w, "  every field is within restricted")?;
        } else {
            let header = ["FIELD", "FORCES", "WHY"];
            table(w, style.width, "  ", &header, &["FIELD", "WHY"], &reasons)?;
        }
        if !r.strict && !p.assumptions.is_empty() {
            writeln!(w, "  assumptions (strict reading: privileged):")?;
            for a in &p.assumptions {
                line(w, style.width, &format!("    {}: {}", a.field, a.detail))?;
            }
        }
        if !p.mutating_fields.is_empty() {
            writeln!(w, "  mutating fields:")?;
            for m in &p.mutating_fields {
                line(w, style.width, &format!("    {}: {}", m.field, m.detail))?;
            }
        }
        if !p.uncovered_fields.is_empty() {
            writeln!(w, "  not expressible in PSS:")?;
            for u in &p.uncovered_fields {
                line(w, style.width, &format!("    {}: {}", u.field, u.detail))?;
            }
        }
    }
    if !r.findings.is_empty() {
        writeln!(w)?;
        findings_text(w, &r.findings, style)?;
    }
    Ok(())
}

fn markdown(w: &mut dyn Write, r: &MapReport) -> io::Result<()> {
    writeln!(w, "# PodSecurityPolicy → Pod Security Standards ({} reading)\n", reading(r.strict))?;
    let other = if r.strict { "Practical" } else { "Strict" };
    writeln!(w, "| PSP | API version | Level | {other} | Mutating | Uncovered |")?;
    writeln!(w, "| --- | --- | --- | --- | --- | --- |")?;
    for p in &r.policies {
        writeln!(
            w,
            "| {} | {} | {} | {} | {} | {} |",
            md(&p.name),
            md(&p.api_version),
            p.level_for(r.strict),
            p.level_for(!r.strict),
            if p.is_mutating() { "yes" } else { "no" },
            p.uncovered_fields.len()
        )?;
    }
    for p in &r.policies {
        writeln!(w, "\n## {}: {}\n", md(&p.name), p.level_for(r.strict))?;
        let reasons: Vec<_> = below_restricted(p, r.strict).collect();
        if reasons.is_empty() {
            writeln!(w, "Every field is within restricted.")?;
        } else {
            writeln!(w, "| Field | Forces | Why |")?;
            writeln!(w, "| --- | --- | --- |")?;
            for (f, l, d) in reasons {
                writeln!(w, "| `{}` | {} | {} |", md(f), l, md(d))?;
            }
        }
        let sections = [
            (
                "Assumptions (strict reading: privileged)",
                if r.strict { &[][..] } else { &p.assumptions[..] },
            ),
            ("Mutating fields", &p.mutating_fields[..]),
            ("Not expressible in PSS", &p.uncovered_fields[..]),
        ];
        for (title, notes) in sections {
            if notes.is_empty() {
                continue;
            }
            writeln!(w, "\n{title}:\n")?;
            for n in notes {
                writeln!(w, "- `{}`: {}", n.field, md(&n.detail))?;
            }
        }
    }
    if !r.findings.is_empty() {
        writeln!(w)?;
        findings_markdown(w, &r.findings)?;
    }
    Ok(())
}
