"""CloudWatch: metric alarms as the CloudWatch API reference describes them.

moto 5.2:
- ignores DescribeAlarms' MaxRecords and NextToken and answers everything at once: answers are
  pages of MaxRecords (default 50, at most 100) with a NextToken;
- applies PutMetricAlarm's Tags to an alarm that already exists: AWS takes them only when the
  call creates the alarm (TagResource changes them afterwards);
- keeps a deleted alarm's tags, so a new alarm of the same name inherits them: DeleteAlarms
  removes them, and answers ResourceNotFound when a named alarm does not exist;
- answers ListTagsForResource of a missing alarm with no tags, and UntagResource of an alarm
  without tags with ResourceNotFoundException: both follow whether the alarm exists.
"""

from moto.cloudwatch.exceptions import ResourceNotFound, ResourceNotFoundException, ValidationError
from moto.cloudwatch.models import CloudWatchBackend
from moto.cloudwatch.responses import CloudWatchResponse
from moto.core.responses import ActionResult

_original_put = CloudWatchBackend.put_metric_alarm
_original_describe = CloudWatchResponse.describe_alarms
_original_list_tags = CloudWatchBackend.list_tags_for_resource
_original_untag = CloudWatchBackend.untag_resource


def _check_alarm_arn(backend, arn):
    if ":alarm:" in (arn or "") and not any(
        a.alarm_arn == arn for a in backend.alarms.values()
    ):
        raise ResourceNotFoundException()


def put_metric_alarm(self, name, *args, **kwargs):
    if name in self.alarms:
        kwargs["tags"] = None
    return _original_put(self, name, *args, **kwargs)


def delete_alarms(self, alarm_names):
    missing = [n for n in alarm_names if n not in self.alarms]
    if missing:
        raise ResourceNotFound()
    for name in alarm_names:
        alarm = self.alarms.pop(name)
        self.tagger.delete_all_tags_for_resource(alarm.alarm_arn)


def list_tags_for_resource(self, arn):
    _check_alarm_arn(self, arn)
    return _original_list_tags(self, arn)


def untag_resource(self, arn, tag_keys):
    _check_alarm_arn(self, arn)
    if arn in self.tagger.tags:
        self.tagger.untag_resource_using_names(arn, tag_keys)


def r_describe_alarms(self):
    answer = _original_describe(self)
    try:
        size = int(self._get_param("MaxRecords") or 50)
        start = int(self._get_param("NextToken") or 0)
    except ValueError:
        raise ValidationError("Invalid NextToken or MaxRecords")
    if not 1 <= size <= 100:
        raise ValidationError("MaxRecords must be between 1 and 100")
    result = answer.result if hasattr(answer, "result") else answer
    alarms = list(result["MetricAlarms"]) + list(result["CompositeAlarms"])
    page = alarms[start : start + size]
    out = {
        "MetricAlarms": [a for a in page if a.rule is None],
        "CompositeAlarms": [a for a in page if a.rule is not None],
    }
    if start + size < len(alarms):
        out["NextToken"] = str(start + size)
    return ActionResult(out)


def install() -> None:
    CloudWatchBackend.put_metric_alarm = put_metric_alarm
    CloudWatchBackend.delete_alarms = delete_alarms
    CloudWatchBackend.list_tags_for_resource = list_tags_for_resource
    CloudWatchBackend.untag_resource = untag_resource
    CloudWatchResponse.describe_alarms = r_describe_alarms
