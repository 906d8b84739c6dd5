"""Scheduled publications: "Programmer la publication" stores a row of `editor_schedules`
(avf.editor.workflow); this worker publishes each one when it is due, as the person who
scheduled it — if they still may — and the city's build follows through the queue.

A schedule is claimed by setting its `done_at` before anything else (one pass, one
process, one publication, even with two services on one database). When the publication
cannot be made (the person lost their role, the text was deleted or has errors now), the
reason is kept in `error` and the city's admins are told by email; the text stays as it
was, for them to publish by hand.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urlsplit

from sqlalchemy import Engine, RowMapping, select, update

from avf.editor.checkout import Checkout, CheckoutError, EditConflict, volunteer_author
from avf.editor.paths import CityFile, PathRefused, city_file
from avf.editor.workflow import Invalid, Refused, Workflow, may, status_of
from avf.service.accounts import load_person
from avf.service.editor_mail import mail_context, notify, notify_schedule_failed, title_of
from avf.service.settings import ServiceSettings
from avf.store.schema import editor_schedules
from avf.workers import BackgroundWorker

log = logging.getLogger(__name__)

POLL_SECONDS = 30.0  # a publication goes out at most this late after its minute


class ScheduledPublications(BackgroundWorker):
    """`run_pass()` publishes what is due (the worker's thread, or a test by hand)."""

    name = "avf-editor-schedule"
    poll_seconds = POLL_SECONDS

    def __init__(self, engine: Engine, settings: ServiceSettings,
                 request_build: Callable[..., list[int]], wake_mail: Callable[[], None],
                 city_name: Callable[[str], str]):
        super().__init__()
        self.engine = engine
        self.settings = settings
        self.request_build = request_build
        self.wake_mail = wake_mail
        self.city_name = city_name

    def run_pass(self, now: datetime | None = None) -> list[int]:
        """Publish every due schedule; return their ids."""
        moment = now or datetime.now(UTC)
        with self.engine.connect() as connection:
            due = connection.execute(select(editor_schedules).where(
                editor_schedules.c.done_at.is_(None), editor_schedules.c.publish_at <= moment)
                .order_by(editor_schedules.c.publish_at)).mappings().all()
        return [row["id"] for row in due if self._claim(row, moment) and self._publish(row)]

    def _claim(self, row: RowMapping, moment: datetime) -> bool:
        with self.engine.begin() as connection:
            return connection.execute(update(editor_schedules).where(
                editor_schedules.c.id == row["id"], editor_schedules.c.done_at.is_(None))
                .values(done_at=moment)).rowcount == 1

    def _publish(self, row: RowMapping) -> bool:
        """Publish one claimed schedule; record the error and tell the admins if not."""
        try:
            file = city_file(self.settings.content_dir, row["city"], row["path"])
        except PathRefused as refused:
            log.warning("schedule %s names no file: %s", row["id"], refused)
            self._failed(row, None, str(refused))
            return True
        with self.engine.connect() as connection:
            person = (load_person(connection, row["requested_by"])
                      if row["requested_by"] is not None else None)
        try:
            checkout = Checkout(self.settings.content_dir, self.settings.git_branch)
            status = status_of(checkout.text(file))
            if person is None or not may(person, "publish", file, status):
                raise Refused("la personne qui l'avait programmée n'a plus le droit de "
                              "publier sur ce site")
            host = urlsplit(self.settings.public_url).hostname or "avf.invalid"
            workflow = Workflow(self.settings.content_dir, self.engine, checkout,
                                self.request_build)
            workflow.act(person, volunteer_author(person.id, person.display_name, host),
                         file, "publish")
        except Invalid as invalid:
            self._failed(row, file, "le texte a des erreurs à corriger : " + " ; ".join(
                problem.message for problem in invalid.problems))
            return True
        except (Refused, EditConflict, CheckoutError) as problem:
            self._failed(row, file, str(problem))
            return True
        text = checkout.text(file)
        with self.engine.begin() as connection:
            sent = notify(connection, person, file, "publish", title_of(file, text),
                          self._context(file, text))
        if sent:
            self.wake_mail()
        return True

    def _failed(self, row: RowMapping, file: CityFile | None, reason: str) -> None:
        text = _committed(self.settings, file) if file is not None else None
        with self.engine.begin() as connection:
            connection.execute(update(editor_schedules).where(
                editor_schedules.c.id == row["id"]).values(error=reason[:2000]))
            sent = 0 if file is None else notify_schedule_failed(
                connection, file, title_of(file, text), self._context(file, text, reason))
        if sent:
            self.wake_mail()

    def _context(self, file: CityFile, text: str | None, comment: str = "") -> dict[str, object]:
        return mail_context(self.settings.public_url, self.settings.content_dir,
                            self.settings.pelican_settings, self.city_name(file.city),
                            file, text, comment)


def _committed(settings: ServiceSettings, file: CityFile) -> str | None:
    try:
        return Checkout(settings.content_dir).text(file)
    except CheckoutError:
        return None
