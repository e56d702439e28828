"""EC2: moto 5.2 fixed where it departs from the EC2 API reference, and NAT gateways that take time.

Fixes (each follows the API reference of the operation named):
- DescribeNatGateways ignored tag filters (`tag:<key>`, `tag-key`, `tag-value`); they apply now.
  An unknown id in NatGatewayIds answers NatGatewayNotFound instead of an empty list.
- DeleteNatGateway of an unknown id failed with HTTP 500; it answers NatGatewayNotFound. Once the
  gateway is `deleted`, its Elastic IP is disassociated, as EC2 does.
- ReleaseAddress released an Elastic IP still used by a NAT gateway that is not deleted yet; it
  answers InvalidIPAddress.InUse, as EC2 does, so a provider has to wait for the gateway first.
- CreateNatGateway and CreateRouteTable ignored ClientToken; a repeated token now answers the
  resource the first request created (EC2 idempotency), and a repeated token with another subnet
  or Elastic IP answers IdempotentParameterMismatch.
- AssociateRouteTable of a subnet already associated with another route table silently answered
  that other association; it answers Resource.AlreadyAssociated, as EC2 does.

Delays (regionctl kind "nat_gateway", see delay.py): a gateway reports `pending` for N describes
after CreateNatGateway before `available`, and `deleting` for N describes after DeleteNatGateway
before `deleted`.
"""

from moto.core.responses import ActionResult
from moto.ec2.exceptions import EC2ClientError
from moto.ec2.models import EC2Backend
from moto.ec2.responses.nat_gateways import NatGateways
from moto.ec2.responses.route_tables import RouteTables
from moto.ec2.utils import generic_filter

from . import delay, ec2_dependencies

NAT_KIND = "nat_gateway"
_TAG_FILTERS = ("tag:", "tag-key", "tag-value")


def _is_tag_filter(name: str) -> bool:
    return name.startswith(_TAG_FILTERS)


def _nat_not_found(nat_id: str) -> EC2ClientError:
    return EC2ClientError("NatGatewayNotFound", f"The Nat Gateway {nat_id} was not found")


def _tokens(backend) -> dict:
    """ClientToken -> id of what the first request with it created, per backend (reset-safe)."""
    tokens = getattr(backend, "_rc_client_tokens", None)
    if tokens is None:
        tokens = {}
        backend._rc_client_tokens = tokens
    return tokens


# --- NAT gateways ---------------------------------------------------------------------------------


def _advance(backend, gateway) -> None:
    """One describe of `gateway`: moves it along its (possibly delayed) lifecycle."""
    deleting = getattr(gateway, "_rc_deleting", None)
    creating = getattr(gateway, "_rc_creating", None)
    if deleting is not None:
        if gateway.state == "deleted":
            return
        if deleting.tick():
            gateway.state = "deleting"
            return
        gateway.state = "deleted"
        _free_address(backend, gateway)
    elif creating is not None:
        gateway.state = "pending" if creating.tick() else "available"


def _free_address(backend, gateway) -> None:
    for entry in gateway.address_set:
        association = entry.get("associationId")
        if association:
            try:
                backend.disassociate_address(association_id=association)
            except EC2ClientError:
                pass  # already released by hand
            entry["associationId"] = None


def _gateway_in_use(gateway) -> bool:
    """Whether EC2 still holds the gateway's Elastic IP (it does until the gateway is deleted)."""
    if gateway.state == "deleted":
        return False
    deleting = getattr(gateway, "_rc_deleting", None)
    return deleting is None or deleting.pending


_original_create_nat = EC2Backend.create_nat_gateway
_original_describe_nat = EC2Backend.describe_nat_gateways
_original_release = EC2Backend.release_address


def create_nat_gateway(self, *args, **kwargs):
    gateway = _original_create_nat(self, *args, **kwargs)
    gateway._rc_creating = delay.start(NAT_KIND)
    gateway.state = "pending" if gateway._rc_creating.pending else "available"
    return gateway


def delete_nat_gateway(self, nat_gateway_id: str):
    gateway = self.nat_gateways.get(nat_gateway_id)
    if gateway is None:
        raise _nat_not_found(nat_gateway_id)
    if getattr(gateway, "_rc_deleting", None) is None and gateway.state != "deleted":
        gateway._rc_deleting = delay.start(NAT_KIND)
        gateway.state = "deleting"
        if not gateway._rc_deleting.pending:
            gateway.state = "deleted"
            _free_address(self, gateway)
    return gateway


def describe_nat_gateways(self, filters, nat_gateway_ids):
    for nat_id in nat_gateway_ids or []:
        if nat_id not in self.nat_gateways:
            raise _nat_not_found(nat_id)
    filters = dict(filters or {})
    states = filters.pop("state", None)
    tag_filters = {k: v for k, v in filters.items() if _is_tag_filter(k)}
    other = {k: v for k, v in filters.items() if not _is_tag_filter(k)}
    gateways = _original_describe_nat(self, other or None, nat_gateway_ids)
    gateways = generic_filter(tag_filters, gateways)
    for gateway in gateways:
        _advance(self, gateway)
    if states is not None:
        gateways = [g for g in gateways if g.state in states]
    return gateways


def release_address(self, address=None, allocation_id=None):
    eips = (
        self.address_by_ip([address])
        if address
        else self.address_by_allocation([allocation_id])
    )
    for eip in eips:
        for gateway in self.nat_gateways.values():
            uses = any(
                entry.get("allocationId") == eip.allocation_id
                for entry in gateway.address_set
            )
            if uses and _gateway_in_use(gateway):
                raise EC2ClientError(
                    "InvalidIPAddress.InUse",
                    f"Address {eip.public_ip} is in use by {gateway.id}",
                )
    return _original_release(self, address=address, allocation_id=allocation_id)


_original_create_nat_response = NatGateways.create_nat_gateway


def create_nat_gateway_response(self):
    token = self._get_param("ClientToken")
    tokens = _tokens(self.ec2_backend)
    known = tokens.get(("nat", token)) if token else None
    if known and known in self.ec2_backend.nat_gateways:
        gateway = self.ec2_backend.nat_gateways[known]
        allocations = {e.get("allocationId") for e in gateway.address_set}
        allocation = self._get_param("AllocationId")
        if self._get_param("SubnetId") != gateway.subnet_id or (
            allocation and allocation not in allocations
        ):
            raise EC2ClientError(
                "IdempotentParameterMismatch",
                f"ClientToken {token} was used for {known} with other parameters",
            )
        return ActionResult({"NatGateway": gateway, "ClientToken": token})
    before = set(self.ec2_backend.nat_gateways)
    result = _original_create_nat_response(self)
    if token:
        for nat_id in set(self.ec2_backend.nat_gateways) - before:
            tokens[("nat", token)] = nat_id
    return result


# --- route tables ---------------------------------------------------------------------------------

_original_create_rtb_response = RouteTables.create_route_table
_original_associate = EC2Backend.associate_route_table


def create_route_table_response(self):
    token = self._get_param("ClientToken")
    tokens = _tokens(self.ec2_backend)
    known = tokens.get(("rtb", token)) if token else None
    if known and known in self.ec2_backend.route_tables:
        return ActionResult(
            {"RouteTable": self.ec2_backend.route_tables[known], "ClientToken": token}
        )
    before = set(self.ec2_backend.route_tables)
    result = _original_create_rtb_response(self)
    if token:
        for rtb_id in set(self.ec2_backend.route_tables) - before:
            tokens[("rtb", token)] = rtb_id
    return result


def associate_route_table(self, route_table_id, gateway_id=None, subnet_id=None):
    if subnet_id is not None:
        for table in self.route_tables.values():
            if table.id != route_table_id and subnet_id in table._associations.values():
                raise EC2ClientError(
                    "Resource.AlreadyAssociated",
                    f"the specified association for route table {route_table_id} "
                    f"conflicts with an existing association",
                )
    return _original_associate(self, route_table_id, gateway_id, subnet_id)


def install() -> None:
    # Deletions refused while something still uses the resource: their own module.
    ec2_dependencies.install()
    EC2Backend.create_nat_gateway = create_nat_gateway
    EC2Backend.delete_nat_gateway = delete_nat_gateway
    EC2Backend.describe_nat_gateways = describe_nat_gateways
    EC2Backend.release_address = release_address
    EC2Backend.associate_route_table = associate_route_table
    NatGateways.create_nat_gateway = create_nat_gateway_response
    RouteTables.create_route_table = create_route_table_response
