//! IAM roles declared in a regional environment, end to end with the built binary against the
//! emulator: an IRSA role for the EBS CSI driver trusting the region's OIDC provider (declared
//! in `global` it would make the cycle global -> region -> global), used by the
//! `aws-ebs-csi-driver` add-on, next to an access entry for CI and a cluster whose secrets are
//! encrypted with the region's KMS key. Apply, a no-change plan, adding encryption in place and
//! changing the key (a replacement), destroy, and nothing of the stack left, as boto3 sees it.

use std::path::Path;

use crate::harness::{Run, fresh_dir, regionctl_env};
use crate::support::emulator::Emulator;

const GLOBAL: &str = r#"global: true
resources:
  iam_role.cluster:
    name: irsa-eks-cluster
    assume_role_policy:
      Version: "2012-10-17"
      Statement:
        - Effect: Allow
          Principal: { Service: eks.amazonaws.com }
          Action: sts:AssumeRole
    managed_policy_arns: [arn:aws:iam::aws:policy/AmazonEKSClusterPolicy]
"#;

const REGIONAL: &str = r#"region: eu-west-1
resources:
  vpc.main:
    cidr_block: 10.40.0.0/16
  subnet.a:
    vpc_id: "${vpc.main.id}"
    availability_zone: eu-west-1a
    cidr_block: 10.40.0.0/20
  subnet.b:
    vpc_id: "${vpc.main.id}"
    availability_zone: eu-west-1b
    cidr_block: 10.40.16.0/20
  kms_key.eks:
    description: EKS secrets
    enable_key_rotation: true
  eks_cluster.main:
    name: irsa
    version: "1.31"
    role_arn: "${env.global.iam_role.cluster.arn}"
    subnet_ids: ["${subnet.a.id}", "${subnet.b.id}"]
    authentication_mode: API_AND_CONFIG_MAP
#ENCRYPTION
  iam_oidc_provider.eks:
    url: "${eks_cluster.main.oidc_issuer}"
  iam_role.ebs_csi:
    name: irsa-ebs-csi-eu-west-1
    assume_role_policy:
      Version: "2012-10-17"
      Statement:
        - Effect: Allow
          Principal: { Federated: "${iam_oidc_provider.eks.arn}" }
          Action: sts:AssumeRoleWithWebIdentity
          Condition:
            StringEquals:
              "${iam_oidc_provider.eks.issuer}:sub": system:serviceaccount:kube-system:ebs-csi-controller-sa
              "${iam_oidc_provider.eks.issuer}:aud": sts.amazonaws.com
    managed_policy_arns: [arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy]
  eks_addon.ebs_csi:
    cluster_name: "${eks_cluster.main.name}"
    addon_name: aws-ebs-csi-driver
    service_account_role_arn: "${iam_role.ebs_csi.arn}"
  eks_access_entry.ci:
    cluster_name: "${eks_cluster.main.name}"
    principal_arn: arn:aws:iam::123456789012:role/ci
    kubernetes_groups: [deployers]
    access_policies:
      - policy_arn: arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy
        access_scope: { type: cluster }
      - policy_arn: arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy
        access_scope: { type: namespace, namespaces: [team-b, team-a] }
"#;

fn write(dir: &Path, encryption: &str) {
    for (path, text) in [
        ("regionctl.yaml", "project: irsa\n".to_owned()),
        ("envs/global/main.yaml", GLOBAL.to_owned()),
        (
            "envs/eu-west-1/main.yaml",
            REGIONAL.replace("#ENCRYPTION\n", encryption),
        ),
    ] {
        let file = dir.join(path);
        std::fs::create_dir_all(file.parent().expect("a parent")).expect("mkdir");
        std::fs::write(file, text).expect("write the spec");
    }
}

fn run(dir: &Path, emu: &Emulator, args: &[&str]) -> Run {
    regionctl_env(dir, args, &emu.env())
}

/// What of the stack exists, as boto3 lists it.
fn inventory(emu: &Emulator) -> serde_json::Value {
    let script = r#"
eks = client('eks', 'eu-west-1')
iam = client('iam', 'us-east-1')
out = {'clusters': eks.list_clusters()['clusters'], 'roles': [], 'oidc': [], 'addons': [], 'entries': []}
out['roles'] = sorted(r['RoleName'] for r in iam.list_roles()['Roles'] if r['RoleName'].startswith('irsa-'))
out['oidc'] = [p['Arn'] for p in iam.list_open_id_connect_providers()['OpenIDConnectProviderList']]
for c in out['clusters']:
    out['addons'] += eks.list_addons(clusterName=c)['addons']
    out['entries'] += eks.list_access_entries(clusterName=c)['accessEntries']
    out['encryption'] = eks.describe_cluster(name=c)['cluster'].get('encryptionConfig', [])
print(json.dumps(out))
"#;
    serde_json::from_str(&emu.boto3(script)).expect("the inventory script prints JSON")
}

#[test]
fn an_irsa_role_in_a_regional_environment_applies_plans_clean_and_destroys() {
    let emu = Emulator::start();
    let dir = fresh_dir("apply", "irsa");
    write(&dir, "");

    let validate = run(&dir, &emu, &["validate"]);
    assert_eq!(validate.code, Some(0), "{}", validate.describe());

    let apply = run(&dir, &emu, &["apply", "--all-regions", "--auto-approve"]);
    assert_eq!(apply.code, Some(0), "{}", apply.describe());
    let inv = inventory(&emu);
    assert_eq!(inv["clusters"], serde_json::json!(["irsa"]), "{inv}");
    assert_eq!(
        inv["roles"],
        serde_json::json!(["irsa-ebs-csi-eu-west-1", "irsa-eks-cluster"]),
        "{inv}"
    );
    assert_eq!(
        inv["addons"],
        serde_json::json!(["aws-ebs-csi-driver"]),
        "{inv}"
    );
    assert_eq!(
        inv["entries"],
        serde_json::json!(["arn:aws:iam::123456789012:role/ci"]),
        "{inv}"
    );
    // The role's state lives in the environment that declares it, reached through IAM's
    // global endpoint.
    let state: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join(".regionctl/state/eu-west-1.json")).expect("state"),
    )
    .expect("JSON state");
    let role = &state["resources"]["eu-west-1/iam_role.ebs_csi"];
    assert_eq!(role["region"], "us-east-1", "{role}");
    let global: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join(".regionctl/state/global.json")).expect("state"),
    )
    .expect("JSON state");
    assert!(
        global["resources"]
            .as_object()
            .is_some_and(|r| r.keys().all(|k| k == "global/iam_role.cluster")),
        "{global}"
    );

    let plan = run(
        &dir,
        &emu,
        &["plan", "--all-regions", "--detailed-exitcode"],
    );
    assert_eq!(plan.code, Some(0), "{}", plan.describe());
    assert!(plan.stdout.contains("No changes."), "{}", plan.describe());

    // Secrets encryption added to the running cluster: an update in place, then clean.
    write(
        &dir,
        "    encryption_config: { key_arn: \"${kms_key.eks.arn}\" }\n",
    );
    let plan = run(
        &dir,
        &emu,
        &["plan", "--all-regions", "--detailed-exitcode"],
    );
    assert_eq!(plan.code, Some(2), "{}", plan.describe());
    assert!(
        plan.stdout
            .contains("eks_cluster.main (irsa) will be updated in place"),
        "{}",
        plan.describe()
    );
    let apply = run(&dir, &emu, &["apply", "--all-regions", "--auto-approve"]);
    assert_eq!(apply.code, Some(0), "{}", apply.describe());
    let inv = inventory(&emu);
    assert_eq!(inv["encryption"].as_array().map(Vec::len), Some(1), "{inv}");
    let plan = run(
        &dir,
        &emu,
        &["plan", "--all-regions", "--detailed-exitcode"],
    );
    assert_eq!(plan.code, Some(0), "{}", plan.describe());

    // Another key cannot be set in place: the cluster must be replaced.
    write(
        &dir,
        "    encryption_config: { key_arn: \"arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000\" }\n",
    );
    let plan = run(
        &dir,
        &emu,
        &["plan", "--all-regions", "--detailed-exitcode"],
    );
    assert!(
        plan.stdout
            .contains("eks_cluster.main (irsa) must be replaced"),
        "{}",
        plan.describe()
    );

    let destroy = run(
        &dir,
        &emu,
        &[
            "destroy",
            "--all-regions",
            "--auto-approve",
            "--allow-destroy",
            "eu-west-1/eks_cluster.main",
            "--allow-destroy",
            "eu-west-1/kms_key.eks",
        ],
    );
    assert_eq!(destroy.code, Some(0), "{}", destroy.describe());
    let inv = inventory(&emu);
    assert_eq!(inv["clusters"], serde_json::json!([]), "{inv}");
    assert_eq!(inv["roles"], serde_json::json!([]), "{inv}");
    assert_eq!(inv["oidc"], serde_json::json!([]), "{inv}");
}
