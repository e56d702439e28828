"""CloudWatch Logs: log groups as the CloudWatch Logs API reference describes them.

moto 5.2:
- has no AssociateKmsKey or DisassociateKmsKey: both are added (by logGroupName or
  resourceIdentifier; an unknown group answers ResourceNotFoundException);
- ignores CreateLogGroup's logGroupClass and never reports one: it is stored (STANDARD when
  omitted, as AWS does; other values answer InvalidParameterException) and DescribeLogGroups
  reports it;
- keeps a deleted group's tags, so a new group of the same name inherits them: DeleteLogGroup
  removes them;
- accepts any retention in PutRetentionPolicy: only the documented periods are accepted, others
  answer InvalidParameterException;
- answers ListTagsForResource / TagResource / UntagResource of a missing log group with success:
  they answer ResourceNotFoundException.
"""

from moto.logs.exceptions import InvalidParameterException, ResourceNotFoundException
from moto.logs.models import LogGroup, LogsBackend
from moto.logs.responses import LogsResponse

CLASSES = ["STANDARD", "INFREQUENT_ACCESS", "DELIVERY"]
RETENTION_DAYS = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    2922, 3288, 3653,
]  # fmt: skip

_original_create = LogsBackend.create_log_group
_original_delete = LogsBackend.delete_log_group
_original_describe_dict = LogGroup.to_describe_dict
_original_put_retention = LogsBackend.put_retention_policy
_original_list_tags = LogsBackend.list_tags_for_resource
_original_tag = LogsBackend.tag_resource
_original_untag = LogsBackend.untag_resource


def _group(backend, name=None, identifier=None):
    """The group named `name`, or whose ARN (with or without `:*`) or name is `identifier`."""
    if name:
        group = backend.groups.get(name)
    else:
        ident = (identifier or "").removesuffix(":*")
        group = backend.groups.get(ident) or next(
            (g for g in backend.groups.values() if g.arn == ident), None
        )
    if group is None:
        raise ResourceNotFoundException()
    return group


def _check_arn(backend, arn):
    """A log group ARN must name an existing group (other resources are left to moto)."""
    if ":log-group:" in (arn or ""):
        _group(backend, identifier=arn)


def create_log_group(self, log_group_name, tags, **kwargs):
    group_class = kwargs.pop("logGroupClass", None) or "STANDARD"
    if group_class not in CLASSES:
        raise InvalidParameterException(
            constraint=f"Member must satisfy enum value set: {CLASSES}",
            parameter="logGroupClass",
            value=group_class,
        )
    group = _original_create(self, log_group_name, tags or {}, **kwargs)
    group.rc_class = group_class
    return group


def delete_log_group(self, log_group_name):
    arn = self.groups[log_group_name].arn if log_group_name in self.groups else None
    _original_delete(self, log_group_name)
    if arn:
        self.tagger.delete_all_tags_for_resource(arn)


def put_retention_policy(self, log_group_name, retention_in_days):
    if retention_in_days not in RETENTION_DAYS:
        raise InvalidParameterException(
            constraint=f"Member must satisfy enum value set: {RETENTION_DAYS}",
            parameter="retentionInDays",
            value=retention_in_days,
        )
    _original_put_retention(self, log_group_name, retention_in_days)


def list_tags_for_resource(self, resource_arn):
    _check_arn(self, resource_arn)
    return _original_list_tags(self, resource_arn)


def tag_resource(self, arn, tags):
    # CreateLogGroup tags the group it is making through this too, after storing it.
    _check_arn(self, arn)
    _original_tag(self, arn, tags)


def untag_resource(self, arn, tag_keys):
    _check_arn(self, arn)
    _original_untag(self, arn, tag_keys)


def to_describe_dict(self):
    out = _original_describe_dict(self)
    out["logGroupClass"] = getattr(self, "rc_class", "STANDARD")
    return out


def r_create_log_group(self):
    self.logs_backend.create_log_group(
        self._get_param("logGroupName"),
        self._get_param("tags"),
        kmsKeyId=self._get_param("kmsKeyId"),
        logGroupClass=self._get_param("logGroupClass"),
    )
    return ""


def r_associate_kms_key(self):
    group = _group(
        self.logs_backend,
        self._get_param("logGroupName"),
        self._get_param("resourceIdentifier"),
    )
    group.kms_key_id = self._get_param("kmsKeyId")
    return ""


def r_disassociate_kms_key(self):
    group = _group(
        self.logs_backend,
        self._get_param("logGroupName"),
        self._get_param("resourceIdentifier"),
    )
    group.kms_key_id = None
    return ""


def install() -> None:
    LogsBackend.create_log_group = create_log_group
    LogsBackend.delete_log_group = delete_log_group
    LogsBackend.put_retention_policy = put_retention_policy
    LogsBackend.list_tags_for_resource = list_tags_for_resource
    LogsBackend.tag_resource = tag_resource
    LogsBackend.untag_resource = untag_resource
    LogGroup.to_describe_dict = to_describe_dict
    LogsResponse.create_log_group = r_create_log_group
    LogsResponse.associate_kms_key = r_associate_kms_key
    LogsResponse.disassociate_kms_key = r_disassociate_kms_key
