"""The sign-in flow apart from HTTP: send a link to a known address, trade a link for a
session, end a session. Routes are in auth.py; each step here is one transaction."""

from __future__ import annotations

import logging
import queue
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from avf.mail import queue_mail
from avf.service.accounts import load_person, person_id_for
from avf.service.magiclinks import LIFETIME, issue_link_token, redeem_link_token
from avf.service.ratelimit import Limit
from avf.service.sessions import open_session, revoke_session

# Asking for links: an address is counted whether or not it is known, so a refusal tells
# nothing about who has an account.
PER_ADDRESS = Limit("login-address", 5, timedelta(hours=1))
PER_IP = Limit("login-ip", 20, timedelta(minutes=15))
LINK_PATH = "/compte/lien/"
JITTER_SECONDS = (0.2, 2.0)  # a link request waits this long (at random) before its work

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SignedIn:
    session_id: str
    next_path: str


def send_sign_in_link(engine: Engine, email: str, next_path: str, public_url: str,
                      now: datetime | None = None) -> bool:
    """Queue a sign-in link for `email` if a person has that (normalized) address; True
    when a mail was queued. Unknown addresses get nothing, and nobody is told."""
    moment = now or datetime.now(UTC)
    minutes = int(LIFETIME.total_seconds() // 60)
    with engine.connect() as connection, connection.begin() as transaction:
        person_id = person_id_for(connection, email)
        person = None if person_id is None else load_person(connection, person_id)
        if person is None:
            # The same work as for a known address (a mail rendered and written), undone:
            # how busy the service is afterwards tells nothing about who has an account.
            queue_mail(connection, kind="login_link", to=email, now=moment, context={
                "name": "", "link": f"{public_url}{LINK_PATH}{'x' * 43}", "minutes": minutes})
            transaction.rollback()
            return False
        token = issue_link_token(connection, person.id, next_path, moment)
        queue_mail(connection, kind="login_link", to=person.email, now=moment, context={
            "name": person.display_name, "link": f"{public_url}{LINK_PATH}{token}",
            "minutes": minutes})
    return True


class LinkSender:
    """Sends sign-in links on a thread of its own, so the work done only for known
    addresses delays no response — not even the next one on the same keep-alive
    connection, as a background task of the response would. `start()` runs the thread;
    `send_pending()` does the queued work at once (tests)."""

    def __init__(self, engine: Engine, public_url: str, wake_mail: Callable[[], None]):
        self.engine = engine
        self.public_url = public_url
        self.wake_mail = wake_mail
        self._pending: queue.SimpleQueue[tuple[str, str] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def submit(self, email: str, next_path: str) -> None:
        self._pending.put((email, next_path))

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="avf-sign-in", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish what is queued, then stop."""
        self._stopping.set()
        self._pending.put(None)
        if self._thread is not None:
            self._thread.join(timeout)

    def send_pending(self) -> int:
        """Do every queued request now; return how many links were queued as mail."""
        sent = 0
        while True:
            try:
                request = self._pending.get_nowait()
            except queue.Empty:
                return sent
            if request is not None:
                sent += self._send(*request)

    def _run(self) -> None:
        while (request := self._pending.get()) is not None:
            # Each request waits a random moment first, so the work it causes never lines
            # up with the response or the next request (a timing signal of who is known).
            if self._stopping.wait(random.uniform(*JITTER_SECONDS)):
                self._pending.put(None)  # stopping: finish the queue without waiting
            try:
                self._send(*request)
            except Exception:  # the database failed: the person will ask again
                log.exception("sign-in link not sent")

    def _send(self, email: str, next_path: str) -> bool:
        if send_sign_in_link(self.engine, email, next_path, self.public_url):
            self.wake_mail()
            return True
        return False


def sign_in_with_link(engine: Engine, token: str, replaces: str | None = None,
                      now: datetime | None = None) -> SignedIn | None:
    """Spend the token and open a session for its person (ending the session it
    `replaces`, if any); None when the token is unknown, used or expired."""
    moment = now or datetime.now(UTC)
    with engine.begin() as connection:
        redeemed = redeem_link_token(connection, token, moment)
        if redeemed is None:
            return None
        if replaces is not None:
            revoke_session(connection, replaces, moment)
        session_id = open_session(connection, redeemed.person_id, moment)
    return SignedIn(session_id=session_id, next_path=redeemed.next_path)


def sign_out(engine: Engine, session_id: str, now: datetime | None = None) -> bool:
    with engine.begin() as connection:
        return revoke_session(connection, session_id, now)
