//! The registry: one entry per custom resource kind that carries pod templates, with the API
//! versions it covers, where the templates are, how the operator turns them into pods, what it
//! adds, when the resource is live, and the upstream source the paths were checked against.
//!
//! Pure: no I/O.

use serde_json::Value;

use super::Found;
use super::build::{self, templates};

/// One kind of custom resource.
pub struct Entry {
    pub group: &'static str,
    pub kind: &'static str,
    /// The resource name (plural) the API serves it under.
    pub plural: &'static str,
    /// The API versions (`group/version`) whose shape the paths describe, preferred first.
    pub api_versions: &'static [&'static str],
    pub namespaced: bool,
    /// The paths of its pod templates (or of the fields that become a pod spec).
    pub paths: &'static [&'static str],
    /// Reads the templates.
    pub templates: fn(&Value) -> Vec<Found>,
    /// How the operator turns them into pods.
    pub pods: &'static str,
    /// When the resource is live (runs pods now or will create them).
    pub live: &'static str,
    /// Why the resource runs no pods (`None`: it is live).
    pub dead: fn(&Value) -> Option<&'static str>,
    /// The upstream API types the paths were checked against.
    pub source: &'static str,
}

fn flag(v: &Value, pointer: &str) -> bool {
    v.pointer(pointer).and_then(Value::as_bool) == Some(true)
}

fn condition(v: &Value, types: &[&str]) -> bool {
    v.pointer("/status/conditions").and_then(Value::as_array).into_iter().flatten().any(|c| {
        c.get("type").and_then(Value::as_str).is_some_and(|t| types.contains(&t))
            && c.get("status").and_then(Value::as_str) == Some("True")
    })
}

fn text<'v>(v: &'v Value, pointer: &str) -> Option<&'v str> {
    v.pointer(pointer).and_then(Value::as_str)
}

fn always(_: &Value) -> Option<&'static str> {
    None
}

fn template_only(_: &Value) -> Option<&'static str> {
    Some("template only")
}

/// Suspended by the flag at `suspend`, or finished by one of the `done` conditions.
fn suspended_or_done(v: &Value, suspend: &str, done: &[&str]) -> Option<&'static str> {
    if flag(v, suspend) {
        Some("suspended")
    } else if condition(v, done) {
        Some("finished")
    } else {
        None
    }
}

/// Kubeflow training jobs and MPIJob: `spec.runPolicy.suspend`; `Succeeded`/`Failed`.
fn training_job(v: &Value) -> Option<&'static str> {
    suspended_or_done(v, "/spec/runPolicy/suspend", &["Succeeded", "Failed"])
}

/// Trainer v2 `TrainJob`: `spec.suspend`; `Complete`/`Failed`.
fn train_job(v: &Value) -> Option<&'static str> {
    suspended_or_done(v, "/spec/suspend", &["Complete", "Failed"])
}

/// Kubeflow `Notebook`: the `kubeflow-resource-stopped` annotation scales it to zero.
fn notebook(v: &Value) -> Option<&'static str> {
    v.pointer("/metadata/annotations/kubeflow-resource-stopped").map(|_| "stopped")
}

/// `JobSet`: `spec.suspend`; `Completed`/`Failed`.
fn jobset(v: &Value) -> Option<&'static str> {
    suspended_or_done(v, "/spec/suspend", &["Completed", "Failed"])
}

/// `LeaderWorkerSet`: `spec.replicas: 0`.
fn leader_worker_set(v: &Value) -> Option<&'static str> {
    (v.pointer("/spec/replicas").and_then(Value::as_i64) == Some(0)).then_some("stopped")
}

/// `RayCluster`: `spec.suspend`.
fn ray_cluster(v: &Value) -> Option<&'static str> {
    flag(v, "/spec/suspend").then_some("suspended")
}

/// `RayJob`: `spec.suspend`; a job that reached `Complete` or `Failed` runs nothing more once
/// its cluster is shut down (`shutdownAfterJobFinishes`).
fn ray_job(v: &Value) -> Option<&'static str> {
    if flag(v, "/spec/suspend") {
        Some("suspended")
    } else if matches!(text(v, "/status/jobDeploymentStatus"), Some("Complete" | "Failed"))
        && flag(v, "/spec/shutdownAfterJobFinishes")
    {
        Some("finished")
    } else {
        None
    }
}

/// Volcano `Job`: a terminal `status.state.phase` (an `Aborted` job can be resumed).
fn volcano_job(v: &Value) -> Option<&'static str> {
    matches!(text(v, "/status/state/phase"), Some("Completed" | "Failed" | "Terminated"))
        .then_some("finished")
}

/// `SparkApplication`: `spec.suspend` (operator 2.4 and later); `status.applicationState.state`
/// `COMPLETED` or `FAILED`.
fn spark_application(v: &Value) -> Option<&'static str> {
    if flag(v, "/spec/suspend") {
        Some("suspended")
    } else if matches!(text(v, "/status/applicationState/state"), Some("COMPLETED" | "FAILED")) {
        Some("finished")
    } else {
        None
    }
}

/// `spec.suspend` (`ScheduledSparkApplication`, `CronWorkflow`).
fn suspend(v: &Value) -> Option<&'static str> {
    flag(v, "/spec/suspend").then_some("suspended")
}

/// Argo `Workflow`: a terminal `status.phase` (a suspended or stopping workflow still runs
/// pods when it resumes or cleans up).
fn argo_workflow(v: &Value) -> Option<&'static str> {
    matches!(text(v, "/status/phase"), Some("Succeeded" | "Failed" | "Error")).then_some("finished")
}

/// Argo `CronWorkflow`: `spec.suspend`, or stopped (`status.phase: Stopped`).
fn cron_workflow(v: &Value) -> Option<&'static str> {
    if flag(v, "/spec/suspend") {
        Some("suspended")
    } else if text(v, "/status/phase") == Some("Stopped") {
        Some("stopped")
    } else {
        None
    }
}

/// Tekton `TaskRun`/`PipelineRun`: the `Succeeded` condition is `True` or `False` (a cancel
/// request or a pending run still runs pods until then).
fn tekton_run(v: &Value) -> Option<&'static str> {
    let done =
        v.pointer("/status/conditions").and_then(Value::as_array).into_iter().flatten().any(|c| {
            c.get("type").and_then(Value::as_str) == Some("Succeeded")
                && matches!(c.get("status").and_then(Value::as_str), Some("True" | "False"))
        });
    done.then_some("finished")
}

/// KServe `InferenceService`: the `serving.kserve.io/stop` annotation (`true`, any case)
/// deletes its workloads.
fn inference_service(v: &Value) -> Option<&'static str> {
    text(v, "/metadata/annotations/serving.kserve.io~1stop")
        .is_some_and(|s| s.eq_ignore_ascii_case("true"))
        .then_some("stopped")
}

/// KServe `ServingRuntime`: a template for the inference services that use it.
fn serving_runtime(v: &Value) -> Option<&'static str> {
    if flag(v, "/spec/disabled") { Some("disabled") } else { Some("template only") }
}

fn notebook_templates(v: &Value) -> Vec<Found> {
    templates(v, &["spec.template"])
}

fn jobset_templates(v: &Value) -> Vec<Found> {
    templates(v, &["spec.replicatedJobs[].template.spec.template"])
}

fn training_runtime_templates(v: &Value) -> Vec<Found> {
    templates(v, &["spec.template.spec.replicatedJobs[].template.spec.template"])
}

fn lws_templates(v: &Value) -> Vec<Found> {
    templates(
        v,
        &["spec.leaderWorkerTemplate.leaderTemplate", "spec.leaderWorkerTemplate.workerTemplate"],
    )
}

fn volcano_templates(v: &Value) -> Vec<Found> {
    templates(v, &["spec.tasks[].template"])
}

/// Trainer v2 `TrainJob`: its pods are the pod templates of the runtime it names
/// (`spec.runtimeRef`, a ClusterTrainingRuntime unless its kind says otherwise), filled in by
/// [`super::resolve`]; the pod parts it adds itself (`spec.runtimePatches` from trainer 2.2,
/// `spec.podTemplateOverrides` in 2.1) are judged as pods of their own.
fn train_job_templates(v: &Value) -> Vec<Found> {
    let mut out = build::templates(
        v,
        &[
            "spec.runtimePatches[].trainingRuntimeSpec.template.spec.replicatedJobs[].template.spec.template",
        ],
    );
    out.extend(
        super::select(v, "spec.podTemplateOverrides[].spec")
            .into_iter()
            .filter(|(_, s)| s.is_object())
            .map(|(at, s)| super::spec_at(&at, s, true)),
    );
    if let Some(name) = v.pointer("/spec/runtimeRef/name").and_then(Value::as_str) {
        let kind = match v.pointer("/spec/runtimeRef/kind").and_then(Value::as_str) {
            Some("TrainingRuntime") => "TrainingRuntime",
            _ => "ClusterTrainingRuntime",
        };
        out.push(Found {
            path: "spec.runtimeRef".into(),
            spec: Value::Object(Default::default()),
            uses: Some(crate::model::inventory::Uses {
                kinds: vec![kind],
                name: name.to_owned(),
                what: "its pod templates",
            }),
            ..Found::default()
        });
    }
    out
}

/// Every kind the tool reads pod templates from, sorted by group and kind.
pub static REGISTRY: &[Entry] = &[
    Entry {
        group: "argoproj.io",
        kind: "ClusterWorkflowTemplate",
        plural: "clusterworkflowtemplates",
        api_versions: &["argoproj.io/v1alpha1"],
        namespaced: false,
        paths: &["spec.templates[]"],
        templates: build::argo_workflow,
        pods: "a template for workflows: one pod per container, script or containerSet \
               template, as for a Workflow",
        live: "never by itself (a template)",
        dead: template_only,
        source: "argoproj/argo-workflows pkg/apis/workflow/v1alpha1/cluster_workflow_template_types.go@f016ad89eb269d282aec06dc491c29f396a38df4",
    },
    Entry {
        group: "argoproj.io",
        kind: "CronWorkflow",
        plural: "cronworkflows",
        api_versions: &["argoproj.io/v1alpha1"],
        namespaced: true,
        paths: &["spec.workflowSpec.templates[]"],
        templates: build::argo_cron_workflow,
        pods: "creates a Workflow from spec.workflowSpec on each schedule",
        live: "unless spec.suspend or status.phase is Stopped",
        dead: cron_workflow,
        source: "argoproj/argo-workflows pkg/apis/workflow/v1alpha1/cron_workflow_types.go@f016ad89eb269d282aec06dc491c29f396a38df4",
    },
    Entry {
        group: "argoproj.io",
        kind: "Workflow",
        plural: "workflows",
        api_versions: &["argoproj.io/v1alpha1"],
        namespaced: true,
        paths: &["spec.templates[]"],
        templates: build::argo_workflow,
        pods: "one pod per container, script or containerSet template: the workflow's and the \
               template's pod fields, main container(s), the executor's init and wait \
               containers, then podSpecPatch (workflow/controller/workflowpod.go)",
        live: "until status.phase is Succeeded, Failed or Error",
        dead: argo_workflow,
        source: "argoproj/argo-workflows pkg/apis/workflow/v1alpha1/workflow_types.go@f016ad89eb269d282aec06dc491c29f396a38df4, workflow/controller/workflowpod.go@f016ad89eb269d282aec06dc491c29f396a38df4",
    },
    Entry {
        group: "argoproj.io",
        kind: "WorkflowTemplate",
        plural: "workflowtemplates",
        api_versions: &["argoproj.io/v1alpha1"],
        namespaced: true,
        paths: &["spec.templates[]"],
        templates: build::argo_workflow,
        pods: "a template for workflows: one pod per container, script or containerSet \
               template, as for a Workflow",
        live: "never by itself (a template)",
        dead: template_only,
        source: "argoproj/argo-workflows pkg/apis/workflow/v1alpha1/workflow_template_types.go@f016ad89eb269d282aec06dc491c29f396a38df4",
    },
    Entry {
        group: "batch.volcano.sh",
        kind: "Job",
        plural: "jobs",
        api_versions: &["batch.volcano.sh/v1alpha1"],
        namespaced: true,
        paths: &["spec.tasks[].template"],
        templates: volcano_templates,
        pods: "the Volcano job controller creates spec.tasks[].replicas pods from each task's \
               template",
        live: "until status.state.phase is Completed, Failed or Terminated",
        dead: volcano_job,
        source: "volcano-sh/apis pkg/apis/batch/v1alpha1/job.go@536f121f53656c6fb7a07b9775b7e0f22c3dc2d9",
    },
    Entry {
        group: "jobset.x-k8s.io",
        kind: "JobSet",
        plural: "jobsets",
        api_versions: &["jobset.x-k8s.io/v1alpha2"],
        namespaced: true,
        paths: &["spec.replicatedJobs[].template.spec.template"],
        templates: jobset_templates,
        pods: "creates replicatedJobs[].replicas Jobs from each Job template; the Job \
               controller creates the pods",
        live: "unless spec.suspend; until the Completed or Failed condition",
        dead: jobset,
        source: "kubernetes-sigs/jobset api/jobset/v1alpha2/jobset_types.go@08dfbdfd682714a9ab929633eca8dc95315187e7",
    },
    Entry {
        group: "kubeflow.org",
        kind: "JAXJob",
        plural: "jaxjobs",
        api_versions: &["kubeflow.org/v1"],
        namespaced: true,
        paths: &["spec.jaxReplicaSpecs.*.template"],
        templates: build::training_job,
        pods: "the training operator creates replicas pods per replica type from its template",
        live: "unless spec.runPolicy.suspend; until the Succeeded or Failed condition",
        dead: training_job,
        source: "kubeflow/trainer (formerly kubeflow/training-operator) pkg/apis/kubeflow.org/v1/jax_types.go@4445c12aa62e4345b0c2c6ac9b215a70eca46ed7",
    },
    Entry {
        group: "kubeflow.org",
        kind: "MPIJob",
        plural: "mpijobs",
        api_versions: &["kubeflow.org/v2beta1", "kubeflow.org/v1"],
        namespaced: true,
        paths: &["spec.mpiReplicaSpecs.*.template"],
        templates: build::training_job,
        pods: "the MPI operator creates the Launcher (a Job) and the Worker pods from their \
               templates",
        live: "unless spec.runPolicy.suspend; until the Succeeded or Failed condition",
        dead: training_job,
        source: "kubeflow/mpi-operator pkg/apis/kubeflow/v2beta1/types.go@caa3c47fc42eb762635f78045ec0fcd1a89eb038; v1: kubeflow/trainer pkg/apis/kubeflow.org/v1/mpi_types.go@4445c12aa62e4345b0c2c6ac9b215a70eca46ed7",
    },
    Entry {
        group: "kubeflow.org",
        kind: "MXJob",
        plural: "mxjobs",
        api_versions: &["kubeflow.org/v1"],
        namespaced: true,
        paths: &["spec.mxReplicaSpecs.*.template"],
        templates: build::training_job,
        pods: "the training operator creates replicas pods per replica type from its template",
        live: "unless spec.runPolicy.suspend; until the Succeeded or Failed condition",
        dead: training_job,
        source: "kubeflow/trainer (formerly kubeflow/training-operator) pkg/apis/kubeflow.org/v1/mxnet_types.go@0f8735faade3651dfe44e45c6fbc30fa9152641d (v1.8.1, the last release with MXJob)",
    },
    Entry {
        group: "kubeflow.org",
        kind: "Notebook",
        plural: "notebooks",
        api_versions: &["kubeflow.org/v1", "kubeflow.org/v1beta1", "kubeflow.org/v1alpha1"],
        namespaced: true,
        paths: &["spec.template"],
        templates: notebook_templates,
        pods: "the notebook controller creates a StatefulSet of one replica from spec.template",
        live: "unless the kubeflow-resource-stopped annotation is set (replicas 0)",
        dead: notebook,
        source: "kubeflow/notebooks components/notebook-controller/api/v1/notebook_types.go@177b098656264a36af71ea27d098c2ad14999eec",
    },
    Entry {
        group: "kubeflow.org",
        kind: "PaddleJob",
        plural: "paddlejobs",
        api_versions: &["kubeflow.org/v1"],
        namespaced: true,
        paths: &["spec.paddleReplicaSpecs.*.template"],
        templates: build::training_job,
        pods: "the training operator creates replicas pods per replica type from its template",
        live: "unless spec.runPolicy.suspend; until the Succeeded or Failed condition",
        dead: training_job,
        source: "kubeflow/trainer (formerly kubeflow/training-operator) pkg/apis/kubeflow.org/v1/paddlepaddle_types.go@4445c12aa62e4345b0c2c6ac9b215a70eca46ed7",
    },
    Entry {
        group: "kubeflow.org",
        kind: "PyTorchJob",
        plural: "pytorchjobs",
        api_versions: &["kubeflow.org/v1"],
        namespaced: true,
        paths: &["spec.pytorchReplicaSpecs.*.template"],
        templates: build::training_job,
        pods: "the training operator creates replicas pods per replica type (Master, Worker) \
               from its template",
        live: "unless spec.runPolicy.suspend; until the Succeeded or Failed condition",
        dead: training_job,
        source: "kubeflow/trainer (formerly kubeflow/training-operator) pkg/apis/kubeflow.org/v1/pytorch_types.go@4445c12aa62e4345b0c2c6ac9b215a70eca46ed7, pkg/controller.v1/pytorch/initcontainer.go@4445c12aa62e4345b0c2c6ac9b215a70eca46ed7",
    },
    Entry {
        group: "kubeflow.org",
        kind: "TFJob",
        plural: "tfjobs",
        api_versions: &["kubeflow.org/v1"],
        namespaced: true,
        paths: &["spec.tfReplicaSpecs.*.template"],
        templates: build::training_job,
        pods: "the training operator creates replicas pods per replica type (Chief, PS, \
               Worker, Evaluator) from its template",
        live: "unless spec.runPolicy.suspend; until the Succeeded or Failed condition",
        dead: training_job,
        source: "kubeflow/trainer (formerly kubeflow/training-operator) pkg/apis/kubeflow.org/v1/tensorflow_types.go@4445c12aa62e4345b0c2c6ac9b215a70eca46ed7",
    },
    Entry {
        group: "kubeflow.org",
        kind: "XGBoostJob",
        plural: "xgboostjobs",
        api_versions: &["kubeflow.org/v1"],
        namespaced: true,
        paths: &["spec.xgbReplicaSpecs.*.template"],
        templates: build::training_job,
        pods: "the training operator creates replicas pods per replica type from its template",
        live: "unless spec.runPolicy.suspend; until the Succeeded or Failed condition",
        dead: training_job,
        source: "kubeflow/trainer (formerly kubeflow/training-operator) pkg/apis/kubeflow.org/v1/xgboost_types.go@4445c12aa62e4345b0c2c6ac9b215a70eca46ed7",
    },
    Entry {
        group: "leaderworkerset.x-k8s.io",
        kind: "LeaderWorkerSet",
        plural: "leaderworkersets",
        api_versions: &["leaderworkerset.x-k8s.io/v1"],
        namespaced: true,
        paths: &[
            "spec.leaderWorkerTemplate.leaderTemplate",
            "spec.leaderWorkerTemplate.workerTemplate",
        ],
        templates: lws_templates,
        pods: "a StatefulSet of leaders from leaderTemplate (workerTemplate when absent), and \
               per leader a StatefulSet of workers from workerTemplate",
        live: "unless spec.replicas is 0",
        dead: leader_worker_set,
        source: "kubernetes-sigs/lws api/leaderworkerset/v1/leaderworkerset_types.go@060ab4da17eea1f0865fcbd3236bb1075e2cea32",
    },
    Entry {
        group: "ray.io",
        kind: "RayCluster",
        plural: "rayclusters",
        api_versions: &["ray.io/v1", "ray.io/v1alpha1"],
        namespaced: true,
        paths: &["spec.headGroupSpec.template", "spec.workerGroupSpecs[].template"],
        templates: build::ray_cluster,
        pods: "KubeRay creates the head pod and each worker group's replicas from their \
               templates",
        live: "unless spec.suspend",
        dead: ray_cluster,
        source: "ray-project/kuberay ray-operator/apis/ray/v1/raycluster_types.go@feeaf72facab4881ba2b179248bb67315634e229, ray-operator/controllers/ray/common/pod.go@feeaf72facab4881ba2b179248bb67315634e229",
    },
    Entry {
        group: "ray.io",
        kind: "RayJob",
        plural: "rayjobs",
        api_versions: &["ray.io/v1", "ray.io/v1alpha1"],
        namespaced: true,
        paths: &[
            "spec.rayClusterSpec.headGroupSpec.template",
            "spec.rayClusterSpec.workerGroupSpecs[].template",
            "spec.submitterPodTemplate",
        ],
        templates: build::ray_job,
        pods: "KubeRay creates a RayCluster from spec.rayClusterSpec and a submitter Job from \
               spec.submitterPodTemplate",
        live: "unless spec.suspend; until status.jobDeploymentStatus is Complete or Failed \
               with spec.shutdownAfterJobFinishes",
        dead: ray_job,
        source: "ray-project/kuberay ray-operator/apis/ray/v1/rayjob_types.go@feeaf72facab4881ba2b179248bb67315634e229, ray-operator/controllers/ray/common/job.go@feeaf72facab4881ba2b179248bb67315634e229",
    },
    Entry {
        group: "ray.io",
        kind: "RayService",
        plural: "rayservices",
        api_versions: &["ray.io/v1", "ray.io/v1alpha1"],
        namespaced: true,
        paths: &[
            "spec.rayClusterConfig.headGroupSpec.template",
            "spec.rayClusterConfig.workerGroupSpecs[].template",
        ],
        templates: build::ray_service,
        pods: "KubeRay creates a RayCluster from spec.rayClusterConfig (a second one during \
               upgrades)",
        live: "unless spec.suspend (KubeRay 1.7 and later)",
        dead: ray_cluster,
        source: "ray-project/kuberay ray-operator/apis/ray/v1/rayservice_types.go@feeaf72facab4881ba2b179248bb67315634e229",
    },
    Entry {
        group: "serving.knative.dev",
        kind: "Configuration",
        plural: "configurations",
        api_versions: &["serving.knative.dev/v1"],
        namespaced: true,
        paths: &["spec.template"],
        templates: build::knative,
        pods: "each change creates a Revision whose Deployment runs spec.template plus the \
               queue-proxy sidecar",
        live: "always (scaled to zero, it still creates pods on demand)",
        dead: always,
        source: "knative/serving pkg/apis/serving/v1/configuration_types.go@98e5ef90aa7033797aa0a61ef97f3ff7e49a3944, pkg/reconciler/revision/resources/queue.go@98e5ef90aa7033797aa0a61ef97f3ff7e49a3944",
    },
    Entry {
        group: "serving.knative.dev",
        kind: "Service",
        plural: "services",
        api_versions: &["serving.knative.dev/v1"],
        namespaced: true,
        paths: &["spec.template"],
        templates: build::knative,
        pods: "creates a Configuration; each Revision's Deployment runs spec.template plus the \
               queue-proxy sidecar",
        live: "always (scaled to zero, it still creates pods on demand)",
        dead: always,
        source: "knative/serving pkg/apis/serving/v1/service_types.go@98e5ef90aa7033797aa0a61ef97f3ff7e49a3944, pkg/reconciler/revision/resources/queue.go@98e5ef90aa7033797aa0a61ef97f3ff7e49a3944",
    },
    Entry {
        group: "serving.kserve.io",
        kind: "ClusterServingRuntime",
        plural: "clusterservingruntimes",
        api_versions: &["serving.kserve.io/v1alpha1"],
        namespaced: false,
        paths: &["spec"],
        templates: build::serving_runtime,
        pods: "a template: its containers become the model server of the inference services \
               that use it",
        live: "never by itself (a template)",
        dead: serving_runtime,
        source: "kserve/kserve pkg/apis/serving/v1alpha1/servingruntime_types.go@aaac4e294dae2c7b1aa1886447793f3aa1c30912",
    },
    Entry {
        group: "serving.kserve.io",
        kind: "InferenceService",
        plural: "inferenceservices",
        api_versions: &["serving.kserve.io/v1beta1"],
        namespaced: true,
        paths: &["spec.predictor", "spec.transformer", "spec.explainer"],
        templates: build::inference_service,
        pods: "one Deployment (or Knative Service) per component: its inline pod-spec fields, \
               its model spec as kserve-container, the storage-initializer for a storageUri, \
               the queue-proxy in Serverless mode",
        live: "unless the serving.kserve.io/stop annotation is true",
        dead: inference_service,
        source: "kserve/kserve pkg/apis/serving/v1beta1/inference_service.go@aaac4e294dae2c7b1aa1886447793f3aa1c30912, pkg/apis/serving/v1beta1/predictor.go@aaac4e294dae2c7b1aa1886447793f3aa1c30912, pkg/webhook/admission/pod/storage_initializer_injector.go@aaac4e294dae2c7b1aa1886447793f3aa1c30912",
    },
    Entry {
        group: "serving.kserve.io",
        kind: "ServingRuntime",
        plural: "servingruntimes",
        api_versions: &["serving.kserve.io/v1alpha1"],
        namespaced: true,
        paths: &["spec"],
        templates: build::serving_runtime,
        pods: "a template: its containers become the model server of the inference services \
               that use it",
        live: "never by itself (a template)",
        dead: serving_runtime,
        source: "kserve/kserve pkg/apis/serving/v1alpha1/servingruntime_types.go@aaac4e294dae2c7b1aa1886447793f3aa1c30912",
    },
    Entry {
        group: "sparkoperator.k8s.io",
        kind: "ScheduledSparkApplication",
        plural: "scheduledsparkapplications",
        api_versions: &["sparkoperator.k8s.io/v1beta2"],
        namespaced: true,
        paths: &["spec.template.driver", "spec.template.executor"],
        templates: build::scheduled_spark_application,
        pods: "creates a SparkApplication from spec.template on each schedule",
        live: "unless spec.suspend",
        dead: suspend,
        source: "kubeflow/spark-operator api/v1beta2/scheduledsparkapplication_types.go@38082f3318e9d33f3e4a940c7cf165df6e40b422",
    },
    Entry {
        group: "sparkoperator.k8s.io",
        kind: "SparkApplication",
        plural: "sparkapplications",
        api_versions: &["sparkoperator.k8s.io/v1beta2"],
        namespaced: true,
        paths: &["spec.driver", "spec.executor"],
        templates: build::spark_application,
        pods: "spark-submit creates the driver pod from spec.driver; the driver creates the \
               executor pods from spec.executor",
        live: "unless spec.suspend; until status.applicationState.state is COMPLETED or FAILED",
        dead: spark_application,
        source: "kubeflow/spark-operator api/v1beta2/sparkapplication_types.go@38082f3318e9d33f3e4a940c7cf165df6e40b422, internal/webhook/sparkpod_defaulter.go@38082f3318e9d33f3e4a940c7cf165df6e40b422",
    },
    Entry {
        group: "tekton.dev",
        kind: "ClusterTask",
        plural: "clustertasks",
        api_versions: &["tekton.dev/v1beta1"],
        namespaced: false,
        paths: &["spec.steps[]", "spec.sidecars[]", "spec.stepTemplate"],
        templates: build::tekton_task,
        pods: "a template: each TaskRun of it runs one pod, as for a Task",
        live: "never by itself (a template)",
        dead: template_only,
        source: "tektoncd/pipeline pkg/apis/pipeline/v1beta1/cluster_task_types.go@c6d38c9d267c4776bbe8ee68af59f47dba5f7a07 (v0.68.0; ClusterTask is gone since v1.0.0)",
    },
    Entry {
        group: "tekton.dev",
        kind: "PipelineRun",
        plural: "pipelineruns",
        api_versions: &["tekton.dev/v1", "tekton.dev/v1beta1"],
        namespaced: true,
        paths: &[
            "spec.pipelineSpec.tasks[].taskSpec",
            "spec.pipelineSpec.finally[].taskSpec",
            "spec.taskRunTemplate.podTemplate",
        ],
        templates: build::tekton_pipeline_run,
        pods: "one TaskRun, so one pod, per pipeline task; inline task specs are judged here \
               with the run's pod template",
        live: "until the Succeeded condition is True or False",
        dead: tekton_run,
        source: "tektoncd/pipeline pkg/apis/pipeline/v1/pipelinerun_types.go@3ee1745ae5b2d9175b11917d7c1935eaad44910c, pkg/pod/pod.go@3ee1745ae5b2d9175b11917d7c1935eaad44910c",
    },
    Entry {
        group: "tekton.dev",
        kind: "Task",
        plural: "tasks",
        api_versions: &["tekton.dev/v1", "tekton.dev/v1beta1"],
        namespaced: true,
        paths: &["spec.steps[]", "spec.sidecars[]", "spec.stepTemplate"],
        templates: build::tekton_task,
        pods: "a template: each TaskRun runs one pod of step-<name> containers (stepTemplate \
               merged under each step), sidecar-<name> containers and Tekton's init containers",
        live: "never by itself (a template)",
        dead: template_only,
        source: "tektoncd/pipeline pkg/apis/pipeline/v1/task_types.go@3ee1745ae5b2d9175b11917d7c1935eaad44910c, pkg/pod/pod.go@3ee1745ae5b2d9175b11917d7c1935eaad44910c",
    },
    Entry {
        group: "tekton.dev",
        kind: "TaskRun",
        plural: "taskruns",
        api_versions: &["tekton.dev/v1", "tekton.dev/v1beta1"],
        namespaced: true,
        paths: &["spec.taskSpec", "spec.podTemplate"],
        templates: build::tekton_task_run,
        pods: "one pod from the inline spec.taskSpec with spec.podTemplate's pod fields",
        live: "until the Succeeded condition is True or False",
        dead: tekton_run,
        source: "tektoncd/pipeline pkg/apis/pipeline/v1/taskrun_types.go@3ee1745ae5b2d9175b11917d7c1935eaad44910c, pkg/pod/pod.go@3ee1745ae5b2d9175b11917d7c1935eaad44910c",
    },
    Entry {
        group: "trainer.kubeflow.org",
        kind: "ClusterTrainingRuntime",
        plural: "clustertrainingruntimes",
        api_versions: &["trainer.kubeflow.org/v1alpha1"],
        namespaced: false,
        paths: &["spec.template.spec.replicatedJobs[].template.spec.template"],
        templates: training_runtime_templates,
        pods: "a template: each TrainJob using it becomes a JobSet built from spec.template",
        live: "never by itself (a template)",
        dead: template_only,
        source: "kubeflow/trainer pkg/apis/trainer/v1alpha1/trainingruntime_types.go@8c0f5059bd51ec3ba6d6a6a7b2e1471de7bc13b3",
    },
    Entry {
        group: "trainer.kubeflow.org",
        kind: "TrainJob",
        plural: "trainjobs",
        api_versions: &["trainer.kubeflow.org/v1alpha1"],
        namespaced: true,
        paths: &[
            "spec.runtimeRef",
            "spec.runtimePatches[].trainingRuntimeSpec.template.spec.replicatedJobs[].template.spec.template",
            "spec.podTemplateOverrides[].spec",
        ],
        templates: train_job_templates,
        pods: "the trainer builds a JobSet from the pod templates of the runtime it names \
               (spec.runtimeRef), with spec.runtimePatches (podTemplateOverrides in 2.1) \
               applied",
        live: "unless spec.suspend; until the Complete or Failed condition",
        dead: train_job,
        source: "kubeflow/trainer pkg/apis/trainer/v1alpha1/trainjob_types.go@8c0f5059bd51ec3ba6d6a6a7b2e1471de7bc13b3",
    },
    Entry {
        group: "trainer.kubeflow.org",
        kind: "TrainingRuntime",
        plural: "trainingruntimes",
        api_versions: &["trainer.kubeflow.org/v1alpha1"],
        namespaced: true,
        paths: &["spec.template.spec.replicatedJobs[].template.spec.template"],
        templates: training_runtime_templates,
        pods: "a template: each TrainJob using it becomes a JobSet built from spec.template",
        live: "never by itself (a template)",
        dead: template_only,
        source: "kubeflow/trainer pkg/apis/trainer/v1alpha1/trainingruntime_types.go@8c0f5059bd51ec3ba6d6a6a7b2e1471de7bc13b3",
    },
];
