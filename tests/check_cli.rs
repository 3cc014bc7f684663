//! `psa-migrate check` end to end: the built binary on files, directories and stdin; output,
//! exit codes and error messages.

use std::path::{Path, PathBuf};

use assert_cmd::cargo::cargo_bin_cmd;
use predicates::prelude::*;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn cmd() -> assert_cmd::Command {
    let mut c = cargo_bin_cmd!("psa-migrate");
    c.current_dir(repo()).env_remove("NO_COLOR").env("TERM", "dumb");
    c
}

const VIOLATING_POD: &str = "\
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: shop
spec:
  hostNetwork: true
  containers:
  - name: app
    image: nginx
    securityContext:
      privileged: true
";

const RESTRICTED_DEPLOYMENT: &str = r#"{
  "apiVersion": "apps/v1",
  "kind": "Deployment",
  "metadata": {"name": "api", "namespace": "shop"},
  "spec": {"template": {"metadata": {}, "spec": {
    "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
    "containers": [{"name": "api", "image": "api", "securityContext": {
      "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}]
  }}}
}"#;

#[test]
fn stdin_pipeline_reports_upstream_message_and_exits_1() {
    cmd()
        .args(["check", "-f", "-", "--level", "baseline"])
        .write_stdin(VIOLATING_POD)
        .assert()
        .code(1)
        .stdout(
            "Pod shop/web: would violate PodSecurity \"baseline:latest\": host namespaces \
             (hostNetwork=true), privileged (container \"app\" must not set \
             securityContext.privileged=true)\n\
             1 object checked against PodSecurity \"baseline:latest\": 0 allowed, 1 would violate\n",
        );
}

#[test]
fn options_may_come_before_the_subcommand() {
    cmd()
        .args(["-f", "-", "-o", "json", "check", "--level", "restricted", "--version", "v1.24"])
        .write_stdin(RESTRICTED_DEPLOYMENT)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("\"allowed\": true"));
}

#[test]
fn json_has_the_documented_shape() {
    let out = cmd()
        .args(["check", "-f", "-", "--level", "restricted", "-o", "json"])
        .write_stdin(format!("{VIOLATING_POD}---\n{RESTRICTED_DEPLOYMENT}\n"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["schemaVersion"], "psa-migrate.check/v4");
    assert_eq!(v["level"], "restricted");
    assert_eq!(v["version"], "latest");
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    // Sorted by namespace, kind, name: Pod before Deployment in kind order.
    let pod = &results[0];
    assert_eq!(pod["kind"], "Pod");
    assert_eq!(
        pod["source"],
        serde_json::json!({"file": "-", "document": 0, "line": 1, "column": 1})
    );
    assert_eq!(pod["allowed"], false);
    assert_eq!(pod["passes"], "privileged");
    let checks: Vec<&str> = pod["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["check"].as_str().unwrap())
        .collect();
    assert_eq!(
        checks,
        [
            "hostNamespaces",
            "privileged",
            "allowPrivilegeEscalation",
            "capabilities_restricted",
            "runAsNonRoot",
            "seccompProfile_restricted"
        ]
    );
    assert!(pod["message"].as_str().unwrap().starts_with("host namespaces (hostNetwork=true), "));
    let deploy = &results[1];
    assert_eq!(
        (deploy["kind"].as_str(), deploy["allowed"].as_bool()),
        (Some("Deployment"), Some(true))
    );
    assert_eq!(deploy["message"], "");
    let at = serde_json::json!({"file": "-", "document": 1, "line": 14, "column": 1});
    assert_eq!(deploy["source"], at);
    assert_eq!(v["summary"]["denied"], 1);
}

#[test]
fn without_level_nothing_is_judged() {
    cmd()
        .args(["check", "-f", "-"])
        .write_stdin(VIOLATING_POD)
        .assert()
        .code(0)
        .stdout(
            "Pod shop/web: passes privileged\n\
             1 object checked at latest (no level judged): 0 restricted, 0 baseline, 1 privileged\n",
        );
}

#[test]
fn malformed_document_names_file_document_line_and_keeps_going() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pods.yaml");
    std::fs::write(
        &file,
        format!(
            "{VIOLATING_POD}---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: \"broken\n---\n{}",
            VIOLATING_POD.replace("name: web", "name: web2")
        ),
    )
    .unwrap();
    let out = cmd().args(["check", "--level", "baseline", "-f"]).arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "input errors exit 2 even with findings");
    let stderr = String::from_utf8(out.stderr).unwrap();
    let expected =
        format!("error: {}: document 1 (line 17, column 9): unclosed quote\n", file.display());
    assert_eq!(stderr, expected);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.matches("would violate PodSecurity").count(), 2, "{stdout}");
}

#[test]
fn wrong_field_type_names_the_field_path() {
    let bad = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: a}\n  spec:\n    containers:\n    - name: c\n      securityContext: {privileged: \"yes\"}\n";
    cmd().args(["check", "-f", "-"]).write_stdin(bad).assert().code(2).stderr(
        "error: -: document 0 (line 4, column 3): \
             items[0].spec.containers[0].securityContext.privileged: invalid type: string \"yes\", expected a boolean\n",
    );
}

#[test]
fn missing_file_and_bad_flags_exit_2() {
    cmd()
        .args(["check", "-f", "does/not/exist.yaml"])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with("error: does/not/exist.yaml: cannot read: "));
    cmd()
        .args(["check", "-f", "-", "--level", "strict"])
        .write_stdin("")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "invalid value 'strict' for '--level <LEVEL>'\n  [possible values: privileged, baseline, restricted]",
        ));
    cmd()
        .args(["check", "-f", "-", "--version", "v1.024"])
        .write_stdin("")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("must be \"latest\" or \"v1.x\""));
}

#[test]
fn secrets_and_unknown_kinds_are_counted_never_kept() {
    let input = "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: shop}\ndata: {password: aHVudGVyMg==}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n";
    let out = cmd().args(["check", "-f", "-", "-o", "json"]).write_stdin(input).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains("aHVudGVyMg"), "secret data must never be printed");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["summary"]["ignoredKinds"], serde_json::json!({"ConfigMap": 1, "Secret": 1}));
}

/// `check -o json` on every upstream fixture directory gives the right `allowed` for every pod.
#[test]
fn conformance_directories_through_the_binary() {
    let Some(root) = conformance_root() else { return };
    for (level, version, outcome) in [
        ("restricted", "v1.24", "fail"),
        ("restricted", "v1.37", "pass"),
        ("baseline", "v1.0", "fail"),
        ("baseline", "v1.35", "pass"),
    ] {
        let dir = root.join(level).join(version).join(outcome);
        let out = cmd()
            .args(["check", "-o", "json", "--level", level, "--version", version, "-f"])
            .arg(&dir)
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let results = v["results"].as_array().unwrap();
        assert!(!results.is_empty());
        for r in results {
            assert_eq!(r["allowed"], outcome == "pass", "{level} {version} {}", r["name"]);
        }
        assert_eq!(out.status.code(), Some(if outcome == "pass" { 0 } else { 1 }));
    }
}

fn conformance_root() -> Option<PathBuf> {
    let dir = std::env::var_os("PSA_CONFORMANCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("../shared/conformance/pod-security-admission/testdata"));
    if Path::new(&dir).is_dir() {
        return Some(dir);
    }
    assert!(std::env::var("CI").as_deref() != Ok("true"), "conformance fixtures missing under CI");
    eprintln!("NOTICE: conformance fixtures not found at {}; skipping", dir.display());
    None
}

fn run_snapshot(args: &[&str]) -> String {
    let out = cmd().args(args).output().unwrap();
    format!(
        "exit: {:?}\n--- stdout\n{}--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn snapshot_demo_cluster_text_baseline_v1_24() {
    insta::assert_snapshot!(run_snapshot(&[
        "check",
        "-f",
        "testdata/clusters/ml-platform",
        "--level",
        "baseline",
        "--version",
        "v1.24"
    ]));
}

/// The demo cluster at restricted:latest, as JSON: what matters asserted, with small snapshots
/// of the summary and of one object's result.
#[test]
fn demo_cluster_json_restricted_latest() {
    let out = cmd()
        .args([
            "check",
            "-f",
            "testdata/clusters/ml-platform",
            "--level",
            "restricted",
            "-o",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["schemaVersion"], "psa-migrate.check/v4");
    assert_eq!((v["level"].as_str(), v["version"].as_str()), (Some("restricted"), Some("latest")));
    assert!(v.get("findings").is_none(), "no findings about this input");
    insta::assert_json_snapshot!("demo_cluster_json_restricted_latest_summary", v["summary"]);

    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 77);
    let find = |kind: &str, ns: &str, name: &str| {
        results
            .iter()
            .find(|r| r["kind"] == kind && r["namespace"] == ns && r["name"] == name)
            .unwrap_or_else(|| panic!("no result for {kind} {ns}/{name}"))
    };
    // Allowed and denied per namespace.
    let mut per_ns = std::collections::BTreeMap::<&str, (usize, usize)>::new();
    for r in results {
        let e = per_ns.entry(r["namespace"].as_str().unwrap()).or_default();
        if r["allowed"] == true {
            e.0 += 1
        } else {
            e.1 += 1
        }
        // An allowed object has no message and no violations; a denied one has both.
        assert_eq!(r["allowed"] == true, r["message"] == "", "{r}");
        assert_eq!(r["allowed"] == true, r["violations"].as_array().unwrap().is_empty(), "{r}");
    }
    let expected: std::collections::BTreeMap<&str, (usize, usize)> = [
        ("", (0, 1)),
        ("data-pipelines", (4, 4)),
        ("default", (0, 1)),
        ("inference", (8, 4)),
        ("kube-system", (0, 14)),
        ("ml-workloads", (7, 19)),
        ("monitoring", (1, 9)),
        ("notebooks", (0, 5)),
    ]
    .into();
    assert_eq!(per_ns, expected);

    let canary = find("Deployment", "inference", "model-server-canary");
    assert_eq!(canary["passes"], "privileged");
    assert_eq!(canary["message"], "hostPort (container \"model-server\" uses hostPort 8080)");
    assert_eq!(canary["violations"][0]["check"], "hostPorts");
    let proxy = find("DaemonSet", "kube-system", "kube-proxy");
    assert_eq!(proxy["passes"], "privileged");
    assert!(proxy["message"].as_str().unwrap().starts_with("host namespaces (hostNetwork=true)"));
    let tracker = find("Deployment", "ml-workloads", "experiment-tracker");
    assert_eq!((&tracker["allowed"], &tracker["passes"]), (&true.into(), &"restricted".into()));
    let bob = find("StatefulSet", "notebooks", "jupyter-bob");
    assert_eq!(bob["passes"], "baseline");
    assert_eq!(bob["violations"].as_array().unwrap().len(), 5);
    insta::assert_json_snapshot!(
        "demo_cluster_json_restricted_latest_curl_test",
        find("Pod", "default", "curl-test")
    );
}

/// Every pod template inside a custom resource of the demo cluster: its path and the most
/// restrictive level it passes, as the operator's pods would be judged (injected containers
/// included).
#[test]
fn demo_custom_resources_are_judged_by_template() {
    let out = cmd()
        .args(["check", "-f", "testdata/clusters/ml-platform", "-o", "json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let got: Vec<String> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r.get("path").is_some())
        .map(|r| {
            format!(
                "{} {}/{} {} {}",
                r["kind"].as_str().unwrap(),
                r["namespace"].as_str().unwrap(),
                r["name"].as_str().unwrap(),
                r["path"].as_str().unwrap(),
                r["passes"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            // Its kserve-container sets no seccomp profile.
            "ClusterServingRuntime /kserve-huggingfaceserver spec baseline",
            "SparkApplication data-pipelines/daily-aggregates spec.driver restricted",
            "SparkApplication data-pipelines/daily-aggregates spec.executor restricted",
            // The main containers pass restricted; Argo's init and wait do not.
            "Workflow data-pipelines/feature-backfill spec.templates[1] baseline",
            "Workflow data-pipelines/feature-backfill spec.templates[2] baseline",
            // The GPU predictor: the runtime's container and KServe's storage initializer.
            "InferenceService inference/llm-chat spec.predictor baseline",
            "FineTuneRun ml-workloads/support-bot-lora spec.worker.template baseline",
            "JobSet ml-workloads/embeddings-index spec.replicatedJobs[0].template.spec.template baseline",
            "PyTorchJob ml-workloads/llama-finetune spec.pytorchReplicaSpecs.Master.template baseline",
            // IPC_LOCK.
            "PyTorchJob ml-workloads/llama-finetune spec.pytorchReplicaSpecs.Worker.template privileged",
            "RayCluster ml-workloads/llm spec.headGroupSpec.template restricted",
            // hostPath.
            "RayCluster ml-workloads/llm spec.workerGroupSpecs[0].template privileged",
            "RayJob ml-workloads/nightly-eval spec.rayClusterSpec.headGroupSpec.template baseline",
            "RayJob ml-workloads/nightly-eval spec.rayClusterSpec.workerGroupSpecs[0].template baseline",
            "RayJob ml-workloads/nightly-eval spec.submitterPodTemplate baseline",
            "Notebook notebooks/carol-llm spec.template baseline",
        ]
    );
    // The upstream messages name the operators' containers.
    let text = cmd()
        .args(["check", "-f", "testdata/clusters/ml-platform", "--level", "restricted"])
        .output()
        .unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.contains(
            "Workflow data-pipelines/feature-backfill spec.templates[1]: would violate PodSecurity \
         \"restricted:latest\": allowPrivilegeEscalation != false (containers \"init\", \"wait\" \
         must set securityContext.allowPrivilegeEscalation=false)"
        ),
        "{text}"
    );
    assert!(text.contains("container \"storage-initializer\" must set"), "{text}");
    assert!(!text.contains("queue-proxy"), "Knative's queue proxy passes restricted: {text}");
}

#[test]
fn snapshot_every_cluster_passes_without_level() {
    for cluster in ["ml-platform", "legacy-eks", "post-125"] {
        let dir = format!("testdata/clusters/{cluster}");
        insta::assert_snapshot!(format!("passes_{cluster}"), run_snapshot(&["check", "-f", &dir]));
    }
}

#[test]
fn snapshot_bad_inputs() {
    insta::assert_snapshot!(run_snapshot(&["check", "-f", "testdata/bad", "--level", "baseline"]));
}

/// A large JSON list is streamed item by item: a bad item is reported with its index and the
/// line it starts on, in file order, and every other item is still evaluated.
#[test]
fn bad_items_in_a_json_list_are_reported_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pods.json");
    let mut items = Vec::new();
    for i in 0..600 {
        let host_network = match i {
            7 => "\"yes\"".to_owned(),
            512 => "[]".to_owned(),
            _ => (i % 2 == 0).to_string(),
        };
        items.push(format!(
            "{{\n \"apiVersion\": \"v1\",\n \"kind\": \"Pod\",\n \"metadata\": {{\"name\": \"p{i}\", \"namespace\": \"n\"}},\n \"spec\": {{\"hostNetwork\": {host_network}, \"containers\": [{{\"name\": \"c\"}}]}}\n}}"
        ));
    }
    let text = format!(
        "{{\"apiVersion\": \"v1\", \"items\": [\n{}\n], \"kind\": \"List\"}}\n",
        items.join(",\n")
    );
    std::fs::write(&file, text).unwrap();
    let out = cmd()
        .args(["check", "-o", "json", "--level", "baseline", "-f"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let f = file.display();
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        format!(
            "error: {f}: document 0 (line 44, column 1): items[7].spec.hostNetwork: invalid type: string \"yes\", expected a boolean\n\
             error: {f}: document 0 (line 3074, column 1): items[512].spec.hostNetwork: invalid type: sequence, expected a boolean\n"
        )
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["summary"]["objects"], 598);
    assert_eq!(v["summary"]["denied"], 299, "every even pod uses the host network");
}

/// `custom-resources` prints the registry: every entry with its paths and a cited commit.
#[test]
fn custom_resources_lists_the_registry() {
    let out = cmd().args(["custom-resources", "-o", "json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = v.as_array().unwrap();
    assert!(rows.len() >= 30, "{}", rows.len());
    for r in rows {
        assert!(r["source"].as_str().unwrap().contains('@'), "{r}");
        assert!(!r["paths"].as_array().unwrap().is_empty(), "{r}");
    }
    let ray = rows.iter().find(|r| r["kind"] == "RayCluster").unwrap();
    assert_eq!(ray["resource"], "rayclusters.ray.io");
    assert_eq!(
        ray["paths"],
        serde_json::json!(["spec.headGroupSpec.template", "spec.workerGroupSpecs[].template"])
    );
    let md = cmd().args(["custom-resources", "-o", "markdown"]).output().unwrap();
    let md = String::from_utf8(md.stdout).unwrap();
    assert!(md.starts_with("| Kind | API versions |") && md.contains("| TrainJob |"), "{md}");
}

/// What `helm template` prints: Pods that have not been through an API server, and a
/// Deployment whose template the API server would not default.
const UNDEFAULTED: &str = "\
apiVersion: v1
kind: Pod
metadata:
  name: node-exporter
  namespace: monitoring
spec:
  hostNetwork: true
  containers:
  - name: exporter
    image: node-exporter
    ports:
    - containerPort: 9100
---
apiVersion: v1
kind: Pod
metadata:
  name: legacy
  namespace: monitoring
  annotations:
    container.apparmor.security.beta.kubernetes.io/app: unconfined
spec:
  containers:
  - name: app
    image: app
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: legacy
  namespace: monitoring
spec:
  template:
    metadata:
      annotations:
        container.apparmor.security.beta.kubernetes.io/app: unconfined
    spec:
      containers:
      - name: app
        image: app
";

/// Pods are judged as the API server would hand them to PodSecurity admission: a hostNetwork
/// port becomes a host port, an AppArmor annotation becomes the container's field. The
/// verdicts stay; `--no-defaulting` (before or after the subcommand) judges the files as
/// written.
#[test]
fn pods_are_defaulted_as_the_api_server_does() {
    let summary = "3 objects checked against PodSecurity \"baseline:latest\": 0 allowed, 3 would \
                   violate\n";
    let deployment = "Deployment monitoring/legacy: would violate PodSecurity \"baseline:latest\": \
                      forbidden AppArmor profile (annotation must not set AppArmor profile type \
                      to \"container.apparmor.security.beta.kubernetes.io/app=\"unconfined\"\")\n";
    let defaulted = format!(
        "Pod monitoring/legacy: would violate PodSecurity \"baseline:latest\": forbidden AppArmor \
         profiles (container \"app\" and annotation must not set AppArmor profile type to \
         \"Unconfined\", \"container.apparmor.security.beta.kubernetes.io/app=\"unconfined\"\")\n\
         Pod monitoring/node-exporter: would violate PodSecurity \"baseline:latest\": host \
         namespaces (hostNetwork=true), hostPort (container \"exporter\" uses hostPort 9100)\n\
         {deployment}{summary}"
    );
    let raw = format!(
        "Pod monitoring/legacy: would violate PodSecurity \"baseline:latest\": forbidden AppArmor \
         profile (annotation must not set AppArmor profile type to \
         \"container.apparmor.security.beta.kubernetes.io/app=\"unconfined\"\")\n\
         Pod monitoring/node-exporter: would violate PodSecurity \"baseline:latest\": host \
         namespaces (hostNetwork=true)\n\
         {deployment}{summary}"
    );
    let run = |args: &[&str]| {
        let out = cmd().args(args).write_stdin(UNDEFAULTED).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(run(&["check", "-f", "-", "--level", "baseline"]), defaulted);
    assert_eq!(run(&["check", "-f", "-", "--level", "baseline", "--no-defaulting"]), raw);
    assert_eq!(run(&["--no-defaulting", "check", "-f", "-", "--level", "baseline"]), raw);
}
