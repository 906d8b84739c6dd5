"""Who hears of a text's progress, by email (through the outbox, in one transaction):

- **proposed for review** → the city's admins (not the person who proposed it);
- **sent back** → its writer, with the reviewer's comment;
- **published** (by hand or at its scheduled time) → its writer, with the link;
- **a scheduled publication that could not be made** → the city's admins.

The writer is the person of the text's last "submit" or "save" in the journal
(`editor_events`); nobody is told of what they did themselves. Addresses stay in the mails:
no page shows them.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, select

from avf.content.loader import NETWORK_SLUG
from avf.editor.addresses import address_of
from avf.editor.drafts import DraftError, read_draft
from avf.editor.paths import CityFile
from avf.editor.workflow import status_of
from avf.mail import queue_mail
from avf.service.join_requests import city_admins
from avf.service.people import Person
from avf.store.schema import editor_events, people, roles

WRITER_ACTIONS = ("submit", "save")


def writer_of(connection: Connection, file: CityFile) -> int | None:
    """The person who last wrote the text (submitted or saved it), or None."""
    return connection.execute(
        select(editor_events.c.person_id).where(
            editor_events.c.city == file.city, editor_events.c.path == file.rel,
            editor_events.c.action.in_(WRITER_ACTIONS))
        .order_by(editor_events.c.id.desc()).limit(1)).scalar_one_or_none()


def admins_of(connection: Connection, city: str) -> list[str]:
    """The addresses of those who review the city's texts."""
    if city == NETWORK_SLUG:
        return list(connection.execute(
            select(people.c.email).join(roles, roles.c.person_id == people.c.id)
            .where(roles.c.role == "webmaster", roles.c.suspended_at.is_(None))).scalars())
    return city_admins(connection, city)


def notify(connection: Connection, actor: Person | None, file: CityFile, action: str,
           title: str, context: dict[str, object]) -> int:
    """Queue the mails `action` calls for; return how many. `context`: city_name,
    edit_url, public_url, comment (what the templates show)."""
    values = {"title": title, "by": actor.display_name if actor else "", **context}
    if action == "submit":
        addresses = [email for email in admins_of(connection, file.city)
                     if actor is None or email != actor.email]
        return _send(connection, "editor_review", addresses, values)
    if action in ("send_back", "publish"):
        writer = writer_of(connection, file)
        if writer is None or (actor is not None and writer == actor.id):
            return 0
        email = connection.execute(select(people.c.email).where(people.c.id == writer)
                                   ).scalar_one_or_none()
        kind = "editor_sent_back" if action == "send_back" else "editor_published"
        return _send(connection, kind, [email] if email else [], values)
    return 0


def notify_schedule_failed(connection: Connection, file: CityFile, title: str,
                           context: dict[str, object]) -> int:
    return _send(connection, "editor_schedule_failed", admins_of(connection, file.city),
                 {"title": title, **context})


def _send(connection: Connection, kind: str, addresses: list[str],
          context: dict[str, object]) -> int:
    for address in addresses:
        queue_mail(connection, kind=kind, to=address, context=context)
    return len(addresses)


def mail_context(public_url: str, content_dir: Path, settings_file: Path, city_name: str,
                 file: CityFile, text: str | None, comment: str = "") -> dict[str, object]:
    """What the editor's mails show: the city, links to the text in the editor and online
    (when it is published), the reviewer's comment."""
    online = ""
    if text is not None and status_of(text) == "published":
        address = address_of(content_dir, file, text, settings_file)
        online = f"{public_url}{address}" if address else ""
    return {"city_name": city_name, "comment": comment.strip(), "public_url": online,
            "edit_url": f"{public_url}/editeur/{file.city}/texte/{file.rel}"}


def title_of(file: CityFile, text: str | None) -> str:
    if text is None:
        return file.rel
    try:
        return read_draft(text).title or file.rel
    except DraftError:
        return file.rel
