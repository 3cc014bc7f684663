//! Evaluation cost of the Pod Security Standards checks.
//!
//! Two pods: the restricted conformance fixture `base.yaml` (compliant at every level and
//! version), built in code, and a pod with several violations. Each is evaluated with
//! `pss::evaluate` (violations and messages) and `pss::allows` (yes/no only) at
//! `restricted:latest` and `baseline:v1.24`.
//!
//! Before measuring, the heap allocations of one call of each kind are counted and printed, and
//! the compliant pod is required to evaluate without allocating.

// A counting global allocator (unsafe by nature) proves compliant pods allocate nothing.
#![allow(unsafe_code, clippy::print_stdout, clippy::print_stderr)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};

use criterion::{Criterion, criterion_group, criterion_main};
use psa_migrate::model::level::{Level, Version};
use psa_migrate::model::pod::{
    Capabilities, Container, ContainerPort, PodSecurityContext, PodSpec, SeccompProfile,
    SecurityContext, Volume, VolumeType,
};
use psa_migrate::pss::{PodView, allows, evaluate};

/// The system allocator, counting allocations.
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Heap allocations (including reallocations) made by `f`.
fn allocations<T>(f: impl FnOnce() -> T) -> usize {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    black_box(f());
    ALLOCATIONS.load(Ordering::Relaxed) - before
}

fn restricted_container(name: &str) -> Container {
    Container {
        name: name.to_owned(),
        security_context: Some(Box::new(SecurityContext {
            allow_privilege_escalation: Some(false),
            capabilities: Some(Capabilities { add: None, drop: Some(vec!["ALL".to_owned()]) }),
            ..SecurityContext::default()
        })),
        ..Container::default()
    }
}

/// The restricted `base.yaml` fixture.
fn compliant() -> PodSpec {
    PodSpec {
        security_context: Some(Box::new(PodSecurityContext {
            run_as_non_root: Some(true),
            seccomp_profile: Some(SeccompProfile {
                type_: "RuntimeDefault".to_owned(),
                localhost_profile: None,
            }),
            ..PodSecurityContext::default()
        })),
        init_containers: vec![restricted_container("initcontainer1")],
        containers: vec![restricted_container("container1")],
        ..PodSpec::default()
    }
}

/// Host network, a privileged container adding NET_RAW with a host port, a hostPath volume, and
/// nothing the restricted level asks for.
fn violating() -> PodSpec {
    let mut app = Container { name: "app".to_owned(), ..Container::default() };
    app.security_context = Some(Box::new(SecurityContext {
        privileged: Some(true),
        capabilities: Some(Capabilities { add: Some(vec!["NET_RAW".to_owned()]), drop: None }),
        ..SecurityContext::default()
    }));
    app.ports = vec![ContainerPort { host_port: Some(8080), ..ContainerPort::default() }];
    PodSpec {
        host_network: Some(true),
        containers: vec![app, Container { name: "sidecar".to_owned(), ..Container::default() }],
        init_containers: vec![Container { name: "init".to_owned(), ..Container::default() }],
        volumes: vec![Volume::new("host", &[VolumeType::HostPath])],
        ..PodSpec::default()
    }
}

fn bench(c: &mut Criterion) {
    let annotations = BTreeMap::new();
    let pods = [("compliant", compliant()), ("violating", violating())];
    let targets = [
        (Level::Restricted, Version::Latest, "restricted:latest"),
        (Level::Baseline, Version::Minor(24), "baseline:v1.24"),
    ];
    // Warm the resolved-check table outside the measurements.
    let _ = evaluate(
        Level::Restricted,
        Version::Latest,
        &PodView { annotations: &annotations, spec: &pods[0].1 },
    );
    for (pod_name, spec) in &pods {
        let view = PodView { annotations: &annotations, spec };
        for (level, version, label) in targets {
            let evaluated = allocations(|| evaluate(level, version, &view));
            let allowed = allocations(|| allows(level, version, &view));
            let violations = evaluate(level, version, &view).len();
            eprintln!(
                "{label}/{pod_name}: {violations} violation(s); allocations: evaluate {evaluated}, \
                 allows {allowed}"
            );
            if violations == 0 {
                assert_eq!(evaluated + allowed, 0, "{label}/{pod_name} allocated");
            }
        }
    }
    let mut group = c.benchmark_group("evaluate");
    for (pod_name, spec) in &pods {
        let view = PodView { annotations: &annotations, spec };
        for (level, version, label) in targets {
            group.bench_function(format!("{label}/{pod_name}"), |b| {
                b.iter(|| evaluate(black_box(level), black_box(version), black_box(&view)))
            });
        }
    }
    group.finish();
    let mut group = c.benchmark_group("allows");
    for (pod_name, spec) in &pods {
        let view = PodView { annotations: &annotations, spec };
        for (level, version, label) in targets {
            group.bench_function(format!("{label}/{pod_name}"), |b| {
                b.iter(|| allows(black_box(level), black_box(version), black_box(&view)))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
