//! `regionctl apply` and `regionctl destroy` end to end: the built binary, on scratch copies of
//! the repository's platform and of the examples, against the AWS emulator (one per test). What
//! exists is checked by listing the emulator with boto3, the way a user with the AWS CLI would,
//! never by reading regionctl's own state.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value as J, json};

use crate::harness::{Run, copy_tree, fresh_dir, project_copy, regionctl_env, repo_root};
use crate::support::emulator::Emulator;
use crate::support::inventory::ADDED_KINDS_PY;

const ALL: &[&str] = &["--all-regions", "--auto-approve"];
const REGIONS: &[&str] = &["us-east-1", "eu-west-1", "ap-southeast-1"];

// ---------------------------------------------------------------------------------------------
// Plumbing

/// A scratch copy of one example of examples/.
fn example(example: &str, name: &str) -> PathBuf {
    let dir = fresh_dir("apply", name);
    copy_tree(&repo_root().join("examples").join(example), &dir);
    dir
}

fn run(dir: &Path, emu: &Emulator, command: &str, args: &[&str]) -> Run {
    let mut all = vec![command];
    all.extend_from_slice(args);
    regionctl_env(dir, &all, &emu.env())
}

fn apply(dir: &Path, emu: &Emulator, args: &[&str]) -> Run {
    run(dir, emu, "apply", args)
}

fn plan(dir: &Path, emu: &Emulator, args: &[&str]) -> Run {
    run(dir, emu, "plan", args)
}

/// `plan --all-regions --detailed-exitcode` must say "no changes" (exit 0).
fn assert_no_changes(dir: &Path, emu: &Emulator) {
    let p = plan(dir, emu, &["--all-regions", "--detailed-exitcode"]);
    assert_eq!(p.code, Some(0), "expected no changes: {}", p.describe());
    assert!(p.stdout.contains("No changes."), "{}", p.describe());
}

/// The addresses a `plan --json` proposes to change, with their actions.
fn planned_changes(dir: &Path, emu: &Emulator) -> BTreeMap<String, J> {
    let run = plan(
        dir,
        emu,
        &["--all-regions", "--json", "--detailed-exitcode"],
    );
    assert!(matches!(run.code, Some(0 | 2)), "{}", run.describe());
    let plan: J = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("plan --json printed no JSON ({e}):\n{}", run.describe()));
    plan["resource_changes"]
        .as_array()
        .expect("resource_changes is an array")
        .iter()
        .filter(|c| c["change"]["actions"] != json!(["no-op"]))
        .map(|c| {
            (
                c["address"].as_str().expect("address").to_owned(),
                c["change"]["actions"].clone(),
            )
        })
        .collect()
}

/// Replaces exactly one occurrence of `from` in a file of the project.
fn edit(dir: &Path, file: &str, from: &str, to: &str) {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).expect("read a spec file of the copy");
    assert_eq!(
        text.matches(from).count(),
        1,
        "{file} must hold {from:?} exactly once"
    );
    std::fs::write(&path, text.replacen(from, to, 1)).expect("write a spec file of the copy");
}

fn state_file(dir: &Path, env: &str) -> J {
    let path = dir.join(".regionctl/state").join(format!("{env}.json"));
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text).expect("a state file is JSON")
}

fn state_len(dir: &Path, env: &str) -> usize {
    state_file(dir, env)["resources"]
        .as_object()
        .expect("resources is an object")
        .len()
}

/// Everything in the emulator that belongs to `stack` (by its `regionctl:stack` tag where the
/// API filters on tags, else everything of the kind: each test has its own emulator), keyed
/// "<region> <kind>" or "<kind>" for global services (an OIDC provider under its cluster's
/// region). KMS aliases are listed by name, SNS subscriptions as "protocol endpoint". Empty
/// lists are left out.
fn inventory(emu: &Emulator, stack: &str, regions: &[&str]) -> BTreeMap<String, Vec<String>> {
    let script = format!(
        r#"
STACK = {stack:?}
REGIONS = {regions:?}
out = {{}}
tagf = [{{'Name': 'tag:regionctl:stack', 'Values': [STACK]}}]
for r in REGIONS:
    ec2 = client('ec2', r)
    out[r + ' vpc'] = [v['VpcId'] for v in ec2.describe_vpcs(Filters=tagf)['Vpcs']]
    out[r + ' subnet'] = [v['SubnetId'] for v in ec2.describe_subnets(Filters=tagf)['Subnets']]
    out[r + ' security_group'] = [v['GroupId'] for v in ec2.describe_security_groups(Filters=tagf)['SecurityGroups']]
    out[r + ' nat_gateway'] = [v['NatGatewayId'] for v in ec2.describe_nat_gateways(Filters=tagf)['NatGateways'] if v['State'] not in ('deleted', 'deleting')]
    out[r + ' route_table'] = [v['RouteTableId'] for v in ec2.describe_route_tables(Filters=tagf)['RouteTables']]
    out[r + ' internet_gateway'] = [v['InternetGatewayId'] for v in ec2.describe_internet_gateways(Filters=tagf)['InternetGateways']]
    out[r + ' elastic_ip'] = [v['AllocationId'] for v in ec2.describe_addresses(Filters=tagf)['Addresses']]
    out[r + ' eks_cluster'] = client('eks', r).list_clusters()['clusters']
    rds = client('rds', r)
    out[r + ' rds_instance'] = [d['DBInstanceIdentifier'] for d in rds.describe_db_instances()['DBInstances']]
    out[r + ' db_subnet_group'] = [d['DBSubnetGroupName'] for d in rds.describe_db_subnet_groups()['DBSubnetGroups']]
    ec = client('elasticache', r)
    out[r + ' replication_group'] = [g['ReplicationGroupId'] for g in ec.describe_replication_groups()['ReplicationGroups']]
    out[r + ' cache_subnet_group'] = [g['CacheSubnetGroupName'] for g in ec.describe_cache_subnet_groups()['CacheSubnetGroups'] if g['CacheSubnetGroupName'] != 'default']
iam = client('iam', 'us-east-1')
out['iam_role'] = [x['RoleName'] for x in iam.list_roles()['Roles'] if not x['Path'].startswith('/aws-service-role/')]
r53 = client('route53', 'us-east-1')
out['route53_zone'] = [z['Name'] for z in r53.list_hosted_zones()['HostedZones']]
out['route53_health_check'] = [h['Id'] for h in r53.list_health_checks()['HealthChecks']]
def found(kind, region, tags, ident):
    out.setdefault(region + ' ' + kind, []).append(ident)
def unkeyed(kind, region, key, ident, owner):
    out.setdefault(region + ' ' + kind, []).append(key)
list_added_kinds(found, unkeyed, REGIONS)
print(json.dumps({{k: sorted(v) for k, v in out.items() if v}}))
"#
    );
    let script = format!("{ADDED_KINDS_PY}\n{script}");
    serde_json::from_str(&emu.boto3(&script)).expect("the inventory script prints JSON")
}

/// What the grown platform wires together, read back from the emulator in each region: the
/// region's key encrypts the database, the cache, the log group and the alert topic; the cluster
/// logs api, audit and authenticator; the node group starts from the IMDSv2-only template; the
/// CPU alarm watches the node group's Auto Scaling group and notifies the topic; the OIDC
/// provider is the cluster's issuer; the registry replicates to the two other regions.
fn platform_facts(emu: &Emulator) {
    let script = r#"
out = {}
for r, name in [('us-east-1', 'prod-use1'), ('eu-west-1', 'prod-euw1'), ('ap-southeast-1', 'prod-apse1')]:
    key = client('kms', r).describe_key(KeyId='alias/' + name + '/data')['KeyMetadata']
    eks = client('eks', r)
    cluster = eks.describe_cluster(name=name)['cluster']
    logged = sorted(t for l in cluster['logging']['clusterLogging'] if l.get('enabled') for t in l['types'])
    ng = eks.describe_nodegroup(clusterName=name, nodegroupName=name + '-default')['nodegroup']
    ec2 = client('ec2', r)
    lt = ec2.describe_launch_template_versions(LaunchTemplateId=ng['launchTemplate']['id'], Versions=['$Default'])['LaunchTemplateVersions'][0]
    data = lt['LaunchTemplateData']
    ebs = data['BlockDeviceMappings'][0]['Ebs']
    db = client('rds', r).describe_db_instances(DBInstanceIdentifier=name + '-app')['DBInstances'][0]
    rg = client('elasticache', r).describe_replication_groups(ReplicationGroupId=name + '-app')['ReplicationGroups'][0]
    lg = client('logs', r).describe_log_groups(logGroupNamePrefix='/aws/eks/' + name + '/cluster')['logGroups'][0]
    sns = client('sns', r)
    topic = [t['TopicArn'] for t in sns.list_topics()['Topics'] if t['TopicArn'].endswith(':' + name + '-alerts')][0]
    topic_key = sns.get_topic_attributes(TopicArn=topic)['Attributes'].get('KmsMasterKeyId')
    alarm = client('cloudwatch', r).describe_alarms(AlarmNames=[name + '-node-cpu-high'])['MetricAlarms'][0]
    dims = {d['Name']: d['Value'] for d in alarm['Dimensions']}
    asg = ng['resources']['autoScalingGroups'][0]['name']
    oidc = [p['Arn'] for p in client('iam', r).list_open_id_connect_providers()['OpenIDConnectProviderList']]
    issuer = cluster['identity']['oidc']['issuer'].replace('https://', '')
    out[r] = {
        'rotation': client('kms', r).get_key_rotation_status(KeyId=key['KeyId'])['KeyRotationEnabled'],
        'encrypted with the key': [x == key['Arn'] for x in [db.get('KmsKeyId'), rg.get('KmsKeyId'), lg.get('kmsKeyId'), topic_key]],
        'logging': logged,
        'log retention': lg.get('retentionInDays'),
        'imds': [data['MetadataOptions'].get('HttpTokens'), data['MetadataOptions'].get('HttpPutResponseHopLimit')],
        'root volume': [ebs.get('VolumeSize'), ebs.get('VolumeType'), ebs.get('Encrypted')],
        'node disk size set': 'diskSize' in ng,
        'node template version': ng['launchTemplate']['version'] == str(lt['VersionNumber']),
        'alarm': [alarm['Namespace'], alarm['MetricName'], dims == {'AutoScalingGroupName': asg}, alarm['Threshold'], alarm['Period'] * alarm['EvaluationPeriods'], alarm['AlarmActions'] == [topic]],
        'oidc provider for the issuer': sum(a.endswith('oidc-provider/' + issuer) for a in oidc),
    }
rules = client('ecr', 'us-east-1').describe_registry()['replicationConfiguration']['rules']
out['replicated to'] = sorted(d['region'] for rule in rules for d in rule['destinations'])
print(json.dumps(out))
"#;
    let facts: J = serde_json::from_str(&emu.boto3(script)).expect("the facts script prints JSON");
    for region in REGIONS {
        assert_eq!(
            facts[*region],
            json!({
                "rotation": true,
                "encrypted with the key": [true, true, true, true],
                "logging": ["api", "audit", "authenticator"],
                "log retention": 90,
                "imds": ["required", 1],
                "root volume": [50, "gp3", true],
                "node disk size set": false,
                "node template version": true,
                "alarm": ["AWS/EC2", "CPUUtilization", true, 75.0, 300, true],
                "oidc provider for the issuer": 1,
            }),
            "{region}: {facts:#}"
        );
    }
    assert_eq!(
        facts["replicated to"],
        json!(["ap-southeast-1", "eu-west-1"])
    );
}

fn count(inv: &BTreeMap<String, Vec<String>>, key: &str) -> usize {
    inv.get(key).map_or(0, Vec::len)
}

// ---------------------------------------------------------------------------------------------
// Tests

#[test]
fn the_platform_lives_through_apply_change_drift_repair_and_destroy() {
    let emu = Emulator::start();
    let dir = project_copy("apply", "lifecycle");

    let first = apply(&dir, &emu, ALL);
    assert_eq!(first.code, Some(0), "{}", first.describe());
    assert!(
        first.stdout.contains("\nApply complete: 121 changes in "),
        "{}",
        first.describe()
    );
    // One "created" line per resource.
    let created = first
        .stdout
        .lines()
        .filter(|l| l.contains(": created ("))
        .count();
    assert_eq!(created, 121, "{}", first.describe());

    let inv = inventory(&emu, "platform", REGIONS);
    for region in REGIONS {
        assert_eq!(count(&inv, &format!("{region} vpc")), 1, "{inv:?}");
        assert_eq!(count(&inv, &format!("{region} subnet")), 6, "{inv:?}");
        assert_eq!(
            count(&inv, &format!("{region} security_group")),
            3,
            "{inv:?}"
        );
        assert_eq!(count(&inv, &format!("{region} nat_gateway")), 1, "{inv:?}");
        assert_eq!(count(&inv, &format!("{region} route_table")), 2, "{inv:?}");
        assert_eq!(
            count(&inv, &format!("{region} internet_gateway")),
            1,
            "{inv:?}"
        );
        assert_eq!(count(&inv, &format!("{region} eks_cluster")), 1, "{inv:?}");
        assert_eq!(count(&inv, &format!("{region} rds_instance")), 1, "{inv:?}");
        assert_eq!(
            count(&inv, &format!("{region} replication_group")),
            1,
            "{inv:?}"
        );
        for kind in [
            "kms_key",
            "kms_alias",
            "cloudwatch_log_group",
            "launch_template",
            "iam_oidc_provider",
            "sns_topic",
            "sns_subscription",
            "cloudwatch_metric_alarm",
        ] {
            assert_eq!(
                count(&inv, &format!("{region} {kind}")),
                1,
                "{kind}: {inv:?}"
            );
        }
        assert_eq!(
            inv[&format!("{region} eks_addon")].len(),
            5,
            "vpc-cni, kube-proxy, eks-pod-identity-agent, coredns, aws-ebs-csi-driver: {inv:?}"
        );
        assert_eq!(
            inv[&format!("{region} sns_subscription")],
            ["email platform-oncall@example.com"],
            "{inv:?}"
        );
    }
    // One repository, in us-east-1, and the registry there replicating to the other regions.
    assert_eq!(inv["us-east-1 ecr_repository"], ["platform/app"], "{inv:?}");
    assert_eq!(count(&inv, "eu-west-1 ecr_repository"), 0, "{inv:?}");
    assert_eq!(count(&inv, "ap-southeast-1 ecr_repository"), 0, "{inv:?}");
    assert_eq!(
        count(&inv, "us-east-1 ecr_replication_configuration"),
        1,
        "{inv:?}"
    );
    platform_facts(&emu);
    assert_eq!(
        inv["iam_role"],
        [
            "platform-ci-deployer",
            "platform-eks-cluster",
            "platform-eks-node",
            "prod-apse1-ebs-csi",
            "prod-apse1-lb-controller",
            "prod-euw1-ebs-csi",
            "prod-euw1-lb-controller",
            "prod-use1-ebs-csi",
            "prod-use1-lb-controller",
        ],
        "{inv:?}"
    );
    assert_eq!(inv["route53_zone"], ["example.com."], "{inv:?}");
    assert_eq!(count(&inv, "route53_health_check"), 3, "{inv:?}");
    // 36 per region (one module call), and the registry's two in us-east-1.
    assert_eq!(state_len(&dir, "us-east-1"), 38);
    for env in ["eu-west-1", "ap-southeast-1"] {
        assert_eq!(state_len(&dir, env), 36, "{env}");
    }
    assert_eq!(state_len(&dir, "global"), 11);

    assert_no_changes(&dir, &emu);
    // `regionctl inventory` finds every resource, untagged kinds (KMS aliases, SNS
    // subscriptions, the registry's replication) and OIDC providers through the state's ids.
    let listing = run(
        &dir,
        &emu,
        "inventory",
        &["--all-regions", "--format", "json"],
    );
    assert_eq!(listing.code, Some(0), "{}", listing.describe());
    let listed: J = serde_json::from_str(&listing.stdout).expect("inventory --format json");
    let envs = listed["environments"].as_array().expect("environments");
    assert_eq!(envs.len(), 4, "{}", listing.stdout);
    for env in envs {
        assert_eq!(env["missing"], serde_json::json!([]), "{}", listing.stdout);
    }

    // Three edits: scale eu-west-1's node group, resize us-east-1's database, add a subnet.
    edit(
        &dir,
        "envs/eu-west-1/main.yaml",
        "      kubernetes_version: \"1.31\"\n",
        "      kubernetes_version: \"1.31\"\n      node_desired: 4\n",
    );
    edit(
        &dir,
        "envs/us-east-1/main.yaml",
        "      kubernetes_version: \"1.31\"\n",
        "      kubernetes_version: \"1.31\"\n      db_instance_class: db.r6g.xlarge\n",
    );
    edit(
        &dir,
        "envs/us-east-1/main.yaml",
        "\nresources:\n",
        "\nresources:\n  subnet.extra:\n    vpc_id: \"${module.platform.vpc_id}\"\n    \
         availability_zone: us-east-1a\n    cidr_block: 10.10.200.0/24\n    tags:\n      \
         Name: prod-use1-extra\n\n",
    );
    // A fourth: keep ap-southeast-1's control-plane logs 30 days instead of 90.
    edit(
        &dir,
        "envs/ap-southeast-1/main.yaml",
        "      node_max: 4\n",
        "      node_max: 4\n      log_retention_days: 30\n",
    );
    let human = plan(&dir, &emu, &["--all-regions", "--detailed-exitcode"]);
    assert_eq!(human.code, Some(2), "{}", human.describe());
    assert!(
        human.stdout.contains("~ desired: 3 → 4"),
        "{}",
        human.describe()
    );
    assert!(
        human
            .stdout
            .contains("~ instance_class: \"db.r6g.large\" → \"db.r6g.xlarge\""),
        "{}",
        human.describe()
    );
    assert!(
        human.stdout.contains(
            "Plan: 1 to add, 3 to change, 0 to replace, 0 to destroy in 3 regions and global."
        ),
        "{}",
        human.describe()
    );
    assert!(
        human.stdout.contains("~ retention_in_days: 90 → 30"),
        "{}",
        human.describe()
    );
    let expected: BTreeMap<String, J> = [
        (
            "ap-southeast-1/module.platform.cloudwatch_log_group.cluster",
            json!(["update"]),
        ),
        (
            "eu-west-1/module.platform.eks_node_group.default",
            json!(["update"]),
        ),
        (
            "us-east-1/module.platform.rds_instance.app",
            json!(["update"]),
        ),
        ("us-east-1/subnet.extra", json!(["create"])),
    ]
    .into_iter()
    .map(|(a, j)| (a.to_owned(), j))
    .collect();
    assert_eq!(planned_changes(&dir, &emu), expected);

    let second = apply(&dir, &emu, ALL);
    assert_eq!(second.code, Some(0), "{}", second.describe());
    assert!(
        second.stdout.contains("\nApply complete: 4 changes in "),
        "{}",
        second.describe()
    );
    assert_no_changes(&dir, &emu);
    let facts = emu.boto3(
        "ng = client('eks', 'eu-west-1').describe_nodegroup(clusterName='prod-euw1', \
         nodegroupName='prod-euw1-default')['nodegroup']\n\
         db = client('rds', 'us-east-1').describe_db_instances(\
         DBInstanceIdentifier='prod-use1-app')['DBInstances'][0]\n\
         sn = client('ec2', 'us-east-1').describe_subnets(Filters=[{'Name': 'cidr-block', \
         'Values': ['10.10.200.0/24']}])['Subnets']\n\
         lg = client('logs', 'ap-southeast-1').describe_log_groups(\
         logGroupNamePrefix='/aws/eks/prod-apse1/cluster')['logGroups'][0]\n\
         print(json.dumps([ng['scalingConfig']['desiredSize'], db['DBInstanceClass'], len(sn), \
         lg['retentionInDays']]))",
    );
    assert_eq!(
        serde_json::from_str::<J>(&facts).expect("JSON"),
        json!([4, "db.r6g.xlarge", 1, 30])
    );

    // Drift: the VPC's Name tag changed behind regionctl's back, and someone cut the
    // control-plane logs' retention to a day; apply puts both back.
    emu.boto3(
        "ec2 = client('ec2', 'eu-west-1')\n\
         vpc = ec2.describe_vpcs(Filters=[{'Name': 'tag:regionctl:address', \
         'Values': ['eu-west-1/module.platform.vpc.main']}])['Vpcs'][0]['VpcId']\n\
         ec2.create_tags(Resources=[vpc], Tags=[{'Key': 'Name', 'Value': 'hacked'}])\n\
         client('logs', 'eu-west-1').put_retention_policy(\
         logGroupName='/aws/eks/prod-euw1/cluster', retentionInDays=1)\n",
    );
    assert_eq!(
        planned_changes(&dir, &emu),
        [
            (
                "eu-west-1/module.platform.cloudwatch_log_group.cluster".to_owned(),
                json!(["update"])
            ),
            (
                "eu-west-1/module.platform.vpc.main".to_owned(),
                json!(["update"])
            ),
        ]
        .into_iter()
        .collect::<BTreeMap<_, _>>()
    );
    let repair = apply(&dir, &emu, ALL);
    assert_eq!(repair.code, Some(0), "{}", repair.describe());
    assert!(
        repair
            .stdout
            .contains("eu-west-1/module.platform.vpc.main: updated (vpc-"),
        "{}",
        repair.describe()
    );
    assert!(
        repair.stdout.contains("\nApply complete: 2 changes in "),
        "{}",
        repair.describe()
    );
    let name = emu.boto3(
        "vpc = client('ec2', 'eu-west-1').describe_vpcs(Filters=[{'Name': \
         'tag:regionctl:address', 'Values': ['eu-west-1/module.platform.vpc.main']}])['Vpcs'][0]\n\
         lg = client('logs', 'eu-west-1').describe_log_groups(\
         logGroupNamePrefix='/aws/eks/prod-euw1/cluster')['logGroups'][0]\n\
         print([t['Value'] for t in vpc['Tags'] if t['Key'] == 'Name'][0], lg['retentionInDays'])",
    );
    assert_eq!(name.trim(), "prod-euw1 90");
    assert_no_changes(&dir, &emu);

    // Destroy: protected clusters and databases need --allow-destroy.
    let before = inventory(&emu, "platform", REGIONS);
    assert_eq!(count(&before, "us-east-1 subnet"), 7, "{before:?}");
    let refused = run(&dir, &emu, "destroy", ALL);
    assert_eq!(refused.code, Some(1), "{}", refused.describe());
    assert!(
        refused.stderr.contains(
            "refusing to destroy eu-west-1/module.platform.eks_cluster.main: it is marked \
             `protect: true`"
        ),
        "{}",
        refused.describe()
    );
    assert_eq!(
        inventory(&emu, "platform", REGIONS),
        before,
        "a refused destroy deleted something"
    );

    let destroy = run(
        &dir,
        &emu,
        "destroy",
        &["--all-regions", "--auto-approve", "--allow-destroy", "*"],
    );
    assert_eq!(destroy.code, Some(0), "{}", destroy.describe());
    assert!(
        destroy
            .stdout
            .contains("\nDestroy complete: 122 changes in "),
        "{}",
        destroy.describe()
    );
    let left = inventory(&emu, "platform", REGIONS);
    assert!(left.is_empty(), "left behind after destroy: {left:?}");
    for env in ["us-east-1", "eu-west-1", "ap-southeast-1", "global"] {
        assert_eq!(state_len(&dir, env), 0, "{env}");
    }
}

#[test]
fn the_dr_example_promotes_its_replica_applies_and_destroys() {
    let emu = Emulator::start();
    let dir = example("active-passive-dr", "dr");
    let first = apply(&dir, &emu, ALL);
    assert_eq!(first.code, Some(0), "{}", first.describe());
    assert!(
        first.stdout.contains("\nApply complete: 31 changes in "),
        "{}",
        first.describe()
    );
    // The replica was created after its source, in another region.
    let pos = |needle: &str| {
        first
            .stdout
            .find(needle)
            .unwrap_or_else(|| panic!("{needle:?} missing: {}", first.describe()))
    };
    assert!(
        pos("us-east-1/rds_instance.app: created")
            < pos("us-west-2/rds_instance.app_replica: creating...")
    );
    assert_no_changes(&dir, &emu);
    let source = emu.boto3(
        "db = client('rds', 'us-west-2').describe_db_instances(\
         DBInstanceIdentifier='dr-app-replica')['DBInstances'][0]\n\
         print(db.get('ReadReplicaSourceDBInstanceIdentifier', ''))",
    );
    assert!(source.contains("dr-app"), "the replica's source: {source}");
    // The replica is encrypted with us-west-2's own key; each region's alarms notify that
    // region's topic; the health check alarm (Route 53 metrics exist in us-east-1 only) watches
    // the primary's health check; the registry replicates to the standby region.
    let facts = emu.boto3(
        r#"
out = {}
key = client('kms', 'us-west-2').describe_key(KeyId='alias/dr-usw2/data')['KeyMetadata']['Arn']
db = client('rds', 'us-west-2').describe_db_instances(DBInstanceIdentifier='dr-app-replica')['DBInstances'][0]
out['replica key is us-west-2 key'] = db.get('KmsKeyId') == key
r53 = client('route53', 'us-east-1')
primary = [h['Id'] for h in r53.list_health_checks()['HealthChecks'] if h['HealthCheckConfig'].get('FullyQualifiedDomainName', '').startswith('app-use1-')]
for r in ['us-east-1', 'us-west-2']:
    topics = [t['TopicArn'] for t in client('sns', r).list_topics()['Topics']]
    for a in client('cloudwatch', r).describe_alarms()['MetricAlarms']:
        dims = {d['Name']: d['Value'] for d in a['Dimensions']}
        dim = dims.get('HealthCheckId')
        out[r + ' ' + a['AlarmName']] = [a['Namespace'], a['MetricName'], sorted(dims), dim == primary[0] if dim else None, a['AlarmActions'] == topics]
rules = client('ecr', 'us-east-1').describe_registry()['replicationConfiguration']['rules']
out['replicated to'] = sorted(d['region'] for rule in rules for d in rule['destinations'])
print(json.dumps(out))
"#,
    );
    assert_eq!(
        serde_json::from_str::<J>(&facts).expect("JSON"),
        json!({
            "replica key is us-west-2 key": true,
            "us-east-1 dr-primary-unhealthy":
                ["AWS/Route53", "HealthCheckStatus", ["HealthCheckId"], true, true],
            "us-east-1 dr-use1-node-cpu-high":
                ["ContainerInsights", "node_cpu_utilization", ["ClusterName"], null, true],
            "us-west-2 dr-replica-lag-high":
                ["AWS/RDS", "ReplicaLag", ["DBInstanceIdentifier"], null, true],
            "us-west-2 dr-usw2-node-cpu-high":
                ["ContainerInsights", "node_cpu_utilization", ["ClusterName"], null, true],
            "replicated to": ["us-west-2"],
        })
    );

    // Promote as the example's README says: remove `replicate_from`, state what a standalone
    // instance needs.
    edit(
        &dir,
        "envs/us-west-2/main.yaml",
        "    replicate_from: \"${env.us-east-1.rds_instance.app.arn}\"\n",
        "",
    );
    edit(
        &dir,
        "envs/us-west-2/main.yaml",
        "    instance_class: db.r6g.large\n",
        "    instance_class: db.r6g.large\n    engine: mysql\n    master_username: admin\n    \
         manage_master_user_password: true\n    allocated_storage: 100\n    \
         storage_encrypted: true\n",
    );
    let p = plan(&dir, &emu, &["--all-regions", "--detailed-exitcode"]);
    assert_eq!(p.code, Some(2), "{}", p.describe());
    assert!(
        p.stdout.contains(
            "~ us-west-2/rds_instance.app_replica (dr-app-replica) will be updated in place"
        ) && p.stdout.contains("- replicate_from:"),
        "{}",
        p.describe()
    );
    assert_eq!(
        planned_changes(&dir, &emu),
        [(
            "us-west-2/rds_instance.app_replica".to_owned(),
            json!(["update"])
        )]
        .into_iter()
        .collect::<BTreeMap<_, _>>()
    );
    let promote = apply(&dir, &emu, ALL);
    assert_eq!(promote.code, Some(0), "{}", promote.describe());
    assert!(
        promote
            .stdout
            .contains("us-west-2/rds_instance.app_replica: updated (dr-app-replica)"),
        "{}",
        promote.describe()
    );
    let source = emu.boto3(
        "db = client('rds', 'us-west-2').describe_db_instances(\
         DBInstanceIdentifier='dr-app-replica')['DBInstances'][0]\n\
         print(repr(db.get('ReadReplicaSourceDBInstanceIdentifier')))",
    );
    assert_eq!(source.trim(), "None", "promoted: no source any more");
    assert_no_changes(&dir, &emu);

    let destroy = run(
        &dir,
        &emu,
        "destroy",
        &["--all-regions", "--auto-approve", "--allow-destroy", "*"],
    );
    assert_eq!(destroy.code, Some(0), "{}", destroy.describe());
    let left = inventory(&emu, "dr", &["us-east-1", "us-west-2"]);
    assert!(left.is_empty(), "left behind after destroy: {left:?}");
    for env in ["us-east-1", "us-west-2", "global"] {
        assert_eq!(state_len(&dir, env), 0, "{env}");
    }
}

#[test]
fn a_stale_saved_plan_is_refused_and_a_fresh_one_applies() {
    let emu = Emulator::start();
    let dir = project_copy("apply", "stale-plan");

    // 1. The spec changed after the plan was saved.
    let saved = plan(&dir, &emu, &["--all-regions", "--out", "p.json"]);
    assert_eq!(saved.code, Some(0), "{}", saved.describe());
    edit(
        &dir,
        "envs/eu-west-1/main.yaml",
        "      kubernetes_version: \"1.31\"\n",
        "      kubernetes_version: \"1.31\"\n      node_desired: 4\n",
    );
    let stale = apply(&dir, &emu, &["p.json", "--auto-approve"]);
    assert_eq!(stale.code, Some(1), "{}", stale.describe());
    assert!(
        stale.stderr.contains("stale plan") && stale.stderr.contains("the spec changed"),
        "{}",
        stale.describe()
    );
    assert!(
        inventory(&emu, "platform", REGIONS).is_empty(),
        "a refused plan created something"
    );
    assert!(!dir.join(".regionctl/state/global.json").exists());

    // 2. A state moved (another apply) after the plan was saved.
    let saved = plan(&dir, &emu, &["--all-regions", "--out", "p.json"]);
    assert_eq!(saved.code, Some(0), "{}", saved.describe());
    let global = apply(&dir, &emu, &["--region", "global", "--auto-approve"]);
    assert_eq!(global.code, Some(0), "{}", global.describe());
    let serial = state_file(&dir, "global")["serial"].clone();
    assert!(serial.as_u64().is_some_and(|s| s > 0), "{serial}");
    let stale = apply(&dir, &emu, &["p.json", "--auto-approve"]);
    assert_eq!(stale.code, Some(1), "{}", stale.describe());
    assert!(
        stale.stderr.contains("stale plan") && stale.stderr.contains("the state of global changed"),
        "{}",
        stale.describe()
    );
    assert_eq!(
        state_file(&dir, "global")["serial"],
        serial,
        "nothing written"
    );
    let inv = inventory(&emu, "platform", REGIONS);
    assert_eq!(count(&inv, "us-east-1 vpc"), 0, "{inv:?}");
    assert_eq!(count(&inv, "iam_role"), 3, "{inv:?}");

    // 3. A fresh plan applies, and exactly its changes.
    let saved = plan(&dir, &emu, &["--all-regions", "--out", "p.json"]);
    assert_eq!(saved.code, Some(0), "{}", saved.describe());
    let fresh = apply(&dir, &emu, &["p.json", "--auto-approve"]);
    assert_eq!(fresh.code, Some(0), "{}", fresh.describe());
    assert!(
        fresh.stdout.contains("\nApply complete: 110 changes in "),
        "{}",
        fresh.describe()
    );
    assert_no_changes(&dir, &emu);
}

#[test]
fn a_second_apply_on_a_locked_state_fails_fast_naming_the_holder() {
    let emu = Emulator::start();
    let dir = project_copy("apply", "locked");
    emu.set_delay("eks_cluster", 100);

    let mut command = Command::new(crate::harness::bin());
    command
        .args(["apply", "--all-regions", "--auto-approve"])
        .current_dir(&dir)
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, _) in std::env::vars() {
        if key.starts_with("AWS_") {
            command.env_remove(key);
        }
    }
    command.envs(emu.env());
    let mut first = command.spawn().expect("start the first apply");

    // Locks are taken in environment name order; the last one held means all are.
    let lock = dir.join(".regionctl/state/us-east-1.lock");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !lock.exists() {
        assert!(Instant::now() < deadline, "the first apply never locked");
        assert!(
            first.try_wait().expect("poll the first apply").is_none(),
            "the first apply ended before it locked"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let held: J = serde_json::from_str(
        &std::fs::read_to_string(dir.join(".regionctl/state/ap-southeast-1.lock"))
            .expect("read the first environment's lock"),
    )
    .expect("a lock is JSON");

    let started = Instant::now();
    let second = apply(&dir, &emu, ALL);
    let took = started.elapsed();
    assert_eq!(second.code, Some(1), "{}", second.describe());
    assert!(
        first.try_wait().expect("poll the first apply").is_none(),
        "the second apply must have run while the first held the lock"
    );
    let id = held["id"].as_str().expect("the lock has an id");
    let pid = held["pid"].as_u64().expect("the lock names a pid");
    assert_eq!(pid, u64::from(first.id()));
    for needle in [
        "the state of ap-southeast-1 is locked by ".to_owned(),
        format!("(pid {pid} on "),
        "running `apply`".to_owned(),
        format!("lock id: {id}"),
    ] {
        assert!(
            second.stderr.contains(&needle),
            "{needle}: {}",
            second.describe()
        );
    }
    assert!(
        took < Duration::from_secs(10),
        "fails fast, never waits: {took:?}"
    );
    assert!(!second.stdout.contains("creating"), "{}", second.describe());

    let out = first.wait_with_output().expect("the first apply ends");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("\nApply complete: 121 changes in "),
        "{stdout}"
    );
    for env in ["us-east-1", "eu-west-1", "ap-southeast-1", "global"] {
        assert!(
            !dir.join(format!(".regionctl/state/{env}.lock")).exists(),
            "{env} stays locked"
        );
    }
    assert_no_changes(&dir, &emu);
}

#[test]
fn one_failing_region_does_not_stop_the_others() {
    let emu = Emulator::start();
    let dir = project_copy("apply", "failure");
    // Someone else's DB subnet group already has the name eu-west-1's would get: AWS refuses
    // the create (DBSubnetGroupAlreadyExists), which no plan can foresee.
    emu.boto3(
        "ec2 = client('ec2', 'eu-west-1')\n\
         vpc = ec2.create_vpc(CidrBlock='172.16.0.0/16')['Vpc']['VpcId']\n\
         a = ec2.create_subnet(VpcId=vpc, CidrBlock='172.16.0.0/24', \
         AvailabilityZone='eu-west-1a')['Subnet']['SubnetId']\n\
         b = ec2.create_subnet(VpcId=vpc, CidrBlock='172.16.1.0/24', \
         AvailabilityZone='eu-west-1b')['Subnet']['SubnetId']\n\
         client('rds', 'eu-west-1').create_db_subnet_group(DBSubnetGroupName='prod-euw1-app', \
         DBSubnetGroupDescription='squatter', SubnetIds=[a, b])\n",
    );
    let failed = apply(&dir, &emu, ALL);
    assert_eq!(failed.code, Some(1), "{}", failed.describe());
    let out = &failed.stdout;
    assert!(
        out.contains("\nApply incomplete: 119 applied, 1 failed, 1 skipped in "),
        "{}",
        failed.describe()
    );
    let failed_line = out
        .lines()
        .find(|l| l.starts_with("  failed   "))
        .unwrap_or_else(|| panic!("no failed line in the summary: {}", failed.describe()));
    assert!(
        failed_line
            .starts_with("  failed   eu-west-1/module.platform.db_subnet_group.app (creating): ")
            && failed_line.contains(" in eu-west-1: ")
            && failed_line.contains("DBSubnetGroupAlreadyExists"),
        "{failed_line}"
    );
    assert!(
        out.contains("\n  skipped  eu-west-1/module.platform.rds_instance.app (creating)\n"),
        "{}",
        failed.describe()
    );
    assert!(
        out.contains(
            "eu-west-1/module.platform.rds_instance.app: skipped \
             (eu-west-1/module.platform.db_subnet_group.app failed)"
        ),
        "{}",
        failed.describe()
    );

    let inv = inventory(&emu, "platform", REGIONS);
    for region in ["us-east-1", "ap-southeast-1"] {
        assert_eq!(count(&inv, &format!("{region} rds_instance")), 1, "{inv:?}");
        assert_eq!(count(&inv, &format!("{region} eks_cluster")), 1, "{inv:?}");
        assert_eq!(
            count(&inv, &format!("{region} replication_group")),
            1,
            "{inv:?}"
        );
    }
    assert_eq!(count(&inv, "eu-west-1 rds_instance"), 0, "{inv:?}");
    // What does not depend on the failed resource still completed in eu-west-1.
    assert_eq!(count(&inv, "eu-west-1 eks_cluster"), 1, "{inv:?}");
    assert_eq!(count(&inv, "eu-west-1 replication_group"), 1, "{inv:?}");
    assert_eq!(state_len(&dir, "us-east-1"), 38);
    assert_eq!(state_len(&dir, "ap-southeast-1"), 36);
    assert_eq!(state_len(&dir, "eu-west-1"), 34);
    assert_eq!(state_len(&dir, "global"), 11);
    assert_eq!(
        planned_changes(&dir, &emu),
        [
            (
                "eu-west-1/module.platform.db_subnet_group.app".to_owned(),
                json!(["create"])
            ),
            (
                "eu-west-1/module.platform.rds_instance.app".to_owned(),
                json!(["create"])
            ),
        ]
        .into_iter()
        .collect::<BTreeMap<_, _>>()
    );
}

#[test]
fn the_json_event_stream_is_one_object_per_line_with_a_summary() {
    let emu = Emulator::start();
    let dir = project_copy("apply", "json");
    let run = apply(&dir, &emu, &["--all-regions", "--auto-approve", "--json"]);
    assert_eq!(run.code, Some(0), "{}", run.describe());
    let events: Vec<J> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l:?}")))
        .collect();
    let of = |kind: &str| -> Vec<&J> { events.iter().filter(|e| e["event"] == kind).collect() };
    let started = of("started");
    let finished = of("finished");
    assert_eq!(started.len(), 121, "{}", run.stdout);
    assert_eq!(finished.len(), 121, "{}", run.stdout);
    assert!(of("failed").is_empty() && of("skipped").is_empty());
    let vpc = finished
        .iter()
        .find(|e| e["addr"] == "eu-west-1/module.platform.vpc.main")
        .expect("the VPC's finished event");
    assert_eq!(vpc["action"], "create");
    assert_eq!(vpc["region"], "eu-west-1");
    assert!(
        vpc["id"].as_str().is_some_and(|id| id.starts_with("vpc-")),
        "{vpc}"
    );
    assert!(vpc["elapsed"].is_number(), "{vpc}");
    // Every finish follows its start.
    for f in &finished {
        let i = events.iter().position(|e| e == *f).expect("present");
        assert!(
            events[..i]
                .iter()
                .any(|e| e["event"] == "started" && e["addr"] == f["addr"]),
            "{f}"
        );
    }
    let last = events.last().expect("at least one line");
    assert_eq!(last["event"], "summary", "{last}");
    assert_eq!(last["ok"], true);
    assert_eq!(last["applied"].as_array().map(Vec::len), Some(121));
    assert_eq!(last["failed"], json!([]));
    assert_eq!(last["skipped"], json!([]));
    assert_eq!(of("summary").len(), 1);
}

#[test]
fn without_a_terminal_apply_needs_auto_approve_and_changes_nothing() {
    let emu = Emulator::start();
    let dir = project_copy("apply", "no-terminal");
    let run = apply(&dir, &emu, &["--all-regions"]);
    assert_eq!(run.code, Some(1), "{}", run.describe());
    assert!(
        run.stderr.contains(
            "error: no terminal to confirm on; pass --auto-approve to apply without asking"
        ),
        "{}",
        run.describe()
    );
    assert!(!run.stdout.contains("creating"), "{}", run.describe());
    let inv = inventory(&emu, "platform", REGIONS);
    assert!(inv.is_empty(), "created without approval: {inv:?}");
    for env in ["us-east-1", "eu-west-1", "ap-southeast-1", "global"] {
        let state = dir.join(format!(".regionctl/state/{env}.json"));
        assert!(
            !state.exists() || state_len(&dir, env) == 0,
            "{env} recorded something"
        );
        assert!(
            !dir.join(format!(".regionctl/state/{env}.lock")).exists(),
            "{env} stays locked"
        );
    }
    let destroy = run_destroy_no_terminal(&dir, &emu);
    assert_eq!(
        destroy.code,
        Some(0),
        "nothing to destroy: {}",
        destroy.describe()
    );
}

/// Destroy of an empty platform has nothing to confirm.
fn run_destroy_no_terminal(dir: &Path, emu: &Emulator) -> Run {
    run(dir, emu, "destroy", &["--all-regions"])
}
