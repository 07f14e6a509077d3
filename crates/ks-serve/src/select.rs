//! `labelSelector` and `fieldSelector` as the API server parses and applies them.

use serde_json::Value;

/// One label requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
enum LabelReq {
    Eq(String, String),
    NotEq(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
    Gt(String, i64),
    Lt(String, i64),
}

/// A parsed label selector; empty selects everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector(Vec<LabelReq>);

/// Split at commas that are not inside parentheses.
fn split_top_level(s: &str) -> Result<Vec<&str>, String> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return Err(format!("unexpected ')' in {s:?}"));
                }
            }
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err(format!("unclosed '(' in {s:?}"));
    }
    out.push(&s[start..]);
    Ok(out)
}

fn valid_key(k: &str) -> bool {
    !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
}

fn set_values(rest: &str) -> Option<Vec<String>> {
    let inner = rest.trim().strip_prefix('(')?.strip_suffix(')')?;
    Some(inner.split(',').map(|v| v.trim().to_string()).collect())
}

impl LabelSelector {
    pub fn parse(s: &str) -> Result<LabelSelector, String> {
        let mut reqs = Vec::new();
        if s.trim().is_empty() {
            return Ok(LabelSelector(reqs));
        }
        for part in split_top_level(s)? {
            let part = part.trim();
            let bad = || format!("unable to parse requirement: {part:?}");
            let req = if let Some(key) = part.strip_prefix('!') {
                LabelReq::NotExists(key.trim().to_string())
            } else if let Some((k, v)) = part.split_once("!=") {
                LabelReq::NotEq(k.trim().to_string(), v.trim().to_string())
            } else if let Some((k, v)) = part.split_once("==") {
                LabelReq::Eq(k.trim().to_string(), v.trim().to_string())
            } else if let Some((k, v)) = part.split_once('=') {
                LabelReq::Eq(k.trim().to_string(), v.trim().to_string())
            } else if let Some((k, v)) = part.split_once('>') {
                LabelReq::Gt(k.trim().to_string(), v.trim().parse().map_err(|_| bad())?)
            } else if let Some((k, v)) = part.split_once('<') {
                LabelReq::Lt(k.trim().to_string(), v.trim().parse().map_err(|_| bad())?)
            } else if let Some((k, rest)) = part.split_once(" notin ") {
                LabelReq::NotIn(k.trim().to_string(), set_values(rest).ok_or_else(bad)?)
            } else if let Some((k, rest)) = part.split_once(" in ") {
                LabelReq::In(k.trim().to_string(), set_values(rest).ok_or_else(bad)?)
            } else {
                LabelReq::Exists(part.to_string())
            };
            let key = match &req {
                LabelReq::Eq(k, _)
                | LabelReq::NotEq(k, _)
                | LabelReq::In(k, _)
                | LabelReq::NotIn(k, _)
                | LabelReq::Exists(k)
                | LabelReq::NotExists(k)
                | LabelReq::Gt(k, _)
                | LabelReq::Lt(k, _) => k,
            };
            if !valid_key(key) {
                return Err(bad());
            }
            reqs.push(req);
        }
        Ok(LabelSelector(reqs))
    }

    /// Whether it selects everything.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn matches(&self, obj: &Value) -> bool {
        let labels = obj.pointer("/metadata/labels").and_then(Value::as_object);
        let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
        self.0.iter().all(|r| match r {
            LabelReq::Eq(k, v) => get(k) == Some(v.as_str()),
            LabelReq::NotEq(k, v) => get(k) != Some(v.as_str()),
            LabelReq::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            LabelReq::NotIn(k, vs) => get(k).is_none_or(|x| vs.iter().all(|v| v != x)),
            LabelReq::Exists(k) => get(k).is_some(),
            LabelReq::NotExists(k) => get(k).is_none(),
            LabelReq::Gt(k, n) => get(k).and_then(|x| x.parse::<i64>().ok()).is_some_and(|x| x > *n),
            LabelReq::Lt(k, n) => get(k).and_then(|x| x.parse::<i64>().ok()).is_some_and(|x| x < *n),
        })
    }
}

/// A parsed field selector: `field=value`, `field==value`, `field!=value`, comma-joined.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSelector(Vec<(String, bool, String)>);

/// The fields a resource can be selected by (besides `metadata.name` and `metadata.namespace`),
/// with where each lives in the object: the same set a v1.31 API server supports.
fn field_path(plural: &str, field: &str) -> Option<&'static str> {
    Some(match (plural, field) {
        (_, "metadata.name") => "/metadata/name",
        (_, "metadata.namespace") => "/metadata/namespace",
        ("events", "involvedObject.kind") => "/involvedObject/kind",
        ("events", "involvedObject.namespace") => "/involvedObject/namespace",
        ("events", "involvedObject.name") => "/involvedObject/name",
        ("events", "involvedObject.uid") => "/involvedObject/uid",
        ("events", "involvedObject.apiVersion") => "/involvedObject/apiVersion",
        ("events", "involvedObject.resourceVersion") => "/involvedObject/resourceVersion",
        ("events", "involvedObject.fieldPath") => "/involvedObject/fieldPath",
        ("events", "reason") => "/reason",
        ("events", "reportingComponent") => "/reportingComponent",
        ("events", "source") => "/source/component",
        ("events", "type") => "/type",
        ("pods", "spec.nodeName") => "/spec/nodeName",
        ("pods", "spec.restartPolicy") => "/spec/restartPolicy",
        ("pods", "spec.schedulerName") => "/spec/schedulerName",
        ("pods", "spec.serviceAccountName") => "/spec/serviceAccountName",
        ("pods", "spec.hostNetwork") => "/spec/hostNetwork",
        ("pods", "status.phase") => "/status/phase",
        ("pods", "status.podIP") => "/status/podIP",
        ("pods", "status.nominatedNodeName") => "/status/nominatedNodeName",
        ("secrets", "type") => "/type",
        ("nodes", "spec.unschedulable") => "/spec/unschedulable",
        ("namespaces", "status.phase") => "/status/phase",
        ("replicasets", "status.replicas") => "/status/replicas",
        ("replicationcontrollers", "status.replicas") => "/status/replicas",
        ("jobs", "status.successful") => "/status/succeeded",
        _ => return None,
    })
}

impl FieldSelector {
    pub fn parse(s: &str, plural: &str) -> Result<FieldSelector, String> {
        let mut reqs = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (field, equal, value) = if let Some((f, v)) = part.split_once("!=") {
                (f, false, v)
            } else if let Some((f, v)) = part.split_once("==") {
                (f, true, v)
            } else if let Some((f, v)) = part.split_once('=') {
                (f, true, v)
            } else {
                return Err(format!("invalid selector: '{s}'; can't understand '{part}'"));
            };
            let field = field.trim();
            if field_path(plural, field).is_none() {
                return Err(format!("field label not supported: {field}"));
            }
            reqs.push((field.to_string(), equal, value.trim().to_string()));
        }
        Ok(FieldSelector(reqs))
    }

    /// Whether it selects everything.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn matches(&self, plural: &str, obj: &Value) -> bool {
        self.0.iter().all(|(field, equal, want)| {
            let got = field_path(plural, field).and_then(|p| obj.pointer(p));
            // Absent fields compare as their zero value, as the API server's field sets do.
            let got = match got {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Bool(b)) => b.to_string(),
                Some(Value::Number(n)) => n.to_string(),
                _ if matches!(field.as_str(), "spec.hostNetwork" | "spec.unschedulable") => "false".to_string(),
                _ if matches!(field.as_str(), "status.replicas" | "status.successful") => "0".to_string(),
                _ => String::new(),
            };
            (got == *want) == *equal
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(labels: Value) -> Value {
        json!({"metadata": {"name": "p", "namespace": "a", "labels": labels}, "spec": {"nodeName": "n1"},
            "status": {"phase": "Running"}})
    }

    #[test]
    fn label_selector_operators() {
        let p = pod(json!({"app": "web", "tier": "front", "rev": "7"}));
        let ok = |s: &str| LabelSelector::parse(s).unwrap().matches(&p);
        assert!(ok("app=web") && ok("app==web") && ok("app!=db") && ok("app") && ok("!missing"));
        assert!(ok("app in (web, db)") && ok("tier notin (back)") && ok("missing notin (x)"));
        assert!(ok("app=web,tier in (front)") && ok("rev>5") && ok("rev<8") && ok(""));
        assert!(!ok("app=db") && !ok("!app") && !ok("missing") && !ok("app in (db)") && !ok("app notin (web)"));
        assert!(!ok("app=web,tier=back") && !ok("missing in (x)"));
        assert!(LabelSelector::parse("app in (web").is_err());
        assert!(LabelSelector::parse("a b=c").is_err());
    }

    #[test]
    fn field_selector_fields_and_zero_values() {
        let p = pod(json!({}));
        let ok = |s: &str| FieldSelector::parse(s, "pods").unwrap().matches("pods", &p);
        assert!(ok("metadata.name=p") && ok("spec.nodeName=n1,status.phase!=Failed") && ok("spec.hostNetwork=false"));
        assert!(ok("status.podIP=") && !ok("metadata.namespace=b") && !ok("status.phase=Pending"));
        assert_eq!(
            FieldSelector::parse("spec.nodeName=x", "services").unwrap_err(),
            "field label not supported: spec.nodeName"
        );
        let ev = json!({"involvedObject": {"kind": "Pod", "name": "p", "namespace": "a", "uid": "u1"}});
        let sel =
            FieldSelector::parse("involvedObject.name=p,involvedObject.namespace=a,involvedObject.uid=u1", "events")
                .unwrap();
        assert!(sel.matches("events", &ev));
        assert!(!FieldSelector::parse("involvedObject.kind=Node", "events").unwrap().matches("events", &ev));
    }
}
