//! A broken kubeconfig must never bring its credentials to the terminal: every command that
//! connects, with and without `RUST_LOG=trace`, on kubeconfigs broken in several ways, each
//! holding a token, a password and a client key with marker values. The error names the file
//! and a line, and the exit code is 2.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use assert_cmd::cargo::cargo_bin_cmd;

use crate::support::fake_api::{FakeApi, FakeConfig};

const TOKEN: &str = "tokenMARKER7f3a";
const PASSWORD: &str = "passwordMARKER91c2";
/// The client key's content; the marker is looked for both plain and base64-encoded.
const KEY_PLAIN: &str = "keyMARKERd00d";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn key_data() -> String {
    // Built by hand so the test does not need a base64 crate: "keyMARKERd00d" has 13 bytes;
    // the encoding below is of exactly that text.
    "a2V5TUFSS0VSZDAwZA==".to_owned()
}

fn markers() -> Vec<String> {
    vec![TOKEN.into(), PASSWORD.into(), KEY_PLAIN.into(), key_data()]
}

/// A kubeconfig with a user holding all three secrets; `user_extra` is appended under `user:`,
/// `tail` at the end.
fn kubeconfig(current: &str, key: &str, user_extra: &str, tail: &str) -> String {
    format!(
        "apiVersion: v1
kind: Config
current-context: {current}
clusters:
- name: c
  cluster:
    server: http://127.0.0.1:9
contexts:
- name: main
  context:
    cluster: c
    user: u
users:
- name: u
  user:
    token: {TOKEN}
    username: admin
    password: {PASSWORD}
    client-key-data: {key}
{user_extra}{tail}"
    )
}

/// The broken shapes: (name, files written, KUBECONFIG list or --kubeconfig, the file the
/// error must name).
struct Case {
    name: &'static str,
    files: Vec<(&'static str, String)>,
    /// Files listed in KUBECONFIG; empty: `--kubeconfig` with the first file.
    env_list: Vec<&'static str>,
    names: &'static str,
}

fn cases() -> Vec<Case> {
    let good_key = key_data();
    vec![
        Case {
            name: "yaml syntax error next to the secrets",
            files: vec![(
                "syntax",
                kubeconfig("main", &good_key, "    extra: [unclosed, {\n", "  : : bad\n"),
            )],
            env_list: vec![],
            names: "syntax",
        },
        Case {
            name: "wrong type",
            files: vec![(
                "wrongtype",
                kubeconfig("main", &good_key, "", "")
                    .replace(&format!("token: {TOKEN}"), &format!("token: [{TOKEN}]")),
            )],
            env_list: vec![],
            names: "wrongtype",
        },
        Case {
            name: "invalid base64 in client-key-data",
            files: vec![("badkey", kubeconfig("main", &format!("{KEY_PLAIN}!!"), "", ""))],
            env_list: vec![],
            names: "badkey",
        },
        Case {
            name: "missing context",
            files: vec![("nocontext", kubeconfig("ghost", &good_key, "", ""))],
            env_list: vec![],
            names: "nocontext",
        },
        Case {
            name: "merged KUBECONFIG list with one broken file",
            files: vec![
                ("first", kubeconfig("main", &good_key, "", "")),
                ("second", kubeconfig("main", &good_key, "", "users: {{\n")),
            ],
            env_list: vec!["first", "second"],
            names: "second",
        },
    ]
}

/// Every command that connects, with what it needs (a plan directory for the plan commands).
fn commands(plan: &Path) -> Vec<Vec<String>> {
    let p = plan.display().to_string();
    let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    vec![
        v(&["check"]),
        v(&["inventory"]),
        v(&["map"]),
        v(&["export", "--out", &format!("{p}-export")]),
        v(&["plan", "--out", &format!("{p}-new")]),
        v(&["diff", "--plan", &p]),
        v(&["apply", "--plan", &p, "--yes"]),
        v(&["rollback", "--plan", &p, "--yes"]),
    ]
}

/// A plan of the demo cluster, applied once against the fake so that rollback has a journal.
fn plan_with_journal(dir: &Path) -> PathBuf {
    let plan = dir.join("plan");
    let fixture = repo().join("testdata/clusters/ml-platform");
    let out = cargo_bin_cmd!("psa-migrate")
        .args(["plan", "-q", "-f"])
        .arg(&fixture)
        .arg("--out")
        .arg(&plan)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let api = FakeApi::start(FakeConfig::new().dir(&fixture).version("1.24"));
    let kc = dir.join("fake-kubeconfig");
    api.kubeconfig(&kc).unwrap();
    let out = cargo_bin_cmd!("psa-migrate")
        .env_remove("KUBECONFIG")
        .args(["apply", "--step", "1", "--yes", "--plan"])
        .arg(&plan)
        .arg("--kubeconfig")
        .arg(&kc)
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(plan.join("journal.json").exists());
    plan
}

fn run(dir: &Path, case: &Case, args: &[String], trace: bool) -> Output {
    let mut c = cargo_bin_cmd!("psa-migrate");
    c.env_remove("KUBECONFIG").env("HOME", dir).env("TERM", "dumb").args(args);
    if case.env_list.is_empty() {
        c.arg("--kubeconfig").arg(dir.join(case.files[0].0));
    } else {
        let list = std::env::join_paths(case.env_list.iter().map(|f| dir.join(f))).unwrap();
        c.env("KUBECONFIG", list);
    }
    if trace {
        c.env("RUST_LOG", "trace");
    } else {
        c.env_remove("RUST_LOG");
    }
    c.timeout(Duration::from_secs(60)).output().unwrap()
}

#[test]
fn broken_kubeconfigs_never_print_credentials() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let plan = plan_with_journal(dir);
    for case in cases() {
        for (name, text) in &case.files {
            std::fs::write(dir.join(name), text).unwrap();
        }
        for args in commands(&plan) {
            for trace in [false, true] {
                let out = run(dir, &case, &args, trace);
                let stdout = String::from_utf8_lossy(&out.stdout);
                let stderr = String::from_utf8_lossy(&out.stderr);
                let what = format!(
                    "{} / {args:?} / trace={trace}\nstdout:\n{stdout}\nstderr:\n{stderr}",
                    case.name
                );
                for m in markers() {
                    assert!(!stdout.contains(&m) && !stderr.contains(&m), "{m} printed: {what}");
                }
                assert_eq!(out.status.code(), Some(2), "{what}");
                let file = dir.join(case.names).display().to_string();
                let named_line = stderr.lines().any(|l| {
                    l.find(&format!("{file}:")).is_some_and(|i| {
                        l[i + file.len() + 1..].starts_with(|c: char| c.is_ascii_digit())
                    })
                });
                assert!(named_line, "no {file}:LINE in the error: {what}");
            }
        }
    }
}

/// A good kubeconfig passes the checks and reaches the server (here the fake).
#[test]
fn valid_merged_kubeconfig_still_connects() {
    let tmp = tempfile::tempdir().unwrap();
    let api = FakeApi::start(FakeConfig::new().dir(repo().join("testdata/clusters/ml-platform")));
    let kc = tmp.path().join("fake");
    api.kubeconfig(&kc).unwrap();
    let extra = tmp.path().join("extra");
    std::fs::write(&extra, kubeconfig("main", &key_data(), "", "")).unwrap();
    let list = std::env::join_paths([kc, extra, tmp.path().join("absent")]).unwrap();
    let out = cargo_bin_cmd!("psa-migrate")
        .env("KUBECONFIG", list)
        .args(["map", "-q"])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}
