//! Pod Security admission for namespaces, as the API server's PodSecurity plugin does it: label
//! validation on create/update, and on an enforce change the dry-run of existing pods that turns
//! violations into warnings (pss-spec §3.4, §3.5). Pods are evaluated with the crate's evaluator.

use std::collections::{BTreeMap, HashSet};

use psa_migrate::model::level::{Level, Version};
use psa_migrate::model::pod::{ObjectMeta, PodSpec};
use psa_migrate::pss::{PodView, evaluate, short_form};
use serde::Deserialize;

use super::patch::FieldError;

pub const ENFORCE: &str = "pod-security.kubernetes.io/enforce";
pub const ENFORCE_VERSION: &str = "pod-security.kubernetes.io/enforce-version";
pub const AUDIT: &str = "pod-security.kubernetes.io/audit";
pub const AUDIT_VERSION: &str = "pod-security.kubernetes.io/audit-version";
pub const WARN: &str = "pod-security.kubernetes.io/warn";
pub const WARN_VERSION: &str = "pod-security.kubernetes.io/warn-version";

/// A level at a version, printed `level:version`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LevelVersion {
    pub level: Level,
    pub version: Version,
}

impl LevelVersion {
    pub const PRIVILEGED_LATEST: LevelVersion =
        LevelVersion { level: Level::Privileged, version: Version::Latest };

    pub fn text(&self) -> String {
        format!("{}:{}", self.level, self.version)
    }

    fn equivalent(&self, other: &LevelVersion) -> bool {
        (self.level == Level::Privileged && other.level == Level::Privileged) || self == other
    }
}

/// The three modes of a namespace policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    pub enforce: LevelVersion,
    pub audit: LevelVersion,
    pub warn: LevelVersion,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            enforce: LevelVersion::PRIVILEGED_LATEST,
            audit: LevelVersion::PRIVILEGED_LATEST,
            warn: LevelVersion::PRIVILEGED_LATEST,
        }
    }
}

/// How the fake's PodSecurity admission behaves.
#[derive(Clone, Debug)]
pub struct PsaConfig {
    /// `None`: on when the server minor is ≥ 23 (beta, on by default), as on real clusters.
    pub enabled: Option<bool>,
    /// Defaults for modes without labels (the configuration file's `defaults`).
    pub defaults: Policy,
    pub exempt_namespaces: Vec<String>,
    pub exempt_runtime_classes: Vec<String>,
    /// At most this many pods are evaluated (upstream: 3000).
    pub max_pods: usize,
    /// Evaluate `latest` (and newer pinned versions) as the server's own minor version, as an API
    /// server of that release would. Messages still echo the requested version.
    pub latest_is_server_minor: bool,
}

impl Default for PsaConfig {
    fn default() -> Self {
        PsaConfig {
            enabled: None,
            defaults: Policy::default(),
            exempt_namespaces: Vec::new(),
            exempt_runtime_classes: Vec::new(),
            max_pods: 3000,
            latest_is_server_minor: true,
        }
    }
}

fn parse_err(label: &str, value: &str, detail: String) -> FieldError {
    FieldError { field: format!("metadata.labels[{label}]"), value: value.into(), detail }
}

/// Upstream `PolicyToEvaluate`: the effective policy and the label errors.
pub fn policy_to_evaluate(
    labels: &BTreeMap<String, String>,
    defaults: &Policy,
) -> (Policy, Vec<FieldError>) {
    let mut p = *defaults;
    let mut errs = Vec::new();
    let mut has_enforce_level = false;
    let mut has_warn_level = false;
    let mut has_warn_version = false;
    let level = |label: &str, errs: &mut Vec<FieldError>, fallback: Level| {
        labels.get(label).map(|v| {
            v.parse::<Level>().unwrap_or_else(|e| {
                errs.push(parse_err(label, v, e.to_string()));
                fallback
            })
        })
    };
    let version = |label: &str, errs: &mut Vec<FieldError>| {
        labels.get(label).map(|v| {
            v.parse::<Version>().unwrap_or_else(|e| {
                errs.push(parse_err(label, v, e.to_string()));
                Version::Latest
            })
        })
    };
    if let Some(l) = level(ENFORCE, &mut errs, Level::Restricted) {
        has_enforce_level = errs.is_empty();
        p.enforce.level = l;
    }
    if let Some(v) = version(ENFORCE_VERSION, &mut errs) {
        p.enforce.version = v;
    }
    if let Some(l) = level(AUDIT, &mut errs, Level::Privileged) {
        p.audit.level = l;
    }
    if let Some(v) = version(AUDIT_VERSION, &mut errs) {
        p.audit.version = v;
    }
    if let Some(l) = level(WARN, &mut errs, Level::Privileged) {
        has_warn_level = true;
        p.warn.level = l;
    }
    if let Some(v) = version(WARN_VERSION, &mut errs) {
        has_warn_version = true;
        p.warn.version = v;
    }
    if !has_warn_level && has_enforce_level && p.enforce.level > p.warn.level {
        p.warn.level = p.enforce.level;
        if !has_warn_version {
            p.warn.version = p.enforce.version;
        }
    }
    (p, errs)
}

/// The outcome of namespace admission.
#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    Allowed(Vec<String>),
    Invalid(Vec<FieldError>),
}

/// A pod as the namespace check sees it.
#[derive(Debug, Default, Deserialize)]
pub struct PodDoc {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: PodSpec,
}

impl PsaConfig {
    fn exempt_namespace_warning(
        &self,
        ns: &str,
        p: &Policy,
        labels: &BTreeMap<String, String>,
    ) -> Option<String> {
        let fully_privileged = p.enforce.level == Level::Privileged
            && p.audit.level == Level::Privileged
            && p.warn.level == Level::Privileged;
        let d = &self.defaults;
        let equivalent = p.enforce.equivalent(&d.enforce)
            && p.audit.equivalent(&d.audit)
            && p.warn.equivalent(&d.warn);
        if fully_privileged || equivalent {
            return None;
        }
        let mut parts = Vec::new();
        for (name, lv, l, v) in [
            ("enforce", p.enforce, ENFORCE, ENFORCE_VERSION),
            ("audit", p.audit, AUDIT, AUDIT_VERSION),
            ("warn", p.warn, WARN, WARN_VERSION),
        ] {
            if lv.level != Level::Privileged && (labels.contains_key(l) || labels.contains_key(v)) {
                parts.push(format!("{name}={}", lv.text()));
            }
        }
        Some(format!(
            "namespace \"{ns}\" is exempt from Pod Security, and the policy ({}) will be ignored",
            parts.join(", ")
        ))
    }

    /// Namespace CREATE.
    pub fn validate_create(&self, ns: &str, labels: &BTreeMap<String, String>) -> Decision {
        let (policy, errs) = policy_to_evaluate(labels, &self.defaults);
        if !errs.is_empty() {
            return Decision::Invalid(errs);
        }
        if self.exempt_namespaces.iter().any(|e| e == ns)
            && let Some(w) = self.exempt_namespace_warning(ns, &policy, labels)
        {
            return Decision::Allowed(vec![w]);
        }
        Decision::Allowed(Vec::new())
    }

    /// Namespace UPDATE. `pods` lists the namespace's pods in list order; it is only called when
    /// the enforce policy tightens.
    pub fn validate_update(
        &self,
        ns: &str,
        old: &BTreeMap<String, String>,
        new: &BTreeMap<String, String>,
        server_minor: u32,
        pods: impl FnOnce() -> Vec<PodDoc>,
    ) -> Decision {
        let (new_policy, new_errs) = policy_to_evaluate(new, &self.defaults);
        let (old_policy, old_errs) = policy_to_evaluate(old, &self.defaults);
        if !new_errs.is_empty() && (old_errs.is_empty() || new_errs != old_errs) {
            return Decision::Invalid(new_errs);
        }
        let (n, o) = (new_policy.enforce, old_policy.enforce);
        if n == o || n.level == Level::Privileged || (n.version == o.version && n.level <= o.level)
        {
            return Decision::Allowed(Vec::new());
        }
        if self.exempt_namespaces.iter().any(|e| e == ns) {
            return Decision::Allowed(
                self.exempt_namespace_warning(ns, &new_policy, new).into_iter().collect(),
            );
        }
        Decision::Allowed(self.evaluate_pods_in_namespace(ns, n, server_minor, pods()))
    }

    fn effective_version(&self, v: Version, server_minor: u32) -> Version {
        if !self.latest_is_server_minor {
            return v;
        }
        match v {
            Version::Latest => Version::Minor(server_minor),
            Version::Minor(m) => Version::Minor(m.min(server_minor)),
        }
    }

    /// Upstream `EvaluatePodsInNamespace` (with `prioritizePods`; no time budget).
    pub fn evaluate_pods_in_namespace(
        &self,
        ns: &str,
        enforce: LevelVersion,
        server_minor: u32,
        pods: Vec<PodDoc>,
    ) -> Vec<String> {
        let exempt = |p: &PodDoc| {
            p.spec.runtime_class_name.as_deref().is_some_and(|rc| {
                !rc.is_empty() && self.exempt_runtime_classes.iter().any(|e| e == rc)
            })
        };
        let mut prioritized = Vec::with_capacity(pods.len());
        let mut duplicates = Vec::new();
        let mut seen_controllers = HashSet::new();
        for pod in pods {
            if exempt(&pod) {
                continue;
            }
            match pod.metadata.controller().map(|c| c.uid.clone()) {
                None => prioritized.push(pod),
                Some(uid) if seen_controllers.contains(&uid) => duplicates.push(pod),
                Some(uid) => {
                    seen_controllers.insert(uid);
                    prioritized.push(pod);
                }
            }
        }
        prioritized.extend(duplicates);
        let total = prioritized.len();
        prioritized.truncate(self.max_pods);
        let checked = prioritized.len();

        let version = self.effective_version(enforce.version, server_minor);
        let mut order: Vec<String> = Vec::new();
        let mut counts: BTreeMap<String, (String, usize)> = BTreeMap::new();
        for pod in &prioritized {
            let view = PodView { annotations: &pod.metadata.annotations, spec: &pod.spec };
            let violations = evaluate(enforce.level, version, &view);
            if violations.is_empty() {
                continue;
            }
            let warning = short_form(&violations);
            match counts.get_mut(&warning) {
                None => {
                    order.push(warning.clone());
                    counts.insert(warning, (pod.metadata.name.clone(), 1));
                }
                Some((name, n)) => {
                    if pod.metadata.name < *name {
                        *name = pod.metadata.name.clone();
                    }
                    *n += 1;
                }
            }
        }
        let mut warnings = Vec::new();
        if checked < total {
            warnings.push(format!(
                "new PodSecurity enforce level only checked against the first {checked} of {total} existing pods"
            ));
        }
        if !order.is_empty() {
            warnings.push(format!(
                "existing pods in namespace \"{ns}\" violate the new PodSecurity enforce level \"{}\"",
                enforce.text()
            ));
        }
        let mut pod_warnings: Vec<String> = order
            .into_iter()
            .map(|w| {
                let (name, n) = &counts[&w];
                match n {
                    1 => format!("{name}: {w}"),
                    2 => format!("{name} (and 1 other pod): {w}"),
                    n => format!("{name} (and {} other pods): {w}", n - 1),
                }
            })
            .collect();
        pod_warnings.sort();
        warnings.extend(pod_warnings);
        warnings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn policy_parsing_and_warn_inheritance() {
        let (p, errs) = policy_to_evaluate(
            &labels(&[(ENFORCE, "baseline"), (ENFORCE_VERSION, "v1.24")]),
            &Policy::default(),
        );
        assert!(errs.is_empty());
        assert_eq!(p.enforce.text(), "baseline:v1.24");
        assert_eq!(p.warn.text(), "baseline:v1.24");
        assert_eq!(p.audit.text(), "privileged:latest");
        let (_, errs) = policy_to_evaluate(
            &labels(&[(ENFORCE, "strict"), (WARN_VERSION, "1.24")]),
            &Policy::default(),
        );
        let msgs: Vec<String> = errs.iter().map(FieldError::message).collect();
        assert_eq!(
            msgs,
            [
                "metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: \"strict\": must be one of privileged, baseline, restricted",
                "metadata.labels[pod-security.kubernetes.io/warn-version]: Invalid value: \"1.24\": must be \"latest\" or \"v1.x\"",
            ]
        );
    }

    #[test]
    fn update_skip_rules() {
        let cfg = PsaConfig::default();
        let no_pods = || -> Vec<PodDoc> { panic!("pods must not be listed") };
        let base = labels(&[(ENFORCE, "baseline")]);
        // Unchanged, relaxed at the same version, or privileged: no pod check.
        assert_eq!(cfg.validate_update("a", &base, &base, 24, no_pods), Decision::Allowed(vec![]));
        assert_eq!(
            cfg.validate_update("a", &base, &labels(&[]), 24, no_pods),
            Decision::Allowed(vec![])
        );
        assert_eq!(
            cfg.validate_update("a", &labels(&[(ENFORCE, "restricted")]), &base, 24, no_pods),
            Decision::Allowed(vec![])
        );
        // Old invalid labels kept as they were are tolerated.
        let bad = labels(&[(ENFORCE, "nope")]);
        assert_eq!(cfg.validate_update("a", &bad, &bad, 24, no_pods), Decision::Allowed(vec![]));
        assert!(matches!(cfg.validate_update("a", &base, &bad, 24, no_pods), Decision::Invalid(_)));
        // Tightening lists the pods.
        let d = cfg.validate_update("a", &labels(&[]), &base, 24, Vec::new);
        assert_eq!(d, Decision::Allowed(vec![]));
    }

    #[test]
    fn exempt_namespace_warning_text() {
        let cfg =
            PsaConfig { exempt_namespaces: vec!["kube-system".into()], ..PsaConfig::default() };
        let d = cfg.validate_create("kube-system", &labels(&[(ENFORCE, "restricted")]));
        assert_eq!(
            d,
            Decision::Allowed(vec!["namespace \"kube-system\" is exempt from Pod Security, and the policy (enforce=restricted:latest) will be ignored".into()])
        );
    }
}
