//! What the Ingress rules (KS1110..KS1112) share: the Ingresses of the bundle and the
//! Service backends they route to, in both the `networking.k8s.io/v1` shape
//! (`service.name`, `service.port.number|name`) and the old `v1beta1` one (`serviceName`,
//! `servicePort`).

use ks_core::ManifestDoc;
use ks_core::manifest::{FieldPath, Seg};
use serde_json::Value;

use super::xref_bundle::api_group;

/// The Ingress documents of the bundle.
pub fn ingresses(docs: &[ManifestDoc]) -> impl Iterator<Item = &ManifestDoc> {
    docs.iter()
        .filter(|d| d.kind == "Ingress" && matches!(api_group(&d.api_version), "networking.k8s.io" | "extensions"))
}

/// The Service port a backend names.
#[derive(Clone, Debug, PartialEq)]
pub enum PortRef<'a> {
    Number(i64),
    Name(&'a str),
}

impl std::fmt::Display for PortRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PortRef::Number(n) => write!(f, "{n}"),
            PortRef::Name(n) => write!(f, "`{n}`"),
        }
    }
}

/// One Service backend of an Ingress.
pub struct Backend<'a> {
    pub service: &'a str,
    /// The field naming the Service.
    pub name_path: FieldPath,
    pub port: Option<PortRef<'a>>,
    /// The field naming the port (`service.port` in v1, `servicePort` in v1beta1).
    pub port_path: FieldPath,
    /// Written in the v1 shape (`service.port.number`).
    pub v1: bool,
    /// `shop.example.com/api`, or `default backend`, for messages.
    pub route: String,
}

impl Backend<'_> {
    /// The field holding the port itself (`service.port.number`), for locations.
    pub fn port_field(&self) -> FieldPath {
        match (&self.port, self.v1) {
            (Some(PortRef::Number(_)), true) => self.port_path.clone().key("number"),
            (Some(PortRef::Name(_)), true) => self.port_path.clone().key("name"),
            _ => self.port_path.clone(),
        }
    }
}

fn port_of(v: &Value) -> Option<PortRef<'_>> {
    match v {
        Value::Number(n) => n.as_i64().map(PortRef::Number),
        Value::String(s) => match s.parse::<i64>() {
            Ok(n) => Some(PortRef::Number(n)),
            Err(_) => Some(PortRef::Name(s)),
        },
        _ => None,
    }
}

fn backend<'a>(b: &'a Value, path: FieldPath, route: String) -> Option<Backend<'a>> {
    if let Some(name) = b["service"]["name"].as_str() {
        let p = &b["service"]["port"];
        let port = p["number"].as_i64().map(PortRef::Number).or_else(|| p["name"].as_str().map(PortRef::Name));
        return Some(Backend {
            service: name,
            name_path: path.clone().key("service").key("name"),
            port,
            port_path: path.key("service").key("port"),
            v1: true,
            route,
        });
    }
    let name = b["serviceName"].as_str()?;
    Some(Backend {
        service: name,
        name_path: path.clone().key("serviceName"),
        port: port_of(&b["servicePort"]),
        port_path: path.key("servicePort"),
        v1: false,
        route,
    })
}

/// Every Service backend of an Ingress: the default backend and each rule's paths.
pub fn backends(doc: &ManifestDoc) -> Vec<Backend<'_>> {
    let spec = &doc.value["spec"];
    let mut out = Vec::new();
    for field in ["defaultBackend", "backend"] {
        if let Some(b) = backend(&spec[field], FieldPath::parse("spec").key(field), "default backend".to_string()) {
            out.push(b);
        }
    }
    for (ri, rule) in spec["rules"].as_array().into_iter().flatten().enumerate() {
        let host = rule["host"].as_str().unwrap_or("*");
        for (pi, p) in rule["http"]["paths"].as_array().into_iter().flatten().enumerate() {
            let path = FieldPath::parse("spec.rules").index(ri).key("http").key("paths").index(pi).key("backend");
            let route = format!("{host}{}", p["path"].as_str().unwrap_or("/"));
            if let Some(b) = backend(&p["backend"], path, route) {
                out.push(b);
            }
        }
    }
    out
}

/// A field path as a JSON pointer, for `kubectl patch --type json`.
pub fn json_pointer(p: &FieldPath) -> String {
    let mut out = String::new();
    for seg in &p.0 {
        out.push('/');
        match seg {
            Seg::Key(k) => out.push_str(&k.replace('~', "~0").replace('/', "~1")),
            Seg::Index(i) => out.push_str(&i.to_string()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_escape_keys() {
        let p = FieldPath::parse("metadata.annotations[\"kubernetes.io/ingress.class\"]");
        assert_eq!(json_pointer(&p), "/metadata/annotations/kubernetes.io~1ingress.class");
        assert_eq!(json_pointer(&FieldPath::parse("spec.rules[0].http")), "/spec/rules/0/http");
    }
}
