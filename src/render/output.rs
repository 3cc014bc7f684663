//! Rendering of reports: text for people, JSON and YAML for machines. Renderers take a writer and
//! never print themselves.

pub mod admit;
pub mod check;
pub mod inventory;
pub mod junit;
pub mod map;
pub mod plan;
pub mod sarif;
pub mod text;
pub mod would_admit;

use std::io::{self, Write};

use serde::Serialize;

/// Output formats. Not every command supports every format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    // For people; on a terminal, fitted to its width (`Style::width`). (Plain comments: a doc
    // comment on a value would switch all of `--help` to the long layout.)
    Text,
    // Text with nothing shortened, however narrow the terminal.
    Wide,
    Json,
    Yaml,
    Markdown,
    // SARIF 2.1.0 and JUnit XML, for CI (check, inventory, map, plan). Plain comments: a doc
    // comment would turn `--help` into the long form.
    Sarif,
    Junit,
}

impl Format {
    /// The name `-o` takes.
    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Wide => "wide",
            Format::Json => "json",
            Format::Yaml => "yaml",
            Format::Markdown => "markdown",
            Format::Sarif => "sarif",
            Format::Junit => "junit",
        }
    }
}

/// How a report is rendered beyond its format.
#[derive(Debug)]
pub struct Options {
    /// Text (`check --summary`): end with objects by namespace and kind.
    pub summary: bool,
    /// JUnit: findings at or above this (`--fail-on`) fail their test case.
    pub fail_on: crate::findings::Severity,
    /// SARIF: where the objects that findings name were read.
    pub locator: sarif::Locator,
}

/// The error of a renderer asked for a format its command does not print (the app layer
/// refuses such a run before it starts).
pub fn unsupported(format: Format) -> io::Error {
    io::Error::other(format!("this command does not print -o {}", format.name()))
}

impl Format {
    /// Text for people: `text` or `wide` (which differ only in [`Style::width`]).
    pub fn is_text(self) -> bool {
        matches!(self, Format::Text | Format::Wide)
    }
}

/// How text is drawn, decided once from `--color`, `-o` and the terminal.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Style {
    pub color: bool,
    /// The width text must fit (tables shrink their free-text columns, long lines wrap), or
    /// `None`: nothing is shortened.
    pub width: Option<usize>,
}

impl Style {
    pub fn paint(&self, code: &str, text: &str) -> String {
        if self.color { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_owned() }
    }
    pub fn red(&self, text: &str) -> String {
        self.paint("31", text)
    }
    pub fn green(&self, text: &str) -> String {
        self.paint("32", text)
    }
    pub fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }
}

/// Pretty JSON with a trailing newline.
pub fn write_json<T: Serialize>(w: &mut dyn Write, value: &T) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, value)?;
    writeln!(w)
}

/// YAML (kubectl-safe quoting).
pub fn write_yaml<T: Serialize>(w: &mut dyn Write, value: &T) -> io::Result<()> {
    let text = serde_saphyr::to_string(value).map_err(io::Error::other)?;
    w.write_all(text.as_bytes())
}
