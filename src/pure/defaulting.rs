//! What the API server does to a Pod before Pod Security admission sees it, for Pods that have
//! not been through an API server (manifests, `helm template` output).
//!
//! `kubectl apply` sends a Pod to the API server, which decodes it with the v1 defaults and
//! runs the pod create strategy (`PrepareForCreate`) before validating admission, so the
//! PodSecurity plugin judges the defaulted pod. Two of those steps change what the checks see:
//!
//! 1. **Host network ports** (kubernetes/kubernetes `pkg/apis/core/v1/defaults.go`,
//!    `SetDefaults_Pod`, which calls `defaultHostNetworkPorts`): in a pod with
//!    `hostNetwork: true`, every port of a container or init container whose `hostPort` is
//!    unset or 0 gets `hostPort = containerPort`. Ephemeral containers are another API type the
//!    rule does not cover (and they may not declare ports). Pod templates are not defaulted
//!    this way (`SetDefaults_Pod`, not `SetDefaults_PodSpec`).
//! 2. **AppArmor annotations** (`pkg/registry/core/pod/strategy.go`, `applyAppArmorVersionSkew`,
//!    called from `PrepareForCreate`): unless `spec.os.name` is `windows`, each container
//!    (init, regular and ephemeral) that has an annotation
//!    `container.apparmor.security.beta.kubernetes.io/<its name>` and no
//!    `securityContext.appArmorProfile` gets the annotation's profile as that field:
//!    `unconfined` → `Unconfined`, `runtime/default` → `RuntimeDefault`, `localhost/<name>` →
//!    `Localhost` with `localhostProfile: <name>` (`pkg/api/pod/util.go`,
//!    `ApparmorFieldForAnnotation`). Nothing is written when the value maps to no profile
//!    (empty, any other value, `localhost/` with a name validation would refuse: empty,
//!    padded with whitespace or longer than 4095 bytes, as in
//!    `pkg/apis/core/validation/validation.go`, `ValidateAppArmorProfileField`), nor when the
//!    profile equals the pod-level `securityContext.appArmorProfile`, which the container then
//!    inherits. An existing container field always wins, and the annotation stays. Nothing is
//!    ever written at the pod level: there is no pod-level annotation, and containers that all
//!    agree are not folded into the pod field.
//!
//!    API servers 1.30 to 1.33 also copied fields into missing annotations; 1.34 stopped doing
//!    so (kubernetes/kubernetes#131989). This follows 1.34 and later.
//!
//! Both rules are idempotent: a pod the API server already defaulted is left as it is.
//!
//! Pure: no I/O.

use std::collections::BTreeMap;

use crate::model::inventory::{Inventory, PodKind, Provenance};
use crate::model::pod::{APPARMOR_ANNOTATION_PREFIX, AppArmorProfile, PodSpec};

/// The longest `localhostProfile` validation accepts (`PATH_MAX - 1`).
const MAX_LOCALHOST_PROFILE: usize = 4095;

/// Applies [`default_pod`] to every Pod of the inventory that has not been through an API
/// server. Templates of workloads are not Pods and are left alone. A Pod read from a cluster,
/// or carrying a `metadata.uid` (which only an API server assigns: an export of a cluster), is
/// judged as stored: its API server already defaulted it, with the rules of its own version
/// (a pod created before 1.30 keeps its AppArmor annotations without fields, and is judged so).
pub fn default_inventory(inv: &mut Inventory) {
    for o in &mut inv.pod_objects {
        let stored = o.meta.uid.is_some() || matches!(o.source, Provenance::Live { .. });
        if o.kind == PodKind::Pod && !stored {
            default_pod(&o.meta.annotations, &mut o.spec);
        }
    }
}

/// The API server's defaulting of a Pod that changes what Pod Security checks see (see the
/// module documentation): host network ports, then AppArmor annotations mirrored into fields.
pub fn default_pod(annotations: &BTreeMap<String, String>, spec: &mut PodSpec) {
    default_host_network_ports(spec);
    mirror_app_armor_annotations(annotations, spec);
}

/// `hostNetwork: true`: an unset or zero `hostPort` becomes the `containerPort`.
fn default_host_network_ports(spec: &mut PodSpec) {
    if spec.host_network != Some(true) {
        return;
    }
    for c in spec.init_containers.iter_mut().chain(&mut spec.containers) {
        for p in &mut c.ports {
            // A port without a containerPort would get hostPort 0, which is no hostPort.
            if p.host_port.unwrap_or(0) == 0 && p.container_port.unwrap_or(0) != 0 {
                p.host_port = p.container_port;
            }
        }
    }
}

/// Each container's AppArmor annotation becomes its `appArmorProfile` when it has none.
fn mirror_app_armor_annotations(annotations: &BTreeMap<String, String>, spec: &mut PodSpec) {
    if spec.is_windows() || !annotations.keys().any(|k| k.starts_with(APPARMOR_ANNOTATION_PREFIX)) {
        return;
    }
    let pod_profile = spec.security_context.as_ref().and_then(|s| s.app_armor_profile.clone());
    let containers = spec
        .init_containers
        .iter_mut()
        .chain(&mut spec.containers)
        .chain(&mut spec.ephemeral_containers);
    for c in containers {
        if c.security_context.as_ref().is_some_and(|s| s.app_armor_profile.is_some()) {
            continue;
        }
        let key = format!("{APPARMOR_ANNOTATION_PREFIX}{}", c.name);
        let Some(profile) = annotations.get(&key).and_then(|v| profile_for_annotation(v)) else {
            continue;
        };
        if pod_profile.as_ref() != Some(&profile) {
            c.security_context.get_or_insert_default().app_armor_profile = Some(profile);
        }
    }
}

/// The field a deprecated annotation value stands for, if it is one validation accepts.
fn profile_for_annotation(value: &str) -> Option<AppArmorProfile> {
    let (type_, localhost_profile) = match value {
        "unconfined" => ("Unconfined", None),
        "runtime/default" => ("RuntimeDefault", None),
        _ => {
            let name = value.strip_prefix("localhost/")?;
            // Go's strings.TrimSpace and Rust's trim both trim Unicode White_Space.
            if name.is_empty() || name.trim() != name || name.len() > MAX_LOCALHOST_PROFILE {
                return None;
            }
            ("Localhost", Some(name.to_owned()))
        }
    };
    Some(AppArmorProfile { type_: type_.to_owned(), localhost_profile })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::level::{Level, Version};
    use crate::model::pod::{Container, ContainerPort, ObjectMeta, SecurityContext};
    use crate::pss::testing::{PodBuilder, sc};
    use crate::pss::{evaluate, long_form};

    const P: &str = APPARMOR_ANNOTATION_PREFIX;

    fn port(container: Option<i32>, host: Option<i32>) -> ContainerPort {
        ContainerPort { container_port: container, host_port: host }
    }

    fn ports(c: &mut Container, ps: &[(Option<i32>, Option<i32>)]) {
        c.ports = ps.iter().map(|(cp, hp)| port(*cp, *hp)).collect();
    }

    fn defaulted(pod: &PodBuilder) -> PodBuilder {
        let mut pod = pod.clone();
        default_pod(&pod.annotations, &mut pod.spec);
        pod
    }

    fn host_ports(c: &Container) -> Vec<Option<i32>> {
        c.ports.iter().map(|p| p.host_port).collect()
    }

    fn profile(t: &str, localhost: Option<&str>) -> Option<AppArmorProfile> {
        Some(AppArmorProfile { type_: t.to_owned(), localhost_profile: localhost.map(Into::into) })
    }

    fn container_profile(c: &Container) -> Option<&AppArmorProfile> {
        c.security_context.as_ref()?.app_armor_profile.as_ref()
    }

    /// Unset and zero host ports of containers and init containers take the container port;
    /// a set one is kept; ephemeral containers are not covered.
    #[test]
    fn host_network_ports_default_to_container_ports() {
        let pod = PodBuilder::new()
            .with(|s| s.host_network = Some(true))
            .init_container("init", |c| ports(c, &[(Some(53), None)]))
            .container("app", |c| {
                ports(c, &[(Some(80), None), (Some(443), Some(0)), (Some(8080), Some(9090))]);
            })
            .container("bare", |c| ports(c, &[(None, None)]))
            .ephemeral_container("debug", |c| ports(c, &[(Some(22), None)]));
        let d = defaulted(&pod);
        assert_eq!(host_ports(&d.spec.init_containers[0]), [Some(53)]);
        assert_eq!(host_ports(&d.spec.containers[0]), [Some(80), Some(443), Some(9090)]);
        assert_eq!(host_ports(&d.spec.containers[1]), [None]);
        assert_eq!(host_ports(&d.spec.ephemeral_containers[0]), [None]);
    }

    #[test]
    fn no_host_network_no_port_defaulting() {
        for host_network in [None, Some(false)] {
            let pod = PodBuilder::new()
                .with(|s| s.host_network = host_network)
                .container("app", |c| ports(c, &[(Some(80), None)]));
            assert_eq!(defaulted(&pod).spec, pod.spec, "hostNetwork {host_network:?}");
        }
    }

    /// Each annotation value maps to its profile type.
    #[test]
    fn annotation_values() {
        let table = [
            ("runtime/default", profile("RuntimeDefault", None)),
            ("localhost/my-profile", profile("Localhost", Some("my-profile"))),
            ("localhost/a/b", profile("Localhost", Some("a/b"))),
            ("unconfined", profile("Unconfined", None)),
            // Values that map to no profile leave the field unset.
            ("", None),
            ("localhost/", None),
            ("localhost/ padded", None),
            ("localhost/padded\t", None),
            ("Unconfined", None),
            ("runtime/default-audit", None),
            ("docker-default", None),
        ];
        for (value, want) in table {
            let pod =
                PodBuilder::new().annotation(&format!("{P}app"), value).container("app", |_| {});
            let d = defaulted(&pod);
            assert_eq!(container_profile(&d.spec.containers[0]), want.as_ref(), "{value:?}");
            assert_eq!(d.annotations, pod.annotations, "the annotation stays");
        }
        let long = format!("localhost/{}", "p".repeat(MAX_LOCALHOST_PROFILE));
        assert_eq!(profile_for_annotation(&long), profile("Localhost", Some(&long[10..])));
        let too_long = format!("{long}p");
        assert_eq!(profile_for_annotation(&too_long), None);
    }

    /// Init, regular and ephemeral containers are each matched by name; an annotation for no
    /// container is ignored.
    #[test]
    fn every_container_by_name() {
        let pod = PodBuilder::new()
            .annotation(&format!("{P}init"), "runtime/default")
            .annotation(&format!("{P}app"), "unconfined")
            .annotation(&format!("{P}debug"), "localhost/dbg")
            .annotation(&format!("{P}gone"), "unconfined")
            .init_container("init", |_| {})
            .container("app", |_| {})
            .container("other", |_| {})
            .ephemeral_container("debug", |_| {});
        let d = defaulted(&pod);
        let got: Vec<_> = d.spec.all_containers().map(container_profile).collect();
        let want = [
            profile("RuntimeDefault", None),
            profile("Unconfined", None),
            None,
            profile("Localhost", Some("dbg")),
        ];
        assert_eq!(got, want.iter().map(Option::as_ref).collect::<Vec<_>>());
    }

    /// A container's own field wins over its annotation, even when they disagree.
    #[test]
    fn existing_field_wins() {
        let pod = PodBuilder::new()
            .annotation(&format!("{P}app"), "unconfined")
            .container("app", |c| sc(c).app_armor_profile = profile("RuntimeDefault", None));
        assert_eq!(defaulted(&pod).spec, pod.spec);
    }

    /// A profile equal to the pod-level one is inherited, not copied; a different one (the
    /// pod form and the container form conflicting) is set on the container, which then
    /// overrides the pod. Nothing is written at the pod level, even when all containers agree.
    #[test]
    fn pod_level_profile() {
        let pod = PodBuilder::new()
            .pod_sc(|s| s.app_armor_profile = profile("RuntimeDefault", None))
            .annotation(&format!("{P}same"), "runtime/default")
            .annotation(&format!("{P}differs"), "unconfined")
            .container("same", |_| {})
            .container("differs", |_| {});
        let d = defaulted(&pod);
        assert_eq!(container_profile(&d.spec.containers[0]), None);
        assert_eq!(d.spec.containers[0].security_context, None, "no empty context is made");
        assert_eq!(container_profile(&d.spec.containers[1]), profile("Unconfined", None).as_ref());
        assert_eq!(d.spec.security_context, pod.spec.security_context);

        let agreeing = PodBuilder::new()
            .annotation(&format!("{P}a"), "localhost/x")
            .annotation(&format!("{P}b"), "localhost/x")
            .container("a", |_| {})
            .container("b", |_| {});
        let d = defaulted(&agreeing);
        assert_eq!(d.spec.security_context, None);
        for c in &d.spec.containers {
            assert_eq!(container_profile(c), profile("Localhost", Some("x")).as_ref());
        }
        // A Localhost pod profile with another name is a different profile.
        let other_name = agreeing.pod_sc(|s| s.app_armor_profile = profile("Localhost", Some("y")));
        assert!(
            defaulted(&other_name)
                .spec
                .containers
                .iter()
                .all(|c| container_profile(c) == profile("Localhost", Some("x")).as_ref())
        );
    }

    /// A container with a security context but no profile gets the profile in that context.
    #[test]
    fn keeps_the_rest_of_the_security_context() {
        let pod = PodBuilder::new()
            .annotation(&format!("{P}app"), "runtime/default")
            .container("app", |c| sc(c).privileged = Some(false));
        let d = defaulted(&pod);
        let want = SecurityContext {
            privileged: Some(false),
            app_armor_profile: profile("RuntimeDefault", None),
            ..SecurityContext::default()
        };
        assert_eq!(d.spec.containers[0].security_context.as_deref(), Some(&want));
    }

    #[test]
    fn windows_pods_are_not_mirrored() {
        let pod = PodBuilder::new()
            .os("windows")
            .annotation(&format!("{P}app"), "unconfined")
            .container("app", |_| {});
        assert_eq!(defaulted(&pod).spec, pod.spec);
        let linux = pod.os("linux");
        assert!(container_profile(&defaulted(&linux).spec.containers[0]).is_some());
    }

    /// Only Pods not yet stored by an API server: not workload templates, not Pods read from a
    /// cluster or exported from one.
    #[test]
    fn inventory_pods_from_files_only() {
        use crate::model::inventory::{ObjectState, PodObject};
        let spec = PodBuilder::new()
            .with(|s| s.host_network = Some(true))
            .container("app", |c| ports(c, &[(Some(80), None)]))
            .spec;
        let file = Provenance::file("a.yaml", 0, None);
        let live = Provenance::Live { server: "https://k".into() };
        let object = |kind, source: &Provenance, uid: Option<&str>| PodObject {
            kind,
            api_version: String::new(),
            meta: ObjectMeta { uid: uid.map(Into::into), ..ObjectMeta::default() },
            template_annotations: BTreeMap::new(),
            spec: spec.clone(),
            state: ObjectState::default(),
            source: source.clone(),
            custom: None,
        };
        let mut inv = Inventory {
            pod_objects: vec![
                object(PodKind::Pod, &file, None),
                object(PodKind::Deployment, &file, None),
                object(PodKind::Pod, &live, Some("u1")),
                object(PodKind::Pod, &file, Some("u2")),
            ],
            ..Inventory::default()
        };
        default_inventory(&mut inv);
        let got: Vec<_> =
            inv.pod_objects.iter().map(|o| o.spec.containers[0].ports[0].host_port).collect();
        assert_eq!(got, [Some(80), None, None, None]);
    }

    /// Applying the defaulting to a defaulted pod changes nothing.
    #[test]
    fn idempotent() {
        let pod = PodBuilder::new()
            .with(|s| s.host_network = Some(true))
            .pod_sc(|s| s.app_armor_profile = profile("RuntimeDefault", None))
            .annotation(&format!("{P}a"), "unconfined")
            .annotation(&format!("{P}b"), "runtime/default")
            .annotation(&format!("{P}c"), "localhost/p")
            .container("a", |c| ports(c, &[(Some(80), None), (Some(81), Some(0))]))
            .container("b", |_| {})
            .init_container("c", |c| ports(c, &[(Some(53), Some(5353))]));
        let once = defaulted(&pod);
        assert_ne!(once.spec, pod.spec);
        assert_eq!(defaulted(&once).spec, once.spec);
    }

    /// The defaulting changes which checks a message names, never whether the pod is allowed.
    #[test]
    fn changes_messages_not_verdicts() {
        let host_network = PodBuilder::new()
            .with(|s| s.host_network = Some(true))
            .container("web", |c| ports(c, &[(Some(8080), None)]));
        let unconfined =
            PodBuilder::new().annotation(&format!("{P}web"), "unconfined").container("web", |_| {});
        let cases = [
            (
                &host_network,
                "host namespaces (hostNetwork=true)",
                "host namespaces (hostNetwork=true), hostPort (container \"web\" uses hostPort 8080)",
            ),
            (
                &unconfined,
                "forbidden AppArmor profile (annotation must not set AppArmor profile type to \
                 \"container.apparmor.security.beta.kubernetes.io/web=\"unconfined\"\")",
                "forbidden AppArmor profiles (container \"web\" and annotation must not set \
                 AppArmor profile type to \"Unconfined\", \
                 \"container.apparmor.security.beta.kubernetes.io/web=\"unconfined\"\")",
            ),
        ];
        for (pod, raw, with_defaults) in cases {
            let before = evaluate(Level::Baseline, Version::Latest, &pod.view());
            let d = defaulted(pod);
            let after = evaluate(Level::Baseline, Version::Latest, &d.view());
            assert_eq!(long_form(&before), raw);
            assert_eq!(long_form(&after), with_defaults);
            assert!(evaluate(Level::Privileged, Version::Latest, &d.view()).is_empty());
        }
        // Allowed annotations stay allowed once mirrored.
        for value in ["runtime/default", "localhost/p", ""] {
            let pod =
                PodBuilder::new().annotation(&format!("{P}web"), value).container("web", |_| {});
            let d = defaulted(&pod);
            assert!(
                evaluate(Level::Restricted, Version::Latest, &d.view())
                    .iter()
                    .all(|v| v.check != "appArmorProfile")
            );
        }
    }
}
