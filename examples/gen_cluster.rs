//! Writes a synthetic cluster export for benchmarks: namespaces, PSPs, RBAC, workloads and pods
//! with a realistic mix of security settings, as `kubectl get … -o yaml|json` prints them.
//!
//! ```text
//! cargo run --release --example gen_cluster -- --out bench-cluster [--namespaces 2000] [--pods 100000] [--seed 1]
//! ```
//!
//! Pods and workloads go to JSON lists (`kubectl get … -A -o json`), everything else to YAML lists.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::fs;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use serde_json::{Value, json};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*: deterministic, good enough for a data mix.
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn uid(rng: &mut Rng) -> String {
    let a = rng.next();
    let b = rng.next();
    format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        a >> 32,
        a & 0xffff,
        (b >> 52) & 0xfff,
        (b >> 40) & 0xfff,
        b & 0xffff_ffff_ffff
    )
}

/// The security flavour of a workload: most are baseline, a good share restricted, a few
/// privileged (agents, CNI, storage drivers).
fn flavour(rng: &mut Rng) -> &'static str {
    match rng.below(100) {
        0..=39 => "restricted",
        40..=86 => "baseline",
        _ => "privileged",
    }
}

fn container(name: &str, flavour: &str, i: u64) -> Value {
    let mut c = json!({
        "name": name,
        "image": format!("registry.example.com/team/{name}:1.{i}.0"),
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"containerPort": 8080, "name": "http", "protocol": "TCP"}],
        "env": [
            {"name": "LOG_LEVEL", "value": "info"},
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}}
        ],
        "resources": {"limits": {"cpu": "500m", "memory": "512Mi"}, "requests": {"cpu": "100m", "memory": "128Mi"}},
        "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080, "scheme": "HTTP"}, "periodSeconds": 10,
                            "failureThreshold": 3, "successThreshold": 1, "timeoutSeconds": 1},
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "volumeMounts": [
            {"mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "name": "kube-api-access", "readOnly": true},
            {"mountPath": "/config", "name": "config"}
        ]
    });
    c["securityContext"] = match flavour {
        "restricted" => {
            json!({"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]},
                               "readOnlyRootFilesystem": true, "runAsNonRoot": true, "runAsUser": 10001})
        }
        "baseline" => json!({"allowPrivilegeEscalation": true}),
        _ => json!({"privileged": true}),
    };
    c
}

fn pod_spec(name: &str, flavour: &str, sa: &str, i: u64) -> Value {
    let mut spec = json!({
        "containers": [container(name, flavour, i)],
        "dnsPolicy": "ClusterFirst",
        "enableServiceLinks": true,
        "preemptionPolicy": "PreemptLowerPriority",
        "priority": 0,
        "restartPolicy": "Always",
        "schedulerName": "default-scheduler",
        "securityContext": {},
        "serviceAccount": sa,
        "serviceAccountName": sa,
        "terminationGracePeriodSeconds": 30,
        "tolerations": [
            {"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists", "tolerationSeconds": 300}
        ],
        "volumes": [
            {"name": "kube-api-access", "projected": {"defaultMode": 420, "sources": [
                {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                {"configMap": {"items": [{"key": "ca.crt", "path": "ca.crt"}], "name": "kube-root-ca.crt"}}
            ]}},
            {"configMap": {"defaultMode": 420, "name": format!("{name}-config")}, "name": "config"}
        ]
    });
    match flavour {
        "restricted" => {
            spec["securityContext"] = json!({"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}, "fsGroup": 10001});
        }
        "privileged" => {
            spec["hostNetwork"] = json!(true);
            spec["volumes"]
                .as_array_mut()
                .unwrap()
                .push(json!({"name": "host", "hostPath": {"path": "/var/lib", "type": ""}}));
        }
        _ => {}
    }
    spec
}

fn main() {
    let mut out = PathBuf::from("bench-cluster");
    let mut namespaces = 2000u64;
    let mut pods = 100_000u64;
    let mut seed = 1u64;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().unwrap_or_else(|| panic!("{a} needs a value"));
        match a.as_str() {
            "--out" => out = PathBuf::from(val()),
            "--namespaces" => namespaces = val().parse().expect("--namespaces N"),
            "--pods" => pods = val().parse().expect("--pods N"),
            "--seed" => seed = val().parse().expect("--seed N"),
            other => panic!("unknown argument {other}"),
        }
    }
    let mut rng = Rng(seed.max(1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    fs::create_dir_all(&out).expect("create output directory");
    let ts = "2024-03-01T10:00:00Z";

    let psps = ["restricted", "baseline", "privileged"].map(|level| {
        let spec = match level {
            "restricted" => json!({"privileged": false, "allowPrivilegeEscalation": false, "requiredDropCapabilities": ["ALL"],
                "volumes": ["configMap", "emptyDir", "projected", "secret", "downwardAPI", "persistentVolumeClaim"],
                "runAsUser": {"rule": "MustRunAsNonRoot"}, "seLinux": {"rule": "RunAsAny"},
                "fsGroup": {"rule": "MustRunAs", "ranges": [{"min": 1, "max": 65535}]},
                "supplementalGroups": {"rule": "MustRunAs", "ranges": [{"min": 1, "max": 65535}]}}),
            "baseline" => json!({"privileged": false, "allowPrivilegeEscalation": true,
                "volumes": ["configMap", "emptyDir", "projected", "secret", "downwardAPI", "persistentVolumeClaim"],
                "runAsUser": {"rule": "RunAsAny"}, "seLinux": {"rule": "RunAsAny"},
                "fsGroup": {"rule": "RunAsAny"}, "supplementalGroups": {"rule": "RunAsAny"}}),
            _ => json!({"privileged": true, "allowPrivilegeEscalation": true, "allowedCapabilities": ["*"], "volumes": ["*"],
                "hostNetwork": true, "hostPorts": [{"min": 0, "max": 65535}], "hostIPC": true, "hostPID": true,
                "runAsUser": {"rule": "RunAsAny"}, "seLinux": {"rule": "RunAsAny"},
                "fsGroup": {"rule": "RunAsAny"}, "supplementalGroups": {"rule": "RunAsAny"}}),
        };
        json!({"apiVersion": "policy/v1beta1", "kind": "PodSecurityPolicy",
               "metadata": {"name": format!("psp-{level}"), "uid": uid(&mut rng), "resourceVersion": "100", "creationTimestamp": ts},
               "spec": spec})
    });
    let mut cluster_roles = Vec::new();
    for level in ["restricted", "baseline", "privileged"] {
        cluster_roles.push(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": format!("psp:{level}"), "uid": uid(&mut rng), "resourceVersion": "101", "creationTimestamp": ts},
            "rules": [{"apiGroups": ["policy"], "resources": ["podsecuritypolicies"], "resourceNames": [format!("psp-{level}")], "verbs": ["use"]}]}));
    }

    let mut ns_items = Vec::new();
    let mut sa_items = Vec::new();
    let mut rb_items = Vec::new();
    let mut workload_items = Vec::new();
    let mut pod_file =
        BufWriter::new(fs::File::create(out.join("pods.json")).expect("create pods.json"));
    writeln!(pod_file, "{{\n    \"apiVersion\": \"v1\",\n    \"items\": [").unwrap();
    let per_ns = pods / namespaces.max(1);
    let mut extra = pods % namespaces.max(1);
    let mut first_pod = true;
    for n in 0..namespaces {
        let ns = format!("team-{n:04}");
        ns_items.push(json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": ns, "uid": uid(&mut rng), "resourceVersion": "200", "creationTimestamp": ts,
                         "labels": {"kubernetes.io/metadata.name": ns, "team": format!("t{}", n % 97)}},
            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}));
        let sa = "app";
        for s in ["default", sa] {
            sa_items.push(json!({"apiVersion": "v1", "kind": "ServiceAccount",
                "metadata": {"name": s, "namespace": ns, "uid": uid(&mut rng), "resourceVersion": "201", "creationTimestamp": ts}}));
        }
        let ns_flavour = flavour(&mut rng);
        rb_items.push(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": "psp-use", "namespace": ns, "uid": uid(&mut rng), "resourceVersion": "202", "creationTimestamp": ts},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": format!("psp:{ns_flavour}")},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": format!("system:serviceaccounts:{ns}")}]}));
        let mut count = per_ns;
        if extra > 0 {
            count += 1;
            extra -= 1;
        }
        // Pods come in Deployments of up to 5 replicas.
        let mut made = 0;
        let mut d = 0;
        while made < count {
            let replicas = (count - made).min(1 + rng.below(5));
            let name = format!("svc-{d}");
            let wl_flavour = if ns_flavour == "privileged" {
                flavour(&mut rng)
            } else if ns_flavour == "baseline" && rng.below(2) == 0 {
                "restricted"
            } else {
                ns_flavour
            };
            let deploy_uid = uid(&mut rng);
            let rs_uid = uid(&mut rng);
            let hash = format!("{:010x}", rng.next() & 0xff_ffff_ffff);
            let template = json!({"metadata": {"labels": {"app": name, "pod-template-hash": hash}},
                                  "spec": pod_spec(&name, wl_flavour, sa, d)});
            workload_items.push(json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": name, "namespace": ns, "uid": deploy_uid, "resourceVersion": "300", "generation": 1, "creationTimestamp": ts,
                             "annotations": {"deployment.kubernetes.io/revision": "1"}},
                "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}}, "template": template},
                "status": {"replicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas}}));
            workload_items.push(json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
                "metadata": {"name": format!("{name}-{hash}"), "namespace": ns, "uid": rs_uid, "resourceVersion": "301", "creationTimestamp": ts,
                             "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": name, "uid": deploy_uid, "controller": true, "blockOwnerDeletion": true}]},
                "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}}, "template": template},
                "status": {"replicas": replicas}}));
            for _ in 0..replicas {
                let pod_name = format!("{name}-{hash}-{:05x}", rng.below(0xfffff));
                let mut spec = template["spec"].clone();
                spec["nodeName"] = json!(format!("node-{}", rng.below(200)));
                let pod = json!({"apiVersion": "v1", "kind": "Pod",
                    "metadata": {"name": pod_name, "namespace": ns, "uid": uid(&mut rng), "resourceVersion": "400", "creationTimestamp": ts,
                                 "generateName": format!("{name}-{hash}-"),
                                 "labels": {"app": name, "pod-template-hash": hash},
                                 "annotations": {"kubernetes.io/psp": format!("psp-{ns_flavour}")},
                                 "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": format!("{name}-{hash}"), "uid": rs_uid, "controller": true, "blockOwnerDeletion": true}]},
                    "spec": spec,
                    "status": {"phase": "Running", "hostIP": "10.0.0.1", "podIP": "10.1.0.1", "qosClass": "Burstable", "startTime": ts,
                               "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": ts}],
                               "containerStatuses": [{"name": name, "ready": true, "restartCount": 0, "started": true,
                                                      "image": "registry.example.com/team/app:1.0.0", "imageID": "sha256:0000",
                                                      "containerID": "containerd://0000", "state": {"running": {"startedAt": ts}}}]}});
                if !first_pod {
                    writeln!(pod_file, ",").unwrap();
                }
                first_pod = false;
                serde_json::to_writer_pretty(&mut pod_file, &pod).unwrap();
                made += 1;
            }
            d += 1;
        }
    }
    writeln!(pod_file, "\n    ],\n    \"kind\": \"List\",\n    \"metadata\": {{\n        \"resourceVersion\": \"\"\n    }}\n}}").unwrap();
    pod_file.flush().unwrap();

    let write_list = |file: &str, items: Vec<Value>| {
        let list = json!({"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}});
        fs::write(out.join(file), serde_saphyr::to_string(&list).expect("yaml"))
            .expect("write list");
    };
    write_list("namespaces.yaml", ns_items);
    write_list("serviceaccounts.yaml", sa_items);
    write_list("podsecuritypolicies.yaml", psps.to_vec());
    write_list("clusterroles.yaml", cluster_roles);
    write_list("rolebindings.yaml", rb_items);
    // Bulk kinds as JSON (`kubectl get deploy,rs -A -o json`): YAML parsing is an order of
    // magnitude slower, and real exports of big clusters are usually JSON.
    let workloads = json!({"apiVersion": "v1", "items": workload_items, "kind": "List", "metadata": {"resourceVersion": ""}});
    let mut w = BufWriter::new(
        fs::File::create(out.join("workloads.json")).expect("create workloads.json"),
    );
    serde_json::to_writer_pretty(&mut w, &workloads).expect("write workloads");
    w.flush().expect("flush workloads");
    fs::write(
        out.join("version.yaml"),
        "serverVersion:\n  major: \"1\"\n  minor: \"24\"\n  gitVersion: v1.24.17\n  platform: linux/amd64\n",
    )
    .expect("write version");
    eprintln!("wrote {} namespaces and {pods} pods to {}", namespaces, out.display());
}
