//! Unit tests of the fake API server over real loopback HTTP (a tiny blocking client) and through
//! kube-rs.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::*;

/// A small cluster: two namespaces, pods with and without a controller, a PSP per API group
/// spelling, RBAC objects and a Secret (never served).
const CLUSTER: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: apps, labels: {team: a}}
---
apiVersion: v1
kind: Namespace
metadata: {name: batch}
---
apiVersion: v1
kind: Pod
metadata:
  name: priv-0
  namespace: apps
  labels: {app: priv, tier: back}
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: rs, uid: "u-1", controller: true}]
spec:
  containers: [{name: c, image: busybox, securityContext: {privileged: true}}]
---
apiVersion: v1
kind: Pod
metadata:
  name: priv-1
  namespace: apps
  labels: {app: priv, tier: back}
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: rs, uid: "u-1", controller: true}]
spec:
  containers: [{name: c, image: busybox, securityContext: {privileged: true}}]
---
apiVersion: v1
kind: Pod
metadata: {name: plain, namespace: apps, labels: {app: web, tier: front}}
spec:
  containers: [{name: c, image: nginx}]
---
apiVersion: v1
kind: Pod
metadata: {name: job-a, namespace: batch, labels: {app: job}}
spec:
  containers: [{name: c, image: busybox}]
---
apiVersion: v1
kind: Pod
metadata: {name: job-b, namespace: batch}
spec:
  containers: [{name: c, image: busybox}]
---
apiVersion: policy/v1beta1
kind: PodSecurityPolicy
metadata: {name: privileged}
spec: {privileged: true, seLinux: {rule: RunAsAny}, runAsUser: {rule: RunAsAny}, fsGroup: {rule: RunAsAny}, supplementalGroups: {rule: RunAsAny}, volumes: ["*"]}
---
apiVersion: extensions/v1beta1
kind: PodSecurityPolicy
metadata: {name: restricted}
spec: {seLinux: {rule: RunAsAny}, runAsUser: {rule: MustRunAsNonRoot}, fsGroup: {rule: RunAsAny}, supplementalGroups: {rule: RunAsAny}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: r, namespace: apps}
rules: []
---
apiVersion: v1
kind: Secret
metadata: {name: s, namespace: apps}
"#;

fn fake(version: &str) -> FakeApiHandle {
    FakeApi::start(FakeConfig::new().yaml(CLUSTER).version(version))
}

/// A parsed HTTP response.
#[derive(Debug)]
struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    fn warnings(&self) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("warning"))
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// One request over a fresh connection (HTTP/1.1, `Connection: close`).
fn call(
    api: &FakeApiHandle,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Option<Resp> {
    let mut s = TcpStream::connect(api.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut req =
        format!("{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n", api.addr());
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    if raw.is_empty() {
        return None;
    }
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("header end");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(": ").map(|(k, v)| (k.to_owned(), v.to_owned())))
        .collect();
    Some(Resp { status, headers, body: raw[split + 4..].to_vec() })
}

fn get(api: &FakeApiHandle, path: &str) -> Resp {
    call(api, "GET", path, &[], "").expect("response")
}

fn patch(api: &FakeApiHandle, path: &str, ct: &str, body: &str) -> Resp {
    call(api, "PATCH", path, &[("Content-Type", ct)], body).expect("response")
}

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let m = &i["metadata"];
            match m["namespace"].as_str() {
                Some(ns) => format!("{ns}/{}", m["name"].as_str().unwrap()),
                None => m["name"].as_str().unwrap().to_owned(),
            }
        })
        .collect()
}

const MERGE: &str = "application/merge-patch+json";
const APPLY: &str = "application/apply-patch+yaml";

#[test]
fn discovery_depends_on_version() {
    let api = fake("1.24");
    assert_eq!(get(&api, "/version").json()["minor"], "24");
    let v1 = get(&api, "/api/v1").json();
    let ns =
        v1["resources"].as_array().unwrap().iter().find(|r| r["name"] == "namespaces").unwrap();
    assert_eq!(ns["namespaced"], false);
    assert_eq!(ns["shortNames"], json!(["ns"]));
    let psp = get(&api, "/apis/policy/v1beta1").json();
    assert_eq!(psp["resources"][0]["name"], "podsecuritypolicies");
    assert_eq!(psp["resources"][0]["shortNames"], json!(["psp"]));
    let groups = get(&api, "/apis").json();
    let policy =
        groups["groups"].as_array().unwrap().iter().find(|g| g["name"] == "policy").unwrap();
    assert_eq!(policy["preferredVersion"]["version"], "v1");
    // Aggregated discovery is answered with the plain form.
    let r = call(
        &api,
        "GET",
        "/apis",
        &[(
            "Accept",
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json",
        )],
        "",
    )
    .unwrap();
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.json()["kind"], "APIGroupList");

    let api = fake("v1.25.3");
    let r = get(&api, "/apis/policy/v1beta1");
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["reason"], "NotFound");
    assert_eq!(get(&api, "/apis/policy/v1beta1/podsecuritypolicies").status, 404);
    assert_eq!(get(&api, "/apis/policy/v1").json()["resources"][0]["name"], "poddisruptionbudgets");
}

#[test]
fn extensions_psp_is_served_as_policy_with_deprecation_warning() {
    let api = fake("1.24");
    let r = get(&api, "/apis/policy/v1beta1/podsecuritypolicies");
    assert_eq!(r.status, 200);
    let list = r.json();
    assert_eq!(list["kind"], "PodSecurityPolicyList");
    assert_eq!(names(&list), ["privileged", "restricted"]);
    assert_eq!(list["items"][1]["apiVersion"], "policy/v1beta1");
    assert_eq!(
        r.warnings(),
        [
            "299 - \"policy/v1beta1 PodSecurityPolicy is deprecated in v1.21+, unavailable in v1.25+\""
        ]
    );
    let one = get(&api, "/apis/policy/v1beta1/podsecuritypolicies/restricted");
    assert_eq!(one.json()["kind"], "PodSecurityPolicy");
    assert_eq!(one.warnings().len(), 1);
}

#[test]
fn pagination_limit_continue_remaining() {
    let api = fake("1.24");
    let first = get(&api, "/api/v1/pods?limit=2").json();
    assert_eq!(names(&first), ["apps/plain", "apps/priv-0"]);
    assert_eq!(first["metadata"]["remainingItemCount"], 3);
    let rv = first["metadata"]["resourceVersion"].clone();
    let mut all = names(&first);
    let mut token = first["metadata"]["continue"].as_str().unwrap().to_owned();
    loop {
        let page = get(&api, &format!("/api/v1/pods?limit=2&continue={token}")).json();
        assert_eq!(page["metadata"]["resourceVersion"], rv);
        all.extend(names(&page));
        match page["metadata"]["continue"].as_str() {
            Some(t) => {
                token = t.to_owned();
                assert!(page["metadata"]["remainingItemCount"].as_u64().unwrap() > 0);
            }
            None => {
                assert!(page["metadata"].get("remainingItemCount").is_none());
                break;
            }
        }
    }
    assert_eq!(all, ["apps/plain", "apps/priv-0", "apps/priv-1", "batch/job-a", "batch/job-b"]);
    // Namespaced list, no limit.
    let ns = get(&api, "/api/v1/namespaces/batch/pods").json();
    assert_eq!(names(&ns), ["batch/job-a", "batch/job-b"]);
    assert!(ns["metadata"].get("continue").is_none());
    // A namespace that does not exist lists empty.
    assert_eq!(names(&get(&api, "/api/v1/namespaces/nope/pods").json()), Vec::<String>::new());
    // resourceVersion=0 is answered from the "watch cache": limit is ignored.
    let cached = get(&api, "/api/v1/pods?limit=2&resourceVersion=0").json();
    assert_eq!(names(&cached).len(), 5);
    assert!(cached["metadata"].get("continue").is_none());
    // Garbage tokens are a 400.
    assert_eq!(get(&api, "/api/v1/pods?limit=2&continue=%21%21").status, 400);
}

#[test]
fn items_are_normalized() {
    let api = fake("1.24");
    let pods = get(&api, "/api/v1/namespaces/apps/pods").json();
    let p = &pods["items"][0];
    assert_eq!(p["apiVersion"], "v1");
    assert_eq!(p["kind"], "Pod");
    assert!(p["metadata"]["uid"].as_str().unwrap().len() == 36);
    assert!(p["metadata"]["resourceVersion"].as_str().unwrap().parse::<u64>().is_ok());
    assert!(p["metadata"]["creationTimestamp"].is_string());
    let ns = get(&api, "/api/v1/namespaces/apps").json();
    assert_eq!(ns["metadata"]["labels"]["kubernetes.io/metadata.name"], "apps");
    assert_eq!(ns["status"]["phase"], "Active");
    // The real server omits apiVersion/kind on list items; the fake can too.
    let api = FakeApi::start(FakeConfig::new().yaml(CLUSTER).list_items_type_meta(false));
    let pods = get(&api, "/api/v1/namespaces/apps/pods").json();
    assert!(pods["items"][0].get("kind").is_none());
    assert_eq!(pods["items"][0]["metadata"]["name"], "plain");
}

#[test]
fn label_and_field_selectors() {
    let api = fake("1.24");
    let sel = |q: &str| names(&get(&api, &format!("/api/v1/pods?{q}")).json());
    assert_eq!(sel("labelSelector=app%3Dpriv"), ["apps/priv-0", "apps/priv-1"]);
    assert_eq!(sel("labelSelector=app%21%3Dpriv"), ["apps/plain", "batch/job-a", "batch/job-b"]);
    assert_eq!(sel("labelSelector=app%20in%20(web,job)"), ["apps/plain", "batch/job-a"]);
    assert_eq!(
        sel("labelSelector=app%20notin%20(web,job)"),
        ["apps/priv-0", "apps/priv-1", "batch/job-b"]
    );
    assert_eq!(
        sel("labelSelector=app"),
        ["apps/plain", "apps/priv-0", "apps/priv-1", "batch/job-a"]
    );
    assert_eq!(sel("labelSelector=%21app"), ["batch/job-b"]);
    assert_eq!(sel("labelSelector=app%3Dpriv,tier%3Dback"), ["apps/priv-0", "apps/priv-1"]);
    assert_eq!(sel("fieldSelector=metadata.name%3Djob-a"), ["batch/job-a"]);
    assert_eq!(sel("fieldSelector=metadata.namespace%21%3Dapps"), ["batch/job-a", "batch/job-b"]);
    assert_eq!(sel("fieldSelector=spec.nodeName%3D"), sel(""));
    // With a selector the page has a continue token but no remainingItemCount.
    let page = get(&api, "/api/v1/pods?limit=1&labelSelector=app%3Dpriv").json();
    assert_eq!(names(&page), ["apps/priv-0"]);
    assert!(page["metadata"]["continue"].is_string());
    assert!(page["metadata"].get("remainingItemCount").is_none());
    let r = get(&api, "/api/v1/pods?fieldSelector=spec.bogus%3Dx");
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["message"], "field label not supported: spec.bogus");
    assert_eq!(get(&api, "/api/v1/pods?labelSelector=app%20in%20x").status, 400);
}

#[test]
fn not_found_and_forbidden_statuses() {
    let api = fake("1.24");
    let r = get(&api, "/api/v1/namespaces/apps/pods/nope");
    assert_eq!(r.status, 404);
    assert_eq!(
        r.json(),
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": "pods \"nope\" not found", "reason": "NotFound", "details": {"name": "nope", "kind": "pods"}, "code": 404})
    );
    let r = get(&api, "/api/v1/secrets");
    assert_eq!(r.status, 403);
    assert_eq!(
        r.json()["message"],
        "secrets is forbidden: User \"system:anonymous\" cannot list resource \"secrets\" in API group \"\" at the cluster scope"
    );
    let r = get(&api, "/api/v1/namespaces/apps/secrets/s");
    assert_eq!(
        r.json()["message"],
        "secrets \"s\" is forbidden: User \"system:anonymous\" cannot get resource \"secrets\" in API group \"\" in the namespace \"apps\""
    );
    api.faults().update(|f| {
        f.forbidden.insert("podsecuritypolicies".into());
    });
    let r = get(&api, "/apis/policy/v1beta1/podsecuritypolicies");
    assert_eq!(r.status, 403);
    assert_eq!(
        r.json()["message"],
        "podsecuritypolicies.policy is forbidden: User \"system:anonymous\" cannot list resource \"podsecuritypolicies\" in API group \"policy\" at the cluster scope"
    );
    assert_eq!(get(&api, "/api/v1/pods").status, 200);
}

#[test]
fn fault_throttle_and_errors() {
    let api =
        FakeApi::start(FakeConfig::new().yaml(CLUSTER).faults(Faults::none().throttle_every(3, 1)));
    let statuses: Vec<u16> = (0..6).map(|_| get(&api, "/api/v1/pods").status).collect();
    assert_eq!(statuses, [200, 200, 429, 200, 200, 429]);
    api.faults().set(Faults::none().throttle_every(1, 0));
    let r = get(&api, "/api/v1/pods");
    assert_eq!(r.header("retry-after"), Some("0"));
    assert_eq!(r.json()["reason"], "TooManyRequests");
    assert_eq!(r.json()["details"]["retryAfterSeconds"], 0);

    api.faults().set(Faults::none().error_every(2).only_resource("pods"));
    let statuses: Vec<u16> = (0..4).map(|_| get(&api, "/api/v1/pods").status).collect();
    assert_eq!(statuses, [200, 500, 200, 500]);
    assert_eq!(get(&api, "/api/v1/namespaces").status, 200, "other resources are not counted");
    api.faults().clear();
    // Start failing after N requests: skip_first.
    let n = api.requests().len() as u64;
    api.faults().set(Faults::none().error_every(1).skip_first(n + 2));
    let statuses: Vec<u16> = (0..4).map(|_| get(&api, "/api/v1/pods").status).collect();
    assert_eq!(statuses, [200, 200, 500, 500]);
    let r = get(&api, "/api/v1/pods");
    assert_eq!(r.json()["reason"], "InternalError");
}

#[test]
fn fault_continue_expiry() {
    let api = fake("1.24");
    let first = get(&api, "/api/v1/pods?limit=2").json();
    let token = first["metadata"]["continue"].as_str().unwrap().to_owned();
    api.faults().set(Faults::none().expire_continue(ContinueExpiry::Once, Some("pods")));
    let r = get(&api, &format!("/api/v1/pods?limit=2&continue={token}"));
    assert_eq!(r.status, 410);
    assert_eq!(r.json()["reason"], "Expired");
    assert_eq!(
        r.json()["message"],
        "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter."
    );
    assert_eq!(get(&api, &format!("/api/v1/pods?limit=2&continue={token}")).status, 200);
    api.faults().set(Faults::none().expire_continue(ContinueExpiry::Always, None));
    assert_eq!(get(&api, &format!("/api/v1/pods?limit=2&continue={token}")).status, 410);
    assert_eq!(get(&api, &format!("/api/v1/pods?limit=2&continue={token}")).status, 410);
    assert_eq!(get(&api, "/api/v1/pods?limit=2").status, 200, "a fresh list still works");
    api.faults().set(Faults::none().expire_continue(ContinueExpiry::Always, Some("namespaces")));
    assert_eq!(get(&api, &format!("/api/v1/pods?limit=2&continue={token}")).status, 200);
}

#[test]
fn fault_latency_and_crash_after_writes() {
    let api =
        FakeApi::start(FakeConfig::new().yaml(CLUSTER).faults(Faults::none().latency_ms(150)));
    let t = Instant::now();
    get(&api, "/version");
    assert!(t.elapsed() >= Duration::from_millis(150));
    api.faults().set(Faults::none().crash_after_writes(1, CrashMode::ServiceUnavailable));
    let body = r#"{"metadata":{"labels":{"a":"1"}}}"#;
    assert_eq!(patch(&api, "/api/v1/namespaces/apps", MERGE, body).status, 200);
    // Dry runs are not writes.
    assert_eq!(patch(&api, "/api/v1/namespaces/apps?dryRun=All", MERGE, body).status, 200);
    let r = patch(&api, "/api/v1/namespaces/batch", MERGE, body);
    assert_eq!(r.status, 503);
    assert_eq!(r.json()["reason"], "ServiceUnavailable");
    assert_eq!(api.namespace_labels("batch").unwrap().get("a"), None);
    api.faults().update(|f| f.crash = CrashMode::DropConnection);
    assert!(
        call(&api, "PATCH", "/api/v1/namespaces/batch", &[("Content-Type", MERGE)], body).is_none()
    );
    assert_eq!(api.requests().last().unwrap().status, 0);
    assert_eq!(api.writes(), 3);
}

#[test]
fn bearer_token_auth() {
    let api = FakeApi::start(FakeConfig::new().yaml(CLUSTER).token("s3cret"));
    let r = get(&api, "/api/v1/namespaces");
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["reason"], "Unauthorized");
    let r =
        call(&api, "GET", "/api/v1/namespaces", &[("Authorization", "Bearer wrong")], "").unwrap();
    assert_eq!(r.status, 401);
    let r =
        call(&api, "GET", "/api/v1/namespaces", &[("Authorization", "Bearer s3cret")], "").unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(get(&api, "/healthz").status, 200);
    assert!(api.kubeconfig_yaml().contains("token: \"s3cret\""));
}

#[test]
fn merge_and_strategic_patches() {
    let api = fake("1.24");
    let rv0 = api.resource_version();
    let r = patch(
        &api,
        "/api/v1/namespaces/apps",
        MERGE,
        r#"{"metadata":{"labels":{"team":null,"x":"1"}}}"#,
    );
    assert_eq!(r.status, 200);
    let labels = api.namespace_labels("apps").unwrap();
    assert_eq!(labels.get("x").map(String::as_str), Some("1"));
    assert!(!labels.contains_key("team"));
    assert_eq!(r.json()["metadata"]["resourceVersion"], (rv0 + 1).to_string());
    assert!(api.resource_version() > rv0);
    let r = patch(
        &api,
        "/api/v1/namespaces/apps",
        "application/strategic-merge-patch+json",
        r#"{"metadata":{"labels":{"x":null,"y":"2"}}}"#,
    );
    assert_eq!(r.status, 200);
    let labels = api.namespace_labels("apps").unwrap();
    assert_eq!(labels.get("y").map(String::as_str), Some("2"));
    assert!(!labels.contains_key("x"));
    // The automatic name label cannot be removed.
    patch(
        &api,
        "/api/v1/namespaces/apps",
        MERGE,
        r#"{"metadata":{"labels":{"kubernetes.io/metadata.name":null}}}"#,
    );
    assert_eq!(api.namespace_labels("apps").unwrap()["kubernetes.io/metadata.name"], "apps");
    // A no-op patch does not bump the resourceVersion.
    let rv = api.resource_version();
    assert_eq!(
        patch(&api, "/api/v1/namespaces/apps", MERGE, r#"{"metadata":{"labels":{"y":"2"}}}"#)
            .status,
        200
    );
    assert_eq!(api.resource_version(), rv);
    // Unknown content type, unknown object.
    assert_eq!(patch(&api, "/api/v1/namespaces/apps", "application/json", "{}").status, 415);
    assert_eq!(patch(&api, "/api/v1/namespaces/nope", MERGE, "{}").status, 404);
}

#[test]
fn json_patch() {
    let api = fake("1.24");
    let ops = r#"[{"op":"add","path":"/metadata/labels/pod-security.kubernetes.io~1warn","value":"baseline"},{"op":"test","path":"/metadata/labels/team","value":"a"},{"op":"remove","path":"/metadata/labels/team"}]"#;
    let r = patch(&api, "/api/v1/namespaces/apps", "application/json-patch+json", ops);
    assert_eq!(r.status, 200);
    let labels = api.namespace_labels("apps").unwrap();
    assert_eq!(labels["pod-security.kubernetes.io/warn"], "baseline");
    assert!(!labels.contains_key("team"));
    let failing = r#"[{"op":"test","path":"/metadata/labels/team","value":"a"}]"#;
    let r = patch(&api, "/api/v1/namespaces/apps", "application/json-patch+json", failing);
    assert_eq!(r.status, 422);
    assert_eq!(
        r.json()["message"],
        "the server rejected our request due to an error in our request"
    );
}

#[test]
fn server_side_apply() {
    let api = fake("1.24");
    let body = |labels: &str| {
        format!(
            r#"{{"apiVersion":"v1","kind":"Namespace","metadata":{{"name":"apps","labels":{{{labels}}}}}}}"#
        )
    };
    // fieldManager is required.
    let r = patch(&api, "/api/v1/namespaces/apps", APPLY, &body(r#""a":"1""#));
    assert_eq!(r.status, 422);
    assert_eq!(
        r.json()["message"],
        "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch"
    );
    // New labels: fine; existing label with another value: conflict with before-first-apply.
    let r = patch(
        &api,
        "/api/v1/namespaces/apps?fieldManager=psa-migrate",
        APPLY,
        &body(r#""pod-security.kubernetes.io/audit":"baseline""#),
    );
    assert_eq!(r.status, 200);
    let mf = &r.json()["metadata"]["managedFields"];
    assert_eq!(mf[0]["manager"], "psa-migrate");
    assert_eq!(mf[0]["operation"], "Apply");
    assert_eq!(
        mf[0]["fieldsV1"]["f:metadata"]["f:labels"],
        json!({"f:pod-security.kubernetes.io/audit": {}})
    );
    let r = patch(
        &api,
        "/api/v1/namespaces/apps?fieldManager=psa-migrate",
        APPLY,
        &body(r#""team":"b""#),
    );
    assert_eq!(r.status, 409);
    assert_eq!(
        r.json()["message"],
        "Apply failed with 1 conflict: conflict with \"before-first-apply\" using v1: .metadata.labels.team"
    );
    assert_eq!(r.json()["details"]["causes"][0]["field"], ".metadata.labels.team");
    let r = patch(
        &api,
        "/api/v1/namespaces/apps?fieldManager=psa-migrate&force=true",
        APPLY,
        &body(r#""team":"b""#),
    );
    assert_eq!(r.status, 200);
    let labels = api.namespace_labels("apps").unwrap();
    assert_eq!(labels["team"], "b");
    assert!(!labels.contains_key("pod-security.kubernetes.io/audit"), "no longer applied");
    // YAML bodies work, and a kubectl-label update then conflicts with the applier.
    let r = patch(
        &api,
        "/api/v1/namespaces/apps?fieldManager=kubectl-label",
        MERGE,
        r#"{"metadata":{"labels":{"team":"c"}}}"#,
    );
    assert_eq!(r.status, 200);
    let yaml = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: apps\n  labels:\n    team: d\n";
    let r = patch(&api, "/api/v1/namespaces/apps?fieldManager=psa-migrate", APPLY, yaml);
    assert_eq!(r.status, 409);
    assert!(
        r.json()["message"].as_str().unwrap().contains("conflict with \"kubectl-label\" using v1")
    );
    // force on a non-apply patch is rejected.
    let r = patch(&api, "/api/v1/namespaces/apps?force=true", MERGE, "{}");
    assert_eq!(r.status, 422);
    // Apply creates missing objects.
    let r = patch(
        &api,
        "/api/v1/namespaces/fresh?fieldManager=psa-migrate",
        APPLY,
        r#"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"fresh","labels":{"pod-security.kubernetes.io/enforce":"baseline"}}}"#,
    );
    assert_eq!(r.status, 201);
    assert_eq!(
        api.namespace_labels("fresh").unwrap()["pod-security.kubernetes.io/enforce"],
        "baseline"
    );
    // Mismatched names are a 400.
    assert_eq!(
        patch(
            &api,
            "/api/v1/namespaces/apps?fieldManager=m",
            APPLY,
            &body("").replace("\"apps\"", "\"other\"")
        )
        .status,
        400
    );
}

#[test]
fn resource_version_precondition() {
    let api = fake("1.24");
    let cur = get(&api, "/api/v1/namespaces/apps").json();
    let rv = cur["metadata"]["resourceVersion"].as_str().unwrap().to_owned();
    let stale = r#"{"metadata":{"resourceVersion":"424242","labels":{"a":"1"}}}"#;
    let r = patch(&api, "/api/v1/namespaces/apps", MERGE, stale);
    assert_eq!(r.status, 409);
    assert_eq!(r.json()["reason"], "Conflict");
    assert_eq!(
        r.json()["message"],
        "Operation cannot be fulfilled on namespaces \"apps\": the object has been modified; please apply your changes to the latest version and try again"
    );
    let fresh = format!(r#"{{"metadata":{{"resourceVersion":"{rv}","labels":{{"a":"1"}}}}}}"#);
    assert_eq!(patch(&api, "/api/v1/namespaces/apps", MERGE, &fresh).status, 200);
    // The same precondition again is now stale.
    assert_eq!(
        patch(&api, "/api/v1/namespaces/apps", MERGE, &fresh.replace("\"1\"}", "\"2\"}")).status,
        409
    );
    // PUT with a stale resourceVersion.
    let mut ns = get(&api, "/api/v1/namespaces/apps").json();
    ns["metadata"]["resourceVersion"] = "424242".into();
    let r = call(
        &api,
        "PUT",
        "/api/v1/namespaces/apps",
        &[("Content-Type", "application/json")],
        &ns.to_string(),
    )
    .unwrap();
    assert_eq!(r.status, 409);
    let mut ns = get(&api, "/api/v1/namespaces/apps").json();
    ns["metadata"]["labels"]["put"] = "yes".into();
    let r = call(
        &api,
        "PUT",
        "/api/v1/namespaces/apps",
        &[("Content-Type", "application/json")],
        &ns.to_string(),
    )
    .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(api.namespace_labels("apps").unwrap()["put"], "yes");
}

#[test]
fn dry_run_does_not_store() {
    let api = fake("1.24");
    let rv = api.resource_version();
    let before = api.namespace_labels("apps").unwrap();
    let r = patch(
        &api,
        "/api/v1/namespaces/apps?dryRun=All",
        MERGE,
        r#"{"metadata":{"labels":{"pod-security.kubernetes.io/enforce":"restricted"}}}"#,
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["metadata"]["labels"]["pod-security.kubernetes.io/enforce"], "restricted");
    assert_eq!(api.namespace_labels("apps").unwrap(), before);
    assert_eq!(api.resource_version(), rv);
    let r = patch(
        &api,
        "/api/v1/namespaces/apps?dryRun=All&fieldManager=m",
        APPLY,
        r#"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"apps","labels":{"z":"1"}}}"#,
    );
    assert_eq!(r.status, 200);
    assert_eq!(api.namespace_labels("apps").unwrap(), before);
    assert_eq!(api.resource_version(), rv);
    assert!(api.requests().iter().filter(|r| r.method == "PATCH").all(|r| r.dry_run));
    assert_eq!(patch(&api, "/api/v1/namespaces/apps?dryRun=Some", MERGE, "{}").status, 422);
}

#[test]
fn invalid_psa_labels() {
    let api = fake("1.24");
    let r = patch(
        &api,
        "/api/v1/namespaces/apps",
        MERGE,
        r#"{"metadata":{"labels":{"pod-security.kubernetes.io/enforce":"strict"}}}"#,
    );
    assert_eq!(r.status, 422);
    let j = r.json();
    assert_eq!(j["reason"], "Invalid");
    assert_eq!(
        j["message"],
        "Namespace \"apps\" is invalid: metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: \"strict\": must be one of privileged, baseline, restricted"
    );
    assert_eq!(j["details"]["kind"], "Namespace");
    assert_eq!(
        j["details"]["causes"][0]["field"],
        "metadata.labels[pod-security.kubernetes.io/enforce]"
    );
    assert_eq!(j["details"]["causes"][0]["reason"], "FieldValueInvalid");
    assert_eq!(
        j["details"]["causes"][0]["message"],
        "Invalid value: \"strict\": must be one of privileged, baseline, restricted"
    );
    let r = patch(
        &api,
        "/api/v1/namespaces/apps?dryRun=All",
        MERGE,
        r#"{"metadata":{"labels":{"pod-security.kubernetes.io/enforce-version":"1.25","pod-security.kubernetes.io/audit":"x"}}}"#,
    );
    assert_eq!(r.status, 422);
    assert_eq!(
        r.json()["message"],
        "Namespace \"apps\" is invalid: [metadata.labels[pod-security.kubernetes.io/enforce-version]: Invalid value: \"1.25\": must be \"latest\" or \"v1.x\", metadata.labels[pod-security.kubernetes.io/audit]: Invalid value: \"x\": must be one of privileged, baseline, restricted]"
    );
    // Syntactically invalid label values are rejected before admission.
    let r = patch(
        &api,
        "/api/v1/namespaces/apps",
        MERGE,
        r#"{"metadata":{"labels":{"k":"bad value"}}}"#,
    );
    assert_eq!(r.status, 422);
    assert!(r.json()["message"].as_str().unwrap().starts_with(
        "Namespace \"apps\" is invalid: metadata.labels: Invalid value: \"bad value\""
    ));
    // Before PodSecurity existed (1.21) the labels are not validated.
    let old = fake("1.21");
    assert_eq!(
        patch(
            &old,
            "/api/v1/namespaces/apps",
            MERGE,
            r#"{"metadata":{"labels":{"pod-security.kubernetes.io/enforce":"strict"}}}"#
        )
        .status,
        200
    );
}

#[test]
fn psa_warnings_on_enforce_change() {
    let api = fake("1.24");
    let r = patch(
        &api,
        "/api/v1/namespaces/apps?dryRun=All",
        MERGE,
        r#"{"metadata":{"labels":{"pod-security.kubernetes.io/enforce":"baseline"}}}"#,
    );
    assert_eq!(r.status, 200);
    let w = r.warnings();
    assert_eq!(
        w[0],
        "299 - \"existing pods in namespace \\\"apps\\\" violate the new PodSecurity enforce level \\\"baseline:latest\\\"\""
    );
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(w[1].starts_with("299 - \"priv-0 (and 1 other pod): "), "{w:?}");
    let logged = api.requests().last().unwrap().warnings.clone();
    assert_eq!(
        logged[0],
        "existing pods in namespace \"apps\" violate the new PodSecurity enforce level \"baseline:latest\""
    );
    // Relaxing or keeping the level does not check pods.
    patch(
        &api,
        "/api/v1/namespaces/apps",
        MERGE,
        r#"{"metadata":{"labels":{"pod-security.kubernetes.io/enforce":"restricted"}}}"#,
    );
    let r = patch(
        &api,
        "/api/v1/namespaces/apps",
        MERGE,
        r#"{"metadata":{"labels":{"pod-security.kubernetes.io/enforce":"baseline"}}}"#,
    );
    assert!(r.warnings().is_empty());
    // A pinned version change is checked even when the level relaxes.
    let r = patch(
        &api,
        "/api/v1/namespaces/apps",
        MERGE,
        r#"{"metadata":{"labels":{"pod-security.kubernetes.io/enforce-version":"v1.23"}}}"#,
    );
    assert_eq!(r.warnings().len(), 2);
    assert!(r.warnings()[0].contains("\\\"baseline:v1.23\\\""));
    // The cap: only the first N pods (controller-deduplicated first) are checked.
    let api = FakeApi::start(
        FakeConfig::new().yaml(CLUSTER).psa(PsaConfig { max_pods: 2, ..PsaConfig::default() }),
    );
    let r = patch(
        &api,
        "/api/v1/namespaces/apps?dryRun=All",
        MERGE,
        r#"{"metadata":{"labels":{"pod-security.kubernetes.io/enforce":"baseline"}}}"#,
    );
    let w = r.warnings();
    assert_eq!(
        w[0],
        "299 - \"new PodSecurity enforce level only checked against the first 2 of 3 existing pods\""
    );
    assert!(w[2].starts_with("299 - \"priv-0: "), "{w:?}");
    // Exempt namespaces answer with the exemption warning instead.
    let api = FakeApi::start(
        FakeConfig::new()
            .yaml(CLUSTER)
            .psa(PsaConfig { exempt_namespaces: vec!["apps".into()], ..PsaConfig::default() }),
    );
    let r = patch(
        &api,
        "/api/v1/namespaces/apps?dryRun=All",
        MERGE,
        r#"{"metadata":{"labels":{"pod-security.kubernetes.io/enforce":"baseline"}}}"#,
    );
    assert_eq!(
        r.warnings(),
        [
            "299 - \"namespace \\\"apps\\\" is exempt from Pod Security, and the policy (enforce=baseline:latest) will be ignored\""
        ]
    );
}

#[test]
fn pod_create_is_admitted() {
    let api = fake("1.24");
    patch(
        &api,
        "/api/v1/namespaces/apps",
        MERGE,
        r#"{"metadata":{"labels":{"pod-security.kubernetes.io/enforce":"baseline"}}}"#,
    );
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "x", "securityContext": {"privileged": true}}]}});
    let r = call(
        &api,
        "POST",
        "/api/v1/namespaces/apps/pods",
        &[("Content-Type", "application/json")],
        &pod.to_string(),
    )
    .unwrap();
    assert_eq!(r.status, 403);
    assert!(r.json()["message"].as_str().unwrap().starts_with(
        "pods \"p\" is forbidden: violates PodSecurity \"baseline:latest\": privileged"
    ));
    let ok = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "q"}, "spec": {"containers": [{"name": "c", "image": "x"}]}});
    let r = call(
        &api,
        "POST",
        "/api/v1/namespaces/apps/pods",
        &[("Content-Type", "application/json")],
        &ok.to_string(),
    )
    .unwrap();
    assert_eq!(r.status, 201);
    assert!(api.object("v1", "pods", Some("apps"), "q").is_some());
    let r = call(
        &api,
        "POST",
        "/api/v1/namespaces/apps/pods",
        &[("Content-Type", "application/json")],
        &ok.to_string(),
    )
    .unwrap();
    assert_eq!(r.status, 409);
    assert_eq!(r.json()["reason"], "AlreadyExists");
    let r = call(&api, "DELETE", "/api/v1/namespaces/apps/pods/q", &[], "").unwrap();
    assert_eq!(r.status, 200);
    assert!(api.object("v1", "pods", Some("apps"), "q").is_none());
}

#[test]
fn table_and_metadata_formats() {
    let api = fake("1.24");
    let table_accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";
    let r = call(&api, "GET", "/api/v1/pods?limit=2", &[("Accept", table_accept)], "").unwrap();
    let t = r.json();
    assert_eq!(t["kind"], "Table");
    assert_eq!(t["columnDefinitions"][0]["name"], "Name");
    assert_eq!(t["rows"][0]["cells"][0], "plain");
    assert_eq!(t["rows"][0]["object"]["kind"], "PartialObjectMetadata");
    assert_eq!(t["rows"][0]["object"]["metadata"]["namespace"], "apps");
    assert!(t["metadata"]["continue"].is_string());
    let r = call(
        &api,
        "GET",
        "/api/v1/namespaces/apps?includeObject=None",
        &[("Accept", table_accept)],
        "",
    )
    .unwrap();
    assert_eq!(r.json()["rows"][0]["cells"][1], "Active");
    assert!(r.json()["rows"][0].get("object").is_none());
    let r = call(
        &api,
        "GET",
        "/api/v1/pods",
        &[("Accept", "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1")],
        "",
    )
    .unwrap();
    let m = r.json();
    assert_eq!(m["kind"], "PartialObjectMetadataList");
    assert_eq!(m["items"].as_array().unwrap().len(), 5);
    assert!(m["items"][0].get("spec").is_none());
}

#[test]
fn request_log_records_requests() {
    let api = fake("1.24");
    get(&api, "/api/v1/pods?limit=7&labelSelector=app%3Dweb");
    patch(&api, "/api/v1/namespaces/apps?dryRun=All&fieldManager=t", MERGE, "{}");
    let reqs = api.requests();
    assert_eq!(reqs[0].method, "GET");
    assert_eq!(reqs[0].path, "/api/v1/pods");
    assert_eq!(reqs[0].param("limit"), Some("7"));
    assert_eq!(reqs[0].param("labelSelector"), Some("app=web"));
    assert_eq!(reqs[1].content_type.as_deref(), Some(MERGE));
    assert!(reqs[1].dry_run);
    assert_eq!(reqs[1].body, "{}");
    assert_eq!(api.requests_to("/pods").len(), 1);
    api.clear_requests();
    assert!(api.requests().is_empty());
}

#[test]
fn loads_a_cluster_directory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("all.yaml"), CLUSTER).unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(
        dir.path().join("sub/cm.json"),
        r#"{"apiVersion":"v1","kind":"ConfigMapList","items":[{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","namespace":"ghost"}}]}"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("version.yaml"),
        "serverVersion:\n  major: \"1\"\n  minor: \"23+\"\n  gitVersion: v1.23.17-eks-1\n",
    )
    .unwrap();
    let api = FakeApi::start(FakeConfig::new().dir(dir.path()));
    assert_eq!(api.minor(), 23);
    assert_eq!(get(&api, "/version").json()["gitVersion"], "v1.23.17-eks-1");
    assert_eq!(api.names("v1", "configmaps"), ["ghost/c"]);
    // The namespace of the config map exists implicitly.
    assert!(api.names("v1", "namespaces").contains(&"ghost".to_owned()));
    assert_eq!(api.names("v1", "secrets"), Vec::<String>::new());
    // The version override wins over version.yaml.
    let api = FakeApi::start(FakeConfig::new().dir(dir.path()).version("1.26"));
    assert_eq!(api.minor(), 26);
    assert!(api.names("policy/v1beta1", "podsecuritypolicies").is_empty());
}

#[tokio::test]
async fn kube_client_paginates_and_patches() {
    use k8s_openapi::api::core::v1::{Namespace, Pod};
    use kube::api::{Api, ListParams, Patch, PatchParams};

    let api = fake("1.24");
    let client = api.kube_client().await;
    let pods: Api<Pod> = Api::all(client.clone());
    let mut seen = Vec::new();
    let mut lp = ListParams::default().limit(2);
    loop {
        let page = pods.list(&lp).await.unwrap();
        seen.extend(page.items.iter().map(|p| p.metadata.name.clone().unwrap()));
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(c) => lp = lp.continue_token(&c),
            None => break,
        }
    }
    assert_eq!(seen, ["plain", "priv-0", "priv-1", "job-a", "job-b"]);
    let nss: Api<Namespace> = Api::all(client);
    let pp = PatchParams::apply("psa-migrate").dry_run();
    let body = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps", "labels": {"pod-security.kubernetes.io/enforce": "baseline"}}});
    let ns = nss.patch("apps", &pp, &Patch::Apply(&body)).await.unwrap();
    assert_eq!(ns.metadata.labels.unwrap()["pod-security.kubernetes.io/enforce"], "baseline");
    assert!(
        !api.namespace_labels("apps").unwrap().contains_key("pod-security.kubernetes.io/enforce")
    );
    let req = api.requests().into_iter().find(|r| r.method == "PATCH").unwrap();
    assert_eq!(req.content_type.as_deref(), Some(APPLY));
    assert_eq!(req.param("fieldManager"), Some("psa-migrate"));
    assert!(req.dry_run);
    let err = nss.get("nope").await.unwrap_err();
    assert!(matches!(err, kube::Error::Api(ref s) if s.code == 404), "{err:?}");
}

#[tokio::test]
async fn kube_client_over_tls_with_client_certificate() {
    use k8s_openapi::api::core::v1::Namespace;
    use kube::api::{Api, ListParams};

    let api = FakeApi::start(FakeConfig::new().yaml(CLUSTER).require_client_cert());
    assert!(api.url().starts_with("https://127.0.0.1:"));
    let yaml = api.kubeconfig_yaml();
    assert!(yaml.contains("certificate-authority-data:") && yaml.contains("client-key-data:"));
    let nss: Api<Namespace> = Api::all(api.kube_client().await);
    let list = nss.list(&ListParams::default()).await.unwrap();
    let names: Vec<String> = list.items.iter().map(|n| n.metadata.name.clone().unwrap()).collect();
    assert_eq!(names, ["apps", "batch"]);
    // Without a client certificate the handshake fails.
    let mut no_cert =
        yaml.lines().filter(|l| !l.contains("client-")).collect::<Vec<_>>().join("\n");
    no_cert = no_cert.replace("  user:\n", "  user: {}\n");
    let kc = kube::config::Kubeconfig::from_yaml(&no_cert).unwrap();
    let config =
        kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
            .await
            .unwrap();
    let nss: Api<Namespace> = Api::all(kube::Client::try_from(config).unwrap());
    assert!(nss.list(&ListParams::default()).await.is_err());
}

#[test]
fn usable_from_inside_an_async_runtime() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let api = fake("1.24");
        assert_eq!(get(&api, "/version").status, 200);
        api.shutdown();
    });
}
