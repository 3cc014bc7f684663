//! Diff text: one unified diff (similar) per namespace of its Pod Security labels as `key: value`
//! lines, and one line per object a step creates or deletes. Pure.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use similar::TextDiff;

use crate::output::Style;

/// `key: value` lines, sorted by key, each ending in a newline.
pub fn label_lines(labels: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    for (k, v) in labels {
        let _ = writeln!(out, "{k}: {v}");
    }
    out
}

/// The unified diff of a namespace's labels, headed `--- namespace/<ns> (<old>)` /
/// `+++ namespace/<ns> (<new>)`; `None` when nothing changes.
pub fn namespace_diff(
    namespace: &str,
    old_name: &str,
    new_name: &str,
    old: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
    style: Style,
) -> Option<String> {
    if old == new {
        return None;
    }
    let (old_text, new_text) = (label_lines(old), label_lines(new));
    let diff = TextDiff::from_lines(&old_text, &new_text);
    let text = diff
        .unified_diff()
        .context_radius(64)
        .header(
            &format!("namespace/{namespace} ({old_name})"),
            &format!("namespace/{namespace} ({new_name})"),
        )
        .to_string();
    Some(colorize(&text, style))
}

/// Colours a unified diff: headers bold, removed lines red, added lines green, hunk headers cyan.
/// Returns the text unchanged without colour.
pub fn colorize(text: &str, style: Style) -> String {
    if !style.color {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + 64);
    for line in text.split_inclusive('\n') {
        let (body, nl) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        let painted = if body.starts_with("---") || body.starts_with("+++") {
            style.bold(body)
        } else if body.starts_with('-') {
            style.red(body)
        } else if body.starts_with('+') {
            style.green(body)
        } else if body.starts_with("@@") {
            style.paint("36", body)
        } else {
            body.to_owned()
        };
        out.push_str(&painted);
        out.push_str(nl);
    }
    out
}

/// One line for an object a step creates (`+`) or deletes (`-`).
pub fn object_line(create: bool, what: &str, step: u32, style: Style) -> String {
    if create {
        style.green(&format!("+ {what} (create, plan step {step})"))
    } else {
        style.red(&format!("- {what} (delete, plan step {step})"))
    }
}

/// The closing line: `no changes`, `1 namespace would change`, `3 namespaces would change`.
pub fn summary(namespaces: usize) -> String {
    match namespaces {
        0 => "no changes".to_owned(),
        1 => "1 namespace would change".to_owned(),
        n => format!("{n} namespaces would change"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn unified_label_diff() {
        let old = m(&[("pod-security.kubernetes.io/warn", "baseline")]);
        let new = m(&[
            ("pod-security.kubernetes.io/audit", "restricted"),
            ("pod-security.kubernetes.io/warn", "restricted"),
        ]);
        let d = namespace_diff("web", "live", "plan step 1", &old, &new, Style::default()).unwrap();
        assert_eq!(
            d,
            "--- namespace/web (live)\n+++ namespace/web (plan step 1)\n@@ -1 +1,2 @@\n\
             -pod-security.kubernetes.io/warn: baseline\n\
             +pod-security.kubernetes.io/audit: restricted\n\
             +pod-security.kubernetes.io/warn: restricted\n"
        );
        assert!(namespace_diff("web", "a", "b", &old, &old, Style::default()).is_none());
        let empty =
            namespace_diff("web", "a", "b", &BTreeMap::new(), &old, Style::default()).unwrap();
        assert!(
            empty.contains("@@ -0,0 +1 @@\n+pod-security.kubernetes.io/warn: baseline\n"),
            "{empty}"
        );
    }

    #[test]
    fn colour_only_when_asked() {
        let old = m(&[("k", "a")]);
        let new = m(&[("k", "b")]);
        let plain =
            namespace_diff("n", "live", "plan", &old, &new, Style { color: false, width: None })
                .unwrap();
        assert!(!plain.contains('\x1b'));
        let coloured =
            namespace_diff("n", "live", "plan", &old, &new, Style { color: true, width: None })
                .unwrap();
        assert!(coloured.contains("\x1b[31m-k: a\x1b[0m\n"), "{coloured:?}");
        assert!(coloured.contains("\x1b[32m+k: b\x1b[0m\n"), "{coloured:?}");
        assert!(coloured.contains("\x1b[1m--- namespace/n (live)\x1b[0m\n"), "{coloured:?}");
    }

    #[test]
    fn summaries() {
        assert_eq!(summary(0), "no changes");
        assert_eq!(summary(1), "1 namespace would change");
        assert_eq!(summary(4), "4 namespaces would change");
        assert_eq!(
            object_line(true, "ClusterRole x", 3, Style::default()),
            "+ ClusterRole x (create, plan step 3)"
        );
    }
}
