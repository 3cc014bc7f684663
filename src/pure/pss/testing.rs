//! Small pod builders for check unit tests.

use std::collections::BTreeMap;

use crate::model::pod::{
    Container, PodOs, PodSecurityContext, PodSpec, SecurityContext, Volume, VolumeType,
};
use crate::pss::{Check, Forbidden, PodView};

#[derive(Clone, Debug, Default)]
pub struct PodBuilder {
    pub annotations: BTreeMap<String, String>,
    pub spec: PodSpec,
}

impl PodBuilder {
    pub fn new() -> PodBuilder {
        PodBuilder::default()
    }

    pub fn annotation(mut self, key: &str, value: &str) -> PodBuilder {
        self.annotations.insert(key.to_owned(), value.to_owned());
        self
    }

    /// Edit the pod spec directly.
    pub fn with(mut self, f: impl FnOnce(&mut PodSpec)) -> PodBuilder {
        f(&mut self.spec);
        self
    }

    /// Edit the pod-level security context (created if absent).
    pub fn pod_sc(mut self, f: impl FnOnce(&mut PodSecurityContext)) -> PodBuilder {
        f(self.spec.security_context.get_or_insert_default());
        self
    }

    pub fn container(mut self, name: &str, f: impl FnOnce(&mut Container)) -> PodBuilder {
        self.spec.containers.push(build(name, f));
        self
    }

    pub fn init_container(mut self, name: &str, f: impl FnOnce(&mut Container)) -> PodBuilder {
        self.spec.init_containers.push(build(name, f));
        self
    }

    pub fn ephemeral_container(mut self, name: &str, f: impl FnOnce(&mut Container)) -> PodBuilder {
        self.spec.ephemeral_containers.push(build(name, f));
        self
    }

    /// Adds a volume with the given sources (none: the API server's emptyDir default).
    pub fn volume(mut self, name: &str, types: &[VolumeType]) -> PodBuilder {
        self.spec.volumes.push(Volume::new(name, types));
        self
    }

    /// Sets `spec.hostUsers`.
    pub fn host_users(mut self, host_users: bool) -> PodBuilder {
        self.spec.host_users = Some(host_users);
        self
    }

    /// Sets `spec.os.name`.
    pub fn os(mut self, name: &str) -> PodBuilder {
        self.spec.os = Some(PodOs { name: name.to_owned() });
        self
    }

    pub fn view(&self) -> PodView<'_> {
        PodView { annotations: &self.annotations, spec: &self.spec }
    }
}

fn build(name: &str, f: impl FnOnce(&mut Container)) -> Container {
    let mut c = Container { name: name.to_owned(), ..Container::default() };
    f(&mut c);
    c
}

/// The container's security context, created if absent.
pub fn sc(c: &mut Container) -> &mut SecurityContext {
    c.security_context.get_or_insert_default()
}

/// Runs the implementation of `check` in force at `v1.<minor>` (panics if none).
pub fn run(check: &Check, minor: u32, pod: &PodBuilder) -> Option<Forbidden> {
    let imp = check
        .at(minor)
        .unwrap_or_else(|| panic!("{} has no implementation at v1.{minor}", check.id));
    (imp.check)(&pod.view())
}
