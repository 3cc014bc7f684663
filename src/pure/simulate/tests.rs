//! Our own cases, one group per field and strategy (guided by the shape of upstream's test
//! tables), and the plugin's selection order.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::*;

/// A PSP from its spec (RunAsAny everywhere unless given) and annotations.
fn psp(name: &str, spec: Value, annotations: Value) -> PodSecurityPolicy {
    let mut base = json!({
        "seLinux": {"rule": "RunAsAny"}, "runAsUser": {"rule": "RunAsAny"},
        "supplementalGroups": {"rule": "RunAsAny"}, "fsGroup": {"rule": "RunAsAny"},
        "volumes": ["*"],
    });
    for (k, v) in spec.as_object().unwrap() {
        base[k] = v.clone();
    }
    serde_json::from_value(json!({
        "metadata": {"name": name, "annotations": annotations}, "spec": base
    }))
    .unwrap()
}

fn pod(spec: Value) -> SimPod {
    SimPod { annotations: Default::default(), spec: serde_json::from_value(spec).unwrap() }
}

fn pod_with(annotations: Value, spec: Value) -> SimPod {
    SimPod { annotations: serde_json::from_value(annotations).unwrap(), spec: pod(spec).spec }
}

fn one() -> Value {
    json!({"containers": [{"name": "app"}]})
}

fn errors(o: &Outcome) -> Vec<String> {
    match o {
        Outcome::Rejects(e) => e.iter().map(|e| e.message.clone()).collect(),
        _ => Vec::new(),
    }
}

fn changes(o: &Outcome) -> Vec<(String, Value, Value)> {
    match o {
        Outcome::AdmitsWithMutation { changes, .. } => {
            changes.iter().map(|c| (c.field.clone(), c.old.clone(), c.new.clone())).collect()
        }
        _ => Vec::new(),
    }
}

#[test]
fn privileged_and_host_namespaces() {
    let p = psp("p", json!({}), json!({}));
    let priv_pod = pod(json!({"hostNetwork": true, "hostPID": true, "hostIPC": true,
        "containers": [{"name": "a", "securityContext": {"privileged": true}}]}));
    assert_eq!(
        errors(&admit(&p, &priv_pod)),
        [
            "spec.securityContext.hostNetwork: Invalid value: true: Host network is not allowed to be used",
            "spec.securityContext.hostPID: Invalid value: true: Host PID is not allowed to be used",
            "spec.securityContext.hostIPC: Invalid value: true: Host IPC is not allowed to be used",
            "spec.containers[0].securityContext.privileged: Invalid value: true: Privileged containers are not allowed",
        ]
    );
    let open = psp(
        "o",
        json!({"privileged": true, "hostNetwork": true, "hostPID": true, "hostIPC": true}),
        json!({}),
    );
    assert_eq!(admit(&open, &priv_pod), Outcome::Admits);
    assert_eq!(admit(&p, &pod(one())), Outcome::Admits);
}

#[test]
fn host_ports() {
    let p = psp(
        "p",
        json!({"hostPorts": [{"min": 80, "max": 80}, {"min": 8000, "max": 8080}]}),
        json!({}),
    );
    let with = |port: i32| {
        pod(
            json!({"initContainers": [{"name": "i", "ports": [{"containerPort": 1, "hostPort": port}]}],
            "containers": [{"name": "a"}]}),
        )
    };
    assert_eq!(admit(&p, &with(80)), Outcome::Admits);
    assert_eq!(admit(&p, &with(8080)), Outcome::Admits);
    assert_eq!(
        errors(&admit(&p, &with(443))),
        [
            "spec.initContainers[0].hostPort: Invalid value: 443: Host port 443 is not allowed to be used. Allowed ports: [80,8000-8080]"
        ]
    );
    let none = psp("n", json!({}), json!({}));
    assert_eq!(errors(&admit(&none, &with(80))).len(), 1);
}

#[test]
fn volume_types() {
    let p = psp("p", json!({"volumes": ["configMap", "secret"]}), json!({}));
    let v = pod(json!({"volumes": [{"name": "a", "configMap": {}}, {"name": "b"},
        {"name": "c", "hostPath": {"path": "/"}}], "containers": [{"name": "x"}]}));
    assert_eq!(
        errors(&admit(&p, &v)),
        [
            "spec.volumes[1]: Invalid value: \"emptyDir\": emptyDir volumes are not allowed to be used",
            "spec.volumes[2]: Invalid value: \"hostPath\": hostPath volumes are not allowed to be used",
        ]
    );
    let all = psp("a", json!({"volumes": ["*"]}), json!({}));
    assert_eq!(admit(&all, &v), Outcome::Admits);
}

#[test]
fn host_paths_prefix_and_read_only() {
    assert!(volumes::has_path_prefix("/foo", "/foo"));
    assert!(volumes::has_path_prefix("/foo/bar", "/foo/"));
    assert!(!volumes::has_path_prefix("/foobar", "/foo"));
    assert!(volumes::has_path_prefix("/anything", "/"));
    let p = psp(
        "p",
        json!({"allowedHostPaths": [{"pathPrefix": "/var/log", "readOnly": true},
            {"pathPrefix": "/data"}]}),
        json!({}),
    );
    let with = |path: &str, ro: Option<bool>| {
        let mut m = json!({"name": "h", "mountPath": "/h"});
        if let Some(ro) = ro {
            m["readOnly"] = json!(ro);
        }
        pod(json!({"volumes": [{"name": "h", "hostPath": {"path": path}}],
            "containers": [{"name": "a", "volumeMounts": [m]}]}))
    };
    assert_eq!(admit(&p, &with("/var/log/pods", Some(true))), Outcome::Admits);
    assert_eq!(
        errors(&admit(&p, &with("/var/log", None))),
        ["spec.containers[0].volumeMounts[0].readOnly: Invalid value: false: must be read-only"]
    );
    assert_eq!(admit(&p, &with("/data/x", Some(false))), Outcome::Admits);
    assert_eq!(
        errors(&admit(&p, &with("/var/logs", Some(true)))),
        [
            "spec.volumes[0].hostPath.pathPrefix: Invalid value: \"/var/logs\": is not allowed to be used"
        ]
    );
}

#[test]
fn flex_and_csi_drivers() {
    let p = psp(
        "p",
        json!({"allowedFlexVolumes": [{"driver": "ok/flex"}], "allowedCSIDrivers": [{"name": "ok.csi"}]}),
        json!({}),
    );
    let v = |flex: &str, csi: &str| {
        pod(json!({"volumes": [{"name": "f", "flexVolume": {"driver": flex}},
            {"name": "c", "csi": {"driver": csi}}], "containers": [{"name": "a"}]}))
    };
    assert_eq!(admit(&p, &v("ok/flex", "ok.csi")), Outcome::Admits);
    assert_eq!(
        errors(&admit(&p, &v("bad", "bad.csi"))),
        [
            "spec.volumes[0].driver: Invalid value: \"bad\": Flexvolume driver is not allowed to be used",
            "spec.volumes[1].csi.driver: Invalid value: \"bad.csi\": Inline CSI driver is not allowed to be used",
        ]
    );
    let any = psp("a", json!({}), json!({}));
    assert_eq!(admit(&any, &v("bad", "bad.csi")), Outcome::Admits);
}

#[test]
fn read_only_root_filesystem_defaults() {
    let p = psp("p", json!({"readOnlyRootFilesystem": true}), json!({}));
    let o = admit(&p, &pod(one()));
    assert_eq!(
        changes(&o),
        [(
            "spec.containers[0].securityContext.readOnlyRootFilesystem".into(),
            Value::Null,
            json!(true)
        )]
    );
    let explicit = pod(
        json!({"containers": [{"name": "a", "securityContext": {"readOnlyRootFilesystem": false}}]}),
    );
    assert_eq!(
        errors(&admit(&p, &explicit)),
        [
            "spec.containers[0].securityContext.readOnlyRootFilesystem: Invalid value: false: ReadOnlyRootFilesystem must be set to true"
        ]
    );
}

#[test]
fn run_as_user_strategies() {
    let must = psp(
        "m",
        json!({"runAsUser": {"rule": "MustRunAs", "ranges": [{"min": 1000, "max": 2000}]}}),
        json!({}),
    );
    assert_eq!(
        changes(&admit(&must, &pod(one()))),
        [("spec.containers[0].securityContext.runAsUser".into(), Value::Null, json!(1000))]
    );
    let pod_level =
        pod(json!({"securityContext": {"runAsUser": 1500}, "containers": [{"name": "a"}]}));
    assert_eq!(admit(&must, &pod_level), Outcome::Admits, "inherits the pod's user");
    let root = pod(json!({"containers": [{"name": "a", "securityContext": {"runAsUser": 0}}]}));
    assert_eq!(
        errors(&admit(&must, &root)),
        [
            "spec.containers[0].securityContext.runAsUser: Invalid value: 0: must be in the ranges: [{1000 2000}]"
        ]
    );
    let non_root = psp("n", json!({"runAsUser": {"rule": "MustRunAsNonRoot"}}), json!({}));
    assert_eq!(
        changes(&admit(&non_root, &pod(one()))),
        [("spec.containers[0].securityContext.runAsNonRoot".into(), Value::Null, json!(true))]
    );
    assert_eq!(
        errors(&admit(&non_root, &root)),
        [
            "spec.containers[0].securityContext.runAsUser: Invalid value: 0: running with the root UID is forbidden"
        ]
    );
    let user = pod(json!({"containers": [{"name": "a", "securityContext": {"runAsUser": 5}}]}));
    assert_eq!(admit(&non_root, &user), Outcome::Admits, "a user is set: no marker");
    let bad = psp("b", json!({"runAsUser": {"rule": "MustRunAs"}}), json!({}));
    assert!(errors(&admit(&bad, &pod(one())))[0].contains("cannot be used"));
}

#[test]
fn group_strategies() {
    let r = json!([{"min": 10, "max": 20}]);
    let must = psp(
        "m",
        json!({"runAsGroup": {"rule": "MustRunAs", "ranges": r},
        "supplementalGroups": {"rule": "MustRunAs", "ranges": r}, "fsGroup": {"rule": "MustRunAs", "ranges": r}}),
        json!({}),
    );
    assert_eq!(
        changes(&admit(&must, &pod(one()))),
        [
            ("spec.securityContext.supplementalGroups".into(), Value::Null, json!([10])),
            ("spec.securityContext.fsGroup".into(), Value::Null, json!(10)),
            ("spec.containers[0].securityContext.runAsGroup".into(), Value::Null, json!(10)),
        ]
    );
    let out =
        pod(json!({"securityContext": {"fsGroup": 5, "supplementalGroups": [], "runAsGroup": 30},
        "containers": [{"name": "a"}]}));
    assert_eq!(
        errors(&admit(&must, &out)),
        [
            "spec.securityContext.fsGroup: Invalid value: []int64{5}: group 5 must be in the ranges: [{10 20}]",
            "spec.securityContext.supplementalGroups: Invalid value: []int64{}: unable to validate empty groups against required ranges",
            "spec.containers[0].securityContext: Invalid value: []int64{30}: group 30 must be in the ranges: [{10 20}]",
        ]
    );
    let may = psp(
        "y",
        json!({"runAsGroup": {"rule": "MayRunAs", "ranges": r},
        "supplementalGroups": {"rule": "MayRunAs", "ranges": r}, "fsGroup": {"rule": "MayRunAs", "ranges": r}}),
        json!({}),
    );
    assert_eq!(admit(&may, &pod(one())), Outcome::Admits, "MayRunAs sets nothing");
    assert_eq!(errors(&admit(&may, &out)).len(), 2, "fsGroup and runAsGroup out of range");
}

#[test]
fn selinux_strategies() {
    let p = psp(
        "s",
        json!({"seLinux": {"rule": "MustRunAs", "seLinuxOptions": {"level": "s0:c1,c2"}}}),
        json!({}),
    );
    assert_eq!(
        changes(&admit(&p, &pod(one()))),
        [("spec.securityContext.seLinuxOptions".into(), Value::Null, json!({"level": "s0:c1,c2"}))]
    );
    let same = pod(
        json!({"securityContext": {"seLinuxOptions": {"level": "s0:c2,c1"}}, "containers": [{"name": "a"}]}),
    );
    assert_eq!(admit(&p, &same), Outcome::Admits, "categories in any order");
    let other = pod(
        json!({"containers": [{"name": "a", "securityContext": {"seLinuxOptions": {"level": "s0:c3", "type": "spc_t"}}}]}),
    );
    assert_eq!(
        errors(&admit(&p, &other)),
        [
            "spec.containers[0].securityContext.seLinuxOptions.level: Invalid value: \"s0:c3\": must be s0:c1,c2",
            "spec.containers[0].securityContext.seLinuxOptions.type: Invalid value: \"spc_t\": must be ",
        ]
    );
}

#[test]
fn capabilities_default_drop_allowed() {
    let p = psp(
        "c",
        json!({"defaultAddCapabilities": ["NET_BIND_SERVICE", "CHOWN"],
        "requiredDropCapabilities": ["ALL"], "allowedCapabilities": ["SYS_TIME"]}),
        json!({}),
    );
    let dropped = pod(
        json!({"containers": [{"name": "a", "securityContext": {"capabilities": {"drop": ["CHOWN"]}}}]}),
    );
    assert_eq!(
        changes(&admit(&p, &dropped)),
        [(
            "spec.containers[0].securityContext.capabilities".into(),
            json!({"drop": ["CHOWN"]}),
            json!({"add": ["NET_BIND_SERVICE"], "drop": ["ALL", "CHOWN"]})
        )]
    );
    let adds = pod(
        json!({"containers": [{"name": "a", "securityContext": {"capabilities": {"add": ["SYS_ADMIN", "SYS_TIME"]}}}]}),
    );
    assert_eq!(
        errors(&admit(&p, &adds)),
        [
            "spec.containers[0].securityContext.capabilities.add: Invalid value: \"SYS_ADMIN\": capability may not be added"
        ]
    );
    let any = psp("a", json!({"allowedCapabilities": ["*"]}), json!({}));
    assert_eq!(admit(&any, &adds), Outcome::Admits);
}

#[test]
fn privilege_escalation() {
    let deny = psp("d", json!({"allowPrivilegeEscalation": false}), json!({}));
    assert_eq!(
        changes(&admit(&deny, &pod(one()))),
        [(
            "spec.containers[0].securityContext.allowPrivilegeEscalation".into(),
            Value::Null,
            json!(false)
        )]
    );
    let asks = pod(
        json!({"containers": [{"name": "a", "securityContext": {"allowPrivilegeEscalation": true}}]}),
    );
    assert_eq!(
        errors(&admit(&deny, &asks)),
        [
            "spec.containers[0].securityContext.allowPrivilegeEscalation: Invalid value: true: Allowing privilege escalation for containers is not allowed"
        ]
    );
    let default_off = psp("o", json!({"defaultAllowPrivilegeEscalation": false}), json!({}));
    assert_eq!(changes(&admit(&default_off, &pod(one()))).len(), 1);
    assert_eq!(admit(&default_off, &asks), Outcome::Admits);
}

#[test]
fn proc_mount_types() {
    let unmasked =
        pod(json!({"containers": [{"name": "a", "securityContext": {"procMount": "Unmasked"}}]}));
    let p = psp("p", json!({}), json!({}));
    assert_eq!(
        errors(&admit(&p, &unmasked)),
        [
            "spec.containers[0].securityContext.procMount: Invalid value: \"Unmasked\": ProcMountType is not allowed"
        ]
    );
    let ok = psp("u", json!({"allowedProcMountTypes": ["Default", "Unmasked"]}), json!({}));
    assert_eq!(admit(&ok, &unmasked), Outcome::Admits);
}

#[test]
fn sysctl_patterns() {
    let with = |names: &[&str]| {
        let s: Vec<Value> = names.iter().map(|n| json!({"name": n, "value": "1"})).collect();
        pod(json!({"securityContext": {"sysctls": s}, "containers": [{"name": "a"}]}))
    };
    let p = psp(
        "p",
        json!({"allowedUnsafeSysctls": ["net.core.*"], "forbiddenSysctls": ["kernel.shm_rmid_forced"]}),
        json!({}),
    );
    assert_eq!(
        admit(&p, &with(&["net.ipv4.tcp_syncookies", "net.core.somaxconn"])),
        Outcome::Admits
    );
    assert_eq!(
        errors(&admit(&p, &with(&["kernel.shm_rmid_forced", "kernel.msgmax"]))),
        [
            "pod.spec.securityContext.sysctls[0]: Forbidden: sysctl \"kernel.shm_rmid_forced\" is not allowed",
            "pod.spec.securityContext.sysctls[1]: Forbidden: unsafe sysctl \"kernel.msgmax\" is not allowed",
        ]
    );
    let none = psp("n", json!({"forbiddenSysctls": ["*"]}), json!({}));
    assert_eq!(errors(&admit(&none, &with(&["net.ipv4.tcp_syncookies"]))).len(), 1);
}

#[test]
fn seccomp_annotations_and_fields() {
    let ann = json!({"seccomp.security.alpha.kubernetes.io/allowedProfileNames": "runtime/default,docker/default",
        "seccomp.security.alpha.kubernetes.io/defaultProfileName": "runtime/default"});
    let p = psp("s", json!({}), ann);
    assert_eq!(
        changes(&admit(&p, &pod(one()))),
        [(
            "metadata.annotations[seccomp.security.alpha.kubernetes.io/pod]".into(),
            Value::Null,
            json!("runtime/default")
        )]
    );
    // The field alone: PSP copies it to the annotation (sync happens after admission).
    let field = pod(
        json!({"securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}, "containers": [{"name": "a"}]}),
    );
    assert_eq!(changes(&admit(&p, &field)).len(), 1);
    let unconfined = pod_with(
        json!({"container.seccomp.security.alpha.kubernetes.io/app": "unconfined",
            "seccomp.security.alpha.kubernetes.io/pod": "runtime/default"}),
        one(),
    );
    assert_eq!(
        errors(&admit(&p, &unconfined)),
        [
            "pod.metadata.annotations[container.seccomp.security.alpha.kubernetes.io/app]: Forbidden: unconfined is not an allowed seccomp profile. Valid values are runtime/default,docker/default"
        ]
    );
    let container_field = pod_with(
        json!({"seccomp.security.alpha.kubernetes.io/pod": "runtime/default"}),
        json!({"containers": [{"name": "a", "securityContext": {"seccompProfile": {"type": "Unconfined"}}}]}),
    );
    assert_eq!(errors(&admit(&p, &container_field)).len(), 1, "container field wins");
    let none = psp("n", json!({}), json!({}));
    assert_eq!(
        errors(&admit(&none, &field)),
        [
            "pod.metadata.annotations[seccomp.security.alpha.kubernetes.io/pod]: Forbidden: seccomp may not be set",
            "pod.metadata.annotations[container.seccomp.security.alpha.kubernetes.io/a]: Forbidden: seccomp may not be set",
        ]
    );
    let any = psp(
        "a",
        json!({}),
        json!({"seccomp.security.alpha.kubernetes.io/allowedProfileNames": "*"}),
    );
    assert_eq!(admit(&any, &unconfined), Outcome::Admits);
}

#[test]
fn apparmor_annotations() {
    let p = psp(
        "a",
        json!({}),
        json!({
        "apparmor.security.beta.kubernetes.io/allowedProfileNames": "runtime/default",
        "apparmor.security.beta.kubernetes.io/defaultProfileName": "runtime/default"}),
    );
    assert_eq!(
        changes(&admit(&p, &pod(one()))),
        [(
            "metadata.annotations[container.apparmor.security.beta.kubernetes.io/app]".into(),
            Value::Null,
            json!("runtime/default")
        )]
    );
    let other = pod_with(
        json!({"container.apparmor.security.beta.kubernetes.io/app": "unconfined"}),
        one(),
    );
    assert_eq!(
        errors(&admit(&p, &other)),
        [
            "pod.metadata.annotations[container.apparmor.security.beta.kubernetes.io/app]: Forbidden: unconfined is not an allowed profile. Allowed values: \"runtime/default\""
        ]
    );
    let no_default = psp(
        "n",
        json!({}),
        json!({"apparmor.security.beta.kubernetes.io/allowedProfileNames": "runtime/default"}),
    );
    assert_eq!(
        errors(&admit(&no_default, &pod(one()))),
        [
            "pod.metadata.annotations[container.apparmor.security.beta.kubernetes.io/app]: Forbidden: AppArmor profile must be set"
        ]
    );
    let trailing = psp(
        "t",
        json!({}),
        json!({"apparmor.security.beta.kubernetes.io/allowedProfileNames": "runtime/default,"}),
    );
    assert_eq!(admit(&trailing, &pod(one())), Outcome::Admits, "a trailing comma allows unset");
}

#[test]
fn runtime_class() {
    let p = psp(
        "r",
        json!({"runtimeClass": {"allowedRuntimeClassNames": ["gvisor"], "defaultRuntimeClassName": "gvisor"}}),
        json!({}),
    );
    assert_eq!(
        changes(&admit(&p, &pod(one()))),
        [("spec.runtimeClassName".into(), Value::Null, json!("gvisor"))]
    );
    let kata = pod(json!({"runtimeClassName": "kata", "containers": [{"name": "a"}]}));
    assert_eq!(errors(&admit(&p, &kata)), ["spec.runtimeClassName: Invalid value: \"kata\""]);
    let any = psp("a", json!({"runtimeClass": {"allowedRuntimeClassNames": ["*"]}}), json!({}));
    assert_eq!(admit(&any, &kata), Outcome::Admits);
}

#[test]
fn init_and_ephemeral_containers() {
    let p = psp("p", json!({"runAsUser": {"rule": "MustRunAsNonRoot"}}), json!({}));
    let o = admit(
        &p,
        &pod(json!({"initContainers": [{"name": "i"}], "containers": [{"name": "c"}],
        "ephemeralContainers": [{"name": "e"}]})),
    );
    let fields: Vec<String> = changes(&o).into_iter().map(|c| c.0).collect();
    assert_eq!(
        fields,
        [
            "spec.initContainers[0].securityContext.runAsNonRoot",
            "spec.containers[0].securityContext.runAsNonRoot",
            "spec.ephemeralContainers[0].securityContext.runAsNonRoot",
        ]
    );
}

#[test]
fn selection_order() {
    let privileged = psp("a-privileged", json!({"privileged": true}), json!({}));
    let mutating = psp("b-restricted", json!({"allowPrivilegeEscalation": false}), json!({}));
    let plain = psp("c-plain", json!({}), json!({}));
    let all: Vec<&PodSecurityPolicy> = vec![&plain, &mutating, &privileged];
    let usable = |names: &[&str]| names.iter().map(|s| (*s).to_owned()).collect::<BTreeSet<_>>();
    let p = pod(one());
    // Unchanged beats mutated, whatever the names.
    let d = decide(&all, &usable(&["a-privileged", "b-restricted", "c-plain"]), &p);
    assert_eq!((d.psp.as_deref(), d.mutated), (Some("a-privileged"), false));
    assert_eq!(d.candidates, ["a-privileged", "b-restricted", "c-plain"]);
    // Only mutating PSPs: the first by name.
    let d = decide(&all, &usable(&["b-restricted"]), &p);
    assert_eq!((d.psp.as_deref(), d.mutated, d.changes.len()), (Some("b-restricted"), true, 1));
    // Unusable PSPs are not tried; rejection carries every usable PSP's errors.
    let root = pod(json!({"containers": [{"name": "a", "securityContext": {"privileged": true}}]}));
    let d = decide(&all, &usable(&["b-restricted", "c-plain"]), &root);
    assert_eq!(d.psp, None);
    assert_eq!(d.rejections.keys().collect::<Vec<_>>(), ["b-restricted", "c-plain"]);
    // The kubernetes.io/psp annotation plays no part on CREATE.
    let annotated = pod_with(json!({"kubernetes.io/psp": "c-plain"}), one());
    let d = decide(&all, &usable(&["a-privileged", "c-plain"]), &annotated);
    assert_eq!(d.psp.as_deref(), Some("a-privileged"));
}

#[test]
fn requesters_and_usable_psps() {
    use crate::discover::rbac::tests::{Rbac, subject, use_rule};
    let inv = Rbac::default()
        .psp("ctrl")
        .psp("sa")
        .psp("user")
        .cluster_role("c", &[], vec![use_rule(&["ctrl"])])
        .cluster_role("s", &[], vec![use_rule(&["sa"])])
        .cluster_role("u", &[], vec![use_rule(&["user"])])
        .cluster_binding(
            "c",
            "ClusterRole",
            "c",
            vec![subject("ServiceAccount", "replicaset-controller", Some("kube-system"))],
        )
        .role_binding("ns", "s", "ClusterRole", "s", vec![subject("ServiceAccount", "app", None)])
        .cluster_binding("u", "ClusterRole", "u", vec![subject("User", "alice", None)])
        .0;
    let grants = crate::discover::rbac::resolve(&inv).grants;
    let psps: Vec<&PodSecurityPolicy> = inv.psps.iter().map(|p| &p.obj).collect();
    let rs = Requester::controller_for(PodKind::Deployment).unwrap();
    assert_eq!(rs.user, "system:serviceaccount:kube-system:replicaset-controller");
    let names = |s: BTreeSet<String>| s.into_iter().collect::<Vec<_>>();
    assert_eq!(names(usable_psps(&grants, &psps, "ns", "app", &rs)), ["ctrl", "sa"]);
    assert_eq!(names(usable_psps(&grants, &psps, "ns", "web", &rs)), ["ctrl"]);
    let alice = Requester::user("alice", &[]);
    assert_eq!(names(usable_psps(&grants, &psps, "other", "app", &alice)), ["user"]);
    let admin = Requester::user("bob", &["system:masters".to_owned()]);
    assert_eq!(usable_psps(&grants, &psps, "ns", "x", &admin).len(), 3);
}
