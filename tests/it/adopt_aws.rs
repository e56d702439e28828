//! `regionctl adopt aws` end to end, against the emulator: a VPC with its subnets, internet
//! gateway, route table, security group, RDS and ElastiCache subnet groups and a database, made
//! behind regionctl's back (boto3), next to a second VPC and a log group another regionctl
//! project manages. Adopt the VPC into a fresh directory; the first plan adds identity tags in
//! place and nothing else; apply; the next plan exits 0; adopting again refuses to overwrite;
//! `--tag` keeps only what carries the tag; destroy leaves nothing of the VPC.

use serde_json::Value as J;

use crate::harness::{Run, fresh_dir, regionctl_env};
use crate::support::emulator::Emulator;

/// Makes the resources; prints the ids the test needs.
const MAKE: &str = r#"
ec2 = client('ec2', 'us-east-1')
def tags(rtype, pairs):
    return [{'ResourceType': rtype, 'Tags': [{'Key': k, 'Value': v} for k, v in pairs]}]
vpc = ec2.create_vpc(CidrBlock='10.50.0.0/16',
                     TagSpecifications=tags('vpc', [('Name', 'live'), ('team', 'core')]))['Vpc']['VpcId']
ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={'Value': True})
subnets = []
for i, az in enumerate(['us-east-1a', 'us-east-1b']):
    pairs = [('Name', 'live-' + az[-1])] + ([('team', 'core')] if i == 0 else [])
    subnets.append(ec2.create_subnet(VpcId=vpc, CidrBlock=f'10.50.{i}.0/24', AvailabilityZone=az,
                                     TagSpecifications=tags('subnet', pairs))['Subnet']['SubnetId'])
igw = ec2.create_internet_gateway()['InternetGateway']['InternetGatewayId']
ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
rtb = ec2.create_route_table(VpcId=vpc, TagSpecifications=tags('route-table', [('Name', 'public')]))['RouteTable']['RouteTableId']
ec2.create_route(RouteTableId=rtb, DestinationCidrBlock='0.0.0.0/0', GatewayId=igw)
for s in subnets:
    ec2.associate_route_table(RouteTableId=rtb, SubnetId=s)
sg = ec2.create_security_group(GroupName='live-db', Description='database', VpcId=vpc)['GroupId']
ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[{'IpProtocol': 'tcp',
    'FromPort': 5432, 'ToPort': 5432, 'IpRanges': [{'CidrIp': '10.50.0.0/16'}]}])
rds = client('rds', 'us-east-1')
rds.create_db_subnet_group(DBSubnetGroupName='live-db', DBSubnetGroupDescription='live databases',
                           SubnetIds=subnets)
rds.create_db_instance(DBInstanceIdentifier='live-db', Engine='postgres', EngineVersion='16.3',
                       DBInstanceClass='db.t4g.micro', AllocatedStorage=20, MasterUsername='app',
                       MasterUserPassword='hunter2-live', DBSubnetGroupName='live-db',
                       VpcSecurityGroupIds=[sg], StorageEncrypted=True, MultiAZ=False,
                       AvailabilityZone='us-east-1a', BackupRetentionPeriod=7)
client('elasticache', 'us-east-1').create_cache_subnet_group(
    CacheSubnetGroupName='live-cache', CacheSubnetGroupDescription='live caches', SubnetIds=subnets)
other = ec2.create_vpc(CidrBlock='10.60.0.0/16')['Vpc']['VpcId']
ec2.create_subnet(VpcId=other, CidrBlock='10.60.0.0/24', AvailabilityZone='us-east-1a')
client('logs', 'us-east-1').create_log_group(logGroupName='/theirs/app',
                                             tags={'regionctl:stack': 'payments'})
print(json.dumps({'vpc': vpc, 'other': other}))
"#;

/// What is left of the adopted VPC and its resources (an empty object when nothing).
const LEFT: &str = r#"
ec2 = client('ec2', 'us-east-1')
out = {}
vpcs = [v['VpcId'] for v in ec2.describe_vpcs()['Vpcs'] if v['CidrBlock'] == '10.50.0.0/16']
out['vpc'] = vpcs
if vpcs:
    f = [{'Name': 'vpc-id', 'Values': vpcs}]
    out['subnet'] = [s['SubnetId'] for s in ec2.describe_subnets(Filters=f)['Subnets']]
    out['security_group'] = [g['GroupId'] for g in ec2.describe_security_groups(Filters=f)['SecurityGroups'] if g['GroupName'] != 'default']
    out['route_table'] = [t['RouteTableId'] for t in ec2.describe_route_tables(Filters=f)['RouteTables']]
out['internet_gateway'] = [g['InternetGatewayId'] for g in ec2.describe_internet_gateways()['InternetGateways']
                           if any(a['VpcId'] in vpcs for a in g.get('Attachments', []))]
rds = client('rds', 'us-east-1')
out['db_instance'] = [d['DBInstanceIdentifier'] for d in rds.describe_db_instances()['DBInstances']
                      if d['DBInstanceIdentifier'] == 'live-db' and d['DBInstanceStatus'] != 'deleting']
out['db_subnet_group'] = [g['DBSubnetGroupName'] for g in rds.describe_db_subnet_groups()['DBSubnetGroups']
                          if g['DBSubnetGroupName'] == 'live-db']
out['cache_subnet_group'] = [g['CacheSubnetGroupName'] for g in client('elasticache', 'us-east-1').describe_cache_subnet_groups()['CacheSubnetGroups']
                             if g['CacheSubnetGroupName'] == 'live-cache']
print(json.dumps({k: v for k, v in out.items() if v}))
"#;

fn run(dir: &std::path::Path, emu: &Emulator, args: &[&str]) -> Run {
    let mut env = emu.env();
    env.push(("LIVE_DB_PASSWORD", "hunter2-live".to_owned()));
    regionctl_env(dir, args, &env)
}

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

/// Every file under `dir`, as text.
fn all_text(dir: &std::path::Path) -> String {
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
fn a_live_vpc_is_adopted_planned_applied_and_destroyed() {
    let emu = Emulator::start();
    let ids: J = serde_json::from_str(&emu.boto3(MAKE)).expect("the ids print as JSON");
    let vpc = ids["vpc"].as_str().expect("a VPC id").to_owned();
    let work = fresh_dir("adopt", "aws");
    let project = work.join("live");

    let adopted = run(
        &work,
        &emu,
        &[
            "adopt",
            "aws",
            "--region",
            "us-east-1",
            "--vpc",
            &vpc,
            "--out",
            "live",
            "--project",
            "live",
        ],
    );
    assert_eq!(adopted.code, Some(0), "{}", adopted.describe());
    // VPC, 2 subnets, gateway, route table, group, 2 subnet groups, database.
    assert!(
        adopted.stdout.contains("us-east-1: adopted 9, skipped "),
        "{}",
        adopted.describe()
    );
    for want in [
        "log_group /theirs/app: regionctl stack payments manages it already",
        "set LIVE_DB_PASSWORD",
    ] {
        assert!(
            adopted.stdout.contains(want),
            "missing {want:?}:\n{}",
            adopted.describe()
        );
    }
    assert!(
        adopted.stderr.contains("vpc") && adopted.stderr.contains("lists left"),
        "progress while reading:\n{}",
        adopted.describe()
    );
    let spec_text =
        std::fs::read_to_string(project.join("envs/us-east-1/adopted.yaml")).unwrap_or_default();
    for want in [
        "vpc_id: \"${vpc.live.id}\"",
        // live-a and live-b differ only by zone: one resource with an instance per zone.
        "subnet.live:\n    for_each:",
        "subnet_ids: ['${subnet.live[\"us-east-1a\"].id}', '${subnet.live[\"us-east-1b\"].id}']",
        "gateway_id: \"${internet_gateway.live.id}",
        "db_subnet_group: \"${db_subnet_group.live-db.name}\"",
        "master_password_env: LIVE_DB_PASSWORD",
    ] {
        assert!(spec_text.contains(want), "missing {want:?}:\n{spec_text}");
    }
    assert!(
        !all_text(&project).contains("hunter2"),
        "the password leaked"
    );
    assert!(
        !spec_text.contains(ids["other"].as_str().unwrap_or("?")),
        "the other VPC is left out:\n{spec_text}"
    );
    let validate = run(&project, &emu, &["validate"]);
    assert_eq!(validate.code, Some(0), "{}", validate.describe());

    // The first plan: identity tags added in place, and nothing else.
    let first = changes(&project, &emu);
    assert_eq!(first.len(), 9, "{first:?}\n{spec_text}");
    for (addr, actions, changed) in &first {
        assert_eq!(
            actions,
            &serde_json::json!(["update"]),
            "{addr}: {changed:?}\n{spec_text}"
        );
        assert_eq!(changed, &["tags"], "{addr}\n{spec_text}");
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

    // Adopting again: regionctl's own tags now mark everything, so nothing is left to adopt.
    let twice = run(
        &work,
        &emu,
        &[
            "adopt",
            "aws",
            "--region",
            "us-east-1",
            "--vpc",
            &vpc,
            "--out",
            "live",
        ],
    );
    assert_eq!(twice.code, Some(0), "{}", twice.describe());
    assert!(
        twice.stdout.contains("Nothing to adopt in us-east-1")
            && twice
                .stdout
                .contains("regionctl stack live manages it already"),
        "{}",
        twice.describe()
    );

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

#[test]
fn a_tag_filter_keeps_what_carries_it_and_nothing_is_overwritten() {
    let emu = Emulator::start();
    let ids: J = serde_json::from_str(&emu.boto3(MAKE)).expect("the ids print as JSON");
    let vpc = ids["vpc"].as_str().expect("a VPC id").to_owned();
    let work = fresh_dir("adopt", "aws-tag");
    let tagged = run(
        &work,
        &emu,
        &[
            "adopt",
            "aws",
            "--region",
            "us-east-1",
            "--tag",
            "team=core",
            "--out",
            "p",
        ],
    );
    assert_eq!(tagged.code, Some(0), "{}", tagged.describe());
    assert!(
        tagged.stdout.contains("us-east-1: adopted 2, "),
        "{}",
        tagged.describe()
    );
    let text =
        std::fs::read_to_string(work.join("p/envs/us-east-1/adopted.yaml")).unwrap_or_default();
    assert!(text.contains(&vpc), "{text}");
    assert!(text.contains("subnet.live-a:"), "{text}");
    assert!(!text.contains("live-b"), "{text}");

    // Again: the entries exist, so nothing is written (the state is checked before any file).
    let before = all_text(&work.join("p"));
    let again = run(
        &work,
        &emu,
        &[
            "adopt",
            "aws",
            "--region",
            "us-east-1",
            "--tag",
            "team=core",
            "--out",
            "p",
        ],
    );
    assert_eq!(again.code, Some(1), "{}", again.describe());
    assert!(
        again.stderr.contains("already exists in the state") && again.stderr.contains("--force"),
        "{}",
        again.describe()
    );
    assert_eq!(all_text(&work.join("p")), before, "nothing was written");
    // A spec file in the way, with no state: refused too, naming the file.
    std::fs::remove_dir_all(work.join("p/.regionctl")).expect("remove the state");
    let blocked = run(
        &work,
        &emu,
        &[
            "adopt",
            "aws",
            "--region",
            "us-east-1",
            "--tag",
            "team=core",
            "--out",
            "p",
        ],
    );
    assert_eq!(blocked.code, Some(1), "{}", blocked.describe());
    assert!(
        blocked.stderr.contains("adopted.yaml already exists"),
        "{}",
        blocked.describe()
    );
    let forced = run(
        &work,
        &emu,
        &[
            "adopt",
            "aws",
            "--region",
            "us-east-1",
            "--tag",
            "team=core",
            "--out",
            "p",
            "--force",
        ],
    );
    assert_eq!(forced.code, Some(0), "{}", forced.describe());
    // A VPC that is not there.
    let missing = run(
        &work,
        &emu,
        &[
            "adopt",
            "aws",
            "--region",
            "us-east-1",
            "--vpc",
            "vpc-0123abcd",
            "--out",
            "q",
        ],
    );
    assert_eq!(missing.code, Some(1), "{}", missing.describe());
    assert!(
        missing
            .stderr
            .contains("there is no VPC vpc-0123abcd in us-east-1"),
        "{}",
        missing.describe()
    );
    assert!(!work.join("q").exists(), "nothing is written");
}
