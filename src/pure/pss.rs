//! The Pod Security Standards check catalogue and evaluator: a faithful port of the upstream
//! `k8s.io/pod-security-admission/policy` package.
//!
//! Each check lives in its own file under `pss/checks/`, named after its upstream ID, and is
//! listed once in [`checks::CATALOGUE`]. A check has an ordered list of versioned
//! implementations; the implementation with the highest minimum version not above the requested
//! version applies. Restricted implementations may override baseline checks. Results are ordered
//! as upstream orders them: baseline IDs, then restricted IDs, each in byte order.
//!
//! This module is pure: no I/O.

pub mod checks;
pub mod msg;
#[cfg(test)]
pub(crate) mod testing;

use std::sync::OnceLock;

use schemars::JsonSchema;
use serde::Serialize;

use crate::model::level::{Level, Version};

pub use crate::model::pod::PodView;

/// A failed check: upstream's forbidden reason (always a fixed text, so no allocation) and
/// detail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Forbidden {
    pub reason: &'static str,
    pub detail: String,
}

impl Forbidden {
    pub fn new(reason: &'static str, detail: impl Into<String>) -> Forbidden {
        Forbidden { reason, detail: detail.into() }
    }
}

/// A check implementation: `None` when the pod is allowed.
pub type CheckFn = fn(&PodView<'_>) -> Option<Forbidden>;

/// One versioned implementation of a check.
#[derive(Debug)]
pub struct VersionedCheck {
    /// Minimum policy version (`v1.<min>`) this implementation applies from.
    pub min: u32,
    pub check: CheckFn,
    /// Baseline check IDs this (restricted) implementation replaces at the restricted level.
    pub overrides: &'static [&'static str],
}

/// A check: upstream ID, level, and its implementations in increasing version order.
#[derive(Debug)]
pub struct Check {
    pub id: &'static str,
    /// The control's name in the Pod Security Standards page's tables (e.g. `Host Ports`).
    pub control: &'static str,
    /// What the check requires, in one sentence.
    pub summary: &'static str,
    pub level: Level,
    pub versions: &'static [VersionedCheck],
}

impl Check {
    /// The implementation in force at a resolved minor version, if the check exists then.
    pub fn at(&self, minor: u32) -> Option<&VersionedCheck> {
        self.versions.iter().rev().find(|v| v.min <= minor)
    }
}

/// The newest version any implementation in the catalogue starts at; `latest` resolves to it.
pub fn max_version() -> u32 {
    static MAX: OnceLock<u32> = OnceLock::new();
    *MAX.get_or_init(|| {
        checks::CATALOGUE.iter().flat_map(|c| c.versions.iter().map(|v| v.min)).max().unwrap_or(0)
    })
}

/// One failing check in an evaluation result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Violation {
    pub check: &'static str,
    pub reason: &'static str,
    pub detail: String,
}

/// The ordered list of (check ID, implementation) for one level at one resolved version.
type Resolved = Vec<(&'static str, CheckFn)>;

/// Resolved check lists, built once: index `[minor][0 = baseline, 1 = restricted]`.
fn resolved(level: Level, minor: u32) -> &'static [(&'static str, CheckFn)] {
    static TABLE: OnceLock<Vec<[Resolved; 2]>> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        (0..=max_version())
            .map(|m| [resolve(Level::Baseline, m), resolve(Level::Restricted, m)])
            .collect()
    });
    match level {
        Level::Privileged => &[],
        Level::Baseline => &table[minor as usize][0],
        Level::Restricted => &table[minor as usize][1],
    }
}

fn resolve(level: Level, minor: u32) -> Resolved {
    let active = |l: Level| {
        let mut v: Vec<(&'static str, &VersionedCheck)> = checks::CATALOGUE
            .iter()
            .filter(|c| c.level == l)
            .filter_map(|c| c.at(minor).map(|imp| (c.id, imp)))
            .collect();
        v.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        v
    };
    let baseline = active(Level::Baseline);
    if level == Level::Baseline {
        return baseline.into_iter().map(|(id, imp)| (id, imp.check)).collect();
    }
    let restricted = active(Level::Restricted);
    let overridden: Vec<&str> =
        restricted.iter().flat_map(|(_, imp)| imp.overrides.iter().copied()).collect();
    baseline
        .into_iter()
        .filter(|(id, _)| !overridden.contains(id))
        .chain(restricted)
        .map(|(id, imp)| (id, imp.check))
        .collect()
}

/// The checks run for a level at a version, in result order.
pub fn checks_for(level: Level, version: Version) -> impl Iterator<Item = &'static str> {
    resolved(level, version.resolve(max_version())).iter().map(|(id, _)| *id)
}

/// Evaluates a pod against a level at a version. An empty result means allowed.
pub fn evaluate(level: Level, version: Version, pod: &PodView<'_>) -> Vec<Violation> {
    resolved(level, version.resolve(max_version()))
        .iter()
        .filter_map(|(id, check)| {
            check(pod).map(|f| Violation { check: id, reason: f.reason, detail: f.detail })
        })
        .collect()
}

/// Whether a pod passes a level at a version (no message is built).
pub fn allows(level: Level, version: Version, pod: &PodView<'_>) -> bool {
    resolved(level, version.resolve(max_version())).iter().all(|(_, check)| check(pod).is_none())
}

/// The most restrictive level the pod passes at a version.
pub fn passes(version: Version, pod: &PodView<'_>) -> Level {
    if allows(Level::Restricted, version, pod) {
        Level::Restricted
    } else if allows(Level::Baseline, version, pod) {
        Level::Baseline
    } else {
        Level::Privileged
    }
}

/// Upstream's short form: reasons joined by `, `.
pub fn short_form(violations: &[Violation]) -> String {
    let reasons: Vec<&str> = violations.iter().map(|v| reason_or_unknown(v.reason)).collect();
    reasons.join(", ")
}

/// Upstream's long form: `reason (detail)` (or `reason` when the detail is empty), joined by `, `.
pub fn long_form(violations: &[Violation]) -> String {
    let parts: Vec<String> = violations
        .iter()
        .map(|v| {
            let reason = reason_or_unknown(v.reason);
            if v.detail.is_empty() { reason.to_owned() } else { format!("{reason} ({})", v.detail) }
        })
        .collect();
    parts.join(", ")
}

fn reason_or_unknown(reason: &str) -> &str {
    if reason.is_empty() { "unknown forbidden reason" } else { reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Upstream invariants: versions strictly increasing, only restricted checks override, and
    /// overrides name existing baseline checks; IDs are unique.
    #[test]
    fn catalogue_invariants() {
        let mut ids: Vec<&str> = checks::CATALOGUE.iter().map(|c| c.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), checks::CATALOGUE.len(), "duplicate check IDs");
        for c in checks::CATALOGUE {
            assert!(!c.versions.is_empty(), "{} has no implementation", c.id);
            assert!(c.versions.windows(2).all(|w| w[0].min < w[1].min), "{} versions", c.id);
            for v in c.versions {
                if c.level != Level::Restricted {
                    assert!(v.overrides.is_empty(), "{} is not restricted but overrides", c.id);
                }
                for o in v.overrides {
                    let target = checks::CATALOGUE.iter().find(|b| b.id == *o);
                    assert_eq!(
                        target.map(|b| b.level),
                        Some(Level::Baseline),
                        "{} overrides {o}",
                        c.id
                    );
                }
            }
        }
    }

    /// The number of checks per level and version, as pss-spec lists it.
    #[test]
    fn check_counts_per_version() {
        let count = |l, m| checks_for(l, Version::Minor(m)).count();
        let expect = [
            (0, 11, 12),
            (8, 11, 13),
            (19, 11, 13),
            (22, 11, 13),
            (23, 11, 14),
            (34, 12, 15),
            (35, 12, 15),
            (37, 12, 15),
        ];
        for (m, b, r) in expect {
            assert_eq!((count(Level::Baseline, m), count(Level::Restricted, m)), (b, r), "v1.{m}");
        }
        assert_eq!(checks_for(Level::Privileged, Version::Latest).count(), 0);
        assert_eq!(max_version(), 37);
    }

    #[test]
    fn result_order_is_baseline_then_restricted_in_byte_order() {
        let ids: Vec<&str> = checks_for(Level::Restricted, Version::Latest).collect();
        assert_eq!(
            ids,
            [
                "appArmorProfile",
                "hostNamespaces",
                "hostPorts",
                "hostProbesAndHostLifecycle",
                "privileged",
                "seLinuxOptions",
                "sysctls",
                "windowsHostProcess",
                "allowPrivilegeEscalation",
                "capabilities_restricted",
                "procMount_restricted",
                "restrictedVolumes",
                "runAsNonRoot",
                "runAsUser",
                "seccompProfile_restricted",
            ]
        );
    }
}
