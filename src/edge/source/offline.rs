//! The offline source: files, directories (recursive; `.yaml`, `.yml`, `.json`) and `-` for
//! stdin. Multi-document YAML is split the way kubectl splits it (a line starting with `---`),
//! each document is decoded on its own ([`yaml`]: YAML 1.1 as kubectl reads it), so one
//! malformed document is reported with its file, index and position while the others are
//! still read. JSON is streamed by [`jsonsplit`] (a list's items, or the values of a stream of
//! several) to decoding threads. Every object carries where it starts; a key given twice keeps
//! its last value with an `input-duplicate-key` warning.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::io::Read;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use crate::decode;
use crate::decode::{
    DecodeError, Decoded, Document, ItemDefaults, JsonDocumentSeed, Object, Position, TopLevel,
    add_to_inventory, decode_json_object, decode_json_tree,
};
use crate::findings::{Code, Diagnostic, Location, Severity};
use crate::model::inventory::{Inventory, Provenance};
use crate::source::jsonsplit::{self, Outer};
use crate::source::yaml::{self, Placed};

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

/// A mapping key given twice in one mapping (YAML or JSON): the last value is kept, as kubectl
/// keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DuplicateKey {
    /// Dotted path of the mapping (`spec.containers[0].securityContext`; empty at the top).
    pub mapping: String,
    /// Dotted path of the key.
    pub path: String,
    pub key: String,
    /// Where the key is given again (whose value is kept), and where it was first given.
    pub at: Position,
    pub first: Position,
}

impl DuplicateKey {
    /// The key with its paths inside the value at `prefix` (`items[3]`).
    pub fn within(&self, prefix: &str) -> DuplicateKey {
        let join = |p: &str| if p.is_empty() { prefix.to_owned() } else { format!("{prefix}.{p}") };
        DuplicateKey { mapping: join(&self.mapping), path: join(&self.path), ..self.clone() }
    }

    /// The `input-duplicate-key` warning for this key in `document` of `file`.
    pub fn warning(&self, file: &str, document: usize) -> InputError {
        let within =
            if self.mapping.is_empty() { String::new() } else { format!(" in {}", self.mapping) };
        InputError {
            code: Code::InputDuplicateKey,
            file: file.to_owned(),
            document: Some(document),
            line: Some(self.at.line),
            column: Some(self.at.column),
            field: Some(self.path.clone()),
            message: format!(
                "duplicate key \"{}\"{within} (first given on line {}): the last value is kept, \
                 as kubectl keeps it",
                self.key, self.first.line
            ),
        }
    }
}

/// The keys of one mapping seen so far, with where each was first given: a list while small, a
/// hash map once a mapping has many keys (a ConfigMap's data), so checking stays cheap.
#[derive(Debug, Default)]
pub struct SeenKeys<'a> {
    list: Vec<(Cow<'a, str>, Position)>,
    index: HashMap<Cow<'a, str>, Position>,
}

impl<'a> SeenKeys<'a> {
    /// Records `key` given at `at`; if it was given before, returns where it first was.
    pub fn insert(&mut self, key: Cow<'a, str>, at: Position) -> Option<Position> {
        const SMALL: usize = 16;
        if self.index.is_empty() {
            if let Some((_, first)) = self.list.iter().find(|(k, _)| *k == key) {
                return Some(*first);
            }
            self.list.push((key, at));
            if self.list.len() > SMALL {
                self.index.extend(self.list.drain(..));
            }
            return None;
        }
        match self.index.get(&key) {
            Some(first) => Some(*first),
            None => {
                self.index.insert(key, at);
                None
            }
        }
    }
}

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
/// problems (errors: input not read), warnings about input that was read (keys given twice),
/// and notices (e.g. files skipped while walking a directory).
#[derive(Debug, Default)]
pub struct OfflineRead {
    pub inventory: Inventory,
    pub errors: Vec<InputError>,
    pub warnings: Vec<InputError>,
    pub notices: Vec<String>,
}

/// Reads every path into one inventory. Problems are collected, never fatal: the caller decides
/// the exit code. Warnings are left out.
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
    let (errors, warnings) =
        errors.into_iter().partition(|e: &InputError| e.code.severity() == Severity::Error);
    OfflineRead { inventory: inv, errors, warnings, notices }
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

/// Reads JSON (a file, or standard input) without holding it in memory twice: the splitter
/// streams list items (and the values of a stream of several) as raw text to decoding threads
/// (one per core), each decoding straight into its own inventory, so reading and decoding
/// overlap and no decoded object is held twice. The parts are merged and sorted afterwards, so
/// the result does not depend on which thread decoded what. Keys given twice are warned about,
/// and such an object is decoded through a JSON tree, which keeps the last value.
fn read_json_stream(
    f: impl Read,
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
                let duplicates = jsonsplit::duplicate_keys(&raw, start);
                let prefix = format!("items[{index}]");
                for d in &duplicates {
                    errs.push((index, d.within(&prefix).warning(file, 0)));
                }
                let decode =
                    if duplicates.is_empty() { decode_json_object } else { decode_json_tree };
                // The line of a bad byte, not only of the item's start.
                let (mut line, mut column) = (start.line, Some(start.column));
                let decoded = std::str::from_utf8(&raw)
                    .map_err(|e| {
                        let before = &raw[..e.valid_up_to()];
                        line += memchr::memchr_iter(b'\n', before).count() as u64;
                        column = None;
                        DecodeError { item: None, field: None, message: utf8_message(&raw, &e) }
                    })
                    .and_then(|text| decode(text, ItemDefaults::default()));
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
        // Blank input is one empty value, so that it is reported as before.
        let outer = outer.map(|mut outers| {
            if outers.is_empty() && index == 0 {
                outers.push(Outer { bytes: Vec::new(), start: Position { line: 1, column: 1 } });
            }
            outers
        });
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
        // The values decoded whole: a single object, or List wrappers with `items: []`.
        Ok(outers) => {
            for outer in &outers {
                add_json_document(outer, file, opts, inv, errors);
            }
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

/// A serde_json error in a value that starts at `start` in the file.
fn json_error(file: &str, e: &serde_json::Error, start: Position) -> InputError {
    let message = e.to_string();
    let message = message.rfind(" at line ").map_or(message.as_str(), |i| &message[..i]).to_owned();
    let (line, column) = (e.line() as u64, e.column() as u64);
    InputError {
        code: Code::InputParseError,
        file: file.to_owned(),
        document: Some(0),
        line: Some(start.line + line.max(1) - 1),
        column: Some(if line <= 1 { start.column + column.max(1) - 1 } else { column }),
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
            // Go's strings.TrimSpace, as kubectl trims: Unicode white space (NEL, U+2028, …).
            let rest = std::str::from_utf8(rest).map_or(rest.trim_ascii(), |r| r.trim().as_bytes());
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

/// Decodes text (JSON, or YAML documents) into the inventory.
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

/// Decodes raw input (JSON: one value, or a stream of several; or YAML documents) into the
/// inventory. YAML is split into documents before it is checked as UTF-8, so a bad byte is
/// reported with its document and line and the file's other documents are still read.
pub fn parse_bytes(
    bytes: &[u8],
    file: &str,
    json: bool,
    opts: &OfflineOptions,
    inv: &mut Inventory,
    errors: &mut Vec<InputError>,
) {
    if json {
        read_json_stream(bytes, file, opts, inv, errors);
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
        let doc_text = kubectl_line_breaks(doc_text);
        let in_file = |p: Position| Position { line: p.line + first_line - 1, column: p.column };
        // A document whose top-level `kind` is never kept (a CRD, a ConfigMap) is only counted:
        // its body is skipped unparsed. A cheap look at its lines decides whether to try.
        if top_level_kind_line(&doc_text).is_some_and(decode::is_ignored_kind)
            && let Ok(top) = yaml::from_str_seed(&doc_text, PhantomData::<TopLevel>)
            && let Some(kind) = top.value.ignored_kind()
        {
            let source = file_source(file, index, None, top.start.map(in_file));
            add_to_inventory(inv, Decoded::Ignored(kind), source, "");
            continue;
        }
        let seed = decode::document_seed(|item: Placed<serde_json::Value>| Object {
            decoded: decode::decode_value(item.value),
            position: item.position,
        });
        let parsed = match yaml::from_str_seed(&doc_text, seed) {
            Ok(parsed) => {
                for d in &parsed.duplicates {
                    let d =
                        DuplicateKey { at: in_file(d.at), first: in_file(d.first), ..d.clone() };
                    errors.push(d.warning(file, index));
                }
                let mut doc = parsed.value;
                let mut start = parsed.start.map(in_file);
                for item in doc.items.iter_mut().flatten() {
                    item.position = item.position.map(in_file);
                    start = None;
                }
                Ok((doc, start))
            }
            Err(e) => Err(InputError {
                code: Code::InputParseError,
                file: file.to_owned(),
                document: Some(index),
                line: e.position.map(|p| in_file(p).line),
                column: e.position.map(|p| p.column),
                field: None,
                message: e.message,
            }),
        };
        add_document(parsed, file, index, opts, inv, errors);
    }
}

/// go-yaml v2 (YAML 1.1) breaks lines at NEL (U+0085), LINE SEPARATOR (U+2028) and PARAGRAPH
/// SEPARATOR (U+2029) as at a line feed, everywhere: a comment ends there, a plain or folded
/// scalar folds there, the next key may start there. YAML 1.2, and so the parser, takes them
/// for ordinary characters, so they become line feeds before parsing. For NEL this is exactly
/// what go-yaml v2 does (it reads NEL as a line feed); for LS and PS the structure is the same,
/// but where go-yaml keeps the separator itself in the text of a multi-line scalar, the text
/// gets what a line feed gives there (a space or a line feed).
fn kubectl_line_breaks(text: &str) -> Cow<'_, str> {
    let b = text.as_bytes();
    let breaks = |i: usize| matches!(&b[i..], [0xC2, 0x85, ..] | [0xE2, 0x80, 0xA8 | 0xA9, ..]);
    if !memchr::memchr2_iter(0xC2, 0xE2, b).any(breaks) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(text.replace(['\u{85}', '\u{2028}', '\u{2029}'], "\n"))
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

/// Decodes one JSON value read whole (a single object, or a list whose items were taken out),
/// skipping the body of a kind that is never kept. Keys given twice are warned about, and then
/// the kind is read from the whole value (the last one given).
fn add_json_document(
    outer: &Outer,
    file: &str,
    opts: &OfflineOptions,
    inv: &mut Inventory,
    errors: &mut Vec<InputError>,
) {
    let bytes = &outer.bytes[..];
    let duplicates = jsonsplit::duplicate_keys(bytes, outer.start);
    errors.extend(duplicates.iter().map(|d| d.warning(file, 0)));
    if duplicates.is_empty()
        && decode::peek_json_kind(bytes).is_some_and(|k| decode::is_ignored_kind(&k))
        && let Ok(top) = serde_json::from_slice::<TopLevel>(bytes)
        && let Some(kind) = top.ignored_kind()
    {
        add_to_inventory(
            inv,
            Decoded::Ignored(kind),
            file_source(file, 0, None, Some(outer.start)),
            "",
        );
        return;
    }
    let doc = JsonDocumentSeed::default()
        .decode_slice(bytes)
        .map(|doc| {
            let start = if doc.items.is_some() { None } else { Some(outer.start) };
            (doc, start)
        })
        .map_err(|e| json_error(file, &e, outer.start));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_documents_like_kubectl() {
        let docs = split_documents("a: 1\n---\nb: 2\n--- # c\n---\nc: 3\n");
        assert_eq!(docs, [(1, "a: 1\n"), (3, "b: 2\n"), (5, ""), (6, "c: 3\n")]);
        assert_eq!(split_documents("---\na: 1\n"), [(2, "a: 1\n")]);
        assert_eq!(split_documents("a: |\n  ---x\n"), [(1, "a: |\n  ---x\n")]);
        assert_eq!(split_documents("a: 1\n--- \u{2028}\nb: 2\n"), [(1, "a: 1\n"), (3, "b: 2\n")]);
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
            assert!(errors.is_empty(), "{errors:?}");
            let (inv, errors) = parse(nested(MAX_DEPTH + 1).as_bytes());
            assert!(inv.pod_objects.is_empty());
            assert_eq!(errors[0].message, "the document nests deeper than 128 levels");
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

    fn json(text: &str) -> (Inventory, Vec<InputError>) {
        let mut inv = Inventory::default();
        let mut errors = Vec::new();
        parse_bytes(text.as_bytes(), "-", true, &OfflineOptions::default(), &mut inv, &mut errors);
        (inv, errors)
    }

    const POD: &str =
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n";

    /// YAML 1.1 scalars as kubectl reads them (go-yaml v2): `on` is true, `0.0` is 0; a quoted
    /// `"on"` stays a string, which a boolean field refuses, as kubectl does.
    #[test]
    fn yaml_1_1_scalars_in_typed_fields() {
        let (inv, errors) = parse(
            format!("{POD}    securityContext: {{privileged: on, runAsUser: 0.0}}\n  hostPID: Y\n")
                .as_bytes(),
        );
        assert!(errors.is_empty(), "{errors:?}");
        let spec = &inv.pod_objects[0].spec;
        let sc = spec.containers[0].security_context.as_deref().unwrap();
        assert_eq!(
            (sc.privileged, sc.run_as_user, spec.host_pid),
            (Some(true), Some(0), Some(true))
        );
        let (inv, errors) =
            parse(format!("{POD}    securityContext: {{runAsUser: 1e3}}\n").as_bytes());
        assert!(errors.is_empty(), "{errors:?}");
        let sc = inv.pod_objects[0].spec.containers[0].security_context.as_deref().unwrap();
        assert_eq!(sc.run_as_user, Some(1000));
        for (value, message) in [
            ("\"on\"", "invalid type: string \"on\", expected a boolean"),
            ("oN", "invalid type: string \"oN\", expected a boolean"),
        ] {
            let (_, errors) =
                parse(format!("{POD}    securityContext: {{privileged: {value}}}\n").as_bytes());
            assert_eq!(
                errors.iter().map(|e| e.to_string()).collect::<Vec<_>>(),
                [format!(
                    "x.yaml: document 0 (line 1, column 1): spec.containers[0].securityContext.privileged: {message}"
                )]
            );
        }
        let (_, errors) =
            parse(format!("{POD}    securityContext: {{runAsUser: 0.5}}\n").as_bytes());
        assert!(
            errors[0].message.ends_with("invalid type: floating point `0.5`, expected i64"),
            "{errors:?}"
        );
    }

    /// JSON is read as kubectl's JSON path reads it: no YAML 1.1 forms.
    #[test]
    fn json_stays_strict() {
        let (_, errors) = json(
            r#"{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"hostPID": "yes"}}"#,
        );
        assert_eq!(
            errors[0].to_string(),
            "-: document 0 (line 1, column 1): spec.hostPID: invalid type: string \"yes\", expected a boolean"
        );
    }

    /// NEL, LINE SEPARATOR and PARAGRAPH SEPARATOR break lines as in go-yaml v2: a comment ends
    /// there, a plain scalar folds there, a key may start there.
    #[test]
    fn unicode_line_breaks_as_go_yaml_v2() {
        let text = format!(
            "{POD}    securityContext: # no privilege\u{2028}      privileged: true\n    image: a\u{85}      b\n    imagePullPolicy: x\u{2029}  hostPID: true\n"
        );
        let (inv, errors) = parse(text.as_bytes());
        assert!(errors.is_empty(), "{errors:?}");
        let pod = &inv.pod_objects[0];
        let sc = pod.spec.containers[0].security_context.as_deref();
        assert_eq!(sc.and_then(|s| s.privileged), Some(true), "the comment ended at U+2028");
        assert_eq!(pod.spec.host_pid, Some(true), "U+2029 started a new line");
        assert_eq!(kubectl_line_breaks("a: b"), "a: b");
        assert_eq!(kubectl_line_breaks("a\u{85}b\u{2028}c\u{2029}d é –"), "a\nb\nc\nd é –");
        // Quoted scalars keep escaped separators as they are.
        assert_eq!(kubectl_line_breaks("a: \"\\N\\L\""), "a: \"\\N\\L\"");
    }

    /// A key given twice keeps its last value, with a warning naming the key, its path, the
    /// document and both lines; in YAML and JSON alike.
    #[test]
    fn duplicate_keys_warn_and_keep_the_last_value() {
        let text = format!(
            "kind: ConfigMap\n---\n{POD}    securityContext:\n      privileged: false\n      privileged: true\n"
        );
        let (inv, errors) = parse(text.as_bytes());
        assert_eq!(inv.pod_objects.len(), 1, "{errors:?}");
        let sc = inv.pod_objects[0].spec.containers[0].security_context.as_deref().unwrap();
        assert_eq!(sc.privileged, Some(true));
        assert_eq!(
            errors.iter().map(|e| (e.code, e.to_string(), e.field.clone())).collect::<Vec<_>>(),
            [(
                Code::InputDuplicateKey,
                "x.yaml: document 1 (line 11, column 7): duplicate key \"privileged\" in \
                 spec.containers[0].securityContext (first given on line 10): the last value is \
                 kept, as kubectl keeps it"
                    .to_owned(),
                Some("spec.containers[0].securityContext.privileged".to_owned())
            )]
        );
        let list = "{\"kind\": \"List\", \"kind\": \"List\", \"items\": [\n {\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"p\"},\n  \"spec\": {\"hostPID\": false, \"hostPID\": true}}]}";
        let (inv, errors) = json(list);
        assert_eq!(inv.pod_objects.len(), 1, "the last kind is the one read: {errors:?}");
        assert_eq!(inv.pod_objects[0].spec.host_pid, Some(true));
        let got: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            got,
            [
                "-: document 0 (line 1, column 18): duplicate key \"kind\" (first given on line 1): the last value is kept, as kubectl keeps it",
                "-: document 0 (line 2, column 44): duplicate key \"kind\" in items[0] (first given on line 2): the last value is kept, as kubectl keeps it",
                "-: document 0 (line 3, column 30): duplicate key \"hostPID\" in items[0].spec (first given on line 3): the last value is kept, as kubectl keeps it",
            ]
        );
        let read = read_offline(&["-".into()], &OfflineOptions::default(), &mut list.as_bytes());
        assert!(read.errors.is_empty());
        assert_eq!(read.warnings.len(), 3);
    }

    /// Concatenated JSON objects (`jq -c '.items[]'`) are read like a List, each object an
    /// item with its own line, on standard input as in files; a List among them gives its
    /// items.
    #[test]
    fn concatenated_json_objects_are_items() {
        let pod = |name: &str| {
            format!(
                "{{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {{\"name\": \"{name}\"}}}}"
            )
        };
        let text = format!(
            "{}\n{}\n{{\"kind\": \"List\", \"items\": [{}]}} {}\n",
            pod("a"),
            pod("b"),
            pod("c"),
            pod("d")
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        std::fs::write(&path, &text).unwrap();
        let file = path.display().to_string();
        for (paths, name) in [(vec!["-".to_owned()], "-".to_owned()), (vec![file.clone()], file)] {
            let read = read_offline(&paths, &OfflineOptions::default(), &mut text.as_bytes());
            assert!(read.errors.is_empty(), "{:?}", read.errors);
            let got: Vec<String> = read
                .inventory
                .pod_objects
                .iter()
                .map(|p| format!("{} {}", p.name(), p.source))
                .collect();
            assert_eq!(
                got,
                [
                    format!("a {name}:1:1 (document 0, item 0)"),
                    format!("b {name}:2:1 (document 0, item 1)"),
                    format!("c {name}:3:28 (document 0, item 2)"),
                    format!("d {name}:3:93 (document 0, item 3)"),
                ]
            );
        }
        // A bad object among them is reported with its item and line; the others are read.
        let (inv, errors) =
            json(&format!("{}\n{{\"kind\": \"Pod\", \"spec\": 5}}\n{}", pod("a"), pod("b")));
        assert_eq!(inv.pod_objects.len(), 2);
        assert_eq!(
            errors[0].to_string(),
            "-: document 0 (line 2, column 1): items[1].spec: invalid type: integer `5`, expected struct PodSpec"
        );
        let (_, errors) = json(&format!("{} x", pod("a")));
        assert_eq!(errors[0].line, Some(1), "{errors:?}");
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
