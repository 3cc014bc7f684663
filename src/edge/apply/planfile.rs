//! A minimal, read-only view of a migration directory: the parts of `plan.json` that `diff`,
//! `apply` and `rollback` need, and the objects of step file 3. The planner's own types are
//! serialize-only; this view checks the schema version and ignores everything else.
//!
//! One source of truth: [`load`] verifies the directory first. `plan.json` records the SHA-256
//! of every other file `plan` wrote (`files`) and of itself (`digest`); a file that changed, a
//! file that is missing, or a `plan.json` whose own digest does not match is refused, so what a
//! reviewer read is what is written. Only the recorded files are checked: the journal, the lock
//! and anything else added beside them are not part of the plan.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use crate::apply::objects::{self, ObjectKey};
use crate::plan::PLAN_SCHEMA_VERSION;
use crate::render::plan_files as files;

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
    #[error(
        "{path}: {message}; refusing to use a migration directory that differs from what \
         `psa-migrate plan` wrote (re-run psa-migrate plan to change a plan)"
    )]
    Changed { path: String, message: String },
}

/// `plan.json`, as far as writing it to a cluster needs.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanFile {
    pub name: String,
    /// Whether the PodSecurityPolicy admission plugin was running when the plan was made: the
    /// PSP bypass (step 3) only makes sense while it is.
    #[serde(default)]
    pub psp_admission_active: bool,
    pub namespaces: Vec<PlanNamespace>,
    #[serde(default)]
    pub cleanup: PlanCleanup,
    /// The files the plan wrote, with their digests (verified by [`load`]).
    #[serde(default)]
    pub files: BTreeMap<String, String>,
}

impl PlanFile {
    /// Whether the plan wrote `file` (a step file a policy version may leave out).
    pub fn records(&self, file: &str) -> bool {
        self.files.contains_key(file)
    }
}

/// How much of a namespace the plan's input covered.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct PlanCoverage {
    /// `complete` or `partial`.
    #[serde(default)]
    pub status: String,
    /// The resources not known to be complete there.
    #[serde(default)]
    pub missing: Vec<String>,
}

impl PlanCoverage {
    /// Anything but an explicit `complete` counts as partial.
    pub fn is_partial(&self) -> bool {
        self.status != "complete"
    }
}

/// An object of `cleanup.delete`, as `plan.json` names it.
#[derive(Clone, Debug, Deserialize)]
pub struct PlanObjectRef {
    pub kind: String,
    #[serde(default)]
    pub namespace: Option<String>,
    pub name: String,
}

impl PlanObjectRef {
    /// Its key, with the API version of its kind (only PSPs and RBAC objects).
    pub fn key(&self) -> Result<ObjectKey, String> {
        let api_version = match self.kind.as_str() {
            "PodSecurityPolicy" => "policy/v1beta1",
            "ClusterRole" | "ClusterRoleBinding" | "Role" | "RoleBinding" => {
                "rbac.authorization.k8s.io/v1"
            }
            k => {
                return Err(format!(
                    "{k} {}: only PodSecurityPolicy, ClusterRole, ClusterRoleBinding, Role and \
                     RoleBinding objects may be deleted by a plan",
                    self.name
                ));
            }
        };
        let manifest = serde_json::json!({
            "apiVersion": api_version,
            "kind": self.kind,
            "metadata": {"name": self.name, "namespace": self.namespace},
        });
        ObjectKey::from_manifest(&manifest)
    }
}

/// One namespace of the plan.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanNamespace {
    pub name: String,
    #[serde(default)]
    pub exempt: bool,
    #[serde(default)]
    pub planned_labels: BTreeMap<String, String>,
    #[serde(default)]
    pub coverage: PlanCoverage,
}

/// The clean-up facts of the plan.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanCleanup {
    /// What step 4 deletes, in order: nothing else is ever deleted.
    #[serde(default)]
    pub delete: Vec<PlanObjectRef>,
    /// Running pods per admitting PSP when the plan was made.
    #[serde(default)]
    pub running_pods_by_psp: BTreeMap<String, usize>,
}

impl PlanFile {
    pub fn namespace(&self, name: &str) -> Option<&PlanNamespace> {
        self.namespaces.iter().find(|n| n.name == name)
    }

    /// The objects step 4 deletes (`cleanup.delete`), each with its key.
    pub fn cleanup_objects(&self, path: &str) -> Result<Vec<ObjectKey>, PlanFileError> {
        self.cleanup
            .delete
            .iter()
            .enumerate()
            .map(|(i, r)| {
                r.key().map_err(|message| PlanFileError::Invalid {
                    path: path.to_owned(),
                    message: format!("cleanup.delete[{i}]: {message}"),
                })
            })
            .collect()
    }
}

/// Parses `plan.json` into a JSON value and checks its schema version; `path` is for messages.
fn parse_value(text: &str, path: &str) -> Result<Value, PlanFileError> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| PlanFileError::Json { path: path.to_owned(), message: e.to_string() })?;
    let found = value.get("schemaVersion").and_then(Value::as_str).unwrap_or_default();
    if found != PLAN_SCHEMA_VERSION {
        let found = if found.is_empty() { "(none)".to_owned() } else { found.to_owned() };
        return Err(PlanFileError::Schema { path: path.to_owned(), found });
    }
    Ok(value)
}

fn view(value: Value, path: &str) -> Result<PlanFile, PlanFileError> {
    serde_path_to_error::deserialize(value).map_err(|e| PlanFileError::Invalid {
        path: path.to_owned(),
        message: format!("{}: {}", e.path(), e.inner()),
    })
}

/// Parses the text of `plan.json` without verifying digests (tests); `path` is for messages.
#[cfg(test)]
pub fn parse(text: &str, path: &str) -> Result<PlanFile, PlanFileError> {
    view(parse_value(text, path)?, path)
}

/// The file names and digests `plan.json` records, after checking its own digest.
fn recorded_files(value: &Value, path: &str) -> Result<BTreeMap<String, String>, PlanFileError> {
    let changed = |message: String| PlanFileError::Changed { path: path.to_owned(), message };
    let (Some(recorded), Some(digest)) = (
        value.get("files").and_then(Value::as_object),
        value.get("digest").and_then(Value::as_str),
    ) else {
        return Err(PlanFileError::Invalid {
            path: path.to_owned(),
            message: "records no file digests (`files`, `digest`): written by an older \
                      psa-migrate; re-run psa-migrate plan"
                .to_owned(),
        });
    };
    let actual = files::plan_digest(value);
    if digest != actual {
        return Err(changed(format!(
            "edited since it was written: its digest is {digest}, its content hashes to {actual}"
        )));
    }
    let mut out = BTreeMap::new();
    for (name, sum) in recorded {
        let Some(sum) = sum.as_str() else {
            return Err(PlanFileError::Invalid {
                path: path.to_owned(),
                message: format!("files.{name}: expected a \"sha256:<hex>\" string"),
            });
        };
        // Only relative paths inside the directory (`fixes/<namespace>/…`): a plan never
        // records anything outside it.
        let plain = !name.is_empty()
            && name != files::PLAN_JSON
            && !name.contains('\\')
            && Path::new(name).components().all(|c| matches!(c, std::path::Component::Normal(_)));
        if !plain {
            return Err(PlanFileError::Invalid {
                path: path.to_owned(),
                message: format!("files: {name:?} is not a file of the migration directory"),
            });
        }
        out.insert(name.clone(), sum.to_owned());
    }
    Ok(out)
}

/// Checks every file `plan.json` records against its digest.
fn verify_files(dir: &Path, recorded: &BTreeMap<String, String>) -> Result<(), PlanFileError> {
    for (name, sum) in recorded {
        let path = dir.join(name);
        let shown = path.display().to_string();
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(PlanFileError::Changed {
                    path: shown,
                    message: "missing (plan.json records it)".to_owned(),
                });
            }
            Err(e) => return Err(PlanFileError::Read { path: shown, message: e.to_string() }),
        };
        let actual = files::sha256(&bytes);
        if &actual != sum {
            return Err(PlanFileError::Changed {
                path: shown,
                message: format!(
                    "changed since plan wrote it: plan.json records {sum}, it is now {actual}"
                ),
            });
        }
    }
    Ok(())
}

/// Reads `DIR/plan.json` and verifies the directory: its own digest and that of every file it
/// records. A directory that fails is refused whole.
pub fn load(dir: &Path) -> Result<PlanFile, PlanFileError> {
    let path = dir.join(files::PLAN_JSON);
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(&path)
        .map_err(|e| PlanFileError::Read { path: shown.clone(), message: e.to_string() })?;
    let value = parse_value(&text, &shown)?;
    let recorded = recorded_files(&value, &shown)?;
    verify_files(dir, &recorded)?;
    view(value, &shown)
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

/// Reads the objects of a step file: step 3 (`0003-psp-bypass.yaml`). Call after [`load`],
/// which verified the file's digest. Step 4 deletes what `plan.json` lists
/// ([`PlanFile::cleanup_objects`]), never what its file says.
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
      "schemaVersion": "psa-migrate.plan/v4",
      "name": "demo",
      "clusterVersion": "v1.24",
      "pspAdmissionActive": true,
      "namespaces": [
        {"name": "web", "exempt": false, "currentLabels": {},
         "plannedLabels": {"pod-security.kubernetes.io/enforce": "baseline"},
         "reasons": ["ignored"], "pspLevel": "baseline"}
      ],
      "cleanup": {"delete": [], "manual": [], "runningPodsByPsp": {"restricted": 2}},
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
        let text = PLAN.replace("psa-migrate.plan/v4", "psa-migrate.plan/v9");
        let e = parse(&text, "x/plan.json").unwrap_err().to_string();
        assert!(e.contains("schemaVersion is \"psa-migrate.plan/v9\""), "{e}");
        // A plan of schema v1 (snake_case keys) asks for a new plan.
        let text = PLAN.replace("psa-migrate.plan/v4", "psa-migrate.plan/v1");
        let e = parse(&text, "x/plan.json").unwrap_err().to_string();
        assert!(
            e.contains("\"psa-migrate.plan/v1\"") && e.contains("re-run `psa-migrate plan`"),
            "{e}"
        );
        let e = parse("{}", "x/plan.json").unwrap_err().to_string();
        assert!(e.contains("(none)"), "{e}");
        let e = parse("not json", "x/plan.json").unwrap_err().to_string();
        assert!(e.contains("not valid JSON"), "{e}");
        let bad = PLAN.replace("\"namespaces\": [", "\"namespaces\": [1, ");
        let e = parse(&bad, "x/plan.json").unwrap_err().to_string();
        assert!(e.contains("namespaces[0]"), "{e}");
    }

    /// A sealed migration directory: plan.json recording one step file.
    fn sealed_dir() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let step = "# step 2\n";
        std::fs::write(dir.path().join(files::ENFORCE), step).unwrap();
        let mut v: Value = serde_json::from_str(PLAN).unwrap();
        v["files"] = serde_json::json!({files::ENFORCE: files::sha256(step.as_bytes())});
        v["digest"] = files::plan_digest(&v).into();
        let text = serde_json::to_string_pretty(&v).unwrap();
        std::fs::write(dir.path().join(files::PLAN_JSON), text).unwrap();
        dir
    }

    fn edit_plan(dir: &Path, f: impl FnOnce(&mut Value)) {
        let path = dir.join(files::PLAN_JSON);
        let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        f(&mut v);
        std::fs::write(&path, serde_json::to_string(&v).unwrap()).unwrap();
    }

    #[test]
    fn load_verifies_the_recorded_files() {
        let dir = sealed_dir();
        assert_eq!(load(dir.path()).unwrap().name, "demo");
        // Files beside the recorded ones (journal, lock, notes) are not part of the plan.
        std::fs::write(dir.path().join("journal.json"), "{}").unwrap();
        std::fs::write(dir.path().join(".lock"), "x").unwrap();
        assert!(load(dir.path()).is_ok());
        // Re-indenting plan.json keeps its digest.
        edit_plan(dir.path(), |_| {});
        assert!(load(dir.path()).is_ok());

        std::fs::write(dir.path().join(files::ENFORCE), "# step 2, edited\n").unwrap();
        let e = load(dir.path()).unwrap_err().to_string();
        assert!(e.contains("0002-enforce.yaml: changed since plan wrote it"), "{e}");
        assert!(e.contains("re-run psa-migrate plan"), "{e}");
        std::fs::remove_file(dir.path().join(files::ENFORCE)).unwrap();
        let e = load(dir.path()).unwrap_err().to_string();
        assert!(e.contains("0002-enforce.yaml: missing"), "{e}");
    }

    #[test]
    fn load_refuses_an_edited_or_unsealed_plan() {
        let dir = sealed_dir();
        edit_plan(dir.path(), |v| v["namespaces"][0]["plannedLabels"]["x"] = "y".into());
        let e = load(dir.path()).unwrap_err().to_string();
        assert!(e.contains("plan.json: edited since it was written"), "{e}");
        let dir = sealed_dir();
        edit_plan(dir.path(), |v| {
            v.as_object_mut().unwrap().remove("files");
        });
        let e = load(dir.path()).unwrap_err().to_string();
        assert!(e.contains("re-run psa-migrate plan"), "{e}");
        let dir = sealed_dir();
        edit_plan(dir.path(), |v| {
            v["files"]["../elsewhere"] = "sha256:00".into();
            v["digest"] = files::plan_digest(v).into();
        });
        let e = load(dir.path()).unwrap_err().to_string();
        assert!(e.contains("not a file of the migration directory"), "{e}");
    }

    #[test]
    fn cleanup_objects_come_from_the_plan() {
        let text = PLAN.replace(
            "\"delete\": []",
            r#""delete": [{"kind": "RoleBinding", "namespace": "web", "name": "disable-psp"},
                          {"kind": "PodSecurityPolicy", "name": "psa-migrate-privileged"}]"#,
        );
        let p = parse(&text, "plan.json").unwrap();
        let keys = p.cleanup_objects("plan.json").unwrap();
        assert_eq!(keys[0].api_version, "rbac.authorization.k8s.io/v1");
        assert_eq!(keys[0].to_string(), "RoleBinding web/disable-psp");
        assert_eq!(keys[1].api_version, "policy/v1beta1");
        let bad = PLAN.replace(
            "\"delete\": []",
            r#""delete": [{"kind": "Secret", "namespace": "a", "name": "s"}]"#,
        );
        let e = parse(&bad, "plan.json").unwrap().cleanup_objects("plan.json").unwrap_err();
        assert!(e.to_string().contains("cleanup.delete[0]: Secret s: only"), "{e}");
        assert!(p.namespace("web").unwrap().coverage.is_partial(), "no status: partial");
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
