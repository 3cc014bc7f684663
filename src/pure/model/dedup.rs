//! Duplicate objects in the input: the same kind, namespace and name read more than once (in two
//! files, or twice in one). The last one in input order is kept, as `kubectl apply` would leave
//! it, and each dropped copy becomes an `input-duplicate-object` finding naming both sources.
//!
//! Pure: no I/O.

use crate::findings::{Code, Finding, ObjectRef};
use crate::model::inventory::{Inventory, Provenance, Sourced};

/// Where a provenance falls in input order: the file's position among the files read (given by
/// the caller: file names do not sort in input order), then document, then list item.
fn input_rank(source: &Provenance, file_rank: &dyn Fn(&str) -> usize) -> (usize, usize, usize) {
    match source {
        Provenance::File { file, document, item, .. } => {
            (file_rank(file), *document, item.map_or(0, |i| i + 1))
        }
        Provenance::Live { .. } => (0, 0, 0),
    }
}

/// Drops all but the last (in input order) of each run of objects with the same key. `list` must
/// be sorted so that equal keys are adjacent.
fn dedup_runs<T>(
    list: &mut Vec<T>,
    same: impl Fn(&T, &T) -> bool,
    source: impl Fn(&T) -> &Provenance,
    object: impl Fn(&T) -> ObjectRef,
    file_rank: &dyn Fn(&str) -> usize,
    findings: &mut Vec<Finding>,
) {
    let mut keep = vec![true; list.len()];
    let mut start = 0;
    while start < list.len() {
        let mut end = start + 1;
        while end < list.len() && same(&list[start], &list[end]) {
            end += 1;
        }
        if end - start > 1 {
            // The last maximum: later input wins (equal ranks only if one file was read twice).
            let kept = (start..end)
                .max_by_key(|&i| (input_rank(source(&list[i]), file_rank), i))
                .unwrap_or(start);
            for i in (start..end).filter(|&i| i != kept) {
                keep[i] = false;
                let message = format!(
                    "read more than once: {} is kept (the last in input order, as kubectl apply \
                     would leave it) and {} is dropped",
                    source(&list[kept]),
                    source(&list[i])
                );
                findings.push(
                    Finding::new(Code::InputDuplicateObject, object(&list[i]), message)
                        .with_source(source(&list[kept])),
                );
            }
        }
        start = end;
    }
    let mut flags = keep.into_iter();
    list.retain(|_| flags.next().unwrap_or(true));
}

fn sourced<T>(o: &Sourced<T>) -> &Provenance {
    &o.source
}

impl Inventory {
    /// Sorts the inventory, then keeps only the last copy in input order of every object read
    /// more than once (kind, namespace and name), recording an `input-duplicate-object` finding
    /// for each dropped copy. `file_rank` gives a file name's position in input order (files as
    /// given and walked); documents and list items follow their order in the file.
    pub fn dedup_last_wins(&mut self, file_rank: &dyn Fn(&str) -> usize) {
        self.sort();
        let mut found = Vec::new();
        fn key<'a>(ns: &'a Option<String>, name: &'a str) -> (&'a str, &'a str) {
            (ns.as_deref().unwrap_or(""), name)
        }
        let cluster = |kind: &str, name: &str| ObjectRef::new(kind, None, name);
        let namespaced = |kind: &str, ns: &Option<String>, name: &str| {
            ObjectRef::new(kind, Some(ns.as_deref().unwrap_or("")), name)
        };
        dedup_runs(
            &mut self.namespaces,
            |a, b| {
                a.metadata.name == b.metadata.name && a.metadata.namespace == b.metadata.namespace
            },
            sourced,
            |o| cluster("Namespace", &o.metadata.name),
            file_rank,
            &mut found,
        );
        dedup_runs(
            &mut self.service_accounts,
            |a, b| key(&a.namespace, &a.name) == key(&b.namespace, &b.name),
            sourced,
            |o| namespaced("ServiceAccount", &o.namespace, &o.name),
            file_rank,
            &mut found,
        );
        dedup_runs(
            &mut self.psps,
            |a, b| {
                a.metadata.name == b.metadata.name && a.metadata.namespace == b.metadata.namespace
            },
            sourced,
            |o| cluster("PodSecurityPolicy", &o.metadata.name),
            file_rank,
            &mut found,
        );
        let k8s_name = |m: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta| {
            m.name.clone().unwrap_or_default()
        };
        let k8s_same =
            |a: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
             b: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta| {
                key(&a.namespace, a.name.as_deref().unwrap_or(""))
                    == key(&b.namespace, b.name.as_deref().unwrap_or(""))
            };
        dedup_runs(
            &mut self.roles,
            |a, b| k8s_same(&a.metadata, &b.metadata),
            sourced,
            |o| namespaced("Role", &o.metadata.namespace, &k8s_name(&o.metadata)),
            file_rank,
            &mut found,
        );
        dedup_runs(
            &mut self.cluster_roles,
            |a, b| k8s_same(&a.metadata, &b.metadata),
            sourced,
            |o| cluster("ClusterRole", &k8s_name(&o.metadata)),
            file_rank,
            &mut found,
        );
        dedup_runs(
            &mut self.role_bindings,
            |a, b| k8s_same(&a.metadata, &b.metadata),
            sourced,
            |o| namespaced("RoleBinding", &o.metadata.namespace, &k8s_name(&o.metadata)),
            file_rank,
            &mut found,
        );
        dedup_runs(
            &mut self.cluster_role_bindings,
            |a, b| k8s_same(&a.metadata, &b.metadata),
            sourced,
            |o| cluster("ClusterRoleBinding", &k8s_name(&o.metadata)),
            file_rank,
            &mut found,
        );
        dedup_runs(
            &mut self.pod_objects,
            |a, b| {
                (a.namespace(), a.kind, a.kind_name(), a.name(), a.path())
                    == (b.namespace(), b.kind, b.kind_name(), b.name(), b.path())
            },
            |o| &o.source,
            crate::model::inventory::PodObject::object_ref,
            file_rank,
            &mut found,
        );
        crate::findings::sort(&mut found);
        self.findings.extend(found);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::inventory::{Namespace, PodKind, PodObject};
    use crate::model::pod::ObjectMeta;

    fn file(name: &str, document: usize, item: Option<usize>) -> Provenance {
        Provenance::file(name, document, item)
    }

    fn pod(name: &str, replicas: i32, source: Provenance) -> PodObject {
        PodObject {
            kind: PodKind::Deployment,
            api_version: "apps/v1".into(),
            meta: ObjectMeta {
                name: name.into(),
                namespace: Some("shop".into()),
                ..ObjectMeta::default()
            },
            template_annotations: Default::default(),
            spec: Default::default(),
            state: crate::model::inventory::ObjectState {
                replicas: Some(replicas),
                ..Default::default()
            },
            source,
            custom: None,
        }
    }

    /// `b.yaml` was read before `a.yaml`: a.yaml's copy is the last one although it sorts first;
    /// inside one file the later document and the later list item win.
    #[test]
    fn last_in_input_order_wins_and_each_drop_is_a_finding() {
        let mut inv = Inventory {
            pod_objects: vec![
                pod("api", 1, file("b.yaml", 0, None)),
                pod("api", 2, file("a.yaml", 0, None)),
                pod("web", 3, file("b.yaml", 1, Some(4))),
                pod("web", 4, file("b.yaml", 1, Some(9))),
                pod("web", 5, file("b.yaml", 0, None)),
                pod("solo", 6, file("a.yaml", 3, None)),
            ],
            namespaces: vec![
                Sourced {
                    obj: Namespace {
                        metadata: ObjectMeta { name: "shop".into(), ..ObjectMeta::default() },
                    },
                    source: file("a.yaml", 1, None),
                },
                Sourced {
                    obj: Namespace {
                        metadata: ObjectMeta { name: "shop".into(), ..ObjectMeta::default() },
                    },
                    source: file("b.yaml", 2, None),
                },
            ],
            ..Inventory::default()
        };
        let order = |f: &str| if f == "b.yaml" { 0 } else { 1 };
        inv.dedup_last_wins(&order);
        let kept: Vec<(&str, Option<i32>)> =
            inv.pod_objects.iter().map(|p| (p.name(), p.state.replicas)).collect();
        assert_eq!(kept, [("api", Some(2)), ("solo", Some(6)), ("web", Some(4))]);
        assert_eq!(inv.namespaces.len(), 1);
        assert_eq!(inv.namespaces[0].source, file("a.yaml", 1, None));
        let got: Vec<(String, String)> =
            inv.findings.iter().map(|f| (f.object.to_string(), f.message.clone())).collect();
        let msg = |kept: &str, dropped: &str| {
            format!(
                "read more than once: {kept} is kept (the last in input order, as kubectl apply \
                 would leave it) and {dropped} is dropped"
            )
        };
        assert_eq!(
            got,
            [
                ("Deployment shop/api".into(), msg("a.yaml (document 0)", "b.yaml (document 0)")),
                (
                    "Deployment shop/web".into(),
                    msg("b.yaml (document 1, item 9)", "b.yaml (document 0)")
                ),
                (
                    "Deployment shop/web".into(),
                    msg("b.yaml (document 1, item 9)", "b.yaml (document 1, item 4)")
                ),
                ("Namespace shop".into(), msg("a.yaml (document 1)", "b.yaml (document 2)")),
            ]
        );
        assert!(inv.findings.iter().all(|f| f.code == Code::InputDuplicateObject));
        assert_eq!(inv.findings[0].source, Some(file("a.yaml", 0, None)));
    }

    /// Positions are not part of input order: which copy wins depends on document and item
    /// alone, and the finding names both copies with their lines.
    #[test]
    fn positions_do_not_change_which_copy_wins() {
        let at = |item: usize, line: u64| match file("a.yaml", 0, Some(item)) {
            Provenance::File { file, document, item, .. } => {
                Provenance::File { file, document, item, line: Some(line), column: Some(3) }
            }
            live => live,
        };
        let mut inv = Inventory {
            pod_objects: vec![pod("api", 1, at(1, 9)), pod("api", 2, at(0, 20))],
            ..Inventory::default()
        };
        inv.dedup_last_wins(&|_| 0);
        assert_eq!(inv.pod_objects.len(), 1);
        assert_eq!(inv.pod_objects[0].state.replicas, Some(1), "item 1 is later input");
        assert!(
            inv.findings[0].message.contains(
                "a.yaml:9:3 (document 0, item 1) is kept (the last in input order, as kubectl \
                 apply would leave it) and a.yaml:20:3 (document 0, item 0) is dropped"
            ),
            "{}",
            inv.findings[0].message
        );
    }

    #[test]
    fn same_name_in_other_kinds_or_namespaces_is_no_duplicate() {
        let mut other = pod("api", 1, file("a.yaml", 1, None));
        other.kind = PodKind::StatefulSet;
        let mut elsewhere = pod("api", 1, file("a.yaml", 2, None));
        elsewhere.meta.namespace = Some("ops".into());
        let mut inv = Inventory {
            pod_objects: vec![pod("api", 1, file("a.yaml", 0, None)), other, elsewhere],
            ..Inventory::default()
        };
        inv.dedup_last_wins(&|_| 0);
        assert_eq!(inv.pod_objects.len(), 3);
        assert!(inv.findings.is_empty());
    }
}
