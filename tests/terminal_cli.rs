//! Text output on a terminal fits its width. A test's stdout is a pipe, where text is never
//! shortened, so the binary runs here under a real pseudo-terminal: `script` from util-linux.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use assert_cmd::cargo::cargo_bin_cmd;

use crate::support::tools::on_path;

const INVENTORY: &str = "inventory -q -f testdata/clusters/ml-platform";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The binary's output (stdout and stderr, as a terminal shows them) when run with `args`
/// under a pseudo-terminal with `COLUMNS`; colour codes and carriage returns removed. `None`
/// when `script` is missing (outside CI).
fn on_terminal(args: &str, columns: &str) -> Option<String> {
    let script = on_path("script")?;
    let bin = Path::new(env!("CARGO_BIN_EXE_psa-migrate"));
    let line = format!("'{}' {args}", bin.display());
    let out = Command::new(script)
        .args(["-qec", &line, "/dev/null"])
        .current_dir(repo())
        .env("COLUMNS", columns)
        .env("TERM", "xterm")
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(matches!(out.status.code(), Some(0 | 1)), "{args}: {:?}\n{text}", out.status);
    Some(plain(&text))
}

/// `text` without colour codes and carriage returns.
fn plain(text: &str) -> String {
    let mut out = String::new();
    let mut escape = false;
    for c in text.chars() {
        if escape {
            escape = !c.is_ascii_alphabetic();
        } else if c == '\x1b' {
            escape = true;
        } else if c != '\r' {
            out.push(c);
        }
    }
    out
}

/// The lines longer than `width` characters.
fn longer(text: &str, width: usize) -> Vec<&str> {
    text.lines().filter(|l| l.chars().count() > width).collect()
}

/// The same command through a pipe (the test's stdout), with `COLUMNS` set all the same.
fn piped(args: &str) -> String {
    let out = cargo_bin_cmd!("psa-migrate")
        .args(args.split_whitespace())
        .current_dir(repo())
        .env("COLUMNS", "80")
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn inventory_fits_an_80_column_terminal() {
    let Some(text) = on_terminal(INVENTORY, "80") else { return };
    assert!(text.contains("Grants of use"), "{text}");
    assert_eq!(longer(&text, 80), Vec::<&str>::new(), "{text}");
    assert!(text.contains('…'), "long cells are shortened:\n{text}");
    let Some(check) =
        on_terminal("check -q --level restricted -f testdata/clusters/ml-platform", "80")
    else {
        return;
    };
    assert_eq!(longer(&check, 80), Vec::<&str>::new(), "{check}");
    // The plan's namespace table too (written to a temporary directory).
    let dir = tempfile::tempdir().unwrap();
    let plan = format!(
        "plan -q -f testdata/clusters/ml-platform --out {}",
        dir.path().join("p").display()
    );
    let Some(plan) = on_terminal(&plan, "80") else { return };
    assert!(plan.starts_with("NAMESPACE "), "{plan}");
    assert_eq!(longer(&plan, 80), Vec::<&str>::new(), "{plan}");
}

/// Off a terminal text is whole, COLUMNS or not; `-o wide` is whole on a terminal too.
#[test]
fn a_pipe_and_wide_get_every_line_whole() {
    let whole = piped(INVENTORY);
    assert!(!longer(&whole, 80).is_empty(), "{whole}");
    assert!(!whole.contains('…'), "{whole}");
    let Some(wide) = on_terminal(&format!("{INVENTORY} -o wide"), "80") else { return };
    assert_eq!(wide, whole);
}
