"""the volunteers' editor: autosaves, workflow journal, scheduled publications; the audit
log of role changes

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from avf.store.schema import UtcDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _people(column: str, table: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], ["people.id"],
                                   name=op.f(f"fk_{table}_{column}_people"), ondelete=ondelete)


def upgrade() -> None:
    op.create_table(
        "editor_autosaves",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("city", sa.String(length=100), nullable=False),
        sa.Column("path", sa.String(length=300), nullable=False),
        sa.Column("base", sa.String(length=64), server_default="", nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("saved_at", UtcDateTime(), nullable=False),
        _people("person_id", "editor_autosaves", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_editor_autosaves")),
        sa.UniqueConstraint("person_id", "city", "path",
                            name=op.f("uq_editor_autosaves_person_id")),
    )
    op.create_table(
        "editor_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("city", sa.String(length=100), nullable=False),
        sa.Column("path", sa.String(length=300), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), server_default="", nullable=False),
        sa.Column("commit", sa.String(length=64), nullable=True),
        sa.Column("build_job", sa.Integer(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        _people("person_id", "editor_events", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_editor_events")),
    )
    op.create_index("ix_editor_events_city_path", "editor_events", ["city", "path"])
    op.create_table(
        "editor_schedules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("city", sa.String(length=100), nullable=False),
        sa.Column("path", sa.String(length=300), nullable=False),
        sa.Column("publish_at", UtcDateTime(), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("done_at", UtcDateTime(), nullable=True),
        sa.Column("error", sa.Text(), server_default="", nullable=False),
        _people("requested_by", "editor_schedules", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_editor_schedules")),
        sa.UniqueConstraint("city", "path", name=op.f("uq_editor_schedules_city")),
    )
    op.create_table(
        "role_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("city", sa.String(length=100), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("person_name", sa.String(length=320), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("by_person_id", sa.Integer(), nullable=True),
        sa.Column("by_name", sa.String(length=320), server_default="", nullable=False),
        sa.Column("note", sa.String(length=300), server_default="", nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        _people("person_id", "role_changes", "SET NULL"),
        _people("by_person_id", "role_changes", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_role_changes")),
    )
    op.create_index("ix_role_changes_city_created_at", "role_changes", ["city", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_role_changes_city_created_at", table_name="role_changes")
    op.drop_table("role_changes")
    op.drop_table("editor_schedules")
    op.drop_index("ix_editor_events_city_path", table_name="editor_events")
    op.drop_table("editor_events")
    op.drop_table("editor_autosaves")
