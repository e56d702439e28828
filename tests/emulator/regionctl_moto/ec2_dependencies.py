"""EC2: deletions that AWS refuses while something still uses the resource, which moto 5.2 allows.

Fixes (each follows the API reference of the operation named; installed by ec2.install()):
- DeleteSubnet removed a subnet that still held network interfaces; it answers
  DependencyViolation ("The subnet '<id>' has dependencies and cannot be deleted."), as EC2 does.
- DeleteSecurityGroup removed a group still attached to a network interface; it answers
  DependencyViolation ("resource <id> has a dependent object"). References from other groups'
  rules are not checked (moto does not track them either way).
- DeleteVpc checked subnets, route tables and VPN gateways only; it also refuses while the VPC
  still has a non-default security group, an attached internet gateway or a network interface.
- A NAT gateway's network interface outlived the gateway; EC2 removes it once the gateway is
  `deleted`, and describes it meanwhile as requester-managed, of type `nat_gateway`, with the
  description "Interface for NAT Gateway <id>". Both now hold, so a destroy that waits for its
  gateways before deleting their subnets works, and one that does not is refused.

These let tests see what a destroy meets when Kubernetes (or a person) left load balancers,
network interfaces or security groups in a VPC regionctl manages.
"""

# Installed by ec2.install(), before its own patches.
INSTALLED_BY = "ec2"


from moto.ec2.exceptions import DependencyViolationError
from moto.ec2.models import EC2Backend

_original_delete_subnet = EC2Backend.delete_subnet
_original_delete_sg = EC2Backend.delete_security_group
_original_delete_vpc = EC2Backend.delete_vpc
_original_get_enis = EC2Backend.get_all_network_interfaces


def _sync_nat_interfaces(backend) -> None:
    """Names live NAT gateways' interfaces as EC2 does and removes those of deleted gateways."""
    for gateway in list(getattr(backend, "nat_gateways", {}).values()):
        eni = getattr(gateway, "_eni", None)
        if eni is None or eni.id not in backend.enis:
            continue
        if gateway.state == "deleted":
            del backend.enis[eni.id]
        else:
            eni.interface_type = "nat_gateway"
            eni.requester_managed = True
            eni.description = f"Interface for NAT Gateway {gateway.id}"


def _interfaces(backend, predicate) -> list:
    _sync_nat_interfaces(backend)
    return [eni for eni in backend.enis.values() if predicate(eni)]


def delete_subnet(self, subnet_id: str):
    if _interfaces(self, lambda eni: eni.subnet.id == subnet_id):
        raise DependencyViolationError(
            f"The subnet '{subnet_id}' has dependencies and cannot be deleted."
        )
    return _original_delete_subnet(self, subnet_id)


def delete_security_group(self, name=None, group_id=None):
    group = self.get_security_group_from_id(group_id) if group_id else None
    if group is not None and _interfaces(
        self, lambda eni: any(g.id == group.id for g in eni.group_set)
    ):
        raise DependencyViolationError(f"resource {group.id} has a dependent object")
    return _original_delete_sg(self, name=name, group_id=group_id)


def delete_vpc(self, vpc_id: str):
    groups = [g for g in self.groups.get(vpc_id, {}).values() if g.name != "default"]
    gateways = [
        igw
        for igw in self.internet_gateways.values()
        if igw.vpc is not None and igw.vpc.id == vpc_id
    ]
    interfaces = _interfaces(self, lambda eni: eni.subnet.vpc_id == vpc_id)
    if groups or gateways or interfaces:
        raise DependencyViolationError(
            f"The vpc '{vpc_id}' has dependencies and cannot be deleted."
        )
    return _original_delete_vpc(self, vpc_id)


def get_all_network_interfaces(self, eni_ids=None, filters=None):
    _sync_nat_interfaces(self)
    return _original_get_enis(self, eni_ids, filters)


def install() -> None:
    EC2Backend.delete_subnet = delete_subnet
    EC2Backend.delete_security_group = delete_security_group
    EC2Backend.delete_vpc = delete_vpc
    EC2Backend.get_all_network_interfaces = get_all_network_interfaces
