//! The one Kubernetes API layer of the live source and of `apply`/`rollback`: connecting
//! through a kubeconfig ([`connect`], [`kubeconfig`]), requests built with kube-core's builders
//! ([`request`]), one `send` with one retry policy ([`client`], [`retry`]), lists page by page
//! with restarts after an expired continue token ([`paginate`]), and one error type
//! ([`ApiError`]).
//!
//! Raw requests through the kube client rather than kube's typed API: the typed API does not
//! surface response headers, and the `Warning` headers (PodSecurity warnings of a dry run,
//! deprecations) are part of what the tool reports. Bodies are handed to the caller's decoder as
//! they arrive, so no typed copy of a whole list is ever built.

pub mod client;
pub mod connect;
pub mod error;
pub mod kubeconfig;
pub mod paginate;
pub mod request;
pub mod retry;

use std::time::Duration;

pub use self::client::{ApiClient, Response, warning_text};
pub use self::connect::{ConnectError, ConnectOptions, connect};
pub use self::error::{ApiError, error_chain, status_message};
pub use self::paginate::{ListFailure, Page};
pub use self::request::{ObjectRef, PatchKind, resource_path};
pub use self::retry::RetryPolicy;

/// `30s`, `1m30s`, `250ms`: for messages.
pub fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if !ms.is_multiple_of(1000) || ms == 0 {
        return format!("{ms}ms");
    }
    let secs = d.as_secs();
    match (secs / 60, secs % 60) {
        (0, s) => format!("{s}s"),
        (m, 0) => format!("{m}m"),
        (m, s) => format!("{m}m{s}s"),
    }
}
