//! How operators turn their resources into pods, for the kinds where the pod is assembled from
//! several places (Argo, Tekton, Spark, KServe) or gains containers the operator adds. Each
//! builder mirrors the operator's own pod construction closely enough for Pod Security: which
//! fields end up in the pod, which containers it runs, and which security contexts they carry.
//!
//! Pure: no I/O.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::{At, Found, container_locations, select, spec_at, template_at};
use crate::model::inventory::Uses;

/// A container an operator adds to every pod it creates, as its default configuration has it.
pub struct Injected {
    pub name: &'static str,
    /// An init container (`false`: a regular container, a sidecar).
    pub init: bool,
    /// The container as the operator writes it (only what Pod Security reads).
    pub container: &'static str,
    /// Where its security context is configured (never in the resource itself).
    pub configured_by: &'static str,
}

impl Injected {
    fn value(&self) -> Value {
        serde_json::from_str(self.container).unwrap_or_else(|_| json!({"name": self.name}))
    }
}

/// Adds injected containers to a found template: init containers before the template's (they
/// run first), other containers after them.
pub fn inject(found: &mut Found, containers: &[&Injected]) {
    for c in containers {
        add_container(found, c.value(), c.init, c.configured_by);
    }
}

/// Adds one container the operator writes (`configured_by`: where its security context is set).
fn add_container(found: &mut Found, container: Value, init: bool, configured_by: &str) {
    let Some(spec) = found.spec.as_object_mut() else { return };
    let name = container.get("name").and_then(Value::as_str).unwrap_or_default().to_owned();
    let list = spec
        .entry(if init { "initContainers" } else { "containers" })
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Some(items) = list.as_array_mut() {
        if items.iter().any(|c| c.get("name").and_then(Value::as_str) == Some(name.as_str())) {
            // A container of that name in the template replaces the operator's.
            return;
        }
        if init { items.insert(0, container) } else { items.push(container) }
    } else {
        *list = Value::Array(vec![container]);
    }
    found.injected.insert(name, configured_by.to_owned());
}

/// Adds a container the operator derives from one of the template's (same image and security
/// context): a fix of that container fixes it too.
fn add_mirror(found: &mut Found, name: &str, init: bool, of: &Value, configured_by: &str) {
    let mut c = json!({"name": name});
    for k in ["image", "securityContext"] {
        if let Some(v) = of.get(k) {
            c[k] = v.clone();
        }
    }
    add_container(found, c, init, configured_by);
    if let Some(src) = of.get("name").and_then(Value::as_str) {
        found.locations.mirrors.insert(name.to_owned(), src.to_owned());
    }
}

/// Pod templates (`metadata` and `spec`) at every path.
pub fn templates(value: &Value, paths: &[&str]) -> Vec<Found> {
    paths
        .iter()
        .flat_map(|p| select(value, p))
        .filter(|(_, v)| v.is_object())
        .map(|(at, v)| template_at(&at, v))
        .collect()
}

fn obj(v: Option<&Value>) -> Map<String, Value> {
    v.and_then(Value::as_object).cloned().unwrap_or_default()
}

fn list(v: Option<&Value>) -> Vec<Value> {
    v.and_then(Value::as_array).cloned().unwrap_or_default()
}

/// A strategic merge of `patch` into `target` as the API machinery applies one to a pod spec:
/// objects merge, container and volume lists merge by `name`, other lists are replaced, `null`
/// deletes.
pub fn strategic_merge(target: &mut Value, patch: &Value) {
    const BY_NAME: [&str; 4] = ["containers", "initContainers", "ephemeralContainers", "volumes"];
    let (Some(t), Some(p)) = (target.as_object_mut(), patch.as_object()) else {
        *target = patch.clone();
        return;
    };
    for (k, pv) in p {
        if pv.is_null() {
            t.remove(k);
            continue;
        }
        match (t.get_mut(k), pv) {
            (Some(Value::Array(items)), Value::Array(patches)) if BY_NAME.contains(&k.as_str()) => {
                for pc in patches {
                    let name = pc.get("name");
                    match items.iter_mut().find(|c| name.is_some() && c.get("name") == name) {
                        Some(c) => strategic_merge(c, pc),
                        None => items.push(pc.clone()),
                    }
                }
            }
            (Some(tv @ Value::Object(_)), Value::Object(_)) => strategic_merge(tv, pv),
            _ => {
                t.insert(k.clone(), pv.clone());
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Kubeflow training operator

/// PyTorchJob workers wait for the master in `init-pytorch` (when the job has a Master).
const INIT_PYTORCH: Injected = Injected {
    name: "init-pytorch",
    init: true,
    container: r#"{"name":"init-pytorch","image":"alpine:3.10"}"#,
    configured_by: "the training operator's --init-container-image and --init-container-template-file \
                    (its default template sets no security context)",
};

/// The v1 MPIJob launcher copies kubectl in `kubectl-delivery`.
const KUBECTL_DELIVERY: Injected = Injected {
    name: "kubectl-delivery",
    init: true,
    container: r#"{"name":"kubectl-delivery","image":"kubeflow/kubectl-delivery:latest"}"#,
    configured_by: "the training operator (no security context can be set)",
};

/// Training operator jobs: `spec.<framework>ReplicaSpecs.<type>.template`, with the init
/// containers the operator adds (PyTorch workers when there is a Master; the v1 MPIJob
/// launcher).
pub fn training_job(value: &Value) -> Vec<Found> {
    const PATHS: [&str; 7] = [
        "spec.pytorchReplicaSpecs.*.template",
        "spec.tfReplicaSpecs.*.template",
        "spec.xgbReplicaSpecs.*.template",
        "spec.paddleReplicaSpecs.*.template",
        "spec.jaxReplicaSpecs.*.template",
        "spec.mxReplicaSpecs.*.template",
        "spec.mpiReplicaSpecs.*.template",
    ];
    let mut found = templates(value, &PATHS);
    let with_master = value
        .pointer("/spec/pytorchReplicaSpecs")
        .and_then(Value::as_object)
        .is_some_and(|m| m.keys().any(|k| k.eq_ignore_ascii_case("master")));
    let v1_mpi = value.get("apiVersion").and_then(Value::as_str) == Some("kubeflow.org/v1");
    for f in &mut found {
        let replica = f.path.rsplit('.').nth(1).unwrap_or_default().to_ascii_lowercase();
        if with_master && f.path.starts_with("spec.pytorchReplicaSpecs.") && replica == "worker" {
            inject(f, &[&INIT_PYTORCH]);
        }
        if v1_mpi && f.path.starts_with("spec.mpiReplicaSpecs.") && replica == "launcher" {
            inject(f, &[&KUBECTL_DELIVERY]);
        }
    }
    found
}

// ---------------------------------------------------------------------------------------------
// KubeRay

/// A Ray cluster spec at `at` (`spec` of a RayCluster, `spec.rayClusterSpec` of a RayJob,
/// `spec.rayClusterConfig` of a RayService): the head and each worker group. KubeRay adds
/// `wait-gcs-ready` to workers (a copy of the Ray container's image and security context) and
/// the `autoscaler` sidecar to the head with in-tree autoscaling (its security context from
/// `autoscalerOptions.securityContext`).
fn ray_cluster_at(cluster: &Value, at: &At) -> Vec<Found> {
    let mut out = Vec::new();
    if let Some(t) = cluster.pointer("/headGroupSpec/template").filter(|t| t.is_object()) {
        let mut f = template_at(&at.key("headGroupSpec").key("template"), t);
        if cluster.get("enableInTreeAutoscaling").and_then(Value::as_bool) == Some(true) {
            let ray = t.pointer("/spec/containers/0").cloned().unwrap_or(Value::Null);
            let options = cluster.get("autoscalerOptions");
            let mut c = json!({"name": "autoscaler"});
            if let Some(image) = options.and_then(|o| o.get("image")).or_else(|| ray.get("image")) {
                c["image"] = image.clone();
            }
            if let Some(sc) = options.and_then(|o| o.get("securityContext")) {
                c["securityContext"] = sc.clone();
            }
            let where_ = format!("{}.autoscalerOptions.securityContext", at.path);
            add_container(&mut f, c, false, &where_);
            if options.is_some_and(Value::is_object) {
                f.locations
                    .containers
                    .insert("autoscaler".into(), at.key("autoscalerOptions").pointer);
            }
        }
        out.push(f);
    }
    for (i, g) in
        cluster.get("workerGroupSpecs").and_then(Value::as_array).into_iter().flatten().enumerate()
    {
        let Some(t) = g.get("template").filter(|t| t.is_object()) else { continue };
        let mut f = template_at(&at.key("workerGroupSpecs").index(i).key("template"), t);
        // A worker group suspended or scaled to zero (replicas, and minReplicas with the
        // autoscaler) runs no pods.
        let zero = |k: &str| g.get(k).and_then(Value::as_i64) == Some(0);
        if g.get("suspend").and_then(Value::as_bool) == Some(true) {
            f.dead = Some("suspended");
        } else if zero("replicas") && (zero("minReplicas") || g.get("minReplicas").is_none()) {
            f.dead = Some("stopped");
        }
        if let Some(ray) = t.pointer("/spec/containers/0") {
            add_mirror(
                &mut f,
                "wait-gcs-ready",
                true,
                ray,
                "KubeRay (a copy of the Ray container's image and security context)",
            );
        }
        out.push(f);
    }
    out
}

/// `RayCluster`.
pub fn ray_cluster(value: &Value) -> Vec<Found> {
    value.get("spec").map(|s| ray_cluster_at(s, &At::root().key("spec"))).unwrap_or_default()
}

/// `RayService`: `spec.rayClusterConfig`.
pub fn ray_service(value: &Value) -> Vec<Found> {
    let at = At::root().key("spec").key("rayClusterConfig");
    value.pointer("/spec/rayClusterConfig").map(|s| ray_cluster_at(s, &at)).unwrap_or_default()
}

/// `RayJob`: its cluster (`spec.rayClusterSpec`) and its submitter: `spec.submitterPodTemplate`,
/// or, in the default `K8sJobMode` without one, KubeRay's own submitter pod (a
/// `ray-job-submitter` container with the head's image and no security context). In
/// `SidecarMode` the submitter runs in the head pod.
pub fn ray_job(value: &Value) -> Vec<Found> {
    let spec = value.get("spec");
    let root = At::root().key("spec");
    let cluster_at = root.key("rayClusterSpec");
    let mut out = spec
        .and_then(|s| s.get("rayClusterSpec"))
        .map(|c| ray_cluster_at(c, &cluster_at))
        .unwrap_or_default();
    let head_image =
        value.pointer("/spec/rayClusterSpec/headGroupSpec/template/spec/containers/0/image");
    let mut submitter = json!({"name": "ray-job-submitter"});
    if let Some(image) = head_image {
        submitter["image"] = image.clone();
    }
    let how = "KubeRay (set spec.submitterPodTemplate to choose the submitter's security context)";
    let mode = spec.and_then(|s| s.get("submissionMode")).and_then(Value::as_str);
    match (mode.unwrap_or("K8sJobMode"), value.pointer("/spec/submitterPodTemplate")) {
        ("K8sJobMode", Some(t)) if t.is_object() => {
            out.push(template_at(&root.key("submitterPodTemplate"), t));
        }
        ("K8sJobMode", _) if spec.is_some_and(|s| s.get("rayClusterSpec").is_some()) => {
            let mut f = Found {
                path: root.key("submitterPodTemplate").path,
                spec: json!({"containers": []}),
                ..Found::default()
            };
            add_container(&mut f, submitter, false, how);
            out.push(f);
        }
        ("SidecarMode", _) => {
            if let Some(head) =
                out.first_mut().filter(|f| f.path.ends_with("headGroupSpec.template"))
            {
                add_container(head, submitter, false, how);
            }
        }
        _ => {}
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Argo Workflows

const ARGO_EXECUTOR: &str = "the executor.securityContext of the workflow-controller-configmap";

/// Argo's executor: `init` copies the executor binary and inputs, `wait` saves outputs.
/// Without `executor.securityContext` in the controller's ConfigMap they carry no security
/// context of their own (only the pod's).
const ARGO_INIT: Injected = Injected {
    name: "init",
    init: true,
    container: r#"{"name":"init","image":"quay.io/argoproj/argoexec:latest"}"#,
    configured_by: ARGO_EXECUTOR,
};
const ARGO_WAIT: Injected = Injected {
    name: "wait",
    init: false,
    container: r#"{"name":"wait","image":"quay.io/argoproj/argoexec:latest"}"#,
    configured_by: ARGO_EXECUTOR,
};

/// Argo `Workflow`, `WorkflowTemplate`, `ClusterWorkflowTemplate`: `spec.templates`.
pub fn argo_workflow(value: &Value) -> Vec<Found> {
    argo_spec(value.get("spec"), &At::root().key("spec"))
}

/// Argo `CronWorkflow`: `spec.workflowSpec.templates`.
pub fn argo_cron_workflow(value: &Value) -> Vec<Found> {
    let at = At::root().key("spec").key("workflowSpec");
    argo_spec(value.pointer("/spec/workflowSpec"), &at)
}

/// The names of the volumes the containers mount.
fn mounted(containers: &[Value]) -> Vec<String> {
    containers
        .iter()
        .flat_map(|c| list(c.get("volumeMounts")))
        .filter_map(|m| m.get("name").and_then(Value::as_str).map(str::to_owned))
        .collect()
}

/// One pod per `container`, `script` and `containerSet` template, as the controller builds it
/// (`workflow/controller/workflowpod.go`): `templateDefaults` merged under the template; the
/// template's `securityContext`, else the workflow's (whole, not merged); the workflow's
/// `hostNetwork`; the template's volumes and the workflow's volumes some container mounts; the
/// executor's `init` and `wait`, the template's init containers and sidecars; then the
/// workflow's and the template's `podSpecPatch` (strategic merge).
fn argo_spec(spec: Option<&Value>, spec_pos: &At) -> Vec<Found> {
    let Some(spec) = spec else { return Vec::new() };
    let defaults = spec.get("templateDefaults").cloned().unwrap_or(Value::Object(Map::new()));
    let mut out = Vec::new();
    for (i, raw) in list(spec.get("templates")).iter().enumerate() {
        let at = spec_pos.key("templates").index(i);
        let mut tmpl = defaults.clone();
        strategic_merge(&mut tmpl, raw);
        let mut main: Vec<(Value, String)> = Vec::new();
        for key in ["container", "script"] {
            if let Some(c) = tmpl.get(key).filter(|c| c.is_object()) {
                let mut c = c.clone();
                if let Some(m) = c.as_object_mut() {
                    m.remove("source");
                }
                c["name"] = json!("main");
                main.push((c, at.key(key).pointer));
            }
        }
        if let Some(set) = tmpl.get("containerSet") {
            let shared = list(set.get("volumeMounts"));
            for (j, mut c) in list(set.get("containers")).into_iter().enumerate() {
                if !shared.is_empty() {
                    let mut mounts = list(c.get("volumeMounts"));
                    mounts.extend(shared.iter().cloned());
                    c["volumeMounts"] = Value::Array(mounts);
                }
                main.push((c, at.key("containerSet").key("containers").index(j).pointer));
            }
        }
        if main.is_empty() {
            continue;
        }
        let mut pod = Map::new();
        let own_sc = tmpl.get("securityContext").filter(|v| !v.is_null());
        if let Some(sc) = own_sc.or_else(|| spec.get("securityContext")) {
            pod.insert("securityContext".into(), sc.clone());
        }
        if let Some(h) = spec.get("hostNetwork") {
            pod.insert("hostNetwork".into(), h.clone());
        }
        if let Some(sa) = tmpl.get("serviceAccountName").or_else(|| spec.get("serviceAccountName"))
        {
            pod.insert("serviceAccountName".into(), sa.clone());
        }
        let mut locations = crate::model::inventory::Locations {
            pod_security_context: Some(if raw.get("securityContext").is_some() {
                at.key("securityContext").pointer
            } else {
                spec_pos.key("securityContext").pointer
            }),
            ..Default::default()
        };
        let inits = list(tmpl.get("initContainers"));
        for (j, c) in inits.iter().enumerate() {
            if let Some(n) = c.get("name").and_then(Value::as_str) {
                locations.containers.insert(n.into(), at.key("initContainers").index(j).pointer);
            }
        }
        let mut containers = Vec::new();
        for (c, ptr) in main {
            if let Some(n) = c.get("name").and_then(Value::as_str) {
                locations.containers.insert(n.into(), ptr);
            }
            containers.push(c);
        }
        for (j, c) in list(tmpl.get("sidecars")).into_iter().enumerate() {
            if let Some(n) = c.get("name").and_then(Value::as_str) {
                locations.containers.insert(n.into(), at.key("sidecars").index(j).pointer);
            }
            containers.push(c);
        }
        let mut all = inits.clone();
        all.extend(containers.iter().cloned());
        let used = mounted(&all);
        let mut volumes = list(tmpl.get("volumes"));
        for v in list(spec.get("volumes")) {
            let name = v.get("name").and_then(Value::as_str).unwrap_or_default();
            let present = volumes.iter().any(|x| x.get("name") == v.get("name"));
            if used.iter().any(|u| u == name) && !present {
                volumes.push(v);
            }
        }
        if !volumes.is_empty() {
            pod.insert("volumes".into(), Value::Array(volumes));
        }
        pod.insert("initContainers".into(), Value::Array(inits));
        pod.insert("containers".into(), Value::Array(containers));
        locations.annotations = Some(super::metadata_annotations(&at, raw));
        let mut found = Found {
            path: at.path.clone(),
            annotations: tmpl.get("metadata").and_then(|m| m.get("annotations")).cloned(),
            spec: Value::Object(pod),
            injected: BTreeMap::new(),
            locations,
            uses: None,
            dead: None,
        };
        inject(&mut found, &[&ARGO_INIT, &ARGO_WAIT]);
        for patch in [spec.get("podSpecPatch"), tmpl.get("podSpecPatch")].into_iter().flatten() {
            if let Some(p) = patch.as_str().and_then(parse_patch) {
                strategic_merge(&mut found.spec, &p);
            }
        }
        out.push(found);
    }
    out
}

/// A `podSpecPatch`: JSON or YAML text.
fn parse_patch(text: &str) -> Option<Value> {
    serde_json::from_str(text).ok().or_else(|| serde_saphyr::from_str(text).ok())
}

// ---------------------------------------------------------------------------------------------
// Tekton Pipelines

const TEKTON_FLAG: &str = "the set-security-context flag of the feature-flags ConfigMap (false by \
                           default; true gives Tekton's containers a restricted security context)";

/// `prepare` copies the entrypoint binary into every step.
const TEKTON_PREPARE: Injected = Injected {
    name: "prepare",
    init: true,
    container: r#"{"name":"prepare","image":"ghcr.io/tektoncd/pipeline/entrypoint"}"#,
    configured_by: TEKTON_FLAG,
};
/// `place-scripts` writes the steps' and sidecars' `script`s to files.
const TEKTON_PLACE_SCRIPTS: Injected = Injected {
    name: "place-scripts",
    init: true,
    container: r#"{"name":"place-scripts","image":"cgr.dev/chainguard/busybox"}"#,
    configured_by: TEKTON_FLAG,
};
/// `working-dir-initializer` creates relative working directories.
const TEKTON_WORKING_DIR: Injected = Injected {
    name: "working-dir-initializer",
    init: true,
    container: r#"{"name":"working-dir-initializer","image":"ghcr.io/tektoncd/pipeline/workingdirinit"}"#,
    configured_by: TEKTON_FLAG,
};

/// Tekton `Task`, `ClusterTask`: the task's pod from `spec`.
pub fn tekton_task(value: &Value) -> Vec<Found> {
    let at = At::root().key("spec");
    tekton_pod(value.get("spec"), &at, None).into_iter().collect()
}

/// Tekton `TaskRun`: `spec.taskSpec`, with `spec.podTemplate`.
pub fn tekton_task_run(value: &Value) -> Vec<Found> {
    let at = At::root().key("spec");
    let template = value.pointer("/spec/podTemplate").map(|t| (t, at.key("podTemplate")));
    tekton_pod(value.pointer("/spec/taskSpec"), &at.key("taskSpec"), template).into_iter().collect()
}

/// Tekton `PipelineRun`: each inline `taskSpec` of `spec.pipelineSpec.tasks` and `finally`, with
/// the pod template that applies to it: the task's own in `spec.taskRunSpecs`
/// (`podTemplate`; `taskPodTemplate` in v1beta1), else the run's
/// (`spec.taskRunTemplate.podTemplate`; `spec.podTemplate` in v1beta1).
pub fn tekton_pipeline_run(value: &Value) -> Vec<Found> {
    let root = At::root().key("spec");
    let run_template = match value.pointer("/spec/taskRunTemplate/podTemplate") {
        Some(t) => Some((t, root.key("taskRunTemplate").key("podTemplate"))),
        None => value.pointer("/spec/podTemplate").map(|t| (t, root.key("podTemplate"))),
    };
    let per_task = |task: &str| {
        let specs = list(value.pointer("/spec/taskRunSpecs"));
        let i = specs
            .iter()
            .position(|s| s.get("pipelineTaskName").and_then(Value::as_str) == Some(task))?;
        let at = root.key("taskRunSpecs").index(i);
        ["podTemplate", "taskPodTemplate"]
            .into_iter()
            .find_map(|k| value.pointer(&format!("{}/{k}", at.pointer)).map(|t| (t, at.key(k))))
    };
    let mut out = Vec::new();
    for list_key in ["tasks", "finally"] {
        let pattern = format!("spec.pipelineSpec.{list_key}[]");
        for (at, task) in select(value, &pattern) {
            let Some(spec) = task.get("taskSpec") else { continue };
            let name = task.get("name").and_then(Value::as_str).unwrap_or_default();
            let template = per_task(name).or_else(|| run_template.clone());
            out.extend(tekton_pod(Some(spec), &at.key("taskSpec"), template));
        }
    }
    out
}

/// The pod Tekton builds for a task (`pkg/pod/pod.go`): `step-<name>` containers (the step
/// template strategic-merged under each step), `sidecar-<name>` containers, the task's
/// volumes, the pod template's pod fields, and Tekton's init containers.
fn tekton_pod(
    task: Option<&Value>,
    task_at: &At,
    pod_template: Option<(&Value, At)>,
) -> Option<Found> {
    let task = task?;
    let steps = list(task.get("steps"));
    if steps.is_empty() {
        return None;
    }
    let step_template = task.get("stepTemplate").cloned().unwrap_or(Value::Object(Map::new()));
    let mut locations = crate::model::inventory::Locations {
        pod_security_context: pod_template.as_ref().map(|(_, a)| a.key("securityContext").pointer),
        ..Default::default()
    };
    let mut containers = Vec::new();
    let mut scripts = false;
    let mut relative_dir = false;
    for (i, s) in steps.iter().enumerate() {
        let mut c = step_template.clone();
        strategic_merge(&mut c, s);
        scripts |= s.get("script").is_some();
        relative_dir |= c
            .get("workingDir")
            .and_then(Value::as_str)
            .is_some_and(|d| !d.starts_with('/') || d.starts_with("/workspace"));
        if let Some(m) = c.as_object_mut() {
            m.remove("script");
        }
        let name = match s.get("name").and_then(Value::as_str) {
            Some(n) => format!("step-{n}"),
            None => format!("step-unnamed-{i}"),
        };
        c["name"] = json!(name);
        locations.containers.insert(name, task_at.key("steps").index(i).pointer);
        containers.push(c);
    }
    for (i, s) in list(task.get("sidecars")).into_iter().enumerate() {
        let mut c = s.clone();
        scripts |= s.get("script").is_some();
        let name = format!("sidecar-{}", s.get("name").and_then(Value::as_str).unwrap_or(""));
        c["name"] = json!(name);
        locations.containers.insert(name, task_at.key("sidecars").index(i).pointer);
        containers.push(c);
    }
    let mut pod = obj(pod_template.as_ref().map(|(t, _)| *t));
    pod.retain(|k, _| {
        matches!(
            k.as_str(),
            "securityContext" | "hostNetwork" | "volumes" | "runtimeClassName" | "hostUsers"
        )
    });
    let mut volumes = list(task.get("volumes"));
    volumes.extend(list(pod.get("volumes")));
    pod.insert("volumes".into(), Value::Array(volumes));
    pod.insert("containers".into(), Value::Array(containers));
    let mut found = Found {
        path: task_at.path.clone(),
        annotations: None,
        spec: Value::Object(pod),
        injected: BTreeMap::new(),
        locations,
        uses: None,
        dead: None,
    };
    // Inserted in reverse: each goes first.
    if relative_dir {
        inject(&mut found, &[&TEKTON_WORKING_DIR]);
    }
    if scripts {
        inject(&mut found, &[&TEKTON_PLACE_SCRIPTS]);
    }
    inject(&mut found, &[&TEKTON_PREPARE]);
    Some(found)
}

// ---------------------------------------------------------------------------------------------
// Spark

/// `SparkApplication`: the driver and executor pods from `spec.driver` and `spec.executor`.
pub fn spark_application(value: &Value) -> Vec<Found> {
    spark_pods(value.get("spec"), &At::root().key("spec"))
}

/// `ScheduledSparkApplication`: the same under `spec.template`.
pub fn scheduled_spark_application(value: &Value) -> Vec<Found> {
    let at = At::root().key("spec").key("template");
    spark_pods(value.pointer("/spec/template"), &at)
}

/// A Spark pod: the role's pod `template` (spark-submit's pod template file) when it has one,
/// then the typed `SparkPodSpec` fields the operator's webhook writes: `podSecurityContext`,
/// `hostNetwork`, `securityContext` of the Spark container, its `volumeMounts`, the
/// application's volumes, `initContainers` and `sidecars`.
fn spark_pods(spec: Option<&Value>, at: &At) -> Vec<Found> {
    let Some(spec) = spec else { return Vec::new() };
    let mut out = Vec::new();
    for (role, main_name) in
        [("driver", "spark-kubernetes-driver"), ("executor", "spark-kubernetes-executor")]
    {
        let Some(r) = spec.get(role).filter(|r| r.is_object()) else { continue };
        let role_at = at.key(role);
        let template = r.get("template").filter(|t| t.is_object());
        let mut pod = obj(template.and_then(|t| t.get("spec")));
        let mut locations = crate::model::inventory::Locations {
            pod_security_context: Some(role_at.key("podSecurityContext").pointer),
            ..Default::default()
        };
        if let Some(t) = template {
            container_locations(
                t.get("spec").unwrap_or(&Value::Null),
                &role_at.key("template").key("spec"),
                &mut locations.containers,
            );
        }
        let mut containers = list(pod.get("containers"));
        let index = containers
            .iter()
            .position(|c| {
                matches!(c.get("name").and_then(Value::as_str), Some(n) if n == main_name || n == "executor")
            })
            .unwrap_or(0);
        if containers.is_empty() {
            containers.push(json!({"name": main_name}));
        }
        let main = &mut containers[index];
        if main.get("name").is_none() {
            main["name"] = json!(main_name);
        }
        for k in ["securityContext", "volumeMounts", "image"] {
            if let Some(v) = r.get(k).or_else(|| (k == "image").then(|| spec.get(k)).flatten()) {
                main[k] = v.clone();
            }
        }
        let main_name = main["name"].as_str().unwrap_or(main_name).to_owned();
        // The typed field is where a fix goes (it wins over the template's).
        locations.containers.insert(main_name, role_at.pointer.clone());
        for (i, c) in list(r.get("sidecars")).into_iter().enumerate() {
            if let Some(n) = c.get("name").and_then(Value::as_str) {
                locations.containers.insert(n.into(), role_at.key("sidecars").index(i).pointer);
            }
            containers.push(c);
        }
        let mut inits = list(pod.get("initContainers"));
        for (i, c) in list(r.get("initContainers")).into_iter().enumerate() {
            if let Some(n) = c.get("name").and_then(Value::as_str) {
                locations
                    .containers
                    .insert(n.into(), role_at.key("initContainers").index(i).pointer);
            }
            inits.push(c);
        }
        if let Some(sc) = r.get("podSecurityContext") {
            pod.insert("securityContext".into(), sc.clone());
        }
        if let Some(h) = r.get("hostNetwork") {
            pod.insert("hostNetwork".into(), h.clone());
        }
        let mut volumes = list(pod.get("volumes"));
        volumes.extend(list(spec.get("volumes")));
        pod.insert("volumes".into(), Value::Array(volumes));
        pod.insert("initContainers".into(), Value::Array(inits));
        pod.insert("containers".into(), Value::Array(containers));
        locations.annotations = Some(super::annotations_field(&role_at, r));
        out.push(Found {
            path: role_at.path.clone(),
            annotations: r.get("annotations").cloned(),
            spec: Value::Object(pod),
            injected: BTreeMap::new(),
            locations,
            uses: None,
            dead: None,
        });
    }
    out
}

// ---------------------------------------------------------------------------------------------
// KServe and Knative

/// Knative's `queue-proxy`, added after the containers of every revision's pods, with a
/// restricted security context (Knative 1.12 and later; 1.9 to 1.11 leave out the seccomp
/// profile).
const KNATIVE_QUEUE_PROXY: Injected = Injected {
    name: "queue-proxy",
    init: false,
    container: r#"{"name":"queue-proxy","image":"gcr.io/knative-releases/knative.dev/serving/cmd/queue","securityContext":{"allowPrivilegeEscalation":false,"readOnlyRootFilesystem":true,"runAsNonRoot":true,"capabilities":{"drop":["ALL"]},"seccompProfile":{"type":"RuntimeDefault"}}}"#,
    configured_by: "Knative Serving (fixed by Knative)",
};

/// KServe's `storage-initializer` downloads the model before the server starts; the default
/// storage container sets no security context (KServe 0.14 and later).
const KSERVE_STORAGE_INITIALIZER: Injected = Injected {
    name: "storage-initializer",
    init: true,
    container: r#"{"name":"storage-initializer","image":"kserve/storage-initializer:latest"}"#,
    configured_by: "the ClusterStorageContainer's spec.container.securityContext",
};

/// The framework fields of a KServe predictor (the defaulting webhook rewrites them into
/// `model`); each becomes `kserve-container`.
const KSERVE_MODEL_KEYS: [&str; 12] = [
    "model",
    "sklearn",
    "xgboost",
    "tensorflow",
    "pytorch",
    "triton",
    "onnx",
    "pmml",
    "lightgbm",
    "paddle",
    "huggingface",
    "art",
];

/// Knative `Service` and `Configuration`: `spec.template`, plus the queue proxy.
pub fn knative(value: &Value) -> Vec<Found> {
    let mut found = templates(value, &["spec.template"]);
    for f in &mut found {
        inject(f, &[&KNATIVE_QUEUE_PROXY]);
    }
    found
}

/// KServe `InferenceService`: one pod per component (predictor, transformer, explainer), as the
/// controller builds it. The component holds pod-spec fields inline; its model spec becomes
/// `kserve-container` (merged over the serving runtime's `kserve-container` once the runtime
/// is known: [`super::resolve`]); the pod webhook adds the storage initializer for a
/// `storageUri` and the agent (a copy of the first container's security context) for a
/// logger or batcher; Knative adds the queue proxy in Knative (Serverless) mode, the default.
/// ModelMesh predictors are made by another controller and are not read.
pub fn inference_service(value: &Value) -> Vec<Found> {
    let mode = value
        .pointer("/status/deploymentMode")
        .or_else(|| value.pointer("/metadata/annotations/serving.kserve.io~1deploymentMode"))
        .and_then(Value::as_str)
        .unwrap_or("Knative");
    let knative = matches!(mode, "Knative" | "Serverless");
    let mut out = Vec::new();
    for component in ["predictor", "transformer", "explainer"] {
        if component == "predictor" && mode == "ModelMesh" {
            continue;
        }
        let Some(c) = value.pointer(&format!("/spec/{component}")).filter(|c| c.is_object()) else {
            continue;
        };
        let at = At::root().key("spec").key(component);
        let mut pod = obj(Some(c));
        let mut model = None;
        for k in KSERVE_MODEL_KEYS {
            if let Some(m) = pod.remove(k) {
                model = model.or(Some((k, m)));
            }
        }
        pod.retain(|k, _| {
            matches!(
                k.as_str(),
                "containers"
                    | "initContainers"
                    | "ephemeralContainers"
                    | "volumes"
                    | "securityContext"
                    | "hostNetwork"
                    | "hostPID"
                    | "hostIPC"
                    | "hostUsers"
                    | "os"
                    | "runtimeClassName"
                    | "serviceAccountName"
                    | "serviceAccount"
            )
        });
        let mut containers = list(pod.get("containers"));
        let oci =
            |v: Option<&Value>| v.and_then(Value::as_str).is_some_and(|u| u.starts_with("oci://"));
        let uri =
            c.get("storageUri").or_else(|| model.as_ref().and_then(|(_, m)| m.get("storageUri")));
        let storage = (uri.is_some() && !oci(uri)) || c.get("storageUris").is_some();
        if let Some((_, m)) = &model {
            let mut main = m.clone();
            if let Some(o) = main.as_object_mut() {
                o.retain(|k, _| {
                    matches!(k.as_str(), "image" | "securityContext" | "volumeMounts" | "ports")
                });
            }
            main["name"] = json!("kserve-container");
            containers.insert(0, main);
        } else if let Some(first) = containers.first_mut()
            && (containers_len_is_one(c) || first.get("name").is_none())
        {
            first["name"] = json!("kserve-container");
        }
        pod.insert("containers".into(), Value::Array(containers));
        let spec = Value::Object(pod);
        let mut found = spec_at(&at, &spec, true);
        if let Some((k, m)) = &model {
            found.locations.containers.insert("kserve-container".into(), at.key(k).pointer);
            found.uses = Some(serving_runtime_of(value, m));
        }
        found.annotations = c.get("annotations").cloned();
        found.locations.annotations = Some(super::annotations_field(&at, c));
        if storage {
            inject(&mut found, &[&KSERVE_STORAGE_INITIALIZER]);
        }
        if c.get("logger").is_some() || c.get("batcher").is_some() {
            let first = found.spec.pointer("/containers/0").cloned().unwrap_or(Value::Null);
            add_mirror(
                &mut found,
                "agent",
                false,
                &first,
                "KServe (a copy of the first container's security context)",
            );
        }
        if knative {
            inject(&mut found, &[&KNATIVE_QUEUE_PROXY]);
        }
        out.push(found);
    }
    out
}

/// The serving runtime a predictor's model uses: the one it names (namespaced first), else the
/// one KServe chose (`status`), else none known (chosen by model format at admission).
fn serving_runtime_of(isvc: &Value, model: &Value) -> Uses {
    let what = "the serving runtime's model server container";
    let status = |k: &str| isvc.pointer(&format!("/status/{k}")).and_then(Value::as_str);
    let (kinds, name) = match (
        model.get("runtime").and_then(Value::as_str),
        status("servingRuntimeName"),
        status("clusterServingRuntimeName"),
    ) {
        (Some(n), _, _) => (vec!["ServingRuntime", "ClusterServingRuntime"], n),
        (None, Some(n), _) => (vec!["ServingRuntime"], n),
        (None, None, Some(n)) => (vec!["ClusterServingRuntime"], n),
        _ => (Vec::new(), ""),
    };
    Uses { kinds, name: name.to_owned(), what }
}

fn containers_len_is_one(component: &Value) -> bool {
    component.get("containers").and_then(Value::as_array).is_some_and(|c| c.len() == 1)
}

/// KServe `ServingRuntime` and `ClusterServingRuntime`: `spec` holds the containers and
/// volumes (no pod security context of its own).
pub fn serving_runtime(value: &Value) -> Vec<Found> {
    let at = At::root().key("spec");
    match value.get("spec").filter(|s| s.get("containers").is_some()) {
        Some(spec) => {
            let mut pod = Map::new();
            for k in ["containers", "volumes"] {
                if let Some(v) = spec.get(k) {
                    pod.insert(k.into(), v.clone());
                }
            }
            vec![spec_at(&at, &Value::Object(pod), false)]
        }
        None => Vec::new(),
    }
}
