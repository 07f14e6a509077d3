//! Container logs: kubectl cluster-info dump's sections and the per-container file convention.
//!
//! Conventions understood (documented in the README):
//! - `<ns>/<pod>/logs.txt` with `==== START logs for container C of pod NS/NAME ====` …
//!   `==== END logs for container C of pod NS/NAME ====` sections (cluster-info dump);
//! - `<ns>/<pod>/<container>.log` (current) and `<ns>/<pod>/<container>.previous.log`
//!   (`kubectl logs --previous`).

use std::path::Path;

use ks_core::{LogExcerpt, LogKey};

pub const START_MARKER: &str = "==== START logs for container ";
pub const END_MARKER: &str = "==== END logs for container ";

/// One log section found in a text.
#[derive(Debug, PartialEq, Eq)]
pub struct Section<'a> {
    pub namespace: &'a str,
    pub pod: &'a str,
    pub container: &'a str,
    /// Byte range of the section's body in the text.
    pub body: std::ops::Range<usize>,
    /// Byte range of the whole section, markers included.
    pub whole: std::ops::Range<usize>,
}

/// Parse `C of pod NS/NAME ====` after a marker.
fn parse_marker(rest: &str) -> Option<(&str, &str, &str)> {
    let rest = rest.trim_end().strip_suffix("====")?.trim_end();
    let (container, pod_ref) = rest.split_once(" of pod ")?;
    let (ns, pod) = pod_ref.split_once('/')?;
    if container.is_empty() || ns.is_empty() || pod.is_empty() {
        return None;
    }
    Some((ns, pod, container))
}

/// Find every log section in `text`, in linear time. A section cut off before its END marker
/// runs to the end of the text.
pub fn split_sections(text: &str) -> Vec<Section<'_>> {
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(found) = text[pos..].find(START_MARKER) {
        let start = pos + found;
        // Markers are whole lines.
        if start > 0 && !text[..start].ends_with('\n') {
            pos = start + START_MARKER.len();
            continue;
        }
        let line_end = text[start..].find('\n').map(|e| start + e).unwrap_or(text.len());
        let header = &text[start + START_MARKER.len()..line_end];
        let Some((ns, pod, container)) = parse_marker(header) else {
            pos = line_end;
            continue;
        };
        let body_start = (line_end + 1).min(text.len());
        let end_line = format!("{END_MARKER}{container} of pod {ns}/{pod} ====");
        // Sections do not nest: the END marker is searched only up to the next START marker,
        // so a paste full of unterminated sections stays linear.
        let region_end =
            text[body_start..].find(&format!("\n{START_MARKER}")).map(|n| body_start + n + 1).unwrap_or(text.len());
        let (body_end, whole_end) = match text[body_start..region_end].find(&end_line) {
            Some(e) => {
                let end = body_start + e;
                let after = text[end..].find('\n').map(|n| end + n + 1).unwrap_or(text.len());
                (end, after)
            }
            // Truncated: the next START marker or the end of the text closes it.
            None => (region_end, region_end),
        };
        out.push(Section { namespace: ns, pod, container, body: body_start..body_end, whole: start..whole_end });
        pos = whole_end.max(line_end);
    }
    out
}

/// The log key a file's path names by convention, if any.
pub fn key_from_path(path: &Path) -> Option<LogKey> {
    let file = path.file_name()?.to_str()?;
    let pod = path.parent()?.file_name()?.to_str()?;
    let ns = path.parent()?.parent()?.file_name()?.to_str()?;
    let (container, previous) = if let Some(c) = file.strip_suffix(".previous.log") {
        (c, true)
    } else if let Some(c) = file.strip_suffix(".log") {
        (c, false)
    } else {
        return None;
    };
    if container.is_empty() {
        return None;
    }
    Some(LogKey { namespace: ns.to_string(), pod: pod.to_string(), container: container.to_string(), previous })
}

/// Build the excerpt for one section.
pub fn excerpt(text: &str, section: &Section<'_>, source: &str) -> (LogKey, LogExcerpt) {
    (
        LogKey {
            namespace: section.namespace.to_string(),
            pod: section.pod.to_string(),
            container: section.container.to_string(),
            previous: false,
        },
        LogExcerpt::from_text(&text[section.body.clone()], source),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_sections_with_and_without_end_markers() {
        let text = "==== START logs for container api of pod shop/web-1 ====\nline a\nline b\n==== END logs for container api of pod shop/web-1 ====\n==== START logs for container db of pod shop/db-0 ====\ncut off";
        let s = split_sections(text);
        assert_eq!(s.len(), 2);
        assert_eq!((s[0].namespace, s[0].pod, s[0].container), ("shop", "web-1", "api"));
        assert_eq!(&text[s[0].body.clone()], "line a\nline b\n");
        assert_eq!(&text[s[1].body.clone()], "cut off");
    }

    #[test]
    fn ignores_markers_that_are_not_whole_lines_or_malformed() {
        assert!(split_sections("x ==== START logs for container a of pod n/p ====\n").is_empty());
        assert!(split_sections("==== START logs for container a of pod nopod ====\n").is_empty());
    }

    #[test]
    fn key_from_path_follows_the_convention() {
        let k = key_from_path(Path::new("dump/shop/web-1/api.previous.log")).unwrap();
        assert_eq!(
            (k.namespace.as_str(), k.pod.as_str(), k.container.as_str(), k.previous),
            ("shop", "web-1", "api", true)
        );
        let k = key_from_path(Path::new("dump/shop/web-1/api.log")).unwrap();
        assert!(!k.previous);
        assert!(key_from_path(Path::new("dump/shop/web-1/logs.txt")).is_none());
    }
}
