//! Volumes: allowed types (`*`: all), `allowedHostPaths` (path-segment prefixes; a read-only
//! prefix requires every mount of the volume to be read-only — validated, never mutated),
//! `allowedFlexVolumes` and `allowedCSIDrivers` (empty: any driver).

use crate::model::pod::{PodSpec, VolumeType};
use crate::model::psp::PspSpec;
use crate::simulate::{FieldError, go, provider::containers_with_paths};

/// Whether `path` is `prefix` or lies under it at a path-segment boundary (trailing slashes
/// ignored on both): `/foo` covers `/foo` and `/foo/bar`, not `/foobar`.
pub fn has_path_prefix(path: &str, prefix: &str) -> bool {
    let path = path.strip_suffix('/').unwrap_or(path);
    let prefix = prefix.strip_suffix('/').unwrap_or(prefix);
    match path.strip_prefix(prefix) {
        Some("") => true,
        Some(rest) => rest.starts_with('/'),
        None => false,
    }
}

/// Whether the PSP allows a host path, and whether it must then be mounted read-only. No
/// `allowedHostPaths` allows every path; a writable prefix wins over read-only ones.
pub fn allows_host_path(spec: &PspSpec, path: &str) -> (bool, bool) {
    let allowed = spec.allowed_host_paths.as_deref().unwrap_or_default();
    if allowed.is_empty() {
        return (true, false);
    }
    let (mut ok, mut read_only) = (false, false);
    for a in allowed {
        if has_path_prefix(path, &a.path_prefix) {
            if a.read_only != Some(true) {
                return (true, false);
            }
            ok = true;
            read_only = true;
        }
    }
    (ok, read_only)
}

pub fn validate(psp: &PspSpec, spec: &PodSpec) -> Vec<FieldError> {
    let mut out = Vec::new();
    let allowed: Vec<&str> = psp.volumes.iter().flatten().map(String::as_str).collect();
    let all = allowed.contains(&"*");
    for (i, v) in spec.volumes.iter().enumerate() {
        let path = format!("spec.volumes[{i}]");
        let t = v.source_type();
        if t == VolumeType::Image {
            // Not a volume type of Kubernetes 1.24.
            out.push(FieldError::invalid(
                path,
                go::str(""),
                format!("unknown volume type for volume: {}", v.name),
            ));
            continue;
        }
        if !all && !allowed.contains(&t.as_str()) {
            out.push(FieldError::invalid(
                path,
                go::str(t.as_str()),
                format!("{} volumes are not allowed to be used", t.as_str()),
            ));
            continue;
        }
        match t {
            VolumeType::HostPath => {
                let host = v.host_path.as_deref().unwrap_or_default();
                let (ok, read_only) = allows_host_path(psp, host);
                if !ok {
                    out.push(FieldError::invalid(
                        format!("{path}.hostPath.pathPrefix"),
                        go::str(host),
                        "is not allowed to be used",
                    ));
                } else if read_only {
                    for (c, cpath) in containers_with_paths(spec) {
                        for (j, m) in c.volume_mounts.iter().enumerate() {
                            if m.name == v.name && m.read_only != Some(true) {
                                out.push(FieldError::invalid(
                                    format!("{cpath}.volumeMounts[{j}].readOnly"),
                                    "false".into(),
                                    "must be read-only",
                                ));
                            }
                        }
                    }
                }
            }
            VolumeType::FlexVolume => {
                let drivers = psp.allowed_flex_volumes.as_deref().unwrap_or_default();
                let driver = v.flex_volume_driver.as_deref().unwrap_or_default();
                if !drivers.is_empty() && !drivers.iter().any(|d| d.driver == driver) {
                    out.push(FieldError::invalid(
                        format!("{path}.driver"),
                        go::str(driver),
                        "Flexvolume driver is not allowed to be used",
                    ));
                }
            }
            VolumeType::Csi => {
                let drivers = psp.allowed_csi_drivers.as_deref().unwrap_or_default();
                let driver = v.csi_driver.as_deref().unwrap_or_default();
                if !drivers.is_empty() && !drivers.iter().any(|d| d.name == driver) {
                    out.push(FieldError::invalid(
                        format!("{path}.csi.driver"),
                        go::str(driver),
                        "Inline CSI driver is not allowed to be used",
                    ));
                }
            }
            _ => {}
        }
    }
    out
}
