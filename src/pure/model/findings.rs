//! Findings: facts about a cluster that a reviewer must see (a binding to a missing role, a PSP
//! nobody can use, a workload that would be rejected). They are data with stable codes, never
//! errors; the exit code reflects them through a threshold.
//!
//! Every code is listed once in [`Code`], with a one-line description; a unit test keeps the list
//! unique and snapshotted so that adding, renaming or removing a code shows up in review.

use std::fmt;

use schemars::JsonSchema;
use serde::{Serialize, Serializer};

use crate::model::inventory::Provenance;

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    /// As JSON and `--fail-on` spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

macro_rules! codes {
    ($($variant:ident => $code:literal, $severity:ident, $desc:literal;)*) => {
        /// Stable finding codes (kebab-case). Never reuse a retired code.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code { $($variant,)* }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $code,)* }
            }

            pub fn severity(self) -> Severity {
                match self { $(Code::$variant => Severity::$severity,)* }
            }

            pub fn description(self) -> &'static str {
                match self { $(Code::$variant => $desc,)* }
            }
        }
    };
}

codes! {
    PspInvalidValue => "psp-invalid-value", Warning, "A PodSecurityPolicy field or annotation holds a value the PSP API rejects or does not recognise (unknown rule, volume type or profile); the mapping ignores it.";
    PspNotUsable => "psp-not-usable", Warning, "No RBAC grant in the input names this PodSecurityPolicy or reaches pods with it (at most, holders of use on every PSP such as cluster-admin can use it): a clean-up candidate, or the grant is broken.";
    RbacBindingMissingRole => "rbac-binding-missing-role", Warning, "A RoleBinding or ClusterRoleBinding refers to a Role or ClusterRole that is not in the input (ClusterRoles the API server bootstraps, such as cluster-admin or view, excepted); whatever it would grant (PSP use included) is unknown.";
    RbacBindingInvalidRoleRef => "rbac-binding-invalid-role-ref", Warning, "A binding's roleRef has a kind that cannot be bound there (e.g. a ClusterRoleBinding to a Role); it grants nothing.";
    RbacSubjectMissingNamespace => "rbac-subject-missing-namespace", Warning, "A ServiceAccount subject of a ClusterRoleBinding names no namespace; it matches no service account.";
    RbacPspResourceTypo => "rbac-psp-resource-typo", Warning, "A rule with the use verb names a resource that looks like podsecuritypolicies but is not (podsecuritypolicy, psp, …); it grants nothing.";
    RbacPspVerbTypo => "rbac-psp-verb-typo", Warning, "A rule on podsecuritypolicies has a verb that looks like use but is not (Use, uses, …); it grants no use.";
    RbacPspApiGroupMismatch => "rbac-psp-api-group-mismatch", Warning, "A rule grants use on podsecuritypolicies but not in the policy or extensions API group; it grants nothing.";
    RbacGrantUnknownPsp => "rbac-grant-unknown-psp", Warning, "A rule grants use on a PodSecurityPolicy, by name, that is not in the input.";
    RbacGrantAllPsps => "rbac-grant-all-psps", Info, "A bound rule grants use on every PodSecurityPolicy (no resourceNames, or wildcards), so new PSPs such as the clones of migration step 2 are usable at once.";
    RbacPspRoleUnbound => "rbac-psp-role-unbound", Info, "A Role or ClusterRole grants use on PodSecurityPolicies but no binding in the input refers to it.";
    RbacGrantReachesControllers => "rbac-grant-reaches-controllers", Warning, "A cluster-wide grant reaches kube-system service accounts, which controllers create pods as: controller-created pods in every namespace may use the PSP.";
    PodPspNotUsableBySa => "pod-psp-not-usable-by-sa", Warning, "A pod was admitted by a PSP that neither its service account nor every authenticated user may use (a user created it, or RBAC changed since); a re-created pod may get another PSP.";
    PodPspAnnotationMismatch => "pod-psp-annotation-mismatch", Warning, "A pod's kubernetes.io/psp annotation names a PSP it may use, but the simulated PSP admission plugin would choose another PSP (or reject it) today: a re-created pod gets a different PSP, and possibly different defaults.";
    PodPspUnknown => "pod-psp-unknown", Warning, "A pod's kubernetes.io/psp annotation names a PodSecurityPolicy that is not in the input.";
    PodOwnerMissing => "pod-owner-missing", Warning, "A pod's controller (ownerReferences) is not in the input, so its template cannot be compared.";
    PodOwnerUnknownKind => "pod-owner-unknown-kind", Info, "A pod's controller is a kind without a known pod template (a Node for static pods, a custom resource), so it is not compared.";
    WorkloadReliesOnPspMutation => "workload-relies-on-psp-mutation", Warning, "Pods differ from their workload's template on fields the admitting PSP mutates; without PSP they will be created as the template says.";
    WorkloadMutatedOutsidePsp => "workload-mutated-outside-psp", Info, "Pods differ from their template but the admitting PSP mutates nothing: another mutating webhook, or a template change since, made the difference.";
    PlanExemptControllerUser => "plan-exempt-controller-user", Warning, "An exempted username is a workload controller's service account: every pod its workloads create skips Pod Security, so anyone who can create such a workload bypasses it.";
    PlanUnknownExemptNamespace => "plan-unknown-exempt-namespace", Warning, "A namespace given to --exempt-namespace is not in the input (a typo, or it does not exist yet).";
    InputDuplicateObject => "input-duplicate-object", Warning, "The same object (kind, namespace, name) appears more than once in the input; the last one is kept, as kubectl apply would, and counted once.";
    PlanNamespaceNotInInput => "plan-namespace-not-in-input", Info, "A namespace is referenced (by bindings, subjects, objects or -n) but its Namespace object is not in the input: it is listed under notPlanned and never labelled.";
    PlanPartialCoverage => "plan-partial-coverage", Warning, "The input does not prove that every pod, workload, RBAC object or PSP of a planned namespace was read (a plain manifest set, or a kind that could not be listed): its plan is partial and apply refuses it without --force.";
    PlanResidualRejectsLive => "plan-residual-rejects-live", Warning, "A live pod or workload template that passes the namespace's enforce level is rejected by its residual admission policy (what the PSPs usable there validated, as written): usually a template that passed only because PSP mutated its pods; fix it before applying step 5.";
    PlanLoosens => "plan-loosens", Warning, "A namespace's enforce level is less restrictive than what its pods and workloads already pass (podsLevel), because a PSP usable there allowed more; --tighten enforces podsLevel instead.";
    InputReadError => "input-read-error", Error, "A file, directory or standard input given to -f could not be read (missing, no permission, an I/O error); what it holds is unknown, so the run exits 2.";
    InputParseError => "input-parse-error", Error, "A document is not valid YAML or JSON (or nests deeper than 128 levels); it is skipped, the file's other documents are still read, and the run exits 2.";
    InputInvalidEncoding => "input-invalid-encoding", Error, "A document holds bytes that are not UTF-8; it is skipped, the file's other documents are still read, and the run exits 2.";
    InputInvalidObject => "input-invalid-object", Error, "An object of a kind psa-migrate reads has a field of the wrong type or shape (e.g. a string where a list belongs), in a file or in an API answer; it is skipped and the run exits 2.";
    InputDuplicateKey => "input-duplicate-key", Warning, "A mapping key appears twice in one mapping of a YAML or JSON document; the last value is kept, as kubectl keeps it, so the earlier one has no effect.";
    InputSkippedFile => "input-skipped-file", Info, "A .yaml, .yml or .json entry found while walking a directory is not a regular file (a FIFO, socket or device) and was not read.";
    ApiNotServed => "api-not-served", Info, "The API server does not serve a resource's group and version (404), e.g. PodSecurityPolicies on Kubernetes 1.25+: there is nothing to read, so this is a notice.";
    ApiForbidden => "api-forbidden", Error, "The kubeconfig user may not list a resource (403); a resource the command needs makes the run exit 2 (see the README's Permissions).";
    ApiUnauthorized => "api-unauthorized", Error, "The API server did not accept the kubeconfig's credentials (401).";
    ApiTimeout => "api-timeout", Error, "A list request got no complete answer within --request-timeout.";
    ApiServerError => "api-server-error", Error, "The API server answered 429 or 5xx on every attempt.";
    ApiUnreachable => "api-unreachable", Error, "The API server could not be reached (connection or TLS failure) on every attempt.";
    ApiExpired => "api-expired", Error, "A list's continue token expired (410) more often than the restart budget allows.";
    ApiInvalidResponse => "api-invalid-response", Error, "A successful (2xx) answer to a list request was not a Kubernetes list.";
    ApiRequestFailed => "api-request-failed", Error, "A list request failed with another HTTP status.";
    CustomRuntimeMissing => "custom-runtime-missing", Warning, "An InferenceService or TrainJob uses a serving or training runtime that is not in the input (or chooses one by model format at admission): the pods it makes are judged without what the runtime supplies (KServe's model server container and volumes, the trainer's pod templates).";
    PssLevelDenied => "pss-level-denied", Error, "check: a pod or workload template fails the --level given, so Pod Security Admission enforcing that level would reject it.";
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl JsonSchema for Code {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Code".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let codes: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
        schemars::json_schema!({"description": "A stable finding code.", "type": "string", "enum": codes})
    }
}

/// The object a finding is about.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRef {
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
    /// For a pod template inside a custom resource: its path (`spec.workerGroupSpecs[0].template`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

impl ObjectRef {
    pub fn new(kind: &str, namespace: Option<&str>, name: &str) -> ObjectRef {
        ObjectRef {
            kind: kind.into(),
            namespace: namespace.map(Into::into),
            name: name.into(),
            path: None,
        }
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {ns}/{}", self.kind, self.name)?,
            None => write!(f, "{} {}", self.kind, self.name)?,
        }
        match &self.path {
            Some(p) => write!(f, " {p}"),
            None => Ok(()),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub code: Code,
    pub severity: Severity,
    pub object: ObjectRef,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Provenance>,
}

impl Finding {
    pub fn new(code: Code, object: ObjectRef, message: impl Into<String>) -> Finding {
        Finding { code, severity: code.severity(), object, message: message.into(), source: None }
    }

    pub fn with_source(mut self, source: &Provenance) -> Finding {
        self.source = Some(source.clone());
        self
    }
}

/// Sorts findings for output: by object, then code, then message.
pub fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| (&a.object, a.code, &a.message).cmp(&(&b.object, b.code, &b.message)));
}

impl Code {
    /// The code named `s`, if any.
    pub fn parse(s: &str) -> Option<Code> {
        Code::ALL.iter().copied().find(|c| c.as_str() == s)
    }

    /// Whether the code means that input the command needs could not be read: the run cannot
    /// do its job, always exits 2, and `--allow`, `--warn` and `--deny` do not apply to it.
    pub fn is_fixed(self) -> bool {
        matches!(
            self,
            Code::InputReadError
                | Code::InputParseError
                | Code::InputInvalidEncoding
                | Code::InputInvalidObject
                | Code::ApiForbidden
                | Code::ApiUnauthorized
                | Code::ApiTimeout
                | Code::ApiServerError
                | Code::ApiUnreachable
                | Code::ApiExpired
                | Code::ApiInvalidResponse
                | Code::ApiRequestFailed
        )
    }

    /// The short reason printed in `cannot read pods (forbidden)`: an `api-*` code without its
    /// family prefix (`api-not-served` is kept whole); any other code as it is.
    pub fn reason(self) -> &'static str {
        match self {
            Code::ApiNotServed => self.as_str(),
            _ => self.as_str().strip_prefix("api-").unwrap_or(self.as_str()),
        }
    }
}

/// Where a diagnostic about the input points: a file position, or an API resource.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// 0-based document index in the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<usize>,
    /// 1-based.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// 1-based.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u64>,
    /// Dotted field path of the value at fault, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Qualified plural resource (`pods`, `podsecuritypolicies.policy`) for `api-*` codes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
}

impl Location {
    pub fn is_empty(&self) -> bool {
        *self == Location::default()
    }
}

/// One thing the run reports: a finding about an object, a problem with the input, a
/// resource the API would not list, or an object the checked level rejects. Every command
/// collects them in [`Diagnostics`]; the exit code is computed from that one collection.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<ObjectRef>,
    #[serde(skip_serializing_if = "Location::is_empty")]
    pub location: Location,
    pub message: String,
    /// The command could not do its job (input it needs was not read): exit 2.
    #[serde(skip)]
    pub fatal: bool,
}

impl Diagnostic {
    /// A diagnostic with the code's own severity; fatal when the code is fixed.
    pub fn new(code: Code, location: Location, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity: code.severity(),
            object: None,
            location,
            message: message.into(),
            fatal: code.is_fixed(),
        }
    }

    /// About input the command does not need: a notice, never fatal.
    pub fn not_needed(mut self) -> Diagnostic {
        self.severity = Severity::Info;
        self.fatal = false;
        self
    }

    pub fn from_finding(f: &Finding) -> Diagnostic {
        Diagnostic {
            code: f.code,
            severity: f.severity,
            object: Some(f.object.clone()),
            location: Location::default(),
            message: f.message.clone(),
            fatal: false,
        }
    }
}

/// What `--allow`, `--warn` or `--deny` does to a code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Override {
    /// Not reported at all, and never counted for the exit code.
    Allow,
    /// Reported as a warning.
    Warn,
    /// Reported as an error.
    Deny,
}

/// The severity overrides of one run: per code, and for `all` codes that can be overridden.
/// A code named explicitly wins over `all`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Overrides {
    codes: std::collections::BTreeMap<Code, Override>,
    all: Option<Override>,
}

impl Overrides {
    /// Resolves the flags. Each argument is a code or `all`; an unknown code, a fixed code, a
    /// code (or `all`) given to two different flags is an error (a usage message).
    pub fn parse(allow: &[String], warn: &[String], deny: &[String]) -> Result<Overrides, String> {
        let mut o = Overrides::default();
        let flags = [("--allow", allow, Override::Allow), ("--warn", warn, Override::Warn)];
        let flags = flags.into_iter().chain([("--deny", deny, Override::Deny)]);
        let mut given: std::collections::BTreeMap<String, &str> = Default::default();
        for (flag, names, how) in flags {
            for name in names {
                if let Some(other) = given.insert(name.clone(), flag)
                    && other != flag
                {
                    return Err(format!("{name} is given to both {other} and {flag}"));
                }
                if name == "all" {
                    o.all = Some(how);
                    continue;
                }
                let code = Code::parse(name).ok_or_else(|| {
                    let valid: Vec<&str> =
                        Code::ALL.iter().filter(|c| !c.is_fixed()).map(|c| c.as_str()).collect();
                    format!(
                        "{flag} {name}: unknown code; valid codes are all, {}",
                        valid.join(", ")
                    )
                })?;
                if code.is_fixed() {
                    return Err(format!(
                        "{flag} {name}: this code means input the command needs could not be \
                         read; it always ends the run with exit status 2 and cannot be overridden"
                    ));
                }
                o.codes.insert(code, how);
            }
        }
        Ok(o)
    }

    /// The override for a code, if any (fixed codes have none).
    pub fn get(&self, code: Code) -> Option<Override> {
        if code.is_fixed() { None } else { self.codes.get(&code).copied().or(self.all) }
    }

    /// The severity a code is reported with, given its current one; `None` when allowed.
    pub fn severity(&self, code: Code, severity: Severity) -> Option<Severity> {
        match self.get(code) {
            None => Some(severity),
            Some(Override::Allow) => None,
            Some(Override::Warn) => Some(Severity::Warning),
            Some(Override::Deny) => Some(Severity::Error),
        }
    }

    /// Applies the overrides to findings: allowed ones are removed, others re-graded.
    pub fn apply_findings(&self, findings: &mut Vec<Finding>) {
        findings.retain_mut(|f| match self.severity(f.code, f.severity) {
            Some(s) => {
                f.severity = s;
                true
            }
            None => false,
        });
    }
}

/// Everything a run reports, in one collection: the sink every command reports through.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diagnostics {
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }

    /// Adds findings as diagnostics about their objects.
    pub fn extend_findings(&mut self, findings: &[Finding]) {
        self.items.extend(findings.iter().map(Diagnostic::from_finding));
    }

    /// Applies the overrides: allowed diagnostics are removed, others re-graded. Fixed codes
    /// are untouched.
    pub fn apply(&mut self, overrides: &Overrides) {
        self.items.retain_mut(|d| match overrides.severity(d.code, d.severity) {
            Some(s) => {
                d.severity = s;
                true
            }
            None => false,
        });
    }

    /// Whether a diagnostic means the command could not do its job.
    pub fn any_fatal(&self) -> bool {
        self.items.iter().any(|d| d.fatal)
    }

    /// Whether any diagnostic is at or above `threshold`.
    pub fn any_at_least(&self, threshold: Severity) -> bool {
        self.items.iter().any(|d| d.severity >= threshold)
    }

    /// The diagnostics about the input (those not about an object), for the `diagnostics`
    /// field of JSON and YAML reports.
    pub fn about_input(&self) -> Vec<Diagnostic> {
        self.items.iter().filter(|d| d.object.is_none()).cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    /// Exact codes win over `all`; allow hides, warn and deny re-grade; fixed codes keep theirs.
    #[test]
    fn override_resolution() {
        let o = Overrides::parse(
            &strings(&["psp-not-usable"]),
            &strings(&["all"]),
            &strings(&["rbac-grant-all-psps"]),
        )
        .unwrap();
        assert_eq!(o.severity(Code::PspNotUsable, Severity::Warning), None);
        assert_eq!(o.severity(Code::RbacGrantAllPsps, Severity::Info), Some(Severity::Error));
        assert_eq!(o.severity(Code::PlanLoosens, Severity::Warning), Some(Severity::Warning));
        assert_eq!(o.severity(Code::ApiNotServed, Severity::Info), Some(Severity::Warning));
        assert_eq!(o.severity(Code::InputParseError, Severity::Error), Some(Severity::Error));
        assert_eq!(o.severity(Code::ApiForbidden, Severity::Info), Some(Severity::Info));
        assert_eq!(Overrides::parse(&[], &[], &[]).unwrap(), Overrides::default());
        // The same flag twice is fine; one code (or all) in two flags is not.
        assert!(Overrides::parse(&strings(&["plan-loosens", "plan-loosens"]), &[], &[]).is_ok());
        let both = Overrides::parse(&strings(&["all"]), &[], &strings(&["all"])).unwrap_err();
        assert!(both.contains("both --allow and --deny"), "{both}");
        let unknown = Overrides::parse(&[], &strings(&["psp-nope"]), &[]).unwrap_err();
        assert!(unknown.starts_with("--warn psp-nope: unknown code; valid codes are all, "));
        assert!(unknown.contains("pss-level-denied") && !unknown.contains("input-parse-error"));
        let fixed = Overrides::parse(&[], &[], &strings(&["api-forbidden"])).unwrap_err();
        assert!(fixed.contains("cannot be overridden"), "{fixed}");
    }

    #[test]
    fn overrides_apply_to_findings_and_diagnostics() {
        let o = Overrides::parse(&strings(&["psp-not-usable"]), &[], &strings(&["plan-loosens"]))
            .unwrap();
        let object = ObjectRef::new("PodSecurityPolicy", None, "p");
        let mut findings = vec![
            Finding::new(Code::PspNotUsable, object.clone(), "a"),
            Finding::new(Code::PlanLoosens, object.clone(), "b"),
        ];
        o.apply_findings(&mut findings);
        assert_eq!(findings.len(), 1);
        assert_eq!((findings[0].code, findings[0].severity), (Code::PlanLoosens, Severity::Error));
        let mut d = Diagnostics::default();
        d.extend_findings(&[Finding::new(Code::PspNotUsable, object, "a")]);
        d.push(Diagnostic::new(Code::InputReadError, Location::default(), "gone"));
        d.push(Diagnostic::new(Code::ApiForbidden, Location::default(), "no").not_needed());
        d.apply(&o);
        assert_eq!(d.items.len(), 2, "the allowed finding is dropped");
        assert!(d.any_fatal());
        assert_eq!(d.about_input().len(), 2);
        assert!(!d.items[1].fatal && d.items[1].severity == Severity::Info);
    }

    #[test]
    fn reasons_keep_the_old_live_codes() {
        assert_eq!(Code::ApiForbidden.reason(), "forbidden");
        assert_eq!(Code::ApiServerError.reason(), "server-error");
        assert_eq!(Code::ApiNotServed.reason(), "api-not-served");
        assert_eq!(Code::PspNotUsable.reason(), "psp-not-usable");
        assert_eq!(Code::parse("api-timeout"), Some(Code::ApiTimeout));
        assert_eq!(Code::parse("timeout"), None);
    }

    /// Every code is unique, kebab-case, described, and the full list is reviewed on change.
    #[test]
    fn codes_unique() {
        let mut seen = std::collections::BTreeSet::new();
        let mut listing = String::new();
        for c in Code::ALL {
            assert!(seen.insert(c.as_str()), "duplicate code {c}");
            assert!(c.as_str().bytes().all(|b| b.is_ascii_lowercase() || b == b'-'), "{c}");
            assert!(!c.description().is_empty());
            listing.push_str(&format!(
                "{} ({:?}): {}\n",
                c.as_str(),
                c.severity(),
                c.description()
            ));
        }
        insta::assert_snapshot!(listing);
    }
}
