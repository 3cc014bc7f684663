//! Message helpers that reproduce upstream's text byte for byte: plurals, quoted lists, container
//! phrases, setter lists, and Go's `%q` string quoting.

use std::collections::BTreeSet;
use std::fmt::Write;

/// `singular` when `n == 1`, otherwise `plural`.
pub fn pluralize<'a>(singular: &'a str, plural: &'a str, n: usize) -> &'a str {
    if n == 1 { singular } else { plural }
}

/// Each item wrapped in `"`, joined by `", "` — no escaping, as upstream's `joinQuote`.
pub fn join_quote<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> String {
    let mut out = String::new();
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push('"');
        out.push_str(item.as_ref());
        out.push('"');
    }
    out
}

/// `container "a"` or `containers "a", "b"`.
pub fn containers_phrase<S: AsRef<str>>(names: &[S]) -> String {
    format!(
        "{} {}",
        pluralize("container", "containers", names.len()),
        join_quote(names.iter().map(AsRef::as_ref))
    )
}

/// Distinct values in byte order.
pub fn sorted_distinct<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> Vec<String> {
    items.into_iter().map(|s| s.as_ref().to_owned()).collect::<BTreeSet<_>>().into_iter().collect()
}

/// A setter list: `pod`, then the container phrase, (then any extra subjects), joined by ` and `.
pub fn setters<S: AsRef<str>>(pod: bool, containers: &[S], extra: &[&str]) -> String {
    let mut parts: Vec<String> = Vec::new();
    if pod {
        parts.push("pod".to_owned());
    }
    if !containers.is_empty() {
        parts.push(containers_phrase(containers));
    }
    parts.extend(extra.iter().map(|s| (*s).to_owned()));
    parts.join(" and ")
}

/// Go's `strconv.Quote`: double-quoted, with Go escapes; printable Unicode is kept, invalid
/// UTF-8 never reaches us (Rust strings), so `\xNN` only appears for control bytes < 0x80
/// that have no short escape.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{07}' => out.push_str("\\a"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0C}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{0B}' => out.push_str("\\v"),
            c if go_is_print(c) => out.push(c),
            c if (c as u32) < 0x80 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if (c as u32) < 0x10000 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
        }
    }
    out.push('"');
    out
}

/// An approximation of Go's `strconv.IsPrint`: letters, marks, numbers, punctuation, symbols and
/// the ASCII space. Control, format, separator (other than U+0020), private-use and unassigned
/// code points are escaped.
fn go_is_print(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    let cp = c as u32;
    // Format characters (Cf) that Go escapes, private use areas, and noncharacters.
    let format = matches!(cp,
        0xAD | 0x600..=0x605 | 0x61C | 0x6DD | 0x70F | 0x890..=0x891 | 0x8E2 | 0x180E
        | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064 | 0x2066..=0x206F | 0xFEFF
        | 0xFFF9..=0xFFFB | 0x110BD | 0x110CD | 0x13430..=0x1343F | 0x1BCA0..=0x1BCA3
        | 0x1D173..=0x1D17A | 0xE0001 | 0xE0020..=0xE007F);
    let private = matches!(cp, 0xE000..=0xF8FF | 0xF0000..=0xFFFFD | 0x100000..=0x10FFFD);
    let nonchar = (cp & 0xFFFE) == 0xFFFE || (0xFDD0..=0xFDEF).contains(&cp);
    !(format || private || nonchar)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_quote_matches_strconv_quote() {
        assert_eq!(go_quote("unconfined"), r#""unconfined""#);
        assert_eq!(go_quote(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(go_quote("tab\there\nnl"), r#""tab\there\nnl""#);
        assert_eq!(go_quote("\u{1}"), r#""\x01""#);
        assert_eq!(go_quote("\u{7f}"), r#""\x7f""#);
        assert_eq!(go_quote("héllo ☃"), "\"héllo ☃\"");
        assert_eq!(go_quote("\u{200b}"), r#""\u200b""#);
        assert_eq!(go_quote("\u{85}"), r#""\u0085""#);
        assert_eq!(go_quote(""), r#""""#);
    }

    #[test]
    fn phrases() {
        assert_eq!(containers_phrase(&["a"]), r#"container "a""#);
        assert_eq!(containers_phrase(&["a", "b"]), r#"containers "a", "b""#);
        assert_eq!(setters(true, &["a"], &[]), r#"pod and container "a""#);
        assert_eq!(setters::<&str>(false, &[], &["annotation"]), "annotation");
        assert_eq!(sorted_distinct(["b", "a", "b"]), ["a", "b"]);
        assert_eq!(join_quote(Vec::<String>::new()), "");
    }
}
