//! Bad input never panics and stays linear: junk, truncations and mutations of real dumps.
//! (The fuzz targets in `fuzz/` explore further; this runs in every `cargo test`.)

use ks_core::Evidence;
use ks_sources::load_bytes;

/// A small deterministic generator, so failures reproduce.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

const SEED_DOC: &str = r#"{"kind":"List","apiVersion":"v1","items":[{"kind":"Pod","apiVersion":"v1","metadata":{"name":"web-1","namespace":"shop","ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"web-7d","uid":"u","controller":true}]},"spec":{"containers":[{"name":"web","image":"nginx"}]},"status":{"phase":"Running","containerStatuses":[{"name":"web","image":"nginx","imageID":"","ready":false,"restartCount":5,"state":{"waiting":{"reason":"CrashLoopBackOff","message":"back-off 5m0s restarting failed container=web pod=web-1_shop(u)"}},"lastState":{"terminated":{"reason":"Error","exitCode":1,"finishedAt":"2026-11-20T10:00:00Z"}}}]}},{"kind":"Event","apiVersion":"v1","metadata":{"namespace":"shop"},"involvedObject":{"kind":"Pod","name":"web-1","namespace":"shop"},"reason":"BackOff","message":"Back-off restarting failed container web in pod web-1_shop(u)","type":"Warning","count":7,"lastTimestamp":"2026-11-20T10:00:00Z"}]}
==== START logs for container web of pod shop/web-1 ====
ModuleNotFoundError: No module named 'flask'
==== END logs for container web of pod shop/web-1 ====
"#;

fn run(bytes: &[u8]) {
    let mut ev = Evidence::default();
    load_bytes("case", bytes, &mut ev);
    ev.finish();
}

#[test]
fn every_truncation_of_a_dump_is_handled() {
    let b = SEED_DOC.as_bytes();
    for cut in 0..b.len() {
        run(&b[..cut]);
    }
}

#[test]
fn random_mutations_do_not_panic() {
    let mut rng = Lcg(42);
    let base = SEED_DOC.as_bytes().to_vec();
    for _ in 0..1000 {
        let mut b = base.clone();
        for _ in 0..(1 + rng.next() % 8) {
            if b.is_empty() {
                break;
            }
            let i = (rng.next() as usize) % b.len();
            match rng.next() % 4 {
                0 => b[i] = (rng.next() % 256) as u8,
                1 => {
                    b.remove(i);
                }
                2 => b.insert(i, b"{}[]\",:\n="[(rng.next() % 9) as usize]),
                _ => b.truncate(i.max(1)),
            }
        }
        run(&b);
    }
}

#[test]
fn deep_nesting_is_rejected_not_a_stack_overflow() {
    let deep = "[".repeat(100_000);
    run(deep.as_bytes());
    let deep_obj = format!("{}{}", "{\"a\":".repeat(50_000), "1");
    run(deep_obj.as_bytes());
    let yaml = format!("kind: Pod\napiVersion: v1\nmetadata:\n{}", "  - ".repeat(10_000));
    run(yaml.as_bytes());
}

#[test]
fn log_sections_with_many_unclosed_markers_stay_linear() {
    // Thousands of unterminated START markers: the splitter must not rescan per marker.
    let mut text = String::new();
    for i in 0..20_000 {
        text.push_str(&format!("==== START logs for container c{i} of pod ns/p{i} ====\nline\n"));
    }
    let s = ks_sources::logs::split_sections(&text);
    assert_eq!(s.len(), 20_000);
}
