//! psa-migrate: take a Kubernetes cluster from PodSecurityPolicy to Pod Security Admission.
//!
//! The pure core (`model`, `pss`, …) never touches the network, files or the terminal.

pub mod model;
pub mod pss;
