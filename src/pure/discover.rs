//! Discovery: who may use which PodSecurityPolicy, in which namespace, and which PSP admitted
//! each pod — the facts the migration plan starts from.
//!
//! * [`rbac`] resolves every grant of `use` on PSPs (binding → role → rule → subject).
//! * [`subjects`] says which identities a subject covers, as the PSP admission plugin checks
//!   them (the pod's service account, or the requesting user).
//! * [`admitted`] reads the `kubernetes.io/psp` annotation of pods.
//!
//! Per namespace, a pod may be admitted by a PSP its service account may use, or one every
//! requester may use (`system:authenticated`, which every requester — controllers included —
//! carries). Grants only to named users or other groups (`system:masters`, …) matter only for
//! pods people create directly and are listed apart; they do not count towards `pspLevel`.
//!
//! Pure: no I/O.

/// Which PSP admitted each pod (`kubernetes.io/psp`).
pub mod admitted;
/// The ClusterRoles the apiserver bootstraps (bindings to them are not to missing roles).
pub mod bootstrap;
/// RBAC `use` resolution on PodSecurityPolicies.
pub mod rbac;
/// Binding subjects as PSP authorization sees them.
pub mod subjects;

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::{Serialize, Serializer};

use crate::discover::rbac::{Grant, RbacResolution};
use crate::discover::subjects::Principal;
use crate::findings::{self, Code, Finding, ObjectRef};
use crate::mapping::{self, PolicyMapping};
use crate::model::inventory::{Inventory, Provenance, Unavailable};
use crate::model::level::{Level, LevelOrNone};
use crate::mutation::{self, MutatedWorkload};

/// The JSON schema version of `inventory` output. Bump on any incompatible change.
pub const INVENTORY_SCHEMA_VERSION: &str = "psa-migrate.inventory/v3";

/// One path by which a PSP is usable: binding → role → rule, and the subject it names.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Via {
    pub binding: ObjectRef,
    pub role: ObjectRef,
    pub rule: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aggregated_from: Option<String>,
    pub subject: ObjectRef,
    /// The rule grants use on every PSP.
    pub all_psps: bool,
}

impl From<&Grant> for Via {
    fn from(g: &Grant) -> Via {
        Via {
            binding: g.binding.clone(),
            role: g.role.clone(),
            rule: g.rule,
            aggregated_from: g.aggregated_from.clone(),
            subject: g.subject.clone(),
            all_psps: g.all_psps,
        }
    }
}

impl Via {
    /// `RoleBinding ns/b → Role ns/r rule 0 (ServiceAccount ns/sa)`, for text output.
    pub fn text(&self) -> String {
        let mut s = format!("{} → {}", self.binding, self.role);
        if let Some(from) = &self.aggregated_from {
            s.push_str(&format!(" (aggregated from ClusterRole {from})"));
        }
        s.push_str(&format!(" rule {} ({})", self.rule, self.subject));
        s
    }
}

/// A PSP and the paths that make it usable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PspUse {
    pub psp: String,
    pub via: Vec<Via>,
}

/// Groups grants per PSP (sorted by PSP, paths sorted and deduplicated).
pub fn group_by_psp<'a>(grants: impl IntoIterator<Item = &'a Grant>) -> Vec<PspUse> {
    let mut by: BTreeMap<&str, BTreeSet<Via>> = BTreeMap::new();
    for g in grants {
        by.entry(&g.psp).or_default().insert(Via::from(g));
    }
    by.into_iter()
        .map(|(psp, via)| PspUse { psp: psp.to_owned(), via: via.into_iter().collect() })
        .collect()
}

/// PSPs the service account `ns/sa` may use in its namespace (its own identity: user name and
/// service-account groups, not `system:authenticated`).
pub fn usable_by_service_account(grants: &[Grant], ns: &str, sa: &str) -> Vec<PspUse> {
    group_by_psp(
        grants.iter().filter(|g| g.applies_in(ns) && g.principal.covers_service_account(ns, sa)),
    )
}

/// PSPs every requester may use in `ns` (grants to `system:authenticated`): they reach every pod.
pub fn usable_by_every_requester(grants: &[Grant], ns: &str) -> Vec<PspUse> {
    group_by_psp(grants.iter().filter(|g| g.applies_in(ns) && g.principal.is_every_requester()))
}

/// PSPs usable in `ns` only by named users, other groups, or service accounts of other
/// namespaces (they matter for pods people create directly).
pub fn usable_only_by_requesters(grants: &[Grant], ns: &str) -> Vec<PspUse> {
    group_by_psp(grants.iter().filter(|g| g.applies_in(ns) && g.principal.is_requester_only_in(ns)))
}

/// Whether a grant reaches pods of `ns` through their service account or `system:authenticated`.
fn reaches_pods_in(g: &Grant, ns: &str) -> bool {
    g.applies_in(ns)
        && match &g.principal {
            Principal::ServiceAccount { namespace, .. }
            | Principal::NamespaceServiceAccounts { namespace } => namespace == ns,
            Principal::AllServiceAccounts | Principal::Authenticated => true,
            _ => false,
        }
}

/// PSPs pods of `ns` may be admitted by: through any of its service accounts or
/// `system:authenticated`.
pub fn usable_by_pods_in(grants: &[Grant], ns: &str) -> Vec<PspUse> {
    group_by_psp(grants.iter().filter(|g| reaches_pods_in(g, ns)))
}

/// PSPs every authenticated user may use in every namespace (cluster-wide grants to
/// `system:authenticated`): what pods in any namespace, new ones included, can get.
pub fn cluster_wide_authenticated_psps(grants: &[Grant]) -> BTreeSet<String> {
    grants
        .iter()
        .filter(|g| g.scope.is_none() && g.principal.is_every_requester())
        .map(|g| g.psp.clone())
        .collect()
}

/// PSPs every service account may use in every namespace (cluster-wide grants to
/// `system:serviceaccounts`).
pub fn cluster_wide_service_account_psps(grants: &[Grant]) -> BTreeSet<String> {
    grants
        .iter()
        .filter(|g| g.scope.is_none() && g.principal == Principal::AllServiceAccounts)
        .map(|g| g.psp.clone())
        .collect()
}

/// The namespace's PSP-derived level: the least restrictive level (in the chosen reading) among
/// the PSPs its pods may use; `None` when they may use none.
pub fn psp_level(
    mappings: &BTreeMap<String, PolicyMapping>,
    grants: &[Grant],
    ns: &str,
    strict: bool,
) -> Option<Level> {
    let uses = usable_by_pods_in(grants, ns);
    mapping::loosest(mappings, uses.iter().map(|u| u.psp.as_str()), strict)
}

/// Every namespace the inventory mentions: Namespace objects and the namespaces of pods,
/// workloads, service accounts, Roles and RoleBindings.
pub fn namespace_names(inv: &Inventory) -> BTreeMap<String, bool> {
    let mut out: BTreeMap<String, bool> = BTreeMap::new();
    for n in &inv.namespaces {
        out.insert(n.metadata.name.clone(), true);
    }
    let mut add = |ns: Option<&str>| {
        if let Some(ns) = ns.filter(|n| !n.is_empty()) {
            out.entry(ns.to_owned()).or_insert(false);
        }
    };
    for p in &inv.pod_objects {
        add(Some(p.namespace()));
    }
    for s in &inv.service_accounts {
        add(s.namespace.as_deref());
    }
    for r in &inv.roles {
        add(r.metadata.namespace.as_deref());
    }
    for b in &inv.role_bindings {
        add(b.metadata.namespace.as_deref());
    }
    out
}

/// A service account of a namespace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceAccountAccess {
    pub name: String,
    /// Whether the ServiceAccount object is in the input (otherwise it is named by pods,
    /// templates or RBAC subjects, or is `default`).
    pub in_inventory: bool,
    /// Pods and workload templates that run as it.
    pub pod_objects: usize,
    pub usable_psps: Vec<PspUse>,
}

/// The service accounts of every namespace, in one pass over the inventory: those in the
/// inventory, those named by pods, templates and RBAC subjects, and `default` (added for every
/// namespace of [`namespace_names`]); with whether each is in the input and how many pod objects
/// use it.
pub fn service_accounts_by_namespace(
    inv: &Inventory,
    grants: &[Grant],
) -> BTreeMap<String, BTreeMap<String, (bool, usize)>> {
    let mut out: BTreeMap<String, BTreeMap<String, (bool, usize)>> = BTreeMap::new();
    for ns in namespace_names(inv).into_keys() {
        out.entry(ns).or_default().insert("default".into(), (false, 0));
    }
    for s in &inv.service_accounts {
        if let Some(ns) = s.namespace.as_deref() {
            out.entry(ns.to_owned()).or_default().entry(s.name.clone()).or_default().0 = true;
        }
    }
    for p in &inv.pod_objects {
        let sas = out.entry(p.namespace().to_owned()).or_default();
        sas.entry(p.spec.service_account().to_owned()).or_default().1 += 1;
    }
    for g in grants {
        if let Principal::ServiceAccount { namespace, name } = &g.principal {
            out.entry(namespace.clone()).or_default().entry(name.clone()).or_default();
        }
    }
    out
}

fn level_or_none<S: Serializer>(level: &Option<Level>, s: S) -> Result<S::Ok, S::Error> {
    match level {
        Some(l) => l.serialize(s),
        None => s.serialize_str("none"),
    }
}

/// A PSP usable by pods of a namespace, with its levels.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NamespacePsp {
    pub psp: String,
    pub level: Option<Level>,
    pub strict_level: Option<Level>,
    pub via: Vec<Via>,
}

/// What PSP means for one namespace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NamespaceAccess {
    pub name: String,
    /// Whether the Namespace object is in the input.
    pub exists: bool,
    pub service_accounts: Vec<ServiceAccountAccess>,
    /// PSPs pods here may be admitted by (through a service account of the namespace or
    /// `system:authenticated`).
    pub usable_psps: Vec<NamespacePsp>,
    /// PSPs every requester may use here (`system:authenticated`).
    pub every_requester_psps: Vec<PspUse>,
    /// PSPs usable here only by named users, other groups or other namespaces' service accounts.
    pub requester_only_psps: Vec<PspUse>,
    /// Least restrictive practical level among `usablePsps`; `none` when empty.
    #[serde(serialize_with = "level_or_none")]
    #[schemars(with = "LevelOrNone")]
    pub psp_level: Option<Level>,
    /// The same in the strict reading.
    #[serde(serialize_with = "level_or_none")]
    #[schemars(with = "LevelOrNone")]
    pub psp_strict_level: Option<Level>,
    /// Pods per admitting PSP (`kubernetes.io/psp`).
    pub pods_by_psp: BTreeMap<String, usize>,
    /// Pods without the annotation.
    pub pods_without_psp: usize,
}

/// Per-namespace access for every namespace the inventory mentions.
pub fn namespace_access(
    inv: &Inventory,
    grants: &[Grant],
    mappings: &BTreeMap<String, PolicyMapping>,
) -> Vec<NamespaceAccess> {
    let pods = admitted::pods_by_psp(inv);
    let mut sas = service_accounts_by_namespace(inv, grants);
    namespace_names(inv)
        .into_iter()
        .map(|(ns, exists)| {
            let service_accounts = sas
                .remove(&ns)
                .unwrap_or_default()
                .into_iter()
                .map(|(name, (in_inventory, pod_objects))| ServiceAccountAccess {
                    usable_psps: usable_by_service_account(grants, &ns, &name),
                    name,
                    in_inventory,
                    pod_objects,
                })
                .collect();
            let usable_psps = usable_by_pods_in(grants, &ns)
                .into_iter()
                .map(|u| NamespacePsp {
                    level: mappings.get(&u.psp).map(|m| m.level),
                    strict_level: mappings.get(&u.psp).map(|m| m.strict_level),
                    psp: u.psp,
                    via: u.via,
                })
                .collect();
            let counts = pods.get(&ns).cloned().unwrap_or_default();
            NamespaceAccess {
                service_accounts,
                usable_psps,
                every_requester_psps: usable_by_every_requester(grants, &ns),
                requester_only_psps: usable_only_by_requesters(grants, &ns),
                psp_level: psp_level(mappings, grants, &ns, false),
                psp_strict_level: psp_level(mappings, grants, &ns, true),
                pods_by_psp: counts.by_psp,
                pods_without_psp: counts.without_psp,
                exists,
                name: ns,
            }
        })
        .collect()
}

/// A PSP in the inventory report.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PspSummary {
    pub name: String,
    pub api_version: String,
    pub level: Level,
    pub strict_level: Level,
    /// Whether it changes pods at admission.
    pub mutating: bool,
    /// Whether any grant lets anyone use it.
    pub granted: bool,
    /// Pods it admitted (all namespaces).
    pub pods: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Provenance>,
}

/// RBAC objects that exist only for PSP (clean-up candidates once PSP is off).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Cleanup {
    /// Roles and ClusterRoles whose every rule grants `use` on PSPs and nothing else.
    pub psp_only_roles: Vec<ObjectRef>,
    /// Bindings that refer to such roles.
    pub psp_only_bindings: Vec<ObjectRef>,
    /// Roles that grant more than PSP use, with the rules (indexes) that grant only PSP use.
    pub psp_rules_in_mixed_roles: Vec<MixedRole>,
}

/// A role that grants PSP use among other things.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MixedRole {
    pub role: ObjectRef,
    /// Indexes of the rules that grant nothing but PSP use.
    pub rules: Vec<usize>,
}

/// `inventory` output.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct InventoryReport {
    pub schema_version: &'static str,
    /// `gitVersion` of the server, when known.
    pub server_version: Option<String>,
    pub psps: Vec<PspSummary>,
    pub grants: Vec<Grant>,
    pub namespaces: Vec<NamespaceAccess>,
    pub mutated_workloads: Vec<MutatedWorkload>,
    /// Workload templates without pods: which PSP would admit them today (simulated).
    #[serde(rename = "wouldAdmit")]
    pub would_admit: Vec<crate::simulate::inventory::WouldAdmit>,
    pub cleanup: Cleanup,
    pub findings: Vec<Finding>,
    /// Kinds read but not used, with counts.
    pub ignored_kinds: BTreeMap<String, usize>,
    /// Resource kinds that could not be read (live mode).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unavailable: Vec<Unavailable>,
    /// Problems reading the input (`input-*`, `api-*` codes), set by the app layer after the
    /// run's severity overrides; absent when there are none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub diagnostics: Vec<crate::findings::Diagnostic>,
}

/// Everything discovery computes, for reuse by other features.
#[derive(Clone, Debug)]
pub struct Discovery {
    pub rbac: RbacResolution,
    pub mappings: BTreeMap<String, PolicyMapping>,
    pub namespaces: Vec<NamespaceAccess>,
}

/// Resolves RBAC, maps PSPs and computes per-namespace access.
pub fn discover(inv: &Inventory) -> Discovery {
    let rbac = rbac::resolve(inv);
    let mappings = mapping::map_by_name(inv);
    let namespaces = namespace_access(inv, &rbac.grants, &mappings);
    Discovery { rbac, mappings, namespaces }
}

/// Builds the `inventory` report: discovery, PSP summaries, mutated workloads and every finding
/// (sorted).
pub fn inventory_report(inv: &Inventory) -> InventoryReport {
    inventory_report_with(inv, discover(inv))
}

/// [`inventory_report`] from a discovery already made (the plan reuses its own).
pub fn inventory_report_with(inv: &Inventory, discovery: Discovery) -> InventoryReport {
    let Discovery { rbac, mappings, namespaces } = discovery;
    let mut findings = inv.findings.clone();
    findings.extend(rbac.findings.iter().cloned());
    findings.extend(admitted::admission_findings(inv, &rbac.grants));
    let (mutated_workloads, mutation_findings) = mutation::mutated_workloads(inv, &mappings);
    findings.extend(mutation_findings);
    findings.extend(crate::simulate::inventory::annotation_mismatches(inv, &rbac.grants));
    let would_admit = crate::simulate::inventory::would_admit(inv, &rbac.grants);

    let granted: BTreeSet<&str> = rbac.grants.iter().map(|g| g.psp.as_str()).collect();
    // Use on every PSP held only by people and other groups (cluster-admin, system:masters)
    // does not make a PSP "used": it needs a grant by name, or one that reaches pods.
    let really_granted: BTreeSet<&str> = rbac
        .grants
        .iter()
        .filter(|g| {
            !g.all_psps || !matches!(g.principal, Principal::User { .. } | Principal::Group { .. })
        })
        .map(|g| g.psp.as_str())
        .collect();
    let mut pods_per_psp: BTreeMap<&str, usize> = BTreeMap::new();
    for ns in &namespaces {
        for (psp, n) in &ns.pods_by_psp {
            *pods_per_psp.entry(psp).or_default() += n;
        }
    }
    let mut psps = Vec::new();
    for m in mappings.values() {
        findings.extend(mapping::problem_findings(m));
        if !really_granted.contains(m.name.as_str()) {
            let msg = if granted.contains(m.name.as_str()) {
                "no grant names it or reaches pods; only holders of use on every PSP \
                 (e.g. cluster-admin) can use it"
            } else {
                "no grant in the input lets anyone use it"
            };
            let f = Finding::new(
                Code::PspNotUsable,
                ObjectRef::new("PodSecurityPolicy", None, &m.name),
                msg,
            );
            findings.push(match &m.source {
                Some(s) => f.with_source(s),
                None => f,
            });
        }
        psps.push(PspSummary {
            name: m.name.clone(),
            api_version: m.api_version.clone(),
            level: m.level,
            strict_level: m.strict_level,
            mutating: m.is_mutating(),
            granted: granted.contains(m.name.as_str()),
            pods: pods_per_psp.get(m.name.as_str()).copied().unwrap_or(0),
            source: m.source.clone(),
        });
    }
    findings::sort(&mut findings);
    findings.dedup();
    InventoryReport {
        schema_version: INVENTORY_SCHEMA_VERSION,
        server_version: inv.server_version.as_ref().map(|v| {
            if v.git_version.is_empty() {
                format!("v{}.{}", v.major, v.minor)
            } else {
                v.git_version.clone()
            }
        }),
        psps,
        cleanup: Cleanup {
            psp_only_roles: rbac.psp_only_roles.iter().cloned().collect(),
            psp_only_bindings: rbac.psp_only_bindings.iter().cloned().collect(),
            psp_rules_in_mixed_roles: rbac
                .psp_rules_in_mixed_roles
                .iter()
                .map(|(role, rules)| MixedRole { role: role.clone(), rules: rules.clone() })
                .collect(),
        },
        grants: rbac.grants,
        namespaces,
        mutated_workloads,
        would_admit,
        findings,
        ignored_kinds: inv.ignored.clone(),
        unavailable: inv.unavailable.clone(),
        diagnostics: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discover::rbac::tests::{Rbac, rule, subject, use_rule};
    use crate::model::inventory::{ObjectState, PodKind, PodObject, Sourced};
    use crate::model::pod::{ObjectMeta, PSP_ANNOTATION};

    fn pod(ns: &str, name: &str, sa: &str, psp: Option<&str>) -> PodObject {
        let mut meta =
            ObjectMeta { name: name.into(), namespace: Some(ns.into()), ..Default::default() };
        if let Some(p) = psp {
            meta.annotations.insert(PSP_ANNOTATION.into(), p.into());
        }
        PodObject {
            kind: PodKind::Pod,
            api_version: "v1".into(),
            meta,
            template_annotations: Default::default(),
            spec: serde_json::from_value(serde_json::json!({"serviceAccountName": sa})).unwrap(),
            state: ObjectState::default(),
            source: rbac::tests::src(),
            custom: None,
        }
    }

    fn sa(inv: &mut Inventory, ns: &str, name: &str) {
        inv.service_accounts.push(Sourced {
            obj: ObjectMeta { name: name.into(), namespace: Some(ns.into()), ..Default::default() },
            source: rbac::tests::src(),
        });
    }

    fn names(uses: &[PspUse]) -> Vec<&str> {
        uses.iter().map(|u| u.psp.as_str()).collect()
    }

    /// The PSP admission plugin's view: service account identity without
    /// `system:authenticated`; every requester is authenticated.
    #[test]
    fn who_may_use_what() {
        let mut inv = Rbac::default()
            .psp("privileged")
            .psp("restricted")
            .psp("baseline")
            .psp("team")
            .psp("ops")
            .cluster_role("psp:restricted", &[], vec![use_rule(&["restricted"])])
            .cluster_role("psp:privileged", &[], vec![use_rule(&["privileged"])])
            .cluster_role(
                "psp:baseline",
                &[],
                vec![rule(&["extensions"], &["podsecuritypolicies"], &["use"], &["baseline"])],
            )
            .role("a", "team", vec![use_rule(&["team"])])
            .cluster_binding(
                "everyone",
                "ClusterRole",
                "psp:restricted",
                vec![subject("Group", "system:authenticated", None)],
            )
            .cluster_binding(
                "masters",
                "ClusterRole",
                "psp:privileged",
                vec![subject("Group", "system:masters", None)],
            )
            .role_binding(
                "a",
                "all-sas",
                "ClusterRole",
                "psp:baseline",
                vec![subject("Group", "system:serviceaccounts:a", None)],
            )
            .role_binding(
                "a",
                "team",
                "Role",
                "team",
                vec![subject("ServiceAccount", "builder", None)],
            )
            .role_binding(
                "a",
                "ops",
                "ClusterRole",
                "psp:privileged",
                vec![subject("User", "alice", None)],
            )
            .0;
        sa(&mut inv, "a", "builder");
        sa(&mut inv, "b", "app");
        inv.pod_objects.push(pod("a", "p1", "builder", Some("team")));
        inv.pod_objects.push(pod("a", "p2", "web", Some("privileged")));
        inv.pod_objects.push(pod("a", "p3", "web", None));
        inv.pod_objects.push(pod("b", "p4", "app", Some("gone")));
        let d = discover(&inv);
        let g = &d.rbac.grants;
        assert_eq!(names(&usable_by_service_account(g, "a", "builder")), ["baseline", "team"]);
        assert_eq!(names(&usable_by_service_account(g, "a", "web")), ["baseline"]);
        assert_eq!(names(&usable_by_service_account(g, "b", "app")), Vec::<&str>::new());
        assert_eq!(names(&usable_by_every_requester(g, "b")), ["restricted"]);
        assert_eq!(names(&usable_only_by_requesters(g, "a")), ["privileged"]);
        assert_eq!(names(&usable_by_pods_in(g, "a")), ["baseline", "restricted", "team"]);
        assert_eq!(
            cluster_wide_authenticated_psps(g).into_iter().collect::<Vec<_>>(),
            ["restricted"]
        );
        assert!(cluster_wide_service_account_psps(g).is_empty());

        let a = d.namespaces.iter().find(|n| n.name == "a").unwrap();
        assert!(!a.exists);
        let sas: Vec<&str> = a.service_accounts.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(sas, ["builder", "default", "web"]);
        assert_eq!(a.pods_by_psp, [("privileged".to_string(), 1), ("team".to_string(), 1)].into());
        assert_eq!(a.pods_without_psp, 1);
        // Every PSP here is empty (privileged fields unset): all map the same way.
        assert!(a.psp_level.is_some());
        let b = d.namespaces.iter().find(|n| n.name == "b").unwrap();
        assert_eq!(names(&b.every_requester_psps), ["restricted"]);

        let report = inventory_report(&inv);
        let codes: Vec<(Code, String)> =
            report.findings.iter().map(|f| (f.code, f.object.to_string())).collect();
        assert!(codes.contains(&(Code::PodPspNotUsableBySa, "Pod a/p2".into())), "{codes:?}");
        assert!(codes.contains(&(Code::PodPspUnknown, "Pod b/p4".into())));
        assert!(codes.contains(&(Code::PspNotUsable, "PodSecurityPolicy ops".into())));
        let msg =
            &report.findings.iter().find(|f| f.code == Code::PodPspNotUsableBySa).unwrap().message;
        assert!(msg.contains("Group system:masters") && msg.contains("User alice"), "{msg}");
    }

    #[test]
    fn no_psp_means_level_none() {
        let mut inv = Rbac::default().psp("p").0;
        sa(&mut inv, "x", "app");
        let d = discover(&inv);
        assert_eq!(d.namespaces[0].psp_level, None);
        let v = serde_json::to_value(&d.namespaces[0]).unwrap();
        assert_eq!(v["pspLevel"], "none");
    }
}
