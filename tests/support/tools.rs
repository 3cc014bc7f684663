//! Programs on PATH that some tests drive (kubectl, bash, man).

use std::path::PathBuf;

/// The program `name` on PATH. Missing, it skips the caller with a notice, except under
/// `CI=true`, where a missing program is a broken machine and fails the test.
pub fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    let bin = std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file());
    if bin.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{name} not found on PATH and CI=true"
        );
        eprintln!("NOTICE: {name} not found on PATH; skipping");
    }
    bin
}
