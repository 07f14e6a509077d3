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
pub mod image;
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
}

impl<'a> Context<'a> {
    pub fn new(ev: &'a Evidence) -> Context<'a> {
        Context { ev, facts: Facts::derive(ev), create_failures: std::sync::OnceLock::new() }
    }
}

/// A rule: a pure function from evidence to findings.
pub trait Rule: Sync + Send {
    fn meta(&self) -> &'static RuleMeta;
    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>);
}

/// Run every rule over the evidence. Findings are per pod or object; correlation folds them.
pub fn run(ev: &Evidence) -> Vec<Finding> {
    let cx = Context::new(ev);
    let mut out = Vec::new();
    for rule in RULES.iter() {
        rule.check(&cx, &mut out);
    }
    out
}
