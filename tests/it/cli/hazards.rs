//! Files that could hurt `validate`: a FIFO, a symlink to /dev/zero, symlink loops, a module
//! that reaches itself through a symlinked directory, a symlinked environment, and files that
//! cannot be written as text fixtures (non-UTF-8, CR-only line endings, a large valid spec).
//! Each is created at runtime in a scratch directory, and each run has a deadline, so a
//! regression fails the test instead of hanging it.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{self, Run};

/// Generous for a debug build on a loaded 2-core machine; a hang is minutes, not seconds.
const DEADLINE: Duration = Duration::from_secs(60);

/// Runs `regionctl <args>` in `dir`, killing it after [`DEADLINE`].
fn run_bounded(dir: &Path, args: &[&str]) -> Run {
    let mut child = Command::new(crate::harness::bin())
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start regionctl");
    let start = Instant::now();
    loop {
        if child.try_wait().expect("poll regionctl").is_some() {
            break;
        }
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("regionctl {args:?} did not finish within {DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("collect regionctl output");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A small valid project: one environment with a VPC.
fn project(name: &str) -> std::path::PathBuf {
    let dir = harness::fresh_dir("hazards", name);
    std::fs::write(dir.join("regionctl.yaml"), "project: t\n").expect("write project file");
    std::fs::create_dir_all(dir.join("envs/eu-west-1")).expect("create env dir");
    std::fs::write(
        dir.join("envs/eu-west-1/main.yaml"),
        "region: eu-west-1\nresources:\n  vpc.main:\n    cidr_block: 10.0.0.0/16\n",
    )
    .expect("write env file");
    dir
}

fn assert_error(run: &Run, code: &str, text: &str) {
    assert_eq!(run.code, Some(1), "{}", run.describe());
    assert!(run.stderr.contains(code), "no {code}\n{}", run.describe());
    assert!(run.stderr.contains(text), "no {text:?}\n{}", run.describe());
    assert!(!run.stderr.contains("panicked"), "{}", run.describe());
}

#[cfg(unix)]
#[test]
fn fifo_named_yaml_is_refused_not_waited_on() {
    let dir = project("fifo");
    let fifo = dir.join("envs/eu-west-1/pipe.yaml");
    let status = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("run mkfifo");
    assert!(status.success(), "mkfifo failed");
    let run = run_bounded(&dir, &["validate"]);
    assert_error(&run, "spec::io", "named pipe");
    assert!(
        run.stderr.contains("envs/eu-west-1/pipe.yaml"),
        "{}",
        run.describe()
    );
}

#[cfg(unix)]
#[test]
fn symlink_to_dev_zero_is_refused_not_read_forever() {
    let dir = project("dev-zero");
    std::os::unix::fs::symlink("/dev/zero", dir.join("envs/eu-west-1/zero.yaml"))
        .expect("symlink to /dev/zero");
    let run = run_bounded(&dir, &["validate"]);
    assert_error(&run, "spec::io", "device");
}

#[cfg(unix)]
#[test]
fn symlink_loop_is_reported() {
    let dir = project("loop");
    let a = dir.join("envs/eu-west-1/a.yaml");
    let b = dir.join("envs/eu-west-1/b.yaml");
    std::os::unix::fs::symlink(&b, &a).expect("symlink a -> b");
    std::os::unix::fs::symlink(&a, &b).expect("symlink b -> a");
    let run = run_bounded(&dir, &["validate"]);
    assert_error(&run, "spec::io", "envs/eu-west-1/a.yaml");
}

#[cfg(unix)]
#[test]
fn module_recursion_through_symlinked_dir_ends() {
    let dir = project("module-symlink");
    std::fs::write(
        dir.join("envs/eu-west-1/main.yaml"),
        "region: eu-west-1\nmodules:\n  a:\n    source: ../../modules/a\n",
    )
    .expect("write env");
    std::fs::create_dir_all(dir.join("modules/a")).expect("module dir");
    std::fs::write(
        dir.join("modules/a/module.yaml"),
        "resources:\n  vpc.main:\n    cidr_block: 10.0.0.0/16\nmodules:\n  again:\n    source: ./self\n",
    )
    .expect("write module");
    std::os::unix::fs::symlink(".", dir.join("modules/a/self")).expect("symlink self -> .");
    let run = run_bounded(&dir, &["validate"]);
    assert_error(&run, "spec::module-recursion", "calls itself");
}

#[cfg(unix)]
#[test]
fn symlinked_environment_dir_is_validated() {
    let dir = project("env-symlink");
    std::fs::create_dir_all(dir.join("shared/us-east-1")).expect("shared dir");
    std::fs::write(
        dir.join("shared/us-east-1/main.yaml"),
        "region: us-east-1\nresources:\n  vpc.main:\n    cidr_block: 10.1.0.0/16\n",
    )
    .expect("write env");
    std::os::unix::fs::symlink("../shared/us-east-1", dir.join("envs/us-east-1"))
        .expect("symlink env");
    let run = run_bounded(&dir, &["validate", "--all-regions"]);
    assert_eq!(run.code, Some(0), "{}", run.describe());
    assert!(run.stdout.contains("us-east-1"), "{}", run.describe());
    // And its errors are reported, not skipped.
    std::fs::write(
        dir.join("shared/us-east-1/main.yaml"),
        "region: us-east-1\nresources:\n  vpc.main:\n    cidr_block: nope\n",
    )
    .expect("rewrite env");
    let run = run_bounded(&dir, &["validate", "--all-regions"]);
    assert_error(&run, "spec::cidr", "envs/us-east-1/main.yaml:4:");
}

#[test]
fn non_utf8_byte_is_located() {
    let dir = project("non-utf8");
    std::fs::write(
        dir.join("envs/eu-west-1/main.yaml"),
        b"region: eu-west-1\nresources:\n  vpc.main:\n    cidr_block: 10.0.0.0/16\n    tags: { Name: caf\xe9 }\n",
    )
    .expect("write latin-1 file");
    let run = run_bounded(&dir, &["validate"]);
    assert_error(&run, "spec::encoding", "envs/eu-west-1/main.yaml:5:22");
    assert!(run.stderr.contains("0xe9"), "{}", run.describe());
}

#[test]
fn cr_only_line_endings_report_the_right_line() {
    let dir = project("cr-only");
    let text = "region: eu-west-1\rresources:\r  vpc.main:\r    cidr_block: 10.0.0.0/33\r";
    std::fs::write(dir.join("envs/eu-west-1/main.yaml"), text).expect("write CR file");
    let run = run_bounded(&dir, &["validate"]);
    assert_error(&run, "spec::cidr", "envs/eu-west-1/main.yaml:4:17");
    let json = run_bounded(&dir, &["validate", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).expect("json output");
    assert_eq!(
        doc["diagnostics"][0]["labels"][0]["line"], 4,
        "{}",
        json.stdout
    );
}

/// A valid 4 MB spec (well under the documented 8 MiB limit) validates: the YAML limits follow
/// the file-size limit, not the parser library's defaults.
#[test]
fn large_valid_spec_validates() {
    let dir = project("large");
    let mut text = String::from("region: eu-west-1\nvariables:\n");
    let mut i = 0;
    while text.len() < 4 * 1024 * 1024 {
        text.push_str(&format!("  v{i}: [a, b, c, d, e, f, g, h]\n"));
        i += 1;
    }
    text.push_str("resources:\n  vpc.main:\n    cidr_block: 10.0.0.0/16\n");
    std::fs::write(dir.join("envs/eu-west-1/main.yaml"), text).expect("write large file");
    let run = run_bounded(&dir, &["validate"]);
    assert_eq!(run.code, Some(0), "{}", run.describe());
}

/// A spec file over the limit is refused with the limit in words.
#[test]
fn oversized_file_is_refused() {
    let dir = project("oversized");
    let mut text = String::from("region: eu-west-1\n");
    text.push_str(&format!("# {}\n", "x".repeat(9 * 1024 * 1024)));
    std::fs::write(dir.join("envs/eu-west-1/big.yaml"), text).expect("write big file");
    let run = run_bounded(&dir, &["validate"]);
    assert_error(&run, "spec::io", "MiB");
}
