use jiff::Timestamp;
use ks_core::{
    Cause, DynObject, Evidence, EvidenceItem, EvidenceSource, Finding, Fix, ObjectRef, RuleKind, RuleMeta, Severity,
    declare_rule,
};

use super::{is_cm, objects, owned_by};
use crate::signatures::cert::{MATCHER, TABLE};
use crate::util::{self, ns_flag};
use crate::{Context, Rule};

declare_rule! {
    /// ### What it finds
    /// A cert-manager Certificate that is not Ready (`Ready=False`, or `Unknown`/absent for
    /// more than ten minutes), explained by the deepest message in its chain: Certificate →
    /// CertificateRequest → Order → Challenge, plus the Issuer it names. Causes it words:
    /// the HTTP-01 self-check getting 404 (the solver's Ingress is not served by the
    /// controller that owns the domain — it compares ingress classes), the self-check
    /// request failing (DNS, port 80), another app answering the challenge path, a DNS-01
    /// record not propagated, a CAA refusal, the ACME server's validation failing, ACME rate
    /// limits, an Issuer/ClusterIssuer that does not exist or is not ready, a request
    /// waiting for approval, two Certificates fighting over one Secret, and expiry.
    ///
    /// ### Why it breaks
    /// A Certificate is the top of a chain of objects, and the reason it is stuck is written
    /// only on the lowest one that failed: `kubectl describe certificate` says "Issuing
    /// certificate as Secret does not exist" while the Challenge says `wrong status code
    /// '404', expected '200'`. Until that is fixed the TLS Secret is missing or stale and
    /// HTTPS serves the default or an expired certificate.
    ///
    /// ### How to confirm
    /// `kubectl describe certificate <name>`, then `kubectl get certificaterequest,order,challenge`
    /// in the namespace and `kubectl describe challenge <name>`: the Challenge's `Reason`
    /// (or the Order's, or the Issuer's `Ready` condition) names the cause.
    ///
    /// ### Fix
    /// Fix the deepest cause (solver ingress class, DNS, firewall, issuer name or account),
    /// then trigger a new attempt with `cmctl renew <name>`.
    ///
    /// ### Prevention
    /// Set the HTTP-01 solver's `ingressClassName` to the class that serves your domains;
    /// test new issuers against the ACME staging server; alert on
    /// `certmanager_certificate_ready_status{condition="False"}` and on expiry.
    ///
    /// ### Example
    /// Challenge `shop-tls-1-2845-1` stuck `pending` with `Waiting for HTTP-01 challenge
    /// propagation: wrong status code '404', expected '200'`: the ClusterIssuer's solver uses
    /// class `traefik`, the cluster only runs `nginx`.
    pub static META = {
        id: "KS0901",
        name: "certificate-not-ready",
        cause: Cause::CertNotReady,
        severity: Severity::Error,
        kind: RuleKind::Runtime,
        summary: "a cert-manager Certificate is not Ready; the deepest failing object says why",
    }
}

pub struct CertificateNotReady;

/// How long a Certificate may be on its way before a transient state counts as stuck.
const GRACE_SECS: i64 = 10 * 60;

/// Signatures that are final on their own; the others (self-check retries, pending orders,
/// first issuance) only count once the Certificate has been stuck for [`GRACE_SECS`].
const DEFINITE: &[&str] = &[
    "cert-caa",
    "cert-present-error",
    "cert-acme-rate-limited",
    "cert-acme-authorization",
    "cert-acme-order-rejected",
    "cert-issuer-not-found",
    "cert-acme-account",
    "cert-acme-v1",
    "cert-secret-conflict",
    "cert-expired",
    "cert-order-failed",
    "cert-request-failed",
];

/// One message found along the chain.
struct Msg {
    text: String,
    source: EvidenceSource,
    object: ObjectRef,
}

/// The chain of one Certificate.
struct Chain<'a> {
    cert: &'a DynObject,
    request: Option<&'a DynObject>,
    order: Option<&'a DynObject>,
    challenges: Vec<&'a DynObject>,
    issuer: Option<&'a DynObject>,
    issuer_kind: String,
    issuer_name: String,
    /// The issuerRef names a cert-manager issuer kind that was collected and is absent.
    issuer_missing: bool,
}

fn created(o: &DynObject) -> Option<Timestamp> {
    o.metadata.creation_timestamp.as_ref().map(|t| t.0)
}

fn newest<'a>(it: impl Iterator<Item = &'a DynObject>) -> Option<&'a DynObject> {
    it.max_by_key(|o| {
        let rev = o
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get("cert-manager.io/certificate-revision"))
            .and_then(|r| r.parse::<i64>().ok())
            .unwrap_or(0);
        (rev, created(o))
    })
}

fn chain<'a>(ev: &'a Evidence, cert: &'a DynObject) -> Chain<'a> {
    let ns = cert.namespace();
    let name = cert.name();
    let request = newest(objects(ev, "CertificateRequest", ns).filter(|r| {
        owned_by(r, "Certificate", name)
            || r.metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get("cert-manager.io/certificate-name"))
                .is_some_and(|n| n == name)
    }));
    let order =
        request.and_then(|r| {
            newest(objects(ev, "Order", ns).filter(|o| {
                owned_by(o, "CertificateRequest", r.name()) || o.name().starts_with(&format!("{}-", r.name()))
            }))
        });
    let challenges: Vec<&DynObject> = order
        .map(|o| {
            objects(ev, "Challenge", ns)
                .filter(|c| owned_by(c, "Order", o.name()) || c.name().starts_with(&format!("{}-", o.name())))
                .collect()
        })
        .unwrap_or_default();
    let issuer_kind = cert.str_at("/spec/issuerRef/kind").unwrap_or("Issuer").to_string();
    let issuer_name = cert.str_at("/spec/issuerRef/name").unwrap_or_default().to_string();
    let group_ok = cert.str_at("/spec/issuerRef/group").is_none_or(|g| g.is_empty() || g == "cert-manager.io");
    let issuer = match issuer_kind.as_str() {
        "ClusterIssuer" => ev.custom("ClusterIssuer", None, &issuer_name),
        _ => ev.custom("Issuer", ns, &issuer_name),
    }
    .filter(|o| is_cm(o, &issuer_kind));
    let issuer_missing = group_ok
        && !issuer_name.is_empty()
        && issuer.is_none()
        && matches!(issuer_kind.as_str(), "Issuer" | "ClusterIssuer")
        && ev.has_collected(&issuer_kind);
    Chain { cert, request, order, challenges, issuer, issuer_kind, issuer_name, issuer_missing }
}

/// Every message of the chain, deepest first.
fn messages(ev: &Evidence, c: &Chain<'_>) -> Vec<Msg> {
    let mut out = Vec::new();
    let push_events = |o: &DynObject, out: &mut Vec<Msg>| {
        for e in ev.events_for(&o.kind, o.namespace(), o.name()).iter().rev().filter(|e| e.is_warning()).take(3) {
            out.push(Msg { text: e.message.clone(), source: EvidenceSource::Event, object: o.object_ref() });
        }
    };
    for ch in &c.challenges {
        if let Some(r) = ch.str_at("/status/reason").filter(|r| !r.is_empty()) {
            out.push(Msg { text: r.to_string(), source: EvidenceSource::Status, object: ch.object_ref() });
        }
        push_events(ch, &mut out);
    }
    if let Some(o) = c.order {
        if let Some(r) = o.str_at("/status/reason").filter(|r| !r.is_empty()) {
            out.push(Msg { text: r.to_string(), source: EvidenceSource::Status, object: o.object_ref() });
        }
        push_events(o, &mut out);
    }
    if let Some(i) = c.issuer
        && let Some(cond) = i.condition("Ready").filter(|k| k.status == "False")
    {
        out.push(Msg { text: cond.message.to_string(), source: EvidenceSource::Status, object: i.object_ref() });
    }
    if let Some(r) = c.request {
        for t in ["Ready", "InvalidRequest", "Denied"] {
            if let Some(cond) = r.condition(t).filter(|k| k.status != "True" || t != "Ready")
                && !cond.message.is_empty()
            {
                out.push(Msg {
                    text: cond.message.to_string(),
                    source: EvidenceSource::Status,
                    object: r.object_ref(),
                });
            }
        }
        push_events(r, &mut out);
    }
    for t in ["Ready", "Issuing"] {
        if let Some(cond) = c.cert.condition(t).filter(|k| k.status != "True" || t == "Issuing")
            && !cond.message.is_empty()
        {
            out.push(Msg {
                text: cond.message.to_string(),
                source: EvidenceSource::Status,
                object: c.cert.object_ref(),
            });
        }
    }
    push_events(c.cert, &mut out);
    out
}

/// The snapshot's clock, or failing that the newest cert-manager timestamp.
fn now(ev: &Evidence) -> Option<Timestamp> {
    ev.now().or_else(|| {
        ev.other
            .iter()
            .filter(|o| o.api_version.contains("cert-manager.io/"))
            .flat_map(|o| {
                let conds =
                    o.value.pointer("/status/conditions").and_then(|v| v.as_array()).cloned().unwrap_or_default();
                conds
                    .into_iter()
                    .filter_map(|c| c.get("lastTransitionTime").and_then(|t| t.as_str()).and_then(|s| s.parse().ok()))
                    .chain(created(o))
                    .collect::<Vec<Timestamp>>()
            })
            .max()
    })
}

fn age(now: Option<Timestamp>, t: Option<Timestamp>) -> Option<i64> {
    Some((now?.as_second() - t?.as_second()).max(0))
}

impl Rule for CertificateNotReady {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let ev = cx.ev;
        if !ev.other.iter().any(|o| is_cm(o, "Certificate")) {
            return;
        }
        let now = now(ev);
        for cert in ev.other.iter().filter(|o| is_cm(o, "Certificate")) {
            let ready = cert.condition("Ready");
            if ready.as_ref().is_some_and(|r| r.status == "True") {
                continue;
            }
            // How long it has been not Ready.
            let since = ready.as_ref().and_then(|r| r.last_transition).or(created(cert));
            let stuck = age(now, since).is_none_or(|a| a >= GRACE_SECS);
            let c = chain(ev, cert);
            let msgs = messages(ev, &c);
            // The deepest known cause: the earliest table entry any message matches.
            let best = msgs
                .iter()
                .filter_map(|m| MATCHER.first(&m.text).map(|mm| (TABLE.iter().position(|s| s.id == mm.sig.id), mm, m)))
                .min_by_key(|(p, _, _)| p.unwrap_or(usize::MAX));
            let expired = cert
                .str_at("/status/notAfter")
                .and_then(|s| s.parse::<Timestamp>().ok())
                .is_some_and(|t| now.is_some_and(|n| t < n));
            let definite =
                c.issuer_missing || expired || best.as_ref().is_some_and(|(_, m, _)| DEFINITE.contains(&m.sig.id));
            match ready.as_ref().map(|r| r.status) {
                Some("False") if definite || stuck => {}
                _ if stuck
                    && (definite
                        || best.is_some()
                        || ready.is_none()
                        || ready.as_ref().is_some_and(|r| r.status == "Unknown")) => {}
                _ => continue,
            }
            let mut x = Explain::new(cx, &c);
            match (c.issuer_missing, best) {
                (true, _) => x.issuer_missing(),
                (false, Some((_, m, msg))) => x.by_signature(m.sig.id, &m, msg),
                (false, None) if expired => x.expired(),
                (false, None) => x.unexplained(ready.as_ref().map(|r| (r.status, r.reason, r.message))),
            }
            out.push(x.finish());
        }
    }
}

struct Explain<'c, 'a> {
    cx: &'c Context<'a>,
    c: &'c Chain<'a>,
    ns: String,
    name: String,
    title: String,
    root: String,
    evidence: Vec<EvidenceItem>,
    fixes: Vec<Fix>,
    root_key: String,
}

impl<'c, 'a> Explain<'c, 'a> {
    fn new(cx: &'c Context<'a>, c: &'c Chain<'a>) -> Self {
        let ns = c.cert.namespace().unwrap_or_default().to_string();
        let name = c.cert.name().to_string();
        let mut evidence = Vec::new();
        if let Some(r) = c.cert.condition("Ready") {
            evidence.push(EvidenceItem::new(
                EvidenceSource::Status,
                format!("Ready={} ({}): {}", r.status, r.reason, r.message),
                Some(c.cert.object_ref()),
            ));
        } else {
            evidence.push(EvidenceItem::new(EvidenceSource::Status, "no Ready condition", Some(c.cert.object_ref())));
        }
        let root_key = format!("cert:{ns}/{name}");
        Explain { cx, c, ns, name, title: String::new(), root: String::new(), evidence, fixes: Vec::new(), root_key }
    }

    fn issuer_text(&self) -> String {
        format!("{} {}", self.c.issuer_kind, self.c.issuer_name)
    }

    fn issuer_kubectl(&self) -> String {
        let kind = self.c.issuer_kind.to_ascii_lowercase();
        if self.c.issuer_kind == "ClusterIssuer" {
            format!("{kind} {}", self.c.issuer_name)
        } else {
            format!("{}{kind} {}", ns_flag(&self.ns), self.c.issuer_name)
        }
    }

    fn describe_challenge(&mut self, ch: &DynObject) {
        self.fixes.push(Fix::cmd(
            format!("See the Challenge's state and events ({})", ch.name()),
            format!("kubectl {}describe challenge {}", ns_flag(&self.ns), ch.name()),
        ));
    }

    fn renew(&mut self) {
        self.fixes.push(Fix::cmd(
            "Once fixed, start a new issuance attempt",
            format!("cmctl renew {}{}", ns_flag(&self.ns), self.name),
        ));
    }

    /// The first challenge that is not valid, with its domain.
    fn pending_challenge(&self) -> Option<&'a DynObject> {
        self.c.challenges.iter().copied().find(|ch| ch.str_at("/status/state") != Some("valid"))
    }

    fn chain_evidence(&mut self, msg: &Msg) {
        if let Some(r) = self.c.request.filter(|r| r.object_ref() != msg.object)
            && let Some(cond) = r.condition("Ready").filter(|c| c.status != "True")
        {
            self.evidence.push(EvidenceItem::new(
                EvidenceSource::Status,
                format!("Ready={} ({}): {}", cond.status, cond.reason, cond.message),
                Some(r.object_ref()),
            ));
        }
        if let Some(o) = self.c.order.filter(|o| o.object_ref() != msg.object)
            && let Some(state) = o.str_at("/status/state")
        {
            self.evidence.push(EvidenceItem::new(
                EvidenceSource::Status,
                format!("state: {state}"),
                Some(o.object_ref()),
            ));
        }
        let text = match msg.object.kind.as_str() {
            "Challenge" => {
                let ch = self.c.challenges.iter().find(|c| c.object_ref() == msg.object);
                let state = ch.and_then(|c| c.str_at("/status/state")).unwrap_or("?");
                let ty = ch.and_then(|c| c.str_at("/spec/type")).unwrap_or("");
                let dns = ch.and_then(|c| c.str_at("/spec/dnsName")).unwrap_or("");
                format!("{ty} {dns} state {state}: {}", msg.text)
            }
            _ => msg.text.clone(),
        };
        self.evidence.push(EvidenceItem::new(msg.source, text, Some(msg.object.clone())));
    }

    fn by_signature(&mut self, id: &str, m: &crate::signatures::Match<'_>, msg: &Msg) {
        self.chain_evidence(msg);
        let ch = self.pending_challenge();
        let domain = ch.and_then(|c| c.str_at("/spec/dnsName")).unwrap_or_default().to_string();
        let token = ch.and_then(|c| c.str_at("/spec/token")).unwrap_or_default().to_string();
        let url = format!("http://{domain}/.well-known/acme-challenge/{token}");
        let cname = format!("Certificate {}/{}", self.ns, self.name);
        match id {
            "cert-http01-wrong-status" => {
                let code = m.get("code").to_string();
                let domains: Vec<String> = self
                    .c
                    .challenges
                    .iter()
                    .filter(|c| c.str_at("/status/reason").is_some_and(|r| r.contains(&format!("'{code}'"))))
                    .filter_map(|c| c.str_at("/spec/dnsName").map(str::to_string))
                    .collect();
                let all = if domains.len() > 1 { util::join_names(&domains) } else { domain.clone() };
                self.title = format!("{cname} is stuck: the HTTP-01 self-check for {all} gets {code}");
                self.root = format!(
                    "cert-manager's self-check of {url} answers {code} instead of 200, so the ACME challenge is never submitted. The request reaches an ingress controller, but not the solver pod:"
                );
                self.http01_routing(&domain, &code);
                if let Some(ch) = ch {
                    self.describe_challenge(ch);
                }
                self.fixes.push(Fix::cmd("Reproduce the self-check", format!("curl -i {url}")));
            }
            "cert-http01-request-failed" => {
                let err = m.get("error").to_string();
                let hint = if err.contains("no such host") {
                    format!("{domain} does not resolve (the DNS record for it is missing or points elsewhere)")
                } else if err.contains("connection refused") {
                    "nothing answers on port 80 at the address the domain resolves to".to_string()
                } else if err.contains("timeout") || err.contains("deadline") {
                    "port 80 is unreachable from inside the cluster (firewall, load balancer, or hairpin NAT)"
                        .to_string()
                } else {
                    "the request to the domain fails".to_string()
                };
                self.title = format!("{cname} is stuck: the HTTP-01 self-check cannot reach {domain}");
                self.root = format!(
                    "cert-manager cannot fetch {url}: {hint}. The self-check must pass before the challenge is submitted."
                );
                if let Some(ch) = ch {
                    self.describe_challenge(ch);
                }
                self.fixes.push(Fix::cmd(format!("Check what {domain} resolves to"), format!("dig +short {domain}")));
            }
            "cert-http01-wrong-body" => {
                self.title = format!("{cname} is stuck: another app answers the HTTP-01 challenge path of {domain}");
                self.root = format!(
                    "{url} is answered by something other than cert-manager's solver (an app's catch-all route, another Ingress, or a redirect), so the self-check sees the wrong body."
                );
                if let Some(ch) = ch {
                    self.describe_challenge(ch);
                }
                self.fixes.push(Fix::cmd("See who answers", format!("curl -i {url}")));
                self.fixes.push(Fix::cmd(
                    "Find Ingresses that also claim the host",
                    format!("kubectl get ingress -A -o wide | grep {domain}"),
                ));
            }
            "cert-dns01-not-propagated" => {
                let fqdn = m.get("fqdn").to_string();
                self.title = format!("{cname} is stuck: the DNS-01 TXT record for {fqdn} is not visible");
                self.root = format!(
                    "cert-manager created the TXT record _acme-challenge.{fqdn} through {} but cannot see it on the authoritative nameservers: the record went to another zone, the provider credentials cannot write it, or a split-horizon resolver hides it.",
                    self.issuer_text()
                );
                if let Some(ch) = ch {
                    self.describe_challenge(ch);
                }
                self.fixes.push(Fix::cmd("Look for the record", format!("dig +short TXT _acme-challenge.{fqdn}")));
            }
            "cert-caa" => {
                self.title = format!("{cname} is refused: a CAA record forbids the CA");
                self.root = format!(
                    "A CAA DNS record for {domain} does not allow the ACME CA of {} to issue: {}.",
                    self.issuer_text(),
                    m.get("error")
                );
                self.fixes.push(Fix::cmd("See the CAA records", format!("dig +short CAA {domain}")));
            }
            "cert-present-error" => {
                self.title = format!("{cname} is stuck: the challenge solver cannot be set up");
                self.root = format!(
                    "cert-manager could not create the solver resources (the solver Ingress/pod, or the DNS record) for {}: {}.",
                    if domain.is_empty() { "the domain".to_string() } else { domain.clone() },
                    m.get("error")
                );
                if let Some(ch) = ch {
                    self.describe_challenge(ch);
                }
            }
            "cert-acme-rate-limited" => {
                self.title = format!("{cname} is refused: the ACME server rate-limits {}", self.issuer_text());
                self.root = format!(
                    "The ACME server refuses new orders for these names: {}. Every retry counts against the limit; wait for the window to pass (Let's Encrypt: duplicate certificates reset after a week) and use the staging server while testing.",
                    msg.text
                );
                self.root_key = format!("acme-rate-limit:{}", self.c.issuer_name);
                self.fixes.push(Fix::text(
                    "Stop re-creating this Certificate (or its Secret) and wait for the time the server names in \"retry after\"",
                ));
                self.fixes.push(Fix::cmd(
                    "Then start one new attempt",
                    format!("cmctl renew {}{}", ns_flag(&self.ns), self.name),
                ));
                return;
            }
            "cert-acme-authorization" => {
                self.title = format!(
                    "{cname} failed: the ACME server could not validate {}",
                    if domain.is_empty() { m.get("domain").to_string() } else { domain.clone() }
                );
                self.root = format!(
                    "The ACME server's own validation failed ({}). This Order is final; fix reachability or DNS for the domain, then request a new certificate.",
                    msg.text
                );
                if let Some(ch) = ch {
                    self.describe_challenge(ch);
                }
            }
            "cert-acme-order-rejected" => {
                self.title = format!("{cname} failed: the ACME server refused the Order");
                self.root = format!("The ACME server refused to create an Order: {}.", m.get("error"));
            }
            "cert-issuer-not-found" => {
                let kind = m.get("kind").to_string();
                let name = m.get("name").to_string();
                self.issuer_missing_text(&kind, &name);
                return self.renew();
            }
            "cert-acme-account" | "cert-acme-v1" => {
                self.title = format!("{cname} cannot be issued: {} is not ready", self.issuer_text());
                self.root = format!(
                    "{} is not ready, so it signs nothing: {}. Fix the issuer (ACME server URL, egress to it, account key Secret, EAB credentials).",
                    self.issuer_text(),
                    msg.text
                );
                self.root_key = format!("issuer:{}/{}", self.c.issuer_kind, self.c.issuer_name);
                self.fixes
                    .push(Fix::cmd("See the issuer's status", format!("kubectl describe {}", self.issuer_kubectl())));
            }
            "cert-waiting-approval" => {
                let cr = self.c.request.map(|r| r.name().to_string()).unwrap_or_default();
                self.title = format!("{cname} waits for CertificateRequest {cr} to be approved");
                self.root = format!(
                    "CertificateRequest {cr} is not approved, so {} does not sign it. cert-manager approves requests itself unless its approver is disabled (e.g. approver-policy is installed) and no policy matches.",
                    self.issuer_text()
                );
                self.fixes.push(Fix::cmd(
                    "Approve it by hand (or add a matching policy)",
                    format!("cmctl approve {}{cr}", ns_flag(&self.ns)),
                ));
                return;
            }
            "cert-secret-conflict" => {
                let secret = self.c.cert.str_at("/spec/secretName").unwrap_or_default().to_string();
                let others: Vec<String> = objects(self.cx.ev, "Certificate", Some(&self.ns))
                    .filter(|o| o.name() != self.name && o.str_at("/spec/secretName") == Some(secret.as_str()))
                    .map(|o| o.name().to_string())
                    .collect();
                self.title = format!("{cname} fights over Secret {secret} with another Certificate");
                self.root = format!(
                    "Two Certificates write the same Secret {secret}{}, so each re-issues over the other's certificate. Give each Certificate its own secretName.",
                    if others.is_empty() {
                        String::new()
                    } else {
                        format!(" ({} and {})", self.name, util::join_names(&others))
                    }
                );
                self.root_key = format!("cert-secret:{}/{secret}", self.ns);
                return;
            }
            "cert-expired" => {
                self.expired();
                return;
            }
            "cert-order-pending" => {
                let order = m.get("order").to_string();
                self.title = format!("{cname} is stuck: Order {order} stays pending");
                self.root = format!(
                    "The ACME Order {order} has not completed for over ten minutes and its Challenges give no reason: check that cert-manager's controller is running and can reach the ACME server."
                );
                self.fixes.push(Fix::cmd(
                    "See the Order and its Challenges",
                    format!("kubectl {}describe order {order}", ns_flag(&self.ns)),
                ));
            }
            _ => {
                self.title = format!("{cname} is not Ready");
                self.root = format!("The deepest message in its chain: {}", msg.text);
            }
        }
        self.renew();
    }

    /// 404 on the challenge path: compare the solver's ingress class with the classes that
    /// exist and with the class of the Ingress serving the domain.
    fn http01_routing(&mut self, domain: &str, code: &str) {
        let ev = self.cx.ev;
        let solvers: Vec<serde_json::Value> = self
            .c
            .issuer
            .and_then(|i| i.value.pointer("/spec/acme/solvers"))
            .and_then(|v| v.as_array())
            .cloned()
            .unwrap_or_default();
        // The solver used: the first with http01 (selectors are rarely used for routing).
        let (si, solver) = match solvers.iter().enumerate().find(|(_, s)| s.get("http01").is_some()) {
            Some((i, s)) => (i, Some(s)),
            None => (0, None),
        };
        let ing = solver.and_then(|s| s.pointer("/http01/ingress"));
        let (field, solver_class) = match ing {
            Some(i) if i.get("ingressClassName").and_then(|v| v.as_str()).is_some() => {
                ("ingressClassName", i.get("ingressClassName").and_then(|v| v.as_str()).map(str::to_string))
            }
            Some(i) if i.get("class").and_then(|v| v.as_str()).is_some() => {
                ("class", i.get("class").and_then(|v| v.as_str()).map(str::to_string))
            }
            _ => ("ingressClassName", None),
        };
        // The Ingress that serves the domain (not cert-manager's own solver Ingress).
        let site = ev.ingresses.iter().find(|i| {
            let solver_ing =
                i.metadata.labels.as_ref().is_some_and(|l| l.contains_key("acme.cert-manager.io/http01-solver"));
            !solver_ing
                && i.spec.iter().flat_map(|s| s.rules.iter().flatten()).any(|r| r.host.as_deref() == Some(domain))
        });
        let class_of = |i: &ks_core::k8s_openapi::api::networking::v1::Ingress| {
            i.spec
                .as_ref()
                .and_then(|s| s.ingress_class_name.clone())
                .or_else(|| i.metadata.annotations.as_ref().and_then(|a| a.get("kubernetes.io/ingress.class")).cloned())
        };
        let site_class = site.and_then(class_of);
        let classes: Vec<String> = ev.ingress_classes.iter().filter_map(|c| c.metadata.name.clone()).collect();
        if let Some(sc) = &solver_class {
            self.evidence.push(EvidenceItem::new(
                EvidenceSource::Spec,
                format!("solvers[{si}].http01.ingress.{field}: {sc}"),
                self.c.issuer.map(|i| i.object_ref()),
            ));
        }
        if let (Some(s), Some(c)) = (site, &site_class) {
            let sname = s.metadata.name.clone().unwrap_or_default();
            self.evidence.push(EvidenceItem::new(
                EvidenceSource::Spec,
                format!("Ingress {sname} serves {domain} with class {c}"),
                Some(ObjectRef::new("Ingress", s.metadata.namespace.as_deref(), &sname)),
            ));
        }
        let unknown_solver_class = solver_class
            .as_ref()
            .is_some_and(|sc| ev.has_collected("IngressClass") && !classes.contains(sc) && field == "ingressClassName");
        let target = site_class.clone().or_else(|| (classes.len() == 1).then(|| classes[0].clone()));
        let mismatch = match (&solver_class, &target) {
            (Some(s), Some(t)) => s != t,
            (None, Some(_)) => true,
            _ => false,
        };
        if mismatch || unknown_solver_class {
            let solver_txt =
                solver_class.clone().map(|s| format!("class {s}")).unwrap_or_else(|| "no ingress class".to_string());
            let target_txt = match (&site_class, site) {
                (Some(c), Some(s)) => format!(
                    ", while Ingress {} serves {domain} with class {c}",
                    s.metadata.name.clone().unwrap_or_default()
                ),
                _ => target
                    .as_ref()
                    .map(|t| format!(", while the cluster's only IngressClass is {t}"))
                    .unwrap_or_default(),
            };
            self.root.push_str(&format!(
                " the solver Ingress that {} creates uses {solver_txt}{target_txt}, so the controller that owns {domain} never routes the challenge path to the solver and returns {code}.",
                self.issuer_text()
            ));
            self.root_key = format!("http01-solver-class:{}/{}", self.c.issuer_kind, self.c.issuer_name);
            if let (Some(t), Some(issuer)) = (&target, self.c.issuer) {
                let (op, path) = if solver_class.is_some() {
                    ("replace", format!("/spec/acme/solvers/{si}/http01/ingress/{field}"))
                } else {
                    ("add", format!("/spec/acme/solvers/{si}/http01/ingress/ingressClassName"))
                };
                self.fixes.push(Fix::cmd(
                    format!("Make the solver use class {t}"),
                    format!(
                        "kubectl {}patch {} {} --type json -p '[{{\"op\":\"{op}\",\"path\":\"{path}\",\"value\":\"{t}\"}}]'",
                        if issuer.kind == "ClusterIssuer" { String::new() } else { ns_flag(&self.ns) },
                        issuer.kind.to_ascii_lowercase(),
                        issuer.name()
                    ),
                ));
            }
        } else {
            // Classes agree: is the solver's own Ingress there, and did the controller admit it?
            let solver_ing = ev.ingresses.iter().find(|i| {
                i.metadata.namespace.as_deref() == Some(self.ns.as_str())
                    && i.metadata.labels.as_ref().is_some_and(|l| l.contains_key("acme.cert-manager.io/http01-solver"))
                    && i.spec.iter().flat_map(|s| s.rules.iter().flatten()).any(|r| r.host.as_deref() == Some(domain))
            });
            let addressed = |i: &ks_core::k8s_openapi::api::networking::v1::Ingress| {
                i.status
                    .as_ref()
                    .and_then(|s| s.load_balancer.as_ref())
                    .and_then(|l| l.ingress.as_ref())
                    .is_some_and(|v| !v.is_empty())
            };
            match (solver_ing, site) {
                (None, _) if ev.has_collected("Ingress") => {
                    self.root.push_str(&format!(
                        " cert-manager has no solver Ingress for {domain} in namespace {}, so nothing routes the challenge path (look for PresentError events on the Challenge).",
                        self.ns
                    ));
                }
                (Some(si), Some(s)) if !addressed(si) && addressed(s) => {
                    let sname = si.metadata.name.clone().unwrap_or_default();
                    self.root.push_str(&format!(
                        " the solver Ingress {sname} has no address while Ingress {} has one: the controller has not admitted the solver's route (its log says why).",
                        s.metadata.name.clone().unwrap_or_default()
                    ));
                    self.evidence.push(EvidenceItem::new(
                        EvidenceSource::Status,
                        format!("Ingress {sname} (http01 solver for {domain}): no address"),
                        Some(ObjectRef::new("Ingress", Some(&self.ns), &sname)),
                    ));
                }
                _ => self.root.push_str(&format!(
                    " the solver's Ingress exists with the same class, yet {domain}/.well-known/acme-challenge/ does not reach it: another rule for the host (a catch-all path, an auth annotation, a second proxy in front) takes the request."
                )),
            }
            self.fixes.push(Fix::cmd(
                "Compare the solver Ingress with the site's",
                format!("kubectl {}get ingress -o wide", ns_flag(&self.ns)),
            ));
        }
    }

    fn issuer_missing_text(&mut self, kind: &str, name: &str) {
        let ev = self.cx.ev;
        let existing: Vec<String> = ev
            .other
            .iter()
            .filter(|o| is_cm(o, "ClusterIssuer") || (is_cm(o, "Issuer") && o.namespace() == Some(self.ns.as_str())))
            .map(|o| format!("{} {}", o.kind, o.name()))
            .collect();
        self.title = format!("Certificate {}/{} names {kind} {name}, which does not exist", self.ns, self.name);
        self.root = format!(
            "The issuerRef of Certificate {} names {kind} {name}, which does not exist{}, so no CertificateRequest is ever signed.{}",
            self.name,
            if kind == "Issuer" { format!(" in namespace {}", self.ns) } else { String::new() },
            if existing.is_empty() {
                " No issuer exists at all.".to_string()
            } else {
                format!(" The issuers that exist: {}.", existing.join(", "))
            }
        );
        if kind == "Issuer" && ev.other.iter().any(|o| is_cm(o, "ClusterIssuer") && o.name() == name) {
            self.root.push_str(&format!(" A ClusterIssuer {name} exists: the issuerRef lacks kind: ClusterIssuer."));
        }
        self.root_key = format!("issuer:{kind}/{name}");
        let names: Vec<String> =
            existing.iter().filter_map(|e| e.split_once(' ').map(|(_, n)| n.to_string())).collect();
        let pick = super::super::net::closest(name, &names, 0.3)
            .map(str::to_string)
            .or_else(|| (names.len() == 1).then(|| names[0].clone()));
        if let Some(p) = pick {
            let pkind = existing
                .iter()
                .find(|e| e.ends_with(&format!(" {p}")))
                .and_then(|e| e.split_once(' '))
                .map(|(k, _)| k.to_string())
                .unwrap_or_else(|| kind.to_string());
            self.fixes.push(Fix::cmd(
                format!("Point the Certificate at {pkind} {p}, which exists"),
                format!(
                    "kubectl {}patch certificate {} --type merge -p '{{\"spec\":{{\"issuerRef\":{{\"kind\":\"{pkind}\",\"name\":\"{p}\"}}}}}}'",
                    ns_flag(&self.ns),
                    self.name
                ),
            ));
        } else {
            self.fixes
                .push(Fix::text(format!("Create the {kind} {name} (or point issuerRef at an issuer that exists)")));
        }
        self.fixes.push(Fix::cmd("List the issuers", "kubectl get clusterissuers,issuers -A"));
    }

    fn issuer_missing(&mut self) {
        let (kind, name) = (self.c.issuer_kind.clone(), self.c.issuer_name.clone());
        self.evidence.push(EvidenceItem::new(
            EvidenceSource::Spec,
            format!("issuerRef: {kind} {name}"),
            Some(self.c.cert.object_ref()),
        ));
        self.issuer_missing_text(&kind, &name);
        self.renew();
    }

    fn expired(&mut self) {
        let not_after = self.c.cert.str_at("/status/notAfter").unwrap_or("?").to_string();
        self.title = format!("Certificate {}/{} has expired", self.ns, self.name);
        self.root = format!(
            "The certificate in Secret {} expired ({not_after}) because renewal kept failing; clients now reject it. Find why renewal fails in the Certificate's events and its latest CertificateRequest.",
            self.c.cert.str_at("/spec/secretName").unwrap_or_default()
        );
        self.evidence.push(EvidenceItem::new(
            EvidenceSource::Status,
            format!("notAfter: {not_after}"),
            Some(self.c.cert.object_ref()),
        ));
        self.fixes.push(Fix::cmd(
            "See why renewal fails",
            format!("kubectl {}describe certificate {}", ns_flag(&self.ns), self.name),
        ));
        self.renew();
    }

    fn unexplained(&mut self, ready: Option<(&str, &str, &str)>) {
        let running = self.cx.ev.pods.iter().any(|p| {
            p.metadata
                .labels
                .as_ref()
                .and_then(|l| l.get("app.kubernetes.io/name"))
                .is_some_and(|n| n == "cert-manager")
                && crate::net::pod_ready(p)
        });
        self.title = format!("Certificate {}/{} is not Ready", self.ns, self.name);
        self.root = match ready {
            Some((status, reason, message)) => format!("Ready={status} ({reason}) for over ten minutes: {message}"),
            None => format!(
                "The Certificate has no status after more than ten minutes: cert-manager has not processed it{}.",
                if running { "" } else { " (is the cert-manager controller running?)" }
            ),
        };
        self.fixes.push(Fix::cmd(
            "Inspect the chain",
            format!("kubectl {}get certificaterequest,order,challenge", ns_flag(&self.ns)),
        ));
        self.fixes
            .push(Fix::cmd("Read cert-manager's log", "kubectl -n cert-manager logs deploy/cert-manager --tail=100"));
        self.renew();
    }

    fn finish(mut self) -> Finding {
        // An expired certificate whose renewal is stuck: say both.
        let expired = self.c.cert.condition("Ready").is_some_and(|r| r.reason == "Expired");
        if expired && !self.title.contains("expired") {
            self.title = self.title.replacen(" is stuck:", " has expired and its renewal is stuck:", 1);
        }
        let cref = self.c.cert.object_ref();
        let mut f = util::finding(&META, cref, self.title, self.root);
        f.evidence = self.evidence;
        f.fix = self.fixes;
        f.root_key = self.root_key;
        // Ingresses serving this certificate's Secret are what users see failing.
        let secret = self.c.cert.str_at("/spec/secretName").unwrap_or_default();
        for i in &self.cx.ev.ingresses {
            if i.metadata.namespace.as_deref() != Some(self.ns.as_str()) {
                continue;
            }
            let uses =
                i.spec.iter().flat_map(|s| s.tls.iter().flatten()).any(|t| t.secret_name.as_deref() == Some(secret));
            if uses {
                f.affected.push(ObjectRef::new(
                    "Ingress",
                    Some(&self.ns),
                    i.metadata.name.as_deref().unwrap_or_default(),
                ));
            }
        }
        f
    }
}
