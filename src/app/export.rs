//! `psa-migrate export --out DIR`: write what was read (live, or from `-f`) as an offline export
//! that `-f DIR` reads back to the same inventory. The file contents come from the pure
//! [`crate::export`]; this module only checks the directory and writes.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use clap::Args;
use serde::Serialize;

use crate::app::{AppError, GlobalArgs, Settings, load_inventory};
use crate::export::{FILE_NAMES, export_files};
use crate::output::{Format, write_json, write_yaml};

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Directory to write (created if missing). It must be empty unless --force is given.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Write into a non-empty directory: export files there are replaced (and ones this export
    /// does not write are removed); other files are left alone.
    #[arg(long)]
    pub force: bool,
}

#[derive(Serialize)]
struct Written<'a> {
    directory: String,
    files: Vec<WrittenFile<'a>>,
}

#[derive(Serialize)]
struct WrittenFile<'a> {
    name: &'a str,
    objects: usize,
}

pub fn run(
    g: &GlobalArgs,
    args: &ExportArgs,
    settings: &Settings,
    out: &mut dyn Write,
) -> Result<u8, AppError> {
    // Check the target before reading a whole cluster.
    check_target(&args.out, args.force)?;
    // Objects are written as read: the API server's defaulting of Pods is applied when the
    // export is read back and judged, not baked into it.
    let raw = GlobalArgs { no_defaulting: true, ..g.clone() };
    let (inv, sink) = load_inventory(&raw)?;
    let files = export_files(&inv).map_err(|e| AppError::Other(e.into()))?;
    fs::create_dir_all(&args.out).map_err(|e| io_context(e, "cannot create", &args.out))?;
    for f in &files {
        let path = args.out.join(f.name);
        fs::write(&path, &f.text).map_err(|e| io_context(e, "cannot write", &path))?;
    }
    if args.force {
        // A stale file from an earlier export (e.g. PSPs that are now unreadable) would be read
        // back as current.
        for name in FILE_NAMES.iter().filter(|n| files.iter().all(|f| f.name != **n)) {
            let path = args.out.join(name);
            match fs::remove_file(&path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => {
                    return Err(io_context(e, "cannot remove", &path));
                }
                _ => {}
            }
        }
    }
    let written = Written {
        directory: args.out.display().to_string(),
        files: files.iter().map(|f| WrittenFile { name: f.name, objects: f.objects }).collect(),
    };
    match settings.format {
        Format::Sarif | Format::Junit => {
            return Err(crate::output::unsupported(settings.format).into());
        }
        Format::Json => write_json(out, &written)?,
        Format::Yaml => write_yaml(out, &written)?,
        Format::Text | Format::Wide | Format::Markdown => {
            for f in &written.files {
                writeln!(
                    out,
                    "{}: {} {}",
                    args.out.join(f.name).display(),
                    f.objects,
                    objects(f.objects)
                )?;
            }
        }
    }
    Ok(sink.exit_code(None))
}

fn objects(n: usize) -> &'static str {
    if n == 1 { "object" } else { "objects" }
}

fn io_context(e: io::Error, what: &str, path: &Path) -> AppError {
    AppError::Other(anyhow::anyhow!("{what} {}: {e}", path.display()))
}

/// The output directory must be missing, or an empty directory, unless `force`.
fn check_target(dir: &Path, force: bool) -> Result<(), AppError> {
    match fs::metadata(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_context(e, "cannot read", dir)),
        Ok(m) if !m.is_dir() => {
            Err(AppError::Usage(format!("--out {}: exists and is not a directory", dir.display())))
        }
        Ok(_) if force => Ok(()),
        Ok(_) => {
            let mut entries = fs::read_dir(dir).map_err(|e| io_context(e, "cannot read", dir))?;
            if entries.next().is_some() {
                return Err(AppError::Usage(format!(
                    "--out {}: the directory is not empty; pass --force to replace the export files in it",
                    dir.display()
                )));
            }
            Ok(())
        }
    }
}
