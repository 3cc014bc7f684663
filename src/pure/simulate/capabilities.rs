//! Capabilities: `defaultAddCapabilities` are added unless the container drops them,
//! `requiredDropCapabilities` are added to `drop`, and only default or `allowedCapabilities`
//! (`*`: any) may be added.

use std::collections::BTreeSet;

use crate::model::pod::Capabilities;
use crate::model::psp::PspSpec;
use crate::simulate::FieldError;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct CapabilityRules {
    pub default_add: Vec<String>,
    pub required_drop: Vec<String>,
    pub allowed: Vec<String>,
}

fn set(v: Option<&Vec<String>>) -> BTreeSet<String> {
    v.into_iter().flatten().cloned().collect()
}

impl CapabilityRules {
    pub fn from_psp(spec: &PspSpec) -> CapabilityRules {
        CapabilityRules {
            default_add: spec.default_add_capabilities.clone().unwrap_or_default(),
            required_drop: spec.required_drop_capabilities.clone().unwrap_or_default(),
            allowed: spec.allowed_capabilities.clone().unwrap_or_default(),
        }
    }

    /// The container's capabilities after defaulting; the same value when nothing needs adding.
    /// When something is added, both lists come out sorted and without duplicates.
    pub fn generate(&self, current: Option<&Capabilities>) -> Option<Capabilities> {
        let add = set(current.and_then(|c| c.add.as_ref()));
        let drop = set(current.and_then(|c| c.drop.as_ref()));
        let default_add: BTreeSet<String> =
            self.default_add.iter().filter(|c| !drop.contains(*c)).cloned().collect();
        let combined_add: BTreeSet<String> = default_add.union(&add).cloned().collect();
        let combined_drop: BTreeSet<String> =
            self.required_drop.iter().cloned().chain(drop.iter().cloned()).collect();
        if combined_add.len() == add.len() && combined_drop.len() == drop.len() {
            return current.cloned();
        }
        let list = |s: BTreeSet<String>| (!s.is_empty()).then(|| s.into_iter().collect());
        Some(Capabilities { add: list(combined_add), drop: list(combined_drop) })
    }

    pub fn validate(&self, path: &str, caps: Option<&Capabilities>) -> Vec<FieldError> {
        let Some(caps) = caps else {
            if self.default_add.is_empty() && self.required_drop.is_empty() {
                return Vec::new();
            }
            return vec![FieldError::invalid(
                path,
                "\"null\"".into(),
                "required capabilities are not set on the securityContext",
            )];
        };
        if self.allowed.iter().any(|c| c == "*") {
            return Vec::new();
        }
        let mut out = Vec::new();
        for c in caps.add.iter().flatten() {
            if !self.default_add.contains(c) && !self.allowed.contains(c) {
                out.push(FieldError::invalid(
                    format!("{path}.add"),
                    format!("{c:?}"),
                    "capability may not be added",
                ));
            }
        }
        let drops = set(caps.drop.as_ref());
        for r in &self.required_drop {
            if !drops.contains(r) {
                let shown = match &caps.drop {
                    None => "[]core.Capability(nil)".to_owned(),
                    Some(d) => format!(
                        "[]core.Capability{{{}}}",
                        d.iter().map(|c| format!("{c:?}")).collect::<Vec<_>>().join(", ")
                    ),
                };
                out.push(FieldError::invalid(
                    format!("{path}.drop"),
                    shown,
                    format!("{r} is required to be dropped but was not found"),
                ));
            }
        }
        out
    }
}
