//! A streaming splitter for large JSON lists (`kubectl get … -o json`): it reads the text once,
//! hands every element of the top-level `items` array to a callback as raw bytes, and keeps the
//! rest of the document (with `"items": []`) for ordinary parsing.
//!
//! Why not `serde_json::from_reader`: it reads byte by byte through `io::Read` and is several
//! times slower than parsing slices, and reading a 500 MB export into memory whole would double
//! the tool's footprint. The splitter only tracks strings, escapes and nesting depth; any JSON
//! error is left for serde_json to report on the piece that contains it.

use std::io::{self, Read};

use crate::decode::Position;

/// Splits a JSON document read from `r`. `on_item(bytes, start)` is called for each element of
/// the top-level `items` array, in order, with the line and column where it starts. Returns the
/// document without the items' contents.
pub fn split_items<R: Read>(
    mut r: R,
    mut on_item: impl FnMut(Vec<u8>, Position),
) -> io::Result<Vec<u8>> {
    let mut outer = Vec::new();
    let mut item: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 1 << 20];
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escape = false;
    // Lines before the current chunk, for the line an item starts on, and the characters of
    // the current line before the chunk, for its column.
    let mut line = 1u64;
    let mut carried_columns = 0u64;
    // The last string seen at depth 1 (a key candidate), and whether `:` followed "items".
    let mut key = Vec::new();
    let mut collecting_key = false;
    let mut after_items_key = false;
    // Inside the items array (depth 2 and deeper belongs to elements).
    let mut in_items = false;
    let mut item_start = Position { line: 0, column: 0 };
    let mut first = true;
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
        // Start of the current run of bytes that goes to `outer` or to `item`.
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
                        }
                        i += 1;
                    }
                }
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
            let b = buf[i];
            match b {
                b' ' | b'\t' | b'\r' | b'\n' => {}
                b'"' => {
                    in_string = true;
                    if depth == 1 && !in_items {
                        key.clear();
                        collecting_key = true;
                    }
                }
                b':' if depth == 1 && !in_items => after_items_key = key == b"items",
                b'[' if depth == 1 && after_items_key => {
                    // Enter the items array: `outer` keeps the bracket, not the contents.
                    outer.extend_from_slice(&buf[run..=i]);
                    run = i + 1;
                    depth = 2;
                    in_items = true;
                    after_items_key = false;
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
                    depth = depth.saturating_sub(1);
                    if in_items && depth == 1 {
                        // End of the items array: flush a scalar element, if any.
                        item.extend_from_slice(&buf[run..i]);
                        flush(&mut item, item_start, &mut on_item);
                        in_items = false;
                        run = i;
                    } else if in_items && depth == 2 {
                        item.extend_from_slice(&buf[run..=i]);
                        flush(&mut item, item_start, &mut on_item);
                        run = i + 1;
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
        } else {
            outer.extend_from_slice(&buf[run..]);
        }
    }
    if !item.is_empty() {
        // Unterminated: hand over what there is, serde_json will say what is wrong.
        flush(&mut item, item_start, &mut on_item);
    }
    Ok(outer)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Each item's trimmed text and (line, column).
    type Items = Vec<(String, (u64, u64))>;

    fn split(text: &str, chunk: usize) -> (Items, String) {
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
        let outer = split_items(Slow(text.as_bytes(), chunk), |b, l| {
            items.push((String::from_utf8(b).unwrap().trim().to_owned(), (l.line, l.column)))
        })
        .unwrap();
        (items, String::from_utf8(outer).unwrap())
    }

    #[test]
    fn splits_items_across_any_chunk_size() {
        let text = "{\n \"apiVersion\": \"v1\",\n \"items\": [\n  {\"a\": \"x],}\\\"{\", \"b\": [1, {\"c\": 2}]},\n  {\"items\": []},\n  null\n ],\n \"kind\": \"List\"\n}\n";
        for chunk in [1, 2, 3, 7, 64, 1 << 20] {
            let (items, outer) = split(text, chunk);
            assert_eq!(
                items,
                [
                    (r#"{"a": "x],}\"{", "b": [1, {"c": 2}]}"#.to_owned(), (4, 3)),
                    (r#"{"items": []}"#.to_owned(), (5, 3)),
                    ("null".to_owned(), (6, 3))
                ],
                "chunk {chunk}"
            );
            let v: serde_json::Value = serde_json::from_str(&outer).unwrap();
            assert_eq!(
                v,
                serde_json::json!({"apiVersion": "v1", "items": [], "kind": "List"}),
                "chunk {chunk}"
            );
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
        let (items, outer) = split("\u{feff}{\"items\": [{\"a\": 1}]}", 1 << 20);
        assert_eq!(items, [("{\"a\": 1}".to_owned(), (1, 12))]);
        assert_eq!(outer, "{\"items\": []}");
    }

    #[test]
    fn documents_without_items_pass_through() {
        let text =
            r#"{"kind": "Pod", "metadata": {"name": "p", "labels": {"items": "[x]"}}, "spec": {}}"#;
        let (items, outer) = split(text, 5);
        assert!(items.is_empty());
        assert_eq!(outer, text);
        let (items, _) = split(r#"{"items": []}"#, 3);
        assert!(items.is_empty());
    }
}
