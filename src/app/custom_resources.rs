//! `psa-migrate custom-resources`: the registry of custom resource kinds whose pod templates
//! are read. Reads no input and no kubeconfig.

use std::io::Write;

use serde::Serialize;

use crate::app::{AppError, Settings, exit};
use crate::custom::REGISTRY;
use crate::output::text::line;
use crate::output::{Format, write_json, write_yaml};

/// One registry entry as printed.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Row {
    kind: &'static str,
    group: &'static str,
    api_versions: &'static [&'static str],
    resource: String,
    namespaced: bool,
    paths: &'static [&'static str],
    pods: &'static str,
    live: &'static str,
    source: &'static str,
}

fn rows() -> Vec<Row> {
    REGISTRY
        .iter()
        .map(|e| Row {
            kind: e.kind,
            group: e.group,
            api_versions: e.api_versions,
            resource: format!("{}.{}", e.plural, e.group),
            namespaced: e.namespaced,
            paths: e.paths,
            pods: e.pods,
            live: e.live,
            source: e.source,
        })
        .collect()
}

/// Runs `custom-resources`.
pub fn run(settings: &Settings, out: &mut dyn Write) -> Result<u8, AppError> {
    let rows = rows();
    match settings.format {
        Format::Sarif | Format::Junit => {
            return Err(crate::output::unsupported(settings.format).into());
        }
        Format::Json => write_json(out, &rows)?,
        Format::Yaml => write_yaml(out, &rows)?,
        Format::Markdown => {
            writeln!(out, "| Kind | API versions | Pod templates | Live | Source |")?;
            writeln!(out, "| --- | --- | --- | --- | --- |")?;
            for r in &rows {
                let paths: Vec<String> = r.paths.iter().map(|p| format!("`{p}`")).collect();
                writeln!(
                    out,
                    "| {} | {} | {} | {} | {} |",
                    r.kind,
                    r.api_versions.join(", "),
                    paths.join(", "),
                    r.live,
                    r.source
                )?;
            }
        }
        Format::Text | Format::Wide => {
            let width = settings.style.width;
            for r in &rows {
                line(out, width, &format!("{} ({})", r.kind, r.api_versions.join(", ")))?;
                for p in r.paths {
                    line(out, width, &format!("  template: {p}"))?;
                }
                line(out, width, &format!("  pods:     {}", r.pods))?;
                line(out, width, &format!("  live:     {}", r.live))?;
                line(out, width, &format!("  source:   {}", r.source))?;
            }
            line(
                out,
                width,
                "Any other custom resource: every object whose spec holds containers with images \
                 is judged as a pod template (generic).",
            )?;
        }
    }
    Ok(exit::CLEAN)
}
