"""RDS: moto 5.2 fixed where it departs from the RDS API reference, and DB instances that take time.

Fixes (each follows the API reference of the operation named):
- ModifyDBSubnetGroup: moto pops the group out of the region (it vanishes after the call); the
  group is kept and changed in place, and a missing group answers DBSubnetGroupNotFoundFault.
- CreateDBSubnetGroup: an existing name answers DBSubnetGroupAlreadyExists instead of silently
  replacing the group; Create and Modify answer DBSubnetGroupDoesNotCoverEnoughAZs when the subnets
  span fewer than two availability zones.
- CreateDBInstanceReadReplica: a cross-region replica looked its subnet group up in the source's
  region; the replica no longer shares the source's Secrets Manager secret (deleting the replica
  deleted the source's secret) nor its lists; the source must have automated backups
  (InvalidDBInstanceState otherwise).
- DeleteDBInstance: deleting a cross-region replica removed it and then answered HTTP 500 (the
  source lists it by ARN, moto removed it by identifier); deleting a source promotes its replicas
  to standalone instances, as RDS does.
- PromoteReadReplica: the promoted instance kept reporting its source, and the source kept
  listing it; a non-replica answers InvalidDBInstanceState.
- ModifyDBInstance: DBPortNumber was ignored; an instance that is not available (creating,
  modifying, deleting) answers InvalidDBInstanceState, as RDS does.
- DescribeDBInstances reports PerformanceInsightsEnabled; every instance gets its own DbiResourceId.

Delays (regionctl kind "rds_instance", see delay.py): an instance reports "creating" for N
describes after CreateDBInstance / CreateDBInstanceReadReplica, "modifying" for N describes after
ModifyDBInstance / PromoteReadReplica, and stays listed as "deleting" for N describes after
DeleteDBInstance before it is gone.
"""

import copy
import threading
import uuid

from moto.rds import models
from moto.rds.exceptions import (
    DBInstanceAlreadyExists,
    DBInstanceNotFoundError,
    DBSubnetGroupNotFoundError,
    RDSClientError,
)

from . import delay

KIND = "rds_instance"
_ghost_lock = threading.Lock()


def _invalid_state(identifier: str, message: str | None = None) -> RDSClientError:
    return RDSClientError(
        "InvalidDBInstanceState",
        message or f"Database instance is not in available state: {identifier}.",
    )


# --- DB subnet groups ------------------------------------------------------------------------


def _check_az_coverage(subnets) -> None:
    zones = sorted({s.availability_zone for s in subnets})
    if len(zones) < 2:
        raise RDSClientError(
            "DBSubnetGroupDoesNotCoverEnoughAZs",
            "The DB subnet group doesn't meet Availability Zone (AZ) coverage requirement. "
            f"Current AZ coverage: {', '.join(zones)}. Add subnets to cover at least 2 AZs.",
        )


def create_subnet_group(self, subnet_name, description, subnets, tags):
    if subnet_name in self.subnet_groups:
        raise RDSClientError(
            "DBSubnetGroupAlreadyExists",
            f"The DB subnet group '{subnet_name.lower()}' already exists.",
        )
    _check_az_coverage(subnets)
    group = models.DBSubnetGroup(self, subnet_name, description, subnets, tags)
    self.subnet_groups[subnet_name] = group
    return group


def modify_db_subnet_group(self, subnet_name, description, subnets):
    group = self.subnet_groups.get(subnet_name)
    if group is None:
        raise DBSubnetGroupNotFoundError(subnet_name)
    if subnets:
        _check_az_coverage(subnets)
        group.subnets = subnets
        group.vpc_id = subnets[0].vpc_id
    if description is not None:
        group.description = description
    return group


# --- DB instances: lifecycle status ----------------------------------------------------------


def _start(database, word: str) -> None:
    """Starts a countdown on the instance; while it runs, describes report `word`."""
    countdown = delay.start(KIND)
    if countdown.pending:
        database._rc_countdown = countdown
        database._rc_word = word
        database.status = word


def _tick(database) -> None:
    countdown = getattr(database, "_rc_countdown", None)
    if countdown is None:
        return
    if countdown.tick():
        database.status = database._rc_word
    else:
        database._rc_countdown = None
        database.status = "available"


def _ghosts(backend) -> dict:
    """Instances deleted but still described as `deleting`, by identifier (lowercase)."""
    ghosts = getattr(backend, "_rc_deleting", None)
    if ghosts is None:
        ghosts = backend._rc_deleting = {}
    return ghosts


def _ready(database) -> bool:
    return database.status in ("available", "storage-optimization")


_orig_describe = models.RDSBackend.describe_db_instances


def describe_db_instances(self, db_instance_identifier=None, filters=None):
    wanted = (db_instance_identifier or "").lower()
    visible = []
    with _ghost_lock:
        ghosts = _ghosts(self)
        for key, (database, countdown) in list(ghosts.items()):
            if wanted and wanted not in (key, database.arn.lower()):
                continue
            if countdown.tick():
                visible.append(database)
            else:
                del ghosts[key]
    try:
        found = _orig_describe(self, db_instance_identifier, filters)
    except DBInstanceNotFoundError:
        if visible:
            return visible
        raise
    for database in found:
        _tick(database)
    return found + visible


# --- DB instances: create, modify, promote, delete -------------------------------------------


def _find(backend, db_id):
    """An instance by identifier or ARN (any region), without counting as a describe."""
    if backend.arn_regex.match(db_id):
        parts = db_id.split(":")
        backend = models.rds_backends[backend.account_id][parts[3]]
        db_id = parts[-1]
    database = backend.databases.get(db_id)
    if database is None:
        raise DBInstanceNotFoundError(db_id)
    return database


_orig_init = models.DBInstance.__init__


def _init(self, *args, **kwargs):
    _orig_init(self, *args, **kwargs)
    self.dbi_resource_id = "db-" + uuid.uuid4().hex[:26].upper()
    self.enable_performance_insights = bool(kwargs.get("enable_performance_insights"))


models.DBInstance.performance_insights_enabled = property(
    lambda self: bool(getattr(self, "enable_performance_insights", False))
)

_orig_create = models.RDSBackend.create_db_instance


def create_db_instance(self, db_kwargs):
    database = _orig_create(self, db_kwargs)
    _start(database, "creating")
    return database


def create_db_instance_read_replica(self, db_kwargs):
    database_id = db_kwargs["db_instance_identifier"]
    if database_id in self.databases:
        raise DBInstanceAlreadyExists()
    self._validate_db_identifier(database_id)
    source_id = db_kwargs["source_db_instance_identifier"]
    primary = _find(self, source_id)
    if not primary.backup_retention_period:
        raise _invalid_state(
            primary.db_instance_identifier,
            "Automated backups are not enabled for this database instance. To enable "
            "automated backups, use ModifyDBInstance to set the backup retention period to a "
            "non-zero value.",
        )
    replica = copy.copy(primary)
    # The copy must live in this region before its subnet group is looked up (in this region).
    replica.backend = self
    replica.replicas = []
    replica.vpc_security_group_ids = list(primary.vpc_security_group_ids)
    replica.tags = []
    replica._rc_countdown = None
    replica.status = "available"
    replica.dbi_resource_id = "db-" + uuid.uuid4().hex[:26].upper()
    # The master secret belongs to the source; a replica has none of its own.
    replica.manage_master_user_password = False
    replica.__dict__.pop("master_user_secret", None)
    kwargs = {k: v for k, v in db_kwargs.items() if k != "backend"}
    replica.update(**kwargs)
    replica.set_as_replica()
    self.databases[database_id] = replica
    primary.add_replica(replica)
    replica.add_event("DB_INSTANCE_CREATE")
    _start(replica, "creating")
    return replica


_orig_modify = models.RDSBackend.modify_db_instance


def modify_db_instance(self, db_instance_identifier, db_kwargs):
    database = self.databases.get(db_instance_identifier)
    if database is None:
        raise DBInstanceNotFoundError(db_instance_identifier)
    if not _ready(database):
        raise _invalid_state(db_instance_identifier)
    port = db_kwargs.pop("db_port_number", None)
    if port is not None:
        db_kwargs["port"] = port
    database = _orig_modify(self, db_instance_identifier, db_kwargs)
    _start(database, "modifying")
    return database


def promote_read_replica(self, db_kwargs):
    database_id = db_kwargs["db_instance_identifier"]
    database = self.databases.get(database_id)
    if database is None:
        raise DBInstanceNotFoundError(database_id)
    if not database.is_replica:
        raise _invalid_state(database_id, "DB Instance is not a read replica.")
    if not _ready(database):
        raise _invalid_state(database_id)
    _detach_from_source(self, database)
    database.is_replica = False
    database.source_db_instance_identifier = None
    database.update(**{k: v for k, v in db_kwargs.items() if k != "db_instance_identifier"})
    _start(database, "modifying")
    return database


def _detach_from_source(backend, replica) -> None:
    try:
        source = _find(backend, replica.source_db_instance_identifier)
    except DBInstanceNotFoundError:
        return
    for entry in (replica.db_instance_identifier, replica.db_instance_arn):
        if entry in source.replicas:
            source.replicas.remove(entry)


def _promote_replicas_of(backend, source) -> None:
    for entry in list(source.replicas):
        try:
            replica = _find(backend, entry)
        except DBInstanceNotFoundError:
            continue
        replica.is_replica = False
        replica.source_db_instance_identifier = None
    source.replicas = []


def delete_db_instance(
    self,
    db_instance_identifier,
    final_db_snapshot_identifier=None,
    skip_final_snapshot=False,
    delete_automated_backups=True,
):
    self._validate_db_identifier(db_instance_identifier)
    database = self.databases.get(db_instance_identifier)
    if database is None:
        raise DBInstanceNotFoundError(db_instance_identifier)
    if database.deletion_protection:
        raise RDSClientError(
            "InvalidParameterCombination",
            "Cannot delete protected DB Instance, please disable deletion protection and try again.",
        )
    if database.is_replica and final_db_snapshot_identifier:
        raise RDSClientError(
            "InvalidParameterCombination",
            "FinalDBSnapshotIdentifier can not be specified when deleting a replica instance",
        )
    if not skip_final_snapshot and not database.is_replica:
        if not final_db_snapshot_identifier:
            raise RDSClientError(
                "InvalidParameterCombination",
                "FinalDBSnapshotIdentifier is required unless SkipFinalSnapshot is specified.",
            )
        self.create_db_snapshot(
            db_instance_identifier, final_db_snapshot_identifier, snapshot_type="manual"
        )
    self.databases.pop(db_instance_identifier)
    if database.manage_master_user_password and hasattr(database, "master_user_secret"):
        database.master_user_secret.delete_secret()
    if database.is_replica:
        _detach_from_source(self, database)
    _promote_replicas_of(self, database)
    if delete_automated_backups:
        for snapshot in self.describe_db_snapshots(
            db_instance_identifier, db_snapshot_identifier=None, snapshot_type="automated"
        ):
            self.delete_db_snapshot(snapshot.db_snapshot_identifier)
    database.status = "deleting"
    database._rc_countdown = None
    countdown = delay.start(KIND)
    if countdown.pending:
        with _ghost_lock:
            _ghosts(self)[db_instance_identifier.lower()] = (database, countdown)
    return database


def _remove_replica(self, replica) -> None:
    for entry in (replica.db_instance_identifier, replica.db_instance_arn):
        if entry in self.replicas:
            self.replicas.remove(entry)


def install() -> None:
    backend = models.RDSBackend
    backend.create_subnet_group = create_subnet_group
    backend.modify_db_subnet_group = modify_db_subnet_group
    backend.describe_db_instances = describe_db_instances
    backend.create_db_instance = create_db_instance
    backend.create_db_instance_read_replica = create_db_instance_read_replica
    backend.modify_db_instance = modify_db_instance
    backend.promote_read_replica = promote_read_replica
    backend.delete_db_instance = delete_db_instance
    models.DBInstance.__init__ = _init
    models.DBInstance.remove_replica = _remove_replica
