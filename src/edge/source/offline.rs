//! The offline source: files, directories (recursive; `.yaml`, `.yml`, `.json`) and `-` for
//! stdin. Multi-document YAML is split the way kubectl splits it (a line starting with `---`),
//! each document is decoded on its own, so one malformed document is reported with its file,
//! index and position while the others are still read.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::de::{Deserialize, DeserializeSeed, Deserializer};

use crate::decode;
use crate::decode::{
    DecodeError, Decoded, Document, ItemDefaults, JsonDocumentSeed, Object, Position, TopLevel,
    add_to_inventory, decode_json_object,
};
use crate::findings::{Code, Diagnostic, Location};
use crate::model::inventory::{Inventory, Provenance};
use crate::source::jsonsplit;

/// A problem with the input: its code (`input-*`), which file, which document, where, and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputError {
    pub code: Code,
    pub file: String,
    /// 0-based document index in the file.
    pub document: Option<usize>,
    /// 1-based line and column in the file, when the parser knows them.
    pub line: Option<u64>,
    pub column: Option<u64>,
    /// Dotted path of the field at fault, when known (it is also part of `message`).
    pub field: Option<String>,
    pub message: String,
}

impl InputError {
    /// The error as a diagnostic, for the run's one collection.
    pub fn diagnostic(&self) -> Diagnostic {
        let location = Location {
            file: Some(self.file.clone()),
            document: self.document,
            line: self.line,
            column: self.column,
            field: self.field.clone(),
            resource: None,
        };
        Diagnostic::new(self.code, location, self.message.clone())
    }
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

/// Everything read from offline input: the inventory (sorted, duplicates dropped), the
/// problems, and notices (e.g. files skipped while walking a directory).
#[derive(Debug, Default)]
pub struct OfflineRead {
    pub inventory: Inventory,
    pub errors: Vec<InputError>,
    pub notices: Vec<String>,
}

/// Reads every path into one inventory. Problems are collected, never fatal: the caller decides
/// the exit code.
pub fn read_paths(
    paths: &[String],
    opts: &OfflineOptions,
    stdin: &mut dyn Read,
) -> (Inventory, Vec<InputError>) {
    let read = read_offline(paths, opts, stdin);
    (read.inventory, read.errors)
}

/// Reads every path, as [`read_paths`], also returning notices. Every file is read once, by its
/// canonical path, whatever links lead to it; directories are walked in name order, each once
/// (symlink loops end there), and only regular files are read from them (a FIFO named
/// `x.yaml` would block forever). A path given explicitly is read whatever it is (`-`, a pipe).
/// Objects read more than once are kept once: the last in input order.
pub fn read_offline(paths: &[String], opts: &OfflineOptions, stdin: &mut dyn Read) -> OfflineRead {
    let mut inv = Inventory::default();
    let mut errors = Vec::new();
    let mut notices = Vec::new();
    // Input order of file names, for "last one wins".
    let mut order: HashMap<String, usize> = HashMap::new();
    let mut seen_files: HashSet<PathBuf> = HashSet::new();
    let mut seen_dirs: HashSet<PathBuf> = HashSet::new();
    for path in paths {
        if path == "-" {
            let mut bytes = Vec::new();
            match stdin.read_to_end(&mut bytes) {
                Ok(_) => {
                    let next = order.len();
                    order.entry("-".to_owned()).or_insert(next);
                    let json = bytes.trim_ascii_start().starts_with(b"{")
                        || bytes.trim_ascii_start().starts_with(b"[");
                    parse_bytes(&bytes, "-", json, opts, &mut inv, &mut errors);
                }
                Err(e) => errors.push(file_error("-", format!("cannot read standard input: {e}"))),
            }
            continue;
        }
        let p = Path::new(path);
        let files = match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => {
                let mut files = Vec::new();
                let mut walk = Walk {
                    files: &mut files,
                    errors: &mut errors,
                    notices: &mut notices,
                    seen_dirs: &mut seen_dirs,
                };
                walk.dir(p);
                files
            }
            Ok(_) => vec![p.to_path_buf()],
            Err(e) => {
                errors.push(file_error(path, format!("cannot read: {e}")));
                continue;
            }
        };
        for f in files {
            let canonical = std::fs::canonicalize(&f).unwrap_or_else(|_| f.clone());
            if !seen_files.insert(canonical) {
                continue;
            }
            let name = f.display().to_string();
            let next = order.len();
            order.entry(name).or_insert(next);
            read_file(&f, opts, &mut inv, &mut errors);
        }
    }
    inv.dedup_last_wins(&|file| order.get(file).copied().unwrap_or(usize::MAX));
    crate::custom::resolve(&mut inv);
    OfflineRead { inventory: inv, errors, notices }
}

fn file_error(file: &str, message: String) -> InputError {
    InputError {
        code: Code::InputReadError,
        file: file.to_owned(),
        document: None,
        line: None,
        column: None,
        field: None,
        message,
    }
}

/// A directory walk: files to read in name order, problems, and what was skipped.
struct Walk<'a> {
    files: &'a mut Vec<PathBuf>,
    errors: &'a mut Vec<InputError>,
    notices: &'a mut Vec<String>,
    /// Canonical paths of directories already walked.
    seen_dirs: &'a mut HashSet<PathBuf>,
}

impl Walk<'_> {
    fn dir(&mut self, dir: &Path) {
        let canonical = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
        if !self.seen_dirs.insert(canonical) {
            return;
        }
        let error = |e: std::io::Error| {
            file_error(&dir.display().to_string(), format!("cannot read directory: {e}"))
        };
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) => return self.errors.push(error(e)),
        };
        let mut paths = Vec::new();
        for entry in entries {
            match entry {
                Ok(entry) => paths.push(entry.path()),
                Err(e) => self.errors.push(error(e)),
            }
        }
        paths.sort();
        for path in paths {
            let wanted =
                matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml" | "json"));
            // Follows symlinks: a link to a directory is walked, a link to a file is read.
            match std::fs::metadata(&path) {
                Ok(m) if m.is_dir() => self.dir(&path),
                Ok(m) if wanted && m.is_file() => self.files.push(path),
                Ok(_) if wanted => self.notices.push(format!(
                    "skipped {}: not a regular file (a FIFO, socket or device)",
                    path.display()
                )),
                Err(e) if wanted => self
                    .errors
                    .push(file_error(&path.display().to_string(), format!("cannot read: {e}"))),
                _ => {}
            }
        }
    }
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
    match std::fs::read(path) {
        Ok(bytes) => parse_bytes(&bytes, &name, false, opts, inv, errors),
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
    /// (item index, raw text, where it starts)
    type Batch = Vec<(usize, Vec<u8>, Position)>;
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
            for (index, raw, start) in batch {
                // The line of a bad byte, not only of the item's start.
                let (mut line, mut column) = (start.line, Some(start.column));
                let decoded = std::str::from_utf8(&raw)
                    .map_err(|e| {
                        let before = &raw[..e.valid_up_to()];
                        line += memchr::memchr_iter(b'\n', before).count() as u64;
                        column = None;
                        DecodeError { item: None, field: None, message: utf8_message(&raw, &e) }
                    })
                    .and_then(|text| decode_json_object(text, ItemDefaults::default()));
                match decoded {
                    Ok(d) => {
                        let source = file_source(file, 0, Some(index), Some(start));
                        add_to_inventory(&mut part, d, source, &opts.default_namespace);
                    }
                    Err(mut e) => {
                        e.item = Some(index);
                        let code = if e.message.starts_with("invalid UTF-8") {
                            Code::InputInvalidEncoding
                        } else {
                            Code::InputInvalidObject
                        };
                        errs.push((
                            index,
                            InputError {
                                code,
                                file: file.to_owned(),
                                document: Some(0),
                                line: Some(line),
                                column,
                                field: e.field.clone(),
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
        let outer = jsonsplit::split_items(std::io::BufReader::new(f), |raw, start| {
            batch.push((index, raw, start));
            index += 1;
            if batch.len() == BATCH {
                let _ = tx.send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)));
            }
        });
        if !batch.is_empty() {
            let _ = tx.send(batch);
        }
        drop(tx);
        // A decoding thread that panicked took its objects with it: say so (exit 2) rather
        // than report an inventory that silently lacks them.
        let joined: Vec<_> = handles.into_iter().map(|h| h.join()).collect();
        let failed = joined.iter().filter(|r| r.is_err()).count();
        let parts: Vec<_> = joined.into_iter().filter_map(Result::ok).collect();
        (outer, (parts, failed))
    });
    let (parts, failed) = parts;
    if failed > 0 {
        errors.push(file_error(
            file,
            format!(
                "internal error: {failed} decoding thread(s) failed; objects of this file are \
                 missing (please report this)"
            ),
        ));
    }
    match outer {
        // The document around the items: a single object, or the List wrapper with `items: []`.
        Ok(outer) => add_json_document(&outer, file, opts, inv, errors),
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
        code: Code::InputParseError,
        file: file.to_owned(),
        document: Some(0),
        line: Some(e.line() as u64),
        column: Some(e.column() as u64),
        field: None,
        message,
    }
}

/// Splits YAML text into documents as kubectl does: a line that starts with `---` followed by
/// nothing but whitespace or a comment separates documents. Returns (first line number, text).
pub fn split_documents(text: &str) -> Vec<(u64, &str)> {
    // Documents start and end at line boundaries, which are character boundaries.
    document_ranges(text.as_bytes()).into_iter().map(|(line, range)| (line, &text[range])).collect()
}

/// [`split_documents`] on raw bytes, so that a bad byte spoils only its own document.
pub fn split_document_bytes(bytes: &[u8]) -> Vec<(u64, &[u8])> {
    document_ranges(bytes).into_iter().map(|(line, range)| (line, &bytes[range])).collect()
}

fn document_ranges(text: &[u8]) -> Vec<(u64, std::ops::Range<usize>)> {
    let mut docs = Vec::new();
    let mut start = 0;
    let mut start_line = 1u64;
    let mut offset = 0;
    let mut saw_separator = false;
    for (i, line) in text.split_inclusive(|&b| b == b'\n').enumerate() {
        let line_no = i as u64 + 1;
        if let Some(rest) = line.strip_prefix(b"---") {
            let rest = rest.trim_ascii();
            if rest.is_empty() || rest.starts_with(b"#") {
                // Text before the first separator is a document only if it has content.
                if saw_separator || !text[start..offset].trim_ascii().is_empty() {
                    docs.push((start_line, start..offset));
                }
                saw_separator = true;
                start = offset + line.len();
                start_line = line_no + 1;
            }
        }
        offset += line.len();
    }
    if !saw_separator || !text[start..].trim_ascii().is_empty() {
        docs.push((start_line, start..text.len()));
    }
    docs
}

/// The deepest nesting of mappings and lists accepted, in YAML as in JSON (serde_json's
/// recursion limit): deep enough for real CRD schemas, shallow enough to protect the stack.
pub const MAX_DEPTH: usize = 128;

fn yaml_options() -> serde_saphyr::Options {
    // Large exports are legitimate: one `kubectl get pods -A -o yaml` list can hold millions of
    // nodes, so lift the size budgets but keep the alias-expansion limits.
    let mut budget = serde_saphyr::Budget::default();
    budget.max_events = usize::MAX;
    budget.max_nodes = usize::MAX;
    budget.max_total_scalar_bytes = usize::MAX;
    budget.max_documents = usize::MAX;
    budget.max_reader_input_bytes = None;
    budget.max_depth = MAX_DEPTH;
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
    parse_bytes(text.as_bytes(), file, json, opts, inv, errors);
}

/// Decodes raw input (one JSON document, or YAML documents) into the inventory. YAML is split
/// into documents before it is checked as UTF-8, so a bad byte is reported with its document
/// and line and the file's other documents are still read.
pub fn parse_bytes(
    bytes: &[u8],
    file: &str,
    json: bool,
    opts: &OfflineOptions,
    inv: &mut Inventory,
    errors: &mut Vec<InputError>,
) {
    if json {
        add_json_document(bytes, file, opts, inv, errors);
        return;
    }
    for (index, (first_line, raw)) in split_document_bytes(bytes).into_iter().enumerate() {
        let doc_text = match std::str::from_utf8(raw) {
            Ok(text) => text,
            Err(e) => {
                let before = &raw[..e.valid_up_to()];
                let line_start = memchr::memrchr(b'\n', before).map_or(0, |i| i + 1);
                errors.push(InputError {
                    code: Code::InputInvalidEncoding,
                    file: file.to_owned(),
                    document: Some(index),
                    line: Some(first_line + memchr::memchr_iter(b'\n', before).count() as u64),
                    column: Some((before.len() - line_start) as u64 + 1),
                    field: None,
                    message: utf8_message(raw, &e),
                });
                continue;
            }
        };
        // A document whose top-level `kind` is never kept (a CRD, a ConfigMap) is only counted:
        // its body is skipped unparsed. A cheap look at its lines decides whether to try.
        let in_file = |p: Option<Position>| {
            p.map(|p| Position { line: p.line + first_line - 1, column: p.column })
        };
        if top_level_kind_line(doc_text).is_some_and(decode::is_ignored_kind)
            && let Ok(top) = serde_saphyr::from_str_with_options::<serde_saphyr::Spanned<TopLevel>>(
                doc_text,
                yaml_options(),
            )
            && let Some(kind) = top.value.ignored_kind()
        {
            let source = file_source(file, index, None, in_file(position(&top.referenced)));
            add_to_inventory(inv, Decoded::Ignored(kind), source, "");
            continue;
        }
        let parsed = serde_saphyr::from_str_with_options::<serde_saphyr::Spanned<YamlDocument>>(
            doc_text,
            yaml_options(),
        )
        .map(|doc| {
            let mut doc_start = in_file(position(&doc.referenced));
            let mut doc = doc.value.0;
            for item in doc.items.iter_mut().flatten() {
                item.position = in_file(item.position);
                doc_start = None;
            }
            (doc, doc_start)
        })
        .map_err(|e| {
            let loc = e.location();
            InputError {
                code: Code::InputParseError,
                file: file.to_owned(),
                document: Some(index),
                line: loc.as_ref().map(|l| l.line() + first_line - 1),
                column: loc.as_ref().map(|l| l.column()),
                field: None,
                message: saphyr_message(&e),
            }
        });
        add_document(parsed, file, index, opts, inv, errors);
    }
}

/// `invalid UTF-8: byte 0xff …`, naming the first bad byte.
fn utf8_message(raw: &[u8], e: &std::str::Utf8Error) -> String {
    match raw.get(e.valid_up_to()) {
        Some(b) if e.error_len().is_some() => {
            format!("invalid UTF-8: byte 0x{b:02x} is not valid in UTF-8 text")
        }
        _ => "invalid UTF-8: the text ends inside a character".to_owned(),
    }
}

/// The value of the first `kind:` line at the top level (column 0) of a YAML document, if any.
fn top_level_kind_line(doc: &str) -> Option<&str> {
    doc.lines().find_map(|line| {
        let rest = line.strip_prefix("kind:")?;
        let value = rest.split(" #").next().unwrap_or(rest).trim();
        Some(value.trim_matches(|c| c == '"' || c == '\''))
    })
}

fn file_source(
    file: &str,
    document: usize,
    item: Option<usize>,
    start: Option<Position>,
) -> Provenance {
    Provenance::File {
        file: file.to_owned(),
        document,
        item,
        line: start.map(|p| p.line),
        column: start.map(|p| p.column),
    }
}

/// A serde-saphyr location as a position (`None` when unknown).
fn position(l: &serde_saphyr::Location) -> Option<Position> {
    (l.line() > 0).then(|| Position { line: l.line(), column: l.column() })
}

/// A YAML document whose list items are read with their positions.
struct YamlDocument(Document);

impl<'de> Deserialize<'de> for YamlDocument {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let seed = decode::document_seed(|item: serde_saphyr::Spanned<serde_json::Value>| Object {
            decoded: decode::decode_value(item.value),
            position: position(&item.referenced),
        });
        seed.deserialize(d).map(YamlDocument)
    }
}

/// Where the first value of a JSON text starts (after a byte order mark and white space).
fn json_start(bytes: &[u8]) -> Option<Position> {
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let at = text.iter().position(|b| !b.is_ascii_whitespace())?;
    let before = &text[..at];
    let line_start = memchr::memrchr(b'\n', before).map_or(0, |i| i + 1);
    Some(Position {
        line: 1 + memchr::memchr_iter(b'\n', before).count() as u64,
        column: 1 + (at - line_start) as u64,
    })
}

/// Decodes one JSON document (a single object, or a list whose items were taken out), skipping
/// the body of a kind that is never kept.
fn add_json_document(
    bytes: &[u8],
    file: &str,
    opts: &OfflineOptions,
    inv: &mut Inventory,
    errors: &mut Vec<InputError>,
) {
    let unmarked = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if decode::peek_json_kind(unmarked).is_some_and(|k| decode::is_ignored_kind(&k))
        && let Ok(top) = serde_json::from_slice::<TopLevel>(unmarked)
        && let Some(kind) = top.ignored_kind()
    {
        add_to_inventory(
            inv,
            Decoded::Ignored(kind),
            file_source(file, 0, None, json_start(bytes)),
            "",
        );
        return;
    }
    let doc = JsonDocumentSeed::default()
        .decode_slice(bytes)
        .map(|doc| {
            let start = if doc.items.is_some() { None } else { json_start(bytes) };
            (doc, start)
        })
        .map_err(|e| json_error(file, &e));
    add_document(doc, file, 0, opts, inv, errors);
}

/// Adds a parsed document's objects to the inventory, or records why it could not be parsed.
/// A list's items carry their own positions; `start` is where a single object starts.
fn add_document(
    parsed: Result<(Document, Option<Position>), InputError>,
    file: &str,
    index: usize,
    opts: &OfflineOptions,
    inv: &mut Inventory,
    errors: &mut Vec<InputError>,
) {
    let (doc, start) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => {
            errors.push(e);
            return;
        }
    };
    let is_list = doc.items.is_some();
    for (i, object) in doc.into_objects().into_iter().enumerate() {
        let at = object.position.or(start);
        match object.decoded {
            Ok(decoded) => {
                let source = file_source(file, index, is_list.then_some(i), at);
                add_to_inventory(inv, decoded, source, &opts.default_namespace);
            }
            Err(e) => errors.push(InputError {
                code: Code::InputInvalidObject,
                file: file.to_owned(),
                document: Some(index),
                line: at.map(|p| p.line),
                column: at.map(|p| p.column),
                field: e.field.clone(),
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

    fn parse(text: &[u8]) -> (Inventory, Vec<InputError>) {
        let mut inv = Inventory::default();
        let mut errors = Vec::new();
        parse_bytes(text, "x.yaml", false, &OfflineOptions::default(), &mut inv, &mut errors);
        (inv, errors)
    }

    #[test]
    fn splits_raw_bytes_like_text() {
        let docs = split_document_bytes(b"a: \xff\n---\nb: 2\n");
        assert_eq!(docs, [(1, &b"a: \xff\n"[..]), (3, &b"b: 2\n"[..])]);
    }

    /// YAML nests as deep as JSON may (128), and deeper input is an error, never a crash.
    #[test]
    fn yaml_depth_limit_is_json_s() {
        // The binary decodes on its main thread (8 MiB of stack); test threads get less.
        let run = std::thread::Builder::new().stack_size(8 << 20).spawn(|| {
            let nested = |depth: usize| {
                let mut text =
                    String::from("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  x: ");
                text += &"[".repeat(depth - 2);
                text += &"]".repeat(depth - 2);
                text.push('\n');
                text
            };
            let (_, errors) = parse(nested(MAX_DEPTH).as_bytes());
            assert!(errors.iter().all(|e| !e.message.contains("Depth")), "{errors:?}");
            let (inv, errors) = parse(nested(MAX_DEPTH + 1).as_bytes());
            assert!(inv.pod_objects.is_empty());
            assert!(errors[0].message.contains("Depth"), "{errors:?}");
            let json = format!(
                "{{\"kind\": \"Pod\", \"spec\": {{\"x\": {}{}}}}}",
                "[".repeat(127),
                "]".repeat(127)
            );
            let mut errors = Vec::new();
            let mut inv = Inventory::default();
            parse_bytes(
                json.as_bytes(),
                "x.json",
                true,
                &OfflineOptions::default(),
                &mut inv,
                &mut errors,
            );
            assert!(errors[0].message.contains("recursion limit"), "{errors:?}");
        });
        run.unwrap().join().unwrap();
    }

    /// Only a top-level kind that is never kept skips decoding: lists and kept kinds are
    /// decoded, and a `kind:` line inside a block scalar is not the document's kind.
    #[test]
    fn ignored_kinds_skip_decoding_lists_do_not() {
        let (inv, errors) = parse(
            b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  x: {bad: [1, 2}\n",
        );
        assert_eq!(errors.len(), 1, "malformed YAML is still an error: {inv:?}");
        let (inv, errors) = parse(
            b"kind: List\napiVersion: v1\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: a}\n---\nkind: CustomResourceDefinition\nspec: {a: {b: {c: 1}}}\n---\nscript: |\n  x\nkind: Pod\napiVersion: v1\nmetadata: {name: b}\n",
        );
        assert!(errors.is_empty(), "{errors:?}");
        let names: Vec<&str> = inv.pod_objects.iter().map(|p| p.name()).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(inv.ignored.get("CustomResourceDefinition"), Some(&1));
        assert_eq!(top_level_kind_line("a: |\n  kind: X\nkind: 'Y' # c\n"), Some("Y"));
    }

    fn starts(inv: &Inventory) -> Vec<(&str, String)> {
        inv.pod_objects.iter().map(|p| (p.name(), p.source.to_string())).collect()
    }

    /// A document starts at its first content line; a list item where its node starts.
    #[test]
    fn yaml_objects_know_where_they_start() {
        let text = "# a comment\n\napiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: b}\n-   kind: Pod\n    metadata: {name: c}\n- {kind: Pod, metadata: {name: d}}\n";
        let (inv, errors) = parse(text.as_bytes());
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            starts(&inv),
            [
                ("a", "x.yaml:3:1 (document 0)".to_owned()),
                ("b", "x.yaml:9:3 (document 1, item 0)".to_owned()),
                ("c", "x.yaml:12:5 (document 1, item 1)".to_owned()),
                ("d", "x.yaml:14:3 (document 1, item 2)".to_owned()),
            ]
        );
        // A bad item is reported where it starts.
        let (_, errors) = parse(b"kind: List\nitems:\n- kind: Pod\n  spec: {hostPID: 3}\n");
        assert_eq!((errors[0].line, errors[0].column), (Some(3), Some(3)), "{errors:?}");
    }

    /// JSON: a single object starts at its brace, list items where theirs are (columns in
    /// characters), in files as on standard input.
    #[test]
    fn json_objects_know_where_they_start() {
        let dir = tempfile::tempdir().unwrap();
        let list = "{\"kind\": \"List\", \"items\": [\n  {\"kind\": \"Pod\", \"metadata\": {\"name\": \"é\"}}, {\"kind\": \"Pod\", \"metadata\": {\"name\": \"b\"}}]}\n";
        let single = "\n\n   {\"kind\": \"Pod\", \"metadata\": {\"name\": \"c\"}}\n";
        std::fs::write(dir.path().join("l.json"), list).unwrap();
        std::fs::write(dir.path().join("s.json"), single).unwrap();
        let paths =
            [dir.path().join("l.json"), dir.path().join("s.json")].map(|p| p.display().to_string());
        let read = read_offline(&paths, &OfflineOptions::default(), &mut std::io::empty());
        assert!(read.errors.is_empty(), "{:?}", read.errors);
        let got: Vec<(&str, Option<u64>, Option<u64>)> = read
            .inventory
            .pod_objects
            .iter()
            .map(|p| match &p.source {
                Provenance::File { line, column, .. } => (p.name(), *line, *column),
                Provenance::Live { .. } => unreachable!(),
            })
            .collect();
        assert_eq!(
            got,
            [("b", Some(2), Some(47)), ("c", Some(3), Some(4)), ("é", Some(2), Some(3))]
        );
        let read = read_offline(&["-".into()], &OfflineOptions::default(), &mut single.as_bytes());
        assert_eq!(starts(&read.inventory), [("c", "-:3:4 (document 0)".to_owned())]);
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
