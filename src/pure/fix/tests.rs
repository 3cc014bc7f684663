use super::*;

#[test]
fn strategic_patch_matches_containers_by_name_and_keeps_only_changes() {
    let old = json!({"spec": {"containers": [
        {"name": "a", "image": "x"},
        {"name": "b", "securityContext": {"runAsUser": 5}},
    ]}});
    let new = json!({"spec": {
        "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [
            {"name": "a", "image": "x"},
            {"name": "b", "securityContext": {"runAsUser": 5, "capabilities": {"drop": ["ALL"]}}},
        ],
    }});
    assert_eq!(
        strategic_patch(&old, &new),
        json!({"spec": {
            "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{"name": "b", "securityContext": {"capabilities": {"drop": ["ALL"]}}}],
        }})
    );
    assert_eq!(
        leaf_changes(&old, &new),
        vec![
            ("spec.containers[b].securityContext.capabilities.drop".to_owned(), json!(["ALL"])),
            ("spec.securityContext.seccompProfile.type".to_owned(), json!("RuntimeDefault")),
        ]
    );
}

#[cfg(test)]
fn inventory(yaml: &str) -> Inventory {
    let mut inv = Inventory::default();
    let mut errors = Vec::new();
    let opts = crate::source::offline::OfflineOptions::default();
    crate::source::offline::parse_text(yaml, "t.yaml", false, &opts, &mut inv, &mut errors);
    assert!(errors.is_empty(), "{errors:?}");
    inv.sort();
    inv
}

/// A PSP every service account may use, with `spec` and seccomp annotations.
fn psp_cluster(psp_spec: &str, seccomp: bool, workloads: &str) -> Inventory {
    let annotations = if seccomp {
        "  annotations:\n    seccomp.security.alpha.kubernetes.io/allowedProfileNames: 'runtime/default'\n    seccomp.security.alpha.kubernetes.io/defaultProfileName: 'runtime/default'\n"
    } else {
        ""
    };
    inventory(&format!(
        "apiVersion: policy/v1beta1
kind: PodSecurityPolicy
metadata:
  name: team
{annotations}spec:
  volumes: ['*']
  seLinux: {{rule: RunAsAny}}
  supplementalGroups: {{rule: RunAsAny}}
  fsGroup: {{rule: RunAsAny}}
{psp_spec}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {{name: use-team}}
rules:
- apiGroups: [policy]
  resources: [podsecuritypolicies]
  resourceNames: [team]
  verbs: [use]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {{name: use-team}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: use-team}}
subjects:
- {{apiGroup: rbac.authorization.k8s.io, kind: Group, name: system:serviceaccounts}}
---
{workloads}"
    ))
}

fn deployment(name: &str, container: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: team}}
spec:
  template:
    spec:
      containers:
      - {container}
"
    )
}

fn restricted(_: &str) -> Option<Target> {
    Some(Target { level: Level::Restricted, version: Version::Latest })
}

fn kinds(f: &Fix) -> Vec<(String, FixKind)> {
    f.fields.iter().map(|x| (x.field.clone(), x.kind)).collect()
}

#[test]
fn replays_what_psp_did_then_hardens_and_proves_it() {
    let inv = psp_cluster(
        "  runAsUser: {rule: MustRunAs, ranges: [{min: 1000, max: 2000}]}\n  allowPrivilegeEscalation: false\n",
        true,
        &deployment("api", "{name: app, image: x}"),
    );
    let grants = crate::discover::rbac::resolve(&inv).grants;
    let r = fixes(&inv, &grants, &restricted);
    assert!(r.needs_decision.is_empty(), "{:?}", r.needs_decision);
    let f = &r.fixes[0];
    assert_eq!(f.admitted_by.as_deref(), Some("team"));
    let c = "spec.containers[app].securityContext";
    let k = kinds(f);
    for (field, kind) in [
        (format!("{c}.runAsUser"), FixKind::Behaviour),
        (format!("{c}.allowPrivilegeEscalation"), FixKind::Behaviour),
        (
            "metadata.annotations[seccomp.security.alpha.kubernetes.io/pod]".to_owned(),
            FixKind::Behaviour,
        ),
        ("spec.securityContext.seccompProfile.type".to_owned(), FixKind::Behaviour),
        (format!("{c}.capabilities.drop"), FixKind::Level),
        (format!("{c}.runAsNonRoot"), FixKind::Level),
    ] {
        assert!(k.contains(&(field.clone(), kind)), "{field} {kind:?} not in {k:?}");
    }
    assert!(f.fields.iter().filter(|x| x.kind == FixKind::Level).all(|x| x.note.is_some()));
    assert!(f.fields.iter().filter(|x| x.kind == FixKind::Behaviour).all(|x| x.note.is_none()));
    // The proof: the patched template passes and the PSP admits it unchanged.
    let view = PodView { annotations: &f.patched.annotations, spec: &f.patched.spec };
    assert!(crate::pss::evaluate(Level::Restricted, Version::Latest, &view).is_empty());
    let psp = &inv.psps[0].obj;
    assert_eq!(admit(psp, &f.patched), Outcome::Admits);
    assert_eq!(f.patch["spec"]["template"]["spec"]["containers"][0]["name"], "app");
    assert_eq!(f.file, "team/deployment-api.yaml");
}

#[test]
fn what_changes_behaviour_is_a_decision_and_the_replay_is_still_written() {
    let inv = psp_cluster(
        "  runAsUser: {rule: MustRunAs, ranges: [{min: 1000, max: 2000}]}\n  defaultAddCapabilities: [IPC_LOCK]\n",
        true,
        &deployment("trainer", "{name: app, image: x}"),
    );
    let grants = crate::discover::rbac::resolve(&inv).grants;
    let r = fixes(&inv, &grants, &restricted);
    let d = &r.needs_decision[0];
    assert_eq!(d.object.name, "trainer");
    assert!(d.reasons.iter().any(|x| x.contains("adds IPC_LOCK")), "{:?}", d.reasons);
    assert!(d.options.iter().any(|o| o.contains("enforce baseline")), "{:?}", d.options);
    let f = &r.fixes[0];
    assert!(f.fields.iter().all(|x| x.kind == FixKind::Behaviour), "{:?}", f.fields);
    assert!(kinds(f).iter().any(|(x, _)| x.ends_with("capabilities.add")), "{:?}", f.fields);
    assert!(f.level.is_none() && f.notes[0].contains("the level needs a decision"));
}

#[test]
fn without_psp_runs_as_non_root_only_where_the_uid_is_known() {
    let inv = inventory(&format!(
        "{}---\n{}",
        deployment("known", "{name: app, image: x, securityContext: {runAsUser: 1000}}"),
        deployment("unknown", "{name: app, image: x}")
    ));
    let r = fixes(&inv, &[], &restricted);
    assert_eq!(r.fixes.len(), 1, "{:?}", r.fixes);
    assert_eq!(r.fixes[0].object.name, "known");
    assert!(r.fixes[0].admitted_by.is_none());
    assert!(kinds(&r.fixes[0]).contains(&(
        "spec.containers[app].securityContext.runAsNonRoot".to_owned(),
        FixKind::Level
    )));
    assert_eq!(r.needs_decision[0].object.name, "unknown");
    assert!(r.needs_decision[0].reasons[0].contains("its image's user is unknown"));
    // Without a target, only what PSP did is written: nothing here.
    let none = fixes(&inv, &[], &|_| None);
    assert!(none.fixes.is_empty() && none.needs_decision.is_empty() && none.unchanged == 2);
}

#[test]
fn injected_containers_are_named() {
    let inv = inventory(&format!(
        "{}---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web-abc
  namespace: team
  ownerReferences: [{{apiVersion: apps/v1, kind: Deployment, name: web, uid: u1, controller: true}}]
spec:
  template:
    spec:
      containers: [{{name: app, image: x}}]
---
apiVersion: v1
kind: Pod
metadata:
  name: web-abc-1
  namespace: team
  ownerReferences: [{{apiVersion: apps/v1, kind: ReplicaSet, name: web-abc, uid: u2, controller: true}}]
spec:
  containers: [{{name: app, image: x}}, {{name: istio-proxy, image: y}}]
",
        deployment("web", "{name: app, image: x, securityContext: {runAsUser: 1000}}")
    ));
    let r = fixes(&inv, &[], &restricted);
    assert_eq!(r.fixes.len(), 1, "{r:?}");
    assert_eq!(r.fixes[0].injected, ["istio-proxy"]);
    assert!(r.fixes[0].notes.iter().any(|n| n.contains("belongs to the injector")));
    // The injected sidecar sets nothing: the pods the template makes still fail restricted.
    let still = r.fixes[0].notes.iter().find(|n| n.contains("still fail")).unwrap();
    assert!(still.contains("restricted:latest") && still.contains("istio-proxy"), "{still}");
}
