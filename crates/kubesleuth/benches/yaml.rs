//! Criterion benchmarks of reading manifest YAML: the block-YAML fast path against the full
//! parser (granit-parser) on the same 2,000-object synthetic bundle (ks-synth), the whole
//! lint of that bundle, and the rules on bundles of 2,000 and 8,000 objects (a rate that
//! falls with size means work that grows faster than the bundle). `bench/lint-compare.sh bench` measures the whole process on 100,000
//! objects.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn yaml(c: &mut Criterion) {
    let dir = std::env::temp_dir().join("kubesleuth-bench-bundle-2000");
    if !dir.is_dir() {
        ks_synth::bundle::generate_bundle(&dir, 2_000, 25).expect("generate bundle");
    }
    let mut texts = Vec::new();
    let mut stack = vec![dir.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read bundle dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                texts.push(std::fs::read_to_string(&p).expect("read bundle file"));
            }
        }
    }
    let bytes: usize = texts.iter().map(String::len).sum();
    let mut g = c.benchmark_group("yaml-bundle-2000");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("fast-path", |b| {
        b.iter(|| texts.iter().map(|t| ks_core::yaml::parse_stream_fast(t).map_or(0, |d| d.len())).sum::<usize>())
    });
    g.bench_function("full-parser", |b| {
        b.iter(|| texts.iter().map(|t| ks_core::yaml::parse_stream_full(t).0.len()).sum::<usize>())
    });
    g.bench_function("lint", |b| {
        b.iter(|| {
            let ev =
                ks_sources::manifests::load_manifests(std::slice::from_ref(&dir), &Default::default()).expect("loads");
            ks_rules::run_kind(&ev, ks_core::RuleKind::Static).len()
        })
    });
    g.finish();
}

/// The lint of a bundle and of one four times larger, in objects per second: work that grows
/// faster than the bundle (a rule comparing every object with every other) shows as the
/// larger bundle's lower rate.
fn lint_scaling(c: &mut Criterion) {
    let mut g = c.benchmark_group("lint-scaling");
    g.sample_size(10);
    for objects in [2_000, 8_000] {
        let dir = std::env::temp_dir().join(format!("kubesleuth-bench-bundle-{objects}"));
        if !dir.is_dir() {
            ks_synth::bundle::generate_bundle(&dir, objects, 25).expect("generate bundle");
        }
        let ev = ks_sources::manifests::load_manifests(std::slice::from_ref(&dir), &Default::default()).expect("loads");
        g.throughput(Throughput::Elements(objects as u64));
        g.bench_function(format!("rules-{objects}"), |b| {
            b.iter(|| ks_rules::run_kind(&ev, ks_core::RuleKind::Static).len())
        });
    }
    g.finish();
}

criterion_group!(benches, yaml, lint_scaling);
criterion_main!(benches);
