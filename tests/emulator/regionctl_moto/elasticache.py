"""ElastiCache: what moto 5.2 lacks for regionctl's cache_subnet_group and
elasticache_replication_group, following the ElastiCache API reference (2015-02-02).

moto 5.2 falls short in these ways, each fixed here:

- CreateReplicationGroup ignores NumCacheClusters (always one node), registers no member cache
  clusters (DescribeCacheClusters shows none), reports no ReaderEndpoint, names every endpoint
  `...use1.cache.amazonaws.com`, accepts a missing cache subnet group and keeps the engine
  version as sent ("7.1") where AWS reports the full one ("7.1.0").
- ModifyReplicationGroup, IncreaseReplicaCount, DecreaseReplicaCount, ModifyCacheSubnetGroup and
  DeleteCacheSubnetGroup do not exist (the query protocol answers HTML 500, which SDKs retry).
- A deleted replication group stays `deleting` forever, with its tags.
- ListTagsForResource / AddTagsToResource answer for resources that do not exist.
- Subnets of a cache subnet group carry their availability zone as a bare string, which the
  serialiser turns into an empty `SubnetAvailabilityZone`.

Slow lifecycles: a replication group created, modified (ModifyReplicationGroup, replica count
changes) or deleted while `delay.configure("elasticache_replication_group", N)` is set reports
`creating` / `modifying` / `deleting` for N DescribeReplicationGroups answers naming it, then
`available` (or is gone). Without a delay it is available at once and deleted at once. As in
AWS, a group that is not `available` cannot be modified, resized or deleted
(InvalidReplicationGroupState). There is no maintenance window: ApplyImmediately=false
modifications take effect at once too.
"""

from typing import Any

from moto.core.responses import ActionResult, EmptyResult
from moto.elasticache import exceptions, models, responses

from . import delay

KIND = "elasticache_replication_group"

_original: dict[str, Any] = {}


# ---------------------------------------------------------------------------------------------
# Errors AWS answers that moto does not define.


class InvalidReplicationGroupState(exceptions.ElastiCacheException):
    code = "InvalidReplicationGroupState"


class CacheSubnetGroupInUse(exceptions.ElastiCacheException):
    code = "CacheSubnetGroupInUse"


class CacheClusterNotFound(exceptions.ElastiCacheException):
    code = "CacheClusterNotFound"


def _combination(message: str) -> Exception:
    return exceptions.InvalidParameterCombinationException(message)


def _value(message: str) -> Exception:
    return exceptions.InvalidParameterValueException(message)


# ---------------------------------------------------------------------------------------------
# Shared helpers.


def _region_short(region: str) -> str:
    """eu-west-1 -> euw1, ap-southeast-1 -> apse1: the region part of ElastiCache host names."""
    parts = region.split("-")
    if len(parts) < 3:
        return region.replace("-", "")
    return parts[0] + "".join(p[0] for p in parts[1:-1]) + parts[-1]


def _full_version(engine: str, version: str | None) -> str:
    """AWS takes major.minor for Redis OSS 6+ and Valkey and reports the full version."""
    if not version:
        return "8.0.1" if engine == "valkey" else "7.1.0"
    parts = version.split(".")
    if len(parts) == 2 and parts[1].isdigit():
        return f"{version}.0"
    if len(parts) == 2 and parts[1] == "x":
        return f"{parts[0]}.0.5"
    return version


def _default_parameter_group(engine: str, version: str) -> str:
    major = version.split(".")[0]
    if engine == "redis" and major in ("3", "4", "5", "6"):
        minor = version.split(".")[1] if "." in version else "0"
        suffix = f"{major}.x" if major == "6" else f"{major}.{minor}"
        return f"default.redis{suffix}"
    return f"default.{engine}{major}"


def _group(backend: Any, replication_group_id: str) -> Any:
    group = backend.replication_groups.get(replication_group_id)
    if group is None:
        raise exceptions.ReplicationGroupNotFound(replication_group_id)
    return group


def _require_available(group: Any, action: str) -> None:
    if getattr(group, "_rc_phase", "available") != "available":
        raise InvalidReplicationGroupState(
            f"Replication group {group.replication_group_id} must be in available state "
            f"to {action}, but is {group.status}."
        )


def _set_phase(backend: Any, group: Any, phase: str) -> None:
    """Puts the group (and its member clusters) in `phase` for the configured describes."""
    countdown = delay.start(KIND)
    if phase == "deleting" and not countdown.pending:
        _set_status(backend, group, "deleting")
        _remove(backend, group)
        return
    group._rc_countdown = countdown
    group._rc_phase = phase if countdown.pending else "available"
    _set_status(backend, group, group._rc_phase)


def _set_status(backend: Any, group: Any, status: str) -> None:
    group.status = status
    for node_group in group.node_groups:
        node_group["status"] = "deleting" if status == "deleting" else "available"
    for cluster_id in group.member_clusters:
        cluster = backend.cache_clusters.get(cluster_id)
        if cluster is not None:
            cluster.cache_cluster_status = status
            cluster.status = status


def _tick(backend: Any, group: Any) -> None:
    """One describe of the group: counts down a pending phase and ends it when done."""
    phase = getattr(group, "_rc_phase", "available")
    if phase == "available":
        return
    if group._rc_countdown.tick():
        return
    if phase == "deleting":
        _remove(backend, group)
    else:
        group._rc_phase = "available"
        _set_status(backend, group, "available")


def _remove(backend: Any, group: Any) -> None:
    backend.replication_groups.pop(group.replication_group_id, None)
    backend.tagging_service.delete_all_tags_for_resource(group.arn)
    for cluster_id in group.member_clusters:
        cluster = backend.cache_clusters.pop(cluster_id, None)
        if cluster is not None:
            backend.tagging_service.delete_all_tags_for_resource(cluster.arn)


# ---------------------------------------------------------------------------------------------
# Member cache clusters: AWS names them <group>-001, -002 ... and describes each one.


def _azs(backend: Any, group: Any) -> list[str]:
    subnet_group = backend.cache_subnet_groups.get(group.cache_subnet_group_name or "")
    zones: list[str] = []
    if subnet_group is not None:
        for subnet in subnet_group.subnets:
            az = subnet.get("subnet_availability_zone")
            name = az.get("name") if isinstance(az, dict) else az
            if name and name not in zones:
                zones.append(name)
    return zones or [f"{backend.region_name}a", f"{backend.region_name}b"]


def _member(backend: Any, group: Any, cluster_id: str, index: int, role: str) -> dict:
    zones = _azs(backend, group)
    az = zones[index % len(zones)]
    cluster = models.CacheCluster(
        account_id=backend.account_id,
        region_name=backend.region_name,
        cache_cluster_id=cluster_id,
        cache_node_type=group.cache_node_type,
        replication_group_id=group.replication_group_id,
        az_mode="single-az",
        preferred_availability_zone=az,
        num_cache_nodes=1,
        engine=group.engine,
        engine_version=group.engine_version,
        cache_parameter_group_name=group.cache_parameter_group_name,
        cache_subnet_group_name=group.cache_subnet_group_name,
        transit_encryption_enabled=group.transit_encryption_enabled,
        network_type=group.network_type,
        ip_discovery=group.ip_discovery,
        snapshot_name=None,
        preferred_maintenance_window=group.preferred_maintenance_window,
        port=group.port,
        notification_topic_arn=None,
        auto_minor_version_upgrade=group.auto_minor_version_upgrade,
        snapshot_retention_limit=group.snapshot_retention_limit,
        snapshot_window=group.snapshot_window,
        auth_token=None,
        outpost_mode=None,
        preferred_outpost_arn=None,
        preferred_availability_zones=None,
        cache_security_group_names=None,
        security_group_ids=group.security_group_ids,
        tags=None,
        snapshot_arns=None,
        preferred_outpost_arns=None,
        log_delivery_configurations=[],
        cache_node_ids_to_remove=None,
        cache_node_ids_to_reboot=None,
    )
    cluster.num_cache_nodes = 1
    cluster.replication_group_id = group.replication_group_id
    cluster.at_rest_encryption_enabled = group.at_rest_encryption_enabled
    cluster.transit_encryption_mode = group.transit_encryption_mode
    cluster.cache_cluster_status = group.status
    cluster.status = group.status
    backend.cache_clusters[cluster_id] = cluster
    _sync_cluster(group, cluster)
    return {
        "cache_cluster_id": cluster_id,
        "cache_node_id": "0001",
        "read_endpoint": {"address": f"{cluster_id}.{group._rc_domain}", "port": group.port},
        "preferred_availability_zone": az,
        "current_role": role,
    }


def _sync_cluster(group: Any, cluster: Any) -> None:
    """Copies the group's settings that DescribeCacheClusters reports onto a member."""
    cluster.cache_node_type = group.cache_node_type
    cluster.engine = group.engine
    cluster.engine_version = group.engine_version
    cluster.preferred_maintenance_window = group.preferred_maintenance_window
    cluster.auto_minor_version_upgrade = group.auto_minor_version_upgrade
    cluster.snapshot_retention_limit = group.snapshot_retention_limit
    cluster.snapshot_window = group.snapshot_window
    cluster.transit_encryption_enabled = group.transit_encryption_enabled
    cluster.transit_encryption_mode = group.transit_encryption_mode
    cluster.security_group_ids = list(group.security_group_ids or [])
    cluster.security_groups = [
        {"SecurityGroupId": sg, "Status": "active"} for sg in group.security_group_ids or []
    ]
    cluster.cache_parameter_group = {
        "CacheParameterGroupName": group.cache_parameter_group_name,
        "ParameterApplyStatus": "in-sync",
        "CacheNodeIdsToReboot": [],
    }


def _set_members(backend: Any, group: Any, wanted: list[str]) -> None:
    """Makes the group's member clusters exactly `wanted` (the first is the primary)."""
    node_group = group.node_groups[0]
    for gone in [c for c in group.member_clusters if c not in wanted]:
        cluster = backend.cache_clusters.pop(gone, None)
        if cluster is not None:
            backend.tagging_service.delete_all_tags_for_resource(cluster.arn)
    members = []
    for index, cluster_id in enumerate(wanted):
        role = "primary" if index == 0 else "replica"
        existing = next(
            (m for m in node_group["node_group_members"] if m["cache_cluster_id"] == cluster_id),
            None,
        )
        if existing is not None and cluster_id in backend.cache_clusters:
            existing["current_role"] = role
            members.append(existing)
        else:
            members.append(_member(backend, group, cluster_id, index, role))
    node_group["node_group_members"] = members
    group.member_clusters = list(wanted)
    group.primary_cluster_id = wanted[0]
    group.snapshotting_cluster_id = None
    if group.snapshot_retention_limit:
        group.snapshotting_cluster_id = wanted[1] if len(wanted) > 1 else wanted[0]


def _next_member_ids(group: Any, count: int) -> list[str]:
    taken = set(group.member_clusters)
    ids: list[str] = []
    n = 1
    while len(ids) < count:
        candidate = f"{group.replication_group_id}-{n:03d}"
        if candidate not in taken:
            ids.append(candidate)
        n += 1
    return ids


# ---------------------------------------------------------------------------------------------
# Replication groups.


def create_replication_group(self: Any, **kwargs: Any) -> Any:
    subnet_group = kwargs.get("cache_subnet_group_name")
    if subnet_group and subnet_group not in self.cache_subnet_groups:
        raise exceptions.CacheSubnetGroupNotFound(subnet_group)
    num = kwargs.get("num_cache_clusters")
    replicas = kwargs.get("replicas_per_node_group")
    if num is None:
        num = (replicas + 1) if replicas is not None else 1
    if not 1 <= num <= 6:
        raise _value(f"NumCacheClusters must be between 1 and 6, got {num}.")
    if kwargs.get("automatic_failover_enabled") and num < 2:
        raise _combination(
            "Automatic failover needs at least one read replica (NumCacheClusters of 2 or more)."
        )
    if kwargs.get("multi_az_enabled") and not kwargs.get("automatic_failover_enabled"):
        raise _combination("Multi-AZ needs AutomaticFailoverEnabled.")
    engine = kwargs.get("engine") or "redis"
    kwargs["engine"] = engine
    group = _original["create_replication_group"](self, **kwargs)

    group.engine_version = _full_version(engine, kwargs.get("engine_version"))
    if group.cache_parameter_group_name is None:
        group.cache_parameter_group_name = _default_parameter_group(engine, group.engine_version)
    if group.preferred_maintenance_window is None:
        group.preferred_maintenance_window = "sun:05:00-sun:06:00"
    if group.auto_minor_version_upgrade is None:
        group.auto_minor_version_upgrade = True
    if group.transit_encryption_enabled and not group.transit_encryption_mode:
        group.transit_encryption_mode = "required"
    if group.snapshot_window == "05:00-6:00":  # moto's default, not a valid window
        group.snapshot_window = "05:00-06:00"
    group.security_group_ids = list(group.security_group_ids or [])

    suffix = "".join(
        c for c in group.node_groups[0]["primary_endpoint_address"].split(".")[2] if c.isalnum()
    )
    group._rc_domain = (
        f"{group.replication_group_id}.{suffix}.{_region_short(self.region_name)}"
        ".cache.amazonaws.com"
    )
    node_group = group.node_groups[0]
    node_group["primary_endpoint"] = {
        "address": f"master.{group._rc_domain}",
        "port": group.port,
    }
    node_group["reader_endpoint"] = {
        "address": f"replica.{group._rc_domain}",
        "port": group.port,
    }
    node_group["node_group_members"] = []
    group.member_clusters = []
    _set_members(self, group, _next_member_ids(group, num))
    _set_phase(self, group, "creating")
    return group


def describe_replication_groups(self: Any, replication_group_id: str | None = None) -> Any:
    if replication_group_id:
        group = self.replication_groups.get(replication_group_id)
        if group is not None:
            _tick(self, group)
    else:
        for group in list(self.replication_groups.values()):
            _tick(self, group)
    return _original["describe_replication_groups"](self, replication_group_id)


def delete_replication_group(
    self: Any, replication_group_id: str, retain_primary_cluster: bool | None
) -> Any:
    group = _group(self, replication_group_id)
    _require_available(group, "delete it")
    _set_phase(self, group, "deleting")
    return group


def modify_replication_group(self: Any, replication_group_id: str, changes: dict) -> Any:
    group = _group(self, replication_group_id)
    _require_available(group, "modify it")
    members = len(group.member_clusters)

    failover = changes.get("automatic_failover_enabled")
    if failover is None:
        failover = group.automatic_failover == "enabled"
    multi_az = changes.get("multi_az_enabled")
    if multi_az is None:
        multi_az = group.multi_az == "enabled"
    if failover and members < 2:
        raise _combination("Automatic failover needs at least one read replica.")
    if multi_az and not failover:
        raise _combination("Multi-AZ needs automatic failover enabled.")

    transit, mode = _transit_change(group, changes)

    if changes.get("description") is not None:
        group.description = changes["description"]
    group.automatic_failover = "enabled" if failover else "disabled"
    group.multi_az = "enabled" if multi_az else "disabled"
    if changes.get("engine") is not None:
        group.engine = changes["engine"]
    if changes.get("engine_version") is not None:
        group.engine_version = _full_version(group.engine, changes["engine_version"])
    for key in (
        "cache_node_type",
        "snapshot_window",
        "preferred_maintenance_window",
        "cache_parameter_group_name",
        "auto_minor_version_upgrade",
    ):
        if changes.get(key) is not None:
            setattr(group, key, changes[key])
    if changes.get("snapshot_retention_limit") is not None:
        group.snapshot_retention_limit = changes["snapshot_retention_limit"]
    if changes.get("security_group_ids") is not None:
        group.security_group_ids = list(changes["security_group_ids"])
    group.transit_encryption_enabled = transit
    group.transit_encryption_mode = mode
    _set_members(self, group, list(group.member_clusters))
    for cluster_id in group.member_clusters:
        _sync_cluster(group, self.cache_clusters[cluster_id])
    _set_phase(self, group, "modifying")
    return group


def _transit_change(group: Any, changes: dict) -> tuple[bool, str | None]:
    """The AWS rules for changing in-transit encryption in place: enabling goes through
    TransitEncryptionMode=preferred, and only a preferred group can be made required or have
    encryption turned off."""
    enabled = bool(group.transit_encryption_enabled)
    mode = group.transit_encryption_mode
    want = changes.get("transit_encryption_enabled")
    want_mode = changes.get("transit_encryption_mode")
    if want is True and not enabled:
        if want_mode != "preferred":
            raise _combination(
                "To enable in-transit encryption on an existing replication group, "
                "TransitEncryptionMode must be set to preferred."
            )
        return True, "preferred"
    if want is False and enabled:
        if mode != "preferred" or want_mode not in (None, "preferred"):
            raise _combination(
                "In-transit encryption can only be disabled when TransitEncryptionMode is "
                "preferred; set it to preferred first."
            )
        return False, None
    if want_mode is not None and want_mode != mode:
        if not enabled:
            raise _combination("TransitEncryptionMode needs in-transit encryption enabled.")
        return True, want_mode
    return enabled, mode


def change_replica_count(
    self: Any,
    replication_group_id: str,
    new_replica_count: int | None,
    apply_immediately: bool | None,
    increase: bool,
    replicas_to_remove: list[str] | None = None,
) -> Any:
    group = _group(self, replication_group_id)
    action = "increase its replica count" if increase else "decrease its replica count"
    _require_available(group, action)
    if not apply_immediately:
        raise _value("ApplyImmediately=false is not currently supported.")
    current = len(group.member_clusters) - 1
    members = list(group.member_clusters)
    if increase:
        if new_replica_count is None:
            raise _value("NewReplicaCount is required.")
        if new_replica_count <= current:
            raise _value(
                f"The new replica count ({new_replica_count}) must be greater than the "
                f"current replica count ({current})."
            )
        if new_replica_count > 5:
            raise _value("A replication group can have at most 5 replicas.")
        members += _next_member_ids(group, new_replica_count - current)
    else:
        if replicas_to_remove:
            unknown = [r for r in replicas_to_remove if r not in members]
            if unknown:
                raise CacheClusterNotFound(f"CacheCluster {unknown[0]} not found.")
            if members[0] in replicas_to_remove:
                raise _value("The primary node cannot be removed.")
            members = [m for m in members if m not in replicas_to_remove]
        elif new_replica_count is not None:
            if new_replica_count >= current or new_replica_count < 0:
                raise _value(
                    f"The new replica count ({new_replica_count}) must be less than the "
                    f"current replica count ({current}) and not negative."
                )
            members = members[: new_replica_count + 1]
        else:
            raise _value("Either NewReplicaCount or ReplicasToRemove is required.")
        if len(members) < 2 and group.automatic_failover == "enabled":
            raise _combination(
                "Automatic failover needs at least one replica; disable it before removing "
                "the last replica."
            )
    _set_members(self, group, members)
    _set_phase(self, group, "modifying")
    return group


# ---------------------------------------------------------------------------------------------
# Cache subnet groups.


def _subnet_group_init(self: Any, *args: Any, **kwargs: Any) -> None:
    _original["subnet_group_init"](self, *args, **kwargs)
    for subnet in self.subnets:
        az = subnet.pop("Subnet_availability_zone", None) or subnet.get("subnet_availability_zone")
        if isinstance(az, str):
            az = {"name": az}
        subnet["subnet_availability_zone"] = az


def modify_cache_subnet_group(
    self: Any, name: str, description: str | None, subnet_ids: list[str] | None
) -> Any:
    group = self.cache_subnet_groups.get(name)
    if group is None:
        raise exceptions.CacheSubnetGroupNotFound(name)
    if description is not None:
        group.cache_subnet_group_description = description
    if subnet_ids:
        fresh = models.CacheSubnetGroup(
            account_id=self.account_id,
            region_name=self.region_name,
            cache_subnet_group_name=name,
            cache_subnet_group_description=group.cache_subnet_group_description,
            subnet_ids=subnet_ids,
            tags=None,
        )
        group.subnet_ids = subnet_ids
        group.subnets = fresh.subnets
        group.supported_network_types = fresh.supported_network_types
        group.vpc_id = fresh.vpc_id
    return group


def delete_cache_subnet_group(self: Any, name: str) -> None:
    group = self.cache_subnet_groups.get(name)
    if group is None:
        raise exceptions.CacheSubnetGroupNotFound(name)
    users = [
        g.replication_group_id
        for g in self.replication_groups.values()
        if g.cache_subnet_group_name == name
    ] + [
        c.cache_cluster_id
        for c in self.cache_clusters.values()
        if c.cache_subnet_group_name == name and not getattr(c, "replication_group_id", None)
    ]
    if users:
        raise CacheSubnetGroupInUse(f"Cache subnet group {name} is currently in use by {users[0]}.")
    del self.cache_subnet_groups[name]
    self.tagging_service.delete_all_tags_for_resource(group.arn)


# ---------------------------------------------------------------------------------------------
# Tags: AWS checks that the resource exists.


def _check_resource(backend: Any, arn: str) -> None:
    parts = arn.split(":", 6)
    if len(parts) < 7:
        raise exceptions.InvalidARNFault(arn)
    kind, name = parts[5], parts[6]
    if kind == "replicationgroup" and name not in backend.replication_groups:
        raise exceptions.ReplicationGroupNotFound(name)
    if kind == "subnetgroup" and name not in backend.cache_subnet_groups:
        raise exceptions.CacheSubnetGroupNotFound(name)
    if kind == "cluster" and name not in backend.cache_clusters:
        raise exceptions.CacheClusterNotFound(name)


def _checked(name: str) -> Any:
    original = getattr(models.ElastiCacheBackend, name)

    def method(self: Any, arn: str, *args: Any) -> Any:
        if self.arn_regex.match(arn):
            _check_resource(self, arn)
        return original(self, arn, *args)

    method.__name__ = name
    return method


# ---------------------------------------------------------------------------------------------
# Responses for the operations moto lacks.


def _modify_replication_group_response(self: Any) -> ActionResult:
    changes = {
        "description": self._get_param("ReplicationGroupDescription"),
        "automatic_failover_enabled": self._get_bool_param("AutomaticFailoverEnabled"),
        "multi_az_enabled": self._get_bool_param("MultiAZEnabled"),
        "security_group_ids": self._get_param("SecurityGroupIds"),
        "preferred_maintenance_window": self._get_param("PreferredMaintenanceWindow"),
        "cache_parameter_group_name": self._get_param("CacheParameterGroupName"),
        "engine": self._get_param("Engine"),
        "engine_version": self._get_param("EngineVersion"),
        "auto_minor_version_upgrade": self._get_bool_param("AutoMinorVersionUpgrade"),
        "snapshot_retention_limit": self._get_int_param("SnapshotRetentionLimit"),
        "snapshot_window": self._get_param("SnapshotWindow"),
        "cache_node_type": self._get_param("CacheNodeType"),
        "transit_encryption_enabled": self._get_bool_param("TransitEncryptionEnabled"),
        "transit_encryption_mode": self._get_param("TransitEncryptionMode"),
    }
    group = self.elasticache_backend.modify_replication_group(
        self._get_param("ReplicationGroupId"), changes
    )
    return ActionResult({"ReplicationGroup": group})


def _increase_replica_count_response(self: Any) -> ActionResult:
    group = self.elasticache_backend.change_replica_count(
        self._get_param("ReplicationGroupId"),
        self._get_int_param("NewReplicaCount"),
        self._get_bool_param("ApplyImmediately"),
        increase=True,
    )
    return ActionResult({"ReplicationGroup": group})


def _decrease_replica_count_response(self: Any) -> ActionResult:
    group = self.elasticache_backend.change_replica_count(
        self._get_param("ReplicationGroupId"),
        self._get_int_param("NewReplicaCount"),
        self._get_bool_param("ApplyImmediately"),
        increase=False,
        replicas_to_remove=self._get_param("ReplicasToRemove"),
    )
    return ActionResult({"ReplicationGroup": group})


def _modify_cache_subnet_group_response(self: Any) -> ActionResult:
    group = self.elasticache_backend.modify_cache_subnet_group(
        self._get_param("CacheSubnetGroupName"),
        self._get_param("CacheSubnetGroupDescription"),
        self._get_param("SubnetIds"),
    )
    return ActionResult({"CacheSubnetGroup": group})


def _delete_cache_subnet_group_response(self: Any) -> EmptyResult:
    self.elasticache_backend.delete_cache_subnet_group(self._get_param("CacheSubnetGroupName"))
    return EmptyResult()


def install() -> None:
    backend = models.ElastiCacheBackend
    if "create_replication_group" in _original:
        return
    _original["create_replication_group"] = backend.create_replication_group
    _original["describe_replication_groups"] = backend.describe_replication_groups
    _original["subnet_group_init"] = models.CacheSubnetGroup.__init__

    backend.create_replication_group = create_replication_group
    backend.describe_replication_groups = describe_replication_groups
    backend.delete_replication_group = delete_replication_group
    backend.modify_replication_group = modify_replication_group
    backend.change_replica_count = change_replica_count
    backend.modify_cache_subnet_group = modify_cache_subnet_group
    backend.delete_cache_subnet_group = delete_cache_subnet_group
    for name in ("list_tags_for_resource", "add_tags_to_resource", "remove_tags_from_resource"):
        setattr(backend, name, _checked(name))
    models.CacheSubnetGroup.__init__ = _subnet_group_init

    response = responses.ElastiCacheResponse
    response.modify_replication_group = _modify_replication_group_response
    response.increase_replica_count = _increase_replica_count_response
    response.decrease_replica_count = _decrease_replica_count_response
    response.modify_cache_subnet_group = _modify_cache_subnet_group_response
    response.delete_cache_subnet_group = _delete_cache_subnet_group_response
