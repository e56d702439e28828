"""EKS: the asynchronous lifecycle and the update operations moto 5.2 lacks.

Following the EKS API reference:
- UpdateClusterVersion (POST /clusters/{name}/updates), ListUpdates (GET /clusters/{name}/updates),
  DescribeUpdate (GET /clusters/{name}/updates/{updateId}) and UpdateNodegroupVersion
  (POST /clusters/{name}/node-groups/{nodegroupName}/update-version) are added;
- UpdateClusterConfig answers its `update` object, takes one kind of change per call, merges the
  change into the cluster (moto replaced the whole resourcesVpcConfig with the partial request) and
  understands accessConfig and upgradePolicy;
- an update is InProgress (cluster or node group UPDATING) for the configured number of describes,
  and a second update while one is in progress is refused with ResourceInUseException, as EKS does;
- clusters and node groups are CREATING after create and DELETING after delete for the configured
  number of describes (delay kinds "eks_cluster" and "eks_node_group");
- CreateCluster stores accessConfig and upgradePolicy and reports the resourcesVpcConfig defaults
  (public endpoint on, private off, 0.0.0.0/0, a cluster security group, the VPC id);
- CreateCluster and CreateNodegroup honour clientRequestToken: a retry with the same token answers
  the resource instead of ResourceInUseException;
- CreateNodegroup keeps updateConfig and reports diskSize as a number, and no diskSize at all for a
  node group with a launch template (the template sets the root volume; moto reported its
  default of 20);
- TagResource / UntagResource / ListTagsForResource work on node groups too;
- every cluster gets its own OIDC issuer (https://oidc.eks.<region>.amazonaws.com/id/<32 hex>,
  as EKS gives each cluster): moto drew one random id at import, so all clusters of a region
  shared one issuer, and a second cluster's IAM OIDC provider was refused as existing.
"""

import uuid

from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.eks import models, urls
from moto.eks.exceptions import (
    InvalidParameterException,
    ResourceInUseException,
    ResourceNotFoundException,
)
from moto.eks.models import EKSBackend
from moto.eks.responses import EKSResponse

from . import delay

LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"]


def _not_found(message, **names):
    kwargs = {
        "clusterName": None,
        "nodegroupName": None,
        "fargateProfileName": None,
        "addonName": None,
    }
    kwargs.update(names)
    return ResourceNotFoundException(message=message, **kwargs)


def _in_use(message, cluster=None, nodegroup=None):
    return ResourceInUseException(
        clusterName=cluster, nodegroupName=nodegroup, addonName=None, message=message
    )


# --- lifecycle -------------------------------------------------------------------------------


def _tick_updates(resource):
    """Advances the resource's in-progress update, if any; True while one is in progress."""
    for update in getattr(resource, "rc_updates", {}).values():
        if update["status"] == "InProgress":
            if update["countdown"].tick():
                return True
            update["status"] = "Successful"
    return False


def _update_in_progress(resource):
    return any(
        u["status"] == "InProgress" and u["countdown"].pending
        for u in getattr(resource, "rc_updates", {}).values()
    )


def _refresh_status(resource):
    """The status a describe reports now; counts the describe against pending countdowns.

    Returns None when a deletion has finished (the resource is gone)."""
    deleting = getattr(resource, "rc_deleting", None)
    if deleting is not None:
        if deleting.tick():
            resource.status = "DELETING"
            return resource.status
        return None
    creating = getattr(resource, "rc_creating", None)
    if creating is not None and creating.tick():
        resource.status = "CREATING"
        return resource.status
    resource.status = "UPDATING" if _tick_updates(resource) else "ACTIVE"
    return resource.status


def _new_update(resource, kind, update_type, params):
    if _update_in_progress(resource):
        raise _in_use(
            "An update is already in progress; wait until it completes before starting another",
            cluster=getattr(resource, "name", None) or getattr(resource, "cluster_name", None),
        )
    if getattr(resource, "status", "ACTIVE") not in ("ACTIVE", "UPDATING"):
        raise _in_use(f"The resource is {resource.status}, not ACTIVE")
    countdown = delay.start(kind)
    update = {
        "id": str(uuid.uuid4()),
        "status": "InProgress" if countdown.pending else "Successful",
        "type": update_type,
        "params": [{"type": t, "value": str(v)} for t, v in params],
        "createdAt": utcnow(),
        "errors": [],
        "countdown": countdown,
    }
    if not hasattr(resource, "rc_updates"):
        resource.rc_updates = {}
    resource.rc_updates[update["id"]] = update
    if countdown.pending:
        resource.status = "UPDATING"
    return update


def _public(update):
    return {k: v for k, v in update.items() if k != "countdown"}


def _cluster(backend, name):
    cluster = backend.clusters.get(name)
    if cluster is None or (
        getattr(cluster, "rc_deleting", None) is not None and not cluster.rc_deleting.pending
    ):
        backend.clusters.pop(name, None)
        raise _not_found(models.CLUSTER_NOT_FOUND_MSG.format(clusterName=name))
    return cluster


def _nodegroup(backend, cluster_name, nodegroup_name):
    cluster = _cluster(backend, cluster_name)
    nodegroup = cluster.nodegroups.get(nodegroup_name)
    gone = nodegroup is None or (
        getattr(nodegroup, "rc_deleting", None) is not None
        and not nodegroup.rc_deleting.pending
    )
    if gone:
        if nodegroup is not None:
            cluster.nodegroups.pop(nodegroup_name, None)
            cluster.nodegroup_count -= 1
        raise _not_found(
            models.NODEGROUP_NOT_FOUND_MSG.format(nodegroupName=nodegroup_name),
            clusterName=cluster_name,
            nodegroupName=nodegroup_name,
        )
    return nodegroup


def _minor(version):
    try:
        major, minor = str(version).split(".")[:2]
        return int(major), int(minor)
    except ValueError:
        raise InvalidParameterException(message=f"Invalid Kubernetes version: {version}")


# --- backend patches -----------------------------------------------------------------------


_orig_create_cluster = EKSBackend.create_cluster
_orig_create_nodegroup = EKSBackend.create_nodegroup


def create_cluster(self, name, *args, **kwargs):
    token = kwargs.get("client_request_token")
    existing = self.clusters.get(name)
    if existing is not None and token and existing.client_request_token == token:
        return existing
    cluster = _orig_create_cluster(self, name, *args, **kwargs)
    vpc_config = dict(cluster.resources_vpc_config or {})
    vpc_config.setdefault("endpointPublicAccess", True)
    vpc_config.setdefault("endpointPrivateAccess", False)
    vpc_config.setdefault("securityGroupIds", [])
    if vpc_config["endpointPublicAccess"]:
        vpc_config.setdefault("publicAccessCidrs", ["0.0.0.0/0"])
    vpc_config["clusterSecurityGroupId"] = "sg-" + uuid.uuid4().hex[:17]
    vpc_config["vpcId"] = _vpc_of(self, vpc_config.get("subnetIds") or [])
    cluster.resources_vpc_config = vpc_config
    network = dict(cluster.kubernetes_network_config or {})
    network.setdefault("serviceIpv4Cidr", "172.20.0.0/16")
    network.setdefault("ipFamily", "ipv4")
    cluster.kubernetes_network_config = network
    cluster.logging = _logging_merge({"clusterLogging": []}, cluster.logging)
    region = cluster.arn.split(":")[3]
    cluster.identity = {
        "oidc": {
            "issuer": f"https://oidc.eks.{region}.amazonaws.com/id/{uuid.uuid4().hex.upper()}"
        }
    }
    cluster.rc_creating = delay.start("eks_cluster")
    if cluster.rc_creating.pending:
        cluster.status = "CREATING"
    return cluster


def _vpc_of(backend, subnet_ids):
    try:
        from moto.ec2.models import ec2_backends

        ec2 = ec2_backends[backend.account_id][backend.region_name]
        return ec2.get_subnet(subnet_ids[0]).vpc_id
    except Exception:  # noqa: BLE001  an unknown subnet leaves the VPC unknown, as moto did
        return None


def create_nodegroup(self, cluster_name, node_role, nodegroup_name, *args, **kwargs):
    token = kwargs.get("client_request_token")
    cluster = self.clusters.get(cluster_name)
    if cluster is not None:
        existing = cluster.nodegroups.get(nodegroup_name)
        if existing is not None and token and existing.client_request_token == token:
            return existing
        # EKS gives a node group its cluster's version, and that version's latest AMI release.
        if not kwargs.get("version"):
            kwargs["version"] = cluster.version
        if not kwargs.get("release_version"):
            kwargs["release_version"] = f"{kwargs['version']}.0-20250101"
    nodegroup = _orig_create_nodegroup(
        self, cluster_name, node_role, nodegroup_name, *args, **kwargs
    )
    if getattr(nodegroup, "launch_template", None):
        nodegroup.disk_size = None
    elif isinstance(nodegroup.disk_size, str):
        nodegroup.disk_size = int(nodegroup.disk_size)
    nodegroup.scaling_config = dict(nodegroup.scaling_config)
    nodegroup.rc_creating = delay.start("eks_node_group")
    if nodegroup.rc_creating.pending:
        nodegroup.status = "CREATING"
    return nodegroup


def describe_cluster(self, name):
    cluster = _cluster(self, name)
    if _refresh_status(cluster) is None:
        return _cluster(self, name)
    return cluster


def describe_nodegroup(self, cluster_name, nodegroup_name):
    nodegroup = _nodegroup(self, cluster_name, nodegroup_name)
    if _refresh_status(nodegroup) is None:
        return _nodegroup(self, cluster_name, nodegroup_name)
    return nodegroup


def delete_cluster(self, name):
    cluster = _cluster(self, name)
    if getattr(cluster, "rc_deleting", None) is not None:
        return cluster
    live = list(cluster.nodegroups)
    if live:
        raise _in_use(models.CLUSTER_IN_USE_MSG, cluster=name, nodegroup=",".join(live))
    countdown = delay.start("eks_cluster")
    if not countdown.pending:
        self.cluster_count -= 1
        return self.clusters.pop(name)
    cluster.rc_deleting = countdown
    cluster.status = "DELETING"
    return cluster


def delete_nodegroup(self, cluster_name, nodegroup_name):
    nodegroup = _nodegroup(self, cluster_name, nodegroup_name)
    if getattr(nodegroup, "rc_deleting", None) is not None:
        return nodegroup
    cluster = self.clusters[cluster_name]
    countdown = delay.start("eks_node_group")
    if not countdown.pending:
        cluster.nodegroup_count -= 1
        return cluster.nodegroups.pop(nodegroup_name)
    nodegroup.rc_deleting = countdown
    nodegroup.status = "DELETING"
    return nodegroup


def list_clusters(self, max_results, next_token):
    for name in list(self.clusters):
        cluster = self.clusters[name]
        if getattr(cluster, "rc_deleting", None) is not None and not cluster.rc_deleting.pending:
            self.clusters.pop(name)
    return models.paginated_list(list(self.clusters.keys()), max_results, next_token)


def list_nodegroups(self, cluster_name, max_results, next_token):
    cluster = _cluster(self, cluster_name)
    for name in list(cluster.nodegroups):
        group = cluster.nodegroups[name]
        if getattr(group, "rc_deleting", None) is not None and not group.rc_deleting.pending:
            cluster.nodegroups.pop(name)
            cluster.nodegroup_count -= 1
    return models.paginated_list(list(cluster.nodegroups.keys()), max_results, next_token)


def _logging_merge(current, request):
    """EKS keeps one enabled set: each LogSetup of a request turns its types on or off."""
    enabled = set()
    for setup in (current or {}).get("clusterLogging", []):
        if setup.get("enabled"):
            enabled.update(setup.get("types", []))
    for setup in (request or {}).get("clusterLogging", []):
        for t in setup.get("types", []):
            if t not in LOG_TYPES:
                raise InvalidParameterException(message=f"Invalid log type: {t}")
            (enabled.add if setup.get("enabled") else enabled.discard)(t)
    on = [t for t in LOG_TYPES if t in enabled]
    off = [t for t in LOG_TYPES if t not in enabled]
    return {
        "clusterLogging": [s for s in ({"types": on, "enabled": True}, {"types": off, "enabled": False}) if s["types"]]
    }


def _resource_for_arn(self, arn):
    for cluster in self.clusters.values():
        if cluster.arn == arn:
            return cluster
        for group in cluster.nodegroups.values():
            if group.arn == arn:
                return group
    raise _not_found("Resource was not found")


def tag_resource(self, resource_arn, tags):
    _resource_for_arn(self, resource_arn).tags.update(tags)


def untag_resource(self, resource_arn, tag_keys):
    if not isinstance(tag_keys, list):
        tag_keys = [tag_keys]
    resource = _resource_for_arn(self, resource_arn)
    for key in tag_keys:
        resource.tags.pop(key, None)


def list_tags_for_resource(self, resource_arn):
    return _resource_for_arn(self, resource_arn).tags


# --- operations ------------------------------------------------------------------------------


CONFIG_PARTS = [
    "resourcesVpcConfig",
    "logging",
    "accessConfig",
    "upgradePolicy",
    "kubernetesNetworkConfig",
    "remoteNetworkConfig",
    "zonalShiftConfig",
    "computeConfig",
    "storageConfig",
    "deletionProtection",
]


def r_update_cluster_config(self):
    name = self._get_param("name")
    cluster = _cluster(self.eks_backend, name)
    _refresh_status(cluster)
    given = {p: self._get_param(p) for p in CONFIG_PARTS}
    given = {p: v for p, v in given.items() if v is not None}
    if len(given) != 1:
        raise InvalidParameterException(
            message="Only one type of update can be allowed." if given else "No changes needed"
        )
    (part, value), = given.items()
    if part == "resourcesVpcConfig":
        merged = dict(cluster.resources_vpc_config)
        if "subnetIds" in value or "securityGroupIds" in value:
            kind, params = "VpcConfigUpdate", [
                ("Subnets", value.get("subnetIds")),
                ("SecurityGroups", value.get("securityGroupIds")),
            ]
        else:
            kind, params = "EndpointAccessUpdate", [
                ("EndpointPublicAccess", value.get("endpointPublicAccess")),
                ("EndpointPrivateAccess", value.get("endpointPrivateAccess")),
                ("PublicAccessCidrs", value.get("publicAccessCidrs")),
            ]
        merged.update(value)
        if not merged.get("endpointPublicAccess") and not merged.get("endpointPrivateAccess"):
            raise InvalidParameterException(
                message="Either public or private access must be enabled for the cluster endpoint"
            )
        if merged.get("endpointPublicAccess") and not merged.get("publicAccessCidrs"):
            merged["publicAccessCidrs"] = ["0.0.0.0/0"]
        update = _new_update(cluster, "eks_cluster", kind, [(t, v) for t, v in params if v is not None])
        cluster.resources_vpc_config = merged
    elif part == "logging":
        merged = _logging_merge(cluster.logging, value)
        update = _new_update(cluster, "eks_cluster", "LoggingUpdate", [("ClusterLogging", value)])
        cluster.logging = merged
    elif part == "accessConfig":
        order = ["CONFIG_MAP", "API_AND_CONFIG_MAP", "API"]
        current = (getattr(cluster, "access_config", None) or {}).get("authenticationMode", "CONFIG_MAP")
        wanted = value.get("authenticationMode", current)
        if wanted not in order or order.index(wanted) < order.index(current):
            raise InvalidParameterException(
                message=f"Unsupported authentication mode update from {current} to {wanted}"
            )
        update = _new_update(cluster, "eks_cluster", "AccessConfigUpdate", [("AuthenticationMode", wanted)])
        cluster.access_config = dict(getattr(cluster, "access_config", None) or {}, authenticationMode=wanted)
    elif part == "upgradePolicy":
        update = _new_update(cluster, "eks_cluster", "UpgradePolicyUpdate", [("UpgradePolicy", value)])
        cluster.upgrade_policy = dict(value)
    else:
        update = _new_update(cluster, "eks_cluster", "ConfigUpdate", [(part, value)])
        setattr(cluster, "".join("_" + c.lower() if c.isupper() else c for c in part), value)
    return ActionResult({"update": _public(update)})


def r_update_cluster_version(self):
    name = self._get_param("name")
    version = self._get_param("version")
    cluster = _cluster(self.eks_backend, name)
    _refresh_status(cluster)
    have, want = _minor(cluster.version), _minor(version)
    if want[0] != have[0] or want[1] != have[1] + 1:
        raise InvalidParameterException(
            message=f"Unsupported Kubernetes minor version update from {cluster.version} to {version}"
        )
    platform = "eks.1"
    update = _new_update(
        cluster, "eks_cluster", "VersionUpdate", [("Version", version), ("PlatformVersion", platform)]
    )
    cluster.version = version
    cluster.platformVersion = platform
    return ActionResult({"update": _public(update)})


def _update_owner(self):
    name = self._get_param("name")
    nodegroup_name = self._get_param("nodegroupName")
    if nodegroup_name:
        return _nodegroup(self.eks_backend, name, nodegroup_name)
    return _cluster(self.eks_backend, name)


def r_describe_update(self):
    owner = _update_owner(self)
    update_id = self._get_param("updateId")
    update = getattr(owner, "rc_updates", {}).get(update_id)
    if update is None:
        raise _not_found(f"No update found for ID: {update_id}")
    if update["status"] == "InProgress" and not update["countdown"].tick():
        update["status"] = "Successful"
    return ActionResult({"update": _public(update)})


def r_list_updates(self):
    owner = _update_owner(self)
    return ActionResult({"updateIds": list(getattr(owner, "rc_updates", {}).keys())})


def r_update_nodegroup_config(self):
    cluster_name = self._get_param("name")
    nodegroup_name = self._get_param("nodegroupName")
    nodegroup = _nodegroup(self.eks_backend, cluster_name, nodegroup_name)
    _refresh_status(nodegroup)
    parts = {
        p: self._get_param(p)
        for p in ("labels", "taints", "scalingConfig", "updateConfig", "nodeRepairConfig")
    }
    params = []
    labels = parts["labels"] or {}
    if labels.get("addOrUpdateLabels"):
        params.append(("LabelsToAdd", labels["addOrUpdateLabels"]))
    if labels.get("removeLabels"):
        params.append(("LabelsToRemove", labels["removeLabels"]))
    taints = parts["taints"] or {}
    if taints.get("addOrUpdateTaints"):
        params.append(("TaintsToAdd", taints["addOrUpdateTaints"]))
    if taints.get("removeTaints"):
        params.append(("TaintsToRemove", taints["removeTaints"]))
    scaling = parts["scalingConfig"] or {}
    for key, t in (("minSize", "MinSize"), ("maxSize", "MaxSize"), ("desiredSize", "DesiredSize")):
        if key in scaling:
            params.append((t, scaling[key]))
    update_config = parts["updateConfig"] or {}
    for key, t in (("maxUnavailable", "MaxUnavailable"), ("maxUnavailablePercentage", "MaxUnavailablePercentage")):
        if key in update_config:
            params.append((t, update_config[key]))
    if not params and not parts["nodeRepairConfig"]:
        raise InvalidParameterException(message="No changes needed")
    merged_scaling = dict(nodegroup.scaling_config, **scaling)
    if not merged_scaling.get("minSize", 0) <= merged_scaling.get("desiredSize", 0) <= merged_scaling.get("maxSize", 0):
        raise InvalidParameterException(
            message="Minimum capacity, desired capacity and maximum capacity must satisfy min <= desired <= max"
        )
    update = _new_update(nodegroup, "eks_node_group", "ConfigUpdate", params)
    # moto's own method applies the change; its answer (always Successful) is replaced by ours.
    self.eks_backend.update_nodegroup_config(
        cluster_name=cluster_name,
        nodegroup_name=nodegroup_name,
        labels=parts["labels"],
        taints=parts["taints"],
        scaling_config=scaling or None,
        update_config=update_config or None,
        node_repair_config=parts["nodeRepairConfig"],
    )
    return ActionResult({"update": _public(update)})


def r_update_nodegroup_version(self):
    cluster_name = self._get_param("name")
    nodegroup_name = self._get_param("nodegroupName")
    nodegroup = _nodegroup(self.eks_backend, cluster_name, nodegroup_name)
    cluster = _cluster(self.eks_backend, cluster_name)
    _refresh_status(nodegroup)
    version = self._get_param("version") or cluster.version
    release = self._get_param("releaseVersion")
    if _minor(version) > _minor(cluster.version):
        raise InvalidParameterException(
            message=f"Requested Nodegroup Kubernetes version {version} is greater than the cluster version {cluster.version}"
        )
    if _minor(version) < _minor(nodegroup.version):
        raise InvalidParameterException(
            message=f"Requested Nodegroup Kubernetes version {version} is lower than the current {nodegroup.version}"
        )
    if release is None:
        release = f"{version}.0-20250101"
    update = _new_update(
        nodegroup, "eks_node_group", "VersionUpdate", [("Version", version), ("ReleaseVersion", release)]
    )
    nodegroup.version = version
    nodegroup.release_version = release
    return ActionResult({"update": _public(update)})


_orig_r_create_cluster = EKSResponse.create_cluster
_orig_r_create_nodegroup = EKSResponse.create_nodegroup


def r_create_cluster(self):
    result = _orig_r_create_cluster(self)
    cluster = result.result["cluster"]
    access = self._get_param("accessConfig") or {}
    if not hasattr(cluster, "access_config"):
        cluster.access_config = {
            "authenticationMode": access.get("authenticationMode", "CONFIG_MAP"),
            "bootstrapClusterCreatorAdminPermissions": access.get(
                "bootstrapClusterCreatorAdminPermissions", True
            ),
        }
    if not hasattr(cluster, "upgrade_policy"):
        policy = self._get_param("upgradePolicy") or {}
        cluster.upgrade_policy = {"supportType": policy.get("supportType", "EXTENDED")}
    return result


def r_create_nodegroup(self):
    result = _orig_r_create_nodegroup(self)
    nodegroup = result.result["nodegroup"]
    update_config = self._get_param("updateConfig")
    if update_config and nodegroup.update_config is None:
        nodegroup.update_config = update_config
    return result


def install() -> None:
    EKSBackend.create_cluster = create_cluster
    EKSBackend.create_nodegroup = create_nodegroup
    EKSBackend.describe_cluster = describe_cluster
    EKSBackend.describe_nodegroup = describe_nodegroup
    EKSBackend.delete_cluster = delete_cluster
    EKSBackend.delete_nodegroup = delete_nodegroup
    EKSBackend.list_clusters = list_clusters
    EKSBackend.list_nodegroups = list_nodegroups
    EKSBackend.tag_resource = tag_resource
    EKSBackend.untag_resource = untag_resource
    EKSBackend.list_tags_for_resource = list_tags_for_resource
    models.DEFAULT_DISK_SIZE = 20

    EKSResponse.create_cluster = r_create_cluster
    EKSResponse.create_nodegroup = r_create_nodegroup
    EKSResponse.update_cluster_config = r_update_cluster_config
    EKSResponse.update_cluster_version = r_update_cluster_version
    EKSResponse.describe_update = r_describe_update
    EKSResponse.list_updates = r_list_updates
    EKSResponse.update_nodegroup_config = r_update_nodegroup_config
    EKSResponse.update_nodegroup_version = r_update_nodegroup_version

    dispatch = urls.response.dispatch
    urls.url_paths.update(
        {
            "{0}/clusters/(?P<name>[^/]+)/updates$": dispatch,
            "{0}/clusters/(?P<name>[^/]+)/updates/(?P<updateId>[^/]+)$": dispatch,
            "{0}/clusters/(?P<name>[^/]+)/node-groups/(?P<nodegroupName>[^/]+)/update-version$": dispatch,
        }
    )
