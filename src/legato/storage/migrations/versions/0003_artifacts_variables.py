"""Artifacts and variables.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24

``artifacts`` holds the rich outputs of runs, in versions by key (no foreign
keys, like the run tables); ``variables`` holds named JSON values.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from legato.storage.types import JSON, UUID, Timestamp

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _create_index_not_null(table: str, *columns: str) -> None:
    """A partial index without the rows whose first column is NULL."""
    where = sa.text(f"{columns[0]} IS NOT NULL")
    name = op.f(f"ix_{table}_{'_'.join(columns)}")
    op.create_index(name, table, list(columns), sqlite_where=where, postgresql_where=where)


def upgrade() -> None:
    op.create_table(
        "artifacts",
        sa.Column("id", UUID(), nullable=False),
        sa.Column("key", sa.String(), nullable=True),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("data", JSON(), nullable=True),
        sa.Column("metadata_", JSON(), nullable=True),
        sa.Column("flow_run_id", UUID(), nullable=True),
        sa.Column("task_run_id", UUID(), nullable=True),
        sa.Column("created", Timestamp(), nullable=False),
        sa.Column("updated", Timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_artifacts")),
    )
    _create_index_not_null("artifacts", "key", "created")
    _create_index_not_null("artifacts", "flow_run_id")
    op.create_table(
        "variables",
        sa.Column("id", UUID(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("value", JSON(), nullable=True),
        sa.Column("tags", JSON(), server_default="[]", nullable=False),
        sa.Column("created", Timestamp(), nullable=False),
        sa.Column("updated", Timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_variables")),
        sa.UniqueConstraint("name", name=op.f("uq_variables_name")),
    )


def downgrade() -> None:
    op.drop_table("variables")
    op.drop_table("artifacts")
