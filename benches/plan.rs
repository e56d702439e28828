//! Benchmark of `regionctl plan` against the AWS emulator: the example platform (121 resources
//! over us-east-1, eu-west-1, ap-southeast-1 and global), planned with `--all-regions` twice over:
//! an empty account (everything a create) and everything existing with its state recorded (no
//! changes).
//!
//! It times the built binary, run as a user runs it, rather than library calls: the command's
//! orchestration (concurrent state reads, the refresh with state ids as hints, the diff, the
//! rendering) is in `ops::plan` and `cmd::plan`, and copying it here would measure a copy. The figures
//! therefore include process start, loading the AWS configuration and the spec, and rendering;
//! the `validate` row gives the part that is not planning (start and spec load) for comparison.
//! The request count is what the plan logs with `-v` ("AWS requests made by the plan").
//!
//! Run with `cargo bench --bench plan` (needs Python with moto; `scripts/emulator-env` sets it
//! up): 30 plans per scenario (BENCH_ITERATIONS overrides), median, min and max. Under
//! `cargo test --all-targets` it plans once per scenario, to show the benchmark still works. The
//! emulator answers in about a millisecond, so the figures measure regionctl's own overhead and
//! its request count, not AWS latency.

// A bench uses part of the integration tests' support.
#[allow(dead_code)]
#[path = "../tests/it/support/mod.rs"]
mod support;

#[allow(dead_code)]
#[path = "../tests/it/harness.rs"]
mod harness;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::emulator::Emulator;
use support::{platform, state};

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this too, without it.
    let benching = std::env::args().any(|a| a == "--bench");
    let iterations: usize = std::env::var("BENCH_ITERATIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(if benching { 30 } else { 1 });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");

    let emu = Emulator::start();
    let dir = project();
    let (spec, graph) = platform::load(&dir);
    let plan = ["-v", "plan", "--all-regions", "--detailed-exitcode"];

    // The emulator's first IAM call loads every AWS managed policy (seconds); keep that out.
    let _warm = run(&emu, &dir, &plan, 2);
    let baseline = time(&emu, &dir, &["validate", "--all-regions"], 0, iterations);
    let empty = time(&emu, &dir, &plan, 2, iterations);

    let created = runtime.block_on(async {
        let p = emu.provider(&spec.project.name).await;
        let created = platform::create_all(&p, &spec, &graph).await;
        state::record(&dir, &spec, &graph, &created).await;
        created
    });
    assert_eq!(created.len(), spec.resources.len());
    let _warm = run(&emu, &dir, &plan, 0);
    let existing = time(&emu, &dir, &plan, 0, iterations);
    assert!(
        empty.requests.is_some() && existing.requests.is_some(),
        "`regionctl -v plan` logs its AWS requests"
    );

    println!(
        "regionctl plan benchmark against moto: the example platform ({} resources, 4 environments), \
         `regionctl plan --all-regions`, {iterations} run(s) per scenario\n",
        spec.resources.len()
    );
    println!(
        "  {:<40} {:>10} {:>10} {:>10} {:>9}",
        "scenario", "median", "min", "max", "requests"
    );
    for (name, t) in [
        ("all creates (empty account)", &empty),
        ("no changes (everything exists, state)", &existing),
        ("validate only (start + spec load)", &baseline),
    ] {
        println!(
            "  {name:<40} {:>10} {:>10} {:>10} {:>9}",
            ms(median(&t.times)),
            ms(t.times[0]),
            ms(t.times[t.times.len() - 1]),
            t.requests.map_or("-".to_owned(), |r| r.to_string()),
        );
    }
}

/// A scratch copy of the repository's project: the benchmark writes states into it.
fn project() -> PathBuf {
    let dir = harness::fresh_dir("bench", "plan");
    let root = harness::repo_root();
    std::fs::copy(root.join("regionctl.yaml"), dir.join("regionctl.yaml"))
        .expect("copy regionctl.yaml");
    harness::copy_tree(&root.join("envs"), &dir.join("envs"));
    harness::copy_tree(&root.join("modules"), &dir.join("modules"));
    dir
}

struct Timed {
    /// Sorted.
    times: Vec<Duration>,
    /// AWS requests of the last run (the same every run), for commands that log them.
    requests: Option<u64>,
}

fn time(emu: &Emulator, dir: &Path, args: &[&str], code: i32, iterations: usize) -> Timed {
    let mut times = Vec::with_capacity(iterations);
    let mut requests = None;
    for _ in 0..iterations {
        let (elapsed, logged) = run(emu, dir, args, code);
        times.push(elapsed);
        requests = logged;
    }
    times.sort();
    Timed { times, requests }
}

/// Runs the binary once (stdout discarded, as into a pipe nobody reads slowly); checks the exit
/// code and returns the wall time and the request count it logged.
fn run(emu: &Emulator, dir: &Path, args: &[&str], code: i32) -> (Duration, Option<u64>) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_regionctl"));
    command
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (key, _) in std::env::vars() {
        if key.starts_with("AWS_") {
            command.env_remove(key);
        }
    }
    command.envs(emu.env());
    let started = Instant::now();
    let out = command.output().expect("the regionctl binary starts");
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(code),
        "regionctl {}:\n{stderr}",
        args.join(" ")
    );
    let requests = stderr
        .lines()
        .filter(|l| l.contains("AWS requests made by the plan"))
        .find_map(|l| {
            l.split_whitespace()
                .find_map(|w| w.strip_prefix("requests="))
                .and_then(|n| n.parse().ok())
        });
    (elapsed, requests)
}

fn median(sorted: &[Duration]) -> Duration {
    sorted[sorted.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}
