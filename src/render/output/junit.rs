//! JUnit XML output (`-o junit`) for CI systems that show test reports (GitLab, Jenkins,
//! Azure Pipelines): one test case per object (per namespace for `plan`), a failure carrying
//! the message, built with quick-junit. No timestamps or durations, so the output is
//! deterministic.

use std::collections::BTreeMap;
use std::io::{self, Write};

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use crate::findings::{Finding, ObjectRef, Severity};

/// One test case.
#[derive(Clone, Debug)]
pub struct Case {
    /// The suite it belongs to; suites appear in the order their first case does.
    pub suite: String,
    pub classname: String,
    pub name: String,
    pub outcome: Outcome,
}

#[derive(Clone, Debug)]
pub enum Outcome {
    /// Passed; `note` (e.g. what was excluded, a finding below the threshold) goes to
    /// system-out.
    Pass { note: Option<String> },
    /// Failed: `kind` is the failure type (a check or finding code), `message` the one-line
    /// summary, `detail` the body.
    Fail { kind: String, message: String, detail: String },
    /// Left out of the verdict (an `--exclude` pattern).
    Skip { message: String },
}

/// One test case per object the findings name, in object order: failed when one of its
/// findings is at or above `fail_on` (the type is the most severe finding's code), else passed
/// with the findings in system-out.
pub fn findings(suite: &str, findings: &[Finding], fail_on: Severity) -> Vec<Case> {
    let mut by_object: BTreeMap<&ObjectRef, Vec<&Finding>> = BTreeMap::new();
    for f in findings {
        by_object.entry(&f.object).or_default().push(f);
    }
    by_object
        .into_iter()
        .map(|(object, fs)| {
            let detail: String = fs
                .iter()
                .map(|f| format!("{} [{}]: {}\n", f.severity.as_str(), f.code, f.message))
                .collect();
            let worst = fs.iter().max_by_key(|f| f.severity).filter(|f| f.severity >= fail_on);
            let outcome = match worst {
                Some(f) => Outcome::Fail {
                    kind: f.code.as_str().to_owned(),
                    message: f.message.clone(),
                    detail,
                },
                None => Outcome::Pass { note: Some(detail) },
            };
            Case {
                suite: suite.to_owned(),
                classname: object.namespace.clone().unwrap_or_default(),
                name: object.to_string(),
                outcome,
            }
        })
        .collect()
}

/// The report named `name` with these cases.
pub fn report(name: &str, cases: &[Case]) -> Report {
    let mut report = Report::new(name);
    let mut suites: Vec<TestSuite> = Vec::new();
    for case in cases {
        let index = match suites.iter().position(|s| s.name.as_str() == case.suite) {
            Some(i) => i,
            None => {
                suites.push(TestSuite::new(case.suite.clone()));
                suites.len() - 1
            }
        };
        let status = match &case.outcome {
            Outcome::Pass { .. } => TestCaseStatus::success(),
            Outcome::Fail { kind, message, detail } => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_type(kind.clone())
                    .set_message(message.clone())
                    .set_description(detail.clone());
                s
            }
            Outcome::Skip { message } => {
                let mut s = TestCaseStatus::skipped();
                s.set_message(message.clone());
                s
            }
        };
        let mut test = TestCase::new(case.name.clone(), status);
        test.set_classname(case.classname.clone());
        if let Outcome::Pass { note: Some(note) } = &case.outcome {
            test.set_system_out(note.clone());
        }
        suites[index].add_test_case(test);
    }
    report.add_test_suites(suites);
    report
}

/// Writes the report as XML with a trailing newline.
pub fn write(w: &mut dyn Write, name: &str, cases: &[Case]) -> io::Result<()> {
    let xml = report(name, cases).to_string().map_err(io::Error::other)?;
    w.write_all(xml.as_bytes())?;
    if !xml.ends_with('\n') {
        writeln!(w)?;
    }
    Ok(())
}
