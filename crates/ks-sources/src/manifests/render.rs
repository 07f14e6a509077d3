//! Rendering with the user's own tools: `kubectl kustomize` and `helm template`. kubesleuth
//! does not reimplement either; it says clearly when the tool is missing.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::SourceError;

/// What `helm template` gets besides the chart.
#[derive(Clone, Debug, Default)]
pub struct HelmOptions {
    pub values: Vec<PathBuf>,
    pub set: Vec<String>,
    pub namespace: Option<String>,
    pub release: Option<String>,
}

/// A render tool that failed or is absent.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error(
        "{dir}: is a Helm chart, and rendering it needs `helm` on PATH (not found); install helm, or lint `helm template` output with `helm template {dir} | kubesleuth lint -`"
    )]
    HelmMissing { dir: String },
    #[error(
        "{dir}: is a kustomization, and rendering it needs `kubectl` (for `kubectl kustomize`) on PATH (not found)"
    )]
    KubectlMissing { dir: String },
    #[error("{dir}: `{tool}` failed: {stderr}")]
    Failed { dir: String, tool: String, stderr: String },
}

impl From<RenderError> for SourceError {
    fn from(e: RenderError) -> Self {
        SourceError::Render(e)
    }
}

fn run(dir: &Path, tool: &str, cmd: &mut Command, missing: RenderError) -> Result<String, RenderError> {
    let out = match cmd.output() {
        Ok(o) => o,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(missing),
        Err(e) => {
            return Err(RenderError::Failed {
                dir: dir.display().to_string(),
                tool: tool.into(),
                stderr: e.to_string(),
            });
        }
    };
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let first = stderr.lines().find(|l| !l.trim().is_empty()).unwrap_or("no output").trim().to_string();
        return Err(RenderError::Failed { dir: dir.display().to_string(), tool: tool.into(), stderr: first });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `kubectl kustomize DIR`.
pub fn kustomize(dir: &Path) -> Result<String, RenderError> {
    let missing = RenderError::KubectlMissing { dir: dir.display().to_string() };
    run(dir, "kubectl kustomize", Command::new("kubectl").arg("kustomize").arg(dir), missing)
}

/// `helm template RELEASE DIR [-f values]... [--set x=y]... [--namespace ns]`.
pub fn helm_template(dir: &Path, opts: &HelmOptions) -> Result<String, RenderError> {
    let mut cmd = Command::new("helm");
    let release = opts.release.clone().unwrap_or_else(|| "release-name".to_string());
    cmd.arg("template").arg(release).arg(dir);
    for v in &opts.values {
        cmd.arg("-f").arg(v);
    }
    for s in &opts.set {
        cmd.arg("--set").arg(s);
    }
    if let Some(ns) = &opts.namespace {
        cmd.arg("--namespace").arg(ns);
    }
    let missing = RenderError::HelmMissing { dir: dir.display().to_string() };
    run(dir, "helm template", &mut cmd, missing)
}
