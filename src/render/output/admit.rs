//! `admit` output: per object the PSP the admission plugin would choose, what it changes, and
//! every candidate's errors.

use std::io::{self, Write};

use crate::output::text::line;
use crate::output::{Format, Style, write_json, write_yaml};
use crate::simulate::admit::{AdmitReport, AdmitResult};

pub fn render(
    w: &mut dyn Write,
    report: &AdmitReport,
    format: Format,
    style: Style,
) -> io::Result<()> {
    match format {
        Format::Json => write_json(w, report),
        Format::Yaml => write_yaml(w, report),
        Format::Text | Format::Wide | Format::Markdown => text(w, report, style),
        Format::Sarif | Format::Junit => Err(crate::output::unsupported(format)),
    }
}

fn subject(r: &AdmitResult) -> String {
    match &r.path {
        Some(p) => format!("{} {}/{} {p}", r.kind, r.namespace, r.name),
        None => format!("{} {}/{}", r.kind, r.namespace, r.name),
    }
}

fn text(w: &mut dyn Write, report: &AdmitReport, style: Style) -> io::Result<()> {
    let width = style.width;
    for r in &report.results {
        let who = format!("as {} (service account {})", r.requester.user, r.service_account);
        let head = match &r.psp {
            Some(psp) if r.mutated => format!("admitted by PSP {psp}, which changes it ({who}):"),
            Some(psp) => format!("admitted by PSP {psp} unchanged ({who})"),
            None if r.candidates.is_empty() => format!(
                "{} ({who}): no PSP is usable by the requester or the service account",
                style.red("rejected")
            ),
            None => format!("{} by every usable PSP ({who}):", style.red("rejected")),
        };
        line(w, width, &format!("{}: {head}", subject(r)))?;
        if r.psp.is_some() && r.mutated {
            for c in &r.changes {
                line(w, width, &format!("    {}: {} -> {}", c.field, c.old, c.new))?;
            }
        }
        for (psp, errors) in &r.rejections {
            let tried = if r.psp.is_some() { " (tried first)" } else { "" };
            line(w, width, &format!("  {psp}{tried}:"))?;
            for e in errors {
                line(w, width, &format!("    {}", e.message))?;
            }
        }
    }
    let n = report.results.len();
    writeln!(
        w,
        "{} simulated: {} admitted, {} rejected",
        crate::plan::count(n, "object", "objects"),
        n - report.rejected(),
        report.rejected()
    )
}
