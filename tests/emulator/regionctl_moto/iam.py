"""IAM: UpdateRole as the IAM API reference describes it.

moto 5.2 sets the description to nothing and the maximum session duration to 3600 whenever
UpdateRole omits them; IAM leaves an omitted parameter unchanged.
"""

from moto.core.responses import EmptyResult
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


def install() -> None:
    IAMBackend.update_role = update_role
    IamResponse.update_role = r_update_role
