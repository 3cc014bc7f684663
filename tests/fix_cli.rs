//! `psa-migrate fix` end to end: proven patches for every testdata cluster, reproduced field
//! for field by the real `kubectl patch --local` (`--type strategic`; `--type json` for the
//! templates of custom resources).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::cargo::cargo_bin_cmd;
use psa_migrate::model::inventory::Inventory;
use psa_migrate::source::offline::{OfflineOptions, parse_text};
use serde_json::{Value, json};

use crate::support::tools::on_path;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn cmd() -> assert_cmd::Command {
    let mut c = cargo_bin_cmd!("psa-migrate");
    c.current_dir(repo()).env_remove("NO_COLOR").env("TERM", "dumb");
    c
}

/// Every object of a cluster directory, by kind, namespace and name (List items expanded).
fn objects(dir: &Path) -> BTreeMap<(String, String, String), Value> {
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_none_or(|x| x != "yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for doc in serde_saphyr::from_multiple::<Value>(&text).unwrap() {
            let items = match doc["items"].as_array() {
                Some(items) => items.clone(),
                None => vec![doc],
            };
            for o in items {
                let key = (
                    o["kind"].as_str().unwrap_or_default().to_owned(),
                    o["metadata"]["namespace"].as_str().unwrap_or_default().to_owned(),
                    o["metadata"]["name"].as_str().unwrap_or_default().to_owned(),
                );
                out.insert(key, o);
            }
        }
    }
    out
}

/// The pod template of an object (the one at `path` in a custom resource) as the model reads
/// it, in the shape of `patchedPod`.
fn model_pod(object_json: &str, path: Option<&str>) -> Value {
    let mut inv = Inventory::default();
    let mut errors = Vec::new();
    parse_text(
        object_json,
        "patched.json",
        true,
        &OfflineOptions::default(),
        &mut inv,
        &mut errors,
    );
    assert!(errors.is_empty(), "{errors:?}");
    let o = inv.pod_objects.iter().find(|o| o.path() == path).expect("the template");
    let mut pod = json!({"spec": o.spec.to_api()});
    if !o.pod_annotations().is_empty() {
        pod["metadata"] = json!({"annotations": o.pod_annotations()});
    }
    pod
}

fn fix_report(cluster: &str, out: &Path) -> Value {
    let o = cmd()
        .args(["fix", "-f", &format!("testdata/clusters/{cluster}"), "--level", "restricted"])
        .args(["-o", "json", "--out"])
        .arg(out)
        .output()
        .unwrap();
    assert!(o.status.code() == Some(0) || o.status.code() == Some(1), "{o:?}");
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn kubectl_reproduces_every_patch() {
    let Some(kubectl) = on_path("kubectl") else { return };
    let (mut checked, mut custom) = (0, 0);
    for cluster in ["ml-platform", "legacy-eks", "post-125"] {
        let tmp = tempfile::tempdir().unwrap();
        let report = fix_report(cluster, &tmp.path().join("fixes"));
        assert_eq!(report["schemaVersion"], "psa-migrate.fix/v2");
        let originals = objects(&repo().join("testdata/clusters").join(cluster));
        for f in report["fixes"].as_array().unwrap() {
            let r = &f["object"];
            let key = (
                r["kind"].as_str().unwrap().to_owned(),
                r["namespace"].as_str().unwrap_or_default().to_owned(),
                r["name"].as_str().unwrap().to_owned(),
            );
            let path = r["path"].as_str();
            let patch_type = f["patchType"].as_str().unwrap();
            assert_eq!(
                patch_type == "json",
                path.is_some(),
                "{key:?}: JSON patches for custom resources"
            );
            let original = originals.get(&key).unwrap_or_else(|| panic!("{key:?} not in input"));
            let file = tmp.path().join("original.json");
            std::fs::write(&file, original.to_string()).unwrap();
            let out = std::process::Command::new(&kubectl)
                .env("KUBECONFIG", tmp.path().join("none"))
                .args(["patch", "--local", "--type", patch_type, "-o", "json", "-f"])
                .arg(&file)
                .args(["-p", &f["patch"].to_string()])
                .output()
                .unwrap();
            assert!(out.status.success(), "{key:?}: {}", String::from_utf8_lossy(&out.stderr));
            let patched = model_pod(&String::from_utf8(out.stdout).unwrap(), path);
            custom += usize::from(path.is_some());
            assert_eq!(patched, f["patchedPod"], "{key:?}: kubectl's result differs");
            checked += 1;
        }
    }
    assert!(checked >= 8, "only {checked} fixes checked");
    assert!(custom >= 3, "only {custom} fixes of custom resources checked");
}

#[test]
fn fix_follows_the_plan_and_writes_its_files() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("fixes");
    let o = cmd()
        .args(["fix", "-f", "testdata/clusters/ml-platform", "--plan", "migrations/ml-platform"])
        .args(["-o", "json", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    // Some objects need a decision: exit 1.
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    let fixes = report["fixes"].as_array().unwrap();
    assert!(!fixes.is_empty() && !report["needsDecision"].as_array().unwrap().is_empty());
    // The classic setup: ml-workload-psp's MustRunAsNonRoot, replayed into the CronJob.
    let cron = fixes.iter().find(|f| f["object"]["name"] == "nightly-retrain").unwrap();
    assert_eq!(cron["fields"][0]["psp"], "ml-workload-psp");
    assert_eq!(cron["fields"][0]["kind"], "behaviour");
    // A CronJob's Jobs are fixed through the CronJob; a Job of its own carries the note.
    let named = |n: &str| {
        fixes
            .iter()
            .chain(report["needsDecision"].as_array().unwrap())
            .any(|f| f["object"]["name"] == n)
    };
    assert!(!named("nightly-retrain-28594200") && named("nightly-retrain"));
    let job = fixes.iter().find(|f| f["object"]["name"] == "train-bert-finetune-7").unwrap();
    assert!(job["notes"].to_string().contains("a Job's pod template is immutable"), "{job}");
    for f in fixes {
        let file = out.join(f["file"].as_str().unwrap());
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.starts_with("# Fix for "), "{text}");
        let ns = f["object"]["namespace"].as_str().unwrap();
        let k = std::fs::read_to_string(out.join(ns).join("kustomization.yaml")).unwrap();
        assert!(k.contains(&format!("path: {}", file.file_name().unwrap().to_str().unwrap())));
    }
    let script = std::fs::read_to_string(out.join("patch-commands.sh")).unwrap();
    assert!(script.contains("kubectl patch cronjob 'nightly-retrain' --namespace 'ml-workloads'"));
    let decisions = std::fs::read_to_string(out.join("NEEDS-DECISION.md")).unwrap();
    assert!(
        decisions.contains("## Deployment inference/model-server-canary (baseline:latest)"),
        "{decisions}"
    );
    // Markdown: each patch with why, then the decisions.
    let md = cmd()
        .args(["fix", "-f", "testdata/clusters/ml-platform", "--plan", "migrations/ml-platform"])
        .args(["-o", "markdown", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let md = String::from_utf8(md.stdout).unwrap();
    assert!(md.starts_with("# Fixes\n"), "{md}");
    assert!(
        md.contains("  - `spec.containers[retrain].securityContext.runAsNonRoot` = `true` (what PSP ml-workload-psp set)"),
        "{md}"
    );
    assert!(md.contains("\n## Objects that need a decision\n"), "{md}");
    assert!(md.contains("\n### Deployment inference/model-server-canary"), "{md}");
    // Input that cannot be read writes nothing.
    let none = tmp.path().join("none");
    cmd()
        .args(["fix", "-f", "testdata/no-such-dir", "--level", "restricted", "--out"])
        .arg(&none)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("testdata/no-such-dir: cannot read"));
    assert!(!none.exists());
    // A plan directory that is not one is a usage error.
    cmd()
        .args(["fix", "-f", "testdata/clusters/ml-platform", "--plan", "testdata", "--out"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("cannot read testdata/plan.json"));
}
