//! Runs every upstream conformance fixture through the evaluator.
//!
//! Fixtures live at `<level>/v1.<N>/<pass|fail>/<name>.yaml` under `$PSA_CONFORMANCE_DIR`, or by
//! default under `<CARGO_MANIFEST_DIR>/../shared/conformance/pod-security-admission/testdata`.
//! A pass fixture must produce no violation at its level and version; a fail fixture must
//! produce at least one, and the long-form message must contain the substring upstream's
//! harness expects for the fixture's check (derived from the file name) and must not contain
//! `unknown forbidden reason`. Each fixture the API server's defaulting changes is judged a
//! second time, defaulted, with the same expectations. Every mismatch is collected and reported
//! at once.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use psa_migrate::defaulting::default_pod;
use psa_migrate::model::level::{Level, Version};
use psa_migrate::model::pod::{ContainerPort, ObjectMeta, PodSpec};
use psa_migrate::pss::{PodView, evaluate, long_form};
use serde::Deserialize;

/// Files in the copied upstream fixture set (pss-spec §6).
const EXPECTED_FILES: usize = 4537;

#[derive(Deserialize)]
struct PodFile {
    #[serde(default)]
    metadata: ObjectMeta,
    #[serde(default)]
    spec: PodSpec,
}

/// The substring upstream's harness expects in a failure for a file-name prefix (the
/// lower-cased check ID); `None` for prefixes that only name pass fixtures.
fn expected_substring(prefix: &str) -> Option<&'static str> {
    Some(match prefix {
        "allowprivilegeescalation" => "allowPrivilegeEscalation",
        "apparmorprofile" => "forbidden AppArmor profile",
        "capabilities_baseline" => "capabilities",
        "capabilities_restricted" => "unrestricted capabilities",
        "hostnamespaces" => "host namespaces",
        "hostpathvolumes" => "hostPath",
        "hostports" => "hostPort",
        "hostprobesandhostlifecycle" => "probe or lifecycle host",
        "privileged" => "privileged",
        "procmount" | "procmount_restricted" => "procMount",
        "restrictedvolumes" => "restricted volume types",
        "runasnonroot" => "runAsNonRoot",
        "runasuser" => "runAsUser",
        "selinuxoptions" => "seLinuxOptions",
        "seccompprofile_baseline" | "seccompprofile_restricted" => "seccompProfile",
        "sysctls" => "forbidden sysctl",
        "windowshostprocess" => "hostProcess",
        _ => return None,
    })
}

fn default_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/conformance/pod-security-admission/testdata")
}

fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    entries
}

struct Fixture {
    path: PathBuf,
    level: Level,
    minor: u32,
    pass: bool,
    prefix: String,
    pod: PodFile,
}

impl Fixture {
    fn view(&self) -> PodView<'_> {
        PodView { annotations: &self.pod.metadata.annotations, spec: &self.pod.spec }
    }
}

/// Reads every fixture; files that cannot be placed or parsed are reported as mismatches.
fn load(root: &Path, mismatches: &mut Vec<String>) -> Vec<Fixture> {
    let mut fixtures = Vec::new();
    for level_dir in sorted_entries(root) {
        let level_name = level_dir.file_name().unwrap().to_string_lossy().into_owned();
        let Ok(level) = level_name.parse::<Level>() else {
            mismatches.push(format!("{}: unexpected level directory", level_dir.display()));
            continue;
        };
        for version_dir in sorted_entries(&level_dir) {
            let name = version_dir.file_name().unwrap().to_string_lossy().into_owned();
            let Ok(Version::Minor(minor)) = name.parse::<Version>() else {
                mismatches.push(format!("{}: unexpected version directory", version_dir.display()));
                continue;
            };
            for outcome_dir in sorted_entries(&version_dir) {
                let pass = match outcome_dir.file_name().unwrap().to_str() {
                    Some("pass") => true,
                    Some("fail") => false,
                    _ => {
                        mismatches.push(format!("{}: unexpected directory", outcome_dir.display()));
                        continue;
                    }
                };
                for path in sorted_entries(&outcome_dir) {
                    if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
                        continue;
                    }
                    let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
                    let prefix = stem.trim_end_matches(|c: char| c.is_ascii_digit()).to_owned();
                    let text = fs::read_to_string(&path)
                        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
                    match serde_saphyr::from_str::<PodFile>(&text) {
                        Ok(pod) => fixtures.push(Fixture { path, level, minor, pass, prefix, pod }),
                        Err(e) => mismatches.push(format!("{}: parse error: {e}", path.display())),
                    }
                }
            }
        }
    }
    fixtures
}

/// Checks one fixture's verdict (and expected message) for the pod as `view` shows it; `note`
/// is appended to the fixture's name in mismatches.
fn judge(f: &Fixture, view: &PodView<'_>, note: &str, mismatches: &mut Vec<String>) {
    let version = Version::Minor(f.minor);
    let violations = evaluate(f.level, version, view);
    let text = long_form(&violations);
    let at = format!("{}{note} [{}:{version}]", f.path.display(), f.level);
    if f.pass {
        if !violations.is_empty() {
            mismatches.push(format!("{at}: expected pass, got: {text}"));
        }
        // Restricted is a superset of baseline, so a restricted pass is a baseline pass.
        if f.level == Level::Restricted {
            let baseline = evaluate(Level::Baseline, version, view);
            if !baseline.is_empty() {
                mismatches.push(format!(
                    "{at}: passes restricted but fails baseline: {}",
                    long_form(&baseline)
                ));
            }
        }
        return;
    }
    let Some(expected) = expected_substring(&f.prefix) else {
        mismatches.push(format!("{at}: fail fixture with unknown prefix {:?}", f.prefix));
        return;
    };
    if violations.is_empty() {
        mismatches.push(format!("{at}: expected failure containing {expected:?}, got pass"));
    } else if !text.contains(expected) {
        mismatches.push(format!("{at}: expected {expected:?} in: {text}"));
    } else if text.contains("unknown forbidden reason") {
        mismatches.push(format!("{at}: unknown forbidden reason in: {text}"));
    }
}

#[test]
fn upstream_conformance_fixtures() {
    let (root, is_default) = match std::env::var_os("PSA_CONFORMANCE_DIR") {
        Some(dir) => (PathBuf::from(dir), false),
        None => (default_dir(), true),
    };
    if !root.is_dir() {
        let msg = format!(
            "conformance fixtures not found at {} (set PSA_CONFORMANCE_DIR)",
            root.display()
        );
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{msg}");
        }
        eprintln!("\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
        eprintln!("!!! SKIPPING upstream_conformance_fixtures: {msg}");
        eprintln!("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n");
        return;
    }

    let mut mismatches = Vec::new();
    let fixtures = load(&root, &mut mismatches);
    let mut counts: BTreeMap<(Level, bool), usize> = BTreeMap::new();
    let mut defaulting_changed = 0;
    for f in &fixtures {
        *counts.entry((f.level, f.pass)).or_default() += 1;
        judge(f, &f.view(), "", &mut mismatches);
        // Upstream's harness creates the pods through an API server, which defaults them: the
        // defaulting may change a message, never the verdict.
        let mut spec = f.pod.spec.clone();
        default_pod(&f.pod.metadata.annotations, &mut spec);
        if spec != f.pod.spec {
            defaulting_changed += 1;
            let view = PodView { annotations: &f.pod.metadata.annotations, spec: &spec };
            judge(f, &view, " (defaulted)", &mut mismatches);
        }
        // No fixture with hostNetwork declares a port: give each container one, so that the
        // port defaulting is judged too.
        if f.pod.spec.host_network == Some(true) {
            let mut spec = f.pod.spec.clone();
            for c in spec.containers.iter_mut().chain(&mut spec.init_containers) {
                c.ports.push(ContainerPort { container_port: Some(8080), host_port: None });
            }
            default_pod(&f.pod.metadata.annotations, &mut spec);
            let view = PodView { annotations: &f.pod.metadata.annotations, spec: &spec };
            judge(f, &view, " (with a port, defaulted)", &mut mismatches);
            let text = long_form(&evaluate(f.level, Version::Minor(f.minor), &view));
            if !text.contains("hostPort (") {
                mismatches
                    .push(format!("{}: defaulted port not reported: {text}", f.path.display()));
            }
            defaulting_changed += 1;
        }
    }
    eprintln!("conformance: the API server's defaulting changes {defaulting_changed} fixtures");
    assert!(defaulting_changed > 0 || !is_default, "no fixture exercised the defaulting");

    let total = fixtures.len();
    eprintln!("conformance: {total} fixtures parsed from {}", root.display());
    for ((level, pass), n) in &counts {
        eprintln!("  {level} {}: {n}", if *pass { "pass" } else { "fail" });
    }
    assert!(
        mismatches.is_empty(),
        "{} conformance mismatch(es):\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    assert!(total > 0, "no fixtures found under {}", root.display());
    if is_default {
        assert_eq!(total, EXPECTED_FILES, "number of fixture files under {}", root.display());
    }
}
