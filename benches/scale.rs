//! Scale benchmark against the AWS emulator: a generated project of the example module
//! (`modules/eks-platform`, 36 resources a call) called N times in each of four regions
//! (us-east-1, eu-west-1, ap-southeast-1, us-west-2) plus the global IAM roles and policy:
//! with N = 14, 2,020 resources, the size of issue 16's 2,002-resource project (which was N = 25
//! of the 20-resource module of then).
//!
//! Per run, on a fresh emulator state and a fresh generated project, it measures:
//! - `apply --all-regions --auto-approve` on an empty account;
//! - the no-change `plan --all-regions` (full refresh), PLAN_ITERATIONS times;
//! - the same plan with one resource edited (one call's `node_desired`), as a full plan and, when
//!   the binary offers it, as `plan --refresh changed`;
//! - `destroy --all-regions --auto-approve --allow-destroy '*'`.
//!
//! For each: wall time, AWS requests counted by the emulator (moto's request recorder; every
//! request that reached it) and peak memory (max RSS from `/usr/bin/time -f %M`, else `VmHWM`
//! polled from `/proc`). Plans also report requests per operation, from the counts `regionctl
//! -vv plan` logs. Figures are medians with [min-max].
//!
//! Like `benches/apply.rs` it times the built binary as a user runs it. The emulator answers one
//! request at a time (about a millisecond each), so the wall time follows the request count.
//!
//! Knobs (environment variables):
//! - `SCALE_PER_REGION` module calls per region (14 under `cargo bench`, 1 under `cargo test`);
//! - `BENCH_ITERATIONS` apply/destroy runs (1), `PLAN_ITERATIONS` plans per scenario (5 under
//!   `cargo bench`, 1 under `cargo test`);
//! - `REGIONCTL_BIN` the binary to measure (default: the one cargo built for this bench; set it
//!   to a copy when other builds share the target directory);
//! - `SCALE_PROJECT_OUT=<dir>` only writes the generated project to `<dir>` and exits (to try it
//!   by hand: `SCALE_PROJECT_OUT=/tmp/p2002 cargo bench --bench scale`);
//! - `SCALE_MODULE=issue16` calls the module issue 16 measured (20 resources a call, kept in
//!   `benches/fixtures/eks-platform-issue16`) instead of today's, 25 times per region by default:
//!   the issue's 2,002-resource project like for like (2,004 with today's global IAM).
//!
//! Run with `cargo bench --bench scale` (needs Python with moto; `scripts/emulator-env` sets it
//! up). Under `cargo test --all-targets` it runs once with one call per region (82 resources), to
//! show the benchmark still works.

// A bench uses part of the integration tests' support.
#[allow(dead_code)]
#[path = "../tests/it/support/mod.rs"]
mod support;

#[allow(dead_code)]
#[path = "../tests/it/harness.rs"]
mod harness;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::emulator::Emulator;

const POLL_INTERVAL_MS: &str = "50";
const GNU_TIME: &str = "/usr/bin/time";

/// The four regions of the issue's measurement, with the AZs each call spreads over and a short
/// name for the calls' AWS names.
const REGIONS: [(&str, &str, [&str; 3]); 4] = [
    (
        "us-east-1",
        "use1",
        ["us-east-1a", "us-east-1b", "us-east-1c"],
    ),
    (
        "eu-west-1",
        "euw1",
        ["eu-west-1a", "eu-west-1b", "eu-west-1c"],
    ),
    (
        "ap-southeast-1",
        "apse1",
        ["ap-southeast-1a", "ap-southeast-1b", "ap-southeast-1c"],
    ),
    (
        "us-west-2",
        "usw2",
        ["us-west-2a", "us-west-2b", "us-west-2c"],
    ),
];

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this too, without it.
    let benching = std::env::args().any(|a| a == "--bench");
    let knob = |name: &str, default: usize| -> usize {
        std::env::var(name)
            .ok()
            .and_then(|s| s.parse().ok())
            .filter(|&n| n > 0)
            .unwrap_or(default)
    };
    let shape = match std::env::var("SCALE_MODULE").as_deref() {
        Err(_) | Ok("" | "example") => Shape::EXAMPLE,
        Ok("issue16") => Shape::ISSUE16,
        Ok(other) => panic!("SCALE_MODULE={other}: `example` (default) or `issue16`"),
    };
    let per_region = knob(
        "SCALE_PER_REGION",
        if benching { shape.per_region } else { 1 },
    );
    let iterations = knob("BENCH_ITERATIONS", 1);
    let plans = knob("PLAN_ITERATIONS", if benching { 5 } else { 1 });
    assert!(
        per_region * REGIONS.len() <= 256,
        "each call takes a /16 of 10.0.0.0/8"
    );

    if let Some(out) = std::env::var_os("SCALE_PROJECT_OUT") {
        let out = PathBuf::from(out);
        std::fs::create_dir_all(&out).expect("create SCALE_PROJECT_OUT");
        generate(&out, per_region, &shape);
        println!(
            "wrote a project of {} resources to {}",
            shape.resources(per_region),
            out.display()
        );
        return;
    }

    let bin = std::env::var("REGIONCTL_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_regionctl").to_owned());
    let refresh_changed = offers_refresh_changed(&bin);

    // moto's recorder appends to `moto_recording` in the server's working directory: start the
    // emulator from a scratch directory so the recording never lands in the repository.
    let scratch = harness::fresh_dir("bench", "scale-emulator");
    let cwd = std::env::current_dir().expect("the working directory");
    std::env::set_current_dir(&scratch).expect("enter the scratch directory");
    let emu = Emulator::start();
    std::env::set_current_dir(&cwd).expect("return to the working directory");
    let m = Meter {
        emu: &emu,
        recording: scratch.join("moto_recording"),
        bin: &bin,
    };

    let mut rows: BTreeMap<&str, Vec<Measured>> = BTreeMap::new();
    let mut push = |name: &'static str, m: Measured| rows.entry(name).or_default().push(m);
    let plan = ["-vv", "plan", "--all-regions"];
    let changed = ["-vv", "plan", "--all-regions", "--refresh", "changed"];
    for i in 0..iterations {
        emu.reset();
        let dir = harness::fresh_dir("bench", &format!("scale-{i}"));
        generate(&dir, per_region, &shape);
        // moto builds each region's backends on their first request after a reset (the IAM one
        // loads every AWS managed policy): a plan touches them all and creates nothing.
        emu.boto3("client('iam', 'us-east-1').list_roles()");
        m.run(&dir, &["plan", "--all-regions"]);

        let applied = m.run(&dir, &["apply", "--all-regions", "--auto-approve"]);
        let made = summary(&applied.stdout, "Apply complete: ");
        assert_eq!(
            made,
            shape.resources(per_region),
            "every resource was created"
        );
        push("1 apply (empty account)", applied);

        for _ in 0..plans {
            let p = m.run(&dir, &plan);
            assert!(
                p.stdout.contains("No changes"),
                "a plan right after apply changes nothing:\n{}",
                p.stdout
            );
            push("2 plan, no changes (full refresh)", p);
        }

        edit_one(&dir);
        for _ in 0..plans {
            let p = m.run(&dir, &plan);
            push("3 plan, one edit (full refresh)", p);
            if refresh_changed {
                let p = m.run(&dir, &changed);
                push("4 plan, one edit (--refresh changed)", p);
            }
        }

        let destroyed = m.run(
            &dir,
            &[
                "destroy",
                "--all-regions",
                "--auto-approve",
                "--allow-destroy",
                "*",
            ],
        );
        summary(&destroyed.stdout, "Destroy complete: ");
        push("5 destroy (everything)", destroyed);
    }

    let memory = if Path::new(GNU_TIME).exists() {
        "max RSS from /usr/bin/time"
    } else {
        "VmHWM polled from /proc"
    };
    println!(
        "regionctl scale benchmark against moto: the eks-platform module ({}) called {per_region} \
         time(s) in each of {} regions plus global IAM ({} resources); {iterations} apply/destroy \
         run(s), {plans} plan(s) per plan scenario; REGIONCTL_POLL_INTERVAL_MS={POLL_INTERVAL_MS}; \
         requests counted by the emulator; peak memory is the {memory}\n",
        shape.name,
        REGIONS.len(),
        shape.resources(per_region),
    );
    println!(
        "  {:<40} {:>9} {:>9} {:>9} {:>18} {:>20}",
        "scenario", "median", "min", "max", "requests", "peak RSS (MiB)"
    );
    for (name, runs) in &rows {
        let walls = sorted(runs.iter().map(|r| r.wall));
        let requests = sorted(runs.iter().map(|r| r.requests));
        let peaks = sorted(runs.iter().map(|r| r.peak_kib));
        println!(
            "  {:<40} {:>9} {:>9} {:>9} {:>18} {:>20}",
            &name[2..],
            secs(walls[walls.len() / 2]),
            secs(walls[0]),
            secs(walls[walls.len() - 1]),
            spread(&requests, |n| n.to_string()),
            spread(&peaks, |k| format!("{:.1}", k as f64 / 1024.0)),
        );
    }
    if !refresh_changed {
        println!("  (this binary has no `plan --refresh changed`)");
    }
    println!("\n  requests per operation (last run, as `regionctl -vv plan` logs them):");
    for (name, runs) in &rows {
        let Some(last) = runs.last().filter(|r| !r.by_operation.is_empty()) else {
            continue;
        };
        let mut ops: Vec<(&String, &u64)> = last.by_operation.iter().collect();
        ops.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let mut line = String::new();
        for (op, n) in ops {
            let _ = write!(line, "{op} {n}, ");
        }
        println!(
            "  {}: {}",
            &name[2..],
            line.trim_end_matches(", ").to_owned()
        );
    }
}

/// Which module the generated project calls.
struct Shape {
    name: &'static str,
    /// The module's directory, from the repository root.
    module: &'static str,
    per_call: usize,
    /// Calls per region under `cargo bench`: about 2,000 resources.
    per_region: usize,
    /// The inputs today's module takes beyond the issue-16 module's.
    grown_inputs: bool,
}

impl Shape {
    const EXAMPLE: Shape = Shape {
        name: "today's example module, 36 resources a call",
        module: "modules/eks-platform",
        per_call: 36,
        per_region: 14,
        grown_inputs: true,
    };
    const ISSUE16: Shape = Shape {
        name: "issue 16's module, 20 resources a call",
        module: "benches/fixtures/eks-platform-issue16",
        per_call: 20,
        per_region: 25,
        grown_inputs: false,
    };

    /// The calls' resources plus the global IAM roles and policy (4).
    fn resources(&self, per_region: usize) -> usize {
        per_region * REGIONS.len() * self.per_call + 4
    }
}

/// Writes the project: the repository's `regionctl.yaml` and global IAM roles, the shape's
/// module as `modules/eks-platform`, and one environment per region calling it `per_region`
/// times, each call with its own names and its own /16.
fn generate(dir: &Path, per_region: usize, shape: &Shape) {
    let root = harness::repo_root();
    std::fs::copy(root.join("regionctl.yaml"), dir.join("regionctl.yaml"))
        .expect("copy regionctl.yaml");
    harness::copy_tree(&root.join(shape.module), &dir.join("modules/eks-platform"));
    let global = dir.join("envs/global");
    std::fs::create_dir_all(&global).expect("create envs/global");
    std::fs::copy(root.join("envs/global/iam.yaml"), global.join("iam.yaml"))
        .expect("copy the global IAM roles");
    let grown_inputs = if shape.grown_inputs {
        "      ci_role_arn: \"${env.global.iam_role.ci_deployer.arn}\"\n      \
         lb_controller_policy_arn: \"${env.global.iam_policy.lb_controller.arn}\"\n      \
         alert_email: oncall@example.com\n"
    } else {
        ""
    };
    for (r, (region, short, azs)) in REGIONS.iter().enumerate() {
        let mut yaml = format!(
            "# Generated by benches/scale.rs: {per_region} call(s) of the eks-platform module.\n\
             region: {region}\n\nmodules:\n"
        );
        for i in 0..per_region {
            let octet = r * per_region + i;
            let _ = write!(
                yaml,
                "  p{i:02}:\n    source: ../../modules/eks-platform\n    inputs:\n      \
                 name: s-{short}-{i:02}\n      cidr: 10.{octet}.0.0/16\n      azs: [{}]\n      \
                 public_access_cidrs: [203.0.113.0/24]\n      \
                 cluster_role_arn: \"${{env.global.iam_role.eks_cluster.arn}}\"\n      \
                 node_role_arn: \"${{env.global.iam_role.eks_node.arn}}\"\n{grown_inputs}",
                azs.join(", ")
            );
        }
        let env = dir.join("envs").join(region);
        std::fs::create_dir_all(&env).expect("create an environment directory");
        std::fs::write(env.join("main.yaml"), yaml).expect("write an environment");
    }
}

/// Edits one resource: the first us-east-1 call's node group gets one more node.
fn edit_one(dir: &Path) {
    let file = dir.join("envs/us-east-1/main.yaml");
    let text = std::fs::read_to_string(&file).expect("read the generated environment");
    let edited = text.replacen(
        "      name: s-use1-00\n",
        "      name: s-use1-00\n      node_desired: 4\n",
        1,
    );
    assert_ne!(edited, text, "the first call is where the edit goes");
    std::fs::write(&file, edited).expect("write the edited environment");
}

/// Whether the binary's `plan` takes `--refresh changed` (so the bench runs on older binaries,
/// for before/after figures).
fn offers_refresh_changed(bin: &str) -> bool {
    Command::new(bin)
        .args(["plan", "--help"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("--refresh"))
        .unwrap_or(false)
}

struct Meter<'a> {
    emu: &'a Emulator,
    recording: PathBuf,
    bin: &'a str,
}

struct Measured {
    wall: Duration,
    requests: u64,
    /// Peak resident set size in KiB.
    peak_kib: u64,
    /// From the counts `-vv` logs (plans only).
    by_operation: BTreeMap<String, u64>,
    stdout: String,
}

impl Meter<'_> {
    /// Runs the binary once with the emulator recording its requests; checks it succeeded.
    fn run(&self, dir: &Path, args: &[&str]) -> Measured {
        self.control("reset-recording");
        self.control("start-recording");
        let rss_file = dir.join(".bench-rss");
        let gnu_time = Path::new(GNU_TIME).exists();
        let mut command = if gnu_time {
            let mut c = Command::new(GNU_TIME);
            c.arg("-f").arg("%M").arg("-o").arg(&rss_file).arg(self.bin);
            c
        } else {
            Command::new(self.bin)
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
            .envs(self.emu.env())
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
        self.control("stop-recording");
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
        let text = std::fs::read_to_string(&self.recording).unwrap_or_default();
        let requests = text.lines().filter(|l| !l.trim().is_empty()).count() as u64;
        Measured {
            wall,
            requests,
            peak_kib,
            by_operation: operations(&stderr),
            stdout,
        }
    }

    /// One of moto's recorder endpoints.
    fn control(&self, action: &str) {
        let (status, body) = self
            .emu
            .request("POST", &format!("/moto-api/recorder/{action}"), "")
            .expect("the emulator's recorder answers");
        assert_eq!(status, 200, "moto recorder {action}: {body}");
    }
}

/// Requests per operation (summed over regions) from the `requests` lines `-vv` logs:
/// `... requests service=ec2 operation=DescribeVpcs region=us-east-1 n=1`.
fn operations(stderr: &str) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for line in stderr.lines().filter(|l| l.contains(" requests ")) {
        let field = |name: &str| {
            line.split_whitespace()
                .find_map(|w| w.strip_prefix(name))
                .map(str::to_owned)
        };
        if let (Some(op), Some(n)) = (
            field("operation="),
            field("n=").and_then(|n| n.parse::<u64>().ok()),
        ) {
            *out.entry(op).or_insert(0) += n;
        }
    }
    out
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

/// The number of changes in the summary line starting with `prefix` ("Apply complete: 121
/// changes in 3.2s.").
fn summary(stdout: &str, prefix: &str) -> usize {
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
