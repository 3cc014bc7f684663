//! A streaming splitter for JSON input: large lists (`kubectl get … -o json`) and streams of
//! concatenated values (`jq -c '.items[]'`). It reads the text once and hands every element of
//! a top-level `items` array to a callback as raw bytes, with where it starts; the rest of each
//! list (with `"items": []`) is kept for ordinary parsing. A text holding several top-level
//! values is read like a list, as kubectl's decoder reads a stream: every value that is not a
//! list is handed over as an item too, in order.
//!
//! Why not `serde_json::from_reader`: it reads byte by byte through `io::Read` and is several
//! times slower than parsing slices, and reading a 500 MB export into memory whole would double
//! the tool's footprint. The splitter only tracks strings, escapes and nesting depth; any JSON
//! error is left for serde_json to report on the piece that contains it.
//!
//! [`duplicate_keys`] finds keys given twice in one object of a piece.

use std::borrow::Cow;
use std::io::{self, Read};

use crate::decode::Position;
use crate::source::offline::{DuplicateKey, SeenKeys};

/// A top-level value the caller decodes whole: the only value of the text (one object, or a
/// list whose items were handed over), or, in a text of several values, a list wrapper. Line
/// breaks of the items taken out are kept, so lines inside it are the file's, from `start`.
#[derive(Debug)]
pub struct Outer {
    pub bytes: Vec<u8>,
    pub start: Position,
}

/// What the top-level value being read is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// An object or an array (`object` tells which).
    Nested {
        object: bool,
    },
    String,
    /// A number, literal or stray character: up to white space or a structural character.
    Scalar,
}

/// Splits the JSON text read from `r`. `on_item(bytes, start)` is called for each element of a
/// top-level `items` array and, when the text holds several values, for each value that has no
/// `items`, in input order. Returns the values to decode whole (none for blank input).
pub fn split_items<R: Read>(
    mut r: R,
    mut on_item: impl FnMut(Vec<u8>, Position),
) -> io::Result<Vec<Outer>> {
    let mut outers = Vec::new();
    // The value being read: its shape, bytes (without the items), start, and whether it had
    // items.
    let mut current: Option<(Shape, Vec<u8>, Position, bool)> = None;
    // The first value while it may be the only one, and how many values were seen.
    let mut pending: Option<Outer> = None;
    let mut values = 0usize;
    let mut item: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 1 << 20];
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escape = false;
    // Lines before the current chunk, for the line a value starts on, and the characters of
    // the current line before the chunk, for its column.
    let mut line = 1u64;
    let mut carried_columns = 0u64;
    // The last string seen at depth 1 (a key candidate), and whether `:` followed "items".
    let mut key = Vec::new();
    let mut collecting_key = false;
    let mut after_items_key = false;
    // Inside the items array (depth 2 and deeper belongs to elements), from which line.
    let mut in_items = false;
    let mut items_line = 0u64;
    let mut item_start = Position { line: 0, column: 0 };
    let mut first = true;
    // Ends the current value: a list wrapper or the only value is decoded whole, any other
    // value of a text of several is an item.
    let mut finish = |current: &mut Option<(Shape, Vec<u8>, Position, bool)>,
                      pending: &mut Option<Outer>,
                      values: usize,
                      on_item: &mut dyn FnMut(Vec<u8>, Position)| {
        if let Some((_, bytes, start, had_items)) = current.take() {
            if had_items {
                outers.push(Outer { bytes, start });
            } else if values > 1 {
                on_item(bytes, start);
            } else {
                *pending = Some(Outer { bytes, start });
            }
        }
    };
    loop {
        let n = match r.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let mut buf = &chunk[..n];
        if std::mem::take(&mut first) {
            // Windows editors write a UTF-8 byte order mark; JSON parsers reject it.
            buf = buf.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(buf);
        }
        let n = buf.len();
        // Start of the current run of bytes that goes to the value or to `item`.
        let mut run = 0;
        // Newlines are counted lazily, up to `counted`.
        let mut counted = 0;
        let line_at = |i: usize, counted: &mut usize, line: &mut u64| {
            *line += memchr::memchr_iter(b'\n', &buf[*counted..i]).count() as u64;
            *counted = i;
            *line
        };
        let position_at = |i: usize, counted: &mut usize, line: &mut u64| {
            let line = line_at(i, counted, line);
            let column = match memchr::memrchr(b'\n', &buf[..i]) {
                Some(nl) => chars(&buf[nl + 1..i]),
                None => carried_columns + chars(&buf[..i]),
            };
            Position { line, column: column + 1 }
        };
        let mut i = 0;
        while i < n {
            if in_string {
                if escape {
                    escape = false;
                    i += 1;
                    continue;
                }
                match memchr::memchr2(b'"', b'\\', &buf[i..]) {
                    None => {
                        if collecting_key {
                            key.extend_from_slice(&buf[i..n.min(i + 8)]);
                        }
                        i = n;
                    }
                    Some(off) => {
                        if collecting_key {
                            key.extend_from_slice(&buf[i..i + off.min(8)]);
                        }
                        i += off;
                        if buf[i] == b'\\' {
                            escape = true;
                            collecting_key = false;
                            key.clear();
                            key.push(b'\\');
                        } else {
                            in_string = false;
                            collecting_key = false;
                            if depth == 0
                                && let Some((_, bytes, ..)) = &mut current
                            {
                                // A top-level string ends here.
                                bytes.extend_from_slice(&buf[run..=i]);
                                run = i + 1;
                                finish(&mut current, &mut pending, values, &mut on_item);
                            }
                        }
                        i += 1;
                    }
                }
                continue;
            }
            if depth == 0 {
                let b = buf[i];
                if let Some((Shape::Scalar, bytes, ..)) = &mut current {
                    if !(b.is_ascii_whitespace() || STRUCTURAL[b as usize]) {
                        i += 1;
                        continue;
                    }
                    // The scalar ends before this byte, which is read again.
                    bytes.extend_from_slice(&buf[run..i]);
                    run = i;
                    finish(&mut current, &mut pending, values, &mut on_item);
                    continue;
                }
                if b.is_ascii_whitespace() {
                    i += 1;
                    continue;
                }
                // A value starts: the second one makes the text a stream of values, whose
                // first one (if not a list) is an item too.
                values += 1;
                if values == 2
                    && let Some(p) = pending.take()
                {
                    on_item(p.bytes, p.start);
                }
                let start = position_at(i, &mut counted, &mut line);
                run = i;
                key.clear();
                after_items_key = false;
                let shape = match b {
                    b'{' | b'[' => {
                        depth = 1;
                        Shape::Nested { object: b == b'{' }
                    }
                    b'"' => {
                        in_string = true;
                        Shape::String
                    }
                    _ => Shape::Scalar,
                };
                current = Some((shape, Vec::new(), start, false));
                if matches!(b, b'}' | b']' | b',' | b':') {
                    // A stray structural character is a value of its own (an error later).
                    if let Some((_, bytes, ..)) = &mut current {
                        bytes.push(b);
                    }
                    run = i + 1;
                    finish(&mut current, &mut pending, values, &mut on_item);
                }
                i += 1;
                continue;
            }
            if !(STRUCTURAL[buf[i] as usize] || in_items && depth == 2) {
                // Whitespace, numbers and literals inside values: nothing to track.
                i += 1;
                while i < n && !STRUCTURAL[buf[i] as usize] {
                    i += 1;
                }
                continue;
            }
            let in_object = matches!(current, Some((Shape::Nested { object: true }, ..)));
            let b = buf[i];
            match b {
                b' ' | b'\t' | b'\r' | b'\n' => {}
                b'"' => {
                    in_string = true;
                    if depth == 1 && !in_items && in_object {
                        key.clear();
                        collecting_key = true;
                    }
                }
                b':' if depth == 1 && !in_items && in_object => after_items_key = key == b"items",
                b'[' if depth == 1 && after_items_key => {
                    // Enter the items array: the value keeps the bracket, not the contents.
                    if let Some((_, bytes, _, had_items)) = &mut current {
                        bytes.extend_from_slice(&buf[run..=i]);
                        *had_items = true;
                    }
                    run = i + 1;
                    depth = 2;
                    in_items = true;
                    after_items_key = false;
                    items_line = line_at(i, &mut counted, &mut line);
                    i += 1;
                    continue;
                }
                b'{' | b'[' => {
                    if in_items && depth == 2 && is_blank(&item) && is_blank(&buf[run..i]) {
                        // An element starts here.
                        item.clear();
                        run = i;
                        item_start = position_at(i, &mut counted, &mut line);
                    }
                    depth += 1;
                }
                b'}' | b']' => {
                    depth -= 1;
                    if in_items && depth == 1 {
                        // End of the items array: flush a scalar element, if any, and keep the
                        // array's line breaks so that later lines stay the file's.
                        item.extend_from_slice(&buf[run..i]);
                        flush(&mut item, item_start, &mut on_item);
                        in_items = false;
                        run = i;
                        let breaks = line_at(i, &mut counted, &mut line) - items_line;
                        if let Some((_, bytes, ..)) = &mut current {
                            bytes.extend(std::iter::repeat_n(b'\n', breaks as usize));
                        }
                    } else if in_items && depth == 2 {
                        item.extend_from_slice(&buf[run..=i]);
                        flush(&mut item, item_start, &mut on_item);
                        run = i + 1;
                    } else if depth == 0 {
                        // The top-level value ends here.
                        if let Some((_, bytes, ..)) = &mut current {
                            bytes.extend_from_slice(&buf[run..=i]);
                        }
                        run = i + 1;
                        finish(&mut current, &mut pending, values, &mut on_item);
                    }
                }
                b',' if in_items && depth == 2 => {
                    item.extend_from_slice(&buf[run..i]);
                    flush(&mut item, item_start, &mut on_item);
                    run = i + 1;
                }
                _ => {
                    if in_items && depth == 2 && is_blank(&item) && is_blank(&buf[run..i]) {
                        // A scalar element (null, number, …) starts here.
                        item.clear();
                        run = i;
                        item_start = position_at(i, &mut counted, &mut line);
                    }
                }
            }
            i += 1;
        }
        line_at(n, &mut counted, &mut line);
        carried_columns = match memchr::memrchr(b'\n', buf) {
            Some(nl) => chars(&buf[nl + 1..]),
            None => carried_columns + chars(buf),
        };
        if in_items {
            item.extend_from_slice(&buf[run..]);
        } else if let Some((_, bytes, ..)) = &mut current {
            bytes.extend_from_slice(&buf[run..]);
        }
    }
    if !item.is_empty() {
        // Unterminated: hand over what there is, serde_json will say what is wrong.
        flush(&mut item, item_start, &mut on_item);
    }
    finish(&mut current, &mut pending, values, &mut on_item);
    outers.extend(pending);
    Ok(outers)
}

/// Bytes the splitter must look at outside strings.
const STRUCTURAL: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    let bytes = b"\"{}[],:";
    while i < bytes.len() {
        t[bytes[i] as usize] = true;
        i += 1;
    }
    t
};

fn is_blank(bytes: &[u8]) -> bool {
    bytes.iter().all(u8::is_ascii_whitespace)
}

/// The number of characters in UTF-8 text (bytes that do not continue a character).
fn chars(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| b & 0xC0 != 0x80).count() as u64
}

fn flush(item: &mut Vec<u8>, start: Position, on_item: &mut impl FnMut(Vec<u8>, Position)) {
    let trimmed = item.iter().any(|b| !b.is_ascii_whitespace());
    if trimmed {
        on_item(std::mem::take(item), start);
    }
    item.clear();
}

/// Keys given twice in one object of the JSON text `text`, which starts at `start` in its
/// file: each repeat with where it and the first one are, and its path (`spec.containers[0]`).
/// Never fails: text that is not JSON yields what could be seen (serde_json reports the error).
pub fn duplicate_keys(text: &[u8], start: Position) -> Vec<DuplicateKey> {
    enum Frame<'a> {
        Object { keys: SeenKeys<'a>, key: Option<Cow<'a, str>>, expect_key: bool },
        Array { index: usize },
    }
    let mut stack: Vec<Frame<'_>> = Vec::new();
    let mut found = Vec::new();
    let mut line = start.line;
    let mut line_start = 0usize;
    let path = |stack: &[Frame<'_>]| {
        let mut out = String::new();
        for frame in stack {
            match frame {
                Frame::Object { key: Some(k), .. } => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(k);
                }
                Frame::Object { key: None, .. } => {}
                Frame::Array { index } => out.push_str(&format!("[{index}]")),
            }
        }
        out
    };
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b'\n' => {
                line += 1;
                line_start = i + 1;
            }
            b'{' => {
                stack.push(Frame::Object { keys: SeenKeys::default(), key: None, expect_key: true })
            }
            b'[' => stack.push(Frame::Array { index: 0 }),
            b'}' | b']' => {
                stack.pop();
            }
            b',' => match stack.last_mut() {
                Some(Frame::Object { expect_key, .. }) => *expect_key = true,
                Some(Frame::Array { index }) => *index += 1,
                None => {}
            },
            b'"' => {
                // The end of the string, past escapes.
                let mut j = i + 1;
                while j < text.len() && text[j] != b'"' {
                    j += if text[j] == b'\\' { 2 } else { 1 };
                }
                let end = j.min(text.len());
                if let Some(Frame::Object { expect_key: expect @ true, .. }) = stack.last_mut() {
                    *expect = false;
                    let raw = &text[i + 1..end];
                    let name: Cow<'_, str> = if raw.contains(&b'\\') {
                        serde_json::from_slice::<String>(&text[i..(end + 1).min(text.len())])
                            .map_or_else(|_| String::from_utf8_lossy(raw), Cow::Owned)
                    } else {
                        String::from_utf8_lossy(raw)
                    };
                    let mut column = chars(&text[line_start..i]) + 1;
                    if line == start.line {
                        column += start.column - 1;
                    }
                    let at = Position { line, column };
                    let depth = stack.len();
                    if let Some(Frame::Object { keys, .. }) = stack.last_mut()
                        && let Some(first) = keys.insert(name.clone(), at)
                    {
                        let mapping = path(&stack[..depth - 1]);
                        let full = if mapping.is_empty() {
                            name.to_string()
                        } else {
                            format!("{mapping}.{name}")
                        };
                        found.push(DuplicateKey {
                            mapping,
                            path: full,
                            key: name.to_string(),
                            at,
                            first,
                        });
                    }
                    if let Some(Frame::Object { key, .. }) = stack.last_mut() {
                        *key = Some(name);
                    }
                }
                i = end;
            }
            _ => {}
        }
        i += 1;
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each item's trimmed text (or each outer value's text) and (line, column).
    type Pieces = Vec<(String, (u64, u64))>;

    /// The items and the outer values of `text` read in chunks.
    fn split(text: &str, chunk: usize) -> (Pieces, Pieces) {
        struct Slow<'a>(&'a [u8], usize);
        impl Read for Slow<'_> {
            fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
                let n = self.1.min(self.0.len()).min(out.len());
                out[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut items = Vec::new();
        let outers = split_items(Slow(text.as_bytes(), chunk), |b, l| {
            items.push((String::from_utf8(b).unwrap().trim().to_owned(), (l.line, l.column)))
        })
        .unwrap();
        let outers = outers
            .into_iter()
            .map(|o| (String::from_utf8(o.bytes).unwrap(), (o.start.line, o.start.column)))
            .collect();
        (items, outers)
    }

    const CHUNKS: [usize; 6] = [1, 2, 3, 7, 64, 1 << 20];

    #[test]
    fn splits_items_across_any_chunk_size() {
        let text = "{\n \"apiVersion\": \"v1\",\n \"items\": [\n  {\"a\": \"x],}\\\"{\", \"b\": [1, {\"c\": 2}]},\n  {\"items\": []},\n  null\n ],\n \"kind\": \"List\"\n}\n";
        for chunk in CHUNKS {
            let (items, outers) = split(text, chunk);
            assert_eq!(
                items,
                [
                    (r#"{"a": "x],}\"{", "b": [1, {"c": 2}]}"#.to_owned(), (4, 3)),
                    (r#"{"items": []}"#.to_owned(), (5, 3)),
                    ("null".to_owned(), (6, 3))
                ],
                "chunk {chunk}"
            );
            assert_eq!(outers.len(), 1);
            let (outer, start) = &outers[0];
            assert_eq!(*start, (1, 1));
            let v: serde_json::Value = serde_json::from_str(outer).unwrap();
            assert_eq!(
                v,
                serde_json::json!({"apiVersion": "v1", "items": [], "kind": "List"}),
                "chunk {chunk}"
            );
            // The items' line breaks are kept: `kind` is on the file's line 8.
            assert_eq!(outer.lines().position(|l| l.contains("kind")), Some(7), "{outer}");
        }
    }

    /// Columns count characters, not bytes, whatever the chunk boundaries.
    #[test]
    fn columns_count_characters_across_chunks() {
        let text = "{\"é\": \"ü\", \"items\": [{\"é\": 1}, {\"b\": 2}]}";
        for chunk in [1, 2, 3, 5, 1 << 20] {
            let (items, _) = split(text, chunk);
            let starts: Vec<(u64, u64)> = items.iter().map(|(_, p)| *p).collect();
            assert_eq!(starts, [(1, 22), (1, 32)], "chunk {chunk}");
        }
    }

    #[test]
    fn a_byte_order_mark_is_skipped() {
        let (items, outers) = split("\u{feff}{\"items\": [{\"a\": 1}]}", 1 << 20);
        assert_eq!(items, [("{\"a\": 1}".to_owned(), (1, 12))]);
        assert_eq!(outers, [("{\"items\": []}".to_owned(), (1, 1))]);
    }

    #[test]
    fn a_single_value_passes_through() {
        let text =
            r#"{"kind": "Pod", "metadata": {"name": "p", "labels": {"items": "[x]"}}, "spec": {}}"#;
        let (items, outers) = split(&format!("\n  {text}\n"), 5);
        assert!(items.is_empty());
        assert_eq!(outers, [(text.to_owned(), (2, 3))]);
        let (items, _) = split(r#"{"items": []}"#, 3);
        assert!(items.is_empty());
        assert!(split(" \n ", 1).1.is_empty(), "blank input holds no value");
        assert_eq!(split("null", 2).1, [("null".to_owned(), (1, 1))]);
    }

    /// Several values (`jq -c` output, or whole lists one after the other) are read like one
    /// list: every value that is not a list is an item, lists give their items, in order.
    #[test]
    fn concatenated_values_are_items() {
        let text = "{\"a\": 1}\n{\"b\": {\"c\": [2]}}{\"kind\": \"List\", \"items\": [{\"d\": 3}]}\n  \"s\" 42 [5]\n";
        for chunk in CHUNKS {
            let (items, outers) = split(text, chunk);
            assert_eq!(
                items,
                [
                    ("{\"a\": 1}".to_owned(), (1, 1)),
                    ("{\"b\": {\"c\": [2]}}".to_owned(), (2, 1)),
                    ("{\"d\": 3}".to_owned(), (2, 45)),
                    ("\"s\"".to_owned(), (3, 3)),
                    ("42".to_owned(), (3, 7)),
                    ("[5]".to_owned(), (3, 10)),
                ],
                "chunk {chunk}"
            );
            assert_eq!(outers, [("{\"kind\": \"List\", \"items\": []}".to_owned(), (2, 18))]);
        }
        // Stray characters between values are values of their own, never lost.
        let (items, outers) = split("{\"a\": 1}, {\"b\": 2}]", 4);
        let texts: Vec<&str> = items.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(texts, ["{\"a\": 1}", ",", "{\"b\": 2}", "]"]);
        assert!(outers.is_empty());
        // Unterminated input is handed over as it is.
        let (items, outers) = split("{\"a\": 1} {\"b\": [", 3);
        assert_eq!(items.len(), 2);
        assert!(outers.is_empty());
    }

    #[test]
    fn duplicate_keys_with_paths_and_positions() {
        let text = "{\"kind\": \"Pod\", \"spec\": {\"containers\": [{\"name\": \"a\"},\n  {\"name\": \"b\", \"securityContext\": {\"privileged\": false, \"privileged\": true}}]},\n \"kind\": \"Pod\", \"k\\u0069nd\": 1, \"x\": {\"kind\": 2}}";
        let found = duplicate_keys(text.as_bytes(), Position { line: 10, column: 5 });
        let got: Vec<(&str, &str, u64, u64, u64, u64)> = found
            .iter()
            .map(|d| {
                (
                    d.mapping.as_str(),
                    d.path.as_str(),
                    d.at.line,
                    d.at.column,
                    d.first.line,
                    d.first.column,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    "spec.containers[1].securityContext",
                    "spec.containers[1].securityContext.privileged",
                    11,
                    58,
                    11,
                    37
                ),
                ("", "kind", 12, 2, 10, 6),
                ("", "kind", 12, 17, 10, 6),
            ]
        );
        assert!(
            duplicate_keys(
                b"{\"a\": [1, {\"a\": 2}], \"b\": {\"a\": 3}}",
                Position { line: 1, column: 1 }
            )
            .is_empty()
        );
        // Broken text never panics.
        for bad in ["{\"a\": 1, \"a", "}}]]{\"", "{\"a\\", "[{,,,:\"\"}"] {
            let _ = duplicate_keys(bad.as_bytes(), Position { line: 1, column: 1 });
        }
    }
}
