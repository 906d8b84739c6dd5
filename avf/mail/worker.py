"""Send what the outbox holds: claim a due mail, send it over SMTP, record the outcome.

A temporary failure (server down, timeout, 4xx answer) is retried later with growing
delays; a permanent one (5xx: address refused) or a mail still undelivered after
MAX_ATTEMPTS is marked failed and kept, with its last error, for the dashboard. A claimed
mail is leased for LEASE: if the process dies while sending, another worker (or the next
start) takes it again after that.
"""

from __future__ import annotations

import json
import logging
import re
import smtplib
import socket
import ssl
import sys
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from sqlalchemy import Engine, select, update

from avf.mail.settings import SmtpSettings
from avf.store.schema import outbox
from avf.workers import BackgroundWorker

log = logging.getLogger(__name__)

RETRY_DELAYS = (  # after the 1st, 2nd… failed attempt; the last one repeats
    timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1),
    timedelta(hours=3), timedelta(hours=6))
MAX_ATTEMPTS = 12  # about two days of retries before a mail is given up
LEASE = timedelta(minutes=10)  # a claimed mail is someone's for this long
BATCH = 50  # mails sent over one SMTP connection


class MailWorker(BackgroundWorker):
    """The background sender. `start()` runs it in a thread that sends what is due, then
    sleeps until `wake()` or `poll_seconds`; `send_due()` does one pass (tests use it)."""

    name = "avf-mail"

    def __init__(self, engine: Engine, smtp: SmtpSettings, poll_seconds: float = 10.0):
        super().__init__()
        self.engine = engine
        self.smtp = smtp
        self.poll_seconds = poll_seconds

    def run_pass(self) -> int:
        return self.send_due()

    def send_due(self, now: datetime | None = None) -> int:
        """Send every mail due at `now`; return how many were delivered."""
        delivered = 0
        while True:
            moment = now or datetime.now(UTC)
            claimed = self._claim(moment)
            if not claimed:
                return delivered
            delivered += self._send_batch(claimed, moment)
            if len(claimed) < BATCH:
                return delivered

    def _claim(self, now: datetime) -> list[dict[str, object]]:
        claimed = []
        with self.engine.begin() as connection:
            due = connection.execute(
                select(outbox).where(outbox.c.status == "pending",
                                     outbox.c.next_attempt_at <= now)
                .order_by(outbox.c.next_attempt_at, outbox.c.id).limit(BATCH)).mappings().all()
            for row in due:
                taken = connection.execute(
                    update(outbox).where(outbox.c.id == row["id"],
                                         outbox.c.status == "pending",
                                         outbox.c.next_attempt_at == row["next_attempt_at"])
                    .values(attempts=outbox.c.attempts + 1, next_attempt_at=now + LEASE))
                if taken.rowcount == 1:
                    claimed.append({**row, "attempts": row["attempts"] + 1})
        return claimed

    def _send_batch(self, mails: list[dict[str, object]], now: datetime) -> int:
        if self.smtp.delivers_to_folder:
            return self._write_batch(mails, now)
        try:
            client = self._connect()
        except (OSError, smtplib.SMTPException) as error:
            for mail in mails:
                self._failed(mail, error, now, permanent=False)
            return 0
        delivered = 0
        try:
            for mail in mails:
                try:
                    client.send_message(self._message(mail))
                except smtplib.SMTPRecipientsRefused as error:
                    codes = [code for code, _ in error.recipients.values()]
                    self._failed(mail, error, now, permanent=all(c >= 500 for c in codes))
                except smtplib.SMTPResponseException as error:
                    self._failed(mail, error, now, permanent=error.smtp_code >= 500)
                except (OSError, smtplib.SMTPException) as error:
                    self._failed(mail, error, now, permanent=False)
                except Exception as error:  # a mail that cannot be written (bad header):
                    self._failed(mail, error, now, permanent=True)  # never retried
                else:
                    self._sent(mail, now)
                    delivered += 1
        finally:
            try:
                client.quit()
            except (OSError, smtplib.SMTPException):
                client.close()
        return delivered

    def _write_batch(self, mails: list[dict[str, object]], now: datetime) -> int:
        """No SMTP server configured: each mail becomes an .eml file, announced on stderr
        (so that on a developer's machine the sign-in link is one click away)."""
        folder = self.smtp.pickup_dir
        if folder is None:
            for mail in mails:
                self._failed(mail, RuntimeError("no SMTP host and no pickup folder"), now,
                             permanent=False)
            return 0
        folder.mkdir(parents=True, exist_ok=True)
        delivered = 0
        for mail in mails:
            try:
                data = bytes(self._message(mail))
            except Exception as error:  # a mail that cannot be written (bad header)
                self._failed(mail, error, now, permanent=True)
                continue
            path = folder / f"{_aware(mail['created_at']):%Y%m%d-%H%M%S}-{mail['id']}.eml"
            path.write_bytes(data)
            print(f"[avf] email à {mail['to_address']} : « {mail['subject']} » — "
                  f"aucun serveur SMTP (AVF_SMTP_HOST) : enregistré dans {path}\n"
                  + _links_of(str(mail["body_text"])), file=sys.stderr, flush=True)
            self._sent(mail, now)
            delivered += 1
        return delivered

    def _connect(self) -> smtplib.SMTP:
        smtp = self.smtp
        if smtp.tls == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                smtp.host, smtp.port, timeout=smtp.timeout,
                context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout,
                                  local_hostname=socket.getfqdn())
            if smtp.tls == "starttls":
                client.starttls(context=ssl.create_default_context())
        if smtp.username:
            client.login(smtp.username, smtp.password or "")
        return client

    def _message(self, mail: dict[str, object]) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.smtp.sender
        message["To"] = str(mail["to_address"])
        message["Subject"] = str(mail["subject"])
        message["Date"] = format_datetime(_aware(mail["created_at"]))
        domain = parseaddr(self.smtp.sender)[1].rpartition("@")[2] or "avf.localhost"
        message["Message-ID"] = make_msgid(f"avf.{mail['id']}", domain=domain)
        message["Auto-Submitted"] = "auto-generated"
        if mail.get("reply_to"):
            message["Reply-To"] = str(mail["reply_to"])
        for name, value in json.loads(str(mail.get("headers") or "{}")).items():
            message[name] = value
        message.set_content(str(mail["body_text"]))
        if mail.get("body_html"):
            message.add_alternative(str(mail["body_html"]), subtype="html")
        return message

    def _sent(self, mail: dict[str, object], now: datetime) -> None:
        with self.engine.begin() as connection:
            connection.execute(update(outbox).where(outbox.c.id == mail["id"])
                               .values(status="sent", sent_at=now, last_error=None))

    def _failed(self, mail: dict[str, object], error: Exception, now: datetime,
                permanent: bool) -> None:
        attempts = int(mail["attempts"])  # type: ignore[call-overload]
        give_up = permanent or attempts >= MAX_ATTEMPTS
        delay = RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1]
        log.warning("mail %s to outbox id %s failed (attempt %d): %s",
                    mail["kind"], mail["id"], attempts, error)
        with self.engine.begin() as connection:
            connection.execute(update(outbox).where(outbox.c.id == mail["id"]).values(
                status="failed" if give_up else "pending",
                next_attempt_at=now if give_up else now + delay,
                last_error=f"{type(error).__name__}: {error}"[:2000]))


def _links_of(text: str) -> str:
    links = re.findall(r"https?://\S+", text)
    return "".join(f"       lien : {link}\n" for link in links)


def _aware(value: object) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.now(UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
