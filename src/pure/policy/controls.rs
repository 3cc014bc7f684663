//! One PSP's validation "as written", as CEL: the checks of the PSP admission plugin on the pod
//! as submitted, without its defaulting step. Each restriction of the PSP becomes one
//! [`Control`]: a boolean expression (true: the pod passes) and the PSP field it keeps.
//!
//! The expressions mirror [`crate::simulate::provider::validate`] check by check, with two
//! differences the issue defines: a capability PSP would add by default need not be present
//! (`defaultAddCapabilities` alone never rejects), and seccomp and AppArmor profiles are read
//! from the fields as well as the annotations (the API server keeps them in sync).
//!
//! Standard CEL only: `has()`, comprehensions, `in`, `startsWith`, string concatenation and
//! the variables a ValidatingAdmissionPolicy defines. Containers are read through the policy's
//! shared variables ([`CONTAINERS`], [`VOLUMES`]).

use crate::model::pod::{APPARMOR_ANNOTATION_PREFIX, SECCOMP_POD_ANNOTATION, VolumeType};
use crate::model::psp::{IdRange, PodSecurityPolicy};
use crate::simulate::apparmor::AppArmorRules;
use crate::simulate::capabilities::CapabilityRules;
use crate::simulate::group::GroupRule;
use crate::simulate::seccomp::SeccompRules;
use crate::simulate::selinux::SeLinuxRule;
use crate::simulate::sysctl::SAFE_SYSCTLS;
use crate::simulate::user::UserRule;

/// The shared variable holding every container (init, regular, ephemeral).
pub const CONTAINERS: &str = "variables.containers";
/// The shared variable holding the pod's volumes.
pub const VOLUMES: &str = "variables.volumes";

/// The shared variables every residual policy declares first, in order.
pub fn shared_variables() -> Vec<(&'static str, String)> {
    vec![
        (
            "serviceAccount",
            "has(object.spec.serviceAccountName) && object.spec.serviceAccountName != '' ? \
             object.spec.serviceAccountName : 'default'"
                .to_owned(),
        ),
        (
            "containers",
            "(has(object.spec.initContainers) ? object.spec.initContainers : []) + \
             (has(object.spec.containers) ? object.spec.containers : []) + \
             (has(object.spec.ephemeralContainers) ? object.spec.ephemeralContainers : [])"
                .to_owned(),
        ),
        ("volumes", "has(object.spec.volumes) ? object.spec.volumes : []".to_owned()),
        (
            "annotations",
            "has(object.metadata.annotations) ? object.metadata.annotations : {}".to_owned(),
        ),
    ]
}

/// One restriction of one PSP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Control {
    /// A short identifier, also the suffix of the policy variable (`Volumes`, `RunAsUser`).
    pub id: &'static str,
    /// The PSP field (or annotation) it keeps, for messages and reports.
    pub field: &'static str,
    /// What is restricted, for the validation message ("volume types", "host paths").
    pub what: &'static str,
    /// The CEL expression: true when the pod passes. [`PSP_VAR`] in it stands for the PSP's
    /// variable prefix, for the helper variables below.
    pub expr: String,
    /// Helper variables the expression reads (`variables.<psp><suffix>`), computed once so
    /// that no expression nests more than two comprehensions (the API server's cost budget).
    pub helpers: Vec<(&'static str, String)>,
}

/// The placeholder for a PSP's variable prefix in [`Control::expr`].
pub const PSP_VAR: &str = "$psp";

/// A CEL string literal.
pub fn lit(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for ch in s.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// A CEL list of string literals.
pub fn lit_list<S: AsRef<str>>(items: &[S]) -> String {
    let items: Vec<String> = items.iter().map(|s| lit(s.as_ref())).collect();
    format!("[{}]", items.join(", "))
}

/// `has(a.b) && has(a.b.c)…` for a dotted path below `root`.
pub(crate) fn has_path(root: &str, path: &str) -> String {
    let mut parts = Vec::new();
    let mut cur = root.to_owned();
    for seg in path.split('.') {
        cur = format!("{cur}.{seg}");
        parts.push(format!("has({cur})"));
    }
    parts.join(" && ")
}

/// The value of a container field, falling back to the pod's security context:
/// `some(value)` when either sets it, else `none`.
fn effective(c: &str, field: &str, some: impl Fn(&str) -> String, none: &str) -> String {
    let own = format!("{c}.securityContext.{field}");
    let pod = format!("object.spec.securityContext.{field}");
    format!(
        "({} ? {} : ({} ? {} : {}))",
        has_path(c, &format!("securityContext.{field}")),
        some(&own),
        has_path("object", &format!("spec.securityContext.{field}")),
        some(&pod),
        none
    )
}

/// A container field without fallback: `some(value)` when set, else `none`.
fn own(c: &str, field: &str, some: impl Fn(&str) -> String, none: &str) -> String {
    let v = format!("{c}.securityContext.{field}");
    format!("({} ? {} : {})", has_path(c, &format!("securityContext.{field}")), some(&v), none)
}

/// A pod security context field: `some(value)` when set, else `none`.
fn pod_field(field: &str, some: impl Fn(&str) -> String, none: &str) -> String {
    let v = format!("object.spec.securityContext.{field}");
    format!(
        "({} ? {} : {})",
        has_path("object", &format!("spec.securityContext.{field}")),
        some(&v),
        none
    )
}

/// `v` is inside one of the ranges.
fn in_ranges(v: &str, ranges: &[IdRange]) -> String {
    let terms: Vec<String> =
        ranges.iter().map(|r| format!("({v} >= {} && {v} <= {})", r.min, r.max)).collect();
    if terms.len() == 1 { terms[0].clone() } else { format!("({})", terms.join(" || ")) }
}

/// The profile string of a `seccompProfile`/`appArmorProfile` field, as its annotation spells it.
pub(crate) fn profile_of(f: &str) -> String {
    format!(
        "({f}.type == 'RuntimeDefault' ? 'runtime/default' : ({f}.type == 'Unconfined' ? \
         'unconfined' : ({f}.type == 'Localhost' && has({f}.localhostProfile) ? 'localhost/' + \
         {f}.localhostProfile : '')))"
    )
}

/// An annotation's value, or `none`.
pub(crate) fn annotation(key_expr: &str, none: &str) -> String {
    format!("({key_expr} in variables.annotations ? variables.annotations[{key_expr}] : {none})")
}

/// Which pod a control reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    /// The pod as submitted.
    AsWritten,
    /// The pod after this PSP's defaulting: every field the PSP would fill in, when unset,
    /// reads as the PSP's default (the defaults are constants, so each control only changes
    /// the value it assumes for an unset field).
    Defaulted,
}

/// Every control of one PSP that restricts something (a PSP that allows everything has none).
/// A PSP whose strategies cannot be built is unusable: its one control is `false`.
pub fn controls(psp: &PodSecurityPolicy) -> Vec<Control> {
    controls_in(psp, View::AsWritten)
}

/// [`controls`] read on the pod as submitted or as this PSP would default it.
pub fn controls_in(psp: &PodSecurityPolicy, view: View) -> Vec<Control> {
    let s = &psp.spec;
    let defaulted = view == View::Defaulted;
    // The value an unset field takes: the PSP fills it in (and its default passes) when
    // defaulted, otherwise `unset`.
    let unset = |fills: bool, unset: &'static str| if defaulted && fills { "true" } else { unset };
    let mut out = Vec::new();
    let mut push = |id, field, what, expr: String| {
        out.push(Control { id, field, what, expr, helpers: Vec::new() })
    };
    let st = match crate::simulate::provider::Strategies::new(psp) {
        Ok(st) => st,
        Err(_) => {
            push("Invalid", "spec", "an invalid policy", "false".into());
            return out;
        }
    };
    // Pod level: fsGroup and supplementalGroups.
    match &st.fs_group {
        GroupRule::RunAsAny => {}
        GroupRule::MustRunAs(r) => push(
            "FsGroup",
            "fsGroup",
            "fsGroup",
            pod_field("fsGroup", |v| in_ranges(v, r), unset(true, "false")),
        ),
        GroupRule::MayRunAs(r) => {
            push("FsGroup", "fsGroup", "fsGroup", pod_field("fsGroup", |v| in_ranges(v, r), "true"))
        }
    }
    match &st.supplemental_groups {
        GroupRule::RunAsAny => {}
        GroupRule::MustRunAs(r) => push(
            "SupplementalGroups",
            "supplementalGroups",
            "supplementalGroups",
            pod_field(
                "supplementalGroups",
                |v| format!("({v}.size() > 0 && {v}.all(g, {}))", in_ranges("g", r)),
                unset(true, "false"),
            ),
        ),
        GroupRule::MayRunAs(r) => push(
            "SupplementalGroups",
            "supplementalGroups",
            "supplementalGroups",
            pod_field(
                "supplementalGroups",
                |v| format!("{v}.all(g, {})", in_ranges("g", r)),
                "true",
            ),
        ),
    }
    // Host namespaces.
    for (allowed, field, id) in [
        (s.host_network, "hostNetwork", "HostNetwork"),
        (s.host_pid, "hostPID", "HostPID"),
        (s.host_ipc, "hostIPC", "HostIPC"),
    ] {
        if allowed != Some(true) {
            push(id, field, field, format!("!(has(object.spec.{field}) && object.spec.{field})"));
        }
    }
    // Sysctls: forbidden patterns, then safe or allowed-unsafe.
    let forbidden = s.forbidden_sysctls.clone().unwrap_or_default();
    let unsafe_ok = s.allowed_unsafe_sysctls.clone().unwrap_or_default();
    if !unsafe_ok.iter().any(|p| p == "*") || !forbidden.is_empty() {
        let matches = |pats: &[String]| -> String {
            let terms: Vec<String> = pats
                .iter()
                .map(|p| match p.strip_suffix('*') {
                    Some(prefix) => format!("x.name.startsWith({})", lit(prefix)),
                    None => format!("x.name == {}", lit(p)),
                })
                .collect();
            if terms.is_empty() { "false".into() } else { format!("({})", terms.join(" || ")) }
        };
        let safe: Vec<String> = SAFE_SYSCTLS.iter().map(|s| (*s).to_owned()).collect();
        let ok = format!(
            "!{} && (x.name in {} || {})",
            matches(&forbidden),
            lit_list(&safe),
            matches(&unsafe_ok)
        );
        push(
            "Sysctls",
            "forbiddenSysctls/allowedUnsafeSysctls",
            "sysctls",
            pod_field("sysctls", |v| format!("{v}.all(x, {ok})"), "true"),
        );
    }
    // Pod seccomp and SELinux.
    let seccomp_default = if defaulted { st.seccomp.default.as_str() } else { "" };
    let seccomp_pod = seccomp_pod_profile(seccomp_default);
    if let Some(e) = seccomp_check(&st.seccomp, &seccomp_pod) {
        push("SeccompPod", "seccomp annotations", "the pod's seccomp profile", e);
    }
    if let SeLinuxRule::MustRunAs(want) = &st.se_linux {
        let e = pod_field("seLinuxOptions", |v| selinux_equal(v, want), unset(true, "false"));
        push("SeLinuxPod", "seLinux", "the pod's seLinuxOptions", e);
    }
    // Volumes.
    let read_only_mounts = volume_controls(psp, &mut push).map(|names| {
        let expr = format!(
            "{CONTAINERS}.all(c, !has(c.volumeMounts) || c.volumeMounts.all(m, !(m.name in \
             variables.{PSP_VAR}ReadOnlyHostPathVolumes) || (has(m.readOnly) && m.readOnly)))"
        );
        Control {
            id: "HostPathsReadOnly",
            field: "allowedHostPaths[].readOnly",
            what: "writable host path mounts",
            expr,
            helpers: vec![("ReadOnlyHostPathVolumes", names)],
        }
    });
    // Runtime class.
    if let Some(rc) = &s.runtime_class
        && !rc.allowed_runtime_class_names.iter().any(|n| n == "*")
    {
        // Unset passes as written; defaulted, it takes the default class, which must be listed.
        let unset_ok = match (&rc.default_runtime_class_name, defaulted) {
            (Some(d), true) => rc.allowed_runtime_class_names.contains(d),
            _ => true,
        };
        push(
            "RuntimeClass",
            "runtimeClass",
            "runtimeClassName",
            format!(
                "has(object.spec.runtimeClassName) ? object.spec.runtimeClassName in {} : \
                 {unset_ok}",
                lit_list(&rc.allowed_runtime_class_names)
            ),
        );
    }
    // Containers.
    let all =
        |id,
         field,
         what,
         per: String,
         push: &mut dyn FnMut(&'static str, &'static str, &'static str, String)| {
            push(id, field, what, format!("{CONTAINERS}.all(c, {per})"));
        };
    match &st.run_as_user {
        UserRule::RunAsAny => {}
        UserRule::MustRunAs(r) => all(
            "RunAsUser",
            "runAsUser",
            "runAsUser",
            effective("c", "runAsUser", |v| in_ranges(v, r), unset(true, "false")),
            &mut push,
        ),
        UserRule::MustRunAsNonRoot if defaulted => {
            // A container that sets neither field gets `runAsNonRoot: true`.
            let e = format!(
                "{} && {}",
                effective("c", "runAsNonRoot", |v| v.to_owned(), "true"),
                effective("c", "runAsUser", |v| format!("{v} != 0"), "true"),
            );
            all("RunAsUser", "runAsUser", "running as root", e, &mut push);
        }
        UserRule::MustRunAsNonRoot => {
            // runAsNonRoot false fails; with neither set it fails; UID 0 fails.
            let e = format!(
                "{} && ({} || {}) && {}",
                effective("c", "runAsNonRoot", |v| v.to_owned(), "true"),
                effective("c", "runAsNonRoot", |_| "true".into(), "false"),
                effective("c", "runAsUser", |_| "true".into(), "false"),
                effective("c", "runAsUser", |v| format!("{v} != 0"), "true"),
            );
            all("RunAsUser", "runAsUser", "running as root", e, &mut push);
        }
    }
    match &st.run_as_group {
        GroupRule::RunAsAny => {}
        GroupRule::MustRunAs(r) => all(
            "RunAsGroup",
            "runAsGroup",
            "runAsGroup",
            effective("c", "runAsGroup", |v| in_ranges(v, r), unset(true, "false")),
            &mut push,
        ),
        GroupRule::MayRunAs(r) => all(
            "RunAsGroup",
            "runAsGroup",
            "runAsGroup",
            effective("c", "runAsGroup", |v| in_ranges(v, r), "true"),
            &mut push,
        ),
    }
    if let SeLinuxRule::MustRunAs(want) = &st.se_linux {
        all(
            "SeLinux",
            "seLinux",
            "seLinuxOptions",
            effective("c", "seLinuxOptions", |v| selinux_equal(v, want), unset(true, "false")),
            &mut push,
        );
    }
    if let Some(e) = apparmor_check(&st.apparmor, defaulted) {
        all("AppArmor", "AppArmor annotations", "AppArmor profiles", e, &mut push);
    }
    if let Some(e) = seccomp_check(&st.seccomp, &seccomp_container_profile(seccomp_default)) {
        all("Seccomp", "seccomp annotations", "container seccomp profiles", e, &mut push);
    }
    if s.privileged != Some(true) {
        all(
            "Privileged",
            "privileged",
            "privileged containers",
            own("c", "privileged", |v| format!("!{v}"), "true"),
            &mut push,
        );
    }
    let proc_types = s.allowed_proc_mount_types.clone().unwrap_or_default();
    let proc_types = if proc_types.is_empty() { vec!["Default".to_owned()] } else { proc_types };
    if !(proc_types.contains(&"Default".to_owned()) && proc_types.contains(&"Unmasked".to_owned()))
    {
        all(
            "ProcMount",
            "allowedProcMountTypes",
            "procMount",
            own(
                "c",
                "procMount",
                |v| format!("{v} in {}", lit_list(&proc_types)),
                if proc_types.iter().any(|p| p == "Default") { "true" } else { "false" },
            ),
            &mut push,
        );
    }
    if let Some(e) = capability_check(&st.capabilities, defaulted) {
        all("Capabilities", "capabilities", "capabilities", e, &mut push);
    }
    let ranges = s.host_ports.clone().unwrap_or_default();
    let ports_ok = {
        let terms: Vec<String> = ranges
            .iter()
            .map(|r| format!("(p.hostPort >= {} && p.hostPort <= {})", r.min, r.max))
            .collect();
        if terms.is_empty() { "false".to_owned() } else { terms.join(" || ") }
    };
    if !ranges.iter().any(|r| r.min <= 1 && r.max >= 65535) {
        all(
            "HostPorts",
            "hostPorts",
            "host ports",
            format!(
                "!has(c.ports) || c.ports.all(p, !has(p.hostPort) || p.hostPort <= 0 || {ports_ok})"
            ),
            &mut push,
        );
    }
    if s.read_only_root_filesystem == Some(true) {
        all(
            "ReadOnlyRootFilesystem",
            "readOnlyRootFilesystem",
            "writable root filesystems",
            own("c", "readOnlyRootFilesystem", |v| v.to_owned(), unset(true, "false")),
            &mut push,
        );
    }
    if s.allow_privilege_escalation == Some(false) {
        // Defaulted, an unset field takes `defaultAllowPrivilegeEscalation`, else false.
        let fills = s.default_allow_privilege_escalation != Some(true);
        all(
            "AllowPrivilegeEscalation",
            "allowPrivilegeEscalation",
            "privilege escalation",
            own("c", "allowPrivilegeEscalation", |v| format!("!{v}"), unset(fills, "false")),
            &mut push,
        );
    }
    out.extend(read_only_mounts);
    out
}

/// The pod-level seccomp profile: the pod annotation when non-empty, else the pod field, else
/// `default` (the PSP's default profile when defaulted, else empty).
fn seccomp_pod_profile(default: &str) -> String {
    let field = profile_of("object.spec.securityContext.seccompProfile");
    let from_field = format!(
        "({} ? {field} : {})",
        has_path("object", "spec.securityContext.seccompProfile"),
        lit(default)
    );
    let ann = annotation(&lit(SECCOMP_POD_ANNOTATION), "''");
    format!("({ann} != '' ? {ann} : {from_field})")
}

/// A container's seccomp profile: its field, its annotation, the pod field, the pod annotation
/// (when empty, `default`: defaulting writes the PSP's default profile there).
fn seccomp_container_profile(default: &str) -> String {
    let own_field = profile_of("c.securityContext.seccompProfile");
    let pod_field = profile_of("object.spec.securityContext.seccompProfile");
    let key = format!("{} + c.name", lit(crate::model::pod::SECCOMP_CONTAINER_ANNOTATION_PREFIX));
    format!(
        "({} ? {own_field} : ({key} in variables.annotations ? variables.annotations[{key}] : \
         ({} ? {pod_field} : {})))",
        has_path("c", "securityContext.seccompProfile"),
        has_path("object", "spec.securityContext.seccompProfile"),
        non_empty_or(&annotation(&lit(SECCOMP_POD_ANNOTATION), "''"), default),
    )
}

/// `v`, or `default` when `v` is empty (`v` itself when there is no default).
fn non_empty_or(v: &str, default: &str) -> String {
    if default.is_empty() { v.to_owned() } else { format!("({v} != '' ? {v} : {})", lit(default)) }
}

/// Whether a seccomp profile passes: `*` allows any; otherwise the profile must be listed
/// (an empty list allows only no profile). `None`: the PSP allows anything.
fn seccomp_check(r: &SeccompRules, profile: &str) -> Option<String> {
    if r.allow_any {
        return None;
    }
    let allowed = r.allowed.clone().unwrap_or_default();
    if allowed.is_empty() {
        return Some(format!("{profile} == ''"));
    }
    Some(format!("{profile} in {}", lit_list(&allowed)))
}

/// A container's AppArmor profile: its annotation, else its field, else the pod's field.
/// Defaulted, a container without a profile gets the PSP's default annotation.
fn apparmor_check(r: &AppArmorRules, defaulted: bool) -> Option<String> {
    let allowed = r.allowed.as_ref()?;
    let key = format!("{} + c.name", lit(APPARMOR_ANNOTATION_PREFIX));
    let own_field = profile_of("c.securityContext.appArmorProfile");
    let pod_field = profile_of("object.spec.securityContext.appArmorProfile");
    let profile = format!(
        "({key} in variables.annotations ? variables.annotations[{key}] : ({} ? {own_field} : \
         ({} ? {pod_field} : '')))",
        has_path("c", "securityContext.appArmorProfile"),
        has_path("object", "spec.securityContext.appArmorProfile"),
    );
    let profile = if defaulted { non_empty_or(&profile, &r.default) } else { profile };
    let empty_ok = allowed.is_empty() || allowed.iter().any(String::is_empty);
    Some(format!("({profile} == '' ? {empty_ok} : {profile} in {})", lit_list(allowed)))
}

/// Capabilities as written: every added capability allowed (or a default one), every required
/// drop present. A container without `capabilities` fails only when drops are required.
/// Defaulted, the required drops are always present (defaulting adds them).
fn capability_check(r: &CapabilityRules, defaulted: bool) -> Option<String> {
    let any = r.allowed.iter().any(|c| c == "*");
    if any && r.required_drop.is_empty() {
        return None;
    }
    let caps = "c.securityContext.capabilities";
    let mut ok: Vec<String> = r.allowed.clone();
    ok.extend(r.default_add.iter().cloned());
    ok.sort();
    ok.dedup();
    let adds = if any {
        "true".to_owned()
    } else {
        format!("(!has({caps}.add) || {caps}.add.all(x, x in {}))", lit_list(&ok))
    };
    let drops: Vec<String> =
        r.required_drop.iter().map(|d| format!("{} in {caps}.drop", lit(d))).collect();
    let drops = if drops.is_empty() || defaulted {
        "true".to_owned()
    } else {
        format!("(has({caps}.drop) && {})", drops.join(" && "))
    };
    // With `*` allowed the plugin checks nothing once capabilities are set.
    let set = if any { "true".to_owned() } else { format!("{adds} && {drops}") };
    let unset = if r.required_drop.is_empty() || defaulted { "true" } else { "false" };
    Some(format!("({} ? {set} : {unset})", has_path("c", "securityContext.capabilities")))
}

/// SELinux options equal to `want` (levels compared as the plugin does: sensitivity and the
/// set of categories; CEL has no split, so every ordering of up to four categories is listed).
fn selinux_equal(v: &str, want: &crate::model::pod::SeLinuxOptions) -> String {
    let get = |f: &str| format!("(has({v}.{f}) ? {v}.{f} : '')");
    let mut terms = Vec::new();
    let levels = level_spellings(&want.level);
    terms.push(format!("{} in {}", get("level"), lit_list(&levels)));
    for (f, w) in [("role", &want.role), ("type", &want.type_), ("user", &want.user)] {
        terms.push(format!("{} == {}", get(f), lit(w)));
    }
    format!("({})", terms.join(" && "))
}

/// The spellings of an SELinux level the plugin treats as equal (category order).
fn level_spellings(level: &str) -> Vec<String> {
    let mut out = vec![level.to_owned()];
    if let Some((sens, cats)) = level.split_once(':') {
        let cats: Vec<&str> = cats.split(',').map(str::trim).collect();
        if cats.len() <= 4 {
            let mut perms = Vec::new();
            permute(&cats, &mut Vec::new(), &mut vec![false; cats.len()], &mut perms);
            for p in perms {
                out.push(format!("{sens}:{}", p.join(",")));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

fn permute<'a>(
    items: &[&'a str],
    cur: &mut Vec<&'a str>,
    used: &mut Vec<bool>,
    out: &mut Vec<Vec<&'a str>>,
) {
    if cur.len() == items.len() {
        out.push(cur.clone());
        return;
    }
    for i in 0..items.len() {
        if !used[i] {
            used[i] = true;
            cur.push(items[i]);
            permute(items, cur, used, out);
            cur.pop();
            used[i] = false;
        }
    }
}

/// Volume types, host paths and their read-only mounts, flexVolume and CSI drivers.
/// Returns the helper expression listing the names of host path volumes that must be mounted
/// read-only, when there can be such volumes.
fn volume_controls(
    psp: &PodSecurityPolicy,
    push: &mut impl FnMut(&'static str, &'static str, &'static str, String),
) -> Option<String> {
    let s = &psp.spec;
    let mut ro_volumes = None;
    let allowed: Vec<&str> = s.volumes.iter().flatten().map(String::as_str).collect();
    let all = allowed.contains(&"*");
    // The plugin of 1.24 knew no image volumes: it rejects them whatever `volumes` says.
    let mut kinds = vec!["!has(v.image)".to_owned()];
    if !all {
        let types: Vec<String> = VolumeType::ALL
            .iter()
            .filter(|t| allowed.contains(&t.as_str()) && **t != VolumeType::Image)
            .map(|t| format!("has(v.{})", t.as_str()))
            .collect();
        kinds.push(if types.is_empty() {
            "false".into()
        } else {
            format!("({})", types.join(" || "))
        });
    }
    push("Volumes", "volumes", "volume types", format!("{VOLUMES}.all(v, {})", kinds.join(" && ")));
    let host_ok = all || allowed.contains(&"hostPath");
    let prefixes = s.allowed_host_paths.clone().unwrap_or_default();
    if host_ok && !prefixes.is_empty() {
        let matches = |ro: Option<bool>| -> Vec<String> {
            prefixes
                .iter()
                .filter(|p| ro.is_none_or(|ro| (p.read_only == Some(true)) == ro))
                .map(|p| {
                    let pre = p.path_prefix.strip_suffix('/').unwrap_or(&p.path_prefix);
                    format!(
                        "v.hostPath.path == {} || v.hostPath.path.startsWith({})",
                        lit(pre),
                        lit(&format!("{pre}/"))
                    )
                })
                .collect()
        };
        let any = matches(None).join(" || ");
        push(
            "HostPaths",
            "allowedHostPaths",
            "host paths",
            format!("{VOLUMES}.all(v, !has(v.hostPath) || {any})"),
        );
        let writable = matches(Some(false));
        if writable.len() < prefixes.len() {
            let writable = if writable.is_empty() { "false".into() } else { writable.join(" || ") };
            // Volumes whose path only read-only prefixes allow must be mounted read-only.
            ro_volumes = Some(format!(
                "{VOLUMES}.filter(v, has(v.hostPath) && !({writable})).map(v, v.name)"
            ));
        }
    }
    let flex = s.allowed_flex_volumes.clone().unwrap_or_default();
    if (all || allowed.contains(&"flexVolume")) && !flex.is_empty() {
        let drivers: Vec<String> = flex.iter().map(|d| d.driver.clone()).collect();
        push(
            "FlexVolumeDrivers",
            "allowedFlexVolumes",
            "flexVolume drivers",
            format!(
                "{VOLUMES}.all(v, !has(v.flexVolume) || (has(v.flexVolume.driver) ? v.flexVolume.driver : '') in {})",
                lit_list(&drivers)
            ),
        );
    }
    let csi = s.allowed_csi_drivers.clone().unwrap_or_default();
    if (all || allowed.contains(&"csi")) && !csi.is_empty() {
        let drivers: Vec<String> = csi.iter().map(|d| d.name.clone()).collect();
        push(
            "CsiDrivers",
            "allowedCSIDrivers",
            "inline CSI drivers",
            format!(
                "{VOLUMES}.all(v, !has(v.csi) || (has(v.csi.driver) ? v.csi.driver : '') in {})",
                lit_list(&drivers)
            ),
        );
    }
    ro_volumes
}
