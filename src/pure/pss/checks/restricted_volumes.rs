//! `restrictedVolumes` (restricted, v1.0+; replaces `hostPathVolumes` at the restricted level).
//!
//! Beyond forbidding host paths, the restricted level only admits inline volume sources that
//! are backed by the API or by a storage driver the cluster administrator controls:
//! `configMap`, `csi`, `downwardAPI`, `emptyDir`, `ephemeral`, `image`, `persistentVolumeClaim`,
//! `projected` and `secret`.
//!
//! **Restricted fields:** `spec.volumes[*]` sources `hostPath`, `gcePersistentDisk`,
//! `awsElasticBlockStore`, `gitRepo`, `nfs`, `iscsi`, `glusterfs`, `rbd`, `flexVolume`,
//! `cinder`, `cephfs`, `flocker`, `fc`, `azureFile`, `vsphereVolume`, `quobyte`, `azureDisk`,
//! `portworxVolume`, `photonPersistentDisk`, `scaleIO`, `storageos`.
//!
//! **Allowed values:** undefined/null (a volume with no source at all is defaulted to
//! `emptyDir` by the API server and is allowed).
//!
//! **Implementations:** a single v1.0 implementation, overriding `hostPathVolumes`. `image`
//! volumes were added upstream to the v1.0 implementation (1.33 library), so they are allowed at
//! every version.

use std::collections::BTreeSet;

use crate::model::level::Level;
use crate::model::pod::{Volume, VolumeType};
use crate::pss::msg::{detail, pluralize, quoted};
use crate::pss::{Check, Forbidden, PodView, VersionedCheck};

pub static CHECK: Check = Check {
    id: "restrictedVolumes",
    control: "Volume Types",
    summary: "Pods may use only configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected and secret volumes.",
    level: Level::Restricted,
    versions: &[VersionedCheck {
        min: 0,
        check: restricted_volumes_v1_0,
        overrides: &["hostPathVolumes"],
    }],
};

const ALLOWED: &[VolumeType] = &[
    VolumeType::ConfigMap,
    VolumeType::Csi,
    VolumeType::DownwardApi,
    VolumeType::EmptyDir,
    VolumeType::Ephemeral,
    VolumeType::Image,
    VolumeType::PersistentVolumeClaim,
    VolumeType::Projected,
    VolumeType::Secret,
];

/// The order in which a forbidden volume's type is named (the first source it has wins).
const REPORTED: &[VolumeType] = &[
    VolumeType::HostPath,
    VolumeType::GcePersistentDisk,
    VolumeType::AwsElasticBlockStore,
    VolumeType::GitRepo,
    VolumeType::Nfs,
    VolumeType::Iscsi,
    VolumeType::Glusterfs,
    VolumeType::Rbd,
    VolumeType::FlexVolume,
    VolumeType::Cinder,
    VolumeType::Cephfs,
    VolumeType::Flocker,
    VolumeType::Fc,
    VolumeType::AzureFile,
    VolumeType::VsphereVolume,
    VolumeType::Quobyte,
    VolumeType::AzureDisk,
    VolumeType::PhotonPersistentDisk,
    VolumeType::PortworxVolume,
    VolumeType::ScaleIo,
    VolumeType::Storageos,
];

fn allowed(v: &Volume) -> bool {
    ALLOWED.iter().any(|t| v.has(*t))
}

fn reported_type(v: &Volume) -> &'static str {
    REPORTED.iter().find(|t| v.has(**t)).map_or("unknown", |t| t.as_str())
}

fn restricted_volumes_v1_0(pod: &PodView<'_>) -> Option<Forbidden> {
    let volumes = &pod.spec.volumes;
    if volumes.iter().all(allowed) {
        return None;
    }
    let bad: Vec<&str> = volumes.iter().filter(|v| !allowed(v)).map(|v| v.name.as_str()).collect();
    let types: BTreeSet<&str> = volumes.iter().filter(|v| !allowed(v)).map(reported_type).collect();
    Some(Forbidden::new(
        "restricted volume types",
        detail!(
            "{} {} {} {} {}",
            pluralize("volume", "volumes", bad.len()),
            quoted(&bad),
            pluralize("uses", "use", bad.len()),
            pluralize("restricted volume type", "restricted volume types", types.len()),
            quoted(&types)
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pss::testing::{PodBuilder, run};

    /// Upstream's table: every allowed type passes and every restricted type is named.
    /// (Upstream's sourceless "unknown" volume is an emptyDir after API defaulting, see below.)
    #[test]
    fn every_volume_type() {
        let mut pod = PodBuilder::new();
        for (i, t) in ALLOWED.iter().enumerate() {
            pod = pod.volume(&format!("a{}", i + 1), &[*t]);
        }
        for (i, t) in REPORTED.iter().enumerate() {
            pod = pod.volume(&format!("b{}", i + 1), &[*t]);
        }
        assert_eq!(
            run(&CHECK, 0, &pod),
            Some(Forbidden::new(
                "restricted volume types",
                concat!(
                    r#"volumes "b1", "b2", "b3", "b4", "b5", "b6", "b7", "b8", "b9", "b10", "#,
                    r#""b11", "b12", "b13", "b14", "b15", "b16", "b17", "b18", "b19", "b20", "b21" "#,
                    r#"use restricted volume types "awsElasticBlockStore", "azureDisk", "#,
                    r#""azureFile", "cephfs", "cinder", "fc", "flexVolume", "flocker", "#,
                    r#""gcePersistentDisk", "gitRepo", "glusterfs", "hostPath", "iscsi", "nfs", "#,
                    r#""photonPersistentDisk", "portworxVolume", "quobyte", "rbd", "scaleIO", "#,
                    r#""storageos", "vsphereVolume""#
                )
            ))
        );
        assert_eq!(reported_type(&Volume::new("x", &[VolumeType::Image, VolumeType::Nfs])), "nfs");
        // Every source the model knows is either allowed or named, so "unknown" is only a
        // fallback: a volume whose sources are all unknown to the model defaults to emptyDir.
        for t in VolumeType::ALL {
            assert!(ALLOWED.contains(t) || REPORTED.contains(t), "{t:?}");
        }
    }

    /// The defaulting trap: a sourceless volume is an emptyDir, not "unknown".
    #[test]
    fn sourceless_volume_is_empty_dir() {
        let pod = PodBuilder::new().volume("volume0", &[]);
        assert_eq!(run(&CHECK, 37, &pod), None);
    }

    /// An allowed source wins over a restricted one in the same (API-invalid) volume, and the
    /// first restricted source in upstream's order is the one named.
    #[test]
    fn allowed_source_wins_and_first_type_named() {
        let mixed = PodBuilder::new().volume("m", &[VolumeType::HostPath, VolumeType::Secret]);
        assert_eq!(run(&CHECK, 0, &mixed), None);
        let two = PodBuilder::new().volume("v", &[VolumeType::Storageos, VolumeType::GitRepo]);
        assert_eq!(
            run(&CHECK, 0, &two),
            Some(Forbidden::new(
                "restricted volume types",
                r#"volume "v" uses restricted volume type "gitRepo""#
            ))
        );
    }

    /// Image volumes are allowed even at v1.0 (retroactive upstream change).
    #[test]
    fn image_volumes_allowed_at_every_version() {
        let pod = PodBuilder::new().volume("img", &[VolumeType::Image]);
        for v in [0, 32, 33, 37] {
            assert_eq!(run(&CHECK, v, &pod), None, "v1.{v}");
        }
    }

    #[test]
    fn plural_volumes_single_type() {
        let pod = PodBuilder::new()
            .volume("h1", &[VolumeType::HostPath])
            .volume("ok", &[VolumeType::ConfigMap])
            .volume("h2", &[VolumeType::HostPath]);
        assert_eq!(
            run(&CHECK, 37, &pod),
            Some(Forbidden::new(
                "restricted volume types",
                r#"volumes "h1", "h2" use restricted volume type "hostPath""#
            ))
        );
    }
}
