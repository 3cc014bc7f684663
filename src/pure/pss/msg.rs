//! Message helpers that reproduce upstream's text byte for byte: plurals, quoted lists, container
//! phrases, setter lists, and Go's `%q` string quoting.

use std::collections::BTreeSet;
use std::fmt::{self, Write};

/// `singular` when `n == 1`, otherwise `plural`.
pub fn pluralize<'a>(singular: &'a str, plural: &'a str, n: usize) -> &'a str {
    if n == 1 { singular } else { plural }
}

/// Each item wrapped in `"`, joined by `", "` — no escaping, as upstream's `joinQuote`.
pub fn join_quote<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> String {
    let mut out = String::new();
    let _ = write_quoted(&mut out, items);
    out
}

/// `container "a"` or `containers "a", "b"`.
pub fn containers_phrase<S: AsRef<str>>(names: &[S]) -> String {
    containers(names).to_string()
}

/// Distinct values in byte order.
pub fn sorted_distinct<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> Vec<String> {
    items.into_iter().map(|s| s.as_ref().to_owned()).collect::<BTreeSet<_>>().into_iter().collect()
}

/// A setter list: `pod`, then the container phrase, (then any extra subjects), joined by ` and `.
pub fn setters<S: AsRef<str>>(pod: bool, containers: &[S], extra: &[&str]) -> String {
    subjects(pod, containers, extra).to_string()
}

/// An annotation as upstream prints it in messages: `key="value"`, the value quoted with Go's
/// `%q` rules ([`go_quote`]).
pub fn annotation_entry(key: &str, value: &str) -> String {
    let mut out = String::with_capacity(key.len() + value.len() + 3);
    out.push_str(key);
    out.push('=');
    write_go_quoted(&mut out, value);
    out
}

/// Formats a forbidden detail like `format!`, but starts from a buffer large enough for typical
/// details, so the message is written without regrowing it.
macro_rules! detail {
    ($($arg:tt)*) => {
        $crate::pss::msg::format_detail(format_args!($($arg)*))
    };
}
pub(crate) use detail;

/// The function behind [`detail!`].
pub fn format_detail(args: fmt::Arguments<'_>) -> String {
    let mut out = detail_buffer();
    let _ = out.write_fmt(args);
    out
}

/// An empty buffer for a forbidden detail built piece by piece.
pub fn detail_buffer() -> String {
    String::with_capacity(160)
}

// Display forms of the helpers above. They write straight into the message being formatted, so
// building a detail costs one allocation instead of one per phrase; checks use them through
// [`detail!`].

fn write_quoted<W: Write, S: AsRef<str>>(
    w: &mut W,
    items: impl IntoIterator<Item = S>,
) -> fmt::Result {
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            w.write_str(", ")?;
        }
        w.write_char('"')?;
        w.write_str(item.as_ref())?;
        w.write_char('"')?;
    }
    Ok(())
}

/// [`join_quote`] as a `Display` value.
pub struct Quoted<I>(I);

/// [`join_quote`] as a `Display` value; `items` is iterated each time it is displayed.
pub fn quoted<I>(items: I) -> Quoted<I>
where
    I: IntoIterator + Clone,
    I::Item: AsRef<str>,
{
    Quoted(items)
}

impl<I> fmt::Display for Quoted<I>
where
    I: IntoIterator + Clone,
    I::Item: AsRef<str>,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_quoted(f, self.0.clone())
    }
}

/// Items joined by a separator, unquoted, as a `Display` value.
pub struct Joined<I> {
    items: I,
    sep: &'static str,
}

/// `items` joined by `sep` as a `Display` value; `items` is iterated each time it is displayed.
pub fn joined<I>(items: I, sep: &'static str) -> Joined<I>
where
    I: IntoIterator + Clone,
    I::Item: fmt::Display,
{
    Joined { items, sep }
}

impl<I> fmt::Display for Joined<I>
where
    I: IntoIterator + Clone,
    I::Item: fmt::Display,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, item) in self.items.clone().into_iter().enumerate() {
            if i > 0 {
                f.write_str(self.sep)?;
            }
            write!(f, "{item}")?;
        }
        Ok(())
    }
}

/// [`containers_phrase`] as a `Display` value.
pub struct Containers<'a, S>(&'a [S]);

/// [`containers_phrase`] as a `Display` value.
pub fn containers<S: AsRef<str>>(names: &[S]) -> Containers<'_, S> {
    Containers(names)
}

impl<S: AsRef<str>> fmt::Display for Containers<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(pluralize("container", "containers", self.0.len()))?;
        f.write_char(' ')?;
        write_quoted(f, self.0)
    }
}

/// [`setters`] as a `Display` value.
pub struct Subjects<'a, S> {
    pod: bool,
    containers: &'a [S],
    extra: &'a [&'a str],
}

/// [`setters`] as a `Display` value.
pub fn subjects<'a, S: AsRef<str>>(
    pod: bool,
    containers: &'a [S],
    extra: &'a [&'a str],
) -> Subjects<'a, S> {
    Subjects { pod, containers, extra }
}

impl<S: AsRef<str>> fmt::Display for Subjects<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        let mut sep = |f: &mut fmt::Formatter<'_>| {
            if first {
                first = false;
                Ok(())
            } else {
                f.write_str(" and ")
            }
        };
        if self.pod {
            sep(f)?;
            f.write_str("pod")?;
        }
        if !self.containers.is_empty() {
            sep(f)?;
            write!(f, "{}", containers(self.containers))?;
        }
        for e in self.extra {
            sep(f)?;
            f.write_str(e)?;
        }
        Ok(())
    }
}

/// Go's `strconv.Quote`: double-quoted, with Go escapes; printable Unicode is kept, invalid
/// UTF-8 never reaches us (Rust strings), so `\xNN` only appears for control bytes < 0x80
/// that have no short escape.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    write_go_quoted(&mut out, s);
    out
}

/// Appends [`go_quote`]`(s)` to `out`.
fn write_go_quoted(out: &mut String, s: &str) {
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
        assert_eq!(quoted(["a", "b"]).to_string(), r#""a", "b""#);
        assert_eq!(joined([1, 2], ", ").to_string(), "1, 2");
        assert_eq!(
            subjects(true, &["a", "b"], &["x"]).to_string(),
            r#"pod and containers "a", "b" and x"#
        );
        assert_eq!(subjects::<&str>(false, &[], &[]).to_string(), "");
        assert_eq!(annotation_entry("k", "a\"b"), r#"k="a\"b""#);
    }
}
