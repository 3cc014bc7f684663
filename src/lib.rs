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
//! `tests/architecture.rs` enforces it. The modules are also re-exported at the crate root
//! (`psa_migrate::model`, `psa_migrate::pss`, …) so that paths stay short.

pub mod app;
pub mod edge;
pub mod pure;
pub mod render;

pub use edge::{apply, kube_api, source};
pub use pure::model::findings;
pub use pure::{decode, discover, evaluate, mapping, model, mutation, plan, pss, simulate};
pub use render::{export, output};
