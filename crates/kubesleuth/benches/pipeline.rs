//! Criterion benchmarks of the pipeline stages on a synthetic snapshot (a tenth of the
//! issue's large one: 5,000 pods, 500 workloads, 20,000 events, 50 nodes). The rule pass must
//! stay within 1.5x of merely loading the same files; `bench/scan-large.sh` measures the
//! whole process on the full-size snapshot.

use criterion::{Criterion, criterion_group, criterion_main};
use ks_sources::{SnapshotOptions, load_paths};

fn pipeline(c: &mut Criterion) {
    let dir = std::env::temp_dir().join("kubesleuth-bench-small");
    if !dir.join("nodes.json").exists() {
        ks_synth::generate(&dir, &ks_synth::Size::small()).expect("generate snapshot");
    }
    let paths = vec![dir.clone()];
    let opts = SnapshotOptions::default();
    let mut g = c.benchmark_group("snapshot-5k-pods");
    g.sample_size(10);
    g.bench_function("load", |b| b.iter(|| load_paths(&paths, &opts).expect("loads")));
    let ev = load_paths(&paths, &opts).expect("loads");
    g.bench_function("rules", |b| b.iter(|| ks_rules::run(&ev)));
    g.bench_function("rules+correlate", |b| b.iter(|| ks_correlate::correlate(&ev, ks_rules::run(&ev))));
    g.finish();
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
