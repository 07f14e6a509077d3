use ks_core::{Cause, EvidenceItem, EvidenceSource, Finding, Fix, RuleKind, RuleMeta, Severity, declare_rule};

use crate::facts::ContainerProblem;
use crate::{Context, Rule, util};

declare_rule! {
    /// ### What it finds
    /// Containers that exit at start because a module, package, class or shared library
    /// their code imports is not in the image: Python `ModuleNotFoundError: No module named
    /// 'x'`, uvicorn `Could not import module "main"`, Node `Cannot find module 'x'`, Java
    /// `ClassNotFoundException` / `NoClassDefFoundError` / `UnsupportedClassVersionError`,
    /// Ruby `cannot load such file`, and `error while loading shared libraries: libX.so`.
    ///
    /// ### Why it breaks
    /// The code was changed to import something (or a dependency started importing it) and
    /// the dependency list the image is built from (`requirements.txt`, `package.json`,
    /// `pom.xml`, `Gemfile`, the OS packages in the Dockerfile) was not updated, or a
    /// multi-stage build installs the packages in one stage and does not copy them into the
    /// runtime stage. The process dies on import, every restart, until the image is rebuilt.
    ///
    /// ### How to confirm
    /// `kubectl logs <pod> -c <container> --previous` ends in the import error;
    /// `docker run --rm <image> pip show <package>` (or `npm ls <package>`) shows it missing.
    ///
    /// ### Fix
    /// Add the package to the dependency file the image is built from, rebuild and push the
    /// image under a new tag, and point the workload at it (`kubectl set image`).
    ///
    /// ### Prevention
    /// Build the image in CI and run a smoke test that starts it (`docker run --rm <image>
    /// python -c 'import app'`); pin dependencies with a lock file; in multi-stage builds copy
    /// the installed packages into the runtime stage.
    ///
    /// ### Example
    /// `ModuleNotFoundError: No module named 'dapr'` after the code began importing
    /// `from dapr.clients import DaprClient` and `requirements.txt` did not list `dapr`.
    pub static META = {
        id: "KS0302",
        name: "module-missing",
        cause: Cause::CrashMissingDependency,
        severity: Severity::Error,
        kind: RuleKind::Runtime,
        summary: "a module, package, class or shared library the code imports is missing from the image",
    }
}

pub struct ModuleMissing;

/// Python import names whose PyPI distribution is called something else.
const PYPI_NAMES: &[(&str, &str)] = &[
    ("cv2", "opencv-python-headless"),
    ("yaml", "PyYAML"),
    ("PIL", "Pillow"),
    ("sklearn", "scikit-learn"),
    ("skimage", "scikit-image"),
    ("bs4", "beautifulsoup4"),
    ("dotenv", "python-dotenv"),
    ("jwt", "PyJWT"),
    ("jose", "python-jose"),
    ("multipart", "python-multipart"),
    ("psycopg2", "psycopg2-binary"),
    ("MySQLdb", "mysqlclient"),
    ("dateutil", "python-dateutil"),
    ("Crypto", "pycryptodome"),
    ("OpenSSL", "pyOpenSSL"),
    ("magic", "python-magic"),
    ("docx", "python-docx"),
    ("serial", "pyserial"),
    ("zmq", "pyzmq"),
    ("fitz", "PyMuPDF"),
    ("google.protobuf", "protobuf"),
    ("attr", "attrs"),
];

/// Debian/Ubuntu packages providing common shared libraries.
const DEBIAN_LIBS: &[(&str, &str)] = &[
    ("libGL.so", "libgl1"),
    ("libglib-2.0.so", "libglib2.0-0"),
    ("libgthread-2.0.so", "libglib2.0-0"),
    ("libSM.so", "libsm6"),
    ("libXext.so", "libxext6"),
    ("libXrender.so", "libxrender1"),
    ("libgomp.so", "libgomp1"),
    ("libpq.so", "libpq5"),
    ("libssl.so.1.1", "libssl1.1"),
    ("libcrypto.so.1.1", "libssl1.1"),
    ("libssl.so.3", "libssl3"),
    ("libstdc++.so", "libstdc++6"),
    ("libz.so", "zlib1g"),
    ("libffi.so", "libffi8"),
    ("libmagic.so", "libmagic1"),
    ("libsndfile.so", "libsndfile1"),
    ("libmariadb.so", "libmariadb3"),
    ("libxml2.so", "libxml2"),
];

/// Names that are usually the application's own package rather than a dependency.
const APP_MODULES: &[&str] = &["app", "main", "src", "api", "server", "application", "backend", "service", "config"];

/// The repository part of an image reference (no tag or digest).
pub fn image_repo(image: &str) -> &str {
    let image = image.split('@').next().unwrap_or(image);
    match image.rfind(':') {
        Some(i) if !image[i..].contains('/') => &image[..i],
        _ => image,
    }
}

/// `Java 21` for class file version `65.0`.
fn java_release(class_version: &str) -> Option<u32> {
    let major: u32 = class_version.split('.').next()?.parse().ok()?;
    major.checked_sub(44)
}

impl Rule for ModuleMissing {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        super::crash_findings(cx, &META, Cause::CrashMissingDependency, out, |p, f| explain(cx, p, f));
    }
}

fn explain(cx: &Context<'_>, p: &ContainerProblem, f: &mut Finding) {
    let ev = cx.ev;
    let w = ev.workload_of(p.pod).clone();
    let image = super::image_of(cx, p);
    let repo = image_repo(&image).to_string();
    let d = |k: &str| p.details.get(k).cloned().unwrap_or_default();
    let quote = super::short_quote(&p.message);
    let exits = format!(
        "Container {} of {} {} exits at start{} with `{quote}`",
        p.container,
        w.kind,
        w.qualified_name(),
        super::restarts_phrase(p)
    );
    let rebuild = |what: String| {
        Fix::cmd(
            if what.starts_with("Rebuild") {
                what
            } else {
                format!("{what}, then rebuild and push the image under a new tag")
            },
            format!("docker build -t {repo}:<new-tag> . && docker push {repo}:<new-tag>"),
        )
    };
    let set_image = Fix::cmd(
        "Point the workload at the new image",
        format!("kubectl {}set image {} {}={repo}:<new-tag>", w.ns_flag(), super::set_target(&w), p.container),
    );
    let spec_cmd = util::container_spec(ev, p.pod, &p.container).and_then(super::command_line);
    let quote_spec = |f: &mut Finding| {
        if let Some(c) = &spec_cmd {
            f.evidence.push(EvidenceItem::new(EvidenceSource::Spec, c.clone(), Some(w.clone())));
        }
    };
    let key: String;
    match p.signature {
        Some("log-python-module") if !d("name").is_empty() => {
            let (module, name) = (d("module"), d("name"));
            let top = module.split('.').next().unwrap_or(&module).to_string();
            f.title = format!("Python package {top} in image {image} has no {name}");
            f.root_cause = format!(
                "{exits}: the installed version of {top} no longer (or not yet) provides {name}, so a package that imports it needs a different {top} version. Pin {top} to a version compatible with the package that imports it."
            );
            f.fix.push(rebuild(format!("Pin {top} in requirements.txt to a version that still provides {name}")));
            f.fix.push(set_image);
            key = format!("{repo}:{top}");
        }
        Some("log-python-module") | Some("log-asgi-import") => {
            let module = d("module");
            let top = module.split('.').next().unwrap_or(&module).to_string();
            let own = p.signature == Some("log-asgi-import") || APP_MODULES.contains(&top.as_str());
            if own {
                f.title = format!("Image {image} has no application module {module}");
                f.root_cause = format!(
                    "{exits}: Python cannot import {module}, which looks like the application's own code. The image does not contain it at the working directory the command runs in (a missing COPY, another WORKDIR, or a wrong module path in the command)."
                );
                quote_spec(f);
                f.fix.push(Fix::cmd(
                    format!("List what the image has at its working directory and check the module path {module}"),
                    format!("docker run --rm --entrypoint sh {image} -c 'pwd; ls -la'"),
                ));
                f.fix.push(rebuild("Copy the application code into the image (COPY . . after WORKDIR) or fix the module path in the command".into()));
            } else {
                let pip = PYPI_NAMES
                    .iter()
                    .find(|(import, _)| module == *import || top == *import)
                    .map(|(_, pip)| pip.to_string())
                    .unwrap_or_else(|| top.clone());
                let named = if pip == top { String::new() } else { format!(" (published on PyPI as {pip})") };
                f.title = format!("Image {image} lacks Python package {top}");
                f.root_cause = format!(
                    "{exits}: the code imports {module}, but the image was built without the {top} package{named}. Add it to the requirements the image installs."
                );
                f.fix.push(Fix::cmd(
                    format!("Add {pip} to requirements.txt (or pyproject.toml)"),
                    format!("echo '{pip}' >> requirements.txt"),
                ));
                f.fix.push(rebuild("Rebuild and push the image under a new tag".into()));
            }
            f.fix.push(set_image);
            key = format!("{repo}:{top}");
        }
        Some("log-shared-library") => {
            let lib = d("lib");
            let pkg = DEBIAN_LIBS.iter().find(|(l, _)| lib.starts_with(l)).map(|(_, p)| *p);
            f.title = format!("Image {image} lacks shared library {lib}");
            f.root_cause = format!(
                "{exits}: a binary or extension module in the image links against {lib}, which the image's OS does not have (a slim or distroless base, or a runtime stage that did not copy it)."
            );
            let install = match pkg {
                Some(pkg) => format!(
                    "RUN apt-get update && apt-get install -y --no-install-recommends {pkg} && rm -rf /var/lib/apt/lists/*"
                ),
                None => format!(
                    "RUN apt-get update && apt-get install -y <package providing {lib}>  # apt-file search {lib}"
                ),
            };
            f.fix.push(Fix::cmd("Install the library in the Dockerfile's runtime stage (Debian/Ubuntu base)", install));
            f.fix.push(rebuild("Rebuild and push the image under a new tag".into()));
            f.fix.push(set_image);
            key = format!("{repo}:{lib}");
        }
        Some("log-node-module") => {
            let module = d("module");
            if module.starts_with('/') || module.starts_with('.') {
                f.title = format!("Image {image} has no file {module}");
                f.root_cause = format!(
                    "{exits}: Node cannot find the file {module} the command starts. The build output was not copied into the image, the WORKDIR differs, or the command names the wrong file."
                );
                quote_spec(f);
                f.fix.push(Fix::cmd(
                    "See what the image holds at its working directory",
                    format!("docker run --rm --entrypoint sh {image} -c 'pwd; ls -la'"),
                ));
                f.fix.push(rebuild("Copy the built files into the runtime stage (e.g. COPY --from=build /app/dist ./dist) or fix the path in the command".into()));
            } else {
                let pkg = if module.is_empty() { "<package>".to_string() } else { module.clone() };
                f.title = format!("Image {image} lacks Node package {pkg}");
                f.root_cause = format!(
                    "{exits}: the code requires {pkg}, which is not installed in the image: it is missing from package.json dependencies (or only in devDependencies while the image installs with --omit=dev)."
                );
                f.fix.push(Fix::cmd(
                    format!("Add {pkg} to package.json dependencies"),
                    format!("npm install --save {pkg}"),
                ));
                f.fix.push(rebuild("Rebuild (npm ci installs it) and push the image under a new tag".into()));
            }
            f.fix.push(set_image);
            key = format!("{repo}:{module}");
        }
        Some("log-java-version") => {
            let class = d("class");
            let (have, max) = (java_release(&d("have")), java_release(&d("max")));
            let (need, runs) = (
                have.map(|v| format!("Java {v}")).unwrap_or_else(|| "a newer Java".into()),
                max.map(|v| format!("Java {v}")).unwrap_or_else(|| "an older Java".into()),
            );
            f.title = format!("Image {image} runs {runs}, but {class} needs {need}");
            f.root_cause = format!(
                "{exits}: the classes were compiled for {need} and the image's runtime is {runs}. Use a runtime base image of the same Java version as the build, or compile for the older release."
            );
            let v = have.map(|v| v.to_string()).unwrap_or_else(|| "<version>".into());
            f.fix.push(rebuild(format!("Use a {need} runtime in the Dockerfile (e.g. FROM eclipse-temurin:{v}-jre) or build with --release matching the runtime")));
            f.fix.push(set_image);
            key = format!("{repo}:java");
        }
        Some("log-java-class") => {
            let what = if d("class").is_empty() { d("module") } else { d("class") };
            let jar = d("class").is_empty() && !what.is_empty();
            if jar {
                f.title = format!("Image {image} has no jar {what}");
                f.root_cause = format!(
                    "{exits}: the command runs {what}, which is not in the image (the build output was not copied, or has another name)."
                );
                quote_spec(f);
                f.fix.push(rebuild(format!(
                    "Copy the built jar to {what} in the Dockerfile (COPY --from=build target/*.jar {what})"
                )));
            } else {
                f.title = format!("Image {image} lacks Java class {what}");
                f.root_cause = format!(
                    "{exits}: {what} is not on the classpath. The jar was built without the dependency that provides it (not a fat jar), or the main class name in the command is wrong."
                );
                quote_spec(f);
                f.fix.push(rebuild(
                    "Add the dependency that provides the class to pom.xml/build.gradle and package it into the jar (spring-boot-maven-plugin, maven-shade-plugin or the Gradle shadow plugin)".into(),
                ));
            }
            f.fix.push(set_image);
            key = format!("{repo}:{what}");
        }
        _ => {
            let module = d("module");
            let what = if module.is_empty() { "a library".to_string() } else { module.clone() };
            f.title = format!("Image {image} lacks {what}");
            f.root_cause = format!(
                "{exits}: the code loads {what}, which the image was built without. Add it to the Gemfile (or composer.json) and install it in the image."
            );
            f.fix.push(rebuild(format!(
                "Add {what} to the dependency file (bundle install / composer install in the Dockerfile)"
            )));
            f.fix.push(set_image);
            key = format!("{repo}:{what}");
        }
    }
    f.root_key = format!("crash.missing_dependency:{key}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_repos_and_java_releases() {
        assert_eq!(image_repo("registry.example.com:5000/shop/api:1.2"), "registry.example.com:5000/shop/api");
        assert_eq!(image_repo("localhost:5001/api"), "localhost:5001/api");
        assert_eq!(image_repo("api@sha256:abc"), "api");
        assert_eq!(java_release("65.0"), Some(21));
        assert_eq!(java_release("55.0"), Some(11));
    }
}
