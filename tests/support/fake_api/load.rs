//! Reading an offline cluster directory: every `.yaml`/`.yml`/`.json` file below it, multi-document
//! YAML, `kind: List` / `*List` wrappers, and `version.yaml` (`kubectl version -o yaml` output).
//!
//! Objects are streamed to a sink one at a time, and the `items` of a list are kept serialized
//! while the document is decoded, so a 100,000-pod export never exists as one `Value` tree.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::{
    self, Deserialize, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor,
};
use serde_json::{Map, Value};

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

fn files_of(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    collect_files(dir, &mut files).map_err(|e| format!("reading {}: {e}", dir.display()))?;
    files.sort();
    Ok(files)
}

fn is_json(file: &Path) -> bool {
    file.extension().and_then(|e| e.to_str()) == Some("json")
}

/// The `serverVersion` of the first `version.{yaml,yml,json}` file below `dir`, if any.
pub fn find_version(dir: &Path) -> Result<Option<Value>, String> {
    for file in files_of(dir)? {
        if file.file_stem().and_then(|s| s.to_str()) != Some("version") {
            continue;
        }
        let text = std::fs::read_to_string(&file)
            .map_err(|e| format!("reading {}: {e}", file.display()))?;
        for doc in parse_documents(&text, is_json(&file))
            .map_err(|e| format!("{}: {e}", file.display()))?
        {
            if doc.get("kind").is_none()
                && let Some(v) = doc.get("serverVersion")
            {
                return Ok(Some(v.clone()));
            }
        }
    }
    Ok(None)
}

/// The object sink of the loader.
pub type Sink<'a> = dyn FnMut(Value) -> Result<(), String> + 'a;

/// Feeds every object below `dir` to `sink` (files in path order, lists unwrapped). Version
/// documents and other documents without `kind` are skipped.
pub fn stream_dir(dir: &Path, sink: &mut Sink<'_>) -> Result<(), String> {
    for file in files_of(dir)? {
        let bytes = std::fs::read(&file).map_err(|e| format!("reading {}: {e}", file.display()))?;
        let at = |e: String| format!("{}: {e}", file.display());
        if is_json(&file) && stream_json(&bytes, sink).map_err(at)? {
            continue;
        }
        let text = String::from_utf8(bytes).map_err(|e| at(e.to_string()))?;
        let docs = lean_documents(&text, is_json(&file)).map_err(at)?;
        drop(text);
        for doc in docs {
            doc.emit(sink).map_err(at)?;
        }
    }
    Ok(())
}

/// Streams a single-document JSON file straight into the sink: list items are handed over one by
/// one while parsing. Returns false (nothing emitted) when the file holds several documents.
fn stream_json(bytes: &[u8], sink: &mut Sink<'_>) -> Result<bool, String> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let mut emitted = Vec::new();
    let mut count = 0usize;
    {
        let mut counting = |v: Value| -> Result<(), String> {
            count += 1;
            sink(v)
        };
        let seed = DocSeed { sink: &mut counting, deferred: &mut emitted };
        seed.deserialize(&mut de).map_err(|e| e.to_string())?;
    }
    if de.end().is_err() {
        if count > 0 {
            return Err("several JSON documents in a file with a list".into());
        }
        return Ok(false);
    }
    for doc in emitted {
        sink(doc)?;
    }
    Ok(true)
}

/// Deserializes one document, emitting list items as they are parsed; a non-list object is
/// pushed to `deferred` instead (emitted after the parse succeeds).
struct DocSeed<'s, 'a> {
    sink: &'s mut Sink<'a>,
    deferred: &'s mut Vec<Value>,
}

impl<'de> DeserializeSeed<'de> for DocSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for DocSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Kubernetes object or list")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut fields = Map::new();
        let mut had_items = false;
        while let Some(key) = map.next_key::<String>()? {
            if key == "items" {
                had_items = true;
                map.next_value_seed(ItemsSeed { sink: &mut *self.sink })?;
            } else {
                fields.insert(key, map.next_value::<Value>()?);
            }
        }
        let is_list =
            fields.get("kind").and_then(Value::as_str).is_some_and(|k| k.ends_with("List"));
        if !(had_items && is_list) && fields.contains_key("kind") {
            self.deferred.push(Value::Object(fields));
        }
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }
}

/// The `items` array of a list: every element goes to the sink (nested lists unwrapped).
struct ItemsSeed<'s, 'a> {
    sink: &'s mut Sink<'a>,
}

impl<'de> DeserializeSeed<'de> for ItemsSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ItemsSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of objects")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(v) = seq.next_element::<Value>()? {
            let mut out = Vec::new();
            unwrap_lists(v, &mut out);
            for o in out {
                (self.sink)(o).map_err(de::Error::custom)?;
            }
        }
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

fn yaml_options() -> serde_saphyr::Options {
    // Exports of big clusters exceed the default parser budget.
    let mut o = serde_saphyr::Options::default();
    o.budget = None;
    o
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
    } else if doc.is_object() && doc.get("kind").is_some() {
        out.push(doc);
    }
}

/// A top-level document whose `items` (if an array) stay serialized as JSON bytes.
#[derive(Debug, Default)]
pub struct LeanDoc {
    fields: Map<String, Value>,
    items: Option<Vec<Vec<u8>>>,
    not_a_map: bool,
}

impl LeanDoc {
    fn emit(self, sink: &mut dyn FnMut(Value) -> Result<(), String>) -> Result<(), String> {
        if self.not_a_map {
            return Ok(());
        }
        let is_list =
            self.fields.get("kind").and_then(Value::as_str).is_some_and(|k| k.ends_with("List"));
        match self.items {
            Some(items) if is_list => {
                for raw in items {
                    let item: Value = serde_json::from_slice(&raw).map_err(|e| e.to_string())?;
                    let mut out = Vec::new();
                    unwrap_lists(item, &mut out);
                    for o in out {
                        sink(o)?;
                    }
                }
                Ok(())
            }
            items => {
                let mut fields = self.fields;
                if let Some(items) = items {
                    let parsed: Result<Vec<Value>, _> =
                        items.iter().map(|r| serde_json::from_slice(r)).collect();
                    fields.insert("items".into(), parsed.map_err(|e| e.to_string())?.into());
                }
                let doc = Value::Object(fields);
                if doc.get("kind").is_some() {
                    sink(doc)?;
                }
                Ok(())
            }
        }
    }
}

struct Items(Option<Vec<Vec<u8>>>);

impl<'de> Deserialize<'de> for Items {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Items;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of objects")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Items, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                while let Some(v) = seq.next_element::<Value>()? {
                    out.push(serde_json::to_vec(&v).map_err(de::Error::custom)?);
                }
                Ok(Items(Some(out)))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Items, E> {
                Ok(Items(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<Items, E> {
                Ok(Items(None))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for LeanDoc {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = LeanDoc;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a Kubernetes object or list")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<LeanDoc, A::Error> {
                let mut doc = LeanDoc::default();
                while let Some(key) = map.next_key::<String>()? {
                    if key == "items" {
                        doc.items = map.next_value::<Items>()?.0;
                    } else {
                        let v = map.next_value::<Value>()?;
                        doc.fields.insert(key, v);
                    }
                }
                Ok(doc)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<LeanDoc, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(LeanDoc { not_a_map: true, ..LeanDoc::default() })
            }
            fn visit_unit<E: de::Error>(self) -> Result<LeanDoc, E> {
                Ok(LeanDoc { not_a_map: true, ..LeanDoc::default() })
            }
            fn visit_none<E: de::Error>(self) -> Result<LeanDoc, E> {
                self.visit_unit()
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<LeanDoc, E> {
                self.visit_unit()
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<LeanDoc, E> {
                self.visit_unit()
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<LeanDoc, E> {
                self.visit_unit()
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<LeanDoc, E> {
                self.visit_unit()
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<LeanDoc, E> {
                self.visit_unit()
            }
        }
        d.deserialize_any(V)
    }
}

fn is_blank(doc: &str) -> bool {
    doc.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#')
    })
}

/// Splits multi-document text into lean documents (see [`LeanDoc`]).
pub fn lean_documents(text: &str, json: bool) -> Result<Vec<LeanDoc>, String> {
    let mut out = Vec::new();
    if json {
        for v in serde_json::Deserializer::from_str(text).into_iter::<LeanDoc>() {
            out.push(v.map_err(|e| e.to_string())?);
        }
        return Ok(out);
    }
    for doc in split_yaml(text) {
        if is_blank(doc) {
            continue;
        }
        // JSON is YAML, but serde_json is much faster on big JSON-in-.yaml files.
        let trimmed = doc.trim_start();
        if (trimmed.starts_with('{') || trimmed.starts_with('['))
            && let Ok(v) = serde_json::from_str::<LeanDoc>(doc)
        {
            out.push(v);
            continue;
        }
        out.push(
            serde_saphyr::from_str_with_options::<LeanDoc>(doc, yaml_options())
                .map_err(|e| e.to_string())?,
        );
    }
    Ok(out)
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
        if is_blank(doc) {
            continue;
        }
        let v: Value =
            serde_saphyr::from_str_with_options(doc, yaml_options()).map_err(|e| e.to_string())?;
        if !v.is_null() {
            out.push(v);
        }
    }
    Ok(out)
}

/// Splits on lines that are exactly `---` (optionally followed by a comment) and on `...`
/// document end markers.
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

    fn stream(text: &str, json: bool) -> Vec<Value> {
        let mut out = Vec::new();
        for d in lean_documents(text, json).unwrap() {
            d.emit(&mut |v| {
                out.push(v);
                Ok(())
            })
            .unwrap();
        }
        out
    }

    #[test]
    fn multi_document_yaml_and_lists() {
        let text = "---\n# comment only\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: p, namespace: a}\n- apiVersion: v1\n  kind: PodList\n  items:\n  - apiVersion: v1\n    kind: Pod\n    metadata: {name: q, namespace: a}\n---\njust a string\n---\nclientVersion: {}\n";
        let names: Vec<String> = stream(text, false)
            .iter()
            .map(|o| o["metadata"]["name"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(names, ["a", "p", "q"]);
    }

    #[test]
    fn version_document() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("version.yaml"),
            "clientVersion:\n  major: \"1\"\nserverVersion:\n  major: \"1\"\n  minor: \"24+\"\n  gitVersion: v1.24.17-eks-1\n",
        )
        .unwrap();
        assert_eq!(find_version(dir.path()).unwrap().unwrap()["minor"], "24+");
        let mut n = 0;
        stream_dir(dir.path(), &mut |_| {
            n += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!(n, 0, "the version document is not an object");
    }

    #[test]
    fn streamed_json_files() {
        let dir = tempfile::tempdir().unwrap();
        let list = r#"{"apiVersion":"v1","items":[{"kind":"Pod","metadata":{"name":"a"}},{"apiVersion":"v1","kind":"List","items":[{"kind":"Pod","metadata":{"name":"b"}}]}],"kind":"List","metadata":{}}"#;
        std::fs::write(dir.path().join("a.json"), list).unwrap();
        std::fs::write(
            dir.path().join("b.json"),
            r#"{"kind":"Pod","metadata":{"name":"c"}} {"kind":"Pod","metadata":{"name":"d"}}"#,
        )
        .unwrap();
        std::fs::write(dir.path().join("c.json"), r#"{"kind":"Thing","metadata":{"name":"e"}}"#)
            .unwrap();
        let mut names = Vec::new();
        stream_dir(dir.path(), &mut |v| {
            names.push(v["metadata"]["name"].as_str().unwrap().to_owned());
            Ok(())
        })
        .unwrap();
        assert_eq!(names, ["a", "b", "c", "d", "e"]);
    }

    #[test]
    fn json_stream_and_json_lists() {
        assert_eq!(stream("{\"kind\":\"A\"}\n{\"kind\":\"B\"}", true).len(), 2);
        let list = r#"{"apiVersion":"v1","items":[{"kind":"Pod","metadata":{"name":"x"}}],"kind":"List","metadata":{}}"#;
        assert_eq!(stream(list, true)[0]["metadata"]["name"], "x");
        // `items` on something that is not a list is left alone.
        let odd = r#"{"kind":"Thing","items":[1,2]}"#;
        assert_eq!(stream(odd, true)[0]["items"], serde_json::json!([1, 2]));
    }
}
