//! `hostPorts` (baseline, v1.0+).
//!
//! Containers must not bind ports on the node's network interfaces.
//!
//! **Restricted fields:** `spec.containers[*].ports[*].hostPort`,
//! `spec.initContainers[*].ports[*].hostPort`,
//! `spec.ephemeralContainers[*].ports[*].hostPort`.
//!
//! **Allowed values:** undefined/`0`.
//!
//! **Implementations:** a single v1.0 implementation.

use std::collections::BTreeSet;

use crate::model::level::Level;
use crate::model::pod::Container;
use crate::pss::checks::containers_where;
use crate::pss::msg::{containers, detail, joined, pluralize};
use crate::pss::{Check, Forbidden, PodView, VersionedCheck};

pub static CHECK: Check = Check {
    id: "hostPorts",
    control: "Host Ports",
    summary: "Containers must not bind host ports (hostPort must be unset or 0).",
    level: Level::Baseline,
    versions: &[VersionedCheck { min: 0, check: host_ports_v1_0, overrides: &[] }],
};

fn host_ports(c: &Container) -> impl Iterator<Item = i32> + '_ {
    c.ports.iter().filter_map(|p| p.host_port).filter(|p| *p != 0)
}

fn host_ports_v1_0(pod: &PodView<'_>) -> Option<Forbidden> {
    let bad = containers_where(pod.spec, |c| host_ports(c).next().is_some());
    if bad.is_empty() {
        return None;
    }
    // Distinct ports, ordered as decimal strings (so "10000" precedes "80").
    let ports: BTreeSet<String> =
        pod.spec.all_containers().flat_map(host_ports).map(|p| p.to_string()).collect();
    Some(Forbidden::new(
        "hostPort",
        detail!(
            "{} {} {} {}",
            containers(&bad),
            pluralize("uses", "use", bad.len()),
            pluralize("hostPort", "hostPorts", ports.len()),
            joined(&ports, ", ")
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::pod::ContainerPort;
    use crate::pss::testing::{PodBuilder, run};

    fn ports(c: &mut Container, ps: &[i32]) {
        c.ports = ps
            .iter()
            .map(|p| ContainerPort { host_port: Some(*p), ..ContainerPort::default() })
            .collect();
    }

    /// Upstream's two cases.
    #[test]
    fn upstream_cases() {
        let one = PodBuilder::new()
            .container("a", |c| ports(c, &[0]))
            .container("b", |c| ports(c, &[0, 20]));
        assert_eq!(
            run(&CHECK, 0, &one),
            Some(Forbidden::new("hostPort", r#"container "b" uses hostPort 20"#))
        );
        let many = PodBuilder::new()
            .container("a", |c| ports(c, &[0]))
            .container("b", |c| ports(c, &[0, 10, 20]))
            .container("c", |c| ports(c, &[0, 10, 30]));
        assert_eq!(
            run(&CHECK, 0, &many),
            Some(Forbidden::new("hostPort", r#"containers "b", "c" use hostPorts 10, 20, 30"#))
        );
    }

    /// Ports sort as strings; one container with two ports says "uses hostPorts"; two
    /// containers sharing one port say "use hostPort".
    #[test]
    fn plurals_and_string_order() {
        let pod = PodBuilder::new().container("a", |c| ports(c, &[80, 10000, 443]));
        assert_eq!(
            run(&CHECK, 37, &pod),
            Some(Forbidden::new("hostPort", r#"container "a" uses hostPorts 10000, 443, 80"#))
        );
        let shared = PodBuilder::new()
            .ephemeral_container("e", |c| ports(c, &[8080]))
            .init_container("i", |c| ports(c, &[8080]));
        assert_eq!(
            run(&CHECK, 37, &shared),
            Some(Forbidden::new("hostPort", r#"containers "i", "e" use hostPort 8080"#))
        );
    }

    #[test]
    fn unset_and_zero_are_allowed() {
        let pod = PodBuilder::new()
            .container("a", |c| c.ports = vec![ContainerPort::default()])
            .container("b", |c| ports(c, &[0]));
        assert_eq!(run(&CHECK, 37, &pod), None);
    }
}
