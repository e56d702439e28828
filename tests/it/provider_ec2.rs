//! EC2 networking kinds against the emulator, through the real SDK: create, read back, update in
//! place, replace, delete, in two regions.

use crate::support::emulator::Emulator;
use crate::support::{Res, attr, attrs};
use regionctl::kind::Kind;
use regionctl::provider::{Attrs, Hints, Observed, Provider, Status};
use regionctl::spec::value::Value;
use serde_json::json;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread")]
async fn vpc_lifecycle_in_two_regions() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    for region in ["eu-west-1", "ap-southeast-1"] {
        let r = Res::new(&format!("{region}/vpc.main"));
        let ctx = r.ctx();
        let desired = attrs(json!({
            "cidr_block": "10.20.0.0/16",
            "enable_dns_support": true,
            "enable_dns_hostnames": true,
            "tags": {"Name": "main", "team": "platform"},
        }));
        let vpc = p.create_and_wait(&ctx, &desired).await.expect("create");
        assert_eq!(vpc.status, Status::Ready);
        assert!(vpc.id.starts_with("vpc-"), "{}", vpc.id);
        assert_eq!(vpc.region, region);
        assert_eq!(attr(&vpc.attrs, "cidr_block"), "10.20.0.0/16");
        assert_eq!(
            vpc.attrs.get("enable_dns_hostnames"),
            Some(&Value::Bool(true))
        );
        assert_eq!(vpc.attrs.get("tags"), desired.get("tags"), "user tags only");
        assert_eq!(
            vpc.address_tag(),
            Some(format!("{region}/vpc.main").as_str())
        );
        assert_eq!(vpc.stack_tag(), Some("tests"));
        assert!(attr(&vpc.computed, "arn").starts_with(&format!("arn:aws:ec2:{region}:")));

        // Read back by id, and find it by the batched refresh (the region's default VPC, which
        // is not the stack's, must not be listed).
        let read = p.read(&ctx, &vpc.id).await.expect("read").expect("exists");
        assert_eq!(read, vpc);
        let listed = p
            .refresh(r.kind, region, &Hints::default())
            .await
            .expect("refresh");
        assert_eq!(listed, vec![vpc.clone()]);

        // Update in place: DNS hostnames off, one tag changed, one removed.
        let changed = attrs(json!({
            "cidr_block": "10.20.0.0/16",
            "enable_dns_support": true,
            "enable_dns_hostnames": false,
            "tags": {"Name": "main-2"},
        }));
        let updated = p
            .update_and_wait(&ctx, &vpc, &changed)
            .await
            .expect("update");
        assert_eq!(updated.id, vpc.id, "updated in place");
        assert_eq!(
            updated.attrs.get("enable_dns_hostnames"),
            Some(&Value::Bool(false))
        );
        assert_eq!(updated.attrs.get("tags"), changed.get("tags"));
        assert_eq!(
            updated.address_tag(),
            vpc.address_tag(),
            "identity tags kept"
        );

        // Replace (cidr_block forces it): create the new one, then delete the old.
        let replacement = attrs(json!({"cidr_block": "10.30.0.0/16"}));
        let new = p
            .create_and_wait(&ctx, &replacement)
            .await
            .expect("create replacement");
        assert_ne!(new.id, vpc.id);
        p.delete_and_wait(&ctx, &updated, &changed)
            .await
            .expect("delete old");
        assert!(p.read(&ctx, &vpc.id).await.expect("read").is_none());
        assert_eq!(
            p.refresh(r.kind, region, &Hints::default())
                .await
                .expect("refresh"),
            vec![new.clone()]
        );

        // Delete, and deleting again is not an error.
        p.delete_and_wait(&ctx, &new, &replacement)
            .await
            .expect("delete");
        p.delete(&ctx, &new, &replacement)
            .await
            .expect("delete twice");
        assert!(
            p.refresh(r.kind, region, &Hints::default())
                .await
                .expect("refresh")
                .is_empty()
        );
    }
    assert!(p.clients.requests().operation("CreateVpc") >= 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn aws_errors_name_the_resource_region_and_code() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    let r = Res::new("eu-west-1/vpc.bad");
    let err = p
        .create(&r.ctx(), &attrs(json!({"cidr_block": "10.0.0.0/8"})))
        .await
        .expect_err("a /8 VPC is refused by EC2");
    let text = err.to_string();
    assert_eq!(err.code(), Some("InvalidVpc.Range"), "{text}");
    assert!(text.contains("eu-west-1/vpc.bad"), "{text}");
    assert!(text.contains("in eu-west-1"), "{text}");
    assert!(text.contains("CreateVpc"), "{text}");
}

// ---------------------------------------------------------------------------------------------
// Helpers for the kinds that live in a VPC.

const REGIONS: [&str; 2] = ["eu-west-1", "us-east-1"];

async fn make_vpc(p: &Provider, region: &str, name: &str, cidr: &str) -> Observed {
    let r = Res::new(&format!("{region}/vpc.{name}"));
    p.create_and_wait(&r.ctx(), &attrs(json!({"cidr_block": cidr})))
        .await
        .expect("create vpc")
}

async fn make_subnet(
    p: &Provider,
    region: &str,
    name: &str,
    vpc: &Observed,
    cidr: &str,
) -> Observed {
    let r = Res::new(&format!("{region}/subnet.{name}"));
    let desired = attrs(json!({
        "vpc_id": vpc.id,
        "cidr_block": cidr,
        "availability_zone": format!("{region}a"),
    }));
    p.create_and_wait(&r.ctx(), &desired)
        .await
        .expect("create subnet")
}

async fn make_igw(p: &Provider, region: &str, name: &str, vpc: &Observed) -> Observed {
    let r = Res::new(&format!("{region}/internet_gateway.{name}"));
    p.create_and_wait(&r.ctx(), &attrs(json!({"vpc_id": vpc.id})))
        .await
        .expect("create internet gateway")
}

fn ids(observed: &[Observed]) -> Vec<String> {
    let mut ids: Vec<String> = observed.iter().map(|o| o.id.clone()).collect();
    ids.sort();
    ids
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

async fn refresh(p: &Provider, kind: Kind, region: &str) -> Vec<Observed> {
    p.refresh(kind, region, &Hints::default())
        .await
        .expect("refresh")
}

/// Elastic IPs carrying the stack tag of `stack`.
async fn stack_addresses(
    p: &Provider,
    region: &str,
    stack: &str,
) -> Vec<aws_sdk_ec2::types::Address> {
    p.clients
        .ec2(region)
        .describe_addresses()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("tag:regionctl:stack")
                .values(stack)
                .build(),
        )
        .send()
        .await
        .expect("describe addresses")
        .addresses
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// subnet

#[tokio::test(flavor = "multi_thread")]
async fn subnet_lifecycle_in_two_regions() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    let other = emu.provider("other-stack").await;
    for region in REGIONS {
        let vpc = make_vpc(&p, region, "main", "10.20.0.0/16").await;
        let r = Res::new(&format!("{region}/subnet.public"));
        let ctx = r.ctx();
        let desired = attrs(json!({
            "vpc_id": vpc.id,
            "cidr_block": "10.20.1.0/24",
            "availability_zone": format!("{region}a"),
            "map_public_ip_on_launch": true,
            "tags": {"Name": "public"},
        }));
        let subnet = p.create_and_wait(&ctx, &desired).await.expect("create");
        assert_eq!(subnet.status, Status::Ready);
        assert!(subnet.id.starts_with("subnet-"), "{}", subnet.id);
        assert_eq!(subnet.attrs, desired, "observed attrs equal the spec");
        assert_eq!(
            subnet.address_tag(),
            Some(format!("{region}/subnet.public").as_str())
        );
        assert_eq!(attr(&subnet.computed, "id"), subnet.id);
        assert!(attr(&subnet.computed, "arn").starts_with(&format!("arn:aws:ec2:{region}:")));
        assert_eq!(
            p.read(&ctx, &subnet.id).await.expect("read"),
            Some(subnet.clone())
        );

        // Another stack's subnet in the same VPC and the default VPC's subnets are not listed.
        let theirs = make_subnet(&other, region, "theirs", &vpc, "10.20.9.0/24").await;
        assert_eq!(
            refresh(&p, Kind::Subnet, region).await,
            vec![subnet.clone()]
        );
        assert_eq!(
            ids(&refresh(&other, Kind::Subnet, region).await),
            vec![theirs.id.clone()]
        );

        // In place: public IPs off, tags changed.
        let changed = attrs(json!({
            "vpc_id": vpc.id,
            "cidr_block": "10.20.1.0/24",
            "availability_zone": format!("{region}a"),
            "map_public_ip_on_launch": false,
            "tags": {"Name": "public-2", "tier": "web"},
        }));
        let updated = p
            .update_and_wait(&ctx, &subnet, &changed)
            .await
            .expect("update");
        assert_eq!(updated.id, subnet.id);
        assert_eq!(updated.attrs, changed);
        assert_eq!(
            updated.address_tag(),
            subnet.address_tag(),
            "identity tags kept"
        );

        // Replace (cidr_block forces it), then delete the old one.
        let replacement = attrs(json!({
            "vpc_id": vpc.id,
            "cidr_block": "10.20.2.0/24",
            "availability_zone": format!("{region}b"),
        }));
        let new = p
            .create_and_wait(&ctx, &replacement)
            .await
            .expect("create replacement");
        assert_ne!(new.id, subnet.id);
        assert_eq!(
            new.attrs.get("map_public_ip_on_launch"),
            Some(&Value::Bool(false))
        );
        p.delete_and_wait(&ctx, &updated, &changed)
            .await
            .expect("delete old");
        assert_eq!(refresh(&p, Kind::Subnet, region).await, vec![new.clone()]);

        p.delete_and_wait(&ctx, &new, &replacement)
            .await
            .expect("delete");
        p.delete(&ctx, &new, &replacement)
            .await
            .expect("delete twice");
        assert!(p.read(&ctx, &new.id).await.expect("read").is_none());
        assert!(refresh(&p, Kind::Subnet, region).await.is_empty());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn subnet_outside_its_vpc_is_refused_with_the_aws_code() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    let vpc = make_vpc(&p, "ap-southeast-1", "main", "10.0.0.0/16").await;
    let r = Res::new("ap-southeast-1/subnet.bad");
    let err = p
        .create(
            &r.ctx(),
            &attrs(json!({
                "vpc_id": vpc.id,
                "cidr_block": "10.1.0.0/24",
                "availability_zone": "ap-southeast-1a",
            })),
        )
        .await
        .expect_err("a subnet outside the VPC's block is refused");
    let text = err.to_string();
    assert_eq!(err.code(), Some("InvalidSubnet.Range"), "{text}");
    assert!(text.contains("ap-southeast-1/subnet.bad"), "{text}");
    assert!(text.contains("in ap-southeast-1"), "{text}");
    assert!(text.contains("CreateSubnet"), "{text}");
}

// ---------------------------------------------------------------------------------------------
// internet_gateway

#[tokio::test(flavor = "multi_thread")]
async fn internet_gateway_lifecycle_moves_between_vpcs_in_place() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    for region in REGIONS {
        let first = make_vpc(&p, region, "first", "10.1.0.0/16").await;
        let second = make_vpc(&p, region, "second", "10.2.0.0/16").await;
        let r = Res::new(&format!("{region}/internet_gateway.main"));
        let ctx = r.ctx();
        let desired = attrs(json!({"vpc_id": first.id, "tags": {"Name": "main"}}));
        let igw = p.create_and_wait(&ctx, &desired).await.expect("create");
        assert_eq!(igw.status, Status::Ready, "attached");
        assert!(igw.id.starts_with("igw-"), "{}", igw.id);
        assert_eq!(igw.attrs, desired);
        assert!(attr(&igw.computed, "arn").contains(":internet-gateway/igw-"));
        assert_eq!(
            p.read(&ctx, &igw.id).await.expect("read"),
            Some(igw.clone())
        );
        // The default VPC's gateway (if any) is not the stack's.
        assert_eq!(
            refresh(&p, Kind::InternetGateway, region).await,
            vec![igw.clone()]
        );

        // vpc_id is not force_new: detach from the first VPC, attach to the second.
        let moved = attrs(json!({"vpc_id": second.id, "tags": {"Name": "moved"}}));
        let updated = p.update_and_wait(&ctx, &igw, &moved).await.expect("update");
        assert_eq!(updated.id, igw.id, "moved in place");
        assert_eq!(updated.attrs, moved);
        // Detached behind regionctl's back (or by a run killed between create and attach): a
        // detached gateway is settled, not pending, so apply's wait before the update that
        // re-attaches it returns at once instead of polling until the kind's time limit.
        emu.boto3(&format!(
            "client('ec2', '{region}').detach_internet_gateway(\
             InternetGatewayId='{}', VpcId='{}')",
            igw.id, second.id
        ));
        let detached = tokio::time::timeout(Duration::from_secs(10), p.wait_ready(&ctx, &igw.id))
            .await
            .expect("a detached gateway is not waited for")
            .expect("read the detached gateway");
        assert_eq!(detached.status, Status::Ready, "{detached:?}");
        assert_eq!(detached.attrs.get("vpc_id"), None, "{detached:?}");
        let updated = p
            .update_and_wait(&ctx, &detached, &moved)
            .await
            .expect("attach again");
        assert_eq!(updated.attrs, moved);
        // The first VPC is free of it: it can be deleted.
        let first_res = Res::new(&format!("{region}/vpc.first"));
        p.delete_and_wait(&first_res.ctx(), &first, &Attrs::new())
            .await
            .expect("the first VPC no longer has a gateway");

        // Delete detaches first; deleting again is not an error.
        p.delete_and_wait(&ctx, &updated, &moved)
            .await
            .expect("delete");
        p.delete(&ctx, &updated, &moved)
            .await
            .expect("delete twice");
        assert!(refresh(&p, Kind::InternetGateway, region).await.is_empty());
        let second_res = Res::new(&format!("{region}/vpc.second"));
        p.delete_and_wait(&second_res.ctx(), &second, &Attrs::new())
            .await
            .expect("the second VPC no longer has a gateway");
    }
}

// ---------------------------------------------------------------------------------------------
// nat_gateway

#[tokio::test(flavor = "multi_thread")]
async fn nat_gateway_waits_and_releases_its_elastic_ip() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    let other = emu.provider("other-stack").await;
    emu.set_delay("nat_gateway", 3);
    for region in REGIONS {
        let vpc = make_vpc(&p, region, "main", "10.0.0.0/16").await;
        let _igw = make_igw(&p, region, "main", &vpc).await;
        let public = make_subnet(&p, region, "public", &vpc, "10.0.1.0/24").await;
        let r = Res::new(&format!("{region}/nat_gateway.main"));
        let ctx = r.ctx();
        let desired = attrs(json!({"subnet_id": public.id, "tags": {"Name": "nat"}}));

        let created = p.create(&ctx, &desired).await.expect("create");
        assert_eq!(created.status, Status::Pending("pending".to_owned()));
        assert!(created.id.starts_with("nat-"), "{}", created.id);
        let nat = p
            .wait_ready(&ctx, &created.id)
            .await
            .expect("becomes available");
        assert_eq!(nat.status, Status::Ready);
        assert_eq!(nat.id, created.id);
        assert_eq!(attr(&nat.attrs, "subnet_id"), public.id);
        assert_eq!(attr(&nat.attrs, "connectivity_type"), "public");
        assert_eq!(nat.attrs.get("tags"), desired.get("tags"));
        let allocation_id = attr(&nat.computed, "allocation_id").to_owned();
        assert!(allocation_id.starts_with("eipalloc-"), "{allocation_id}");
        assert!(!attr(&nat.computed, "public_ip").is_empty());
        assert!(!attr(&nat.computed, "private_ip").is_empty());

        // The Elastic IP regionctl allocated is tagged like the gateway.
        let eips = stack_addresses(&p, region, "tests").await;
        assert_eq!(eips.len(), 1, "{eips:?}");
        assert_eq!(eips[0].allocation_id(), Some(allocation_id.as_str()));
        let eip_tags: std::collections::BTreeMap<_, _> = eips[0]
            .tags()
            .iter()
            .map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default()))
            .collect();
        assert_eq!(
            eip_tags.get("regionctl:address"),
            Some(&format!("{region}/nat_gateway.main").as_str())
        );
        assert_eq!(eip_tags.get("Name"), Some(&"nat"));

        // A gateway of another stack in the same subnet is not listed: the stack tag filter
        // applies server-side.
        let theirs_res = Res::new(&format!("{region}/nat_gateway.theirs"));
        let theirs = other
            .create_and_wait(&theirs_res.ctx(), &attrs(json!({"subnet_id": public.id})))
            .await
            .expect("other stack's gateway");
        let requests_before = p.clients.requests().operation("DescribeNatGateways");
        let listed = refresh(&p, Kind::NatGateway, region).await;
        assert_eq!(
            p.clients.requests().operation("DescribeNatGateways") - requests_before,
            1
        );
        assert_eq!(listed, vec![nat.clone()]);
        assert_eq!(
            ids(&refresh(&other, Kind::NatGateway, region).await),
            vec![theirs.id.clone()]
        );

        // Tags change in place.
        let retagged = attrs(json!({"subnet_id": public.id, "tags": {"Name": "nat-2"}}));
        let updated = p
            .update_and_wait(&ctx, &nat, &retagged)
            .await
            .expect("update");
        assert_eq!(updated.id, nat.id);
        assert_eq!(updated.attrs.get("tags"), retagged.get("tags"));

        // Delete waits for `deleted` (EC2 holds the address until then) and releases the EIP.
        p.delete_and_wait(&ctx, &updated, &retagged)
            .await
            .expect("delete");
        assert!(
            p.read(&ctx, &nat.id).await.expect("read").is_none(),
            "deleted is gone"
        );
        assert!(
            stack_addresses(&p, region, "tests").await.is_empty(),
            "EIP released"
        );
        assert_eq!(
            stack_addresses(&other, region, "other-stack").await.len(),
            1,
            "not theirs"
        );
        p.delete(&ctx, &updated, &retagged)
            .await
            .expect("delete twice");
        assert!(refresh(&p, Kind::NatGateway, region).await.is_empty());
        other
            .delete_and_wait(&theirs_res.ctx(), &theirs, &Attrs::new())
            .await
            .expect("delete theirs");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn nat_gateway_reuses_the_elastic_ip_of_an_interrupted_create() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    let region = "eu-west-1";
    let vpc = make_vpc(&p, region, "main", "10.0.0.0/16").await;
    let _igw = make_igw(&p, region, "main", &vpc).await;
    let public = make_subnet(&p, region, "public", &vpc, "10.0.1.0/24").await;
    let r = Res::new("eu-west-1/nat_gateway.main");
    let ctx = r.ctx();
    let desired = attrs(json!({"subnet_id": public.id}));

    // What an attempt interrupted between AllocateAddress and CreateNatGateway leaves behind.
    let tags = p.identity_tags(&r.addr, &desired);
    let leftover = p
        .clients
        .ec2(region)
        .allocate_address()
        .domain(aws_sdk_ec2::types::DomainType::Vpc)
        .tag_specifications(
            aws_sdk_ec2::types::TagSpecification::builder()
                .resource_type(aws_sdk_ec2::types::ResourceType::ElasticIp)
                .set_tags(Some(
                    tags.iter()
                        .map(|(k, v)| aws_sdk_ec2::types::Tag::builder().key(k).value(v).build())
                        .collect(),
                ))
                .build(),
        )
        .send()
        .await
        .expect("allocate")
        .allocation_id
        .expect("allocation id");

    let allocations = p.clients.requests().operation("AllocateAddress");
    let nat = p.create_and_wait(&ctx, &desired).await.expect("create");
    assert_eq!(attr(&nat.computed, "allocation_id"), leftover);
    assert_eq!(
        stack_addresses(&p, region, "tests").await.len(),
        1,
        "no second EIP"
    );
    assert_eq!(
        p.clients.requests().operation("AllocateAddress"),
        allocations
    );

    // The same ClientToken answers the same gateway.
    let again = p
        .create_and_wait(&ctx, &desired)
        .await
        .expect("create again");
    assert_eq!(again.id, nat.id);
    assert_eq!(
        stack_addresses(&p, region, "tests").await.len(),
        1,
        "still one EIP"
    );

    p.delete_and_wait(&ctx, &nat, &desired)
        .await
        .expect("delete");
    assert!(stack_addresses(&p, region, "tests").await.is_empty());

    // A private gateway has no Elastic IP.
    let private = attrs(json!({"subnet_id": public.id, "connectivity_type": "private"}));
    let r2 = Res::new("eu-west-1/nat_gateway.private");
    let nat = p
        .create_and_wait(&r2.ctx(), &private)
        .await
        .expect("create private");
    assert_eq!(attr(&nat.attrs, "connectivity_type"), "private");
    assert!(
        !nat.computed.contains_key("allocation_id"),
        "{:?}",
        nat.computed
    );
    assert!(stack_addresses(&p, region, "tests").await.is_empty());
    p.delete_and_wait(&r2.ctx(), &nat, &private)
        .await
        .expect("delete private");
}

// ---------------------------------------------------------------------------------------------
// route_table

#[tokio::test(flavor = "multi_thread")]
async fn route_table_routes_and_associations_are_managed_exactly() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    for region in REGIONS {
        let vpc = make_vpc(&p, region, "main", "10.0.0.0/16").await;
        let igw = make_igw(&p, region, "main", &vpc).await;
        let a = make_subnet(&p, region, "a", &vpc, "10.0.1.0/24").await;
        let b = make_subnet(&p, region, "b", &vpc, "10.0.2.0/24").await;
        let nat_res = Res::new(&format!("{region}/nat_gateway.main"));
        let nat = p
            .create_and_wait(&nat_res.ctx(), &attrs(json!({"subnet_id": a.id})))
            .await
            .expect("nat");

        let r = Res::new(&format!("{region}/route_table.public"));
        let ctx = r.ctx();
        let desired = attrs(json!({
            "vpc_id": vpc.id,
            "routes": [{"destination_cidr_block": "0.0.0.0/0", "gateway_id": igw.id}],
            "subnet_ids": [a.id],
            "tags": {"Name": "public"},
        }));
        let table = p.create_and_wait(&ctx, &desired).await.expect("create");
        assert_eq!(table.status, Status::Ready);
        assert!(table.id.starts_with("rtb-"), "{}", table.id);
        assert_eq!(table.attrs, desired, "the local route is implicit");
        assert_eq!(attr(&table.computed, "id"), table.id);
        assert_eq!(
            p.read(&ctx, &table.id).await.expect("read"),
            Some(table.clone())
        );
        // Neither the VPC's main table nor the default VPC's are listed.
        assert_eq!(
            refresh(&p, Kind::RouteTable, region).await,
            vec![table.clone()]
        );

        // Replace the default route's target, add a route, move the association from a to b.
        let changed = attrs(json!({
            "vpc_id": vpc.id,
            "routes": [
                {"destination_cidr_block": "10.99.0.0/16", "gateway_id": igw.id},
                {"destination_cidr_block": "0.0.0.0/0", "nat_gateway_id": nat.id},
            ],
            "subnet_ids": [b.id],
            "tags": {"Name": "private"},
        }));
        let replaced_before = p.clients.requests().operation("ReplaceRoute");
        let updated = p
            .update_and_wait(&ctx, &table, &changed)
            .await
            .expect("update");
        assert_eq!(updated.id, table.id);
        assert_eq!(
            p.clients.requests().operation("ReplaceRoute") - replaced_before,
            1
        );
        assert_eq!(
            updated.attrs.get("routes"),
            Some(&Value::from_json(&json!([
                {"destination_cidr_block": "0.0.0.0/0", "nat_gateway_id": nat.id},
                {"destination_cidr_block": "10.99.0.0/16", "gateway_id": igw.id},
            ]))),
            "sorted by destination"
        );
        assert_eq!(
            updated.attrs.get("subnet_ids"),
            Some(&Value::from_json(&json!([b.id])))
        );

        // Remove a route, associate both subnets.
        let both = attrs(json!({
            "vpc_id": vpc.id,
            "routes": [{"destination_cidr_block": "0.0.0.0/0", "nat_gateway_id": nat.id}],
            "subnet_ids": [b.id, a.id],
            "tags": {"Name": "private"},
        }));
        let updated = p
            .update_and_wait(&ctx, &updated, &both)
            .await
            .expect("update");
        assert_eq!(updated.attrs.get("routes"), both.get("routes"));
        assert_eq!(
            updated.attrs.get("subnet_ids"),
            Some(&Value::from_json(&json!(sorted(vec![
                a.id.clone(),
                b.id.clone()
            ]))))
        );

        // A second table that claims subnet a takes it over.
        let r2 = Res::new(&format!("{region}/route_table.other"));
        let claim = attrs(json!({"vpc_id": vpc.id, "subnet_ids": [a.id]}));
        let second = p
            .create_and_wait(&r2.ctx(), &claim)
            .await
            .expect("create second");
        assert_eq!(second.attrs.get("subnet_ids"), claim.get("subnet_ids"));
        let first = p
            .read(&ctx, &table.id)
            .await
            .expect("read")
            .expect("exists");
        assert_eq!(
            first.attrs.get("subnet_ids"),
            Some(&Value::from_json(&json!([b.id])))
        );

        // Replace (vpc_id forces it) is create + delete; delete disassociates first.
        p.delete_and_wait(&ctx, &first, &both)
            .await
            .expect("delete");
        p.delete(&ctx, &first, &both).await.expect("delete twice");
        p.delete_and_wait(&r2.ctx(), &second, &claim)
            .await
            .expect("delete second");
        assert!(refresh(&p, Kind::RouteTable, region).await.is_empty());
        p.delete_and_wait(&nat_res.ctx(), &nat, &Attrs::new())
            .await
            .expect("delete nat");
    }
}

// ---------------------------------------------------------------------------------------------
// security_group

fn rules(json: serde_json::Value) -> Value {
    Value::from_json(&json)
}

#[tokio::test(flavor = "multi_thread")]
async fn security_group_lifecycle_and_rule_updates_in_two_regions() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    for region in REGIONS {
        let vpc = make_vpc(&p, region, "main", "10.0.0.0/16").await;
        let peer_res = Res::new(&format!("{region}/security_group.nodes"));
        let peer = p
            .create_and_wait(
                &peer_res.ctx(),
                &attrs(json!({"name": "nodes", "vpc_id": vpc.id})),
            )
            .await
            .expect("peer group");
        assert_eq!(attr(&peer.attrs, "description"), "Managed by regionctl");
        // Without `egress`, AWS's default allow-all egress rule stays.
        assert_eq!(
            peer.attrs.get("egress"),
            Some(&rules(
                json!([{"protocol": "all", "cidr_blocks": ["0.0.0.0/0"]}])
            ))
        );
        assert!(!peer.attrs.contains_key("ingress"));

        let r = Res::new(&format!("{region}/security_group.db"));
        let ctx = r.ctx();
        let desired = attrs(json!({
            "name": "db",
            "description": "PostgreSQL from the nodes",
            "vpc_id": vpc.id,
            "ingress": [
                {"protocol": "icmp", "cidr_blocks": ["10.0.0.0/16"]},
                {"protocol": "tcp", "from_port": 5432, "to_port": 5432,
                 "cidr_blocks": ["10.0.0.0/24", "10.0.1.0/24"], "description": "postgres"},
                {"protocol": "tcp", "from_port": 5432, "to_port": 5432,
                 "source_security_group_id": peer.id},
            ],
            "egress": [{"protocol": "all", "cidr_blocks": ["0.0.0.0/0"]}],
            "tags": {"Name": "db"},
        }));
        let sg = p.create_and_wait(&ctx, &desired).await.expect("create");
        assert_eq!(sg.status, Status::Ready);
        assert!(sg.id.starts_with("sg-"), "{}", sg.id);
        assert_eq!(sg.attrs, desired, "the spec is in the normal form");
        assert!(attr(&sg.computed, "arn").ends_with(&format!("security-group/{}", sg.id)));
        assert_eq!(p.read(&ctx, &sg.id).await.expect("read"), Some(sg.clone()));
        // The VPC's default group and the default VPC's are not listed.
        assert_eq!(
            ids(&refresh(&p, Kind::SecurityGroup, region).await),
            sorted(vec![peer.id.clone(), sg.id.clone()])
        );

        // Add a rule, change a rule's CIDRs, and replace egress (the allow-all rule is revoked).
        let changed = attrs(json!({
            "name": "db",
            "description": "PostgreSQL from the nodes",
            "vpc_id": vpc.id,
            "ingress": [
                {"protocol": "tcp", "from_port": 22, "to_port": 22, "cidr_blocks": ["192.168.0.0/16"]},
                {"protocol": "tcp", "from_port": 5432, "to_port": 5432,
                 "cidr_blocks": ["10.0.1.0/24", "10.0.2.0/24"], "description": "postgres"},
                {"protocol": "tcp", "from_port": 5432, "to_port": 5432,
                 "source_security_group_id": peer.id},
            ],
            "egress": [{"protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": ["0.0.0.0/0"]}],
            "tags": {"Name": "db"},
        }));
        let updated = p
            .update_and_wait(&ctx, &sg, &changed)
            .await
            .expect("update");
        assert_eq!(updated.id, sg.id);
        assert_eq!(updated.attrs, changed);

        // A description change and a removed rule; the rules may be written in any grouping.
        let regrouped = attrs(json!({
            "name": "db",
            "description": "PostgreSQL from the nodes",
            "vpc_id": vpc.id,
            "ingress": [
                {"protocol": "tcp", "from_port": 5432, "to_port": 5432, "cidr_blocks": ["10.0.2.0/24"],
                 "description": "pg"},
                {"protocol": "tcp", "from_port": 5432, "to_port": 5432, "cidr_blocks": ["10.0.1.0/24"],
                 "source_security_group_id": peer.id, "description": "pg"},
            ],
            "egress": [{"protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": ["0.0.0.0/0"]}],
        }));
        let updated = p
            .update_and_wait(&ctx, &updated, &regrouped)
            .await
            .expect("update");
        assert_eq!(
            updated.attrs.get("ingress"),
            Some(&rules(json!([
                {"protocol": "tcp", "from_port": 5432, "to_port": 5432,
                 "cidr_blocks": ["10.0.1.0/24", "10.0.2.0/24"], "description": "pg"},
                {"protocol": "tcp", "from_port": 5432, "to_port": 5432,
                 "source_security_group_id": peer.id, "description": "pg"},
            ]))),
            "regrouped into the normal form"
        );
        assert!(!updated.attrs.contains_key("tags"), "user tags removed");

        // Unchanged rules cost no Authorize/Revoke call.
        let rule_calls = |p: &Provider| {
            let r = p.clients.requests();
            r.operation("AuthorizeSecurityGroupIngress")
                + r.operation("RevokeSecurityGroupIngress")
                + r.operation("AuthorizeSecurityGroupEgress")
                + r.operation("RevokeSecurityGroupEgress")
        };
        let before = rule_calls(&p);
        let same = p
            .update_and_wait(&ctx, &updated, &regrouped)
            .await
            .expect("no-op update");
        assert_eq!(rule_calls(&p), before);
        assert_eq!(same, updated);

        // An empty egress list denies all outbound traffic.
        let mut closed = regrouped.clone();
        closed.insert("egress".into(), Value::List(vec![]));
        let updated = p
            .update_and_wait(&ctx, &same, &closed)
            .await
            .expect("close egress");
        assert!(!updated.attrs.contains_key("egress"), "{:?}", updated.attrs);

        // Replace (name forces it): create the new one, then delete the old.
        let renamed = attrs(json!({"name": "db-2", "vpc_id": vpc.id}));
        let new = p
            .create_and_wait(&ctx, &renamed)
            .await
            .expect("create replacement");
        assert_ne!(new.id, sg.id);
        p.delete_and_wait(&ctx, &updated, &closed)
            .await
            .expect("delete old");
        assert_eq!(
            ids(&refresh(&p, Kind::SecurityGroup, region).await),
            sorted(vec![peer.id.clone(), new.id.clone()])
        );

        p.delete_and_wait(&ctx, &new, &renamed)
            .await
            .expect("delete");
        p.delete(&ctx, &new, &renamed).await.expect("delete twice");
        p.delete_and_wait(&peer_res.ctx(), &peer, &Attrs::new())
            .await
            .expect("delete peer");
        assert!(refresh(&p, Kind::SecurityGroup, region).await.is_empty());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn security_group_create_finds_its_own_group_again_but_not_another() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    let region = "ap-southeast-1";
    let vpc = make_vpc(&p, region, "main", "10.0.0.0/16").await;
    let r = Res::new("ap-southeast-1/security_group.web");
    let desired = attrs(json!({
        "name": "web",
        "vpc_id": vpc.id,
        "ingress": [{"protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": ["0.0.0.0/0"]}],
    }));
    let sg = p.create_and_wait(&r.ctx(), &desired).await.expect("create");
    // A retried create (the first answer lost) finds the group by its name and its address tag.
    let again = p
        .create_and_wait(&r.ctx(), &desired)
        .await
        .expect("create again");
    assert_eq!(again, sg);

    // Another resource asking for the same name gets EC2's own error.
    let r2 = Res::new("ap-southeast-1/security_group.web2");
    let err = p
        .create(&r2.ctx(), &desired)
        .await
        .expect_err("duplicate name");
    let text = err.to_string();
    assert_eq!(err.code(), Some("InvalidGroup.Duplicate"), "{text}");
    assert!(
        text.contains("ap-southeast-1/security_group.web2"),
        "{text}"
    );
    assert!(text.contains("CreateSecurityGroup"), "{text}");
}
