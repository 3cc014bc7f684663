//! One diagnostics pipeline: `--allow`, `--warn` and `--deny` change a code's severity for every
//! report command, input errors appear with their codes in JSON, and the exit code follows one
//! rule (2: input not read; 1: a diagnostic at or above `--fail-on`, default error; else 0).

use std::path::Path;

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;

fn cmd(dir: &Path) -> assert_cmd::Command {
    let mut c = cargo_bin_cmd!("psa-migrate");
    c.current_dir(dir).env_remove("NO_COLOR").env("TERM", "dumb");
    c
}

const PSP: &str = "apiVersion: policy/v1beta1\nkind: PodSecurityPolicy\nmetadata:\n  name: p\nspec:\n  seLinux: {rule: RunAsAny}\n  runAsUser: {rule: MustRunAsNonRoot}\n  supplementalGroups: {rule: RunAsAny}\n  fsGroup: {rule: RunAsAny}\n  volumes: ['configMap']\n";

/// A PSP usable by every kube-system service account through a cluster-wide binding: the only
/// finding is `rbac-grant-reaches-controllers` (a warning).
fn controllers_cluster() -> String {
    format!(
        "{PSP}---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: x\nrules:\n- apiGroups: [policy]\n  resources: [podsecuritypolicies]\n  verbs: [use]\n  resourceNames: [p]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: crb\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: x}}\nsubjects:\n- {{kind: Group, apiGroup: rbac.authorization.k8s.io, name: \"system:serviceaccounts:kube-system\"}}\n"
    )
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    std::fs::write(dir.join(name), text).unwrap();
    name.to_owned()
}

fn codes(json: &Value, key: &str) -> Vec<String> {
    json[key]
        .as_array()
        .map(|a| a.iter().map(|f| f["code"].as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

#[test]
fn allow_removes_the_only_warning_and_the_failure() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(tmp.path(), "c.yaml", &controllers_cluster());
    let out = cmd(tmp.path()).args(["inventory", "-o", "json", "-f", &f]).output().unwrap();
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(codes(&json, "findings"), ["rbac-grant-reaches-controllers"]);
    cmd(tmp.path()).args(["inventory", "--fail-on", "warning", "-f", &f]).assert().code(1);
    let out = cmd(tmp.path())
        .args(["inventory", "--fail-on", "warning", "--allow", "rbac-grant-reaches-controllers"])
        .args(["-o", "json", "-f", &f])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(codes(&json, "findings").is_empty(), "an allowed code is not reported: {json}");
    // --warn keeps it a warning: still at --fail-on warning; --fail-on error passes.
    cmd(tmp.path())
        .args(["inventory", "--fail-on", "error", "--warn", "all", "-f", &f])
        .assert()
        .code(0);
}

#[test]
fn deny_fails_without_fail_on() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(tmp.path(), "p.yaml", PSP);
    for command in ["inventory", "map", "check"] {
        cmd(tmp.path()).args([command, "-f", &f]).assert().code(0);
    }
    let out = cmd(tmp.path())
        .args(["inventory", "--deny", "psp-not-usable", "-o", "json", "-f", &f])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let finding = &json["findings"][0];
    assert_eq!(
        (finding["code"].as_str(), finding["severity"].as_str()),
        (Some("psp-not-usable"), Some("error"))
    );
    // The deny of one code leaves another alone; `all` is overridden by an explicit code.
    cmd(tmp.path()).args(["inventory", "--deny", "rbac-grant-all-psps", "-f", &f]).assert().code(0);
    cmd(tmp.path())
        .args(["inventory", "--deny", "all", "--warn", "psp-not-usable", "-f", &f])
        .assert()
        .code(0);
}

#[test]
fn check_denials_are_errors_that_can_be_downgraded() {
    let tmp = tempfile::tempdir().unwrap();
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: shop}\nspec:\n  hostPID: true\n  containers:\n  - {name: c, image: x}\n";
    let f = write(tmp.path(), "pod.yaml", pod);
    cmd(tmp.path()).args(["check", "--level", "baseline", "-f", &f]).assert().code(1);
    cmd(tmp.path())
        .args(["check", "--level", "baseline", "--warn", "pss-level-denied", "-f", &f])
        .assert()
        .code(0);
}

#[test]
fn input_errors_appear_in_json_with_their_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let good = write(tmp.path(), "p.yaml", PSP);
    let bad = write(tmp.path(), "bad.yaml", "kind: Pod\nmetadata: {name: \"b}\n");
    for command in ["check", "inventory", "map"] {
        let out = cmd(tmp.path())
            .args([command, "-o", "json", "-f", &good, "-f", &bad])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{command}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.starts_with("error: bad.yaml: document 0 (line 2, column 18): "),
            "{command}: the text is unchanged: {stderr}"
        );
        let json: Value = serde_json::from_slice(&out.stdout).unwrap();
        let d = &json["diagnostics"][0];
        assert_eq!(d["code"], "input-parse-error", "{command}: {json}");
        assert_eq!(d["severity"], "error");
        assert_eq!(d["location"]["file"], "bad.yaml");
        assert_eq!(d["location"]["document"], 0);
        assert_eq!(d["location"]["line"], 2);
    }
    // A clean input has no diagnostics field.
    let out = cmd(tmp.path()).args(["check", "-o", "json", "-f", &good]).output().unwrap();
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(json.get("diagnostics").is_none(), "{json}");
}

#[test]
fn bad_override_codes_are_usage_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(tmp.path(), "p.yaml", PSP);
    let out = cmd(tmp.path())
        .args(["inventory", "--allow", "psp-not-useable", "-f", &f])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unknown code"), "{stderr}");
    assert!(
        stderr.contains("psp-not-usable") && stderr.contains("rbac-grant-reaches-controllers"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "nothing is read or rendered");
    // Codes that mean the input could not be read cannot be overridden.
    let out =
        cmd(tmp.path()).args(["check", "--allow", "input-parse-error", "-f", &f]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot be overridden"));
    // One code in two different flags is ambiguous.
    let out = cmd(tmp.path())
        .args(["inventory", "--allow", "psp-not-usable", "--deny", "psp-not-usable", "-f", &f])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("both --allow and --deny"));
}

#[test]
fn duplicate_warning_on_stderr_follows_the_override() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(tmp.path(), "d.yaml", &format!("{PSP}---\n{PSP}"));
    let out = cmd(tmp.path()).args(["map", "-f", &f]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("warning: PodSecurityPolicy p: "));
    let out = cmd(tmp.path())
        .args(["map", "--deny", "input-duplicate-object", "-f", &f])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: PodSecurityPolicy p: "));
    let out = cmd(tmp.path())
        .args(["map", "--allow", "input-duplicate-object", "-f", &f])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("input-duplicate-object"));
}
