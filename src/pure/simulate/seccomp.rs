//! Seccomp, from the PSP annotations `seccomp.security.alpha.kubernetes.io/allowedProfileNames`
//! (comma-separated, `*`: any) and `…/defaultProfileName`.
//!
//! Since 1.19 pods carry seccomp as a field too. In 1.24 the API server synchronises field and
//! annotation in the pod registry strategy (`pkg/registry/core/pod/strategy.go`,
//! `PrepareForCreate` → `applySeccompVersionSkew`), which runs *after* mutating admission: PSP
//! sees the pod as submitted. The PSP strategy therefore reads the field itself where the
//! annotation is absent: the pod profile is the pod annotation, else the pod field (as an
//! annotation value); a container's is its field, else its annotation, else the pod's. When it
//! defaults, it writes the pod annotation — also when only the field is set (it copies the
//! field's value), which counts as a mutation.

use std::collections::BTreeMap;

use crate::mapping::table::{SECCOMP_ALLOWED, SECCOMP_DEFAULT};
use crate::model::pod::{
    Container, PodSpec, SECCOMP_CONTAINER_ANNOTATION_PREFIX, SECCOMP_POD_ANNOTATION, SeccompProfile,
};
use crate::model::psp::PodSecurityPolicy;
use crate::simulate::FieldError;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct SeccompRules {
    pub default: String,
    /// `None`: no allowedProfileNames annotation.
    pub allowed: Option<Vec<String>>,
    pub allowed_string: String,
    pub allow_any: bool,
}

/// The annotation value a seccomp field stands for (`runtime/default`, `unconfined`,
/// `localhost/<profile>`; empty for anything else).
pub fn annotation_for_field(p: &SeccompProfile) -> String {
    match p.type_.as_str() {
        "RuntimeDefault" => "runtime/default".into(),
        "Unconfined" => "unconfined".into(),
        "Localhost" => match &p.localhost_profile {
            Some(l) => format!("localhost/{l}"),
            None => String::new(),
        },
        _ => String::new(),
    }
}

impl SeccompRules {
    pub fn from_psp(psp: &PodSecurityPolicy) -> SeccompRules {
        let a = &psp.metadata.annotations;
        let mut r = SeccompRules {
            default: a.get(SECCOMP_DEFAULT).cloned().unwrap_or_default(),
            allowed_string: a.get(SECCOMP_ALLOWED).cloned().unwrap_or_default(),
            ..SeccompRules::default()
        };
        if let Some(list) = a.get(SECCOMP_ALLOWED) {
            let mut allowed = Vec::new();
            for p in list.split(',') {
                if p == "*" {
                    r.allow_any = true;
                } else {
                    allowed.push(p.to_owned());
                }
            }
            r.allowed = Some(allowed);
        }
        r
    }

    fn allowed_len(&self) -> usize {
        self.allowed.as_ref().map_or(0, Vec::len)
    }

    fn profile_allowed(&self, profile: &str) -> bool {
        if self.allowed_len() == 0 && profile.is_empty() {
            return true;
        }
        self.allow_any || self.allowed.as_ref().is_some_and(|a| a.iter().any(|p| p == profile))
    }

    /// The pod profile after defaulting (empty: none).
    pub fn generate(&self, annotations: &BTreeMap<String, String>, spec: &PodSpec) -> String {
        if let Some(p) = annotations.get(SECCOMP_POD_ANNOTATION).filter(|p| !p.is_empty()) {
            return p.clone();
        }
        if let Some(f) = spec.security_context.as_ref().and_then(|s| s.seccomp_profile.as_ref()) {
            return annotation_for_field(f);
        }
        self.default.clone()
    }

    fn check(&self, path: String, profile: &str) -> Vec<FieldError> {
        if !self.allow_any && self.allowed_len() == 0 && !profile.is_empty() {
            return vec![FieldError::forbidden(path, "seccomp may not be set")];
        }
        if !self.profile_allowed(profile) {
            return vec![FieldError::forbidden(
                path,
                format!(
                    "{profile} is not an allowed seccomp profile. Valid values are {}",
                    self.allowed_string
                ),
            )];
        }
        Vec::new()
    }

    pub fn validate_pod(
        &self,
        annotations: &BTreeMap<String, String>,
        spec: &PodSpec,
    ) -> Vec<FieldError> {
        let mut profile = annotations.get(SECCOMP_POD_ANNOTATION).cloned().unwrap_or_default();
        if profile.is_empty()
            && let Some(f) = spec.security_context.as_ref().and_then(|s| s.seccomp_profile.as_ref())
        {
            profile = annotation_for_field(f);
        }
        self.check(format!("pod.metadata.annotations[{SECCOMP_POD_ANNOTATION}]"), &profile)
    }

    pub fn validate_container(
        &self,
        annotations: &BTreeMap<String, String>,
        spec: &PodSpec,
        c: &Container,
    ) -> Vec<FieldError> {
        let key = format!("{SECCOMP_CONTAINER_ANNOTATION_PREFIX}{}", c.name);
        let profile =
            if let Some(f) = c.security_context.as_ref().and_then(|s| s.seccomp_profile.as_ref()) {
                annotation_for_field(f)
            } else if let Some(a) = annotations.get(&key) {
                a.clone()
            } else if let Some(f) =
                spec.security_context.as_ref().and_then(|s| s.seccomp_profile.as_ref())
            {
                annotation_for_field(f)
            } else {
                annotations.get(SECCOMP_POD_ANNOTATION).cloned().unwrap_or_default()
            };
        self.check(format!("pod.metadata.annotations[{key}]"), &profile)
    }
}
