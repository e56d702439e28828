//! `regionctl adopt aws --include-global` end to end for the platform's non-network kinds,
//! against the emulator: an EKS cluster with its IAM roles, a node group, an access entry with
//! its access policies, the cluster's OIDC provider, an IRSA role trusting it (with a policy only
//! it attaches) used by the EBS CSI add-on, a KMS key with its alias, a log group, an SNS topic
//! with an email subscription, a metric alarm notifying it, and an ECR repository, all made behind
//! regionctl's back (boto3). The IRSA role and its policy are declared in the region (issue 17),
//! the other roles in `global`. The written spec validates; the first plan adds identity tags in
//! place and nothing else; apply; the next plan exits 0; destroy leaves nothing, as boto3 sees it.

use serde_json::Value as J;

use crate::adopt_terraform::run;
use crate::harness::fresh_dir;
use crate::support::emulator::Emulator;

/// Makes the platform; prints the names the test needs.
const MAKE: &str = r#"
import time
R = 'us-east-1'
iam = client('iam', R)
def role(name, principal, action='sts:AssumeRole', condition=None, policies=()):
    st = {'Effect': 'Allow', 'Principal': principal, 'Action': action}
    if condition:
        st['Condition'] = condition
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(
        {'Version': '2012-10-17', 'Statement': [st]}))['Role']['Arn']
    for p in policies:
        iam.attach_role_policy(RoleName=name, PolicyArn=p)
    return arn
cluster_role = role('plat-cluster', {'Service': 'eks.amazonaws.com'},
                    policies=['arn:aws:iam::aws:policy/AmazonEKSClusterPolicy'])
node_role = role('plat-nodes', {'Service': 'ec2.amazonaws.com'},
                 policies=['arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy'])
admin_role = role('plat-admin', {'AWS': 'arn:aws:iam::123456789012:root'})
ec2 = client('ec2', R)
vpc = ec2.create_vpc(CidrBlock='10.70.0.0/16', TagSpecifications=[{'ResourceType': 'vpc',
    'Tags': [{'Key': 'Name', 'Value': 'plat'}]}])['Vpc']['VpcId']
subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f'10.70.{i}.0/24', AvailabilityZone=az,
    TagSpecifications=[{'ResourceType': 'subnet', 'Tags': [{'Key': 'Name', 'Value': 'plat-' + az[-1]}]}])['Subnet']['SubnetId']
    for i, az in enumerate(['us-east-1a', 'us-east-1b'])]
eks = client('eks', R)
cluster = eks.create_cluster(name='plat', version='1.31', roleArn=cluster_role,
    resourcesVpcConfig={'subnetIds': subnets},
    accessConfig={'authenticationMode': 'API_AND_CONFIG_MAP'})['cluster']
for _ in range(100):
    if eks.describe_cluster(name='plat')['cluster']['status'] == 'ACTIVE':
        break
    time.sleep(0.1)
issuer = eks.describe_cluster(name='plat')['cluster']['identity']['oidc']['issuer']
host = issuer.replace('https://', '')
eks.create_nodegroup(clusterName='plat', nodegroupName='default', nodeRole=node_role,
    subnets=subnets, instanceTypes=['m6i.large'],
    scalingConfig={'minSize': 1, 'maxSize': 3, 'desiredSize': 2})
oidc = iam.create_open_id_connect_provider(Url=issuer, ClientIDList=['sts.amazonaws.com'],
    ThumbprintList=['9e99a48a9960b14926bb7f3b02e22da2b0ab7280'])['OpenIDConnectProviderArn']
own = iam.create_policy(PolicyName='plat-ebs-extra', PolicyDocument=json.dumps({'Version': '2012-10-17',
    'Statement': [{'Effect': 'Allow', 'Action': 'ec2:DescribeVolumes', 'Resource': '*'}]}))['Policy']['Arn']
irsa = role('plat-ebs-csi', {'Federated': oidc}, 'sts:AssumeRoleWithWebIdentity',
    {'StringEquals': {host + ':sub': 'system:serviceaccount:kube-system:ebs-csi-controller-sa',
                      host + ':aud': 'sts.amazonaws.com'}},
    policies=['arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy', own])
eks.create_addon(clusterName='plat', addonName='aws-ebs-csi-driver', serviceAccountRoleArn=irsa)
eks.create_access_entry(clusterName='plat', principalArn=admin_role, kubernetesGroups=['platform-admins'])
eks.associate_access_policy(clusterName='plat', principalArn=admin_role,
    policyArn='arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy',
    accessScope={'type': 'cluster'})
eks.associate_access_policy(clusterName='plat', principalArn=admin_role,
    policyArn='arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy',
    accessScope={'type': 'namespace', 'namespaces': ['team-b', 'team-a']})
kms = client('kms', R)
key = kms.create_key(Description='platform data', Tags=[{'TagKey': 'team', 'TagValue': 'platform'}])['KeyMetadata']['KeyId']
kms.enable_key_rotation(KeyId=key)
kms.create_alias(AliasName='alias/plat-data', TargetKeyId=key)
client('logs', R).create_log_group(logGroupName='/plat/app', tags={'team': 'platform'})
client('logs', R).put_retention_policy(logGroupName='/plat/app', retentionInDays=30)
sns = client('sns', R)
topic = sns.create_topic(Name='plat-alerts', Attributes={'DisplayName': 'Platform alerts'})['TopicArn']
# Confirmed, as on-call did by following the mail's link (the emulator's token is the ARN's last
# part): a pending subscription has no ARN in ListSubscriptions, so there is nothing to adopt.
sub = sns.subscribe(TopicArn=topic, Protocol='email', Endpoint='oncall@example.com',
                    ReturnSubscriptionArn=True)['SubscriptionArn']
sns.confirm_subscription(TopicArn=topic, Token=sub.split(':')[-1])
client('cloudwatch', R).put_metric_alarm(AlarmName='plat-cpu', Namespace='AWS/EC2',
    MetricName='CPUUtilization', Statistic='Average', Period=300, EvaluationPeriods=3,
    Threshold=80.0, ComparisonOperator='GreaterThanThreshold', AlarmActions=[topic])
client('ecr', R).create_repository(repositoryName='plat/api', imageTagMutability='IMMUTABLE',
    imageScanningConfiguration={'scanOnPush': True})
print(json.dumps({'key': key, 'oidc': oidc}))
"#;

/// What is left of the platform (an empty object when nothing).
const LEFT: &str = r#"
R = 'us-east-1'
out = {}
iam = client('iam', R)
out['role'] = [r['RoleName'] for r in iam.list_roles()['Roles'] if r['RoleName'].startswith('plat-')]
out['policy'] = [p['PolicyName'] for p in iam.list_policies(Scope='Local')['Policies']]
out['oidc'] = [p['Arn'] for p in iam.list_open_id_connect_providers()['OpenIDConnectProviderList']]
eks = client('eks', R)
out['cluster'] = [c for c in eks.list_clusters()['clusters']
                  if eks.describe_cluster(name=c)['cluster']['status'] != 'DELETING']
kms = client('kms', R)
out['key'] = [k['KeyId'] for k in kms.list_keys()['Keys']
              if kms.describe_key(KeyId=k['KeyId'])['KeyMetadata']['KeyState'] not in ('PendingDeletion', 'PendingReplicaDeletion')]
out['alias'] = [a['AliasName'] for a in kms.list_aliases()['Aliases'] if a['AliasName'].startswith('alias/plat')]
out['log_group'] = [g['logGroupName'] for g in client('logs', R).describe_log_groups()['logGroups']]
sns = client('sns', R)
out['topic'] = [t['TopicArn'] for t in sns.list_topics()['Topics']]
out['subscription'] = [s['SubscriptionArn'] for s in sns.list_subscriptions()['Subscriptions']]
out['alarm'] = [a['AlarmName'] for a in client('cloudwatch', R).describe_alarms()['MetricAlarms']]
out['repository'] = [r['repositoryName'] for r in client('ecr', R).describe_repositories()['repositories']]
ec2 = client('ec2', R)
out['vpc'] = [v['VpcId'] for v in ec2.describe_vpcs()['Vpcs'] if v['CidrBlock'] == '10.70.0.0/16']
print(json.dumps({k: v for k, v in out.items() if v}))
"#;

/// The changes a `plan --json` proposes: (address, actions, attributes that change).
fn changes(dir: &std::path::Path, emu: &Emulator) -> Vec<(String, J, Vec<String>)> {
    let plan = run(
        dir,
        emu,
        &["plan", "--all-regions", "--json", "--detailed-exitcode"],
    );
    crate::harness::planned_changes(&plan)
        .into_iter()
        .map(|(addr, actions, change)| (addr, actions, crate::harness::changed_keys(&change)))
        .collect()
}

fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn a_live_platform_is_adopted_planned_applied_and_destroyed() {
    let emu = Emulator::start();
    let ids: J = serde_json::from_str(&emu.boto3(MAKE)).expect("the ids print as JSON");
    let work = fresh_dir("adopt", "aws-platform");
    let project = work.join("plat");

    let adopted = run(
        &work,
        &emu,
        &[
            "adopt",
            "aws",
            "--region",
            "us-east-1",
            "--include-global",
            "--out",
            "plat",
            "--project",
            "plat",
        ],
    );
    assert_eq!(adopted.code, Some(0), "{}", adopted.describe());
    let region = read(&project.join("envs/us-east-1/adopted.yaml"));
    let global = read(&project.join("envs/global/adopted.yaml"));
    let both = format!(
        "--- us-east-1\n{region}\n--- global\n{global}\n{}",
        adopted.describe()
    );
    for want in [
        "eks_cluster.plat:",
        "role_arn: \"${env.global.iam_role.plat-cluster.arn}\"",
        "eks_node_group.default:",
        "node_role_arn: \"${env.global.iam_role.plat-nodes.arn}\"",
        // Named after what they belong to: the cluster, the alias.
        "iam_oidc_provider.plat:",
        "kms_key.plat-data:",
        "target_key_id: \"${kms_key.plat-data.id}\"",
        // The IRSA role and the policy only it attaches are declared in the region.
        "iam_role.plat-ebs-csi:",
        "iam_policy.plat-ebs-extra:",
        "\"${iam_policy.plat-ebs-extra.arn}\"",
        "service_account_role_arn: \"${iam_role.plat-ebs-csi.arn}\"",
        // named after its principal
        "eks_access_entry.plat-admin:",
        "principal_arn: \"${env.global.iam_role.plat-admin.arn}\"",
        "AmazonEKSViewPolicy",
        "namespaces: [team-a, team-b]",
        "kms_alias.plat-data:",
        "cloudwatch_log_group.",
        "retention_in_days: 30",
        "sns_topic.plat-alerts:",
        "sns_subscription.",
        "endpoint: oncall@example.com",
        "cloudwatch_metric_alarm.plat-cpu:",
        "ecr_repository.plat_api:",
    ] {
        assert!(region.contains(want), "missing {want:?}:\n{both}");
    }
    for want in [
        "iam_role.plat-cluster:",
        "iam_role.plat-nodes:",
        "iam_role.plat-admin:",
    ] {
        assert!(global.contains(want), "missing {want:?}:\n{both}");
    }
    for unwanted in ["plat-ebs-csi", "plat-ebs-extra"] {
        assert!(!global.contains(unwanted), "{unwanted} in global:\n{both}");
    }
    assert!(
        region.contains(ids["key"].as_str().unwrap_or("?")),
        "{both}"
    );
    let validate = run(&project, &emu, &["validate"]);
    assert_eq!(validate.code, Some(0), "{}\n{both}", validate.describe());

    // The first plan: identity tags added in place, and nothing else.
    let first = changes(&project, &emu);
    assert!(!first.is_empty(), "identity tags are proposed");
    for (addr, actions, changed) in &first {
        assert_eq!(
            actions,
            &serde_json::json!(["update"]),
            "{addr}: {changed:?}\n{both}"
        );
        assert_eq!(changed, &["tags"], "{addr}\n{both}");
    }
    let apply = run(
        &project,
        &emu,
        &["apply", "--all-regions", "--auto-approve"],
    );
    assert_eq!(apply.code, Some(0), "{}", apply.describe());
    let again = run(
        &project,
        &emu,
        &["plan", "--all-regions", "--detailed-exitcode"],
    );
    assert_eq!(again.code, Some(0), "{}", again.describe());

    let destroy = run(
        &project,
        &emu,
        &[
            "destroy",
            "--all-regions",
            "--auto-approve",
            "--allow-destroy",
            "*",
        ],
    );
    assert_eq!(destroy.code, Some(0), "{}", destroy.describe());
    let left: J = serde_json::from_str(&emu.boto3(LEFT)).expect("the inventory prints JSON");
    assert_eq!(left, serde_json::json!({}), "left behind after destroy");
}
