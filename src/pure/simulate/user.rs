//! `runAsUser`: MustRunAs (ranges; defaults to the first range's minimum), MustRunAsNonRoot
//! (marks containers without a user `runAsNonRoot: true`), RunAsAny.

use crate::model::psp::{IdRange, IdStrategy};
use crate::simulate::{FieldError, go};

#[derive(Clone, Debug, PartialEq)]
pub enum UserRule {
    MustRunAs(Vec<IdRange>),
    MustRunAsNonRoot,
    RunAsAny,
}

impl UserRule {
    /// The rule of a PSP; an unknown rule, or MustRunAs without ranges, makes the PSP unusable
    /// (upstream fails to build its provider and skips it). An absent rule reads as RunAsAny.
    pub fn from_psp(s: Option<&IdStrategy>) -> Result<UserRule, String> {
        match s.map_or("", |s| s.rule.as_str()) {
            "MustRunAs" => {
                let ranges = s.map(|s| s.ranges.clone()).unwrap_or_default();
                if ranges.is_empty() {
                    return Err("runAsUser: MustRunAs needs at least one range".into());
                }
                Ok(UserRule::MustRunAs(ranges))
            }
            "MustRunAsNonRoot" => Ok(UserRule::MustRunAsNonRoot),
            "RunAsAny" | "" => Ok(UserRule::RunAsAny),
            other => Err(format!("runAsUser: unrecognized rule {other:?}")),
        }
    }

    /// The user set on a container that has none.
    pub fn generate(&self) -> Option<i64> {
        match self {
            UserRule::MustRunAs(r) => r.first().map(|r| r.min),
            _ => None,
        }
    }

    /// Validates a container's effective `runAsNonRoot` and `runAsUser`.
    pub fn validate(
        &self,
        sc_path: &str,
        run_as_non_root: Option<bool>,
        run_as_user: Option<i64>,
    ) -> Vec<FieldError> {
        match self {
            UserRule::RunAsAny => Vec::new(),
            UserRule::MustRunAs(ranges) => match run_as_user {
                None => vec![FieldError::required(format!("{sc_path}.runAsUser"), "")],
                Some(u) if !ranges.iter().any(|r| r.min <= u && u <= r.max) => {
                    vec![FieldError::invalid(
                        format!("{sc_path}.runAsUser"),
                        u.to_string(),
                        format!("must be in the ranges: {}", go::ranges(ranges)),
                    )]
                }
                Some(_) => Vec::new(),
            },
            UserRule::MustRunAsNonRoot => {
                if run_as_non_root.is_none() && run_as_user.is_none() {
                    vec![FieldError::required(format!("{sc_path}.runAsNonRoot"), "must be true")]
                } else if run_as_non_root == Some(false) {
                    vec![FieldError::invalid(
                        format!("{sc_path}.runAsNonRoot"),
                        "false".into(),
                        "must be true",
                    )]
                } else if run_as_user == Some(0) {
                    vec![FieldError::invalid(
                        format!("{sc_path}.runAsUser"),
                        "0".into(),
                        "running with the root UID is forbidden",
                    )]
                } else {
                    Vec::new()
                }
            }
        }
    }
}
