//! `regionctl adopt terraform` as the binary, offline (a local backend needs no AWS): the
//! two-region fixture state (tests/fixtures/adopt/platform.tfstate) becomes a project that
//! validates, whose check findings are listed, whose states hold every adopted resource, in which
//! no secret of the Terraform state appears; and nothing is overwritten without --force. The
//! same with modules.tfstate, whose module instances become one module.

use std::path::Path;

use crate::harness::{Run, fixtures_dir, fresh_dir, regionctl_env};

/// No AWS configuration at all: adopting into a local state must not need it.
fn offline() -> Vec<(&'static str, String)> {
    vec![
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        ("AWS_CONFIG_FILE", "/nonexistent".to_owned()),
        ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent".to_owned()),
    ]
}

fn run(dir: &Path, args: &[&str]) -> Run {
    regionctl_env(dir, args, &offline())
}

fn fixture() -> String {
    fixtures_dir("adopt")
        .join("platform.tfstate")
        .display()
        .to_string()
}

/// Every file under `dir`, as text.
fn all_text(dir: &Path) -> String {
    let mut out = String::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).expect("readable").flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.push_str(&std::fs::read_to_string(&p).unwrap_or_default());
            }
        }
    }
    out
}

#[test]
fn a_terraform_state_becomes_a_valid_project_with_its_state() {
    let dir = fresh_dir("adopt", "platform");
    let state = fixture();
    let adopted = run(&dir, &["adopt", "terraform", &state, "--out", "p"]);
    assert_eq!(adopted.code, Some(0), "{}", adopted.describe());
    for want in [
        "as 43 regionctl resource(s); unmapped 1.",
        "  eu-west-1        adopted  18",
        "  global           adopted   7",
        "aws_s3_bucket.logs (platform.tfstate): regionctl has no kind for this resource type",
        "set PROD_USE1_APP_PASSWORD",
    ] {
        assert!(
            adopted.stdout.contains(want),
            "missing {want:?}:\n{}",
            adopted.describe()
        );
    }
    let project = dir.join("p");
    assert!(
        std::fs::read_to_string(project.join("regionctl.yaml"))
            .unwrap_or_default()
            .contains("project: p"),
        "the project is named after its directory"
    );
    let validate = run(&project, &["validate"]);
    assert_eq!(validate.code, Some(0), "{}", validate.describe());
    assert!(
        validate.stdout.contains("43 resources"),
        "{}",
        validate.describe()
    );
    // `check` runs on it and lists what the platform as it is breaks.
    let check = run(&project, &["check"]);
    assert!(
        format!("{}{}", check.stdout, check.stderr).contains("eks-endpoint-open"),
        "{}",
        check.describe()
    );
    // The state lists every resource; `state show` reads one as recorded.
    let list = run(&project, &["state", "list", "--all-regions"]);
    assert_eq!(list.code, Some(0), "{}", list.describe());
    assert!(
        list.stdout.contains("eu-west-1/rds_instance.app_replica"),
        "{}",
        list.describe()
    );
    let text = all_text(&project);
    assert!(!text.contains("hunter2"), "the Terraform password leaked");

    // Again: nothing is overwritten.
    let before = all_text(&project);
    let again = run(&dir, &["adopt", "terraform", &state, "--out", "p"]);
    assert_eq!(again.code, Some(1), "{}", again.describe());
    assert!(
        again.stderr.contains("already exist"),
        "{}",
        again.describe()
    );
    assert_eq!(all_text(&project), before);
    // With --force the files are written again and the entries replaced.
    let forced = run(
        &dir,
        &["adopt", "terraform", &state, "--out", "p", "--force"],
    );
    assert_eq!(forced.code, Some(0), "{}", forced.describe());
}

#[test]
fn documents_that_are_not_terraform_states_are_refused() {
    let dir = fresh_dir("adopt", "refused");
    std::fs::write(dir.join("old.tfstate"), "{\"version\": 3, \"modules\": []}").expect("write");
    let r = run(&dir, &["adopt", "terraform", "old.tfstate", "--out", "p"]);
    assert_eq!(r.code, Some(1), "{}", r.describe());
    assert!(
        r.stderr.contains("state format version 3"),
        "{}",
        r.describe()
    );
    assert!(!dir.join("p").exists(), "nothing is written");
    let r = run(&dir, &["adopt", "terraform", "missing.tfstate"]);
    assert_eq!(r.code, Some(1), "{}", r.describe());
    assert!(r.stderr.contains("cannot read"), "{}", r.describe());
}

#[test]
fn adopt_aws_refuses_bad_flags_with_clear_errors() {
    let dir = fresh_dir("adopt", "aws-flags");
    for (args, want) in [
        (
            &["adopt", "aws"][..],
            "the following required arguments were not provided",
        ),
        (
            &["adopt", "aws", "--region", "mars-1"][..],
            "\"mars-1\" is not an AWS region regionctl knows",
        ),
        (
            &[
                "adopt",
                "aws",
                "--region",
                "us-east-1",
                "--vpc",
                "subnet-0abc",
            ][..],
            "expected a VPC id such as vpc-0a1b2c3d, got \"subnet-0abc\"",
        ),
        (
            &["adopt", "aws", "--region", "us-east-1", "--tag", "team"][..],
            "expected KEY=VALUE (e.g. team=platform), got \"team\"",
        ),
        (
            &["adopt", "aws", "--region", "us-east-1", "--tag", "=core"][..],
            "expected KEY=VALUE",
        ),
    ] {
        let r = run(&dir, args);
        // Usage errors exit 1 like every other error here (2 is "changes present").
        assert_eq!(r.code, Some(1), "{args:?}: {}", r.describe());
        assert!(r.stderr.contains(want), "{args:?}: {}", r.describe());
    }
    assert_eq!(
        std::fs::read_dir(&dir).map(Iterator::count).unwrap_or(0),
        0,
        "nothing is written"
    );
}

#[test]
fn adopt_terraform_checks_the_state_before_writing_any_file() {
    let dir = fresh_dir("adopt", "state-first");
    let state = fixture();
    let first = run(&dir, &["adopt", "terraform", &state, "--out", "p"]);
    assert_eq!(first.code, Some(0), "{}", first.describe());
    // The spec files are gone, the states remain: nothing may be written, not even the files
    // that no longer exist.
    std::fs::remove_dir_all(dir.join("p/envs")).expect("remove the spec files");
    let again = run(&dir, &["adopt", "terraform", &state, "--out", "p"]);
    assert_eq!(again.code, Some(1), "{}", again.describe());
    assert!(
        again.stderr.contains("already exists in the state")
            && again.stderr.contains("nothing was written"),
        "{}",
        again.describe()
    );
    assert!(!dir.join("p/envs").exists(), "no spec file was written");
}

#[test]
fn module_instances_become_a_module_and_its_directory_is_not_written_into() {
    // tests/fixtures/adopt/modules.tfstate: module.use1 and module.euw1 of the same shape.
    let state = fixtures_dir("adopt")
        .join("modules.tfstate")
        .display()
        .to_string();
    let dir = fresh_dir("adopt", "modules");
    let adopted = run(&dir, &["adopt", "terraform", &state, "--out", "p"]);
    assert_eq!(adopted.code, Some(0), "{}", adopted.describe());
    assert!(
        adopted.stdout.contains(
            "Modules:\n  module.euw1 (eu-west-1), module.use1 (us-east-1): one module, \
             modules/adopted"
        ),
        "{}",
        adopted.describe()
    );
    let project = dir.join("p");
    let validate = run(&project, &["validate"]);
    assert_eq!(validate.code, Some(0), "{}", validate.describe());
    let list = run(&project, &["state", "list", "--all-regions"]);
    assert_eq!(list.code, Some(0), "{}", list.describe());
    for want in [
        "eu-west-1/module.euw1.vpc.main",
        "us-east-1/module.use1.subnet.private[1]",
        "us-east-1/security_group.bastion",
    ] {
        assert!(list.stdout.contains(want), "{want}: {}", list.describe());
    }

    // Another project that has a module of that name already: nothing is written into it.
    let other = dir.join("other");
    std::fs::create_dir_all(other.join("modules/adopted")).expect("mkdir");
    std::fs::write(other.join("modules/adopted/network.yaml"), "inputs: {}\n").expect("write");
    let refused = run(&dir, &["adopt", "terraform", &state, "--out", "other"]);
    assert_eq!(refused.code, Some(1), "{}", refused.describe());
    assert!(
        refused.stderr.contains("modules/adopted") && refused.stderr.contains("--force"),
        "{}",
        refused.describe()
    );
    assert!(!other.join("modules/adopted/module.yaml").exists());
}

#[test]
fn what_aws_would_refuse_in_the_adopted_state_is_listed_at_its_line() {
    // The platform fixture with an EKS version AWS does not offer: the spec is still written
    // and the state recorded, and the finding is listed where the written file has it.
    let text = std::fs::read_to_string(fixture()).expect("the fixture reads");
    assert!(
        text.contains("\"version\": \"1.31\""),
        "the fixture names 1.31"
    );
    let dir = fresh_dir("adopt", "findings");
    let state = dir.join("odd.tfstate");
    std::fs::write(
        &state,
        text.replace("\"version\": \"1.31\"", "\"version\": \"1.9\""),
    )
    .expect("write");
    let adopted = run(
        &dir,
        &[
            "adopt",
            "terraform",
            &state.display().to_string(),
            "--out",
            "p",
        ],
    );
    assert_eq!(adopted.code, Some(0), "{}", adopted.describe());
    for want in [
        "finding(s) to fix before the first plan",
        "EKS does not offer Kubernetes version \"1.9\"",
        "p/envs/",
    ] {
        assert!(
            adopted.stderr.contains(want),
            "missing {want:?}:\n{}",
            adopted.describe()
        );
    }
    let validate = run(&dir.join("p"), &["validate"]);
    assert_eq!(validate.code, Some(1), "{}", validate.describe());
}
