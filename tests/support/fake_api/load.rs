//! Reading an offline cluster directory: every `.yaml`/`.yml`/`.json` file below it, multi-document
//! YAML, `kind: List` / `*List` wrappers, and `version.yaml` (`kubectl version -o yaml` output).

use std::path::{Path, PathBuf};

use serde_json::Value;

/// Everything found in a cluster directory.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Objects in file order (files sorted by path), lists unwrapped.
    pub objects: Vec<Value>,
    /// The `serverVersion` map of a `kubectl version -o yaml` document, if any.
    pub server_version: Option<Value>,
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_files(&path, out)?;
        } else if matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml" | "json"))
        {
            out.push(path);
        }
    }
    Ok(())
}

/// Loads a cluster directory (recursively; files in path order).
pub fn load_dir(dir: &Path) -> Result<Loaded, String> {
    let mut files = Vec::new();
    collect_files(dir, &mut files).map_err(|e| format!("reading {}: {e}", dir.display()))?;
    files.sort();
    let mut loaded = Loaded::default();
    for file in files {
        let text = std::fs::read_to_string(&file)
            .map_err(|e| format!("reading {}: {e}", file.display()))?;
        let json = file.extension().and_then(|e| e.to_str()) == Some("json");
        let docs = parse_documents(&text, json).map_err(|e| format!("{}: {e}", file.display()))?;
        for doc in docs {
            add_document(doc, &mut loaded);
        }
    }
    Ok(loaded)
}

/// Adds one parsed document: a version document, a list (unwrapped) or an object.
pub fn add_document(doc: Value, loaded: &mut Loaded) {
    if doc.get("kind").is_none() {
        if let Some(v) = doc.get("serverVersion") {
            loaded.server_version = Some(v.clone());
        }
        return;
    }
    unwrap_lists(doc, &mut loaded.objects);
}

/// Pushes the object, or the items of a `List` / `*List` (recursively).
pub fn unwrap_lists(doc: Value, out: &mut Vec<Value>) {
    let is_list = doc.get("kind").and_then(Value::as_str).is_some_and(|k| k.ends_with("List"))
        && doc.get("items").is_some_and(Value::is_array);
    if is_list {
        if let Value::Object(mut map) = doc
            && let Some(Value::Array(items)) = map.remove("items")
        {
            for item in items {
                unwrap_lists(item, out);
            }
        }
    } else if doc.is_object() {
        out.push(doc);
    }
}

/// Splits multi-document text into values. JSON files may hold one value or a stream of values;
/// YAML documents are separated by `---` lines. Empty documents are skipped.
pub fn parse_documents(text: &str, json: bool) -> Result<Vec<Value>, String> {
    if json {
        let mut out = Vec::new();
        for v in serde_json::Deserializer::from_str(text).into_iter::<Value>() {
            out.push(v.map_err(|e| e.to_string())?);
        }
        return Ok(out);
    }
    let mut out = Vec::new();
    for doc in split_yaml(text) {
        if doc.lines().all(|l| {
            let t = l.trim();
            t.is_empty() || t.starts_with('#')
        }) {
            continue;
        }
        // JSON is YAML, but serde_json is much faster on big JSON-in-.yaml files.
        let trimmed = doc.trim_start();
        if (trimmed.starts_with('{') || trimmed.starts_with('['))
            && let Ok(v) = serde_json::from_str::<Value>(doc)
        {
            out.push(v);
            continue;
        }
        let v: Value = serde_saphyr::from_str(doc).map_err(|e| e.to_string())?;
        if !v.is_null() {
            out.push(v);
        }
    }
    Ok(out)
}

/// Splits on lines that are exactly `---` (optionally followed by spaces or a comment) and drops a
/// trailing `...` document end marker.
fn split_yaml(text: &str) -> Vec<&str> {
    let mut docs = Vec::new();
    let mut start = 0;
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        let t = line.trim_end();
        if t == "---" || t.starts_with("--- #") || t == "..." {
            docs.push(&text[start..pos]);
            start = pos + line.len();
        }
        pos += line.len();
    }
    docs.push(&text[start..]);
    docs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_document_yaml_and_lists() {
        let text = "---\n# comment only\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: p, namespace: a}\n- apiVersion: v1\n  kind: PodList\n  items:\n  - apiVersion: v1\n    kind: Pod\n    metadata: {name: q, namespace: a}\n";
        let mut loaded = Loaded::default();
        for d in parse_documents(text, false).unwrap() {
            add_document(d, &mut loaded);
        }
        let names: Vec<&str> =
            loaded.objects.iter().map(|o| o["metadata"]["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["a", "p", "q"]);
    }

    #[test]
    fn version_document() {
        let text = "clientVersion:\n  major: \"1\"\nserverVersion:\n  major: \"1\"\n  minor: \"24+\"\n  gitVersion: v1.24.17-eks-1\n";
        let mut loaded = Loaded::default();
        for d in parse_documents(text, false).unwrap() {
            add_document(d, &mut loaded);
        }
        assert_eq!(loaded.server_version.unwrap()["minor"], "24+");
    }

    #[test]
    fn json_stream() {
        let v = parse_documents("{\"kind\":\"A\"}\n{\"kind\":\"B\"}", true).unwrap();
        assert_eq!(v.len(), 2);
    }
}
