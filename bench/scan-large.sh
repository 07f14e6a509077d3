#!/usr/bin/env bash
# Whole-process benchmark on the issue's large synthetic snapshot: 50,000 pods, 5,000
# workloads, 200,000 events, 500 nodes. Reports wall time, peak memory and the ratio of the
# rule pass to parsing, measured in the same run. Not run in CI.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-/tmp/kubesleuth-synth-large}
cargo build --release -p kubesleuth -p ks-synth
[ -f "$dir/nodes.json" ] || ./target/release/ks-synth "$dir" large
echo "snapshot: $(du -sh "$dir" | cut -f1) in $(find "$dir" -type f | wc -l) files"
for i in 1 2 3; do
  /usr/bin/time -f "run $i: wall %e s, peak RSS %M KiB" \
    ./target/release/kubesleuth scan --snapshot "$dir" --format json -o /dev/null --timings || true
done
