//! kubectl fidelity: the real `kubectl` talks to the fake API server through a generated
//! kubeconfig, and its output must be what it prints against a real cluster. Skipped (with a notice)
//! when `kubectl` is not on PATH.
//!
//! The fake serves `testdata/clusters/ml-platform` when present (else a small built-in cluster),
//! plus a `psa-fidelity` namespace whose pods are known to violate `restricted`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::fake_api::{FakeApi, FakeApiHandle, FakeConfig};

/// Used when the ml-platform fixture is absent.
const FALLBACK_CLUSTER: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: ml}
---
apiVersion: v1
kind: Pod
metadata: {name: trainer, namespace: ml}
spec: {containers: [{name: c, image: busybox}]}
---
apiVersion: policy/v1beta1
kind: PodSecurityPolicy
metadata: {name: restricted}
spec: {seLinux: {rule: RunAsAny}, runAsUser: {rule: MustRunAsNonRoot}, fsGroup: {rule: RunAsAny}, supplementalGroups: {rule: RunAsAny}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: psp-restricted, namespace: ml}
rules: [{apiGroups: [policy], resources: [podsecuritypolicies], verbs: [use], resourceNames: [restricted]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: psp-restricted, namespace: ml}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: psp-restricted}
subjects: [{kind: ServiceAccount, name: default, namespace: ml}]
"#;

/// Added to every fidelity cluster: two privileged pods of one ReplicaSet and a host-network pod.
const FIDELITY_NAMESPACE: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: psa-fidelity, labels: {team: qa}}
---
apiVersion: v1
kind: Pod
metadata:
  name: priv-a
  namespace: psa-fidelity
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: priv, uid: "rs-uid", controller: true}]
spec: {containers: [{name: c, image: busybox, securityContext: {privileged: true}}]}
---
apiVersion: v1
kind: Pod
metadata:
  name: priv-b
  namespace: psa-fidelity
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: priv, uid: "rs-uid", controller: true}]
spec: {containers: [{name: c, image: busybox, securityContext: {privileged: true}}]}
---
apiVersion: v1
kind: Pod
metadata: {name: host-net, namespace: psa-fidelity}
spec: {hostNetwork: true, containers: [{name: c, image: busybox}]}
"#;

const NS: &str = "psa-fidelity";

fn kubectl_binary() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join("kubectl")).find(|p| p.is_file())
}

/// kubectl bound to one fake: its own kubeconfig and discovery cache.
struct Kubectl {
    bin: PathBuf,
    dir: tempfile::TempDir,
}

impl Kubectl {
    fn new(api: &FakeApiHandle) -> Option<Kubectl> {
        let Some(bin) = kubectl_binary() else {
            // In CI a missing kubectl is a broken machine, not a reason to pass.
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "kubectl not found on PATH and CI=true: the kubectl fidelity tests must run in CI \
                 (scripts/install-deps says how to get kubectl)"
            );
            eprintln!("NOTICE: kubectl not found on PATH; skipping kubectl fidelity test");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        api.kubeconfig(dir.path().join("kubeconfig")).unwrap();
        Some(Kubectl { bin, dir })
    }

    fn run(&self, args: &[&str]) -> Output {
        let kubeconfig = self.dir.path().join("kubeconfig");
        let cache = self.dir.path().join("cache");
        Command::new(&self.bin)
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .arg("--cache-dir")
            .arg(&cache)
            .args(args)
            .env_remove("KUBECONFIG")
            .env("HOME", self.dir.path())
            .output()
            .expect("run kubectl")
    }

    /// Runs and requires success; returns (stdout, stderr).
    fn ok(&self, args: &[&str]) -> (String, String) {
        let out = self.run(args);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            out.status.success(),
            "kubectl {args:?} failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
        );
        (stdout, stderr)
    }
}

fn cluster(version: &str) -> FakeConfig {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/clusters/ml-platform");
    let base = if dir.is_dir() {
        FakeConfig::new().dir(dir)
    } else {
        FakeConfig::new().yaml(FALLBACK_CLUSTER)
    };
    base.yaml(FIDELITY_NAMESPACE).version(version)
}

/// The first whitespace-separated columns of a table's rows (header skipped).
fn column(stdout: &str, idx: usize) -> Vec<String> {
    stdout
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split_whitespace().nth(idx).unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn kubectl_get_psp_lists_policies_with_deprecation_warning() {
    let api = FakeApi::start(cluster("1.24"));
    let Some(k) = Kubectl::new(&api) else { return };
    let (stdout, stderr) = k.ok(&["get", "psp"]);
    assert!(stdout.starts_with("NAME "), "{stdout}");
    let expected = api.names("policy/v1beta1", "podsecuritypolicies");
    assert!(!expected.is_empty());
    assert_eq!(column(&stdout, 0), expected);
    assert!(
        stderr.contains("Warning: policy/v1beta1 PodSecurityPolicy is deprecated in v1.21+, unavailable in v1.25+"),
        "{stderr}"
    );
}

#[test]
fn kubectl_get_psp_fails_on_125() {
    let api = FakeApi::start(cluster("1.25"));
    let Some(k) = Kubectl::new(&api) else { return };
    let out = k.run(&["get", "psp"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("the server doesn't have a resource type \"psp\""), "{stderr}");
}

#[test]
fn kubectl_get_pods_all_namespaces_in_chunks() {
    let api = FakeApi::start(cluster("1.24"));
    let Some(k) = Kubectl::new(&api) else { return };
    let (stdout, _) = k.ok(&["get", "pods", "-A", "--chunk-size=7"]);
    assert!(stdout.starts_with("NAMESPACE "), "{stdout}");
    let shown: Vec<String> = column(&stdout, 0)
        .into_iter()
        .zip(column(&stdout, 1))
        .map(|(ns, name)| format!("{ns}/{name}"))
        .collect();
    let expected = api.names("v1", "pods");
    assert_eq!(shown, expected);
    let lists: Vec<_> = api
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path == "/api/v1/pods")
        .collect();
    assert_eq!(lists.len(), expected.len().div_ceil(7), "one request per chunk");
    assert!(lists.iter().all(|r| r.param("limit") == Some("7")));
    assert!(lists[0].param("continue").is_none());
    assert!(lists[1..].iter().all(|r| r.param("continue").is_some_and(|c| !c.is_empty())));
    assert!(lists[0].accept.as_deref().unwrap_or_default().contains("as=Table"));
}

#[test]
fn kubectl_get_roles_and_rolebindings() {
    let api = FakeApi::start(cluster("1.24"));
    let Some(k) = Kubectl::new(&api) else { return };
    let (stdout, _) = k.ok(&["get", "roles,rolebindings", "-A"]);
    let shown: BTreeSet<String> = stdout
        .lines()
        .filter(|l| !l.starts_with("NAMESPACE") && !l.trim().is_empty())
        .map(|l| {
            let mut cols = l.split_whitespace();
            format!("{}/{}", cols.next().unwrap(), cols.next().unwrap())
        })
        .collect();
    let mut expected = BTreeSet::new();
    for (plural, prefix) in [("roles", "role"), ("rolebindings", "rolebinding")] {
        for n in api.names("rbac.authorization.k8s.io/v1", plural) {
            let (ns, name) = n.split_once('/').unwrap();
            expected.insert(format!("{ns}/{prefix}.rbac.authorization.k8s.io/{name}"));
        }
    }
    assert!(!expected.is_empty());
    assert_eq!(shown, expected);
}

#[test]
fn kubectl_label_dry_run_server_prints_psa_warnings() {
    let api = FakeApi::start(cluster("1.24"));
    let Some(k) = Kubectl::new(&api) else { return };
    let before = api.namespace_labels(NS).unwrap();
    let (stdout, stderr) = k.ok(&[
        "label",
        "ns",
        NS,
        "pod-security.kubernetes.io/enforce=restricted",
        "--dry-run=server",
    ]);
    assert_eq!(stdout.trim(), format!("namespace/{NS} labeled (server dry run)"));
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.starts_with("Warning: ")).collect();
    assert_eq!(
        warnings[0],
        format!(
            "Warning: existing pods in namespace \"{NS}\" violate the new PodSecurity enforce level \"restricted:latest\""
        )
    );
    assert_eq!(warnings.len(), 3, "{stderr}");
    assert!(warnings[1].starts_with("Warning: host-net: host namespaces"), "{stderr}");
    assert!(warnings[2].starts_with("Warning: priv-a (and 1 other pod): privileged"), "{stderr}");
    assert_eq!(api.namespace_labels(NS).unwrap(), before, "dry run must not store");
    let patch = api.requests().into_iter().find(|r| r.method == "PATCH").unwrap();
    assert!(patch.dry_run);
    assert_eq!(patch.param("fieldManager"), Some("kubectl-label"));
}

#[test]
fn kubectl_label_changes_labels_and_get_shows_them() {
    let api = FakeApi::start(cluster("1.24"));
    let Some(k) = Kubectl::new(&api) else { return };
    let (stdout, _) = k.ok(&["label", "ns", NS, "x=y"]);
    assert_eq!(stdout.trim(), format!("namespace/{NS} labeled"));
    assert_eq!(api.namespace_labels(NS).unwrap()["x"], "y");
    let (stdout, _) = k.ok(&["get", "ns", NS, "-o", "json"]);
    let ns: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(ns["metadata"]["labels"]["x"], "y");
    assert_eq!(ns["metadata"]["labels"]["team"], "qa");
    assert_eq!(ns["metadata"]["labels"]["kubernetes.io/metadata.name"], NS);
    // Invalid PodSecurity labels are rejected with the API server's field error.
    let out = k.run(&["label", "ns", NS, "pod-security.kubernetes.io/enforce=bogus"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("The Namespace \"{NS}\" is invalid: metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: \"bogus\": must be one of privileged, baseline, restricted")),
        "{stderr}"
    );
}

#[test]
fn kubectl_server_side_apply_dry_run() {
    let api = FakeApi::start(cluster("1.24"));
    let Some(k) = Kubectl::new(&api) else { return };
    let manifest = k.dir.path().join("ns.yaml");
    std::fs::write(
        &manifest,
        format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {NS}\n  labels:\n    pod-security.kubernetes.io/enforce: baseline\n    pod-security.kubernetes.io/enforce-version: v1.24\n    pod-security.kubernetes.io/warn: restricted\n"),
    )
    .unwrap();
    let before = api.namespace_labels(NS).unwrap();
    let file = manifest.to_str().unwrap();
    let (stdout, stderr) = k.ok(&[
        "apply",
        "--server-side",
        "--field-manager=psa-migrate",
        "--dry-run=server",
        "-f",
        file,
    ]);
    assert_eq!(stdout.trim(), format!("namespace/{NS} serverside-applied (server dry run)"));
    assert!(stderr.contains(&format!("existing pods in namespace \"{NS}\" violate the new PodSecurity enforce level \"baseline:v1.24\"")), "{stderr}");
    assert_eq!(api.namespace_labels(NS).unwrap(), before);
    let patch = api.requests().into_iter().find(|r| r.method == "PATCH").unwrap();
    assert_eq!(patch.content_type.as_deref(), Some("application/apply-patch+yaml"));
    assert_eq!(patch.param("fieldManager"), Some("psa-migrate"));
    assert_eq!(patch.param("force"), Some("false"));
    assert!(patch.dry_run);
    // For real, then a conflicting kubectl label makes the next apply fail without --force-conflicts.
    k.ok(&["apply", "--server-side", "--field-manager=psa-migrate", "-f", file]);
    assert_eq!(api.namespace_labels(NS).unwrap()["pod-security.kubernetes.io/enforce"], "baseline");
    k.ok(&["label", "--overwrite", "ns", NS, "pod-security.kubernetes.io/enforce=restricted"]);
    let out = k.run(&["apply", "--server-side", "--field-manager=psa-migrate", "-f", file]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Apply failed with 1 conflict: conflict with \"kubectl-label\" using v1: .metadata.labels.pod-security.kubernetes.io/enforce"),
        "{stderr}"
    );
    k.ok(&[
        "apply",
        "--server-side",
        "--force-conflicts",
        "--field-manager=psa-migrate",
        "-f",
        file,
    ]);
    assert_eq!(api.namespace_labels(NS).unwrap()["pod-security.kubernetes.io/enforce"], "baseline");
}

#[test]
fn kubectl_over_tls_with_client_certificate() {
    let api = FakeApi::start(cluster("1.24").require_client_cert().token("fidelity-token"));
    let Some(k) = Kubectl::new(&api) else { return };
    assert!(api.url().starts_with("https://"));
    let (stdout, _) = k.ok(&["get", "ns"]);
    let expected: Vec<String> = api.names("v1", "namespaces");
    assert_eq!(column(&stdout, 0), expected);
    let (stdout, _) = k.ok(&["version", "-o", "json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["serverVersion"]["minor"], "24");
}

/// The committed demo's residual policies pass `kubectl apply --dry-run=server` on a server
/// that serves them (1.36), and are refused by one that does not (1.27).
#[test]
fn kubectl_server_dry_run_of_the_residual_policies() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations/ml-platform/0005-residual-policies.yaml");
    let file = file.to_str().unwrap();
    let api = FakeApi::start(cluster("1.36"));
    let Some(k) = Kubectl::new(&api) else { return };
    let (stdout, _) = k.ok(&["apply", "--server-side", "--dry-run=server", "-f", file]);
    assert!(
        stdout.contains(
            "validatingadmissionpolicy.admissionregistration.k8s.io/psa-migrate-residual-ml-workloads serverside-applied (server dry run)"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("validatingadmissionpolicybinding.admissionregistration.k8s.io/psa-migrate-residual-ml-workloads serverside-applied (server dry run)"), "{stdout}");
    assert!(api.names("admissionregistration.k8s.io/v1", "validatingadmissionpolicies").is_empty());
    let old = FakeApi::start(cluster("1.27"));
    let Some(k) = Kubectl::new(&old) else { return };
    let out = k.run(&["apply", "--server-side", "--dry-run=server", "-f", file]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    // kubectl words it by how far discovery got (the fake serves no OpenAPI for the group).
    assert!(
        stderr.contains("no matches for kind \"ValidatingAdmissionPolicy\"")
            || stderr.contains("the server could not find the requested resource"),
        "{stderr}"
    );
    assert!(old.names("admissionregistration.k8s.io/v1", "validatingadmissionpolicies").is_empty());
}

#[test]
fn kubectl_server_dry_run_of_the_mutation_policies() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations/ml-platform/0006-mutation-policies.yaml");
    let file = file.to_str().unwrap();
    let api = FakeApi::start(cluster("1.36"));
    let Some(k) = Kubectl::new(&api) else { return };
    let (stdout, _) = k.ok(&["apply", "--server-side", "--dry-run=server", "-f", file]);
    for kind in ["mutatingadmissionpolicy", "mutatingadmissionpolicybinding"] {
        let line = format!(
            "{kind}.admissionregistration.k8s.io/psa-migrate-defaults-ml-workloads serverside-applied (server dry run)"
        );
        assert!(stdout.contains(&line), "{stdout}");
    }
    assert!(api.names("admissionregistration.k8s.io/v1", "mutatingadmissionpolicies").is_empty());
    // 1.35 serves only v1beta1 (behind its feature gate): the v1 objects are not served.
    let beta = FakeApi::start(cluster("1.35"));
    let Some(k) = Kubectl::new(&beta) else { return };
    let out = k.run(&["apply", "--server-side", "--dry-run=server", "-f", file]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no matches for kind \"MutatingAdmissionPolicy\"")
            || stderr.contains("the server could not find the requested resource"),
        "{stderr}"
    );
}

/// kubectl finds the custom resources through the fake's discovery, as it would a CRD's, and
/// lists them by their qualified names; a JSON patch of one applies server-side as dry run.
#[test]
fn kubectl_lists_and_patches_custom_resources() {
    let api = FakeApi::start(cluster("1.24"));
    let Some(k) = Kubectl::new(&api) else { return };
    let (stdout, _) = k.ok(&["get", "rayclusters.ray.io", "-A", "-o", "name"]);
    assert_eq!(stdout.trim(), "raycluster.ray.io/llm", "{stdout}");
    assert_eq!(api.names("ray.io/v1", "rayclusters"), ["ml-workloads/llm"]);
    let (stdout, _) = k.ok(&["get", "clusterservingruntimes.serving.kserve.io", "-o", "name"]);
    assert_eq!(stdout.trim(), "clusterservingruntime.serving.kserve.io/kserve-huggingfaceserver");
    let (stdout, _) = k.ok(&["api-resources", "--api-group", "ray.io", "-o", "name"]);
    let names: BTreeSet<&str> = stdout.lines().collect();
    assert!(names.contains("rayclusters.ray.io") && names.contains("rayjobs.ray.io"), "{stdout}");
    // The fix's command form: a JSON patch of the custom resource, as a server-side dry run.
    let patch = r#"[{"op":"add","path":"/spec/submitterPodTemplate/spec/containers/0/securityContext","value":{"runAsNonRoot":true}}]"#;
    let (stdout, _) = k.ok(&[
        "patch",
        "rayjob.ray.io",
        "nightly-eval",
        "-n",
        "ml-workloads",
        "--type",
        "json",
        "-p",
        patch,
        "--dry-run=server",
        "-o",
        "jsonpath={.spec.submitterPodTemplate.spec.containers[0].securityContext.runAsNonRoot}",
    ]);
    assert_eq!(stdout, "true");
}
