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

/// Go's `strconv.IsPrint` (the same set as `unicode.IsPrint`): the General Categories L
/// (letters), M (marks), N (numbers), P (punctuation) and S (symbols), plus U+0020. Everything
/// else is escaped by `%q`: controls (Cc), format characters (Cf), separators other than
/// U+0020 (Zs, Zl, Zp), private use (Co) and unassigned code points (Cn, which includes the
/// noncharacters).
///
/// The categories come from Unicode 15.0.0, the version of Go's tables since Go 1.21 (and so of
/// every Go release that builds a supported Kubernetes): a code point assigned in a later
/// Unicode version is still unassigned to Go, and escaped.
fn go_is_print(c: char) -> bool {
    use unicode_general_category::{GeneralCategory as Gc, get_general_category};
    if c.is_ascii() {
        return matches!(c, ' '..='~');
    }
    !matches!(
        get_general_category(c),
        Gc::Control
            | Gc::Format
            | Gc::Surrogate
            | Gc::PrivateUse
            | Gc::Unassigned
            | Gc::SpaceSeparator
            | Gc::LineSeparator
            | Gc::ParagraphSeparator
    )
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

    /// What `%q` does with one code point: keeps it, or prints this escape.
    enum Q {
        Kept,
        Esc(&'static str),
    }
    use Q::{Esc, Kept};

    /// Each code point quoted alone must come out as Go's `strconv.Quote` prints it.
    fn assert_quotes(cases: &[(u32, Q)]) {
        for (cp, want) in cases {
            let c = char::from_u32(*cp).expect("a scalar value");
            let want = match want {
                Kept => format!("\"{c}\""),
                Esc(e) => format!("\"{e}\""),
            };
            assert_eq!(go_quote(&c.to_string()), want, "U+{cp:04X}");
        }
    }

    /// Go's tables are Unicode 15.0.0 (`unicode.Version` from Go 1.21 onwards).
    #[test]
    fn unicode_version_is_gos() {
        assert_eq!(unicode_general_category::UNICODE_VERSION, (15, 0, 0));
    }

    #[test]
    fn latin1_edges() {
        assert_quotes(&[
            (0x7e, Kept),
            (0x7f, Esc(r"\x7f")),
            (0x80, Esc(r"\u0080")),
            (0x9f, Esc(r"\u009f")),
            (0xa0, Esc(r"\u00a0")), // NO-BREAK SPACE (Zs)
            (0xa1, Kept),
            (0xad, Esc(r"\u00ad")), // SOFT HYPHEN (Cf)
            (0xff, Kept),
        ]);
    }

    /// The last assigned code point of a block and the unassigned one after it.
    #[test]
    fn bmp_block_edges() {
        assert_quotes(&[
            (0x0377, Kept), // Greek and Coptic
            (0x0378, Esc(r"\u0378")),
            (0x052f, Kept),           // end of Cyrillic Supplement
            (0x0530, Esc(r"\u0530")), // first code point of Armenian, unassigned
            (0x0531, Kept),
            (0xd7a3, Kept), // end of Hangul Syllables
            (0xd7a4, Esc(r"\ud7a4")),
            (0xd7fb, Kept), // end of Hangul Jamo Extended-B
            (0xd7fc, Esc(r"\ud7fc")),
            (0xffdc, Kept), // Halfwidth and Fullwidth Forms
            (0xffdd, Esc(r"\uffdd")),
            (0xffee, Kept),
            (0xffef, Esc(r"\uffef")),
            (0xfff9, Esc(r"\ufff9")), // INTERLINEAR ANNOTATION ANCHOR (Cf)
            (0xfffc, Kept),
            (0xfffd, Kept), // REPLACEMENT CHARACTER (So)
        ]);
    }

    /// Characters Unicode 15.0 added are kept; ones 15.1 or 16.0 added are unassigned to Go.
    #[test]
    fn unicode_15_0_and_not_later() {
        assert_quotes(&[
            (0x1f6dc, Kept),               // WIRELESS (15.0)
            (0x11f59, Kept),               // KAWI DIGIT NINE (15.0)
            (0x11f5a, Esc(r"\U00011f5a")), // KAWI SIGN NUKTA (16.0)
            (0x1fa89, Esc(r"\U0001fa89")), // HARP (16.0)
            (0x2ffb, Kept),
            (0x2ffc, Esc(r"\u2ffc")), // an ideographic description character of 15.1
            (0x31e3, Kept),           // end of CJK Strokes in 15.0
            (0x31e4, Esc(r"\u31e4")), // 16.0
            (0x31ef, Esc(r"\u31ef")), // 15.1
        ]);
    }

    #[test]
    fn supplementary_planes() {
        assert_quotes(&[
            (0x10000, Kept), // plane 1 starts assigned (Linear B)
            (0x1000c, Esc(r"\U0001000c")),
            (0x20000, Kept), // plane 2: CJK Extension B
            (0x2a6df, Kept),
            (0x2a6e0, Esc(r"\U0002a6e0")),
            (0x2ebe0, Kept),               // end of CJK Extension F
            (0x2ebf0, Esc(r"\U0002ebf0")), // CJK Extension I is 15.1
            (0x2fa1d, Kept),               // end of CJK Compatibility Ideographs Supplement
            (0x2fa1e, Esc(r"\U0002fa1e")),
            (0x30000, Kept), // plane 3: CJK Extension G
            (0x3134a, Kept),
            (0x3134b, Esc(r"\U0003134b")),
            (0x31350, Kept), // CJK Extension H (15.0)
            (0x323af, Kept),
            (0x323b0, Esc(r"\U000323b0")),
            (0x40000, Esc(r"\U00040000")), // planes 4 to 13 are unassigned
            (0xe0100, Kept),               // VARIATION SELECTOR-17 (Mn)
            (0xe01ef, Kept),
            (0xe01f0, Esc(r"\U000e01f0")),
        ]);
    }

    #[test]
    fn noncharacters() {
        assert_quotes(&[
            (0xfdcf, Kept),
            (0xfdd0, Esc(r"\ufdd0")),
            (0xfdef, Esc(r"\ufdef")),
            (0xfdf0, Kept),
            (0xfffe, Esc(r"\ufffe")),
            (0xffff, Esc(r"\uffff")),
            (0x1fffe, Esc(r"\U0001fffe")),
            (0x1ffff, Esc(r"\U0001ffff")),
            (0x10fffe, Esc(r"\U0010fffe")),
            (0x10ffff, Esc(r"\U0010ffff")),
        ]);
    }

    #[test]
    fn private_use() {
        assert_quotes(&[
            (0xe000, Esc(r"\ue000")),
            (0xf8ff, Esc(r"\uf8ff")),
            (0xf900, Kept), // CJK Compatibility Ideographs
            (0xf0000, Esc(r"\U000f0000")),
            (0xffffd, Esc(r"\U000ffffd")),
            (0x100000, Esc(r"\U00100000")),
            (0x10fffd, Esc(r"\U0010fffd")),
        ]);
    }

    /// Format characters (Cf) and separators other than U+0020 are escaped.
    #[test]
    fn format_and_separators() {
        assert_quotes(&[
            (0x061c, Esc(r"\u061c")), // ARABIC LETTER MARK
            (0x180e, Esc(r"\u180e")), // MONGOLIAN VOWEL SEPARATOR (Cf since 6.3)
            (0x1680, Esc(r"\u1680")), // OGHAM SPACE MARK (Zs)
            (0x200b, Esc(r"\u200b")), // ZERO WIDTH SPACE
            (0x200d, Esc(r"\u200d")), // ZERO WIDTH JOINER
            (0x200e, Esc(r"\u200e")),
            (0x2028, Esc(r"\u2028")), // LINE SEPARATOR (Zl)
            (0x2029, Esc(r"\u2029")), // PARAGRAPH SEPARATOR (Zp)
            (0x202f, Esc(r"\u202f")), // NARROW NO-BREAK SPACE (Zs)
            (0x2064, Esc(r"\u2064")),
            (0x2065, Esc(r"\u2065")), // unassigned between the invisible operators
            (0x3000, Esc(r"\u3000")), // IDEOGRAPHIC SPACE (Zs)
            (0xfeff, Esc(r"\ufeff")), // ZERO WIDTH NO-BREAK SPACE (BOM)
            (0x110bd, Esc(r"\U000110bd")), // KAITHI NUMBER SIGN
            (0x13430, Esc(r"\U00013430")), // Egyptian hieroglyph format controls
            (0x1343f, Esc(r"\U0001343f")), // (extended to 1343F in 15.0)
            (0x13440, Kept),
            (0x1d173, Esc(r"\U0001d173")), // MUSICAL SYMBOL BEGIN BEAM
            (0xe0001, Esc(r"\U000e0001")), // LANGUAGE TAG
            (0xe0002, Esc(r"\U000e0002")),
            (0xe0020, Esc(r"\U000e0020")), // TAG SPACE
        ]);
    }

    /// Marks (Mn, Mc, Me) are printable, alone or after their base.
    #[test]
    fn combining_marks() {
        assert_quotes(&[
            (0x0300, Kept), // COMBINING GRAVE ACCENT (Mn)
            (0x036f, Kept),
            (0x0903, Kept), // DEVANAGARI SIGN VISARGA (Mc)
            (0x20dd, Kept), // COMBINING ENCLOSING CIRCLE (Me)
            (0x1ace, Kept), // end of Combining Diacritical Marks Extended in 15.0
            (0x1acf, Esc(r"\u1acf")),
            (0xfe0f, Kept), // VARIATION SELECTOR-16 (Mn)
        ]);
        assert_eq!(go_quote("e\u{301}"), "\"e\u{301}\"");
        assert_eq!(go_quote("a\u{200b}b\u{1fa89}\u{1f6dc}"), "\"a\\u200bb\\U0001fa89\u{1f6dc}\"");
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
