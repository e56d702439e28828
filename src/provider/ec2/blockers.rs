//! What keeps a VPC, subnet or security group from being deleted when AWS answers
//! `DependencyViolation`: the resources in it that regionctl did not create (load balancers and
//! network interfaces left by Kubernetes, stray security groups, instances), so that the error
//! names exactly what a person has to delete.
//!
//! `delete` computes the listing on every `DependencyViolation` rather than leaving it to the
//! executor: the executor retries that code for a while (dependents may still be draining), and
//! the error it finally gives up with is then the one from the last attempt, listing what blocks
//! the deletion at that moment; every other caller of `delete` gets the same error without
//! knowing about blockers. It costs one to six describes per refused deletion, which is small
//! next to the executor's retry interval. `Blocked::code` stays `DependencyViolation`, so retry
//! decisions are unchanged.
//!
//! Listing is best effort: a describe that fails leaves its part out (logged at debug level) and,
//! when nothing is found, the original AWS error is returned unchanged. Anything tagged with this
//! stack is regionctl's own and is never listed: it is either still being deleted by this destroy
//! or it is the executor's business.

use std::collections::BTreeSet;

use aws_sdk_ec2::types::{Filter, NatGatewayState, NetworkInterface, Tag};

use crate::provider::error::{Blocker, BlockerKind};
use crate::provider::{Ctx, Provider, ProviderError, STACK_TAG};

const DEPENDENCY_VIOLATION: &str = "DependencyViolation";

/// When `err` is a `DependencyViolation` and resources outside the stack use the resource,
/// replaces it with [`ProviderError::Blocked`] listing them; otherwise returns `err`.
pub(super) async fn explain(
    p: &Provider,
    ctx: &Ctx<'_>,
    id: &str,
    err: ProviderError,
    vpc_id: Option<&str>,
    subnet_id: Option<&str>,
    sg_id: Option<&str>,
) -> ProviderError {
    let Some(code) = err.code().filter(|c| *c == DEPENDENCY_VIOLATION) else {
        return err;
    };
    let code = code.to_owned();
    let found = blockers(p, ctx, vpc_id, subnet_id, sg_id).await;
    if found.is_empty() {
        return err;
    }
    ProviderError::Blocked {
        subject: ctx.subject(),
        region: ctx.region.to_owned(),
        id: id.to_owned(),
        code,
        blockers: found,
    }
}

/// The resources outside this stack that use the given VPC, subnet or security group, sorted
/// by kind and id: network interfaces (named after their load balancer, NAT gateway or
/// requester), the instances and NAT gateways they belong to, and for a VPC also its other
/// security groups, subnets, internet gateways and route tables. A security group also counts
/// the groups whose inbound rules reference it.
pub(super) async fn blockers(
    p: &Provider,
    ctx: &Ctx<'_>,
    vpc_id: Option<&str>,
    subnet_id: Option<&str>,
    sg_id: Option<&str>,
) -> Vec<Blocker> {
    let client = p.clients.ec2(ctx.region);
    let ours = |tags: &[Tag]| {
        tags.iter()
            .any(|t| t.key() == Some(STACK_TAG) && t.value() == Some(p.stack.as_str()))
    };
    let mut found = BTreeSet::new();

    // NAT gateways first: their interfaces are named after them, and a gateway of this stack
    // that is still deleting is not a stranger's.
    let mut nat_filters = Vec::new();
    if let Some(vpc) = vpc_id {
        nat_filters.push(filter("vpc-id", vpc));
    }
    if let Some(subnet) = subnet_id {
        nat_filters.push(filter("subnet-id", subnet));
    }
    let mut nats = Vec::new();
    if !nat_filters.is_empty() {
        let listed = client
            .describe_nat_gateways()
            .set_filter(Some(nat_filters))
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await;
        nats = ok_or_log(listed, "DescribeNatGateways");
        nats.retain(|n| n.state() != Some(&NatGatewayState::Deleted));
    }
    let nat_of = |eni: &NetworkInterface| {
        let id = eni.network_interface_id()?;
        nats.iter().find(|n| {
            n.nat_gateway_addresses()
                .iter()
                .any(|a| a.network_interface_id() == Some(id))
                || n.nat_gateway_id().is_some_and(|nat| {
                    eni.description()
                        .is_some_and(|d| d.ends_with(&format!("NAT Gateway {nat}")))
                })
        })
    };

    let mut eni_filters = Vec::new();
    if let Some(vpc) = vpc_id {
        eni_filters.push(filter("vpc-id", vpc));
    }
    if let Some(subnet) = subnet_id {
        eni_filters.push(filter("subnet-id", subnet));
    }
    if let Some(sg) = sg_id {
        eni_filters.push(filter("group-id", sg));
    }
    let listed = client
        .describe_network_interfaces()
        .set_filters(Some(eni_filters))
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await;
    for eni in ok_or_log(listed, "DescribeNetworkInterfaces") {
        if ours(eni.tag_set()) {
            continue;
        }
        let Some(eni_id) = eni.network_interface_id() else {
            continue;
        };
        if let Some(instance) = eni.attachment().and_then(|a| a.instance_id()) {
            found.insert(Blocker {
                kind: BlockerKind::Instance,
                id: instance.to_owned(),
                description: format!("EC2 instance, through {eni_id}"),
            });
        } else if let Some(nat) = nat_of(&eni) {
            if !ours(nat.tags()) {
                found.insert(nat_blocker(
                    nat.nat_gateway_id().unwrap_or(eni_id),
                    nat.tags(),
                ));
            }
        } else {
            found.insert(Blocker {
                kind: BlockerKind::NetworkInterface,
                id: eni_id.to_owned(),
                description: describe_interface(&eni),
            });
        }
    }

    if let Some(sg) = sg_id {
        // A group referenced by another group's inbound rule cannot be deleted either.
        let listed = client
            .describe_security_groups()
            .filters(filter("ip-permission.group-id", sg))
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await;
        for group in ok_or_log(listed, "DescribeSecurityGroups") {
            if let Some(id) = group.group_id()
                && id != sg
                && !ours(group.tags())
            {
                found.insert(Blocker {
                    kind: BlockerKind::SecurityGroup,
                    id: id.to_owned(),
                    description: format!(
                        "{}, whose rules reference it",
                        group.group_name().unwrap_or("security group")
                    ),
                });
            }
        }
    }

    if let Some(vpc) = vpc_id {
        vpc_contents(p, ctx, vpc, &ours, &mut found).await;
        for nat in &nats {
            if !ours(nat.tags())
                && let Some(id) = nat.nat_gateway_id()
            {
                found.insert(nat_blocker(id, nat.tags()));
            }
        }
    }
    found.into_iter().collect()
}

/// A VPC's security groups (but its default one), subnets, attached internet gateways and route
/// tables (but its main one) that are not the stack's.
async fn vpc_contents(
    p: &Provider,
    ctx: &Ctx<'_>,
    vpc: &str,
    ours: &impl Fn(&[Tag]) -> bool,
    found: &mut BTreeSet<Blocker>,
) {
    let client = p.clients.ec2(ctx.region);
    let groups = client
        .describe_security_groups()
        .filters(filter("vpc-id", vpc))
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await;
    for group in ok_or_log(groups, "DescribeSecurityGroups") {
        if group.group_name() == Some("default") || ours(group.tags()) {
            continue;
        }
        if let Some(id) = group.group_id() {
            found.insert(Blocker {
                kind: BlockerKind::SecurityGroup,
                id: id.to_owned(),
                description: group.group_name().unwrap_or_default().to_owned(),
            });
        }
    }

    let subnets = client
        .describe_subnets()
        .filters(filter("vpc-id", vpc))
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await;
    for subnet in ok_or_log(subnets, "DescribeSubnets") {
        if ours(subnet.tags()) {
            continue;
        }
        if let Some(id) = subnet.subnet_id() {
            found.insert(Blocker {
                kind: BlockerKind::Subnet,
                id: id.to_owned(),
                description: named(
                    subnet.tags(),
                    &format!("subnet {}", subnet.cidr_block().unwrap_or_default()),
                ),
            });
        }
    }

    let gateways = client
        .describe_internet_gateways()
        .filters(filter("attachment.vpc-id", vpc))
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await;
    for gateway in ok_or_log(gateways, "DescribeInternetGateways") {
        if ours(gateway.tags()) {
            continue;
        }
        if let Some(id) = gateway.internet_gateway_id() {
            found.insert(Blocker {
                kind: BlockerKind::InternetGateway,
                id: id.to_owned(),
                description: named(gateway.tags(), "internet gateway, attached"),
            });
        }
    }

    let tables = client
        .describe_route_tables()
        .filters(filter("vpc-id", vpc))
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await;
    for table in ok_or_log(tables, "DescribeRouteTables") {
        let main = table.associations().iter().any(|a| a.main() == Some(true));
        if main || ours(table.tags()) {
            continue;
        }
        if let Some(id) = table.route_table_id() {
            found.insert(Blocker {
                kind: BlockerKind::RouteTable,
                id: id.to_owned(),
                description: named(table.tags(), "route table"),
            });
        }
    }
}

fn filter(name: &str, value: &str) -> Filter {
    Filter::builder().name(name).values(value).build()
}

fn ok_or_log<T, E: std::fmt::Display>(listed: Result<Vec<T>, E>, operation: &str) -> Vec<T> {
    listed.unwrap_or_else(|e| {
        tracing::debug!(operation, error = %e, "listing deletion blockers");
        Vec::new()
    })
}

/// The `Name` tag, else `fallback`.
fn named(tags: &[Tag], fallback: &str) -> String {
    tags.iter()
        .find(|t| t.key() == Some("Name"))
        .and_then(Tag::value)
        .unwrap_or(fallback)
        .to_owned()
}

fn nat_blocker(id: &str, tags: &[Tag]) -> Blocker {
    Blocker {
        kind: BlockerKind::NatGateway,
        id: id.to_owned(),
        description: named(tags, "NAT gateway"),
    }
}

/// A person's name for a network interface: the load balancer it belongs to ("ELB net/k8s-..."
/// is how Elastic Load Balancing describes its interfaces), else its description, else its type
/// and requester.
pub(super) fn describe_interface(eni: &NetworkInterface) -> String {
    let description = eni.description().unwrap_or_default();
    if let Some(lb) = description.strip_prefix("ELB ") {
        return format!("load balancer {lb}");
    }
    let kind = eni
        .interface_type()
        .map(|t| t.as_str())
        .filter(|t| *t != "interface");
    let requester = eni
        .requester_managed()
        .unwrap_or(false)
        .then(|| eni.requester_id())
        .flatten();
    let mut out = match (description.is_empty(), kind) {
        (false, _) => description.to_owned(),
        (true, Some(kind)) => kind.replace('_', " "),
        (true, None) => "network interface".to_owned(),
    };
    if let Some(requester) = requester {
        out.push_str(&format!(", managed by {requester}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ec2::types::NetworkInterfaceType;

    #[test]
    fn load_balancer_interfaces_are_named_after_their_load_balancer() {
        let eni = NetworkInterface::builder()
            .network_interface_id("eni-1")
            .description("ELB net/k8s-default-web-123/0123456789abcdef")
            .interface_type(NetworkInterfaceType::NetworkLoadBalancer)
            .requester_managed(true)
            .requester_id("amazon-elb")
            .build();
        assert_eq!(
            describe_interface(&eni),
            "load balancer net/k8s-default-web-123/0123456789abcdef"
        );
    }

    #[test]
    fn other_interfaces_say_what_they_are_and_who_manages_them() {
        let eks = NetworkInterface::builder()
            .description("Amazon EKS prod-eu")
            .requester_managed(true)
            .requester_id("123456789012")
            .build();
        assert_eq!(
            describe_interface(&eks),
            "Amazon EKS prod-eu, managed by 123456789012"
        );
        let endpoint = NetworkInterface::builder()
            .interface_type(NetworkInterfaceType::VpcEndpoint)
            .build();
        assert_eq!(describe_interface(&endpoint), "vpc endpoint");
        let bare = NetworkInterface::builder().build();
        assert_eq!(describe_interface(&bare), "network interface");
    }

    #[test]
    fn the_blocked_error_lists_every_blocker_and_says_what_to_do() {
        let err = ProviderError::Blocked {
            subject: crate::provider::Subject::Resource(
                "eu-west-1/vpc.main".parse().expect("valid"),
            ),
            region: "eu-west-1".to_owned(),
            id: "vpc-123".to_owned(),
            code: DEPENDENCY_VIOLATION.to_owned(),
            blockers: vec![
                Blocker {
                    kind: BlockerKind::NetworkInterface,
                    id: "eni-1".to_owned(),
                    description: "load balancer net/k8s-web".to_owned(),
                },
                Blocker {
                    kind: BlockerKind::SecurityGroup,
                    id: "sg-2".to_owned(),
                    description: "k8s-elb-web".to_owned(),
                },
            ],
        };
        assert_eq!(
            err.code(),
            Some(DEPENDENCY_VIOLATION),
            "retries still see the code"
        );
        let text = err.to_string();
        assert!(
            text.starts_with(
                "eu-west-1/vpc.main in eu-west-1: cannot delete vpc-123: DependencyViolation; \
                 these resources not managed by regionctl still use it: \
                 eni-1 (load balancer net/k8s-web), sg-2 (k8s-elb-web). Delete them (or let \
                 Kubernetes delete its load balancers"
            ),
            "{text}"
        );
        assert!(text.ends_with("and run destroy again."), "{text}");
    }
}
