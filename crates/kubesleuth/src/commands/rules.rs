use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use ks_core::RuleMeta;
use ks_rules::{RULES, find_rule};

use crate::cli::{RulesArgs, RulesFormat};

/// The Markdown page of one rule (what `kubesleuth rules ID` prints and docs/rules holds).
pub fn rule_page(m: &RuleMeta) -> String {
    format!(
        "# {} {}\n\n- cause: `{}`\n- severity: {}\n- kind: {}\n\n{}\n\n{}",
        m.id,
        m.name,
        m.cause,
        m.severity,
        match m.kind {
            ks_core::RuleKind::Runtime => "runtime (status, events, logs)",
            ks_core::RuleKind::Static => "static (manifests)",
            ks_core::RuleKind::Local => "local (the developer's machine)",
            ks_core::RuleKind::Drift => "drift (manifests vs the cluster)",
        },
        m.summary,
        m.docs_text().trim_end()
    ) + "\n"
}

pub fn run(args: &RulesArgs) -> anyhow::Result<ExitCode> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if let Some(dir) = &args.write_docs {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        for r in RULES.iter() {
            let m = r.meta();
            let path = dir.join(format!("{}.md", m.id));
            std::fs::write(&path, rule_page(m)).with_context(|| format!("cannot write {}", path.display()))?;
        }
        writeln!(out, "wrote {} rule pages to {}", RULES.len(), dir.display())?;
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(id) = &args.rule {
        let Some(rule) = find_rule(id) else {
            bail!("no rule named {id}; `kubesleuth rules` lists them");
        };
        let m = rule.meta();
        if args.format == RulesFormat::Json {
            serde_json::to_writer_pretty(&mut out, &meta_json(m))?;
            writeln!(out)?;
        } else {
            write!(out, "{}", rule_page(m))?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    if args.format == RulesFormat::Json {
        let all: Vec<_> = RULES.iter().map(|r| meta_json(r.meta())).collect();
        serde_json::to_writer_pretty(&mut out, &all)?;
        writeln!(out)?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(out, "{:<7} {:<32} {:<8} {:<30} SUMMARY", "ID", "NAME", "SEVERITY", "CAUSE")?;
    for r in RULES.iter() {
        let m = r.meta();
        writeln!(out, "{:<7} {:<32} {:<8} {:<30} {}", m.id, m.name, m.severity.as_str(), m.cause.as_str(), m.summary)?;
    }
    writeln!(out, "\n{} rules. `kubesleuth rules ID` shows one rule's docs.", RULES.len())?;
    Ok(ExitCode::SUCCESS)
}

fn meta_json(m: &RuleMeta) -> serde_json::Value {
    serde_json::json!({
        "id": m.id,
        "name": m.name,
        "cause": m.cause.as_str(),
        "severity": m.severity.as_str(),
        "summary": m.summary,
        "docs": m.docs_text(),
    })
}
