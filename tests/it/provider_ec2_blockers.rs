//! A VPC, subnet or security group that cannot be deleted because of things regionctl did not
//! create: the provider's error lists exactly those things, by id, and deleting them lets the
//! deletion through. The strays are made with boto3, the way Kubernetes' load balancer
//! controller (or a person) would make them behind regionctl's back.
//!
//! moto 5.2 deletes subnets, security groups and VPCs that are still in use; the emulator's
//! `regionctl_moto/ec2_dependencies.py` makes it answer `DependencyViolation` as EC2 does.

use crate::support::emulator::Emulator;
use crate::support::{Res, attrs};
use regionctl::provider::error::{Blocker, BlockerKind};
use regionctl::provider::{Observed, Provider, ProviderError};
use serde_json::json;

const REGION: &str = "eu-west-1";

async fn create(p: &Provider, addr: &str, desired: serde_json::Value) -> Observed {
    let r = Res::new(addr);
    p.create_and_wait(&r.ctx(), &attrs(desired))
        .await
        .unwrap_or_else(|e| panic!("create {addr}: {e}"))
}

async fn delete(p: &Provider, addr: &str, prior: &Observed) -> Result<(), ProviderError> {
    let r = Res::new(addr);
    p.delete(&r.ctx(), prior, &attrs(json!({}))).await
}

/// The blockers of a `Blocked` error, after checking what it is about.
fn blocked(result: Result<(), ProviderError>, id: &str) -> (Vec<Blocker>, String) {
    let err = result.expect_err("the deletion is refused while strays use the resource");
    let text = err.to_string();
    assert_eq!(
        err.code(),
        Some("DependencyViolation"),
        "the code stays visible to retries: {text}"
    );
    match err {
        ProviderError::Blocked {
            id: blocked_id,
            region,
            blockers,
            ..
        } => {
            assert_eq!(blocked_id, id, "{text}");
            assert_eq!(region, REGION, "{text}");
            (blockers, text)
        }
        other => panic!("expected a Blocked error listing the strays, got: {other:?}"),
    }
}

fn ids(blockers: &[Blocker]) -> Vec<(BlockerKind, &str)> {
    blockers.iter().map(|b| (b.kind, b.id.as_str())).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn deletions_blocked_by_strays_name_exactly_the_strays() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    let vpc = create(
        &p,
        "eu-west-1/vpc.main",
        json!({"cidr_block": "10.0.0.0/16"}),
    )
    .await;
    let subnet = create(
        &p,
        "eu-west-1/subnet.a",
        json!({"vpc_id": vpc.id, "cidr_block": "10.0.1.0/24", "availability_zone": "eu-west-1a"}),
    )
    .await;
    let group = create(
        &p,
        "eu-west-1/security_group.nodes",
        json!({"name": "nodes", "vpc_id": vpc.id}),
    )
    .await;

    // What the AWS load balancer controller leaves when a cluster goes before its services: a
    // load balancer's interface in our subnet, using our node group's security group and its
    // own, untagged.
    let strays: serde_json::Value = serde_json::from_str(&emu.boto3(&format!(
        r#"
ec2 = client('ec2', {REGION:?})
sg = ec2.create_security_group(VpcId={vpc:?}, GroupName='k8s-elb-web',
                               Description='[k8s] Managed SecurityGroup for LoadBalancer')['GroupId']
# A rule of theirs that admits our nodes: it references our group too.
ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[{{
    'IpProtocol': 'tcp', 'FromPort': 443, 'ToPort': 443,
    'UserIdGroupPairs': [{{'GroupId': {group:?}}}]}}])
eni = ec2.create_network_interface(SubnetId={subnet:?}, Groups=[sg, {group:?}],
                                   Description='ELB net/k8s-default-web-123')['NetworkInterface']
print(json.dumps({{'sg': sg, 'eni': eni['NetworkInterfaceId']}}))
"#,
        vpc = vpc.id,
        subnet = subnet.id,
        group = group.id,
    )))
    .expect("the script prints JSON");
    let eni = strays["eni"].as_str().expect("an ENI id");
    let stray_sg = strays["sg"].as_str().expect("a group id");

    // Our security group: the interface uses it, and the stray group's rule references it.
    let (blockers, text) = blocked(
        delete(&p, "eu-west-1/security_group.nodes", &group).await,
        &group.id,
    );
    assert_eq!(
        ids(&blockers),
        vec![
            (BlockerKind::NetworkInterface, eni),
            (BlockerKind::SecurityGroup, stray_sg)
        ],
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "{stray_sg} (k8s-elb-web, whose rules reference it)"
        )),
        "{text}"
    );
    assert_eq!(
        blockers[0].description,
        "load balancer net/k8s-default-web-123"
    );

    // Our subnet: the interface is in it.
    let (blockers, text) = blocked(delete(&p, "eu-west-1/subnet.a", &subnet).await, &subnet.id);
    assert_eq!(
        ids(&blockers),
        vec![(BlockerKind::NetworkInterface, eni)],
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "these resources not managed by regionctl still use it: \
             {eni} (load balancer net/k8s-default-web-123)."
        )),
        "{text}"
    );
    assert!(
        text.contains("let Kubernetes delete its load balancers"),
        "{text}"
    );

    // The VPC: the interface and the stray group, but neither our subnet nor our group (which
    // still exist: they are this destroy's business, not a stranger's).
    let (blockers, text) = blocked(delete(&p, "eu-west-1/vpc.main", &vpc).await, &vpc.id);
    assert_eq!(
        ids(&blockers),
        vec![
            (BlockerKind::NetworkInterface, eni),
            (BlockerKind::SecurityGroup, stray_sg)
        ],
        "{text}"
    );
    assert!(
        text.contains(&format!("{stray_sg} (k8s-elb-web)")),
        "{text}"
    );
    for ours in [&subnet.id, &group.id] {
        assert!(
            !text.contains(ours.as_str()),
            "lists our own {ours}: {text}"
        );
    }

    // Once the strays are gone, everything deletes, in the usual order.
    emu.boto3(&format!(
        "ec2 = client('ec2', {REGION:?})\n\
         ec2.delete_network_interface(NetworkInterfaceId={eni:?})\n\
         ec2.delete_security_group(GroupId={stray_sg:?})\n"
    ));
    delete(&p, "eu-west-1/security_group.nodes", &group)
        .await
        .expect("the group deletes once nothing uses it");
    delete(&p, "eu-west-1/subnet.a", &subnet)
        .await
        .expect("the subnet deletes once it is empty");
    delete(&p, "eu-west-1/vpc.main", &vpc)
        .await
        .expect("the VPC deletes once it is empty");
    let r = Res::new("eu-west-1/vpc.main");
    assert!(p.read(&r.ctx(), &vpc.id).await.expect("read").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_vpc_held_only_by_our_own_resources_keeps_the_plain_aws_error() {
    // The executor retries DependencyViolation while our own dependents drain: that error must
    // not blame strangers.
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    let vpc = create(
        &p,
        "eu-west-1/vpc.main",
        json!({"cidr_block": "10.1.0.0/16"}),
    )
    .await;
    let subnet = create(
        &p,
        "eu-west-1/subnet.a",
        json!({"vpc_id": vpc.id, "cidr_block": "10.1.1.0/24", "availability_zone": "eu-west-1a"}),
    )
    .await;
    let err = delete(&p, "eu-west-1/vpc.main", &vpc)
        .await
        .expect_err("a VPC with a subnet is refused");
    assert!(
        matches!(&err, ProviderError::Aws { code, operation: "DeleteVpc", .. } if code == "DependencyViolation"),
        "expected the plain AWS error, got: {err:?}"
    );
    delete(&p, "eu-west-1/subnet.a", &subnet)
        .await
        .expect("delete subnet");
    delete(&p, "eu-west-1/vpc.main", &vpc)
        .await
        .expect("delete vpc");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_instance_and_a_foreign_nat_gateway_are_named_rather_than_their_interfaces() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    let vpc = create(
        &p,
        "eu-west-1/vpc.main",
        json!({"cidr_block": "10.2.0.0/16"}),
    )
    .await;
    let subnet = create(
        &p,
        "eu-west-1/subnet.a",
        json!({"vpc_id": vpc.id, "cidr_block": "10.2.1.0/24", "availability_zone": "eu-west-1a"}),
    )
    .await;
    let strays: serde_json::Value = serde_json::from_str(&emu.boto3(&format!(
        r#"
ec2 = client('ec2', {REGION:?})
image = ec2.describe_images(Owners=['amazon'])['Images'][0]['ImageId']
instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1,
                             SubnetId={subnet:?})['Instances'][0]['InstanceId']
alloc = ec2.allocate_address(Domain='vpc')['AllocationId']
nat = ec2.create_nat_gateway(SubnetId={subnet:?}, AllocationId=alloc,
    TagSpecifications=[{{'ResourceType': 'natgateway',
                        'Tags': [{{'Key': 'Name', 'Value': 'hand-made'}}]}}])['NatGateway']['NatGatewayId']
print(json.dumps({{'instance': instance, 'nat': nat}}))
"#,
        subnet = subnet.id,
    )))
    .expect("the script prints JSON");
    let instance = strays["instance"].as_str().expect("an instance id");
    let nat = strays["nat"].as_str().expect("a NAT gateway id");

    let (blockers, text) = blocked(delete(&p, "eu-west-1/subnet.a", &subnet).await, &subnet.id);
    assert_eq!(
        ids(&blockers),
        vec![
            (BlockerKind::Instance, instance),
            (BlockerKind::NatGateway, nat)
        ],
        "{text}"
    );
    assert!(text.contains(&format!("{nat} (hand-made)")), "{text}");
    assert!(
        !text.contains("Kubernetes"),
        "no load balancer, no Kubernetes hint: {text}"
    );
}
