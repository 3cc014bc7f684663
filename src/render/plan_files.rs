//! Rendering a plan into the files of a migration directory. Pure: returns (file name, text)
//! pairs; writing them is the caller's job.

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::findings::ObjectRef;
use crate::plan::{BYPASS_CLUSTER_ROLE, BYPASS_PSP, BYPASS_ROLE_BINDING, NamespacePlan, Plan};

pub const AUDIT_WARN: &str = "0001-audit-warn.yaml";
pub const ENFORCE: &str = "0002-enforce.yaml";
pub const PSP_BYPASS: &str = "0003-psp-bypass.yaml";
pub const CLEANUP: &str = "0004-cleanup.yaml";
pub const RESIDUAL_POLICIES: &str = "0005-residual-policies.yaml";
pub const MUTATION_POLICIES: &str = "0006-mutation-policies.yaml";
pub const ADMISSION_CONFIGURATION: &str = "admission-configuration.yaml";
pub const PLAN_JSON: &str = "plan.json";
/// The folder of the workload fixes (`psa-migrate fix`'s files).
pub const FIXES_DIR: &str = "fixes";
pub const REPORT: &str = "REPORT.md";

/// The label step files, by step number.
pub fn step_file(step: u32) -> Option<&'static str> {
    match step {
        1 => Some(AUDIT_WARN),
        2 => Some(ENFORCE),
        3 => Some(PSP_BYPASS),
        4 => Some(CLEANUP),
        5 => Some(RESIDUAL_POLICIES),
        6 => Some(MUTATION_POLICIES),
        _ => None,
    }
}

/// A plan value that could not be serialized (never expected: the plan is plain data). The
/// files are not written rather than written empty.
#[derive(Debug, thiserror::Error)]
#[error("cannot render {file}: {message}")]
pub struct RenderError {
    pub file: &'static str,
    pub message: String,
}

fn yaml_docs(file: &'static str, header: &str, docs: &[Value]) -> Result<String, RenderError> {
    let mut out = String::new();
    for line in header.lines() {
        let _ = writeln!(out, "# {line}");
    }
    for doc in docs {
        out.push_str("---\n");
        let yaml = serde_saphyr::to_string(doc)
            .map_err(|e| RenderError { file, message: e.to_string() })?;
        out.push_str(&yaml);
    }
    if docs.is_empty() {
        out.push_str("# (nothing to do)\n");
    }
    Ok(out)
}

fn namespace_manifest(ns: &NamespacePlan, step: u32) -> Option<Value> {
    let labels = ns.step_labels(step);
    if ns.exempt || labels.is_empty() {
        return None;
    }
    Some(json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": ns.name, "labels": labels},
    }))
}

fn object_ref_manifest(r: &ObjectRef) -> Value {
    let api_version = match r.kind.as_str() {
        "PodSecurityPolicy" => "policy/v1beta1",
        _ => "rbac.authorization.k8s.io/v1",
    };
    let mut meta = json!({"name": r.name});
    if let Some(ns) = &r.namespace {
        meta["namespace"] = json!(ns);
    }
    json!({"apiVersion": api_version, "kind": r.kind, "metadata": meta})
}

/// `sha256:<hex>` of a text.
pub fn sha256(text: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(text);
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for b in digest {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// The digest of a plan: SHA-256 of its canonical JSON (compact, as serde_json writes a value)
/// with `digest` set to the empty string. Layout changes (indentation, key order) keep it; any
/// change of a value does not.
pub fn plan_digest(plan: &Value) -> String {
    let mut v = plan.clone();
    if let Some(obj) = v.as_object_mut() {
        obj.insert("digest".to_owned(), Value::String(String::new()));
    }
    sha256(v.to_string().as_bytes())
}

/// Every file of the migration directory, in a stable order. `plan.json` records the digest of
/// every other file and its own ([`plan_digest`]).
pub fn render(plan: &Plan) -> Result<Vec<(String, String)>, RenderError> {
    let step_docs = |step| -> Vec<Value> {
        plan.namespaces.iter().filter_map(|n| namespace_manifest(n, step)).collect()
    };
    let mut files = vec![
        (
            AUDIT_WARN,
            yaml_docs(
                AUDIT_WARN,
                &format!(
                    "Step 1 — audit and warn labels for plan {:?}. Changes nothing for workloads:\n\
                     violations show as warnings and audit annotations. Apply with:\n  \
                     psa-migrate apply --plan <dir> --step 1\n\
                     or: kubectl apply --server-side --field-manager=psa-migrate -f {AUDIT_WARN}",
                    plan.name
                ),
                &step_docs(1),
            )?,
        ),
        (
            ENFORCE,
            yaml_docs(
                ENFORCE,
                &format!(
                    "Step 2 — enforce labels, pinned to {}. Soak step 1 first and fix what it\n\
                     reports. Apply with: psa-migrate apply --plan <dir> --step 2 (server-side\n\
                     dry-run first), or kubectl apply --server-side --field-manager=psa-migrate -f {ENFORCE}",
                    plan.cluster_version
                ),
                &step_docs(2),
            )?,
        ),
    ];
    if let Some(bypass) = &plan.psp_bypass {
        let mut docs = vec![
            json!({
                "apiVersion": "policy/v1beta1",
                "kind": "PodSecurityPolicy",
                "metadata": {"name": BYPASS_PSP, "annotations": {
                    "seccomp.security.alpha.kubernetes.io/allowedProfileNames": "*"}},
                "spec": {
                    "privileged": true,
                    "allowPrivilegeEscalation": true,
                    "allowedCapabilities": ["*"],
                    "volumes": ["*"],
                    "hostNetwork": true,
                    "hostPorts": [{"min": 0, "max": 65535}],
                    "hostIPC": true,
                    "hostPID": true,
                    "runAsUser": {"rule": "RunAsAny"},
                    "seLinux": {"rule": "RunAsAny"},
                    "supplementalGroups": {"rule": "RunAsAny"},
                    "fsGroup": {"rule": "RunAsAny"},
                },
            }),
            json!({
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRole",
                "metadata": {"name": BYPASS_CLUSTER_ROLE},
                "rules": [{"apiGroups": ["policy"], "resources": ["podsecuritypolicies"],
                           "resourceNames": [BYPASS_PSP], "verbs": ["use"]}],
            }),
        ];
        for ns in &bypass.namespaces {
            docs.push(json!({
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "RoleBinding",
                "metadata": {"name": BYPASS_ROLE_BINDING, "namespace": ns},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": BYPASS_CLUSTER_ROLE},
                "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group",
                              "name": format!("system:serviceaccounts:{ns}")}],
            }));
        }
        files.push((
            PSP_BYPASS,
            yaml_docs(
                PSP_BYPASS,
                "Step 3 — PSP bypass (official step 3.d), only while the PSP admission plugin runs.\n\
                 A fully privileged, non-mutating PSP that every service account of each migrated\n\
                 namespace may use: PSP prefers non-mutating policies, so pods there are no longer\n\
                 changed or restricted by PSP; Pod Security Admission now guards them.\n\
                 Roll back per namespace with: kubectl delete -n <ns> rolebinding disable-psp",
                &docs,
            )?,
        ));
    }
    let mut cleanup_header = String::from(
        "Step 4 — clean-up, after the PodSecurityPolicy admission plugin is off and a soak.\n\
         Deletes the PSPs and the RBAC objects that grant nothing but `use` on PSPs.\n\
         psa-migrate apply --step 4 refuses while a running pod was admitted by a PSP.",
    );
    for r in &plan.cleanup.manual {
        let _ =
            write!(cleanup_header, "\nEdit by hand (grants more than PSP use, never deleted): {r}");
    }
    let delete: Vec<Value> = plan.cleanup.delete.iter().map(object_ref_manifest).collect();
    files.push((CLEANUP, yaml_docs(CLEANUP, &cleanup_header, &delete)?));
    let ap = &plan.admission_policies;
    if let Some(api_version) =
        ap.validating_api_version.as_ref().filter(|_| !ap.validating.is_empty())
    {
        let mut header = format!(
            "Step 5 — residual admission policies ({api_version}, for Kubernetes {}): what\n\
             the PSPs usable in each namespace validated and its enforce level does not, kept\n\
             as ValidatingAdmissionPolicies bound by namespace (validationActions: {}).\n\
             Apply with: psa-migrate apply --plan <dir> --step 5",
            ap.policy_version,
            ap.validation_actions.join(", ")
        );
        if ap.needs_feature_gate {
            header.push_str(
                "\nNeeds the ValidatingAdmissionPolicy feature gate and \
                 --runtime-config=admissionregistration.k8s.io/v1beta1=true on this version.",
            );
        }
        if ap.unprotected_window {
            header.push_str(
                "\nThe cluster still runs PSP, which no release serving these policies has: apply\n\
                 them after the upgrade; REPORT.md lists what is unprotected until then.",
            );
        }
        files.push((RESIDUAL_POLICIES, yaml_docs(RESIDUAL_POLICIES, &header, &ap.validating)?));
    }
    if let Some(api_version) = ap.mutating_api_version.as_ref().filter(|_| !ap.mutating.is_empty())
    {
        let mut header = format!(
            "Step 6 — mutation policies ({api_version}, for Kubernetes {}): on pod CREATE, the\n\
             defaults of the PSP the 1.24 admission plugin would have chosen (user and group IDs,\n\
             capabilities, privilege escalation, seccomp and AppArmor profiles, …), so that new\n\
             pods get what PSP gave them and pass the residual policies of step 5.\n\
             Apply together with step 5: psa-migrate apply --plan <dir> --step 5 --through 6",
            ap.policy_version
        );
        if ap.mutating_needs_feature_gate {
            header.push_str(
                "\nNeeds the MutatingAdmissionPolicy feature gate and \
                 --runtime-config=admissionregistration.k8s.io/v1beta1=true on this version.",
            );
        }
        files.push((MUTATION_POLICIES, yaml_docs(MUTATION_POLICIES, &header, &ap.mutating)?));
    }
    files.push((ADMISSION_CONFIGURATION, admission_configuration(plan)?));
    files.push((REPORT, crate::output::plan::report_markdown(plan)));
    let mut files: Vec<(String, String)> =
        files.into_iter().map(|(n, t)| (n.to_owned(), t)).collect();
    for (name, text) in crate::fix_files::render(&plan.fix_report) {
        files.push((format!("{FIXES_DIR}/{name}"), text));
    }
    let mut sealed = plan.clone();
    sealed.files = files.iter().map(|(n, t)| (n.clone(), sha256(t.as_bytes()))).collect();
    let json_error = |e: serde_json::Error| RenderError { file: PLAN_JSON, message: e.to_string() };
    let value = serde_json::to_value(&sealed).map_err(json_error)?;
    sealed.digest = plan_digest(&value);
    let mut plan_json = serde_json::to_string_pretty(&sealed).map_err(json_error)?;
    plan_json.push('\n');
    files.push((PLAN_JSON.to_owned(), plan_json));
    files.sort();
    Ok(files)
}

fn admission_configuration(plan: &Plan) -> Result<String, RenderError> {
    let a = &plan.admission;
    let doc = json!({
        "apiVersion": "apiserver.config.k8s.io/v1",
        "kind": "AdmissionConfiguration",
        "plugins": [{
            "name": "PodSecurity",
            "configuration": {
                "apiVersion": a.config_api_version,
                "kind": "PodSecurityConfiguration",
                "defaults": {
                    "enforce": a.enforce, "enforce-version": a.enforce_version,
                    "audit": a.audit, "audit-version": a.audit_version,
                    "warn": a.warn, "warn-version": a.warn_version,
                },
                "exemptions": {
                    "usernames": a.exempt_users,
                    "runtimeClasses": a.exempt_runtime_classes,
                    "namespaces": a.exempt_namespaces,
                },
            },
        }],
    });
    let why = if a.default_from_psps.is_empty() {
        "no PSP is usable by every authenticated user or service account, so unlabelled\n\
         namespaces were unrestricted by PSP"
            .to_owned()
    } else {
        format!(
            "that is what the PSPs every authenticated user or service account may use allow:\n{}",
            a.default_from_psps.join(", ")
        )
    };
    yaml_docs(
        ADMISSION_CONFIGURATION,
        &format!(
            "PodSecurity admission plugin configuration for the kube-apiserver\n\
             (--admission-control-config-file). The defaults apply to namespaces without labels:\n\
             enforce {}:{}, because {why}.",
            a.enforce, a.enforce_version
        ),
        &[doc],
    )
}
