use ks_core::build::{Dockerfile, Instruction, InstructionKind, Mount, Run, normalize_path, path_within};
use ks_core::{Cause, Finding, Fix, RuleKind, RuleMeta, Severity, declare_rule};

use super::{dockerfile_ref, env_in_chain, program, quote, simple_commands};
use crate::{Context, Rule, util};

declare_rule! {
    /// ### What it finds
    /// A `RUN --mount=type=cache,target=<dir>` whose `<dir>` is the directory the build
    /// writes its output into (Cargo's `target/`, `go build -o` into it, `dist/` or `build/`
    /// of a JavaScript build, Maven's `target/`, .NET's `bin/`/`obj/`), or a directory the same
    /// step copies the finished artifact out of (`cp target/release/app /usr/local/bin/`).
    /// Cache mounts over a package manager's own download cache (`/root/.cache/pip`,
    /// `/var/cache/apt`, `/usr/local/cargo/registry`, `/go/pkg/mod`, `~/.npm`, `~/.m2`, any
    /// `.cache` directory) are what cache mounts are for, and are not reported.
    ///
    /// ### Why it breaks
    /// A cache mount outlives the build: the next build starts with the previous build's
    /// output already there. Incremental compilers then decide what to rebuild from file
    /// timestamps, and a `COPY` of changed sources whose timestamps did not move past the
    /// cached output (a checkout of an older branch, a builder that normalises mtimes, Podman's
    /// layer reuse) leaves the old binary in place. The step copies that stale binary into the
    /// image, the layer cache keeps it, and the pod runs yesterday's code while `git diff`
    /// shows today's.
    ///
    /// ### How to confirm
    /// Change a source file, rebuild, and compare: `docker run --rm --entrypoint sh <image> -c
    /// 'ls -l --time-style=full-iso /usr/local/bin/<app>'` shows a timestamp older than the
    /// change, or the behaviour is unchanged; `docker build --no-cache` fixes it.
    ///
    /// ### Fix
    /// Keep the cache mounts on the package caches and drop the one on the output
    /// directory; let layer caching decide when to rebuild by building dependencies in their
    /// own stage (copy only the manifests and lock file, build with a stub source, then copy
    /// the real sources and build again). To get rid of the stale output now, clear BuildKit's
    /// cache mounts or build once without the cache.
    ///
    /// ### Prevention
    /// Cache what is keyed by content (downloaded packages, compiler caches such as
    /// sccache/ccache/go-build), never what is keyed by timestamps (build output directories).
    ///
    /// ### Example
    /// `RUN --mount=type=cache,target=/usr/local/cargo/registry
    /// --mount=type=cache,target=/app/target cargo build --release && cp
    /// target/release/server /usr/local/bin/` keeps serving the old `server` after edits.
    pub static META = {
        id: "KS1501",
        name: "build-cache-over-output",
        cause: Cause::DevBuildCache,
        severity: Severity::Warning,
        kind: RuleKind::Static,
        summary: "a RUN cache mount covers the build output directory, so stale binaries reach the image",
    }
}

pub struct BuildCacheOverOutput;

impl Rule for BuildCacheOverOutput {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        for df in &cx.ev.build.dockerfiles {
            for st in &df.stages {
                for ins in &st.instructions {
                    let InstructionKind::Run(run) = &ins.kind else { continue };
                    let chain = df.stage_chain(st.index);
                    let bad: Vec<(&Mount, String)> = run
                        .mounts
                        .iter()
                        .filter(|m| m.kind == "cache" && !m.target.is_empty() && !is_package_cache(&m.target))
                        .filter_map(|m| output_reason(df, &chain, ins, run, &m.target).map(|why| (m, why)))
                        .collect();
                    if !bad.is_empty() {
                        out.push(finding(df, ins, &bad));
                    }
                }
            }
        }
    }
}

/// Directories whose contents are keyed by content or are download caches.
pub(crate) fn is_package_cache(target: &str) -> bool {
    let t = normalize_path(target);
    let comps: Vec<&str> = t.split('/').filter(|c| !c.is_empty()).collect();
    const CACHE_COMPONENTS: &[&str] = &[
        ".cache",
        "cache",
        "caches",
        ".npm",
        ".m2",
        ".gradle",
        ".nuget",
        ".pnpm-store",
        ".yarn",
        ".composer",
        "ccache",
        ".ccache",
        "sccache",
        ".sccache",
        "go-build",
    ];
    if comps.iter().any(|c| CACHE_COMPONENTS.contains(c)) {
        return true;
    }
    if ["/var/cache", "/var/lib/apt", "/etc/apk/cache", "/var/lib/dnf"].iter().any(|d| path_within(&t, d)) {
        return true;
    }
    // Cargo's registry and git checkouts, wherever CARGO_HOME is.
    if let Some(i) = comps.iter().position(|c| *c == "cargo" || *c == ".cargo")
        && comps.get(i + 1).is_some_and(|c| *c == "registry" || *c == "git")
    {
        return true;
    }
    // Go's module cache (`$GOPATH/pkg/mod`).
    comps.windows(2).any(|w| w == ["pkg", "mod"])
}

/// Why `target` holds the step's build output, if it does.
fn output_reason(df: &Dockerfile, chain: &[usize], ins: &Instruction, run: &Run, target: &str) -> Option<String> {
    let wd = &ins.workdir;
    let abs = |p: &str| ks_core::build::join_path(wd, p);
    let commands = simple_commands(&run.script());
    for words in &commands {
        let Some(first) = words.first() else { continue };
        let args: Vec<&str> = words[1..].iter().map(String::as_str).collect();
        match program(first) {
            // The step copies a file out of the mount into the image.
            "cp" | "mv" | "install" | "rsync" => {
                let operands: Vec<&str> = args.iter().copied().filter(|a| !a.starts_with('-')).collect();
                if let Some((_, sources)) = operands.split_last()
                    && let Some(src) = sources.iter().find(|s| !s.contains('$') && path_within(&abs(s), target))
                {
                    return Some(format!("the step copies {src} out of it into the image"));
                }
            }
            "cargo" if args.first().is_some_and(|a| matches!(*a, "build" | "install" | "b")) => {
                let dir = args
                    .iter()
                    .position(|a| *a == "--target-dir")
                    .and_then(|i| args.get(i + 1).map(|s| abs(s)))
                    .or_else(|| args.iter().find_map(|a| a.strip_prefix("--target-dir=")).map(&abs))
                    .or_else(|| env_in_chain(df, chain, "CARGO_TARGET_DIR").map(&abs))
                    .unwrap_or_else(|| abs("target"));
                if path_within(&dir, target) {
                    return Some(format!("cargo writes its build output to {dir}"));
                }
            }
            "go" if args.first() == Some(&"build") => {
                let o = args.iter().position(|a| *a == "-o").and_then(|i| args.get(i + 1));
                if let Some(o) = o
                    && path_within(&abs(o), target)
                {
                    return Some(format!("go build -o writes the binary to {}", abs(o)));
                }
            }
            p @ ("npm" | "yarn" | "pnpm" | "mvn" | "gradle" | "./gradlew" | "gradlew" | "dotnet") => {
                let builds = match p {
                    "npm" | "yarn" | "pnpm" => args.contains(&"build"),
                    "mvn" => args.iter().any(|a| matches!(*a, "package" | "install" | "verify" | "compile")),
                    "dotnet" => args.first().is_some_and(|a| matches!(*a, "build" | "publish")),
                    _ => args.iter().any(|a| matches!(*a, "build" | "assemble" | "bootJar" | "installDist")),
                };
                let outs: &[&str] = match p {
                    "npm" | "yarn" | "pnpm" => &["dist", "build", ".next", "out"],
                    "mvn" => &["target"],
                    "dotnet" => &["bin", "obj"],
                    _ => &["build"],
                };
                if builds && let Some(dir) = outs.iter().map(|o| abs(o)).find(|d| path_within(d, target)) {
                    return Some(format!("{p} writes its build output to {dir}"));
                }
            }
            _ => {}
        }
    }
    None
}

fn finding(df: &Dockerfile, ins: &Instruction, bad: &[(&Mount, String)]) -> Finding {
    let targets: Vec<&str> = bad.iter().map(|(m, _)| m.target.as_str()).collect();
    let mut f = util::finding(
        &META,
        dockerfile_ref(df),
        format!("{}:{}: cache mount over the build output {}", df.path, ins.pos.line, util::join_names(&targets)),
        format!(
            "{} keeps {} between builds with `--mount=type=cache`, and {}. The next build starts from the previous \
             output, and when the compiler judges it up to date from file timestamps the image gets the old binary.",
            df.path,
            util::join_names(&targets),
            bad.iter().map(|(_, why)| why.as_str()).collect::<Vec<_>>().join("; ")
        ),
    );
    f.location = Some(df.location(ins.pos));
    f.evidence.push(quote(df, ins));
    let mut fixed = ins.text.clone();
    for (m, _) in bad {
        fixed = fixed.replace(&format!("--mount={} ", m.raw), "").replace(&format!("--mount={}", m.raw), "");
    }
    f.fix.push(Fix::cmd(
        format!(
            "Drop the cache mount on {} in {} line {} (keep the ones on package caches), and build dependencies in \
             their own stage so layer caching decides when to rebuild",
            util::join_names(&targets),
            df.path,
            ins.pos.line
        ),
        fixed,
    ));
    f.fix.push(Fix::cmd(
        "Throw away the stale cache mounts now (BuildKit), then rebuild",
        "docker builder prune --filter type=exec.cachemount",
    ));
    f.fix.push(Fix::cmd(
        "With Podman/Buildah, rebuild once without any cache",
        format!("podman build --no-cache -f {} .", df.path),
    ));
    f.root_key = format!("build-cache:{}:{}", df.path, ins.pos.line);
    f
}

#[cfg(test)]
mod tests {
    use super::is_package_cache;

    #[test]
    fn package_caches_are_recognised() {
        for dir in [
            "/root/.cache/pip",
            "/root/.cache/go-build",
            "/var/cache/apt",
            "/var/lib/apt/lists",
            "/usr/local/cargo/registry",
            "/root/.cargo/git/db",
            "/go/pkg/mod",
            "/root/.npm",
            "/app/.next/cache",
            "/root/.m2/repository",
            "/home/app/.gradle/caches",
        ] {
            assert!(is_package_cache(dir), "{dir}");
        }
        for dir in ["/app/target", "/src/dist", "/app/build", "/usr/local/cargo", "/target"] {
            assert!(!is_package_cache(dir), "{dir}");
        }
    }
}
