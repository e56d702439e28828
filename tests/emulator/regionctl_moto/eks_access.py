"""EKS access entries and secrets encryption, which moto 5.2 lacks, as the EKS API reference
describes them.

Added:
- CreateAccessEntry / ListAccessEntries (POST / GET /clusters/{name}/access-entries),
  DescribeAccessEntry / UpdateAccessEntry / DeleteAccessEntry
  (GET / POST / DELETE /clusters/{name}/access-entries/{principalArn}),
  AssociateAccessPolicy / ListAssociatedAccessPolicies
  (POST / GET /clusters/{name}/access-entries/{principalArn}/access-policies) and
  DisassociateAccessPolicy (DELETE .../access-policies/{policyArn}). As EKS: every access entry
  operation on a cluster whose authentication mode is CONFIG_MAP answers
  InvalidRequestException; a second entry for a principal ResourceInUseException; an entry
  without a username gets EKS's generated one (the user ARN, or
  arn:aws:sts::<account>:assumed-role/<role name>/{{SessionName}} for a role, path removed); node
  types (EC2_LINUX ...) get the `system:nodes` group; a username with a reserved prefix and a
  namespace scope without namespaces are refused; associating a policy again replaces its scope;
  entries are tagged and work with TagResource / UntagResource / ListTagsForResource.
- AssociateEncryptionConfig (POST /clusters/{name}/encryption-config/associate): refused when
  the cluster already has one (EKS cannot change or remove it), otherwise stored and answered
  with an update, as the other cluster updates (`eks.py`). DescribeCluster reports the
  configuration CreateCluster stored (moto keeps `encryptionConfig` as given).

Installed after eks.py (name order), whose helpers it uses. `clientRequestToken` is accepted and
ignored (a retried create meets ResourceInUseException and is adopted by its tags).
"""

import uuid
from urllib.parse import unquote

from moto.core.exceptions import JsonRESTError
from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.eks import urls
from moto.eks.exceptions import InvalidParameterException, ResourceInUseException
from moto.eks.responses import EKSResponse

from . import eks

NODE_TYPES = {"EC2_LINUX", "EC2_WINDOWS", "FARGATE_LINUX", "EC2", "HYBRID_LINUX", "HYPERPOD_LINUX"}
TYPES = {"STANDARD"} | NODE_TYPES
RESERVED = ("system:", "eks:", "aws:", "amazon:", "iam:")


class InvalidRequestException(JsonRESTError):
    code = 400

    def __init__(self, message):
        super().__init__("InvalidRequestException", message)


class AccessEntry:
    def __init__(self, cluster, principal, groups, username, kind, tags, account, region):
        self.cluster_name = cluster.name
        self.principal_arn = principal
        self.type = kind
        self.kubernetes_groups = list(groups or [])
        if kind in NODE_TYPES and not self.kubernetes_groups:
            self.kubernetes_groups = ["system:nodes"]
        self.username = username or _generated_username(principal, account)
        self.tags = dict(tags or {})
        self.arn = (
            f"arn:aws:eks:{region}:{account}:access-entry/{cluster.name}/"
            f"{_principal_kind(principal)}/{account}/{principal.rsplit('/', 1)[-1]}/{uuid.uuid4()}"
        )
        self.created_at = utcnow()
        self.modified_at = self.created_at
        self.policies = {}  # policy ARN -> access scope

    def describe(self):
        return {
            "clusterName": self.cluster_name,
            "principalArn": self.principal_arn,
            "kubernetesGroups": self.kubernetes_groups,
            "accessEntryArn": self.arn,
            "createdAt": self.created_at,
            "modifiedAt": self.modified_at,
            "tags": self.tags,
            "username": self.username,
            "type": self.type,
        }


def _principal_kind(principal):
    return "user" if ":user/" in principal else "role"


def _generated_username(principal, account):
    if ":user/" in principal:
        return principal
    role = principal.rsplit("/", 1)[-1]  # EKS drops the role's path
    return f"arn:aws:sts::{account}:assumed-role/{role}/{{{{SessionName}}}}"


def _entries(cluster):
    if not hasattr(cluster, "rc_access_entries"):
        cluster.rc_access_entries = {}
    return cluster.rc_access_entries


def _api_cluster(backend, name):
    cluster = eks._cluster(backend, name)
    mode = (getattr(cluster, "access_config", None) or {}).get("authenticationMode", "CONFIG_MAP")
    if mode == "CONFIG_MAP":
        raise InvalidRequestException(
            "The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] "
            "to perform this operation."
        )
    return cluster


def _principal(self):
    """The principal ARN of the path: the SDK percent-encodes it, and moto's URL pattern may
    capture it encoded or decoded."""
    raw = self._get_param("principalArn") or ""
    return unquote(raw)


def _entry(backend, cluster_name, principal):
    cluster = _api_cluster(backend, cluster_name)
    entry = _entries(cluster).get(principal)
    if entry is None:
        raise eks._not_found(
            f"The specified access entry resource {principal} could not be found.",
            clusterName=cluster_name,
        )
    return cluster, entry


def _check_username(username):
    if username and username.startswith(RESERVED):
        raise InvalidParameterException(
            message=f"The username {username} can't start with system:, eks:, aws:, amazon:, or iam:"
        )


def r_create_access_entry(self):
    cluster = _api_cluster(self.eks_backend, self._get_param("name"))
    principal = self._get_param("principalArn")
    kind = self._get_param("type") or "STANDARD"
    if kind not in TYPES:
        raise InvalidParameterException(message=f"The type {kind} is not supported")
    if principal in _entries(cluster):
        raise ResourceInUseException(
            clusterName=cluster.name, nodegroupName=None, addonName=None,
            message=f"The specified access entry resource is already in use on this cluster.",
        )
    username = self._get_param("username")
    _check_username(username)
    entry = AccessEntry(
        cluster, principal, self._get_param("kubernetesGroups"), username, kind,
        self._get_param("tags"), self.current_account, self.region,
    )
    _entries(cluster)[principal] = entry
    return ActionResult({"accessEntry": entry.describe()})


def r_list_access_entries(self):
    cluster = _api_cluster(self.eks_backend, self._get_param("name"))
    return ActionResult({"accessEntries": sorted(_entries(cluster))})


def r_describe_access_entry(self):
    _, entry = _entry(self.eks_backend, self._get_param("name"), _principal(self))
    return ActionResult({"accessEntry": entry.describe()})


def r_update_access_entry(self):
    _, entry = _entry(self.eks_backend, self._get_param("name"), _principal(self))
    groups = self._get_param("kubernetesGroups")
    username = self._get_param("username")
    _check_username(username)
    if groups is not None:
        entry.kubernetes_groups = list(groups)
    if username:
        entry.username = username
    entry.modified_at = utcnow()
    return ActionResult({"accessEntry": entry.describe()})


def r_delete_access_entry(self):
    cluster, entry = _entry(self.eks_backend, self._get_param("name"), _principal(self))
    _entries(cluster).pop(entry.principal_arn, None)
    return ActionResult({})


def r_associate_access_policy(self):
    cluster, entry = _entry(self.eks_backend, self._get_param("name"), _principal(self))
    policy = self._get_param("policyArn")
    scope = self._get_param("accessScope") or {}
    kind = scope.get("type")
    namespaces = scope.get("namespaces") or []
    if kind not in ("cluster", "namespace"):
        raise InvalidParameterException(message=f"The access scope type {kind} is not supported")
    if kind == "namespace" and not namespaces:
        raise InvalidParameterException(message="A namespace access scope needs namespaces")
    if not str(policy).startswith("arn:aws:eks::aws:cluster-access-policy/"):
        raise eks._not_found(f"The access policy {policy} could not be found.")
    now = utcnow()
    stored = {"type": kind}
    if kind == "namespace":
        stored["namespaces"] = list(namespaces)
    previous = entry.policies.get(policy)
    entry.policies[policy] = {
        "policyArn": policy,
        "accessScope": stored,
        "associatedAt": previous["associatedAt"] if previous else now,
        "modifiedAt": now,
    }
    return ActionResult(
        {
            "clusterName": cluster.name,
            "principalArn": entry.principal_arn,
            "associatedAccessPolicy": entry.policies[policy],
        }
    )


def r_list_associated_access_policies(self):
    cluster, entry = _entry(self.eks_backend, self._get_param("name"), _principal(self))
    return ActionResult(
        {
            "clusterName": cluster.name,
            "principalArn": entry.principal_arn,
            "associatedAccessPolicies": [entry.policies[k] for k in sorted(entry.policies)],
        }
    )


def r_disassociate_access_policy(self):
    _, entry = _entry(self.eks_backend, self._get_param("name"), _principal(self))
    policy = unquote(self._get_param("policyArn") or "")
    if entry.policies.pop(policy, None) is None:
        raise eks._not_found(f"The access policy {policy} is not associated with this entry.")
    return ActionResult({})


def r_associate_encryption_config(self):
    name = self._get_param("name")
    cluster = eks._cluster(self.eks_backend, name)
    eks._refresh_status(cluster)
    if getattr(cluster, "encryption_config", None):
        raise InvalidParameterException(
            message="Encryption is already enabled on the cluster; it cannot be changed or removed"
        )
    config = self._get_param("encryptionConfig") or []
    if len(config) != 1 or not (config[0].get("provider") or {}).get("keyArn"):
        raise InvalidParameterException(message="One encryption config with a provider keyArn is required")
    update = eks._new_update(
        cluster, "eks_cluster", "AssociateEncryptionConfig", [("EncryptionConfig", config)]
    )
    cluster.encryption_config = config
    return ActionResult({"update": eks._public(update)})


_orig_resource_for_arn = eks._resource_for_arn


def _resource_for_arn(self, arn):
    for cluster in self.clusters.values():
        for entry in getattr(cluster, "rc_access_entries", {}).values():
            if entry.arn == arn:
                return entry
    return _orig_resource_for_arn(self, arn)


def install() -> None:
    # Chained after the add-ons' lookup (both wrap the one before them).
    eks._resource_for_arn = _resource_for_arn
    EKSResponse.create_access_entry = r_create_access_entry
    EKSResponse.list_access_entries = r_list_access_entries
    EKSResponse.describe_access_entry = r_describe_access_entry
    EKSResponse.update_access_entry = r_update_access_entry
    EKSResponse.delete_access_entry = r_delete_access_entry
    EKSResponse.associate_access_policy = r_associate_access_policy
    EKSResponse.list_associated_access_policies = r_list_associated_access_policies
    EKSResponse.disassociate_access_policy = r_disassociate_access_policy
    EKSResponse.associate_encryption_config = r_associate_encryption_config
    dispatch = urls.response.dispatch
    # A principal ARN holds slashes (role paths); whether it arrives percent-encoded or not,
    # the patterns take everything up to the fixed suffix.
    urls.url_paths.update(
        {
            "{0}/clusters/(?P<name>[^/]+)/access-entries$": dispatch,
            "{0}/clusters/(?P<name>[^/]+)/access-entries/(?P<principalArn>.+?)/access-policies$": dispatch,
            "{0}/clusters/(?P<name>[^/]+)/access-entries/(?P<principalArn>.+?)/access-policies/(?P<policyArn>.+)$": dispatch,
            "{0}/clusters/(?P<name>[^/]+)/access-entries/(?P<principalArn>.+)$": dispatch,
            "{0}/clusters/(?P<name>[^/]+)/encryption-config/associate$": dispatch,
        }
    )
