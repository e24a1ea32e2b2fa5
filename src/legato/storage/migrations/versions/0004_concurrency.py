"""Concurrency and rate limits, and the leases that hold their slots.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26

``concurrency_limits`` holds the limits by name (tag limits are "tag:<tag>");
``concurrency_leases`` the slots held, each until released or expired;
``concurrency_lease_limits`` which limits each lease holds.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from legato.storage.types import JSON, UUID, Timestamp

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "concurrency_limits",
        sa.Column("id", UUID(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("limit", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("slot_decay_per_second", sa.Float(), server_default="0", nullable=False),
        sa.Column("denied_slots", sa.Integer(), server_default="0", nullable=False),
        sa.Column("decayed_slots", sa.Float(), server_default="0", nullable=False),
        sa.Column("decay_updated", Timestamp(), nullable=False),
        sa.Column("created", Timestamp(), nullable=False),
        sa.Column("updated", Timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_concurrency_limits")),
        sa.UniqueConstraint("name", name=op.f("uq_concurrency_limits_name")),
    )
    op.create_table(
        "concurrency_leases",
        sa.Column("id", UUID(), nullable=False),
        sa.Column("expiration", Timestamp(), nullable=False),
        sa.Column("slots", sa.Integer(), nullable=False),
        sa.Column("holder", JSON(), nullable=True),
        sa.Column("created", Timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_concurrency_leases")),
    )
    op.create_index(op.f("ix_concurrency_leases_expiration"), "concurrency_leases", ["expiration"])
    op.create_table(
        "concurrency_lease_limits",
        sa.Column("lease_id", UUID(), nullable=False),
        sa.Column("limit_id", UUID(), nullable=False),
        sa.PrimaryKeyConstraint("lease_id", "limit_id", name=op.f("pk_concurrency_lease_limits")),
    )
    op.create_index(
        op.f("ix_concurrency_lease_limits_limit_id"), "concurrency_lease_limits", ["limit_id"]
    )


def downgrade() -> None:
    op.drop_table("concurrency_lease_limits")
    op.drop_table("concurrency_leases")
    op.drop_table("concurrency_limits")
