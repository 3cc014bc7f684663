//! Property tests: the residual policy, evaluated by the CEL engine, admits exactly what the
//! simulator's validation as written admits, for probe pods that walk each PSP field across
//! its boundaries, on every PSP of `testdata/psp/` and of the testdata clusters, and for
//! requesters and service accounts that may and may not use each PSP.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::discover::rbac::Grant;
use crate::discover::subjects::Principal;
use crate::findings::ObjectRef;
use crate::model::psp::PodSecurityPolicy;
use crate::policy::engine::{Mutating, Request, Validating};
use crate::policy::mutation::mutation_policies;
use crate::policy::residual::{PolicyOptions, residual_policies};
use crate::simulate::{Requester, SimPod, decide, usable_psps, validate_as_written};

#[cfg(test)]
fn read_psps(path: &str) -> Vec<PodSecurityPolicy> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = Vec::new();
    for doc in serde_saphyr::from_multiple::<Value>(&text).unwrap() {
        let items = if doc["kind"] == "List" || doc["kind"] == "PodSecurityPolicyList" {
            doc["items"].as_array().cloned().unwrap_or_default()
        } else {
            vec![doc]
        };
        for item in items.into_iter().filter(|i| i["kind"] == "PodSecurityPolicy") {
            out.push(serde_json::from_value(item).unwrap());
        }
    }
    out
}

/// Every PSP of `testdata/psp/` and of the testdata clusters.
#[cfg(test)]
fn all_psps() -> Vec<PodSecurityPolicy> {
    let mut out = Vec::new();
    let root = env!("CARGO_MANIFEST_DIR");
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(format!("{root}/testdata/psp"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    for cluster in std::fs::read_dir(format!("{root}/testdata/clusters")).unwrap() {
        for f in std::fs::read_dir(cluster.unwrap().path()).unwrap() {
            files.push(f.unwrap().path());
        }
    }
    files.sort();
    for f in files.iter().filter(|f| f.extension().is_some_and(|e| e == "yaml")) {
        let text = std::fs::read_to_string(f).unwrap();
        if text.contains("PodSecurityPolicy") {
            out.extend(read_psps(f.to_str().unwrap()));
        }
    }
    assert!(out.len() >= 20, "expected the testdata PSPs, found {}", out.len());
    out
}

fn grant(psp: &str, principal: Principal, scope: Option<&str>) -> Grant {
    Grant {
        psp: psp.to_owned(),
        role: ObjectRef::new("ClusterRole", None, "r"),
        binding: ObjectRef::new("ClusterRoleBinding", None, "b"),
        subject: ObjectRef::new("Group", None, "s"),
        scope: scope.map(str::to_owned),
        rule: 0,
        aggregated_from: None,
        all_psps: false,
        principal,
    }
}

/// Probe pods: a base pod and variants that each move one field across a PSP boundary, plus
/// pairwise combinations.
fn probes() -> Vec<Value> {
    let base = json!({
        "metadata": {"name": "probe", "namespace": "team"},
        "spec": {"containers": [{"name": "app", "image": "x"}]},
    });
    let sc = |v: Value| json!({"securityContext": v});
    let mut variants: Vec<(Value, Value)> = vec![(json!({}), json!({}))];
    // Container security context fields.
    for c in [
        json!({"runAsUser": 0}),
        json!({"runAsUser": 1000}),
        json!({"runAsUser": 65534}),
        json!({"runAsNonRoot": true}),
        json!({"runAsNonRoot": false}),
        json!({"runAsNonRoot": true, "runAsUser": 0}),
        json!({"runAsNonRoot": true, "runAsUser": 1000}),
        json!({"runAsGroup": 0}),
        json!({"runAsGroup": 1000}),
        json!({"privileged": true}),
        json!({"privileged": false}),
        json!({"allowPrivilegeEscalation": false}),
        json!({"allowPrivilegeEscalation": true}),
        json!({"readOnlyRootFilesystem": true}),
        json!({"readOnlyRootFilesystem": false}),
        json!({"procMount": "Unmasked"}),
        json!({"procMount": "Default"}),
        json!({"capabilities": {"drop": ["ALL"]}}),
        json!({"capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}}),
        json!({"capabilities": {"add": ["NET_RAW"]}}),
        json!({"capabilities": {"add": ["SYS_ADMIN"]}}),
        json!({"capabilities": {"add": ["IPC_LOCK"], "drop": ["ALL"]}}),
        json!({"capabilities": {}}),
        json!({"seccompProfile": {"type": "RuntimeDefault"}}),
        json!({"seccompProfile": {"type": "Unconfined"}}),
        json!({"seccompProfile": {"type": "Localhost", "localhostProfile": "profiles/audit.json"}}),
        json!({"appArmorProfile": {"type": "RuntimeDefault"}}),
        json!({"appArmorProfile": {"type": "Unconfined"}}),
        json!({"seLinuxOptions": {"level": "s0:c123,c456"}}),
        json!({"seLinuxOptions": {"level": "s0:c456,c123"}}),
        json!({"seLinuxOptions": {"type": "spc_t"}}),
        json!({"seLinuxOptions": {"user": "system_u", "role": "system_r", "type": "container_t", "level": "s0"}}),
    ] {
        variants.push((
            json!({"containers": [{"name": "app", "image": "x", "securityContext": c}]}),
            json!({}),
        ));
    }
    // Pod-level fields.
    for p in [
        json!({"hostNetwork": true}),
        json!({"hostPID": true}),
        json!({"hostIPC": true}),
        json!({"runtimeClassName": "gvisor"}),
        json!({"runtimeClassName": "kata"}),
        json!({"serviceAccountName": "trainer"}),
        sc(json!({"runAsUser": 0})),
        sc(json!({"runAsUser": 1000, "runAsNonRoot": true})),
        sc(json!({"runAsNonRoot": true})),
        sc(json!({"fsGroup": 0})),
        sc(json!({"fsGroup": 2000})),
        sc(json!({"supplementalGroups": [1000]})),
        sc(json!({"supplementalGroups": [0, 1000]})),
        sc(json!({"seccompProfile": {"type": "RuntimeDefault"}})),
        sc(json!({"seccompProfile": {"type": "Unconfined"}})),
        sc(json!({"appArmorProfile": {"type": "RuntimeDefault"}})),
        sc(json!({"seLinuxOptions": {"level": "s0:c123,c456"}})),
        sc(json!({"sysctls": [{"name": "net.ipv4.tcp_syncookies", "value": "1"}]})),
        sc(json!({"sysctls": [{"name": "kernel.msgmax", "value": "1"}]})),
        sc(json!({"sysctls": [{"name": "net.core.somaxconn", "value": "1"}]})),
        json!({"containers": [{"name": "app", "image": "x", "ports": [{"containerPort": 80, "hostPort": 80}]}]}),
        json!({"containers": [{"name": "app", "image": "x", "ports": [{"containerPort": 80, "hostPort": 8080}]}]}),
        json!({"initContainers": [{"name": "init", "image": "x", "securityContext": {"privileged": true}}]}),
        json!({"ephemeralContainers": [{"name": "debug", "image": "x", "securityContext": {"runAsUser": 0}}]}),
    ] {
        variants.push((p, json!({})));
    }
    // Volumes.
    for (i, v) in [
        json!({"name": "v", "configMap": {"name": "c"}}),
        json!({"name": "v", "secret": {"secretName": "s"}}),
        json!({"name": "v", "emptyDir": {}}),
        json!({"name": "v", "persistentVolumeClaim": {"claimName": "c"}}),
        json!({"name": "v", "projected": {"sources": []}}),
        json!({"name": "v", "downwardAPI": {}}),
        json!({"name": "v", "ephemeral": {}}),
        json!({"name": "v", "nfs": {"server": "s", "path": "/"}}),
        json!({"name": "v", "hostPath": {"path": "/var/log"}}),
        json!({"name": "v", "hostPath": {"path": "/var/log/pods"}}),
        json!({"name": "v", "hostPath": {"path": "/var/logs"}}),
        json!({"name": "v", "hostPath": {"path": "/etc"}}),
        json!({"name": "v", "hostPath": {"path": "/data/models/"}}),
        json!({"name": "v", "hostPath": {"path": "/dev/nvidia0"}}),
        json!({"name": "v", "flexVolume": {"driver": "example/lvm"}}),
        json!({"name": "v", "csi": {"driver": "inline.storage.example.com"}}),
        json!({"name": "v", "csi": {"driver": "other.example.com"}}),
        json!({"name": "v", "image": {"reference": "x"}}),
    ]
    .into_iter()
    .enumerate()
    {
        // Distinct names, so that combined probes hold valid volumes (one source each).
        let name = format!("v{i}");
        let mut v = v;
        v["name"] = json!(name);
        for ro in [None, Some(true)] {
            let mut mount = json!({"name": name, "mountPath": format!("/m{i}")});
            if let Some(ro) = ro {
                mount["readOnly"] = json!(ro);
            }
            variants.push((
                json!({"volumes": [v.clone()], "containers": [{"name": "app", "image": "x", "volumeMounts": [mount]}]}),
                json!({}),
            ));
        }
    }
    // Annotations.
    for a in [
        json!({"seccomp.security.alpha.kubernetes.io/pod": "runtime/default"}),
        json!({"seccomp.security.alpha.kubernetes.io/pod": "unconfined"}),
        json!({"seccomp.security.alpha.kubernetes.io/pod": "docker/default"}),
        json!({"container.seccomp.security.alpha.kubernetes.io/app": "runtime/default"}),
        json!({"container.apparmor.security.beta.kubernetes.io/app": "runtime/default"}),
        json!({"container.apparmor.security.beta.kubernetes.io/app": "localhost/k8s-apparmor"}),
        json!({"container.apparmor.security.beta.kubernetes.io/app": "unconfined"}),
    ] {
        variants.push((json!({}), a));
    }
    let make = |spec: &Value, ann: &Value| {
        let mut p = base.clone();
        merge(&mut p["spec"], spec);
        if ann.as_object().is_some_and(|a| !a.is_empty()) {
            p["metadata"]["annotations"] = ann.clone();
        }
        p
    };
    let mut out: Vec<Value> = variants.iter().map(|(s, a)| make(s, a)).collect();
    // Pairwise combinations of the container-field variants with the others (a fixed, spread
    // sample keeps the run short).
    let n = variants.len();
    for i in 0..n {
        let j = (i * 7 + 3) % n;
        let k = (i * 13 + 5) % n;
        let mut spec = variants[i].0.clone();
        merge(&mut spec, &variants[j].0);
        let mut ann = variants[i].1.clone();
        merge(&mut ann, &variants[k].1);
        merge(&mut spec, &variants[k].0);
        out.push(make(&spec, &ann));
    }
    // A compliant restricted pod, with its hardening.
    out.push(make(
        &json!({"securityContext": {"runAsNonRoot": true, "runAsUser": 1000, "fsGroup": 2000, "supplementalGroups": [2000], "seccompProfile": {"type": "RuntimeDefault"}},
                "containers": [{"name": "app", "image": "x", "securityContext": {"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true, "runAsGroup": 1000, "capabilities": {"drop": ["ALL"]}}}]}),
        &json!({}),
    ));
    out
}

/// Merges `b` into `a`: objects key by key, containers of the same name field by field.
fn merge(a: &mut Value, b: &Value) {
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(k) {
                    Some(existing) => merge(existing, v),
                    None => {
                        a.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            for item in b {
                match a
                    .iter_mut()
                    .find(|x| x.get("name").is_some() && x.get("name") == item.get("name"))
                {
                    Some(existing) => merge(existing, item),
                    None => a.push(item.clone()),
                }
            }
        }
        (a, b) => *a = b.clone(),
    }
}

fn sim(pod: &Value) -> SimPod {
    let annotations: BTreeMap<String, String> =
        serde_json::from_value(pod["metadata"]["annotations"].clone()).unwrap_or_default();
    SimPod { annotations, spec: serde_json::from_value(pod["spec"].clone()).unwrap() }
}

fn ns_object(name: &str) -> Value {
    crate::policy::namespace_json(name)
}

fn request(user: &str, groups: &[&str]) -> Request {
    Request {
        operation: "CREATE".into(),
        username: user.into(),
        groups: groups.iter().map(|g| (*g).to_owned()).collect(),
        namespace: "team".into(),
        name: "probe".into(),
        sub_resource: String::new(),
    }
}

fn opts() -> PolicyOptions {
    PolicyOptions { minor: 36, actions: vec!["Deny".into()] }
}

/// One PSP usable by everyone: the policy admits exactly what the PSP validates as written.
#[test]
fn each_psp_alone_admits_what_it_validates_as_written() {
    let probes = probes();
    let (mut checked, mut admitted) = (0, 0);
    let mut mismatches = Vec::new();
    for psp in all_psps() {
        let grants = vec![grant(&psp.metadata.name, Principal::Authenticated, None)];
        let policies = residual_policies(&[&psp], &grants, &["team".to_owned()], &opts());
        assert_eq!(policies.len(), 1);
        let compiled = Validating::compile(&policies[0].policy)
            .unwrap_or_else(|e| panic!("{}: {e}", psp.metadata.name));
        let req = request("alice", &["system:authenticated"]);
        for pod in &probes {
            let want = validate_as_written(&psp, &sim(pod));
            let got = compiled.evaluate(pod, None, &ns_object("team"), &req).unwrap();
            checked += 1;
            admitted += usize::from(want.is_empty());
            if want.is_empty() != got.failures.is_empty() {
                mismatches.push(format!(
                    "{}: simulator {:?}, policy {:?}\n  pod {}",
                    psp.metadata.name,
                    want.iter().map(|e| e.message.clone()).collect::<Vec<_>>(),
                    got.failures.iter().map(|f| f.message.clone()).collect::<Vec<_>>(),
                    pod
                ));
            }
        }
    }
    assert!(checked > 2000, "only {checked} probes");
    assert!(
        admitted > checked / 10 && admitted < checked * 9 / 10,
        "{admitted} of {checked} admitted"
    );
    assert!(mismatches.is_empty(), "{} mismatches:\n{}", mismatches.len(), mismatches.join("\n"));
}

/// Several PSPs with grants to service accounts, users and groups: the policy admits a pod
/// exactly when some PSP the simulator finds usable validates it as written.
#[test]
fn usability_follows_rbac_for_service_accounts_users_and_groups() {
    let psps = all_psps();
    let pick = |name: &str| psps.iter().find(|p| p.metadata.name == name).cloned().unwrap();
    let chosen = [pick("ml-workload-psp"), pick("privileged"), pick("restricted")];
    let refs: Vec<&PodSecurityPolicy> = chosen.iter().collect();
    let grants = vec![
        grant(
            "ml-workload-psp",
            Principal::ServiceAccount { namespace: "team".into(), name: "trainer".into() },
            Some("team"),
        ),
        grant("privileged", Principal::User { name: "admin@example.com".into() }, None),
        grant("restricted", Principal::Group { name: "developers".into() }, Some("team")),
        grant(
            "restricted",
            Principal::NamespaceServiceAccounts { namespace: "other".into() },
            None,
        ),
    ];
    let policies = residual_policies(&refs, &grants, &["team".to_owned()], &opts());
    let compiled = Validating::compile(&policies[0].policy).unwrap();
    let requesters = [
        Requester::user("bob", &[]),
        Requester::user("admin@example.com", &[]),
        Requester::user("dev", &["developers".to_owned()]),
        Requester::kube_system_service_account("replicaset-controller"),
        Requester {
            user: "system:serviceaccount:other:ci".into(),
            groups: vec![
                "system:serviceaccounts".into(),
                "system:serviceaccounts:other".into(),
                "system:authenticated".into(),
            ],
        },
    ];
    let mut mismatches = Vec::new();
    for pod in probes() {
        let sim_pod = sim(&pod);
        for r in &requesters {
            let usable = usable_psps(&grants, &refs, "team", sim_pod.spec.service_account(), r);
            let want = refs.iter().any(|p| {
                usable.contains(&p.metadata.name) && validate_as_written(p, &sim_pod).is_empty()
            });
            let groups: Vec<&str> = r.groups.iter().map(String::as_str).collect();
            let got = compiled
                .evaluate(&pod, None, &ns_object("team"), &request(&r.user, &groups))
                .unwrap();
            if want != got.failures.is_empty() {
                mismatches.push(format!(
                    "{} as {}: want {want}\n  {pod}",
                    sim_pod.spec.service_account(),
                    r.user
                ));
            }
        }
    }
    assert!(mismatches.is_empty(), "{} mismatches:\n{}", mismatches.len(), mismatches.join("\n"));
}

#[test]
fn namespaces_with_the_same_picture_share_one_policy() {
    let psps = all_psps();
    let psp = psps.iter().find(|p| p.metadata.name == "ml-workload-psp").unwrap();
    let sa = |ns: &str| {
        grant(
            "ml-workload-psp",
            Principal::ServiceAccount { namespace: ns.into(), name: "trainer".into() },
            Some(ns),
        )
    };
    let grants = vec![
        sa("a"),
        sa("b"),
        grant("ml-workload-psp", Principal::User { name: "x".into() }, Some("c")),
    ];
    let names: Vec<String> = ["a", "b", "c"].iter().map(|s| (*s).to_owned()).collect();
    let policies = residual_policies(&[psp], &grants, &names, &opts());
    let groups: Vec<(String, Vec<String>)> =
        policies.iter().map(|p| (p.name.clone(), p.namespaces.clone())).collect();
    assert_eq!(
        groups,
        vec![
            ("psa-migrate-residual-a".to_owned(), vec!["a".to_owned(), "b".to_owned()]),
            ("psa-migrate-residual-c".to_owned(), vec!["c".to_owned()]),
        ]
    );
    let rules = &policies[0].policy["spec"]["matchConstraints"]["resourceRules"][0];
    assert_eq!(rules["operations"], json!(["CREATE", "UPDATE"]));
    assert_eq!(rules["resources"], json!(["pods", "pods/ephemeralcontainers"]));
    assert_eq!(
        policies[0].binding["spec"]["matchResources"]["namespaceSelector"]["matchExpressions"][0]["values"],
        json!(["a", "b"])
    );
}

#[test]
fn system_masters_are_not_matched_and_old_versions_get_no_policy() {
    let psps = all_psps();
    let psp = psps.iter().find(|p| p.metadata.name == "ml-workload-psp").unwrap();
    let policies = residual_policies(&[psp], &[], &["team".to_owned()], &opts());
    let compiled = Validating::compile(&policies[0].policy).unwrap();
    let pod = &probes()[0];
    let denied = compiled.evaluate(pod, None, &ns_object("team"), &request("bob", &[])).unwrap();
    assert!(denied.matched && !denied.failures.is_empty(), "no PSP usable: rejected");
    assert!(denied.failures[0].message.starts_with("no PodSecurityPolicy was usable here"));
    let masters = compiled
        .evaluate(pod, None, &ns_object("team"), &request("root", &["system:masters"]))
        .unwrap();
    assert!(!masters.matched);
    let old = PolicyOptions { minor: 27, ..opts() };
    assert!(residual_policies(&[psp], &[], &["team".to_owned()], &old).is_empty());
    let beta = PolicyOptions { minor: 29, ..opts() };
    let p = residual_policies(&[psp], &[], &["team".to_owned()], &beta);
    assert_eq!(p[0].policy["apiVersion"], "admissionregistration.k8s.io/v1beta1");
}

/// A pod as the simulator compares it: AppArmor fields as annotations, capability lists sorted
/// and deduplicated (order carries no meaning), the pod seccomp annotation dropped when it
/// only repeats the pod field (the copy the plugin makes; only a mutation policy writes it).
fn normalized(pod: &SimPod) -> SimPod {
    let mut pod = crate::simulate::apparmor_fields_as_annotations(pod);
    let key = crate::model::pod::SECCOMP_POD_ANNOTATION;
    let field = pod.spec.security_context.as_ref().and_then(|s| s.seccomp_profile.as_ref());
    if let Some(f) = field
        && pod.annotations.get(key) == Some(&crate::simulate::seccomp::annotation_for_field(f))
    {
        pod.annotations.remove(key);
    }
    for list in [
        &mut pod.spec.init_containers,
        &mut pod.spec.containers,
        &mut pod.spec.ephemeral_containers,
    ] {
        for c in list.iter_mut() {
            if let Some(caps) = c.security_context.as_mut().and_then(|s| s.capabilities.as_mut()) {
                for l in [&mut caps.add, &mut caps.drop].into_iter().flatten() {
                    l.sort();
                    l.dedup();
                }
            }
        }
    }
    pod
}

/// Runs `pod` through the mutation policy (when there is one) and the residual policy:
/// whether it is admitted, and the pod as admitted.
fn through_policies(
    mutating: Option<&Mutating>,
    validating: &Validating,
    pod: &Value,
    req: &Request,
) -> (bool, Value) {
    let ns = ns_object("team");
    let mutated = match mutating {
        Some(m) => m.evaluate(pod, &ns, req).unwrap_or_else(|e| panic!("{e}\n  pod {pod}")).object,
        None => pod.clone(),
    };
    let v = validating.evaluate(&mutated, None, &ns, req).unwrap();
    (v.failures.is_empty(), mutated)
}

/// Compares the plugin's decision among `psps` (all usable) with the mutation policy followed
/// by the residual policy, verdict and admitted pod; returns the mismatches.
fn compare_with_plugin(psps: &[&PodSecurityPolicy], probes: &[Value]) -> (usize, Vec<String>) {
    let grants: Vec<Grant> =
        psps.iter().map(|p| grant(&p.metadata.name, Principal::Authenticated, None)).collect();
    let ns = ["team".to_owned()];
    let residual = residual_policies(psps, &grants, &ns, &opts());
    let validating = Validating::compile(&residual[0].policy).unwrap();
    let mutations = mutation_policies(psps, &grants, &ns, &opts());
    let mutating = mutations
        .first()
        .map(|m| Mutating::compile(&m.policy).unwrap_or_else(|e| panic!("{}: {e}", m.name)));
    let usable = psps.iter().map(|p| p.metadata.name.clone()).collect();
    let req = request("alice", &["system:authenticated"]);
    let (mut mutated, mut mismatches) = (0, Vec::new());
    for pod in probes {
        let d = decide(psps, &usable, &crate::simulate::apparmor_fields_as_annotations(&sim(pod)));
        let (admitted, after) = through_policies(mutating.as_ref(), &validating, pod, &req);
        let names: Vec<&str> = psps.iter().map(|p| p.metadata.name.as_str()).collect();
        if d.psp.is_some() != admitted {
            mismatches.push(format!(
                "{names:?}: plugin {:?} {:?}, policies admit {admitted}\n  pod {pod}\n  after {after}",
                d.psp, d.rejections
            ));
        } else if let Some(want) = &d.admitted {
            mutated += usize::from(d.mutated);
            let (want, got) = (normalized(want), normalized(&sim(&after)));
            if want != got {
                mismatches.push(format!(
                    "{names:?}: {:?} mutates differently\n  pod {pod}\n  plugin {:?}\n  policy {after}",
                    d.psp, d.changes
                ));
            }
        }
    }
    (mutated, mismatches)
}

/// One PSP usable by everyone: the mutation policy gives each probe pod exactly the defaults
/// the plugin gives it, and the residual policy then admits exactly what the plugin admits.
#[test]
fn mutation_then_residual_matches_the_plugin_for_each_psp() {
    let probes = probes();
    let (mut mutated, mut mismatches) = (0, Vec::new());
    for psp in all_psps() {
        let (m, mut mm) = compare_with_plugin(&[&psp], &probes);
        mutated += m;
        mismatches.append(&mut mm);
    }
    assert!(mutated > 500, "only {mutated} probes were mutated");
    mismatches.truncate(20);
    assert!(mismatches.is_empty(), "mismatches:\n{}", mismatches.join("\n"));
}

/// Several PSPs usable at once: the policies choose the PSP the plugin chooses (the first by
/// name admitting the pod unchanged, else the first admitting it once defaulted).
#[test]
fn mutation_follows_the_plugins_choice_among_psps() {
    let probes = probes();
    let mut psps = all_psps();
    psps.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    psps.dedup_by(|a, b| a.metadata.name == b.metadata.name);
    let mut mismatches = Vec::new();
    for window in psps.chunks(3) {
        let refs: Vec<&PodSecurityPolicy> = window.iter().collect();
        mismatches.append(&mut compare_with_plugin(&refs, &probes).1);
    }
    mismatches.truncate(20);
    assert!(mismatches.is_empty(), "mismatches:\n{}", mismatches.join("\n"));
}
