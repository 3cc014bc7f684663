//! `sysctls` (baseline, v1.0+).
//!
//! Sysctls can switch off security mechanisms or affect every workload on the node, so only
//! an allow-list of "safe" ones — namespaced per pod and isolated from other pods — may be set.
//!
//! **Restricted fields:** `spec.securityContext.sysctls[*].name`.
//!
//! **Allowed values:** `kernel.shm_rmid_forced`, `net.ipv4.ip_local_port_range`,
//! `net.ipv4.tcp_syncookies`, `net.ipv4.ping_group_range`,
//! `net.ipv4.ip_unprivileged_port_start`; from v1.27 also `net.ipv4.ip_local_reserved_ports`;
//! from v1.29 also `net.ipv4.tcp_keepalive_time`, `net.ipv4.tcp_fin_timeout`,
//! `net.ipv4.tcp_keepalive_intvl`, `net.ipv4.tcp_keepalive_probes`; from v1.32 also
//! `net.ipv4.tcp_rmem`, `net.ipv4.tcp_wmem`; from v1.37 also
//! `net.ipv4.tcp_slow_start_after_idle`, `net.ipv4.tcp_notsent_lowat`. Names match exactly (the
//! `net/ipv4/…` spelling is not normalised).
//!
//! **Implementations:** v1.0, v1.27, v1.29, v1.32 and v1.37, each with the allow-list of its
//! version.

use crate::model::level::Level;
use crate::pss::msg::{detail, joined};
use crate::pss::{Check, Forbidden, PodView, VersionedCheck};

pub static CHECK: Check = Check {
    id: "sysctls",
    control: "Sysctls",
    summary: "Pods may set only the safe, namespaced sysctls of the version's allow-list.",
    level: Level::Baseline,
    versions: &[
        VersionedCheck { min: 0, check: sysctls_v1_0, overrides: &[] },
        VersionedCheck { min: 27, check: sysctls_v1_27, overrides: &[] },
        VersionedCheck { min: 29, check: sysctls_v1_29, overrides: &[] },
        VersionedCheck { min: 32, check: sysctls_v1_32, overrides: &[] },
        VersionedCheck { min: 37, check: sysctls_v1_37, overrides: &[] },
    ],
};

/// Every safe sysctl with the minor version it is allowed from.
const SAFE: &[(&str, u32)] = &[
    ("kernel.shm_rmid_forced", 0),
    ("net.ipv4.ip_local_port_range", 0),
    ("net.ipv4.tcp_syncookies", 0),
    ("net.ipv4.ping_group_range", 0),
    ("net.ipv4.ip_unprivileged_port_start", 0),
    ("net.ipv4.ip_local_reserved_ports", 27),
    ("net.ipv4.tcp_keepalive_time", 29),
    ("net.ipv4.tcp_fin_timeout", 29),
    ("net.ipv4.tcp_keepalive_intvl", 29),
    ("net.ipv4.tcp_keepalive_probes", 29),
    ("net.ipv4.tcp_rmem", 32),
    ("net.ipv4.tcp_wmem", 32),
    ("net.ipv4.tcp_slow_start_after_idle", 37),
    ("net.ipv4.tcp_notsent_lowat", 37),
];

fn sysctls_v1_0(pod: &PodView<'_>) -> Option<Forbidden> {
    sysctls(pod, 0)
}

fn sysctls_v1_27(pod: &PodView<'_>) -> Option<Forbidden> {
    sysctls(pod, 27)
}

fn sysctls_v1_29(pod: &PodView<'_>) -> Option<Forbidden> {
    sysctls(pod, 29)
}

fn sysctls_v1_32(pod: &PodView<'_>) -> Option<Forbidden> {
    sysctls(pod, 32)
}

fn sysctls_v1_37(pod: &PodView<'_>) -> Option<Forbidden> {
    sysctls(pod, 37)
}

/// Checks against the allow-list as it stood at `v1.<minor>`.
fn sysctls(pod: &PodView<'_>, minor: u32) -> Option<Forbidden> {
    let safe = |name: &str| SAFE.iter().any(|(n, since)| *n == name && *since <= minor);
    let list = pod.spec.security_context.as_ref().map_or(&[][..], |s| &s.sysctls[..]);
    // In pod order, not de-duplicated.
    let bad = list.iter().map(|s| s.name.as_str()).filter(|name| !safe(name));
    bad.clone().next()?;
    Some(Forbidden::new("forbidden sysctls", detail!("{}", joined(bad, ", "))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::pod::Sysctl;
    use crate::pss::testing::{PodBuilder, run};

    fn pod(names: &[&str]) -> PodBuilder {
        PodBuilder::new().pod_sc(|s| {
            s.sysctls = names
                .iter()
                .map(|n| Sysctl { name: (*n).to_owned(), value: "1".to_owned() })
                .collect()
        })
    }

    fn forbidden(detail: &str) -> Option<Forbidden> {
        Some(Forbidden::new("forbidden sysctls", detail))
    }

    /// Upstream's "forbidden sysctls" case at every implementation.
    #[test]
    fn forbidden_names_at_every_version() {
        for v in [0, 27, 29, 32, 37] {
            assert_eq!(run(&CHECK, v, &pod(&["a", "b"])), forbidden("a, b"), "v1.{v}");
        }
    }

    /// Each newly allowed sysctl fails at the version before it was added and passes from that
    /// version on (upstream's per-version cases plus the fixture gap).
    #[test]
    fn newly_allowed_names_by_version() {
        for (name, since) in SAFE {
            let p = pod(&[name]);
            if *since > 0 {
                assert_eq!(
                    run(&CHECK, since - 1, &p),
                    forbidden(name),
                    "{name} at v1.{}",
                    since - 1
                );
            }
            assert_eq!(run(&CHECK, *since, &p), None, "{name} at v1.{since}");
            assert_eq!(run(&CHECK, 37, &p), None, "{name} at v1.37");
        }
    }

    /// Pod order is kept and repeats are not removed; allowed ones are skipped; the slash
    /// spelling is not normalised.
    #[test]
    fn order_duplicates_and_spelling() {
        let p = pod(&["z", "kernel.shm_rmid_forced", "a", "z", "net/ipv4/tcp_syncookies"]);
        assert_eq!(run(&CHECK, 37, &p), forbidden("z, a, z, net/ipv4/tcp_syncookies"));
        assert_eq!(run(&CHECK, 0, &pod(&[])), None);
        assert_eq!(run(&CHECK, 0, &PodBuilder::new()), None);
    }
}
