//! Loading kubeconfig files without ever printing their content.
//!
//! The YAML parser's errors quote the input around the fault, and a kubeconfig holds tokens,
//! passwords and private keys, so the files are read and checked here first: each file is
//! parsed with snippets off, and errors say `file:line:column: reason` with every quoted value
//! removed from the reason. The context, cluster and user the run will use are checked too (they
//! exist, their base64 data decodes), pointing at the line that defines them. Only then is the
//! merged [`Kubeconfig`] handed to kube, and kube's own errors are reduced to text that quotes
//! no value either.
//!
//! Files are found as kubectl finds them: `--kubeconfig`, else every file of `KUBECONFIG`
//! (missing ones skipped; merged, the first file to set a value winning), else `~/.kube/config`.

use std::error::Error as StdError;
use std::path::{Path, PathBuf};

use kube::config::Kubeconfig;
use serde::Deserialize;
use serde_saphyr::Spanned;

/// The files to read, in merge order; empty when there is no kubeconfig at all.
pub fn paths(explicit: Option<&Path>) -> Vec<PathBuf> {
    if let Some(p) = explicit {
        return vec![p.to_owned()];
    }
    if let Some(value) = std::env::var_os("KUBECONFIG") {
        let listed: Vec<PathBuf> =
            std::env::split_paths(&value).filter(|p| !p.as_os_str().is_empty()).collect();
        if !listed.is_empty() {
            return listed.into_iter().filter(|p| p.exists()).collect();
        }
    }
    let home = std::env::var_os("HOME").or_else(|| std::env::var_os("USERPROFILE"));
    home.map(|h| PathBuf::from(h).join(".kube").join("config"))
        .filter(|p| p.exists())
        .into_iter()
        .collect()
}

/// The parts of a kubeconfig an error may point at, with their positions. The secret fields
/// are listed so that a wrong type there is reported with its position too.
#[derive(Debug, Default, Deserialize)]
struct Shape {
    #[serde(rename = "current-context")]
    current_context: Option<Spanned<String>>,
    clusters: Option<Vec<NamedCluster>>,
    users: Option<Vec<NamedUser>>,
    contexts: Option<Vec<NamedContext>>,
}

#[derive(Debug, Deserialize)]
struct NamedCluster {
    name: Spanned<String>,
    cluster: Option<ClusterShape>,
}

#[derive(Debug, Deserialize)]
struct ClusterShape {
    server: Option<Spanned<String>>,
    #[serde(rename = "certificate-authority-data")]
    ca_data: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
struct NamedUser {
    name: Spanned<String>,
    user: Option<UserShape>,
}

#[derive(Debug, Deserialize)]
struct UserShape {
    #[serde(rename = "client-certificate-data")]
    cert_data: Option<Spanned<String>>,
    #[serde(rename = "client-key-data")]
    key_data: Option<Spanned<String>>,
    #[serde(rename = "token")]
    _token: Option<Spanned<String>>,
    #[serde(rename = "username")]
    _username: Option<Spanned<String>>,
    #[serde(rename = "password")]
    _password: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
struct NamedContext {
    name: Spanned<String>,
    context: Option<ContextShape>,
}

#[derive(Debug, Deserialize)]
struct ContextShape {
    cluster: Option<Spanned<String>>,
    user: Option<Spanned<String>>,
}

/// One file as parsed.
struct File {
    name: String,
    docs: Vec<Shape>,
}

impl File {
    fn at(&self, s: &Spanned<String>) -> String {
        let l = s.referenced;
        format!("{}:{}:{}", self.name, l.line(), l.column())
    }
}

/// Reads, checks and merges the kubeconfig files; `Ok(None)` when there are none.
pub fn load(explicit: Option<&Path>, context: Option<&str>) -> Result<Option<Kubeconfig>, String> {
    let paths = paths(explicit);
    if paths.is_empty() {
        return Ok(None);
    }
    let mut files = Vec::new();
    let mut merged = Kubeconfig::default();
    for path in &paths {
        let name = path.display().to_string();
        let text = read_text(path).map_err(|e| format!("cannot read {name}: {e}"))?;
        let docs: Vec<Shape> = serde_saphyr::from_multiple_with_options(&text, options())
            .map_err(|e| parse_error(&name, &e))?;
        // The same text as kube will read it: catches what the shape above does not model.
        serde_saphyr::from_multiple_with_options::<Kubeconfig>(&text, options())
            .map_err(|e| parse_error(&name, &e))?;
        // kube reads it again to resolve relative file references against the file's folder.
        let kc = Kubeconfig::read_from(path).map_err(|e| format!("{name}: {}", safe_chain(&e)))?;
        merged = merged.merge(kc).map_err(|e| format!("{name}: {}", safe_chain(&e)))?;
        files.push(File { name, docs });
    }
    check_selection(&files, context)?;
    Ok(Some(merged))
}

/// The names of the files, for messages about the merged whole.
pub fn describe(explicit: Option<&Path>) -> String {
    let names: Vec<String> = paths(explicit).iter().map(|p| p.display().to_string()).collect();
    names.join(", ")
}

fn options() -> serde_saphyr::Options {
    serde_saphyr::options! { with_snippet: false }
}

/// `file:line:column: reason`, the reason without the parser's location suffix and without any
/// quoted input.
fn parse_error(file: &str, e: &serde_saphyr::Error) -> String {
    let text = e.without_snippet().to_string();
    let first = text.lines().next().unwrap_or_default();
    let reason = match first.rfind(" at line ") {
        Some(i) => &first[..i],
        None => first,
    };
    let reason = redact(reason);
    match e.location() {
        Some(l) if l.line() > 0 => format!("{file}:{}:{}: {reason}", l.line(), l.column()),
        _ => format!("{file}: {reason}"),
    }
}

/// Text with every quoted part (`"…"`, `'…'`, `` `…` ``) replaced by `…`, and base64 decoder
/// messages (which quote a byte of the input) replaced by a plain reason.
pub fn redact(text: &str) -> String {
    if text.contains("Invalid symbol")
        || text.contains("Invalid last symbol")
        || text.contains("Invalid byte")
    {
        return "invalid base64 data".to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if matches!(c, '"' | '\'' | '`') {
            // An apostrophe inside a word (`can't`) is not a quote.
            if c == '\'' && out.chars().last().is_some_and(char::is_alphanumeric) {
                out.push(c);
                continue;
            }
            out.push('…');
            for d in chars.by_ref() {
                if d == c {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// An error chain as text, each part redacted, exec-plugin errors reduced to what they are
/// about (kube's own text includes the plugin's whole output, tokens included).
pub fn safe_chain(e: &(dyn StdError + 'static)) -> String {
    let mut out = String::new();
    let mut current: Option<&(dyn StdError + 'static)> = Some(e);
    while let Some(err) = current {
        let (text, stop) = match err.downcast_ref::<kube::client::AuthError>() {
            Some(a) => (auth_error(a), true),
            None => (redact(&own_text(err)), false),
        };
        if !text.is_empty() && !out.contains(&text) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(&text);
        }
        if stop {
            break;
        }
        current = err.source();
    }
    out
}

/// An error's text without the text of its source appended (`outer: inner` → `outer`).
fn own_text(e: &(dyn StdError + 'static)) -> String {
    let text = e.to_string();
    match e.source().map(|s| s.to_string()) {
        Some(inner) if !inner.is_empty() => match text.find(&inner) {
            Some(i) => text[..i].trim_end().trim_end_matches(':').to_owned(),
            None => text,
        },
        _ => text,
    }
}

/// A kube authentication error, without the exec plugin's output or any token.
pub fn auth_error(e: &kube::client::AuthError) -> String {
    use kube::client::AuthError as A;
    match e {
        A::AuthExecRun { cmd, out } => {
            let program = cmd.split_whitespace().next().unwrap_or_default();
            format!(
                "the exec credential plugin {program} failed ({}); its output is not shown",
                out.status
            )
        }
        A::AuthExecStart(io) => format!("cannot run the exec credential plugin: {io}"),
        A::AuthExecParse(p) => match p.location() {
            Some(l) => format!(
                "cannot parse the exec credential plugin's output (line {}, column {})",
                l.line(),
                l.column()
            ),
            None => "cannot parse the exec credential plugin's output".to_owned(),
        },
        A::AuthExec(_) => "exec or auth-provider authentication failed".to_owned(),
        A::InvalidBasicAuth(_) => "the username or password is not a valid header value".to_owned(),
        A::InvalidBearerToken(_) => "the token is not a valid header value".to_owned(),
        A::ParseTokenKey(_) => "cannot parse the auth provider's output as JSON".to_owned(),
        other => redact(&own_text(other)),
    }
}

/// Checks the context the run will use, its cluster and its user, as merged (first wins).
fn check_selection(files: &[File], context: Option<&str>) -> Result<(), String> {
    let all = || files.iter().map(|f| f.name.as_str()).collect::<Vec<_>>().join(", ");
    let shapes = || files.iter().flat_map(|f| f.docs.iter().map(move |d| (f, d)));
    let (name, origin) = match context {
        Some(c) => (c.to_owned(), format!("--context {c}")),
        None => match shapes().find_map(|(f, d)| d.current_context.as_ref().map(|c| (f, c))) {
            Some((f, c)) if !c.value.is_empty() => {
                (c.value.clone(), format!("{}: current-context", f.at(c)))
            }
            _ => return Err(format!("{}: no current-context is set; pass --context NAME", all())),
        },
    };
    let Some((cf, ctx)) = shapes().find_map(|(f, d)| {
        d.contexts.iter().flatten().find(|c| c.name.value == name).map(|c| (f, c))
    }) else {
        return Err(format!("{origin}: no context {name} is defined in {}", all()));
    };
    let Some(c) = &ctx.context else {
        return Err(format!("{}: context {name} has no cluster", cf.at(&ctx.name)));
    };
    let Some(cluster_name) = &c.cluster else {
        return Err(format!("{}: context {name} has no cluster", cf.at(&ctx.name)));
    };
    let cluster = shapes().find_map(|(f, d)| {
        d.clusters.iter().flatten().find(|x| x.name.value == cluster_name.value).map(|x| (f, x))
    });
    let Some((kf, cluster)) = cluster else {
        return Err(format!(
            "{}: context {name} refers to cluster {}, which is not defined",
            cf.at(cluster_name),
            cluster_name.value
        ));
    };
    if let Some(cl) = &cluster.cluster {
        if cl.server.as_ref().is_none_or(|s| s.value.is_empty()) {
            return Err(format!(
                "{}: cluster {} has no server",
                kf.at(&cluster.name),
                cluster.name.value
            ));
        }
        check_base64(kf, cl.ca_data.as_ref(), "certificate-authority-data")?;
    }
    if let Some(user_name) = &c.user {
        let user = shapes().find_map(|(f, d)| {
            d.users.iter().flatten().find(|x| x.name.value == user_name.value).map(|x| (f, x))
        });
        let Some((uf, user)) = user else {
            return Err(format!(
                "{}: context {name} refers to user {}, which is not defined",
                cf.at(user_name),
                user_name.value
            ));
        };
        if let Some(u) = &user.user {
            check_base64(uf, u.cert_data.as_ref(), "client-certificate-data")?;
            check_base64(uf, u.key_data.as_ref(), "client-key-data")?;
        }
    }
    Ok(())
}

fn check_base64(f: &File, data: Option<&Spanned<String>>, field: &str) -> Result<(), String> {
    match data {
        Some(d) if !is_base64(&d.value) => Err(format!("{}: {field} is not valid base64", f.at(d))),
        _ => Ok(()),
    }
}

/// Standard base64 with padding, as kube decodes it.
fn is_base64(s: &str) -> bool {
    let b = s.as_bytes();
    if !b.len().is_multiple_of(4) {
        return false;
    }
    let body = s.trim_end_matches('=');
    b.len() - body.len() <= 2
        && body.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'+' || c == b'/')
}

/// The file's text, as kube reads it (UTF-8, or UTF-16 with a byte order mark).
fn read_text(path: &Path) -> std::io::Result<String> {
    let bytes = std::fs::read(path)?;
    let invalid =
        |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
    let utf16 = |be: bool| {
        let units: Vec<u16> = bytes[2..]
            .chunks(2)
            .map(|c| {
                let pair = [c[0], *c.get(1).unwrap_or(&0)];
                if be { u16::from_be_bytes(pair) } else { u16::from_le_bytes(pair) }
            })
            .collect();
        String::from_utf16(&units).map_err(|_| invalid("not valid UTF-16"))
    };
    match bytes.as_slice() {
        [0xFF, 0xFE, ..] => utf16(false),
        [0xFE, 0xFF, ..] => utf16(true),
        [0xEF, 0xBB, 0xBF, rest @ ..] => {
            String::from_utf8(rest.to_vec()).map_err(|_| invalid("not valid UTF-8"))
        }
        _ => String::from_utf8(bytes).map_err(|_| invalid("not valid UTF-8")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_quoted_values() {
        assert_eq!(
            redact(r#"invalid type: string "s3cr3t", expected a sequence"#),
            "invalid type: string …, expected a sequence"
        );
        assert_eq!(redact("integer `123456`, can't"), "integer …, can't");
        assert_eq!(redact("Invalid symbol 45, offset 3."), "invalid base64 data");
    }

    #[cfg(unix)]
    #[test]
    fn exec_plugin_errors_do_not_carry_its_output() {
        use std::os::unix::process::ExitStatusExt;
        let out = std::process::Output {
            status: std::process::ExitStatus::from_raw(256),
            stdout: b"{\"status\":{\"token\":\"execMARKER\"}}".to_vec(),
            stderr: b"execMARKER".to_vec(),
        };
        let e = kube::client::AuthError::AuthExecRun {
            cmd: "/usr/bin/plugin --secret execMARKER".into(),
            out: Box::new(out),
        };
        let text = safe_chain(&e);
        assert!(!text.contains("execMARKER") && !text.contains("101, 120"), "{text}");
        assert!(text.contains("/usr/bin/plugin"), "{text}");
        let e = kube::client::AuthError::AuthExec("Executing x failed: execMARKER".into());
        assert!(!safe_chain(&e).contains("execMARKER"));
        // Reached through request errors too.
        assert!(!crate::kube_api::error_chain(&e).contains("execMARKER"));
    }

    #[test]
    fn base64_check() {
        assert!(is_base64("aGVsbG8="));
        assert!(is_base64(""));
        assert!(!is_base64("not base64!"));
        assert!(!is_base64("aGVsbG8"));
    }
}
