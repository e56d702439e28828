"""Resource Groups Tagging API: GetResources for the resource types regionctl reads through it,
following the API reference (2017-01-26) and the ARN resource types of RDS and ElastiCache.

moto 5.2's GetResources:
- does not index RDS DB subnet groups at all (`rds:subgrp`; its code lists them as to do);
- does not index EKS at all (`eks:cluster`, `eks:nodegroup`);
- indexes ElastiCache cache subnet groups and replication groups under its own type names
  (`elasticache:cache_subnet_groups`, `elasticache:replication-group`), so the filters AWS
  documents, `elasticache:subnetgroup` and `elasticache:replicationgroup` (the resource types of
  their ARNs), match nothing.

Here a request naming any of those types gets them from the RDS, ElastiCache and EKS backends
(with their current tags, filtered by the request's TagFilters as AWS filters them); the other
types are left to moto.

AWS documents the log group type as `logs:log-group`; moto's filter checks `logs:loggroup`, so
the name is translated before moto sees it. CloudWatch alarms (`cloudwatch:alarm`) and SNS
topics (`sns`) moto indexes as AWS does.

AWS's index is eventually consistent: a resource just created, or just retagged, may be missing
from the answer or carry its old tags for a while. `POST /regionctl/tagging {"lagging": true}`
makes the answers leave out every resource of every type, as a lagging index would (what
regionctl must survive: it falls back to each resource's own ListTagsForResource);
`{"lagging": false}` or `/moto-api/reset` turns it off.
"""

from typing import Any, Iterator

from moto.eks.models import eks_backends
from moto.elasticache.models import elasticache_backends
from moto.rds.models import rds_backends
from moto.resourcegroupstaggingapi.models import ResourceGroupsTaggingAPIBackend

RDS_SUBNET_GROUP = "rds:subgrp"
CACHE_SUBNET_GROUP = "elasticache:subnetgroup"
REPLICATION_GROUP = "elasticache:replicationgroup"
CLUSTER = "eks:cluster"
NODE_GROUP = "eks:nodegroup"
TYPES = (RDS_SUBNET_GROUP, CACHE_SUBNET_GROUP, REPLICATION_GROUP, CLUSTER, NODE_GROUP)

_original = ResourceGroupsTaggingAPIBackend._get_resources_generator
_lagging = {"on": False}


def configure(lagging: bool) -> dict[str, bool]:
    _lagging["on"] = bool(lagging)
    return {"lagging": _lagging["on"]}


def reset() -> None:
    _lagging["on"] = False


def _matches(tag_filters: list[dict[str, Any]] | None, tags: list[dict[str, str]]) -> bool:
    """AWS's TagFilters: every filter's key present, with one of its values when it lists any."""
    have = {t["Key"]: t.get("Value", "") for t in tags}
    for f in tag_filters or []:
        key, values = f.get("Key"), f.get("Values") or []
        if key not in have:
            return False
        if values and have[key] not in values:
            return False
    return True


def _ours(self, tag_filters, wanted: set[str]) -> Iterator[dict[str, Any]]:
    if _lagging["on"]:
        return
    if RDS_SUBNET_GROUP in wanted:
        rds = rds_backends[self.account_id][self.region_name]
        for group in list(rds.subnet_groups.values()):
            tags = [{"Key": t["Key"], "Value": t.get("Value", "")} for t in group.tags or []]
            if _matches(tag_filters, tags):
                yield {"ResourceARN": group.arn, "Tags": tags}
    if CLUSTER in wanted or NODE_GROUP in wanted:
        eks = eks_backends[self.account_id][self.region_name]
        for cluster in list(eks.clusters.values()):
            if CLUSTER in wanted:
                tags = [{"Key": k, "Value": v} for k, v in (cluster.tags or {}).items()]
                if _matches(tag_filters, tags):
                    yield {"ResourceARN": cluster.arn, "Tags": tags}
            if NODE_GROUP not in wanted:
                continue
            for group in list(cluster.nodegroups.values()):
                tags = [{"Key": k, "Value": v} for k, v in (group.tags or {}).items()]
                if _matches(tag_filters, tags):
                    yield {"ResourceARN": group.arn, "Tags": tags}
    cache = elasticache_backends[self.account_id][self.region_name]
    sources = []
    if CACHE_SUBNET_GROUP in wanted:
        sources.append(cache.cache_subnet_groups)
    if REPLICATION_GROUP in wanted:
        sources.append(cache.replication_groups)
    for source in sources:
        for resource in list(source.values()):
            tags = cache.tagging_service.list_tags_for_resource(resource.arn)["Tags"]
            if _matches(tag_filters, tags):
                yield {"ResourceARN": resource.arn, "Tags": tags}


# Resource types AWS documents under another name than moto's filter checks: AWS's
# `logs:log-group` (the ARN's `log-group:NAME`) is moto's `logs:loggroup`.
MOTO_NAMES = {"logs:log-group": "logs:loggroup"}


def _get_resources_generator(self, tag_filters=None, resource_type_filters=None):
    if _lagging["on"]:
        # A lagging index leaves out everything regionctl reads through it, whatever the type.
        return
    filters = [MOTO_NAMES.get(t, t) for t in resource_type_filters or []]
    wanted = {t for t in filters if t in TYPES}
    if not wanted:
        yield from _original(self, tag_filters=tag_filters, resource_type_filters=filters)
        return
    yield from _ours(self, tag_filters, wanted)
    rest = [t for t in filters if t not in TYPES]
    if rest:
        yield from _original(self, tag_filters=tag_filters, resource_type_filters=rest)


def install() -> None:
    ResourceGroupsTaggingAPIBackend._get_resources_generator = _get_resources_generator
