//! `--format json`: the contract in `architecture.md`. Fields may be added, never renamed.

use std::io::{self, Write};

use serde::Serialize;

use crate::{Emitter, Report};

pub struct Json;

#[derive(Serialize)]
struct Tool<'a> {
    name: &'a str,
    version: &'a str,
}

#[derive(Serialize)]
struct GapOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<u32>,
    message: &'a str,
}

#[derive(Serialize)]
struct Doc<'a> {
    schema_version: u32,
    tool: Tool<'a>,
    findings: &'a [ks_core::Finding],
    summary: &'a ks_core::Summary,
    /// Inputs that could not be read (added field).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    unreadable: Vec<GapOut<'a>>,
}

impl Emitter for Json {
    fn emit(&self, report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
        let doc = Doc {
            schema_version: 1,
            tool: Tool { name: "kubesleuth", version: report.tool_version },
            findings: report.findings,
            summary: &report.summary,
            unreadable: report
                .gaps
                .iter()
                .map(|g| GapOut { file: g.file.as_deref(), line: g.line, message: &g.message })
                .collect(),
        };
        // A buffer of a known type in front of `dyn Write`: the million small pieces serde
        // writes are copied into it inline, and only full buffers go through the dynamic call.
        let mut w = io::BufWriter::with_capacity(64 << 10, out);
        serde_json::to_writer_pretty(&mut w, &doc).map_err(io::Error::other)?;
        writeln!(w)?;
        w.flush()
    }
}
