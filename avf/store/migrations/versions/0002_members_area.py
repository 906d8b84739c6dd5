"""members' area: profiles, join requests, relayed messages, blocks, former members,
moves; suspended roles

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from avf.store.schema import UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "former_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("city", sa.String(length=100), nullable=False),
        sa.Column("left_at", UtcDateTime(), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("moved_to", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_former_members_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_former_members")),
    )
    op.create_table(
        "join_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("city", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("phone", sa.String(length=50), server_default="", nullable=False),
        sa.Column("message", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("status", sa.String(length=10), server_default="pending", nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["people.id"],
            name=op.f("fk_join_requests_decided_by_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_join_requests")),
    )
    with op.batch_alter_table("join_requests", schema=None) as batch_op:
        batch_op.create_index("ix_join_requests_city_status", ["city", "status"], unique=False)

    op.create_table(
        "member_blocks",
        sa.Column("blocker_id", sa.Integer(), nullable=False),
        sa.Column("blocked_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["blocked_id"],
            ["people.id"],
            name=op.f("fk_member_blocks_blocked_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["blocker_id"],
            ["people.id"],
            name=op.f("fk_member_blocks_blocker_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("blocker_id", "blocked_id", name=op.f("pk_member_blocks")),
    )
    op.create_table(
        "member_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("city", sa.String(length=100), nullable=False),
        sa.Column("sender_id", sa.Integer(), nullable=True),
        sa.Column("recipient_id", sa.Integer(), nullable=True),
        sa.Column("in_reply_to", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["in_reply_to"],
            ["member_messages.id"],
            name=op.f("fk_member_messages_in_reply_to_member_messages"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["people.id"],
            name=op.f("fk_member_messages_recipient_id_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["sender_id"],
            ["people.id"],
            name=op.f("fk_member_messages_sender_id_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_messages")),
    )
    with op.batch_alter_table("member_messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_member_messages_city_created", ["city", "created_at"], unique=False
        )

    op.create_table(
        "moves",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("from_city", sa.String(length=100), nullable=False),
        sa.Column("to_city", sa.String(length=100), nullable=False),
        sa.Column("share_address", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("joined_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_moves_person_id_people"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moves")),
    )
    op.create_table(
        "profiles",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("about", sa.Text(), server_default="", nullable=False),
        sa.Column("interests", sa.String(length=300), server_default="", nullable=False),
        sa.Column("languages", sa.String(length=200), server_default="", nullable=False),
        sa.Column("phone", sa.String(length=50), server_default="", nullable=False),
        sa.Column("photo", sa.String(length=200), nullable=True),
        sa.Column("in_directory", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("directory_consent_at", UtcDateTime(), nullable=True),
        sa.Column("news_by_email", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("news_consent_at", UtcDateTime(), nullable=True),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_profiles_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_profiles")),
    )
    with op.batch_alter_table("roles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("suspended_at", UtcDateTime(), nullable=True))


def downgrade() -> None:

    with op.batch_alter_table("roles", schema=None) as batch_op:
        batch_op.drop_column("suspended_at")

    op.drop_table("profiles")
    op.drop_table("moves")
    with op.batch_alter_table("member_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_member_messages_city_created")

    op.drop_table("member_messages")
    op.drop_table("member_blocks")
    with op.batch_alter_table("join_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_join_requests_city_status")

    op.drop_table("join_requests")
    op.drop_table("former_members")
