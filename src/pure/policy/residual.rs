//! Residual ValidatingAdmissionPolicies: per group of namespaces with the same usable-PSP
//! picture, one policy and one binding. A pod is admitted only when at least one PSP usable
//! there — by the pod's service account, or by the requesting user or one of their groups, as
//! RBAC stood when the plan was made — validates it as written ([`super::controls`]).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use crate::discover::rbac::Grant;
use crate::discover::subjects::{
    NAMESPACE_SERVICE_ACCOUNTS_PREFIX, Principal, SERVICE_ACCOUNT_USER_PREFIX,
};
use crate::model::psp::PodSecurityPolicy;
use crate::policy::api;
use crate::policy::controls::{self, Control, lit};
use crate::simulate::MASTERS;

/// The label every generated object carries.
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "psa-migrate");

/// How the policies are written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyOptions {
    /// The Kubernetes minor version the policies target (chooses the API version).
    pub minor: u32,
    /// The binding's `validationActions`: `["Deny"]`, or `["Warn", "Audit"]` to soak.
    pub actions: Vec<String>,
}

/// One generated residual policy with its binding.
#[derive(Clone, Debug, PartialEq)]
pub struct Residual {
    pub name: String,
    /// The namespaces its binding selects.
    pub namespaces: Vec<String>,
    /// The PSPs it keeps, by name.
    pub psps: Vec<String>,
    pub policy: Value,
    pub binding: Value,
}

/// One PSP usable in a namespace and the CEL condition under which it is usable there.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Usable {
    pub(crate) psp: String,
    pub(crate) when: String,
}

/// The CEL condition under which a grant's principal makes its PSP usable for a pod in `ns`:
/// the pod's service account is covered, or the requester is. `None`: never.
fn principal_condition(p: &Principal, ns: &str) -> Option<String> {
    let user = "request.userInfo.username";
    let groups = "request.userInfo.groups";
    Some(match p {
        Principal::AllServiceAccounts | Principal::Authenticated => "true".into(),
        Principal::NamespaceServiceAccounts { namespace } if namespace == ns => "true".into(),
        Principal::NamespaceServiceAccounts { namespace } => {
            format!(
                "{} in {groups}",
                lit(&format!("{NAMESPACE_SERVICE_ACCOUNTS_PREFIX}{namespace}"))
            )
        }
        Principal::ServiceAccount { namespace, name } if namespace == ns => format!(
            "variables.serviceAccount == {} || {user} == {} + request.namespace + {}",
            lit(name),
            lit(SERVICE_ACCOUNT_USER_PREFIX),
            lit(&format!(":{name}"))
        ),
        Principal::ServiceAccount { namespace, name } => {
            format!(
                "{user} == {}",
                lit(&format!("{SERVICE_ACCOUNT_USER_PREFIX}{namespace}:{name}"))
            )
        }
        Principal::User { name } => format!("{user} == {}", lit(name)),
        Principal::Group { name } => format!("{} in {groups}", lit(name)),
        Principal::Nothing => return None,
    })
}

/// The PSPs usable in `ns` (among `psps`), each with its condition, sorted by PSP name.
fn usable_in(psps: &BTreeSet<&str>, grants: &[Grant], ns: &str) -> Vec<Usable> {
    let mut conds: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for g in grants.iter().filter(|g| g.applies_in(ns) && psps.contains(g.psp.as_str())) {
        if let Some(c) = principal_condition(&g.principal, ns) {
            conds.entry(g.psp.as_str()).or_default().insert(c);
        }
    }
    conds
        .into_iter()
        .map(|(psp, cs)| {
            let when = if cs.contains("true") {
                "true".to_owned()
            } else {
                cs.into_iter().map(|c| format!("({c})")).collect::<Vec<_>>().join(" || ")
            };
            Usable { psp: psp.to_owned(), when }
        })
        .collect()
}

/// `ml-workload-psp` → `MlWorkloadPsp`: the PSP's part of a variable name.
pub fn camel(name: &str) -> String {
    let mut out = String::new();
    for part in name.split(|c: char| !c.is_ascii_alphanumeric()).filter(|p| !p.is_empty()) {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.extend(chars);
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, "Psp");
    }
    out
}

/// Variable names for each PSP, unique within a policy.
pub(crate) fn variable_names(psps: &[String]) -> Vec<String> {
    let mut seen = BTreeSet::new();
    psps.iter()
        .map(|p| {
            let base = camel(p);
            let mut name = base.clone();
            let mut i = 2;
            while !seen.insert(name.clone()) {
                name = format!("{base}{i}");
                i += 1;
            }
            name
        })
        .collect()
}

/// Namespaces grouped by their usable-PSP picture (the conditions mention the namespace only
/// through `request.namespace`, so namespaces with the same grants share a policy).
pub(crate) fn groups(
    psps: &[&PodSecurityPolicy],
    grants: &[Grant],
    namespaces: &[String],
) -> BTreeMap<Vec<Usable>, Vec<String>> {
    let names: BTreeSet<&str> = psps.iter().map(|p| p.metadata.name.as_str()).collect();
    let mut groups: BTreeMap<Vec<Usable>, Vec<String>> = BTreeMap::new();
    for ns in namespaces {
        groups.entry(usable_in(&names, grants, ns)).or_default().push(ns.clone());
    }
    groups
}

/// The binding selector of a group's namespaces.
pub(crate) fn namespace_selector(namespaces: &[String]) -> Value {
    json!({"namespaceSelector": {"matchExpressions": [{
        "key": "kubernetes.io/metadata.name",
        "operator": "In",
        "values": namespaces,
    }]}})
}

/// The match condition every generated policy carries: members of system:masters could use
/// every PSP of the cluster, and the policies do not repeat the cluster's other PSPs for them.
fn not_masters() -> Value {
    json!([{
        "name": "not-system-masters",
        "expression": format!("!({} in request.userInfo.groups)", lit(MASTERS)),
    }])
}

/// A generated admission policy: its metadata (the managed-by label, the PSPs it keeps),
/// `failurePolicy: Fail`, the pod `operations` and `resources` it matches, the
/// system:masters exclusion, and the kind's own `rest` of the spec.
pub(crate) fn policy_object(
    kind: &str,
    api_version: &str,
    name: &str,
    psps: &[String],
    operations: &[&str],
    resources: &[&str],
    rest: Value,
) -> Value {
    let mut spec = json!({
        "failurePolicy": "Fail",
        "matchConstraints": {"resourceRules": [{
            "apiGroups": [""],
            "apiVersions": ["v1"],
            "operations": operations,
            "resources": resources,
        }]},
        "matchConditions": not_masters(),
    });
    if let (Some(spec), Value::Object(rest)) = (spec.as_object_mut(), rest) {
        spec.extend(rest);
    }
    json!({
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {
            "name": name,
            "labels": {MANAGED_BY.0: MANAGED_BY.1},
            "annotations": {"psa-migrate.io/psps": psps.join(",")},
        },
        "spec": spec,
    })
}

/// Declares a PSP's controls as variables `<prefix><id><suffix>` (with their helpers) and
/// returns the references, in order.
pub(crate) fn declare_controls(
    variables: &mut Vec<Value>,
    prefix: &str,
    cs: &[Control],
    suffix: &str,
) -> Vec<String> {
    let mut refs = Vec::new();
    for c in cs {
        for (helper, e) in &c.helpers {
            let name = format!("{prefix}{helper}");
            if !variables.iter().any(|v| v["name"] == name.as_str()) {
                variables.push(json!({"name": name, "expression": e}));
            }
        }
        let name = format!("{prefix}{}{suffix}", c.id);
        let expr = c.expr.replace(controls::PSP_VAR, prefix);
        variables.push(json!({"name": name, "expression": expr}));
        refs.push(format!("variables.{name}"));
    }
    refs
}

/// The residual policies for `namespaces` (already sorted and deduplicated).
pub fn residual_policies(
    psps: &[&PodSecurityPolicy],
    grants: &[Grant],
    namespaces: &[String],
    opts: &PolicyOptions,
) -> Vec<Residual> {
    let Some(served) = api::validating(opts.minor) else { return Vec::new() };
    let groups = groups(psps, grants, namespaces);
    let by_name: BTreeMap<&str, &PodSecurityPolicy> =
        psps.iter().map(|p| (p.metadata.name.as_str(), *p)).collect();
    let mut out: Vec<Residual> = groups
        .into_iter()
        .map(|(usable, namespaces)| {
            let name = format!("psa-migrate-residual-{}", namespaces[0]);
            let policy = build_policy(&name, served.api_version, &usable, &by_name);
            let binding = json!({
                "apiVersion": served.api_version,
                "kind": "ValidatingAdmissionPolicyBinding",
                "metadata": {"name": name, "labels": {MANAGED_BY.0: MANAGED_BY.1}},
                "spec": {
                    "policyName": name,
                    "validationActions": opts.actions,
                    "matchResources": namespace_selector(&namespaces),
                },
            });
            Residual {
                name,
                psps: usable.iter().map(|u| u.psp.clone()).collect(),
                namespaces,
                policy,
                binding,
            }
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// The per-PSP variables and the validations of one policy.
fn build_policy(
    name: &str,
    api_version: &str,
    usable: &[Usable],
    psps: &BTreeMap<&str, &PodSecurityPolicy>,
) -> Value {
    let mut variables: Vec<Value> = controls::shared_variables()
        .into_iter()
        .map(|(n, e)| json!({"name": n, "expression": e}))
        .collect();
    let psp_names: Vec<String> = usable.iter().map(|u| u.psp.clone()).collect();
    let vars = variable_names(&psp_names);
    // control id → (what, field, [(psp var, psp name, restricted?)])
    let mut by_control: BTreeMap<&'static str, (&'static str, &'static str)> = BTreeMap::new();
    let mut per_psp: Vec<(String, String, Vec<Control>)> = Vec::new();
    for (u, var) in usable.iter().zip(&vars) {
        let cs = psps.get(u.psp.as_str()).map(|p| controls::controls(p)).unwrap_or_default();
        variables.push(json!({"name": format!("usable{var}"), "expression": u.when}));
        for c in &cs {
            by_control.entry(c.id).or_insert((c.what, c.field));
        }
        let mut conj = vec![format!("variables.usable{var}")];
        conj.extend(declare_controls(&mut variables, &lower_first(var), &cs, ""));
        variables
            .push(json!({"name": format!("admittedBy{var}"), "expression": conj.join(" && ")}));
        per_psp.push((var.clone(), u.psp.clone(), cs));
    }
    let any_usable = if vars.is_empty() {
        "false".to_owned()
    } else {
        vars.iter().map(|v| format!("variables.usable{v}")).collect::<Vec<_>>().join(" || ")
    };
    variables.push(json!({"name": "anyUsable", "expression": any_usable}));
    let listed = if psp_names.is_empty() { "none".to_owned() } else { psp_names.join(", ") };
    let mut validations = vec![json!({
        "expression": "variables.anyUsable",
        "message": format!(
            "no PodSecurityPolicy was usable here by the pod's service account or the requesting \
             user (usable to some: {listed})"
        ),
        "reason": "Forbidden",
    })];
    // One validation per control: some usable PSP passes it (a PSP that does not restrict the
    // control passes it whenever usable).
    for (id, (what, field)) in &by_control {
        let terms: Vec<String> = per_psp
            .iter()
            .map(|(var, _, cs)| {
                if cs.iter().any(|c| c.id == *id) {
                    format!("(variables.usable{var} && variables.{}{id})", lower_first(var))
                } else {
                    format!("variables.usable{var}")
                }
            })
            .collect();
        let restricting: Vec<&str> = per_psp
            .iter()
            .filter(|(_, _, cs)| cs.iter().any(|c| c.id == *id))
            .map(|(_, n, _)| n.as_str())
            .collect();
        validations.push(json!({
            "expression": format!("!variables.anyUsable || {}", terms.join(" || ")),
            "message": format!(
                "{what}: not allowed by `{field}` of any PodSecurityPolicy usable here ({})",
                restricting.join(", ")
            ),
            "reason": "Forbidden",
        }));
    }
    let admitted = if vars.is_empty() {
        "false".to_owned()
    } else {
        vars.iter().map(|v| format!("variables.admittedBy{v}")).collect::<Vec<_>>().join(" || ")
    };
    validations.push(json!({
        "expression": format!("!variables.anyUsable || {admitted}"),
        "message": format!(
            "no single PodSecurityPolicy usable here admits the pod as a whole ({listed}): each \
             rejects it for a different control"
        ),
        "reason": "Forbidden",
    }));
    policy_object(
        "ValidatingAdmissionPolicy",
        api_version,
        name,
        &psp_names,
        &["CREATE", "UPDATE"],
        &["pods", "pods/ephemeralcontainers"],
        json!({"variables": variables, "validations": validations}),
    )
}

pub(crate) fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_ascii_lowercase().to_string() + c.as_str(),
        None => String::new(),
    }
}

/// The PSPs usable in `ns` by anyone (sorted).
pub fn usable_psp_names(psps: &[&PodSecurityPolicy], grants: &[Grant], ns: &str) -> Vec<String> {
    let names: BTreeSet<&str> = psps.iter().map(|p| p.metadata.name.as_str()).collect();
    usable_in(&names, grants, ns).into_iter().map(|u| u.psp).collect()
}
