//! Text that fits a width: the aligned tables of the text reports, whose free-text columns
//! shrink (their cells cut with `…`), and prose lines, which wrap at spaces. The width comes in
//! [`Style::width`](crate::output::Style::width); without one, nothing is shortened.
//!
//! Widths are counted in characters (`é` and `…` are one), and colour codes take no room.

use std::borrow::Cow;
use std::io::{self, Write};

/// A shrinking column keeps at least this many characters (or its header's, or its widest
/// cell's when that is less).
const MIN_SHRUNK: usize = 10;

/// Characters of `s` that show on a terminal: colour codes (`ESC [ … m`) do not count.
fn visible_len(s: &str) -> usize {
    let mut n = 0;
    let mut escape = false;
    for c in s.chars() {
        if escape {
            escape = !c.is_ascii_alphabetic();
        } else if c == '\x1b' {
            escape = true;
        } else {
            n += 1;
        }
    }
    n
}

/// `s` split after `n` visible characters, never inside a colour code.
fn split_visible(s: &str, n: usize) -> (&str, &str) {
    let mut seen = 0;
    let mut escape = false;
    for (i, c) in s.char_indices() {
        if escape {
            escape = !c.is_ascii_alphabetic();
        } else if c == '\x1b' {
            escape = true;
        } else if seen == n {
            return s.split_at(i);
        } else {
            seen += 1;
        }
    }
    (s, "")
}

/// `s` in at most `n` characters: when longer, cut and ended with `…`.
pub(crate) fn cut(s: &str, n: usize) -> Cow<'_, str> {
    if s.chars().count() <= n {
        return Cow::Borrowed(s);
    }
    let head: String = s.chars().take(n.saturating_sub(1)).collect();
    Cow::Owned(format!("{}…", head.trim_end()))
}

/// Writes rows as columns aligned with two spaces, the header first; the last column is not
/// padded (no trailing spaces).
///
/// With a `width`, a table wider than it narrows the columns named in `shrink` (the free-text
/// ones: paths, messages, lists), the widest first, and cuts their cells with `…`; none goes
/// below its header or 10 characters. The other columns (names, levels, counts) keep their
/// width, so a table of only those can stay wider than a narrow terminal.
pub(crate) fn table(
    w: &mut dyn Write,
    width: Option<usize>,
    indent: &str,
    header: &[&str],
    shrink: &[&str],
    rows: &[Vec<String>],
) -> io::Result<()> {
    debug_assert!(shrink.iter().all(|s| header.contains(s)), "{shrink:?} not all in {header:?}");
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    if let Some(width) = width {
        let room = width.saturating_sub(indent.chars().count());
        let floors: Vec<Option<usize>> = header
            .iter()
            .zip(&widths)
            .map(|(h, &w)| shrink.contains(h).then(|| w.min(h.chars().count().max(MIN_SHRUNK))))
            .collect();
        let mut total = widths.iter().sum::<usize>() + 2 * widths.len().saturating_sub(1);
        while total > room {
            let widest = (0..widths.len())
                .filter(|&i| floors[i].is_some_and(|f| widths[i] > f))
                .max_by_key(|&i| widths[i]);
            let Some(i) = widest else { break };
            widths[i] -= 1;
            total -= 1;
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::from(indent);
        let last = cells.len().saturating_sub(1);
        for (i, c) in cells.iter().enumerate() {
            let c = cut(c, widths[i]);
            s.push_str(&c);
            if i < last {
                s.push_str(&" ".repeat(widths[i] - c.chars().count() + 2));
            }
        }
        s.trim_end().to_owned()
    };
    writeln!(w, "{}", line(header.to_vec()))?;
    for r in rows {
        writeln!(w, "{}", line(r.iter().map(String::as_str).collect()))?;
    }
    Ok(())
}

/// A line of prose fitted to `width`: broken at spaces, each continuation indented two spaces
/// more than the line; a word longer than a line is split where it falls. Nothing is lost. Without a width,
/// or when the line fits, it is unchanged.
pub(crate) fn wrap(text: &str, width: Option<usize>) -> Cow<'_, str> {
    let Some(width) = width.filter(|&w| visible_len(text) > w) else {
        return Cow::Borrowed(text);
    };
    let indent = text.len() - text.trim_start_matches(' ').len();
    let hang = " ".repeat((indent + 2).min(width / 2));
    let mut out = String::from(&text[..indent]);
    let mut used = indent;
    let mut fresh = true;
    for mut word in text[indent..].split(' ') {
        let len = visible_len(word);
        // A word too long for any line starts where it is, not on a line of its own.
        let stays = used + 1 + len <= width || (hang.len() + len > width && used + 2 <= width);
        if !fresh && stays {
            out.push(' ');
            used += 1;
        } else if !fresh {
            out.push('\n');
            out.push_str(&hang);
            used = hang.len();
        }
        while used < width && used + visible_len(word) > width {
            let (head, rest) = split_visible(word, width - used);
            out.push_str(head);
            out.push('\n');
            out.push_str(&hang);
            used = hang.len();
            word = rest;
        }
        out.push_str(word);
        used += visible_len(word);
        fresh = false;
    }
    Cow::Owned(out)
}

/// Writes one line of prose, wrapped to `width` (see [`wrap`]).
pub(crate) fn line(w: &mut dyn Write, width: Option<usize>, text: &str) -> io::Result<()> {
    writeln!(w, "{}", wrap(text, width))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table_text(width: Option<usize>, shrink: &[&str], rows: &[[&str; 3]]) -> String {
        let rows: Vec<Vec<String>> =
            rows.iter().map(|r| r.iter().map(|c| (*c).to_owned()).collect()).collect();
        let mut out = Vec::new();
        table(&mut out, width, "  ", &["NAME", "LEVEL", "VIA"], shrink, &rows).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn lengths(text: &str) -> Vec<usize> {
        text.lines().map(|l| l.chars().count()).collect()
    }

    const LONG: &str = "RoleBinding monitoring/psp:monitoring-hostaccess → Role \
                        monitoring/psp:monitoring-hostaccess rule 0 (ServiceAccount \
                        monitoring/node-exporter)";

    #[test]
    fn a_table_that_fits_is_unchanged() {
        let rows = [["web", "baseline", "RoleBinding web/x"]];
        let wide = table_text(None, &["VIA"], &rows);
        assert_eq!(table_text(Some(80), &["VIA"], &rows), wide);
        assert_eq!(wide, "  NAME  LEVEL     VIA\n  web   baseline  RoleBinding web/x\n");
    }

    /// On 80 columns every line is at most 80 characters, multi-byte ones counted as one; the
    /// header is kept whole and the short columns keep their width.
    #[test]
    fn the_free_column_shrinks_to_exactly_the_width() {
        let rows = [["monitoring-hostaccess", "privileged", LONG], ["é", "baseline", "short"]];
        let text = table_text(Some(80), &["VIA"], &rows);
        assert_eq!(lengths(&text), [40, 80, 42], "{text}");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "  NAME                   LEVEL       VIA");
        assert!(lines[1].starts_with("  monitoring-hostaccess  privileged  RoleBinding"));
        assert!(lines[1].ends_with('…'), "{}", lines[1]);
        assert_eq!(lines[2], "  é                      baseline    short");
        assert!(table_text(None, &["VIA"], &rows).contains(LONG), "no width: nothing cut");
    }

    /// A shrinking column that is not the last is padded to its new width; the widest
    /// shrinks first.
    #[test]
    fn the_widest_free_column_shrinks_first() {
        let rows = [[LONG, "privileged", "a short list of things"]];
        let text = table_text(Some(60), &["NAME", "VIA"], &rows);
        assert_eq!(lengths(&text)[1], 60, "{text}");
        let row = text.lines().nth(1).unwrap();
        assert!(row.contains("…  privileged  a short list of things"), "{row}");
    }

    /// Nothing to shrink, or only down to the floors: the table stays wider than the width.
    #[test]
    fn a_table_of_short_columns_stays_whole() {
        let rows = [["monitoring-hostaccess", "privileged", LONG]];
        assert_eq!(table_text(Some(40), &[], &rows), table_text(None, &[], &rows));
        let text = table_text(Some(20), &["VIA"], &rows);
        let row = text.lines().nth(1).unwrap();
        assert_eq!(row, "  monitoring-hostaccess  privileged  RoleBindi…");
    }

    #[test]
    fn cut_counts_characters() {
        assert_eq!(cut("abc", 3), "abc");
        assert_eq!(cut("ééééé", 4), "ééé…");
        assert_eq!(cut("ab cd", 4), "ab…", "no space before the ellipsis");
    }

    #[test]
    fn wrap_breaks_at_spaces_with_a_hanging_indent() {
        let text = "  Pod web/a: would violate PodSecurity \"restricted:latest\": \
                    allowPrivilegeEscalation != false";
        assert_eq!(wrap(text, None), text);
        assert_eq!(wrap(text, Some(200)), text);
        let wrapped = wrap(text, Some(40));
        assert_eq!(
            wrapped,
            "  Pod web/a: would violate PodSecurity\n    \"restricted:latest\":\n    \
             allowPrivilegeEscalation != false"
        );
        assert_eq!(wrapped.replace("\n   ", ""), text, "nothing lost");
    }

    #[test]
    fn wrap_splits_a_word_longer_than_a_line_and_ignores_colour() {
        let wrapped =
            wrap("x metadata.annotations[seccomp.security.alpha.kubernetes.io]", Some(20));
        assert!(wrapped.lines().all(|l| l.chars().count() <= 20), "{wrapped}");
        assert_eq!(wrapped.lines().count(), 4, "{wrapped}");
        let red = "\x1b[31mPod web/a\x1b[0m: passes privileged";
        assert_eq!(wrap(red, Some(30)), red, "colour codes take no room");
        assert_eq!(visible_len("é…\x1b[1mb\x1b[0m"), 3);
        assert_eq!(split_visible("\x1b[31mabc\x1b[0m", 2), ("\x1b[31mab", "c\x1b[0m"));
    }
}
