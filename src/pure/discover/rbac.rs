//! RBAC `use` resolution on PodSecurityPolicies: which rules grant `use`, which roles (aggregated
//! ClusterRoles included) hold them, and every (PSP, role, binding, subject) grant.
//!
//! A rule grants `use` on a PSP when its verbs contain `use` or `*`, its resources
//! `podsecuritypolicies` or `*`, its apiGroups `policy`, `extensions` or `*`, and its
//! resourceNames are empty (every PSP) or name the PSP. A RoleBinding grants inside its own
//! namespace only (whether it refers to a Role or a ClusterRole); a ClusterRoleBinding grants in
//! every namespace.
//!
//! Broken RBAC (missing roles, rules with typos, grants naming unknown PSPs) becomes findings,
//! never errors.
//!
//! Pure: no I/O.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::rbac::v1::{ClusterRole, PolicyRule};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use schemars::JsonSchema;
use serde::Serialize;

use crate::discover::bootstrap;
use crate::discover::subjects::{Principal, subject_ref};
use crate::findings::{Code, Finding, ObjectRef};
use crate::model::inventory::{Inventory, Provenance};

/// API groups PodSecurityPolicy was served from.
pub const PSP_GROUPS: &[&str] = &["policy", "extensions"];
/// The resource name.
pub const PSP_RESOURCE: &str = "podsecuritypolicies";

/// Which PSPs a rule grants `use` on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PspTarget {
    /// No resourceNames: every PSP.
    All,
    /// Only these.
    Named(BTreeSet<String>),
}

fn has(list: &[String], wanted: &[&str]) -> bool {
    list.iter().any(|v| wanted.contains(&v.as_str()))
}

/// The PSPs a rule grants `use` on, if it grants any.
pub fn rule_grants_use(rule: &PolicyRule) -> Option<PspTarget> {
    let groups = rule.api_groups.as_deref().unwrap_or_default();
    let resources = rule.resources.as_deref().unwrap_or_default();
    if !has(&rule.verbs, &["use", "*"])
        || !has(resources, &[PSP_RESOURCE, "*"])
        || !has(groups, &["policy", "extensions", "*"])
    {
        return None;
    }
    let names = rule.resource_names.as_deref().unwrap_or_default();
    if names.is_empty() {
        Some(PspTarget::All)
    } else {
        Some(PspTarget::Named(names.iter().cloned().collect()))
    }
}

/// Whether a rule grants `use` on PSPs and nothing else (verbs only `use`, resources only
/// `podsecuritypolicies`, groups only `policy`/`extensions`): removing it loses nothing else.
pub fn rule_is_psp_use_only(rule: &PolicyRule) -> bool {
    let groups = rule.api_groups.as_deref().unwrap_or_default();
    let resources = rule.resources.as_deref().unwrap_or_default();
    rule_grants_use(rule).is_some()
        && rule.verbs.iter().all(|v| v == "use")
        && resources.iter().all(|r| r == PSP_RESOURCE)
        && groups.iter().all(|g| PSP_GROUPS.contains(&g.as_str()))
        && rule.non_resource_urls.as_deref().unwrap_or_default().is_empty()
}

/// Levenshtein distance (small strings only).
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Whether a resource name looks like a misspelt `podsecuritypolicies`.
fn resource_typo(r: &str) -> bool {
    if r == PSP_RESOURCE || r == "*" {
        return false;
    }
    let lower = r.to_ascii_lowercase();
    let stem = lower
        .strip_suffix(".policy")
        .or_else(|| lower.strip_suffix(".extensions"))
        .unwrap_or(&lower);
    matches!(stem, "psp" | "psps" | "podsecuritypolicy" | "podsecuritypolicys")
        || distance(stem, PSP_RESOURCE) <= 3
}

/// Whether a verb looks like a misspelt `use`.
fn verb_typo(v: &str) -> bool {
    v != "use"
        && (v.eq_ignore_ascii_case("use")
            || matches!(v.to_ascii_lowercase().as_str(), "uses" | "used" | "usage"))
}

/// Problems with a rule that was probably meant to grant `use` on PSPs: (code, message).
pub fn rule_typos(rule: &PolicyRule) -> Vec<(Code, String)> {
    let mut out = Vec::new();
    let groups = rule.api_groups.as_deref().unwrap_or_default();
    let resources = rule.resources.as_deref().unwrap_or_default();
    let use_verb = has(&rule.verbs, &["use", "*"]);
    let psp_resource = has(resources, &[PSP_RESOURCE, "*"]);
    if use_verb {
        let typos: Vec<&str> =
            resources.iter().map(String::as_str).filter(|r| resource_typo(r)).collect();
        if !typos.is_empty() {
            out.push((
                Code::RbacPspResourceTypo,
                format!(
                    "resource {} is not `podsecuritypolicies`; this grants no use",
                    typos.join(", ")
                ),
            ));
        }
    }
    if resources.iter().any(|r| r == PSP_RESOURCE) {
        let verb_typos: Vec<&str> =
            rule.verbs.iter().map(String::as_str).filter(|v| verb_typo(v)).collect();
        if !use_verb && !verb_typos.is_empty() {
            out.push((
                Code::RbacPspVerbTypo,
                format!("verb {} is not `use`; this grants no use", verb_typos.join(", ")),
            ));
        }
    }
    if use_verb
        && psp_resource
        && resources.iter().any(|r| r == PSP_RESOURCE)
        && !has(groups, &["policy", "extensions", "*"])
    {
        let shown: Vec<String> = groups.iter().map(|g| format!("{g:?}")).collect();
        out.push((
            Code::RbacPspApiGroupMismatch,
            format!(
                "apiGroups [{}] do not include policy or extensions; this grants no use",
                shown.join(", ")
            ),
        ));
    }
    out
}

/// A rule of a role, as resolved: where it comes from and what it grants.
#[derive(Clone, Debug)]
pub struct ResolvedRule {
    /// Index of the rule in the role that holds it.
    pub index: usize,
    /// For aggregated ClusterRoles whose exported rules were empty: the ClusterRole the rule was
    /// aggregated from.
    pub aggregated_from: Option<String>,
    pub rule: PolicyRule,
}

/// Whether a label set matches a selector (matchLabels and matchExpressions; an empty selector
/// matches everything, as in Kubernetes).
pub fn selector_matches(sel: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    let labels_ok =
        sel.match_labels.as_ref().is_none_or(|m| m.iter().all(|(k, v)| labels.get(k) == Some(v)));
    let exprs_ok = sel.match_expressions.as_deref().unwrap_or_default().iter().all(|e| {
        let values = e.values.as_deref().unwrap_or_default();
        let value = labels.get(&e.key);
        match e.operator.as_str() {
            "In" => value.is_some_and(|v| values.contains(v)),
            "NotIn" => value.is_none_or(|v| !values.contains(v)),
            "Exists" => value.is_some(),
            "DoesNotExist" => value.is_none(),
            _ => false,
        }
    });
    labels_ok && exprs_ok
}

/// The rules of a ClusterRole: as exported, or — for an aggregated role whose exported rules are
/// empty — aggregated from the ClusterRoles its selectors match (recursively, cycles cut).
pub fn cluster_role_rules(inv: &Inventory, name: &str) -> Vec<ResolvedRule> {
    let mut seen = BTreeSet::new();
    cluster_role_rules_inner(inv, name, &mut seen)
}

fn find_cluster_role<'a>(inv: &'a Inventory, name: &str) -> Option<&'a ClusterRole> {
    inv.cluster_roles.iter().find(|r| r.metadata.name.as_deref() == Some(name)).map(|r| &r.obj)
}

fn cluster_role_rules_inner(
    inv: &Inventory,
    name: &str,
    seen: &mut BTreeSet<String>,
) -> Vec<ResolvedRule> {
    if !seen.insert(name.to_owned()) {
        return Vec::new();
    }
    let Some(role) = find_cluster_role(inv, name) else { return Vec::new() };
    let rules = role.rules.as_deref().unwrap_or_default();
    let selectors = role
        .aggregation_rule
        .as_ref()
        .and_then(|a| a.cluster_role_selectors.as_deref())
        .unwrap_or_default();
    if !rules.is_empty() || selectors.is_empty() {
        return rules
            .iter()
            .enumerate()
            .map(|(index, rule)| ResolvedRule { index, aggregated_from: None, rule: rule.clone() })
            .collect();
    }
    aggregate(inv, name, selectors, seen)
}

/// The rules of the ClusterRoles (other than `name`) whose labels match one of `selectors`.
fn aggregate(
    inv: &Inventory,
    name: &str,
    selectors: &[LabelSelector],
    seen: &mut BTreeSet<String>,
) -> Vec<ResolvedRule> {
    let mut out = Vec::new();
    for other in &inv.cluster_roles {
        let other_name = other.metadata.name.as_deref().unwrap_or_default();
        if other_name == name {
            continue;
        }
        let labels = other.metadata.labels.clone().unwrap_or_default();
        if !selectors.iter().any(|s| selector_matches(s, &labels)) {
            continue;
        }
        for r in cluster_role_rules_inner(inv, other_name, seen) {
            out.push(ResolvedRule {
                index: r.index,
                aggregated_from: Some(r.aggregated_from.unwrap_or_else(|| other_name.to_owned())),
                rule: r.rule,
            });
        }
    }
    out
}

/// One grant of `use` on one PSP: through which binding, role and rule, to which subject, and
/// where it applies.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Grant {
    pub psp: String,
    pub role: ObjectRef,
    pub binding: ObjectRef,
    pub subject: ObjectRef,
    /// Namespace the grant applies in (a RoleBinding's); `None`: every namespace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Index of the rule in the role (or in `aggregated_from`).
    pub rule: usize,
    /// The ClusterRole the rule was aggregated from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aggregated_from: Option<String>,
    /// The rule grants use on every PSP (no resourceNames).
    pub all_psps: bool,
    #[serde(skip)]
    pub principal: Principal,
}

impl Grant {
    /// Whether the grant applies to pods in `ns`.
    pub fn applies_in(&self, ns: &str) -> bool {
        self.scope.as_deref().is_none_or(|s| s == ns)
    }

    /// `RoleBinding ns/name → Role ns/name (rule 0)`.
    #[cfg(test)]
    pub fn path(&self) -> String {
        let mut s = format!("{} → {}", self.binding, self.role);
        if let Some(from) = &self.aggregated_from {
            s.push_str(&format!(" (aggregated from ClusterRole {from})"));
        }
        s.push_str(&format!(" rule {}", self.rule));
        s
    }
}

/// Everything RBAC says about PSP use.
#[derive(Clone, Debug, Default)]
pub struct RbacResolution {
    /// Every grant on an existing PSP, sorted.
    pub grants: Vec<Grant>,
    /// Roles (Role and ClusterRole) whose rules grant use on at least one PSP (existing or not).
    pub psp_roles: BTreeSet<ObjectRef>,
    /// Roles whose every rule grants use on PSPs and nothing else.
    pub psp_only_roles: BTreeSet<ObjectRef>,
    /// Bindings that refer to a PSP-only role.
    pub psp_only_bindings: BTreeSet<ObjectRef>,
    /// Roles that grant other things too, with the indexes of their rules that grant nothing
    /// but PSP use (remove those rules, keep the role).
    pub psp_rules_in_mixed_roles: BTreeMap<ObjectRef, Vec<usize>>,
    pub findings: Vec<Finding>,
}

/// A binding of either kind, flattened.
struct BindingView<'a> {
    r#ref: ObjectRef,
    namespace: Option<&'a str>,
    role_kind: &'a str,
    role_name: &'a str,
    subjects: &'a [k8s_openapi::api::rbac::v1::Subject],
    source: &'a Provenance,
}

fn bindings(inv: &Inventory) -> Vec<BindingView<'_>> {
    let mut out = Vec::new();
    for b in &inv.role_bindings {
        let ns = b.metadata.namespace.as_deref();
        out.push(BindingView {
            r#ref: ObjectRef::new(
                "RoleBinding",
                ns,
                b.metadata.name.as_deref().unwrap_or_default(),
            ),
            namespace: ns,
            role_kind: &b.role_ref.kind,
            role_name: &b.role_ref.name,
            subjects: b.subjects.as_deref().unwrap_or_default(),
            source: &b.source,
        });
    }
    for b in &inv.cluster_role_bindings {
        out.push(BindingView {
            r#ref: ObjectRef::new(
                "ClusterRoleBinding",
                None,
                b.metadata.name.as_deref().unwrap_or_default(),
            ),
            namespace: None,
            role_kind: &b.role_ref.kind,
            role_name: &b.role_ref.name,
            subjects: b.subjects.as_deref().unwrap_or_default(),
            source: &b.source,
        });
    }
    out
}

/// The rules of a role, or `None` when the role is not in the inventory.
fn role_rules(inv: &Inventory, role: &ObjectRef) -> Option<Vec<ResolvedRule>> {
    match role.kind.as_str() {
        "Role" => inv
            .roles
            .iter()
            .find(|r| {
                r.metadata.name.as_deref() == Some(&role.name)
                    && r.metadata.namespace == role.namespace
            })
            .map(|r| {
                r.rules
                    .as_deref()
                    .unwrap_or_default()
                    .iter()
                    .enumerate()
                    .map(|(index, rule)| ResolvedRule {
                        index,
                        aggregated_from: None,
                        rule: rule.clone(),
                    })
                    .collect()
            }),
        "ClusterRole" => {
            find_cluster_role(inv, &role.name).map(|_| cluster_role_rules(inv, &role.name))
        }
        _ => None,
    }
}

/// Every role in the inventory with its reference and provenance.
fn all_roles(inv: &Inventory) -> Vec<(ObjectRef, &Provenance)> {
    let mut out: Vec<(ObjectRef, &Provenance)> = inv
        .roles
        .iter()
        .map(|r| {
            (
                ObjectRef::new(
                    "Role",
                    r.metadata.namespace.as_deref(),
                    r.metadata.name.as_deref().unwrap_or_default(),
                ),
                &r.source,
            )
        })
        .collect();
    out.extend(inv.cluster_roles.iter().map(|r| {
        (
            ObjectRef::new("ClusterRole", None, r.metadata.name.as_deref().unwrap_or_default()),
            &r.source,
        )
    }));
    out
}

/// Resolves every grant of `use` on PSPs in the inventory, with findings for broken RBAC.
pub fn resolve(inv: &Inventory) -> RbacResolution {
    let psp_names: BTreeSet<&str> = inv.psps.iter().map(|p| p.metadata.name.as_str()).collect();
    let mut res = RbacResolution::default();

    // Roles: which grant use, typos, unknown PSP names, PSP-only roles.
    let mut role_rule_cache: BTreeMap<ObjectRef, Vec<ResolvedRule>> = BTreeMap::new();
    for (role, source) in all_roles(inv) {
        let rules = role_rules(inv, &role).unwrap_or_default();
        let mut grants_use = false;
        let mut only_psp = !rules.is_empty();
        for r in &rules {
            let at = match &r.aggregated_from {
                Some(from) => format!("rule {} (aggregated from ClusterRole {from})", r.index),
                None => format!("rule {}", r.index),
            };
            // Typos are reported on the role that holds the rule, not on aggregators.
            if r.aggregated_from.is_none() {
                for (code, msg) in rule_typos(&r.rule) {
                    res.findings.push(
                        Finding::new(code, role.clone(), format!("{at}: {msg}"))
                            .with_source(source),
                    );
                }
            }
            if let Some(target) = rule_grants_use(&r.rule) {
                grants_use = true;
                if let (PspTarget::Named(names), None) = (&target, &r.aggregated_from) {
                    for n in names.iter().filter(|n| !psp_names.contains(n.as_str())) {
                        res.findings.push(
                            Finding::new(
                                Code::RbacGrantUnknownPsp,
                                role.clone(),
                                format!("{at} grants use on PodSecurityPolicy {n}, which is not in the input"),
                            )
                            .with_source(source),
                        );
                    }
                }
            }
            only_psp &= rule_is_psp_use_only(&r.rule);
        }
        if grants_use {
            res.psp_roles.insert(role.clone());
            if only_psp {
                res.psp_only_roles.insert(role.clone());
            } else {
                let own: Vec<usize> = rules
                    .iter()
                    .filter(|r| r.aggregated_from.is_none() && rule_is_psp_use_only(&r.rule))
                    .map(|r| r.index)
                    .collect();
                if !own.is_empty() {
                    res.psp_rules_in_mixed_roles.insert(role.clone(), own);
                }
            }
        }
        role_rule_cache.insert(role, rules);
    }

    // Bindings: grants, missing roles, invalid refs.
    let mut bound_roles: BTreeSet<ObjectRef> = BTreeSet::new();
    let mut all_psps_roles: BTreeMap<ObjectRef, (Vec<String>, Vec<String>)> = BTreeMap::new();
    for b in bindings(inv) {
        let role = match (b.role_kind, b.namespace) {
            ("Role", Some(ns)) => ObjectRef::new("Role", Some(ns), b.role_name),
            ("ClusterRole", _) => ObjectRef::new("ClusterRole", None, b.role_name),
            _ => {
                res.findings.push(
                    Finding::new(
                        Code::RbacBindingInvalidRoleRef,
                        b.r#ref.clone(),
                        format!(
                            "roleRef {} {} cannot be bound by a {}",
                            b.role_kind, b.role_name, b.r#ref.kind
                        ),
                    )
                    .with_source(b.source),
                );
                continue;
            }
        };
        bound_roles.insert(role.clone());
        if !role_rule_cache.contains_key(&role)
            && role.kind == "ClusterRole"
            && let Some(rules) = bootstrap::missing_role_rules(inv, &role.name, |selectors| {
                aggregate(inv, &role.name, selectors, &mut BTreeSet::new())
            })
        {
            role_rule_cache.insert(role.clone(), rules);
        }
        let Some(rules) = role_rule_cache.get(&role) else {
            res.findings.push(
                Finding::new(
                    Code::RbacBindingMissingRole,
                    b.r#ref.clone(),
                    format!("refers to {role}, which is not in the input"),
                )
                .with_source(b.source),
            );
            continue;
        };
        if res.psp_only_roles.contains(&role) {
            res.psp_only_bindings.insert(b.r#ref.clone());
        }
        for s in b.subjects {
            let principal =
                Principal::from_subject(&s.kind, &s.name, s.namespace.as_deref(), b.namespace);
            let subject = subject_ref(&s.kind, &s.name, s.namespace.as_deref(), b.namespace);
            if principal == Principal::Nothing && s.kind == "ServiceAccount" {
                res.findings.push(
                    Finding::new(
                        Code::RbacSubjectMissingNamespace,
                        b.r#ref.clone(),
                        format!(
                            "ServiceAccount subject {} has no namespace; it matches nothing",
                            s.name
                        ),
                    )
                    .with_source(b.source),
                );
                continue;
            }
            if principal == Principal::Nothing {
                continue;
            }
            for r in rules {
                let Some(target) = rule_grants_use(&r.rule) else { continue };
                let all_psps = target == PspTarget::All;
                if all_psps {
                    let e = all_psps_roles.entry(role.clone()).or_default();
                    e.0.push(b.r#ref.to_string());
                    e.1.push(r.index.to_string());
                }
                let names: Vec<&str> = match &target {
                    PspTarget::All => psp_names.iter().copied().collect(),
                    PspTarget::Named(n) => {
                        n.iter().map(String::as_str).filter(|n| psp_names.contains(n)).collect()
                    }
                };
                for psp in names {
                    res.grants.push(Grant {
                        psp: psp.to_owned(),
                        role: role.clone(),
                        binding: b.r#ref.clone(),
                        subject: subject.clone(),
                        scope: b.namespace.map(str::to_owned),
                        rule: r.index,
                        aggregated_from: r.aggregated_from.clone(),
                        all_psps,
                        principal: principal.clone(),
                    });
                }
            }
        }
    }
    res.grants.sort();
    res.grants.dedup();

    for (role, (mut bindings, _)) in all_psps_roles {
        bindings.sort();
        bindings.dedup();
        res.findings.push(Finding::new(
            Code::RbacGrantAllPsps,
            role.clone(),
            format!("grants use on every PodSecurityPolicy; bound by {}", bindings.join(", ")),
        ));
    }
    for (role, source) in all_roles(inv) {
        if res.psp_roles.contains(&role) && !bound_roles.contains(&role) {
            res.findings.push(
                Finding::new(
                    Code::RbacPspRoleUnbound,
                    role.clone(),
                    "grants use on PodSecurityPolicies but no binding refers to it",
                )
                .with_source(source),
            );
        }
    }
    let mut reported: BTreeSet<(String, ObjectRef)> = BTreeSet::new();
    for g in &res.grants {
        if g.scope.is_none()
            && g.principal.reaches_controllers()
            && reported.insert((g.psp.clone(), g.binding.clone()))
        {
            res.findings.push(Finding::new(
                Code::RbacGrantReachesControllers,
                g.binding.clone(),
                format!(
                    "grants use on {} to {} in every namespace: controllers create pods as kube-system service accounts, so controller-created pods anywhere may use it",
                    g.psp, g.subject
                ),
            ));
        }
    }
    res
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use k8s_openapi::api::rbac::v1::{
        AggregationRule, ClusterRoleBinding, Role, RoleBinding, RoleRef, Subject,
    };
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelectorRequirement, ObjectMeta};

    use crate::model::inventory::Sourced;
    use crate::model::psp::PodSecurityPolicy;

    pub(crate) fn src() -> Provenance {
        Provenance::file("test.yaml", 0, None)
    }

    pub(crate) fn rule(
        groups: &[&str],
        resources: &[&str],
        verbs: &[&str],
        names: &[&str],
    ) -> PolicyRule {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        PolicyRule {
            api_groups: Some(v(groups)),
            resources: Some(v(resources)),
            verbs: v(verbs),
            resource_names: (!names.is_empty()).then(|| v(names)),
            non_resource_urls: None,
        }
    }

    /// `use` on the named PSPs (all when empty), group `policy`.
    pub(crate) fn use_rule(names: &[&str]) -> PolicyRule {
        rule(&["policy"], &["podsecuritypolicies"], &["use"], names)
    }

    fn meta(ns: Option<&str>, name: &str) -> ObjectMeta {
        ObjectMeta { name: Some(name.into()), namespace: ns.map(Into::into), ..Default::default() }
    }

    pub(crate) fn subject(kind: &str, name: &str, ns: Option<&str>) -> Subject {
        Subject {
            api_group: None,
            kind: kind.into(),
            name: name.into(),
            namespace: ns.map(Into::into),
        }
    }

    /// A small inventory builder for RBAC tests.
    #[derive(Default)]
    pub(crate) struct Rbac(pub Inventory);

    impl Rbac {
        pub(crate) fn psp(mut self, name: &str) -> Self {
            let mut p = PodSecurityPolicy::default();
            p.metadata.name = name.into();
            self.0.psps.push(Sourced { obj: p, source: src() });
            self
        }
        pub(crate) fn role(mut self, ns: &str, name: &str, rules: Vec<PolicyRule>) -> Self {
            let r = Role { metadata: meta(Some(ns), name), rules: Some(rules) };
            self.0.roles.push(Sourced { obj: r, source: src() });
            self
        }
        pub(crate) fn cluster_role(
            mut self,
            name: &str,
            labels: &[(&str, &str)],
            rules: Vec<PolicyRule>,
        ) -> Self {
            let mut m = meta(None, name);
            m.labels = Some(labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());
            let r = ClusterRole { metadata: m, rules: Some(rules), aggregation_rule: None };
            self.0.cluster_roles.push(Sourced { obj: r, source: src() });
            self
        }
        pub(crate) fn aggregated(
            mut self,
            name: &str,
            selector: LabelSelector,
            rules: Vec<PolicyRule>,
        ) -> Self {
            let r = ClusterRole {
                metadata: meta(None, name),
                rules: Some(rules),
                aggregation_rule: Some(AggregationRule {
                    cluster_role_selectors: Some(vec![selector]),
                }),
            };
            self.0.cluster_roles.push(Sourced { obj: r, source: src() });
            self
        }
        pub(crate) fn role_binding(
            mut self,
            ns: &str,
            name: &str,
            kind: &str,
            role: &str,
            subjects: Vec<Subject>,
        ) -> Self {
            let b = RoleBinding {
                metadata: meta(Some(ns), name),
                role_ref: RoleRef {
                    api_group: "rbac.authorization.k8s.io".into(),
                    kind: kind.into(),
                    name: role.into(),
                },
                subjects: Some(subjects),
            };
            self.0.role_bindings.push(Sourced { obj: b, source: src() });
            self
        }
        pub(crate) fn cluster_binding(
            mut self,
            name: &str,
            kind: &str,
            role: &str,
            subjects: Vec<Subject>,
        ) -> Self {
            let b = ClusterRoleBinding {
                metadata: meta(None, name),
                role_ref: RoleRef {
                    api_group: "rbac.authorization.k8s.io".into(),
                    kind: kind.into(),
                    name: role.into(),
                },
                subjects: Some(subjects),
            };
            self.0.cluster_role_bindings.push(Sourced { obj: b, source: src() });
            self
        }
    }

    #[test]
    fn rule_matching_table() {
        // (groups, resources, verbs, resourceNames, expected target)
        let all = Some(PspTarget::All);
        let named = |n: &[&str]| Some(PspTarget::Named(n.iter().map(|s| s.to_string()).collect()));
        type Case<'a> =
            (&'a [&'a str], &'a [&'a str], &'a [&'a str], &'a [&'a str], Option<PspTarget>);
        let cases: Vec<Case> = vec![
            (&["policy"], &["podsecuritypolicies"], &["use"], &[], all.clone()),
            (&["extensions"], &["podsecuritypolicies"], &["use"], &[], all.clone()),
            (&["*"], &["podsecuritypolicies"], &["use"], &[], all.clone()),
            (&["policy"], &["*"], &["use"], &[], all.clone()),
            (&["policy"], &["podsecuritypolicies"], &["*"], &[], all.clone()),
            (&["*"], &["*"], &["*"], &[], all.clone()),
            (&["policy"], &["podsecuritypolicies"], &["use"], &["a", "b"], named(&["a", "b"])),
            (&["policy"], &["podsecuritypolicies"], &["get", "list"], &[], None),
            (&[""], &["podsecuritypolicies"], &["use"], &[], None),
            (&["policy"], &["podsecuritypolicy"], &["use"], &[], None),
            (&["policy"], &["pods"], &["*"], &[], None),
        ];
        for (i, (g, r, v, n, want)) in cases.into_iter().enumerate() {
            assert_eq!(rule_grants_use(&rule(g, r, v, n)), want, "case {i}");
        }
        assert!(rule_is_psp_use_only(&use_rule(&["x"])));
        assert!(!rule_is_psp_use_only(&rule(&["*"], &["*"], &["*"], &[])));
    }

    #[test]
    fn typo_table() {
        let codes = |r: PolicyRule| rule_typos(&r).into_iter().map(|(c, _)| c).collect::<Vec<_>>();
        for res in [
            "podsecuritypolicy",
            "podsecuritypolicys",
            "psp",
            "PodSecurityPolicies",
            "podsecuritypolicies.policy",
            "podsecuritypolices",
        ] {
            assert_eq!(
                codes(rule(&["policy"], &[res], &["use"], &[])),
                [Code::RbacPspResourceTypo],
                "{res}"
            );
        }
        assert!(codes(rule(&["policy"], &["pods"], &["use"], &[])).is_empty());
        assert!(
            codes(rule(&["policy"], &["psp"], &["get"], &[])).is_empty(),
            "no use verb, no typo finding"
        );
        assert_eq!(
            codes(rule(&["policy"], &["podsecuritypolicies"], &["Use"], &[])),
            [Code::RbacPspVerbTypo]
        );
        assert!(codes(rule(&["policy"], &["podsecuritypolicies"], &["get"], &[])).is_empty());
        assert_eq!(
            codes(rule(&[""], &["podsecuritypolicies"], &["use"], &[])),
            [Code::RbacPspApiGroupMismatch]
        );
        assert_eq!(
            codes(rule(&["policy/v1beta1"], &["podsecuritypolicies"], &["use"], &[])),
            [Code::RbacPspApiGroupMismatch]
        );
        assert!(codes(use_rule(&[])).is_empty());
    }

    fn grants_of(inv: &Inventory) -> Vec<(String, String, String, Option<String>)> {
        resolve(inv)
            .grants
            .into_iter()
            .map(|g| (g.psp, g.binding.to_string(), g.subject.to_string(), g.scope))
            .collect()
    }

    fn codes_of(inv: &Inventory) -> Vec<Code> {
        let mut c: Vec<Code> = resolve(inv).findings.into_iter().map(|f| f.code).collect();
        c.sort();
        c
    }

    #[test]
    fn role_binding_to_cluster_role_is_confined() {
        let inv = Rbac::default()
            .psp("p")
            .cluster_role("use-p", &[], vec![use_rule(&["p"])])
            .role_binding(
                "a",
                "rb",
                "ClusterRole",
                "use-p",
                vec![subject("ServiceAccount", "sa", None)],
            )
            .0;
        let g = grants_of(&inv);
        assert_eq!(
            g,
            [(
                "p".into(),
                "RoleBinding a/rb".into(),
                "ServiceAccount a/sa".into(),
                Some("a".into())
            )]
        );
        let r = resolve(&inv);
        assert!(r.grants[0].applies_in("a") && !r.grants[0].applies_in("b"));
        assert!(r.psp_only_roles.contains(&ObjectRef::new("ClusterRole", None, "use-p")));
        assert!(r.psp_only_bindings.contains(&ObjectRef::new("RoleBinding", Some("a"), "rb")));
    }

    #[test]
    fn cluster_binding_everywhere_and_wildcards_expand() {
        let inv = Rbac::default()
            .psp("p")
            .psp("q")
            .cluster_role("admin-ish", &[], vec![rule(&["*"], &["*"], &["*"], &[])])
            .cluster_binding(
                "crb",
                "ClusterRole",
                "admin-ish",
                vec![subject("Group", "system:masters", None)],
            )
            .0;
        let g = grants_of(&inv);
        assert_eq!(g.len(), 2);
        assert!(g.iter().all(|(_, _, s, scope)| s == "Group system:masters" && scope.is_none()));
        assert_eq!(codes_of(&inv), [Code::RbacGrantAllPsps]);
        assert!(
            resolve(&inv).psp_only_roles.is_empty(),
            "a wildcard role grants more than PSP use"
        );
    }

    #[test]
    fn aggregation_with_empty_rules() {
        let sel = LabelSelector {
            match_labels: Some([("agg".to_string(), "psp".to_string())].into()),
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: "tier".into(),
                operator: "NotIn".into(),
                values: Some(vec!["test".into()]),
            }]),
        };
        let inv = Rbac::default()
            .psp("p")
            .psp("q")
            .cluster_role("part-p", &[("agg", "psp")], vec![use_rule(&["p"])])
            .cluster_role("part-q", &[("agg", "psp"), ("tier", "test")], vec![use_rule(&["q"])])
            .aggregated("aggregate", sel.clone(), vec![])
            .cluster_binding(
                "crb",
                "ClusterRole",
                "aggregate",
                vec![subject("Group", "system:serviceaccounts", None)],
            )
            .0;
        let r = resolve(&inv);
        let psps: Vec<&str> = r
            .grants
            .iter()
            .filter(|g| g.role.name == "aggregate")
            .map(|g| g.psp.as_str())
            .collect();
        assert_eq!(psps, ["p"]);
        assert_eq!(r.grants[0].aggregated_from.as_deref(), Some("part-p"));
        assert!(r.grants[0].path().contains("aggregated from ClusterRole part-p"));
        // Exported (non-empty) rules win over the selector.
        let inv = Rbac::default()
            .psp("p")
            .psp("q")
            .cluster_role("part-p", &[("agg", "psp")], vec![use_rule(&["p"])])
            .aggregated("aggregate", sel, vec![use_rule(&["q"])])
            .cluster_binding(
                "crb",
                "ClusterRole",
                "aggregate",
                vec![subject("Group", "system:serviceaccounts", None)],
            )
            .0;
        let psps: Vec<String> = resolve(&inv).grants.into_iter().map(|g| g.psp).collect();
        assert_eq!(psps, ["q"]);
    }

    #[test]
    fn broken_rbac_is_findings() {
        let inv = Rbac::default()
            .psp("p")
            .role("a", "typo", vec![rule(&["policy"], &["podsecuritypolicy"], &["use"], &["p"])])
            .role("a", "ghost", vec![use_rule(&["does-not-exist"])])
            .role("a", "lonely", vec![use_rule(&["p"])])
            .role_binding(
                "a",
                "missing",
                "Role",
                "nope",
                vec![subject("ServiceAccount", "sa", None)],
            )
            .role_binding("a", "typo", "Role", "typo", vec![subject("ServiceAccount", "sa", None)])
            .role_binding(
                "a",
                "ghost",
                "Role",
                "ghost",
                vec![subject("ServiceAccount", "sa", None)],
            )
            .cluster_binding("crb-role", "Role", "typo", vec![])
            .cluster_binding("crb-nons", "ClusterRole", "x", vec![])
            .cluster_role("x", &[], vec![use_rule(&["p"])])
            .cluster_binding(
                "crb-sa",
                "ClusterRole",
                "x",
                vec![subject("ServiceAccount", "sa", None)],
            )
            .0;
        assert!(grants_of(&inv).is_empty());
        assert_eq!(
            codes_of(&inv),
            [
                Code::RbacBindingMissingRole,
                Code::RbacBindingInvalidRoleRef,
                Code::RbacSubjectMissingNamespace,
                Code::RbacPspResourceTypo,
                Code::RbacGrantUnknownPsp,
                Code::RbacPspRoleUnbound,
            ]
        );
    }

    #[test]
    fn bindings_to_bootstrap_cluster_roles_are_not_missing() {
        let sa = || vec![subject("ServiceAccount", "sa", Some("a"))];
        let inv = Rbac::default()
            .psp("p")
            .psp("q")
            .cluster_binding("crb-admin", "ClusterRole", "cluster-admin", sa())
            .cluster_binding("crb-delegator", "ClusterRole", "system:auth-delegator", sa())
            .cluster_binding("crb-node", "ClusterRole", "system:node", sa())
            .role_binding("a", "rb-view", "ClusterRole", "view", sa())
            .role_binding("a", "rb-ghost", "ClusterRole", "not-bootstrapped", sa())
            .role_binding("a", "rb-role", "Role", "cluster-admin", sa())
            .0;
        let r = resolve(&inv);
        let missing: Vec<String> = r
            .findings
            .iter()
            .filter(|f| f.code == Code::RbacBindingMissingRole)
            .map(|f| f.object.to_string())
            .collect();
        assert_eq!(missing, ["RoleBinding a/rb-ghost", "RoleBinding a/rb-role"]);
        // cluster-admin grants `*` on `*`: use on every PSP; the other roles grant none.
        assert_eq!(
            grants_of(&inv),
            [
                (
                    "p".into(),
                    "ClusterRoleBinding crb-admin".into(),
                    "ServiceAccount a/sa".into(),
                    None
                ),
                (
                    "q".into(),
                    "ClusterRoleBinding crb-admin".into(),
                    "ServiceAccount a/sa".into(),
                    None
                ),
            ]
        );
        assert!(r.grants.iter().all(|g| g.all_psps));
        // Not in the input: nothing to edit or delete there.
        assert!(r.psp_roles.is_empty());
    }

    #[test]
    fn bootstrap_aggregated_roles_collect_labelled_cluster_roles() {
        let sa = || vec![subject("ServiceAccount", "sa", Some("a"))];
        let inv = Rbac::default()
            .psp("p")
            .cluster_role(
                "psp-for-viewers",
                &[("rbac.authorization.k8s.io/aggregate-to-view", "true")],
                vec![use_rule(&["p"])],
            )
            .role_binding("a", "rb-admin", "ClusterRole", "admin", sa())
            .role_binding("b", "rb-edit", "ClusterRole", "edit", sa())
            .role_binding("c", "rb-auth", "ClusterRole", "system:basic-user", sa())
            .0;
        let r = resolve(&inv);
        assert!(!codes_of(&inv).contains(&Code::RbacBindingMissingRole));
        let got: Vec<(String, Option<String>, Option<String>)> = r
            .grants
            .iter()
            .map(|g| (g.binding.to_string(), g.scope.clone(), g.aggregated_from.clone()))
            .collect();
        let from = Some("psp-for-viewers".to_owned());
        assert_eq!(
            got,
            [
                ("RoleBinding a/rb-admin".into(), Some("a".into()), from.clone()),
                ("RoleBinding b/rb-edit".into(), Some("b".into()), from),
            ]
        );
    }

    #[test]
    fn controllers_reached_by_cluster_wide_kube_system_grant() {
        let inv = Rbac::default()
            .psp("p")
            .cluster_role("x", &[], vec![use_rule(&["p"])])
            .cluster_binding(
                "crb",
                "ClusterRole",
                "x",
                vec![subject("Group", "system:serviceaccounts:kube-system", None)],
            )
            .role_binding(
                "kube-system",
                "rb",
                "ClusterRole",
                "x",
                vec![subject("Group", "system:serviceaccounts:kube-system", None)],
            )
            .0;
        assert_eq!(codes_of(&inv), [Code::RbacGrantReachesControllers]);
    }
}
