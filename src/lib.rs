//! psa-migrate: take a Kubernetes cluster from PodSecurityPolicy to Pod Security Admission.
//!
//! Three layers, one folder each, plus the command line:
//! * [`pure`] — the core: model, findings, decoding, PSS checks, mapping, discovery, mutation,
//!   evaluation, planning and the rules of applying a plan. No I/O, no clock, no terminal.
//! * [`render`] — text from values: reports, exports, migration files, diffs.
//! * [`edge`] — the offline and live sources, the API calls, apply/rollback, journal and lock.
//! * [`app`] — the CLI: arguments, settings resolved once, the terminal.
//!
//! Dependencies point one way: app → edge → render → pure (and app → render, edge → pure);
//! `tests/architecture.rs` enforces it. Modules are re-exported at the crate root so that paths
//! stay short (`crate::model`, `crate::plan`, …); only what the binary, the tests, the benchmarks
//! and the examples need is public (`app`, `defaulting`, `model`, `pss`, `source`, `kube_api`, `export`,
//! `plan_files`): everything else is `pub(crate)`.

pub mod app;
pub(crate) mod edge;
pub(crate) mod pure;
pub(crate) mod render;

// The public surface: what the binary, the tests, the benchmarks and the examples use.
pub use edge::{kube_api, source};
pub use pure::{defaulting, model, pss};
pub use render::{export, plan_files};

// Everything else is the crate's own, reachable by short paths.
pub(crate) use edge::apply;
pub(crate) use pure::model::findings;
pub(crate) use pure::{
    custom, decode, discover, evaluate, fix, mapping, mutation, plan, policy, simulate,
};
pub(crate) use render::{fix_files, output};
