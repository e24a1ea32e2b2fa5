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
    "flow_run_inputs",
    "flow_runs",
    "flows",
    "logs",
    "metadata",
    "state_details",
    "states",
    "task_runs",
    "variables",
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
    sa.Index(None, "created"),
    sa.Index(None, "state_type"),
    sa.Index(None, "flow_id"),
    _index_not_null("parent_flow_run_id"),
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
