//! The effectful edges: reading input ([`source`]: files, stdin, the live cluster), the one
//! Kubernetes API layer both reading and writing use ([`kube_api`]: connection, requests,
//! retries, pagination), and writing a plan to the cluster ([`apply`]: the apply and rollback
//! runs, the journal and the lock). Only these and the app layer touch the network, files or the
//! clock.

pub mod apply;
pub mod kube_api;
pub mod progress;
pub mod source;
