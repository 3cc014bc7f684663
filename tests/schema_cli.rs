//! `psa-migrate schema` end to end, and every JSON document the commands write validated against
//! its schema on every demo cluster; `--help` of every subcommand snapshotted.

use std::path::{Path, PathBuf};

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;

use crate::support::schema::assert_valid;
use crate::support::tools::on_path;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn cmd() -> assert_cmd::Command {
    let mut c = cargo_bin_cmd!("psa-migrate");
    c.current_dir(repo()).env_remove("NO_COLOR").env("TERM", "dumb");
    c
}

/// Runs the binary; returns stdout as JSON after checking the exit code is 0 or 1 (findings).
fn json_of(args: &[&str]) -> Value {
    let out = cmd().args(args).output().unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{args:?}: exit {:?}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{args:?}: not JSON: {e}"))
}

fn clusters() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(repo().join("testdata/clusters"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .map(|p| p.strip_prefix(repo()).unwrap().to_string_lossy().into_owned())
        .collect();
    v.sort();
    assert!(v.len() >= 3, "{v:?}");
    v
}

#[test]
fn every_command_output_validates_on_every_cluster() {
    for dir in clusters() {
        let d = dir.as_str();
        assert_valid("check", &json_of(&["check", "-f", d, "-o", "json"]), &format!("check {d}"));
        let restricted = json_of(&["check", "-f", d, "--level", "restricted", "-o", "json"]);
        assert_valid("check", &restricted, &format!("check --level restricted {d}"));
        let inv = json_of(&["inventory", "-f", d, "-o", "json"]);
        assert_valid("inventory", &inv, &format!("inventory {d}"));
        assert_valid("map", &json_of(&["map", "-f", d, "-o", "json"]), &format!("map {d}"));
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("plan");
        let out_s = out.to_str().unwrap();
        let printed = json_of(&["plan", "-f", d, "--out", out_s, "-o", "json", "-q"]);
        assert_valid("plan", &printed, &format!("plan -o json {d}"));
        assert_valid("plan", &read_json(&out.join("plan.json")), &format!("plan.json of {d}"));
    }
}

#[test]
fn other_inputs_validate() {
    // PSPs of every shape, and inputs with findings about themselves.
    assert_valid("map", &json_of(&["map", "-f", "testdata/psp", "-o", "json"]), "map testdata/psp");
    let inv = json_of(&["inventory", "-f", "testdata/psp", "-o", "json"]);
    assert_valid("inventory", &inv, "inventory testdata/psp");
    // The same pod twice: an input-duplicate-object finding in the check report.
    let tmp = tempfile::tempdir().unwrap();
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop}\n\
               spec: {hostNetwork: true, containers: [{name: app, image: nginx}]}\n";
    let file = tmp.path().join("twice.yaml");
    std::fs::write(&file, format!("{pod}---\n{pod}")).unwrap();
    let check =
        json_of(&["check", "-f", file.to_str().unwrap(), "--level", "baseline", "-o", "json"]);
    assert_eq!(check["findings"][0]["code"], "input-duplicate-object", "{check}");
    assert_valid("check", &check, "check with a duplicate object");
    let out = tmp.path().join("fixes");
    let o = cmd()
        .args(["fix", "-f", "testdata/clusters/ml-platform", "--level", "restricted", "-o", "json"])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let fix: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(!fix["fixes"].as_array().unwrap().is_empty());
    assert_valid("fix", &fix, "fix testdata/clusters/ml-platform");
}

#[test]
fn committed_demo_plan_validates() {
    let plan = read_json(&repo().join("migrations/ml-platform/plan.json"));
    assert_valid("plan", &plan, "migrations/ml-platform/plan.json");
}

/// The schemas are closed: a key the types do not write, e.g. a v1 snake_case one, fails.
#[test]
fn a_snake_case_key_is_invalid() {
    let mut plan = read_json(&repo().join("migrations/ml-platform/plan.json"));
    let ns = plan["namespaces"][0].as_object_mut().unwrap();
    let v = ns.remove("pspLevel").unwrap();
    ns.insert("psp_level".into(), v);
    let schema = crate::support::schema::schema("plan");
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    assert!(!validator.is_valid(&plan));
    let mut v1 = read_json(&repo().join("migrations/ml-platform/plan.json"));
    v1["schemaVersion"] = "psa-migrate.plan/v1".into();
    assert!(!validator.is_valid(&v1));
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

#[test]
fn schema_lists_and_prints_without_reading_anything() {
    // No kubeconfig, no home, no input: nothing is read.
    let bare = |args: &[&str]| {
        let out = cmd()
            .args(args)
            .env("KUBECONFIG", "/nonexistent/kubeconfig")
            .env("HOME", "/nonexistent")
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.stderr.is_empty(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let list = bare(&["schema"]);
    assert_eq!(bare(&["schema", "--list"]), list);
    for (name, version) in [
        ("check", "psa-migrate.check/v4"),
        ("inventory", "psa-migrate.inventory/v3"),
        ("map", "psa-migrate.map/v3"),
        ("plan", "psa-migrate.plan/v4"),
        ("journal", "psa-migrate.journal/v2"),
        ("fix", "psa-migrate.fix/v2"),
    ] {
        assert!(list.lines().any(|l| l.starts_with(name) && l.contains(version)), "{list}");
        let s: Value = serde_json::from_str(&bare(&["schema", name])).unwrap();
        assert_eq!(s["properties"]["schemaVersion"]["const"], version);
        let yaml = bare(&["schema", name, "-o", "yaml"]);
        assert!(yaml.contains(version), "{yaml}");
    }
    cmd().args(["schema", "nope"]).assert().code(2);
    cmd().args(["schema", "plan", "-o", "markdown"]).assert().code(2);
}

/// `--help` of the tool and of every subcommand, reviewed on change.
#[test]
fn help_snapshots() {
    let subcommands = [
        "",
        "check",
        "export",
        "inventory",
        "map",
        "plan",
        "diff",
        "apply",
        "rollback",
        "admit",
        "fix",
        "schema",
    ];
    for sub in subcommands {
        let mut args: Vec<&str> = sub.split_whitespace().collect();
        args.push("--help");
        let out = cmd().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        let name = if sub.is_empty() { "help".to_owned() } else { format!("help_{sub}") };
        insta::assert_snapshot!(name, String::from_utf8(out.stdout).unwrap());
    }
}

/// The bash completions load, and complete subcommands and option values.
#[test]
fn bash_completions_load_and_complete() {
    let Some(bash) = on_path("bash") else { return };
    let script = cmd().args(["completions", "bash"]).output().unwrap();
    assert_eq!(script.status.code(), Some(0));
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("psa-migrate.bash");
    std::fs::write(&file, &script.stdout).unwrap();
    // As bash calls it: the command, the word being completed, the word before it.
    let complete = |words: &str, cword: usize, cur: &str, prev: &str| {
        let out = std::process::Command::new(&bash)
            .arg("-c")
            .arg(format!(
                "source {}; COMP_WORDS=({words}); COMP_CWORD={cword}; _psa__migrate psa-migrate '{cur}' '{prev}'; echo \"${{COMPREPLY[@]}}\"",
                file.display()
            ))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let subs = complete("psa-migrate ch", 1, "ch", "psa-migrate");
    assert_eq!(subs.split_whitespace().collect::<Vec<_>>(), ["check"], "{subs}");
    // After a subcommand: its options, and their values.
    let options = complete("psa-migrate check --excl", 2, "--excl", "check");
    assert_eq!(
        options.split_whitespace().collect::<Vec<_>>(),
        ["--exclude-check", "--exclude"],
        "{options}"
    );
    let levels = complete("psa-migrate check --level ''", 3, "", "--level");
    assert_eq!(
        levels.split_whitespace().collect::<Vec<_>>(),
        ["privileged", "baseline", "restricted"],
        "{levels}"
    );
    let formats = complete("psa-migrate --output ''", 2, "", "--output");
    assert_eq!(
        formats.split_whitespace().collect::<Vec<_>>(),
        ["text", "wide", "json", "yaml", "markdown", "sarif", "junit"]
    );
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let o = cmd().args(["completions", shell]).output().unwrap();
        assert!(o.status.success() && !o.stdout.is_empty(), "{shell}");
    }
    cmd().args(["completions", "tcsh"]).assert().code(2);
}

/// `man` prints the main page and writes one per command; `man -l` renders them.
#[test]
fn man_pages_render() {
    let main = cmd().arg("man").output().unwrap();
    assert_eq!(main.status.code(), Some(0));
    let tmp = tempfile::tempdir().unwrap();
    cmd().args(["man", "--out"]).arg(tmp.path()).assert().code(0);
    let mut pages: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    pages.sort();
    assert!(
        pages.contains(&"psa-migrate.1".to_owned())
            && pages.contains(&"psa-migrate-plan.1".to_owned()),
        "{pages:?}"
    );
    assert!(String::from_utf8(main.stdout).unwrap().contains(".SH SYNOPSIS"));
    let Some(man) = on_path("man") else { return };
    for page in ["psa-migrate.1", "psa-migrate-check.1"] {
        let out = std::process::Command::new(&man)
            .arg("-l")
            .arg(tmp.path().join(page))
            .env("MANPAGER", "cat")
            .env("PAGER", "cat")
            .env("MANWIDTH", "80")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && text.contains("NAME") && text.contains("SYNOPSIS"),
            "{page}: {text}"
        );
    }
    let check = std::fs::read_to_string(tmp.path().join("psa-migrate-check.1")).unwrap();
    assert!(check.contains("level"), "{check}");
}
