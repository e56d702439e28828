"""ECR: the registry's replication configuration as the Amazon ECR API reference describes it.

moto 5.2:
- refuses a configuration with more than one rule ("This feature is disabled"): ECR takes up to
  10 rules, and up to 25 unique destinations across them ("Amazon ECR service quotas"); more
  answer ValidationException;
- checks only the first rule for a destination that is the source registry itself: every rule is
  checked (InvalidParameterException);
- accepts any repository filter type: only PREFIX_MATCH exists (InvalidParameterException
  otherwise);
- ignores PutImageScanningConfiguration with an empty `imageScanningConfiguration` (`{}`), which
  is how the AWS SDK for Rust sends `scanOnPush: false` (a member at its default is left out):
  ECR reads the missing member as false, and so does the emulator now.
"""

from moto.ecr.exceptions import InvalidParameterException, ValidationException
from moto.ecr.models import ECRBackend, Repository

MAX_RULES = 10
MAX_DESTINATIONS = 25


def put_replication_configuration(self, replication_config):
    rules = replication_config.get("rules") or []
    if len(rules) > MAX_RULES:
        raise ValidationException(
            f"A replication configuration can have at most {MAX_RULES} rules."
        )
    unique = set()
    for rule in rules:
        for dest in rule.get("destinations") or []:
            if dest.get("region") == self.region_name and dest.get("registryId") == self.account_id:
                raise InvalidParameterException(
                    "Invalid parameter at 'replicationConfiguration' failed to satisfy "
                    "constraint: 'Replication destination cannot be the same as the source "
                    "registry'"
                )
            unique.add((dest.get("region"), dest.get("registryId")))
        for rule_filter in rule.get("repositoryFilters") or []:
            if rule_filter.get("filterType") != "PREFIX_MATCH":
                raise InvalidParameterException(
                    "Invalid parameter at 'filterType' failed to satisfy constraint: "
                    "'Member must satisfy enum value set: [PREFIX_MATCH]'"
                )
    if len(unique) > MAX_DESTINATIONS:
        raise ValidationException(
            f"A replication configuration can have at most {MAX_DESTINATIONS} unique "
            "destinations."
        )
    self.replication_config = replication_config
    return {"replicationConfiguration": replication_config}


def _update_image_scanning_configuration(self, image_scanning_configuration):
    if image_scanning_configuration is not None:
        self.image_scanning_configuration = {
            "scanOnPush": bool(image_scanning_configuration.get("scanOnPush", False))
        }


def install() -> None:
    Repository._update_image_scanning_configuration = _update_image_scanning_configuration
    ECRBackend.put_replication_configuration = put_replication_configuration
