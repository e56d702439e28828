"""Route 53: record changes, idempotent creates, change status and health check updates as AWS does.

moto 5.2 departs from the Route 53 API reference in ways regionctl relies on:

- ChangeResourceRecordSets: a DELETE of a record with a SetIdentifier deletes every record of the
  zone with that SetIdentifier, whatever its name and type; a DELETE does not check that the record
  exists with the values given; a CREATE of an existing record adds a duplicate; a batch is not
  atomic. Here a batch is checked as a whole against the zone, then applied: CREATE fails with
  InvalidChangeBatch "... but it already exists", DELETE must name one existing record (name, type,
  set identifier) with its current values, UPSERT replaces that one record.
- CreateHostedZone and CreateHealthCheck ignore CallerReference. Here a CallerReference used before
  answers HostedZoneAlreadyExists for zones; for health checks it returns the existing check when
  the settings are the same, and HealthCheckAlreadyExists when they differ or the check was deleted.
- Every change answers the same change id, always INSYNC, and GetChange knows no change. Here each
  change gets its own id, which stays PENDING for the configured number of GetChange calls (regionctl
  kinds `route53_record` for record changes, `route53_zone` for a new zone), and an unknown id
  answers NoSuchChange.
- UpdateHealthCheck drops the checker regions unless they are sent again, ignores ResetElements and
  HealthCheckVersion and never increments the version. Here omitted elements are kept, the
  ResetElements are reset, a stale version answers HealthCheckVersionMismatch and each update
  increments the version.
- CreateHealthCheck defaults the port to 80 and EnableSNI to false for every type: AWS uses 443 and
  true for HTTPS types. ListHealthChecks does not paginate. DeleteHealthCheck of an unknown id
  succeeds (AWS: NoSuchHealthCheck). DeleteHostedZone treats every NS record as the zone's own (AWS:
  only the apex NS and SOA).
"""

import copy
import string
import threading

from moto.moto_api._internal import mock_random as random
from moto.core.responses import ActionResult, EmptyResult
from moto.core.utils import utcnow
from moto.route53 import models, responses
from moto.route53.exceptions import (
    DnsNameInvalidForZone,
    HostedZoneNotEmpty,
    InvalidActionValue,
    NoSuchHealthCheck,
    Route53ClientError,
)
from moto.route53.utils import validate_domain_name

from . import delay

Backend = models.Route53Backend
Response = responses.Route53

_changes_lock = threading.Lock()
# Change id (without the /change/ prefix) -> the countdown deciding when it is INSYNC.
_changes: dict[str, delay.Countdown] = {}


class HostedZoneAlreadyExists(Route53ClientError):
    def __init__(self, name: str, reference: str) -> None:
        super().__init__(
            "HostedZoneAlreadyExists",
            f"A hosted zone has already been created with the specified caller reference "
            f"({reference}); the name requested was {name.rstrip('.')}.",
        )


class HealthCheckAlreadyExists(Route53ClientError):
    def __init__(self, reference: str) -> None:
        super().__init__(
            "HealthCheckAlreadyExists",
            f"A health check with caller reference {reference} already exists with different "
            f"settings, or was deleted.",
        )


class HealthCheckVersionMismatch(Route53ClientError):
    def __init__(self, given: int, current: int) -> None:
        super().__init__(
            "HealthCheckVersionMismatch",
            f"The value of HealthCheckVersion in the request ({given}) doesn't match the "
            f"value of HealthCheckVersion in the health check ({current}).",
        )


class NoSuchChange(Route53ClientError):
    def __init__(self, change_id: str) -> None:
        super().__init__("NoSuchChange", f"A change with the specified change ID {change_id} does not exist.")


class InvalidChangeBatch(Route53ClientError):
    def __init__(self, message: str) -> None:
        super().__init__("InvalidChangeBatch", message)


# ------------------------------------------------------------------------------------------------
# Change ids and their status.


def _new_change(kind: str) -> dict:
    change_id = "C" + "".join(random.choice(string.ascii_uppercase + string.digits) for _ in range(13))
    countdown = delay.start(kind)
    with _changes_lock:
        _changes[change_id] = countdown
    return {
        "Id": f"/change/{change_id}",
        "Status": "PENDING" if countdown.pending else "INSYNC",
        "SubmittedAt": utcnow(),
    }


def _with_change(original, kind: str):
    def patched(self):
        result = original(self)
        if isinstance(result, ActionResult) and isinstance(result.result, dict):
            result.result["ChangeInfo"] = _new_change(kind)
        return result

    return patched


def _get_change(self):
    change_id = self._get_param("Id").split("/")[-1]
    with _changes_lock:
        countdown = _changes.get(change_id)
    if countdown is None:
        raise NoSuchChange(change_id)
    status = "PENDING" if countdown.tick() else "INSYNC"
    return ActionResult({"ChangeInfo": {"Id": f"/change/{change_id}", "Status": status, "SubmittedAt": utcnow()}})


# ------------------------------------------------------------------------------------------------
# Record changes.


def _norm_name(name: str) -> str:
    return name.rstrip(".").lower() + "."


def _same_identity(rrset, change: dict) -> bool:
    return (
        _norm_name(rrset.name) == _norm_name(change["Name"])
        and rrset.type == change.get("Type")
        and (rrset.set_identifier or None) == (change.get("SetIdentifier") or None)
    )


def _describe(change: dict) -> str:
    parts = [f"name='{_norm_name(change['Name'])}'", f"type='{change.get('Type')}'"]
    if change.get("SetIdentifier"):
        parts.append(f"set-identifier='{change['SetIdentifier']}'")
    return "[" + ", ".join(parts) + "]"


def _alias_key(alias):
    if not alias:
        return None
    return (
        _norm_name(alias.get("DNSName", "")),
        alias.get("HostedZoneId"),
        str(alias.get("EvaluateTargetHealth", False)).lower() == "true",
    )


def _values_match(rrset, change: dict) -> bool:
    """Whether a DELETE names the record with its current values, as AWS requires."""
    values = sorted(r["Value"] if isinstance(r, dict) else r for r in change.get("ResourceRecords") or [])
    ttl = change.get("TTL")
    return (
        sorted(rrset.records or []) == values
        and (None if rrset.alias_target else int(rrset.ttl or 0)) == (None if ttl is None else int(ttl))
        and _alias_key(rrset.alias_target) == _alias_key(change.get("AliasTarget"))
        and (rrset.weight is None) == (change.get("Weight") is None)
        and (rrset.weight is None or int(rrset.weight) == int(change["Weight"]))
        and (rrset.region or None) == (change.get("Region") or None)
        and (rrset.failover or None) == (change.get("Failover") or None)
        and (rrset.health_check_id or None) == (change.get("HealthCheckId") or None)
    )


def _stored(change: dict):
    """The record as moto keeps it: values as plain strings, name with its final dot, and no TTL
    unless one was given (moto's 0 would be answered for alias records, which have none)."""
    record = copy.deepcopy(change)
    if not record["Name"].endswith("."):
        record["Name"] += "."
    if "ResourceRecords" in record:
        record["ResourceRecords"] = [r["Value"] if isinstance(r, dict) else r for r in record["ResourceRecords"]]
    rrset = models.RecordSet(record)
    if "TTL" not in record:
        rrset.ttl = None
    return rrset


def _change_resource_record_sets(self, zoneid: str, change_list: list) -> None:
    zone = self.get_hosted_zone(zoneid)
    # Work on a copy so a batch with one bad change changes nothing, as in AWS.
    rrsets = list(zone.rrsets)
    zone_name = zone.name.rstrip(".").lower()
    for change in change_list:
        action = change["Action"]
        if action not in ("CREATE", "UPSERT", "DELETE"):
            raise InvalidActionValue(action)
        record = change["ResourceRecordSet"]
        validate_domain_name(record["Name"], code="InvalidChangeBatch")
        name = record["Name"].rstrip(".").lower()
        if name != zone_name and not name.endswith("." + zone_name):
            raise DnsNameInvalidForZone(name=record["Name"], zone_name=zone.name)
        matches = [i for i, r in enumerate(rrsets) if _same_identity(r, record)]
        if action == "CREATE":
            if matches:
                raise InvalidChangeBatch(
                    f"[Tried to create resource record set {_describe(record)} but it already exists]"
                )
            rrsets.append(_stored(record))
        elif action == "UPSERT":
            new = _stored(record)
            if matches:
                rrsets[matches[0]] = new
            else:
                rrsets.append(new)
        else:
            if not matches:
                raise InvalidChangeBatch(
                    f"[Tried to delete resource record set {_describe(record)} but it was not found]"
                )
            if not _values_match(rrsets[matches[0]], record):
                raise InvalidChangeBatch(
                    f"[Tried to delete resource record set {_describe(record)} but the values "
                    f"provided do not match the current values]"
                )
            del rrsets[matches[0]]
    zone.rrsets = rrsets


def _delete_hosted_zone(self, id_: str):
    zone = self.get_hosted_zone(id_)
    apex = _norm_name(zone.name)
    for rrset in zone.rrsets:
        if not (rrset.type in ("NS", "SOA") and _norm_name(rrset.name) == apex):
            raise HostedZoneNotEmpty()
    return self.zones.pop(zone.resource_id, None)


# ------------------------------------------------------------------------------------------------
# Idempotent creates.

_original_create_hosted_zone = Backend.create_hosted_zone


def _create_hosted_zone(self, name: str, private_zone: bool, caller_reference=None, **kwargs):
    used = self.__dict__.setdefault("_regionctl_zone_references", set())
    if caller_reference is not None and caller_reference in used:
        raise HostedZoneAlreadyExists(name, caller_reference)
    zone = _original_create_hosted_zone(
        self, name, private_zone=private_zone, caller_reference=caller_reference, **kwargs
    )
    if caller_reference is not None:
        used.add(caller_reference)
    return zone


_original_create_health_check = Backend.create_health_check


def _settings(args: dict) -> dict:
    return {k: (sorted(v) if isinstance(v, list) else v) for k, v in args.items()}


def _create_health_check(self, caller_reference: str, health_check_args: dict):
    used = self.__dict__.setdefault("_regionctl_health_check_references", {})
    if caller_reference in used:
        check_id, settings = used[caller_reference]
        existing = self.health_checks.get(check_id)
        if existing is not None and settings == _settings(health_check_args):
            return existing
        raise HealthCheckAlreadyExists(caller_reference)
    args = dict(health_check_args)
    secure = args.get("type") in ("HTTPS", "HTTPS_STR_MATCH")
    if args.get("port") is None and args.get("type") != "CALCULATED":
        args["port"] = 443 if secure else 80
    if args.get("enable_sni") is None:
        args["enable_sni"] = secure
    check = _original_create_health_check(self, caller_reference, args)
    used[caller_reference] = (check.id, _settings(health_check_args))
    return check


# ------------------------------------------------------------------------------------------------
# Health checks.

_RESETTABLE = {
    "FullyQualifiedDomainName": "fqdn",
    "Regions": "regions",
    "ResourcePath": "resource_path",
    "ChildHealthChecks": "children",
}


def _update_health_check(self):
    check_id = self._get_param("HealthCheckId")
    check = self.backend.get_health_check(check_id)
    version = self._get_param("HealthCheckVersion")
    if version is not None and int(version) != check.health_check_version:
        raise HealthCheckVersionMismatch(int(version), check.health_check_version)
    args = {
        "ip_address": self._get_param("IPAddress"),
        "port": self._get_param("Port"),
        "resource_path": self._get_param("ResourcePath"),
        "fqdn": self._get_param("FullyQualifiedDomainName"),
        "search_string": self._get_param("SearchString"),
        "failure_threshold": self._get_param("FailureThreshold"),
        "health_threshold": self._get_param("HealthThreshold"),
        "inverted": self._get_param("Inverted"),
        "disabled": self._get_param("Disabled"),
        "enable_sni": self._get_param("EnableSNI"),
        # None keeps the current value (moto's default [] would drop it).
        "children": self._get_param("ChildHealthChecks"),
        "regions": self._get_param("Regions"),
    }
    check = self.backend.update_health_check(check_id, args)
    for element in self._get_param("ResetElements") or []:
        attribute = _RESETTABLE.get(element)
        if attribute:
            setattr(check, attribute, None)
    check.health_check_version += 1
    return ActionResult({"HealthCheck": check})


def _list_health_checks(self):
    checks = sorted(self.backend.list_health_checks(), key=lambda c: c.id)
    marker = self._get_param("Marker")
    max_items = int(self._get_param("MaxItems") or 100)
    if marker:
        checks = [c for c in checks if c.id >= marker]
    page, rest = checks[:max_items], checks[max_items:]
    result = {
        "HealthChecks": page,
        "Marker": marker or "",
        "IsTruncated": bool(rest),
        "MaxItems": max_items,
    }
    if rest:
        result["NextMarker"] = rest[0].id
    return ActionResult(result)


def _delete_health_check(self):
    check_id = self._get_param("HealthCheckId")
    if check_id not in self.backend.health_checks:
        raise NoSuchHealthCheck(check_id)
    self.backend.delete_health_check(check_id)
    self.backend.resource_tags.pop(check_id, None)
    return EmptyResult()


def install() -> None:
    Backend.change_resource_record_sets = _change_resource_record_sets
    Backend.delete_hosted_zone = _delete_hosted_zone
    Backend.create_hosted_zone = _create_hosted_zone
    Backend.create_health_check = _create_health_check
    Response.change_resource_record_sets = _with_change(Response.change_resource_record_sets, "route53_record")
    Response.create_hosted_zone = _with_change(Response.create_hosted_zone, "route53_zone")
    Response.delete_hosted_zone = _with_change(Response.delete_hosted_zone, "route53_zone")
    Response.get_change = _get_change
    Response.update_health_check = _update_health_check
    Response.list_health_checks = _list_health_checks
    Response.delete_health_check = _delete_health_check
