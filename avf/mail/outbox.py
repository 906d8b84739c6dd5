"""Put a mail in the outbox, inside the caller's transaction."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import Connection, insert

from avf.mail.templates import render_mail
from avf.store.schema import outbox


def queue_mail(connection: Connection, *, kind: str, to: str, context: dict[str, object],
               reply_to: str | None = None, now: datetime | None = None,
               headers: dict[str, str] | None = None) -> int:
    """Render the `kind` templates with `context` and store the mail for the worker; return
    its id. Nothing is sent here: the worker does it, retrying until it is delivered.
    `headers`: extra headers (List-Unsubscribe…); line breaks in them are refused."""
    extra = headers or {}
    if any("\r" in f"{name}{value}" or "\n" in f"{name}{value}" for name, value in extra.items()):
        raise ValueError("a mail header may not contain a line break")
    mail = render_mail(kind, context)
    moment = now or datetime.now(UTC)
    result = connection.execute(insert(outbox).values(
        kind=kind, to_address=to, subject=mail.subject, body_text=mail.text,
        body_html=mail.html, reply_to=reply_to, headers=json.dumps(extra),
        created_at=moment, status="pending", attempts=0, next_attempt_at=moment))
    return int(result.inserted_primary_key[0])  # type: ignore[index]
