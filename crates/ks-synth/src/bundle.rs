//! A synthetic manifest bundle for `kubesleuth lint` benchmarks: one multi-document YAML
//! file per application (ConfigMap, Secret, Deployment, Service, and for some apps an
//! Ingress and a HorizontalPodAutoscaler), spread over team directories, written the way
//! people write them (block style, comments, quoted strings, probes, resources, security
//! contexts). One application in `broken_every` carries one schema mistake of the kinds
//! `lint` reports (a typo, a container field at pod level, a quoted port number, an Ingress
//! path without `pathType`, a duplicated label), so the benchmark pays for reporting too.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

/// What [`generate_bundle`] wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BundleStats {
    pub objects: usize,
    pub files: usize,
    pub apps: usize,
    /// Applications with a planted schema mistake.
    pub broken: usize,
}

/// The mistake planted in a broken application.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mistake {
    None,
    /// `replicaz:` instead of `replicas:` (KS1001).
    Typo,
    /// `capabilities` in the pod-level securityContext (KS1201).
    PodCapabilities,
    /// `containerPort: "8080"` (KS1002, wrong type).
    QuotedPort,
    /// An Ingress path without `pathType` (KS1002, missing required field).
    NoPathType,
    /// The same label written twice (KS1003).
    DuplicateLabel,
}

fn mistake(app: usize, every: usize) -> Mistake {
    if every == 0 || !app.is_multiple_of(every) || app == 0 {
        return Mistake::None;
    }
    match (app / every) % 5 {
        0 => Mistake::Typo,
        1 => Mistake::PodCapabilities,
        2 => Mistake::QuotedPort,
        3 => Mistake::NoPathType,
        _ => Mistake::DuplicateLabel,
    }
}

const WORDS: &[&str] = &[
    "checkout",
    "cart",
    "catalog",
    "payments",
    "shipping",
    "orders",
    "inventory",
    "search",
    "reviews",
    "accounts",
    "billing",
    "notifications",
    "recommendations",
    "pricing",
    "auth",
    "gateway",
    "ledger",
    "media",
    "reports",
    "tax",
];
const ROLES: &[&str] = &["api", "worker", "web", "consumer", "scheduler", "grpc"];
const TEAMS: usize = 40;

/// Base64 of a deterministic, secret-looking value (the generator's own, nothing real).
fn fake_secret(seed: usize, len: usize) -> String {
    const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut n = seed.wrapping_mul(0x9E37_79B9).wrapping_add(0x7F4A_7C15);
    let mut s: String = (0..len)
        .map(|_| {
            n ^= n << 13;
            n ^= n >> 7;
            n ^= n << 17;
            B64[n % 64] as char
        })
        .collect();
    // Whole base64 quanta, so the value decodes.
    s.truncate(len / 4 * 4);
    s
}

struct App {
    name: String,
    ns: String,
    team: usize,
    index: usize,
    mistake: Mistake,
    ingress: bool,
    hpa: bool,
    sidecar: bool,
    port: u32,
}

fn config_map(out: &mut String, a: &App) {
    let App { name, ns, index, .. } = a;
    let _ = write!(
        out,
        r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}-config
  namespace: {ns}
  labels:
    app.kubernetes.io/name: {name}
    app.kubernetes.io/part-of: shop
    app.kubernetes.io/managed-by: kustomize
data:
  LOG_LEVEL: info
  LOG_FORMAT: json
  HTTP_PORT: "{port}"
  FEATURE_FLAGS: "new-checkout,fast-search"
  UPSTREAM_TIMEOUT: 5s
  CACHE_TTL_SECONDS: "300"
  application.yaml: |
    server:
      port: {port}
      shutdown: graceful
    management:
      endpoints:
        web:
          exposure:
            include: health,prometheus
    upstreams:
      catalog: http://catalog-api.{ns}.svc.cluster.local:8080
      pricing: http://pricing-api.{ns}.svc.cluster.local:8080
    retry:
      attempts: 3
      backoff: 200ms
    build: "{index}"
"#,
        port = a.port
    );
}

fn secret(out: &mut String, a: &App) {
    let App { name, ns, index, .. } = a;
    let _ = write!(
        out,
        r#"apiVersion: v1
kind: Secret
metadata:
  name: {name}-secrets
  namespace: {ns}
  labels:
    app.kubernetes.io/name: {name}
type: Opaque
data:
  DATABASE_URL: {db}
  API_KEY: {key}
  SESSION_SECRET: {session}
"#,
        db = fake_secret(index * 3, 64),
        key = fake_secret(index * 3 + 1, 44),
        session = fake_secret(index * 3 + 2, 32),
    );
}

fn labels(out: &mut String, a: &App, indent: &str) {
    let _ = writeln!(out, "{indent}app.kubernetes.io/name: {}", a.name);
    let _ = writeln!(out, "{indent}app.kubernetes.io/part-of: shop");
    let _ = writeln!(out, "{indent}app.kubernetes.io/version: \"1.{}.0\"", a.index % 40);
    let _ = writeln!(out, "{indent}team: team-{}", a.team);
}

fn deployment(out: &mut String, a: &App) {
    let App { name, ns, index, port, .. } = a;
    let _ =
        write!(out, "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: {ns}\n  labels:\n");
    labels(out, a, "    ");
    if a.mistake == Mistake::DuplicateLabel {
        // A merge conflict resolved by keeping both lines.
        let _ = writeln!(out, "    team: team-{}", (a.team + 1) % TEAMS);
    }
    let _ = write!(
        out,
        r#"  annotations:
    deployment.kubernetes.io/revision: "{rev}"
    kubernetes.io/change-cause: "release 1.{minor}.0"
spec:
  {replicas}: {n}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      app.kubernetes.io/name: {name}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 25%
      maxUnavailable: 0
  template:
    metadata:
      labels:
"#,
        rev = index % 17 + 1,
        minor = index % 40,
        replicas = if a.mistake == Mistake::Typo { "replicaz" } else { "replicas" },
        n = index % 4 + 2,
    );
    labels(out, a, "        ");
    let _ = write!(
        out,
        r#"      annotations:
        prometheus.io/scrape: "true"
        prometheus.io/port: "{port}"
    spec:
      terminationGracePeriodSeconds: 30
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        fsGroup: 10001
        seccompProfile:
          type: RuntimeDefault
"#
    );
    if a.mistake == Mistake::PodCapabilities {
        let _ = write!(out, "        capabilities:\n          drop: [\"ALL\"]\n");
    }
    let container_port = if a.mistake == Mistake::QuotedPort { format!("\"{port}\"") } else { port.to_string() };
    let _ = write!(
        out,
        r#"      affinity:
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
          - weight: 100
            podAffinityTerm:
              topologyKey: kubernetes.io/hostname
              labelSelector:
                matchLabels:
                  app.kubernetes.io/name: {name}
      containers:
      - name: app
        image: ghcr.io/acme-shop/{name}:1.{minor}.{patch}
        imagePullPolicy: IfNotPresent
        args: ["--config", "/etc/{name}/application.yaml"]
        ports:
        - name: http
          containerPort: {container_port}
          protocol: TCP
        - name: metrics
          containerPort: 9090
        env:
        - name: POD_NAME
          valueFrom:
            fieldRef:
              fieldPath: metadata.name
        - name: POD_NAMESPACE
          valueFrom:
            fieldRef:
              fieldPath: metadata.namespace
        - name: DATABASE_URL
          valueFrom:
            secretKeyRef:
              name: {name}-secrets
              key: DATABASE_URL
        - name: API_KEY
          valueFrom:
            secretKeyRef:
              name: {name}-secrets
              key: API_KEY
        - name: GOMAXPROCS
          valueFrom:
            resourceFieldRef:
              resource: limits.cpu
        - name: JAVA_TOOL_OPTIONS
          value: "-XX:MaxRAMPercentage=75"
        envFrom:
        - configMapRef:
            name: {name}-config
        resources:
          requests:
            cpu: {cpu}m
            memory: {mem}Mi
          limits:
            memory: {limit}Mi
        readinessProbe:
          httpGet:
            path: /ready
            port: http
          periodSeconds: 5
          failureThreshold: 3
        livenessProbe:
          httpGet:
            path: /healthz
            port: http
          initialDelaySeconds: 30
          periodSeconds: 10
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          capabilities:
            drop: ["ALL"]
        volumeMounts:
        - name: config
          mountPath: /etc/{name}
          readOnly: true
        - name: tmp
          mountPath: /tmp
"#,
        minor = index % 40,
        patch = index % 7,
        cpu = 100 + (index % 8) * 50,
        mem = 128 << (index % 3),
        limit = 256 << (index % 3),
    );
    if a.sidecar {
        let _ = write!(
            out,
            r#"      - name: log-shipper
        image: fluent/fluent-bit:3.1.9
        args: ["-c", "/fluent-bit/etc/fluent-bit.conf"]
        resources:
          requests:
            cpu: 20m
            memory: 32Mi
          limits:
            memory: 64Mi
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
        volumeMounts:
        - name: tmp
          mountPath: /var/log/app
"#
        );
    }
    let _ = write!(
        out,
        r#"      volumes:
      - name: config
        configMap:
          name: {name}-config
          defaultMode: 0444
      - name: tmp
        emptyDir:
          sizeLimit: 64Mi
"#
    );
}

fn service(out: &mut String, a: &App) {
    let App { name, ns, .. } = a;
    let _ = write!(
        out,
        r#"apiVersion: v1
kind: Service
metadata:
  name: {name}
  namespace: {ns}
  labels:
    app.kubernetes.io/name: {name}
spec:
  type: ClusterIP
  selector:
    app.kubernetes.io/name: {name}
  ports:
  - name: http
    port: 80
    targetPort: http
    protocol: TCP
  - name: metrics
    port: 9090
    targetPort: metrics
"#
    );
}

fn ingress(out: &mut String, a: &App) {
    let App { name, ns, .. } = a;
    let path_type = if a.mistake == Mistake::NoPathType { "" } else { "        pathType: Prefix\n" };
    let _ = write!(
        out,
        r#"apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {name}
  namespace: {ns}
  annotations:
    cert-manager.io/cluster-issuer: letsencrypt-prod
    nginx.ingress.kubernetes.io/proxy-body-size: 8m
spec:
  ingressClassName: nginx
  tls:
  - hosts:
    - {name}.shop.example.com
    secretName: {name}-tls
  rules:
  - host: {name}.shop.example.com
    http:
      paths:
      - path: /
{path_type}        backend:
          service:
            name: {name}
            port:
              name: http
"#
    );
}

fn hpa(out: &mut String, a: &App) {
    let App { name, ns, index, .. } = a;
    let _ = write!(
        out,
        r#"apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {name}
  namespace: {ns}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {name}
  minReplicas: {min}
  maxReplicas: {max}
  metrics:
  - type: Resource
    resource:
      name: cpu
      target:
        type: Utilization
        averageUtilization: 70
  behavior:
    scaleDown:
      stabilizationWindowSeconds: 300
"#,
        min = index % 4 + 2,
        max = index % 4 + 10,
    );
}

/// Write a bundle of exactly `objects` objects under `dir` (created if needed); one
/// application in `broken_every` (0: none) carries one schema mistake.
pub fn generate_bundle(dir: &Path, objects: usize, broken_every: usize) -> anyhow::Result<BundleStats> {
    std::fs::create_dir_all(dir)?;
    let mut stats = BundleStats::default();
    let mut index = 0;
    let mut text = String::with_capacity(16 << 10);
    while stats.objects < objects {
        let team = index % TEAMS;
        let name = format!("{}-{}-{}", WORDS[index % WORDS.len()], ROLES[(index / WORDS.len()) % ROLES.len()], index);
        let app = App {
            name,
            ns: format!("team-{team}"),
            team,
            index,
            mistake: mistake(index, broken_every),
            ingress: index % 2 == 0,
            hpa: index % 3 != 2,
            sidecar: index % 4 == 1,
            port: [8080, 8000, 3000, 8081, 5000][index % 5],
        };
        let mut parts: Vec<fn(&mut String, &App)> = vec![config_map, secret, deployment, service];
        if app.ingress || app.mistake == Mistake::NoPathType {
            parts.push(ingress);
        }
        if app.hpa {
            parts.push(hpa);
        }
        parts.truncate(objects - stats.objects);
        text.clear();
        let _ = writeln!(text, "# {} — generated by ks-synth for benchmarks", app.name);
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                text.push_str("---\n");
            }
            part(&mut text, &app);
        }
        // The mistake counts only when the object that carries it was written.
        let written = parts.len();
        let carried = match app.mistake {
            Mistake::None => false,
            Mistake::NoPathType => written >= 5,
            _ => written >= 3,
        };
        let team_dir = dir.join(&app.ns);
        if index < TEAMS {
            std::fs::create_dir_all(&team_dir)?;
        }
        let mut f = std::io::BufWriter::new(std::fs::File::create(team_dir.join(format!("{}.yaml", app.name)))?);
        f.write_all(text.as_bytes())?;
        f.flush()?;
        stats.objects += written;
        stats.files += 1;
        stats.apps += 1;
        stats.broken += usize::from(carried);
        index += 1;
    }
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_exactly_the_requested_objects_with_planted_mistakes() {
        let dir = tempfile_dir("bundle-exact");
        let stats = generate_bundle(&dir, 1003, 25).expect("generate");
        assert_eq!(stats.objects, 1003);
        let mut docs = 0;
        let mut kinds = std::collections::BTreeMap::new();
        for team in std::fs::read_dir(&dir).expect("read dir") {
            for file in std::fs::read_dir(team.expect("entry").path()).expect("team dir") {
                let text = std::fs::read_to_string(file.expect("entry").path()).expect("read");
                for doc in text.split("\n---\n") {
                    docs += 1;
                    let kind = doc.lines().find_map(|l| l.strip_prefix("kind: ")).unwrap_or("?").to_string();
                    *kinds.entry(kind).or_insert(0) += 1;
                }
            }
        }
        assert_eq!(docs, 1003);
        for kind in ["ConfigMap", "Secret", "Deployment", "Service", "Ingress", "HorizontalPodAutoscaler"] {
            assert!(kinds.get(kind).copied().unwrap_or(0) > 50, "{kind}: {kinds:?}");
        }
        // 1003 objects are about 194 apps: mistakes at 25, 50, ..., 175.
        assert_eq!(stats.broken, 7);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn secrets_are_whole_base64_quanta() {
        for seed in 0..50 {
            let s = fake_secret(seed, 45);
            assert_eq!(s.len() % 4, 0);
            assert!(s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/'));
        }
    }

    fn tempfile_dir(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("ks-synth-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }
}
