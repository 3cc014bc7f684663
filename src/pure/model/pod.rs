//! The compact pod model: only the fields that Pod Security Standards checks and PSP mutation
//! detection read.
//!
//! Objects are deserialized straight into these types (unknown fields are skipped), so a cluster of
//! 100,000 pods costs a fraction of the memory of full API objects. Field names follow the
//! Kubernetes API; a JSON `null` is treated like an absent field, as the API server does.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

/// Deserializes `null` as the type's default (Go decodes `null` into the zero value).
pub(crate) fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// `metadata` of any object, reduced to what the tool uses.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMeta {
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub labels: BTreeMap<String, String>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub annotations: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "Vec::is_empty")]
    pub owner_references: Vec<OwnerReference>,
}

impl ObjectMeta {
    /// The controlling owner, if any (`controller: true`).
    pub fn controller(&self) -> Option<&OwnerReference> {
        self.owner_references.iter().find(|o| o.controller == Some(true))
    }
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OwnerReference {
    #[serde(default, deserialize_with = "null_default")]
    pub api_version: String,
    #[serde(default, deserialize_with = "null_default")]
    pub kind: String,
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    #[serde(default, deserialize_with = "null_default")]
    pub uid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller: Option<bool>,
}

/// Annotation prefixes and keys that matter to PSS checks or PSP attribution. Pod annotations are
/// filtered to these when read, because others (e.g. `last-applied-configuration`) can be large.
pub const APPARMOR_ANNOTATION_PREFIX: &str = "container.apparmor.security.beta.kubernetes.io/";
pub const SECCOMP_POD_ANNOTATION: &str = "seccomp.security.alpha.kubernetes.io/pod";
pub const SECCOMP_CONTAINER_ANNOTATION_PREFIX: &str =
    "container.seccomp.security.alpha.kubernetes.io/";
pub const PSP_ANNOTATION: &str = "kubernetes.io/psp";

/// Whether a pod annotation is kept in the compact model.
pub fn is_kept_pod_annotation(key: &str) -> bool {
    key.starts_with(APPARMOR_ANNOTATION_PREFIX)
        || key.starts_with(SECCOMP_CONTAINER_ANNOTATION_PREFIX)
        || key == SECCOMP_POD_ANNOTATION
        || key == PSP_ANNOTATION
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSpec {
    #[serde(default, rename = "hostNetwork", skip_serializing_if = "Option::is_none")]
    pub host_network: Option<bool>,
    #[serde(default, rename = "hostPID", skip_serializing_if = "Option::is_none")]
    pub host_pid: Option<bool>,
    #[serde(default, rename = "hostIPC", skip_serializing_if = "Option::is_none")]
    pub host_ipc: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_users: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<PodOs>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime_class_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
    /// Deprecated alias of `serviceAccountName`, still honoured by the API server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_context: Option<Box<PodSecurityContext>>,
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<Volume>,
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "Vec::is_empty")]
    pub init_containers: Vec<Container>,
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "Vec::is_empty")]
    pub containers: Vec<Container>,
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "Vec::is_empty")]
    pub ephemeral_containers: Vec<Container>,
}

impl PodSpec {
    /// The spec in API shape (volumes with their sources, see [`Volume::to_api`]).
    pub fn to_api(&self) -> serde_json::Value {
        let mut spec = serde_json::to_value(self).unwrap_or_default();
        if !self.volumes.is_empty()
            && let Some(obj) = spec.as_object_mut()
        {
            let vols = self.volumes.iter().map(Volume::to_api).collect();
            obj.insert("volumes".into(), serde_json::Value::Array(vols));
        }
        spec
    }

    /// Every container in upstream's visiting order: init containers, containers, then ephemeral
    /// containers.
    pub fn all_containers(&self) -> impl Iterator<Item = &Container> {
        self.init_containers.iter().chain(&self.containers).chain(&self.ephemeral_containers)
    }

    /// The service account the pod runs as (`default` when unset, as the API server defaults it).
    pub fn service_account(&self) -> &str {
        self.service_account_name
            .as_deref()
            .or(self.service_account.as_deref())
            .filter(|s| !s.is_empty())
            .unwrap_or("default")
    }

    /// Releases the spare capacity deserialization leaves in the container and volume lists
    /// (a list grows to four slots for its first element; most pods have one container).
    pub fn shrink_to_fit(&mut self) {
        for list in
            [&mut self.init_containers, &mut self.containers, &mut self.ephemeral_containers]
        {
            list.shrink_to_fit();
            for c in list.iter_mut() {
                c.ports.shrink_to_fit();
                c.volume_mounts.shrink_to_fit();
            }
        }
        self.volumes.shrink_to_fit();
    }

    /// `spec.os.name == "windows"` exactly.
    pub fn is_windows(&self) -> bool {
        self.os.as_ref().is_some_and(|os| os.name == "windows")
    }
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct PodOs {
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSecurityContext {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_as_user: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_as_group: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_as_non_root: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fs_group: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplemental_groups: Option<Vec<i64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub se_linux_options: Option<SeLinuxOptions>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seccomp_profile: Option<SeccompProfile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_armor_profile: Option<AppArmorProfile>,
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "Vec::is_empty")]
    pub sysctls: Vec<Sysctl>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub windows_options: Option<WindowsOptions>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityContext {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub privileged: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_privilege_escalation: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<Capabilities>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proc_mount: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only_root_filesystem: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_as_user: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_as_group: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_as_non_root: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub se_linux_options: Option<SeLinuxOptions>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seccomp_profile: Option<SeccompProfile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_armor_profile: Option<AppArmorProfile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub windows_options: Option<WindowsOptions>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct Capabilities {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drop: Option<Vec<String>>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct SeLinuxOptions {
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "String::is_empty")]
    pub user: String,
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "String::is_empty")]
    pub role: String,
    #[serde(
        default,
        rename = "type",
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub type_: String,
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "String::is_empty")]
    pub level: String,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SeccompProfile {
    #[serde(default, rename = "type", deserialize_with = "null_default")]
    pub type_: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub localhost_profile: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppArmorProfile {
    #[serde(default, rename = "type", deserialize_with = "null_default")]
    pub type_: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub localhost_profile: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct Sysctl {
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    #[serde(default, deserialize_with = "null_default")]
    pub value: String,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WindowsOptions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_process: Option<bool>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Container {
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<ContainerPort>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liveness_probe: Option<Probe>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readiness_probe: Option<Probe>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub startup_probe: Option<Probe>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle: Option<Lifecycle>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_context: Option<Box<SecurityContext>>,
    /// Read by the PSP simulator (`allowedHostPaths` with `readOnly`).
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "Vec::is_empty")]
    pub volume_mounts: Vec<VolumeMount>,
}

/// A container's volume mount: which volume, where, and whether read-only.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeMount {
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only: Option<bool>,
    #[serde(default, deserialize_with = "null_default")]
    pub mount_path: String,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerPort {
    /// Read by API defaulting: a `hostNetwork` pod's unset `hostPort` becomes this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_port: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_port: Option<i32>,
}

/// A probe or lifecycle handler; only the `host` fields matter.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Probe {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_get: Option<HostField>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_socket: Option<HostField>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct HostField {
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "String::is_empty")]
    pub host: String,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Lifecycle {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_start: Option<Probe>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pre_stop: Option<Probe>,
}

macro_rules! volume_types {
    ($($variant:ident => $key:literal,)*) => {
        /// Every volume source the Kubernetes API knows, by its field name.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[repr(u8)]
        pub enum VolumeType { $($variant,)* }

        impl VolumeType {
            pub const ALL: &'static [VolumeType] = &[$(VolumeType::$variant,)*];

            /// The API field name, e.g. `hostPath`.
            pub fn as_str(self) -> &'static str {
                match self { $(VolumeType::$variant => $key,)* }
            }

            pub fn from_key(key: &str) -> Option<VolumeType> {
                match key { $($key => Some(VolumeType::$variant),)* _ => None }
            }
        }
    };
}

volume_types! {
    HostPath => "hostPath",
    EmptyDir => "emptyDir",
    GcePersistentDisk => "gcePersistentDisk",
    AwsElasticBlockStore => "awsElasticBlockStore",
    GitRepo => "gitRepo",
    Secret => "secret",
    Nfs => "nfs",
    Iscsi => "iscsi",
    Glusterfs => "glusterfs",
    PersistentVolumeClaim => "persistentVolumeClaim",
    Rbd => "rbd",
    FlexVolume => "flexVolume",
    Cinder => "cinder",
    Cephfs => "cephfs",
    Flocker => "flocker",
    DownwardApi => "downwardAPI",
    Fc => "fc",
    AzureFile => "azureFile",
    ConfigMap => "configMap",
    VsphereVolume => "vsphereVolume",
    Quobyte => "quobyte",
    AzureDisk => "azureDisk",
    PhotonPersistentDisk => "photonPersistentDisk",
    Projected => "projected",
    PortworxVolume => "portworxVolume",
    ScaleIo => "scaleIO",
    Storageos => "storageos",
    Csi => "csi",
    Ephemeral => "ephemeral",
    Image => "image",
}

/// A pod volume: its name, which sources are set (non-null), and the few source fields PSP
/// checks: the `hostPath` path, the `flexVolume` driver and the `csi` driver.
///
/// A volume with no known source is what the API server defaults to `emptyDir` before admission,
/// so [`Volume::has`] answers `true` for `EmptyDir` in that case.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Volume {
    pub name: String,
    #[serde(skip)]
    sources: u32,
    /// `hostPath.path` (when `hostPath` is set).
    #[serde(skip)]
    pub host_path: Option<String>,
    /// `flexVolume.driver` (when `flexVolume` is set).
    #[serde(skip)]
    pub flex_volume_driver: Option<String>,
    /// `csi.driver` (when `csi` is set).
    #[serde(skip)]
    pub csi_driver: Option<String>,
}

/// The one field of a volume source the model keeps (`path` or `driver`).
#[derive(Default, Deserialize)]
struct SourceField {
    #[serde(default, deserialize_with = "null_default")]
    path: String,
    #[serde(default, deserialize_with = "null_default")]
    driver: String,
}

impl Volume {
    /// The volume in API shape: its sources as mappings (`hostPath` with its path, the drivers
    /// of `flexVolume` and `csi`, the others empty). A volume with no source at all (which the
    /// API would default to `emptyDir`) is written with none, so it reads back identical.
    pub fn to_api(&self) -> serde_json::Value {
        use serde_json::{Value, json};
        let mut m = serde_json::Map::new();
        m.insert("name".into(), Value::String(self.name.clone()));
        for t in VolumeType::ALL.iter().filter(|t| self.sources & (1 << **t as u8) != 0) {
            let source = match t {
                VolumeType::HostPath => self.host_path.as_ref().map(|p| json!({ "path": p })),
                VolumeType::FlexVolume => {
                    self.flex_volume_driver.as_ref().map(|d| json!({ "driver": d }))
                }
                VolumeType::Csi => self.csi_driver.as_ref().map(|d| json!({ "driver": d })),
                _ => None,
            };
            m.insert(t.as_str().to_owned(), source.unwrap_or_else(|| json!({})));
        }
        Value::Object(m)
    }

    pub fn new(name: impl Into<String>, types: &[VolumeType]) -> Volume {
        let sources = types.iter().fold(0, |acc, t| acc | 1 << *t as u8);
        Volume { name: name.into(), sources, ..Volume::default() }
    }

    /// The first source set, in the order of [`VolumeType::ALL`] (after API defaulting).
    pub fn source_type(&self) -> VolumeType {
        VolumeType::ALL.iter().copied().find(|t| self.has(*t)).unwrap_or(VolumeType::EmptyDir)
    }

    /// Whether the volume uses this source (after API defaulting).
    pub fn has(&self, t: VolumeType) -> bool {
        if self.sources == 0 {
            return t == VolumeType::EmptyDir;
        }
        self.sources & (1 << t as u8) != 0
    }
}

impl<'de> Deserialize<'de> for Volume {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Volume;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a volume")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Volume, A::Error> {
                let mut vol = Volume::default();
                while let Some(key) = map.next_key::<String>()? {
                    if key == "name" {
                        vol.name = map.next_value::<Option<String>>()?.unwrap_or_default();
                    } else if let Some(
                        t @ (VolumeType::HostPath | VolumeType::FlexVolume | VolumeType::Csi),
                    ) = VolumeType::from_key(&key)
                    {
                        if let Some(f) = map.next_value::<Option<SourceField>>()? {
                            vol.sources |= 1 << t as u8;
                            match t {
                                VolumeType::HostPath => vol.host_path = Some(f.path),
                                VolumeType::FlexVolume => vol.flex_volume_driver = Some(f.driver),
                                _ => vol.csi_driver = Some(f.driver),
                            }
                        }
                    } else if let Some(t) = VolumeType::from_key(&key) {
                        if map.next_value::<Option<IgnoredAny>>()?.is_some() {
                            vol.sources |= 1 << t as u8;
                        }
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(vol)
            }
        }
        d.deserialize_map(V).map_err(|e: D::Error| de::Error::custom(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volume_sources_and_defaulting() {
        let v: Volume = serde_json::from_str(r#"{"name":"a","hostPath":{"path":"/"}}"#).unwrap();
        assert!(v.has(VolumeType::HostPath) && !v.has(VolumeType::EmptyDir));
        let v: Volume = serde_json::from_str(r#"{"name":"b","hostPath":null}"#).unwrap();
        assert!(v.has(VolumeType::EmptyDir), "no source defaults to emptyDir");
        let v: Volume = serde_json::from_str(r#"{"name":"c","madeUp":{}}"#).unwrap();
        assert!(v.has(VolumeType::EmptyDir) && !v.has(VolumeType::HostPath));
    }

    #[test]
    fn volume_fields_psp_checks() {
        let v: Volume =
            serde_json::from_str(r#"{"name":"a","hostPath":{"path":"/var/log","type":""}}"#)
                .unwrap();
        assert_eq!(v.host_path.as_deref(), Some("/var/log"));
        assert_eq!(v.source_type(), VolumeType::HostPath);
        let v: Volume =
            serde_json::from_str(r#"{"name":"f","flexVolume":{"driver":"x/y","options":{}}}"#)
                .unwrap();
        assert_eq!(v.flex_volume_driver.as_deref(), Some("x/y"));
        let v: Volume = serde_json::from_str(r#"{"name":"c","csi":{"driver":"d"}}"#).unwrap();
        assert_eq!((v.csi_driver.as_deref(), v.source_type()), (Some("d"), VolumeType::Csi));
        let c: Container = serde_json::from_str(
            r#"{"name":"x","volumeMounts":[{"name":"a","mountPath":"/a","readOnly":true}]}"#,
        )
        .unwrap();
        assert_eq!(c.volume_mounts[0].read_only, Some(true));
        assert_eq!(c.volume_mounts[0].mount_path, "/a");
    }

    #[test]
    fn nulls_read_as_absent() {
        let spec: PodSpec = serde_json::from_str(
            r#"{"hostNetwork":null,"containers":null,"volumes":null,"securityContext":{"sysctls":null}}"#,
        )
        .unwrap();
        assert_eq!(spec.host_network, None);
        assert!(spec.containers.is_empty());
        assert_eq!(spec.service_account(), "default");
    }
}

/// What a Pod Security check sees: pod metadata annotations and the pod spec. For workloads, the
/// template's metadata and spec.
#[derive(Clone, Copy, Debug)]
pub struct PodView<'a> {
    pub annotations: &'a BTreeMap<String, String>,
    pub spec: &'a PodSpec,
}
