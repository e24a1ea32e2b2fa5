"""Runs, their state history and their logs.

Revision ID: 0001
Revises:
Create Date: 2026-01-01

Run tables have no foreign keys (see legato.storage.schema): the recorder
writes rows in any order across batches, and deletes cascade in code.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from legato.storage.types import JSON, UUID, Timestamp

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _current_state_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("state_type", sa.String(), nullable=True),
        sa.Column("state_name", sa.String(), nullable=True),
        sa.Column("state_message", sa.Text(), nullable=True),
        sa.Column("state_timestamp", Timestamp(), nullable=True),
        sa.Column("expected_start_time", Timestamp(), nullable=True),
        sa.Column("start_time", Timestamp(), nullable=True),
        sa.Column("end_time", Timestamp(), nullable=True),
        sa.Column("total_run_time", sa.Float(), server_default="0", nullable=False),
        sa.Column("created", Timestamp(), nullable=False),
        sa.Column("updated", Timestamp(), nullable=False),
    ]


def _create_index_not_null(table: str, *columns: str) -> None:
    """A partial index without the rows whose first column is NULL."""
    where = sa.text(f"{columns[0]} IS NOT NULL")
    name = op.f(f"ix_{table}_{'_'.join(columns)}")
    op.create_index(name, table, list(columns), sqlite_where=where, postgresql_where=where)


def upgrade() -> None:
    op.create_table(
        "flows",
        sa.Column("id", UUID(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("created", Timestamp(), nullable=False),
        sa.Column("updated", Timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flows")),
        sa.UniqueConstraint("name", name=op.f("uq_flows_name")),
    )
    op.create_table(
        "flow_runs",
        sa.Column("id", UUID(), nullable=False),
        sa.Column("flow_id", UUID(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("flow_version", sa.String(), nullable=True),
        sa.Column("parameters", JSON(), server_default="{}", nullable=False),
        sa.Column("tags", JSON(), server_default="[]", nullable=False),
        sa.Column("run_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("parent_flow_run_id", UUID(), nullable=True),
        sa.Column("parent_task_run_id", UUID(), nullable=True),
        *_current_state_columns(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flow_runs")),
    )
    for column in ("created", "state_type", "flow_id"):
        op.create_index(op.f(f"ix_flow_runs_{column}"), "flow_runs", [column])
    _create_index_not_null("flow_runs", "parent_flow_run_id")
    op.create_table(
        "task_runs",
        sa.Column("id", UUID(), nullable=False),
        sa.Column("flow_run_id", UUID(), nullable=True),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("task_key", sa.String(), nullable=False),
        sa.Column("dynamic_key", sa.String(), nullable=False),
        sa.Column("task_version", sa.String(), nullable=True),
        sa.Column("cache_key", sa.String(), nullable=True),
        sa.Column("tags", JSON(), server_default="[]", nullable=False),
        sa.Column("task_inputs", JSON(), server_default="{}", nullable=False),
        sa.Column("run_count", sa.Integer(), server_default="0", nullable=False),
        *_current_state_columns(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_runs")),
    )
    _create_index_not_null("task_runs", "flow_run_id", "created")
    op.create_index(op.f("ix_task_runs_created"), "task_runs", ["created"])
    op.create_table(
        "states",
        sa.Column("id", UUID(), nullable=False),
        sa.Column("flow_run_id", UUID(), nullable=True),
        sa.Column("task_run_id", UUID(), nullable=True),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("timestamp", Timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_states")),
    )
    _create_index_not_null("states", "flow_run_id")
    _create_index_not_null("states", "task_run_id")
    op.create_table(
        "logs",
        sa.Column("id", UUID(), nullable=False),
        sa.Column("flow_run_id", UUID(), nullable=True),
        sa.Column("task_run_id", UUID(), nullable=True),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("timestamp", Timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_logs")),
    )
    _create_index_not_null("logs", "flow_run_id", "timestamp")
    _create_index_not_null("logs", "task_run_id", "timestamp")


def downgrade() -> None:
    op.drop_table("logs")
    op.drop_table("states")
    op.drop_table("task_runs")
    op.drop_table("flow_runs")
    op.drop_table("flows")
