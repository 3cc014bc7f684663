//! The offline source: files, directories (recursive; `.yaml`, `.yml`, `.json`) and `-` for
//! stdin. Multi-document YAML is split the way kubectl splits it (a line starting with `---`),
//! each document is decoded on its own, so one malformed document is reported with its file,
//! index and position while the others are still read.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::decode::{
    DecodeError, Document, ItemDefaults, JsonDocumentSeed, add_to_inventory, decode_json_object,
};
use crate::model::inventory::{Inventory, Provenance};
use crate::source::jsonsplit;

/// A problem with the input: which file, which document, where, and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputError {
    pub file: String,
    /// 0-based document index in the file.
    pub document: Option<usize>,
    /// 1-based line and column in the file, when the parser knows them.
    pub line: Option<u64>,
    pub column: Option<u64>,
    pub message: String,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(d) = self.document {
            write!(f, ": document {d}")?;
        }
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, " (line {l}, column {c})")?,
            (Some(l), None) => write!(f, " (line {l})")?,
            _ => {}
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for InputError {}

/// Options for reading offline input.
#[derive(Clone, Debug)]
pub struct OfflineOptions {
    /// Namespace given to namespaced objects that name none (`-n`, else `default`).
    pub default_namespace: String,
}

impl Default for OfflineOptions {
    fn default() -> Self {
        OfflineOptions { default_namespace: "default".into() }
    }
}

/// Reads every path into one inventory. Problems are collected, never fatal: the caller decides
/// the exit code.
pub fn read_paths(
    paths: &[String],
    opts: &OfflineOptions,
    stdin: &mut dyn Read,
) -> (Inventory, Vec<InputError>) {
    let mut inv = Inventory::default();
    let mut errors = Vec::new();
    for path in paths {
        if path == "-" {
            let mut text = String::new();
            match stdin.read_to_string(&mut text) {
                Ok(_) => {
                    let json = text.trim_start().starts_with(['{', '[']);
                    parse_text(&text, "-", json, opts, &mut inv, &mut errors);
                }
                Err(e) => errors.push(file_error("-", format!("cannot read standard input: {e}"))),
            }
            continue;
        }
        let p = Path::new(path);
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => {
                let mut files = Vec::new();
                if let Err(e) = walk(p, &mut files) {
                    errors.push(file_error(path, format!("cannot read directory: {e}")));
                }
                files.sort();
                for f in files {
                    read_file(&f, opts, &mut inv, &mut errors);
                }
            }
            Ok(_) => read_file(p, opts, &mut inv, &mut errors),
            Err(e) => errors.push(file_error(path, format!("cannot read: {e}"))),
        }
    }
    inv.sort();
    (inv, errors)
}

fn file_error(file: &str, message: String) -> InputError {
    InputError { file: file.to_owned(), document: None, line: None, column: None, message }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml" | "json"))
        {
            out.push(path);
        }
    }
    Ok(())
}

fn read_file(
    path: &Path,
    opts: &OfflineOptions,
    inv: &mut Inventory,
    errors: &mut Vec<InputError>,
) {
    let name = path.display().to_string();
    if path.extension().is_some_and(|e| e == "json") {
        match std::fs::File::open(path) {
            Ok(f) => read_json_stream(f, &name, opts, inv, errors),
            Err(e) => errors.push(file_error(&name, format!("cannot read: {e}"))),
        }
        return;
    }
    match std::fs::read_to_string(path) {
        Ok(text) => parse_text(&text, &name, false, opts, inv, errors),
        Err(e) => errors.push(file_error(&name, format!("cannot read: {e}"))),
    }
}

/// Reads a JSON file without holding it in memory: the splitter streams list items as raw text
/// to decoding threads (one per core), each decoding straight into its own inventory, so
/// reading and decoding overlap and no decoded object is held twice. The parts are merged and
/// sorted afterwards, so the result does not depend on which thread decoded what.
fn read_json_stream(
    f: std::fs::File,
    file: &str,
    opts: &OfflineOptions,
    inv: &mut Inventory,
    errors: &mut Vec<InputError>,
) {
    /// (item index, raw text, first line)
    type Batch = Vec<(usize, Vec<u8>, u64)>;
    const BATCH: usize = 256;
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 4);
    let (tx, rx) = std::sync::mpsc::sync_channel::<Batch>(4 * workers);
    let rx = std::sync::Mutex::new(rx);
    let decode_part = || {
        let mut part = Inventory::default();
        let mut errs = Vec::new();
        // The lock is held only while taking a batch, never while decoding it.
        let next = || rx.lock().ok()?.recv().ok();
        while let Some(batch) = next() {
            for (index, raw, line) in batch {
                let decoded = std::str::from_utf8(&raw)
                    .map_err(|e| DecodeError {
                        item: None,
                        field: None,
                        message: format!("invalid UTF-8: {e}"),
                    })
                    .and_then(|text| decode_json_object(text, ItemDefaults::default()));
                match decoded {
                    Ok(d) => {
                        let source = Provenance::File {
                            file: file.to_owned(),
                            document: 0,
                            item: Some(index),
                        };
                        add_to_inventory(&mut part, d, source, &opts.default_namespace);
                    }
                    Err(mut e) => {
                        e.item = Some(index);
                        errs.push((
                            index,
                            InputError {
                                file: file.to_owned(),
                                document: Some(0),
                                line: Some(line),
                                column: None,
                                message: e.to_string(),
                            },
                        ));
                    }
                }
            }
        }
        (part, errs)
    };
    let (outer, parts) = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers).map(|_| scope.spawn(decode_part)).collect();
        let mut batch: Batch = Vec::with_capacity(BATCH);
        let mut index = 0;
        let outer = jsonsplit::split_items(std::io::BufReader::new(f), |raw, line| {
            batch.push((index, raw, line));
            index += 1;
            if batch.len() == BATCH {
                let _ = tx.send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)));
            }
        });
        if !batch.is_empty() {
            let _ = tx.send(batch);
        }
        drop(tx);
        let parts: Vec<_> = handles.into_iter().filter_map(|h| h.join().ok()).collect();
        (outer, parts)
    });
    match outer {
        // The document around the items: a single object, or the List wrapper with `items: []`.
        Ok(outer) => {
            let doc =
                JsonDocumentSeed::default().decode_slice(&outer).map_err(|e| json_error(file, &e));
            add_document(doc, file, 0, opts, inv, errors);
        }
        Err(e) => errors.push(file_error(file, format!("cannot read: {e}"))),
    }
    let mut item_errors = Vec::new();
    for (part, errs) in parts {
        inv.extend(part);
        item_errors.extend(errs);
    }
    item_errors.sort_by_key(|(index, _)| *index);
    errors.extend(item_errors.into_iter().map(|(_, e)| e));
}

fn json_error(file: &str, e: &serde_json::Error) -> InputError {
    let message = e.to_string();
    let message = message.rfind(" at line ").map_or(message.as_str(), |i| &message[..i]).to_owned();
    InputError {
        file: file.to_owned(),
        document: Some(0),
        line: Some(e.line() as u64),
        column: Some(e.column() as u64),
        message,
    }
}

/// Splits YAML text into documents as kubectl does: a line that starts with `---` followed by
/// nothing but whitespace or a comment separates documents. Returns (first line number, text).
pub fn split_documents(text: &str) -> Vec<(u64, &str)> {
    let mut docs = Vec::new();
    let mut start = 0;
    let mut start_line = 1u64;
    let mut offset = 0;
    let mut saw_separator = false;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let line_no = i as u64 + 1;
        if let Some(rest) = line.strip_prefix("---") {
            let rest = rest.trim();
            if rest.is_empty() || rest.starts_with('#') {
                // Text before the first separator is a document only if it has content.
                if saw_separator || !text[start..offset].trim().is_empty() {
                    docs.push((start_line, &text[start..offset]));
                }
                saw_separator = true;
                start = offset + line.len();
                start_line = line_no + 1;
            }
        }
        offset += line.len();
    }
    if !saw_separator || !text[start..].trim().is_empty() {
        docs.push((start_line, &text[start..]));
    }
    docs
}

fn yaml_options() -> serde_saphyr::Options {
    // Large exports are legitimate: one `kubectl get pods -A -o yaml` list can hold millions of
    // nodes, so lift the size budgets but keep the alias-expansion limits.
    let mut budget = serde_saphyr::Budget::default();
    budget.max_events = usize::MAX;
    budget.max_nodes = usize::MAX;
    budget.max_total_scalar_bytes = usize::MAX;
    budget.max_documents = usize::MAX;
    budget.max_reader_input_bytes = None;
    serde_saphyr::options! {
        budget: Some(budget),
        strict_booleans: true,
        with_snippet: false,
    }
}

/// Decodes text (one JSON document, or YAML documents) into the inventory.
pub fn parse_text(
    text: &str,
    file: &str,
    json: bool,
    opts: &OfflineOptions,
    inv: &mut Inventory,
    errors: &mut Vec<InputError>,
) {
    let docs = if json { vec![(1, text)] } else { split_documents(text) };
    for (index, (first_line, doc_text)) in docs.into_iter().enumerate() {
        let parsed: Result<Document, InputError> = if json {
            JsonDocumentSeed::default()
                .decode_slice(doc_text.as_bytes())
                .map_err(|e| json_error(file, &e))
        } else {
            serde_saphyr::from_str_with_options::<Document>(doc_text, yaml_options()).map_err(|e| {
                let loc = e.location();
                InputError {
                    file: file.to_owned(),
                    document: Some(index),
                    line: loc.as_ref().map(|l| l.line() + first_line - 1),
                    column: loc.as_ref().map(|l| l.column()),
                    message: saphyr_message(&e),
                }
            })
        };
        add_document(parsed, file, index, opts, inv, errors);
    }
}

/// Adds a parsed document's objects to the inventory, or records why it could not be parsed.
fn add_document(
    parsed: Result<Document, InputError>,
    file: &str,
    index: usize,
    opts: &OfflineOptions,
    inv: &mut Inventory,
    errors: &mut Vec<InputError>,
) {
    let doc = match parsed {
        Ok(doc) => doc,
        Err(e) => {
            errors.push(e);
            return;
        }
    };
    let is_list = doc.items.is_some();
    for (i, result) in doc.into_objects().into_iter().enumerate() {
        match result {
            Ok(decoded) => {
                let source = Provenance::File {
                    file: file.to_owned(),
                    document: index,
                    item: is_list.then_some(i),
                };
                add_to_inventory(inv, decoded, source, &opts.default_namespace);
            }
            Err(e) => errors.push(InputError {
                file: file.to_owned(),
                document: Some(index),
                line: None,
                column: None,
                message: e.to_string(),
            }),
        }
    }
}

/// serde-saphyr's message without its own location suffix (we print the file position).
fn saphyr_message(e: &serde_saphyr::Error) -> String {
    let text = e.without_snippet().to_string();
    let first = text.lines().next().unwrap_or_default();
    match first.rfind(" at line ") {
        Some(i) => first[..i].to_owned(),
        None => first.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_documents_like_kubectl() {
        let docs = split_documents("a: 1\n---\nb: 2\n--- # c\n---\nc: 3\n");
        assert_eq!(docs, [(1, "a: 1\n"), (3, "b: 2\n"), (5, ""), (6, "c: 3\n")]);
        assert_eq!(split_documents("---\na: 1\n"), [(2, "a: 1\n")]);
        assert_eq!(split_documents("a: |\n  ---x\n"), [(1, "a: |\n  ---x\n")]);
    }

    #[test]
    fn bad_document_is_reported_and_others_are_read() {
        let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\nkind: Pod\nmetadata: {name: \"b}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: c}\n";
        let mut inv = Inventory::default();
        let mut errors = Vec::new();
        parse_text(text, "x.yaml", false, &OfflineOptions::default(), &mut inv, &mut errors);
        let names: Vec<&str> = inv.pod_objects.iter().map(|p| p.name()).collect();
        assert_eq!(names, ["a", "c"]);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].document, Some(1));
        assert!(errors[0].line.is_some_and(|l| l >= 5), "{:?}", errors[0]);
        assert_eq!(inv.pod_objects[0].namespace(), "default");
    }
}
