#!/usr/bin/env python3
"""Compare `kubesleuth lint`'s schema findings with kubernetes-validate's on the same files.

Used by bench/lint-compare.sh (not run in CI). Subcommands:

  kv-full OUT.jsonl FILE...   every schema error kubernetes-validate's --strict schemas give
                              for every object of every FILE (the CLI stops at the first error
                              of an object; this walks them all with the same schemas, the
                              same PyYAML loader and the same Draft 2020-12 validator)
  kv-cli DIR OUT.jsonl        parse the per-file outputs of the CLI run (bench/lint-compare.sh)
  compare KS.json FULL.jsonl CLI.jsonl [--examples N] [--json OUT]
                              match findings per (file, kind, name, field path) and print
                              every difference category with counts and examples
  yaml-diff FILE...           plain scalars that PyYAML (kubernetes-validate) and go-yaml v2
                              (the API server; kubesleuth follows it) resolve differently
  bench-report RESULTS.tsv CORES
                              the benchmark table of bench/lint-compare.sh

Field paths use kubesleuth's syntax: `spec.template.spec.containers[0].ports[0].containerPort`;
keys with `.`, `/`, `[` or `]` are written `["key"]`.
"""

from __future__ import annotations

import argparse
import collections
import datetime
import json
import os
import re
import signal
import sys
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Iterable

SCHEMA_RULES = {"KS1001", "KS1002", "KS1003", "KS1004", "KS1201"}
KUBE_VERSION = "1.37"

# ---------------------------------------------------------------------------------------
# Paths


def fmt_path(segs: Iterable[Any]) -> str:
    out = ""
    for s in segs:
        if isinstance(s, int):
            out += f"[{s}]"
        elif any(c in s for c in ".[]/"):
            out += f'["{s}"]'
        else:
            out += ("." if out else "") + s
    return out


def pod_spec_path(kind: str) -> str | None:
    return {
        "Pod": "spec",
        "Deployment": "spec.template.spec",
        "StatefulSet": "spec.template.spec",
        "DaemonSet": "spec.template.spec",
        "ReplicaSet": "spec.template.spec",
        "Job": "spec.template.spec",
        "ReplicationController": "spec.template.spec",
        "CronJob": "spec.jobTemplate.spec.template.spec",
        "PodTemplate": "template.spec",
    }.get(kind)


# ---------------------------------------------------------------------------------------
# kubernetes-validate, every error


class Timeout(Exception):
    pass


def _alarm(_sig, _frame):
    raise Timeout()


_SCHEMAS: dict[str, Any] = {}


def _validator(kind: str, api_version: str):
    """The validator kubernetes_validate.utils.validate builds, cached per schema file."""
    import jsonschema
    import kubernetes_validate.utils as kv
    from referencing import Registry, Resource

    version = [v for v in kv.all_versions() if kv.major_minor(v) <= KUBE_VERSION][-1]
    api = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    schema_dir = "v%s-local-strict" % version
    name = "kubernetes-json-schema/%s/%s-%s.json" % (schema_dir, kind.lower(), api)
    if name not in _SCHEMAS:
        try:
            schema = kv.schema_contents(name, KUBE_VERSION)
        except FileNotFoundError:
            _SCHEMAS[name] = None
            return None
        defs = kv.schema_contents("kubernetes-json-schema/%s/_definitions.json" % schema_dir, KUBE_VERSION)
        registry = Resource.from_contents(schema) @ Registry()
        registry = Resource.from_contents(defs) @ registry
        _SCHEMAS[name] = jsonschema.validators.Draft202012Validator(schema, registry=registry)
    return _SCHEMAS[name]


def _error_records(err) -> list[dict]:
    """One record per offending field: additionalProperties names each unexpected key,
    required each missing one."""
    base = list(err.absolute_path)
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        props = err.schema.get("properties", {})
        return [
            {"path": fmt_path(base + [k]), "class": "unknown", "message": f"unexpected property {k!r}"}
            for k in err.instance
            if k not in props
        ]
    if err.validator == "required":
        m = re.match(r"'([^']*)' is a required property", err.message)
        field = m.group(1) if m else "?"
        return [{"path": fmt_path(base + [field]), "class": "missing", "message": err.message}]
    msg = err.message
    if len(msg) > 300:
        msg = msg[:300] + "…"
    return [
        {
            "path": fmt_path(base),
            "class": "type",
            "message": msg,
            "validator": err.validator,
            "instance_type": type(err.instance).__name__,
        }
    ]


def _kv_file(path: str) -> list[dict]:
    import yaml
    import kubernetes_validate.utils as kv

    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(120)
    out: list[dict] = []
    try:
        yaml.SafeLoader.add_constructor("tag:yaml.org,2002:value", kv.construct_value)
        with open(path, encoding="utf-8", errors="strict") as f:
            text = f.read()
        try:
            docs = [d for d in yaml.load_all(text, Loader=yaml.SafeLoader) if d]
        except Exception as e:  # the CLI exits for the whole file
            return [{"file": path, "status": "yaml-error", "message": str(e).splitlines()[0]}]
        for doc in docs:
            if not isinstance(doc, dict):
                out.append({"file": path, "status": "not-an-object"})
                continue
            items = doc.get("items") if str(doc.get("kind", "")).endswith("List") else None
            for obj in items if isinstance(items, list) else [doc]:
                out.append(_kv_object(path, obj))
    except Timeout:
        out.append({"file": path, "status": "timeout"})
    except UnicodeDecodeError:
        out.append({"file": path, "status": "not-text"})
    finally:
        signal.alarm(0)
    return out


def _kv_object(path: str, obj: Any) -> dict:
    rec: dict[str, Any] = {"file": path}
    if not isinstance(obj, dict):
        rec["status"] = "not-an-object"
        return rec
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    rec.update(
        kind=str(obj.get("kind", "")),
        api_version=str(obj.get("apiVersion", "")),
        name=str(meta.get("name") or meta.get("generateName") or ""),
    )
    if not isinstance(obj.get("apiVersion"), str) or not isinstance(obj.get("kind"), str):
        rec["status"] = "no-kind"
        return rec
    v = _validator(rec["kind"], rec["api_version"])
    if v is None:
        rec["status"] = "no-schema"
        return rec
    errors = []
    for e in v.iter_errors(obj):
        errors.extend(_error_records(e))
    # PyYAML turns YAML 1.1 timestamps into datetime objects; note them so the comparison
    # can tell a YAML-resolution difference from a schema one.
    for e in errors:
        if e.get("instance_type") in ("datetime", "date"):
            e["yaml11_timestamp"] = True
    rec["status"] = "errors" if errors else "ok"
    rec["errors"] = errors
    return rec


def cmd_kv_full(args) -> int:
    files = args.files
    if len(files) == 1 and files[0] == "-":
        files = [line.rstrip("\n") for line in sys.stdin if line.strip()]
    with open(args.out, "w") as out, ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for recs in pool.map(_kv_file, files, chunksize=8):
            for r in recs:
                out.write(json.dumps(r, default=str) + "\n")
    return 0


# ---------------------------------------------------------------------------------------
# kubernetes-validate CLI output

CLI_ERROR = re.compile(
    r"^ERROR (?P<file>.+?) did not validate for resource (?P<kind>[^/]+)/(?P<name>.*?) against version [\d.]+: (?P<path>[^:]*): (?P<msg>.*)$"
)
CLI_PASS = re.compile(r"^INFO (?P<file>.+?) passed for resource (?P<kind>[^/]+)/(?P<name>.*?) against version")
CLI_WARN = re.compile(r"^WARN (?P<file>.+?) Couldn't find schema for kind (?P<kind>\S+) with api version (?P<api>\S+)")
CLI_CRASH = re.compile(r"^ERROR (?P<file>.+?) could not be validated: (?P<msg>.*)$")


def cli_paths(dotted: str, msg: str) -> list[str]:
    """The fields one CLI error is about: the unexpected properties or the missing one are
    below the path the CLI prints."""
    segs: list[Any] = [int(s) if s.isdigit() else s for s in dotted.split(".")] if dotted else []
    m = re.match(r"Additional properties are not allowed \((.*) (?:was|were) unexpected\)", msg)
    if m:
        return [fmt_path(segs + [k]) for k in re.findall(r"'([^']*)'", m.group(1))]
    m = re.match(r"'([^']*)' is a required property", msg)
    if m:
        return [fmt_path(segs + [m.group(1)])]
    return [fmt_path(segs)]


def cmd_kv_cli(args) -> int:
    with open(args.out, "w") as out:
        for meta in sorted(f for f in os.listdir(args.dir) if f.endswith(".meta")):
            key = meta[:-5]
            with open(os.path.join(args.dir, meta)) as f:
                rc, secs, path = f.read().rstrip("\n").split("\t", 2)
            text = open(os.path.join(args.dir, key + ".out"), errors="replace").read()
            err = open(os.path.join(args.dir, key + ".err"), errors="replace").read()
            rec: dict[str, Any] = {"file": path, "rc": int(rc), "seconds": float(secs), "results": []}
            if int(rc) == 124:
                rec["timeout"] = True
            if "Couldn't parse YAML" in err:
                rec["yaml_error"] = err.strip().splitlines()[-1][:300]
            for line in text.splitlines():
                if m := CLI_ERROR.match(line):
                    rec["results"].append(
                        {
                            "status": "error",
                            "kind": m["kind"],
                            "name": m["name"],
                            "paths": cli_paths(m["path"], m["msg"]),
                            "message": m["msg"][:300],
                        }
                    )
                elif m := CLI_PASS.match(line):
                    rec["results"].append({"status": "ok", "kind": m["kind"], "name": m["name"]})
                elif m := CLI_WARN.match(line):
                    rec["results"].append({"status": "no-schema", "kind": m["kind"], "api_version": m["api"]})
                elif m := CLI_CRASH.match(line):
                    rec["results"].append({"status": "crash", "message": m["msg"][:300]})
            out.write(json.dumps(rec) + "\n")
    return 0


# ---------------------------------------------------------------------------------------
# kubesleuth findings


def ks_path(f: dict) -> str | None:
    """The field path a schema finding is about, from its title (the JSON report carries
    the path only there)."""
    rule, title, kind = f["rule"], f["title"], f["object"]["kind"]
    if rule == "KS1001":
        m = re.search(r" at (\S+?)(?:; it belongs| \(did you mean|$)", title)
        return m.group(1) if m else None
    if rule == "KS1002":
        m = re.search(r" is invalid at `(.*?)`: (.*)$", title)
        if m:
            path, msg = m.group(1), m.group(2)
            mf = re.match(r"missing field `([^`]*)`", msg)
            if mf:
                return f"{path}.{mf.group(1)}" if path else mf.group(1)
            return path
        if " is invalid at the object: " in title:
            mf = re.search(r"missing field `([^`]*)`", title)
            return mf.group(1) if mf else ""
        return None
    if rule == "KS1003":
        m = re.match(r"`(.*?)` is written twice", title)
        return m.group(1) if m else None
    if rule == "KS1004":
        return "apiVersion"
    if rule == "KS1201":
        m = re.match(r"`([^`]*)` in the pod-level securityContext", title)
        pod = pod_spec_path(kind)
        return f"{pod}.securityContext.{m.group(1)}" if m and pod else None
    return None


def ks_class(f: dict) -> str:
    rule = f["rule"]
    if rule in ("KS1001", "KS1201"):
        return "unknown"
    if rule == "KS1002":
        return "missing" if "missing" in f["title"].split(": ", 1)[-1][:40] else "type"
    if rule == "KS1003":
        return "duplicate"
    return "removed-api"


# ---------------------------------------------------------------------------------------
# Comparison


def norm_file(p: str) -> str:
    return os.path.normpath(p)


def load_ks(path: str) -> tuple[dict, dict]:
    report = json.load(open(path))
    findings = collections.defaultdict(list)
    for f in report["findings"]:
        if f["rule"] not in SCHEMA_RULES or not f.get("location"):
            continue
        o = f["object"]
        key = (norm_file(f["location"]["file"]), o["kind"], o.get("name", ""), ks_path(f))
        findings[key].append(f)
    return report, findings


def load_jsonl(path: str) -> list[dict]:
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def compare(args) -> int:
    report, ks = load_ks(args.ks)
    full = load_jsonl(args.full)
    cli = load_jsonl(args.cli) if args.cli else []

    kv: dict[tuple, dict] = {}
    kv_objects: dict[tuple, dict] = {}
    file_status: dict[str, str] = {}
    for rec in full:
        fpath = norm_file(rec["file"])
        st = rec["status"]
        if "kind" in rec:
            kv_objects[(fpath, rec["kind"], rec["name"])] = rec
        if st in ("yaml-error", "timeout", "not-text"):
            file_status[fpath] = st
        for e in rec.get("errors", []):
            kv[(fpath, rec["kind"], rec["name"], e["path"])] = {**e, "api_version": rec["api_version"]}

    cli_first: dict[tuple, dict] = {}
    cli_stats = collections.Counter()
    cli_seconds = 0.0
    for rec in cli:
        cli_seconds += rec.get("seconds", 0.0)
        if rec.get("timeout"):
            cli_stats["files timed out (120 s)"] += 1
        if rec.get("yaml_error"):
            cli_stats["files PyYAML cannot parse (whole file skipped)"] += 1
        for r in rec["results"]:
            cli_stats[f"objects: {r['status']}"] += 1
            if r["status"] == "error":
                cli_first[(norm_file(rec["file"]), r["kind"], r["name"], tuple(r["paths"]))] = r

    both = []
    only_ks = []
    only_kv = []
    for key, fs in ks.items():
        if key in kv:
            both.append((key, fs, kv[key]))
        else:
            only_ks.append((key, fs))
    for key, e in kv.items():
        if key not in ks:
            only_kv.append((key, e))

    cats: dict[str, list] = collections.defaultdict(list)
    for key, fs in only_ks:
        cats[classify_ks_only(key, fs, kv_objects, file_status, kv)].append((key, fs[0]["title"]))
    for key, e in only_kv:
        cats[classify_kv_only(key, e, ks, report)].append((key, e["message"]))

    # The CLI's one error per object, against the full run.
    ks_lower = {(f, kind.lower(), name, p) for (f, kind, name, p) in ks}
    kv_lower = {(f, kind.lower(), name, p) for (f, kind, name, p) in kv}
    cli_in_ks = sum(1 for (f, kind_l, name, ps) in cli_first if any((f, kind_l, name, p) in ks_lower for p in ps))
    cli_in_full = sum(1 for (f, kind_l, name, ps) in cli_first if any((f, kind_l, name, p) in kv_lower for p in ps))

    out: dict[str, Any] = {
        "objects_kubesleuth": report["summary"]["objects"],
        "objects_kv": collections.Counter(r["status"] for r in full if "kind" in r or r["status"] == "not-an-object"),
        "files_kv_unreadable": collections.Counter(file_status.values()),
        "agree": len(both),
        "agree_by_class": collections.Counter(e["class"] for _, _, e in both),
        "kubesleuth_findings": sum(len(v) for v in ks.values()),
        "kubesleuth_by_rule": collections.Counter(f["rule"] for v in ks.values() for f in v),
        "kv_errors_all": len(kv),
        "kv_cli": dict(cli_stats),
        "kv_cli_first_errors": len(cli_first),
        "kv_cli_first_errors_also_in_kubesleuth": cli_in_ks,
        "kv_cli_first_errors_also_in_full_run": cli_in_full,
        "kv_cli_seconds_sum": round(cli_seconds, 1),
        "categories": {k: len(v) for k, v in sorted(cats.items(), key=lambda kv_: -len(kv_[1]))},
    }
    print(json.dumps(out, indent=1, default=str))
    for cat, items in sorted(cats.items(), key=lambda kv_: -len(kv_[1])):
        print(f"\n## {cat}: {len(items)}")
        for (f, kind, name, p), msg in items[: args.examples]:
            short = f.split("/manifests/", 1)[-1]
            print(f"  {short} {kind}/{name} {p}: {msg[:200]}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"summary": out, "categories": {k: [[list(key), m] for key, m in v] for k, v in cats.items()}}, f, indent=1, default=str)
    return 0


def _object_errors(kv: dict, file: str, kind: str, name: str) -> list[dict]:
    return [e for (f, k, n, _), e in kv.items() if f == file and k == kind and n == name]


# Fields the API server requires in its Go validation (pkg/apis/core/validation and
# apimachinery's ValidateObjectMeta) that the OpenAPI schema, and so kubernetes-validate,
# leaves optional.
GO_REQUIRED = [
    (re.compile(r"(^|\.)(containers|initContainers|ephemeralContainers)\[\d+\]\.image$"), "a container's image (validateContainerCommon)"),
    (re.compile(r"^metadata\.name$"), "metadata.name or generateName (ValidateObjectMeta)"),
    (re.compile(r"^(spec\.template\.spec|spec\.jobTemplate\.spec\.template\.spec|template\.spec|spec)$"), "the pod spec, whose containers are required (ValidatePodSpec)"),
]
# Fields the OpenAPI schema marks required that the API server's Go validation does not check.
KV_NOT_ENFORCED = [
    (re.compile(r"securityContext\.sysctls\[\d+\]\.value$"), "a sysctl's value (validateSysctls checks only names)"),
]


def classify_ks_only(key, fs, kv_objects, file_status, kv) -> str:
    file, kind, name, path = key
    f = fs[0]
    rule = f["rule"]
    obj = kv_objects.get((file, kind, name))
    if rule == "KS1003":
        return "ks-only: duplicate key (PyYAML keeps the last value silently, so the schema sees one)"
    if rule == "KS1004":
        if obj and obj["status"] == "no-schema":
            return "ks-only: removed API version (kubernetes-validate has no schema for it and only warns)"
        return "ks-only: removed API version (other)"
    if file in file_status:
        return f"ks-only: kubernetes-validate cannot read the file ({file_status[file]}; unquoted {{{{template}}}} placeholders)"
    if obj is None:
        return "ks-only: object not seen by kubernetes-validate"
    if obj["status"] == "no-schema":
        return "ks-only: kind without a kubernetes-validate schema (custom resource)"
    if rule == "KS1002" and ks_class(f) == "missing":
        for rx, what in GO_REQUIRED:
            if rx.search(path or "") and (what.startswith("the pod spec") is False or path == pod_spec_path(kind)):
                return f"ks-only: required by the API server's Go validation, optional in the OpenAPI schema: {what}"
        return "ks-only: required field (needs review)"
    if rule == "KS1002":
        near = [e for e in _object_errors(kv, file, kind, name) if e["path"].startswith(path) or path.startswith(e["path"])]
        if near:
            return "ks-only: same problem, kubernetes-validate reports it at another path"
        return "ks-only: type error (needs review)"
    return f"ks-only: {rule} (needs review)"


def classify_kv_only(key, e, ks, report) -> str:
    file, kind, name, path = key
    same_obj = [k for k in ks if k[0] == file and k[1] == kind and k[2] == name]
    if e.get("yaml11_timestamp"):
        return "kv-only: YAML 1.1 timestamp (PyYAML makes a datetime; go-yaml v2 and kubesleuth keep the string)"
    for rx, what in KV_NOT_ENFORCED:
        if rx.search(path):
            return f"kv-only: required in the OpenAPI schema, not checked by the API server: {what}"
    if any(k[3] and (path.startswith(k[3] + ".") or path.startswith(k[3] + "[")) for k in same_obj):
        return "kv-only: inside a field kubesleuth already reports"
    return f"kv-only: {e['class']} (needs review)"


# ---------------------------------------------------------------------------------------
# YAML 1.1 as PyYAML reads it (kubernetes-validate) vs as go-yaml v2 reads it (the API
# server, through sigs.k8s.io/yaml; kubesleuth's reader follows it)

_GO_BOOL = {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON",
            "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"}
_GO_NULL = {"", "~", "null", "Null", "NULL"}
_GO_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_GO_INT = re.compile(r"^[-+]?(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$")
_TIMESTAMP = re.compile(r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}")


def go_yaml_v2_tag(text: str) -> str:
    if text in _GO_BOOL:
        return "bool"
    if text in _GO_NULL:
        return "null"
    if text in (".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", ".nan", ".NaN", ".NAN"):
        return "float"
    if not text or not (text[0].isdigit() or text[0] in "+-."):
        return "str"
    if text[0] == ".":
        return "float" if _GO_FLOAT.match(text) else "str"
    if _TIMESTAMP.match(text):
        return "str"  # a timestamp, kept as text when decoded into interface{}
    plain = text.replace("_", "")
    if _GO_INT.match(plain):
        return "int"
    if _GO_FLOAT.match(plain):
        return "float"
    return "str"


def cmd_yaml_diff(args) -> int:
    import yaml

    files = [line.rstrip("\n") for line in sys.stdin if line.strip()] if args.files == ["-"] else args.files
    cats: dict[str, list] = collections.defaultdict(list)
    for path in files:
        try:
            text = open(path, encoding="utf-8").read()
            nodes = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
        except Exception:
            continue
        stack = [(n, "", False) for n in nodes if n is not None]
        while stack:
            node, where, is_key = stack.pop()
            if isinstance(node, yaml.MappingNode):
                for k, v in node.value:
                    stack.append((k, where, True))
                    key = k.value if isinstance(k, yaml.ScalarNode) else "?"
                    stack.append((v, f"{where}.{key}" if where else key, False))
            elif isinstance(node, yaml.SequenceNode):
                stack.extend((v, f"{where}[]", False) for v in node.value)
            elif isinstance(node, yaml.ScalarNode) and node.style is None:
                py = node.tag.rsplit(":", 1)[-1]
                # kubernetes-validate constructs `=` (the YAML 1.1 value key) as a string.
                py = "str" if py == "value" else py
                go = go_yaml_v2_tag(node.value)
                if py != go:
                    kind = "key" if is_key else "value"
                    cats[f"{kind}: PyYAML {py} / go-yaml v2 {go}"].append((path, node.start_mark.line + 1, where, node.value))
    for cat, items in sorted(cats.items(), key=lambda x: -len(x[1])):
        print(f"{len(items):6d}  {cat}")
        for path, line, where, value in items[: args.examples]:
            print(f"          {path.split('/manifests/', 1)[-1]}:{line} {where} = {value!r}")
    return 0


# ---------------------------------------------------------------------------------------
# Benchmark report


def cmd_bench_report(args) -> int:
    rows = []
    with open(args.tsv) as f:
        for line in f:
            tool, inp, n, wall, user, sys_, rss, note = (line.rstrip("\n").split("\t") + [""])[:8]
            rows.append(dict(tool=tool, input=inp, n=int(n), wall=float(wall), cpu=float(user) + float(sys_), rss=int(rss), note=note))
    cores = args.cores
    # Per (tool, input): the median run; a subset run stands for its input, scaled.
    groups: dict[tuple, list] = collections.defaultdict(list)
    for r in rows:
        groups[(r["tool"], r["input"])].append(r)
    table: dict[tuple, dict] = {}
    for (tool, inp), rs in groups.items():
        rs.sort(key=lambda r: r["wall"])
        med = dict(rs[len(rs) // 2])
        med["runs"] = [r["wall"] for r in rs]
        if inp.endswith("-subset"):
            full = inp[: -len("-subset")]
            full_n = next((r["n"] for r in rows if r["input"] == full), med["n"])
            scale = full_n / med["n"]
            med.update(input=full, measured_n=med["n"], n=full_n, wall=med["wall"] * scale, cpu=med["cpu"] * scale, extrapolated=scale)
        table[(tool, med["input"])] = med
    inputs = sorted({k[1] for k in table}, key=lambda i: (i != "corpus", i))
    print(f"\n{'input':8} {'tool':20} {'objects':>8} {'wall s':>9} {'cpu s':>9} {'peak RSS':>10} {'obj/s':>9} {'kubesleuth is':>14}")
    for inp in inputs:
        ks = table.get(("kubesleuth", inp))
        for tool in ("kubesleuth", "kubernetes-validate", "checkov"):
            r = table.get((tool, inp))
            if not r:
                print(f"{inp:8} {tool:20} {'(not measured)':>8}")
                continue
            ratio = "" if tool == "kubesleuth" or not ks else f"{r['wall'] / ks['wall']:.0f}x faster"
            extra = f"  extrapolated x{r['extrapolated']:.0f} from {r['measured_n']} objects" if r.get("extrapolated") else ""
            runs = f"  runs {', '.join(f'{w:.2f}' for w in r['runs'])}" if len(r["runs"]) > 1 else ""
            print(
                f"{inp:8} {tool:20} {r['n']:8d} {r['wall']:9.2f} {r['cpu']:9.2f} {r['rss'] / 1024:8.0f} MiB {r['n'] / r['wall']:9.0f} {ratio:>14}{extra}{runs}"
            )
        if ks:
            per_core = ks["n"] / ks["wall"] / cores
            per_cpu = ks["n"] / ks["cpu"] if ks["cpu"] else float("nan")
            verdict = "meets" if per_core >= 20000 else "below"
            print(
                f"  kubesleuth on {inp}: {per_core:,.0f} objects/s/core (objects / wall / {cores} cores; {per_cpu:,.0f} per CPU-second) — {verdict} the 20,000 target"
            )
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("kv-full")
    a.add_argument("out")
    a.add_argument("files", nargs="+")
    a.add_argument("--jobs", type=int, default=2)
    a.set_defaults(func=cmd_kv_full)
    a = sub.add_parser("kv-cli")
    a.add_argument("dir")
    a.add_argument("out")
    a.set_defaults(func=cmd_kv_cli)
    a = sub.add_parser("bench-report")
    a.add_argument("tsv")
    a.add_argument("cores", type=int)
    a.set_defaults(func=cmd_bench_report)
    a = sub.add_parser("yaml-diff")
    a.add_argument("files", nargs="+")
    a.add_argument("--examples", type=int, default=3)
    a.set_defaults(func=cmd_yaml_diff)
    a = sub.add_parser("compare")
    a.add_argument("ks")
    a.add_argument("full")
    a.add_argument("cli", nargs="?")
    a.add_argument("--examples", type=int, default=3)
    a.add_argument("--json")
    a.set_defaults(func=compare)
    args = p.parse_args()
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
