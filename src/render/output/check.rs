//! `check` output.

use std::collections::BTreeMap;
use std::io::{self, Write};

use crate::evaluate::{CheckReport, CheckResult};
use crate::findings::Severity;
use crate::model::level::level_version;
use crate::output::junit::{self, Case, Outcome};
use crate::output::sarif::{self, Entry, Locator, Place};
use crate::output::text::line;
use crate::output::text::table;
use crate::output::{Format, Options, Style, write_json, write_yaml};

pub fn render(
    w: &mut dyn Write,
    report: &CheckReport,
    format: Format,
    style: Style,
    options: &Options,
) -> io::Result<()> {
    match format {
        Format::Json => write_json(w, report),
        Format::Yaml => write_yaml(w, report),
        Format::Text | Format::Wide => {
            text(w, report, style)?;
            unavailable(w, report, style)?;
            if options.summary { summary(w, report, style) } else { Ok(()) }
        }
        Format::Markdown => markdown(w, report),
        Format::Sarif => sarif::write(w, "check", &sarif_entries(report, &options.locator)),
        Format::Junit => {
            junit::write(w, "psa-migrate check", &junit_cases(report, options.fail_on))
        }
    }
}

/// `excluded by "Deployment/kube-system/*"` for an excluded object.
fn exclusion(r: &CheckResult) -> Option<String> {
    r.excluded.as_ref().map(|p| format!("excluded by {p:?}"))
}

/// One SARIF result per violation (excluded ones suppressed), then the findings and the
/// problems with the input.
fn sarif_entries(r: &CheckReport, locator: &Locator) -> Vec<Entry> {
    let mut entries = Vec::new();
    if let Some(level) = r.level {
        let lv = level_version(level, r.version);
        for res in &r.results {
            let counted = res.violations.iter().map(|v| (v, None));
            let excluded = res
                .excluded_violations
                .iter()
                .map(|v| (v, Some(format!("check {:?} excluded (--exclude-check)", v.check))));
            for (v, check_excluded) in counted.chain(excluded) {
                entries.push(Entry {
                    rule: v.check.to_owned(),
                    severity: Severity::Error,
                    message: format!(
                        "{}: would violate PodSecurity \"{lv}\": {}",
                        res.subject(),
                        crate::pss::long_form(std::slice::from_ref(v))
                    ),
                    object: Some(res.object()),
                    place: Place::of(&res.source),
                    suppressed: exclusion(res).or(check_excluded),
                });
            }
        }
    }
    entries.extend(sarif::reported(&r.findings, &r.diagnostics, locator));
    entries
}

/// One test case per object, by namespace; then one per finding.
fn junit_cases(r: &CheckReport, fail_on: Severity) -> Vec<Case> {
    let lv = r.level.map(|l| level_version(l, r.version));
    let mut cases: Vec<Case> = r
        .results
        .iter()
        .map(|res| {
            let excluded_checks = (!res.excluded_violations.is_empty()).then(|| {
                format!("excluded checks: {}", crate::pss::long_form(&res.excluded_violations))
            });
            let outcome = match (&lv, exclusion(res)) {
                (_, Some(why)) => Outcome::Skip { message: why },
                (Some(lv), None) if !res.allowed => Outcome::Fail {
                    kind: "pss-level-denied".to_owned(),
                    message: format!("would violate PodSecurity \"{lv}\": {}", res.message),
                    detail: res
                        .violations
                        .iter()
                        .map(|v| {
                            format!(
                                "{}: {}\n",
                                v.check,
                                crate::pss::long_form(std::slice::from_ref(v))
                            )
                        })
                        .collect(),
                },
                _ => Outcome::Pass {
                    note: excluded_checks.or_else(|| Some(format!("passes {}", res.passes))),
                },
            };
            Case {
                suite: "objects".to_owned(),
                classname: res.namespace.clone(),
                name: res.subject(),
                outcome,
            }
        })
        .collect();
    cases.extend(junit::findings("findings", &r.findings, fail_on));
    cases
}

/// Objects by namespace and kind.
fn summary(w: &mut dyn Write, r: &CheckReport, style: Style) -> io::Result<()> {
    let mut counts: BTreeMap<(&str, &str), [usize; 4]> = BTreeMap::new();
    for res in &r.results {
        let c = counts.entry((res.namespace.as_str(), res.kind.as_str())).or_default();
        c[0] += 1;
        let i = if res.excluded.is_some() {
            3
        } else if res.allowed {
            1
        } else {
            2
        };
        c[i] += 1;
    }
    let rows: Vec<Vec<String>> = counts
        .iter()
        .map(|((ns, kind), c)| {
            let ns = if ns.is_empty() { "(cluster)" } else { ns };
            let mut row = vec![ns.to_string(), kind.to_string()];
            row.extend(c.iter().map(usize::to_string));
            row
        })
        .collect();
    writeln!(w)?;
    let header = ["NAMESPACE", "KIND", "OBJECTS", "ALLOWED", "DENIED", "EXCLUDED"];
    table(w, style.width, "", &header, &[], &rows)
}

fn text(w: &mut dyn Write, r: &CheckReport, style: Style) -> io::Result<()> {
    let s = &r.summary;
    match r.level {
        Some(level) => {
            let lv = level_version(level, r.version);
            for res in &r.results {
                let subject = res.subject();
                let text = match exclusion(res) {
                    Some(why) if !res.allowed => format!(
                        "{subject}: {why}: would violate PodSecurity \"{lv}\": {}",
                        res.message
                    ),
                    None if !res.allowed => format!(
                        "{}: would violate PodSecurity \"{lv}\": {}",
                        style.red(&subject),
                        res.message
                    ),
                    _ => String::new(),
                };
                if !text.is_empty() {
                    line(w, style.width, &text)?;
                }
                if !res.excluded_violations.is_empty() {
                    let text = format!(
                        "{subject}: excluded checks: {}",
                        crate::pss::long_form(&res.excluded_violations)
                    );
                    line(w, style.width, &text)?;
                }
            }
            let mut verdict = format!("{} allowed, {} would violate", s.allowed, s.denied);
            if s.excluded > 0 {
                verdict.push_str(&format!(", {} excluded", s.excluded));
            }
            let verdict = if s.denied == 0 { style.green(&verdict) } else { style.red(&verdict) };
            let text = format!(
                "{} {} checked against PodSecurity \"{lv}\": {verdict}",
                s.objects,
                objects(s.objects)
            );
            line(w, style.width, &text)
        }
        None => {
            for res in &r.results {
                line(w, style.width, &format!("{}: passes {}", res.subject(), res.passes))?;
            }
            let counts: Vec<String> =
                s.passes.iter().rev().map(|(level, n)| format!("{n} {level}")).collect();
            let text = format!(
                "{} {} checked at {} (no level judged): {}",
                s.objects,
                objects(s.objects),
                r.version,
                counts.join(", ")
            );
            line(w, style.width, &text)
        }
    }
}

/// A closing line naming the kinds that could not be read, so a partial result never looks
/// complete.
fn unavailable(w: &mut dyn Write, r: &CheckReport, style: Style) -> io::Result<()> {
    for u in &r.summary.unavailable {
        let text = format!("not read: {} ({}): {}", u.resource, u.code.reason(), u.message);
        line(w, style.width, &text)?;
    }
    Ok(())
}

fn objects(n: usize) -> &'static str {
    if n == 1 { "object" } else { "objects" }
}

fn markdown(w: &mut dyn Write, r: &CheckReport) -> io::Result<()> {
    writeln!(w, "| Kind | Namespace | Name | Passes | Allowed | Message |")?;
    writeln!(w, "| --- | --- | --- | --- | --- | --- |")?;
    let allowed = |res: &CheckResult| match &res.excluded {
        Some(p) => format!("excluded ({})", p.replace('|', "\\|")),
        None if res.allowed => "yes".to_owned(),
        None => "no".to_owned(),
    };
    for res in &r.results {
        writeln!(
            w,
            "| {} | {} | {} | {} | {} | {} |",
            res.kind,
            res.namespace,
            match &res.path {
                Some(p) => format!("{} `{p}`", res.name),
                None => res.name.clone(),
            },
            res.passes,
            allowed(res),
            res.message.replace('|', "\\|")
        )?;
    }
    Ok(())
}
