//! The pure core: the model of a cluster, findings, decoding, the API server's defaulting of
//! Pods, the Pod Security Standards checks, the PSP mapping, discovery, mutation detection,
//! evaluation, the plan and the rules of applying it. Nothing here touches the network, files, the environment, the clock or the terminal, and
//! nothing here imports the rendering, the edges or the app layer: `tests/architecture.rs`
//! fails the build's tests when it does.

pub mod custom;
pub mod decode;
pub mod defaulting;
pub mod discover;
pub mod evaluate;
pub mod fix;
pub mod mapping;
pub mod model;
pub mod mutation;
pub mod plan;
pub mod policy;
pub mod pss;
pub mod rollout;
pub mod simulate;
