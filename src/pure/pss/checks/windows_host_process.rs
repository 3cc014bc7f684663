//! `windowsHostProcess` (baseline, v1.0+).
//!
//! Windows HostProcess containers get privileged access to the Windows node and must not be
//! requested.
//!
//! **Restricted fields:** `spec.securityContext.windowsOptions.hostProcess`,
//! `spec.containers[*].securityContext.windowsOptions.hostProcess`,
//! `spec.initContainers[*].securityContext.windowsOptions.hostProcess`,
//! `spec.ephemeralContainers[*].securityContext.windowsOptions.hostProcess`.
//!
//! **Allowed values:** `false`, undefined/null.
//!
//! **Implementations:** a single v1.0 implementation.

use crate::model::level::Level;
use crate::model::pod::WindowsOptions;
use crate::pss::checks::containers_where;
use crate::pss::msg::{detail, subjects};
use crate::pss::{Check, Forbidden, PodView, VersionedCheck};

pub static CHECK: Check = Check {
    id: "windowsHostProcess",
    control: "HostProcess",
    summary: "Windows pods must not run HostProcess containers.",
    level: Level::Baseline,
    versions: &[VersionedCheck { min: 0, check: windows_host_process_v1_0, overrides: &[] }],
};

fn host_process(o: Option<&WindowsOptions>) -> bool {
    o.and_then(|o| o.host_process) == Some(true)
}

fn windows_host_process_v1_0(pod: &PodView<'_>) -> Option<Forbidden> {
    let pod_bad =
        host_process(pod.spec.security_context.as_ref().and_then(|s| s.windows_options.as_ref()));
    let containers = containers_where(pod.spec, |c| {
        host_process(c.security_context.as_ref().and_then(|s| s.windows_options.as_ref()))
    });
    if !pod_bad && containers.is_empty() {
        return None;
    }
    Some(Forbidden::new(
        "hostProcess",
        detail!(
            "{} must not set securityContext.windowsOptions.hostProcess=true",
            subjects(pod_bad, &containers, &[])
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pss::testing::{PodBuilder, run, sc};

    fn hp(v: Option<bool>) -> Option<WindowsOptions> {
        Some(WindowsOptions { host_process: v })
    }

    /// Upstream's "host process" case.
    #[test]
    fn pod_and_containers() {
        let pod = PodBuilder::new()
            .pod_sc(|s| s.windows_options = hp(Some(true)))
            .container("a", |_| {})
            .container("b", |c| {
                sc(c);
            })
            .container("c", |c| sc(c).windows_options = hp(None))
            .container("d", |c| sc(c).windows_options = hp(Some(false)))
            .container("e", |c| sc(c).windows_options = hp(Some(true)))
            .container("f", |c| sc(c).windows_options = hp(Some(true)));
        assert_eq!(
            run(&CHECK, 0, &pod),
            Some(Forbidden::new(
                "hostProcess",
                r#"pod and containers "e", "f" must not set securityContext.windowsOptions.hostProcess=true"#
            ))
        );
    }

    #[test]
    fn single_setters() {
        let pod_only = PodBuilder::new().pod_sc(|s| s.windows_options = hp(Some(true)));
        assert_eq!(
            run(&CHECK, 37, &pod_only),
            Some(Forbidden::new(
                "hostProcess",
                "pod must not set securityContext.windowsOptions.hostProcess=true"
            ))
        );
        let ephemeral = PodBuilder::new()
            .os("windows")
            .ephemeral_container("e", |c| sc(c).windows_options = hp(Some(true)));
        assert_eq!(
            run(&CHECK, 37, &ephemeral),
            Some(Forbidden::new(
                "hostProcess",
                r#"container "e" must not set securityContext.windowsOptions.hostProcess=true"#
            ))
        );
        let off = PodBuilder::new().pod_sc(|s| s.windows_options = hp(Some(false)));
        assert_eq!(run(&CHECK, 37, &off), None);
    }
}
