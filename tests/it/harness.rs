//! Shared plumbing for the tests that run the built `regionctl`: a stable environment, scratch
//! projects under `CARGO_TARGET_TMPDIR`, one-file fixtures (a whole tiny project split into
//! `# --- <path>` sections) turned into project directories, and snapshot names.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root (the directory holding Cargo.toml, regionctl.yaml and envs/).
/// The regionctl executable under test: the one cargo built for this test binary, or
/// `REGIONCTL_TEST_BIN` when set (a copy taken aside, so that another build writing the shared
/// target directory cannot swap the binary under a long run). The copy must be named
/// `regionctl`: the CI workflow test puts its directory on `PATH`.
pub fn bin() -> PathBuf {
    std::env::var_os("REGIONCTL_TEST_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_regionctl")))
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Where fixture files live.
pub fn fixtures_dir(kind: &str) -> PathBuf {
    repo_root().join("tests").join("fixtures").join(kind)
}

/// The result of one run of the binary, with the streams already decoded.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from_output(output: Output) -> Run {
        Run {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Both streams, for assertion messages.
    pub fn describe(&self) -> String {
        format!(
            "exit code {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs `regionctl <args>` in `dir` with colour off, a fixed width and no logging overrides, so
/// the output is the same on every machine and terminal.
pub fn regionctl<S: AsRef<std::ffi::OsStr>>(dir: &Path, args: &[S]) -> Run {
    let output = Command::new(bin())
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .env_remove("RUST_LOG")
        .env_remove("CLICOLOR_FORCE")
        .output()
        .expect("the regionctl binary built by cargo can be started");
    Run::from_output(output)
}

/// A fresh, empty directory for one test (or one fixture), removed first if a previous run left it.
pub fn fresh_dir(group: &str, name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("regionctl-cli")
        .join(group)
        .join(name);
    if dir.exists() {
        fs::remove_dir_all(&dir).expect("remove the scratch directory of a previous run");
    }
    fs::create_dir_all(&dir).expect("create a scratch directory under CARGO_TARGET_TMPDIR");
    dir
}

/// A scratch copy of the repository's project (spec files only), so states and plans a test
/// writes never land in the repository.
pub fn project_copy(group: &str, name: &str) -> PathBuf {
    let dir = fresh_dir(group, name);
    let root = repo_root();
    fs::copy(root.join("regionctl.yaml"), dir.join("regionctl.yaml")).expect("copy regionctl.yaml");
    copy_tree(&root.join("envs"), &dir.join("envs"));
    copy_tree(&root.join("modules"), &dir.join("modules"));
    dir
}

/// Copies a directory tree (for tests that change a copy of an example).
pub fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("create the copy's directory");
    for entry in fs::read_dir(from).expect("read a directory of the example") {
        let entry = entry.expect("read a directory entry of the example");
        let target = to.join(entry.file_name());
        if entry
            .file_type()
            .expect("file type of an example entry")
            .is_dir()
        {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).expect("copy a file of the example");
        }
    }
}

/// A fixture: header comments (`# expect:`, `# args:`, ...) and the files of a tiny project.
#[derive(Debug)]
pub struct Fixture {
    /// Every `# <key>: <value>` line before the first file section, in order.
    pub header: Vec<(String, String)>,
    /// `(relative path, contents)` of each `# --- <path>` section.
    pub files: Vec<(String, String)>,
}

impl Fixture {
    pub fn parse(text: &str) -> Result<Fixture, String> {
        let mut header = Vec::new();
        let mut files: Vec<(String, String)> = Vec::new();
        for line in text.lines() {
            if let Some(path) = line.strip_prefix("# --- ") {
                let path = path.trim();
                if path.is_empty()
                    || Path::new(path).is_absolute()
                    || path.split('/').any(|p| p == "..")
                {
                    return Err(format!(
                        "bad section path {path:?}: it must be relative and stay inside the project"
                    ));
                }
                files.push((path.to_string(), String::new()));
            } else if let Some((_, contents)) = files.last_mut() {
                contents.push_str(line);
                contents.push('\n');
            } else if let Some(comment) = line.strip_prefix('#') {
                if let Some((key, value)) = comment.split_once(':') {
                    let key = key.trim();
                    if !key.is_empty()
                        && key
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                    {
                        header.push((key.to_string(), value.trim().to_string()));
                    }
                }
            } else if !line.trim().is_empty() {
                return Err(format!(
                    "line {line:?} comes before the first `# --- <path>` section"
                ));
            }
        }
        if files.is_empty() {
            return Err("no `# --- <path>` sections".to_string());
        }
        Ok(Fixture { header, files })
    }

    /// Values of every header line with this key.
    pub fn values(&self, key: &str) -> Vec<&str> {
        self.header
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Extra command-line arguments from `# args:` lines (split on whitespace).
    pub fn args(&self) -> Vec<String> {
        self.values("args")
            .iter()
            .flat_map(|v| v.split_whitespace())
            .map(str::to_string)
            .collect()
    }

    /// Writes the project into `dir`.
    pub fn write_to(&self, dir: &Path) {
        for (path, contents) in &self.files {
            let target = dir.join(path);
            if let Some(parent) = target.parent() {
                fs::create_dir_all(parent).expect("create a directory of the fixture project");
            }
            fs::write(&target, contents).expect("write a file of the fixture project");
        }
    }
}

/// The `.yaml` fixtures of one directory, sorted by name: `(name without extension, path)`.
pub fn fixture_files(kind: &str) -> Vec<(String, PathBuf)> {
    let dir = fixtures_dir(kind);
    let mut out: Vec<(String, PathBuf)> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read fixture directory {}: {e}", dir.display()))
        .map(|entry| entry.expect("read a fixture directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .map(|p| {
            let name = p
                .file_stem()
                .expect("a fixture file has a name")
                .to_string_lossy()
                .into_owned();
            (name, p)
        })
        .collect();
    out.sort();
    out
}

/// Writes a fixture into its own scratch directory and runs `regionctl validate <# args>` there.
pub fn run_fixture(group: &str, name: &str, fixture: &Fixture, extra_args: &[&str]) -> Run {
    let dir = fresh_dir(group, name);
    fixture.write_to(&dir);
    let mut args: Vec<String> = vec!["validate".to_string()];
    args.extend(extra_args.iter().map(|s| s.to_string()));
    args.extend(fixture.args());
    regionctl(&dir, &args)
}

/// Insta settings that store snapshots in tests/snapshots/ whichever module takes them, under
/// the name [`snapshot_name`] gives them (see [`assert_snapshot!`](crate::assert_snapshot)).
pub fn snapshot_settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(repo_root().join("tests").join("snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings
}

/// The name of snapshot `name` taken in `module` (a `module_path!()`): the module path without
/// the test binary's name, then the snapshot's. Insta's own prefix would start with the binary
/// (`it__cli__invalid__...`); the snapshots keep the names they had when every test file was a
/// binary of its own, `it::cli::invalid` + `vpc_too_large` → `cli__invalid__vpc_too_large`.
pub fn snapshot_name(module: &str, name: &str) -> String {
    let module = module
        .split_once("::")
        .map_or(module, |(_, below_root)| below_root);
    format!("{}__{name}", module.replace("::", "__"))
}

/// `insta::assert_snapshot!(name, value)` against tests/snapshots/<module>__<name>.snap (see
/// [`snapshot_name`]); a macro so that `module_path!()` is the caller's.
#[macro_export]
macro_rules! assert_snapshot {
    ($name:expr, $value:expr) => {
        $crate::harness::snapshot_settings().bind(|| {
            insta::assert_snapshot!(
                $crate::harness::snapshot_name(module_path!(), $name),
                $value
            )
        })
    };
}

/// Runs `regionctl <args>` like [`regionctl`], with extra environment variables (the emulator's).
pub fn regionctl_env<S: AsRef<std::ffi::OsStr>>(
    dir: &Path,
    args: &[S],
    env: &[(&str, String)],
) -> Run {
    let mut command = Command::new(bin());
    command
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .env_remove("RUST_LOG")
        .env_remove("CLICOLOR_FORCE");
    // Nothing of the developer's AWS setup may leak into a test.
    for (key, _) in std::env::vars() {
        if key.starts_with("AWS_") {
            command.env_remove(key);
        }
    }
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command
        .output()
        .expect("the regionctl binary built by cargo can be started");
    Run::from_output(output)
}

/// What a `plan --json` run proposes, no-ops left out: (address, actions, the `change` object).
/// Panics (failing the test) unless the plan exited 0 or 2 and printed JSON.
pub fn planned_changes(plan: &Run) -> Vec<(String, serde_json::Value, serde_json::Value)> {
    assert!(matches!(plan.code, Some(0 | 2)), "{}", plan.describe());
    let parsed: serde_json::Value = serde_json::from_str(&plan.stdout)
        .unwrap_or_else(|e| panic!("plan --json printed no JSON ({e}):\n{}", plan.describe()));
    parsed["resource_changes"]
        .as_array()
        .expect("resource_changes is an array")
        .iter()
        .filter(|c| c["change"]["actions"] != serde_json::json!(["no-op"]))
        .map(|c| {
            (
                c["address"].as_str().unwrap_or_default().to_owned(),
                c["change"]["actions"].clone(),
                c["change"].clone(),
            )
        })
        .collect()
}

/// The attributes of `after` whose value differs from `before`, exactly as the JSON shows them,
/// sorted. (`after` leaves out what the spec leaves to AWS: only what it has can change.)
pub fn changed_keys(change: &serde_json::Value) -> Vec<String> {
    let empty = serde_json::Map::new();
    let before = change["before"].as_object().unwrap_or(&empty);
    let after = change["after"].as_object().unwrap_or(&empty);
    let mut changed: Vec<String> = after
        .keys()
        .filter(|k| before.get(*k) != after.get(*k))
        .cloned()
        .collect();
    changed.sort();
    changed
}
