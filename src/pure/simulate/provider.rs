//! One PSP applied to one pod, as upstream's provider does it: default the pod (pod-level
//! groups, SELinux, seccomp, runtime class, then every container), then validate the defaulted
//! pod. Containers are visited as upstream does: init containers, containers, ephemeral
//! containers. A container reads `runAsUser`, `runAsGroup`, `runAsNonRoot` and `seLinuxOptions`
//! from the pod's security context when it sets none itself.

use serde::Serialize;
use serde_json::Value;

use crate::model::pod::{Container, PodSecurityContext, PodSpec, SecurityContext};
use crate::model::psp::PodSecurityPolicy;
use crate::simulate::apparmor::AppArmorRules;
use crate::simulate::capabilities::CapabilityRules;
use crate::simulate::group::GroupRule;
use crate::simulate::seccomp::SeccompRules;
use crate::simulate::selinux::SeLinuxRule;
use crate::simulate::user::UserRule;
use crate::simulate::{Change, FieldError, Outcome, SimPod, go, sysctl, volumes};

/// Every strategy of one PSP.
#[derive(Clone, Debug)]
pub struct Strategies {
    pub run_as_user: UserRule,
    pub run_as_group: GroupRule,
    pub supplemental_groups: GroupRule,
    pub fs_group: GroupRule,
    pub se_linux: SeLinuxRule,
    pub capabilities: CapabilityRules,
    pub seccomp: SeccompRules,
    pub apparmor: AppArmorRules,
}

impl Strategies {
    /// The strategies of a PSP, or why it cannot be used (upstream logs the error and skips it).
    pub fn new(psp: &PodSecurityPolicy) -> Result<Strategies, String> {
        let s = &psp.spec;
        Ok(Strategies {
            run_as_user: UserRule::from_psp(s.run_as_user.as_ref())?,
            run_as_group: GroupRule::from_psp("runAsGroup", s.run_as_group.as_ref())?,
            supplemental_groups: GroupRule::from_psp(
                "supplementalGroups",
                s.supplemental_groups.as_ref(),
            )?,
            fs_group: GroupRule::from_psp("fsGroup", s.fs_group.as_ref())?,
            se_linux: SeLinuxRule::from_psp(s.se_linux.as_ref())?,
            capabilities: CapabilityRules::from_psp(s),
            seccomp: SeccompRules::from_psp(psp),
            apparmor: AppArmorRules::from_psp(psp),
        })
    }
}

/// The containers with their field paths, in upstream's visiting order.
pub fn containers_with_paths(spec: &PodSpec) -> Vec<(&Container, String)> {
    let mut out = Vec::new();
    for (list, name) in [
        (&spec.init_containers, "initContainers"),
        (&spec.containers, "containers"),
        (&spec.ephemeral_containers, "ephemeralContainers"),
    ] {
        for (i, c) in list.iter().enumerate() {
            out.push((c, format!("spec.{name}[{i}]")));
        }
    }
    out
}

fn value<T: Serialize>(v: &Option<T>) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// Sets `slot` to `new` and records the change, when they differ.
fn set<T: Serialize + PartialEq>(
    changes: &mut Vec<Change>,
    field: String,
    slot: &mut Option<T>,
    new: Option<T>,
) {
    if *slot != new {
        changes.push(Change { field, old: value(slot), new: value(&new) });
        *slot = new;
    }
}

/// Sets a field of the pod's security context (created only when something is set).
fn set_pod<T: Serialize + PartialEq>(
    changes: &mut Vec<Change>,
    spec: &mut PodSpec,
    field: &str,
    get: impl Fn(&mut PodSecurityContext) -> &mut Option<T>,
    new: Option<T>,
) {
    if new.is_none() && spec.security_context.is_none() {
        return;
    }
    let sc = spec.security_context.get_or_insert_with(Box::default);
    set(changes, format!("spec.securityContext.{field}"), get(sc), new);
}

/// Sets a field of a container's security context (created only when something is set).
fn set_container<T: Serialize + PartialEq>(
    changes: &mut Vec<Change>,
    c: &mut Container,
    path: &str,
    field: &str,
    get: impl Fn(&mut SecurityContext) -> &mut Option<T>,
    new: Option<T>,
) {
    if new.is_none() && c.security_context.is_none() {
        return;
    }
    let sc = c.security_context.get_or_insert_with(Box::default);
    set(changes, format!("{path}.securityContext.{field}"), get(sc), new);
}

/// Applies one PSP to one pod.
pub fn admit(psp: &PodSecurityPolicy, pod: &SimPod) -> Outcome {
    let st = match Strategies::new(psp) {
        Ok(st) => st,
        Err(e) => {
            return Outcome::Rejects(vec![FieldError::forbidden(
                "",
                format!("PodSecurityPolicy {} cannot be used: {e}", psp.metadata.name),
            )]);
        }
    };
    let mut m = pod.clone();
    let changes = mutate(psp, &st, &mut m);
    let errs = validate(psp, &st, &m);
    if !errs.is_empty() {
        Outcome::Rejects(errs)
    } else if m == *pod {
        Outcome::Admits
    } else {
        Outcome::AdmitsWithMutation { pod: Box::new(m), changes }
    }
}

/// Defaults the pod as the PSP would; returns what changed.
pub fn mutate(psp: &PodSecurityPolicy, st: &Strategies, pod: &mut SimPod) -> Vec<Change> {
    let mut ch = Vec::new();
    let spec = &mut pod.spec;
    let psc = spec.security_context.as_deref().cloned().unwrap_or_default();
    if psc.supplemental_groups.is_none() {
        let g = st.supplemental_groups.generate();
        set_pod(&mut ch, spec, "supplementalGroups", |s| &mut s.supplemental_groups, g);
    }
    if psc.fs_group.is_none() {
        let g = st.fs_group.generate_single();
        set_pod(&mut ch, spec, "fsGroup", |s| &mut s.fs_group, g);
    }
    if psc.se_linux_options.is_none() {
        let o = st.se_linux.generate();
        set_pod(&mut ch, spec, "seLinuxOptions", |s| &mut s.se_linux_options, o);
    }
    let profile = st.seccomp.generate(&pod.annotations, &pod.spec);
    if !profile.is_empty() {
        let key = crate::model::pod::SECCOMP_POD_ANNOTATION;
        let mut slot = pod.annotations.get(key).cloned();
        set(&mut ch, format!("metadata.annotations[{key}]"), &mut slot, Some(profile.clone()));
        pod.annotations.insert(key.to_owned(), profile);
    }
    let spec = &mut pod.spec;
    if let Some(rc) = &psp.spec.runtime_class
        && spec.runtime_class_name.is_none()
    {
        let d = rc.default_runtime_class_name.clone();
        set(&mut ch, "spec.runtimeClassName".into(), &mut spec.runtime_class_name, d);
    }
    let psc = spec.security_context.as_deref().cloned().unwrap_or_default();
    for (list, name) in [
        (&mut spec.init_containers, "initContainers"),
        (&mut spec.containers, "containers"),
        (&mut spec.ephemeral_containers, "ephemeralContainers"),
    ] {
        for (i, c) in list.iter_mut().enumerate() {
            let path = format!("spec.{name}[{i}]");
            mutate_container(psp, st, &psc, c, &path, &mut pod.annotations, &mut ch);
        }
    }
    ch
}

fn mutate_container(
    psp: &PodSecurityPolicy,
    st: &Strategies,
    psc: &PodSecurityContext,
    c: &mut Container,
    path: &str,
    annotations: &mut std::collections::BTreeMap<String, String>,
    ch: &mut Vec<Change>,
) {
    let csc = |c: &Container| c.security_context.as_deref().cloned().unwrap_or_default();
    let sc = csc(c);
    if sc.run_as_user.or(psc.run_as_user).is_none() {
        let u = st.run_as_user.generate();
        set_container(ch, c, path, "runAsUser", |s| &mut s.run_as_user, u);
    }
    if sc.run_as_group.or(psc.run_as_group).is_none() {
        let g = st.run_as_group.generate_single();
        set_container(ch, c, path, "runAsGroup", |s| &mut s.run_as_group, g);
    }
    if sc.se_linux_options.as_ref().or(psc.se_linux_options.as_ref()).is_none() {
        let o = st.se_linux.generate();
        set_container(ch, c, path, "seLinuxOptions", |s| &mut s.se_linux_options, o);
    }
    if let Some((key, profile)) = st.apparmor.generate(annotations, &c.name) {
        let mut slot = annotations.get(&key).cloned();
        set(ch, format!("metadata.annotations[{key}]"), &mut slot, Some(profile.clone()));
        annotations.insert(key, profile);
    }
    let sc = csc(c);
    if sc.run_as_non_root.or(psc.run_as_non_root).is_none()
        && sc.run_as_user.or(psc.run_as_user).is_none()
        && st.run_as_user == UserRule::MustRunAsNonRoot
    {
        set_container(ch, c, path, "runAsNonRoot", |s| &mut s.run_as_non_root, Some(true));
    }
    let caps = st.capabilities.generate(sc.capabilities.as_ref());
    set_container(ch, c, path, "capabilities", |s| &mut s.capabilities, caps);
    if psp.spec.read_only_root_filesystem == Some(true) && sc.read_only_root_filesystem.is_none() {
        set_container(ch, c, path, "readOnlyRootFilesystem", rorf, Some(true));
    }
    if let Some(d) = psp.spec.default_allow_privilege_escalation
        && csc(c).allow_privilege_escalation.is_none()
    {
        set_container(ch, c, path, "allowPrivilegeEscalation", ape, Some(d));
    }
    if psp.spec.allow_privilege_escalation == Some(false)
        && csc(c).allow_privilege_escalation.is_none()
    {
        set_container(ch, c, path, "allowPrivilegeEscalation", ape, Some(false));
    }
}

fn rorf(s: &mut SecurityContext) -> &mut Option<bool> {
    &mut s.read_only_root_filesystem
}

fn ape(s: &mut SecurityContext) -> &mut Option<bool> {
    &mut s.allow_privilege_escalation
}

/// Validates a (defaulted) pod against the PSP.
pub fn validate(psp: &PodSecurityPolicy, st: &Strategies, pod: &SimPod) -> Vec<FieldError> {
    let s = &psp.spec;
    let spec = &pod.spec;
    let psc = spec.security_context.as_deref().cloned().unwrap_or_default();
    let sc_path = "spec.securityContext";
    let mut out = Vec::new();
    let fs: Vec<i64> = psc.fs_group.into_iter().collect();
    out.extend(st.fs_group.validate(&format!("{sc_path}.fsGroup"), &fs));
    let sup = psc.supplemental_groups.clone().unwrap_or_default();
    out.extend(st.supplemental_groups.validate(&format!("{sc_path}.supplementalGroups"), &sup));
    out.extend(st.seccomp.validate_pod(&pod.annotations, spec));
    out.extend(
        st.se_linux.validate(&format!("{sc_path}.seLinuxOptions"), psc.se_linux_options.as_ref()),
    );
    for (allowed, used, field, what) in [
        (s.host_network, spec.host_network, "hostNetwork", "Host network"),
        (s.host_pid, spec.host_pid, "hostPID", "Host PID"),
        (s.host_ipc, spec.host_ipc, "hostIPC", "Host IPC"),
    ] {
        if allowed != Some(true) && used == Some(true) {
            out.push(FieldError::invalid(
                format!("{sc_path}.{field}"),
                "true".into(),
                format!("{what} is not allowed to be used"),
            ));
        }
    }
    out.extend(sysctl::validate(s, &psc.sysctls));
    out.extend(volumes::validate(s, spec));
    if let Some(rc) = &s.runtime_class
        && let Some(name) = &spec.runtime_class_name
        && !rc.allowed_runtime_class_names.iter().any(|n| n == "*" || n == name)
    {
        out.push(FieldError::invalid("spec.runtimeClassName", go::str(name), ""));
    }
    for (c, path) in containers_with_paths(spec) {
        out.extend(validate_container(psp, st, pod, &psc, c, &path));
    }
    out
}

fn validate_container(
    psp: &PodSecurityPolicy,
    st: &Strategies,
    pod: &SimPod,
    psc: &PodSecurityContext,
    c: &Container,
    path: &str,
) -> Vec<FieldError> {
    let s = &psp.spec;
    let sc = c.security_context.as_deref().cloned().unwrap_or_default();
    let scp = format!("{path}.securityContext");
    let mut out = Vec::new();
    out.extend(st.run_as_user.validate(
        &scp,
        sc.run_as_non_root.or(psc.run_as_non_root),
        sc.run_as_user.or(psc.run_as_user),
    ));
    // Upstream reports runAsGroup errors at the securityContext itself.
    let groups: Vec<i64> = sc.run_as_group.or(psc.run_as_group).into_iter().collect();
    out.extend(st.run_as_group.validate(&scp, &groups));
    let se = sc.se_linux_options.as_ref().or(psc.se_linux_options.as_ref());
    out.extend(st.se_linux.validate(&format!("{scp}.seLinuxOptions"), se));
    out.extend(st.apparmor.validate(&pod.annotations, &c.name));
    out.extend(st.seccomp.validate_container(&pod.annotations, &pod.spec, c));
    if s.privileged != Some(true) && sc.privileged == Some(true) {
        out.push(FieldError::invalid(
            format!("{scp}.privileged"),
            "true".into(),
            "Privileged containers are not allowed",
        ));
    }
    let proc_mount = sc.proc_mount.as_deref().unwrap_or("Default");
    let allowed = s.allowed_proc_mount_types.clone().unwrap_or_default();
    let ok = if allowed.is_empty() {
        proc_mount == "Default"
    } else {
        allowed.iter().any(|p| p == proc_mount)
    };
    if !ok {
        out.push(FieldError::invalid(
            format!("{scp}.procMount"),
            go::str(proc_mount),
            "ProcMountType is not allowed",
        ));
    }
    out.extend(st.capabilities.validate(&format!("{scp}.capabilities"), sc.capabilities.as_ref()));
    let ranges = s.host_ports.as_deref().unwrap_or_default();
    for p in &c.ports {
        if let Some(hp) = p.host_port.filter(|hp| *hp > 0)
            && !ranges.iter().any(|r| r.min <= hp && hp <= r.max)
        {
            let shown: Vec<String> = ranges
                .iter()
                .map(|r| {
                    if r.min == r.max { r.min.to_string() } else { format!("{}-{}", r.min, r.max) }
                })
                .collect();
            out.push(FieldError::invalid(
                format!("{path}.hostPort"),
                hp.to_string(),
                format!(
                    "Host port {hp} is not allowed to be used. Allowed ports: [{}]",
                    shown.join(",")
                ),
            ));
        }
    }
    if s.read_only_root_filesystem == Some(true) {
        match sc.read_only_root_filesystem {
            None => out.push(FieldError::invalid(
                format!("{scp}.readOnlyRootFilesystem"),
                go::opt::<bool>(None),
                "ReadOnlyRootFilesystem may not be nil and must be set to true",
            )),
            Some(false) => out.push(FieldError::invalid(
                format!("{scp}.readOnlyRootFilesystem"),
                "false".into(),
                "ReadOnlyRootFilesystem must be set to true",
            )),
            Some(true) => {}
        }
    }
    let escalation = sc.allow_privilege_escalation;
    if s.allow_privilege_escalation == Some(false) && escalation != Some(false) {
        out.push(FieldError::invalid(
            format!("{scp}.allowPrivilegeEscalation"),
            go::opt(escalation),
            "Allowing privilege escalation for containers is not allowed",
        ));
    }
    out
}
