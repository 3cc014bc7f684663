//! psa-migrate: take a Kubernetes cluster from PodSecurityPolicy to Pod Security Admission.
//!
//! The pure core (`model`, `pss`, …) never touches the network, files or the terminal.

pub mod app;
pub mod apply;
pub mod decode;
pub mod discover;
pub mod evaluate;
pub mod export;
pub mod findings;
pub mod kube_api;
pub mod mapping;
pub mod model;
pub mod mutation;
pub mod output;
pub mod plan;
pub mod pss;
pub mod source;
