//! The layers are enforced, not only drawn: the pure core (`src/pure/`) never imports an async
//! runtime, the Kubernetes client, progress bars, the terminal (`console`), the file system,
//! the environment, standard input or output, the clock or the network, nor any module of the
//! layers above it; rendering (`src/render/`) may use the core only; the edges (`src/edge/`)
//! never use the app layer, draw progress bars or probe the terminal.
//! Test code (`#[cfg(test)]` items) is exempt: tests read fixtures.

use std::path::{Path, PathBuf};

/// A layer: its folder and what its code must not mention.
struct Layer {
    dir: &'static str,
    forbidden: &'static [&'static str],
}

/// Effects nothing below the edges may use.
const EFFECTS: &[&str] = &[
    "tokio",
    "kube::",
    "use kube",
    "indicatif",
    "console",
    "std::fs",
    "fs::",
    "std::env",
    "env::var",
    "std::io::stdin",
    "stdin()",
    "stdout()",
    "stderr()",
    "SystemTime",
    "Instant::now",
    "std::net",
    "std::process",
    "println!",
    "eprintln!",
];

const LAYERS: &[Layer] = &[
    Layer {
        dir: "src/pure",
        forbidden: &[
            "crate::edge",
            "crate::render",
            "crate::app",
            "crate::source",
            "crate::apply",
            "crate::kube_api",
            "crate::output",
            "crate::export",
        ],
    },
    Layer {
        dir: "src/render",
        forbidden: &["crate::edge", "crate::app", "crate::source", "crate::apply"],
    },
    // Progress bars and terminal probing (the width too) live in the app layer only.
    Layer { dir: "src/edge", forbidden: &["crate::app", "indicatif", "is_terminal", "console"] },
];

/// The code of a file without comments and without `#[cfg(test)]` items.
fn production_code(text: &str) -> String {
    let mut out = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let code = line.split("//").next().unwrap_or_default();
        if code.trim() == "#[cfg(test)]" {
            // Skip the item: one line ending in `;`, or everything up to its closing brace.
            let mut depth = 0i32;
            let mut opened = false;
            for item in lines.by_ref() {
                let item = item.split("//").next().unwrap_or_default();
                depth += item.matches('{').count() as i32 - item.matches('}').count() as i32;
                opened |= item.contains('{');
                if (!opened && item.trim_end().ends_with(';')) || (opened && depth <= 0) {
                    break;
                }
            }
            continue;
        }
        out.push_str(code);
        out.push('\n');
    }
    out
}

/// Every forbidden mention in one file of a layer, as `path:line: token`.
fn violations(path: &str, text: &str, layer: &Layer) -> Vec<String> {
    let code = production_code(text);
    let tokens = if layer.dir == "src/edge" { &[][..] } else { EFFECTS };
    let mut found = Vec::new();
    for line in code.lines() {
        for token in tokens.iter().chain(layer.forbidden) {
            if mentions(line, token) {
                found.push(format!("{path}: `{}` uses `{token}`", line.trim()));
            }
        }
    }
    found
}

/// Whether `line` mentions `token` as a whole path: `crate::app` is not `crate::apply`.
fn mentions(line: &str, token: &str) -> bool {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    line.match_indices(token).any(|(at, _)| {
        let before = line[..at].chars().next_back();
        let after = line[at + token.len()..].chars().next();
        let starts_clean = !token.starts_with(ident) || !before.is_some_and(ident);
        let ends_clean = !token.ends_with(ident) || !after.is_some_and(ident);
        starts_clean && ends_clean
    })
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Files of a layer: its folder and the module file beside it (`src/pure.rs`).
fn layer_files(root: &Path, layer: &Layer) -> Vec<PathBuf> {
    let mut files = vec![root.join(format!("{}.rs", layer.dir))];
    rust_files(&root.join(layer.dir), &mut files);
    files.sort();
    files
}

#[test]
fn layers_import_only_downwards() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut all = Vec::new();
    for layer in LAYERS {
        let files = layer_files(&root, layer);
        assert!(files.len() > 1, "{} is empty", layer.dir);
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            let shown = file.strip_prefix(&root).unwrap().display().to_string();
            all.extend(violations(&shown, &text, layer));
        }
    }
    assert!(all.is_empty(), "layer violations:\n{}", all.join("\n"));
}

/// The check itself fails on a planted forbidden import, and ignores test code and comments.
#[test]
fn a_planted_forbidden_import_is_caught() {
    let pure = &LAYERS[0];
    let planted = "use std::collections::BTreeMap;\nuse std::fs;\npub fn f() {}\n";
    assert_eq!(violations("src/pure/x.rs", planted, pure).len(), 1, "{planted}");
    let fs_call = "pub fn f() { let _ = std::fs::read(\"x\"); }\n";
    assert_eq!(violations("src/pure/x.rs", fs_call, pure).len(), 2, "std::fs and fs::");
    let clock =
        "pub fn now() -> u64 { std::time::SystemTime::now().elapsed().unwrap().as_secs() }\n";
    assert_eq!(violations("src/pure/x.rs", clock, pure).len(), 1);
    let upward = "use crate::source::offline::read_paths;\n";
    assert_eq!(violations("src/pure/x.rs", upward, pure).len(), 1);
    let render = &LAYERS[1];
    assert_eq!(violations("src/render/x.rs", "use crate::edge::apply;\n", render).len(), 1);
    assert!(violations("src/render/x.rs", "use crate::pure::plan::Plan;\n", render).is_empty());
    let edge = &LAYERS[2];
    assert_eq!(violations("src/edge/x.rs", "use crate::app::Settings;\n", edge).len(), 1);
    assert!(violations("src/edge/x.rs", "use crate::apply::journal;\n", edge).is_empty());
    assert!(violations("src/edge/x.rs", "use std::fs;\n", edge).is_empty(), "edges may do I/O");
    assert_eq!(violations("src/edge/x.rs", "use indicatif::ProgressBar;\n", edge).len(), 1);
    let size = "use console::Term;\n";
    assert_eq!(violations("src/render/x.rs", size, render).len(), 1, "renderers get a width");
    let exempt = "// std::fs in a comment\npub fn f() {}\n#[cfg(test)]\nmod tests {\n    use std::fs;\n    fn g() { let _ = fs::read(\"x\"); }\n}\n#[cfg(test)]\nuse std::env;\npub fn h() {}\n";
    assert!(violations("src/pure/x.rs", exempt, pure).is_empty(), "{exempt}");
    assert_eq!(
        production_code(exempt).trim(),
        "pub fn f() {}\n\npub fn h() {}".replace("\n\n", "\n")
    );
}
