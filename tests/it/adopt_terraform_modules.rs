//! `regionctl adopt terraform` of one Terraform module called once per region, against the
//! emulator: the two instances have the same shape, so they become one regionctl module
//! (`modules/adopted`) with a call in each region. Each instance has `count` subnets and
//! associations, its own security groups, and a rule from a group outside the module (the
//! region's bastion group, at the root with the region's provider alias) whose VPC is the
//! module's: an input passed as a reference one way, a module output the other way. Then:
//! `validate` passes, the first plan only adds identity tags in place, after apply the plan
//! is empty, and a destroy leaves nothing.

use serde_json::Value as J;

use crate::adopt_terraform::{changes, run};
use crate::harness::fresh_dir;
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

ALL_OUT = [{'protocol': '-1', 'from_port': 0, 'to_port': 0, 'cidr_blocks': ['0.0.0.0/0'],
            'ipv6_cidr_blocks': [], 'prefix_list_ids': [], 'security_groups': [],
            'self': False, 'description': ''}]

def group(ec2, region, vpc, name, desc, module, alias, tf_name):
    gid = ec2.create_security_group(GroupName=name, Description=desc, VpcId=vpc)['GroupId']
    res('aws_security_group', tf_name, [(None, {
        'id': gid, 'arn': f'arn:aws:ec2:{region}:{ACCT}:security-group/{gid}', 'vpc_id': vpc,
        'name': name, 'description': desc, 'ingress': [], 'egress': ALL_OUT,
        'tags': {}, 'tags_all': {}})], module, alias)
    return gid

for region, short, alias, net in [('us-east-1', 'use1', None, '10.50'), ('eu-west-1', 'euw1', 'euw1', '10.60')]:
    mod = 'module.' + short
    ec2 = client('ec2', region)
    vpc = ec2.create_vpc(CidrBlock=net + '.0.0/16')['Vpc']['VpcId']
    res('aws_vpc', 'main', [(None, {
        'id': vpc, 'arn': f'arn:aws:ec2:{region}:{ACCT}:vpc/{vpc}', 'cidr_block': net + '.0.0/16',
        'enable_dns_support': True, 'enable_dns_hostnames': False, 'instance_tenancy': 'default',
        'assign_generated_ipv6_cidr_block': False, 'tags': {}, 'tags_all': {}})], mod, alias)
    # count = 2: keys 0 and 1 in both regions; the zones differ.
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f'{net}.{i}.0/24', AvailabilityZone=region + z)['Subnet']['SubnetId']
               for i, z in enumerate(['a', 'b'])]
    res('aws_subnet', 'private', [(i, {
        'id': sid, 'arn': f'arn:aws:ec2:{region}:{ACCT}:subnet/{sid}', 'vpc_id': vpc,
        'cidr_block': f'{net}.{i}.0/24', 'availability_zone': region + 'ab'[i], 'ipv6_cidr_block': '',
        'map_public_ip_on_launch': False, 'tags': {}, 'tags_all': {}})
        for i, sid in enumerate(subnets)], mod, alias)
    rtb = ec2.create_route_table(VpcId=vpc)['RouteTable']['RouteTableId']
    assoc = [ec2.associate_route_table(RouteTableId=rtb, SubnetId=sid)['AssociationId'] for sid in subnets]
    res('aws_route_table', 'private', [(None, {
        'id': rtb, 'arn': f'arn:aws:ec2:{region}:{ACCT}:route-table/{rtb}', 'vpc_id': vpc,
        'route': [], 'tags': {}, 'tags_all': {}})], mod, alias)
    res('aws_route_table_association', 'private', [(i, {
        'id': assoc[i], 'route_table_id': rtb, 'subnet_id': sid, 'gateway_id': ''})
        for i, sid in enumerate(subnets)], mod, alias)
    # Outside the module, in the root with the region's provider: the bastion's group, in the
    # module's VPC.
    bastion = group(ec2, region, vpc, 'tfm-' + short + '-bastion', 'bastion', None, alias, 'bastion_' + short)
    # In the module: the database group, reachable from the bastion.
    db = group(ec2, region, vpc, 'tfm-' + short + '-db', 'db', mod, alias, 'db')
    ec2.authorize_security_group_ingress(GroupId=db, IpPermissions=[{'IpProtocol': 'tcp',
        'FromPort': 5432, 'ToPort': 5432, 'UserIdGroupPairs': [{'GroupId': bastion}]}])
    res('aws_vpc_security_group_ingress_rule', 'db_from_bastion', [(None, {
        'id': 'sgr-' + short, 'security_group_id': db, 'referenced_security_group_id': bastion,
        'ip_protocol': 'tcp', 'from_port': 5432, 'to_port': 5432, 'cidr_ipv4': None,
        'description': None})], mod, alias)

iam = client('iam', 'us-east-1')
trust = json.dumps({'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow',
    'Principal': {'Service': 'ec2.amazonaws.com'}, 'Action': 'sts:AssumeRole'}]})
role = iam.create_role(RoleName='tfm-node', AssumeRolePolicyDocument=trust)['Role']
res('aws_iam_role', 'node', [(None, {
    'id': 'tfm-node', 'name': 'tfm-node', 'arn': role['Arn'], 'path': '/', 'unique_id': role['RoleId'],
    'assume_role_policy': trust, 'description': '', 'max_session_duration': 3600,
    'managed_policy_arns': [], 'inline_policy': [], 'permissions_boundary': '',
    'tags': {}, 'tags_all': {}})])

print(json.dumps({'version': 4, 'terraform_version': '1.9.5', 'serial': 3,
                  'lineage': '5d0f3c2a-8b61-4c0e-9a57-1e2b3c4d5e6f', 'outputs': {},
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
out['iam_role'] = [r['RoleName'] for r in client('iam', 'us-east-1').list_roles()['Roles'] if r['RoleName'].startswith('tfm-')]
print(json.dumps({k: v for k, v in out.items() if v}))
"#;

#[test]
fn one_module_per_region_is_adopted_as_one_module_planned_applied_and_destroyed() {
    let emu = Emulator::start();
    let state = emu.boto3(MAKE_PLATFORM);
    let work = fresh_dir("adopt", "terraform-modules");
    std::fs::write(work.join("terraform.tfstate"), &state).expect("write the Terraform state");
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
    // 2 regions x (vpc, 2 subnets, route table, 2 groups) + role; nothing unmapped.
    assert!(
        adopted
            .stdout
            .contains("as 13 regionctl resource(s); unmapped 0."),
        "{}",
        adopted.describe()
    );
    assert!(
        adopted.stdout.contains("Modules:")
            && adopted.stdout.contains(
                "module.euw1 (eu-west-1), module.use1 (us-east-1): one module, modules/adopted"
            ),
        "{}",
        adopted.describe()
    );
    let read = |rel: &str| {
        std::fs::read_to_string(project.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    };
    let module = read("modules/adopted/module.yaml");
    let use1 = read("envs/us-east-1/terraform.yaml");
    let all = format!("{module}\n---\n{use1}");
    // The rule from the bastion's group is an input passed as a reference; the bastion's group
    // reads the module's VPC through an output; the count subnets stay one resource.
    assert!(
        use1.contains("  use1:\n    source: ../../modules/adopted\n"),
        "{all}"
    );
    assert!(
        use1.contains("source_security_group_id: \"${security_group.bastion_use1.id}\""),
        "{all}"
    );
    assert!(
        use1.contains("vpc_id: \"${module.use1.vpc_main_id}\""),
        "{all}"
    );
    assert!(
        module.contains("subnet_ids: \"${subnet.private[*].id}\""),
        "{all}"
    );

    let validate = run(&project, &emu, &["validate"]);
    assert_eq!(validate.code, Some(0), "{}", validate.describe());

    // The first plan: identity tags added in place, and nothing else, at the module addresses.
    let first = changes(&project, &emu);
    assert!(
        first
            .iter()
            .any(|(a, ..)| a == "eu-west-1/module.euw1.subnet.private[1]"),
        "{first:?}"
    );
    for (addr, actions, changed) in &first {
        assert_eq!(
            actions,
            &serde_json::json!(["update"]),
            "{addr}: {changed:?}\n{all}"
        );
        assert_eq!(changed, &["tags"], "{addr}\n{all}");
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
    assert!(again.stdout.contains("No changes."), "{}", again.describe());

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
