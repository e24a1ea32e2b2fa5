"""Pause and resume: flow run inputs and the details of paused states.

Revision ID: 0007
Revises: 0003 (TEMPORARY: becomes 0006 when merged after the deployments migrations)
Create Date: 2026-12-01

``flow_run_inputs`` holds values sent to a flow run by key (a paused run's
input schema and the answer it was resumed with); ``state_details`` keeps the
options of a paused state (its timeout, key, whether it reschedules, the
input keys it waits on), one row per such state.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from legato.storage.types import JSON, UUID, Timestamp

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "state_details",
        sa.Column("state_id", UUID(), nullable=False),
        sa.Column("flow_run_id", UUID(), nullable=False),
        sa.Column("details", JSON(), nullable=False),
        sa.PrimaryKeyConstraint("state_id", name=op.f("pk_state_details")),
    )
    op.create_index(op.f("ix_state_details_flow_run_id"), "state_details", ["flow_run_id"])
    op.create_table(
        "flow_run_inputs",
        sa.Column("id", UUID(), nullable=False),
        sa.Column("flow_run_id", UUID(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("value", JSON(), nullable=True),
        sa.Column("sender", sa.String(), nullable=True),
        sa.Column("created", Timestamp(), nullable=False),
        sa.Column("updated", Timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flow_run_inputs")),
        sa.UniqueConstraint("flow_run_id", "key", name=op.f("uq_flow_run_inputs_flow_run_id_key")),
    )


def downgrade() -> None:
    op.drop_table("flow_run_inputs")
    op.drop_index(op.f("ix_state_details_flow_run_id"), table_name="state_details")
    op.drop_table("state_details")
