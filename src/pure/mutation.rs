//! Workloads that relied on PSP mutation: each pod with a controller is compared with the pod
//! template it was created from, on the fields of the official migration step 2.c.2.
//!
//! Owners are followed through `ownerReferences` (Pod → ReplicaSet → Deployment, Pod → Job →
//! CronJob, StatefulSet, DaemonSet, ReplicationController). Owners of unknown kinds (a Node for
//! static pods, custom resources) and owners missing from the input become findings, never
//! errors. Differences are grouped per owning workload and attributed to the admitting PSP when
//! it has a mutating field that explains them; otherwise another mutating webhook (or a template
//! change since the pod was created) did it.
//!
//! Seccomp and AppArmor are compared as *effective* profiles (field or annotation), because the
//! API server copies one into the other on pod creation and a plain comparison would report
//! differences nobody made.
//!
//! Pure: no I/O.

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use crate::findings::{Code, Finding, ObjectRef};
use crate::mapping::PolicyMapping;
use crate::model::inventory::{Inventory, PodKind, PodObject, Provenance};
use crate::model::pod::{
    APPARMOR_ANNOTATION_PREFIX, AppArmorProfile, Container, OwnerReference,
    SECCOMP_CONTAINER_ANNOTATION_PREFIX, SECCOMP_POD_ANNOTATION, SeccompProfile,
};

/// One differing field.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Difference {
    /// Field path in the pod (`spec.containers[app].securityContext.runAsUser`).
    pub field: String,
    /// Value in the template (`null`: unset).
    pub template: Value,
    /// Value in the pod.
    pub pod: Value,
    /// The mutating field of the admitting PSP that explains the difference, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub psp_field: Option<&'static str>,
}

/// One pod that differs from its template.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MutatedPod {
    pub name: String,
    /// The PSP that admitted it (`kubernetes.io/psp`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub psp: Option<String>,
    /// The object whose template the pod was compared with.
    pub compared_with: ObjectRef,
    pub differences: Vec<Difference>,
    pub source: Provenance,
}

/// A workload whose pods differ from its template.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MutatedWorkload {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    /// For a pod template inside a custom resource: its path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// PSPs that admitted the differing pods.
    pub psps: BTreeSet<String>,
    /// Whether at least one difference is explained by a mutating field of the admitting PSP.
    pub relies_on_psp: bool,
    /// Differing fields over all pods (container names kept), with the explaining PSP field.
    pub fields: BTreeMap<String, Option<&'static str>>,
    pub explanation: String,
    pub pods: Vec<MutatedPod>,
}

impl MutatedWorkload {
    /// The workload as an object reference.
    pub fn object(&self) -> ObjectRef {
        ObjectRef {
            path: self.path.clone(),
            ..ObjectRef::new(&self.kind, Some(&self.namespace), &self.name)
        }
    }
}

/// API groups whose kinds the tool knows as pod controllers.
fn known_group(api_version: &str) -> bool {
    let group = api_version.split_once('/').map_or("", |(g, _)| g);
    matches!(group, "" | "apps" | "extensions" | "batch")
}

/// Where a pod came from.
#[derive(Debug)]
pub enum Owner<'a> {
    /// No controller: a bare pod.
    None,
    /// The template to compare with, and the top-level workload.
    Found { template: &'a PodObject, workload: ObjectRef, note: Option<String> },
    /// A controller of a kind without a known template.
    UnknownKind(&'a OwnerReference),
    /// A controller not in the input.
    Missing(&'a OwnerReference),
}

/// Index of workloads by (namespace, kind, name), and of custom resources' templates.
pub struct OwnerIndex<'a> {
    by_key: BTreeMap<(&'a str, &'a str, &'a str), &'a PodObject>,
    custom: BTreeMap<(&'a str, &'a str, &'a str), Vec<&'a PodObject>>,
}

impl<'a> OwnerIndex<'a> {
    /// Indexes every workload (not Pods, not PodTemplates) of the inventory.
    pub fn new(inv: &'a Inventory) -> OwnerIndex<'a> {
        let mut by_key = BTreeMap::new();
        let mut custom: BTreeMap<_, Vec<&PodObject>> = BTreeMap::new();
        for o in inv.pod_objects.iter() {
            match o.kind {
                PodKind::Pod | PodKind::PodTemplate => {}
                PodKind::Custom => {
                    custom.entry((o.namespace(), o.kind_name(), o.name())).or_default().push(o)
                }
                k => {
                    by_key.entry((o.namespace(), k.as_str(), o.name())).or_insert(o);
                }
            }
        }
        OwnerIndex { by_key, custom }
    }

    /// The template of a custom resource a pod was made from: among the resource's templates,
    /// the one whose containers the pod has (most of them, then fewest others).
    fn custom_template(&self, pod: &PodObject, r: &OwnerReference) -> Option<&'a PodObject> {
        let templates = self.custom.get(&(pod.namespace(), r.kind.as_str(), r.name.as_str()))?;
        let names: BTreeSet<&str> = pod.spec.all_containers().map(|c| c.name.as_str()).collect();
        templates
            .iter()
            .filter(|t| match (&t.meta.uid, r.uid.is_empty()) {
                (Some(uid), false) => *uid == r.uid,
                _ => true,
            })
            .max_by_key(|t| {
                let own: BTreeSet<&str> =
                    t.spec.all_containers().map(|c| c.name.as_str()).collect();
                let shared = own.intersection(&names).count();
                (shared, std::cmp::Reverse(own.len() - shared))
            })
            .copied()
            .filter(|t| t.spec.all_containers().any(|c| names.contains(c.name.as_str())))
    }

    fn get(&self, ns: &str, r: &OwnerReference) -> Option<&'a PodObject> {
        let o = self.by_key.get(&(ns, r.kind.as_str(), r.name.as_str()))?;
        // A different uid means the owner was deleted and recreated under the same name.
        match (&o.meta.uid, r.uid.is_empty()) {
            (Some(uid), false) if *uid != r.uid => None,
            _ => Some(o),
        }
    }

    fn by_name(&self, ns: &str, kind: PodKind, name: &str) -> Option<&'a PodObject> {
        self.by_key.get(&(ns, kind.as_str(), name)).copied()
    }

    /// Resolves a pod's controller chain.
    pub fn resolve(&self, pod: &'a PodObject) -> Owner<'a> {
        let Some(ctrl) = pod.meta.controller() else { return Owner::None };
        let ns = pod.namespace();
        if pod.kind == PodKind::Pod
            && let Some(t) = self.custom_template(pod, ctrl)
        {
            return Owner::Found { template: t, workload: t.object_ref(), note: None };
        }
        let kind = PodKind::from_kind(&ctrl.kind).filter(|k| {
            !matches!(k, PodKind::Pod | PodKind::PodTemplate) && known_group(&ctrl.api_version)
        });
        let Some(kind) = kind else { return Owner::UnknownKind(ctrl) };
        let Some(owner) = self.get(ns, ctrl) else {
            // The intermediate object may simply not have been exported: fall back to the
            // workload its name derives from (`<deployment>-<hash>`, `<cronjob>-<time>`).
            let (parent_kind, parent) = match kind {
                PodKind::ReplicaSet => {
                    (PodKind::Deployment, ctrl.name.rsplit_once('-').map(|(p, _)| p))
                }
                PodKind::Job => (PodKind::CronJob, ctrl.name.rsplit_once('-').map(|(p, _)| p)),
                _ => return Owner::Missing(ctrl),
            };
            return match parent.and_then(|p| self.by_name(ns, parent_kind, p)) {
                Some(w) => Owner::Found {
                    template: w,
                    workload: ObjectRef::new(w.kind.as_str(), Some(ns), w.name()),
                    note: Some(format!(
                        "{} {} is not in the input; compared with the template of {} {} (it may be newer)",
                        ctrl.kind,
                        ctrl.name,
                        w.kind,
                        w.name()
                    )),
                },
                None => Owner::Missing(ctrl),
            };
        };
        let top = owner
            .meta
            .controller()
            .filter(|c| known_group(&c.api_version))
            .and_then(|c| self.get(ns, c))
            .unwrap_or(owner);
        Owner::Found {
            template: owner,
            workload: ObjectRef::new(top.kind.as_str(), Some(ns), top.name()),
            note: None,
        }
    }
}

fn json<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

fn seccomp_text(p: &SeccompProfile) -> String {
    match p.type_.as_str() {
        "RuntimeDefault" => "runtime/default".into(),
        "Unconfined" => "unconfined".into(),
        "Localhost" => format!("localhost/{}", p.localhost_profile.as_deref().unwrap_or_default()),
        other => other.to_owned(),
    }
}

fn apparmor_text(p: &AppArmorProfile) -> String {
    match p.type_.as_str() {
        "RuntimeDefault" => "runtime/default".into(),
        "Unconfined" => "unconfined".into(),
        "Localhost" => format!("localhost/{}", p.localhost_profile.as_deref().unwrap_or_default()),
        other => other.to_owned(),
    }
}

fn normalise_seccomp_annotation(v: &str) -> String {
    if v == "docker/default" { "runtime/default".into() } else { v.to_owned() }
}

fn pod_seccomp(o: &PodObject) -> Value {
    let field = o.spec.security_context.as_ref().and_then(|s| s.seccomp_profile.as_ref());
    match field {
        Some(p) => Value::String(seccomp_text(p)),
        None => o
            .pod_annotations()
            .get(SECCOMP_POD_ANNOTATION)
            .map_or(Value::Null, |v| Value::String(normalise_seccomp_annotation(v))),
    }
}

fn container_seccomp(o: &PodObject, c: &Container) -> Value {
    let field = c.security_context.as_ref().and_then(|s| s.seccomp_profile.as_ref());
    match field {
        Some(p) => Value::String(seccomp_text(p)),
        None => o
            .pod_annotations()
            .get(&format!("{SECCOMP_CONTAINER_ANNOTATION_PREFIX}{}", c.name))
            .map_or(Value::Null, |v| Value::String(normalise_seccomp_annotation(v))),
    }
}

fn container_apparmor(o: &PodObject, c: &Container) -> Value {
    if let Some(v) = o.pod_annotations().get(&format!("{APPARMOR_ANNOTATION_PREFIX}{}", c.name)) {
        return Value::String(v.clone());
    }
    let field =
        c.security_context.as_ref().and_then(|s| s.app_armor_profile.as_ref()).or_else(|| {
            o.spec.security_context.as_ref().and_then(|s| s.app_armor_profile.as_ref())
        });
    field.map_or(Value::Null, |p| Value::String(apparmor_text(p)))
}

fn sorted(list: Option<&Vec<String>>) -> Value {
    match list {
        Some(l) => {
            let mut l = l.clone();
            l.sort();
            json(&l)
        }
        None => Value::Null,
    }
}

/// Compares a pod with its template on the fields of migration step 2.c.2. Each difference
/// carries in `psp_field` the PSP field that could have made it (none for injected
/// containers); [`attribute`] then keeps it only where the admitting PSP mutates that field.
pub fn compare(pod: &PodObject, template: &PodObject) -> Vec<Difference> {
    let mut out = Vec::new();
    let mut push = |field: String, t: Value, p: Value, psp_field: &'static str| {
        if t != p {
            let psp_field = (!psp_field.is_empty()).then_some(psp_field);
            out.push(Difference { field, template: t, pod: p, psp_field });
        }
    };
    let psc = pod.spec.security_context.clone().unwrap_or_default();
    let tsc = template.spec.security_context.clone().unwrap_or_default();
    push(
        "spec.runtimeClassName".into(),
        json(&template.spec.runtime_class_name),
        json(&pod.spec.runtime_class_name),
        "spec.runtimeClass.defaultRuntimeClassName",
    );
    push(
        "spec.securityContext.fsGroup".into(),
        json(&tsc.fs_group),
        json(&psc.fs_group),
        "spec.fsGroup",
    );
    push(
        "spec.securityContext.seccompProfile".into(),
        pod_seccomp(template),
        pod_seccomp(pod),
        "metadata.annotations[seccomp.security.alpha.kubernetes.io/defaultProfileName]",
    );
    push(
        "spec.securityContext.seLinuxOptions".into(),
        json(&tsc.se_linux_options),
        json(&psc.se_linux_options),
        "spec.seLinux",
    );
    push(
        "spec.securityContext.supplementalGroups".into(),
        json(&tsc.supplemental_groups),
        json(&psc.supplemental_groups),
        "spec.supplementalGroups",
    );
    let lists: [(&str, &Vec<Container>, &Vec<Container>); 2] = [
        ("initContainers", &pod.spec.init_containers, &template.spec.init_containers),
        ("containers", &pod.spec.containers, &template.spec.containers),
    ];
    for (list, pcs, tcs) in lists {
        for pc in pcs {
            let base = format!("spec.{list}[{}]", pc.name);
            let Some(tc) = tcs.iter().find(|t| t.name == pc.name) else {
                // An injected container (e.g. a service-mesh sidecar): no PSP field adds one.
                push(base, Value::Null, Value::String("added".into()), "");
                continue;
            };
            push(
                format!("metadata.annotations[{APPARMOR_ANNOTATION_PREFIX}{}]", pc.name),
                container_apparmor(template, tc),
                container_apparmor(pod, pc),
                "metadata.annotations[apparmor.security.beta.kubernetes.io/defaultProfileName]",
            );
            let p = pc.security_context.clone().unwrap_or_default();
            let t = tc.security_context.clone().unwrap_or_default();
            let sc = format!("{base}.securityContext");
            push(
                format!("{sc}.allowPrivilegeEscalation"),
                json(&t.allow_privilege_escalation),
                json(&p.allow_privilege_escalation),
                "spec.allowPrivilegeEscalation",
            );
            push(
                format!("{sc}.capabilities.add"),
                sorted(t.capabilities.as_ref().and_then(|c| c.add.as_ref())),
                sorted(p.capabilities.as_ref().and_then(|c| c.add.as_ref())),
                "spec.defaultAddCapabilities",
            );
            push(
                format!("{sc}.capabilities.drop"),
                sorted(t.capabilities.as_ref().and_then(|c| c.drop.as_ref())),
                sorted(p.capabilities.as_ref().and_then(|c| c.drop.as_ref())),
                "spec.requiredDropCapabilities",
            );
            push(
                format!("{sc}.readOnlyRootFilesystem"),
                json(&t.read_only_root_filesystem),
                json(&p.read_only_root_filesystem),
                "spec.readOnlyRootFilesystem",
            );
            push(
                format!("{sc}.runAsGroup"),
                json(&t.run_as_group),
                json(&p.run_as_group),
                "spec.runAsGroup",
            );
            push(
                format!("{sc}.runAsNonRoot"),
                json(&t.run_as_non_root),
                json(&p.run_as_non_root),
                "spec.runAsUser",
            );
            push(
                format!("{sc}.runAsUser"),
                json(&t.run_as_user),
                json(&p.run_as_user),
                "spec.runAsUser",
            );
            push(
                format!("{sc}.seccompProfile"),
                container_seccomp(template, tc),
                container_seccomp(pod, pc),
                "metadata.annotations[seccomp.security.alpha.kubernetes.io/defaultProfileName]",
            );
            push(
                format!("{sc}.seLinuxOptions"),
                json(&t.se_linux_options),
                json(&p.se_linux_options),
                "spec.seLinux",
            );
        }
    }
    out
}

/// Keeps `psp_field` only where the admitting PSP's mapping lists that field as mutating
/// (`allowPrivilegeEscalation` is also explained by `defaultAllowPrivilegeEscalation`).
pub fn attribute(diffs: &mut [Difference], psp: Option<&PolicyMapping>) {
    for d in diffs {
        let Some(field) = d.psp_field else { continue };
        let mutates = |f: &str| psp.is_some_and(|m| m.mutating_fields.iter().any(|n| n.field == f));
        d.psp_field = if mutates(field) {
            Some(field)
        } else if field == "spec.allowPrivilegeEscalation"
            && mutates("spec.defaultAllowPrivilegeEscalation")
        {
            Some("spec.defaultAllowPrivilegeEscalation")
        } else {
            None
        };
    }
}

/// Compares every controlled pod with its template and groups the differing pods per workload.
/// Returns the workloads (sorted by namespace, kind, name) and findings (owners that are missing
/// or of unknown kinds, and one per differing workload).
pub fn mutated_workloads(
    inv: &Inventory,
    mappings: &BTreeMap<String, PolicyMapping>,
) -> (Vec<MutatedWorkload>, Vec<Finding>) {
    let index = OwnerIndex::new(inv);
    let mut findings = Vec::new();
    let mut groups: BTreeMap<(String, String, String, Option<String>), MutatedWorkload> =
        BTreeMap::new();
    let mut missing_reported: BTreeSet<(String, String, String)> = BTreeSet::new();
    for pod in inv.pod_objects.iter().filter(|p| p.kind == PodKind::Pod) {
        let ns = pod.namespace();
        let pod_ref = ObjectRef::new("Pod", Some(ns), pod.name());
        let (template, workload) = match index.resolve(pod) {
            Owner::None => continue,
            Owner::UnknownKind(o) => {
                findings.push(
                    Finding::new(
                        Code::PodOwnerUnknownKind,
                        pod_ref,
                        format!(
                            "controlled by {} {} ({}); not compared",
                            o.kind, o.name, o.api_version
                        ),
                    )
                    .with_source(&pod.source),
                );
                continue;
            }
            Owner::Missing(o) => {
                if missing_reported.insert((ns.to_owned(), o.kind.clone(), o.name.clone())) {
                    findings.push(
                        Finding::new(
                            Code::PodOwnerMissing,
                            ObjectRef::new(&o.kind, Some(ns), &o.name),
                            format!("controls pod {} but is not in the input; its pods are not compared", pod.name()),
                        )
                        .with_source(&pod.source),
                    );
                }
                continue;
            }
            Owner::Found { template, workload, note } => {
                if let Some(note) = note
                    && let Some(ctrl) = pod.meta.controller()
                    && missing_reported.insert((
                        ns.to_owned(),
                        ctrl.kind.clone(),
                        ctrl.name.clone(),
                    ))
                {
                    findings.push(
                        Finding::new(
                            Code::PodOwnerMissing,
                            ObjectRef::new(&ctrl.kind, Some(ns), &ctrl.name),
                            note,
                        )
                        .with_source(&pod.source),
                    );
                }
                (template, workload)
            }
        };
        let psp = pod.admitting_psp();
        let mut diffs = compare(pod, template);
        if diffs.is_empty() {
            continue;
        }
        attribute(&mut diffs, psp.and_then(|p| mappings.get(p)));
        let key =
            (ns.to_owned(), workload.kind.clone(), workload.name.clone(), workload.path.clone());
        let group = groups.entry(key).or_insert_with(|| MutatedWorkload {
            kind: workload.kind.clone(),
            namespace: ns.to_owned(),
            name: workload.name.clone(),
            path: workload.path.clone(),
            psps: BTreeSet::new(),
            relies_on_psp: false,
            fields: BTreeMap::new(),
            explanation: String::new(),
            pods: Vec::new(),
        });
        if let Some(p) = psp {
            group.psps.insert(p.to_owned());
        }
        for d in &diffs {
            group.relies_on_psp |= d.psp_field.is_some();
            let slot = group.fields.entry(d.field.clone()).or_insert(None);
            if slot.is_none() {
                *slot = d.psp_field;
            }
        }
        group.pods.push(MutatedPod {
            name: pod.name().to_owned(),
            psp: psp.map(str::to_owned),
            compared_with: ObjectRef::new(template.kind.as_str(), Some(ns), template.name()),
            differences: diffs,
            source: pod.source.clone(),
        });
    }
    let mut out: Vec<MutatedWorkload> = groups.into_values().collect();
    for w in &mut out {
        w.pods.sort_by(|a, b| a.name.cmp(&b.name));
        w.explanation = explain(w, mappings);
        let code = if w.relies_on_psp {
            Code::WorkloadReliesOnPspMutation
        } else {
            Code::WorkloadMutatedOutsidePsp
        };
        let n = w.pods.len();
        findings.push(Finding::new(
            code,
            w.object(),
            format!(
                "{n} pod{} differ{} from the template: {}",
                if n == 1 { "" } else { "s" },
                if n == 1 { "s" } else { "" },
                w.explanation
            ),
        ));
    }
    (out, findings)
}

fn explain(w: &MutatedWorkload, mappings: &BTreeMap<String, PolicyMapping>) -> String {
    let mut parts = Vec::new();
    let explained: BTreeSet<&str> = w.fields.values().flatten().copied().collect();
    if !explained.is_empty() {
        let psps: Vec<&str> = w.psps.iter().map(String::as_str).collect();
        parts.push(format!(
            "PSP {} set {} (put these values in the template before PSP goes)",
            psps.join(", "),
            explained.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    let unexplained: Vec<&str> =
        w.fields.iter().filter(|(_, p)| p.is_none()).map(|(f, _)| f.as_str()).collect();
    if !unexplained.is_empty() {
        let non_mutating: Vec<&str> = w
            .psps
            .iter()
            .filter(|p| mappings.get(*p).is_some_and(|m| !m.is_mutating()))
            .map(String::as_str)
            .collect();
        let why = if w.psps.is_empty() {
            "no PSP admitted these pods".to_string()
        } else if !non_mutating.is_empty() {
            format!("PSP {} has no mutating field", non_mutating.join(", "))
        } else {
            "the admitting PSP does not mutate these fields".to_string()
        };
        parts.push(format!(
            "{} differ{} but {why}: another mutating webhook, or a template change since the pods were created",
            unexplained.join(", "),
            if unexplained.len() == 1 { "s" } else { "" }
        ));
    }
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::inventory::ObjectState;
    use crate::model::pod::{ObjectMeta, PSP_ANNOTATION, PodSpec};

    fn owner(kind: &str, api: &str, name: &str) -> OwnerReference {
        OwnerReference {
            api_version: api.into(),
            kind: kind.into(),
            name: name.into(),
            uid: String::new(),
            controller: Some(true),
        }
    }

    fn obj(kind: PodKind, name: &str, owner: Option<OwnerReference>, spec: &str) -> PodObject {
        PodObject {
            kind,
            api_version: String::new(),
            meta: ObjectMeta {
                name: name.into(),
                namespace: Some("ns".into()),
                owner_references: owner.into_iter().collect(),
                ..Default::default()
            },
            template_annotations: BTreeMap::new(),
            spec: serde_json::from_str::<PodSpec>(spec).unwrap(),
            state: ObjectState::default(),
            source: Provenance::file("t.yaml", 0, None),
            custom: None,
        }
    }

    const PLAIN: &str = r#"{"containers":[{"name":"app"}]}"#;
    const MUTATED: &str = r#"{"containers":[{"name":"app","securityContext":{"runAsNonRoot":true,"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}}}]}"#;

    #[test]
    fn owner_chains_and_groups() {
        let mut inv = Inventory::default();
        inv.pod_objects.push(obj(PodKind::Deployment, "web", None, PLAIN));
        inv.pod_objects.push(obj(
            PodKind::ReplicaSet,
            "web-abc",
            Some(owner("Deployment", "apps/v1", "web")),
            PLAIN,
        ));
        let mut p1 = obj(
            PodKind::Pod,
            "web-abc-1",
            Some(owner("ReplicaSet", "apps/v1", "web-abc")),
            MUTATED,
        );
        p1.meta.annotations.insert(PSP_ANNOTATION.into(), "restricted".into());
        let p2 =
            obj(PodKind::Pod, "web-abc-2", Some(owner("ReplicaSet", "apps/v1", "web-abc")), PLAIN);
        inv.pod_objects.push(p1);
        inv.pod_objects.push(p2);
        inv.pod_objects.push(obj(
            PodKind::Pod,
            "static",
            Some(owner("Node", "v1", "node-1")),
            PLAIN,
        ));
        inv.pod_objects.push(obj(
            PodKind::Pod,
            "argo",
            Some(owner("Rollout", "argoproj.io/v1alpha1", "r")),
            PLAIN,
        ));
        inv.pod_objects.push(obj(
            PodKind::Pod,
            "orphan",
            Some(owner("StatefulSet", "apps/v1", "gone")),
            PLAIN,
        ));
        // The Job is missing but its CronJob is there.
        inv.pod_objects.push(obj(PodKind::CronJob, "nightly", None, PLAIN));
        inv.pod_objects.push(obj(
            PodKind::Pod,
            "nightly-2790-x",
            Some(owner("Job", "batch/v1", "nightly-2790")),
            MUTATED,
        ));

        let mut p: crate::model::psp::PodSecurityPolicy = serde_json::from_str(
            r#"{"metadata":{"name":"restricted"},"spec":{"allowPrivilegeEscalation":false,"requiredDropCapabilities":["ALL"],"runAsUser":{"rule":"MustRunAsNonRoot"}}}"#,
        )
        .unwrap();
        p.api_version = "policy/v1beta1".into();
        let mappings: BTreeMap<String, PolicyMapping> =
            [("restricted".to_string(), crate::mapping::map_psp(&p))].into();
        let (workloads, findings) = mutated_workloads(&inv, &mappings);
        let names: Vec<String> = workloads.iter().map(|w| w.object().to_string()).collect();
        assert_eq!(names, ["CronJob ns/nightly", "Deployment ns/web"]);
        let web = &workloads[1];
        assert!(web.relies_on_psp);
        assert_eq!(web.pods.len(), 1);
        assert_eq!(web.pods[0].compared_with.to_string(), "ReplicaSet ns/web-abc");
        assert_eq!(
            web.fields.keys().map(String::as_str).collect::<Vec<_>>(),
            [
                "spec.containers[app].securityContext.allowPrivilegeEscalation",
                "spec.containers[app].securityContext.capabilities.drop",
                "spec.containers[app].securityContext.runAsNonRoot",
            ]
        );
        let nightly = &workloads[0];
        assert!(!nightly.relies_on_psp, "no PSP annotation: not PSP");
        let mut codes: Vec<(Code, String)> =
            findings.iter().map(|f| (f.code, f.object.to_string())).collect();
        codes.sort();
        assert_eq!(
            codes,
            [
                (Code::PodOwnerMissing, "Job ns/nightly-2790".into()),
                (Code::PodOwnerMissing, "StatefulSet ns/gone".into()),
                (Code::PodOwnerUnknownKind, "Pod ns/argo".into()),
                (Code::PodOwnerUnknownKind, "Pod ns/static".into()),
                (Code::WorkloadReliesOnPspMutation, "Deployment ns/web".into()),
                (Code::WorkloadMutatedOutsidePsp, "CronJob ns/nightly".into()),
            ]
        );
    }

    #[test]
    fn effective_profiles_are_compared() {
        // The API server copies the seccomp field into the annotation: not a difference.
        let t = obj(
            PodKind::ReplicaSet,
            "rs",
            None,
            r#"{"securityContext":{"seccompProfile":{"type":"RuntimeDefault"}},"containers":[{"name":"a"}]}"#,
        );
        let mut p = obj(
            PodKind::Pod,
            "p",
            None,
            r#"{"securityContext":{"seccompProfile":{"type":"RuntimeDefault"}},"containers":[{"name":"a"}]}"#,
        );
        p.meta.annotations.insert(SECCOMP_POD_ANNOTATION.into(), "runtime/default".into());
        assert!(compare(&p, &t).is_empty());
        // PSP's default profile annotation on a pod whose template has none is a difference.
        let t = obj(PodKind::ReplicaSet, "rs", None, PLAIN);
        let mut p = obj(PodKind::Pod, "p", None, PLAIN);
        p.meta.annotations.insert(SECCOMP_POD_ANNOTATION.into(), "docker/default".into());
        p.meta
            .annotations
            .insert(format!("{APPARMOR_ANNOTATION_PREFIX}app"), "runtime/default".into());
        let d = compare(&p, &t);
        let fields: Vec<&str> = d.iter().map(|d| d.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "spec.securityContext.seccompProfile",
                "metadata.annotations[container.apparmor.security.beta.kubernetes.io/app]",
            ]
        );
        assert_eq!(d[0].pod, Value::String("runtime/default".into()));
        // An injected sidecar.
        let p = obj(
            PodKind::Pod,
            "p",
            None,
            r#"{"containers":[{"name":"app"},{"name":"istio-proxy"}]}"#,
        );
        assert_eq!(compare(&p, &t)[0].field, "spec.containers[istio-proxy]");
    }
}
