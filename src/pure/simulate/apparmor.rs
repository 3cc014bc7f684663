//! AppArmor, from the PSP annotations `apparmor.security.beta.kubernetes.io/allowedProfileNames`
//! (comma-separated) and `…/defaultProfileName`, on the pod annotation
//! `container.apparmor.security.beta.kubernetes.io/<container>`. An unset profile needs an empty
//! entry in the allowed list (`runtime/default,`) when the list is set.

use std::collections::BTreeMap;

use crate::mapping::table::{APPARMOR_ALLOWED, APPARMOR_DEFAULT};
use crate::model::pod::APPARMOR_ANNOTATION_PREFIX;
use crate::model::psp::PodSecurityPolicy;
use crate::simulate::FieldError;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct AppArmorRules {
    pub default: String,
    /// `None`: no allowedProfileNames annotation (anything goes).
    pub allowed: Option<Vec<String>>,
    pub allowed_string: String,
}

impl AppArmorRules {
    pub fn from_psp(psp: &PodSecurityPolicy) -> AppArmorRules {
        let a = &psp.metadata.annotations;
        AppArmorRules {
            default: a.get(APPARMOR_DEFAULT).cloned().unwrap_or_default(),
            allowed: a.get(APPARMOR_ALLOWED).map(|l| l.split(',').map(str::to_owned).collect()),
            allowed_string: a.get(APPARMOR_ALLOWED).cloned().unwrap_or_default(),
        }
    }

    /// The annotation key and the default profile to set there, when the container has none.
    pub fn generate(
        &self,
        annotations: &BTreeMap<String, String>,
        container: &str,
    ) -> Option<(String, String)> {
        let key = format!("{APPARMOR_ANNOTATION_PREFIX}{container}");
        if annotations.get(&key).is_some_and(|v| !v.is_empty()) || self.default.is_empty() {
            return None;
        }
        Some((key, self.default.clone()))
    }

    pub fn validate(
        &self,
        annotations: &BTreeMap<String, String>,
        container: &str,
    ) -> Vec<FieldError> {
        let Some(allowed) = &self.allowed else { return Vec::new() };
        let key = format!("{APPARMOR_ANNOTATION_PREFIX}{container}");
        let path = format!("pod.metadata.annotations[{key}]");
        let profile = annotations.get(&key).map_or("", String::as_str);
        // An empty entry (`runtime/default,`: a trailing comma) allows an unset profile, as
        // Kubernetes documents for the PSS mapping and as pods of 1.24 clusters show.
        if profile.is_empty() {
            if !allowed.is_empty() && !allowed.iter().any(String::is_empty) {
                return vec![FieldError::forbidden(path, "AppArmor profile must be set")];
            }
            return Vec::new();
        }
        if !allowed.iter().any(|p| p == profile) {
            return vec![FieldError::forbidden(
                path,
                format!(
                    "{profile} is not an allowed profile. Allowed values: {:?}",
                    self.allowed_string
                ),
            )];
        }
        Vec::new()
    }
}

#[cfg(test)]
/// The annotation value an `appArmorProfile` field stands for (`""` when it names none).
pub fn annotation_for_field(p: &crate::model::pod::AppArmorProfile) -> String {
    match p.type_.as_str() {
        "RuntimeDefault" => "runtime/default".into(),
        "Unconfined" => "unconfined".into(),
        "Localhost" => {
            p.localhost_profile.as_ref().map_or_else(String::new, |l| format!("localhost/{l}"))
        }
        _ => String::new(),
    }
}
