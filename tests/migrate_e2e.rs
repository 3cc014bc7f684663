//! `diff`, `apply` and `rollback` end to end against the fake API server serving
//! `testdata/clusters/ml-platform` (Kubernetes 1.24): the plan is written from the same directory
//! with `-f`, then diffed, applied step by step and rolled back through the binary, with faults
//! injected (crashes between namespaces, a concurrent label change) and the PodSecurity warnings
//! of the fake's dry runs.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;

use crate::support::fake_api::{CrashMode, FakeApiHandle, Faults};
use crate::support::served::{Served, as_real_server, serve};

const ENFORCE: &str = "pod-security.kubernetes.io/enforce";
const ENFORCE_VERSION: &str = "pod-security.kubernetes.io/enforce-version";
const AUDIT: &str = "pod-security.kubernetes.io/audit";

pub(crate) type Labels = BTreeMap<String, String>;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture() -> PathBuf {
    repo().join("testdata/clusters/ml-platform")
}

/// A fake serving the fixture as a real server would, a kubeconfig for it, and a plan of the
/// fixture (written with `-f`) in a temporary directory.
pub(crate) struct Env {
    pub(crate) api: FakeApiHandle,
    tmp: tempfile::TempDir,
    kubeconfig: PathBuf,
    pub(crate) plan: PathBuf,
}

pub(crate) fn start(faults: Faults) -> Env {
    start_at("1.24", faults)
}

/// The demo cluster served as Kubernetes `version`, planned from its export.
pub(crate) fn start_at(version: &str, faults: Faults) -> Env {
    let Served { api, tmp, kubeconfig } =
        serve(as_real_server(&fixture()).version(version).faults(faults));
    let plan = tmp.path().join("plan");
    let out = cargo_bin_cmd!("psa-migrate")
        .current_dir(repo())
        .args(["plan", "-q", "-f"])
        .arg(fixture())
        .arg("--out")
        .arg(&plan)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "plan failed: {}", stderr(&out));
    Env { api, tmp, kubeconfig, plan }
}

impl Env {
    /// Runs the binary against the fake with the plan directory (`--plan` is added after the
    /// subcommand).
    pub(crate) fn run(&self, args: &[&str]) -> Output {
        let mut c = cargo_bin_cmd!("psa-migrate");
        c.current_dir(repo())
            .env_remove("KUBECONFIG")
            .env("TERM", "dumb")
            .arg(args[0])
            .arg("--plan")
            .arg(&self.plan)
            .args(&args[1..])
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .timeout(Duration::from_secs(120));
        c.output().unwrap()
    }

    /// Runs and requires an exit code.
    pub(crate) fn expect(&self, args: &[&str], code: i32) -> Output {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "psa-migrate {args:?}\nstdout:\n{}\nstderr:\n{}",
            stdout(&out),
            stderr(&out)
        );
        out
    }

    fn plan_json(&self) -> Value {
        serde_json::from_str(&std::fs::read_to_string(self.plan.join("plan.json")).unwrap())
            .unwrap()
    }

    /// Writes plan.json as `plan` would: sealed with its digest (an edit a new plan would make).
    fn write_plan_json(&self, v: &Value) {
        let mut v = v.clone();
        v["digest"] = psa_migrate::plan_files::plan_digest(&v).into();
        self.write_plan_json_unsealed(&v);
    }

    /// Writes plan.json as given (a hand edit).
    fn write_plan_json_unsealed(&self, v: &Value) {
        std::fs::write(self.plan.join("plan.json"), serde_json::to_string_pretty(v).unwrap())
            .unwrap();
    }

    fn journal(&self) -> Value {
        let text = std::fs::read_to_string(self.plan.join("journal.json")).expect("journal.json");
        serde_json::from_str(&text).unwrap()
    }

    /// Every namespace's labels on the fake.
    pub(crate) fn labels(&self) -> BTreeMap<String, Labels> {
        self.api
            .names("v1", "namespaces")
            .into_iter()
            .map(|n| {
                let l = self.api.namespace_labels(&n).unwrap();
                (n, l)
            })
            .collect()
    }

    /// The plan's namespaces: (name, planned labels), exempt ones left out.
    fn planned(&self) -> Vec<(String, Labels)> {
        self.plan_json()["namespaces"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| !n["exempt"].as_bool().unwrap())
            .map(|n| {
                let labels = serde_json::from_value(n["plannedLabels"].clone()).unwrap();
                (n["name"].as_str().unwrap().to_owned(), labels)
            })
            .collect()
    }

    /// `before` with the plan's labels of `steps` applied.
    fn expected(
        &self,
        before: &BTreeMap<String, Labels>,
        steps: &[u32],
    ) -> BTreeMap<String, Labels> {
        let mut out = before.clone();
        for (ns, planned) in self.planned() {
            let labels = out.get_mut(&ns).unwrap();
            for (k, v) in planned {
                let step = if k.starts_with(ENFORCE) { 2 } else { 1 };
                if steps.contains(&step) {
                    labels.insert(k, v);
                }
            }
        }
        out
    }

    /// Non-dry-run PATCH requests received since the log was last cleared.
    fn real_patches(&self) -> Vec<String> {
        self.api
            .requests()
            .into_iter()
            .filter(|r| r.method == "PATCH" && !r.dry_run)
            .map(|r| r.path)
            .collect()
    }
}

pub(crate) fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub(crate) fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The journal's entries of one action.
fn entries<'a>(journal: &'a Value, action: &str) -> Vec<&'a Value> {
    journal["entries"].as_array().unwrap().iter().filter(|e| e["action"] == action).collect()
}

fn label_entry<'a>(journal: &'a Value, ns: &str, step: u64) -> Option<&'a Value> {
    entries(journal, "labels").into_iter().find(|e| e["namespace"] == ns && e["step"] == step)
}

#[test]
fn plan_diff_apply_diff_noop_rollback() {
    let env = start(Faults::none());
    let original = env.labels();

    // diff: everything would change.
    let out = env.expect(&["diff"], 1);
    let text = stdout(&out);
    assert!(
        text.contains(
            "--- namespace/data-pipelines (live)\n+++ namespace/data-pipelines (plan steps 1-2)\n"
        ),
        "{text}"
    );
    assert!(text.contains("+pod-security.kubernetes.io/enforce: baseline\n"), "{text}");
    assert!(text.contains("+pod-security.kubernetes.io/enforce-version: v1.24\n"), "{text}");
    // Existing labels are context, not changes.
    assert!(text.contains("\n pod-security.kubernetes.io/warn: baseline\n"), "{text}");
    assert!(text.trim_end().ends_with("9 namespaces would change"), "{text}");
    assert!(!text.contains('\x1b'), "no colour without a terminal");
    let step1 = stdout(&env.expect(&["diff", "--step", "1"], 1));
    assert!(!step1.contains(ENFORCE), "{step1}");
    assert!(step1.contains("(plan step 1)"), "{step1}");
    assert_eq!(env.api.writes(), 0, "diff never writes");

    // Step 1: audit and warn only.
    let out = env.expect(&["apply", "--step", "1", "--yes"], 0);
    assert!(stdout(&out).contains("namespace/data-pipelines labeled (step 1)"), "{}", stdout(&out));
    assert_eq!(env.labels(), env.expected(&original, &[1]));
    // Step 2: enforce; the plan never enforces what rejects a running pod. The server still
    // warns about a finished pod in `default` (it evaluates every existing pod), which does not
    // stop the step.
    env.api.clear_requests();
    let out = env.expect(&["apply", "--step", "2", "--yes"], 0);
    let err = stderr(&out);
    assert!(err.contains("the pods the server warns about have all finished (curl-test)"), "{err}");
    assert_eq!(err.matches("violate the new PodSecurity enforce level").count(), 1, "{err}");
    assert_eq!(env.labels(), env.expected(&original, &[1, 2]));
    for (ns, planned) in env.planned() {
        let live = env.api.namespace_labels(&ns).unwrap();
        assert!(
            planned.iter().all(|(k, v)| live.get(k) == Some(v)),
            "{ns}: {live:?} vs {planned:?}"
        );
    }
    // Every real write was preceded by a dry run of the same patch, with the resourceVersion
    // precondition, as a merge patch.
    let reqs = env.api.requests();
    let patches: Vec<_> = reqs.iter().filter(|r| r.method == "PATCH").collect();
    assert!(!patches.is_empty());
    for pair in patches.chunks(2) {
        assert!(
            pair[0].dry_run && !pair[1].dry_run,
            "{:?}",
            pair.iter().map(|r| &r.path).collect::<Vec<_>>()
        );
        assert_eq!(pair[0].path, pair[1].path);
        assert_eq!(pair[0].body, pair[1].body);
        assert_eq!(pair[1].content_type.as_deref(), Some("application/merge-patch+json"));
        let body: Value = serde_json::from_str(&pair[1].body).unwrap();
        assert!(body["metadata"]["resourceVersion"].is_string(), "{body}");
    }
    let journal = env.journal();
    assert_eq!(journal["schemaVersion"], "psa-migrate.journal/v2");
    crate::support::schema::assert_valid("journal", &journal, "the journal after apply");
    let labels = entries(&journal, "labels");
    assert_eq!(labels.len(), 18, "9 namespaces × 2 steps");
    assert!(labels.iter().all(|e| e["state"] == "applied"), "{journal:#}");
    let dp = label_entry(&journal, "data-pipelines", 2).unwrap();
    assert_eq!(dp["previous"][ENFORCE], Value::Null);
    assert_eq!(dp["written"][ENFORCE], "baseline");

    // Nothing left to do: diff exits 0 and apply writes nothing.
    let out = env.expect(&["diff"], 0);
    assert_eq!(stdout(&out), "no changes\n");
    env.api.clear_requests();
    let out = env.expect(&["apply", "--yes"], 0);
    assert!(stdout(&out).contains("no changes"), "{}", stdout(&out));
    assert!(env.real_patches().is_empty());
    assert!(
        env.api.requests().iter().all(|r| r.method == "GET"),
        "apply of an applied plan only reads"
    );

    // Rollback: exactly the labels of before.
    let out = env.expect(&["rollback", "--yes"], 0);
    assert!(stdout(&out).contains("namespace/monitoring labels restored"), "{}", stdout(&out));
    assert_eq!(env.labels(), original);
    let journal = env.journal();
    assert!(entries(&journal, "labels").iter().all(|e| e["state"] == "rolled-back"), "{journal:#}");
    // A second rollback has nothing to do.
    let out = env.expect(&["rollback", "--yes"], 0);
    assert!(stdout(&out).contains("nothing to roll back"), "{}", stdout(&out));
    // Re-applying after a rollback keeps the original previous values.
    env.expect(&["apply", "--step", "1", "--yes", "-n", "monitoring"], 0);
    let journal = env.journal();
    let mon = label_entry(&journal, "monitoring", 1).unwrap();
    assert_eq!(mon["state"], "applied");
    assert_eq!(mon["previous"]["pod-security.kubernetes.io/warn"], "baseline");
    assert_eq!(mon["previous"][AUDIT], Value::Null);
}

#[test]
fn crash_between_namespaces_then_resume() {
    let env = start(Faults::none().crash_after_writes(3, CrashMode::ServiceUnavailable));
    let original = env.labels();
    let out = env.run(&["apply", "--step", "1", "--yes"]);
    assert_ne!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("503"), "{}", stderr(&out));
    let journal = env.journal();
    let labels = entries(&journal, "labels");
    assert_eq!(labels.iter().filter(|e| e["state"] == "applied").count(), 3, "{journal:#}");
    let pending: Vec<_> = labels.iter().filter(|e| e["state"] == "pending").collect();
    assert_eq!(pending.len(), 1, "{journal:#}");
    let pending_ns = pending[0]["namespace"].as_str().unwrap().to_owned();
    assert_eq!(
        env.labels()[&pending_ns],
        original[&pending_ns],
        "the crashed write did not happen"
    );

    env.api.faults().clear();
    let out = env.expect(&["apply", "--step", "1", "--yes"], 0);
    assert!(stderr(&out).contains("pending"), "{}", stderr(&out));
    assert_eq!(env.labels(), env.expected(&original, &[1]));
    let journal = env.journal();
    let entry = label_entry(&journal, &pending_ns, 1).unwrap();
    assert_eq!(entry["state"], "applied");
    assert_eq!(entry["previous"][AUDIT], Value::Null, "the original previous values are kept");
    assert!(entries(&journal, "labels").iter().all(|e| e["state"] == "applied"));
}

#[test]
fn crash_then_rollback_restores_the_original_labels() {
    let env = start(Faults::none().crash_after_writes(4, CrashMode::DropConnection));
    let original = env.labels();
    let out = env.run(&["apply", "--yes"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_ne!(env.labels(), original, "some namespaces were written before the crash");
    assert_eq!(
        env.journal()["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["state"] == "pending")
            .count(),
        1
    );
    env.api.faults().clear();
    env.expect(&["rollback", "--yes"], 0);
    assert_eq!(env.labels(), original);
}

/// A plan edited to enforce `restricted` where pods only pass `baseline`.
fn tighten_notebooks(env: &Env) {
    let mut plan = env.plan_json();
    let ns = plan["namespaces"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|n| n["name"] == "notebooks")
        .unwrap();
    assert_eq!(ns["plannedLabels"][ENFORCE], "baseline");
    ns["plannedLabels"][ENFORCE] = "restricted".into();
    ns["plannedLabels"][ENFORCE_VERSION] = "v1.24".into();
    env.write_plan_json(&plan);
}

#[test]
fn enforce_stops_on_psa_warnings_unless_forced() {
    let env = start(Faults::none());
    tighten_notebooks(&env);
    let original = env.labels();
    let out = env.expect(&["apply", "--step", "2", "--yes"], 1);
    let err = stderr(&out);
    assert!(
        err.contains(
            "existing pods in namespace \"notebooks\" violate the new PodSecurity enforce level \"restricted:v1.24\""
        ),
        "{err}"
    );
    assert!(err.contains("--force"), "{err}");
    assert!(!err.contains("PodSecurityPolicy is deprecated"), "{err}");
    assert_eq!(env.labels()["notebooks"], original["notebooks"], "not enforced");
    assert!(!env.real_patches().iter().any(|p| p.ends_with("/notebooks")));
    // The other namespaces went on.
    assert_eq!(env.labels()["data-pipelines"][ENFORCE], "baseline");
    assert!(
        label_entry(&env.journal(), "notebooks", 2).is_none(),
        "nothing journaled for a write not made"
    );

    let out = env.expect(&["apply", "--step", "2", "--yes", "--force"], 0);
    assert!(stderr(&out).contains("violate the new PodSecurity enforce level"), "{}", stderr(&out));
    assert_eq!(env.labels()["notebooks"][ENFORCE], "restricted");
    env.expect(&["rollback", "--yes"], 0);
    assert_eq!(env.labels(), original);
}

#[test]
fn concurrent_label_change_is_a_conflict() {
    // Slow requests leave time to change the namespace between the dry run and the write.
    let env = start(Faults::none().latency_ms(400));
    let child = Command::new(env!("CARGO_BIN_EXE_psa-migrate"))
        .current_dir(repo())
        .env_remove("KUBECONFIG")
        .env("TERM", "dumb")
        .args(["apply", "--step", "1", "--yes", "-n", "data-pipelines", "--plan"])
        .arg(&env.plan)
        .arg("--kubeconfig")
        .arg(&env.kubeconfig)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let dry_run_seen = env.api.requests().iter().any(|r| {
            r.method == "PATCH" && r.dry_run && r.path.ends_with("/namespaces/data-pipelines")
        });
        if dry_run_seen {
            break;
        }
        assert!(Instant::now() < deadline, "no dry run seen");
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut ns = env.api.object("v1", "namespaces", None, "data-pipelines").unwrap();
    ns["metadata"]["labels"]["team"] = "someone-else".into();
    env.api.insert(ns).unwrap();
    let out = child.wait_with_output().unwrap();
    // A conflict is a write that did not complete: exit 2.
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("1 write did not complete"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("namespace data-pipelines changed since it was read; re-run apply"),
        "{}",
        stderr(&out)
    );
    let live = env.api.namespace_labels("data-pipelines").unwrap();
    assert!(!live.contains_key(AUDIT), "{live:?}");
    assert_eq!(live["team"], "someone-else");
    let journal = env.journal();
    assert_eq!(label_entry(&journal, "data-pipelines", 1).unwrap()["state"], "pending");

    // Re-running apply (faster now) completes it.
    env.api.faults().clear();
    env.expect(&["apply", "--step", "1", "--yes", "-n", "data-pipelines"], 0);
    assert_eq!(env.api.namespace_labels("data-pipelines").unwrap()[AUDIT], "restricted");
}

#[test]
fn rollback_refuses_labels_changed_since_apply() {
    let env = start(Faults::none());
    let original = env.labels();
    env.expect(&["apply", "--step", "1", "--yes", "-n", "inference"], 0);
    let mut ns = env.api.object("v1", "namespaces", None, "inference").unwrap();
    ns["metadata"]["labels"][AUDIT] = "restricted".into();
    env.api.insert(ns).unwrap();
    let out = env.expect(&["rollback", "--yes"], 1);
    assert!(stderr(&out).contains("labels changed since apply"), "{}", stderr(&out));
    assert_eq!(env.api.namespace_labels("inference").unwrap()[AUDIT], "restricted");
    env.expect(&["rollback", "--yes", "--force"], 0);
    assert_eq!(env.labels(), original);
}

#[test]
fn label_step_files_apply_with_kubectl() {
    let env = start(Faults::none());
    let Some(kubectl) = std::env::var_os("PATH")
        .and_then(|p| std::env::split_paths(&p).map(|d| d.join("kubectl")).find(|p| p.is_file()))
    else {
        eprintln!(
            "NOTICE: kubectl not found on PATH; skipping the kubectl apply test of the step files"
        );
        return;
    };
    let original = env.labels();
    for (file, label) in [("0001-audit-warn.yaml", "audit"), ("0002-enforce.yaml", "enforce")] {
        let out = Command::new(&kubectl)
            .arg("--kubeconfig")
            .arg(&env.kubeconfig)
            .arg("--cache-dir")
            .arg(env.tmp.path().join("kube-cache"))
            .args([
                "apply",
                "--server-side",
                "--field-manager=psa-migrate",
                "--dry-run=server",
                "-f",
            ])
            .arg(env.plan.join(file))
            .env_remove("KUBECONFIG")
            .env("HOME", env.tmp.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "kubectl apply -f {file}\n{}\n{}",
            stdout(&out),
            stderr(&out)
        );
        let text = stdout(&out);
        assert!(
            text.contains("namespace/data-pipelines serverside-applied (server dry run)"),
            "{label}: {text}"
        );
        assert_eq!(text.lines().count(), 9, "{text}");
    }
    assert_eq!(env.labels(), original, "a server dry run changes nothing");
    assert_eq!(env.api.writes(), 0);
}

#[test]
fn refuses_without_terminal_and_with_files() {
    let env = start(Faults::none());
    let out = env.expect(&["apply"], 2);
    assert!(stderr(&out).contains("stdin is not a terminal"), "{}", stderr(&out));
    assert!(stdout(&out).contains("+pod-security.kubernetes.io/audit"), "the diff is shown first");
    assert_eq!(env.api.writes(), 0);
    let fixture = fixture().display().to_string();
    let out = env.expect(&["apply", "--yes", "-f", &fixture], 2);
    assert!(stderr(&out).contains("cannot use -f"), "{}", stderr(&out));
    let out = env.expect(&["rollback", "--yes", "-f", &fixture], 2);
    assert!(stderr(&out).contains("cannot use -f"), "{}", stderr(&out));
    let out = env.expect(&["apply", "--step", "2", "--through", "3"], 2);
    assert!(stderr(&out).contains("cannot be used with"), "{}", stderr(&out));
    assert_eq!(env.api.writes(), 0);
    // diff reads -f input too, and checks the schema version.
    let out = env.expect(&["diff", "-f", &fixture, "-n", "monitoring"], 1);
    assert!(stdout(&out).contains("--- namespace/monitoring (input)"), "{}", stdout(&out));
    let mut plan = env.plan_json();
    plan["schemaVersion"] = "psa-migrate.plan/v0".into();
    env.write_plan_json(&plan);
    let out = env.expect(&["diff"], 2);
    assert!(stderr(&out).contains("schemaVersion is \"psa-migrate.plan/v0\""), "{}", stderr(&out));
}

fn bypass_objects(env: &Env) -> Vec<(&'static str, &'static str, Option<String>, &'static str)> {
    let mut v = vec![
        ("policy/v1beta1", "podsecuritypolicies", None, "psa-migrate-privileged"),
        ("rbac.authorization.k8s.io/v1", "clusterroles", None, "psa-migrate:privileged-psp"),
    ];
    for ns in env.plan_json()["pspBypass"]["namespaces"].as_array().unwrap() {
        v.push((
            "rbac.authorization.k8s.io/v1",
            "rolebindings",
            Some(ns.as_str().unwrap().to_owned()),
            "disable-psp",
        ));
    }
    v
}

#[test]
fn step_3_bypass_apply_and_rollback() {
    let env = start(Faults::none());
    let objects = bypass_objects(&env);
    assert!(objects.len() > 2);
    let exists = |(gv, plural, ns, name): &(&str, &str, Option<String>, &str)| {
        env.api.object(gv, plural, ns.as_deref(), name).is_some()
    };
    assert!(!objects.iter().any(exists));
    // The default steps never include the bypass.
    let out = env.expect(&["apply", "--step", "3", "--yes"], 0);
    assert!(
        stdout(&out).contains("PodSecurityPolicy psa-migrate-privileged created (step 3)"),
        "{}",
        stdout(&out)
    );
    assert!(objects.iter().all(exists));
    let applies: Vec<_> = env.api.requests().into_iter().filter(|r| r.method == "PATCH").collect();
    assert_eq!(applies.len(), 2 * objects.len());
    assert!(
        applies.iter().all(|r| r.content_type.as_deref() == Some("application/apply-patch+yaml")
            && r.param("fieldManager") == Some("psa-migrate"))
    );
    assert_eq!(entries(&env.journal(), "create").len(), objects.len());
    // Again: nothing to do.
    let out = env.expect(&["apply", "--step", "3", "--yes"], 0);
    assert!(stdout(&out).contains("no changes"), "{}", stdout(&out));
    env.expect(&["rollback", "--yes"], 0);
    assert!(!objects.iter().any(exists));

    // Refused when the plan says PSP admission is off.
    let mut plan = env.plan_json();
    plan["pspAdmissionActive"] = false.into();
    env.write_plan_json(&plan);
    let out = env.expect(&["apply", "--step", "3", "--yes"], 2);
    assert!(stderr(&out).contains("refusing step 3"), "{}", stderr(&out));
}

#[test]
fn step_4_cleanup_refused_while_pods_use_psps_then_forced_and_rolled_back() {
    let env = start(Faults::none());
    // Step 3 first: step 4 also deletes what it created (the disable-psp bindings, the bypass
    // ClusterRole and PSP), which exist only after it.
    env.expect(&["apply", "--step", "3", "--yes"], 0);
    let bypass: Vec<(Option<String>, String)> =
        bypass_objects(&env).into_iter().map(|(_, _, ns, name)| (ns, name.to_owned())).collect();
    let delete: Vec<(String, Option<String>, String)> = env.plan_json()["cleanup"]["delete"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["kind"].as_str().unwrap().to_owned(),
                r["namespace"].as_str().map(str::to_owned),
                r["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let get = |(kind, ns, name): &(String, Option<String>, String)| {
        let (gv, plural) = match kind.as_str() {
            "PodSecurityPolicy" => ("policy/v1beta1", "podsecuritypolicies"),
            "ClusterRole" => ("rbac.authorization.k8s.io/v1", "clusterroles"),
            "ClusterRoleBinding" => ("rbac.authorization.k8s.io/v1", "clusterrolebindings"),
            "Role" => ("rbac.authorization.k8s.io/v1", "roles"),
            _ => ("rbac.authorization.k8s.io/v1", "rolebindings"),
        };
        env.api.object(gv, plural, ns.as_deref(), name)
    };
    assert!(delete.iter().any(|(k, ns, n)| k == "RoleBinding"
        && ns.as_deref() == Some("data-pipelines")
        && n == "disable-psp"));
    let before: Vec<Value> = delete.iter().map(|r| get(r).expect("existing object")).collect();
    let writes = env.api.writes();

    let out = env.expect(&["apply", "--step", "4", "--yes"], 2);
    assert!(stderr(&out).contains("refusing step 4"), "{}", stderr(&out));
    assert!(stderr(&out).contains("privileged ("), "{}", stderr(&out));
    assert_eq!(env.api.writes(), writes);

    let out = env.expect(&["apply", "--step", "4", "--yes", "--force"], 0);
    assert!(
        stdout(&out).contains("PodSecurityPolicy privileged deleted (step 4)"),
        "{}",
        stdout(&out)
    );
    assert!(delete.iter().all(|r| get(r).is_none()));
    let journal = env.journal();
    crate::support::schema::assert_valid("journal", &journal, "the journal after step 4");
    let deleted = entries(&journal, "delete");
    assert_eq!(deleted.len(), delete.len());
    assert!(deleted.iter().all(|e| e["manifest"]["metadata"]["name"].is_string()));

    assert!(
        stdout(&out).contains("RoleBinding data-pipelines/disable-psp deleted (step 4)"),
        "{}",
        stdout(&out)
    );

    // Rollback undoes step 4 (re-creating everything it deleted, the bypass objects included),
    // then step 3 (deleting the bypass objects again): the cluster is as before the migration.
    let out = env.expect(&["rollback", "--yes"], 0);
    let text = stdout(&out);
    assert!(
        text.contains("RoleBinding data-pipelines/disable-psp re-created (rollback of step 4)"),
        "{text}"
    );
    assert!(
        text.contains("RoleBinding data-pipelines/disable-psp deleted (rollback of step 3)"),
        "{text}"
    );
    for (r, old) in delete.iter().zip(&before) {
        if bypass.iter().any(|(ns, name)| *ns == r.1 && *name == r.2) {
            assert!(get(r).is_none(), "{r:?}: created by step 3, gone after the rollback");
            continue;
        }
        let new = get(r).unwrap_or_else(|| panic!("{r:?} not re-created"));
        for field in ["spec", "rules", "roleRef", "subjects"] {
            assert_eq!(new.get(field), old.get(field), "{r:?}: {field}");
        }
        assert_eq!(new["metadata"].get("labels"), old["metadata"].get("labels"), "{r:?}");
    }
}

/// `diff`, `apply` and `rollback` refuse a migration directory whose files differ from what
/// `plan` wrote, naming the file; files added beside them do not matter.
#[test]
fn edited_plan_files_are_refused() {
    let env = start(Faults::none());
    let path = |f: &str| env.plan.join(f);
    let read = |f: &str| std::fs::read_to_string(path(f)).unwrap();
    // Beside the plan: a journal, notes. Not part of it.
    std::fs::write(path("NOTES.md"), "reviewed\n").unwrap();
    env.expect(&["diff"], 1);

    // An edited step 2 file was silently ignored (apply writes from plan.json): now refused.
    let enforce = read("0002-enforce.yaml");
    std::fs::write(path("0002-enforce.yaml"), enforce.replace("baseline", "privileged")).unwrap();
    for args in [&["diff"][..], &["apply", "--yes"], &["rollback", "--yes"]] {
        let out = env.expect(args, 2);
        let err = stderr(&out);
        assert!(err.contains("0002-enforce.yaml: changed since plan wrote it"), "{args:?}: {err}");
        assert!(err.contains("re-run psa-migrate plan"), "{err}");
    }
    std::fs::write(path("0002-enforce.yaml"), &enforce).unwrap();

    // An object appended to the step 4 file was obeyed: now refused.
    let cleanup = read("0004-cleanup.yaml");
    std::fs::write(
        path("0004-cleanup.yaml"),
        format!(
            "{cleanup}---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: cluster-admin\n"
        ),
    )
    .unwrap();
    let out = env.expect(&["apply", "--step", "4", "--yes", "--force"], 2);
    assert!(stderr(&out).contains("0004-cleanup.yaml: changed"), "{}", stderr(&out));
    assert!(!stdout(&out).contains("cluster-admin"), "{}", stdout(&out));
    std::fs::write(path("0004-cleanup.yaml"), &cleanup).unwrap();

    // A missing file.
    let report = read("REPORT.md");
    std::fs::remove_file(path("REPORT.md")).unwrap();
    let out = env.expect(&["apply", "--step", "1", "--yes"], 2);
    assert!(stderr(&out).contains("REPORT.md: missing"), "{}", stderr(&out));
    std::fs::write(path("REPORT.md"), &report).unwrap();

    // plan.json edited by hand (its digest no longer matches), or without digests at all.
    let original = env.plan_json();
    let mut edited = original.clone();
    edited["namespaces"][0]["plannedLabels"][ENFORCE] = "privileged".into();
    env.write_plan_json_unsealed(&edited);
    let out = env.expect(&["apply", "--yes"], 2);
    assert!(stderr(&out).contains("plan.json: edited since it was written"), "{}", stderr(&out));
    let mut old = original.clone();
    old.as_object_mut().unwrap().remove("files");
    old.as_object_mut().unwrap().remove("digest");
    env.write_plan_json_unsealed(&old);
    let out = env.expect(&["diff"], 2);
    assert!(stderr(&out).contains("re-run psa-migrate plan"), "{}", stderr(&out));
    assert_eq!(env.api.writes(), 0, "nothing written from a changed directory");

    // Restored, it works again (re-indented: the digest is of the content).
    env.write_plan_json_unsealed(&original);
    env.expect(&["apply", "--step", "1", "--yes", "-n", "monitoring"], 0);
}

/// A privileged pod.
fn privileged_pod(ns: &str, name: &str) -> Value {
    serde_json::json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"containers": [{"name": "c", "image": "busybox",
                                 "securityContext": {"privileged": true}}]},
        "status": {"phase": "Running"}
    })
}

/// Objects created after planning that the enforce level rejects stop that namespace (the
/// other namespaces go on); `--force` goes on. A workload template is never checked by the
/// server's dry run: only the re-verification sees it.
/// Re-verification lists each namespace's pods in pages of `--chunk-size`, like every other
/// list, and follows the continue tokens to the end.
#[test]
fn reverification_pages_with_the_chunk_size() {
    let env = start(Faults::none());
    env.api.clear_requests();
    env.expect(&["apply", "--step", "2", "--yes", "--chunk-size", "1"], 0);
    let pods = env.api.requests_to("/namespaces/notebooks/pods");
    assert!(pods.len() > 1, "several pages of one pod: {pods:?}");
    for r in &pods {
        assert!(r.params.iter().any(|(k, v)| k == "limit" && v == "1"), "{r:?}");
    }
    assert!(
        pods.iter().skip(1).all(|r| r.params.iter().any(|(k, _)| k == "continue")),
        "later pages continue: {pods:?}"
    );
}

#[test]
fn enforce_reverifies_objects_created_after_planning() {
    let env = start(Faults::none());
    let original = env.labels();
    assert_eq!(env.plan_json()["namespaces"][8]["name"], "notebooks");
    env.api
        .insert(serde_json::json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "late-arrival", "namespace": "notebooks"},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "x"}},
                     "template": {"metadata": {"labels": {"app": "x"}},
                                  "spec": {"hostNetwork": true,
                                           "containers": [{"name": "c", "image": "i"}]}}}
        }))
        .unwrap();
    let out = env.expect(&["apply", "--step", "2", "--yes"], 1);
    let err = stderr(&out);
    assert!(
        err.contains("namespace/notebooks (step 2) not applied: enforce baseline:v1.24 would reject 1 object live now: Deployment late-arrival: host namespaces (hostNetwork=true)"),
        "{err}"
    );
    assert!(err.contains("--force"), "{err}");
    assert!(
        !err.contains("existing pods in namespace \"notebooks\""),
        "the server's dry run saw nothing: {err}"
    );
    assert_eq!(env.labels()["notebooks"], original["notebooks"], "not enforced");
    assert!(label_entry(&env.journal(), "notebooks", 2).is_none(), "nothing journaled");
    assert_eq!(env.labels()["data-pipelines"][ENFORCE], "baseline", "the others went on");

    // A pod too: named with the Deployment.
    env.api.insert(privileged_pod("notebooks", "sneaky")).unwrap();
    let out = env.expect(&["apply", "--step", "2", "--yes", "-n", "notebooks"], 1);
    let err = stderr(&out);
    assert!(err.contains("would reject 2 objects live now: Pod sneaky: privileged"), "{err}");
    assert!(err.contains("; Deployment late-arrival: host namespaces"), "{err}");

    let out = env.expect(&["apply", "--step", "2", "--yes", "-n", "notebooks", "--force"], 0);
    assert!(stderr(&out).contains("enforcing despite the warnings (--force)"), "{}", stderr(&out));
    assert_eq!(env.labels()["notebooks"][ENFORCE], "baseline");
}

/// A plan of input without the export record is partial: apply refuses its namespaces
/// without --force, naming what is missing.
#[test]
fn partial_plans_are_refused_without_force() {
    let mut env = start(Faults::none());
    let input = env.tmp.path().join("no-record");
    std::fs::create_dir(&input).unwrap();
    for entry in std::fs::read_dir(fixture()).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() != "export-record.yaml" {
            std::fs::copy(entry.path(), input.join(entry.file_name())).unwrap();
        }
    }
    let partial = env.tmp.path().join("partial");
    let out = cargo_bin_cmd!("psa-migrate")
        .current_dir(repo())
        .args(["plan", "-q", "-f"])
        .arg(&input)
        .arg("--out")
        .arg(&partial)
        .output()
        .unwrap();
    assert!(partial.join("plan.json").is_file(), "plan failed: {}", stderr(&out));
    env.plan = partial;
    assert_eq!(env.plan_json()["coverage"], "partial");

    let out = env.expect(&["apply", "--step", "1", "--yes"], 1);
    let err = stderr(&out);
    assert!(
        err.contains("namespace/monitoring: the plan's coverage is partial (not known to be complete in the input: "),
        "{err}"
    );
    assert!(err.contains("pods"), "{err}");
    assert!(err.contains("or pass --force"), "{err}");
    assert!(stdout(&out).contains("no changes"), "{}", stdout(&out));
    assert_eq!(env.api.writes(), 0);

    let out = env.expect(&["apply", "--step", "1", "--yes", "--force", "-n", "monitoring"], 0);
    assert!(stderr(&out).contains("applying anyway (--force)"), "{}", stderr(&out));
    assert!(env.api.namespace_labels("monitoring").unwrap().contains_key(AUDIT));
}

fn lock_path(env: &Env) -> PathBuf {
    env.plan.join(".lock")
}

/// Two runs on one plan directory: the second exits 2 naming the first, which finishes with
/// every entry journaled; the lock is gone afterwards.
#[test]
fn one_writer_at_a_time() {
    let env = start(Faults::none().latency_ms(150));
    let first = Command::new(env!("CARGO_BIN_EXE_psa-migrate"))
        .current_dir(repo())
        .env_remove("KUBECONFIG")
        .args(["apply", "--yes", "--plan"])
        .arg(&env.plan)
        .arg("--kubeconfig")
        .arg(&env.kubeconfig)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !lock_path(&env).exists() {
        assert!(Instant::now() < deadline, "no lock seen");
        std::thread::sleep(Duration::from_millis(5));
    }
    let holder = format!("psa-migrate apply (pid {}", first.id());
    for args in [&["apply", "--yes"][..], &["rollback", "--yes"]] {
        let out = env.expect(args, 2);
        assert!(stderr(&out).contains(&holder), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("another apply or rollback is running"), "{}", stderr(&out));
    }
    let out = first.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!lock_path(&env).exists(), "released");
    let journal = env.journal();
    let labels = entries(&journal, "labels");
    assert_eq!(labels.len(), 18, "{journal:#}");
    assert!(labels.iter().all(|e| e["state"] == "applied"));

    // Released on errors too (no terminal to confirm on).
    env.api.faults().clear();
    env.expect(&["rollback"], 2);
    assert!(!lock_path(&env).exists());
}

/// A lock left by a process that is gone is taken over with a notice, and the journal
/// temporaries an interrupted save left are removed.
#[test]
fn stale_lock_is_taken_over() {
    let Ok(host) = std::fs::read_to_string("/proc/sys/kernel/hostname") else {
        eprintln!("NOTICE: no /proc; skipping the stale lock test");
        return;
    };
    let env = start(Faults::none());
    let lock = serde_json::json!({"pid": 999_999_999u32, "host": host.trim(),
                                  "command": "apply", "startedAt": 1});
    std::fs::write(lock_path(&env), lock.to_string()).unwrap();
    std::fs::write(env.plan.join(".journal.json.999999999.tmp"), "{").unwrap();
    let out = env.expect(&["apply", "--step", "1", "--yes", "-n", "monitoring"], 0);
    let err = stderr(&out);
    assert!(err.contains("took over the stale lock"), "{err}");
    assert!(err.contains("pid 999999999"), "{err}");
    assert!(
        err.contains(".journal.json.999999999.tmp, left by an interrupted journal save"),
        "{err}"
    );
    assert!(!env.plan.join(".journal.json.999999999.tmp").exists());
    assert!(!lock_path(&env).exists());
    // A live holder (this test process) is not taken over.
    let lock = serde_json::json!({"pid": std::process::id(), "host": host.trim(),
                                  "command": "rollback", "startedAt": 1});
    std::fs::write(lock_path(&env), lock.to_string()).unwrap();
    let out = env.expect(&["rollback", "--yes"], 2);
    assert!(stderr(&out).contains("held by psa-migrate rollback"), "{}", stderr(&out));
    assert!(lock_path(&env).exists(), "someone else's lock is left alone");
    // Nor does `plan` rewrite a directory someone is applying.
    let before = std::fs::read_to_string(env.plan.join("plan.json")).unwrap();
    let out = cargo_bin_cmd!("psa-migrate")
        .current_dir(repo())
        .args(["plan", "-q", "--force", "--tighten", "-f"])
        .arg(fixture())
        .arg("--out")
        .arg(&env.plan)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("held by psa-migrate rollback"), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(env.plan.join("plan.json")).unwrap(), before);
}

/// The admission policy objects of plan.json (`validating` or `mutating`): API version,
/// plural and name.
fn policy_objects(env: &Env, key: &str) -> Vec<(String, &'static str, String)> {
    let plan = env.plan_json();
    plan["admissionPolicies"][key]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            let plural = match o["kind"].as_str().unwrap() {
                "ValidatingAdmissionPolicy" => "validatingadmissionpolicies",
                "ValidatingAdmissionPolicyBinding" => "validatingadmissionpolicybindings",
                "MutatingAdmissionPolicy" => "mutatingadmissionpolicies",
                _ => "mutatingadmissionpolicybindings",
            };
            let name = o["metadata"]["name"].as_str().unwrap().to_owned();
            (o["apiVersion"].as_str().unwrap().to_owned(), plural, name)
        })
        .collect()
}

#[test]
fn steps_6_then_5_create_the_policies_and_rollback_deletes_them() {
    // The demo plan targets Kubernetes 1.36 (the cluster runs 1.24): served here as 1.36.
    let env = start_at("1.36", Faults::none());
    let residual = policy_objects(&env, "validating");
    let mutation = policy_objects(&env, "mutating");
    assert!(residual.len() >= 2 && residual.len().is_multiple_of(2), "{residual:?}");
    assert!(mutation.len() >= 2 && mutation.len().is_multiple_of(2), "{mutation:?}");
    let exists = |(gv, plural, name): &(String, &str, String)| {
        env.api.object(gv, plural, None, name).is_some()
    };
    assert!(!residual.iter().chain(&mutation).any(exists));
    // The residual policies alone would reject pods that only PSP's defaulting admitted.
    let writes = env.api.writes();
    let out = env.expect(&["apply", "--step", "5", "--yes"], 2);
    assert!(stderr(&out).contains("refusing step 5 before step 6"), "{}", stderr(&out));
    assert_eq!(env.api.writes(), writes, "nothing written");
    let out = env.expect(&["apply", "--step", "6", "--yes"], 0);
    assert!(
        stdout(&out)
            .contains("MutatingAdmissionPolicy psa-migrate-defaults-ml-workloads created (step 6)"),
        "{}",
        stdout(&out)
    );
    assert!(mutation.iter().all(exists) && !residual.iter().any(exists));
    let out = env.expect(&["apply", "--step", "5", "--yes"], 0);
    assert!(
        stdout(&out).contains(
            "ValidatingAdmissionPolicy psa-migrate-residual-ml-workloads created (step 5)"
        ),
        "{}",
        stdout(&out)
    );
    assert!(residual.iter().chain(&mutation).all(exists));
    let applies: Vec<_> = env.api.requests().into_iter().filter(|r| r.method == "PATCH").collect();
    let total = residual.len() + mutation.len();
    assert_eq!(applies.len(), 2 * total, "a server-side dry run before each write");
    assert!(applies.iter().step_by(2).all(|r| r.param("dryRun") == Some("All")));
    assert_eq!(entries(&env.journal(), "create").len(), total);
    let out = env.expect(&["apply", "--step", "5", "--yes"], 0);
    assert!(stdout(&out).contains("no changes"), "{}", stdout(&out));
    env.expect(&["rollback", "--yes"], 0);
    assert!(!residual.iter().chain(&mutation).any(exists));
}

/// `apply` with `args` on a server of `version` refuses with `message`, writing nothing.
fn refused_where_not_served(version: &str, args: &[&str], message: &str) {
    let env = start_at(version, Faults::none());
    let writes = env.api.writes();
    let out = env.expect(args, 2);
    assert!(stderr(&out).contains(message), "{}", stderr(&out));
    assert_eq!(env.api.writes(), writes, "nothing written");
    assert!(
        !env.plan.join("journal.json").exists() || entries(&env.journal(), "create").is_empty()
    );
}

#[test]
fn step_5_refused_where_the_api_is_not_served() {
    refused_where_not_served(
        "1.27",
        &["apply", "--step", "5", "--yes", "--force"],
        "refusing step 5: the server does not serve admissionregistration.k8s.io/v1 \
         validatingadmissionpolicies; ValidatingAdmissionPolicy v1 needs Kubernetes 1.30",
    );
}

#[test]
fn step_6_refused_where_the_api_is_not_served() {
    // 1.30 serves ValidatingAdmissionPolicy v1 but no MutatingAdmissionPolicy v1.
    refused_where_not_served(
        "1.30",
        &["apply", "--step", "6", "--yes"],
        "refusing step 6: the server does not serve admissionregistration.k8s.io/v1 \
         mutatingadmissionpolicies; MutatingAdmissionPolicy v1 needs Kubernetes 1.36",
    );
}
