//! The finding: what every rule emits and every output renders.
//! Its JSON shape is the contract in `architecture.md`; fields may be added, never renamed.

use serde::{Deserialize, Serialize};

use crate::Cause;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    // Order matters: `Ord` ranks error highest.
    Info,
    Warning,
    Error,
}

impl Severity {
    pub const fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A reference to a Kubernetes object, as printed in findings.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
pub struct ObjectRef {
    #[serde(rename = "apiVersion", skip_serializing_if = "Option::is_none", default)]
    pub api_version: Option<String>,
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub namespace: Option<String>,
    pub name: String,
}

impl ObjectRef {
    pub fn new(kind: &str, namespace: Option<&str>, name: &str) -> Self {
        ObjectRef {
            api_version: None,
            kind: kind.to_string(),
            namespace: namespace.map(str::to_string),
            name: name.to_string(),
        }
    }

    pub fn with_api_version(mut self, api_version: &str) -> Self {
        self.api_version = Some(api_version.to_string());
        self
    }

    /// `kind/name` in kubectl's lowercase form, e.g. `deployment/backend`.
    pub fn kubectl_ref(&self) -> String {
        format!("{}/{}", self.kind.to_ascii_lowercase(), self.name)
    }

    /// `ns/name` or `name` for cluster-scoped objects.
    pub fn qualified_name(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{ns}/{}", self.name),
            None => self.name.clone(),
        }
    }

    /// `-n ns ` for kubectl commands, empty for cluster-scoped objects.
    pub fn ns_flag(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("-n {ns} "),
            None => String::new(),
        }
    }
}

impl std::fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.kind, self.qualified_name())
    }
}

/// Where a piece of evidence came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EvidenceSource {
    Status,
    Event,
    Log,
    Spec,
    Manifest,
    Registry,
    Describe,
    Node,
}

impl EvidenceSource {
    pub const fn as_str(self) -> &'static str {
        match self {
            EvidenceSource::Status => "status",
            EvidenceSource::Event => "event",
            EvidenceSource::Log => "log",
            EvidenceSource::Spec => "spec",
            EvidenceSource::Manifest => "manifest",
            EvidenceSource::Registry => "registry",
            EvidenceSource::Describe => "describe",
            EvidenceSource::Node => "node",
        }
    }
}

/// One quoted piece of evidence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceItem {
    pub source: EvidenceSource,
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub object: Option<ObjectRef>,
}

impl EvidenceItem {
    pub fn new(source: EvidenceSource, text: impl Into<String>, object: Option<ObjectRef>) -> Self {
        EvidenceItem { source, text: text.into(), object }
    }
}

/// One step of the fix: a description and, usually, a copy-pasteable command.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fix {
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub command: Option<String>,
}

impl Fix {
    pub fn cmd(description: impl Into<String>, command: impl Into<String>) -> Self {
        Fix { description: description.into(), command: Some(command.into()) }
    }
    pub fn text(description: impl Into<String>) -> Self {
        Fix { description: description.into(), command: None }
    }
}

/// A position in a file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    pub file: String,
    pub line: u32,
    pub column: u32,
    /// For rendered charts: the template Helm names in the document's `# Source:` comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// The text of the line, for renderers that show it with a caret (not part of JSON).
    #[serde(skip)]
    pub source_line: Option<String>,
}

/// One diagnosed problem with its root cause.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub rule: String,
    pub name: String,
    pub severity: Severity,
    #[serde(serialize_with = "ser_cause", deserialize_with = "de_cause")]
    pub cause: Cause,
    pub object: ObjectRef,
    pub affected: Vec<ObjectRef>,
    /// How much of the object is affected, e.g. `3 of 3 pods` (filled by correlation).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub scope: Option<String>,
    pub title: String,
    pub root_cause: String,
    pub evidence: Vec<EvidenceItem>,
    pub fix: Vec<Fix>,
    /// How to keep it from happening again (from the rule's docs unless the rule says more).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub prevention: Option<String>,
    /// Other objects whose findings share this root cause (filled by correlation).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub related: Vec<ObjectRef>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub location: Option<Location>,
    /// What must be the same for two findings to be one root cause, e.g.
    /// `secret:shop/backend-secrets:mongodb-url`. Findings of one object with one key merge;
    /// findings of different objects with one key are linked as related.
    #[serde(skip)]
    pub root_key: String,
    /// Set when this finding is a consequence of a problem on another object (a Service
    /// without endpoints because its Deployment's pods crash): when that object has a
    /// finding of its own, correlation folds this one into it.
    #[serde(skip)]
    pub caused_by: Option<ObjectRef>,
}

fn ser_cause<S: serde::Serializer>(c: &Cause, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(c.as_str())
}

fn de_cause<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Cause, D::Error> {
    let code = String::deserialize(d)?;
    Cause::from_code(&code).ok_or_else(|| serde::de::Error::custom(format!("unknown cause {code}")))
}

/// Totals for the summary line.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
    pub objects: usize,
    pub duration_ms: u64,
}

impl Summary {
    pub fn count(findings: &[Finding], objects: usize, duration_ms: u64) -> Summary {
        let mut s = Summary { objects, duration_ms, ..Summary::default() };
        for f in findings {
            match f.severity {
                Severity::Error => s.errors += 1,
                Severity::Warning => s.warnings += 1,
                Severity::Info => s.infos += 1,
            }
        }
        s
    }
}
