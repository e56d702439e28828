//! The hand-off to GitOps: `regionctl output` prints what the last apply recorded (no AWS call),
//! and `regionctl kubeconfig` merges one context per cluster into a kubeconfig that already holds
//! the user's own contexts, idempotently.

use std::path::Path;

use serde_json::Value as J;

use crate::harness::{fresh_dir, regionctl_env};
use crate::support::emulator::Emulator;

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

/// A process environment that reaches no AWS at all: any AWS call would fail to connect.
fn offline() -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:9".to_owned()),
        ("AWS_ACCESS_KEY_ID", "x".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "x".to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        ("AWS_CONFIG_FILE", "/nonexistent/regionctl-test".to_owned()),
        (
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/regionctl-test".to_owned(),
        ),
    ]
}

#[test]
fn apply_records_outputs_and_output_prints_them_without_aws() {
    let emu = Emulator::start();
    let dir = fresh_dir("gitops", "outputs");
    write(
        &dir,
        "regionctl.yaml",
        "project: handoff\nbackend:\n  local: {}\n",
    );
    write(
        &dir,
        "envs/eu-west-1/main.yaml",
        "region: eu-west-1\nresources:\n  vpc.main:\n    cidr_block: 10.40.0.0/16\noutputs:\n  vpc_id: \"${vpc.main.id}\"\n  cidrs: [\"${vpc.main.cidr_block}\", 10.41.0.0/16]\n",
    );
    let applied = regionctl_env(
        &dir,
        &["apply", "--all-regions", "--auto-approve"],
        &emu.env(),
    );
    assert_eq!(applied.code, Some(0), "{}", applied.describe());

    // One value, bare, for shells; the emulator is not needed any more.
    let one = regionctl_env(&dir, &["output", "eu-west-1", "vpc_id"], &offline());
    assert_eq!(one.code, Some(0), "{}", one.describe());
    assert!(one.stdout.trim().starts_with("vpc-"), "{}", one.describe());
    // By directory, as JSON.
    let all = regionctl_env(&dir, &["output", "envs/eu-west-1", "--json"], &offline());
    assert_eq!(all.code, Some(0), "{}", all.describe());
    let doc: J = serde_json::from_str(&all.stdout).expect("JSON");
    assert_eq!(doc["format_version"], 1);
    assert_eq!(
        doc["environments"]["eu-west-1"]["vpc_id"],
        one.stdout.trim()
    );
    assert_eq!(
        doc["environments"]["eu-west-1"]["cidrs"],
        serde_json::json!(["10.40.0.0/16", "10.41.0.0/16"])
    );
    // A name that is not an output fails and says what there is.
    let missing = regionctl_env(&dir, &["output", "eu-west-1", "nope"], &offline());
    assert_eq!(missing.code, Some(1), "{}", missing.describe());
    assert!(
        missing.stderr.contains("cidrs, vpc_id"),
        "{}",
        missing.describe()
    );
    // An unknown environment is refused.
    let unknown = regionctl_env(&dir, &["output", "envs/mars-1", "vpc_id"], &offline());
    assert_eq!(unknown.code, Some(1), "{}", unknown.describe());

    // An output added later is recorded by the next apply, though it has nothing to change.
    write(
        &dir,
        "envs/eu-west-1/main.yaml",
        "region: eu-west-1\nresources:\n  vpc.main:\n    cidr_block: 10.40.0.0/16\noutputs:\n  vpc_id: \"${vpc.main.id}\"\n  cidrs: [\"${vpc.main.cidr_block}\", 10.41.0.0/16]\n  vpc_arn: \"${vpc.main.arn}\"\n",
    );
    let again = regionctl_env(
        &dir,
        &["apply", "--all-regions", "--auto-approve"],
        &emu.env(),
    );
    assert_eq!(again.code, Some(0), "{}", again.describe());
    assert!(
        again.stdout.contains("Nothing to do."),
        "{}",
        again.describe()
    );
    let arn = regionctl_env(&dir, &["output", "eu-west-1", "vpc_arn"], &offline());
    assert_eq!(arn.code, Some(0), "{}", arn.describe());
    assert!(arn.stdout.contains(":vpc/vpc-"), "{}", arn.describe());

    // After destroy nothing is known any more: the outputs are gone from the state.
    let destroyed = regionctl_env(
        &dir,
        &["destroy", "--all-regions", "--auto-approve"],
        &emu.env(),
    );
    assert_eq!(destroyed.code, Some(0), "{}", destroyed.describe());
    let after = regionctl_env(&dir, &["output", "eu-west-1", "vpc_id"], &offline());
    assert_eq!(after.code, Some(1), "{}", after.describe());
}

const USER_KUBECONFIG: &str = "\
apiVersion: v1
kind: Config
clusters:
- name: kind-dev
  cluster:
    server: https://127.0.0.1:6443
contexts:
- name: kind-dev
  context:
    cluster: kind-dev
    user: kind-dev
current-context: kind-dev
users:
- name: kind-dev
  user:
    token: secret
";

fn state(env: &str, cluster: &str) -> String {
    serde_json::json!({
        "format_version": 1,
        "regionctl_version": "0",
        "stack": "handoff",
        "env": env,
        "lineage": format!("lineage-{env}"),
        "serial": 3,
        "resources": {
            format!("{env}/eks_cluster.main"): {
                "kind": "eks_cluster",
                "region": env,
                "id": cluster,
                "arn": format!("arn:aws:eks:{env}:123456789012:cluster/{cluster}"),
                "attrs": {"name": cluster},
                "computed": {
                    "endpoint": format!("https://{cluster}.gr7.{env}.eks.amazonaws.com"),
                    "certificate_authority": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t",
                },
                "deps": [],
                "protect": false,
            }
        }
    })
    .to_string()
}

#[test]
fn kubeconfig_merges_one_context_per_cluster_and_keeps_the_users_own() {
    let dir = fresh_dir("gitops", "kubeconfig");
    write(
        &dir,
        "regionctl.yaml",
        "project: handoff\nbackend:\n  local: {}\n",
    );
    for env in ["eu-west-1", "us-east-1"] {
        write(
            &dir,
            &format!("envs/{env}/main.yaml"),
            &format!("region: {env}\n"),
        );
    }
    write(
        &dir,
        ".regionctl/state/eu-west-1.json",
        &state("eu-west-1", "prod-euw1"),
    );
    write(
        &dir,
        ".regionctl/state/us-east-1.json",
        &state("us-east-1", "prod-use1"),
    );
    write(&dir, "home/.kube/config", USER_KUBECONFIG);
    let kubeconfig = dir.join("home/.kube/config");

    let mut env = offline();
    env.push(("HOME", dir.join("home").display().to_string()));
    env.push(("AWS_PROFILE", "platform-admin".to_owned()));
    let run = regionctl_env(&dir, &["kubeconfig", "--all-regions"], &env);
    assert_eq!(run.code, Some(0), "{}", run.describe());
    assert!(
        run.stdout.contains("context eu-west-1"),
        "{}",
        run.describe()
    );
    let first = std::fs::read_to_string(&kubeconfig).expect("written");
    let doc: J = serde_saphyr::from_str(&first).expect("YAML");
    let contexts: Vec<&str> = doc["contexts"]
        .as_array()
        .expect("contexts")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(contexts, ["kind-dev", "eu-west-1", "us-east-1"]);
    assert_eq!(
        doc["current-context"], "kind-dev",
        "the user's current context is kept"
    );
    assert_eq!(doc["users"][0]["user"]["token"], "secret");
    let exec = &doc["users"][1]["user"]["exec"];
    assert_eq!(exec["command"], "aws");
    assert_eq!(exec["apiVersion"], "client.authentication.k8s.io/v1beta1");
    assert_eq!(exec["args"][1], "eu-west-1");
    assert_eq!(exec["args"][5], "prod-euw1");
    assert_eq!(exec["env"][0]["value"], "platform-admin");
    assert_eq!(
        doc["clusters"][1]["cluster"]["server"],
        "https://prod-euw1.gr7.eu-west-1.eks.amazonaws.com"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&kubeconfig)
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // A second run leaves the file as it was.
    let again = regionctl_env(&dir, &["kubeconfig", "--all-regions"], &env);
    assert_eq!(again.code, Some(0), "{}", again.describe());
    assert_eq!(std::fs::read_to_string(&kubeconfig).expect("read"), first);

    // One environment, to another file (--file wins over KUBECONFIG).
    env.push(("KUBECONFIG", dir.join("ignored").display().to_string()));
    let single = regionctl_env(
        &dir,
        &["kubeconfig", "envs/us-east-1", "--file", "ci.kubeconfig"],
        &env,
    );
    assert_eq!(single.code, Some(0), "{}", single.describe());
    let ci: J =
        serde_saphyr::from_str(&std::fs::read_to_string(dir.join("ci.kubeconfig")).expect("read"))
            .expect("YAML");
    assert_eq!(ci["current-context"], "us-east-1");
    assert_eq!(ci["contexts"].as_array().expect("contexts").len(), 1);
    assert!(!dir.join("ignored").exists());
}
