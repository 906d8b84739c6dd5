"""Who may do what to a post or page, and what each action does: brouillon → à relire →
publié, and dépublié. The rules live here, once, and are checked on the server for every
action (the editor's pages only hide the buttons a person may not press).

- A **reporter** (rédacteur·rice) of a city writes posts of that city as drafts, and
  submits them for review; a text that is online or taken off line is the admins' (a
  reporter's edit could otherwise publish it).
- A **city admin** (responsable) does all that, plus pages, publish, unpublish, send back
  with a comment, schedule a publication, delete.
- The **webmaster** does everything everywhere, the network's own folder included.

Each action is one commit (`Checkout.save`) authored by the person; the file's `status`
carries the state, so the build and a person reading the repository see it too. The
journal (`editor_events`) records who did what, the reviewer's comment and the build that
puts a publication online.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from sqlalchemy import Connection, Engine, delete, insert, select

from avf.content.loader import NETWORK_SLUG
from avf.editor.checkout import Author, Change, Checkout, Saved
from avf.editor.drafts import Draft, DraftError, read_draft, write_draft
from avf.editor.paths import CityFile
from avf.editor.validation import FieldProblem, check_document
from avf.store.schema import editor_events, editor_schedules

STATES = {"draft": "Brouillon", "review": "À relire", "published": "En ligne",
          "unpublished": "Dépublié"}
# What each action needs: the role, and the status the file gets (None: as written).
ACTIONS: dict[str, tuple[str, str | None]] = {
    "save": ("reporter", None),
    "submit": ("reporter", "review"),
    "publish": ("admin", "published"),
    "unpublish": ("admin", "unpublished"),
    "send_back": ("admin", "draft"),
    "schedule": ("admin", "review"),
    "delete": ("admin", None),
    "restore": ("reporter", None),
}
# Statuses a reporter's work may have; beyond them the file is the admins'.
REPORTER_STATUSES = ("draft", "review")
# When a publication changes what visitors see, the city is rebuilt.
BUILDS_AFTER = {"publish", "unpublish", "delete", "save", "restore"}


class Person(Protocol):
    """Who acts (the service's `people.Person`): an account and its scoped roles."""

    id: int

    @property
    def is_webmaster(self) -> bool: ...

    def can(self, role: str, city: str) -> bool: ...


class Refused(Exception):
    """The person may not do this; the message says why, in French."""


class Invalid(Exception):
    """The text has errors the build would refuse; they are listed per field."""

    def __init__(self, problems: list[FieldProblem]):
        super().__init__("; ".join(problem.message for problem in problems))
        self.problems = problems


@dataclass(frozen=True)
class Outcome:
    """What an action did: its commit (None: nothing changed), the build that puts it
    online (if any), the push's trouble (if any), the warnings left."""

    action: str
    commit: str | None
    build_jobs: list[int]
    push_problem: str = ""
    warnings: tuple[FieldProblem, ...] = ()


def status_of(text: str | None) -> str:
    """A file's workflow state ("draft" for a file that does not exist yet)."""
    if text is None:
        return "draft"
    try:
        status = read_draft(text).status
    except DraftError:
        return "draft"
    return status if status in STATES else "draft"


def may(person: Person, action: str, file: CityFile, current_status: str) -> bool:
    """Whether `person` may do `action` on `file`, whose committed status is
    `current_status` ("draft" for a new file)."""
    if action not in ACTIONS or file.kind not in ("post", "page"):
        return False
    if file.city == NETWORK_SLUG:
        return person.is_webmaster
    role, _ = ACTIONS[action]
    if file.kind == "page":
        role = "admin"  # the city's pages are its admins'
    if role == "reporter" and not person.can("admin", file.city) \
            and current_status not in REPORTER_STATUSES:
        return False
    return person.can(role, file.city)


def allowed_actions(person: Person, file: CityFile, current_status: str) -> list[str]:
    return [action for action in ACTIONS if may(person, action, file, current_status)]


class Workflow:
    """Applies actions: check, commit, journal, build. `request_build(cities, reason,
    requested_by)` queues builds (the service's BuildQueue.request)."""

    def __init__(self, content_dir: Path, engine: Engine, checkout: Checkout,
                 request_build: Callable[..., list[int]]):
        self.content_dir = content_dir
        self.engine = engine
        self.checkout = checkout
        self.request_build = request_build

    def act(self, person: Person, author: Author, file: CityFile, action: str,
            text: str | None = None, base: str | None = None, comment: str = "",
            publish_at: datetime | None = None, restore_from: str | None = None) -> Outcome:
        """Do `action` on `file` as `person`. `text`: the file as the form made it (save,
        submit, publish, send_back, schedule; None keeps the committed text); `base`: the
        version the form was opened on (conflicts: checkout.EditConflict)."""
        committed = self.checkout.text(file)
        current = status_of(committed)
        if not may(person, action, file, current):
            raise Refused(_refusal(action, current))
        if action in ("send_back",) and not comment.strip():
            raise Refused("dites en quelques mots ce qu'il faut revoir : la personne qui a "
                          "écrit le texte le lira")
        if action == "schedule" and (publish_at is None or publish_at <= datetime.now(UTC)):
            raise Refused("choisissez une date et une heure de publication à venir")
        if action == "delete":
            return self._delete(person, author, file, committed, base, current)
        new_text = self._new_text(action, file, text, committed, restore_from)
        new_status = status_of(new_text)
        if not _may_write_status(person, file, new_status):
            raise Refused("seul·e un·e responsable de la ville peut mettre un texte en ligne "
                          "ou le dépublier ; proposez-le à la relecture")
        problems = check_document(self.content_dir, file, new_text)
        errors = [problem for problem in problems if problem.is_error]
        if errors:  # a committed file with an error would stop the city's build
            raise Invalid(errors)
        saved = self.checkout.save([Change(file, new_text, base)], author,
                                   _message(action, file, new_text, restore_from))
        jobs = self._build_if_visible(action, file, current, new_status, author, saved)
        self._journal(person, file, action, saved, jobs, comment)
        if action == "schedule" and publish_at is not None:
            self._schedule(person, file, publish_at)
        elif action in ("publish", "unpublish", "send_back"):
            self._unschedule(file)
        return Outcome(action, saved.commit, jobs, saved.push_problem,
                       tuple(problem for problem in problems if not problem.is_error))

    # --- Steps ----------------------------------------------------------------------

    def _new_text(self, action: str, file: CityFile, text: str | None,
                  committed: str | None, restore_from: str | None) -> str:
        if action == "restore":
            if not restore_from:
                raise Refused("choisissez la version à restaurer")
            old = self.checkout.text(file, restore_from)
            if old is None:
                raise Refused("cette version du texte est introuvable")
            # The words come back; the state stays (restoring never publishes by itself).
            return _with_status(old, status_of(committed) if committed else "draft")
        source = text if text is not None else committed
        if source is None:
            raise Refused("ce texte n'existe pas")
        status = ACTIONS[action][1]
        return _with_status(source, status) if status else source

    def _delete(self, person: Person, author: Author, file: CityFile, committed: str | None,
                base: str | None, current: str) -> Outcome:
        if committed is None:
            raise Refused("ce texte n'existe pas")
        problems = [problem for problem in check_document(self.content_dir, file, None)
                    if problem.is_error]
        if problems:  # another text links to this one: it would break
            raise Invalid(problems)
        saved = self.checkout.save([Change(file, None, base)], author,
                                   _message("delete", file, committed, None))
        jobs = self._build_if_visible("delete", file, current, "draft", author, saved)
        self._journal(person, file, "delete", saved, jobs, "")
        self._unschedule(file)
        return Outcome("delete", saved.commit, jobs, saved.push_problem)

    def _build_if_visible(self, action: str, file: CityFile, before: str, after: str,
                          author: Author, saved: Saved) -> list[int]:
        if saved.commit is None or action not in BUILDS_AFTER:
            return []
        if "published" not in (before, after):
            return []  # drafts and reviews change nothing visitors see
        city = "*" if file.city == NETWORK_SLUG else file.city
        return self.request_build([city], f"éditeur : {_ACTION_WORDS[action]} {file.rel}",
                                  requested_by=author.email)

    def _journal(self, person: Person, file: CityFile, action: str, saved: Saved,
                 jobs: list[int], comment: str) -> None:
        if saved.commit is None and action in ("save", "restore"):
            return
        with self.engine.begin() as connection:
            connection.execute(insert(editor_events).values(
                city=file.city, path=file.rel, action=action, person_id=person.id,
                comment=comment.strip()[:4000], commit=saved.commit,
                build_job=jobs[0] if jobs else None, created_at=datetime.now(UTC)))

    def _schedule(self, person: Person, file: CityFile, publish_at: datetime) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(editor_schedules).where(
                editor_schedules.c.city == file.city, editor_schedules.c.path == file.rel))
            connection.execute(insert(editor_schedules).values(
                city=file.city, path=file.rel, publish_at=publish_at.astimezone(UTC),
                requested_by=person.id, created_at=datetime.now(UTC)))

    def _unschedule(self, file: CityFile) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(editor_schedules).where(
                editor_schedules.c.city == file.city, editor_schedules.c.path == file.rel,
                editor_schedules.c.done_at.is_(None)))


def scheduled_for(connection: Connection, city: str, path: str) -> datetime | None:
    """When a text is due to be published by the service, if it is."""
    return connection.execute(select(editor_schedules.c.publish_at).where(
        editor_schedules.c.city == city, editor_schedules.c.path == path,
        editor_schedules.c.done_at.is_(None))).scalar_one_or_none()


def _may_write_status(person: Person, file: CityFile, status: str) -> bool:
    if status in REPORTER_STATUSES:
        return True
    return person.is_webmaster if file.city == NETWORK_SLUG else person.can("admin", file.city)


def _with_status(text: str, status: str) -> str:
    draft = read_draft(text)
    fields = dict(draft.fields)
    if status == "published":
        fields.pop("status", None)  # published is the format's default: the file stays short
    else:
        fields["status"] = status
    return write_draft(Draft(fields, draft.body))


_ACTION_WORDS = {"save": "modification de", "submit": "proposition de",
                 "publish": "publication de", "unpublish": "dépublication de",
                 "send_back": "renvoi en brouillon de", "schedule": "programmation de",
                 "delete": "suppression de", "restore": "restauration de"}
_MESSAGES = {"save": "Enregistré", "submit": "Proposé à la relecture", "publish": "Publié",
             "unpublish": "Dépublié", "send_back": "Renvoyé en brouillon",
             "schedule": "Publication programmée", "delete": "Supprimé",
             "restore": "Version restaurée"}


def _message(action: str, file: CityFile, text: str, restore_from: str | None) -> str:
    try:
        title = read_draft(text).title or file.rel
    except DraftError:
        title = file.rel
    where = "réseau" if file.city == NETWORK_SLUG else file.city
    line = f"{_MESSAGES[action]} : « {title[:80]} » ({where})"
    details = f"\n\nFichier : {file.city}/{file.rel}"
    if restore_from:
        details += f"\nVersion restaurée : {restore_from[:12]}"
    return line + details


def _refusal(action: str, status: str) -> str:
    if action in ("save", "submit", "restore") and status not in REPORTER_STATUSES:
        return (f"ce texte est {STATES.get(status, status).lower()} : seul·e un·e "
                "responsable de la ville peut le modifier")
    return "vous n'avez pas le droit de faire cela pour ce texte"
