//! Patch application (JSON merge patch, strategic merge patch for maps, RFC 6902 JSON patch),
//! metadata label/annotation validation, and a small model of server-side-apply field ownership
//! for `metadata.labels` and `metadata.annotations`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::util::{format_rfc3339, go_quote};

/// RFC 7386 merge patch. With `strategic`, `$`-directives are dropped (maps merge the same way;
/// lists are replaced, which is what strategic merge does for lists without a merge key).
pub fn merge_patch(target: &mut Value, patch: &Value, strategic: bool) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let t = target.as_object_mut().expect("object");
    for (k, v) in p {
        if strategic && k.starts_with('$') {
            continue;
        }
        if v.is_null() {
            t.remove(k);
        } else if v.is_object() {
            let entry = t.entry(k.clone()).or_insert(Value::Null);
            merge_patch(entry, v, strategic);
        } else {
            t.insert(k.clone(), v.clone());
        }
    }
}

fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

fn split_pointer(path: &str) -> Result<(Vec<String>, String), String> {
    if path.is_empty() {
        return Err("JSON patch path must not be empty".into());
    }
    let mut parts: Vec<String> = path.split('/').skip(1).map(unescape).collect();
    let last = parts.pop().ok_or_else(|| format!("invalid path {path}"))?;
    Ok((parts, last))
}

fn parent_mut<'a>(
    doc: &'a mut Value,
    parts: &[String],
    path: &str,
) -> Result<&'a mut Value, String> {
    let mut cur = doc;
    for p in parts {
        cur = match cur {
            Value::Object(m) => m.get_mut(p),
            Value::Array(a) => p.parse::<usize>().ok().and_then(|i| a.get_mut(i)),
            _ => None,
        }
        .ok_or_else(|| format!("doc is missing path: {path}: missing value"))?;
    }
    Ok(cur)
}

fn add(doc: &mut Value, path: &str, value: Value) -> Result<(), String> {
    if path.is_empty() {
        *doc = value;
        return Ok(());
    }
    let (parts, last) = split_pointer(path)?;
    match parent_mut(doc, &parts, path)? {
        Value::Object(m) => {
            m.insert(last, value);
            Ok(())
        }
        Value::Array(a) => {
            let idx = if last == "-" {
                a.len()
            } else {
                last.parse().map_err(|_| format!("invalid index {last}"))?
            };
            if idx > a.len() {
                return Err(format!("index out of bounds: {idx}"));
            }
            a.insert(idx, value);
            Ok(())
        }
        _ => Err(format!("doc is missing path: {path}: missing value")),
    }
}

fn remove(doc: &mut Value, path: &str) -> Result<Value, String> {
    let (parts, last) = split_pointer(path)?;
    match parent_mut(doc, &parts, path)? {
        Value::Object(m) => {
            m.remove(&last).ok_or_else(|| format!("doc is missing key: {path}: missing value"))
        }
        Value::Array(a) => {
            let idx: usize = last.parse().map_err(|_| format!("invalid index {last}"))?;
            if idx >= a.len() {
                return Err(format!("index out of bounds: {idx}"));
            }
            Ok(a.remove(idx))
        }
        _ => Err(format!("doc is missing path: {path}: missing value")),
    }
}

/// Applies an RFC 6902 patch. Errors carry evanphx/json-patch style text (the API server hides
/// it behind a generic 422 message).
pub fn json_patch(doc: &mut Value, ops: &Value) -> Result<(), String> {
    let ops = ops.as_array().ok_or("json patch must be an array")?;
    for op in ops {
        let kind = op["op"].as_str().ok_or("json patch operation without op")?;
        let path = op["path"].as_str().ok_or("json patch operation without path")?;
        match kind {
            "add" => add(doc, path, op.get("value").cloned().ok_or("add without value")?)
                .map_err(|e| format!("add operation does not apply: {e}"))?,
            "remove" => {
                remove(doc, path).map_err(|e| format!("remove operation does not apply: {e}"))?;
            }
            "replace" => {
                remove(doc, path).map_err(|e| format!("replace operation does not apply: {e}"))?;
                add(doc, path, op.get("value").cloned().ok_or("replace without value")?)?;
            }
            "test" => {
                let want = op.get("value").cloned().unwrap_or(Value::Null);
                let ptr: String = path.to_owned();
                if doc.pointer(&ptr) != Some(&want) {
                    return Err(format!("testing value {path} failed: test failed"));
                }
            }
            "move" | "copy" => {
                let from = op["from"].as_str().ok_or("move/copy without from")?;
                let v = if kind == "move" {
                    remove(doc, from)?
                } else {
                    doc.pointer(from)
                        .cloned()
                        .ok_or_else(|| format!("copy from missing path {from}"))?
                };
                add(doc, path, v)?;
            }
            other => return Err(format!("Unexpected kind: {other}")),
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Label and annotation validation (apimachinery ValidateLabels / ValidateAnnotations).

fn is_name_part(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

fn is_dns_subdomain(s: &str) -> bool {
    s.len() <= 253
        && !s.is_empty()
        && s.split('.').all(|l| {
            let b = l.as_bytes();
            !b.is_empty()
                && b[0].is_ascii_alphanumeric()
                && b[b.len() - 1].is_ascii_alphanumeric()
                && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        })
}

/// A field validation error (`field.Invalid`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub value: String,
    pub detail: String,
}

impl FieldError {
    /// `Invalid value: "x": detail` (the cause message).
    pub fn body(&self) -> String {
        format!("Invalid value: {}: {}", go_quote(&self.value), self.detail)
    }
    /// `field: Invalid value: "x": detail`.
    pub fn message(&self) -> String {
        format!("{}: {}", self.field, self.body())
    }
}

const NAME_MSG: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const VALUE_MSG: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const PREFIX_MSG: &str = "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

fn qualified_name_errors(key: &str) -> Vec<String> {
    let (prefix, name) = match key.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    let mut errs = Vec::new();
    if key.matches('/').count() > 1 {
        errs.push("a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')".to_owned());
        return errs;
    }
    if let Some(p) = prefix {
        if p.is_empty() {
            errs.push("prefix part must be non-empty".into());
        } else if !is_dns_subdomain(p) {
            errs.push(PREFIX_MSG.into());
        }
    }
    if name.is_empty() {
        errs.push("name part must be non-empty".into());
    } else {
        if name.len() > 63 {
            errs.push("name part must be no more than 63 characters".into());
        }
        if !is_name_part(name) {
            errs.push(NAME_MSG.into());
        }
    }
    errs
}

/// Validates `metadata.labels` and the keys of `metadata.annotations`.
pub fn validate_metadata(obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if let Some(labels) = obj["metadata"]["labels"].as_object() {
        for (k, v) in labels {
            for d in qualified_name_errors(k) {
                errs.push(FieldError {
                    field: "metadata.labels".into(),
                    value: k.clone(),
                    detail: d,
                });
            }
            let v = v.as_str().unwrap_or_default();
            if v.len() > 63 {
                errs.push(FieldError {
                    field: "metadata.labels".into(),
                    value: v.into(),
                    detail: "must be no more than 63 characters".into(),
                });
            }
            if !v.is_empty() && !is_name_part(v) {
                errs.push(FieldError {
                    field: "metadata.labels".into(),
                    value: v.into(),
                    detail: VALUE_MSG.into(),
                });
            }
        }
    }
    if let Some(ann) = obj["metadata"]["annotations"].as_object() {
        for k in ann.keys() {
            for d in qualified_name_errors(&k.to_ascii_lowercase()) {
                errs.push(FieldError {
                    field: "metadata.annotations".into(),
                    value: k.clone(),
                    detail: d,
                });
            }
        }
    }
    errs
}

/// String maps of a metadata field (`labels` / `annotations`).
pub fn string_map(obj: &Value, field: &str) -> BTreeMap<String, String> {
    obj["metadata"][field]
        .as_object()
        .map(|m| {
            m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned())).collect()
        })
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Field ownership (managedFields), reduced to metadata.labels and metadata.annotations.

const TRACKED: [&str; 2] = ["labels", "annotations"];

/// One `managedFields` entry; `fields` is the raw `fieldsV1` (other owned fields are preserved).
#[derive(Clone, Debug)]
pub struct Entry {
    pub manager: String,
    pub operation: String,
    pub api_version: String,
    pub subresource: Option<String>,
    pub time: Option<String>,
    pub fields: Value,
}

impl Entry {
    fn owned(&self, field: &str) -> BTreeSet<String> {
        self.fields["f:metadata"][format!("f:{field}")]
            .as_object()
            .map(|m| m.keys().filter_map(|k| k.strip_prefix("f:").map(str::to_owned)).collect())
            .unwrap_or_default()
    }

    fn set_owned(&mut self, field: &str, keys: &BTreeSet<String>) {
        if !self.fields.is_object() {
            self.fields = Value::Object(Map::new());
        }
        let root = self.fields.as_object_mut().expect("object");
        let meta = root.entry("f:metadata").or_insert_with(|| Value::Object(Map::new()));
        if !meta.is_object() {
            *meta = Value::Object(Map::new());
        }
        let meta = meta.as_object_mut().expect("object");
        if keys.is_empty() {
            meta.remove(&format!("f:{field}"));
        } else {
            let m: Map<String, Value> =
                keys.iter().map(|k| (format!("f:{k}"), Value::Object(Map::new()))).collect();
            meta.insert(format!("f:{field}"), Value::Object(m));
        }
        if meta.is_empty() {
            root.remove("f:metadata");
        }
    }

    fn is_empty(&self) -> bool {
        self.fields.as_object().is_none_or(Map::is_empty)
    }

    /// How conflict messages name the manager (apimachinery `printManager`).
    pub fn describe(&self) -> String {
        let mut s = go_quote(&self.manager);
        if let Some(sub) = &self.subresource {
            s = format!("{s} with subresource {}", go_quote(sub));
        }
        if self.operation == "Update" {
            s = format!("{s} using {}", self.api_version);
        }
        s
    }

    fn same_owner(&self, manager: &str, operation: &str) -> bool {
        self.manager == manager && self.operation == operation && self.subresource.is_none()
    }

    fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("manager".into(), self.manager.clone().into());
        m.insert("operation".into(), self.operation.clone().into());
        m.insert("apiVersion".into(), self.api_version.clone().into());
        if let Some(t) = &self.time {
            m.insert("time".into(), t.clone().into());
        }
        m.insert("fieldsType".into(), "FieldsV1".into());
        m.insert("fieldsV1".into(), self.fields.clone());
        if let Some(s) = &self.subresource {
            m.insert("subresource".into(), s.clone().into());
        }
        Value::Object(m)
    }
}

pub fn read_entries(obj: &Value) -> Vec<Entry> {
    let s = |v: &Value| v.as_str().map(str::to_owned);
    obj["metadata"]["managedFields"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| Entry {
                    manager: s(&e["manager"]).unwrap_or_default(),
                    operation: s(&e["operation"]).unwrap_or_else(|| "Update".into()),
                    api_version: s(&e["apiVersion"]).unwrap_or_default(),
                    subresource: s(&e["subresource"]),
                    time: s(&e["time"]),
                    fields: e.get("fieldsV1").cloned().unwrap_or(Value::Object(Map::new())),
                })
                .collect()
        })
        .unwrap_or_default()
}

pub fn write_entries(obj: &mut Value, entries: &[Entry]) {
    let meta = &mut obj["metadata"];
    if let Some(m) = meta.as_object_mut() {
        if entries.is_empty() {
            m.remove("managedFields");
        } else {
            m.insert("managedFields".into(), entries.iter().map(Entry::to_json).collect());
        }
    }
}

fn changed_keys(
    old: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
) -> (BTreeSet<String>, BTreeSet<String>) {
    let set: BTreeSet<String> =
        new.iter().filter(|(k, v)| old.get(*k) != Some(*v)).map(|(k, _)| k.clone()).collect();
    let removed: BTreeSet<String> = old.keys().filter(|k| !new.contains_key(*k)).cloned().collect();
    (set, removed)
}

/// Records ownership for a non-apply write. Like the real server, objects without managedFields
/// stay untracked until the first apply.
pub fn track_update(old: &Value, new: &mut Value, manager: &str, api_version: &str, now: i64) {
    let mut entries = read_entries(old);
    if entries.is_empty() {
        write_entries(new, &[]);
        return;
    }
    let mut touched = false;
    let mut mine: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for field in TRACKED {
        let (set, removed) = changed_keys(&string_map(old, field), &string_map(new, field));
        if set.is_empty() && removed.is_empty() {
            continue;
        }
        touched = true;
        for e in entries.iter_mut() {
            let mut owned = e.owned(field);
            let before = owned.len();
            owned.retain(|k| !set.contains(k) && !removed.contains(k));
            if owned.len() != before {
                e.set_owned(field, &owned);
            }
        }
        mine.insert(field, set);
    }
    if touched {
        let idx = match entries.iter().position(|e| e.same_owner(manager, "Update")) {
            Some(i) => i,
            None => {
                entries.push(Entry {
                    manager: manager.into(),
                    operation: "Update".into(),
                    api_version: api_version.into(),
                    subresource: None,
                    time: None,
                    fields: Value::Object(Map::new()),
                });
                entries.len() - 1
            }
        };
        for (field, set) in mine {
            let mut owned = entries[idx].owned(field);
            owned.extend(set);
            entries[idx].set_owned(field, &owned);
        }
        entries[idx].time = Some(format_rfc3339(now));
        entries[idx].api_version = api_version.into();
        entries.retain(|e| !e.is_empty());
    }
    write_entries(new, &entries);
}

/// A server-side apply conflict: (manager description, field path).
pub type Conflicts = Vec<(String, String)>;

/// Server-side apply of the labels/annotations in `applied` onto `live` (already a copy of the
/// stored object). Returns conflicts instead of changing anything when `force` is false and
/// another manager owns a label the apply would change.
pub fn apply(
    live: &mut Value,
    applied: &Value,
    manager: &str,
    api_version: &str,
    force: bool,
    now: i64,
) -> Result<(), Conflicts> {
    let mut entries = read_entries(live);
    if entries.is_empty() {
        let mut e = Entry {
            manager: "before-first-apply".into(),
            operation: "Update".into(),
            api_version: api_version.into(),
            subresource: None,
            time: Some(format_rfc3339(now)),
            fields: Value::Object(Map::new()),
        };
        for field in TRACKED {
            e.set_owned(field, &string_map(live, field).into_keys().collect());
        }
        if !e.is_empty() {
            entries.push(e);
        }
    }
    let mine_idx = entries.iter().position(|e| e.same_owner(manager, "Apply"));
    let mut conflicts = Vec::new();
    for field in TRACKED {
        let current = string_map(live, field);
        for (k, v) in string_map(applied, field) {
            if current.get(&k).is_none_or(|cur| *cur == v) {
                continue;
            }
            for (i, e) in entries.iter().enumerate() {
                if Some(i) != mine_idx && e.owned(field).contains(&k) {
                    conflicts.push((e.describe(), format!(".metadata.{field}.{k}")));
                }
            }
        }
    }
    if !conflicts.is_empty() && !force {
        conflicts.sort();
        return Err(conflicts);
    }
    for field in TRACKED {
        let current = string_map(live, field);
        let wanted = string_map(applied, field);
        let previously: BTreeSet<String> =
            mine_idx.map(|i| entries[i].owned(field)).unwrap_or_default();
        let mut result = current.clone();
        for (i, e) in entries.iter_mut().enumerate() {
            if Some(i) == mine_idx {
                continue;
            }
            // Forced: the applier takes the changed fields away from their other owners.
            let mut owned = e.owned(field);
            let before = owned.len();
            owned.retain(|k| match (wanted.get(k), current.get(k)) {
                (Some(w), Some(c)) => w == c,
                _ => true,
            });
            if owned.len() != before {
                e.set_owned(field, &owned);
            }
        }
        for k in previously.iter().filter(|k| !wanted.contains_key(*k)) {
            let owned_elsewhere = entries
                .iter()
                .enumerate()
                .any(|(i, e)| Some(i) != mine_idx && e.owned(field).contains(k));
            if !owned_elsewhere {
                result.remove(k);
            }
        }
        result.extend(wanted.clone());
        set_string_map(live, field, &result);
    }
    let idx = match mine_idx {
        Some(i) => i,
        None => {
            entries.insert(
                0,
                Entry {
                    manager: manager.into(),
                    operation: "Apply".into(),
                    api_version: api_version.into(),
                    subresource: None,
                    time: None,
                    fields: Value::Object(Map::new()),
                },
            );
            // `before-first-apply` and others shift by one.
            0
        }
    };
    for field in TRACKED {
        entries[idx].set_owned(field, &string_map(applied, field).into_keys().collect());
    }
    entries[idx].time = Some(format_rfc3339(now));
    entries.retain(|e| !e.is_empty() || e.operation == "Apply");
    write_entries(live, &entries);
    Ok(())
}

pub fn set_string_map(obj: &mut Value, field: &str, map: &BTreeMap<String, String>) {
    if !obj["metadata"].is_object() {
        obj["metadata"] = Value::Object(Map::new());
    }
    let meta = obj["metadata"].as_object_mut().expect("object");
    if map.is_empty() {
        meta.remove(field);
    } else {
        meta.insert(
            field.into(),
            Value::Object(map.iter().map(|(k, v)| (k.clone(), Value::from(v.as_str()))).collect()),
        );
    }
}

/// The apply-conflict message (apimachinery `getConflictMessage`).
pub fn conflict_message(conflicts: &Conflicts) -> String {
    if conflicts.len() == 1 {
        return format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            conflicts[0].0, conflicts[0].1
        );
    }
    let mut by_manager: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (m, p) in conflicts {
        by_manager.entry(m).or_default().push(p);
    }
    let mut lines = Vec::new();
    for (m, paths) in by_manager {
        lines.push(format!("conflicts with {m}:"));
        for p in paths {
            lines.push(format!("- {p}"));
        }
    }
    format!("Apply failed with {} conflicts: {}", conflicts.len(), lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn merge_patch_deletes_with_null() {
        let mut v = json!({"metadata": {"labels": {"a": "1", "b": "2"}}});
        merge_patch(&mut v, &json!({"metadata": {"labels": {"a": null, "c": "3"}}}), false);
        assert_eq!(v, json!({"metadata": {"labels": {"b": "2", "c": "3"}}}));
        merge_patch(
            &mut v,
            &json!({"$setElementOrder/x": [], "metadata": {"labels": {"d": "4"}}}),
            true,
        );
        assert_eq!(v["metadata"]["labels"]["d"], "4");
        assert!(v.get("$setElementOrder/x").is_none());
    }

    #[test]
    fn json_patch_ops() {
        let mut v = json!({"metadata": {"labels": {"a": "1"}}});
        json_patch(
            &mut v,
            &json!([
                {"op": "add", "path": "/metadata/labels/pod-security.kubernetes.io~1enforce", "value": "baseline"},
                {"op": "test", "path": "/metadata/labels/a", "value": "1"},
                {"op": "replace", "path": "/metadata/labels/a", "value": "2"},
                {"op": "copy", "from": "/metadata/labels/a", "path": "/metadata/labels/b"},
                {"op": "remove", "path": "/metadata/labels/a"}
            ]),
        )
        .unwrap();
        assert_eq!(
            v,
            json!({"metadata": {"labels": {"pod-security.kubernetes.io/enforce": "baseline", "b": "2"}}})
        );
        assert!(
            json_patch(
                &mut v,
                &json!([{"op": "test", "path": "/metadata/labels/b", "value": "x"}])
            )
            .is_err()
        );
        assert!(
            json_patch(&mut v, &json!([{"op": "remove", "path": "/metadata/labels/zz"}])).is_err()
        );
        assert!(
            json_patch(&mut v, &json!([{"op": "add", "path": "/nope/x", "value": 1}])).is_err()
        );
    }

    #[test]
    fn label_validation_messages() {
        let errs = validate_metadata(
            &json!({"metadata": {"labels": {"ok": "bad value", "bad key!": "v"}}}),
        );
        assert_eq!(errs.len(), 2);
        assert!(errs.iter().any(|e| {
            e.message().starts_with("metadata.labels: Invalid value: \"bad value\": a valid label")
        }));
        assert!(errs.iter().any(|e| {
            e.message().starts_with("metadata.labels: Invalid value: \"bad key!\": name part")
        }));
        assert!(validate_metadata(&json!({"metadata": {"labels": {"pod-security.kubernetes.io/enforce": "restricted", "e": ""}}})).is_empty());
    }

    #[test]
    fn apply_ownership_and_conflicts() {
        let mut live = json!({"metadata": {"name": "n", "labels": {"team": "a"}}});
        // First apply on an untracked object: existing labels belong to before-first-apply.
        let applied = json!({"metadata": {"labels": {"team": "b", "x": "1"}}});
        let err = apply(&mut live.clone(), &applied, "me", "v1", false, 0).unwrap_err();
        assert_eq!(
            conflict_message(&err),
            "Apply failed with 1 conflict: conflict with \"before-first-apply\" using v1: .metadata.labels.team"
        );
        apply(&mut live, &applied, "me", "v1", true, 0).unwrap();
        assert_eq!(string_map(&live, "labels").get("team").map(String::as_str), Some("b"));
        // Dropping a label from the applied config removes it (sole owner).
        apply(&mut live, &json!({"metadata": {"labels": {"team": "b"}}}), "me", "v1", false, 0)
            .unwrap();
        assert!(!string_map(&live, "labels").contains_key("x"));
        // Another manager's update takes ownership; then a different value conflicts.
        let old = live.clone();
        let mut new = live.clone();
        new["metadata"]["labels"]["team"] = "c".into();
        track_update(&old, &mut new, "kubectl-label", "v1", 0);
        let err = apply(&mut new.clone(), &applied, "me", "v1", false, 0).unwrap_err();
        assert_eq!(err[0].0, "\"kubectl-label\" using v1");
        // Same value: shared ownership, no conflict.
        apply(&mut new, &json!({"metadata": {"labels": {"team": "c"}}}), "me", "v1", false, 0)
            .unwrap();
    }
}
