use ks_core::{Cause, EvidenceItem, EvidenceSource, Finding, Fix, RuleKind, RuleMeta, Severity, declare_rule};

use crate::facts::{ContainerProblem, pod_ref};
use crate::{Context, Rule};

declare_rule! {
    /// ### What it finds
    /// Image builds that fail resolving packages: pip `these package versions have
    /// conflicting dependencies` / `ResolutionImpossible` / `Could not find a version that
    /// satisfies the requirement`, npm `ERESOLVE`, cargo `failed to select a version`,
    /// poetry `version solving failed`, apt `Unable to locate package`. It quotes the
    /// conflict the resolver reports.
    ///
    /// ### Why it breaks
    /// Two pins cannot hold together (`pytest==9.0.2` while `pytest-asyncio 0.26.0` needs
    /// `pytest<9`), a pinned version does not exist on the index, or a peer dependency
    /// range excludes the installed version. The build stops before the image exists.
    ///
    /// ### How to confirm
    /// The build log's `The conflict is caused by:` block (pip) or `Could not resolve
    /// dependency` (npm) names both sides; `pip install -r requirements.txt` reproduces it
    /// locally.
    ///
    /// ### Fix
    /// Change one pin so both constraints hold (here `pytest==8.3.4`), or upgrade the
    /// package that constrains it; regenerate the lock file; rebuild.
    ///
    /// ### Prevention
    /// Resolve dependencies in CI with a lock file (pip-tools, poetry.lock, package-lock)
    /// and let a bot propose upgrades that keep the set consistent.
    ///
    /// ### Example
    /// `Cannot install -r requirements.txt and pytest==9.0.2 because these package versions
    /// have conflicting dependencies.` with `pytest-asyncio 0.26.0 depends on pytest<9 and
    /// >=8.2`.
    pub static META = {
        id: "KS0313",
        name: "build-dependency-conflict",
        cause: Cause::BuildDependencyConflict,
        severity: Severity::Error,
        kind: RuleKind::Runtime,
        summary: "the image build fails resolving packages",
    }
}

pub struct BuildDependencyConflict;

impl Rule for BuildDependencyConflict {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        super::crash_findings(cx, &META, Cause::BuildDependencyConflict, out, |p, f| explain(cx, p, f));
    }
}

/// The resolver's explanation: pip's `The conflict is caused by:` block, npm's `While
/// resolving` / `Found` / `Could not resolve dependency` lines.
pub fn conflict_lines(lines: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(i) = lines.iter().position(|l| l.contains("The conflict is caused by:")) {
        for l in &lines[i + 1..] {
            let t = super::strip_build_prefix(l);
            // An empty BuildKit line keeps its time stamp only.
            let t = if t.chars().all(|c| c.is_ascii_digit() || c == '.') { "" } else { t };
            if t.is_empty() || t.starts_with("To fix this") || t.starts_with("ERROR") || t.starts_with("Additionally") {
                break;
            }
            out.push(t.to_string());
        }
        return out;
    }
    for l in lines {
        let t = super::strip_build_prefix(l).trim_start_matches("npm ERR!").trim_start_matches("npm error").trim();
        if t.starts_with("While resolving:")
            || t.starts_with("Found:")
            || t.starts_with("Could not resolve dependency:")
            || t.starts_with("peer ")
            || t.starts_with("Because ")
            || t.contains("required by")
        {
            out.push(t.to_string());
        }
    }
    out.truncate(6);
    out
}

fn explain(cx: &Context<'_>, p: &ContainerProblem, f: &mut Finding) {
    let ev = cx.ev;
    let w = ev.workload_of(p.pod).clone();
    let b = super::build_facts(ev, p);
    let quote = super::short_quote(super::strip_build_prefix(&p.message));
    let conflict = conflict_lines(&p.log_tail);
    // pip: `Cannot install -r requirements.txt and pytest==9.0.2 because ...`: the pin is
    // the last requirement named.
    let req = p.details.get("req").cloned().unwrap_or_default();
    let pin =
        req.rsplit(" and ").next().map(str::trim).filter(|s| !s.is_empty() && !s.starts_with("-r")).map(str::to_string);
    let requirements = req.split_whitespace().skip_while(|t| *t != "-r").nth(1).map(str::to_string);
    let not_found = p.signature == Some("log-build-package-not-found");
    f.title = match (&pin, not_found) {
        (Some(pin), false) => {
            format!("Image build in {} {} cannot install {pin}: conflicting dependencies", w.kind, w.name)
        }
        (Some(pin), true) => format!("Image build in {} {} finds no {pin} on the package index", w.kind, w.name),
        (None, true) => format!("Image build in {} {} cannot find a package it needs", w.kind, w.name),
        (None, false) => format!("Image build in {} {} fails on conflicting dependencies", w.kind, w.name),
    };
    let because =
        if conflict.is_empty() { String::new() } else { format!(" The resolver says: {}.", conflict.join("; ")) };
    f.root_cause = if not_found {
        format!(
            "{} fails with `{quote}`: no release of the package matches the pinned version on the index the build uses (a typo, a version that was never published or was yanked, or a private index the build cannot see).{because}",
            b.head
        )
    } else {
        format!("{} fails with `{quote}`: the pinned packages cannot be installed together.{because}", b.head)
    };
    if !conflict.is_empty() {
        f.evidence.push(EvidenceItem::new(EvidenceSource::Log, conflict.join("\n"), Some(pod_ref(&ev.pods[p.pod]))));
    }
    let file = requirements.unwrap_or_else(|| "requirements.txt".to_string());
    match (&pin, not_found) {
        (Some(pin), false) => {
            let pkg = pin.split(['=', '<', '>', '!', '~', '[']).next().unwrap_or(pin);
            let constraint = conflict.iter().find(|l| l.contains(" depends on ") && l.contains(pkg)).cloned();
            f.fix.push(Fix::text(format!(
                "Change {pin} in {file} to a version that satisfies the other constraint{}, or upgrade the package that constrains {pkg}; then rebuild",
                constraint.map(|c| format!(" ({c})")).unwrap_or_default()
            )));
            f.fix.push(Fix::cmd(
                "Reproduce the resolution locally",
                format!("python -m pip install --dry-run -r {file}"),
            ));
        }
        (Some(pin), true) => f.fix.push(Fix::cmd(
            format!("See which versions the index has, then fix the pin {pin}"),
            format!("python -m pip index versions {}", pin.split(['=', '<', '>', '!', '~', '[']).next().unwrap_or(pin)),
        )),
        _ => f.fix.push(Fix::text(
            "Align the versions the resolver names (change one pin, or upgrade the package that constrains it), regenerate the lock file, and rebuild",
        )),
    }
    f.root_key = format!("build.dependency_conflict:{}:{}", w.qualified_name(), pin.unwrap_or_default());
}

#[cfg(test)]
mod tests {
    #[test]
    fn pip_conflict_block() {
        let lines: Vec<String> = [
            "ERROR: Cannot install -r requirements.txt (line 12) and pytest==9.0.2 because these package versions have conflicting dependencies.",
            "",
            "The conflict is caused by:",
            "    The user requested pytest==9.0.2",
            "    pytest-asyncio 0.26.0 depends on pytest<9 and >=8.2",
            "",
            "To fix this you could try to:",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            super::conflict_lines(&lines),
            vec!["The user requested pytest==9.0.2", "pytest-asyncio 0.26.0 depends on pytest<9 and >=8.2"]
        );
    }
}
