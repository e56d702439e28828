//! `regionctl adopt terraform` end to end, against the emulator: a platform made behind
//! regionctl's back (with boto3, as Terraform would have made it) in two regions plus IAM and
//! Route 53; the Terraform state (format version 4) that Terraform would hold for it, with a
//! provider alias, one module per region, for_each and count instances and rules as separate
//! resources; then adopt into a fresh directory, plan (only identity tags to add, in place),
//! apply, plan again (no changes), destroy (nothing left).

use serde_json::Value as J;

use crate::harness::{Run, fresh_dir, regionctl_env};
use crate::support::emulator::Emulator;

/// Makes the platform and prints the Terraform state describing it.
const MAKE_PLATFORM: &str = r#"
ACCT = '123456789012'
AWS = 'provider["registry.terraform.io/hashicorp/aws"]'
resources = []

def res(rtype, name, insts, module=None, alias=None):
    r = {'mode': 'managed', 'type': rtype, 'name': name,
         'provider': AWS + ('.' + alias if alias else ''), 'instances': []}
    if module:
        r['module'] = module
    for key, attrs in insts:
        i = {'schema_version': 0, 'attributes': attrs, 'sensitive_attributes': [], 'dependencies': []}
        if key is not None:
            i['index_key'] = key
        r['instances'].append(i)
    resources.append(r)

for region, short, alias, net in [('us-east-1', 'use1', None, '10.30'), ('eu-west-1', 'euw1', 'euw1', '10.40')]:
    mod = 'module.' + short
    ec2 = client('ec2', region)
    name_tag = {'Name': 'tf-' + short}
    vpc = ec2.create_vpc(CidrBlock=net + '.0.0/16', TagSpecifications=[
        {'ResourceType': 'vpc', 'Tags': [{'Key': 'Name', 'Value': 'tf-' + short}]}])['Vpc']['VpcId']
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={'Value': True})
    res('aws_vpc', 'main', [(None, {
        'id': vpc, 'arn': f'arn:aws:ec2:{region}:{ACCT}:vpc/{vpc}', 'cidr_block': net + '.0.0/16',
        'enable_dns_support': True, 'enable_dns_hostnames': True, 'instance_tenancy': 'default',
        'assign_generated_ipv6_cidr_block': False, 'tags': name_tag, 'tags_all': name_tag})], mod, alias)
    subnets = {}
    for i, az in enumerate([region + 'a', region + 'b']):
        subnets[az] = ec2.create_subnet(VpcId=vpc, CidrBlock=f'{net}.{i}.0/24', AvailabilityZone=az)['Subnet']['SubnetId']
    res('aws_subnet', 'public', [(az, {
        'id': sid, 'arn': f'arn:aws:ec2:{region}:{ACCT}:subnet/{sid}', 'vpc_id': vpc,
        'cidr_block': f'{net}.{i}.0/24', 'availability_zone': az, 'ipv6_cidr_block': '',
        'map_public_ip_on_launch': False, 'tags': {}, 'tags_all': {}})
        for i, (az, sid) in enumerate(subnets.items())], mod, alias)
    igw = ec2.create_internet_gateway()['InternetGateway']['InternetGatewayId']
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    # No ARN: its region comes from the provider alias (learned from its siblings).
    res('aws_internet_gateway', 'main', [(None, {
        'id': igw, 'vpc_id': vpc, 'owner_id': ACCT, 'tags': {}, 'tags_all': {}})], mod, alias)
    rtb = ec2.create_route_table(VpcId=vpc)['RouteTable']['RouteTableId']
    ec2.create_route(RouteTableId=rtb, DestinationCidrBlock='0.0.0.0/0', GatewayId=igw)
    assoc = {az: ec2.associate_route_table(RouteTableId=rtb, SubnetId=sid)['AssociationId']
             for az, sid in subnets.items()}
    res('aws_route_table', 'public', [(None, {
        'id': rtb, 'arn': f'arn:aws:ec2:{region}:{ACCT}:route-table/{rtb}', 'vpc_id': vpc,
        'route': [{'cidr_block': '0.0.0.0/0', 'gateway_id': igw, 'nat_gateway_id': '',
                   'transit_gateway_id': '', 'ipv6_cidr_block': ''}],
        'tags': {}, 'tags_all': {}})], mod, alias)
    res('aws_route_table_association', 'public', [(az, {
        'id': assoc[az], 'route_table_id': rtb, 'subnet_id': sid, 'gateway_id': ''})
        for az, sid in subnets.items()], mod, alias)
    web = ec2.create_security_group(GroupName='tf-' + short + '-web', Description='web', VpcId=vpc)['GroupId']
    ec2.authorize_security_group_ingress(GroupId=web, IpPermissions=[{'IpProtocol': 'tcp',
        'FromPort': 443, 'ToPort': 443, 'IpRanges': [{'CidrIp': '0.0.0.0/0'}]}])
    res('aws_security_group', 'web', [(None, {
        'id': web, 'arn': f'arn:aws:ec2:{region}:{ACCT}:security-group/{web}', 'vpc_id': vpc,
        'name': 'tf-' + short + '-web', 'description': 'web', 'ingress': [],
        'egress': [{'protocol': '-1', 'from_port': 0, 'to_port': 0, 'cidr_blocks': ['0.0.0.0/0'],
                    'ipv6_cidr_blocks': [], 'prefix_list_ids': [], 'security_groups': [],
                    'self': False, 'description': ''}],
        'tags': {}, 'tags_all': {}})], mod, alias)
    res('aws_security_group_rule', 'web_https', [(None, {
        'id': 'sgrule-' + short, 'type': 'ingress', 'security_group_id': web, 'protocol': 'tcp',
        'from_port': 443, 'to_port': 443, 'cidr_blocks': ['0.0.0.0/0'], 'self': False,
        'source_security_group_id': None, 'description': ''})], mod, alias)
    db = ec2.create_security_group(GroupName='tf-' + short + '-db', Description='db', VpcId=vpc)['GroupId']
    # Terraform removes AWS's default egress rule from the groups it makes.
    ec2.revoke_security_group_egress(GroupId=db, IpPermissions=[{'IpProtocol': '-1',
        'IpRanges': [{'CidrIp': '0.0.0.0/0'}]}])
    ec2.authorize_security_group_ingress(GroupId=db, IpPermissions=[{'IpProtocol': 'tcp',
        'FromPort': 5432, 'ToPort': 5432, 'UserIdGroupPairs': [{'GroupId': web}]}])
    res('aws_security_group', 'db', [(None, {
        'id': db, 'arn': f'arn:aws:ec2:{region}:{ACCT}:security-group/{db}', 'vpc_id': vpc,
        'name': 'tf-' + short + '-db', 'description': 'db', 'ingress': [], 'egress': [],
        'tags': {}, 'tags_all': {}})], mod, alias)
    res('aws_vpc_security_group_ingress_rule', 'db_from_web', [(None, {
        'id': 'sgr-' + short, 'security_group_id': db, 'referenced_security_group_id': web,
        'ip_protocol': 'tcp', 'from_port': 5432, 'to_port': 5432, 'cidr_ipv4': None,
        'description': None})], mod, alias)
    names = ['tf-' + short + '-app']
    rds = client('rds', region)
    rds.create_db_subnet_group(DBSubnetGroupName=names[0], DBSubnetGroupDescription='app',
                               SubnetIds=list(subnets.values()))
    res('aws_db_subnet_group', 'app', [(None, {
        'id': names[0], 'name': names[0], 'arn': f'arn:aws:rds:{region}:{ACCT}:subgrp:{names[0]}',
        'description': 'app', 'subnet_ids': sorted(subnets.values()), 'tags': {}, 'tags_all': {}})],
        mod, alias)
    logs = client('logs', region)
    group = '/tf/' + short + '/app'
    logs.create_log_group(logGroupName=group)
    logs.put_retention_policy(logGroupName=group, retentionInDays=30)
    res('aws_cloudwatch_log_group', 'app', [(None, {
        'id': group, 'name': group, 'arn': f'arn:aws:logs:{region}:{ACCT}:log-group:{group}',
        'retention_in_days': 30, 'kms_key_id': '', 'skip_destroy': False,
        'tags': {}, 'tags_all': {}})], mod, alias)

iam = client('iam', 'us-east-1')
trust = json.dumps({'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow',
    'Principal': {'Service': 'ec2.amazonaws.com'}, 'Action': 'sts:AssumeRole'}]})
role = iam.create_role(RoleName='tf-node', AssumeRolePolicyDocument=trust)['Role']
policies = ['AmazonEKSWorkerNodePolicy', 'AmazonEKS_CNI_Policy']
for p in policies:
    iam.attach_role_policy(RoleName='tf-node', PolicyArn='arn:aws:iam::aws:policy/' + p)
res('aws_iam_role', 'node', [(None, {
    'id': 'tf-node', 'name': 'tf-node', 'arn': role['Arn'], 'path': '/', 'unique_id': role['RoleId'],
    'assume_role_policy': trust, 'description': '', 'max_session_duration': 3600,
    'managed_policy_arns': [], 'inline_policy': [], 'permissions_boundary': '',
    'tags': {}, 'tags_all': {}})])
res('aws_iam_role_policy_attachment', 'node', [(i, {
    'id': 'tf-node-' + str(i), 'role': 'tf-node', 'policy_arn': 'arn:aws:iam::aws:policy/' + p})
    for i, p in enumerate(policies)])
r53 = client('route53', 'us-east-1')
zone = r53.create_hosted_zone(Name='tf.example.com', CallerReference='tf-zone')['HostedZone']['Id'].split('/')[-1]
r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={'Changes': [{'Action': 'CREATE',
    'ResourceRecordSet': {'Name': 'www.tf.example.com', 'Type': 'CNAME', 'TTL': 300,
                          'ResourceRecords': [{'Value': 'origin.example.net'}]}}]})
res('aws_route53_zone', 'main', [(None, {
    'id': zone, 'zone_id': zone, 'arn': 'arn:aws:route53:::hostedzone/' + zone,
    'name': 'tf.example.com', 'comment': '', 'force_destroy': False, 'vpc': [],
    'tags': {}, 'tags_all': {}})])
res('aws_route53_record', 'www', [(None, {
    'id': zone + '_www.tf.example.com_CNAME', 'zone_id': zone, 'name': 'www',
    'fqdn': 'www.tf.example.com', 'type': 'CNAME', 'ttl': 300, 'records': ['origin.example.net'],
    'set_identifier': '', 'alias': [], 'latency_routing_policy': [], 'failover_routing_policy': [],
    'weighted_routing_policy': [], 'health_check_id': ''})])

print(json.dumps({'version': 4, 'terraform_version': '1.9.5', 'serial': 7,
                  'lineage': '0b7c9c1e-3f1d-4a8e-9e57-0d1a2f6e7c90', 'outputs': {},
                  'resources': resources, 'check_results': None}, indent=2))
"#;

/// What is left in the emulator of the platform above.
const LEFT: &str = r#"
out = {}
for region in ['us-east-1', 'eu-west-1']:
    ec2 = client('ec2', region)
    vpcs = [v['VpcId'] for v in ec2.describe_vpcs()['Vpcs'] if not v.get('IsDefault')]
    out[region + ' vpc'] = vpcs
    f = [{'Name': 'vpc-id', 'Values': vpcs}] if vpcs else None
    if f:
        out[region + ' subnet'] = [s['SubnetId'] for s in ec2.describe_subnets(Filters=f)['Subnets']]
        out[region + ' security_group'] = [g['GroupId'] for g in ec2.describe_security_groups(Filters=f)['SecurityGroups'] if g['GroupName'] != 'default']
    out[region + ' internet_gateway'] = [g['InternetGatewayId'] for g in ec2.describe_internet_gateways()['InternetGateways'] if any(a['VpcId'] in vpcs for a in g.get('Attachments', []))]
    out[region + ' db_subnet_group'] = [g['DBSubnetGroupName'] for g in client('rds', region).describe_db_subnet_groups()['DBSubnetGroups'] if g['DBSubnetGroupName'].startswith('tf-')]
    out[region + ' log_group'] = [g['logGroupName'] for g in client('logs', region).describe_log_groups(logGroupNamePrefix='/tf/')['logGroups']]
out['iam_role'] = [r['RoleName'] for r in client('iam', 'us-east-1').list_roles()['Roles'] if r['RoleName'].startswith('tf-')]
out['route53_zone'] = [z['Name'] for z in client('route53', 'us-east-1').list_hosted_zones()['HostedZones']]
print(json.dumps({k: v for k, v in out.items() if v}))
"#;

pub(crate) fn run(dir: &std::path::Path, emu: &Emulator, args: &[&str]) -> Run {
    regionctl_env(dir, args, &emu.env())
}

/// The changes a `plan --json` proposes (address → (actions, changed attributes)).
pub(crate) fn changes(dir: &std::path::Path, emu: &Emulator) -> Vec<(String, J, Vec<String>)> {
    let plan = run(
        dir,
        emu,
        &["plan", "--all-regions", "--json", "--detailed-exitcode"],
    );
    crate::harness::planned_changes(&plan)
        .into_iter()
        .map(|(addr, actions, change)| (addr, actions, before_after_keys(&change)))
        .collect()
}

/// The desired attributes whose before and after differ (an absent value and an empty list or
/// map are the same: AWS reports no rules as none).
fn before_after_keys(change: &J) -> Vec<String> {
    let empty = serde_json::Map::new();
    let before = change["before"].as_object().unwrap_or(&empty);
    let after = change["after"].as_object().unwrap_or(&empty);
    let norm = |v: Option<&J>| match v {
        None | Some(J::Null) => None,
        Some(J::Array(a)) if a.is_empty() => None,
        Some(J::Object(o)) if o.is_empty() => None,
        // Sets (subnet ids) are compared as sets by the planner.
        Some(J::Array(a)) => {
            let mut a: Vec<String> = a.iter().map(J::to_string).collect();
            a.sort();
            Some(J::from(a))
        }
        Some(v) => Some(v.clone()),
    };
    // An attribute the spec leaves out keeps AWS's value: only the desired ones can change.
    let mut keys: Vec<String> = after
        .keys()
        .filter(|k| norm(before.get(*k)) != norm(after.get(*k)))
        .cloned()
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

#[test]
fn a_terraform_platform_is_adopted_planned_applied_and_destroyed() {
    let emu = Emulator::start();
    let state = emu.boto3(MAKE_PLATFORM);
    let work = fresh_dir("adopt", "terraform");
    let tf = work.join("terraform.tfstate");
    std::fs::write(&tf, &state).expect("write the Terraform state");
    let project = work.join("platform");

    let adopted = run(
        &work,
        &emu,
        &[
            "adopt",
            "terraform",
            "terraform.tfstate",
            "--out",
            "platform",
            "--project",
            "adopted",
        ],
    );
    assert_eq!(adopted.code, Some(0), "{}", adopted.describe());
    // 2 regions x (vpc, 2 subnets, igw, route table, 2 groups, db subnet group, log group)
    // + role + zone + record; nothing unmapped.
    assert!(
        adopted
            .stdout
            .contains("as 21 regionctl resource(s); unmapped 0."),
        "{}",
        adopted.describe()
    );
    let validate = run(&project, &emu, &["validate"]);
    assert_eq!(validate.code, Some(0), "{}", validate.describe());

    // The first plan: identity tags added in place, and nothing else.
    let first = changes(&project, &emu);
    let spec_text =
        std::fs::read_to_string(project.join("envs/eu-west-1/terraform.yaml")).unwrap_or_default();
    assert!(!first.is_empty(), "identity tags must be planned");
    for (addr, actions, changed) in &first {
        assert_eq!(
            actions,
            &serde_json::json!(["update"]),
            "{addr}: {changed:?}\n{spec_text}"
        );
        assert_eq!(changed, &["tags"], "{addr}\n{spec_text}");
    }
    let human = run(&project, &emu, &["plan", "--all-regions"]);
    assert!(
        human.stdout.contains("regionctl:address"),
        "the plan says which tags it adds:\n{}",
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
    assert!(again.stdout.contains("No changes."), "{}", again.describe());

    // Adopting again refuses to overwrite, without --force.
    let twice = run(
        &work,
        &emu,
        &[
            "adopt",
            "terraform",
            "terraform.tfstate",
            "--out",
            "platform",
        ],
    );
    assert_eq!(twice.code, Some(1), "{}", twice.describe());
    assert!(twice.stderr.contains("--force"), "{}", twice.describe());

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
