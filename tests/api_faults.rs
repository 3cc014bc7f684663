//! The faults the live source survives (tests/live.rs), against `apply` and `rollback`: both go
//! through the same API layer (`psa_migrate::kube_api`), so 429 with `Retry-After`, 5xx, an
//! expired continue token, a slow server and 403 are handled the same way, with the retry rules
//! of writes on top (a write is sent again only when that cannot apply it twice).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::migrate_e2e::{Env, Labels, start, stderr};
use crate::support::fake_api::{ContinueExpiry, FakeApiHandle, Faults};

/// What the fault tests add to the end-to-end environment.
trait FaultEnv {
    fn journal_text(&self) -> Option<String>;
    fn journal_states(&self) -> Vec<String>;
    fn applied_step_1(&self) -> BTreeMap<String, Labels>;
}

impl FaultEnv for Env {
    fn journal_text(&self) -> Option<String> {
        std::fs::read_to_string(self.plan.join("journal.json")).ok()
    }

    fn journal_states(&self) -> Vec<String> {
        let text = self.journal_text().expect("journal.json");
        let v: Value = serde_json::from_str(&text).unwrap();
        v["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["state"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Applies step 1 without faults and returns the labels before it.
    fn applied_step_1(&self) -> BTreeMap<String, Labels> {
        let before = self.labels();
        self.expect(&["apply", "--step", "1", "--yes"], 0);
        assert_ne!(self.labels(), before);
        self.api.clear_requests();
        before
    }
}

/// Every answered-with-`status` request is followed by the same request again (a retry).
fn retried(api: &FakeApiHandle, status: u16) -> usize {
    let reqs = api.requests();
    let mut n = 0;
    for (i, r) in reqs.iter().enumerate().filter(|(_, r)| r.status == status) {
        let again = reqs[i + 1..].iter().find(|x| x.path == r.path && x.method == r.method);
        let again = again.unwrap_or_else(|| panic!("{} {} was not retried", r.method, r.path));
        assert_eq!((&again.query, &again.body), (&r.query, &r.body), "the same request");
        n += 1;
    }
    n
}

#[test]
fn apply_and_rollback_survive_throttling_and_honour_retry_after() {
    let env = start(Faults::none());
    let before = env.labels();
    env.api.faults().set(Faults::none().throttle_every(5, 1).only_resource("namespaces"));
    let started = Instant::now();
    env.expect(&["apply", "--step", "1", "--yes"], 0);
    let elapsed = started.elapsed();
    let throttled = retried(&env.api, 429);
    assert!(throttled >= 2, "{throttled} throttles");
    // Writes answered 429 are retried too: the server did nothing.
    assert!(
        env.api.requests().iter().any(|r| r.status == 429 && r.method == "PATCH" && !r.dry_run),
        "no real write was throttled"
    );
    // Each 429 asked for one second, and the run is sequential.
    assert!(elapsed >= Duration::from_secs(throttled as u64), "{elapsed:?} for {throttled}");
    assert!(env.journal_states().iter().all(|s| s == "applied"));

    env.api.clear_requests();
    env.expect(&["rollback", "--yes"], 0);
    assert!(retried(&env.api, 429) >= 1);
    assert_eq!(env.labels(), before);
    assert!(env.journal_states().iter().all(|s| s == "rolled-back"));
}

#[test]
fn retries_of_throttled_requests_are_bounded() {
    let env = start(Faults::none());
    env.api.faults().set(Faults::none().throttle_every(1, 0).only_resource("namespaces"));
    let out = env.expect(&["apply", "--step", "1", "--yes"], 2);
    assert!(
        stderr(&out).contains("429") && stderr(&out).contains("after 5 attempts"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.api.requests_to("/namespaces").len(), 5);
    assert_eq!(env.api.writes(), 0);
}

#[test]
fn apply_and_rollback_survive_server_errors_on_reads_and_precondition_writes() {
    let env = start(Faults::none());
    let before = env.labels();
    // Paged namespace lists, so that reads fail too.
    env.api.faults().set(Faults::none().error_every(3).only_resource("namespaces"));
    env.expect(&["apply", "--step", "1", "--yes", "--chunk-size", "2"], 0);
    let failed = retried(&env.api, 500);
    assert!(failed >= 5, "{failed} failures");
    let reqs = env.api.requests();
    assert!(reqs.iter().any(|r| r.status == 500 && r.method == "GET"));
    // A label write carries the namespace's resourceVersion: sent again after a 500, it cannot
    // apply twice (it would be a 409).
    let real_500: Vec<_> =
        reqs.iter().filter(|r| r.status == 500 && r.method == "PATCH" && !r.dry_run).collect();
    assert!(!real_500.is_empty());
    for r in real_500 {
        let body: Value = serde_json::from_str(&r.body).unwrap();
        assert!(body["metadata"]["resourceVersion"].is_string(), "{body}");
    }
    assert!(env.journal_states().iter().all(|s| s == "applied"));

    env.api.clear_requests();
    env.expect(&["rollback", "--yes"], 0);
    assert!(retried(&env.api, 500) >= 1);
    assert_eq!(env.labels(), before);
}

#[test]
fn writes_without_a_precondition_are_not_sent_again_after_a_server_error() {
    let env = start(Faults::none());
    // PSP requests: the GET (404), the dry-run apply (500, retried: a dry run persists
    // nothing), its retry, the real apply (500: not retried, it may have been applied).
    env.api.faults().set(Faults::none().error_every(2).only_resource("podsecuritypolicies"));
    let out = env.expect(&["apply", "--step", "3", "--yes"], 2);
    assert!(stderr(&out).contains("500"), "{}", stderr(&out));
    let psp: Vec<_> = env.api.requests_to("/podsecuritypolicies/psa-migrate-privileged");
    let real: Vec<_> = psp.iter().filter(|r| r.method == "PATCH" && !r.dry_run).collect();
    assert_eq!(
        real.len(),
        1,
        "{:?}",
        psp.iter().map(|r| (&r.method, r.status)).collect::<Vec<_>>()
    );
    assert_eq!(real[0].status, 500);
    let dry: Vec<_> = psp.iter().filter(|r| r.method == "PATCH" && r.dry_run).collect();
    assert_eq!(dry.len(), 2);
    assert_eq!(dry[0].status, 500);
    assert!((200..300).contains(&dry[1].status));
    // The journal says the create may have happened; a re-run or a rollback resolves it.
    assert_eq!(env.journal_states(), ["pending"]);
    env.api.faults().clear();
    env.expect(&["rollback", "--yes"], 0);
}

#[test]
fn namespace_and_pod_lists_restart_after_an_expired_continue_token() {
    let env = start(Faults::none());
    let before = env.labels();
    env.api.faults().set(Faults::none().expire_continue(ContinueExpiry::Once, Some("namespaces")));
    env.expect(&["apply", "--step", "1", "--yes", "--chunk-size", "2"], 0);
    let reqs = env.api.requests_to("/api/v1/namespaces");
    let expired = reqs.iter().position(|r| r.status == 410).expect("a 410 was served");
    assert!(reqs[expired + 1].param("continue").is_none(), "the list started again");
    // Every namespace was read, and labeled.
    assert!(env.journal_states().len() >= 9, "{:?}", env.journal_states());
    assert!(env.journal_states().iter().all(|s| s == "applied"));
    assert_ne!(env.labels(), before);

    // The cluster-wide pod count before a clean-up.
    env.api.clear_requests();
    env.api.faults().set(Faults::none().expire_continue(ContinueExpiry::Once, Some("pods")));
    let out = env.run(&["apply", "--step", "4", "--yes", "--chunk-size", "2"]);
    let err = stderr(&out);
    assert!(err.contains("refusing step 4"), "{err}");
    assert!(!err.contains("cannot list pods"), "{err}");
    let pods = env.api.requests_to("/api/v1/pods");
    let expired = pods.iter().position(|r| r.status == 410).expect("a 410 was served");
    assert!(pods[expired + 1].param("continue").is_none(), "the list started again");
    assert!(pods.last().unwrap().status == 200);

    // Rollback reads namespaces one by one; with expiring tokens it still completes.
    env.api.faults().set(Faults::none().expire_continue(ContinueExpiry::Once, None));
    env.expect(&["rollback", "--yes", "--chunk-size", "2"], 0);
    assert_eq!(env.labels(), before);
}

#[test]
fn a_slow_server_times_out_apply_and_rollback_cleanly() {
    let env = start(Faults::none());
    env.api.faults().set(Faults::none().latency_ms(3000));
    let started = Instant::now();
    let out = env.expect(&["apply", "--step", "1", "--yes", "--request-timeout", "200ms"], 2);
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
    assert!(
        stderr(&out).contains("no answer within 200ms (--request-timeout)"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.api.writes(), 0);
    assert!(env.journal_text().is_none_or(|t| !t.contains("\"applied\"")));

    env.api.faults().clear();
    let before = env.applied_step_1();
    let journal = env.journal_text();
    env.api.faults().set(Faults::none().latency_ms(3000));
    let started = Instant::now();
    let out = env.expect(&["rollback", "--yes", "--request-timeout", "200ms"], 2);
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
    assert!(
        stderr(&out).contains("no answer within 200ms (--request-timeout)"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.journal_text(), journal, "nothing was rolled back, nothing recorded");
    env.api.faults().clear();
    env.expect(&["rollback", "--yes"], 0);
    assert_eq!(env.labels(), before);
}

#[test]
fn forbidden_is_reported_clearly_by_apply_and_rollback() {
    let env = start(Faults::none());
    env.api.faults().set(Faults::none().forbid("namespaces"));
    let out = env.expect(&["apply", "--step", "1", "--yes"], 2);
    let err = stderr(&out);
    assert!(err.contains("403 Forbidden"), "{err}");
    assert!(err.contains("cannot list resource \"namespaces\""), "{err}");
    assert_eq!(env.api.writes(), 0);
    assert!(env.journal_text().is_none_or(|t| !t.contains("\"applied\"")));
    // Not retried: it will not change.
    assert_eq!(env.api.requests_to("/namespaces").len(), 1);

    env.api.faults().clear();
    env.applied_step_1();
    let journal = env.journal_text();
    env.api.faults().set(Faults::none().forbid("namespaces"));
    let out = env.expect(&["rollback", "--yes"], 2);
    assert!(stderr(&out).contains("403 Forbidden"), "{}", stderr(&out));
    assert_eq!(env.journal_text(), journal);
}
