"""EKS node groups and EC2 launch templates, as the EKS and EC2 API references describe them.

moto 5.2:
- UpdateNodegroupVersion (added by eks.py) ignores `launchTemplate`: a new version of the node
  group's template is recorded (and reported by DescribeNodegroup), an update of type
  VersionUpdate carries it as a LaunchTemplateVersion parameter; a template other than the one
  the node group was created with, a node group created without one, or a version the template
  does not have answer InvalidParameterException, as EKS does;
- DescribeLaunchTemplates reports the tags a template was created with, whatever CreateTags and
  DeleteTags did since: it reports the current ones.

Installed after eks.py (modules install in name order), whose UpdateNodegroupVersion it wraps.
"""

from moto.ec2.models import ec2_backends
from moto.ec2.models.launch_templates import LaunchTemplate
from moto.eks.exceptions import InvalidParameterException
from moto.eks.responses import EKSResponse

from . import eks

_orig_update_version = None


def r_update_nodegroup_version(self):
    template = self._get_param("launchTemplate")
    if not template:
        return _orig_update_version(self)
    cluster_name = self._get_param("name")
    nodegroup_name = self._get_param("nodegroupName")
    nodegroup = eks._nodegroup(self.eks_backend, cluster_name, nodegroup_name)
    have = getattr(nodegroup, "launch_template", None) or {}
    if not have:
        raise InvalidParameterException(
            message="A launch template can only be given to a node group created with one"
        )
    same = (template.get("id") and template["id"] == have.get("id")) or (
        template.get("name") and template["name"] == have.get("name")
    )
    if not same:
        raise InvalidParameterException(
            message="You cannot specify a launch template other than the one the node group was created with"
        )
    ec2 = ec2_backends[self.current_account][self.region]
    lt = ec2.get_launch_template(have["id"])
    version = str(template.get("version") or lt.default_version_number)
    try:
        lt.get_version(version)
    except Exception:
        raise InvalidParameterException(
            message=f"Launch template {have['id']} has no version {version}"
        )
    result = _orig_update_version(self)
    nodegroup.launch_template = dict(have, version=version)
    update = result.result["update"]
    update["params"].append({"type": "LaunchTemplateVersion", "value": version})
    stored = nodegroup.rc_updates.get(update["id"])
    if stored is not None:
        stored["params"] = update["params"]
    return result


def _current_tags(self):
    return self.get_tags()


def _ignore_snapshot(self, value):
    """moto's constructor stores a snapshot of the tags; the property reads them live instead."""


def install() -> None:
    global _orig_update_version
    LaunchTemplate.tags = property(_current_tags, _ignore_snapshot)
    _orig_update_version = EKSResponse.update_nodegroup_version
    EKSResponse.update_nodegroup_version = r_update_nodegroup_version
