//! Judging the PodSecurity warnings of an enforce dry run. The server evaluates every existing
//! pod of the namespace, finished ones (`Succeeded`, `Failed`) included; enforce never affects an
//! existing pod and a finished one never runs again (its controller's template is what the plan
//! judged), so warnings that only concern finished pods do not stop the step. Anything else —
//! a live pod named in the warnings, a live pod that fails the level here, or a server that
//! could not check every pod — does. Pure.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde_json::Value;

use crate::model::level::{Level, Version};
use crate::model::pod::{ObjectMeta, PodSpec};
use crate::plan::Mode;
use crate::pss::{self, PodView};
use crate::pure::rollout::labels::blocks_enforce;

/// What the warnings of an enforce dry run mean for the step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// No warning says existing pods would violate the level.
    Clear,
    /// Only finished pods violate it (their names): enforcing is safe.
    FinishedOnly(Vec<String>),
    /// Live pods violate it (or the server could not check them all): stop unless `--force`.
    Block,
}

#[derive(Deserialize)]
struct PodDoc {
    #[serde(default)]
    metadata: ObjectMeta,
    #[serde(default)]
    spec: PodSpec,
    #[serde(default)]
    status: PodStatus,
}

#[derive(Default, Deserialize)]
struct PodStatus {
    #[serde(default)]
    phase: Option<String>,
}

/// The pod names the warnings' detail lines start with (`<pod>: …`,
/// `<pod> (and 2 other pods): …`).
pub fn named_pods(warnings: &[String]) -> BTreeSet<String> {
    warnings
        .iter()
        .filter(|w| !blocks_enforce(w))
        .filter_map(|w| {
            let (head, _) = w.split_once(": ")?;
            let name = head.split_once(" (and ").map_or(head, |(n, _)| n);
            (!name.is_empty() && !name.contains(' ')).then(|| name.to_owned())
        })
        .collect()
}

/// The enforce level and version a label set asks for (`None` when it sets no valid level).
pub fn enforce_of(labels: &BTreeMap<String, String>) -> Option<(Level, Version)> {
    let level = labels.get(&Mode::Enforce.level_key())?.parse().ok()?;
    let version = labels
        .get(&Mode::Enforce.version_key())
        .and_then(|v| v.parse().ok())
        .unwrap_or(Version::Latest);
    Some((level, version))
}

/// Re-verifies a namespace before its enforce label is written: the live objects among `objects`
/// (pods and workloads as listed, each with `kind` and `apiVersion`) that the level would reject,
/// as `Kind name: message` lines in input order. An object that cannot be read counts as
/// rejected: what cannot be checked is not known to pass. Finished pods, scaled-down workloads,
/// suspended CronJobs and finished Jobs are not live and are skipped.
pub fn rejected_objects(objects: &[Value], level: Level, version: Version) -> Vec<String> {
    let mut out = Vec::new();
    for raw in objects {
        let kind = raw.get("kind").and_then(Value::as_str).unwrap_or("object");
        let name = raw.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("(unnamed)");
        match crate::decode::decode_value(raw.clone()) {
            Ok(crate::decode::Decoded::Pod(obj)) => {
                if !obj.is_live() {
                    continue;
                }
                let violations = pss::evaluate(level, version, &obj.view());
                if !violations.is_empty() {
                    out.push(format!(
                        "{} {}: {}",
                        obj.kind_name(),
                        obj.name(),
                        pss::long_form(&violations)
                    ));
                }
            }
            Ok(crate::decode::Decoded::Custom(_, found)) => {
                for t in found.iter().filter(|t| t.is_live()) {
                    let violations = pss::evaluate(level, version, &t.view());
                    if !violations.is_empty() {
                        out.push(format!("{}: {}", t.object_ref(), pss::long_form(&violations)));
                    }
                }
            }
            Ok(_) => out.push(format!("{kind} {name}: not a pod or workload")),
            Err(e) => out.push(format!("{kind} {name}: cannot be read: {e}")),
        }
    }
    out
}

/// Judges the warnings of an enforce dry run, given the namespace's pods (as listed) and the
/// labels the step writes.
pub fn judge(warnings: &[String], pods: &[Value], enforce: &BTreeMap<String, String>) -> Verdict {
    let blocking: Vec<&String> = warnings.iter().filter(|w| blocks_enforce(w)).collect();
    if blocking.is_empty() {
        return Verdict::Clear;
    }
    if !blocking.iter().all(|w| w.starts_with("existing pods in namespace ")) {
        return Verdict::Block;
    }
    let Some((level, version)) = enforce_of(enforce) else { return Verdict::Block };
    let mut finished = BTreeSet::new();
    for pod in pods {
        let Ok(doc) = serde_json::from_value::<PodDoc>(pod.clone()) else { return Verdict::Block };
        let done = matches!(doc.status.phase.as_deref(), Some("Succeeded" | "Failed"));
        if done {
            finished.insert(doc.metadata.name.clone());
            continue;
        }
        let view = PodView { annotations: &doc.metadata.annotations, spec: &doc.spec };
        if !pss::allows(level, version, &view) {
            return Verdict::Block;
        }
    }
    let named = named_pods(warnings);
    if named.is_empty() || !named.iter().all(|n| finished.contains(n)) {
        return Verdict::Block;
    }
    Verdict::FinishedOnly(named.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn enforce(level: &str) -> BTreeMap<String, String> {
        [
            ("pod-security.kubernetes.io/enforce".to_owned(), level.to_owned()),
            ("pod-security.kubernetes.io/enforce-version".to_owned(), "v1.24".to_owned()),
        ]
        .into()
    }

    fn pod(name: &str, phase: &str, privileged: bool) -> Value {
        json!({"metadata": {"name": name}, "status": {"phase": phase},
               "spec": {"containers": [{"name": "c", "image": "i",
                        "securityContext": {"privileged": privileged}}]}})
    }

    fn warnings(names: &[&str]) -> Vec<String> {
        let mut w = vec![
            "existing pods in namespace \"a\" violate the new PodSecurity enforce level \"baseline:v1.24\"".to_owned(),
        ];
        w.extend(names.iter().map(|n| format!("{n}: privileged")));
        w
    }

    #[test]
    fn finished_pods_do_not_block() {
        let pods = vec![pod("done", "Succeeded", true), pod("web", "Running", false)];
        assert_eq!(
            judge(&warnings(&["done"]), &pods, &enforce("baseline")),
            Verdict::FinishedOnly(vec!["done".into()])
        );
        assert_eq!(judge(&[], &pods, &enforce("baseline")), Verdict::Clear);
        assert_eq!(judge(&["something else".into()], &pods, &enforce("baseline")), Verdict::Clear);
    }

    #[test]
    fn rejected_objects_are_the_live_ones_failing_the_level() {
        let mut running = pod("web", "Running", true);
        running["kind"] = "Pod".into();
        running["apiVersion"] = "v1".into();
        let mut done = pod("done", "Succeeded", true);
        done["kind"] = "Pod".into();
        done["apiVersion"] = "v1".into();
        let deployment = |name: &str, replicas: u32| {
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
                   "spec": {"replicas": replicas, "template": {"spec": {"containers": [
                       {"name": "c", "image": "i", "securityContext": {"privileged": true}}]}}}})
        };
        let objects = vec![running, done, deployment("live", 2), deployment("scaled-down", 0)];
        let out = rejected_objects(&objects, Level::Baseline, Version::Latest);
        assert_eq!(out.len(), 2, "{out:?}");
        assert!(out[0].starts_with("Pod web: privileged (container \"c\""), "{out:?}");
        assert!(out[1].starts_with("Deployment live: privileged"), "{out:?}");
        assert!(rejected_objects(&objects, Level::Privileged, Version::Latest).is_empty());
        let bad = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}, "spec": 3});
        let out = rejected_objects(&[bad], Level::Baseline, Version::Latest);
        assert!(out[0].starts_with("Pod x: cannot be read"), "{out:?}");
    }

    #[test]
    fn live_violations_block() {
        let pods = vec![pod("done", "Succeeded", true), pod("web", "Running", true)];
        // Named pod finished, but a live pod (hidden behind "and 1 other pod") fails here too.
        let w = vec![
            "existing pods in namespace \"a\" violate the new PodSecurity enforce level \"baseline:v1.24\"".to_owned(),
            "done (and 1 other pod): privileged".to_owned(),
        ];
        assert_eq!(named_pods(&w), ["done".to_owned()].into());
        assert_eq!(judge(&w, &pods, &enforce("baseline")), Verdict::Block);
        // A live pod named by the server blocks even when this evaluation passes it.
        let pods = vec![pod("web", "Running", false)];
        assert_eq!(judge(&warnings(&["web"]), &pods, &enforce("baseline")), Verdict::Block);
        // Partial checks block.
        let partial = vec![
            "new PodSecurity enforce level only checked against the first 1 of 2 existing pods"
                .to_owned(),
        ];
        assert_eq!(judge(&partial, &[], &enforce("baseline")), Verdict::Block);
        assert_eq!(enforce_of(&BTreeMap::new()), None);
    }
}
