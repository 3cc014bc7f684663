//! `admit` output: per object the PSP the admission plugin would choose, what it changes, and
//! every candidate's errors.

use std::io::{self, Write};

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
        Format::Text | Format::Markdown => text(w, report, style),
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
    for r in &report.results {
        let who = format!("as {} (service account {})", r.requester.user, r.service_account);
        match &r.psp {
            Some(psp) if r.mutated => {
                writeln!(w, "{}: admitted by PSP {psp}, which changes it ({who}):", subject(r))?;
                for c in &r.changes {
                    writeln!(w, "    {}: {} -> {}", c.field, c.old, c.new)?;
                }
            }
            Some(psp) => writeln!(w, "{}: admitted by PSP {psp} unchanged ({who})", subject(r))?,
            None if r.candidates.is_empty() => writeln!(
                w,
                "{}: {} ({who}): no PSP is usable by the requester or the service account",
                subject(r),
                style.red("rejected")
            )?,
            None => writeln!(
                w,
                "{}: {} by every usable PSP ({who}):",
                subject(r),
                style.red("rejected")
            )?,
        }
        for (psp, errors) in &r.rejections {
            let tried = if r.psp.is_some() { " (tried first)" } else { "" };
            writeln!(w, "  {psp}{tried}:")?;
            for e in errors {
                writeln!(w, "    {}", e.message)?;
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
