//! Benchmark of the provider against the AWS emulator: the example platform (121 resources over
//! us-east-1, eu-west-1, ap-southeast-1 and global) created through the provider, then refreshed
//! (one batched list per kind and region, all concurrently), then deleted.
//!
//! Run with `cargo bench --bench provider` (needs Python with moto; `scripts/emulator-env` sets
//! it up). Prints the median, min and max wall time of a full refresh and the AWS requests each
//! makes. The emulator answers in about a millisecond, so the figures measure regionctl's own
//! overhead and its request count, not AWS latency.

// A bench uses part of the integration tests' support.
#[allow(dead_code)]
#[path = "../tests/it/support/mod.rs"]
mod support;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use support::emulator::Emulator;
use support::platform;

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this too, without it, and
    // then one iteration is enough to show the benchmark still works.
    let benching = std::env::args().any(|a| a == "--bench");
    let iterations: usize = std::env::var("BENCH_ITERATIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if benching { 30 } else { 1 });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    println!("regionctl provider benchmark against moto ({iterations} refreshes, medians)");
    for (name, project, stack) in [
        ("example platform", root.clone(), "platform"),
        (
            "active-passive DR example",
            root.join("examples/active-passive-dr"),
            "dr",
        ),
    ] {
        let emu = Emulator::start();
        runtime.block_on(async {
            let p = emu.provider(stack).await;
            let (spec, graph) = platform::load(&project);
            let jobs: Vec<_> = regionctl::ops::refresh::jobs(&spec)
                .into_iter()
                .map(|j| (j.kind, j.region, j.hints))
                .collect();

            // The emulator's first IAM call loads every AWS managed policy (seconds); keep
            // that out of the figures. Then an empty account: what a first plan's refresh costs.
            let _warm = refresh(&p, &jobs, 1).await;
            let (empty_times, empty_requests) = refresh(&p, &jobs, iterations).await;

            let started = Instant::now();
            let requests_before = p.clients.requests().total();
            let created = platform::create_all(&p, &spec, &graph).await;
            let create_time = started.elapsed();
            let create_requests = p.clients.requests().total() - requests_before;

            let _warm = refresh(&p, &jobs, 1).await;
            let (times, requests) = refresh(&p, &jobs, iterations).await;

            let started = Instant::now();
            platform::delete_all(&p, &spec, &graph, &created).await;
            let delete_time = started.elapsed();

            println!("\n{name}: {} resources, {} refresh jobs", created.len(), jobs.len());
            println!(
                "  refresh, empty account         {:>9}   {empty_requests:>4} requests   (min {}, max {})",
                ms(median(&empty_times)),
                ms(empty_times[0]),
                ms(empty_times[empty_times.len() - 1])
            );
            println!(
                "  refresh, everything exists     {:>9}   {requests:>4} requests   (min {}, max {})",
                ms(median(&times)),
                ms(times[0]),
                ms(times[times.len() - 1])
            );
            println!(
                "  create all, one by one         {:>9}   {create_requests:>4} requests",
                ms(create_time)
            );
            println!("  delete all, one by one         {:>9}", ms(delete_time));
        });
    }
}

async fn refresh(
    p: &regionctl::provider::Provider,
    jobs: &[(regionctl::kind::Kind, String, regionctl::provider::Hints)],
    iterations: usize,
) -> (Vec<Duration>, u64) {
    let mut times = Vec::with_capacity(iterations);
    let mut requests = 0;
    for _ in 0..iterations {
        let before = p.clients.requests().total();
        let started = Instant::now();
        for (kind, region, result) in p.refresh_many(jobs.to_vec()).await {
            if let Err(e) = result {
                panic!("refresh {kind} in {region}: {e}");
            }
        }
        times.push(started.elapsed());
        requests = p.clients.requests().total() - before;
    }
    times.sort();
    (times, requests)
}

fn median(sorted: &[Duration]) -> Duration {
    sorted[sorted.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}
