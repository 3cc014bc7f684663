//! The journal (`DIR/journal.json`): every write `apply` makes, recorded with the state before it
//! so that `rollback` can undo it. An entry is written (and made durable) before its write is
//! sent, as `pending`; it becomes `applied` after the server accepted the write, and
//! `rolled-back` once undone.
//!
//! One entry per (namespace, label step) and per (step, object). Re-applying a step reuses its
//! entry and never replaces the previous values it recorded first: they are the state before the
//! migration. The data structures are pure; [`load`] and [`save`] do the file I/O (save writes a
//! temporary file, fsyncs it and renames it over the journal).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::apply::labels::MaybeLabels;
use crate::apply::objects::ObjectKey;

/// The journal's schema version.
pub const JOURNAL_SCHEMA_VERSION: &str = "psa-migrate.journal/v2";
/// The journal's file name in the migration directory.
pub const JOURNAL_FILE: &str = "journal.json";

/// Where an entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum EntryState {
    /// Recorded; the write was sent or is about to be, and may or may not have happened.
    Pending,
    /// The server accepted the write.
    Applied,
    /// Undone by `rollback`.
    RolledBack,
}

/// What a journaled write did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "action", rename_all = "kebab-case", rename_all_fields = "camelCase")]
pub enum Change {
    /// A label step on a namespace.
    Labels {
        namespace: String,
        /// Each key's value before the first apply of this step (`null`: the label was absent).
        previous: MaybeLabels,
        /// The labels the last apply wrote.
        written: BTreeMap<String, String>,
        /// The namespace's resourceVersion the last write was conditioned on.
        resource_version_before: String,
        /// Its resourceVersion after the write, once applied.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resource_version_after: Option<String>,
    },
    /// An object created (step 3): rollback deletes it.
    Create {
        object: ObjectKey,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resource_version_after: Option<String>,
    },
    /// An object deleted (step 4), with its full JSON as read before the delete: rollback
    /// creates it again.
    Delete { object: ObjectKey, manifest: Value },
}

/// One journaled write.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    /// Stable identity of the entry.
    pub id: u64,
    /// Order of the latest recording: rollback undoes the highest first.
    pub seq: u64,
    pub step: u32,
    pub state: EntryState,
    /// Unix seconds of the first recording and of the latest change of state.
    pub recorded_at: u64,
    pub updated_at: u64,
    #[serde(flatten)]
    pub change: Change,
}

impl Entry {
    /// The namespace an entry touches (the namespace of a label step or a namespaced object).
    pub fn namespace(&self) -> Option<&str> {
        match &self.change {
            Change::Labels { namespace, .. } => Some(namespace),
            Change::Create { object, .. } | Change::Delete { object, .. } => object.namespace(),
        }
    }

    /// `namespace/web step 1`, `RoleBinding web/disable-psp (step 3)`.
    #[cfg(test)]
    pub fn describe(&self) -> String {
        match &self.change {
            Change::Labels { namespace, .. } => {
                format!("namespace/{namespace} (step {})", self.step)
            }
            Change::Create { object, .. } => format!("created {object} (step {})", self.step),
            Change::Delete { object, .. } => format!("deleted {object} (step {})", self.step),
        }
    }
}

/// The whole journal.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Journal {
    pub schema_version: String,
    /// The plan's name.
    pub plan: String,
    pub entries: Vec<Entry>,
}

impl Journal {
    pub fn new(plan: &str) -> Journal {
        Journal {
            schema_version: JOURNAL_SCHEMA_VERSION.to_owned(),
            plan: plan.to_owned(),
            entries: Vec::new(),
        }
    }

    fn next_id(&self) -> u64 {
        self.entries.iter().map(|e| e.id).max().unwrap_or(0) + 1
    }

    fn next_seq(&self) -> u64 {
        self.entries.iter().map(|e| e.seq).max().unwrap_or(0) + 1
    }

    #[cfg(test)]
    pub fn get(&self, id: u64) -> Option<&Entry> {
        self.entries.iter().find(|e| e.id == id)
    }

    /// The entry of a label step on a namespace.
    pub fn labels_entry(&self, namespace: &str, step: u32) -> Option<&Entry> {
        self.entries.iter().find(|e| {
            e.step == step
                && matches!(&e.change, Change::Labels { namespace: n, .. } if n == namespace)
        })
    }

    /// The entry of an object created or deleted by a step.
    pub fn object_entry(&self, key: &ObjectKey, step: u32) -> Option<&Entry> {
        self.entries.iter().find(|e| {
            e.step == step
                && matches!(&e.change, Change::Create { object, .. } | Change::Delete { object, .. } if object == key)
        })
    }

    fn upsert(&mut self, existing: Option<u64>, step: u32, now: u64, change: Change) -> u64 {
        let seq = self.next_seq();
        match existing.and_then(|id| self.entries.iter_mut().find(|e| e.id == id)) {
            Some(e) => {
                e.seq = seq;
                e.state = EntryState::Pending;
                e.updated_at = now;
                e.change = change;
                e.id
            }
            None => {
                let id = self.next_id();
                self.entries.push(Entry {
                    id,
                    seq,
                    step,
                    state: EntryState::Pending,
                    recorded_at: now,
                    updated_at: now,
                    change,
                });
                id
            }
        }
    }

    /// Records a label step about to be written (pending). An existing entry for the namespace
    /// and step keeps the previous values it recorded first; keys it did not record yet get
    /// `previous` values. Returns the entry's id.
    pub fn record_labels(
        &mut self,
        namespace: &str,
        step: u32,
        previous: &MaybeLabels,
        written: &BTreeMap<String, String>,
        resource_version: &str,
        now: u64,
    ) -> u64 {
        let existing = self.labels_entry(namespace, step);
        let mut kept = match existing.map(|e| &e.change) {
            Some(Change::Labels { previous: original, .. }) => original.clone(),
            _ => MaybeLabels::new(),
        };
        for (k, v) in previous {
            kept.entry(k.clone()).or_insert_with(|| v.clone());
        }
        let id = existing.map(|e| e.id);
        self.upsert(
            id,
            step,
            now,
            Change::Labels {
                namespace: namespace.to_owned(),
                previous: kept,
                written: written.clone(),
                resource_version_before: resource_version.to_owned(),
                resource_version_after: None,
            },
        )
    }

    /// Records an object about to be created (pending).
    pub fn record_create(&mut self, key: &ObjectKey, step: u32, now: u64) -> u64 {
        let id = self.object_entry(key, step).map(|e| e.id);
        self.upsert(
            id,
            step,
            now,
            Change::Create { object: key.clone(), resource_version_after: None },
        )
    }

    /// Records an object about to be deleted, with its live JSON (pending).
    pub fn record_delete(&mut self, key: &ObjectKey, step: u32, manifest: &Value, now: u64) -> u64 {
        let id = self.object_entry(key, step).map(|e| e.id);
        self.upsert(
            id,
            step,
            now,
            Change::Delete { object: key.clone(), manifest: manifest.clone() },
        )
    }

    /// Marks an entry applied, with the object's resourceVersion after the write.
    pub fn mark_applied(&mut self, id: u64, resource_version: Option<String>, now: u64) {
        if let Some(e) = self.entries.iter_mut().find(|e| e.id == id) {
            e.state = EntryState::Applied;
            e.updated_at = now;
            match &mut e.change {
                Change::Labels { resource_version_after, .. }
                | Change::Create { resource_version_after, .. } => {
                    *resource_version_after = resource_version;
                }
                Change::Delete { .. } => {}
            }
        }
    }

    /// Marks an entry rolled back.
    pub fn mark_rolled_back(&mut self, id: u64, now: u64) {
        if let Some(e) = self.entries.iter_mut().find(|e| e.id == id) {
            e.state = EntryState::RolledBack;
            e.updated_at = now;
        }
    }

    /// The entries to undo, newest first: applied and pending ones (a pending write may have
    /// happened).
    pub fn to_roll_back(&self) -> Vec<&Entry> {
        let mut v: Vec<&Entry> =
            self.entries.iter().filter(|e| e.state != EntryState::RolledBack).collect();
        v.sort_by_key(|e| std::cmp::Reverse(e.seq));
        v
    }

    /// Entries still pending (a write that may not have happened).
    pub fn pending(&self) -> Vec<&Entry> {
        self.entries.iter().filter(|e| e.state == EntryState::Pending).collect()
    }
}

/// Why the journal cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("cannot read the journal {path}: {message}")]
    Read { path: String, message: String },
    #[error(
        "the journal {path} has schemaVersion {found:?}; this psa-migrate reads \
         {JOURNAL_SCHEMA_VERSION:?}: roll back with the psa-migrate that wrote it, or re-run \
         `psa-migrate plan` with this version"
    )]
    Schema { path: String, found: String },
    #[error("cannot write the journal {path}: {message}; nothing more is written to the cluster")]
    Write { path: String, message: String },
}

/// `DIR/journal.json`.
pub fn path(dir: &Path) -> PathBuf {
    dir.join(JOURNAL_FILE)
}

/// Reads the journal; `None` when there is none yet.
pub fn load(path: &Path) -> Result<Option<Journal>, JournalError> {
    let shown = path.display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(JournalError::Read { path: shown, message: e.to_string() }),
    };
    let value: Value = serde_json::from_str(&text)
        .map_err(|e| JournalError::Read { path: shown.clone(), message: e.to_string() })?;
    let found = value.get("schemaVersion").and_then(Value::as_str).unwrap_or_default();
    if found != JOURNAL_SCHEMA_VERSION {
        return Err(JournalError::Schema { path: shown, found: found.to_owned() });
    }
    serde_path_to_error::deserialize(value).map(Some).map_err(|e| JournalError::Read {
        path: shown,
        message: format!("{}: {}", e.path(), e.inner()),
    })
}

/// Writes the journal durably: a temporary file beside it, fsynced, renamed over the journal,
/// and the directory fsynced.
pub fn save(path: &Path, journal: &Journal) -> Result<(), JournalError> {
    let fail = |e: std::io::Error| JournalError::Write {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    let mut text =
        serde_json::to_string_pretty(journal).map_err(|e| fail(std::io::Error::other(e)))?;
    text.push('\n');
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| JOURNAL_FILE.to_owned());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        // Make the rename itself durable (not possible everywhere; best effort).
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(fail)
}

/// Seconds since the Unix epoch.
pub fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    const W: &str = "pod-security.kubernetes.io/warn";
    const A: &str = "pod-security.kubernetes.io/audit";

    #[test]
    fn re_recording_keeps_the_original_previous_values() {
        let mut j = Journal::new("demo");
        let prev: MaybeLabels =
            [(W.to_owned(), Some("baseline".to_owned())), (A.to_owned(), None)].into();
        let id = j.record_labels(
            "web",
            1,
            &prev,
            &labels(&[(W, "restricted"), (A, "restricted")]),
            "10",
            1,
        );
        assert_eq!(j.pending().len(), 1);
        j.mark_applied(id, Some("11".into()), 2);
        assert_eq!(j.get(id).unwrap().state, EntryState::Applied);
        // A later apply sees the migrated values as "previous": they must not replace the originals.
        let later: MaybeLabels =
            [(W.to_owned(), Some("restricted".to_owned())), (A.to_owned(), Some("x".to_owned()))]
                .into();
        let id2 = j.record_labels(
            "web",
            1,
            &later,
            &labels(&[(W, "restricted"), (A, "restricted")]),
            "12",
            3,
        );
        assert_eq!(id, id2);
        let e = j.get(id).unwrap();
        assert_eq!(e.state, EntryState::Pending);
        let Change::Labels { previous, resource_version_before, resource_version_after, .. } =
            &e.change
        else {
            panic!()
        };
        assert_eq!(previous, &prev);
        assert_eq!(resource_version_before, "12");
        assert_eq!(resource_version_after, &None);
        assert_eq!(e.recorded_at, 1);
        assert_eq!(j.entries.len(), 1);
    }

    #[test]
    fn rollback_order_is_newest_first_and_skips_rolled_back() {
        let mut j = Journal::new("demo");
        let a = j.record_labels("a", 1, &MaybeLabels::new(), &BTreeMap::new(), "1", 0);
        let b = j.record_labels("b", 1, &MaybeLabels::new(), &BTreeMap::new(), "1", 0);
        let key = ObjectKey {
            api_version: "policy/v1beta1".into(),
            kind: "PodSecurityPolicy".into(),
            namespace: None,
            name: "p".into(),
        };
        let c = j.record_create(&key, 3, 0);
        let d = j.record_delete(&key, 4, &serde_json::json!({"kind": "PodSecurityPolicy"}), 0);
        j.mark_rolled_back(b, 0);
        let order: Vec<u64> = j.to_roll_back().iter().map(|e| e.id).collect();
        assert_eq!(order, vec![d, c, a]);
        // Re-recording moves an entry to the front.
        j.record_labels("a", 1, &MaybeLabels::new(), &BTreeMap::new(), "2", 0);
        assert_eq!(j.to_roll_back()[0].id, a);
        assert_eq!(j.object_entry(&key, 3).unwrap().id, c);
        assert_eq!(j.get(d).unwrap().describe(), "deleted PodSecurityPolicy p (step 4)");
    }

    #[test]
    fn file_round_trip_and_schema_check() {
        let dir =
            std::env::temp_dir().join(format!("psa-migrate-journal-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = path(&dir);
        let _ = std::fs::remove_file(&p);
        assert_eq!(load(&p).unwrap(), None);
        let mut j = Journal::new("demo");
        let prev: MaybeLabels = [(W.to_owned(), None)].into();
        let id = j.record_labels("web", 1, &prev, &labels(&[(W, "restricted")]), "10", 5);
        j.mark_applied(id, Some("11".into()), 6);
        save(&p, &j).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.contains("\"action\": \"labels\""), "{text}");
        assert!(text.contains("\"resourceVersionBefore\": \"10\""), "{text}");
        assert!(text.contains("\"recordedAt\": 5"), "{text}");
        assert!(text.contains("\"pod-security.kubernetes.io/warn\": null"), "{text}");
        assert_eq!(load(&p).unwrap(), Some(j));
        std::fs::write(&p, r#"{"schemaVersion": "other", "plan": "x", "entries": []}"#).unwrap();
        assert!(matches!(load(&p), Err(JournalError::Schema { .. })));
        // A journal of schema v1 (snake_case keys) is refused with a way forward.
        std::fs::write(
            &p,
            r#"{"schemaVersion": "psa-migrate.journal/v1", "plan": "x", "entries": []}"#,
        )
        .unwrap();
        let e = load(&p).unwrap_err().to_string();
        assert!(
            e.contains("psa-migrate.journal/v1") && e.contains("re-run `psa-migrate plan`"),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
