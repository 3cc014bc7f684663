//! The effectful edges: reading input ([`source`]: files, stdin, the live cluster) and writing a
//! plan to the cluster ([`apply`]: the Kubernetes API calls, the apply and rollback runs, the
//! journal and the lock). Only these and the app layer touch the network, files or the clock.

pub mod apply;
pub mod source;
