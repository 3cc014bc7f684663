//! `psa-migrate schema`: the JSON Schema of an output document. Reads no input and no
//! kubeconfig.

/// The documents and their generated schemas (in the app layer: they span every layer).
mod documents;

use std::io::Write;

use clap::Args;

use self::documents::{DOCUMENTS, document};
use crate::app::{AppError, GlobalArgs, Settings, exit};
use crate::output::{Format, write_json, write_yaml};

/// Options of `schema`.
#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// The document; without it, the documents are listed.
    #[arg(value_name = "NAME", value_parser = clap::builder::PossibleValuesParser::new(DOCUMENTS.map(|d| d.name)))]
    pub name: Option<String>,
    /// List the documents and their schema versions.
    #[arg(long, conflicts_with = "name")]
    pub list: bool,
}

/// Runs `schema`: prints one schema (JSON; YAML with `-o yaml`) or the list of documents.
pub fn run(
    _g: &GlobalArgs,
    args: &SchemaArgs,
    settings: &Settings,
    out: &mut dyn Write,
) -> Result<u8, AppError> {
    let Some(name) = args.name.as_deref().filter(|_| !args.list) else {
        for d in &DOCUMENTS {
            writeln!(out, "{:<10} {:<26} {}", d.name, d.schema_version, d.about)?;
        }
        return Ok(exit::CLEAN);
    };
    let doc = document(name).ok_or_else(|| AppError::Usage(format!("no schema named {name}")))?;
    let schema = doc.schema();
    match settings.format {
        Format::Text | Format::Wide | Format::Json => write_json(out, &schema)?,
        Format::Yaml => write_yaml(out, &schema)?,
        Format::Markdown | Format::Sarif | Format::Junit => {
            return Err(AppError::Usage(format!(
                "schema prints JSON or YAML, not {}",
                settings.format.name()
            )));
        }
    }
    Ok(exit::CLEAN)
}
