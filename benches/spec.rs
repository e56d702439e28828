//! Benchmark of the offline pipeline (load → expand → rules → graph) on the example platform
//! and on synthetic platforms of many regions built from the same module.
//!
//! Run with `cargo bench --bench spec`; prints the median, min and max of each case.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use regionctl::graph::ResourceGraph;
use regionctl::source::SourceMap;
use regionctl::spec::{self, aws_facts, loader};

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    // `cargo bench` passes --bench; under `cargo test --all-targets` a few iterations show the
    // benchmark still works without costing the test suite time.
    let benching = std::env::args().any(|a| a == "--bench");
    let iterations: usize = std::env::var("BENCH_ITERATIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if benching { 30 } else { 3 });
    println!("regionctl spec pipeline benchmark ({iterations} iterations per case, medians)");
    println!(
        "{:<40} {:>10} {:>10} {:>10} {:>10}",
        "case", "resources", "median", "min", "max"
    );

    let real = loader::LoadOptions::all(root.clone());
    run_case("example platform (disk, 4 envs)", iterations, || {
        pipeline(&loader::RealFs, &real)
    });

    for regions in [10, 30] {
        let fs = synthetic(&root, regions);
        let opts = loader::LoadOptions::all(PathBuf::new());
        run_case(
            &format!("synthetic {regions} regions + global (memory)"),
            iterations,
            || pipeline(&fs, &opts),
        );
    }
}

fn pipeline(fs: &dyn loader::Fs, opts: &loader::LoadOptions) -> usize {
    let mut sources = SourceMap::new();
    let (spec, diags) = spec::load(fs, opts, &mut sources);
    assert!(
        !diags.has_errors(),
        "benchmark spec must be valid: {:?}",
        diags.into_sorted().first()
    );
    let spec = spec.expect("valid spec");
    let graph = ResourceGraph::build(&spec).expect("no cycles");
    assert!(!graph.topo_order().is_empty());
    graph.len()
}

fn run_case(name: &str, iterations: usize, mut f: impl FnMut() -> usize) {
    let resources = f(); // warm-up
    let mut times: Vec<Duration> = (0..iterations)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(f());
            t.elapsed()
        })
        .collect();
    times.sort();
    let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1000.0);
    println!(
        "{name:<40} {resources:>10} {:>10} {:>10} {:>10}",
        ms(times[times.len() / 2]),
        ms(times[0]),
        ms(times[times.len() - 1])
    );
}

/// The example's module and global environment, with `regions` regional environments.
fn synthetic(root: &Path, regions: usize) -> loader::MemFs {
    let read = |p: &str| std::fs::read_to_string(root.join(p)).expect("example file exists");
    let mut fs = loader::MemFs::new()
        .with("regionctl.yaml", &read("regionctl.yaml"))
        .with(
            "modules/eks-platform/module.yaml",
            &read("modules/eks-platform/module.yaml"),
        )
        .with("envs/global/iam.yaml", &read("envs/global/iam.yaml"));
    let candidates: Vec<&str> = aws_facts::known_regions()
        .filter(|r| aws_facts::region_azs(r).is_some_and(|a| a.len() >= 3))
        .collect();
    let template = read("envs/eu-west-1/main.yaml");
    for (i, region) in candidates.iter().cycle().take(regions).enumerate() {
        let azs = aws_facts::region_azs(region).expect("filtered above");
        // One environment per region; beyond the number of real regions, reuse a region under
        // another directory name (the loader warns about the name, which is fine here).
        let name = if i < candidates.len() {
            (*region).to_string()
        } else {
            format!("{region}-{i}")
        };
        let text = template
            .replace("eu-west-1a", azs[0])
            .replace("eu-west-1b", azs[1])
            .replace("eu-west-1c", azs[2])
            .replace("eu-west-1", region)
            .replace("10.20.0.0/16", &format!("10.{}.0.0/16", 20 + i))
            .replace("prod-euw1", &format!("prod-{i}"));
        fs = fs.with(&format!("envs/{name}/main.yaml"), &text);
    }
    fs
}
