//! The check catalogue: one module per upstream check ID (file name = the ID in snake case),
//! listed once in [`CATALOGUE`].
//!
//! This module also holds the small pod-reading helpers several checks share.

use crate::model::pod::{Container, PodSpec};
use crate::pss::Check;

mod allow_privilege_escalation;
mod app_armor_profile;
mod capabilities_baseline;
pub use capabilities_baseline::DEFAULT_CAPABILITIES;
mod capabilities_restricted;
mod host_namespaces;
mod host_path_volumes;
mod host_ports;
mod host_probes_and_host_lifecycle;
mod privileged;
mod proc_mount;
mod proc_mount_restricted;
mod restricted_volumes;
mod run_as_non_root;
mod run_as_user;
mod se_linux_options;
mod seccomp_profile_baseline;
mod seccomp_profile_restricted;
mod sysctls;
mod windows_host_process;

/// Every check the evaluator knows. Order here does not matter; results are ordered by level and
/// ID at evaluation time.
pub static CATALOGUE: &[&Check] = &[
    &allow_privilege_escalation::CHECK,
    &app_armor_profile::CHECK,
    &capabilities_baseline::CHECK,
    &capabilities_restricted::CHECK,
    &host_namespaces::CHECK,
    &host_path_volumes::CHECK,
    &host_ports::CHECK,
    &host_probes_and_host_lifecycle::CHECK,
    &privileged::CHECK,
    &proc_mount::CHECK,
    &proc_mount_restricted::CHECK,
    &restricted_volumes::CHECK,
    &run_as_non_root::CHECK,
    &run_as_user::CHECK,
    &se_linux_options::CHECK,
    &seccomp_profile_baseline::CHECK,
    &seccomp_profile_restricted::CHECK,
    &sysctls::CHECK,
    &windows_host_process::CHECK,
];

/// Names of the containers (init, regular, then ephemeral — upstream's visit order) for which
/// `pred` holds. Allocates nothing when no container matches.
fn containers_where<'a>(
    spec: &'a PodSpec,
    mut pred: impl FnMut(&'a Container) -> bool,
) -> Vec<&'a str> {
    spec.all_containers().filter(|c| pred(c)).map(|c| c.name.as_str()).collect()
}

/// Whether the pod runs in its own user namespace (`spec.hostUsers` explicitly `false`), which
/// relaxes some checks from v1.35.
fn in_user_namespace(spec: &PodSpec) -> bool {
    spec.host_users == Some(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::level::{Level, Version};
    use crate::pss::checks_for;

    fn has(level: Level, minor: u32, id: &str) -> bool {
        checks_for(level, Version::Minor(minor)).any(|c| c == id)
    }

    /// Each override takes effect at its restricted implementation's first version, and the
    /// overridden check keeps running at baseline.
    #[test]
    fn overrides_switch_at_their_versions() {
        let cases = [
            ("hostPathVolumes", "restrictedVolumes", 0),
            ("seccompProfile_baseline", "seccompProfile_restricted", 19),
            ("capabilities_baseline", "capabilities_restricted", 22),
            ("procMount", "procMount_restricted", 35),
        ];
        for (baseline, restricted, from) in cases {
            if from > 0 {
                assert!(has(Level::Restricted, from - 1, baseline), "{baseline} v1.{}", from - 1);
                assert!(!has(Level::Restricted, from - 1, restricted), "{restricted}");
            }
            assert!(!has(Level::Restricted, from, baseline), "{baseline} at v1.{from}");
            assert!(has(Level::Restricted, from, restricted), "{restricted} at v1.{from}");
            assert!(has(Level::Baseline, 37, baseline), "{baseline} still at baseline");
            assert!(!has(Level::Baseline, 37, restricted));
        }
    }

    #[test]
    fn checks_start_at_their_first_version() {
        for (id, level, from) in [
            ("allowPrivilegeEscalation", Level::Restricted, 8),
            ("runAsUser", Level::Restricted, 23),
            ("hostProbesAndHostLifecycle", Level::Baseline, 34),
        ] {
            assert!(!has(level, from - 1, id), "{id} before v1.{from}");
            assert!(has(level, from, id), "{id} at v1.{from}");
        }
    }

    /// `runtimeClassName` plays no part in any check (exemptions by runtime class are decided
    /// before evaluation); no fixture sets it.
    #[test]
    fn runtime_class_name_has_no_effect() {
        use crate::pss::evaluate;
        use crate::pss::testing::{PodBuilder, sc};
        let violating = PodBuilder::new()
            .with(|s| s.host_network = Some(true))
            .container("a", |c| sc(c).privileged = Some(true))
            .ephemeral_container("e", |_| {});
        let compliant = PodBuilder::new()
            .pod_sc(|s| {
                s.run_as_non_root = Some(true);
                s.seccomp_profile = Some(crate::model::pod::SeccompProfile {
                    type_: "RuntimeDefault".into(),
                    localhost_profile: None,
                });
            })
            .container("a", |c| {
                sc(c).allow_privilege_escalation = Some(false);
                sc(c).capabilities = Some(crate::model::pod::Capabilities {
                    add: None,
                    drop: Some(vec!["ALL".into()]),
                });
            });
        for pod in [violating, compliant] {
            for rc in ["gvisor", "kata", "windows", ""] {
                let with = pod.clone().with(|s| s.runtime_class_name = Some(rc.to_owned()));
                for level in [Level::Baseline, Level::Restricted] {
                    for v in [Version::Minor(0), Version::Minor(24), Version::Latest] {
                        assert_eq!(
                            evaluate(level, v, &with.view()),
                            evaluate(level, v, &pod.view()),
                            "{rc} {level} {v}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn catalogue_is_complete() {
        assert_eq!(CATALOGUE.len(), 19);
        let baseline = CATALOGUE.iter().filter(|c| c.level == Level::Baseline).count();
        assert_eq!(baseline, 12);
    }
}
