"""Where persisted results live, and saved blocks.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

``states.data`` holds the metadata of a persisted result (storage, key,
serializer, expiration) so a later process can read the value back;
``block_documents`` holds configuration saved by name (e.g. result storage).
"""

from __future__ import annotations

from typing import Literal

import sqlalchemy as sa
from alembic import op

from legato.storage.types import JSON, UUID, Timestamp

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _recreate() -> Literal["always", "auto"]:
    # On SQLite, rebuild the table so its stored DDL is the one a new database
    # gets from the schema (ADD COLUMN would append the column to the text).
    return "always" if op.get_bind().dialect.name == "sqlite" else "auto"


def upgrade() -> None:
    with op.batch_alter_table("states", recreate=_recreate()) as batch:
        batch.add_column(sa.Column("data", JSON(), nullable=True))
    op.create_table(
        "block_documents",
        sa.Column("id", UUID(), nullable=False),
        sa.Column("block_type_slug", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("data", JSON(), server_default="{}", nullable=False),
        sa.Column("created", Timestamp(), nullable=False),
        sa.Column("updated", Timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_block_documents")),
        sa.UniqueConstraint(
            "block_type_slug", "name", name=op.f("uq_block_documents_block_type_slug_name")
        ),
    )


def downgrade() -> None:
    op.drop_table("block_documents")
    with op.batch_alter_table("states", recreate=_recreate()) as batch:
        batch.drop_column("data")
