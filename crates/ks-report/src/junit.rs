//! `--format junit`: JUnit XML for CI test reports (GitLab, Jenkins, Azure, CircleCI...).
//!
//! One `<testsuite>` per rule that fired (`KS0201 secret-key-missing`), one `<testcase>` per
//! finding named `KS0201 Deployment shop/backend` with classname `kubesleuth.KS0201`
//! (Jenkins splits it into package `kubesleuth` and class `KS0201`). Findings at or above
//! `--fail-on` are `<failure>`s (message: the title; type: the cause code; body: root cause,
//! evidence, fix, prevention), so the report fails exactly when the exit code does; the
//! others pass and carry the same text in `<system-out>`. Unreadable inputs are `<error>`
//! test cases in a `kubesleuth inputs` suite. With nothing found, one passing test case keeps
//! the report from being empty (some CI UIs treat an empty report as a broken job).

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::time::Duration;

use ks_core::{Finding, Severity};
use quick_junit::{NonSuccessKind, Report as JunitReport, TestCase, TestCaseStatus, TestSuite};

use crate::{Emitter, Report, short_ref};

pub struct Junit {
    /// Findings at or above this severity are failures.
    pub fail_on: Severity,
}

impl Emitter for Junit {
    fn emit(&self, report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
        let xml = self.report(report);
        xml.serialize(&mut *out).map_err(io::Error::other)?;
        writeln!(out)
    }
}

impl Junit {
    /// The JUnit report as a value.
    pub fn report(&self, report: &Report<'_>) -> JunitReport {
        let mut junit = JunitReport::new("kubesleuth");
        junit.set_time(Duration::from_millis(report.summary.duration_ms));

        // Suites in rule order; test cases in the findings' own order (severity, then object).
        let mut by_rule: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
        for f in report.findings {
            by_rule.entry(f.rule.as_str()).or_default().push(f);
        }
        for (rule, findings) in &by_rule {
            let name = findings.first().map(|f| format!("{rule} {}", f.name)).unwrap_or_else(|| rule.to_string());
            let mut suite = TestSuite::new(name);
            suite.add_test_cases(findings.iter().map(|f| self.case(f)));
            junit.add_test_suite(suite);
        }

        if !report.gaps.is_empty() {
            let mut suite = TestSuite::new("kubesleuth inputs");
            for g in report.gaps {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
                status.set_message(g.message.as_str()).set_type("unreadable").set_description(g.to_string());
                let what = g.file.as_deref().unwrap_or("input");
                let mut case = TestCase::new(format!("read {what}"), status);
                case.set_classname("kubesleuth.inputs");
                if let Some(file) = &g.file {
                    case.extra.insert("file".into(), file.as_str().into());
                }
                suite.add_test_case(case);
            }
            junit.add_test_suite(suite);
        }

        if report.findings.is_empty() {
            let mut suite = TestSuite::new("kubesleuth");
            let mut case = TestCase::new("no problems found", TestCaseStatus::success());
            case.set_classname("kubesleuth").set_system_out(crate::summary_line(&report.summary));
            suite.add_test_case(case);
            junit.add_test_suite(suite);
        }
        junit
    }

    fn case(&self, f: &Finding) -> TestCase {
        let body = details(f);
        let name = format!("{} {} {}", f.rule, f.object.kind, f.object.qualified_name());
        let mut case = if f.severity >= self.fail_on {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status.set_message(f.title.as_str()).set_type(f.cause.as_str()).set_description(body);
            TestCase::new(name, status)
        } else {
            let mut case = TestCase::new(name, TestCaseStatus::success());
            case.set_system_out(format!("{}\n\n{body}", f.title));
            case
        };
        case.set_classname(format!("kubesleuth.{}", f.rule));
        if let Some(loc) = &f.location {
            // GitLab shows the `file` attribute next to the test case.
            case.extra.insert("file".into(), loc.file.as_str().into());
        }
        case
    }
}

/// The failure body: everything the text format says about a finding, as plain text.
fn details(f: &Finding) -> String {
    let mut s = String::new();
    let scope = f.scope.as_ref().map(|s| format!(" ({s})")).unwrap_or_default();
    s.push_str(&format!("severity: {}\nobject: {}{scope}\n", f.severity, f.object));
    if let Some(l) = &f.location {
        s.push_str(&format!("location: {}:{}:{}\n", l.file, l.line, l.column));
    }
    s.push_str(&format!("cause: {}\n\n{}\n", f.cause, f.root_cause));
    if !f.affected.is_empty() {
        let names: Vec<String> = f.affected.iter().map(short_ref).collect();
        s.push_str(&format!("\naffected: {}\n", names.join(", ")));
    }
    if !f.evidence.is_empty() {
        s.push_str("\nevidence:\n");
        for e in &f.evidence {
            let obj = e.object.as_ref().map(short_ref).unwrap_or_default();
            s.push_str(&format!("  {:<8} {obj}  {}\n", e.source.as_str(), e.text));
        }
    }
    if !f.fix.is_empty() {
        s.push_str("\nfix:\n");
        for fx in &f.fix {
            s.push_str(&format!("  # {}\n", fx.description));
            if let Some(c) = &fx.command {
                s.push_str(&format!("  {c}\n"));
            }
        }
    }
    if let Some(p) = &f.prevention {
        s.push_str(&format!("\nprevent: {p}\n"));
    }
    s.push_str(&format!("\ndocs: kubesleuth rules {}\n", f.rule));
    s
}
