//! Namespace label changes of the label steps, their merge patches, and the rollback decision.
//! Pure.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::plan::{LABEL_PREFIX, step_labels};

/// Labels, with `None` for a key that is absent.
pub type MaybeLabels = BTreeMap<String, Option<String>>;

/// The Pod Security labels among a namespace's labels.
pub fn psa_labels(labels: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    labels
        .iter()
        .filter(|(k, _)| k.starts_with(LABEL_PREFIX))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// What one label step changes on one namespace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelChange {
    pub step: u32,
    /// The labels the step writes (the plan's values for the step's keys).
    pub set: BTreeMap<String, String>,
    /// The namespace's values of those keys before the step (`None`: absent).
    pub previous: MaybeLabels,
}

/// The change a label step makes to a namespace with labels `live`; `None` when the namespace
/// already has the planned values of the step's keys (re-running apply is a no-op).
pub fn step_change(
    live: &BTreeMap<String, String>,
    planned: &BTreeMap<String, String>,
    step: u32,
) -> Option<LabelChange> {
    let set = step_labels(planned, step);
    if set.iter().all(|(k, v)| live.get(k) == Some(v)) {
        return None;
    }
    let previous = set.keys().map(|k| (k.clone(), live.get(k).cloned())).collect();
    Some(LabelChange { step, set, previous })
}

/// `labels` with `changes` applied (`None` removes a key).
pub fn with_changes(
    labels: &BTreeMap<String, String>,
    changes: &MaybeLabels,
) -> BTreeMap<String, String> {
    let mut out = labels.clone();
    for (k, v) in changes {
        match v {
            Some(v) => out.insert(k.clone(), v.clone()),
            None => out.remove(k),
        };
    }
    out
}

/// `set` as changes.
pub fn as_changes(set: &BTreeMap<String, String>) -> MaybeLabels {
    set.iter().map(|(k, v)| (k.clone(), Some(v.clone()))).collect()
}

/// The JSON merge patch that sets (or, for `None`, removes) labels, guarded by a
/// `resourceVersion` precondition: `{"metadata":{"labels":{…},"resourceVersion":"42"}}`.
pub fn merge_patch(labels: &MaybeLabels, resource_version: &str) -> Value {
    let labels: Map<String, Value> = labels
        .iter()
        .map(|(k, v)| (k.clone(), v.as_ref().map_or(Value::Null, |v| Value::String(v.clone()))))
        .collect();
    json!({"metadata": {"labels": labels, "resourceVersion": resource_version}})
}

/// The labels of a namespace object (`metadata.labels`).
pub fn labels_of(object: &Value) -> BTreeMap<String, String> {
    object
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned()))).collect())
        .unwrap_or_default()
}

/// What rolling back one journaled label step would do to a namespace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rollback {
    /// The namespace already has the previous values (the write never happened, or was undone).
    Nothing,
    /// Restore these keys (`None`: remove the label).
    Restore(MaybeLabels),
    /// Someone changed these keys since apply wrote them: (key, what apply wrote, what is there
    /// now). `restore` is what `--force` writes.
    Changed { changed: Vec<(String, Option<String>, Option<String>)>, restore: MaybeLabels },
}

/// Decides how to roll back a label step that recorded `previous` and wrote `written`, given the
/// namespace's current labels.
pub fn rollback(
    live: &BTreeMap<String, String>,
    previous: &MaybeLabels,
    written: &BTreeMap<String, String>,
) -> Rollback {
    let restore: MaybeLabels = previous
        .iter()
        .filter(|(k, before)| live.get(*k) != before.as_ref())
        .map(|(k, before)| (k.clone(), before.clone()))
        .collect();
    if restore.is_empty() {
        return Rollback::Nothing;
    }
    let changed: Vec<(String, Option<String>, Option<String>)> = restore
        .keys()
        .filter(|k| live.get(*k) != written.get(*k))
        .map(|k| (k.clone(), written.get(k).cloned(), live.get(k).cloned()))
        .collect();
    if changed.is_empty() {
        Rollback::Restore(restore)
    } else {
        Rollback::Changed { changed, restore }
    }
}

/// Whether a PodSecurity warning from a dry run of an enforce change means the namespace must
/// not be enforced without `--force`: existing pods violate the new level, or the server could
/// not check them all.
pub fn blocks_enforce(warning: &str) -> bool {
    warning.starts_with("existing pods in namespace ")
        || warning.starts_with("new PodSecurity enforce level only checked against the first ")
        || warning.starts_with("failed to list pods while checking new PodSecurity enforce level")
}

/// Whether a warning is the PSP deprecation notice old servers add to every PSP request.
pub fn is_psp_deprecation(warning: &str) -> bool {
    warning.contains("PodSecurityPolicy is deprecated")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    const E: &str = "pod-security.kubernetes.io/enforce";
    const EV: &str = "pod-security.kubernetes.io/enforce-version";
    const W: &str = "pod-security.kubernetes.io/warn";
    const A: &str = "pod-security.kubernetes.io/audit";

    #[test]
    fn step_changes_only_touch_the_step_keys() {
        let planned = m(&[(E, "baseline"), (EV, "v1.24"), (W, "restricted"), (A, "restricted")]);
        let live = m(&[("team", "x"), (W, "baseline")]);
        let c1 = step_change(&live, &planned, 1).unwrap();
        assert_eq!(c1.set, m(&[(W, "restricted"), (A, "restricted")]));
        assert_eq!(c1.previous[W].as_deref(), Some("baseline"));
        assert_eq!(c1.previous[A], None);
        let c2 = step_change(&live, &planned, 2).unwrap();
        assert_eq!(c2.set, m(&[(E, "baseline"), (EV, "v1.24")]));
        let done = with_changes(&live, &as_changes(&c2.set));
        assert!(step_change(&done, &planned, 2).is_none());
        assert!(step_change(&live, &planned, 3).is_none());
        assert_eq!(psa_labels(&done), m(&[(E, "baseline"), (EV, "v1.24"), (W, "baseline")]));
    }

    #[test]
    fn merge_patches_carry_the_precondition_and_nulls() {
        let mut changes = as_changes(&m(&[(E, "baseline")]));
        changes.insert(W.into(), None);
        assert_eq!(
            merge_patch(&changes, "42").to_string(),
            r#"{"metadata":{"labels":{"pod-security.kubernetes.io/enforce":"baseline","pod-security.kubernetes.io/warn":null},"resourceVersion":"42"}}"#
        );
        let ns = serde_json::json!({"metadata": {"labels": {"a": "b", "n": 1}}});
        assert_eq!(labels_of(&ns), m(&[("a", "b")]));
    }

    #[test]
    fn rollback_decisions() {
        let previous: MaybeLabels =
            [(E.to_owned(), None), (EV.to_owned(), Some("v1.23".to_owned()))].into();
        let written = m(&[(E, "baseline"), (EV, "v1.24")]);
        let before = m(&[("team", "x"), (EV, "v1.23")]);
        assert_eq!(rollback(&before, &previous, &written), Rollback::Nothing);
        let after = m(&[("team", "x"), (E, "baseline"), (EV, "v1.24")]);
        let Rollback::Restore(r) = rollback(&after, &previous, &written) else { panic!() };
        assert_eq!(with_changes(&after, &r), before);
        let edited = m(&[("team", "x"), (E, "restricted"), (EV, "v1.24")]);
        let Rollback::Changed { changed, restore } = rollback(&edited, &previous, &written) else {
            panic!()
        };
        assert_eq!(
            changed,
            vec![(E.to_owned(), Some("baseline".to_owned()), Some("restricted".to_owned()))]
        );
        assert_eq!(with_changes(&edited, &restore), before);
    }

    #[test]
    fn enforce_warnings() {
        assert!(blocks_enforce(
            "existing pods in namespace \"a\" violate the new PodSecurity enforce level \"restricted:v1.24\""
        ));
        assert!(blocks_enforce(
            "new PodSecurity enforce level only checked against the first 3000 of 4000 existing pods"
        ));
        assert!(!blocks_enforce(
            "namespace \"a\" is exempt from Pod Security, and the policy (x) will be ignored"
        ));
        assert!(is_psp_deprecation(
            "policy/v1beta1 PodSecurityPolicy is deprecated in v1.21+, unavailable in v1.25+"
        ));
    }
}
