//! Trustworthy plans: a plan covers only what its input shows (coverage, not-planned
//! namespaces), says why (reasons naming the PSP field and the objects), says when it loosens,
//! carries every finding, and names itself safely.

use std::path::{Path, PathBuf};

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;

use crate::support::fake_api::Faults;
use crate::support::served::{Served, as_real_server, demo_cluster, serve};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn cmd() -> assert_cmd::Command {
    let mut c = cargo_bin_cmd!("psa-migrate");
    c.current_dir(repo()).env_remove("NO_COLOR").env_remove("KUBECONFIG").env("TERM", "dumb");
    c
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Runs `plan -o json` on `input` into a fresh directory; returns (exit code, plan.json or
/// stdout JSON, stderr, the directory).
fn plan(args: &[&str]) -> (i32, Value, String, tempfile::TempDir) {
    let out = tempfile::tempdir().unwrap();
    let result = cmd().arg("plan").args(args).arg("--out").arg(out.path()).output().unwrap();
    let json = serde_json::from_slice(&result.stdout).unwrap_or(Value::Null);
    (result.status.code().unwrap_or(-1), json, text(&result.stderr), out)
}

fn write(dir: &Path, name: &str, body: &str) {
    std::fs::write(dir.join(name), body).unwrap();
}

fn namespaces(plan: &Value) -> Vec<&str> {
    plan["namespaces"].as_array().unwrap().iter().map(|n| n["name"].as_str().unwrap()).collect()
}

/// A plain manifest directory in the shape of kube-prometheus `manifests/`: RoleBindings in
/// `kube-system` and `default`, one namespace of its own, and no pods for the others.
const MANIFESTS: &str = "\
apiVersion: v1
kind: Namespace
metadata: {name: monitoring}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: prometheus-k8s-config, namespace: kube-system}
rules: [{apiGroups: [''], resources: [configmaps], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: prometheus-k8s, namespace: kube-system}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: prometheus-k8s-config}
subjects: [{kind: ServiceAccount, name: prometheus-k8s, namespace: monitoring}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: prometheus-k8s, namespace: default}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects: [{kind: ServiceAccount, name: prometheus-k8s, namespace: monitoring}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: grafana, namespace: monitoring}
spec:
  template:
    spec:
      containers: [{name: grafana, image: grafana}]
";

#[test]
fn a_manifest_set_plans_only_the_namespaces_it_holds_and_marks_them_partial() {
    let input = tempfile::tempdir().unwrap();
    write(input.path(), "manifests.yaml", MANIFESTS);
    let (code, json, stderr, dir) = plan(&["-o", "json", "-f", input.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(namespaces(&json), ["monitoring"], "kube-system and default are not in the input");
    let not_planned: Vec<&str> = json["notPlanned"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert_eq!(not_planned, ["default", "kube-system"]);
    assert!(json["notPlanned"][1]["reason"].as_str().unwrap().contains("1 RoleBinding"));
    let ns = &json["namespaces"][0];
    assert_eq!(ns["coverage"]["status"], "partial");
    assert!(ns["coverage"]["missing"].as_array().unwrap().iter().any(|m| m == "pods"));
    assert_eq!(json["coverage"], "partial");
    // Every file agrees: plan.json, the step files and REPORT.md.
    let on_disk: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("plan.json")).unwrap())
            .unwrap();
    assert_eq!(namespaces(&on_disk), ["monitoring"]);
    for file in ["0001-audit-warn.yaml", "0002-enforce.yaml", "REPORT.md"] {
        let body = std::fs::read_to_string(dir.path().join(file)).unwrap();
        let labelled =
            body.lines().any(|l| l.contains("name: kube-system") || l.contains("name: default"));
        assert!(!labelled, "{file} labels a namespace the input does not hold:\n{body}");
    }
    let report = std::fs::read_to_string(dir.path().join("REPORT.md")).unwrap();
    assert!(report.contains("**Coverage: partial.**"), "{report}");
    assert!(report.contains("### Not planned"), "{report}");
    assert!(report.contains("partial: missing"), "{report}");
    let codes: Vec<&str> =
        json["findings"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap()).collect();
    assert!(codes.contains(&"plan-namespace-not-in-input"), "{codes:?}");
    assert!(codes.contains(&"plan-partial-coverage"), "{codes:?}");
}

#[test]
fn assume_complete_makes_offline_coverage_complete() {
    let input = tempfile::tempdir().unwrap();
    write(input.path(), "manifests.yaml", MANIFESTS);
    let path = input.path().to_str().unwrap();
    let (code, json, stderr, _dir) = plan(&["-o", "json", "-f", path, "--assume-complete"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(json["coverage"], "complete");
    assert_eq!(json["namespaces"][0]["coverage"]["assumed"], true);
    assert_eq!(namespaces(&json), ["monitoring"], "asserting completeness plans nothing more");
}

#[test]
fn an_export_is_complete_only_with_its_record() {
    let (code, json, stderr, _dir) = plan(&["-o", "json", "-f", "testdata/clusters/ml-platform"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(json["coverage"], "complete");
    // The same files without the record are a plain manifest set.
    let copy = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(repo().join("testdata/clusters/ml-platform")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap();
        if name != "export-record.yaml" {
            std::fs::copy(&path, copy.path().join(name)).unwrap();
        }
    }
    let (code, json, stderr, _dir) = plan(&["-o", "json", "-f", copy.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(json["coverage"], "partial");
    assert!(
        json["namespaces"].as_array().unwrap().iter().all(|n| n["coverage"]["status"] == "partial")
    );
}

#[test]
fn export_writes_the_record_and_reads_back_complete() {
    let out = tempfile::tempdir().unwrap();
    let export = out.path().join("export");
    let result = cmd()
        .args(["export", "-q", "-f", "testdata/clusters/post-125", "--out"])
        .arg(&export)
        .output()
        .unwrap();
    assert_eq!(result.status.code(), Some(0), "{}", text(&result.stderr));
    let record = std::fs::read_to_string(export.join("export-record.yaml")).unwrap();
    assert!(record.contains("kind: ExportRecord") && record.contains("resource: pods"), "{record}");
    let (code, json, stderr, _dir) = plan(&["-o", "json", "-f", export.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(json["coverage"], "complete");
}

/// The Kubernetes docs' own baseline-like PSP that allows NET_RAW forces privileged, so a
/// namespace whose only pod passes baseline is enforced at privileged: the plan says it loosens
/// and why, naming the PSP and the field.
#[test]
fn reasons_name_the_psp_field_and_the_objects_and_loosening_is_flagged() {
    let input = tempfile::tempdir().unwrap();
    let psp =
        std::fs::read_to_string(repo().join("testdata/psp/capabilities-net-raw.yaml")).unwrap();
    write(input.path(), "psp.yaml", &psp);
    write(
        input.path(),
        "app.yaml",
        "\
apiVersion: v1
kind: Namespace
metadata: {name: app}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: use-net-raw}
rules: [{apiGroups: [policy], resources: [podsecuritypolicies], verbs: [use], resourceNames: [capabilities-net-raw]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: use-net-raw, namespace: app}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: use-net-raw}
subjects: [{kind: Group, name: 'system:serviceaccounts:app', apiGroup: rbac.authorization.k8s.io}]
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: app}
spec: {containers: [{name: c, image: x}]}
status: {phase: Running}
",
    );
    let path = input.path().to_str().unwrap();
    let (code, json, stderr, dir) =
        plan(&["-o", "json", "-f", path, "--assume-complete", "--cluster-version", "v1.24"]);
    assert_eq!(code, 0, "{stderr}");
    let ns = &json["namespaces"][0];
    assert_eq!(
        (ns["pspLevel"].as_str(), ns["podsLevel"].as_str()),
        (Some("privileged"), Some("baseline"))
    );
    assert_eq!(ns["enforce"], "privileged");
    assert_eq!(ns["loosens"], true);
    let reasons: Vec<&str> =
        ns["reasons"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
    assert!(
        reasons[0].contains(
            "`capabilities-net-raw` allows NET_RAW (outside the baseline set) (allowedCapabilities)"
        ),
        "{reasons:?}"
    );
    assert!(
        reasons[1].starts_with("podsLevel baseline: fails restricted at v1.24: Pod web ("),
        "{reasons:?}"
    );
    assert!(reasons.iter().any(|r| r.starts_with("loosens:")), "{reasons:?}");
    let report = std::fs::read_to_string(dir.path().join("REPORT.md")).unwrap();
    assert!(report.contains("## Loosened namespaces"), "{report}");
    assert!(report.contains("with `--tighten`: `baseline:v1.24`"), "{report}");
    assert!(json["findings"].as_array().unwrap().iter().any(|f| f["code"] == "plan-loosens"));

    // --tighten takes the alternative; nothing loosens any more.
    let (_, tight, _, _dir) = plan(&[
        "-o",
        "json",
        "-f",
        path,
        "--assume-complete",
        "--cluster-version",
        "v1.24",
        "--tighten",
    ]);
    assert_eq!(tight["namespaces"][0]["enforce"], "baseline");
    assert_eq!(tight["namespaces"][0]["loosens"], false);
}

/// Inventory findings reach the plan (plan.json, REPORT.md, the summary) and `--fail-on`.
#[test]
fn plan_carries_inventory_findings_and_fails_on_them_when_asked() {
    let inventory = cmd()
        .args(["inventory", "-o", "json", "-f", "testdata/clusters/legacy-eks"])
        .output()
        .unwrap();
    let inventory: Value = serde_json::from_slice(&inventory.stdout).unwrap();
    let (code, json, stderr, dir) = plan(&["-o", "json", "-f", "testdata/clusters/legacy-eks"]);
    assert_eq!(code, 0, "{stderr}");
    let plan_findings = json["findings"].as_array().unwrap();
    for f in inventory["findings"].as_array().unwrap() {
        assert!(plan_findings.contains(f), "plan lost inventory finding {f}");
    }
    assert!(!plan_findings.is_empty());
    let report = std::fs::read_to_string(dir.path().join("REPORT.md")).unwrap();
    let first = plan_findings[0]["code"].as_str().unwrap();
    assert!(report.contains(&format!("`{first}`")), "{report}");
    let (code, _, _, _dir) =
        plan(&["-o", "json", "-f", "testdata/clusters/legacy-eks", "--fail-on", "info"]);
    assert_eq!(code, 1);
}

#[test]
fn the_plan_name_keeps_dots_and_must_be_one_safe_segment() {
    let parent = tempfile::tempdir().unwrap();
    let input = parent.path().join("longhorn-v1.3.3");
    std::fs::create_dir(&input).unwrap();
    write(
        &input,
        "ns.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: longhorn-system}\n",
    );
    let (code, json, stderr, _dir) = plan(&["-o", "json", "-f", input.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(json["name"], "longhorn-v1.3.3");

    for bad in ["../../x", "a/b", "..", ".hidden", ""] {
        let cwd = tempfile::tempdir().unwrap();
        let result = cmd()
            .current_dir(cwd.path())
            .args(["plan", "-f"])
            .arg(&input)
            .args(["--name", bad])
            .output()
            .unwrap();
        assert_eq!(result.status.code(), Some(2), "--name {bad:?}");
        assert!(text(&result.stderr).contains("invalid --name"), "{}", text(&result.stderr));
        assert_eq!(
            std::fs::read_dir(cwd.path()).unwrap().count(),
            0,
            "nothing written for {bad:?}"
        );
        assert!(!parent.path().join("x").exists());
    }
}

#[test]
fn summary_counts_in_the_singular_and_asks_for_the_cluster_version() {
    let input = tempfile::tempdir().unwrap();
    write(input.path(), "ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: solo}\n");
    let out = tempfile::tempdir().unwrap();
    let result =
        cmd().args(["plan", "-f"]).arg(input.path()).arg("--out").arg(out.path()).output().unwrap();
    let stdout = text(&result.stdout);
    assert!(stdout.contains(": 1 namespace, 0 objects to fix"), "{stdout}");
    assert!(stdout.contains("The cluster version is unknown"), "{stdout}");
    assert!(stdout.contains("--cluster-version"), "{stdout}");
    let report = std::fs::read_to_string(out.path().join("REPORT.md")).unwrap();
    assert!(report.contains("The cluster version is unknown"), "{report}");
    let admission =
        std::fs::read_to_string(out.path().join("admission-configuration.yaml")).unwrap();
    assert!(
        admission.contains("The defaults apply to namespaces without labels:\n# enforce privileged:latest, because no PSP"),
        "{admission}"
    );
}

// Live: what the cluster would not let us read.

fn live(faults: Faults) -> Served {
    serve(as_real_server(&demo_cluster()).faults(faults))
}

#[test]
fn live_plan_refuses_without_a_needed_kind_unless_allowed_partial() {
    for forbidden in ["pods", "rolebindings"] {
        let cluster = live(Faults::none().forbid(forbidden));
        let out = tempfile::tempdir().unwrap();
        let dir = out.path().join("plan");
        let result = cmd()
            .args(["plan", "-q", "--kubeconfig"])
            .arg(&cluster.kubeconfig)
            .arg("--out")
            .arg(&dir)
            .output()
            .unwrap();
        assert_eq!(result.status.code(), Some(2), "{forbidden}");
        let stderr = text(&result.stderr);
        assert!(stderr.contains("refusing to plan"), "{stderr}");
        assert!(
            stderr.contains(&format!("cannot list {forbidden}")),
            "names the permission: {stderr}"
        );
        assert!(!dir.exists(), "nothing is written");

        let result = cmd()
            .args(["plan", "-q", "-o", "json", "--allow-partial", "--kubeconfig"])
            .arg(&cluster.kubeconfig)
            .arg("--out")
            .arg(&dir)
            .output()
            .unwrap();
        assert_eq!(result.status.code(), Some(2), "the read error still decides the exit code");
        let json: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("plan.json")).unwrap()).unwrap();
        assert_eq!(json["coverage"], "partial", "{forbidden}");
        let resource = if forbidden == "pods" {
            "pods".to_owned()
        } else {
            format!("{forbidden}.rbac.authorization.k8s.io")
        };
        for ns in json["namespaces"].as_array().unwrap() {
            assert_eq!(ns["coverage"]["status"], "partial");
            assert!(ns["coverage"]["missing"].as_array().unwrap().iter().any(|m| *m == *resource));
        }
        let report = std::fs::read_to_string(dir.join("REPORT.md")).unwrap();
        assert!(report.contains("**Coverage: partial.**"), "{report}");
    }
}

#[test]
fn live_plan_is_complete_and_check_ignores_kinds_it_does_not_need() {
    let cluster = live(Faults::none());
    let out = tempfile::tempdir().unwrap();
    let result = cmd()
        .args(["plan", "-q", "-o", "json", "--kubeconfig"])
        .arg(&cluster.kubeconfig)
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    assert_eq!(result.status.code(), Some(0), "{}", text(&result.stderr));
    let json: Value = serde_json::from_slice(&result.stdout).unwrap();
    assert_eq!(json["coverage"], "complete");

    let cluster = live(Faults::none().forbid("podsecuritypolicies").forbid("roles"));
    let result = cmd()
        .args(["check", "--level", "privileged", "--kubeconfig"])
        .arg(&cluster.kubeconfig)
        .output()
        .unwrap();
    assert_eq!(result.status.code(), Some(0), "{}", text(&result.stderr));
    assert!(text(&result.stderr).contains("notice: cannot read podsecuritypolicies.policy"));
    let cluster = live(Faults::none().forbid("pods"));
    let result = cmd()
        .args(["check", "--level", "privileged", "--kubeconfig"])
        .arg(&cluster.kubeconfig)
        .output()
        .unwrap();
    assert_eq!(result.status.code(), Some(2), "pods are needed by check");
}
