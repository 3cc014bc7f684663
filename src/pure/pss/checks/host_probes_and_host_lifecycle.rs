//! `hostProbesAndHostLifecycle` (baseline, v1.34+).
//!
//! Probes and lifecycle hooks run from the node, so letting them target an arbitrary host would
//! let a pod make the kubelet connect elsewhere; the `host` of HTTP and TCP handlers must stay
//! unset (meaning the pod IP).
//!
//! **Restricted fields:** for `spec.containers[*]`, `spec.initContainers[*]` and
//! `spec.ephemeralContainers[*]`: `livenessProbe`, `readinessProbe`, `startupProbe`,
//! `lifecycle.postStart` and `lifecycle.preStop`, each `.httpGet.host` and `.tcpSocket.host`.
//!
//! **Allowed values:** `""`, undefined/null.
//!
//! **Implementations:** a single v1.34 implementation. Unlike every other check, the container
//! names in its message are de-duplicated and sorted.

use std::collections::BTreeSet;

use crate::model::level::Level;
use crate::model::pod::{Container, Probe};
use crate::pss::checks::containers_where;
use crate::pss::msg::{containers, detail, pluralize, quoted};
use crate::pss::{Check, Forbidden, PodView, VersionedCheck};

pub static CHECK: Check = Check {
    id: "hostProbesAndHostLifecycle",
    control: "Host Probes / Lifecycle Hooks",
    summary: "Probes and lifecycle handlers must not set a host other than the pod's own (from v1.34).",
    level: Level::Baseline,
    versions: &[VersionedCheck {
        min: 34,
        check: host_probes_and_host_lifecycle_v1_34,
        overrides: &[],
    }],
};

/// Every non-empty host the container's probes and lifecycle handlers name.
fn hosts(c: &Container) -> impl Iterator<Item = &str> {
    let lifecycle = c.lifecycle.as_ref();
    [
        c.liveness_probe.as_ref(),
        c.readiness_probe.as_ref(),
        c.startup_probe.as_ref(),
        lifecycle.and_then(|l| l.post_start.as_ref()),
        lifecycle.and_then(|l| l.pre_stop.as_ref()),
    ]
    .into_iter()
    .flatten()
    .flat_map(|p: &Probe| [p.http_get.as_ref(), p.tcp_socket.as_ref()])
    .flatten()
    .map(|h| h.host.as_str())
    .filter(|h| !h.is_empty())
}

fn host_probes_and_host_lifecycle_v1_34(pod: &PodView<'_>) -> Option<Forbidden> {
    if pod.spec.all_containers().all(|c| hosts(c).next().is_none()) {
        return None;
    }
    let mut names = containers_where(pod.spec, |c| hosts(c).next().is_some());
    names.sort_unstable();
    names.dedup();
    let bad_hosts: BTreeSet<&str> = pod.spec.all_containers().flat_map(hosts).collect();
    Some(Forbidden::new(
        "probe or lifecycle host",
        detail!(
            "{} {} {} {}",
            containers(&names),
            pluralize("uses", "use", names.len()),
            pluralize("probe or lifecycle host", "probe or lifecycle hosts", bad_hosts.len()),
            quoted(&bad_hosts)
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::pod::{HostField, Lifecycle};
    use crate::pss::testing::{PodBuilder, run};

    fn http(host: &str) -> Option<Probe> {
        Some(Probe { http_get: Some(HostField { host: host.to_owned() }), tcp_socket: None })
    }

    fn tcp(host: &str) -> Option<Probe> {
        Some(Probe { http_get: None, tcp_socket: Some(HostField { host: host.to_owned() }) })
    }

    fn forbidden(detail: &str) -> Option<Forbidden> {
        Some(Forbidden::new("probe or lifecycle host", detail))
    }

    #[test]
    fn unset_hosts_are_allowed() {
        let pod = PodBuilder::new().container("a", |c| {
            c.liveness_probe = http("");
            c.readiness_probe = tcp("");
            c.lifecycle = Some(Lifecycle { post_start: http(""), pre_stop: None });
        });
        assert_eq!(run(&CHECK, 34, &pod), None);
    }

    /// Upstream's single-container cases, one per probe and handler kind.
    #[test]
    fn each_probe_and_handler() {
        type Case = (&'static str, fn(&mut Container), &'static str);
        let cases: [Case; 8] = [
            ("a", |c| c.liveness_probe = http("invalid.host"), "invalid.host"),
            ("b", |c| c.readiness_probe = tcp("invalid.host"), "invalid.host"),
            ("c", |c| c.startup_probe = http("invalid.host"), "invalid.host"),
            (
                "d",
                |c| {
                    c.lifecycle =
                        Some(Lifecycle { post_start: tcp("invalid.host"), pre_stop: None })
                },
                "invalid.host",
            ),
            (
                "e",
                |c| {
                    c.lifecycle =
                        Some(Lifecycle { post_start: None, pre_stop: http("another.invalid.host") })
                },
                "another.invalid.host",
            ),
            ("a", |c| c.liveness_probe = http("8.8.8.8"), "8.8.8.8"),
            ("a", |c| c.liveness_probe = tcp("2001:4860:4860::8888"), "2001:4860:4860::8888"),
            ("x", |c| c.startup_probe = tcp("localhost"), "localhost"),
        ];
        for (name, f, host) in cases {
            let pod = PodBuilder::new().container(name, f);
            assert_eq!(
                run(&CHECK, 34, &pod),
                forbidden(&format!(r#"container "{name}" uses probe or lifecycle host "{host}""#))
            );
        }
        let init = PodBuilder::new()
            .init_container("init", |c| c.liveness_probe = http("invalid.init.host"));
        assert_eq!(
            run(&CHECK, 34, &init),
            forbidden(r#"container "init" uses probe or lifecycle host "invalid.init.host""#)
        );
    }

    #[test]
    fn several_hosts_in_one_container() {
        let pod = PodBuilder::new().container("a", |c| {
            c.liveness_probe = http("127.0.0.1");
            c.readiness_probe = tcp("::1");
            c.startup_probe = http("localhost");
        });
        assert_eq!(
            run(&CHECK, 34, &pod),
            forbidden(
                r#"container "a" uses probe or lifecycle hosts "127.0.0.1", "::1", "localhost""#
            )
        );
    }

    /// Upstream's multi-container case, plus names de-duplicated and sorted (not visit order),
    /// including ephemeral containers.
    #[test]
    fn containers_sorted_and_distinct() {
        let pod = PodBuilder::new()
            .container("valid", |_| {})
            .container("invalid1", |c| c.liveness_probe = http("a.com"))
            .container("invalid2", |c| {
                c.lifecycle = Some(Lifecycle { post_start: None, pre_stop: tcp("b.com") });
                c.startup_probe = http("a.com");
            });
        assert_eq!(
            run(&CHECK, 34, &pod),
            forbidden(
                r#"containers "invalid1", "invalid2" use probe or lifecycle hosts "a.com", "b.com""#
            )
        );
        let sorted = PodBuilder::new()
            .init_container("z", |c| c.liveness_probe = http("h"))
            .container("m", |c| c.liveness_probe = http("h"))
            .ephemeral_container("a", |c| c.readiness_probe = tcp("h"))
            .ephemeral_container("m", |c| c.readiness_probe = tcp("h"));
        assert_eq!(
            run(&CHECK, 37, &sorted),
            forbidden(r#"containers "a", "m", "z" use probe or lifecycle host "h""#)
        );
    }

    #[test]
    fn starts_at_v1_34() {
        assert!(CHECK.at(33).is_none());
        assert!(CHECK.at(34).is_some());
    }
}
