//! `psa-migrate plan` end to end: the committed demo migration, the safety rule on every test
//! cluster, overwrite protection and the JSON shape.

use std::path::{Path, PathBuf};

use assert_cmd::cargo::cargo_bin_cmd;
use predicates::prelude::*;
use serde_json::{Value, json};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn cmd() -> assert_cmd::Command {
    let mut c = cargo_bin_cmd!("psa-migrate");
    c.current_dir(repo()).env_remove("NO_COLOR").env("TERM", "dumb");
    c
}

/// The files below `dir` (relative paths, `fixes/…` included), without the journal.
fn files_in(dir: &Path) -> Vec<String> {
    fn walk(dir: &Path, prefix: &str, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let name = format!("{prefix}{}", e.file_name().to_string_lossy());
            if e.file_type().unwrap().is_dir() {
                walk(&e.path(), &format!("{name}/"), out);
            } else if name != "journal.json" {
                out.push(name);
            }
        }
    }
    let mut names = Vec::new();
    walk(dir, "", &mut names);
    names.sort();
    names
}

/// `psa-migrate plan -f testdata/clusters/ml-platform` regenerates the committed
/// `migrations/ml-platform/` byte for byte.
#[test]
fn committed_demo_migration_is_up_to_date() {
    let out = tempfile::tempdir().unwrap();
    cmd()
        .args(["plan", "-f", "testdata/clusters/ml-platform", "--out"])
        .arg(out.path())
        .assert()
        .code(0);
    let committed = repo().join("migrations/ml-platform");
    assert_eq!(files_in(out.path()), files_in(&committed));
    for name in files_in(&committed) {
        let fresh = std::fs::read_to_string(out.path().join(&name)).unwrap();
        let old = std::fs::read_to_string(committed.join(&name)).unwrap();
        assert!(
            fresh == old,
            "migrations/ml-platform/{name} is stale: run `cargo run -- plan -f testdata/clusters/ml-platform`"
        );
    }
}

/// On every test cluster, the planned enforce level never rejects a live pod or live template,
/// unless an existing (stricter) enforce label is kept, which the plan must then say.
#[test]
fn plan_never_enforces_what_rejects_running_objects() {
    for cluster in ["ml-platform", "legacy-eks", "post-125"] {
        let out = tempfile::tempdir().unwrap();
        let result = cmd()
            .args(["plan", "-o", "json", "-f", &format!("testdata/clusters/{cluster}"), "--out"])
            .arg(out.path())
            .output()
            .unwrap();
        assert_eq!(result.status.code(), Some(0), "{cluster}");
        let plan: serde_json::Value = serde_json::from_slice(&result.stdout).unwrap();
        assert_eq!(plan["schemaVersion"], "psa-migrate.plan/v4");
        for ns in plan["namespaces"].as_array().unwrap() {
            let name = ns["name"].as_str().unwrap();
            let enforce = ns["enforce"].as_str().unwrap();
            let version = ns["enforceVersion"].as_str().unwrap();
            let check = cmd()
                .args(["check", "-o", "json", "-n", name, "--level", enforce, "--version", version])
                .args(["-f", &format!("testdata/clusters/{cluster}")])
                .output()
                .unwrap();
            let report: serde_json::Value = serde_json::from_slice(&check.stdout).unwrap();
            let kept_existing = ns["reasons"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r.as_str().unwrap().starts_with("keeps existing enforce"));
            let live_rejected: Vec<&str> = report["results"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| r["allowed"] == false)
                .filter_map(|r| {
                    let n = r["name"].as_str().unwrap();
                    // Dead objects are reported but never move the plan.
                    let dead = ns["deadObjects"].as_array().unwrap().iter().any(|d| d["name"] == n);
                    (!dead).then_some(n)
                })
                .collect();
            assert!(
                live_rejected.is_empty() || kept_existing,
                "{cluster}/{name}: enforce {enforce}:{version} rejects {live_rejected:?}"
            );
        }
    }
}

#[test]
fn refuses_to_overwrite_a_different_plan_without_force() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("p");
    cmd()
        .args(["plan", "-q", "-f", "testdata/clusters/post-125", "--out"])
        .arg(&dir)
        .assert()
        .code(0);
    // Same input again: identical plan, accepted.
    cmd()
        .args(["plan", "-q", "-f", "testdata/clusters/post-125", "--out"])
        .arg(&dir)
        .assert()
        .code(0);
    cmd()
        .args([
            "plan",
            "-f",
            "testdata/clusters/post-125",
            "--tighten",
            "--cluster-version",
            "v1.30",
            "--out",
        ])
        .arg(&dir)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("holds a different plan"));
    cmd()
        .args([
            "plan",
            "-f",
            "testdata/clusters/post-125",
            "--cluster-version",
            "v1.30",
            "--force",
            "--out",
        ])
        .arg(&dir)
        .assert()
        .code(0);
    let plan = std::fs::read_to_string(dir.join("plan.json")).unwrap();
    assert!(plan.contains("\"clusterVersion\": \"v1.30\""));
    // No PSP admission after 1.25: no bypass step.
    assert!(!dir.join("0003-psp-bypass.yaml").exists());
}

#[test]
fn exemptions_and_controller_finding() {
    let out = tempfile::tempdir().unwrap();
    let result = cmd()
        .args(["plan", "-o", "json", "-f", "testdata/clusters/ml-platform"])
        .args(["--exempt-namespace", "kube-system", "--exempt-user"])
        .arg("system:serviceaccount:kube-system:replicaset-controller")
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    let plan: serde_json::Value = serde_json::from_slice(&result.stdout).unwrap();
    let codes: Vec<&str> =
        plan["findings"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap()).collect();
    assert!(codes.contains(&"plan-exempt-controller-user"), "{codes:?}");
    let ks =
        plan["namespaces"].as_array().unwrap().iter().find(|n| n["name"] == "kube-system").unwrap();
    assert_eq!(ks["exempt"], true);
    let steps = std::fs::read_to_string(out.path().join("0002-enforce.yaml")).unwrap();
    assert!(!steps.contains("name: kube-system"));
    let admission =
        std::fs::read_to_string(out.path().join("admission-configuration.yaml")).unwrap();
    assert!(admission.contains("namespaces:\n      - kube-system"), "{admission}");
    assert!(admission.contains("pod-security.admission.config.k8s.io/v1beta1"));
}

/// Objects that pass enforce at the pinned version but fail at `latest` are reported: on the
/// 1.27 cluster, a probe with `httpGet.host` breaks when the v1.34 check applies.
#[test]
fn reports_what_breaks_on_upgrade() {
    let out = tempfile::tempdir().unwrap();
    let result = cmd()
        .args(["plan", "-o", "json", "-f", "testdata/clusters/post-125", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    let plan: serde_json::Value = serde_json::from_slice(&result.stdout).unwrap();
    assert_eq!(plan["clusterVersion"], "v1.27");
    let ns =
        plan["namespaces"].as_array().unwrap().iter().find(|n| n["name"] == "legacy-app").unwrap();
    assert_eq!(
        (ns["enforce"].as_str(), ns["enforceVersion"].as_str()),
        (Some("baseline"), Some("v1.27"))
    );
    let breaks: Vec<&str> = ns["breaksOnUpgrade"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert!(breaks.contains(&"inventory-sync"), "{breaks:?}");
    let message = ns["breaksOnUpgrade"][0]["message"].as_str().unwrap();
    assert!(message.starts_with("probe or lifecycle host ("), "{message}");
    let report = std::fs::read_to_string(out.path().join("REPORT.md")).unwrap();
    assert!(report.contains("## Breaks on upgrade"));
}

fn plan_json(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("plan.json")).unwrap()).unwrap()
}

/// Residual policies are generated for every testdata cluster, for the version asked: `v1`
/// from 1.30, `v1beta1` (with the feature-gate note) on 1.28–1.29, none before, where REPORT.md
/// says what is given up; `--policy-actions warn,audit` writes soaking bindings.
#[test]
fn residual_policies_follow_the_policy_version_and_actions() {
    // Every namespace's residual and mutation policy has a binding selecting it.
    let bound = |cluster: &str, plan: &serde_json::Value, key: &str, field: &str, kind: &str| {
        let objects = plan["admissionPolicies"][key].as_array().unwrap().clone();
        assert!(!objects.is_empty(), "{cluster}: no {key} policies");
        for ns in plan["namespaces"].as_array().unwrap() {
            let name = ns[field]["policy"].as_str().unwrap();
            let binding = objects
                .iter()
                .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
                .unwrap_or_else(|| panic!("{cluster}: no binding {name}"));
            let selected = &binding["spec"]["matchResources"]["namespaceSelector"]["matchExpressions"]
                [0]["values"];
            assert!(
                selected.as_array().unwrap().contains(&ns["name"]),
                "{cluster}: {name} does not select {}",
                ns["name"]
            );
        }
    };
    for cluster in ["ml-platform", "legacy-eks"] {
        let out = tempfile::tempdir().unwrap();
        cmd()
            .args(["plan", "-q", "-f", &format!("testdata/clusters/{cluster}"), "--out"])
            .arg(out.path())
            .assert()
            .code(0);
        let plan = plan_json(out.path());
        let ap = &plan["admissionPolicies"];
        assert_eq!(ap["validatingApiVersion"], "admissionregistration.k8s.io/v1", "{cluster}");
        assert_eq!(ap["mutatingApiVersion"], "admissionregistration.k8s.io/v1", "{cluster}");
        bound(cluster, &plan, "validating", "residualPolicy", "ValidatingAdmissionPolicyBinding");
        bound(cluster, &plan, "mutating", "mutationPolicy", "MutatingAdmissionPolicyBinding");
        assert!(out.path().join("0005-residual-policies.yaml").is_file());
        assert!(out.path().join("0006-mutation-policies.yaml").is_file());
    }
    // A cluster past 1.25 exported without PSPs: nothing to keep, and no policy that would
    // reject every pod.
    let out = tempfile::tempdir().unwrap();
    cmd()
        .args(["plan", "-q", "-f", "testdata/clusters/post-125", "--out"])
        .arg(out.path())
        .assert()
        .code(0);
    let plan = plan_json(out.path());
    assert_eq!(plan["admissionPolicies"]["validating"], serde_json::json!([]));
    assert_eq!(plan["admissionPolicies"]["mutating"], serde_json::json!([]));
    assert!(!out.path().join("0005-residual-policies.yaml").exists());
    assert!(!out.path().join("0006-mutation-policies.yaml").exists());
    let report = std::fs::read_to_string(out.path().join("REPORT.md")).unwrap();
    assert!(report.contains("The input holds no PodSecurityPolicy"), "{report}");
    let demo_plan = |dir: &Path, extra: &[&str]| {
        cmd()
            .args(["plan", "-q", "-f", "testdata/clusters/ml-platform", "--out"])
            .arg(dir)
            .args(extra)
            .assert()
            .code(0);
        plan_json(dir)
    };
    let dir = tempfile::tempdir().unwrap();
    let plan = demo_plan(dir.path(), &[]);
    assert_eq!(plan["admissionPolicies"]["policyVersion"], "v1.36", "a 1.24 cluster targets 1.36");
    let plan = demo_plan(
        dir.path(),
        &["--policy-version", "v1.29", "--policy-actions", "warn,audit", "--force"],
    );
    assert_eq!(
        plan["admissionPolicies"]["validatingApiVersion"],
        "admissionregistration.k8s.io/v1beta1"
    );
    assert_eq!(plan["admissionPolicies"]["needsFeatureGate"], true);
    let file = std::fs::read_to_string(dir.path().join("0005-residual-policies.yaml")).unwrap();
    assert!(file.contains("Needs the ValidatingAdmissionPolicy feature gate"), "{file}");
    assert!(file.contains("validationActions:\n  - Warn\n  - Audit"), "{file}");
    // 1.29 serves no MutatingAdmissionPolicy: no step 6, and the residual policies now reject
    // the templates that only PSP's defaulting made acceptable.
    assert!(!dir.path().join("0006-mutation-policies.yaml").exists());
    assert!(plan["admissionPolicies"].get("mutatingApiVersion").is_none());
    let rejected = |plan: &serde_json::Value| {
        plan["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["code"] == "plan-residual-rejects-live")
            .count()
    };
    let without_mutation = rejected(&plan);
    let report = std::fs::read_to_string(dir.path().join("REPORT.md")).unwrap();
    assert!(report.contains("serves no MutatingAdmissionPolicy (1.34 or newer)"), "{report}");
    let plan = demo_plan(dir.path(), &["--policy-version", "v1.35", "--force"]);
    assert_eq!(
        plan["admissionPolicies"]["mutatingApiVersion"],
        "admissionregistration.k8s.io/v1beta1"
    );
    let file = std::fs::read_to_string(dir.path().join("0006-mutation-policies.yaml")).unwrap();
    assert!(file.contains("Needs the MutatingAdmissionPolicy feature gate"), "{file}");
    assert!(
        rejected(&plan) < without_mutation,
        "the proof runs live objects through the mutation policies first"
    );
    // The classic PSP (MustRunAsNonRoot) becomes a mutation setting runAsNonRoot where unset.
    let ml = plan["admissionPolicies"]["mutating"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["metadata"]["name"] == "psa-migrate-defaults-ml-workloads")
        .unwrap()
        .clone();
    let patches = ml["spec"]["mutations"].to_string();
    assert!(patches.contains("/securityContext/runAsNonRoot', value: true}"), "{patches}");
    // Planned again into the same directory for 1.27: the earlier step 5 and 6 files go.
    let plan = demo_plan(dir.path(), &["--policy-version", "v1.27", "--force"]);
    assert!(!dir.path().join("0005-residual-policies.yaml").exists());
    assert!(!dir.path().join("0006-mutation-policies.yaml").exists());
    assert!(plan["files"].get("0005-residual-policies.yaml").is_none());
    let report = std::fs::read_to_string(dir.path().join("REPORT.md")).unwrap();
    assert!(report.contains("every restriction listed below is **given up**"), "{report}");
    assert!(report.contains("- **ml-workloads** (enforce `baseline`), given up:"), "{report}");
    cmd()
        .args(["plan", "-f", "testdata/clusters/ml-platform", "--policy-actions", "deny,warn"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("deny and warn cannot be combined"));
}

/// The committed demo plan (kept up to date by the test above) links each blocking and dead
/// object to the patch of the object that creates it, or to its decision; and the classic
/// `ml-workload-psp` is kept by `enforce: baseline` plus its residual policy.
#[test]
fn the_demo_plan_links_objects_to_their_fixes_and_keeps_the_classic_psp() {
    let dir = repo().join("migrations/ml-platform");
    let plan = plan_json(&dir);
    let ns = |name: &str| {
        plan["namespaces"].as_array().unwrap().iter().find(|n| n["name"] == name).unwrap().clone()
    };
    let pipelines = ns("data-pipelines");
    // Argo's executor containers are configured in the controller, not in the Workflow.
    assert_eq!(pipelines["safeAfterFixes"], false);
    let argo: Vec<(&Value, &Value)> = pipelines["blocking"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["kind"] == "Workflow")
        .map(|b| (&b["path"], &b["fix"]["status"]))
        .collect();
    assert_eq!(
        argo,
        [
            (&json!("spec.templates[1]"), &json!("needsDecision")),
            (&json!("spec.templates[2]"), &json!("needsDecision"))
        ]
    );
    let fix = &pipelines["blocking"][0]["fix"];
    assert_eq!(fix["status"], "patched");
    assert_eq!(fix["target"]["kind"], "Deployment");
    let file = fix["file"].as_str().unwrap();
    assert!(dir.join(file).is_file() && plan["files"].get(file).is_some(), "{file}");
    let inference = ns("inference");
    assert_eq!(inference["safeAfterFixes"], false);
    let canary = inference["deadObjects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "model-server-canary")
        .unwrap();
    assert_eq!(canary["fix"]["status"], "needsDecision");
    assert!(canary["fix"]["reasons"][0].as_str().unwrap().starts_with("hostPorts:"));
    let report = std::fs::read_to_string(dir.join("REPORT.md")).unwrap();
    assert!(report.contains(&format!("fixed by [{file}]({file})")), "{report}");
    // ml-workload-psp: baseline, plus a residual policy for its volume list and non-root rule.
    let ml = ns("ml-workloads");
    assert_eq!(ml["enforce"], "baseline");
    let name = ml["residualPolicy"]["policy"].as_str().unwrap();
    let policy = plan["admissionPolicies"]["validating"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == "ValidatingAdmissionPolicy" && o["metadata"]["name"] == name)
        .unwrap();
    let messages = policy["spec"]["validations"].to_string();
    for what in
        ["volume types: not allowed by `volumes`", "running as root: not allowed by `runAsUser`"]
    {
        assert!(messages.contains(what) && messages.contains("ml-workload-psp"), "{messages}");
    }
}
