//! Where an inventory comes from: offline files (exports, manifests, stdin) or a live cluster.

pub mod jsonsplit;
pub mod live;
pub mod offline;
pub mod yaml;
