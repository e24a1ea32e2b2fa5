"""Deployments and their schedules.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

``deployments`` (one per flow and name) and ``deployment_schedules`` (each a
``legato.schedules`` object as JSON, with its own parameters and active flag;
deleted with their deployment).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from legato.storage.types import JSON, UUID, Timestamp

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _create_deployments() -> None:
    op.create_table(
        "deployments",
        sa.Column("id", UUID(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("flow_id", UUID(), nullable=False),
        sa.Column("version", sa.String(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("tags", JSON(), server_default="[]", nullable=False),
        sa.Column("parameters", JSON(), server_default="{}", nullable=False),
        sa.Column("parameter_openapi_schema", JSON(), nullable=True),
        sa.Column(
            "enforce_parameter_schema", sa.Boolean(), server_default=sa.true(), nullable=False
        ),
        sa.Column("entrypoint", sa.String(), nullable=True),
        sa.Column("path", sa.String(), nullable=True),
        sa.Column("pull_steps", JSON(), nullable=True),
        sa.Column("work_pool_name", sa.String(), nullable=True),
        sa.Column("work_queue_name", sa.String(), nullable=True),
        sa.Column("job_variables", JSON(), server_default="{}", nullable=False),
        sa.Column("paused", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("concurrency_limit", sa.Integer(), nullable=True),
        sa.Column("collision_strategy", sa.String(), nullable=True),
        sa.Column("last_polled", Timestamp(), nullable=True),
        sa.Column("created", Timestamp(), nullable=False),
        sa.Column("updated", Timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deployments")),
        sa.UniqueConstraint("flow_id", "name", name=op.f("uq_deployments_flow_id_name")),
    )


def _create_deployment_schedules() -> None:
    op.create_table(
        "deployment_schedules",
        sa.Column("id", UUID(), nullable=False),
        sa.Column("deployment_id", UUID(), nullable=False),
        sa.Column("schedule", JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("parameters", JSON(), server_default="{}", nullable=False),
        sa.Column("slug", sa.String(), nullable=True),
        sa.Column("max_scheduled_runs", sa.Integer(), nullable=True),
        sa.Column("created", Timestamp(), nullable=False),
        sa.Column("updated", Timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deployment_schedules")),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["deployments.id"],
            name=op.f("fk_deployment_schedules_deployment_id_deployments"),
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        op.f("ix_deployment_schedules_deployment_id"), "deployment_schedules", ["deployment_id"]
    )
    where = sa.text("slug IS NOT NULL")
    op.create_index(
        op.f("ix_deployment_schedules_deployment_id_slug"),
        "deployment_schedules",
        ["deployment_id", "slug"],
        unique=True,
        sqlite_where=where,
        postgresql_where=where,
    )


def upgrade() -> None:
    _create_deployments()
    _create_deployment_schedules()


def downgrade() -> None:
    op.drop_table("deployment_schedules")
    op.drop_table("deployments")
