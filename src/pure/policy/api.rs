//! Which `admissionregistration.k8s.io` versions serve the policies a plan generates.
//!
//! ValidatingAdmissionPolicy: `v1beta1` from 1.28 (feature gate `ValidatingAdmissionPolicy`
//! and `--runtime-config=admissionregistration.k8s.io/v1beta1=true`), `v1` from 1.30.
//! MutatingAdmissionPolicy: `v1beta1` on 1.34–1.35 (feature gate `MutatingAdmissionPolicy` and
//! `--runtime-config=admissionregistration.k8s.io/v1beta1=true`), `v1` from 1.36.
//! Alpha versions are never generated.

/// The newest Kubernetes minor version this table knows; the default policy target for
/// clusters older than 1.30 (policies to apply after the upgrade).
pub const NEWEST_MINOR: u32 = 36;

/// One served API version of a policy kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Served {
    /// `admissionregistration.k8s.io/v1` or `…/v1beta1`.
    pub api_version: &'static str,
    /// The version alone: `v1`, `v1beta1`.
    pub version: &'static str,
    /// Whether the API needs a feature gate and runtime-config at this version.
    pub needs_feature_gate: bool,
    /// The oldest minor version serving this API version.
    pub since_minor: u32,
}

const V1: &str = "admissionregistration.k8s.io/v1";
const V1BETA1: &str = "admissionregistration.k8s.io/v1beta1";

/// The ValidatingAdmissionPolicy API served at `minor`, if any.
pub fn validating(minor: u32) -> Option<Served> {
    match minor {
        30.. => Some(Served {
            api_version: V1,
            version: "v1",
            needs_feature_gate: false,
            since_minor: 30,
        }),
        28..=29 => Some(Served {
            api_version: V1BETA1,
            version: "v1beta1",
            needs_feature_gate: true,
            since_minor: 28,
        }),
        _ => None,
    }
}

/// The MutatingAdmissionPolicy API served at `minor`, if any.
pub fn mutating(minor: u32) -> Option<Served> {
    match minor {
        36.. => Some(Served {
            api_version: V1,
            version: "v1",
            needs_feature_gate: false,
            since_minor: 36,
        }),
        34..=35 => Some(Served {
            api_version: V1BETA1,
            version: "v1beta1",
            needs_feature_gate: true,
            since_minor: 34,
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_follow_the_kubernetes_releases() {
        assert_eq!(validating(27), None);
        assert_eq!(validating(28).unwrap().version, "v1beta1");
        assert!(validating(29).unwrap().needs_feature_gate);
        assert_eq!(validating(30).unwrap().api_version, V1);
        assert!(!validating(NEWEST_MINOR).unwrap().needs_feature_gate);
        assert_eq!(mutating(33), None);
        assert_eq!(mutating(34).unwrap().api_version, V1BETA1);
        assert!(mutating(35).unwrap().needs_feature_gate);
        assert_eq!(mutating(36).unwrap().api_version, V1);
        assert!(!mutating(NEWEST_MINOR).unwrap().needs_feature_gate);
    }
}
