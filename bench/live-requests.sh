#!/usr/bin/env bash
# API requests, wall time and peak memory of a live scan of the issue's large synthetic
# snapshot (50,000 pods, 5,000 workloads, 200,000 events, 500 nodes) served locally by
# `kubesleuth serve`. The number of requests grows with kinds and pages (limit 500), plus
# one or two per failing container's log; not with the number of pods. Not run in CI.
#
#   bench/live-requests.sh [SNAPSHOT_DIR] [debug|release|prebuilt]   (prebuilt: target/release as is)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-/tmp/kubesleuth-synth-large}
profile=${2:-release}
if [ "$profile" = prebuilt ]; then
  bin=./target/release
elif [ "$profile" = release ]; then
  cargo build --release -p kubesleuth -p ks-synth
  bin=./target/release
else
  cargo build -p kubesleuth -p ks-synth
  bin=./target/debug
fi
[ -f "$dir/nodes.json" ] || "$bin/ks-synth" "$dir" large
echo "snapshot: $(du -sh "$dir" | cut -f1) in $(find "$dir" -type f | wc -l) files ($profile build)"

port=${PORT:-16443}
log=$(mktemp)
"$bin/kubesleuth" serve "$dir" --port "$port" >"$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -f "$log" "$kubeconfig"' EXIT
kubeconfig=$(mktemp)
cat >"$kubeconfig" <<YAML
apiVersion: v1
kind: Config
clusters:
- name: synth
  cluster:
    server: http://127.0.0.1:$port
contexts:
- name: synth
  context: {cluster: synth, user: nobody}
current-context: synth
users:
- name: nobody
  user: {}
YAML
# Wait for the server to load the snapshot and listen.
for _ in $(seq 1 600); do
  if curl -fsS "http://127.0.0.1:$port/version" >/dev/null 2>&1; then break; fi
  sleep 0.5
done

echo "== live scan"
/usr/bin/time -f "wall %e s, peak RSS %M KiB" \
  "$bin/kubesleuth" scan --kubeconfig "$kubeconfig" --quiet --timeout 10m --timings --format json -o /tmp/live-scan.json || true
echo "== live snapshot"
rm -rf /tmp/kubesleuth-live-snapshot
/usr/bin/time -f "wall %e s, peak RSS %M KiB" \
  "$bin/kubesleuth" snapshot --kubeconfig "$kubeconfig" --quiet --timeout 10m -o /tmp/kubesleuth-live-snapshot
python3 - <<'PY'
import json
m = json.load(open("/tmp/kubesleuth-live-snapshot/kubesleuth-snapshot.json"))
print(f"requests: {m['requests']} (snapshot capture, incl. the kinds only the dump layout has), logs: {m['logs']}, gaps: {len(m['gaps'])}")
r = json.load(open("/tmp/live-scan.json"))
s = r.get("summary", {})
print(f"scan: {len(r['findings'])} findings, {s.get('objects')} objects")
PY
