//! Writing a plan to a cluster: `diff`, `apply` and `rollback`.
//!
//! The pure parts — reading `plan.json` and the step files ([`planfile`]), label changes and
//! patch bodies ([`labels`]), object references and manifests ([`objects`]), diff text
//! ([`diff`]) and the journal ([`journal`]) — never touch the network. The async parts — raw
//! requests through the kube client ([`api`]) and the apply/rollback runs ([`engine`]) — are the
//! only other async code in the crate besides the live source; the app layer builds the tokio
//! runtime and prints.
//!
//! Safety rules every write follows:
//! * a server-side dry run first (its PodSecurity warnings are read from the `Warning` headers);
//! * a journal entry with the previous state, made durable, before the real write;
//! * a `resourceVersion` precondition (label merge patches) so a concurrent change is a 409,
//!   never a silent overwrite.

pub mod api;
pub mod engine;
pub mod journal;
pub mod lock;
pub mod objects;
pub mod planfile;

pub use crate::pure::rollout::{enforce, labels};
pub use crate::render::diff;

/// The label steps: 1 (audit and warn) and 2 (enforce).
pub const LABEL_STEPS: [u32; 2] = [1, 2];

/// The field manager of every write.
pub const FIELD_MANAGER: &str = "psa-migrate";

/// The steps an `apply` runs: `--step N` alone, `--through N` from 1, by default 1 and 2.
/// Steps 3 and 4 only run when named (`--step 3`, `--through 3`, …).
pub fn steps(step: Option<u32>, through: Option<u32>) -> Vec<u32> {
    match (step, through) {
        (Some(s), _) => vec![s],
        (None, Some(t)) => (1..=t).collect(),
        (None, None) => LABEL_STEPS.to_vec(),
    }
}

/// How a set of steps is named in headers: `plan step 1`, `plan steps 1-2`.
pub fn steps_label(steps: &[u32]) -> String {
    match steps {
        [] => "plan".to_owned(),
        [one] => format!("plan step {one}"),
        [first, .., last] if last - first + 1 == steps.len() as u32 => {
            format!("plan steps {first}-{last}")
        }
        many => {
            format!("plan steps {}", many.iter().map(u32::to_string).collect::<Vec<_>>().join(","))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_selection() {
        assert_eq!(steps(None, None), vec![1, 2]);
        assert_eq!(steps(Some(3), None), vec![3]);
        assert_eq!(steps(None, Some(4)), vec![1, 2, 3, 4]);
        assert_eq!(steps(None, Some(1)), vec![1]);
        assert_eq!(steps_label(&[1]), "plan step 1");
        assert_eq!(steps_label(&[1, 2]), "plan steps 1-2");
        assert_eq!(steps_label(&[1, 3]), "plan steps 1,3");
    }
}
