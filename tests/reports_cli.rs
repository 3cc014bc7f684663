//! Reports for CI: SARIF (read back into serde-sarif's typed SARIF 2.1.0 model) and JUnit (read
//! back with quick-junit) from `check`, `inventory`, `map` and `plan`; and what `check` counts:
//! `--fail-on`, `--exclude-check`, `--exclude`, the `.psa-migrate.yaml` config file and
//! `--summary`.

use std::collections::BTreeSet;
use std::path::PathBuf;

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;

const DEMO: &str = "testdata/clusters/ml-platform";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn cmd() -> assert_cmd::Command {
    let mut c = cargo_bin_cmd!("psa-migrate");
    c.current_dir(repo()).env_remove("NO_COLOR").env("TERM", "dumb");
    c
}

/// Runs the binary, expecting `code`; returns stdout.
fn run(args: &[&str], code: i32) -> String {
    let out = cmd().args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(code), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn json(args: &[&str], code: i32) -> Value {
    serde_json::from_str(&run(args, code)).unwrap()
}

/// The log read into the typed model, and as a JSON value for structural checks.
fn sarif(args: &[&str], code: i32) -> Value {
    let text = run(args, code);
    let typed: serde_sarif::sarif::Sarif = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{args:?}: not SARIF 2.1.0: {e}\n{text}"));
    assert_eq!(typed.version, serde_json::json!("2.1.0"));
    assert_eq!(typed.runs.len(), 1);
    let v: Value = serde_json::from_str(&text).unwrap();
    check_structure(&v);
    v
}

/// Every result names an existing rule by ID and index, its fingerprint is unique, and a
/// physical location names a file that exists.
fn check_structure(v: &Value) {
    let run = &v["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let distinct: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(distinct.len(), ids.len(), "rule IDs are unique");
    for r in rules {
        assert!(r["shortDescription"]["text"].as_str().is_some_and(|t| !t.is_empty()), "{r}");
        assert!(r["fullDescription"]["text"].as_str().is_some_and(|t| !t.is_empty()), "{r}");
    }
    let mut fingerprints = BTreeSet::new();
    for res in run["results"].as_array().unwrap() {
        let id = res["ruleId"].as_str().unwrap();
        let index = res["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(ids[index], id, "{res}");
        let fp = res["partialFingerprints"]["psaMigrate/v1"].as_str().unwrap();
        assert!(fingerprints.insert(fp.to_owned()), "duplicate fingerprint {fp}: {res}");
        let physical = &res["locations"][0]["physicalLocation"];
        if let Some(uri) = physical["artifactLocation"]["uri"].as_str() {
            let text = std::fs::read_to_string(repo().join(uri)).unwrap();
            // The region is where the object starts: its first key (as the demo writes them).
            let region = &physical["region"];
            if let (Some(line), Some(column)) =
                (region["startLine"].as_u64(), region["startColumn"].as_u64())
            {
                let at = text.lines().nth(line as usize - 1).unwrap();
                let rest: String = at.chars().skip(column as usize - 1).collect();
                assert!(
                    rest.starts_with("apiVersion:") || rest.starts_with('{'),
                    "{uri}:{line}:{column}: {at}"
                );
            }
        }
    }
}

/// One rule per PSS check (sorted, with the level's help URI) and per finding code.
#[test]
fn check_sarif_has_a_rule_per_check_and_code_and_a_result_per_violation() {
    let v = sarif(&["check", "-f", DEMO, "--level", "restricted", "-o", "sarif"], 1);
    let rules = v["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
    let codes = json(&["schema", "check"], 0)["$defs"]["Code"]["enum"].as_array().unwrap().len();
    assert_eq!(rules.len(), 19 + codes);
    assert_eq!(rules[0]["id"], "allowPrivilegeEscalation");
    assert_eq!(
        rules[0]["helpUri"],
        "https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted"
    );
    let privileged = rules.iter().find(|r| r["id"] == "privileged").unwrap();
    assert_eq!(privileged["shortDescription"]["text"], "Privileged Containers (baseline)");
    assert!(privileged["helpUri"].as_str().unwrap().ends_with("#baseline"));
    // As many results as violations in the JSON report, each with the object's file.
    let report = json(&["check", "-f", DEMO, "--level", "restricted", "-o", "json"], 1);
    let violations: usize = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["violations"].as_array().unwrap().len())
        .sum();
    let results = v["runs"][0]["results"].as_array().unwrap();
    let pss: Vec<&Value> =
        results.iter().filter(|r| r["ruleIndex"].as_u64().unwrap() < 19).collect();
    assert_eq!(pss.len(), violations);
    let host = pss
        .iter()
        .find(|r| {
            r["ruleId"] == "hostNamespaces"
                && r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
                    == "DaemonSet monitoring/node-exporter"
        })
        .expect("node-exporter's hostNamespaces violation");
    assert_eq!(host["level"], "error");
    assert!(
        host["message"]["text"].as_str().unwrap().starts_with(
            "DaemonSet monitoring/node-exporter: would violate PodSecurity \"restricted:latest\": host namespaces ("
        ),
        "{host}"
    );
    assert!(
        host["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
            .starts_with(DEMO)
    );
    // Every violation of an object read from a file has its line and column.
    for r in &pss {
        let region = &r["locations"][0]["physicalLocation"]["region"];
        assert!(region["startLine"].is_u64() && region["startColumn"].is_u64(), "{r}");
    }
}

/// Fingerprints do not depend on where the object is in its file.
#[test]
fn fingerprints_survive_moving_an_object() {
    let dir = tempfile::tempdir().unwrap();
    let pod = |name: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: a}}\nspec:\n  hostPID: true\n  containers: [{{name: c, image: i}}]\n"
        )
    };
    let fingerprints = |text: &str| {
        std::fs::write(dir.path().join("pods.yaml"), text).unwrap();
        let out = cmd()
            .current_dir(dir.path())
            .args(["check", "-f", "pods.yaml", "--level", "baseline", "-o", "sarif"])
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let mut fps: Vec<(String, String)> = v["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["locations"][0]["logicalLocations"][0]["name"].as_str().unwrap().to_owned(),
                    r["partialFingerprints"]["psaMigrate/v1"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        fps.sort();
        fps
    };
    // (Not `y`: a plain `y` is a boolean to kubectl's YAML 1.1 reader.)
    let before = fingerprints(&format!("{}---\n{}", pod("p1"), pod("p2")));
    let after = fingerprints(&format!("{}---\n# moved\n\n{}", pod("p2"), pod("p1")));
    assert_eq!(before.len(), 2);
    assert_eq!(before, after);
    assert_ne!(before[0].1, before[1].1);
}

#[test]
fn check_junit_has_a_case_per_object_with_failures_carrying_the_message() {
    let xml = run(&["check", "-f", DEMO, "--level", "restricted", "-o", "junit"], 1);
    let report = quick_junit::Report::deserialize_from_str(&xml).unwrap();
    let report_json = json(&["check", "-f", DEMO, "--level", "restricted", "-o", "json"], 1);
    let objects = report_json["summary"]["objects"].as_u64().unwrap() as usize;
    let denied = report_json["summary"]["denied"].as_u64().unwrap() as usize;
    let suite = &report.test_suites[0];
    assert_eq!(suite.name.as_str(), "objects");
    assert_eq!(suite.test_cases.len(), objects);
    let failures: Vec<_> = suite
        .test_cases
        .iter()
        .filter(|c| !matches!(c.status, quick_junit::TestCaseStatus::Success { .. }))
        .collect();
    assert_eq!(failures.len(), denied);
    let exporter = suite
        .test_cases
        .iter()
        .find(|c| c.name.as_str() == "DaemonSet monitoring/node-exporter")
        .unwrap();
    assert_eq!(exporter.classname.as_ref().map(|c| c.as_str()), Some("monitoring"));
    match &exporter.status {
        quick_junit::TestCaseStatus::NonSuccess { message, .. } => {
            let message = message.as_ref().unwrap().as_str();
            assert!(
                message.starts_with(
                    "would violate PodSecurity \"restricted:latest\": host namespaces"
                ),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
}

/// inventory, map and plan print SARIF and JUnit too; other commands refuse with exit 2.
#[test]
fn inventory_map_and_plan_print_sarif_and_junit() {
    for command in ["inventory", "map"] {
        let v = sarif(&[command, "-f", DEMO, "-o", "sarif"], 0);
        let results = v["runs"][0]["results"].as_array().unwrap();
        let findings =
            json(&[command, "-f", DEMO, "-o", "json"], 0)["findings"].as_array().unwrap().len();
        assert_eq!(results.len(), findings, "{command}");
        for r in results {
            assert!(r["ruleIndex"].as_u64().unwrap() >= 19, "{command}: findings only: {r}");
        }
        let xml = run(&[command, "-f", DEMO, "-o", "junit"], 0);
        let report = quick_junit::Report::deserialize_from_str(&xml).unwrap();
        assert!(report.tests > 0, "{command}");
    }
    let v = sarif(&["inventory", "-f", DEMO, "-o", "sarif"], 0);
    let results = v["runs"][0]["results"].as_array().unwrap();
    assert!(!results.is_empty(), "the demo has findings");
    // Every finding is placed in the file of its object (pods, workloads, RBAC objects, PSPs).
    for r in results {
        let region = &r["locations"][0]["physicalLocation"]["region"];
        assert!(region["startLine"].is_u64(), "{r}");
    }
    // --fail-on warning turns warning findings into failed cases (and exit 1).
    let xml = run(&["inventory", "-f", DEMO, "-o", "junit", "--fail-on", "warning"], 1);
    let report = quick_junit::Report::deserialize_from_str(&xml).unwrap();
    assert!(report.failures > 0);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("plan");
    let out = out.to_str().unwrap();
    let v = sarif(&["plan", "-f", DEMO, "--out", out, "-o", "sarif"], 0);
    let results = v["runs"][0]["results"].as_array().unwrap();
    assert!(results.iter().any(|r| r["ruleId"] == "pss-level-denied"), "blocking objects");
    let xml = run(&["plan", "-f", DEMO, "--out", out, "--force", "-o", "junit"], 0);
    let report = quick_junit::Report::deserialize_from_str(&xml).unwrap();
    let plan = json(&["plan", "-f", DEMO, "--out", out, "--force", "-o", "json"], 0);
    let namespaces = plan["namespaces"].as_array().unwrap();
    assert_eq!(report.test_suites[0].name.as_str(), "namespaces");
    assert_eq!(report.test_suites[0].test_cases.len(), namespaces.len());
    let blocked =
        namespaces.iter().filter(|n| !n["blocking"].as_array().unwrap().is_empty()).count();
    assert!(blocked > 0);
    assert!(report.test_suites[0].failures >= blocked);
    let never = dir.path().join("never");
    let never = never.to_str().unwrap();
    for args in [
        &["export", "--out", never][..],
        &["admit", "-f", DEMO],
        &["schema", "check"],
        &["fix", "-f", DEMO, "--out", never],
        &["custom-resources"],
    ] {
        let out = cmd().args(args).args(["-o", "sarif"]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!dir.path().join("never").exists(), "{args:?} wrote nothing");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("-o sarif is for check, inventory, map and plan"), "{stderr}");
    }
}

const PODS: &str = "\
apiVersion: v1
kind: Pod
metadata: {name: agent, namespace: kube-system}
spec:
  hostNetwork: true
  containers: [{name: c, image: i}]
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop}
spec:
  containers:
  - name: c
    image: i
    ports: [{containerPort: 80, hostPort: 80}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  template:
    spec:
      containers: [{name: c, image: i}]
";

/// Excluded objects and checks are reported as excluded and never counted.
#[test]
fn exclusions_are_reported_and_do_not_count() {
    let check = |extra: &[&str], code: i32| {
        let mut c = cmd();
        c.args(["check", "-f", "-", "--level", "baseline"]).args(extra).write_stdin(PODS);
        let out = c.output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(code),
            "{extra:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let text = check(&[], 1);
    assert!(text.ends_with("3 objects checked against PodSecurity \"baseline:latest\": 1 allowed, 2 would violate\n"), "{text}");
    let text = check(&["--exclude", "pod/kube-*/*", "--exclude-check", "hostPorts"], 0);
    assert_eq!(
        text,
        "Pod kube-system/agent: excluded by \"pod/kube-*/*\": would violate PodSecurity \"baseline:latest\": host namespaces (hostNetwork=true)\n\
         Pod shop/web: excluded checks: hostPort (container \"c\" uses hostPort 80)\n\
         3 objects checked against PodSecurity \"baseline:latest\": 2 allowed, 0 would violate, 1 excluded\n"
    );
    let v: Value = serde_json::from_str(&check(
        &["--exclude", "pod/kube-*/*", "--exclude-check", "hostPorts", "-o", "json"],
        0,
    ))
    .unwrap();
    assert_eq!(v["excludedChecks"], serde_json::json!(["hostPorts"]));
    assert_eq!(v["excludedObjects"], serde_json::json!(["pod/kube-*/*"]));
    assert_eq!(v["summary"]["excluded"], 1);
    let agent = &v["results"][0];
    assert_eq!(
        (agent["name"].as_str(), agent["excluded"].as_str(), agent["allowed"].as_bool()),
        (Some("agent"), Some("pod/kube-*/*"), Some(false))
    );
    let web = v["results"].as_array().unwrap().iter().find(|r| r["name"] == "web").unwrap();
    assert_eq!(web["allowed"], true);
    assert_eq!(web["violations"], serde_json::json!([]));
    assert_eq!(web["excludedViolations"][0]["check"], "hostPorts");
    // SARIF: the excluded results are there, suppressed.
    let v: Value = serde_json::from_str(&check(
        &["--exclude", "pod/kube-*/*", "--exclude-check", "hostPorts", "-o", "sarif"],
        0,
    ))
    .unwrap();
    let results = v["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    for r in results {
        assert_eq!(r["suppressions"][0]["kind"], "external", "{r}");
    }
    // JUnit: the excluded object is skipped.
    let xml = check(&["--exclude", "Pod/kube-system/agent", "-o", "junit"], 1);
    let report = quick_junit::Report::deserialize_from_str(&xml).unwrap();
    assert_eq!((report.tests, report.failures), (3, 1));
    assert!(matches!(
        report.test_suites[0].test_cases[0].status,
        quick_junit::TestCaseStatus::Skipped { .. }
    ));
    // Bad patterns and unknown checks are usage errors.
    for (args, message) in [
        (
            &["--exclude", "kube-system/*"][..],
            "invalid --exclude pattern \"kube-system/*\": expected KIND/NAMESPACE/NAME",
        ),
        (&["--exclude", "Pod/[/x"][..], "invalid --exclude pattern \"Pod/[/x\""),
        (
            &["--exclude-check", "hostPort"][..],
            "unknown check \"hostPort\" for --exclude-check; the checks are: allowPrivilegeEscalation, ",
        ),
    ] {
        let out = cmd()
            .args(["check", "-f", "-", "--level", "baseline"])
            .args(args)
            .write_stdin(PODS)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(message), "{stderr}");
    }
}

/// `--fail-on` as inventory has it: violations are errors, findings keep their severity.
#[test]
fn check_fail_on_counts_findings_by_their_severity() {
    let dup = format!(
        "{PODS}---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: api, namespace: shop}}\nspec:\n  template:\n    spec:\n      containers: [{{name: c, image: i}}]\n"
    );
    let code = |extra: &[&str]| {
        let out = cmd()
            .args(["check", "-f", "-", "-q"])
            .args(extra)
            .write_stdin(dup.clone())
            .output()
            .unwrap();
        out.status.code()
    };
    // The duplicate Deployment is a warning (input-duplicate-object).
    assert_eq!(code(&[]), Some(0));
    assert_eq!(code(&["--fail-on", "warning"]), Some(1));
    assert_eq!(code(&["--level", "baseline", "--exclude", "*/*/*"]), Some(0));
    assert_eq!(code(&["--level", "baseline", "--exclude", "*/*/*", "--fail-on", "info"]), Some(1));
    assert_eq!(code(&["--level", "baseline"]), Some(1));
}

/// The nearest `.psa-migrate.yaml` holds the defaults; flags win; exclusions add up.
#[test]
fn config_file_sets_defaults_found_upward() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".psa-migrate.yaml"),
        "level: baseline\noutput: json\nexclude: [Pod/kube-system/*]\n",
    )
    .unwrap();
    let deep = dir.path().join("charts/app");
    std::fs::create_dir_all(&deep).unwrap();
    std::fs::write(deep.join("pods.yaml"), PODS).unwrap();
    let run_in = |args: &[&str]| {
        let out = cmd().current_dir(&deep).args(args).output().unwrap();
        (
            out.status.code(),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let (code, stdout, stderr) = run_in(&["check", "-f", "pods.yaml"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("notice: defaults from "), "{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["level"], "baseline");
    assert_eq!(v["summary"]["excluded"], 1);
    assert_eq!(v["summary"]["denied"], 1);
    // Flags win; exclusions add up.
    let (code, stdout, _) = run_in(&[
        "check",
        "-f",
        "pods.yaml",
        "-o",
        "text",
        "--level",
        "privileged",
        "--exclude",
        "Pod/shop/*",
    ]);
    assert_eq!(code, Some(0));
    assert!(stdout.ends_with("1 allowed, 0 would violate, 2 excluded\n"), "{stdout}");
    // --no-config reads none; --config reads another.
    let (_, stdout, stderr) = run_in(&["check", "-f", "pods.yaml", "--no-config"]);
    assert!(!stderr.contains("defaults from"), "{stderr}");
    assert!(stdout.contains("(no level judged)"), "{stdout}");
    std::fs::write(dir.path().join("strict.yaml"), "level: restricted\nfailOn: warning\n").unwrap();
    let (code, stdout, _) = run_in(&["check", "-f", "pods.yaml", "--config", "../../strict.yaml"]);
    assert_eq!(code, Some(1));
    assert!(stdout.ends_with("0 allowed, 3 would violate\n"), "{stdout}");
    // A bad config is a usage error naming the file and line.
    std::fs::write(dir.path().join("bad.yaml"), "level: baseline\nexclude: [Pod]\n").unwrap();
    let (code, _, stderr) = run_in(&["check", "-f", "pods.yaml", "--config", "../../bad.yaml"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("bad.yaml (line 2): invalid --exclude pattern \"Pod\""), "{stderr}");
}

#[test]
fn summary_table_by_namespace_and_kind() {
    let out = cmd()
        .args([
            "check",
            "-f",
            "-",
            "--level",
            "baseline",
            "--summary",
            "--exclude",
            "Pod/kube-system/*",
        ])
        .write_stdin(PODS)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let summary = text.split_once("\n\n").map(|(_, s)| s).unwrap();
    assert_eq!(
        summary,
        "NAMESPACE    KIND        OBJECTS  ALLOWED  DENIED  EXCLUDED\n\
         kube-system  Pod         1        0        0       1\n\
         shop         Deployment  1        1        0       0\n\
         shop         Pod         1        0        1       0\n"
    );
}

/// The pre-commit hook runs `psa-migrate check` with the file names appended: they are read as
/// with -f.
#[test]
fn pre_commit_hook_passes_file_names() {
    let hooks: Value = serde_saphyr::from_str(
        &std::fs::read_to_string(repo().join(".pre-commit-hooks.yaml")).unwrap(),
    )
    .unwrap();
    let hook = &hooks[0];
    assert_eq!(hook["id"], "psa-migrate-check");
    let entry: Vec<&str> = hook["entry"].as_str().unwrap().split_whitespace().collect();
    assert_eq!(entry[0], "psa-migrate");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.yaml"), PODS).unwrap();
    std::fs::write(dir.path().join("b.json"), "{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"ok\", \"namespace\": \"x\"}, \"spec\": {\"containers\": [{\"name\": \"c\", \"image\": \"i\"}]}}").unwrap();
    let out = cmd()
        .current_dir(dir.path())
        .args(&entry[1..])
        .args(["--level", "baseline", "a.yaml", "b.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.ends_with("4 objects checked against PodSecurity \"baseline:latest\": 2 allowed, 2 would violate\n"), "{stdout}");
}
