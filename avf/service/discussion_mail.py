"""Telling the people of a thread that someone answered: each gets their own mail, with the
author's name, the thread's title and a link — never the text itself, nor anyone's address.

Who is told: the people who wrote a visible comment in the thread before (and, for a group
topic, its author), and the post's author (`owner`, found by `post_authors`), but not the
new comment's author; only those who asked for news by email (`profiles.news_by_email`)
and may still read the city's members' area. One mail per person and comment: the post's
author gets `post_comment` (« sur votre article »), even if they also wrote in the thread;
the others `discussion_reply`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection, select

from avf.mail import queue_mail
from avf.service.accounts import load_person
from avf.service.comment_store import thread_authors
from avf.service.member_names import display_name_or_former
from avf.store.schema import profiles


def notify_thread(connection: Connection, *, city: str, city_name: str, target: str,
                  author_id: int | None, title: str, link: str, profile_link: str,
                  also: Iterable[int | None] = (), owner: int | None = None,
                  now: datetime | None = None) -> int:
    """Queue one mail per person to tell (the module's docstring); return how many."""
    wanted = (thread_authors(connection, city, target)
              | {i for i in (*also, owner) if i is not None})
    wanted.discard(author_id)  # type: ignore[arg-type]
    if not wanted:
        return 0
    consenting = {int(row.person_id) for row in connection.execute(
        select(profiles.c.person_id).where(profiles.c.person_id.in_(wanted),
                                           profiles.c.news_by_email.is_(True)))}
    author = display_name_or_former(connection, author_id)
    sent = 0
    for person_id in sorted(consenting):
        person = load_person(connection, person_id)
        if person is None or not person.can("member", city):
            continue
        kind = "post_comment" if person_id == owner else "discussion_reply"
        queue_mail(connection, kind=kind, to=person.email, now=now, context={
            "author_name": author, "title": title, "link": link, "city_name": city_name,
            "profile_link": profile_link})
        sent += 1
    return sent
