//! Tests of the registry (every entry's paths and liveness), the operators' pod construction,
//! the generic scan, what is kept of a resource, and runtime resolution.

use serde_json::{Value, json};

use super::*;
use crate::model::inventory::Inventory;

/// A container with an image (what a template holds at least).
fn c(name: &str) -> Value {
    json!({"name": name, "image": format!("registry.example.com/{name}:1")})
}

fn tmpl(name: &str) -> Value {
    json!({"spec": {"containers": [c(name)]}})
}

fn obj(api_version: &str, kind: &str, spec: Value, status: Value) -> Value {
    json!({"apiVersion": api_version, "kind": kind,
           "metadata": {"name": "x", "namespace": "ml"}, "spec": spec, "status": status})
}

/// One sample per registry entry: the resource, the template paths it must yield, and a
/// variant that is not live with the reason.
struct Case {
    kind: &'static str,
    api_version: &'static str,
    live: Value,
    paths: &'static [&'static str],
    dead: Option<(Value, &'static str)>,
}

fn cases() -> Vec<Case> {
    let training = |key: &str, kind: &'static str, api: &'static str, paths| {
        let spec =
            json!({ key: {"Master": {"template": tmpl("m")}, "Worker": {"template": tmpl("w")}} });
        let mut suspended = spec.clone();
        suspended["runPolicy"] = json!({"suspend": true});
        Case {
            kind,
            api_version: api,
            live: obj(api, kind, spec, json!({})),
            paths,
            dead: Some((obj(api, kind, suspended, json!({})), "suspended")),
        }
    };
    let finished = |cond: &str| json!({"conditions": [{"type": cond, "status": "True"}]});
    let argo_spec = json!({"templates": [
        {"name": "main", "dag": {"tasks": []}},
        {"name": "a", "container": c("a")},
        {"name": "b", "script": {"image": "python:3", "source": "print(1)"}},
        {"name": "set", "containerSet": {"containers": [c("x"), c("y")]}},
        {"name": "r", "resource": {"action": "create"}}
    ]});
    let argo_paths: &[&str] = &["spec.templates[1]", "spec.templates[2]", "spec.templates[3]"];
    let tekton_task = json!({"steps": [c("build")], "sidecars": [c("docker")]});
    let ray = json!({"headGroupSpec": {"template": tmpl("head")},
                     "workerGroupSpecs": [{"template": tmpl("w0")}, {"template": tmpl("w1")}]});
    let spark = json!({"driver": {"cores": 1}, "executor": {"instances": 2}, "image": "spark:3"});
    let runtime = json!({"containers": [c("kserve-container")]});
    let jobset = json!({"replicatedJobs": [{"template": {"spec": {"template": tmpl("j")}}}]});
    let lws =
        json!({"leaderWorkerTemplate": {"leaderTemplate": tmpl("l"), "workerTemplate": tmpl("w")}});
    vec![
        Case {
            kind: "ClusterWorkflowTemplate",
            api_version: "argoproj.io/v1alpha1",
            live: obj(
                "argoproj.io/v1alpha1",
                "ClusterWorkflowTemplate",
                argo_spec.clone(),
                json!({}),
            ),
            paths: argo_paths,
            dead: None,
        },
        Case {
            kind: "CronWorkflow",
            api_version: "argoproj.io/v1alpha1",
            live: obj(
                "argoproj.io/v1alpha1",
                "CronWorkflow",
                json!({"workflowSpec": argo_spec.clone()}),
                json!({}),
            ),
            paths: &[
                "spec.workflowSpec.templates[1]",
                "spec.workflowSpec.templates[2]",
                "spec.workflowSpec.templates[3]",
            ],
            dead: Some((
                obj(
                    "argoproj.io/v1alpha1",
                    "CronWorkflow",
                    json!({"suspend": true, "workflowSpec": argo_spec.clone()}),
                    json!({}),
                ),
                "suspended",
            )),
        },
        Case {
            kind: "Workflow",
            api_version: "argoproj.io/v1alpha1",
            live: obj(
                "argoproj.io/v1alpha1",
                "Workflow",
                argo_spec.clone(),
                json!({"phase": "Running"}),
            ),
            paths: argo_paths,
            dead: Some((
                obj(
                    "argoproj.io/v1alpha1",
                    "Workflow",
                    argo_spec.clone(),
                    json!({"phase": "Succeeded"}),
                ),
                "finished",
            )),
        },
        Case {
            kind: "WorkflowTemplate",
            api_version: "argoproj.io/v1alpha1",
            live: obj("argoproj.io/v1alpha1", "WorkflowTemplate", argo_spec.clone(), json!({})),
            paths: argo_paths,
            dead: None,
        },
        Case {
            kind: "Job",
            api_version: "batch.volcano.sh/v1alpha1",
            live: obj(
                "batch.volcano.sh/v1alpha1",
                "Job",
                json!({"tasks": [{"template": tmpl("t")}]}),
                json!({"state": {"phase": "Aborted"}}),
            ),
            paths: &["spec.tasks[0].template"],
            dead: Some((
                obj(
                    "batch.volcano.sh/v1alpha1",
                    "Job",
                    json!({"tasks": [{"template": tmpl("t")}]}),
                    json!({"state": {"phase": "Completed"}}),
                ),
                "finished",
            )),
        },
        Case {
            kind: "JobSet",
            api_version: "jobset.x-k8s.io/v1alpha2",
            live: obj("jobset.x-k8s.io/v1alpha2", "JobSet", jobset.clone(), json!({})),
            paths: &["spec.replicatedJobs[0].template.spec.template"],
            dead: Some((
                obj("jobset.x-k8s.io/v1alpha2", "JobSet", jobset.clone(), finished("Completed")),
                "finished",
            )),
        },
        training(
            "jaxReplicaSpecs",
            "JAXJob",
            "kubeflow.org/v1",
            &["spec.jaxReplicaSpecs.Master.template", "spec.jaxReplicaSpecs.Worker.template"],
        ),
        Case {
            kind: "MPIJob",
            api_version: "kubeflow.org/v2beta1",
            live: obj(
                "kubeflow.org/v2beta1",
                "MPIJob",
                json!({"mpiReplicaSpecs": {"Launcher": {"template": tmpl("l")}, "Worker": {"template": tmpl("w")}}}),
                json!({}),
            ),
            paths: &[
                "spec.mpiReplicaSpecs.Launcher.template",
                "spec.mpiReplicaSpecs.Worker.template",
            ],
            dead: Some((
                obj(
                    "kubeflow.org/v2beta1",
                    "MPIJob",
                    json!({"mpiReplicaSpecs": {"Worker": {"template": tmpl("w")}}}),
                    finished("Failed"),
                ),
                "finished",
            )),
        },
        training(
            "mxReplicaSpecs",
            "MXJob",
            "kubeflow.org/v1",
            &["spec.mxReplicaSpecs.Master.template", "spec.mxReplicaSpecs.Worker.template"],
        ),
        Case {
            kind: "Notebook",
            api_version: "kubeflow.org/v1",
            live: obj("kubeflow.org/v1", "Notebook", json!({"template": tmpl("nb")}), json!({})),
            paths: &["spec.template"],
            dead: Some((
                json!({"apiVersion": "kubeflow.org/v1", "kind": "Notebook",
                       "metadata": {"name": "x", "namespace": "ml", "annotations": {"kubeflow-resource-stopped": "2026-01-01T00:00:00Z"}},
                       "spec": {"template": tmpl("nb")}}),
                "stopped",
            )),
        },
        training(
            "paddleReplicaSpecs",
            "PaddleJob",
            "kubeflow.org/v1",
            &["spec.paddleReplicaSpecs.Master.template", "spec.paddleReplicaSpecs.Worker.template"],
        ),
        training(
            "pytorchReplicaSpecs",
            "PyTorchJob",
            "kubeflow.org/v1",
            &[
                "spec.pytorchReplicaSpecs.Master.template",
                "spec.pytorchReplicaSpecs.Worker.template",
            ],
        ),
        training(
            "tfReplicaSpecs",
            "TFJob",
            "kubeflow.org/v1",
            &["spec.tfReplicaSpecs.Master.template", "spec.tfReplicaSpecs.Worker.template"],
        ),
        training(
            "xgbReplicaSpecs",
            "XGBoostJob",
            "kubeflow.org/v1",
            &["spec.xgbReplicaSpecs.Master.template", "spec.xgbReplicaSpecs.Worker.template"],
        ),
        Case {
            kind: "LeaderWorkerSet",
            api_version: "leaderworkerset.x-k8s.io/v1",
            live: obj("leaderworkerset.x-k8s.io/v1", "LeaderWorkerSet", lws.clone(), json!({})),
            paths: &[
                "spec.leaderWorkerTemplate.leaderTemplate",
                "spec.leaderWorkerTemplate.workerTemplate",
            ],
            dead: Some((
                obj(
                    "leaderworkerset.x-k8s.io/v1",
                    "LeaderWorkerSet",
                    json!({"replicas": 0, "leaderWorkerTemplate": lws["leaderWorkerTemplate"]}),
                    json!({}),
                ),
                "stopped",
            )),
        },
        Case {
            kind: "RayCluster",
            api_version: "ray.io/v1",
            live: obj("ray.io/v1", "RayCluster", ray.clone(), json!({})),
            paths: &[
                "spec.headGroupSpec.template",
                "spec.workerGroupSpecs[0].template",
                "spec.workerGroupSpecs[1].template",
            ],
            dead: Some((
                obj(
                    "ray.io/v1",
                    "RayCluster",
                    json!({"suspend": true, "headGroupSpec": ray["headGroupSpec"]}),
                    json!({}),
                ),
                "suspended",
            )),
        },
        Case {
            kind: "RayJob",
            api_version: "ray.io/v1",
            live: obj(
                "ray.io/v1",
                "RayJob",
                json!({"rayClusterSpec": ray.clone(), "submitterPodTemplate": tmpl("s")}),
                json!({}),
            ),
            paths: &[
                "spec.rayClusterSpec.headGroupSpec.template",
                "spec.rayClusterSpec.workerGroupSpecs[0].template",
                "spec.rayClusterSpec.workerGroupSpecs[1].template",
                "spec.submitterPodTemplate",
            ],
            dead: Some((
                obj(
                    "ray.io/v1",
                    "RayJob",
                    json!({"shutdownAfterJobFinishes": true, "rayClusterSpec": ray.clone()}),
                    json!({"jobDeploymentStatus": "Complete"}),
                ),
                "finished",
            )),
        },
        Case {
            kind: "RayService",
            api_version: "ray.io/v1",
            live: obj(
                "ray.io/v1",
                "RayService",
                json!({"rayClusterConfig": ray.clone()}),
                json!({}),
            ),
            paths: &[
                "spec.rayClusterConfig.headGroupSpec.template",
                "spec.rayClusterConfig.workerGroupSpecs[0].template",
                "spec.rayClusterConfig.workerGroupSpecs[1].template",
            ],
            dead: Some((
                obj(
                    "ray.io/v1",
                    "RayService",
                    json!({"suspend": true, "rayClusterConfig": ray}),
                    json!({}),
                ),
                "suspended",
            )),
        },
        Case {
            kind: "Configuration",
            api_version: "serving.knative.dev/v1",
            live: obj(
                "serving.knative.dev/v1",
                "Configuration",
                json!({"template": tmpl("app")}),
                json!({}),
            ),
            paths: &["spec.template"],
            dead: None,
        },
        Case {
            kind: "Service",
            api_version: "serving.knative.dev/v1",
            live: obj(
                "serving.knative.dev/v1",
                "Service",
                json!({"template": tmpl("app")}),
                json!({}),
            ),
            paths: &["spec.template"],
            dead: None,
        },
        Case {
            kind: "ClusterServingRuntime",
            api_version: "serving.kserve.io/v1alpha1",
            live: obj(
                "serving.kserve.io/v1alpha1",
                "ClusterServingRuntime",
                runtime.clone(),
                json!({}),
            ),
            paths: &["spec"],
            dead: None,
        },
        Case {
            kind: "InferenceService",
            api_version: "serving.kserve.io/v1beta1",
            live: obj(
                "serving.kserve.io/v1beta1",
                "InferenceService",
                json!({"predictor": {"model": {"modelFormat": {"name": "sklearn"}}},
                       "transformer": {"containers": [c("t")]}}),
                json!({}),
            ),
            paths: &["spec.predictor", "spec.transformer"],
            dead: Some((
                json!({"apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService",
                       "metadata": {"name": "x", "namespace": "ml", "annotations": {"serving.kserve.io/stop": "True"}},
                       "spec": {"predictor": {"containers": [c("p")]}}}),
                "stopped",
            )),
        },
        Case {
            kind: "ServingRuntime",
            api_version: "serving.kserve.io/v1alpha1",
            live: obj("serving.kserve.io/v1alpha1", "ServingRuntime", runtime, json!({})),
            paths: &["spec"],
            dead: None,
        },
        Case {
            kind: "ScheduledSparkApplication",
            api_version: "sparkoperator.k8s.io/v1beta2",
            live: obj(
                "sparkoperator.k8s.io/v1beta2",
                "ScheduledSparkApplication",
                json!({"template": spark.clone()}),
                json!({}),
            ),
            paths: &["spec.template.driver", "spec.template.executor"],
            dead: Some((
                obj(
                    "sparkoperator.k8s.io/v1beta2",
                    "ScheduledSparkApplication",
                    json!({"suspend": true, "template": spark.clone()}),
                    json!({}),
                ),
                "suspended",
            )),
        },
        Case {
            kind: "SparkApplication",
            api_version: "sparkoperator.k8s.io/v1beta2",
            live: obj(
                "sparkoperator.k8s.io/v1beta2",
                "SparkApplication",
                spark.clone(),
                json!({"applicationState": {"state": "RUNNING"}}),
            ),
            paths: &["spec.driver", "spec.executor"],
            dead: Some((
                obj(
                    "sparkoperator.k8s.io/v1beta2",
                    "SparkApplication",
                    spark,
                    json!({"applicationState": {"state": "COMPLETED"}}),
                ),
                "finished",
            )),
        },
        Case {
            kind: "ClusterTask",
            api_version: "tekton.dev/v1beta1",
            live: obj("tekton.dev/v1beta1", "ClusterTask", tekton_task.clone(), json!({})),
            paths: &["spec"],
            dead: None,
        },
        Case {
            kind: "PipelineRun",
            api_version: "tekton.dev/v1",
            live: obj(
                "tekton.dev/v1",
                "PipelineRun",
                json!({"pipelineSpec": {"tasks": [{"name": "a", "taskSpec": tekton_task.clone()}, {"name": "b", "taskRef": {"name": "t"}}],
                                        "finally": [{"name": "f", "taskSpec": tekton_task.clone()}]}}),
                json!({"conditions": [{"type": "Succeeded", "status": "Unknown"}]}),
            ),
            paths: &[
                "spec.pipelineSpec.tasks[0].taskSpec",
                "spec.pipelineSpec.finally[0].taskSpec",
            ],
            dead: Some((
                obj(
                    "tekton.dev/v1",
                    "PipelineRun",
                    json!({"pipelineSpec": {"tasks": [{"name": "a", "taskSpec": tekton_task.clone()}]}}),
                    json!({"conditions": [{"type": "Succeeded", "status": "False"}]}),
                ),
                "finished",
            )),
        },
        Case {
            kind: "Task",
            api_version: "tekton.dev/v1",
            live: obj("tekton.dev/v1", "Task", tekton_task.clone(), json!({})),
            paths: &["spec"],
            dead: None,
        },
        Case {
            kind: "TaskRun",
            api_version: "tekton.dev/v1",
            live: obj(
                "tekton.dev/v1",
                "TaskRun",
                json!({"taskSpec": tekton_task.clone()}),
                json!({}),
            ),
            paths: &["spec.taskSpec"],
            dead: Some((
                obj(
                    "tekton.dev/v1",
                    "TaskRun",
                    json!({"taskSpec": tekton_task}),
                    json!({"conditions": [{"type": "Succeeded", "status": "True"}]}),
                ),
                "finished",
            )),
        },
        Case {
            kind: "ClusterTrainingRuntime",
            api_version: "trainer.kubeflow.org/v1alpha1",
            live: obj(
                "trainer.kubeflow.org/v1alpha1",
                "ClusterTrainingRuntime",
                json!({"template": {"spec": jobset.clone()}}),
                json!({}),
            ),
            paths: &["spec.template.spec.replicatedJobs[0].template.spec.template"],
            dead: None,
        },
        Case {
            kind: "TrainJob",
            api_version: "trainer.kubeflow.org/v1alpha1",
            live: obj(
                "trainer.kubeflow.org/v1alpha1",
                "TrainJob",
                json!({"runtimeRef": {"name": "torch"}}),
                json!({}),
            ),
            paths: &["spec.runtimeRef"],
            dead: Some((
                obj(
                    "trainer.kubeflow.org/v1alpha1",
                    "TrainJob",
                    json!({"suspend": true, "runtimeRef": {"name": "torch"}}),
                    json!({}),
                ),
                "suspended",
            )),
        },
        Case {
            kind: "TrainingRuntime",
            api_version: "trainer.kubeflow.org/v1alpha1",
            live: obj(
                "trainer.kubeflow.org/v1alpha1",
                "TrainingRuntime",
                json!({"template": {"spec": jobset}}),
                json!({}),
            ),
            paths: &["spec.template.spec.replicatedJobs[0].template.spec.template"],
            dead: None,
        },
    ]
}

fn decoded(v: &Value) -> Vec<PodObject> {
    let api = v["apiVersion"].as_str().unwrap();
    let kind = v["kind"].as_str().unwrap();
    decode(api, kind, v).unwrap()
}

#[test]
fn every_entry_yields_its_paths_and_liveness() {
    let cases = cases();
    for e in REGISTRY {
        assert!(e.source.contains('@'), "{}: the source names a commit", e.kind);
        assert!(!e.paths.is_empty() && !e.pods.is_empty() && !e.live.is_empty(), "{}", e.kind);
        let case = cases
            .iter()
            .find(|c| c.kind == e.kind && e.api_versions.contains(&c.api_version))
            .unwrap_or_else(|| panic!("no test case for {} {}", e.group, e.kind));
        let objs = decoded(&case.live);
        let paths: Vec<&str> = objs.iter().filter_map(|o| o.path()).collect();
        assert_eq!(paths, case.paths, "{}", e.kind);
        let template_only = e.live.starts_with("never");
        for o in &objs {
            assert_eq!(o.kind_name(), e.kind);
            assert_eq!(o.is_live(), !template_only, "{} {:?}", e.kind, o.path());
            assert_eq!(o.is_cluster_scoped(), !e.namespaced, "{}", e.kind);
        }
        if let Some((dead, why)) = &case.dead {
            for o in decoded(dead) {
                assert_eq!(o.custom.as_ref().unwrap().dead.as_deref(), Some(*why), "{}", e.kind);
                assert!(!o.is_live());
            }
        }
    }
    // Every group/kind is one entry, sorted.
    let keys: Vec<(&str, &str)> = REGISTRY.iter().map(|e| (e.group, e.kind)).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(keys, sorted);
}

#[test]
fn versions_outside_the_registry_are_scanned_generically() {
    // A RayCluster of an API version the registry does not describe: generic, still judged.
    let v = obj(
        "ray.io/v2",
        "RayCluster",
        json!({"headGroupSpec": {"template": tmpl("h")}}),
        json!({}),
    );
    let objs = decoded(&v);
    assert_eq!(objs.len(), 1);
    let t = objs[0].custom.as_ref().unwrap();
    assert_eq!((t.entry.as_str(), t.path.as_str()), (GENERIC, "spec.headGroupSpec.template"));
}

#[test]
fn generic_scan_finds_embedded_templates_and_pod_specs() {
    let v = json!({"apiVersion": "llmops.example.com/v1", "kind": "FineTuneRun",
        "metadata": {"name": "x", "namespace": "ml"},
        "spec": {"worker": {"template": tmpl("trainer")},
                 "evaluators": [{"name": "e", "template": {"metadata": {"annotations": {"a": "b"}}, "spec": {"containers": [c("e")]}}}],
                 "notATemplate": {"spec": {"containers": [{"name": "no-image"}]}}},
        "status": {"lastRun": {"spec": {"containers": [c("old")]}}}});
    let paths: Vec<String> = decoded(&v).iter().map(|o| o.path().unwrap().to_owned()).collect();
    assert_eq!(paths, ["spec.evaluators[0].template", "spec.worker.template"]);
    // A resource whose own spec is a pod spec.
    let v = json!({"apiVersion": "x.example.com/v1", "kind": "Sandbox", "metadata": {"name": "s"},
                   "spec": {"containers": [c("app")], "hostNetwork": true}});
    let objs = decoded(&v);
    assert_eq!(objs[0].path(), Some("spec"));
    assert_eq!(objs[0].spec.host_network, Some(true));
    // Nothing shaped like a template: nothing, and no error.
    let v = json!({"apiVersion": "cert-manager.io/v1", "kind": "Certificate", "metadata": {"name": "c"},
                   "spec": {"secretName": "tls", "dnsNames": ["a.example.com"]}});
    assert!(decoded(&v).is_empty());
}

#[test]
fn argo_builds_each_pod_as_the_controller_does() {
    let wf = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
    "metadata": {"name": "w", "namespace": "ml"},
    "spec": {
        "securityContext": {"runAsNonRoot": true},
        "hostNetwork": true,
        "podSpecPatch": "{\"containers\": [{\"name\": \"main\", \"securityContext\": {\"privileged\": true}}]}",
        "volumes": [{"name": "used", "hostPath": {"path": "/data"}}, {"name": "unused", "hostPath": {"path": "/x"}}],
        "templates": [
            {"name": "a", "container": {"image": "a", "volumeMounts": [{"name": "used", "mountPath": "/d"}]}},
            {"name": "b", "securityContext": {"runAsUser": 0}, "script": {"image": "b", "source": "x"},
             "podSpecPatch": "containers:\n- name: main\n  securityContext:\n    privileged: false\n"}
        ]}});
    let objs = decoded(&wf);
    let a = &objs[0];
    let names: Vec<&str> = a.spec.all_containers().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["init", "main", "wait"]);
    assert_eq!(a.spec.host_network, Some(true));
    assert_eq!(a.spec.security_context.as_ref().unwrap().run_as_non_root, Some(true));
    let vols: Vec<&str> = a.spec.volumes.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(vols, ["used"], "only mounted workflow volumes");
    let main = a.spec.containers.iter().find(|c| c.name == "main").unwrap();
    assert_eq!(main.security_context.as_ref().unwrap().privileged, Some(true), "podSpecPatch");
    let t = a.custom.as_ref().unwrap();
    assert_eq!(t.locations.containers["main"], "/spec/templates/0/container");
    assert_eq!(t.locations.pod_security_context.as_deref(), Some("/spec/securityContext"));
    assert_eq!(t.injected.keys().collect::<Vec<_>>(), ["init", "wait"]);
    // The template's security context replaces the workflow's; its patch comes last.
    let b = &objs[1];
    let psc = b.spec.security_context.as_ref().unwrap();
    assert_eq!((psc.run_as_user, psc.run_as_non_root), (Some(0), None));
    let main = b.spec.containers.iter().find(|c| c.name == "main").unwrap();
    assert_eq!(main.security_context.as_ref().unwrap().privileged, Some(false));
    assert_eq!(
        b.custom.as_ref().unwrap().locations.pod_security_context.as_deref(),
        Some("/spec/templates/1/securityContext")
    );
}

#[test]
fn tekton_merges_the_step_template_and_adds_its_init_containers() {
    let run = json!({"apiVersion": "tekton.dev/v1", "kind": "TaskRun", "metadata": {"name": "r", "namespace": "ci"},
        "spec": {"podTemplate": {"securityContext": {"runAsNonRoot": true}, "hostNetwork": true, "nodeSelector": {"a": "b"}},
                 "taskSpec": {
                    "stepTemplate": {"securityContext": {"allowPrivilegeEscalation": false, "runAsUser": 1000}},
                    "steps": [{"name": "build", "image": "b", "script": "make", "securityContext": {"runAsUser": 2000}},
                              {"image": "c", "workingDir": "src"}],
                    "sidecars": [{"name": "dind", "image": "docker:dind", "securityContext": {"privileged": true}}]}}});
    let objs = decoded(&run);
    let p = &objs[0];
    let names: Vec<&str> = p.spec.all_containers().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "prepare",
            "place-scripts",
            "working-dir-initializer",
            "step-build",
            "step-unnamed-1",
            "sidecar-dind"
        ]
    );
    let build = p.spec.containers.iter().find(|c| c.name == "step-build").unwrap();
    let sc = build.security_context.as_ref().unwrap();
    assert_eq!((sc.allow_privilege_escalation, sc.run_as_user), (Some(false), Some(2000)));
    assert_eq!(p.spec.host_network, Some(true));
    let t = p.custom.as_ref().unwrap();
    assert_eq!(t.locations.containers["step-build"], "/spec/taskSpec/steps/0");
    assert_eq!(
        t.locations.pod_security_context.as_deref(),
        Some("/spec/podTemplate/securityContext")
    );
    // A task's own pod template in a PipelineRun wins over the run's.
    let pr = json!({"apiVersion": "tekton.dev/v1", "kind": "PipelineRun", "metadata": {"name": "p", "namespace": "ci"},
        "spec": {"taskRunTemplate": {"podTemplate": {"hostNetwork": true}},
                 "taskRunSpecs": [{"pipelineTaskName": "b", "podTemplate": {"securityContext": {"runAsUser": 0}}}],
                 "pipelineSpec": {"tasks": [{"name": "a", "taskSpec": {"steps": [c("s")]}},
                                            {"name": "b", "taskSpec": {"steps": [c("s")]}}]}}});
    let objs = decoded(&pr);
    assert_eq!(objs[0].spec.host_network, Some(true));
    assert_eq!(objs[1].spec.host_network, None);
    assert_eq!(objs[1].spec.security_context.as_ref().unwrap().run_as_user, Some(0));
}

#[test]
fn operators_add_their_containers() {
    // KubeRay: wait-gcs-ready copies the worker's Ray container; the autoscaler takes its own.
    let rc = json!({"apiVersion": "ray.io/v1", "kind": "RayCluster", "metadata": {"name": "r", "namespace": "ml"},
        "spec": {"enableInTreeAutoscaling": true, "autoscalerOptions": {"securityContext": {"privileged": true}},
                 "headGroupSpec": {"template": tmpl("head")},
                 "workerGroupSpecs": [{"template": {"spec": {"containers": [{"name": "w", "image": "ray",
                     "securityContext": {"runAsNonRoot": true}}]}}}]}});
    let objs = decoded(&rc);
    let head = &objs[0];
    let auto = head.spec.containers.iter().find(|c| c.name == "autoscaler").unwrap();
    assert_eq!(auto.security_context.as_ref().unwrap().privileged, Some(true));
    assert_eq!(
        head.custom.as_ref().unwrap().locations.containers["autoscaler"],
        "/spec/autoscalerOptions"
    );
    let w = &objs[1];
    assert_eq!(w.spec.init_containers[0].name, "wait-gcs-ready");
    assert_eq!(
        w.spec.init_containers[0].security_context.as_ref().unwrap().run_as_non_root,
        Some(true)
    );
    assert_eq!(w.custom.as_ref().unwrap().locations.mirrors["wait-gcs-ready"], "w");
    // A worker group scaled to zero, or suspended, runs no pods; the head still does.
    let mut scaled = rc.clone();
    scaled["spec"]["workerGroupSpecs"][0]["replicas"] = json!(0);
    let objs = decoded(&scaled);
    assert!(objs[0].is_live() && !objs[1].is_live());
    assert_eq!(objs[1].custom.as_ref().unwrap().dead.as_deref(), Some("stopped"));
    scaled["spec"]["workerGroupSpecs"][0]["minReplicas"] = json!(1);
    assert!(decoded(&scaled)[1].is_live(), "the autoscaler keeps one");
    // PyTorchJob workers get init-pytorch only when there is a Master.
    let job = |master: bool| {
        let mut specs = json!({"Worker": {"template": tmpl("pytorch")}});
        if master {
            specs["Master"] = json!({"template": tmpl("pytorch")});
        }
        json!({"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob", "metadata": {"name": "j", "namespace": "ml"},
               "spec": {"pytorchReplicaSpecs": specs}})
    };
    let inits = |v: &Value| -> Vec<Vec<String>> {
        decoded(v)
            .iter()
            .map(|o| o.spec.init_containers.iter().map(|c| c.name.clone()).collect())
            .collect()
    };
    assert_eq!(inits(&job(true)), [vec![], vec!["init-pytorch".to_owned()]]);
    assert_eq!(inits(&job(false)), [Vec::<String>::new()]);
    // KServe: storage initializer for a storageUri, agent for a logger, queue proxy unless raw.
    let isvc = |mode: &str| {
        json!({"apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService",
               "metadata": {"name": "m", "namespace": "ml", "annotations": {"serving.kserve.io/deploymentMode": mode}},
               "spec": {"predictor": {"logger": {"mode": "all"}, "securityContext": {"runAsNonRoot": true},
                                      "model": {"modelFormat": {"name": "sklearn"}, "storageUri": "gs://m",
                                                "securityContext": {"allowPrivilegeEscalation": false}}}}})
    };
    let names = |v: &Value| -> Vec<String> {
        decoded(v)[0].spec.all_containers().map(|c| c.name.clone()).collect()
    };
    assert_eq!(
        names(&isvc("Serverless")),
        ["storage-initializer", "kserve-container", "agent", "queue-proxy"]
    );
    assert_eq!(names(&isvc("RawDeployment")), ["storage-initializer", "kserve-container", "agent"]);
    let p = &decoded(&isvc("Standard"))[0];
    let agent = p.spec.containers.iter().find(|c| c.name == "agent").unwrap();
    assert_eq!(agent.security_context.as_ref().unwrap().allow_privilege_escalation, Some(false));
    assert_eq!(
        p.custom.as_ref().unwrap().locations.containers["kserve-container"],
        "/spec/predictor/model"
    );
    // Spark: the typed fields land on the Spark container and the pod.
    let app = json!({"apiVersion": "sparkoperator.k8s.io/v1beta2", "kind": "SparkApplication",
        "metadata": {"name": "s", "namespace": "d"},
        "spec": {"image": "spark", "volumes": [{"name": "h", "hostPath": {"path": "/h"}}],
                 "driver": {"podSecurityContext": {"runAsNonRoot": true}, "securityContext": {"privileged": true},
                            "sidecars": [c("log")]}}});
    let d = &decoded(&app)[0];
    assert_eq!(d.spec.containers[0].name, "spark-kubernetes-driver");
    assert_eq!(d.spec.containers[0].security_context.as_ref().unwrap().privileged, Some(true));
    assert_eq!(d.spec.volumes[0].name, "h");
    let t = d.custom.as_ref().unwrap();
    assert_eq!(t.locations.containers["spark-kubernetes-driver"], "/spec/driver");
    assert_eq!(
        t.locations.pod_security_context.as_deref(),
        Some("/spec/driver/podSecurityContext")
    );
}

#[test]
fn kept_leaves_out_what_never_bears_on_pod_security() {
    let v = json!({"apiVersion": "ray.io/v1", "kind": "RayJob",
        "metadata": {"name": "j", "namespace": "ml", "labels": {"a": "b"}, "managedFields": [{}],
                     "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{...}", "kubernetes.io/psp": "x"}},
        "spec": {"entrypoint": "python train.py",
                 "rayClusterSpec": {"headGroupSpec": {"template": {"spec": {"containers": [
                     {"name": "h", "image": "ray", "env": [{"name": "TOKEN", "value": "s3cr3t"}],
                      "args": ["--password=hunter2"], "command": ["sh"], "securityContext": {"privileged": true}}]}}}},
                 "storageUri": "s3://key:secret@bucket/model"},
        "status": {"jobDeploymentStatus": "Running", "message": "token s3cr3t", "conditions": [{"type": "A", "status": "True", "message": "m"}]}});
    let kept = kept(&v);
    let text = kept.to_string();
    for secret in ["s3cr3t", "hunter2", "last-applied", "managedFields", "labels", "secret@"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    assert_eq!(kept["metadata"]["annotations"], json!({"kubernetes.io/psp": "x"}));
    assert_eq!(kept["spec"]["storageUri"], "s3://");
    assert_eq!(
        kept["status"],
        json!({"jobDeploymentStatus": "Running", "conditions": [{"type": "A", "status": "True"}]})
    );
    // What is kept reads to the same templates.
    assert_eq!(decoded(&v), decoded(&kept));
}

#[test]
fn runtimes_complete_inference_services_and_train_jobs() {
    let runtime = json!({"apiVersion": "serving.kserve.io/v1alpha1", "kind": "ClusterServingRuntime",
        "metadata": {"name": "hf"},
        "spec": {"containers": [{"name": "kserve-container", "image": "hf",
                                 "securityContext": {"runAsNonRoot": true, "allowPrivilegeEscalation": true}},
                                {"name": "sidecar", "image": "s"}],
                 "volumes": [{"name": "cache", "hostPath": {"path": "/cache"}}]}});
    let isvc = json!({"apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService",
        "metadata": {"name": "m", "namespace": "ml", "annotations": {"serving.kserve.io/deploymentMode": "Standard"}},
        "spec": {"predictor": {"model": {"modelFormat": {"name": "hf"}, "runtime": "hf",
                                         "securityContext": {"allowPrivilegeEscalation": false}}}}});
    let orphan = json!({"apiVersion": "trainer.kubeflow.org/v1alpha1", "kind": "TrainJob",
        "metadata": {"name": "lost", "namespace": "ml"}, "spec": {"runtimeRef": {"name": "missing"}}});
    let train_runtime = json!({"apiVersion": "trainer.kubeflow.org/v1alpha1", "kind": "ClusterTrainingRuntime",
        "metadata": {"name": "torch"},
        "spec": {"template": {"spec": {"replicatedJobs": [{"name": "node", "template": {"spec": {"template": tmpl("node")}}}]}}}});
    let train = json!({"apiVersion": "trainer.kubeflow.org/v1alpha1", "kind": "TrainJob",
        "metadata": {"name": "t", "namespace": "ml"}, "spec": {"runtimeRef": {"name": "torch"}}});
    let mut inv = Inventory::default();
    for v in [runtime, isvc, orphan, train_runtime, train] {
        inv.pod_objects.extend(decoded(&v));
    }
    resolve(&mut inv);
    resolve(&mut inv); // idempotent
    let get = |kind: &str, name: &str| {
        inv.pod_objects
            .iter()
            .filter(|o| o.kind_name() == kind && o.name() == name)
            .collect::<Vec<_>>()
    };
    let p = get("InferenceService", "m")[0];
    let main = p.spec.containers.iter().find(|c| c.name == "kserve-container").unwrap();
    let sc = main.security_context.as_ref().unwrap();
    assert_eq!((sc.run_as_non_root, sc.allow_privilege_escalation), (Some(true), Some(false)));
    assert!(p.spec.containers.iter().any(|c| c.name == "sidecar"));
    assert_eq!(p.spec.volumes[0].name, "cache");
    assert!(p.custom.as_ref().unwrap().injected["sidecar"].contains("ClusterServingRuntime hf"));
    let t = get("TrainJob", "t");
    assert_eq!(t.len(), 1);
    assert_eq!(
        t[0].path(),
        Some(
            "ClusterTrainingRuntime torch spec.template.spec.replicatedJobs[0].template.spec.template"
        )
    );
    assert!(t[0].is_live());
    assert!(get("TrainJob", "lost").is_empty());
    assert_eq!(inv.findings.len(), 1);
    assert_eq!(inv.findings[0].code, crate::findings::Code::CustomRuntimeMissing);
    assert!(
        inv.findings[0].message.contains("ClusterTrainingRuntime missing"),
        "{}",
        inv.findings[0].message
    );
}

#[test]
fn pointers_escape_keys() {
    let at = At::root().key("spec").key("a/b~c").index(2);
    assert_eq!(at.pointer, "/spec/a~1b~0c/2");
    assert_eq!(at.path, "spec.a/b~c[2]");
}
