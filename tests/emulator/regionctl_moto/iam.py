"""IAM: UpdateRole and DeletePolicy as the IAM API reference describes them.

moto 5.2 sets the description to nothing and the maximum session duration to 3600 whenever
UpdateRole omits them; IAM leaves an omitted parameter unchanged.

moto 5.2 deletes a managed policy that is still attached to a role, user or group (leaving the
attachment behind) or that still has non-default versions; IAM refuses both with DeleteConflict
("You must detach the policy ... and delete all of its versions except the default").

moto 5.2 counts a second AttachRolePolicy of a policy the role already has as a second
attachment (it guards groups, not roles), so after the one DetachRolePolicy the policy still
counts as attached and DeletePolicy is refused forever. IAM's AttachRolePolicy of an attached
policy changes nothing; a retried AttachRolePolicy (its first answer lost) is exactly that.
"""

from moto.core.responses import EmptyResult
from moto.iam.exceptions import DeleteConflictException
from moto.iam.models import IAMBackend
from moto.iam.responses import IamResponse


def update_role(self, role_name, role_description, max_session_duration):
    role = self.get_role(role_name)
    if role_description is not None:
        role.description = role_description
    if max_session_duration is not None:
        role.max_session_duration = max_session_duration
    return role


def r_update_role(self):
    self.backend.update_role(
        self._get_param("RoleName"),
        self._get_param("Description"),
        self._get_param("MaxSessionDuration"),
    )
    return EmptyResult()


_original_delete_policy = IAMBackend.delete_policy


def delete_policy(self, policy_arn):
    policy = self.get_policy(policy_arn)
    if policy.attachment_count > 0:
        raise DeleteConflictException(
            "Cannot delete a policy attached to entities."
        )
    if any(v.version_id != policy.default_version_id for v in policy.versions):
        raise DeleteConflictException(
            "This policy has more than one version. Before you delete a policy, you must "
            "delete the policy's versions. The default version is deleted with the policy."
        )
    _original_delete_policy(self, policy_arn)


_original_attach_role_policy = IAMBackend.attach_role_policy


def attach_role_policy(self, policy_arn, role_name):
    if policy_arn in self.get_role(role_name).managed_policies:
        return
    _original_attach_role_policy(self, policy_arn, role_name)


def install() -> None:
    IAMBackend.attach_role_policy = attach_role_policy
    IAMBackend.delete_policy = delete_policy
    IAMBackend.update_role = update_role
    IamResponse.update_role = r_update_role
