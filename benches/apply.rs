//! Benchmark of `regionctl apply` and `regionctl destroy` against the AWS emulator: the example
//! platform (121 resources over us-east-1, eu-west-1, ap-southeast-1 and global) applied with
//! `apply --all-regions --auto-approve` on an empty account, then torn down with
//! `destroy --all-regions --auto-approve --allow-destroy '*'` (the clusters and databases are
//! protected), on a fresh emulator state and a fresh copy of the project every run.
//!
//! Like `benches/plan.rs` it times the built binary as a user runs it (process start, spec load,
//! refresh, plan, execution, state writes and the plain progress lines included). Per run it
//! measures:
//! - wall time of each command;
//! - AWS requests, counted by the emulator (moto's request recorder, `/moto-api/recorder/*`):
//!   every request that reached it, SDK retries included. `apply` does not log its count the way
//!   `plan -v` does, and counting at the server needs nothing from regionctl;
//! - peak memory, the child's maximum resident set size, from `/usr/bin/time -f %M` when it
//!   exists, else by polling `VmHWM` in `/proc/<pid>/status` (which misses growth in the last
//!   few milliseconds). `getrusage` would need `unsafe`, which the crate forbids.
//!
//! The emulator makes every resource ready at once (no delays configured), so the figures are
//! regionctl's own overhead, the emulator's answer time and the polling interval, not AWS's
//! provisioning time. Polling uses REGIONCTL_POLL_INTERVAL_MS=50, as `scripts/demo` does. moto
//! builds each region's backends on their first request after a reset (its IAM backend loads
//! every AWS managed policy: seconds); each run warms them with a boto3 IAM call and an
//! unmeasured `plan --all-regions` (which creates nothing) before it starts the clock. regionctl's own request rate
//! limits apply as they would against AWS (Route 53 at 10 requests per second for the account and
//! CreateHealthCheck at 0.5 per second after a burst, EC2 mutating calls at 5 per second per
//! action: AWS's documented buckets), and
//! they bound the Route 53 part of the run; `REGIONCTL_REQUEST_RATE=off cargo bench --bench
//! apply` shows the figures without them (the variable is passed through).
//!
//! Run with `cargo bench --bench apply` (needs Python with moto; `scripts/emulator-env` sets it
//! up): 5 runs (BENCH_ITERATIONS overrides), median, min and max. Under
//! `cargo test --all-targets` it runs once, to show the benchmark still works.

// A bench uses part of the integration tests' support.
#[allow(dead_code)]
#[path = "../tests/it/support/mod.rs"]
mod support;

#[allow(dead_code)]
#[path = "../tests/it/harness.rs"]
mod harness;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::emulator::Emulator;

const POLL_INTERVAL_MS: &str = "50";
const GNU_TIME: &str = "/usr/bin/time";

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this too, without it.
    let benching = std::env::args().any(|a| a == "--bench");
    let iterations: usize = std::env::var("BENCH_ITERATIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(if benching { 5 } else { 1 });

    // moto's recorder appends to `moto_recording` in the server's working directory: start the
    // emulator from a scratch directory so the recording never lands in the repository.
    let scratch = harness::fresh_dir("bench", "apply-emulator");
    let cwd = std::env::current_dir().expect("the working directory");
    std::env::set_current_dir(&scratch).expect("enter the scratch directory");
    let emu = Emulator::start();
    std::env::set_current_dir(&cwd).expect("return to the working directory");
    let recording = scratch.join("moto_recording");
    let memory = if Path::new(GNU_TIME).exists() {
        "max RSS from /usr/bin/time"
    } else {
        "VmHWM polled from /proc"
    };

    let mut apply = Vec::with_capacity(iterations);
    let mut destroy = Vec::with_capacity(iterations);
    let mut warmups = Vec::with_capacity(iterations);
    let mut resources = 0;
    for i in 0..iterations {
        emu.reset();
        let dir = harness::project_copy("bench", &format!("apply-{i}"));
        // moto builds each region's backends on their first request after a reset (the IAM one
        // loads every AWS managed policy): a plan touches them all and creates nothing.
        let started = Instant::now();
        emu.boto3("client('iam', 'us-east-1').list_roles()");
        let warm = measured(&emu, &recording, &dir, &["plan", "--all-regions"]);
        assert!(warm.requests > 0, "the warm-up plan reached the emulator");
        warmups.push(started.elapsed());

        let a = measured(
            &emu,
            &recording,
            &dir,
            &["apply", "--all-regions", "--auto-approve"],
        );
        resources = changes(&a.stdout, "Apply complete: ");
        let d = measured(
            &emu,
            &recording,
            &dir,
            &[
                "destroy",
                "--all-regions",
                "--auto-approve",
                "--allow-destroy",
                "*",
            ],
        );
        changes(&d.stdout, "Destroy complete: ");
        apply.push(a);
        destroy.push(d);
    }

    let rates = std::env::var("REGIONCTL_REQUEST_RATE")
        .map(|r| format!("REGIONCTL_REQUEST_RATE={r}"))
        .unwrap_or_else(|_| "default request rate limits (AWS's documented buckets)".to_owned());
    println!(
        "regionctl apply/destroy benchmark against moto: the example platform ({resources} \
         resources, 4 environments), `--all-regions --auto-approve`, {iterations} run(s), each on \
         a fresh emulator state; REGIONCTL_POLL_INTERVAL_MS={POLL_INTERVAL_MS}; {rates}; requests \
         counted by the emulator; peak memory is the {memory}\n"
    );
    println!(
        "  {:<22} {:>10} {:>10} {:>10} {:>16} {:>22}",
        "command", "median", "min", "max", "requests", "peak RSS (MiB)"
    );
    let both: Vec<Measured> = apply
        .iter()
        .zip(&destroy)
        .map(|(a, d)| Measured {
            wall: a.wall + d.wall,
            requests: a.requests + d.requests,
            peak_kib: a.peak_kib.max(d.peak_kib),
            by_service: BTreeMap::new(),
            stdout: String::new(),
        })
        .collect();
    for (name, runs) in [
        ("apply (empty account)", &apply),
        ("destroy (everything)", &destroy),
        ("apply + destroy", &both),
    ] {
        let walls = sorted(runs.iter().map(|r| r.wall));
        let requests = sorted(runs.iter().map(|r| r.requests));
        let peaks = sorted(runs.iter().map(|r| r.peak_kib));
        println!(
            "  {name:<22} {:>10} {:>10} {:>10} {:>16} {:>22}",
            secs(walls[walls.len() / 2]),
            secs(walls[0]),
            secs(walls[walls.len() - 1]),
            spread(&requests, |n| n.to_string()),
            spread(&peaks, |k| format!("{:.1}", k as f64 / 1024.0)),
        );
    }
    println!("\n  (requests and peak RSS: median [min-max])");
    for (name, runs) in [("apply", &apply), ("destroy", &destroy)] {
        if let Some(last) = runs.last() {
            let services: Vec<String> = last
                .by_service
                .iter()
                .map(|(s, n)| format!("{s} {n}"))
                .collect();
            println!(
                "  {name} requests by service (last run): {}",
                services.join(", ")
            );
        }
    }
    let warm = sorted(warmups.into_iter());
    println!(
        "  moto's warm-up after each reset (boto3 IAM call + `plan --all-regions`), outside the \
         timings: median {}",
        secs(warm[warm.len() / 2])
    );
}

struct Measured {
    wall: Duration,
    requests: u64,
    /// Peak resident set size in KiB.
    peak_kib: u64,
    by_service: BTreeMap<String, u64>,
    stdout: String,
}

/// Runs the binary once with the emulator recording its requests; checks it succeeded.
fn measured(emu: &Emulator, recording: &Path, dir: &Path, args: &[&str]) -> Measured {
    control(emu, "reset-recording");
    control(emu, "start-recording");
    let rss_file = dir.join(".bench-rss");
    let gnu_time = Path::new(GNU_TIME).exists();
    let mut command = if gnu_time {
        let mut c = Command::new(GNU_TIME);
        c.arg("-f")
            .arg("%M")
            .arg("-o")
            .arg(&rss_file)
            .arg(env!("CARGO_BIN_EXE_regionctl"));
        c
    } else {
        Command::new(env!("CARGO_BIN_EXE_regionctl"))
    };
    command
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, _) in std::env::vars() {
        if key.starts_with("AWS_") {
            command.env_remove(key);
        }
    }
    command
        .envs(emu.env())
        .env("REGIONCTL_POLL_INTERVAL_MS", POLL_INTERVAL_MS);

    let started = Instant::now();
    let mut child = command.spawn().expect("the regionctl binary starts");
    // Drain both pipes on threads so a full pipe never stalls the child.
    let stdout = child.stdout.take().map(drain);
    let stderr = child.stderr.take().map(drain);
    let mut polled_kib = 0;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for regionctl") {
            break status;
        }
        if !gnu_time {
            polled_kib = polled_kib.max(vm_hwm_kib(child.id()).unwrap_or(0));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let wall = started.elapsed();
    control(emu, "stop-recording");
    let stdout = stdout.map(join).unwrap_or_default();
    let stderr = stderr.map(join).unwrap_or_default();
    assert!(
        status.success(),
        "regionctl {} failed ({status}):\n{stdout}\n{stderr}",
        args.join(" ")
    );
    let peak_kib = if gnu_time {
        std::fs::read_to_string(&rss_file)
            .ok()
            .and_then(|s| s.lines().last().and_then(|l| l.trim().parse().ok()))
            .expect("/usr/bin/time wrote the maximum resident set size")
    } else {
        polled_kib
    };
    let (requests, by_service) = recorded(recording);
    Measured {
        wall,
        requests,
        peak_kib,
        by_service,
        stdout,
    }
}

fn drain<R: std::io::Read + Send + 'static>(mut r: R) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut out = String::new();
        let _ = r.read_to_string(&mut out);
        out
    })
}

fn join(handle: std::thread::JoinHandle<String>) -> String {
    handle.join().unwrap_or_default()
}

fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// One of moto's recorder endpoints.
fn control(emu: &Emulator, action: &str) {
    let (status, body) = emu
        .request("POST", &format!("/moto-api/recorder/{action}"), "")
        .expect("the emulator's recorder answers");
    assert_eq!(status, 200, "moto recorder {action}: {body}");
}

/// The requests recorded since the last reset: the total, and per AWS service (read from the
/// SigV4 credential scope, `Credential=<key>/<date>/<region>/<service>/aws4_request`).
fn recorded(recording: &Path) -> (u64, BTreeMap<String, u64>) {
    let text = std::fs::read_to_string(recording).unwrap_or_default();
    let mut by_service = BTreeMap::new();
    let mut total = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        total += 1;
        let entry: serde_json::Value =
            serde_json::from_str(line).expect("moto records one JSON object per request");
        let service = entry["headers"]
            .as_object()
            .and_then(|h| {
                h.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
            })
            .and_then(|(_, v)| v.as_str())
            .and_then(|auth| auth.split("Credential=").nth(1))
            .and_then(|scope| scope.split('/').nth(3))
            .unwrap_or("unsigned")
            .to_owned();
        *by_service.entry(service).or_insert(0) += 1;
    }
    (total, by_service)
}

/// The number of changes in the summary line starting with `prefix` ("Apply complete: 121
/// changes in 3.2s.").
fn changes(stdout: &str, prefix: &str) -> usize {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(prefix))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no {prefix:?} summary in:\n{stdout}"))
}

fn sorted<T: Ord>(values: impl Iterator<Item = T>) -> Vec<T> {
    let mut v: Vec<T> = values.collect();
    v.sort();
    v
}

fn spread<T: Copy>(sorted: &[T], show: impl Fn(T) -> String) -> String {
    let (lo, mid, hi) = (
        sorted[0],
        sorted[sorted.len() / 2],
        sorted[sorted.len() - 1],
    );
    format!("{} [{}-{}]", show(mid), show(lo), show(hi))
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}
