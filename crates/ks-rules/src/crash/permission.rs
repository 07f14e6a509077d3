use ks_core::{Cause, EvidenceItem, EvidenceSource, Finding, Fix, RuleKind, RuleMeta, Severity, declare_rule};

use crate::facts::ContainerProblem;
use crate::{Context, Rule};

declare_rule! {
    /// ### What it finds
    /// Containers that exit because the process may not read, write or execute a file, or
    /// bind a port: `[Errno 13] Permission denied`, `mkdir: cannot create directory ...:
    /// Permission denied`, `Operation not permitted` on `chown`, `Read-only file system`,
    /// nginx `bind() to 0.0.0.0:80 failed (13: Permission denied)`, `exec: "x": permission
    /// denied`.
    ///
    /// ### Why it breaks
    /// The process runs as one user and the files belong to another: a Dockerfile installs
    /// packages under `/root` (`pip install --user`) and then switches to a non-root `USER`;
    /// a volume is owned by root while the container runs as uid 1001; NFS refuses `chown`
    /// (root squash); `readOnlyRootFilesystem: true` forbids writes outside volumes; a
    /// non-root process cannot bind a port below 1024; a script lost its execute bit.
    ///
    /// ### How to confirm
    /// `kubectl logs --previous` names the path; `kubectl get pod -o
    /// jsonpath='{.spec.securityContext}'` and the container's `securityContext` show the
    /// user; `kubectl exec ... -- ls -ld <path>` (or `docker run --rm --entrypoint ls <image>
    /// -ld <path>`) shows the owner and mode.
    ///
    /// ### Fix
    /// Install files where the runtime user can read them (`pip install --prefix=/install`
    /// or a virtualenv, `COPY --chown=<user>`), give volumes to the user with `fsGroup`,
    /// mount an `emptyDir` where a read-only root filesystem needs writes, listen on a port
    /// of 1024 or more, `chmod +x` scripts in the image.
    ///
    /// ### Prevention
    /// Run the image as its production user in CI (`docker run --user 1000 <image>`); set
    /// `runAsUser` and `fsGroup` together in pod templates; never install application
    /// dependencies under `/root` in an image that switches `USER`.
    ///
    /// ### Example
    /// `can't open file '/root/.local/bin/uvicorn': [Errno 13] Permission denied`: the
    /// builder stage ran `pip install --user` as root, the runtime stage runs as `appuser`.
    pub static META = {
        id: "KS0303",
        name: "permission-denied",
        cause: Cause::CrashPermission,
        severity: Severity::Error,
        kind: RuleKind::Runtime,
        summary: "the process is denied access to a file, directory or port it needs",
    }
}

pub struct PermissionDenied;

impl Rule for PermissionDenied {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        super::crash_findings(cx, &META, Cause::CrashPermission, out, |p, f| explain(cx, p, f));
    }
}

/// The port of `0.0.0.0:80`, `:80`, `[::]:80`, `'0.0.0.0', 80`.
pub fn port_of(addr: &str) -> Option<u16> {
    let digits: String =
        addr.trim_end_matches(|c: char| !c.is_ascii_digit()).chars().rev().take_while(char::is_ascii_digit).collect();
    digits.chars().rev().collect::<String>().parse().ok()
}

fn explain(cx: &Context<'_>, p: &ContainerProblem, f: &mut Finding) {
    let ev = cx.ev;
    let w = ev.workload_of(p.pod).clone();
    let image = super::image_of(cx, p);
    let run_as = super::run_as(ev, p);
    let user = run_as.describe();
    let as_user = match &user {
        Some(u) => format!("the container runs as non-root ({u})"),
        None => "the process runs as a non-root user (the image's USER)".to_string(),
    };
    if let Some(u) = &user {
        f.evidence.push(EvidenceItem::new(EvidenceSource::Spec, format!("securityContext {u}"), Some(w.clone())));
    }
    let path = p.details.get("path").cloned().unwrap_or_default();
    let quote = super::short_quote(&p.message);
    let head = format!("Container {} of {} {}{}", p.container, w.kind, w.qualified_name(), super::restarts_phrase(p));
    // A Job's template is immutable, so only other workloads get a patch.
    let template = crate::util::pod_template(ev, &w).is_some() && w.kind != "Job";
    let sc_patch = |json: &str| {
        let body = if w.kind == "CronJob" {
            format!("{{\"spec\":{{\"jobTemplate\":{{\"spec\":{{\"template\":{{\"spec\":{json}}}}}}}}}}}")
        } else {
            format!("{{\"spec\":{{\"template\":{{\"spec\":{json}}}}}}}")
        };
        format!("kubectl {}patch {} {} -p '{body}'", w.ns_flag(), w.kind.to_ascii_lowercase(), w.name)
    };
    f.root_key = format!("crash.permission:{}:{}", super::missing_dependency::image_repo(&image), path);

    // A port below 1024 without root.
    if p.signature == Some("log-bind-privileged-port") {
        let addr = p.details.get("addr").cloned().unwrap_or_default();
        let port = port_of(&addr);
        let port_s = port.map(|p| p.to_string()).unwrap_or_else(|| addr.clone());
        f.title = format!("Container {} may not bind port {port_s} as a non-root user", p.container);
        f.root_cause = format!(
            "{head} fails with `{quote}`: ports below 1024 need root or CAP_NET_BIND_SERVICE, and {as_user}. Listen on a port of 1024 or more, or allow unprivileged binds for the pod."
        );
        if template {
            f.fix.push(Fix::cmd(
                "Let non-root processes bind low ports in this pod (a safe sysctl)",
                sc_patch(
                    r#"{"securityContext":{"sysctls":[{"name":"net.ipv4.ip_unprivileged_port_start","value":"0"}]}}"#,
                ),
            ));
        }
        f.fix.push(Fix::text(format!(
            "or make the server listen on 8080 (for nginx, the nginxinc/nginx-unprivileged image) and point containerPort and the Service's targetPort at it instead of {port_s}"
        )));
        f.root_key = format!("crash.permission:{}:bind", super::missing_dependency::image_repo(&image));
        return;
    }

    // An entrypoint without its execute bit.
    if p.signature == Some("log-exec-permission") {
        let vol = super::volume_at(ev, p, &path);
        f.title = format!("{path} in container {} is not executable", p.container);
        match vol.as_ref().filter(|v| matches!(v.kind, "configMap" | "secret" | "projected")) {
            Some(v) => {
                f.root_cause = format!(
                    "{head} cannot start: `{quote}`. {path} comes from {} volume {}, whose files are mounted 0644 by default, so it cannot be executed.",
                    v.kind, v.name
                );
                f.fix.push(Fix::text(format!(
                    "Set defaultMode: 0755 on volume {} in the pod template, or run the script through its interpreter (command: [\"sh\", \"{path}\"])",
                    v.name
                )));
            }
            None => {
                f.root_cause = format!(
                    "{head} cannot start: `{quote}`. The file has no execute permission in image {image} (it lost its mode in Git or the COPY), so the runtime cannot run it."
                );
                f.fix.push(Fix::text(format!(
                    "Add `RUN chmod +x {path}` (or `COPY --chmod=755`) to the Dockerfile, or `git update-index --chmod=+x` the script, and rebuild {image}"
                )));
            }
        }
        return;
    }

    let vol = (!path.is_empty()).then(|| super::volume_at(ev, p, &path)).flatten();
    let read_only_fs = quote.contains("Read-only file system") || quote.contains("EROFS");
    // Files installed for root, process running as someone else (seed S2.2).
    if path.starts_with("/root/") && vol.is_none() {
        f.title = format!("Image {image} installs {path} for root, but the container runs as another user");
        f.root_cause = format!(
            "{head} exits with `{quote}`: {path} is under /root, which only root may enter, and {as_user}. The image was built with its packages installed for root (pip install --user in a build stage copied to /root/.local) and then switched to a non-root USER."
        );
        f.fix.push(Fix::text(format!(
            "In the Dockerfile, install where the runtime user can read: in the build stage `RUN pip install --prefix=/install -r requirements.txt` and in the runtime stage `COPY --from=builder /install /usr/local` (or build a virtualenv in /opt/venv and `COPY --chown=appuser:appuser --from=builder /opt/venv /opt/venv` with `ENV PATH=/opt/venv/bin:$PATH`), then rebuild {image}"
        )));
        f.fix.push(Fix::cmd(
            "Check who the image runs as and who owns the file",
            format!("docker run --rm --entrypoint sh {image} -c 'id; ls -ld /root {path}'"),
        ));
        f.root_key = format!("crash.permission:{}:/root", super::missing_dependency::image_repo(&image));
        return;
    }
    match vol {
        // A volume the kubelet mounts read-only, or a read-only mount.
        Some(v) if v.read_only || matches!(v.kind, "configMap" | "secret" | "projected") => {
            f.title = format!("Container {} writes to read-only volume {} at {}", p.container, v.name, v.mount_path);
            f.root_cause = format!(
                "{head} exits with `{quote}`: {path} is on {} volume {} mounted at {}, which is read-only. Copy what must change to a writable emptyDir (an init container can copy it) and point the app there.",
                v.kind, v.name, v.mount_path
            );
            f.fix.push(Fix::text(format!(
                "Mount an emptyDir where the app writes, and have an init container copy the files from volume {} into it",
                v.name
            )));
            f.root_key = format!("crash.permission:volume:{}:{}", w.qualified_name(), v.name);
        }
        // A persistent or host volume owned by someone else.
        Some(v) => {
            let uid = run_as.user.filter(|u| *u != 0).unwrap_or(1000);
            let what = match &v.claim {
                Some(c) => format!("PersistentVolumeClaim {c} (volume {})", v.name),
                None => format!("{} volume {}", v.kind, v.name),
            };
            f.title = format!("Container {} may not write to {what} at {}", p.container, v.mount_path);
            let fs_group = match run_as.fs_group {
                Some(g) => format!(" The pod already sets fsGroup: {g}, which the volume does not honour."),
                None => " The pod sets no fsGroup, so the kubelet does not hand the volume to the container's group."
                    .to_string(),
            };
            let nfs = if v.nfs {
                " The volume is NFS: the server maps root to nobody (root_squash), so neither chown nor fsGroup can change ownership from the pod; fix ownership on the export, or rely on group permissions."
            } else {
                ""
            };
            f.root_cause = format!(
                "{head} exits with `{quote}`: {path} is on {what}, whose files belong to another user, and {as_user}.{fs_group}{nfs}"
            );
            f.evidence.push(EvidenceItem::new(
                EvidenceSource::Spec,
                format!("volumeMount {} at {}{}", v.name, v.mount_path, if v.read_only { " (readOnly)" } else { "" }),
                Some(w.clone()),
            ));
            if template && !v.nfs && run_as.fs_group.is_none() {
                f.fix.push(Fix::cmd(
                    format!("Give the volume to group {uid} (fsGroup) so the container user can write it"),
                    sc_patch(&format!(
                        r#"{{"securityContext":{{"fsGroup":{uid},"fsGroupChangePolicy":"OnRootMismatch"}}}}"#
                    )),
                ));
            }
            f.fix.push(Fix::text(format!(
                "or fix ownership once with an init container running as root: `chown -R {uid}:{uid} {}` (the Bitnami charts' volumePermissions.enabled=true does this)",
                v.mount_path
            )));
            if let Some(c) = &v.claim {
                let ns = ev.pods[p.pod].metadata.namespace.clone().unwrap_or_default();
                f.root_key = format!("crash.permission:pvc:{ns}/{c}");
            }
        }
        None if read_only_fs && run_as.read_only_root => {
            let dir = path.rsplit_once('/').map(|(d, _)| d).filter(|d| !d.is_empty()).unwrap_or("/tmp");
            f.title = format!("Container {} writes to {dir} on a read-only root filesystem", p.container);
            f.root_cause = format!(
                "{head} exits with `{quote}`: the container sets readOnlyRootFilesystem: true and writes to {dir}, which is not on a volume. Mount an emptyDir there."
            );
            f.evidence.push(EvidenceItem::new(
                EvidenceSource::Spec,
                "securityContext readOnlyRootFilesystem: true",
                Some(w.clone()),
            ));
            if let Some(ptr) = super::template_container_pointer(ev, &w, &p.container) {
                let (spec, prefix) =
                    crate::util::pod_template(ev, &w).map(|(s, pr)| (Some(s), pr)).unwrap_or((None, ""));
                let c = spec.and_then(|s| {
                    s.containers.iter().chain(s.init_containers.iter().flatten()).find(|c| c.name == p.container)
                });
                let vols = if spec.is_some_and(|s| s.volumes.is_some()) {
                    (format!("{prefix}/volumes/-"), r#"{"name":"writable","emptyDir":{}}"#.to_string())
                } else {
                    (format!("{prefix}/volumes"), r#"[{"name":"writable","emptyDir":{}}]"#.to_string())
                };
                let mount = format!(r#"{{"name":"writable","mountPath":{}}}"#, super::json_str(dir));
                let mounts = if c.is_some_and(|c| c.volume_mounts.is_some()) {
                    (format!("{ptr}/volumeMounts/-"), mount)
                } else {
                    (format!("{ptr}/volumeMounts"), format!("[{mount}]"))
                };
                f.fix.push(Fix::cmd(format!("Mount an emptyDir at {dir}"), super::json_patch_add(&w, &[vols, mounts])));
            }
        }
        None => {
            let target = if path.is_empty() { "a file it needs".to_string() } else { path.clone() };
            f.title = if path.is_empty() {
                format!("Container {} is denied access to a file it needs", p.container)
            } else {
                format!("Container {} may not access {path}", p.container)
            };
            f.root_cause = format!(
                "{head} exits with `{quote}`: {target} in image {image} belongs to another user than the one the process runs as ({}).",
                user.clone().unwrap_or_else(|| "the image's USER".to_string())
            );
            if !path.is_empty() {
                f.fix.push(Fix::cmd(
                    "See who the image runs as and who owns the path",
                    format!("docker run --rm --entrypoint sh {image} -c 'id; ls -ld {path}'"),
                ));
            }
            f.fix.push(Fix::text(format!(
                "In the Dockerfile, give the files to the runtime user (`COPY --chown=<user>:<user>` or `RUN chown -R <user> <dir>` before `USER <user>`) and rebuild {image}"
            )));
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn ports_of_addresses() {
        assert_eq!(super::port_of("0.0.0.0:80"), Some(80));
        assert_eq!(super::port_of(":8080"), Some(8080));
        assert_eq!(super::port_of("[::]:443"), Some(443));
        assert_eq!(super::port_of("'0.0.0.0', 80"), Some(80));
        assert_eq!(super::port_of(":::3000"), Some(3000));
        assert_eq!(super::port_of("nothing"), None);
    }
}
