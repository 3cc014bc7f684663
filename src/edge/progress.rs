//! Progress reporting, as the edges see it: a [`Progress`] hands out one [`Task`] per unit of
//! work (a resource kind being listed, an apply run). The app layer implements it with terminal
//! progress bars, or not at all; the edges never draw, probe the terminal or know about bars.

use std::sync::Arc;

/// One unit of work in progress. Every method may be a no-op.
pub trait Task: Send + Sync {
    /// What is being done now (e.g. the namespace being written).
    fn set_message(&self, _message: &str) {}
    /// `n` more items done.
    fn inc(&self, _n: u64) {}
    /// Start counting again (a list restarted after its continue token expired).
    fn reset(&self) {}
    /// Done, with a last word (`done`).
    fn finish(&self, _message: &str) {}
    /// Given up, with the reason (`forbidden`).
    fn abandon(&self, _message: &str) {}
}

/// Where tasks come from.
pub trait Progress: Send + Sync + std::fmt::Debug {
    /// A new task labelled `label` (e.g. `deployments.apps`), waiting to start.
    fn task(&self, label: &str) -> Box<dyn Task>;
    /// Remove everything drawn (before the results are printed).
    fn clear(&self) {}
}

/// No progress shown: the default, and what tests and pipes get.
#[derive(Clone, Copy, Debug, Default)]
pub struct Silent;

impl Task for Silent {}

impl Progress for Silent {
    fn task(&self, _label: &str) -> Box<dyn Task> {
        Box::new(Silent)
    }
}

/// The default progress of options structs.
pub fn silent() -> Arc<dyn Progress> {
    Arc::new(Silent)
}
