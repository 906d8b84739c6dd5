"""Keep a newcomer's message and queue its two mails, in one transaction: either all three
are written or none is, and the mail worker delivers them whenever the SMTP server answers
(avf.mail), so a message is never lost between the form and the welcome team."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy import Engine, insert

from avf.content.model import City
from avf.mail import queue_mail
from avf.service.contact_form import ContactMessage
from avf.store.schema import contact_messages

log = logging.getLogger(__name__)


def relay_message(engine: Engine, city: City, message: ContactMessage, site_url: str,
                  now: datetime | None = None) -> int:
    """Store `message`, queue it for the city's welcome team (Reply-To: the newcomer) and
    queue the newcomer's acknowledgement; return the stored message's id.

    `relayed` says whether a mail to the welcome team was queued: a city whose card names
    no address still gets the message stored, for its dashboard, and the newcomer still
    gets the acknowledgement.
    """
    moment = now or datetime.now(UTC)
    with engine.begin() as connection:
        message_id = int(connection.execute(insert(contact_messages).values(
            city=city.slug, name=message.name, email=message.email, phone=message.phone,
            arrival=message.arrival, message=message.message, created_at=moment,
            relayed=bool(city.email))).inserted_primary_key[0])  # type: ignore[index]
        if city.email:
            queue_mail(connection, kind="contact_relay", to=city.email,
                       reply_to=message.email, now=moment, context={
                           "city": city.city, "city_name": city.name, "name": message.name,
                           "email": message.email, "phone": message.phone,
                           "arrival": message.arrival, "message": message.message})
        else:
            log.warning("contact message %d for %s kept but not relayed: its city.yaml names "
                        "no welcome team address", message_id, city.slug)
        # The acknowledgement never quotes the message: the service must not send text
        # chosen by a stranger to an address chosen by that stranger (a spam relay).
        queue_mail(connection, kind="contact_ack", to=message.email, now=moment, context={
            "name": message.name, "city_name": city.name, "phone": city.phone or "",
            "hours": " ; ".join(city.opening_hours), "site_url": site_url})
    return message_id
