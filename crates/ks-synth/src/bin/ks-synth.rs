//! `ks-synth DIR [large|small]`: write a synthetic cluster snapshot for benchmarks.
//! `ks-synth DIR bundle [OBJECTS]`: write a manifest bundle of OBJECTS objects (default
//! 100,000) for `kubesleuth lint` benchmarks.

const USAGE: &str = "usage: ks-synth DIR [large|small] | ks-synth DIR bundle [OBJECTS]";

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next() else {
        anyhow::bail!(USAGE);
    };
    let size = match args.next().as_deref() {
        None | Some("large") => ks_synth::Size::large(),
        Some("small") => ks_synth::Size::small(),
        Some("bundle") => {
            let objects = match args.next() {
                Some(n) => n.replace('_', "").parse().map_err(|_| anyhow::anyhow!("OBJECTS must be a number: {n}"))?,
                None => 100_000,
            };
            // One application in 25 carries a schema mistake.
            let stats = ks_synth::bundle::generate_bundle(std::path::Path::new(&dir), objects, 25)?;
            println!(
                "wrote {} objects ({} apps, {} with a planted schema mistake) in {} files to {dir}",
                stats.objects, stats.apps, stats.broken, stats.files
            );
            return Ok(());
        }
        Some(other) => anyhow::bail!("unknown mode {other}; {USAGE}"),
    };
    let pods = ks_synth::generate(std::path::Path::new(&dir), &size)?;
    println!("wrote {pods} pods, {} workloads, {} nodes to {dir}", size.workloads, size.nodes);
    Ok(())
}
