//! Server-side printing: the `Table` kubectl asks for (`Accept: application/json;as=Table;
//! v=v1;g=meta.k8s.io`). Columns and cells follow the API server's own printers (v1.31) for the
//! common kinds, so `kubectl get` looks as it does against a cluster; other kinds get NAME and
//! AGE. As the server always does, every column is filled and `-o wide` columns carry
//! priority 1, which kubectl hides unless asked.
//!
//! Ages are computed against the snapshot's own "now" (its newest timestamp), never the wall
//! clock: a pod created five minutes before the snapshot was taken shows `5m` forever.

use jiff::Timestamp;
use serde_json::{Value, json};

/// One column definition.
pub struct Column {
    pub name: &'static str,
    pub ty: &'static str,
    pub format: &'static str,
    pub priority: u8,
    pub description: &'static str,
}

impl Column {
    pub fn to_json(&self) -> Value {
        json!({"name": self.name, "type": self.ty, "format": self.format, "description": self.description,
            "priority": self.priority})
    }
}

const NAME_DOC: &str = "Name must be unique within a namespace.";
const AGE_DOC: &str = "CreationTimestamp is a timestamp representing the server time when this object was created.";

const fn col(name: &'static str, ty: &'static str, priority: u8, description: &'static str) -> Column {
    Column { name, ty, format: "", priority, description }
}
const NAME: Column = Column { name: "Name", ty: "string", format: "name", priority: 0, description: NAME_DOC };
const AGE: Column = col("Age", "string", 0, AGE_DOC);
const CONTAINERS: Column = col("Containers", "string", 1, "Names of each container in the template.");
const IMAGES: Column = col("Images", "string", 1, "Images referenced by each container in the template.");
const SELECTOR: Column = col("Selector", "string", 1, "Label selector.");

/// The columns for a resource (by plural).
pub fn columns(plural: &str) -> Vec<Column> {
    match plural {
        "pods" => vec![
            NAME,
            col("Ready", "string", 0, "The aggregate readiness state of this pod for accepting traffic."),
            col("Status", "string", 0, "The aggregate status of the containers in this pod."),
            col(
                "Restarts",
                "string",
                0,
                "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
            ),
            AGE,
            col("IP", "string", 1, "podIP address allocated to the pod."),
            col("Node", "string", 1, "NodeName is the name of the node the pod is scheduled on."),
            col(
                "Nominated Node",
                "string",
                1,
                "nominatedNodeName is set when this pod preempts other pods on the node.",
            ),
            col(
                "Readiness Gates",
                "string",
                1,
                "If specified, all readiness gates will be evaluated for pod readiness.",
            ),
        ],
        "deployments" => vec![
            NAME,
            col("Ready", "string", 0, "Number of the pod with ready state"),
            col(
                "Up-to-date",
                "integer",
                0,
                "Total number of non-terminated pods targeted by this deployment that have the desired template spec.",
            ),
            col(
                "Available",
                "integer",
                0,
                "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.",
            ),
            AGE,
            CONTAINERS,
            IMAGES,
            SELECTOR,
        ],
        "replicasets" | "replicationcontrollers" => vec![
            NAME,
            col("Desired", "integer", 0, "Replicas is the number of desired replicas."),
            col("Current", "integer", 0, "Replicas is the most recently observed number of replicas."),
            col("Ready", "integer", 0, "The number of ready replicas for this replica set."),
            AGE,
            CONTAINERS,
            IMAGES,
            SELECTOR,
        ],
        "statefulsets" => {
            vec![NAME, col("Ready", "string", 0, "Number of the pod with ready state"), AGE, CONTAINERS, IMAGES]
        }
        "daemonsets" => vec![
            NAME,
            col("Desired", "integer", 0, "The total number of nodes that should be running the daemon pod."),
            col("Current", "integer", 0, "The number of nodes that are running at least 1 daemon pod."),
            col(
                "Ready",
                "integer",
                0,
                "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.",
            ),
            col("Up-to-date", "integer", 0, "The total number of nodes that are running updated daemon pod"),
            col(
                "Available",
                "integer",
                0,
                "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available.",
            ),
            col(
                "Node Selector",
                "string",
                0,
                "NodeSelector is a selector which must be true for the pod to fit on a node.",
            ),
            AGE,
            CONTAINERS,
            IMAGES,
            SELECTOR,
        ],
        "jobs" => vec![
            NAME,
            col("Status", "string", 0, "Status of the job."),
            col(
                "Completions",
                "string",
                0,
                "The desired number of successfully finished pods the job should be run with.",
            ),
            col("Duration", "string", 0, "Time required to complete the job."),
            AGE,
            CONTAINERS,
            IMAGES,
            SELECTOR,
        ],
        "cronjobs" => vec![
            NAME,
            col("Schedule", "string", 0, "The schedule in Cron format."),
            col("Timezone", "string", 0, "The time zone name for the given schedule."),
            col("Suspend", "boolean", 0, "This flag tells the controller to suspend subsequent executions."),
            col("Active", "integer", 0, "A list of pointers to currently running jobs."),
            col("Last Schedule", "string", 0, "Information when was the last time the job was successfully scheduled."),
            AGE,
            CONTAINERS,
            IMAGES,
            SELECTOR,
        ],
        "services" => vec![
            NAME,
            col("Type", "string", 0, "type determines how the Service is exposed."),
            col("Cluster-IP", "string", 0, "clusterIP is the IP address of the service."),
            col(
                "External-IP",
                "string",
                0,
                "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.",
            ),
            col("Port(s)", "string", 0, "The list of ports that are exposed by this service."),
            AGE,
            col(
                "Selector",
                "string",
                1,
                "Route service traffic to pods with label keys and values matching this selector.",
            ),
        ],
        "events" => vec![
            col("Last Seen", "string", 0, "The time at which the most recent occurrence of this event was recorded."),
            col("Type", "string", 0, "Type of this event (Normal, Warning), new types could be added in the future"),
            col(
                "Reason",
                "string",
                0,
                "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
            ),
            col("Object", "string", 0, "The object that this event is about."),
            col(
                "Subobject",
                "string",
                1,
                "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement.",
            ),
            col("Source", "string", 1, "The component reporting this event."),
            col("Message", "string", 0, "A human-readable description of the status of this operation."),
            col("First Seen", "string", 1, "The time at which the event was first recorded."),
            col("Count", "string", 1, "The number of times this event has occurred."),
            Column { name: "Name", ty: "string", format: "name", priority: 1, description: NAME_DOC },
        ],
        "nodes" => vec![
            NAME,
            col("Status", "string", 0, "The status of the node"),
            col("Roles", "string", 0, "The roles of the node"),
            AGE,
            col("Version", "string", 0, "Kubelet Version reported by the node."),
            col("Internal-IP", "string", 1, "List of addresses reachable to the node."),
            col("External-IP", "string", 1, "List of addresses reachable to the node."),
            col(
                "OS-Image",
                "string",
                1,
                "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).",
            ),
            col(
                "Kernel-Version",
                "string",
                1,
                "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
            ),
            col(
                "Container-Runtime",
                "string",
                1,
                "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).",
            ),
        ],
        "namespaces" => vec![NAME, col("Status", "string", 0, "The status of the namespace"), AGE],
        "secrets" => vec![
            NAME,
            col("Type", "string", 0, "Used to facilitate programmatic handling of secret data."),
            col("Data", "string", 0, "Data contains the secret data."),
            AGE,
        ],
        "configmaps" => vec![NAME, col("Data", "string", 0, "Data contains the configuration data."), AGE],
        "serviceaccounts" => vec![
            NAME,
            col(
                "Secrets",
                "string",
                0,
                "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.",
            ),
            AGE,
        ],
        "endpoints" => vec![NAME, col("Endpoints", "string", 0, "Endpoints is the list of endpoints."), AGE],
        "ingresses" => vec![
            NAME,
            col("Class", "string", 0, "ingressClassName is the name of an IngressClass cluster resource."),
            col("Hosts", "string", 0, "Hosts that incoming requests are matched against before the ingress rule"),
            col("Address", "string", 0, "Address is a list containing ingress points for the load-balancer"),
            col("Ports", "string", 0, "Ports of TLS configurations that open"),
            AGE,
        ],
        "persistentvolumeclaims" => vec![
            NAME,
            col("Status", "string", 0, "phase represents the current phase of PersistentVolumeClaim."),
            col(
                "Volume",
                "string",
                0,
                "volumeName is the binding reference to the PersistentVolume backing this claim.",
            ),
            col("Capacity", "string", 0, "capacity represents the actual resources of the underlying volume."),
            col("Access Modes", "string", 0, "accessModes contains the desired access modes the volume should have."),
            col("StorageClass", "string", 0, "storageClassName is the name of the StorageClass required by the claim."),
            col(
                "VolumeAttributesClass",
                "string",
                0,
                "volumeAttributesClassName may be used to set the VolumeAttributesClass used by this claim.",
            ),
            AGE,
            col("VolumeMode", "string", 1, "volumeMode defines what type of volume is required by the claim."),
        ],
        "persistentvolumes" => vec![
            NAME,
            col(
                "Capacity",
                "string",
                0,
                "capacity is the description of the persistent volume's resources and capacity.",
            ),
            col("Access Modes", "string", 0, "accessModes contains all ways the volume can be mounted."),
            col(
                "Reclaim Policy",
                "string",
                0,
                "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim.",
            ),
            col(
                "Status",
                "string",
                0,
                "phase indicates if a volume is available, bound to a claim, or released by a claim.",
            ),
            col(
                "Claim",
                "string",
                0,
                "claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim.",
            ),
            col(
                "StorageClass",
                "string",
                0,
                "storageClassName is the name of StorageClass to which this persistent volume belongs.",
            ),
            col(
                "VolumeAttributesClass",
                "string",
                0,
                "Name of VolumeAttributesClass to which this persistent volume belongs.",
            ),
            col("Reason", "string", 0, "reason is a brief CamelCase string that describes any failure."),
            AGE,
            col(
                "VolumeMode",
                "string",
                1,
                "volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state.",
            ),
        ],
        _ => vec![NAME, AGE],
    }
}

fn str_at<'a>(obj: &'a Value, ptr: &str) -> &'a str {
    obj.pointer(ptr).and_then(Value::as_str).unwrap_or_default()
}

fn int_at(obj: &Value, ptr: &str) -> i64 {
    obj.pointer(ptr).and_then(Value::as_i64).unwrap_or_default()
}

fn arr_at<'a>(obj: &'a Value, ptr: &str) -> &'a [Value] {
    obj.pointer(ptr).and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default()
}

fn or_none(s: String) -> String {
    if s.is_empty() { "<none>".to_string() } else { s }
}

/// Kubernetes' `duration.HumanDuration`.
pub fn human_duration(secs: i64) -> String {
    if secs < -1 {
        return "<invalid>".to_string();
    }
    if secs < 0 {
        return "0s".to_string();
    }
    if secs < 120 {
        return format!("{secs}s");
    }
    let minutes = secs / 60;
    if minutes < 10 {
        let s = secs % 60;
        return if s == 0 { format!("{minutes}m") } else { format!("{minutes}m{s}s") };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = secs / 3600;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 { format!("{hours}h") } else { format!("{hours}h{m}m") };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 { format!("{}d", hours / 24) } else { format!("{}d{h}h", hours / 24) };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        return if dy == 0 { format!("{}y", hours / 24 / 365) } else { format!("{}y{dy}d", hours / 24 / 365) };
    }
    format!("{}y", hours / 24 / 365)
}

fn parse_ts(v: Option<&Value>) -> Option<Timestamp> {
    v.and_then(Value::as_str).and_then(|s| s.parse().ok())
}

/// `translateTimestampSince` against the snapshot's now.
fn since(t: Option<Timestamp>, now: Option<Timestamp>) -> String {
    match (t, now) {
        (Some(t), Some(now)) => human_duration(now.as_second() - t.as_second()),
        _ => "<unknown>".to_string(),
    }
}

fn age(obj: &Value, now: Option<Timestamp>) -> Value {
    Value::String(since(parse_ts(obj.pointer("/metadata/creationTimestamp")), now))
}

fn name(obj: &Value) -> Value {
    Value::String(str_at(obj, "/metadata/name").to_string())
}

/// `labels.FormatLabels` / a selector's `String()`: sorted `k=v`, `<none>` when empty.
fn format_labels(m: Option<&Value>) -> String {
    let mut pairs: Vec<String> = m
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default())).collect())
        .unwrap_or_default();
    pairs.sort();
    or_none(pairs.join(","))
}

/// A metav1.LabelSelector as text: matchLabels then matchExpressions.
fn format_selector(sel: Option<&Value>) -> String {
    let Some(sel) = sel else { return "<none>".to_string() };
    let mut parts: Vec<String> = sel
        .get("matchLabels")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default())).collect())
        .unwrap_or_default();
    for e in sel.get("matchExpressions").and_then(Value::as_array).into_iter().flatten() {
        let key = str_at(e, "/key");
        let values: Vec<&str> = arr_at(e, "/values").iter().filter_map(Value::as_str).collect();
        parts.push(match str_at(e, "/operator") {
            "In" => format!("{key} in ({})", values.join(",")),
            "NotIn" => format!("{key} notin ({})", values.join(",")),
            "Exists" => key.to_string(),
            "DoesNotExist" => format!("!{key}"),
            other => format!("{key} {other}"),
        });
    }
    parts.sort();
    or_none(parts.join(","))
}

/// Containers and images of a pod template, comma-joined.
fn containers_images(obj: &Value, spec_ptr: &str) -> (Value, Value) {
    let cs = arr_at(obj, &format!("{spec_ptr}/containers"));
    let names: Vec<&str> = cs.iter().map(|c| str_at(c, "/name")).collect();
    let images: Vec<&str> = cs.iter().map(|c| str_at(c, "/image")).collect();
    (Value::String(names.join(",")), Value::String(images.join(",")))
}

/// The cells of one row, every column filled.
pub fn cells(plural: &str, obj: &Value, now: Option<Timestamp>) -> Vec<Value> {
    match plural {
        "pods" => pod_cells(obj, now),
        "deployments" => {
            let (c, i) = containers_images(obj, "/spec/template/spec");
            let desired = obj.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1);
            vec![
                name(obj),
                json!(format!("{}/{desired}", int_at(obj, "/status/readyReplicas"))),
                json!(int_at(obj, "/status/updatedReplicas")),
                json!(int_at(obj, "/status/availableReplicas")),
                age(obj, now),
                c,
                i,
                json!(format_selector(obj.pointer("/spec/selector"))),
            ]
        }
        "replicasets" | "replicationcontrollers" => {
            let (c, i) = containers_images(obj, "/spec/template/spec");
            let selector = if plural == "replicasets" {
                format_selector(obj.pointer("/spec/selector"))
            } else {
                format_labels(obj.pointer("/spec/selector"))
            };
            vec![
                name(obj),
                json!(obj.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1)),
                json!(int_at(obj, "/status/replicas")),
                json!(int_at(obj, "/status/readyReplicas")),
                age(obj, now),
                c,
                i,
                json!(selector),
            ]
        }
        "statefulsets" => {
            let (c, i) = containers_images(obj, "/spec/template/spec");
            let desired = obj.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1);
            vec![name(obj), json!(format!("{}/{desired}", int_at(obj, "/status/readyReplicas"))), age(obj, now), c, i]
        }
        "daemonsets" => {
            let (c, i) = containers_images(obj, "/spec/template/spec");
            vec![
                name(obj),
                json!(int_at(obj, "/status/desiredNumberScheduled")),
                json!(int_at(obj, "/status/currentNumberScheduled")),
                json!(int_at(obj, "/status/numberReady")),
                json!(int_at(obj, "/status/updatedNumberScheduled")),
                json!(int_at(obj, "/status/numberAvailable")),
                json!(format_labels(obj.pointer("/spec/template/spec/nodeSelector"))),
                age(obj, now),
                c,
                i,
                json!(format_selector(obj.pointer("/spec/selector"))),
            ]
        }
        "jobs" => job_cells(obj, now),
        "cronjobs" => {
            let (c, i) = containers_images(obj, "/spec/jobTemplate/spec/template/spec");
            let last = match parse_ts(obj.pointer("/status/lastScheduleTime")) {
                Some(t) => since(Some(t), now),
                None => "<none>".to_string(),
            };
            let suspend = obj.pointer("/spec/suspend").and_then(Value::as_bool).unwrap_or(false);
            vec![
                name(obj),
                json!(str_at(obj, "/spec/schedule")),
                json!(or_none(str_at(obj, "/spec/timeZone").to_string())),
                json!(if suspend { "True" } else { "False" }),
                json!(arr_at(obj, "/status/active").len()),
                json!(last),
                age(obj, now),
                c,
                i,
                json!(format_selector(obj.pointer("/spec/jobTemplate/spec/selector"))),
            ]
        }
        "services" => service_cells(obj, now),
        "events" => event_cells(obj, now),
        "nodes" => node_cells(obj, now),
        "namespaces" => vec![name(obj), json!(str_at(obj, "/status/phase")), age(obj, now)],
        "secrets" => {
            // The values are gone; the key names in the annotation still count them.
            let keys = str_at(obj, "/metadata/annotations/kubesleuth.io~1keys");
            let n = keys.split(',').filter(|k| !k.is_empty()).count();
            vec![name(obj), json!(str_at(obj, "/type")), json!(n), age(obj, now)]
        }
        "configmaps" => {
            let count = |p: &str| obj.pointer(p).and_then(Value::as_object).map_or(0, |m| m.len());
            vec![name(obj), json!(count("/data") + count("/binaryData")), age(obj, now)]
        }
        "serviceaccounts" => vec![name(obj), json!(arr_at(obj, "/secrets").len()), age(obj, now)],
        "endpoints" => vec![name(obj), json!(format_endpoints(obj)), age(obj, now)],
        "ingresses" => ingress_cells(obj, now),
        "persistentvolumeclaims" => {
            let phase = if obj.pointer("/metadata/deletionTimestamp").is_some() {
                "Terminating"
            } else {
                str_at(obj, "/status/phase")
            };
            let bound = phase == "Bound";
            vec![
                name(obj),
                json!(phase),
                json!(str_at(obj, "/spec/volumeName")),
                json!(if bound { str_at(obj, "/status/capacity/storage") } else { "" }),
                json!(if bound { access_modes(arr_at(obj, "/status/accessModes")) } else { String::new() }),
                json!(str_at(obj, "/spec/storageClassName")),
                json!(unset(str_at(obj, "/spec/volumeAttributesClassName"))),
                age(obj, now),
                json!(str_at(obj, "/spec/volumeMode")),
            ]
        }
        "persistentvolumes" => {
            let claim = match (str_at(obj, "/spec/claimRef/namespace"), str_at(obj, "/spec/claimRef/name")) {
                (_, "") => String::new(),
                (ns, n) => format!("{ns}/{n}"),
            };
            vec![
                name(obj),
                json!(str_at(obj, "/spec/capacity/storage")),
                json!(access_modes(arr_at(obj, "/spec/accessModes"))),
                json!(str_at(obj, "/spec/persistentVolumeReclaimPolicy")),
                json!(str_at(obj, "/status/phase")),
                json!(claim),
                json!(str_at(obj, "/spec/storageClassName")),
                json!(unset(str_at(obj, "/spec/volumeAttributesClassName"))),
                json!(str_at(obj, "/status/reason")),
                age(obj, now),
                json!(str_at(obj, "/spec/volumeMode")),
            ]
        }
        _ => vec![name(obj), age(obj, now)],
    }
}

fn or_unknown(s: &str) -> String {
    if s.is_empty() { "<unknown>".to_string() } else { s.to_string() }
}

fn unset(s: &str) -> String {
    if s.is_empty() { "<unset>".to_string() } else { s.to_string() }
}

fn access_modes(modes: &[Value]) -> String {
    let mut out = Vec::new();
    for (long, short) in
        [("ReadWriteOnce", "RWO"), ("ReadOnlyMany", "ROX"), ("ReadWriteMany", "RWX"), ("ReadWriteOncePod", "RWOP")]
    {
        if modes.iter().any(|m| m.as_str() == Some(long)) {
            out.push(short);
        }
    }
    out.join(",")
}

/// `kubectl get pods` STATUS, READY and RESTARTS, as the API server's `printPod` computes them.
fn pod_cells(obj: &Value, now: Option<Timestamp>) -> Vec<Value> {
    let containers = arr_at(obj, "/spec/containers");
    let init_specs = arr_at(obj, "/spec/initContainers");
    let restartable_init =
        |name: &str| init_specs.iter().any(|c| str_at(c, "/name") == name && str_at(c, "/restartPolicy") == "Always");
    let total = containers.len() + init_specs.iter().filter(|c| str_at(c, "/restartPolicy") == "Always").count();
    let mut ready = 0;
    let mut restarts = 0i64;
    let mut sidecar_restarts = 0i64;
    let mut last_restart: Option<Timestamp> = None;
    let mut last_sidecar_restart: Option<Timestamp> = None;
    let phase = str_at(obj, "/status/phase");
    let mut reason = match str_at(obj, "/status/reason") {
        "" => phase.to_string(),
        r => r.to_string(),
    };
    let conditions = arr_at(obj, "/status/conditions");
    if conditions.iter().any(|c| str_at(c, "/type") == "PodScheduled" && str_at(c, "/reason") == "SchedulingGated") {
        reason = "SchedulingGated".to_string();
    }
    let later = |slot: &mut Option<Timestamp>, c: &Value| {
        if let Some(t) = parse_ts(c.pointer("/lastState/terminated/finishedAt"))
            && slot.is_none_or(|s| t > s)
        {
            *slot = Some(t);
        }
    };

    let init_statuses = arr_at(obj, "/status/initContainerStatuses");
    let mut initializing = false;
    for (i, c) in init_statuses.iter().enumerate() {
        let cname = str_at(c, "/name");
        restarts += int_at(c, "/restartCount");
        later(&mut last_restart, c);
        if restartable_init(cname) {
            sidecar_restarts += int_at(c, "/restartCount");
            later(&mut last_sidecar_restart, c);
        }
        let terminated = c.pointer("/state/terminated");
        let waiting_reason = str_at(c, "/state/waiting/reason");
        if terminated.is_some_and(|t| int_at(t, "/exitCode") == 0) {
            continue;
        }
        if restartable_init(cname) && c.get("started").and_then(Value::as_bool) == Some(true) {
            if c.get("ready").and_then(Value::as_bool) == Some(true) {
                ready += 1;
            }
            continue;
        }
        if let Some(t) = terminated {
            reason = match str_at(t, "/reason") {
                "" if int_at(t, "/signal") != 0 => format!("Init:Signal:{}", int_at(t, "/signal")),
                "" => format!("Init:ExitCode:{}", int_at(t, "/exitCode")),
                r => format!("Init:{r}"),
            };
        } else if !waiting_reason.is_empty() && waiting_reason != "PodInitializing" {
            reason = format!("Init:{waiting_reason}");
        } else {
            reason = format!("Init:{i}/{}", init_specs.len());
        }
        initializing = true;
        break;
    }

    let initialized = conditions.iter().any(|c| str_at(c, "/type") == "Initialized" && str_at(c, "/status") == "True");
    if !initializing || initialized {
        restarts = sidecar_restarts;
        last_restart = last_sidecar_restart;
        let mut has_running = false;
        for c in arr_at(obj, "/status/containerStatuses").iter().rev() {
            restarts += int_at(c, "/restartCount");
            later(&mut last_restart, c);
            let waiting = str_at(c, "/state/waiting/reason");
            let terminated = c.pointer("/state/terminated");
            if !waiting.is_empty() {
                reason = waiting.to_string();
            } else if let Some(t) = terminated {
                reason = match str_at(t, "/reason") {
                    "" if int_at(t, "/signal") != 0 => format!("Signal:{}", int_at(t, "/signal")),
                    "" => format!("ExitCode:{}", int_at(t, "/exitCode")),
                    r => r.to_string(),
                };
            } else if c.get("ready").and_then(Value::as_bool) == Some(true) && c.pointer("/state/running").is_some() {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && has_running {
            let ready_cond = conditions.iter().any(|c| str_at(c, "/type") == "Ready" && str_at(c, "/status") == "True");
            reason = if ready_cond { "Running" } else { "NotReady" }.to_string();
        }
    }
    let deleting = obj.pointer("/metadata/deletionTimestamp").is_some();
    if deleting && str_at(obj, "/status/reason") == "NodeLost" {
        reason = "Unknown".to_string();
    } else if deleting && phase != "Succeeded" && phase != "Failed" {
        reason = "Terminating".to_string();
    }
    let restarts_text = match last_restart {
        Some(t) if restarts != 0 => format!("{restarts} ({} ago)", since(Some(t), now)),
        _ => restarts.to_string(),
    };
    let ip =
        arr_at(obj, "/status/podIPs").first().map(|p| str_at(p, "/ip")).unwrap_or_else(|| str_at(obj, "/status/podIP"));
    let gates = arr_at(obj, "/spec/readinessGates");
    let gates_text = if gates.is_empty() {
        "<none>".to_string()
    } else {
        let true_count = gates
            .iter()
            .filter(|g| {
                let t = str_at(g, "/conditionType");
                conditions.iter().any(|c| str_at(c, "/type") == t && str_at(c, "/status") == "True")
            })
            .count();
        format!("{true_count}/{}", gates.len())
    };
    vec![
        name(obj),
        json!(format!("{ready}/{total}")),
        json!(reason),
        json!(restarts_text),
        age(obj, now),
        json!(or_none(ip.to_string())),
        json!(or_none(str_at(obj, "/spec/nodeName").to_string())),
        json!(or_none(str_at(obj, "/status/nominatedNodeName").to_string())),
        json!(gates_text),
    ]
}

/// Row conditions kubectl reads to tell finished pods apart.
pub fn row_conditions(plural: &str, obj: &Value) -> Option<Value> {
    if plural != "pods" {
        return None;
    }
    match str_at(obj, "/status/phase") {
        "Succeeded" => Some(json!([{"type": "Completed", "status": "True", "reason": "Succeeded",
            "message": "The pod has completed successfully."}])),
        "Failed" => {
            Some(json!([{"type": "Completed", "status": "True", "reason": "Failed", "message": "The pod failed."}]))
        }
        _ => None,
    }
}

fn job_cells(obj: &Value, now: Option<Timestamp>) -> Vec<Value> {
    let (c, i) = containers_images(obj, "/spec/template/spec");
    let conds = arr_at(obj, "/status/conditions");
    let has = |t: &str| conds.iter().any(|c| str_at(c, "/type") == t && str_at(c, "/status") == "True");
    let status = if has("Complete") {
        "Complete"
    } else if has("Failed") {
        "Failed"
    } else if obj.pointer("/metadata/deletionTimestamp").is_some() {
        "Terminating"
    } else if has("Suspended") {
        "Suspended"
    } else if has("FailureTarget") {
        "FailureTarget"
    } else if has("SuccessCriteriaMet") {
        "SuccessCriteriaMet"
    } else {
        "Running"
    };
    let succeeded = int_at(obj, "/status/succeeded");
    let completions = match (
        obj.pointer("/spec/completions").and_then(Value::as_i64),
        obj.pointer("/spec/parallelism").and_then(Value::as_i64),
    ) {
        (Some(c), _) => format!("{succeeded}/{c}"),
        (None, Some(p)) if p > 1 => format!("{succeeded}/1 of {p}"),
        _ => format!("{succeeded}/1"),
    };
    let start = parse_ts(obj.pointer("/status/startTime"));
    let done = parse_ts(obj.pointer("/status/completionTime"));
    let duration = match (start, done) {
        (None, _) => String::new(),
        (Some(s), None) => since(Some(s), now),
        (Some(s), Some(d)) => human_duration(d.as_second() - s.as_second()),
    };
    vec![
        name(obj),
        json!(status),
        json!(completions),
        json!(duration),
        age(obj, now),
        c,
        i,
        json!(format_selector(obj.pointer("/spec/selector"))),
    ]
}

fn service_cells(obj: &Value, now: Option<Timestamp>) -> Vec<Value> {
    let ty = match str_at(obj, "/spec/type") {
        "" => "ClusterIP",
        t => t,
    };
    let cluster_ip = arr_at(obj, "/spec/clusterIPs")
        .first()
        .and_then(Value::as_str)
        .unwrap_or_else(|| str_at(obj, "/spec/clusterIP"));
    let external_ips: Vec<&str> = arr_at(obj, "/spec/externalIPs").iter().filter_map(Value::as_str).collect();
    let external = match ty {
        "ClusterIP" => or_none(external_ips.join(",")),
        "NodePort" => or_none(external_ips.join(",")),
        "LoadBalancer" => {
            let mut ips: Vec<String> = arr_at(obj, "/status/loadBalancer/ingress")
                .iter()
                .map(|i| match str_at(i, "/ip") {
                    "" => str_at(i, "/hostname").to_string(),
                    ip => ip.to_string(),
                })
                .filter(|s| !s.is_empty())
                .collect();
            ips.extend(external_ips.iter().map(|s| s.to_string()));
            if ips.is_empty() { "<pending>".to_string() } else { ips.join(",") }
        }
        "ExternalName" => str_at(obj, "/spec/externalName").to_string(),
        _ => "<unknown>".to_string(),
    };
    let ports: Vec<String> = arr_at(obj, "/spec/ports")
        .iter()
        .map(|p| {
            let proto = match str_at(p, "/protocol") {
                "" => "TCP",
                x => x,
            };
            match int_at(p, "/nodePort") {
                0 => format!("{}/{proto}", int_at(p, "/port")),
                np => format!("{}:{np}/{proto}", int_at(p, "/port")),
            }
        })
        .collect();
    vec![
        name(obj),
        json!(ty),
        json!(or_none(cluster_ip.to_string())),
        json!(external),
        json!(or_none(ports.join(","))),
        age(obj, now),
        json!(format_labels(obj.pointer("/spec/selector"))),
    ]
}

fn event_cells(obj: &Value, now: Option<Timestamp>) -> Vec<Value> {
    let first_ts = parse_ts(obj.get("firstTimestamp")).or_else(|| parse_ts(obj.get("eventTime")));
    let first = since(first_ts, now);
    let mut last = match parse_ts(obj.get("lastTimestamp")) {
        Some(t) => since(Some(t), now),
        None => first.clone(),
    };
    let mut count = int_at(obj, "/count");
    if let Some(series) = obj.get("series").filter(|s| s.is_object()) {
        last = since(parse_ts(series.get("lastObservedTime")), now);
        count = int_at(series, "/count");
    } else if count == 0 {
        count = 1;
    }
    let kind = str_at(obj, "/involvedObject/kind").to_ascii_lowercase();
    let target = match str_at(obj, "/involvedObject/name") {
        "" => kind,
        n => format!("{kind}/{n}"),
    };
    let component = match str_at(obj, "/source/component") {
        "" => str_at(obj, "/reportingComponent"),
        c => c,
    };
    let instance = match str_at(obj, "/source/host") {
        "" => str_at(obj, "/reportingInstance"),
        h => h,
    };
    let source = if instance.is_empty() { component.to_string() } else { format!("{component}, {instance}") };
    vec![
        json!(last),
        json!(str_at(obj, "/type")),
        json!(str_at(obj, "/reason")),
        json!(target),
        json!(str_at(obj, "/involvedObject/fieldPath")),
        json!(source),
        json!(str_at(obj, "/message").trim()),
        json!(first),
        json!(count),
        name(obj),
    ]
}

fn node_cells(obj: &Value, now: Option<Timestamp>) -> Vec<Value> {
    let conds = arr_at(obj, "/status/conditions");
    let mut status = match conds.iter().find(|c| str_at(c, "/type") == "Ready") {
        Some(c) if str_at(c, "/status") == "True" => vec!["Ready"],
        Some(_) => vec!["NotReady"],
        None => vec!["Unknown"],
    };
    if obj.pointer("/spec/unschedulable").and_then(Value::as_bool) == Some(true) {
        status.push("SchedulingDisabled");
    }
    let mut roles: Vec<String> = obj
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| {
            if let Some(role) = k.strip_prefix("node-role.kubernetes.io/") {
                (!role.is_empty()).then(|| role.to_string())
            } else if k == "kubernetes.io/role" {
                v.as_str().filter(|r| !r.is_empty()).map(str::to_string)
            } else {
                None
            }
        })
        .collect();
    roles.sort();
    roles.dedup();
    let address = |t: &str| {
        arr_at(obj, "/status/addresses")
            .iter()
            .find(|a| str_at(a, "/type") == t)
            .map(|a| str_at(a, "/address").to_string())
    };
    let runtime = str_at(obj, "/status/nodeInfo/containerRuntimeVersion");
    vec![
        name(obj),
        json!(status.join(",")),
        json!(or_none(roles.join(","))),
        age(obj, now),
        json!(str_at(obj, "/status/nodeInfo/kubeletVersion")),
        json!(address("InternalIP").unwrap_or_else(|| "<none>".to_string())),
        json!(address("ExternalIP").unwrap_or_else(|| "<none>".to_string())),
        json!(or_unknown(str_at(obj, "/status/nodeInfo/osImage"))),
        json!(or_unknown(str_at(obj, "/status/nodeInfo/kernelVersion"))),
        json!(or_unknown(runtime)),
    ]
}

/// `formatEndpoints`: `ip:port` pairs, three at most, then `+ N more...`.
fn format_endpoints(obj: &Value) -> String {
    let mut all = Vec::new();
    for subset in arr_at(obj, "/subsets") {
        let ports = arr_at(subset, "/ports");
        for addr in arr_at(subset, "/addresses") {
            let ip = str_at(addr, "/ip");
            if ports.is_empty() {
                all.push(ip.to_string());
            }
            for p in ports {
                all.push(format!("{ip}:{}", int_at(p, "/port")));
            }
        }
    }
    let shown = all.iter().take(3).cloned().collect::<Vec<_>>().join(",");
    if all.len() > 3 { format!("{shown} + {} more...", all.len() - 3) } else { or_none(shown) }
}

fn ingress_cells(obj: &Value, now: Option<Timestamp>) -> Vec<Value> {
    let class = match str_at(obj, "/spec/ingressClassName") {
        "" => "<none>".to_string(),
        c => c.to_string(),
    };
    let mut hosts: Vec<&str> = Vec::new();
    for r in arr_at(obj, "/spec/rules") {
        let h = str_at(r, "/host");
        if !h.is_empty() && !hosts.contains(&h) {
            hosts.push(h);
        }
    }
    let hosts = if hosts.is_empty() { "*".to_string() } else { hosts.join(",") };
    let address: Vec<String> = arr_at(obj, "/status/loadBalancer/ingress")
        .iter()
        .map(|i| match str_at(i, "/ip") {
            "" => str_at(i, "/hostname").to_string(),
            ip => ip.to_string(),
        })
        .filter(|s| !s.is_empty())
        .collect();
    let ports = if arr_at(obj, "/spec/tls").is_empty() { "80" } else { "80, 443" };
    vec![name(obj), json!(class), json!(hosts), json!(address.join(",")), json!(ports), age(obj, now)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_duration_matches_kubernetes() {
        let cases = [
            (-5, "<invalid>"),
            (0, "0s"),
            (119, "119s"),
            (120, "2m"),
            (150, "2m30s"),
            (600, "10m"),
            (10799, "179m"),
            (3 * 3600, "3h"),
            (3 * 3600 + 600, "3h10m"),
            (8 * 3600, "8h"),
            (47 * 3600, "47h"),
            (50 * 3600, "2d2h"),
            (10 * 86400, "10d"),
            (800 * 86400, "2y70d"),
            (3000 * 86400, "8y"),
        ];
        for (secs, want) in cases {
            assert_eq!(human_duration(secs), want, "{secs}s");
        }
    }

    fn now() -> Option<Timestamp> {
        "2026-11-20T10:00:00Z".parse().ok()
    }

    #[test]
    fn pod_status_follows_the_waiting_reason_and_counts_restarts() {
        let pod = json!({"metadata": {"name": "web-1", "creationTimestamp": "2026-11-20T09:00:00Z"},
            "spec": {"containers": [{"name": "app"}, {"name": "side"}], "nodeName": "n1"},
            "status": {"phase": "Running", "podIP": "10.0.0.5", "containerStatuses": [
                {"name": "app", "ready": false, "restartCount": 4, "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                 "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2026-11-20T09:58:00Z"}}},
                {"name": "side", "ready": true, "restartCount": 0, "state": {"running": {"startedAt": "2026-11-20T09:00:05Z"}}}]}});
        let c = cells("pods", &pod, now());
        assert_eq!(
            c[..6],
            [
                json!("web-1"),
                json!("1/2"),
                json!("CrashLoopBackOff"),
                json!("4 (2m ago)"),
                json!("60m"),
                json!("10.0.0.5")
            ]
        );
        assert_eq!(c.len(), columns("pods").len());
    }

    #[test]
    fn pod_status_shows_init_and_eviction() {
        let init = json!({"metadata": {"name": "p"}, "spec": {"initContainers": [{"name": "i"}], "containers": [{"name": "c"}]},
            "status": {"phase": "Pending", "initContainerStatuses": [{"name": "i", "restartCount": 0,
                "state": {"waiting": {"reason": "ImagePullBackOff"}}}]}});
        assert_eq!(cells("pods", &init, now())[2], "Init:ImagePullBackOff");
        let evicted = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]},
            "status": {"phase": "Failed", "reason": "Evicted"}});
        assert_eq!(cells("pods", &evicted, now())[2], "Evicted");
        assert!(row_conditions("pods", &evicted).is_some());
    }

    #[test]
    fn service_and_event_cells() {
        let svc = json!({"metadata": {"name": "web"}, "spec": {"type": "NodePort", "clusterIP": "10.1.0.1",
            "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}], "selector": {"b": "2", "a": "1"}}});
        let c = cells("services", &svc, now());
        assert_eq!(c[1..5], [json!("NodePort"), json!("10.1.0.1"), json!("<none>"), json!("80:30080/TCP,53/UDP")]);
        assert_eq!(c[6], "a=1,b=2");
        let ev = json!({"metadata": {"name": "e1"}, "type": "Warning", "reason": "BackOff", "message": " Back-off restarting ",
            "involvedObject": {"kind": "Pod", "name": "web-1"}, "count": 7, "source": {"component": "kubelet", "host": "n1"},
            "firstTimestamp": "2026-11-20T09:00:00Z", "lastTimestamp": "2026-11-20T09:59:00Z"});
        let c = cells("events", &ev, now());
        assert_eq!(
            c,
            [
                json!("60s"),
                json!("Warning"),
                json!("BackOff"),
                json!("pod/web-1"),
                json!(""),
                json!("kubelet, n1"),
                json!("Back-off restarting"),
                json!("60m"),
                json!(7),
                json!("e1")
            ]
        );
    }
}
