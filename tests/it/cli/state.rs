//! `regionctl state list|show|rm`, `force-unlock` and `import`, run as the binary on a one-VPC
//! project: against a local state written by the test, and against the emulator (import reads
//! AWS; the S3 backend lives there too).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use regionctl::kind::Kind;
use regionctl::spec::value::Value;
use regionctl::state::{LockInfo, State, StateResource};
use serde_json::json;

use crate::harness::{Run, fresh_dir, regionctl_env};
use crate::support::emulator::Emulator;
use crate::support::{Res, attrs};

const PROJECT: &str = "project: t\nbackend:\n  local: {}\n";
const ENV_FILE: &str = "region: eu-west-1\nresources:\n  vpc.main:\n    cidr_block: 10.0.0.0/16\n";

/// A project with one VPC in eu-west-1 and the given project file.
fn project(name: &str, project_file: &str) -> PathBuf {
    let dir = fresh_dir("state", name);
    std::fs::write(dir.join("regionctl.yaml"), project_file).expect("write regionctl.yaml");
    std::fs::create_dir_all(dir.join("envs/eu-west-1")).expect("env dir");
    std::fs::write(dir.join("envs/eu-west-1/main.yaml"), ENV_FILE).expect("env file");
    dir
}

/// No AWS configuration at all: commands on a local state must not need it.
fn offline() -> Vec<(&'static str, String)> {
    vec![
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        ("AWS_CONFIG_FILE", "/nonexistent/regionctl-test".to_owned()),
        (
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/regionctl-test".to_owned(),
        ),
    ]
}

fn run(dir: &Path, args: &[&str]) -> Run {
    regionctl_env(dir, args, &offline())
}

fn resource(kind: Kind, id: &str, attrs: serde_json::Value) -> StateResource {
    StateResource {
        kind,
        region: "eu-west-1".into(),
        id: id.into(),
        arn: None,
        attrs: crate::support::attrs(attrs),
        computed: [("id".to_owned(), Value::Str(id.into()))]
            .into_iter()
            .collect(),
        deps: BTreeSet::new(),
        protect: false,
        pending: None,
    }
}

fn write_state(dir: &Path, state: &State) {
    let states = dir.join(".regionctl/state");
    std::fs::create_dir_all(&states).expect("state dir");
    std::fs::write(
        states.join(format!("{}.json", state.env)),
        serde_json::to_vec_pretty(state).expect("json"),
    )
    .expect("write a state");
}

fn read_state(dir: &Path, env: &str) -> State {
    let text = std::fs::read(dir.join(format!(".regionctl/state/{env}.json"))).expect("state");
    serde_json::from_slice(&text).expect("a valid state")
}

fn lock_file(dir: &Path) -> PathBuf {
    dir.join(".regionctl/state/eu-west-1.lock")
}

/// A state with the VPC, a DB (with a sensitive attribute) and a state of an environment that
/// left the spec.
fn seeded(name: &str) -> PathBuf {
    let dir = project(name, PROJECT);
    let mut state = State::new("t", "eu-west-1");
    state.serial = 1;
    state.resources.insert(
        "eu-west-1/vpc.main".parse().expect("addr"),
        resource(Kind::Vpc, "vpc-111", json!({"cidr_block": "10.0.0.0/16"})),
    );
    state.resources.insert(
        "eu-west-1/rds_instance.db".parse().expect("addr"),
        resource(
            Kind::RdsInstance,
            "db",
            json!({"identifier": "db", "master_password_env": "SECRET_DB_PASSWORD_VAR"}),
        ),
    );
    write_state(&dir, &state);
    let mut old = State::new("t", "us-west-2");
    old.serial = 4;
    old.resources.insert(
        "us-west-2/vpc.main".parse().expect("addr"),
        resource(Kind::Vpc, "vpc-222", json!({"cidr_block": "10.1.0.0/16"})),
    );
    write_state(&dir, &old);
    dir
}

#[test]
fn state_list_shows_every_environment_including_ones_that_left_the_spec() {
    let dir = seeded("list");
    let out = run(&dir, &["state", "list"]);
    assert_eq!(out.code, Some(0), "{}", out.describe());
    assert!(
        out.stdout.contains(
            "eu-west-1: 2 resource(s), serial 1, .regionctl/state/eu-west-1.json\n  \
             eu-west-1/vpc.main         vpc           vpc-111\n  \
             eu-west-1/rds_instance.db  rds_instance  db\n"
        ),
        "{}",
        out.describe()
    );
    assert!(
        out.stdout
            .contains("us-west-2 (no longer in the spec): 1 resource(s), serial 4"),
        "{}",
        out.describe()
    );

    let only = run(
        &dir,
        &["state", "list", "envs/eu-west-1", "--format", "json"],
    );
    assert_eq!(only.code, Some(0), "{}", only.describe());
    let doc: serde_json::Value = serde_json::from_str(&only.stdout).expect("json");
    let envs = doc["environments"].as_array().expect("environments");
    assert_eq!(envs.len(), 1, "{}", only.stdout);
    assert_eq!(envs[0]["name"], "eu-west-1");
    assert_eq!(envs[0]["serial"], 1);
    assert_eq!(envs[0]["resources"][0]["address"], "eu-west-1/vpc.main");
    assert_eq!(envs[0]["resources"][0]["id"], "vpc-111");
    assert_eq!(envs[0]["resources"][0]["kind"], "vpc");
}

#[test]
fn state_show_redacts_sensitive_values_and_suggests_close_addresses() {
    let dir = seeded("show");
    let out = run(&dir, &["state", "show", "eu-west-1/rds_instance.db"]);
    assert_eq!(out.code, Some(0), "{}", out.describe());
    assert!(
        out.stdout.contains("master_password_env = (sensitive)\n"),
        "{}",
        out.describe()
    );
    assert!(
        out.stdout.contains("identifier          = \"db\""),
        "{}",
        out.describe()
    );
    let json_run = run(
        &dir,
        &[
            "state",
            "show",
            "eu-west-1/rds_instance.db",
            "--format",
            "json",
        ],
    );
    assert_eq!(json_run.code, Some(0), "{}", json_run.describe());
    for r in [&out, &json_run] {
        assert!(!r.stdout.contains("SECRET_DB_PASSWORD_VAR"), "{}", r.stdout);
    }
    let doc: serde_json::Value = serde_json::from_str(&json_run.stdout).expect("json");
    assert_eq!(doc["attributes"]["master_password_env"], "(sensitive)");
    assert_eq!(doc["id"], "db");

    let typo = run(&dir, &["state", "show", "eu-west-1/vpc.mian"]);
    assert_eq!(typo.code, Some(1), "{}", typo.describe());
    assert!(
        typo.stderr.starts_with(
            "error: eu-west-1/vpc.mian is not in the state of eu-west-1 \
             (.regionctl/state/eu-west-1.json); did you mean eu-west-1/vpc.main?"
        ),
        "{}",
        typo.describe()
    );
    let bad = run(&dir, &["state", "show", "vpc.main"]);
    assert_eq!(bad.code, Some(1), "{}", bad.describe());
    assert!(bad.stderr.contains("ENV/KIND.NAME"), "{}", bad.describe());
}

#[test]
fn state_rm_forgets_resources_says_what_it_means_and_releases_the_lock() {
    let dir = seeded("rm");
    // All or nothing: one unknown address removes nothing.
    let partial = run(
        &dir,
        &[
            "state",
            "rm",
            "eu-west-1/rds_instance.db",
            "eu-west-1/vpc.nope",
        ],
    );
    assert_eq!(partial.code, Some(1), "{}", partial.describe());
    assert!(
        partial
            .stderr
            .contains("nothing was removed: eu-west-1/vpc.nope"),
        "{}",
        partial.describe()
    );
    assert_eq!(read_state(&dir, "eu-west-1").resources.len(), 2);
    assert!(!lock_file(&dir).exists(), "the lock is released on error");

    let out = run(&dir, &["state", "rm", "eu-west-1/rds_instance.db"]);
    assert_eq!(out.code, Some(0), "{}", out.describe());
    assert!(
        out.stdout.contains(
            "removed eu-west-1/rds_instance.db (rds_instance db) from the state \
             (.regionctl/state/eu-west-1.json, serial 2)."
        ),
        "{}",
        out.describe()
    );
    assert!(
        out.stdout.contains("It still exists in AWS"),
        "{}",
        out.describe()
    );
    assert!(
        out.stdout.contains("orphan to delete"),
        "not in the spec, still tagged: {}",
        out.describe()
    );
    let state = read_state(&dir, "eu-west-1");
    assert_eq!(state.serial, 2);
    assert_eq!(state.resources.len(), 1);
    assert!(!lock_file(&dir).exists(), "the lock is released");

    let kept = run(&dir, &["state", "rm", "eu-west-1/vpc.main"]);
    assert_eq!(kept.code, Some(0), "{}", kept.describe());
    assert!(
        kept.stdout.contains("adopt it again"),
        "still in the spec: {}",
        kept.describe()
    );
}

#[test]
fn a_locked_state_names_its_holder_and_force_unlock_removes_it() {
    let dir = seeded("force-unlock");
    // A run on another host whose lease has not run out: nothing proves it gone, so only
    // force-unlock removes its lock (a gone holder on this host would be taken over).
    let stale = LockInfo {
        id: "dead-run-7".into(),
        env: "eu-west-1".into(),
        operation: "apply".into(),
        holder: "ci@builder".into(),
        host: "builder-7".into(),
        pid: 999_999_999,
        created: "2025-03-04T05:06:07Z".into(),
        regionctl_version: "0.1.0".into(),
        ..LockInfo::default()
    }
    .leased(std::time::Duration::from_secs(3600));
    std::fs::write(lock_file(&dir), serde_json::to_vec(&stale).expect("json")).expect("lock");

    let locked = run(&dir, &["state", "rm", "eu-west-1/vpc.main"]);
    assert_eq!(locked.code, Some(1), "{}", locked.describe());
    for part in [
        "error: the state of eu-west-1 is locked by ci@builder",
        "running `apply`",
        "since 2025-03-04T05:06:07Z",
        "lock id: dead-run-7",
        "its lease runs until",
        "regionctl force-unlock dead-run-7",
    ] {
        assert!(
            locked.stderr.contains(part),
            "{part:?}: {}",
            locked.describe()
        );
    }
    assert!(lock_file(&dir).exists(), "a stale lock is not stolen");

    // stdin is not a terminal here: --force is required.
    let unconfirmed = run(&dir, &["force-unlock", "dead-run-7"]);
    assert_eq!(unconfirmed.code, Some(1), "{}", unconfirmed.describe());
    assert!(
        unconfirmed.stderr.contains("re-run with --force"),
        "{}",
        unconfirmed.describe()
    );
    assert!(lock_file(&dir).exists());

    let wrong = run(&dir, &["force-unlock", "no-such-id", "--force"]);
    assert_eq!(wrong.code, Some(1), "{}", wrong.describe());
    assert!(
        wrong
            .stderr
            .contains("no lock with id no-such-id in .regionctl/state/; it may have been released already (locks now held: eu-west-1: dead-run-7)"),
        "{}",
        wrong.describe()
    );

    let removed = run(&dir, &["force-unlock", "dead-run-7", "--force"]);
    assert_eq!(removed.code, Some(0), "{}", removed.describe());
    assert!(
        removed.stdout.contains(
            "removed the lock dead-run-7 of eu-west-1 (.regionctl/state/eu-west-1.lock): held by \
             ci@builder"
        ),
        "{}",
        removed.describe()
    );
    assert!(!lock_file(&dir).exists());
    let after = run(&dir, &["state", "rm", "eu-west-1/vpc.main"]);
    assert_eq!(after.code, Some(0), "{}", after.describe());
}

#[tokio::test(flavor = "multi_thread")]
async fn import_adopts_an_existing_vpc_and_refuses_what_it_cannot() {
    let emu = Emulator::start();
    let provider = emu.provider("t").await;
    let r = Res::new("eu-west-1/vpc.main");
    let vpc = provider
        .create_and_wait(&r.ctx(), &attrs(json!({"cidr_block": "10.0.0.0/16"})))
        .await
        .expect("create a VPC");
    let foreign = emu
        .provider("other-project")
        .await
        .create_and_wait(
            &Res::new("eu-west-1/vpc.foreign").ctx(),
            &attrs(json!({"cidr_block": "10.9.0.0/16"})),
        )
        .await
        .expect("create another project's VPC");
    let dir = project("import", PROJECT);
    let env = emu.env();
    let import = |args: &[&str]| {
        let mut all = vec!["import"];
        all.extend(args);
        regionctl_env(&dir, &all, &env)
    };

    let typo = import(&["eu-west-1/vpc.mian", &vpc.id]);
    assert_eq!(typo.code, Some(1), "{}", typo.describe());
    assert!(
        typo.stderr
            .contains("eu-west-1/vpc.mian is not an address of the spec"),
        "{}",
        typo.describe()
    );
    assert!(
        typo.stderr.contains("did you mean eu-west-1/vpc.main?"),
        "{}",
        typo.describe()
    );

    let missing = import(&["eu-west-1/vpc.main", "vpc-0123456789abcdef0"]);
    assert_eq!(missing.code, Some(1), "{}", missing.describe());
    assert!(
        missing
            .stderr
            .contains("there is no vpc with id vpc-0123456789abcdef0 in eu-west-1"),
        "{}",
        missing.describe()
    );
    assert!(!lock_file(&dir).exists(), "the lock is released on error");

    let other = import(&["eu-west-1/vpc.main", &foreign.id]);
    assert_eq!(other.code, Some(1), "{}", other.describe());
    assert!(
        other
            .stderr
            .contains("is tagged regionctl:stack=other-project"),
        "{}",
        other.describe()
    );

    let ok = import(&["eu-west-1/vpc.main", &vpc.id]);
    assert_eq!(ok.code, Some(0), "{}", ok.describe());
    assert!(
        ok.stdout.contains(&format!(
            "imported vpc {} as eu-west-1/vpc.main into the state \
             (.regionctl/state/eu-west-1.json, serial 1).",
            vpc.id
        )),
        "{}",
        ok.describe()
    );
    let state = read_state(&dir, "eu-west-1");
    let recorded = &state.resources[&r.addr];
    assert_eq!(recorded.id, vpc.id);
    assert_eq!(recorded.kind, Kind::Vpc);
    assert_eq!(recorded.region, "eu-west-1");
    assert_eq!(
        recorded.attrs.get("cidr_block"),
        Some(&Value::Str("10.0.0.0/16".into()))
    );
    assert_eq!(
        recorded.computed.get("id"),
        Some(&Value::Str(vpc.id.clone()))
    );
    assert!(!lock_file(&dir).exists());

    let again = import(&["eu-west-1/vpc.main", &vpc.id]);
    assert_eq!(again.code, Some(1), "{}", again.describe());
    assert!(
        again
            .stderr
            .contains("eu-west-1/vpc.main is already in the state"),
        "{}",
        again.describe()
    );
    assert_eq!(read_state(&dir, "eu-west-1").serial, 1, "nothing written");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_state_commands_work_on_an_s3_backend() {
    let emu = Emulator::start();
    let provider = emu.provider("t").await;
    let r = Res::new("eu-west-1/vpc.main");
    let vpc = provider
        .create_and_wait(&r.ctx(), &attrs(json!({"cidr_block": "10.0.0.0/16"})))
        .await
        .expect("create a VPC");
    let dir = project(
        "s3",
        "project: t\nbackend:\n  s3: { bucket: team-state, key_prefix: regionctl/t/, region: us-east-1 }\n",
    );
    let env = emu.env();

    // No bucket yet: regionctl does not create it, and says so.
    let no_bucket = regionctl_env(&dir, &["import", "eu-west-1/vpc.main", &vpc.id], &env);
    assert_eq!(no_bucket.code, Some(1), "{}", no_bucket.describe());
    assert!(
        no_bucket
            .stderr
            .contains("the state bucket team-state does not exist in us-east-1"),
        "{}",
        no_bucket.describe()
    );

    provider
        .clients
        .s3("us-east-1")
        .create_bucket()
        .bucket("team-state")
        .send()
        .await
        .expect("create the bucket");
    let ok = regionctl_env(&dir, &["import", "eu-west-1/vpc.main", &vpc.id], &env);
    assert_eq!(ok.code, Some(0), "{}", ok.describe());
    assert!(
        ok.stdout
            .contains("into the state (s3://team-state/regionctl/t/eu-west-1.json, serial 1)"),
        "{}",
        ok.describe()
    );
    let list = regionctl_env(&dir, &["state", "list"], &env);
    assert_eq!(list.code, Some(0), "{}", list.describe());
    assert!(
        list.stdout
            .contains(&format!("eu-west-1/vpc.main  vpc  {}", vpc.id)),
        "{}",
        list.describe()
    );
    let rm = regionctl_env(&dir, &["state", "rm", "eu-west-1/vpc.main"], &env);
    assert_eq!(rm.code, Some(0), "{}", rm.describe());
    let objects = provider
        .clients
        .s3("us-east-1")
        .list_objects_v2()
        .bucket("team-state")
        .send()
        .await
        .expect("list");
    let keys: Vec<&str> = objects.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["regionctl/t/eu-west-1.json"], "no lock left behind");
}
