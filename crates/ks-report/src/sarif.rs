//! `--format sarif`: SARIF 2.1.0 (OASIS), one run, for code-scanning services and SARIF viewers.
//!
//! - `tool.driver.rules` is the whole catalogue the binary passes in (id, name, summary,
//!   docs, default level, tags with the cause code); a result whose rule is missing from it
//!   (a catalogue-less caller) gets a minimal descriptor built from the finding, so every
//!   `ruleIndex` points at a rule with the result's `ruleId`.
//! - A finding with a file `location` (from `kubesleuth lint`) gets a `physicalLocation`:
//!   a relative URI under `%SRCROOT%` with `startLine`/`startColumn`. Every result also names
//!   its Kubernetes object as a `logicalLocation` (`Deployment/shop/backend`, kind `object`).
//! - Findings about cluster objects with no file carry only the logical location. That is
//!   valid SARIF, but GitHub code scanning rejects a whole upload when any result lacks a
//!   physical location, so only `lint` output is meant for code scanning. We do not invent a
//!   file for cluster findings: an annotation on the wrong file is worse than no upload.
//! - `partialFingerprints["kubesleuth/v1"]` hashes rule, object and root cause, so services
//!   track one problem across runs even when its line moves.
//! - Fix commands, evidence and the other finding fields go in `result.properties`: SARIF
//!   `fixes` describe file edits, and ours are commands.
//! - Unreadable inputs become `invocations[0].toolExecutionNotifications`.

use std::collections::BTreeMap;
use std::io::{self, Write};

use ks_core::{Finding, Location, ObjectRef, RuleMeta, Severity};
use serde_json::{Value, json};
use serde_sarif::sarif::{
    ArtifactLocation, Invocation, Location as SarifLocation, LogicalLocation, Message, MultiformatMessageString,
    Notification, PhysicalLocation, PropertyBag, Region, ReportingConfiguration, ReportingDescriptor,
    Result as SarifResult, ResultLevel, Run, Sarif as SarifLog, Tool, ToolComponent,
};

use crate::{Emitter, Report};

/// The URI base id relative artifact locations are resolved against (GitHub's convention:
/// the repository root).
pub const SRCROOT: &str = "%SRCROOT%";

/// The key of our fingerprint in `partialFingerprints`; bump the version if its recipe changes.
pub const FINGERPRINT_KEY: &str = "kubesleuth/v1";

/// The final OASIS schema of SARIF 2.1.0 (what the SARIF Multitool asks `$schema` to name).
const SCHEMA_URI: &str = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

pub struct Sarif<'a> {
    pub rules: &'a [&'static RuleMeta],
    pub information_uri: Option<&'a str>,
}

impl Emitter for Sarif<'_> {
    fn emit(&self, report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
        let log = self.log(report);
        serde_json::to_writer_pretty(&mut *out, &log).map_err(io::Error::other)?;
        writeln!(out)
    }
}

/// A rule as the SARIF log describes it: from the catalogue, or from a finding when the
/// catalogue does not have it.
enum RuleRef<'f> {
    Meta(&'static RuleMeta),
    FromFinding(&'f Finding),
}

impl RuleRef<'_> {
    fn id(&self) -> &str {
        match self {
            RuleRef::Meta(m) => m.id,
            RuleRef::FromFinding(f) => &f.rule,
        }
    }
}

impl Sarif<'_> {
    /// The SARIF log as a value (tests inspect it without re-parsing text).
    pub fn log(&self, report: &Report<'_>) -> SarifLog {
        let mut rules: Vec<RuleRef<'_>> = self.rules.iter().map(|m| RuleRef::Meta(m)).collect();
        let mut index: BTreeMap<String, usize> = BTreeMap::new();
        for (i, r) in rules.iter().enumerate() {
            index.entry(r.id().to_string()).or_insert(i);
        }
        for f in report.findings {
            if !index.contains_key(&f.rule) {
                index.insert(f.rule.clone(), rules.len());
                rules.push(RuleRef::FromFinding(f));
            }
        }

        let results: Vec<SarifResult> = report
            .findings
            .iter()
            .map(|f| {
                // Every finding's rule was added to `index` just above.
                let rule_index = index.get(&f.rule).copied().unwrap_or_default();
                result(f, rule_index)
            })
            .collect();

        let mut driver = ToolComponent::builder()
            .name("kubesleuth")
            .full_name(format!("kubesleuth {}", report.tool_version))
            .version(report.tool_version)
            .rules(rules.iter().map(descriptor).collect::<Vec<_>>())
            .build();
        if is_semver(report.tool_version) {
            driver.semantic_version = Some(report.tool_version.to_string());
        }
        if let Some(uri) = self.information_uri {
            driver.information_uri = Some(uri.to_string());
        }

        let notifications: Vec<Notification> = report
            .gaps
            .iter()
            .map(|g| {
                let mut n = Notification::builder().message(text(&g.message)).level(json!("warning")).build();
                if let Some(file) = &g.file {
                    let region = g.line.filter(|l| *l >= 1).map(|l| Region::builder().start_line(l).build());
                    n.locations =
                        Some(vec![SarifLocation::builder().physical_location(physical(file, region)).build()]);
                }
                n
            })
            .collect();
        let mut invocation = Invocation::builder().execution_successful(true).build();
        if !notifications.is_empty() {
            invocation.tool_execution_notifications = Some(notifications);
        }

        let mut run = Run::builder()
            .tool(Tool::builder().driver(driver).build())
            .results(results)
            .invocations(vec![invocation])
            // Columns come from the YAML parser, which counts characters.
            .column_kind(json!("unicodeCodePoints"))
            .build();
        let files = report.findings.iter().filter_map(|f| f.location.as_ref().map(|l| l.file.as_str()));
        let mut files = files.chain(report.gaps.iter().filter_map(|g| g.file.as_deref()));
        if files.any(|f| !is_absolute(f)) {
            let mut bases = BTreeMap::new();
            bases.insert(
                SRCROOT.to_string(),
                ArtifactLocation::builder().description(text("The directory kubesleuth was run from.")).build(),
            );
            run.original_uri_base_ids = Some(bases);
        }
        SarifLog::builder().schema(SCHEMA_URI).version(json!("2.1.0")).runs(vec![run]).build()
    }
}

fn text(s: &str) -> Message {
    Message::builder().text(s).build()
}

fn multiformat(text: &str, markdown: Option<&str>) -> MultiformatMessageString {
    let mut m = MultiformatMessageString::builder().text(text).build();
    m.markdown = markdown.map(str::to_string);
    m
}

fn level(s: Severity) -> ResultLevel {
    match s {
        Severity::Error => ResultLevel::Error,
        Severity::Warning => ResultLevel::Warning,
        Severity::Info => ResultLevel::Note,
    }
}

fn level_str(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

fn descriptor(r: &RuleRef<'_>) -> ReportingDescriptor {
    match r {
        RuleRef::Meta(m) => {
            let sections = m.sections();
            let docs = m.docs_text();
            let full = if sections.what_it_finds.is_empty() { m.summary.to_string() } else { sections.what_it_finds };
            let area = m.cause.as_str().split('.').next().unwrap_or_default();
            // `runtime`, `static`, ...: the variant name, so new kinds need no change here.
            let kind = format!("{:?}", m.kind).to_ascii_lowercase();
            let mut tags = vec!["kubernetes".to_string(), area.to_string(), kind.clone()];
            tags.push(m.cause.as_str().to_string());
            tags.dedup();
            let mut props = PropertyBag::builder().tags(tags).build();
            props.additional_properties.insert("cause".into(), json!(m.cause.as_str()));
            props.additional_properties.insert("kind".into(), json!(kind));
            ReportingDescriptor::builder()
                .id(m.id)
                .name(m.name)
                .short_description(multiformat(m.summary, None))
                .full_description(multiformat(&full, Some(&full)))
                .help(multiformat(&docs, Some(&docs)))
                .default_configuration(ReportingConfiguration::builder().level(json!(level_str(m.severity))).build())
                .properties(props)
                .build()
        }
        RuleRef::FromFinding(f) => {
            let mut props =
                PropertyBag::builder().tags(vec!["kubernetes".to_string(), f.cause.as_str().to_string()]).build();
            props.additional_properties.insert("cause".into(), json!(f.cause.as_str()));
            let summary = f.cause.meaning();
            ReportingDescriptor::builder()
                .id(f.rule.as_str())
                .name(f.name.as_str())
                .short_description(multiformat(summary, None))
                .full_description(multiformat(summary, None))
                .help(multiformat(&format!("Run `kubesleuth rules {}` for this rule's docs.", f.rule), None))
                .default_configuration(ReportingConfiguration::builder().level(json!(level_str(f.severity))).build())
                .properties(props)
                .build()
        }
    }
}

/// `Deployment/shop/backend`, or `Node/worker-1` for cluster-scoped objects.
pub fn logical_name(o: &ObjectRef) -> String {
    match &o.namespace {
        Some(ns) => format!("{}/{ns}/{}", o.kind, o.name),
        None => format!("{}/{}", o.kind, o.name),
    }
}

fn logical(o: &ObjectRef) -> LogicalLocation {
    LogicalLocation::builder().name(o.name.as_str()).fully_qualified_name(logical_name(o)).kind("object").build()
}

fn physical(file: &str, region: Option<Region>) -> PhysicalLocation {
    let (uri, base) = file_uri(file);
    let mut artifact = ArtifactLocation::builder().uri(uri).build();
    artifact.uri_base_id = base.map(str::to_string);
    let mut p = PhysicalLocation::builder().artifact_location(artifact).build();
    p.region = region;
    p
}

fn region(loc: &Location) -> Option<Region> {
    // SARIF lines and columns start at 1; a 0 means "unknown", which SARIF cannot say.
    if loc.line == 0 {
        return None;
    }
    let mut r = Region::builder().start_line(loc.line).build();
    if loc.column >= 1 {
        r.start_column = Some(i64::from(loc.column));
    }
    Some(r)
}

/// The message: the title as its first sentence (what viewers show when space is short),
/// then the root cause.
fn message_text(f: &Finding) -> String {
    let title = f.title.trim_end();
    let ends_sentence = title.ends_with(['.', '!', '?']);
    let sep = if ends_sentence { " " } else { ". " };
    if f.root_cause.trim().is_empty() {
        format!("{title}{}", sep.trim_end())
    } else {
        format!("{title}{sep}{}", f.root_cause.trim())
    }
}

fn result(f: &Finding, rule_index: usize) -> SarifResult {
    let mut loc = SarifLocation::builder().logical_locations(vec![logical(&f.object)]).build();
    if let Some(l) = &f.location {
        loc.physical_location = Some(physical(&l.file, region(l)));
    }
    let mut fingerprints = BTreeMap::new();
    fingerprints.insert(FINGERPRINT_KEY.to_string(), fingerprint(f));

    let mut props = PropertyBag::builder().build();
    let p = &mut props.additional_properties;
    p.insert("name".into(), json!(f.name));
    p.insert("cause".into(), json!(f.cause.as_str()));
    p.insert("severity".into(), json!(f.severity.as_str()));
    p.insert("title".into(), json!(f.title));
    p.insert("rootCause".into(), json!(f.root_cause));
    p.insert("object".into(), to_value(&f.object));
    if !f.affected.is_empty() {
        p.insert("affected".into(), to_value(&f.affected));
    }
    if let Some(s) = &f.scope {
        p.insert("scope".into(), json!(s));
    }
    if !f.evidence.is_empty() {
        p.insert("evidence".into(), to_value(&f.evidence));
    }
    if !f.fix.is_empty() {
        p.insert("fix".into(), to_value(&f.fix));
    }
    if let Some(prev) = &f.prevention {
        p.insert("prevention".into(), json!(prev));
    }
    if !f.related.is_empty() {
        p.insert("related".into(), to_value(&f.related));
    }

    SarifResult::builder()
        .rule_id(f.rule.as_str())
        .rule_index(rule_index as i64)
        .level(level(f.severity))
        .message(text(&message_text(f)))
        .locations(vec![loc])
        .partial_fingerprints(fingerprints)
        .properties(props)
        .build()
}

fn to_value<T: serde::Serialize>(v: &T) -> Value {
    // Finding's parts are plain data (strings, enums, vectors): serialising them cannot fail.
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// Rule, object and root cause, hashed: the same problem on the same object keeps its
/// fingerprint across runs and line moves. The root cause is the finding's `root_key` when
/// the rule sets one (the same key correlation merges on), else its title: the prose root
/// cause quotes volatile details (pod hashes, restart counts).
pub fn fingerprint(f: &Finding) -> String {
    let root = if f.root_key.is_empty() { f.title.as_str() } else { f.root_key.as_str() };
    let ns = f.object.namespace.as_deref().unwrap_or_default();
    let parts = [f.rule.as_str(), f.object.kind.as_str(), ns, f.object.name.as_str(), root];
    format!("{:016x}", fnv1a64(&parts))
}

/// FNV-1a, 64 bit, over the parts with a 0 byte between them. Chosen because its output is
/// fixed by definition; std's hashers may change between Rust releases.
fn fnv1a64(parts: &[&str]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h = OFFSET;
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            // The 0 separator byte: XOR with 0 changes nothing, the multiply still counts it.
            h = h.wrapping_mul(PRIME);
        }
        for b in part.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(PRIME);
        }
    }
    h
}

fn is_absolute(path: &str) -> bool {
    let b = path.as_bytes();
    path.starts_with('/') || path.starts_with('\\') || (b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':')
}

/// A file path as an RFC 3986 URI reference: relative paths under [`SRCROOT`] (`./` dropped,
/// `\` turned into `/`), absolute ones as `file://` URIs. Everything but unreserved
/// characters and `/` is percent-encoded, so spaces or a `:` in a name stay valid.
pub fn file_uri(path: &str) -> (String, Option<&'static str>) {
    let mut p = path.replace('\\', "/");
    if is_absolute(&p) {
        if !p.starts_with('/') {
            // `C:/x` -> `/C:/x`; the drive colon is kept, as file URIs write it.
            p.insert(0, '/');
            let (drive, rest) = p.split_at(3);
            return (format!("file://{drive}{}", encode(rest)), None);
        }
        return (format!("file://{}", encode(&p)), None);
    }
    let mut rel = p.as_str();
    while let Some(r) = rel.strip_prefix("./") {
        rel = r.trim_start_matches('/');
    }
    (encode(rel), Some(SRCROOT))
}

fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn is_semver(v: &str) -> bool {
    let core = v.split(['-', '+']).next().unwrap_or_default();
    let nums: Vec<&str> = core.split('.').collect();
    nums.len() == 3 && nums.iter().all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_are_encoded_under_srcroot() {
        assert_eq!(file_uri("deploy/backend.yaml"), ("deploy/backend.yaml".into(), Some(SRCROOT)));
        assert_eq!(file_uri("./deploy/a b.yaml"), ("deploy/a%20b.yaml".into(), Some(SRCROOT)));
        assert_eq!(file_uri("deploy\\x:y.yaml"), ("deploy/x%3Ay.yaml".into(), Some(SRCROOT)));
        assert_eq!(file_uri("d/é.yaml").0, "d/%C3%A9.yaml");
    }

    #[test]
    fn absolute_paths_become_file_uris() {
        assert_eq!(file_uri("/work/x y.yaml"), ("file:///work/x%20y.yaml".into(), None));
        assert_eq!(file_uri("C:\\repo\\a.yaml"), ("file:///C:/repo/a.yaml".into(), None));
    }

    #[test]
    fn fnv_matches_the_published_test_vectors() {
        // FNV-1a 64 of "" and "a" from the reference implementation's test suite.
        assert_eq!(fnv1a64(&[""]), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(&["a"]), 0xaf63_dc4c_8601_ec8c);
        assert_ne!(fnv1a64(&["ab", "c"]), fnv1a64(&["a", "bc"]), "parts are separated");
    }

    #[test]
    fn semver_check() {
        assert!(is_semver("0.1.0"));
        assert!(is_semver("1.2.3-rc.1"));
        assert!(!is_semver("test"));
        assert!(!is_semver("1.2"));
    }
}
