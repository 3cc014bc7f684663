//! `hostPathVolumes` (baseline, v1.0+; replaced at the restricted level by
//! `restrictedVolumes`).
//!
//! Volumes that mount a path of the node's filesystem are forbidden.
//!
//! **Restricted fields:** `spec.volumes[*].hostPath`.
//!
//! **Allowed values:** undefined/null.
//!
//! **Implementations:** a single v1.0 implementation.

use crate::model::level::Level;
use crate::model::pod::VolumeType;
use crate::pss::msg::{detail, pluralize, quoted};
use crate::pss::{Check, Forbidden, PodView, VersionedCheck};

pub static CHECK: Check = Check {
    id: "hostPathVolumes",
    control: "HostPath Volumes",
    summary: "Pods must not mount hostPath volumes.",
    level: Level::Baseline,
    versions: &[VersionedCheck { min: 0, check: host_path_volumes_v1_0, overrides: &[] }],
};

fn host_path_volumes_v1_0(pod: &PodView<'_>) -> Option<Forbidden> {
    let bad: Vec<&str> = pod
        .spec
        .volumes
        .iter()
        .filter(|v| v.has(VolumeType::HostPath))
        .map(|v| v.name.as_str())
        .collect();
    if bad.is_empty() {
        return None;
    }
    Some(Forbidden::new(
        "hostPath volumes",
        detail!("{} {}", pluralize("volume", "volumes", bad.len()), quoted(&bad)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pss::testing::{PodBuilder, run};

    /// Upstream's "host path volumes" case.
    #[test]
    fn host_path_volumes() {
        let pod = PodBuilder::new()
            .volume("a", &[VolumeType::HostPath])
            .volume("b", &[VolumeType::HostPath])
            .volume("c", &[VolumeType::EmptyDir]);
        assert_eq!(
            run(&CHECK, 0, &pod),
            Some(Forbidden::new("hostPath volumes", r#"volumes "a", "b""#))
        );
    }

    #[test]
    fn single_volume_and_allowed() {
        let one =
            PodBuilder::new().volume("x", &[VolumeType::Nfs]).volume("h", &[VolumeType::HostPath]);
        assert_eq!(
            run(&CHECK, 37, &one),
            Some(Forbidden::new("hostPath volumes", r#"volume "h""#))
        );
        let ok = PodBuilder::new().volume("x", &[VolumeType::Nfs]).volume("d", &[]);
        assert_eq!(run(&CHECK, 37, &ok), None);
    }
}
