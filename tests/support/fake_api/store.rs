//! The object store: resource definitions (what discovery advertises), objects kept as
//! pre-serialized JSON, and paginated, selectable lists in (namespace, name) order.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;

use hyper::body::Bytes;
use serde_json::{Map, Value};

use super::selector::{FieldTerm, LabelSelector};
use super::util::{format_rfc3339, parse_rfc3339, uid_for};

const VERBS: &[&str] =
    &["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

/// One served resource (an entry of an `APIResourceList`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceDef {
    pub group: String,
    pub version: String,
    pub plural: String,
    pub singular: String,
    pub kind: String,
    pub namespaced: bool,
    pub short_names: Vec<String>,
    pub categories: Vec<String>,
}

impl ResourceDef {
    pub fn new(gv: &str, plural: &str, kind: &str, namespaced: bool, short: &[&str]) -> Self {
        let (group, version) = match gv.split_once('/') {
            Some((g, v)) => (g.to_owned(), v.to_owned()),
            None => (String::new(), gv.to_owned()),
        };
        ResourceDef {
            group,
            version,
            plural: plural.to_owned(),
            singular: kind.to_ascii_lowercase(),
            kind: kind.to_owned(),
            namespaced,
            short_names: short.iter().map(|s| s.to_string()).collect(),
            categories: Vec::new(),
        }
    }

    fn with_categories(mut self, c: &[&str]) -> Self {
        self.categories = c.iter().map(|s| s.to_string()).collect();
        self
    }

    /// `v1` or `apps/v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `pods` or `deployments.apps`, as API messages print a group resource.
    pub fn group_resource(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// The discovery entry.
    pub fn discovery_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("name".into(), self.plural.clone().into());
        m.insert("singularName".into(), self.singular.clone().into());
        m.insert("namespaced".into(), self.namespaced.into());
        m.insert("kind".into(), self.kind.clone().into());
        m.insert("verbs".into(), VERBS.iter().map(|v| Value::from(*v)).collect());
        if !self.short_names.is_empty() {
            m.insert("shortNames".into(), self.short_names.clone().into());
        }
        if !self.categories.is_empty() {
            m.insert("categories".into(), self.categories.clone().into());
        }
        m.insert("storageVersionHash".into(), uid_for(&self.group_resource())[..12].into());
        Value::Object(m)
    }

    /// Fields a field selector may use on this resource, beyond `metadata.name/namespace`.
    pub fn extra_selectable_fields(&self) -> &'static [&'static str] {
        match (self.group.as_str(), self.kind.as_str()) {
            ("", "Pod") => &[
                "spec.nodeName",
                "spec.restartPolicy",
                "spec.schedulerName",
                "spec.serviceAccountName",
                "spec.hostNetwork",
                "status.phase",
                "status.podIP",
                "status.nominatedNodeName",
            ],
            ("", "Namespace") => &["status.phase"],
            ("", "Node") => &["spec.unschedulable"],
            ("", "Secret") => &["type"],
            ("", "ReplicationController") | ("apps", "ReplicaSet") => &["status.replicas"],
            ("batch", "Job") => &["status.successful"],
            _ => &[],
        }
    }
}

/// The resources every fake serves (PSP and the policy group depend on the server minor).
pub fn builtin_defs(minor: u32) -> Vec<ResourceDef> {
    let d = ResourceDef::new;
    let mut v = vec![
        d("v1", "namespaces", "Namespace", false, &["ns"]),
        d("v1", "pods", "Pod", true, &["po"]).with_categories(&["all"]),
        d("v1", "serviceaccounts", "ServiceAccount", true, &["sa"]),
        d("v1", "podtemplates", "PodTemplate", true, &[]),
        d("v1", "replicationcontrollers", "ReplicationController", true, &["rc"])
            .with_categories(&["all"]),
        d("v1", "secrets", "Secret", true, &[]),
        d("v1", "configmaps", "ConfigMap", true, &["cm"]),
        d("v1", "services", "Service", true, &["svc"]).with_categories(&["all"]),
        d("v1", "nodes", "Node", false, &["no"]),
        d("v1", "limitranges", "LimitRange", true, &["limits"]),
        d("v1", "resourcequotas", "ResourceQuota", true, &["quota"]),
        d("apps/v1", "deployments", "Deployment", true, &["deploy"]).with_categories(&["all"]),
        d("apps/v1", "replicasets", "ReplicaSet", true, &["rs"]).with_categories(&["all"]),
        d("apps/v1", "statefulsets", "StatefulSet", true, &["sts"]).with_categories(&["all"]),
        d("apps/v1", "daemonsets", "DaemonSet", true, &["ds"]).with_categories(&["all"]),
        d("batch/v1", "jobs", "Job", true, &[]).with_categories(&["all"]),
        d("batch/v1", "cronjobs", "CronJob", true, &["cj"]).with_categories(&["all"]),
        d("rbac.authorization.k8s.io/v1", "roles", "Role", true, &[]),
        d("rbac.authorization.k8s.io/v1", "clusterroles", "ClusterRole", false, &[]),
        d("rbac.authorization.k8s.io/v1", "rolebindings", "RoleBinding", true, &[]),
        d("rbac.authorization.k8s.io/v1", "clusterrolebindings", "ClusterRoleBinding", false, &[]),
        d("networking.k8s.io/v1", "networkpolicies", "NetworkPolicy", true, &["netpol"]),
    ];
    if minor >= 21 {
        v.push(d("policy/v1", "poddisruptionbudgets", "PodDisruptionBudget", true, &["pdb"]));
    }
    // ValidatingAdmissionPolicy: v1beta1 from 1.28 (served, as upstream, through 1.33), v1
    // from 1.30. The fake stores policies; it does not evaluate them.
    let vap = |gv| {
        [
            d(gv, "validatingadmissionpolicies", "ValidatingAdmissionPolicy", false, &[]),
            d(
                gv,
                "validatingadmissionpolicybindings",
                "ValidatingAdmissionPolicyBinding",
                false,
                &[],
            ),
        ]
    };
    if (28..=33).contains(&minor) {
        v.extend(vap("admissionregistration.k8s.io/v1beta1"));
    }
    if minor >= 30 {
        v.extend(vap("admissionregistration.k8s.io/v1"));
    }
    // MutatingAdmissionPolicy: v1beta1 on 1.34–1.35, v1 from 1.36 (stored, not evaluated).
    let map = |gv| {
        [
            d(gv, "mutatingadmissionpolicies", "MutatingAdmissionPolicy", false, &[]),
            d(gv, "mutatingadmissionpolicybindings", "MutatingAdmissionPolicyBinding", false, &[]),
        ]
    };
    if (34..=35).contains(&minor) {
        v.extend(map("admissionregistration.k8s.io/v1beta1"));
    }
    if minor >= 36 {
        v.extend(map("admissionregistration.k8s.io/v1"));
    }
    if minor < 25 {
        v.push(d("policy/v1beta1", "podsecuritypolicies", "PodSecurityPolicy", false, &["psp"]));
        if minor < 21 {
            v.push(d(
                "policy/v1beta1",
                "poddisruptionbudgets",
                "PodDisruptionBudget",
                true,
                &["pdb"],
            ));
        }
    }
    v
}

/// Old group names that the API server serves under another group today.
pub fn canonical_group<'a>(group: &'a str, kind: &str) -> &'a str {
    match (group, kind) {
        ("extensions", "PodSecurityPolicy") => "policy",
        ("extensions", "Deployment" | "DaemonSet" | "ReplicaSet") => "apps",
        ("apps", _) => "apps",
        ("extensions", "NetworkPolicy") => "networking.k8s.io",
        ("extensions", "Ingress") => "networking.k8s.io",
        ("rbac.authorization.k8s.io", _) => "rbac.authorization.k8s.io",
        _ => group,
    }
}

/// A guessed plural for kinds not in the built-in table.
pub fn guess_plural(kind: &str) -> String {
    let lower = kind.to_ascii_lowercase();
    if lower.ends_with('s')
        || lower.ends_with('x')
        || lower.ends_with("ch")
        || lower.ends_with("sh")
    {
        format!("{lower}es")
    } else if lower.ends_with('y') && !lower.ends_with("ey") && !lower.ends_with("ay") {
        format!("{}ies", &lower[..lower.len() - 1])
    } else {
        format!("{lower}s")
    }
}

/// One stored object: pre-serialized JSON (`{"apiVersion":…,"kind":…,<rest>}`) plus what lists
/// need without parsing it.
#[derive(Clone, Debug)]
pub struct Obj {
    pub ns: String,
    pub name: String,
    /// Sorted by key.
    pub labels: Box<[(String, String)]>,
    pub created: Option<i64>,
    pub rv: String,
    pub bytes: Bytes,
    /// Offset of the byte after `"kind":"…"` (a `,` or the closing `}`).
    pub body_offset: usize,
}

impl Obj {
    /// Builds the stored form of a normalized object.
    pub fn from_value(v: &Value) -> Obj {
        let meta = &v["metadata"];
        let s = |x: &Value| x.as_str().unwrap_or_default().to_owned();
        let mut labels: Vec<(String, String)> = meta["labels"]
            .as_object()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), s(v))).collect())
            .unwrap_or_default();
        labels.sort();
        let (mut bytes, body_offset) = serialize_with_type_first(v);
        bytes.shrink_to_fit();
        Obj {
            ns: s(&meta["namespace"]),
            name: s(&meta["name"]),
            labels: labels.into_boxed_slice(),
            created: meta["creationTimestamp"].as_str().and_then(parse_rfc3339),
            rv: s(&meta["resourceVersion"]),
            bytes: Bytes::from(bytes),
            body_offset,
        }
    }

    pub fn value(&self) -> Value {
        serde_json::from_slice(&self.bytes).unwrap_or(Value::Null)
    }

    /// Appends the object to `out`, without `apiVersion`/`kind` when `type_meta` is false (as the
    /// real server does for list items).
    pub fn write_to(&self, out: &mut Vec<u8>, type_meta: bool) {
        if type_meta {
            out.extend_from_slice(&self.bytes);
        } else if self.bytes[self.body_offset] == b',' {
            out.push(b'{');
            out.extend_from_slice(&self.bytes[self.body_offset + 1..]);
        } else {
            out.extend_from_slice(b"{}");
        }
    }

    pub fn key(&self) -> (String, String) {
        (self.ns.clone(), self.name.clone())
    }
}

/// Serializes with `apiVersion` and `kind` first; returns the bytes and the offset after them.
pub fn serialize_with_type_first(v: &Value) -> (Vec<u8>, usize) {
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(b"{\"apiVersion\":");
    serde_json::to_writer(&mut out, &v["apiVersion"]).expect("serialize");
    out.extend_from_slice(b",\"kind\":");
    serde_json::to_writer(&mut out, &v["kind"]).expect("serialize");
    let offset = out.len();
    if let Some(map) = v.as_object() {
        for (k, val) in map {
            if k == "apiVersion" || k == "kind" {
                continue;
            }
            out.push(b',');
            serde_json::to_writer(&mut out, k).expect("serialize");
            out.push(b':');
            serde_json::to_writer(&mut out, val).expect("serialize");
        }
    }
    out.push(b'}');
    (out, offset)
}

/// Objects of one resource, ordered by (namespace, name); cluster-scoped objects use "".
#[derive(Debug)]
pub struct Collection {
    pub def: ResourceDef,
    pub items: BTreeMap<(String, String), Obj>,
}

/// What a list request selects.
#[derive(Clone, Debug, Default)]
pub struct ListQuery {
    pub namespace: Option<String>,
    pub labels: LabelSelector,
    pub fields: Vec<FieldTerm>,
    /// 0 = no limit.
    pub limit: usize,
    /// Resume after this key (from a continue token).
    pub start_after: Option<(String, String)>,
}

/// One page of a list.
#[derive(Debug)]
pub struct Page<'a> {
    pub items: Vec<&'a Obj>,
    /// Key of the last item when more remain.
    pub next: Option<(String, String)>,
    /// Items after this page (only without selectors, as the real server does).
    pub remaining: Option<u64>,
}

fn field_value(obj: &Obj, field: &str) -> String {
    match field {
        "metadata.name" => obj.name.clone(),
        "metadata.namespace" => obj.ns.clone(),
        _ => {
            let v = obj.value();
            let ptr = format!("/{}", field.replace('.', "/"));
            match v.pointer(&ptr) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Null) | None => match field {
                    "spec.hostNetwork" | "spec.unschedulable" => "false".into(),
                    "status.replicas" | "status.successful" => "0".into(),
                    _ => String::new(),
                },
                Some(other) => other.to_string(),
            }
        }
    }
}

impl Collection {
    pub fn new(def: ResourceDef) -> Self {
        Collection { def, items: BTreeMap::new() }
    }

    /// One page of matching items.
    pub fn list(&self, q: &ListQuery) -> Page<'_> {
        let lower: Bound<(String, String)> = match (&q.start_after, &q.namespace) {
            (Some(k), _) => Bound::Excluded(k.clone()),
            (None, Some(ns)) if self.def.namespaced => Bound::Included((ns.clone(), String::new())),
            _ => Bound::Unbounded,
        };
        let ns_filter = q.namespace.as_deref().filter(|_| self.def.namespaced);
        let selecting = !q.labels.is_empty() || !q.fields.is_empty();
        let matches = |o: &Obj| {
            q.labels.matches(&*o.labels)
                && q.fields.iter().all(|t| t.matches(&field_value(o, &t.field)))
        };
        let mut iter = self
            .items
            .range((lower, Bound::Unbounded))
            .map(|(_, o)| o)
            .take_while(|o| ns_filter.is_none_or(|ns| o.ns == ns));
        let mut items = Vec::new();
        let mut next = None;
        let mut remaining = None;
        for o in iter.by_ref() {
            if !matches(o) {
                continue;
            }
            if q.limit > 0 && items.len() == q.limit {
                // One more match exists: there is a next page.
                let last: &Obj = items[items.len() - 1];
                next = Some(last.key());
                if !selecting {
                    remaining = Some(1 + iter.count() as u64);
                }
                break;
            }
            items.push(o);
        }
        Page { items, next, remaining }
    }
}

/// All collections plus the cluster-wide resourceVersion counter.
#[derive(Debug, Default)]
pub struct Store {
    pub rv: u64,
    pub collections: Vec<Collection>,
}

impl Store {
    pub fn find(&self, group: &str, version: &str, plural: &str) -> Option<usize> {
        self.collections.iter().position(|c| {
            c.def.group == group && c.def.version == version && c.def.plural == plural
        })
    }

    pub fn find_kind(&self, group: &str, kind: &str) -> Option<usize> {
        self.collections.iter().position(|c| c.def.group == group && c.def.kind == kind)
    }

    /// Names of all namespaces.
    pub fn namespace_names(&self) -> BTreeSet<String> {
        self.find("", "v1", "namespaces")
            .map(|i| self.collections[i].items.keys().map(|k| k.1.clone()).collect())
            .unwrap_or_default()
    }

    /// Bumps and returns the cluster-wide resourceVersion.
    pub fn next_rv(&mut self) -> u64 {
        self.rv += 1;
        self.rv
    }
}

/// Fills in what the API server always sets: `apiVersion`/`kind`, namespace defaulting, uid,
/// resourceVersion, creationTimestamp; namespaces also get `kubernetes.io/metadata.name` (1.21+)
/// and `status.phase`.
pub fn normalize(
    def: &ResourceDef,
    v: &mut Value,
    next_rv: &mut dyn FnMut() -> u64,
    now: i64,
    minor: u32,
) -> Result<(), String> {
    let Some(obj) = v.as_object_mut() else { return Err("object is not a map".into()) };
    obj.insert("apiVersion".into(), def.api_version().into());
    obj.insert("kind".into(), def.kind.clone().into());
    let meta = obj.entry("metadata").or_insert_with(|| Value::Object(Map::new()));
    let Some(meta) = meta.as_object_mut() else { return Err("metadata is not a map".into()) };
    let name = meta.get("name").and_then(Value::as_str).unwrap_or_default().to_owned();
    if name.is_empty() {
        return Err("metadata.name is missing".into());
    }
    let ns = if def.namespaced {
        let ns = meta
            .get("namespace")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .unwrap_or("default")
            .to_owned();
        meta.insert("namespace".into(), ns.clone().into());
        ns
    } else {
        meta.remove("namespace");
        String::new()
    };
    if meta.get("uid").and_then(Value::as_str).is_none_or(str::is_empty) {
        let key = format!("{}/{}/{ns}/{name}", def.group, def.kind);
        meta.insert("uid".into(), uid_for(&key).into());
    }
    if meta.get("resourceVersion").and_then(Value::as_str).is_none_or(str::is_empty) {
        meta.insert("resourceVersion".into(), next_rv().to_string().into());
    }
    if meta.get("creationTimestamp").and_then(Value::as_str).is_none_or(str::is_empty) {
        meta.insert("creationTimestamp".into(), format_rfc3339(now).into());
    }
    if def.group.is_empty() && def.kind == "Namespace" {
        if minor >= 21 {
            let labels = meta.entry("labels").or_insert_with(|| Value::Object(Map::new()));
            if let Some(l) = labels.as_object_mut() {
                l.insert("kubernetes.io/metadata.name".into(), name.clone().into());
            }
        }
        let spec = obj.entry("spec").or_insert_with(|| Value::Object(Map::new()));
        if let Some(s) = spec.as_object_mut()
            && !s.contains_key("finalizers")
        {
            s.insert("finalizers".into(), vec![Value::from("kubernetes")].into());
        }
        let status = obj.entry("status").or_insert_with(|| Value::Object(Map::new()));
        if let Some(s) = status.as_object_mut()
            && !s.contains_key("phase")
        {
            s.insert("phase".into(), "Active".into());
        }
    }
    Ok(())
}
