//! The schema of a Gatekeeper constraint kind, derived from its ConstraintTemplate the way
//! Gatekeeper derives the constraint's CRD (open-policy-agent/frameworks
//! `constraint/pkg/client/crds`: `CreateSchema`, `CreateCRD`; the match schema of the
//! `admission.k8s.gatekeeper.sh` target). A repository of policies holds the templates and
//! the constraints, never the generated CRDs, so without this a constraint's `spec.match`
//! typo (`excludeNamespaces`) or a parameter of the wrong type is only found when the
//! cluster rejects it or, worse, prunes it and the policy silently covers other objects.

use serde_json::{Value, json};

use ks_core::ManifestDoc;
use ks_core::manifest::FieldPath;

use super::schema::AbsentField;

/// The API group Gatekeeper creates constraint kinds in.
pub const CONSTRAINTS_GROUP: &str = "constraints.gatekeeper.sh";

/// The versions the generated CRD serves (`CreateCRD`: v1beta1, the storage version, and
/// v1alpha1).
const SERVED: &[&str] = &["v1beta1", "v1alpha1"];

/// The API group of ConstraintTemplates.
const TEMPLATES_GROUP: &str = "templates.gatekeeper.sh";

/// Whether a document is a Gatekeeper ConstraintTemplate.
pub fn is_constraint_template(d: &ManifestDoc) -> bool {
    is_template_kind(&d.api_version, &d.kind)
}

/// Whether `(apiVersion, kind)` is Gatekeeper's ConstraintTemplate.
pub fn is_template_kind(api_version: &str, kind: &str) -> bool {
    kind == "ConstraintTemplate" && api_version.split_once('/').is_some_and(|(g, _)| g == TEMPLATES_GROUP)
}

/// `(apiVersion, kind)` of each version of ConstraintTemplate Gatekeeper serves.
pub fn template_keys() -> impl Iterator<Item = (String, String)> {
    ["v1", "v1beta1", "v1alpha1"]
        .into_iter()
        .map(|v| (format!("{TEMPLATES_GROUP}/{v}"), "ConstraintTemplate".to_string()))
}

/// The schema of a ConstraintTemplate itself, for a run that has no Gatekeeper CRDs: the
/// fields Gatekeeper reads, so that `openAPIv3Schema` (which leaves the parameters without a
/// schema) or `target:` misspelt is an unknown field. The parameters schema and the code
/// of a target are free-form.
pub fn template_schema() -> Value {
    let strings = json!({"type": "array", "items": {"type": "string"}});
    json!({
        "type": "object",
        "properties": {
            "spec": {"type": "object", "properties": {
                "crd": {"type": "object", "properties": {"spec": {"type": "object", "properties": {
                    "names": {"type": "object", "properties": {"kind": {"type": "string"}, "shortNames": strings}},
                    "validation": {"type": "object", "properties": {
                        "legacySchema": {"type": "boolean"},
                        "openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
                    }}
                }}}},
                "targets": {"type": "array", "items": {"type": "object", "properties": {
                    "target": {"type": "string"},
                    "rego": {"type": "string"},
                    "libs": strings,
                    "code": {"type": "array", "items": {"type": "object", "required": ["engine", "source"], "properties": {
                        "engine": {"type": "string"},
                        "source": {"x-kubernetes-preserve-unknown-fields": true}
                    }}},
                    "operations": {"type": "array", "items": {"type": "string", "enum": ["*", "CREATE", "DELETE", "UPDATE", "CONNECT"]}}
                }}}
            }},
            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
        }
    })
}

/// What Gatekeeper refuses in a template beyond its schema (frameworks
/// `validateTemplateMetadata`): a kind, and a name that is the kind in lower case, since the
/// generated CRD is named after the kind. A template failing either creates no constraint
/// kind, and its constraints are rejected as of an unknown kind.
pub fn template_problems(template: &Value) -> Vec<(FieldPath, String)> {
    let name = template.pointer("/metadata/name").and_then(Value::as_str);
    let kind = template.pointer("/spec/crd/spec/names/kind").and_then(Value::as_str).unwrap_or("");
    if kind.is_empty() {
        return vec![(
            FieldPath::parse("spec.crd.spec.names"),
            "the template names no constraint kind (`spec.crd.spec.names.kind`); Gatekeeper creates nothing for it"
                .to_string(),
        )];
    }
    match name {
        Some(name) if name != kind.to_lowercase() => vec![(
            FieldPath::parse("metadata.name"),
            format!(
                "a ConstraintTemplate must be named after its kind in lower case (`{}` for {kind}); Gatekeeper creates no constraint kind for it",
                kind.to_lowercase()
            ),
        )],
        _ => Vec::new(),
    }
}

/// The schema of the constraint kind a template defines.
pub struct ConstraintSchema {
    /// `(apiVersion, kind)` for each served version.
    pub keys: Vec<(String, String)>,
    /// The OpenAPI schema of the generated CRD.
    pub schema: Value,
    /// Fields a constraint may set that this schema lacks, and why.
    pub absent: Vec<(FieldPath, AbsentField)>,
}

/// The constraint kind a template defines; `None` when the template names no kind.
pub fn constraint_schemas(template: &ManifestDoc) -> Option<ConstraintSchema> {
    let crd_spec = template.value.pointer("/spec/crd/spec")?;
    let kind = crd_spec.pointer("/names/kind").and_then(Value::as_str).filter(|k| !k.is_empty())?;
    let validation = crd_spec.get("validation");
    // The template CRD defaults `legacySchema` to true in v1beta1 and v1alpha1, to false in v1.
    let legacy = validation.and_then(|v| v.get("legacySchema")).and_then(Value::as_bool).unwrap_or_else(|| {
        let version = template.api_version.rsplit_once('/').map_or("", |(_, v)| v);
        version != "v1"
    });
    let mut parameters = validation.and_then(|v| v.get("openAPIV3Schema")).filter(|s| s.is_object()).cloned();
    if legacy {
        // A legacy schema takes parameters it does not list (`AddPreserveUnknownFields`),
        // and no schema at all takes any.
        let schema = parameters.get_or_insert_with(|| json!({}));
        preserve_unknown_fields(schema);
    }
    let mut spec_props = json!({
        "match": match_schema(),
        "enforcementAction": {"type": "string"},
        "scopedEnforcementActions": {"type": "array", "items": {"type": "object", "properties": {
            "action": {"type": "string"},
            "enforcementPoints": {"type": "array", "items": {"type": "object", "properties": {
                "name": {"type": "string"}
            }}}
        }}}
    });
    // Without a parameters schema (a v1 template), `spec.parameters` is an unknown field
    // the API server prunes: the policy runs without the parameters the constraint sets.
    let mut absent = Vec::new();
    match (parameters, spec_props.as_object_mut()) {
        (Some(p), Some(props)) => {
            props.insert("parameters".into(), p);
        }
        _ => absent.push((
            FieldPath::parse("spec.parameters"),
            AbsentField {
                reason: format!("the ConstraintTemplate {} declares no parameters", template.name),
                explanation: "A v1 ConstraintTemplate without `spec.crd.spec.validation.openAPIV3Schema` takes no parameters."
                    .to_string(),
                fix: format!(
                    "Declare the parameters in the ConstraintTemplate {}'s spec.crd.spec.validation.openAPIV3Schema, or remove `parameters`",
                    template.name
                ),
            },
        )),
    }
    let schema = json!({
        "type": "object",
        "properties": {
            "metadata": {"type": "object", "properties": {"name": {"type": "string", "maxLength": 63}}},
            "spec": {"type": "object", "properties": spec_props},
            "status": {"x-kubernetes-preserve-unknown-fields": true}
        }
    });
    let keys = SERVED.iter().map(|v| (format!("{CONSTRAINTS_GROUP}/{v}"), kind.to_string())).collect();
    Some(ConstraintSchema { keys, schema, absent })
}

/// `x-kubernetes-preserve-unknown-fields: true` on every object or untyped node, and an
/// item schema that takes anything for an array that has none (frameworks
/// `schema.AddPreserveUnknownFields`).
fn preserve_unknown_fields(node: &mut Value) {
    let Value::Object(m) = node else { return };
    match m.get("type").and_then(Value::as_str).unwrap_or("") {
        "" | "object" => {
            m.insert("x-kubernetes-preserve-unknown-fields".into(), Value::Bool(true));
        }
        "array" if !m.get("items").is_some_and(Value::is_object) => {
            m.insert("items".into(), json!({"x-kubernetes-preserve-unknown-fields": true}));
        }
        _ => {}
    }
    if let Some(Value::Object(props)) = m.get_mut("properties") {
        props.values_mut().for_each(preserve_unknown_fields);
    }
    if let Some(items @ Value::Object(_)) = m.get_mut("items") {
        preserve_unknown_fields(items);
    }
    if let Some(extra @ Value::Object(_)) = m.get_mut("additionalProperties") {
        preserve_unknown_fields(extra);
    }
}

/// `spec.match` of a constraint of the Kubernetes admission target. Gatekeeper's releases
/// differ in the details (older ones restrict `scope` to an enum and name patterns to
/// `kube-*`/`*-system` globs; newer ones add `source` and `processes`); this is the union,
/// with each field as permissive as its most permissive release, so what it rejects every
/// release rejects. The selector operators are an enum in some releases' schema and checked
/// by every release's constraint validation (`ValidateLabelSelector`).
fn match_schema() -> Value {
    let glob_list = json!({"type": "array", "items": {"type": "string", "pattern": "^\\*?[-:a-z0-9]*\\*?$"}});
    let strings = json!({"type": "array", "items": {"type": "string", "nullable": true}});
    let selector = json!({
        "type": "object",
        "properties": {
            "matchLabels": {"type": "object", "additionalProperties": {"type": "string"}},
            "matchExpressions": {"type": "array", "items": {
                "type": "object",
                "required": ["key", "operator"],
                "properties": {
                    "key": {"type": "string"},
                    "operator": {"type": "string", "enum": ["In", "NotIn", "Exists", "DoesNotExist"]},
                    "values": {"type": "array", "items": {"type": "string"}}
                }
            }}
        }
    });
    json!({
        "type": "object",
        "properties": {
            "kinds": {"type": "array", "items": {"type": "object", "properties": {
                "apiGroups": strings,
                "kinds": strings
            }}},
            "namespaces": glob_list,
            "excludedNamespaces": glob_list,
            "labelSelector": selector,
            "namespaceSelector": selector,
            "scope": {"type": "string"},
            "name": {"type": "string", "pattern": "^\\*?[-:a-z0-9]*\\*?$"},
            "source": {"type": "string", "enum": ["All", "Generated", "Original"]},
            "processes": {"type": "array", "items": {"type": "string"}}
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::test_doc as doc;

    fn template(api: &str, validation: Value) -> ManifestDoc {
        doc(json!({
            "apiVersion": api, "kind": "ConstraintTemplate", "metadata": {"name": "k8srequiredlabels"},
            "spec": {"crd": {"spec": {"names": {"kind": "K8sRequiredLabels"}, "validation": validation}},
                     "targets": [{"target": "admission.k8s.gatekeeper.sh", "rego": "package k8srequiredlabels"}]}
        }))
    }

    #[test]
    fn served_versions_and_the_parameters_schema() {
        let labels =
            json!({"type": "object", "properties": {"labels": {"type": "array", "items": {"type": "string"}}}});
        let c = constraint_schemas(&template("templates.gatekeeper.sh/v1", json!({"openAPIV3Schema": labels.clone()})))
            .expect("a kind");
        assert!(c.absent.is_empty());
        let schema = c.schema;
        assert_eq!(
            c.keys,
            vec![
                ("constraints.gatekeeper.sh/v1beta1".to_string(), "K8sRequiredLabels".to_string()),
                ("constraints.gatekeeper.sh/v1alpha1".to_string(), "K8sRequiredLabels".to_string())
            ]
        );
        // v1: not legacy, the schema as written.
        assert_eq!(schema["properties"]["spec"]["properties"]["parameters"], labels);
        // v1beta1: legacy by default, unknown parameters kept at every object level.
        let schema =
            constraint_schemas(&template("templates.gatekeeper.sh/v1beta1", json!({"openAPIV3Schema": labels})))
                .expect("a kind")
                .schema;
        let p = &schema["properties"]["spec"]["properties"]["parameters"];
        assert_eq!(p["x-kubernetes-preserve-unknown-fields"], true);
        assert_eq!(p["properties"]["labels"]["items"], json!({"type": "string"}));
    }

    #[test]
    fn without_a_schema_parameters_are_free_in_legacy_templates_and_unknown_in_v1() {
        let v1 = constraint_schemas(&template("templates.gatekeeper.sh/v1", json!({}))).expect("a kind");
        assert!(v1.schema["properties"]["spec"]["properties"].get("parameters").is_none());
        assert_eq!(v1.absent.len(), 1);
        assert_eq!(v1.absent[0].0.to_string(), "spec.parameters");
        assert_eq!(v1.absent[0].1.reason, "the ConstraintTemplate k8srequiredlabels declares no parameters");
        let legacy =
            constraint_schemas(&template("templates.gatekeeper.sh/v1", json!({"legacySchema": true}))).expect("a kind");
        assert!(legacy.absent.is_empty());
        assert_eq!(
            legacy.schema["properties"]["spec"]["properties"]["parameters"],
            json!({"x-kubernetes-preserve-unknown-fields": true})
        );
    }

    #[test]
    fn an_array_without_items_takes_anything_in_a_legacy_schema() {
        let mut s = json!({"type": "object", "properties": {"list": {"type": "array"}, "n": {"type": "integer"}}});
        preserve_unknown_fields(&mut s);
        assert_eq!(s["properties"]["list"]["items"], json!({"x-kubernetes-preserve-unknown-fields": true}));
        assert_eq!(s["properties"]["n"], json!({"type": "integer"}));
    }

    #[test]
    fn a_template_without_a_kind_defines_nothing() {
        let t = doc(json!({"apiVersion": "templates.gatekeeper.sh/v1", "kind": "ConstraintTemplate",
            "metadata": {"name": "x"}, "spec": {"crd": {"spec": {"names": {}}}}}));
        assert!(constraint_schemas(&t).is_none());
        assert!(is_constraint_template(&t));
    }
}
