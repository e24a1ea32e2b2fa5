"""The database schema, defined once in SQLAlchemy Core.

Alembic migrations (``storage/migrations``) are the history of this schema and
must produce exactly these tables; a test compares them. Run tables carry no
foreign keys on purpose: the recorder writes whatever it has, in any order
across batches (a subflow run may point at a parent task run that is written a
moment later), and a batch must never fail for that. ``delete_flow_run``
cascades in code, in one transaction.
"""

from __future__ import annotations

import sqlalchemy as sa

from legato.storage.types import JSON, UUID, Timestamp

__all__ = [
    "artifacts",
    "block_documents",
    "concurrency_lease_limits",
    "concurrency_leases",
    "concurrency_limits",
    "deployment_schedules",
    "deployments",
    "flow_run_inputs",
    "flow_runs",
    "flows",
    "logs",
    "metadata",
    "state_details",
    "states",
    "task_runs",
    "variables",
    "work_pools",
    "work_queues",
    "workers",
]

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def _index_not_null(*columns: str) -> sa.Index:
    """A partial index that skips rows whose first column is NULL.

    State and log rows belong to a flow run *or* a task run, and most flow runs
    have no parent: leaving the NULLs out makes every insert cheaper, and a
    query on ``column = value`` still uses the index.
    """
    where = sa.text(f"{columns[0]} IS NOT NULL")
    return sa.Index(None, *columns, sqlite_where=where, postgresql_where=where)


def _run_count_column() -> sa.Column[int]:
    return sa.Column("run_count", sa.Integer, nullable=False, server_default="0")


def _run_state_columns() -> list[sa.Column[object]]:
    """Columns shared by flow runs and task runs: the current state and timing."""
    return [
        sa.Column("state_type", sa.String),
        sa.Column("state_name", sa.String),
        sa.Column("state_message", sa.Text),
        sa.Column("state_timestamp", Timestamp),
        sa.Column("expected_start_time", Timestamp),
        sa.Column("start_time", Timestamp),
        sa.Column("end_time", Timestamp),
        sa.Column("total_run_time", sa.Float, nullable=False, server_default="0"),
        sa.Column("created", Timestamp, nullable=False),
        sa.Column("updated", Timestamp, nullable=False),
    ]


def _flow_run_orchestration_columns() -> list[sa.Column[object]]:
    """Flow-run columns that deployments and workers set (records.FLOW_RUN_ORCHESTRATION_FIELDS)."""
    return [
        sa.Column("deployment_id", UUID),
        sa.Column("deployment_version", sa.String),
        sa.Column("work_queue_name", sa.String),
        sa.Column("work_queue_id", UUID),
        sa.Column("work_pool_name", sa.String),
        sa.Column("idempotency_key", sa.String),
        sa.Column("job_variables", JSON, nullable=False, server_default="{}"),
        sa.Column("infrastructure_pid", sa.String),
        sa.Column("auto_scheduled", sa.Boolean, nullable=False, server_default=sa.false()),
    ]


flows = sa.Table(
    "flows",
    metadata,
    sa.Column("id", UUID, primary_key=True),
    sa.Column("name", sa.String, nullable=False, unique=True),
    sa.Column("created", Timestamp, nullable=False),
    sa.Column("updated", Timestamp, nullable=False),
)

flow_runs = sa.Table(
    "flow_runs",
    metadata,
    sa.Column("id", UUID, primary_key=True),
    sa.Column("flow_id", UUID, nullable=False),
    sa.Column("name", sa.String, nullable=False),
    sa.Column("flow_version", sa.String),
    sa.Column("parameters", JSON, nullable=False, server_default="{}"),
    sa.Column("tags", JSON, nullable=False, server_default="[]"),
    _run_count_column(),
    sa.Column("parent_flow_run_id", UUID),
    sa.Column("parent_task_run_id", UUID),
    *_run_state_columns(),
    # Orchestration columns (deployments, work pools): after the recorder's
    # fields, which its upserts never name, so recording a run keeps them.
    *_flow_run_orchestration_columns(),
    sa.Index(None, "created"),
    sa.Index(None, "state_type"),
    sa.Index(None, "flow_id"),
    _index_not_null("parent_flow_run_id"),
    # A deployment's runs, by scheduled start (the scheduler's reads and deletes).
    _index_not_null("deployment_id", "expected_start_time"),
    # A work queue's runs by state, oldest scheduled start first (what a worker polls).
    _index_not_null("work_queue_id", "state_type", "expected_start_time"),
    # One run per flow and idempotency key.
    sa.Index(
        None,
        "flow_id",
        "idempotency_key",
        unique=True,
        sqlite_where=sa.text("idempotency_key IS NOT NULL"),
        postgresql_where=sa.text("idempotency_key IS NOT NULL"),
    ),
)

task_runs = sa.Table(
    "task_runs",
    metadata,
    sa.Column("id", UUID, primary_key=True),
    sa.Column("flow_run_id", UUID),
    sa.Column("name", sa.String, nullable=False),
    sa.Column("task_key", sa.String, nullable=False),
    sa.Column("dynamic_key", sa.String, nullable=False),
    sa.Column("task_version", sa.String),
    sa.Column("cache_key", sa.String),
    sa.Column("tags", JSON, nullable=False, server_default="[]"),
    sa.Column("task_inputs", JSON, nullable=False, server_default="{}"),
    _run_count_column(),
    *_run_state_columns(),
    # A flow run's task runs, newest first, straight from the index.
    _index_not_null("flow_run_id", "created"),
    sa.Index(None, "created"),
)

states = sa.Table(
    "states",
    metadata,
    sa.Column("id", UUID, primary_key=True),
    sa.Column("flow_run_id", UUID),
    sa.Column("task_run_id", UUID),
    sa.Column("type", sa.String, nullable=False),
    sa.Column("name", sa.String, nullable=False),
    sa.Column("message", sa.Text),
    sa.Column("timestamp", Timestamp, nullable=False),
    # Where a persisted result lives (legato.results metadata), or NULL.
    sa.Column("data", JSON),
    _index_not_null("flow_run_id"),
    _index_not_null("task_run_id"),
)

logs = sa.Table(
    "logs",
    metadata,
    sa.Column("id", UUID, primary_key=True),
    sa.Column("flow_run_id", UUID),
    sa.Column("task_run_id", UUID),
    sa.Column("name", sa.String, nullable=False),
    sa.Column("level", sa.Integer, nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("timestamp", Timestamp, nullable=False),
    _index_not_null("flow_run_id", "timestamp"),
    _index_not_null("task_run_id", "timestamp"),
)

# Saved configuration objects ("blocks"), e.g. a result storage saved by name
# and used as the slug "local-file-system/name".
block_documents = sa.Table(
    "block_documents",
    metadata,
    sa.Column("id", UUID, primary_key=True),
    sa.Column("block_type_slug", sa.String, nullable=False),
    sa.Column("name", sa.String, nullable=False),
    sa.Column("data", JSON, nullable=False, server_default="{}"),
    sa.Column("created", Timestamp, nullable=False),
    sa.Column("updated", Timestamp, nullable=False),
    sa.UniqueConstraint("block_type_slug", "name"),
)

# Rich outputs of runs (markdown, tables, links, progress, images). A key names a
# series of versions: each artifact created with a key is a new row, and the
# newest row of a key is its latest version. Like run tables, no foreign keys:
# an artifact made inside a flow is written at once, while its flow run row may
# reach the store a moment later through the recorder.
artifacts = sa.Table(
    "artifacts",
    metadata,
    sa.Column("id", UUID, primary_key=True),
    sa.Column("key", sa.String),
    sa.Column("type", sa.String, nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("data", JSON),
    # "metadata" is taken by SQLAlchemy's Table.metadata; Prefect 3 says metadata_ too.
    sa.Column("metadata_", JSON),
    sa.Column("flow_run_id", UUID),
    sa.Column("task_run_id", UUID),
    sa.Column("created", Timestamp, nullable=False),
    sa.Column("updated", Timestamp, nullable=False),
    # The versions of a key, newest first, and "is there a newer version?".
    _index_not_null("key", "created"),
    _index_not_null("flow_run_id"),
)

# Named JSON values that flows read at run time (configuration, not secrets).
variables = sa.Table(
    "variables",
    metadata,
    sa.Column("id", UUID, primary_key=True),
    sa.Column("name", sa.String, nullable=False, unique=True),
    sa.Column("value", JSON),
    sa.Column("tags", JSON, nullable=False, server_default="[]"),
    sa.Column("created", Timestamp, nullable=False),
    sa.Column("updated", Timestamp, nullable=False),
)

# Where and how deployed runs execute: a pool of workers of one type, its
# queues (priorities, concurrency limits) and the workers that poll it. A
# pool's status and a worker's are computed when read, from heartbeats and
# polls (orchestration.work_pools); ``status`` holds the last one written.
work_pools = sa.Table(
    "work_pools",
    metadata,
    sa.Column("id", UUID, primary_key=True),
    sa.Column("name", sa.String, nullable=False, unique=True),
    sa.Column("type", sa.String, nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("base_job_template", JSON, nullable=False, server_default="{}"),
    sa.Column("is_paused", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("concurrency_limit", sa.Integer),
    sa.Column("status", sa.String, nullable=False, server_default="NOT_READY"),
    sa.Column("default_queue_id", UUID),
    sa.Column("created", Timestamp, nullable=False),
    sa.Column("updated", Timestamp, nullable=False),
)

work_queues = sa.Table(
    "work_queues",
    metadata,
    sa.Column("id", UUID, primary_key=True),
    sa.Column(
        "work_pool_id",
        UUID,
        sa.ForeignKey("work_pools.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("name", sa.String, nullable=False),
    sa.Column("description", sa.Text),
    # 1 is the highest: a worker drains queues in priority order.
    sa.Column("priority", sa.Integer, nullable=False, server_default="1"),
    sa.Column("concurrency_limit", sa.Integer),
    sa.Column("is_paused", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("last_polled", Timestamp),
    sa.Column("created", Timestamp, nullable=False),
    sa.Column("updated", Timestamp, nullable=False),
    sa.UniqueConstraint("work_pool_id", "name"),
)

workers = sa.Table(
    "workers",
    metadata,
    sa.Column("id", UUID, primary_key=True),
    sa.Column(
        "work_pool_id",
        UUID,
        sa.ForeignKey("work_pools.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("name", sa.String, nullable=False),
    sa.Column("last_heartbeat_time", Timestamp, nullable=False),
    sa.Column("heartbeat_interval_seconds", sa.Integer),
    sa.Column("status", sa.String, nullable=False, server_default="OFFLINE"),
    sa.Column("created", Timestamp, nullable=False),
    sa.Column("updated", Timestamp, nullable=False),
    sa.UniqueConstraint("work_pool_id", "name"),
)

# Deployments: a flow made runnable by name ("flow/deployment") with default
# parameters, where its runs execute (a work pool and queue, or a serve
# process) and when (its schedules). One per flow and name.
deployments = sa.Table(
    "deployments",
    metadata,
    sa.Column("id", UUID, primary_key=True),
    sa.Column("name", sa.String, nullable=False),
    sa.Column("flow_id", UUID, nullable=False),
    sa.Column("version", sa.String),
    sa.Column("description", sa.Text),
    sa.Column("tags", JSON, nullable=False, server_default="[]"),
    sa.Column("parameters", JSON, nullable=False, server_default="{}"),
    sa.Column("parameter_openapi_schema", JSON),
    sa.Column("enforce_parameter_schema", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("entrypoint", sa.String),
    sa.Column("path", sa.String),
    sa.Column("pull_steps", JSON),
    sa.Column("work_pool_name", sa.String),
    sa.Column("work_queue_name", sa.String),
    sa.Column("job_variables", JSON, nullable=False, server_default="{}"),
    sa.Column("paused", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("concurrency_limit", sa.Integer),
    sa.Column("collision_strategy", sa.String),
    sa.Column("last_polled", Timestamp),
    sa.Column("created", Timestamp, nullable=False),
    sa.Column("updated", Timestamp, nullable=False),
    sa.UniqueConstraint("flow_id", "name"),
)

# A deployment's schedules (legato.schedules as JSON), each with its own
# parameters (merged over the deployment's) and active flag.
deployment_schedules = sa.Table(
    "deployment_schedules",
    metadata,
    sa.Column("id", UUID, primary_key=True),
    sa.Column(
        "deployment_id",
        UUID,
        sa.ForeignKey("deployments.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("schedule", JSON, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("parameters", JSON, nullable=False, server_default="{}"),
    sa.Column("slug", sa.String),
    sa.Column("max_scheduled_runs", sa.Integer),
    sa.Column("created", Timestamp, nullable=False),
    sa.Column("updated", Timestamp, nullable=False),
    sa.Index(None, "deployment_id"),
    sa.Index(
        None,
        "deployment_id",
        "slug",
        unique=True,
        sqlite_where=sa.text("slug IS NOT NULL"),
        postgresql_where=sa.text("slug IS NOT NULL"),
    ),
)

# Concurrency and rate limits, by name (tag limits are named "tag:<tag>"). A
# limit's slots in use are the slots of its unexpired leases (below) plus, for a
# rate limit, ``decayed_slots`` as of ``decay_updated``, draining at
# ``slot_decay_per_second``. See orchestration/concurrency_leases.py.
concurrency_limits = sa.Table(
    "concurrency_limits",
    metadata,
    sa.Column("id", UUID, primary_key=True),
    sa.Column("name", sa.String, nullable=False, unique=True),
    sa.Column("limit", sa.Integer, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("slot_decay_per_second", sa.Float, nullable=False, server_default="0"),
    sa.Column("denied_slots", sa.Integer, nullable=False, server_default="0"),
    sa.Column("decayed_slots", sa.Float, nullable=False, server_default="0"),
    sa.Column("decay_updated", Timestamp, nullable=False),
    sa.Column("created", Timestamp, nullable=False),
    sa.Column("updated", Timestamp, nullable=False),
)

# Slots held: a lease holds ``slots`` on each of its limits until it is released
# or its ``expiration`` passes (its holder stopped renewing it). No foreign keys,
# like the run tables: the service deletes a lease with its rows in
# ``concurrency_lease_limits`` in one transaction.
concurrency_leases = sa.Table(
    "concurrency_leases",
    metadata,
    sa.Column("id", UUID, primary_key=True),
    sa.Column("expiration", Timestamp, nullable=False),
    sa.Column("slots", sa.Integer, nullable=False),
    sa.Column("holder", JSON),
    sa.Column("created", Timestamp, nullable=False),
    sa.Index(None, "expiration"),
)

# Which limits each lease holds: the slots in use of a limit are found from its
# rows here (an index on limit_id), not by scanning every lease.
concurrency_lease_limits = sa.Table(
    "concurrency_lease_limits",
    metadata,
    sa.Column("lease_id", UUID, primary_key=True),
    sa.Column("limit_id", UUID, primary_key=True),
    sa.Index(None, "limit_id"),
)

# The options a state carries that no column holds: a pause's timeout, key,
# whether it reschedules and the input keys it waits on. One row for the few
# states that have some (PAUSED states proposed through the API); the states
# table keeps exactly the recorder's fields.
state_details = sa.Table(
    "state_details",
    metadata,
    sa.Column("state_id", UUID, primary_key=True),
    sa.Column("flow_run_id", UUID, nullable=False),
    sa.Column("details", JSON, nullable=False),
    sa.Index(None, "flow_run_id"),
)

# Values sent to a flow run by key: what a paused run waits for (its input's
# JSON schema under "<state>-<key>-schema", the answer under "...-response"),
# and inputs flows send each other. No foreign key, like the run tables.
flow_run_inputs = sa.Table(
    "flow_run_inputs",
    metadata,
    sa.Column("id", UUID, primary_key=True),
    sa.Column("flow_run_id", UUID, nullable=False),
    sa.Column("key", sa.String, nullable=False),
    sa.Column("value", JSON),  # any JSON, null included
    sa.Column("sender", sa.String),
    sa.Column("created", Timestamp, nullable=False),
    sa.Column("updated", Timestamp, nullable=False),
    sa.UniqueConstraint("flow_run_id", "key"),
)
