//! `hostNamespaces` (baseline, v1.0+).
//!
//! Pods must not join the node's network, process-ID or IPC namespaces.
//!
//! **Restricted fields:** `spec.hostNetwork`, `spec.hostPID`, `spec.hostIPC`.
//!
//! **Allowed values:** `false`, undefined/null.
//!
//! **Implementations:** a single v1.0 implementation.

use crate::model::level::Level;
use crate::pss::msg::{detail, joined};
use crate::pss::{Check, Forbidden, PodView, VersionedCheck};

pub static CHECK: Check = Check {
    id: "hostNamespaces",
    control: "Host Namespaces",
    summary: "Pods must not share the host's network, PID or IPC namespaces (hostNetwork, hostPID, hostIPC).",
    level: Level::Baseline,
    versions: &[VersionedCheck { min: 0, check: host_namespaces_v1_0, overrides: &[] }],
};

fn host_namespaces_v1_0(pod: &PodView<'_>) -> Option<Forbidden> {
    let spec = pod.spec;
    let set = [
        (spec.host_network, "hostNetwork=true"),
        (spec.host_pid, "hostPID=true"),
        (spec.host_ipc, "hostIPC=true"),
    ];
    if set.iter().all(|(v, _)| *v != Some(true)) {
        return None;
    }
    let parts = set.iter().filter(|(v, _)| *v == Some(true)).map(|(_, text)| *text);
    Some(Forbidden::new("host namespaces", detail!("{}", joined(parts, ", "))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pss::testing::{PodBuilder, run};

    /// Upstream's "multiple host namespaces" case: fixed order regardless of field order.
    #[test]
    fn all_three() {
        let pod = PodBuilder::new().with(|s| {
            s.host_ipc = Some(true);
            s.host_network = Some(true);
            s.host_pid = Some(true);
        });
        assert_eq!(
            run(&CHECK, 0, &pod),
            Some(Forbidden::new("host namespaces", "hostNetwork=true, hostPID=true, hostIPC=true"))
        );
    }

    #[test]
    fn each_alone_and_false() {
        let ipc = PodBuilder::new().with(|s| {
            s.host_ipc = Some(true);
            s.host_network = Some(false);
        });
        assert_eq!(run(&CHECK, 37, &ipc), Some(Forbidden::new("host namespaces", "hostIPC=true")));
        let pid = PodBuilder::new().with(|s| s.host_pid = Some(true));
        assert_eq!(run(&CHECK, 37, &pid), Some(Forbidden::new("host namespaces", "hostPID=true")));
        let off = PodBuilder::new().with(|s| {
            s.host_ipc = Some(false);
            s.host_network = Some(false);
            s.host_pid = Some(false);
        });
        assert_eq!(run(&CHECK, 37, &off), None);
    }
}
