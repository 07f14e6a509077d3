//! `--format html`: one self-contained page (inline CSS, no script, no external resource) to
//! attach to a ticket or publish as a CI artifact.
//!
//! Findings quote text from logs, events and manifests, which anyone who can write a log
//! line controls: every string goes through [`escape`], attribute values are always
//! double-quoted, ids are built from indexes only, and a Content-Security-Policy forbids
//! scripts in case something slips through.

use std::io::{self, Write};

use ks_core::{Finding, RuleMeta};

use crate::{Emitter, Report, short_ref, summary_line};

pub struct Html<'a> {
    /// The catalogue, for each fired rule's docs; may be empty.
    pub rules: &'a [&'static RuleMeta],
}

/// Escape text for HTML element content and double- or single-quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // NUL and other C0 controls (except tab and newlines) are HTML parse errors;
            // show them as the replacement character.
            '\0'..='\x08' | '\x0b' | '\x0c' | '\x0e'..='\x1f' | '\x7f' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = r#"
:root { color-scheme: light dark; --fg: #1f2328; --bg: #ffffff; --muted: #59636e; --line: #d1d9e0;
  --code: #f6f8fa; --error: #cf222e; --warning: #9a6700; --info: #0969da; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --bg: #0d1117; --muted: #9198a1;
  --line: #3d444d; --code: #151b23; --error: #ff7b72; --warning: #d29922; --info: #4493f8; } }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg);
  background: var(--bg); max-width: 60rem; margin: 0 auto; padding: 1rem 1.5rem 3rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h2 { font-size: 1.15rem; margin: 0 0 .6rem; }
h3 { font-size: 1rem; margin: 1rem 0 .3rem; }
code, pre { font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre { background: var(--code); padding: .6rem .8rem; border-radius: 6px; white-space: pre-wrap;
  overflow-wrap: anywhere; margin: .3rem 0; }
.summary { font-weight: 600; }
.muted { color: var(--muted); }
.finding { border: 1px solid var(--line); border-left: 6px solid var(--muted); border-radius: 6px;
  padding: 1rem 1.2rem; margin: 1.2rem 0; }
.finding.error { border-left-color: var(--error); }
.finding.warning { border-left-color: var(--warning); }
.finding.info { border-left-color: var(--info); }
.sev { display: inline-block; font-size: .8rem; font-weight: 700; text-transform: uppercase;
  padding: 0 .4rem; border-radius: 4px; color: #fff; background: var(--muted); }
.sev.error { background: var(--error); } .sev.warning { background: var(--warning); }
.sev.info { background: var(--info); }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .1rem 1rem; margin: .4rem 0; }
dl.meta dt { color: var(--muted); }
dl.meta dd { margin: 0; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; border-top: 1px solid var(--line); padding: .3rem .5rem; }
td.text { overflow-wrap: anywhere; }
td.obj { white-space: nowrap; }
ol.fix { padding-left: 1.3rem; }
details { margin-top: .8rem; }
nav ol { padding-left: 1.3rem; }
"#;

impl Emitter for Html<'_> {
    fn emit(&self, report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
        let summary = summary_line(&report.summary);
        writeln!(out, "<!DOCTYPE html>")?;
        writeln!(out, "<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">")?;
        writeln!(out, "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")?;
        writeln!(
            out,
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        )?;
        writeln!(out, "<meta name=\"generator\" content=\"kubesleuth {}\">", escape(report.tool_version))?;
        writeln!(out, "<title>kubesleuth report: {}</title>", escape(&summary))?;
        writeln!(out, "<style>{STYLE}</style>\n</head>\n<body>")?;
        writeln!(out, "<header>\n<h1>kubesleuth report</h1>")?;
        writeln!(out, "<p class=\"summary\">{}</p>\n</header>", escape(&summary))?;

        if report.findings.is_empty() {
            writeln!(out, "<p>No problems found.</p>")?;
        } else {
            writeln!(out, "<nav>\n<ol>")?;
            for (i, f) in report.findings.iter().enumerate() {
                writeln!(
                    out,
                    "<li><a href=\"#finding-{}\"><span class=\"sev {sev}\">{sev}</span> <code>{}</code> {}</a> \
                     <span class=\"muted\">{}</span></li>",
                    i + 1,
                    escape(&f.rule),
                    escape(&f.title),
                    escape(&f.object.to_string()),
                    sev = f.severity.as_str(),
                )?;
            }
            writeln!(out, "</ol>\n</nav>\n<main>")?;
            for (i, f) in report.findings.iter().enumerate() {
                self.finding(i + 1, f, out)?;
            }
            writeln!(out, "</main>")?;
        }

        if !report.gaps.is_empty() {
            writeln!(out, "<section>\n<h2>Inputs that could not be read</h2>\n<ul>")?;
            for g in report.gaps {
                writeln!(out, "<li><code>{}</code></li>", escape(&g.to_string()))?;
            }
            writeln!(out, "</ul>\n</section>")?;
        }
        writeln!(
            out,
            "<footer class=\"muted\"><p>kubesleuth {}. <code>kubesleuth rules ID</code> prints a rule's docs.</p></footer>",
            escape(report.tool_version)
        )?;
        writeln!(out, "</body>\n</html>")
    }
}

impl Html<'_> {
    fn finding(&self, n: usize, f: &Finding, out: &mut dyn Write) -> io::Result<()> {
        let sev = f.severity.as_str();
        writeln!(out, "<article class=\"finding {sev}\" id=\"finding-{n}\">")?;
        writeln!(
            out,
            "<h2><span class=\"sev {sev}\">{sev}</span> <code>{}</code> {}</h2>",
            escape(&f.rule),
            escape(&f.title)
        )?;
        writeln!(out, "<dl class=\"meta\">")?;
        let scope = f.scope.as_ref().map(|s| format!(" ({s})")).unwrap_or_default();
        writeln!(out, "<dt>Object</dt><dd>{}</dd>", escape(&format!("{}{scope}", f.object)))?;
        if let Some(l) = &f.location {
            let at = format!("{}:{}:{}", l.file, l.line, l.column);
            writeln!(out, "<dt>Location</dt><dd><code>{}</code></dd>", escape(&at))?;
        }
        writeln!(out, "<dt>Cause</dt><dd><code>{}</code></dd>", escape(f.cause.as_str()))?;
        writeln!(out, "<dt>Rule</dt><dd><code>{} {}</code></dd>", escape(&f.rule), escape(&f.name))?;
        let only_itself = f.affected.len() == 1 && f.affected[0] == f.object;
        if !f.affected.is_empty() && !only_itself {
            let names: Vec<String> =
                f.affected.iter().map(|a| format!("<code>{}</code>", escape(&short_ref(a)))).collect();
            writeln!(out, "<dt>Affected</dt><dd>{}</dd>", names.join(", "))?;
        }
        if !f.related.is_empty() {
            let names: Vec<String> = f.related.iter().map(|a| escape(&a.to_string())).collect();
            writeln!(out, "<dt>Related</dt><dd>{}</dd>", names.join(", "))?;
        }
        writeln!(out, "</dl>")?;
        for para in f.root_cause.split("\n\n").filter(|p| !p.trim().is_empty()) {
            writeln!(out, "<p>{}</p>", escape(para.trim()))?;
        }

        if !f.evidence.is_empty() {
            writeln!(out, "<h3>Evidence</h3>\n<table>\n<tr><th>source</th><th>object</th><th>text</th></tr>")?;
            for e in &f.evidence {
                let obj = e.object.as_ref().map(short_ref).unwrap_or_default();
                writeln!(
                    out,
                    "<tr><td>{}</td><td class=\"obj\"><code>{}</code></td><td class=\"text\"><code>{}</code></td></tr>",
                    escape(e.source.as_str()),
                    escape(&obj),
                    escape(&e.text)
                )?;
            }
            writeln!(out, "</table>")?;
        }
        if !f.fix.is_empty() {
            writeln!(out, "<h3>Fix</h3>\n<ol class=\"fix\">")?;
            for fx in &f.fix {
                write!(out, "<li>{}", escape(&fx.description))?;
                if let Some(c) = &fx.command {
                    write!(out, "<pre><code>{}</code></pre>", escape(c))?;
                }
                writeln!(out, "</li>")?;
            }
            writeln!(out, "</ol>")?;
        }
        if let Some(p) = &f.prevention {
            writeln!(out, "<p><strong>Prevention:</strong> {}</p>", escape(p))?;
        }
        if let Some(meta) = self.rules.iter().find(|m| m.id == f.rule) {
            writeln!(
                out,
                "<details><summary>Rule {} {}: {}</summary>\n<pre>{}</pre>\n</details>",
                escape(meta.id),
                escape(meta.name),
                escape(meta.summary),
                escape(meta.docs_text().trim_end())
            )?;
        }
        writeln!(out, "</article>")
    }
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_markup_quotes_and_controls() {
        assert_eq!(escape("<script>alert('x')</script>"), "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
        assert_eq!(escape("a & \"b\""), "a &amp; &quot;b&quot;");
        assert_eq!(escape("&lt;"), "&amp;lt;", "already-escaped text is escaped again, not trusted");
        assert_eq!(escape("tab\tnl\nnul\0"), "tab\tnl\nnul\u{fffd}");
    }
}
