//! Mutation policies: per group of namespaces with the same usable-PSP picture, one
//! `MutatingAdmissionPolicy` and its binding that give a new pod, on CREATE, the defaults of
//! the PSP the 1.24 admission plugin would have chosen for it.
//!
//! The choice is the plugin's, in CEL: among the PSPs usable for the pod (sorted by name), the
//! first that admits it unchanged (it validates as written and would default nothing) means no
//! mutation; otherwise the first that admits it once defaulted gives its defaults. A PSP's
//! defaults are constants, so "validates once defaulted" is its controls read with every unset
//! field taken as the default ([`View::Defaulted`]). The patches are JSON Patch `add`
//! operations, one per field the chosen PSP fills in (containers addressed by index).
//!
//! Standard CEL only; the one Kubernetes-specific name is the `JSONPatch` type a JSONPatch
//! mutation must return. Annotation keys are escaped for JSON Pointer when the policy is
//! generated.

use serde_json::{Value, json};

use crate::discover::rbac::Grant;
use crate::model::pod::{APPARMOR_ANNOTATION_PREFIX, SECCOMP_POD_ANNOTATION};
use crate::model::psp::PodSecurityPolicy;
use crate::policy::api;
use crate::policy::controls::{self, View, annotation, has_path, lit, lit_list, profile_of};
use crate::policy::residual::{
    MANAGED_BY, PolicyOptions, Usable, declare_controls, groups, lower_first, namespace_selector,
    policy_object, variable_names,
};
use crate::simulate::group::GroupRule;
use crate::simulate::provider::Strategies;
use crate::simulate::user::UserRule;

/// The containers of each list the patches can address: a container beyond this index gets no
/// defaults (the residual policy then judges it as written).
pub const MAX_CONTAINERS: usize = 32;

/// The container lists, in the plugin's visiting order.
const LISTS: [&str; 3] = ["initContainers", "containers", "ephemeralContainers"];

/// Stands for the container expression in [`Default::unset`] and [`Default::value`] (a control
/// character, which no CEL literal of ours contains unescaped).
const C: &str = "\u{1}";

/// One generated mutation policy with its binding.
#[derive(Clone, Debug, PartialEq)]
pub struct Mutation {
    pub name: String,
    pub namespaces: Vec<String>,
    pub psps: Vec<String>,
    pub policy: Value,
    pub binding: Value,
}

/// Where a default is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Parent {
    /// `/spec/securityContext/<field>`.
    PodSecurityContext,
    /// `/spec/<field>`.
    Spec,
    /// `/metadata/annotations/<key>`.
    Annotations,
    /// `/spec/<list>/<i>/securityContext/<field>`.
    ContainerSecurityContext,
    /// `/metadata/annotations/<prefix><container name>`.
    ContainerAnnotation,
}

/// One field a PSP fills in when it is unset.
#[derive(Clone, Debug)]
struct Fill {
    parent: Parent,
    /// The field, annotation key or key prefix (unescaped).
    field: String,
    /// CEL: the PSP would write this field (container fields read [`C`]).
    unset: String,
    /// CEL: the value it writes.
    value: String,
}

/// A JSON value as a CEL literal.
fn json_lit(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => lit(s),
        Value::Array(items) => {
            format!("[{}]", items.iter().map(json_lit).collect::<Vec<_>>().join(", "))
        }
        Value::Object(m) => {
            let entries: Vec<String> =
                m.iter().map(|(k, v)| format!("{}: {}", lit(k), json_lit(v))).collect();
            format!("{{{}}}", entries.join(", "))
        }
    }
}

/// A JSON Pointer segment.
fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// An unset container field, falling back to the pod's security context.
fn effective_unset(field: &str) -> String {
    format!(
        "!({}) && !({})",
        has_path(C, &format!("securityContext.{field}")),
        has_path("object", &format!("spec.securityContext.{field}"))
    )
}

/// Every field the PSP fills in, mirroring [`crate::simulate::provider::mutate`].
fn defaults(psp: &PodSecurityPolicy, st: &Strategies) -> Vec<Fill> {
    let s = &psp.spec;
    let mut out = Vec::new();
    let pod_unset = |field: &str| {
        format!("!({})", has_path("object", &format!("spec.securityContext.{field}")))
    };
    let pod = |field: &str, value: String| Fill {
        parent: Parent::PodSecurityContext,
        field: field.to_owned(),
        unset: pod_unset(field),
        value,
    };
    if let GroupRule::MustRunAs(r) = &st.supplemental_groups {
        out.push(pod("supplementalGroups", format!("[{}]", r[0].min)));
    }
    if let GroupRule::MustRunAs(r) = &st.fs_group {
        out.push(pod("fsGroup", r[0].min.to_string()));
    }
    if let crate::simulate::selinux::SeLinuxRule::MustRunAs(want) = &st.se_linux {
        let v = serde_json::to_value(want).unwrap_or(Value::Null);
        out.push(pod("seLinuxOptions", json_lit(&v)));
    }
    // Seccomp: the pod annotation, when empty, takes the pod field's profile, else the default
    // (the plugin copies the field, which counts as a mutation).
    let default = &st.seccomp.default;
    let (unset, value) = if default.is_empty() {
        (
            "variables.podSeccompAnnotation == '' && variables.podSeccompField != ''".to_owned(),
            "variables.podSeccompField".to_owned(),
        )
    } else {
        (
            "variables.podSeccompAnnotation == ''".to_owned(),
            format!(
                "variables.podSeccompField != '' ? variables.podSeccompField : {}",
                lit(default)
            ),
        )
    };
    out.push(Fill {
        parent: Parent::Annotations,
        field: SECCOMP_POD_ANNOTATION.to_owned(),
        unset,
        value,
    });
    if let Some(d) = s.runtime_class.as_ref().and_then(|rc| rc.default_runtime_class_name.as_ref())
    {
        out.push(Fill {
            parent: Parent::Spec,
            field: "runtimeClassName".into(),
            unset: "!has(object.spec.runtimeClassName)".into(),
            value: lit(d),
        });
    }
    // Containers.
    let mut container = |field: &str, unset: String, value: String| {
        out.push(Fill {
            parent: Parent::ContainerSecurityContext,
            field: field.to_owned(),
            unset,
            value,
        })
    };
    if let Some(u) = st.run_as_user.generate() {
        container("runAsUser", effective_unset("runAsUser"), u.to_string());
    }
    if let Some(g) = st.run_as_group.generate_single() {
        container("runAsGroup", effective_unset("runAsGroup"), g.to_string());
    }
    if st.run_as_user == UserRule::MustRunAsNonRoot {
        container(
            "runAsNonRoot",
            format!("{} && {}", effective_unset("runAsNonRoot"), effective_unset("runAsUser")),
            "true".into(),
        );
    }
    let caps = &st.capabilities;
    if !caps.default_add.is_empty() || !caps.required_drop.is_empty() {
        let list = |f: &str| {
            format!(
                "({} ? {C}.securityContext.capabilities.{f} : [])",
                has_path(C, &format!("securityContext.capabilities.{f}"))
            )
        };
        let (add, drop) = (list("add"), list("drop"));
        let new_add = format!(
            "{add} + {}.filter(x, !(x in {add}) && !(x in {drop}))",
            lit_list(&caps.default_add)
        );
        let new_drop =
            format!("{drop} + {}.filter(x, !(x in {drop}))", lit_list(&caps.required_drop));
        container(
            "capabilities",
            format!(
                "{}.exists(x, !(x in {add}) && !(x in {drop})) || {}.exists(x, !(x in {drop}))",
                lit_list(&caps.default_add),
                lit_list(&caps.required_drop)
            ),
            format!(
                "size({new_add}) > 0 && size({new_drop}) > 0 ? {{'add': {new_add}, 'drop': \
                 {new_drop}}} : (size({new_add}) > 0 ? {{'add': {new_add}}} : {{'drop': \
                 {new_drop}}})"
            ),
        );
    }
    let own_unset =
        |field: &str| format!("!({})", has_path(C, &format!("securityContext.{field}")));
    if s.read_only_root_filesystem == Some(true) {
        container("readOnlyRootFilesystem", own_unset("readOnlyRootFilesystem"), "true".into());
    }
    let escalation = s.default_allow_privilege_escalation.or(match s.allow_privilege_escalation {
        Some(false) => Some(false),
        _ => None,
    });
    if let Some(v) = escalation {
        container("allowPrivilegeEscalation", own_unset("allowPrivilegeEscalation"), v.to_string());
    }
    if !st.apparmor.default.is_empty() {
        let key = format!("{} + {C}.name", lit(APPARMOR_ANNOTATION_PREFIX));
        out.push(Fill {
            parent: Parent::ContainerAnnotation,
            field: APPARMOR_ANNOTATION_PREFIX.to_owned(),
            // A profile set as a field counts as its annotation (the API server syncs them).
            unset: format!(
                "{} == '' && !({}) && !({})",
                annotation(&key, "''"),
                has_path(C, "securityContext.appArmorProfile"),
                has_path("object", "spec.securityContext.appArmorProfile")
            ),
            value: lit(&st.apparmor.default),
        });
    }
    out
}

/// `[…] + […]` of the parts, or `[]`.
fn concat(parts: &[String]) -> String {
    if parts.is_empty() { "[]".into() } else { parts.join(" + ") }
}

fn patch(path: &str, value: &str) -> String {
    format!("JSONPatch{{op: 'add', path: {path}, value: {value}}}")
}

/// `a || b || …`, or `false`.
fn any(terms: impl IntoIterator<Item = String>) -> String {
    let terms: Vec<String> = terms.into_iter().map(|t| format!("({t})")).collect();
    if terms.is_empty() { "false".into() } else { terms.join(" || ") }
}

/// The JSON Patch expression writing `ds` (evaluated on the pod as submitted).
fn patches(ds: &[Fill]) -> String {
    let of = |p: Parent| ds.iter().filter(move |d| d.parent == p);
    let mut parts = Vec::new();
    let pod_sc: Vec<&Fill> = of(Parent::PodSecurityContext).collect();
    if !pod_sc.is_empty() {
        parts.push(format!(
            "(!has(object.spec.securityContext) && ({}) ? [{}] : [])",
            any(pod_sc.iter().map(|d| d.unset.clone())),
            patch("'/spec/securityContext'", "{}")
        ));
    }
    for d in &pod_sc {
        let path = lit(&format!("/spec/securityContext/{}", d.field));
        parts.push(format!("({} ? [{}] : [])", d.unset, patch(&path, &d.value)));
    }
    for d in of(Parent::Spec) {
        let path = lit(&format!("/spec/{}", d.field));
        parts.push(format!("({} ? [{}] : [])", d.unset, patch(&path, &d.value)));
    }
    // Annotations: the map first, when a key will be written and there is none.
    let mut writes: Vec<String> = of(Parent::Annotations).map(|d| d.unset.clone()).collect();
    for d in of(Parent::ContainerAnnotation) {
        writes.push(format!("{}.exists(c, {})", controls::CONTAINERS, d.unset.replace(C, "c")));
    }
    if !writes.is_empty() {
        parts.push(format!(
            "(!has(object.metadata.annotations) && ({}) ? [{}] : [])",
            any(writes),
            patch("'/metadata/annotations'", "{}")
        ));
    }
    for d in of(Parent::Annotations) {
        let path = lit(&format!("/metadata/annotations/{}", escape(&d.field)));
        parts.push(format!("({} ? [{}] : [])", d.unset, patch(&path, &d.value)));
    }
    let sc: Vec<&Fill> = of(Parent::ContainerSecurityContext).collect();
    for list in LISTS {
        let at = format!("object.spec.{list}[i]");
        let idx = format!("variables.{list}Indexes");
        let base = format!("'/spec/{list}/' + string(i)");
        if !sc.is_empty() {
            let needs = any(sc.iter().map(|d| d.unset.replace(C, &at)));
            parts.push(format!(
                "{idx}.filter(i, !has({at}.securityContext) && ({needs})).map(i, {})",
                patch(&format!("{base} + '/securityContext'"), "{}")
            ));
        }
        for d in &sc {
            parts.push(format!(
                "{idx}.filter(i, {}).map(i, {})",
                d.unset.replace(C, &at),
                patch(
                    &format!("{base} + {}", lit(&format!("/securityContext/{}", d.field))),
                    &d.value.replace(C, &at)
                )
            ));
        }
        for d in of(Parent::ContainerAnnotation) {
            let path = format!(
                "{} + {at}.name",
                lit(&format!("/metadata/annotations/{}", escape(&d.field)))
            );
            parts.push(format!(
                "{idx}.filter(i, {}).map(i, {})",
                d.unset.replace(C, &at),
                patch(&path, &d.value)
            ));
        }
    }
    concat(&parts)
}

/// Whether the PSP would change the pod at all.
fn mutates(ds: &[Fill]) -> String {
    any(ds.iter().map(|d| match d.parent {
        Parent::ContainerSecurityContext | Parent::ContainerAnnotation => {
            format!("{}.exists(c, {})", controls::CONTAINERS, d.unset.replace(C, "c"))
        }
        _ => d.unset.clone(),
    }))
}

/// Whether a PSP fills in anything but the copy of a seccomp field into its annotation (the
/// one default every PSP has); a group whose PSPs have nothing else gets no policy.
fn has_real_defaults(p: &Picked) -> bool {
    !p.st.seccomp.default.is_empty() || p.fills.iter().any(|d| d.field != SECCOMP_POD_ANNOTATION)
}

/// A usable PSP of a group whose strategies build (one that cannot be built admits nothing,
/// so it never gives defaults), with what it fills in.
struct Picked<'a> {
    usable: &'a Usable,
    psp: &'a PodSecurityPolicy,
    st: Strategies,
    fills: Vec<Fill>,
}

/// The mutation policies for `namespaces` (sorted), when the target version serves them.
pub fn mutation_policies(
    psps: &[&PodSecurityPolicy],
    grants: &[Grant],
    namespaces: &[String],
    opts: &PolicyOptions,
) -> Vec<Mutation> {
    let Some(served) = api::mutating(opts.minor) else { return Vec::new() };
    let by_name: std::collections::BTreeMap<&str, &PodSecurityPolicy> =
        psps.iter().map(|p| (p.metadata.name.as_str(), *p)).collect();
    let mut out = Vec::new();
    for (usable, namespaces) in groups(psps, grants, namespaces) {
        let picked: Vec<Picked> = usable
            .iter()
            .filter_map(|usable| {
                let psp = *by_name.get(usable.psp.as_str())?;
                let st = Strategies::new(psp).ok()?;
                let fills = defaults(psp, &st);
                Some(Picked { usable, psp, st, fills })
            })
            .collect();
        if !picked.iter().any(has_real_defaults) {
            continue;
        }
        let name = format!("psa-migrate-defaults-{}", namespaces[0]);
        let policy = build_policy(&name, served.api_version, &picked);
        let binding = json!({
            "apiVersion": served.api_version,
            "kind": "MutatingAdmissionPolicyBinding",
            "metadata": {"name": name, "labels": {MANAGED_BY.0: MANAGED_BY.1}},
            "spec": {"policyName": name, "matchResources": namespace_selector(&namespaces)},
        });
        out.push(Mutation {
            name,
            psps: usable.iter().map(|u| u.psp.clone()).collect(),
            namespaces,
            policy,
            binding,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

fn build_policy(name: &str, api_version: &str, picked: &[Picked]) -> Value {
    let mut variables: Vec<Value> = controls::shared_variables()
        .into_iter()
        .map(|(n, e)| json!({"name": n, "expression": e}))
        .collect();
    // The pod's seccomp annotation and field (as an annotation value), read by every PSP's
    // defaults.
    variables.push(json!({
        "name": "podSeccompAnnotation",
        "expression": annotation(&lit(SECCOMP_POD_ANNOTATION), "''"),
    }));
    variables.push(json!({
        "name": "podSeccompField",
        "expression": format!(
            "has(object.spec.securityContext) && has(object.spec.securityContext.seccompProfile) \
             ? {} : ''",
            profile_of("object.spec.securityContext.seccompProfile")
        ),
    }));
    let indexes: Vec<String> = (0..MAX_CONTAINERS).map(|i| i.to_string()).collect();
    for list in LISTS {
        variables.push(json!({
            "name": format!("{list}Indexes"),
            "expression": format!(
                "has(object.spec.{list}) ? [{}].filter(i, i < size(object.spec.{list})) : []",
                indexes.join(", ")
            ),
        }));
    }
    let all: Vec<String> = picked.iter().map(|p| p.usable.psp.clone()).collect();
    let vars = variable_names(&all);
    let mut unchanged = Vec::new();
    let mut defaulted = Vec::new();
    let mut mutations = Vec::new();
    for (p, var) in picked.iter().zip(&vars) {
        let (u, psp, d) = (p.usable, p.psp, &p.fills);
        let prefix = lower_first(var);
        variables.push(json!({"name": format!("usable{var}"), "expression": u.when}));
        let as_written = controls::controls_in(psp, View::AsWritten);
        let refs = declare_controls(&mut variables, &prefix, &as_written, "");
        let after = controls::controls_in(psp, View::Defaulted);
        // Controls whose defaulted reading differs get a second variable.
        // The same controls in the same order: only the value assumed for unset fields differs.
        let mut after_refs = Vec::new();
        for ((w, c), r) in as_written.iter().zip(&after).zip(&refs) {
            if w.expr == c.expr {
                after_refs.push(r.clone());
            } else {
                let one = std::slice::from_ref(c);
                after_refs.extend(declare_controls(&mut variables, &prefix, one, "Defaulted"));
            }
        }
        variables.push(json!({"name": format!("{prefix}Mutates"), "expression": mutates(d)}));
        let mut conj =
            vec![format!("variables.usable{var}"), format!("!variables.{prefix}Mutates")];
        conj.extend(refs);
        variables.push(
            json!({"name": format!("admitsUnchanged{var}"), "expression": conj.join(" && ")}),
        );
        let mut conj = vec![format!("variables.usable{var}")];
        conj.extend(after_refs);
        variables.push(
            json!({"name": format!("admitsDefaulted{var}"), "expression": conj.join(" && ")}),
        );
        unchanged.push(format!("variables.admitsUnchanged{var}"));
        defaulted.push((format!("variables.admitsDefaulted{var}"), u.psp.clone()));
        mutations.push(json!({
            "patchType": "JSONPatch",
            "jsonPatch": {"expression": format!(
                "variables.chosenPsp == {} ? {} : []",
                lit(&u.psp),
                patches(d)
            )},
        }));
    }
    // The plugin's choice: no mutation when some PSP admits the pod unchanged, else the first
    // (by name) that admits it once defaulted.
    let mut chosen = "''".to_owned();
    for (cond, psp) in defaulted.iter().rev() {
        chosen = format!("{cond} ? {} : ({chosen})", lit(psp));
    }
    let chosen = if unchanged.is_empty() {
        chosen
    } else {
        format!("{} ? '' : ({chosen})", unchanged.join(" || "))
    };
    variables.push(json!({"name": "chosenPsp", "expression": chosen}));
    policy_object(
        "MutatingAdmissionPolicy",
        api_version,
        name,
        &all,
        &["CREATE"],
        &["pods"],
        json!({"reinvocationPolicy": "Never", "variables": variables, "mutations": mutations}),
    )
}
