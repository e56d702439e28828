//! The example GitHub Actions workflow (`examples/ci/github-actions/plan.yml`), checked and run
//! apart from GitHub.
//!
//! The structure test reads the workflow as data: triggers, permissions, the SARIF upload, the
//! sticky comment, the approval environment and concurrency group of every apply, the plan and
//! apply roles. The run test plays the jobs GitHub would run, in order, against the AWS emulator:
//! the pull-request job, then a push to main (global, then every region). Of each job it runs
//! the `run:` scripts that invoke regionctl, with the shell, the `env:` values and the GitHub
//! variables (`GITHUB_OUTPUT` ...) a runner would give them, and it carries files between jobs
//! only through the job's `upload-artifact` / `download-artifact` steps. Each job starts from a
//! fresh copy of the project (a runner's checkout), and the state lives in an S3 bucket of the
//! emulator, as the workflow requires: a job's local files are gone when it ends.
//!
//! Skipped by design, since they concern the CI host rather than regionctl: checkout (the fresh
//! copy stands in for it), the toolchain, cache and build steps (the test uses the binary cargo
//! built for it; a `cargo install` in a test would rebuild the AWS SDK), putting the downloaded
//! binary on `PATH` (the test puts its own there), the AWS credentials step (the emulator's
//! environment stands in for the role), the code-scanning upload and the comment script (GitHub
//! APIs).

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;
use std::process::Command;

use serde_json::Value as J;

use crate::harness::{copy_tree, fresh_dir, regionctl_env, repo_root};
use crate::support::emulator::Emulator;

const WORKFLOW: &str = "examples/ci/github-actions/plan.yml";
const MARKER: &str = "<!-- regionctl-plan -->";
/// The S3 state backend the copies of the project are switched to.
const BUCKET: &str = "acme-regionctl-state";
/// The pull request the test plays.
const PR_NUMBER: &str = "42";

// ---------------------------------------------------------------------------------------------
// Reading the workflow

fn workflow() -> J {
    let path = repo_root().join(WORKFLOW);
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {WORKFLOW}: {e}"));
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{WORKFLOW} is not valid YAML: {e}"))
}

fn job<'a>(wf: &'a J, name: &str) -> &'a J {
    let job = &wf["jobs"][name];
    assert!(job.is_object(), "{WORKFLOW} has no job `{name}`");
    job
}

fn steps(job: &J) -> &Vec<J> {
    job["steps"].as_array().expect("a job has a list of steps")
}

fn str_of<'a>(v: &'a J, what: &str) -> &'a str {
    v.as_str()
        .unwrap_or_else(|| panic!("{what} is not a string: {v}"))
}

/// `needs:` as a list, whether written as one name or a list.
fn needs(job: &J) -> Vec<&str> {
    match &job["needs"] {
        J::String(s) => vec![s.as_str()],
        J::Array(a) => a.iter().map(|n| str_of(n, "a needs entry")).collect(),
        _ => Vec::new(),
    }
}

fn uses(step: &J) -> &str {
    step["uses"].as_str().unwrap_or("")
}

/// Whether a `run:` script runs regionctl: some line starts with the command.
fn invokes_regionctl(script: &str) -> bool {
    script
        .lines()
        .any(|l| l.trim_start().starts_with("regionctl "))
}

/// The regionctl subcommands a script runs, in order (`validate`, `plan` ...).
fn subcommands(script: &str) -> Vec<String> {
    script
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("regionctl "))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

/// The regional environments of the repository's project (every `envs/*` but `global`).
fn regional_envs() -> Vec<String> {
    let mut envs: Vec<String> = fs::read_dir(repo_root().join("envs"))
        .expect("read envs/")
        .map(|e| {
            e.expect("an entry of envs/")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name != "global")
        .collect();
    envs.sort();
    envs
}

fn matrix_regions(job: &J) -> Vec<String> {
    job["strategy"]["matrix"]["region"]
        .as_array()
        .expect("the job has a matrix over `region`")
        .iter()
        .map(|r| str_of(r, "a matrix region").to_owned())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Structure

#[test]
fn the_workflow_has_the_promised_structure() {
    let wf = workflow();

    // Triggers: every pull request, and pushes to main.
    assert!(
        wf["on"]["pull_request"].is_object(),
        "no pull_request trigger"
    );
    let branches = &wf["on"]["push"]["branches"];
    assert_eq!(
        branches,
        &serde_json::json!(["main"]),
        "push must trigger on main"
    );

    // The default shell fails on errors, unset variables and failed pipes.
    let shell = str_of(&wf["defaults"]["run"]["shell"], "defaults.run.shell");
    assert!(
        shell.starts_with("bash ") && shell.contains("-euo pipefail"),
        "{shell}"
    );

    // No script interpolates an expression: inputs come through `env:` (script injection).
    // Only GitHub's own actions and AWS's are used (no third-party marketplace action).
    for (name, job) in wf["jobs"].as_object().expect("jobs") {
        for step in steps(job) {
            if let Some(script) = step["run"].as_str() {
                assert!(
                    !script.contains("${{"),
                    "job {name}: a run script uses an expression; pass it through env: instead\n{script}"
                );
            }
            let action = uses(step);
            if !action.is_empty() {
                let owner = action.split('/').next().unwrap_or_default();
                assert!(
                    ["actions", "github", "aws-actions"].contains(&owner),
                    "job {name} uses a third-party action: {action}"
                );
                assert!(
                    action.contains('@'),
                    "job {name}: pin {action} to a version"
                );
            }
        }
    }

    // The pull-request job: validate, check, plan, in this order, the SARIF uploaded even when
    // the check fails, and one sticky comment found again by its marker.
    let pr = job(&wf, "pr");
    assert!(str_of(&pr["if"], "pr.if").contains("pull_request"));
    assert_eq!(pr["permissions"]["security-events"], "write");
    assert_eq!(pr["permissions"]["pull-requests"], "write");
    assert_eq!(pr["permissions"]["id-token"], "write");
    let commands: Vec<String> = steps(pr)
        .iter()
        .filter_map(|s| s["run"].as_str())
        .flat_map(subcommands)
        .collect();
    assert_eq!(
        commands,
        ["validate", "check", "plan"],
        "pull-request commands"
    );
    let scripts: Vec<&str> = steps(pr).iter().filter_map(|s| s["run"].as_str()).collect();
    assert!(
        scripts
            .iter()
            .any(|s| s.contains("regionctl check") && s.contains("--sarif > regionctl.sarif"))
    );
    assert!(scripts.iter().any(|s| s.contains(
        "regionctl plan --all-regions --refresh changed --markdown --detailed-exitcode --out regionctl.plan > plan.md"
    )));
    let sarif = steps(pr)
        .iter()
        .find(|s| uses(s).starts_with("github/codeql-action/upload-sarif@"))
        .expect("the pull-request job uploads the SARIF to code scanning");
    assert!(str_of(&sarif["if"], "upload-sarif if").contains("always()"));
    assert_eq!(sarif["with"]["sarif_file"], "regionctl.sarif");
    let comment = steps(pr)
        .iter()
        .find(|s| uses(s).starts_with("actions/github-script@"))
        .expect("the pull-request job comments with actions/github-script");
    let script = str_of(&comment["with"]["script"], "the comment script");
    for needle in [MARKER, "listComments", "updateComment", "createComment"] {
        assert!(script.contains(needle), "the comment script lacks {needle}");
    }
    assert!(str_of(&comment["if"], "comment if").contains("always()"));

    // A push: global planned and applied before the regions, each apply behind its environment
    // and in a concurrency group of its own region that never cancels a running apply.
    for name in ["plan-global", "apply-global", "plan", "apply"] {
        assert!(
            str_of(&job(&wf, name)["if"], "if").contains("push")
                || !needs(job(&wf, name)).is_empty(),
            "{name} must run on push only (directly or through needs)"
        );
    }
    assert_eq!(needs(job(&wf, "apply-global")), ["plan-global"]);
    assert!(needs(job(&wf, "plan")).contains(&"apply-global"));
    assert_eq!(needs(job(&wf, "apply")), ["plan"]);
    assert!(
        str_of(&job(&wf, "apply-global")["if"], "apply-global if")
            .contains("needs.plan-global.outputs.changes == 'true'")
    );
    assert_eq!(
        job(&wf, "plan-global")["outputs"]["changes"],
        "${{ steps.plan.outputs.changes }}"
    );
    assert_eq!(job(&wf, "apply-global")["environment"], "global");
    assert_eq!(job(&wf, "apply")["environment"], "${{ matrix.region }}");
    assert_eq!(
        job(&wf, "apply-global")["concurrency"]["group"],
        "regionctl-apply-global"
    );
    assert_eq!(
        job(&wf, "apply")["concurrency"]["group"],
        "regionctl-apply-${{ matrix.region }}"
    );
    for name in ["apply-global", "apply"] {
        assert_eq!(job(&wf, name)["concurrency"]["cancel-in-progress"], false);
    }
    // Every regional environment of the project is planned and applied, and nothing else.
    assert_eq!(
        {
            let mut r = matrix_regions(job(&wf, "plan"));
            r.sort();
            r
        },
        regional_envs()
    );
    assert_eq!(
        matrix_regions(job(&wf, "plan")),
        matrix_regions(job(&wf, "apply"))
    );

    // Plans assume the read-only role, applies the apply role, all through OIDC.
    let role = |name: &str| -> String {
        let job = job(&wf, name);
        assert_eq!(job["permissions"]["id-token"], "write", "{name}: OIDC");
        let step = steps(job)
            .iter()
            .find(|s| uses(s).starts_with("aws-actions/configure-aws-credentials@"))
            .unwrap_or_else(|| panic!("{name} has no configure-aws-credentials step"));
        str_of(&step["with"]["role-to-assume"], "role-to-assume").to_owned()
    };
    for name in ["pr", "plan-global", "plan"] {
        assert_eq!(role(name), "${{ vars.REGIONCTL_PLAN_ROLE_ARN }}", "{name}");
    }
    for name in ["apply-global", "apply"] {
        assert_eq!(role(name), "${{ vars.REGIONCTL_APPLY_ROLE_ARN }}", "{name}");
        let commands: Vec<String> = steps(job(&wf, name))
            .iter()
            .filter_map(|s| s["run"].as_str())
            .flat_map(subcommands)
            .collect();
        assert_eq!(
            commands,
            ["apply"],
            "{name} applies the saved plan and nothing else"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Running the regionctl steps

/// Files that jobs hand on through artifacts, by artifact name.
type Artifacts = BTreeMap<String, Vec<(String, Vec<u8>)>>;

/// One job of the workflow as a runner would run it, for one matrix value.
struct JobRun<'a> {
    wf: &'a J,
    name: &'a str,
    region: Option<&'a str>,
    emu: &'a Emulator,
    /// The checkout: a fresh copy of the project.
    dir: PathBuf,
    /// `RUNNER_TEMP` and GitHub's command files.
    runner: PathBuf,
}

impl<'a> JobRun<'a> {
    fn new(
        wf: &'a J,
        emu: &'a Emulator,
        name: &'a str,
        region: Option<&'a str>,
        tag: &str,
    ) -> Self {
        let label = format!("{tag}-{name}-{}", region.unwrap_or("all"));
        let dir = checkout(&label);
        let runner = fresh_dir("ci-workflow-runner", &label);
        JobRun {
            wf,
            name,
            region,
            emu,
            dir,
            runner,
        }
    }

    /// The few expressions the test knows (the matrix value, the pull request's number); any
    /// other is not expected where the test reads values (env of run steps, artifact names and
    /// paths).
    fn eval(&self, text: &str) -> String {
        let mut out = text.replace("${{ github.event.pull_request.number }}", PR_NUMBER);
        if let Some(region) = self.region {
            out = out.replace("${{ matrix.region }}", region);
        }
        assert!(
            !out.contains("${{"),
            "job {}: the test cannot evaluate {text:?}; give run steps plain env values or \
             teach the test the expression",
            self.name
        );
        out
    }

    fn env_map(&self, v: &J) -> Vec<(String, String)> {
        v.as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| {
                        let value = match v {
                            J::String(s) => self.eval(s),
                            other => other.to_string(),
                        };
                        (k.clone(), value)
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    fn github_file(&self, name: &str) -> PathBuf {
        self.runner.join(name)
    }

    /// Runs the job's steps in order; returns the regionctl subcommands it ran.
    fn run(&self, artifacts: &mut Artifacts) -> Vec<String> {
        let job = job(self.wf, self.name);
        for file in [
            "GITHUB_OUTPUT",
            "GITHUB_STEP_SUMMARY",
            "GITHUB_ENV",
            "GITHUB_PATH",
        ] {
            fs::write(self.github_file(file), "").expect("create a GitHub command file");
        }
        let mut ran = Vec::new();
        for step in steps(job) {
            let action = uses(step);
            if action.starts_with("actions/upload-artifact@") {
                self.upload(step, artifacts);
            } else if action.starts_with("actions/download-artifact@") {
                self.download(step, artifacts);
            } else if let Some(script) = step["run"].as_str().filter(|s| invokes_regionctl(s)) {
                assert!(
                    !script.contains("cargo"),
                    "job {}: a regionctl step also runs cargo; keep building apart:\n{script}",
                    self.name
                );
                self.run_script(step, script);
                ran.extend(subcommands(script));
            }
            // Everything else concerns the CI host (see the module comment).
        }
        ran
    }

    fn run_script(&self, step: &J, script: &str) {
        let shell = str_of(&self.wf["defaults"]["run"]["shell"], "defaults.run.shell");
        let script_path = self.runner.join("step.sh");
        fs::write(&script_path, script).expect("write the step's script");
        let mut argv: Vec<String> = shell
            .split_whitespace()
            .map(|w| {
                if w == "{0}" {
                    script_path.display().to_string()
                } else {
                    w.to_owned()
                }
            })
            .collect();
        let program = argv.remove(0);
        let exe = crate::harness::bin();
        let bin = exe.parent().expect("the binary has a directory");
        let mut command = Command::new(program);
        command.args(&argv).current_dir(&self.dir).env_clear();
        command
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    bin.display(),
                    std::env::var("PATH").unwrap_or_default()
                ),
            )
            .env(
                "HOME",
                std::env::var("HOME").unwrap_or_else(|_| "/tmp".into()),
            )
            .env("RUNNER_TEMP", &self.runner);
        for file in [
            "GITHUB_OUTPUT",
            "GITHUB_STEP_SUMMARY",
            "GITHUB_ENV",
            "GITHUB_PATH",
        ] {
            command.env(file, self.github_file(file));
        }
        // Workflow, then job, then step env, as GitHub layers them; then the emulator's
        // credentials and endpoint, which configure-aws-credentials would export.
        for scope in [
            &self.wf["env"],
            &job(self.wf, self.name)["env"],
            &step["env"],
        ] {
            for (k, v) in self.env_map(scope) {
                command.env(k, v);
            }
        }
        for (k, v) in self.emu.env() {
            command.env(k, v);
        }
        let out = command.output().expect("run bash");
        assert!(
            out.status.success(),
            "job {} ({}), step {:?} failed with {:?}\n--- script ---\n{script}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.name,
            self.region.unwrap_or("-"),
            step["name"].as_str().unwrap_or(""),
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
    }

    fn upload(&self, step: &J, artifacts: &mut Artifacts) {
        let name = self.eval(str_of(&step["with"]["name"], "artifact name"));
        let mut files = Vec::new();
        for path in str_of(&step["with"]["path"], "artifact path").lines() {
            let path = path.trim();
            if path.is_empty() {
                continue;
            }
            let path = self.eval(path);
            let bytes = fs::read(self.dir.join(&path)).unwrap_or_else(|e| {
                panic!("job {}: artifact {name} should hold {path}: {e}", self.name)
            });
            files.push((path, bytes));
        }
        artifacts.insert(name, files);
    }

    fn download(&self, step: &J, artifacts: &Artifacts) {
        let name = self.eval(str_of(&step["with"]["name"], "artifact name"));
        if name == "regionctl-bin" {
            return; // the test's own binary is on PATH instead
        }
        let files = artifacts.get(&name).unwrap_or_else(|| {
            panic!(
                "job {} downloads {name}, which no earlier job uploaded",
                self.name
            )
        });
        let into = self
            .dir
            .join(self.eval(str_of(&step["with"]["path"], "download path")));
        for (path, bytes) in files {
            fs::write(into.join(path), bytes).expect("write a downloaded artifact file");
        }
    }

    fn output(&self, key: &str) -> Option<String> {
        let text =
            fs::read_to_string(self.github_file("GITHUB_OUTPUT")).expect("read GITHUB_OUTPUT");
        text.lines()
            .filter_map(|l| l.split_once('='))
            .filter(|(k, _)| *k == key)
            .map(|(_, v)| v.to_owned())
            .next_back()
    }

    fn file(&self, name: &str) -> String {
        fs::read_to_string(self.dir.join(name))
            .unwrap_or_else(|e| panic!("job {}: {name} was not produced: {e}", self.name))
    }
}

/// A runner's checkout: the repository's project, with its state moved to the emulator's S3
/// (a job's local files, local state included, are gone when the job ends).
fn checkout(label: &str) -> PathBuf {
    let dir = fresh_dir("ci-workflow", label);
    let root = repo_root();
    copy_tree(&root.join("envs"), &dir.join("envs"));
    copy_tree(&root.join("modules"), &dir.join("modules"));
    let project = fs::read_to_string(root.join("regionctl.yaml")).expect("read regionctl.yaml");
    let local = "\n  local: {}\n";
    assert_eq!(
        project.matches(local).count(),
        1,
        "regionctl.yaml should hold one `local: {{}}` backend line for the test to switch"
    );
    let s3 = format!("\n  s3: {{ bucket: {BUCKET}, key_prefix: platform/, region: us-east-1 }}\n");
    fs::write(dir.join("regionctl.yaml"), project.replacen(local, &s3, 1))
        .expect("write regionctl.yaml");
    dir
}

#[test]
fn the_regionctl_steps_run_in_order_against_the_emulator() {
    let wf = workflow();
    let emu = Emulator::start();
    emu.boto3(&format!(
        "client('s3', 'us-east-1').create_bucket(Bucket={BUCKET:?})"
    ));
    let mut artifacts = Artifacts::new();

    // --- A pull request ------------------------------------------------------------------
    let pr = JobRun::new(&wf, &emu, "pr", None, "first");
    assert_eq!(pr.run(&mut artifacts), ["validate", "check", "plan"]);

    let sarif: J = serde_json::from_str(&pr.file("regionctl.sarif"))
        .unwrap_or_else(|e| panic!("regionctl.sarif is not JSON: {e}"));
    assert_eq!(sarif["version"], "2.1.0", "{sarif}");
    assert!(
        sarif["runs"].as_array().is_some_and(|r| !r.is_empty()),
        "{sarif}"
    );

    let plan_md = pr.file("plan.md");
    assert!(
        plan_md.contains("| Region |"),
        "plan.md has no summary table:\n{plan_md}"
    );
    for region in regional_envs() {
        assert!(
            plan_md.contains(&format!("| {region} |")),
            "plan.md misses {region}"
        );
    }
    // The comment is the marker, the plan and a footer of a few hundred characters.
    assert!(
        MARKER.len() + plan_md.len() + 400 < 65_536,
        "the comment would exceed GitHub's limit"
    );
    assert_eq!(
        pr.output("exit_code").as_deref(),
        Some("2"),
        "a new platform has changes"
    );
    assert_eq!(pr.output("changes").as_deref(), Some("true"));
    let summary = fs::read_to_string(pr.github_file("GITHUB_STEP_SUMMARY")).expect("summary");
    assert!(
        summary.contains("| Region |"),
        "the step summary shows the plan"
    );
    let saved: J =
        serde_json::from_str(&pr.file("regionctl.plan")).expect("the saved plan is JSON");
    assert!(saved.is_object());
    assert!(
        artifacts.contains_key(&format!("regionctl-plan-pr-{PR_NUMBER}")),
        "the pull request keeps its saved plan as an artifact"
    );

    // --- The merge: global, then every region, each job on its own fresh checkout ------------
    let plan_global = JobRun::new(&wf, &emu, "plan-global", None, "first");
    assert_eq!(plan_global.run(&mut artifacts), ["plan"]);
    assert_eq!(plan_global.output("changes").as_deref(), Some("true"));
    assert!(artifacts.contains_key("regionctl-plan-global"));

    // apply-global runs because plan-global said `changes=true` (its `if:`).
    let apply_global = JobRun::new(&wf, &emu, "apply-global", None, "first");
    assert_eq!(apply_global.run(&mut artifacts), ["apply"]);

    let regions = matrix_regions(job(&wf, "plan"));
    for region in &regions {
        let plan = JobRun::new(&wf, &emu, "plan", Some(region), "first");
        assert_eq!(plan.run(&mut artifacts), ["plan"]);
        assert_eq!(plan.output("changes").as_deref(), Some("true"), "{region}");
        assert!(
            plan.file("plan.txt").contains(region.as_str()),
            "the plan of {region} names it"
        );
    }
    // The apply matrix starts once every plan leg is done, as `needs: plan` makes GitHub wait.
    for region in &regions {
        let apply = JobRun::new(&wf, &emu, "apply", Some(region), "first");
        assert_eq!(apply.run(&mut artifacts), ["apply"]);
    }

    // Everything the merge planned is in place: a fresh plan has nothing to do.
    let check = checkout("final-check");
    for region in &regions {
        let run = regionctl_env(
            &check,
            &["plan", &format!("envs/{region}"), "--detailed-exitcode"],
            &emu.env(),
        );
        assert_eq!(
            run.code,
            Some(0),
            "{region} after the apply: {}",
            run.describe()
        );
    }
    let all = regionctl_env(
        &check,
        &["plan", "--all-regions", "--detailed-exitcode"],
        &emu.env(),
    );
    assert_eq!(all.code, Some(0), "{}", all.describe());

    // --- The next push without spec changes: nothing to approve ------------------------------
    let again = JobRun::new(&wf, &emu, "plan-global", None, "second");
    again.run(&mut artifacts);
    assert_eq!(
        again.output("changes").as_deref(),
        Some("false"),
        "apply-global is skipped"
    );
    let again = JobRun::new(&wf, &emu, "plan", Some(&regions[0]), "second");
    again.run(&mut artifacts);
    assert_eq!(again.output("changes").as_deref(), Some("false"));
    // Its saved plan applies as "nothing to do" (a region approved without changes).
    let apply = JobRun::new(&wf, &emu, "apply", Some(&regions[0]), "second");
    apply.run(&mut artifacts);
}
