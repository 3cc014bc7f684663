//! SARIF 2.1.0 output (`-o sarif`) for `check`, `inventory`, `map` and `plan`, built on the
//! typed model of serde-sarif so that what is written is what code-scanning tools read.
//!
//! Every run lists the same rules in the same order: one per Pod Security Standards check
//! (sorted by ID), then one per finding code. A result names its rule by ID and index, points
//! at the file, line and column of its object (or of the input problem), names the object as a
//! logical location, and carries a fingerprint that survives the object moving within its file.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde_sarif::sarif;
use sha2::{Digest, Sha256};

use crate::findings::{Code, Diagnostic, Finding, ObjectRef, Severity};
use crate::model::inventory::{Inventory, Provenance};
use crate::model::level::Level;
use crate::pss::checks::CATALOGUE;

/// Where the Pod Security Standards are defined. The page's control tables have no anchors of
/// their own, so a check's help links to its level's section.
pub const PSS_PAGE: &str = "https://kubernetes.io/docs/concepts/security/pod-security-standards/";

/// The key of [`Entry::fingerprint`] in `partialFingerprints`.
pub const FINGERPRINT_KEY: &str = "psaMigrate/v1";

/// One result before it is laid out.
#[derive(Clone, Debug)]
pub struct Entry {
    /// A check ID or a finding code.
    pub rule: String,
    pub severity: Severity,
    pub message: String,
    pub object: Option<ObjectRef>,
    pub place: Place,
    /// Why the result does not count (an `--exclude` pattern, an excluded check): reported as
    /// an external suppression.
    pub suppressed: Option<String>,
}

/// Where a result is, in the input.
#[derive(Clone, Debug, Default)]
pub struct Place {
    pub file: Option<String>,
    pub line: Option<u64>,
    pub column: Option<u64>,
}

impl Place {
    /// The file of an object read from one; none for the live API.
    pub fn of(source: &Provenance) -> Place {
        match source {
            Provenance::File { file, line, column, .. } => {
                Place { file: Some(file.clone()), line: *line, column: *column }
            }
            Provenance::Live { .. } => Place::default(),
        }
    }
}

impl Entry {
    /// A finding, placed at its object's source (its own, else the inventory's).
    pub fn finding(f: &Finding, locate: &Locator) -> Entry {
        let place = f
            .source
            .as_ref()
            .or_else(|| locate.find(&f.object))
            .map_or_else(Place::default, Place::of);
        Entry {
            rule: f.code.as_str().to_owned(),
            severity: f.severity,
            message: format!("{}: {}", f.object, f.message),
            object: Some(f.object.clone()),
            place,
            suppressed: None,
        }
    }

    /// A problem with the input (`input-*`, `api-*`), at its file position.
    pub fn diagnostic(d: &Diagnostic) -> Entry {
        let l = &d.location;
        let message = match &l.resource {
            Some(r) => format!("{r}: {}", d.message),
            None => d.message.clone(),
        };
        Entry {
            rule: d.code.as_str().to_owned(),
            severity: d.severity,
            message,
            object: d.object.clone(),
            place: Place { file: l.file.clone(), line: l.line, column: l.column },
            suppressed: None,
        }
    }

    /// Stable across runs and across the object moving in its file: the rule, the object and,
    /// for findings (several may share a rule and object), the message.
    fn fingerprint(&self) -> String {
        let mut h = Sha256::new();
        h.update(self.rule.as_bytes());
        if let Some(o) = &self.object {
            for part in [
                &o.kind,
                o.namespace.as_deref().unwrap_or(""),
                &o.name,
                o.path.as_deref().unwrap_or(""),
            ] {
                h.update([0]);
                h.update(part.as_bytes());
            }
        }
        if !CATALOGUE.iter().any(|c| c.id == self.rule) {
            h.update([0]);
            h.update(self.message.as_bytes());
        }
        h.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect()
    }
}

/// The findings of a report (placed by `locate`) and its problems with the input.
pub fn reported(findings: &[Finding], diagnostics: &[Diagnostic], locate: &Locator) -> Vec<Entry> {
    let findings = findings.iter().map(|f| Entry::finding(f, locate));
    findings.chain(diagnostics.iter().map(Entry::diagnostic)).collect()
}

/// The source of each object of an inventory, by kind, namespace and name, for results whose
/// finding does not carry one.
#[derive(Debug, Default)]
pub struct Locator {
    sources: BTreeMap<(String, Option<String>, String), Provenance>,
}

impl Locator {
    pub fn new(inv: &Inventory) -> Locator {
        let mut sources = BTreeMap::new();
        let mut add = |kind: &str, ns: Option<&str>, name: &str, source: &Provenance| {
            sources
                .entry((kind.to_owned(), ns.map(str::to_owned), name.to_owned()))
                .or_insert_with(|| source.clone());
        };
        for o in &inv.pod_objects {
            let ns = (!o.namespace().is_empty()).then(|| o.namespace());
            add(o.kind_name(), ns, o.name(), &o.source);
        }
        for p in &inv.psps {
            add("PodSecurityPolicy", None, &p.metadata.name, &p.source);
        }
        // RBAC objects carry the API's own ObjectMeta.
        type Meta = k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
        let rbac: [(&str, Vec<(&Meta, &Provenance)>); 4] = [
            ("Role", inv.roles.iter().map(|o| (&o.metadata, &o.source)).collect()),
            ("ClusterRole", inv.cluster_roles.iter().map(|o| (&o.metadata, &o.source)).collect()),
            ("RoleBinding", inv.role_bindings.iter().map(|o| (&o.metadata, &o.source)).collect()),
            (
                "ClusterRoleBinding",
                inv.cluster_role_bindings.iter().map(|o| (&o.metadata, &o.source)).collect(),
            ),
        ];
        for (kind, objects) in rbac {
            for (m, source) in objects {
                add(kind, m.namespace.as_deref(), m.name.as_deref().unwrap_or(""), source);
            }
        }
        for n in &inv.namespaces {
            add("Namespace", None, &n.metadata.name, &n.source);
        }
        for s in &inv.service_accounts {
            add("ServiceAccount", s.namespace.as_deref(), &s.name, &s.source);
        }
        Locator { sources }
    }

    pub fn find(&self, o: &ObjectRef) -> Option<&Provenance> {
        self.sources.get(&(o.kind.clone(), o.namespace.clone(), o.name.clone()))
    }
}

/// Every rule, in the fixed order results refer to by index.
fn rules() -> Vec<sarif::ReportingDescriptor> {
    let mut checks: Vec<_> = CATALOGUE.iter().collect();
    checks.sort_by_key(|c| c.id);
    let pss = checks.into_iter().map(|c| {
        let level = match c.level {
            Level::Restricted => "restricted",
            _ => "baseline",
        };
        let text = format!(
            "{} Pod Security Standards control \"{}\" of the {level} level.",
            c.summary, c.control
        );
        sarif::ReportingDescriptor::builder()
            .id(c.id)
            .name(c.id)
            .short_description(message_string(&format!("{} ({level})", c.control)))
            .full_description(message_string(c.summary))
            .help(message_string(&text))
            .help_uri(format!("{PSS_PAGE}#{level}"))
            .default_configuration(configuration(Severity::Error))
            .properties(tags(&["security", "pod-security", level]))
            .build()
    });
    let codes = Code::ALL.iter().map(|code| {
        let description = code.description();
        let short = description.split_once(". ").map_or(description, |(first, _)| first);
        sarif::ReportingDescriptor::builder()
            .id(code.as_str())
            .name(code.as_str())
            .short_description(message_string(short.trim_end_matches('.')))
            .full_description(message_string(description))
            .help(message_string(description))
            .default_configuration(configuration(code.severity()))
            .properties(tags(&["psa-migrate"]))
            .build()
    });
    pss.chain(codes).collect()
}

fn message_string(text: &str) -> sarif::MultiformatMessageString {
    sarif::MultiformatMessageString::builder().text(text).build()
}

fn tags(tags: &[&str]) -> sarif::PropertyBag {
    sarif::PropertyBag::builder()
        .tags(tags.iter().map(|t| (*t).to_owned()).collect::<Vec<_>>())
        .build()
}

fn configuration(s: Severity) -> sarif::ReportingConfiguration {
    sarif::ReportingConfiguration::builder().level(serde_json::json!(level(s))).build()
}

fn result_level(s: Severity) -> sarif::ResultLevel {
    match s {
        Severity::Error => sarif::ResultLevel::Error,
        Severity::Warning => sarif::ResultLevel::Warning,
        Severity::Info => sarif::ResultLevel::Note,
    }
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// The SARIF log of one run of `command` with these results, in the order given.
pub fn log(command: &str, entries: &[Entry]) -> sarif::Sarif {
    let rules = rules();
    let index: BTreeMap<&str, usize> =
        rules.iter().enumerate().map(|(i, r)| (r.id.as_str(), i)).collect();
    let results: Vec<sarif::Result> = entries
        .iter()
        .map(|e| {
            let mut result = sarif::Result::builder()
                .rule_id(e.rule.clone())
                .level(result_level(e.severity))
                .message(sarif::Message::builder().text(e.message.clone()).build())
                .partial_fingerprints(BTreeMap::from([(
                    FINGERPRINT_KEY.to_owned(),
                    e.fingerprint(),
                )]))
                .locations(vec![location(e)])
                .build();
            result.rule_index = index.get(e.rule.as_str()).map(|&i| i as i64);
            if let Some(why) = &e.suppressed {
                result.suppressions = Some(vec![
                    sarif::Suppression::builder()
                        .kind(serde_json::json!("external"))
                        .justification(why.clone())
                        .build(),
                ]);
            }
            result
        })
        .collect();
    let driver = sarif::ToolComponent::builder()
        .name("psa-migrate")
        .full_name(format!("psa-migrate {command}"))
        .version(env!("CARGO_PKG_VERSION"))
        .semantic_version(env!("CARGO_PKG_VERSION"))
        .information_uri(PSS_PAGE)
        .rules(rules)
        .build();
    let run = sarif::Run::builder()
        .tool(sarif::Tool::builder().driver(driver).build())
        .results(results)
        .column_kind(serde_json::json!("unicodeCodePoints"))
        .build();
    sarif::Sarif::builder()
        .schema(sarif::SCHEMA_URL)
        .version(serde_json::json!("2.1.0"))
        .runs(vec![run])
        .build()
}

fn location(e: &Entry) -> sarif::Location {
    let physical = e.place.file.as_ref().map(|file| sarif::PhysicalLocation {
        artifact_location: Some(sarif::ArtifactLocation::builder().uri(artifact_uri(file)).build()),
        region: e.place.line.map(|line| sarif::Region {
            start_line: Some(line as i64),
            start_column: e.place.column.map(|c| c as i64),
            ..sarif::Region::default()
        }),
        ..sarif::PhysicalLocation::default()
    });
    let logical = e.object.as_ref().map(|o| {
        vec![sarif::LogicalLocation {
            name: Some(o.name.clone()),
            fully_qualified_name: Some(o.to_string()),
            kind: Some("resource".to_owned()),
            ..sarif::LogicalLocation::default()
        }]
    });
    sarif::Location {
        physical_location: physical,
        logical_locations: logical,
        ..sarif::Location::default()
    }
}

/// A relative URI reference for a path as given on the command line: `/` separators, with the
/// characters a URI cannot hold percent-encoded. Standard input is `stdin`.
fn artifact_uri(file: &str) -> String {
    if file == "-" {
        return "stdin".to_owned();
    }
    let mut out = String::new();
    for b in file.replace('\\', "/").bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Writes the log as pretty JSON with a trailing newline.
pub fn write(w: &mut dyn Write, command: &str, entries: &[Entry]) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, &log(command, entries))?;
    writeln!(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifact_uris_are_relative_references() {
        assert_eq!(
            artifact_uri("charts/app/templates/deploy.yaml"),
            "charts/app/templates/deploy.yaml"
        );
        assert_eq!(artifact_uri("my dir/a#b.yaml"), "my%20dir/a%23b.yaml");
        assert_eq!(artifact_uri("k8s\\win.yaml"), "k8s/win.yaml");
        assert_eq!(artifact_uri("é.yaml"), "%C3%A9.yaml");
        assert_eq!(artifact_uri("-"), "stdin");
    }

    /// Rules: every check once, sorted, then every code, each with descriptions.
    #[test]
    fn rules_cover_every_check_and_code() {
        let rules = rules();
        assert_eq!(rules.len(), CATALOGUE.len() + Code::ALL.len());
        let checks: Vec<&str> = rules[..CATALOGUE.len()].iter().map(|r| r.id.as_str()).collect();
        let mut sorted = checks.clone();
        sorted.sort_unstable();
        assert_eq!(checks, sorted);
        for c in CATALOGUE {
            assert!(!c.control.is_empty() && c.summary.ends_with('.'), "{}", c.id);
        }
        let log = log("check", &[]);
        let text = serde_json::to_string(&log).unwrap();
        let back: sarif::Sarif = serde_json::from_str(&text).unwrap();
        assert_eq!(back.runs[0].tool.driver.rules.as_ref().map(Vec::len), Some(rules.len()));
    }
}
