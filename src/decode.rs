//! Decoding of raw Kubernetes objects (YAML or JSON documents, `List` wrappers, API list pages)
//! into the inventory model.
//!
//! Both sources use this: offline files and live API pages go through the same code, so the
//! same cluster yields the same inventory either way. A document's `items` are decoded one at a
//! time into compact records, so memory does not grow with the size of the raw input.
//!
//! Pure: no I/O.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::model::inventory::{
    Inventory, Namespace, ObjectState, PodKind, PodObject, Provenance, ServerVersion, Sourced,
};
use crate::model::pod::{ObjectMeta, PodSpec, is_kept_pod_annotation, null_default};
use crate::model::psp::PodSecurityPolicy;

/// A problem decoding one object: the field path where known, and the message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    /// Index in the `items` of a `List` document.
    pub item: Option<usize>,
    /// Dotted field path, e.g. `spec.containers[0].securityContext.privileged`.
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(i) = self.item {
            write!(f, "items[{i}]")?;
            if self.field.is_some() {
                f.write_str(".")?;
            }
        }
        if let Some(field) = &self.field {
            f.write_str(field)?;
        }
        if self.item.is_some() || self.field.is_some() {
            f.write_str(": ")?;
        }
        f.write_str(&self.message)
    }
}

/// One decoded object, before provenance is attached.
#[derive(Debug)]
pub enum Decoded {
    Pod(Box<PodObject>),
    Namespace(Namespace),
    ServiceAccount(ObjectMeta),
    Psp(Box<PodSecurityPolicy>),
    Role(Box<k8s_openapi::api::rbac::v1::Role>),
    ClusterRole(Box<k8s_openapi::api::rbac::v1::ClusterRole>),
    RoleBinding(Box<k8s_openapi::api::rbac::v1::RoleBinding>),
    ClusterRoleBinding(Box<k8s_openapi::api::rbac::v1::ClusterRoleBinding>),
    ServerVersion(ServerVersion),
    /// A kind the tool does not keep (Secrets included): counted only.
    Ignored(String),
}

/// A whole document: either a single object or a list whose items were decoded as they were
/// read.
#[derive(Debug, Default)]
pub struct Document {
    /// Top-level fields other than `items`.
    pub fields: Map<String, Value>,
    /// Decoded `items`, when the document had them.
    pub items: Option<Vec<Result<Decoded, DecodeError>>>,
}

impl Document {
    /// `metadata.continue` of a list page (empty tokens count as absent).
    pub fn continue_token(&self) -> Option<&str> {
        self.fields.get("metadata")?.get("continue")?.as_str().filter(|s| !s.is_empty())
    }

    /// `metadata.resourceVersion` of a list page.
    pub fn resource_version(&self) -> Option<&str> {
        self.fields.get("metadata")?.get("resourceVersion")?.as_str()
    }

    /// The decoded objects of this document: the items of a list, or the document itself.
    pub fn into_objects(self) -> Vec<Result<Decoded, DecodeError>> {
        match self.items {
            Some(items) => items,
            None if self.fields.is_empty() => Vec::new(),
            None => vec![decode_value(Value::Object(self.fields)).map_err(|mut e| {
                e.item = None;
                e
            })],
        }
    }
}

impl<'de> Deserialize<'de> for Document {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Document;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a Kubernetes object (a mapping with apiVersion and kind)")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Document, E> {
                Ok(Document::default())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Document, A::Error> {
                let mut doc = Document::default();
                while let Some(key) = map.next_key::<String>()? {
                    if key == "items" {
                        doc.items = Some(map.next_value::<Items>()?.0);
                    } else {
                        let v = map.next_value::<Value>()?;
                        doc.fields.insert(key, v);
                    }
                }
                Ok(doc)
            }
        }
        d.deserialize_any(V)
    }
}

/// `items` of a list, decoded element by element.
struct Items(Vec<Result<Decoded, DecodeError>>);

impl<'de> Deserialize<'de> for Items {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Items;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of objects")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Items, E> {
                Ok(Items(Vec::new()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Items, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                while let Some(v) = seq.next_element::<Value>()? {
                    let i = out.len();
                    out.push(decode_value(v).map_err(|mut e| {
                        e.item = Some(i);
                        e
                    }));
                }
                Ok(Items(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// Decodes one object from its JSON value.
pub fn decode_value(value: Value) -> Result<Decoded, DecodeError> {
    let err = |field: Option<&str>, message: String| DecodeError {
        item: None,
        field: field.map(str::to_owned),
        message,
    };
    let Value::Object(obj) = &value else {
        return Err(err(None, format!("expected a mapping (an object), found {}", kind_of(&value))));
    };
    if obj.contains_key("serverVersion") && !obj.contains_key("kind") {
        return typed::<VersionDoc>(value).map(|v| Decoded::ServerVersion(v.server_version));
    }
    let kind = match obj.get("kind") {
        Some(Value::String(k)) if !k.is_empty() => k.clone(),
        Some(Value::String(_)) | None => {
            return Err(err(Some("kind"), "missing field `kind`".into()));
        }
        Some(other) => {
            return Err(err(Some("kind"), format!("expected a string, found {}", kind_of(other))));
        }
    };
    let api_version = obj.get("apiVersion").and_then(Value::as_str).unwrap_or_default().to_owned();
    let group = api_version.split_once('/').map_or("", |(g, _)| g);
    if let Some(pod_kind) = PodKind::from_kind(&kind) {
        return decode_pod_object(pod_kind, api_version, value).map(|p| Decoded::Pod(Box::new(p)));
    }
    match (kind.as_str(), group) {
        ("Namespace", "") => typed::<Namespace>(value).map(|mut ns| {
            ns.metadata.annotations.clear();
            ns.metadata.owner_references.clear();
            Decoded::Namespace(ns)
        }),
        ("ServiceAccount", "") => typed::<MetaOnly>(value).map(|o| {
            let mut meta = o.metadata;
            meta.annotations.clear();
            Decoded::ServiceAccount(meta)
        }),
        ("PodSecurityPolicy", "policy" | "extensions") => {
            typed::<PodSecurityPolicy>(value).map(|p| Decoded::Psp(Box::new(p)))
        }
        ("Role", "rbac.authorization.k8s.io") => {
            typed(as_rbac_v1(value)).map(|r| Decoded::Role(Box::new(r)))
        }
        ("ClusterRole", "rbac.authorization.k8s.io") => {
            typed(as_rbac_v1(value)).map(|r| Decoded::ClusterRole(Box::new(r)))
        }
        ("RoleBinding", "rbac.authorization.k8s.io") => {
            typed(as_rbac_v1(value)).map(|r| Decoded::RoleBinding(Box::new(r)))
        }
        ("ClusterRoleBinding", "rbac.authorization.k8s.io") => {
            typed(as_rbac_v1(value)).map(|r| Decoded::ClusterRoleBinding(Box::new(r)))
        }
        _ => Ok(Decoded::Ignored(kind)),
    }
}

/// k8s-openapi only decodes `rbac.authorization.k8s.io/v1`; older exports (`v1beta1`,
/// `v1alpha1`) have the same shape for everything the tool reads.
fn as_rbac_v1(mut value: Value) -> Value {
    if let Some(obj) = value.as_object_mut() {
        obj.insert("apiVersion".into(), Value::String("rbac.authorization.k8s.io/v1".into()));
    }
    value
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// Deserializes a typed value, reporting the field path of any error.
fn typed<T: de::DeserializeOwned>(value: Value) -> Result<T, DecodeError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        DecodeError {
            item: None,
            field: (path != ".").then_some(path),
            message: e.into_inner().to_string(),
        }
    })
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct VersionDoc {
    #[serde(default)]
    server_version: ServerVersion,
}

#[derive(serde::Deserialize)]
struct MetaOnly {
    #[serde(default, deserialize_with = "null_default")]
    metadata: ObjectMeta,
}

#[derive(serde::Deserialize, Default)]
struct Template {
    #[serde(default, deserialize_with = "null_default")]
    metadata: ObjectMeta,
    #[serde(default, deserialize_with = "null_default")]
    spec: PodSpec,
}

#[derive(serde::Deserialize, Default)]
struct JobSpecTemplate {
    #[serde(default, deserialize_with = "null_default")]
    template: Template,
}

#[derive(serde::Deserialize, Default)]
struct JobTemplate {
    #[serde(default, deserialize_with = "null_default")]
    spec: JobSpecTemplate,
}

#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct WorkloadSpec {
    #[serde(default)]
    replicas: Option<i32>,
    #[serde(default)]
    suspend: Option<bool>,
    /// Optional for ReplicationControllers; a workload without one creates no pods to judge.
    #[serde(default, deserialize_with = "null_default")]
    template: Template,
    #[serde(default, deserialize_with = "null_default")]
    job_template: JobTemplate,
}

#[derive(serde::Deserialize, Default)]
struct Condition {
    #[serde(default, rename = "type", deserialize_with = "null_default")]
    type_: String,
    #[serde(default, deserialize_with = "null_default")]
    status: String,
}

#[derive(serde::Deserialize, Default)]
struct Status {
    #[serde(default)]
    phase: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    conditions: Vec<Condition>,
}

/// Pods, workloads and PodTemplates: `spec` is a pod spec for Pods and a workload spec
/// otherwise; PodTemplates carry `template` at the top level.
#[derive(serde::Deserialize)]
struct PodLike {
    #[serde(default, deserialize_with = "null_default")]
    metadata: ObjectMeta,
    #[serde(default)]
    spec: Option<Value>,
    #[serde(default, deserialize_with = "null_default")]
    template: Template,
    #[serde(default, deserialize_with = "null_default")]
    status: Status,
}

fn with_prefix(e: DecodeError, prefix: &str) -> DecodeError {
    DecodeError {
        field: Some(match e.field {
            Some(f) => format!("{prefix}.{f}"),
            None => prefix.to_owned(),
        }),
        ..e
    }
}

fn keep_pod_annotations(annotations: &mut BTreeMap<String, String>) {
    annotations.retain(|k, _| is_kept_pod_annotation(k));
}

fn decode_pod_object(kind: PodKind, api_version: String, value: Value) -> Result<PodObject, DecodeError> {
    let PodLike { mut metadata, spec, template, status } = typed::<PodLike>(value)?;
    keep_pod_annotations(&mut metadata.annotations);
    metadata.labels.clear();
    let spec = spec.unwrap_or(Value::Null);
    let mut state = ObjectState::default();
    let (template_meta, pod_spec) = match kind {
        PodKind::Pod => {
            state.phase = status.phase;
            let spec: PodSpec = if spec.is_null() {
                PodSpec::default()
            } else {
                typed(spec).map_err(|e| with_prefix(e, "spec"))?
            };
            (ObjectMeta::default(), spec)
        }
        PodKind::PodTemplate => (template.metadata, template.spec),
        _ => {
            let w: WorkloadSpec = if spec.is_null() {
                WorkloadSpec::default()
            } else {
                typed(spec).map_err(|e| with_prefix(e, "spec"))?
            };
            state.replicas = w.replicas;
            state.suspended = kind == PodKind::CronJob && w.suspend == Some(true);
            state.finished = kind == PodKind::Job
                && status.conditions.iter().any(|c| {
                    matches!(c.type_.as_str(), "Complete" | "Failed") && c.status == "True"
                });
            let t = if kind == PodKind::CronJob { w.job_template.spec.template } else { w.template };
            (t.metadata, t.spec)
        }
    };
    let mut template_annotations = template_meta.annotations;
    keep_pod_annotations(&mut template_annotations);
    Ok(PodObject {
        kind,
        api_version,
        meta: metadata,
        template_annotations,
        spec: pod_spec,
        state,
        source: Provenance::Live { server: String::new() },
    })
}

/// Whether objects of this decoded kind live in a namespace.
fn namespaced(d: &Decoded) -> bool {
    matches!(d, Decoded::Pod(_) | Decoded::ServiceAccount(_) | Decoded::Role(_) | Decoded::RoleBinding(_))
}

/// Adds a decoded object to the inventory with its provenance. Namespaced objects without a
/// namespace get `default_namespace`, as `kubectl apply` would place them.
pub fn add_to_inventory(inv: &mut Inventory, decoded: Decoded, source: Provenance, default_namespace: &str) {
    let fill = |ns: &mut Option<String>| {
        if ns.as_deref().is_none_or(str::is_empty) {
            *ns = Some(default_namespace.to_owned());
        }
    };
    let mut decoded = decoded;
    if namespaced(&decoded) {
        match &mut decoded {
            Decoded::Pod(p) => fill(&mut p.meta.namespace),
            Decoded::ServiceAccount(m) => fill(&mut m.namespace),
            Decoded::Role(r) => fill(&mut r.metadata.namespace),
            Decoded::RoleBinding(r) => fill(&mut r.metadata.namespace),
            _ => {}
        }
    }
    match decoded {
        Decoded::Pod(mut p) => {
            p.source = source;
            inv.pod_objects.push(*p);
        }
        Decoded::Namespace(n) => inv.namespaces.push(Sourced { obj: n, source }),
        Decoded::ServiceAccount(m) => inv.service_accounts.push(Sourced { obj: m, source }),
        Decoded::Psp(p) => inv.psps.push(Sourced { obj: *p, source }),
        Decoded::Role(r) => inv.roles.push(Sourced { obj: *r, source }),
        Decoded::ClusterRole(r) => inv.cluster_roles.push(Sourced { obj: *r, source }),
        Decoded::RoleBinding(r) => inv.role_bindings.push(Sourced { obj: *r, source }),
        Decoded::ClusterRoleBinding(r) => {
            inv.cluster_role_bindings.push(Sourced { obj: *r, source })
        }
        Decoded::ServerVersion(v) => inv.server_version = Some(v),
        Decoded::Ignored(kind) => *inv.ignored.entry(kind).or_default() += 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(json: &str) -> Vec<Result<Decoded, DecodeError>> {
        serde_json::from_str::<Document>(json).unwrap().into_objects()
    }

    #[test]
    fn list_items_are_decoded_one_by_one() {
        let objs = doc(r#"{"apiVersion":"v1","kind":"List","items":[
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","annotations":{"kubernetes.io/psp":"p","big":"x"}},"spec":{"containers":[{"name":"c"}]},"status":{"phase":"Running"}},
            {"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"},"data":{"k":"dg=="}},
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"b"},"spec":{"hostNetwork":"maybe"}}
        ]}"#);
        assert_eq!(objs.len(), 3);
        let Ok(Decoded::Pod(p)) = &objs[0] else { panic!("{:?}", objs[0]) };
        assert_eq!(p.meta.annotations.keys().collect::<Vec<_>>(), ["kubernetes.io/psp"]);
        assert!(p.is_live());
        assert!(matches!(&objs[1], Ok(Decoded::Ignored(k)) if k == "Secret"));
        let Err(e) = &objs[2] else { panic!() };
        assert_eq!(e.to_string(), "items[2].spec.hostNetwork: invalid type: string \"maybe\", expected a boolean");
    }

    #[test]
    fn workload_templates_and_liveness() {
        let objs = doc(r#"{"apiVersion":"batch/v1","kind":"CronJob","metadata":{"name":"c","namespace":"n"},
            "spec":{"suspend":true,"jobTemplate":{"spec":{"template":{"metadata":{"annotations":{"container.apparmor.security.beta.kubernetes.io/x":"unconfined"}},"spec":{"hostPID":true}}}}}}"#);
        let Ok(Decoded::Pod(p)) = &objs[0] else { panic!() };
        assert_eq!(p.kind, PodKind::CronJob);
        assert_eq!(p.spec.host_pid, Some(true));
        assert_eq!(p.pod_annotations().len(), 1);
        assert!(!p.is_live());
    }

    #[test]
    fn missing_kind_and_non_objects_are_errors() {
        let objs = doc(r#"{"apiVersion":"v1","metadata":{"name":"x"}}"#);
        assert_eq!(objs[0].as_ref().unwrap_err().to_string(), "kind: missing field `kind`");
        let e = decode_value(serde_json::json!([1, 2])).unwrap_err();
        assert_eq!(e.to_string(), "expected a mapping (an object), found a list");
    }

    #[test]
    fn rbac_older_versions_and_psp_groups() {
        let objs = doc(r#"{"kind":"List","items":[
            {"apiVersion":"rbac.authorization.k8s.io/v1beta1","kind":"Role","metadata":{"name":"r"},"rules":[{"apiGroups":["extensions"],"resources":["podsecuritypolicies"],"verbs":["use"]}]},
            {"apiVersion":"extensions/v1beta1","kind":"PodSecurityPolicy","metadata":{"name":"p"},"spec":{"privileged":true}}
        ]}"#);
        assert!(matches!(&objs[0], Ok(Decoded::Role(_))));
        let Ok(Decoded::Psp(p)) = &objs[1] else { panic!() };
        assert_eq!(p.api_version, "extensions/v1beta1");
        assert_eq!(p.spec.privileged, Some(true));
    }
}
