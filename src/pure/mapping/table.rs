//! The PSP → PSS mapping table: one static row per `PodSecurityPolicySpec` field and per PSP
//! annotation, after kubernetes.io "Mapping PodSecurityPolicies to Pod Security Standards".
//!
//! Each row carries the official text (type, what Baseline and Restricted allow, the migration
//! task page's category) and a function that reads one PSP and says which level the value
//! forces, in both readings:
//!
//! * **practical** (`forces`): the default. Two implicit defaults are waived — `seLinux` rule
//!   `RunAsAny` (or absent) and a missing AppArmor `allowedProfileNames` annotation — because
//!   nodes without that security module ignore the pod setting; each waiver is recorded as an
//!   assumption. This is how the Kubernetes documentation's own "restricted" example PSP is
//!   meant to be read. Explicit grants are never waived.
//! * **strict** (`strict`): the waived defaults count as privileged (pods may set any SELinux
//!   type or AppArmor profile).
//!
//! A row never looks at another row's field, so every level in a report can be traced to one
//! row. The safe sysctl list and the allowed SELinux types change between PSS versions; rows read
//! them from the check catalogue at `latest` so the mapping never disagrees with evaluation.
//!
//! Pure: no I/O.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::level::{Level, Version};
use crate::model::pod::{PodSecurityContext, PodSpec, SeLinuxOptions, Sysctl};
use crate::model::psp::{IdStrategy, PodSecurityPolicy};
use crate::pss::{self, PodView};

/// PSP annotation: seccomp profiles pods may use.
pub const SECCOMP_ALLOWED: &str = "seccomp.security.alpha.kubernetes.io/allowedProfileNames";
/// PSP annotation: seccomp profile set on pods that name none.
pub const SECCOMP_DEFAULT: &str = "seccomp.security.alpha.kubernetes.io/defaultProfileName";
/// PSP annotation: AppArmor profiles containers may use.
pub const APPARMOR_ALLOWED: &str = "apparmor.security.beta.kubernetes.io/allowedProfileNames";
/// PSP annotation: AppArmor profile set on containers that name none.
pub const APPARMOR_DEFAULT: &str = "apparmor.security.beta.kubernetes.io/defaultProfileName";

/// Capabilities PSS Baseline lets containers add: the check's own list.
pub use crate::pss::checks::DEFAULT_CAPABILITIES as BASELINE_CAPABILITIES;

/// Volume types (PSP spelling) PSS Restricted allows.
pub const RESTRICTED_VOLUMES: &[&str] = &[
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

/// Every `FSType` of `policy/v1beta1` (note the PSP spelling `cephFS`).
pub const PSP_VOLUME_TYPES: &[&str] = &[
    "*",
    "awsElasticBlockStore",
    "azureDisk",
    "azureFile",
    "cephFS",
    "cinder",
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "fc",
    "flexVolume",
    "flocker",
    "gcePersistentDisk",
    "gitRepo",
    "glusterfs",
    "hostPath",
    "iscsi",
    "nfs",
    "persistentVolumeClaim",
    "photonPersistentDisk",
    "portworxVolume",
    "projected",
    "quobyte",
    "rbd",
    "scaleIO",
    "secret",
    "storageos",
    "vsphereVolume",
];

/// How a field acts under PSP (the official table's "type" column).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FieldType {
    Validating,
    Mutating,
    MutatingAndValidating,
}

/// The migration task page's category for the field (steps 2.a and 2.b).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// Expressed by a PSS control; keep.
    Covered,
    /// Purely mutating: remove (step 2.a).
    PurelyMutating,
    /// Validating but outside PSS: remove or enforce elsewhere (step 2.b).
    NotCovered,
    /// POSIX group controls: removable, but mutating under MustRunAs (step 2.b, caution).
    PosixGroup,
    /// Mutating but needed to express PSS: case by case.
    CaseByCase,
}

/// What one row says about one PSP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Whether the PSP sets the field (or annotation) at all.
    pub set: bool,
    /// Level forced in the practical reading.
    pub forces: Level,
    /// Level forced in the strict reading.
    pub strict: Level,
    /// One line: why.
    pub detail: String,
    /// Set when the practical reading waived an implicit default.
    pub assumption: Option<String>,
    /// Set when this value changes pods at admission.
    pub mutating: Option<String>,
    /// Set when this value restricts something no PSS level expresses.
    pub uncovered: Option<String>,
    /// Values the PSP API would reject or not recognise.
    pub problems: Vec<String>,
}

impl Outcome {
    fn new(set: bool, level: Level, detail: impl Into<String>) -> Outcome {
        Outcome {
            set,
            forces: level,
            strict: level,
            detail: detail.into(),
            assumption: None,
            mutating: None,
            uncovered: None,
            problems: Vec::new(),
        }
    }

    /// A value that does not affect the level.
    fn no_opinion(set: bool, detail: impl Into<String>) -> Outcome {
        Outcome::new(set, Level::Restricted, detail)
    }

    fn mutating(mut self, detail: impl Into<String>) -> Outcome {
        self.mutating = Some(detail.into());
        self
    }

    fn uncovered(mut self, detail: impl Into<String>) -> Outcome {
        self.uncovered = Some(detail.into());
        self
    }

    fn problem(mut self, detail: impl Into<String>) -> Outcome {
        self.problems.push(detail.into());
        self
    }

    /// An implicit default the practical reading waives and the strict reading counts as
    /// privileged.
    fn waived(set: bool, detail: impl Into<String>, assumption: impl Into<String>) -> Outcome {
        Outcome {
            strict: Level::Privileged,
            assumption: Some(assumption.into()),
            ..Outcome::new(set, Level::Restricted, detail)
        }
    }
}

/// One row of the mapping table. The official texts and classification document the row and
/// are printed by the `table_listing` snapshot test; the mapping itself reads `field` and `eval`.
#[derive(Debug)]
#[cfg_attr(not(test), allow(dead_code))]
pub struct Row {
    /// Field path in a PSP manifest (`spec.…`, or `metadata.annotations[…]`).
    pub field: &'static str,
    pub field_type: FieldType,
    /// What Baseline allows (official text).
    pub baseline: &'static str,
    /// What Restricted allows (official text).
    pub restricted: &'static str,
    pub category: Category,
    /// Reads the PSP.
    pub eval: fn(&PodSecurityPolicy) -> Outcome,
}

/// The table, in the order of the official page (spec fields, then annotations).
pub static TABLE: &[Row] = &[
    Row {
        field: "spec.privileged",
        field_type: FieldType::Validating,
        baseline: "false / undefined / nil",
        restricted: "false / undefined / nil",
        category: Category::Covered,
        eval: privileged,
    },
    Row {
        field: "spec.defaultAddCapabilities",
        field_type: FieldType::MutatingAndValidating,
        baseline: "same requirement as allowedCapabilities",
        restricted: "same requirement as allowedCapabilities",
        category: Category::PurelyMutating,
        eval: default_add_capabilities,
    },
    Row {
        field: "spec.allowedCapabilities",
        field_type: FieldType::Validating,
        baseline: "subset of AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, \
                   NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID, SYS_CHROOT",
        restricted: "empty / undefined / nil, or only NET_BIND_SERVICE",
        category: Category::Covered,
        eval: allowed_capabilities,
    },
    Row {
        field: "spec.requiredDropCapabilities",
        field_type: FieldType::MutatingAndValidating,
        baseline: "no opinion",
        restricted: "must include ALL",
        category: Category::CaseByCase,
        eval: required_drop_capabilities,
    },
    Row {
        field: "spec.volumes",
        field_type: FieldType::Validating,
        baseline: "anything except hostPath and *",
        restricted: "subset of configMap, csi, downwardAPI, emptyDir, ephemeral, \
                     persistentVolumeClaim, projected, secret",
        category: Category::Covered,
        eval: volumes,
    },
    Row {
        field: "spec.hostNetwork",
        field_type: FieldType::Validating,
        baseline: "false / undefined / nil",
        restricted: "false / undefined / nil",
        category: Category::Covered,
        eval: host_network,
    },
    Row {
        field: "spec.hostPorts",
        field_type: FieldType::Validating,
        baseline: "undefined / nil / empty",
        restricted: "undefined / nil / empty",
        category: Category::Covered,
        eval: host_ports,
    },
    Row {
        field: "spec.hostPID",
        field_type: FieldType::Validating,
        baseline: "false / undefined / nil",
        restricted: "false / undefined / nil",
        category: Category::Covered,
        eval: host_pid,
    },
    Row {
        field: "spec.hostIPC",
        field_type: FieldType::Validating,
        baseline: "false / undefined / nil",
        restricted: "false / undefined / nil",
        category: Category::Covered,
        eval: host_ipc,
    },
    Row {
        field: "spec.seLinux",
        field_type: FieldType::MutatingAndValidating,
        baseline: "rule MustRunAs, user and role unset, type unset or an allowed container type",
        restricted: "same as Baseline",
        category: Category::CaseByCase,
        eval: se_linux,
    },
    Row {
        field: "spec.runAsUser",
        field_type: FieldType::MutatingAndValidating,
        baseline: "anything",
        restricted: "rule MustRunAsNonRoot",
        category: Category::CaseByCase,
        eval: run_as_user,
    },
    Row {
        field: "spec.runAsGroup",
        field_type: FieldType::MutatingAndValidating,
        baseline: "no opinion",
        restricted: "no opinion",
        category: Category::PosixGroup,
        eval: run_as_group,
    },
    Row {
        field: "spec.supplementalGroups",
        field_type: FieldType::MutatingAndValidating,
        baseline: "no opinion",
        restricted: "no opinion",
        category: Category::PosixGroup,
        eval: supplemental_groups,
    },
    Row {
        field: "spec.fsGroup",
        field_type: FieldType::MutatingAndValidating,
        baseline: "no opinion",
        restricted: "no opinion",
        category: Category::PosixGroup,
        eval: fs_group,
    },
    Row {
        field: "spec.readOnlyRootFilesystem",
        field_type: FieldType::MutatingAndValidating,
        baseline: "no opinion",
        restricted: "no opinion",
        category: Category::NotCovered,
        eval: read_only_root_filesystem,
    },
    Row {
        field: "spec.defaultAllowPrivilegeEscalation",
        field_type: FieldType::Mutating,
        baseline: "no opinion (non-validating)",
        restricted: "no opinion (non-validating)",
        category: Category::PurelyMutating,
        eval: default_allow_privilege_escalation,
    },
    Row {
        field: "spec.allowPrivilegeEscalation",
        field_type: FieldType::MutatingAndValidating,
        baseline: "no opinion",
        restricted: "false",
        category: Category::CaseByCase,
        eval: allow_privilege_escalation,
    },
    Row {
        field: "spec.allowedHostPaths",
        field_type: FieldType::Validating,
        baseline: "no opinion (volumes takes precedence)",
        restricted: "no opinion (volumes takes precedence)",
        category: Category::NotCovered,
        eval: allowed_host_paths,
    },
    Row {
        field: "spec.allowedFlexVolumes",
        field_type: FieldType::Validating,
        baseline: "no opinion (volumes takes precedence)",
        restricted: "no opinion (volumes takes precedence)",
        category: Category::NotCovered,
        eval: allowed_flex_volumes,
    },
    Row {
        field: "spec.allowedCSIDrivers",
        field_type: FieldType::Validating,
        baseline: "no opinion (volumes takes precedence)",
        restricted: "no opinion (volumes takes precedence)",
        category: Category::NotCovered,
        eval: allowed_csi_drivers,
    },
    Row {
        field: "spec.allowedUnsafeSysctls",
        field_type: FieldType::Validating,
        baseline: "undefined / nil / empty",
        restricted: "undefined / nil / empty",
        category: Category::Covered,
        eval: allowed_unsafe_sysctls,
    },
    Row {
        field: "spec.forbiddenSysctls",
        field_type: FieldType::Validating,
        baseline: "no opinion",
        restricted: "no opinion",
        category: Category::NotCovered,
        eval: forbidden_sysctls,
    },
    Row {
        field: "spec.allowedProcMountTypes",
        field_type: FieldType::Validating,
        baseline: "[\"Default\"] or undefined / nil / empty",
        restricted: "[\"Default\"] or undefined / nil / empty",
        category: Category::Covered,
        eval: allowed_proc_mount_types,
    },
    Row {
        field: "spec.runtimeClass.defaultRuntimeClassName",
        field_type: FieldType::Mutating,
        baseline: "no opinion",
        restricted: "no opinion",
        category: Category::PurelyMutating,
        eval: default_runtime_class_name,
    },
    Row {
        field: "spec.runtimeClass.allowedRuntimeClassNames",
        field_type: FieldType::Validating,
        baseline: "no opinion",
        restricted: "no opinion",
        category: Category::NotCovered,
        eval: allowed_runtime_class_names,
    },
    Row {
        field: "metadata.annotations[seccomp.security.alpha.kubernetes.io/defaultProfileName]",
        field_type: FieldType::Mutating,
        baseline: "no opinion",
        restricted: "no opinion",
        category: Category::PurelyMutating,
        eval: seccomp_default,
    },
    Row {
        field: "metadata.annotations[seccomp.security.alpha.kubernetes.io/allowedProfileNames]",
        field_type: FieldType::Validating,
        baseline: "\"runtime/default,\" (the trailing comma allows unset); localhost/* too",
        restricted: "\"runtime/default\" (no trailing comma); localhost/* too",
        category: Category::Covered,
        eval: seccomp_allowed,
    },
    Row {
        field: "metadata.annotations[apparmor.security.beta.kubernetes.io/defaultProfileName]",
        field_type: FieldType::Mutating,
        baseline: "no opinion",
        restricted: "no opinion",
        category: Category::PurelyMutating,
        eval: apparmor_default,
    },
    Row {
        field: "metadata.annotations[apparmor.security.beta.kubernetes.io/allowedProfileNames]",
        field_type: FieldType::Validating,
        baseline: "\"runtime/default,\" (the trailing comma allows unset); localhost/* too",
        restricted: "\"runtime/default\"; localhost/* too (see the row's note on unset)",
        category: Category::Covered,
        eval: apparmor_allowed,
    },
];

fn list(items: &[String]) -> String {
    items.join(", ")
}

fn flag(set: Option<bool>, what: &str) -> Outcome {
    match set {
        Some(true) => Outcome::new(true, Level::Privileged, format!("allows {what}")),
        Some(false) => Outcome::no_opinion(true, format!("forbids {what}")),
        None => Outcome::no_opinion(false, format!("unset: forbids {what}")),
    }
}

fn privileged(p: &PodSecurityPolicy) -> Outcome {
    flag(p.spec.privileged, "privileged containers")
}

fn host_network(p: &PodSecurityPolicy) -> Outcome {
    flag(p.spec.host_network, "the host network namespace")
}

fn host_pid(p: &PodSecurityPolicy) -> Outcome {
    flag(p.spec.host_pid, "the host PID namespace")
}

fn host_ipc(p: &PodSecurityPolicy) -> Outcome {
    flag(p.spec.host_ipc, "the host IPC namespace")
}

/// The level a set of addable capabilities forces, with a short explanation.
fn capability_level(caps: &[String]) -> (Level, String) {
    if caps.is_empty() {
        return (Level::Restricted, "no capabilities may be added".into());
    }
    if caps.iter().any(|c| c == "*") {
        return (Level::Privileged, "`*` allows adding any capability".into());
    }
    let beyond_baseline: Vec<String> =
        caps.iter().filter(|c| !BASELINE_CAPABILITIES.contains(&c.as_str())).cloned().collect();
    if !beyond_baseline.is_empty() {
        return (
            Level::Privileged,
            format!("allows {} (outside the baseline set)", list(&beyond_baseline)),
        );
    }
    let beyond_restricted: Vec<String> =
        caps.iter().filter(|c| *c != "NET_BIND_SERVICE").cloned().collect();
    if !beyond_restricted.is_empty() {
        return (
            Level::Baseline,
            format!(
                "allows {} (baseline set; restricted allows only NET_BIND_SERVICE)",
                list(&beyond_restricted)
            ),
        );
    }
    (Level::Restricted, "allows only NET_BIND_SERVICE".into())
}

fn allowed_capabilities(p: &PodSecurityPolicy) -> Outcome {
    let caps = p.spec.allowed_capabilities.as_deref().unwrap_or_default();
    let (level, detail) = capability_level(caps);
    Outcome::new(p.spec.allowed_capabilities.is_some(), level, detail)
}

fn default_add_capabilities(p: &PodSecurityPolicy) -> Outcome {
    let caps = p.spec.default_add_capabilities.as_deref().unwrap_or_default();
    if caps.is_empty() {
        return Outcome::no_opinion(
            p.spec.default_add_capabilities.is_some(),
            "adds no capabilities by default",
        );
    }
    let (level, detail) = capability_level(caps);
    Outcome::new(true, level, format!("counts as allowed: {detail}")).mutating(format!(
        "adds {} to every container (merge into allowedCapabilities to keep the validation only)",
        list(caps)
    ))
}

fn required_drop_capabilities(p: &PodSecurityPolicy) -> Outcome {
    let caps = p.spec.required_drop_capabilities.as_deref().unwrap_or_default();
    let set = p.spec.required_drop_capabilities.is_some();
    if caps.iter().any(|c| c == "ALL") {
        return Outcome::no_opinion(set, "requires dropping ALL").mutating(
            "adds ALL to capabilities.drop of containers that do not drop it".to_string(),
        );
    }
    let detail = if caps.is_empty() {
        "does not require dropping ALL (restricted requires it)".to_string()
    } else {
        format!("requires dropping {} but not ALL (restricted requires ALL)", list(caps))
    };
    let out = Outcome::new(set, Level::Baseline, detail);
    if caps.is_empty() {
        out
    } else {
        out.mutating(format!("adds {} to capabilities.drop of every container", list(caps)))
    }
}

fn volumes(p: &PodSecurityPolicy) -> Outcome {
    let vols = p.spec.volumes.as_deref().unwrap_or_default();
    let set = p.spec.volumes.is_some();
    let unknown: Vec<String> =
        vols.iter().filter(|v| !PSP_VOLUME_TYPES.contains(&v.as_str())).cloned().collect();
    let mut out = if vols.is_empty() {
        Outcome::no_opinion(set, "no volumes allowed")
    } else if vols.iter().any(|v| v == "*") {
        Outcome::new(set, Level::Privileged, "`*` allows every volume type, hostPath included")
    } else if vols.iter().any(|v| v == "hostPath") {
        Outcome::new(set, Level::Privileged, "allows hostPath volumes")
    } else {
        let beyond: Vec<String> = vols
            .iter()
            .filter(|v| {
                !RESTRICTED_VOLUMES.contains(&v.as_str()) && PSP_VOLUME_TYPES.contains(&v.as_str())
            })
            .cloned()
            .collect();
        if beyond.is_empty() {
            Outcome::no_opinion(set, "only volume types restricted allows")
        } else {
            Outcome::new(
                set,
                Level::Baseline,
                format!("allows {} (not in the restricted set)", list(&beyond)),
            )
        }
    };
    if !unknown.is_empty() {
        out = out.problem(format!(
            "spec.volumes: unknown volume type {} (PSP spells it e.g. cephFS, scaleIO)",
            list(&unknown)
        ));
        out.detail.push_str(&format!("; ignores unknown {}", list(&unknown)));
    }
    out
}

fn host_ports(p: &PodSecurityPolicy) -> Outcome {
    let ranges = p.spec.host_ports.as_deref().unwrap_or_default();
    let set = p.spec.host_ports.is_some();
    // A range 0–0 only admits "no host port", which is what PSS requires.
    let real: Vec<String> = ranges
        .iter()
        .filter(|r| !(r.min == 0 && r.max == 0))
        .map(|r| format!("{}-{}", r.min, r.max))
        .collect();
    if real.is_empty() {
        Outcome::no_opinion(set, "no host ports allowed")
    } else {
        Outcome::new(set, Level::Privileged, format!("allows host ports {}", list(&real)))
    }
}

/// Whether PSS Baseline (at `latest`) lets pods use this SELinux type.
fn se_linux_type_allowed(type_: &str) -> bool {
    let spec = PodSpec {
        security_context: Some(Box::new(PodSecurityContext {
            se_linux_options: Some(SeLinuxOptions {
                type_: type_.to_owned(),
                ..Default::default()
            }),
            ..Default::default()
        })),
        ..Default::default()
    };
    let annotations = BTreeMap::new();
    pss::allows(
        Level::Baseline,
        Version::Latest,
        &PodView { annotations: &annotations, spec: &spec },
    )
}

fn se_linux(p: &PodSecurityPolicy) -> Outcome {
    const ASSUMPTION: &str = "seLinux RunAsAny lets pods set any SELinux options; waived on the \
                              assumption that nodes do not enforce SELinux (as in the Kubernetes \
                              documentation's example PSPs)";
    let Some(s) = &p.spec.se_linux else {
        return Outcome::waived(
            false,
            "unset (RunAsAny): pods may set any SELinux options",
            ASSUMPTION,
        );
    };
    match s.rule.as_str() {
        "RunAsAny" | "" => {
            let mut out =
                Outcome::waived(true, "RunAsAny: pods may set any SELinux options", ASSUMPTION);
            if s.rule.is_empty() {
                out = out.problem("spec.seLinux.rule: empty (the API requires a rule)");
            }
            out
        }
        "MustRunAs" => {
            let Some(o) = &s.se_linux_options else {
                return Outcome::no_opinion(true, "MustRunAs without seLinuxOptions").problem(
                    "spec.seLinux: MustRunAs without seLinuxOptions (the API server rejects it)",
                );
            };
            let shown = se_linux_text(o);
            let mutating = format!("sets seLinuxOptions {shown} on pods that set none");
            if !o.user.is_empty() || !o.role.is_empty() {
                return Outcome::new(
                    true,
                    Level::Privileged,
                    format!(
                        "MustRunAs {shown}: pods get an SELinux user or role, which PSS forbids"
                    ),
                )
                .mutating(mutating);
            }
            if !o.type_.is_empty() && !se_linux_type_allowed(&o.type_) {
                return Outcome::new(
                    true,
                    Level::Privileged,
                    format!("MustRunAs type {}: not a container type PSS allows", o.type_),
                )
                .mutating(mutating);
            }
            Outcome::no_opinion(true, format!("MustRunAs {shown}")).mutating(mutating)
        }
        other => Outcome::new(true, Level::Privileged, format!("unknown rule {other}"))
            .problem(format!("spec.seLinux.rule: unknown rule {other}")),
    }
}

fn se_linux_text(o: &SeLinuxOptions) -> String {
    let parts: Vec<String> =
        [("user", &o.user), ("role", &o.role), ("type", &o.type_), ("level", &o.level)]
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
    if parts.is_empty() { "{}".into() } else { format!("{{{}}}", parts.join(", ")) }
}

fn ranges_text(s: &IdStrategy) -> String {
    if s.ranges.is_empty() {
        return "no ranges".into();
    }
    let parts: Vec<String> = s.ranges.iter().map(|r| format!("{}-{}", r.min, r.max)).collect();
    parts.join(", ")
}

fn run_as_user(p: &PodSecurityPolicy) -> Outcome {
    let Some(s) = &p.spec.run_as_user else {
        return Outcome::new(
            false,
            Level::Baseline,
            "unset (RunAsAny): pods may run as root; restricted needs MustRunAsNonRoot",
        );
    };
    match s.rule.as_str() {
        "MustRunAsNonRoot" => Outcome::no_opinion(true, "MustRunAsNonRoot").mutating(
            "sets runAsNonRoot: true on containers that set neither runAsNonRoot nor runAsUser",
        ),
        "RunAsAny" => Outcome::new(
            true,
            Level::Baseline,
            "RunAsAny: pods may run as root; restricted needs MustRunAsNonRoot",
        ),
        "MustRunAs" => {
            let ranges = ranges_text(s);
            let root = s.ranges.iter().any(|r| r.min <= 0 && r.max >= 0);
            let detail = if root {
                format!("MustRunAs {ranges}: UID 0 is in range; restricted needs MustRunAsNonRoot")
            } else {
                format!(
                    "MustRunAs {ranges}: non-root UIDs, but runAsNonRoot is not required as \
                     restricted needs (MustRunAsNonRoot)"
                )
            };
            let first =
                s.ranges.first().map_or("the first range's minimum".into(), |r| r.min.to_string());
            Outcome::new(true, Level::Baseline, detail)
                .mutating(format!("sets runAsUser to {first} on containers that set none"))
                .uncovered(format!("user ID ranges {ranges}"))
        }
        other => Outcome::new(true, Level::Baseline, format!("unknown rule {other}"))
            .problem(format!("spec.runAsUser.rule: unknown rule {other}")),
    }
}

/// `runAsGroup`, `supplementalGroups` and `fsGroup`: no PSS opinion; mutating under MustRunAs;
/// ranges are not expressible in PSS.
fn group_strategy(s: Option<&IdStrategy>, field: &str, effect: &str) -> Outcome {
    let Some(s) = s else {
        return Outcome::no_opinion(false, "unset: no opinion");
    };
    let ranges = ranges_text(s);
    let first = s.ranges.first().map_or("the first range's minimum".into(), |r| r.min.to_string());
    match s.rule.as_str() {
        "RunAsAny" => Outcome::no_opinion(true, "RunAsAny: no opinion"),
        "MustRunAs" => Outcome::no_opinion(true, format!("MustRunAs {ranges}: no PSS opinion"))
            .mutating(format!("{} {first} {effect}", mutating_verb(field)))
            .uncovered(format!("group ID ranges {ranges}")),
        "MayRunAs" => Outcome::no_opinion(true, format!("MayRunAs {ranges}: no PSS opinion"))
            .uncovered(format!("group ID ranges {ranges}")),
        other => Outcome::no_opinion(true, format!("unknown rule {other}"))
            .problem(format!("spec.{field}.rule: unknown rule {other}")),
    }
}

fn mutating_verb(field: &str) -> &'static str {
    match field {
        "supplementalGroups" => "adds supplemental group",
        "fsGroup" => "sets fsGroup to",
        _ => "sets runAsGroup to",
    }
}

fn run_as_group(p: &PodSecurityPolicy) -> Outcome {
    group_strategy(p.spec.run_as_group.as_ref(), "runAsGroup", "on containers that set none")
}

fn supplemental_groups(p: &PodSecurityPolicy) -> Outcome {
    group_strategy(
        p.spec.supplemental_groups.as_ref(),
        "supplementalGroups",
        "to pods that set none",
    )
}

fn fs_group(p: &PodSecurityPolicy) -> Outcome {
    group_strategy(p.spec.fs_group.as_ref(), "fsGroup", "on pods that set none")
}

fn read_only_root_filesystem(p: &PodSecurityPolicy) -> Outcome {
    match p.spec.read_only_root_filesystem {
        Some(true) => Outcome::no_opinion(true, "true: no PSS opinion")
            .mutating("sets readOnlyRootFilesystem: true on containers that leave it unset")
            .uncovered(
                "requires a read-only root filesystem (no PSS control; use a policy engine)",
            ),
        Some(false) => Outcome::no_opinion(true, "false: no opinion"),
        None => Outcome::no_opinion(false, "unset: no opinion"),
    }
}

fn default_allow_privilege_escalation(p: &PodSecurityPolicy) -> Outcome {
    match p.spec.default_allow_privilege_escalation {
        Some(v) => Outcome::no_opinion(true, format!("{v}: non-validating")).mutating(format!(
            "sets allowPrivilegeEscalation: {v} on containers that leave it unset"
        )),
        None => Outcome::no_opinion(false, "unset: no opinion"),
    }
}

fn allow_privilege_escalation(p: &PodSecurityPolicy) -> Outcome {
    match p.spec.allow_privilege_escalation {
        Some(false) => Outcome::no_opinion(true, "false: privilege escalation forbidden").mutating(
            "sets allowPrivilegeEscalation: false on containers that leave it unset \
             (unless defaultAllowPrivilegeEscalation says otherwise)",
        ),
        Some(true) => Outcome::new(
            true,
            Level::Baseline,
            "true: privilege escalation allowed; restricted requires false",
        ),
        None => Outcome::new(
            false,
            Level::Baseline,
            "unset (defaults to true): privilege escalation allowed; restricted requires false",
        ),
    }
}

fn allowed_host_paths(p: &PodSecurityPolicy) -> Outcome {
    match p.spec.allowed_host_paths.as_deref() {
        Some(paths) if !paths.is_empty() => {
            let shown: Vec<String> = paths
                .iter()
                .map(|h| {
                    if h.read_only == Some(true) {
                        format!("{} (read-only)", h.path_prefix)
                    } else {
                        h.path_prefix.clone()
                    }
                })
                .collect();
            Outcome::no_opinion(true, "no opinion: spec.volumes decides")
                .uncovered(format!("limits hostPath volumes to {}", list(&shown)))
        }
        other => Outcome::no_opinion(other.is_some(), "no restriction"),
    }
}

fn allowed_flex_volumes(p: &PodSecurityPolicy) -> Outcome {
    let names = p
        .spec
        .allowed_flex_volumes
        .as_deref()
        .map(|v| v.iter().map(|d| d.driver.clone()).collect());
    driver_limit(names, "flexVolume drivers")
}

fn allowed_csi_drivers(p: &PodSecurityPolicy) -> Outcome {
    let names =
        p.spec.allowed_csi_drivers.as_deref().map(|v| v.iter().map(|d| d.name.clone()).collect());
    driver_limit(names, "inline CSI drivers")
}

/// A driver allow-list: no PSS level has an opinion (`spec.volumes` decides), but a non-empty
/// list is a restriction PSS cannot express.
fn driver_limit(names: Option<Vec<String>>, what: &str) -> Outcome {
    match names {
        Some(names) if !names.is_empty() => {
            Outcome::no_opinion(true, "no opinion: spec.volumes decides")
                .uncovered(format!("limits {what} to {}", list(&names)))
        }
        other => Outcome::no_opinion(other.is_some(), "no restriction"),
    }
}

/// Whether PSS Baseline (at `latest`) lets pods set this sysctl.
fn sysctl_safe(name: &str) -> bool {
    let spec = PodSpec {
        security_context: Some(Box::new(PodSecurityContext {
            sysctls: vec![Sysctl { name: name.to_owned(), value: String::new() }],
            ..Default::default()
        })),
        ..Default::default()
    };
    let annotations = BTreeMap::new();
    pss::allows(
        Level::Baseline,
        Version::Latest,
        &PodView { annotations: &annotations, spec: &spec },
    )
}

/// Decision: an `allowedUnsafeSysctls` entry that names a sysctl PSS Baseline already allows (at
/// `latest`) loosens nothing, so it does not lower the level; any other entry, and any pattern
/// (`*`, `net.*`), forces privileged.
fn allowed_unsafe_sysctls(p: &PodSecurityPolicy) -> Outcome {
    let names = p.spec.allowed_unsafe_sysctls.as_deref().unwrap_or_default();
    let set = p.spec.allowed_unsafe_sysctls.is_some();
    if names.is_empty() {
        return Outcome::no_opinion(set, "no unsafe sysctls allowed");
    }
    let unsafe_: Vec<String> =
        names.iter().filter(|n| n.ends_with('*') || !sysctl_safe(n)).cloned().collect();
    if unsafe_.is_empty() {
        Outcome::no_opinion(set, format!("names only sysctls PSS allows ({})", list(names)))
    } else {
        Outcome::new(set, Level::Privileged, format!("allows unsafe sysctls {}", list(&unsafe_)))
    }
}

fn forbidden_sysctls(p: &PodSecurityPolicy) -> Outcome {
    match p.spec.forbidden_sysctls.as_deref() {
        Some(v) if !v.is_empty() => Outcome::no_opinion(true, "no PSS opinion")
            .uncovered(format!("forbids sysctls {}", list(v))),
        other => Outcome::no_opinion(other.is_some(), "no restriction"),
    }
}

fn allowed_proc_mount_types(p: &PodSecurityPolicy) -> Outcome {
    let types = p.spec.allowed_proc_mount_types.as_deref().unwrap_or_default();
    let set = p.spec.allowed_proc_mount_types.is_some();
    let other: Vec<String> = types.iter().filter(|t| *t != "Default").cloned().collect();
    if other.is_empty() {
        Outcome::no_opinion(set, "only the Default proc mount")
    } else {
        Outcome::new(set, Level::Privileged, format!("allows proc mount {}", list(&other)))
    }
}

fn default_runtime_class_name(p: &PodSecurityPolicy) -> Outcome {
    match p.spec.runtime_class.as_ref().and_then(|r| r.default_runtime_class_name.as_deref()) {
        Some(name) => Outcome::no_opinion(true, format!("{name}: no opinion"))
            .mutating(format!("sets runtimeClassName: {name} on pods that set none")),
        None => Outcome::no_opinion(false, "unset: no opinion"),
    }
}

fn allowed_runtime_class_names(p: &PodSecurityPolicy) -> Outcome {
    let Some(rc) = &p.spec.runtime_class else {
        return Outcome::no_opinion(false, "unset: no opinion");
    };
    let names = &rc.allowed_runtime_class_names;
    if names.iter().any(|n| n == "*") {
        return Outcome::no_opinion(true, "`*`: any runtime class");
    }
    let uncovered = if names.is_empty() {
        "pods may not set runtimeClassName".to_string()
    } else {
        format!("limits runtime classes to {}", list(names))
    };
    Outcome::no_opinion(true, "no PSS opinion").uncovered(uncovered)
}

fn annotation<'a>(p: &'a PodSecurityPolicy, key: &str) -> Option<&'a str> {
    p.metadata.annotations.get(key).map(String::as_str)
}

fn seccomp_default(p: &PodSecurityPolicy) -> Outcome {
    match annotation(p, SECCOMP_DEFAULT) {
        Some(v) => Outcome::no_opinion(true, format!("{v}: no opinion"))
            .mutating(format!("sets seccomp profile {v} on pods that set none")),
        None => Outcome::no_opinion(false, "unset: no opinion"),
    }
}

fn apparmor_default(p: &PodSecurityPolicy) -> Outcome {
    match annotation(p, APPARMOR_DEFAULT) {
        Some(v) => Outcome::no_opinion(true, format!("{v}: no opinion"))
            .mutating(format!("sets AppArmor profile {v} on containers that set none")),
        None => Outcome::no_opinion(false, "unset: no opinion"),
    }
}

/// Seccomp: a missing annotation lets pods set no profile at all (PSP then only admits unset),
/// which Baseline accepts and Restricted does not. `docker/default` is `runtime/default`; an
/// empty entry (trailing comma) allows unset.
fn seccomp_allowed(p: &PodSecurityPolicy) -> Outcome {
    let Some(value) = annotation(p, SECCOMP_ALLOWED) else {
        return Outcome::new(
            false,
            Level::Baseline,
            "unset: pods may set no seccomp profile; restricted requires runtime/default or localhost/*",
        );
    };
    let mut level = Level::Restricted;
    let mut why: Vec<String> = Vec::new();
    let mut unknown: Vec<String> = Vec::new();
    for entry in value.split(',') {
        let entry = entry.trim();
        match entry {
            "*" => {
                level = level.looser(Level::Privileged);
                why.push("`*` allows unconfined".into());
            }
            "unconfined" => {
                level = level.looser(Level::Privileged);
                why.push("allows unconfined".into());
            }
            "" => {
                level = level.looser(Level::Baseline);
                why.push("an empty entry allows unset (restricted requires a profile)".into());
            }
            "runtime/default" | "docker/default" => {}
            e if e.starts_with("localhost/") => {}
            e => unknown.push(e.to_owned()),
        }
    }
    let mut detail = format!("\"{value}\"");
    if why.is_empty() {
        detail.push_str(": only runtime/default or localhost profiles");
    } else {
        detail.push_str(": ");
        detail.push_str(&why.join("; "));
    }
    let mut out = Outcome::new(true, level, detail);
    if !unknown.is_empty() {
        out.detail.push_str(&format!("; ignores unknown {}", list(&unknown)));
        out = out.problem(format!(
            "{SECCOMP_ALLOWED}: unknown seccomp profile {} (the API rejects pods using it)",
            list(&unknown)
        ));
    }
    out
}

/// AppArmor: a missing annotation leaves profiles unrestricted (waived in the practical reading).
/// Decision: an empty entry (trailing comma, "allows unset") is restricted-compatible, because
/// PSS Restricted adds nothing to Baseline's AppArmor rule, which accepts an unset profile; the
/// official table lists it under Baseline only as the looser of its two examples. Reading it as
/// Baseline would also make `"runtime/default,"` map lower than a missing annotation.
fn apparmor_allowed(p: &PodSecurityPolicy) -> Outcome {
    let Some(value) = annotation(p, APPARMOR_ALLOWED) else {
        return Outcome::waived(
            false,
            "unset: containers may use any AppArmor profile, unconfined included",
            "no AppArmor allowedProfileNames lets containers run unconfined; waived on the \
             assumption that nodes do not enforce AppArmor or that the runtime default applies",
        );
    };
    let mut level = Level::Restricted;
    let mut why: Vec<String> = Vec::new();
    let mut unknown: Vec<String> = Vec::new();
    for entry in value.split(',') {
        let entry = entry.trim();
        match entry {
            "*" => {
                level = level.looser(Level::Privileged);
                why.push("`*` (read as any profile)".into());
            }
            "unconfined" => {
                level = level.looser(Level::Privileged);
                why.push("allows unconfined".into());
            }
            "" => why.push("an empty entry allows unset (PSS allows unset)".into()),
            "runtime/default" => {}
            e if e.starts_with("localhost/") => {}
            e => unknown.push(e.to_owned()),
        }
    }
    let mut detail = format!("\"{value}\"");
    if why.is_empty() {
        detail.push_str(": only runtime/default or localhost profiles");
    } else {
        detail.push_str(": ");
        detail.push_str(&why.join("; "));
    }
    let mut out = Outcome::new(true, level, detail);
    if !unknown.is_empty() {
        out.detail.push_str(&format!("; ignores unknown {}", list(&unknown)));
        out = out.problem(format!(
            "{APPARMOR_ALLOWED}: unknown AppArmor profile {} (runtime/default, unconfined or \
             localhost/<name> expected)",
            list(&unknown)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_row_per_field_and_unique() {
        let mut fields: Vec<&str> = TABLE.iter().map(|r| r.field).collect();
        fields.sort();
        fields.dedup();
        assert_eq!(fields.len(), TABLE.len());
        // Every spec field of the PSP model has a row (runtimeClass has two).
        let spec = serde_json::to_value(crate::model::psp::PspSpec {
            privileged: Some(false),
            default_add_capabilities: Some(vec![]),
            required_drop_capabilities: Some(vec![]),
            allowed_capabilities: Some(vec![]),
            volumes: Some(vec![]),
            host_network: Some(false),
            host_ports: Some(vec![]),
            host_pid: Some(false),
            host_ipc: Some(false),
            se_linux: Some(Default::default()),
            run_as_user: Some(Default::default()),
            run_as_group: Some(Default::default()),
            supplemental_groups: Some(Default::default()),
            fs_group: Some(Default::default()),
            read_only_root_filesystem: Some(false),
            default_allow_privilege_escalation: Some(false),
            allow_privilege_escalation: Some(false),
            allowed_host_paths: Some(vec![]),
            allowed_flex_volumes: Some(vec![]),
            allowed_csi_drivers: Some(vec![]),
            allowed_unsafe_sysctls: Some(vec![]),
            forbidden_sysctls: Some(vec![]),
            allowed_proc_mount_types: Some(vec![]),
            runtime_class: Some(Default::default()),
        })
        .unwrap();
        for key in spec.as_object().unwrap().keys() {
            assert!(
                TABLE.iter().any(|r| r.field.starts_with(&format!("spec.{key}"))),
                "no row for spec.{key}"
            );
        }
    }

    #[test]
    fn catalogue_backed_lists() {
        assert!(se_linux_type_allowed("container_t"));
        assert!(se_linux_type_allowed("container_kvm_t"));
        assert!(!se_linux_type_allowed("spc_t"));
        assert!(sysctl_safe("net.ipv4.ip_local_port_range"));
        assert!(!sysctl_safe("kernel.msgmax"));
    }

    #[test]
    fn capability_levels() {
        let caps =
            |c: &[&str]| capability_level(&c.iter().map(|s| s.to_string()).collect::<Vec<_>>()).0;
        assert_eq!(caps(&[]), Level::Restricted);
        assert_eq!(caps(&["NET_BIND_SERVICE"]), Level::Restricted);
        assert_eq!(caps(&["CHOWN", "NET_BIND_SERVICE"]), Level::Baseline);
        assert_eq!(caps(&["NET_ADMIN"]), Level::Privileged);
        assert_eq!(caps(&["*"]), Level::Privileged);
    }

    /// The table as reviewers read it: adding or changing a row shows up in review.
    #[test]
    fn table_listing() {
        let mut out = String::new();
        for r in TABLE {
            out.push_str(&format!(
                "{} [{:?}, {:?}]\n  baseline: {}\n  restricted: {}\n",
                r.field, r.field_type, r.category, r.baseline, r.restricted
            ));
        }
        insta::with_settings!({ snapshot_path => "../snapshots" }, {
            insta::assert_snapshot!(out);
        });
    }
}
