//! Our own serde mirror of `policy/v1beta1` (and `extensions/v1beta1`) PodSecurityPolicy:
//! k8s-openapi dropped the type when the API was removed in Kubernetes 1.25.
//!
//! Every field is optional, as in the API; `null` reads as absent.

use serde::{Deserialize, Serialize};

use crate::model::pod::{ObjectMeta, null_default};

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSecurityPolicy {
    #[serde(default, deserialize_with = "null_default")]
    pub api_version: String,
    #[serde(default, deserialize_with = "null_default")]
    pub metadata: ObjectMeta,
    #[serde(default, deserialize_with = "null_default")]
    pub spec: PspSpec,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PspSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub privileged: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_add_capabilities: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_drop_capabilities: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_capabilities: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volumes: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_network: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_ports: Option<Vec<HostPortRange>>,
    #[serde(default, rename = "hostPID", skip_serializing_if = "Option::is_none")]
    pub host_pid: Option<bool>,
    #[serde(default, rename = "hostIPC", skip_serializing_if = "Option::is_none")]
    pub host_ipc: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub se_linux: Option<SeLinuxStrategy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_as_user: Option<IdStrategy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_as_group: Option<IdStrategy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplemental_groups: Option<IdStrategy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fs_group: Option<IdStrategy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only_root_filesystem: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_allow_privilege_escalation: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_privilege_escalation: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_host_paths: Option<Vec<AllowedHostPath>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_flex_volumes: Option<Vec<AllowedFlexVolume>>,
    #[serde(default, rename = "allowedCSIDrivers", skip_serializing_if = "Option::is_none")]
    pub allowed_csi_drivers: Option<Vec<AllowedCsiDriver>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_unsafe_sysctls: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forbidden_sysctls: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_proc_mount_types: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime_class: Option<RuntimeClassStrategy>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct HostPortRange {
    #[serde(default)]
    pub min: i32,
    #[serde(default)]
    pub max: i32,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SeLinuxStrategy {
    #[serde(default, deserialize_with = "null_default")]
    pub rule: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub se_linux_options: Option<crate::model::pod::SeLinuxOptions>,
}

/// `runAsUser`, `runAsGroup`, `supplementalGroups` and `fsGroup` strategies.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct IdStrategy {
    #[serde(default, deserialize_with = "null_default")]
    pub rule: String,
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<IdRange>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct IdRange {
    #[serde(default)]
    pub min: i64,
    #[serde(default)]
    pub max: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AllowedHostPath {
    #[serde(default, deserialize_with = "null_default")]
    pub path_prefix: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only: Option<bool>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct AllowedFlexVolume {
    #[serde(default, deserialize_with = "null_default")]
    pub driver: String,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct AllowedCsiDriver {
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuntimeClassStrategy {
    #[serde(default, deserialize_with = "null_default")]
    pub allowed_runtime_class_names: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_runtime_class_name: Option<String>,
}
