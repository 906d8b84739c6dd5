"""History pages of the web editor: every version of a post, page or city card (who, when,
what), one version's text with what changed before and since, and "Restaurer cette
version" — a new commit, never a rewrite of history.

The `version` a URL names is hostile until checked: it must be the full id of a commit
that changed that very file (one of `Checkout.history`), so no other path, ref or git
option can be reached through it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

from sqlalchemy import insert
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from avf.content.loader import NETWORK_SLUG
from avf.editor.card_form import check_card
from avf.editor.checkout import Change, Checkout, EditConflict, Version
from avf.editor.differences import Difference, compare_cards, compare_documents
from avf.editor.drafts import DraftError, read_draft
from avf.editor.paths import CityFile
from avf.editor.workflow import Invalid, Refused, may, status_of
from avf.service.cities import CardUnreadable, render_city_page
from avf.service.csrf import protected_form
from avf.service.editor_access import author_of, checkout, editor_of, named_file, workflow
from avf.service.people import Person
from avf.service.runtime import runtime
from avf.store.schema import editor_events

_COMMIT = re.compile(r"^[0-9a-f]{40}$")
TRACKING_PATH = "/editeur/{city}/suivi/{job}"  # the editor's page that follows a build


@dataclass(frozen=True)
class Shown:
    """One version as the page shows it: its text (None: the file was deleted there) and
    the differences with the version before it and with the current text."""

    version: Version
    text: str | None
    previous: Version | None
    since_previous: Difference
    until_now: Difference
    is_current: bool


def render_editor_page(request: Request, city: str, template: str,
                       context: dict[str, object], status_code: int = 200) -> Response:
    """An editor page drawn in the city's colours (the network's plain page for
    `_network`, or when the card cannot be read)."""
    context = {"editor_city": city, **context}
    if city != NETWORK_SLUG:
        try:
            card = runtime(request).cities.get(city)
        except CardUnreadable:
            card = None
        if card is not None:
            return render_city_page(request, card, template, context, status_code)
    return runtime(request).templates.render(request, template, context, status_code)


def history_url(file: CityFile, version: str | None = None) -> str:
    url = f"/editeur/{file.city}/historique/{quote(file.rel)}"
    return f"{url}?version={version}" if version else url


def may_restore(person: Person, file: CityFile, current: str | None) -> bool:
    """Restoring a version needs the file to exist (a deleted text comes back from the
    corbeille, admins only) and the workflow's (or, for the card, an admin's) right."""
    if current is None:
        return False
    if file.kind == "card":
        return may_edit_card(person, file.city)
    return may(person, "restore", file, status_of(current))


def may_edit_card(person: Person, city: str) -> bool:
    return city != NETWORK_SLUG and person.can("admin", city)


# --- Pages ------------------------------------------------------------------------------

def history_page(request: Request) -> Response:
    person, file, repository = _opened(request)
    versions = repository.history(file)
    if not versions:
        raise HTTPException(404, "Ce texte n'a encore aucune version enregistrée.")
    current = repository.text(file)
    requested = request.query_params.get("version")
    if requested is None:
        return render_editor_page(request, file.city, "service/editor/history.html", {
            "file": file, "title": _title(current, file, versions, repository),
            "versions": versions, "exists": current is not None,
            "notice": "Version restaurée." if request.query_params.get("restauree") else "",
            "history_url": history_url(file)})
    shown = _shown(repository, file, versions, _version_of(versions, requested), current)
    return _version_page(request, person, file, repository, shown, current)


async def restore(request: Request) -> Response:
    form = await protected_form(request)
    return await run_in_threadpool(_restore, request, form)


def _restore(request: Request, form: FormData) -> Response:
    person, file, repository = _opened(request)
    versions = repository.history(file)
    chosen = _version_of(versions, str(form.get("version", "")))
    current = repository.text(file)
    if not may_restore(person, file, current):
        raise HTTPException(403, "Vous ne pouvez pas restaurer ce texte : seul·e un·e "
                                 "responsable de la ville le peut dans son état actuel.")
    base = str(form.get("base", "")) or None
    try:
        if file.kind == "card":
            jobs = _restore_card(request, person, file, repository, chosen, base)
        else:
            jobs = workflow(request).act(person, author_of(request, person), file, "restore",
                                         base=base, restore_from=chosen.commit).build_jobs
    except (Refused, Invalid, EditConflict) as problem:
        shown = _shown(repository, file, versions, chosen, current)
        return _version_page(request, person, file, repository, shown, current,
                             error=_why(problem), status_code=409)
    if jobs:
        # A text is named (`?texte=`): the tracking page then says « En ligne » with its
        # link, as after « Publier ». The card is no page of its own.
        named = f"?texte={quote(file.rel)}" if file.kind != "card" else ""
        return RedirectResponse(TRACKING_PATH.format(city=file.city, job=jobs[0]) + named,
                                303)
    return RedirectResponse(history_url(file) + "?restauree=1", 303)


def _restore_card(request: Request, person: Person, file: CityFile, repository: Checkout,
                  chosen: Version, base: str | None) -> list[int]:
    """The card's old text back, checked by the build's reader first, then rebuilt."""
    old = repository.text(file, chosen.commit)
    if old is None:
        raise Refused("cette version de la fiche est introuvable")
    problems = check_card(runtime(request).settings.content_dir, file.city, old)
    if problems:
        raise Refused("cette ancienne version de la fiche n'est plus valable : "
                      + "; ".join(problems.values()))
    author = author_of(request, person)
    saved = repository.save([Change(file, old, base)], author,
                            f"Fiche de la ville : version restaurée ({file.city})\n\n"
                            f"Fichier : {file.city}/{file.rel}\n"
                            f"Version restaurée : {chosen.commit[:12]}")
    if saved.commit is None:
        return []
    jobs = runtime(request).builds.request([file.city], "éditeur : fiche de la ville "
                                           "restaurée", requested_by=author.email)
    journal(request, person, file, "restore", saved.commit, jobs)
    return jobs


def journal(request: Request, person: Person, file: CityFile, action: str, commit: str,
            jobs: list[int], comment: str = "") -> None:
    """One line of the editor's journal (editor_events), as the workflow writes them."""
    with runtime(request).engine.begin() as connection:
        connection.execute(insert(editor_events).values(
            city=file.city, path=file.rel, action=action, person_id=person.id,
            comment=comment, commit=commit, build_job=jobs[0] if jobs else None,
            created_at=datetime.now(UTC)))


# --- Steps ------------------------------------------------------------------------------

def _opened(request: Request) -> tuple[Person, CityFile, Checkout]:
    """Who asks, the file the URL names (a post, page or card they may see) and the
    checkout."""
    city = request.path_params["city"]
    person = editor_of(request, city)
    file = named_file(request, city, request.path_params["path"])
    if file.kind == "media":
        raise HTTPException(404, "L'historique concerne les textes et la fiche de la ville.")
    if file.kind == "card" and not may_edit_card(person, city):
        raise HTTPException(403, "L'historique de la fiche de la ville est réservé à ses "
                                 "responsables.")
    return person, file, checkout(request)


def _version_of(versions: list[Version], requested: str) -> Version:
    """The version named by the URL: the full id of a commit of this file's history."""
    requested = requested.strip().lower()
    if _COMMIT.match(requested):
        for version in versions:
            if version.commit == requested:
                return version
    raise HTTPException(404, "Cette version n'existe pas dans l'historique de ce texte.")


def _shown(repository: Checkout, file: CityFile, versions: list[Version], chosen: Version,
           current: str | None) -> Shown:
    index = versions.index(chosen)
    previous = versions[index + 1] if index + 1 < len(versions) else None
    text = repository.text(file, chosen.commit)
    before = repository.text(file, previous.commit) if previous else None
    compare = compare_cards if file.kind == "card" else compare_documents
    return Shown(chosen, text, previous, compare(before, text), compare(text, current),
                 is_current=index == 0)


def _version_page(request: Request, person: Person, file: CityFile, repository: Checkout,
                  shown: Shown, current: str | None, error: str = "",
                  status_code: int = 200) -> Response:
    return render_editor_page(request, file.city, "service/editor/history_version.html", {
        "file": file, "shown": shown, "error": error,
        "title": _title(shown.text or current, file, [], repository),
        "fields": _fields_of(shown.text, file), "body": _body_of(shown.text, file),
        "may_restore": shown.text is not None and not shown.is_current
        and may_restore(person, file, current),
        "deleted_now": current is None, "base": repository.blob(file),
        "history_url": history_url(file),
        "restore_url": history_url(file) + "/restaurer"}, status_code)


def _title(text: str | None, file: CityFile, versions: list[Version],
           repository: Checkout) -> str:
    if file.kind == "card":
        return "la fiche de la ville"
    if text is None and len(versions) > 1:
        text = repository.text(file, versions[1].commit)  # deleted: its last words
    try:
        return f"« {read_draft(text or '').title or file.rel} »"
    except DraftError:
        return f"« {file.rel} »"


def _fields_of(text: str | None, file: CityFile) -> list[tuple[str, str]]:
    """The version's fields as (label, value) lines, for reading."""
    if text is None:
        return []
    compare = compare_cards if file.kind == "card" else compare_documents
    return [(change.label, change.after or "") for change in compare(None, text).fields]


def _body_of(text: str | None, file: CityFile) -> list[str]:
    if text is None or file.kind == "card":
        return []
    return [paragraph.text for paragraph in compare_documents(None, text).paragraphs]


def _why(problem: Exception) -> str:
    if isinstance(problem, EditConflict):
        return (f"Le texte a été modifié par {problem.by} pendant que vous regardiez son "
                "historique : rien n'a été restauré. Regardez sa dernière version, puis "
                "restaurez à nouveau si c'est toujours ce que vous voulez.")
    if isinstance(problem, Invalid):
        return ("Cette version ne peut pas être remise telle quelle : "
                + "; ".join(item.message for item in problem.problems))
    return f"Rien n'a été restauré : {problem}."


routes = [
    Route("/editeur/{city}/historique/{path:path}/restaurer", restore, methods=["POST"]),
    Route("/editeur/{city}/historique/{path:path}", history_page, methods=["GET"]),
]
