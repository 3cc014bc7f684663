//! `psa-migrate inventory` and `psa-migrate map` end to end: the built binary on the demo
//! clusters in `testdata/clusters/` and the PSPs in `testdata/psp/`.

use std::path::PathBuf;

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::{Value, json};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn cmd() -> assert_cmd::Command {
    let mut c = cargo_bin_cmd!("psa-migrate");
    c.current_dir(repo()).env_remove("NO_COLOR").env("TERM", "dumb");
    c
}

/// Runs the binary, checks the exit code and returns stdout.
fn run(args: &[&str], code: i32) -> String {
    let out = cmd().args(args).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(code),
        "{args:?}\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn json(args: &[&str]) -> Value {
    serde_json::from_str(&run(args, 0)).unwrap()
}

fn namespace<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["namespaces"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == name)
        .unwrap_or_else(|| panic!("no namespace {name}"))
}

fn findings(report: &Value, code: &str) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == code)
        .map(|f| {
            let o = &f["object"];
            match o["namespace"].as_str() {
                Some(ns) => {
                    format!("{} {ns}/{}", o["kind"].as_str().unwrap(), o["name"].as_str().unwrap())
                }
                None => format!("{} {}", o["kind"].as_str().unwrap(), o["name"].as_str().unwrap()),
            }
        })
        .collect()
}

const ML: &str = "testdata/clusters/ml-platform";

#[test]
fn ml_platform_service_account_paths_and_levels() {
    let r = json(&["inventory", "-f", ML, "-o", "json"]);
    assert_eq!(r["schemaVersion"], "psa-migrate.inventory/v3");
    assert_eq!(r["serverVersion"], "v1.24.17");

    // ml-workloads: ml-workload-sa may use ml-workload-psp via RoleBinding
    // ml-workload-rolebinding → Role ml-workload-role (a rule in the extensions group).
    let ml = namespace(&r, "ml-workloads");
    let sa = ml["serviceAccounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "ml-workload-sa")
        .unwrap();
    let usable: Vec<&str> =
        sa["usablePsps"].as_array().unwrap().iter().map(|u| u["psp"].as_str().unwrap()).collect();
    assert_eq!(usable, ["ml-workload-psp", "restricted"]);
    let via = &sa["usablePsps"][0]["via"][0];
    assert_eq!(
        via["binding"],
        serde_json::json!({"kind": "RoleBinding", "namespace": "ml-workloads", "name": "ml-workload-rolebinding"})
    );
    assert_eq!(
        via["role"],
        serde_json::json!({"kind": "Role", "namespace": "ml-workloads", "name": "ml-workload-role"})
    );
    assert_eq!(
        via["subject"],
        serde_json::json!({"kind": "ServiceAccount", "namespace": "ml-workloads", "name": "ml-workload-sa"})
    );
    // Every service account gets restricted from the cluster-wide system:serviceaccounts grant;
    // default gets nothing else.
    let default =
        ml["serviceAccounts"].as_array().unwrap().iter().find(|s| s["name"] == "default").unwrap();
    assert_eq!(default["usablePsps"].as_array().unwrap().len(), 1);
    assert_eq!(ml["pspLevel"], "baseline");
    assert_eq!(ml["pspStrictLevel"], "privileged");
    assert_eq!(ml["podsByPsp"], serde_json::json!({"ml-workload-psp": 5, "restricted": 3}));

    let levels: Vec<(String, String)> = r["namespaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (n["name"].as_str().unwrap().to_owned(), n["pspLevel"].as_str().unwrap().to_owned())
        })
        .collect();
    let want = [
        ("data-pipelines", "restricted"),
        ("default", "restricted"),
        ("inference", "baseline"),
        ("kube-node-lease", "restricted"),
        ("kube-public", "restricted"),
        ("kube-system", "privileged"),
        ("ml-workloads", "baseline"),
        ("monitoring", "privileged"),
        ("notebooks", "baseline"),
    ];
    let want: Vec<(String, String)> =
        want.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    assert_eq!(levels, want);

    // Grants to named users only (alice, bob in notebooks; system:masters everywhere) do not
    // count towards the level, but are listed.
    let nb = namespace(&r, "notebooks");
    let only: Vec<&str> = nb["requesterOnlyPsps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["psp"].as_str().unwrap())
        .collect();
    assert!(only.contains(&"privileged") && only.contains(&"baseline-notebooks"), "{only:?}");

    // The aggregated ClusterRole ml-psp-users (empty rules) aggregates ml-workload-psp.
    let inference = namespace(&r, "inference");
    let ms = inference["serviceAccounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "model-server")
        .unwrap();
    assert_eq!(ms["usablePsps"][0]["psp"], "ml-workload-psp");
    assert_eq!(ms["usablePsps"][0]["via"][0]["aggregatedFrom"], "ml-psp-users:ml-workload-psp");

    assert!(r["ignoredKinds"]["Service"].as_u64().unwrap() > 0);
}

#[test]
fn ml_platform_findings_and_mutation() {
    let r = json(&["inventory", "-f", ML, "-o", "json"]);
    assert_eq!(findings(&r, "rbac-binding-missing-role"), ["RoleBinding data-pipelines/etl-psp"]);
    assert_eq!(findings(&r, "rbac-psp-resource-typo"), ["Role data-pipelines/etl-psp-typo"]);
    assert_eq!(
        findings(&r, "rbac-psp-role-unbound"),
        ["ClusterRole ml-psp-users:ml-workload-psp", "ClusterRole psp:unused-legacy"]
    );
    assert_eq!(
        findings(&r, "pod-psp-not-usable-by-sa"),
        ["Pod default/curl-test", "Pod monitoring/debug-shell"]
    );
    assert_eq!(findings(&r, "pod-owner-unknown-kind"), ["Pod kube-system/kube-apiserver-node-1"]);
    // legacy-psp is reachable only through cluster-admin's use on every PSP.
    assert_eq!(findings(&r, "psp-not-usable"), ["PodSecurityPolicy legacy-psp"]);
    assert_eq!(findings(&r, "rbac-grant-all-psps"), ["ClusterRole cluster-admin"]);
    // The typo'd role never granted privileged: etl-runner pods got restricted.
    assert_eq!(namespace(&r, "data-pipelines")["podsByPsp"], serde_json::json!({"restricted": 2}));

    let wl: Vec<(String, bool)> = r["mutatedWorkloads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                format!(
                    "{} {}/{}",
                    w["kind"].as_str().unwrap(),
                    w["namespace"].as_str().unwrap(),
                    w["name"].as_str().unwrap()
                ),
                w["reliesOnPsp"].as_bool().unwrap(),
            )
        })
        .collect();
    assert!(wl.contains(&("Deployment data-pipelines/etl-runner".into(), true)), "{wl:?}");
    assert!(wl.contains(&("CronJob ml-workloads/nightly-retrain".into(), true)), "{wl:?}");
    // baseline-notebooks mutates nothing: the fsGroup came from elsewhere.
    assert!(wl.contains(&("StatefulSet notebooks/jupyter-bob".into(), false)), "{wl:?}");
    let bob = r["mutatedWorkloads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["name"] == "jupyter-bob")
        .unwrap();
    assert!(bob["explanation"].as_str().unwrap().contains("has no mutating field"));
    assert_eq!(bob["pods"][0]["differences"][0]["field"], "spec.securityContext.fsGroup");

    let cleanup: Vec<&str> = r["cleanup"]["pspOnlyRoles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert!(cleanup.contains(&"psp:restricted") && !cleanup.contains(&"cluster-admin"));
}

#[test]
fn fail_on_threshold() {
    run(&["inventory", "-f", ML, "-o", "json"], 0);
    run(&["inventory", "-f", ML, "-o", "json", "--fail-on", "error"], 0);
    run(&["inventory", "-f", ML, "-o", "json", "--fail-on", "warning"], 1);
    run(&["map", "-f", "testdata/psp", "-o", "json", "--fail-on", "error"], 0);
    // The example PSPs are no cluster: two files define `privileged` and two `restricted`, and
    // those duplicates are the only warnings.
    let r: Value = serde_json::from_str(&run(
        &["map", "-f", "testdata/psp", "-o", "json", "--fail-on", "warning"],
        1,
    ))
    .unwrap();
    let warnings: Vec<(&str, &str)> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] != "info")
        .map(|f| (f["code"].as_str().unwrap(), f["object"]["name"].as_str().unwrap()))
        .collect();
    assert_eq!(
        warnings,
        [("input-duplicate-object", "privileged"), ("input-duplicate-object", "restricted")]
    );
    // Input errors win: exit 2.
    run(&["inventory", "-f", "testdata/bad", "-o", "json"], 2);
}

#[test]
fn legacy_eks_authenticated_grant_reaches_every_pod() {
    let r = json(&["inventory", "-f", "testdata/clusters/legacy-eks", "-o", "json"]);
    for ns in r["namespaces"].as_array().unwrap() {
        assert_eq!(ns["pspLevel"], "privileged", "{}", ns["name"]);
        assert_eq!(ns["everyRequesterPsps"][0]["psp"], "eks.privileged");
    }
    // The service-account identity does not carry system:authenticated.
    let storefront = namespace(&r, "storefront");
    for sa in storefront["serviceAccounts"].as_array().unwrap() {
        assert!(sa["usablePsps"].as_array().unwrap().is_empty(), "{sa}");
    }
    // extensions/v1beta1 PSPs are read and granted through a wildcard role in payments.
    let payments = namespace(&r, "payments");
    let usable: Vec<&str> = payments["usablePsps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["psp"].as_str().unwrap())
        .collect();
    assert_eq!(usable, ["eks.privileged", "legacy-extensions-psp"]);
}

#[test]
fn post_125_has_no_psp_level() {
    let r = json(&["inventory", "-f", "testdata/clusters/post-125", "-o", "json"]);
    assert!(r["psps"].as_array().unwrap().is_empty());
    for ns in r["namespaces"].as_array().unwrap() {
        assert_eq!(ns["pspLevel"], "none");
    }
    assert_eq!(
        findings(&r, "rbac-grant-unknown-psp"),
        ["ClusterRole psp:restricted", "Role legacy-app/legacy-psp-user"]
    );
    let m = json(&["map", "-f", "testdata/clusters/post-125", "-o", "json"]);
    assert!(m["policies"].as_array().unwrap().is_empty());
}

fn levels_of(report: &Value) -> Vec<(String, String, String)> {
    report["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["level"].as_str().unwrap().to_owned(),
                p["strictLevel"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The Kubernetes documentation's example PSPs, piped through stdin: privileged / privileged /
/// restricted (practical), privileged in all three cases (strict).
#[test]
fn map_docs_examples_from_stdin() {
    let mut input = String::new();
    for f in ["k8s-docs-privileged", "k8s-docs-baseline", "k8s-docs-restricted"] {
        input.push_str(
            &std::fs::read_to_string(repo().join(format!("testdata/psp/{f}.yaml"))).unwrap(),
        );
        input.push_str("\n---\n");
    }
    let out =
        cmd().args(["map", "-f", "-", "-o", "json"]).write_stdin(input.clone()).output().unwrap();
    assert!(out.status.success());
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["schemaVersion"], "psa-migrate.map/v3");
    let s = |a: &str, b: &str, c: &str| (a.to_owned(), b.to_owned(), c.to_owned());
    assert_eq!(
        levels_of(&r),
        [
            s("baseline", "privileged", "privileged"),
            s("privileged", "privileged", "privileged"),
            s("restricted", "restricted", "privileged"),
        ]
    );
    let restricted = &r["policies"][2];
    assert_eq!(restricted["assumptions"][0]["field"], "spec.seLinux");
    assert!(!restricted["mutatingFields"].as_array().unwrap().is_empty());

    // --strict: the text headline uses the strict level; JSON still carries both.
    let out =
        cmd().args(["map", "--strict", "-f", "-"]).write_stdin(input.clone()).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("restricted: privileged (practical: restricted)"), "{text}");
    let out = cmd()
        .args(["map", "--strict", "-f", "-", "-o", "json"])
        .write_stdin(input)
        .output()
        .unwrap();
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["strict"], true);
    assert_eq!(r["policies"][2]["level"], "restricted");
}

#[test]
fn map_every_testdata_psp() {
    let r = json(&["map", "-f", "testdata/psp", "-o", "json"]);
    let got = levels_of(&r);
    let level = |name: &str| {
        got.iter().find(|(n, _, _)| n == name).map(|(_, l, s)| (l.as_str(), s.as_str()))
    };
    assert_eq!(level("eks.privileged"), Some(("privileged", "privileged")));
    assert_eq!(level("capabilities-net-raw"), Some(("privileged", "privileged")));
    assert_eq!(level("capabilities-netbind-only"), Some(("restricted", "privileged")));
    assert_eq!(level("docker-default"), Some(("restricted", "privileged")));
    assert_eq!(level("legacy-restricted"), Some(("restricted", "privileged")));
    assert_eq!(level("selinux-mustrunas-container"), Some(("restricted", "privileged")));
    assert_eq!(level("selinux-spc"), Some(("privileged", "privileged")));
    assert_eq!(level("procmount-unmasked"), Some(("privileged", "privileged")));
    assert_eq!(level("unsafe-sysctls"), Some(("privileged", "privileged")));
    assert_eq!(level("team-a-baseline"), Some(("baseline", "privileged")));
    assert_eq!(level("team-b-restricted"), Some(("restricted", "privileged")));
}

#[test]
fn other_formats_render() {
    for format in ["yaml", "markdown", "text"] {
        let out = run(&["inventory", "-f", ML, "-o", format], 0);
        assert!(out.contains("ml-workload-psp"), "{format}");
        let out = run(&["map", "-f", "testdata/psp", "-o", format], 0);
        assert!(out.contains("eks.privileged"), "{format}");
    }
}

#[test]
fn snapshot_ml_platform_inventory_text() {
    insta::assert_snapshot!(run(&["inventory", "-f", ML], 0));
}

/// The demo cluster's inventory as JSON: what matters asserted, with small snapshots of one
/// mutated workload and of the clean-up candidates.
#[test]
fn ml_platform_inventory_json() {
    let r = json(&["inventory", "-f", ML, "-o", "json"]);
    assert_eq!(r["schemaVersion"], "psa-migrate.inventory/v3");
    let len = |key: &str| r[key].as_array().map_or(0, Vec::len);
    let counts: Vec<usize> =
        ["psps", "grants", "namespaces", "mutatedWorkloads", "findings"].map(len).into();
    assert_eq!(counts, [6, 16, 9, 7, 16]);
    assert!(r.get("unavailable").is_none(), "offline input: nothing unavailable");
    // The RayCluster's head pod is compared with the head template it was made from.
    let ray = r["mutatedWorkloads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["kind"] == "RayCluster")
        .expect("the RayCluster's head pod differs from its template");
    assert_eq!(
        (&ray["name"], &ray["path"]),
        (&json!("llm"), &json!("spec.headGroupSpec.template"))
    );
    assert_eq!(ray["pods"].as_array().unwrap().len(), 1);
    assert_eq!(
        r["ignoredKinds"],
        serde_json::json!({"ConfigMap": 5, "PriorityClass": 1, "Secret": 1, "Service": 7})
    );

    // name, level, strictLevel, mutating, granted, pods admitted.
    let psps: Vec<(String, String, String, bool, bool, u64)> = r["psps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["level"].as_str().unwrap().to_owned(),
                p["strictLevel"].as_str().unwrap().to_owned(),
                p["mutating"].as_bool().unwrap(),
                p["granted"].as_bool().unwrap(),
                p["pods"].as_u64().unwrap(),
            )
        })
        .collect();
    let expect = |n: &str, l: &str, s: &str, m: bool, g: bool, p: u64| {
        (n.to_owned(), l.to_owned(), s.to_owned(), m, g, p)
    };
    assert_eq!(
        psps,
        [
            expect("baseline-notebooks", "baseline", "privileged", false, true, 2),
            expect("legacy-psp", "privileged", "privileged", false, true, 0),
            expect("ml-workload-psp", "baseline", "privileged", true, true, 5),
            expect("monitoring-hostaccess", "privileged", "privileged", false, true, 5),
            expect("privileged", "privileged", "privileged", false, true, 12),
            expect("restricted", "restricted", "privileged", true, true, 10),
        ]
    );

    // Per namespace: the PSP-derived level (practical, strict) and pods per admitting PSP.
    let levels: Vec<(&str, &str, &str, &Value)> = r["namespaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            assert_eq!(n["exists"], true, "{}", n["name"]);
            assert_eq!(n["podsWithoutPsp"], 0, "{}", n["name"]);
            (
                n["name"].as_str().unwrap(),
                n["pspLevel"].as_str().unwrap(),
                n["pspStrictLevel"].as_str().unwrap(),
                &n["podsByPsp"],
            )
        })
        .collect();
    use serde_json::json as j;
    let none = j!({});
    let expected = [
        ("data-pipelines", "restricted", "privileged", &j!({"restricted": 2})),
        ("default", "restricted", "privileged", &j!({"privileged": 1})),
        ("inference", "baseline", "privileged", &j!({"restricted": 4})),
        ("kube-node-lease", "restricted", "privileged", &none),
        ("kube-public", "restricted", "privileged", &none),
        ("kube-system", "privileged", "privileged", &j!({"privileged": 10})),
        ("ml-workloads", "baseline", "privileged", &j!({"ml-workload-psp": 5, "restricted": 3})),
        (
            "monitoring",
            "privileged",
            "privileged",
            &j!({"monitoring-hostaccess": 5, "privileged": 1, "restricted": 1}),
        ),
        ("notebooks", "baseline", "privileged", &j!({"baseline-notebooks": 2})),
    ];
    assert_eq!(levels, expected);

    // Mutated workloads: which rely on PSP mutation, and through which PSP.
    let mutated: Vec<String> = r["mutatedWorkloads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            format!(
                "{} {}/{} reliesOnPsp={} psps={}",
                m["kind"].as_str().unwrap(),
                m["namespace"].as_str().unwrap(),
                m["name"].as_str().unwrap(),
                m["reliesOnPsp"],
                m["psps"]
            )
        })
        .collect();
    assert_eq!(
        mutated,
        [
            "Deployment data-pipelines/etl-runner reliesOnPsp=true psps=[\"restricted\"]",
            "Deployment inference/model-server reliesOnPsp=true psps=[\"restricted\"]",
            "ReplicationController inference/legacy-batch-scorer reliesOnPsp=true psps=[\"restricted\"]",
            "CronJob ml-workloads/nightly-retrain reliesOnPsp=true psps=[\"ml-workload-psp\"]",
            "RayCluster ml-workloads/llm reliesOnPsp=true psps=[\"restricted\"]",
            "Deployment monitoring/prometheus reliesOnPsp=true psps=[\"restricted\"]",
            "StatefulSet notebooks/jupyter-bob reliesOnPsp=false psps=[\"baseline-notebooks\"]",
        ]
    );
    let retrain = r["mutatedWorkloads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "nightly-retrain")
        .unwrap();
    insta::assert_json_snapshot!("ml_platform_inventory_json_nightly_retrain", retrain);

    // Findings: codes and the objects they are about.
    let findings: Vec<String> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let o = &f["object"];
            let ns = o["namespace"].as_str().map(|n| format!("{n}/")).unwrap_or_default();
            format!(
                "{} {} {ns}{}",
                f["code"].as_str().unwrap(),
                o["kind"].as_str().unwrap(),
                o["name"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        findings,
        [
            "rbac-grant-all-psps ClusterRole cluster-admin",
            "rbac-psp-role-unbound ClusterRole ml-psp-users:ml-workload-psp",
            "rbac-psp-role-unbound ClusterRole psp:unused-legacy",
            "workload-relies-on-psp-mutation CronJob ml-workloads/nightly-retrain",
            "workload-relies-on-psp-mutation Deployment data-pipelines/etl-runner",
            "workload-relies-on-psp-mutation Deployment inference/model-server",
            "workload-relies-on-psp-mutation Deployment monitoring/prometheus",
            "pod-psp-not-usable-by-sa Pod default/curl-test",
            "pod-owner-unknown-kind Pod kube-system/kube-apiserver-node-1",
            "pod-psp-not-usable-by-sa Pod monitoring/debug-shell",
            "psp-not-usable PodSecurityPolicy legacy-psp",
            "workload-relies-on-psp-mutation RayCluster ml-workloads/llm",
            "workload-relies-on-psp-mutation ReplicationController inference/legacy-batch-scorer",
            "rbac-psp-resource-typo Role data-pipelines/etl-psp-typo",
            "rbac-binding-missing-role RoleBinding data-pipelines/etl-psp",
            "workload-mutated-outside-psp StatefulSet notebooks/jupyter-bob",
        ]
    );
    insta::assert_json_snapshot!("ml_platform_inventory_json_cleanup", r["cleanup"]);
}

#[test]
fn snapshot_ml_platform_map_text() {
    insta::assert_snapshot!(run(&["map", "-f", ML], 0));
}
