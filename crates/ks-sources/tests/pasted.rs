//! The pasted-text source on real kubectl formats (describe's printer, `kubectl get` and
//! `kubectl events` tables, logs, YAML/JSON) and on text as people paste it.

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{ContainerStatus, Pod};
use ks_core::{EventRecord, Evidence, LogKey};
use ks_sources::pasted::{
    PasteOptions, REFERENCE_NOW, SYNTHETIC_ANNOTATION, SYNTHETIC_POD, TABLE_ANNOTATION, load_pasted,
};

fn load(text: &str) -> Evidence {
    load_with(text, &PasteOptions::default())
}

fn load_with(text: &str, opts: &PasteOptions) -> Evidence {
    let mut ev = Evidence::default();
    load_pasted("paste", text.as_bytes(), opts, &mut ev);
    ev.finish();
    ev
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn pod<'a>(ev: &'a Evidence, name: &str) -> &'a Pod {
    ev.pods
        .iter()
        .find(|p| p.metadata.name.as_deref() == Some(name))
        .unwrap_or_else(|| panic!("no pod {name}: {:?}", names(ev)))
}

fn names(ev: &Evidence) -> Vec<String> {
    ev.pods
        .iter()
        .map(|p| {
            format!("{}/{}", p.metadata.namespace.as_deref().unwrap_or(""), p.metadata.name.as_deref().unwrap_or(""))
        })
        .collect()
}

fn status<'a>(p: &'a Pod, container: &str) -> &'a ContainerStatus {
    let st = p.status.as_ref().unwrap();
    st.container_statuses
        .iter()
        .flatten()
        .chain(st.init_container_statuses.iter().flatten())
        .find(|c| c.name == container)
        .unwrap()
}

fn waiting(cs: &ContainerStatus) -> Option<&str> {
    cs.state.as_ref()?.waiting.as_ref()?.reason.as_deref()
}

fn event<'a>(ev: &'a Evidence, reason: &str) -> &'a EventRecord {
    ev.events.iter().find(|e| e.reason == reason).unwrap_or_else(|| panic!("no {reason} event in {:?}", ev.events))
}

fn annotated(p: &Pod, key: &str) -> bool {
    p.metadata.annotations.as_ref().is_some_and(|a| a.contains_key(key))
}

/// Lay out rows as kubectl's tabwriter does: each column padded to its widest cell plus
/// `pad` spaces, the whole table indented by `indent`.
fn table(rows: &[&[&str]], pad: usize, indent: usize) -> String {
    let cols = rows.iter().map(|r| r.len()).max().unwrap_or(0);
    let widths: Vec<usize> =
        (0..cols).map(|c| rows.iter().filter_map(|r| r.get(c)).map(|s| s.chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for r in rows {
        let mut line = " ".repeat(indent);
        for (c, cell) in r.iter().enumerate() {
            line.push_str(cell);
            if c + 1 < r.len() {
                line.push_str(&" ".repeat(widths[c] - cell.chars().count() + pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

const DESCRIBE_POD: &str = r#"Name:             web-5d4b7c9f8-x2x7k
Namespace:        shop
Priority:         0
Service Account:  default
Node:             node-1/10.0.0.5
Start Time:       Tue, 02 Jan 2024 03:00:00 +0000
Labels:           app=web
                  pod-template-hash=5d4b7c9f8
Annotations:      kubectl.kubernetes.io/restartedAt: 2024-01-01T00:00:00Z
Status:           Running
IP:               10.244.1.7
IPs:
  IP:           10.244.1.7
Controlled By:  ReplicaSet/web-5d4b7c9f8
Init Containers:
  migrate:
    Container ID:  containerd://aaa
    Image:         shop/migrate:1.2
    Image ID:      docker.io/shop/migrate@sha256:abc
    Port:          <none>
    Host Port:     <none>
    Command:
      /bin/sh
      -c
      ./migrate up
    State:          Terminated
      Reason:       Completed
      Exit Code:    0
      Started:      Tue, 02 Jan 2024 03:00:05 +0000
      Finished:     Tue, 02 Jan 2024 03:00:09 +0000
    Ready:          True
    Restart Count:  0
    Environment:    <none>
    Mounts:
      /var/run/secrets/kubernetes.io/serviceaccount from kube-api-access-abcde (ro)
Containers:
  api:
    Container ID:   containerd://bbb
    Image:          shop/api:2.0
    Image ID:       docker.io/shop/api@sha256:def
    Port:           8080/TCP
    Host Port:      0/TCP
    Args:
      --port=8080
    State:          Waiting
      Reason:       CrashLoopBackOff
    Last State:     Terminated
      Reason:       OOMKilled
      Exit Code:    137
      Started:      Tue, 02 Jan 2024 03:58:00 +0000
      Finished:     Tue, 02 Jan 2024 03:59:30 +0000
    Ready:          False
    Restart Count:  12
    Limits:
      cpu:     500m
      memory:  256Mi
    Requests:
      cpu:      250m
      memory:   128Mi
    Liveness:   http-get http://:8080/healthz delay=10s timeout=1s period=10s #success=1 #failure=3
    Readiness:  exec [cat /tmp/ready] delay=5s timeout=1s period=5s #success=1 #failure=3
    Environment Variables from:
      api-config  ConfigMap  Optional: false
      api-creds   Secret     Optional: true
    Environment:
      LOG_LEVEL:      info
      DB_PASSWORD:    <set to the key 'password' in secret 'db-credentials'>  Optional: false
      FEATURE_FLAGS:  <set to the key 'flags' of config map 'features'>      Optional: true
      POD_IP:          (v1:status.podIP)
      CPU_LIMIT:      node allocatable (limits.cpu)
    Mounts:
      /data from data (rw)
      /etc/app/config.yaml from config (ro,path="config.yaml")
      /etc/tls from tls (ro)
      /var/run/secrets/kubernetes.io/serviceaccount from kube-api-access-abcde (ro)
Conditions:
  Type              Status
  Initialized       True 
  Ready             False 
  ContainersReady   False 
  PodScheduled      True 
Volumes:
  data:
    Type:       PersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same namespace)
    ClaimName:  web-data
    ReadOnly:   false
  tls:
    Type:        Secret (a volume populated by a Secret)
    SecretName:  web-tls
    Optional:    false
  config:
    Type:      ConfigMap (a volume populated by a ConfigMap)
    Name:      web-config
    Optional:  false
  kube-api-access-abcde:
    Type:                    Projected (a volume that contains injected data from multiple sources)
    TokenExpirationSeconds:  3607
    ConfigMapName:           kube-root-ca.crt
    ConfigMapOptional:       <nil>
    DownwardAPI:             true
QoS Class:                   Burstable
Node-Selectors:              disktype=ssd
Tolerations:                 node.kubernetes.io/not-ready:NoExecute op=Exists for 300s
                             node.kubernetes.io/unreachable:NoExecute op=Exists for 300s
Events:
  Type     Reason     Age                  From               Message
  ----     ------     ----                 ----               -------
  Normal   Scheduled  60m                  default-scheduler  Successfully assigned shop/web-5d4b7c9f8-x2x7k to node-1
  Normal   Pulled     58m (x12 over 60m)   kubelet            Container image "shop/api:2.0" already present on machine
  Warning  BackOff    30s (x250 over 59m)  kubelet            Back-off restarting failed container api in pod web-5d4b7c9f8-x2x7k_shop(1234)
"#;

#[test]
fn describe_pod_reads_every_section() {
    let ev = load(DESCRIBE_POD);
    assert!(ev.gaps.is_empty(), "{:?}", ev.gaps);
    assert_eq!(ev.pods.len(), 1);
    let p = pod(&ev, "web-5d4b7c9f8-x2x7k");
    assert_eq!(p.metadata.namespace.as_deref(), Some("shop"));
    assert!(!annotated(p, SYNTHETIC_ANNOTATION) && !annotated(p, TABLE_ANNOTATION));
    let labels = p.metadata.labels.as_ref().unwrap();
    assert_eq!(labels["pod-template-hash"], "5d4b7c9f8");
    let owner = &p.metadata.owner_references.as_ref().unwrap()[0];
    assert_eq!(
        (owner.kind.as_str(), owner.name.as_str(), owner.controller),
        ("ReplicaSet", "web-5d4b7c9f8", Some(true))
    );
    // The owner resolves to the Deployment through the template hash.
    let w = ev.workload_of(0);
    assert_eq!((w.kind.as_str(), w.name.as_str()), ("Deployment", "web"));
    let spec = p.spec.as_ref().unwrap();
    assert_eq!(spec.node_name.as_deref(), Some("node-1"));
    assert_eq!(spec.service_account_name.as_deref(), Some("default"));
    let st = p.status.as_ref().unwrap();
    assert_eq!(st.phase.as_deref(), Some("Running"));
    assert_eq!(st.host_ip.as_deref(), Some("10.0.0.5"));
    assert_eq!(st.pod_ip.as_deref(), Some("10.244.1.7"));
    assert_eq!(st.qos_class.as_deref(), Some("Burstable"));
    assert_eq!(st.start_time.as_ref().map(|t| t.0), Some(ts("2024-01-02T03:00:00Z")));

    // Init container.
    let init = &spec.init_containers.as_ref().unwrap()[0];
    assert_eq!(init.command.as_ref().unwrap(), &vec!["/bin/sh".to_string(), "-c".into(), "./migrate up".into()]);
    let ics = status(p, "migrate");
    let t = ics.state.as_ref().unwrap().terminated.as_ref().unwrap();
    assert_eq!((t.reason.as_deref(), t.exit_code), (Some("Completed"), 0));
    assert!(ics.ready);

    // Main container status.
    let cs = status(p, "api");
    assert_eq!(waiting(cs), Some("CrashLoopBackOff"));
    let last = cs.last_state.as_ref().unwrap().terminated.as_ref().unwrap();
    assert_eq!((last.reason.as_deref(), last.exit_code), (Some("OOMKilled"), 137));
    assert_eq!(last.finished_at.as_ref().map(|t| t.0), Some(ts("2024-01-02T03:59:30Z")));
    assert_eq!((cs.ready, cs.restart_count), (false, 12));
    assert_eq!((cs.image.as_str(), cs.image_id.as_str()), ("shop/api:2.0", "docker.io/shop/api@sha256:def"));
    assert_eq!(cs.container_id.as_deref(), Some("containerd://bbb"));

    // Main container spec.
    let c = &spec.containers[0];
    assert_eq!((c.name.as_str(), c.image.as_deref()), ("api", Some("shop/api:2.0")));
    assert_eq!(c.args.as_ref().unwrap(), &vec!["--port=8080".to_string()]);
    assert_eq!(c.ports.as_ref().unwrap()[0].container_port, 8080);
    let res = c.resources.as_ref().unwrap();
    assert_eq!(res.limits.as_ref().unwrap()["memory"].0, "256Mi");
    assert_eq!(res.requests.as_ref().unwrap()["cpu"].0, "250m");
    let live = c.liveness_probe.as_ref().unwrap();
    let http = live.http_get.as_ref().unwrap();
    assert_eq!(
        (http.path.as_deref(), live.initial_delay_seconds, live.failure_threshold),
        (Some("/healthz"), Some(10), Some(3))
    );
    assert_eq!(
        c.readiness_probe.as_ref().unwrap().exec.as_ref().unwrap().command.as_ref().unwrap(),
        &vec!["cat".to_string(), "/tmp/ready".into()]
    );
    let from = c.env_from.as_ref().unwrap();
    assert_eq!(from[0].config_map_ref.as_ref().unwrap().name, "api-config");
    assert_eq!(from[1].secret_ref.as_ref().unwrap().optional, Some(true));
    let env = c.env.as_ref().unwrap();
    let var = |n: &str| env.iter().find(|e| e.name == n).unwrap();
    assert_eq!(var("LOG_LEVEL").value.as_deref(), Some("info"));
    let sk = var("DB_PASSWORD").value_from.as_ref().unwrap().secret_key_ref.as_ref().unwrap();
    assert_eq!((sk.name.as_str(), sk.key.as_str(), sk.optional), ("db-credentials", "password", Some(false)));
    let ck = var("FEATURE_FLAGS").value_from.as_ref().unwrap().config_map_key_ref.as_ref().unwrap();
    assert_eq!((ck.name.as_str(), ck.key.as_str(), ck.optional), ("features", "flags", Some(true)));
    assert_eq!(var("POD_IP").value_from.as_ref().unwrap().field_ref.as_ref().unwrap().field_path, "status.podIP");
    assert_eq!(
        var("CPU_LIMIT").value_from.as_ref().unwrap().resource_field_ref.as_ref().unwrap().resource,
        "limits.cpu"
    );
    let mounts = c.volume_mounts.as_ref().unwrap();
    assert_eq!(mounts.len(), 4);
    let cfg = mounts.iter().find(|m| m.name == "config").unwrap();
    assert_eq!(
        (cfg.mount_path.as_str(), cfg.sub_path.as_deref(), cfg.read_only),
        ("/etc/app/config.yaml", Some("config.yaml"), Some(true))
    );

    // Pod-level sections.
    let conds = st.conditions.as_ref().unwrap();
    assert_eq!(conds.len(), 4);
    assert!(conds.iter().any(|c| c.type_ == "Ready" && c.status == "False"));
    let vols = spec.volumes.as_ref().unwrap();
    let vol = |n: &str| vols.iter().find(|v| v.name == n).unwrap();
    assert_eq!(vol("data").persistent_volume_claim.as_ref().unwrap().claim_name, "web-data");
    assert_eq!(vol("tls").secret.as_ref().unwrap().secret_name.as_deref(), Some("web-tls"));
    assert_eq!(vol("config").config_map.as_ref().unwrap().name, "web-config");
    assert!(vol("kube-api-access-abcde").projected.is_some());
    assert_eq!(spec.node_selector.as_ref().unwrap()["disktype"], "ssd");
    let tol = spec.tolerations.as_ref().unwrap();
    assert_eq!(tol.len(), 2);
    assert_eq!(
        (tol[0].operator.as_deref(), tol[0].effect.as_deref(), tol[0].toleration_seconds),
        (Some("Exists"), Some("NoExecute"), Some(300))
    );

    // Events belong to the pod; ages count back from the newest absolute time (03:59:30).
    assert_eq!(ev.events.len(), 3);
    let e = event(&ev, "BackOff");
    assert_eq!(
        (e.involved.kind.as_str(), e.involved.namespace.as_deref(), e.involved.name.as_str()),
        ("Pod", Some("shop"), "web-5d4b7c9f8-x2x7k")
    );
    assert_eq!((e.type_.as_str(), e.count, e.component.as_str()), ("Warning", 250, "kubelet"));
    assert_eq!(e.last, Some(ts("2024-01-02T03:59:00Z")));
    assert_eq!(e.first, Some(ts("2024-01-02T03:00:30Z")));
    assert_eq!(e.involved.field_path, None);
    assert_eq!(ev.events_for("Pod", Some("shop"), "web-5d4b7c9f8-x2x7k").len(), 3);
}

const DESCRIBE_EVENTS: &str = r#"Events:
  Type     Reason            Age              From               Message
  ----     ------            ----             ----               -------
  Normal   Scheduled         <unknown>        default-scheduler  Successfully assigned default/db-0 to node-2
  Warning  FailedMount       3m (x3 over 5m)  kubelet, node-2    MountVolume.SetUp failed for volume "creds" : secret "db-creds" not found
  Warning  FailedScheduling  <invalid>        default-scheduler  0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient
                                                                 cpu. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.
  Warning  Failed            10s              kubelet            Error: failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container proc
"#;

#[test]
fn describe_events_ages_sources_wrapping_and_truncation() {
    let ev = load(DESCRIBE_EVENTS);
    assert!(ev.gaps.is_empty(), "{:?}", ev.gaps);
    assert_eq!(ev.events.len(), 4);
    // No absolute time: the fixed reference now.
    let now = REFERENCE_NOW;
    let sched = event(&ev, "Scheduled");
    assert_eq!((sched.last, sched.first), (None, None));
    let mount = event(&ev, "FailedMount");
    assert_eq!(mount.count, 3);
    assert_eq!(mount.component, "kubelet");
    assert_eq!(mount.last, Some(Timestamp::from_second(now.as_second() - 180).unwrap()));
    assert_eq!(mount.first, Some(Timestamp::from_second(now.as_second() - 300).unwrap()));
    let fs = event(&ev, "FailedScheduling");
    assert_eq!(fs.last, Some(now), "<invalid> (a time in the future) reads as now");
    assert!(
        fs.message.ends_with(
            "2 Insufficient cpu. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
        ),
        "{}",
        fs.message
    );
    let failed = event(&ev, "Failed");
    assert!(failed.message.ends_with("unable to start container proc"), "cut-off messages are kept as they are");
    // The Scheduled message names the pod: every event attaches to it.
    assert!(ev.events.iter().all(|e| e.involved.kind == "Pod"
        && e.involved.name == "db-0"
        && e.involved.namespace.as_deref() == Some("default")));
    // Its state is restated from them: the scheduling failure is the newest word.
    let p = pod(&ev, "db-0");
    assert!(annotated(p, SYNTHETIC_ANNOTATION));
    assert_eq!(p.status.as_ref().unwrap().phase.as_deref(), Some("Pending"));
    assert_eq!(p.spec.as_ref().unwrap().node_name, None);
}

#[test]
fn get_events_default_all_namespaces_wide_and_kubectl_events() {
    let default = table(
        &[
            &["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"],
            &["2m", "Normal", "Scheduled", "pod/web-1", "Successfully assigned shop/web-1 to node-1"],
            &[
                "45s",
                "Warning",
                "BackOff",
                "pod/web-1",
                "Back-off restarting failed container web in pod web-1_shop(abc)",
            ],
            &[
                "3m",
                "Warning",
                "FailedCreate",
                "replicaset/api-7d4b9c",
                "Error creating: pods \"api-7d4b9c-x\" is forbidden: exceeded quota: q, requested: cpu=1, used: cpu=4, limited: cpu=4",
            ],
            &["<unknown>", "Normal", "SuccessfulCreate", "replicaset/api-7d4b9c", "Created pod: api-7d4b9c-abcde"],
        ],
        3,
        0,
    );
    let ev = load(&format!("$ kubectl get events -n shop\n{default}"));
    assert!(ev.gaps.is_empty(), "{:?}", ev.gaps);
    assert_eq!(ev.events.len(), 4);
    let bo = event(&ev, "BackOff");
    assert_eq!(
        (bo.involved.kind.as_str(), bo.involved.name.as_str(), bo.involved.namespace.as_deref()),
        ("Pod", "web-1", Some("shop"))
    );
    let fc = event(&ev, "FailedCreate");
    assert_eq!((fc.involved.kind.as_str(), fc.involved.name.as_str()), ("ReplicaSet", "api-7d4b9c"));
    assert!(fc.message.starts_with("Error creating: pods"));
    assert!(event(&ev, "SuccessfulCreate").last.is_none());

    let all = table(
        &[
            &["NAMESPACE", "LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"],
            &[
                "shop",
                "5m",
                "Warning",
                "Failed",
                "pod/web-2",
                "Failed to pull image \"shop/web:9.9\": rpc error: code = NotFound desc = failed to pull and unpack image \"docker.io/shop/web:9.9\": failed to resolve reference \"docker.io/shop/web:9.9\": docker.io/shop/web:9.9: not found",
            ],
            &[
                "kube-system",
                "10m",
                "Normal",
                "Pulled",
                "pod/coredns-1",
                "Container image \"coredns:1.11\" already present on machine",
            ],
        ],
        3,
        0,
    );
    let ev = load(&format!("kubectl get events -A\n{all}"));
    assert_eq!(event(&ev, "Failed").involved.namespace.as_deref(), Some("shop"));
    assert_eq!(event(&ev, "Pulled").involved.namespace.as_deref(), Some("kube-system"));

    let wide = table(
        &[
            &[
                "NAMESPACE",
                "LAST SEEN",
                "TYPE",
                "REASON",
                "OBJECT",
                "SUBOBJECT",
                "SOURCE",
                "MESSAGE",
                "FIRST SEEN",
                "COUNT",
                "NAME",
            ],
            &[
                "shop",
                "30s",
                "Warning",
                "Unhealthy",
                "pod/web-3",
                "spec.containers{web}",
                "kubelet, node-1",
                "Readiness probe failed: HTTP probe failed with statuscode: 503",
                "10m",
                "42",
                "web-3.17a2b3c4d5e6f7a8",
            ],
        ],
        3,
        0,
    );
    let ev = load(&format!("$ kubectl get events -A -o wide\n{wide}"));
    let u = event(&ev, "Unhealthy");
    assert_eq!(
        (u.count, u.component.as_str(), u.involved.field_path.as_deref()),
        (42, "kubelet", Some("spec.containers{web}"))
    );
    assert_eq!(u.message, "Readiness probe failed: HTTP probe failed with statuscode: 503");
    assert_eq!(u.first, Some(Timestamp::from_second(REFERENCE_NOW.as_second() - 600).unwrap()));

    let events = table(
        &[
            &["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"],
            &[
                "2m30s (x5 over 10m)",
                "Warning",
                "BackOff",
                "Pod/web-1",
                "Back-off restarting failed container web in pod web-1_shop(uid)",
            ],
            &["11m", "Normal", "Killing", "Pod/web-1", "Container web failed liveness probe, will be restarted"],
        ],
        3,
        0,
    );
    let ev = load(&format!("$ kubectl events --for pod/web-1 -n shop\n{events}"));
    let bo = event(&ev, "BackOff");
    assert_eq!((bo.count, bo.involved.name.as_str(), bo.involved.namespace.as_deref()), (5, "web-1", Some("shop")));
    assert_eq!(bo.last, Some(Timestamp::from_second(REFERENCE_NOW.as_second() - 150).unwrap()));
}

#[test]
fn get_events_wrapped_message_and_old_layout() {
    // A message wrapped onto a line indented to the message column.
    let mut t = table(
        &[
            &["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"],
            &["1m", "Warning", "FailedScheduling", "pod/db-0", "0/3 nodes are available: 3 pod has unbound immediate"],
        ],
        3,
        0,
    );
    let col = t.lines().next().unwrap().find("MESSAGE").unwrap();
    t.push_str(&format!("{}PersistentVolumeClaims.\n", " ".repeat(col)));
    let ev = load(&t);
    assert_eq!(
        event(&ev, "FailedScheduling").message,
        "0/3 nodes are available: 3 pod has unbound immediate PersistentVolumeClaims."
    );

    // The pre-1.14 wide layout, with and without its header.
    let old = table(
        &[
            &["LASTSEEN", "FIRSTSEEN", "COUNT", "NAME", "KIND", "SUBOBJECT", "TYPE", "REASON", "SOURCE", "MESSAGE"],
            &[
                "59m",
                "6d",
                "124",
                "api-6597bc46dc.1576a87b365ab1e4",
                "ReplicaSet",
                "",
                "Warning",
                "FailedCreate",
                "replicaset-controller",
                "Error creating: pods \"api-6597bc46dc-2wm8j\" is forbidden: exceeded quota: ns-quota",
            ],
        ],
        3,
        0,
    );
    let ev = load(&old);
    let fc = event(&ev, "FailedCreate");
    assert_eq!((fc.involved.kind.as_str(), fc.involved.name.as_str(), fc.count), ("ReplicaSet", "api-6597bc46dc", 124));
    let headerless = "59m         59m          1         web-1.1578834752099143   Pod          spec.containers{web}   Normal    Killing                 kubelet, ip-10-0-0-1.ec2.internal   Killing container with id docker://web:Need to kill Pod\n";
    let ev = load(headerless);
    let k = event(&ev, "Killing");
    assert_eq!((k.involved.kind.as_str(), k.involved.name.as_str(), k.component.as_str()), ("Pod", "web-1", "kubelet"));
    assert_eq!(k.involved.field_path.as_deref(), Some("spec.containers{web}"));
    assert_eq!(k.message, "Killing container with id docker://web:Need to kill Pod");
}

#[test]
fn headerless_rows_single_spaced_and_terminal_wrapped() {
    let ev = load(
        "Warning FailedScheduling 56s (x7 over 9m45s) default-scheduler 0/6 nodes are available: 6 node(s) didn't match node selector.\n",
    );
    let e = event(&ev, "FailedScheduling");
    assert_eq!((e.count, e.component.as_str()), (7, "default-scheduler"));
    assert_eq!(e.message, "0/6 nodes are available: 6 node(s) didn't match node selector.");
    let p = pod(&ev, SYNTHETIC_POD);
    assert_eq!(p.status.as_ref().unwrap().phase.as_deref(), Some("Pending"));

    let wrapped = "  Warning  Failed                 1m (x5 over 2m)  kubelet, minikube  Error: failed to start container \"catalogue\": Error response from daemon: OCI runtime create failed: container_linux.go:348: starting containe\nr process caused \"exec: \\\"-port=80\\\": executable file not found in $PATH\": unknown\n";
    let ev = load(wrapped);
    let e = event(&ev, "Failed");
    assert!(e.message.contains("starting container process caused"), "{}", e.message);
    assert_eq!(e.component, "kubelet");
    let cs = status(pod(&ev, SYNTHETIC_POD), "catalogue");
    assert_eq!(waiting(cs), Some("RunContainerError"));

    let pipes = "Warning | Unhealthy | kubelet | Readiness probe errored: strconv.Atoi: parsing \"http\": invalid syntax | 2 minutes (13 times over 4 minutes)\n";
    let ev = load(pipes);
    let e = event(&ev, "Unhealthy");
    assert_eq!((e.count, e.component.as_str()), (13, "kubelet"));
    assert!(e.message.starts_with("Readiness probe errored"));
}

#[test]
fn get_pods_tables_restate_status() {
    let t = table(
        &[
            &["NAME", "READY", "STATUS", "RESTARTS", "AGE"],
            &["web-1", "0/1", "CrashLoopBackOff", "6 (118s ago)", "20m"],
            &["web-2", "0/1", "ImagePullBackOff", "0", "5m"],
            &["web-3", "0/1", "CreateContainerConfigError", "0", "5m"],
            &["job-x", "0/1", "Completed", "0", "1h"],
            &["db-0", "0/1", "Init:CrashLoopBackOff", "3", "10m"],
            &["evicted-1", "0/1", "Evicted", "0", "2d"],
            &["oom-1", "0/1", "OOMKilled", "4", "3m"],
            &["err-1", "0/1", "Error", "0", "3m"],
            &["pend-1", "0/1", "Pending", "0", "3m"],
            &["multi-1", "1/2", "Running", "2 (30s ago)", "3m"],
        ],
        3,
        0,
    );
    let ev = load(&format!("$ kubectl get pods -n shop\n{t}"));
    assert!(ev.gaps.is_empty(), "{:?}", ev.gaps);
    assert_eq!(ev.pods.len(), 10);
    assert!(ev.pods.iter().all(|p| p.metadata.namespace.as_deref() == Some("shop") && annotated(p, TABLE_ANNOTATION)));
    let w1 = status(pod(&ev, "web-1"), "app");
    assert_eq!((waiting(w1), w1.restart_count), (Some("CrashLoopBackOff"), 6));
    assert_eq!(waiting(status(pod(&ev, "web-2"), "app")), Some("ImagePullBackOff"));
    assert_eq!(waiting(status(pod(&ev, "web-3"), "app")), Some("CreateContainerConfigError"));
    assert_eq!(pod(&ev, "job-x").status.as_ref().unwrap().phase.as_deref(), Some("Succeeded"));
    let init = status(pod(&ev, "db-0"), "init");
    assert_eq!((waiting(init), init.restart_count), (Some("CrashLoopBackOff"), 3));
    let ev_st = pod(&ev, "evicted-1").status.as_ref().unwrap();
    assert_eq!((ev_st.phase.as_deref(), ev_st.reason.as_deref()), (Some("Failed"), Some("Evicted")));
    let oom = status(pod(&ev, "oom-1"), "app");
    let t = oom.state.as_ref().unwrap().terminated.as_ref().unwrap();
    assert_eq!((t.reason.as_deref(), t.exit_code, oom.restart_count), (Some("OOMKilled"), 137, 4));
    assert!(
        oom.last_state.as_ref().unwrap().terminated.is_some(),
        "a current termination with restarts is also the last one"
    );
    assert_eq!(status(pod(&ev, "err-1"), "app").state.as_ref().unwrap().terminated.as_ref().unwrap().exit_code, 1);
    assert!(pod(&ev, "pend-1").status.as_ref().unwrap().container_statuses.is_none());
    let m = pod(&ev, "multi-1");
    assert_eq!(m.status.as_ref().unwrap().container_statuses.as_ref().unwrap().len(), 2);
    let bad = status(m, "app-2");
    assert!(!bad.ready && bad.restart_count == 2);
    let fin = bad.last_state.as_ref().unwrap().terminated.as_ref().unwrap().finished_at.as_ref().unwrap().0;
    assert_eq!(fin, Timestamp::from_second(REFERENCE_NOW.as_second() - 30).unwrap());

    // `-A -o wide`, `pod/` names.
    let wide = table(
        &[
            &[
                "NAMESPACE",
                "NAME",
                "READY",
                "STATUS",
                "RESTARTS",
                "AGE",
                "IP",
                "NODE",
                "NOMINATED NODE",
                "READINESS GATES",
            ],
            &["shop", "pod/api-1", "0/1", "ErrImagePull", "0", "1m", "10.244.0.9", "node-3", "<none>", "<none>"],
        ],
        3,
        0,
    );
    let ev = load(&wide);
    let p = pod(&ev, "api-1");
    assert_eq!(p.metadata.namespace.as_deref(), Some("shop"));
    assert_eq!(p.spec.as_ref().unwrap().node_name.as_deref(), Some("node-3"));
    assert_eq!(p.status.as_ref().unwrap().pod_ip.as_deref(), Some("10.244.0.9"));
    assert_eq!(waiting(status(p, "app")), Some("ErrImagePull"));

    // A row without its header (`-A -o wide`).
    let ev = load(
        "cilium-test-2       lrp-backend-6d6784c5f-qqz4w        0/1     Pending   0          5m47s   <none>            <none>                            <none>           <none>\n",
    );
    assert_eq!(pod(&ev, "lrp-backend-6d6784c5f-qqz4w").metadata.namespace.as_deref(), Some("cilium-test-2"));
}

#[test]
fn a_richer_description_replaces_a_table_row_across_inputs() {
    let t = table(
        &[
            &["NAME", "READY", "STATUS", "RESTARTS", "AGE"],
            &["web-5d4b7c9f8-x2x7k", "0/1", "CrashLoopBackOff", "12", "1h"],
        ],
        3,
        0,
    );
    let mut ev = Evidence::default();
    load_pasted("pods.txt", format!("kubectl get pods -n shop\n{t}").as_bytes(), &PasteOptions::default(), &mut ev);
    load_pasted("describe.txt", DESCRIBE_POD.as_bytes(), &PasteOptions::default(), &mut ev);
    // And the table again, after the description: it must not win.
    load_pasted("pods2.txt", format!("kubectl get pods -n shop\n{t}").as_bytes(), &PasteOptions::default(), &mut ev);
    ev.finish();
    assert_eq!(ev.pods.len(), 1, "{:?}", names(&ev));
    let p = &ev.pods[0];
    assert!(!annotated(p, TABLE_ANNOTATION));
    assert!(p.status.as_ref().unwrap().container_statuses.as_ref().unwrap().iter().all(|c| c.name == "api"));
    assert_eq!(ev.events.len(), 3);
}

#[test]
fn logs_attach_to_the_named_pod_the_only_pod_or_a_synthetic_one() {
    // Named by the command line; `--timestamps` prefixes are stripped and set "now".
    let text = "$ kubectl logs web-1 -c api --previous -n shop --timestamps\n2024-01-02T03:04:05.123456789Z Traceback (most recent call last):\n2024-01-02T03:04:05.200000000Z ModuleNotFoundError: No module named 'flask'\n";
    let ev = load(text);
    let key = LogKey { namespace: "shop".into(), pod: "web-1".into(), container: "api".into(), previous: true };
    let log = &ev.logs[&key];
    assert_eq!(
        log.lines,
        vec!["Traceback (most recent call last):".to_string(), "ModuleNotFoundError: No module named 'flask'".into()]
    );
    // The pod the command names is made, its container crash-looping, so the log is read.
    let cs = status(pod(&ev, "web-1"), "api");
    assert_eq!((waiting(cs), cs.restart_count), (Some("CrashLoopBackOff"), 1));

    // No command, one pod described: its first failing container, previous instance.
    let ev = load(&format!(
        "{DESCRIBE_POD}\nError: Cannot find module 'express'\n    at Module._resolveFilename (node:internal/modules/cjs/loader:1039:15)\n"
    ));
    let key =
        LogKey { namespace: "shop".into(), pod: "web-5d4b7c9f8-x2x7k".into(), container: "api".into(), previous: true };
    assert_eq!(ev.logs[&key].lines.len(), 2, "{:?}", ev.logs.keys().collect::<Vec<_>>());
    assert_eq!(ev.pods.len(), 1);

    // Nothing names a pod: the synthetic pod, crash-looping so the crash classifier runs.
    let ev = load(
        "panic: runtime error: invalid memory address or nil pointer dereference\n[signal SIGSEGV: segmentation violation]\n",
    );
    let p = pod(&ev, SYNTHETIC_POD);
    assert_eq!(p.metadata.namespace.as_deref(), Some("default"));
    assert_eq!(p.metadata.annotations.as_ref().unwrap()[SYNTHETIC_ANNOTATION], "true");
    let cs = status(p, "app");
    assert_eq!((waiting(cs), cs.restart_count), (Some("CrashLoopBackOff"), 1));
    let key =
        LogKey { namespace: "default".into(), pod: SYNTHETIC_POD.into(), container: "app".into(), previous: true };
    assert_eq!(ev.logs[&key].lines.len(), 2);

    // `kubectl logs --prefix`.
    let ev = load(
        "$ kubectl logs deploy/app --all-pods --prefix\n[pod/app-1/web] exec /app: exec format error\n[pod/app-2/web] exec /app: exec format error\n",
    );
    assert_eq!(ev.logs.len(), 2);
    assert!(ev.logs.keys().all(|k| k.container == "web" && k.pod.starts_with("app-")));
}

#[test]
fn a_synthetic_pod_folds_into_the_pod_a_later_input_names() {
    let mut ev = Evidence::default();
    load_pasted("log.txt", b"OOM: java.lang.OutOfMemoryError: Java heap space\n", &PasteOptions::default(), &mut ev);
    load_pasted("describe.txt", DESCRIBE_POD.as_bytes(), &PasteOptions::default(), &mut ev);
    ev.finish();
    assert_eq!(names(&ev), vec!["shop/web-5d4b7c9f8-x2x7k".to_string()]);
    let key =
        LogKey { namespace: "shop".into(), pod: "web-5d4b7c9f8-x2x7k".into(), container: "api".into(), previous: true };
    assert!(ev.logs.contains_key(&key), "{:?}", ev.logs.keys().collect::<Vec<_>>());
}

#[test]
fn yaml_and_json_objects_lists_and_fragments() {
    let yaml = r#"$ kubectl get pod web-1 -n shop -o yaml
apiVersion: v1
kind: Pod
spec:
  containers:
  - image: 'registry.example.com/app:'
status:
  containerStatuses:
  - image: 'registry.example.com/app:'
    imageID: ""
    name: app
    ready: false
    restartCount: 0
    state:
      waiting:
        message: 'Failed to apply default image tag "registry.example.com/app:": couldn''t parse image reference "registry.example.com/app:": invalid reference format'
        reason: InvalidImageName
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: app
        image: registry.example.com/app
"#;
    let ev = load(yaml);
    assert!(ev.gaps.is_empty(), "{:?}", ev.gaps);
    let p = pod(&ev, "web-1");
    assert_eq!(p.metadata.namespace.as_deref(), Some("shop"));
    assert_eq!(p.spec.as_ref().unwrap().containers[0].name, "app", "the container's name comes back from its status");
    assert_eq!(waiting(status(p, "app")), Some("InvalidImageName"));
    assert_eq!(ev.deployments.len(), 1);

    let json = r#"{
    "apiVersion": "v1",
    "kind": "List",
    "items": [
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "api", "namespace": "shop"}, "spec": {"selector": {"app": "api"}, "ports": [{"port": 80}]}},
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "api-1", "namespace": "shop"}, "spec": {"containers": [{"name": "api", "image": "api:1"}]}}
    ]
}"#;
    let ev = load(json);
    assert!(ev.gaps.is_empty(), "{:?}", ev.gaps);
    assert_eq!((ev.services.len(), ev.pods.len()), (1, 1));

    // A JSON log line is a log line.
    let ev = load(r#"{"level":"error","msg":"dial tcp 10.0.0.1:5432: connect: connection refused"}"#);
    assert_eq!(ev.logs.values().next().unwrap().lines.len(), 1);

    // Fragments of `kubectl get pod -o yaml`.
    let ev = load(
        "status:\n  message: 'The node was low on resource: ephemeral-storage. Container w\n    was using 73712Ki, which exceeds its request of 0. '\n  phase: Failed\n  reason: Evicted\n",
    );
    let st = pod(&ev, SYNTHETIC_POD).status.as_ref().unwrap();
    assert_eq!((st.phase.as_deref(), st.reason.as_deref()), (Some("Failed"), Some("Evicted")));
    let ev = load(
        "containerStatuses:\n  - image: goharbor/chartmuseum:v1\n    imageID: \"\"\n    lastState: {}\n    name: chartmuseum\n    ready: false\n    restartCount: 0\n    state:\n      waiting:\n        message: couldn't find key kind in Secret sample/minio\n        reason: CreateContainerConfigError\n",
    );
    assert_eq!(waiting(status(pod(&ev, SYNTHETIC_POD), "chartmuseum")), Some("CreateContainerConfigError"));
}

#[test]
fn text_as_pasted_quotes_indents_fences_prompts_crlf_ansi() {
    let clean = load(DESCRIBE_EVENTS);
    let variants = [
        DESCRIBE_EVENTS.lines().map(|l| format!("> {l}")).collect::<Vec<_>>().join("\n"),
        DESCRIBE_EVENTS.lines().map(|l| format!("> > {l}")).collect::<Vec<_>>().join("\n"),
        DESCRIBE_EVENTS.lines().map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n"),
        format!("Here is what I get:\n\n```\n$ kubectl describe pod db-0\n{DESCRIBE_EVENTS}```\n\nAny idea?\n"),
        format!("user@host:~$ kubectl describe pod db-0 -n default\n{DESCRIBE_EVENTS}"),
        format!("PS C:\\Users\\me> kubectl describe pod db-0\n{DESCRIBE_EVENTS}"),
        format!("# kubectl describe pod db-0\n{DESCRIBE_EVENTS}"),
        DESCRIBE_EVENTS.replace('\n', "\r\n"),
        DESCRIBE_EVENTS.replace("Warning", "\u{1b}[33mWarning\u{1b}[0m").replace("Normal", "\u{1b}[32mNormal\u{1b}[0m"),
    ];
    for v in &variants {
        let ev = load(v);
        assert!(ev.gaps.is_empty(), "{v}: {:?}", ev.gaps);
        assert_eq!(ev.events.len(), clean.events.len(), "{v}");
        for (a, b) in ev.events.iter().zip(&clean.events) {
            assert_eq!(
                (&a.reason, &a.message, a.count, &a.involved.name),
                (&b.reason, &b.message, b.count, &b.involved.name),
                "{v}"
            );
        }
        assert!(ev.logs.is_empty(), "{v}: prose around a block is not a log: {:?}", ev.logs);
    }
}

#[test]
fn e2e_harness_lines_are_events() {
    let text = "STEP: Collecting events from namespace \"e2e-1234\".\nJan  2 03:04:06.000: INFO: At 2024-01-02 03:04:05 +0000 UTC - event for web-1: {kubelet node-1} BackOff: Back-off restarting failed container\nJan  2 03:04:06.000: INFO: At 2024-01-02 03:03:00 +0000 UTC - event for web-1: {default-scheduler } Scheduled: Successfully assigned e2e-1234/web-1 to node-1\n";
    let ev = load(text);
    assert_eq!(ev.events.len(), 2);
    let e = event(&ev, "BackOff");
    assert_eq!(
        (e.involved.kind.as_str(), e.involved.namespace.as_deref(), e.involved.name.as_str()),
        ("Pod", Some("e2e-1234"), "web-1")
    );
    assert_eq!(
        (e.type_.as_str(), e.component.as_str(), e.last),
        ("Warning", "kubelet", Some(ts("2024-01-02T03:04:05Z")))
    );
    assert_eq!(event(&ev, "Scheduled").component, "default-scheduler");
}

#[test]
fn a_fragment_inside_a_description_becomes_a_synthetic_pod() {
    let text = "    State:          Terminated\n      Reason:       OOMKilled\n      Exit Code:    137\n      Started:      Mon, 13 Dec 2021 18:02:32 -0800\n      Finished:     Mon, 13 Dec 2021 18:02:42 -0800\n    Ready:          False\n    Restart Count:  5\n    Limits:\n      cpu:     100m\n      memory:  300Mi\n    Liveness:  http-get http://:8085/health-check delay=0s timeout=1s period=10s #success=1 #failure=3\n    Environment:\n      AWS_REGION:  us-east-1\n";
    let ev = load(text);
    assert!(ev.gaps.is_empty(), "{:?}", ev.gaps);
    let p = pod(&ev, SYNTHETIC_POD);
    assert!(annotated(p, SYNTHETIC_ANNOTATION));
    let cs = status(p, "app");
    let t = cs.state.as_ref().unwrap().terminated.as_ref().unwrap();
    assert_eq!((t.reason.as_deref(), t.exit_code, cs.restart_count), (Some("OOMKilled"), 137, 5));
    assert_eq!(t.finished_at.as_ref().unwrap().0, ts("2021-12-14T02:02:42Z"));
    let c = &p.spec.as_ref().unwrap().containers[0];
    assert_eq!(c.resources.as_ref().unwrap().limits.as_ref().unwrap()["memory"].0, "300Mi");
    assert_eq!(c.liveness_probe.as_ref().unwrap().http_get.as_ref().unwrap().path.as_deref(), Some("/health-check"));
    assert_eq!(ev.now(), Some(ts("2021-12-14T02:02:42Z")));
}

#[test]
fn cut_off_lines_keep_what_was_read() {
    let cut = DESCRIBE_POD.split("    Liveness:").next().unwrap().to_string() + "    Liveness:   http-get http://:80";
    let ev = load(&cut);
    let p = pod(&ev, "web-5d4b7c9f8-x2x7k");
    assert_eq!(status(p, "api").restart_count, 12);
    // A state line cut in the middle of its value.
    let ev = load(
        "Name:         web-1\nNamespace:    shop\nContainers:\n  web:\n    Image:          nginx\n    State:          Waiting\n      Reason:       CrashLoopBa\n",
    );
    assert_eq!(waiting(status(pod(&ev, "web-1"), "web")), Some("CrashLoopBa"));
}

const DESCRIBE_NODE: &str = r#"Name:               node-1
Roles:              control-plane
Labels:             kubernetes.io/hostname=node-1
                    node-role.kubernetes.io/control-plane=
Annotations:        node.alpha.kubernetes.io/ttl: 0
CreationTimestamp:  Mon, 01 Jan 2024 00:00:00 +0000
Taints:             node-role.kubernetes.io/control-plane:NoSchedule
                    node.kubernetes.io/disk-pressure:NoSchedule
Unschedulable:      false
Lease:
  HolderIdentity:  node-1
  AcquireTime:     <unset>
  RenewTime:       Tue, 02 Jan 2024 03:59:58 +0000
Conditions:
  Type             Status  LastHeartbeatTime                 LastTransitionTime                Reason                       Message
  ----             ------  -----------------                 ------------------                ------                       -------
  MemoryPressure   False   Tue, 02 Jan 2024 03:59:50 +0000   Mon, 01 Jan 2024 00:00:00 +0000   KubeletHasSufficientMemory   kubelet has sufficient memory available
  DiskPressure     True    Tue, 02 Jan 2024 03:59:50 +0000   Tue, 02 Jan 2024 03:00:00 +0000   KubeletHasDiskPressure       kubelet has disk pressure
  PIDPressure      False   Tue, 02 Jan 2024 03:59:50 +0000   Mon, 01 Jan 2024 00:00:00 +0000   KubeletHasSufficientPID      kubelet has sufficient PID available
  Ready            True    Tue, 02 Jan 2024 03:59:50 +0000   Mon, 01 Jan 2024 00:01:00 +0000   KubeletReady                 kubelet is posting ready status
Addresses:
  InternalIP:  10.0.0.5
  Hostname:    node-1
Capacity:
  cpu:                4
  ephemeral-storage:  20Gi
  memory:             8Gi
  pods:               110
Allocatable:
  cpu:                3800m
  ephemeral-storage:  18Gi
  memory:             7Gi
  pods:               110
System Info:
  Machine ID:                 abc
  Kernel Version:             6.1.0
  OS Image:                   Ubuntu 22.04.3 LTS
  Operating System:           linux
  Architecture:               arm64
  Container Runtime Version:  containerd://1.7.2
  Kubelet Version:            v1.29.0
  Kube-Proxy Version:         v1.29.0
PodCIDR:                      10.244.0.0/24
Non-terminated Pods:          (1 in total)
  Namespace                   Name         CPU Requests  CPU Limits  Memory Requests  Memory Limits  Age
  ---------                   ----         ------------  ----------  ---------------  -------------  ---
  kube-system                 coredns-1    100m (2%)     0 (0%)      70Mi (1%)        170Mi (2%)     1d
Allocated resources:
  (Total limits may be over 100 percent, i.e., overcommitted.)
  Resource           Requests     Limits
  --------           --------     ------
  cpu                3500m (92%)  0 (0%)
  memory             6Gi (85%)    7Gi (100%)
Events:
  Type     Reason                Age   From     Message
  ----     ------                ----  ----     -------
  Warning  EvictionThresholdMet  5m    kubelet  Attempting to reclaim ephemeral-storage
"#;

#[test]
fn describe_node_conditions_taints_and_resources() {
    let ev = load(&format!("$ kubectl describe node node-1\n{DESCRIBE_NODE}"));
    assert!(ev.gaps.is_empty(), "{:?}", ev.gaps);
    assert!(ev.pods.is_empty());
    let n = ev.node("node-1").unwrap();
    let spec = n.spec.as_ref().unwrap();
    let taints = spec.taints.as_ref().unwrap();
    assert_eq!(taints.len(), 2);
    assert_eq!(
        (taints[0].key.as_str(), taints[0].effect.as_str()),
        ("node-role.kubernetes.io/control-plane", "NoSchedule")
    );
    assert_eq!(spec.unschedulable, None);
    let st = n.status.as_ref().unwrap();
    let conds = st.conditions.as_ref().unwrap();
    assert_eq!(conds.len(), 4);
    let disk = conds.iter().find(|c| c.type_ == "DiskPressure").unwrap();
    assert_eq!(
        (disk.status.as_str(), disk.reason.as_deref(), disk.message.as_deref()),
        ("True", Some("KubeletHasDiskPressure"), Some("kubelet has disk pressure"))
    );
    assert_eq!(disk.last_heartbeat_time.as_ref().unwrap().0, ts("2024-01-02T03:59:50Z"));
    assert_eq!(st.allocatable.as_ref().unwrap()["cpu"].0, "3800m");
    assert_eq!(st.node_info.as_ref().unwrap().architecture, "arm64");
    let ann = n.metadata.annotations.as_ref().unwrap();
    assert_eq!(ann["kubesleuth.io/allocated-requests.cpu"], "3500m (92%)");
    assert_eq!(ann["kubesleuth.io/allocated-limits.memory"], "7Gi (100%)");
    let e = event(&ev, "EvictionThresholdMet");
    assert_eq!(
        (e.involved.kind.as_str(), e.involved.name.as_str(), e.involved.namespace.as_deref()),
        ("Node", "node-1", None)
    );
    assert_eq!(e.last, Some(ts("2024-01-02T03:54:50Z")));
}

#[test]
fn describe_deployment_replicaset_and_job() {
    let deploy = r#"Name:                   web
Namespace:              shop
CreationTimestamp:      Mon, 01 Jan 2024 00:00:00 +0000
Labels:                 app=web
Annotations:            deployment.kubernetes.io/revision: 3
Selector:               app=web
Replicas:               3 desired | 1 updated | 3 total | 2 available | 1 unavailable
StrategyType:           RollingUpdate
MinReadySeconds:        0
RollingUpdateStrategy:  25% max unavailable, 25% max surge
Pod Template:
  Labels:  app=web
  Containers:
   web:
    Image:      shop/web:2.0
    Port:       8080/TCP
    Host Port:  0/TCP
    Limits:
      memory:  256Mi
    Environment:
      DB_URL:  <set to the key 'url' in secret 'db'>  Optional: false
    Mounts:    <none>
  Volumes:     <none>
  Node-Selectors:  <none>
  Tolerations:     <none>
Conditions:
  Type           Status  Reason
  ----           ------  ------
  Available      False   MinimumReplicasUnavailable
  Progressing    False   ProgressDeadlineExceeded
OldReplicaSets:  web-6b7c8d9e0f (2/2 replicas created)
NewReplicaSet:   web-5d4b7c9f8 (1/1 replicas created)
Events:
  Type    Reason             Age   From                   Message
  ----    ------             ----  ----                   -------
  Normal  ScalingReplicaSet  10m   deployment-controller  Scaled up replica set web-5d4b7c9f8 to 1
"#;
    let ev = load(deploy);
    assert!(ev.gaps.is_empty(), "{:?}", ev.gaps);
    let d = &ev.deployments[0];
    assert_eq!(d.spec.replicas, Some(3));
    let st = d.status.as_ref().unwrap();
    assert_eq!((st.available_replicas, st.unavailable_replicas, st.updated_replicas), (Some(2), Some(1), Some(1)));
    let prog = st.conditions.as_ref().unwrap().iter().find(|c| c.type_.as_deref() == Some("Progressing")).unwrap();
    assert_eq!((prog.status.as_deref(), prog.reason.as_deref()), (Some("False"), Some("ProgressDeadlineExceeded")));
    let tpl = d.spec.template.spec.as_ref().unwrap();
    let c = &tpl.containers[0];
    assert_eq!((c.name.as_str(), c.image.as_deref()), ("web", Some("shop/web:2.0")));
    let sk = c.env.as_ref().unwrap()[0].value_from.as_ref().unwrap().secret_key_ref.as_ref().unwrap();
    assert_eq!((sk.name.as_str(), sk.key.as_str()), ("db", "url"));
    assert_eq!(ev.replica_sets.len(), 2);
    let rs = ev.replica_sets.iter().find(|r| r.metadata.name.as_deref() == Some("web-5d4b7c9f8")).unwrap();
    assert_eq!(rs.metadata.owner_references.as_ref().unwrap()[0].name, "web");
    assert_eq!(ev.events_for("Deployment", Some("shop"), "web").len(), 1);

    let job = r#"Name:             backup-28400000
Namespace:        ops
Selector:         batch.kubernetes.io/controller-uid=abc
Labels:           batch.kubernetes.io/job-name=backup-28400000
Annotations:      <none>
Controlled By:    CronJob/backup
Parallelism:      1
Completions:      1
Completion Mode:  NonIndexed
Suspend:          false
Backoff Limit:    6
Start Time:       Tue, 02 Jan 2024 03:00:00 +0000
Pods Statuses:    0 Active (0 Ready) / 0 Succeeded / 7 Failed
Pod Template:
  Labels:  batch.kubernetes.io/job-name=backup-28400000
  Containers:
   backup:
    Image:        shop/backup:1.0
    Port:         <none>
    Host Port:    <none>
    Environment:  <none>
    Mounts:       <none>
  Volumes:        <none>
Events:
  Type     Reason                Age   From            Message
  ----     ------                ----  ----            -------
  Normal   SuccessfulCreate      60m   job-controller  Created pod: backup-28400000-abcde
  Warning  BackoffLimitExceeded  2m    job-controller  Job has reached the specified backoff limit
"#;
    let ev = load(job);
    assert!(ev.gaps.is_empty(), "{:?}", ev.gaps);
    let j = &ev.jobs[0];
    assert_eq!(j.metadata.owner_references.as_ref().unwrap()[0].kind, "CronJob");
    assert_eq!(j.spec.as_ref().unwrap().backoff_limit, Some(6));
    let st = j.status.as_ref().unwrap();
    assert_eq!(st.failed, Some(7));
    let failed = &st.conditions.as_ref().unwrap()[0];
    assert_eq!(
        (failed.type_.as_str(), failed.status.as_str(), failed.reason.as_deref()),
        ("Failed", "True", Some("BackoffLimitExceeded"))
    );
    assert_eq!(ev.events_for("Job", Some("ops"), "backup-28400000").len(), 2);
}

#[test]
fn describe_service_ingress_and_claim() {
    let svc = "Name:              api\nNamespace:         shop\nLabels:            app=api\nAnnotations:       <none>\nSelector:          app=api,tier=backend\nType:              ClusterIP\nIP Family Policy:  SingleStack\nIP Families:       IPv4\nIP:                10.96.0.10\nIPs:               10.96.0.10\nPort:              http  80/TCP\nTargetPort:        8080/TCP\nEndpoints:         <none>\nPort:              metrics  9090/TCP\nTargetPort:        metrics/TCP\nEndpoints:\nSession Affinity:  None\nEvents:            <none>\n";
    let ev = load(svc);
    assert!(ev.gaps.is_empty(), "{:?}", ev.gaps);
    let s = ev.service("shop", "api").unwrap();
    let spec = s.spec.as_ref().unwrap();
    assert_eq!(spec.selector.as_ref().unwrap().len(), 2);
    let ports = spec.ports.as_ref().unwrap();
    assert_eq!((ports[0].port, ports[0].name.as_deref()), (80, Some("http")));
    assert_eq!(
        ports[1].target_port,
        Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String("metrics".into()))
    );
    let ep = &ev.endpoints[0];
    assert_eq!(ep.metadata.name.as_deref(), Some("api"));
    assert!(ep.subsets.as_ref().unwrap().is_empty(), "describe's `Endpoints: <none>` is an empty Endpoints object");

    let ing = "Name:             web\nLabels:           <none>\nNamespace:        shop\nAddress:\nIngress Class:    <none>\nDefault backend:  <default>\nRules:\n  Host              Path  Backends\n  ----              ----  --------\n  shop.example.com\n                    /api   api:80 (10.244.1.7:8080)\n                    /      web:http (<error: endpoints \"web\" not found>)\nAnnotations:        kubernetes.io/ingress.class: nginx\nEvents:             <none>\n";
    let ev = load(ing);
    assert!(ev.gaps.is_empty(), "{:?}", ev.gaps);
    let i = &ev.ingresses[0];
    let spec = i.spec.as_ref().unwrap();
    assert_eq!(spec.ingress_class_name, None);
    let rule = &spec.rules.as_ref().unwrap()[0];
    assert_eq!(rule.host.as_deref(), Some("shop.example.com"));
    let paths = &rule.http.as_ref().unwrap().paths;
    assert_eq!(paths.len(), 2);
    let be = paths[0].backend.service.as_ref().unwrap();
    assert_eq!((be.name.as_str(), be.port.as_ref().unwrap().number), ("api", Some(80)));
    assert_eq!(paths[1].backend.service.as_ref().unwrap().port.as_ref().unwrap().name.as_deref(), Some("http"));
    let ann = i.metadata.annotations.as_ref().unwrap();
    assert_eq!(ann["kubernetes.io/ingress.class"], "nginx");
    assert_eq!(ann["kubesleuth.io/endpoints.web"], "<error: endpoints \"web\" not found>");

    let pvc = "Name:          data-db-0\nNamespace:     shop\nStorageClass:  fast\nStatus:        Pending\nVolume:\nLabels:        app=db\nAnnotations:   volume.beta.kubernetes.io/storage-provisioner: ebs.csi.aws.com\nFinalizers:    [kubernetes.io/pvc-protection]\nCapacity:\nAccess Modes:\nVolumeMode:    Filesystem\nUsed By:       db-0\nEvents:\n  Type     Reason              Age              From                         Message\n  ----     ------              ----             ----                         -------\n  Warning  ProvisioningFailed  2m (x4 over 5m)  persistentvolume-controller  storageclass.storage.k8s.io \"fast\" not found\n";
    let ev = load(pvc);
    assert!(ev.gaps.is_empty(), "{:?}", ev.gaps);
    let c = &ev.pvcs[0];
    assert_eq!(c.spec.as_ref().unwrap().storage_class_name.as_deref(), Some("fast"));
    assert_eq!(c.status.as_ref().unwrap().phase.as_deref(), Some("Pending"));
    assert_eq!(ev.events_for("PersistentVolumeClaim", Some("shop"), "data-db-0")[0].count, 4);
}

#[test]
fn describe_cert_manager_resources() {
    let cert = r#"Name:         web-tls
Namespace:    shop
Labels:       <none>
Annotations:  <none>
API Version:  cert-manager.io/v1
Kind:         Certificate
Metadata:
  Creation Timestamp:  2024-01-02T03:00:00Z
  Generation:          1
Spec:
  Dns Names:
    shop.example.com
  Issuer Ref:
    Kind:       ClusterIssuer
    Name:       letsencrypt-prod
  Secret Name:  web-tls
Status:
  Conditions:
    Last Transition Time:  2024-01-02T03:00:01Z
    Message:               Issuing certificate as Secret does not exist
    Observed Generation:   1
    Reason:                DoesNotExist
    Status:                False
    Type:                  Ready
    Last Transition Time:  2024-01-02T03:00:01Z
    Message:               The certificate request has failed to complete and will be retried: order is in "invalid" state
    Observed Generation:   1
    Reason:                Failed
    Status:                False
    Type:                  Issuing
Events:
  Type    Reason   Age   From                               Message
  ----    ------   ----  ----                               -------
  Normal  Issuing  5m    cert-manager-certificates-trigger  Issuing certificate as Secret does not exist

Name:         web-tls-1-123-456
Namespace:    shop
Labels:       <none>
Annotations:  <none>
API Version:  acme.cert-manager.io/v1
Kind:         Challenge
Spec:
  Dns Name:  shop.example.com
  Type:      HTTP-01
Status:
  Presented:   true
  Processing:  true
  Reason:      Waiting for HTTP-01 challenge propagation: wrong status code '404', expected '200'
  State:       pending
Events:        <none>
"#;
    let ev = load(cert);
    assert!(ev.gaps.is_empty(), "{:?}", ev.gaps);
    let c = ev.custom("Certificate", Some("shop"), "web-tls").unwrap();
    assert_eq!(c.api_version, "cert-manager.io/v1");
    let ready = c.condition("Ready").unwrap();
    assert_eq!((ready.status, ready.reason), ("False", "DoesNotExist"));
    assert_eq!(c.condition("Issuing").unwrap().reason, "Failed");
    assert_eq!(c.str_at("/spec/secretName"), Some("web-tls"));
    assert_eq!(c.str_at("/spec/issuerRef/name"), Some("letsencrypt-prod"));
    assert_eq!(c.value.pointer("/spec/dnsNames/0").and_then(|v| v.as_str()), Some("shop.example.com"));
    assert_eq!(ev.events_for("Certificate", Some("shop"), "web-tls").len(), 1);
    let ch = ev.custom("Challenge", Some("shop"), "web-tls-1-123-456").unwrap();
    assert_eq!(ch.str_at("/status/state"), Some("pending"));
    assert!(ch.str_at("/status/reason").unwrap().contains("wrong status code '404'"));
}

#[test]
fn describe_stateful_set() {
    let sts = "Name:               db\nNamespace:          shop\nCreationTimestamp:  Mon, 01 Jan 2024 00:00:00 +0000\nSelector:           app=db\nLabels:             <none>\nAnnotations:        <none>\nReplicas:           3 desired | 2 total\nUpdate Strategy:    RollingUpdate\n  Partition:        0\nPods Status:        1 Running / 1 Waiting / 0 Succeeded / 0 Failed\nPod Template:\n  Labels:  app=db\n  Containers:\n   db:\n    Image:        postgres:16\n    Port:         5432/TCP\n    Host Port:    0/TCP\n    Environment:  <none>\n    Mounts:\n      /var/lib/postgresql/data from data (rw)\n  Volumes:  <none>\nVolume Claims:\n  Name:          data\n  StorageClass:  fast\n  Labels:        <none>\n  Annotations:   <none>\n  Capacity:      10Gi\n  Access Modes:  [ReadWriteOnce]\nEvents:          <none>\n";
    let ev = load(sts);
    assert!(ev.gaps.is_empty(), "{:?}", ev.gaps);
    let s = &ev.stateful_sets[0];
    assert_eq!(s.spec.replicas, Some(3));
    assert_eq!(s.status.as_ref().unwrap().replicas, 2);
    assert_eq!(s.spec.template.spec.as_ref().unwrap().containers[0].image.as_deref(), Some("postgres:16"));
}

#[test]
fn bare_kubelet_and_api_messages_are_events() {
    let ev = load(
        "Failed to pull image \"registry.local/app:1\": rpc error: code = Unknown desc = failed to pull and unpack image \"registry.local/app:1\": failed to resolve reference \"registry.local/app:1\": failed to do request: Head \"https://registry.local/v2/app/manifests/1\": x509: certificate signed by unknown authority\n",
    );
    let e = event(&ev, "Failed");
    assert_eq!(e.type_, "Warning");
    let cs = status(pod(&ev, SYNTHETIC_POD), "app");
    assert_eq!((waiting(cs), cs.image.as_str()), (Some("ErrImagePull"), "registry.local/app:1"));

    let ev = load(
        "Error from server (Forbidden): error when creating \"pod.yaml\": pods \"p\" is forbidden: exceeded quota: compute, requested: cpu=2, used: cpu=8, limited: cpu=8\n",
    );
    let e = event(&ev, "FailedCreate");
    assert_eq!((e.involved.kind.as_str(), e.involved.name.as_str()), ("ReplicaSet", SYNTHETIC_POD));
    assert!(e.message.starts_with("Error creating: pods \"p\" is forbidden: exceeded quota"));
    assert!(ev.pods.is_empty(), "a refused create makes no pod");
}

#[test]
fn reference_now_newest_absolute_time_fixed_or_given() {
    let rows = "Events:\n  Type     Reason   Age   From     Message\n  ----     ------   ----  ----     -------\n  Warning  BackOff  10s   kubelet  Back-off restarting failed container\n";
    let ev = load(rows);
    assert_eq!(event(&ev, "BackOff").last, Some(Timestamp::from_second(REFERENCE_NOW.as_second() - 10).unwrap()));
    let given = ts("2030-05-06T07:08:09Z");
    let ev = load_with(rows, &PasteOptions { now: Some(given), ..PasteOptions::default() });
    assert_eq!(event(&ev, "BackOff").last, Some(ts("2030-05-06T07:07:59Z")));
    let with_abs = format!(
        "    Last State:     Terminated\n      Reason:       Error\n      Exit Code:    1\n      Finished:     Tue, 02 Jan 2024 03:04:05 +0000\n{rows}"
    );
    let ev = load(&with_abs);
    assert_eq!(event(&ev, "BackOff").last, Some(ts("2024-01-02T03:03:55Z")));
}

#[test]
fn binary_junk_is_one_gap() {
    let mut junk = vec![0u8, 159, 146, 150, 0, 1, 2, 3];
    junk.extend((0..5000u32).map(|i| (i * 7 % 256) as u8));
    let mut ev = Evidence::default();
    load_pasted("junk.bin", &junk, &PasteOptions::default(), &mut ev);
    ev.finish();
    assert_eq!(ev.gaps.len(), 1, "{:?}", ev.gaps);
    assert_eq!(ev.object_count() + ev.events.len() + ev.logs.len(), 0);
    // UTF-16 with a BOM (PowerShell's `>`) is text.
    let mut utf16 = vec![0xFF, 0xFE];
    for u in "Warning  BackOff  10s  kubelet  Back-off restarting failed container\n".encode_utf16() {
        utf16.extend(u.to_le_bytes());
    }
    let mut ev = Evidence::default();
    load_pasted("ps.txt", &utf16, &PasteOptions::default(), &mut ev);
    assert_eq!(ev.events.len(), 1);
}

#[test]
fn every_truncation_and_mutation_is_handled() {
    let sample = format!(
        "$ kubectl describe pod web -n shop\n{DESCRIBE_POD}\n{DESCRIBE_NODE}\n{DESCRIBE_EVENTS}\nNAME   READY   STATUS   RESTARTS   AGE\nweb-1  0/1     Error    3 (1m ago) 5m\n\n$ kubectl get pod web-1 -o yaml\napiVersion: v1\nkind: Pod\nmetadata:\n  name: web-1\nstatus:\n  containerStatuses:\n  - name: web\n    restartCount: 3\n    state:\n      waiting:\n        reason: CrashLoopBackOff\n"
    );
    let bytes = sample.as_bytes();
    for cut in (0..bytes.len()).step_by(7) {
        let mut ev = Evidence::default();
        load_pasted("cut", &bytes[..cut], &PasteOptions::default(), &mut ev);
        ev.finish();
    }
    let mut x: u64 = 7;
    let mut m = bytes.to_vec();
    for _ in 0..300 {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let i = (x >> 33) as usize % m.len();
        m[i] = b" \n:-/|(x>\t"[(x >> 20) as usize % 10];
        let mut ev = Evidence::default();
        load_pasted("mut", &m, &PasteOptions::default(), &mut ev);
        ev.finish();
    }
}

/// Every real paste in the shared corpus loads without a gap into something rules can read.
#[test]
fn shared_corpus_pastes_load() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/pasted");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("skipping: {} not present", dir.display());
        return;
    };
    let mut n = 0;
    for e in entries.flatten() {
        let path = e.path().join("evidence.txt");
        let Ok(bytes) = std::fs::read(&path) else { continue };
        let mut ev = Evidence::default();
        load_pasted(&path.display().to_string(), &bytes, &PasteOptions::default(), &mut ev);
        ev.finish();
        assert!(ev.gaps.is_empty(), "{}: {:?}", path.display(), ev.gaps);
        let read = ev.pods.len()
            + ev.events.len()
            + ev.logs.values().map(|l| l.lines.len()).sum::<usize>()
            + ev.object_count();
        assert!(read > 0, "{}: nothing read", path.display());
        n += 1;
    }
    assert!(n > 0);
}

/// A 50 MB paste (repeated descriptions, event tables, pod tables and logs) completes: every
/// parser makes one forward pass.
#[test]
fn a_fifty_megabyte_paste_completes() {
    let gen_start = std::time::Instant::now();
    let mut text = String::with_capacity(51 << 20);
    let events = DESCRIBE_EVENTS;
    let mut i = 0;
    while text.len() < 50 << 20 {
        text.push_str(&DESCRIBE_POD.replace("web-5d4b7c9f8-x2x7k", &format!("web-5d4b7c9f8-{i:05}")));
        text.push('\n');
        text.push_str(events);
        text.push_str("NAME      READY   STATUS             RESTARTS   AGE\n");
        text.push_str(&format!("api-{i}     0/1     CrashLoopBackOff   6          20m\n\n"));
        text.push_str("  Warning  BackOff  30s (x250 over 59m)  kubelet  Back-off restarting failed container\n");
        text.push_str("Traceback (most recent call last):\n  File \"app.py\", line 1, in <module>\nModuleNotFoundError: No module named 'flask'\n\n");
        i += 1;
    }
    eprintln!("generate {:?}", gen_start.elapsed());
    let started = std::time::Instant::now();
    let mut ev = Evidence::default();
    load_pasted("big", text.as_bytes(), &PasteOptions::default(), &mut ev);
    eprintln!("load {:?}", started.elapsed());
    ev.finish();
    eprintln!("50 MB paste: {} pods, {} events in {:?}", ev.pods.len(), ev.events.len(), started.elapsed());
    assert!(ev.pods.len() >= i);
    assert!(ev.gaps.is_empty(), "{:?}", &ev.gaps[..ev.gaps.len().min(3)]);
}

#[test]
fn old_describe_event_layout() {
    let t = table(
        &[
            &["FirstSeen", "LastSeen", "Count", "From", "SubObjectPath", "Type", "Reason", "Message"],
            &["---------", "--------", "-----", "----", "-------------", "--------", "------", "-------"],
            &[
                "5m",
                "1m",
                "7",
                "{kubelet node-1}",
                "spec.containers{web}",
                "Warning",
                "BackOff",
                "Back-off restarting failed docker container",
            ],
        ],
        2,
        2,
    );
    let ev = load(&format!("Events:\n{t}"));
    let e = event(&ev, "BackOff");
    assert_eq!(
        (e.count, e.component.as_str(), e.involved.field_path.as_deref()),
        (7, "kubelet", Some("spec.containers{web}"))
    );
    assert_eq!(e.first, Some(Timestamp::from_second(REFERENCE_NOW.as_second() - 300).unwrap()));
}

#[test]
fn describe_replicaset_daemonset_and_service_endpoints() {
    let rs = "Name:           api-7d4b9c\nNamespace:      shop\nSelector:       app=api,pod-template-hash=7d4b9c\nLabels:         app=api\nAnnotations:    deployment.kubernetes.io/revision: 2\nControlled By:  Deployment/api\nReplicas:       0 current / 3 desired\nPods Status:    0 Running / 0 Waiting / 0 Succeeded / 0 Failed\nPod Template:\n  Labels:  app=api\n  Containers:\n   api:\n    Image:        api:2\n    Port:         <none>\n    Host Port:    <none>\n    Environment:  <none>\n    Mounts:       <none>\n  Volumes:        <none>\nConditions:\n  Type             Status  Reason\n  ----             ------  ------\n  ReplicaFailure   True    FailedCreate\nEvents:\n  Type     Reason        Age                From                   Message\n  ----     ------        ----               ----                   -------\n  Warning  FailedCreate  2m (x16 over 5m)   replicaset-controller  Error creating: pods \"api-7d4b9c-\" is forbidden: exceeded quota: compute, requested: cpu=1, used: cpu=4, limited: cpu=4\n";
    let ev = load(rs);
    assert!(ev.gaps.is_empty(), "{:?}", ev.gaps);
    let r = &ev.replica_sets[0];
    assert_eq!(r.metadata.owner_references.as_ref().unwrap()[0].kind, "Deployment");
    assert_eq!((r.spec.replicas, r.status.as_ref().unwrap().replicas), (Some(3), 0));
    let c = &r.status.as_ref().unwrap().conditions.as_ref().unwrap()[0];
    assert_eq!((c.type_.as_deref(), c.status.as_deref()), (Some("ReplicaFailure"), Some("True")));
    let e = event(&ev, "FailedCreate");
    assert_eq!((e.involved.kind.as_str(), e.involved.name.as_str(), e.count), ("ReplicaSet", "api-7d4b9c", 16));

    let ds = "Name:           node-exporter\nSelector:       app=node-exporter\nNode-Selector:  <none>\nLabels:         <none>\nAnnotations:    deprecated.daemonset.template.generation: 1\nDesired Number of Nodes Scheduled: 3\nCurrent Number of Nodes Scheduled: 2\nNumber of Nodes Scheduled with Up-to-date Pods: 2\nNumber of Nodes Scheduled with Available Pods: 1\nNumber of Nodes Misscheduled: 0\nPods Status:  1 Running / 1 Waiting / 0 Succeeded / 0 Failed\nPod Template:\n  Labels:  app=node-exporter\n  Containers:\n   exporter:\n    Image:        prom/node-exporter:v1.7.0\n    Port:         9100/TCP\n    Host Port:    9100/TCP\n    Environment:  <none>\n    Mounts:       <none>\n  Volumes:        <none>\nEvents:           <none>\n";
    let ev = load(&format!("$ kubectl describe ds node-exporter -n monitoring\n{ds}"));
    assert!(ev.gaps.is_empty(), "{:?}", ev.gaps);
    let d = &ev.daemon_sets[0];
    assert_eq!(d.metadata.namespace.as_deref(), Some("monitoring"));
    let st = d.status.as_ref().unwrap();
    assert_eq!((st.desired_number_scheduled, st.current_number_scheduled, st.number_available), (3, 2, Some(1)));

    let svc = "Name:              web\nNamespace:         shop\nLabels:            <none>\nAnnotations:       <none>\nSelector:          app=web\nType:              NodePort\nIP:                10.96.0.20\nPort:              <unset>  80/TCP\nTargetPort:        8080/TCP\nNodePort:          <unset>  30080/TCP\nEndpoints:         10.244.1.7:8080,10.244.2.9:8080\nSession Affinity:  None\nEvents:            <none>\n";
    let ev = load(svc);
    let s = ev.service("shop", "web").unwrap();
    let p = &s.spec.as_ref().unwrap().ports.as_ref().unwrap()[0];
    assert_eq!((p.port, p.node_port, p.name.as_deref()), (80, Some(30080), None));
    let ep = &ev.endpoints[0];
    let addrs: Vec<&str> =
        ep.subsets.as_ref().unwrap().iter().flat_map(|s| s.addresses.iter().flatten()).map(|a| a.ip.as_str()).collect();
    assert_eq!(addrs, vec!["10.244.1.7", "10.244.2.9"]);
}

#[test]
fn command_context_ends_with_its_code_block() {
    // A Secret's description is kubectl output this source does not model: skipped, not a
    // log. The next fenced block has no command: a log.
    let text = "```\n$ kubectl describe secret db -n shop\nName:         db\nNamespace:    shop\nLabels:       <none>\nAnnotations:  <none>\n\nType:  Opaque\n\nData\n====\npassword:  8 bytes\n```\n\nand the logs, from kubectl logs db-0:\n\n```\nFATAL:  password authentication failed for user \"app\"\n```\n";
    let ev = load(text);
    assert!(ev.gaps.is_empty(), "{:?}", ev.gaps);
    let lines: Vec<&String> = ev.logs.values().flat_map(|l| l.lines.iter()).collect();
    assert_eq!(lines, vec!["FATAL:  password authentication failed for user \"app\""]);
    assert!(
        ev.logs.keys().all(|k| k.pod == SYNTHETIC_POD),
        "prose outside fences names no pod: {:?}",
        ev.logs.keys().collect::<Vec<_>>()
    );
    // A command quoted in prose, its output in the block below.
    let ev = load("kubectl logs db-0 -n shop:\n\n```\nFATAL:  database \"app\" does not exist\n```\n");
    assert!(
        ev.logs.keys().any(|k| k.pod == "db-0" && k.namespace == "shop"),
        "{:?}",
        ev.logs.keys().collect::<Vec<_>>()
    );
}

#[test]
fn a_pod_takes_the_namespace_its_events_give() {
    let pods = table(
        &[&["NAME", "READY", "STATUS", "RESTARTS", "AGE"], &["web-1", "0/1", "CrashLoopBackOff", "4", "5m"]],
        3,
        0,
    );
    let events = table(
        &[
            &["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"],
            &[
                "30s",
                "Warning",
                "BackOff",
                "pod/web-1",
                "Back-off restarting failed container web in pod web-1_shop(u)",
            ],
        ],
        3,
        0,
    );
    let ev = load(&format!("$ kubectl get pods\n{pods}\n$ kubectl get events -n shop\n{events}"));
    assert_eq!(names(&ev), vec!["shop/web-1".to_string()]);
    assert_eq!(ev.events_for("Pod", Some("shop"), "web-1").len(), 1);
}
