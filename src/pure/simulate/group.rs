//! Group strategies of `runAsGroup`, `supplementalGroups` and `fsGroup`: MustRunAs (ranges;
//! defaults to the first range's minimum; an empty list is rejected), MayRunAs (ranges; no
//! default; empty is fine), RunAsAny.

use crate::model::psp::{IdRange, IdStrategy};
use crate::simulate::{FieldError, go};

#[derive(Clone, Debug, PartialEq)]
pub enum GroupRule {
    MustRunAs(Vec<IdRange>),
    MayRunAs(Vec<IdRange>),
    RunAsAny,
}

impl GroupRule {
    /// The rule of a PSP field (`what` names it in errors). An absent rule reads as RunAsAny
    /// (upstream: an absent `runAsGroup` is RunAsAny); an unknown one, or ranges missing, makes
    /// the PSP unusable.
    pub fn from_psp(what: &str, s: Option<&IdStrategy>) -> Result<GroupRule, String> {
        let ranges = || {
            let r = s.map(|s| s.ranges.clone()).unwrap_or_default();
            if r.is_empty() { Err(format!("{what}: ranges must be supplied")) } else { Ok(r) }
        };
        match s.map_or("", |s| s.rule.as_str()) {
            "MustRunAs" => Ok(GroupRule::MustRunAs(ranges()?)),
            "MayRunAs" => Ok(GroupRule::MayRunAs(ranges()?)),
            "RunAsAny" | "" => Ok(GroupRule::RunAsAny),
            other => Err(format!("{what}: unrecognized rule {other:?}")),
        }
    }

    /// The single group set when none is (`runAsGroup`, `fsGroup`).
    pub fn generate_single(&self) -> Option<i64> {
        match self {
            GroupRule::MustRunAs(r) => r.first().map(|r| r.min),
            _ => None,
        }
    }

    /// The groups set when none are (`supplementalGroups`).
    pub fn generate(&self) -> Option<Vec<i64>> {
        self.generate_single().map(|g| vec![g])
    }

    pub fn validate(&self, path: &str, groups: &[i64]) -> Vec<FieldError> {
        let ranges = match self {
            GroupRule::RunAsAny => return Vec::new(),
            GroupRule::MustRunAs(r) | GroupRule::MayRunAs(r) => r,
        };
        let mut out = Vec::new();
        if groups.is_empty() && matches!(self, GroupRule::MustRunAs(_)) {
            out.push(FieldError::invalid(
                path,
                go::ints(groups),
                "unable to validate empty groups against required ranges",
            ));
        }
        for g in groups {
            if !ranges.iter().any(|r| r.min <= *g && *g <= r.max) {
                out.push(FieldError::invalid(
                    path,
                    go::ints(groups),
                    format!("group {g} must be in the ranges: {}", go::ranges(ranges)),
                ));
            }
        }
        out
    }
}
