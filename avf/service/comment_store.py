"""Comments in the store: on a city's posts (target "post:<slug>") and as the replies of
a group's topics (target "topic:<id>"). One level of replies: a reply to a reply is
attached to the comment at the top of its thread.

A comment is `pending` (held for moderation), `visible`, `hidden` (by a moderator) or
`deleted` (by its author or a moderator; its row stays, for the record of reports).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Connection, insert, select, update

from avf.service.member_names import display_names
from avf.store.schema import comment_reports, comments

SHOWN_TO_AUTHOR = ("visible", "pending")  # what an author still sees of their own


@dataclass
class Comment:
    id: int
    city: str
    target: str
    parent_id: int | None
    author_id: int | None
    author_name: str
    body: str
    html: str
    status: str
    held_reason: str | None
    created_at: datetime
    edited_at: datetime | None
    replies: list[Comment] = field(default_factory=list)


def post_target(slug: str) -> str:
    return f"post:{slug}"


def topic_target(topic_id: int) -> str:
    return f"topic:{topic_id}"


def add_comment(connection: Connection, city: str, target: str, author_id: int, body: str,
                html: str, status: str, held_reason: str | None,
                parent_id: int | None = None, now: datetime | None = None) -> int:
    """Keep a comment; return its id. `parent_id` must be a comment of the same thread
    (the caller checks it with `load_comment`)."""
    result = connection.execute(insert(comments).values(
        city=city, target=target, parent_id=parent_id, author_id=author_id, body=body,
        html=html, status=status, held_reason=held_reason,
        created_at=now or datetime.now(UTC)))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def load_comment(connection: Connection, comment_id: int) -> Comment | None:
    row = connection.execute(select(comments).where(comments.c.id == comment_id)).first()
    if row is None:
        return None
    return _comment(row, display_names(connection, [row.author_id]))


def top_of_thread(comment: Comment) -> int:
    """The id a reply to `comment` is attached to (one level of replies)."""
    return comment.parent_id if comment.parent_id is not None else comment.id


def thread(connection: Connection, city: str, target: str, viewer_id: int | None,
           ) -> list[Comment]:
    """The comments of a post or topic, oldest first, each with its replies: the visible
    ones, and the viewer's own that wait for moderation."""
    rows = connection.execute(select(comments).where(
        comments.c.city == city, comments.c.target == target,
        comments.c.status.in_(SHOWN_TO_AUTHOR)).order_by(comments.c.id)).all()
    rows = [row for row in rows
            if row.status == "visible" or (viewer_id is not None and row.author_id == viewer_id)]
    names = display_names(connection, [row.author_id for row in rows])
    tops: dict[int, Comment] = {}
    replies: list[Comment] = []
    for row in rows:
        comment = _comment(row, names)
        if comment.parent_id is None:
            tops[comment.id] = comment
        else:
            replies.append(comment)
    for reply in replies:
        parent = tops.get(reply.parent_id or 0)
        if parent is not None:  # a reply to a hidden comment is hidden with it
            parent.replies.append(reply)
    return list(tops.values())


def count_visible(connection: Connection, city: str, target: str) -> int:
    return len(connection.execute(select(comments.c.id).where(
        comments.c.city == city, comments.c.target == target,
        comments.c.status == "visible")).all())


def set_status(connection: Connection, comment_id: int, status: str,
               moderator_id: int | None, now: datetime | None = None) -> None:
    """A moderator's decision (visible, hidden, deleted); their reports are handled."""
    moment = now or datetime.now(UTC)
    connection.execute(update(comments).where(comments.c.id == comment_id).values(
        status=status, held_reason=None, moderated_by=moderator_id, moderated_at=moment))
    connection.execute(update(comment_reports).where(
        comment_reports.c.comment_id == comment_id, comment_reports.c.handled_at.is_(None),
    ).values(handled_at=moment))


def edit_comment(connection: Connection, comment_id: int, body: str, html: str,
                 now: datetime | None = None) -> None:
    connection.execute(update(comments).where(comments.c.id == comment_id).values(
        body=body, html=html, edited_at=now or datetime.now(UTC)))


def hold_again(connection: Connection, comment_id: int, reason: str | None) -> None:
    """An edited comment goes back to the moderation queue."""
    connection.execute(update(comments).where(comments.c.id == comment_id).values(
        status="pending", held_reason=reason))


def delete_comment(connection: Connection, comment_id: int) -> None:
    """The author's own deletion: the text leaves every page."""
    connection.execute(update(comments).where(comments.c.id == comment_id).values(
        status="deleted"))


def report_comment(connection: Connection, comment_id: int, reporter_id: int, reason: str,
                   now: datetime | None = None) -> bool:
    """A member flags a comment for the moderators; False when they had already."""
    already = connection.execute(select(comment_reports.c.id).where(
        comment_reports.c.comment_id == comment_id,
        comment_reports.c.reporter_id == reporter_id,
        comment_reports.c.handled_at.is_(None))).first()
    if already is not None:
        return False
    connection.execute(insert(comment_reports).values(
        comment_id=comment_id, reporter_id=reporter_id, reason=reason,
        created_at=now or datetime.now(UTC)))
    return True


def thread_authors(connection: Connection, city: str, target: str) -> set[int]:
    """Who wrote a visible comment in the thread (those to tell about a new one)."""
    return {int(row.author_id) for row in connection.execute(
        select(comments.c.author_id).where(
            comments.c.city == city, comments.c.target == target,
            comments.c.status == "visible", comments.c.author_id.is_not(None)))}


def _comment(row: object, names: dict[int | None, str]) -> Comment:
    values = row._mapping  # type: ignore[attr-defined]
    return Comment(id=values["id"], city=values["city"], target=values["target"],
                   parent_id=values["parent_id"], author_id=values["author_id"],
                   author_name=names[values["author_id"]], body=values["body"],
                   html=values["html"], status=values["status"],
                   held_reason=values["held_reason"], created_at=values["created_at"],
                   edited_at=values["edited_at"])


@dataclass(frozen=True)
class Queued:
    """A comment in the moderation queue, with why it is there."""

    comment: Comment
    reports: tuple[str, ...]  # the reasons of the unhandled reports ("" when none given)


def moderation_queue(connection: Connection, city: str, targets: list[str] | None,
                     ) -> tuple[list[Queued], list[Queued]]:
    """(held comments, reported visible comments) of the city, oldest first; `targets`
    limits them to some threads (a group moderator's), None means all."""
    held_query = select(comments).where(comments.c.city == city, comments.c.status == "pending")
    reported_query = (select(comments).where(
        comments.c.city == city, comments.c.status == "visible",
        comments.c.id.in_(select(comment_reports.c.comment_id)
                          .where(comment_reports.c.handled_at.is_(None)))))
    if targets is not None:
        held_query = held_query.where(comments.c.target.in_(targets))
        reported_query = reported_query.where(comments.c.target.in_(targets))
    held = connection.execute(held_query.order_by(comments.c.id)).all()
    reported = connection.execute(reported_query.order_by(comments.c.id)).all()
    names = display_names(connection, [row.author_id for row in [*held, *reported]])
    reasons: dict[int, list[str]] = {}
    for row in connection.execute(select(comment_reports.c.comment_id, comment_reports.c.reason)
                                  .where(comment_reports.c.handled_at.is_(None))):
        reasons.setdefault(row.comment_id, []).append(row.reason)
    return ([Queued(_comment(row, names), tuple(reasons.get(row.id, ()))) for row in held],
            [Queued(_comment(row, names), tuple(reasons.get(row.id, ()))) for row in reported])
