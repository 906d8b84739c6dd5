"""Email: French templates rendered into an outbox table, sent by a worker.

A request never talks to the SMTP server: it writes the message into `outbox` in the same
transaction as what caused it (a contact message, a sign-in link), and `MailWorker` sends it
in the background, retrying with growing delays, so a slow or failing server never blocks a
page and never loses a message.
"""

from avf.mail.outbox import queue_mail
from avf.mail.templates import RenderedMail, render_mail
from avf.mail.worker import MailWorker

__all__ = ["MailWorker", "RenderedMail", "queue_mail", "render_mail"]
