//! `ks-synth DIR [large|small]`: write a synthetic snapshot for benchmarks.

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next() else {
        anyhow::bail!("usage: ks-synth DIR [large|small]");
    };
    let size = match args.next().as_deref() {
        None | Some("large") => ks_synth::Size::large(),
        Some("small") => ks_synth::Size::small(),
        Some(other) => anyhow::bail!("unknown size {other}; use large or small"),
    };
    let pods = ks_synth::generate(std::path::Path::new(&dir), &size)?;
    println!("wrote {pods} pods, {} workloads, {} nodes to {dir}", size.workloads, size.nodes);
    Ok(())
}
