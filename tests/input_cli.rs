//! Input the way kubectl takes it and files the way a shell has them: duplicate objects, empty
//! input, directories with FIFOs, unreadable subdirectories and symlink loops, invalid UTF-8 and
//! deeply nested ignored kinds, where each object starts, YAML 1.1 scalars and line breaks,
//! keys given twice, and concatenated JSON objects.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn cmd() -> assert_cmd::Command {
    let mut c = cargo_bin_cmd!("psa-migrate");
    c.current_dir(repo()).env_remove("NO_COLOR").env("TERM", "dumb");
    c
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn daemonset(name: &str, host_pid: bool) -> String {
    format!(
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: {name}\n  namespace: ops\nspec:\n  template:\n    spec:\n      hostPID: {host_pid}\n      containers:\n      - name: c\n        image: x\n"
    )
}

fn pod(name: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: shop\nspec:\n  containers:\n  - name: c\n    image: x\n"
    )
}

const PSP: &str = "apiVersion: policy/v1beta1\nkind: PodSecurityPolicy\nmetadata:\n  name: wide\nspec:\n  privileged: true\n  seLinux: {rule: RunAsAny}\n  runAsUser: {rule: RunAsAny}\n  supplementalGroups: {rule: RunAsAny}\n  fsGroup: {rule: RunAsAny}\n  volumes: ['*']\n";

/// The same DaemonSet in two files (and a PSP twice in one): counted once, the last one in
/// input order kept, whichever name sorts first, and a finding names both sources.
#[test]
fn duplicates_are_kept_once_last_in_input_order() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.yaml"), dir.path().join("b.yaml"));
    // b.yaml is given first: a.yaml's copy (which passes baseline) is the one kept.
    std::fs::write(&b, format!("{}---\n{PSP}---\n{PSP}", daemonset("agent", true))).unwrap();
    std::fs::write(&a, daemonset("agent", false)).unwrap();
    let out = cmd()
        .args(["check", "--level", "baseline", "-o", "json", "-f"])
        .arg(&b)
        .arg("-f")
        .arg(&a)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["summary"]["objects"], 1);
    assert_eq!(v["results"][0]["source"]["file"], a.display().to_string());
    let findings = v["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 2, "{findings:?}");
    let ds = findings.iter().find(|f| f["object"]["kind"] == "DaemonSet").unwrap();
    assert_eq!(ds["code"], "input-duplicate-object");
    let msg = ds["message"].as_str().unwrap();
    assert!(
        msg.contains(&format!("{}:1:1 (document 0) is kept", a.display()))
            && msg.contains(&format!("{}:1:1 (document 0) is dropped", b.display())),
        "{msg}"
    );
    let psp = findings.iter().find(|f| f["object"]["kind"] == "PodSecurityPolicy").unwrap();
    assert!(psp["message"].as_str().unwrap().contains("(document 2) is kept"), "{psp}");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("warning: DaemonSet ops/agent: read more than once"), "{stderr}");

    // The text output of check is unchanged apart from counting once.
    let out = cmd().args(["check", "-q", "-f"]).arg(&b).arg("-f").arg(&a).output().unwrap();
    assert_eq!(text(&out.stdout).matches("DaemonSet ops/agent").count(), 1);
    assert_eq!(text(&out.stderr), "", "-q keeps stderr quiet");

    // map lists the PSP once; inventory reports the findings.
    let out = cmd().args(["map", "-o", "json", "-f"]).arg(&b).output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["policies"].as_array().unwrap().len(), 1);
    let out =
        cmd().args(["inventory", "-o", "json", "-f"]).arg(&b).arg("-f").arg(&a).output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let codes: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "input-duplicate-object")
        .map(|f| f["object"]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["DaemonSet", "PodSecurityPolicy"]);
}

/// Empty stdin, an empty directory, and a file of comments and separators are errors for every
/// command that reads -f; a kind that is only counted is input all the same.
#[test]
fn empty_input_is_an_error_for_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let empty_dir = dir.path().join("empty");
    std::fs::create_dir(&empty_dir).unwrap();
    let comments = dir.path().join("comments.yaml");
    std::fs::write(&comments, "# nothing here\n---\n--- # still nothing\n").unwrap();
    let plan_dir = dir.path().join("plan");
    let out = cmd()
        .args(["plan", "-q", "-f", "testdata/clusters/ml-platform", "--out"])
        .arg(&plan_dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let export_dir = dir.path().join("export");
    let commands: Vec<Vec<String>> = vec![
        vec!["check".into()],
        vec!["inventory".into()],
        vec!["map".into()],
        vec!["export".into(), "--out".into(), export_dir.display().to_string()],
        vec!["plan".into(), "--out".into(), dir.path().join("p2").display().to_string()],
        vec!["diff".into(), "--plan".into(), plan_dir.display().to_string()],
    ];
    for args in &commands {
        let out = cmd().args(args).args(["-f", "-"]).write_stdin("").output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(text(&out.stderr), "error: no objects passed (read from -)\n", "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}: {}", text(&out.stdout));
    }
    assert!(!export_dir.exists() && !dir.path().join("p2").exists(), "nothing is written");
    for input in [&empty_dir, &comments] {
        let out = cmd().args(["check", "-f"]).arg(input).output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert_eq!(
            text(&out.stderr),
            format!("error: no objects passed (read from {})\n", input.display())
        );
    }
    let out = cmd()
        .args(["check", "-f", "-"])
        .write_stdin("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

/// Runs a command that must end within a time limit: a hang fails the test instead.
fn run_with_deadline(mut command: Command, limit: Duration) -> Output {
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{command:?} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

fn bin() -> Command {
    let mut c = Command::new(assert_cmd::cargo::cargo_bin!("psa-migrate"));
    c.current_dir(repo()).env("TERM", "dumb").stdin(Stdio::null());
    c
}

/// A FIFO named like a manifest inside a directory is skipped with a notice, not read forever.
#[test]
fn fifo_in_a_directory_is_skipped_with_a_notice() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.yaml"), pod("a")).unwrap();
    let fifo = dir.path().join("pipe.yaml");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "mkfifo failed under CI");
        eprintln!("NOTICE: mkfifo unavailable; skipping the FIFO test");
        return;
    }
    let mut c = bin();
    c.args(["check", "-o", "json", "-f"]).arg(dir.path());
    let out = run_with_deadline(c, Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stderr),
        format!(
            "notice: skipped {}: not a regular file (a FIFO, socket or device)\n",
            fifo.display()
        )
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["summary"]["objects"], 1);
    let mut c = bin();
    c.args(["check", "-q", "-f"]).arg(dir.path());
    let out = run_with_deadline(c, Duration::from_secs(30));
    assert_eq!(text(&out.stderr), "", "-q hides the notice");
}

/// An unreadable subdirectory is an input error naming it; the rest is still read.
#[test]
fn unreadable_subdirectory_is_an_error_and_the_rest_is_read() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.yaml"), pod("a")).unwrap();
    let sub = dir.path().join("locked");
    std::fs::create_dir(&sub).unwrap();
    std::fs::write(sub.join("b.yaml"), pod("b")).unwrap();
    std::fs::write(dir.path().join("z.yaml"), pod("z")).unwrap();
    std::fs::set_permissions(&sub, std::fs::Permissions::from_mode(0o000)).unwrap();
    // Root reads it anyway: then only "the rest is read" can be tested.
    let testable = std::fs::read_dir(&sub).is_err();
    let out = cmd().args(["check", "-o", "json", "-f"]).arg(dir.path()).output().unwrap();
    std::fs::set_permissions(&sub, std::fs::Permissions::from_mode(0o755)).unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> =
        v["results"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    if testable {
        assert_eq!(out.status.code(), Some(2));
        assert_eq!(names, ["a", "z"]);
        let stderr = text(&out.stderr);
        assert!(
            stderr.starts_with(&format!("error: {}: cannot read directory: ", sub.display())),
            "{stderr}"
        );
    } else {
        eprintln!("NOTICE: running as root, a mode 000 directory is readable; skipping that check");
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(names, ["a", "b", "z"]);
    }
}

/// A symlink loop is walked once: each file is read once, by its canonical path, so every pod
/// is counted once (and no duplicate is reported).
#[test]
fn symlink_loops_and_links_are_read_once() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    std::fs::write(sub.join("p.yaml"), pod("p")).unwrap();
    std::os::unix::fs::symlink(dir.path(), sub.join("loop")).unwrap();
    std::os::unix::fs::symlink(sub.join("p.yaml"), dir.path().join("link.yaml")).unwrap();
    let mut c = bin();
    c.args(["check", "-o", "json", "-f"]).arg(dir.path()).arg("-f").arg(sub.join("p.yaml"));
    let out = run_with_deadline(c, Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["summary"]["objects"], 1);
    // Walked in name order: the link is met first and names the object.
    assert_eq!(
        v["results"][0]["source"]["file"],
        dir.path().join("link.yaml").display().to_string()
    );
}

/// A bad byte spoils only its document, which is named with its line and column.
#[test]
fn invalid_utf8_names_document_and_line_and_keeps_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pods.yaml");
    let mut bytes = format!("{}---\n", pod("a")).into_bytes();
    bytes.extend_from_slice(
        b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: b\n  labels: {x: \"\xff\"}\n",
    );
    bytes.extend_from_slice(format!("---\n{}", pod("c")).as_bytes());
    std::fs::write(&file, bytes).unwrap();
    let out = cmd().args(["check", "-o", "json", "-f"]).arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        format!(
            "error: {}: document 1 (line 15, column 16): invalid UTF-8: byte 0xff is not valid in UTF-8 text\n",
            file.display()
        )
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["summary"]["objects"], 2);

    // In a streamed JSON list: the item and the line of the bad byte.
    let file = dir.path().join("pods.json");
    let mut bytes = b"{\"kind\": \"List\", \"apiVersion\": \"v1\", \"items\": [\n".to_vec();
    bytes.extend_from_slice(
        b"{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"a\"}},\n",
    );
    bytes.extend_from_slice(
        b"{\"apiVersion\": \"v1\", \"kind\": \"Pod\",\n \"metadata\": {\"name\": \"\xc3\"}},\n",
    );
    bytes.extend_from_slice(
        b"{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"c\"}}\n]}\n",
    );
    std::fs::write(&file, bytes).unwrap();
    let out = cmd().args(["check", "-o", "json", "-f"]).arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        format!(
            "error: {}: document 0 (line 4): items[1]: invalid UTF-8: byte 0xc3 is not valid in UTF-8 text\n",
            file.display()
        )
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["summary"]["objects"], 2);
}

/// A CRD whose schema nests about 100 levels, as YAML and as JSON (with `kind` first, as
/// kubectl prints it, and last): ignored, exit 0.
fn deep_schema(depth: usize) -> Value {
    let mut v = serde_json::json!({"type": "string"});
    for _ in 0..depth / 2 {
        v = serde_json::json!({"type": "object", "properties": {"x": v}});
    }
    v
}

fn write_crds(dir: &Path) -> Vec<PathBuf> {
    let schema = deep_schema(100);
    let spec = serde_json::json!({"group": "x.io", "names": {"kind": "Deep", "plural": "deeps"},
        "scope": "Namespaced", "versions": [{"name": "v1", "served": true, "storage": true,
        "schema": {"openAPIV3Schema": schema}}]});
    let head = [
        ("apiVersion", Value::from("apiextensions.k8s.io/v1")),
        ("kind", Value::from("CustomResourceDefinition")),
    ];
    let body = [("metadata", serde_json::json!({"name": "deeps.x.io"})), ("spec", spec)];
    let kind_first: Vec<&(&str, Value)> = head.iter().chain(&body).collect();
    let kind_last: Vec<&(&str, Value)> = body.iter().chain(&head).collect();
    let mut files = Vec::new();
    for (i, fields) in [kind_first, kind_last].into_iter().enumerate() {
        // serde_json sorts object keys: write the documents field by field, in this order.
        let members: Vec<String> = fields.iter().map(|(k, v)| format!("\"{k}\": {v}")).collect();
        let json = dir.join(format!("crd{i}.json"));
        std::fs::write(&json, format!("{{\n{}\n}}\n", members.join(",\n"))).unwrap();
        let yaml = dir.join(format!("crd{i}.yaml"));
        let text: String = fields
            .iter()
            .map(|(k, v)| {
                yaml_of(&Value::Object([(k.to_string(), v.clone())].into_iter().collect()), 0)
            })
            .collect();
        std::fs::write(&yaml, text).unwrap();
        files.extend([json, yaml]);
    }
    files
}

/// Block-style YAML of a JSON value (mappings of scalars and mappings, lists of mappings).
fn yaml_of(v: &Value, indent: usize) -> String {
    let pad = " ".repeat(indent);
    let mut out = String::new();
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                match v {
                    Value::Object(_) => out += &format!("{pad}{k}:\n{}", yaml_of(v, indent + 2)),
                    Value::Array(items) => {
                        out += &format!("{pad}{k}:\n");
                        for item in items {
                            let body = yaml_of(item, indent + 2);
                            out += &format!("{pad}- {}", &body[indent + 2..]);
                        }
                    }
                    _ => out += &format!("{pad}{k}: {v}\n"),
                }
            }
        }
        _ => out += &format!("{pad}{v}\n"),
    }
    out
}

#[test]
fn deep_crds_are_ignored_in_yaml_and_json() {
    let dir = tempfile::tempdir().unwrap();
    for file in write_crds(dir.path()) {
        let out = cmd().args(["check", "-o", "json", "-f"]).arg(&file).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}: {}", file.display(), text(&out.stderr));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            v["summary"]["ignoredKinds"],
            serde_json::json!({"CustomResourceDefinition": 1})
        );
    }
    // Through a pipe, as `helm template | psa-migrate check -f -`.
    let yaml = std::fs::read_to_string(dir.path().join("crd0.yaml")).unwrap();
    cmd()
        .args(["check", "-f", "-"])
        .write_stdin(format!("{yaml}---\n{}", pod("p")))
        .assert()
        .code(0);
}

/// Every object read from a file says where it starts: a YAML document at its first content
/// line, a list item where its node starts, a JSON object at its brace; JSON `source` carries
/// `line` and `column`, text messages `file:line:column`.
#[test]
fn objects_carry_their_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let (yaml, json) = (dir.path().join("a.yaml"), dir.path().join("b.json"));
    let list = format!(
        "# pods\napiVersion: v1\nkind: List\nitems:\n- {}",
        pod("web").trim_end().replace('\n', "\n  ")
    );
    std::fs::write(&yaml, format!("\n{}---\n{list}\n", pod("api"))).unwrap();
    std::fs::write(
        &json,
        "{\"kind\": \"List\", \"items\": [\n    {\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"db\", \"namespace\": \"shop\"}}]}\n",
    )
    .unwrap();
    let out =
        cmd().args(["check", "-o", "json", "-f"]).arg(&yaml).arg("-f").arg(&json).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let got: Vec<(String, Value)> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let mut s = r["source"].clone();
            s.as_object_mut().unwrap().remove("file");
            (r["name"].as_str().unwrap().to_owned(), s)
        })
        .collect();
    let at = |document: u64, item: Option<u64>, line: u64, column: u64| {
        let mut s = serde_json::json!({"document": document, "line": line, "column": column});
        if let Some(i) = item {
            s["item"] = i.into();
        }
        s
    };
    assert_eq!(
        got,
        [
            ("api".to_owned(), at(0, None, 2, 1)),
            ("db".to_owned(), at(0, Some(0), 2, 5)),
            ("web".to_owned(), at(1, Some(0), 16, 3)),
        ]
    );
    // The same object twice: the finding names both copies with their positions.
    let out = cmd()
        .args(["inventory", "-f", "-"])
        .write_stdin(format!("{}---\n{}", pod("api"), pod("api")))
        .output()
        .unwrap();
    assert!(
        text(&out.stderr).contains(
            "Pod shop/api: read more than once: -:11:1 (document 1) is kept (the last in input \
             order, as kubectl apply would leave it) and -:1:1 (document 0) is dropped"
        ),
        "{}",
        text(&out.stderr)
    );
}

fn pod_with(security_context: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: web, namespace: shop}}\nspec:\n  containers:\n  - name: app\n    image: nginx\n    securityContext:\n{security_context}"
    )
}

/// YAML 1.1 scalars as kubectl reads them (go-yaml v2): a plain `on` is true and `0.0` is
/// the integer 0, so the pod is privileged and runs as root; a quoted `"on"` stays a string,
/// an error for a boolean field as in kubectl; JSON gains none of this.
#[test]
fn yaml_1_1_scalars_as_kubectl_reads_them() {
    cmd()
        .args(["check", "-f", "-", "--level", "baseline"])
        .write_stdin(pod_with("      privileged: on\n"))
        .assert()
        .code(1)
        .stdout(predicates::str::contains(
            "Pod shop/web: would violate PodSecurity \"baseline:latest\": privileged (container \
             \"app\" must not set securityContext.privileged=true)",
        ));
    cmd()
        .args(["check", "-f", "-", "--level", "restricted"])
        .write_stdin(pod_with("      runAsUser: 0.0\n"))
        .assert()
        .code(1)
        .stdout(predicates::str::contains(
            "runAsUser=0 (container \"app\" must not set runAsUser=0)",
        ));
    for quoted in ["\"on\"", "'yes'"] {
        let unquoted = quoted.trim_matches(['"', '\'']);
        cmd()
            .args(["check", "-f", "-"])
            .write_stdin(pod_with(&format!("      privileged: {quoted}\n")))
            .assert()
            .code(2)
            .stderr(format!(
                "error: -: document 0 (line 1, column 1): \
                 spec.containers[0].securityContext.privileged: invalid type: string \
                 \"{unquoted}\", expected a boolean\n"
            ));
    }
    let json = r#"{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
 "spec": {"containers": [{"name": "app", "securityContext": {"privileged": "yes"}}]}}"#;
    cmd().args(["check", "-f", "-"]).write_stdin(json).assert().code(2).stderr(
        "error: -: document 0 (line 1, column 1): spec.containers[0].securityContext.privileged: \
         invalid type: string \"yes\", expected a boolean\n",
    );
}

/// NEL, LINE SEPARATOR and PARAGRAPH SEPARATOR end a line for kubectl (go-yaml v2): here
/// a comment ends at U+2028, so `privileged: true` is read.
#[test]
fn unicode_line_separators_end_lines_as_in_kubectl() {
    let text = pod_with(
        "      allowPrivilegeEscalation: false # was privileged\u{2028}      privileged: true\n",
    );
    cmd()
        .args(["check", "-f", "-", "--level", "baseline"])
        .write_stdin(text)
        .assert()
        .code(1)
        .stdout(predicates::str::contains("privileged (container \"app\""));
}

/// A key given twice keeps its last value (the pods below are privileged and share the host's
/// PID namespace), with a warning that names the key, the file, the document and the line; a
/// warning does not fail the run, unless `--fail-on warning`, and `--allow input-duplicate-key`
/// silences it. JSON alike.
#[test]
fn duplicate_keys_warn_and_keep_the_last_value() {
    let dir = tempfile::tempdir().unwrap();
    let (yaml, json) = (dir.path().join("pods.yaml"), dir.path().join("pods.json"));
    std::fs::write(
        &yaml,
        format!(
            "{}---\n{}",
            pod("api"),
            pod_with("      privileged: false\n      privileged: true\n")
        ),
    )
    .unwrap();
    std::fs::write(
        &json,
        "{\"kind\": \"List\", \"items\": [\n  {\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"db\", \"namespace\": \"shop\"},\n   \"spec\": {\"hostPID\": false, \"hostPID\": true, \"containers\": [{\"name\": \"c\", \"image\": \"x\"}]}}]}\n",
    )
    .unwrap();
    let out = cmd().args(["check", "-f"]).arg(&yaml).arg("-f").arg(&json).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "a warning alone does not fail the run");
    assert_eq!(
        text(&out.stderr),
        format!(
            "warning: {}: document 1 (line 20, column 7): duplicate key \"privileged\" in \
             spec.containers[0].securityContext (first given on line 19): the last value is kept, \
             as kubectl keeps it [input-duplicate-key]\n\
             warning: {}: document 0 (line 3, column 31): duplicate key \"hostPID\" in \
             items[0].spec (first given on line 3): the last value is kept, as kubectl keeps it \
             [input-duplicate-key]\n",
            yaml.display(),
            json.display()
        )
    );
    let out = cmd()
        .args(["check", "--level", "baseline", "-o", "json", "-f"])
        .arg(&yaml)
        .arg("-f")
        .arg(&json)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "the last values are judged");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let denied: Vec<&str> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["allowed"] == false)
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(denied, ["db", "web"]);
    let d = &v["diagnostics"][0];
    assert_eq!(d["code"], "input-duplicate-key");
    assert_eq!(d["severity"], "warning");
    assert_eq!(
        d["location"],
        serde_json::json!({"file": yaml.display().to_string(), "document": 1, "line": 20,
            "column": 7, "field": "spec.containers[0].securityContext.privileged"})
    );
    let out = cmd().args(["inventory", "--fail-on", "warning", "-f"]).arg(&yaml).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let out = cmd()
        .args(["inventory", "--fail-on", "warning", "--allow", "input-duplicate-key", "-f"])
        .arg(&yaml)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(!text(&out.stderr).contains("duplicate key"), "{}", text(&out.stderr));
}

/// Concatenated JSON objects (`jq -c '.items[]'` output) are read like a List: every object
/// is an item with its own line, on standard input and in files.
#[test]
fn concatenated_json_objects_are_read_like_a_list() {
    let object = |name: &str, host_pid: bool| {
        format!(
            "{{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{{\"name\":\"{name}\",\"namespace\":\"shop\"}},\"spec\":{{\"hostPID\":{host_pid},\"containers\":[{{\"name\":\"c\",\"image\":\"x\"}}]}}}}"
        )
    };
    let stream = format!("{}\n{}\n{}\n", object("a", false), object("b", true), object("c", false));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pods.json");
    std::fs::write(&file, &stream).unwrap();
    let file = file.display().to_string();
    for arg in ["-", file.as_str()] {
        let out = cmd()
            .args(["check", "--level", "baseline", "-o", "json", "-f", arg])
            .write_stdin(stream.clone())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let got: Vec<(String, Value)> = v["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["name"].as_str().unwrap().to_owned(), r["source"].clone()))
            .collect();
        let at = |item: u64, line: u64| serde_json::json!({"file": arg, "document": 0, "item": item, "line": line, "column": 1});
        assert_eq!(got, [("a".into(), at(0, 1)), ("b".into(), at(1, 2)), ("c".into(), at(2, 3))]);
        assert_eq!(v["summary"]["denied"], 1, "b shares the host's PID namespace");
    }
    let out = cmd()
        .args(["check", "--level", "baseline", "-f", "-"])
        .write_stdin(format!("{}\n{{\"kind\": \"Pod\", \"spec\": 5}}\n", object("a", false)))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "error: -: document 0 (line 2, column 1): items[1].spec: invalid type: integer `5`, \
         expected struct PodSpec\n"
    );
}
