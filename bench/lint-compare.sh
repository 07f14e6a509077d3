#!/usr/bin/env bash
# `kubesleuth lint` against kubernetes-validate --strict and checkov (all PyPI), measured in
# the same run. Not run in CI.
#
#   bench/lint-compare.sh compare   schema findings of kubesleuth and kubernetes-validate on
#                                   every file of the corpus, matched per (file, kind, name,
#                                   field path), every difference put in a category
#   bench/lint-compare.sh bench     wall time and peak RSS of the three tools on the corpus
#                                   and on a synthetic 100,000-object bundle (ks-synth)
#   bench/lint-compare.sh           both
#
# Environment: CORPUS (default ../shared/corpus/manifests), OUT (work directory, default
# /tmp/kubesleuth-lint-compare), KUBE (kubernetes-validate -k, default 1.37), OBJECTS (bundle
# size, default 100000), SUBSET (default 10000: a tool over LIMIT seconds on the bundle is
# timed on the SUBSET-object prefix of the same bundle and extrapolated), LIMIT (default
# 600), RUNS (kubesleuth repetitions, default 3; the median is reported).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
mode=${1:-all}
corpus=$(realpath "${CORPUS:-../shared/corpus/manifests}")
out=${OUT:-/tmp/kubesleuth-lint-compare}
kube=${KUBE:-1.37}
objects=${OBJECTS:-100000}
subset=${SUBSET:-10000}
limit=${LIMIT:-600}
runs=${RUNS:-3}
ks=$root/target/release/kubesleuth
py="python3 $root/bench/lint_compare.py"
mkdir -p "$out"

for tool in kubernetes-validate checkov /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "missing $tool (pip install kubernetes-validate checkov; apt-get install time)" >&2; exit 2; }
done
# A no-op when the binaries are up to date.
cargo build --release -p kubesleuth -p ks-synth

manifest_files() { find "$1" -type f \( -name '*.yaml' -o -name '*.yml' -o -name '*.json' \) | sort; }

compare() {
  local d=$out/compare
  rm -rf "$d" && mkdir -p "$d/kvcli"
  manifest_files "$corpus" >"$d/files.txt"
  echo "compare: $(wc -l <"$d/files.txt") files under $corpus"
  # The CLI, one file per process (a file it cannot parse stops only that file), two at a time.
  # xargs appends the file as the last argument ($3); without -I a `{}` would stay literal.
  tr '\n' '\0' <"$d/files.txt" | xargs -0 -P2 -n1 sh -c '
    f=$3; o=$1/$(printf %s "$f" | md5sum | cut -c1-16); s=$(date +%s.%N)
    timeout 120 kubernetes-validate --strict -k "$2" "$f" >"$o.out" 2>"$o.err" </dev/null; rc=$?
    printf "%s\t%s\t%s\n" "$rc" "$(echo "$(date +%s.%N) - $s" | bc)" "$f" >"$o.meta"' _ "$d/kvcli" "$kube"
  $py kv-cli "$d/kvcli" "$d/kv-cli.jsonl"
  # Every error of every object, with the same schemas, loader and validator.
  $py kv-full "$d/kv-full.jsonl" - <"$d/files.txt"
  # Files named explicitly: a directory walk skips hidden directories (.kyverno-test). One
  # process for all of them (-s raises xargs' 128 KiB default, -x fails rather than split):
  # a second batch would overwrite the report of the first.
  xargs -a "$d/files.txt" -d '\n' -s 2000000 -x "$ks" lint --format json -o "$d/kubesleuth.json" || true
  $py yaml-diff - <"$d/files.txt" >"$d/yaml-diff.txt"
  echo "YAML 1.1 scalars PyYAML and go-yaml v2 resolve differently:"; cat "$d/yaml-diff.txt"
  $py compare "$d/kubesleuth.json" "$d/kv-full.jsonl" "$d/kv-cli.jsonl" --examples 3 --json "$d/compare.json" | tee "$d/compare.txt"
}

# timed NAME INPUT OBJECTS CMD...: one run under /usr/bin/time and LIMIT; appends to results.tsv.
timed() {
  local name=$1 input=$2 n=$3; shift 3
  local t=$out/time.$$
  local start=$SECONDS rc=0
  /usr/bin/time -f '%e %U %S %M' -o "$t" timeout "$limit" "$@" >/dev/null 2>"$out/last.err" || rc=$?
  if [ "$rc" = 124 ] || [ $((SECONDS - start)) -ge "$limit" ]; then
    echo "  $name on $input: over ${limit}s" >&2
    return 124
  fi
  # /usr/bin/time writes "Command exited with non-zero status N" first when the tool exits
  # non-zero (the linters do when they find problems): the figures are the last line.
  read -r wall user sys rss < <(tail -n 1 "$t")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$input" "$n" "$wall" "$user" "$sys" "$rss" "${NOTE:-}" >>"$out/results.tsv"
  echo "  $name on $input ($n objects): wall ${wall}s, cpu $(echo "$user + $sys" | bc)s, peak RSS ${rss} KiB ${NOTE:-}"
}

# One input directory through the three tools. kubernetes-validate gets the files in batches
# of 50, two processes at a time (it takes no directory), so it uses both cores as the others.
bench_input() {
  local name=$1 dir=$2 n=$3 subdir=${4:-} subn=${5:-}
  local i
  for i in $(seq "$runs"); do
    NOTE="(run $i of $runs)" timed kubesleuth "$name" "$n" "$ks" lint "$dir" --format json -o /dev/null
  done
  kv() { manifest_files "$1" | tr '\n' '\0' | xargs -0 -n50 -P2 kubernetes-validate --strict -k "$kube" --quiet --no-warn; }
  ck() { checkov -d "$1" --framework kubernetes --quiet --compact --skip-download; }
  for tool in kubernetes-validate checkov; do
    local fn=kv; [ $tool = checkov ] && fn=ck
    if ! NOTE="" timed "$tool" "$name" "$n" bash -c "kube=$kube; $(declare -f manifest_files $fn); $fn '$dir'"; then
      [ -n "$subdir" ] || continue
      NOTE="(subset: $subn objects; x$((n / subn)) extrapolated)" timed "$tool" "$name-subset" "$subn" \
        bash -c "kube=$kube; $(declare -f manifest_files $fn); $fn '$subdir'" || true
    fi
  done
}

bench() {
  : >"$out/results.tsv"
  echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), load $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "versions: $("$ks" --version), kubernetes-validate $(kubernetes-validate --version), checkov $(checkov --version)"
  # The corpus, with hidden directories renamed so that every tool reads the same files
  # (kubesleuth and checkov skip hidden directories when walking).
  local flat=$out/corpus
  if [ ! -d "$flat" ]; then
    mkdir -p "$flat"
    (cd "$corpus" && find . -type f \( -name '*.yaml' -o -name '*.yml' -o -name '*.json' \) -print0) |
      while IFS= read -r -d '' f; do
        dest=$flat/$(printf %s "${f#./}" | sed 's|/\.|/_|g; s|^\.|_|')
        mkdir -p "$(dirname "$dest")" && cp "$corpus/$f" "$dest"
      done
  fi
  local corpus_n
  corpus_n=$("$ks" lint "$flat" --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["summary"]["objects"])' || true)
  local bundle=$out/bundle-$objects small=$out/bundle-$subset
  [ -d "$bundle" ] || ./target/release/ks-synth "$bundle" bundle "$objects"
  [ -d "$small" ] || ./target/release/ks-synth "$small" bundle "$subset"
  echo "corpus: $corpus_n objects in $(find "$flat" -type f | wc -l) files, $(du -sh "$flat" | cut -f1)"
  echo "bundle: $objects objects in $(find "$bundle" -type f | wc -l) files, $(du -sh "$bundle" | cut -f1)"
  bench_input corpus "$flat" "$corpus_n"
  bench_input bundle "$bundle" "$objects" "$small" "$subset"
  $py bench-report "$out/results.tsv" "$(nproc)"
}

case $mode in
  compare) compare ;;
  bench) bench ;;
  all) compare; bench ;;
  *) echo "usage: $0 [compare|bench|all]" >&2; exit 2 ;;
esac
