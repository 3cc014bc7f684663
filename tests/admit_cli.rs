//! `psa-migrate admit`: which PSP the admission plugin would choose for given objects, offline
//! (`--inventory DIR`) and live (the fake API), with the requester defaulting to the kind's
//! controller and bare pods needing `--as`.

use std::path::{Path, PathBuf};

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;

use crate::support::schema::assert_valid;
use crate::support::served::{as_real_server, demo_cluster, serve};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn cmd() -> assert_cmd::Command {
    let mut c = cargo_bin_cmd!("psa-migrate");
    c.current_dir(repo()).env_remove("KUBECONFIG").env("TERM", "dumb");
    c
}

const OBJECTS: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata: {name: trainer, namespace: ml-workloads}
spec:
  replicas: 0
  template:
    spec:
      serviceAccountName: ml-workload-sa
      containers: [{name: t, image: x}]
---
apiVersion: v1
kind: Pod
metadata: {name: debug, namespace: ml-workloads}
spec:
  containers: [{name: d, image: x, securityContext: {privileged: true}}]
";

fn objects(dir: &Path) -> PathBuf {
    let path = dir.join("objects.yaml");
    std::fs::write(&path, OBJECTS).unwrap();
    path
}

fn result<'a>(json: &'a Value, name: &str) -> &'a Value {
    json["results"].as_array().unwrap().iter().find(|r| r["name"] == name).unwrap()
}

#[test]
fn offline_the_controller_creates_workload_pods_and_bare_pods_need_a_requester() {
    let tmp = tempfile::tempdir().unwrap();
    let file = objects(tmp.path());
    // A bare pod without --as: a clear usage error, nothing printed on stdout.
    let out = cmd()
        .args(["admit", "--inventory", "testdata/clusters/ml-platform", "-f"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Pod ml-workloads/debug") && stderr.contains("--as USER"), "{stderr}");
    assert!(out.stdout.is_empty());

    let out = cmd()
        .args([
            "admit",
            "-o",
            "json",
            "--inventory",
            "testdata/clusters/ml-platform",
            "--as",
            "jane",
        ])
        .arg("-f")
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "the privileged pod is rejected");
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_valid("admit", &json, "admit -o json");
    let pod = result(&json, "debug");
    assert_eq!(pod["psp"], Value::Null);
    assert_eq!(pod["requester"]["user"], "jane");
    let errors = pod["rejections"]["restricted"].as_array().unwrap();
    assert!(
        errors.iter().any(|e| e["message"]
            == "spec.containers[0].securityContext.privileged: Invalid value: true: Privileged containers are not allowed"),
        "{errors:?}"
    );
    let deploy = result(&json, "trainer");
    assert_eq!(deploy["psp"], "ml-workload-psp", "ml-workload-sa may use it in ml-workloads");
    assert_eq!(deploy["mutated"], true);
    assert!(deploy["changes"].as_array().unwrap().iter().any(|c| c["field"]
        == "spec.containers[0].securityContext.runAsNonRoot"
        && c["new"] == true));

    // Only the Deployment, with no --as: the ReplicaSet controller creates its pods.
    let only = tmp.path().join("deploy.yaml");
    std::fs::write(&only, OBJECTS.split("---").next().unwrap()).unwrap();
    let out = cmd()
        .args(["admit", "-o", "json", "--inventory", "testdata/clusters/ml-platform", "-f"])
        .arg(&only)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let deploy = result(&json, "trainer");
    assert_eq!(
        deploy["requester"]["user"],
        "system:serviceaccount:kube-system:replicaset-controller"
    );
    assert_eq!(deploy["psp"], "ml-workload-psp");

    // --service-account moves the pods to an account that may use nothing more than the
    // cluster-wide grants.
    let out = cmd()
        .args(["admit", "-o", "json", "--inventory", "testdata/clusters/ml-platform"])
        .args(["--service-account", "nobody", "-f"])
        .arg(&only)
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result(&json, "trainer")["serviceAccount"], "nobody");
    assert!(
        !result(&json, "trainer")["candidates"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "ml-workload-psp")
    );
}

#[test]
fn text_output_names_the_psp_the_changes_and_the_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let file = objects(tmp.path());
    let out = cmd()
        .args(["admit", "--inventory", "testdata/clusters/ml-platform", "--as", "jane", "-f"])
        .arg(&file)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(
            "Deployment ml-workloads/trainer: admitted by PSP ml-workload-psp, which changes it"
        ),
        "{text}"
    );
    assert!(
        text.contains("    spec.containers[0].securityContext.runAsNonRoot: null -> true"),
        "{text}"
    );
    assert!(text.contains("Pod ml-workloads/debug: rejected by every usable PSP"), "{text}");
    assert!(text.ends_with("2 objects simulated: 1 admitted, 1 rejected\n"), "{text}");
}

#[test]
fn live_reads_the_psps_and_rbac_of_the_cluster() {
    let served = serve(as_real_server(&demo_cluster()));
    let (tmp, kubeconfig) = (&served.tmp, &served.kubeconfig);
    let file = objects(tmp.path());
    let live = cmd()
        .args(["admit", "-q", "-o", "json", "--as", "jane", "--kubeconfig"])
        .arg(kubeconfig)
        .arg("-f")
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(live.status.code(), Some(1), "{}", String::from_utf8_lossy(&live.stderr));
    let offline = cmd()
        .args([
            "admit",
            "-q",
            "-o",
            "json",
            "--as",
            "jane",
            "--inventory",
            "testdata/clusters/ml-platform",
        ])
        .arg("-f")
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(
        serde_json::from_slice::<Value>(&live.stdout).unwrap(),
        serde_json::from_slice::<Value>(&offline.stdout).unwrap(),
        "live and offline choose the same"
    );
}

#[test]
fn admit_without_objects_is_a_usage_error() {
    let out =
        cmd().args(["admit", "--inventory", "testdata/clusters/ml-platform"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("admit needs the pods or workloads"));
}
