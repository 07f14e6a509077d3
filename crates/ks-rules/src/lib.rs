//! kubesleuth's rules. One rule per file, its docs in its doc comment; message signatures
//! are data in [`signatures`]; facts every rule shares are derived once in [`facts`].
//!
//! The catalogue is [`registry::RULES`]: `kubesleuth rules`, generated docs and the tests
//! all read it.

pub mod facts;
pub mod registry;
pub mod signatures;
pub mod util;

pub mod admission;
pub mod cert;
pub mod config;
pub mod crash;
pub mod dev;
pub mod drift;
pub mod image;
pub mod lint;
pub mod net;
pub mod node;
pub mod sched;
pub mod security;
pub mod volume;
pub mod workload;

use ks_core::{Evidence, Finding, RuleMeta};

pub use facts::Facts;
pub use registry::{RULES, find_rule};

/// What a rule sees: the evidence and the facts derived from it once.
pub struct Context<'a> {
    pub ev: &'a Evidence,
    pub facts: Facts,
    /// Pod-creation refusals, collected once for the six rules that read them
    /// (see [`admission::create_failures`]).
    create_failures: std::sync::OnceLock<Vec<admission::CreateFailure>>,
    /// Schema reports, one per `ev.manifests` document, computed once for the schema rules.
    schema: std::sync::OnceLock<Vec<lint::schema::SchemaReport>>,
    /// JSON schemas of custom resources (CRDs) and of `lint --schema-dir`, compiled once:
    /// the caller's, or those of the CRDs among the inputs.
    given_schemas: Option<&'a lint::json_schema::Schemas>,
    schemas: std::sync::OnceLock<lint::json_schema::Schemas>,
    /// Drift of every manifest document against the cluster, computed once.
    drift: std::sync::OnceLock<Vec<Option<drift::DocDrift>>>,
    /// What the bundle defines and its pod templates, built once for the KS11xx rules.
    xref: std::sync::OnceLock<lint::xref_bundle::Xref<'a>>,
    /// Pod templates of the manifest documents, read once for the rules that walk them.
    pod_templates: std::sync::OnceLock<Vec<lint::pod_templates::PodTemplate<'a>>>,
}

impl<'a> Context<'a> {
    pub fn new(ev: &'a Evidence) -> Context<'a> {
        Context {
            ev,
            facts: Facts::derive(ev),
            create_failures: std::sync::OnceLock::new(),
            schema: std::sync::OnceLock::new(),
            given_schemas: None,
            schemas: std::sync::OnceLock::new(),
            drift: std::sync::OnceLock::new(),
            xref: std::sync::OnceLock::new(),
            pod_templates: std::sync::OnceLock::new(),
        }
    }

    /// Every pod template (and bare Pod) of the manifest documents.
    pub fn pod_templates(&self) -> &[lint::pod_templates::PodTemplate<'a>] {
        self.pod_templates.get_or_init(|| lint::pod_templates::pod_templates(self.ev))
    }

    /// The bundle's definitions and pod templates, for the cross-reference rules (KS11xx).
    pub fn xref(&self) -> &lint::xref_bundle::Xref<'a> {
        self.xref.get_or_init(|| lint::xref_bundle::Xref::build(self.ev, self.pod_templates().to_vec()))
    }

    /// Drift of every manifest document (same order as `ev.manifests`).
    pub fn drift(&self) -> &[Option<drift::DocDrift>] {
        self.drift.get_or_init(|| drift::compare_all(self.ev, self.schema()))
    }

    /// A context whose documents are checked against `schemas` (`lint --crds/--schema-dir`)
    /// instead of only the CRDs among the inputs.
    pub fn with_schemas(ev: &'a Evidence, schemas: &'a lint::json_schema::Schemas) -> Context<'a> {
        Context { given_schemas: Some(schemas), ..Context::new(ev) }
    }

    /// The JSON schemas documents are checked against: those given, or the CRDs among the
    /// inputs.
    pub fn schemas(&self) -> &lint::json_schema::Schemas {
        match self.given_schemas {
            Some(given) => given,
            None => self
                .schemas
                .get_or_init(|| lint::json_schema::Schemas::from_inputs(&self.ev.manifests, self.ev.kube_version)),
        }
    }

    /// The schema report of every manifest document (same order as `ev.manifests`): against
    /// its JSON schema when one applies, else the k8s-openapi types.
    pub fn schema(&self) -> &[lint::schema::SchemaReport] {
        self.schema.get_or_init(|| {
            use rayon::prelude::*;
            let schemas = self.schemas();
            // A document repeated byte for byte in other files shares its value (see
            // `ks_core::yaml::DocCache`) and is checked once: the report depends on the
            // value alone.
            let mut first: std::collections::HashMap<*const serde_json::Value, usize> = Default::default();
            let firsts: Vec<usize> = self
                .ev
                .manifests
                .iter()
                .enumerate()
                .map(|(i, d)| *first.entry(std::sync::Arc::as_ptr(&d.value)).or_insert(i))
                .collect();
            let mut reports: Vec<Option<lint::schema::SchemaReport>> = firsts
                .par_iter()
                .enumerate()
                .map(|(i, &f)| {
                    let d = &self.ev.manifests[i];
                    (f == i).then(|| schemas.check(d).unwrap_or_else(|| lint::schema::check(d)))
                })
                .collect();
            for (i, &f) in firsts.iter().enumerate() {
                if f != i {
                    reports[i] = reports[f].clone();
                }
            }
            // Every report is set: a repeat's comes from an earlier document's.
            reports.into_iter().map(Option::unwrap_or_default).collect()
        })
    }
}

/// A rule: a pure function from evidence to findings.
pub trait Rule: Sync + Send {
    fn meta(&self) -> &'static RuleMeta;
    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>);
}

/// Run every runtime rule over the evidence. Findings are per pod or object; correlation
/// folds them.
pub fn run(ev: &Evidence) -> Vec<Finding> {
    run_kind(ev, ks_core::RuleKind::Runtime)
}

/// Run the rules of one kind: `Runtime` for scans, `Static` for `lint`.
pub fn run_kind(ev: &Evidence, kind: ks_core::RuleKind) -> Vec<Finding> {
    run_in(&Context::new(ev), kind)
}

/// [`run_kind`] with the JSON schemas of `lint --crds/--schema-dir`.
/// The caller keeps `schemas`: compiled schemas are trees of many small allocations, and
/// freeing them took a twentieth of a corpus lint, which a CLI about to exit can skip.
pub fn run_kind_with(ev: &Evidence, kind: ks_core::RuleKind, schemas: &lint::json_schema::Schemas) -> Vec<Finding> {
    run_in(&Context::with_schemas(ev, schemas), kind)
}

fn run_in(cx: &Context<'_>, kind: ks_core::RuleKind) -> Vec<Finding> {
    let rules: Vec<&dyn Rule> = RULES.iter().copied().filter(|r| r.meta().kind == kind).collect();
    let run = |rule: &&dyn Rule| {
        let mut out = Vec::new();
        rule.check(cx, &mut out);
        out
    };
    if kind != ks_core::RuleKind::Static {
        return rules.iter().flat_map(run).collect();
    }
    // The static rules run in parallel (one large bundle is lint's heavy case). What they
    // share is filled first: those fills run in parallel themselves, and a worker waiting
    // for one inside a `OnceLock` could pick up a rule that waits on the same lock.
    cx.schema();
    cx.pod_templates();
    cx.xref();
    use rayon::prelude::*;
    // `collect` keeps the catalog order, so the output does not depend on scheduling.
    let per_rule: Vec<Vec<Finding>> = rules.par_iter().map(run).collect();
    per_rule.into_iter().flatten().collect()
}
