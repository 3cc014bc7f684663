//! The inventory: everything read from a cluster or an export, each object with its provenance.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Deref;

use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::findings::Finding;
use crate::model::pod::{ObjectMeta, PSP_ANNOTATION, PodSpec, PodView};
use crate::model::psp::PodSecurityPolicy;

/// Where an object came from: a file (document index in the file, item index inside a `List`,
/// and the line and column where the object starts), or the live API server.
///
/// Objects are ordered by file, document and item; the position only breaks ties (one object has
/// one position), so ordering and "last in input order wins" do not depend on it.
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(untagged)]
pub enum Provenance {
    File {
        file: String,
        /// 0-based index of the YAML document in the file (JSON files have one document).
        document: usize,
        /// 0-based index in the `items` of a `List` document (or of the objects of a JSON
        /// stream holding several).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        item: Option<usize>,
        /// 1-based line where the object starts: a document's first content line, a list
        /// item's first line, a JSON object's opening brace.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        line: Option<u64>,
        /// 1-based column (in characters) where the object starts on that line.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        column: Option<u64>,
    },
    Live {
        server: String,
    },
}

impl Provenance {
    /// A file provenance without a position.
    pub fn file(file: impl Into<String>, document: usize, item: Option<usize>) -> Provenance {
        Provenance::File { file: file.into(), document, item, line: None, column: None }
    }
}

/// `pods.yaml:12:3 (document 0, item 3)`: the position as editors and compilers write it
/// (`file:line:column`, or `file:line`), then the document and item.
impl fmt::Display for Provenance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Provenance::File { file, document, item, line, column } => {
                f.write_str(file)?;
                if let Some(l) = line {
                    write!(f, ":{l}")?;
                    if let Some(c) = column {
                        write!(f, ":{c}")?;
                    }
                }
                write!(f, " (document {document}")?;
                if let Some(i) = item {
                    write!(f, ", item {i}")?;
                }
                f.write_str(")")
            }
            Provenance::Live { server } => write!(f, "{server}"),
        }
    }
}

/// An object with its provenance.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Sourced<T> {
    #[serde(flatten)]
    pub obj: T,
    pub source: Provenance,
}

impl<T> Deref for Sourced<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.obj
    }
}

/// Kinds that carry a pod spec.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub enum PodKind {
    Pod,
    Deployment,
    StatefulSet,
    DaemonSet,
    ReplicaSet,
    ReplicationController,
    Job,
    CronJob,
    PodTemplate,
    /// A pod template inside a custom resource (the kind is in [`PodObject::custom`]).
    Custom,
}

impl PodKind {
    /// The built-in kinds.
    pub const ALL: [PodKind; 9] = [
        PodKind::Pod,
        PodKind::Deployment,
        PodKind::StatefulSet,
        PodKind::DaemonSet,
        PodKind::ReplicaSet,
        PodKind::ReplicationController,
        PodKind::Job,
        PodKind::CronJob,
        PodKind::PodTemplate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PodKind::Pod => "Pod",
            PodKind::Deployment => "Deployment",
            PodKind::StatefulSet => "StatefulSet",
            PodKind::DaemonSet => "DaemonSet",
            PodKind::ReplicaSet => "ReplicaSet",
            PodKind::ReplicationController => "ReplicationController",
            PodKind::Job => "Job",
            PodKind::CronJob => "CronJob",
            PodKind::PodTemplate => "PodTemplate",
            PodKind::Custom => "Custom",
        }
    }

    pub fn from_kind(kind: &str) -> Option<PodKind> {
        PodKind::ALL.into_iter().find(|k| k.as_str() == kind)
    }

    /// The built-in kind of an object, by kind and apiVersion: a `Job` of `batch.volcano.sh` or
    /// a `Service` of Knative is not one. An object without an apiVersion counts by its kind.
    pub fn from_type(api_version: &str, kind: &str) -> Option<PodKind> {
        let k = PodKind::from_kind(kind)?;
        let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
        let ok = api_version.is_empty()
            || match k {
                PodKind::Pod | PodKind::ReplicationController | PodKind::PodTemplate => {
                    group.is_empty()
                }
                PodKind::Deployment | PodKind::DaemonSet | PodKind::ReplicaSet => {
                    matches!(group, "apps" | "extensions")
                }
                PodKind::StatefulSet => group == "apps",
                PodKind::Job | PodKind::CronJob => group == "batch",
                PodKind::Custom => false,
            };
        ok.then_some(k)
    }
}

impl fmt::Display for PodKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The state fields that decide whether an object is live (runs or will run pods).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ObjectState {
    /// Pod `status.phase`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// `spec.replicas` (the API defaults an absent value to 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i32>,
    /// CronJob `spec.suspend`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub suspended: bool,
    /// Job with a `Complete` or `Failed` condition.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub finished: bool,
}

/// A Pod, or a workload with a pod template, reduced to what evaluation and mutation detection
/// need. For workloads, `template_annotations` and `spec` come from the pod template.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PodObject {
    pub kind: PodKind,
    pub api_version: String,
    pub meta: ObjectMeta,
    /// The pod template's annotations (workloads only; a Pod's own are in `meta`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub template_annotations: BTreeMap<String, String>,
    pub spec: PodSpec,
    pub state: ObjectState,
    pub source: Provenance,
    /// For [`PodKind::Custom`]: which custom resource and which template in it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom: Option<Box<CustomTemplate>>,
}

/// A pod template inside a custom resource: the resource's kind, the template's path, what the
/// operator adds to its pods, and where each part of the pod lives in the resource (for
/// JSON patches).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomTemplate {
    /// The custom resource's kind (`RayCluster`).
    pub kind: String,
    /// The template's path in the resource (`spec.workerGroupSpecs[0].template`).
    pub path: String,
    /// The registry entry that read it (`ray.io/RayCluster`), or `generic`.
    pub entry: String,
    /// The resource is cluster-scoped (its templates run in the namespaces that use them).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub cluster_scoped: bool,
    /// Why the resource runs no pods now (`suspended`, `stopped`, `finished`, `template only`);
    /// `None` when it is live.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dead: Option<String>,
    /// Containers the operator adds to every pod (already in the spec, judged with it), each
    /// with where its security context is configured.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub injected: BTreeMap<String, String>,
    pub locations: Locations,
    /// The runtime whose pod parts this template still needs (resolved once the whole input is
    /// read: [`crate::custom::resolve`]).
    #[serde(skip)]
    pub uses: Option<Uses>,
}

/// A runtime a template takes part of its pod from: the kinds to look in, in order, and the
/// name (empty: chosen at admission, e.g. by model format).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Uses {
    pub kinds: Vec<&'static str>,
    pub name: String,
    /// What it is for, in findings (`the model server`, `its pod templates`).
    pub what: &'static str,
}

/// JSON pointers (RFC 6901) into the custom resource of the parts of a pod a fix can change.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Locations {
    /// The pod-level `securityContext` (it may not exist yet; its parent does).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod_security_context: Option<String>,
    /// The template's `metadata.annotations`, and how many of its last two steps do not exist
    /// yet (0: the annotations do; 1: only `metadata` does; 2: neither, the template does).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annotations: Option<(String, usize)>,
    /// Each container the resource defines, by name.
    pub containers: BTreeMap<String, String>,
    /// Containers the operator copies from another (by name): fixing that one fixes them.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub mirrors: BTreeMap<String, String>,
}

impl PodObject {
    pub fn name(&self) -> &str {
        &self.meta.name
    }

    /// The object's kind as the API names it (a custom resource's own kind).
    pub fn kind_name(&self) -> &str {
        match &self.custom {
            Some(c) => &c.kind,
            None => self.kind.as_str(),
        }
    }

    /// The template's path inside a custom resource.
    pub fn path(&self) -> Option<&str> {
        self.custom.as_deref().map(|c| c.path.as_str())
    }

    /// The object (and, for a custom resource, the template) as findings and reports name it.
    pub fn object_ref(&self) -> crate::findings::ObjectRef {
        let ns = (!self.is_cluster_scoped()).then(|| self.namespace());
        let mut r = crate::findings::ObjectRef::new(self.kind_name(), ns, self.name());
        r.path = self.path().map(str::to_owned);
        r
    }

    /// The namespace (`default` when unset; empty for a cluster-scoped custom resource).
    pub fn namespace(&self) -> &str {
        match &self.meta.namespace {
            Some(ns) => ns,
            None if self.is_cluster_scoped() => "",
            None => "default",
        }
    }

    /// A template of a cluster-scoped custom resource (a `ClusterWorkflowTemplate`, …).
    pub fn is_cluster_scoped(&self) -> bool {
        self.custom.as_ref().is_some_and(|c| c.cluster_scoped)
    }

    /// The annotations PSS checks read: the pod's own, or the template's.
    pub fn pod_annotations(&self) -> &BTreeMap<String, String> {
        if self.kind == PodKind::Pod { &self.meta.annotations } else { &self.template_annotations }
    }

    /// The PSP that admitted a pod, from its `kubernetes.io/psp` annotation (empty values count
    /// as none); `None` for workloads.
    pub fn admitting_psp(&self) -> Option<&str> {
        if self.kind != PodKind::Pod {
            return None;
        }
        self.meta.annotations.get(PSP_ANNOTATION).map(String::as_str).filter(|s| !s.is_empty())
    }

    pub fn view(&self) -> PodView<'_> {
        PodView { annotations: self.pod_annotations(), spec: &self.spec }
    }

    /// Whether the object runs pods now or will create them: Pending/Running pods; Deployments,
    /// StatefulSets, ReplicaSets and ReplicationControllers with replicas ≠ 0; DaemonSets;
    /// CronJobs not suspended; Jobs not finished. PodTemplates never run anything. A custom
    /// resource's template by its registry entry's rule.
    pub fn is_live(&self) -> bool {
        match self.kind {
            PodKind::Pod => matches!(self.state.phase.as_deref(), Some("Pending" | "Running")),
            PodKind::Deployment
            | PodKind::StatefulSet
            | PodKind::ReplicaSet
            | PodKind::ReplicationController => self.state.replicas != Some(0),
            PodKind::DaemonSet => true,
            PodKind::CronJob => !self.state.suspended,
            PodKind::Job => !self.state.finished,
            PodKind::PodTemplate => false,
            PodKind::Custom => self.custom.as_ref().is_some_and(|c| c.dead.is_none()),
        }
    }
}

/// A namespace: metadata (labels matter) and phase.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Namespace {
    pub metadata: ObjectMeta,
}

/// `kubectl version` server information.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerVersion {
    #[serde(default)]
    pub major: String,
    #[serde(default)]
    pub minor: String,
    #[serde(default)]
    pub git_version: String,
}

impl ServerVersion {
    /// The minor version number (`"24+"` → 24), when the major version is 1.
    pub fn minor_number(&self) -> Option<u32> {
        if self.major.trim_end_matches('+') != "1" {
            return None;
        }
        let digits: String = self.minor.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    }
}

/// A resource kind that could not be read (live mode): why, and what it means for the results.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Unavailable {
    /// e.g. `podsecuritypolicies.policy`
    pub resource: String,
    /// Stable code, e.g. `api-not-served`, `api-forbidden`.
    pub code: crate::findings::Code,
    pub message: String,
}

/// One resource the input is known to hold in full: it was listed (live, or by `export`) in
/// every namespace, or in one.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ListedResource {
    /// Qualified plural resource: `pods`, `deployments.apps`, `podsecuritypolicies.policy`.
    pub resource: String,
    /// The namespace it was listed in; absent when listed in every namespace (and for
    /// cluster-scoped resources).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// What the input is known to cover: the resources that were listed. A plain manifest set
/// proves nothing (`None` in [`Inventory::listed`]): a `List` cannot show it was read with `-A`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listed {
    pub resources: Vec<ListedResource>,
}

impl Listed {
    /// Whether `resource` was listed in `namespace` (or in every namespace).
    pub fn covers(&self, resource: &str, namespace: Option<&str>) -> bool {
        self.resources.iter().any(|r| {
            r.resource == resource && (r.namespace.is_none() || r.namespace.as_deref() == namespace)
        })
    }

    /// Adds another record's resources (several inputs), keeping the list sorted and unique.
    pub fn merge(&mut self, other: Listed) {
        self.resources.extend(other.resources);
        self.resources.sort();
        self.resources.dedup();
    }
}

/// Everything read in.
#[derive(Clone, Debug, Default)]
pub struct Inventory {
    pub server_version: Option<ServerVersion>,
    pub namespaces: Vec<Sourced<Namespace>>,
    pub service_accounts: Vec<Sourced<ObjectMeta>>,
    pub psps: Vec<Sourced<PodSecurityPolicy>>,
    pub roles: Vec<Sourced<Role>>,
    pub cluster_roles: Vec<Sourced<ClusterRole>>,
    pub role_bindings: Vec<Sourced<RoleBinding>>,
    pub cluster_role_bindings: Vec<Sourced<ClusterRoleBinding>>,
    pub pod_objects: Vec<PodObject>,
    /// Custom resources with pod templates, as kept (their templates are in `pod_objects`).
    pub custom_resources: Vec<Sourced<serde_json::Value>>,
    /// Kinds read but not kept, with counts (Secrets are counted here and never kept).
    pub ignored: BTreeMap<String, usize>,
    /// Resource kinds that could not be read.
    pub unavailable: Vec<Unavailable>,
    /// What the input is known to cover (`None`: nothing is proven complete).
    pub listed: Option<Listed>,
    /// Findings about the input itself (e.g. duplicate objects), carried into every report.
    pub findings: Vec<Finding>,
}

/// Appends `b` to `a`, taking `b`'s buffer when `a` is empty (no copy of a large list).
fn append<T>(a: &mut Vec<T>, mut b: Vec<T>) {
    if a.is_empty() {
        *a = b;
    } else {
        a.append(&mut b);
    }
}

fn k8s_key(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> (String, String) {
    (meta.namespace.clone().unwrap_or_default(), meta.name.clone().unwrap_or_default())
}

/// A custom resource's apiVersion, kind, namespace and name.
fn custom_key(v: &serde_json::Value) -> (String, String, String, String) {
    let s =
        |p: &str| v.pointer(p).and_then(serde_json::Value::as_str).unwrap_or_default().to_owned();
    (s("/apiVersion"), s("/kind"), s("/metadata/namespace"), s("/metadata/name"))
}

fn own_key(meta: &ObjectMeta) -> (String, String) {
    (meta.namespace.clone().unwrap_or_default(), meta.name.clone())
}

impl Inventory {
    /// Sorts every collection so that output built from the inventory is deterministic whatever
    /// order files or API pages arrived in.
    pub fn sort(&mut self) {
        self.namespaces.sort_by_cached_key(|o| (own_key(&o.metadata), o.source.clone()));
        self.service_accounts.sort_by_cached_key(|o| (own_key(o), o.source.clone()));
        self.psps.sort_by_cached_key(|o| (own_key(&o.metadata), o.source.clone()));
        self.roles.sort_by_cached_key(|o| (k8s_key(&o.metadata), o.source.clone()));
        self.cluster_roles.sort_by_cached_key(|o| (k8s_key(&o.metadata), o.source.clone()));
        self.role_bindings.sort_by_cached_key(|o| (k8s_key(&o.metadata), o.source.clone()));
        self.cluster_role_bindings.sort_by_cached_key(|o| (k8s_key(&o.metadata), o.source.clone()));
        // Unstable: no scratch buffer the size of the list; the key is unique per object.
        self.pod_objects.sort_unstable_by(|a, b| {
            (a.namespace(), a.kind, a.kind_name(), a.name(), a.path(), &a.source).cmp(&(
                b.namespace(),
                b.kind,
                b.kind_name(),
                b.name(),
                b.path(),
                &b.source,
            ))
        });
        self.custom_resources.sort_by_cached_key(|o| (custom_key(&o.obj), o.source.clone()));
        self.unavailable.sort();
    }

    /// Adds another inventory's objects to this one (used when several sources are read).
    pub fn extend(&mut self, other: Inventory) {
        if self.server_version.is_none() {
            self.server_version = other.server_version;
        }
        append(&mut self.namespaces, other.namespaces);
        append(&mut self.service_accounts, other.service_accounts);
        append(&mut self.psps, other.psps);
        append(&mut self.roles, other.roles);
        append(&mut self.cluster_roles, other.cluster_roles);
        append(&mut self.role_bindings, other.role_bindings);
        append(&mut self.cluster_role_bindings, other.cluster_role_bindings);
        append(&mut self.pod_objects, other.pod_objects);
        append(&mut self.custom_resources, other.custom_resources);
        for (k, n) in other.ignored {
            *self.ignored.entry(k).or_default() += n;
        }
        self.unavailable.extend(other.unavailable);
        match (&mut self.listed, other.listed) {
            (Some(a), Some(b)) => a.merge(b),
            (a @ None, b) => *a = b,
            (Some(_), None) => {}
        }
        self.findings.extend(other.findings);
    }

    /// Gives every object the same provenance (e.g. before comparing inventories read from
    /// different sources).
    pub fn set_provenance(&mut self, source: &Provenance) {
        self.namespaces.iter_mut().for_each(|o| o.source = source.clone());
        self.service_accounts.iter_mut().for_each(|o| o.source = source.clone());
        self.psps.iter_mut().for_each(|o| o.source = source.clone());
        self.roles.iter_mut().for_each(|o| o.source = source.clone());
        self.cluster_roles.iter_mut().for_each(|o| o.source = source.clone());
        self.role_bindings.iter_mut().for_each(|o| o.source = source.clone());
        self.cluster_role_bindings.iter_mut().for_each(|o| o.source = source.clone());
        self.pod_objects.iter_mut().for_each(|o| o.source = source.clone());
        self.custom_resources.iter_mut().for_each(|o| o.source = source.clone());
    }

    /// How this inventory differs from `other`, provenance aside: one line per collection that
    /// differs, naming the objects only on one side and showing the first object that differs.
    /// Empty when both hold the same objects in the same order (sort both first), the same
    /// server version, the same `ignored` counts and the same unavailable kinds. Live and offline
    /// reads of one cluster, and an inventory and its export read back, compare equal this way.
    pub fn diff_ignoring_provenance(&self, other: &Inventory) -> Vec<String> {
        let anywhere = Provenance::Live { server: String::new() };
        let (mut a, mut b) = (self.clone(), other.clone());
        a.set_provenance(&anywhere);
        b.set_provenance(&anywhere);
        let mut out = Vec::new();
        if a.server_version != b.server_version {
            out.push(format!("server version: {:?} != {:?}", a.server_version, b.server_version));
        }
        let own = |o: &Sourced<Namespace>| own_key(&o.metadata);
        diff_list("namespaces", &a.namespaces, &b.namespaces, own, &mut out);
        diff_list(
            "service accounts",
            &a.service_accounts,
            &b.service_accounts,
            |o| own_key(o),
            &mut out,
        );
        diff_list("PSPs", &a.psps, &b.psps, |o| own_key(&o.metadata), &mut out);
        diff_list("roles", &a.roles, &b.roles, |o| k8s_key(&o.metadata), &mut out);
        diff_list(
            "cluster roles",
            &a.cluster_roles,
            &b.cluster_roles,
            |o| k8s_key(&o.metadata),
            &mut out,
        );
        diff_list(
            "role bindings",
            &a.role_bindings,
            &b.role_bindings,
            |o| k8s_key(&o.metadata),
            &mut out,
        );
        diff_list(
            "cluster role bindings",
            &a.cluster_role_bindings,
            &b.cluster_role_bindings,
            |o| k8s_key(&o.metadata),
            &mut out,
        );
        diff_list(
            "pods and workloads",
            &a.pod_objects,
            &b.pod_objects,
            |o| (o.namespace().to_owned(), o.object_ref().to_string()),
            &mut out,
        );
        diff_list(
            "custom resources",
            &a.custom_resources,
            &b.custom_resources,
            |o| {
                let (api_version, kind, ns, name) = custom_key(&o.obj);
                (ns, format!("{kind}.{api_version}/{name}"))
            },
            &mut out,
        );
        if a.ignored != b.ignored {
            out.push(format!("ignored kinds: {:?} != {:?}", a.ignored, b.ignored));
        }
        if a.unavailable != b.unavailable {
            out.push(format!("unavailable kinds: {:?} != {:?}", a.unavailable, b.unavailable));
        }
        out
    }

    /// How many objects were read, ignored kinds included (`0`: the input was empty).
    pub fn objects_read(&self) -> usize {
        self.namespaces.len()
            + self.service_accounts.len()
            + self.psps.len()
            + self.roles.len()
            + self.cluster_roles.len()
            + self.role_bindings.len()
            + self.cluster_role_bindings.len()
            + self.pod_objects.len()
            + self.ignored.values().sum::<usize>()
    }

    /// Keeps only objects of one namespace (cluster-scoped objects stay, except the templates
    /// of cluster-scoped custom resources, which belong to no namespace).
    pub fn retain_namespace(&mut self, ns: &str) {
        self.namespaces.retain(|n| n.metadata.name == ns);
        self.service_accounts.retain(|o| o.namespace.as_deref() == Some(ns));
        self.roles.retain(|o| o.metadata.namespace.as_deref() == Some(ns));
        self.role_bindings.retain(|o| o.metadata.namespace.as_deref() == Some(ns));
        self.pod_objects.retain(|o| o.namespace() == ns);
        self.custom_resources.retain(|o| custom_key(&o.obj).2 == ns);
    }
}

/// Appends a description of how two collections differ (nothing when they are equal).
fn diff_list<T: PartialEq + fmt::Debug>(
    what: &str,
    a: &[T],
    b: &[T],
    key: impl Fn(&T) -> (String, String),
    out: &mut Vec<String>,
) {
    if a == b {
        return;
    }
    let show =
        |(ns, name): (String, String)| if ns.is_empty() { name } else { format!("{ns}/{name}") };
    let keys_a: Vec<(String, String)> = a.iter().map(&key).collect();
    let keys_b: Vec<(String, String)> = b.iter().map(&key).collect();
    let only = |x: &[(String, String)], y: &[(String, String)]| -> Vec<String> {
        x.iter().filter(|k| !y.contains(k)).map(|k| show(k.clone())).collect()
    };
    let mut parts = vec![format!("{what}: {} != {} objects", a.len(), b.len())];
    let (left, right) = (only(&keys_a, &keys_b), only(&keys_b, &keys_a));
    if !left.is_empty() {
        parts.push(format!("only on the left: {}", left.join(", ")));
    }
    if !right.is_empty() {
        parts.push(format!("only on the right: {}", right.join(", ")));
    }
    if let Some((x, y)) = a.iter().zip(b).find(|(x, y)| key(x) == key(y) && x != y) {
        parts
            .push(format!("first difference in {}:\n  left:  {x:?}\n  right: {y:?}", show(key(x))));
    } else if left.is_empty() && right.is_empty() {
        parts.push("same objects in a different order".to_owned());
    }
    out.push(parts.join("; "));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_minor_versions() {
        let v = |major: &str, minor: &str| ServerVersion {
            major: major.into(),
            minor: minor.into(),
            git_version: String::new(),
        };
        assert_eq!(v("1", "24").minor_number(), Some(24));
        assert_eq!(v("1", "23+").minor_number(), Some(23));
        assert_eq!(v("2", "1").minor_number(), None);
        assert_eq!(v("1", "").minor_number(), None);
    }

    #[test]
    fn provenance_display_and_json() {
        let mut p = Provenance::file("pods.yaml", 1, Some(3));
        assert_eq!(p.to_string(), "pods.yaml (document 1, item 3)");
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            serde_json::json!({"file": "pods.yaml", "document": 1, "item": 3})
        );
        if let Provenance::File { line, column, .. } = &mut p {
            *line = Some(12);
            *column = Some(5);
        }
        assert_eq!(p.to_string(), "pods.yaml:12:5 (document 1, item 3)");
        let json = serde_json::json!(
            {"file": "pods.yaml", "document": 1, "item": 3, "line": 12, "column": 5}
        );
        assert_eq!(serde_json::to_value(&p).unwrap(), json);
        assert_eq!(serde_json::from_value::<Provenance>(json).unwrap(), p);
        let one = Provenance::File {
            file: "-".into(),
            document: 0,
            item: None,
            line: Some(4),
            column: None,
        };
        assert_eq!(one.to_string(), "-:4 (document 0)");
        assert_eq!(Provenance::Live { server: "https://x".into() }.to_string(), "https://x");
    }

    #[test]
    fn comparison_ignores_provenance_only() {
        let ns = |name: &str, source: Provenance| Sourced {
            obj: Namespace { metadata: ObjectMeta { name: name.into(), ..ObjectMeta::default() } },
            source,
        };
        let file = Provenance::file("a.yaml", 0, None);
        let live = Provenance::Live { server: "https://x".into() };
        let a = Inventory { namespaces: vec![ns("a", file.clone())], ..Inventory::default() };
        let b = Inventory { namespaces: vec![ns("a", live.clone())], ..Inventory::default() };
        assert!(a.diff_ignoring_provenance(&b).is_empty());
        let c =
            Inventory { namespaces: vec![ns("a", live), ns("b", file)], ..Inventory::default() };
        let d = a.diff_ignoring_provenance(&c);
        assert_eq!(d, ["namespaces: 1 != 2 objects; only on the right: b"]);
    }
}
