"""Every table of the service, declared once: the migrations must create exactly these
(tests/service/test_store.py compares them).

Times are stored as timezone-aware UTC datetimes. Email addresses are stored lower-cased
and never leave the service (no public page shows one).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.sql.expression import false
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """An aware datetime in, an aware UTC datetime out, on every database (SQLite keeps no
    time zone: without this, a value read back would be naive and compare wrongly)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store: use datetime.now(UTC)")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

metadata = MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})

NETWORK = ""  # the `city` of a network-wide role (the national webmaster)

people = Table(
    "people", metadata,
    Column("id", Integer, primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False, server_default=""),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("last_seen_at", UtcDateTime()),
)

roles = Table(
    "roles", metadata,
    Column("id", Integer, primary_key=True),
    Column("person_id", Integer, ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    Column("city", String(100), nullable=False),  # a city slug, or NETWORK
    Column("role", String(20), nullable=False),  # webmaster | admin | reporter | member
    Column("granted_at", UtcDateTime(), nullable=False),
    # A suspended role grants nothing until lifted (the admin's "suspendre").
    Column("suspended_at", UtcDateTime()),
    UniqueConstraint("person_id", "city", "role"),
)

login_tokens = Table(
    "login_tokens", metadata,
    Column("token_hash", String(64), primary_key=True),  # sha256 of the emailed token
    Column("person_id", Integer, ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    Column("next_path", String(500), nullable=False, server_default="/"),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("used_at", UtcDateTime()),
)

sessions = Table(
    "sessions", metadata,
    Column("id_hash", String(64), primary_key=True),  # sha256 of the id in the cookie
    Column("person_id", Integer, ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("revoked_at", UtcDateTime()),
)

rate_hits = Table(
    "rate_hits", metadata,
    Column("id", Integer, primary_key=True),
    Column("bucket", String(300), nullable=False),  # e.g. "login-ip:<hash>"
    Column("at", UtcDateTime(), nullable=False),
    Index("ix_rate_hits_bucket_at", "bucket", "at"),
)

outbox = Table(
    "outbox", metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(50), nullable=False),  # the template's name
    Column("to_address", String(320), nullable=False),
    Column("subject", String(300), nullable=False),
    Column("body_text", Text, nullable=False),
    Column("body_html", Text),
    Column("reply_to", String(320)),
    # Extra headers as JSON (e.g. List-Unsubscribe and List-Unsubscribe-Post of the news)
    Column("headers", Text, nullable=False, server_default="{}"),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("status", String(10), nullable=False, server_default="pending"),  # pending|sent|failed
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", UtcDateTime(), nullable=False),
    Column("sent_at", UtcDateTime()),
    Column("last_error", Text),
    Index("ix_outbox_status_next", "status", "next_attempt_at"),
)

webhook_deliveries = Table(
    "webhook_deliveries", metadata,
    Column("delivery_id", String(200), primary_key=True),
    Column("forge", String(20), nullable=False),
    Column("event", String(50), nullable=False),
    Column("received_at", UtcDateTime(), nullable=False),
    Column("outcome", String(300), nullable=False),
    Column("job_id", Integer),  # the sync job it queued, if any (build_jobs.id)
)

build_jobs = Table(
    "build_jobs", metadata,
    Column("id", Integer, primary_key=True),
    # build: build `city`; sync: fetch the content and move it to `commit`, then queue
    # builds of the cities it touched (city "*")
    Column("kind", String(10), nullable=False, server_default="build"),
    Column("city", String(100), nullable=False),  # a city slug, or "*" for every city
    Column("reason", String(300), nullable=False),
    Column("requested_by", String(320)),
    # Rebuild even if nothing changed (the dashboard's buttons); builds of pushes are not.
    Column("force", Boolean, nullable=False, server_default=false()),
    Column("status", String(10), nullable=False),  # queued | running | done | failed
    Column("requested_at", UtcDateTime(), nullable=False),
    Column("not_before", UtcDateTime(), nullable=False),  # coalescing window
    Column("started_at", UtcDateTime()),
    Column("finished_at", UtcDateTime()),
    Column("seconds", Float),
    Column("commit", String(64)),
    Column("log", Text, nullable=False, server_default=""),
    Column("errors", Text, nullable=False, server_default="[]"),  # JSON: file, line, message
    Index("ix_build_jobs_status_city", "status", "city"),
)

contact_messages = Table(
    "contact_messages", metadata,
    Column("id", Integer, primary_key=True),
    Column("city", String(100), nullable=False),
    Column("name", String(200), nullable=False),
    Column("email", String(320), nullable=False),
    Column("phone", String(50), nullable=False, server_default=""),
    Column("arrival", String(100), nullable=False, server_default=""),
    Column("message", Text, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("relayed", Boolean, nullable=False, server_default=false()),
)


# --- Members' area ----------------------------------------------------------------------

profiles = Table(
    "profiles", metadata,
    Column("person_id", Integer, ForeignKey("people.id", ondelete="CASCADE"),
           primary_key=True),
    Column("about", Text, nullable=False, server_default=""),  # a few words
    Column("interests", String(300), nullable=False, server_default=""),
    Column("languages", String(200), nullable=False, server_default=""),
    Column("phone", String(50), nullable=False, server_default=""),  # admins only
    Column("photo", String(200)),  # file name under AVF_DATA_DIR/photos/
    # Consents (RGPD), off by default, each with the moment its current choice was made:
    # given while the flag is on, withdrawn once it is off; None: never given.
    Column("in_directory", Boolean, nullable=False, server_default=false()),
    Column("directory_consent_at", UtcDateTime()),
    Column("news_by_email", Boolean, nullable=False, server_default=false()),
    Column("news_consent_at", UtcDateTime()),
    # How the news come, when wanted: digest (at most twice a week) | each | weekly
    Column("news_frequency", String(10), nullable=False, server_default="digest"),
    Column("updated_at", UtcDateTime(), nullable=False),
)

join_requests = Table(
    "join_requests", metadata,
    Column("id", Integer, primary_key=True),
    Column("city", String(100), nullable=False),
    Column("name", String(200), nullable=False),
    Column("email", String(320), nullable=False),
    Column("phone", String(50), nullable=False, server_default=""),
    Column("message", Text, nullable=False, server_default=""),
    Column("created_at", UtcDateTime(), nullable=False),
    # pending | approved | declined
    Column("status", String(10), nullable=False, server_default="pending"),
    Column("decided_by", Integer, ForeignKey("people.id", ondelete="SET NULL")),
    Column("decided_at", UtcDateTime()),
    Index("ix_join_requests_city_status", "city", "status"),
)

member_messages = Table(  # every relayed message, kept for the city's admins (abuse)
    "member_messages", metadata,
    Column("id", Integer, primary_key=True),
    Column("city", String(100), nullable=False),
    Column("sender_id", Integer, ForeignKey("people.id", ondelete="SET NULL")),
    Column("recipient_id", Integer, ForeignKey("people.id", ondelete="SET NULL")),
    Column("in_reply_to", Integer, ForeignKey("member_messages.id", ondelete="SET NULL")),
    Column("body", Text, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Index("ix_member_messages_city_created", "city", "created_at"),
)

member_blocks = Table(
    "member_blocks", metadata,
    Column("blocker_id", Integer, ForeignKey("people.id", ondelete="CASCADE"),
           primary_key=True),
    Column("blocked_id", Integer, ForeignKey("people.id", ondelete="CASCADE"),
           primary_key=True),
    Column("created_at", UtcDateTime(), nullable=False),
)

former_members = Table(  # a city keeps its former members' history
    "former_members", metadata,
    Column("id", Integer, primary_key=True),
    Column("person_id", Integer, ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    Column("city", String(100), nullable=False),
    Column("left_at", UtcDateTime(), nullable=False),
    Column("reason", String(20), nullable=False),  # moved | removed
    Column("moved_to", String(100)),
)

moves = Table(  # "Je déménage"
    "moves", metadata,
    Column("id", Integer, primary_key=True),
    Column("person_id", Integer, ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    Column("from_city", String(100), nullable=False),
    Column("to_city", String(100), nullable=False),
    Column("share_address", Boolean, nullable=False, server_default=false()),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("joined_at", UtcDateTime()),
)


# --- Members' exchanges -----------------------------------------------------------------

comments = Table(  # comments on posts, and the replies of group topics
    "comments", metadata,
    Column("id", Integer, primary_key=True),
    Column("city", String(100), nullable=False),
    # What is commented: "post:<slug>" (a post of the city) or "topic:<id>" (a group topic)
    Column("target", String(300), nullable=False),
    Column("parent_id", Integer, ForeignKey("comments.id", ondelete="CASCADE")),  # 1 level
    Column("author_id", Integer, ForeignKey("people.id", ondelete="SET NULL")),
    Column("body", Text, nullable=False),  # the Markdown typed
    Column("html", Text, nullable=False),  # rendered and sanitized once, when saved
    # pending (held for moderation) | visible | hidden (by a moderator) | deleted
    Column("status", String(10), nullable=False),
    Column("held_reason", String(300)),  # why it waits, for the moderation queue
    Column("created_at", UtcDateTime(), nullable=False),
    Column("edited_at", UtcDateTime()),
    Column("moderated_by", Integer, ForeignKey("people.id", ondelete="SET NULL")),
    Column("moderated_at", UtcDateTime()),
    Index("ix_comments_city_target_status", "city", "target", "status"),
)

comment_reports = Table(
    "comment_reports", metadata,
    Column("id", Integer, primary_key=True),
    Column("comment_id", Integer, ForeignKey("comments.id", ondelete="CASCADE"),
           nullable=False),
    Column("reporter_id", Integer, ForeignKey("people.id", ondelete="SET NULL")),
    Column("reason", String(500), nullable=False, server_default=""),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("handled_at", UtcDateTime()),
)

trusted_commenters = Table(  # a member whose first comment was approved (admin may revoke)
    "trusted_commenters", metadata,
    Column("person_id", Integer, ForeignKey("people.id", ondelete="CASCADE"),
           primary_key=True),
    Column("city", String(100), primary_key=True),
    Column("trusted_at", UtcDateTime(), nullable=False),
    Column("revoked_at", UtcDateTime()),
)

city_bans = Table(  # people a city admin banned from commenting and writing in the city
    "city_bans", metadata,
    Column("person_id", Integer, ForeignKey("people.id", ondelete="CASCADE"),
           primary_key=True),
    Column("city", String(100), primary_key=True),
    Column("banned_by", Integer, ForeignKey("people.id", ondelete="SET NULL")),
    Column("reason", String(300), nullable=False, server_default=""),
    Column("created_at", UtcDateTime(), nullable=False),
)

groups = Table(  # "communautés" of a city
    "groups", metadata,
    Column("id", Integer, primary_key=True),
    Column("city", String(100), nullable=False),
    Column("slug", String(100), nullable=False),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("created_by", Integer, ForeignKey("people.id", ondelete="SET NULL")),
    UniqueConstraint("city", "slug"),
)

group_members = Table(
    "group_members", metadata,
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"),
           primary_key=True),
    Column("person_id", Integer, ForeignKey("people.id", ondelete="CASCADE"),
           primary_key=True),
    Column("moderator", Boolean, nullable=False, server_default=false()),
    Column("joined_at", UtcDateTime(), nullable=False),
)

group_topics = Table(  # a discussion thread of a group; its replies are `comments`
    "group_topics", metadata,
    Column("id", Integer, primary_key=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column("author_id", Integer, ForeignKey("people.id", ondelete="SET NULL")),
    Column("title", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("html", Text, nullable=False),
    Column("status", String(10), nullable=False),  # pending | visible | hidden | deleted
    Column("held_reason", String(300)),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("last_activity_at", UtcDateTime(), nullable=False),
)

event_registrations = Table(
    "event_registrations", metadata,
    Column("id", Integer, primary_key=True),
    Column("city", String(100), nullable=False),
    Column("event", String(200), nullable=False),  # the event post's slug
    Column("person_id", Integer, ForeignKey("people.id", ondelete="CASCADE"),
           nullable=False),
    Column("status", String(10), nullable=False),  # registered | waiting | cancelled
    Column("created_at", UtcDateTime(), nullable=False),
    Column("promoted_at", UtcDateTime()),  # moved from the waiting list to registered
    Column("cancelled_at", UtcDateTime()),
    Column("reminded_at", UtcDateTime()),
    UniqueConstraint("city", "event", "person_id"),
)

publications = Table(  # what each build published, as the digests see it
    "publications", metadata,
    Column("id", Integer, primary_key=True),
    Column("city", String(100), nullable=False),  # a city slug, or "_network" (broadcast)
    Column("url", String(500), nullable=False),
    Column("title", String(300), nullable=False),
    Column("summary", Text, nullable=False, server_default=""),
    Column("visibility", String(10), nullable=False),  # public | members
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE")),
    Column("published_on", UtcDateTime(), nullable=False),  # the post's date
    Column("seen_at", UtcDateTime(), nullable=False),  # when a build first published it
    UniqueConstraint("city", "url"),
)

news_deliveries = Table(  # one row per mail of news sent to a member: never twice
    "news_deliveries", metadata,
    Column("id", Integer, primary_key=True),
    Column("person_id", Integer, ForeignKey("people.id", ondelete="CASCADE"),
           nullable=False),
    Column("period", String(40), nullable=False),  # e.g. "digest:2026-W48a", "each:<pub id>"
    Column("outbox_id", Integer, ForeignKey("outbox.id", ondelete="SET NULL")),
    Column("created_at", UtcDateTime(), nullable=False),
    UniqueConstraint("person_id", "period"),
)

# --- The volunteers' editor (migration 0004) ---------------------------------------------
# A document is named by its city and its path inside the city's folder ("posts/x.md");
# the file itself, and every version of it, live in the content's git repository.

editor_autosaves = Table(  # what a person typed and did not save yet (never a commit)
    "editor_autosaves", metadata,
    Column("id", Integer, primary_key=True),
    Column("person_id", Integer, ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    Column("city", String(100), nullable=False),
    Column("path", String(300), nullable=False),  # "posts/x.md", or "new:<key>" before saving
    Column("base", String(64), nullable=False, server_default=""),  # blob opened ("" = new)
    Column("text", Text, nullable=False),  # the whole file as it would be saved
    Column("saved_at", UtcDateTime(), nullable=False),
    UniqueConstraint("person_id", "city", "path"),
)

editor_events = Table(  # the workflow's journal: submitted, sent back, published…
    "editor_events", metadata,
    Column("id", Integer, primary_key=True),
    Column("city", String(100), nullable=False),
    Column("path", String(300), nullable=False),
    # created | saved | submitted | sent_back | published | unpublished | scheduled |
    # unscheduled | deleted | restored
    Column("action", String(20), nullable=False),
    Column("person_id", Integer, ForeignKey("people.id", ondelete="SET NULL")),
    Column("comment", Text, nullable=False, server_default=""),  # the reviewer's words
    Column("commit", String(64)),
    Column("build_job", Integer),  # the build that puts it online (build_jobs.id)
    Column("created_at", UtcDateTime(), nullable=False),
    Index("ix_editor_events_city_path", "city", "path"),
)

editor_schedules = Table(  # "publier le … à …": the service publishes it then
    "editor_schedules", metadata,
    Column("id", Integer, primary_key=True),
    Column("city", String(100), nullable=False),
    Column("path", String(300), nullable=False),
    Column("publish_at", UtcDateTime(), nullable=False),
    Column("requested_by", Integer, ForeignKey("people.id", ondelete="SET NULL")),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("done_at", UtcDateTime()),
    Column("error", Text, nullable=False, server_default=""),
    UniqueConstraint("city", "path"),
)

role_changes = Table(  # the audit log of who gave or took which role, kept for handovers
    "role_changes", metadata,
    Column("id", Integer, primary_key=True),
    Column("city", String(100), nullable=False),  # a city slug, or NETWORK
    Column("person_id", Integer, ForeignKey("people.id", ondelete="SET NULL")),
    Column("person_name", String(320), nullable=False),  # as it was: kept if the account goes
    Column("role", String(20), nullable=False),
    # granted | revoked | suspended | reinstated | invited | handed_over
    Column("action", String(20), nullable=False),
    Column("by_person_id", Integer, ForeignKey("people.id", ondelete="SET NULL")),
    Column("by_name", String(320), nullable=False, server_default=""),  # "" = command line
    Column("note", String(300), nullable=False, server_default=""),
    Column("created_at", UtcDateTime(), nullable=False),
    Index("ix_role_changes_city_created_at", "city", "created_at"),
)
