"""The editor's reading pages: `/editeur/` (the cities a person may write in),
`/editeur/<city>/` (the city's texts by state) and the form that opens a text or a new
one. Everything here reads; the actions are in editor_actions.py.

A reporter sees every text of their city; a text they may not change (online, taken off
line, a page) opens read-only, with the reason in plain French and no button.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from avf.content.loader import NETWORK_SLUG, discover_cities
from avf.content.values import PARIS
from avf.editor.addresses import address_of
from avf.editor.drafts import Draft, DraftError, read_draft
from avf.editor.form import form_values
from avf.editor.listing import GROUP_TITLES, STATE_LABELS, city_texts, group_order
from avf.editor.paths import CityFile
from avf.editor.validation import check_document
from avf.editor.workflow import allowed_actions, scheduled_for, status_of
from avf.service.editor_access import checkout, editable_cities, editor_of, named_file
from avf.service.editor_view import (
    DONE,
    FormPage,
    city_name,
    place_problems,
    render_editor,
    render_form,
)
from avf.service.people import Person
from avf.service.permissions import require_person
from avf.service.runtime import runtime
from avf.service.templating import THEME
from avf.store.schema import editor_schedules

NOT_A_TEXT = "Ce texte n'existe pas, ou plus."
STYLESHEET = THEME / "templates" / "service" / "editor" / "editor.css"


def cities_page(request: Request) -> Response:
    person = require_person(request)
    cities = editable_cities(person, discover_cities(runtime(request).settings
                                                           .content_dir))
    if not cities:
        raise HTTPException(403, "L'éditeur est réservé aux rédacteur·rices et aux "
                                 "responsables d'une ville. Si vous écrivez pour votre AVF, "
                                 "demandez à son ou sa responsable de vous ajouter.")
    if len(cities) == 1:
        return RedirectResponse(f"/editeur/{cities[0]}/", status_code=303)
    return render_editor(request, "", "service/editor/cities.html", {
        "cities": [(slug, city_name(request, slug)) for slug in cities]})


def city_page(request: Request) -> Response:
    city = request.path_params["city"]
    person = editor_of(request, city)
    state = runtime(request)
    with state.engine.connect() as connection:
        schedules = dict(connection.execute(select(
            editor_schedules.c.path, editor_schedules.c.publish_at).where(
            editor_schedules.c.city == city, editor_schedules.c.done_at.is_(None))).all())
    rows = city_texts(checkout(request), state.settings.content_dir, city, schedules)
    admin = _is_admin(person, city)
    groups = [(GROUP_TITLES[name], name, [row for row in rows if row.state == name])
              for name in group_order(admin)]
    return render_editor(request, city, "service/editor/city.html", {
        "city_title": city_name(request, city), "groups": groups, "is_admin": admin,
        "labels": STATE_LABELS, "paris": PARIS, "count": len(rows),
        "done": DONE.get(request.query_params.get("fait", ""), "")})


def new_text_page(request: Request) -> Response:
    city = request.path_params["city"]
    person = editor_of(request, city)
    kind = "page" if request.query_params.get("type") == "page" else "post"
    if kind == "page" and not _is_admin(person, city):
        raise HTTPException(403, "Les pages de la ville sont écrites par ses responsables. "
                                 "Vous pouvez écrire un article.")
    values = new_values(kind)
    page = FormPage(city=city, kind=kind, rel="", base="",
                    actions=actions_for_new(person, city, kind))
    return render_form(request, person, page, values)


def text_page(request: Request) -> Response:
    city = request.path_params["city"]
    person = editor_of(request, city)
    file = document_of(request, city, request.path_params["path"])
    texts = checkout(request)
    committed = texts.text(file)
    if committed is None:
        raise HTTPException(404, NOT_A_TEXT)
    status = status_of(committed)
    page = FormPage(city=city, kind=file.kind, rel=file.rel, base=texts.blob(file),
                    status=status, actions=allowed_actions(person, file, status),
                    done=DONE.get(request.query_params.get("fait", ""), ""))
    try:
        draft = read_draft(committed)
    except DraftError as error:
        page.readonly = ("l'en-tête de ce fichier est abîmé (" + str(error) + ") : demandez "
                         "au webmaster de le réparer ; rien n'est perdu.")
        page.actions = []
        draft = Draft({}, committed)
    describe_text(request, page, file, committed, person)
    return render_form(request, person, page, form_values(draft))


def describe_text(request: Request, page: FormPage, file: CityFile, committed: str,
                  person: Person) -> None:
    """What the form says about a committed text: read-only or not, its schedule, where it
    is online, and the checks' warnings (its errors too, for a file pushed by hand)."""
    state = runtime(request)
    if not any(action in page.actions for action in ("save", "submit", "publish")):
        page.readonly = page.readonly or _why_readonly(person, file, page.status)
        page.actions = []
    with state.engine.connect() as connection:
        page.scheduled_at = scheduled_for(connection, file.city, file.rel)
    if page.status == "published":
        page.public_url = address_of(state.settings.content_dir, file, committed,
                                     state.settings.pelican_settings)
    place_problems(page, check_document(state.settings.content_dir, file, committed))


def document_of(request: Request, city: str, rel: str) -> CityFile:
    """A post or page of the city named by the URL (404 for anything else)."""
    file = named_file(request, city, rel)
    if file.kind not in ("post", "page"):
        raise HTTPException(404, NOT_A_TEXT)
    return file


def new_values(kind: str) -> dict[str, str]:
    values = form_values(Draft({}, ""))
    if kind == "post":
        values["date"] = f"{datetime.now(UTC).astimezone(PARIS):%Y-%m-%d}"
    return values


def actions_for_new(person: Person, city: str, kind: str) -> list[str]:
    """The actions of a text not written yet (a draft, for the rules)."""
    probe = CityFile(city, f"{kind}s/nouveau.md", Path(), kind)  # type: ignore[arg-type]
    return [action for action in allowed_actions(person, probe, "draft")
            if action in ("save", "submit", "publish", "schedule")]


def editor_stylesheet(request: Request) -> Response:
    """The editor's own styles (a small file beside its templates)."""
    return Response(STYLESHEET.read_bytes(), media_type="text/css",
                    headers={"Cache-Control": "public, max-age=86400"})


def _is_admin(person: Person, city: str) -> bool:
    return person.is_webmaster if city == NETWORK_SLUG else person.can("admin", city)


def _why_readonly(person: Person, file: CityFile, status: str) -> str:
    if file.kind == "page":
        return ("les pages de la ville sont modifiées par ses responsables : vous pouvez la "
                "lire ici, et leur proposer vos changements de vive voix ou par email.")
    return (f"ce texte est « {STATE_LABELS.get(status, status)} » : seul·e un·e responsable "
            "de la ville peut le modifier. Vous pouvez le lire ici.")


routes = [
    Route("/editeur/", cities_page),
    Route("/editeur/editeur.css", editor_stylesheet),
    Route("/editeur/{city}/", city_page),
    Route("/editeur/{city}/nouveau", new_text_page, methods=["GET"]),
    Route("/editeur/{city}/texte/{path:path}", text_page, methods=["GET"]),
]
