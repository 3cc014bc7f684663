//! An inventory written back as an offline export: one `List` YAML per kind (`pods.yaml`,
//! `namespaces.yaml`, …) plus `version.yaml` in `kubectl version -o yaml` shape, which
//! `psa-migrate -f DIR` reads back to the same inventory (provenance aside).
//!
//! The inventory is compact, so the export is too: objects carry only what the tool reads
//! (pods and templates keep their security-relevant spec fields and the seccomp, AppArmor and
//! `kubernetes.io/psp` annotations; labels of pods are dropped; a Job's "finished" state is
//! written as a `Complete` condition). RBAC objects and PSPs are complete. Volumes are written
//! with empty sources (`hostPath: {}`), since only which source is set matters. The files are
//! for this tool and for reading, not for `kubectl apply`.
//!
//! Custom resources with pod templates are written as the inventory keeps them
//! ([`crate::custom::kept`]: no environment, arguments, scripts or credentials), all kinds in
//! `customresources.yaml`.
//!
//! Not exported: `ignored` counts (objects of kinds the tool does not keep were never kept)
//! and kinds the source could not read (no file is written for those, so an export never claims
//! "no PSPs" when PSPs were simply unreadable).
//!
//! Pure: no I/O. Output is deterministic for a given inventory.

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::decode::{EXPORT_RECORD_API_VERSION, EXPORT_RECORD_KIND};
use crate::model::inventory::{
    Inventory, Listed, ListedResource, PodKind, PodObject, ServerVersion,
};

/// One file of an export.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportFile {
    /// File name, e.g. `pods.yaml`.
    pub name: &'static str,
    /// Plural resource name it holds (`version` for `version.yaml`).
    pub resource: &'static str,
    pub objects: usize,
    pub text: String,
}

/// Every file name an export may write, in writing order.
pub const FILE_NAMES: &[&str] = &[
    "export-record.yaml",
    "version.yaml",
    "namespaces.yaml",
    "serviceaccounts.yaml",
    "podsecuritypolicies.yaml",
    "roles.yaml",
    "clusterroles.yaml",
    "rolebindings.yaml",
    "clusterrolebindings.yaml",
    "pods.yaml",
    "deployments.yaml",
    "replicasets.yaml",
    "statefulsets.yaml",
    "daemonsets.yaml",
    "replicationcontrollers.yaml",
    "jobs.yaml",
    "cronjobs.yaml",
    "podtemplates.yaml",
    "customresources.yaml",
];

#[derive(Debug, thiserror::Error)]
#[error("cannot serialize {file}: {message}")]
pub struct ExportError {
    pub file: &'static str,
    pub message: String,
}

/// The export files for an inventory. Kinds listed in `inv.unavailable` get no file.
pub fn export_files(inv: &Inventory) -> Result<Vec<ExportFile>, ExportError> {
    let skipped = |resource: &str| {
        inv.unavailable.iter().any(|u| u.resource.split('.').next() == Some(resource))
    };
    let mut files = Vec::new();
    if let Some(listed) = &inv.listed {
        files.push(record_file(listed)?);
    }
    if let Some(v) = &inv.server_version {
        files.push(version_file(v)?);
    }
    let mut push = |name: &'static str,
                    resource: &'static str,
                    items: Vec<Value>|
     -> Result<(), ExportError> {
        if skipped(resource) {
            return Ok(());
        }
        files.push(list_file(name, resource, items)?);
        Ok(())
    };
    push(
        "namespaces.yaml",
        "namespaces",
        inv.namespaces
            .iter()
            .map(|n| object("v1", "Namespace", [("metadata", to_value(&n.metadata))]))
            .collect(),
    )?;
    push(
        "serviceaccounts.yaml",
        "serviceaccounts",
        inv.service_accounts
            .iter()
            .map(|m| object("v1", "ServiceAccount", [("metadata", to_value(&m.obj))]))
            .collect(),
    )?;
    push(
        "podsecuritypolicies.yaml",
        "podsecuritypolicies",
        inv.psps
            .iter()
            .map(|p| {
                let api_version =
                    if p.api_version.is_empty() { "policy/v1beta1" } else { &p.api_version };
                object(
                    api_version,
                    "PodSecurityPolicy",
                    [("metadata", to_value(&p.metadata)), ("spec", to_value(&p.spec))],
                )
            })
            .collect(),
    )?;
    push("roles.yaml", "roles", inv.roles.iter().map(|r| to_value(&r.obj)).collect())?;
    push(
        "clusterroles.yaml",
        "clusterroles",
        inv.cluster_roles.iter().map(|r| to_value(&r.obj)).collect(),
    )?;
    push(
        "rolebindings.yaml",
        "rolebindings",
        inv.role_bindings.iter().map(|r| to_value(&r.obj)).collect(),
    )?;
    push(
        "clusterrolebindings.yaml",
        "clusterrolebindings",
        inv.cluster_role_bindings.iter().map(|r| to_value(&r.obj)).collect(),
    )?;
    for (name, resource, kind) in [
        ("pods.yaml", "pods", PodKind::Pod),
        ("deployments.yaml", "deployments", PodKind::Deployment),
        ("replicasets.yaml", "replicasets", PodKind::ReplicaSet),
        ("statefulsets.yaml", "statefulsets", PodKind::StatefulSet),
        ("daemonsets.yaml", "daemonsets", PodKind::DaemonSet),
        ("replicationcontrollers.yaml", "replicationcontrollers", PodKind::ReplicationController),
        ("jobs.yaml", "jobs", PodKind::Job),
        ("cronjobs.yaml", "cronjobs", PodKind::CronJob),
        ("podtemplates.yaml", "podtemplates", PodKind::PodTemplate),
    ] {
        let items = inv.pod_objects.iter().filter(|p| p.kind == kind).map(pod_object).collect();
        push(name, resource, items)?;
    }
    // Custom resources as the inventory keeps them, every kind in one list; kinds that could
    // not be listed are simply absent (the export record does not name them).
    if !inv.custom_resources.is_empty() {
        let items = inv.custom_resources.iter().map(|o| o.obj.clone()).collect();
        files.push(list_file("customresources.yaml", "customresources", items)?);
    }
    Ok(files)
}

fn to_value<T: Serialize>(v: &T) -> Value {
    // Serializing our own model types and k8s-openapi types into a JSON value cannot fail: all
    // map keys are strings.
    serde_json::to_value(v).unwrap_or(Value::Null)
}

fn object<const N: usize>(api_version: &str, kind: &str, fields: [(&str, Value); N]) -> Value {
    let mut m = Map::new();
    m.insert("apiVersion".into(), Value::String(api_version.to_owned()));
    m.insert("kind".into(), Value::String(kind.to_owned()));
    for (k, v) in fields {
        m.insert(k.to_owned(), v);
    }
    Value::Object(m)
}

/// A pod, workload or PodTemplate in API shape, from its compact record.
fn pod_object(p: &PodObject) -> Value {
    let metadata = to_value(&p.meta);
    let template = || {
        let mut meta = Map::new();
        if !p.template_annotations.is_empty() {
            meta.insert("annotations".into(), to_value(&p.template_annotations));
        }
        json!({ "metadata": Value::Object(meta), "spec": p.spec.to_api() })
    };
    let kind = p.kind.as_str();
    match p.kind {
        PodKind::Pod => {
            let mut fields = vec![("metadata", metadata), ("spec", p.spec.to_api())];
            if let Some(phase) = &p.state.phase {
                fields.push(("status", json!({ "phase": phase })));
            }
            let mut obj = object(&p.api_version, kind, []);
            extend(&mut obj, fields);
            obj
        }
        PodKind::PodTemplate => {
            object(&p.api_version, kind, [("metadata", metadata), ("template", template())])
        }
        _ => {
            let mut spec = Map::new();
            if let Some(r) = p.state.replicas {
                spec.insert("replicas".into(), json!(r));
            }
            if p.kind == PodKind::CronJob {
                if p.state.suspended {
                    spec.insert("suspend".into(), json!(true));
                }
                spec.insert("jobTemplate".into(), json!({ "spec": { "template": template() } }));
            } else {
                spec.insert("template".into(), template());
            }
            let mut fields = vec![("metadata", metadata), ("spec", Value::Object(spec))];
            if p.kind == PodKind::Job && p.state.finished {
                fields.push((
                    "status",
                    json!({ "conditions": [{ "type": "Complete", "status": "True" }] }),
                ));
            }
            let mut obj = object(&p.api_version, kind, []);
            extend(&mut obj, fields);
            obj
        }
    }
}

fn extend(obj: &mut Value, fields: Vec<(&str, Value)>) {
    if let Some(m) = obj.as_object_mut() {
        for (k, v) in fields {
            m.insert(k.to_owned(), v);
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ListDoc<'a> {
    api_version: &'static str,
    kind: &'static str,
    metadata: Map<String, Value>,
    items: &'a [Value],
}

fn list_file(
    name: &'static str,
    resource: &'static str,
    items: Vec<Value>,
) -> Result<ExportFile, ExportError> {
    let doc = ListDoc { api_version: "v1", kind: "List", metadata: Map::new(), items: &items };
    let yaml = serde_saphyr::to_string(&doc)
        .map_err(|e| ExportError { file: name, message: e.to_string() })?;
    let text = format!(
        "# psa-migrate export: {resource}. Compact objects: only the fields psa-migrate reads.\n\
         # Read back with `psa-migrate -f <this directory>`.\n{yaml}"
    );
    Ok(ExportFile { name, resource, objects: items.len(), text })
}

/// `export-record.yaml`: which resources were listed, and where. Only a record proves that the
/// export holds every pod, workload and RBAC object (a plain `List` cannot show it was read
/// with `-A`), so the plan may call the export complete.
fn record_file(listed: &Listed) -> Result<ExportFile, ExportError> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct RecordDoc<'a> {
        api_version: &'static str,
        kind: &'static str,
        listed: &'a [ListedResource],
    }
    let name = "export-record.yaml";
    let doc = RecordDoc {
        api_version: EXPORT_RECORD_API_VERSION,
        kind: EXPORT_RECORD_KIND,
        listed: &listed.resources,
    };
    let yaml = serde_saphyr::to_string(&doc)
        .map_err(|e| ExportError { file: name, message: e.to_string() })?;
    Ok(ExportFile {
        name,
        resource: "export-record",
        objects: 1,
        text: format!(
            "# psa-migrate export: what was listed (a resource without a namespace was listed in\n\
             # every namespace). The plan counts a namespace complete only for resources listed here.\n{yaml}"
        ),
    })
}

fn version_file(v: &ServerVersion) -> Result<ExportFile, ExportError> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct VersionDoc<'a> {
        server_version: &'a ServerVersion,
    }
    let name = "version.yaml";
    let yaml = serde_saphyr::to_string(&VersionDoc { server_version: v })
        .map_err(|e| ExportError { file: name, message: e.to_string() })?;
    Ok(ExportFile {
        name,
        resource: "version",
        objects: 1,
        text: format!(
            "# psa-migrate export: the server version (`kubectl version -o yaml` shape).\n{yaml}"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::inventory::Unavailable;
    use crate::source::offline::{OfflineOptions, parse_text};

    /// Reads export files back as the offline source would.
    fn read_back(files: &[ExportFile]) -> Inventory {
        let mut inv = Inventory::default();
        let mut errors = Vec::new();
        for f in files {
            parse_text(&f.text, f.name, false, &OfflineOptions::default(), &mut inv, &mut errors);
        }
        assert!(errors.is_empty(), "{errors:?}");
        inv.sort();
        inv
    }

    fn sample() -> Inventory {
        let text = r#"
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Pod
  metadata:
    name: p
    namespace: web
    labels: {app: x}
    annotations: {kubernetes.io/psp: restricted, other: dropped, "container.apparmor.security.beta.kubernetes.io/c": "runtime/default"}
    ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: rs, uid: "1", controller: true}]
  spec:
    hostNetwork: true
    volumes:
    - {name: a, hostPath: {path: /}}
    - {name: b}
    - {name: c, emptyDir: {}}
    - {name: d, configMap: {name: x}, secret: {secretName: y}}
    containers:
    - name: c
      image: nginx
      ports: [{containerPort: 80, hostPort: 8080}]
      securityContext: {privileged: true, capabilities: {add: [NET_ADMIN], drop: []}, seccompProfile: {type: Localhost, localhostProfile: "0755"}}
      livenessProbe: {httpGet: {host: "on", port: 80}}
    securityContext: {runAsUser: 0, sysctls: [{name: kernel.shm_rmid_forced, value: "1"}]}
  status: {phase: Running}
- apiVersion: batch/v1
  kind: CronJob
  metadata: {name: cj, namespace: web}
  spec: {suspend: true, jobTemplate: {spec: {template: {metadata: {annotations: {seccomp.security.alpha.kubernetes.io/pod: unconfined}}, spec: {hostPID: true}}}}}
- apiVersion: batch/v1
  kind: Job
  metadata: {name: j, namespace: web}
  spec: {template: {spec: {containers: [{name: c}]}}}
  status: {conditions: [{type: Failed, status: "True"}]}
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: d, namespace: web}
  spec: {replicas: 0, template: {spec: {hostIPC: true}}}
- apiVersion: v1
  kind: PodTemplate
  metadata: {name: t, namespace: web}
  template: {metadata: {annotations: {kubernetes.io/psp: p}}, spec: {containers: [{name: c}]}}
- apiVersion: policy/v1beta1
  kind: PodSecurityPolicy
  metadata: {name: restricted, annotations: {"seccomp.security.alpha.kubernetes.io/allowedProfileNames": "runtime/default"}}
  spec:
    privileged: false
    volumes: [configMap, secret]
    runAsUser: {rule: MustRunAsNonRoot}
    seLinux: {rule: RunAsAny}
    supplementalGroups: {rule: MustRunAs, ranges: [{min: 1, max: 65535}]}
    fsGroup: {rule: RunAsAny}
    allowedHostPaths: [{pathPrefix: /var/log, readOnly: true}]
    hostPorts: [{min: 0, max: 0}]
- apiVersion: rbac.authorization.k8s.io/v1
  kind: ClusterRole
  metadata: {name: psp-restricted, creationTimestamp: "2021-01-02T03:04:05Z", labels: {"yes": "no"}}
  rules: [{apiGroups: [policy], resources: [podsecuritypolicies], resourceNames: [restricted], verbs: [use]}]
- apiVersion: rbac.authorization.k8s.io/v1
  kind: RoleBinding
  metadata: {name: rb, namespace: web}
  roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: psp-restricted}
  subjects: [{kind: Group, apiGroup: rbac.authorization.k8s.io, name: "system:serviceaccounts:web"}]
- apiVersion: v1
  kind: Namespace
  metadata: {name: web, labels: {pod-security.kubernetes.io/enforce: baseline, "n": "NO"}}
- apiVersion: v1
  kind: ServiceAccount
  metadata: {name: default, namespace: web}
---
apiVersion: ray.io/v1
kind: RayCluster
metadata: {name: llm, namespace: ml, labels: {team: a}}
spec:
  headGroupSpec:
    template:
      spec:
        containers:
        - name: head
          image: ray
          env: [{name: TOKEN, value: s3cr3t}]
          securityContext: {privileged: true}
"#;
        let mut inv = Inventory::default();
        let mut errors = Vec::new();
        parse_text(text, "in.yaml", false, &OfflineOptions::default(), &mut inv, &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        inv.listed = Some(Listed {
            resources: vec![
                ListedResource { resource: "namespaces".into(), namespace: None },
                ListedResource { resource: "pods".into(), namespace: Some("ml".into()) },
            ],
        });
        inv.server_version = Some(ServerVersion {
            major: "1".into(),
            minor: "24+".into(),
            git_version: "v1.24.17-eks-1".into(),
        });
        inv.sort();
        inv
    }

    #[test]
    fn round_trips_through_the_offline_reader() {
        let inv = sample();
        let files = export_files(&inv).unwrap();
        let back = read_back(&files);
        assert_eq!(inv.diff_ignoring_provenance(&back), Vec::<String>::new());
        assert_eq!(back.pod_objects.len(), 6);
        assert_eq!(back.custom_resources.len(), 1);
        let crs = files.iter().find(|f| f.name == "customresources.yaml").unwrap();
        assert!(
            crs.text.contains("kind: RayCluster") && !crs.text.contains("s3cr3t"),
            "{}",
            crs.text
        );
        assert_eq!(back.listed, inv.listed, "the export record reads back");
        // Determinism.
        assert_eq!(export_files(&back).unwrap(), files);
    }

    #[test]
    fn every_file_is_written_and_unreadable_kinds_are_not() {
        let mut inv = sample();
        let names: Vec<&str> = export_files(&inv).unwrap().iter().map(|f| f.name).collect();
        assert_eq!(names, FILE_NAMES);
        inv.unavailable.push(Unavailable {
            resource: "podsecuritypolicies.policy".into(),
            code: crate::findings::Code::ApiNotServed,
            message: String::new(),
        });
        inv.server_version = None;
        let files = export_files(&inv).unwrap();
        assert!(
            files.iter().all(|f| f.name != "podsecuritypolicies.yaml" && f.name != "version.yaml")
        );
        assert_eq!(files.len(), FILE_NAMES.len() - 2);
    }

    #[test]
    fn yaml_shape() {
        let files = export_files(&sample()).unwrap();
        let record = &files[0];
        assert!(
            record.text.contains(
                "kind: ExportRecord\nlisted:\n- resource: namespaces\n- resource: pods\n  namespace: ml\n"
            ),
            "{}",
            record.text
        );
        let version = &files[1];
        assert!(version.text.contains("serverVersion:\n  major: \"1\"\n"), "{}", version.text);
        let ns = files.iter().find(|f| f.name == "namespaces.yaml").unwrap();
        assert!(ns.text.contains("apiVersion: v1\nkind: List\n"), "{}", ns.text);
        let pods = files.iter().find(|f| f.name == "pods.yaml").unwrap();
        assert!(pods.text.contains("hostPath:"), "{}", pods.text);
        assert!(!pods.text.contains("other"), "{}", pods.text);
    }
}
