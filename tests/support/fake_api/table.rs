//! Server-side printing (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`): the columns
//! kubectl shows for `get`, for the kinds the tool cares about; other kinds get Name and Age.

use serde_json::{Map, Value, json};

use super::store::{Obj, ResourceDef};
use super::util::human_duration;

/// What a row carries as `object` (`includeObject` query parameter).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Include {
    None,
    Metadata,
    Object,
}

impl Include {
    pub fn from_param(p: Option<&str>) -> Include {
        match p {
            Some("None") => Include::None,
            Some("Object") => Include::Object,
            _ => Include::Metadata,
        }
    }
}

fn col(name: &str, ty: &str, format: &str, priority: u8, description: &str) -> Value {
    json!({"name": name, "type": ty, "format": format, "description": description, "priority": priority})
}

fn name_col() -> Value {
    col(
        "Name",
        "string",
        "name",
        0,
        "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
    )
}

fn age_col() -> Value {
    col(
        "Age",
        "string",
        "",
        0,
        "CreationTimestamp is a timestamp representing the server time when this object was created.",
    )
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

fn or_none(v: String) -> String {
    if v.is_empty() { "<none>".into() } else { v }
}

fn age(o: &Value, now: i64) -> String {
    match o["metadata"]["creationTimestamp"].as_str().and_then(super::util::parse_rfc3339) {
        Some(t) => human_duration(now - t),
        None => "<unknown>".into(),
    }
}

fn join_strs(v: &Value, sep: &str) -> String {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(sep))
        .unwrap_or_default()
}

fn pod_status(o: &Value) -> String {
    if o["metadata"]["deletionTimestamp"].is_string() {
        return "Terminating".into();
    }
    let mut reason = s(&o["status"]["phase"]);
    if let Some(r) = o["status"]["reason"].as_str().filter(|r| !r.is_empty()) {
        reason = r.to_owned();
    }
    for c in o["status"]["containerStatuses"].as_array().into_iter().flatten() {
        if let Some(r) = c["state"]["waiting"]["reason"].as_str().filter(|r| !r.is_empty()) {
            reason = r.to_owned();
        } else if let Some(r) =
            c["state"]["terminated"]["reason"].as_str().filter(|r| !r.is_empty())
        {
            reason = r.to_owned();
        }
    }
    if reason.is_empty() { "Pending".into() } else { reason }
}

/// Column definitions for a resource.
pub fn columns(def: &ResourceDef) -> Vec<Value> {
    match (def.group.as_str(), def.kind.as_str()) {
        ("", "Pod") => vec![
            name_col(),
            col(
                "Ready",
                "string",
                "",
                0,
                "The aggregate readiness state of this pod for accepting traffic.",
            ),
            col("Status", "string", "", 0, "The aggregate status of the containers in this pod."),
            col(
                "Restarts",
                "string",
                "",
                0,
                "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
            ),
            age_col(),
            col("IP", "string", "", 1, "IP address allocated to the pod."),
            col("Node", "string", "", 1, "Name of the node this pod is assigned to."),
            col("Nominated Node", "string", "", 1, "Name of the node this pod is nominated to."),
            col("Readiness Gates", "string", "", 1, "Readiness gates of the pod."),
        ],
        ("", "Namespace") => vec![
            name_col(),
            col("Status", "string", "", 0, "The status of the namespace"),
            age_col(),
        ],
        ("policy" | "extensions", "PodSecurityPolicy") => vec![
            name_col(),
            col("Priv", "string", "", 0, "privileged"),
            col("Caps", "string", "", 0, "allowedCapabilities"),
            col("SELinux", "string", "", 0, "seLinux"),
            col("RunAsUser", "string", "", 0, "runAsUser"),
            col("FsGroup", "string", "", 0, "fsGroup"),
            col("SupGroup", "string", "", 0, "supplementalGroups"),
            col("ReadOnlyRootFs", "boolean", "", 0, "readOnlyRootFilesystem"),
            col("Volumes", "string", "", 0, "volumes"),
        ],
        ("rbac.authorization.k8s.io", "Role" | "ClusterRole") => vec![
            name_col(),
            col(
                "Created At",
                "date",
                "",
                0,
                "CreationTimestamp is a timestamp representing the server time when this object was created.",
            ),
        ],
        ("rbac.authorization.k8s.io", "RoleBinding" | "ClusterRoleBinding") => vec![
            name_col(),
            col("Role", "string", "", 0, "Role"),
            age_col(),
            col("Users", "string", "", 1, "Users in the roleBinding"),
            col("Groups", "string", "", 1, "Groups in the roleBinding"),
            col("ServiceAccounts", "string", "", 1, "ServiceAccounts in the roleBinding"),
        ],
        _ => vec![name_col(), age_col()],
    }
}

/// The cells of one row.
pub fn cells(def: &ResourceDef, o: &Value, now: i64) -> Vec<Value> {
    let name = Value::from(s(&o["metadata"]["name"]));
    match (def.group.as_str(), def.kind.as_str()) {
        ("", "Pod") => {
            let total = o["spec"]["containers"].as_array().map_or(0, Vec::len);
            let statuses = o["status"]["containerStatuses"].as_array();
            let ready = statuses.map_or(0, |a| a.iter().filter(|c| c["ready"] == true).count());
            let restarts: i64 = statuses
                .map_or(0, |a| a.iter().map(|c| c["restartCount"].as_i64().unwrap_or(0)).sum());
            vec![
                name,
                format!("{ready}/{total}").into(),
                pod_status(o).into(),
                restarts.to_string().into(),
                age(o, now).into(),
                or_none(s(&o["status"]["podIP"])).into(),
                or_none(s(&o["spec"]["nodeName"])).into(),
                or_none(s(&o["status"]["nominatedNodeName"])).into(),
                "<none>".into(),
            ]
        }
        ("", "Namespace") => vec![name, s(&o["status"]["phase"]).into(), age(o, now).into()],
        ("policy" | "extensions", "PodSecurityPolicy") => {
            let sp = &o["spec"];
            vec![
                name,
                sp["privileged"].as_bool().unwrap_or(false).to_string().into(),
                join_strs(&sp["allowedCapabilities"], ",").into(),
                s(&sp["seLinux"]["rule"]).into(),
                s(&sp["runAsUser"]["rule"]).into(),
                s(&sp["fsGroup"]["rule"]).into(),
                s(&sp["supplementalGroups"]["rule"]).into(),
                sp["readOnlyRootFilesystem"].as_bool().unwrap_or(false).into(),
                join_strs(&sp["volumes"], ",").into(),
            ]
        }
        ("rbac.authorization.k8s.io", "Role" | "ClusterRole") => {
            vec![name, s(&o["metadata"]["creationTimestamp"]).into()]
        }
        ("rbac.authorization.k8s.io", "RoleBinding" | "ClusterRoleBinding") => {
            let subjects = o["subjects"].as_array().cloned().unwrap_or_default();
            let pick = |kind: &str| {
                subjects
                    .iter()
                    .filter(|x| x["kind"] == kind)
                    .map(|x| {
                        if kind == "ServiceAccount" {
                            format!("{}/{}", s(&x["namespace"]), s(&x["name"]))
                        } else {
                            s(&x["name"])
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            vec![
                name,
                format!("{}/{}", s(&o["roleRef"]["kind"]), s(&o["roleRef"]["name"])).into(),
                age(o, now).into(),
                pick("User").into(),
                pick("Group").into(),
                pick("ServiceAccount").into(),
            ]
        }
        _ => vec![name, age(o, now).into()],
    }
}

/// `PartialObjectMetadata` for an object.
pub fn partial_metadata(o: &Value, version: &str) -> Value {
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": format!("meta.k8s.io/{version}"),
        "metadata": o.get("metadata").cloned().unwrap_or(Value::Object(Map::new())),
    })
}

/// A Table of the given objects.
pub fn render(
    def: &ResourceDef,
    objs: &[&Obj],
    list_meta: Value,
    version: &str,
    include: Include,
    now: i64,
) -> Vec<u8> {
    let rows: Vec<Value> = objs
        .iter()
        .map(|obj| {
            let o = obj.value();
            let mut row = Map::new();
            row.insert("cells".into(), cells(def, &o, now).into());
            match include {
                Include::None => {}
                Include::Metadata => {
                    row.insert("object".into(), partial_metadata(&o, version));
                }
                Include::Object => {
                    row.insert("object".into(), o);
                }
            }
            Value::Object(row)
        })
        .collect();
    let table = json!({
        "kind": "Table",
        "apiVersion": format!("meta.k8s.io/{version}"),
        "metadata": list_meta,
        "columnDefinitions": columns(def),
        "rows": rows,
    });
    serde_json::to_vec(&table).expect("serialize table")
}
