//! `check` output.

use std::io::{self, Write};

use crate::evaluate::CheckReport;
use crate::model::level::level_version;
use crate::output::text::line;
use crate::output::{Format, Style, write_json, write_yaml};

pub fn render(
    w: &mut dyn Write,
    report: &CheckReport,
    format: Format,
    style: Style,
) -> io::Result<()> {
    match format {
        Format::Json => write_json(w, report),
        Format::Yaml => write_yaml(w, report),
        Format::Text | Format::Wide => {
            text(w, report, style).and_then(|()| unavailable(w, report, style))
        }
        Format::Markdown => markdown(w, report),
    }
}

fn text(w: &mut dyn Write, r: &CheckReport, style: Style) -> io::Result<()> {
    let s = &r.summary;
    match r.level {
        Some(level) => {
            let lv = level_version(level, r.version);
            for res in r.results.iter().filter(|res| !res.allowed) {
                let subject = style.red(&res.subject());
                let text =
                    format!("{subject}: would violate PodSecurity \"{lv}\": {}", res.message);
                line(w, style.width, &text)?;
            }
            let verdict = format!("{} allowed, {} would violate", s.allowed, s.denied);
            let verdict = if s.denied == 0 { style.green(&verdict) } else { style.red(&verdict) };
            let text = format!(
                "{} {} checked against PodSecurity \"{lv}\": {verdict}",
                s.objects,
                objects(s.objects)
            );
            line(w, style.width, &text)
        }
        None => {
            for res in &r.results {
                line(w, style.width, &format!("{}: passes {}", res.subject(), res.passes))?;
            }
            let counts: Vec<String> =
                s.passes.iter().rev().map(|(level, n)| format!("{n} {level}")).collect();
            let text = format!(
                "{} {} checked at {} (no level judged): {}",
                s.objects,
                objects(s.objects),
                r.version,
                counts.join(", ")
            );
            line(w, style.width, &text)
        }
    }
}

/// A closing line naming the kinds that could not be read, so a partial result never looks
/// complete.
fn unavailable(w: &mut dyn Write, r: &CheckReport, style: Style) -> io::Result<()> {
    for u in &r.summary.unavailable {
        let text = format!("not read: {} ({}): {}", u.resource, u.code.reason(), u.message);
        line(w, style.width, &text)?;
    }
    Ok(())
}

fn objects(n: usize) -> &'static str {
    if n == 1 { "object" } else { "objects" }
}

fn markdown(w: &mut dyn Write, r: &CheckReport) -> io::Result<()> {
    writeln!(w, "| Kind | Namespace | Name | Passes | Allowed | Message |")?;
    writeln!(w, "| --- | --- | --- | --- | --- | --- |")?;
    for res in &r.results {
        writeln!(
            w,
            "| {} | {} | {} | {} | {} | {} |",
            res.kind,
            res.namespace,
            match &res.path {
                Some(p) => format!("{} `{p}`", res.name),
                None => res.name.clone(),
            },
            res.passes,
            if res.allowed { "yes" } else { "no" },
            res.message.replace('|', "\\|")
        )?;
    }
    Ok(())
}
