//! The live source and `export` against the fake API server (`tests/support/fake_api.rs`):
//! live reads equal offline reads of the same cluster directory, every injected fault is
//! survived or reported as the issue asks, and an export reads back to the same inventory.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use assert_cmd::cargo::cargo_bin_cmd;
use psa_migrate::export::export_files;
use psa_migrate::model::inventory::Inventory;
use psa_migrate::source::live::{self, Failure, LiveError, LiveOptions, LiveRead, RetryPolicy};
use psa_migrate::source::offline::{OfflineOptions, read_paths};

use crate::support::fake_api::{ContinueExpiry, FakeConfig, Faults};
use crate::support::served::{Served, as_real_server, serve};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn clusters() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(repo().join("testdata/clusters"))
        .expect("testdata/clusters")
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 3, "{dirs:?}");
    dirs
}

fn cluster(name: &str) -> PathBuf {
    repo().join("testdata/clusters").join(name)
}

fn fake(dir: &Path) -> FakeConfig {
    as_real_server(dir)
}

type Live = Served;

fn start(config: FakeConfig) -> Live {
    serve(config)
}

/// Options for in-process reads: fast backoff so fault tests stay quick.
fn options(live: &Live) -> LiveOptions {
    LiveOptions {
        kubeconfig: Some(live.kubeconfig.clone()),
        request_timeout: Some(Duration::from_secs(20)),
        retry: RetryPolicy { base_delay: Duration::from_millis(5), ..RetryPolicy::default() },
        ..LiveOptions::default()
    }
}

fn read(opts: &LiveOptions) -> Result<LiveRead, LiveError> {
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let result = rt.block_on(live::read_cluster(opts));
    rt.shutdown_background();
    result
}

fn read_ok(opts: &LiveOptions) -> LiveRead {
    read(opts).unwrap_or_else(|e| panic!("live read failed: {e}"))
}

fn offline(dir: &Path, namespace: Option<&str>) -> Inventory {
    let opts = OfflineOptions { default_namespace: namespace.unwrap_or("default").to_owned() };
    let (mut inv, errors) = read_paths(&[dir.display().to_string()], &opts, &mut std::io::empty());
    assert!(errors.is_empty(), "{errors:?}");
    if let Some(ns) = namespace {
        inv.retain_namespace(ns);
    }
    inv
}

/// What differs between a live and an offline read by design:
/// - kinds the tool does not keep (ConfigMaps, Services, Secrets in the data) are counted
///   offline but never listed live;
/// - an `extensions/v1beta1` PSP in a file is served (like by a real server) as the same object
///   under `policy/v1beta1`, which is what the live source lists.
fn comparable(mut inv: Inventory) -> Inventory {
    inv.ignored.clear();
    for p in &mut inv.psps {
        if p.obj.api_version == "extensions/v1beta1" {
            p.obj.api_version = "policy/v1beta1".into();
        }
    }
    inv
}

fn assert_same(live: &Inventory, offline: &Inventory, what: &str) {
    let diff = comparable(live.clone()).diff_ignoring_provenance(&comparable(offline.clone()));
    assert!(diff.is_empty(), "{what}: live and offline differ:\n{}", diff.join("\n"));
}

fn without_psps(mut inv: Inventory) -> Inventory {
    inv.psps.clear();
    inv
}

fn psp_notice(inv: &Inventory) -> Option<&psa_migrate::model::inventory::Unavailable> {
    inv.unavailable.iter().find(|u| u.resource == "podsecuritypolicies.policy")
}

fn cli(live: &Live) -> assert_cmd::Command {
    let mut c = cargo_bin_cmd!("psa-migrate");
    c.current_dir(repo())
        .env_remove("KUBECONFIG")
        .env("TERM", "dumb")
        .arg("--kubeconfig")
        .arg(&live.kubeconfig)
        .timeout(Duration::from_secs(120));
    c
}

fn offline_cli() -> assert_cmd::Command {
    let mut c = cargo_bin_cmd!("psa-migrate");
    c.current_dir(repo()).env("TERM", "dumb");
    c
}

/// A JSON report without provenance (`source` fields name the server or the file) and without
/// the counts of kinds the tool does not keep (offline only, see [`comparable`]).
fn without_sources(stdout: &[u8]) -> serde_json::Value {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                m.remove("source");
                m.remove("ignoredKinds");
                // Only a live read can report kinds it could not read; on the 1.25+ cluster
                // that is the PSP API, which the offline export simply does not contain.
                for key in ["unavailable", "diagnostics"] {
                    if let Some(serde_json::Value::Array(u)) = m.remove(key) {
                        assert!(u.iter().all(|e| e["code"] == "api-not-served"), "{u:?}");
                    }
                }
                m.values_mut().for_each(strip);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut v: serde_json::Value = serde_json::from_slice(stdout).expect("JSON report");
    strip(&mut v);
    v
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

// ---------------------------------------------------------------------------------------------
// Live equals offline.

#[test]
fn live_inventory_equals_offline_for_every_cluster() {
    for dir in clusters() {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let live = start(fake(&dir));
        // A small page size so every kind with more than a few objects is paginated.
        let opts = LiveOptions { chunk_size: 3, ..options(&live) };
        let got = read_ok(&opts);
        assert!(got.errors.is_empty(), "{name}: {:?}", got.errors);
        let offline = offline(&dir, None);
        assert_eq!(got.inventory.server_version, offline.server_version, "{name}");
        if live.api.minor() >= 25 {
            let u = psp_notice(&got.inventory).unwrap_or_else(|| panic!("{name}: no PSP notice"));
            assert_eq!(u.code, live::code::API_NOT_SERVED);
            assert!(!got.had_errors(), "{name}");
            let mut inv = got.inventory.clone();
            inv.unavailable.clear();
            assert_same(&inv, &without_psps(offline), &name);
        } else {
            assert!(
                got.inventory.unavailable.is_empty(),
                "{name}: {:?}",
                got.inventory.unavailable
            );
            assert_same(&got.inventory, &offline, &name);
        }
        let requests = live.api.requests();
        assert!(
            requests.iter().all(|r| !r.path.contains("secrets")),
            "{name}: Secrets were requested"
        );
        assert!(
            got.warnings.iter().all(|w| !w.contains("PodSecurityPolicy is deprecated")),
            "{name}: {:?}",
            got.warnings
        );
        assert!(
            requests.iter().any(|r| r.param("continue").is_some() && r.param("limit") == Some("3")),
            "{name}: no paginated request"
        );
        // Provenance is the server.
        let server = live.api.url().trim_end_matches('/');
        assert!(got.inventory.pod_objects.iter().all(|p| p.source.to_string() == server), "{name}");
    }
}

#[test]
fn items_with_type_meta_and_unlimited_pages_read_the_same() {
    let dir = cluster("ml-platform");
    let live = start(FakeConfig::new().dir(&dir).implicit_namespaces(false));
    let got = read_ok(&LiveOptions { chunk_size: 0, ..options(&live) });
    assert_same(&got.inventory, &offline(&dir, None), "ml-platform");
    let lists: Vec<_> =
        live.api.requests().into_iter().filter(|r| r.path.ends_with("/pods")).collect();
    assert_eq!(lists.len(), 1, "one request without limit");
    assert_eq!(lists[0].param("limit"), None);
}

#[test]
fn namespace_flag_limits_namespaced_reads() {
    let dir = cluster("ml-platform");
    let offline_all = offline(&dir, None);
    let ns = offline_all.pod_objects.iter().map(|p| p.namespace().to_owned()).max().unwrap();
    let live = start(fake(&dir));
    let got =
        read_ok(&LiveOptions { namespace: Some(ns.clone()), chunk_size: 2, ..options(&live) });
    assert_same(&got.inventory, &offline(&dir, Some(&ns)), &format!("-n {ns}"));
    let requests = live.api.requests();
    assert!(requests.iter().any(|r| r.path == format!("/api/v1/namespaces/{ns}/pods")));
    assert!(requests.iter().all(|r| r.path != "/api/v1/pods"), "pods listed cluster-wide with -n");
}

#[test]
fn cli_check_and_export_match_offline_for_every_cluster() {
    for dir in clusters() {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let live = start(fake(&dir));
        let live_check =
            cli(&live).args(["check", "-o", "json", "-q", "--chunk-size", "4"]).output().unwrap();
        assert!(live.api.requests().iter().any(|r| r.param("limit") == Some("4")), "{name}");
        let offline_check =
            offline_cli().args(["check", "-o", "json", "-f"]).arg(&dir).output().unwrap();
        let (l, o) = (without_sources(&live_check.stdout), without_sources(&offline_check.stdout));
        if l != o {
            let (l, o) = (
                serde_json::to_string_pretty(&l).unwrap(),
                serde_json::to_string_pretty(&o).unwrap(),
            );
            let diff = similar::TextDiff::from_lines(&o, &l)
                .unified_diff()
                .header("offline", "live")
                .to_string();
            panic!("{name}: check output differs:\n{diff}\nstderr: {}", stderr(&live_check));
        }
        assert_eq!(
            live_check.status.code(),
            offline_check.status.code(),
            "{name}: {}",
            stderr(&live_check)
        );

        let tmp = tempfile::tempdir().unwrap();
        let (live_out, offline_out) = (tmp.path().join("live"), tmp.path().join("offline"));
        let out = cli(&live).args(["export", "-q", "--out"]).arg(&live_out).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
        offline_cli()
            .args(["export", "-f"])
            .arg(&dir)
            .arg("--out")
            .arg(&offline_out)
            .assert()
            .code(0);
        for file in psa_migrate::export::FILE_NAMES {
            let l = std::fs::read_to_string(live_out.join(file)).ok();
            // As in `comparable`: a file's extensions/v1beta1 PSP is served as policy/v1beta1.
            let o = std::fs::read_to_string(offline_out.join(file)).ok().map(|t| {
                t.replace(
                    "- apiVersion: extensions/v1beta1\n  kind: PodSecurityPolicy\n",
                    "- apiVersion: policy/v1beta1\n  kind: PodSecurityPolicy\n",
                )
            });
            if *file == "podsecuritypolicies.yaml" && live.api.minor() >= 25 {
                assert_eq!(l, None, "{name}: an export must not claim there are no PSPs");
                continue;
            }
            assert_eq!(l, o, "{name}: {file} differs");
        }
    }
}

/// `fix` reads the cluster as it reads files: the same report and the same patch files.
#[test]
fn cli_fix_matches_offline_for_every_cluster() {
    for dir in clusters() {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let live = start(fake(&dir));
        let tmp = tempfile::tempdir().unwrap();
        let (live_out, offline_out) = (tmp.path().join("live"), tmp.path().join("offline"));
        let l = cli(&live)
            .args(["fix", "-o", "json", "-q", "--level", "restricted", "--out"])
            .arg(&live_out)
            .output()
            .unwrap();
        let o = offline_cli()
            .args(["fix", "-o", "json", "--level", "restricted", "--out"])
            .arg(&offline_out)
            .arg("-f")
            .arg(&dir)
            .output()
            .unwrap();
        assert_eq!(l.status.code(), o.status.code(), "{name}: {}", stderr(&l));
        assert!(matches!(l.status.code(), Some(0 | 1)), "{name}: {}", stderr(&l));
        assert_eq!(without_sources(&l.stdout), without_sources(&o.stdout), "{name}: fix differs");
        let report = without_sources(&o.stdout);
        for f in report["fixes"].as_array().unwrap() {
            let file = f["file"].as_str().unwrap();
            let read = |d: &Path| std::fs::read_to_string(d.join(file)).unwrap();
            assert_eq!(read(&live_out), read(&offline_out), "{name}: {file} differs");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Faults.

#[test]
fn throttling_with_retry_after_is_honoured() {
    let dir = cluster("legacy-eks");
    let live = start(fake(&dir).faults(Faults::none().throttle_every(3, 1).only_resource("pods")));
    let started = Instant::now();
    let got = read_ok(&LiveOptions { chunk_size: 2, ..options(&live) });
    let elapsed = started.elapsed();
    assert!(got.inventory.unavailable.is_empty(), "{:?}", got.inventory.unavailable);
    assert_same(&got.inventory, &offline(&dir, None), "429");
    let throttled = live.api.requests().iter().filter(|r| r.status == 429).count();
    assert!(throttled >= 1, "no 429 was served");
    // Each 429 asked for one second, and pods are one sequential list.
    assert!(
        elapsed >= Duration::from_secs(throttled as u64),
        "{elapsed:?} for {throttled} throttles"
    );
}

#[test]
fn retries_are_bounded_and_kube_does_not_retry_behind_our_back() {
    let dir = cluster("legacy-eks");
    // Every pods request is throttled (Retry-After: 0): kube's own retry layer would try 16
    // times; ours gives up after max_attempts.
    let live = start(fake(&dir).faults(Faults::none().throttle_every(1, 0).only_resource("pods")));
    let got = read_ok(&options(&live));
    assert_eq!(live.api.requests_to("/pods").len(), 5);
    let u =
        got.inventory.unavailable.iter().find(|u| u.resource == "pods").expect("pods unavailable");
    assert_eq!(u.code, live::code::SERVER_ERROR);
    assert!(u.message.contains("429") && u.message.contains("after 5 attempts"), "{}", u.message);
    assert!(got.had_errors());
    // Everything else was read.
    assert_same(
        &got.inventory,
        &{
            let mut o = offline(&dir, None);
            o.pod_objects.retain(|p| p.kind != psa_migrate::model::inventory::PodKind::Pod);
            o.unavailable = got.inventory.unavailable.clone();
            o
        },
        "429 on every pods request",
    );
}

#[test]
fn server_errors_every_nth_request_are_survived() {
    let dir = cluster("ml-platform");
    // Every other pods request fails. Counting only pods (one sequential list) makes it
    // deterministic: each failed page succeeds on its first retry. (Counting every request, the
    // concurrent kinds can line up so that one request is the Nth five times in a row and
    // legitimately exhausts its attempts.)
    let live = start(fake(&dir).faults(Faults::none().error_every(2).only_resource("pods")));
    let got = read_ok(&LiveOptions { chunk_size: 3, ..options(&live) });
    assert!(got.inventory.unavailable.is_empty(), "{:?}", got.inventory.unavailable);
    assert_same(&got.inventory, &offline(&dir, None), "500 every other pods request");
    let pods = live.api.requests_to("/pods");
    let failed = pods.iter().filter(|r| r.status == 500).count();
    assert!(failed >= 5, "{failed} failures");
    assert_eq!(pods.len(), 2 * failed + pods.len() % 2, "each failure retried once");
}

#[test]
fn expired_continue_token_restarts_the_list() {
    let dir = cluster("ml-platform");
    let live = start(
        fake(&dir).faults(Faults::none().expire_continue(ContinueExpiry::Once, Some("pods"))),
    );
    let got = read_ok(&LiveOptions { chunk_size: 2, ..options(&live) });
    assert!(got.inventory.unavailable.is_empty(), "{:?}", got.inventory.unavailable);
    assert_eq!(got.restarts, 1);
    assert_same(&got.inventory, &offline(&dir, None), "410 once");
    let pods = live.api.requests_to("/pods");
    assert!(pods.iter().any(|r| r.status == 410));
    let first_pages = pods.iter().filter(|r| r.param("continue").is_none()).count();
    assert_eq!(first_pages, 2, "the list restarted from its first page once");
    // The restart comes right after the 410.
    let i = pods.iter().position(|r| r.status == 410).unwrap();
    assert_eq!(pods[i + 1].param("continue"), None);
}

#[test]
fn continue_tokens_that_always_expire_give_up() {
    let dir = cluster("ml-platform");
    let live = start(
        fake(&dir).faults(Faults::none().expire_continue(ContinueExpiry::Always, Some("pods"))),
    );
    let got = read_ok(&LiveOptions { chunk_size: 2, ..options(&live) });
    let u =
        got.inventory.unavailable.iter().find(|u| u.resource == "pods").expect("pods unavailable");
    assert_eq!(u.code, live::code::EXPIRED);
    assert!(
        got.inventory
            .pod_objects
            .iter()
            .all(|p| p.kind != psa_migrate::model::inventory::PodKind::Pod)
    );
    let first_pages =
        live.api.requests_to("/pods").iter().filter(|r| r.param("continue").is_none()).count();
    assert_eq!(first_pages, 4, "first try plus max_restarts (3)");
    assert!(got.had_errors());
}

#[test]
fn forbidden_pods_are_reported_and_the_rest_is_read() {
    let dir = cluster("ml-platform");
    let live = start(fake(&dir).faults(Faults::none().forbid("pods")));
    let got = read_ok(&options(&live));
    let u =
        got.inventory.unavailable.iter().find(|u| u.resource == "pods").expect("pods unavailable");
    assert_eq!(u.code, live::code::FORBIDDEN);
    assert!(
        u.message.contains(r#"cannot list pods in API group "" at the cluster scope"#),
        "{}",
        u.message
    );
    assert!(got.had_errors());
    let mut expected = offline(&dir, None);
    expected.pod_objects.retain(|p| p.kind != psa_migrate::model::inventory::PodKind::Pod);
    expected.unavailable = got.inventory.unavailable.clone();
    assert_same(&got.inventory, &expected, "403 on pods");

    let out = cli(&live).args(["check", "-o", "json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out)
            .contains(r#"error: cannot read pods (forbidden): cannot list pods in API group """#),
        "{}",
        stderr(&out)
    );
    assert!(!out.stdout.is_empty(), "the partial report is still printed");
    // With -n the scope is the namespace.
    let out = cli(&live).args(["check", "-n", "default", "-q"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains(r#"in the namespace "default""#), "{}", stderr(&out));
}

#[test]
fn psp_api_not_served_on_125_is_a_notice() {
    // The ml-platform data has PSPs; a 1.25 server does not serve them.
    let dir = cluster("ml-platform");
    let live = start(fake(&dir).version("1.25.3"));
    let got = read_ok(&options(&live));
    let u = psp_notice(&got.inventory).expect("PSP entry");
    assert_eq!(u.code, live::code::API_NOT_SERVED);
    assert!(
        u.message.contains("v1.25.3") && u.message.contains("psa-migrate export"),
        "{}",
        u.message
    );
    assert!(!got.had_errors());
    assert!(got.inventory.psps.is_empty());
    let mut inv = got.inventory.clone();
    inv.unavailable.clear();
    let mut expected = without_psps(offline(&dir, None));
    assert_ne!(expected.server_version, inv.server_version);
    expected.server_version = inv.server_version.clone();
    assert_same(&inv, &expected, "1.25");
    assert!(live.api.requests().iter().all(|r| !r.path.contains("podsecuritypolicies")));

    // The CLI: a notice, the same exit code as the data without PSPs would give, never 2.
    let out = cli(&live).args(["check"]).output().unwrap();
    assert_ne!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("notice: podsecuritypolicies.policy:") && err.contains("-f with a saved"),
        "{err}"
    );
    let quiet = cli(&live).args(["check", "-q"]).output().unwrap();
    assert!(!stderr(&quiet).contains("notice"), "{}", stderr(&quiet));
}

#[test]
fn slow_server_times_out_instead_of_hanging() {
    let dir = cluster("legacy-eks");
    let live = start(fake(&dir).faults(Faults::none().latency_ms(3000)));
    let started = Instant::now();
    let out = cli(&live).args(["check", "--request-timeout", "200ms"]).output().unwrap();
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("no answer within 200ms (--request-timeout)"), "{err}");

    // In process: the error names the request.
    let e =
        read(&LiveOptions { request_timeout: Some(Duration::from_millis(200)), ..options(&live) })
            .unwrap_err();
    assert!(matches!(&e, LiveError::Unreachable { failure: Failure::Timeout { .. }, .. }), "{e}");

    // Once the server is fast again, the same options work.
    live.api.faults().update(|f| f.latency_ms = 0);
    let got = read_ok(&options(&live));
    assert!(got.inventory.unavailable.is_empty());
}

#[test]
fn bearer_token_is_required_and_sent() {
    let dir = cluster("legacy-eks");
    let live = start(fake(&dir).token("s3cr3t-token"));
    let got = read_ok(&options(&live));
    assert_same(&got.inventory, &offline(&dir, None), "token");

    // The same kubeconfig without the token.
    let yaml = std::fs::read_to_string(&live.kubeconfig).unwrap();
    let stripped: String =
        yaml.lines().filter(|l| !l.contains("token:")).map(|l| format!("{l}\n")).collect();
    let stripped = stripped.replace("  user:\n", "  user: {}\n");
    let path = live.kubeconfig.with_file_name("no-token");
    std::fs::write(&path, stripped).unwrap();
    let e = read(&LiveOptions { kubeconfig: Some(path.clone()), ..options(&live) }).unwrap_err();
    assert!(matches!(e, LiveError::Unauthorized { .. }), "{e}");
    let out =
        cargo_bin_cmd!("psa-migrate").args(["check", "--kubeconfig"]).arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("rejected the credentials"), "{}", stderr(&out));
}

#[test]
fn tls_with_client_certificate() {
    let dir = cluster("legacy-eks");
    let live = start(fake(&dir).require_client_cert());
    assert!(live.api.url().starts_with("https://"));
    let got = read_ok(&options(&live));
    assert!(got.inventory.unavailable.is_empty(), "{:?}", got.inventory.unavailable);
    assert_same(&got.inventory, &offline(&dir, None), "TLS");
    cli(&live).args(["check", "-q"]).assert().code(predicates::ord::ne(2));
}

#[test]
fn bad_request_timeout_is_a_usage_error() {
    let out = cargo_bin_cmd!("psa-migrate")
        .args(["check", "--request-timeout", "soon"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("invalid duration"), "{}", stderr(&out));
}

#[test]
fn kubeconfig_from_env_and_context_flag() {
    let dir = cluster("legacy-eks");
    let live = start(fake(&dir));
    // KUBECONFIG as a list (merged as kubectl does; the first file sets the current context).
    let empty = live.kubeconfig.with_file_name("empty");
    std::fs::write(&empty, "").unwrap();
    let list = std::env::join_paths([live.kubeconfig.clone(), empty]).unwrap();
    let out = cargo_bin_cmd!("psa-migrate")
        .env("KUBECONFIG", &list)
        .args(["check", "-q", "-o", "json"])
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(live.api.requests().iter().any(|r| r.path == "/api/v1/pods"));
    let out = cli(&live).args(["check", "--context", "nope"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("nope"), "{}", stderr(&out));
    // No kubeconfig anywhere.
    let out = cargo_bin_cmd!("psa-migrate")
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .args(["check"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("kubeconfig"), "{}", stderr(&out));
}

// ---------------------------------------------------------------------------------------------
// Export.

#[test]
fn export_from_live_reads_back_to_the_same_inventory() {
    let dir = cluster("ml-platform");
    let live = start(fake(&dir));
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("export");
    let out = cli(&live).args(["export", "--out"]).arg(&out_dir).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("pods.yaml: "), "{stdout}");

    let got = read_ok(&options(&live));
    let back = offline(&out_dir, None);
    let diff = got.inventory.diff_ignoring_provenance(&back);
    assert!(diff.is_empty(), "{}", diff.join("\n"));
    // The pure exporter gives the same bytes as the command wrote.
    for f in export_files(&got.inventory).unwrap() {
        assert_eq!(std::fs::read_to_string(out_dir.join(f.name)).unwrap(), f.text, "{}", f.name);
    }
    assert!(
        std::fs::read_to_string(out_dir.join("version.yaml")).unwrap().contains("serverVersion:")
    );

    // A non-empty directory needs --force.
    let again = cli(&live).args(["export", "--out"]).arg(&out_dir).output().unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert!(stderr(&again).contains("--force"), "{}", stderr(&again));
    std::fs::write(out_dir.join("notes.txt"), "mine").unwrap();
    cli(&live).args(["export", "-q", "--force", "--out"]).arg(&out_dir).assert().code(0);
    assert_eq!(std::fs::read_to_string(out_dir.join("notes.txt")).unwrap(), "mine");
}

#[test]
fn export_after_upgrade_leaves_psps_out_and_force_removes_stale_ones() {
    let dir = cluster("ml-platform");
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("export");
    offline_cli()
        .args(["export", "-q", "-f"])
        .arg(&dir)
        .arg("--out")
        .arg(&out_dir)
        .assert()
        .code(0);
    assert!(out_dir.join("podsecuritypolicies.yaml").exists());
    let live = start(fake(&dir).version("1.25"));
    let out = cli(&live).args(["export", "--force", "--out"]).arg(&out_dir).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("does not serve policy/v1beta1"));
    assert!(!out_dir.join("podsecuritypolicies.yaml").exists());
}

#[test]
fn export_with_forbidden_kind_exits_2_and_writes_no_file_for_it() {
    let dir = cluster("legacy-eks");
    let live = start(fake(&dir).faults(Faults::none().forbid("roles")));
    let tmp = tempfile::tempdir().unwrap();
    let out = cli(&live).args(["export", "--out"]).arg(tmp.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!tmp.path().join("roles.yaml").exists());
    assert!(tmp.path().join("rolebindings.yaml").exists());
}
