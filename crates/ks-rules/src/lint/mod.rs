//! Static rules over manifests (`kubesleuth lint`): the API schema, removed API versions,
//! and the mistakes the seeds made before anything was deployed. Findings point at the file,
//! line and column of the offending field.

pub mod container_field_at_pod_level;
pub mod duplicate_key;
mod formats;
pub mod gatekeeper;
mod ignored;
pub mod injected_sidecars;
pub mod invalid_field_value;
pub mod json_schema;
pub mod liveness_same_as_readiness;
pub mod liveness_too_early;
pub mod missing_downward_env;
pub mod mutable_tag_if_not_present;
pub mod no_resource_requests;
pub mod pod_templates;
pub mod private_image_no_pull_secret;
pub mod provider_lb_annotation;
pub mod removed_api_version;
pub mod run_as_non_root_uid0;
pub mod schema;
pub mod unknown_field;
pub mod xref_bundle;
pub mod xref_configmap_key_missing;
pub mod xref_configmap_missing;
pub mod xref_hpa_target_missing;
pub mod xref_ingress;
pub mod xref_ingress_class;
pub mod xref_ingress_port_missing;
pub mod xref_ingress_service_missing;
pub mod xref_pvc_missing;
pub mod xref_refs;
pub mod xref_secret_key_missing;
pub mod xref_secret_missing;
pub mod xref_selector_mismatch;
pub mod xref_service_account_missing;
pub mod xref_service_selector;
pub mod xref_service_target_port_name;
pub mod xref_service_target_port_number;
pub mod xref_services;

use ks_core::manifest::FieldPath;
use ks_core::{EvidenceItem, EvidenceSource, Finding, ManifestDoc, RuleMeta};

use crate::{Rule, util};

/// This area's rules; the registry concatenates every area's list.
pub static RULES: &[&dyn Rule] = &[
    &unknown_field::UnknownField,
    &invalid_field_value::InvalidFieldValue,
    &duplicate_key::DuplicateKey,
    &removed_api_version::RemovedApiVersion,
    &container_field_at_pod_level::ContainerFieldAtPodLevel,
    &missing_downward_env::SiblingMissingDownwardEnv,
    &run_as_non_root_uid0::RunAsNonRootWithUid0,
    &injected_sidecars::PodUserBreaksInjectedSidecar,
    &provider_lb_annotation::ProviderLbAnnotationPinned,
    &mutable_tag_if_not_present::MutableTagIfNotPresent,
    &private_image_no_pull_secret::PrivateImageWithoutPullSecret,
    &no_resource_requests::NoResourceRequests,
    &liveness_same_as_readiness::LivenessSameAsReadiness,
    &liveness_too_early::LivenessTooEarly,
    &xref_secret_missing::SecretNotInBundle,
    &xref_secret_key_missing::SecretKeyNotInBundleSecret,
    &xref_configmap_missing::ConfigMapNotInBundle,
    &xref_configmap_key_missing::ConfigMapKeyNotInBundleConfigMap,
    &xref_service_account_missing::ServiceAccountNotInBundle,
    &xref_pvc_missing::PvcNotInBundle,
    &xref_service_selector::ServiceSelectorMatchesNoTemplate,
    &xref_service_target_port_name::ServiceTargetPortNameUndeclared,
    &xref_service_target_port_number::ServiceTargetPortUndeclared,
    &xref_ingress_service_missing::IngressServiceNotInBundle,
    &xref_ingress_port_missing::IngressServicePortMissing,
    &xref_ingress_class::IngressClassUnset,
    &xref_selector_mismatch::SelectorDoesNotMatchTemplate,
    &xref_hpa_target_missing::HpaTargetNotInBundle,
];

/// A finding on one manifest document, located at `path`, quoting the line it points at.
pub fn doc_finding(
    meta: &'static RuleMeta,
    doc: &ManifestDoc,
    path: &FieldPath,
    title: impl Into<String>,
    root_cause: impl Into<String>,
) -> Finding {
    let mut f = util::finding(meta, doc.object_ref(), title, root_cause);
    let loc = doc.locate(path);
    f.evidence.push(quote_line(doc, &loc));
    f.location = Some(loc);
    f.root_key = format!("{}:{}:{}", meta.id, doc.key_string(), path);
    f
}

/// The line a location points at, quoted as evidence.
pub fn quote_line(doc: &ManifestDoc, loc: &ks_core::finding::Location) -> EvidenceItem {
    let line = loc.source_line.as_deref().unwrap_or("").trim();
    EvidenceItem::new(EvidenceSource::Manifest, format!("{}:{}: {}", loc.file, loc.line, line), Some(doc.object_ref()))
}

/// `Deployment shop/backend` for messages.
pub fn doc_name(doc: &ManifestDoc) -> String {
    match &doc.namespace {
        Some(ns) => format!("{} {}/{}", doc.kind, ns, doc.name),
        None => format!("{} {}", doc.kind, doc.name),
    }
}

/// The pod spec path of a workload kind (`spec.template.spec` for a Deployment).
pub fn pod_spec_path(kind: &str) -> Option<FieldPath> {
    pod_spec_str(kind).map(FieldPath::parse)
}

/// [`pod_spec_path`] as written (`spec.template.spec`).
pub fn pod_spec_str(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "Pod" => "spec",
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" | "ReplicationController" => {
            "spec.template.spec"
        }
        "CronJob" => "spec.jobTemplate.spec.template.spec",
        "PodTemplate" => "template.spec",
        _ => return None,
    })
}

/// A document for unit tests: `value` as if read from `t.yaml`, named by its metadata.
#[cfg(test)]
pub(crate) fn test_doc(value: serde_json::Value) -> ManifestDoc {
    let meta =
        |k: &str| value.pointer(&format!("/metadata/{k}")).and_then(serde_json::Value::as_str).map(str::to_string);
    ManifestDoc {
        file: "t.yaml".into(),
        text: std::sync::Arc::from(""),
        start_line: 1,
        end_line: 1,
        start_byte: 0,
        api_version: value["apiVersion"].as_str().unwrap_or_default().to_string(),
        kind: value["kind"].as_str().unwrap_or_default().to_string(),
        namespace: meta("namespace"),
        name: meta("name").unwrap_or_default(),
        template: None,
        duplicate_keys: Vec::new(),
        prefix: FieldPath::default(),
        positions: Default::default(),
        value: value.into(),
    }
}
