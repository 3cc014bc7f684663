//! A minimal, read-only view of a migration directory: the parts of `plan.json` that `diff`,
//! `apply` and `rollback` need, and the objects of the step files 3 and 4. The planner's own
//! types are serialize-only; this view checks the schema version and ignores everything else,
//! so reviewers may edit a plan (e.g. a namespace's planned labels) without breaking it.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use crate::apply::objects::{self, ObjectKey};
use crate::plan::{PLAN_SCHEMA_VERSION, files};

/// Why a migration directory cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PlanFileError {
    #[error("cannot read {path}: {message} (is it a directory written by `psa-migrate plan`?)")]
    Read { path: String, message: String },
    #[error("{path}: not valid JSON: {message}")]
    Json { path: String, message: String },
    #[error(
        "{path}: schemaVersion is {found:?}, this psa-migrate reads {PLAN_SCHEMA_VERSION:?}; \
         re-run `psa-migrate plan` with this version"
    )]
    Schema { path: String, found: String },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

/// `plan.json`, as far as writing it to a cluster needs.
#[derive(Clone, Debug, Deserialize)]
pub struct PlanFile {
    #[serde(rename = "schemaVersion")]
    pub schema_version: String,
    pub name: String,
    #[serde(default)]
    pub cluster_version: String,
    /// Whether the PodSecurityPolicy admission plugin was running when the plan was made: the
    /// PSP bypass (step 3) only makes sense while it is.
    #[serde(default)]
    pub psp_admission_active: bool,
    pub namespaces: Vec<PlanNamespace>,
    #[serde(default)]
    pub cleanup: PlanCleanup,
}

/// One namespace of the plan.
#[derive(Clone, Debug, Deserialize)]
pub struct PlanNamespace {
    pub name: String,
    #[serde(default)]
    pub exempt: bool,
    #[serde(default)]
    pub current_labels: BTreeMap<String, String>,
    #[serde(default)]
    pub planned_labels: BTreeMap<String, String>,
}

/// The clean-up facts of the plan.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct PlanCleanup {
    /// Running pods per admitting PSP when the plan was made.
    #[serde(default)]
    pub running_pods_by_psp: BTreeMap<String, usize>,
}

impl PlanFile {
    pub fn namespace(&self, name: &str) -> Option<&PlanNamespace> {
        self.namespaces.iter().find(|n| n.name == name)
    }
}

/// Parses the text of `plan.json`; `path` is for messages.
pub fn parse(text: &str, path: &str) -> Result<PlanFile, PlanFileError> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| PlanFileError::Json { path: path.to_owned(), message: e.to_string() })?;
    let found = value.get("schemaVersion").and_then(Value::as_str).unwrap_or_default();
    if found != PLAN_SCHEMA_VERSION {
        let found = if found.is_empty() { "(none)".to_owned() } else { found.to_owned() };
        return Err(PlanFileError::Schema { path: path.to_owned(), found });
    }
    serde_path_to_error::deserialize(value).map_err(|e| PlanFileError::Invalid {
        path: path.to_owned(),
        message: format!("{}: {}", e.path(), e.inner()),
    })
}

/// Reads `DIR/plan.json`.
pub fn load(dir: &Path) -> Result<PlanFile, PlanFileError> {
    let path = dir.join(files::PLAN_JSON);
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(&path)
        .map_err(|e| PlanFileError::Read { path: shown.clone(), message: e.to_string() })?;
    parse(&text, &shown)
}

/// The objects of a step file's YAML text (documents that are only comments are skipped), each
/// with its key. Only PodSecurityPolicies and RBAC objects are accepted: nothing else is ever
/// created or deleted by a plan.
pub fn parse_objects(text: &str, path: &str) -> Result<Vec<(ObjectKey, Value)>, PlanFileError> {
    let mut out = Vec::new();
    for (index, (line, doc)) in
        crate::source::offline::split_documents(text).into_iter().enumerate()
    {
        let meaningful = doc.lines().any(|l| {
            let t = l.trim();
            !t.is_empty() && !t.starts_with('#') && !t.starts_with("---")
        });
        if !meaningful {
            continue;
        }
        let value: Value = serde_saphyr::from_str(doc).map_err(|e| PlanFileError::Invalid {
            path: path.to_owned(),
            message: format!("document {} (line {line}): {}", index + 1, e.without_snippet()),
        })?;
        if value.is_null() {
            continue;
        }
        let key = ObjectKey::from_manifest(&value).map_err(|message| PlanFileError::Invalid {
            path: path.to_owned(),
            message: format!("document {} (line {line}): {message}", index + 1),
        })?;
        objects::resource(&key.kind).ok_or_else(|| PlanFileError::Invalid {
            path: path.to_owned(),
            message: format!(
                "document {} (line {line}): {key}: only {} objects may be written by a plan",
                index + 1,
                objects::KINDS.join(", ")
            ),
        })?;
        out.push((key, value));
    }
    Ok(out)
}

/// Reads the objects of step 3 (`0003-psp-bypass.yaml`) or step 4 (`0004-cleanup.yaml`).
pub fn load_objects(dir: &Path, step: u32) -> Result<Vec<(ObjectKey, Value)>, PlanFileError> {
    let Some(file) = files::step_file(step) else {
        return Err(PlanFileError::Invalid {
            path: dir.display().to_string(),
            message: format!("there is no step {step}"),
        });
    };
    let path = dir.join(file);
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(&path)
        .map_err(|e| PlanFileError::Read { path: shown.clone(), message: e.to_string() })?;
    parse_objects(&text, &shown)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAN: &str = r#"{
      "schemaVersion": "psa-migrate.plan/v1",
      "name": "demo",
      "cluster_version": "v1.24",
      "psp_admission_active": true,
      "namespaces": [
        {"name": "web", "exempt": false, "current_labels": {},
         "planned_labels": {"pod-security.kubernetes.io/enforce": "baseline"},
         "reasons": ["ignored"], "psp_level": "baseline"}
      ],
      "cleanup": {"delete": [], "manual": [], "running_pods_by_psp": {"restricted": 2}},
      "admission": {}, "policies": [], "findings": []
    }"#;

    #[test]
    fn reads_the_plan_view() {
        let p = parse(PLAN, "plan.json").unwrap();
        assert_eq!(p.name, "demo");
        assert!(p.psp_admission_active);
        assert_eq!(p.namespace("web").unwrap().planned_labels.len(), 1);
        assert_eq!(p.cleanup.running_pods_by_psp["restricted"], 2);
    }

    #[test]
    fn rejects_other_schema_versions() {
        let text = PLAN.replace("psa-migrate.plan/v1", "psa-migrate.plan/v9");
        let e = parse(&text, "x/plan.json").unwrap_err().to_string();
        assert!(e.contains("schemaVersion is \"psa-migrate.plan/v9\""), "{e}");
        let e = parse("{}", "x/plan.json").unwrap_err().to_string();
        assert!(e.contains("(none)"), "{e}");
        let e = parse("not json", "x/plan.json").unwrap_err().to_string();
        assert!(e.contains("not valid JSON"), "{e}");
        let bad = PLAN.replace("\"namespaces\": [", "\"namespaces\": [1, ");
        let e = parse(&bad, "x/plan.json").unwrap_err().to_string();
        assert!(e.contains("namespaces[0]"), "{e}");
    }

    #[test]
    fn step_file_objects() {
        let text = "# header\n# more\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\n\
                    metadata:\n  name: disable-psp\n  namespace: web\n---\napiVersion: policy/v1beta1\n\
                    kind: PodSecurityPolicy\nmetadata:\n  name: p\nspec:\n  volumes: [\"*\"]\n";
        let objs = parse_objects(text, "f").unwrap();
        assert_eq!(objs.len(), 2);
        assert_eq!(objs[0].0.to_string(), "RoleBinding web/disable-psp");
        assert_eq!(objs[1].1["spec"]["volumes"][0], "*");
        let none = parse_objects("# (nothing to do)\n", "f").unwrap();
        assert!(none.is_empty());
        let secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  namespace: x\n";
        let e = parse_objects(secret, "f").unwrap_err().to_string();
        assert!(e.contains("only"), "{e}");
    }
}
