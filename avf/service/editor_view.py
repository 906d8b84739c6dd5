"""The edit form as a page: what it shows for a text (its fields, its state, the buttons of
exactly the actions the workflow allows, the problems next to their fields) — shared by
the pages that open it (editor_pages) and the actions that answer with it again
(editor_actions: a refusal, a problem, a conflict keep everything the person typed)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from avf.content.loader import NETWORK_SLUG
from avf.content.values import PARIS
from avf.editor.checkout import Checkout, CheckoutError, EditConflict
from avf.editor.differences import compare_documents
from avf.editor.media import PhotoChoice, city_photos, photo_choice
from avf.editor.paths import CityFile
from avf.editor.validation import FieldProblem
from avf.editor.workflow import STATES
from avf.service.cities import CardUnreadable, render_city_page
from avf.service.people import Person
from avf.service.runtime import runtime

# The form field a problem of the file belongs to (validation's names → the form's).
FIELD_OF = {
    "title": "title", "date": "date", "summary": "summary", "tags": "tags",
    "category": "category", "author": "author", "image": "image", "image_alt": "image_alt",
    "visibility": "members_only", "order": "order", "body": "body",
    "event": "event_start_date", "event.start": "event_start_date",
    "event.end": "event_end_date", "event.place": "event_place",
    "event.registration": "event_registration", "event.capacity": "event_capacity",
}
# What the page says after an action (`?fait=…`): fixed texts, never echoed input.
DONE = {
    "save": "C'est enregistré.",
    "submit": "C'est fait : votre texte est proposé à la relecture. Les responsables de la "
              "ville sont prévenu·es par email.",
    "send_back": "C'est fait : le texte est renvoyé à la personne qui l'a écrit, avec votre "
                 "commentaire.",
    "schedule": "C'est fait : la publication est programmée.",
    "unpublish": "C'est fait : le texte n'est plus en ligne.",
    "publish": "C'est fait : le texte est publié.",
    "delete": "C'est fait : le texte est supprimé. Son historique est gardé.",
}


@dataclass
class FormPage:
    """Everything the form template needs besides the values."""

    city: str
    kind: str  # post | page
    rel: str  # "" for a new text
    base: str
    status: str = "draft"
    actions: list[str] = field(default_factory=list)
    readonly: str = ""  # why the person may only read it ("" when they may write)
    errors: dict[str, list[str]] = field(default_factory=dict)
    warnings: dict[str, list[str]] = field(default_factory=dict)
    general_errors: list[str] = field(default_factory=list)
    general_warnings: list[str] = field(default_factory=list)
    refused: str = ""
    done: str = ""
    scheduled_at: datetime | None = None
    public_url: str | None = None
    conflict: dict[str, object] | None = None
    push_problem: str = ""
    all_photos: bool = False  # « Voir toutes les photos » asked (not only the newest)


def place_problems(page: FormPage, problems: list[FieldProblem]) -> None:
    """Put each problem next to its field (or at the top of the form)."""
    for problem in problems:
        name = FIELD_OF.get(problem.field or "")
        if name is None:
            (page.general_errors if problem.is_error else page.general_warnings).append(
                problem.message)
        else:
            (page.errors if problem.is_error else page.warnings).setdefault(name, []).append(
                problem.message)


def conflict_context(conflict: EditConflict, yours: str) -> dict[str, object]:
    """Both versions and their difference (their version → yours), in words and line by
    line."""
    theirs = conflict.theirs or ""
    lines = []
    for line in difflib.ndiff(theirs.splitlines(), yours.splitlines()):
        sign, text = line[:1], line[2:]
        if sign in ("-", "+", " "):
            lines.append({"side": {"-": "theirs", "+": "yours", " ": "same"}[sign],
                          "text": text})
    return {"by": conflict.by, "when": conflict.when.astimezone(PARIS) if conflict.when else None,
            "theirs": conflict.theirs, "deleted": conflict.theirs is None,
            "rescue_branch": conflict.rescue_branch,
            # In words (fields by name, paragraphs), as the history shows versions; the
            # line-by-line one stays for whoever knows the file's format.
            "changes": compare_documents(conflict.theirs, yours),
            "diff": lines}


def render_form(request: Request, person: Person, page: FormPage, values: dict[str, str],
                status_code: int = 200) -> Response:
    is_admin = person.is_webmaster if page.city == NETWORK_SLUG else person.can("admin",
                                                                               page.city)
    return render_editor(request, page.city, "service/editor/text.html", {
        "form": page, "values": values, "is_admin": is_admin,
        "status_label": STATES.get(page.status, page.status),
        "scheduled_label": page.scheduled_at.astimezone(PARIS) if page.scheduled_at else None,
        "has_problems": bool(page.errors or page.general_errors),
        "picker": photo_picker(request, page, values.get("image", "")),
    }, status_code)


def photo_picker(request: Request, page: FormPage, current: str) -> PhotoChoice:
    """The city's photos for the form's main photo (the newest, or all when asked)."""
    settings = runtime(request).settings
    try:
        repository: Checkout | None = Checkout(settings.content_dir, settings.git_branch)
    except CheckoutError:
        repository = None  # not a git checkout: the files' own dates order them
    everything = page.all_photos or request.query_params.get("photos") == "toutes"
    return photo_choice(city_photos(repository, settings.content_dir / page.city), page.rel,
                        current, everything=everything)


def render_editor(request: Request, city: str, template: str, context: dict[str, object],
                  status_code: int = 200) -> Response:
    """An editor page, drawn as a page of the city's site when it is a city's."""
    state = runtime(request)
    values = {"editor_city": city, **context}
    if city and city != NETWORK_SLUG:
        try:
            card = state.cities.get(city)
        except CardUnreadable:
            card = None
        if card is not None:
            return render_city_page(request, card, template, values, status_code)
    return state.templates.render(request, template, values, status_code)


def city_name(request: Request, city: str) -> str:
    if city == NETWORK_SLUG:
        return "Le réseau (portail national)"
    return runtime(request).cities.name(city)


def text_url(file: CityFile) -> str:
    return f"/editeur/{file.city}/texte/{quote(file.rel)}"
