//! psa-migrate: take a Kubernetes cluster from PodSecurityPolicy to Pod Security Admission.
//!
//! The pure core (`model`, `pss`, …) never touches the network, files or the terminal.

pub mod model;
pub mod pss;
pub mod decode;
pub mod source;
pub mod app;
pub mod evaluate;
pub mod output;
pub mod findings;
pub mod discover;
pub mod mapping;
pub mod mutation;
pub mod export;
pub mod plan;
pub mod apply;
