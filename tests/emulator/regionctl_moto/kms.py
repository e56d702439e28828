"""KMS: key rotation and deletion as the AWS KMS API reference describes them.

moto 5.2:
- ignores EnableKeyRotation's RotationPeriodInDays and never reports one: it is stored (365 when
  omitted, 90 to 2560 accepted, others answer ValidationException) and GetKeyRotationStatus
  reports it while rotation is on;
- answers ScheduleKeyDeletion with a window outside 7 to 30 days with success and schedules
  nothing: it answers ValidationException; it also fails on a key ARN (it looks the key up by id
  only): the key is resolved by id or ARN;
- lets EnableKeyRotation, DisableKeyRotation, GetKeyRotationStatus, PutKeyPolicy,
  UpdateKeyDescription, CreateAlias / UpdateAlias (as target) and ScheduleKeyDeletion act on a
  key pending deletion: they answer KMSInvalidStateException ("Key states of AWS KMS keys").
"""

import json
from datetime import timedelta

from moto.core.exceptions import JsonRESTError
from moto.core.utils import unix_time, utcnow
from moto.kms.exceptions import ValidationException
from moto.kms.models import KmsBackend
from moto.kms.responses import KmsResponse

DEFAULT_ROTATION_DAYS = 365


class KMSInvalidStateException(JsonRESTError):
    code = 400

    def __init__(self, message: str):
        super().__init__("KMSInvalidStateException", message)


_original_disable_rotation = KmsBackend.disable_key_rotation
_original_put_policy = KmsBackend.put_key_policy
_original_update_description = KmsBackend.update_key_description
_original_r_set_alias = KmsResponse._set_alias


def _key(backend, key_id):
    return backend.keys[backend.get_key_id(key_id)]


def _usable(backend, key_id):
    """The key, unless it is pending deletion (KMSInvalidStateException, as AWS answers)."""
    key = _key(backend, key_id)
    if key.key_state == "PendingDeletion":
        raise KMSInvalidStateException(f"{key.arn} is pending deletion.")
    return key


def enable_key_rotation(self, key_id, rotation_period_in_days=None):
    key = _usable(self, key_id)
    days = DEFAULT_ROTATION_DAYS if rotation_period_in_days is None else rotation_period_in_days
    if not 90 <= int(days) <= 2560:
        raise ValidationException(
            f"1 validation error detected: Value '{days}' at 'rotationPeriodInDays' failed to "
            "satisfy constraint: Member must have value between 90 and 2560"
        )
    key.key_rotation_status = True
    key.rc_rotation_days = int(days)


def disable_key_rotation(self, key_id):
    _usable(self, key_id)
    _original_disable_rotation(self, key_id)


def put_key_policy(self, key_id, policy):
    _usable(self, key_id)
    _original_put_policy(self, key_id, policy)


def update_key_description(self, key_id, description):
    _usable(self, key_id)
    _original_update_description(self, key_id, description)


def schedule_key_deletion(self, key_id, pending_window_in_days):
    key = _usable(self, key_id)
    if not 7 <= int(pending_window_in_days) <= 30:
        raise ValidationException(
            f"1 validation error detected: Value '{pending_window_in_days}' at "
            "'pendingWindowInDays' failed to satisfy constraint: Member must have value "
            "between 7 and 30"
        )
    key.enabled = False
    key.key_state = "PendingDeletion"
    key.deletion_date = utcnow() + timedelta(days=int(pending_window_in_days))
    return unix_time(key.deletion_date)


def r_enable_key_rotation(self):
    key_id = self._get_param("KeyId")
    self._validate_cmk_id(key_id)
    self.kms_backend.enable_key_rotation(key_id, self._get_param("RotationPeriodInDays"))
    return "{}"


def r_get_key_rotation_status(self):
    key_id = self._get_param("KeyId")
    self._validate_cmk_id(key_id)
    key = _usable(self.kms_backend, key_id)
    out = {"KeyId": key.id, "KeyRotationEnabled": bool(key.key_rotation_status)}
    if key.key_rotation_status:
        out["RotationPeriodInDays"] = getattr(key, "rc_rotation_days", DEFAULT_ROTATION_DAYS)
    return json.dumps(out)


def r_set_alias(self, update=False):
    target = self._get_param("TargetKeyId")
    if target and not target.startswith("alias/"):
        backend = self.kms_backend
        key_id = backend.get_key_id(target)
        if key_id in backend.keys:
            _usable(backend, key_id)
    return _original_r_set_alias(self, update)


def install() -> None:
    KmsBackend.enable_key_rotation = enable_key_rotation
    KmsBackend.disable_key_rotation = disable_key_rotation
    KmsBackend.put_key_policy = put_key_policy
    KmsBackend.update_key_description = update_key_description
    KmsBackend.schedule_key_deletion = schedule_key_deletion
    KmsResponse.enable_key_rotation = r_enable_key_rotation
    KmsResponse.get_key_rotation_status = r_get_key_rotation_status
    KmsResponse._set_alias = r_set_alias
