//! Decoding of raw Kubernetes objects (YAML or JSON documents, `List` wrappers, API list pages)
//! into the inventory model.
//!
//! Both sources use this: offline files and live API pages go through the same code, so the
//! same cluster yields the same inventory either way. A document's `items` are decoded one at a
//! time into compact records, so memory does not grow with the size of the raw input.
//!
//! Pure: no I/O.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::model::inventory::{
    Inventory, Listed, ListedResource, Namespace, ObjectState, PodKind, PodObject, Provenance,
    ServerVersion, Sourced,
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
    /// A custom resource with pod templates: the resource as it is kept (values that do not
    /// bear on Pod Security left out, see [`crate::custom::kept`]) and one object per template.
    Custom(Box<Value>, Vec<PodObject>),
    Namespace(Namespace),
    ServiceAccount(ObjectMeta),
    Psp(Box<PodSecurityPolicy>),
    Role(Box<k8s_openapi::api::rbac::v1::Role>),
    ClusterRole(Box<k8s_openapi::api::rbac::v1::ClusterRole>),
    RoleBinding(Box<k8s_openapi::api::rbac::v1::RoleBinding>),
    ClusterRoleBinding(Box<k8s_openapi::api::rbac::v1::ClusterRoleBinding>),
    ServerVersion(ServerVersion),
    /// The record `psa-migrate export` writes of what it listed.
    ExportRecord(Listed),
    /// A kind the tool does not keep (Secrets included): counted only.
    Ignored(String),
}

/// 1-based line and column (in characters) where an object starts in the text it was read
/// from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub line: u64,
    pub column: u64,
}

/// One object of a document: decoded (or why not), and where it starts when the reader knows.
#[derive(Debug)]
pub struct Object {
    pub decoded: Result<Decoded, DecodeError>,
    pub position: Option<Position>,
}

impl Object {
    /// An object whose position is not known (API answers, values).
    pub fn unplaced(decoded: Result<Decoded, DecodeError>) -> Object {
        Object { decoded, position: None }
    }
}

/// A whole document: either a single object or a list whose items were decoded as they were
/// read.
#[derive(Debug, Default)]
pub struct Document {
    /// Top-level fields other than `items`.
    pub fields: Map<String, Value>,
    /// Decoded `items`, when the document had them.
    pub items: Option<Vec<Object>>,
}

impl Document {
    /// `metadata.continue` of a list page (empty tokens count as absent).
    pub fn continue_token(&self) -> Option<&str> {
        self.fields.get("metadata")?.get("continue")?.as_str().filter(|s| !s.is_empty())
    }

    /// `metadata.resourceVersion` of a list page.
    #[cfg(test)]
    pub fn resource_version(&self) -> Option<&str> {
        self.fields.get("metadata")?.get("resourceVersion")?.as_str()
    }

    /// The decoded objects of this document: the items of a list (with their positions), or
    /// the document itself (whose position the reader knows, not the document).
    pub fn into_objects(self) -> Vec<Object> {
        match self.items {
            Some(items) => items,
            None if self.fields.is_empty() => Vec::new(),
            None => {
                vec![Object::unplaced(decode_value(Value::Object(self.fields)).map_err(|mut e| {
                    e.item = None;
                    e
                }))]
            }
        }
    }
}

impl<'de> Deserialize<'de> for Document {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        document_seed(|v| Object::unplaced(decode_value(v))).deserialize(d)
    }
}

/// A seed decoding a whole document whose `items` are first read as `E` and finished by
/// `decode` one at a time (see [`DocumentSeed`]); readers that know where each item starts
/// read it as a type carrying its position.
pub fn document_seed<'de, E, F>(decode: F) -> impl DeserializeSeed<'de, Value = Document> + Copy
where
    E: Deserialize<'de>,
    F: Fn(E) -> Object + Copy,
{
    DocumentSeed::new(decode)
}

/// Decodes a document, turning each element of `items` into a [`Decoded`] as soon as it is
/// read, so a list is never held whole. `E` is how an element is first read (a JSON value, raw
/// JSON text on the fast path, or a value with its position); `decode` finishes it.
struct DocumentSeed<E, F> {
    decode: F,
    element: PhantomData<fn() -> E>,
}

impl<E, F: Copy> Clone for DocumentSeed<E, F> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<E, F: Copy> Copy for DocumentSeed<E, F> {}

impl<E, F> DocumentSeed<E, F> {
    fn new(decode: F) -> Self {
        DocumentSeed { decode, element: PhantomData }
    }
}

impl<'de, E, F> de::DeserializeSeed<'de> for DocumentSeed<E, F>
where
    E: Deserialize<'de>,
    F: Fn(E) -> Object + Copy,
{
    type Value = Document;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Document, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, E, F> Visitor<'de> for DocumentSeed<E, F>
where
    E: Deserialize<'de>,
    F: Fn(E) -> Object + Copy,
{
    type Value = Document;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Kubernetes object (a mapping with apiVersion and kind)")
    }
    fn visit_unit<Er: de::Error>(self) -> Result<Document, Er> {
        Ok(Document::default())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Document, A::Error> {
        let mut doc = Document::default();
        while let Some(key) = map.next_key::<String>()? {
            if key == "items" {
                doc.items = Some(map.next_value_seed(ItemsSeed(self))?);
            } else {
                let v = map.next_value::<Value>()?;
                doc.fields.insert(key, v);
            }
        }
        Ok(doc)
    }
}

/// `items` of a list, decoded element by element.
struct ItemsSeed<E, F>(DocumentSeed<E, F>);

impl<'de, E, F> de::DeserializeSeed<'de> for ItemsSeed<E, F>
where
    E: Deserialize<'de>,
    F: Fn(E) -> Object + Copy,
{
    type Value = Vec<Object>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, E, F> Visitor<'de> for ItemsSeed<E, F>
where
    E: Deserialize<'de>,
    F: Fn(E) -> Object + Copy,
{
    type Value = Vec<Object>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of objects")
    }
    fn visit_unit<Er: de::Error>(self) -> Result<Self::Value, Er> {
        Ok(Vec::new())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(element) = seq.next_element::<E>()? {
            let i = out.len();
            let mut object = (self.0.decode)(element);
            if let Err(e) = &mut object.decoded {
                e.item = Some(i);
            }
            out.push(object);
        }
        Ok(out)
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
        return Err(err(
            None,
            format!("expected a mapping (an object), found {}", kind_of(&value)),
        ));
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
    if kind == EXPORT_RECORD_KIND && api_version == EXPORT_RECORD_API_VERSION {
        return typed::<ExportRecordDoc>(value).map(|r| {
            let mut listed = Listed { resources: r.listed };
            listed.resources.sort();
            listed.resources.dedup();
            Decoded::ExportRecord(listed)
        });
    }
    if let Some(pod_kind) = PodKind::from_type(&api_version, &kind) {
        return decode_pod_object(pod_kind, api_version, value).map(|p| Decoded::Pod(Box::new(p)));
    }
    if crate::custom::is_custom_api_version(&api_version) {
        return match crate::custom::decode(&api_version, &kind, &value) {
            Ok(found) if found.is_empty() => Ok(Decoded::Ignored(kind)),
            Ok(found) => Ok(Decoded::Custom(Box::new(crate::custom::kept(&value)), found)),
            Err(e) => Err(err(Some(&e.field), e.message)),
        };
    }
    if !KEPT_KINDS.contains(&kind.as_str()) {
        return Ok(Decoded::Ignored(kind));
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
    typed_de(value)
}

fn typed_de<'de, T: Deserialize<'de>, D: Deserializer<'de>>(d: D) -> Result<T, DecodeError> {
    serde_path_to_error::deserialize(d).map_err(|e| {
        let path = e.path().to_string();
        DecodeError {
            item: None,
            field: (path != ".").then_some(path),
            message: strip_position(&e.into_inner().to_string()),
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

#[derive(serde::Deserialize)]
struct PodDoc {
    #[serde(default, deserialize_with = "null_default")]
    metadata: ObjectMeta,
    #[serde(default, deserialize_with = "null_default")]
    spec: PodSpec,
    #[serde(default, deserialize_with = "null_default")]
    status: Status,
}

#[derive(serde::Deserialize)]
struct WorkloadDoc {
    #[serde(default, deserialize_with = "null_default")]
    metadata: ObjectMeta,
    #[serde(default, deserialize_with = "null_default")]
    spec: WorkloadSpec,
    #[serde(default, deserialize_with = "null_default")]
    status: Status,
}

#[derive(serde::Deserialize)]
struct PodTemplateDoc {
    #[serde(default, deserialize_with = "null_default")]
    metadata: ObjectMeta,
    #[serde(default, deserialize_with = "null_default")]
    template: Template,
}

fn keep_pod_annotations(annotations: &mut BTreeMap<String, String>) {
    annotations.retain(|k, _| is_kept_pod_annotation(k));
}

/// Decodes a Pod, workload or PodTemplate from any deserializer (a JSON value, or raw JSON text
/// on the fast path).
fn decode_pod_object<'de, D: Deserializer<'de>>(
    kind: PodKind,
    api_version: String,
    d: D,
) -> Result<PodObject, DecodeError> {
    let mut state = ObjectState::default();
    let (mut metadata, template_meta, mut spec) = match kind {
        PodKind::Pod => {
            let doc: PodDoc = typed_de(d)?;
            state.phase = doc.status.phase;
            (doc.metadata, ObjectMeta::default(), doc.spec)
        }
        PodKind::PodTemplate => {
            let doc: PodTemplateDoc = typed_de(d)?;
            (doc.metadata, doc.template.metadata, doc.template.spec)
        }
        _ => {
            let doc: WorkloadDoc = typed_de(d)?;
            let w = doc.spec;
            state.replicas = w.replicas;
            state.suspended = kind == PodKind::CronJob && w.suspend == Some(true);
            state.finished = kind == PodKind::Job
                && doc.status.conditions.iter().any(|c| {
                    matches!(c.type_.as_str(), "Complete" | "Failed") && c.status == "True"
                });
            let t =
                if kind == PodKind::CronJob { w.job_template.spec.template } else { w.template };
            (doc.metadata, t.metadata, t.spec)
        }
    };
    spec.shrink_to_fit();
    metadata.owner_references.shrink_to_fit();
    keep_pod_annotations(&mut metadata.annotations);
    metadata.labels.clear();
    if kind == PodKind::Pod {
        // Only workloads' versions matter (nothing patches pods); keep pods small.
        metadata.resource_version = None;
    }
    let mut template_annotations = template_meta.annotations;
    keep_pod_annotations(&mut template_annotations);
    Ok(PodObject {
        kind,
        api_version,
        meta: metadata,
        template_annotations,
        spec,
        state,
        source: Provenance::Live { server: String::new() },
        custom: None,
    })
}

/// Kind and apiVersion for list items that carry none (API list pages leave them out).
#[derive(Clone, Copy, Debug, Default)]
pub struct ItemDefaults<'a> {
    pub kind: Option<&'a str>,
    pub api_version: Option<&'a str>,
}

/// `kind` and `apiVersion` of a raw JSON object.
#[derive(Default)]
struct Head {
    kind: Option<String>,
    api_version: Option<String>,
}

/// Reads `kind` and `apiVersion` without scanning the whole object when they come first, as
/// they do in everything the API server and kubectl print. `None` when the text is not an
/// object or those fields are not strings (the caller's full parse then words the error).
fn peek_head(raw: &[u8]) -> Option<Head> {
    struct V<'h>(&'h mut Head, &'h mut bool);
    impl<'de> Visitor<'de> for V<'_> {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                match key.as_ref() {
                    "kind" => self.0.kind = Some(map.next_value()?),
                    "apiVersion" => self.0.api_version = Some(map.next_value()?),
                    _ => {
                        map.next_value::<de::IgnoredAny>()?;
                    }
                }
                if self.0.kind.is_some() && self.0.api_version.is_some() {
                    break;
                }
            }
            *self.1 = true;
            Ok(())
        }
    }
    let mut head = Head::default();
    let mut complete = false;
    let mut de = serde_json::Deserializer::from_slice(raw);
    // Stopping early leaves the rest of the object unread, which the deserializer reports as an
    // error; what was read is still right.
    let _ = de.deserialize_map(V(&mut head, &mut complete));
    complete.then_some(head)
}

/// The `kind` of a raw JSON object, read without scanning the object when it comes first.
pub fn peek_json_kind(raw: &[u8]) -> Option<String> {
    peek_head(raw)?.kind
}

/// Decodes one object from raw JSON text. Pods and workloads are deserialized straight into the
/// compact model without building a JSON tree; other kinds go through [`decode_value`].
pub fn decode_json_object(raw: &str, defaults: ItemDefaults<'_>) -> Result<Decoded, DecodeError> {
    let head = match peek_head(raw.as_bytes()) {
        Some(h) => h,
        // Not an object, or `kind` is not a string: the value path words the error.
        None => return decode_json_tree(raw, defaults),
    };
    let kind = head.kind.as_deref().filter(|k| !k.is_empty()).or(defaults.kind);
    let api_version = head.api_version.as_deref().or(defaults.api_version).unwrap_or_default();
    if let Some(pod_kind) = kind.and_then(|k| PodKind::from_type(api_version, k)) {
        let api_version = api_version.to_owned();
        let mut de = serde_json::Deserializer::from_str(raw);
        return decode_pod_object(pod_kind, api_version, &mut de)
            .map(|p| Decoded::Pod(Box::new(p)));
    }
    if let Some(k) = kind
        && !KEPT_KINDS.contains(&k)
        && !crate::custom::is_custom_api_version(api_version)
    {
        // Secrets and every other kind the tool does not keep are never parsed further.
        return Ok(Decoded::Ignored(k.to_owned()));
    }
    decode_json_tree(raw, defaults)
}

/// Decodes one object from raw JSON text through a JSON tree, where a key given twice keeps
/// its last value as kubectl keeps it (the typed fast path of [`decode_json_object`] would
/// refuse a field given twice, and reads `kind` where it comes first).
pub fn decode_json_tree(raw: &str, defaults: ItemDefaults<'_>) -> Result<Decoded, DecodeError> {
    let value: Value = serde_json::from_str(raw).map_err(|e| DecodeError {
        item: None,
        field: None,
        message: strip_position(&e.to_string()),
    })?;
    decode_value(with_defaults(value, defaults))
}

/// `apiVersion` and `kind` of the record `export` writes of what it listed.
pub const EXPORT_RECORD_API_VERSION: &str = "psa-migrate.io/v1";
pub const EXPORT_RECORD_KIND: &str = "ExportRecord";

/// The export record: which resources were listed, in which scope.
#[derive(serde::Deserialize)]
struct ExportRecordDoc {
    #[serde(default)]
    listed: Vec<ListedResource>,
}

/// Whether objects of this kind may be counted and never kept: not a pod-carrying kind, not
/// one the inventory keeps, not one of the custom resource registry, and not a list (`List`,
/// `PodList`, … whose items are decoded). Custom resources of other kinds are told apart by
/// their apiVersion ([`TopLevel::ignored_kind`]).
pub fn is_ignored_kind(kind: &str) -> bool {
    !kind.is_empty()
        && PodKind::from_kind(kind).is_none()
        && !KEPT_KINDS.contains(&kind)
        && !crate::custom::is_registered_kind(kind)
        && !kind.ends_with("List")
}

/// A document's top level read without decoding its body: the `kind` and `apiVersion` (when
/// strings) and whether it has `items`. Every other value is skipped unparsed, so a CRD with a
/// deep schema costs a scan, not a tree.
#[derive(Debug, Default)]
pub struct TopLevel {
    pub kind: Option<String>,
    pub api_version: Option<String>,
    pub has_items: bool,
}

impl TopLevel {
    /// The kind, when the document is one object of a kind that is never kept: custom
    /// resources are read for pod templates.
    pub fn ignored_kind(self) -> Option<String> {
        let custom = self.api_version.as_deref().is_some_and(crate::custom::is_custom_api_version);
        self.kind.filter(|k| !self.has_items && !custom && is_ignored_kind(k))
    }
}

impl<'de> Deserialize<'de> for TopLevel {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TopLevel;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TopLevel, A::Error> {
                let mut top = TopLevel::default();
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    match key.as_ref() {
                        "kind" => {
                            top.kind = match map.next_value::<Value>()? {
                                Value::String(k) => Some(k),
                                _ => None,
                            }
                        }
                        "apiVersion" => {
                            top.api_version = match map.next_value::<Value>()? {
                                Value::String(v) => Some(v),
                                _ => None,
                            }
                        }
                        "items" => {
                            top.has_items = true;
                            map.next_value::<de::IgnoredAny>()?;
                        }
                        _ => {
                            map.next_value::<de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(top)
            }
        }
        d.deserialize_map(V)
    }
}

/// Kinds other than pod-carrying ones that the inventory keeps.
const KEPT_KINDS: &[&str] = &[
    EXPORT_RECORD_KIND,
    "Namespace",
    "ServiceAccount",
    "PodSecurityPolicy",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
];

fn with_defaults(mut value: Value, defaults: ItemDefaults<'_>) -> Value {
    if let Value::Object(obj) = &mut value {
        if let Some(k) = defaults.kind {
            obj.entry("kind").or_insert_with(|| Value::String(k.to_owned()));
        }
        if let Some(v) = defaults.api_version {
            obj.entry("apiVersion").or_insert_with(|| Value::String(v.to_owned()));
        }
    }
    value
}

/// serde_json appends ` at line L column C`, relative to the object; the caller reports the
/// position in the file instead.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// Decodes a whole JSON document (a list page, a `List` file, or one object) from a
/// deserializer, decoding `items` one at a time from raw text.
#[derive(Clone, Copy, Debug, Default)]
pub struct JsonDocumentSeed<'a> {
    pub defaults: ItemDefaults<'a>,
}

impl JsonDocumentSeed<'_> {
    /// Decodes a complete JSON text (e.g. an API response body).
    pub fn decode_slice(self, body: &[u8]) -> Result<Document, serde_json::Error> {
        let mut de = serde_json::Deserializer::from_slice(body);
        let doc = de::DeserializeSeed::deserialize(self, &mut de)?;
        de.end()?;
        Ok(doc)
    }
}

impl<'de> de::DeserializeSeed<'de> for JsonDocumentSeed<'_> {
    type Value = Document;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Document, D::Error> {
        let defaults = self.defaults;
        DocumentSeed::new(move |raw: Box<serde_json::value::RawValue>| {
            Object::unplaced(decode_json_object(raw.get(), defaults))
        })
        .deserialize(d)
    }
}

/// Whether objects of this decoded kind live in a namespace.
fn namespaced(d: &Decoded) -> bool {
    matches!(
        d,
        Decoded::Pod(_)
            | Decoded::Custom(..)
            | Decoded::ServiceAccount(_)
            | Decoded::Role(_)
            | Decoded::RoleBinding(_)
    )
}

/// Adds a decoded object to the inventory with its provenance. Namespaced objects without a
/// namespace get `default_namespace`, as `kubectl apply` would place them.
pub fn add_to_inventory(
    inv: &mut Inventory,
    decoded: Decoded,
    source: Provenance,
    default_namespace: &str,
) {
    let fill = |ns: &mut Option<String>| {
        if ns.as_deref().is_none_or(str::is_empty) {
            *ns = Some(default_namespace.to_owned());
        }
    };
    let mut decoded = decoded;
    if namespaced(&decoded) {
        match &mut decoded {
            Decoded::Pod(p) => fill(&mut p.meta.namespace),
            Decoded::Custom(raw, found) => {
                let cluster = found.iter().any(|p| p.is_cluster_scoped());
                if !cluster
                    && let Some(meta) = raw.get_mut("metadata").and_then(Value::as_object_mut)
                    && meta.get("namespace").and_then(Value::as_str).is_none_or(str::is_empty)
                {
                    meta.insert("namespace".into(), Value::String(default_namespace.into()));
                }
                for p in found.iter_mut().filter(|p| !p.is_cluster_scoped()) {
                    fill(&mut p.meta.namespace);
                }
            }
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
        Decoded::Custom(raw, found) => {
            for mut p in found {
                p.source = source.clone();
                inv.pod_objects.push(p);
            }
            inv.custom_resources.push(Sourced { obj: *raw, source });
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
        Decoded::ExportRecord(listed) => match &mut inv.listed {
            Some(l) => l.merge(listed),
            None => inv.listed = Some(listed),
        },
        Decoded::Ignored(kind) => *inv.ignored.entry(kind).or_default() += 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(json: &str) -> Vec<Result<Decoded, DecodeError>> {
        objects(serde_json::from_str::<Document>(json).unwrap())
    }

    fn objects(doc: Document) -> Vec<Result<Decoded, DecodeError>> {
        doc.into_objects().into_iter().map(|o| o.decoded).collect()
    }

    const PODS: ItemDefaults<'static> = ItemDefaults { kind: Some("Pod"), api_version: Some("v1") };

    fn page(defaults: ItemDefaults<'_>, body: &str) -> Document {
        JsonDocumentSeed { defaults }.decode_slice(body.as_bytes()).unwrap()
    }

    #[test]
    fn api_page_items_get_kind_and_api_version() {
        let doc = page(
            PODS,
            r#"{"kind":"PodList","apiVersion":"v1","metadata":{"continue":"abc","resourceVersion":"7"},
            "items":[{"metadata":{"name":"a","namespace":"n"},"spec":{"hostPID":true},"status":{"phase":"Running"}}]}"#,
        );
        assert_eq!(doc.continue_token(), Some("abc"));
        assert_eq!(doc.resource_version(), Some("7"));
        let objs = objects(doc);
        let Ok(Decoded::Pod(p)) = &objs[0] else { panic!("{objs:?}") };
        assert_eq!((p.name(), p.namespace(), p.api_version.as_str()), ("a", "n", "v1"));
        assert_eq!(p.spec.host_pid, Some(true));
    }

    #[test]
    fn api_page_explicit_kinds_win_and_errors_carry_the_index() {
        let doc = page(
            PODS,
            r#"{"items":[{"kind":"Secret","apiVersion":"v1","metadata":{"name":"s"}},
            {"metadata":{"name":"b"},"spec":{"hostNetwork":"yes"}}],"metadata":{"continue":""}}"#,
        );
        assert_eq!(doc.continue_token(), None);
        let objs = objects(doc);
        assert!(matches!(&objs[0], Ok(Decoded::Ignored(k)) if k == "Secret"));
        let e = objs[1].as_ref().unwrap_err();
        assert_eq!(
            e.to_string(),
            "items[1].spec.hostNetwork: invalid type: string \"yes\", expected a boolean"
        );
    }

    #[test]
    fn api_page_null_items_and_single_objects() {
        assert!(page(PODS, r#"{"kind":"PodList","items":null}"#).into_objects().is_empty());
        let ns = ItemDefaults { kind: Some("Namespace"), api_version: Some("v1") };
        let objs =
            objects(page(ns, r#"{"kind":"Namespace","apiVersion":"v1","metadata":{"name":"x"}}"#));
        assert!(matches!(&objs[0], Ok(Decoded::Namespace(n)) if n.metadata.name == "x"));
    }

    /// The JSON fast path and the value path decode the same object identically.
    #[test]
    fn fast_path_equals_value_path() {
        let raw = r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","namespace":"n",
            "annotations":{"x":"y"},"labels":{"a":"b"}},"spec":{"replicas":0,"template":{"metadata":{"annotations":{
            "container.apparmor.security.beta.kubernetes.io/c":"unconfined"}},"spec":{"containers":[{"name":"c",
            "securityContext":{"capabilities":{"add":["NET_RAW"]}}}],"volumes":[{"name":"v","hostPath":{"path":"/"}}]}}}}"#;
        let fast = decode_json_object(raw, ItemDefaults::default()).unwrap();
        let slow = decode_value(serde_json::from_str(raw).unwrap()).unwrap();
        let (Decoded::Pod(a), Decoded::Pod(b)) = (fast, slow) else { panic!() };
        assert_eq!(a, b);
        assert!(!a.is_live());
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
        assert_eq!(
            e.to_string(),
            "items[2].spec.hostNetwork: invalid type: string \"maybe\", expected a boolean"
        );
    }

    #[test]
    fn workload_templates_and_liveness() {
        let objs = doc(
            r#"{"apiVersion":"batch/v1","kind":"CronJob","metadata":{"name":"c","namespace":"n"},
            "spec":{"suspend":true,"jobTemplate":{"spec":{"template":{"metadata":{"annotations":{"container.apparmor.security.beta.kubernetes.io/x":"unconfined"}},"spec":{"hostPID":true}}}}}}"#,
        );
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
