//! Pod templates inside custom resources: the operators of an ML platform (Kubeflow, Ray, KServe,
//! Argo, Tekton, …) create pods from templates in their resources, and Pod Security judges
//! those pods. The [`registry`] knows, per kind, where the templates are, how the operator
//! turns them into pods, what it adds to them and when the resource is live; any other custom
//! resource is scanned for embedded templates ([`generic`]).
//!
//! Each template becomes one [`PodObject`] of kind [`PodKind::Custom`], named by the resource
//! and the template's path. Pure: no I/O.

pub mod build;
pub mod registry;

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::model::inventory::{
    CustomTemplate, Locations, ObjectState, PodKind, PodObject, Provenance,
};
use crate::model::pod::{ObjectMeta, PodSpec, is_kept_pod_annotation};

pub use registry::{Entry, REGISTRY};

/// What the registry calls a template found by the generic scan.
pub const GENERIC: &str = "generic";

/// API groups of built-in kinds (and of add-ons that hold no pod templates): never scanned.
/// A registry group is custom even under `.k8s.io` (`sparkoperator.k8s.io`).
fn is_builtin_group(group: &str) -> bool {
    if REGISTRY.iter().any(|e| e.group == group) {
        return false;
    }
    !group.contains('.')
        || (group.ends_with(".k8s.io") && !group.ends_with(".x-k8s.io"))
        || group == "psa-migrate.io"
}

/// Whether objects of this apiVersion are custom resources (read for templates, never built-in
/// kinds such as Secrets).
pub fn is_custom_api_version(api_version: &str) -> bool {
    api_version.split_once('/').is_some_and(|(g, _)| !is_builtin_group(g))
}

/// Whether a qualified resource name (`rayclusters.ray.io`) is a custom resource.
pub fn is_custom_resource(qualified: &str) -> bool {
    qualified.split_once('.').is_some_and(|(_, group)| !is_builtin_group(group))
}

/// The registry entry of a kind, by apiVersion (`ray.io/v1`) and kind.
pub fn entry(api_version: &str, kind: &str) -> Option<&'static Entry> {
    REGISTRY.iter().find(|e| e.kind == kind && e.api_versions.contains(&api_version))
}

/// Whether a kind (of any version) is in the registry: such documents are always read.
pub fn is_registered_kind(kind: &str) -> bool {
    REGISTRY.iter().any(|e| e.kind == kind)
}

/// One template found in a resource, before it is decoded.
#[derive(Debug, Default)]
pub struct Found {
    /// Dotted path of the template (`spec.workerGroupSpecs[0].template`).
    pub path: String,
    /// The pod template's annotations, as JSON (`None`: the template has no metadata).
    pub annotations: Option<Value>,
    /// The pod spec as the operator builds it (the operator's injected containers included).
    pub spec: Value,
    /// Containers the operator adds, each with where its security context is configured.
    pub injected: BTreeMap<String, String>,
    pub locations: Locations,
    /// The runtime it takes part of its pod from.
    pub uses: Option<crate::model::inventory::Uses>,
    /// Why this template runs no pods although the resource is live (a worker group scaled
    /// to zero).
    pub dead: Option<&'static str>,
}

/// A template could not be read: its path and why.
#[derive(Debug, PartialEq, Eq)]
pub struct TemplateError {
    pub field: String,
    pub message: String,
}

/// Reads every pod template of a custom resource. `Ok(empty)` when it holds none (a kind the
/// registry knows, or any other, never an error for that).
pub fn decode(
    api_version: &str,
    kind: &str,
    value: &Value,
) -> Result<Vec<PodObject>, TemplateError> {
    let entry = entry(api_version, kind);
    let found = match entry {
        Some(e) => (e.templates)(value),
        None => generic(value),
    };
    if found.is_empty() {
        return Ok(Vec::new());
    }
    let mut meta: ObjectMeta =
        serde_json::from_value(value.get("metadata").cloned().unwrap_or(Value::Object(Map::new())))
            .map_err(|e| TemplateError { field: "metadata".into(), message: e.to_string() })?;
    meta.labels.clear();
    meta.annotations.retain(|k, _| is_kept_pod_annotation(k));
    let dead = match entry {
        Some(e) => (e.dead)(value),
        None => None,
    };
    let name = entry.map_or(GENERIC.to_owned(), |e| format!("{}/{}", e.group, e.kind));
    let mut out = Vec::with_capacity(found.len());
    for f in found {
        let mut spec: PodSpec = serde_path_to_error::deserialize(&f.spec).map_err(|e| {
            let at = e.path().to_string();
            TemplateError {
                field: if at == "." {
                    format!("{}.spec", f.path)
                } else {
                    format!("{}.{at}", f.path)
                },
                message: e.into_inner().to_string(),
            }
        })?;
        spec.shrink_to_fit();
        let annotations: BTreeMap<String, String> = f
            .annotations
            .as_ref()
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter(|(k, _)| is_kept_pod_annotation(k))
            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
            .collect();
        out.push(PodObject {
            kind: PodKind::Custom,
            api_version: api_version.to_owned(),
            meta: meta.clone(),
            template_annotations: annotations,
            spec,
            state: ObjectState::default(),
            source: Provenance::Live { server: String::new() },
            custom: Some(Box::new(CustomTemplate {
                kind: kind.to_owned(),
                path: f.path,
                entry: name.clone(),
                cluster_scoped: entry.is_some_and(|e| !e.namespaced),
                dead: dead.or(f.dead).map(str::to_owned),
                injected: f.injected,
                locations: f.locations,
                uses: f.uses,
            })),
        });
    }
    Ok(out)
}

/// Completes the templates that take part of their pod from a runtime, once the whole input is
/// read: an InferenceService predictor's `kserve-container` is the serving runtime's merged
/// with the model spec (strategic merge, as KServe does), and the runtime's other containers
/// and volumes join the pod; a TrainJob runs the pod templates of its training runtime. A
/// runtime that is not in the input is a `custom-runtime-missing` finding. Call it after
/// reading (it is idempotent: a template is resolved once); it sorts the inventory.
pub fn resolve(inv: &mut crate::model::inventory::Inventory) {
    use crate::findings::{Code, Finding};
    let mut added = Vec::new();
    let mut placeholders = Vec::new();
    for i in 0..inv.pod_objects.len() {
        let Some(uses) = inv.pod_objects[i].custom.as_mut().and_then(|c| c.uses.take()) else {
            continue;
        };
        let o = &inv.pod_objects[i];
        let found = uses.kinds.iter().find_map(|k| {
            let of_kind: Vec<PodObject> = inv
                .pod_objects
                .iter()
                .filter(|r| r.kind_name() == *k && r.name() == uses.name && r.custom.is_some())
                .filter(|r| r.is_cluster_scoped() || r.namespace() == o.namespace())
                .cloned()
                .collect();
            (!of_kind.is_empty()).then_some((*k, of_kind))
        });
        let is_train_job = o.kind_name() == "TrainJob";
        if is_train_job {
            placeholders.push(i);
        }
        let Some((kind, runtime)) = found else {
            let message = if uses.name.is_empty() {
                format!(
                    "chooses its runtime at admission (by model format): its pods are judged \
                     without {}",
                    uses.what
                )
            } else {
                format!(
                    "uses {} {}, which is not in the input: its pods are judged without {}",
                    uses.kinds.join(" or "),
                    uses.name,
                    uses.what
                )
            };
            inv.findings.push(Finding::new(Code::CustomRuntimeMissing, o.object_ref(), message));
            continue;
        };
        let from = format!("{kind} {}", uses.name);
        if is_train_job {
            for r in runtime {
                let mut t = o.clone();
                t.spec = r.spec;
                t.template_annotations = r.template_annotations;
                if let (Some(c), Some(rc)) = (t.custom.as_mut(), r.custom) {
                    c.path = format!("{from} {}", rc.path);
                    c.injected = rc.injected;
                    c.locations = Locations::default();
                }
                added.push(t);
            }
        } else if let Some(r) = runtime.into_iter().next() {
            merge_runtime(&mut inv.pod_objects[i], &r, &from);
        }
    }
    for i in placeholders.into_iter().rev() {
        inv.pod_objects.remove(i);
    }
    inv.pod_objects.extend(added);
    inv.sort();
}

/// Merges a serving runtime's pod parts into an InferenceService predictor, as KServe does:
/// the runtime's `kserve-container` under the model spec's, the runtime's other containers
/// and its volumes. What comes from the runtime is fixed there.
fn merge_runtime(o: &mut PodObject, runtime: &PodObject, from: &str) {
    let Some(c) = o.custom.as_mut() else { return };
    let fixed_in = format!("{from} (the serving runtime)");
    for rc in runtime.spec.containers.iter() {
        match o.spec.containers.iter_mut().find(|x| x.name == rc.name) {
            Some(own) if rc.name == "kserve-container" => {
                let mut base = serde_json::to_value(rc).unwrap_or(Value::Null);
                let over = serde_json::to_value(&*own).unwrap_or(Value::Null);
                build::strategic_merge(&mut base, &over);
                if let Ok(merged) = serde_json::from_value(base) {
                    *own = merged;
                }
            }
            Some(_) => {}
            None => {
                o.spec.containers.push(rc.clone());
                c.injected.insert(rc.name.clone(), fixed_in.clone());
            }
        }
    }
    for v in &runtime.spec.volumes {
        if !o.spec.volumes.iter().any(|x| x.name == v.name) {
            o.spec.volumes.push(v.clone());
        }
    }
}

/// Annotations of a custom resource that its registry entry reads.
const KEPT_RESOURCE_ANNOTATIONS: [&str; 3] =
    ["kubeflow-resource-stopped", "serving.kserve.io/stop", "serving.kserve.io/deploymentMode"];

/// Fields whose values never bear on Pod Security and may hold credentials (environment,
/// arguments, parameters, Spark and Hadoop configuration): left out of what is kept.
const DROPPED_FIELDS: [&str; 9] = [
    "env",
    "envFrom",
    "args",
    "command",
    "arguments",
    "params",
    "sparkConf",
    "hadoopConf",
    "managedFields",
];

/// Script texts: kept as empty strings (that there is one matters, not what it says).
const BLANKED_FIELDS: [&str; 2] = ["script", "source"];

/// The status fields registry entries read for liveness and runtimes.
const KEPT_STATUS: [&str; 8] = [
    "conditions",
    "phase",
    "state",
    "applicationState",
    "jobDeploymentStatus",
    "deploymentMode",
    "servingRuntimeName",
    "clusterServingRuntimeName",
];

/// A custom resource as the inventory keeps it (and `export` writes it): what its templates,
/// liveness and runtime are read from, without the values that never bear on Pod Security and
/// may carry credentials: environment variables, arguments, parameters, scripts (blanked),
/// configuration maps, the credentials of storage URIs (only the scheme is kept), labels, and
/// annotations other than those the tool reads. Reading what is kept gives the same templates.
pub fn kept(value: &Value) -> Value {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(m) => {
                m.retain(|k, _| !DROPPED_FIELDS.contains(&k.as_str()));
                for (k, child) in m.iter_mut() {
                    if BLANKED_FIELDS.contains(&k.as_str()) && child.is_string() {
                        *child = Value::String(String::new());
                    } else if k == "storageUri"
                        && let Some(uri) = child.as_str()
                    {
                        let scheme = uri.split_once("://").map_or("", |(s, _)| s);
                        *child = Value::String(format!("{scheme}://"));
                    } else {
                        walk(child);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    let mut out = value.clone();
    let Some(obj) = out.as_object_mut() else { return out };
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.retain(|k, _| {
            matches!(
                k.as_str(),
                "name"
                    | "namespace"
                    | "uid"
                    | "resourceVersion"
                    | "annotations"
                    | "ownerReferences"
            )
        });
        if let Some(a) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
            a.retain(|k, _| {
                is_kept_pod_annotation(k) || KEPT_RESOURCE_ANNOTATIONS.contains(&k.as_str())
            });
            if a.is_empty() {
                meta.remove("annotations");
            }
        }
    }
    if let Some(status) = obj.get_mut("status").and_then(Value::as_object_mut) {
        status.retain(|k, _| KEPT_STATUS.contains(&k.as_str()));
        if let Some(cs) = status.get_mut("conditions").and_then(Value::as_array_mut) {
            for c in cs.iter_mut().filter_map(Value::as_object_mut) {
                c.retain(|k, _| k == "type" || k == "status");
            }
        }
    }
    for (k, child) in obj.iter_mut() {
        if k != "metadata" && k != "status" {
            walk(child);
        }
    }
    out
}

/// A JSON pointer token (RFC 6901).
fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// A position in a resource: the dotted path shown to people and the JSON pointer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct At {
    pub path: String,
    pub pointer: String,
}

impl At {
    pub fn root() -> At {
        At::default()
    }

    /// A member of an object.
    pub fn key(&self, k: &str) -> At {
        At {
            path: if self.path.is_empty() { k.to_owned() } else { format!("{}.{k}", self.path) },
            pointer: format!("{}/{}", self.pointer, escape(k)),
        }
    }

    /// An element of a list.
    pub fn index(&self, i: usize) -> At {
        At { path: format!("{}[{i}]", self.path), pointer: format!("{}/{i}", self.pointer) }
    }
}

/// Every value a path pattern reaches, with its position. Patterns are dotted keys, where `*`
/// is every member of an object and a `[]` suffix every element of a list:
/// `spec.pytorchReplicaSpecs.*.template`, `spec.workerGroupSpecs[].template`.
pub fn select<'v>(value: &'v Value, pattern: &str) -> Vec<(At, &'v Value)> {
    let mut here = vec![(At::root(), value)];
    for seg in pattern.split('.') {
        let (key, each) = match seg.strip_suffix("[]") {
            Some(k) => (k, true),
            None => (seg, false),
        };
        let mut next = Vec::new();
        for (at, v) in here {
            let Some(obj) = v.as_object() else { continue };
            let members: Vec<(At, &Value)> = if key == "*" {
                obj.iter().map(|(k, v)| (at.key(k), v)).collect()
            } else {
                obj.get(key).map(|v| (at.key(key), v)).into_iter().collect()
            };
            for (at, v) in members {
                if each {
                    for (i, e) in v.as_array().into_iter().flatten().enumerate() {
                        next.push((at.index(i), e));
                    }
                } else if !v.is_null() {
                    next.push((at, v));
                }
            }
        }
        here = next;
    }
    here
}

/// The containers of a pod spec at `spec_at`, by name, with their pointers.
pub fn container_locations(spec: &Value, spec_at: &At, out: &mut BTreeMap<String, String>) {
    for list in ["initContainers", "containers"] {
        for (i, c) in spec.get(list).and_then(Value::as_array).into_iter().flatten().enumerate() {
            if let Some(name) = c.get("name").and_then(Value::as_str) {
                out.insert(name.to_owned(), spec_at.key(list).index(i).pointer);
            }
        }
    }
}

/// A pod template (`metadata` and `spec`) at `at`.
pub fn template_at(at: &At, template: &Value) -> Found {
    let spec_at = at.key("spec");
    let spec = template.get("spec").cloned().unwrap_or(Value::Object(Map::new()));
    let mut locations = Locations {
        pod_security_context: Some(spec_at.key("securityContext").pointer),
        annotations: Some(metadata_annotations(at, template)),
        ..Locations::default()
    };
    container_locations(&spec, &spec_at, &mut locations.containers);
    Found {
        path: at.path.clone(),
        annotations: template.get("metadata").and_then(|m| m.get("annotations")).cloned(),
        spec,
        injected: BTreeMap::new(),
        locations,
        uses: None,
        dead: None,
    }
}

/// Where the `metadata.annotations` of the object at `at` are, and how many of those two
/// steps are missing (see [`Locations::annotations`]).
pub fn metadata_annotations(at: &At, object: &Value) -> (String, usize) {
    let missing = match object.get("metadata") {
        Some(m) if m.get("annotations").is_some_and(Value::is_object) => 0,
        Some(m) if m.is_object() => 1,
        _ => 2,
    };
    (at.key("metadata").key("annotations").pointer, missing)
}

/// Where an `annotations` map that becomes the pod's is (a field of the object at `at`, which
/// exists), and whether it is missing.
pub fn annotations_field(at: &At, object: &Value) -> (String, usize) {
    let missing = usize::from(!object.get("annotations").is_some_and(Value::is_object));
    (at.key("annotations").pointer, missing)
}

/// A pod spec (no metadata of its own) at `at`, e.g. a serving runtime's `spec`.
pub fn spec_at(at: &At, spec: &Value, pod_security_context: bool) -> Found {
    let mut locations = Locations {
        pod_security_context: pod_security_context.then(|| at.key("securityContext").pointer),
        ..Locations::default()
    };
    container_locations(spec, at, &mut locations.containers);
    Found {
        path: at.path.clone(),
        annotations: None,
        spec: spec.clone(),
        injected: BTreeMap::new(),
        locations,
        uses: None,
        dead: None,
    }
}

/// Whether `v` holds a `containers` list of objects, every one with an `image`.
fn has_containers(v: &Value) -> bool {
    v.get("containers").and_then(Value::as_array).is_some_and(|cs| {
        !cs.is_empty() && cs.iter().all(|c| c.get("image").is_some_and(Value::is_string))
    })
}

/// The generic scan of a resource the registry does not know: every object whose `spec` holds
/// containers with images is a pod template (the resource's own `spec` too); `status` and
/// `metadata` are not searched, nor the inside of a template.
pub fn generic(value: &Value) -> Vec<Found> {
    fn walk(v: &Value, at: &At, depth: usize, out: &mut Vec<Found>) {
        if depth > 32 {
            return;
        }
        match v {
            Value::Object(obj) => {
                if let Some(spec) = obj.get("spec").filter(|s| has_containers(s)) {
                    if at.pointer.is_empty() {
                        out.push(spec_at(&at.key("spec"), spec, true));
                    } else {
                        out.push(template_at(at, v));
                    }
                    return;
                }
                for (k, child) in obj {
                    if depth == 0 && (k == "status" || k == "metadata") {
                        continue;
                    }
                    walk(child, &at.key(k), depth + 1, out);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    walk(child, &at.index(i), depth + 1, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(value, &At::root(), 0, &mut out);
    out
}

#[cfg(test)]
mod tests;
