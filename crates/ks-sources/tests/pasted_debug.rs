use ks_core::Evidence;
use ks_sources::pasted::{PasteOptions, load_pasted};

fn dump(ev: &Evidence) -> String {
    let mut s = String::new();
    for p in &ev.pods {
        s += &format!("POD {}/{} phase={:?} node={:?} ann={:?}\n", p.metadata.namespace.as_deref().unwrap_or(""), p.metadata.name.as_deref().unwrap_or(""),
            p.status.as_ref().and_then(|s| s.phase.clone()), p.spec.as_ref().and_then(|s| s.node_name.clone()), p.metadata.annotations);
        if let Some(st) = &p.status {
            for cs in st.init_container_statuses.iter().flatten().chain(st.container_statuses.iter().flatten()) {
                s += &format!("   CS {} img={} ready={} restarts={} state={} last={}\n", cs.name, cs.image, cs.ready, cs.restart_count,
                    serde_json::to_string(&cs.state).unwrap(), serde_json::to_string(&cs.last_state).unwrap());
            }
            if let Some(c) = &st.conditions { s += &format!("   COND {}\n", serde_json::to_string(c).unwrap()); }
            if st.reason.is_some() { s += &format!("   REASON {:?} {:?}\n", st.reason, st.message); }
        }
        if let Some(sp) = &p.spec { for c in &sp.containers { s += &format!("   C {}\n", serde_json::to_string(c).unwrap()); } }
    }
    for e in &ev.events {
        s += &format!("EV {}/{:?}/{} {} {} x{} last={:?} first={:?} comp={} fp={:?} :: {}\n", e.involved.kind, e.involved.namespace, e.involved.name, e.type_, e.reason, e.count, e.last.map(|t| t.to_string()), e.first.map(|t| t.to_string()), e.component, e.involved.field_path, e.message);
    }
    let mut keys: Vec<_> = ev.logs.keys().collect(); keys.sort();
    for k in keys { let l = &ev.logs[k]; s += &format!("LOG {}/{}/{} prev={} lines={} first={:?}\n", k.namespace, k.pod, k.container, k.previous, l.lines.len(), l.lines.first()); }
    for n in &ev.nodes { s += &format!("NODE {}\n", serde_json::to_string(n).unwrap()); }
    for d in &ev.deployments { s += &format!("DEPLOY {}\n", serde_json::to_string(d).unwrap()); }
    for d in &ev.replica_sets { s += &format!("RS {}\n", serde_json::to_string(d).unwrap()); }
    for d in &ev.jobs { s += &format!("JOB {}\n", serde_json::to_string(d).unwrap()); }
    for d in &ev.services { s += &format!("SVC {}\n", serde_json::to_string(d).unwrap()); }
    for d in &ev.endpoints { s += &format!("EP {}\n", serde_json::to_string(d).unwrap()); }
    for d in &ev.ingresses { s += &format!("ING {}\n", serde_json::to_string(d).unwrap()); }
    for d in &ev.pvcs { s += &format!("PVC {}\n", serde_json::to_string(d).unwrap()); }
    for d in &ev.other { s += &format!("DYN {} {}\n", d.kind, d.value); }
    for g in &ev.gaps { s += &format!("GAP {g}\n"); }
    s
}

#[test]
fn dump_corpus() {
    let dir = std::path::Path::new("/work/shared/corpus/pasted");
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect();
    entries.sort();
    let mut out = String::new();
    for d in entries {
        let bytes = std::fs::read(d.join("evidence.txt")).unwrap();
        let mut ev = Evidence::default();
        load_pasted("evidence.txt", &bytes, &PasteOptions::default(), &mut ev);
        ev.finish();
        out += &format!("===== {}\n{}", d.file_name().unwrap().to_string_lossy(), dump(&ev));
    }
    std::fs::write("/tmp/pd/corpus.txt", out).unwrap();
}

#[test]
fn dump_file() {
    let Ok(p) = std::env::var("PD_FILE") else { return };
    let bytes = std::fs::read(&p).unwrap();
    let mut ev = Evidence::default();
    load_pasted("x", &bytes, &PasteOptions::default(), &mut ev);
    ev.finish();
    std::fs::write("/tmp/pd/file.txt", dump(&ev)).unwrap();
}
