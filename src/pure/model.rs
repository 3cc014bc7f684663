//! The inventory model shared by every source (offline files and the live API): compact pod
//! records, PodSecurityPolicy, RBAC, namespaces, and where each object came from.
//!
//! Pure data: no I/O.

mod dedup;
pub mod findings;
pub mod inventory;
pub mod level;
pub mod pod;
pub mod psp;
