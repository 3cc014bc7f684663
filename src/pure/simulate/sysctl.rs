//! Sysctls: the safe set is allowed unless forbidden; others only when `allowedUnsafeSysctls`
//! matches them. Patterns: an exact name, or `prefix*` (`*`: all).

use crate::model::pod::Sysctl;
use crate::model::psp::PspSpec;
use crate::simulate::FieldError;

/// The sysctls Kubernetes 1.24 considers safe (namespaced and isolated).
pub const SAFE_SYSCTLS: &[&str] = &[
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
];

/// Whether `name` matches one of the patterns.
pub fn matches_any(patterns: &[String], name: &str) -> bool {
    patterns.iter().any(|p| match p.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => p == name,
    })
}

pub fn validate(spec: &PspSpec, sysctls: &[Sysctl]) -> Vec<FieldError> {
    let forbidden = spec.forbidden_sysctls.clone().unwrap_or_default();
    let unsafe_ok = spec.allowed_unsafe_sysctls.clone().unwrap_or_default();
    let mut out = Vec::new();
    for (i, s) in sysctls.iter().enumerate() {
        let path = format!("pod.spec.securityContext.sysctls[{i}]");
        if matches_any(&forbidden, &s.name) {
            out.push(FieldError::forbidden(path, format!("sysctl {:?} is not allowed", s.name)));
        } else if SAFE_SYSCTLS.contains(&s.name.as_str()) || matches_any(&unsafe_ok, &s.name) {
            continue;
        } else {
            out.push(FieldError::forbidden(
                path,
                format!("unsafe sysctl {:?} is not allowed", s.name),
            ));
        }
    }
    out
}
