//! `.psa-migrate.yaml`: a repository's defaults for `check`, so that its policy is stated once.
//!
//! The file is found in the current directory or the nearest parent that has one, or given with
//! `--config PATH`. Flags given on the command line win over it; exclusions add up.
//!
//! ```yaml
//! level: restricted
//! version: v1.33
//! output: sarif
//! failOn: warning
//! summary: true
//! excludeChecks: [hostPorts]
//! exclude:
//!   - DaemonSet/kube-system/*
//! ```

use std::path::{Path, PathBuf};

use clap::ValueEnum;
use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::app::AppError;
use crate::app::inventory::FailOn;
use crate::model::level::{Level, Version};
use crate::output::Format;

/// The file name searched for.
pub const FILE_NAME: &str = ".psa-migrate.yaml";

/// The settings of a config file, checked.
#[derive(Debug, Default)]
pub struct Config {
    /// Where it was read from (`None`: no file).
    pub path: Option<PathBuf>,
    pub level: Option<Level>,
    pub version: Option<Version>,
    pub output: Option<Format>,
    pub fail_on: Option<FailOn>,
    pub summary: Option<bool>,
    pub exclude_checks: Vec<String>,
    pub exclude: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Raw {
    level: Option<Spanned<String>>,
    version: Option<Spanned<String>>,
    output: Option<Spanned<String>>,
    fail_on: Option<Spanned<String>>,
    summary: Option<bool>,
    #[serde(default)]
    exclude_checks: Vec<Spanned<String>>,
    #[serde(default)]
    exclude: Vec<Spanned<String>>,
}

/// The config of this run: the file given, else the one found from `cwd` upward, else none.
pub fn load(given: Option<&Path>, cwd: &Path) -> Result<Config, AppError> {
    let path = match given {
        Some(p) => p.to_path_buf(),
        None => match find(cwd) {
            Some(p) => p,
            None => return Ok(Config::default()),
        },
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| AppError::Usage(format!("cannot read config {}: {e}", path.display())))?;
    parse(&text, &path)
}

/// The nearest `.psa-migrate.yaml` in `dir` or its parents.
pub fn find(dir: &Path) -> Option<PathBuf> {
    dir.ancestors().map(|d| d.join(FILE_NAME)).find(|p| p.is_file())
}

/// Parses and checks a config file's text; errors name the file and line.
pub fn parse(text: &str, path: &Path) -> Result<Config, AppError> {
    let file = path.display();
    let raw: Raw = if text.trim().is_empty() {
        Raw {
            level: None,
            version: None,
            output: None,
            fail_on: None,
            summary: None,
            exclude_checks: Vec::new(),
            exclude: Vec::new(),
        }
    } else {
        serde_saphyr::from_str_with_options(text, serde_saphyr::options! { with_snippet: false })
            .map_err(|e| {
                let at =
                    e.location().map(|l| format!(" (line {}, column {})", l.line(), l.column()));
                let message = e.without_snippet().to_string();
                let message = message.lines().next().unwrap_or_default();
                let message = message.rfind(" at line ").map_or(message, |i| &message[..i]);
                AppError::Usage(format!("config {file}{}: {message}", at.unwrap_or_default()))
            })?
    };
    let field = |name: &str, v: &Spanned<String>, e: String| {
        AppError::Usage(format!("config {file} (line {}): {name}: {e}", v.referenced.line()))
    };
    let level = raw
        .level
        .map(|v| v.value.parse::<Level>().map_err(|e| field("level", &v, e.to_string())))
        .transpose()?;
    let version = raw
        .version
        .map(|v| v.value.parse::<Version>().map_err(|e| field("version", &v, e.to_string())))
        .transpose()?;
    let output = raw
        .output
        .map(|v| Format::from_str(&v.value, false).map_err(|e| field("output", &v, e)))
        .transpose()?;
    let fail_on = raw
        .fail_on
        .map(|v| FailOn::from_str(&v.value, false).map_err(|e| field("failOn", &v, e)))
        .transpose()?;
    // Exclusions are checked where the flags are (one message for both); here only their lines
    // are kept for the message.
    let checks: Vec<String> = raw.exclude_checks.iter().map(|v| v.value.clone()).collect();
    let exclude: Vec<String> = raw.exclude.iter().map(|v| v.value.clone()).collect();
    if let Err(e) = crate::evaluate::Exclusions::parse(&checks, &exclude) {
        let at = raw
            .exclude_checks
            .iter()
            .chain(&raw.exclude)
            .find(|v| e.contains(&format!("{:?}", v.value)))
            .map(|v| format!(" (line {})", v.referenced.line()))
            .unwrap_or_default();
        return Err(AppError::Usage(format!("config {file}{at}: {e}")));
    }
    Ok(Config {
        path: Some(path.to_path_buf()),
        level,
        version,
        output,
        fail_on,
        summary: raw.summary,
        exclude_checks: checks,
        exclude,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str) -> Result<Config, String> {
        parse(text, Path::new("repo/.psa-migrate.yaml")).map_err(|e| e.to_string())
    }

    #[test]
    fn reads_every_setting() {
        let c = parse_text(
            "level: restricted\nversion: v1.33\noutput: sarif\nfailOn: warning\nsummary: true\nexcludeChecks: [hostPorts]\nexclude:\n  - DaemonSet/kube-system/*\n",
        )
        .unwrap();
        assert_eq!(c.level, Some(Level::Restricted));
        assert_eq!(c.version, Some(Version::Minor(33)));
        assert_eq!(c.output, Some(Format::Sarif));
        assert_eq!(c.fail_on, Some(FailOn::Warning));
        assert_eq!(c.summary, Some(true));
        assert_eq!(c.exclude_checks, ["hostPorts"]);
        assert_eq!(c.exclude, ["DaemonSet/kube-system/*"]);
        assert!(parse_text("").unwrap().level.is_none());
        assert!(parse_text("# nothing\n").unwrap().level.is_none());
    }

    #[test]
    fn errors_name_the_file_line_and_field() {
        let e = parse_text("level: restricted\nlevl: baseline\n").unwrap_err();
        assert!(
            e.starts_with("config repo/.psa-migrate.yaml (line 2, column 1): unknown field `levl`"),
            "{e}"
        );
        let e = parse_text("version: v1.33\nlevel: strict\n").unwrap_err();
        assert_eq!(
            e,
            "config repo/.psa-migrate.yaml (line 2): level: must be one of privileged, baseline, restricted"
        );
        let e = parse_text("output: pdf\n").unwrap_err();
        assert!(e.starts_with("config repo/.psa-migrate.yaml (line 1): output: "), "{e}");
        let e = parse_text("exclude:\n  - Deployment/x/y\n  - kube-system/*\n").unwrap_err();
        assert!(e.starts_with("config repo/.psa-migrate.yaml (line 3): invalid --exclude pattern \"kube-system/*\""), "{e}");
        let e = parse_text("excludeChecks: [hostPort]\n").unwrap_err();
        assert!(e.contains("(line 1): unknown check \"hostPort\""), "{e}");
    }

    #[test]
    fn found_in_the_nearest_parent() {
        let dir = tempfile::tempdir().unwrap();
        let deep = dir.path().join("a/b/c");
        std::fs::create_dir_all(&deep).unwrap();
        assert_eq!(find(&deep), None);
        std::fs::write(dir.path().join(FILE_NAME), "level: baseline\n").unwrap();
        std::fs::write(dir.path().join("a").join(FILE_NAME), "level: restricted\n").unwrap();
        assert_eq!(find(&deep), Some(dir.path().join("a").join(FILE_NAME)));
        let c = load(None, &deep).unwrap();
        assert_eq!(c.level, Some(Level::Restricted));
        let c = load(Some(&dir.path().join(FILE_NAME)), &deep).unwrap();
        assert_eq!(c.level, Some(Level::Baseline));
        let e = load(Some(&dir.path().join("missing.yaml")), &deep).unwrap_err();
        assert!(e.to_string().starts_with("cannot read config "), "{e}");
    }
}
