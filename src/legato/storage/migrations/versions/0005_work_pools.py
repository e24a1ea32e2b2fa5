"""Work pools, work queues, workers, and the flow-run columns deployments and workers set.

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-01

``flow_runs`` gains ``deployment_id``, ``deployment_version``,
``work_queue_name``, ``work_queue_id``, ``work_pool_name``,
``idempotency_key`` (unique per flow where set), ``job_variables``,
``infrastructure_pid`` and ``auto_scheduled``, after the recorder's fields
(its upserts never name them, so recording a run keeps them).
"""

from __future__ import annotations

from typing import Literal

import sqlalchemy as sa
from alembic import op

from legato.storage.types import JSON, UUID, Timestamp

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_NEW_RUN_COLUMNS = (
    "deployment_id",
    "deployment_version",
    "work_queue_name",
    "work_queue_id",
    "work_pool_name",
    "idempotency_key",
    "job_variables",
    "infrastructure_pid",
    "auto_scheduled",
)


def _recreate() -> Literal["always", "auto"]:
    # On SQLite, rebuild the table so its stored DDL is the one a new database
    # gets from the schema (ADD COLUMN would append the column to the text).
    return "always" if op.get_bind().dialect.name == "sqlite" else "auto"


def _run_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("deployment_id", UUID(), nullable=True),
        sa.Column("deployment_version", sa.String(), nullable=True),
        sa.Column("work_queue_name", sa.String(), nullable=True),
        sa.Column("work_queue_id", UUID(), nullable=True),
        sa.Column("work_pool_name", sa.String(), nullable=True),
        sa.Column("idempotency_key", sa.String(), nullable=True),
        sa.Column("job_variables", JSON(), server_default="{}", nullable=False),
        sa.Column("infrastructure_pid", sa.String(), nullable=True),
        sa.Column("auto_scheduled", sa.Boolean(), server_default=sa.false(), nullable=False),
    ]


def _create_partial_index(columns: list[str], where_column: str, *, unique: bool = False) -> None:
    where = sa.text(f"{where_column} IS NOT NULL")
    name = op.f(f"ix_flow_runs_{'_'.join(columns)}")
    op.create_index(
        name, "flow_runs", columns, unique=unique, sqlite_where=where, postgresql_where=where
    )


def _upgrade_flow_runs() -> None:
    with op.batch_alter_table("flow_runs", recreate=_recreate()) as batch:
        for column in _run_columns():
            batch.add_column(column)
    _create_partial_index(["deployment_id", "expected_start_time"], "deployment_id")
    _create_partial_index(["work_queue_id", "state_type", "expected_start_time"], "work_queue_id")
    _create_partial_index(["flow_id", "idempotency_key"], "idempotency_key", unique=True)


def _timestamps() -> list[sa.Column[object]]:
    return [
        sa.Column("created", Timestamp(), nullable=False),
        sa.Column("updated", Timestamp(), nullable=False),
    ]


def _pool_reference(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["work_pool_id"],
        ["work_pools.id"],
        name=op.f(f"fk_{table}_work_pool_id_work_pools"),
        ondelete="CASCADE",
    )


def _create_work_tables() -> None:
    op.create_table(
        "work_pools",
        sa.Column("id", UUID(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("base_job_template", JSON(), server_default="{}", nullable=False),
        sa.Column("is_paused", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("concurrency_limit", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(), server_default="NOT_READY", nullable=False),
        sa.Column("default_queue_id", UUID(), nullable=True),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_pools")),
        sa.UniqueConstraint("name", name=op.f("uq_work_pools_name")),
    )
    op.create_table(
        "work_queues",
        sa.Column("id", UUID(), nullable=False),
        sa.Column("work_pool_id", UUID(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("priority", sa.Integer(), server_default="1", nullable=False),
        sa.Column("concurrency_limit", sa.Integer(), nullable=True),
        sa.Column("is_paused", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("last_polled", Timestamp(), nullable=True),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_queues")),
        sa.UniqueConstraint("work_pool_id", "name", name=op.f("uq_work_queues_work_pool_id_name")),
        _pool_reference("work_queues"),
    )
    op.create_table(
        "workers",
        sa.Column("id", UUID(), nullable=False),
        sa.Column("work_pool_id", UUID(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("last_heartbeat_time", Timestamp(), nullable=False),
        sa.Column("heartbeat_interval_seconds", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(), server_default="OFFLINE", nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workers")),
        sa.UniqueConstraint("work_pool_id", "name", name=op.f("uq_workers_work_pool_id_name")),
        _pool_reference("workers"),
    )


def upgrade() -> None:
    _upgrade_flow_runs()
    _create_work_tables()


def downgrade() -> None:
    op.drop_table("workers")
    op.drop_table("work_queues")
    op.drop_table("work_pools")
    for index in (
        "ix_flow_runs_flow_id_idempotency_key",
        "ix_flow_runs_work_queue_id_state_type_expected_start_time",
        "ix_flow_runs_deployment_id_expected_start_time",
    ):
        op.drop_index(op.f(index), table_name="flow_runs")
    with op.batch_alter_table("flow_runs", recreate=_recreate()) as batch:
        for name in reversed(_NEW_RUN_COLUMNS):
            batch.drop_column(name)
