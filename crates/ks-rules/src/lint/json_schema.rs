//! JSON Schema validation of manifest documents: custom resources against the schemas of
//! their CustomResourceDefinitions (found among the inputs or given with `lint --crds DIR`),
//! and any kind against a directory of JSON schemas (`lint --schema-dir DIR`, in the layout
//! of kubeconform and of the PyPI package kubernetes-validate).
//!
//! Each schema is compiled once per run per `(apiVersion, kind)` present in the inputs; the
//! results come out as a [`SchemaReport`], like the k8s-openapi check, so KS1001 (unknown
//! field) and KS1002 (invalid value) report them.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use jsonschema::error::ValidationErrorKind;
use jsonschema::{Draft, PatternOptions, ValidationError, Validator};
use ks_core::ManifestDoc;
use ks_core::manifest::{FieldPath, Seg};
use rayon::prelude::*;
use serde_json::{Map, Value, json};

use super::schema::{AbsentField, MAX_INVALID, SchemaReport, UnknownField};

/// Why `--schema-dir` cannot be used. CRDs never fail a run: a broken CRD schema is a note.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("--schema-dir {}: not a directory", .0.display())]
    NotADirectory(PathBuf),
    #[error("cannot read {}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: not a usable JSON schema: {message}", .path.display())]
    BadSchema { path: PathBuf, message: String },
}

type Key = (String, String);

/// A check beyond the schema: the problems it finds, as `(path, message)`.
type ExtraCheck = fn(&Value) -> Vec<(FieldPath, String)>;

/// One compiled schema.
struct Compiled {
    validator: Validator,
    /// The schema as compiled, walked for "did you mean".
    root: Value,
    /// The `_definitions.json` a schema directory's `$ref`s point into.
    defs: Option<Arc<Value>>,
    /// Which schema, for messages: `CRD certificates.cert-manager.io`, or the file.
    source: String,
    /// A CRD's: the API server prunes `null` from fields that are not nullable before it
    /// validates, so a null there is no error.
    nulls_pruned: bool,
    /// A CRD's `x-kubernetes-validations` rules (CEL), compiled, when it has any.
    cel: Option<kube_cel::CompiledSchema>,
    /// What the kind's controller refuses beyond the schema (Gatekeeper's template names).
    extra: Option<ExtraCheck>,
    /// Why fields users set are absent from the schema, when its maker says.
    absent: Vec<(FieldPath, AbsentField)>,
}

/// A schema to compile for a kind: where it comes from (`CRD x`, `ConstraintTemplate y`),
/// as the validator reads it, and as written (for its CEL rules).
struct Pending<'a> {
    key: Key,
    source: String,
    schema: Value,
    original: Cow<'a, Value>,
    absent: Vec<(FieldPath, AbsentField)>,
}

/// The JSON schemas of one run, compiled for the `(apiVersion, kind)`s of the inputs.
#[derive(Default)]
pub struct Schemas {
    compiled: HashMap<Key, Compiled>,
    /// Kinds a CRD defines without a schema (the API server accepts anything there).
    schemaless: BTreeSet<Key>,
    /// Broken CRD schemas and CRD directories without CRDs, for the user.
    notes: Vec<String>,
}

impl std::fmt::Debug for Schemas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Schemas").field("kinds", &self.compiled.keys().collect::<Vec<_>>()).finish_non_exhaustive()
    }
}

impl Schemas {
    /// The schemas of the custom resources that CRDs among `docs` define (what a run without
    /// options checks), as an API server of `kube_version` (default: the newest known)
    /// applies them.
    pub fn from_inputs(docs: &[ManifestDoc], kube_version: Option<(u32, u32)>) -> Schemas {
        let mut out = Schemas::default();
        out.add_crds(docs, docs.iter(), minor_of(kube_version));
        out
    }

    /// The schemas for `docs`: CRDs among them and in `crds` (the inputs' win when both
    /// define a kind), and files of `schema_dir`, which replace the k8s-openapi check of the
    /// kinds they cover. A schema directory that cannot be read, or a file of it that is
    /// not a JSON schema, is an error naming it.
    pub fn build(
        docs: &[ManifestDoc],
        crds: &[ManifestDoc],
        schema_dir: Option<&Path>,
        kube_version: Option<(u32, u32)>,
    ) -> Result<Schemas, SchemaError> {
        let mut out = Schemas::default();
        out.add_crds(docs, docs.iter().chain(crds), minor_of(kube_version));
        let Some(dir) = schema_dir else { return Ok(out) };
        let dir = SchemaDir::open(dir)?;
        let wanted: BTreeSet<(&str, &str)> = docs
            .iter()
            .filter(|d| !d.api_version.is_empty() && !d.kind.is_empty())
            .map(|d| (d.api_version.as_str(), d.kind.as_str()))
            .filter(|(a, k)| {
                let key = (a.to_string(), k.to_string());
                !out.compiled.contains_key(&key) && !out.schemaless.contains(&key)
            })
            .collect();
        let found: Vec<(Key, String)> = wanted
            .into_iter()
            .filter_map(|(a, k)| dir.file_for(a, k).map(|f| ((a.to_string(), k.to_string()), f)))
            .collect();
        let compiled: Vec<(Key, Compiled)> =
            found.into_par_iter().map(|(key, file)| dir.compile(&file).map(|c| (key, c))).collect::<Result<_, _>>()?;
        out.compiled.extend(compiled);
        Ok(out)
    }

    /// Compile the schema of every served version of every CRD among `crds` that defines a
    /// kind present in `docs`, as an API server of minor version `minor` applies it; and of
    /// every Gatekeeper constraint kind a ConstraintTemplate among them defines.
    fn add_crds<'a>(&mut self, docs: &[ManifestDoc], crds: impl Iterator<Item = &'a ManifestDoc>, minor: u32) {
        let wanted: BTreeSet<(&str, &str)> = docs.iter().map(|d| (d.api_version.as_str(), d.kind.as_str())).collect();
        let mut todo: Vec<Pending<'a>> = Vec::new();
        // The first schema found for a kind of the inputs wins.
        let take = |key: &Key, this: &Schemas, todo: &[Pending<'a>]| {
            wanted.contains(&(key.0.as_str(), key.1.as_str()))
                && !this.schemaless.contains(key)
                && !todo.iter().any(|p| p.key == *key)
        };
        for crd in crds {
            if is_crd(crd) {
                for (key, schema) in crd_versions(&crd.value) {
                    if !take(&key, self, &todo) {
                        continue;
                    }
                    match schema {
                        Some(s) => todo.push(Pending {
                            key,
                            source: format!("CRD {}", crd.name),
                            schema: crd_to_json_schema(s, minor),
                            original: Cow::Borrowed(s),
                            absent: Vec::new(),
                        }),
                        None => {
                            self.schemaless.insert(key);
                        }
                    }
                }
            } else if super::gatekeeper::is_constraint_template(crd)
                && let Some(c) = super::gatekeeper::constraint_schemas(crd)
            {
                for key in c.keys {
                    if take(&key, self, &todo) {
                        todo.push(Pending {
                            key,
                            source: format!("ConstraintTemplate {}", crd.name),
                            schema: crd_to_json_schema(&c.schema, minor),
                            original: Cow::Owned(c.schema.clone()),
                            absent: c.absent.clone(),
                        });
                    }
                }
            }
        }
        // Gatekeeper's ConstraintTemplate, when no CRD of it is given: a policy repository
        // has templates, never Gatekeeper's own CRDs.
        for key in super::gatekeeper::template_keys() {
            if take(&key, self, &todo) {
                let schema = super::gatekeeper::template_schema();
                todo.push(Pending {
                    key,
                    source: "Gatekeeper API, built in".to_string(),
                    schema: crd_to_json_schema(&schema, minor),
                    original: Cow::Owned(schema),
                    absent: Vec::new(),
                });
            }
        }
        let results: Vec<(Pending<'a>, Result<Validator, String>, Option<kube_cel::CompiledSchema>)> = todo
            .into_par_iter()
            .map(|p| {
                let v = crd_options().build(&p.schema).map_err(|e| e.to_string());
                let cel = has_cel_rules(&p.original).then(|| kube_cel::compile_schema(&p.original));
                (p, v, cel)
            })
            .collect();
        for (Pending { key, source, schema: root, absent, .. }, validator, cel) in results {
            match validator {
                Ok(validator) => {
                    if let Some(cel) = &cel {
                        let (total, failed) = cel_rule_counts(cel);
                        if !failed.is_empty() {
                            self.notes.push(format!(
                                "{source}: {} of {total} x-kubernetes-validations rules of {} ({}) cannot be evaluated here ({}); they are not checked",
                                failed.len(),
                                key.1,
                                key.0,
                                failed[0]
                            ));
                        }
                    }
                    let extra = super::gatekeeper::is_template_kind(&key.0, &key.1)
                        .then_some(super::gatekeeper::template_problems as ExtraCheck);
                    let compiled =
                        Compiled { validator, root, defs: None, source, nulls_pruned: true, cel, extra, absent };
                    self.compiled.insert(key, compiled);
                }
                Err(e) => {
                    // The error may quote the whole offending subschema.
                    let e: String = e.lines().next().unwrap_or_default().chars().take(160).collect();
                    self.notes.push(format!(
                        "{source}: the schema of {} ({}) cannot be used ({e}); its objects are not schema-checked",
                        key.1, key.0
                    ));
                    self.schemaless.insert(key);
                }
            }
        }
    }

    /// What the user should know: broken CRD schemas.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// Custom resources of `docs` no schema covers, one line per `(apiVersion, kind)`:
    /// `3 objects of kind Certificate (cert-manager.io/v1) not schema-checked: no CRD found`.
    pub fn unchecked(&self, docs: &[ManifestDoc]) -> Vec<String> {
        let mut counts: BTreeMap<(&str, &str), usize> = BTreeMap::new();
        for d in docs {
            let group = d.api_version.rsplit_once('/').map(|(g, _)| g).unwrap_or("");
            if !is_custom_group(group) || !d.value.get("metadata").is_some_and(Value::is_object) {
                continue;
            }
            let key = (d.api_version.clone(), d.kind.clone());
            if self.compiled.contains_key(&key) || self.schemaless.contains(&key) {
                continue;
            }
            *counts.entry((d.api_version.as_str(), d.kind.as_str())).or_default() += 1;
        }
        counts
            .into_iter()
            .map(|((api, kind), n)| {
                let objects = if n == 1 { "object" } else { "objects" };
                // Gatekeeper writes a constraint kind's CRD from its ConstraintTemplate: the
                // template is what a policy repository has, and a cluster running it has the CRD.
                if api.starts_with("constraints.gatekeeper.sh/") {
                    return format!(
                        "{n} {objects} of kind {kind} ({api}) not schema-checked: no ConstraintTemplate or CRD found; pass the ConstraintTemplate with the inputs or --crds DIR (from a cluster: `kubectl get crd {}.constraints.gatekeeper.sh -o yaml`)",
                        kind.to_lowercase()
                    );
                }
                format!("{n} {objects} of kind {kind} ({api}) not schema-checked: no CRD found; pass --crds DIR")
            })
            .collect()
    }

    /// Whether no schema was compiled (the common case: nothing to do per document).
    pub fn is_empty(&self) -> bool {
        self.compiled.is_empty()
    }

    /// Check one document against its JSON schema; `None` when there is none (the
    /// k8s-openapi check applies).
    pub fn check(&self, doc: &ManifestDoc) -> Option<SchemaReport> {
        if self.compiled.is_empty() {
            return None;
        }
        let c = self.compiled.get(&(doc.api_version.clone(), doc.kind.clone()))?;
        let mut report = SchemaReport { known_kind: true, source: Some(c.source.clone()), ..SchemaReport::default() };
        // The CRD's CEL rules, before the structural fast path below returns early.
        if let Some(cel) = &c.cel {
            cel_failures(cel, doc, &mut report);
        }
        if let Some(extra) = c.extra {
            report.invalid.extend(extra(&doc.value));
        }
        // The fast path: most documents are valid.
        if c.validator.is_valid(&doc.value) {
            return Some(report);
        }
        for err in c.validator.iter_errors(&doc.value) {
            let at = pointer_path(&doc.value, err.instance_path().as_str());
            match err.kind() {
                ValidationErrorKind::AdditionalProperties { unexpected }
                | ValidationErrorKind::UnevaluatedProperties { unexpected } => {
                    for name in unexpected {
                        let path = at.clone().key(name);
                        if report.unknown.iter().any(|u| u.path == path) {
                            continue;
                        }
                        let did_you_mean = did_you_mean(c, &at, name);
                        let why = c.absent.iter().find(|(p, _)| *p == path).map(|(_, why)| why.clone());
                        report.unknown.push(UnknownField { path, belongs: None, did_you_mean, why });
                    }
                }
                ValidationErrorKind::Required { property } => {
                    if let Some(p) = property.as_str() {
                        let path = at.key(p);
                        if !report.missing.contains(&path) {
                            report.missing.push(path);
                        }
                    }
                }
                _ => {
                    if report.invalid.len() >= MAX_INVALID {
                        continue;
                    }
                    if c.nulls_pruned && at.get(&doc.value).is_some_and(Value::is_null) {
                        continue;
                    }
                    let msg = describe(&err, &doc.value, &at, doc.kind == "Secret");
                    if !report.invalid.iter().any(|(p, m)| *p == at && *m == msg) {
                        report.invalid.push((at, msg));
                    }
                }
            }
        }
        // A built-in kind under `--schema-dir`: a field the API types find unknown too (not
        // one of another Kubernetes version) gets their "belongs in", as without the option.
        // One built-in check per document; custom kinds have none.
        if !report.unknown.is_empty() {
            let builtin = super::schema::check(doc);
            for u in &mut report.unknown {
                if let Some(place) = builtin.unknown.iter().find(|b| b.path == u.path).and_then(|b| b.belongs.clone()) {
                    u.belongs = Some(place);
                    u.did_you_mean = None;
                }
            }
        }
        // A required field inside a field of the wrong type is that field's problem.
        report.missing.retain(|m| !report.invalid.iter().any(|(p, _)| m.0.starts_with(&p.0) && *m != *p));
        Some(report)
    }
}

/// Whether a CRD schema has `x-kubernetes-validations` anywhere.
fn has_cel_rules(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.contains_key("x-kubernetes-validations") || m.values().any(has_cel_rules),
        Value::Array(items) => items.iter().any(has_cel_rules),
        _ => false,
    }
}

/// How many CEL rules a compiled schema has, and why each one that does not compile fails
/// (a syntax error, a malformed rule; an unknown function only shows when it runs).
fn cel_rule_counts(c: &kube_cel::CompiledSchema) -> (usize, Vec<String>) {
    let mut total = c.validations.len();
    let mut failed: Vec<String> = c.compilation_errors().iter().map(|e| e.to_string()).collect();
    let children = c
        .properties
        .values()
        .chain(c.items.as_deref())
        .chain(c.additional_properties.as_deref())
        .chain(&c.all_of)
        .chain(&c.one_of)
        .chain(&c.any_of);
    for child in children {
        let (t, f) = cel_rule_counts(child);
        total += t;
        failed.extend(f);
    }
    (total, failed)
}

/// The CEL rules a document breaks, as the API server would report them. A rule that
/// cannot be evaluated here (an unsupported function, a runtime error) is not judged: the
/// note about the CRD says so for those that do not compile.
fn cel_failures(cel: &kube_cel::CompiledSchema, doc: &ManifestDoc, report: &mut SchemaReport) {
    thread_local! {
        // Registering the Kubernetes CEL libraries once per thread.
        static VALIDATOR: kube_cel::Validator = kube_cel::Validator::new();
    }
    let (group, _) = doc.api_version.rsplit_once('/').unwrap_or(("", &doc.api_version));
    let root = kube_cel::RootContext {
        api_version: doc.api_version.clone(),
        api_group: group.to_string(),
        kind: doc.kind.clone(),
    };
    let Err(errors) = VALIDATOR.with(|v| v.validate_compiled_with_context(cel, &doc.value, None, Some(&root))) else {
        return;
    };
    for e in errors.iter().filter(|e| e.kind == kube_cel::ErrorKind::ValidationFailure) {
        if report.invalid.len() >= MAX_INVALID {
            break;
        }
        // The path of the rule's node; a map key with a dot in it reads as two segments,
        // so the path is cut back to what exists.
        let mut at = FieldPath::parse(&e.field_path);
        while !at.0.is_empty() && at.get(&doc.value).is_none() {
            at.0.pop();
        }
        let msg = if e.message.contains(&e.rule) {
            format!("x-kubernetes-validations: {}", e.message)
        } else {
            format!("x-kubernetes-validations rule `{}` fails: {}", e.rule, e.message)
        };
        if !report.invalid.iter().any(|(p, m)| *p == at && *m == msg) {
            report.invalid.push((at, msg));
        }
    }
}

fn options(draft: Draft) -> jsonschema::ValidationOptions<'static> {
    // Kubernetes patterns are Go (RE2) regular expressions: the `regex` engine reads them
    // as Go does. Formats are not asserted here; CRD schemas add theirs (`crd_options`).
    jsonschema::options().with_draft(draft).should_validate_formats(false).with_pattern_options(PatternOptions::regex())
}

/// A CRD's schema is read with the formats the API server checks (see
/// [`super::formats`]); `--schema-dir` schemas of built-in kinds are not: the API server
/// decodes those into Go types, which check their own strings.
fn crd_options() -> jsonschema::ValidationOptions<'static> {
    let mut o = options(Draft::Draft4).should_validate_formats(true);
    for f in super::formats::FORMATS {
        o = o.with_format(format!("{}{}", super::formats::PREFIX, f.name), f.check);
    }
    o
}

/// Whether a document defines kinds whose schemas this module compiles: a CRD, or a
/// Gatekeeper ConstraintTemplate (what `--crds` keeps of a directory).
pub fn defines_kinds(d: &ManifestDoc) -> bool {
    is_crd(d) || super::gatekeeper::is_constraint_template(d)
}

fn is_crd(d: &ManifestDoc) -> bool {
    d.kind == "CustomResourceDefinition" && d.api_version.starts_with("apiextensions.k8s.io/")
}

/// `(apiVersion, kind)` and OpenAPI schema of every served version of a CRD (v1, and
/// v1beta1's schema shared by all versions).
fn crd_versions(crd: &Value) -> Vec<(Key, Option<&Value>)> {
    let Some(spec) = crd.get("spec") else { return Vec::new() };
    let (Some(group), Some(kind)) =
        (spec.get("group").and_then(Value::as_str), spec.pointer("/names/kind").and_then(Value::as_str))
    else {
        return Vec::new();
    };
    let shared = spec.pointer("/validation/openAPIV3Schema");
    let mut out = Vec::new();
    match spec.get("versions").and_then(Value::as_array) {
        Some(versions) => {
            for v in versions {
                let Some(name) = v.get("name").and_then(Value::as_str) else { continue };
                if v.get("served").and_then(Value::as_bool) == Some(false) {
                    continue;
                }
                let schema = v.pointer("/schema/openAPIV3Schema").or(shared);
                out.push(((format!("{group}/{name}"), kind.to_string()), schema));
            }
        }
        None => {
            if let Some(name) = spec.get("version").and_then(Value::as_str) {
                out.push(((format!("{group}/{name}"), kind.to_string()), shared));
            }
        }
    }
    out
}

/// A CRD's OpenAPI v3 schema as the JSON Schema the API server effectively applies, the way
/// kubeconform's openapi2jsonschema does in strict mode: objects that list `properties` take
/// no others (the API server prunes unknown fields) unless they preserve unknown fields;
/// `nullable` allows null; int-or-string takes either; the root and embedded resources
/// always take `apiVersion`, `kind` and `metadata`; string formats are those an API server
/// of minor version `minor` checks.
pub fn crd_to_json_schema(schema: &Value, minor: u32) -> Value {
    let mut out = without_descriptions(schema);
    convert(&mut out, true, minor);
    out
}

/// A copy of a schema without the `description` of its nodes: they check nothing, and they
/// are most of a CRD's bytes, which the validator compiler walks. A property named
/// `description`, and values (`enum`, `default`, `example`, ...), are kept.
fn without_descriptions(node: &Value) -> Value {
    let Value::Object(m) = node else { return node.clone() };
    let schemas = |v: &Value| match v {
        Value::Array(items) => Value::Array(items.iter().map(without_descriptions).collect()),
        other => without_descriptions(other),
    };
    let mut out = Map::new();
    for (key, v) in m {
        let v = match key.as_str() {
            "description" => continue,
            "properties" | "patternProperties" | "definitions" | "dependencies" => match v {
                Value::Object(named) => {
                    Value::Object(named.iter().map(|(name, s)| (name.clone(), without_descriptions(s))).collect())
                }
                other => other.clone(),
            },
            "items" | "additionalProperties" | "additionalItems" | "not" | "allOf" | "anyOf" | "oneOf" => schemas(v),
            _ => v.clone(),
        };
        out.insert(key.clone(), v);
    }
    Value::Object(out)
}

/// The minor version whose API server a run emulates: `--kube-version`, else the newest.
fn minor_of(kube_version: Option<(u32, u32)>) -> u32 {
    kube_version.map_or(super::removed_api_version::NEWEST_MINOR, |(_, minor)| minor)
}

fn convert(node: &mut Value, root: bool, minor: u32) {
    let Value::Object(m) = node else { return };
    let flag = |m: &Map<String, Value>, k: &str| m.get(k).and_then(Value::as_bool) == Some(true);
    // A format the API server checks, and this module checks as it does, is renamed to the
    // check registered for it; any other is dropped (JSON Schema's own `email` or `uri`
    // checks are not Kubernetes').
    if let Some(Value::String(format)) = m.get("format") {
        match super::formats::registered_name(format, m.get("type").and_then(Value::as_str), minor) {
            Some(name) => m.insert("format".into(), Value::String(name)),
            None => m.remove("format"),
        };
    }
    let nullable = flag(m, "nullable");
    if flag(m, "x-kubernetes-int-or-string") {
        m.insert("type".into(), json!(["integer", "string"]));
    }
    if nullable {
        match m.get_mut("type") {
            Some(Value::String(t)) => {
                let t = std::mem::take(t);
                m.insert("type".into(), json!([t, "null"]));
            }
            Some(Value::Array(ts)) if !ts.iter().any(|t| t == "null") => ts.push(json!("null")),
            _ => {}
        }
        if let Some(Value::Array(options)) = m.get_mut("enum")
            && !options.iter().any(Value::is_null)
        {
            options.push(Value::Null);
        }
    }
    // Go's inline flags (`^(?i)(abort|warn)$`) are no ECMA regex, which the meta-schema
    // check of the compiler insists on: such a pattern is not checked (rather than the
    // whole CRD not being usable).
    if m.get("pattern").and_then(Value::as_str).is_some_and(has_go_inline_flags) {
        m.remove("pattern");
    }
    let preserve = flag(m, "x-kubernetes-preserve-unknown-fields");
    if root || flag(m, "x-kubernetes-embedded-resource") {
        let props = m.entry("properties").or_insert_with(|| json!({}));
        if let Value::Object(p) = props {
            p.entry("apiVersion").or_insert_with(|| json!({"type": "string"}));
            p.entry("kind").or_insert_with(|| json!({"type": "string"}));
            if root {
                // The API server checks a custom resource's metadata as ObjectMeta whatever
                // the CRD says; a CRD may only add limits to `name` and `generateName`.
                let limits = p.remove("metadata");
                p.insert("metadata".into(), object_meta_schema(limits.as_ref()));
            } else {
                p.entry("metadata").or_insert_with(|| json!({"type": "object"}));
            }
        }
    }
    if m.contains_key("properties") && !m.contains_key("additionalProperties") && !preserve {
        m.insert("additionalProperties".into(), Value::Bool(false));
    }
    if let Some(Value::Object(props)) = m.get_mut("properties") {
        for child in props.values_mut() {
            convert(child, false, minor);
        }
    }
    match m.get_mut("items") {
        Some(Value::Array(items)) => items.iter_mut().for_each(|i| convert(i, false, minor)),
        Some(items) => convert(items, false, minor),
        None => {}
    }
    if let Some(extra @ Value::Object(_)) = m.get_mut("additionalProperties") {
        convert(extra, false, minor);
    }
    // `allOf`/`anyOf`/`oneOf`/`not` only add value checks in a structural schema; their
    // `properties` repeat a subset of the node's, so they must not be closed.
}

/// ObjectMeta's fields as a closed JSON schema (so `metadata.lables` is an unknown field),
/// keeping what a CRD's own `metadata` schema says of `name` and `generateName`.
fn object_meta_schema(crd_metadata: Option<&Value>) -> Value {
    let strings = json!({"type": "object", "additionalProperties": {"type": ["string", "null"]}});
    let mut props = json!({
        "name": {"type": "string"},
        "generateName": {"type": "string"},
        "namespace": {"type": "string"},
        "labels": strings,
        "annotations": strings,
        "finalizers": {"type": "array", "items": {"type": "string"}},
        "ownerReferences": {"type": "array", "items": {"type": "object"}},
        "uid": {"type": "string"},
        "resourceVersion": {"type": "string"},
        "generation": {"type": "integer"},
        "creationTimestamp": {"type": ["string", "null"]},
        "deletionTimestamp": {"type": ["string", "null"]},
        "deletionGracePeriodSeconds": {"type": "integer"},
        "selfLink": {"type": "string"},
        "managedFields": {"type": "array"}
    });
    if let (Some(Value::Object(own)), Value::Object(p)) = (crd_metadata.and_then(|m| m.get("properties")), &mut props) {
        for key in ["name", "generateName"] {
            if let Some(limit) = own.get(key) {
                p.insert(key.into(), limit.clone());
            }
        }
    }
    json!({"type": "object", "properties": props, "additionalProperties": false})
}

/// `(?i)`, `(?s:...)`: flag groups ECMA regexes do not have (`(?:`, `(?=`, `(?!`, `(?<` they do).
fn has_go_inline_flags(pattern: &str) -> bool {
    pattern
        .match_indices("(?")
        .any(|(i, _)| pattern[i + 2..].chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '-'))
}

/// Groups of the Kubernetes API itself: objects of these are never custom resources.
const BUILTIN_GROUPS: &[&str] = &[
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "apiregistration.k8s.io",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "certificates.k8s.io",
    "coordination.k8s.io",
    "discovery.k8s.io",
    "events.k8s.io",
    "flowcontrol.apiserver.k8s.io",
    "internal.apiserver.k8s.io",
    "metrics.k8s.io",
    "networking.k8s.io",
    "node.k8s.io",
    "rbac.authorization.k8s.io",
    "resource.k8s.io",
    "scheduling.k8s.io",
    "storage.k8s.io",
    "storagemigration.k8s.io",
];

/// Custom resource groups are DNS names (`cert-manager.io`); built-in groups are either
/// dotless (`apps`) or listed above.
fn is_custom_group(group: &str) -> bool {
    group.contains('.') && !BUILTIN_GROUPS.contains(&group)
}

/// A directory of JSON schemas: `deployment-apps-v1.json`, `service-v1.json` (kubeconform,
/// kubernetes-validate), with `$ref`s into `_definitions.json`; and kubeconform's CRD
/// catalog layout `cert-manager.io/certificate_v1.json`.
struct SchemaDir {
    files: Arc<DirFiles>,
}

struct DirFiles {
    path: PathBuf,
    /// Parsed referenced files (`_definitions.json`, 1 MB), shared by every compile.
    cache: Mutex<HashMap<String, Arc<Value>>>,
}

impl DirFiles {
    /// Read and parse a file of the directory once.
    fn load(&self, rel: &str) -> Result<Arc<Value>, SchemaError> {
        if let Ok(cache) = self.cache.lock()
            && let Some(v) = cache.get(rel)
        {
            return Ok(v.clone());
        }
        let path = self.path.join(rel);
        let text = std::fs::read_to_string(&path).map_err(|source| SchemaError::Io { path: path.clone(), source })?;
        let value: Value =
            serde_json::from_str(&text).map_err(|e| SchemaError::BadSchema { path, message: e.to_string() })?;
        let value = Arc::new(value);
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(rel.to_string(), value.clone());
        }
        Ok(value)
    }
}

/// Resolves `$ref`s of a schema directory's files (`/api/_definitions.json#/$defs/...`,
/// `_definitions.json#/definitions/...`) to the file of that name in the same directory,
/// whatever the URI's prefix. Nothing is fetched from the network.
struct DirRetriever(Arc<DirFiles>);

impl jsonschema::Retrieve for DirRetriever {
    fn retrieve(&self, uri: &jsonschema::Uri<String>) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let name = uri.path().as_str().rsplit('/').next().unwrap_or_default();
        if name.is_empty() || name.starts_with('.') {
            return Err(format!("{uri}: not a file of the schema directory").into());
        }
        Ok(self.0.load(name).map_err(|e| format!("{e}"))?.as_ref().clone())
    }
}

impl SchemaDir {
    fn open(path: &Path) -> Result<SchemaDir, SchemaError> {
        if !path.is_dir() {
            return Err(SchemaError::NotADirectory(path.to_path_buf()));
        }
        Ok(SchemaDir { files: Arc::new(DirFiles { path: path.to_path_buf(), cache: Mutex::new(HashMap::new()) }) })
    }

    /// The file holding the schema of a kind, if the directory has one: kubeconform's CRD
    /// catalog name (`{group}/{kind}_{version}.json`) for a custom resource, else
    /// `{kind}-{first label of the group}-{version}.json` (`{kind}-{version}.json` for the
    /// core group).
    fn file_for(&self, api_version: &str, kind: &str) -> Option<String> {
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let kind = kind.to_ascii_lowercase();
        let mut candidates = Vec::new();
        if group.is_empty() {
            candidates.push(format!("{kind}-{version}.json"));
        } else {
            candidates.push(format!("{group}/{kind}_{version}.json"));
            let label = group.split('.').next().unwrap_or(group);
            candidates.push(format!("{kind}-{label}-{version}.json"));
        }
        candidates.into_iter().find(|c| self.files.path.join(c).is_file())
    }

    fn compile(&self, rel: &str) -> Result<Compiled, SchemaError> {
        let path = self.files.path.join(rel);
        let root = self.files.load(rel)?.as_ref().clone();
        let validator = options(draft_of(&root))
            .with_retriever(DirRetriever(self.files.clone()))
            .build(&root)
            .map_err(|e| SchemaError::BadSchema { path: path.clone(), message: e.to_string() })?;
        // Only for "did you mean"; a directory without it (standalone schemas) has no refs.
        let defs = self.files.load("_definitions.json").ok();
        Ok(Compiled {
            validator,
            root,
            defs,
            source: format!("schema {}", path.display()),
            nulls_pruned: false,
            cel: None,
            extra: None,
            absent: Vec::new(),
        })
    }
}

/// The draft a schema file declares; OpenAPI-derived schemas without one (kubeconform's)
/// use draft 4 keywords (`exclusiveMinimum: true`).
fn draft_of(schema: &Value) -> Draft {
    match schema.get("$schema").and_then(Value::as_str).unwrap_or_default() {
        s if s.contains("2020-12") => Draft::Draft202012,
        s if s.contains("2019-09") => Draft::Draft201909,
        s if s.contains("draft-07") => Draft::Draft7,
        s if s.contains("draft-06") => Draft::Draft6,
        _ => Draft::Draft4,
    }
}

/// A JSON pointer into `value` as a field path: a segment is an index only where the value
/// is a list (a map's key may be digits: a label `"80"`).
fn pointer_path(value: &Value, pointer: &str) -> FieldPath {
    let mut segs = Vec::new();
    let mut cur = Some(value);
    for raw in pointer.split('/').skip(1) {
        let key = raw.replace("~1", "/").replace("~0", "~");
        match cur {
            Some(Value::Array(items)) => {
                let i = key.parse::<usize>().unwrap_or(usize::MAX);
                cur = items.get(i);
                segs.push(Seg::Index(i));
            }
            Some(Value::Object(m)) => {
                cur = m.get(&key);
                segs.push(Seg::Key(key));
            }
            _ => {
                cur = None;
                segs.push(Seg::Key(key));
            }
        }
    }
    FieldPath(segs)
}

/// The schema node that applies at `path`, following `$ref`s (into `_definitions.json`)
/// and single-`allOf` wrappers.
fn schema_at<'a>(c: &'a Compiled, path: &FieldPath) -> Option<&'a Value> {
    let mut node = deref(c, &c.root)?;
    for seg in &path.0 {
        node = match seg {
            Seg::Key(k) => node
                .get("properties")
                .and_then(|p| p.get(k))
                .or_else(|| node.get("additionalProperties").filter(|v| v.is_object()))?,
            Seg::Index(_) => node.get("items")?,
        };
        node = deref(c, node)?;
    }
    Some(node)
}

fn deref<'a>(c: &'a Compiled, mut node: &'a Value) -> Option<&'a Value> {
    // Bounded: a cycle of references must not hang the run.
    for _ in 0..32 {
        if let Some(r) = node.get("$ref").and_then(Value::as_str) {
            let (file, fragment) = r.split_once('#').unwrap_or((r, ""));
            let doc = if file.is_empty() { &c.root } else { c.defs.as_deref()? };
            node = if fragment.is_empty() { doc } else { doc.pointer(fragment)? };
        } else if let Some([only]) = node.get("allOf").and_then(Value::as_array).map(Vec::as_slice)
            && node.get("properties").is_none()
        {
            node = only;
        } else {
            return Some(node);
        }
    }
    None
}

/// The property a typo most likely meant, among those valid where it is written.
fn did_you_mean(c: &Compiled, parent: &FieldPath, name: &str) -> Option<String> {
    let props = schema_at(c, parent)?.get("properties")?.as_object()?;
    let lower = name.to_ascii_lowercase();
    let limit = if name.len() <= 4 { 1 } else { 2 };
    props
        .keys()
        .filter(|k| k.as_str() != name)
        .map(|k| (strsim::damerau_levenshtein(&lower, &k.to_ascii_lowercase()), k))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k.clone())
}

fn type_name(v: Option<&Value>) -> &'static str {
    match v {
        None => "nothing",
        Some(Value::Null) => "null",
        Some(Value::Bool(_)) => "boolean",
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => "integer",
        Some(Value::Number(_)) => "number",
        Some(Value::String(_)) => "string",
        Some(Value::Array(_)) => "list",
        Some(Value::Object(_)) => "object",
    }
}

/// A short rendering of a value for a message: scalars only, never long, never a Secret's.
fn short(v: Option<&Value>, secret: bool) -> Option<String> {
    if secret {
        return None;
    }
    let s = match v? {
        Value::String(s) => format!("{s:?}"),
        v @ (Value::Number(_) | Value::Bool(_) | Value::Null) => v.to_string(),
        _ => return None,
    };
    (s.chars().count() <= 40).then_some(s)
}

fn list_types(types: impl IntoIterator<Item = String>) -> String {
    let mut t: Vec<String> = types.into_iter().map(|t| if t == "array" { "list".to_string() } else { t }).collect();
    t.sort();
    t.dedup();
    match t.len() {
        0 => "another type".to_string(),
        1 => t.remove(0),
        _ => {
            let last = t.pop().unwrap_or_default();
            format!("{} or {last}", t.join(", "))
        }
    }
}

fn limit_text(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 60 { format!("{}…", s.chars().take(60).collect::<String>()) } else { s }
}

/// What is wrong, in words, about the field at `at` (the value named only when short, and
/// never a Secret's).
fn describe(err: &ValidationError<'_>, doc: &Value, at: &FieldPath, secret: bool) -> String {
    let here = at.get(doc);
    let got = type_name(here);
    let value = short(here, secret);
    let is = value.as_deref().filter(|v| *v != "null").map(|v| format!("{v} ")).unwrap_or_default();
    match err.kind() {
        ValidationErrorKind::Type { kind } => {
            let types: Vec<String> = match kind {
                jsonschema::error::TypeKind::Single(t) => vec![t.to_string()],
                jsonschema::error::TypeKind::Multiple(ts) => ts.iter().map(|t| t.to_string()).collect(),
            };
            let types: Vec<String> = types.into_iter().filter(|t| t != "null").collect();
            format!("invalid type: {got} {is}where {} is expected", list_types(types)).replace("  ", " ")
        }
        ValidationErrorKind::Enum { options } => {
            // A near miss (`server-auth` for `server auth`) is named; else the options.
            let near = here.and_then(Value::as_str).filter(|_| !secret).and_then(|v| {
                options
                    .as_array()?
                    .iter()
                    .filter_map(Value::as_str)
                    .map(|o| (strsim::damerau_levenshtein(&v.to_ascii_lowercase(), &o.to_ascii_lowercase()), o))
                    .filter(|(d, _)| *d <= 2)
                    .min_by_key(|(d, _)| *d)
                    .map(|(_, o)| o)
            });
            if let Some(near) = near {
                return format!("{is}is not an allowed value (did you mean {near:?}?)").trim_start().to_string();
            }
            let opts: Vec<String> = options.as_array().map(|a| a.iter().map(limit_text).collect()).unwrap_or_default();
            let shown = if opts.len() > 12 { format!("{}, …", opts[..12].join(", ")) } else { opts.join(", ") };
            format!("{is}is not one of the allowed values: {shown}").trim_start().to_string()
        }
        ValidationErrorKind::Constant { expected_value } => {
            format!("must be {}", limit_text(expected_value))
        }
        ValidationErrorKind::Pattern { pattern } => {
            let p: String = if pattern.chars().count() > 80 {
                format!("{}…", pattern.chars().take(80).collect::<String>())
            } else {
                pattern.clone()
            };
            format!("{is}does not match the pattern `{p}`").trim_start().to_string()
        }
        ValidationErrorKind::Minimum { limit } => {
            format!("{is}is less than the minimum {limit}").trim_start().to_string()
        }
        ValidationErrorKind::Maximum { limit } => {
            format!("{is}is more than the maximum {limit}").trim_start().to_string()
        }
        ValidationErrorKind::ExclusiveMinimum { limit } => {
            format!("{is}must be more than {limit}").trim_start().to_string()
        }
        ValidationErrorKind::ExclusiveMaximum { limit } => {
            format!("{is}must be less than {limit}").trim_start().to_string()
        }
        ValidationErrorKind::MinLength { limit } => format!("shorter than {limit} characters"),
        ValidationErrorKind::MaxLength { limit } => format!("longer than {limit} characters"),
        ValidationErrorKind::MinItems { limit } => format!("fewer than {limit} items"),
        ValidationErrorKind::MaxItems { limit } => format!("more than {limit} items"),
        ValidationErrorKind::MinProperties { limit } => format!("fewer than {limit} entries"),
        ValidationErrorKind::MaxProperties { limit } => format!("more than {limit} entries"),
        ValidationErrorKind::UniqueItems => "the list has duplicate items".to_string(),
        ValidationErrorKind::MultipleOf { .. } => {
            format!("{is}is not a multiple of the allowed step").trim_start().to_string()
        }
        ValidationErrorKind::OneOfNotValid { context } | ValidationErrorKind::AnyOf { context } => {
            // int-or-string and similar: when every alternative failed only on its type,
            // say which types are allowed.
            let mut types = Vec::new();
            let only_types = context.iter().flatten().all(|e| match e.kind() {
                ValidationErrorKind::Type { kind } => {
                    match kind {
                        jsonschema::error::TypeKind::Single(t) => types.push(t.to_string()),
                        jsonschema::error::TypeKind::Multiple(ts) => types.extend(ts.iter().map(|t| t.to_string())),
                    }
                    true
                }
                _ => false,
            });
            types.retain(|t| t != "null");
            if only_types && !types.is_empty() {
                format!("invalid type: {got} {is}where {} is expected", list_types(types)).replace("  ", " ")
            } else {
                "matches none of the allowed forms".to_string()
            }
        }
        ValidationErrorKind::OneOfMultipleValid { .. } => "matches more than one of the allowed forms".to_string(),
        ValidationErrorKind::Not { .. } => "has a form that is not allowed here".to_string(),
        ValidationErrorKind::FalseSchema => "is not allowed here".to_string(),
        ValidationErrorKind::Format { format } => {
            // The API server's words: `must be of type date-time: "yesterday"`.
            let shown = value
                .as_deref()
                .filter(|_| super::formats::quotes_value(format))
                .map(|v| format!(": {v}"))
                .unwrap_or_default();
            let e = super::formats::example(format).map(|e| format!(" (e.g. {e})")).unwrap_or_default();
            format!("must be of type {}{shown}{e}", super::formats::display_name(format))
        }
        _ => "is not valid here".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::lint::test_doc as doc;

    fn crd() -> Value {
        json!({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.shop.example.com"},
            "spec": {"group": "shop.example.com", "names": {"kind": "Widget", "plural": "widgets"}, "scope": "Namespaced",
              "versions": [{"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": {
                "type": "object",
                "properties": {
                  "spec": {"type": "object", "required": ["size"], "properties": {
                    "size": {"type": "integer", "minimum": 1},
                    "port": {"x-kubernetes-int-or-string": true},
                    "color": {"type": "string", "enum": ["red", "blue"], "nullable": true},
                    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                    "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": true,
                              "properties": {"known": {"type": "string"}}},
                    "template": {"type": "object", "x-kubernetes-embedded-resource": true,
                                 "properties": {"spec": {"type": "object"}}}
                  }}
                }}}},
                {"name": "v0", "served": false, "storage": false, "schema": {"openAPIV3Schema": {"type": "object"}}}]}
        })
    }

    fn widget(spec: Value) -> Value {
        json!({"apiVersion": "shop.example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": spec})
    }

    fn check(spec: Value) -> SchemaReport {
        let docs = vec![doc(crd()), doc(widget(spec))];
        let s = Schemas::from_inputs(&docs, None);
        s.check(&docs[1]).expect("the CRD covers Widget")
    }

    #[test]
    fn descriptions_are_dropped_from_schema_nodes_only() {
        let schema = json!({
            "type": "object", "description": "a widget",
            "properties": {
                "description": {"type": "string", "description": "the field named description"},
                "mode": {"type": "string", "enum": [{"description": "a value, kept"}], "default": {"description": "kept"}},
                "list": {"type": "array", "items": {"type": "object", "description": "an item",
                  "properties": {"a": {"description": "x", "type": "string"}}}},
                "either": {"anyOf": [{"type": "string", "description": "s"}, {"type": "integer"}], "description": "e"}
            },
            "additionalProperties": {"description": "d", "type": "string"}
        });
        let out = without_descriptions(&schema);
        assert_eq!(
            out,
            json!({
                "type": "object",
                "properties": {
                    "description": {"type": "string"},
                    "mode": {"type": "string", "enum": [{"description": "a value, kept"}], "default": {"description": "kept"}},
                    "list": {"type": "array", "items": {"type": "object", "properties": {"a": {"type": "string"}}}},
                    "either": {"anyOf": [{"type": "string"}, {"type": "integer"}]}
                },
                "additionalProperties": {"type": "string"}
            })
        );
    }

    #[test]
    fn a_valid_custom_resource_has_no_problems() {
        let r = check(json!({"size": 2, "port": "http", "color": null, "labels": {"a": "b"},
            "extra": {"anything": {"goes": 1}}, "template": {"apiVersion": "v1", "kind": "Pod", "metadata": {}, "spec": {}}}));
        assert!(r.unknown.is_empty() && r.invalid.is_empty() && r.missing.is_empty(), "{r:?}");
        assert_eq!(r.source.as_deref(), Some("CRD widgets.shop.example.com"));
    }

    /// A format is checked only by API servers that know it: `k8s-short-name` from 1.34.
    #[test]
    fn formats_follow_the_kube_version() {
        let mut c = crd();
        c["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["owner"] =
            json!({"type": "string", "format": "k8s-short-name"});
        let docs = vec![doc(c), doc(widget(json!({"size": 1, "owner": "Platform_Team"})))];
        let invalid = |v| Schemas::from_inputs(&docs, v).check(&docs[1]).expect("covered").invalid;
        let newest = invalid(None);
        assert_eq!(newest.len(), 1, "{newest:?}");
        assert_eq!(newest[0].0.to_string(), "spec.owner");
        assert!(newest[0].1.contains("must be of type k8s-short-name"), "{newest:?}");
        assert_eq!(invalid(Some((1, 34))).len(), 1);
        assert!(invalid(Some((1, 33))).is_empty());
    }

    #[test]
    fn unknown_fields_are_found_with_a_suggestion() {
        let r = check(json!({"size": 2, "colour": "red"}));
        assert_eq!(r.unknown.len(), 1, "{r:?}");
        assert_eq!(r.unknown[0].path.to_string(), "spec.colour");
        assert_eq!(r.unknown[0].did_you_mean.as_deref(), Some("color"));
        let docs = vec![
            doc(crd()),
            doc(json!({"apiVersion": "shop.example.com/v1", "kind": "Widget",
            "metadata": {"name": "w"}, "sepc": {}})),
        ];
        let r = Schemas::from_inputs(&docs, None).check(&docs[1]).expect("covered");
        assert_eq!(r.unknown[0].path.to_string(), "sepc");
        assert_eq!(r.unknown[0].did_you_mean.as_deref(), Some("spec"));
    }

    #[test]
    fn wrong_types_enums_and_missing_fields_are_invalid() {
        let r = check(json!({"size": "2", "port": true, "color": "green"}));
        let invalid: Vec<String> = r.invalid.iter().map(|(p, m)| format!("{p}: {m}")).collect();
        assert!(
            invalid.contains(&"spec.size: invalid type: string \"2\" where integer is expected".to_string()),
            "{invalid:?}"
        );
        assert!(
            invalid.contains(&"spec.port: invalid type: boolean true where integer or string is expected".to_string()),
            "{invalid:?}"
        );
        assert!(
            invalid
                .iter()
                .any(|m| m.starts_with("spec.color: \"green\" is not one of the allowed values: \"red\", \"blue\"")),
            "{invalid:?}"
        );
        let r = check(json!({"size": 0}));
        assert_eq!(r.invalid[0].1, "0 is less than the minimum 1");
        let r = check(json!({}));
        assert_eq!(r.missing.iter().map(|p| p.to_string()).collect::<Vec<_>>(), vec!["spec.size"]);
    }

    /// A CRD whose rules are CEL: one per field, one across fields, one transition rule,
    /// one with a function kube-cel lacks, one that does not parse.
    fn cel_crd() -> Value {
        json!({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "pools.shop.example.com"},
            "spec": {"group": "shop.example.com", "names": {"kind": "Pool", "plural": "pools"}, "scope": "Namespaced",
              "versions": [{"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": {
                "type": "object",
                "properties": {
                  "spec": {"type": "object",
                    "x-kubernetes-validations": [
                      {"rule": "self.minReplicas <= self.maxReplicas", "message": "minReplicas must not exceed maxReplicas"},
                      {"rule": "self.minReplicas >= oldSelf.minReplicas", "message": "cannot shrink"},
                      {"rule": "self.noSuchFunction(1)"},
                      {"rule": "self.minReplicas >"}
                    ],
                    "properties": {
                      "minReplicas": {"type": "integer"},
                      "maxReplicas": {"type": "integer"},
                      "name": {"type": "string", "x-kubernetes-validations": [
                        {"rule": "self.matches('^[a-z]+$')", "message": "name must be lowercase letters"}
                      ]}
                    }}
                }}}}]}
        })
    }

    #[test]
    fn cel_rules_of_a_crd_are_evaluated() {
        let pool = |spec: Value| {
            doc(json!({"apiVersion": "shop.example.com/v1", "kind": "Pool", "metadata": {"name": "p"}, "spec": spec}))
        };
        let docs = vec![
            doc(cel_crd()),
            pool(json!({"minReplicas": 5, "maxReplicas": 2, "name": "Web-1"})),
            pool(json!({"minReplicas": 1, "maxReplicas": 2, "name": "web"})),
        ];
        let s = Schemas::from_inputs(&docs, None);
        let bad = s.check(&docs[1]).expect("the CRD covers Pool");
        let invalid: Vec<String> = bad.invalid.iter().map(|(p, m)| format!("{p}: {m}")).collect();
        assert!(invalid.contains(&"spec: x-kubernetes-validations rule `self.minReplicas <= self.maxReplicas` fails: minReplicas must not exceed maxReplicas".to_string()), "{invalid:?}");
        assert!(
            invalid.iter().any(|m| m.starts_with("spec.name: ") && m.contains("name must be lowercase letters")),
            "{invalid:?}"
        );
        // The transition rule needs the object's old version (none at create); the rule
        // with an unknown function and the one that does not parse are not judged.
        assert_eq!(invalid.len(), 2, "{invalid:?}");
        // A Pool that keeps the rules has nothing.
        let good = s.check(&docs[2]).expect("the CRD covers Pool");
        assert!(good.invalid.is_empty(), "{good:?}");
        // The rule that does not parse is said once.
        assert_eq!(s.notes().len(), 1, "{:?}", s.notes());
        assert!(
            s.notes()[0].starts_with("CRD pools.shop.example.com: 1 of 5 x-kubernetes-validations rules of Pool"),
            "{:?}",
            s.notes()
        );
    }

    #[test]
    fn preserved_and_free_form_fields_are_not_unknown() {
        let r = check(json!({"size": 1, "extra": {"known": "x", "other": 1}, "labels": {"80": "x"}}));
        assert!(r.unknown.is_empty(), "{r:?}");
    }

    #[test]
    fn kinds_without_a_crd_are_listed_once_and_not_checked() {
        let docs = vec![
            doc(json!({"apiVersion": "cert-manager.io/v1", "kind": "Certificate", "metadata": {"name": "a"}})),
            doc(json!({"apiVersion": "cert-manager.io/v1", "kind": "Certificate", "metadata": {"name": "b"}})),
            doc(json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "c"}})),
            doc(json!({"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization"})),
            doc(
                json!({"apiVersion": "constraints.gatekeeper.sh/v1beta1", "kind": "K8sRequiredLabels", "metadata": {"name": "d"}}),
            ),
        ];
        let s = Schemas::from_inputs(&docs, None);
        assert!(docs.iter().all(|d| s.check(d).is_none()));
        assert_eq!(
            s.unchecked(&docs),
            vec![
                "2 objects of kind Certificate (cert-manager.io/v1) not schema-checked: no CRD found; pass --crds DIR",
                "1 object of kind K8sRequiredLabels (constraints.gatekeeper.sh/v1beta1) not schema-checked: no ConstraintTemplate or CRD found; pass the ConstraintTemplate with the inputs or --crds DIR (from a cluster: `kubectl get crd k8srequiredlabels.constraints.gatekeeper.sh -o yaml`)",
            ]
        );
    }

    /// A Gatekeeper constraint is checked against the schema its ConstraintTemplate makes,
    /// whether the template is among the inputs or given with `--crds`; the template itself
    /// against Gatekeeper's fields, unless a CRD of it is given.
    #[test]
    fn gatekeeper_constraints_are_checked_against_their_templates() {
        let template_named = |name: &str| {
            doc(json!({
                "apiVersion": "templates.gatekeeper.sh/v1", "kind": "ConstraintTemplate", "metadata": {"name": name},
                "spec": {"crd": {"spec": {"names": {"kind": "K8sReplicas"}, "validation": {"openAPIV3Schema": {
                    "type": "object", "properties": {"max": {"type": "integer"}}}}}},
                  "targets": [{"target": "admission.k8s.gatekeeper.sh", "rego": "package k8sreplicas"}]}
            }))
        };
        let template = template_named("k8sreplicas");
        let constraint = doc(json!({
            "apiVersion": "constraints.gatekeeper.sh/v1beta1", "kind": "K8sReplicas", "metadata": {"name": "max-ten"},
            "spec": {"match": {"excludedNamespace": ["kube-system"]}, "parameters": {"max": "10", "min": 1}}
        }));
        let expect = |r: SchemaReport| {
            let unknown: Vec<String> = r.unknown.iter().map(|u| u.path.to_string()).collect();
            assert_eq!(unknown, vec!["spec.match.excludedNamespace", "spec.parameters.min"], "{r:?}");
            assert_eq!(r.unknown[0].did_you_mean.as_deref(), Some("excludedNamespaces"));
            assert_eq!(r.invalid.len(), 1, "{r:?}");
            assert_eq!(r.invalid[0].0.to_string(), "spec.parameters.max");
            assert_eq!(r.source.as_deref(), Some("ConstraintTemplate k8sreplicas"));
        };
        let docs = vec![template.clone(), constraint.clone()];
        let s = Schemas::from_inputs(&docs, None);
        expect(s.check(&docs[1]).expect("the template covers K8sReplicas"));
        let t = s.check(&docs[0]).expect("Gatekeeper's own fields cover the template");
        assert!(t.unknown.is_empty() && t.invalid.is_empty(), "{t:?}");
        let alone = vec![constraint];
        let s = Schemas::build(&alone, std::slice::from_ref(&template), None, None).expect("no schema dir");
        expect(s.check(&alone[0]).expect("--crds covers K8sReplicas"));
        assert!(s.unchecked(&alone).is_empty());
        // A template misnamed for its kind.
        let docs = vec![template_named("k8s-replicas")];
        let r = Schemas::from_inputs(&docs, None).check(&docs[0]).expect("covered");
        assert_eq!(r.invalid.len(), 1, "{r:?}");
        assert_eq!(r.invalid[0].0.to_string(), "metadata.name");
        assert!(r.invalid[0].1.contains("`k8sreplicas` for K8sReplicas"), "{r:?}");
    }

    #[test]
    fn a_broken_crd_schema_is_a_note_not_a_panic() {
        let mut bad = crd();
        bad["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["size"] =
            json!({"type": "integer", "pattern": "(unclosed"});
        let docs = vec![doc(bad), doc(widget(json!({"size": 1})))];
        let s = Schemas::from_inputs(&docs, None);
        assert!(s.check(&docs[1]).is_none());
        assert_eq!(s.notes().len(), 1, "{:?}", s.notes());
        assert!(
            s.notes()[0]
                .starts_with("CRD widgets.shop.example.com: the schema of Widget (shop.example.com/v1) cannot be used")
        );
        assert!(s.unchecked(&docs).is_empty(), "the note already says it");
    }

    #[test]
    fn go_patterns_and_pruned_nulls_do_not_break_a_crd() {
        let mut c = crd();
        c["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["mode"] =
            json!({"type": "string", "pattern": "^(?i)(abort|warn)?$"});
        c["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["name"] =
            json!({"type": "string", "pattern": "^(?:[a-z]+)$"});
        let docs = vec![doc(c), doc(widget(json!({"size": 1, "mode": "ABORT", "labels": null, "name": "Bad"})))];
        let s = Schemas::from_inputs(&docs, None);
        assert!(s.notes().is_empty(), "{:?}", s.notes());
        let r = s.check(&docs[1]).expect("covered");
        // `labels: null` is pruned by the API server; the ECMA pattern still applies.
        assert_eq!(r.invalid.len(), 1, "{r:?}");
        assert_eq!(r.invalid[0].0.to_string(), "spec.name");
        assert!(has_go_inline_flags("^(?i)x$") && has_go_inline_flags("(?s:.)"));
        assert!(!has_go_inline_flags("^(?:a)(?=b)(?!c)(?<n>d)$"));
    }

    #[test]
    fn pointers_become_field_paths() {
        let v = json!({"a": [{"80": {"x/y": 1}}]});
        let segs = pointer_path(&v, "/a/0/80/x~1y").0;
        assert_eq!(segs, vec![Seg::Key("a".into()), Seg::Index(0), Seg::Key("80".into()), Seg::Key("x/y".into())]);
    }
}
