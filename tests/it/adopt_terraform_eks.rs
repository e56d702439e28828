//! `regionctl adopt terraform` end to end for an EKS cluster's access and IRSA, against the
//! emulator: a cluster (API authentication) with its role, an access entry with two access policy
//! associations (one namespace-scoped), the cluster's OIDC provider, and an IRSA role trusting it
//! (with a policy only it attaches) used by the EBS CSI add-on, made with boto3 as Terraform would
//! have made them; the Terraform state (format version 4, terraform-provider-aws's attribute
//! names) that Terraform would hold. Adopt: the associations fold into their entry, the IRSA role
//! and its policy are declared in us-east-1 (issue 17); the first plan adds identity tags in place
//! and nothing else; apply; the next plan exits 0; destroy leaves nothing.

use serde_json::Value as J;

use crate::adopt_terraform::run;
use crate::harness::fresh_dir;
use crate::support::emulator::Emulator;

/// Makes the resources and prints the Terraform state describing them.
const MAKE: &str = r#"
import time
R = 'us-east-1'
A = '123456789012'
P = 'provider["registry.terraform.io/hashicorp/aws"]'
resources = []
def res(rtype, name, attrs):
    resources.append({'mode': 'managed', 'type': rtype, 'name': name, 'provider': P, 'instances': [
        {'schema_version': 0, 'attributes': attrs, 'sensitive_attributes': [], 'dependencies': []}]})
iam = client('iam', R)
def role(tf, name, principal, action='sts:AssumeRole', condition=None, policies=()):
    st = {'Effect': 'Allow', 'Principal': principal, 'Action': action}
    if condition:
        st['Condition'] = condition
    doc = json.dumps({'Version': '2012-10-17', 'Statement': [st]})
    r = iam.create_role(RoleName=name, AssumeRolePolicyDocument=doc)['Role']
    res('aws_iam_role', tf, {'id': name, 'name': name, 'arn': r['Arn'], 'path': '/',
        'unique_id': r['RoleId'], 'assume_role_policy': doc, 'description': '',
        'max_session_duration': 3600, 'managed_policy_arns': [], 'inline_policy': [],
        'permissions_boundary': '', 'tags': {}, 'tags_all': {}})
    for i, p in enumerate(policies):
        iam.attach_role_policy(RoleName=name, PolicyArn=p)
        res('aws_iam_role_policy_attachment', f'{tf}_{i}', {'id': f'{name}-{i}', 'role': name, 'policy_arn': p})
    return r['Arn']
cluster_role = role('cluster', 'tfe-cluster', {'Service': 'eks.amazonaws.com'},
                    policies=['arn:aws:iam::aws:policy/AmazonEKSClusterPolicy'])
admin = role('admin', 'tfe-admin', {'AWS': f'arn:aws:iam::{A}:root'})
ec2 = client('ec2', R)
vpc = ec2.create_vpc(CidrBlock='10.80.0.0/16')['Vpc']['VpcId']
subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f'10.80.{i}.0/24', AvailabilityZone=az)['Subnet']['SubnetId']
           for i, az in enumerate(['us-east-1a', 'us-east-1b'])]
for i, (s, az) in enumerate(zip(subnets, ['us-east-1a', 'us-east-1b'])):
    res('aws_subnet', f'private_{i}', {'id': s, 'arn': f'arn:aws:ec2:{R}:{A}:subnet/{s}', 'vpc_id': vpc,
        'cidr_block': f'10.80.{i}.0/24', 'availability_zone': az, 'map_public_ip_on_launch': False,
        'ipv6_cidr_block': '', 'tags': {}, 'tags_all': {}})
res('aws_vpc', 'main', {'id': vpc, 'arn': f'arn:aws:ec2:{R}:{A}:vpc/{vpc}', 'cidr_block': '10.80.0.0/16',
    'enable_dns_support': True, 'enable_dns_hostnames': False, 'instance_tenancy': 'default',
    'assign_generated_ipv6_cidr_block': False, 'tags': {}, 'tags_all': {}})
eks = client('eks', R)
eks.create_cluster(name='tfe', version='1.31', roleArn=cluster_role, resourcesVpcConfig={'subnetIds': subnets},
                   accessConfig={'authenticationMode': 'API'})
for _ in range(100):
    c = eks.describe_cluster(name='tfe')['cluster']
    if c['status'] == 'ACTIVE':
        break
    time.sleep(0.1)
vc = c['resourcesVpcConfig']
res('aws_eks_cluster', 'main', {'id': 'tfe', 'name': 'tfe', 'arn': c['arn'], 'version': c['version'],
    'role_arn': cluster_role, 'status': 'ACTIVE', 'endpoint': c.get('endpoint', ''),
    'platform_version': c.get('platformVersion', ''),
    'certificate_authority': [{'data': c.get('certificateAuthority', {}).get('data', '')}],
    'enabled_cluster_log_types': [], 'encryption_config': [],
    'identity': [{'oidc': [{'issuer': c['identity']['oidc']['issuer']}]}],
    'kubernetes_network_config': [{'ip_family': 'ipv4', 'service_ipv4_cidr': c['kubernetesNetworkConfig']['serviceIpv4Cidr'], 'service_ipv6_cidr': ''}],
    'access_config': [{'authentication_mode': 'API', 'bootstrap_cluster_creator_admin_permissions': True}],
    'upgrade_policy': [{'support_type': c.get('upgradePolicy', {}).get('supportType', 'EXTENDED')}],
    'vpc_config': [{'cluster_security_group_id': vc.get('clusterSecurityGroupId', ''),
        'endpoint_private_access': vc['endpointPrivateAccess'], 'endpoint_public_access': vc['endpointPublicAccess'],
        'public_access_cidrs': vc['publicAccessCidrs'], 'security_group_ids': vc.get('securityGroupIds', []),
        'subnet_ids': vc['subnetIds'], 'vpc_id': vpc}],
    'tags': {}, 'tags_all': {}})
issuer = c['identity']['oidc']['issuer'].replace('https://', '')
oidc = iam.create_open_id_connect_provider(Url='https://' + issuer, ClientIDList=['sts.amazonaws.com'],
    ThumbprintList=['9e99a48a9960b14926bb7f3b02e22da2b0ab7280'])['OpenIDConnectProviderArn']
res('aws_iam_openid_connect_provider', 'eks', {'id': oidc, 'arn': oidc, 'url': issuer,
    'client_id_list': ['sts.amazonaws.com'], 'thumbprint_list': ['9e99a48a9960b14926bb7f3b02e22da2b0ab7280'],
    'tags': {}, 'tags_all': {}})
pdoc = json.dumps({'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow', 'Action': 'ec2:DescribeVolumes', 'Resource': '*'}]})
pol = iam.create_policy(PolicyName='tfe-ebs-extra', PolicyDocument=pdoc)['Policy']
res('aws_iam_policy', 'ebs_extra', {'id': pol['Arn'], 'arn': pol['Arn'], 'name': 'tfe-ebs-extra', 'name_prefix': '',
    'path': '/', 'description': '', 'policy': pdoc, 'policy_id': pol['PolicyId'], 'attachment_count': 1,
    'tags': {}, 'tags_all': {}})
irsa = role('ebs_csi', 'tfe-ebs-csi', {'Federated': oidc}, 'sts:AssumeRoleWithWebIdentity',
    {'StringEquals': {issuer + ':sub': 'system:serviceaccount:kube-system:ebs-csi-controller-sa'}},
    policies=[pol['Arn']])
addon = eks.create_addon(clusterName='tfe', addonName='aws-ebs-csi-driver', serviceAccountRoleArn=irsa)['addon']
res('aws_eks_addon', 'ebs_csi', {'id': 'tfe:aws-ebs-csi-driver', 'arn': addon['addonArn'], 'cluster_name': 'tfe',
    'addon_name': 'aws-ebs-csi-driver', 'addon_version': addon['addonVersion'], 'service_account_role_arn': irsa,
    'resolve_conflicts': None, 'resolve_conflicts_on_create': 'OVERWRITE', 'resolve_conflicts_on_update': 'OVERWRITE',
    'configuration_values': '', 'preserve': False, 'tags': {}, 'tags_all': {}})
entry = eks.create_access_entry(clusterName='tfe', principalArn=admin, kubernetesGroups=['platform-admins'])['accessEntry']
res('aws_eks_access_entry', 'admin', {'id': f'tfe:{admin}', 'access_entry_arn': entry['accessEntryArn'],
    'cluster_name': 'tfe', 'principal_arn': admin, 'type': entry['type'],
    'kubernetes_groups': entry['kubernetesGroups'], 'user_name': entry['username'],
    'created_at': '2024-11-01T10:00:00Z', 'modified_at': '2024-11-01T10:00:00Z', 'tags': {}, 'tags_all': {}})
for tf, policy, scope in [('admin_cluster', 'AmazonEKSClusterAdminPolicy', {'type': 'cluster'}),
                          ('admin_view', 'AmazonEKSViewPolicy', {'type': 'namespace', 'namespaces': ['team-b', 'team-a']})]:
    arn = 'arn:aws:eks::aws:cluster-access-policy/' + policy
    eks.associate_access_policy(clusterName='tfe', principalArn=admin, policyArn=arn, accessScope=scope)
    res('aws_eks_access_policy_association', tf, {'id': f'tfe#{admin}#{arn}', 'cluster_name': 'tfe',
        'principal_arn': admin, 'policy_arn': arn,
        'access_scope': [{'type': scope['type'], 'namespaces': scope.get('namespaces', [])}],
        'associated_at': '2024-11-01T10:00:00Z', 'modified_at': '2024-11-01T10:00:00Z'})
print(json.dumps({'version': 4, 'terraform_version': '1.9.5', 'serial': 1,
    'lineage': '7a1d2c3e-4f50-4a6b-8c7d-9e0f1a2b3c4d', 'outputs': {}, 'resources': resources}))
"#;

/// What is left (an empty object when nothing).
const LEFT: &str = r#"
R = 'us-east-1'
iam = client('iam', R)
eks = client('eks', R)
out = {
    'role': [r['RoleName'] for r in iam.list_roles()['Roles'] if r['RoleName'].startswith('tfe-')],
    'policy': [p['PolicyName'] for p in iam.list_policies(Scope='Local')['Policies']],
    'oidc': [p['Arn'] for p in iam.list_open_id_connect_providers()['OpenIDConnectProviderList']],
    'cluster': [c for c in eks.list_clusters()['clusters']
                if eks.describe_cluster(name=c)['cluster']['status'] != 'DELETING'],
    'vpc': [v['VpcId'] for v in client('ec2', R).describe_vpcs()['Vpcs'] if v['CidrBlock'] == '10.80.0.0/16'],
}
print(json.dumps({k: v for k, v in out.items() if v}))
"#;

#[test]
fn terraform_access_entries_and_irsa_are_adopted_planned_applied_and_destroyed() {
    let emu = Emulator::start();
    let state = emu.boto3(MAKE);
    let work = fresh_dir("adopt", "terraform-eks");
    std::fs::write(work.join("terraform.tfstate"), &state).expect("write the Terraform state");
    let project = work.join("eks");
    let adopted = run(
        &work,
        &emu,
        &[
            "adopt",
            "terraform",
            "terraform.tfstate",
            "--out",
            "eks",
            "--project",
            "eks",
        ],
    );
    assert_eq!(adopted.code, Some(0), "{}", adopted.describe());
    let read = |env: &str| {
        std::fs::read_to_string(project.join(format!("envs/{env}/terraform.yaml")))
            .unwrap_or_default()
    };
    let (region, global) = (read("us-east-1"), read("global"));
    let both = format!(
        "--- us-east-1\n{region}\n--- global\n{global}\n{}",
        adopted.describe()
    );
    for want in [
        "eks_access_entry.admin:",
        "cluster_name: \"${eks_cluster.main.name}\"",
        "principal_arn: \"${env.global.iam_role.admin.arn}\"",
        "kubernetes_groups: [platform-admins]",
        "AmazonEKSClusterAdminPolicy",
        "namespaces: [team-a, team-b]",
        "iam_role.ebs_csi:",
        "iam_policy.ebs_extra:",
        "service_account_role_arn: \"${iam_role.ebs_csi.arn}\"",
    ] {
        assert!(region.contains(want), "missing {want:?}:\n{both}");
    }
    assert!(global.contains("iam_role.cluster:"), "{both}");
    assert!(!global.contains("ebs"), "{both}");
    assert!(
        adopted.stdout.contains("unmapped 0."),
        "everything maps:\n{both}"
    );
    let validate = run(&project, &emu, &["validate"]);
    assert_eq!(validate.code, Some(0), "{}\n{both}", validate.describe());

    let plan = run(
        &project,
        &emu,
        &["plan", "--all-regions", "--json", "--detailed-exitcode"],
    );
    assert_eq!(plan.code, Some(2), "{}", plan.describe());
    let mut updated = 0;
    for (addr, actions, change) in crate::harness::planned_changes(&plan) {
        // An add-on's `resolve_conflicts` is write-only: EKS never returns it, so `before` (what
        // AWS has) cannot show it; the human plan below shows it is no change.
        let changed: Vec<String> = crate::harness::changed_keys(&change)
            .into_iter()
            .filter(|k| k != "resolve_conflicts")
            .collect();
        assert_eq!(
            actions,
            serde_json::json!(["update"]),
            "{addr}: {change}\n{both}"
        );
        assert_eq!(changed, vec!["tags"], "{addr}: {change}\n{both}");
        updated += 1;
    }
    assert!(updated > 0, "identity tags are proposed");
    let human = run(&project, &emu, &["plan", "--all-regions"]);
    assert_eq!(human.code, Some(0), "{}", human.describe());
    assert!(
        human.stdout.contains("eks_addon.ebs_csi") && human.stdout.contains("tags"),
        "{}",
        human.describe()
    );
    assert!(
        !human.stdout.contains("resolve_conflicts"),
        "{}",
        human.describe()
    );
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
