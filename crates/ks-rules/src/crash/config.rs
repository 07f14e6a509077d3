use ks_core::{
    Cause, Evidence, EvidenceItem, EvidenceSource, Finding, Fix, ObjectRef, RuleKind, RuleMeta, Severity, declare_rule,
};

use crate::facts::{ContainerProblem, ProblemKind};
use crate::{Context, Rule, util};

declare_rule! {
    /// ### What it finds
    /// Containers that exit because their configuration is missing or invalid: an unset
    /// environment variable (`KeyError: 'DATABASE_URL'`, `DATABASE_URL must be set`,
    /// `required key X missing value`, Rails `Missing secret_key_base`, the postgres/mysql
    /// images' `You must specify POSTGRES_PASSWORD`), a URL without a scheme (Go
    /// `unsupported protocol scheme ""`), a flag the program does not know, `args` run as the
    /// program because the container has no `command`, a config file that does not parse,
    /// and kubelet `CreateContainerConfigError`s no other rule explains.
    ///
    /// ### Why it breaks
    /// The program validates its configuration at start and exits when it is wrong. The
    /// image is fine; the pod template (env, args, mounted ConfigMaps) is not: a variable
    /// was renamed or never added, a URL lost its `http://`, flags were written for another
    /// version, or `args` replaced the image's CMD while the image has no ENTRYPOINT.
    ///
    /// ### How to confirm
    /// `kubectl logs --previous` names the setting; `kubectl set env <workload> --list`
    /// shows the variables the container gets; `kubectl get <workload> -o
    /// jsonpath='{.spec.template.spec.containers[*].args}'` shows its arguments.
    ///
    /// ### Fix
    /// Set the variable (`kubectl set env`), add the scheme to the URL, fix the flag or add
    /// the `command`, fix the config file in its ConfigMap; then restart the workload.
    ///
    /// ### Prevention
    /// Keep required settings in one ConfigMap/Secret per app and lint templates against
    /// the variables the app reads; start the image once in CI with the production config.
    ///
    /// ### Example
    /// `KeyError: 'DATABASE_URL'` from a worker whose Deployment sets `DB_URL` instead.
    pub static META = {
        id: "KS0304",
        name: "config-invalid",
        cause: Cause::CrashConfig,
        severity: Severity::Error,
        kind: RuleKind::Runtime,
        summary: "the container exits because its configuration is missing or invalid",
    }
}

pub struct ConfigInvalid;

impl Rule for ConfigInvalid {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        super::crash_findings(cx, &META, Cause::CrashConfig, out, |p, f| explain(cx, p, f));
        // Config errors of the kubelet that no config rule words (the cause falls back to
        // crash.config in facts).
        for p in util::problems(cx, ProblemKind::Config, Cause::CrashConfig) {
            let w = cx.ev.workload_of(p.pod).clone();
            let mut f = util::problem_finding(
                &META,
                cx,
                p,
                format!("The kubelet cannot build the config of container {}", p.container),
                format!(
                    "The kubelet refuses to create container {} of {} {}: `{}`. The container never starts until the pod template is fixed.",
                    p.container,
                    w.kind,
                    w.qualified_name(),
                    p.message.trim()
                ),
            );
            f.fix.push(util::describe_pod(cx.ev, p.pod));
            f.root_key = format!("crash.config:{}:{}", w.qualified_name(), p.message.trim());
            out.push(f);
        }
    }
}

/// Where a container's environment variable comes from, as far as the snapshot shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EnvSource {
    /// `env[].value`; the value when it may be quoted.
    Literal { value: Option<String> },
    /// `env[].valueFrom` or an `envFrom` source with that key.
    From(String),
    /// Not set by the spec.
    Absent,
    /// Possibly from `envFrom` sources whose keys the snapshot does not show.
    Maybe(Vec<String>),
}

/// Names whose values are secrets: never quoted.
pub fn is_secret_name(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    ["PASSWORD", "PASSWD", "SECRET", "TOKEN", "APIKEY", "API_KEY", "PRIVATE", "CREDENTIAL", "_KEY"]
        .iter()
        .any(|m| n.contains(m))
}

/// Where `var` comes from in the container's spec.
pub fn env_source(ev: &Evidence, p: &ContainerProblem, var: &str) -> EnvSource {
    let Some(c) = util::container_spec(ev, p.pod, &p.container) else { return EnvSource::Maybe(Vec::new()) };
    let ns = ev.pods[p.pod].metadata.namespace.clone().unwrap_or_default();
    if let Some(e) = c.env.iter().flatten().rev().find(|e| e.name == var) {
        if let Some(vf) = &e.value_from {
            let from = if let Some(r) = &vf.secret_key_ref {
                format!("secretKeyRef {}/{}", r.name, r.key)
            } else if let Some(r) = &vf.config_map_key_ref {
                format!("configMapKeyRef {}/{}", r.name, r.key)
            } else if let Some(r) = &vf.field_ref {
                format!("fieldRef {}", r.field_path)
            } else {
                "valueFrom".to_string()
            };
            return EnvSource::From(from);
        }
        let value = e.value.clone().unwrap_or_default();
        return EnvSource::Literal { value: (!is_secret_name(var)).then_some(value) };
    }
    let mut maybe = Vec::new();
    for src in c.env_from.iter().flatten() {
        let prefix = src.prefix.clone().unwrap_or_default();
        let Some(key) = var.strip_prefix(prefix.as_str()) else { continue };
        if let Some(r) = &src.config_map_ref {
            match ev.config_map(&ns, &r.name).filter(|c| c.keys_known) {
                Some(cm) if cm.keys.contains(key) => return EnvSource::From(format!("envFrom ConfigMap {}", r.name)),
                Some(_) => {}
                None => maybe.push(format!("ConfigMap {}", r.name)),
            }
        }
        if let Some(r) = &src.secret_ref {
            match ev.secret(&ns, &r.name).filter(|s| s.keys_known) {
                Some(s) if s.keys.contains(key) => return EnvSource::From(format!("envFrom Secret {}", r.name)),
                Some(_) => {}
                None => maybe.push(format!("Secret {}", r.name)),
            }
        }
    }
    if maybe.is_empty() { EnvSource::Absent } else { EnvSource::Maybe(maybe) }
}

/// Environment variables the container sets whose names are close to `var`
/// (`RAILS_SECRET_KEY_BASE` for `SECRET_KEY_BASE`, `DB_URL` for `DATABASE_URL`).
pub fn near_env_names(ev: &Evidence, p: &ContainerProblem, var: &str) -> Vec<String> {
    let Some(c) = util::container_spec(ev, p.pod, &p.container) else { return Vec::new() };
    let mut scored: Vec<(f64, String)> = c
        .env
        .iter()
        .flatten()
        .filter(|e| e.name != var)
        .filter_map(|e| {
            let sim = strsim::normalized_levenshtein(&e.name, var);
            let contains = e.name.ends_with(&format!("_{var}")) || var.ends_with(&format!("_{}", e.name));
            (contains || sim >= 0.6).then(|| (if contains { 1.0 } else { sim }, e.name.clone()))
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    scored.into_iter().map(|(_, n)| n).take(3).collect()
}

/// The variable a database image needs to initialise, from its image name.
fn db_password_var(image: &str) -> &'static str {
    let i = image.to_ascii_lowercase();
    if i.contains("mariadb") {
        "MARIADB_ROOT_PASSWORD"
    } else if i.contains("mysql") {
        "MYSQL_ROOT_PASSWORD"
    } else {
        "POSTGRES_PASSWORD"
    }
}

/// Settings that hold a URL without a scheme (or an empty one): env values, and `url:`
/// lines of the ConfigMaps the pod mounts or imports.
pub fn schemeless_urls(ev: &Evidence, p: &ContainerProblem) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    let (pod, c) = super::specs(ev, p);
    let looks_url = |n: &str| {
        let n = n.to_ascii_uppercase();
        n.contains("URL") || n.contains("URI") || n.ends_with("ENDPOINT")
    };
    let bad = |v: &str| {
        let v = v.trim().trim_matches(['"', '\'']);
        v.is_empty() || (!v.contains("://") && !v.starts_with('/') && !v.starts_with('$') && !v.contains(' '))
    };
    for e in c.iter().flat_map(|c| c.env.iter().flatten()) {
        if e.value_from.is_none() && looks_url(&e.name) && !is_secret_name(&e.name) {
            let v = e.value.clone().unwrap_or_default();
            if bad(&v) {
                let shown =
                    if v.is_empty() { format!("env {} is empty", e.name) } else { format!("env {}={v}", e.name) };
                out.push((shown, Some(e.name.clone())));
            }
        }
    }
    let ns = ev.pods[p.pod].metadata.namespace.clone().unwrap_or_default();
    let mut cms: Vec<String> = pod
        .iter()
        .flat_map(|s| s.volumes.iter().flatten())
        .filter_map(|v| Some(v.config_map.as_ref()?.name.clone()))
        .collect();
    cms.extend(
        c.iter()
            .flat_map(|c| c.env_from.iter().flatten())
            .filter_map(|s| Some(s.config_map_ref.as_ref()?.name.clone())),
    );
    cms.sort();
    cms.dedup();
    for name in cms {
        let Some(cm) = ev.config_map(&ns, &name) else { continue };
        for (key, data) in &cm.data {
            for line in data.lines() {
                let t = line.trim().trim_start_matches("- ");
                let Some((k, v)) = t.split_once(':').or_else(|| t.split_once('=')) else { continue };
                if looks_url(k.trim()) && !is_secret_name(k) && bad(v) && !v.trim().is_empty() {
                    out.push((format!("ConfigMap {name} key {key}: {}", t.trim()), None));
                }
            }
        }
    }
    out
}

fn explain(cx: &Context<'_>, p: &ContainerProblem, f: &mut Finding) {
    let ev = cx.ev;
    let w = ev.workload_of(p.pod).clone();
    let image = super::image_of(cx, p);
    let quote = super::short_quote(&p.message);
    let d = |k: &str| p.details.get(k).cloned().unwrap_or_default();
    let head = format!("Container {} of {} {}{}", p.container, w.kind, w.qualified_name(), super::restarts_phrase(p));
    let spec_cmd = util::container_spec(ev, p.pod, &p.container).and_then(super::command_line);
    f.root_key = format!("crash.config:{}:{}", w.qualified_name(), p.signature.unwrap_or("unknown"));
    let restart = util::restart_workload(&w);
    match p.signature {
        Some("log-config-env") | Some("log-config-db-password") | Some("log-config-rails-secret") => {
            let var = match p.signature {
                Some("log-config-rails-secret") => "SECRET_KEY_BASE".to_string(),
                Some("log-config-db-password") if d("var").is_empty() => db_password_var(&image).to_string(),
                _ if !d("placeholder").is_empty() => d("placeholder").to_ascii_uppercase().replace(['.', '-'], "_"),
                _ => d("var"),
            };
            explain_env(ev, p, f, &w, &head, &quote, &var);
            f.root_key = format!("crash.config:{}:env:{var}", w.qualified_name());
        }
        Some("log-config-url-scheme") => {
            let candidates = schemeless_urls(ev, p);
            f.title = match candidates.first() {
                Some((c, _)) => format!("Container {} uses a URL without a scheme ({c})", p.container),
                None => format!("Container {} is configured with a URL without a scheme", p.container),
            };
            let named = if candidates.is_empty() {
                " No env var or mounted ConfigMap in the snapshot shows the value: look for a URL setting (datasource, upstream, webhook) that is empty or lacks http://.".to_string()
            } else {
                format!(
                    " Settings without a scheme: {}.",
                    candidates.iter().map(|(c, _)| c.as_str()).collect::<Vec<_>>().join("; ")
                )
            };
            f.root_cause = format!(
                "{head} fails with `{quote}`: a URL it calls has no scheme (http:// or https://), or is empty, so the HTTP client cannot use it.{named}"
            );
            for (c, var) in &candidates {
                f.evidence.push(EvidenceItem::new(EvidenceSource::Spec, c.clone(), Some(w.clone())));
                let value = c.split_once('=').map(|(_, v)| v.to_string());
                if let (Some(var), Some(v)) = (var, value) {
                    f.fix.push(Fix::cmd(
                        format!("Add the scheme to {var}"),
                        format!(
                            "kubectl {}set env {} -c {} {var}=http://{v}",
                            w.ns_flag(),
                            super::set_target(&w),
                            p.container
                        ),
                    ));
                }
            }
            if let Some((c, None)) = candidates.iter().find(|(_, v)| v.is_none()) {
                let cm = c.trim_start_matches("ConfigMap ").split(' ').next().unwrap_or_default().to_string();
                f.fix.push(Fix::cmd(
                    format!("Add http:// to the URL in ConfigMap {cm}"),
                    format!("kubectl {}edit configmap {cm}", w.ns_flag()),
                ));
            }
            if candidates.is_empty() {
                f.fix.push(Fix::cmd(
                    "List the container's URL settings",
                    format!(
                        "kubectl {}set env {} -c {} --list | grep -i -E 'url|uri|endpoint'",
                        w.ns_flag(),
                        super::set_target(&w),
                        p.container
                    ),
                ));
            }
        }
        Some("log-args-as-command") => {
            let arg = d("arg");
            f.title = format!("Container {} runs its argument {arg} as the program: args without command", p.container);
            let has_cmd = util::container_spec(ev, p.pod, &p.container).is_some_and(|c| c.command.is_some());
            f.root_cause = if has_cmd {
                format!(
                    "{head} cannot start: `{quote}`. The runtime tries to execute {arg}, a flag, as the program: the command is wrong."
                )
            } else {
                format!(
                    "{head} cannot start: `{quote}`. The container sets args but no command, and image {image} has no ENTRYPOINT, so args replace the image's CMD and the first one, the flag {arg}, is run as the program. Add the program as command."
                )
            };
            if let Some(c) = &spec_cmd {
                f.evidence.push(EvidenceItem::new(EvidenceSource::Spec, c.clone(), Some(w.clone())));
            }
            match super::template_container_pointer(ev, &w, &p.container) {
                Some(ptr) if !has_cmd => f.fix.push(Fix::cmd(
                    format!("Add the program (the image's binary) as command so {arg} is passed to it"),
                    super::json_patch_add(&w, &[(format!("{ptr}/command"), r#"["<program>"]"#.to_string())]),
                )),
                _ => f.fix.push(Fix::text(format!(
                    "Set command to the image's program (see `docker inspect {image} --format '{{{{.Config.Cmd}}}}'`) so {arg} is its argument"
                ))),
            }
            f.fix.push(Fix::cmd(
                "See the image's own entrypoint and command",
                format!("docker inspect {image} --format '{{{{.Config.Entrypoint}}}} {{{{.Config.Cmd}}}}'"),
            ));
        }
        Some("log-config-flag") => {
            let flag = d("flag");
            f.title = format!("Container {} passes flag {flag}, which the program does not accept", p.container);
            f.root_cause = format!(
                "{head} exits with `{quote}`: the program in image {image} does not know {flag}. The args were written for another version of the program, or are misspelt."
            );
            if let Some(c) = &spec_cmd {
                f.evidence.push(EvidenceItem::new(EvidenceSource::Spec, c.clone(), Some(w.clone())));
            }
            f.fix.push(Fix::cmd(
                "List the flags this image's program accepts",
                format!("docker run --rm {image} --help"),
            ));
            f.fix.push(Fix::cmd(
                format!("Remove or fix {flag} in the container's args"),
                format!("kubectl {}edit {}", w.ns_flag(), super::set_target(&w)),
            ));
        }
        Some("log-config-app-attribute") => {
            let (module, attr) = (d("module"), d("attr"));
            f.title = format!("Module {module} in image {image} has no {attr}");
            f.root_cause = format!(
                "{head} exits with `{quote}`: the server command names {module}:{attr}, but module {module} defines no {attr} (the app object has another name, or lives in another module)."
            );
            if let Some(c) = &spec_cmd {
                f.evidence.push(EvidenceItem::new(EvidenceSource::Spec, c.clone(), Some(w.clone())));
            }
            f.fix.push(Fix::text(format!(
                "Point the command at the module and variable that hold the app (e.g. uvicorn app.main:app), in the container's command/args or the image's CMD; {module}:{attr} does not exist"
            )));
        }
        Some("log-config-datadir-not-empty") => {
            let path = if d("path").is_empty() { "/var/lib/postgresql/data".to_string() } else { d("path") };
            let vol = super::volume_at(ev, p, &path);
            f.title = format!("Container {} initialises its database in {path}, the root of a volume", p.container);
            let on = match &vol {
                Some(v) => format!("{path} is the mount point of volume {}, ", v.name),
                None => format!("{path} "),
            };
            f.root_cause = format!(
                "{head} exits with `{quote}`: {on}which holds lost+found (a new filesystem's root), so the database refuses to initialise there. Keep the data in a subdirectory of the volume."
            );
            if image.contains("postgres") {
                f.fix.push(Fix::cmd(
                    "Keep PostgreSQL's data in a subdirectory of the volume",
                    format!(
                        "kubectl {}set env {} -c {} PGDATA={}/pgdata",
                        w.ns_flag(),
                        super::set_target(&w),
                        p.container,
                        path.trim_end_matches('/')
                    ),
                ));
            } else {
                f.fix.push(Fix::text(format!(
                    "Mount the volume with subPath: data (or point the server's data directory at a subdirectory of {path})"
                )));
            }
        }
        Some("log-config-file") => {
            let file = d("file");
            let vol = (!file.is_empty()).then(|| super::volume_at(ev, p, &file)).flatten();
            let at = if file.is_empty() {
                String::new()
            } else {
                format!(
                    " in {file}{}",
                    if d("line").is_empty() { String::new() } else { format!(" line {}", d("line")) }
                )
            };
            let missing = p.message.to_ascii_lowercase().contains("no such file or directory");
            f.title = if missing {
                format!("Container {} cannot find its configuration file {file}", p.container)
            } else {
                format!("Container {} cannot load its configuration{at}", p.container)
            };
            let from = match vol.as_ref().filter(|v| v.kind == "configMap") {
                Some(v) => {
                    let cm = ev.pods[p.pod]
                        .spec
                        .as_ref()
                        .and_then(|s| {
                            s.volumes
                                .as_ref()?
                                .iter()
                                .find(|x| x.name == v.name)?
                                .config_map
                                .as_ref()
                                .map(|c| c.name.clone())
                        })
                        .unwrap_or_default();
                    let ns = ev.pods[p.pod].metadata.namespace.clone().unwrap_or_default();
                    let keys = ev
                        .config_map(&ns, &cm)
                        .filter(|c| c.keys_known)
                        .map(|c| c.keys.iter().cloned().collect::<Vec<_>>().join(", "));
                    f.fix.push(Fix::cmd(
                        format!("Fix the file in ConfigMap {cm}"),
                        format!("kubectl {}edit configmap {cm}", w.ns_flag()),
                    ));
                    let base = file.rsplit('/').next().unwrap_or(&file).to_string();
                    let closest = ev.config_map(&ns, &cm).filter(|c| c.keys_known).and_then(|c| {
                        c.keys
                            .iter()
                            .filter(|k| k.contains('.') == base.contains('.'))
                            .max_by(|a, b| {
                                strsim::normalized_levenshtein(a, &base)
                                    .total_cmp(&strsim::normalized_levenshtein(b, &base))
                            })
                            .cloned()
                    });
                    if let Some(k) = closest.filter(|_| missing) {
                        f.fix.push(Fix::text(format!(
                            "ConfigMap {cm} holds {k}: rename that key to {base}, or point the app at {}/{k}",
                            v.mount_path.trim_end_matches('/')
                        )));
                    }
                    match keys {
                        Some(k) if missing => format!(
                            " {} is ConfigMap {cm} (volume {}), whose keys are: {k}; none of them is the file the app opens.",
                            v.mount_path, v.name
                        ),
                        _ => format!(" The file comes from ConfigMap {cm} (volume {}).", v.name),
                    }
                }
                None if missing => {
                    f.fix.push(Fix::text(format!(
                        "Mount the file at {file} (a ConfigMap volume with that key, or subPath), or point the app at the path where its configuration is"
                    )));
                    " No volume of the container is mounted there, so the file would have to be in the image."
                        .to_string()
                }
                None => String::new(),
            };
            let what = if missing {
                "its configuration file is missing"
            } else {
                "its configuration does not parse or is invalid"
            };
            f.root_cause = format!("{head} exits with `{quote}`: {what}.{from}");
        }
        _ => {
            let detail = match p.signature {
                Some("log-config-database") if quote.contains("vm.max_map_count") => {
                    f.fix.push(Fix::text(
                        "Raise vm.max_map_count to 262144 on the nodes (a privileged init container running `sysctl -w vm.max_map_count=262144`, or the node's sysctl config)",
                    ));
                    " Elasticsearch needs the node's vm.max_map_count of at least 262144.".to_string()
                }
                Some("log-config-database") if quote.contains("incompatible with server") => {
                    f.fix.push(Fix::text(
                        "Run the image version that created the data directory, or upgrade the data (pg_upgrade / dump and restore) before switching versions",
                    ));
                    " The data directory was created by another major version of the database than the image runs."
                        .to_string()
                }
                Some("log-config-validation") => {
                    let fields: Vec<&str> = super::tail(p, 12)
                        .into_iter()
                        .skip_while(|l| !l.contains("validation error"))
                        .skip(1)
                        .filter(|l| !l.starts_with(' ') && !l.contains("For further information"))
                        .take(4)
                        .collect();
                    if fields.is_empty() { String::new() } else { format!(" Fields: {}.", fields.join(", ")) }
                }
                _ => String::new(),
            };
            f.title = format!("Container {} exits on invalid configuration", p.container);
            f.root_cause = format!("{head} exits with `{quote}`.{detail}");
        }
    }
    if let Some(r) = restart {
        f.fix.push(r);
    }
}

fn explain_env(
    ev: &Evidence,
    p: &ContainerProblem,
    f: &mut Finding,
    w: &ObjectRef,
    head: &str,
    quote: &str,
    var: &str,
) {
    let near = near_env_names(ev, p, var);
    let secretish = is_secret_name(var);
    let set_env = |value: &str| {
        Fix::cmd(
            format!("Set {var} on container {}", p.container),
            format!("kubectl {}set env {} -c {} {var}={value}", w.ns_flag(), super::set_target(w), p.container),
        )
    };
    match env_source(ev, p, var) {
        EnvSource::Absent | EnvSource::Maybe(_) if !near.is_empty() => {
            let other = &near[0];
            f.title = format!("Container {} sets {other}, but the app reads {var}", p.container);
            f.root_cause = format!(
                "{head} exits with `{quote}`: the app needs {var}, and the container spec does not set it; it sets {other} instead (renamed or misspelt), which the app does not read."
            );
            f.evidence.push(EvidenceItem::new(
                EvidenceSource::Spec,
                format!("env {} set; {var} not set", near.join(", ")),
                Some(w.clone()),
            ));
            match crate::util::template_env_pointer(ev, w, &p.container, other) {
                Some(ptr) => f.fix.push(Fix::cmd(
                    format!("Rename env {other} to {var}"),
                    crate::util::json_patch_replace(w, &format!("{ptr}/name"), var),
                )),
                None => f.fix.push(set_env("<value>")),
            }
        }
        EnvSource::Absent => {
            f.title = format!("Container {} does not set {var}", p.container);
            f.root_cause = format!(
                "{head} exits with `{quote}`: the app requires the environment variable {var}, and the container spec neither sets it in env nor imports it through envFrom."
            );
            f.evidence.push(EvidenceItem::new(EvidenceSource::Spec, format!("env: no {var}"), Some(w.clone())));
            if secretish {
                let secret = format!("{}-env", w.name);
                let ns = w.namespace.clone().unwrap_or_default();
                f.fix.push(Fix::cmd(
                    format!("Keep {var} in a Secret"),
                    format!(
                        "kubectl {}create secret generic {secret} --from-literal={var}=<value>",
                        crate::util::ns_flag(&ns)
                    ),
                ));
                f.fix.push(Fix::cmd(
                    format!("and give it to container {}", p.container),
                    format!(
                        "kubectl {}set env {} -c {} --from=secret/{secret}",
                        w.ns_flag(),
                        super::set_target(w),
                        p.container
                    ),
                ));
            } else {
                f.fix.push(set_env("<value>"));
            }
        }
        EnvSource::Maybe(sources) => {
            f.title = format!("Container {} gets no {var}", p.container);
            f.root_cause = format!(
                "{head} exits with `{quote}`: the app requires {var}; the container spec does not set it in env, and it can only come from {}, whose keys the snapshot does not show. Check that it holds {var}.",
                crate::util::join_names(&sources)
            );
            f.fix.push(Fix::cmd(
                format!("List the variables the container gets and look for {var}"),
                format!("kubectl {}set env {} -c {} --list --resolve", w.ns_flag(), super::set_target(w), p.container),
            ));
            f.fix.push(set_env("<value>"));
        }
        EnvSource::Literal { value } => {
            let shown = match &value {
                Some(v) if v.is_empty() => format!("{var} is set to an empty string"),
                Some(v) => format!("{var}={v}"),
                None => format!("{var} is set (value not shown)"),
            };
            f.title = format!("Container {} rejects its setting {var}", p.container);
            f.root_cause = format!(
                "{head} exits with `{quote}`: the container spec sets {shown}, and the app rejects that value (empty, or in a form it does not accept)."
            );
            f.evidence.push(EvidenceItem::new(EvidenceSource::Spec, format!("env {shown}"), Some(w.clone())));
            f.fix.push(set_env("<valid value>"));
        }
        EnvSource::From(src) => {
            f.title = format!("Container {} gets {var} from {src}, and the app rejects it", p.container);
            f.root_cause = format!(
                "{head} exits with `{quote}`: {var} comes from {src}, and the app finds it missing or invalid there (an empty value, or the wrong key)."
            );
            f.evidence.push(EvidenceItem::new(EvidenceSource::Spec, format!("env {var} <- {src}"), Some(w.clone())));
            f.fix.push(Fix::text(format!("Check the value {src} holds for {var} (key names only are shown here)")));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names_and_db_vars() {
        assert!(is_secret_name("DB_PASSWORD"));
        assert!(is_secret_name("SECRET_KEY_BASE"));
        assert!(!is_secret_name("DATABASE_URL"));
        assert_eq!(db_password_var("docker.io/library/postgres:16"), "POSTGRES_PASSWORD");
        assert_eq!(db_password_var("mariadb:11"), "MARIADB_ROOT_PASSWORD");
        assert_eq!(db_password_var("mysql:8.4"), "MYSQL_ROOT_PASSWORD");
    }
}
