"""EKS managed add-ons, which moto 5.2 lacks entirely, as the EKS API reference describes them.

Added: CreateAddon (POST /clusters/{name}/addons), DescribeAddon and DeleteAddon
(/clusters/{name}/addons/{addonName}), ListAddons (GET /clusters/{name}/addons), UpdateAddon
(POST /clusters/{name}/addons/{addonName}/update, with an Update object as eks.py makes them) and
DescribeAddonVersions (GET /addons/supported-versions), with a small catalogue of the core
add-ons: two versions each per Kubernetes version, one of them the default. An add-on is
CREATING / UPDATING / DELETING for the configured number of describes (delay kind
"eks_addon"); a second add-on of the same name, an unknown add-on or a version not offered for
the cluster's Kubernetes version answer as EKS does; TagResource / UntagResource /
ListTagsForResource work on add-on ARNs. Installed after eks.py (name order), whose helpers it
uses.
"""

import uuid

from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.eks import urls
from moto.eks.exceptions import InvalidParameterException, ResourceInUseException
from moto.eks.responses import EKSResponse

from . import delay, eks

ADDONS = ["vpc-cni", "coredns", "kube-proxy", "aws-ebs-csi-driver", "eks-pod-identity-agent"]


def _versions(addon, k8s):
    """(version, default?) offered for `addon` on Kubernetes `k8s` ("1.31")."""
    minor = str(k8s).split(".")[1] if "." in str(k8s) else "0"
    return [(f"v1.{minor}.1-eksbuild.1", False), (f"v1.{minor}.2-eksbuild.1", True)]


class Addon:
    def __init__(self, cluster, name, version, role, tags, account, region):
        self.cluster_name = cluster.name
        self.addon_name = name
        self.addon_version = version
        self.service_account_role_arn = role
        self.tags = dict(tags or {})
        self.arn = f"arn:aws:eks:{region}:{account}:addon/{cluster.name}/{name}/{uuid.uuid4()}"
        self.created_at = utcnow()
        self.status = "CREATING"
        self.rc_creating = delay.start("eks_addon")
        self.rc_deleting = None
        self.rc_updates = {}

    def describe(self):
        out = {
            "addonName": self.addon_name,
            "clusterName": self.cluster_name,
            "status": self.status,
            "addonVersion": self.addon_version,
            "addonArn": self.arn,
            "createdAt": self.created_at,
            "modifiedAt": self.created_at,
            "tags": self.tags,
            "health": {"issues": []},
        }
        if self.service_account_role_arn:
            out["serviceAccountRoleArn"] = self.service_account_role_arn
        return out


def _addons(cluster):
    if not hasattr(cluster, "rc_addons"):
        cluster.rc_addons = {}
    return cluster.rc_addons


def _not_found(cluster_name, name):
    return eks._not_found(
        f"No addon: {name} found in cluster: {cluster_name}",
        clusterName=cluster_name,
        addonName=name,
    )


def _addon(backend, cluster_name, name):
    cluster = eks._cluster(backend, cluster_name)
    addon = _addons(cluster).get(name)
    if addon is None:
        raise _not_found(cluster_name, name)
    status = eks._refresh_status(addon)
    if status is None:
        _addons(cluster).pop(name, None)
        raise _not_found(cluster_name, name)
    addon.status = status
    return cluster, addon


def _check_version(addon, cluster, version):
    offered = [v for v, _ in _versions(addon, cluster.version)]
    if version not in offered:
        raise InvalidParameterException(
            message=f"Addon version specified is not supported for {addon} on Kubernetes {cluster.version}"
        )


def r_create_addon(self):
    cluster = eks._cluster(self.eks_backend, self._get_param("name"))
    name = self._get_param("addonName")
    if name not in ADDONS:
        raise InvalidParameterException(message=f"Addon {name} specified is not supported")
    if name in _addons(cluster):
        raise ResourceInUseException(
            clusterName=cluster.name, nodegroupName=None, addonName=name,
            message=f"Addon already exists: {name}",
        )
    version = self._get_param("addonVersion")
    if version:
        _check_version(name, cluster, version)
    else:
        version = next(v for v, default in _versions(name, cluster.version) if default)
    addon = Addon(
        cluster, name, version, self._get_param("serviceAccountRoleArn"),
        self._get_param("tags"), self.current_account, self.region,
    )
    _addons(cluster)[name] = addon
    if not addon.rc_creating.pending:
        addon.status = "ACTIVE"
    return ActionResult({"addon": addon.describe()})


def r_describe_addon(self):
    _, addon = _addon(self.eks_backend, self._get_param("name"), self._get_param("addonName"))
    return ActionResult({"addon": addon.describe()})


def r_list_addons(self):
    cluster = eks._cluster(self.eks_backend, self._get_param("name"))
    names = []
    for name in list(_addons(cluster)):
        try:
            _addon(self.eks_backend, cluster.name, name)
            names.append(name)
        except Exception:
            pass
    return ActionResult({"addons": sorted(names)})


def r_update_addon(self):
    cluster, addon = _addon(self.eks_backend, self._get_param("name"), self._get_param("addonName"))
    params = []
    version = self._get_param("addonVersion")
    if version:
        _check_version(addon.addon_name, cluster, version)
        params.append(("AddonVersion", version))
    role = self._get_param("serviceAccountRoleArn")
    if role is not None:
        params.append(("ServiceAccountRoleArn", role))
    resolve = self._get_param("resolveConflicts")
    if resolve:
        params.append(("ResolveConflicts", resolve))
    update = eks._new_update(addon, "eks_addon", "AddonUpdate", params)
    if version:
        addon.addon_version = version
    if role is not None:
        addon.service_account_role_arn = role or None
    return ActionResult({"update": eks._public(update)})


def r_delete_addon(self):
    cluster, addon = _addon(self.eks_backend, self._get_param("name"), self._get_param("addonName"))
    countdown = delay.start("eks_addon")
    if countdown.pending:
        addon.rc_deleting = countdown
        addon.status = "DELETING"
    else:
        _addons(cluster).pop(addon.addon_name, None)
    return ActionResult({"addon": addon.describe()})


def r_describe_addon_versions(self):
    names = [self._get_param("addonName")] if self._get_param("addonName") else ADDONS
    k8s = self._get_param("kubernetesVersion") or "1.31"
    return ActionResult(
        {
            "addons": [
                {
                    "addonName": name,
                    "type": "networking",
                    "addonVersions": [
                        {
                            "addonVersion": version,
                            "compatibilities": [
                                {"clusterVersion": k8s, "defaultVersion": default}
                            ],
                        }
                        for version, default in _versions(name, k8s)
                    ],
                }
                for name in names
                if name in ADDONS
            ]
        }
    )


_orig_resource_for_arn = eks._resource_for_arn


def _resource_for_arn(self, arn):
    for cluster in self.clusters.values():
        for addon in getattr(cluster, "rc_addons", {}).values():
            if addon.arn == arn:
                return addon
    return _orig_resource_for_arn(self, arn)


def install() -> None:
    eks._resource_for_arn = _resource_for_arn
    EKSResponse.create_addon = r_create_addon
    EKSResponse.describe_addon = r_describe_addon
    EKSResponse.list_addons = r_list_addons
    EKSResponse.update_addon = r_update_addon
    EKSResponse.delete_addon = r_delete_addon
    EKSResponse.describe_addon_versions = r_describe_addon_versions
    dispatch = urls.response.dispatch
    urls.url_paths.update(
        {
            "{0}/clusters/(?P<name>[^/]+)/addons$": dispatch,
            "{0}/clusters/(?P<name>[^/]+)/addons/(?P<addonName>[^/]+)$": dispatch,
            "{0}/clusters/(?P<name>[^/]+)/addons/(?P<addonName>[^/]+)/update$": dispatch,
            "{0}/addons/supported-versions$": dispatch,
        }
    )
